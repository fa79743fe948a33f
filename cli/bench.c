/*
 * bench.c - `warp bench`: throughput and latency of the engine, in process.
 *
 * WHAT IS MEASURED
 *   One in-memory store is opened and preloaded with N keys, each with a
 *   B-byte value whose content is a function of the key's index (a window
 *   into one pseudo-random pattern), with warp_put_batch() on one thread.
 *   The keys are "key:%010u" (0 .. N-1), or, when the mixed workload is in
 *   the list, the related layout: user:, profile:, settings: and sessions:
 *   of N/4 ids, four keys that share a slot (keygen.h). Then each workload
 *   runs with each thread count T, T threads for S seconds (workload.c says
 *   what each workload does, how the window is measured and how latency is
 *   sampled). Keys are drawn uniformly, or from a Zipf distribution
 *   (--dist zipf).
 *
 * PHYSICS MODES AND REPETITIONS
 *   --physics takes a list of modes. For each workload and thread count,
 *   each repetition (--repeat R) runs every mode once, back to back on the
 *   same store, switching with warp_physics_set(); the store is opened in
 *   the first mode. The order of the modes rotates by one each repetition
 *   (off,adaptive,full; adaptive,full,off; ...), so that a mode is not
 *   always the one that follows another, and a noisy stretch of the
 *   machine hits every mode alike. Each row's `vs off` is its ops/s over
 *   the off run of the same workload, thread count and repetition. With
 *   several modes or repetitions a summary follows: per mode the median
 *   ops/s of the repetitions and the median of their vs-off ratios.
 *   Every run starts from the same key sequence (the workers' generators
 *   are seeded by thread and workload), so the modes see the same load.
 *
 * REBALANCE
 *   --workload rebalance runs alone: per repetition a fresh store, a
 *   skewed get load before and after warp_rebalance(), the busiest shard's
 *   share of the ops counted by the bench (rebalance.c).
 *
 * ON DISK (--dir DIR, --fsync MODE)
 *   The store is opened on DIR, which must be absent or empty (benchdir.h):
 *   the bench removes what it wrote when it is done, unless --keep. The
 *   preload and every run then go through the WAL, so `put` measures
 *   acknowledged puts under that fsync mode. With fsync=always a put waits
 *   for its group commit (milliseconds), so the put loop then reads the
 *   stop flag every SYNC_BLOCK ops and times every op. --compare-memory
 *   first runs the same workloads on an in-memory store, for the ratio.
 *   Each run on disk also reports the syncs and checkpoints it saw.
 *
 * RECOVER (needs --dir)
 *   Puts keys 0..N-1, then overwrites keys 0..N/2-1 (fsync=never, no
 *   automatic checkpoints), so the log holds 1.5N records; closes the
 *   store, reopens it with the configured options and reports what
 *   warp_recovery_get() says: records (WAL + snapshot) per second of
 *   recovery. The files are in the page cache: this is a warm-cache figure.
 *   It then checks that the store holds N keys with the newest values.
 *
 * CHECKPOINT (needs --dir)
 *   Preloads N keys, then the workers run `simple` gets for S seconds while
 *   the main thread calls warp_checkpoint() back to back. A checkpoint that
 *   is running when the S seconds are up finishes before the workers are
 *   stopped, so every get measured ran beside a checkpoint. Reports the
 *   get rate and latency (p99.9 shows the stalls) and the checkpoints.
 */
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchdir.h"
#include "common.h"
#include "compare.h"
#include "hist.h"
#include "keygen.h"
#include "qget.h"
#include "rebalance.h"
#include "series_bench.h"
#include "tier_bench.h"
#include "warp.h"
#include "workload.h"

#define MAX_THREADS       1024
#define MAX_THREAD_COUNTS 64
#define MAX_WORKLOADS     16
#define MAX_MODES         3
#define MAX_REPEAT        1000
#define REBALANCE_TARGET  1.25 /* after / best share */

/* ------------------------------------------------------------------------ */
/* Configuration and argument parsing                                        */
/* ------------------------------------------------------------------------ */

struct bench_config {
    enum workload workloads[MAX_WORKLOADS];
    unsigned nworkloads;
    uint32_t keys;
    size_t value_size;
    unsigned threads[MAX_THREAD_COUNTS];
    unsigned nthreads;
    double seconds;
    unsigned repeat;
    warp_physics_mode modes[MAX_MODES];
    unsigned nmodes;
    bool modes_given;       /* --physics */
    bool physics_opt_given; /* --opt physics=... */
    enum key_dist dist;
    bool dist_given;
    double zipf_s;
    enum key_layout layout; /* related when mixed is in the list */
    const char *json_path;  /* NULL: no JSON */
    const char *dir;        /* --dir, or NULL: in memory */
    bool fsync_given;       /* --fsync (or --opt fsync=) was given */
    bool compare_memory;    /* --compare-memory */
    bool keep;              /* --keep */
    warp_options opts;
};

/* The help text, a printf format: BATCH_KEYS, MAX_THREADS, BENCH_SAMPLE. */
static const char usage_format[] =
    "usage: warp bench [--workload LIST] [--keys N]\n"
    "                  [--value-size B] [--threads 1,2,...] [--seconds S]\n"
    "                  [--physics LIST] [--repeat R] [--dist uniform|zipf]\n"
    "                  [--zipf-s S] [--json FILE] [--shards N]\n"
    "                  [--dir DIR [--fsync MODE] [--compare-memory] [--keep]]\n"
    "                  [--opt NAME=VALUE]...\n"
    "\n"
    "Preload a store (in memory, or on DIR) with N keys of B-byte values,\n"
    "then run each workload with each thread count and physics mode for S\n"
    "seconds, and print one row per run.\n"
    "\n"
    "  --workload LIST   simple, batch, put or mixed; a comma-separated list\n"
    "                    runs each in turn on the same store (default\n"
    "                    simple); or recover, checkpoint or rebalance alone;\n"
    "                    or tsadd, ...: the time-series workloads (see\n"
    "                    `warp bench --workload tsadd --help`); or qget:\n"
    "                    warp_quantum_get of a key with 3 partners against\n"
    "                    4 warp_get (`warp bench --workload qget --help`);\n"
    "                    or tiers: photon_sphere gets and the memory of a\n"
    "                    cold dataset (`warp bench --workload tiers --help`);\n"
    "                    or complex (large): the seed's large-dataset\n"
    "                    workload; with --engine warp,lmdb,rocksdb the\n"
    "                    seed's simple, mixed and complex against the peers\n"
    "                    (`warp bench --engine warp --help`)\n"
    "                      simple  warp_get of random keys\n"
    "                      batch   warp_get_batch of %d random keys; ops\n"
    "                              are keys, latency is per call\n"
    "                      put     warp_put over random existing keys\n"
    "                      mixed   70%% get, 20%% put, 10%% related-key\n"
    "                              reads (warp_get_batch of the 4 keys of\n"
    "                              one id); each is one op. With mixed in\n"
    "                              the list the keys are user:, profile:,\n"
    "                              settings: and sessions: of N/4 ids,\n"
    "                              else key:%%010u\n"
    "                      recover put N keys, overwrite N/2 (1.5N WAL\n"
    "                              records, fsync=never), close, reopen:\n"
    "                              ops are records recovered, seconds the\n"
    "                              engine's recovery time; one row (--dir)\n"
    "                      checkpoint  simple gets while the main thread\n"
    "                              runs warp_checkpoint() back to back\n"
    "                              (--dir)\n"
    "                      rebalance  zipf gets for S s, warp_rebalance(),\n"
    "                              the same gets again: the busiest shard's\n"
    "                              share of the ops before and after, and\n"
    "                              the best a slot map allows; a fresh store\n"
    "                              per repetition (no automatic\n"
    "                              rebalance: entropy_threshold=0),\n"
    "                              physics full by default, in memory,\n"
    "                              one thread count\n"
    "  --keys N          keys to preload, 1..4294967295 (default 1000000)\n"
    "  --value-size B    value bytes; k and m suffixes are KiB and MiB\n"
    "                    (default 100)\n"
    "  --threads LIST    comma-separated thread counts, 1..%d, one run\n"
    "                    each (default 1)\n"
    "  --seconds S       measured seconds per run, > 0 (default 3)\n"
    "  --physics LIST    physics modes, comma-separated: off, adaptive,\n"
    "                    full; each workload runs once per mode on the same\n"
    "                    store (warp_physics_set), and each row shows its\n"
    "                    ops/s relative to the off run beside it (vs off).\n"
    "                    Default off (full for rebalance), or the mode of\n"
    "                    --opt physics=MODE; --physics overrides that option\n"
    "  --repeat R        run everything R times, 1..1000 (default 1); the\n"
    "                    modes are interleaved and their order rotates; a\n"
    "                    summary gives each mode's median ops/s and median\n"
    "                    vs-off ratio\n"
    "  --dist D          how keys are drawn: uniform (default; zipf for\n"
    "                    rebalance) or zipf: rank r has probability\n"
    "                    ~ (r+1)^-s, ranks mapped to keys by a fixed\n"
    "                    permutation\n"
    "  --zipf-s S        the Zipf exponent, 0 < S <= 10 (default 0.99)\n"
    "  --json FILE       also write the results to FILE as JSON:\n"
    "                    {\"results\":[{\"workload\",\"engine\",\"threads\",\n"
    "                    \"physics\",\"mode\",\"run\",\"fsync\",\"dist\",\n"
    "                    \"zipf_s\",\"layout\",\"ops\",\"seconds\",\n"
    "                    "
    "\"ops_per_sec\",\"vs_off\",\"physics_cpu\",\"p50_us\",\n"
    "                    "
    "\"p99_us\",\"p999_us\",\"bytes_per_key\",\"dataset\"},\n"
    "                    ...],\n"
    "                    \"summary\":[{\"workload\",\"threads\",\"mode\",\n"
    "                    "
    "\"fsync\",\"runs\",\"ops_per_sec\",\"vs_off\"},...]};\n"
    "                    physics and mode are the row's mode; vs_off and\n"
    "                    physics_cpu are null when unknown; fsync is\n"
    "                    \"none\" in memory; rows on disk add \"syncs\" and\n"
    "                    \"checkpoints\"; rebalance rows add \"phase\"\n"
    "                    (before, after), and the file \"rebalance\" (one\n"
    "                    object per repetition) and \"rebalance_summary\"\n"
    "  --shards N        the same as --opt shards=N\n"
    "  --dir DIR         open the store on DIR, which must be absent or\n"
    "                    empty; what the bench writes there is removed at\n"
    "                    the end\n"
    "  --fsync MODE      always, everysec or never (default everysec);\n"
    "                    needs --dir\n"
    "  --compare-memory  first run the same workloads in memory, then\n"
    "                    print the on-disk / in-memory ops/s ratio\n"
    "  --keep            leave the store in DIR\n"
    "  --opt NAME=VALUE  set an engine option (repeatable); see below\n"
    "  -h, --help        show this help\n"
    "\n"
    "Latency is sampled: one op in %d is timed with clock_gettime\n"
    "(CLOCK_MONOTONIC); every op is counted. bytes/key is the engine's\n"
    "overhead_bytes / keys after the preload; phys cpu the physics thread's\n"
    "CPU during the run, in cores.\n"
    "Exit status: 0 on success, 1 if the benchmark failed, 2 for bad usage.\n"
    "\n"
    "Engine options (--opt):";

