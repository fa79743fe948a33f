/*
 * compare.c - `warp bench --engine warp,lmdb,rocksdb`: the seed's three
 * tiers of workload on WarpEngine and on the embedded engines a user would
 * pick instead, in one run, through the engine interface of
 * bench/engine.h (compare_run.c runs the workers).
 *
 * WHAT IS MEASURED
 *   For each workload in --workload (simple, mixed, complex; `large` is
 *   complex's other name) every engine of --engine gets a fresh store
 *   (in DIR/<engine>-<workload> with --dir, else warp in memory):
 *     simple   N keys "key:%010u" with B-byte values (--keys, --value-size)
 *     mixed    N keys in the related layout (keygen.h)
 *     complex  upstream's large data set for --target-gb (large.h)
 *   The load is timed and reported on its own: simple and mixed are
 *   preloaded with the engine's batch write (a setup, not a workload);
 *   complex is loaded as upstream does, one put per entry, one engine call
 *   each, so its rate is the engines' single-put rate on these values.
 *   Then each store is settled (engine.h) and the windows run: for each
 *   repetition, each thread count, each engine (warp once per --physics
 *   mode) a warmup window (--warmup S, not counted), then a measured one
 *   (--seconds S). The engines take turns, their order rotating by one
 *   each repetition, and the thread counts take turns too, so that a noisy
 *   stretch of this shared machine hits every engine and every thread
 *   count alike (a ratio between thread counts is then measured side by
 *   side, not across minutes); every engine replays the same key sequence
 *   in a window.
 *
 * THE REPORT
 *   One row per window on stdout (with `cores`, the workers' own CPU
 *   seconds per second: below the thread count, they were not running all
 *   the time), then per (workload, threads, engine,
 *   mode) the median of the repetitions, x the seed's measured 1,038
 *   ops/s, and warp's median over this engine's; then the targets.
 *   --json FILE writes every row (the schema of `warp bench --json` plus
 *   "engine", "dataset" and "calls"), the medians, the loads and the
 *   machine. --plot FILE.png draws the medians with gnuplot (plot.h).
 */
#include "compare.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchdir.h"
#include "common.h"
#include "keygen.h"
#include "plot.h"
#include "progress.h"
#include "workload.h"

#define MAX_ENGINES 3
#define MAX_THREADS 1024
#define MAX_TCOUNTS 16
#define MAX_MODES   3
#define MAX_REPEAT  100
#define MAX_RUNNERS (MAX_ENGINES + MAX_MODES)
#define SEED_1      1038.0 /* the seed's measured ops/s, 1 process */
#define SEED_4      630.0  /* and 4 processes */

static const char *const cw_names[CW_COUNT] = {"simple", "mixed", "complex"};
static const double cw_seed_target[CW_COUNT] = {300000, 150000, 75000};

struct cmp_config {
    const engine_ops *engines[MAX_ENGINES];
    unsigned nengines;
    enum cmp_workload workloads[CW_COUNT];
    unsigned nworkloads;
    uint32_t keys;
    size_t value_size;
    double target_gb;
    unsigned threads[MAX_TCOUNTS];
    unsigned nthreads;
    double seconds, warmup;
    unsigned repeat;
    warp_physics_mode modes[MAX_MODES];
    unsigned nmodes;
    const char *dir;
    bool fsync_given, keep;
    const char *json_path, *plot_path;
    warp_options opts;
};

/* Who runs a window: an engine, and for warp a physics mode (-1: none). */
struct runner {
    unsigned engine;
    int mode;
};

struct row {
    enum cmp_workload wl;
    struct runner who;
    unsigned threads, run;
    struct cmp_stats st;
    double dropped; /* physics facts dropped in the window; NAN: no physics */
};

struct load {
    enum cmp_workload wl;
    unsigned engine;
    uint64_t puts;
    double seconds, settle_seconds;
    uint64_t store_bytes;
};

/* The state of a whole invocation. */
struct cmp {
    struct cmp_config cfg;
    struct runner runners[MAX_RUNNERS];
    unsigned nrunners;
    struct row *rows;
    size_t nrows;
    struct load loads[CW_COUNT * MAX_ENGINES];
    size_t nloads;
    uint8_t *pattern;
    large_dataset large;
    bool large_built;
    bool dir_created;
    char cpu[128];
};

/* ------------------------------------------------------------------------ */
/* Arguments                                                                 */
/* ------------------------------------------------------------------------ */

static const char usage_text[] =
    "usage: warp bench --engine LIST [--workload simple,mixed,complex]\n"
    "                  [--keys N] [--value-size B] [--target-gb X]\n"
    "                  [--threads 1,2,...] [--seconds S] [--warmup S]\n"
    "                  [--physics LIST] [--repeat R] [--dir DIR [--fsync "
    "MODE] [--keep]]\n"
    "                  [--json FILE] [--plot FILE.png] [--shards N] [--opt "
    "NAME=VALUE]...\n"
    "\n"
    "The seed's three workloads on WarpEngine and its peers, side by side\n"
    "(docs/BENCHMARKS.md, \"The seed's workloads, against the peers\"). This\n"
    "mode is chosen by --engine, --plot, --target-gb, or a workload list with\n"
    "complex (or large) in it.\n"
    "\n"
    "  --engine LIST     warp, lmdb, rocksdb, comma-separated (default warp);\n"
    "                    lmdb and rocksdb need --dir\n"
    "  --workload LIST   simple: get of a random key of N key:%%010u keys;\n"
    "                    mixed: 70%% get, 20%% put, 10%% related read (the 4\n"
    "                    keys of an id in one call) on N keys in the related\n"
    "                    layout; complex (or large): upstream's\n"
    "                    large_dataset_feature_validation, 750 gets, 50\n"
    "                    quantum gets and 100 puts per 900 calls on its 12\n"
    "                    families of JSON records (default: all three)\n"
    "  --keys N          simple and mixed keys (default 1000000)\n"
    "  --value-size B    simple and mixed value bytes (default 100)\n"
    "  --target-gb X     complex's size as upstream names it: N = X * 100000,\n"
    "                    Q = N/4 ids, 12Q puts (default 1)\n"
    "  --threads LIST    thread counts, 1..1024 (default 1)\n"
    "  --seconds S       measured seconds per window (default 3)\n"
    "  --warmup S        uncounted seconds before each window, 0 for none\n"
    "                    (default 1)\n"
    "  --physics LIST    warp's physics modes: off, adaptive, full; warp runs\n"
    "                    once per mode (default full: the seed ran with every\n"
    "                    feature on)\n"
    "  --repeat R        every window R times, thread counts and engines\n"
    "                    taking turns (engines in a rotating order);\n"
    "                    medians reported (default 1)\n"
    "  --dir DIR         stores in DIR/<engine>-<workload>; DIR must be "
    "absent\n"
    "                    or empty and is cleaned up (unless --keep)\n"
    "  --fsync MODE      always, everysec (default) or never, for every\n"
    "                    engine alike (bench/engine.h); needs --dir\n"
    "  --json FILE       the rows, medians, loads and machine as JSON\n"
    "  --plot FILE.png   ops/s against threads per engine and workload, log\n"
    "                    axis, the seed's figures as reference lines (needs\n"
    "                    gnuplot; FILE.dat and FILE.gp are left beside it)\n"
    "  --shards N, --opt NAME=VALUE  warp's options\n"
    "Exit status: 0 on success, 1 if the benchmark failed, 2 for bad usage.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "warp bench: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry `warp bench --engine warp --help`.\n");
    return 2;
}

