/*
 * physics.c - the physics thread: facts in, decisions out.
 *
 * The data path (physics.h) leaves facts in per-thread rings. This thread
 * is their only reader, and the only writer of everything below the
 * `lock` line of struct physics; API calls that read that state (explain,
 * metrics, routes) take `lock`, which the thread holds while it changes
 * the state. Nothing on the data path ever takes it.
 *
 * ROUNDS
 *   every PHYS_TICK_MS          drain every ring: count ops per slot and
 *                               kind, touch temporal weights, feed batch
 *                               gets to the wormhole graph
 *   every physics_update_interval  fold the slot counts into decayed slot
 *                               rates (half of the old rate, half of the
 *                               new: a rate halves each interval without
 *                               load); shard mass; lifecycle counts;
 *                               wormhole decay; measure this thread's CPU
 *                               and, in adaptive mode, tune the period
 *   every entropy_monitoring_interval  an entropy report (history ring,
 *                               entropy/<date>.jsonl), and a rebalance if
 *                               the normalised op entropy is below
 *                               entropy_threshold and the cooldown passed
 *   In off mode the thread sleeps until the mode changes or a request
 *   (a forced rebalance) arrives: no work at all.
 *
 * MASS
 *   A slot's mass is its decayed op rate (ops/s) plus its bytes / 4096: a
 *   4 KiB page held weighs as much as one operation per second. A shard's
 *   mass is the sum over its slots.
 */
#include "physics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "balance.h"
#include "clock.h"
#include "entangle.h"
#include "entropy.h"
#include "epoch.h"
#include "item.h"
#include "migrate.h"
#include "route.h"
#include "table.h"
#include "temporal.h"
#include "tier.h"
#include "wormhole.h"

#define PHYS_TICK_MS        10
#define PERIOD_MAX          65536 /* adaptive samples at least 1 in this */
#define PERIOD_START        64
#define PHYS_TUNE_MS        100 /* adaptive: the sampling is re-tuned this often */
#define KEY_MAP_MAX         (1u << 22) /* 4M entries, 64 MiB */
#define PHYS_AHEAD          16         /* facts whose key entries load ahead */
#define MASS_BYTES_PER_OP   4096.0
#define REBALANCE_MAX_MOVES 1024
#define KEEP_STRENGTH       5.0 /* wormholes this strong keep slots together */

_Thread_local struct phys_tls phys_tls;

static _Atomic uint64_t next_id = 1;

typedef struct rebalance_req {
    bool force;
    bool done;
    int rc;
    warp_rebalance_report report;
} rebalance_req;

struct physics {
    physics_shared s; /* first: the data path reads it */
    warp_db *db;
    char *dir; /* the data directory, for entropy/; NULL in memory */
    _Atomic(phys_ring *) rings; /* pushed at the head, freed at close */
    struct physics *next_open;  /* open_stores, under stores_lock */
    pthread_t thread;
    bool started;

    /* the thread's wake-ups: mode changes, requests, stop */
    pthread_mutex_t wake_lock;
    pthread_cond_t wake;
    bool stop;
    rebalance_req *req; /* a rebalance asked for, or NULL */
    pthread_cond_t req_done;

    /* --- below: the thread's state, read by the API under `lock` --- */
    pthread_mutex_t lock;
    uint64_t open_ms;      /* monotonic */
    uint64_t last_fold_ms; /* monotonic: when slot_count was last folded */
    uint32_t tick;         /* ticks of TEMPORAL_TICK_MS since open */
    uint64_t slot_count[WARP_SLOTS]; /* accesses since the last fold */
    double slot_rate[WARP_SLOTS];    /* decayed ops/s */
    uint64_t ops[5];                 /* by fact kind, accesses */
    uint64_t facts, rounds;
    double cpu_last, cpu_total;
    key_map keys;
    wormholes *worm;
    uint64_t stage_keys[WARP_STAGES];
    entropy_history history;
    uint64_t reports, rebalances, slots_moved, keys_moved;
    uint64_t last_rebalance_ms;
};

static double thread_cpu_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* --- the data path's slow half: rings and their owners ------------------- *
 *
 * Each thread has a token, unique for the life of the process. A ring's
 * `owner` is its owner's token, or 0 once that thread has exited. So a
 * thread that goes back and forth between stores finds its own ring
 * again, and a new thread takes over a released ring: a store holds as
 * many rings as threads that used it at the same time, not as many as
 * ever did (before, each return to a store allocated another ring,
 * and every drain walked them all).
 *
 * At thread exit a pthread key's destructor releases the thread's rings
 * in every open store. It walks `open_stores` under `stores_lock`, and
 * physics_close() leaves that list before it frees its rings, so the
 * destructor never touches a closed store's ring. Only the owner ever
 * changes `owner` from its token (to 0, with release); a taker changes it
 * from 0 (compare-and-swap, with acquire), and so sees everything the
 * exited owner wrote to the ring. A destructor of the caller's that runs
 * after ours and reads a store again gets a ring afresh (release_rings()).
 */

