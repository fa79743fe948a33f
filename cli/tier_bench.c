/*
 * tier_bench.c - `warp bench --workload tiers`: what the event-horizon
 * tiers cost and save (docs/TIERS.md, docs/BENCHMARKS.md).
 *
 * PHOTON GET
 *   An in-memory store with N keys of B-byte JSON values (posts-like
 *   records, jsongen_sized()), written with access_pattern cold: each is
 *   compressed as it is written (LZ4 with the store's dictionary, built
 *   from its first values) and stays in photon_sphere (cold values are
 *   not promoted). One thread then gets uniformly random keys for S
 *   seconds, timing every get (clock_gettime, about 20 ns included); then
 *   the same keys are rewritten raw and the run repeats, for the
 *   event_horizon figure on the same machine. Target: photon_sphere p99
 *   <= 3 us for 1 KiB values.
 *
 * COLD MEMORY
 *   N records of upstream's large dataset (jsongen_record(): twelve
 *   families, about 430 bytes), keys "<family>:<id>". The store runs with
 *   physics full, demote_after = 1 s (deep_after = 2 s with --dir), and a
 *   generous budget (maxmemory = 4x the raw bytes: it only switches item
 *   memory to per-item allocation, so that demotion gives memory back).
 *   After the load, one thread reads the hot 30% of the keys (ids with
 *   id % 10 < 3) in a loop; the other 70% are never read again, cool, and
 *   are demoted. When at least 70% of the keys are in a lower tier (or
 *   after 120 s), the engine's memory (used_bytes: every byte it allocated)
 *   is compared with the raw key + value bytes. Target: <= 0.6x. Resident
 *   memory is reported too; it also holds the physics key map (16 bytes a
 *   key) and the benchmark's own buffers.
 */
#include "tier_bench.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchdir.h"
#include "hist.h"
#include "jsongen.h"
#include "keygen.h"
#include "warp.h"
#include "workload.h"

#define HOT_TENTHS   3   /* ids with id % 10 < 3 are hot */
#define COLD_TARGET  0.7 /* the share of keys in lower tiers to wait for */
#define COOL_TIMEOUT 120 /* seconds */

typedef struct tier_cfg {
    uint32_t keys;
    size_t value_size;
    double seconds;
    const char *dir;
    bool photon, memory;
} tier_cfg;

static const char usage[] =
    "usage: warp bench --workload tiers [--keys N] [--value-size B]\n"
    "                  [--seconds S] [--dir DIR] [--part photon|memory]\n"
    "\n"
    "The event-horizon tiers' benchmarks (docs/TIERS.md):\n"
    "  photon   gets of B-byte JSON values compressed in photon_sphere,\n"
    "           then of the same values raw (event_horizon); latency of\n"
    "           every get, S seconds each. N defaults to 200000, B to 1024.\n"
    "  memory   N records like upstream's large dataset (default 200000);\n"
    "           30% of the keys read in a loop, 70% left to cool; the\n"
    "           engine's memory once they are demoted, over the raw key +\n"
    "           value bytes. With --dir DIR (absent or empty), once more\n"
    "           with deep_cache on DIR (removed afterwards).\n"
    "Both run unless --part picks one.\n";

bool tier_bench_wanted(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--workload") == 0 &&
            strcmp(argv[i + 1], "tiers") == 0)
            return true;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--workload=tiers") == 0)
            return true;
    return false;
}

static int parse(int argc, char **argv, tier_cfg *c)
{
    *c = (tier_cfg){.keys = 200000,
                    .value_size = 1024,
                    .seconds = 3,
                    .photon = true,
                    .memory = true};
    const char *a = NULL;

    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return -1;
        }
        if (strcmp(a, "--workload=tiers") == 0)
            continue;
        if (!v)
            goto bad;
        i++;
        if (strcmp(a, "--workload") == 0 && strcmp(v, "tiers") == 0)
            continue;
        else if (strcmp(a, "--keys") == 0 && atol(v) > 0)
            c->keys = (uint32_t)atol(v);
        else if (strcmp(a, "--value-size") == 0 && atol(v) > 0 &&
                 atol(v) <= JSON_MAX)
            c->value_size = (size_t)atol(v);
        else if (strcmp(a, "--seconds") == 0 && atof(v) > 0)
            c->seconds = atof(v);
        else if (strcmp(a, "--dir") == 0)
            c->dir = v;
        else if (strcmp(a, "--part") == 0 && strcmp(v, "photon") == 0)
            c->memory = false;
        else if (strcmp(a, "--part") == 0 && strcmp(v, "memory") == 0)
            c->photon = false;
        else
            goto bad;
    }
    return 0;
