/*
 * table.c - a slot's hash table: linear probing over 64-bit entries, with
 * lock-free readers and incremental growth.
 *
 * ENTRY LAYOUT (one 64-bit word)
 *   bits 48-63  fingerprint bits 3-18
 *   bits  3-47  item pointer (items are 8-byte aligned)
 *   bits  0-2   fingerprint bits 0-2
 *   0 is EMPTY, 1 is a TOMBSTONE; a live entry has a non-zero pointer.
 *
 * The fingerprint is 19 bits of the key's hash (route.h), disjoint from the
 * bits that pick the slot. It filters probes (a false match costs one key
 * compare in 2^19), and it alone decides an entry's home position,
 * fp * cap >> 19, so that a migration copies entries without touching
 * items or rehashing keys. Capacities are any integer >= 8 (not powers of
 * two): a table grows to hold its keys at 56% load and grows again at 80%.
 *
 * A single get therefore touches: the slot's root word (a 128 KiB array
 * that stays in cache), one entry line, and the item: one cache miss to
 * DRAM when the entries are cached, two when they are not.
 *
 * CONCURRENCY
 *   One writer per slot (it holds the shard lock); any number of readers,
 *   lock-free, inside epoch sections (epoch.h). Entries are written with
 *   release stores and read with acquire loads; items are immutable.
 *   - Insert fills an EMPTY or TOMBSTONE entry; overwrite swaps the pointer
 *     in place; delete writes a TOMBSTONE. A writer never writes EMPTY into
 *     a published table, so a reader's probe sequence is never cut short:
 *     a key present for the whole of a lookup is found.
 *   - Growth publishes a new table in `next`, then moves entries a batch at
 *     a time (MIGRATE_STEP per write; all at once when the table is small):
 *     each live entry is first inserted into `next`, then its old entry
 *     becomes a TOMBSTONE. When all are moved, the slot's root points to
 *     `next` and the old table is retired (freed when epoch-safe).
 *   - While a table has a `next`, writes go to `next`; a key is in exactly
 *     one of the two tables at any moment.
 *   - A reader probes the root table; on a miss it follows `next`. If the
 *     key moved while it probed, the reader saw the TOMBSTONE, which was
 *     stored after the insert into `next` (release/acquire), so its later
 *     probe of `next` finds the key. At most one migration per slot is in
 *     progress at a time, but a reader holding an old table may follow a
 *     chain of `next` pointers; all stay allocated until it leaves.
 */
#include "table.h"

#include <assert.h>
#include <string.h>

#define EMPTY        0u
#define TOMB         1u
#define PTR_BITS     0x0000FFFFFFFFFFF8ull
#define FP_BITS      19
#define SMALL_TABLE  4096 /* migrate tables up to this size in one go */
#define MIGRATE_STEP 256  /* entries moved per write otherwise */

static inline uint32_t fp_of_hash(uint64_t h)
{
    return (uint32_t)(h >> 31) & ((1u << FP_BITS) - 1);
}

static inline uint64_t fp_bits(uint32_t fp)
{
    return (uint64_t)(fp >> 3) << 48 | (fp & 7u);
}

static inline uint32_t fp_of_entry(uint64_t e)
{
    return (uint32_t)(e >> 48) << 3 | (uint32_t)(e & 7u);
}

static inline bool entry_live(uint64_t e)
{
    return (e & PTR_BITS) != 0;
}

static inline item *entry_item(uint64_t e)
{
    return (item *)(uintptr_t)(e & PTR_BITS);
}

static inline uint32_t home_cap(uint32_t cap, uint32_t fp)
{
    return (uint32_t)(((uint64_t)fp * cap) >> FP_BITS);
}

static inline uint32_t home(const table *t, uint32_t fp)
{
    return home_cap(t->cap, fp);
}

#define REF_PTR 0x0000FFFFFFFFFFFFull

static inline table *tref_table(uint64_t r)
{
    return (table *)(uintptr_t)(r & REF_PTR);
}

static inline uint32_t tref_cap(uint64_t r)
{
    uint32_t cap = (uint32_t)(r >> 48);
    return cap ? cap : tref_table(r)->cap;
}

static inline uint64_t tref_make(const table *t)
{
    uint64_t cap = t->cap < 65536 ? t->cap : 0;
    return cap << 48 | (uint64_t)(uintptr_t)t;
}

static inline uint64_t ld_ref(const _Atomic uint64_t *r)
{
    return atomic_load_explicit((_Atomic uint64_t *)r, memory_order_acquire);
}

static inline table *next_of(const table *t)
{
    return tref_table(ld_ref(&t->next));
}

static inline uint64_t ld(const table *t, uint32_t i)
{
    return atomic_load_explicit(&((table *)t)->e[i], memory_order_acquire);
}

static inline void st(table *t, uint32_t i, uint64_t e)
{
    atomic_store_explicit(&t->e[i], e, memory_order_release);
}

static inline uint32_t max_used(const table *t)
{
    return t->cap - t->cap / 5;
}

/* Position of `key` in `t` (of capacity `cap`), or -1. *entry receives
 * the entry as it was read: a reader must use that one value, since the
 * entry may change (move, tombstone) right after. */
