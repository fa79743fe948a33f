/*
 * entangle.c - the entanglement graph: a co-access graph between keys, and
 * the related-key fetch (warp_quantum_get).
 *
 * EDGES
 *   Symmetric, each with a strength in (0, 10]. Three sources:
 *   explicit  warp_entangle(primary, keys, strength): stored on both keys.
 *   rule      derived from the key's bytes when read (rules_partners()):
 *             user:42 <-> profile:42, settings:42, sessions:42 with the
 *             default rules, at ENT_RULE_STRENGTH (upstream's 0.8 for its
 *             automatic edges). Never stored: the rules are configuration.
 *   learned   made by the physics thread from co-access (LEARNING below),
 *             stored on both keys with the time of their strength, and
 *             decayed when read: s(now) = s * 0.95^((now - t) / interval),
 *             interval = physics_update_interval. Continuous decay gives
 *             the same curve as "x0.95 each interval" without rewriting
 *             every edge list every interval.
 *   A partner reached by several edges appears once, at the strongest.
 *
 * STORAGE
 *   The stored edges of key K are the value of the engine's own key
 *   SYS_PREFIX 'q' K (db.h), written with warp_put_batch() like any pair,
 *   so the WAL, snapshots, recovery, dump and load carry them. That key is
 *   routed by K, so it shares K's slot (unless K holds a 0 byte, where the
 *   anchor ends): a quantum get finds K, its edge list and its rule
 *   partners (co-located by the rules) in one slot, through one pipelined
 *   batch lookup. The value (docs/FORMATS.md):
 *
 *     offset size  field
 *     0      1     version, 1
 *     1      1     flags, 0
 *     2      2     count of edges, u16 little-endian (<= 4096)
 *     4            count edges, each:
 *            1       kind: 1 explicit, 2 learned
 *            3       partner key length, u24 little-endian
 *            4       strength, IEEE-754 binary32 little-endian, (0, 10]
 *            8       learned only: t, Unix time in ms when it had that
 *                    strength, u64 little-endian
 *            klen    partner key bytes
 *
 *   A list that does not parse is ignored by reads and refused by edits
 *   (WARP_ECORRUPT). A key has at most one edge of each kind to a partner.
 *   Every edit drops the learned edges that have decayed below the floor.
 *
 * CONCURRENCY
 *   Reads (warp_quantum_get) take no lock: the key, its list and its
 *   partners are read from immutable items inside one epoch section.
 *   Edits (warp_entangle, warp_unentangle, the learner's round) read,
 *   change and write back several lists; `lock` serialises them so no edit
 *   is lost. The lists an edit writes go in one warp_put_batch(): all or
 *   nothing in memory. On disk each shard logs its own part, so a crash in
 *   the middle of an edit may keep one direction of an edge (a warning in
 *   docs/ENTANGLEMENT.md).
 *
 * LEARNING (entanglement_learning)
 *   The physics thread (physics.c) drains the fact rings and calls
 *   entangle_coaccess() for each pair of gets one thread made one right
 *   after the other (both observed, so not sampled apart), and for each
 *   pair of neighbours in a batch get; a quantum get's batch teaches
 *   nothing (its keys were read together because they are entangled).
 *   Facts carry key hashes, not keys: the round counts pairs of hashes in
 *   a table of ENT_PAIRS entries (pairs beyond 3/4 of it are dropped and
 *   counted). Once per physics_update_interval, entangle_round():
 *   - takes the ENT_ROUND_LEARN pairs seen most often, at least
 *     ENT_PAIR_MIN times, and resolves each hash to its key by scanning the
 *     key's slot (the only time keys are needed); pairs whose keys are gone
 *     or that a rule relates already are skipped;
 *   - makes each a learned edge at 1.0, or strengthens it x1.1 (up to 10);
 *   - finds, among the learned edges it watches (ENT_TRACK, hashes only),
 *     up to ENT_ROUND_PRUNE that decayed below ENT_FLOOR, and removes them
 *     from both lists;
 *   - writes all the lists it changed in one batch, and clears the table.
 *   A key keeps at most ENT_LEARNED_MAX learned edges (the weakest goes).
 *   Learned edges loaded from disk are not watched: they fade when read
 *   and leave their list at its next edit.
 */
#include "entangle.h"

#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "epoch.h"
#include "item.h"
#include "physics.h"
#include "route.h"
#include "rules.h"
#include "table.h"

#define ENT_RULE_STRENGTH WARP_RULE_STRENGTH
#define ENT_FLOOR         0.1   /* learned edges below this are gone */
#define ENT_NEW           1.0   /* a new learned edge */
#define ENT_GROW          1.1   /* per round a learned pair is seen again */
#define ENT_DECAY         0.95  /* per physics_update_interval */
#define ENT_PAIR_MIN      3     /* sightings in a round that teach an edge */
#define ENT_PAIRS         4096  /* the round's pair table, a power of two */
#define ENT_TRACK         16384 /* learned edges watched, a power of two */
#define ENT_ROUND_LEARN   64    /* edges learned per round, at most */
#define ENT_ROUND_PRUNE   64    /* edges pruned per round, at most */
#define ENT_LEARNED_MAX   64    /* learned edges per key */
#define ENT_HDR           4     /* bytes of a list's header */
#define ENT_EDGE_HDR      8     /* bytes of an edge before t and the key */
#define ENT_RULE_KEYS     32    /* rule partners a quantum get considers */
#define ENT_RULE_BUF      1024  /* and their bytes */
#define ENT_REC_KEY_STACK 256   /* edge-list keys built on the stack */

/* A pair of keys (by hash, ha < hb) in the round's table or the watch
 * list; `count` 0 is a free entry. */
typedef struct pair {
    uint64_t ha, hb;
    uint16_t sa, sb;
    uint32_t count; /* table: sightings this round; watch list: 1 */
    float s;        /* watch list: strength at t */
    uint64_t t;
} pair;

struct entangle {
    pthread_mutex_t lock; /* serialises edits of stored edge lists */
    bool learning;
    /* the physics thread's: the round's pairs, the learned edges watched */
    pair *pairs;
    uint32_t npairs;
    pair *track;
    uint32_t ntrack;
    /* counters, read by anyone (relaxed); the learner's are written by
     * the physics thread alone */
    _Atomic uint64_t entangled, unentangled, records_written;
    _Atomic uint64_t pairs_seen, pairs_dropped;
    _Atomic uint64_t created, reinforced, pruned, tracked;
};