static bool parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < lo ||
        v > hi)
        return false;
    *out = v;
    return true;
}

/* Call fn(cfg, item) for each item of a comma-separated list. */
static int each_item(struct cmp_config *cfg, const char *list,
                     int (*fn)(struct cmp_config *, const char *, size_t))
{
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        int rc = fn(cfg, p, len);
        if (rc != 0)
            return rc;
        if (p[len] == '\0')
            return 0;
        p += len + 1;
    }
}

static bool item_is(const char *p, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(p, name, len) == 0;
}

static int add_engine(struct cmp_config *cfg, const char *p, size_t len)
{
    char name[16];
    if (len == 0 || len >= sizeof name)
        return usage_error("--engine: bad engine list%s", "");
    memcpy(name, p, len);
    name[len] = '\0';
    const engine_ops *e = engine_find(name);
    bool known = false;
    for (const char *const *n = engine_names; *n != NULL; n++)
        known = known || strcmp(*n, name) == 0;
    if (!known)
        return usage_error("--engine: '%s' is not warp, lmdb or rocksdb", name);
    if (e == NULL) {
        fprintf(stderr,
                "warp bench: --engine %s: not built into this binary (install "
                "liblmdb-dev / librocksdb-dev, e.g. `scripts/deps.sh bench`, "
                "and rebuild)\n",
                name);
        return 2;
    }
    for (unsigned i = 0; i < cfg->nengines; i++)
        if (cfg->engines[i] == e)
            return usage_error("--engine: %s is listed twice", name);
    cfg->engines[cfg->nengines++] = e;
    return 0;
}

static int add_workload(struct cmp_config *cfg, const char *p, size_t len)
{
    int w = item_is(p, len, "simple")    ? CW_SIMPLE
            : item_is(p, len, "mixed")   ? CW_MIXED
            : item_is(p, len, "complex") ? CW_COMPLEX
            : item_is(p, len, "large")   ? CW_COMPLEX
                                         : -1;
    if (w < 0)
        return usage_error("--workload: with --engine the workloads are "
                           "simple, mixed and complex (or large)%s",
                           "");
    for (unsigned i = 0; i < cfg->nworkloads; i++)
        if (cfg->workloads[i] == (enum cmp_workload)w)
            return usage_error("--workload: %s is listed twice", cw_names[w]);
    cfg->workloads[cfg->nworkloads++] = (enum cmp_workload)w;
    return 0;
}

static int add_threads(struct cmp_config *cfg, const char *p, size_t len)
{
    char buf[16];
    double t;
    if (len == 0 || len >= sizeof buf || cfg->nthreads == MAX_TCOUNTS)
        return usage_error("--threads: bad thread list%s", "");
    memcpy(buf, p, len);
    buf[len] = '\0';
    if (!parse_num(buf, 1, MAX_THREADS, &t) || t != floor(t))
        return usage_error("--threads: '%s' is not a count 1..1024", buf);
    cfg->threads[cfg->nthreads++] = (unsigned)t;
    return 0;
}

static int add_mode(struct cmp_config *cfg, const char *p, size_t len)
{
    char buf[16];
    warp_physics_mode m;
    if (len == 0 || len >= sizeof buf || cfg->nmodes == MAX_MODES)
        return usage_error("--physics: bad mode list%s", "");
    memcpy(buf, p, len);
    buf[len] = '\0';
    if (warp_physics_mode_parse(buf, &m) != WARP_OK)
        return usage_error("--physics: '%s' is not off, adaptive or full", buf);
    for (unsigned i = 0; i < cfg->nmodes; i++)
        if (cfg->modes[i] == m)
            return usage_error("--physics: %s is listed twice", buf);
    cfg->modes[cfg->nmodes++] = m;
    return 0;
}

