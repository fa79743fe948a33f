/*
 * warp.c - the public API: argument checks, routing, and the read and write
 * paths over shards and slot tables.
 *
 * DATA PATH
 *   read:  hash -> slot -> that slot's table, inside an epoch section; no
 *          lock, no shared write. The item found is immutable, so the value
 *          is copied straight out of it.
 *   write: hash -> slot -> shard (slot table) -> shard lock -> reserve
 *          (limbo room, table room) -> allocate the item -> append to the
 *          shard's WAL (with a data directory) -> publish it -> retire the
 *          old one -> account -> unlock. Everything that can fail happens
 *          before the publish, so a failed write changes nothing. With
 *          fsync=always the publish waits: the write is queued on its
 *          shard, and the group commit's leader publishes it once its
 *          record is durable (persist.c).
 *   The slot table may change under a writer (a slot move, migrate.c),
 *   so a writer re-reads a slot's shard after locking it, and wop_apply()
 *   keeps each slot's key and byte counts, which moves and the physics
 *   engine read.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "entangle.h"
#include "epoch.h"
#include "mem.h"
#include "options.h"
#include "persist.h"
#include "physics.h"
#include "route.h"
#include "series.h"
#include "shard.h"
#include "slab.h"
#include "table.h"
#include "tier.h"
#include "wal.h"

/* --- names and codes ------------------------------------------------------ */

const char *warp_strerror(int rc)
{
    switch (rc) {
    case WARP_OK:
        return "success";
    case WARP_NOTFOUND:
        return "key not found";
    case WARP_EINVAL:
        return "invalid argument";
    case WARP_ENOMEM:
        return "out of memory";
    case WARP_ETOOBIG:
        return "key or value too large";
    case WARP_ERANGE:
        return "buffer too small";
    case WARP_ENOOPT:
        return "no such option";
    case WARP_EIO:
        return "I/O error";
    case WARP_ENOSPC:
        return "no space left on device";
    case WARP_EBUSY:
        return "data directory in use by another process";
    case WARP_ECORRUPT:
        return "data corrupted";
    case WARP_EFULL:
        return "memory budget exhausted (maxmemory): nothing more can be "
               "demoted";
    default:
        return "unknown error";
    }
}

static const char *const class_names[] = {"hot", "warm", "cold"};
static const char *const access_names[] = {"balanced", "hot", "warm", "cold"};
static const char *const priority_names[] = {"normal", "critical", "high",
                                             "low", "background"};

#define NAMES(a) (sizeof(a) / sizeof((a)[0]))

const char *warp_class_name(warp_class c)
{
    return (unsigned)c < NAMES(class_names) ? class_names[c] : "?";
}

const char *warp_access_pattern_name(warp_access_pattern a)
{
    return (unsigned)a < NAMES(access_names) ? access_names[a] : "?";
}

const char *warp_priority_name(warp_priority p)
{
    return (unsigned)p < NAMES(priority_names) ? priority_names[p] : "?";
}

