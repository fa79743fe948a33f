/*
 * physics.h - the physics engine's two halves: the facts the data path
 * records, and the thread that turns them into decisions.
 *
 * DATA PATH (inline below): one relaxed load of the mode; in off mode
 * that is all. Otherwise a per-thread countdown picks the sampled
 * accesses (every one in full mode, one in `period` in adaptive), and a
 * sampled access is one 16-byte store into the thread's ring plus a
 * release store of the ring's head. No lock, no allocation (except when
 * a thread first uses the store and no exited thread left a ring to take
 * over), no floating point. A full ring drops the fact and counts it.
 *
 * PHYSICS THREAD (physics.c): drains the rings every PHYS_TICK_MS, and
 * every physics_update_interval folds what it read into slot load rates,
 * shard mass, temporal weights, the wormhole graph and the lifecycle
 * counts; every entropy_monitoring_interval it reports the entropy and
 * may rebalance. It measures its own CPU time, and in adaptive mode
 * doubles or halves the sampling period to stay within
 * physics_cpu_budget.
 */
#ifndef WARP_PHYSICS_H
#define WARP_PHYSICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* Facts per thread ring, a power of two: 2 MiB, about 50 ms of one
 * thread's accesses at full sampling (docs/PHYSICS.md, "Facts"). */
#define PHYS_RING      131072
#define PHYS_BATCH_MAX 64 /* slots of one batch the wormholes learn */

enum { FACT_GET = 1, FACT_PUT, FACT_DEL, FACT_BATCH };

/* The kinds of batch: a batch get, whose neighbouring keys teach the
 * entanglement graph (entangle.c); or a quantum get, whose keys were read
 * together because they are entangled already, so they teach it nothing. */
enum { PHYS_BATCH_GET = 0, PHYS_BATCH_ENTANGLED = 1 };

/* One observation. A FACT_BATCH fact heads the `n` FACT_GET facts of one
 * batch get; its `slot` says which kind (PHYS_BATCH_*). `shift`: the fact
 * stands for 2^shift accesses (the sampling period when it was recorded). */
typedef struct fact {
    uint64_t h;
    uint16_t slot;
    uint8_t op;
    uint8_t shift;
    uint32_t n;
} fact;

/* A ring has one producer, its owner thread, and one consumer, the
 * physics thread. When its owner exits, another thread may take it over
 * (physics_ring_slow()). */
typedef struct phys_ring {
    _Atomic uint64_t head; /* written by the owner thread */
    uint64_t tail_seen;    /* the owner's last view of tail */
    uint32_t countdown;    /* accesses until the next sample */
    uint8_t shift;         /* the owner's current period, log2 */
    _Atomic uint64_t dropped;
    _Atomic uintptr_t owner; /* the owner's token (physics.c); 0: free */
    char pad[64 - 8 - 8 - 4 - 1 - 3 - 8 - sizeof(uintptr_t)];
    _Atomic uint64_t tail; /* written by the physics thread */
    char pad2[56];
    struct phys_ring *next; /* the store's list of rings */
    fact f[PHYS_RING];
} phys_ring;

struct physics_shared {
    _Atomic int mode;        /* warp_physics_mode */
    _Atomic uint32_t period; /* sample one access in `period` */
    uint64_t id;             /* unique per store, for the thread cache */
};

/* The head of struct physics, which the data path reads. */
typedef struct physics_shared physics_shared;

extern _Thread_local struct phys_tls {
    uint64_t id;
    phys_ring *ring;
} phys_tls;

int physics_open(warp_db *db, const char *dir);
void physics_close(warp_db *db);

/* The temperature of `n` keys by hash, for the tiers (tier.c): each one's
 * decayed weight now and the ms since its last access; a key never
 * observed (or with physics not open yet) gets 0 and UINT64_MAX. Takes
 * the physics lock once. */
void physics_key_temps(warp_db *db, size_t n, const uint64_t *h, float *weight,
                       uint64_t *age_ms);

/* The calling thread's ring for `db`, when the thread cache holds another
 * store's: the ring the thread already owns there, else one an exited
 * thread released, else a new one. NULL if it cannot be allocated (the
 * fact is then not recorded). */
phys_ring *physics_ring_slow(warp_db *db);

static inline phys_ring *phys_ring_of(warp_db *db, uint32_t *ok)
{
    const physics_shared *ps = (const physics_shared *)db->phys;

    *ok = atomic_load_explicit(&ps->mode, memory_order_relaxed);
    if (!*ok)
        return NULL;
    return phys_tls.id == ps->id ? phys_tls.ring : physics_ring_slow(db);
}

/* Whether this access is sampled; resets the countdown if so. */
static inline bool phys_sampled(warp_db *db, phys_ring *r)
{
    if (--r->countdown)
        return false;
    uint32_t period = atomic_load_explicit(
        &((physics_shared *)db->phys)->period, memory_order_relaxed);
    r->countdown = period;
    r->shift = (uint8_t)__builtin_ctz(period);
    return true;
}

/* Room for `n` facts, or false (and the facts are counted dropped). */
static inline bool phys_room(phys_ring *r, uint64_t head, uint32_t n)
{
    if (head + n - r->tail_seen <= PHYS_RING)
        return true;
    r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head + n - r->tail_seen <= PHYS_RING)
        return true;
    atomic_store_explicit(
        &r->dropped,
        atomic_load_explicit(&r->dropped, memory_order_relaxed) + n,
        memory_order_relaxed);
    return false;
}

/* Record one access of key `h` in `slot`. */
static inline void physics_note(warp_db *db, unsigned op, uint32_t slot,
                                uint64_t h)
{
    uint32_t on;
    phys_ring *r = phys_ring_of(db, &on);

    if (!r || !phys_sampled(db, r))
        return;
    uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (!phys_room(r, head, 1))
        return;
    r->f[head & (PHYS_RING - 1)] = (fact){.h = h,
                                          .slot = (uint16_t)slot,
                                          .op = (uint8_t)op,
                                          .shift = r->shift,
                                          .n = 1};
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

/* Record one batch get of `n` keys (hashes and slots), as one sample;
 * `kind` is PHYS_BATCH_GET or PHYS_BATCH_ENTANGLED. */
void physics_note_batch(warp_db *db, const uint64_t *h, const uint32_t *slots,
                        size_t n, unsigned kind);

#endif
