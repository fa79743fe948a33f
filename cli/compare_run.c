/*
 * compare_run.c - the workers of one measured window of `warp bench
 * --engine` (compare.h), the same code for every engine.
 *
 * THE WORKLOADS (docs/BENCHMARKS.md defines them; each call below is one
 * engine call and one op)
 *   simple   get of a uniformly drawn key of N "key:%010u" keys
 *   mixed    the physics issue's mix on N keys in the related layout
 *            (user:, profile:, settings:, sessions: of N/4 ids): 70% get,
 *            20% put over a drawn key, 10% related read (get_many of the
 *            drawn key's 4 keys)
 *   complex  upstream's large_dataset_feature_validation (large.h): each
 *            workload call runs five sub-tests of 50 iterations, ids u, p,
 *            o, m drawn uniformly from 1 .. Q for each iteration:
 *              caching       get user:u, profile:u, settings:u, posts:u,
 *                            and one uniformly drawn entry of the 12Q
 *                            (found by index: upstream walked a list)
 *              routing       get product:p, category:(p mod 100),
 *                            inventory:p, product:p2
 *              entanglement  quantum_get user:u (with its rule partners
 *                            profile:u, settings:u, sessions:u), get
 *                            profile:u, settings:u
 *              entropy       get order:o, customer:(o mod 10000),
 *                            order_items:o, metric:m
 *              WAL           put user:u (4 fields), put profile:u (3)
 *            so 900 calls: 750 gets, 50 quantum gets, 100 puts.
 *
 * THE WINDOW
 *   Workers open their engine handle, wait at a start gate, and run until
 *   the stop flag, which they read after every block of 256 ops (simple,
 *   mixed) or every iteration of a sub-test (complex, 2-5 calls): the
 *   window ends on time, and every call made is counted, none twice.
 *   Seconds run from the earliest worker start to the latest stop.
 *   One call in 16 is timed (clock_gettime) into a per-thread histogram.
 *   Each worker also reads its own CPU time (CLOCK_THREAD_CPUTIME_ID) at
 *   its start and stop: on a shared machine, cores < threads says that the
 *   workers were not running all the time.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "gate.h"
#include "hist.h"
#include "jsongen.h"
#include "keygen.h"
#include "progress.h"
#include "workload.h"

#define CACHE_LINE 64
#define MANY       RELATED_KEYS
#define GET_CAP    JSON_MAX

struct window {
    const struct cmp_spec *spec;
    struct gate gate;
    _Alignas(CACHE_LINE) atomic_bool stop;
    atomic_bool failed;
};

/* A worker's hot state, on its own stack. */
struct ctx {
    ethread *th;
    int (*get)(ethread *, const void *, size_t, void *, size_t, size_t *);
    int (*put)(ethread *, const void *, size_t, const void *, size_t);
    const struct cmp_spec *spec;
    const large_dataset *ds;
    uint64_t rng;
    hist *hist;
    unsigned tick; /* calls, for the 1-in-16 timing */
    uint64_t gets, puts, reads, qgets, seq;
    const char *fail_call; /* set when a call failed */
    int fail_rc;
    char fail_key[LARGE_KEY_BUF + 1];
    char now[32];
    uint8_t *buf; /* GET_CAP bytes per related key, then the put value */
    uint8_t *val;
    char key[LARGE_KEY_BUF];
    char many_keys[MANY][LARGE_KEY_BUF];
    warp_get_item items[MANY];
};

struct worker {
    _Alignas(CACHE_LINE) struct window *w;
    unsigned index;
    pthread_t tid;
    uint64_t start_ns, end_ns;
    uint64_t cpu_ns; /* the worker's own CPU time in the window */
    hist *hist;
    struct ctx result; /* counters and failure, copied at the end */
    bool failed;
};

/* ------------------------------------------------------------------------ */
/* Calls                                                                     */
/* ------------------------------------------------------------------------ */

