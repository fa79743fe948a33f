/*
 * test-series.c - time series (warp.h, "Time series"; docs/SERIES.md).
 *
 * Every answer is checked against a naive model: a sorted array of the
 * samples that should be visible, kept by the rules warp.h states (a
 * timestamp holds one sample, the last added; retention keeps ts >=
 * latest - R and refuses older adds). The data is random: timestamps in
 * order, out of order, descending and repeated, so chunks fill, split and
 * expire; reads are random gets, ranges with small pages, and every
 * aggregate with and without buckets, compared with a sample-by-sample
 * computation.
 *
 * Then: retention, stage labels at upstream's thresholds, restarts with a
 * data directory (before and after a checkpoint), what the loader
 * finishes after an interrupted write (records written by hand, in the
 * documented format), a child killed with SIGKILL mid-adds again and
 * again, dump/load (every pair copied to a fresh store as `warp
 * dump`/`warp load` do; and through the real binary when WARP_CLI names
 * it, as ctest does), `warp bench`'s series workloads, out of memory at
 * every allocation, and threads adding to their own series and to a
 * shared one while a reader watches.
 */
#include "testutil.h"
#include "durability.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define CHUNK_MAX 64 /* samples per chunk (docs/FORMATS.md) */

/* ------------------------------------------------------------------------ */
/* Random numbers and the model                                              */
/* ------------------------------------------------------------------------ */

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545F4914F6CDD1Dull;
}

/* A uniform integer in [lo, hi]. */
static int64_t rnd_in(uint64_t *x, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd(x) % (uint64_t)(hi - lo + 1));
}

static double rnd_value(uint64_t *x)
{
    if (rnd(x) % 4 == 0)
        return (double)rnd_in(x, -50, 50); /* ties for min and max */
    return ((double)(rnd(x) >> 11) / 9007199254740992.0 - 0.5) * 2000.0;
}

/* The samples a series should hold, sorted by timestamp. */
typedef struct model {
    warp_ts_sample *v;
    size_t n, cap;
    bool exists;    /* the series should exist */
    bool any;       /* a sample was ever added: `latest` is set */
    int64_t latest; /* the greatest timestamp ever added */
    int64_t retention;
} model;

static void model_free(model *m)
{
    free(m->v);
    memset(m, 0, sizeof(*m));
}

