/*
 * test-tiers.c - event-horizon tiers: values move between event_horizon,
 * photon_sphere (compressed in memory) and deep_cache (on disk) and stay
 * bit-exact; the memory budget holds; writes over it fail cleanly or
 * evict; crashes and restarts lose nothing.
 *
 * Values are a pure function of (key index, version): a 16-byte header
 * holding both, then either random bytes (incompressible) or text-like
 * bytes (compressible), 0 .. 64 KiB, so that every read can be checked.
 *
 * MEMORY: the 3x test checks the engine's own figure (used_bytes, the
 * allocator count the budget is enforced on) against maxmemory, and the
 * process's resident memory (/proc/self/statm) against maxmemory plus
 * the documented overhead (docs/TIERS.md). Resident memory is skipped
 * under sanitizers, whose shadow memory and quarantine it would count.
 */
#include "tiers.h"

#include <pthread.h>
#include <semaphore.h>

#include "db.h"
#include "epoch.h"
#include "io.h"
#include "route.h"
#include "table.h"

/* ------------------------------------------------------------------------ */
/* Moves keep values bit-exact                                               */
/* ------------------------------------------------------------------------ */

/* A put with access_pattern cold is compressed as it is written, and
 * every read path returns its bytes exactly. */
static void cold_puts_go_to_photon_sphere_bit_exact(void **state)
{
    enum { N = 300 };
    warp_options o = tier_options(0);
    uint64_t ver[N];
    warp_db *db = own_store(state, &o);

    for (uint32_t k = 0; k < N; k++) {
        put_kv(db, k, ver[k] = 1, WARP_ACCESS_COLD);
        assert_string_equal(tier_of(db, k), "photon_sphere");
    }
    check_all(db, N, ver);
    warp_tier_metrics m = tiers_of(db);
    assert_int_equal(m.tiers[WARP_TIER_PHOTON_SPHERE].items, N);
    assert_true(m.tiers[WARP_TIER_PHOTON_SPHERE].compression_ratio > 1.0);
    /* a plain overwrite brings it back up */
    put_kv(db, 7, ver[7] = 2, WARP_ACCESS_BALANCED);
    assert_string_equal(tier_of(db, 7), "event_horizon");
    assert_ok(warp_delete(db, "tier:8", 6));
    ver[8] = 0;
    check_all(db, N, ver);
    m = tiers_of(db);
    assert_int_equal(m.tiers[WARP_TIER_PHOTON_SPHERE].items, N - 2);
    assert_int_equal(m.tiers[WARP_TIER_EVENT_HORIZON].items, 1);
    assert_string_equal(tier_of(db, 8), "none");
}

/* With physics observing, values not accessed for demote_after go to
 * photon_sphere and, with a data directory, for deep_after to deep_cache;
 * they read back exactly, before and after a restart and a checkpoint. */
static void cooling_demotes_to_every_tier_bit_exact(void **state)
{
    enum { N = 400 };
    test_dir *d = *state;
    warp_options o = tier_options(0);
    uint64_t ver[N];
    warp_db *db;

    o.physics = WARP_PHYSICS_FULL;
    o.demote_after = 1;
    o.deep_after = 0;
    db = open_disk(d->db, &o);
    for (uint32_t k = 0; k < N; k++)
        put_kv(db, k, ver[k] = 1, WARP_ACCESS_BALANCED);
    assert_true(wait_items(db, WARP_TIER_PHOTON_SPHERE, N, 10000));
    check_all(db, N, ver);
    warp_close(db);

    o.deep_after = 1;
    o.deep_segment_size = 1u << 20;
    db = open_disk(d->db, &o);
    assert_true(wait_items(db, WARP_TIER_DEEP_CACHE, N, 10000));
    assert_string_equal(tier_of(db, 3), "deep_cache");
    check_all(db, N, ver);
    for (uint32_t k = 0; k < N; k += 3)
        put_kv(db, k, ++ver[k], WARP_ACCESS_BALANCED);
    assert_ok(warp_checkpoint(db)); /* reads deep values back */
    check_all(db, N, ver);
    warp_close(db);

    o.physics = WARP_PHYSICS_OFF;
    db = open_disk(d->db, &o); /* from the snapshot */
    check_all(db, N, ver);
    warp_close(db);
}