static __attribute__((noinline, cold)) bool
failed(struct ctx *c, const char *call, int rc, const char *key, size_t klen)
{
    c->fail_call = call;
    c->fail_rc = rc;
    if (klen > LARGE_KEY_BUF)
        klen = LARGE_KEY_BUF;
    memcpy(c->fail_key, key, klen);
    c->fail_key[klen] = '\0';
    return false;
}

/* Whether this call is the one in 16 that is timed. */
static inline bool timed(struct ctx *c)
{
    return (c->tick++ & (BENCH_SAMPLE - 1)) == 0;
}

static inline void record(struct ctx *c, bool t, uint64_t t0)
{
    if (t)
        hist_record(c->hist, now_ns() - t0);
}

/* A get of c->key[0 .. klen-1] that must find a value (of `want` bytes
 * unless want is 0). */
static inline bool call_get(struct ctx *c, size_t klen, size_t want)
{
    bool t = timed(c);
    uint64_t t0 = t ? now_ns() : 0;
    size_t vlen = 0;
    int rc = c->get(c->th, c->key, klen, c->buf, GET_CAP, &vlen);
    record(c, t, t0);
    c->gets++;
    if (__builtin_expect(rc != WARP_OK || (want && vlen != want), 0))
        return failed(c, "get", rc, c->key, klen);
    return true;
}

static inline bool call_put(struct ctx *c, size_t klen, const void *v,
                            size_t vlen)
{
    bool t = timed(c);
    uint64_t t0 = t ? now_ns() : 0;
    int rc = c->put(c->th, c->key, klen, v, vlen);
    record(c, t, t0);
    c->puts++;
    if (__builtin_expect(rc != WARP_OK, 0))
        return failed(c, "put", rc, c->key, klen);
    return true;
}

/* ------------------------------------------------------------------------ */
/* simple and mixed                                                          */
/* ------------------------------------------------------------------------ */

static inline bool op_simple(struct ctx *c)
{
    uint32_t k = rand_below(&c->rng, c->spec->keys);
    return call_get(c, key_write(c->key, LAYOUT_FLAT, k), c->spec->value_size);
}

static inline bool op_related_get(struct ctx *c, uint32_t k)
{
    return call_get(c, key_write(c->key, LAYOUT_RELATED, k),
                    c->spec->value_size);
}

static inline bool op_related_put(struct ctx *c, uint32_t k)
{
    size_t vs = c->spec->value_size;
    uint64_t stamp = ++c->seq ^ ((uint64_t)k << 32);
    memcpy(c->val, &stamp, vs < 8 ? vs : 8);
    return call_put(c, key_write(c->key, LAYOUT_RELATED, k), c->val, vs);
}

/* get_many of the (up to) 4 keys of k's id. */
static inline bool op_related_read(struct ctx *c, uint32_t k)
{
    uint32_t first = k - k % RELATED_KEYS, n = c->spec->keys - first;
    if (n > RELATED_KEYS)
        n = RELATED_KEYS;
    for (unsigned i = 0; i < n; i++)
        c->items[i].klen =
            key_write(c->many_keys[i], LAYOUT_RELATED, first + i);
    bool t = timed(c);
    uint64_t t0 = t ? now_ns() : 0;
    int rc = c->spec->ops->get_many(c->th, c->items, n);
    record(c, t, t0);
    c->reads++;
    for (unsigned i = 0; rc == WARP_OK && i < n; i++)
        if (c->items[i].rc != WARP_OK ||
            c->items[i].vlen != c->spec->value_size)
            rc = c->items[i].rc != WARP_OK ? c->items[i].rc : WARP_ERANGE;
    if (__builtin_expect(rc != WARP_OK, 0))
        return failed(c, "get_many", rc, c->many_keys[0], c->items[0].klen);
    return true;
}

static inline bool op_mixed(struct ctx *c)
{
    uint32_t pick = rand_below(&c->rng, 10);
    uint32_t k = rand_below(&c->rng, c->spec->keys);
    if (pick < MIXED_GET_TENTHS)
        return op_related_get(c, k);
    if (pick < MIXED_GET_TENTHS + MIXED_PUT_TENTHS)
        return op_related_put(c, k);
    return op_related_read(c, k);
}

