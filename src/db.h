/*
 * db.h - the store handle, shared by the modules that make up a store:
 * warp.c (the API and data path) and persist.c (the data directory).
 */
#ifndef WARP_DB_H
#define WARP_DB_H

#include <stdatomic.h>
#include <stdint.h>

#include "mem.h"
#include "route.h"
#include "rules.h"
#include "shard.h"
#include "slab.h"
#include "table.h"
#include "warp.h"

typedef struct persist persist;
typedef struct physics physics;
typedef struct entangle entangle;
typedef struct series_set series_set;
typedef struct tier tier;

struct warp_db {
    warp_options opts;
    mem m;
    page_pool pool;
    uint32_t nshards;
    shard *shards; /* 64-byte aligned, inside shards_raw */
    void *shards_raw;
    persist *p; /* the data directory, or NULL in memory */
    _Atomic uint16_t slot_shard[WARP_SLOTS]; /* the slot table */
    table_root slots[WARP_SLOTS];            /* each slot's tables */
    /* each slot's live keys and their key + value bytes; written by the
     * slot's writer (under its shard's lock), read by anyone */
    _Atomic uint32_t slot_keys[WARP_SLOTS];
    _Atomic uint64_t slot_bytes[WARP_SLOTS];
    /* live keys of the engine's own (db_is_sys_key()): edge lists, series
     * chunks; changed by wop_apply() only, so slot moves leave it alone */
    _Atomic int64_t sys_keys;
    /* each slot's generation: 0 at creation, +1 per move (migrate.c);
     * written under the owning shard's lock by a move or by recovery */
    _Atomic uint64_t slot_gen[WARP_SLOTS];
    rules rules; /* parsed opts.entanglement_rules */
    route_cfg route;
    physics *phys; /* the physics engine (physics.c) */
    entangle *ent; /* the entanglement graph's state (entangle.c) */
    /* a bit per slot that may hold an entanglement edge list: set by the
     * writer that puts one (wop_apply), never cleared, so that a quantum
     * get skips looking for the list in slots that have none */
    _Atomic uint64_t edge_slots[WARP_SLOTS / 64];
    series_set *series; /* the time series' indexes (series.c) */
    tier *tier;         /* the event-horizon tiers (tier.c) */
};

_Static_assert(WARP_SLOTS <= 1u << 16, "slot_shard holds 16-bit ids");

static inline uint32_t db_slot_shard(const warp_db *db, uint32_t slot)
{
    return atomic_load_explicit(&((warp_db *)db)->slot_shard[slot],
                                memory_order_acquire);
}

/* The engine's own keys: SYS_PREFIX, a kind byte, then what the kind
 * says. They are ordinary pairs to the WAL, snapshots, dump and load, so
 * the features that keep state in them (entanglement, time series)
 * persist and recover with the data. Each is routed by its `anchor`, the
 * bytes after the kind up to an optional 0 byte, so that it shares a slot
 * with the key or series it describes:
 *   SYS_PREFIX 'q' <key>                    the entanglement edges of <key>
 *   SYS_PREFIX 't' <series> 0 <8-byte id>   a chunk of a time series */
#define SYS_PREFIX     "\xff\xfe"
#define SYS_PREFIX_LEN 2
#define SYS_ENTANGLE   'q'
#define SYS_SERIES     't'

static inline bool db_is_sys_key(const void *key, size_t klen)
{
    const unsigned char *k = key;

    return klen > SYS_PREFIX_LEN && k[0] == 0xff && k[1] == 0xfe;
}

/* Whether `key` is an entanglement edge list (SYS_PREFIX 'q' ...). */
static inline bool db_is_edge_list(const void *key, size_t klen)
{
    return db_is_sys_key(key, klen) &&
           ((const unsigned char *)key)[SYS_PREFIX_LEN] == SYS_ENTANGLE;
}

/* Whether `slot` may hold an edge list; and the writer's mark that it
 * does (before it publishes the list). */
static inline bool db_slot_has_edges(const warp_db *db, uint32_t slot)
{
    return atomic_load_explicit(&((warp_db *)db)->edge_slots[slot / 64],
                                memory_order_relaxed) >>
               (slot % 64) &
           1;
}