static void count_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* A counter only the physics thread writes: no locked instruction. */
static void count_own(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* A learned edge's strength `now`: s * 0.95 per interval since t. */
static double decayed(double s, uint64_t t, uint64_t now, uint64_t interval)
{
    if (now <= t || interval == 0)
        return s;
    return s * pow(ENT_DECAY, (double)(now - t) / (double)interval);
}

/* --- the stored edge list ------------------------------------------------ */

/* One edge as stored; `key` points into the list's bytes. */
typedef struct rec_edge {
    const unsigned char *key;
    uint32_t klen;
    uint8_t kind;
    float strength;
    uint64_t t;
} rec_edge;

typedef struct rec_iter {
    const unsigned char *p, *end;
    uint32_t left;
} rec_iter;

static uint32_t get_u24(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static float get_f32(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;
    float f;

    memcpy(&f, &u, sizeof(f));
    return f;
}

static void put_f32(unsigned char *p, float f)
{
    uint32_t u;

    memcpy(&u, &f, sizeof(u));
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(u >> (8 * i));
}

/* Start reading the list `v` (`len` bytes). Returns 0, or -1 if its header
 * is not version 1's. */
static int rec_iter_init(rec_iter *it, const void *v, size_t len)
{
    const unsigned char *p = v;

    if (len < ENT_HDR || p[0] != ENT_REC_VERSION || p[1] != 0)
        return -1;
    it->p = p + ENT_HDR;
    it->end = p + len;
    it->left = (uint32_t)p[2] | (uint32_t)p[3] << 8;
    return it->left > WARP_ENTANGLE_EDGES ? -1 : 0;
}

/* The next edge: 1, 0 at a clean end, -1 if the list is malformed. */
static int rec_iter_next(rec_iter *it, rec_edge *e)
{
    size_t room = (size_t)(it->end - it->p), need = ENT_EDGE_HDR;

    if (it->left == 0)
        return room == 0 ? 0 : -1;
    if (room < need)
        return -1;
    e->kind = it->p[0];
    e->klen = get_u24(it->p + 1);
    e->strength = get_f32(it->p + 4);
    e->t = 0;
    if (e->kind == ENT_KIND_LEARNED)
        need += 8;
    if ((e->kind != ENT_KIND_EXPLICIT && e->kind != ENT_KIND_LEARNED) ||
        !(e->strength > 0 && e->strength <= WARP_STRENGTH_MAX) || room < need ||
        room - need < e->klen)
        return -1;
    if (e->kind == ENT_KIND_LEARNED)
        e->t = get_u64(it->p + ENT_EDGE_HDR);
    e->key = it->p + need;
    it->p += need + e->klen;
    it->left--;
    return 1;
}

/* The key of K's edge list: SYS_PREFIX 'q' K, in `stack` if it fits,
 * else malloc'd (*heap says so). NULL when out of memory. */
static char *rec_key(const void *key, size_t klen, char *stack, size_t cap,
                     size_t *rklen, bool *heap)
{
    size_t n = SYS_PREFIX_LEN + 1 + klen;
    char *k = n <= cap ? stack : malloc(n);

    *heap = k && k != stack;
    if (!k)
        return NULL;
    memcpy(k, SYS_PREFIX, SYS_PREFIX_LEN);
    k[SYS_PREFIX_LEN] = SYS_ENTANGLE;
    if (klen)
        memcpy(k + SYS_PREFIX_LEN + 1, key, klen);
    *rklen = n;
    return k;
}

/* --- edge lists being edited --------------------------------------------- */

/* One edge of a list being edited; the key is its own allocation. */
typedef struct edge {
    char *key;
    uint32_t klen;
    uint8_t kind;
    float strength;
    uint64_t t;
} edge;

/* A key's edge list, read for an edit. */
typedef struct rec {
    char *rkey; /* SYS_PREFIX 'q' key */
    size_t rklen;
    edge *e;
    uint32_t n, cap;
    bool existed; /* it was stored */
    bool dirty;   /* changed since read */
} rec;

/* The lists one edit reads and writes. */
typedef struct workset {
    warp_db *db;
    rec *r;
    size_t n, cap;
    uint64_t now; /* wall ms, for learned edges */
} workset;

static const unsigned char *rec_anchor(const rec *r, size_t *len)
{
    *len = r->rklen - SYS_PREFIX_LEN - 1;
    return (const unsigned char *)r->rkey + SYS_PREFIX_LEN + 1;
}

static edge *rec_find(rec *r, const void *key, size_t klen, uint8_t kind)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (r->e[i].kind == kind && r->e[i].klen == klen &&
            memcmp(r->e[i].key, key, klen) == 0)
            return &r->e[i];
    return NULL;
}

/* Add an edge (its key copied). Returns WARP_OK, WARP_ETOOBIG (the list is
 * full) or WARP_ENOMEM. */
static int rec_append(rec *r, const void *key, size_t klen, uint8_t kind,
                      float strength, uint64_t t)
{
    if (r->n == WARP_ENTANGLE_EDGES)
        return WARP_ETOOBIG;
    if (r->n == r->cap) {
        uint32_t cap = r->cap ? r->cap * 2 : 8;
        edge *e = realloc(r->e, cap * sizeof(*e));
        if (!e)
            return WARP_ENOMEM;
        r->e = e;
        r->cap = cap;
    }
    char *k = malloc(klen ? klen : 1);
    if (!k)
        return WARP_ENOMEM;
    if (klen)
        memcpy(k, key, klen);
    r->e[r->n++] = (edge){k, (uint32_t)klen, kind, strength, t};
    r->dirty = true;
    return WARP_OK;
}

static void rec_remove_at(rec *r, uint32_t i)
{
    free(r->e[i].key);
    r->e[i] = r->e[--r->n];
    r->dirty = true;
}

/* Remove the edges to `key` of the kinds in `kinds` (bit 1 << kind).
 * Returns how many went. */
static int rec_remove(rec *r, const void *key, size_t klen, unsigned kinds)
{
    int gone = 0;

    for (uint32_t i = 0; i < r->n;) {
        edge *e = &r->e[i];
        if ((kinds >> e->kind & 1) && e->klen == klen &&
            memcmp(e->key, key, klen) == 0) {
            rec_remove_at(r, i);
            gone++;
        } else {
            i++;
        }
    }
    return gone;
}

static void rec_free(rec *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        free(r->e[i].key);
    free(r->e);
    free(r->rkey);
}

/* Fill `r` from the stored list `v` (`len` bytes), dropping learned edges
 * that decayed below the floor. WARP_OK, WARP_ECORRUPT or WARP_ENOMEM. */
static int rec_parse(rec *r, const void *v, size_t len, uint64_t now,
                     uint64_t interval)
{
    rec_iter it;
    rec_edge e;
    bool dropped = false;
    int more = 0, rc = WARP_OK;

    if (rec_iter_init(&it, v, len))
        return WARP_ECORRUPT;
    while (rc == WARP_OK && (more = rec_iter_next(&it, &e)) == 1) {
        if (e.kind == ENT_KIND_LEARNED &&
            decayed(e.strength, e.t, now, interval) < ENT_FLOOR)
            dropped = true;
        else
            rc = rec_append(r, e.key, e.klen, e.kind, e.strength, e.t);
    }
    if (rc == WARP_OK && more < 0)
        rc = WARP_ECORRUPT;
    r->dirty = dropped; /* as read, less what decayed away */
    return rc;
}

/* Copy the stored value of `rkey` out, if any, without counting it as an
 * access. *v is malloc'd (NULL if the key does not exist). */
static int rec_read(warp_db *db, const char *rkey, size_t rklen, void **v,
                    size_t *len)
{
    uint64_t h = route_hash(rkey, rklen);
    uint32_t slot = db_key_slot(db, rkey, rklen, h);
    epoch_thread *et = epoch_enter();
    const item *it;
    int rc = WARP_OK;

    *v = NULL;
    *len = 0;
    if (!et)
        return WARP_ENOMEM;
    it = table_find(&db->slots[slot], h, rkey, rklen);
    if (it && !(*v = malloc(it->vlen ? it->vlen : 1)))
        rc = WARP_ENOMEM;
    else if (it && (rc = db_deliver_value(db, slot, it, *v)) == WARP_OK)
        *len = it->vlen;
    epoch_exit(et);
    if (rc) {
        free(*v);
        *v = NULL;
    }
    return rc;
}

/* The list of `key` in the workset, read from the store the first time:
 * *out is its index (the workset may move; indexes stay). WARP_OK,
 * WARP_ECORRUPT or WARP_ENOMEM. */
static int ws_get(workset *ws, const void *key, size_t klen, size_t *out)
{
    for (size_t i = 0; i < ws->n; i++) {
        size_t alen;
        const unsigned char *a = rec_anchor(&ws->r[i], &alen);
        if (alen == klen && memcmp(a, key, klen) == 0)
            return *out = i, WARP_OK;
    }
    if (ws->n == ws->cap) {
        size_t cap = ws->cap ? ws->cap * 2 : 8;
        rec *r = realloc(ws->r, cap * sizeof(*r));
        if (!r)
            return WARP_ENOMEM;
        ws->r = r;
        ws->cap = cap;
    }
    rec *r = &ws->r[ws->n];
    bool heap;
    void *v;
    size_t len;
    memset(r, 0, sizeof(*r));
    if (!(r->rkey = rec_key(key, klen, NULL, 0, &r->rklen, &heap)))
        return WARP_ENOMEM;
    int rc = rec_read(ws->db, r->rkey, r->rklen, &v, &len);
    if (rc == WARP_OK && v) {
        r->existed = true;
        rc =
            rec_parse(r, v, len, ws->now, ws->db->opts.physics_update_interval);
    }
    free(v);
    if (rc) {
        rec_free(r);
        return rc;
    }
    *out = ws->n++;
    return WARP_OK;
}

static void ws_free(workset *ws)
{
    for (size_t i = 0; i < ws->n; i++)
        rec_free(&ws->r[i]);
    free(ws->r);
}

static size_t rec_bytes(const rec *r)
{
    size_t n = ENT_HDR;

    for (uint32_t i = 0; i < r->n; i++)
        n += ENT_EDGE_HDR + (r->e[i].kind == ENT_KIND_LEARNED ? 8 : 0) +
             r->e[i].klen;
    return n;
}

/* Serialise `r` into `out` (rec_bytes(r) bytes). */
static void rec_encode(const rec *r, unsigned char *out)
{
    unsigned char *p = out + ENT_HDR;

    out[0] = ENT_REC_VERSION;
    out[1] = 0;
    out[2] = (unsigned char)r->n;
    out[3] = (unsigned char)(r->n >> 8);
    for (uint32_t i = 0; i < r->n; i++) {
        const edge *e = &r->e[i];
        p[0] = e->kind;
        p[1] = (unsigned char)e->klen;
        p[2] = (unsigned char)(e->klen >> 8);
        p[3] = (unsigned char)(e->klen >> 16);
        put_f32(p + 4, e->strength);
        p += ENT_EDGE_HDR;
        if (e->kind == ENT_KIND_LEARNED) {
            put_u64(p, e->t);
            p += 8;
        }
        memcpy(p, e->key, e->klen);
        p += e->klen;
    }
}

/* Write every changed list: the non-empty ones in one warp_put_batch()
 * (all or nothing), then delete those that became empty. Returns WARP_OK
 * or the batch's error (then nothing was written). */
static int ws_commit(workset *ws)
{
    warp_put_item *items = calloc(ws->n ? ws->n : 1, sizeof(*items));
    size_t n = 0, written = 0;
    int rc = items ? WARP_OK : WARP_ENOMEM;

    for (size_t i = 0; rc == WARP_OK && i < ws->n; i++) {
        rec *r = &ws->r[i];
        if (!r->dirty || r->n == 0)
            continue;
        size_t len = rec_bytes(r);
        unsigned char *v = malloc(len);
        if (!v) {
            rc = WARP_ENOMEM;
            break;
        }
        rec_encode(r, v);
        items[n++] = (warp_put_item){
            .key = r->rkey, .klen = r->rklen, .val = v, .vlen = len};
    }
    if (rc == WARP_OK && n)
        rc = warp_put_batch(ws->db, items, n, NULL);
    written = rc == WARP_OK ? n : 0;
    for (size_t i = 0; rc == WARP_OK && i < ws->n; i++) {
        rec *r = &ws->r[i];
        if (r->dirty && r->n == 0 && r->existed &&
            warp_delete(ws->db, r->rkey, r->rklen) == WARP_OK)
            written++; /* best effort: an empty list is harmless */
    }
    for (size_t i = 0; i < n; i++)
        free((void *)items[i].val);
    free(items);
    if (ws->db->ent)
        count_add(&ws->db->ent->records_written, written);
    return rc;
}

/* --- open and close ------------------------------------------------------- */

int entangle_open(warp_db *db)
{
    entangle *e = calloc(1, sizeof(*e));

    if (!e)
        return WARP_ENOMEM;
    e->learning = db->opts.entanglement_learning;
    if (e->learning && (!(e->pairs = calloc(ENT_PAIRS, sizeof(pair))) ||
                        !(e->track = calloc(ENT_TRACK, sizeof(pair))))) {
        free(e->pairs);
        free(e);
        return WARP_ENOMEM;
    }
    pthread_mutex_init(&e->lock, NULL);
    db->ent = e;
    return WARP_OK;
}

void entangle_close(warp_db *db)
{
    entangle *e = db->ent;

    if (!e)
        return;
    pthread_mutex_destroy(&e->lock);
    free(e->pairs);
    free(e->track);
    free(e);
    db->ent = NULL;
}

bool entangle_learning(const entangle *e)
{
    return e && e->learning;
}

int warp_entanglement_metrics_get(warp_db *db, warp_entanglement_metrics *m)
{
    if (!db || !m)
        return WARP_EINVAL;
    entangle *e = db->ent;
    memset(m, 0, sizeof(*m));
    m->entangled = atomic_load(&e->entangled);
    m->unentangled = atomic_load(&e->unentangled);
    m->records_written = atomic_load(&e->records_written);
    m->pairs_seen = atomic_load(&e->pairs_seen);
    m->pairs_dropped = atomic_load(&e->pairs_dropped);
    m->learned_created = atomic_load(&e->created);
    m->learned_reinforced = atomic_load(&e->reinforced);
    m->learned_pruned = atomic_load(&e->pruned);
    m->learned_tracked = atomic_load(&e->tracked);
    return WARP_OK;
}

/* --- explicit edges --------------------------------------------------------
 */

/* A key by address and length, for sorting. */
typedef struct kref {
    const unsigned char *k;
    size_t len;
} kref;

static int kref_cmp(const void *pa, const void *pb)
{
    const kref *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->k, b->k, n) : 0;

    return c ? c : (a->len > b->len) - (a->len < b->len);
}

