/*
 * test-migrate-threads.c - slots moving back and forth while four threads
 * read and write them lose nothing and serve nothing stale: afterwards
 * every key holds its last written value, and the counters add up.
 *
 * Four worker threads put (single and batch) and delete keys, each owning
 * the keys k with k % 4 == its number, so each keeps an exact model of its
 * own keys; after each write it reads the key back (its own write must be
 * there, exactly), and it reads other threads' keys, whose values must be
 * whole (a value names its key and version and its bytes follow from
 * them). Most keys carry one of a few hash tags, so that a few slots hold
 * keys of every thread, and those slots are the ones a mover thread moves
 * from shard to shard, with a random other slot now and then. In memory,
 * with fsync=everysec, and with fsync=always (the moves meet the group
 * commit's pending writes); on disk the store is then reopened and checked
 * again, slot table included. Worker threads do not call cmocka: they
 * count failures and the main thread asserts. Labelled `concurrency`, so
 * it runs under TSan too.
 */
#include "testutil.h"

#include "durability.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define THREADS    4
#define SHARDS     4
#define NKEYS      2400
#define TAGS       12 /* hash-tag groups: the slots that move most */
#define RUN_MS     1500
#define VAL_HEADER 8

/* Key k: "{mt<g>}:k" for most keys (g one of TAGS groups, which mixes
 * every thread's keys), "mt:k" for every fifth. */
static size_t key_of(char *buf, size_t cap, uint32_t k)
{
    int n = k % 5 == 0
                ? snprintf(buf, cap, "mt:%u", k)
                : snprintf(buf, cap, "{mt%u}:%u", (k / THREADS) % TAGS, k);
    return (size_t)n;
}

static size_t vlen_of(uint32_t k, uint32_t v)
{
    return VAL_HEADER + (size_t)((k * 7u + v * 13u) % 300u);
}

/* The value of version v of key k: k and v, then bytes that follow from
 * them, so a reader can tell a whole value from anything else. */
static void value_fill(uint8_t *buf, uint32_t k, uint32_t v)
{
    memcpy(buf, &k, 4);
    memcpy(buf + 4, &v, 4);
    fill_value(buf + VAL_HEADER, vlen_of(k, v) - VAL_HEADER,
               (uint64_t)k << 32 | v);
}