/* Under the budget's pressure values are demoted; once memory is freed,
 * the ones read are promoted back to event_horizon, and every value is
 * exact throughout. */
static void pressure_demotes_and_reads_promote_bit_exact(void **state)
{
    enum { N = 2000 };
    warp_options o = budget_options(1u << 20);
    uint64_t *ver = calloc(N, sizeof(*ver));
    warp_db *db = own_store(state, &o);
    uint32_t promoted = 0;

    for (uint32_t k = 0; k < N; k++) { /* compressible versions only */
        uint64_t v = 1;
        while (mix64(k, v) % 2 || vsize(k, v) > 2048)
            v++;
        put_kv(db, k, ver[k] = v, WARP_ACCESS_BALANCED);
    }
    warp_tier_metrics m = tiers_of(db);
    assert_true(m.tiers[WARP_TIER_PHOTON_SPHERE].demotions > 0);
    assert_true(m.used_bytes <= o.maxmemory);
    check_all(db, N, ver);
    for (uint32_t k = 0; k < N; k++) /* free most of the memory */
        if (k % 8) {
            char key[32];
            assert_ok(warp_delete(db, key, kname(key, k)));
            ver[k] = 0;
        }
    for (int round = 0; round < 100 && promoted < N / 8; round++) {
        promoted = 0;
        for (uint32_t k = 0; k < N; k += 8) {
            check_kv(db, k, ver[k]);
            promoted += strcmp(tier_of(db, k), "event_horizon") == 0;
        }
        sleep_ms(20);
    }
    assert_int_equal(promoted, N / 8);
    assert_true(tiers_of(db).tiers[WARP_TIER_PHOTON_SPHERE].promotions > 0);
    check_all(db, N, ver);
    free(ver);
}

/* access_pattern hot pins a key to event_horizon, however full memory is. */
static void hot_hint_pins_to_event_horizon(void **state)
{
    enum { N = 2000 };
    warp_options o = budget_options(1u << 20);
    warp_db *db = own_store(state, &o);

    for (uint32_t k = 0; k < N; k++) {
        uint64_t v = 1;
        while (mix64(k, v) % 2 || vsize(k, v) > 2048)
            v++;
        put_kv(db, k, v, k % 10 ? WARP_ACCESS_BALANCED : WARP_ACCESS_HOT);
    }
    assert_true(tiers_of(db).tiers[WARP_TIER_PHOTON_SPHERE].items > 0);
    for (uint32_t k = 0; k < N; k += 10)
        assert_string_equal(tier_of(db, k), "event_horizon");
}

/* ------------------------------------------------------------------------ */
/* The budget                                                                */
/* ------------------------------------------------------------------------ */

/* What `used` may exceed the budget by at a moment (docs/TIERS.md): the
 * budget is checked when a write is admitted, against the item it adds; a
 * table that grows, a limbo ring that doubles, and writes admitted at the
 * same moment come on top. */
#define SLACK (64u << 10)

/* Three times maxmemory of JSON-like values stays readable: the engine's
 * memory stays within the budget, and so does the process's resident
 * memory, plus the documented overhead. */
