/*
 * item.h - one key-value pair, as it lives in memory.
 *
 *   offset  size  field
 *   0       4     vlen   value length in bytes (the raw value's, in every
 *                        tier)
 *   4       4     meta   bits 0-23 key length, 24-25 access pattern,
 *                        26-28 priority, 29-30 tier, 31 reserved (0)
 *   8       klen  key bytes
 *   8+klen  ...   the value, as its tier stores it (tier.h):
 *     ITEM_RAW     (event_horizon)  vlen value bytes
 *     ITEM_PACKED  (photon_sphere)  4 bytes stored length n, 1 byte codec,
 *                                   then n bytes (compressed, or stored)
 *     ITEM_DEEP    (deep_cache)     ITEM_LOCATOR bytes: where the value
 *                                   is on disk (deep.h)
 *
 * Items are immutable once published in a table: an overwrite publishes a
 * new item and retires the old one (epoch.h), so a reader that found an
 * item may copy it without any lock. Moving a value between tiers is an
 * overwrite too: a new item with the same key and hints (tier.c).
 *
 * item_val() is the bytes as stored: the value itself only for ITEM_RAW.
 * Code that needs a tiered item's value calls tier_value() or
 * tier_copy_value() (tier.h).
 */
#ifndef WARP_ITEM_H
#define WARP_ITEM_H

#include <stdint.h>
#include <string.h>

#include "bytes.h"

#define ITEM_KEY_MAX 0xFFFFFFu

/* Tiers, in meta bits 29-30. */
#define ITEM_TIER_SHIFT 29
#define ITEM_TIER_MASK  (3u << ITEM_TIER_SHIFT)
enum { ITEM_RAW = 0, ITEM_PACKED = 1, ITEM_DEEP = 2 };
#define ITEM_PACK_HEADER 5  /* a packed value's length and codec */
#define ITEM_LOCATOR     16 /* a deep value's locator */

typedef struct item {
    uint32_t vlen;
    uint32_t meta;
    unsigned char data[];
} item;

static inline uint32_t item_klen(const item *it)
{
    return it->meta & ITEM_KEY_MAX;
}

static inline unsigned item_access(const item *it)
{
    return (it->meta >> 24) & 3u;
}

static inline unsigned item_priority(const item *it)
{
    return (it->meta >> 26) & 7u;
}

/* The item's tier: ITEM_RAW, ITEM_PACKED or ITEM_DEEP. */
static inline unsigned item_tier(const item *it)
{
    return (it->meta >> ITEM_TIER_SHIFT) & 3u;
}

static inline const unsigned char *item_key(const item *it)
{
    return it->data;
}

static inline const unsigned char *item_val(const item *it)
{
    return it->data + item_klen(it);
}

static inline size_t item_size_for(size_t klen, size_t vlen)
{
    return sizeof(item) + klen + vlen;
}

/* The bytes a packed item stores after its header. */
static inline uint32_t item_packed_len(const item *it)
{
    uint32_t n;

    memcpy(&n, item_val(it), sizeof(n));
    return n;
}

/* The size of the item's memory, whatever its tier. */
static inline size_t item_size(const item *it)
{
    switch (item_tier(it)) {
    case ITEM_PACKED:
        return item_size_for(item_klen(it),
                             ITEM_PACK_HEADER + (size_t)item_packed_len(it));
    case ITEM_DEEP:
        return item_size_for(item_klen(it), ITEM_LOCATOR);
    default:
        return item_size_for(item_klen(it), it->vlen);
    }
}

static inline int item_key_eq(const item *it, const void *key, size_t klen)
{
    return item_klen(it) == klen && bytes_eq(it->data, key, klen);
}

/* Fill a freshly allocated item. */
static inline void item_fill(item *it, const void *key, size_t klen,
                             const void *val, size_t vlen, unsigned access,
                             unsigned priority)
{
    it->vlen = (uint32_t)vlen;
    it->meta = (uint32_t)klen | (access & 3u) << 24 | (priority & 7u) << 26;
    if (klen)
        memcpy(it->data, key, klen);
    if (vlen)
        memcpy(it->data + klen, val, vlen);
}

#endif
