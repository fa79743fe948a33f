/*
 * qget.c - `warp bench --workload qget`: is reading a key with its related
 * keys in one warp_quantum_get() faster than reading them one by one?
 *
 * THE STORE
 *   An in-memory store (options from --shards and --opt), preloaded with
 *   the related layout of keygen.h: N/4 ids, each with the four keys
 *   user:<id>, profile:<id>, settings:<id> and sessions:<id>, B-byte
 *   values. With the default entanglement rules (user:* -> profile:*,
 *   settings:*, sessions:*) user:<id> has exactly those three partners,
 *   and the default co-location puts the four keys in one slot. No edge is
 *   stored: the partners are the rules'. --preload ids (the default, the
 *   shared workload_preload()) writes the four keys of an id one after
 *   the other, so their items lie side by side in the slab and the
 *   hardware prefetcher helps the four gets; --preload types writes every
 *   user: key, then every profile: key, ..., as keys created at different
 *   times would lie: the four items of an id are far apart.
 *
 * THE TWO ROWS (each run: T threads for S seconds, ids drawn uniformly)
 *   qget  warp_quantum_get(user:<id>, 10, 0.1): the value and the three
 *         partners' values, copied into one malloc'd result (freed each
 *         time). Each call must return 3 partners, all found, with B-byte
 *         values.
 *   get4  warp_get() of user:<id>, profile:<id>, settings:<id> and
 *         sessions:<id> into a per-thread buffer; each must find B bytes.
 *   Both count 4 keys fetched per call: the rows compare keys/s. One call
 *   in BENCH_SAMPLE is timed (p50/p99 are per call), and one in 256 also
 *   has its values (and qget its partners' keys) compared with the
 *   preloaded bytes. Each repetition runs
 *   both rows, in alternating order, so neither always runs first.
 *
 * THE RATIO
 *   qget keys/s over get4 keys/s: per repetition, and the ratio of the
 *   medians over --repeat R repetitions. The target is >= 2.
 */
#include "qget.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hist.h"
#include "keygen.h"
#include "warp.h"
#include "workload.h"

#define QG_MAX_THREADS 256
#define QG_MAX_REPEAT  100
#define QG_CHECK_EVERY 256 /* calls between two value comparisons */
#define QG_PARTNERS    3

enum qrow { ROW_QGET, ROW_GET4, ROWS };
static const char *const row_names[ROWS] = {"qget", "get4"};

struct qcfg {
    uint32_t keys; /* a multiple of 4 */
    size_t value_size;
    unsigned threads;
    double seconds;
    unsigned repeat;
    bool by_type; /* --preload types */
    warp_options opts;
};

static const char usage_text[] =
    "usage: warp bench --workload qget [--keys N] [--value-size B]\n"
    "                  [--threads T] [--seconds S] [--repeat R]\n"
    "                  [--physics MODE] [--shards N] [--opt NAME=VALUE]...\n"
    "\n"
    "Preload N keys as N/4 ids of user:, profile:, settings: and sessions:\n"
    "(the default entanglement rules relate user:<id> to the other three),\n"
    "then per repetition run two rows for S seconds each with T threads:\n"
    "  qget  warp_quantum_get(user:<id>): the value and its 3 partners\n"
    "  get4  warp_get() of the same 4 keys, one by one\n"
    "Both count keys fetched per second (4 per call); p50/p99 are per call.\n"
    "The last line is qget keys/s over get4 keys/s (medians over R).\n"
    "\n"
    "  --keys N        keys, a multiple of 4 (default 1000000)\n"
    "  --value-size B  value bytes (default 100)\n"
    "  --threads T     one thread count, 1..256 (default 1)\n"
    "  --seconds S     seconds per row, > 0 (default 3)\n"
    "  --repeat R      repetitions, 1..100 (default 1)\n"
    "  --preload ORDER ids (default): the 4 keys of id 0, then of id 1, ...\n"
    "                  (written together, their items lie side by side);\n"
    "                  types: every user:, then every profile:, ... (the\n"
    "                  4 keys of an id far apart in memory)\n"
    "  --physics MODE  off (default), adaptive or full\n"
    "  --shards N      the same as --opt shards=N\n"
    "  --opt N=V       an engine option\n"
    "Exit status: 0 on success, 1 if the benchmark failed, 2 for bad usage.\n";