static void print_usage(FILE *out)
{
    fprintf(out, usage_format, BATCH_KEYS, MAX_THREADS, BENCH_SAMPLE);
    for (const char *const *n = warp_option_names(); *n != NULL; n++)
        fprintf(out, " %s", *n);
    fputc('\n', out);
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "warp bench: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry `warp bench --help`.\n");
    return 2;
}

/* Parse a plain decimal integer (digits only). Returns false if `s` is not
 * one or overflows; *out is unchanged then. */
static bool parse_u64(const char *s, uint64_t *out, char **end)
{
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, end, 10);
    if (errno != 0)
        return false;
    *out = v;
    return true;
}

/* Parse a finite decimal number into *out. */
static bool parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static int set_keys(struct bench_config *cfg, const char *v)
{
    uint64_t n;
    char *end;
    if (!parse_u64(v, &n, &end) || *end != '\0')
        return usage_error("--keys: '%s' is not a number", v);
    if (n == 0 || n > UINT32_MAX)
        return usage_error("--keys: %s is out of range 1..4294967295", v);
    cfg->keys = (uint32_t)n;
    return 0;
}

static int set_value_size(struct bench_config *cfg, const char *v)
{
    uint64_t n, mult = 1;
    char *end;
    if (!parse_u64(v, &n, &end))
        return usage_error("--value-size: '%s' is not a size", v);
    if ((*end == 'k' || *end == 'K') && end[1] == '\0')
        mult = 1024;
    else if ((*end == 'm' || *end == 'M') && end[1] == '\0')
        mult = 1024 * 1024;
    else if (*end != '\0')
        return usage_error("--value-size: '%s' is not a size", v);
    if (n > UINT32_MAX / mult)
        return usage_error("--value-size: %s is too large", v);
    cfg->value_size = (size_t)(n * mult);
    return 0;
}

