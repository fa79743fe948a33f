/*
 * test-oom.c - running out of memory is a real path, and a clean one.
 *
 * The store gets a fault-injecting allocator (warp_options.allocator) that
 * counts its calls and fails the N-th one, and in "persistent" mode every
 * call after it too. For N = 1, 2, 3, ... a fixed workload runs against a
 * fresh store:
 *
 *   open; 2,000 puts of varied sizes (one of 100 KiB); 201 overwrites;
 *   200 deletes and one of a missing key; a put_batch of 50 items that
 *   overwrites, re-adds and adds keys.
 *
 * Every call that returns WARP_ENOMEM must have left the store exactly as
 * it was (the key's previous value or absence, and every counter), and must
 * succeed when retried once the allocator works again. Reads must work
 * even while every allocation fails. The loop ends with the first N the
 * workload never reaches. The memory counters (memory_bytes,
 * overhead_bytes, table_growths) are not part of "unchanged": warp.h lets a
 * failed call keep capacity it reserved before the failing allocation (a
 * grown table, a larger limbo ring), as a vector keeps a reserve. The leak
 * check below still accounts for every byte.
 *
 * The allocator also tracks every block it hands out, with its size, so each
 * run ends with a real leak check: after warp_close nothing is outstanding,
 * and every release named the size of its allocation.
 */
#include "testutil.h"

#include <stdalign.h>
#include <stdatomic.h>

/* ------------------------------------------------------------------------ */
/* The fault-injecting allocator                                             */
/* ------------------------------------------------------------------------ */

/* Each block is preceded by a header holding its size, so release can
 * check the size it is given; the header keeps malloc's alignment. */
#define BLOCK_HEADER 16
_Static_assert(BLOCK_HEADER >= sizeof(size_t) &&
                   BLOCK_HEADER % alignof(max_align_t) == 0,
               "the header must keep the alignment malloc gives");

typedef struct fault_allocator {
    atomic_ullong calls;        /* allocations asked for */
    atomic_ullong fail_at;      /* the call to fail (1-based); 0: none */
    atomic_bool persistent;     /* fail every call after fail_at too */
    atomic_ullong injected;     /* failures injected */
    atomic_llong bytes;         /* bytes outstanding */
    atomic_llong blocks;        /* blocks outstanding */
    atomic_ullong bad_releases; /* releases with the wrong size */
} fault_allocator;

static bool should_fail(fault_allocator *fa)
{
    unsigned long long n = atomic_fetch_add(&fa->calls, 1) + 1;
    unsigned long long at = atomic_load(&fa->fail_at);

    if (at == 0 || n < at || (n > at && !atomic_load(&fa->persistent)))
        return false;
    atomic_fetch_add(&fa->injected, 1);
    return true;
}

static void *fault_alloc(void *ctx, size_t size)
{
    fault_allocator *fa = ctx;
    unsigned char *block;

    if (should_fail(fa))
        return NULL;
    block = malloc(BLOCK_HEADER + size);
    if (block == NULL)
        return NULL;
    memcpy(block, &size, sizeof(size));
    atomic_fetch_add(&fa->bytes, (long long)size);
    atomic_fetch_add(&fa->blocks, 1);
    return block + BLOCK_HEADER;
}

static void fault_release(void *ctx, void *ptr, size_t size)
{
    fault_allocator *fa = ctx;
    unsigned char *block;
    size_t stored;

    if (ptr == NULL)
        return;
    block = (unsigned char *)ptr - BLOCK_HEADER;
    memcpy(&stored, block, sizeof(stored));
    if (stored != size)
        atomic_fetch_add(&fa->bad_releases, 1);
    atomic_fetch_sub(&fa->bytes, (long long)stored);
    atomic_fetch_sub(&fa->blocks, 1);
    free(block);
}

/* Start counting afresh, failing call `fail_at` (0: none). */
static void fault_reset(fault_allocator *fa, unsigned long long fail_at,
                        bool persistent)
{
    atomic_store(&fa->calls, 0);
    atomic_store(&fa->fail_at, fail_at);
    atomic_store(&fa->persistent, persistent);
    atomic_store(&fa->injected, 0);
    atomic_store(&fa->bytes, 0);
    atomic_store(&fa->blocks, 0);
    atomic_store(&fa->bad_releases, 0);
}

/* From now on every allocation succeeds. */
static void fault_stop(fault_allocator *fa)
{
    atomic_store(&fa->fail_at, 0);
}

/* Options that route the store's allocations through `fa`. */
static warp_options faulty_options(fault_allocator *fa)
{
    warp_options opts;

    warp_options_init(&opts);
    opts.allocator.alloc = fault_alloc;
    opts.allocator.release = fault_release;
    opts.allocator.ctx = fa;
    /* Every run touches fresh memory: with transparent huge pages each
     * first touch would zero 2 MiB, for nothing this test checks. */
    opts.huge_pages = false;
    return opts;
}