/* Set one flag. Returns 0, or 2 (reported). */
static int set_flag(struct cmp_config *cfg, const char *name, const char *v)
{
    double d;
    if (strcmp(name, "engine") == 0) {
        cfg->nengines = 0;
        return each_item(cfg, v, add_engine);
    }
    if (strcmp(name, "workload") == 0) {
        cfg->nworkloads = 0;
        return each_item(cfg, v, add_workload);
    }
    if (strcmp(name, "threads") == 0) {
        cfg->nthreads = 0;
        return each_item(cfg, v, add_threads);
    }
    if (strcmp(name, "physics") == 0) {
        cfg->nmodes = 0;
        return each_item(cfg, v, add_mode);
    }
    if (strcmp(name, "keys") == 0) {
        if (!parse_num(v, 4, UINT32_MAX, &d) || d != floor(d))
            return usage_error("--keys: '%s' is not a count 4..4294967295", v);
        cfg->keys = (uint32_t)d;
    } else if (strcmp(name, "value-size") == 0) {
        if (!parse_num(v, 8, 1 << 20, &d) || d != floor(d))
            return usage_error("--value-size: '%s' is not 8..1048576 bytes", v);
        cfg->value_size = (size_t)d;
    } else if (strcmp(name, "target-gb") == 0) {
        if (!parse_num(v, 4e-5, 1000, &d))
            return usage_error("--target-gb: '%s' is not in [0.00004, 1000]",
                               v);
        cfg->target_gb = d;
    } else if (strcmp(name, "seconds") == 0 || strcmp(name, "warmup") == 0) {
        bool warm = name[0] == 'w';
        if (!parse_num(v, warm ? 0 : 1e-3, 1e5, &d))
            return usage_error("bad duration '%s'", v);
        *(warm ? &cfg->warmup : &cfg->seconds) = d;
    } else if (strcmp(name, "repeat") == 0) {
        if (!parse_num(v, 1, MAX_REPEAT, &d) || d != floor(d))
            return usage_error("--repeat: '%s' is not a count 1..100", v);
        cfg->repeat = (unsigned)d;
    } else if (strcmp(name, "dir") == 0) {
        cfg->dir = v;
    } else if (strcmp(name, "fsync") == 0) {
        cfg->fsync_given = true;
        return cli_apply_opt(&cfg->opts, "bench", "--fsync", "fsync", v) ? 0
                                                                         : 2;
    } else if (strcmp(name, "shards") == 0) {
        return cli_apply_opt(&cfg->opts, "bench", "--shards", "shards", v) ? 0
                                                                           : 2;
    } else if (strcmp(name, "opt") == 0) {
        cfg->fsync_given = cfg->fsync_given || strncmp(v, "fsync=", 6) == 0;
        return cli_set_opt(&cfg->opts, "bench", v) ? 0 : 2;
    } else if (strcmp(name, "json") == 0) {
        cfg->json_path = v;
    } else if (strcmp(name, "plot") == 0) {
        cfg->plot_path = v;
    } else {
        return usage_error("unknown flag '--%s' (with --engine)", name);
    }
    return 0;
}

static const char *const value_flags[] = {
    "engine",    "workload", "threads", "physics", "keys", "value-size",
    "target-gb", "seconds",  "warmup",  "repeat",  "dir",  "fsync",
    "shards",    "opt",      "json",    "plot",    NULL};

static bool takes_value(const char *name, size_t len)
{
    for (const char *const *f = value_flags; *f != NULL; f++)
        if (item_is(name, len, *f))
            return true;
    return false;
}

/* The flags that only make sense together. Returns 0 or 2 (reported). */
static int check_config(const struct cmp_config *cfg)
{
    bool peers = false;
    for (unsigned i = 0; i < cfg->nengines; i++)
        peers = peers || strcmp(cfg->engines[i]->name, "warp") != 0;
    if (peers && cfg->dir == NULL)
        return usage_error("--engine: lmdb and rocksdb keep their data in "
                           "files: give --dir DIR%s",
                           "");
    if (cfg->dir == NULL && cfg->fsync_given)
        return usage_error("--fsync needs --dir%s", "");
    if (cfg->dir == NULL && cfg->keep)
        return usage_error("--keep needs --dir%s", "");
    if (cfg->plot_path != NULL && !plot_available()) {
        fprintf(stderr, "warp bench: --plot needs gnuplot, which is not on "
                        "PATH (Debian: apt-get install gnuplot-nox, or "
                        "`scripts/deps.sh bench`)\n");
        return 2;
    }
    return 0;
}

/* Parse argv; returns 0 to run, -1 after --help, or 2 (reported). */
static int parse_args(int argc, char **argv, struct cmp_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    warp_options_init(&cfg->opts);
    cfg->engines[0] = engine_find("warp");
    cfg->nengines = 1;
    for (int w = 0; w < CW_COUNT; w++)
        cfg->workloads[w] = (enum cmp_workload)w;
    cfg->nworkloads = CW_COUNT;
    cfg->keys = 1000000;
    cfg->value_size = 100;
    cfg->target_gb = 1.0;
    cfg->threads[0] = 1;
    cfg->nthreads = 1;
    cfg->seconds = 3;
    cfg->warmup = 1;
    cfg->repeat = 1;
    cfg->modes[0] = WARP_PHYSICS_FULL;
    cfg->nmodes = 1;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(usage_text, stdout);
            printf("Engines built into this binary:");
            for (const char *const *n = engine_names; *n != NULL; n++)
                if (engine_built(*n))
                    printf(" %s", *n);
            printf("\n");
            return -1;
        }
        if (strcmp(arg, "--keep") == 0) {
            cfg->keep = true;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0)
            return usage_error("unexpected argument '%s'", arg);
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        char flag[32];
        if (!takes_value(name, len) || len >= sizeof flag)
            return usage_error("unknown flag '%s' (with --engine)", arg);
        memcpy(flag, name, len);
        flag[len] = '\0';
        const char *v = eq ? eq + 1 : argv[++i];
        if (v == NULL || *v == '\0')
            return usage_error("missing value for %s", arg);
        int rc = set_flag(cfg, flag, v);
        if (rc != 0)
            return rc;
    }
    return check_config(cfg);
}

bool compare_wanted(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--engine", 8) == 0 || strncmp(a, "--plot", 6) == 0 ||
            strncmp(a, "--target-gb", 11) == 0)
            return true;
        const char *list = NULL;
        if (strcmp(a, "--workload") == 0 && i + 1 < argc)
            list = argv[i + 1];
        else if (strncmp(a, "--workload=", 11) == 0)
            list = a + 11;
        if (list != NULL && (strstr(list, "complex") || strstr(list, "large")))
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* Stores                                                                    */
/* ------------------------------------------------------------------------ */

static const char *fsync_label(const struct cmp_config *cfg)
{
    if (cfg->dir == NULL)
        return "none";
    return cfg->opts.fsync == WARP_FSYNC_ALWAYS  ? "always"
           : cfg->opts.fsync == WARP_FSYNC_NEVER ? "never"
                                                 : "everysec";
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    if (remove(path) != 0)
        fprintf(stderr, "warp bench: cannot remove %s: %s\n", path,
                strerror(errno));
    return 0;
}

/* DIR/<engine>-<workload>, malloc'd, or NULL in memory. */
static char *store_dir(const struct cmp *c, unsigned e, enum cmp_workload wl)
{
    if (c->cfg.dir == NULL)
        return NULL;
    size_t len = strlen(c->cfg.dir) + 40;
    char *p = malloc(len);
    if (p != NULL)
        snprintf(p, len, "%s/%s-%s", c->cfg.dir, c->cfg.engines[e]->name,
                 cw_names[wl]);
    return p;
}

