/*
 * series.c - time series: samples (int64 ms timestamp, double) per named
 * series, stored in chunks under the engine's own keys, with an in-memory
 * index per series. Upstream's temporal shards (upstream-features.md
 * §2.6), wired into the engine this time. API: warp.h, "Time series".
 *
 * RECORDS (docs/FORMATS.md, "Time series records"; little-endian)
 *   Series `name` owns the keys  SYS_PREFIX 't' name 0x00 <id: 8 bytes,
 *   big-endian>  (db.h). They are all routed by `name`, so they share one
 *   slot, hence one shard and one WAL, which replays them in the order
 *   they were written. They are written with warp_put() and warp_delete(),
 *   so they go through the WAL, snapshots, dump and load like any pair.
 *     id 2^64-1     the meta record, 32 bytes: u8 version (1), u8 0,
 *                   u16 0, u32 0, i64 retention_ms, u64 tail (the newest
 *                   chunk's id), u64 garbage (the newest chunk of a chain
 *                   being deleted); NONE (2^64-1) for no chunk
 *     id 0..2^64-2  a chunk: u8 version (1), u8 0, u16 count (1..64),
 *                   u32 0, u64 prev (the id of the chunk before it in
 *                   time, or NONE), then count x (i64 ts, f64 value), ts
 *                   rising strictly
 *   The chunks form a chain from the tail back through `prev`, each one
 *   wholly older than the one that points to it. A chain keeps the meta
 *   record small and constant: adding a chunk rewrites one small record,
 *   not a list of them all.
 *
 * THE INDEX
 *   Per series, in memory: the chunks in time order with each one's id,
 *   first and last timestamp, count, sum, min and max (an aggregate over
 *   whole chunks reads no sample), the latest sample, the retention and
 *   the largest chunk id. It is built on the first access after open by
 *   walking the chain (one read per chunk), and kept up to date by every
 *   change. Entries are never freed before warp_close().
 *
 * LOCKS
 *   Series are found through a lock-striped hash table: STRIPES stripes,
 *   each a mutex over a chained table, held only for the lookup. Each
 *   series has its own rwlock: adds, retention changes and deletes hold it
 *   for writing, reads for reading, across every record they touch. So
 *   adds to different series never wait for each other (beyond warp_put's
 *   brief shard lock when their slots share a shard), and the operations
 *   on one series are linearizable. Order: series lock, then the engine's
 *   shard locks (inside warp_put); never the other way round.
 *
 * WRITES
 *   Every change ends with one write that commits it: before it, the
 *   records describe the old state (plus, at most, one unreachable new
 *   chunk, or a drop of invisible samples the loader completes); after
 *   it, the new state. A new chunk takes id = largest live id + 1, so an
 *   unreachable one left by a crash or a failed write has the id the
 *   loader probes and deletes.
 *   - insert or replace in a chunk with room: rewrite it (the commit);
 *   - a full chunk does not grow. Past the newest chunk: write a new chunk
 *     N pointing back at it, commit with meta.tail = N. Past a chunk C
 *     with a newer full chunk D after it (or before the first chunk, D):
 *     the sample goes to D's front if D has room; otherwise write N
 *     pointing back at C (or at nothing), commit by rewriting D to point
 *     back at N. Inside a full chunk A: split it; write its lower half as
 *     N pointing back where A did, commit by rewriting A as the upper
 *     half pointing back at N;
 *   - drop the k oldest chunks (retention): set meta.garbage to the
 *     newest of them, commit by rewriting the oldest kept chunk to point
 *     back at nothing, delete the dropped chunks oldest first (so what is
 *     left of them stays a chain from meta.garbage), clear meta.garbage;
 *   - delete the series: commit with meta.tail = NONE, meta.garbage = the
 *     old tail; delete the chunks oldest first, then the meta record.
 *
 * RETENTION
 *   With retention R > 0 a sample is visible while ts >= latest - R, where
 *   latest, the greatest timestamp in the series, never decreases. Reads
 *   skip invisible samples, and an add older than latest - R is refused.
 *   After an add, the chunks that hold only invisible samples are dropped,
 *   and a chunk rewritten to take a sample drops its invisible ones; so at
 *   most one chunk per series keeps invisible samples, until it expires
 *   whole.
 *   Changing R first removes every sample invisible under the old R, so a
 *   longer R revives nothing.
 *
 * LOADING, AFTER A CRASH OR A FAILED WRITE
 *   The loader walks the chain from meta.tail. If it meets meta.garbage, a
 *   drop stopped before its commit: the chain is cut there (the chunk
 *   pointing at it is rewritten to point at nothing; the dropped samples
 *   were invisible already). Then it deletes what is left of the chain
 *   from meta.garbage, clears meta.garbage, and deletes the chunk with
 *   the next free id if one exists. A write that fails after its first
 *   record drops the index, which the next access rebuilds this way.
 */
#include "series.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "db.h"
#include "mem.h"
#include "route.h"
#include "temporal.h"

#define TS_VERSION   1
#define CHUNK_MAX    64 /* samples per chunk (docs/SERIES.md says why) */
#define CHUNK_HDR    16
#define SAMPLE_BYTES 16
#define CHUNK_BYTES  (CHUNK_HDR + CHUNK_MAX * SAMPLE_BYTES)
#define META_ID      UINT64_MAX
#define META_BYTES   32
#define NONE         UINT64_MAX                   /* no chunk */
#define KEY_EXTRA    (SYS_PREFIX_LEN + 1 + 1 + 8) /* prefix, kind, 0, id */
#define KEY_STACK    256
#define STRIPES      64

/* One chunk in the index. */
typedef struct ts_chunk {
    uint64_t id;
    int64_t t0, t1; /* its first and last timestamp */
    uint32_t n;     /* its samples, 1 .. CHUNK_MAX */
    double sum, vmin, vmax;
} ts_chunk;

/* A series' entry in the map, and its index. */
typedef struct ts_series {
    struct ts_series *next; /* in its stripe's chain */
    uint64_t h;             /* the name's hash */
    pthread_rwlock_t lock;
    /* under `lock` */
    bool loaded; /* the fields below reflect the records */
    bool exists; /* it has a meta record */
    int64_t retention;
    uint64_t max_id;     /* the largest chunk id, when nc > 0 */
    warp_ts_sample last; /* the latest sample, when nc > 0 */
    ts_chunk *c;         /* in time order */
    size_t nc, capc;
    /* immutable */
    size_t nlen;
    unsigned char name[];
} ts_series;

