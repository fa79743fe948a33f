/*
 * shard.h - a shard: the unit of write locking and memory ownership.
 *
 * A shard owns the slots the slot table maps to it. Writers to those slots
 * take the shard's mutex; readers never do. The shard owns the item
 * allocator its writers use, and the limbo: memory its writers unlinked
 * and that is freed once no reader can still see it (epoch.h).
 *
 * Counters are written only by the lock holder and read by anyone, so they
 * are relaxed atomics: each figure is exact, a set of them is not a
 * snapshot.
 */
#ifndef WARP_SHARD_H
#define WARP_SHARD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "mem.h"
#include "slab.h"
#include "table.h"
#include "wal.h"

typedef struct retired {
    void *p;
    size_t size; /* item size, or 0 for a table */
    uint64_t epoch;
} retired;

typedef struct limbo {
    retired *ring; /* a FIFO: epochs never decrease from head to tail */
    size_t cap, head, count;
    size_t reserved; /* retirements promised to writers in flight */
    uint32_t since_reclaim;
} limbo;

typedef struct shard {
    pthread_mutex_t lock;
    uint32_t id;
    mem *m;
    slab slab;
    limbo limbo;
    table_writer tw;
    _Atomic uint64_t keys, key_bytes, value_bytes;
    _Atomic uint64_t table_bytes;
    _Atomic uint64_t mem_bytes; /* items, tables and limbo */
    _Atomic uint64_t puts, deletes, growths;

    /* the data directory's log of this shard */
    bool logged; /* wal is open */
    wal wal;
    /* fsync=always: writes logged but not yet durable, in log order. The
     * group commit's leader applies them once their group is synced. */
    struct wop *pend_head, *pend_tail;
} __attribute__((aligned(64))) shard;

int shard_init(shard *sh, uint32_t id, mem *m, page_pool *pool);

/* Free what the shard holds (its limbo, not its tables). No readers. */
void shard_destroy(shard *sh);

/* Promise room for `n` retirements, so that they cannot fail however
 * long after. Returns 0 or -1 (ENOMEM), with nothing changed. A writer
 * releases its promise with shard_release_retire() when it is done.
 * Lock held. */
int shard_reserve_retire(shard *sh, size_t n);
void shard_release_retire(shard *sh, size_t n);

/* Retire an unlinked item; its memory is freed when epoch-safe. A
 * reservation must cover it. Lock held. */
void shard_retire_item(shard *sh, item *it);

/* Free now what the limbo holds that no reader can still see (after an
 * epoch_advance(): tier.c, so that demotions show in the memory figure
 * at once). Lock held. */
void shard_reclaim(shard *sh);

/* After a write: count `dk` keys and the byte deltas, refresh the memory
 * figure, and now and then free what is epoch-safe. Lock held. */
void shard_account(shard *sh, int64_t dk, int64_t dkey_bytes,
                   int64_t dvalue_bytes);

#endif