static void dataset_three_times_maxmemory_stays_readable(void **state)
{
    const uint64_t budget = 16u << 20;
    const uint32_t n = 3 * 16 * 1024; /* 1 KiB values: 48 MiB */
    test_dir *d = *state;
    warp_options o = tier_options(budget);
    uint64_t rss0 = rss_bytes(), rss_max = 0, used_max = 0;
    char key[32], val[1024], got[1024];
    warp_db *db = open_disk(d->db, &o);

    for (uint32_t k = 0; k < n; k++) {
        size_t kl = kname(key, k);
        snprintf(val, sizeof(val),
                 "{\"id\":%u,\"name\":\"user_%u\",\"email\":\"user%u@example."
                 "com\",\"bio\":\"",
                 k, k, k);
        size_t l = strlen(val);
        for (uint64_t s = k; l < sizeof(val) - 2;) {
            const char *w = words[next_rand(&s) % 6];
            size_t wl = strlen(w) < sizeof(val) - 2 - l ? strlen(w)
                                                        : sizeof(val) - 2 - l;
            memcpy(val + l, w, wl);
            l += wl;
        }
        memcpy(val + l, "\"}", 2);
        assert_ok(warp_put(db, key, kl, val, sizeof(val), NULL, NULL));
        if (k % 1024 == 0) {
            uint64_t r = rss_bytes(), u = tiers_of(db).used_bytes;
            rss_max = r > rss_max ? r : rss_max;
            used_max = u > used_max ? u : used_max;
        }
    }
    warp_tier_metrics m = tiers_of(db);
    printf("# 3x: %u keys, used %.1f MiB (max %.1f), budget %.1f MiB, rss "
           "+%.1f MiB (max +%.1f), deep %llu, photon %llu, raw %llu\n",
           n, m.used_bytes / 1048576.0, used_max / 1048576.0,
           budget / 1048576.0, (rss_bytes() - rss0) / 1048576.0,
           (rss_max - rss0) / 1048576.0,
           (unsigned long long)m.tiers[WARP_TIER_DEEP_CACHE].items,
           (unsigned long long)m.tiers[WARP_TIER_PHOTON_SPHERE].items,
           (unsigned long long)m.tiers[WARP_TIER_EVENT_HORIZON].items);
    printf("# 3x: used over the budget at most %lld bytes\n",
           (long long)(used_max - budget));
    assert_true(used_max <= budget + SLACK);
    assert_true(m.tiers[WARP_TIER_DEEP_CACHE].items > 0);
    if (!SANITIZED) /* docs/TIERS.md: budget + 12 MiB */
        assert_true(rss_max - rss0 <= budget + (12u << 20));
    for (uint32_t k = 0; k < n; k++) {
        size_t len;
        assert_ok(
            warp_get(db, key, kname(key, k), got, sizeof(got), &len, NULL));
        assert_int_equal(len, sizeof(got));
        snprintf(val, sizeof(val), "{\"id\":%u,", k);
        assert_memory_equal(got, val, strlen(val));
    }
    warp_close(db);
    /* a restart over the budget loads it all again, demoting as it goes
     * (to the low watermark; the demoter settles what parallel replays
     * overshot) */
    db = open_disk(d->db, &o);
    for (int i = 0; i < 100 && tiers_of(db).used_bytes > budget; i++)
        sleep_ms(20);
    assert_true(tiers_of(db).used_bytes <= budget);
    assert_int_equal(stats_of(db).keys, n);
    for (uint32_t k = 0; k < n; k += 97) {
        size_t len;
        assert_ok(
            warp_get(db, key, kname(key, k), got, sizeof(got), &len, NULL));
        snprintf(val, sizeof(val), "{\"id\":%u,", k);
        assert_memory_equal(got, val, strlen(val));
    }
    warp_close(db);
}

/* With eviction none, a write that does not fit fails with WARP_EFULL and
 * changes nothing; every write acknowledged before is there. */
