/*
 * series_bench.c - `warp bench --workload tsadd,...`: what the time-series
 * API costs, in process (warp.h, "Time series"; docs/SERIES.md).
 *
 * WHAT IS MEASURED
 *   Each workload runs with each thread count T on a fresh store (in
 *   memory, or on --dir with --fsync), T threads for S seconds:
 *     tsadd         each thread appends to its own series: ts 0, 1, 2, ...
 *     tsadd-ooo     each thread adds to its own series out of order: the
 *                   timestamps of each window of 1,024 in a shuffled order
 *                   (inserts inside chunks, and splits)
 *     tsadd-shared  every thread appends to one series, timestamps from
 *                   one counter: adds of a series serialize on its lock
 *     tsrange       reads of 1,000 consecutive samples at random points of
 *                   a series of --samples samples (preloaded, 1 ms apart)
 *     tsagg         avg in 10-second buckets over a random 100-second
 *                   window of that series: 10 results from 100,000 samples
 *   One op in 16 is timed (clock_gettime costs ~20 ns). A row reports the
 *   ops, ops/s, and the mean, p50, p99 and p99.9 latency of the timed ops
 *   in µs. Add rows also report, from thread 0's series, the key + value
 *   bytes its records hold per sample, and with --dir the WAL bytes
 *   written per add.
 */
#include "series_bench.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchdir.h"
#include "common.h"
#include "hist.h"
#include "warp.h"

enum ts_workload { TS_ADD, TS_ADD_OOO, TS_ADD_SHARED, TS_RANGE, TS_AGG, TS_N };

static const char *const ts_names[TS_N] = {"tsadd", "tsadd-ooo", "tsadd-shared",
                                           "tsrange", "tsagg"};

#define MAX_THREADS 64
#define TIMED_MASK  15 /* one op in 16 is timed */
#define RANGE_N     1000
#define AGG_WINDOW  100000
#define AGG_BUCKET  10000
#define READ_SERIES "bench:read"

struct ts_config {
    enum ts_workload wl[TS_N];
    unsigned nwl;
    unsigned threads[MAX_THREADS];
    unsigned nthreads;
    double seconds;
    uint64_t samples;
    const char *dir;
    warp_options opts;
};

struct ts_worker {
    pthread_t tid;
    warp_db *db;
    enum ts_workload wl;
    unsigned id;
    uint64_t samples;
    atomic_bool *stop;
    atomic_llong *next_ts; /* tsadd-shared */
    uint64_t ops, start_ns, end_ns;
    int rc;
    hist *h;
};

static const char usage_text[] =
    "usage: warp bench --workload TSLIST [--threads LIST] [--seconds S]\n"
    "                  [--samples N] [--dir DIR] [--fsync MODE]\n"
    "                  [--opt NAME=VALUE]...\n"
    "\n"
    "The time-series workloads (docs/SERIES.md): each workload of TSLIST\n"
    "(comma-separated) runs with each thread count on a fresh store.\n"
    "\n"
    "  tsadd         appends, each thread to its own series\n"
    "  tsadd-ooo     out-of-order adds (shuffled 1,024-ms windows)\n"
    "  tsadd-shared  appends of every thread to one series\n"
    "  tsrange       range reads of 1,000 samples\n"
    "  tsagg         avg in 10 s buckets over 100 s windows\n"
    "\n"
    "  --threads LIST  thread counts, e.g. 1,4 (default 1)\n"
    "  --seconds S     seconds per run (default 2)\n"
    "  --samples N     samples preloaded for tsrange and tsagg (default\n"
    "                  1000000, at least 100000)\n"
    "  --dir DIR       run on a data directory (absent or empty; removed\n"
    "                  after), through the WAL\n"
    "  --fsync MODE    always, everysec or never, with --dir\n"
    "  --opt N=V       any engine option\n";

static uint64_t now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "warp bench: %s '%s'\n\n%s", what, arg, usage_text);
    return 2;
}