static int usage(const char *what, const char *arg)
{
    fprintf(stderr, "warp bench: qget: %s '%s'\nTry `warp bench --help`.\n",
            what, arg);
    return 2;
}

static bool parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;

    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

/* One flag and its value; returns 0, or 2 after reporting bad usage. */
static int set_flag(struct qcfg *c, const char *flag, const char *v)
{
    double d;

    if (strcmp(flag, "--workload") == 0)
        return strcmp(v, "qget") ? usage("qget runs alone, not with", v) : 0;
    if (strcmp(flag, "--opt") == 0)
        return cli_set_opt(&c->opts, "bench", v) ? 0 : 2;
    if (strcmp(flag, "--shards") == 0)
        return cli_apply_opt(&c->opts, "bench", flag, "shards", v) ? 0 : 2;
    if (strcmp(flag, "--physics") == 0)
        return cli_apply_opt(&c->opts, "bench", flag, "physics", v) ? 0 : 2;
    if (strcmp(flag, "--preload") == 0 &&
        (strcmp(v, "ids") == 0 || strcmp(v, "types") == 0))
        return c->by_type = v[0] == 't', 0;
    if (strcmp(flag, "--keys") == 0 && parse_num(v, 4, UINT32_MAX, &d) &&
        fmod(d, 4) == 0)
        return c->keys = (uint32_t)d, 0;
    if (strcmp(flag, "--value-size") == 0 && parse_num(v, 0, 1u << 26, &d) &&
        d == floor(d))
        return c->value_size = (size_t)d, 0;
    if (strcmp(flag, "--threads") == 0 && parse_num(v, 1, QG_MAX_THREADS, &d) &&
        d == floor(d))
        return c->threads = (unsigned)d, 0;
    if (strcmp(flag, "--seconds") == 0 && parse_num(v, 1e-3, 1e6, &d))
        return c->seconds = d, 0;
    if (strcmp(flag, "--repeat") == 0 && parse_num(v, 1, QG_MAX_REPEAT, &d) &&
        d == floor(d))
        return c->repeat = (unsigned)d, 0;
    return usage(strncmp(flag, "--", 2) ? "unexpected argument"
                                        : "bad flag or value for",
                 flag);
}

/* Returns 0, -1 after printing the help, or 2 for bad usage. */
static int parse(int argc, char **argv, struct qcfg *c)
{
    *c = (struct qcfg){.keys = 1000000,
                       .value_size = 100,
                       .threads = 1,
                       .seconds = 3,
                       .repeat = 1};
    warp_options_init(&c->opts);
    c->opts.physics = WARP_PHYSICS_OFF;
    for (int i = 1; i < argc; i++) {
        char flag[64];
        const char *v, *eq = strchr(argv[i], '=');
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_text, stdout);
            return -1;
        }
        if (strncmp(argv[i], "--", 2) == 0 && eq &&
            (size_t)(eq - argv[i]) < sizeof(flag)) {
            memcpy(flag, argv[i], (size_t)(eq - argv[i]));
            flag[eq - argv[i]] = '\0';
            v = eq + 1;
        } else if (i + 1 < argc && strlen(argv[i]) < sizeof(flag)) {
            strcpy(flag, argv[i]);
            v = argv[++i];
        } else {
            return usage("bad flag or missing value", argv[i]);
        }
        int rc = set_flag(c, flag, v);
        if (rc)
            return rc;
    }
    return 0;
}

bool qget_wanted(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--workload=qget") == 0)
            return true;
        if (strcmp(argv[i], "--workload") == 0 && i + 1 < argc &&
            strcmp(argv[i + 1], "qget") == 0)
            return true;
    }
    return false;
}

/* Preload type by type: every user:<id>, then every profile:<id>, ...
 * (keys and values as workload_preload() makes them). */
