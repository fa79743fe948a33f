/*
 * t_series.c - time series over RESP, with RedisTimeSeries' argument and
 * reply shapes for the common forms, on the engine's warp_ts_* API
 * (docs/SERIES.md):
 *
 *   TS.CREATE key [RETENTION ms]                     +OK
 *   TS.ADD key timestamp|* value [RETENTION ms]      :timestamp
 *   TS.GET key                                       [ts, value] or []
 *   TS.RANGE key from|- to|+ [COUNT n]
 *            [AGGREGATION avg|sum|min|max|count bucketMs]
 *                                                    [[ts, value], ...]
 *   TS.INFO key                                      a map (RedisTimeSeries'
 *                                                    field names)
 *
 * Values are RESP3 doubles, or bulk strings in RESP2 (what RedisTimeSeries
 * sends). Series live in the engine's series namespace, beside the string
 * keys: a name that holds a string answers -WRONGTYPE to TS.* (as
 * RedisTimeSeries does), and a series that does not exist -ERR TSDB: the
 * key does not exist. Differences from RedisTimeSeries: a sample at a
 * timestamp the series holds replaces it (DUPLICATE_POLICY LAST, where
 * RedisTimeSeries blocks by default); RETENTION counts back from the
 * newest sample ever added; ENCODING, CHUNK_SIZE, DUPLICATE_POLICY,
 * LABELS, ALIGN, FILTER_BY_* and compaction rules are not supported; the
 * string commands (GET, SET, DEL ...) do not see series.
 */
#include "command.h"
#include "keyspace.h"
#include "resp.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define RANGE_PAGE 1024 /* samples fetched per engine call */

/* Reply the error for a series that warp_ts_* did not find: -WRONGTYPE if
 * the name holds a string, else RedisTimeSeries' missing-key error. */
static void add_missing(wd_client *c)
{
    wd_value v;

    if (kv_lookup(c, c->argv[1], c->argvlen[1], &v) == WARP_OK)
        add_error(c, "WRONGTYPE Operation against a key holding the wrong "
                     "kind of value");
    else
        add_error(c, "ERR TSDB: the key does not exist");
}

/* Whether the series exists (with or without samples). */
static bool series_exists(wd_client *c)
{
    size_t n;

    return warp_ts_range(server.db, c->argv[1], c->argvlen[1], 1, 0, NULL, 0,
                         &n) == WARP_OK;
}

/* True, after replying -WRONGTYPE, if the name holds a string. `locked`:
 * the caller holds the name's stripe, which kv_lookup() would take again
 * to expire the value (a stripe is not re-entrant). */
static bool holds_string(wd_client *c, bool locked)
{
    wd_value v;
    int rc = locked ? kv_lookup_locked(c, c->argv[1], c->argvlen[1], &v)
                    : kv_lookup(c, c->argv[1], c->argvlen[1], &v);

    if (rc != WARP_OK)
        return false;
    add_error(c, "WRONGTYPE Operation against a key holding the wrong kind of "
                 "value");
    return true;
}

static void add_ts_error(wd_client *c, int rc)
{
    if (rc == WARP_NOTFOUND)
        add_missing(c);
    else
        add_engine_error(c, rc);
}

/* Parse [RETENTION ms] from argv[from..]. *retention stays -1 without it.
 * Replies and returns false on error. */
static bool retention_option(wd_client *c, int from, int64_t *retention)
{
    *retention = -1;
    for (int i = from; i < c->argc; i += 2) {
        if (!arg_eq(c, i, "retention") || i + 1 >= c->argc) {
            add_error(c, "ERR TSDB: unknown or unsupported option (warpd "
                         "takes RETENTION only)");
            return false;
        }
        if (!str_to_ll(c->argv[i + 1], c->argvlen[i + 1], retention) ||
            *retention < 0) {
            add_error(c, "ERR TSDB: invalid retention value");
            return false;
        }
    }
    return true;
}

void ts_create_cmd(wd_client *c)
{
    uint32_t s = key_stripe(c->argv[1], c->argvlen[1]);
    int64_t retention;
    int rc;

    if (!retention_option(c, 2, &retention))
        return;
    stripe_lock(s); /* two TS.CREATEs of one name: one wins */
    if (holds_string(c, true)) {
        stripe_unlock(s);
        return;
    }
    if (series_exists(c)) {
        stripe_unlock(s);
        add_error(c, "ERR TSDB: key already exists");
        return;
    }
    rc = warp_ts_set_retention(server.db, c->argv[1], c->argvlen[1],
                               retention < 0 ? 0 : retention);
    stripe_unlock(s);
    if (rc != WARP_OK) {
        add_engine_error(c, rc);
        return;
    }
    add_ok(c);
}

