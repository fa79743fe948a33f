/*
 * tier.h - event-horizon tiers: where each value lives, and the Hawking
 * demoter that moves values between tiers (docs/TIERS.md).
 *
 *   event_horizon  ITEM_RAW     the value in the item, as written
 *   photon_sphere  ITEM_PACKED  the value compressed (compress.h) in the
 *                               item, with its stored length
 *   deep_cache     ITEM_DEEP    the value in a segment file (deep.h); the
 *                               item keeps the key and a locator
 *
 * A move between tiers builds a new item with the same key and hints and
 * publishes it in place of the old one, under the shard lock, only if the
 * old one is still the key's item (else a write won: the move is dropped);
 * the old item is retired through the shard's limbo. Readers stay
 * lock-free: deliver() takes one branch on the item's tier bits, and a
 * tiered value is decoded into the caller's buffer (tier_deliver()). The
 * WAL never sees a move: it logs the raw writes, and snapshots, dumps and
 * slot images read raw values through tier_value().
 *
 * THE DEMOTER ("Hawking radiation") is a thread of its own, so that it
 * works whatever the physics mode. Every HAWKING_TICK_MS it promotes the
 * values gets asked for, demotes under memory pressure (maxmemory) and,
 * while physics observes, demotes the values that cooled (demote_after,
 * deep_after), and deletes dead deep segments. A write that would exceed
 * the budget first demotes synchronously; when nothing more can be
 * demoted it evicts (eviction lru | lfu) or fails with WARP_EFULL.
 *
 * LOCKS: a move takes one shard lock at a time, inside an epoch section
 * (so the item it compares with cannot be freed and reused meanwhile);
 * deep files have their own lock (deep.h), taken without a shard lock;
 * temperatures come from the physics thread's key map under its lock,
 * taken alone.
 */
#ifndef WARP_TIER_H
#define WARP_TIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "db.h"
#include "item.h"
#include "shard.h"

#define HAWKING_TICK_MS 100

/* Open the tiers of `db` (after its shards, before recovery); `path` is
 * the data directory or NULL (no deep_cache then). Returns WARP_OK,
 * WARP_ENOMEM or WARP_EIO. */
int tier_open(warp_db *db, const char *path);

/* Start the demoter (after recovery and physics_open()). */
int tier_start(warp_db *db);

/* Stop the demoter: first thing in warp_close(). */
void tier_stop(warp_db *db);

/* Free the tiers and delete the deep files, once the tables are gone. */
void tier_close(warp_db *db);

/* --- the read path -------------------------------------------------------- */

/* Decode tiered item `it` (of `slot`) into `buf` (room for it->vlen), count
 * the hit and maybe ask for a promotion. Inside an epoch section.
 * Returns WARP_OK, or WARP_EIO / WARP_ECORRUPT / WARP_ENOMEM from a deep
 * read. */
int tier_deliver(warp_db *db, uint32_t slot, const item *it, void *buf);

/* The raw value of `it` into `dst` (room for it->vlen), whatever its tier.
 * Inside an epoch section (or holding its shard's lock). Errors as
 * tier_deliver(); counts nothing. */
int tier_copy_value(warp_db *db, const item *it, void *dst);

/* A growable buffer for tier_value(). Zero-initialise; free with
 * tier_buf_free(). */
typedef struct tier_buf {
    void *p;
    size_t cap;
} tier_buf;

void tier_buf_free(tier_buf *b);

/* The raw value of `it` in *val: its bytes in the item for ITEM_RAW, else
 * decoded into `b`. Valid until the next call with `b`, or until the item
 * may be freed. Errors as tier_copy_value(). */
int tier_value(warp_db *db, const item *it, tier_buf *b, const void **val);

/* --- the write path ------------------------------------------------------- */

int tier_admit_slow(warp_db *db, size_t need, bool recovering);

/* Before a write that adds about `need` bytes: WARP_OK if the memory
 * budget has room, after demoting (and evicting, with an eviction policy)
 * as needed; WARP_EFULL if nothing more can be demoted or evicted. With
 * `recovering`, never fails (recovery must load what was acknowledged)
 * and never evicts. No lock held. */
static inline int tier_admit(warp_db *db, size_t need, bool recovering)
{
    if (__builtin_expect(db->opts.maxmemory == 0, 1))
        return WARP_OK;
    return tier_admit_slow(db, need, recovering);
}

/* A new packed (photon_sphere) item for a put with access pattern cold,
 * from `sh`'s slab; NULL on ENOMEM. Shard lock held. */
item *tier_cold_item(warp_db *db, shard *sh, const void *key, size_t klen,
                     const void *val, size_t vlen, unsigned access,
                     unsigned priority);

void tier_note_slow(warp_db *db, shard *sh, const item *added,
                    const item *removed);

/* After a write published `added` and/or unlinked `removed` (either may
 * be NULL): count tiered items, and free the deep record of a removed
 * deep item. Shard lock held. */
static inline void tier_note(warp_db *db, shard *sh, const item *added,
                             const item *removed)
{
    if (__builtin_expect(
            (added && item_tier(added)) || (removed && item_tier(removed)), 0))
        tier_note_slow(db, sh, added, removed);
}

/* Bring every value of `slot` back to event_horizon, for a slot image
 * (migrate.c). Shard `sh` owns the slot; its lock is held. Returns WARP_OK,
 * or WARP_ENOMEM / WARP_EIO / WARP_ECORRUPT (some values may be raw
 * already; nothing else changed). */
int tier_raw_slot(warp_db *db, shard *sh, uint32_t slot);

/* --- introspection -------------------------------------------------------- */

/* The tier name of `key`'s value ("event_horizon", "photon_sphere",
 * "deep_cache"), or "none" if the key does not exist. */
const char *tier_of_key(warp_db *db, const void *key, size_t klen);

/* The "tiers" JSON member of warp_metrics_json(), without a leading
 * comma: "tiers":{...}. */
void tier_metrics_json(warp_db *db, FILE *f);

#endif