/* Whether buf[0..len) is a whole value of key k. */
static bool value_whole(const uint8_t *buf, size_t len, uint32_t k)
{
    uint8_t want[VAL_HEADER + 300];
    uint32_t kk, v;

    if (len < VAL_HEADER)
        return false;
    memcpy(&kk, buf, 4);
    memcpy(&v, buf + 4, 4);
    if (kk != k || v == 0 || len != vlen_of(k, v))
        return false;
    value_fill(want, k, v);
    return memcmp(want, buf, len) == 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

typedef struct shared {
    warp_db *db;
    uint64_t seed;
    uint32_t *version; /* per key; written only by the key's thread */
    _Atomic bool stop;
} shared;

typedef struct worker {
    shared *s;
    uint32_t id;
    uint64_t ops, moves;
    int failures; /* calls that did not return what they should */
    int first_rc, first_line;
} worker;

#define CHECK(w, cond, rc)                                                     \
    do {                                                                       \
        if (!(cond) && (w)->failures++ == 0) {                                 \
            (w)->first_rc = (rc);                                              \
            (w)->first_line = __LINE__;                                        \
        }                                                                      \
    } while (0)

/* Read key k back: exactly version v (0: absent). */
static void read_own(worker *w, uint32_t k, uint32_t v)
{
    uint8_t got[VAL_HEADER + 300], want[VAL_HEADER + 300];
    char key[32];
    size_t klen = key_of(key, sizeof(key), k), glen = 0;
    int rc = warp_get(w->s->db, key, klen, got, sizeof(got), &glen, NULL);

    if (!v) {
        CHECK(w, rc == WARP_NOTFOUND, rc);
        return;
    }
    value_fill(want, k, v);
    CHECK(w,
          rc == WARP_OK && glen == vlen_of(k, v) &&
              memcmp(got, want, glen) == 0,
          rc);
}

/* Read another thread's key: absent, or a whole value of it. */
static void read_other(worker *w, uint32_t k)
{
    uint8_t got[VAL_HEADER + 300];
    char key[32];
    size_t klen = key_of(key, sizeof(key), k), glen = 0;
    int rc = warp_get(w->s->db, key, klen, got, sizeof(got), &glen, NULL);

    CHECK(w,
          rc == WARP_NOTFOUND || (rc == WARP_OK && value_whole(got, glen, k)),
          rc);
}

static uint32_t own_key(worker *w, uint64_t r)
{
    return (uint32_t)(r % (NKEYS / THREADS)) * THREADS + w->id;
}

/* Put 4 of this thread's keys in one batch. */
static void put_batch(worker *w, uint64_t *rng)
{
    uint8_t vals[4][VAL_HEADER + 300];
    char keys[4][32];
    warp_put_item items[4];
    uint32_t ks[4], vs[4];
    int rc;

    for (int i = 0; i < 4; i++) {
        ks[i] = own_key(w, next_rand(rng));
        for (int j = 0; j < i; j++)
            if (ks[j] == ks[i])
                ks[i] = ks[j]; /* duplicates: the later version wins */
        vs[i] = ++w->s->version[ks[i]];
        value_fill(vals[i], ks[i], vs[i]);
        items[i] = (warp_put_item){.key = keys[i],
                                   .klen = key_of(keys[i], 32, ks[i]),
                                   .val = vals[i],
                                   .vlen = vlen_of(ks[i], vs[i])};
    }
    rc = warp_put_batch(w->s->db, items, 4, NULL);
    CHECK(w, rc == WARP_OK, rc);
    for (int i = 0; i < 4; i++)
        read_own(w, ks[i], w->s->version[ks[i]]);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    shared *s = w->s;
    uint64_t rng = s->seed ^ (w->id + 1) * 0x9E3779B97F4A7C15ull;
    uint8_t val[VAL_HEADER + 300];
    char key[32];

    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        uint64_t r = next_rand(&rng);
        uint32_t k = own_key(w, r);
        size_t klen = key_of(key, sizeof(key), k);
        int rc;

        switch ((r >> 40) % 8) {
        case 0:
            rc = warp_delete(s->db, key, klen);
            CHECK(w, rc == (s->version[k] ? WARP_OK : WARP_NOTFOUND), rc);
            s->version[k] = 0;
            read_own(w, k, 0);
            break;
        case 1:
            put_batch(w, &rng);
            break;
        case 2:
        case 3:
            read_other(w, (uint32_t)(next_rand(&rng) % NKEYS));
            break;
        default: {
            uint32_t v = s->version[k] + 1;
            value_fill(val, k, v);
            rc = warp_put(s->db, key, klen, val, vlen_of(k, v), NULL, NULL);
            CHECK(w, rc == WARP_OK, rc);
            s->version[k] = v;
            read_own(w, k, v);
        }
        }
        w->ops++;
    }
    return NULL;
}

static uint32_t slot_of(warp_db *db, uint32_t k, uint32_t *shard)
{
    char key[32];
    size_t klen = key_of(key, sizeof(key), k);
    warp_placement p;

    if (warp_locate(db, key, klen, &p) != WARP_OK)
        return UINT32_MAX;
    if (shard)
        *shard = p.shard;
    return p.slot;
}

/* Move the slots of the tagged keys (and now and then another) to random
 * shards until told to stop. */
static void *mover_main(void *arg)
{
    worker *w = arg;
    shared *s = w->s;
    uint64_t rng = s->seed ^ 0xB0B;

    while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        uint64_t r = next_rand(&rng);
        uint32_t k = (uint32_t)(r % NKEYS), from = 0;
        uint32_t slot = slot_of(s->db, k, &from);
        uint32_t to = (uint32_t)((r >> 32) % SHARDS);
        int rc = warp_slot_move(s->db, slot, to);
        CHECK(w, rc == WARP_OK, rc);
        w->moves += to != from;
    }
    return NULL;
}

/* Every key holds its model value; counters add up, per shard too. */
static void verify(warp_db *db, const uint32_t *version)
{
    uint64_t keys = 0, kb = 0, vb = 0, sk[SHARDS] = {0}, sb[SHARDS] = {0};

    for (uint32_t k = 0; k < NKEYS; k++) {
        char key[32];
        size_t klen = key_of(key, sizeof(key), k);
        uint32_t v = version[k], shard = 0;
        uint8_t want[VAL_HEADER + 300];

        if (!v) {
            assert_get_notfound(db, key, klen);
            continue;
        }
        value_fill(want, k, v);
        assert_get_equals(db, key, klen, want, vlen_of(k, v));
        assert_int_not_equal(slot_of(db, k, &shard), UINT32_MAX);
        keys++;
        kb += klen;
        vb += vlen_of(k, v);
        sk[shard]++;
        sb[shard] += klen + vlen_of(k, v);
    }
    assert_counts(db, keys, kb, vb);
    uint32_t slots = 0;
    for (uint32_t i = 0; i < SHARDS; i++) {
        warp_shard_stats st;
        assert_ok(warp_shard_stats_get(db, i, &st));
        assert_int_equal(st.keys, sk[i]);
        assert_int_equal(st.key_bytes + st.value_bytes, sb[i]);
        slots += st.slots;
    }
    assert_int_equal(slots, WARP_SLOTS);
}