static bool loop_simple(struct ctx *c, const atomic_bool *stop)
{
    do {
        for (unsigned i = 0; i < BENCH_BLOCK; i++)
            if (!op_simple(c))
                return false;
    } while (!atomic_load_explicit(stop, memory_order_relaxed));
    return true;
}

static bool loop_mixed(struct ctx *c, const atomic_bool *stop)
{
    do {
        for (unsigned i = 0; i < BENCH_BLOCK; i++)
            if (!op_mixed(c))
                return false;
    } while (!atomic_load_explicit(stop, memory_order_relaxed));
    return true;
}

/* ------------------------------------------------------------------------ */
/* complex: upstream's large-dataset workload                                */
/* ------------------------------------------------------------------------ */

static inline uint32_t draw_id(struct ctx *c)
{
    return 1 + rand_below(&c->rng, c->ds->q);
}

/* A get of family f's key for id i (keyed as large_key_id says). */
static inline bool get_family(struct ctx *c, unsigned f, uint32_t i)
{
    return call_get(c, large_key(c->key, f, large_key_id(f, i)), 0);
}

static bool sub_caching(struct ctx *c)
{
    uint32_t u = draw_id(c);
    uint64_t j = (uint64_t)(wyrand(&c->rng) % c->ds->entries);
    return get_family(c, LF_USER, u) && get_family(c, LF_PROFILE, u) &&
           get_family(c, LF_SETTINGS, u) && get_family(c, LF_POSTS, u) &&
           call_get(c, large_entry_key(c->key, j), 0);
}

static bool sub_routing(struct ctx *c)
{
    uint32_t p = draw_id(c), p2 = draw_id(c);
    return get_family(c, LF_PRODUCT, p) && get_family(c, LF_CATEGORY, p) &&
           get_family(c, LF_INVENTORY, p) && get_family(c, LF_PRODUCT, p2);
}

/* quantum_get user:u: the key and the partners the default rule
 * user:* -> profile:*, settings:*, sessions:* names (sessions: is not in
 * the data set, so 3 of the 4 are found). */
static bool quantum_user(struct ctx *c, uint32_t u)
{
    static const char *const partners[] = {
        "profile:", "settings:", "sessions:"};
    warp_key keys[1 + 3];
    size_t n = large_key(c->many_keys[0], LF_USER, u);
    keys[0] = (warp_key){c->many_keys[0], n};
    for (unsigned i = 0; i < 3; i++) {
        size_t pl = strlen(partners[i]);
        memcpy(c->many_keys[i + 1], partners[i], pl);
        memcpy(c->many_keys[i + 1] + pl, c->many_keys[0] + 5, n - 5);
        keys[i + 1] = (warp_key){c->many_keys[i + 1], pl + n - 5};
    }
    unsigned found = 0;
    bool t = timed(c);
    uint64_t t0 = t ? now_ns() : 0;
    int rc = c->spec->ops->quantum_get(c->th, keys, 4, c->buf, GET_CAP, &found);
    record(c, t, t0);
    c->qgets++;
    if (__builtin_expect(rc != WARP_OK || found < 3, 0))
        return failed(c, "quantum_get", rc != WARP_OK ? rc : WARP_NOTFOUND,
                      c->many_keys[0], n);
    return true;
}

static bool sub_entanglement(struct ctx *c)
{
    uint32_t u = draw_id(c);
    return quantum_user(c, u) && get_family(c, LF_PROFILE, u) &&
           get_family(c, LF_SETTINGS, u);
}

static bool sub_entropy(struct ctx *c)
{
    uint32_t o = draw_id(c), m = draw_id(c);
    return get_family(c, LF_ORDER, o) && get_family(c, LF_CUSTOMER, o) &&
           get_family(c, LF_ORDER_ITEMS, o) && get_family(c, LF_METRIC, m);
}

static bool sub_wal(struct ctx *c)
{
    uint32_t u = draw_id(c);
    char v[160];
    size_t vl = large_user_update(v, u, c->now, (unsigned)(c->seq++ % 3));
    if (!call_put(c, large_key(c->key, LF_USER, u), v, vl))
        return false;
    vl = large_profile_update(v, u, c->now);
    return call_put(c, large_key(c->key, LF_PROFILE, u), v, vl);
}

