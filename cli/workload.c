/*
 * workload.c - the worker threads of `warp bench`.
 *
 * THE OPERATIONS
 *   Keys are indexes 0 .. N-1 drawn from the run's distribution and named
 *   in its layout (keygen.h).
 *     simple     warp_get() into a per-thread buffer
 *     batch      warp_get_batch() of BATCH_KEYS keys; an op is a key
 *     put        warp_put() over an existing key, with a counter written
 *                into the value's first bytes so no two puts are alike
 *     mixed      per op, a uniform choice: 70% a get, 20% a put, 10% a
 *                related-key read, warp_get_batch() of the (up to) 4 keys
 *                of the drawn key's id (related layout); each is one op
 *     rebalance  simple gets, each also counted in a per-thread table of
 *                WARP_SLOTS counters by its key's slot (spec->slot_of)
 *   Every get must find its key with a B-byte value: anything else ends
 *   the run with a failure.
 *
 * THE MEASURED WINDOW
 *   Worker threads allocate their buffers, then wait at a start gate (a
 *   mutex and condition variable, so a failed pthread_create can release
 *   the threads already waiting). The main thread opens the gate, sleeps S
 *   seconds and sets the shared stop flag. A worker reads the flag (relaxed)
 *   once every BENCH_BLOCK ops. The seconds reported run from the earliest
 *   worker start to the latest worker stop, so the tail past S is counted.
 *
 * LATENCY
 *   clock_gettime() costs ~20 ns, which would distort a ~350 ns get if every
 *   op were timed. So one op in BENCH_SAMPLE is timed (the first of each
 *   group of BENCH_SAMPLE), while every op is counted. A timed interval
 *   covers the engine call only, not choosing or formatting the key. For
 *   batch the timed unit is one warp_get_batch() call; mixed's samples mix
 *   its three kinds in their proportions. Samples go to a per-thread
 *   log-linear histogram (hist.h), merged when the threads are done.
 *
 * THE HOT LOOP
 *   Per op: a draw (uniform: a wyrand step and Lemire's multiply-shift; zipf:
 *   rejection-inversion, about 20 ns more), a fixed-width key formatter into
 *   a per-thread buffer and the engine call; about 10 ns of harness for
 *   uniform keys. No per-key array is kept (it would add a cache miss),
 *   except rebalance's key -> slot table, which is the point of that run.
 */
#include "workload.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "hist.h"

#define CACHE_LINE 64

const char *const workload_names[WL_COUNT] = {
    "simple", "batch", "put", "mixed", "recover", "checkpoint", "rebalance"};

uint8_t *make_pattern(size_t value_size)
{
    uint8_t *p = malloc(value_size + PATTERN_SLACK);
    if (p == NULL)
        return NULL;
    uint64_t s = 0x5741525042454e43ull; /* "WARPBENC" */
    for (size_t i = 0; i < value_size + PATTERN_SLACK; i++)
        p[i] = (uint8_t)('a' + wyrand(&s) % 26);
    return p;
}

