/*
 * test-durability.c - a store with a data directory keeps what it was
 * told across close and reopen: puts, overwrites, deletes, hints, the
 * empty key, binary bytes, values larger than a WAL segment; checkpoints;
 * the recovery and durability counters; the directory lock; the manifest;
 * interrupted checkpoints.
 *
 * Black-box: only include/warp.h, plus what docs/FORMATS.md says about the
 * directory's layout. Each test has its own directory under /tmp.
 */
#include "testutil.h"

#include "durability.h"

#include <ctype.h>
#include <sys/wait.h>

/* ------------------------------------------------------------------------ */
/* A model: what the store should hold                                       */
/* ------------------------------------------------------------------------ */

/* Keys "<prefix>:<i>" for i < n; version[i] 0 means absent, otherwise the
 * value is make_value(len_of(i, version), seed_of(i, version)). */
typedef struct model {
    const char *prefix;
    uint32_t n;
    uint32_t *version;
} model;

static size_t len_of(uint32_t i, uint32_t v)
{
    return (size_t)((i * 131u + v * 17u) % 300u);
}

static uint64_t seed_of(uint32_t i, uint32_t v)
{
    return (uint64_t)i << 32 | v;
}

static model model_new(const char *prefix, uint32_t n)
{
    model m = {.prefix = prefix, .n = n, .version = calloc(n, 4)};

    assert_non_null(m.version);
    return m;
}

static void model_put(warp_db *db, model *m, uint32_t i)
{
    char key[64];
    size_t klen = format_key(key, sizeof(key), m->prefix, i);
    uint32_t v = ++m->version[i];
    uint8_t *val = make_value(len_of(i, v), seed_of(i, v));

    assert_ok(warp_put(db, key, klen, val, len_of(i, v), NULL, NULL));
    free(val);
}

static void model_delete(warp_db *db, model *m, uint32_t i)
{
    char key[64];
    size_t klen = format_key(key, sizeof(key), m->prefix, i);

    assert_rc(warp_delete(db, key, klen),
              m->version[i] ? WARP_OK : WARP_NOTFOUND);
    m->version[i] = 0;
}

static uint64_t model_live(const model *m)
{
    uint64_t n = 0;

    for (uint32_t i = 0; i < m->n; i++)
        n += m->version[i] != 0;
    return n;
}

/* Assert that the store holds exactly what the model says. */
static void model_check(warp_db *db, const model *m)
{
    char key[64];

    for (uint32_t i = 0; i < m->n; i++) {
        size_t klen = format_key(key, sizeof(key), m->prefix, i);
        uint32_t v = m->version[i];
        if (!v) {
            assert_get_notfound(db, key, klen);
            continue;
        }
        uint8_t *val = make_value(len_of(i, v), seed_of(i, v));
        assert_get_equals(db, key, klen, val, len_of(i, v));
        free(val);
    }
    assert_int_equal(stats_of(db).keys, model_live(m));
}

/* Close and reopen the store with the same options. */
static warp_db *reopen(warp_db *db, const char *path, const warp_options *o)
{
    warp_close(db);
    return open_disk(path, o);
}

/* ------------------------------------------------------------------------ */
/* What survives close and reopen                                            */
/* ------------------------------------------------------------------------ */

static void puts_survive_close_and_reopen(void **state)
{
    test_dir *d = *state;
    static const warp_fsync modes[] = {WARP_FSYNC_ALWAYS, WARP_FSYNC_EVERYSEC,
                                       WARP_FSYNC_NEVER};

    for (size_t f = 0; f < ARRAY_SIZE(modes); f++) {
        warp_options o = disk_options(4, modes[f]);
        char path[400];
        snprintf(path, sizeof(path), "%s-%zu", d->db, f);
        warp_db *db = open_disk(path, &o);
        model m = model_new("p", 500);

        for (uint32_t i = 0; i < m.n; i++)
            model_put(db, &m, i);
        db = reopen(db, path, &o);
        model_check(db, &m);
        warp_close(db);
        free(m.version);
    }
}

static void overwrites_keep_the_last_value_across_reopen(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(4, WARP_FSYNC_EVERYSEC);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new("ow", 100);

    for (int round = 0; round < 5; round++)
        for (uint32_t i = 0; i < m.n; i++)
            model_put(db, &m, i);
    db = reopen(db, d->db, &o);
    model_check(db, &m);
    assert_int_equal(recovery_of(db).wal_records, 500);
    warp_close(db);
    free(m.version);
}