static bool sys_key(const void *key, size_t klen)
{
    return klen >= SYS_PREFIX_LEN &&
           memcmp(key, SYS_PREFIX, SYS_PREFIX_LEN) == 0;
}

/* A key that may be entangled: not NULL with a length, not the engine's
 * own, and short enough that its list's key fits max_key_size. */
static int check_ent_key(const warp_db *db, const void *key, size_t klen)
{
    if (!key && klen)
        return WARP_EINVAL;
    if (sys_key(key, klen))
        return WARP_EINVAL;
    return klen + SYS_PREFIX_LEN + 1 > db->opts.max_key_size ? WARP_ETOOBIG
                                                             : WARP_OK;
}

/* Check the primary and the n partners; on WARP_OK *out is a malloc'd
 * array of the distinct partners, sorted, and *m their count. */
static int check_partners(const warp_db *db, const void *primary, size_t plen,
                          const warp_key *keys, size_t n, kref **out, size_t *m)
{
    int rc = check_ent_key(db, primary, plen);

    if (rc)
        return rc;
    if (!keys || n == 0 || n > WARP_ENTANGLE_MAX)
        return WARP_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if ((rc = check_ent_key(db, keys[i].key, keys[i].klen)))
            return rc;
        if (keys[i].klen == plen &&
            (plen == 0 || memcmp(keys[i].key, primary, plen) == 0))
            return WARP_EINVAL; /* a key is not its own partner */
    }
    kref *v = malloc(n * sizeof(*v));
    if (!v)
        return WARP_ENOMEM;
    for (size_t i = 0; i < n; i++)
        v[i] = (kref){keys[i].key, keys[i].klen};
    qsort(v, n, sizeof(*v), kref_cmp);
    *m = 0;
    for (size_t i = 0; i < n; i++)
        if (*m == 0 || kref_cmp(&v[*m - 1], &v[i]) != 0)
            v[(*m)++] = v[i];
    *out = v;
    return WARP_OK;
}