int workload_preload(warp_db *db, uint32_t count, enum key_layout layout,
                     size_t value_size, const uint8_t *pattern, uint32_t shift)
{
    warp_put_item *items = calloc(PRELOAD_CHUNK, sizeof *items);
    char(*keys)[KEY_BUF] = malloc(PRELOAD_CHUNK * sizeof *keys);
    int rc = WARP_ENOMEM;
    if (items == NULL || keys == NULL) {
        fprintf(stderr, "warp bench: preload: out of memory\n");
        goto out;
    }

    for (uint64_t base = 0; base < count; base += PRELOAD_CHUNK) {
        uint64_t left = count - base;
        size_t n = left < PRELOAD_CHUNK ? (size_t)left : PRELOAD_CHUNK;
        for (size_t i = 0; i < n; i++) {
            uint32_t k = (uint32_t)(base + i);
            items[i] = (warp_put_item){.key = keys[i],
                                       .klen = key_write(keys[i], layout, k),
                                       .val = value_of(pattern, k + shift),
                                       .vlen = value_size};
        }
        size_t failed = n;
        rc = warp_put_batch(db, items, n, &failed);
        if (rc != WARP_OK) {
            char key[KEY_BUF + 1];
            uint32_t k = (uint32_t)(base + (failed < n ? failed : 0));
            key[key_write(key, layout, k)] = '\0';
            fprintf(stderr,
                    "warp bench: preload: warp_put_batch failed at %s: %s\n",
                    key, warp_strerror(rc));
            goto out;
        }
    }
    rc = WARP_OK;
out:
    free(keys);
    free(items);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Shared and per-thread state                                               */
/* ------------------------------------------------------------------------ */

/* State shared by the workers of one run; read-only while they run except
 * for the two flags, which sit on a cache line of their own. */
struct run {
    const struct run_spec *spec;
    struct gate gate;
    _Alignas(CACHE_LINE) atomic_bool stop;
    atomic_bool failed;
};

/* Why a worker failed: the call, its result, and for a call on a key the
 * key's index and the value length the call returned. */
struct failure {
    const char *call;
    int rc;
    bool keyed;
    uint32_t key;
    size_t vlen;
};

/* One worker's identity and results, on cache lines of its own. The
 * worker writes its results once, when it stops. */
struct worker {
    _Alignas(CACHE_LINE) struct run *run;
    unsigned index;
    pthread_t tid;
    uint64_t ops;
    uint64_t start_ns, end_ns;
    hist *hist;         /* owned by the main thread once joined */
    uint64_t *slot_ops; /* rebalance: WARP_SLOTS counters, likewise */
    bool failed;
    struct failure why;
};

/* The hot state of one worker, on its own stack. */
struct tctx {
    warp_db *db;
    uint64_t rng;
    const keydist *dist;
    enum key_layout layout;
    uint32_t keys;
    size_t value_size;
    hist *hist;
    uint8_t *buf; /* BATCH_KEYS get buffers, then the put value */
    uint8_t *val; /* the put value */
    const uint16_t *slot_of;
    uint64_t *slot_ops;
    uint64_t calls;
    uint64_t seq; /* puts so far, written into each put value */
    struct failure why;
    char key[KEY_BUF];
    uint32_t batch_index[BATCH_KEYS];
    char batch_keys[BATCH_KEYS][KEY_BUF];
    warp_get_item items[BATCH_KEYS];
};

/* ------------------------------------------------------------------------ */
/* Operations                                                                */
/* ------------------------------------------------------------------------ */

static __attribute__((noinline, cold)) bool
op_failed(struct tctx *c, const char *call, int rc, uint32_t key, size_t vlen)
{
    c->why = (struct failure){call, rc, true, key, vlen};
    return false;
}

/* A get of key index `k`; `timed` is a constant wherever this is inlined. */
static inline bool get_key(struct tctx *c, uint32_t k, bool timed)
{
    size_t klen = key_write(c->key, c->layout, k);
    uint64_t t0 = timed ? now_ns() : 0;
    size_t vlen = 0;
    int rc = warp_get(c->db, c->key, klen, c->buf, c->value_size, &vlen, NULL);
    if (timed)
        hist_record(c->hist, now_ns() - t0);
    if (__builtin_expect(rc != WARP_OK || vlen != c->value_size, 0))
        return op_failed(c, "warp_get", rc, k, vlen);
    return true;
}

static inline bool op_get(struct tctx *c, bool timed)
{
    return get_key(c, keydist_next(c->dist, &c->rng), timed);
}

/* A get that also counts its key's slot (rebalance). */
static inline bool op_get_counted(struct tctx *c, bool timed)
{
    uint32_t k = keydist_next(c->dist, &c->rng);
    c->slot_ops[c->slot_of[k]]++;
    return get_key(c, k, timed);
}

/* warp_get_batch() of the `n` keys already in c->batch_keys. */
static inline bool get_batch(struct tctx *c, unsigned n, bool timed)
{
    uint64_t t0 = timed ? now_ns() : 0;
    int rc = warp_get_batch(c->db, c->items, n);
    if (timed)
        hist_record(c->hist, now_ns() - t0);
    if (__builtin_expect(rc != WARP_OK, 0))
        return op_failed(c, "warp_get_batch", rc, c->batch_index[0], 0);
    for (unsigned i = 0; i < n; i++) {
        const warp_get_item *it = &c->items[i];
        if (__builtin_expect(it->rc != WARP_OK || it->vlen != c->value_size, 0))
            return op_failed(c, "warp_get_batch", it->rc, c->batch_index[i],
                             it->vlen);
    }
    return true;
}

/* Put key index `k` into slot `i` of the batch. */
static inline void batch_key(struct tctx *c, unsigned i, uint32_t k)
{
    c->batch_index[i] = k;
    c->items[i].klen = key_write(c->batch_keys[i], c->layout, k);
}

/* One warp_get_batch() of BATCH_KEYS keys. */
static inline bool op_batch(struct tctx *c, bool timed)
{
    for (unsigned i = 0; i < BATCH_KEYS; i++)
        batch_key(c, i, keydist_next(c->dist, &c->rng));
    return get_batch(c, BATCH_KEYS, timed);
}

/* One related-key read: the keys of the drawn key's id, in one batch. */
static inline bool op_related(struct tctx *c, bool timed)
{
    uint32_t k = keydist_next(c->dist, &c->rng);
    uint32_t first = k - k % RELATED_KEYS;
    uint32_t n = c->keys - first;
    if (n > RELATED_KEYS)
        n = RELATED_KEYS;
    for (unsigned i = 0; i < n; i++)
        batch_key(c, i, first + i);
    return get_batch(c, n, timed);
}

/* One overwrite of an existing key, its value's first bytes made unique. */
static inline bool op_put(struct tctx *c, bool timed)
{
    uint32_t k = keydist_next(c->dist, &c->rng);
    size_t klen = key_write(c->key, c->layout, k);
    uint64_t stamp = ++c->seq ^ ((uint64_t)k << 32);
    memcpy(c->val, &stamp, c->value_size < 8 ? c->value_size : 8);
    uint64_t t0 = timed ? now_ns() : 0;
    int rc = warp_put(c->db, c->key, klen, c->val, c->value_size, NULL, NULL);
    if (timed)
        hist_record(c->hist, now_ns() - t0);
    if (__builtin_expect(rc != WARP_OK, 0))
        return op_failed(c, "warp_put", rc, k, 0);
    return true;
}

/* 70% get, 20% put, 10% related-key read. */
static inline bool op_mixed(struct tctx *c, bool timed)
{
    uint32_t pick = rand_below(&c->rng, 10);
    if (pick < MIXED_GET_TENTHS)
        return op_get(c, timed);
    if (pick < MIXED_GET_TENTHS + MIXED_PUT_TENTHS)
        return op_put(c, timed);
    return op_related(c, timed);
}

/* ------------------------------------------------------------------------ */
/* Loops                                                                     */
/* ------------------------------------------------------------------------ */

typedef bool (*op_fn)(struct tctx *c, bool timed);

/* Run `op` in blocks of `block` ops until the stop flag is seen, timing
 * the first op of every `sample`. Always inlined, so that `op`, `block`
 * and `sample` are constants and `op` gets inlined too. Returns false when
 * an op failed. */
static inline __attribute__((always_inline)) bool
run_loop(struct tctx *c, const atomic_bool *stop, op_fn op, unsigned block,
         unsigned sample)
{
    do {
        for (unsigned g = 0; g < block / sample; g++) {
            if (!op(c, true))
                return false;
            for (unsigned i = 1; i < sample; i++)
                if (!op(c, false))
                    return false;
        }
        c->calls += block;
    } while (!atomic_load_explicit(stop, memory_order_relaxed));
    return true;
}

static bool loop_simple(struct tctx *c, const atomic_bool *stop)
{
    return run_loop(c, stop, op_get, BENCH_BLOCK, BENCH_SAMPLE);
}

static bool loop_counted(struct tctx *c, const atomic_bool *stop)
{
    return run_loop(c, stop, op_get_counted, BENCH_BLOCK, BENCH_SAMPLE);
}

static bool loop_batch(struct tctx *c, const atomic_bool *stop)
{
    return run_loop(c, stop, op_batch, BENCH_BLOCK, BENCH_SAMPLE);
}

static bool loop_put(struct tctx *c, const atomic_bool *stop)
{
    return run_loop(c, stop, op_put, BENCH_BLOCK, BENCH_SAMPLE);
}

static bool loop_mixed(struct tctx *c, const atomic_bool *stop)
{
    return run_loop(c, stop, op_mixed, BENCH_BLOCK, BENCH_SAMPLE);
}

/* Puts that each wait for a sync: the flag is read often, every op timed
 * (a clock read is nothing beside a sync). */
static bool loop_put_synced(struct tctx *c, const atomic_bool *stop)
{
    return run_loop(c, stop, op_put, SYNC_BLOCK, 1);
}

/* The loop of the run's workload. */
static bool run_workload(struct tctx *c, const struct run *r)
{
    switch (r->spec->workload) {
    case WL_BATCH:
        return loop_batch(c, &r->stop);
    case WL_PUT:
        return r->spec->sync_puts ? loop_put_synced(c, &r->stop)
                                  : loop_put(c, &r->stop);
    case WL_MIXED:
        return loop_mixed(c, &r->stop);
    case WL_REBALANCE:
        return loop_counted(c, &r->stop);
    default: /* simple, and the gets beside checkpoints */
        return loop_simple(c, &r->stop);
    }
}

/* ------------------------------------------------------------------------ */
/* Workers                                                                   */
/* ------------------------------------------------------------------------ */

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* Set up a worker's hot state and buffers (cache-line aligned, so no two
 * threads write the same line). Returns false when out of memory. */