static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static physics *open_stores;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;
static bool exit_key_ok;
static _Atomic uintptr_t next_token = 1;
static _Thread_local uintptr_t thread_token;

static void release_rings(void *token)
{
    pthread_mutex_lock(&stores_lock);
    for (physics *p = open_stores; p; p = p->next_open)
        for (phys_ring *r = atomic_load(&p->rings); r; r = r->next)
            if (atomic_load_explicit(&r->owner, memory_order_relaxed) ==
                (uintptr_t)token)
                atomic_store_explicit(&r->owner, 0, memory_order_release);
    pthread_mutex_unlock(&stores_lock);
    /* Another thread-exit destructor that runs after this one may still
     * use a store. It must not write to the rings just let go, which
     * another thread may take now: forget them, so that it finds a ring
     * afresh under a new token, and that token arms this destructor again
     * (glibc runs the destructors again while a key holds a value, up to
     * PTHREAD_DESTRUCTOR_ITERATIONS times). */
    phys_tls.id = 0;
    phys_tls.ring = NULL;
    thread_token = 0;
}

static void make_exit_key(void)
{
    exit_key_ok = pthread_key_create(&exit_key, release_rings) == 0;
}

/* The calling thread's token; the first call arms the exit destructor
 * (without it, which pthread_key_create() failing would mean, an exited
 * thread's rings are never reused). */
static uintptr_t my_token(void)
{
    if (!thread_token) {
        thread_token = atomic_fetch_add(&next_token, 1);
        pthread_once(&exit_once, make_exit_key);
        if (exit_key_ok)
            (void)pthread_setspecific(exit_key, (void *)thread_token);
    }
    return thread_token;
}

static phys_ring *ring_new(physics *p, uintptr_t owner)
{
    phys_ring *r = malloc(sizeof(*r));

    if (!r)
        return NULL;
    /* Touch every page now: a page fault on the data path, once per 256
     * facts on the ring's first lap, would show in the tail latency. (Not
     * with a memset of the whole ring: the compiler turns malloc() and
     * memset() into calloc(), which touches nothing.) */
    for (size_t i = 0; i < sizeof(*r); i += 4096)
        ((volatile char *)r)[i] = 0;
    memset(r, 0, offsetof(phys_ring, f));
    r->countdown = 1;
    atomic_init(&r->owner, owner);
    r->next = atomic_load(&p->rings);
    while (!atomic_compare_exchange_weak(&p->rings, &r->next, r))
        ;
    return r;
}

phys_ring *physics_ring_slow(warp_db *db)
{
    physics *p = db->phys;
    uintptr_t me = my_token();
    phys_ring *r;

    for (r = atomic_load(&p->rings); r; r = r->next)
        if (atomic_load_explicit(&r->owner, memory_order_relaxed) == me)
            goto found;
    for (r = atomic_load(&p->rings); r; r = r->next) {
        uintptr_t free_ring = 0;
        if (atomic_compare_exchange_strong_explicit(&r->owner, &free_ring, me,
                                                    memory_order_acquire,
                                                    memory_order_relaxed))
            goto found;
    }
    if (!(r = ring_new(p, me)))
        return NULL;
found:
    phys_tls.id = p->s.id;
    phys_tls.ring = r;
    return r;
}

void physics_note_batch(warp_db *db, const uint64_t *h, const uint32_t *slots,
                        size_t n, unsigned kind)
{
    uint32_t on;
    phys_ring *r = phys_ring_of(db, &on);

    if (!r || n == 0 || !phys_sampled(db, r))
        return;
    if (n > PHYS_BATCH_MAX)
        n = PHYS_BATCH_MAX;
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (!phys_room(r, head, (uint32_t)n + 1))
        return;
    r->f[head & (PHYS_RING - 1)] = (fact){.op = FACT_BATCH,
                                          .slot = (uint16_t)kind,
                                          .shift = r->shift,
                                          .n = (uint32_t)n};
    for (size_t i = 0; i < n; i++)
        r->f[(head + 1 + i) & (PHYS_RING - 1)] =
            (fact){.h = h[i],
                   .slot = (uint16_t)slots[i],
                   .op = FACT_GET,
                   .shift = r->shift,
                   .n = 1};
    atomic_store_explicit(&r->head, head + 1 + n, memory_order_release);
}

/* --- draining ------------------------------------------------------------- */

/* A ring's last get, for the entanglement graph's co-access pairs: two
 * gets in a row by one thread, both observed (a sampled get's neighbour in
 * the ring was not its neighbour in time), or neighbours in a batch get. */
typedef struct coaccess {
    bool on; /* entanglement_learning */
    bool have;
    uint64_t h;
    uint32_t slot;
} coaccess;

static void coaccess_get(entangle *e, coaccess *c, uint64_t h, uint32_t slot)
{
    if (c->have && c->h != h)
        entangle_coaccess(e, c->h, c->slot, h, slot);
    c->have = true;
    c->h = h;
    c->slot = slot;
}