static void hash_bytes(XXH3_state_t *st, const void *p, size_t len)
{
    unsigned char n[8];

    put_u64(n, len);
    XXH3_64bits_update(st, n, sizeof(n));
    if (len)
        XXH3_64bits_update(st, p, len);
}

/* The entanglement id: XXH3-64 of the primary and the sorted, distinct
 * partners, each preceded by its length (8 bytes, little-endian). */
static uint64_t entangle_id(const void *primary, size_t plen, const kref *v,
                            size_t m)
{
    XXH3_state_t st;

    XXH3_64bits_reset(&st);
    hash_bytes(&st, primary, plen);
    for (size_t i = 0; i < m; i++)
        hash_bytes(&st, v[i].k, v[i].len);
    return XXH3_64bits_digest(&st);
}

/* Set the edge of `kind` from list `r` to `key`: update or add it. */
static int rec_set(rec *r, const void *key, size_t klen, uint8_t kind,
                   float strength, uint64_t t)
{
    edge *e = rec_find(r, key, klen, kind);

    if (!e)
        return rec_append(r, key, klen, kind, strength, t);
    if (e->strength != strength || e->t != t) {
        e->strength = strength;
        e->t = t;
        r->dirty = true;
    }
    return WARP_OK;
}

/* Set the edge of `kind` between `a` and `b` in both their lists. */
static int ws_link(workset *ws, const void *a, size_t alen, const void *b,
                   size_t blen, uint8_t kind, float strength)
{
    size_t ia, ib;
    int rc = ws_get(ws, a, alen, &ia);

    if (rc == WARP_OK)
        rc = ws_get(ws, b, blen, &ib);
    if (rc == WARP_OK)
        rc = rec_set(&ws->r[ia], b, blen, kind, strength, ws->now);
    if (rc == WARP_OK)
        rc = rec_set(&ws->r[ib], a, alen, kind, strength, ws->now);
    return rc;
}

int warp_entangle(warp_db *db, const void *primary, size_t plen,
                  const warp_key *keys, size_t n, double strength, uint64_t *id)
{
    kref *v = NULL;
    size_t m = 0;
    int rc;

    if (!db)
        return WARP_EINVAL;
    if (!(strength > 0 && strength <= WARP_STRENGTH_MAX)) /* NaN too */
        return WARP_EINVAL;
    if ((rc = check_partners(db, primary, plen, keys, n, &v, &m)))
        return rc;
    if (id)
        *id = entangle_id(primary, plen, v, m);
    workset ws = {.db = db, .now = clock_wall_ms()};
    pthread_mutex_lock(&db->ent->lock);
    for (size_t i = 0; rc == WARP_OK && i < m; i++)
        rc = ws_link(&ws, primary, plen, v[i].k, v[i].len, ENT_KIND_EXPLICIT,
                     (float)strength);
    if (rc == WARP_OK)
        rc = ws_commit(&ws);
    pthread_mutex_unlock(&db->ent->lock);
    ws_free(&ws);
    free(v);
    if (rc == WARP_OK)
        count_add(&db->ent->entangled, m);
    return rc;
}

#define BOTH_KINDS (1u << ENT_KIND_EXPLICIT | 1u << ENT_KIND_LEARNED)

/* Remove the stored edges between `a` and `b` from both lists; *gone
 * counts those removed from a's. */
static int ws_unlink(workset *ws, const void *a, size_t alen, const void *b,
                     size_t blen, uint64_t *gone)
{
    size_t ia, ib;
    int rc = ws_get(ws, a, alen, &ia);

    if (rc == WARP_OK)
        rc = ws_get(ws, b, blen, &ib);
    if (rc == WARP_OK) {
        *gone += (uint64_t)rec_remove(&ws->r[ia], b, blen, BOTH_KINDS);
        (void)rec_remove(&ws->r[ib], a, alen, BOTH_KINDS);
    }
    return rc;
}

/* Remove every stored edge of `key` (its list is ws->r[0]). */
static int ws_unlink_all(workset *ws, const void *key, size_t klen,
                         uint64_t *gone)
{
    int rc = WARP_OK;

    while (rc == WARP_OK && ws->r[0].n) {
        const edge *e = &ws->r[0].e[0];
        char *partner = malloc(e->klen ? e->klen : 1);
        size_t plen = e->klen;
        if (!partner)
            return WARP_ENOMEM;
        memcpy(partner, e->key, plen); /* removing the edge frees e->key */
        rc = ws_unlink(ws, key, klen, partner, plen, gone);
        free(partner);
    }
    return rc;
}

int warp_unentangle(warp_db *db, const void *primary, size_t plen,
                    const warp_key *keys, size_t n)
{
    kref *v = NULL;
    size_t m = 0, ip;
    uint64_t gone = 0;
    int rc;

    if (!db)
        return WARP_EINVAL;
    if (keys)
        rc = check_partners(db, primary, plen, keys, n, &v, &m);
    else
        rc = n ? WARP_EINVAL : check_ent_key(db, primary, plen);
    if (rc)
        return rc;
    workset ws = {.db = db, .now = clock_wall_ms()};
    pthread_mutex_lock(&db->ent->lock);
    rc = ws_get(&ws, primary, plen, &ip); /* index 0 */
    if (rc == WARP_OK && !keys)
        rc = ws_unlink_all(&ws, primary, plen, &gone);
    for (size_t i = 0; rc == WARP_OK && i < m; i++)
        rc = ws_unlink(&ws, primary, plen, v[i].k, v[i].len, &gone);
    if (rc == WARP_OK && gone)
        rc = ws_commit(&ws);
    pthread_mutex_unlock(&db->ent->lock);
    ws_free(&ws);
    free(v);
    if (rc == WARP_OK && gone)
        count_add(&db->ent->unentangled, gone);
    return rc ? rc : gone ? WARP_OK : WARP_NOTFOUND;
}

/* --- quantum get -----------------------------------------------------------
 */

#define QG_LOOKUPS 48 /* lookups held on the stack */
#define QG_CANDS   32 /* candidates held on the stack */
_Static_assert(QG_CANDS >= ENT_RULE_KEYS, "the rule partners fit c_stack");

/* The keys a quantum get looks up, run through the batch-get pipeline. */
typedef struct lookups {
    const void **key; /* const void *const * to the pipeline */
    size_t *klen;
    uint64_t *h;
    uint32_t *sl;
    const item **it;
    size_t n, cap;
} lookups;

/* A partner a quantum get considers. */
typedef struct cand {
    const unsigned char *key;
    size_t klen;
    double strength;
    unsigned sources; /* WARP_EDGE_* */
    uint32_t order;   /* rules first, then the stored list's order */
    int32_t look;     /* its index in the lookups, or -1 */
} cand;

/* A quantum get's working memory: on the stack for the common sizes. */
typedef struct qget {
    warp_db *db;
    const void *key;
    size_t klen;
    lookups L;
    cand *c;
    size_t nc, ccap;
    const void *lk_key[QG_LOOKUPS];
    size_t lk_klen[QG_LOOKUPS];
    uint64_t lk_h[QG_LOOKUPS];
    uint32_t lk_sl[QG_LOOKUPS];
    const item *lk_it[QG_LOOKUPS];
    cand c_stack[QG_CANDS];
    rule_key rk[ENT_RULE_KEYS];
    char rbuf[ENT_RULE_BUF];
    char rkey_stack[ENT_REC_KEY_STACK];
    void *heap;    /* the lookups' arrays when they outgrow the stack */
    void *list;    /* the key's stored edge list, copied out, or NULL */
    uint32_t skip; /* lookups of the first group not to make */
    bool partners; /* partners are wanted (lookups 1 ..) */
    bool selected; /* cand_select() has run on the rule partners */
    unsigned char list_stack[512];
} qget;

