/*
 * tier.c - event-horizon tiers: decoding tiered values, moving values
 * between tiers, the memory budget, and the Hawking demoter thread.
 *
 * MOVES (one design for demotion, promotion and cooling)
 *   A pass visits slots from a clock hand and, inside one epoch section:
 *   1. collects the slot's items that may move (never the engine's own
 *      keys, never an access_pattern=hot item: it is pinned), with each
 *      key's hash;
 *   2. asks the physics key map for their temperatures (decayed weight and
 *      time since the last access; a key never observed is the coldest);
 *   3. chooses moves: under pressure the coldest half of the candidates
 *      go one tier down; cooling moves what has not been accessed for
 *      demote_after (to photon_sphere) or deep_after (to deep_cache);
 *   4. prepares each new value without any lock: compresses it, writes
 *      its deep record, or decodes it (promotion);
 *   5. per slot, under the shard lock, publishes each new item with
 *      table_replace() if the key's item is still the one it read, and
 *      retires the old one through the limbo.
 *   The epoch section spans 1-5, so the old item cannot be freed and its
 *   address reused by another item while the move compares with it.
 *
 * THE BUDGET (maxmemory)
 *   `used` is the engine's allocator count (db->m.bytes): items, tables,
 *   limbo, the dictionary, the store's fixed structures. With a budget,
 *   items come from the allocator one by one (slab direct mode), so the
 *   memory a demotion frees is reusable by any item and can go back to
 *   the system (malloc_trim() after large frees). A write that would take
 *   `used` over the budget demotes first; the demoter keeps `used` under
 *   a low watermark (15/16 of the budget) so that writers rarely have to.
 *   When a whole turn of the clock finds nothing to demote, the store is
 *   "exhausted": writes then evict (lru, lfu) or fail with WARP_EFULL
 *   until memory is freed or the demoter finds work again.
 */
#include "tier.h"

#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "compress.h"
#include "deep.h"
#include "epoch.h"
#include "physics.h"
#include "route.h"
#include "slab.h"
#include "table.h"

#define PROMO_SLOTS  1024 /* the promotion queue: a lossy set */
#define PROMO_PROBES 4
#define PROMO_LOW    0x7FFFull /* bit 0: set; bits 1-14: the slot */
_Static_assert(WARP_SLOTS <= 1u << 14, "a slot fits in bits 1-14");
#define PASS_SLOTS         16 /* slots a pass takes from the hand at once */
#define PASS_MIN           64 /* candidates a hand pass wants to choose from */
#define PASS_VISIT_MAX     1024 /* slots it visits at most for them */
#define PASS_CANDIDATES    512  /* any pass stops gathering beyond this */
#define FROM_HAND          UINT32_MAX
#define STALE_PASSES       8    /* passes that move without freeing: give up */
#define EPOCH_TRIES        64   /* yields epoch_flush() waits at most */
#define GIVE_UP_WAITS      50   /* 1 ms waits for readers before WARP_EFULL */
#define EXHAUSTED_RETRY_MS 1000 /* the demoter's retries once exhausted */
#define COOL_ITEMS         4096 /* items a cooling tick looks at, about */
#define COOL_SLOTS         (WARP_SLOTS / 10) /* at most: a sweep a second */
#define ARENA_FLUSH        (1u << 20)  /* publish when this much is prepared */
#define DICT_SAMPLE        512         /* bytes taken from each sampled value */
#define DICT_MIN           (32u << 10) /* fewer sampled bytes: no dictionary */
#define DICT_RETRY_MS      100
#define TRIM_BYTES         (16u << 20) /* freed bytes that call malloc_trim */
#define AGE_NEVER          UINT64_MAX

enum { TO_EVICT = 3 };

static const char *const tier_names[] = {"event_horizon", "photon_sphere",
                                         "deep_cache"};

/* What the tiered items of one shard's writers count (under its lock). */
typedef struct tier_count {
    _Atomic uint64_t items, key_bytes, value_bytes, stored;
} tier_count;

typedef struct shard_counts {
    tier_count c[2]; /* ITEM_PACKED, ITEM_DEEP */
} __attribute__((aligned(64))) shard_counts;

struct tier {
    warp_db *db;
    uint64_t max, low; /* the budget and the demoter's watermark */
    deep *deep;        /* NULL without a data directory */
    _Atomic(cz_dict *) dict;
    /* recovery is over (tier_start()): no replay clears a slot, freeing
     * its items at once (migrate.c), so the dictionary may sample slots */
    _Atomic bool recovered;
    pthread_mutex_t dict_lock;
    _Atomic uint64_t dict_next_ms; /* no sampling before then */
    uint64_t open_ms;
    shard_counts *counts; /* one per shard */

    _Atomic uint32_t hand;  /* pressure and eviction passes */
    uint32_t cool_hand;     /* the demoter's cooling passes */
    _Atomic bool exhausted; /* a turn of the clock found nothing to move */
    _Atomic uint64_t exhausted_ms; /* when */

    _Atomic uint64_t hits[3], promotions[3], demotions[3];
    _Atomic uint64_t evictions, failures, promo_skipped, lost, freed;

    /* keys asked for: (hash & ~PROMO_LOW) | slot << 1 | 1, or 0 */
    _Atomic uint64_t promo[PROMO_SLOTS];

    pthread_t thread;
    bool started, stop;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t trimmed_at; /* `freed` at the last malloc_trim() */
};

static inline uint64_t used(const warp_db *db)
{
    return atomic_load_explicit(&((warp_db *)db)->m.bytes,
                                memory_order_relaxed);
}