bool series_bench_wanted(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--workload") == 0)
            return strncmp(argv[i + 1], "ts", 2) == 0;
    return false;
}

/* --- arguments ------------------------------------------------------------ */

static int parse_workloads(struct ts_config *c, const char *list)
{
    const char *p = list;

    c->nwl = 0;
    while (*p) {
        size_t len = strcspn(p, ",");
        unsigned w = 0;
        while (w < TS_N && (strlen(ts_names[w]) != len ||
                            strncmp(ts_names[w], p, len) != 0))
            w++;
        if (w == TS_N || c->nwl == TS_N)
            return usage_error("--workload: want tsadd, tsadd-ooo, "
                               "tsadd-shared, tsrange or tsagg, got",
                               list);
        c->wl[c->nwl++] = (enum ts_workload)w;
        p += len + (p[len] == ',');
    }
    return c->nwl ? 0 : usage_error("--workload: empty list", list);
}

static int parse_threads(struct ts_config *c, const char *list)
{
    const char *p = list;

    c->nthreads = 0;
    while (*p) {
        char *end;
        unsigned long t = strtoul(p, &end, 10);
        if (end == p || t < 1 || t > MAX_THREADS ||
            c->nthreads == MAX_THREADS || (*end && *end != ','))
            return usage_error("--threads: want counts 1..64, got", list);
        c->threads[c->nthreads++] = (unsigned)t;
        p = *end ? end + 1 : end;
    }
    return c->nthreads ? 0 : usage_error("--threads: empty list", list);
}

/* One flag and its value. Returns 0, or 2 after reporting. */
static int parse_flag(struct ts_config *c, const char *flag, const char *v)
{
    char *end;

    if (strcmp(flag, "--workload") == 0)
        return parse_workloads(c, v);
    if (strcmp(flag, "--threads") == 0)
        return parse_threads(c, v);
    if (strcmp(flag, "--seconds") == 0) {
        c->seconds = strtod(v, &end);
        return *end || !(c->seconds > 0)
                   ? usage_error("--seconds: want a positive number, got", v)
                   : 0;
    }
    if (strcmp(flag, "--samples") == 0) {
        c->samples = strtoull(v, &end, 10);
        return *end || c->samples < AGG_WINDOW
                   ? usage_error("--samples: want at least 100000, got", v)
                   : 0;
    }
    if (strcmp(flag, "--dir") == 0)
        return c->dir = v, 0;
    if (strcmp(flag, "--fsync") == 0)
        return cli_apply_opt(&c->opts, "bench", "--fsync", "fsync", v) ? 0 : 2;
    if (strcmp(flag, "--opt") == 0)
        return cli_set_opt(&c->opts, "bench", v) ? 0 : 2;
    return usage_error("unknown or incomplete flag", flag);
}

/* Returns 0 to go on, -1 after --help, 2 after a usage error. */
static int parse_args(int argc, char **argv, struct ts_config *c)
{
    memset(c, 0, sizeof(*c));
    c->threads[0] = 1;
    c->nthreads = 1;
    c->seconds = 2;
    c->samples = 1000000;
    warp_options_init(&c->opts);
    for (int i = 1; i < argc; i += 2) {
        int rc;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_text, stdout);
            return -1;
        }
        if (i + 1 == argc)
            return usage_error("flag without a value:", argv[i]);
        if ((rc = parse_flag(c, argv[i], argv[i + 1])))
            return rc;
    }
    return 0;
}

/* --- workers -------------------------------------------------------------- */

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545F4914F6CDD1Dull;
}

