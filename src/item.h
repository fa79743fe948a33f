/*
 * item.h - one key-value pair, as it lives in memory.
 *
 *   offset  size  field
 *   0       4     vlen   value length in bytes
 *   4       4     meta   bits 0-23 key length, 24-25 access pattern,
 *                        26-28 priority, 29-31 reserved (0)
 *   8       klen  key bytes
 *   8+klen  vlen  value bytes
 *
 * Items are immutable once published in a table: an overwrite publishes a
 * new item and retires the old one (epoch.h), so a reader that found an
 * item may copy it without any lock.
 */
#ifndef WARP_ITEM_H
#define WARP_ITEM_H

#include <stdint.h>
#include <string.h>

#define ITEM_KEY_MAX 0xFFFFFFu

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

static inline size_t item_size(const item *it)
{
    return item_size_for(item_klen(it), it->vlen);
}

static inline int item_key_eq(const item *it, const void *key, size_t klen)
{
    return item_klen(it) == klen && (!klen || memcmp(it->data, key, klen) == 0);
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