static inline uint64_t ld(const _Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static inline void add(_Atomic uint64_t *c, int64_t d)
{
    /* one writer per counter (its shard's lock holder) */
    atomic_store_explicit(c, ld(c) + (uint64_t)d, memory_order_relaxed);
}

static inline void inc(_Atomic uint64_t *c, uint64_t d)
{
    atomic_fetch_add_explicit(c, d, memory_order_relaxed);
}

/* --- items of each tier --------------------------------------------------- */

static unsigned char *payload(const item *it)
{
    return (unsigned char *)item_val(it);
}

static uint8_t packed_codec(const item *it)
{
    return payload(it)[4];
}

static const unsigned char *packed_bytes(const item *it)
{
    return payload(it) + ITEM_PACK_HEADER;
}

/* The bytes a tiered value takes as stored (compressed, or on disk). */
static uint32_t stored_len(const item *it)
{
    return item_tier(it) == ITEM_DEEP ? deep_loc_len(payload(it))
                                      : item_packed_len(it);
}

/* Fill the header and key of a new item of tier `k`, like `like`. */
static void fill_head(item *nu, const item *like, unsigned k)
{
    nu->vlen = like->vlen;
    nu->meta = (like->meta & ~ITEM_TIER_MASK) | k << ITEM_TIER_SHIFT;
    if (item_klen(like))
        memcpy(nu->data, item_key(like), item_klen(like));
}

static void fill_packed(item *nu, const void *stored, uint32_t slen,
                        uint8_t codec)
{
    unsigned char *p = payload(nu);

    memcpy(p, &slen, sizeof(slen));
    p[4] = codec;
    if (slen)
        memcpy(p + ITEM_PACK_HEADER, stored, slen);
}

static size_t size_in(unsigned k, uint32_t klen, uint32_t vlen, uint32_t slen)
{
    switch (k) {
    case ITEM_PACKED:
        return item_size_for(klen, ITEM_PACK_HEADER + (size_t)slen);
    case ITEM_DEEP:
        return item_size_for(klen, ITEM_LOCATOR);
    default:
        return item_size_for(klen, vlen);
    }
}

/* --- counting ------------------------------------------------------------- */

static void count(tier_count *c, const item *it, int sign)
{
    add(&c->items, sign);
    add(&c->key_bytes, sign * (int64_t)item_klen(it));
    add(&c->value_bytes, sign * (int64_t)it->vlen);
    add(&c->stored, sign * (int64_t)stored_len(it));
}

void tier_note_slow(warp_db *db, shard *sh, const item *added,
                    const item *removed)
{
    shard_counts *sc = &db->tier->counts[sh->id];

    if (added && item_tier(added))
        count(&sc->c[item_tier(added) - 1], added, 1);
    if (removed && item_tier(removed)) {
        count(&sc->c[item_tier(removed) - 1], removed, -1);
        if (item_tier(removed) == ITEM_DEEP && db->tier->deep)
            deep_release(db->tier->deep, payload(removed), item_klen(removed));
    }
}

/* --- reading values ------------------------------------------------------- */

static const cz_dict *dict_of(const tier *t)
{
    return atomic_load_explicit(&((tier *)t)->dict, memory_order_acquire);
}

int tier_copy_value(warp_db *db, const item *it, void *dst)
{
    tier *t = db->tier;

    switch (item_tier(it)) {
    case ITEM_RAW:
        if (it->vlen)
            memcpy(dst, item_val(it), it->vlen);
        return WARP_OK;
    case ITEM_PACKED:
        return cz_decompress(dict_of(t), packed_codec(it), packed_bytes(it),
                             item_packed_len(it), dst, it->vlen)
                   ? WARP_ECORRUPT
                   : WARP_OK;
    case ITEM_DEEP:
        if (!t->deep)
            return WARP_ECORRUPT;
        return deep_get(t->deep, dict_of(t), payload(it), item_key(it),
                        item_klen(it), it->vlen, dst);
    default:
        return WARP_ECORRUPT;
    }
}

void tier_buf_free(tier_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->cap = 0;
}

static int buf_room(tier_buf *b, size_t n)
{
    if (n <= b->cap)
        return WARP_OK;
    void *p = realloc(b->p, n);
    if (!p)
        return WARP_ENOMEM;
    b->p = p;
    b->cap = n;
    return WARP_OK;
}

int tier_value(warp_db *db, const item *it, tier_buf *b, const void **val)
{
    int rc;

    if (item_tier(it) == ITEM_RAW) {
        *val = item_val(it);
        return WARP_OK;
    }
    if ((rc = buf_room(b, it->vlen ? it->vlen : 1)))
        return rc;
    *val = b->p;
    return tier_copy_value(db, it, b->p);
}

/* Ask the demoter to promote the key of hash `h` in `slot`: a lossy set
 * of one-word entries (the hash's high bits and the slot), PROMO_PROBES
 * places tried from the hash's own; when all are taken, the request is
 * dropped (the next get asks again). */
static void want_promotion(tier *t, uint32_t slot, uint64_t h)
{
    uint64_t e = (h & ~PROMO_LOW) | (uint64_t)slot << 1 | 1;
    uint32_t i = (uint32_t)(h >> 20);

    for (uint32_t j = 0; j < PROMO_PROBES; j++) {
        _Atomic uint64_t *q = &t->promo[(i + j) & (PROMO_SLOTS - 1)];
        uint64_t cur = atomic_load_explicit(q, memory_order_relaxed);
        if (cur == e || (cur == 0 && atomic_compare_exchange_strong_explicit(
                                         q, &cur, e, memory_order_relaxed,
                                         memory_order_relaxed)))
            return;
    }
}

int tier_deliver(warp_db *db, uint32_t slot, const item *it, void *buf)
{
    tier *t = db->tier;
    int rc = tier_copy_value(db, it, buf);

    inc(&t->hits[item_tier(it)], 1);
    if (rc == WARP_OK && item_access(it) != WARP_ACCESS_COLD &&
        (!t->max || used(db) < t->low))
        want_promotion(t, slot, route_hash(item_key(it), item_klen(it)));
    return rc;
}

/* --- the dictionary ------------------------------------------------------- */

typedef struct sample_ctx {
    warp_db *db;
    unsigned char *buf;
    size_t len, cap;
    unsigned char *tmp; /* a packed value, decoded (DICT_TMP bytes) */
} sample_ctx;

#define DICT_TMP (64u << 10)

static void sample_item(void *arg, const item *it)
{
    sample_ctx *s = arg;
    size_t n = it->vlen < DICT_SAMPLE ? it->vlen : DICT_SAMPLE;
    const void *val = item_val(it);

    if (n > s->cap - s->len)
        n = s->cap - s->len;
    if (!n || item_tier(it) == ITEM_DEEP ||
        db_is_sys_key(item_key(it), item_klen(it)))
        return;
    if (item_tier(it) == ITEM_PACKED) { /* cold puts: only packed values */
        if (it->vlen > DICT_TMP || tier_copy_value(s->db, it, s->tmp))
            return;
        val = s->tmp;
    }
    memcpy(s->buf + s->len, val, n);
    s->len += n;
}

/* The store's dictionary, built from values sampled across the slots the
 * first time one is wanted (and retried now and then while the store
 * holds too little to sample). None during recovery: the sampling walks
 * slots with no shard lock, and a replay may free a slot's items at once
 * meanwhile (a replayed slot move, migrate.c), so what recovery
 * compresses goes without one. */
static const cz_dict *dict_get(tier *t)
{
    const cz_dict *d = dict_of(t);
    warp_db *db = t->db;
    sample_ctx s = {.db = db, .cap = CZ_DICT_MAX};

    if (d || !atomic_load(&t->recovered) ||
        clock_mono_ms() < atomic_load(&t->dict_next_ms))
        return d;
    pthread_mutex_lock(&t->dict_lock);
    if ((d = dict_of(t)) || clock_mono_ms() < atomic_load(&t->dict_next_ms))
        goto out;
    atomic_store(&t->dict_next_ms, clock_mono_ms() + DICT_RETRY_MS);
    if (!(s.buf = malloc(s.cap)) || !(s.tmp = malloc(DICT_TMP)))
        goto out;
    /* up to 8 values from each of 512 slots spread over the space */
    for (uint32_t i = 0; i < 512 && s.len < s.cap; i++) {
        uint32_t slot = (uint32_t)(((uint64_t)i * WARP_SLOTS) / 512);
        sample_ctx one = {.db = db,
                          .buf = s.buf + s.len,
                          .cap = s.cap - s.len < 8 * DICT_SAMPLE
                                     ? s.cap - s.len
                                     : 8 * DICT_SAMPLE,
                          .tmp = s.tmp};
        epoch_thread *et = epoch_enter();
        if (!et)
            break;
        table_foreach(&db->slots[slot], sample_item, &one);
        epoch_exit(et);
        s.len += one.len;
    }
    if (s.len >= DICT_MIN) {
        cz_dict *nd = cz_dict_new(&db->m, s.buf, s.len);
        if (nd)
            atomic_store_explicit(&t->dict, nd, memory_order_release);
        d = nd;
    }
out:
    free(s.buf);
    free(s.tmp);
    pthread_mutex_unlock(&t->dict_lock);
    return d;
}

/* --- cold puts ------------------------------------------------------------ */

item *tier_cold_item(warp_db *db, shard *sh, const void *key, size_t klen,
                     const void *val, size_t vlen, unsigned access,
                     unsigned priority)
{
    unsigned char stack[4096];
    size_t bound = cz_bound(vlen);
    unsigned char *z = bound <= sizeof(stack) ? stack : malloc(bound);
    uint8_t codec;
    size_t slen;
    item *it = NULL;

    if (!z)
        return NULL;
    /* the dictionary, built from the store's values the first time (at
     * most every DICT_RETRY_MS while the store holds too little) */
    slen = cz_compress(dict_get(db->tier), val, vlen, z, &codec);
    it = slab_alloc(&sh->slab, item_size_for(klen, ITEM_PACK_HEADER + slen));
    if (it) {
        it->vlen = (uint32_t)vlen;
        it->meta = (uint32_t)klen | (access & 3u) << 24 |
                   (priority & 7u) << 26 |
                   (uint32_t)ITEM_PACKED << ITEM_TIER_SHIFT;
        if (klen)
            memcpy(it->data, key, klen);
        fill_packed(it, z, (uint32_t)slen, codec);
    }
    if (z != stack)
        free(z);
    return it;
}

/* --- passes: gather, choose, prepare, publish ----------------------------- */

typedef enum { PASS_PRESSURE, PASS_COOL, PASS_PROMOTE, PASS_EVICT } pass_kind;

typedef struct cand {
    const item *it;
    uint64_t h;
    uint32_t slot;
    float weight;
    uint64_t age; /* ms since the last access; AGE_NEVER: never */
    unsigned to;  /* the tier it moves to, or TO_EVICT */
    bool chosen, ready;
    uint8_t codec;
    uint32_t slen;
    size_t off; /* its new stored bytes in the arena */
    unsigned char loc[ITEM_LOCATOR];
} cand;

typedef struct pass {
    tier *t;
    pass_kind kind;
    uint64_t promote_h; /* PASS_PROMOTE: the key's hash & ~PROMO_LOW */
    cand *v;
    size_t n, cap;
    unsigned char *arena;
    size_t alen, acap;
    uint64_t freed; /* item bytes the published moves gave back */
    uint64_t moved; /* moves published (or keys evicted) */
    uint64_t seen;  /* items looked at */
    bool touched[]; /* shards that retired something, to reclaim */
} pass;

static unsigned floor_tier(const tier *t)
{
    return t->deep ? ITEM_DEEP : ITEM_PACKED;
}

/* Whether `it` may be considered by a pass of this kind at all. */
static bool movable(const pass *p, const item *it)
{
    unsigned k = item_tier(it);

    if (db_is_sys_key(item_key(it), item_klen(it)))
        return false; /* the engine's own records stay raw */
    if (p->kind == PASS_PROMOTE)
        return k != ITEM_RAW;
    if (item_access(it) == WARP_ACCESS_HOT)
        return false; /* pinned to event_horizon */
    if (p->kind == PASS_EVICT)
        return true;
    return k < floor_tier(p->t);
}

static void gather_item(void *arg, const item *it)
{
    pass *p = arg;
    cand *c;

    p->seen++;
    if (!movable(p, it))
        return;
    uint64_t h = route_hash(item_key(it), item_klen(it));
    if (p->kind == PASS_PROMOTE && (h & ~PROMO_LOW) != p->promote_h)
        return;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        cand *v = realloc(p->v, cap * sizeof(*v));
        if (!v)
            return; /* fewer candidates: not an error */
        p->v = v;
        p->cap = cap;
    }
    c = &p->v[p->n++];
    memset(c, 0, sizeof(*c));
    c->it = it;
    c->h = h;
}