static void deleted_keys_stay_deleted_after_reopen(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(4, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new("del", 200);

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    for (uint32_t i = 0; i < m.n; i += 2)
        model_delete(db, &m, i);
    /* deleted then written again: the new value wins */
    for (uint32_t i = 0; i < m.n; i += 10)
        model_put(db, &m, i);
    db = reopen(db, d->db, &o);
    model_check(db, &m);
    /* and deleting after a reopen is logged too */
    for (uint32_t i = 1; i < m.n; i += 4)
        model_delete(db, &m, i);
    db = reopen(db, d->db, &o);
    model_check(db, &m);
    warp_close(db);
    free(m.version);
}

static void deleting_a_missing_key_logs_nothing(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);

    assert_rc(warp_delete(db, "ghost", 5), WARP_NOTFOUND);
    assert_int_equal(durability_of(db).wal_bytes, 0);
    db = reopen(db, d->db, &o);
    assert_get_notfound(db, "ghost", 5);
    assert_int_equal(recovery_of(db).wal_records, 0);
    warp_close(db);
}

static void hints_survive_reopen(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(4, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    char key[64];

    /* every combination of access pattern and priority */
    for (int a = 0; a <= WARP_ACCESS_COLD; a++)
        for (int p = 0; p <= WARP_PRIORITY_BACKGROUND; p++) {
            warp_put_options po = {a, p};
            size_t klen = format_key(key, sizeof(key), "hint", a * 8 + p);
            assert_ok(warp_put(db, key, klen, "v", 1, &po, NULL));
        }
    for (int pass = 0; pass < 2; pass++) {
        db = reopen(db, d->db, &o);
        for (int a = 0; a <= WARP_ACCESS_COLD; a++)
            for (int p = 0; p <= WARP_PRIORITY_BACKGROUND; p++) {
                warp_placement w;
                size_t klen = format_key(key, sizeof(key), "hint", a * 8 + p);
                size_t vlen = 0;
                char buf[4];
                memset(&w, 0xff, sizeof(w));
                assert_ok(warp_get(db, key, klen, buf, sizeof(buf), &vlen, &w));
                assert_int_equal(w.access_pattern, a);
                assert_int_equal(w.priority, p);
                assert_int_equal(w.klass, warp_class_of(a, p));
            }
        /* the second pass reads them back from a snapshot */
        assert_ok(warp_checkpoint(db));
    }
    warp_close(db);
}

static void overwriting_with_new_hints_survives_reopen(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    warp_put_options hot = {WARP_ACCESS_HOT, WARP_PRIORITY_CRITICAL};
    warp_placement w;

    assert_ok(warp_put(db, "k", 1, "a", 1, &hot, NULL));
    assert_ok(warp_put(db, "k", 1, "b", 1, NULL, NULL));
    db = reopen(db, d->db, &o);
    char buf[4];
    size_t vlen = 0;
    assert_ok(warp_get(db, "k", 1, buf, sizeof(buf), &vlen, &w));
    assert_int_equal(w.access_pattern, WARP_ACCESS_BALANCED);
    assert_int_equal(w.priority, WARP_PRIORITY_NORMAL);
    assert_int_equal(w.klass, WARP_CLASS_WARM);
    assert_get_str(db, "k", "b");
    warp_close(db);
}

static void empty_key_and_empty_value_survive_reopen(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(2, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);

    assert_ok(warp_put(db, "", 0, "empty key", 9, NULL, NULL));
    assert_ok(warp_put(db, "empty value", 11, "", 0, NULL, NULL));
    assert_ok(warp_put(db, "\0", 1, "nul key", 7, NULL, NULL));
    db = reopen(db, d->db, &o);
    assert_get_equals(db, "", 0, "empty key", 9);
    assert_get_equals(db, "empty value", 11, "", 0);
    assert_get_equals(db, "\0", 1, "nul key", 7);
    assert_ok(warp_checkpoint(db));
    db = reopen(db, d->db, &o);
    assert_get_equals(db, "", 0, "empty key", 9);
    assert_get_equals(db, "empty value", 11, "", 0);
    assert_get_equals(db, "\0", 1, "nul key", 7);
    assert_int_equal(recovery_of(db).snapshot_records, 3);
    /* deleting the empty key is durable too */
    assert_ok(warp_delete(db, "", 0));
    db = reopen(db, d->db, &o);
    assert_get_notfound(db, "", 0);
    assert_counts(db, 2, 12, 7);
    warp_close(db);
}

static void binary_keys_and_values_survive_reopen(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(4, WARP_FSYNC_EVERYSEC);
    warp_db *db = open_disk(d->db, &o);
    uint8_t key[256], val[1024];

    /* key i is the bytes 0..i-1 reversed; values hold every byte value */
    for (int i = 1; i <= 256; i++) {
        for (int j = 0; j < i; j++)
            key[j] = (uint8_t)(i - 1 - j);
        for (int j = 0; j < (int)sizeof(val); j++)
            val[j] = (uint8_t)(j * 7 + i);
        assert_ok(warp_put(db, key, (size_t)i, val, (size_t)i * 4, NULL, NULL));
    }
    for (int pass = 0; pass < 2; pass++) {
        db = reopen(db, d->db, &o);
        for (int i = 1; i <= 256; i++) {
            for (int j = 0; j < i; j++)
                key[j] = (uint8_t)(i - 1 - j);
            for (int j = 0; j < (int)sizeof(val); j++)
                val[j] = (uint8_t)(j * 7 + i);
            assert_get_equals(db, key, (size_t)i, val, (size_t)i * 4);
        }
        assert_int_equal(stats_of(db).keys, 256);
        assert_ok(warp_checkpoint(db)); /* pass 2 reads a snapshot */
    }
    warp_close(db);
}

static void value_larger_than_a_wal_segment_survives_reopen(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS); /* 64 KiB segments */
    warp_db *db = open_disk(d->db, &o);
    size_t big = 200 * 1024, huge = 3 * 1024 * 1024;
    uint8_t *v1 = make_value(big, 1), *v2 = make_value(huge, 2);

    assert_ok(warp_put(db, "before", 6, "x", 1, NULL, NULL));
    assert_ok(warp_put(db, "big", 3, v1, big, NULL, NULL));
    assert_ok(warp_put(db, "after", 5, "y", 1, NULL, NULL));
    assert_ok(warp_put(db, "huge", 4, v2, huge, NULL, NULL));
    assert_ok(warp_put(db, "last", 4, "z", 1, NULL, NULL));
    db = reopen(db, d->db, &o);
    assert_get_equals(db, "big", 3, v1, big);
    assert_get_equals(db, "huge", 4, v2, huge);
    assert_get_str(db, "before", "x");
    assert_get_str(db, "after", "y");
    assert_get_str(db, "last", "z");
    assert_int_equal(recovery_of(db).wal_records, 5);
    /* writes after the recovery append and survive as well */
    assert_ok(warp_put(db, "big", 3, v2, big / 2, NULL, NULL));
    assert_ok(warp_checkpoint(db));
    assert_ok(warp_put(db, "post", 4, v1, big, NULL, NULL));
    db = reopen(db, d->db, &o);
    assert_get_equals(db, "big", 3, v2, big / 2);
    assert_get_equals(db, "huge", 4, v2, huge);
    assert_get_equals(db, "post", 4, v1, big);
    warp_close(db);
    free(v1);
    free(v2);
}