typedef bool (*subtest_fn)(struct ctx *c);

static const subtest_fn subtests[] = {sub_caching, sub_routing,
                                      sub_entanglement, sub_entropy, sub_wal};

static bool loop_complex(struct ctx *c, const atomic_bool *stop)
{
    for (;;) {
        for (size_t s = 0; s < sizeof subtests / sizeof subtests[0]; s++) {
            if (subtests[s] == sub_wal)
                large_now(c->now); /* DateTime.now, once per sub-test */
            for (unsigned it = 0; it < CMP_SUBTEST_ITERS; it++) {
                if (!subtests[s](c))
                    return false;
                if (atomic_load_explicit(stop, memory_order_relaxed))
                    return true;
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Workers and the window                                                    */
/* ------------------------------------------------------------------------ */

static bool ctx_init(struct ctx *c, struct worker *wk)
{
    const struct cmp_spec *s = wk->w->spec;
    memset(c, 0, sizeof *c);
    c->spec = s;
    c->ds = s->large;
    c->get = s->ops->get;
    c->put = s->ops->put;
    c->hist = wk->hist;
    c->rng = s->seed * 0x9e3779b97f4a7c15ull + wk->index + 1;
    c->buf = aligned_alloc(CACHE_LINE, GET_CAP * (MANY + 1));
    if (c->buf == NULL || c->hist == NULL) {
        c->fail_call = "allocating buffers";
        c->fail_rc = WARP_ENOMEM;
        return false;
    }
    memset(c->buf, 0, GET_CAP * (MANY + 1));
    c->val = c->buf + GET_CAP * MANY;
    if (s->pattern != NULL)
        memcpy(c->val, s->pattern, s->value_size);
    for (unsigned i = 0; i < MANY; i++)
        c->items[i] = (warp_get_item){.key = c->many_keys[i],
                                      .buf = c->buf + i * GET_CAP,
                                      .cap = GET_CAP};
    large_now(c->now);
    c->th = s->ops->thread_open(s->eng);
    if (c->th == NULL) {
        c->fail_call = "opening a worker's handle";
        c->fail_rc = WARP_EIO;
        return false;
    }
    return true;
}

static bool run_loop(struct ctx *c, const struct window *w)
{
    switch (w->spec->workload) {
    case CW_SIMPLE:
        return loop_simple(c, &w->stop);
    case CW_MIXED:
        return loop_mixed(c, &w->stop);
    default:
        return loop_complex(c, &w->stop);
    }
}

/* The calling thread's CPU time so far, in ns. */
static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *worker_main(void *arg)
{
    struct worker *wk = arg;
    struct window *w = wk->w;
    struct ctx c;
    bool ok = ctx_init(&c, wk);
    if (!ok)
        atomic_store(&w->failed, true);
    if (gate_wait(&w->gate) && ok) {
        uint64_t cpu0 = thread_cpu_ns();
        wk->start_ns = now_ns();
        ok = run_loop(&c, w);
        wk->end_ns = now_ns();
        wk->cpu_ns = thread_cpu_ns() - cpu0;
    }
    if (!ok) {
        wk->failed = true;
        atomic_store(&w->failed, true);
        atomic_store(&w->stop, true);
    }
    if (c.th != NULL)
        w->spec->ops->thread_close(c.th);
    free(c.buf);
    c.buf = c.val = NULL;
    c.th = NULL;
    wk->result = c;
    return NULL;
}

/* Wait for the window's end, drawing the progress bar; end early if a
 * worker failed. */
static void wait_window(const struct cmp_spec *s, const atomic_bool *failed_)
{
    uint64_t start = now_ns(), end = start + (uint64_t)(s->seconds * 1e9);
    char detail[64];
    for (;;) {
        uint64_t now = now_ns();
        if (now >= end || atomic_load(failed_))
            return;
        snprintf(detail, sizeof detail, "%.1f / %.1f s",
                 (double)(now - start) / 1e9, s->seconds);
        progress_draw(s->label, (double)(now - start), (double)(end - start),
                      detail, false);
        uint64_t step = end - now < 20000000u ? end - now : 20000000u;
        struct timespec ts = {0, (long)step};
        nanosleep(&ts, NULL);
    }
}

static void report(const struct cmp_spec *s, const struct ctx *c)
{
    progress_clear();
    fprintf(stderr, "warp bench: %s: %s", s->ops->name, c->fail_call);
    if (c->fail_key[0] != '\0')
        fprintf(stderr, "(%s)", c->fail_key);
    fprintf(stderr, ": %s\n",
            c->fail_rc == WARP_ERANGE ? "wrong value size"
                                      : warp_strerror(c->fail_rc));
}

static int summarize(struct worker *wk, unsigned n, struct cmp_stats *out)
{
    hist *all = hist_new();
    uint64_t start = UINT64_MAX, end = 0, cpu = 0;
    if (all == NULL) {
        fprintf(stderr, "warp bench: out of memory\n");
        return 1;
    }
    memset(out, 0, sizeof *out);
    for (unsigned i = 0; i < n; i++) {
        const struct ctx *c = &wk[i].result;
        out->gets += c->gets;
        out->puts += c->puts;
        out->reads += c->reads;
        out->qgets += c->qgets;
        start = wk[i].start_ns < start ? wk[i].start_ns : start;
        end = wk[i].end_ns > end ? wk[i].end_ns : end;
        cpu += wk[i].cpu_ns;
        hist_merge(all, wk[i].hist);
    }
    out->ops = out->gets + out->puts + out->reads + out->qgets;
    out->seconds = (double)(end - start) / 1e9;
    out->ops_per_sec = (double)out->ops / out->seconds;
    out->cores = (double)cpu / 1e9 / out->seconds;
    out->p50_us = hist_percentile(all, 50.0) / 1000.0;
    out->p99_us = hist_percentile(all, 99.0) / 1000.0;
    out->p999_us = hist_percentile(all, 99.9) / 1000.0;
    hist_free(all);
    return 0;
}

static int run_workers(struct window *w, struct worker *wk,
                       struct cmp_stats *out)
{
    const struct cmp_spec *s = w->spec;
    unsigned created = 0, n = s->threads;
    for (; created < n; created++) {
        if (pthread_create(&wk[created].tid, NULL, worker_main, &wk[created]) !=
            0) {
            fprintf(stderr, "warp bench: cannot start thread %u\n",
                    created + 1);
            break;
        }
    }
    gate_release(&w->gate, created, created < n);
    if (created == n)
        wait_window(s, &w->failed);
    atomic_store_explicit(&w->stop, true, memory_order_relaxed);
    for (unsigned i = 0; i < created; i++)
        pthread_join(wk[i].tid, NULL);
    progress_clear();
    if (created < n)
        return 1;
    for (unsigned i = 0; i < n; i++) {
        if (wk[i].failed) {
            report(s, &wk[i].result);
            return 1;
        }
    }
    return summarize(wk, n, out);
}

int cmp_run(const struct cmp_spec *spec, struct cmp_stats *out)
{
    struct window w = {.spec = spec};
    unsigned n = spec->threads;
    int status = 1;
    gate_init(&w.gate);
    atomic_init(&w.stop, false);
    atomic_init(&w.failed, false);
    struct worker *wk = aligned_alloc(CACHE_LINE, n * sizeof *wk);
    if (wk == NULL) {
        fprintf(stderr, "warp bench: out of memory\n");
        goto out;
    }
    memset(wk, 0, n * sizeof *wk);
    for (unsigned i = 0; i < n; i++) {
        wk[i].w = &w;
        wk[i].index = i;
        wk[i].hist = hist_new();
    }
    status = run_workers(&w, wk, out);
    for (unsigned i = 0; i < n; i++)
        hist_free(wk[i].hist);
out:
    free(wk);
    gate_destroy(&w.gate);
    return status;
}