static void write_over_budget_fails_and_loses_nothing(void **state)
{
    enum { N = 4000 };
    warp_options o = budget_options(512u << 10);
    uint64_t *ver = calloc(N, sizeof(*ver));
    warp_db *db = own_store(state, &o);
    uint8_t buf[4096];
    char key[32];
    uint32_t k, failed_at = N;

    for (k = 0; k < N; k++) { /* incompressible values */
        uint64_t v = 1;
        while (mix64(k, v) % 2 == 0 || vsize(k, v) > sizeof(buf))
            v++;
        vfill(buf, k, v);
        int rc = warp_put(db, key, kname(key, k), buf, vsize(k, v), NULL, NULL);
        if (rc == WARP_EFULL) {
            failed_at = k;
            break;
        }
        assert_ok(rc);
        ver[k] = v;
    }
    assert_true(failed_at < N);
    assert_string_equal(warp_strerror(WARP_EFULL),
                        "memory budget exhausted (maxmemory): nothing more "
                        "can be demoted");
    assert_get_notfound(db, key, kname(key, failed_at));
    /* an overwrite that does not fit fails too, and keeps the old value */
    vfill(buf, 0, 99);
    assert_rc(warp_put(db, key, kname(key, 0), buf, sizeof(buf), NULL, NULL),
              WARP_EFULL);
    warp_tier_metrics m = tiers_of(db);
    assert_true(m.budget_failures >= 2);
    assert_true(m.exhausted);
    assert_int_equal(m.evictions, 0);
    check_all(db, failed_at, ver);
    /* deleting makes room again */
    for (k = 0; k < failed_at / 2; k++) {
        assert_ok(warp_delete(db, key, kname(key, k)));
        ver[k] = 0;
    }
    put_kv(db, failed_at, ver[failed_at] = 1, WARP_ACCESS_BALANCED);
    check_all(db, failed_at + 1, ver);
    free(ver);
}

/* Fill a store whose values cannot shrink (incompressible) with n keys,
 * reading the first `hot` keys `reads` times each after the first half:
 * the eviction policy makes room. Returns the store; ver[] tells which
 * keys were written. */
static warp_db *fill_and_evict(const char *dir, warp_options *o, uint32_t n,
                               uint32_t hot, int reads, uint64_t *ver,
                               size_t lo, size_t hi)
{
    uint8_t buf[2048];
    char key[32];
    warp_db *db = dir ? open_disk(dir, o) : open_store(o);

    for (uint32_t k = 0; k < n; k++) {
        uint64_t v = 1;
        while (mix64(k, v) % 2 == 0 || vsize(k, v) < lo || vsize(k, v) > hi)
            v++;
        vfill(buf, k, v);
        if (hot && k > n / 2 && k % 16 == 0)
            sleep_ms(2);  /* physics sees a write within 10 ms: pace them */
        if (k == n / 2) { /* the hot keys are read between the halves */
            sleep_ms(30); /* physics counts time in 10 ms ticks */
            for (int r = 0; r < reads; r++)
                for (uint32_t h = 0; h < hot; h++)
                    check_kv(db, h, ver[h]);
            sleep_ms(50); /* physics drains every 10 ms */
        }
        assert_ok(
            warp_put(db, key, kname(key, k), buf, vsize(k, v), NULL, NULL));
        ver[k] = v;
    }
    return db;
}

/* Wait until the demoter has stopped evicting (it evicts down to its low
 * watermark after the writes that took memory over the budget). */
static warp_tier_metrics settled(warp_db *db)
{
    warp_tier_metrics m = tiers_of(db), next;

    for (int still = 0, i = 0; still < 3 && i < 200; i++) {
        sleep_ms(50);
        next = tiers_of(db);
        still = next.evictions == m.evictions ? still + 1 : 0;
        m = next;
    }
    return m;
}

/* Evictions happened, no write failed, every key is either gone or exact.
 * With `hot`: the policy kept the hot keys (read between the halves, at
 * least 90% of them) much better than the other keys of the first half;
 * sampling makes it approximate, as in Redis. */
static void check_eviction(warp_db *db, uint32_t n, uint32_t hot, uint64_t *ver)
{
    warp_tier_metrics m = settled(db);
    uint32_t live = 0, hot_live = 0, cold_live = 0;

    assert_true(m.evictions > 0);
    assert_int_equal(m.budget_failures, 0);
    for (uint32_t k = 0; k < n; k++) {
        char key[32];
        int rc = warp_get(db, key, kname(key, k), NULL, 0, NULL, NULL);
        if (rc == WARP_NOTFOUND) {
            ver[k] = 0;
            continue;
        }
        live++;
        hot_live += k < hot;
        cold_live += k >= hot && k < n / 2;
    }
    printf("# %s: %llu evicted; survived: hot %u/%u, first half %u/%u\n",
           m.eviction == WARP_EVICT_LRU ? "lru" : "lfu",
           (unsigned long long)m.evictions, hot_live, hot, cold_live,
           n / 2 - hot);
    assert_int_equal(live + m.evictions, n);
    if (hot) {
        double h = (double)hot_live / hot;
        double c = (double)cold_live / (n / 2 - hot);
        assert_true(h >= 0.9);
        assert_true(c <= h - 0.3);
    }
    check_all(db, n, ver);
    assert_int_equal(tiers_of(db).evictions, m.evictions);
}