/* Assert that everything the allocator handed out came back, each block
 * with its own size. */
static void assert_nothing_outstanding(fault_allocator *fa)
{
    long long bytes = atomic_load(&fa->bytes);
    long long blocks = atomic_load(&fa->blocks);

    if (bytes != 0 || blocks != 0)
        fail_msg("leak: %lld bytes in %lld blocks outstanding", bytes, blocks);
    assert_int_equal(atomic_load(&fa->bad_releases), 0);
}

/* ------------------------------------------------------------------------ */
/* The workload and its model                                                */
/* ------------------------------------------------------------------------ */

#define WORKLOAD_KEYS 2010 /* keys oom:0 .. oom:2009 */
#define BIG_KEY       1000 /* its first value is 100 KiB */
#define BATCH_SIZE    50

/* What the store should hold: key i is present with version[i]. */
typedef struct model {
    bool present[WORKLOAD_KEYS];
    uint32_t version[WORKLOAD_KEYS];
} model;

/* One run of the workload: the store, its allocator, its model, and the
 * step under way, which every failure message names. */
typedef struct run {
    warp_db *db;
    fault_allocator *fa;
    model m;
    const char *step; /* "put", "delete", ... */
    uint32_t step_key;
} run;

/* Fail the test, naming the run's step and the allocation it failed. */
#define run_fail(r, fmt, ...)                                                  \
    fail_msg("%s oom:%u, failing allocation %llu%s: " fmt, (r)->step,          \
             (r)->step_key,                                                    \
             (unsigned long long)atomic_load(&(r)->fa->fail_at),               \
             atomic_load(&(r)->fa->persistent) ? " and all later" : "",        \
             __VA_ARGS__)

static void set_step(run *r, const char *what, uint32_t i)
{
    r->step = what;
    r->step_key = i;
}

#define MAX_VALUE (100 * 1024)

static size_t value_len(uint32_t i, uint32_t version)
{
    if (i == BIG_KEY && version == 0)
        return MAX_VALUE;
    return (i * 31 + version * 17) % 600;
}

static uint64_t value_seed(uint32_t i, uint32_t version)
{
    return (uint64_t)i * 1000 + version;
}

/* Key i of the workload, "oom:<i>", formatted once; *klen its length. */
static const char *key_of(uint32_t i, size_t *klen)
{
    static char keys[WORKLOAD_KEYS][16];
    static size_t lens[WORKLOAD_KEYS];

    if (lens[i] == 0)
        lens[i] = format_key(keys[i], sizeof(keys[i]), "oom", i);
    *klen = lens[i];
    return keys[i];
}

/* Assert that key i holds what the model says. (Reads allocate nothing
 * through the store's allocator, so this works while it fails.) */
static void assert_key_matches_model(run *r, uint32_t i)
{
    static uint8_t got[MAX_VALUE], want[MAX_VALUE];
    size_t klen;
    const char *key = key_of(i, &klen);
    size_t want_len = value_len(i, r->m.version[i]);
    size_t vlen = 0;
    int rc = warp_get(r->db, key, klen, got, sizeof(got), &vlen, NULL);

    if (!r->m.present[i]) {
        if (rc != WARP_NOTFOUND)
            run_fail(r, "get %s returned %s, expected WARP_NOTFOUND", key,
                     warp_strerror(rc));
        return;
    }
    if (rc != WARP_OK)
        run_fail(r, "get %s returned %s, expected WARP_OK", key,
                 warp_strerror(rc));
    fill_value(want, want_len, value_seed(i, r->m.version[i]));
    if (vlen != want_len || memcmp(got, want, vlen) != 0)
        run_fail(r, "%s holds a wrong value (%zu bytes, expected %zu)", key,
                 vlen, want_len);
}

/* Assert that the whole store matches the model. */
static void assert_store_matches_model(run *r)
{
    uint64_t keys = 0, kbytes = 0, vbytes = 0;
    size_t klen;

    for (uint32_t i = 0; i < WORKLOAD_KEYS; i++) {
        set_step(r, "at the end: get", i);
        assert_key_matches_model(r, i);
        if (!r->m.present[i])
            continue;
        keys++;
        kbytes += (key_of(i, &klen), klen);
        vbytes += value_len(i, r->m.version[i]);
    }
    assert_counts(r->db, keys, kbytes, vbytes);
}

/* A data counter must not change in a failed call. */
static void assert_same_counter(run *r, const char *name, uint64_t was,
                                uint64_t now)
{
    if (now != was)
        run_fail(r, "stats.%s went from %llu to %llu in a failed call", name,
                 (unsigned long long)was, (unsigned long long)now);
}

