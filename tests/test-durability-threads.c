/*
 * test-durability-threads.c - checkpoints taken while several threads
 * write lose nothing: after the writers finish and the store is reopened,
 * every key holds exactly what the model says.
 *
 * Four writer threads put and delete keys (each owns the keys i with
 * i % 4 == its number, so each keeps an exact model of its own keys)
 * while the main thread checkpoints over and over (and, in the last
 * test, syncs too, with small WAL segments). Worker threads do not
 * call cmocka: they count failures and the main thread asserts.
 * Black-box; labelled `concurrency` as well, so it runs under TSan.
 */
#include "testutil.h"

#include "durability.h"

#include <pthread.h>

#define THREADS        4
#define NKEYS          2000
#define OPS_PER_THREAD 3000

static size_t vlen_of(uint32_t k, uint32_t v)
{
    return (size_t)((k * 7u + v * 13u) % 500u);
}

static uint64_t seed_of(uint32_t k, uint32_t v)
{
    return (uint64_t)k << 32 | v;
}

typedef struct writer {
    warp_db *db;
    uint32_t id;
    uint64_t seed;
    uint32_t *version; /* shared array; this thread writes only its keys */
    int failures;      /* calls that did not return what they should */
    int first_rc;      /* the first unexpected result */
} writer;

static void *writer_main(void *arg)
{
    writer *w = arg;
    uint64_t rng = w->seed ^ w->id;
    uint8_t val[512], got[512];
    char key[32];

    for (int n = 0; n < OPS_PER_THREAD; n++) {
        uint64_t r = next_rand(&rng);
        uint32_t k = (uint32_t)(r % (NKEYS / THREADS)) * THREADS + w->id;
        int klen = snprintf(key, sizeof(key), "mt:%u", k);
        int rc, want;

        if ((r >> 40) % 6 == 0) {
            want = w->version[k] ? WARP_OK : WARP_NOTFOUND;
            rc = warp_delete(w->db, key, (size_t)klen);
            w->version[k] = 0;
        } else {
            uint32_t v = w->version[k] + 1;
            fill_value(val, vlen_of(k, v), seed_of(k, v));
            want = WARP_OK;
            rc = warp_put(w->db, key, (size_t)klen, val, vlen_of(k, v), NULL,
                          NULL);
            w->version[k] = v;
            /* read your own write, during the checkpoints */
            size_t glen = 0;
            if (rc == WARP_OK &&
                (warp_get(w->db, key, (size_t)klen, got, sizeof(got), &glen,
                          NULL) != WARP_OK ||
                 glen != vlen_of(k, v) || memcmp(got, val, glen) != 0))
                rc = -1000;
        }
        if (rc != want && w->failures++ == 0)
            w->first_rc = rc;
    }
    return NULL;
}

/* `small`: 64 KiB WAL segments and a warp_sync() between checkpoints, so
 * that everysec's range syncs keep meeting the writers' segment switches
 * (and the segments those leave behind). */
static void run(test_dir *d, warp_fsync mode, bool small)
{
    warp_options o = disk_options(4, mode);
    if (small)
        assert_ok(warp_options_set(&o, "wal_segment_size", "65536"));
    warp_db *db = open_disk(d->db, &o);
    uint32_t *version = calloc(NKEYS, sizeof(*version));
    writer w[THREADS];
    pthread_t th[THREADS];
    int checkpoints = 0;
    uint64_t seed = test_seed("checkpoints while writing");

    assert_non_null(version);
    for (uint32_t t = 0; t < THREADS; t++) {
        w[t] = (writer){.db = db, .id = t, .seed = seed, .version = version};
        assert_int_equal(pthread_create(&th[t], NULL, writer_main, &w[t]), 0);
    }
    /* checkpoint until the writers are done (at least twice) */
    bool joined[THREADS] = {false};
    for (uint32_t left = THREADS; left > 0 || checkpoints < 2;) {
        assert_ok(warp_checkpoint(db));
        checkpoints++;
        for (int i = 0; small && i < 4; i++)
            assert_ok(warp_sync(db));
        for (uint32_t t = 0; t < THREADS; t++)
            if (!joined[t] && pthread_tryjoin_np(th[t], NULL) == 0) {
                joined[t] = true;
                left--;
            }
    }
    for (uint32_t t = 0; t < THREADS; t++) {
        if (w[t].failures) {
            print_error("writer %u: %d calls failed, the first with %d (%s)\n",
                        t, w[t].failures, w[t].first_rc,
                        warp_strerror(w[t].first_rc));
            fail();
        }
    }
    assert_true(durability_of(db).checkpoints >= 2);
    warp_close(db);

    db = open_disk(d->db, &o);
    uint64_t live = 0;
    for (uint32_t k = 0; k < NKEYS; k++) {
        char key[32];
        int klen = snprintf(key, sizeof(key), "mt:%u", k);
        uint32_t v = version[k];
        if (!v) {
            assert_get_notfound(db, key, (size_t)klen);
            continue;
        }
        uint8_t *val = make_value(vlen_of(k, v), seed_of(k, v));
        assert_get_equals(db, key, (size_t)klen, val, vlen_of(k, v));
        free(val);
        live++;
    }
    assert_int_equal(stats_of(db).keys, live);
    assert_true(recovery_of(db).snapshot_records > 0);
    warp_close(db);
    free(version);
}

static void checkpoints_while_four_threads_write_lose_nothing(void **state)
{
    run(*state, WARP_FSYNC_ALWAYS, false);
}

static void
checkpoints_while_four_threads_write_everysec_lose_nothing(void **state)
{
    run(*state, WARP_FSYNC_EVERYSEC, false);
}

static void
syncs_while_four_threads_switch_small_segments_lose_nothing(void **state)
{
    run(*state, WARP_FSYNC_EVERYSEC, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        DIR_TEST(checkpoints_while_four_threads_write_lose_nothing),
        DIR_TEST(checkpoints_while_four_threads_write_everysec_lose_nothing),
        DIR_TEST(syncs_while_four_threads_switch_small_segments_lose_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