/* TS.ADD key timestamp|* value [RETENTION ms]: RETENTION applies when the
 * add creates the series, as in RedisTimeSeries. */
void ts_add_cmd(wd_client *c)
{
    int64_t ts, retention;
    double value;
    int rc;

    if (c->argvlen[2] == 1 && c->argv[2][0] == '*')
        ts = (int64_t)wd_now_ms();
    else if (!str_to_ll(c->argv[2], c->argvlen[2], &ts) || ts < 0) {
        add_error(c, "ERR TSDB: invalid timestamp, must be a nonnegative "
                     "integer");
        return;
    }
    if (!str_to_double(c->argv[3], c->argvlen[3], &value)) {
        add_error(c, "ERR TSDB: invalid value");
        return;
    }
    if (!retention_option(c, 4, &retention) || holds_string(c, false))
        return;
    if (retention >= 0 && !series_exists(c)) {
        rc = warp_ts_set_retention(server.db, c->argv[1], c->argvlen[1],
                                   retention);
        if (rc != WARP_OK) {
            add_engine_error(c, rc);
            return;
        }
    }
    rc = warp_ts_add(server.db, c->argv[1], c->argvlen[1], ts, value);
    if (rc == WARP_EINVAL) {
        add_error(c, "ERR TSDB: Timestamp is older than retention");
        return;
    }
    if (rc != WARP_OK) {
        add_engine_error(c, rc);
        return;
    }
    add_int(c, ts);
}

static void add_sample(wd_client *c, const warp_ts_sample *s)
{
    add_array(c, 2);
    add_int(c, s->ts);
    add_double(c, s->value);
}

void ts_get_cmd(wd_client *c)
{
    warp_ts_sample s;
    int rc = warp_ts_last(server.db, c->argv[1], c->argvlen[1], &s);

    if (rc == WARP_OK)
        add_sample(c, &s);
    else if (rc == WARP_NOTFOUND && series_exists(c))
        add_array(c, 0); /* a series with no sample */
    else
        add_ts_error(c, rc);
}

/* A TS.RANGE request. */
typedef struct range_req {
    int64_t from, to;
    uint64_t count; /* UINT64_MAX: no COUNT */
    bool aggregate;
    warp_ts_agg agg;
    int64_t bucket;
} range_req;

/* Parse a range bound: -, + or an integer. */
static bool parse_bound(wd_client *c, int i, int64_t *out)
{
    if (c->argvlen[i] == 1 && c->argv[i][0] == '-')
        *out = INT64_MIN;
    else if (c->argvlen[i] == 1 && c->argv[i][0] == '+')
        *out = INT64_MAX;
    else
        return str_to_ll(c->argv[i], c->argvlen[i], out);
    return true;
}

/* Parse an aggregation name, in any case. */
static bool parse_agg(wd_client *c, int i, warp_ts_agg *out)
{
    char name[8];

    if (c->argvlen[i] >= sizeof name)
        return false;
    for (size_t k = 0; k < c->argvlen[i]; k++)
        name[k] = (char)tolower((unsigned char)c->argv[i][k]);
    name[c->argvlen[i]] = '\0';
    return warp_ts_agg_parse(name, out) == WARP_OK;
}

/* Parse TS.RANGE's arguments. Replies and returns false on error. */
static bool range_args(wd_client *c, range_req *r)
{
    int64_t n;

    *r = (range_req){.count = UINT64_MAX};
    if (!parse_bound(c, 2, &r->from)) {
        add_error(c, "ERR TSDB: invalid fromTimestamp");
        return false;
    }
    if (!parse_bound(c, 3, &r->to)) {
        add_error(c, "ERR TSDB: invalid toTimestamp");
        return false;
    }
    for (int i = 4; i < c->argc;) {
        if (arg_eq(c, i, "count") && i + 1 < c->argc) {
            if (!str_to_ll(c->argv[i + 1], c->argvlen[i + 1], &n) || n <= 0) {
                add_error(c, "ERR TSDB: Invalid COUNT value");
                return false;
            }
            r->count = (uint64_t)n;
            i += 2;
        } else if (arg_eq(c, i, "aggregation") && i + 2 < c->argc) {
            if (!parse_agg(c, i + 1, &r->agg)) {
                add_error(c, "ERR TSDB: Unknown aggregation type (warpd "
                             "has avg, sum, min, max, count)");
                return false;
            }
            if (!str_to_ll(c->argv[i + 2], c->argvlen[i + 2], &r->bucket) ||
                r->bucket <= 0) {
                add_error(c, "ERR TSDB: bucketDuration must be greater "
                             "than zero");
                return false;
            }
            r->aggregate = true;
            i += 3;
        } else {
            add_error(c, "ERR TSDB: unknown or unsupported option (warpd "
                         "takes COUNT and AGGREGATION)");
            return false;
        }
    }
    return true;
}