static int preload_by_type(warp_db *db, const struct qcfg *cfg,
                           const uint8_t *pattern)
{
    warp_put_item *items = calloc(PRELOAD_CHUNK, sizeof(*items));
    char(*keys)[KEY_BUF] = malloc(PRELOAD_CHUNK * sizeof(*keys));
    uint32_t ids = cfg->keys / RELATED_KEYS;
    int rc = items && keys ? WARP_OK : WARP_ENOMEM;

    for (uint32_t t = 0; rc == WARP_OK && t < RELATED_KEYS; t++)
        for (uint32_t id = 0; rc == WARP_OK && id < ids;) {
            size_t n = 0;
            for (; n < PRELOAD_CHUNK && id < ids; n++, id++) {
                uint32_t k = id * RELATED_KEYS + t;
                items[n] = (warp_put_item){
                    .key = keys[n],
                    .klen = key_write(keys[n], LAYOUT_RELATED, k),
                    .val = value_of(pattern, k),
                    .vlen = cfg->value_size};
            }
            rc = warp_put_batch(db, items, n, NULL);
        }
    if (rc != WARP_OK)
        fprintf(stderr, "warp bench: qget: preload: %s\n", warp_strerror(rc));
    free(keys);
    free(items);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Workers                                                                   */
/* ------------------------------------------------------------------------ */

struct qrun {
    warp_db *db;
    const struct qcfg *cfg;
    const uint8_t *pattern;
    enum qrow row;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool go;
    atomic_bool stop;
};

struct qworker {
    struct qrun *run;
    pthread_t tid;
    unsigned id;
    uint64_t calls, t0, t1;
    hist *h;
    bool failed;
    char why[160];
};

/* The key of type `type` (0 user, 1 profile, 2 settings, 3 sessions) of
 * `id`, into buf; its length. */
static size_t key_of(char *buf, uint32_t id, uint32_t type)
{
    return key_write(buf, LAYOUT_RELATED, id * RELATED_KEYS + type);
}

static bool value_ok(const struct qrun *r, uint32_t id, uint32_t type,
                     const void *v, size_t vlen, bool compare)
{
    if (vlen != r->cfg->value_size)
        return false;
    return !compare || vlen == 0 ||
           memcmp(v, value_of(r->pattern, id * RELATED_KEYS + type), vlen) == 0;
}

/* One quantum get of user:<id>; false (and why) if it is not as loaded. */
static bool call_qget(struct qworker *w, uint32_t id, bool compare)
{
    const struct qrun *r = w->run;
    char key[KEY_BUF];
    size_t klen = key_of(key, id, 0);
    warp_quantum_result *q = NULL;
    int rc = warp_quantum_get(r->db, key, klen, WARP_QUANTUM_MAX_DEFAULT,
                              WARP_QUANTUM_MIN_DEFAULT, &q);
    bool ok = rc == WARP_OK && q->npartners == QG_PARTNERS &&
              q->found == QG_PARTNERS &&
              value_ok(r, id, 0, q->value, q->vlen, compare);

    /* every call: three found partners with values of the loaded size;
     * with `compare`, also their keys and bytes (like get4's values) */
    for (uint32_t t = 1; ok && t <= QG_PARTNERS; t++) {
        const warp_quantum_partner *p = &q->partners[t - 1];
        char pk[KEY_BUF];
        size_t plen = compare ? key_of(pk, id, t) : 0;
        ok = value_ok(r, id, t, p->val, p->vlen, compare) &&
             (!compare || (p->klen == plen && memcmp(p->key, pk, plen) == 0));
    }
    if (!ok)
        snprintf(w->why, sizeof(w->why),
                 "quantum get of %.*s: %s, %zu partners, %zu found", (int)klen,
                 key, warp_strerror(rc), q ? q->npartners : 0,
                 q ? q->found : 0);
    warp_quantum_free(q);
    return ok;
}

/* Four gets of the keys of `id` into buf. */
static bool call_get4(struct qworker *w, uint32_t id, void *buf, bool compare)
{
    const struct qrun *r = w->run;

    for (uint32_t t = 0; t <= QG_PARTNERS; t++) {
        char key[KEY_BUF];
        size_t klen = key_of(key, id, t), vlen = 0;
        int rc =
            warp_get(r->db, key, klen, buf, r->cfg->value_size, &vlen, NULL);
        if (rc != WARP_OK || !value_ok(r, id, t, buf, vlen, compare)) {
            snprintf(w->why, sizeof(w->why), "get of %.*s: %s", (int)klen, key,
                     warp_strerror(rc));
            return false;
        }
    }
    return true;
}

static void *worker_main(void *arg)
{
    struct qworker *w = arg;
    struct qrun *r = w->run;
    uint32_t ids = r->cfg->keys / RELATED_KEYS;
    uint64_t rng = 0x9E3779B97F4A7C15ull * (w->id + 1) + r->row;
    void *buf = malloc(r->cfg->value_size ? r->cfg->value_size : 1);

    pthread_mutex_lock(&r->mu);
    while (!r->go)
        pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
    w->t0 = now_ns();
    while (buf && !w->failed &&
           !atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        for (unsigned i = 0; i < BENCH_BLOCK && !w->failed; i++, w->calls++) {
            uint32_t id = rand_below(&rng, ids);
            bool timed = w->calls % BENCH_SAMPLE == 0;
            bool compare = w->calls % QG_CHECK_EVERY == 0;
            uint64_t t = timed ? now_ns() : 0;
            bool ok = r->row == ROW_QGET ? call_qget(w, id, compare)
                                         : call_get4(w, id, buf, compare);
            if (timed)
                hist_record(w->h, now_ns() - t);
            w->failed = !ok;
        }
    }
    w->t1 = now_ns();
    if (!buf) {
        w->failed = true;
        snprintf(w->why, sizeof(w->why), "out of memory");
    }
    free(buf);
    return NULL;
}

struct qresult {
    double keys_per_sec, calls_per_sec, p50_us, p99_us;
};

/* Run `row` with the configured threads for the configured seconds. */
static int run_row(warp_db *db, const struct qcfg *cfg, const uint8_t *pattern,
                   enum qrow row, struct qresult *out)
{
    struct qrun r = {.db = db, .cfg = cfg, .pattern = pattern, .row = row};
    struct qworker *w = calloc(cfg->threads, sizeof(*w));
    hist *all = hist_new();
    unsigned started = 0;
    int status = 1;

    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    atomic_init(&r.stop, false);
    for (; w && all && started < cfg->threads; started++) {
        w[started] = (struct qworker){.run = &r, .id = started};
        if (!(w[started].h = hist_new()) ||
            pthread_create(&w[started].tid, NULL, worker_main, &w[started])) {
            hist_free(w[started].h);
            break;
        }
    }
    pthread_mutex_lock(&r.mu);
    r.go = true;
    pthread_cond_broadcast(&r.cv);
    pthread_mutex_unlock(&r.mu);
    struct timespec ts = {(time_t)cfg->seconds,
                          (long)(fmod(cfg->seconds, 1.0) * 1e9)};
    if (started == cfg->threads)
        nanosleep(&ts, NULL);
    atomic_store(&r.stop, true);
    uint64_t calls = 0, t0 = UINT64_MAX, t1 = 0;
    bool failed = started < cfg->threads;
    for (unsigned i = 0; i < started; i++) {
        pthread_join(w[i].tid, NULL);
        calls += w[i].calls;
        t0 = w[i].t0 < t0 ? w[i].t0 : t0;
        t1 = w[i].t1 > t1 ? w[i].t1 : t1;
        hist_merge(all, w[i].h);
        hist_free(w[i].h);
        if (w[i].failed && !failed)
            fprintf(stderr, "warp bench: qget: %s: %s\n", row_names[row],
                    w[i].why);
        failed = failed || w[i].failed;
    }
    if (failed && started < cfg->threads)
        fprintf(stderr, "warp bench: qget: cannot start the threads\n");
    if (!failed && t1 > t0) {
        double secs = (double)(t1 - t0) / 1e9;
        out->calls_per_sec = (double)calls / secs;
        out->keys_per_sec = out->calls_per_sec * (1 + QG_PARTNERS);
        out->p50_us = hist_percentile(all, 50) / 1000;
        out->p99_us = hist_percentile(all, 99) / 1000;
        status = 0;
    }
    hist_free(all);
    free(w);
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
    return status;
}

/* ------------------------------------------------------------------------ */
/* Report                                                                    */
/* ------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(const double *v, unsigned n)
{
    double s[QG_MAX_REPEAT];

    memcpy(s, v, n * sizeof(*s));
    qsort(s, n, sizeof(*s), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void print_row(enum qrow row, unsigned threads, unsigned rep,
                      const struct qresult *q, double ratio)
{
    printf("%-6s %7u %4u %12.0f %12.0f %8.3f %8.3f", row_names[row], threads,
           rep, q->keys_per_sec, q->calls_per_sec, q->p50_us, q->p99_us);
    if (row == ROW_QGET)
        printf(" %6.2f", ratio);
    putchar('\n');
}

static int run_all(warp_db *db, const struct qcfg *cfg, const uint8_t *pattern)
{
    double keys[ROWS][QG_MAX_REPEAT], ratio[QG_MAX_REPEAT];

    printf("%-6s %7s %4s %12s %12s %8s %8s %6s\n", "row", "threads", "run",
           "keys/s", "calls/s", "p50 us", "p99 us", "ratio");
    for (unsigned rep = 0; rep < cfg->repeat; rep++) {
        struct qresult res[ROWS];
        for (unsigned k = 0; k < ROWS; k++) {
            enum qrow row = (enum qrow)((k + rep) % ROWS); /* alternate */
            if (run_row(db, cfg, pattern, row, &res[row]))
                return 1;
            keys[row][rep] = res[row].keys_per_sec;
        }
        ratio[rep] = res[ROW_QGET].keys_per_sec / res[ROW_GET4].keys_per_sec;
        for (unsigned row = 0; row < ROWS; row++)
            print_row((enum qrow)row, cfg->threads, rep + 1, &res[row],
                      ratio[rep]);
        fflush(stdout);
    }
    double mq = median(keys[ROW_QGET], cfg->repeat);
    double mg = median(keys[ROW_GET4], cfg->repeat);
    printf("\nsummary: median of %u runs, keys fetched per second\n",
           cfg->repeat);
    printf("qget   %12.0f\nget4   %12.0f\n", mq, mg);
    printf("qget / get4: %.2f (per run:", mq / mg);
    for (unsigned rep = 0; rep < cfg->repeat; rep++)
        printf(" %.2f", ratio[rep]);
    printf("; target >= 2)\n");
    return 0;
}