/* About 2/3 of the keys fit: the third evicted comes from the keys of the
 * first half that were not read again. */
static void lru_evicts_the_least_recently_used(void **state)
{
    enum { N = 640, HOT = 40 };
    warp_options o = budget_options(768u << 10);
    uint64_t *ver = calloc(N, sizeof(*ver));

    o.physics = WARP_PHYSICS_FULL;
    o.eviction = WARP_EVICT_LRU;
    *state = fill_and_evict(NULL, &o, N, HOT, 1, ver, 1024, 2048);
    check_eviction(*state, N, HOT, ver);
    free(ver);
}

static void lfu_evicts_the_least_frequently_used(void **state)
{
    enum { N = 640, HOT = 40 };
    warp_options o = budget_options(768u << 10);
    uint64_t *ver = calloc(N, sizeof(*ver));

    o.physics = WARP_PHYSICS_FULL;
    o.eviction = WARP_EVICT_LFU;
    *state = fill_and_evict(NULL, &o, N, HOT, 5, ver, 1024, 2048);
    check_eviction(*state, N, HOT, ver);
    free(ver);
}

/* Evictions are deletes in the WAL: a restart finds the same keys. With a
 * data directory values go down to deep_cache first, so it takes many
 * keys (their locators, and the slots' tables, which do not shrink) to
 * fill the budget. */
static void evictions_are_logged_so_recovery_agrees(void **state)
{
    const uint32_t n = 75000;
    test_dir *d = *state;
    warp_options o = budget_options(4u << 20);
    uint64_t *ver = calloc(n, sizeof(*ver));
    warp_db *db;

    o.eviction = WARP_EVICT_LRU;
    db = fill_and_evict(d->db, &o, n, 0, 0, ver, 32, 64);
    check_eviction(db, n, 0, ver);
    assert_true(tiers_of(db).tiers[WARP_TIER_DEEP_CACHE].items > 0);
    warp_close(db);
    db = open_disk(d->db, &o);
    check_all(db, n, ver);
    warp_close(db);
    free(ver);
}

/* fsync=always logs a put and leaves it pending until its group commit.
 * An eviction chose the key's old item X meanwhile; its delete (only if
 * the key still holds X) must not be logged after that put: applied in
 * log order, it removed the acknowledged put, and recovery agreed. The
 * group commit's sync is held up until the eviction has run. */
static sem_t syncing;
static atomic_bool hold_syncs;

static int held_fdatasync(int fd)
{
    if (atomic_load(&hold_syncs)) {
        sem_post(&syncing);
        sleep_ms(200);
    }
    return io_system.fdatasync(fd);
}

static void *put_new_k(void *db)
{
    warp_put_options hot = {.access_pattern = WARP_ACCESS_HOT};

    assert_ok(warp_put(db, "K", 1, "new", 3, &hot, NULL));
    return NULL;
}

