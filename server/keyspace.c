/*
 * keyspace.c - warpd's values in the engine: encoding, key stripes, and
 * the TTL index.
 *
 * VALUES (docs/FORMATS.md, "warpd values")
 *   Every value warpd stores is   flags:u8 [expire:u64 LE] string-bytes.
 *   flags bit 0 (VAL_F_EXPIRES) says an expiry, Unix ms, follows; the
 *   other bits are zero in this version, and a value with an unknown bit
 *   or too short for its header is not a warpd value (WD_ECORRUPT_VALUE).
 *   A store is warpd's once it holds the marker key WD_MARKER_KEY; warpd
 *   writes it into an empty store, and refuses a store that holds other
 *   keys but no marker unless started with `adopt yes`, which prefixes
 *   every value with a zero flags byte first. So in a store warpd opens,
 *   every value is encoded: the reading is never a guess.
 *
 * STRIPES
 *   A key hashes to one of WD_STRIPES stripes, each guarded by one of
 *   WD_LOCKS mutexes. Every command that writes a
 *   key holds its stripe's mutex across its read-modify-write, so INCR,
 *   APPEND, SET NX, ... are atomic against other writers of the key.
 *   Commands on several keys lock their stripes in ascending order. Reads
 *   (GET, MGET, ...) take no lock: they read the engine lock-free.
 *
 * THE TTL INDEX
 *   Each stripe holds an open-addressing table (linear probing, backward-
 *   shift deletion) of its keys that have an expiry, key -> expire ms,
 *   changed only under the stripe's lock, so it always matches the store.
 *   It is rebuilt with warp_foreach() at start. The active expiry cycle
 *   samples random entries from it, as Redis samples its expires dict.
 */
#include "keyspace.h"

#include "resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ttl_ent {
    char *key; /* NULL: empty */
    size_t klen;
    uint64_t hash;
    int64_t expire;
} ttl_ent;

typedef struct wd_stripe {
    ttl_ent *tab;
    uint32_t cap; /* power of two, or 0 */
    uint32_t count;
} __attribute__((aligned(64))) wd_stripe;

/* The mutexes: stripe s is guarded by locks[s % WD_LOCKS]. Fewer locks
 * than stripes bound what a multi-key command holds (ThreadSanitizer
 * tracks at most 64 held mutexes per thread, the engine's shard locks
 * included); with a few event loops, 32 keep collisions rare. */
#define WD_LOCKS 32
static pthread_mutex_t locks[WD_LOCKS];
static wd_stripe stripes[WD_STRIPES];
static _Atomic uint64_t ttl_keys;
static pthread_once_t stripes_once = PTHREAD_ONCE_INIT;

/* Adaptive: a lock is held for one command's engine calls, a few
 * microseconds, so a loop that finds it taken spins a little before it
 * sleeps, rather than paying a futex wait and wake-up. */
static void stripes_init(void)
{
    pthread_mutexattr_t attr;

    pthread_mutexattr_init(&attr);
    (void)pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    for (int i = 0; i < WD_LOCKS; i++)
        pthread_mutex_init(&locks[i], &attr);
    pthread_mutexattr_destroy(&attr);
}

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

static inline uint64_t load_le64(const char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | (uint8_t)p[i];
    return v;
}

static inline void store_le64(char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (char)(v >> (8 * i));
}

int value_decode(const char *raw, size_t rawlen, wd_value *v)
{
    uint8_t flags;

    if (rawlen < 1)
        return -1;
    flags = (uint8_t)raw[0];
    if (flags & ~VAL_F_KNOWN)
        return -1;
    v->raw = raw;
    v->rawlen = rawlen;
    v->expire = 0;
    if (flags & VAL_F_EXPIRES) {
        if (rawlen < 9)
            return -1;
        v->expire = (int64_t)load_le64(raw + 1);
        v->p = raw + 9;
        v->len = rawlen - 9;
    } else {
        v->p = raw + 1;
        v->len = rawlen - 1;
    }
    return 0;
}