static void many_segments_replay_in_order(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(2, WARP_FSYNC_NEVER);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new("seg", 400);
    uint64_t rng = 42;
    size_t nseg;

    /* about 2 MB of log over 64 KiB segments, with overwrites and deletes */
    for (int n = 0; n < 12000; n++) {
        uint32_t i = (uint32_t)(next_rand(&rng) % m.n);
        if (next_rand(&rng) % 5 == 0)
            model_delete(db, &m, i);
        else
            model_put(db, &m, i);
    }
    db = reopen(db, d->db, &o);
    free_names(wal_files(d->db, &nseg));
    assert_true(nseg > 10);
    assert_true(recovery_of(db).wal_segments >= nseg - 1);
    model_check(db, &m);
    warp_close(db);
    free(m.version);
}

static void store_reopens_many_times_without_losing_anything(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(3, WARP_FSYNC_ALWAYS);
    model m = model_new("again", 50);
    uint64_t rng = 7;

    for (int round = 0; round < 12; round++) {
        warp_db *db = open_disk(d->db, &o);
        model_check(db, &m);
        for (int n = 0; n < 40; n++) {
            uint32_t i = (uint32_t)(next_rand(&rng) % m.n);
            if (next_rand(&rng) % 4 == 0)
                model_delete(db, &m, i);
            else
                model_put(db, &m, i);
        }
        if (round % 3 == 2)
            assert_ok(warp_checkpoint(db));
        warp_close(db);
    }
    free(m.version);
}

/* ------------------------------------------------------------------------ */
/* Checkpoints                                                               */
/* ------------------------------------------------------------------------ */