/* Add the candidates of `slot`. Epoch held. */
static void gather(pass *p, uint32_t slot)
{
    size_t from = p->n;

    table_foreach(&p->t->db->slots[slot], gather_item, p);
    for (size_t i = from; i < p->n; i++)
        p->v[i].slot = slot;
}

/* Fill in every candidate's temperature. */
static void temperatures(pass *p)
{
    uint64_t *h = malloc(p->n * sizeof(*h));
    float *w = malloc(p->n * sizeof(*w));
    uint64_t *age = malloc(p->n * sizeof(*age));

    if (h && w && age) {
        for (size_t i = 0; i < p->n; i++)
            h[i] = p->v[i].h;
        physics_key_temps(p->t->db, p->n, h, w, age);
        for (size_t i = 0; i < p->n; i++) {
            p->v[i].weight = w[i];
            p->v[i].age = age[i];
        }
    } else {
        for (size_t i = 0; i < p->n; i++)
            p->v[i].age = AGE_NEVER;
    }
    free(h);
    free(w);
    free(age);
}

/* Coldest first: never observed, then the lowest weight, then the
 * longest since the last access. */
static int colder(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;
    bool na = a->age == AGE_NEVER, nb = b->age == AGE_NEVER;

    if (na != nb)
        return na ? -1 : 1;
    if (a->weight != b->weight)
        return a->weight < b->weight ? -1 : 1;
    return a->age > b->age ? -1 : a->age < b->age;
}