/* The key map is large and cold: before the touch of fact `at`, start
 * the misses of the entries of the facts up to PHYS_AHEAD after it (from
 * *ahead on: each fact's once, batch headers' too, which is harmless). */
static inline void prefetch_keys(physics *p, const phys_ring *r,
                                 uint64_t *ahead, uint64_t at, uint64_t head)
{
    uint64_t end = at + PHYS_AHEAD < head ? at + PHYS_AHEAD : head;

    for (; *ahead < end; (*ahead)++)
        key_map_prefetch(&p->keys, r->f[*ahead & (PHYS_RING - 1)].h);
}

/* Read what ring `r` holds; lock held. */
static void drain_ring(physics *p, phys_ring *r)
{
    uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    uint64_t half_life = p->db->opts.temporal_half_life;
    uint32_t batch[PHYS_BATCH_MAX];
    coaccess ca = {.on = entangle_learning(p->db->ent)};
    uint64_t ahead = tail; /* the next fact whose entry to prefetch */

    while (tail < head) {
        const fact *f = &r->f[tail & (PHYS_RING - 1)];
        prefetch_keys(p, r, &ahead, tail, head);
        uint64_t weight = 1ull << f->shift;
        if (f->op == FACT_BATCH) {
            uint32_t n = f->n;
            if (tail + 1 + n > head) /* cannot happen: published whole */
                break;
            bool pairs = ca.on && f->slot == PHYS_BATCH_GET;
            ca.have = false;
            for (uint32_t i = 0; i < n; i++) {
                const fact *g = &r->f[(tail + 1 + i) & (PHYS_RING - 1)];
                prefetch_keys(p, r, &ahead, tail + 1 + i, head);
                if (pairs)
                    coaccess_get(p->db->ent, &ca, g->h, g->slot);
                batch[i] = g->slot;
                p->slot_count[g->slot] += weight;
                key_map_touch(&p->keys, g->h, (double)weight, p->tick,
                              half_life);
            }
            p->ops[FACT_BATCH] += weight;
            p->ops[FACT_GET] += weight * n;
            (void)wormholes_touch(p->worm, batch, n);
            ca.have = false;
            p->facts += 1 + n;
            tail += 1 + n;
            continue;
        }
        if (ca.on && f->op == FACT_GET && f->shift == 0)
            coaccess_get(p->db->ent, &ca, f->h, f->slot);
        else
            ca.have = false;
        if (f->op >= FACT_GET && f->op <= FACT_DEL) {
            p->ops[f->op] += weight;
            p->slot_count[f->slot] += weight;
            if (f->op == FACT_DEL)
                key_map_remove(&p->keys, f->h);
            else
                key_map_touch(&p->keys, f->h, (double)weight, p->tick,
                              half_life);
        }
        p->facts++;
        tail++;
    }
    atomic_store_explicit(&r->tail, tail, memory_order_release);
}

static void drain(physics *p)
{
    pthread_mutex_lock(&p->lock);
    p->tick = (uint32_t)((clock_mono_ms() - p->open_ms) / TEMPORAL_TICK_MS);
    for (phys_ring *r = atomic_load(&p->rings); r; r = r->next)
        drain_ring(p, r);
    pthread_mutex_unlock(&p->lock);
}

/* --- folding -------------------------------------------------------------- */

/* Fold the counts of the last `secs` seconds into the slot rates. */
static void fold(physics *p, double secs)
{
    if (secs <= 0)
        return;
    for (uint32_t s = 0; s < WARP_SLOTS; s++) {
        p->slot_rate[s] =
            0.5 * p->slot_rate[s] + 0.5 * ((double)p->slot_count[s] / secs);
        p->slot_count[s] = 0;
    }
}

/* Per-shard items, bytes, op rates (arrays of db->nshards). */
static void shard_loads(const physics *p, double *items, double *bytes,
                        double *ops)
{
    const warp_db *db = p->db;

    for (uint32_t i = 0; i < db->nshards; i++)
        items[i] = bytes[i] = ops[i] = 0;
    for (uint32_t s = 0; s < WARP_SLOTS; s++) {
        uint32_t sh = db_slot_shard(db, s);
        items[sh] +=
            atomic_load_explicit(&db->slot_keys[s], memory_order_relaxed);
        bytes[sh] += (double)atomic_load_explicit(&db->slot_bytes[s],
                                                  memory_order_relaxed);
        ops[sh] += p->slot_rate[s];
    }
}

/* Adaptive mode: choose the sampling period from `cpu`, the share of a
 * CPU that draining the sampled facts took lately. The drain's cost is
 * about proportional to the facts sampled, so an over-budget share jumps
 * at once to the period that meets the budget (one doubling per tune
 * would let a sudden burst of load run unthrottled for several tunes).
 * The round's fixed work (decay, stages) is left out: no sampling period
 * changes it. Below half the budget the period halves, one step per tune. */
