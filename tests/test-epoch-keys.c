/*
 * test-epoch-keys.c - a store in a process that has no pthread key left.
 *
 * The epoch scheme (src/epoch.c) and physics each create a pthread key on
 * first use, for a destructor that lets a thread's record or rings go when
 * it exits. An application may have used up every key by then
 * (PTHREAD_KEYS_MAX). The store must then still read and write, from any
 * number of threads that come and go, and must not store anything under a
 * key it does not own: before 2026-11-25 the epoch code stored each
 * reading thread's record under whatever its unset key variable held
 * (key 0), which belongs to someone else, and overwrote that thread's
 * value of it.
 *
 * This file is its own process, so the keys run out before the store's
 * first use; it holds one test.
 */
#include "testutil.h"

#include <pthread.h>

#define READERS 16

static pthread_key_t first_key; /* the first key this test created */
static int marker;

typedef struct reader {
    warp_db *db;
    bool read_ok, key_kept;
} reader;

/* Set our first key's value in this thread, read through the store, and
 * check both the read and that the value is still ours. */
static void *reader_main(void *arg)
{
    reader *r = arg;
    char v[16];
    size_t n = 0;

    (void)pthread_setspecific(first_key, &marker);
    r->read_ok = warp_get(r->db, "k", 1, v, sizeof(v), &n, NULL) == WARP_OK &&
                 n == 5 && memcmp(v, "value", 5) == 0;
    r->key_kept = pthread_getspecific(first_key) == &marker;
    return NULL;
}

static void no_key_left_reads_work_and_others_keys_are_untouched(void **state)
{
    (void)state;
    pthread_key_t k;
    size_t created = 0;

    /* take every key there is, before the store first runs */
    while (pthread_key_create(&k, NULL) == 0) {
        if (created++ == 0)
            first_key = k;
    }
    assert_true(created > 0);
    if (first_key != 0) /* key 0 is someone else's: nothing to observe */
        skip();

    warp_options o;
    warp_options_init(&o);
    o.physics = WARP_PHYSICS_FULL;
    warp_db *db = NULL;
    assert_ok(warp_open(NULL, &o, &db));
    assert_ok(warp_put(db, "k", 1, "value", 5, NULL, NULL));

    /* threads that read once and exit, one after another: each takes an
     * epoch record and a physics ring that no destructor lets go */
    for (int i = 0; i < READERS; i++) {
        reader r = {.db = db};
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, reader_main, &r), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_true(r.read_ok);
        assert_true(r.key_kept);
    }
    assert_ok(warp_put(db, "k", 1, "value", 5, NULL, NULL));
    warp_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_key_left_reads_work_and_others_keys_are_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