bool key_reserved(const char *k, size_t klen)
{
    if (klen >= 2 && (uint8_t)k[0] == 0xff && (uint8_t)k[1] == 0xfe)
        return true;
    return klen == WD_MARKER_KLEN && memcmp(k, WD_MARKER_KEY, klen) == 0;
}

uint64_t key_hash(const char *k, size_t klen)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ klen;
    size_t i = 0;

    for (; i + 8 <= klen; i += 8) {
        uint64_t w;
        memcpy(&w, k + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    for (; i < klen; i++)
        h = (h ^ (uint8_t)k[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return h;
}

uint32_t key_stripe(const char *k, size_t klen)
{
    return (uint32_t)(key_hash(k, klen) & (WD_STRIPES - 1));
}

/* ------------------------------------------------------------------------ */
/* Stripes                                                                   */
/* ------------------------------------------------------------------------ */

void stripe_lock(uint32_t id)
{
    pthread_mutex_lock(&locks[id % WD_LOCKS]);
}

void stripe_unlock(uint32_t id)
{
    pthread_mutex_unlock(&locks[id % WD_LOCKS]);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

size_t stripes_lock_keys(wd_client *c, int first, int last, int step,
                         uint32_t *ids)
{
    size_t n = 0, m = 0;

    for (int i = first; i <= last; i += step)
        ids[n++] = key_stripe(c->argv[i], c->argvlen[i]) % WD_LOCKS;
    qsort(ids, n, sizeof *ids, cmp_u32);
    for (size_t i = 0; i < n; i++)
        if (m == 0 || ids[m - 1] != ids[i])
            ids[m++] = ids[i];
    for (size_t i = 0; i < m; i++)
        stripe_lock(ids[i]);
    return m;
}

void stripes_unlock(const uint32_t *ids, size_t n)
{
    while (n > 0)
        stripe_unlock(ids[--n]);
}

/* ------------------------------------------------------------------------ */
/* The TTL index (caller holds the stripe lock)                              */
/* ------------------------------------------------------------------------ */

static size_t ttl_find(wd_stripe *s, const char *k, size_t klen, uint64_t h)
{
    uint32_t mask = s->cap - 1;

    for (size_t i = (h >> 10) & mask;; i = (i + 1) & mask) {
        ttl_ent *e = &s->tab[i];
        if (!e->key)
            return i;
        if (e->hash == h && e->klen == klen && memcmp(e->key, k, klen) == 0)
            return i;
    }
}

static bool ttl_grow(wd_stripe *s)
{
    uint32_t ncap = s->cap ? s->cap * 2 : 8;
    ttl_ent *old = s->tab, *t = calloc(ncap, sizeof *t);
    uint32_t ocap = s->cap;

    if (!t)
        return false;
    s->tab = t;
    s->cap = ncap;
    for (uint32_t i = 0; i < ocap; i++)
        if (old[i].key)
            s->tab[ttl_find(s, old[i].key, old[i].klen, old[i].hash)] = old[i];
    free(old);
    return true;
}

/* Set or replace key's expiry. False when out of memory (index unchanged;
 * the value still holds its expiry, so lazy expiry still applies). */
static bool ttl_set(wd_stripe *s, const char *k, size_t klen, uint64_t h,
                    int64_t expire)
{
    size_t i;

    if ((s->count + 1) * 4 > s->cap * 3 && !ttl_grow(s))
        return false;
    i = ttl_find(s, k, klen, h);
    if (s->tab[i].key) {
        s->tab[i].expire = expire;
        return true;
    }
    char *copy = malloc(klen ? klen : 1);
    if (!copy)
        return false;
    memcpy(copy, k, klen);
    s->tab[i] = (ttl_ent){copy, klen, h, expire};
    s->count++;
    atomic_fetch_add_explicit(&ttl_keys, 1, memory_order_relaxed);
    return true;
}

static void ttl_remove_at(wd_stripe *s, size_t i)
{
    uint32_t mask = s->cap - 1;

    free(s->tab[i].key);
    s->tab[i].key = NULL;
    s->count--;
    atomic_fetch_sub_explicit(&ttl_keys, 1, memory_order_relaxed);
    /* Backward shift: move later entries of the run into the hole. */
    for (size_t j = (i + 1) & mask; s->tab[j].key; j = (j + 1) & mask) {
        size_t home = (s->tab[j].hash >> 10) & mask;
        bool between =
            i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (between)
            continue;
        s->tab[i] = s->tab[j];
        s->tab[j].key = NULL;
        i = j;
    }
}

static void ttl_remove(wd_stripe *s, const char *k, size_t klen, uint64_t h)
{
    size_t i;

    if (s->count == 0)
        return;
    i = ttl_find(s, k, klen, h);
    if (s->tab[i].key)
        ttl_remove_at(s, i);
}

int64_t ttl_of(const char *k, size_t klen)
{
    uint64_t h = key_hash(k, klen);
    uint32_t id = (uint32_t)(h & (WD_STRIPES - 1));
    wd_stripe *s = &stripes[id];
    int64_t expire = 0;

    stripe_lock(id);
    if (s->count) {
        size_t i = ttl_find(s, k, klen, h);
        if (s->tab[i].key)
            expire = s->tab[i].expire;
    }
    stripe_unlock(id);
    return expire;
}

size_t ttl_count(void)
{
    return atomic_load_explicit(&ttl_keys, memory_order_relaxed);
}

/* ------------------------------------------------------------------------ */
/* Reads and writes                                                          */
/* ------------------------------------------------------------------------ */

/* Read the stored bytes of k into rb. */
static int raw_get(wd_buf *rb, const char *k, size_t klen, size_t *rawlen)
{
    for (;;) {
        size_t vlen = 0;
        int rc = warp_get(server.db, k, klen, rb->p, rb->cap, &vlen, NULL);
        if (rc != WARP_ERANGE) {
            *rawlen = vlen;
            return rc;
        }
        if (!buf_reserve(rb, vlen))
            return WARP_ENOMEM;
    }
}

/* Delete k if it is still due (the stripe is locked). */
static int delete_due(const char *k, size_t klen, uint64_t h)
{
    int rc = warp_delete(server.db, k, klen);

    ttl_remove(&stripes[h & (WD_STRIPES - 1)], k, klen, h);
    return rc;
}

static int lookup_locked(wd_buf *rb, const char *k, size_t klen, wd_value *v,
                         wd_stats *st)
{
    size_t rawlen;
    int rc = raw_get(rb, k, klen, &rawlen);

    if (rc != WARP_OK)
        return rc;
    if (value_decode(rb->p, rawlen, v) != 0)
        return WD_ECORRUPT_VALUE;
    if (v->expire && (uint64_t)v->expire <= wd_now_ms()) {
        uint64_t h = key_hash(k, klen);
        delete_due(k, klen, h);
        if (st)
            STAT_ADD(st, expired, 1);
        return WARP_NOTFOUND;
    }
    return WARP_OK;
}

int kv_lookup_locked(wd_client *c, const char *k, size_t klen, wd_value *v)
{
    return lookup_locked(&c->loop->scratch, k, klen, v, &c->loop->stats);
}

int kv_lookup(wd_client *c, const char *k, size_t klen, wd_value *v)
{
    wd_buf *rb = &c->loop->scratch;
    size_t rawlen;
    int rc = raw_get(rb, k, klen, &rawlen);

    if (rc != WARP_OK)
        return rc;
    if (value_decode(rb->p, rawlen, v) != 0)
        return WD_ECORRUPT_VALUE;
    if (v->expire && (uint64_t)v->expire <= wd_now_ms()) {
        uint32_t s = key_stripe(k, klen);
        stripe_lock(s);
        rc = kv_lookup_locked(c, k, klen, v);
        stripe_unlock(s);
        return rc;
    }
    return WARP_OK;
}

char *kv_prepare(wd_client *c, int64_t expire, size_t len)
{
    wd_buf *w = &c->loop->wbuf;
    size_t hdr = expire ? 9 : 1;

    w->len = 0;
    if (!buf_reserve(w, hdr + len))
        return NULL;
    w->p[0] = expire ? VAL_F_EXPIRES : 0;
    if (expire)
        store_le64(w->p + 1, (uint64_t)expire);
    w->len = hdr + len;
    return w->p + hdr;
}

static void index_after_write(const char *k, size_t klen, int64_t expire)
{
    uint64_t h = key_hash(k, klen);
    wd_stripe *s = &stripes[h & (WD_STRIPES - 1)];

    if (expire)
        ttl_set(s, k, klen, h, expire);
    else
        ttl_remove(s, k, klen, h);
}

int kv_put_raw(wd_client *c, const char *k, size_t klen, const char *raw,
               size_t rawlen)
{
    wd_value v;
    int rc;

    if (value_decode(raw, rawlen, &v) != 0)
        return WD_ECORRUPT_VALUE;
    rc = warp_put(server.db, k, klen, raw, rawlen, NULL, NULL);
    if (rc == WARP_OK)
        index_after_write(k, klen, v.expire);
    return rc;
}

int kv_commit(wd_client *c, const char *k, size_t klen)
{
    wd_buf *w = &c->loop->wbuf;
    return kv_put_raw(c, k, klen, w->p, w->len);
}

int kv_delete(wd_client *c, const char *k, size_t klen)
{
    return delete_due(k, klen, key_hash(k, klen));
}

void add_engine_error(wd_client *c, int rc)
{
    switch (rc) {
    case WD_ECORRUPT_VALUE:
        add_error(c, "ERR stored value is not in warpd's format "
                     "(docs/FORMATS.md, warpd values)");
        break;
    case WARP_ENOMEM:
        add_error(c, "OOM the engine is out of memory");
        break;
    case WARP_EFULL:
        add_error(c, "OOM command not allowed when used memory > "
                     "'maxmemory'.");
        break;
    case WARP_ETOOBIG:
        add_error(c, "ERR key or value larger than the engine's "
                     "max_key_size / max_value_size");
        break;
    default:
        add_errorf(c, "ERR engine: %s", warp_strerror(rc));
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* Start: the marker, adoption, the TTL index                               */
/* ------------------------------------------------------------------------ */

typedef struct pair {
    char *k, *v;
    size_t klen, vlen;
} pair;

typedef struct load_ctx {
    pair *pairs; /* adopt: the plain pairs; index: the due keys */
    size_t n, cap;
    bool collect_values;
    bool first_only;
    uint64_t indexed;
    bool oom;
} load_ctx;

static bool push_pair(load_ctx *l, const void *k, size_t klen, const void *v,
                      size_t vlen)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        pair *p = realloc(l->pairs, cap * sizeof *p);
        if (!p)
            return false;
        l->pairs = p;
        l->cap = cap;
    }
    pair *p = &l->pairs[l->n];
    p->k = malloc(klen + 1);
    p->v = v ? malloc(vlen + 1) : NULL;
    if (!p->k || (v && !p->v)) {
        free(p->k);
        free(p->v);
        return false;
    }
    memcpy(p->k, k, klen);
    if (v)
        memcpy(p->v + 1, v, vlen); /* room for the flags byte */
    p->klen = klen;
    p->vlen = vlen;
    l->n++;
    return true;
}

static void free_pairs(load_ctx *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->pairs[i].k);
        free(l->pairs[i].v);
    }
    free(l->pairs);
    l->pairs = NULL;
    l->n = l->cap = 0;
}

static int collect_plain(void *ctx, const void *key, size_t klen,
                         const void *val, size_t vlen,
                         const warp_placement *where)
{
    load_ctx *l = ctx;

    if (key_reserved(key, klen))
        return 0;
    if (l->first_only) {
        l->n = 1;
        return 1;
    }
    if (!push_pair(l, key, klen, val, vlen)) {
        l->oom = true;
        return 1;
    }
    return 0;
}

static int adopt(load_ctx *l)
{
    warp_put_item *items;
    size_t done = 0;

    l->first_only = false;
    if (warp_foreach(server.db, collect_plain, l) != WARP_OK && l->oom)
        return WARP_ENOMEM;
    items = calloc(256, sizeof *items);
    if (!items)
        return WARP_ENOMEM;
    while (done < l->n) {
        size_t m = l->n - done < 256 ? l->n - done : 256;
        for (size_t i = 0; i < m; i++) {
            pair *p = &l->pairs[done + i];
            p->v[0] = 0; /* flags: a plain string */
            items[i] = (warp_put_item){
                .key = p->k, .klen = p->klen, .val = p->v, .vlen = p->vlen + 1};
        }
        int rc = warp_put_batch(server.db, items, m, NULL);
        if (rc != WARP_OK) {
            free(items);
            return rc;
        }
        done += m;
    }
    free(items);
    wd_log("adopted %zu plain values (each now has a flags byte)", l->n);
    return warp_sync(server.db);
}

static int index_ttl(void *ctx, const void *key, size_t klen, const void *val,
                     size_t vlen, const warp_placement *where)
{
    load_ctx *l = ctx;
    wd_value v;

    if (key_reserved(key, klen))
        return 0;
    if (value_decode(val, vlen, &v) != 0 || !v.expire)
        return 0;
    if ((uint64_t)v.expire <= wd_now_ms()) {
        if (!push_pair(l, key, klen, NULL, 0))
            l->oom = true;
        return 0;
    }
    uint64_t h = key_hash(key, klen);
    if (!ttl_set(&stripes[h & (WD_STRIPES - 1)], key, klen, h, v.expire))
        l->oom = true;
    l->indexed++;
    return 0;
}

int keyspace_load(void)
{
    load_ctx l = {0};
    int rc;

    pthread_once(&stripes_once, stripes_init);
    rc = warp_exists(server.db, WD_MARKER_KEY, WD_MARKER_KLEN);
    if (rc == WARP_NOTFOUND) {
        l.first_only = true;
        warp_foreach(server.db, collect_plain, &l);
        if (l.n > 0 && !server.cfg.adopt) {
            wd_log("the store in '%s' holds keys that warpd did not write "
                   "(no %s marker); start with `--adopt yes` to convert "
                   "them to warpd values (docs/FORMATS.md)",
                   server.cfg.dir, "warpd:format");
            return -1;
        }
        bool plain = l.n > 0;
        l.n = 0;
        if (plain) {
            rc = adopt(&l);
            free_pairs(&l);
            if (rc != WARP_OK) {
                wd_log("adopt: %s", warp_strerror(rc));
                return -1;
            }
        }
        rc = warp_put(server.db, WD_MARKER_KEY, WD_MARKER_KLEN, WD_MARKER_VALUE,
                      strlen(WD_MARKER_VALUE), NULL, NULL);
        if (rc != WARP_OK) {
            wd_log("writing the store marker: %s", warp_strerror(rc));
            return -1;
        }
    } else if (rc != WARP_OK) {
        wd_log("reading the store marker: %s", warp_strerror(rc));
        return -1;
    }
    l = (load_ctx){0};
    warp_foreach(server.db, index_ttl, &l);
    if (l.oom) {
        free_pairs(&l);
        wd_log("out of memory indexing expiries");
        return -1;
    }
    for (size_t i = 0; i < l.n; i++)
        warp_delete(server.db, l.pairs[i].k, l.pairs[i].klen);
    if (l.indexed || l.n)
        wd_log("%llu keys with an expiry; %zu expired while down, deleted",
               (unsigned long long)l.indexed, l.n);
    free_pairs(&l);
    return 0;
}

uint64_t keyspace_user_keys(void)
{
    warp_stats st;

    /* the engine's own keys (edge lists, series chunks) and the marker
     * are not the user's */
    if (warp_stats_get(server.db, &st) != WARP_OK ||
        st.keys <= st.internal_keys)
        return 0;
    return st.keys - st.internal_keys - 1;
}

void keyspace_free(void)
{
    for (int i = 0; i < WD_STRIPES; i++) {
        wd_stripe *s = &stripes[i];
        for (uint32_t j = 0; j < s->cap; j++)
            free(s->tab[j].key);
        free(s->tab);
        s->tab = NULL;
        s->cap = s->count = 0;
    }
    atomic_store(&ttl_keys, 0);
}

/* ------------------------------------------------------------------------ */
/* Active expiry                                                             */
/* ------------------------------------------------------------------------ */

/* Sample up to 20 entries of stripe s; delete the due ones. Returns the
 * number sampled and sets *deleted. */
static unsigned sample_stripe(wd_stripe *s, wd_buf *rb, unsigned *deleted,
                              uint64_t *rng)
{
    unsigned sampled = 0;
    uint64_t now = wd_now_ms();

    *deleted = 0;
    if (s->count == 0)
        return 0;
    for (int tries = 0; tries < 20 && s->count > 0; tries++) {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        size_t i = *rng & (s->cap - 1);
        while (!s->tab[i].key)
            i = (i + 1) & (s->cap - 1);
        sampled++;
        if ((uint64_t)s->tab[i].expire > now)
            continue;
        /* Due: delete it if its stored value agrees (it always should).
         * The entry's key is freed when the entry goes: work on a copy. */
        size_t klen = s->tab[i].klen;
        uint64_t h = s->tab[i].hash;
        char *k = malloc(klen ? klen : 1);
        if (!k)
            break;
        memcpy(k, s->tab[i].key, klen);
        wd_value v;
        int rc = lookup_locked(rb, k, klen, &v, NULL);
        if (rc == WARP_NOTFOUND) {
            (*deleted)++;
            ttl_remove(s, k, klen, h); /* if it was gone already */
        } else if (rc == WARP_OK && v.expire) {
            ttl_set(s, k, klen, h, v.expire); /* not due after all */
        } else {
            ttl_remove(s, k, klen, h); /* unreadable, or no expiry */
        }
        free(k);
    }
    return sampled;
}

uint64_t expire_cycle(uint64_t budget_ms)
{
    static uint32_t next; /* the stripe to start from; expiry thread only */
    static uint64_t rng = 0x2545F4914F6CDD1Dull;
    static wd_buf rb;
    uint64_t start = wd_mono_ms(), total = 0;

    if (ttl_count() == 0)
        return 0;
    for (int i = 0; i < WD_STRIPES; i++) {
        wd_stripe *s = &stripes[next];
        unsigned sampled, deleted;
        next = (next + 1) & (WD_STRIPES - 1);
        do {
            stripe_lock((uint32_t)(s - stripes));
            sampled = sample_stripe(s, &rb, &deleted, &rng);
            stripe_unlock((uint32_t)(s - stripes));
            total += deleted;
        } while (sampled && deleted * 4 > sampled &&
                 wd_mono_ms() - start < budget_ms);
        if ((i & 15) == 15 && wd_mono_ms() - start >= budget_ms)
            break;
    }
    return total;
}

/* ------------------------------------------------------------------------ */
/* MSET                                                                      */
/* ------------------------------------------------------------------------ */

int kv_mset(wd_client *c)
{
    size_t n = (size_t)(c->argc - 1) / 2, total = 0;
    warp_put_item *items = calloc(n, sizeof *items);
    wd_buf *w = &c->loop->wbuf;
    size_t failed;
    int rc;

    if (!items)
        return WARP_ENOMEM;
    for (size_t i = 0; i < n; i++)
        total += c->argvlen[2 + 2 * i] + 1;
    w->len = 0;
    if (!buf_reserve(w, total)) {
        free(items);
        return WARP_ENOMEM;
    }
    for (size_t i = 0, off = 0; i < n; i++) {
        int k = 1 + 2 * (int)i;
        size_t vlen = c->argvlen[k + 1];
        w->p[off] = 0; /* flags: no expiry */
        memcpy(w->p + off + 1, c->argv[k + 1], vlen);
        items[i] = (warp_put_item){.key = c->argv[k],
                                   .klen = c->argvlen[k],
                                   .val = w->p + off,
                                   .vlen = vlen + 1};
        off += vlen + 1;
    }
    rc = warp_put_batch(server.db, items, n, &failed);
    if (rc == WARP_OK)
        for (size_t i = 0; i < n; i++)
            index_after_write(items[i].key, items[i].klen, 0);
    free(items);
    return rc;
}