/* Room for `n` lookups in all. WARP_OK or WARP_ENOMEM. */
static int lookups_reserve(qget *q, size_t n)
{
    lookups *L = &q->L;
    size_t each = sizeof(void *) + sizeof(size_t) + sizeof(uint64_t) +
                  sizeof(uint32_t) + sizeof(item *);

    if (n <= L->cap)
        return WARP_OK;
    char *b = malloc(n * each);
    if (!b)
        return WARP_ENOMEM;
    const void **key = (const void **)b;
    size_t *klen = (size_t *)(key + n);
    uint64_t *h = (uint64_t *)(klen + n);
    const item **it = (const item **)(h + n);
    uint32_t *sl = (uint32_t *)(it + n);
    memcpy(key, L->key, L->n * sizeof(*key));
    memcpy(klen, L->klen, L->n * sizeof(*klen));
    memcpy(h, L->h, L->n * sizeof(*h));
    memcpy(it, L->it, L->n * sizeof(*it));
    memcpy(sl, L->sl, L->n * sizeof(*sl));
    free(q->heap);
    q->heap = b;
    *L = (lookups){key, klen, h, sl, it, L->n, n};
    return WARP_OK;
}

#define SLOT_UNKNOWN UINT32_MAX

/* Queue a lookup of `key`, whose slot is `slot` if known; returns its
 * index. Room was reserved. */
static int32_t lookups_add_at(qget *q, const void *key, size_t klen,
                              uint32_t slot)
{
    lookups *L = &q->L;
    size_t i = L->n++;

    assert(i < L->cap);
    L->key[i] = key;
    L->klen[i] = klen;
    L->h[i] = route_hash(key, klen);
    L->sl[i] =
        slot != SLOT_UNKNOWN ? slot : db_key_slot(q->db, key, klen, L->h[i]);
    assert(L->sl[i] == db_key_slot(q->db, key, klen, L->h[i]));
    L->it[i] = NULL;
    /* start the entry line's miss now: it overlaps the work of queueing
     * the other keys (the pipeline's own prefetch of it is then a hit) */
    table_prefetch(&q->db->slots[L->sl[i]], L->h[i]);
    return (int32_t)i;
}

static int32_t lookups_add(qget *q, const void *key, size_t klen)
{
    return lookups_add_at(q, key, klen, SLOT_UNKNOWN);
}

/* Whether the key is routed by its rule id (rules_id()): co-location by
 * rules, and no hash tag to take precedence. Then a rule partner whose
 * pattern keeps the id as it is (rule_key.same_id) has the key's slot. */
static bool routed_by_rule_id(const qget *q)
{
    warp_colocation mode = q->db->route.mode;

    return (mode & WARP_COLOCATE_RULES) &&
           (!(mode & WARP_COLOCATE_TAGS) || !memchr(q->key, '{', q->klen));
}

/* Queue a placeholder that lookups_run() skips (a copy of lookup 0). */
static void lookups_skip(qget *q)
{
    lookups *L = &q->L;
    size_t i = L->n++;

    assert(i < L->cap && i > 0 && i < DB_GROUP);
    L->key[i] = L->key[0];
    L->klen[i] = L->klen[0];
    L->h[i] = L->h[0];
    L->sl[i] = L->sl[0];
    L->it[i] = NULL;
    q->skip |= 1u << i;
}

/* Look up L[from .. n) through the pipeline, DB_GROUP at a time. Inside
 * an epoch section. */
static void lookups_run(qget *q, size_t from)
{
    lookups *L = &q->L;

    for (size_t b = from; b < L->n; b += DB_GROUP) {
        size_t m = L->n - b < DB_GROUP ? L->n - b : DB_GROUP;
        /* lookups_add() prefetched the entry lines */
        uint32_t live = (uint32_t)((1ull << m) - 1) | DB_FIND_PREFETCHED;
        if (b == 0)
            live &= ~q->skip;
        db_find_group(q->db, m, L->key + b, L->klen + b, L->h + b, L->sl + b,
                      live, L->it + b);
    }
}

static int cand_add(qget *q, const void *key, size_t klen, double strength,
                    unsigned sources, int32_t look)
{
    if (q->nc == q->ccap) {
        size_t cap = q->ccap * 2;
        cand *c = malloc(cap * sizeof(*c));
        if (!c)
            return WARP_ENOMEM;
        memcpy(c, q->c, q->nc * sizeof(*c));
        if (q->c != q->c_stack)
            free(q->c);
        q->c = c;
        q->ccap = cap;
    }
    q->c[q->nc] = (cand){key, klen, strength, sources, (uint32_t)q->nc, look};
    q->nc++;
    return WARP_OK;
}

/* Add the edges of the stored list `it` (of `slot`) to the candidates,
 * whose keys then point into q->list. A list that does not parse adds
 * nothing. */
static int cand_add_record(qget *q, const item *it, uint32_t slot)
{
    size_t first = q->nc;
    uint64_t now = 0, interval = q->db->opts.physics_update_interval;
    rec_iter ri;
    rec_edge e;
    int more = 0, rc = WARP_OK;

    q->list =
        it->vlen <= sizeof(q->list_stack) ? q->list_stack : malloc(it->vlen);
    if (!q->list)
        return WARP_ENOMEM;
    if ((rc = db_deliver_value(q->db, slot, it, q->list)))
        return rc;
    if (rec_iter_init(&ri, q->list, it->vlen))
        return WARP_OK;
    while (rc == WARP_OK && (more = rec_iter_next(&ri, &e)) == 1) {
        double s = e.strength;
        if (e.kind == ENT_KIND_LEARNED) {
            now = now ? now : clock_wall_ms();
            s = decayed(s, e.t, now, interval);
            if (s < ENT_FLOOR)
                continue;
        }
        rc = cand_add(q, e.key, e.klen, s,
                      e.kind == ENT_KIND_LEARNED ? WARP_EDGE_LEARNED
                                                 : WARP_EDGE_EXPLICIT,
                      -1);
    }
    if (rc == WARP_OK && more < 0)
        q->nc = first; /* malformed: ignore the whole list */
    return rc;
}

static int cand_key_cmp(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;
    kref ka = {a->key, a->klen}, kb = {b->key, b->klen};
    int c = kref_cmp(&ka, &kb);

    return c ? c : (a->order > b->order) - (a->order < b->order);
}

/* Merge candidates with the same key: the strongest edge, every source,
 * the first place, and a lookup if any had one. */
static void cand_merge(qget *q)
{
    size_t m = 0;

    qsort(q->c, q->nc, sizeof(cand), cand_key_cmp);
    for (size_t i = 0; i < q->nc; i++) {
        cand *d = m ? &q->c[m - 1] : NULL;
        if (!d || d->klen != q->c[i].klen ||
            !bytes_eq(d->key, q->c[i].key, d->klen)) {
            q->c[m++] = q->c[i];
            continue;
        }
        d->strength =
            q->c[i].strength > d->strength ? q->c[i].strength : d->strength;
        d->sources |= q->c[i].sources;
        d->look = d->look >= 0 ? d->look : q->c[i].look;
    }
    q->nc = m;
}

/* Strongest first; ties in their first place. */
static int cand_rank_cmp(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;

    if (a->strength != b->strength)
        return a->strength < b->strength ? 1 : -1;
    return (a->order > b->order) - (a->order < b->order);
}

/* Keep the partners to return: at least min_strength, not the key itself,
 * the strongest `max`, in rank order. */
static void cand_select(qget *q, size_t max, double min_strength)
{
    size_t m = 0;

    for (size_t i = 0; i < q->nc; i++) {
        const cand *c = &q->c[i];
        bool self = c->klen == q->klen && bytes_eq(c->key, q->key, c->klen);
        if (c->strength >= min_strength && !self)
            q->c[m++] = *c;
    }
    q->nc = m;
    if (m <= 16) { /* insertion sort: stable, and cheap for a few */
        for (size_t i = 1; i < m; i++)
            for (size_t j = i;
                 j > 0 && cand_rank_cmp(&q->c[j - 1], &q->c[j]) > 0; j--) {
                cand t = q->c[j];
                q->c[j] = q->c[j - 1];
                q->c[j - 1] = t;
            }
    } else {
        qsort(q->c, m, sizeof(cand), cand_rank_cmp);
    }
    if (q->nc > max)
        q->nc = max;
}