/* Least recently used first (lru). */
static int older(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;

    return a->age > b->age ? -1 : a->age < b->age;
}

static int by_slot(const void *pa, const void *pb)
{
    const cand *a = pa, *b = pb;

    if (a->slot != b->slot)
        return a->slot < b->slot ? -1 : 1;
    return (uintptr_t)a->it < (uintptr_t)b->it
               ? -1
               : (uintptr_t)a->it > (uintptr_t)b->it;
}

/* The coldest quarter of the candidates goes down to the lowest tier,
 * the next quarter one tier down. */
static void choose_pressure(pass *p)
{
    qsort(p->v, p->n, sizeof(*p->v), colder);
    for (size_t i = 0; i < (p->n + 1) / 2; i++) {
        p->v[i].chosen = true;
        p->v[i].to =
            i < (p->n + 3) / 4 ? floor_tier(p->t) : item_tier(p->v[i].it) + 1;
    }
}

static void choose_cool(pass *p)
{
    const warp_options *o = &p->t->db->opts;
    uint64_t since_open = clock_mono_ms() - p->t->open_ms;

    for (size_t i = 0; i < p->n; i++) {
        cand *c = &p->v[i];
        uint64_t age = c->age == AGE_NEVER ? since_open : c->age;
        unsigned k = item_tier(c->it);
        if (p->t->deep && o->deep_after && age >= o->deep_after)
            c->to = ITEM_DEEP;
        else if (k == ITEM_RAW && o->demote_after && age >= o->demote_after)
            c->to = ITEM_PACKED;
        c->chosen = c->to > k;
    }
}

static void choose_evict(pass *p)
{
    qsort(p->v, p->n, sizeof(*p->v),
          p->t->db->opts.eviction == WARP_EVICT_LRU ? older : colder);
    for (size_t i = 0; i < (p->n + 3) / 4; i++) {
        p->v[i].chosen = true;
        p->v[i].to = TO_EVICT;
    }
}

static void choose_promote(pass *p)
{
    for (size_t i = 0; i < p->n; i++) {
        cand *c = &p->v[i];
        int64_t grow = (int64_t)item_size_for(item_klen(c->it), c->it->vlen) -
                       (int64_t)item_size(c->it);
        if (item_access(c->it) == WARP_ACCESS_COLD)
            continue; /* the hint says cold: it stays down */
        if (p->t->max &&
            used(p->t->db) + (uint64_t)(grow > 0 ? grow : 0) > p->t->low) {
            inc(&p->t->promo_skipped, 1);
            continue;
        }
        c->chosen = true;
        c->to = ITEM_RAW;
    }
}

/* Room for `n` more bytes in the arena; NULL if it cannot grow. */
static unsigned char *arena_take(pass *p, size_t n, size_t *off)
{
    if (!p->arena || p->acap - p->alen < n) {
        size_t cap = p->acap ? p->acap : 64u << 10;
        while (cap - p->alen < n)
            cap *= 2;
        unsigned char *a = realloc(p->arena, cap);
        if (!a)
            return NULL;
        p->arena = a;
        p->acap = cap;
    }
    *off = p->alen;
    return p->arena + p->alen;
}

/* Compress raw item `c->it` into the arena. */
static bool prep_compress(pass *p, cand *c)
{
    const item *it = c->it;
    unsigned char *z = arena_take(p, cz_bound(it->vlen), &c->off);

    if (!z)
        return false;
    c->slen = (uint32_t)cz_compress(dict_get(p->t), item_val(it), it->vlen, z,
                                    &c->codec);
    p->alen += c->slen;
    return true;
}

/* Prepare the new value of a chosen candidate, without any lock. */
static bool prepare(pass *p, cand *c)
{
    const item *it = c->it;
    unsigned k = item_tier(it);
    const unsigned char *stored;
    unsigned char *dst;

    if (c->to == ITEM_PACKED)
        return prep_compress(p, c);
    if (c->to == ITEM_DEEP) {
        if (k == ITEM_RAW) {
            if (!prep_compress(p, c))
                return false;
            stored = p->arena + c->off;
        } else {
            c->slen = item_packed_len(it);
            c->codec = packed_codec(it);
            stored = packed_bytes(it);
        }
        return deep_put(p->t->deep, item_key(it), item_klen(it), it->vlen,
                        stored, c->slen, c->codec, c->loc) == WARP_OK;
    }
    /* promotion to event_horizon: the raw bytes */
    if (!(dst = arena_take(p, it->vlen, &c->off)))
        return false;
    if (tier_copy_value(p->t->db, it, dst) != WARP_OK)
        return false;
    p->alen += it->vlen;
    c->slen = it->vlen;
    return true;
}

/* The new item of a prepared candidate, from `sh`'s slab; NULL on ENOMEM. */
static item *build(pass *p, shard *sh, const cand *c)
{
    const item *old = c->it;
    item *nu = slab_alloc(&sh->slab,
                          size_in(c->to, item_klen(old), old->vlen, c->slen));

    if (!nu)
        return NULL;
    fill_head(nu, old, c->to);
    if (c->to == ITEM_PACKED)
        fill_packed(nu, p->arena + c->off, c->slen, c->codec);
    else if (c->to == ITEM_DEEP)
        memcpy(payload(nu), c->loc, ITEM_LOCATOR);
    else if (old->vlen)
        memcpy(payload(nu), p->arena + c->off, old->vlen);
    return nu;
}

/* Lock the shard that owns `slot` now. */
static shard *lock_slot(warp_db *db, uint32_t slot)
{
    for (;;) {
        uint32_t id = db_slot_shard(db, slot);
        shard *sh = &db->shards[id];
        pthread_mutex_lock(&sh->lock);
        if (db_slot_shard(db, slot) == id)
            return sh;
        pthread_mutex_unlock(&sh->lock);
    }
}

/* Publish one prepared move. Shard lock held. */
static bool publish_one(pass *p, shard *sh, cand *c)
{
    warp_db *db = p->t->db;
    table_root *root = &db->slots[c->slot];
    const item *old = c->it;
    item *nu;

    if (table_find(root, c->h, item_key(old), item_klen(old)) != old)
        return false; /* a write replaced it meanwhile */
    if (shard_reserve_retire(sh, 1))
        return false;
    if (!(nu = build(p, sh, c))) {
        shard_release_retire(sh, 1);
        return false;
    }
    (void)table_replace(root, c->h, old, nu);
    shard_retire_item(sh, (item *)old);
    shard_release_retire(sh, 1);
    tier_note_slow(db, sh, nu, old);
    p->freed +=
        item_size(old) > item_size(nu) ? item_size(old) - item_size(nu) : 0;
    if (c->to > item_tier(old))
        inc(&p->t->demotions[c->to], 1);
    else
        inc(&p->t->promotions[item_tier(old)], 1);
    return true;
}

