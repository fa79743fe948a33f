/*
 * testutil.h - the vocabulary shared by the unit tests.
 *
 * Every test file includes this header first. It pulls in cmocka and
 * warp.h and adds:
 *
 *   - deterministic keys and values (format_key, fill_value, make_value),
 *     so a test can regenerate the bytes it expects instead of storing them;
 *   - assertions about the store (assert_rc, assert_get_equals,
 *     assert_get_notfound, assert_counts, ...) that report the file and
 *     line of the test that called them, not of this header;
 *   - stores that are closed after each test, pass or fail: STORE_TEST
 *     gives a test a default store in *state, OWN_STORE_TEST lets it open
 *     its own with own_store().
 *
 * The assertions use cmocka, which is not thread-safe: worker threads must
 * not call them (test-concurrency.c records failures and lets the main
 * thread assert).
 */
#ifndef WARP_TESTUTIL_H
#define WARP_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------ */
/* Keys and values                                                           */
/* ------------------------------------------------------------------------ */

/* Write the key "<prefix>:<i>" into buf (capacity cap) and return its
 * length, without the NUL that follows it. */
static inline size_t format_key(char *buf, size_t cap, const char *prefix,
                                uint64_t i)
{
    int n = snprintf(buf, cap, "%s:%llu", prefix, (unsigned long long)i);
    assert_true(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

/* Fill buf[0..len) with pseudo-random bytes determined by seed alone
 * (NUL bytes included), eight at a time (xorshift64*). Thread-safe. */
static inline void fill_value(void *buf, size_t len, uint64_t seed)
{
    uint8_t *p = buf;
    uint64_t x = ((seed + 1) * 0x9E3779B97F4A7C15ull) | 1;

    for (size_t i = 0; i < len; i += 8) {
        uint64_t word;

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        word = x * 0x2545F4914F6CDD1Dull;
        memcpy(p + i, &word, len - i < 8 ? len - i : 8);
    }
}

/* A heap buffer of len bytes filled by fill_value(seed); free() it.
 * Never NULL, even for len 0. */
static inline uint8_t *make_value(size_t len, uint64_t seed)
{
    uint8_t *buf = malloc(len > 0 ? len : 1);

    assert_non_null(buf);
    fill_value(buf, len, seed);
    return buf;
}

/* A heap copy of n bytes plus a terminating NUL; free() it. */
static inline char *dup_bytes(const void *p, size_t n)
{
    char *copy = malloc(n + 1);

    assert_non_null(copy);
    memcpy(copy, p, n);
    copy[n] = '\0';
    return copy;
}

/* A printable rendering of a (possibly binary) key, for failure messages.
 * Returns a static buffer: main thread only. */
static inline const char *describe_key(const void *key, size_t klen)
{
    static char out[128];
    const uint8_t *k = key;
    size_t o = 0, i;

    out[o++] = '"';
    for (i = 0; i < klen && i < 24; i++) {
        if (k[i] >= 0x20 && k[i] < 0x7f && k[i] != '"' && k[i] != '\\')
            out[o++] = (char)k[i];
        else
            o += (size_t)snprintf(out + o, 5, "\\x%02x", k[i]);
    }
    out[o++] = '"';
    out[o] = '\0';
    if (i < klen)
        snprintf(out + o, sizeof(out) - o, "... (%zu bytes)", klen);
    return out;
}

/* ------------------------------------------------------------------------ */
/* Assertions (each reports the caller's file and line)                      */
/* ------------------------------------------------------------------------ */

/* Assert that `expr` (a call returning a warp result code) gives `want`,
 * naming both codes on failure. */
#define assert_rc(expr, want)                                                  \
    assert_rc_at((expr), (want), #expr, __FILE__, __LINE__)
#define assert_ok(expr) assert_rc(expr, WARP_OK)

static inline void assert_rc_at(int got, int want, const char *expr,
                                const char *file, int line)
{
    if (got == want)
        return;
    print_error("%s\n  returned %d (%s), expected %d (%s)\n", expr, got,
                warp_strerror(got), want, warp_strerror(want));
    _fail(file, line);
}

/* Assert that `key` holds exactly `val` (vlen bytes): warp_get returns
 * WARP_OK, reports vlen, copies the bytes and writes nothing past them. */
#define assert_get_equals(db, key, klen, val, vlen)                            \
    assert_get_equals_at((db), (key), (klen), (val), (vlen), __FILE__, __LINE__)

static inline void assert_get_equals_at(warp_db *db, const void *key,
                                        size_t klen, const void *val,
                                        size_t vlen, const char *file, int line)
{
    size_t cap = vlen + 1;
    uint8_t *buf = malloc(cap);
    size_t got = (size_t)-1;
    int rc;

    assert_non_null(buf);
    memset(buf, 0xA5, cap);
    rc = warp_get(db, key, klen, buf, cap, &got, NULL);
    if (rc != WARP_OK) {
        print_error("get %s returned %d (%s), expected WARP_OK\n",
                    describe_key(key, klen), rc, warp_strerror(rc));
    } else if (got != vlen) {
        print_error("get %s reported length %zu, expected %zu\n",
                    describe_key(key, klen), got, vlen);
    } else if (vlen > 0 && memcmp(buf, val, vlen) != 0) {
        size_t at = 0;
        while (buf[at] == ((const uint8_t *)val)[at])
            at++;
        print_error("get %s: value differs at byte %zu of %zu\n",
                    describe_key(key, klen), at, vlen);
    } else if (buf[vlen] != 0xA5) {
        print_error("get %s wrote past the end of the value\n",
                    describe_key(key, klen));
    } else {
        free(buf);
        return;
    }
    free(buf);
    _fail(file, line);
}

/* Assert that `key` does not exist: get and exists say WARP_NOTFOUND. */
#define assert_get_notfound(db, key, klen)                                     \
    assert_get_notfound_at((db), (key), (klen), __FILE__, __LINE__)

static inline void assert_get_notfound_at(warp_db *db, const void *key,
                                          size_t klen, const char *file,
                                          int line)
{
    uint8_t buf[16];
    size_t got = 0;
    int rc = warp_get(db, key, klen, buf, sizeof(buf), &got, NULL);
    int ex = warp_exists(db, key, klen);

    if (rc == WARP_NOTFOUND && ex == WARP_NOTFOUND)
        return;
    print_error("key %s: get returned %d (%s), exists returned %d (%s), "
                "expected WARP_NOTFOUND from both\n",
                describe_key(key, klen), rc, warp_strerror(rc), ex,
                warp_strerror(ex));
    _fail(file, line);
}

/* The store's counters; fails the test if they cannot be read. */
static inline warp_stats stats_of(warp_db *db)
{
    warp_stats st;

    memset(&st, 0xff, sizeof(st));
    assert_ok(warp_stats_get(db, &st));
    return st;
}

/* Assert the store's live key count and byte sums. */
#define assert_counts(db, keys, key_bytes, value_bytes)                        \
    assert_counts_at((db), (keys), (key_bytes), (value_bytes), __FILE__,       \
                     __LINE__)

static inline void assert_counts_at(warp_db *db, uint64_t keys,
                                    uint64_t key_bytes, uint64_t value_bytes,
                                    const char *file, int line)
{
    warp_stats st = stats_of(db);

    if (st.keys == keys && st.key_bytes == key_bytes &&
        st.value_bytes == value_bytes)
        return;
    print_error("stats: keys %llu key_bytes %llu value_bytes %llu, "
                "expected %llu %llu %llu\n",
                (unsigned long long)st.keys, (unsigned long long)st.key_bytes,
                (unsigned long long)st.value_bytes, (unsigned long long)keys,
                (unsigned long long)key_bytes, (unsigned long long)value_bytes);
    _fail(file, line);
}

/* Assert that two placements name the same shard and slot. */
#define assert_same_location(a, b)                                             \
    do {                                                                       \
        assert_int_equal((a).shard, (b).shard);                                \
        assert_int_equal((a).slot, (b).slot);                                  \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Stores                                                                    */
/* ------------------------------------------------------------------------ */

/* Open an in-memory store with `opts` (NULL for the defaults). */
static inline warp_db *open_store(const warp_options *opts)
{
    warp_db *db = NULL;

    assert_ok(warp_open(NULL, opts, &db));
    assert_non_null(db);
    return db;
}

/* Open an in-memory store with the defaults but `shards` shards. */
static inline warp_db *open_store_with_shards(uint32_t shards)
{
    warp_options opts;

    warp_options_init(&opts);
    opts.shards = shards;
    return open_store(&opts);
}

/* A store with `opts` that belongs to the test: *state holds it, so the
 * teardown_store teardown closes it even when the test fails. */
static inline warp_db *own_store(void **state, const warp_options *opts)
{
    warp_db *db = open_store(opts);

    *state = db;
    return db;
}

/* A store of the test's own with the defaults but `shards` shards. */
static inline warp_db *own_store_with_shards(void **state, uint32_t shards)
{
    warp_options opts;

    warp_options_init(&opts);
    opts.shards = shards;
    return own_store(state, &opts);
}

/* cmocka setup/teardown: *state is a store opened with the defaults. */
static inline int setup_default_store(void **state)
{
    warp_db *db = NULL;

    if (warp_open(NULL, NULL, &db) != WARP_OK || db == NULL)
        return -1;
    *state = db;
    return 0;
}

static inline int teardown_store(void **state)
{
    warp_close(*state);
    *state = NULL;
    return 0;
}

/* A test that gets a default store in *state (STORE_TEST), or that opens
 * its own with own_store() (OWN_STORE_TEST); either way it is closed after
 * the test, pass or fail. */
#define STORE_TEST(f)                                                          \
    cmocka_unit_test_setup_teardown(f, setup_default_store, teardown_store)
#define OWN_STORE_TEST(f) cmocka_unit_test_teardown(f, teardown_store)

/* Store a NUL-terminated value under a NUL-terminated key (the NULs are not
 * stored), asserting success. */
#define put_str(db, key, val)                                                  \
    assert_ok(                                                                 \
        warp_put((db), (key), strlen(key), (val), strlen(val), NULL, NULL))

#define assert_get_str(db, key, val)                                           \
    assert_get_equals((db), (key), strlen(key), (val), strlen(val))

#endif /* WARP_TESTUTIL_H */
