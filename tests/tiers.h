/*
 * tiers.h - what the tier tests share: values that are a pure function of
 * (key index, version), every read path checked against them, and the
 * store options and budgets they run with.
 *
 * A value is a 16-byte header holding its version and key index, then
 * either random bytes (incompressible) or text-like bytes (compressible),
 * 0 .. 64 KiB, so that every read can be checked to the byte.
 */
#ifndef WARP_TEST_TIERS_H
#define WARP_TEST_TIERS_H

#include "testutil.h"

#include "durability.h"

#include <stdatomic.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

#define HDR 16

static inline uint64_t mix64(uint64_t k, uint64_t v)
{
    uint64_t s = k * 0x9E3779B97F4A7C15ull ^ (v + 1) * 0xD6E8FEB86659FD93ull;
    return next_rand(&s);
}

/* Sizes 0 .. 64 KiB, mostly small. */
static inline size_t vsize(uint32_t k, uint64_t v)
{
    uint64_t h = mix64(k, v);

    switch (h % 8) {
    case 0:
        return (size_t)(h >> 8) % 16; /* tiny, even empty */
    case 1:
        return HDR + (size_t)(h >> 8) % (64u << 10);
    case 2:
        return 64u << 10; /* the largest */
    default:
        return HDR + (size_t)(h >> 8) % 2048;
    }
}

static const char *const words[] = {
    "alpha ",  "beta ",      "gamma ",   "delta ",
    "\"id\":", "{\"name\":", "\x00\x01", "zeta "};

static inline void vfill(uint8_t *buf, uint32_t k, uint64_t v)
{
    size_t n = vsize(k, v), i = 0;
    uint64_t s = mix64(k, v);
    uint8_t hdr[HDR];

    memcpy(hdr, &v, 8);
    memcpy(hdr + 8, &k, 4);
    memcpy(hdr + 12, "tier", 4);
    if (s % 2) { /* incompressible */
        fill_value(buf, n, s);
    } else { /* compressible: words */
        while (i < n) {
            const char *w = words[next_rand(&s) % 8];
            size_t l = w[0] ? strlen(w) : 2;
            if (l > n - i)
                l = n - i;
            memcpy(buf + i, w, l);
            i += l;
        }
    }
    memcpy(buf, hdr, n < HDR ? n : HDR);
}

static inline size_t kname(char *buf, uint32_t k)
{
    return format_key(buf, 32, "tier", k);
}

static inline void put_kv(warp_db *db, uint32_t k, uint64_t v,
                          warp_access_pattern a)
{
    static _Thread_local uint8_t buf[(64u << 10) + 64];
    warp_put_options po = {.access_pattern = a};
    char key[32];
    size_t kl = kname(key, k);

    vfill(buf, k, v);
    assert_ok(warp_put(db, key, kl, buf, vsize(k, v), &po, NULL));
}

/* Whether key k holds exactly version v, by every read path. */
static inline void check_kv(warp_db *db, uint32_t k, uint64_t v)
{
    static uint8_t want[(64u << 10) + 64], got[(64u << 10) + 64];
    size_t n = vsize(k, v), len = 0;
    char key[32];
    size_t kl = kname(key, k);
    void *a = NULL;

    vfill(want, k, v);
    assert_ok(warp_get(db, key, kl, got, sizeof(got), &len, NULL));
    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
    assert_ok(warp_get_alloc(db, key, kl, &a, &len, NULL));
    assert_int_equal(len, n);
    assert_memory_equal(a, want, n);
    warp_free(a);
    if (n > 0) /* too small a buffer: the length, nothing copied */
        assert_rc(warp_get(db, key, kl, got, n - 1, &len, NULL), WARP_ERANGE);
}

static inline void check_batch(warp_db *db, uint32_t nkeys, const uint64_t *ver)
{
    enum { B = 20 };
    static uint8_t bufs[B][(64u << 10) + 64], want[(64u << 10) + 64];
    char keys[B][32];
    warp_get_item it[B];

    for (uint32_t base = 0; base < nkeys; base += B) {
        uint32_t m = nkeys - base < B ? nkeys - base : B;
        for (uint32_t i = 0; i < m; i++)
            it[i] = (warp_get_item){.key = keys[i],
                                    .klen = kname(keys[i], base + i),
                                    .buf = bufs[i],
                                    .cap = sizeof(bufs[i])};
        assert_ok(warp_get_batch(db, it, m));
        for (uint32_t i = 0; i < m; i++) {
            if (ver[base + i] == 0) {
                assert_rc(it[i].rc, WARP_NOTFOUND);
                continue;
            }
            assert_ok(it[i].rc);
            vfill(want, base + i, ver[base + i]);
            assert_int_equal(it[i].vlen, vsize(base + i, ver[base + i]));
            assert_memory_equal(bufs[i], want, it[i].vlen);
        }
    }
}