/* Publish the prepared moves v[from..to), all of one slot, under its
 * shard's lock (`locked` if the caller holds it already). */
static void publish_slot(pass *p, size_t from, size_t to, shard *locked)
{
    warp_db *db = p->t->db;
    shard *sh = locked ? locked : lock_slot(db, p->v[from].slot);
    bool any = false;

    for (size_t i = from; i < to; i++) {
        cand *c = &p->v[i];
        if (!c->ready)
            continue;
        if (publish_one(p, sh, c)) {
            any = true;
            p->moved++;
        } else {
            inc(&p->t->lost, 1);
            if (c->to == ITEM_DEEP) /* written, never pointed at */
                deep_release(p->t->deep, c->loc, item_klen(c->it));
        }
    }
    if (any) {
        shard_account(sh, 0, 0, 0);
        p->touched[sh->id] = true;
    }
    if (!locked)
        pthread_mutex_unlock(&sh->lock);
}

/* Prepare and publish the chosen moves, slot by slot, publishing early
 * when the arena holds ARENA_FLUSH bytes. `locked`: the shard lock of the
 * one slot gathered, held by the caller. */
static void apply_moves(pass *p, shard *locked)
{
    size_t start = 0;

    qsort(p->v, p->n, sizeof(*p->v), by_slot);
    for (size_t i = 0; i < p->n; i++) {
        cand *c = &p->v[i];
        if (c->chosen)
            c->ready = prepare(p, c);
        bool last = i + 1 == p->n || p->v[i + 1].slot != c->slot;
        if (last || p->alen >= ARENA_FLUSH) {
            publish_slot(p, start, i + 1, locked);
            start = i + 1;
            p->alen = 0;
        }
    }
}

/* Evict the chosen candidates: logged deletes, each only if the key still
 * holds the item chosen. */
static void apply_evictions(pass *p)
{
    warp_db *db = p->t->db;

    for (size_t i = 0; i < p->n; i++) {
        const cand *c = &p->v[i];
        if (!c->chosen)
            continue;
        size_t size = item_size(c->it);
        if (db_delete_item(db, item_key(c->it), item_klen(c->it), c->it) ==
            WARP_OK) {
            p->moved++;
            p->freed += size;
            p->touched[db_slot_shard(db, c->slot)] = true;
            inc(&p->t->evictions, 1);
        }
    }
}

static pass *pass_new(tier *t, pass_kind kind)
{
    pass *p = calloc(1, sizeof(*p) + t->db->nshards * sizeof(bool));

    if (p) {
        p->t = t;
        p->kind = kind;
    }
    return p;
}

static void pass_free(pass *p)
{
    if (!p)
        return;
    free(p->v);
    free(p->arena);
    free(p);
}

/* Advance the epoch twice, so that what was retired before the call can
 * be freed: an advance waits for every reader inside a section to have
 * seen the current epoch, and readers' sections last microseconds, so a
 * few yields suffice (give up after EPOCH_TRIES). */
static void epoch_flush(void)
{
    uint64_t want = epoch_now() + 2;

    for (int i = 0; i < EPOCH_TRIES && epoch_advance() < want; i++)
        sched_yield();
}

/* Free what the shards `p` touched retired, now that the pass has left
 * its epoch section, so that the budget sees the memory back. */
static void reclaim_touched(pass *p)
{
    warp_db *db = p->t->db;

    if (p->freed)
        epoch_flush();
    for (uint32_t i = 0; i < db->nshards; i++) {
        if (!p->touched[i])
            continue;
        pthread_mutex_lock(&db->shards[i].lock);
        shard_reclaim(&db->shards[i]);
        pthread_mutex_unlock(&db->shards[i].lock);
        p->touched[i] = false;
    }
    inc(&p->t->freed, p->freed);
}

/* Choose the moves of a gathered pass and make them. */
static void decide(pass *p, shard *locked)
{
    temperatures(p);
    switch (p->kind) {
    case PASS_PRESSURE:
        choose_pressure(p);
        break;
    case PASS_COOL:
        choose_cool(p);
        break;
    case PASS_EVICT:
        choose_evict(p);
        apply_evictions(p);
        return;
    case PASS_PROMOTE:
        choose_promote(p);
        break;
    }
    apply_moves(p, locked);
}

/* One pass of `kind` over `nslots` slots from `first`: gather (up to
 * PASS_CANDIDATES), choose, move, inside one epoch section. With `locked`
 * (recovery, where a slot can be cleared and its items freed at once by
 * another replay: migrate.c), each slot is handled whole under its shard's
 * lock instead. Returns the moves made. */
typedef struct pass_result {
    uint64_t seen;  /* items looked at */
    uint64_t freed; /* item bytes its moves gave back (to come, for those
                     * still in a limbo) */
    uint32_t slots; /* slots visited */
} pass_result;

static uint64_t run_pass(tier *t, pass_kind kind, uint32_t first,
                         uint32_t nslots, bool locked, pass_result *r)
{
    pass *p = pass_new(t, kind);
    bool hand = first == FROM_HAND;
    uint32_t i, slot = 0, chunk = 0;
    epoch_thread *et;
    uint64_t moved;

    if (r)
        *r = (pass_result){.slots = nslots};
    if (!p || !(et = epoch_enter())) {
        pass_free(p);
        return 0;
    }
    for (i = 0; i < nslots; i++) {
        if (!hand) {
            slot = (first + i) % WARP_SLOTS;
        } else if (!chunk) { /* the next PASS_SLOTS slots of the clock */
            slot = atomic_fetch_add(&t->hand, PASS_SLOTS) % WARP_SLOTS;
            chunk = PASS_SLOTS;
        } else {
            slot = (slot + 1) % WARP_SLOTS;
        }
        chunk -= hand;
        if (locked) {
            shard *sh = lock_slot(t->db, slot);
            p->n = 0;
            gather(p, slot);
            if (p->n)
                decide(p, sh);
            pthread_mutex_unlock(&sh->lock);
            if (hand && !chunk && p->moved) {
                i++;
                break;
            }
            continue;
        }
        gather(p, slot);
        if (p->n >= PASS_CANDIDATES || (hand && !chunk && p->n >= PASS_MIN)) {
            i++;
            break;
        }
    }
    if (!locked && p->n)
        decide(p, NULL);
    epoch_exit(et);
    reclaim_touched(p);
    moved = p->moved;
    if (r)
        *r = (pass_result){.seen = p->seen, .freed = p->freed, .slots = i};
    pass_free(p);
    return moved;
}