/* Assert that a call that failed left every data counter as it was. */
static void assert_stats_unchanged(run *r, const warp_stats *before)
{
    warp_stats now = stats_of(r->db);

    assert_same_counter(r, "keys", before->keys, now.keys);
    assert_same_counter(r, "key_bytes", before->key_bytes, now.key_bytes);
    assert_same_counter(r, "value_bytes", before->value_bytes, now.value_bytes);
    assert_same_counter(r, "puts", before->puts, now.puts);
    assert_same_counter(r, "deletes", before->deletes, now.deletes);
    assert_same_counter(r, "shards", before->shards, now.shards);
}

/* Assert that call `what` returned WARP_ENOMEM only because an allocation
 * failed in it. */
static void assert_injected_since(run *r, unsigned long long injected)
{
    if (atomic_load(&r->fa->injected) == injected)
        run_fail(r, "%s", "WARP_ENOMEM without a failed allocation");
}

/* Open the run's store. If an injected failure makes open fail, it must
 * say WARP_ENOMEM, leave *out NULL and leak nothing; it then succeeds once
 * the allocator works again. */
static void step_open(run *r)
{
    warp_options opts = faulty_options(r->fa);
    unsigned long long injected = atomic_load(&r->fa->injected);
    int rc;

    set_step(r, "open, then", 0);
    r->db = (warp_db *)&r->db;
    rc = warp_open(NULL, &opts, &r->db);
    if (rc == WARP_ENOMEM) {
        assert_injected_since(r, injected);
        assert_null(r->db);
        assert_nothing_outstanding(r->fa);
        fault_stop(r->fa);
        rc = warp_open(NULL, &opts, &r->db);
    }
    assert_rc(rc, WARP_OK);
    assert_non_null(r->db);
}

/* Put version `version` of key i. */
static void step_put(run *r, uint32_t i, uint32_t version)
{
    size_t klen;
    const char *key = key_of(i, &klen);
    size_t vlen = value_len(i, version);
    static uint8_t val[MAX_VALUE];
    warp_stats before = stats_of(r->db);
    unsigned long long injected = atomic_load(&r->fa->injected);
    int rc;

    fill_value(val, vlen, value_seed(i, version));
    set_step(r, "put", i);
    rc = warp_put(r->db, key, klen, val, vlen, NULL, NULL);
    if (rc == WARP_ENOMEM) {
        assert_injected_since(r, injected);
        assert_key_matches_model(r, i);
        assert_stats_unchanged(r, &before);
        fault_stop(r->fa);
        rc = warp_put(r->db, key, klen, val, vlen, NULL, NULL);
    }
    if (rc != WARP_OK)
        run_fail(r, "returned %s", warp_strerror(rc));
    r->m.present[i] = true;
    r->m.version[i] = version;
}

/* Delete key i. */
static void step_delete(run *r, uint32_t i)
{
    size_t klen;
    const char *key = key_of(i, &klen);
    int want = r->m.present[i] ? WARP_OK : WARP_NOTFOUND;
    warp_stats before = stats_of(r->db);
    unsigned long long injected = atomic_load(&r->fa->injected);
    int rc;

    set_step(r, "delete", i);
    rc = warp_delete(r->db, key, klen);
    if (rc == WARP_ENOMEM) {
        assert_injected_since(r, injected);
        assert_key_matches_model(r, i);
        assert_stats_unchanged(r, &before);
        fault_stop(r->fa);
        rc = warp_delete(r->db, key, klen);
    }
    if (rc != want)
        run_fail(r, "returned %s, expected %s", warp_strerror(rc),
                 warp_strerror(want));
    r->m.present[i] = false;
}

/* The key of batch item k: 20 overwrites (1780..1799), 20 re-adds of
 * deleted keys (1800..1819) and 10 new keys (2000..2009). */
static uint32_t batch_key(size_t k)
{
    return k < 40 ? 1780 + (uint32_t)k : 1960 + (uint32_t)k;
}

/* Put version `version` of the 50 batch keys in one put_batch. */
static void step_batch(run *r, uint32_t version)
{
    static uint8_t vals[BATCH_SIZE][MAX_VALUE];
    warp_put_item items[BATCH_SIZE];
    warp_stats before = stats_of(r->db);
    unsigned long long injected = atomic_load(&r->fa->injected);
    size_t failed = (size_t)-1;
    int rc;

    for (size_t k = 0; k < BATCH_SIZE; k++) {
        uint32_t i = batch_key(k);

        fill_value(vals[k], value_len(i, version), value_seed(i, version));
        items[k] =
            (warp_put_item){.val = vals[k], .vlen = value_len(i, version)};
        items[k].key = key_of(i, &items[k].klen);
    }
    set_step(r, "put_batch from", batch_key(0));
    rc = warp_put_batch(r->db, items, BATCH_SIZE, &failed);
    if (rc == WARP_ENOMEM) {
        assert_injected_since(r, injected);
        if (failed > BATCH_SIZE)
            run_fail(r, "*failed is %zu", failed);
        for (size_t k = 0; k < BATCH_SIZE; k++)
            assert_key_matches_model(r, batch_key(k));
        assert_stats_unchanged(r, &before);
        fault_stop(r->fa);
        rc = warp_put_batch(r->db, items, BATCH_SIZE, &failed);
    }
    if (rc != WARP_OK)
        run_fail(r, "returned %s", warp_strerror(rc));
    for (size_t k = 0; k < BATCH_SIZE; k++) {
        r->m.present[batch_key(k)] = true;
        r->m.version[batch_key(k)] = version;
    }
}