static void checkpoint_then_more_writes_then_reopen_keeps_both(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(4, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new("cp", 300);
    warp_recovery r;

    for (uint32_t i = 0; i < 200; i++)
        model_put(db, &m, i);
    assert_ok(warp_checkpoint(db));
    /* after it: new keys, overwrites and deletes of checkpointed ones */
    for (uint32_t i = 200; i < 300; i++)
        model_put(db, &m, i);
    for (uint32_t i = 0; i < 50; i++)
        model_put(db, &m, i);
    for (uint32_t i = 50; i < 80; i++)
        model_delete(db, &m, i);
    db = reopen(db, d->db, &o);
    model_check(db, &m);
    r = recovery_of(db);
    assert_int_equal(r.snapshot_records, 200);
    assert_int_equal(r.wal_records, 100 + 50 + 30);
    warp_close(db);
    free(m.version);
}

static void checkpoint_deletes_the_wal_it_makes_unnecessary(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_NEVER);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new("drop", 1000);
    size_t before, after, snaps;

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    free_names(wal_files(d->db, &before));
    assert_true(before >= 3);
    assert_ok(warp_checkpoint(db));
    free_names(wal_files(d->db, &after));
    free_names(snapshot_files(d->db, &snaps));
    assert_true(after <= 1);
    assert_int_equal(snaps, 1);
    /* a second checkpoint replaces the first snapshot */
    model_put(db, &m, 3);
    assert_ok(warp_checkpoint(db));
    free_names(snapshot_files(d->db, &snaps));
    assert_int_equal(snaps, 1);
    db = reopen(db, d->db, &o);
    model_check(db, &m);
    assert_int_equal(recovery_of(db).snapshot_records, m.n);
    assert_int_equal(recovery_of(db).wal_records, 0);
    warp_close(db);
    free(m.version);
}

static void checkpoint_of_an_empty_store_reopens_empty(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(4, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);

    assert_ok(warp_checkpoint(db));
    assert_ok(warp_put(db, "k", 1, "v", 1, NULL, NULL));
    assert_ok(warp_delete(db, "k", 1));
    assert_ok(warp_checkpoint(db));
    db = reopen(db, d->db, &o);
    assert_int_equal(stats_of(db).keys, 0);
    assert_get_notfound(db, "k", 1);
    warp_close(db);
}

static void checkpoint_of_an_in_memory_store_is_einval(void **state)
{
    warp_db *db = open_store(NULL);
    warp_recovery r;
    warp_durability du;

    (void)state;
    assert_rc(warp_checkpoint(db), WARP_EINVAL);
    assert_ok(warp_sync(db));
    memset(&r, 0xff, sizeof(r));
    memset(&du, 0xff, sizeof(du));
    assert_ok(warp_recovery_get(db, &r));
    assert_ok(warp_durability_get(db, &du));
    assert_int_equal(r.snapshot_records + r.wal_records + r.wal_segments +
                         r.torn_bytes + r.skipped_bytes + r.skipped_regions +
                         r.micros,
                     0);
    assert_int_equal(du.wal_bytes + du.syncs + du.synced_writes +
                         du.checkpoints + du.last_checkpoint_ms +
                         du.sync_errors,
                     0);
    warp_close(db);
}

static void automatic_checkpoint_starts_when_the_wal_grows(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(2, WARP_FSYNC_NEVER);
    warp_db *db;
    model m = model_new("auto", 500);
    size_t snaps = 0;

    o.checkpoint_wal_bytes = 64 * 1024;
    db = open_disk(d->db, &o);
    for (int round = 0; round < 4; round++)
        for (uint32_t i = 0; i < m.n; i++)
            model_put(db, &m, i);
    /* the background thread looks every 100 ms */
    for (int t = 0; t < 50 && durability_of(db).checkpoints == 0; t++)
        usleep(100 * 1000);
    assert_true(durability_of(db).checkpoints >= 1);
    free_names(snapshot_files(d->db, &snaps));
    assert_true(snaps >= 1);
    db = reopen(db, d->db, &o);
    model_check(db, &m);
    assert_true(recovery_of(db).snapshot_records > 0);
    warp_close(db);
    free(m.version);
}

/* Overwrite keys lo .. hi - 1 of `kb` KiB values; each put is about `kb`
 * KiB of WAL. */
static void put_kib(warp_db *db, uint32_t lo, uint32_t hi, size_t kb, char fill)
{
    char key[32], val[4096];

    assert_true(kb * 1024 <= sizeof(val));
    memset(val, fill, kb * 1024);
    for (uint32_t i = lo; i < hi; i++) {
        int n = snprintf(key, sizeof(key), "big:%u", i);
        assert_ok(warp_put(db, key, (size_t)n, val, kb * 1024, NULL, NULL));
    }
}

/* A checkpoint rewrites the whole dataset: the background thread waits
 * for the WAL to outgrow the keys and values stored, however low
 * checkpoint_wal_bytes is. */