/* One stripe of the map: 64 bytes with glibc's 40-byte mutex. */
typedef struct stripe {
    pthread_mutex_t lock;
    ts_series **b; /* chains; cap is a power of two, or 0 */
    size_t cap, count;
} stripe;

struct series_set {
    stripe st[STRIPES];
};

/* One call in progress: the store, its series, and a key buffer holding
 * SYS_PREFIX 't' name 0 and room for an id. */
typedef struct ts_op {
    warp_db *db;
    ts_series *s;
    unsigned char *key;
    size_t klen;
    unsigned char stack[KEY_STACK];
} ts_op;

/* --- arithmetic ----------------------------------------------------------- */

static int64_t sat_sub(int64_t a, int64_t b)
{
    int64_t r;

    return __builtin_sub_overflow(a, b, &r) ? (b > 0 ? INT64_MIN : INT64_MAX)
                                            : r;
}

/* The oldest visible timestamp of `s` once `latest` is its latest. */
static int64_t floor_at(const ts_series *s, int64_t latest)
{
    return s->retention > 0 ? sat_sub(latest, s->retention) : INT64_MIN;
}

static int64_t visible_floor(const ts_series *s)
{
    return s->nc ? floor_at(s, s->last.ts) : INT64_MIN;
}

/* The first of v[0..n) with ts >= t (n if none). */
static size_t lower_bound(const warp_ts_sample *v, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].ts < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The last chunk with t0 <= t, or 0 if none. nc > 0. */
static size_t chunk_at(const ts_series *s, int64_t t)
{
    size_t lo = 0, hi = s->nc;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->c[mid].t0 <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : 0;
}