static void eviction_spares_a_put_pending_in_its_group_commit(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    io_ops held = io_system;
    char buf[8];
    size_t n;
    pthread_t t;

    o.maxmemory = 64u << 20;
    o.eviction = WARP_EVICT_LRU;
    warp_db *db = open_disk(d->db, &o);
    assert_ok(warp_put(db, "K", 1, "old", 3, NULL, NULL));
    uint64_t h = route_hash("K", 1);
    epoch_thread *et = epoch_enter(); /* as an eviction pass holds X */
    const item *x =
        table_find(&db->slots[db_key_slot(db, "K", 1, h)], h, "K", 1);
    assert_non_null(x);
    assert_int_equal(sem_init(&syncing, 0, 0), 0);
    held.fdatasync = held_fdatasync;
    atomic_store(&hold_syncs, true);
    io_set_ops(&held);
    assert_int_equal(pthread_create(&t, NULL, put_new_k, db), 0);
    sem_wait(&syncing); /* the put is logged; its commit is syncing */
    assert_rc(db_delete_item(db, "K", 1, x), WARP_NOTFOUND);
    epoch_exit(et);
    atomic_store(&hold_syncs, false);
    assert_int_equal(pthread_join(t, NULL), 0);
    io_set_ops(NULL);
    sem_destroy(&syncing);
    assert_ok(warp_get(db, "K", 1, buf, sizeof(buf), &n, NULL));
    assert_memory_equal(buf, "new", 3);
    db = (warp_close(db), open_disk(d->db, &o));
    assert_ok(warp_get(db, "K", 1, buf, sizeof(buf), &n, NULL));
    assert_memory_equal(buf, "new", 3);
    warp_close(db);
}

/* ------------------------------------------------------------------------ */
/* Files: deep segments, slot images, crashes                                */
/* ------------------------------------------------------------------------ */

/* A store in d with keys 0 .. n-1 (version 1), every value moved down to
 * deep_cache, in segments of 1 MiB. */
static warp_db *open_all_deep(test_dir *d, uint32_t n)
{
    warp_options o = tier_options(0);
    warp_db *db;

    o.physics = WARP_PHYSICS_FULL;
    o.demote_after = 1;
    o.deep_after = 1;
    o.deep_segment_size = 1u << 20;
    db = open_disk(d->db, &o);
    for (uint32_t k = 0; k < n; k++)
        put_kv(db, k, 1, WARP_ACCESS_BALANCED);
    assert_true(wait_items(db, WARP_TIER_DEEP_CACHE, n, 10000));
    return db;
}

/* A deep segment whose values are all gone is deleted. */
static void dead_deep_segments_are_deleted(void **state)
{
    enum { N = 600 };
    test_dir *d = *state;
    warp_db *db = open_all_deep(d, N);
    warp_tier_metrics m = tiers_of(db);
    assert_true(m.deep_files >= 2);
    for (uint32_t k = 0; k < N; k++) {
        char key[32];
        assert_ok(warp_delete(db, key, kname(key, k)));
    }
    for (int i = 0; i < 100 && tiers_of(db).deep_files > 1; i++)
        sleep_ms(20);
    m = tiers_of(db);
    assert_true(m.deep_files <= 1);
    assert_true(m.deep_reclaimed_files >= 1);
    assert_int_equal(m.deep_live_bytes, 0);
    warp_close(db);
    /* closing deletes the files and the directory */
    char path[400];
    snprintf(path, sizeof(path), "%s/deep", d->db);
    assert_false(file_exists(path));
}

/* Counts the keys a warp_foreach_keys_from() walk visits, and the ones
 * whose length is not their value's (version 1). */
typedef struct key_count {
    uint32_t seen, wrong;
} key_count;

static int count_key(void *ctx, const void *key, size_t klen, size_t vlen,
                     const warp_placement *where)
{
    key_count *c = ctx;
    char name[32];
    unsigned k;

    (void)where;
    c->seen++;
    snprintf(name, sizeof(name), "%.*s", (int)klen, (const char *)key);
    if (sscanf(name, "tier:%u", &k) != 1 || vlen != vsize(k, 1))
        c->wrong++;
    return 0;
}

static int any_pair(void *ctx, const void *key, size_t klen, const void *val,
                    size_t vlen, const warp_placement *where)
{
    (void)ctx, (void)key, (void)klen, (void)val, (void)vlen, (void)where;
    return 0;
}

/* A walk of the keys reads no value: with every value in deep_cache and
 * the deep segments emptied under the store, a walk of the pairs fails on
 * its first read, and the walk of the keys still sees every key with its
 * value's length. */