static void
automatic_checkpoint_waits_for_the_wal_to_outgrow_the_data(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(2, WARP_FSYNC_NEVER);
    warp_db *db;

    o.checkpoint_wal_bytes = 0; /* load ~1 MiB, then checkpoint by hand */
    db = open_disk(d->db, &o);
    put_kib(db, 0, 1000, 1, 'a');
    assert_ok(warp_checkpoint(db));
    warp_close(db);
    o.checkpoint_wal_bytes = 64 * 1024;
    db = open_disk(d->db, &o);
    put_kib(db, 0, 250, 1, 'b'); /* ~256 KiB of WAL: over 64 KiB, not 1 MiB */
    usleep(500 * 1000);          /* five looks of the background thread */
    assert_int_equal(durability_of(db).checkpoints, 0);
    put_kib(db, 250, 1000, 1, 'c'); /* ~1 MiB of WAL in all */
    for (int t = 0; t < 50 && durability_of(db).checkpoints == 0; t++)
        usleep(100 * 1000);
    assert_int_equal(durability_of(db).checkpoints, 1);
    warp_close(db);
}

/* Kept segment files (NAME.wal.free) of the store in `db`. */
static size_t kept_segments(const char *db)
{
    char sub[512];
    size_t n;

    snprintf(sub, sizeof(sub), "%s/wal", db);
    free_names(list_files(sub, ".wal.free", &n));
    return n;
}

/* Check that keys lo .. hi - 1 hold `kb` KiB of `fill`. */
static void check_kib(warp_db *db, uint32_t lo, uint32_t hi, size_t kb,
                      char fill)
{
    char key[32], val[4096], want[4096];
    size_t vlen;

    memset(want, fill, kb * 1024);
    for (uint32_t i = lo; i < hi; i++) {
        int n = snprintf(key, sizeof(key), "big:%u", i);
        assert_ok(warp_get(db, key, (size_t)n, val, sizeof(val), &vlen, NULL));
        assert_int_equal(vlen, kb * 1024);
        assert_memory_equal(val, want, vlen);
    }
}

/* The segments a checkpoint lets go are kept and readied again for the
 * log, instead of new files (wal.c, segment_reuse()); what is written
 * through them is all there after a reopen, and no kept file outlives
 * the store's close. */
static void checkpointed_segments_are_reused(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_EVERYSEC);
    warp_db *db = open_disk(d->db, &o);

    put_kib(db, 0, 400, 1, 'a'); /* ~400 KiB of WAL: 7 segments of 64 */
    assert_ok(warp_checkpoint(db));
    assert_int_equal(kept_segments(d->db), 2); /* of the 6+ let go */
    /* the segment preparer, which looks every 10 ms while the log grows,
     * readies each next segment from a kept one while there is one */
    for (uint32_t i = 0; i < 400; i += 16) {
        put_kib(db, i, i + 16, 1, 'b');
        usleep(20 * 1000);
    }
    assert_int_equal(kept_segments(d->db), 0);
    warp_close(db);
    assert_int_equal(kept_segments(d->db), 0);
    db = open_disk(d->db, &o);
    check_kib(db, 0, 400, 1, 'b');
    put_kib(db, 0, 400, 1, 'c'); /* and on through the log after them */
    db = reopen(db, d->db, &o);
    check_kib(db, 0, 400, 1, 'c');
    warp_close(db);
}

static void automatic_checkpoint_starts_when_the_interval_passes(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(2, WARP_FSYNC_EVERYSEC);
    warp_db *db;

    o.checkpoint_interval = 200; /* ms */
    db = open_disk(d->db, &o);
    put_str(db, "k", "v");
    for (int t = 0; t < 50 && durability_of(db).checkpoints == 0; t++)
        usleep(100 * 1000);
    assert_true(durability_of(db).checkpoints >= 1);
    db = reopen(db, d->db, &o);
    assert_get_str(db, "k", "v");
    warp_close(db);
}

/* ------------------------------------------------------------------------ */
/* Interrupted checkpoints                                                   */
/* ------------------------------------------------------------------------ */

static void leftover_tmp_snapshot_is_ignored(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new("tmp", 100);
    char **snaps;
    size_t n;
    char tmp[600];

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    assert_ok(warp_checkpoint(db));
    for (uint32_t i = 0; i < 50; i++)
        model_put(db, &m, i);
    warp_close(db);
    /* A checkpoint that died before its rename leaves NAME.snap.tmp: here
     * a half-written one for a later segment, and a garbage one. */
    snaps = snapshot_files(d->db, &n);
    assert_int_equal(n, 1);
    size_t len;
    uint8_t *bytes = read_whole(snaps[0], &len);
    snprintf(tmp, sizeof(tmp), "%s/snapshots/00000-0000000099.snap.tmp", d->db);
    write_whole(tmp, bytes, len / 2);
    snprintf(tmp, sizeof(tmp), "%s/snapshots/00000-0000000098.snap.tmp", d->db);
    write_whole(tmp, "garbage", 7);
    free(bytes);
    free_names(snaps);

    db = open_disk(d->db, &o);
    model_check(db, &m);
    assert_int_equal(recovery_of(db).snapshot_records, 100);
    assert_int_equal(recovery_of(db).wal_records, 50);
    /* and the next checkpoint still works */
    assert_ok(warp_checkpoint(db));
    db = reopen(db, d->db, &o);
    model_check(db, &m);
    warp_close(db);
    free(m.version);
}