/* Fetch one page of at most `cap` results from r->from on. */
static int range_page(wd_client *c, const range_req *r, warp_ts_sample *out,
                      size_t cap, size_t *n)
{
    if (r->aggregate)
        return warp_ts_aggregate(server.db, c->argv[1], c->argvlen[1], r->from,
                                 r->to, r->agg, r->bucket, out, cap, n);
    return warp_ts_range(server.db, c->argv[1], c->argvlen[1], r->from, r->to,
                         out, cap, n);
}

/* Every result of the request, page by page, into *out (malloc'd; the
 * caller frees it). Returns WARP_OK, WARP_NOTFOUND or an engine error. */
static int range_collect(wd_client *c, range_req *r, warp_ts_sample **out,
                         size_t *total)
{
    warp_ts_sample *all = NULL;
    size_t cap = 0, n;
    int rc;

    *total = 0;
    for (;;) {
        uint64_t want = r->count - *total;
        size_t page = want < RANGE_PAGE ? (size_t)want : RANGE_PAGE;
        if (*total + page > cap) {
            size_t ncap = cap ? cap * 2 : RANGE_PAGE;
            warp_ts_sample *p = realloc(all, ncap * sizeof *p);
            if (!p) {
                rc = WARP_ENOMEM;
                break;
            }
            all = p;
            cap = ncap;
        }
        rc = range_page(c, r, all + *total, page, &n);
        if (rc != WARP_OK)
            break;
        *total += n;
        if (n < page || *total == r->count)
            break;
        /* The next page starts after this one's last result. */
        int64_t last = all[*total - 1].ts;
        int64_t step = r->aggregate ? r->bucket : 1;
        if (last > INT64_MAX - step || last + step > r->to)
            break;
        r->from = last + step;
    }
    if (rc != WARP_OK) {
        free(all);
        all = NULL;
        *total = 0;
    }
    *out = all;
    return rc;
}

void ts_range_cmd(wd_client *c)
{
    warp_ts_sample *s;
    range_req r;
    size_t n;
    int rc;

    if (!range_args(c, &r))
        return;
    rc = range_collect(c, &r, &s, &n);
    if (rc != WARP_OK) {
        add_ts_error(c, rc);
        return;
    }
    add_array(c, (int64_t)n);
    for (size_t i = 0; i < n; i++)
        add_sample(c, &s[i]);
    free(s);
}

static void info_int(wd_client *c, const char *k, int64_t v)
{
    add_bulk_str(c, k);
    add_int(c, v);
}

/* TS.INFO key: RedisTimeSeries' fields that apply, measured by
 * warp_ts_info_get(); chunkSize is the largest chunk record (64 samples). */
void ts_info_cmd(wd_client *c)
{
    warp_ts_info info;
    int rc = warp_ts_info_get(server.db, c->argv[1], c->argvlen[1],
                              warp_ts_now(), &info);

    if (rc != WARP_OK) {
        add_ts_error(c, rc);
        return;
    }
    add_map(c, 11);
    info_int(c, "totalSamples", (int64_t)info.samples);
    info_int(c, "memoryUsage", (int64_t)info.memory_bytes);
    info_int(c, "firstTimestamp", info.first_ts);
    info_int(c, "lastTimestamp", info.last_ts);
    info_int(c, "retentionTime", info.retention_ms);
    info_int(c, "chunkCount", (int64_t)info.chunks);
    info_int(c, "chunkSize", 16 + 16 * 64);
    add_bulk_str(c, "duplicatePolicy");
    add_bulk_str(c, "last");
    add_bulk_str(c, "labels");
    add_array(c, 0);
    add_bulk_str(c, "sourceKey");
    add_null(c);
    add_bulk_str(c, "rules");
    add_array(c, 0);
}