static void tune_period(physics *p, double cpu)
{
    int mode = atomic_load(&p->s.mode);
    uint32_t period = atomic_load(&p->s.period);
    double budget = p->db->opts.physics_cpu_budget;

    if (mode == WARP_PHYSICS_FULL) {
        period = 1;
    } else if (cpu > budget) {
        for (; cpu > budget && period < PERIOD_MAX; cpu /= 2)
            period *= 2;
    } else if (cpu < budget / 2 && period > 1) {
        period /= 2;
    }
    atomic_store(&p->s.period, period);
}

/* --- entropy and rebalancing --------------------------------------------- */

static void entropy_now(const physics *p, entropy_report *r)
{
    uint32_t n = p->db->nshards;
    double items[n], bytes[n], ops[n];

    shard_loads(p, items, bytes, ops);
    memset(r, 0, sizeof(*r));
    r->t_ms = clock_wall_ms();
    r->items = entropy_bits(items, n);
    r->bytes = entropy_bits(bytes, n);
    r->ops = entropy_bits(ops, n);
    r->items_norm = entropy_norm(items, n);
    r->bytes_norm = entropy_norm(bytes, n);
    r->ops_norm = entropy_norm(ops, n);
    r->trend = entropy_trend(&p->history, r);
    r->stability = entropy_stability(&p->history, r);
}

/* The normalised entropy of the per-shard sums of `load` under `owner`. */
static double owner_entropy(const double *load, const uint16_t *owner,
                            uint32_t n)
{
    double sum[n];

    memset(sum, 0, sizeof(sum));
    for (uint32_t s = 0; s < WARP_SLOTS; s++)
        sum[owner[s]] += load[s];
    return entropy_norm(sum, n);
}

/* Plan from the slot rates and move. Lock held; it is released around
 * each move, so that API readers are not held up by the moves' I/O. */
static int rebalance(physics *p, warp_rebalance_report *rep)
{
    warp_db *db = p->db;
    uint16_t *owner = malloc(WARP_SLOTS * sizeof(*owner));
    double *load = malloc(WARP_SLOTS * sizeof(*load));
    balance_move *moves = malloc(REBALANCE_MAX_MOVES * sizeof(*moves));
    uint64_t t0 = clock_mono_ms();
    struct timespec a, b;
    size_t n;
    int rc = WARP_OK;

    clock_gettime(CLOCK_MONOTONIC, &a);
    memset(rep, 0, sizeof(*rep));
    if (!owner || !load || !moves) {
        free(owner);
        free(load);
        free(moves);
        return WARP_ENOMEM;
    }
    for (uint32_t s = 0; s < WARP_SLOTS; s++) {
        owner[s] = (uint16_t)db_slot_shard(db, s);
        load[s] = p->slot_rate[s];
    }
    rep->ops_norm_before = owner_entropy(load, owner, db->nshards);
    rep->max_share_before = balance_max_share(load, owner, db->nshards);
    rep->best_share = balance_best_share(load, db->nshards);
    n = balance_plan(load, owner, db->nshards, p->worm, KEEP_STRENGTH, moves,
                     REBALANCE_MAX_MOVES);
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < n; i++) {
        uint64_t keys = 0, bytes = 0;
        rc = migrate_slot(db, moves[i].slot, moves[i].to, &keys, &bytes);
        if (rc)
            break;
        owner[moves[i].slot] = (uint16_t)moves[i].to;
        rep->slots_moved++;
        rep->keys_moved += keys;
        rep->bytes_moved += bytes;
    }
    pthread_mutex_lock(&p->lock);
    rep->ops_norm_after = owner_entropy(load, owner, db->nshards);
    rep->max_share_after = balance_max_share(load, owner, db->nshards);
    free(moves);
    free(load);
    free(owner);
    clock_gettime(CLOCK_MONOTONIC, &b);
    rep->micros = (uint64_t)((b.tv_sec - a.tv_sec) * 1000000 +
                             (b.tv_nsec - a.tv_nsec) / 1000);
    if (rep->slots_moved) {
        p->rebalances++;
        p->slots_moved += rep->slots_moved;
        p->keys_moved += rep->keys_moved;
    }
    p->last_rebalance_ms = t0;
    return rc;
}

static void report_entropy(physics *p)
{
    entropy_report r;
    warp_rebalance_report rep;
    char extra[256];
    bool moved = false;

    pthread_mutex_lock(&p->lock);
    entropy_now(p, &r);
    entropy_history_add(&p->history, &r);
    p->reports++;
    double threshold = p->db->opts.entropy_threshold;
    uint64_t now = clock_mono_ms();
    bool loaded = r.ops > 0;
    if (loaded && r.ops_norm < threshold &&
        (p->last_rebalance_ms == 0 ||
         now - p->last_rebalance_ms >= p->db->opts.rebalance_cooldown)) {
        rebalance(p, &rep);
        moved = rep.slots_moved > 0;
    }
    pthread_mutex_unlock(&p->lock);
    if (!p->dir)
        return;
    if (moved)
        snprintf(extra, sizeof(extra),
                 "\"rebalanced\":{\"slots\":%" PRIu32 ",\"keys\":%" PRIu64
                 ",\"ops_norm_after\":%.6f,\"micros\":%" PRIu64 "}",
                 rep.slots_moved, rep.keys_moved, rep.ops_norm_after,
                 rep.micros);
    (void)entropy_append_jsonl(p->dir, &r, moved ? extra : NULL);
}

