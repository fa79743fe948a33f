/*
 * bench.c - `warp bench`: throughput and latency of the engine, in process.
 *
 * WHAT IS MEASURED
 *   One in-memory store is opened and preloaded with N keys "key:%010u"
 *   (0 .. N-1), each with a B-byte value whose content is a function of the
 *   key's index (a window into one pseudo-random pattern). The preload uses
 *   warp_put_batch() in chunks of PRELOAD_CHUNK items on one thread. Then,
 *   for each workload and each thread count T, T threads run the workload
 *   for S seconds:
 *     simple  warp_get() of a uniform random key into a per-thread buffer;
 *     batch   warp_get_batch() of BATCH_KEYS uniform random keys; an op is a
 *             key, so ops/s is keys/s;
 *     put     warp_put() over a uniform random existing key, with a counter
 *             written into the value's first bytes so no two puts are alike.
 *   Every get must find its key with a B-byte value: anything else ends the
 *   benchmark with exit status 1.
 *
 * THE MEASURED WINDOW
 *   Worker threads allocate their buffers, then wait at a start gate (a
 *   mutex and condition variable, so a failed pthread_create can release
 *   the threads already waiting). The main thread opens the gate, sleeps S
 *   seconds and sets the shared stop flag. A worker reads the flag (relaxed)
 *   once every BENCH_BLOCK ops. The seconds reported run from the earliest
 *   worker start to the latest worker stop, so the tail past S is counted.
 *
 * LATENCY
 *   clock_gettime() costs ~20 ns, which would distort a ~350 ns get if every
 *   op were timed. So one op in BENCH_SAMPLE is timed (the first of each
 *   group of BENCH_SAMPLE), while every op is counted. A timed interval
 *   covers the engine call only, not the key formatting. For batch the timed
 *   unit is one warp_get_batch() call. Samples go to a per-thread log-linear
 *   histogram (hist.h), merged when the threads are done.
 *
 * THE HOT LOOP
 *   Per op: a wyrand step, Lemire's multiply-shift onto [0, N), a fixed-width
 *   10-digit key formatter into a per-thread buffer and the engine call; about
 *   10 ns of harness. No per-key array is kept: it would add a cache miss.
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
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchdir.h"
#include "common.h"
#include "hist.h"
#include "warp.h"

#define KEY_PREFIX     "key:"
#define KEY_PREFIX_LEN 4
#define KEY_DIGITS     10
#define KEY_LEN        (KEY_PREFIX_LEN + KEY_DIGITS) /* "key:0000000042" */

#define BENCH_BLOCK   256 /* ops between two reads of the stop flag */
#define BENCH_SAMPLE  16  /* one op in BENCH_SAMPLE is timed */
#define BATCH_KEYS    16  /* keys per warp_get_batch() call */
#define SYNC_BLOCK    16  /* fsync=always puts between two flag reads */
#define PRELOAD_CHUNK 1024
#define PATTERN_SLACK 64 /* values are windows at offsets 0..63 */

#define MAX_THREADS       1024
#define MAX_THREAD_COUNTS 64
#define MAX_WORKLOADS     16

#define CACHE_LINE 64

/* ------------------------------------------------------------------------ */
/* Configuration and argument parsing                                        */
/* ------------------------------------------------------------------------ */

enum workload {
    WL_SIMPLE,
    WL_BATCH,
    WL_PUT,
    WL_RECOVER,
    WL_CHECKPOINT,
    WL_COUNT
};

static const char *const workload_names[WL_COUNT] = {"simple", "batch", "put",
                                                     "recover", "checkpoint"};

struct bench_config {
    enum workload workloads[MAX_WORKLOADS];
    unsigned nworkloads;
    uint32_t keys;
    size_t value_size;
    unsigned threads[MAX_THREAD_COUNTS];
    unsigned nthreads;
    double seconds;
    const char *json_path; /* NULL: no JSON */
    const char *physics;   /* "off", "adaptive" or "full", as given */
    const char *dir;       /* --dir, or NULL: in memory */
    bool fsync_given;      /* --fsync (or --opt fsync=) was given */
    bool compare_memory;   /* --compare-memory */
    bool keep;             /* --keep */
    warp_options opts;
};

