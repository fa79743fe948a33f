/*
 * test-concurrency.c - many threads on one store.
 *
 * warp.h promises that every call but warp_close may run on any number of
 * threads at once, that reads never wait for writers, and that the tables
 * grow online. These tests race writers against writers and readers and
 * check what every thread sees:
 *
 *   - writers on disjoint keys each read back exactly what they wrote, and
 *     the main thread then finds every key;
 *   - readers of keys that writers keep overwriting only ever see a whole
 *     value written for that key, never a torn one or another key's;
 *   - readers of keys being deleted and reinserted see either WARP_NOTFOUND
 *     or a whole value;
 *   - readers keep finding every key already written while the table it
 *     lives in grows.
 *
 * Values in the racing tests are self-validating: they carry the key, the
 * writer and its sequence number, a body derived from those, and a
 * checksum, so a reader can tell a value is whole and belongs to its key.
 *
 * cmocka's assertions are not thread-safe, so worker threads record
 * failures (record_failure) and the main thread asserts there were none.
 * Every loop is bounded by an iteration count, and the counts are small
 * enough for ThreadSanitizer.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>

/* ------------------------------------------------------------------------ */
/* Threads and their failures                                                */
/* ------------------------------------------------------------------------ */

/* Failures seen by worker threads; the first one is kept in words. */
typedef struct failures {
    atomic_int count;
    char first[256];
} failures;

static void record_failure(failures *f, const char *fmt, ...)
{
    va_list ap;

    if (atomic_fetch_add(&f->count, 1) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(f->first, sizeof(f->first), fmt, ap);
    va_end(ap);
}

static void assert_no_failures(failures *f)
{
    int n = atomic_load(&f->count);

    if (n != 0)
        fail_msg("%d failures in worker threads; the first: %s", n, f->first);
}

/* What every worker thread gets: the store, its own number, where to
 * report, and a barrier so that all threads start at once. */
typedef struct worker {
    warp_db *db;
    unsigned id;
    failures *fail;
    pthread_barrier_t *start;
    void *shared; /* the test's own state */
} worker;

/* Run fn on n threads (n <= 64) sharing `shared`, and join them all. */
static void run_threads(warp_db *db, unsigned n, void *(*fn)(void *),
                        void *shared, failures *fail)
{
    pthread_t threads[64];
    worker workers[64];
    pthread_barrier_t start;

    assert_true(n <= ARRAY_SIZE(threads));
    assert_int_equal(pthread_barrier_init(&start, NULL, n), 0);
    for (unsigned i = 0; i < n; i++) {
        workers[i] = (worker){db, i, fail, &start, shared};
        assert_int_equal(pthread_create(&threads[i], NULL, fn, &workers[i]), 0);
    }
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&start);
}