/* The first chunk with t1 >= t (nc if none). */
static size_t chunk_from(const ts_series *s, int64_t t)
{
    size_t lo = 0, hi = s->nc;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->c[mid].t1 < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* --- the map -------------------------------------------------------------- */

int series_open(warp_db *db)
{
    series_set *set = mem_calloc(&db->m, sizeof(*set));

    if (!set)
        return WARP_ENOMEM;
    for (size_t i = 0; i < STRIPES; i++)
        pthread_mutex_init(&set->st[i].lock, NULL);
    db->series = set;
    return WARP_OK;
}

static size_t series_bytes(const ts_series *s)
{
    return sizeof(*s) + s->nlen;
}

/* Forget the index of `s` (not its name or lock). */
static void index_reset(mem *m, ts_series *s)
{
    mem_free(m, s->c, s->capc * sizeof(*s->c));
    s->c = NULL;
    s->nc = s->capc = 0;
    s->loaded = s->exists = false;
    s->retention = 0;
    s->max_id = 0;
}

void series_close(warp_db *db)
{
    series_set *set = db->series;

    if (!set)
        return;
    for (size_t i = 0; i < STRIPES; i++) {
        stripe *st = &set->st[i];
        for (size_t j = 0; j < st->cap; j++) {
            ts_series *s, *next;
            for (s = st->b[j]; s; s = next) {
                next = s->next;
                index_reset(&db->m, s);
                pthread_rwlock_destroy(&s->lock);
                mem_free(&db->m, s, series_bytes(s));
            }
        }
        mem_free(&db->m, st->b, st->cap * sizeof(*st->b));
        pthread_mutex_destroy(&st->lock);
    }
    mem_free(&db->m, set, sizeof(*set));
    db->series = NULL;
}

static size_t bucket_of(size_t cap, uint64_t h)
{
    return (size_t)(h >> 6) & (cap - 1); /* the low 6 bits chose the stripe */
}

static ts_series *chain_find(const stripe *st, uint64_t h, const void *name,
                             size_t n)
{
    if (!st->cap)
        return NULL;
    for (ts_series *s = st->b[bucket_of(st->cap, h)]; s; s = s->next)
        if (s->h == h && s->nlen == n && (!n || !memcmp(s->name, name, n)))
            return s;
    return NULL;
}

/* Double the stripe's chain table. Returns WARP_OK or WARP_ENOMEM. */
static int stripe_grow(mem *m, stripe *st)
{
    size_t cap = st->cap ? st->cap * 2 : 8;
    ts_series **b = mem_calloc(m, cap * sizeof(*b));

    if (!b)
        return WARP_ENOMEM;
    for (size_t i = 0; i < st->cap; i++) {
        ts_series *s, *next;
        for (s = st->b[i]; s; s = next) {
            size_t j = bucket_of(cap, s->h);
            next = s->next;
            s->next = b[j];
            b[j] = s;
        }
    }
    mem_free(m, st->b, st->cap * sizeof(*st->b));
    st->b = b;
    st->cap = cap;
    return WARP_OK;
}

/* A new, unloaded entry, or NULL (out of memory). */
static ts_series *series_new(mem *m, uint64_t h, const void *name, size_t n)
{
    ts_series *s = mem_calloc(m, sizeof(*s) + n);
    pthread_rwlockattr_t a;
    int e;

    if (!s)
        return NULL;
    pthread_rwlockattr_init(&a);
    /* a steady stream of readers must not starve an add */
    pthread_rwlockattr_setkind_np(&a,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    e = pthread_rwlock_init(&s->lock, &a);
    pthread_rwlockattr_destroy(&a);
    if (e) {
        mem_free(m, s, sizeof(*s) + n);
        return NULL;
    }
    s->h = h;
    s->nlen = n;
    if (n)
        memcpy(s->name, name, n);
    return s;
}

/* The entry of series `name`, created (unloaded) if missing and `create`.
 * Returns WARP_OK, WARP_NOTFOUND (missing, !create) or WARP_ENOMEM. */
static int map_get(warp_db *db, const void *name, size_t n, bool create,
                   ts_series **out)
{
    uint64_t h = route_hash(name, n);
    stripe *st = &db->series->st[h % STRIPES];
    ts_series *s;
    int rc = WARP_OK;

    pthread_mutex_lock(&st->lock);
    s = chain_find(st, h, name, n);
    if (s || !create) {
        rc = s ? WARP_OK : WARP_NOTFOUND;
    } else if ((st->count >= st->cap && stripe_grow(&db->m, st)) ||
               !(s = series_new(&db->m, h, name, n))) {
        rc = WARP_ENOMEM;
    } else {
        size_t j = bucket_of(st->cap, h);
        s->next = st->b[j];
        st->b[j] = s;
        st->count++;
    }
    pthread_mutex_unlock(&st->lock);
    *out = s;
    return rc;
}

/* --- keys and records ----------------------------------------------------- */

/* Check the arguments and build the key prefix of series `name`.
 * Returns WARP_OK, WARP_EINVAL, WARP_ETOOBIG (no key of the series fits
 * max_key_size) or WARP_ENOMEM. */
static int op_begin(ts_op *op, warp_db *db, const void *name, size_t n)
{
    size_t max;

    if (!db || (!name && n))
        return WARP_EINVAL;
    max = db->opts.max_key_size;
    if (n > max || max - n < KEY_EXTRA)
        return WARP_ETOOBIG;
    op->db = db;
    op->s = NULL;
    op->klen = n + KEY_EXTRA;
    op->key = op->klen <= KEY_STACK ? op->stack : mem_alloc(&db->m, op->klen);
    if (!op->key)
        return WARP_ENOMEM;
    memcpy(op->key, SYS_PREFIX, SYS_PREFIX_LEN);
    op->key[SYS_PREFIX_LEN] = SYS_SERIES;
    if (n)
        memcpy(op->key + SYS_PREFIX_LEN + 1, name, n);
    op->key[SYS_PREFIX_LEN + 1 + n] = 0;
    return WARP_OK;
}

static void op_end(ts_op *op)
{
    if (op->key != op->stack)
        mem_free(&op->db->m, op->key, op->klen);
}

/* The key of record `id` (valid until the next call). */
static const unsigned char *key_of(ts_op *op, uint64_t id)
{
    unsigned char *p = op->key + op->klen - 8;

    for (int i = 7; i >= 0; i--, id >>= 8)
        p[i] = (unsigned char)id;
    return op->key;
}

static void sample_store(unsigned char *p, const warp_ts_sample *v)
{
    uint64_t bits;

    memcpy(&bits, &v->value, 8);
    wr64(p, (uint64_t)v->ts);
    wr64(p + 8, bits);
}

static void sample_load(const unsigned char *p, warp_ts_sample *v)
{
    uint64_t bits = rd64(p + 8);

    v->ts = (int64_t)rd64(p);
    memcpy(&v->value, &bits, 8);
}

/* Read chunk `id` into v[0..*n) and its back pointer into *prev (may be
 * NULL). Returns WARP_OK, WARP_NOTFOUND, WARP_ECORRUPT (not a chunk this
 * version reads), or warp_get()'s error. */
static int chunk_read(ts_op *op, uint64_t id, warp_ts_sample *v, uint32_t *n,
                      uint64_t *prev)
{
    unsigned char buf[CHUNK_BYTES];
    size_t len;
    uint32_t count;
    int rc = warp_get(op->db, key_of(op, id), op->klen, buf, sizeof(buf), &len,
                      NULL);

    if (rc)
        return rc == WARP_ERANGE ? WARP_ECORRUPT : rc;
    if (len < CHUNK_HDR || buf[0] != TS_VERSION)
        return WARP_ECORRUPT;
    count = buf[2] | (uint32_t)buf[3] << 8;
    if (!count || count > CHUNK_MAX || len != CHUNK_HDR + count * SAMPLE_BYTES)
        return WARP_ECORRUPT;
    for (uint32_t i = 0; i < count; i++) {
        sample_load(buf + CHUNK_HDR + i * SAMPLE_BYTES, &v[i]);
        if (i && v[i].ts <= v[i - 1].ts)
            return WARP_ECORRUPT;
    }
    if (prev)
        *prev = rd64(buf + 8);
    *n = count;
    return WARP_OK;
}

/* Read chunk i of the index (it must exist: WARP_ECORRUPT if missing). */
static int index_read(ts_op *op, size_t i, warp_ts_sample *v, uint32_t *n)
{
    int rc = chunk_read(op, op->s->c[i].id, v, n, NULL);

    return rc == WARP_NOTFOUND ? WARP_ECORRUPT : rc;
}

/* Write v[0..n) as chunk `id` pointing back at `prev`. Returns
 * warp_put()'s result. */
static int chunk_write(ts_op *op, uint64_t id, uint64_t prev,
                       const warp_ts_sample *v, uint32_t n)
{
    unsigned char buf[CHUNK_BYTES];

    assert(n >= 1 && n <= CHUNK_MAX && id != NONE);
    memset(buf, 0, CHUNK_HDR);
    buf[0] = TS_VERSION;
    buf[2] = (unsigned char)n;
    buf[3] = (unsigned char)(n >> 8);
    wr64(buf + 8, prev);
    for (uint32_t i = 0; i < n; i++)
        sample_store(buf + CHUNK_HDR + i * SAMPLE_BYTES, &v[i]);
    return warp_put(op->db, key_of(op, id), op->klen, buf,
                    CHUNK_HDR + n * SAMPLE_BYTES, NULL, NULL);
}

/* Delete record `id`; a missing one is fine. */
static int record_delete(ts_op *op, uint64_t id)
{
    int rc = warp_delete(op->db, key_of(op, id), op->klen);

    return rc == WARP_NOTFOUND ? WARP_OK : rc;
}

/* Write the meta record: the series' retention, `tail` and `garbage`. */
static int meta_write(ts_op *op, uint64_t tail, uint64_t garbage)
{
    unsigned char buf[META_BYTES] = {TS_VERSION};

    wr64(buf + 8, (uint64_t)op->s->retention);
    wr64(buf + 16, tail);
    wr64(buf + 24, garbage);
    return warp_put(op->db, key_of(op, META_ID), op->klen, buf, sizeof(buf),
                    NULL, NULL);
}

/* Read the meta record: the retention into the index, *tail, *garbage.
 * Returns WARP_OK, WARP_NOTFOUND, WARP_ECORRUPT or warp_get()'s error. */
static int meta_read(ts_op *op, uint64_t *tail, uint64_t *garbage)
{
    unsigned char buf[META_BYTES];
    size_t len;
    int rc = warp_get(op->db, key_of(op, META_ID), op->klen, buf, sizeof(buf),
                      &len, NULL);

    if (rc)
        return rc == WARP_ERANGE ? WARP_ECORRUPT : rc;
    if (len != META_BYTES || buf[0] != TS_VERSION)
        return WARP_ECORRUPT;
    op->s->retention = (int64_t)rd64(buf + 8);
    *tail = rd64(buf + 16);
    *garbage = rd64(buf + 24);
    return op->s->retention < 0 ? WARP_ECORRUPT : WARP_OK;
}

/* Fill c's summary from its samples v[0..n), n >= 1. */
static void summarize(ts_chunk *c, const warp_ts_sample *v, uint32_t n)
{
    c->t0 = v[0].ts;
    c->t1 = v[n - 1].ts;
    c->n = n;
    c->sum = 0;
    c->vmin = c->vmax = v[0].value;
    for (uint32_t i = 0; i < n; i++) {
        c->sum += v[i].value;
        c->vmin = v[i].value < c->vmin ? v[i].value : c->vmin;
        c->vmax = v[i].value > c->vmax ? v[i].value : c->vmax;
    }
}

/* --- the index ------------------------------------------------------------ */

/* Room for `n` chunks in the index. Returns WARP_OK or WARP_ENOMEM. */
static int index_reserve(mem *m, ts_series *s, size_t n)
{
    size_t cap = s->capc ? s->capc : 4;
    ts_chunk *c;

    if (n <= s->capc)
        return WARP_OK;
    while (cap < n)
        cap *= 2;
    if (!(c = mem_alloc(m, cap * sizeof(*c))))
        return WARP_ENOMEM;
    if (s->nc)
        memcpy(c, s->c, s->nc * sizeof(*c));
    mem_free(m, s->c, s->capc * sizeof(*s->c));
    s->c = c;
    s->capc = cap;
    return WARP_OK;
}

/* Insert `c` at position i (room reserved). */
static void index_insert(ts_series *s, size_t i, const ts_chunk *c)
{
    assert(s->nc < s->capc && i <= s->nc);
    memmove(&s->c[i + 1], &s->c[i], (s->nc - i) * sizeof(*c));
    s->c[i] = *c;
    s->nc++;
    if (s->nc == 1 || c->id > s->max_id)
        s->max_id = c->id;
}

/* Remove chunks i .. i+k-1 from the index. */
static void index_remove(ts_series *s, size_t i, size_t k)
{
    assert(i + k <= s->nc);
    memmove(&s->c[i], &s->c[i + k], (s->nc - i - k) * sizeof(*s->c));
    s->nc -= k;
    s->max_id = 0;
    for (size_t j = 0; j < s->nc; j++)
        s->max_id = s->c[j].id > s->max_id ? s->c[j].id : s->max_id;
}

/* The id of the chunk before chunk i, as chunk i points back at it. */
static uint64_t prev_of(const ts_series *s, size_t i)
{
    return i ? s->c[i - 1].id : NONE;
}

static uint64_t tail_of(const ts_series *s)
{
    return s->nc ? s->c[s->nc - 1].id : NONE;
}

/* The id a new chunk takes. Returns WARP_OK or WARP_ETOOBIG (none left). */
static int new_id(const ts_series *s, uint64_t *id)
{
    *id = s->nc ? s->max_id + 1 : 0;
    return *id == NONE ? WARP_ETOOBIG : WARP_OK;
}

/* --- loading -------------------------------------------------------------- */

/* Walk the chain back from `tail` into the index (time order), stopping
 * at `garbage`: *cut says it was met, so the oldest chunk read points at
 * it. A missing chunk or a chain out of time order is WARP_ECORRUPT. */
static int walk_live(ts_op *op, uint64_t tail, uint64_t garbage, bool *cut)
{
    ts_series *s = op->s;
    warp_ts_sample v[CHUNK_MAX];
    uint64_t id = tail, prev;
    uint32_t n;
    int rc;

    *cut = false;
    while (id != NONE) {
        ts_chunk c = {.id = id};
        if (id == garbage) {
            *cut = true;
            break;
        }
        if ((rc = chunk_read(op, id, v, &n, &prev)))
            return rc == WARP_NOTFOUND ? WARP_ECORRUPT : rc;
        if (s->nc && v[n - 1].ts >= s->c[s->nc - 1].t0)
            return WARP_ECORRUPT; /* not older than the chunk after it */
        if (!s->nc)
            s->last = v[n - 1];
        if ((rc = index_reserve(&op->db->m, s, s->nc + 1)))
            return rc;
        summarize(&c, v, n);
        s->c[s->nc++] = c;
        id = prev;
    }
    for (size_t i = 0; i < s->nc / 2; i++) { /* newest first -> time order */
        ts_chunk t = s->c[i];
        s->c[i] = s->c[s->nc - 1 - i];
        s->c[s->nc - 1 - i] = t;
    }
    for (size_t i = 0; i < s->nc; i++)
        s->max_id = s->c[i].id > s->max_id ? s->c[i].id : s->max_id;
    return WARP_OK;
}

/* Double the array *ids of *cap ids. Returns WARP_OK or WARP_ENOMEM. */
static int grow_ids(mem *m, uint64_t **ids, size_t *cap)
{
    size_t bigger = *cap ? *cap * 2 : 16;
    uint64_t *p = mem_alloc(m, bigger * sizeof(*p));

    if (!p)
        return WARP_ENOMEM;
    if (*cap)
        memcpy(p, *ids, *cap * sizeof(*p));
    mem_free(m, *ids, *cap * sizeof(**ids));
    *ids = p;
    *cap = bigger;
    return WARP_OK;
}

/* Delete what is left of a dropped chain: the chunks reachable back from
 * `garbage`, oldest first (so that a crash meanwhile leaves a chain from
 * `garbage` again). A chain out of time order is WARP_ECORRUPT. */
static int delete_chain(ts_op *op, uint64_t garbage)
{
    warp_ts_sample v[CHUNK_MAX];
    uint64_t *ids = NULL, id = garbage, prev;
    int64_t newer = INT64_MAX; /* the t0 of the chunk read before */
    size_t n = 0, cap = 0;
    uint32_t count;
    int rc = WARP_OK;

    while (id != NONE && rc == WARP_OK) {
        rc = chunk_read(op, id, v, &count, &prev);
        if (rc == WARP_NOTFOUND) { /* deleted: the older ones are too */
            rc = WARP_OK;
            break;
        }
        if (rc == WARP_OK && n && v[count - 1].ts >= newer)
            rc = WARP_ECORRUPT;
        if (rc == WARP_OK && n == cap)
            rc = grow_ids(&op->db->m, &ids, &cap);
        if (rc == WARP_OK) {
            ids[n++] = id;
            newer = v[0].ts;
            id = prev;
        }
    }
    while (rc == WARP_OK && n)
        rc = record_delete(op, ids[--n]);
    mem_free(&op->db->m, ids, cap * sizeof(*ids));
    return rc;
}

/* Build the index of op->s from its records (series lock held for
 * writing), finishing what a crash or a failed write left (LOADING
 * above). On error the index stays unloaded. */
static int series_load(ts_op *op)
{
    ts_series *s = op->s;
    warp_ts_sample v[CHUNK_MAX];
    uint64_t tail, garbage, id;
    uint32_t n;
    bool cut;
    int rc;

    index_reset(&op->db->m, s);
    rc = meta_read(op, &tail, &garbage);
    if (rc == WARP_NOTFOUND) {
        s->retention = 0;
        s->loaded = true;
        return WARP_OK;
    }
    if (rc == WARP_OK)
        rc = walk_live(op, tail, garbage, &cut);
    if (rc == WARP_OK && cut && (rc = index_read(op, 0, v, &n)) == WARP_OK)
        rc = chunk_write(op, s->c[0].id, NONE, v, n);
    if (rc == WARP_OK && garbage != NONE &&
        (rc = delete_chain(op, garbage)) == WARP_OK)
        rc = meta_write(op, tail_of(s), NONE);
    if (rc == WARP_OK && (rc = new_id(s, &id)) == WARP_OK)
        rc = record_delete(op, id); /* a new chunk no write committed */
    if (rc) {
        index_reset(&op->db->m, s);
        return rc;
    }
    s->exists = s->loaded = true;
    return WARP_OK;
}

/* Find series `name`, lock it (for writing if `write`) and make sure its
 * index is loaded. A reader of a series with neither an entry nor a meta
 * record gets WARP_NOTFOUND without creating an entry. On WARP_OK the
 * caller holds op->s->lock. */
static int acquire(ts_op *op, const void *name, size_t n, bool write)
{
    ts_series *s;
    int rc = map_get(op->db, name, n, false, &s);

    if (rc == WARP_NOTFOUND) {
        if (!write && (rc = warp_exists(op->db, key_of(op, META_ID), op->klen)))
            return rc; /* a reader makes no entry for a missing series */
        rc = map_get(op->db, name, n, true, &s);
    }
    if (rc)
        return rc;
    op->s = s;
    for (;;) {
        if (write)
            pthread_rwlock_wrlock(&s->lock);
        else
            pthread_rwlock_rdlock(&s->lock);
        if (s->loaded)
            return WARP_OK;
        if (!write) {
            pthread_rwlock_unlock(&s->lock);
            pthread_rwlock_wrlock(&s->lock);
        }
        rc = s->loaded ? WARP_OK : series_load(op);
        if (rc || write) {
            if (rc)
                pthread_rwlock_unlock(&s->lock);
            return rc;
        }
        pthread_rwlock_unlock(&s->lock); /* loaded: now read it */
    }
}

static void release(ts_op *op)
{
    pthread_rwlock_unlock(&op->s->lock);
}

/* --- adding --------------------------------------------------------------- */

/* Rewrite chunk i as v[0..n), pointing back at `prev`, and summarize it. */
static int rewrite(ts_op *op, size_t i, uint64_t prev, const warp_ts_sample *v,
                   uint32_t n)
{
    int rc = chunk_write(op, op->s->c[i].id, prev, v, n);

    if (rc == WARP_OK)
        summarize(&op->s->c[i], v, n);
    return rc;
}

/* Write sample `smp` as a new chunk at index position p, pointing back at
 * chunk p-1; commit by pointing the meta record (p == nc) or chunk p at
 * it. */
static int add_chunk(ts_op *op, size_t p, const warp_ts_sample *smp)
{
    ts_series *s = op->s;
    warp_ts_sample v[CHUNK_MAX];
    ts_chunk c;
    uint32_t n;
    int rc;

    if ((rc = new_id(s, &c.id)) ||
        (rc = index_reserve(&op->db->m, s, s->nc + 1)))
        return rc;
    if (p < s->nc && (rc = index_read(op, p, v, &n)))
        return rc;
    if ((rc = chunk_write(op, c.id, prev_of(s, p), smp, 1)))
        return rc;
    rc = p == s->nc ? meta_write(op, c.id, NONE) : rewrite(op, p, c.id, v, n);
    if (rc)
        return rc;
    summarize(&c, smp, 1);
    index_insert(s, p, &c);
    s->exists = true;
    return WARP_OK;
}

/* Split chunk i, whose samples would be v[0..n) with n > CHUNK_MAX: write
 * the lower half as a new chunk pointing back where chunk i did; commit
 * by rewriting chunk i as the upper half pointing back at it. */
static int split(ts_op *op, size_t i, const warp_ts_sample *v, uint32_t n)
{
    ts_series *s = op->s;
    uint32_t lo = n / 2;
    ts_chunk c;
    int rc;

    if ((rc = new_id(s, &c.id)) ||
        (rc = index_reserve(&op->db->m, s, s->nc + 1)) ||
        (rc = chunk_write(op, c.id, prev_of(s, i), v, lo)) ||
        (rc = rewrite(op, i, c.id, v + lo, n - lo)))
        return rc;
    summarize(&c, v, lo);
    index_insert(s, i, &c);
    return WARP_OK;
}

/* Insert or replace `smp` in chunk i and write it back (splitting it if
 * it overflows); samples below `floor` leave it. */
static int add_into(ts_op *op, size_t i, const warp_ts_sample *smp,
                    int64_t floor)
{
    ts_series *s = op->s;
    warp_ts_sample v[CHUNK_MAX + 1];
    uint32_t n, pos, gone;
    int rc = index_read(op, i, v, &n);

    if (rc)
        return rc;
    pos = (uint32_t)lower_bound(v, n, smp->ts);
    if (pos < n && v[pos].ts == smp->ts) {
        v[pos].value = smp->value;
    } else {
        memmove(&v[pos + 1], &v[pos], (n - pos) * sizeof(*v));
        v[pos] = *smp;
        n++;
    }
    gone = (uint32_t)lower_bound(v, n, floor); /* < n: smp >= floor */
    if (n - gone > CHUNK_MAX)
        return split(op, i, v + gone, n - gone);
    return rewrite(op, i, prev_of(s, i), v + gone, n - gone);
}

/* Add `smp` to op->s (loaded, locked for writing). */
static int series_add(ts_op *op, const warp_ts_sample *smp)
{
    ts_series *s = op->s;
    bool newest = !s->nc || smp->ts >= s->last.ts;
    int64_t floor = floor_at(s, newest ? smp->ts : s->last.ts);
    size_t i;
    int rc;

    if (s->nc && smp->ts < visible_floor(s))
        return WARP_EINVAL; /* older than the retention keeps */
    i = s->nc ? chunk_at(s, smp->ts) : 0;
    if (!s->nc)
        rc = add_chunk(op, 0, smp);
    else if (s->c[i].n < CHUNK_MAX ||
             (smp->ts >= s->c[i].t0 && smp->ts <= s->c[i].t1))
        rc = add_into(op, i, smp, floor);
    else if (smp->ts < s->c[i].t0) /* before the first chunk */
        rc = add_chunk(op, 0, smp);
    else if (i + 1 < s->nc && s->c[i + 1].n < CHUNK_MAX)
        rc = add_into(op, i + 1, smp, floor);
    else
        rc = add_chunk(op, i + 1, smp);
    if (rc == WARP_OK && newest)
        s->last = *smp;
    return rc;
}

/* Drop the k oldest chunks (0 < k < nc), whose samples are all below
 * `floor`, and the samples of chunk k below it (WRITES above). */
static int drop_front(ts_op *op, size_t k, int64_t floor)
{
    ts_series *s = op->s;
    warp_ts_sample v[CHUNK_MAX];
    uint32_t n, gone;
    int rc;

    assert(k > 0 && k < s->nc);
    if ((rc = index_read(op, k, v, &n)))
        return rc;
    gone = (uint32_t)lower_bound(v, n, floor);
    assert(gone < n);
    if ((rc = meta_write(op, tail_of(s), s->c[k - 1].id)) ||
        (rc = rewrite(op, k, NONE, v + gone, n - gone)))
        return rc;
    for (size_t j = 0; j < k; j++)
        if ((rc = record_delete(op, s->c[j].id)))
            return rc;
    index_remove(s, 0, k);
    return meta_write(op, tail_of(s), NONE);
}

/* Remove every sample below `floor` from the records (they are invisible
 * already): whole chunks, and the first kept chunk's head. The newest
 * chunk, which holds the latest sample, stays. */
static int purge(ts_op *op, int64_t floor)
{
    ts_series *s = op->s;
    warp_ts_sample v[CHUNK_MAX];
    uint32_t n, gone;
    size_t k = 0;
    int rc;

    while (k + 1 < s->nc && s->c[k].t1 < floor)
        k++;
    if (k)
        return drop_front(op, k, floor);
    if (!s->nc || s->c[0].t0 >= floor)
        return WARP_OK;
    if ((rc = index_read(op, 0, v, &n)))
        return rc;
    gone = (uint32_t)lower_bound(v, n, floor);
    return rewrite(op, 0, NONE, v + gone, n - gone);
}

/* Drop the chunks that hold only invisible samples. A failure leaves
 * invisible records behind; the index is then rebuilt on the next access,
 * which finishes the drop. */
static void expire(ts_op *op)
{
    ts_series *s = op->s;
    int64_t floor = visible_floor(s);
    size_t k = 0;

    while (k + 1 < s->nc && s->c[k].t1 < floor)
        k++;
    if (k && drop_front(op, k, floor))
        s->loaded = false;
}

/* An error of a write that may have written part of its records: rebuild
 * the index from them on the next access. */
static int settle(ts_op *op, int rc)
{
    if (rc && rc != WARP_EINVAL)
        op->s->loaded = false;
    return rc;
}

/* --- the API: writes ------------------------------------------------------ */

int warp_ts_add(warp_db *db, const void *series, size_t slen, int64_t ts,
                double value)
{
    warp_ts_sample smp = {.ts = ts, .value = value};
    ts_op op;
    int rc;

    if (isnan(value))
        return WARP_EINVAL;
    if ((rc = op_begin(&op, db, series, slen)))
        return rc;
    if ((rc = acquire(&op, series, slen, true)) == WARP_OK) {
        rc = settle(&op, series_add(&op, &smp));
        if (rc == WARP_OK)
            expire(&op);
        release(&op);
    }
    op_end(&op);
    return rc;
}

/* Set the retention of op->s (loaded, locked for writing). */
static int set_retention(ts_op *op, int64_t retention)
{
    ts_series *s = op->s;
    int64_t old = s->retention;
    int rc;

    if (s->exists && old == retention)
        return WARP_OK;
    if (s->exists && (rc = purge(op, visible_floor(s))))
        return rc;
    s->retention = retention;
    if ((rc = meta_write(op, tail_of(s), NONE))) {
        s->retention = old;
        return rc;
    }
    s->exists = true;
    expire(op);
    return WARP_OK;
}

int warp_ts_set_retention(warp_db *db, const void *series, size_t slen,
                          int64_t retention_ms)
{
    ts_op op;
    int rc;

    if (retention_ms < 0)
        return WARP_EINVAL;
    if ((rc = op_begin(&op, db, series, slen)))
        return rc;
    if ((rc = acquire(&op, series, slen, true)) == WARP_OK) {
        rc = settle(&op, set_retention(&op, retention_ms));
        release(&op);
    }
    op_end(&op);
    return rc;
}

/* Delete every record of op->s (loaded, locked for writing): commit with
 * an empty chain whose garbage is the old one, delete the chunks oldest
 * first, then the meta record. */
static int series_delete(ts_op *op)
{
    ts_series *s = op->s;
    int rc = WARP_OK;

    if (!s->exists)
        return WARP_NOTFOUND;
    if (s->nc)
        rc = meta_write(op, NONE, tail_of(s));
    for (size_t i = 0; i < s->nc && rc == WARP_OK; i++)
        rc = record_delete(op, s->c[i].id);
    if (rc == WARP_OK)
        rc = record_delete(op, META_ID);
    if (rc == WARP_OK) {
        index_reset(&op->db->m, s);
        s->loaded = true;
    }
    return rc;
}

int warp_ts_delete(warp_db *db, const void *series, size_t slen)
{
    ts_op op;
    int rc;

    if ((rc = op_begin(&op, db, series, slen)))
        return rc;
    if ((rc = acquire(&op, series, slen, true)) == WARP_OK) {
        rc = series_delete(&op);
        if (rc != WARP_NOTFOUND)
            settle(&op, rc);
        release(&op);
    }
    op_end(&op);
    return rc;
}

/* --- scans ---------------------------------------------------------------- */

/* A visit of the visible samples in a time range, chunk by chunk. */
typedef struct scan scan;
struct scan {
    /* Optional. Whole chunk `c`, every sample of it in range and visible:
     * return 0 to go on, 1 to stop, -1 to be given its samples instead. */
    int (*chunk)(scan *sc, const ts_chunk *c);
    /* Samples v[0..n) in range and visible: 0 to go on, 1 to stop. */
    int (*samples)(scan *sc, const warp_ts_sample *v, size_t n);
};

/* Visit the visible samples of op->s with from <= ts <= to, in time
 * order. Returns WARP_OK or the error of a chunk read (WARP_ECORRUPT for
 * a listed chunk that is missing). */
static int scan_range(ts_op *op, int64_t from, int64_t to, scan *sc)
{
    const ts_series *s = op->s;
    warp_ts_sample v[CHUNK_MAX];
    uint32_t n;
    int rc;

    if (from < visible_floor(s))
        from = visible_floor(s);
    for (size_t i = chunk_from(s, from); i < s->nc && s->c[i].t0 <= to; i++) {
        const ts_chunk *c = &s->c[i];
        int r = -1;
        size_t a, b;
        if (sc->chunk && c->t0 >= from && c->t1 <= to)
            r = sc->chunk(sc, c);
        if (r >= 0) {
            if (r)
                break;
            continue;
        }
        if ((rc = index_read(op, i, v, &n)))
            return rc;
        a = lower_bound(v, n, from);
        b = to == INT64_MAX ? n : lower_bound(v, n, to + 1);
        if (a < b && sc->samples(sc, v + a, b - a))
            break;
    }
    return WARP_OK;
}

/* Run `read` on series `name` under its read lock. */
static int with_series(warp_db *db, const void *name, size_t n,
                       int (*read)(ts_op *op, void *arg), void *arg)
{
    ts_op op;
    int rc;

    if ((rc = op_begin(&op, db, name, n)))
        return rc;
    if ((rc = acquire(&op, name, n, false)) == WARP_OK) {
        rc = op.s->exists ? read(&op, arg) : WARP_NOTFOUND;
        release(&op);
    }
    op_end(&op);
    return rc;
}

/* --- the API: reads ------------------------------------------------------- */

static int read_last(ts_op *op, void *arg)
{
    if (!op->s->nc)
        return WARP_NOTFOUND;
    *(warp_ts_sample *)arg = op->s->last;
    return WARP_OK;
}

int warp_ts_last(warp_db *db, const void *series, size_t slen,
                 warp_ts_sample *out)
{
    if (!out)
        return WARP_EINVAL;
    return with_series(db, series, slen, read_last, out);
}

typedef struct get_arg {
    int64_t ts;
    double *value;
} get_arg;

static int read_get(ts_op *op, void *arg)
{
    const ts_series *s = op->s;
    get_arg *g = arg;
    warp_ts_sample v[CHUNK_MAX];
    uint32_t n;
    size_t i, k;
    int rc;

    if (!s->nc || g->ts < visible_floor(s) || g->ts > s->last.ts)
        return WARP_NOTFOUND;
    if (g->ts == s->last.ts)
        return *g->value = s->last.value, WARP_OK;
    i = chunk_at(s, g->ts);
    if (g->ts < s->c[i].t0 || g->ts > s->c[i].t1)
        return WARP_NOTFOUND;
    if ((rc = index_read(op, i, v, &n)))
        return rc;
    k = lower_bound(v, n, g->ts);
    if (k == n || v[k].ts != g->ts)
        return WARP_NOTFOUND;
    *g->value = v[k].value;
    return WARP_OK;
}

int warp_ts_get(warp_db *db, const void *series, size_t slen, int64_t ts,
                double *value)
{
    get_arg g = {.ts = ts, .value = value};

    if (!value)
        return WARP_EINVAL;
    return with_series(db, series, slen, read_get, &g);
}

typedef struct range_arg {
    scan sc;
    int64_t from, to;
    warp_ts_sample *out;
    size_t cap, n;
} range_arg;

static int range_samples(scan *sc, const warp_ts_sample *v, size_t n)
{
    range_arg *r = (range_arg *)sc;
    size_t k = n < r->cap - r->n ? n : r->cap - r->n;

    memcpy(r->out + r->n, v, k * sizeof(*v));
    r->n += k;
    return r->n == r->cap;
}

static int read_range(ts_op *op, void *arg)
{
    range_arg *r = arg;

    if (!r->cap || r->from > r->to)
        return WARP_OK;
    return scan_range(op, r->from, r->to, &r->sc);
}

int warp_ts_range(warp_db *db, const void *series, size_t slen, int64_t from,
                  int64_t to, warp_ts_sample *out, size_t cap, size_t *n)
{
    range_arg r = {.sc = {.samples = range_samples},
                   .from = from,
                   .to = to,
                   .out = out,
                   .cap = cap};
    int rc;

    if (!n || (!out && cap))
        return WARP_EINVAL;
    *n = 0;
    rc = with_series(db, series, slen, read_range, &r);
    if (rc == WARP_OK)
        *n = r.n;
    return rc;
}

/* --- aggregates ----------------------------------------------------------- */

static const char *const agg_names[] = {"count", "sum", "avg", "min", "max"};

const char *warp_ts_agg_name(warp_ts_agg a)
{
    return (unsigned)a < sizeof(agg_names) / sizeof(agg_names[0]) ? agg_names[a]
                                                                  : "?";
}

int warp_ts_agg_parse(const char *s, warp_ts_agg *out)
{
    if (!s || !out)
        return WARP_EINVAL;
    for (unsigned i = 0; i < sizeof(agg_names) / sizeof(agg_names[0]); i++)
        if (strcmp(s, agg_names[i]) == 0)
            return *out = (warp_ts_agg)i, WARP_OK;
    return WARP_EINVAL;
}

typedef struct agg_arg {
    scan sc;
    int64_t from, to, bucket;
    warp_ts_agg agg;
    warp_ts_sample *out;
    size_t cap, n;
    bool open; /* a bucket is being summed: */
    int64_t start;
    uint64_t count;
    double sum, vmin, vmax;
} agg_arg;

/* The start of the bucket of `ts`: a multiple of the bucket width (at
 * INT64_MIN for the lowest partial bucket), or `from` for one bucket. */
static int64_t bucket_start(const agg_arg *a, int64_t ts)
{
    int64_t r, start;

    if (!a->bucket)
        return a->from;
    r = ts % a->bucket;
    if (r < 0)
        r += a->bucket;
    return __builtin_sub_overflow(ts, r, &start) ? INT64_MIN : start;
}

static double agg_value(const agg_arg *a)
{
    switch (a->agg) {
    case WARP_TS_COUNT:
        return (double)a->count;
    case WARP_TS_SUM:
        return a->sum;
    case WARP_TS_AVG:
        return a->sum / (double)a->count;
    case WARP_TS_MIN:
        return a->vmin;
    default:
        return a->vmax;
    }
}

/* Emit the open bucket. Returns 1, emitting nothing, when out is full. */
static int agg_flush(agg_arg *a)
{
    if (!a->open)
        return 0;
    if (a->n == a->cap)
        return 1;
    a->out[a->n++] = (warp_ts_sample){.ts = a->start, .value = agg_value(a)};
    a->open = false;
    return 0;
}

/* Add `count` samples of bucket `start` with these sum, min and max. */
static int agg_add(agg_arg *a, int64_t start, uint64_t count, double sum,
                   double vmin, double vmax)
{
    if (a->open && start != a->start && agg_flush(a))
        return 1;
    if (!a->open) {
        a->open = true;
        a->start = start;
        a->count = 0;
        a->sum = 0;
        a->vmin = vmin;
        a->vmax = vmax;
    }
    a->count += count;
    a->sum += sum;
    a->vmin = vmin < a->vmin ? vmin : a->vmin;
    a->vmax = vmax > a->vmax ? vmax : a->vmax;
    return 0;
}

static int agg_chunk(scan *sc, const ts_chunk *c)
{
    agg_arg *a = (agg_arg *)sc;
    int64_t start = bucket_start(a, c->t0);

    if (start != bucket_start(a, c->t1))
        return -1;
    return agg_add(a, start, c->n, c->sum, c->vmin, c->vmax);
}

static int agg_samples(scan *sc, const warp_ts_sample *v, size_t n)
{
    agg_arg *a = (agg_arg *)sc;

    for (size_t i = 0; i < n; i++)
        if (agg_add(a, bucket_start(a, v[i].ts), 1, v[i].value, v[i].value,
                    v[i].value))
            return 1;
    return 0;
}

static int read_agg(ts_op *op, void *arg)
{
    agg_arg *a = arg;
    int rc;

    if (!a->cap || a->from > a->to)
        return WARP_OK;
    if ((rc = scan_range(op, a->from, a->to, &a->sc)))
        return rc;
    agg_flush(a); /* the last bucket, if it fits */
    return WARP_OK;
}

int warp_ts_aggregate(warp_db *db, const void *series, size_t slen,
                      int64_t from, int64_t to, warp_ts_agg agg,
                      int64_t bucket_ms, warp_ts_sample *out, size_t cap,
                      size_t *n)
{
    agg_arg a = {.sc = {.chunk = agg_chunk, .samples = agg_samples},
                 .from = from,
                 .to = to,
                 .bucket = bucket_ms,
                 .agg = agg,
                 .out = out,
                 .cap = cap};
    int rc;

    if (!n || (!out && cap) || bucket_ms < 0 || (unsigned)agg > WARP_TS_MAX)
        return WARP_EINVAL;
    *n = 0;
    rc = with_series(db, series, slen, read_agg, &a);
    if (rc == WARP_OK)
        *n = a.n;
    return rc;
}

/* --- info and stages ------------------------------------------------------ */

warp_stage warp_ts_stage(int64_t ts, int64_t now_ms)
{
    int64_t age = sat_sub(now_ms, ts);

    return age <= 0 ? WARP_STAGE_LIVE : temporal_stage((uint64_t)age);
}

int64_t warp_ts_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

typedef struct info_arg {
    scan sc;
    int64_t now;
    warp_ts_info *info;
} info_arg;

static void info_note(info_arg *a, int64_t first, uint64_t n, warp_stage st)
{
    if (!a->info->samples)
        a->info->first_ts = first;
    a->info->samples += n;
    a->info->stage_samples[st] += n;
}

static int info_chunk(scan *sc, const ts_chunk *c)
{
    info_arg *a = (info_arg *)sc;
    warp_stage st = warp_ts_stage(c->t0, a->now);

    if (st != warp_ts_stage(c->t1, a->now))
        return -1;
    info_note(a, c->t0, c->n, st);
    return 0;
}

static int info_samples(scan *sc, const warp_ts_sample *v, size_t n)
{
    info_arg *a = (info_arg *)sc;

    for (size_t i = 0; i < n; i++)
        info_note(a, v[i].ts, 1, warp_ts_stage(v[i].ts, a->now));
    return 0;
}

static int read_info(ts_op *op, void *arg)
{
    const ts_series *s = op->s;
    info_arg *a = arg;
    warp_ts_info *in = a->info;

    in->retention_ms = s->retention;
    in->chunks = s->nc;
    in->last_ts = s->nc ? s->last.ts : 0;
    in->index_bytes = series_bytes(s) + s->capc * sizeof(*s->c);
    in->record_bytes = op->klen + META_BYTES;
    for (size_t i = 0; i < s->nc; i++)
        in->record_bytes += op->klen + CHUNK_HDR + s->c[i].n * SAMPLE_BYTES;
    in->memory_bytes = in->index_bytes + in->record_bytes;
    return scan_range(op, INT64_MIN, INT64_MAX, &a->sc);
}

int warp_ts_info_get(warp_db *db, const void *series, size_t slen,
                     int64_t now_ms, warp_ts_info *info)
{
    info_arg a = {.sc = {.chunk = info_chunk, .samples = info_samples},
                  .now = now_ms,
                  .info = info};
    int rc;

    if (!info)
        return WARP_EINVAL;
    memset(info, 0, sizeof(*info));
    rc = with_series(db, series, slen, read_info, &a);
    if (rc)
        memset(info, 0, sizeof(*info));
    return rc;
}