static bool tctx_init(struct tctx *c, struct worker *w)
{
    const struct run_spec *s = w->run->spec;
    memset(c, 0, sizeof *c);
    c->db = s->db;
    c->rng = 0x9e3779b97f4a7c15ull * (w->index + 1) + s->workload;
    c->dist = s->dist;
    c->layout = s->layout;
    c->keys = s->keys;
    c->value_size = s->value_size;
    c->hist = w->hist;
    c->slot_of = s->slot_of;
    c->slot_ops = w->slot_ops;

    size_t stride = round_up(s->value_size ? s->value_size : 1, CACHE_LINE);
    c->buf = aligned_alloc(CACHE_LINE, stride * (BATCH_KEYS + 1));
    if (c->buf == NULL || c->hist == NULL ||
        (s->workload == WL_REBALANCE && c->slot_ops == NULL)) {
        c->why =
            (struct failure){.call = "allocating buffers", .rc = WARP_ENOMEM};
        return false;
    }
    /* fault the pages in before the run */
    memset(c->buf, 0, stride * (BATCH_KEYS + 1));
    c->val = c->buf + stride * BATCH_KEYS;
    memcpy(c->val, s->pattern, s->value_size);
    for (unsigned i = 0; i < BATCH_KEYS; i++)
        c->items[i] = (warp_get_item){.key = c->batch_keys[i],
                                      .buf = c->buf + i * stride,
                                      .cap = s->value_size};
    return true;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    struct tctx c;
    bool ok = tctx_init(&c, w);
    if (!ok)
        atomic_store(&r->failed, true);
    if (gate_wait(&r->gate) && ok) {
        w->start_ns = now_ns();
        ok = run_workload(&c, r);
        w->end_ns = now_ns();
    }
    if (!ok) {
        w->failed = true;
        w->why = c.why;
        atomic_store(&r->failed, true);
        atomic_store(&r->stop, true);
    }
    w->ops = c.calls * (r->spec->workload == WL_BATCH ? BATCH_KEYS : 1);
    free(c.buf);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* A run                                                                     */
/* ------------------------------------------------------------------------ */

/* Sleep until CLOCK_MONOTONIC reaches `deadline` ns, waking every 20 ms to
 * end early if a worker has failed. */
static void sleep_until(uint64_t deadline, const atomic_bool *failed)
{
    for (;;) {
        uint64_t now = now_ns();
        if (now >= deadline || atomic_load(failed))
            return;
        uint64_t step = deadline - now;
        if (step > 20000000u)
            step = 20000000u;
        struct timespec ts = {(time_t)(step / 1000000000u),
                              (long)(step % 1000000000u)};
        nanosleep(&ts, NULL);
    }
}

/* The checkpoint workload's main thread: warp_checkpoint() back to back
 * until `deadline` (one running then finishes) or a worker fails. Returns
 * WARP_OK or the first error; *count and *ns receive the checkpoints
 * finished and the time they took. */
static int checkpoint_until(warp_db *db, uint64_t deadline,
                            const atomic_bool *failed, uint64_t *count,
                            uint64_t *ns)
{
    *count = 0;
    *ns = 0;
    while (now_ns() < deadline && !atomic_load(failed)) {
        uint64_t t0 = now_ns();
        int rc = warp_checkpoint(db);
        if (rc != WARP_OK)
            return rc;
        *ns += now_ns() - t0;
        (*count)++;
    }
    return WARP_OK;
}

static void report_failure(enum workload wl, enum key_layout layout,
                           const struct failure *f)
{
    char key[KEY_BUF + 1];
    fprintf(stderr, "warp bench: %s: ", workload_names[wl]);
    if (!f->keyed) {
        fprintf(stderr, "%s: %s\n", f->call, warp_strerror(f->rc));
        return;
    }
    key[key_write(key, layout, f->key)] = '\0';
    if (f->rc != WARP_OK)
        fprintf(stderr, "%s(%s) returned %d (%s)\n", f->call, key, f->rc,
                warp_strerror(f->rc));
    else
        fprintf(stderr,
                "%s(%s) returned a %zu-byte value, expected the preloaded "
                "size\n",
                f->call, key, f->vlen);
}

/* Fold the workers' counters and histograms into *out. */
static int summarize(struct worker *w, unsigned n, struct run_stats *out)
{
    hist *all = hist_new();
    if (all == NULL)
        return WARP_ENOMEM;
    uint64_t start = UINT64_MAX, end = 0;
    out->ops = 0;
    for (unsigned i = 0; i < n; i++) {
        out->ops += w[i].ops;
        start = w[i].start_ns < start ? w[i].start_ns : start;
        end = w[i].end_ns > end ? w[i].end_ns : end;
        hist_merge(all, w[i].hist);
        for (uint32_t s = 0; w[i].slot_ops != NULL && s < WARP_SLOTS; s++)
            out->slot_ops[s] += w[i].slot_ops[s];
    }
    out->seconds = (double)(end - start) / 1e9;
    out->ops_per_sec = (double)out->ops / out->seconds;
    out->p50_us = hist_percentile(all, 50.0) / 1000.0;
    out->p99_us = hist_percentile(all, 99.0) / 1000.0;
    out->p999_us = hist_percentile(all, 99.9) / 1000.0;
    hist_free(all);
    return WARP_OK;
}

/* Start the workers, let them run for the configured seconds (running
 * checkpoints meanwhile for that workload), join them. Returns 0 with
 * *out filled, or 1 after reporting why the run failed. */
static int run_workers(struct run *r, struct worker *w, struct run_stats *out)
{
    const struct run_spec *s = r->spec;
    uint64_t ckpts = 0, ckpt_ns = 0;
    int ckpt_rc = WARP_OK;
    unsigned created = 0, n = s->threads;
    for (; created < n; created++) {
        int err =
            pthread_create(&w[created].tid, NULL, worker_main, &w[created]);
        if (err != 0) {
            fprintf(stderr, "warp bench: cannot start thread %u: %s\n",
                    created + 1, strerror(err));
            break;
        }
    }
    gate_release(&r->gate, created, created < n);
    if (created == n) {
        uint64_t deadline = now_ns() + (uint64_t)(s->seconds * 1e9);
        if (s->workload == WL_CHECKPOINT)
            ckpt_rc =
                checkpoint_until(s->db, deadline, &r->failed, &ckpts, &ckpt_ns);
        else
            sleep_until(deadline, &r->failed);
    }
    atomic_store_explicit(&r->stop, true, memory_order_relaxed);
    for (unsigned i = 0; i < created; i++)
        pthread_join(w[i].tid, NULL);

    if (created < n)
        return 1;
    for (unsigned i = 0; i < n; i++) {
        if (w[i].failed) {
            report_failure(s->workload, s->layout, &w[i].why);
            return 1;
        }
    }
    if (ckpt_rc != WARP_OK) {
        fprintf(stderr, "warp bench: checkpoint: warp_checkpoint: %s\n",
                warp_strerror(ckpt_rc));
        return 1;
    }
    if (summarize(w, n, out) != WARP_OK) {
        fprintf(stderr, "warp bench: out of memory\n");
        return 1;
    }
    out->checkpoints = ckpts;
    out->checkpoint_ms = ckpts ? (double)ckpt_ns / 1e6 / (double)ckpts : 0;
    return 0;
}

int workload_run(const struct run_spec *spec, struct run_stats *out)
{
    struct run r = {.spec = spec};
    gate_init(&r.gate);
    atomic_init(&r.stop, false);
    atomic_init(&r.failed, false);

    int status = 1;
    unsigned n = spec->threads;
    bool counted = spec->workload == WL_REBALANCE;
    struct worker *w = aligned_alloc(CACHE_LINE, n * sizeof *w);
    if (w == NULL) {
        fprintf(stderr, "warp bench: out of memory\n");
        goto out;
    }
    memset(w, 0, n * sizeof *w);
    for (unsigned i = 0; i < n; i++) {
        w[i].run = &r;
        w[i].index = i;
        w[i].hist = hist_new(); /* NULL is reported by the worker */
        if (counted)            /* likewise */
            w[i].slot_ops = calloc(WARP_SLOTS, sizeof *w[i].slot_ops);
    }
    status = run_workers(&r, w, out);
    for (unsigned i = 0; i < n; i++) {
        hist_free(w[i].hist);
        free(w[i].slot_ops);
    }
out:
    free(w);
    gate_destroy(&r.gate);
    return status;
}