/* The help text, a printf format: BATCH_KEYS, MAX_THREADS, BENCH_SAMPLE. */
static const char usage_format[] =
    "usage: warp bench [--workload LIST] [--keys N]\n"
    "                  [--value-size B] [--threads 1,2,...] [--seconds S]\n"
    "                  [--json FILE] [--shards N] [--physics MODE]\n"
    "                  [--dir DIR [--fsync MODE] [--compare-memory] [--keep]]\n"
    "                  [--opt NAME=VALUE]...\n"
    "\n"
    "Preload a store (in memory, or on DIR) with N keys \"key:%%010u\"\n"
    "(0..N-1) of B-byte values, then run each workload with each thread\n"
    "count for S seconds, and print one row per run.\n"
    "\n"
    "  --workload LIST   simple, batch or put; a comma-separated list runs\n"
    "                    each in turn on the same store (default simple);\n"
    "                    or recover or checkpoint alone (these need --dir)\n"
    "                      simple  warp_get of uniform random keys\n"
    "                      batch   warp_get_batch of %d uniform random\n"
    "                              keys; ops are keys, latency is per call\n"
    "                      put     warp_put over uniform random keys\n"
    "                      recover put N keys, overwrite N/2 (1.5N WAL\n"
    "                              records, fsync=never), close, reopen:\n"
    "                              ops are records recovered, seconds the\n"
    "                              engine's recovery time; one row\n"
    "                      checkpoint  simple gets while the main thread\n"
    "                              runs warp_checkpoint() back to back\n"
    "  --keys N          keys to preload, 1..4294967295 (default 1000000)\n"
    "  --value-size B    value bytes; k and m suffixes are KiB and MiB\n"
    "                    (default 100)\n"
    "  --threads LIST    comma-separated thread counts, 1..%d, one run\n"
    "                    each (default 1)\n"
    "  --seconds S       measured seconds per run, > 0 (default 3)\n"
    "  --json FILE       also write the results to FILE as JSON:\n"
    "                    {\"results\":[{\"workload\",\"engine\",\"threads\",\n"
    "                    \"physics\",\"fsync\",\"ops\",\"seconds\",\n"
    "                    \"ops_per_sec\",\"p50_us\",\"p99_us\",\"p999_us\",\n"
    "                    \"bytes_per_key\"},...]}; fsync is \"none\" in\n"
    "                    memory; rows on disk add \"syncs\" and\n"
    "                    \"checkpoints\" (during the run)\n"
    "  --shards N        the same as --opt shards=N\n"
    "  --physics MODE    off, adaptive or full (default off); recorded in\n"
    "                    the results. Physics is not implemented yet: the\n"
    "                    engine runs without it whatever the mode.\n"
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
    "overhead_bytes / keys after the preload.\n"
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
                               "simple, batch, put, recover or checkpoint)",
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
    char *end;
    errno = 0;
    double s = strtod(v, &end);
    if (end == v || *end != '\0' || errno != 0 || !isfinite(s) || s <= 0 ||
        s > 1e6)
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

