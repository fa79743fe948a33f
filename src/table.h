/*
 * table.h - the hash table of one slot: open addressing, lock-free reads,
 * incremental growth.
 *
 * Each of the WARP_SLOTS slots has its own table, so a slot can change
 * shards without moving a byte, and growth rehashes one slot's keys at a
 * time (a few dozen on average), never the whole store.
 *
 * Readers call table_find() inside an epoch section, without locks.
 * Everything else is for the one writer of the slot, which holds its
 * shard's lock. See table.c for the layout and the concurrency argument.
 */
#ifndef WARP_TABLE_H
#define WARP_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "item.h"
#include "mem.h"

typedef struct table {
    uint32_t cap;      /* entries */
    uint32_t used;     /* live + tombstones; writer only */
    uint32_t live;     /* live entries; writer only */
    uint32_t cursor;   /* while migrating out: next entry to move */
    uint32_t reserved; /* inserts promised by table_reserve(); writer only */
    _Atomic uint64_t next; /* the table replacing this one (a tref) */
    _Atomic uint64_t e[];  /* entries: see table.c */
} table;

/* A table reference (tref): the table's address in bits 0-47 and, when it
 * is below 65536, its capacity in bits 48-63, so that a lookup finds its
 * entry without first reading the table's header (one cache miss fewer).
 * 0 is no table. A slot's root is the tref of its oldest table in use. */
typedef _Atomic uint64_t table_root;

/* Called with tables the writer has finished migrating out of; the callee
 * must free them only when epoch-safe. It must not fail. */
typedef void (*table_retire_fn)(void *ctx, table *t);

typedef struct table_writer {
    mem *m;
    table_retire_fn retire;
    void *ctx;
    int64_t bytes_delta; /* table bytes allocated since the caller last
                          * took the count (negative: freed) */
    uint64_t growths;    /* migrations started */
} table_writer;

static inline size_t table_bytes(const table *t)
{
    return sizeof(table) + (size_t)t->cap * sizeof(uint64_t);
}

/* --- readers (no lock; inside an epoch section) --------------------------- */

/* The item stored under `key` (hash `h`), or NULL. */
const item *table_find(const table_root *root, uint64_t h, const void *key,
                       size_t klen);

/* Pipelined lookups for batches, each stage a step closer to the item:
 * prefetch the root table's header; the entry line `h` probes first; and
 * the first two lines of the first item whose fingerprint matches `h`. Hints
 * only: they read nothing that a later table_find() relies on.
 *
 * table_prefetch_item() returns that item (NULL if none): the key's item
 * when it was read, unless the fingerprint matched another key's. Inside an
 * epoch section, table_find_hinted() confirms it with one key compare
 * instead of probing again, and probes only if it was wrong. */
void table_prefetch_root(const table_root *root);
void table_prefetch(const table_root *root, uint64_t h);
const item *table_prefetch_item(const table_root *root, uint64_t h);

static inline const item *table_find_hinted(const table_root *root, uint64_t h,
                                            const void *key, size_t klen,
                                            const item *hint)
{
    if (hint && item_key_eq(hint, key, klen))
        return hint;
    return table_find(root, h, key, klen);
}

/* For a writer about to take its lock: prefetch the header and the entry
 * line it will need, so the two misses overlap each other and the lock. */
void table_prefetch_write(const table_root *root, uint64_t h);

/* --- the writer (holding the shard lock) -----------------------------------
 */

/* Reserve room for `n` more inserts, starting or finishing a migration as
 * needed, so that `n` calls to table_put() cannot fail, however long
 * after. Reservations add up; each table_put() consumes one, and
 * table_unreserve() returns unused ones. Returns 0, or -1 if an
 * allocation failed (then nothing changed). */
int table_reserve(table_writer *w, table_root *root, uint32_t n);

/* Give back `n` reservations that will not be used. */
void table_unreserve(table_root *root, uint32_t n);

/* Publish `it` under its key (hash `h`), replacing any item with an equal
 * key. Returns the replaced item (to retire) or NULL. Consumes one
 * reservation. */
item *table_put(table_writer *w, table_root *root, uint64_t h, item *it);

/* Put `nu` in the place of `old`, the item with the same key (hash `h`),
 * if `old` is still published: returns true, or false (nothing changed)
 * if the key holds another item or none. Never allocates and needs no
 * reservation (tier.c moves values between tiers with it). */
bool table_replace(table_root *root, uint64_t h, const item *old, item *nu);

/* Unlink the item with key `key` (hash `h`). Returns it (to retire), or
 * NULL if there is none. Never allocates. */
item *table_remove(table_writer *w, table_root *root, uint64_t h,
                   const void *key, size_t klen);

/* Call fn(ctx, item) for every live item; writer or quiescent only. */
void table_foreach(const table_root *root, void (*fn)(void *, const item *),
                   void *ctx);

/* Free every table of the slot; for close, with no readers. */
void table_destroy(mem *m, table_root *root);

/* The bytes of every table of the slot in use now (the root and, while it
 * migrates out, its successor). Writer or quiescent only. */
size_t table_root_bytes(const table_root *root);

#endif