static int64_t find_pos(const table *t, uint32_t cap, uint32_t fp,
                        const void *key, size_t klen, uint64_t *entry)
{
    const uint64_t want = fp_bits(fp);
    uint32_t i = home_cap(cap, fp);

    for (uint32_t n = 0; n < cap; n++) {
        uint64_t e = ld(t, i);
        if (e == EMPTY)
            return -1;
        if (((e ^ want) & ~PTR_BITS) == 0 && entry_live(e)) {
            __builtin_prefetch(entry_item(e), 0, 0);
            if (item_key_eq(entry_item(e), key, klen)) {
                *entry = e;
                return i;
            }
        }
        if (++i == cap)
            i = 0;
    }
    return -1;
}

const item *table_find(const table_root *root, uint64_t h, const void *key,
                       size_t klen)
{
    const uint32_t fp = fp_of_hash(h);

    for (uint64_t r = ld_ref(root); r; r = ld_ref(&tref_table(r)->next)) {
        uint64_t e;
        if (find_pos(tref_table(r), tref_cap(r), fp, key, klen, &e) >= 0)
            return entry_item(e);
    }
    return NULL;
}

void table_prefetch_root(const table_root *root)
{
    uint64_t r = ld_ref(root);

    if (r && !(r >> 48)) /* the capacity lives in the header */
        __builtin_prefetch(tref_table(r));
}

void table_prefetch_write(const table_root *root, uint64_t h)
{
    uint64_t r = ld_ref(root);

    if (r) {
        __builtin_prefetch(tref_table(r), 1);
        __builtin_prefetch(
            &tref_table(r)->e[home_cap(tref_cap(r), fp_of_hash(h))], 1);
    }
}

void table_prefetch(const table_root *root, uint64_t h)
{
    uint64_t r = ld_ref(root);

    if (r)
        __builtin_prefetch(
            &tref_table(r)->e[home_cap(tref_cap(r), fp_of_hash(h))]);
}

const item *table_prefetch_item(const table_root *root, uint64_t h)
{
    const uint32_t fp = fp_of_hash(h);
    const uint64_t want = fp_bits(fp);
    uint64_t r = ld_ref(root);

    if (!r)
        return NULL;
    const table *t = tref_table(r);
    uint32_t cap = tref_cap(r);
    for (uint32_t i = home_cap(cap, fp), n = 0; n < 8 && i < cap; i++, n++) {
        uint64_t e = ld(t, i);
        if (e == EMPTY)
            return NULL;
        if (((e ^ want) & ~PTR_BITS) == 0 && entry_live(e)) {
            /* the header and key, and the line after: most values of
             * ~100 bytes end there, so copying one waits for nothing */
            __builtin_prefetch(entry_item(e));
            __builtin_prefetch((const char *)entry_item(e) + 64);
            return entry_item(e);
        }
    }
    return NULL;
}

/* --- writer --------------------------------------------------------------- */

static size_t bytes_for(uint64_t cap)
{
    return sizeof(table) + (size_t)cap * sizeof(uint64_t);
}

/* The capacity for `keys` keys at 56% load. */
static uint32_t cap_for(uint64_t keys)
{
    uint64_t cap = keys * 16 / 9 + 1;
    if (cap < 8)
        cap = 8;
    if (cap > UINT32_MAX / 2)
        return UINT32_MAX / 2;
    return (uint32_t)cap;
}

static table *table_new(table_writer *w, uint32_t cap)
{
    table *t = mem_alloc(w->m, bytes_for(cap));

    if (!t)
        return NULL;
    w->bytes_delta += (int64_t)bytes_for(cap);
    memset(t, 0, bytes_for(cap));
    t->cap = cap;
    return t;
}

/* Store entry `e`, whose key is not in `t`, at its first free position. */
static void insert_entry(table *t, uint64_t e)
{
    uint32_t i = home(t, fp_of_entry(e));

    assert(t->used < t->cap);
    for (;;) {
        uint64_t cur = ld(t, i);
        if (!entry_live(cur)) {
            if (cur == EMPTY)
                t->used++;
            t->live++;
            st(t, i, e);
            return;
        }
        if (++i == t->cap)
            i = 0;
    }
}

/* Move entries [cursor, cursor + budget) of root table `t` to t->next;
 * when none are left, make t->next the root and retire `t`. */
static void migrate(table_writer *w, table_root *root, table *t,
                    uint32_t budget)
{
    table *nx = next_of(t);
    uint32_t end = t->cap - t->cursor > budget ? t->cursor + budget : t->cap;

    for (uint32_t i = t->cursor; i < end; i++) {
        uint64_t e = ld(t, i);
        if (entry_live(e)) {
            insert_entry(nx, e);
            st(t, i, TOMB);
            t->live--;
        }
    }
    t->cursor = end;
    if (end == t->cap) {
        assert(t->live == 0);
        atomic_store_explicit(root, tref_make(nx), memory_order_release);
        w->retire(w->ctx, t);
    }
}