static void key_walk_reads_no_deep_value(void **state)
{
    enum { N = 300 };
    test_dir *d = *state;
    warp_db *db = open_all_deep(d, N);
    key_count c = {0};
    char path[400], file[700];

    snprintf(path, sizeof(path), "%s/deep", d->db);
    DIR *dir = opendir(path);
    assert_non_null(dir);
    for (struct dirent *e; (e = readdir(dir));)
        if (e->d_name[0] != '.') {
            snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
            assert_int_equal(truncate(file, 0), 0);
        }
    closedir(dir);
    assert_int_not_equal(warp_foreach(db, any_pair, NULL), WARP_OK);
    assert_ok(warp_foreach_keys_from(db, 0, count_key, &c));
    assert_int_equal(c.seen, N);
    assert_int_equal(c.wrong, 0);
    warp_close(db);
}

/* A slot that moves carries its tiered values, raw, in its image. */
static void slot_moves_carry_tiered_values(void **state)
{
    enum { N = 300 };
    test_dir *d = *state;
    warp_options o = tier_options(0);
    uint64_t ver[N];
    warp_placement where;
    warp_db *db;

    o.physics = WARP_PHYSICS_FULL;
    o.demote_after = 1;
    o.deep_after = 1;
    db = open_disk(d->db, &o);
    for (uint32_t k = 0; k < N; k++)
        put_kv(db, k, ver[k] = 1,
               k % 2 ? WARP_ACCESS_COLD : WARP_ACCESS_BALANCED);
    assert_true(wait_items(db, WARP_TIER_DEEP_CACHE, N / 4, 10000));
    for (uint32_t k = 0; k < N; k += 7) {
        char key[32];
        assert_ok(warp_locate(db, key, kname(key, k), &where));
        assert_ok(warp_slot_move(db, where.slot,
                                 (where.shard + 1) % warp_shard_count(db)));
    }
    check_all(db, N, ver);
    warp_close(db);
    o.physics = WARP_PHYSICS_OFF;
    db = open_disk(d->db, &o);
    check_all(db, N, ver);
    warp_close(db);
}

/* ------------------------------------------------------------------------ */
/* Introspection                                                             */
/* ------------------------------------------------------------------------ */

static void explain_and_metrics_report_tiers(void **state)
{
    warp_options o = tier_options(0);
    warp_db *db = own_store(state, &o);
    char *json = NULL;

    put_kv(db, 1, 1, WARP_ACCESS_BALANCED);
    put_kv(db, 2, 1, WARP_ACCESS_COLD);
    assert_string_equal(tier_of(db, 1), "event_horizon");
    assert_string_equal(tier_of(db, 2), "photon_sphere");
    assert_string_equal(tier_of(db, 3), "none");
    assert_ok(warp_metrics_json(db, &json));
    assert_non_null(strstr(json, "\"tiers\":{\"maxmemory\":0,"));
    assert_non_null(strstr(json, "\"photon_sphere\":{\"items\":1,"));
    assert_non_null(strstr(json, "\"deep_cache\":{\"items\":0,"));
    assert_int_equal(json[strlen(json) - 1], '}');
    warp_free(json);
    assert_string_equal(warp_tier_name(WARP_TIER_DEEP_CACHE), "deep_cache");
    assert_string_equal(warp_tier_name(7), "?");
    assert_rc(warp_tier_metrics_get(NULL, NULL), WARP_EINVAL);
}

/* ------------------------------------------------------------------------ */
/* Threads                                                                   */
/* ------------------------------------------------------------------------ */

#define TN 400

typedef struct race {
    warp_db *db;
    _Atomic bool stop;
    _Atomic uint64_t reads;
} race;