/* One op of the worker's workload, the i-th. */
static int one_op(struct ts_worker *w, char *name, size_t nlen, uint64_t i,
                  uint64_t *x, warp_ts_sample *buf)
{
    int64_t ts, from;
    size_t n;
    int rc;

    switch (w->wl) {
    case TS_ADD:
        return warp_ts_add(w->db, name, nlen, (int64_t)i, (double)i);
    case TS_ADD_OOO: /* 389 is odd: x -> 389x + 17 permutes 0..1023 */
        ts = (int64_t)((i & ~1023ull) | ((i * 389 + 17) & 1023));
        return warp_ts_add(w->db, name, nlen, ts, (double)i);
    case TS_ADD_SHARED:
        ts = atomic_fetch_add_explicit(w->next_ts, 1, memory_order_relaxed);
        return warp_ts_add(w->db, "bench:shared", 12, ts, (double)ts);
    case TS_RANGE:
        from = (int64_t)(xorshift(x) % (w->samples - RANGE_N + 1));
        rc = warp_ts_range(w->db, READ_SERIES, strlen(READ_SERIES), from,
                           from + RANGE_N - 1, buf, RANGE_N, &n);
        return rc ? rc : n == RANGE_N ? WARP_OK : WARP_ECORRUPT;
    default:
        from = (int64_t)(xorshift(x) % (w->samples - AGG_WINDOW + 1));
        rc = warp_ts_aggregate(w->db, READ_SERIES, strlen(READ_SERIES), from,
                               from + AGG_WINDOW - 1, WARP_TS_AVG, AGG_BUCKET,
                               buf, 16, &n);
        return rc ? rc : n >= AGG_WINDOW / AGG_BUCKET ? WARP_OK : WARP_ECORRUPT;
    }
}

static void *worker_main(void *arg)
{
    struct ts_worker *w = arg;
    warp_ts_sample *buf = malloc(RANGE_N * sizeof(*buf));
    uint64_t x = w->id * 0x9E3779B97F4A7C15ull + 1;
    char name[32];
    size_t nlen = (size_t)snprintf(name, sizeof(name), "bench:%u", w->id);

    w->rc = buf ? WARP_OK : WARP_ENOMEM;
    w->start_ns = now_ns();
    for (uint64_t i = 0;
         !w->rc && !atomic_load_explicit(w->stop, memory_order_relaxed); i++) {
        bool timed = (i & TIMED_MASK) == 0;
        uint64_t t0 = timed ? now_ns() : 0;
        w->rc = one_op(w, name, nlen, i, &x, buf);
        if (timed)
            hist_record(w->h, now_ns() - t0);
        w->ops += !w->rc;
    }
    w->end_ns = now_ns();
    free(buf);
    return NULL;
}

/* --- runs ----------------------------------------------------------------- */

static int preload(warp_db *db, uint64_t samples)
{
    for (uint64_t i = 0; i < samples; i++) {
        int rc = warp_ts_add(db, READ_SERIES, strlen(READ_SERIES), (int64_t)i,
                             (double)(i % 1000));
        if (rc)
            return rc;
    }
    return WARP_OK;
}

/* Start `n` workers, sleep, stop and join them. Returns 0 or 1. */
static int run_workers(struct ts_worker *w, unsigned n, double seconds)
{
    atomic_bool *stop = w[0].stop;
    struct timespec t = {(time_t)seconds,
                         (long)((seconds - (double)(time_t)seconds) * 1e9)};
    unsigned started = 0;

    for (; started < n; started++)
        if (pthread_create(&w[started].tid, NULL, worker_main, &w[started]))
            break;
    if (started == n)
        nanosleep(&t, NULL);
    atomic_store(stop, true);
    for (unsigned i = 0; i < started; i++)
        pthread_join(w[i].tid, NULL);
    if (started < n) {
        fprintf(stderr, "warp bench: cannot start thread %u\n", started);
        return 1;
    }
    for (unsigned i = 0; i < n; i++)
        if (w[i].rc) {
            fprintf(stderr, "warp bench: %s: thread %u: %s\n",
                    ts_names[w[i].wl], i, warp_strerror(w[i].rc));
            return 1;
        }
    return 0;
}

/* Print a row from the workers' figures and the store's. */
static void report(const struct ts_config *c, warp_db *db, enum ts_workload wl,
                   struct ts_worker *w, unsigned n)
{
    uint64_t ops = 0, start = UINT64_MAX, end = 0;
    hist *all = hist_new();
    char extra[96] = "";
    warp_durability d;
    warp_ts_info info;
    char fs[16];