typedef struct seen_ctx {
    const uint64_t *ver;
    uint32_t nkeys, count;
    uint64_t in_flight; /* key nkeys may be there at this version; 0: not */
    bool in_flight_seen;
} seen_ctx;

static inline int check_pair(void *arg, const void *key, size_t klen,
                             const void *val, size_t vlen,
                             const warp_placement *where)
{
    static uint8_t want[(64u << 10) + 64];
    seen_ctx *c = arg;
    char buf[40];
    unsigned long k;

    (void)where;
    memcpy(buf, key, klen < 39 ? klen : 39);
    buf[klen < 39 ? klen : 39] = 0;
    assert_int_equal(sscanf(buf, "tier:%lu", &k), 1);
    uint64_t v = k < c->nkeys ? c->ver[k] : k == c->nkeys ? c->in_flight : 0;
    assert_true(v != 0);
    vfill(want, (uint32_t)k, v);
    assert_int_equal(vlen, vsize((uint32_t)k, v));
    assert_memory_equal(val, want, vlen);
    if (k < c->nkeys)
        c->count++;
    else
        c->in_flight_seen = true;
    return 0;
}

/* Every key holds its version (0: absent), by get, get_alloc, batch get
 * and foreach; key `nkeys` too, at version `in_flight`, or is absent (a
 * write in flight when the store was killed: neither outcome is wrong),
 * unless `in_flight` is 0. */
static inline void check_all_but_in_flight(warp_db *db, uint32_t nkeys,
                                           const uint64_t *ver,
                                           uint64_t in_flight)
{
    seen_ctx c = {.ver = ver, .nkeys = nkeys, .in_flight = in_flight};
    uint32_t live = 0;

    for (uint32_t k = 0; k < nkeys; k++) {
        if (ver[k]) {
            check_kv(db, k, ver[k]);
            live++;
        } else {
            char key[32];
            assert_get_notfound(db, key, kname(key, k));
        }
    }
    check_batch(db, nkeys, ver);
    assert_ok(warp_foreach(db, check_pair, &c));
    assert_int_equal(c.count, live);
    if (c.in_flight_seen)
        check_kv(db, nkeys, in_flight);
}

static inline void check_all(warp_db *db, uint32_t nkeys, const uint64_t *ver)
{
    check_all_but_in_flight(db, nkeys, ver, 0);
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static inline warp_tier_metrics tiers_of(warp_db *db)
{
    warp_tier_metrics m;

    assert_ok(warp_tier_metrics_get(db, &m));
    return m;
}

static inline void sleep_ms(unsigned ms)
{
    struct timespec t = {.tv_sec = ms / 1000,
                         .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Wait up to `ms` for tier k to hold at least `items` values. */
static inline bool wait_items(warp_db *db, warp_tier k, uint64_t items,
                              unsigned ms)
{
    for (unsigned waited = 0;; waited += 20) {
        if (tiers_of(db).tiers[k].items >= items)
            return true;
        if (waited >= ms)
            return false;
        sleep_ms(20);
    }
}

static inline const char *tier_of(warp_db *db, uint32_t k)
{
    warp_explain_info e;
    char key[32];

    assert_ok(warp_explain(db, key, kname(key, k), &e));
    return e.tier;
}

static inline warp_options tier_options(uint64_t maxmemory)
{
    warp_options o = disk_options(4, WARP_FSYNC_NEVER);

    o.maxmemory = maxmemory;
    o.physics = WARP_PHYSICS_OFF;
    o.huge_pages = false;
    return o;
}

/* What an empty store with `o` counts against its budget: its fixed
 * structures (the slot table, the shards), about half a MiB. */
static inline uint64_t base_used(const warp_options *o)
{
    warp_db *db = open_store(o);
    uint64_t u = tiers_of(db).used_bytes;

    warp_close(db);
    return u;
}

/* Options with a budget of `extra` bytes over an empty store's. */
static inline warp_options budget_options(uint64_t extra)
{
    warp_options o = tier_options(1);

    o.maxmemory = base_used(&o) + extra;
    return o;
}

/* Resident memory of the process, from /proc/self/statm. */
static inline uint64_t rss_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

#endif /* WARP_TEST_TIERS_H */