static void crash_after_snapshot_rename_before_wal_delete_recovers(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new("mid", 400);
    char **old_wal, **old_snap;
    size_t nw, ns;
    uint8_t *saved[64];
    size_t saved_len[64];

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    assert_ok(warp_checkpoint(db));
    for (uint32_t i = 0; i < m.n; i += 3)
        model_put(db, &m, i);
    /* remember the WAL and snapshot the next checkpoint will delete */
    assert_ok(warp_sync(db));
    old_wal = wal_files(d->db, &nw);
    old_snap = snapshot_files(d->db, &ns);
    assert_true(nw >= 1 && nw < 64);
    assert_int_equal(ns, 1);
    for (size_t i = 0; i < nw; i++)
        saved[i] = read_whole(old_wal[i], &saved_len[i]);
    size_t snap_len;
    uint8_t *snap_bytes = read_whole(old_snap[0], &snap_len);

    assert_ok(warp_checkpoint(db));
    for (uint32_t i = 1; i < m.n; i += 5)
        model_delete(db, &m, i);
    warp_close(db);
    /* put the deleted files back, as if the process died right after the
     * new snapshot's rename */
    for (size_t i = 0; i < nw; i++)
        if (!file_exists(old_wal[i]))
            write_whole(old_wal[i], saved[i], saved_len[i]);
    if (!file_exists(old_snap[0]))
        write_whole(old_snap[0], snap_bytes, snap_len);

    db = open_disk(d->db, &o);
    model_check(db, &m);
    assert_int_equal(recovery_of(db).snapshot_records, m.n);
    warp_close(db);
    /* the stale files were not needed, and recovery may drop them; either
     * way the next open gives the same */
    db = open_disk(d->db, &o);
    model_check(db, &m);
    warp_close(db);
    for (size_t i = 0; i < nw; i++)
        free(saved[i]);
    free(snap_bytes);
    free_names(old_wal);
    free_names(old_snap);
    free(m.version);
}

/* ------------------------------------------------------------------------ */
/* Counters                                                                  */
/* ------------------------------------------------------------------------ */