/* Parse "1,2,4" into cfg->threads. */
static int set_threads(struct bench_config *cfg, const char *v)
{
    const char *p = v;
    unsigned n = 0;
    for (;;) {
        uint64_t t;
        char *end;
        if (!parse_u64(p, &t, &end) || t == 0 || t > MAX_THREADS ||
            (*end != ',' && *end != '\0') || n == MAX_THREAD_COUNTS)
            return usage_error("--threads: bad thread list '%s' (want e.g. "
                               "1,2,4 with counts 1..1024)",
                               v);
        cfg->threads[n++] = (unsigned)t;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    cfg->nthreads = n;
    return 0;
}

static int set_workload(struct bench_config *cfg, const char *v)
{
    const char *p = v;
    unsigned n = 0;
    for (;;) {
        size_t len = strcspn(p, ",");
        int found = -1;
        for (int w = 0; w < WL_COUNT; w++)
            if (strlen(workload_names[w]) == len &&
                memcmp(workload_names[w], p, len) == 0)
                found = w;
        if (found < 0 || n == MAX_WORKLOADS)
            return usage_error("--workload: bad workload list '%s' (want "
                               "simple, batch, put, mixed, recover, "
                               "checkpoint or rebalance)",
                               v);
        cfg->workloads[n++] = (enum workload)found;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    cfg->nworkloads = n;
    return 0;
}

static int set_seconds(struct bench_config *cfg, const char *v)
{
    double s;
    if (!parse_double(v, &s) || s <= 0 || s > 1e6)
        return usage_error("--seconds: '%s' is not a positive duration", v);
    cfg->seconds = s;
    return 0;
}

static int set_json(struct bench_config *cfg, const char *v)
{
    if (*v == '\0')
        return usage_error("--json: empty file name%s", "");
    cfg->json_path = v;
    return 0;
}

/* Parse "off,adaptive,full" into cfg->modes; each mode at most once. */
static int set_physics(struct bench_config *cfg, const char *v)
{
    const char *p = v;
    unsigned n = 0;
    for (;;) {
        char name[16];
        size_t len = strcspn(p, ",");
        warp_physics_mode m;
        bool ok = len < sizeof name && n < MAX_MODES;
        if (ok) {
            memcpy(name, p, len);
            name[len] = '\0';
            ok = warp_physics_mode_parse(name, &m) == WARP_OK;
        }
        for (unsigned i = 0; ok && i < n; i++)
            ok = cfg->modes[i] != m;
        if (!ok)
            return usage_error("--physics: bad mode list '%s' (want off, "
                               "adaptive and/or full, each at most once)",
                               v);
        cfg->modes[n++] = m;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    cfg->nmodes = n;
    cfg->modes_given = true;
    return 0;
}

static int set_repeat(struct bench_config *cfg, const char *v)
{
    uint64_t n;
    char *end;
    if (!parse_u64(v, &n, &end) || *end != '\0' || n == 0 || n > MAX_REPEAT)
        return usage_error("--repeat: '%s' is not a count 1..1000", v);
    cfg->repeat = (unsigned)n;
    return 0;
}

static int set_dist(struct bench_config *cfg, const char *v)
{
    if (!key_dist_parse(v, &cfg->dist))
        return usage_error("--dist: '%s' is not uniform or zipf", v);
    cfg->dist_given = true;
    return 0;
}

static int set_zipf_s(struct bench_config *cfg, const char *v)
{
    double s;
    if (!parse_double(v, &s) || s <= 0 || s > 10)
        return usage_error("--zipf-s: '%s' is not an exponent in (0, 10]", v);
    cfg->zipf_s = s;
    return 0;
}

/* Apply one engine option; a bad one is a usage error (exit 2). */
static int apply_opt(struct bench_config *cfg, const char *name,
                     const char *value, const char *flag)
{
    return cli_apply_opt(&cfg->opts, "bench", flag, name, value) ? 0 : 2;
}

static int set_dir(struct bench_config *cfg, const char *v)
{
    if (*v == '\0')
        return usage_error("--dir: empty directory name%s", "");
    cfg->dir = v;
    return 0;
}

static int set_fsync(struct bench_config *cfg, const char *v)
{
    cfg->fsync_given = true; /* warp_options_set() checks the mode */
    return apply_opt(cfg, "fsync", v, "--fsync");
}

static int set_compare_memory(struct bench_config *cfg, const char *v)
{
    (void)v;
    cfg->compare_memory = true;
    return 0;
}

static int set_keep(struct bench_config *cfg, const char *v)
{
    (void)v;
    cfg->keep = true;
    return 0;
}

static int set_shards(struct bench_config *cfg, const char *v)
{
    return apply_opt(cfg, "shards", v, "--shards");
}

static int set_opt(struct bench_config *cfg, const char *v)
{
    if (strncmp(v, "fsync=", 6) == 0)
        cfg->fsync_given = true;
    if (strncmp(v, "physics=", 8) == 0)
        cfg->physics_opt_given = true;
    return cli_set_opt(&cfg->opts, "bench", v) ? 0 : 2;
}

/* A flag, and whether it takes a value (the others are switches). */
static const struct flag {
    const char *name;
    int (*set)(struct bench_config *cfg, const char *value);
    bool has_value;
} flags[] = {
    {"workload", set_workload, true},
    {"keys", set_keys, true},
    {"value-size", set_value_size, true},
    {"threads", set_threads, true},
    {"seconds", set_seconds, true},
    {"json", set_json, true},
    {"shards", set_shards, true},
    {"physics", set_physics, true},
    {"repeat", set_repeat, true},
    {"dist", set_dist, true},
    {"zipf-s", set_zipf_s, true},
    {"dir", set_dir, true},
    {"fsync", set_fsync, true},
    {"compare-memory", set_compare_memory, false},
    {"keep", set_keep, false},
    {"opt", set_opt, true},
};

static const struct flag *find_flag(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (strlen(flags[i].name) == len &&
            memcmp(flags[i].name, name, len) == 0)
            return &flags[i];
    return NULL;
}

/* Whether workload `wl` is in the list. */
static bool has_workload(const struct bench_config *cfg, enum workload wl)
{
    for (unsigned i = 0; i < cfg->nworkloads; i++)
        if (cfg->workloads[i] == wl)
            return true;
    return false;
}

/* The first of the workloads that run alone in the list, or WL_COUNT. */
static enum workload lone_workload(const struct bench_config *cfg)
{
    static const enum workload lone[] = {WL_RECOVER, WL_CHECKPOINT,
                                         WL_REBALANCE};
    for (size_t i = 0; i < sizeof lone / sizeof lone[0]; i++)
        if (has_workload(cfg, lone[i]))
            return lone[i];
    return WL_COUNT;
}

/* The flags of the workloads that run alone. Returns 0 or 2 (reported). */
static int check_lone(const struct bench_config *cfg, enum workload lone)
{
    const char *name = workload_names[lone];
    if (cfg->nworkloads > 1)
        return usage_error("--workload: %s runs alone, not in a list", name);
    if (cfg->compare_memory)
        return usage_error("--compare-memory: not for %s", name);
    if (lone != WL_REBALANCE && cfg->dir == NULL)
        return usage_error("--workload %s needs --dir", name);
    if (lone == WL_RECOVER && (cfg->nmodes > 1 || cfg->repeat > 1))
        return usage_error("--workload recover runs once: one physics mode, "
                           "no --repeat%s",
                           "");
    if (lone != WL_REBALANCE)
        return 0;
    if (cfg->dir != NULL)
        return usage_error("--workload rebalance runs in memory: no --dir%s",
                           "");
    if (cfg->nthreads > 1)
        return usage_error("--workload rebalance takes one thread count%s", "");
    if (cfg->nmodes > 1)
        return usage_error("--workload rebalance takes one physics mode%s", "");
    return 0;
}

/* The flags that only make sense together. Returns 0 or 2 (reported). */
static int check_combination(const struct bench_config *cfg)
{
    if (cfg->dir == NULL && cfg->fsync_given)
        return usage_error("--fsync needs --dir (an in-memory store has no "
                           "log)%s",
                           "");
    if (cfg->dir == NULL && cfg->compare_memory)
        return usage_error("--compare-memory needs --dir%s", "");
    if (cfg->dir == NULL && cfg->keep)
        return usage_error("--keep needs --dir%s", "");
    enum workload lone = lone_workload(cfg);
    return lone == WL_COUNT ? 0 : check_lone(cfg, lone);
}

/* The settings that follow from the flags: the modes, the distribution,
 * the key layout, the store's physics option. */
static void resolve(struct bench_config *cfg)
{
    bool rebalance = has_workload(cfg, WL_REBALANCE);
    if (!cfg->modes_given) {
        cfg->modes[0] = cfg->physics_opt_given ? cfg->opts.physics
                        : rebalance            ? WARP_PHYSICS_FULL
                                               : WARP_PHYSICS_OFF;
        cfg->nmodes = 1;
    }
    cfg->opts.physics = cfg->modes[0];
    if (rebalance && !cfg->dist_given)
        cfg->dist = DIST_ZIPF;
    cfg->layout = has_workload(cfg, WL_MIXED) ? LAYOUT_RELATED : LAYOUT_FLAT;
}

/* Parse argv into *cfg, defaults first. Returns 0 to run, -1 when --help
 * was printed, or 2 after a usage error has been reported. Flags take
 * their value as the next argument or after '=' ("--keys=100"). */
static int parse_args(int argc, char **argv, struct bench_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->workloads[0] = WL_SIMPLE;
    cfg->nworkloads = 1;
    cfg->keys = 1000000;
    cfg->value_size = 100;
    cfg->threads[0] = 1;
    cfg->nthreads = 1;
    cfg->seconds = 3.0;
    cfg->repeat = 1;
    cfg->dist = DIST_UNIFORM;
    cfg->zipf_s = 0.99;
    warp_options_init(&cfg->opts);

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            print_usage(stdout);
            return -1;
        }
        if (strncmp(arg, "--", 2) != 0)
            return usage_error("unexpected argument '%s'", arg);
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct flag *f = find_flag(name, len);
        if (f == NULL)
            return usage_error("unknown flag '%s'", arg);
        if (!f->has_value && eq != NULL)
            return usage_error("%s takes no value", arg);
        const char *value = !f->has_value ? "" : eq ? eq + 1 : argv[++i];
        if (value == NULL)
            return usage_error("missing value for %s", arg);
        int rc = f->set(cfg, value);
        if (rc != 0)
            return rc;
    }
    if (cfg->value_size > cfg->opts.max_value_size) {
        fprintf(stderr,
                "warp bench: --value-size %zu exceeds the engine's "
                "max_value_size %llu (raise it with --opt max_value_size=N)\n",
                cfg->value_size, (unsigned long long)cfg->opts.max_value_size);
        return 2;
    }
    resolve(cfg);
    return check_combination(cfg);
}

/* ------------------------------------------------------------------------ */
/* Results                                                                   */
/* ------------------------------------------------------------------------ */

struct result {
    enum workload workload;
    unsigned threads;
    warp_physics_mode mode;
    unsigned run;      /* 1 .. repeat */
    const char *phase; /* rebalance: "before" or "after"; else NULL */
    const char *fsync; /* always, everysec, never; "none" in memory */
    uint64_t ops;
    double seconds;
    double ops_per_sec;
    double vs_off;      /* ops/s over the off run beside it; NAN: none */
    double physics_cpu; /* the physics thread's cores; NAN: unknown */
    double p50_us, p99_us, p999_us;
    double bytes_per_key;
    bool on_disk;         /* the durability figures below mean something */
    uint64_t syncs;       /* sync rounds during the run */
    uint64_t checkpoints; /* checkpoints finished during the run */
    double checkpoint_ms; /* checkpoint workload: mean checkpoint time */
};

/* The results of one pass are laid out workload, thread count,
 * repetition, mode (the index into cfg->modes), the last varying fastest. */
static size_t pass_results(const struct bench_config *cfg)
{
    return (size_t)cfg->nworkloads * cfg->nthreads * cfg->repeat * cfg->nmodes;
}

static size_t res_index(const struct bench_config *cfg, unsigned w, unsigned t,
                        unsigned rep, unsigned m)
{
    return (((size_t)w * cfg->nthreads + t) * cfg->repeat + rep) * cfg->nmodes +
           m;
}

/* The index of physics off in cfg->modes, or -1. */
static int off_index(const struct bench_config *cfg)
{
    for (unsigned m = 0; m < cfg->nmodes; m++)
        if (cfg->modes[m] == WARP_PHYSICS_OFF)
            return (int)m;
    return -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n-1] (sorted in place); NAN if n is 0 or any value
 * is NAN. */
static double median(double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isnan(v[i]))
            return NAN;
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* The repetitions of one (workload, thread count, mode): their ops/s and
 * vs-off ratios in run order (up to MAX_REPEAT each), and the medians. */
struct cell {
    double ops[MAX_REPEAT], vs_off[MAX_REPEAT];
    double ops_median, vs_off_median;
};

static void cell_of(const struct bench_config *cfg, const struct result *res,
                    unsigned w, unsigned t, unsigned m, struct cell *c)
{
    double sorted[MAX_REPEAT];
    for (unsigned rep = 0; rep < cfg->repeat; rep++) {
        const struct result *r = &res[res_index(cfg, w, t, rep, m)];
        c->ops[rep] = r->ops_per_sec;
        c->vs_off[rep] = r->vs_off;
    }
    memcpy(sorted, c->ops, cfg->repeat * sizeof *sorted);
    c->ops_median = median(sorted, cfg->repeat);
    memcpy(sorted, c->vs_off, cfg->repeat * sizeof *sorted);
    c->vs_off_median = median(sorted, cfg->repeat);
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */
/* ------------------------------------------------------------------------ */

/* `v` with a k/M/G suffix and 3 significant digits: "2.61M". */
static const char *human(double v, char *buf, size_t cap)
{
    static const char suffix[] = {' ', 'k', 'M', 'G', 'T'};
    unsigned s = 0;
    while (v >= 999.5 && s + 1 < sizeof suffix) { /* 999999 -> 1.00M */
        v /= 1000.0;
        s++;
    }
    int decimals = v >= 99.95 ? 0 : v >= 9.995 ? 1 : 2;
    if (s == 0)
        snprintf(buf, cap, "%.0f", v);
    else
        snprintf(buf, cap, "%.*f%c", decimals, v, suffix[s]);
    return buf;
}

/* `v` with `decimals`, or "-" when it is NAN. */
static const char *fixed(double v, int decimals, char *buf, size_t cap)
{
    if (isnan(v))
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.*f", decimals, v);
    return buf;
}

static void print_header(void)
{
    printf("%-10s %-8s %7s %-8s %3s %12s %8s %8s %6s %8s %8s %8s %9s %8s\n",
           "workload", "fsync", "threads", "physics", "run", "ops", "seconds",
           "ops/s", "vs off", "p50 us", "p99 us", "p99.9 us", "bytes/key",
           "phys cpu");
}

/* A latency cell: "-" for the recover row, which has none. */
static const char *latency(const struct result *r, double us, char *buf,
                           size_t cap)
{
    return fixed(r->workload == WL_RECOVER ? NAN : us, 3, buf, cap);
}

static void print_row(const struct result *r)
{
    char rate[32], vs[32], p50[32], p99[32], p999[32], cpu[32];
    printf("%-10s %-8s %7u %-8s %3u %12llu %8.3f %8s %6s %8s %8s %8s %9.1f "
           "%8s\n",
           workload_names[r->workload], r->fsync, r->threads,
           warp_physics_mode_name(r->mode), r->run, (unsigned long long)r->ops,
           r->seconds, human(r->ops_per_sec, rate, sizeof rate),
           fixed(r->vs_off, 3, vs, sizeof vs),
           latency(r, r->p50_us, p50, sizeof p50),
           latency(r, r->p99_us, p99, sizeof p99),
           latency(r, r->p999_us, p999, sizeof p999), r->bytes_per_key,
           fixed(r->physics_cpu, 3, cpu, sizeof cpu));
    if (r->workload == WL_CHECKPOINT)
        printf("  %llu checkpoints finished during the run, %.0f ms each on "
               "average\n",
               (unsigned long long)r->checkpoints, r->checkpoint_ms);
    else if (r->on_disk && r->workload != WL_RECOVER)
        printf("  during the run: %llu syncs, %llu checkpoints\n",
               (unsigned long long)r->syncs,
               (unsigned long long)r->checkpoints);
    fflush(stdout);
}

/* "a, b, c": the n values of v, as rates ("2.61M") or ratios ("0.950"). */
static void print_list(const double *v, unsigned n, bool rate)
{
    char buf[32];
    for (unsigned i = 0; i < n; i++)
        printf("%s%s", i ? ", " : "",
               rate ? human(v[i], buf, sizeof buf)
                    : fixed(v[i], 3, buf, sizeof buf));
}

/* Per workload, thread count and mode: the median ops/s and vs off of the
 * repetitions, and the runs they come from. */
static void print_summary(const struct bench_config *cfg,
                          const struct result *res, const char *where)
{
    printf("summary%s: median of %u run%s per mode; vs off is the median of "
           "each run's ratio\n",
           where, cfg->repeat, cfg->repeat == 1 ? "" : "s");
    printf("%-10s %7s %-8s %8s %7s  %s\n", "workload", "threads", "physics",
           "ops/s", "vs off", "runs: ops/s | vs off");
    for (unsigned w = 0; w < cfg->nworkloads; w++) {
        for (unsigned t = 0; t < cfg->nthreads; t++) {
            for (unsigned m = 0; m < cfg->nmodes; m++) {
                struct cell c;
                char rate[32], vs[32];
                cell_of(cfg, res, w, t, m, &c);
                printf("%-10s %7u %-8s %8s %7s  ",
                       workload_names[cfg->workloads[w]], cfg->threads[t],
                       warp_physics_mode_name(cfg->modes[m]),
                       human(c.ops_median, rate, sizeof rate),
                       fixed(c.vs_off_median, 3, vs, sizeof vs));
                print_list(c.ops, cfg->repeat, true);
                printf(" | ");
                print_list(c.vs_off, cfg->repeat, false);
                printf("\n");
            }
        }
    }
}

/* For each workload and mode, each thread count's median ops/s relative
 * to the first thread count's. */
static void print_scaling(const struct bench_config *cfg,
                          const struct result *res, const char *where)
{
    for (unsigned w = 0; w < cfg->nworkloads; w++) {
        for (unsigned m = 0; m < cfg->nmodes; m++) {
            struct cell first, c;
            cell_of(cfg, res, w, 0, m, &first);
            printf("scaling %s%s, physics %s (ops/s vs %u thread%s):",
                   workload_names[cfg->workloads[w]], where,
                   warp_physics_mode_name(cfg->modes[m]), cfg->threads[0],
                   cfg->threads[0] == 1 ? "" : "s");
            for (unsigned t = 0; t < cfg->nthreads; t++) {
                cell_of(cfg, res, w, t, m, &c);
                printf(" %ut %.2fx%s", cfg->threads[t],
                       c.ops_median / first.ops_median,
                       t + 1 < cfg->nthreads ? "," : "\n");
            }
        }
    }
}

/* --compare-memory: each on-disk median ops/s relative to the same one in
 * memory. */
static void print_ratio(const struct bench_config *cfg,
                        const struct result *mem, const struct result *disk)
{
    printf("on disk (fsync=%s) vs in memory, median ops/s:", disk[0].fsync);
    size_t n = (size_t)cfg->nworkloads * cfg->nthreads * cfg->nmodes, i = 0;
    for (unsigned w = 0; w < cfg->nworkloads; w++) {
        for (unsigned t = 0; t < cfg->nthreads; t++) {
            for (unsigned m = 0; m < cfg->nmodes; m++) {
                struct cell a, b;
                cell_of(cfg, mem, w, t, m, &a);
                cell_of(cfg, disk, w, t, m, &b);
                printf(" %s %ut %s %.3fx%s", workload_names[cfg->workloads[w]],
                       cfg->threads[t], warp_physics_mode_name(cfg->modes[m]),
                       b.ops_median / a.ops_median, ++i < n ? "," : "\n");
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                      */
/* ------------------------------------------------------------------------ */

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* A JSON number, or null when it is not finite (JSON has no NaN). */
static void json_double(FILE *f, double v, int decimals)
{
    if (isfinite(v))
        fprintf(f, "%.*f", decimals, v);
    else
        fputs("null", f);
}

/* ,"name":value */
static void json_field(FILE *f, const char *name, double v, int decimals)
{
    fprintf(f, ",\"%s\":", name);
    json_double(f, v, decimals);
}

static void json_result(FILE *f, const struct result *r,
                        const struct bench_config *cfg)
{
    const char *mode = warp_physics_mode_name(r->mode);
    fputs("{\"workload\":", f);
    json_string(f, workload_names[r->workload]);
    fprintf(f, ",\"engine\":\"warp\",\"threads\":%u,\"physics\":", r->threads);
    json_string(f, mode);
    fputs(",\"mode\":", f);
    json_string(f, mode);
    fprintf(f, ",\"run\":%u", r->run);
    if (r->phase != NULL)
        fprintf(f, ",\"phase\":\"%s\"", r->phase);
    fputs(",\"fsync\":", f);
    json_string(f, r->fsync);
    fprintf(f, ",\"dist\":\"%s\"", key_dist_name(cfg->dist));
    json_field(f, "zipf_s", cfg->dist == DIST_ZIPF ? cfg->zipf_s : NAN, 3);
    fprintf(f, ",\"layout\":\"%s\"",
            key_layout_name(r->workload == WL_REBALANCE ? LAYOUT_FLAT
                                                        : cfg->layout));
    fprintf(f, ",\"ops\":%llu", (unsigned long long)r->ops);
    json_field(f, "seconds", r->seconds, 6);
    json_field(f, "ops_per_sec", r->ops_per_sec, 1);
    json_field(f, "vs_off", r->vs_off, 4);
    json_field(f, "physics_cpu", r->physics_cpu, 4);
    json_field(f, "p50_us", r->p50_us, 4);
    json_field(f, "p99_us", r->p99_us, 4);
    json_field(f, "p999_us", r->p999_us, 4);
    json_field(f, "bytes_per_key", r->bytes_per_key, 3);
    if (r->on_disk)
        fprintf(f, ",\"syncs\":%llu,\"checkpoints\":%llu",
                (unsigned long long)r->syncs,
                (unsigned long long)r->checkpoints);
    if (r->workload == WL_CHECKPOINT)
        json_field(f, "checkpoint_ms", r->checkpoint_ms, 3);
    fprintf(f, ",\"dataset\":{\"name\":\"%s\",\"keys\":%u,\"value_size\":%zu}}",
            key_layout_name(r->workload == WL_REBALANCE ? LAYOUT_FLAT
                                                        : cfg->layout),
            cfg->keys, cfg->value_size);
}

/* The summary objects of one pass. *first says whether one was written. */
static void json_summary(FILE *f, const struct bench_config *cfg,
                         const struct result *res, bool *first)
{
    for (unsigned w = 0; w < cfg->nworkloads; w++) {
        for (unsigned t = 0; t < cfg->nthreads; t++) {
            for (unsigned m = 0; m < cfg->nmodes; m++) {
                struct cell c;
                cell_of(cfg, res, w, t, m, &c);
                fprintf(f, "%s{\"workload\":\"%s\",\"threads\":%u,",
                        *first ? "" : ",", workload_names[cfg->workloads[w]],
                        cfg->threads[t]);
                fprintf(f, "\"mode\":\"%s\",\"fsync\":",
                        warp_physics_mode_name(cfg->modes[m]));
                json_string(f, res[res_index(cfg, w, t, 0, m)].fsync);
                fprintf(f, ",\"runs\":%u", cfg->repeat);
                json_field(f, "ops_per_sec", c.ops_median, 1);
                json_field(f, "vs_off", c.vs_off_median, 4);
                fputc('}', f);
                *first = false;
            }
        }
    }
}

/* Everything a JSON file holds; rb/nrb only for rebalance. */
struct report {
    const struct bench_config *cfg;
    const struct result *res;
    size_t nres;
    unsigned passes; /* of pass_results() each; 0 for recover, rebalance */
    const struct rebalance_result *rb;
    unsigned nrb;
};

static void json_rebalance_one(FILE *f, const struct rebalance_result *r,
                               unsigned run);
static void json_rebalance_summary(FILE *f, const struct rebalance_result *r,
                                   unsigned n);

/* Write the report to `tmp` (open), then rename it to `path`, so readers
 * never see a half-written file. Returns 0, or 1 after reporting. */
static int write_json(FILE *tmp, const char *tmp_path, const char *path,
                      const struct report *rep)
{
    fputs("{\"results\":[", tmp);
    for (size_t i = 0; i < rep->nres; i++) {
        if (i > 0)
            fputc(',', tmp);
        json_result(tmp, &rep->res[i], rep->cfg);
    }
    fputs("],\"summary\":[", tmp);
    bool first = true;
    for (unsigned p = 0; p < rep->passes; p++)
        json_summary(tmp, rep->cfg, rep->res + p * pass_results(rep->cfg),
                     &first);
    fputc(']', tmp);
    if (rep->nrb > 0) {
        fputs(",\"rebalance\":[", tmp);
        for (unsigned i = 0; i < rep->nrb; i++) {
            if (i > 0)
                fputc(',', tmp);
            json_rebalance_one(tmp, &rep->rb[i], i + 1);
        }
        fputs("],\"rebalance_summary\":", tmp);
        json_rebalance_summary(tmp, rep->rb, rep->nrb);
    }
    fputs("}\n", tmp);
    bool ok = !ferror(tmp);
    ok = (fclose(tmp) == 0) && ok;
    if (ok && rename(tmp_path, path) == 0)
        return 0;
    fprintf(stderr, "warp bench: cannot write %s: %s\n", path, strerror(errno));
    remove(tmp_path);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Stores and runs                                                           */
/* ------------------------------------------------------------------------ */

/* The store the runs of one pass go to. */
struct store {
    warp_db *db;
    bool on_disk;
    double bytes_per_key;
};

static const char *fsync_name(warp_fsync f)
{
    return f == WARP_FSYNC_ALWAYS  ? "always"
           : f == WARP_FSYNC_NEVER ? "never"
                                   : "everysec";
}

static int open_failed(const char *dir, int rc)
{
    const char *detail = warp_open_error();
    fprintf(stderr, "warp bench: warp_open(%s): %s%s%s\n",
            dir ? dir : "in memory", warp_strerror(rc), *detail ? ": " : "",
            detail);
    return 1;
}

/* The engine's overhead per key, or -1 (reported) when the store does not
 * hold `keys` keys. */
static double overhead_per_key(warp_db *db, uint32_t keys, const char *when)
{
    warp_stats st;
    int rc = warp_stats_get(db, &st);
    if (rc != WARP_OK || st.keys != keys) {
        fprintf(stderr,
                "warp bench: %s the store holds %llu keys, expected %u (%s)\n",
                when, (unsigned long long)st.keys, keys, warp_strerror(rc));
        return -1;
    }
    return (double)st.overhead_bytes / (double)st.keys;
}

/* Open the store (in memory, or on `dir`) and preload it, reporting
 * progress. On disk the preload is synced before the runs start, so they
 * do not pay for its write-back. Returns 0 with *st set, or 1 after
 * reporting the error (st->db is then NULL or open, for warp_close). */
static int setup_store(const struct bench_config *cfg, const uint8_t *pattern,
                       const char *dir, struct store *st)
{
    st->on_disk = dir != NULL;
    int rc = warp_open(dir, &cfg->opts, &st->db);
    if (rc != WARP_OK)
        return open_failed(dir, rc);
    uint64_t t0 = now_ns();
    if (workload_preload(st->db, cfg->keys, cfg->layout, cfg->value_size,
                         pattern, 0) != WARP_OK)
        return 1;
    double secs = (double)(now_ns() - t0) / 1e9;
    t0 = now_ns();
    rc = warp_sync(st->db);
    double sync_secs = (double)(now_ns() - t0) / 1e9;
    if (rc != WARP_OK) {
        fprintf(stderr, "warp bench: warp_sync: %s\n", warp_strerror(rc));
        return 1;
    }
    st->bytes_per_key =
        overhead_per_key(st->db, cfg->keys, "after the preload");
    if (st->bytes_per_key < 0)
        return 1;
    warp_stats s;
    warp_stats_get(st->db, &s);
    char rate[32];
    printf("preload: %u keys in %.3f s (%s keys/s), %.1f bytes/key overhead, "
           "%.1f MiB engine memory",
           cfg->keys, secs, human(cfg->keys / secs, rate, sizeof rate),
           st->bytes_per_key, (double)s.memory_bytes / (1024.0 * 1024.0));
    if (st->on_disk)
        printf("; synced in %.3f s", sync_secs);
    printf("\n\n");
    return 0;
}

/* After a run, the store must still hold exactly the preloaded keys. */
static int check_keys(warp_db *db, const struct bench_config *cfg,
                      enum workload wl)
{
    char when[64];
    snprintf(when, sizeof when, "%s: after the run", workload_names[wl]);
    return overhead_per_key(db, cfg->keys, when) < 0 ? 1 : 0;
}

static void print_banner(const struct bench_config *cfg)
{
    printf("warp bench: %u keys (%s), %zu-byte values, %u shards, %.3g s per "
           "run, physics",
           cfg->keys,
           cfg->layout == LAYOUT_RELATED
               ? "user:/profile:/settings:/sessions: of N/4 ids"
               : "key:%010u",
           cfg->value_size, cfg->opts.shards, cfg->seconds);
    for (unsigned m = 0; m < cfg->nmodes; m++)
        printf("%s%s", m ? "," : " ", warp_physics_mode_name(cfg->modes[m]));
    if (cfg->repeat > 1)
        printf(", %u repetitions%s", cfg->repeat,
               cfg->nmodes > 1 ? " (modes interleaved)" : "");
    if (cfg->dist == DIST_ZIPF)
        printf(", zipf keys (s=%.3g)", cfg->zipf_s);
    else
        printf(", uniform keys");
    printf("\n");
    if (cfg->dir != NULL)
        printf("store on %s, fsync=%s%s\n", cfg->dir,
               fsync_name(cfg->opts.fsync),
               cfg->compare_memory ? ", compared with in memory" : "");
}

/* The physics thread's CPU seconds so far, or NAN. */
static double physics_cpu_s(warp_db *db)
{
    warp_cosmic_metrics m;
    if (warp_cosmic_metrics_get(db, &m) != WARP_OK)
        return NAN;
    return m.physics_cpu_total_s;
}

/* One run: workload `wl` on `threads` threads in physics mode `mode`, on
 * the keys drawn from `dist`. Returns 0 or 1 (reported). */
static int run_one(const struct store *st, const struct bench_config *cfg,
                   const uint8_t *pattern, const keydist *dist,
                   struct result *r)
{
    int rc = warp_physics_set(st->db, r->mode);
    if (rc != WARP_OK) {
        fprintf(stderr, "warp bench: warp_physics_set(%s): %s\n",
                warp_physics_mode_name(r->mode), warp_strerror(rc));
        return 1;
    }
    struct run_spec spec = {.db = st->db,
                            .workload = r->workload,
                            .keys = cfg->keys,
                            .value_size = cfg->value_size,
                            .pattern = pattern,
                            .layout = cfg->layout,
                            .dist = dist,
                            .sync_puts = st->on_disk &&
                                         cfg->opts.fsync == WARP_FSYNC_ALWAYS,
                            .threads = r->threads,
                            .seconds = cfg->seconds};
    struct run_stats s = {0};
    warp_durability d0, d1;
    warp_durability_get(st->db, &d0);
    double cpu0 = physics_cpu_s(st->db);
    if (workload_run(&spec, &s) != 0)
        return 1;
    r->physics_cpu = (physics_cpu_s(st->db) - cpu0) / s.seconds;
    warp_durability_get(st->db, &d1);
    r->ops = s.ops;
    r->seconds = s.seconds;
    r->ops_per_sec = s.ops_per_sec;
    r->p50_us = s.p50_us;
    r->p99_us = s.p99_us;
    r->p999_us = s.p999_us;
    r->checkpoint_ms = s.checkpoint_ms;
    r->on_disk = st->on_disk;
    r->fsync = st->on_disk ? fsync_name(cfg->opts.fsync) : "none";
    r->syncs = d1.syncs - d0.syncs;
    r->checkpoints = d1.checkpoints - d0.checkpoints;
    r->bytes_per_key = st->bytes_per_key;
    return 0;
}

/* Every mode of repetition `rep` of workload w on thread count t, in the
 * rotated order; then each row's vs off, and the rows in mode order. */
static int run_modes(const struct store *st, const struct bench_config *cfg,
                     const uint8_t *pattern, const keydist *dist, unsigned w,
                     unsigned t, unsigned rep, struct result *res)
{
    struct result *row = &res[res_index(cfg, w, t, rep, 0)];
    for (unsigned i = 0; i < cfg->nmodes; i++) {
        unsigned m = (i + rep) % cfg->nmodes;
        row[m] = (struct result){.workload = cfg->workloads[w],
                                 .threads = cfg->threads[t],
                                 .mode = cfg->modes[m],
                                 .run = rep + 1};
        if (run_one(st, cfg, pattern, dist, &row[m]) != 0)
            return 1;
    }
    int off = off_index(cfg);
    for (unsigned m = 0; m < cfg->nmodes; m++) {
        row[m].vs_off =
            off < 0 ? NAN : row[m].ops_per_sec / row[off].ops_per_sec;
        print_row(&row[m]);
    }
    return 0;
}

/* Every (workload, thread count, repetition, mode) run on `st`, printing
 * rows as each repetition's modes finish. */
static int run_all(const struct store *st, const struct bench_config *cfg,
                   const uint8_t *pattern, struct result *res)
{
    keydist dist;
    keydist_init(&dist, cfg->dist, cfg->keys, cfg->zipf_s);
    print_header();
    for (unsigned w = 0; w < cfg->nworkloads; w++) {
        for (unsigned t = 0; t < cfg->nthreads; t++)
            for (unsigned rep = 0; rep < cfg->repeat; rep++)
                if (run_modes(st, cfg, pattern, &dist, w, t, rep, res) != 0)
                    return 1;
        if (check_keys(st->db, cfg, cfg->workloads[w]) != 0)
            return 1;
    }
    return 0;
}

/* One pass: open a store (in memory when `dir` is NULL), preload it, run
 * everything, close it. Returns 0 or 1 (reported). */
static int run_pass(const struct bench_config *cfg, const uint8_t *pattern,
                    const char *dir, struct result *res)
{
    struct store st = {0};
    int status = setup_store(cfg, pattern, dir, &st);
    if (status == 0)
        status = run_all(&st, cfg, pattern, res);
    warp_close(st.db);
    return status;
}

/* ------------------------------------------------------------------------ */
/* Recover                                                                   */
/* ------------------------------------------------------------------------ */

/* Whether key `k` holds value_of(pattern, k + shift); reports if not. */
static bool value_is(warp_db *db, const struct bench_config *cfg,
                     const uint8_t *pattern, uint32_t k, uint32_t shift,
                     uint8_t *buf)
{
    char key[KEY_BUF + 1];
    size_t vlen = 0, klen = key_write(key, LAYOUT_FLAT, k);
    int rc = warp_get(db, key, klen, buf, cfg->value_size, &vlen, NULL);
    if (rc == WARP_OK && vlen == cfg->value_size &&
        memcmp(buf, value_of(pattern, k + shift), vlen) == 0)
        return true;
    key[klen] = '\0';
    fprintf(stderr, "warp bench: recover: %s %s after the reopen (%s)\n", key,
            rc == WARP_OK ? "has the wrong value" : "is missing",
            warp_strerror(rc));
    return false;
}

/* Write the log the recover workload replays: keys 0..N-1, then keys
 * 0..N/2-1 again with other values, with fsync=never and no automatic
 * checkpoint, and close. Returns 0 or 1 (reported). */
static int recover_write(const struct bench_config *cfg, const uint8_t *pattern)
{
    warp_options o = cfg->opts;
    warp_db *db;
    o.fsync = WARP_FSYNC_NEVER;
    o.checkpoint_interval = 0;
    o.checkpoint_wal_bytes = 0;
    uint64_t t0 = now_ns();
    int rc = warp_open(cfg->dir, &o, &db);
    if (rc != WARP_OK)
        return open_failed(cfg->dir, rc);
    rc = workload_preload(db, cfg->keys, LAYOUT_FLAT, cfg->value_size, pattern,
                          0);
    if (rc == WARP_OK)
        rc = workload_preload(db, cfg->keys / 2, LAYOUT_FLAT, cfg->value_size,
                              pattern, 1);
    warp_durability d;
    warp_durability_get(db, &d);
    warp_close(db); /* syncs the log */
    if (rc != WARP_OK)
        return 1;
    printf("wrote %u puts + %u overwrites, %.1f MiB of WAL, and closed in "
           "%.3f s\n",
           cfg->keys, cfg->keys / 2, (double)d.wal_bytes / (1024.0 * 1024.0),
           (double)(now_ns() - t0) / 1e9);
    return 0;
}

/* Reopen the store, fill *res from the recovery report and check what
 * was recovered. Returns 0 or 1 (reported). */
static int recover_read(const struct bench_config *cfg, const uint8_t *pattern,
                        struct result *res)
{
    warp_db *db;
    warp_recovery rec;
    uint64_t t0 = now_ns();
    int rc = warp_open(cfg->dir, &cfg->opts, &db);
    double open_s = (double)(now_ns() - t0) / 1e9;
    if (rc != WARP_OK)
        return open_failed(cfg->dir, rc);
    warp_recovery_get(db, &rec);
    uint64_t want = (uint64_t)cfg->keys + cfg->keys / 2;
    int status = 1;
    uint8_t *buf = malloc(cfg->value_size ? cfg->value_size : 1);
    if (buf == NULL) {
        fprintf(stderr, "warp bench: out of memory\n");
        goto out;
    }
    *res = (struct result){.workload = WL_RECOVER,
                           .threads = 1,
                           .mode = cfg->modes[0],
                           .run = 1,
                           .fsync = fsync_name(cfg->opts.fsync),
                           .ops = rec.wal_records + rec.snapshot_records,
                           .seconds = (double)rec.micros / 1e6,
                           .vs_off = NAN,
                           .physics_cpu = NAN,
                           .on_disk = true};
    res->ops_per_sec = (double)res->ops / res->seconds;
    res->bytes_per_key = overhead_per_key(db, cfg->keys, "recover: after");
    if (res->bytes_per_key < 0)
        goto out;
    if (res->ops != want) {
        fprintf(stderr,
                "warp bench: recover: recovered %llu records, expected "
                "%llu\n",
                (unsigned long long)res->ops, (unsigned long long)want);
        goto out;
    }
    if (!value_is(db, cfg, pattern, 0, cfg->keys > 1 ? 1 : 0, buf) ||
        !value_is(db, cfg, pattern, cfg->keys - 1, 0, buf))
        goto out;
    print_header();
    print_row(res);
    printf("  %llu WAL records in %llu segments, %llu snapshot pairs, %llu "
           "torn bytes; warp_open took %.3f s\n",
           (unsigned long long)rec.wal_records,
           (unsigned long long)rec.wal_segments,
           (unsigned long long)rec.snapshot_records,
           (unsigned long long)rec.torn_bytes, open_s);
    status = 0;
out:
    free(buf);
    warp_close(db);
    return status;
}

/* ------------------------------------------------------------------------ */
/* Rebalance                                                                 */
/* ------------------------------------------------------------------------ */

/* The figures of a rebalance experiment, by name, for the table, the
 * medians and the JSON. */
enum rb_field {
    RB_OPS_BEFORE,
    RB_OPS_AFTER,
    RB_SHARE_BEFORE,
    RB_SHARE_AFTER,
    RB_BEST,
    RB_AFTER_VS_BEST,
    RB_SLOTS_MOVED,
    RB_KEYS_MOVED,
    RB_MICROS,
    RB_ENTROPY_BEFORE,
    RB_ENTROPY_AFTER,
    RB_FIELDS
};

static const struct {
    const char *json;
    int decimals;
} rb_fields[RB_FIELDS] = {
    {"ops_per_sec_before", 1},
    {"ops_per_sec_after", 1},
    {"busiest_share_before", 5},
    {"busiest_share_after", 5},
    {"best_share", 5},
    {"after_vs_best", 4},
    {"slots_moved", 0},
    {"keys_moved", 0},
    {"micros", 0},
    {"ops_entropy_before", 4},
    {"ops_entropy_after", 4},
};

static double rb_value(const struct rebalance_result *r, enum rb_field f)
{
    switch (f) {
    case RB_OPS_BEFORE:
        return r->before.run.ops_per_sec;
    case RB_OPS_AFTER:
        return r->after.run.ops_per_sec;
    case RB_SHARE_BEFORE:
        return r->before.busiest_share;
    case RB_SHARE_AFTER:
        return r->after.busiest_share;
    case RB_BEST:
        return r->best_share;
    case RB_AFTER_VS_BEST:
        return r->after.busiest_share / r->best_share;
    case RB_SLOTS_MOVED:
        return r->report.slots_moved;
    case RB_KEYS_MOVED:
        return (double)r->report.keys_moved;
    case RB_MICROS:
        return (double)r->report.micros;
    case RB_ENTROPY_BEFORE:
        return r->report.ops_norm_before;
    case RB_ENTROPY_AFTER:
        return r->report.ops_norm_after;
    default:
        return NAN;
    }
}

/* The median of field f over n experiments. */
static double rb_median(const struct rebalance_result *r, unsigned n,
                        enum rb_field f)
{
    double v[MAX_REPEAT];
    for (unsigned i = 0; i < n; i++)
        v[i] = rb_value(&r[i], f);
    return median(v, n);
}

static void json_rebalance_one(FILE *f, const struct rebalance_result *r,
                               unsigned run)
{
    fprintf(f, "{\"run\":%u,\"shards\":%u", run, r->shards);
    for (int i = 0; i < RB_FIELDS; i++)
        json_field(f, rb_fields[i].json, rb_value(r, (enum rb_field)i),
                   rb_fields[i].decimals);
    fprintf(f, ",\"bytes_moved\":%llu",
            (unsigned long long)r->report.bytes_moved);
    json_field(f, "hottest_slot_share", r->hottest_slot_share, 5);
    json_field(f, "engine_share_before", r->report.max_share_before, 5);
    json_field(f, "engine_share_after", r->report.max_share_after, 5);
    json_field(f, "engine_best_share", r->report.best_share, 5);
    json_field(f, "settle_ms", r->settle_ms, 1);
    json_field(f, "physics_cpu_before", r->before.physics_cpu, 4);
    json_field(f, "physics_cpu_after", r->after.physics_cpu, 4);
    fputc('}', f);
}

static void json_rebalance_summary(FILE *f, const struct rebalance_result *r,
                                   unsigned n)
{
    fprintf(f, "{\"runs\":%u", n);
    for (int i = 0; i < RB_FIELDS; i++)
        json_field(f, rb_fields[i].json, rb_median(r, n, (enum rb_field)i),
                   rb_fields[i].decimals);
    json_field(f, "target_after_vs_best", REBALANCE_TARGET, 2);
    fputc('}', f);
}

static void print_rebalance_header(void)
{
    printf("%3s %8s %8s %8s %8s %8s %6s %6s %8s %8s %7s %7s\n", "", "ops/s",
           "ops/s", "busiest", "busiest", "best", "after/", "slots", "keys",
           "rebal.", "entropy", "entropy");
    printf("%3s %8s %8s %8s %8s %8s %6s %6s %8s %8s %7s %7s\n", "run", "before",
           "after", "before", "after", "share", "best", "moved", "moved",
           "micros", "before", "after");
}

/* One table row: experiment `r` (run `run`), or the medians of n. */
static void print_rebalance_row(const struct rebalance_result *r, unsigned n,
                                const char *label)
{
    double v[RB_FIELDS];
    char a[32], b[32];
    for (int i = 0; i < RB_FIELDS; i++)
        v[i] = n == 1 ? rb_value(r, (enum rb_field)i)
                      : rb_median(r, n, (enum rb_field)i);
    printf("%3s %8s %8s %8.4f %8.4f %8.4f %6.3f %6.0f %8.0f %8.0f %7.4f "
           "%7.4f\n",
           label, human(v[RB_OPS_BEFORE], a, sizeof a),
           human(v[RB_OPS_AFTER], b, sizeof b), v[RB_SHARE_BEFORE],
           v[RB_SHARE_AFTER], v[RB_BEST], v[RB_AFTER_VS_BEST],
           v[RB_SLOTS_MOVED], v[RB_KEYS_MOVED], v[RB_MICROS],
           v[RB_ENTROPY_BEFORE], v[RB_ENTROPY_AFTER]);
    fflush(stdout);
}

/* What the engine's plan expected, beside what the bench measured. */
static void print_rebalance_detail(const struct rebalance_result *r)
{
    char cpu0[32], cpu1[32];
    printf("    busiest shard %u -> %u; hottest slot %.4f of the ops; the "
           "engine's plan: busiest %.4f -> %.4f, best %.4f; %llu bytes "
           "moved;\n    waited %.0f ms for the physics thread; physics cpu "
           "%s / %s cores\n",
           r->before.busiest_shard, r->after.busiest_shard,
           r->hottest_slot_share, r->report.max_share_before,
           r->report.max_share_after, r->report.best_share,
           (unsigned long long)r->report.bytes_moved, r->settle_ms,
           fixed(r->before.physics_cpu, 3, cpu0, sizeof cpu0),
           fixed(r->after.physics_cpu, 3, cpu1, sizeof cpu1));
}

/* The two runs of an experiment as result rows, for the JSON. */
static void rebalance_rows(const struct bench_config *cfg,
                           const struct rebalance_result *r, unsigned run,
                           struct result *out)
{
    const struct rebalance_phase *ph[2] = {&r->before, &r->after};
    for (int i = 0; i < 2; i++)
        out[i] = (struct result){.workload = WL_REBALANCE,
                                 .threads = cfg->threads[0],
                                 .mode = cfg->modes[0],
                                 .run = run,
                                 .phase = i ? "after" : "before",
                                 .fsync = "none",
                                 .ops = ph[i]->run.ops,
                                 .seconds = ph[i]->run.seconds,
                                 .ops_per_sec = ph[i]->run.ops_per_sec,
                                 .vs_off = NAN,
                                 .physics_cpu = ph[i]->physics_cpu,
                                 .p50_us = ph[i]->run.p50_us,
                                 .p99_us = ph[i]->run.p99_us,
                                 .p999_us = ph[i]->run.p999_us,
                                 .bytes_per_key = NAN};
}

/* Every repetition of the rebalance experiment into rb[0 .. repeat-1]
 * and their runs into res (two each). Returns 0 or 1 (reported). */
static int run_rebalance(const struct bench_config *cfg, const uint8_t *pattern,
                         struct rebalance_result *rb, struct result *res)
{
    keydist dist;
    keydist_init(&dist, cfg->dist, cfg->keys, cfg->zipf_s);
    struct rebalance_spec spec = {.opts = &cfg->opts,
                                  .keys = cfg->keys,
                                  .value_size = cfg->value_size,
                                  .pattern = pattern,
                                  .dist = &dist,
                                  .threads = cfg->threads[0],
                                  .seconds = cfg->seconds};
    printf("rebalance: %u thread%s, %.3g s of gets before and after "
           "warp_rebalance(force); the hottest key gets %.4f of them\n\n",
           cfg->threads[0], cfg->threads[0] == 1 ? "" : "s", cfg->seconds,
           keydist_rank_share(&dist, 0));
    print_rebalance_header();
    for (unsigned i = 0; i < cfg->repeat; i++) {
        char label[16];
        if (rebalance_run(&spec, &rb[i]) != 0)
            return 1;
        rebalance_rows(cfg, &rb[i], i + 1, &res[2 * i]);
        snprintf(label, sizeof label, "%u", i + 1);
        print_rebalance_row(&rb[i], 1, label);
        print_rebalance_detail(&rb[i]);
    }
    if (cfg->repeat > 1)
        print_rebalance_row(rb, cfg->repeat, "med");
    double ratio = rb_median(rb, cfg->repeat, RB_AFTER_VS_BEST);
    printf("\nbusiest shard after / best achievable: %.3f (%s of %u), "
           "target <= %.2f: %s\n",
           ratio, cfg->repeat > 1 ? "median" : "run 1", cfg->repeat,
           REBALANCE_TARGET, ratio <= REBALANCE_TARGET ? "met" : "NOT met");
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The command                                                               */
/* ------------------------------------------------------------------------ */

/* Run the configured passes into res (and rb for rebalance). Returns 0 or
 * 1 (reported). */
static int run_passes(const struct bench_config *cfg, const uint8_t *pattern,
                      struct result *res, struct rebalance_result *rb)
{
    if (cfg->workloads[0] == WL_RECOVER)
        return recover_write(cfg, pattern) || recover_read(cfg, pattern, res);
    if (cfg->workloads[0] == WL_REBALANCE)
        return run_rebalance(cfg, pattern, rb, res);

    struct result *mine = res;
    if (cfg->compare_memory) {
        printf("in memory:\n");
        if (run_pass(cfg, pattern, NULL, res) != 0)
            return 1;
        mine = res + pass_results(cfg);
        printf("\non disk:\n");
    }
    if (run_pass(cfg, pattern, cfg->dir, mine) != 0)
        return 1;
    printf("\n");
    bool summary = cfg->repeat > 1 || cfg->nmodes > 1;
    if (cfg->compare_memory && summary)
        print_summary(cfg, res, " in memory");
    if (summary)
        print_summary(cfg, mine, cfg->dir ? " on disk" : "");
    if (cfg->nthreads > 1 && cfg->compare_memory)
        print_scaling(cfg, res, " in memory");
    if (cfg->nthreads > 1)
        print_scaling(cfg, mine, cfg->dir ? " on disk" : "");
    if (cfg->compare_memory)
        print_ratio(cfg, res, mine);
    return 0;
}

/* What one clock read adds to a timed interval: the median of back-to-back
 * now_ns() pairs, in ns. Every latency reported includes it once. */
static double clock_overhead_ns(void)
{
    hist *h = hist_new();
    if (h == NULL)
        return 0.0;
    for (int i = 0; i < 10000; i++) {
        uint64_t t0 = now_ns();
        hist_record(h, now_ns() - t0);
    }
    double ns = hist_percentile(h, 50.0);
    hist_free(h);
    return ns;
}

static void print_notes(const struct bench_config *cfg)
{
    if (cfg->workloads[0] == WL_RECOVER) {
        printf("\nrecover: ops are records replayed (WAL + snapshot), seconds "
               "the engine's own\n  recovery time (warp_recovery_get); the "
               "files were in the page cache.\n");
        return;
    }
    if (cfg->workloads[0] == WL_REBALANCE) {
        printf("\nrebalance: shares are of the gets the bench made, counted "
               "per slot and mapped to\n  shards with warp_locate(); best = "
               "max(1/shards, hottest slot's share); entropy is\n  the "
               "report's normalised op entropy (ops_norm). No automatic "
               "rebalance ran\n  (entropy_threshold=0).\n");
        return;
    }
    bool synced = cfg->dir != NULL && cfg->opts.fsync == WARP_FSYNC_ALWAYS &&
                  has_workload(cfg, WL_PUT);
    printf("\nlatency: one op in %d timed with clock_gettime(CLOCK_MONOTONIC), "
           "every op counted%s;\n  a timed interval includes one clock read "
           "(%.0f ns here); percentiles from a\n  log-linear histogram "
           "(<= 1.6%% error).\n",
           BENCH_SAMPLE, synced ? " (every put timed on disk)" : "",
           clock_overhead_ns());
    if (has_workload(cfg, WL_BATCH))
        printf("batch: ops are keys, %d per warp_get_batch call; latency is "
               "per call.\n",
               BATCH_KEYS);
    if (has_workload(cfg, WL_MIXED))
        printf("mixed: 70%% warp_get, 20%% warp_put, 10%% warp_get_batch of "
               "an id's 4 related keys;\n  each is one op; latency mixes "
               "the three.\n");
    if (cfg->nmodes > 1)
        printf("physics: the modes ran back to back on the same store "
               "(warp_physics_set), their order\n  rotating each "
               "repetition; vs off = ops/s / the off run's of the same "
               "repetition.\n");
}

/* Open the JSON temporary file first, so a bad path fails before the
 * runs. Returns the stream, or NULL after reporting. */
static FILE *json_open(const char *path, char **tmp_path)
{
    FILE *f = NULL;
    *tmp_path = malloc(strlen(path) + 5);
    if (*tmp_path != NULL) {
        sprintf(*tmp_path, "%s.tmp", path);
        f = fopen(*tmp_path, "w");
    }
    if (f == NULL)
        fprintf(stderr, "warp bench: cannot create %s.tmp: %s\n", path,
                strerror(errno));
    return f;
}

/* The report's shape for this configuration: how many results, passes
 * and rebalance experiments. */
static struct report report_shape(const struct bench_config *cfg)
{
    struct report rep = {.cfg = cfg};
    if (cfg->workloads[0] == WL_RECOVER) {
        rep.nres = 1;
    } else if (cfg->workloads[0] == WL_REBALANCE) {
        rep.nrb = cfg->repeat;
        rep.nres = 2 * (size_t)cfg->repeat;
    } else {
        rep.passes = cfg->compare_memory ? 2 : 1;
        rep.nres = rep.passes * pass_results(cfg);
    }
    return rep;
}

int bench_main(int argc, char **argv)
{
    if (series_bench_wanted(argc, argv)) /* tsadd, ...: series_bench.c */
        return series_bench_main(argc, argv);
    if (qget_wanted(argc, argv)) /* quantum get against 4 gets: qget.c */
        return qget_main(argc, argv);
    if (tier_bench_wanted(argc, argv)) /* tiers: tier_bench.c */
        return tier_bench_main(argc, argv);
    if (compare_wanted(argc, argv)) /* --engine, complex: compare.c */
        return compare_main(argc, argv);
    struct bench_config cfg;
    int rc = parse_args(argc, argv, &cfg);
    if (rc != 0)
        return rc < 0 ? 0 : rc;

    int status = 1;
    bool dir_ready = false, dir_created = false;
    char *tmp_path = NULL;
    FILE *json = NULL;
    struct report rep = report_shape(&cfg);
    struct result *res = calloc(rep.nres, sizeof *res);
    struct rebalance_result *rb = calloc(rep.nrb + 1, sizeof *rb);
    uint8_t *pattern = make_pattern(cfg.value_size);
    if (res == NULL || rb == NULL || pattern == NULL) {
        fprintf(stderr, "warp bench: out of memory\n");
        goto out;
    }
    rep.res = res;
    rep.rb = rb;
    if (cfg.json_path != NULL &&
        (json = json_open(cfg.json_path, &tmp_path)) == NULL)
        goto out;
    if (cfg.dir != NULL) {
        status = benchdir_prepare(cfg.dir, &dir_created);
        if (status != 0)
            goto out;
        dir_ready = true;
        status = 1;
    }

    print_banner(&cfg);
    if (run_passes(&cfg, pattern, res, rb) != 0)
        goto out;
    print_notes(&cfg);
    status = 0;
    if (json != NULL) {
        status = write_json(json, tmp_path, cfg.json_path, &rep);
        json = NULL;
    }
out:
    if (json != NULL) {
        fclose(json);
        remove(tmp_path);
    }
    if (dir_ready && cfg.keep)
        printf("the store is kept in %s\n", cfg.dir);
    else if (dir_ready && !benchdir_remove(cfg.dir, dir_created) && !status)
        status = 1;
    free(tmp_path);
    free(pattern);
    free(rb);
    free(res);
    return status;
}