    for (unsigned i = 0; i < n; i++) {
        ops += w[i].ops;
        start = w[i].start_ns < start ? w[i].start_ns : start;
        end = w[i].end_ns > end ? w[i].end_ns : end;
        if (all)
            hist_merge(all, w[i].h);
    }
    if (wl <= TS_ADD_SHARED &&
        warp_ts_info_get(db, wl == TS_ADD_SHARED ? "bench:shared" : "bench:0",
                         wl == TS_ADD_SHARED ? 12 : 7, 0, &info) == WARP_OK &&
        info.samples) {
        int k = snprintf(extra, sizeof(extra), "  %5.1f B/sample",
                         (double)info.record_bytes / (double)info.samples);
        if (c->dir && warp_durability_get(db, &d) == WARP_OK && ops)
            snprintf(extra + k, sizeof(extra) - (size_t)k, "  %6.0f WAL B/add",
                     (double)d.wal_bytes / (double)ops);
    }
    if (warp_options_get(&c->opts, "fsync", fs, sizeof(fs)) || !c->dir)
        strcpy(fs, "memory");
    printf("%-13s %-8s %3u %11llu %11.0f %8.2f %8.2f %8.2f %8.2f%s\n",
           ts_names[wl], fs, n, (unsigned long long)ops,
           (double)ops / ((double)(end - start) / 1e9),
           all ? hist_mean(all) / 1000 : 0,
           all ? hist_percentile(all, 50) / 1000 : 0,
           all ? hist_percentile(all, 99) / 1000 : 0,
           all ? hist_percentile(all, 99.9) / 1000 : 0, extra);
    hist_free(all);
}

/* One workload with `n` threads on a fresh store. Returns 0 or 1. */
static int run_one(const struct ts_config *c, enum ts_workload wl, unsigned n)
{
    struct ts_worker w[MAX_THREADS];
    atomic_bool stop = false;
    atomic_llong next_ts = 0;
    warp_db *db;
    int rc, status = 1;

    if ((rc = warp_open(c->dir, &c->opts, &db))) {
        cli_open_failed("bench", c->dir ? c->dir : "(memory)", rc);
        return 1;
    }
    if (wl >= TS_RANGE && (rc = preload(db, c->samples))) {
        fprintf(stderr, "warp bench: preload: %s\n", warp_strerror(rc));
        goto out;
    }
    memset(w, 0, sizeof(w));
    for (unsigned i = 0; i < n; i++) {
        w[i] = (struct ts_worker){.db = db,
                                  .wl = wl,
                                  .id = i,
                                  .samples = c->samples,
                                  .stop = &stop,
                                  .next_ts = &next_ts,
                                  .h = hist_new()};
        if (!w[i].h) {
            fprintf(stderr, "warp bench: out of memory\n");
            goto out;
        }
    }
    if (run_workers(w, n, c->seconds) == 0) {
        report(c, db, wl, w, n);
        status = 0;
    }
out:
    for (unsigned i = 0; i < n; i++)
        hist_free(w[i].h);
    warp_close(db);
    return status;
}

int series_bench_main(int argc, char **argv)
{
    struct ts_config c;
    bool created = false;
    int status = parse_args(argc, argv, &c);

    if (status)
        return status < 0 ? 0 : status;
    if (c.dir && (status = benchdir_prepare(c.dir, &created)))
        return status;
    printf("%-13s %-8s %3s %11s %11s %8s %8s %8s %8s\n", "workload", "fsync",
           "thr", "ops", "ops/s", "mean_us", "p50_us", "p99_us", "p999_us");
    for (unsigned i = 0; i < c.nwl && !status; i++)
        for (unsigned t = 0; t < c.nthreads && !status; t++) {
            status = run_one(&c, c.wl[i], c.threads[t]);
            if (c.dir && !benchdir_remove(c.dir, false))
                status = 1;
        }
    if (c.dir && !benchdir_remove(c.dir, created))
        status = 1;
    return status;
}