/* Start loading the rest of item `it` (the pipeline loaded its first
 * line), so that the copies of all the values overlap. */
static void prefetch_item(const item *it)
{
    if (!it)
        return;
    const char *p = (const char *)it, *end = p + item_size(it);
    for (p += 64; p < end && p < (const char *)it + 64 * 16; p += 64)
        __builtin_prefetch(p);
}

/* Copy `n` bytes and a NUL to *p; return where they went. */
static void *put_bytes(char **p, const void *src, size_t n)
{
    char *dst = *p;

    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
    *p += n + 1;
    return dst;
}

/* Copy the value of `it` (of `slot`) and a NUL to *p; *at is where it
 * went. Returns WARP_OK or the read's error. */
static int put_value(warp_db *db, char **p, const item *it, uint32_t slot,
                     const void **at)
{
    int rc = db_deliver_value(db, slot, it, *p);

    (*p)[it->vlen] = '\0';
    *at = *p;
    *p += (size_t)it->vlen + 1;
    return rc;
}

/* Build the result from the key's item and the selected candidates'
 * lookups, in one malloc'd block. Inside the epoch section. */
static int qget_result(qget *q, const item *primary, warp_quantum_result **out)
{
    const lookups *L = &q->L;
    size_t bytes = sizeof(warp_quantum_result) +
                   q->nc * sizeof(warp_quantum_partner) + primary->vlen + 1;

    prefetch_item(primary);
    for (size_t i = 0; i < q->nc; i++) {
        const item *it = L->it[q->c[i].look];
        bytes += q->c[i].klen + 1 + (it ? (size_t)it->vlen + 1 : 0);
        prefetch_item(it);
    }
    warp_quantum_result *r = malloc(bytes); /* while the lines arrive */
    if (!r)
        return WARP_ENOMEM;
    warp_quantum_partner *pt = (warp_quantum_partner *)(r + 1);
    char *p = (char *)(pt + q->nc);
    r->vlen = primary->vlen;
    int rc = put_value(q->db, &p, primary, L->sl[0], &r->value);
    if (rc) {
        free(r);
        return rc;
    }
    r->partners = pt;
    r->npartners = q->nc;
    r->found = 0;
    for (size_t i = 0; i < q->nc; i++) {
        const cand *c = &q->c[i];
        const item *it = L->it[c->look];
        pt[i] = (warp_quantum_partner){.klen = c->klen,
                                       .rc = it ? WARP_OK : WARP_NOTFOUND,
                                       .strength = c->strength,
                                       .sources = c->sources};
        pt[i].key = put_bytes(&p, c->key, c->klen);
        if (it && (pt[i].rc = put_value(q->db, &p, it, L->sl[c->look],
                                        &pt[i].val)) == WARP_OK) {
            pt[i].vlen = it->vlen;
            r->found++;
        } else if (it) {
            pt[i].val = NULL; /* a read error: not found, with its code */
        }
    }
    r->efficiency = q->nc ? (double)r->found / (double)q->nc : 1.0;
    *out = r;
    return WARP_OK;
}

/* Tell physics: one batch get of the key and the partners returned. */
static void qget_note(qget *q)
{
    uint64_t h[PHYS_BATCH_MAX];
    uint32_t sl[PHYS_BATCH_MAX];
    size_t n = 1;

    h[0] = q->L.h[0];
    sl[0] = q->L.sl[0];
    for (size_t i = 0; i < q->nc && n < PHYS_BATCH_MAX; i++, n++) {
        h[n] = q->L.h[q->c[i].look];
        sl[n] = q->L.sl[q->c[i].look];
    }
    physics_note_batch(q->db, h, sl, n, PHYS_BATCH_ENTANGLED);
}

/* The partners: the rules' (looked up with the key), the stored list's,
 * merged, selected, and the rest looked up in a second pass. Inside the
 * epoch section, after the first pass. */
static int qget_partners(qget *q, size_t nrule, size_t max, double min_strength)
{
    const item *list = q->L.n > 1 ? q->L.it[1] : NULL;
    uint32_t list_slot = q->L.n > 1 ? q->L.sl[1] : 0;
    int rc = WARP_OK;

    if (list) {
        rc = cand_add_record(q, list, list_slot);
        if (rc == WARP_OK && q->nc > nrule)
            cand_merge(q);
    }
    if (rc)
        return rc;
    if (list || !q->selected)
        cand_select(q, max, min_strength);
    size_t from = q->L.n, more = 0;
    for (size_t i = 0; i < q->nc; i++)
        more += q->c[i].look < 0;
    if (more && (rc = lookups_reserve(q, q->L.n + more)))
        return rc;
    for (size_t i = 0; i < q->nc; i++)
        if (q->c[i].look < 0)
            q->c[i].look = lookups_add(q, q->c[i].key, q->c[i].klen);
    lookups_run(q, from);
    return WARP_OK;
}

/* Run the first pass's lookups: the key, its edge list and its rule
 * partners. While their items load (the pass's last miss), the rule
 * partners become candidates, and are selected too when there is no list
 * to merge. Inside the epoch section. */
static int qget_first_pass(qget *q, size_t nrule, size_t max,
                           double min_strength)
{
    lookups *L = &q->L;
    size_t m = L->n < DB_GROUP ? L->n : DB_GROUP;
    uint32_t live = (uint32_t)((1ull << m) - 1) & ~q->skip;
    int rc = WARP_OK;

    db_prefetch_items(q->db, m, L->h, L->sl, live, L->it);
    if (q->partners && (q->skip & 2u)) {
        /* no stored list: the rule partners are all there is, of equal
         * strength, distinct and not the key (rules_partners()), so
         * cand_select() would keep the first `max` of them, or none */
        size_t n = ENT_RULE_STRENGTH >= min_strength ? nrule : 0;
        q->nc = n < max ? n : max;
        for (size_t i = 0; i < q->nc; i++)
            q->c[i] = (cand){(const unsigned char *)q->rk[i].key,
                             q->rk[i].len,
                             ENT_RULE_STRENGTH,
                             WARP_EDGE_RULE,
                             (uint32_t)i,
                             (int32_t)(2 + i)};
        q->selected = true;
    } else {
        for (size_t i = 0; rc == WARP_OK && i < nrule; i++)
            rc = cand_add(q, q->rk[i].key, q->rk[i].len, ENT_RULE_STRENGTH,
                          WARP_EDGE_RULE, (int32_t)(2 + i));
    }
    db_find_group(q->db, m, L->key, L->klen, L->h, L->sl,
                  live | DB_FIND_PREFETCHED | DB_FIND_ITEMS, L->it);
    lookups_run(q, m);
    return rc;
}

static int check_qget(const warp_db *db, const void *key, size_t klen,
                      size_t max, double min_strength)
{
    if (!db || (!key && klen) || max > WARP_QUANTUM_MAX ||
        !(min_strength >= 0)) /* NaN too */
        return WARP_EINVAL;
    return klen > db->opts.max_key_size ? WARP_ETOOBIG : WARP_OK;
}

/* Queue the first pass: the key, then (when partners are wanted) its
 * stored list and its rule partners. */
/* Queue the key's stored edge list as lookup 1, or a lookup that is
 * skipped if its slot has never held one (db->edge_slots). The list
 * shares the key's slot unless the key holds a 0 byte (db.h). */