static size_t model_lower(const model *m, int64_t ts)
{
    size_t lo = 0, hi = m->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->v[mid].ts < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int64_t model_floor(const model *m)
{
    return m->any && m->retention > 0 ? m->latest - m->retention : INT64_MIN;
}

/* Drop what the retention no longer keeps. */
static void model_expire(model *m)
{
    size_t k = model_lower(m, model_floor(m));

    if (!k)
        return;
    memmove(m->v, m->v + k, (m->n - k) * sizeof(*m->v));
    m->n -= k;
}

/* What warp_ts_add should return, applied to the model. */
static int model_add(model *m, int64_t ts, double v)
{
    size_t i;

    if (m->any && ts < model_floor(m))
        return WARP_EINVAL;
    i = model_lower(m, ts);
    if (i < m->n && m->v[i].ts == ts) {
        m->v[i].value = v;
    } else {
        if (m->n == m->cap) {
            m->cap = m->cap ? m->cap * 2 : 64;
            m->v = realloc(m->v, m->cap * sizeof(*m->v));
            assert_non_null(m->v);
        }
        memmove(m->v + i + 1, m->v + i, (m->n - i) * sizeof(*m->v));
        m->v[i] = (warp_ts_sample){ts, v};
        m->n++;
    }
    if (!m->any || ts > m->latest)
        m->latest = ts;
    m->any = m->exists = true;
    model_expire(m);
    return WARP_OK;
}

static void model_set_retention(model *m, int64_t r)
{
    m->retention = r;
    m->exists = true;
    model_expire(m);
}

/* Add to the store and the model, asserting the same answer. */
static void add_both(warp_db *db, const char *name, model *m, int64_t ts,
                     double v)
{
    int want = model_add(m, ts, v);

    assert_rc(warp_ts_add(db, name, strlen(name), ts, v), want);
}

/* ------------------------------------------------------------------------ */
/* Checking a series against its model                                      */
/* ------------------------------------------------------------------------ */

static void assert_close(double got, double want, double scale)
{
    if (fabs(got - want) <= 1e-9 * (1 + scale))
        return;
    fail_msg("got %.17g, expected %.17g", got, want);
}

/* The whole series, read in pages of `page` samples. */
static void check_range(warp_db *db, const char *name, const model *m,
                        int64_t from, int64_t to, size_t page)
{
    warp_ts_sample *buf = malloc(page * sizeof(*buf));
    size_t i = from <= to ? model_lower(m, from) : m->n, n;

    assert_non_null(buf);
    for (;;) {
        assert_ok(
            warp_ts_range(db, name, strlen(name), from, to, buf, page, &n));
        for (size_t k = 0; k < n; k++, i++) {
            assert_true(i < m->n && m->v[i].ts <= to);
            assert_int_equal(buf[k].ts, m->v[i].ts);
            assert_true(buf[k].value == m->v[i].value);
        }
        if (n < page)
            break;
        from = buf[n - 1].ts + 1;
    }
    assert_true(i == m->n || m->v[i].ts > to);
    free(buf);
}

static int64_t floor_div(int64_t ts, int64_t b)
{
    int64_t q = ts / b;

    return (ts % b < 0 ? q - 1 : q) * b;
}

/* The naive aggregate: samples one by one into buckets. Returns the
 * number of results (at most cap). */
static size_t naive_agg(const model *m, int64_t from, int64_t to,
                        warp_ts_agg agg, int64_t bucket, warp_ts_sample *out,
                        double *scale, size_t cap)
{
    size_t n = 0;

    for (size_t i = model_lower(m, from); i < m->n && m->v[i].ts <= to;) {
        int64_t start = bucket ? floor_div(m->v[i].ts, bucket) : from;
        double sum = 0, abs = 0, mn = INFINITY, mx = -INFINITY;
        uint64_t count = 0;
        for (; i < m->n && m->v[i].ts <= to &&
               (!bucket || floor_div(m->v[i].ts, bucket) == start);
             i++) {
            double v = m->v[i].value;
            count++;
            sum += v;
            abs += fabs(v);
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
        double r[] = {(double)count, sum, sum / (double)count, mn, mx};
        assert_true(n < cap);
        scale[n] = abs;
        out[n++] = (warp_ts_sample){start, r[agg]};
    }
    return n;
}

/* Aggregate `agg` over [from, to] in pages of `page` results. */
static void check_agg(warp_db *db, const char *name, const model *m,
                      int64_t from, int64_t to, warp_ts_agg agg, int64_t bucket,
                      size_t page)
{
    size_t cap = m->n + 1, want_n, got = 0, n;
    warp_ts_sample *want = malloc(cap * sizeof(*want));
    warp_ts_sample *buf = malloc(page * sizeof(*buf));
    double *scale = malloc(cap * sizeof(*scale));

    assert_true(want && buf && scale);
    want_n =
        from <= to ? naive_agg(m, from, to, agg, bucket, want, scale, cap) : 0;
    for (;;) {
        assert_ok(warp_ts_aggregate(db, name, strlen(name), from, to, agg,
                                    bucket, buf, page, &n));
        for (size_t k = 0; k < n; k++, got++) {
            assert_true(got < want_n);
            assert_int_equal(buf[k].ts, want[got].ts);
            assert_close(buf[k].value, want[got].value, scale[got]);
        }
        if (n < page || !bucket)
            break;
        from = buf[n - 1].ts + bucket;
    }
    assert_int_equal(got, want_n);
    free(want);
    free(buf);
    free(scale);
}

/* last, info, gets at and between samples, the whole range, and `rounds`
 * random ranges with every aggregate. */
static void check_series(warp_db *db, const char *name, const model *m,
                         uint64_t *x, int rounds)
{
    size_t len = strlen(name);
    warp_ts_sample last;
    warp_ts_info info;
    double v;

    if (!m->exists) {
        assert_rc(warp_ts_info_get(db, name, len, 0, &info), WARP_NOTFOUND);
        return;
    }
    assert_ok(warp_ts_info_get(db, name, len, 0, &info));
    assert_int_equal(info.samples, m->n);
    assert_int_equal(info.retention_ms, m->retention);
    if (!m->n) {
        assert_rc(warp_ts_last(db, name, len, &last), WARP_NOTFOUND);
        return;
    }
    assert_int_equal(info.first_ts, m->v[0].ts);
    assert_int_equal(info.last_ts, m->v[m->n - 1].ts);
    assert_ok(warp_ts_last(db, name, len, &last));
    assert_int_equal(last.ts, m->v[m->n - 1].ts);
    assert_true(last.value == m->v[m->n - 1].value);
    for (int i = 0; i < 50; i++) {
        size_t k = (size_t)rnd(x) % m->n;
        int64_t t = rnd_in(x, m->v[0].ts - 5, m->v[m->n - 1].ts + 5);
        size_t j = model_lower(m, t);
        assert_ok(warp_ts_get(db, name, len, m->v[k].ts, &v));
        assert_true(v == m->v[k].value);
        if (j < m->n && m->v[j].ts == t) {
            assert_ok(warp_ts_get(db, name, len, t, &v));
            assert_true(v == m->v[j].value);
        } else {
            assert_rc(warp_ts_get(db, name, len, t, &v), WARP_NOTFOUND);
        }
    }
    check_range(db, name, m, INT64_MIN, INT64_MAX, 1000);
    for (int r = 0; r < rounds; r++) {
        int64_t lo = m->v[0].ts - 10, hi = m->v[m->n - 1].ts + 10;
        int64_t a = rnd_in(x, lo, hi), b = rnd_in(x, lo, hi);
        static const int64_t buckets[] = {0, 1, 3, 7, 64, 100, 1000, 100000};
        int64_t bucket = buckets[rnd(x) % ARRAY_SIZE(buckets)];
        size_t page = 1 + (size_t)(rnd(x) % 40);
        if (r % 7 == 0) {
            int64_t t = a; /* sometimes empty: from > to */
            a = b;
            b = t;
        }
        check_range(db, name, m, a, b, page);
        for (int agg = WARP_TS_COUNT; agg <= WARP_TS_MAX; agg++)
            check_agg(db, name, m, a, b, (warp_ts_agg)agg, bucket, page);
    }
    check_agg(db, name, m, INT64_MIN, INT64_MAX, WARP_TS_SUM, 0, 1);
}

/* `n` random adds to series `name`, in one of four orders. */
static void random_adds(warp_db *db, const char *name, model *m, uint64_t *x,
                        int n, int64_t base, int64_t width)
{
    int order = (int)(rnd(x) % 4);
    int64_t t = base;

    for (int i = 0; i < n; i++) {
        switch (order) {
        case 0: /* appends with gaps */
            t += rnd_in(x, 1, 3);
            break;
        case 1: /* anywhere in the window: out of order, duplicates */
            t = rnd_in(x, base, base + width);
            break;
        case 2: /* descending */
            t = base + width - i * 2;
            break;
        default: /* appends, with one in five late */
            t = rnd(x) % 5 ? base + i : rnd_in(x, base, base + i);
            break;
        }
        add_both(db, name, m, t, rnd_value(x));
    }
}

/* ------------------------------------------------------------------------ */
/* Basic behaviour                                                           */
/* ------------------------------------------------------------------------ */

static void add_then_read_back(void **state)
{
    warp_db *db = *state;
    warp_ts_sample s, buf[4];
    double v;
    size_t n;

    assert_ok(warp_ts_add(db, "cpu", 3, 1000, 0.5));
    assert_ok(warp_ts_add(db, "cpu", 3, 3000, 1.5));
    assert_ok(warp_ts_add(db, "cpu", 3, 2000, 1.0)); /* out of order */
    assert_ok(warp_ts_last(db, "cpu", 3, &s));
    assert_int_equal(s.ts, 3000);
    assert_true(s.value == 1.5);
    assert_ok(warp_ts_get(db, "cpu", 3, 2000, &v));
    assert_true(v == 1.0);
    assert_rc(warp_ts_get(db, "cpu", 3, 2001, &v), WARP_NOTFOUND);
    assert_ok(warp_ts_range(db, "cpu", 3, 0, 10000, buf, 4, &n));
    assert_int_equal(n, 3);
    assert_int_equal(buf[0].ts, 1000);
    assert_int_equal(buf[1].ts, 2000);
    assert_int_equal(buf[2].ts, 3000);
}

static void same_timestamp_replaces_the_value(void **state)
{
    warp_db *db = *state;
    warp_ts_info info;
    double v;

    assert_ok(warp_ts_add(db, "t", 1, 5, 1.0));
    assert_ok(warp_ts_add(db, "t", 1, 5, 2.0));
    assert_ok(warp_ts_get(db, "t", 1, 5, &v));
    assert_true(v == 2.0);
    assert_ok(warp_ts_info_get(db, "t", 1, 0, &info));
    assert_int_equal(info.samples, 1);
}

static void missing_series_is_notfound(void **state)
{
    warp_db *db = *state;
    warp_ts_sample s, buf[1];
    warp_ts_info info;
    double v;
    size_t n = 7;

    assert_rc(warp_ts_last(db, "none", 4, &s), WARP_NOTFOUND);
    assert_rc(warp_ts_get(db, "none", 4, 1, &v), WARP_NOTFOUND);
    assert_rc(warp_ts_range(db, "none", 4, 0, 9, buf, 1, &n), WARP_NOTFOUND);
    assert_int_equal(n, 0);
    assert_rc(
        warp_ts_aggregate(db, "none", 4, 0, 9, WARP_TS_COUNT, 0, buf, 1, &n),
        WARP_NOTFOUND);
    assert_rc(warp_ts_info_get(db, "none", 4, 0, &info), WARP_NOTFOUND);
    assert_rc(warp_ts_delete(db, "none", 4), WARP_NOTFOUND);
    assert_int_equal(stats_of(db).keys, 0); /* reads created nothing */
}

static void bad_arguments_are_einval(void **state)
{
    warp_db *db = *state;
    warp_ts_sample buf[1];
    size_t n;
    warp_ts_agg a;
    double v;

    assert_rc(warp_ts_add(NULL, "s", 1, 0, 1), WARP_EINVAL);
    assert_rc(warp_ts_add(db, NULL, 1, 0, 1), WARP_EINVAL);
    assert_rc(warp_ts_add(db, "s", 1, 0, NAN), WARP_EINVAL);
    assert_ok(warp_ts_add(db, "s", 1, 0, INFINITY));
    assert_rc(warp_ts_get(db, "s", 1, 0, NULL), WARP_EINVAL);
    assert_rc(warp_ts_last(db, "s", 1, NULL), WARP_EINVAL);
    assert_rc(warp_ts_range(db, "s", 1, 0, 1, NULL, 1, &n), WARP_EINVAL);
    assert_rc(warp_ts_range(db, "s", 1, 0, 1, buf, 1, NULL), WARP_EINVAL);
    assert_rc(warp_ts_aggregate(db, "s", 1, 0, 1, WARP_TS_SUM, -1, buf, 1, &n),
              WARP_EINVAL);
    assert_rc(
        warp_ts_aggregate(db, "s", 1, 0, 1, (warp_ts_agg)9, 0, buf, 1, &n),
        WARP_EINVAL);
    assert_rc(warp_ts_set_retention(db, "s", 1, -1), WARP_EINVAL);
    assert_rc(warp_ts_info_get(db, "s", 1, 0, NULL), WARP_EINVAL);
    assert_ok(warp_ts_get(db, "s", 1, 0, &v));
    assert_true(isinf(v));
    assert_ok(warp_ts_agg_parse("avg", &a));
    assert_int_equal(a, WARP_TS_AVG);
    assert_rc(warp_ts_agg_parse("median", &a), WARP_EINVAL);
    assert_string_equal(warp_ts_agg_name(WARP_TS_MAX), "max");
    assert_string_equal(warp_ts_agg_name((warp_ts_agg)42), "?");
}

static void long_names_are_etoobig(void **state)
{
    warp_options o;
    warp_db *db;

    warp_options_init(&o);
    o.max_key_size = 32;
    db = own_store(state, &o);
    assert_ok(warp_ts_add(db, "01234567890123456789", 20, 1, 1)); /* 32 */
    assert_rc(warp_ts_add(db, "012345678901234567890", 21, 1, 1), WARP_ETOOBIG);
}

/* Names are byte strings: the empty one, and ones with 0 bytes that a
 * shorter name is a prefix of, are distinct series. */
static void binary_and_empty_names_are_distinct(void **state)
{
    warp_db *db = *state;
    warp_ts_sample s;

    assert_ok(warp_ts_add(db, "", 0, 1, 1.0));
    assert_ok(warp_ts_add(db, "a", 1, 1, 2.0));
    assert_ok(warp_ts_add(db, "a\0b", 3, 1, 3.0));
    assert_ok(warp_ts_add(db, "a\0", 2, 1, 4.0));
    assert_ok(warp_ts_last(db, "", 0, &s));
    assert_true(s.value == 1.0);
    assert_ok(warp_ts_last(db, "a", 1, &s));
    assert_true(s.value == 2.0);
    assert_ok(warp_ts_last(db, "a\0b", 3, &s));
    assert_true(s.value == 3.0);
    assert_ok(warp_ts_last(db, "a\0", 2, &s));
    assert_true(s.value == 4.0);
}

/* Buckets are aligned to 0, also for negative timestamps, and a range
 * that starts inside a bucket reports the bucket's start. */
static void buckets_align_to_zero(void **state)
{
    warp_db *db = *state;
    warp_ts_sample out[8];
    size_t n;

    for (int64_t t = -25; t <= 25; t += 5)
        assert_ok(warp_ts_add(db, "b", 1, t, (double)t));
    /* -15 .. 20 in range: buckets -20 (from -17 on), -10, 0, 10, 20 */
    assert_ok(
        warp_ts_aggregate(db, "b", 1, -17, 22, WARP_TS_COUNT, 10, out, 8, &n));
    assert_int_equal(n, 5);
    assert_int_equal(out[0].ts, -20);
    assert_true(out[0].value == 1); /* -15 only: -20 is before from */
    assert_int_equal(out[1].ts, -10);
    assert_true(out[1].value == 2); /* -10 and -5 */
    assert_int_equal(out[4].ts, 20);
    assert_true(out[4].value == 1); /* 20 only: 25 is after to */
    assert_ok(
        warp_ts_aggregate(db, "b", 1, -17, 22, WARP_TS_SUM, 0, out, 8, &n));
    assert_int_equal(n, 1);
    assert_int_equal(out[0].ts, -17); /* one bucket: reported at from */
    assert_true(out[0].value == 20);  /* -15 + -10 + ... + 20 */
    assert_ok(
        warp_ts_aggregate(db, "b", 1, 21, 24, WARP_TS_COUNT, 0, out, 8, &n));
    assert_int_equal(n, 0); /* no sample: no result */
}

static void random_series_match_the_model(void **state)
{
    warp_db *db = *state;
    uint64_t x = 0x5eed;
    char name[32];

    for (int s = 0; s < 6; s++) {
        model m = {0};
        snprintf(name, sizeof(name), "rnd:%d", s);
        for (int round = 0; round < 4; round++) {
            int64_t base = rnd_in(&x, -100000, 100000);
            random_adds(db, name, &m, &x, 1500, base, 3000);
            check_series(db, name, &m, &x, 12);
        }
        model_free(&m);
    }
}

/* ------------------------------------------------------------------------ */
/* Retention                                                                 */
/* ------------------------------------------------------------------------ */

static void retention_drops_old_samples(void **state)
{
    warp_db *db = *state;
    warp_ts_info info;
    model m = {0};
    uint64_t x = 7;
    double v;

    assert_ok(warp_ts_set_retention(db, "r", 1, 1000));
    m.retention = 1000;
    for (int64_t t = 0; t < 10000; t++)
        add_both(db, "r", &m, t, (double)t);
    check_series(db, "r", &m, &x, 10);
    assert_int_equal(m.n, 1001); /* 8999 .. 9999 */
    assert_rc(warp_ts_get(db, "r", 1, 8998, &v), WARP_NOTFOUND);
    /* older than latest - R: refused, nothing stored */
    assert_rc(warp_ts_add(db, "r", 1, 8998, 1.0), WARP_EINVAL);
    assert_ok(warp_ts_add(db, "r", 1, 8999, -1.0)); /* the edge is kept */
    model_add(&m, 8999, -1.0);
    /* storage holds a bounded number of chunks, not 10000 samples */
    assert_ok(warp_ts_info_get(db, "r", 1, 0, &info));
    assert_true(info.chunks <= 1001 / CHUNK_MAX + 2);
    assert_true(stats_of(db).keys == info.chunks + 1);
    check_series(db, "r", &m, &x, 10);
    model_free(&m);
}

static void longer_retention_revives_nothing(void **state)
{
    warp_db *db = *state;
    model m = {0};
    uint64_t x = 8;

    assert_ok(warp_ts_set_retention(db, "r", 1, 50));
    model_set_retention(&m, 50);
    for (int64_t t = 0; t < 1000; t += 3)
        add_both(db, "r", &m, t, (double)t);
    assert_ok(warp_ts_set_retention(db, "r", 1, 0));
    model_set_retention(&m, 0);
    check_series(db, "r", &m, &x, 10);
    assert_int_equal(m.n, 17); /* 951 .. 999 */
    /* shorter again: drops at once */
    assert_ok(warp_ts_set_retention(db, "r", 1, 10));
    model_set_retention(&m, 10);
    check_series(db, "r", &m, &x, 10);
    assert_int_equal(m.n, 4);
    model_free(&m);
}

static void retention_creates_an_empty_series(void **state)
{
    warp_db *db = *state;
    warp_ts_info info;
    warp_ts_sample s;

    assert_ok(warp_ts_set_retention(db, "new", 3, 60000));
    assert_ok(warp_ts_info_get(db, "new", 3, 0, &info));
    assert_int_equal(info.samples, 0);
    assert_int_equal(info.retention_ms, 60000);
    assert_rc(warp_ts_last(db, "new", 3, &s), WARP_NOTFOUND);
    assert_ok(warp_ts_delete(db, "new", 3));
    assert_rc(warp_ts_info_get(db, "new", 3, 0, &info), WARP_NOTFOUND);
    assert_int_equal(stats_of(db).keys, 0);
}

static void random_retention_matches_the_model(void **state)
{
    warp_db *db = *state;
    uint64_t x = 0xfeed;
    model m = {0};

    for (int round = 0; round < 8; round++) {
        int64_t r = round % 3 == 2 ? 0 : rnd_in(&x, 100, 2000);
        assert_ok(warp_ts_set_retention(db, "rr", 2, r));
        model_set_retention(&m, r);
        random_adds(db, "rr", &m, &x, 1500, round * 1500, 3000);
        check_series(db, "rr", &m, &x, 8);
    }
    model_free(&m);
}

/* ------------------------------------------------------------------------ */
/* Stages and info                                                           */
/* ------------------------------------------------------------------------ */

#define HOUR 3600000ll
#define DAY  (24 * HOUR)

static void stages_follow_upstream_thresholds(void **state)
{
    const int64_t now = 1700000000000ll;

    (void)state;
    assert_int_equal(warp_ts_stage(now + 5, now), WARP_STAGE_LIVE);
    assert_int_equal(warp_ts_stage(now, now), WARP_STAGE_LIVE);
    assert_int_equal(warp_ts_stage(now - HOUR + 1, now), WARP_STAGE_LIVE);
    assert_int_equal(warp_ts_stage(now - HOUR, now), WARP_STAGE_RECENT);
    assert_int_equal(warp_ts_stage(now - 48 * HOUR + 1, now),
                     WARP_STAGE_RECENT);
    assert_int_equal(warp_ts_stage(now - 48 * HOUR, now),
                     WARP_STAGE_HISTORICAL);
    assert_int_equal(warp_ts_stage(now - 30 * DAY + 1, now),
                     WARP_STAGE_HISTORICAL);
    assert_int_equal(warp_ts_stage(now - 30 * DAY, now), WARP_STAGE_DEEP_TIME);
    assert_int_equal(warp_ts_stage(INT64_MIN, INT64_MAX), WARP_STAGE_DEEP_TIME);
    assert_int_equal(warp_ts_stage(INT64_MAX, INT64_MIN), WARP_STAGE_LIVE);
    assert_string_equal(warp_stage_name(warp_ts_stage(now - 2 * HOUR, now)),
                        "recent");
    assert_true(llabs(warp_ts_now() - (int64_t)time(NULL) * 1000) < 5000);
}

static void info_counts_samples_per_stage(void **state)
{
    warp_db *db = *state;
    const int64_t now = 1700000000000ll;
    uint64_t want[WARP_STAGES] = {0};
    warp_ts_info info;
    uint64_t x = 3;

    /* 400 samples a minute apart per stage, and some right at each edge */
    static const int64_t starts[] = {0, HOUR, 48 * HOUR, 30 * DAY};
    for (int st = 0; st < WARP_STAGES; st++)
        for (int64_t i = 0; i < 400; i++) {
            int64_t age = starts[st] + i * 60000 + (int64_t)(rnd(&x) % 7);
            if (st < 3 && age >= starts[st + 1])
                continue;
            assert_ok(warp_ts_add(db, "st", 2, now - age, 1.0));
            want[warp_ts_stage(now - age, now)]++;
        }
    for (int st = 1; st < WARP_STAGES; st++) {
        assert_ok(warp_ts_add(db, "st", 2, now - starts[st], 1.0));
        assert_ok(warp_ts_add(db, "st", 2, now - starts[st] + 1, 1.0));
        want[st]++;
        want[st - 1]++;
    }
    assert_ok(warp_ts_info_get(db, "st", 2, now, &info));
    for (int st = 0; st < WARP_STAGES; st++)
        assert_int_equal(info.stage_samples[st], want[st]);
    assert_int_equal(info.samples, want[0] + want[1] + want[2] + want[3]);
    assert_true(info.chunks >= info.samples / CHUNK_MAX);
    assert_true(info.record_bytes >= info.samples * 16);
    assert_true(info.index_bytes > 0);
    assert_int_equal(info.memory_bytes, info.record_bytes + info.index_bytes);
}

static void delete_removes_every_record(void **state)
{
    warp_db *db = *state;
    model m = {0};
    uint64_t x = 11;

    put_str(db, "plain", "key");
    random_adds(db, "gone", &m, &x, 2000, 0, 5000);
    assert_true(stats_of(db).keys > 10);
    assert_ok(warp_ts_delete(db, "gone", 4));
    assert_int_equal(stats_of(db).keys, 1);
    assert_rc(warp_ts_delete(db, "gone", 4), WARP_NOTFOUND);
    model_free(&m);
    /* and the name can be used again */
    random_adds(db, "gone", &m, &x, 500, 0, 1000);
    check_series(db, "gone", &m, &x, 5);
    model_free(&m);
}

/* ------------------------------------------------------------------------ */
/* Persistence                                                               */
/* ------------------------------------------------------------------------ */

static warp_db *open_dir(const char *dir)
{
    warp_db *db = NULL;

    assert_ok(warp_open(dir, NULL, &db));
    return db;
}

#define NSERIES 4

static void build_series(warp_db *db, model *m, uint64_t *x, int64_t base)
{
    char name[16];

    for (int s = 0; s < NSERIES; s++) {
        snprintf(name, sizeof(name), "p:%d", s);
        if (s == 3 && !m[s].retention) {
            assert_ok(warp_ts_set_retention(db, name, 3, 700));
            model_set_retention(&m[s], 700);
        }
        random_adds(db, name, &m[s], x, 1200, base, 2000);
    }
}

static void check_all(warp_db *db, model *m, uint64_t *x)
{
    char name[16];

    for (int s = 0; s < NSERIES; s++) {
        snprintf(name, sizeof(name), "p:%d", s);
        check_series(db, name, &m[s], x, 6);
    }
}

static void series_survive_restart_and_checkpoint(void **state)
{
    test_dir *d = *state;
    model m[NSERIES] = {{0}};
    uint64_t x = 0xd15c;
    warp_db *db = open_dir(d->db);

    build_series(db, m, &x, 0);
    warp_close(db);
    db = open_dir(d->db); /* from the WAL */
    check_all(db, m, &x);
    build_series(db, m, &x, 1000);
    assert_ok(warp_checkpoint(db));
    warp_close(db);
    db = open_dir(d->db); /* from the snapshots */
    check_all(db, m, &x);
    build_series(db, m, &x, 2500); /* snapshot + WAL */
    warp_close(db);
    db = open_dir(d->db);
    check_all(db, m, &x);
    warp_close(db);
    for (int s = 0; s < NSERIES; s++)
        model_free(&m[s]);
}

/* The key of record `id` of series `name`, as docs/FORMATS.md has it. */
static size_t record_key(unsigned char *k, const char *name, uint64_t id)
{
    size_t n = strlen(name);

    k[0] = 0xff;
    k[1] = 0xfe;
    k[2] = 't';
    memcpy(k + 3, name, n);
    k[3 + n] = 0;
    for (int i = 0; i < 8; i++)
        k[4 + n + i] = (unsigned char)(id >> (56 - 8 * i));
    return n + 12;
}

#define NONE UINT64_MAX

static void wr_le(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Chunk `id` of series `name`: samples t0..t1, 1 ms apart, pointing back
 * at `prev`. */
static void put_chunk(warp_db *db, const char *name, uint64_t id, uint64_t prev,
                      int64_t t0, int64_t t1, double value)
{
    unsigned char k[64], v[16 + 16 * CHUNK_MAX] = {1};
    size_t n = 0;

    for (int64_t t = t0; t <= t1; t++, n++) {
        uint64_t bits;
        memcpy(&bits, &value, 8);
        wr_le(v + 16 + 16 * n, (uint64_t)t);
        wr_le(v + 24 + 16 * n, bits);
    }
    v[2] = (unsigned char)n;
    v[3] = (unsigned char)(n >> 8);
    wr_le(v + 8, prev);
    assert_ok(
        warp_put(db, k, record_key(k, name, id), v, 16 + 16 * n, NULL, NULL));
}

static void put_meta(warp_db *db, const char *name, uint64_t tail,
                     uint64_t garbage)
{
    unsigned char k[64], v[32] = {1};

    wr_le(v + 16, tail);
    wr_le(v + 24, garbage);
    assert_ok(warp_put(db, k, record_key(k, name, NONE), v, 32, NULL, NULL));
}

static bool record_exists(warp_db *db, const char *name, uint64_t id)
{
    unsigned char k[64];

    return warp_exists(db, k, record_key(k, name, id)) == WARP_OK;
}

/* Assert that series `name` holds exactly the samples t0..t1 (1 ms
 * apart) with `value`. */
static void assert_samples(warp_db *db, const char *name, int64_t t0,
                           int64_t t1, double value)
{
    warp_ts_sample buf[64];
    size_t n;

    assert_ok(warp_ts_range(db, name, strlen(name), INT64_MIN, INT64_MAX, buf,
                            64, &n));
    assert_int_equal(n, t1 - t0 + 1);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(buf[i].ts, t0 + (int64_t)i);
        assert_true(buf[i].value == value);
    }
}

/* What a crash can leave (series.c, LOADING), in records written by
 * hand: a drop of chunks 0 and 1 stopped before its commit (chunk 2
 * still points at them) and a new chunk (4) no write committed; a drop
 * stopped half-way through deleting (chunk 0 gone, 1 left); a chain with
 * a missing chunk, which no crash leaves. */
static void loader_finishes_interrupted_writes(void **state)
{
    test_dir *d = *state;
    warp_db *db = open_dir(d->db);
    warp_ts_info info;
    warp_ts_sample s;

    put_chunk(db, "c", 0, NONE, 10, 19, 1.0);
    put_chunk(db, "c", 1, 0, 20, 29, 1.0);
    put_chunk(db, "c", 2, 1, 30, 39, 2.0);
    put_chunk(db, "c", 3, 2, 40, 41, 2.0);
    put_chunk(db, "c", 4, 3, 50, 50, 3.0);
    put_meta(db, "c", 3, 1);
    put_chunk(db, "d", 1, 0, 5, 6, 1.0);
    put_chunk(db, "d", 2, NONE, 10, 12, 2.0);
    put_meta(db, "d", 2, 1);
    put_chunk(db, "e", 7, 3, 10, 12, 2.0);
    put_meta(db, "e", 7, NONE);
    warp_close(db);

    db = open_dir(d->db);
    assert_samples(db, "c", 30, 41, 2.0);
    for (uint64_t id = 0; id <= 4; id++)
        assert_true(record_exists(db, "c", id) == (id == 2 || id == 3));
    assert_samples(db, "d", 10, 12, 2.0);
    assert_false(record_exists(db, "d", 1));
    assert_rc(warp_ts_last(db, "e", 1, &s), WARP_ECORRUPT);
    warp_close(db);

    db = open_dir(d->db); /* what the loader finished was written */
    assert_ok(warp_ts_info_get(db, "c", 1, 0, &info));
    assert_int_equal(info.samples, 12);
    assert_int_equal(info.chunks, 2);
    assert_samples(db, "d", 10, 12, 2.0);
    assert_ok(warp_ts_add(db, "c", 1, 60, 2.0)); /* and it goes on */
    assert_ok(warp_ts_info_get(db, "c", 1, 0, &info));
    assert_int_equal(info.samples, 13);
    warp_close(db);
}

static void unknown_format_is_ecorrupt(void **state)
{
    warp_db *db = *state;
    unsigned char k[64], v[32] = {2}; /* version 2 */
    warp_ts_sample s;

    assert_ok(warp_put(db, k, record_key(k, "future", UINT64_MAX), v, sizeof(v),
                       NULL, NULL));
    assert_rc(warp_ts_last(db, "future", 6, &s), WARP_ECORRUPT);
    assert_rc(warp_ts_add(db, "future", 6, 1, 1), WARP_ECORRUPT);
}

/* The crash workload's i-th op: a retention first, then appends with one
 * add in 7 older (out of order, some refused as too old), and a
 * checkpoint now and then. Every op is idempotent, so a child may redo
 * the one a kill interrupted. */
#define CRASH_RETENTION 20000

enum { CRASH_RETAIN, CRASH_CHECKPOINT, CRASH_ADD };

/* What op i is, and for an add its sample. */
static int crash_plan(uint64_t i, int64_t *ts, double *v)
{
    *ts = (int64_t)i * 2;
    *v = (double)(i % 977);
    if (i == 0)
        return CRASH_RETAIN;
    if (i % 30000 == 29999)
        return CRASH_CHECKPOINT;
    if (i % 7 == 3)
        *ts = (*ts - (int64_t)((i * 2654435761u >> 5) % 25000)) | 1;
    return CRASH_ADD;
}

static int crash_op(warp_db *db, uint64_t i)
{
    int64_t ts;
    double v;

    switch (crash_plan(i, &ts, &v)) {
    case CRASH_RETAIN:
        return warp_ts_set_retention(db, "k", 1, CRASH_RETENTION);
    case CRASH_CHECKPOINT:
        return warp_checkpoint(db);
    default:
        return warp_ts_add(db, "k", 1, ts, v);
    }
}

/* The child: run ops from `start` on, publishing how many are done. */
static void crash_child(const char *dir, uint64_t start, _Atomic uint64_t *done)
{
    warp_options o;
    warp_db *db;

    warp_options_init(&o);
    o.fsync = WARP_FSYNC_NEVER; /* a process crash loses nothing anyway */
    if (warp_open(dir, &o, &db))
        _exit(3);
    for (uint64_t i = start;; i++) {
        int rc = crash_op(db, i);
        if (rc && rc != WARP_EINVAL)
            _exit(4);
        atomic_store(done, i + 1);
    }
}

/* Apply op i to the model. */
static void crash_model(model *m, uint64_t i)
{
    int64_t ts;
    double v;
    int kind = crash_plan(i, &ts, &v);

    if (kind == CRASH_RETAIN)
        model_set_retention(m, CRASH_RETENTION);
    else if (kind == CRASH_ADD)
        model_add(m, ts, v);
}

/* Kill a child adding samples (splits, new chunks, drops, checkpoints)
 * at random moments, again and again on the same directory: each reopen
 * holds every acknowledged add, and the interrupted one whole or not at
 * all. */
static void crash_mid_adds_loses_nothing_acknowledged(void **state)
{
    test_dir *d = *state;
    _Atomic uint64_t *done = mmap(NULL, sizeof(*done), PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint64_t x = 0xc4a5, applied = 0;
    model m = {0};

    assert_true(done != MAP_FAILED);
#ifdef __SANITIZE_THREAD__
    skip(); /* fork: the plain and ASan trees run it */
#endif
    for (int round = 0; round < 16; round++) {
        uint64_t acked;
        int status;
        pid_t pid;
        warp_db *db;
        atomic_store(done, applied);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            crash_child(d->db, applied, done);
        for (int ms = 0; atomic_load(done) == applied && ms < 10000; ms++)
            usleep(1000); /* until it has opened the store */
        usleep((useconds_t)(rnd(&x) % 30000));
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        acked = atomic_load(done);
        for (; applied < acked; applied++)
            crash_model(&m, applied);
        db = open_dir(d->db);
        {
            int64_t ts;
            double v, got;
            model with = m;
            int kind = crash_plan(applied, &ts, &v);
            with.v = malloc((m.n + 1) * sizeof(*m.v));
            with.cap = m.n + 1;
            if (m.n)
                memcpy(with.v, m.v, m.n * sizeof(*m.v));
            crash_model(&with, applied);
            /* the interrupted add landed if its value is there */
            bool landed = kind == CRASH_ADD &&
                          warp_ts_get(db, "k", 1, ts, &got) == WARP_OK &&
                          got == v;
            check_series(db, "k", landed ? &with : &m, &x, 3);
            model_free(&with);
        }
        warp_close(db);
    }
    assert_true(applied > 1000); /* the child got somewhere */
    model_free(&m);
    munmap(done, sizeof(*done));
}

/* ------------------------------------------------------------------------ */
/* Dump and load                                                             */
/* ------------------------------------------------------------------------ */

static int copy_pair(void *ctx, const void *key, size_t klen, const void *val,
                     size_t vlen, const warp_placement *where)
{
    warp_put_item it = {.key = key, .klen = klen, .val = val, .vlen = vlen};

    (void)where;
    return warp_put_batch(ctx, &it, 1, NULL);
}

/* Every pair copied into a fresh store, as dump and load do
 * (warp_foreach, then warp_put_batch), carries the series with it. */
static void series_survive_copying_every_pair(void **state)
{
    warp_db *a = *state, *b = open_store(NULL);
    model m[NSERIES] = {{0}};
    uint64_t x = 0xc0b1, y;

    put_str(a, "user:1", "alice");
    build_series(a, m, &x, 0);
    assert_ok(warp_foreach(a, copy_pair, b));
    assert_int_equal(stats_of(b).keys, stats_of(a).keys);
    y = x;
    check_all(b, m, &y);
    assert_get_str(b, "user:1", "alice");
    build_series(b, m, &x, 5000); /* and it goes on from there */
    check_all(b, m, &x);
    warp_close(b);
    for (int s = 0; s < NSERIES; s++)
        model_free(&m[s]);
}

/* The same through the real `warp dump` and `warp load`, when ctest says
 * where the binary is (WARP_CLI). */
static void series_survive_warp_dump_and_load(void **state)
{
    test_dir *d = *state;
    const char *cli = getenv("WARP_CLI");
    model m[NSERIES] = {{0}};
    uint64_t x = 0xd00d;
    char cmd[2048];
    warp_db *db;

    if (!cli || !*cli)
        skip();
    db = open_dir(d->db);
    build_series(db, m, &x, 0);
    warp_close(db);
    snprintf(cmd, sizeof(cmd),
             "('%s' dump '%s' > '%s/dump' && '%s' load '%s/copy' < '%s/dump')"
             " 2> '%s/log' || { cat '%s/log' >&2; exit 1; }",
             cli, d->db, d->root, cli, d->root, d->root, d->root, d->root);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s/copy", d->root);
    db = open_dir(cmd);
    check_all(db, m, &x);
    warp_close(db);
    for (int s = 0; s < NSERIES; s++)
        model_free(&m[s]);
}

/* `warp bench --workload tsadd,...` runs every time-series workload and
 * prints one row per workload and thread count (WARP_CLI). */
static void warp_bench_runs_the_series_workloads(void **state)
{
    test_dir *d = *state;
    const char *cli = getenv("WARP_CLI");
    char cmd[2048], line[512];
    int rows = 0;
    FILE *f;

    if (!cli || !*cli)
        skip();
    snprintf(cmd, sizeof(cmd),
             "'%s' bench --workload tsadd,tsadd-ooo,tsadd-shared,tsrange,"
             "tsagg --threads 1,2 --seconds 0.1 --samples 100000 > '%s/out'",
             cli, d->root);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "%s/out", d->root);
    assert_non_null(f = fopen(cmd, "r"));
    while (fgets(line, sizeof(line), f))
        rows += strncmp(line, "ts", 2) == 0;
    fclose(f);
    assert_int_equal(rows, 10);
}

/* ------------------------------------------------------------------------ */
/* Out of memory                                                             */
/* ------------------------------------------------------------------------ */

/* Fails every allocation from the `fail_at`-th on (0: none), and checks
 * every release against its allocation's size. */
typedef struct oom_alloc {
    atomic_ullong calls, fail_at, injected;
    atomic_llong bytes;
} oom_alloc;

static void *oom_alloc_fn(void *ctx, size_t size)
{
    oom_alloc *o = ctx;
    unsigned long long n = atomic_fetch_add(&o->calls, 1) + 1;
    unsigned long long at = atomic_load(&o->fail_at);
    unsigned char *p;

    if (at && n >= at) {
        atomic_fetch_add(&o->injected, 1);
        return NULL;
    }
    if (!(p = malloc(16 + size)))
        return NULL;
    memcpy(p, &size, sizeof(size));
    atomic_fetch_add(&o->bytes, (long long)size);
    return p + 16;
}

static void oom_release_fn(void *ctx, void *ptr, size_t size)
{
    oom_alloc *o = ctx;
    unsigned char *p = ptr;
    size_t was;

    if (!p)
        return;
    memcpy(&was, p - 16, sizeof(was));
    assert_int_equal(was, size);
    atomic_fetch_sub(&o->bytes, (long long)size);
    free(p - 16);
}

/* The workload: appends (new chunks, and over 64 chunks a meta record
 * too large for the stack), late adds into full chunks (splits), and a
 * retention that drops chunks. */
#define OOM_STEPS          10000
#define OOM_RETENTION_STEP 9000

/* One write of the workload: the step-th. */
static int oom_step(warp_db *db, int step, int64_t *ts, double *v)
{
    *v = step * 0.25;
    if (step == OOM_RETENTION_STEP)
        return warp_ts_set_retention(db, "o", 1, 4000);
    if (step % 10 == 9) /* odd: between two appends, into a full chunk */
        *ts = (int64_t)(((uint64_t)step * 2654435761u >> 7) % (uint64_t)step) *
                  2 +
              1;
    else /* appends: new chunks */
        *ts = step * 2;
    return warp_ts_add(db, "o", 1, *ts, *v);
}

/* The workload with the N-th allocation (and all after) failing, for
 * N = 1, 2, ... until it runs clean. A write that fails with
 * WARP_ENOMEM has happened or not as a whole: the series matches the
 * model with or without it. It succeeds when retried. */
static void out_of_memory_at_every_allocation(void **state)
{
    (void)state;
#ifdef __SANITIZE_THREAD__
    skip(); /* one thread, and slow under TSan: the other trees run it */
#endif
    for (unsigned long long at = 1;; at++) {
        oom_alloc o = {0};
        warp_options opts;
        warp_db *db;
        model m = {0};
        uint64_t x = at;

        warp_options_init(&opts);
        opts.allocator = (warp_allocator){oom_alloc_fn, oom_release_fn, &o};
        opts.physics = WARP_PHYSICS_OFF;
        assert_ok(warp_open(NULL, &opts, &db));
        atomic_store(&o.fail_at, atomic_load(&o.calls) + at);
        for (int step = 0; step < OOM_STEPS; step++) {
            int64_t ts = 0;
            double v;
            int rc = oom_step(db, step, &ts, &v);
            if (rc == WARP_OK || rc == WARP_EINVAL) {
                if (step == OOM_RETENTION_STEP)
                    model_set_retention(&m, 4000);
                else
                    assert_int_equal(rc, model_add(&m, ts, v));
                continue;
            }
            assert_int_equal(rc, WARP_ENOMEM);
            atomic_store(&o.fail_at, 0);
            if (step != OOM_RETENTION_STEP) { /* old or new, as a whole */
                double got;
                model with = m;
                with.v = malloc((m.n + 1) * sizeof(*m.v));
                with.cap = m.n + 1;
                if (m.n)
                    memcpy(with.v, m.v, m.n * sizeof(*m.v));
                model_add(&with, ts, v);
                int g = warp_ts_get(db, "o", 1, ts, &got);
                check_series(db, "o", g == WARP_OK && got == v ? &with : &m, &x,
                             2);
                model_free(&with);
            }
            assert_ok(oom_step(db, step, &ts, &v));
            if (step == OOM_RETENTION_STEP)
                model_set_retention(&m, 4000);
            else
                model_add(&m, ts, v);
            atomic_store(&o.fail_at, atomic_load(&o.calls) + at);
        }
        atomic_store(&o.fail_at, 0);
        check_series(db, "o", &m, &x, 4);
        warp_close(db);
        assert_int_equal(atomic_load(&o.bytes), 0);
        model_free(&m);
        if (!atomic_load(&o.injected))
            break;
    }
}

/* ------------------------------------------------------------------------ */
/* Threads                                                                   */
/* ------------------------------------------------------------------------ */

#define WRITERS    4
#define PER_WRITER 16384 /* a multiple of 64 */

typedef struct worker {
    warp_db *db;
    int id;
    atomic_int *running;
    int errors;
    char what[128];
} worker;

static void *writer_main(void *arg)
{
    worker *w = arg;
    char own[16];
    uint64_t x = (uint64_t)w->id + 1;

    snprintf(own, sizeof(own), "own:%d", w->id);
    for (int i = 0; i < PER_WRITER && !w->errors; i++) {
        /* own series: a permutation of 0..PER_WRITER-1 by blocks of 64,
         * reversed inside each block: out of order, and splits */
        int64_t t = (i / 64) * 64 + 63 - i % 64;
        int rc = t < PER_WRITER
                     ? warp_ts_add(w->db, own, strlen(own), t, (double)t * 2)
                     : WARP_OK;
        if (rc == WARP_OK)
            rc = warp_ts_add(w->db, "shared", 6, (int64_t)i * WRITERS + w->id,
                             (double)w->id);
        if (rc == WARP_OK && rnd(&x) % 1000 == 0)
            rc = warp_ts_add(w->db, "shared", 6, (int64_t)i * WRITERS + w->id,
                             (double)w->id); /* a replace, same value */
        if (rc) {
            snprintf(w->what, sizeof(w->what), "add %d: %s", i,
                     warp_strerror(rc));
            w->errors++;
        }
    }
    atomic_fetch_sub(w->running, 1);
    return NULL;
}

/* While writers run: the latest sample never goes back, the count never
 * shrinks, and a range is always in strict time order. */
static void *reader_main(void *arg)
{
    worker *w = arg;
    warp_ts_sample last, buf[256];
    int64_t prev_ts = INT64_MIN;
    double prev_count = 0;
    size_t n;

    while (atomic_load(w->running) > 0 && !w->errors) {
        warp_ts_sample agg;
        int rc = warp_ts_last(w->db, "shared", 6, &last);
        if (rc == WARP_NOTFOUND)
            continue;
        if (rc == WARP_OK && last.ts < prev_ts)
            snprintf(w->what, sizeof(w->what), "last went back"), w->errors++;
        prev_ts = last.ts;
        rc = rc ? rc
                : warp_ts_aggregate(w->db, "shared", 6, INT64_MIN, INT64_MAX,
                                    WARP_TS_COUNT, 0, &agg, 1, &n);
        if (rc == WARP_OK && n == 1 && agg.value < prev_count)
            snprintf(w->what, sizeof(w->what), "count shrank"), w->errors++;
        prev_count = n ? agg.value : prev_count;
        rc = rc ? rc
                : warp_ts_range(w->db, "shared", 6, last.ts - 5000, INT64_MAX,
                                buf, 256, &n);
        for (size_t i = 1; rc == WARP_OK && i < n; i++)
            if (buf[i].ts <= buf[i - 1].ts)
                snprintf(w->what, sizeof(w->what), "range out of order"),
                    w->errors++;
        if (rc)
            snprintf(w->what, sizeof(w->what), "read: %s", warp_strerror(rc)),
                w->errors++;
    }
    return NULL;
}

static void threads_add_to_own_and_shared_series(void **state)
{
    warp_db *db = *state;
    pthread_t th[WRITERS + 1];
    worker w[WRITERS + 1];
    atomic_int running = WRITERS;
    warp_ts_sample buf[1000];
    warp_ts_info info;
    char own[16];
    size_t n;

    for (int i = 0; i <= WRITERS; i++) {
        w[i] = (worker){.db = db, .id = i, .running = &running};
        assert_int_equal(pthread_create(&th[i], NULL,
                                        i < WRITERS ? writer_main : reader_main,
                                        &w[i]),
                         0);
    }
    for (int i = 0; i <= WRITERS; i++) {
        pthread_join(th[i], NULL);
        if (w[i].errors)
            fail_msg("thread %d: %s", i, w[i].what);
    }
    for (int i = 0; i < WRITERS; i++) {
        int64_t t = 0;
        snprintf(own, sizeof(own), "own:%d", i);
        assert_ok(warp_ts_info_get(db, own, strlen(own), 0, &info));
        assert_int_equal(info.samples, PER_WRITER);
        for (int64_t from = 0;; from = buf[n - 1].ts + 1) {
            assert_ok(warp_ts_range(db, own, strlen(own), from, INT64_MAX, buf,
                                    1000, &n));
            for (size_t k = 0; k < n; k++, t++) {
                assert_int_equal(buf[k].ts, t);
                assert_true(buf[k].value == (double)t * 2);
            }
            if (n < 1000)
                break;
        }
        assert_int_equal(t, PER_WRITER);
    }
    assert_ok(warp_ts_info_get(db, "shared", 6, 0, &info));
    assert_int_equal(info.samples, WRITERS * PER_WRITER);
    for (int64_t t = 0, from = 0;; from = buf[n - 1].ts + 1) {
        assert_ok(
            warp_ts_range(db, "shared", 6, from, INT64_MAX, buf, 1000, &n));
        for (size_t k = 0; k < n; k++, t++) {
            assert_int_equal(buf[k].ts, t);
            assert_true(buf[k].value == (double)(t % WRITERS));
        }
        if (n < 1000)
            break;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(add_then_read_back),
        STORE_TEST(same_timestamp_replaces_the_value),
        STORE_TEST(missing_series_is_notfound),
        STORE_TEST(bad_arguments_are_einval),
        OWN_STORE_TEST(long_names_are_etoobig),
        STORE_TEST(binary_and_empty_names_are_distinct),
        STORE_TEST(buckets_align_to_zero),
        STORE_TEST(random_series_match_the_model),
        STORE_TEST(retention_drops_old_samples),
        STORE_TEST(longer_retention_revives_nothing),
        STORE_TEST(retention_creates_an_empty_series),
        STORE_TEST(random_retention_matches_the_model),
        cmocka_unit_test(stages_follow_upstream_thresholds),
        STORE_TEST(info_counts_samples_per_stage),
        STORE_TEST(delete_removes_every_record),
        DIR_TEST(series_survive_restart_and_checkpoint),
        DIR_TEST(loader_finishes_interrupted_writes),
        DIR_TEST(crash_mid_adds_loses_nothing_acknowledged),
        STORE_TEST(unknown_format_is_ecorrupt),
        STORE_TEST(series_survive_copying_every_pair),
        DIR_TEST(series_survive_warp_dump_and_load),
        DIR_TEST(warp_bench_runs_the_series_workloads),
        cmocka_unit_test(out_of_memory_at_every_allocation),
        STORE_TEST(threads_add_to_own_and_shared_series),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