static void sum_tiers(warp_db *db, warp_tier_stats ts[WARP_TIERS]);

/* The bytes every item of the store takes: what evicting all would give
 * back at most. */
static uint64_t item_bytes(tier *t)
{
    warp_tier_stats ts[WARP_TIERS];

    sum_tiers(t->db, ts);
    return ts[0].bytes + ts[1].bytes + ts[2].bytes;
}

static bool reclaim_all(tier *t);

/* Before giving up: whether `need` more bytes fit under `limit` once what
 * earlier passes retired is freed. epoch_flush() waits a few yields for
 * the readers inside a section; on a busy machine one descheduled inside
 * its section outlasts them, and the bytes it still pins would make a
 * write fail that fits. So wait for them here while some is pinned, up
 * to GIVE_UP_WAITS ms: only the writes about to fail pay it. Not in
 * recovery (`patient` false): the other shards' replays are the readers
 * then, and a replay over budget loads anyway. */
static bool fits_after_reclaim(tier *t, size_t need, uint64_t limit,
                               bool patient)
{
    for (int i = 0;; i++) {
        bool pinned = reclaim_all(t);
        if (used(t->db) + need <= limit)
            return true;
        if (!pinned || !patient || i == GIVE_UP_WAITS)
            return false;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

/* Passes of `kind` from the shared hand until `used + need <= limit`.
 *
 * What a pass frees shows in `used` only once its limbo is reclaimed,
 * which another thread's epoch section may delay; so progress is what the
 * passes gave back, and the loop stops once `used` minus what they gave
 * back fits (then it reclaims, and demotion carries on while it does not
 * fit yet; eviction does not, so as not to evict more than it must).
 *
 * Gives up after a whole turn of the clock without a move, or after
 * STALE_PASSES passes whose moves gave nothing back (incompressible
 * values with no deep_cache); eviction also when evicting every item
 * could not fit. Under pressure the store is then exhausted. Returns
 * whether it got there. */
static bool pressure(tier *t, pass_kind kind, size_t need, uint64_t limit,
                     bool locked)
{
    const uint64_t start = used(t->db);
    uint64_t gained = 0;
    uint32_t idle = 0, stale = 0;

    for (;;) {
        uint64_t u = used(t->db);
        uint64_t expect = start > gained ? start - gained : 0;
        if (u + need <= limit)
            return true;
        if ((expect < u ? expect : u) + need <= limit) {
            reclaim_all(t);
            if (kind == PASS_EVICT || used(t->db) + need <= limit)
                return true;
        }
        uint64_t ib = kind == PASS_EVICT ? item_bytes(t) : 0;
        if (kind == PASS_EVICT && ib < u && u - ib + need > limit)
            /* the index and tables alone take more, unless retired
             * items still counted in `used` are what takes it */
            return fits_after_reclaim(t, need, limit, !locked);
        pass_result r;
        uint64_t moved =
            run_pass(t, kind, FROM_HAND, PASS_VISIT_MAX, locked, &r);
        gained += r.freed;
        idle = moved ? 0 : idle + r.slots;
        stale = r.freed ? 0 : stale + (moved != 0);
        if (idle >= WARP_SLOTS || stale >= STALE_PASSES) {
            if (fits_after_reclaim(t, need, limit, !locked))
                return true;
            if (kind == PASS_PRESSURE) {
                atomic_store(&t->exhausted_ms, clock_mono_ms());
                atomic_store(&t->exhausted, true);
            }
            return false;
        }
        if (moved && kind == PASS_PRESSURE)
            atomic_store(&t->exhausted, false);
    }
}

/* Free what every shard's limbo holds that no reader can see any more:
 * deletes and overwrites give their memory back lazily (shard.c), and
 * over budget it counts. Returns whether some is left, pinned by a
 * reader still inside its epoch section. */
static bool reclaim_all(tier *t)
{
    warp_db *db = t->db;
    bool left = false;

    epoch_flush();
    for (uint32_t i = 0; i < db->nshards; i++) {
        pthread_mutex_lock(&db->shards[i].lock);
        shard_reclaim(&db->shards[i]);
        shard_account(&db->shards[i], 0, 0, 0);
        left = left || db->shards[i].limbo.count > 0;
        pthread_mutex_unlock(&db->shards[i].lock);
    }
    return left;
}

int tier_admit_slow(warp_db *db, size_t need, bool recovering)
{
    tier *t = db->tier;

    if (used(db) + need <= t->max)
        return WARP_OK;
    reclaim_all(t);
    if (used(db) + need <= t->max)
        return WARP_OK;
    /* recovery aims lower: shards replay in parallel, and each may pass
     * the check before the others' items land */
    if (!atomic_load(&t->exhausted) &&
        pressure(t, PASS_PRESSURE, need, recovering ? t->low : t->max,
                 recovering))
        return WARP_OK;
    if (recovering)
        return WARP_OK; /* load what was acknowledged; evict later */
    if (db->opts.eviction != WARP_EVICT_NONE &&
        pressure(t, PASS_EVICT, need, t->max, false))
        return WARP_OK;
    inc(&t->failures, 1);
    return WARP_EFULL;
}

/* --- promotions ----------------------------------------------------------- */

static void promote(tier *t, uint32_t slot, uint64_t h)
{
    pass *p = pass_new(t, PASS_PROMOTE);
    epoch_thread *et;

    if (!p || !(et = epoch_enter())) {
        pass_free(p);
        return;
    }
    p->promote_h = h;
    gather(p, slot);
    if (p->n)
        decide(p, NULL);
    epoch_exit(et);
    reclaim_touched(p);
    pass_free(p);
}

static void drain_promotions(tier *t)
{
    for (uint32_t i = 0; i < PROMO_SLOTS; i++) {
        if (!atomic_load_explicit(&t->promo[i], memory_order_relaxed))
            continue;
        uint64_t e = atomic_exchange(&t->promo[i], 0);
        if (e)
            promote(t, (uint32_t)(e >> 1) & (WARP_SLOTS - 1), e & ~PROMO_LOW);
    }
}

/* --- slot images ---------------------------------------------------------- */

typedef struct tiered_list {
    const item **v;
    size_t n, cap;
    bool failed;
} tiered_list;

static void list_tiered(void *arg, const item *it)
{
    tiered_list *l = arg;

    if (item_tier(it) == ITEM_RAW || l->failed)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        const item **v = realloc(l->v, cap * sizeof(*v));
        if (!v) {
            l->failed = true;
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = it;
}

int tier_raw_slot(warp_db *db, shard *sh, uint32_t slot)
{
    table_root *root = &db->slots[slot];
    tiered_list l = {0};
    int rc = WARP_OK;

    table_foreach(root, list_tiered, &l);
    if (l.failed)
        rc = WARP_ENOMEM;
    for (size_t i = 0; rc == WARP_OK && i < l.n; i++) {
        const item *old = l.v[i];
        uint64_t h = route_hash(item_key(old), item_klen(old));
        item *nu;
        if (shard_reserve_retire(sh, 1)) {
            rc = WARP_ENOMEM;
            break;
        }
        nu = slab_alloc(&sh->slab, item_size_for(item_klen(old), old->vlen));
        if (nu)
            fill_head(nu, old, ITEM_RAW);
        if (!nu || (rc = tier_copy_value(db, old, payload(nu)))) {
            if (nu)
                slab_free(&sh->slab, nu,
                          item_size_for(item_klen(old), old->vlen));
            shard_release_retire(sh, 1);
            rc = rc ? rc : WARP_ENOMEM;
            break;
        }
        (void)table_replace(root, h, old, nu);
        shard_retire_item(sh, (item *)old);
        shard_release_retire(sh, 1);
        tier_note_slow(db, sh, nu, old);
        inc(&db->tier->promotions[item_tier(old)], 1);
    }
    free(l.v);
    shard_account(sh, 0, 0, 0);
    return rc;
}

/* --- the demoter thread --------------------------------------------------- */

/* Demote what has cooled: about COOL_ITEMS items (at most COOL_SLOTS
 * slots) per tick, while physics observes (without observations every key
 * would look cold). */
static void cool(tier *t)
{
    const warp_options *o = &t->db->opts;

    uint64_t a = o->demote_after, b = t->deep ? o->deep_after : 0;
    uint64_t soonest = a && b ? (a < b ? a : b) : a | b;

    if (!soonest || warp_physics_get(t->db) == WARP_PHYSICS_OFF ||
        clock_mono_ms() - t->open_ms <
            soonest) /* nothing can be that old yet */
        return;
    uint64_t seen = 0;
    pass_result r;

    for (uint32_t done = 0; done < COOL_SLOTS && seen < COOL_ITEMS;
         done += r.slots) {
        (void)run_pass(t, PASS_COOL, t->cool_hand, 64, false, &r);
        if (!r.slots)
            break;
        t->cool_hand = (t->cool_hand + r.slots) % WARP_SLOTS;
        seen += r.seen;
    }
}

static void trim(tier *t)
{
    uint64_t freed = atomic_load(&t->freed);

    if (t->max && freed - t->trimmed_at >= TRIM_BYTES &&
        !t->db->opts.allocator.alloc) {
        malloc_trim(0);
        t->trimmed_at = freed;
    }
}

/* Keep `used` under the low watermark: demote, then (with an eviction
 * policy, over the budget) evict. Once exhausted, try again only every
 * EXHAUSTED_RETRY_MS, unless memory went down meanwhile. */
static void budget(tier *t)
{
    if (used(t->db) > t->low)
        reclaim_all(t);
    if (used(t->db) <= t->low) {
        atomic_store(&t->exhausted, false);
        return;
    }
    if (atomic_load(&t->exhausted) &&
        clock_mono_ms() - atomic_load(&t->exhausted_ms) < EXHAUSTED_RETRY_MS)
        return;
    if (pressure(t, PASS_PRESSURE, 0, t->low, false))
        return;
    if (t->db->opts.eviction != WARP_EVICT_NONE && used(t->db) > t->max)
        (void)pressure(t, PASS_EVICT, 0, t->low, false);
}

static void tick(tier *t)
{
    drain_promotions(t);
    if (t->max)
        budget(t);
    cool(t);
    if (t->deep)
        deep_reclaim(t->deep);
    trim(t);
}

static void *hawking_main(void *arg)
{
    tier *t = arg;

    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        struct timespec until = clock_deadline(HAWKING_TICK_MS);
        pthread_cond_timedwait(&t->cond, &t->lock, &until);
        if (t->stop)
            break;
        pthread_mutex_unlock(&t->lock);
        tick(t);
        pthread_mutex_lock(&t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* --- open and close ------------------------------------------------------- */

int tier_open(warp_db *db, const char *path)
{
    tier *t = calloc(1, sizeof(*t));
    int rc;

    if (!t)
        return WARP_ENOMEM;
    t->db = db;
    t->max = db->opts.maxmemory;
    t->low = t->max - t->max / 16;
    t->open_ms = clock_mono_ms();
    if (!(t->counts = aligned_alloc(64, db->nshards * sizeof(shard_counts)))) {
        free(t);
        return WARP_ENOMEM;
    }
    memset(t->counts, 0, db->nshards * sizeof(shard_counts));
    if (path && (rc = deep_open(&t->deep, path, db->opts.deep_segment_size))) {
        free(t->counts);
        free(t);
        return rc;
    }
    pthread_mutex_init(&t->dict_lock, NULL);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->cond, NULL);
    for (uint32_t i = 0; i < db->nshards; i++)
        db->shards[i].slab.direct = t->max != 0;
    db->tier = t;
    return WARP_OK;
}

int tier_start(warp_db *db)
{
    tier *t = db->tier;

    atomic_store(&t->recovered, true);
    if (pthread_create(&t->thread, NULL, hawking_main, t))
        return WARP_ENOMEM;
    pthread_setname_np(t->thread, "warp-hawking");
    t->started = true;
    return WARP_OK;
}

void tier_stop(warp_db *db)
{
    tier *t = db->tier;

    if (!t || !t->started)
        return;
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    t->started = false;
}

void tier_close(warp_db *db)
{
    tier *t = db->tier;

    if (!t)
        return;
    tier_stop(db);
    deep_close(t->deep);
    cz_dict_free(&db->m, atomic_load(&t->dict));
    pthread_mutex_destroy(&t->dict_lock);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->cond);
    free(t->counts);
    free(t);
    db->tier = NULL;
}

/* --- introspection -------------------------------------------------------- */

const char *warp_tier_name(warp_tier k)
{
    return (unsigned)k < 3 ? tier_names[k] : "?";
}

const char *tier_of_key(warp_db *db, const void *key, size_t klen)
{
    uint64_t h = route_hash(key, klen);
    uint32_t slot = db_key_slot(db, key, klen, h);
    epoch_thread *et = epoch_enter();
    const item *it;
    const char *name = "none";

    if (!et)
        return name;
    if ((it = table_find(&db->slots[slot], h, key, klen)))
        name = tier_names[item_tier(it) < 3 ? item_tier(it) : 0];
    epoch_exit(et);
    return name;
}

/* Items, bytes, value and stored bytes of each tier, from the counters:
 * the tiered ones are counted, event_horizon's are the rest. */
static void sum_tiers(warp_db *db, warp_tier_stats ts[WARP_TIERS])
{
    tier *t = db->tier;
    uint64_t keys = 0, key_bytes = 0, value_bytes = 0, tiered_keys;

    memset(ts, 0, WARP_TIERS * sizeof(*ts));
    for (uint32_t s = 0; s < db->nshards; s++) {
        keys += ld(&db->shards[s].keys);
        key_bytes += ld(&db->shards[s].key_bytes);
        value_bytes += ld(&db->shards[s].value_bytes);
        for (unsigned k = 0; k < 2; k++) {
            const tier_count *c = &t->counts[s].c[k];
            ts[k + 1].items += ld(&c->items);
            ts[k + 1].value_bytes += ld(&c->value_bytes);
            ts[k + 1].stored_bytes += ld(&c->stored);
            ts[k + 1].bytes += ld(&c->key_bytes); /* keys, for now */
        }
    }
    warp_tier_stats *raw = &ts[WARP_TIER_EVENT_HORIZON];
    warp_tier_stats *pk = &ts[WARP_TIER_PHOTON_SPHERE];
    warp_tier_stats *dp = &ts[WARP_TIER_DEEP_CACHE];
    tiered_keys = pk->bytes + dp->bytes;
    raw->items = keys - pk->items - dp->items;
    raw->value_bytes = value_bytes - pk->value_bytes - dp->value_bytes;
    raw->stored_bytes = raw->value_bytes;
    raw->bytes = raw->items * sizeof(item) + (key_bytes - tiered_keys) +
                 raw->value_bytes;
    pk->bytes +=
        pk->items * (sizeof(item) + ITEM_PACK_HEADER) + pk->stored_bytes;
    dp->bytes += dp->items * (sizeof(item) + ITEM_LOCATOR);
}

int warp_tier_metrics_get(warp_db *db, warp_tier_metrics *m)
{
    if (!db || !m)
        return WARP_EINVAL;
    tier *t = db->tier;
    warp_cosmic_metrics cm;
    deep_stats ds;

    memset(m, 0, sizeof(*m));
    sum_tiers(db, m->tiers);
    warp_tier_stats *raw = &m->tiers[WARP_TIER_EVENT_HORIZON];
    warp_tier_stats *pk = &m->tiers[WARP_TIER_PHOTON_SPHERE];
    warp_tier_stats *dp = &m->tiers[WARP_TIER_DEEP_CACHE];
    for (unsigned k = 0; k < WARP_TIERS; k++) {
        warp_tier_stats *ts = &m->tiers[k];
        ts->hits = ld(&t->hits[k]);
        ts->promotions = ld(&t->promotions[k]);
        ts->demotions = ld(&t->demotions[k]);
        ts->compression_ratio =
            ts->stored_bytes ? (double)ts->value_bytes / ts->stored_bytes : 1.0;
    }
    /* event_horizon's hits are not counted on the read path (it writes no
     * shared memory): the gets physics observed, minus the others' */
    warp_cosmic_metrics_get(db, &cm);
    raw->hits =
        cm.gets > pk->hits + dp->hits ? cm.gets - pk->hits - dp->hits : 0;
    m->maxmemory = t->max;
    m->used_bytes = used(db);
    m->eviction = db->opts.eviction;
    m->evictions = ld(&t->evictions);
    m->budget_failures = ld(&t->failures);
    m->promotions_skipped = ld(&t->promo_skipped);
    m->moves_lost = ld(&t->lost);
    m->exhausted = atomic_load(&t->exhausted);
    m->dict_bytes = cz_dict_bytes(dict_of(t));
    deep_stats_get(t->deep, &ds);
    m->deep_files = ds.files;
    m->deep_file_bytes = ds.file_bytes;
    m->deep_live_bytes = ds.live_bytes;
    m->deep_reclaimed_files = ds.reclaimed_files;
    m->deep_reclaimed_bytes = ds.reclaimed_bytes;
    m->deep_read_errors = ds.read_errors;
    m->deep_write_errors = ds.write_errors;
    return WARP_OK;
}

void tier_metrics_json(warp_db *db, FILE *f)
{
    static const char *const evict_names[] = {"none", "lru", "lfu"};
    warp_tier_metrics m;

    warp_tier_metrics_get(db, &m);
    fprintf(f,
            "\"tiers\":{\"maxmemory\":%" PRIu64 ",\"used_bytes\":%" PRIu64
            ",\"eviction\":\"%s\",\"evictions\":%" PRIu64
            ",\"budget_failures\":%" PRIu64 ",\"exhausted\":%s"
            ",\"promotions_skipped\":%" PRIu64 ",\"moves_lost\":%" PRIu64
            ",\"dict_bytes\":%" PRIu64,
            m.maxmemory, m.used_bytes,
            (unsigned)m.eviction < 3 ? evict_names[m.eviction] : "?",
            m.evictions, m.budget_failures, m.exhausted ? "true" : "false",
            m.promotions_skipped, m.moves_lost, m.dict_bytes);
    for (unsigned k = 0; k < WARP_TIERS; k++) {
        const warp_tier_stats *s = &m.tiers[k];
        fprintf(f,
                ",\"%s\":{\"items\":%" PRIu64 ",\"bytes\":%" PRIu64
                ",\"value_bytes\":%" PRIu64 ",\"stored_bytes\":%" PRIu64
                ",\"hits\":%" PRIu64 ",\"promotions\":%" PRIu64
                ",\"demotions\":%" PRIu64 ",\"compression_ratio\":%.4f",
                tier_names[k], s->items, s->bytes, s->value_bytes,
                s->stored_bytes, s->hits, s->promotions, s->demotions,
                s->compression_ratio);
        if (k == WARP_TIER_DEEP_CACHE)
            fprintf(f,
                    ",\"files\":%" PRIu64 ",\"file_bytes\":%" PRIu64
                    ",\"live_bytes\":%" PRIu64 ",\"reclaimed_files\":%" PRIu64
                    ",\"reclaimed_bytes\":%" PRIu64 ",\"read_errors\":%" PRIu64
                    ",\"write_errors\":%" PRIu64,
                    m.deep_files, m.deep_file_bytes, m.deep_live_bytes,
                    m.deep_reclaimed_files, m.deep_reclaimed_bytes,
                    m.deep_read_errors, m.deep_write_errors);
        fputc('}', f);
    }
    fputc('}', f);
}