/* A per-thread pseudo-random sequence. */
static uint64_t next_random(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* ------------------------------------------------------------------------ */
/* Self-validating values                                                    */
/* ------------------------------------------------------------------------ */

/*
 * Layout, little or big endian alike (written and read with memcpy):
 *
 *   0  u32 key       the key index the value was written for
 *   4  u32 writer    the writing thread
 *   8  u64 seq       the writer's sequence number
 *  16  u32 len       the value's whole length
 *  20  ...           body: fill_value(seed of key, writer, seq)
 * -8   u64 checksum  FNV-1a of every byte before it
 */
#define SV_HEADER 20
#define SV_MIN    (SV_HEADER + 8)
#define SV_MAX    1024

typedef struct sv_id {
    uint32_t key, writer;
    uint64_t seq;
} sv_id;

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t sv_seed(sv_id id)
{
    return ((uint64_t)id.key << 48) ^ ((uint64_t)id.writer << 40) ^ id.seq;
}

/* Encode the value `id` into buf (SV_MAX bytes); return its length, which
 * varies with id between SV_MIN and SV_MAX. */
static size_t sv_encode(uint8_t *buf, sv_id id)
{
    uint32_t len = SV_MIN + (uint32_t)((id.seq * 131 + id.key * 7 + id.writer) %
                                       (SV_MAX - SV_MIN + 1));
    uint64_t sum;

    memcpy(buf, &id.key, 4);
    memcpy(buf + 4, &id.writer, 4);
    memcpy(buf + 8, &id.seq, 8);
    memcpy(buf + 16, &len, 4);
    fill_value(buf + SV_HEADER, len - SV_MIN, sv_seed(id));
    sum = fnv1a(buf, len - 8);
    memcpy(buf + len - 8, &sum, 8);
    return len;
}

/* Whether buf[0..len) is a whole value written for key `key`; if it is,
 * *id receives who wrote it. */
static bool sv_decode(const uint8_t *buf, size_t len, uint32_t key, sv_id *id)
{
    uint8_t expect[SV_MAX];
    uint32_t stored_len;

    if (len < SV_MIN || len > SV_MAX)
        return false;
    memcpy(&id->key, buf, 4);
    memcpy(&id->writer, buf + 4, 4);
    memcpy(&id->seq, buf + 8, 8);
    memcpy(&stored_len, buf + 16, 4);
    if (id->key != key || stored_len != len)
        return false;
    return sv_encode(expect, *id) == len && memcmp(expect, buf, len) == 0;
}

/* The racing tests use keys "race:0" .. "race:<RACE_KEYS-1>", written by at
 * most RACE_WRITERS threads. Each reader remembers, per writer and key, the
 * highest sequence number it has seen, and checks that reads never go back
 * in time. */
#define RACE_KEYS    128
#define RACE_WRITERS 4

typedef uint64_t seen_seqs[RACE_WRITERS][RACE_KEYS];

/* The key of index k in the racing tests: "race:<k>". */
static size_t race_key(char *buf, size_t cap, uint32_t k)
{
    return (size_t)snprintf(buf, cap, "race:%u", k);
}

/* Check one read of key k: rc and the value read. `allow_missing` says
 * whether WARP_NOTFOUND is a valid answer. Returns whether a value was
 * read (and *id says whose). */
static bool check_read(failures *f, int rc, const uint8_t *val, size_t vlen,
                       uint32_t k, bool allow_missing, sv_id *id)
{
    if (rc == WARP_NOTFOUND && allow_missing)
        return false;
    if (rc != WARP_OK) {
        record_failure(f, "read of race:%u returned %d (%s)", k, rc,
                       warp_strerror(rc));
        return false;
    }
    if (!sv_decode(val, vlen, k, id)) {
        record_failure(f,
                       "read of race:%u gave a torn or foreign value "
                       "(%zu bytes)",
                       k, vlen);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Disjoint writers                                                          */
/* ------------------------------------------------------------------------ */

#define KEYS_PER_WRITER 5000

/* Key i of writer t: "w<t>:<i>"; its value: 8 + i % 24 bytes seeded by
 * both. */
static size_t own_key(char *buf, size_t cap, unsigned t, unsigned i)
{
    return (size_t)snprintf(buf, cap, "w%u:%u", t, i);
}

static size_t own_value(uint8_t *buf, unsigned t, unsigned i)
{
    size_t len = 8 + i % 24;

    fill_value(buf, len, (uint64_t)t * 1000003 + i);
    return len;
}

/* Assert from a worker that key i of writer t holds its value. */
static void check_own_key(worker *w, unsigned t, unsigned i)
{
    char key[32];
    uint8_t want[32], got[32];
    size_t klen = own_key(key, sizeof(key), t, i);
    size_t wlen = own_value(want, t, i), glen = 0;
    int rc = warp_get(w->db, key, klen, got, sizeof(got), &glen, NULL);

    if (rc != WARP_OK)
        record_failure(w->fail, "get %s returned %s", key, warp_strerror(rc));
    else if (glen != wlen || memcmp(got, want, wlen) != 0)
        record_failure(w->fail, "get %s returned the wrong value", key);
}

/* Write my keys, reading each back at once, then read them all again. */
static void *disjoint_writer(void *arg)
{
    worker *w = arg;
    char key[32];
    uint8_t val[32];

    pthread_barrier_wait(w->start);
    for (unsigned i = 0; i < KEYS_PER_WRITER; i++) {
        size_t klen = own_key(key, sizeof(key), w->id, i);
        size_t vlen = own_value(val, w->id, i);
        warp_placement put_at, got_at;
        uint8_t got[32];
        size_t glen;
        int rc = warp_put(w->db, key, klen, val, vlen, NULL, &put_at);

        if (rc != WARP_OK) {
            record_failure(w->fail, "put %s returned %s", key,
                           warp_strerror(rc));
            continue;
        }
        rc = warp_get(w->db, key, klen, got, sizeof(got), &glen, &got_at);
        if (rc != WARP_OK || glen != vlen || memcmp(got, val, vlen) != 0)
            record_failure(w->fail, "%s did not read back (rc %d)", key, rc);
        else if (got_at.shard != put_at.shard || got_at.slot != put_at.slot)
            record_failure(w->fail, "%s moved between put and get", key);
    }
    for (unsigned i = 0; i < KEYS_PER_WRITER; i++)
        check_own_key(w, w->id, i);
    return NULL;
}

/* Run `writers` disjoint writers on `db`, then check every key from the
 * main thread, and the counters. */
static void run_disjoint_writers(warp_db *db, unsigned writers)
{
    failures fail = {0};
    uint64_t kbytes = 0, vbytes = 0;

    run_threads(db, writers, disjoint_writer, NULL, &fail);
    assert_no_failures(&fail);
    for (unsigned t = 0; t < writers; t++) {
        for (unsigned i = 0; i < KEYS_PER_WRITER; i++) {
            char key[32];
            uint8_t val[32];
            size_t klen = own_key(key, sizeof(key), t, i);
            size_t vlen = own_value(val, t, i);

            assert_get_equals(db, key, klen, val, vlen);
            kbytes += klen;
            vbytes += vlen;
        }
    }
    assert_counts(db, (uint64_t)writers * KEYS_PER_WRITER, kbytes, vbytes);
    assert_true(stats_of(db).table_growths > 0);
}

static void disjoint_writers_read_back_their_own_keys(void **state)
{
    run_disjoint_writers(*state, 32);
}

static void disjoint_writers_on_one_shard_read_back_their_own_keys(void **state)
{
    warp_db *db = own_store_with_shards(state, 1);

    run_disjoint_writers(db, 8);
}

/* ------------------------------------------------------------------------ */
/* Overwriters and readers                                                   */
/* ------------------------------------------------------------------------ */

#define SHARED_KEYS 64
#define OVERWRITERS RACE_WRITERS
#define OVERWRITES  10000
#define READERS     4
#define MIN_READS   2000

/* The state of an overwrite race: threads 0 .. OVERWRITERS-1 write, the
 * rest read until every writer is done. */
typedef struct overwrite_race {
    atomic_uint writers_left;
    uint64_t last_seq[OVERWRITERS][SHARED_KEYS]; /* per writer, per key */
    bool wrote[OVERWRITERS][SHARED_KEYS];
    bool batch_writes; /* writers use put_batch instead of put */
} overwrite_race;

/* Store the value (k, writer, seq) of key k: with put, or with a batch
 * that names key k twice, first with seq - 1: the last item must win. */
static void overwrite(worker *w, overwrite_race *race, uint32_t k, uint64_t seq)
{
    char key[32];
    uint8_t first[SV_MAX], val[SV_MAX];
    size_t klen = race_key(key, sizeof(key), k);
    size_t vlen = sv_encode(val, (sv_id){k, w->id, seq});
    int rc;

    if (!race->batch_writes) {
        rc = warp_put(w->db, key, klen, val, vlen, NULL, NULL);
    } else {
        warp_put_item items[2] = {
            {.key = key,
             .klen = klen,
             .val = first,
             .vlen = sv_encode(first, (sv_id){k, w->id, seq - 1})},
            {.key = key, .klen = klen, .val = val, .vlen = vlen},
        };
        rc = warp_put_batch(w->db, items, 2, NULL);
    }
    if (rc != WARP_OK)
        record_failure(w->fail, "put %s returned %s", key, warp_strerror(rc));
    race->last_seq[w->id][k] = seq;
    race->wrote[w->id][k] = true;
}

static void overwrite_loop(worker *w, overwrite_race *race)
{
    uint64_t rnd = 0x9E3779B97F4A7C15ull * (w->id + 1);

    /* Even numbers, so that a batch can also write seq - 1. */
    for (uint64_t seq = 2; seq <= 2 * OVERWRITES; seq += 2)
        overwrite(w, race, (uint32_t)(next_random(&rnd) % SHARED_KEYS), seq);
    atomic_fetch_sub(&race->writers_left, 1);
}

/* Check a value a reader saw for key k: whole, for k, and never older than
 * what this reader saw from the same writer before. */
static void check_seen(worker *w, seen_seqs seen, int rc, const uint8_t *val,
                       size_t vlen, uint32_t k, bool allow_missing)
{
    sv_id id;

    if (!check_read(w->fail, rc, val, vlen, k, allow_missing, &id))
        return;
    if (id.writer >= RACE_WRITERS) {
        record_failure(w->fail, "race:%u: unknown writer %u", k, id.writer);
        return;
    }
    if (id.seq < seen[id.writer][k])
        record_failure(w->fail, "race:%u went back from seq %llu to %llu", k,
                       (unsigned long long)seen[id.writer][k],
                       (unsigned long long)id.seq);
    else
        seen[id.writer][k] = id.seq;
}

/* One read of key k by each of the read paths in turn: get, get_alloc,
 * get_batch, and a get into a buffer too small for any value. */
static void read_once(worker *w, seen_seqs seen, uint32_t k, unsigned how,
                      bool allow_missing)
{
    char key[32];
    uint8_t buf[SV_MAX];
    size_t klen = race_key(key, sizeof(key), k), vlen = 0;
    void *copy = NULL;
    int rc;

    switch (how % 4) {
    case 0:
        rc = warp_get(w->db, key, klen, buf, sizeof(buf), &vlen, NULL);
        check_seen(w, seen, rc, buf, vlen, k, allow_missing);
        break;
    case 1:
        rc = warp_get_alloc(w->db, key, klen, &copy, &vlen, NULL);
        check_seen(w, seen, rc, copy, vlen, k, allow_missing);
        warp_free(copy);
        break;
    case 2: {
        warp_get_item item = {
            .key = key, .klen = klen, .buf = buf, .cap = sizeof(buf)};

        rc = warp_get_batch(w->db, &item, 1);
        if (rc != WARP_OK)
            record_failure(w->fail, "get_batch returned %d", rc);
        check_seen(w, seen, item.rc, buf, item.vlen, k, allow_missing);
        break;
    }
    default:
        rc = warp_get(w->db, key, klen, buf, SV_MIN - 1, &vlen, NULL);
        if (rc == WARP_NOTFOUND && allow_missing)
            break;
        if (rc != WARP_ERANGE || vlen < SV_MIN || vlen > SV_MAX)
            record_failure(w->fail, "short get of %s: rc %d, length %zu", key,
                           rc, vlen);
        break;
    }
}

static void *overwrite_racer(void *arg)
{
    worker *w = arg;
    overwrite_race *race = w->shared;
    seen_seqs seen = {{0}};
    uint64_t rnd = 0x2545F4914F6CDD1Dull * (w->id + 1);

    pthread_barrier_wait(w->start);
    if (w->id < OVERWRITERS) {
        overwrite_loop(w, race);
        return NULL;
    }
    for (unsigned n = 0; n < MIN_READS || atomic_load(&race->writers_left) > 0;
         n++) {
        uint32_t k = (uint32_t)(next_random(&rnd) % SHARED_KEYS);

        read_once(w, seen, k, n, false);
    }
    return NULL;
}

/* Write a first value (writer 0, seq 0) to every shared key. */
static void write_initial_values(warp_db *db)
{
    for (uint32_t k = 0; k < SHARED_KEYS; k++) {
        char key[32];
        uint8_t val[SV_MAX];
        size_t klen = race_key(key, sizeof(key), k);
        size_t vlen = sv_encode(val, (sv_id){k, 0, 0});

        assert_ok(warp_put(db, key, klen, val, vlen, NULL, NULL));
    }
}

/* Assert that key k ended with the last value one of the writers wrote to
 * it (or the initial value if none did); return its length. */
static size_t assert_final_value_is_a_last_write(warp_db *db,
                                                 const overwrite_race *race,
                                                 uint32_t k)
{
    char key[32];
    uint8_t buf[SV_MAX];
    size_t klen = race_key(key, sizeof(key), k), vlen = 0;
    sv_id id;
    bool anyone = false;

    assert_ok(warp_get(db, key, klen, buf, sizeof(buf), &vlen, NULL));
    assert_true(sv_decode(buf, vlen, k, &id));
    assert_true(id.writer < OVERWRITERS);
    for (unsigned t = 0; t < OVERWRITERS; t++)
        anyone = anyone || race->wrote[t][k];
    if (!anyone)
        assert_true(id.writer == 0 && id.seq == 0);
    else
        assert_int_equal(id.seq, race->last_seq[id.writer][k]);
    return vlen;
}

static void run_overwrite_race(warp_db *db, bool batch_writes)
{
    static overwrite_race race;
    failures fail = {0};
    uint64_t kbytes = 0, vbytes = 0;

    memset(&race, 0, sizeof(race));
    race.batch_writes = batch_writes;
    atomic_store(&race.writers_left, OVERWRITERS);
    write_initial_values(db);
    run_threads(db, OVERWRITERS + READERS, overwrite_racer, &race, &fail);
    assert_no_failures(&fail);
    for (uint32_t k = 0; k < SHARED_KEYS; k++) {
        char key[32];

        kbytes += race_key(key, sizeof(key), k);
        vbytes += assert_final_value_is_a_last_write(db, &race, k);
    }
    assert_counts(db, SHARED_KEYS, kbytes, vbytes);
}

static void readers_see_only_whole_values_of_their_key(void **state)
{
    run_overwrite_race(*state, false);
}

static void readers_see_only_whole_values_during_batch_puts(void **state)
{
    run_overwrite_race(*state, true);
}

/* ------------------------------------------------------------------------ */
/* Deletes and reinserts                                                     */
/* ------------------------------------------------------------------------ */

#define CHURN_KEYS RACE_KEYS
#define CHURNERS   2
#define CHURN_OPS  10000

/* Churner t owns keys k with k % CHURNERS == t, and toggles them between
 * absent and a fresh value. */
typedef struct churn_race {
    atomic_uint writers_left;
    bool present[CHURN_KEYS]; /* the final state, by owner */
    uint64_t seq[CHURN_KEYS];
} churn_race;

static void churn_loop(worker *w, churn_race *race)
{
    uint64_t rnd = 0xD1B54A32D192ED03ull * (w->id + 1);

    for (uint64_t seq = 1; seq <= CHURN_OPS; seq++) {
        uint32_t mine = (uint32_t)(next_random(&rnd) % (CHURN_KEYS / CHURNERS));
        uint32_t k = mine * CHURNERS + w->id;
        char key[32];
        uint8_t val[SV_MAX];
        size_t klen = race_key(key, sizeof(key), k);
        int rc;

        if (race->present[k]) {
            rc = warp_delete(w->db, key, klen);
        } else {
            size_t vlen = sv_encode(val, (sv_id){k, w->id, seq});

            rc = warp_put(w->db, key, klen, val, vlen, NULL, NULL);
            race->seq[k] = seq;
        }
        if (rc != WARP_OK)
            record_failure(w->fail, "%s of %s returned %s",
                           race->present[k] ? "delete" : "put", key,
                           warp_strerror(rc));
        race->present[k] = !race->present[k];
    }
    atomic_fetch_sub(&race->writers_left, 1);
}

/* Watch the counters while keys come and go: never more keys than exist. */
static void churn_stats_loop(worker *w, churn_race *race)
{
    while (atomic_load(&race->writers_left) > 0) {
        warp_stats st;
        int rc = warp_stats_get(w->db, &st);

        if (rc != WARP_OK)
            record_failure(w->fail, "stats returned %d", rc);
        else if (st.keys > CHURN_KEYS)
            record_failure(w->fail, "stats: %llu keys of %d",
                           (unsigned long long)st.keys, CHURN_KEYS);
    }
}

/* Read random keys: each is absent or a whole value of its own. */
static void churn_read_loop(worker *w, churn_race *race)
{
    seen_seqs seen = {{0}};
    uint64_t rnd = 0x9FB21C651E98DF25ull * (w->id + 1);

    for (unsigned n = 0; n < MIN_READS || atomic_load(&race->writers_left) > 0;
         n++) {
        uint32_t k = (uint32_t)(next_random(&rnd) % CHURN_KEYS);
        char key[32];
        size_t klen = race_key(key, sizeof(key), k);
        int rc;

        if (n % 5 != 4) {
            read_once(w, seen, k, n, true);
            continue;
        }
        rc = warp_exists(w->db, key, klen);
        if (rc != WARP_OK && rc != WARP_NOTFOUND)
            record_failure(w->fail, "exists %s returned %d", key, rc);
    }
}

static void *churn_racer(void *arg)
{
    worker *w = arg;

    pthread_barrier_wait(w->start);
    if (w->id < CHURNERS)
        churn_loop(w, w->shared);
    else if (w->id == CHURNERS)
        churn_stats_loop(w, w->shared);
    else
        churn_read_loop(w, w->shared);
    return NULL;
}

static void readers_see_notfound_or_whole_values_during_deletes(void **state)
{
    static churn_race race;
    warp_db *db = *state;
    failures fail = {0};
    uint64_t keys = 0;

    memset(&race, 0, sizeof(race));
    atomic_store(&race.writers_left, CHURNERS);
    run_threads(db, CHURNERS + READERS + 1, churn_racer, &race, &fail);
    assert_no_failures(&fail);
    for (uint32_t k = 0; k < CHURN_KEYS; k++) {
        char key[32];
        uint8_t val[SV_MAX];
        size_t klen = race_key(key, sizeof(key), k), vlen;

        if (!race.present[k]) {
            assert_get_notfound(db, key, klen);
            continue;
        }
        vlen = sv_encode(val, (sv_id){k, k % CHURNERS, race.seq[k]});
        assert_get_equals(db, key, klen, val, vlen);
        keys++;
    }
    assert_int_equal(stats_of(db).keys, keys);
}

/* ------------------------------------------------------------------------ */
/* Readers during growth                                                     */
/* ------------------------------------------------------------------------ */

#define GROWERS   2
#define GROW_KEYS 4000 /* per grower */
#define HOT_SLOTS 64   /* the growers' keys all live in slots 0..63 */

/* Growers insert their keys in order and publish how many are in; readers
 * pick any published key and must find it with its value. The keys are
 * chosen (with warp_locate) to fall into a few slots, so that those slots'
 * tables grow again and again while the readers probe them. */
typedef struct growth_race {
    uint32_t key_ids[GROWERS][GROW_KEYS]; /* key j of grower t: g<t>:<id> */
    atomic_uint published[GROWERS];
    atomic_uint writers_left;
} growth_race;

static size_t grow_key(char *buf, size_t cap, unsigned t, uint32_t id)
{
    return (size_t)snprintf(buf, cap, "g%u:%u", t, id);
}

/* Fill race->key_ids with the first keys of each grower in HOT_SLOTS. */
static void choose_hot_keys(warp_db *db, growth_race *race)
{
    for (unsigned t = 0; t < GROWERS; t++) {
        uint32_t id = 0;

        for (unsigned j = 0; j < GROW_KEYS; id++) {
            char key[32];
            size_t klen = grow_key(key, sizeof(key), t, id);
            warp_placement at;

            assert_ok(warp_locate(db, key, klen, &at));
            if (at.slot < HOT_SLOTS)
                race->key_ids[t][j++] = id;
        }
    }
}

static void grow_loop(worker *w, growth_race *race)
{
    for (unsigned j = 0; j < GROW_KEYS; j++) {
        char key[32];
        uint8_t val[32];
        uint32_t id = race->key_ids[w->id][j];
        size_t klen = grow_key(key, sizeof(key), w->id, id);
        size_t vlen = own_value(val, w->id, id);
        int rc = warp_put(w->db, key, klen, val, vlen, NULL, NULL);

        if (rc != WARP_OK)
            record_failure(w->fail, "put %s returned %s", key,
                           warp_strerror(rc));
        atomic_store(&race->published[w->id], j + 1);
    }
    atomic_fetch_sub(&race->writers_left, 1);
}

static void grow_read_loop(worker *w, growth_race *race)
{
    uint64_t rnd = 0xA0761D6478BD642Full * (w->id + 1);

    for (unsigned n = 0; n < MIN_READS || atomic_load(&race->writers_left) > 0;
         n++) {
        unsigned t = (unsigned)(next_random(&rnd) % GROWERS);
        unsigned published = atomic_load(&race->published[t]);
        char key[32];
        uint8_t want[32], got[32];
        size_t klen, wlen, glen = 0;
        uint32_t id;
        int rc;

        if (published == 0)
            continue;
        id = race->key_ids[t][next_random(&rnd) % published];
        klen = grow_key(key, sizeof(key), t, id);
        wlen = own_value(want, t, id);
        rc = warp_get(w->db, key, klen, got, sizeof(got), &glen, NULL);
        if (rc != WARP_OK)
            record_failure(w->fail, "published key %s: get returned %s", key,
                           warp_strerror(rc));
        else if (glen != wlen || memcmp(got, want, wlen) != 0)
            record_failure(w->fail, "published key %s: wrong value", key);
    }
}

static void *growth_racer(void *arg)
{
    worker *w = arg;

    pthread_barrier_wait(w->start);
    if (w->id < GROWERS)
        grow_loop(w, w->shared);
    else
        grow_read_loop(w, w->shared);
    return NULL;
}

static void readers_find_every_written_key_while_tables_grow(void **state)
{
    static growth_race race;
    warp_db *db = *state;
    failures fail = {0};

    memset(&race, 0, sizeof(race));
    choose_hot_keys(db, &race);
    atomic_store(&race.writers_left, GROWERS);
    run_threads(db, GROWERS + READERS, growth_racer, &race, &fail);
    assert_no_failures(&fail);
    assert_int_equal(stats_of(db).keys, GROWERS * GROW_KEYS);
    assert_true(stats_of(db).table_growths > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(disjoint_writers_read_back_their_own_keys),
        OWN_STORE_TEST(disjoint_writers_on_one_shard_read_back_their_own_keys),
        STORE_TEST(readers_see_only_whole_values_of_their_key),
        STORE_TEST(readers_see_only_whole_values_during_batch_puts),
        STORE_TEST(readers_see_notfound_or_whole_values_during_deletes),
        STORE_TEST(readers_find_every_written_key_while_tables_grow),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