/* --- the thread ----------------------------------------------------------- */

static void serve_request(physics *p)
{
    pthread_mutex_lock(&p->wake_lock);
    rebalance_req *q = p->req;
    pthread_mutex_unlock(&p->wake_lock);
    if (!q)
        return;
    drain(p);
    pthread_mutex_lock(&p->lock);
    /* fold in the accesses counted since the last fold, over the time
     * they took, so that a rebalance right after a burst of load sees it
     * in the same units (accesses per second) as the older load */
    uint64_t now = clock_mono_ms();
    if (now > p->last_fold_ms) {
        fold(p, (double)(now - p->last_fold_ms) / 1000.0);
        p->last_fold_ms = now;
    }
    entropy_report r;
    entropy_now(p, &r);
    if (q->force || (r.ops > 0 && r.ops_norm < p->db->opts.entropy_threshold))
        q->rc = rebalance(p, &q->report);
    else
        memset(&q->report, 0, sizeof(q->report));
    pthread_mutex_unlock(&p->lock);
    pthread_mutex_lock(&p->wake_lock);
    q->done = true;
    p->req = NULL;
    pthread_cond_broadcast(&p->req_done);
    pthread_mutex_unlock(&p->wake_lock);
}

static void *physics_main(void *arg)
{
    physics *p = arg;
    uint64_t last_round = clock_mono_ms(), last_entropy = last_round;
    double cpu_at_round = thread_cpu_s(), drain_cpu = 0;
    uint64_t last_tune = last_round;

    /* this thread's own writes (learned edges) are not observed: it is
     * registered for the store with no ring */
    phys_tls.id = p->s.id;
    phys_tls.ring = NULL;

    for (;;) {
        pthread_mutex_lock(&p->wake_lock);
        while (!p->stop && !p->req &&
               atomic_load(&p->s.mode) == WARP_PHYSICS_OFF)
            pthread_cond_wait(&p->wake, &p->wake_lock);
        if (!p->stop && !p->req) {
            struct timespec until = clock_deadline(PHYS_TICK_MS);
            pthread_cond_timedwait(&p->wake, &p->wake_lock, &until);
        }
        bool stop = p->stop;
        pthread_mutex_unlock(&p->wake_lock);
        if (stop)
            break;
        serve_request(p);
        if (atomic_load(&p->s.mode) == WARP_PHYSICS_OFF)
            continue;

        double t0 = thread_cpu_s();
        drain(p);
        drain_cpu += thread_cpu_s() - t0;
        uint64_t now = clock_mono_ms();
        if (now - last_tune >= PHYS_TUNE_MS) {
            pthread_mutex_lock(&p->wake_lock); /* vs warp_physics_set() */
            tune_period(p, drain_cpu * 1000.0 / (double)(now - last_tune));
            pthread_mutex_unlock(&p->wake_lock);
            drain_cpu = 0;
            last_tune = now;
        }
        if (now - last_round >= p->db->opts.physics_update_interval) {
            double cpu_now = thread_cpu_s();
            double secs = (double)(now - last_round) / 1000.0;
            pthread_mutex_lock(&p->lock);
            if (now > p->last_fold_ms) /* a request may have folded */
                fold(p, (double)(now - p->last_fold_ms) / 1000.0);
            p->last_fold_ms = now;
            wormholes_decay(p->worm);
            memset(p->stage_keys, 0, sizeof(p->stage_keys));
            key_map_stages(&p->keys, p->tick, p->stage_keys);
            p->cpu_last = (cpu_now - cpu_at_round) / secs;
            p->cpu_total += cpu_now - cpu_at_round;
            p->rounds++;
            pthread_mutex_unlock(&p->lock);
            entangle_round(p->db); /* writes to the store: no lock held */
            last_round = now;
            cpu_at_round = cpu_now;
        }
        if (now - last_entropy >= p->db->opts.entropy_monitoring_interval) {
            report_entropy(p);
            last_entropy = now;
        }
    }
    return NULL;
}

int physics_open(warp_db *db, const char *dir)
{
    physics *p = calloc(1, sizeof(*p));

    if (!p)
        return WARP_ENOMEM;
    p->db = db;
    p->s.id = atomic_fetch_add(&next_id, 1);
    atomic_init(&p->s.mode, db->opts.physics);
    atomic_init(&p->s.period,
                db->opts.physics == WARP_PHYSICS_FULL ? 1 : PERIOD_START);
    p->open_ms = p->last_fold_ms = clock_mono_ms();
    key_map_init(&p->keys, KEY_MAP_MAX, db->opts.huge_pages);
    if ((dir && !(p->dir = strdup(dir))) || wormholes_new(&p->worm)) {
        free(p->dir);
        free(p);
        return WARP_ENOMEM;
    }
    pthread_mutex_init(&p->wake_lock, NULL);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->req_done, NULL);
    db->phys = p;
    pthread_mutex_lock(&stores_lock);
    p->next_open = open_stores;
    open_stores = p;
    pthread_mutex_unlock(&stores_lock);
    if (pthread_create(&p->thread, NULL, physics_main, p)) {
        physics_close(db);
        return WARP_ENOMEM;
    }
    pthread_setname_np(p->thread, "warp-physics");
    p->started = true;
    return WARP_OK;
}