int qget_main(int argc, char **argv)
{
    struct qcfg cfg;
    warp_db *db = NULL;
    int rc = parse(argc, argv, &cfg);

    if (rc)
        return rc < 0 ? 0 : rc;
    uint8_t *pattern = make_pattern(cfg.value_size);
    if (!pattern) {
        fprintf(stderr, "warp bench: qget: out of memory\n");
        return 1;
    }
    rc = warp_open(NULL, &cfg.opts, &db);
    if (rc != WARP_OK) {
        fprintf(stderr, "warp bench: qget: open: %s\n", warp_strerror(rc));
        free(pattern);
        return 1;
    }
    printf("warp bench: qget: %u keys (%u ids of user:, profile:, settings:, "
           "sessions:, written by %s), %zu-byte values, %u shards, %.3g s "
           "per row, %u thread(s), physics %s\n",
           cfg.keys, cfg.keys / RELATED_KEYS, cfg.by_type ? "type" : "id",
           cfg.value_size, warp_shard_count(db), cfg.seconds, cfg.threads,
           warp_physics_mode_name(warp_physics_get(db)));
    rc = cfg.by_type ? preload_by_type(db, &cfg, pattern)
                     : workload_preload(db, cfg.keys, LAYOUT_RELATED,
                                        cfg.value_size, pattern, 0);
    rc = rc == WARP_OK ? run_all(db, &cfg, pattern) : 1;
    warp_close(db);
    free(pattern);
    return rc;
}