static void recovery_counts_what_was_loaded(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(2, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    warp_recovery r = recovery_of(db);

    /* a new directory recovers nothing */
    assert_int_equal(r.snapshot_records, 0);
    assert_int_equal(r.wal_records, 0);
    assert_int_equal(r.torn_bytes, 0);
    assert_int_equal(r.skipped_bytes, 0);
    assert_int_equal(r.skipped_regions, 0);
    for (int i = 0; i < 30; i++) {
        char key[16];
        size_t klen = format_key(key, sizeof(key), "r", (uint64_t)i);
        assert_ok(warp_put(db, key, klen, "v", 1, NULL, NULL));
    }
    assert_ok(warp_delete(db, "r:0", 3));
    db = reopen(db, d->db, &o);
    r = recovery_of(db);
    assert_int_equal(r.snapshot_records, 0);
    assert_int_equal(r.wal_records, 31);
    assert_true(r.wal_segments >= 1);
    assert_int_equal(r.torn_bytes, 0);
    assert_int_equal(r.skipped_bytes, 0);
    assert_int_equal(r.skipped_regions, 0);
    assert_ok(warp_checkpoint(db));
    assert_ok(warp_put(db, "r:100", 5, "v", 1, NULL, NULL));
    assert_ok(warp_put(db, "r:101", 5, "v", 1, NULL, NULL));
    db = reopen(db, d->db, &o);
    r = recovery_of(db);
    assert_int_equal(r.snapshot_records, 29);
    assert_int_equal(r.wal_records, 2);
    assert_int_equal(stats_of(db).keys, 31);
    warp_close(db);
}

static void durability_counters_follow_the_writes(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(2, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    warp_durability du = durability_of(db);
    uint64_t t0 = (uint64_t)time(NULL) * 1000;

    assert_int_equal(du.wal_bytes, 0);
    assert_int_equal(du.checkpoints, 0);
    assert_int_equal(du.sync_errors, 0);
    for (int i = 0; i < 20; i++)
        assert_ok(warp_put(db, &i, sizeof(i), "value", 5, NULL, NULL));
    du = durability_of(db);
    /* each record: a 28-byte header, key and value, padded to 8 bytes */
    assert_int_equal(du.wal_bytes, 20 * 40);
    assert_true(du.syncs >= 1);
    assert_int_equal(du.synced_writes, 20);
    assert_ok(warp_checkpoint(db));
    du = durability_of(db);
    assert_int_equal(du.checkpoints, 1);
    assert_true(du.last_checkpoint_ms >= t0 - 1000);
    /* time() reads the coarse clock, which may lag a tick behind */
    assert_true(du.last_checkpoint_ms <= (uint64_t)time(NULL) * 1000 + 2000);
    assert_int_equal(du.sync_errors, 0);
    warp_close(db);
}

static void warp_sync_makes_everysec_writes_durable(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(2, WARP_FSYNC_EVERYSEC);
    warp_db *db = open_disk(d->db, &o);
    uint64_t syncs;

    put_str(db, "a", "1");
    syncs = durability_of(db).syncs;
    assert_ok(warp_sync(db));
    assert_true(durability_of(db).syncs > syncs);
    assert_int_equal(durability_of(db).sync_errors, 0);
    warp_close(db);
}

/* ------------------------------------------------------------------------ */
/* The directory                                                             */
/* ------------------------------------------------------------------------ */

static void second_open_of_an_open_directory_is_ebusy(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(2, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o), *db2 = (warp_db *)&db2;
    pid_t pid;
    int status;

    put_str(db, "k", "v");
    assert_rc(warp_open(d->db, &o, &db2), WARP_EBUSY);
    assert_null(db2);
    assert_non_null(strstr(warp_open_error(), d->db));
    /* another process is refused too */
    fflush(stdout);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        warp_db *c = NULL;
        _exit(warp_open(d->db, &o, &c) == WARP_EBUSY && c == NULL ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* the refused opens changed nothing; after close it opens again */
    assert_get_str(db, "k", "v");
    db = reopen(db, d->db, &o);
    assert_get_str(db, "k", "v");
    warp_close(db);
}

static void shard_count_is_fixed_at_creation(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(3, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new("sh", 200);

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    warp_close(db);
    o.shards = 16;
    db = open_disk(d->db, &o);
    assert_int_equal(warp_shard_count(db), 3);
    model_check(db, &m);
    warp_close(db);
    free(m.version);
}

/* A minimal JSON checker (RFC 8259 grammar; no semantics): *p moves past
 * one value. Returns false on a syntax error. */
static void json_ws(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
        (*p)++;
}

static bool json_value(const char **p, int depth);

static bool json_string(const char **p)
{
    if (**p != '"')
        return false;
    for ((*p)++; **p != '"'; (*p)++) {
        if ((unsigned char)**p < 0x20)
            return false;
        if (**p == '\\') {
            (*p)++;
            if (!strchr("\"\\/bfnrtu", **p) || !**p)
                return false;
        }
    }
    (*p)++;
    return true;
}

static bool json_number(const char **p)
{
    const char *s = *p;

    if (**p == '-')
        (*p)++;
    if (!isdigit((unsigned char)**p))
        return false;
    if (**p == '0')
        (*p)++;
    else
        while (isdigit((unsigned char)**p))
            (*p)++;
    if (**p == '.') {
        (*p)++;
        if (!isdigit((unsigned char)**p))
            return false;
        while (isdigit((unsigned char)**p))
            (*p)++;
    }
    if (**p == 'e' || **p == 'E') {
        (*p)++;
        if (**p == '+' || **p == '-')
            (*p)++;
        if (!isdigit((unsigned char)**p))
            return false;
        while (isdigit((unsigned char)**p))
            (*p)++;
    }
    return *p > s;
}

static bool json_members(const char **p, int depth, char close, bool keyed)
{
    (*p)++;
    json_ws(p);
    if (**p == close) {
        (*p)++;
        return true;
    }
    for (;;) {
        json_ws(p);
        if (keyed) {
            if (!json_string(p))
                return false;
            json_ws(p);
            if (*(*p)++ != ':')
                return false;
        }
        if (!json_value(p, depth + 1))
            return false;
        json_ws(p);
        if (**p == close) {
            (*p)++;
            return true;
        }
        if (*(*p)++ != ',')
            return false;
    }
}

static bool json_value(const char **p, int depth)
{
    if (depth > 32)
        return false;
    json_ws(p);
    switch (**p) {
    case '{':
        return json_members(p, depth, '}', true);
    case '[':
        return json_members(p, depth, ']', false);
    case '"':
        return json_string(p);
    case 't':
        return strncmp(*p, "true", 4) == 0 && (*p += 4);
    case 'f':
        return strncmp(*p, "false", 5) == 0 && (*p += 5);
    case 'n':
        return strncmp(*p, "null", 4) == 0 && (*p += 4);
    default:
        return json_number(p);
    }
}

static void
manifest_is_json_with_format_version_and_cosmic_constants(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(5, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    char path[512];
    size_t len;
    char *text;
    const char *p, *at;

    snprintf(path, sizeof(path), "%s/universe.manifest", d->db);
    assert_true(file_exists(path));
    text = (char *)read_whole(path, &len);
    assert_int_equal(strlen(text), len);
    p = text;
    json_ws(&p);
    assert_int_equal(*p, '{');
    assert_true(json_value(&p, 0));
    json_ws(&p);
    assert_int_equal(*p, '\0'); /* one JSON object and nothing else */
    /* "format_version": a positive integer */
    at = strstr(text, "\"format_version\"");
    assert_non_null(at);
    at += strlen("\"format_version\"");
    json_ws(&at);
    assert_int_equal(*at++, ':');
    json_ws(&at);
    assert_true(isdigit((unsigned char)*at) && *at != '0');
    /* "cosmic_constants": an object */
    at = strstr(text, "\"cosmic_constants\"");
    assert_non_null(at);
    at += strlen("\"cosmic_constants\"");
    json_ws(&at);
    assert_int_equal(*at++, ':');
    json_ws(&at);
    assert_int_equal(*at, '{');
    free(text);
    /* the manifest is not rewritten by a reopen */
    text = (char *)read_whole(path, &len);
    db = reopen(db, d->db, &o);
    char *again = (char *)read_whole(path, &(size_t){0});
    assert_string_equal(text, again);
    free(again);
    free(text);
    warp_close(db);
}

static void damaged_manifest_refuses_the_open(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    char path[512];

    put_str(db, "k", "v");
    warp_close(db);
    snprintf(path, sizeof(path), "%s/universe.manifest", d->db);
    write_whole(path, "{ \"not\": \"a manifest\" }\n", 24);
    db = (warp_db *)&db;
    assert_rc(warp_open(d->db, &o, &db), WARP_ECORRUPT);
    assert_null(db);
    assert_non_null(strstr(warp_open_error(), "universe.manifest"));
}

static void data_directory_is_created_with_its_layout(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    warp_db *db;
    char path[512];
    struct stat sb;

    assert_false(file_exists(d->db));
    db = open_disk(d->db, &o);
    snprintf(path, sizeof(path), "%s/wal", d->db);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    snprintf(path, sizeof(path), "%s/snapshots", d->db);
    assert_int_equal(stat(path, &sb), 0);
    assert_true(S_ISDIR(sb.st_mode));
    warp_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        DIR_TEST(puts_survive_close_and_reopen),
        DIR_TEST(overwrites_keep_the_last_value_across_reopen),
        DIR_TEST(deleted_keys_stay_deleted_after_reopen),
        DIR_TEST(deleting_a_missing_key_logs_nothing),
        DIR_TEST(hints_survive_reopen),
        DIR_TEST(overwriting_with_new_hints_survives_reopen),
        DIR_TEST(empty_key_and_empty_value_survive_reopen),
        DIR_TEST(binary_keys_and_values_survive_reopen),
        DIR_TEST(value_larger_than_a_wal_segment_survives_reopen),
        DIR_TEST(many_segments_replay_in_order),
        DIR_TEST(store_reopens_many_times_without_losing_anything),
        DIR_TEST(checkpoint_then_more_writes_then_reopen_keeps_both),
        DIR_TEST(checkpoint_deletes_the_wal_it_makes_unnecessary),
        DIR_TEST(checkpoint_of_an_empty_store_reopens_empty),
        cmocka_unit_test(checkpoint_of_an_in_memory_store_is_einval),
        DIR_TEST(automatic_checkpoint_starts_when_the_wal_grows),
        DIR_TEST(automatic_checkpoint_waits_for_the_wal_to_outgrow_the_data),
        DIR_TEST(checkpointed_segments_are_reused),
        DIR_TEST(automatic_checkpoint_starts_when_the_interval_passes),
        DIR_TEST(leftover_tmp_snapshot_is_ignored),
        DIR_TEST(crash_after_snapshot_rename_before_wal_delete_recovers),
        DIR_TEST(recovery_counts_what_was_loaded),
        DIR_TEST(durability_counters_follow_the_writes),
        DIR_TEST(warp_sync_makes_everysec_writes_durable),
        DIR_TEST(second_open_of_an_open_directory_is_ebusy),
        DIR_TEST(shard_count_is_fixed_at_creation),
        DIR_TEST(manifest_is_json_with_format_version_and_cosmic_constants),
        DIR_TEST(damaged_manifest_refuses_the_open),
        DIR_TEST(data_directory_is_created_with_its_layout),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
