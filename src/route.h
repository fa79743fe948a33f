/*
 * route.h - where a key goes: key -> 64-bit hash -> slot -> shard.
 *
 *   hash  XXH3-64 of the key bytes
 *   slot  the top 14 bits of the hash (WARP_SLOTS = 16384 slots)
 *   fp    bits 31-49, the table fingerprint (table.c)
 *   shard slot_shard[slot], the slot table, which rebalancing may change
 *
 * Co-location (the `colocation` option): a key's slot comes from its
 * routing id instead of from the whole key when it has one: the bytes
 * inside its first {...} if non-empty (Redis's hash tags), else, for a key
 * an entanglement rule names, the id after its first ':' (rules.h). So
 * user:42, profile:42 and {user42}.cart share a slot as designed, while
 * the table fingerprint still comes from the whole key's hash.
 *
 * The bit ranges are disjoint, so keys in one slot still spread evenly
 * over that slot's table.
 */
#ifndef WARP_ROUTE_H
#define WARP_ROUTE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#define XXH_INLINE_ALL /* XXH3 inlined into the hot path */
#include <xxhash.h>

#include "rules.h"
#include "warp.h"

typedef struct route_cfg {
    warp_colocation mode;
    const rules *rules; /* parsed entanglement_rules */
} route_cfg;

_Static_assert(WARP_SLOTS == 1 << 14, "route_slot takes 14 bits");

static inline uint64_t route_hash(const void *key, size_t klen)
{
    return XXH3_64bits(klen ? key : "", klen);
}

static inline uint32_t route_slot(uint64_t h)
{
    return (uint32_t)(h >> 50);
}

/* The routing id of `key`: its hash tag or its rule id. Returns false
 * (and the whole key is the id) if it has neither or `mode` ignores them. */
static inline bool route_id(const route_cfg *c, const void *key, size_t klen,
                            const void **id, size_t *id_len)
{
    if ((c->mode & WARP_COLOCATE_TAGS) && klen > 2) {
        const char *k = key, *open = memchr(k, '{', klen), *close;
        if (open &&
            (close = memchr(open + 1, '}', klen - (size_t)(open + 1 - k))) &&
            close > open + 1) {
            *id = open + 1;
            *id_len = (size_t)(close - open - 1);
            return true;
        }
    }
    return (c->mode & WARP_COLOCATE_RULES) &&
           rules_id(c->rules, key, klen, id, id_len);
}

/* The slot of `key`, whose hash is `h`. */
static inline uint32_t route_key_slot(const route_cfg *c, const void *key,
                                      size_t klen, uint64_t h)
{
    const void *id;
    size_t n;

    if (c->mode != WARP_COLOCATE_NONE && route_id(c, key, klen, &id, &n))
        return route_slot(route_hash(id, n));
    return route_slot(h);
}

/* The slot table's initial map: contiguous slot ranges of equal size. */
static inline uint32_t route_initial_shard(uint32_t slot, uint32_t shards)
{
    return (uint32_t)((uint64_t)slot * shards / WARP_SLOTS);
}

#endif