void physics_close(warp_db *db)
{
    physics *p = db->phys;

    if (!p)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->wake_lock);
        p->stop = true;
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->wake_lock);
        pthread_join(p->thread, NULL);
    }
    pthread_mutex_lock(&stores_lock); /* before the rings go (below) */
    for (physics **q = &open_stores; *q; q = &(*q)->next_open)
        if (*q == p) {
            *q = p->next_open;
            break;
        }
    pthread_mutex_unlock(&stores_lock);
    for (phys_ring *r = atomic_load(&p->rings), *next; r; r = next) {
        next = r->next;
        free(r);
    }
    key_map_free(&p->keys);
    wormholes_free(p->worm);
    pthread_mutex_destroy(&p->wake_lock);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->req_done);
    free(p->dir);
    free(p);
    db->phys = NULL;
}

/* --- the API -------------------------------------------------------------- */

static const char *const mode_names[] = {"off", "adaptive", "full"};
static const char *const stage_names[] = {"live", "recent", "historical",
                                          "deep_time"};

const char *warp_physics_mode_name(warp_physics_mode m)
{
    return (unsigned)m < 3 ? mode_names[m] : "unknown";
}

int warp_physics_mode_parse(const char *s, warp_physics_mode *out)
{
    for (int i = 0; s && out && i < 3; i++)
        if (strcmp(s, mode_names[i]) == 0) {
            *out = (warp_physics_mode)i;
            return WARP_OK;
        }
    return WARP_EINVAL;
}

const char *warp_stage_name(warp_stage s)
{
    return (unsigned)s < WARP_STAGES ? stage_names[s] : "unknown";
}

int warp_physics_set(warp_db *db, warp_physics_mode mode)
{
    if (!db || (unsigned)mode > WARP_PHYSICS_FULL)
        return WARP_EINVAL;
    physics *p = db->phys;
    pthread_mutex_lock(&p->wake_lock);
    atomic_store(&p->s.period,
                 mode == WARP_PHYSICS_FULL ? 1u : (uint32_t)PERIOD_START);
    atomic_store(&p->s.mode, (int)mode);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->wake_lock);
    return WARP_OK;
}

warp_physics_mode warp_physics_get(const warp_db *db)
{
    return db ? (warp_physics_mode)atomic_load(&db->phys->s.mode)
              : WARP_PHYSICS_OFF;
}

int warp_cosmic_metrics_get(warp_db *db, warp_cosmic_metrics *m)
{
    if (!db || !m)
        return WARP_EINVAL;
    physics *p = db->phys;
    warp_stats st;
    uint64_t dropped = 0, rings = 0;

    warp_stats_get(db, &st);
    for (phys_ring *r = atomic_load(&p->rings); r; r = r->next) {
        dropped += atomic_load_explicit(&r->dropped, memory_order_relaxed);
        rings++;
    }
    memset(m, 0, sizeof(*m));
    pthread_mutex_lock(&p->lock);
    m->uptime_ms = clock_mono_ms() - p->open_ms;
    m->gets = p->ops[FACT_GET];
    m->puts = p->ops[FACT_PUT];
    m->deletes = p->ops[FACT_DEL];
    m->batch_gets = p->ops[FACT_BATCH];
    m->facts = p->facts;
    m->rounds = p->rounds;
    m->physics_cpu = p->cpu_last;
    m->physics_cpu_total_s = p->cpu_total;
    m->tracked_keys = p->keys.count;
    memcpy(m->stage_keys, p->stage_keys, sizeof(m->stage_keys));
    pthread_mutex_unlock(&p->lock);
    m->facts_dropped = dropped;
    m->rings = rings;
    m->mode = (warp_physics_mode)atomic_load(&p->s.mode);
    m->sample_rate = m->mode == WARP_PHYSICS_OFF
                         ? 0.0
                         : 1.0 / (double)atomic_load(&p->s.period);
    uint64_t staged = 0;
    for (int i = 0; i < WARP_STAGES; i++)
        staged += m->stage_keys[i];
    m->keys_unobserved = st.keys > staged ? st.keys - staged : 0;
    m->stage_keys[WARP_STAGE_DEEP_TIME] += m->keys_unobserved;
    return WARP_OK;
}