/* The table that receives inserts: the root, or its successor while the
 * root is migrating out. */
static table *newest(table *t)
{
    table *nx = next_of(t);
    return nx ? nx : t;
}

int table_reserve(table_writer *w, table_root *root, uint32_t n)
{
    table *t = tref_table(ld_ref(root)), *nx;
    uint32_t reserved;

    if (!t) {
        t = table_new(w, cap_for(n));
        if (!t)
            return -1;
        t->reserved = n;
        atomic_store_explicit(root, tref_make(t), memory_order_release);
        return 0;
    }
    nx = next_of(t);
    if (nx) {
        /* entries still to move will land in nx too */
        if (nx->used + (uint64_t)t->live + nx->reserved + n <= max_used(nx))
            goto reserve;
        migrate(w, root, t, UINT32_MAX); /* finish it; nx becomes root */
        t = nx;
    }
    if (t->used + (uint64_t)t->reserved + n <= max_used(t))
        goto reserve;
    reserved = t->reserved;
    nx = table_new(w, cap_for((uint64_t)t->live + reserved + n));
    if (!nx)
        return -1;
    w->growths++;
    nx->reserved = reserved;
    t->reserved = 0;
    atomic_store_explicit(&t->next, tref_make(nx), memory_order_release);
    if (t->cap <= SMALL_TABLE)
        migrate(w, root, t, UINT32_MAX);
reserve:
    newest(tref_table(ld_ref(root)))->reserved += n;
    return 0;
}

void table_unreserve(table_root *root, uint32_t n)
{
    table *t = newest(tref_table(ld_ref(root)));

    assert(t->reserved >= n);
    t->reserved -= n;
}

item *table_put(table_writer *w, table_root *root, uint64_t h, item *it)
{
    const uint32_t fp = fp_of_hash(h);
    const uint64_t e = fp_bits(fp) | (uint64_t)(uintptr_t)it;
    table *t = tref_table(ld_ref(root));
    table *nx = next_of(t);
    uint64_t found;
    int64_t p = find_pos(t, t->cap, fp, item_key(it), item_klen(it), &found);
    item *old = NULL;

    assert(((uintptr_t)it & ~PTR_BITS) == 0);
    assert(newest(t)->reserved > 0);
    newest(t)->reserved--;
    if (!nx) {
        if (p >= 0) {
            old = entry_item(found);
            st(t, (uint32_t)p, e);
        } else {
            insert_entry(t, e);
        }
        return old;
    }
    if (p >= 0) { /* move the key to nx as we overwrite it */
        old = entry_item(found);
        insert_entry(nx, e);
        st(t, (uint32_t)p, TOMB);
        t->live--;
    } else {
        int64_t q =
            find_pos(nx, nx->cap, fp, item_key(it), item_klen(it), &found);
        if (q >= 0) {
            old = entry_item(found);
            st(nx, (uint32_t)q, e);
        } else {
            insert_entry(nx, e);
        }
    }
    migrate(w, root, t, MIGRATE_STEP);
    return old;
}

bool table_replace(table_root *root, uint64_t h, const item *old, item *nu)
{
    const uint32_t fp = fp_of_hash(h);

    assert(((uintptr_t)nu & ~PTR_BITS) == 0);
    for (table *t = tref_table(ld_ref(root)); t; t = next_of(t)) {
        uint64_t found;
        int64_t p =
            find_pos(t, t->cap, fp, item_key(old), item_klen(old), &found);
        if (p >= 0) {
            if (entry_item(found) != old)
                return false;
            st(t, (uint32_t)p, fp_bits(fp) | (uint64_t)(uintptr_t)nu);
            return true;
        }
    }
    return false;
}

item *table_remove(table_writer *w, table_root *root, uint64_t h,
                   const void *key, size_t klen)
{
    const uint32_t fp = fp_of_hash(h);
    table *t = tref_table(ld_ref(root));
    item *old = NULL;

    for (table *c = t; c && !old; c = next_of(c)) {
        uint64_t found;
        int64_t p = find_pos(c, c->cap, fp, key, klen, &found);
        if (p >= 0) {
            old = entry_item(found);
            st(c, (uint32_t)p, TOMB);
            c->live--;
        }
    }
    if (t && next_of(t))
        migrate(w, root, t, MIGRATE_STEP);
    return old;
}

void table_foreach(const table_root *root, void (*fn)(void *, const item *),
                   void *ctx)
{
    for (const table *t = tref_table(ld_ref(root)); t; t = next_of(t))
        for (uint32_t i = 0; i < t->cap; i++) {
            uint64_t e = ld(t, i);
            if (entry_live(e))
                fn(ctx, entry_item(e));
        }
}

size_t table_root_bytes(const table_root *root)
{
    size_t n = 0;

    for (const table *t = tref_table(ld_ref(root)); t; t = next_of(t))
        n += table_bytes(t);
    return n;
}

void table_destroy(mem *m, table_root *root)
{
    table *t = tref_table(ld_ref(root)), *next;

    for (; t; t = next) {
        next = next_of(t);
        mem_free(m, t, table_bytes(t));
    }
    atomic_store(root, 0);
}