static inline void db_mark_edges(warp_db *db, uint32_t slot)
{
    if (!db_slot_has_edges(db, slot))
        atomic_fetch_or_explicit(&db->edge_slots[slot / 64],
                                 1ull << (slot % 64), memory_order_relaxed);
}

/* The slot of `key` (hash `h`) under the store's co-location. */
static inline uint32_t db_key_slot(const warp_db *db, const void *key,
                                   size_t klen, uint64_t h)
{
    if (__builtin_expect(db_is_sys_key(key, klen), 0)) {
        const char *anchor = (const char *)key + SYS_PREFIX_LEN + 1;
        size_t n = klen - SYS_PREFIX_LEN - 1;
        const char *zero = memchr(anchor, 0, n);
        if (zero)
            n = (size_t)(zero - anchor);
        return route_key_slot(&db->route, anchor, n, route_hash(anchor, n));
    }
    return route_key_slot(&db->route, key, klen, h);
}

/* The batch-get pipeline (warp.c), shared by warp_get_batch() and
 * warp_quantum_get() (entangle.c): look up m <= DB_GROUP keys whose hash
 * h[i] and slot sl[i] are known, those whose bit i is set in `live`:
 * prefetch every table root, then every entry line, then every item (which
 * also finds a hint for each, table_prefetch_item()), then confirm the
 * hints, probing where one is wrong. found[i] receives the item or NULL
 * (NULL for the others). Call it inside an epoch section: the items stay
 * valid until it ends. With DB_FIND_PREFETCHED in `live`, the caller has
 * already prefetched every entry line (table_prefetch()) and the first two
 * stages are skipped; with DB_FIND_ITEMS as well, it has also run
 * db_prefetch_items() into `found`, in the same epoch section, and only
 * the confirmations are left. */
#define DB_GROUP           16
#define DB_FIND_PREFETCHED (1u << 31)
#define DB_FIND_ITEMS      (1u << 30)
void db_prefetch_items(warp_db *db, size_t m, const uint64_t *h,
                       const uint32_t *sl, uint32_t live, const item **hint);
void db_find_group(warp_db *db, size_t m, const void *const *key,
                   const size_t *klen, const uint64_t *h, const uint32_t *sl,
                   uint32_t live, const item **found);

/* Copy the value of found item `it` (of `slot`) into `buf`, which has
 * room for it->vlen bytes, as warp_get() would deliver it (whatever the
 * item's tier). Inside an epoch section. Returns WARP_OK or a read error. */
int db_deliver_value(warp_db *db, uint32_t slot, const item *it, void *buf);

/* Whether `key` exists, and if so its placement, without counting it as
 * an access (for introspection). */
bool db_key_placement(warp_db *db, const void *key, size_t klen,
                      warp_placement *where);

/* Apply a put or delete to memory only, as WAL replay and snapshot loading
 * do: no log, no durability wait. Returns WARP_OK or WARP_ENOMEM. */
int db_apply_put(warp_db *db, const void *key, uint32_t klen, const void *val,
                 uint32_t vlen, uint8_t hints);
int db_apply_del(warp_db *db, const void *key, uint32_t klen);

/* Delete `key` through the WAL like warp_delete(), but only if its item
 * is still `expect` (the eviction policy's victim, tier.c). Call it
 * inside an epoch section, so that `expect` cannot be freed and reused.
 * Returns WARP_OK (deleted), WARP_NOTFOUND (the key holds another item
 * or none: nothing changed), or a write error. */
int db_delete_item(warp_db *db, const void *key, size_t klen,
                   const item *expect);

/* fsync=always: apply shard `sh`'s pending writes whose records are
 * durable now, and tell their waiting writers; if rc is an error (a sync
 * failed, and the log was rewound), fail and drop the others. Shard lock
 * held. */
void db_settle(warp_db *db, shard *sh, int rc);

/* Hints packed as the WAL and snapshots store them. */
static inline uint8_t hints_pack(unsigned access, unsigned priority)
{
    return (uint8_t)((access & 3u) | (priority & 7u) << 2);
}

#endif