/* Run the workers and the mover for RUN_MS; then verify. Returns the
 * model (each key's last version, 0: absent); the caller frees it. */
static uint32_t *run(warp_db *db, const char *what)
{
    shared s = {.db = db, .seed = test_seed(what)};
    worker w[THREADS + 1];
    pthread_t th[THREADS + 1];
    uint64_t ops = 0, t0 = now_ms();

    s.version = calloc(NKEYS, sizeof(*s.version));
    assert_non_null(s.version);
    for (uint32_t t = 0; t <= THREADS; t++) {
        w[t] = (worker){.s = &s, .id = t};
        assert_int_equal(pthread_create(&th[t], NULL,
                                        t < THREADS ? worker_main : mover_main,
                                        &w[t]),
                         0);
    }
    while (now_ms() - t0 < RUN_MS)
        usleep(10000);
    atomic_store(&s.stop, true);
    for (uint32_t t = 0; t <= THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        if (w[t].failures) {
            print_error("%s %u: %d checks failed, the first at line %d "
                        "(rc %d, %s)\n",
                        t < THREADS ? "worker" : "mover", t, w[t].failures,
                        w[t].first_line, w[t].first_rc,
                        warp_strerror(w[t].first_rc));
            fail();
        }
        ops += w[t].ops;
    }
    printf("# %s: %llu operations, %llu slot moves in %llu ms\n", what,
           (unsigned long long)ops, (unsigned long long)w[THREADS].moves,
           (unsigned long long)(now_ms() - t0));
    assert_true(w[THREADS].moves > 0);
    verify(db, s.version);
    return s.version;
}

static void moves_while_four_threads_read_and_write_in_memory(void **state)
{
    warp_db *db = own_store_with_shards(state, SHARDS);

    free(run(db, "moves in memory"));
}

/* The slot table, read through a probe key per slot. */
static uint16_t *owners_of(warp_db *db)
{
    uint16_t *o = malloc(WARP_SLOTS * sizeof(*o));
    uint32_t left = WARP_SLOTS;
    bool *seen = calloc(WARP_SLOTS, 1);

    assert_non_null(o);
    assert_non_null(seen);
    for (uint32_t n = 0; left; n++) {
        char key[32];
        int klen = snprintf(key, sizeof(key), "probe:%u", n);
        warp_placement p;
        assert_ok(warp_locate(db, key, (size_t)klen, &p));
        if (!seen[p.slot]) {
            seen[p.slot] = true;
            o[p.slot] = (uint16_t)p.shard;
            left--;
        }
    }
    free(seen);
    return o;
}

static void run_disk(test_dir *d, warp_fsync mode, const char *what)
{
    warp_options o = disk_options(SHARDS, mode);
    warp_db *db = open_disk(d->db, &o);
    uint32_t *version = run(db, what);
    uint16_t *owners = owners_of(db);
    warp_close(db);
    db = open_disk(d->db, &o);
    verify(db, version);
    uint16_t *again = owners_of(db);
    assert_memory_equal(owners, again, WARP_SLOTS * sizeof(*owners));
    warp_close(db);
    free(owners);
    free(again);
    free(version);
}

static void moves_while_four_threads_write_everysec_lose_nothing(void **state)
{
    run_disk(*state, WARP_FSYNC_EVERYSEC, "moves, fsync=everysec");
}

static void moves_while_four_threads_write_always_lose_nothing(void **state)
{
    run_disk(*state, WARP_FSYNC_ALWAYS, "moves, fsync=always");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        OWN_STORE_TEST(moves_while_four_threads_read_and_write_in_memory),
        DIR_TEST(moves_while_four_threads_write_everysec_lose_nothing),
        DIR_TEST(moves_while_four_threads_write_always_lose_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