static int qget_list(qget *q, char **rkey, bool *heap)
{
    const lookups *L = &q->L;
    size_t rklen;

    if (!memchr(q->key, 0, q->klen) && !db_slot_has_edges(q->db, L->sl[0])) {
        lookups_skip(q);
        return WARP_OK;
    }
    *rkey = rec_key(q->key, q->klen, q->rkey_stack, sizeof(q->rkey_stack),
                    &rklen, heap);
    if (!*rkey)
        return WARP_ENOMEM;
    (void)lookups_add(q, *rkey, rklen);
    return WARP_OK;
}

/* Queue the first pass: the key, then (when partners are wanted) its
 * stored edge list and its rule partners. */
static int qget_first(qget *q, size_t max, size_t *nrule, char **rkey,
                      bool *heap)
{
    int rc;

    *nrule = 0;
    *rkey = NULL;
    *heap = false;
    (void)lookups_add(q, q->key, q->klen);
    if (!max || sys_key(q->key, q->klen))
        return WARP_OK;
    *nrule = rules_partners(&q->db->rules, q->key, q->klen, q->rbuf,
                            sizeof(q->rbuf), q->rk, ENT_RULE_KEYS, NULL);
    if (lookups_reserve(q, 2 + *nrule + max))
        return WARP_ENOMEM;
    if ((rc = qget_list(q, rkey, heap)))
        return rc;
    bool by_id = *nrule && routed_by_rule_id(q);
    for (size_t i = 0; i < *nrule; i++)
        (void)lookups_add_at(q, q->rk[i].key, q->rk[i].len,
                             by_id && q->rk[i].same_id ? q->L.sl[0]
                                                       : SLOT_UNKNOWN);
    q->partners = true;
    return WARP_OK;
}

int warp_quantum_get(warp_db *db, const void *key, size_t klen,
                     size_t max_entangled, double min_strength,
                     warp_quantum_result **out)
{
    int rc = out ? check_qget(db, key, klen, max_entangled, min_strength)
                 : WARP_EINVAL;
    size_t nrule;
    bool heap;
    char *rkey;
    epoch_thread *et;
    qget q;

    if (out)
        *out = NULL;
    if (rc)
        return rc;
    q.db = db;
    q.key = key;
    q.klen = klen;
    q.L =
        (lookups){q.lk_key, q.lk_klen, q.lk_h, q.lk_sl, q.lk_it, 0, QG_LOOKUPS};
    q.c = q.c_stack;
    q.nc = 0;
    q.ccap = QG_CANDS;
    q.heap = NULL;
    q.list = NULL;
    q.skip = 0;
    q.partners = false;
    q.selected = false;
    if ((rc = qget_first(&q, max_entangled, &nrule, &rkey, &heap)))
        goto out;
    if (!(et = epoch_enter())) {
        rc = WARP_ENOMEM;
        goto out;
    }
    if ((rc = qget_first_pass(&q, nrule, max_entangled, min_strength)))
        q.nc = 0;
    else if (!q.L.it[0])
        rc = WARP_NOTFOUND;
    else if (q.partners)
        rc = qget_partners(&q, nrule, max_entangled, min_strength);
    if (rc == WARP_OK)
        rc = qget_result(&q, q.L.it[0], out);
    epoch_exit(et);
    if (rc == WARP_NOTFOUND)
        q.nc = 0;
    if (rc == WARP_OK || rc == WARP_NOTFOUND)
        qget_note(&q);
out:
    if (heap)
        free(rkey);
    if (q.c != q.c_stack)
        free(q.c);
    free(q.heap);
    if (q.list != q.list_stack)
        free(q.list);
    return rc;
}

void warp_quantum_free(warp_quantum_result *r)
{
    free(r);
}

/* --- learning (the physics thread) ---------------------------------------- */

static uint32_t pair_home(uint64_t ha, uint64_t hb, uint32_t cap)
{
    uint64_t x = ha * 0x9E3779B97F4A7C15ull ^ (hb + (hb >> 29));

    return (uint32_t)(x >> 32) & (cap - 1);
}

/* The entry of pair (ha, hb) in map `m` (capacity `cap`), or the free one
 * where it would go. */
static pair *pair_slot(pair *m, uint32_t cap, uint64_t ha, uint64_t hb)
{
    for (uint32_t i = pair_home(ha, hb, cap);; i = (i + 1) & (cap - 1))
        if (m[i].count == 0 || (m[i].ha == ha && m[i].hb == hb))
            return &m[i];
}

/* Remove entry `p` of map `m`: backward-shift deletion, no tombstones. */
static void pair_delete(pair *m, uint32_t cap, pair *p)
{
    uint32_t i = (uint32_t)(p - m), j = i;

    for (;;) {
        j = (j + 1) & (cap - 1);
        if (m[j].count == 0)
            break;
        uint32_t home = pair_home(m[j].ha, m[j].hb, cap);
        /* m[j] may fill the hole at i if its home is not in (i, j] */
        if ((j > i && (home <= i || home > j)) ||
            (j < i && home <= i && home > j)) {
            m[i] = m[j];
            i = j;
        }
    }
    m[i].count = 0;
}

void entangle_coaccess(entangle *e, uint64_t ha, uint32_t sa, uint64_t hb,
                       uint32_t sb)
{
    if (ha > hb) {
        uint64_t t = ha;
        uint32_t u = sa;
        ha = hb;
        hb = t;
        sa = sb;
        sb = u;
    }
    pair *p = pair_slot(e->pairs, ENT_PAIRS, ha, hb);
    if (p->count == 0) {
        if (e->npairs >= ENT_PAIRS / 4 * 3) {
            count_own(&e->pairs_dropped, 1);
            return;
        }
        *p = (pair){.ha = ha, .hb = hb, .sa = (uint16_t)sa, .sb = (uint16_t)sb};
        e->npairs++;
    }
    p->count++;
    count_own(&e->pairs_seen, 1);
}

/* --- resolving hashes to keys --- */

typedef struct resolve {
    uint64_t h;
    char *key; /* malloc'd when found */
    size_t klen;
} resolve;

static void resolve_item(void *arg, const item *it)
{
    resolve *r = arg;
    const unsigned char *k = item_key(it);
    size_t kl = item_klen(it);

    if (r->key)
        return;
    if (sys_key(k, kl)) { /* an edge list: its anchor is the key */
        if (kl <= SYS_PREFIX_LEN || k[SYS_PREFIX_LEN] != SYS_ENTANGLE)
            return;
        k += SYS_PREFIX_LEN + 1;
        kl -= SYS_PREFIX_LEN + 1;
    }
    if (route_hash(k, kl) != r->h || !(r->key = malloc(kl ? kl : 1)))
        return;
    memcpy(r->key, k, kl);
    r->klen = kl;
}

/* The key of hash `h` in `slot`, from the key itself or from its edge
 * list: scan the slot's table under an epoch section. malloc'd; NULL if
 * neither is there. */
static char *resolve_key(warp_db *db, uint32_t slot, uint64_t h, size_t *klen)
{
    resolve r = {.h = h};
    epoch_thread *et = epoch_enter();

    if (!et)
        return NULL;
    table_foreach(&db->slots[slot], resolve_item, &r);
    epoch_exit(et);
    *klen = r.klen;
    return r.key;
}

/* Whether a rule relates a and b already. */
static bool rule_related(const warp_db *db, const char *a, size_t alen,
                         const char *b, size_t blen)
{
    char buf[ENT_RULE_BUF];
    rule_key rk[ENT_RULE_KEYS];
    size_t n = rules_partners(&db->rules, a, alen, buf, sizeof(buf), rk,
                              ENT_RULE_KEYS, NULL);

    for (size_t i = 0; i < n; i++)
        if (rk[i].len == blen && memcmp(rk[i].key, b, blen) == 0)
            return true;
    return false;
}

/* One edge the round changes: the pair, their keys, and what happens. */
typedef struct change {
    pair p;
    char *a, *b;
    size_t alen, blen;
    bool prune;   /* remove; else learn */
    float s;      /* learn: the strength written */
    bool created; /* learn: a new edge */
} change;