bad:
    fprintf(stderr, "warp bench: --workload tiers: bad argument '%s'\n%s", a,
            usage);
    return 2;
}

static uint64_t rss_bytes(void)
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

static void sleep_ms(unsigned ms)
{
    struct timespec t = {.tv_sec = ms / 1000,
                         .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "warp bench: tiers: %s: %s\n", what, warp_strerror(rc));
    return 1;
}

/* --- photon get ------------------------------------------------------------
 */

static size_t post_key(char *buf, uint32_t i)
{
    return (size_t)snprintf(buf, 32, "post:%010u", i);
}

static int load_posts(warp_db *db, const tier_cfg *c, warp_access_pattern a)
{
    char key[32], val[JSON_MAX];
    warp_put_options po = {.access_pattern = a};

    for (uint32_t i = 0; i < c->keys; i++) {
        size_t n = jsongen_sized(i, c->value_size, val);
        int rc = warp_put(db, key, post_key(key, i), val, n, &po, NULL);
        if (rc)
            return fail("put", rc);
    }
    return 0;
}

/* Get random keys for c->seconds, timing each; checks every value. */
static int time_gets(warp_db *db, const tier_cfg *c, hist *h)
{
    char key[32], val[JSON_MAX], want[JSON_MAX];
    uint64_t s = 0x5449455253ull, end = now_ns() + (uint64_t)(c->seconds * 1e9);
    uint32_t checked = 0;

    hist_reset(h);
    while (now_ns() < end) {
        for (int j = 0; j < 256; j++) {
            uint32_t i = (uint32_t)(wyrand(&s) % c->keys);
            size_t kl = post_key(key, i), vlen;
            uint64_t t0 = now_ns();
            int rc = warp_get(db, key, kl, val, sizeof(val), &vlen, NULL);
            hist_record(h, now_ns() - t0);
            if (rc)
                return fail("get", rc);
            if ((checked++ & 1023) == 0 &&
                (vlen != jsongen_sized(i, c->value_size, want) ||
                 memcmp(val, want, vlen) != 0)) {
                fprintf(stderr, "warp bench: tiers: wrong value\n");
                return 1;
            }
        }
    }
    return 0;
}

static void print_hist(const char *what, const hist *h)
{
    printf("%-15s %10llu gets  p50 %6.3f us  p99 %6.3f us  p99.9 %6.3f us"
           "  mean %6.3f us\n",
           what, (unsigned long long)h->count, hist_percentile(h, 50) / 1e3,
           hist_percentile(h, 99) / 1e3, hist_percentile(h, 99.9) / 1e3,
           hist_mean(h) / 1e3);
}

static int photon_get(const tier_cfg *c)
{
    warp_options o;
    warp_db *db = NULL;
    warp_tier_metrics m;
    hist *h = hist_new();
    int rc, status = 1;

    warp_options_init(&o);
    o.physics = WARP_PHYSICS_OFF;
    if (!h)
        return fail("histogram", WARP_ENOMEM);
    if ((rc = warp_open(NULL, &o, &db)))
        return hist_free(h), fail("open", rc);
    printf("photon get: %u keys, %zu-byte JSON values, %.1f s per run, one "
           "thread, uniform keys\n",
           c->keys, c->value_size, c->seconds);
    if (load_posts(db, c, WARP_ACCESS_COLD))
        goto out;
    warp_tier_metrics_get(db, &m);
    printf("photon_sphere: %llu of %u keys, compression ratio %.2f "
           "(dictionary %llu bytes)\n",
           (unsigned long long)m.tiers[WARP_TIER_PHOTON_SPHERE].items, c->keys,
           m.tiers[WARP_TIER_PHOTON_SPHERE].compression_ratio,
           (unsigned long long)m.dict_bytes);
    if (time_gets(db, c, h))
        goto out;
    print_hist("photon_sphere", h);
    if (load_posts(db, c, WARP_ACCESS_BALANCED) || time_gets(db, c, h))
        goto out;
    print_hist("event_horizon", h);
    printf("target: photon_sphere p99 <= 3 us\n\n");
    status = 0;
out:
    warp_close(db);
    hist_free(h);
    return status;
}

/* --- cold memory -----------------------------------------------------------
 */

static size_t record_key(char *buf, uint32_t i)
{
    return (size_t)snprintf(buf, 48, "%s:%u", jsongen_family(i),
                            i / JSON_FAMILIES + 1);
}

typedef struct reader {
    warp_db *db;
    uint32_t keys;
    _Atomic bool stop;
    _Atomic uint64_t gets;
    int rc;
} reader;