/* The bytes of keys and values a workload's data set holds. */
static uint64_t data_size(const struct cmp *c, enum cmp_workload wl)
{
    if (wl == CW_COMPLEX)
        return c->large.key_bytes + c->large.value_bytes;
    return (uint64_t)c->cfg.keys * (c->cfg.value_size + 20);
}

/* Open engine e's store for workload wl into *out. Returns 0 or 1. */
static int open_store(const struct cmp *c, unsigned e, enum cmp_workload wl,
                      engine **out)
{
    const engine_ops *ops = c->cfg.engines[e];
    char *dir = store_dir(c, e, wl);
    *out = NULL;
    if (c->cfg.dir != NULL && (dir == NULL || mkdir(dir, 0755) != 0)) {
        fprintf(stderr, "warp bench: cannot create %s: %s\n",
                dir ? dir : "a store directory", strerror(errno));
        free(dir);
        return 1;
    }
    warp_options o = c->cfg.opts;
    o.physics = c->cfg.modes[0];
    engine_config ec = {.dir = dir,
                        .fsync = c->cfg.opts.fsync,
                        .data_size = data_size(c, wl),
                        .warp = &o};
    int rc = ops->open(&ec, out);
    free(dir);
    return rc == WARP_OK ? 0 : 1;
}

static void close_store(const struct cmp *c, unsigned e, enum cmp_workload wl,
                        engine *eng)
{
    c->cfg.engines[e]->close(eng);
    char *dir = store_dir(c, e, wl);
    if (dir != NULL && !c->cfg.keep)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* Preload N keys of `layout` with the engine's batch write. */
static int load_keys(const struct cmp *c, const engine_ops *ops, engine *eng,
                     enum key_layout layout, const char *label)
{
    warp_put_item items[PRELOAD_CHUNK];
    char keys[PRELOAD_CHUNK][KEY_BUF];
    uint32_t n = c->cfg.keys;
    for (uint64_t base = 0; base < n; base += PRELOAD_CHUNK) {
        size_t m = n - base < PRELOAD_CHUNK ? n - base : PRELOAD_CHUNK;
        for (size_t i = 0; i < m; i++) {
            uint32_t k = (uint32_t)(base + i);
            items[i] = (warp_put_item){.key = keys[i],
                                       .klen = key_write(keys[i], layout, k),
                                       .val = value_of(c->pattern, k),
                                       .vlen = c->cfg.value_size};
        }
        if (ops->load(eng, items, m) != WARP_OK)
            return 1;
        progress_draw(label, (double)base + m, n, "", false);
    }
    return 0;
}

/* Load the large data set as upstream does: one put per entry, in order,
 * on one thread. */
static int load_large(const struct cmp *c, const engine_ops *ops, engine *eng,
                      const char *label)
{
    const large_dataset *ds = &c->large;
    ethread *t = ops->thread_open(eng);
    char key[LARGE_KEY_BUF];
    int rc = WARP_OK;
    if (t == NULL)
        return 1;
    for (uint64_t j = 0; j < ds->entries && rc == WARP_OK; j++) {
        size_t vlen;
        const char *v = large_value(ds, j, &vlen);
        rc = ops->put(t, key, large_entry_key(key, j), v, vlen);
        if ((j & 1023) == 0)
            progress_draw(label, (double)j, (double)ds->entries, "", false);
    }
    ops->thread_close(t);
    return rc == WARP_OK ? 0 : 1;
}

static int load_store(struct cmp *c, unsigned e, enum cmp_workload wl,
                      engine *eng)
{
    const engine_ops *ops = c->cfg.engines[e];
    struct load *ld = &c->loads[c->nloads];
    char label[64];
    snprintf(label, sizeof label, "loading %s %s", ops->name, cw_names[wl]);
    *ld = (struct load){.wl = wl, .engine = e};
    uint64_t t0 = now_ns();
    int rc =
        wl == CW_COMPLEX
            ? load_large(c, ops, eng, label)
            : load_keys(c, ops, eng,
                        wl == CW_MIXED ? LAYOUT_RELATED : LAYOUT_FLAT, label);
    progress_clear();
    if (rc != 0)
        return 1;
    ld->seconds = (double)(now_ns() - t0) / 1e9;
    ld->puts = wl == CW_COMPLEX ? c->large.entries : c->cfg.keys;
    t0 = now_ns();
    if (ops->settle(eng) != WARP_OK)
        return 1;
    ld->settle_seconds = (double)(now_ns() - t0) / 1e9;
    ld->store_bytes = ops->size(eng);
    c->nloads++;
    printf("load %-7s %-7s %9llu puts in %7.3f s: %10.0f puts/s %s; settled "
           "in %.3f s; %.1f MiB %s\n",
           cw_names[wl], ops->name, (unsigned long long)ld->puts, ld->seconds,
           (double)ld->puts / ld->seconds,
           wl == CW_COMPLEX ? "(one put per call)" : "(batched)",
           ld->settle_seconds, (double)ld->store_bytes / 1048576.0,
           strcmp(ops->name, "warp") == 0 && c->cfg.dir == NULL ? "in memory"
                                                                : "stored");
    fflush(stdout);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Windows                                                                   */
/* ------------------------------------------------------------------------ */

static const char *mode_name(int mode)
{
    return mode < 0 ? "none" : warp_physics_mode_name((warp_physics_mode)mode);
}

static void print_header(void)
{
    printf("%-8s %-8s %-8s %7s %3s %12s %8s %9s %5s %8s %8s %8s  %s\n",
           "workload", "engine", "physics", "threads", "run", "ops", "seconds",
           "ops/s", "cores", "p50 us", "p99 us", "p99.9 us",
           "gets/puts/reads/qgets");
}

static void print_row(const struct cmp *c, const struct row *r)
{
    printf("%-8s %-8s %-8s %7u %3u %12llu %8.3f %9.0f %5.2f %8.3f %8.3f %8.3f  "
           "%llu/%llu/%llu/%llu\n",
           cw_names[r->wl], c->cfg.engines[r->who.engine]->name,
           mode_name(r->who.mode), r->threads, r->run,
           (unsigned long long)r->st.ops, r->st.seconds, r->st.ops_per_sec,
           r->st.cores, r->st.p50_us, r->st.p99_us, r->st.p999_us,
           (unsigned long long)r->st.gets, (unsigned long long)r->st.puts,
           (unsigned long long)r->st.reads, (unsigned long long)r->st.qgets);
    fflush(stdout);
}

/* One warmup and one measured window of runner `who`. */
static int run_window(struct cmp *c, engine *eng, enum cmp_workload wl,
                      struct runner who, unsigned threads, unsigned rep)
{
    const engine_ops *ops = c->cfg.engines[who.engine];
    char label[96];
    if (who.mode >= 0 &&
        ops->physics(eng, (warp_physics_mode)who.mode) != WARP_OK)
        return 1;
    struct cmp_spec spec = {.ops = ops,
                            .eng = eng,
                            .workload = wl,
                            .keys = c->cfg.keys,
                            .value_size = c->cfg.value_size,
                            .pattern = c->pattern,
                            .large = &c->large,
                            .threads = threads,
                            .label = label};
    struct cmp_stats st;
    uint64_t seed = ((uint64_t)wl << 40) ^ ((uint64_t)threads << 20) ^ rep;
    if (c->cfg.warmup > 0) {
        snprintf(label, sizeof label, "warmup %s %s %ut", ops->name,
                 cw_names[wl], threads);
        spec.seconds = c->cfg.warmup;
        spec.seed = seed ^ 0x5741524d55500000ull; /* "WARMUP" */
        if (cmp_run(&spec, &st) != 0)
            return 1;
    }
    snprintf(label, sizeof label, "%s %s %ut run %u", ops->name, cw_names[wl],
             threads, rep + 1);
    spec.seconds = c->cfg.seconds;
    spec.seed = seed;
    uint64_t dropped = ops->facts_dropped ? ops->facts_dropped(eng) : 0;
    if (cmp_run(&spec, &st) != 0 || ops->quiesce(eng) != WARP_OK)
        return 1;
    struct row *r = &c->rows[c->nrows++];
    *r = (struct row){.wl = wl,
                      .who = who,
                      .threads = threads,
                      .run = rep + 1,
                      .st = st,
                      .dropped =
                          ops->facts_dropped
                              ? (double)(ops->facts_dropped(eng) - dropped)
                              : NAN};
    print_row(c, r);
    return 0;
}

/* Every store of workload wl: open and load them all, run every window
 * with the engines and the thread counts taking turns, close them. */
static int run_workload(struct cmp *c, enum cmp_workload wl)
{
    engine *eng[MAX_ENGINES] = {NULL};
    int status = 1;
    for (unsigned e = 0; e < c->cfg.nengines; e++)
        if (open_store(c, e, wl, &eng[e]) != 0 ||
            load_store(c, e, wl, eng[e]) != 0)
            goto out;
    printf("\n");
    print_header();
    for (unsigned rep = 0; rep < c->cfg.repeat; rep++)
        for (unsigned t = 0; t < c->cfg.nthreads; t++)
            for (unsigned i = 0; i < c->nrunners; i++) {
                struct runner who = c->runners[(i + rep) % c->nrunners];
                if (run_window(c, eng[who.engine], wl, who, c->cfg.threads[t],
                               rep) != 0)
                    goto out;
            }
    printf("\n");
    status = 0;
out:
    for (unsigned e = 0; e < c->cfg.nengines; e++)
        if (eng[e] != NULL)
            close_store(c, e, wl, eng[e]);
    return status;
}

/* ------------------------------------------------------------------------ */
/* Medians, the comparison and the targets                                   */
/* ------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median ops/s of a cell's repetitions, NAN if it has none. */
static double cell_median(const struct cmp *c, enum cmp_workload wl,
                          struct runner who, unsigned threads)
{
    double v[MAX_REPEAT];
    size_t n = 0;
    for (size_t i = 0; i < c->nrows && n < MAX_REPEAT; i++) {
        const struct row *r = &c->rows[i];
        if (r->wl == wl && r->who.engine == who.engine &&
            r->who.mode == who.mode && r->threads == threads)
            v[n++] = r->st.ops_per_sec;
    }
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

static bool is_warp(const struct cmp *c, struct runner who)
{
    return strcmp(c->cfg.engines[who.engine]->name, "warp") == 0;
}

/* The first warp runner (the reference of the ratios), or -1. */
static int warp_runner(const struct cmp *c)
{
    for (unsigned i = 0; i < c->nrunners; i++)
        if (is_warp(c, c->runners[i]))
            return (int)i;
    return -1;
}

static void print_comparison(const struct cmp *c)
{
    int wr = warp_runner(c);
    printf("medians of %u run%s; x seed = ops/s / the seed's measured 1,038; "
           "warp/this = warp%s%s's median / this one's\n",
           c->cfg.repeat, c->cfg.repeat == 1 ? "" : "s",
           wr >= 0 && c->cfg.nmodes > 1 ? " " : "",
           wr >= 0 && c->cfg.nmodes > 1 ? mode_name(c->runners[wr].mode) : "");
    printf("%-8s %7s %-8s %-8s %10s %9s %9s %9s\n", "workload", "threads",
           "engine", "physics", "ops/s", "x seed", "warp/this", "x 1st t");
    for (unsigned w = 0; w < c->cfg.nworkloads; w++) {
        enum cmp_workload wl = c->cfg.workloads[w];
        for (unsigned t = 0; t < c->cfg.nthreads; t++) {
            double ref =
                wr >= 0 ? cell_median(c, wl, c->runners[wr], c->cfg.threads[t])
                        : NAN;
            for (unsigned i = 0; i < c->nrunners; i++) {
                struct runner who = c->runners[i];
                double m = cell_median(c, wl, who, c->cfg.threads[t]);
                double first = cell_median(c, wl, who, c->cfg.threads[0]);
                printf("%-8s %7u %-8s %-8s %10.0f %8.0fx %9.2f %8.2fx\n",
                       cw_names[wl], c->cfg.threads[t],
                       c->cfg.engines[who.engine]->name, mode_name(who.mode), m,
                       m / SEED_1, ref / m, m / first);
            }
        }
    }
}

/* The targets, each checked if this run measured it. */
struct target {
    char what[160];
    double measured, want;
    bool met;
};

static size_t add_target(struct target *t, size_t n, double measured,
                         double want, const char *fmt, const char *a,
                         unsigned threads)
{
    if (isnan(measured))
        return n;
    snprintf(t[n].what, sizeof t[n].what, fmt, a, threads);
    t[n].measured = measured;
    t[n].want = want;
    t[n].met = measured >= want;
    return n + 1;
}

/* Fill t (room for 64) with the targets this run can check. */
static size_t targets(const struct cmp *c, struct target *t)
{
    static const double absolute[CW_COUNT] = {2.5e6, 1.5e6, 1e6};
    size_t n = 0;
    int wr = warp_runner(c);
    if (wr < 0 || c->cfg.threads[0] != 1)
        return 0;
    struct runner warp = c->runners[wr];
    for (unsigned w = 0; w < c->cfg.nworkloads; w++) {
        enum cmp_workload wl = c->cfg.workloads[w];
        double one = cell_median(c, wl, warp, 1);
        n = add_target(t, n, one, absolute[wl], "%s, warp, %u thread: ops/s",
                       cw_names[wl], 1);
        for (unsigned i = 1; wl == CW_COMPLEX && i < c->cfg.nthreads; i++)
            if (c->cfg.threads[i] == 2)
                n = add_target(t, n, cell_median(c, wl, warp, 2) / one, 1.8,
                               "%s, warp, %u threads / 1 thread", cw_names[wl],
                               2);
        for (unsigned i = 0; i < c->nrunners; i++) {
            struct runner who = c->runners[i];
            const char *name = c->cfg.engines[who.engine]->name;
            if (is_warp(c, who))
                continue;
            double want = strcmp(name, "lmdb") == 0 ? 2 : 5;
            for (unsigned k = 0; k < c->cfg.nthreads && n < 60; k++) {
                unsigned th = c->cfg.threads[k];
                char fmt[96];
                snprintf(fmt, sizeof fmt, "%%s, warp / %s, %%u thread%s", name,
                         th == 1 ? "" : "s");
                n = add_target(t, n,
                               cell_median(c, wl, warp, th) /
                                   cell_median(c, wl, who, th),
                               want, fmt, cw_names[wl], th);
            }
        }
    }
    return n;
}

static void print_targets(const struct cmp *c)
{
    struct target t[64];
    size_t n = targets(c, t);
    if (n == 0)
        return;
    printf("\nissue 7's targets, as run here (warp physics %s, fsync %s, "
           "%u keys, target-gb %g):\n",
           mode_name(c->runners[warp_runner(c)].mode), fsync_label(&c->cfg),
           c->cfg.keys, c->cfg.target_gb);
    for (size_t i = 0; i < n; i++)
        printf("  %-44s %12.2f  >= %-9g %s\n", t[i].what, t[i].measured,
               t[i].want, t[i].met ? "met" : "NOT met");
    double dropped = 0;
    unsigned windows = 0;
    for (size_t i = 0; i < c->nrows; i++)
        if (is_warp(c, c->rows[i].who) && isfinite(c->rows[i].dropped)) {
            dropped += c->rows[i].dropped;
            windows++;
        }
    printf("  (physics facts dropped, rings full: %.0f in warp's %u measured "
           "windows)\n",
           dropped, windows);
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                      */
/* ------------------------------------------------------------------------ */

static void json_num(FILE *f, const char *name, double v, int decimals)
{
    fprintf(f, ",\"%s\":", name);
    if (isfinite(v))
        fprintf(f, "%.*f", decimals, v);
    else
        fputs("null", f);
}

/* The bytes of the names of keys 0 .. n-1 in `layout`. */
static uint64_t key_bytes(uint32_t n, enum key_layout layout)
{
    if (layout == LAYOUT_FLAT)
        return (uint64_t)n * (key_prefixes[0].len + KEY_DIGITS);
    uint64_t sum = 0;
    for (uint32_t t = 0; t < RELATED_KEYS; t++)
        sum += (uint64_t)(n / RELATED_KEYS + (t < n % RELATED_KEYS)) *
               (key_prefixes[1 + t].len + KEY_DIGITS);
    return sum;
}

static void json_dataset(FILE *f, const struct cmp *c, enum cmp_workload wl)
{
    if (wl == CW_COMPLEX) {
        const large_dataset *ds = &c->large;
        fprintf(f,
                "{\"name\":\"large\",\"target_gb\":%g,\"n\":%u,\"ids\":%u,"
                "\"entries\":%llu,\"keys\":%llu,\"key_bytes\":%llu,"
                "\"value_bytes\":%llu}",
                ds->target_gb, ds->n, ds->q, (unsigned long long)ds->entries,
                (unsigned long long)ds->keys, (unsigned long long)ds->key_bytes,
                (unsigned long long)ds->value_bytes);
        return;
    }
    fprintf(f,
            "{\"name\":\"%s\",\"keys\":%u,\"value_size\":%zu,"
            "\"key_bytes\":%llu,\"value_bytes\":%llu}",
            wl == CW_MIXED ? "related" : "flat", c->cfg.keys, c->cfg.value_size,
            (unsigned long long)key_bytes(
                c->cfg.keys, wl == CW_MIXED ? LAYOUT_RELATED : LAYOUT_FLAT),
            (unsigned long long)c->cfg.keys * c->cfg.value_size);
}

static void json_row(FILE *f, const struct cmp *c, const struct row *r)
{
    const char *mode = mode_name(r->who.mode);
    fprintf(f, "{\"workload\":\"%s\",\"engine\":\"%s\"", cw_names[r->wl],
            c->cfg.engines[r->who.engine]->name);
    fprintf(f,
            ",\"threads\":%u,\"physics\":\"%s\",\"mode\":\"%s\",\"run\":%u,"
            "\"fsync\":\"%s\",\"dist\":\"uniform\",\"zipf_s\":null,"
            "\"layout\":\"%s\",\"ops\":%llu",
            r->threads, mode, mode, r->run, fsync_label(&c->cfg),
            r->wl == CW_COMPLEX ? "large"
            : r->wl == CW_MIXED ? "related"
                                : "flat",
            (unsigned long long)r->st.ops);
    json_num(f, "seconds", r->st.seconds, 6);
    json_num(f, "ops_per_sec", r->st.ops_per_sec, 1);
    json_num(f, "worker_cores", r->st.cores, 3);
    json_num(f, "vs_off", NAN, 0);
    json_num(f, "physics_cpu", NAN, 0);
    json_num(f, "facts_dropped", r->dropped, 0);
    json_num(f, "p50_us", r->st.p50_us, 4);
    json_num(f, "p99_us", r->st.p99_us, 4);
    json_num(f, "p999_us", r->st.p999_us, 4);
    json_num(f, "bytes_per_key", NAN, 0);
    fprintf(f,
            ",\"calls\":{\"get\":%llu,\"put\":%llu,\"get_many\":%llu,"
            "\"quantum_get\":%llu},\"dataset\":",
            (unsigned long long)r->st.gets, (unsigned long long)r->st.puts,
            (unsigned long long)r->st.reads, (unsigned long long)r->st.qgets);
    json_dataset(f, c, r->wl);
    fputc('}', f);
}

static void json_summary(FILE *f, const struct cmp *c)
{
    bool first = true;
    int wr = warp_runner(c);
    for (unsigned w = 0; w < c->cfg.nworkloads; w++)
        for (unsigned t = 0; t < c->cfg.nthreads; t++)
            for (unsigned i = 0; i < c->nrunners; i++) {
                enum cmp_workload wl = c->cfg.workloads[w];
                struct runner who = c->runners[i];
                double m = cell_median(c, wl, who, c->cfg.threads[t]);
                double ref = wr >= 0 ? cell_median(c, wl, c->runners[wr],
                                                   c->cfg.threads[t])
                                     : NAN;
                fprintf(f,
                        "%s{\"workload\":\"%s\",\"engine\":\"%s\","
                        "\"threads\":%u,\"mode\":\"%s\",\"fsync\":\"%s\","
                        "\"runs\":%u",
                        first ? "" : ",", cw_names[wl],
                        c->cfg.engines[who.engine]->name, c->cfg.threads[t],
                        mode_name(who.mode), fsync_label(&c->cfg),
                        c->cfg.repeat);
                json_num(f, "ops_per_sec", m, 1);
                json_num(f, "vs_off", NAN, 0);
                json_num(f, "vs_seed", m / SEED_1, 1);
                json_num(f, "warp_vs_this", ref / m, 3);
                fputc('}', f);
                first = false;
            }
}

static void json_loads(FILE *f, const struct cmp *c)
{
    for (size_t i = 0; i < c->nloads; i++) {
        const struct load *l = &c->loads[i];
        fprintf(f,
                "%s{\"workload\":\"%s\",\"engine\":\"%s\",\"puts\":%llu,"
                "\"one_put_per_call\":%s",
                i ? "," : "", cw_names[l->wl], c->cfg.engines[l->engine]->name,
                (unsigned long long)l->puts,
                l->wl == CW_COMPLEX ? "true" : "false");
        json_num(f, "seconds", l->seconds, 6);
        json_num(f, "puts_per_sec", (double)l->puts / l->seconds, 1);
        json_num(f, "settle_seconds", l->settle_seconds, 6);
        fprintf(f, ",\"store_bytes\":%llu}",
                (unsigned long long)l->store_bytes);
    }
}

static void json_targets(FILE *f, const struct cmp *c)
{
    struct target t[64];
    size_t n = targets(c, t);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s{\"what\":\"%s\"", i ? "," : "", t[i].what);
        json_num(f, "measured", t[i].measured, 4);
        json_num(f, "want", t[i].want, 4);
        fprintf(f, ",\"met\":%s}", t[i].met ? "true" : "false");
    }
}

static void json_config(FILE *f, const struct cmp *c)
{
    fprintf(f,
            "\"config\":{\"seconds\":%g,\"warmup\":%g,\"repeat\":%u,"
            "\"fsync\":\"%s\",\"keys\":%u,\"value_size\":%zu,"
            "\"target_gb\":%g,\"shards\":%u,\"engines\":[",
            c->cfg.seconds, c->cfg.warmup, c->cfg.repeat, fsync_label(&c->cfg),
            c->cfg.keys, c->cfg.value_size, c->cfg.target_gb,
            c->cfg.opts.shards);
    for (unsigned e = 0; e < c->cfg.nengines; e++)
        fprintf(f, "%s{\"name\":\"%s\",\"settings\":\"%s\"}", e ? "," : "",
                c->cfg.engines[e]->name, c->cfg.engines[e]->settings);
    fprintf(f,
            "]},\"machine\":{\"cpus\":%ld,\"cpu\":\"%s\"},"
            "\"seed\":{\"measured_1_process\":%g,\"measured_4_processes\":%g,"
            "\"target_simple\":%g,\"target_mixed\":%g,\"target_complex\":%g}",
            sysconf(_SC_NPROCESSORS_ONLN), c->cpu, SEED_1, SEED_4,
            cw_seed_target[CW_SIMPLE], cw_seed_target[CW_MIXED],
            cw_seed_target[CW_COMPLEX]);
}

/* Write the JSON to path.tmp, then rename it. Returns 0 or 1 (reported). */
static int write_json(const struct cmp *c, const char *path)
{
    size_t len = strlen(path) + 5;
    char *tmp = malloc(len);
    FILE *f = NULL;
    if (tmp != NULL) {
        snprintf(tmp, len, "%s.tmp", path);
        f = fopen(tmp, "w");
    }
    if (f == NULL) {
        fprintf(stderr, "warp bench: cannot create %s.tmp: %s\n", path,
                strerror(errno));
        free(tmp);
        return 1;
    }
    fputs("{", f);
    json_config(f, c);
    fputs(",\"results\":[", f);
    for (size_t i = 0; i < c->nrows; i++) {
        if (i)
            fputc(',', f);
        json_row(f, c, &c->rows[i]);
    }
    fputs("],\"summary\":[", f);
    json_summary(f, c);
    fputs("],\"loads\":[", f);
    json_loads(f, c);
    fputs("],\"targets\":[", f);
    json_targets(f, c);
    fputs("]}\n", f);
    bool ok = !ferror(f);
    ok = fclose(f) == 0 && ok;
    if (ok && rename(tmp, path) == 0) {
        free(tmp);
        return 0;
    }
    fprintf(stderr, "warp bench: cannot write %s: %s\n", path, strerror(errno));
    remove(tmp);
    free(tmp);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* The plot                                                                  */
/* ------------------------------------------------------------------------ */

static int draw_plot(const struct cmp *c)
{
    struct plot_series s[CW_COUNT * MAX_RUNNERS];
    size_t n = 0;
    char sub[256];
    for (unsigned w = 0; w < c->cfg.nworkloads; w++)
        for (unsigned i = 0; i < c->nrunners; i++) {
            struct runner who = c->runners[i];
            struct plot_series *p = &s[n++];
            *p = (struct plot_series){
                .engine = c->cfg.engines[who.engine]->name,
                .workload = cw_names[c->cfg.workloads[w]],
                .mode = who.mode >= 0 ? mode_name(who.mode) : NULL};
            for (unsigned t = 0; t < c->cfg.nthreads && t < PLOT_MAX_POINTS;
                 t++) {
                p->threads[p->n] = c->cfg.threads[t];
                p->ops[p->n++] =
                    cell_median(c, c->cfg.workloads[w], who, c->cfg.threads[t]);
            }
        }
    snprintf(sub, sizeof sub,
             "median of %u x %g s; simple/mixed %u keys x %zu B; complex "
             "target-gb %g (%llu entries); fsync %s; %ld CPUs",
             c->cfg.repeat, c->cfg.seconds, c->cfg.keys, c->cfg.value_size,
             c->cfg.target_gb, (unsigned long long)c->large.entries,
             fsync_label(&c->cfg), sysconf(_SC_NPROCESSORS_ONLN));
    return plot_write(c->cfg.plot_path, s, n, sub);
}

/* ------------------------------------------------------------------------ */
/* The command                                                               */
/* ------------------------------------------------------------------------ */

static void read_cpu(char *out, size_t cap)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    snprintf(out, cap, "unknown");
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        const char *v = strchr(line, ':');
        if (v != NULL) {
            v += 1 + (v[1] == ' ');
            snprintf(out, cap, "%.*s", (int)strcspn(v, "\n\"\\"), v);
        }
        break;
    }
    if (f != NULL)
        fclose(f);
}

static void set_runners(struct cmp *c)
{
    for (unsigned e = 0; e < c->cfg.nengines; e++) {
        if (c->cfg.engines[e]->physics == NULL) {
            c->runners[c->nrunners++] = (struct runner){e, -1};
            continue;
        }
        for (unsigned m = 0; m < c->cfg.nmodes; m++)
            c->runners[c->nrunners++] =
                (struct runner){e, (int)c->cfg.modes[m]};
    }
}

static bool has(const struct cmp_config *cfg, enum cmp_workload wl)
{
    for (unsigned i = 0; i < cfg->nworkloads; i++)
        if (cfg->workloads[i] == wl)
            return true;
    return false;
}

static void print_banner(const struct cmp *c)
{
    printf("warp bench: engines");
    for (unsigned e = 0; e < c->cfg.nengines; e++)
        printf("%s%s", e ? "," : " ", c->cfg.engines[e]->name);
    printf("; %ux %.3g s windows after %.3g s of warmup; fsync %s%s%s; warp "
           "physics",
           c->cfg.repeat, c->cfg.seconds, c->cfg.warmup, fsync_label(&c->cfg),
           c->cfg.dir ? " on " : " (in memory)", c->cfg.dir ? c->cfg.dir : "");
    for (unsigned m = 0; m < c->cfg.nmodes; m++)
        printf("%s%s", m ? "," : " ", mode_name((int)c->cfg.modes[m]));
    printf(", %u shards\nmachine: %ld CPUs, %s\n", c->cfg.opts.shards,
           sysconf(_SC_NPROCESSORS_ONLN), c->cpu);
    if (has(&c->cfg, CW_SIMPLE) || has(&c->cfg, CW_MIXED))
        printf("simple, mixed: %u keys of %zu-byte values\n", c->cfg.keys,
               c->cfg.value_size);
    if (c->large_built)
        printf("complex: --target-gb %g: N = %u, Q = %u ids, %llu entries, "
               "%llu distinct keys, %.1f MiB of JSON values (%.0f bytes "
               "average)\n",
               c->large.target_gb, c->large.n, c->large.q,
               (unsigned long long)c->large.entries,
               (unsigned long long)c->large.keys,
               (double)c->large.value_bytes / 1048576.0,
               (double)c->large.value_bytes / (double)c->large.entries);
    for (unsigned e = 0; e < c->cfg.nengines; e++)
        printf("  %-7s %s\n", c->cfg.engines[e]->name,
               c->cfg.engines[e]->settings);
    printf("\n");
}

/* Everything between the parsed arguments and the report. */
static int run_all(struct cmp *c)
{
    size_t max_rows = (size_t)c->cfg.nworkloads * c->cfg.nthreads *
                      c->cfg.repeat * c->nrunners;
    c->rows = calloc(max_rows, sizeof *c->rows);
    c->pattern = make_pattern(c->cfg.value_size);
    if (c->rows == NULL || c->pattern == NULL) {
        fprintf(stderr, "warp bench: out of memory\n");
        return 1;
    }
    if (has(&c->cfg, CW_COMPLEX)) {
        if (large_build(&c->large, c->cfg.target_gb) != 0)
            return 1;
        c->large_built = true;
    }
    print_banner(c);
    for (unsigned w = 0; w < c->cfg.nworkloads; w++)
        if (run_workload(c, c->cfg.workloads[w]) != 0)
            return 1;
    print_comparison(c);
    print_targets(c);
    if (c->cfg.json_path != NULL && write_json(c, c->cfg.json_path) != 0)
        return 1;
    if (c->cfg.plot_path != NULL) {
        if (draw_plot(c) != 0)
            return 1;
        printf("\nplot: %s\n", c->cfg.plot_path);
    }
    return 0;
}

int compare_main(int argc, char **argv)
{
    struct cmp *c = calloc(1, sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "warp bench: out of memory\n");
        return 1;
    }
    int status = parse_args(argc, argv, &c->cfg);
    if (status != 0) {
        free(c);
        return status < 0 ? 0 : status;
    }
    read_cpu(c->cpu, sizeof c->cpu);
    set_runners(c);
    bool dir_ready = false;
    if (c->cfg.dir != NULL) {
        status = benchdir_prepare(c->cfg.dir, &c->dir_created);
        if (status != 0)
            goto out;
        dir_ready = true;
    }
    status = run_all(c);
out:
    if (dir_ready && c->cfg.keep)
        printf("the stores are kept in %s\n", c->cfg.dir);
    else if (dir_ready && !benchdir_remove(c->cfg.dir, c->dir_created) &&
             status == 0)
        status = 1;
    if (c->large_built)
        large_free(&c->large);
    free(c->pattern);
    free(c->rows);
    free(c);
    return status;
}