static int pair_by_count(const void *pa, const void *pb)
{
    const pair *a = pa, *b = pb;

    return (a->count < b->count) - (a->count > b->count);
}

/* The round's pairs seen at least ENT_PAIR_MIN times, most seen first, at
 * most ENT_ROUND_LEARN, into ch[]; then clear the table. */
static size_t pick_learned(entangle *e, change *ch)
{
    pair top[ENT_ROUND_LEARN];
    size_t n = 0;

    for (uint32_t i = 0; e->npairs && i < ENT_PAIRS; i++) {
        pair *p = &e->pairs[i];
        if (p->count < ENT_PAIR_MIN)
            continue;
        if (n < ENT_ROUND_LEARN) {
            top[n++] = *p;
            continue;
        }
        size_t low = 0; /* replace the least seen kept so far */
        for (size_t j = 1; j < n; j++)
            low = top[j].count < top[low].count ? j : low;
        if (p->count > top[low].count)
            top[low] = *p;
    }
    qsort(top, n, sizeof(pair), pair_by_count);
    for (size_t i = 0; i < n; i++)
        ch[i] = (change){.p = top[i]};
    if (e->npairs)
        memset(e->pairs, 0, ENT_PAIRS * sizeof(pair));
    e->npairs = 0;
    return n;
}

/* Watched learned edges that decayed below the floor, into ch[]. */
static size_t pick_pruned(const warp_db *db, const entangle *e, change *ch,
                          uint64_t now)
{
    size_t n = 0;

    for (uint32_t i = 0; e->ntrack && i < ENT_TRACK && n < ENT_ROUND_PRUNE;
         i++) {
        const pair *p = &e->track[i];
        if (p->count && decayed(p->s, p->t, now,
                                db->opts.physics_update_interval) < ENT_FLOOR)
            ch[n++] = (change){.p = *p, .prune = true};
    }
    return n;
}

/* Find both keys of each change; false for those that cannot be done. */
static bool resolve_change(warp_db *db, change *c)
{
    c->a = resolve_key(db, c->p.sa, c->p.ha, &c->alen);
    c->b = c->a ? resolve_key(db, c->p.sb, c->p.hb, &c->blen) : NULL;
    if (!c->a || !c->b)
        return false;
    if (c->prune)
        return true;
    return !sys_key(c->a, c->alen) && !sys_key(c->b, c->blen) &&
           !(c->alen == c->blen && memcmp(c->a, c->b, c->alen) == 0) &&
           !rule_related(db, c->a, c->alen, c->b, c->blen);
}

/* Drop the weakest learned edge of `r` if it has ENT_LEARNED_MAX. */
static void rec_make_room(rec *r, uint64_t now, uint64_t interval)
{
    uint32_t learned = 0, weakest = 0;
    double ws = 0;

    for (uint32_t i = 0; i < r->n; i++) {
        if (r->e[i].kind != ENT_KIND_LEARNED)
            continue;
        double s = decayed(r->e[i].strength, r->e[i].t, now, interval);
        if (learned++ == 0 || s < ws) {
            weakest = i;
            ws = s;
        }
    }
    if (learned >= ENT_LEARNED_MAX)
        rec_remove_at(r, weakest);
}

/* Learn the edge of change `c`: strengthen it, or make it. */
static int apply_learn(workset *ws, change *c)
{
    uint64_t interval = ws->db->opts.physics_update_interval;
    size_t ia, ib;
    int rc = ws_get(ws, c->a, c->alen, &ia);

    if (rc == WARP_OK)
        rc = ws_get(ws, c->b, c->blen, &ib);
    if (rc)
        return rc;
    edge *e = rec_find(&ws->r[ia], c->b, c->blen, ENT_KIND_LEARNED);
    if ((!e && ws->r[ia].n == WARP_ENTANGLE_EDGES) ||
        (!rec_find(&ws->r[ib], c->a, c->alen, ENT_KIND_LEARNED) &&
         ws->r[ib].n == WARP_ENTANGLE_EDGES)) {
        free(c->a); /* a full list: not learned, and not an error */
        free(c->b);
        c->a = c->b = NULL;
        return WARP_OK;
    }
    double s = e ? decayed(e->strength, e->t, ws->now, interval) : 0;
    c->created = s < ENT_FLOOR;
    s = c->created ? ENT_NEW : s * ENT_GROW;
    c->s = (float)(s < WARP_STRENGTH_MAX ? s : WARP_STRENGTH_MAX);
    if (c->created) {
        rec_make_room(&ws->r[ia], ws->now, interval);
        if (!rec_find(&ws->r[ib], c->a, c->alen, ENT_KIND_LEARNED))
            rec_make_room(&ws->r[ib], ws->now, interval);
    }
    return ws_link(ws, c->a, c->alen, c->b, c->blen, ENT_KIND_LEARNED, c->s);
}

/* Remove the learned edge of change `c`, if it has decayed in the lists
 * too (a list's own view wins: an edge strengthened meanwhile stays). */
static int apply_prune(workset *ws, change *c)
{
    size_t ia, ib;
    int rc = ws_get(ws, c->a, c->alen, &ia);

    if (rc == WARP_OK)
        rc = ws_get(ws, c->b, c->blen, &ib);
    if (rc)
        return rc;
    /* reading the lists dropped the learned edges below the floor */
    if (!rec_find(&ws->r[ia], c->b, c->blen, ENT_KIND_LEARNED))
        (void)rec_remove(&ws->r[ib], c->a, c->alen, 1u << ENT_KIND_LEARNED);
    return WARP_OK;
}

/* Record what the round did in the watch list and the counters. */
static void round_done(entangle *e, const change *ch, size_t n, uint64_t now)
{
    for (size_t i = 0; i < n; i++) {
        const change *c = &ch[i];
        pair *p = pair_slot(e->track, ENT_TRACK, c->p.ha, c->p.hb);
        if (c->prune) { /* done, or its keys are gone: watch it no more */
            if (p->count) {
                pair_delete(e->track, ENT_TRACK, p);
                e->ntrack--;
            }
            if (c->a)
                count_add(&e->pruned, 1);
            continue;
        }
        if (!c->a)
            continue;
        count_add(c->created ? &e->created : &e->reinforced, 1);
        if (!p->count && e->ntrack >= ENT_TRACK / 4 * 3)
            continue; /* not watched: it fades when read */
        if (!p->count)
            e->ntrack++;
        *p = c->p;
        p->count = 1;
        p->s = c->s;
        p->t = now;
    }
    atomic_store_explicit(&e->tracked, e->ntrack, memory_order_relaxed);
}

void entangle_round(warp_db *db)
{
    entangle *e = db->ent;
    change ch[ENT_ROUND_LEARN + ENT_ROUND_PRUNE];
    workset ws = {.db = db, .now = clock_wall_ms()};
    size_t n;
    int rc = WARP_OK;

    if (!e || !e->learning)
        return;
    n = pick_learned(e, ch);
    n += pick_pruned(db, e, ch + n, ws.now);
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        if (!resolve_change(db, &ch[i])) {
            free(ch[i].a);
            free(ch[i].b);
            ch[i].a = ch[i].b = NULL;
        }
    pthread_mutex_lock(&e->lock);
    for (size_t i = 0; rc == WARP_OK && i < n; i++)
        if (ch[i].a)
            rc = ch[i].prune ? apply_prune(&ws, &ch[i])
                             : apply_learn(&ws, &ch[i]);
    if (rc == WARP_OK)
        rc = ws_commit(&ws);
    pthread_mutex_unlock(&e->lock);
    ws_free(&ws);
    if (rc == WARP_OK)
        round_done(e, ch, n, ws.now);
    for (size_t i = 0; i < n; i++) {
        free(ch[i].a);
        free(ch[i].b);
    }
}