static int parse_name(const char *s, const char *const *names, size_t n,
                      unsigned *out)
{
    if (!s)
        return WARP_EINVAL;
    for (unsigned i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return *out = i, WARP_OK;
    return WARP_EINVAL;
}

int warp_access_pattern_parse(const char *s, warp_access_pattern *out)
{
    unsigned v;
    int rc = out ? parse_name(s, access_names, NAMES(access_names), &v)
                 : WARP_EINVAL;
    if (rc == WARP_OK)
        *out = (warp_access_pattern)v;
    return rc;
}

int warp_priority_parse(const char *s, warp_priority *out)
{
    unsigned v;
    int rc = out ? parse_name(s, priority_names, NAMES(priority_names), &v)
                 : WARP_EINVAL;
    if (rc == WARP_OK)
        *out = (warp_priority)v;
    return rc;
}

warp_class warp_class_of(warp_access_pattern a, warp_priority p)
{
    switch (a) {
    case WARP_ACCESS_HOT:
        return WARP_CLASS_HOT;
    case WARP_ACCESS_WARM:
        return WARP_CLASS_WARM;
    case WARP_ACCESS_COLD:
        return WARP_CLASS_COLD;
    default:
        break;
    }
    switch (p) {
    case WARP_PRIORITY_CRITICAL:
    case WARP_PRIORITY_HIGH:
        return WARP_CLASS_HOT;
    case WARP_PRIORITY_LOW:
    case WARP_PRIORITY_BACKGROUND:
        return WARP_CLASS_COLD;
    default:
        return WARP_CLASS_WARM;
    }
}

/* --- open and close ------------------------------------------------------- */

/* Bytes for n shards, with room to align them to cache lines. */
static size_t shards_bytes(uint32_t n)
{
    return sizeof(shard) * n + 63;
}

int warp_open(const char *path, const warp_options *opts, warp_db **out)
{
    warp_options o;
    warp_db *db;
    mem m;
    uint32_t i = 0;
    int rc = WARP_ENOMEM;

    if (!out)
        return WARP_EINVAL;
    *out = NULL;
    persist_set_open_error("%s", "");
    if (opts)
        o = *opts;
    else
        warp_options_init(&o);
    if (warp_options_check(&o) != WARP_OK)
        return WARP_EINVAL;

    mem_init(&m, &o.allocator);
    if (!(db = mem_calloc(&m, sizeof(*db))))
        return WARP_ENOMEM;
    db->m = m;
    db->opts = o;
    if (path && (rc = persist_begin(db, path, &o.shards)))
        goto fail_persist;
    /* checked above, or by the manifest's reader */
    (void)rules_parse(db->opts.entanglement_rules, &db->rules);
    db->route.mode = db->opts.colocation;
    db->route.rules = &db->rules;
    rc = WARP_ENOMEM;
    db->opts.shards = o.shards;
    db->nshards = o.shards;
    if (page_pool_init(&db->pool, &db->m, o.huge_pages))
        goto fail_pool;
    if (!(db->shards_raw = mem_alloc(&db->m, shards_bytes(o.shards))))
        goto fail_shards;
    db->shards = (shard *)(((uintptr_t)db->shards_raw + 63) & ~(uintptr_t)63);
    for (i = 0; i < o.shards; i++)
        if (shard_init(&db->shards[i], i, &db->m, &db->pool))
            goto fail_shard_init;
    for (uint32_t s = 0; s < WARP_SLOTS; s++)
        atomic_init(&db->slot_shard[s],
                    (uint16_t)route_initial_shard(s, o.shards));
    if ((rc = tier_open(db, path))) {
        warp_close(db);
        return rc;
    }
    if (path && (rc = persist_recover(db))) {
        warp_close(db); /* frees what recovery loaded, and the directory */
        return rc;
    }
    if ((rc = entangle_open(db)) || (rc = physics_open(db, path))) {
        warp_close(db);
        return rc;
    }
    if ((rc = series_open(db)) || (rc = tier_start(db))) {
        warp_close(db);
        return rc;
    }
    *out = db;
    return WARP_OK;

fail_shard_init:
    while (i--)
        shard_destroy(&db->shards[i]);
    mem_free(&db->m, db->shards_raw, shards_bytes(o.shards));
fail_shards:
    page_pool_destroy(&db->pool);
fail_pool:
    if (path)
        persist_end(db);
fail_persist:
    m = db->m;
    mem_free(&m, db, sizeof(*db));
    return rc;
}

static void free_large_item(void *ctx, const item *it)
{
    warp_db *db = ctx;
    size_t size = item_size(it);

    if (slab_is_large(&db->shards[0].slab, size))
        mem_free(&db->m, (void *)it, size);
}

void warp_close(warp_db *db)
{
    mem m;

    if (!db)
        return;
    tier_stop(db);      /* first: it moves values */
    physics_close(db);  /* first: it may be moving slots */
    entangle_close(db); /* after: the physics thread learns edges */
    series_close(db);
    if (db->p)
        persist_end(db);
    for (uint32_t s = 0; s < WARP_SLOTS; s++) {
        table_foreach(&db->slots[s], free_large_item, db);
        table_destroy(&db->m, &db->slots[s]);
    }
    tier_close(db); /* after persist_end: a last checkpoint reads deep */
    for (uint32_t i = 0; i < db->nshards; i++)
        shard_destroy(&db->shards[i]);
    mem_free(&db->m, db->shards_raw, shards_bytes(db->nshards));
    page_pool_destroy(&db->pool);
    m = db->m;
    mem_free(&m, db, sizeof(*db));
}

int warp_sync(warp_db *db)
{
    if (!db)
        return WARP_EINVAL;
    return db->p ? persist_sync(db) : WARP_OK;
}

int warp_checkpoint(warp_db *db)
{
    if (!db || !db->p)
        return WARP_EINVAL;
    return persist_checkpoint(db);
}

int warp_recovery_get(warp_db *db, warp_recovery *r)
{
    if (!db || !r)
        return WARP_EINVAL;
    memset(r, 0, sizeof(*r));
    if (db->p)
        persist_recovery(db, r);
    return WARP_OK;
}

int warp_durability_get(warp_db *db, warp_durability *d)
{
    if (!db || !d)
        return WARP_EINVAL;
    memset(d, 0, sizeof(*d));
    if (db->p)
        persist_durability(db, d);
    return WARP_OK;
}

uint32_t warp_shard_count(const warp_db *db)
{
    return db ? db->nshards : 0;
}

/* --- routing and checks --------------------------------------------------- */

static inline uint32_t slot_shard(const warp_db *db, uint32_t slot)
{
    return db_slot_shard(db, slot);
}

/* Lock the shard that owns `slot` now. */
static shard *lock_slot(warp_db *db, uint32_t slot)
{
    for (;;) {
        uint32_t id = slot_shard(db, slot);
        shard *sh = &db->shards[id];
        pthread_mutex_lock(&sh->lock);
        if (slot_shard(db, slot) == id)
            return sh;
        pthread_mutex_unlock(&sh->lock); /* the slot moved meanwhile */
    }
}

static int check_key(const warp_db *db, const void *key, size_t klen)
{
    if (!db || (!key && klen))
        return WARP_EINVAL;
    return klen > db->opts.max_key_size ? WARP_ETOOBIG : WARP_OK;
}

static int check_put(const warp_db *db, const void *key, size_t klen,
                     const void *val, size_t vlen, const warp_put_options *po)
{
    int rc = check_key(db, key, klen);

    if (rc)
        return rc;
    if (!val && vlen)
        return WARP_EINVAL;
    if (po && ((unsigned)po->access_pattern > WARP_ACCESS_COLD ||
               (unsigned)po->priority > WARP_PRIORITY_BACKGROUND))
        return WARP_EINVAL;
    return vlen > db->opts.max_value_size ? WARP_ETOOBIG : WARP_OK;
}

static void fill_placement(const warp_db *db, uint32_t slot, unsigned access,
                           unsigned priority, warp_placement *w)
{
    w->shard = slot_shard(db, slot);
    w->slot = slot;
    w->access_pattern = (warp_access_pattern)access;
    w->priority = (warp_priority)priority;
    w->klass = warp_class_of(w->access_pattern, w->priority);
}

/* --- reads ---------------------------------------------------------------- */

/* Copy out what a lookup found; shared by get and batch get. A value in
 * a lower tier (photon_sphere, deep_cache) takes one branch to its
 * decoder. */
static int deliver(const warp_db *db, uint32_t slot, const item *it, void *buf,
                   size_t cap, size_t *vlen, warp_placement *where)
{
    if (!it)
        return WARP_NOTFOUND;
    if (vlen)
        *vlen = it->vlen;
    if (where)
        fill_placement(db, slot, item_access(it), item_priority(it), where);
    if (it->vlen > cap)
        return WARP_ERANGE;
    if (__builtin_expect(item_tier(it) != ITEM_RAW, 0))
        return tier_deliver((warp_db *)db, slot, it, buf);
    if (buf && it->vlen) /* no buffer (warp_exists()): cap 0, vlen 0 */
        memcpy(buf, item_val(it), it->vlen);
    return WARP_OK;
}

int db_deliver_value(warp_db *db, uint32_t slot, const item *it, void *buf)
{
    return deliver(db, slot, it, buf, it->vlen, NULL, NULL);
}

int warp_get(warp_db *db, const void *key, size_t klen, void *buf, size_t cap,
             size_t *vlen, warp_placement *where)
{
    int rc = check_key(db, key, klen);
    epoch_thread *et;

    if (rc)
        return rc;
    if (!buf && cap)
        return WARP_EINVAL;
    uint64_t h = route_hash(key, klen);
    uint32_t slot = db_key_slot(db, key, klen, h);
    if (!(et = epoch_enter()))
        return WARP_ENOMEM;
    rc = deliver(db, slot, table_find(&db->slots[slot], h, key, klen), buf, cap,
                 vlen, where);
    epoch_exit(et);
    physics_note(db, FACT_GET, slot, h);
    return rc;
}

int warp_get_alloc(warp_db *db, const void *key, size_t klen, void **val,
                   size_t *vlen, warp_placement *where)
{
    int rc = val ? check_key(db, key, klen) : WARP_EINVAL;
    epoch_thread *et;
    const item *it;
    char *buf = NULL;
    size_t n = 0;

    if (val)
        *val = NULL;
    if (rc)
        return rc;
    uint64_t h = route_hash(key, klen);
    uint32_t slot = db_key_slot(db, key, klen, h);
    if (!(et = epoch_enter()))
        return WARP_ENOMEM;
    /* one lookup: the item stays valid inside the epoch section */
    it = table_find(&db->slots[slot], h, key, klen);
    if (!it)
        rc = WARP_NOTFOUND;
    else if (!(buf = malloc((size_t)it->vlen + 1)))
        rc = WARP_ENOMEM;
    else
        rc = deliver(db, slot, it, buf, n = it->vlen, vlen, where);
    epoch_exit(et);
    physics_note(db, FACT_GET, slot, h);
    if (rc != WARP_OK) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *val = buf;
    return WARP_OK;
}

void warp_free(void *ptr)
{
    free(ptr);
}

int warp_exists(warp_db *db, const void *key, size_t klen)
{
    int rc = warp_get(db, key, klen, NULL, 0, NULL, NULL);

    return rc == WARP_ERANGE ? WARP_OK : rc; /* found, with a value */
}

/* Batch lookups go through the pipeline in groups of DB_GROUP keys:
 * prefetch the tables' headers, then the entries' lines, then the items,
 * then read. Each stage's loads overlap across the group. Batch get and
 * quantum get (entangle.c) share it. */
void db_prefetch_items(warp_db *db, size_t m, const uint64_t *h,
                       const uint32_t *sl, uint32_t live, const item **hint)
{
    for (size_t i = 0; i < m; i++)
        hint[i] =
            live >> i & 1 ? table_prefetch_item(&db->slots[sl[i]], h[i]) : NULL;
}

void db_find_group(warp_db *db, size_t m, const void *const *key,
                   const size_t *klen, const uint64_t *h, const uint32_t *sl,
                   uint32_t live, const item **found)
{
    assert(m <= DB_GROUP);
    for (size_t i = 0; i < m && !(live & DB_FIND_PREFETCHED); i++)
        if (live >> i & 1)
            table_prefetch_root(&db->slots[sl[i]]);
    for (size_t i = 0; i < m && !(live & DB_FIND_PREFETCHED); i++)
        if (live >> i & 1)
            table_prefetch(&db->slots[sl[i]], h[i]);
    if (!(live & DB_FIND_ITEMS))
        db_prefetch_items(db, m, h, sl, live, found);
    for (size_t i = 0; i < m; i++)
        found[i] = live >> i & 1 ? table_find_hinted(&db->slots[sl[i]], h[i],
                                                     key[i], klen[i], found[i])
                                 : NULL;
}

int warp_get_batch(warp_db *db, warp_get_item *items, size_t n)
{
    uint64_t h[DB_GROUP];
    uint32_t sl[DB_GROUP];
    const void *k[DB_GROUP];
    size_t kl[DB_GROUP];
    const item *it[DB_GROUP];
    epoch_thread *et;

    if (!db || (!items && n))
        return WARP_EINVAL;
    if (!(et = epoch_enter()))
        return WARP_ENOMEM;
    for (size_t base = 0; base < n; base += DB_GROUP) {
        warp_get_item *g = items + base;
        size_t m = n - base < DB_GROUP ? n - base : DB_GROUP;
        uint32_t live = 0;

        for (size_t i = 0; i < m; i++) {
            g[i].rc = check_key(db, g[i].key, g[i].klen);
            if (g[i].rc == WARP_OK && !g[i].buf && g[i].cap)
                g[i].rc = WARP_EINVAL;
            k[i] = g[i].key;
            kl[i] = g[i].klen;
            h[i] = g[i].rc == WARP_OK ? route_hash(k[i], kl[i]) : 0;
            sl[i] = g[i].rc == WARP_OK ? db_key_slot(db, k[i], kl[i], h[i])
                                       : route_slot(h[i]);
            live |= (uint32_t)(g[i].rc == WARP_OK) << i;
        }
        db_find_group(db, m, k, kl, h, sl, live, it);
        for (size_t i = 0; i < m; i++)
            if (g[i].rc == WARP_OK)
                g[i].rc = deliver(db, sl[i], it[i], g[i].buf, g[i].cap,
                                  &g[i].vlen, &g[i].where);
        physics_note_batch(db, h, sl, m, PHYS_BATCH_GET);
    }
    epoch_exit(et);
    return WARP_OK;
}

/* --- writes --------------------------------------------------------------- */

/* A write retires at most the item it replaces and three tables: one whose
 * migration table_reserve() finishes, one it grows out of at once (small
 * tables), and one whose migration the write's own step finishes (large
 * tables; exclusive with the second). */
#define RETIRES_PER_WRITE 4

/* One put or delete in flight, and what it holds. */
struct wop {
    uint8_t op; /* WAL_OP_PUT or WAL_OP_DEL */
    const void *key, *val;
    size_t klen, vlen;
    unsigned access, priority;
    uint64_t h;
    uint32_t slot, shard;
    size_t idx;         /* position in a batch */
    item *it;           /* a put's new item, allocated by wop_reserve() */
    const item *expect; /* a delete: only if the key holds this item */
    /* fsync=always: waiting for its group commit */
    uint64_t wal_seg, wal_end; /* where its record ends in the log */
    void *wal_ahead;           /* log to fault in once unlocked, or NULL */
    struct wop *next_pending;
    int rc;       /* set by db_settle() */
    bool existed; /* likewise */
};
typedef struct wop wop;

static void wop_init(const warp_db *db, wop *w, uint8_t op, const void *key,
                     size_t klen, const void *val, size_t vlen,
                     const warp_put_options *po)
{
    w->op = op;
    w->key = key;
    w->klen = klen;
    w->val = val;
    w->vlen = vlen;
    w->access = po ? (unsigned)po->access_pattern : WARP_ACCESS_BALANCED;
    w->priority = po ? (unsigned)po->priority : WARP_PRIORITY_NORMAL;
    w->h = route_hash(key, klen);
    w->slot = db_key_slot(db, key, klen, w->h);
    w->it = NULL;
    w->expect = NULL;
    w->rc = WARP_OK;
    w->existed = false;
}

/* Reserve all that applying `w` takes, so that wop_apply() cannot fail.
 * Shard lock held. Returns WARP_OK or WARP_ENOMEM, holding nothing. */
static int wop_reserve(warp_db *db, shard *sh, wop *w)
{
    if (shard_reserve_retire(sh, RETIRES_PER_WRITE))
        return WARP_ENOMEM;
    if (w->op == WAL_OP_DEL)
        return WARP_OK;
    if (table_reserve(&sh->tw, &db->slots[w->slot], 1))
        goto fail_retire;
    if (__builtin_expect(w->access == WARP_ACCESS_COLD, 0)) {
        /* the hint sends it straight to photon_sphere */
        if (!(w->it = tier_cold_item(db, sh, w->key, w->klen, w->val, w->vlen,
                                     w->access, w->priority)))
            goto fail_table;
        return WARP_OK;
    }
    if (!(w->it = slab_alloc(&sh->slab, item_size_for(w->klen, w->vlen))))
        goto fail_table;
    item_fill(w->it, w->key, w->klen, w->val, w->vlen, w->access, w->priority);
    return WARP_OK;

fail_table:
    table_unreserve(&db->slots[w->slot], 1);
fail_retire:
    shard_release_retire(sh, RETIRES_PER_WRITE);
    shard_account(sh, 0, 0, 0); /* a table may have grown */
    return WARP_ENOMEM;
}

/* Give back what an unapplied write holds. Shard lock held. */
static void wop_release(warp_db *db, shard *sh, wop *w)
{
    if (w->it) {
        table_unreserve(&db->slots[w->slot], 1);
        slab_free(&sh->slab, w->it, item_size(w->it));
        w->it = NULL;
    }
    shard_release_retire(sh, RETIRES_PER_WRITE);
    shard_account(sh, 0, 0, 0);
}

static void bump(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

/* Count `dk` keys and `dbytes` key + value bytes into the slot's figures.
 * Its shard's lock held: one writer, so a load and a store suffice. */
static void slot_account(warp_db *db, uint32_t slot, int64_t dk, int64_t dbytes)
{
    _Atomic uint32_t *k = &db->slot_keys[slot];
    _Atomic uint64_t *b = &db->slot_bytes[slot];

    if (dk)
        atomic_store_explicit(
            k, (uint32_t)(atomic_load_explicit(k, memory_order_relaxed) + dk),
            memory_order_relaxed);
    if (dbytes)
        atomic_store_explicit(
            b, atomic_load_explicit(b, memory_order_relaxed) + (uint64_t)dbytes,
            memory_order_relaxed);
}

/* Apply a reserved write to memory: publish or unlink, retire what it
 * replaces, count it. Returns whether the key existed. Shard lock held. */
static bool wop_apply(warp_db *db, shard *sh, wop *w)
{
    table_root *root = &db->slots[w->slot];
    const item *added = w->it;
    int64_t dk, dkb, dvb;
    item *old;

    if (w->op == WAL_OP_PUT) {
        if (__builtin_expect(w->klen > SYS_PREFIX_LEN &&
                                 *(const unsigned char *)w->key == 0xff,
                             0) &&
            db_is_edge_list(w->key, w->klen))
            db_mark_edges(db, w->slot);
        old = table_put(&sh->tw, root, w->h, w->it);
        dk = old ? 0 : 1;
        dkb = old ? 0 : (int64_t)w->klen;
        dvb = (int64_t)w->vlen - (old ? (int64_t)old->vlen : 0);
        bump(&sh->puts);
        w->it = NULL;
    } else {
        old = table_remove(&sh->tw, root, w->h, w->key, w->klen);
        dk = old ? -1 : 0;
        dkb = old ? -(int64_t)item_klen(old) : 0;
        dvb = old ? -(int64_t)old->vlen : 0;
        if (old)
            bump(&sh->deletes);
    }
    if (__builtin_expect(dk != 0 && db_is_sys_key(w->key, w->klen), 0))
        atomic_fetch_add_explicit(&db->sys_keys, dk, memory_order_relaxed);
    if (old)
        shard_retire_item(sh, old);
    tier_note(db, sh, added, old);
    shard_release_retire(sh, RETIRES_PER_WRITE);
    shard_account(sh, dk, dkb, dvb);
    slot_account(db, w->slot, dk, dkb + dvb);
    return old != NULL;
}

static bool durable_writes(const warp_db *db)
{
    return db->p && db->opts.fsync == WARP_FSYNC_ALWAYS;
}

/* fsync=always: a log that just left a segment behind synced it first, so
 * every write pending on the shard (all logged in that segment) is durable
 * now: apply it, whatever its group commit says later. Without this, a
 * failing group could report as failed a write that recovery will replay. */
static void settle_switched(warp_db *db, shard *sh, uint64_t switches)
{
    if (durable_writes(db) && sh->wal.switches != switches)
        db_settle(db, sh, WARP_OK);
}

/* Append `w` to its shard's log, if the store has one. */
static int wop_log(warp_db *db, shard *sh, wop *w)
{
    uint64_t switches = sh->wal.switches;
    int rc;

    w->wal_ahead = NULL;
    if (!db->p)
        return WARP_OK;
    rc =
        wal_append(&sh->wal, w->op, hints_pack(w->access, w->priority), w->key,
                   (uint32_t)w->klen, w->val, (uint32_t)w->vlen, &w->wal_ahead);
    settle_switched(db, sh, switches);
    w->wal_seg = sh->wal.seg;
    w->wal_end = sh->wal.off;
    return rc;
}

/* fsync=always: queue logged write `w` until its record is durable.
 * Shard lock held. */
static void pend(shard *sh, wop *w)
{
    w->next_pending = NULL;
    if (sh->pend_tail)
        sh->pend_tail->next_pending = w;
    else
        sh->pend_head = w;
    sh->pend_tail = w;
}

/* Durability is a prefix of each shard's log: a pending write is durable
 * once its record ends before the synced offset, or lies in a segment
 * left behind (which a switch syncs first). */
void db_settle(warp_db *db, shard *sh, int rc)
{
    uint64_t synced = atomic_load(&sh->wal.synced_off), seg = sh->wal.seg;
    wop *w;

    while ((w = sh->pend_head)) {
        bool durable = w->wal_seg < seg || w->wal_end <= synced;
        if (!durable && rc == WARP_OK)
            break;
        sh->pend_head = w->next_pending;
        if (!sh->pend_head)
            sh->pend_tail = NULL;
        w->rc = durable ? WARP_OK : rc;
        w->existed = durable && wop_apply(db, sh, w);
        if (!durable)
            wop_release(db, sh, w);
    }
}

/* fsync=always: whether a write to w's key is logged and waiting for its
 * group commit (not yet in the table). Shard lock held. */
static bool key_pending(const shard *sh, const wop *w)
{
    for (const wop *p = sh->pend_head; p; p = p->next_pending)
        if (p->h == w->h && p->klen == w->klen &&
            memcmp(p->key, w->key, w->klen) == 0)
            return true;
    return false;
}

/* Reserve, log, and apply one write; *existed says whether the key was
 * there. */
static int write_one(warp_db *db, wop *w, bool *existed)
{
    shard *sh;
    int rc;

    table_prefetch_write(&db->slots[w->slot], w->h);
    sh = lock_slot(db, w->slot);

    *existed = false;
    if (w->op == WAL_OP_DEL) {
        const item *cur =
            table_find(&db->slots[w->slot], w->h, w->key, w->klen);
        /* An expected item must still be the key's once this delete is
         * applied: a write logged before it and not yet applied (fsync=
         * always) replaces it first, and the delete would then remove
         * that write, acknowledged, and recovery would agree. */
        if (!cur || (w->expect && (cur != w->expect || key_pending(sh, w)))) {
            pthread_mutex_unlock(&sh->lock);
            return WARP_OK; /* nothing to delete, nothing to log */
        }
    }
    if ((rc = wop_reserve(db, sh, w)))
        goto out;
    if ((rc = wop_log(db, sh, w))) {
        wop_release(db, sh, w);
        goto out;
    }
    if (durable_writes(db)) { /* the commit's leader applies it */
        uint64_t commit = persist_commit_ticket(db);
        pend(sh, w);
        pthread_mutex_unlock(&sh->lock);
        persist_commit_wait(db, commit);
        *existed = w->existed;
        return w->rc;
    }
    *existed = wop_apply(db, sh, w);
out:
    pthread_mutex_unlock(&sh->lock);
    if (rc == WARP_OK)
        wal_fault_ahead(w->wal_ahead);
    return rc;
}

int warp_put(warp_db *db, const void *key, size_t klen, const void *val,
             size_t vlen, const warp_put_options *po, warp_placement *where)
{
    int rc = check_put(db, key, klen, val, vlen, po);
    bool existed;
    wop w;

    if (rc || (rc = tier_admit(db, item_size_for(klen, vlen), false)))
        return rc;
    wop_init(db, &w, WAL_OP_PUT, key, klen, val, vlen, po);
    rc = write_one(db, &w, &existed);
    if (rc == WARP_OK)
        physics_note(db, FACT_PUT, w.slot, w.h);
    if (rc == WARP_OK && where)
        fill_placement(db, w.slot, w.access, w.priority, where);
    return rc;
}

int warp_delete(warp_db *db, const void *key, size_t klen)
{
    int rc = check_key(db, key, klen);
    bool existed;
    wop w;

    if (rc)
        return rc;
    wop_init(db, &w, WAL_OP_DEL, key, klen, NULL, 0, NULL);
    rc = write_one(db, &w, &existed);
    if (rc == WARP_OK)
        physics_note(db, FACT_DEL, w.slot, w.h);
    return rc ? rc : existed ? WARP_OK : WARP_NOTFOUND;
}

int db_delete_item(warp_db *db, const void *key, size_t klen,
                   const item *expect)
{
    bool existed;
    wop w;
    int rc;

    wop_init(db, &w, WAL_OP_DEL, key, klen, NULL, 0, NULL);
    w.expect = expect;
    rc = write_one(db, &w, &existed);
    if (rc == WARP_OK)
        physics_note(db, FACT_DEL, w.slot, w.h);
    return rc ? rc : existed ? WARP_OK : WARP_NOTFOUND;
}

/* --- batch writes --------------------------------------------------------- */

/* A batch put sorts its writes by (shard, slot, index), so that it locks
 * each shard once, in ascending order (no deadlock between batches),
 * reserves each slot's room once, and applies a key's duplicates in order.
 * It reserves memory and log space for every item before it logs or
 * applies any: all or nothing. */
static int wop_cmp(const void *pa, const void *pb)
{
    const wop *a = pa, *b = pb;

    if (a->shard != b->shard)
        return a->shard < b->shard ? -1 : 1;
    if (a->slot != b->slot)
        return a->slot < b->slot ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Sort `v` and lock its shards. The slot table may change before the
 * locks are held; then unlock and route again. */
static void batch_lock(warp_db *db, wop *v, size_t n)
{
    for (;;) {
        bool moved = false;
        for (size_t i = 0; i < n; i++)
            v[i].shard = db_slot_shard(db, v[i].slot);
        qsort(v, n, sizeof(*v), wop_cmp);
        for (size_t i = 0; i < n; i++)
            if (i == 0 || v[i].shard != v[i - 1].shard)
                pthread_mutex_lock(&db->shards[v[i].shard].lock);
        for (size_t i = 0; i < n && !moved; i++)
            moved = db_slot_shard(db, v[i].slot) != v[i].shard;
        if (!moved)
            return;
        for (size_t i = 0; i < n; i++)
            if (i == 0 || v[i].shard != v[i - 1].shard)
                pthread_mutex_unlock(&db->shards[v[i].shard].lock);
    }
}

static void batch_unlock(warp_db *db, wop *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (i + 1 == n || v[i].shard != v[i + 1].shard)
            pthread_mutex_unlock(&db->shards[v[i].shard].lock);
}

/* The end of the run of v[i..n) with the same shard. */
static size_t shard_run(const wop *v, size_t i, size_t n)
{
    size_t j = i;
    while (j < n && v[j].shard == v[i].shard)
        j++;
    return j;
}

/* Reserve for every write and, with a log, the log space of each shard's
 * run. On failure releases everything and returns the error. */
static int batch_reserve(warp_db *db, wop *v, size_t n)
{
    size_t k;
    int rc = WARP_OK;

    for (k = 0; k < n; k++)
        if ((rc = wop_reserve(db, &db->shards[v[k].shard], &v[k])))
            break;
    for (size_t i = 0; rc == WARP_OK && db->p && i < n;) {
        size_t j = shard_run(v, i, n);
        uint64_t bytes = 0;
        shard *sh = &db->shards[v[i].shard];
        uint64_t switches = sh->wal.switches;
        for (size_t x = i; x < j; x++)
            bytes += wal_record_bytes(v[x].klen, v[x].vlen);
        rc = wal_reserve(&sh->wal, bytes);
        settle_switched(db, sh, switches);
        i = j;
    }
    if (rc)
        while (k--)
            wop_release(db, &db->shards[v[k].shard], &v[k]);
    return rc;
}

/* Log and apply a reserved batch; fsync=always waits for durability. */
static int batch_apply(warp_db *db, wop *v, size_t n)
{
    uint64_t commit;
    int rc = WARP_OK;

    /* the items the writes replace, whose keys wop_apply() compares: they
     * load while the records are logged */
    for (size_t k = 0; k < n; k++)
        if (v[k].op == WAL_OP_PUT)
            (void)table_prefetch_item(&db->slots[v[k].slot], v[k].h);
    for (size_t k = 0; k < n; k++) /* reserved: cannot fail */
        (void)wop_log(db, &db->shards[v[k].shard], &v[k]);
    if (!durable_writes(db)) {
        for (size_t k = 0; k < n; k++)
            wop_apply(db, &db->shards[v[k].shard], &v[k]);
        batch_unlock(db, v, n);
        for (size_t k = 0; k < n; k++)
            wal_fault_ahead(v[k].wal_ahead);
        return WARP_OK;
    }
    commit = persist_commit_ticket(db);
    for (size_t k = 0; k < n; k++)
        pend(&db->shards[v[k].shard], &v[k]);
    batch_unlock(db, v, n);
    persist_commit_wait(db, commit);
    for (size_t k = 0; k < n && rc == WARP_OK; k++)
        rc = v[k].rc;
    return rc;
}

int warp_put_batch(warp_db *db, warp_put_item *items, size_t n, size_t *failed)
{
    wop *v;
    int rc;

    if (failed)
        *failed = n;
    if (!db || (!items && n))
        return WARP_EINVAL;
    size_t need = 0;
    for (size_t i = 0; i < n; i++) {
        const warp_put_item *p = &items[i];
        rc = check_put(db, p->key, p->klen, p->val, p->vlen, p->opts);
        if (rc) {
            if (failed)
                *failed = i;
            return rc;
        }
        need += item_size_for(p->klen, p->vlen);
    }
    if (n == 0)
        return WARP_OK;
    if ((rc = tier_admit(db, need, false)))
        return rc;
    if (n > UINT32_MAX || !(v = mem_alloc(&db->m, n * sizeof(*v))))
        return WARP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        wop_init(db, &v[i], WAL_OP_PUT, items[i].key, items[i].klen,
                 items[i].val, items[i].vlen, items[i].opts);
        v[i].idx = i;
        /* each table's header and entry line: the misses of the batch
         * overlap each other and the locking */
        table_prefetch_write(&db->slots[v[i].slot], v[i].h);
    }
    batch_lock(db, v, n);
    rc = batch_reserve(db, v, n);
    if (rc == WARP_OK)
        rc = batch_apply(db, v, n);
    else
        batch_unlock(db, v, n);
    if (rc == WARP_OK)
        for (size_t i = 0; i < n; i++) {
            fill_placement(db, v[i].slot, v[i].access, v[i].priority,
                           &items[v[i].idx].where);
            physics_note(db, FACT_PUT, v[i].slot, v[i].h);
        }
    mem_free(&db->m, v, n * sizeof(*v));
    return rc;
}

/* --- memory-only writes, for recovery ------------------------------------- */

static int apply_direct(warp_db *db, wop *w)
{
    shard *sh = lock_slot(db, w->slot);
    int rc = wop_reserve(db, sh, w);

    if (rc == WARP_OK)
        wop_apply(db, sh, w);
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

int db_apply_put(warp_db *db, const void *key, uint32_t klen, const void *val,
                 uint32_t vlen, uint8_t hints)
{
    warp_put_options po = {.access_pattern = hints & 3u,
                           .priority = (hints >> 2) & 7u};
    wop w;

    if (po.priority > WARP_PRIORITY_BACKGROUND)
        po.priority = WARP_PRIORITY_NORMAL;
    (void)tier_admit(db, item_size_for(klen, vlen), true); /* demotes */
    wop_init(db, &w, WAL_OP_PUT, key, klen, val, vlen, &po);
    return apply_direct(db, &w);
}

int db_apply_del(warp_db *db, const void *key, uint32_t klen)
{
    wop w;

    wop_init(db, &w, WAL_OP_DEL, key, klen, NULL, 0, NULL);
    return apply_direct(db, &w);
}

/* --- introspection -------------------------------------------------------- */

static inline uint64_t ld(const _Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

int warp_shard_stats_get(warp_db *db, uint32_t id, warp_shard_stats *st)
{
    const shard *sh;

    if (!db || !st || id >= db->nshards)
        return WARP_EINVAL;
    sh = &db->shards[id];
    memset(st, 0, sizeof(*st));
    st->keys = ld(&sh->keys);
    st->key_bytes = ld(&sh->key_bytes);
    st->value_bytes = ld(&sh->value_bytes);
    st->memory_bytes = ld(&sh->mem_bytes);
    for (uint32_t s = 0; s < WARP_SLOTS; s++)
        st->slots += slot_shard(db, s) == id;
    return WARP_OK;
}

int warp_stats_get(warp_db *db, warp_stats *st)
{
    if (!db || !st)
        return WARP_EINVAL;
    memset(st, 0, sizeof(*st));
    st->shards = db->nshards;
    /* the store's fixed structures: the handle with its slot table */
    st->memory_bytes = sizeof(*db) + shards_bytes(db->nshards);
    for (uint32_t i = 0; i < db->nshards; i++) {
        const shard *sh = &db->shards[i];
        st->keys += ld(&sh->keys);
        st->key_bytes += ld(&sh->key_bytes);
        st->value_bytes += ld(&sh->value_bytes);
        st->memory_bytes += ld(&sh->mem_bytes);
        st->puts += ld(&sh->puts);
        st->deletes += ld(&sh->deletes);
        st->table_growths += ld(&sh->growths);
    }
    st->overhead_bytes = st->memory_bytes - st->key_bytes - st->value_bytes;
    int64_t sys = atomic_load_explicit(&db->sys_keys, memory_order_relaxed);
    st->internal_keys = sys > 0 ? (uint64_t)sys : 0;
    return WARP_OK;
}

int warp_locate(warp_db *db, const void *key, size_t klen,
                warp_placement *where)
{
    int rc = check_key(db, key, klen);

    if (rc || !where)
        return rc ? rc : WARP_EINVAL;
    fill_placement(db, db_key_slot(db, key, klen, route_hash(key, klen)),
                   WARP_ACCESS_BALANCED, WARP_PRIORITY_NORMAL, where);
    return WARP_OK;
}

bool db_key_placement(warp_db *db, const void *key, size_t klen,
                      warp_placement *where)
{
    uint64_t h = route_hash(key, klen);
    uint32_t slot = db_key_slot(db, key, klen, h);
    epoch_thread *et = epoch_enter();
    const item *it;

    if (!et)
        return false;
    it = table_find(&db->slots[slot], h, key, klen);
    if (it)
        fill_placement(db, slot, item_access(it), item_priority(it), where);
    epoch_exit(et);
    return it != NULL;
}

/* --- iteration ------------------------------------------------------------ */

/* A walk calls one of fn (pairs) and kfn (keys alone). */
typedef struct foreach_ctx {
    warp_db *db;
    uint32_t slot;
    warp_foreach_fn fn;
    warp_foreach_key_fn kfn;
    void *ctx;
    int rc;
    tier_buf buf; /* a tiered value, decoded */
} foreach_ctx;

static void foreach_item(void *arg, const item *it)
{
    foreach_ctx *f = arg;
    warp_placement where;
    const void *val = NULL;

    if (f->rc || (f->fn && (f->rc = tier_value(f->db, it, &f->buf, &val))))
        return;
    fill_placement(f->db, f->slot, item_access(it), item_priority(it), &where);
    f->rc =
        f->fn
            ? f->fn(f->ctx, item_key(it), item_klen(it), val, it->vlen, &where)
            : f->kfn(f->ctx, item_key(it), item_klen(it), it->vlen, &where);
}

static int foreach_run(foreach_ctx *f, uint32_t first)
{
    if (!f->db || first > WARP_SLOTS)
        return WARP_EINVAL;
    for (f->slot = first; f->slot < WARP_SLOTS && !f->rc; f->slot++) {
        shard *sh = lock_slot(f->db, f->slot);
        table_foreach(&f->db->slots[f->slot], foreach_item, f);
        pthread_mutex_unlock(&sh->lock);
    }
    tier_buf_free(&f->buf);
    return f->rc;
}

int warp_foreach(warp_db *db, warp_foreach_fn fn, void *ctx)
{
    return warp_foreach_from(db, 0, fn, ctx);
}

int warp_foreach_from(warp_db *db, uint32_t first, warp_foreach_fn fn,
                      void *ctx)
{
    foreach_ctx f = {.db = db, .fn = fn, .ctx = ctx};

    return fn ? foreach_run(&f, first) : WARP_EINVAL;
}

int warp_foreach_keys_from(warp_db *db, uint32_t first, warp_foreach_key_fn fn,
                           void *ctx)
{
    foreach_ctx f = {.db = db, .kfn = fn, .ctx = ctx};

    return fn ? foreach_run(&f, first) : WARP_EINVAL;
}