/* Read the hot keys (i % 10 < HOT_TENTHS) until told to stop. */
static void *read_hot(void *arg)
{
    reader *r = arg;
    char key[48], val[JSON_MAX];
    uint64_t s = 42, n = 0;

    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        uint32_t i = (uint32_t)(wyrand(&s) % r->keys);
        if (i % 10 >= HOT_TENTHS)
            i -= i % 10; /* the hot key of its ten */
        size_t vlen;
        int rc = warp_get(r->db, key, record_key(key, i), val, sizeof(val),
                          &vlen, NULL);
        if (rc) {
            r->rc = rc;
            break;
        }
        if ((++n & 1023) == 0)
            atomic_store_explicit(&r->gets, n, memory_order_relaxed);
    }
    return NULL;
}

static int cold_memory(const tier_cfg *c, const char *dir)
{
    warp_options o;
    warp_db *db = NULL;
    warp_tier_metrics m;
    reader r = {.keys = c->keys};
    pthread_t th;
    char key[48], val[JSON_MAX];
    uint64_t raw = 0, rss0 = rss_bytes(), t0;
    int rc, status = 1;

    for (uint32_t i = 0; i < c->keys; i++) /* the raw bytes, first */
        raw += record_key(key, i) + jsongen_record(i, val);
    warp_options_init(&o);
    o.physics = WARP_PHYSICS_FULL;
    o.maxmemory = 4 * raw;
    o.demote_after = 1000;
    o.deep_after = dir ? 2000 : 0;
    o.entropy_monitoring_interval = 86400000; /* no entropy/ files */
    if ((rc = warp_open(dir, &o, &db)))
        return fail("open", rc);
    printf("cold memory%s: %u records like upstream's large dataset, %.1f MiB "
           "of keys and values\n",
           dir ? " (deep_cache on)" : " (in memory)", c->keys, raw / 1048576.0);
    for (uint32_t i = 0; i < c->keys; i++) {
        size_t n = jsongen_record(i, val);
        if ((rc = warp_put(db, key, record_key(key, i), val, n, NULL, NULL))) {
            fail("put", rc);
            goto out;
        }
    }
    r.db = db;
    if (pthread_create(&th, NULL, read_hot, &r)) {
        fail("thread", WARP_ENOMEM);
        goto out;
    }
    t0 = now_ns();
    for (;;) {
        sleep_ms(500);
        warp_tier_metrics_get(db, &m);
        uint64_t down = m.tiers[WARP_TIER_PHOTON_SPHERE].items +
                        m.tiers[WARP_TIER_DEEP_CACHE].items;
        if (down >= COLD_TARGET * c->keys ||
            now_ns() - t0 > COOL_TIMEOUT * 1000000000ull)
            break;
    }
    sleep_ms(1000); /* a last sweep, and the reader's promotions */
    atomic_store(&r.stop, true);
    pthread_join(th, NULL);
    if (r.rc) {
        fail("get", r.rc);
        goto out;
    }
    warp_tier_metrics_get(db, &m);
    printf("after %.1f s: event_horizon %llu, photon_sphere %llu (ratio "
           "%.2f), deep_cache %llu keys; %llu hot gets\n",
           (now_ns() - t0) / 1e9,
           (unsigned long long)m.tiers[WARP_TIER_EVENT_HORIZON].items,
           (unsigned long long)m.tiers[WARP_TIER_PHOTON_SPHERE].items,
           m.tiers[WARP_TIER_PHOTON_SPHERE].compression_ratio,
           (unsigned long long)m.tiers[WARP_TIER_DEEP_CACHE].items,
           (unsigned long long)atomic_load(&r.gets));
    printf("memory: engine %.1f MiB = %.3fx the raw bytes (target <= 0.6x); "
           "resident +%.1f MiB = %.3fx\n\n",
           m.used_bytes / 1048576.0, (double)m.used_bytes / (double)raw,
           (rss_bytes() - rss0) / 1048576.0,
           (double)(rss_bytes() - rss0) / (double)raw);
    status = 0;
out:
    warp_close(db);
    return status;
}

int tier_bench_main(int argc, char **argv)
{
    tier_cfg c;
    int rc = parse(argc, argv, &c);
    bool created = false;

    if (rc)
        return rc < 0 ? 0 : rc;
    if (c.photon && (rc = photon_get(&c)))
        return rc;
    if (!c.memory)
        return 0;
    if ((rc = cold_memory(&c, NULL)))
        return rc;
    if (!c.dir)
        return 0;
    if ((rc = benchdir_prepare(c.dir, &created)))
        return rc;
    rc = cold_memory(&c, c.dir);
    if (!benchdir_remove(c.dir, created) && !rc)
        rc = 1;
    return rc;
}