static int set_physics(struct bench_config *cfg, const char *v)
{
    if (strcmp(v, "off") != 0 && strcmp(v, "adaptive") != 0 &&
        strcmp(v, "full") != 0)
        return usage_error("--physics: '%s' is not off, adaptive or full", v);
    cfg->physics = v;
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

/* The flags that only make sense together. Returns 0 or 2 (reported). */
static int check_combination(const struct bench_config *cfg)
{
    bool own_store =
        has_workload(cfg, WL_RECOVER) || has_workload(cfg, WL_CHECKPOINT);

    if (cfg->dir == NULL && cfg->fsync_given)
        return usage_error("--fsync needs --dir (an in-memory store has no "
                           "log)%s",
                           "");
    if (cfg->dir == NULL && cfg->compare_memory)
        return usage_error("--compare-memory needs --dir%s", "");
    if (cfg->dir == NULL && cfg->keep)
        return usage_error("--keep needs --dir%s", "");
    if (own_store && cfg->dir == NULL)
        return usage_error("--workload %s needs --dir",
                           has_workload(cfg, WL_RECOVER) ? "recover"
                                                         : "checkpoint");
    if (own_store && cfg->nworkloads > 1)
        return usage_error("--workload: recover and checkpoint run alone, "
                           "not in a list%s",
                           "");
    if (own_store && cfg->compare_memory)
        return usage_error("--compare-memory: only for simple, batch and "
                           "put%s",
                           "");
    return 0;
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
    cfg->physics = "off";
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
    return check_combination(cfg);
}

/* ------------------------------------------------------------------------ */
/* Hot-path helpers: clock, PRNG, key formatting                             */
/* ------------------------------------------------------------------------ */

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* wyrand (Wang Yi): one add and one 64x64->128 multiply per number; passes
 * BigCrush and PractRand. Any seed is fine. */
static inline uint64_t wyrand(uint64_t *state)
{
    *state += 0xa0761d6478bd642full;
    __uint128_t t = (__uint128_t)*state * (*state ^ 0xe7037ed1a0b428dbull);
    return (uint64_t)(t >> 64) ^ (uint64_t)t;
}

/* A uniform integer in [0, n), n >= 1: Lemire's multiply-shift with the
 * rejection step that removes its bias (almost never taken). */
static inline uint32_t rand_below(uint64_t *state, uint32_t n)
{
    uint64_t m = (uint64_t)(uint32_t)wyrand(state) * n;
    uint32_t low = (uint32_t)m;
    if (__builtin_expect(low < n, 0)) {
        uint32_t threshold = -n % n;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)wyrand(state) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

/* Write `v` as exactly 10 decimal digits, zero-padded, to out[0..9] (no
 * NUL): what snprintf("%010u") gives, in a few ns. */
static inline void format10(char *out, uint32_t v)
{
    uint32_t hi = v / 100000000u; /* 0 .. 42 */
    uint32_t lo = v % 100000000u;
    uint32_t a = lo / 10000u, b = lo % 10000u;
    memcpy(out + 0, digit_pairs + 2 * hi, 2);
    memcpy(out + 2, digit_pairs + 2 * (a / 100u), 2);
    memcpy(out + 4, digit_pairs + 2 * (a % 100u), 2);
    memcpy(out + 6, digit_pairs + 2 * (b / 100u), 2);
    memcpy(out + 8, digit_pairs + 2 * (b % 100u), 2);
}

static inline void make_key(char key[KEY_LEN], uint32_t index)
{
    memcpy(key, KEY_PREFIX, KEY_PREFIX_LEN);
    format10(key + KEY_PREFIX_LEN, index);
}

/* ------------------------------------------------------------------------ */
/* Values and the preload                                                    */
/* ------------------------------------------------------------------------ */

/* The value of key i is pattern[i % PATTERN_SLACK ..][0 .. value_size-1]:
 * deterministic, different for neighbouring keys, and free to produce. */
static uint8_t *make_pattern(size_t value_size)
{
    uint8_t *p = malloc(value_size + PATTERN_SLACK);
    if (p == NULL)
        return NULL;
    uint64_t s = 0x5741525042454e43ull; /* "WARPBENC" */
    for (size_t i = 0; i < value_size + PATTERN_SLACK; i++)
        p[i] = (uint8_t)('a' + wyrand(&s) % 26);
    return p;
}

static inline const uint8_t *value_of(const uint8_t *pattern, uint32_t i)
{
    return pattern + (i % PATTERN_SLACK);
}

/* Put keys 0 .. count-1 with warp_put_batch() in chunks, key i with the
 * value value_of(pattern, i + shift). Returns WARP_OK or the engine's
 * error, which has been reported on stderr. */
static int put_range(warp_db *db, uint32_t count, size_t value_size,
                     const uint8_t *pattern, uint32_t shift)
{
    warp_put_item *items = calloc(PRELOAD_CHUNK, sizeof *items);
    char(*keys)[KEY_LEN] = malloc(PRELOAD_CHUNK * sizeof *keys);
    int rc = WARP_ENOMEM;
    if (items == NULL || keys == NULL) {
        fprintf(stderr, "warp bench: preload: out of memory\n");
        goto out;
    }

    for (uint64_t base = 0; base < count; base += PRELOAD_CHUNK) {
        uint64_t left = count - base;
        size_t n = left < PRELOAD_CHUNK ? (size_t)left : PRELOAD_CHUNK;
        for (size_t i = 0; i < n; i++) {
            uint32_t k = (uint32_t)(base + i);
            make_key(keys[i], k);
            items[i] = (warp_put_item){.key = keys[i],
                                       .klen = KEY_LEN,
                                       .val = value_of(pattern, k + shift),
                                       .vlen = value_size};
        }
        size_t failed = n;
        rc = warp_put_batch(db, items, n, &failed);
        if (rc != WARP_OK) {
            fprintf(stderr,
                    "warp bench: preload: warp_put_batch failed at "
                    "key:%010llu: %s\n",
                    (unsigned long long)(base + failed), warp_strerror(rc));
            goto out;
        }
    }
    rc = WARP_OK;
out:
    free(keys);
    free(items);
    return rc;
}

/* Put the N keys of the configuration with their values. */
static int preload(warp_db *db, const struct bench_config *cfg,
                   const uint8_t *pattern)
{
    return put_range(db, cfg->keys, cfg->value_size, pattern, 0);
}

/* ------------------------------------------------------------------------ */
/* Worker threads                                                            */
/* ------------------------------------------------------------------------ */

/* The start gate: workers arrive and wait; the main thread opens it once
 * all have arrived, or aborts it. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned arrived;
    bool open;
    bool abort;
};

/* State shared by the workers of one run; read-only while they run except
 * for the two flags, which sit on a cache line of their own. */
struct run {
    warp_db *db;
    enum workload workload;
    uint32_t keys;
    size_t value_size;
    const uint8_t *pattern;
    bool sync_puts; /* fsync=always on disk: each put waits for a sync */
    struct gate gate;
    _Alignas(CACHE_LINE) atomic_bool stop;
    atomic_bool failed;
};

/* Why a worker failed: the call, its result, and for a call on a key the
 * key's index and the value length the call returned. */
struct failure {
    const char *call;
    int rc;
    bool keyed;
    uint32_t key;
    size_t vlen;
};

/* One worker's identity and results, on cache lines of its own. The
 * worker writes its results once, when it stops. */
struct worker {
    _Alignas(CACHE_LINE) struct run *run;
    unsigned index;
    pthread_t tid;
    uint64_t ops;
    uint64_t start_ns, end_ns;
    hist *hist; /* owned by the main thread once the worker is joined */
    bool failed;
    struct failure why;
};

/* The hot state of one worker, on its own stack. */
struct tctx {
    warp_db *db;
    uint64_t rng;
    uint32_t keys;
    size_t value_size;
    hist *hist;
    uint8_t *buf; /* get buffer(s) or the put value */
    uint64_t calls;
    uint64_t seq; /* puts so far, written into each put value */
    struct failure why;
    char key[KEY_LEN];
    uint32_t batch_index[BATCH_KEYS];
    char batch_keys[BATCH_KEYS][KEY_LEN];
    warp_get_item items[BATCH_KEYS];
};

static __attribute__((noinline, cold)) bool
op_failed(struct tctx *c, const char *call, int rc, uint32_t key, size_t vlen)
{
    c->why = (struct failure){call, rc, true, key, vlen};
    return false;
}

/* One get; `timed` is a constant wherever this is inlined. */
static inline bool op_get(struct tctx *c, bool timed)
{
    uint32_t k = rand_below(&c->rng, c->keys);
    format10(c->key + KEY_PREFIX_LEN, k);
    uint64_t t0 = timed ? now_ns() : 0;
    size_t vlen = 0;
    int rc =
        warp_get(c->db, c->key, KEY_LEN, c->buf, c->value_size, &vlen, NULL);
    if (timed)
        hist_record(c->hist, now_ns() - t0);
    if (__builtin_expect(rc != WARP_OK || vlen != c->value_size, 0))
        return op_failed(c, "warp_get", rc, k, vlen);
    return true;
}

/* One warp_get_batch() of BATCH_KEYS keys. */
static inline bool op_batch(struct tctx *c, bool timed)
{
    for (unsigned i = 0; i < BATCH_KEYS; i++) {
        uint32_t k = rand_below(&c->rng, c->keys);
        c->batch_index[i] = k;
        format10(c->batch_keys[i] + KEY_PREFIX_LEN, k);
    }
    uint64_t t0 = timed ? now_ns() : 0;
    int rc = warp_get_batch(c->db, c->items, BATCH_KEYS);
    if (timed)
        hist_record(c->hist, now_ns() - t0);
    if (__builtin_expect(rc != WARP_OK, 0))
        return op_failed(c, "warp_get_batch", rc, c->batch_index[0], 0);
    for (unsigned i = 0; i < BATCH_KEYS; i++) {
        const warp_get_item *it = &c->items[i];
        if (__builtin_expect(it->rc != WARP_OK || it->vlen != c->value_size, 0))
            return op_failed(c, "warp_get_batch", it->rc, c->batch_index[i],
                             it->vlen);
    }
    return true;
}

/* One overwrite of an existing key, its value's first bytes made unique. */
static inline bool op_put(struct tctx *c, bool timed)
{
    uint32_t k = rand_below(&c->rng, c->keys);
    format10(c->key + KEY_PREFIX_LEN, k);
    uint64_t stamp = ++c->seq ^ ((uint64_t)k << 32);
    memcpy(c->buf, &stamp, c->value_size < 8 ? c->value_size : 8);
    uint64_t t0 = timed ? now_ns() : 0;
    int rc =
        warp_put(c->db, c->key, KEY_LEN, c->buf, c->value_size, NULL, NULL);
    if (timed)
        hist_record(c->hist, now_ns() - t0);
    if (__builtin_expect(rc != WARP_OK, 0))
        return op_failed(c, "warp_put", rc, k, 0);
    return true;
}

typedef bool (*op_fn)(struct tctx *c, bool timed);

/* Run `op` in blocks of `block` ops until the stop flag is seen, timing
 * the first op of every `sample`. Always inlined, so that `op`, `block`
 * and `sample` are constants and `op` gets inlined too. Returns false when
 * an op failed. */
static inline __attribute__((always_inline)) bool
run_loop(struct tctx *c, const atomic_bool *stop, op_fn op, unsigned block,
         unsigned sample)
{
    do {
        for (unsigned g = 0; g < block / sample; g++) {
            if (!op(c, true))
                return false;
            for (unsigned i = 1; i < sample; i++)
                if (!op(c, false))
                    return false;
        }
        c->calls += block;
    } while (!atomic_load_explicit(stop, memory_order_relaxed));
    return true;
}

static bool loop_simple(struct tctx *c, const atomic_bool *stop)
{
    return run_loop(c, stop, op_get, BENCH_BLOCK, BENCH_SAMPLE);
}

static bool loop_batch(struct tctx *c, const atomic_bool *stop)
{
    return run_loop(c, stop, op_batch, BENCH_BLOCK, BENCH_SAMPLE);
}

static bool loop_put(struct tctx *c, const atomic_bool *stop)
{
    return run_loop(c, stop, op_put, BENCH_BLOCK, BENCH_SAMPLE);
}

/* Puts that each wait for a sync: the flag is read often, every op timed
 * (a clock read is nothing beside a sync). */
static bool loop_put_synced(struct tctx *c, const atomic_bool *stop)
{
    return run_loop(c, stop, op_put, SYNC_BLOCK, 1);
}

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* Set up a worker's hot state and buffers (cache-line aligned, so no two
 * threads write the same line). Returns false when out of memory. */
static bool tctx_init(struct tctx *c, struct worker *w)
{
    const struct run *r = w->run;
    memset(c, 0, sizeof *c);
    c->db = r->db;
    c->rng = 0x9e3779b97f4a7c15ull * (w->index + 1) + r->workload;
    c->keys = r->keys;
    c->value_size = r->value_size;
    c->hist = w->hist;
    make_key(c->key, 0);

    size_t stride = round_up(r->value_size ? r->value_size : 1, CACHE_LINE);
    size_t nbuf = r->workload == WL_BATCH ? BATCH_KEYS : 1;
    c->buf = aligned_alloc(CACHE_LINE, stride * nbuf);
    if (c->buf == NULL || c->hist == NULL) {
        c->why =
            (struct failure){.call = "allocating buffers", .rc = WARP_ENOMEM};
        return false;
    }
    memset(c->buf, 0, stride * nbuf); /* fault the pages in before the run */
    if (r->workload == WL_PUT)
        memcpy(c->buf, r->pattern, r->value_size);
    for (unsigned i = 0; i < nbuf && r->workload == WL_BATCH; i++) {
        make_key(c->batch_keys[i], 0);
        c->items[i] = (warp_get_item){.key = c->batch_keys[i],
                                      .klen = KEY_LEN,
                                      .buf = c->buf + i * stride,
                                      .cap = r->value_size};
    }
    return true;
}

/* Arrive at the gate and wait until it opens. Returns false if the run was
 * aborted instead. */
static bool gate_wait(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->arrived++;
    pthread_cond_broadcast(&g->cv);
    while (!g->open && !g->abort)
        pthread_cond_wait(&g->cv, &g->mu);
    bool go = !g->abort;
    pthread_mutex_unlock(&g->mu);
    return go;
}

/* Wait until `expected` workers have arrived, then open the gate, or abort
 * the run if `abort`. */
static void gate_release(struct gate *g, unsigned expected, bool abort)
{
    pthread_mutex_lock(&g->mu);
    while (!abort && g->arrived < expected)
        pthread_cond_wait(&g->cv, &g->mu);
    g->open = !abort;
    g->abort = abort;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->run;
    struct tctx c;
    bool ok = tctx_init(&c, w);
    if (!ok)
        atomic_store(&r->failed, true);
    if (gate_wait(&r->gate) && ok) {
        w->start_ns = now_ns();
        if (r->workload == WL_BATCH)
            ok = loop_batch(&c, &r->stop);
        else if (r->workload == WL_PUT && r->sync_puts)
            ok = loop_put_synced(&c, &r->stop);
        else if (r->workload == WL_PUT)
            ok = loop_put(&c, &r->stop);
        else /* simple, and the gets beside checkpoints */
            ok = loop_simple(&c, &r->stop);
        w->end_ns = now_ns();
    }
    if (!ok) {
        w->failed = true;
        w->why = c.why;
        atomic_store(&r->failed, true);
        atomic_store(&r->stop, true);
    }
    w->ops = c.calls * (r->workload == WL_BATCH ? BATCH_KEYS : 1);
    free(c.buf);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Runs                                                                      */
/* ------------------------------------------------------------------------ */

struct result {
    enum workload workload;
    unsigned threads;
    const char *fsync; /* always, everysec, never; "none" in memory */
    uint64_t ops;
    double seconds;
    double ops_per_sec;
    double p50_us, p99_us, p999_us;
    double bytes_per_key;
    bool on_disk;         /* the durability figures below mean something */
    uint64_t syncs;       /* sync rounds during the run */
    uint64_t checkpoints; /* checkpoints finished during the run */
    double checkpoint_ms; /* checkpoint workload: mean checkpoint time */
};

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

/* Sleep until CLOCK_MONOTONIC reaches `deadline` ns, waking every 20 ms to
 * end early if a worker has failed. */
static void sleep_until(uint64_t deadline, const atomic_bool *failed)
{
    for (;;) {
        uint64_t now = now_ns();
        if (now >= deadline || atomic_load(failed))
            return;
        uint64_t step = deadline - now;
        if (step > 20000000u)
            step = 20000000u;
        struct timespec ts = {(time_t)(step / 1000000000u),
                              (long)(step % 1000000000u)};
        nanosleep(&ts, NULL);
    }
}

/* The checkpoint workload's main thread: warp_checkpoint() back to back
 * until `deadline` (one running then finishes) or a worker fails. Returns
 * WARP_OK or the first error; *count and *ns receive the checkpoints
 * finished and the time they took. */
static int checkpoint_until(warp_db *db, uint64_t deadline,
                            const atomic_bool *failed, uint64_t *count,
                            uint64_t *ns)
{
    *count = 0;
    *ns = 0;
    while (now_ns() < deadline && !atomic_load(failed)) {
        uint64_t t0 = now_ns();
        int rc = warp_checkpoint(db);
        if (rc != WARP_OK)
            return rc;
        *ns += now_ns() - t0;
        (*count)++;
    }
    return WARP_OK;
}

static void report_failure(enum workload wl, const struct failure *f)
{
    fprintf(stderr, "warp bench: %s: ", workload_names[wl]);
    if (!f->keyed)
        fprintf(stderr, "%s: %s\n", f->call, warp_strerror(f->rc));
    else if (f->rc != WARP_OK)
        fprintf(stderr, "%s(key:%010u) returned %d (%s)\n", f->call, f->key,
                f->rc, warp_strerror(f->rc));
    else
        fprintf(stderr,
                "%s(key:%010u) returned a %zu-byte value, expected "
                "the preloaded size\n",
                f->call, f->key, f->vlen);
}

/* Fold the workers' counters and histograms into *res. */
static int summarize(struct worker *w, unsigned n, struct result *res)
{
    hist *all = hist_new();
    if (all == NULL)
        return WARP_ENOMEM;
    uint64_t start = UINT64_MAX, end = 0;
    res->ops = 0;
    for (unsigned i = 0; i < n; i++) {
        res->ops += w[i].ops;
        start = w[i].start_ns < start ? w[i].start_ns : start;
        end = w[i].end_ns > end ? w[i].end_ns : end;
        hist_merge(all, w[i].hist);
    }
    res->seconds = (double)(end - start) / 1e9;
    res->ops_per_sec = (double)res->ops / res->seconds;
    res->p50_us = hist_percentile(all, 50.0) / 1000.0;
    res->p99_us = hist_percentile(all, 99.0) / 1000.0;
    res->p999_us = hist_percentile(all, 99.9) / 1000.0;
    hist_free(all);
    return WARP_OK;
}

/* Start `n` workers, let them run for the configured seconds (running
 * checkpoints meanwhile for that workload), join them. Returns 0 with
 * *res filled, or 1 after reporting why the run failed. */
static int run_workers(struct run *r, struct worker *w, unsigned n,
                       double seconds, struct result *res)
{
    uint64_t ckpts = 0, ckpt_ns = 0;
    int ckpt_rc = WARP_OK;
    unsigned created = 0;
    for (; created < n; created++) {
        int err =
            pthread_create(&w[created].tid, NULL, worker_main, &w[created]);
        if (err != 0) {
            fprintf(stderr, "warp bench: cannot start thread %u: %s\n",
                    created + 1, strerror(err));
            break;
        }
    }
    gate_release(&r->gate, created, created < n);
    if (created == n) {
        uint64_t deadline = now_ns() + (uint64_t)(seconds * 1e9);
        if (r->workload == WL_CHECKPOINT)
            ckpt_rc =
                checkpoint_until(r->db, deadline, &r->failed, &ckpts, &ckpt_ns);
        else
            sleep_until(deadline, &r->failed);
    }
    atomic_store_explicit(&r->stop, true, memory_order_relaxed);
    for (unsigned i = 0; i < created; i++)
        pthread_join(w[i].tid, NULL);

    if (created < n)
        return 1;
    for (unsigned i = 0; i < n; i++) {
        if (w[i].failed) {
            report_failure(r->workload, &w[i].why);
            return 1;
        }
    }
    if (ckpt_rc != WARP_OK) {
        fprintf(stderr, "warp bench: checkpoint: warp_checkpoint: %s\n",
                warp_strerror(ckpt_rc));
        return 1;
    }
    if (summarize(w, n, res) != WARP_OK) {
        fprintf(stderr, "warp bench: out of memory\n");
        return 1;
    }
    res->checkpoint_ms = ckpts ? (double)ckpt_ns / 1e6 / (double)ckpts : 0;
    return 0;
}

/* One run: workload `wl` on `threads` threads. Returns 0 or 1 as above. */
static int run_one(const struct store *st, const struct bench_config *cfg,
                   const uint8_t *pattern, enum workload wl, unsigned threads,
                   struct result *res)
{
    struct run r = {.db = st->db,
                    .workload = wl,
                    .keys = cfg->keys,
                    .value_size = cfg->value_size,
                    .pattern = pattern,
                    .sync_puts =
                        st->on_disk && cfg->opts.fsync == WARP_FSYNC_ALWAYS};
    pthread_mutex_init(&r.gate.mu, NULL);
    pthread_cond_init(&r.gate.cv, NULL);
    atomic_init(&r.stop, false);
    atomic_init(&r.failed, false);

    int status = 1;
    struct worker *w = aligned_alloc(CACHE_LINE, threads * sizeof *w);
    if (w == NULL) {
        fprintf(stderr, "warp bench: out of memory\n");
        goto out;
    }
    memset(w, 0, threads * sizeof *w);
    for (unsigned i = 0; i < threads; i++) {
        w[i].run = &r;
        w[i].index = i;
        w[i].hist = hist_new(); /* NULL is reported by the worker */
    }
    res->workload = wl;
    res->threads = threads;
    res->on_disk = st->on_disk;
    res->fsync = st->on_disk ? fsync_name(cfg->opts.fsync) : "none";
    status = run_workers(&r, w, threads, cfg->seconds, res);
    for (unsigned i = 0; i < threads; i++)
        hist_free(w[i].hist);
out:
    free(w);
    pthread_cond_destroy(&r.gate.cv);
    pthread_mutex_destroy(&r.gate.mu);
    return status;
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

static void print_header(void)
{
    printf("%-10s %-8s %7s %12s %8s %9s %9s %9s %9s %10s\n", "workload",
           "fsync", "threads", "ops", "seconds", "ops/s", "p50 us", "p99 us",
           "p99.9 us", "bytes/key");
}

/* A latency cell: "-" for the recover row, which has none. */
static const char *latency(const struct result *r, double us, char *buf,
                           size_t cap)
{
    if (r->workload == WL_RECOVER)
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%.3f", us);
    return buf;
}

static void print_row(const struct result *r)
{
    char rate[32], p50[32], p99[32], p999[32];
    printf("%-10s %-8s %7u %12llu %8.3f %9s %9s %9s %9s %10.1f\n",
           workload_names[r->workload], r->fsync, r->threads,
           (unsigned long long)r->ops, r->seconds,
           human(r->ops_per_sec, rate, sizeof rate),
           latency(r, r->p50_us, p50, sizeof p50),
           latency(r, r->p99_us, p99, sizeof p99),
           latency(r, r->p999_us, p999, sizeof p999), r->bytes_per_key);
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

/* For each workload, each thread count's ops/s relative to the first. */
static void print_scaling(const struct bench_config *cfg,
                          const struct result *res, const char *where)
{
    for (unsigned w = 0; w < cfg->nworkloads; w++) {
        const struct result *row = res + (size_t)w * cfg->nthreads;
        printf("scaling %s%s (ops/s vs %u thread%s):",
               workload_names[row->workload], where, row[0].threads,
               row[0].threads == 1 ? "" : "s");
        for (unsigned t = 0; t < cfg->nthreads; t++)
            printf(" %ut %.2fx%s", row[t].threads,
                   row[t].ops_per_sec / row[0].ops_per_sec,
                   t + 1 < cfg->nthreads ? "," : "\n");
    }
}

/* --compare-memory: each on-disk run's ops/s relative to the same run in
 * memory. */
static void print_ratio(const struct bench_config *cfg,
                        const struct result *mem, const struct result *disk)
{
    printf("on disk (fsync=%s) vs in memory, ops/s:", disk[0].fsync);
    size_t n = (size_t)cfg->nworkloads * cfg->nthreads;
    for (size_t i = 0; i < n; i++)
        printf(" %s %ut %.3fx%s", workload_names[disk[i].workload],
               disk[i].threads, disk[i].ops_per_sec / mem[i].ops_per_sec,
               i + 1 < n ? "," : "\n");
}

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

/* A JSON number; JSON has no NaN or infinity, so those become 0. */
static void json_double(FILE *f, double v, int decimals)
{
    fprintf(f, "%.*f", decimals, isfinite(v) ? v : 0.0);
}

static void json_result(FILE *f, const struct result *r, const char *physics)
{
    fputs("{\"workload\":", f);
    json_string(f, workload_names[r->workload]);
    fputs(",\"engine\":\"warp\",\"threads\":", f);
    fprintf(f, "%u,\"physics\":", r->threads);
    json_string(f, physics);
    fputs(",\"fsync\":", f);
    json_string(f, r->fsync);
    fprintf(f, ",\"ops\":%llu,\"seconds\":", (unsigned long long)r->ops);
    json_double(f, r->seconds, 6);
    fputs(",\"ops_per_sec\":", f);
    json_double(f, r->ops_per_sec, 1);
    fputs(",\"p50_us\":", f);
    json_double(f, r->p50_us, 4);
    fputs(",\"p99_us\":", f);
    json_double(f, r->p99_us, 4);
    fputs(",\"p999_us\":", f);
    json_double(f, r->p999_us, 4);
    fputs(",\"bytes_per_key\":", f);
    json_double(f, r->bytes_per_key, 3);
    if (r->on_disk)
        fprintf(f, ",\"syncs\":%llu,\"checkpoints\":%llu",
                (unsigned long long)r->syncs,
                (unsigned long long)r->checkpoints);
    if (r->workload == WL_CHECKPOINT) {
        fputs(",\"checkpoint_ms\":", f);
        json_double(f, r->checkpoint_ms, 3);
    }
    fputc('}', f);
}

/* Write the results to `tmp` (open), then rename it to `path`, so readers
 * never see a half-written file. Returns 0, or 1 after reporting. */
static int write_json(FILE *tmp, const char *tmp_path, const char *path,
                      const struct result *res, size_t n, const char *physics)
{
    fputs("{\"results\":[", tmp);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            fputc(',', tmp);
        json_result(tmp, &res[i], physics);
    }
    fputs("]}\n", tmp);
    bool ok = !ferror(tmp);
    ok = (fclose(tmp) == 0) && ok;
    if (ok && rename(tmp_path, path) == 0)
        return 0;
    fprintf(stderr, "warp bench: cannot write %s: %s\n", path, strerror(errno));
    remove(tmp_path);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* The command                                                               */
/* ------------------------------------------------------------------------ */

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
    if (preload(st->db, cfg, pattern) != WARP_OK)
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
    printf("warp bench: %u keys, %zu-byte values, %u shards, %.3g s per run, "
           "physics %s\n",
           cfg->keys, cfg->value_size, cfg->opts.shards, cfg->seconds,
           cfg->physics);
    if (cfg->dir != NULL)
        printf("store on %s, fsync=%s%s\n", cfg->dir,
               fsync_name(cfg->opts.fsync),
               cfg->compare_memory ? ", compared with in memory" : "");
    if (strcmp(cfg->physics, "off") != 0)
        printf("note: physics is not implemented yet; the engine runs without "
               "it (recorded as \"%s\")\n",
               cfg->physics);
}

/* Every (workload, thread count) run on `st`, printing rows as they
 * finish. */
static int run_all(const struct store *st, const struct bench_config *cfg,
                   const uint8_t *pattern, struct result *res)
{
    print_header();
    for (unsigned w = 0; w < cfg->nworkloads; w++) {
        for (unsigned t = 0; t < cfg->nthreads; t++) {
            struct result *r = &res[(size_t)w * cfg->nthreads + t];
            warp_durability d0, d1;
            warp_durability_get(st->db, &d0);
            if (run_one(st, cfg, pattern, cfg->workloads[w], cfg->threads[t],
                        r) != 0)
                return 1;
            warp_durability_get(st->db, &d1);
            r->syncs = d1.syncs - d0.syncs;
            r->checkpoints = d1.checkpoints - d0.checkpoints;
            r->bytes_per_key = st->bytes_per_key;
            print_row(r);
        }
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

/* Whether key `k` holds value_of(pattern, k + shift); reports if not. */
static bool value_is(warp_db *db, const struct bench_config *cfg,
                     const uint8_t *pattern, uint32_t k, uint32_t shift,
                     uint8_t *buf)
{
    char key[KEY_LEN];
    size_t vlen = 0;
    make_key(key, k);
    int rc = warp_get(db, key, KEY_LEN, buf, cfg->value_size, &vlen, NULL);
    if (rc == WARP_OK && vlen == cfg->value_size &&
        memcmp(buf, value_of(pattern, k + shift), vlen) == 0)
        return true;
    fprintf(stderr, "warp bench: recover: key:%010u %s after the reopen (%s)\n",
            k, rc == WARP_OK ? "has the wrong value" : "is missing",
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
    rc = preload(db, cfg, pattern);
    if (rc == WARP_OK)
        rc = put_range(db, cfg->keys / 2, cfg->value_size, pattern, 1);
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
                           .fsync = fsync_name(cfg->opts.fsync),
                           .ops = rec.wal_records + rec.snapshot_records,
                           .seconds = (double)rec.micros / 1e6,
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

/* Run the configured passes into res. Returns 0 or 1 (reported). */
static int run_passes(const struct bench_config *cfg, const uint8_t *pattern,
                      struct result *res)
{
    if (cfg->workloads[0] == WL_RECOVER)
        return recover_write(cfg, pattern) || recover_read(cfg, pattern, res);

    struct result *mine = res;
    if (cfg->compare_memory) {
        printf("in memory:\n");
        if (run_pass(cfg, pattern, NULL, res) != 0)
            return 1;
        mine = res + (size_t)cfg->nworkloads * cfg->nthreads;
        printf("\non disk:\n");
    }
    if (run_pass(cfg, pattern, cfg->dir, mine) != 0)
        return 1;
    printf("\n");
    if (cfg->compare_memory)
        print_scaling(cfg, res, " in memory");
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
    bool synced = cfg->dir != NULL && cfg->opts.fsync == WARP_FSYNC_ALWAYS &&
                  has_workload(cfg, WL_PUT);
    printf("\nlatency: one op in %d timed with clock_gettime(CLOCK_MONOTONIC), "
           "every op counted%s;\n  a timed interval includes one clock read "
           "(%.0f ns here); percentiles from a\n  log-linear histogram "
           "(<= 1.6%% error).\n",
           BENCH_SAMPLE, synced ? " (every put timed on disk)" : "",
           clock_overhead_ns());
    for (unsigned w = 0; w < cfg->nworkloads; w++) {
        if (cfg->workloads[w] == WL_BATCH) {
            printf("batch: ops are keys, %d per warp_get_batch call; latency "
                   "is per call.\n",
                   BATCH_KEYS);
            break;
        }
    }
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

int bench_main(int argc, char **argv)
{
    struct bench_config cfg;
    int rc = parse_args(argc, argv, &cfg);
    if (rc != 0)
        return rc < 0 ? 0 : rc;

    int status = 1;
    bool dir_ready = false, dir_created = false;
    char *tmp_path = NULL;
    FILE *json = NULL;
    size_t nres = cfg.workloads[0] == WL_RECOVER
                      ? 1
                      : (size_t)cfg.nworkloads * cfg.nthreads *
                            (cfg.compare_memory ? 2 : 1);
    struct result *res = calloc(nres, sizeof *res);
    uint8_t *pattern = make_pattern(cfg.value_size);
    if (res == NULL || pattern == NULL) {
        fprintf(stderr, "warp bench: out of memory\n");
        goto out;
    }
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
    if (run_passes(&cfg, pattern, res) != 0)
        goto out;
    print_notes(&cfg);
    status = 0;
    if (json != NULL) {
        status =
            write_json(json, tmp_path, cfg.json_path, res, nres, cfg.physics);
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
    free(res);
    return status;
}
