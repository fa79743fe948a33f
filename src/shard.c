/* shard.c - a shard's lock, item memory, limbo and counters. */
#include "shard.h"

#include <assert.h>
#include <string.h>

#include "epoch.h"

#define LIMBO_MIN     256
#define RECLAIM_EVERY 64 /* retirements between reclaim attempts */

static inline void add(_Atomic uint64_t *c, int64_t d)
{
    /* single writer: a load and a store, no read-modify-write needed */
    uint64_t v = atomic_load_explicit(c, memory_order_relaxed);
    atomic_store_explicit(c, v + (uint64_t)d, memory_order_relaxed);
}

static void limbo_push(shard *sh, void *p, size_t size)
{
    limbo *l = &sh->limbo;

    assert(l->count < l->cap && l->reserved > 0);
    l->ring[(l->head + l->count) % l->cap] =
        (retired){.p = p, .size = size, .epoch = epoch_now()};
    l->count++;
}

static void free_retired(shard *sh, const retired *r)
{
    if (r->size) {
        slab_free(&sh->slab, r->p, r->size);
    } else {
        size_t bytes = table_bytes(r->p);
        mem_free(sh->m, r->p, bytes);
        add(&sh->table_bytes, -(int64_t)bytes);
    }
}

/* Free every retired object that no reader can still see. */
static void reclaim(shard *sh)
{
    limbo *l = &sh->limbo;
    uint64_t now = epoch_advance();

    while (l->count && epoch_safe(l->ring[l->head].epoch, now)) {
        free_retired(sh, &l->ring[l->head]);
        l->head = (l->head + 1) % l->cap;
        l->count--;
    }
    l->since_reclaim = 0;
}

void shard_reclaim(shard *sh)
{
    if (sh->limbo.count)
        reclaim(sh);
}

static void retire_table(void *ctx, table *t)
{
    limbo_push(ctx, t, 0);
}

/* Writers hold a shard lock for a few hundred nanoseconds, less than it
 * takes to sleep and wake, so a waiter spins briefly before it sleeps. */
static int shard_lock_init(pthread_mutex_t *lock)
{
    pthread_mutexattr_t attr;
    int rc;

    if (pthread_mutexattr_init(&attr))
        return -1;
    (void)pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    rc = pthread_mutex_init(lock, &attr);
    pthread_mutexattr_destroy(&attr);
    return rc ? -1 : 0;
}

int shard_init(shard *sh, uint32_t id, mem *m, page_pool *pool)
{
    memset(sh, 0, sizeof(*sh));
    sh->id = id;
    slab_init(&sh->slab, pool);
    sh->m = m;
    sh->tw.m = m;
    sh->tw.retire = retire_table;
    sh->tw.ctx = sh;
    return shard_lock_init(&sh->lock);
}

void shard_destroy(shard *sh)
{
    limbo *l = &sh->limbo;

    for (; l->count; l->count--, l->head = (l->head + 1) % l->cap)
        free_retired(sh, &l->ring[l->head]);
    mem_free(sh->m, l->ring, l->cap * sizeof(retired));
    l->ring = NULL;
    pthread_mutex_destroy(&sh->lock);
}

int shard_reserve_retire(shard *sh, size_t n)
{
    limbo *l = &sh->limbo;
    size_t need = l->count + l->reserved + n;

    if (need > l->cap)
        reclaim(sh);
    need = l->count + l->reserved + n;
    if (need > l->cap) {
        size_t cap = l->cap ? l->cap : LIMBO_MIN;
        while (cap < need)
            cap *= 2;
        retired *ring = mem_alloc(sh->m, cap * sizeof(retired));
        if (!ring)
            return -1;
        for (size_t i = 0; i < l->count; i++)
            ring[i] = l->ring[(l->head + i) % l->cap];
        mem_free(sh->m, l->ring, l->cap * sizeof(retired));
        l->ring = ring;
        l->cap = cap;
        l->head = 0;
    }
    l->reserved += n;
    return 0;
}

void shard_release_retire(shard *sh, size_t n)
{
    assert(sh->limbo.reserved >= n);
    sh->limbo.reserved -= n;
}

void shard_retire_item(shard *sh, item *it)
{
    limbo_push(sh, it, item_size(it));
}

void shard_account(shard *sh, int64_t dk, int64_t dkey_bytes,
                   int64_t dvalue_bytes)
{
    limbo *l = &sh->limbo;

    if (dk)
        add(&sh->keys, dk);
    if (dkey_bytes)
        add(&sh->key_bytes, dkey_bytes);
    if (dvalue_bytes)
        add(&sh->value_bytes, dvalue_bytes);
    if (sh->tw.bytes_delta) {
        add(&sh->table_bytes, sh->tw.bytes_delta);
        sh->tw.bytes_delta = 0;
    }
    if (sh->tw.growths) {
        add(&sh->growths, (int64_t)sh->tw.growths);
        sh->tw.growths = 0;
    }
    if (l->count && ++l->since_reclaim >= RECLAIM_EVERY)
        reclaim(sh);
    atomic_store_explicit(
        &sh->mem_bytes,
        slab_bytes(&sh->slab) +
            atomic_load_explicit(&sh->table_bytes, memory_order_relaxed) +
            l->cap * sizeof(retired),
        memory_order_relaxed);
}