/* A reader: any version it finds must be whole and exact. */
static void *race_reader(void *arg)
{
    race *r = arg;
    static _Thread_local uint8_t got[(64u << 10) + 64], want[(64u << 10) + 64];
    uint64_t s = (uint64_t)(uintptr_t)&s;

    while (!atomic_load(&r->stop)) {
        uint32_t k = (uint32_t)(next_rand(&s) % TN);
        char key[32];
        size_t len, kl = kname(key, k);
        int rc = warp_get(r->db, key, kl, got, sizeof(got), &len, NULL);
        if (rc == WARP_NOTFOUND)
            continue;
        assert_ok(rc);
        uint64_t v = 0;
        if (len >= HDR)
            memcpy(&v, got, 8);
        else
            continue; /* too short to carry its version */
        vfill(want, k, v);
        assert_int_equal(len, vsize(k, v));
        assert_memory_equal(got, want, len);
        atomic_fetch_add(&r->reads, 1);
    }
    return NULL;
}

/* Readers and a writer race the demoter, promotions and evictions. */
static void readers_see_exact_values_while_values_move(void **state)
{
    test_dir *d = *state;
    warp_options o = budget_options(512u << 10);
    race r = {0};
    pthread_t th[2];
    uint64_t s = 7, *ver = calloc(TN, sizeof(*ver));

    o.physics = WARP_PHYSICS_FULL;
    o.demote_after = 1;
    o.deep_after = 50;
    o.deep_segment_size = 1u << 20;
    r.db = open_disk(d->db, &o);
    for (uint32_t k = 0; k < TN; k++) {
        uint64_t v = 1;
        while (vsize(k, v) > 8192)
            v++;
        put_kv(r.db, k, ver[k] = v, WARP_ACCESS_BALANCED);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, race_reader, &r), 0);
    for (int i = 0; i < 3000; i++) {
        uint32_t k = (uint32_t)(next_rand(&s) % TN);
        uint64_t v = ver[k] + 1;
        while (vsize(k, v) > 8192)
            v++;
        put_kv(r.db, k, ver[k] = v,
               i % 5 == 0 ? WARP_ACCESS_COLD : WARP_ACCESS_BALANCED);
        if (i % 300 == 0)
            assert_ok(warp_checkpoint(r.db));
    }
    /* the readers go on while the demoter cools the values: at least
     * 200 ms, and until it has moved some (on a loaded machine its first
     * pass can come late; up to 10 s) */
    warp_tier_metrics m;
    for (int waited = 0;; waited += 20) {
        sleep_ms(20);
        m = tiers_of(r.db);
        uint64_t moved = m.tiers[WARP_TIER_PHOTON_SPHERE].demotions +
                         m.tiers[WARP_TIER_DEEP_CACHE].demotions;
        if ((moved > 0 && waited >= 200) || waited >= 10000)
            break;
    }
    atomic_store(&r.stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_true(atomic_load(&r.reads) > 0);
    assert_true(m.tiers[WARP_TIER_PHOTON_SPHERE].demotions +
                    m.tiers[WARP_TIER_DEEP_CACHE].demotions >
                0);
    check_all(r.db, TN, ver);
    warp_close(r.db);
    free(ver);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        OWN_STORE_TEST(cold_puts_go_to_photon_sphere_bit_exact),
        DIR_TEST(cooling_demotes_to_every_tier_bit_exact),
        OWN_STORE_TEST(pressure_demotes_and_reads_promote_bit_exact),
        OWN_STORE_TEST(hot_hint_pins_to_event_horizon),
        DIR_TEST(dataset_three_times_maxmemory_stays_readable),
        OWN_STORE_TEST(write_over_budget_fails_and_loses_nothing),
        OWN_STORE_TEST(lru_evicts_the_least_recently_used),
        OWN_STORE_TEST(lfu_evicts_the_least_frequently_used),
        DIR_TEST(evictions_are_logged_so_recovery_agrees),
        DIR_TEST(eviction_spares_a_put_pending_in_its_group_commit),
        DIR_TEST(dead_deep_segments_are_deleted),
        DIR_TEST(key_walk_reads_no_deep_value),
        DIR_TEST(slot_moves_carry_tiered_values),
        OWN_STORE_TEST(explain_and_metrics_report_tiers),
        DIR_TEST(readers_see_exact_values_while_values_move),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
