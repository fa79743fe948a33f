/*
 * route.h - where a key goes: key -> 64-bit hash -> slot -> shard.
 *
 *   hash  XXH3-64 of the key bytes
 *   slot  the top 14 bits of the hash (WARP_SLOTS = 16384 slots)
 *   fp    bits 31-49, the table fingerprint (table.c)
 *   shard slot_shard[slot], the slot table, which rebalancing may change
 *
 * The bit ranges are disjoint, so keys in one slot still spread evenly
 * over that slot's table.
 */
#ifndef WARP_ROUTE_H
#define WARP_ROUTE_H

#include <stdint.h>
#define XXH_INLINE_ALL /* XXH3 inlined into the hot path */
#include <xxhash.h>

#include "warp.h"

_Static_assert(WARP_SLOTS == 1 << 14, "route_slot takes 14 bits");

static inline uint64_t route_hash(const void *key, size_t klen)
{
    return XXH3_64bits(klen ? key : "", klen);
}

static inline uint32_t route_slot(uint64_t h)
{
    return (uint32_t)(h >> 50);
}

/* The slot table's initial map: contiguous slot ranges of equal size. */
static inline uint32_t route_initial_shard(uint32_t slot, uint32_t shards)
{
    return (uint32_t)((uint64_t)slot * shards / WARP_SLOTS);
}

#endif