int warp_shard_physics_get(warp_db *db, uint32_t id, warp_shard_physics *s)
{
    if (!db || !s || id >= db->nshards)
        return WARP_EINVAL;
    physics *p = db->phys;

    memset(s, 0, sizeof(*s));
    pthread_mutex_lock(&p->lock);
    for (uint32_t i = 0; i < WARP_SLOTS; i++) {
        if (db_slot_shard(db, i) != id)
            continue;
        s->slots++;
        s->items +=
            atomic_load_explicit(&db->slot_keys[i], memory_order_relaxed);
        s->bytes +=
            atomic_load_explicit(&db->slot_bytes[i], memory_order_relaxed);
        s->ops_rate += p->slot_rate[i];
    }
    pthread_mutex_unlock(&p->lock);
    s->mass = s->ops_rate + (double)s->bytes / MASS_BYTES_PER_OP;
    return WARP_OK;
}

int warp_entropy_metrics_get(warp_db *db, warp_entropy_metrics *m)
{
    if (!db || !m)
        return WARP_EINVAL;
    physics *p = db->phys;
    entropy_report r;

    memset(m, 0, sizeof(*m));
    pthread_mutex_lock(&p->lock);
    entropy_now(p, &r);
    m->reports = p->reports;
    m->rebalances = p->rebalances;
    m->slots_moved = p->slots_moved;
    m->keys_moved = p->keys_moved;
    const entropy_report *last = entropy_history_last(&p->history);
    m->last_report_ms = last ? last->t_ms : 0;
    pthread_mutex_unlock(&p->lock);
    m->items = r.items;
    m->bytes = r.bytes;
    m->ops = r.ops;
    m->items_norm = r.items_norm;
    m->bytes_norm = r.bytes_norm;
    m->ops_norm = r.ops_norm;
    m->trend = r.trend;
    m->stability = r.stability;
    return WARP_OK;
}

int warp_rebalance(warp_db *db, bool force, warp_rebalance_report *out)
{
    if (!db)
        return WARP_EINVAL;
    physics *p = db->phys;
    rebalance_req q = {.force = force};

    pthread_mutex_lock(&p->wake_lock);
    while (p->req) /* one request at a time */
        pthread_cond_wait(&p->req_done, &p->wake_lock);
    p->req = &q;
    pthread_cond_broadcast(&p->wake);
    while (!q.done)
        pthread_cond_wait(&p->req_done, &p->wake_lock);
    pthread_mutex_unlock(&p->wake_lock);
    if (out)
        *out = q.report;
    return q.rc;
}

int warp_wormhole_metrics_get(warp_db *db, warp_wormhole_metrics *m)
{
    if (!db || !m)
        return WARP_EINVAL;
    physics *p = db->phys;
    wormhole_stats ws;

    pthread_mutex_lock(&p->lock);
    wormholes_stats(p->worm, &ws);
    pthread_mutex_unlock(&p->lock);
    memset(m, 0, sizeof(*m));
    m->edges = ws.edges;
    m->total_strength = ws.total_strength;
    m->max_strength = ws.max_strength;
    m->reinforcements = ws.reinforcements + ws.created; /* every use */
    m->pruned = ws.pruned;
    return WARP_OK;
}

int warp_wormhole_route(warp_db *db, uint32_t from, uint32_t to, uint32_t *path,
                        size_t max, size_t *len, double *cost)
{
    if (!db || !len || !cost || (!path && max))
        return WARP_EINVAL;
    physics *p = db->phys;

    pthread_mutex_lock(&p->lock);
    int rc = wormholes_route(p->worm, from, to, path, max, len, cost);
    pthread_mutex_unlock(&p->lock);
    return rc == 0 ? WARP_OK : rc == -ENOENT ? WARP_NOTFOUND : WARP_EINVAL;
}

void physics_key_temps(warp_db *db, size_t n, const uint64_t *h, float *weight,
                       uint64_t *age_ms)
{
    physics *p = db->phys;

    if (!p) {
        for (size_t i = 0; i < n; i++) {
            weight[i] = 0;
            age_ms[i] = UINT64_MAX;
        }
        return;
    }
    pthread_mutex_lock(&p->lock);
    uint32_t now =
        (uint32_t)((clock_mono_ms() - p->open_ms) / TEMPORAL_TICK_MS);
    for (size_t i = 0; i < n; i++) {
        const key_stat *ks = key_map_find(&p->keys, h[i]);
        if (!ks) {
            weight[i] = 0;
            age_ms[i] = UINT64_MAX;
            continue;
        }
        age_ms[i] = (uint64_t)(now - ks->last) * TEMPORAL_TICK_MS;
        weight[i] = (float)temporal_decay(ks->w, age_ms[i],
                                          db->opts.temporal_half_life);
    }
    pthread_mutex_unlock(&p->lock);
}

