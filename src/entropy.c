/*
 * entropy.c - Shannon entropy of the shards' load, its trend and stability
 * over a ring of reports, and the daily JSONL log of the reports.
 */
#include "entropy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* A weight as the distribution sees it: what cannot be a load is none. */
static double weight(double w)
{
    return isfinite(w) && w > 0 ? w : 0;
}

double entropy_bits(const double *w, size_t n)
{
    double sum = 0, h = 0;

    if (!w || n < 2)
        return 0;
    for (size_t i = 0; i < n; i++)
        sum += weight(w[i]);
    if (!(sum > 0) || !isfinite(sum))
        return 0;
    for (size_t i = 0; i < n; i++) {
        double p = weight(w[i]) / sum;
        if (p > 0)
            h -= p * log2(p);
    }
    /* Rounding can leave a hair outside the true range [0, log2 n]. */
    if (h < 0)
        return 0;
    return fmin(h, log2((double)n));
}

double entropy_norm(const double *w, size_t n)
{
    if (n < 2)
        return 1.0;
    return fmin(entropy_bits(w, n) / log2((double)n), 1.0);
}

void entropy_history_add(entropy_history *h, const entropy_report *r)
{
    h->r[h->head] = *r;
    h->head = (h->head + 1) % ENTROPY_HISTORY;
    if (h->n < ENTROPY_HISTORY)
        h->n++;
}

const entropy_report *entropy_history_last(const entropy_history *h)
{
    if (!h || h->n == 0)
        return NULL;
    return &h->r[(h->head + ENTROPY_HISTORY - 1) % ENTROPY_HISTORY];
}

/* The ops_norm series, oldest first, with `cur` last if not NULL, into
 * y[0 .. ENTROPY_HISTORY]; returns its length. */
static size_t ops_series(const entropy_history *h, const entropy_report *cur,
                         double y[ENTROPY_HISTORY + 1])
{
    size_t m = 0, n = h ? h->n : 0;

    if (n > ENTROPY_HISTORY)
        n = ENTROPY_HISTORY;
    for (size_t i = 0; i < n; i++)
        y[m++] = h->r[(h->head + ENTROPY_HISTORY - n + i) % ENTROPY_HISTORY]
                     .ops_norm;
    if (cur)
        y[m++] = cur->ops_norm;
    return m;
}

double entropy_trend(const entropy_history *h, const entropy_report *cur)
{
    double y[ENTROPY_HISTORY + 1], xm, ym = 0, sxy = 0, sxx = 0;
    size_t m = ops_series(h, cur, y);

    if (m < 3)
        return 0;
    /* x = 0 .. m-1, so the mean of x is (m - 1) / 2. */
    xm = (double)(m - 1) / 2;
    for (size_t i = 0; i < m; i++)
        ym += y[i];
    ym /= (double)m;
    for (size_t i = 0; i < m; i++) {
        double dx = (double)i - xm;
        sxy += dx * (y[i] - ym);
        sxx += dx * dx;
    }
    return sxy / sxx;
}

double entropy_stability(const entropy_history *h, const entropy_report *cur)
{
    double y[ENTROPY_HISTORY + 1], mean = 0, var = 0;
    size_t m = ops_series(h, cur, y);

    if (m < 2)
        return 1.0;
    for (size_t i = 0; i < m; i++)
        mean += y[i];
    mean /= (double)m;
    for (size_t i = 0; i < m; i++)
        var += (y[i] - mean) * (y[i] - mean);
    var /= (double)m;
    /* A NaN ops_norm is a broken report, not a stable store. */
    if (!(var >= 0))
        return 0;
    return 1.0 - fmin(var, 1.0);
}

/* Append "name":value to buf (room for `cap` bytes, `*len` used) as JSON:
 * a non-finite double has no JSON spelling, so it is null. */
static void put_num(char *buf, size_t cap, size_t *len, const char *name,
                    double v)
{
    int k;

    if (isfinite(v))
        k = snprintf(buf + *len, cap - *len, ",\"%s\":%.10g", name, v);
    else
        k = snprintf(buf + *len, cap - *len, ",\"%s\":null", name);
    if (k > 0)
        *len += (size_t)k < cap - *len ? (size_t)k : cap - *len - 1;
}

/* The JSON line for r (with `extra`), malloc'd and NUL-terminated; its
 * length in *len. NULL if out of memory. */
static char *report_line(const entropy_report *r, const char *extra,
                         size_t *len)
{
    char head[512]; /* 9 members of at most 40 bytes each */
    size_t n, xlen = extra && *extra ? strlen(extra) : 0;
    char *line;

    n = (size_t)snprintf(head, sizeof(head), "{\"t_ms\":%llu",
                         (unsigned long long)r->t_ms);
    put_num(head, sizeof(head), &n, "items", r->items);
    put_num(head, sizeof(head), &n, "bytes", r->bytes);
    put_num(head, sizeof(head), &n, "ops", r->ops);
    put_num(head, sizeof(head), &n, "items_norm", r->items_norm);
    put_num(head, sizeof(head), &n, "bytes_norm", r->bytes_norm);
    put_num(head, sizeof(head), &n, "ops_norm", r->ops_norm);
    put_num(head, sizeof(head), &n, "trend", r->trend);
    put_num(head, sizeof(head), &n, "stability", r->stability);

    /* head, then ",extra" if any, then "}\n" */
    *len = n + (xlen ? 1 + xlen : 0) + 2;
    if (!(line = malloc(*len + 1)))
        return NULL;
    memcpy(line, head, n);
    if (xlen) {
        line[n++] = ',';
        memcpy(line + n, extra, xlen);
        n += xlen;
    }
    memcpy(line + n, "}\n", 3);
    return line;
}

/* DIR/entropy/YYYY-MM-DD.jsonl for the UTC day of t_ms, malloc'd, with
 * DIR/entropy created if missing. NULL and *err = -errno on failure. */
static char *log_path(const char *dir, uint64_t t_ms, int *err)
{
    time_t t = (time_t)(t_ms / 1000);
    struct tm tm;
    char *path;
    size_t cap = strlen(dir) + sizeof("/entropy/YYYYYYYYYYY-MM-DD.jsonl");

    if (!gmtime_r(&t, &tm)) {
        *err = -EOVERFLOW;
        return NULL;
    }
    if (!(path = malloc(cap))) {
        *err = -ENOMEM;
        return NULL;
    }
    snprintf(path, cap, "%s/entropy", dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        *err = -errno;
        free(path);
        return NULL;
    }
    snprintf(path, cap, "%s/entropy/%04d-%02d-%02d.jsonl", dir,
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    return path;
}

int entropy_append_jsonl(const char *dir, const entropy_report *r,
                         const char *extra)
{
    char *path = NULL, *line = NULL;
    size_t len;
    FILE *f;
    int rc = 0;

    if (!dir || !r)
        return -EINVAL;
    if (!(path = log_path(dir, r->t_ms, &rc)))
        return rc;
    if (!(line = report_line(r, extra, &len))) {
        rc = -ENOMEM;
        goto out;
    }
    /* "a" opens with O_APPEND: every write lands at the end of the file,
     * whoever else appends. Unbuffered, glibc hands the whole fwrite to one
     * write(2) (looping only on a partial write), so a reader never sees a
     * line cut at a stdio buffer boundary. */
    if (!(f = fopen(path, "a"))) {
        rc = -errno;
        goto out;
    }
    setvbuf(f, NULL, _IONBF, 0);
    errno = 0;
    if (fwrite(line, 1, len, f) != len)
        rc = errno ? -errno : -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
out:
    free(line);
    free(path);
    return rc;
}