/* Run the whole workload on a fresh store whose allocator fails call
 * `fail_at` (0: none), and every later one if `persistent`; check the
 * final state and that closing leaks nothing. Returns whether a failure
 * was injected. */
static run r; /* the run under way; close_failed_run() cleans up after it */

static bool run_workload(fault_allocator *fa, unsigned long long fail_at,
                         bool persistent)
{
    bool injected;

    memset(&r, 0, sizeof(r));
    r.fa = fa;
    fault_reset(fa, fail_at, persistent);
    step_open(&r);
    for (uint32_t i = 0; i < 2000; i++)
        step_put(&r, i, 0);
    for (uint32_t i = 0; i < 200; i++)
        step_put(&r, i, 1);
    step_put(&r, BIG_KEY, 1);
    for (uint32_t i = 1800; i < 2000; i++)
        step_delete(&r, i);
    step_delete(&r, 2009);
    step_batch(&r, 2);
    assert_store_matches_model(&r);
    injected = atomic_load(&fa->injected) > 0;
    warp_close(r.db);
    r.db = NULL;
    assert_nothing_outstanding(fa);
    return injected;
}

/* cmocka teardown: close the store of a run that failed half-way. */
static int close_failed_run(void **state)
{
    (void)state;
    if (r.db != NULL && r.db != (warp_db *)&r.db)
        warp_close(r.db);
    r.db = NULL;
    return 0;
}

/* Run the workload failing allocation 1, 2, 3, ... until a run completes
 * without reaching the failing allocation. */
static void run_workload_failing_each_allocation(bool persistent)
{
    static fault_allocator fa;
    unsigned long long n;

    for (n = 1; run_workload(&fa, n, persistent); n++) {
        if (n > 1000000)
            fail_msg("the workload never stops allocating");
    }
    print_message("    %llu allocations failed in turn\n", n - 1);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */
/* ------------------------------------------------------------------------ */

static void store_releases_every_byte_it_allocates(void **state)
{
    static fault_allocator fa;

    (void)state;
    assert_false(run_workload(&fa, 0, false));
    /* The store's memory went through the allocator. */
    assert_true(atomic_load(&fa.calls) > 0);
}

static void open_returns_enomem_when_every_allocation_fails(void **state)
{
    static fault_allocator fa;
    warp_options opts = faulty_options(&fa);
    warp_db *db = (warp_db *)&db;

    (void)state;
    fault_reset(&fa, 1, true);
    assert_rc(warp_open(NULL, &opts, &db), WARP_ENOMEM);
    assert_null(db);
    assert_nothing_outstanding(&fa);
}

static void open_fails_cleanly_at_each_of_its_allocations(void **state)
{
    static fault_allocator fa;
    warp_options opts = faulty_options(&fa);

    (void)state;
    for (unsigned long long n = 1;; n++) {
        warp_db *db = (warp_db *)&db;
        int rc;

        fault_reset(&fa, n, n % 2 == 0);
        rc = warp_open(NULL, &opts, &db);
        if (atomic_load(&fa.injected) == 0) {
            assert_rc(rc, WARP_OK);
            warp_close(db);
            break;
        }
        if (rc == WARP_ENOMEM)
            assert_null(db);
        else
            assert_rc(rc, WARP_OK);
        warp_close(db);
        assert_nothing_outstanding(&fa);
    }
    assert_nothing_outstanding(&fa);
}

static void each_failed_allocation_leaves_the_store_unchanged(void **state)
{
    (void)state;
    run_workload_failing_each_allocation(false);
}

static void
persistent_allocation_failure_leaves_the_store_unchanged(void **state)
{
    (void)state;
    run_workload_failing_each_allocation(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(store_releases_every_byte_it_allocates,
                                  close_failed_run),
        cmocka_unit_test(open_returns_enomem_when_every_allocation_fails),
        cmocka_unit_test(open_fails_cleanly_at_each_of_its_allocations),
        cmocka_unit_test_teardown(
            each_failed_allocation_leaves_the_store_unchanged,
            close_failed_run),
        cmocka_unit_test_teardown(
            persistent_allocation_failure_leaves_the_store_unchanged,
            close_failed_run),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