int warp_explain(warp_db *db, const void *key, size_t klen,
                 warp_explain_info *e)
{
    if (!db || !e || (!key && klen) || klen > db->opts.max_key_size)
        return !db || !e || (!key && klen) ? WARP_EINVAL : WARP_ETOOBIG;
    physics *p = db->phys;
    uint64_t h = route_hash(key, klen);
    const void *id = key;
    size_t id_len = klen;
    warp_placement where;

    memset(e, 0, sizeof(*e));
    if (!route_id(&db->route, key, klen, &id, &id_len)) {
        id = key;
        id_len = klen;
    }
    e->routing_id_len = id_len;
    memcpy(e->routing_id, id, id_len < 63 ? id_len : 63);
    e->slot = db_key_slot(db, key, klen, h);
    e->shard = db_slot_shard(db, e->slot);
    e->klass = warp_class_of(WARP_ACCESS_BALANCED, WARP_PRIORITY_NORMAL);
    e->tier = tier_of_key(db, key, klen);
    e->exists = db_key_placement(db, key, klen, &where);
    if (e->exists)
        e->klass = where.klass;
    pthread_mutex_lock(&p->lock);
    const key_stat *ks = key_map_find(&p->keys, h);
    e->stage = WARP_STAGE_DEEP_TIME;
    if (ks) {
        uint32_t now =
            (uint32_t)((clock_mono_ms() - p->open_ms) / TEMPORAL_TICK_MS);
        uint64_t age = (uint64_t)(now - ks->last) * TEMPORAL_TICK_MS;
        e->observed = true;
        e->weight = temporal_decay(ks->w, age, db->opts.temporal_half_life);
        e->stage = temporal_stage(age);
        e->last_access_ms = clock_wall_ms() - age;
    }
    e->nedges = wormholes_strongest(p->worm, e->slot, e->edges, 4);
    pthread_mutex_unlock(&p->lock);
    return WARP_OK;
}

int warp_metrics_json(warp_db *db, char **json)
{
    if (!db || !json)
        return WARP_EINVAL;
    warp_cosmic_metrics c;
    warp_entropy_metrics en;
    warp_wormhole_metrics w;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    *json = NULL;
    if (!f)
        return WARP_ENOMEM;
    warp_cosmic_metrics_get(db, &c);
    warp_entropy_metrics_get(db, &en);
    warp_wormhole_metrics_get(db, &w);
    fprintf(f,
            "{\"cosmic_metrics\":{\"uptime_ms\":%" PRIu64
            ",\"operations\":{\"get\":%" PRIu64 ",\"put\":%" PRIu64
            ",\"delete\":%" PRIu64 ",\"batch_get\":%" PRIu64
            "},\"physics_mode\":\"%s\",\"sample_rate\":%.6g,\"facts\":%" PRIu64
            ",\"facts_dropped\":%" PRIu64 ",\"rings\":%" PRIu64
            ",\"rounds\":%" PRIu64
            ",\"physics_cpu\":%.6f,\"physics_cpu_total_s\":%.6f"
            ",\"tracked_keys\":%" PRIu64 ",\"lifecycle\":{",
            c.uptime_ms, c.gets, c.puts, c.deletes, c.batch_gets,
            warp_physics_mode_name(c.mode), c.sample_rate, c.facts,
            c.facts_dropped, c.rings, c.rounds, c.physics_cpu,
            c.physics_cpu_total_s, c.tracked_keys);
    for (int i = 0; i < WARP_STAGES; i++)
        fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", stage_names[i],
                c.stage_keys[i]);
    fprintf(f, "},\"keys_unobserved\":%" PRIu64 ",\"shards\":[",
            c.keys_unobserved);
    for (uint32_t i = 0; i < db->nshards; i++) {
        warp_shard_physics s;
        warp_shard_physics_get(db, i, &s);
        fprintf(f,
                "%s{\"shard\":%" PRIu32 ",\"slots\":%" PRIu32
                ",\"items\":%" PRIu64 ",\"bytes\":%" PRIu64
                ",\"ops_rate\":%.3f,\"mass\":%.3f}",
                i ? "," : "", i, s.slots, s.items, s.bytes, s.ops_rate, s.mass);
    }
    fprintf(f,
            "]},\"entropy_metrics\":{\"items\":%.6f,\"bytes\":%.6f,"
            "\"ops\":%.6f,\"items_norm\":%.6f,\"bytes_norm\":%.6f,"
            "\"ops_norm\":%.6f,\"trend\":%.6f,\"stability\":%.6f,"
            "\"reports\":%" PRIu64 ",\"rebalances\":%" PRIu64
            ",\"slots_moved\":%" PRIu64 ",\"keys_moved\":%" PRIu64
            ",\"last_report_ms\":%" PRIu64 "},"
            "\"wormholes\":{\"edges\":%" PRIu64
            ",\"total_strength\":%.6f,\"max_strength\":%.6f,"
            "\"reinforcements\":%" PRIu64 ",\"pruned\":%" PRIu64 "},",
            en.items, en.bytes, en.ops, en.items_norm, en.bytes_norm,
            en.ops_norm, en.trend, en.stability, en.reports, en.rebalances,
            en.slots_moved, en.keys_moved, en.last_report_ms, w.edges,
            w.total_strength, w.max_strength, w.reinforcements, w.pruned);
    tier_metrics_json(db, f);
    fputc('}', f);
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return WARP_ENOMEM;
    }
    *json = buf;
    return WARP_OK;
}
