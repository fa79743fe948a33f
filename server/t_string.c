/*
 * t_string.c - the string commands, with Redis's semantics.
 *
 * Reads (GET, MGET, STRLEN, GETRANGE) run lock-free. Every command that
 * writes holds the key's stripe lock (keyspace.c) from its read to its
 * write, so it is atomic against other writers of the key. MSET and
 * MSETNX lock all their keys' stripes and write with one all-or-nothing
 * warp_put_batch() (readers may see some keys of it before others).
 */
#include "command.h"
#include "keyspace.h"
#include "resp.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXP_NONE    0
#define EXP_KEEPTTL 1
#define EXP_PERSIST 2
#define EXP_AT      3 /* *expire_ms is set */

static void add_value(wd_client *c, const wd_value *v)
{
    add_bulk(c, v->p, v->len);
}

static void hit(wd_client *c, bool found)
{
    if (found)
        STAT_ADD(&c->loop->stats, hits, 1);
    else
        STAT_ADD(&c->loop->stats, misses, 1);
}

/* Parse an expiry argument of `unit` ms (1000 or 1), relative or absolute,
 * into Unix ms. Replies and returns false on error. */
static bool parse_expiry(wd_client *c, int i, int64_t unit, bool absolute,
                         const char *cmd, int64_t *out)
{
    int64_t v, now = (int64_t)wd_now_ms();

    if (!arg_ll(c, i, &v))
        return false;
    if (v <= 0 || v > INT64_MAX / unit ||
        (!absolute && v * unit > INT64_MAX - now)) {
        add_errorf(c, "ERR invalid expire time in '%s' command", cmd);
        return false;
    }
    *out = v * unit + (absolute ? 0 : now);
    return true;
}

/* Parse SET's or GETEX's expiry options from argv[i]; sets *kind and
 * *expire. `*i` advances past a value. Returns 1 if argv[*i] was one, 0
 * if not, -1 after replying an error. */
static int expiry_option(wd_client *c, int *i, const char *cmd, int *kind,
                         int64_t *expire)
{
    static const struct {
        const char *name;
        int64_t unit;
        bool absolute;
    } opts[] = {{"ex", 1000, false},
                {"px", 1, false},
                {"exat", 1000, true},
                {"pxat", 1, true}};

    for (size_t k = 0; k < 4; k++) {
        if (!arg_eq(c, *i, opts[k].name))
            continue;
        if (*kind != EXP_NONE || *i + 1 >= c->argc) {
            add_syntax_error(c);
            return -1;
        }
        if (!parse_expiry(c, *i + 1, opts[k].unit, opts[k].absolute, cmd,
                          expire))
            return -1;
        *kind = EXP_AT;
        (*i)++;
        return 1;
    }
    return 0;
}

/* Write key = s (n bytes) with `expire` (0: none); an expiry already due
 * deletes the key instead, as Redis does. The stripe is locked. */
static int write_value(wd_client *c, const char *k, size_t klen, const char *s,
                       size_t n, int64_t expire)
{
    char *p;

    if (expire && (uint64_t)expire <= wd_now_ms()) {
        int rc = kv_delete(c, k, klen);
        return rc == WARP_NOTFOUND ? WARP_OK : rc;
    }
    p = kv_prepare(c, expire, n);
    if (!p)
        return WARP_ENOMEM;
    memcpy(p, s, n);
    return kv_commit(c, k, klen);
}

/* ------------------------------------------------------------------------ */

/* GET's reply for key k: the value, nil, or the engine's error. */
static void get_reply(wd_client *c, const char *k, size_t klen)
{
    wd_value v;
    int rc = kv_lookup(c, k, klen, &v);

    hit(c, rc == WARP_OK);
    if (rc == WARP_OK)
        add_value(c, &v);
    else if (rc == WARP_NOTFOUND)
        add_null(c);
    else
        add_engine_error(c, rc);
}

void get_cmd(wd_client *c)
{
    get_reply(c, c->argv[1], c->argvlen[1]);
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL] */
void set_cmd(wd_client *c)
{
    bool nx = false, xx = false, get = false;
    int kind = EXP_NONE, rc;
    int64_t expire = 0;
    const char *k = c->argv[1];
    size_t klen = c->argvlen[1];
    uint32_t s;
    wd_value old;
    bool exists = false;

    for (int i = 3; i < c->argc; i++) {
        int r = expiry_option(c, &i, "set", &kind, &expire);
        if (r < 0)
            return;
        if (r > 0)
            continue;
        if (arg_eq(c, i, "nx") && !xx)
            nx = true;
        else if (arg_eq(c, i, "xx") && !nx)
            xx = true;
        else if (arg_eq(c, i, "get"))
            get = true;
        else if (arg_eq(c, i, "keepttl") && kind == EXP_NONE)
            kind = EXP_KEEPTTL;
        else {
            add_syntax_error(c);
            return;
        }
    }
    s = key_stripe(k, klen);
    stripe_lock(s);
    if (nx || xx || get || kind == EXP_KEEPTTL) {
        rc = kv_lookup_locked(c, k, klen, &old);
        if (rc != WARP_OK && rc != WARP_NOTFOUND) {
            stripe_unlock(s);
            add_engine_error(c, rc);
            return;
        }
        exists = rc == WARP_OK;
    }
    if ((nx && exists) || (xx && !exists)) {
        stripe_unlock(s);
        if (get && exists)
            add_value(c, &old);
        else
            add_null(c);
        return;
    }
    if (kind == EXP_KEEPTTL)
        expire = exists ? old.expire : 0;
    rc = write_value(c, k, klen, c->argv[2], c->argvlen[2], expire);
    stripe_unlock(s);
    if (rc != WARP_OK)
        add_engine_error(c, rc);
    else if (!get)
        add_ok(c);
    else if (exists)
        add_value(c, &old); /* old lives in the read buffer, untouched */
    else
        add_null(c);
}

/* SETNX, and the write half of MSETNX-like checks. */
void setnx_cmd(wd_client *c)
{
    uint32_t s = key_stripe(c->argv[1], c->argvlen[1]);
    wd_value v;
    int rc;

    stripe_lock(s);
    rc = kv_lookup_locked(c, c->argv[1], c->argvlen[1], &v);
    if (rc == WARP_NOTFOUND)
        rc = write_value(c, c->argv[1], c->argvlen[1], c->argv[2],
                         c->argvlen[2], 0);
    else if (rc == WARP_OK)
        rc = 1;
    stripe_unlock(s);
    if (rc < 0)
        add_engine_error(c, rc);
    else
        add_int(c, rc == 1 ? 0 : 1);
}

static void setex_generic(wd_client *c, int64_t unit, const char *cmd)
{
    int64_t expire;
    uint32_t s;
    int rc;

    if (!parse_expiry(c, 2, unit, false, cmd, &expire))
        return;
    s = key_stripe(c->argv[1], c->argvlen[1]);
    stripe_lock(s);
    rc = write_value(c, c->argv[1], c->argvlen[1], c->argv[3], c->argvlen[3],
                     expire);
    stripe_unlock(s);
    if (rc != WARP_OK)
        add_engine_error(c, rc);
    else
        add_ok(c);
}

void setex_cmd(wd_client *c)
{
    setex_generic(c, 1000, "setex");
}

void psetex_cmd(wd_client *c)
{
    setex_generic(c, 1, "psetex");
}

void getset_cmd(wd_client *c)
{
    uint32_t s = key_stripe(c->argv[1], c->argvlen[1]);
    wd_value old;
    int rc, wrc;

    stripe_lock(s);
    rc = kv_lookup_locked(c, c->argv[1], c->argvlen[1], &old);
    if (rc != WARP_OK && rc != WARP_NOTFOUND) {
        stripe_unlock(s);
        add_engine_error(c, rc);
        return;
    }
    wrc =
        write_value(c, c->argv[1], c->argvlen[1], c->argv[2], c->argvlen[2], 0);
    stripe_unlock(s);
    if (wrc != WARP_OK)
        add_engine_error(c, wrc);
    else if (rc == WARP_OK)
        add_value(c, &old);
    else
        add_null(c);
}

void getdel_cmd(wd_client *c)
{
    uint32_t s = key_stripe(c->argv[1], c->argvlen[1]);
    wd_value v;
    int rc;

    stripe_lock(s);
    rc = kv_lookup_locked(c, c->argv[1], c->argvlen[1], &v);
    if (rc == WARP_OK) {
        int drc = kv_delete(c, c->argv[1], c->argvlen[1]);
        if (drc != WARP_OK)
            rc = drc;
    }
    stripe_unlock(s);
    hit(c, rc == WARP_OK);
    if (rc == WARP_OK)
        add_value(c, &v);
    else if (rc == WARP_NOTFOUND)
        add_null(c);
    else
        add_engine_error(c, rc);
}

/* GETEX key [EX s|PX ms|EXAT t|PXAT t|PERSIST] */
void getex_cmd(wd_client *c)
{
    int kind = EXP_NONE, rc;
    int64_t expire = 0;
    uint32_t s;
    wd_value v;

    for (int i = 2; i < c->argc; i++) {
        int r = expiry_option(c, &i, "getex", &kind, &expire);
        if (r < 0)
            return;
        if (r == 0 && arg_eq(c, i, "persist") && kind == EXP_NONE)
            kind = EXP_PERSIST;
        else if (r == 0) {
            add_syntax_error(c);
            return;
        }
    }
    s = key_stripe(c->argv[1], c->argvlen[1]);
    stripe_lock(s);
    rc = kv_lookup_locked(c, c->argv[1], c->argvlen[1], &v);
    if (rc == WARP_OK &&
        (kind == EXP_AT || (kind == EXP_PERSIST && v.expire))) {
        /* v.p stays valid: the write goes through the write buffer */
        int wrc = write_value(c, c->argv[1], c->argvlen[1], v.p, v.len,
                              kind == EXP_AT ? expire : 0);
        if (wrc != WARP_OK)
            rc = wrc;
    }
    stripe_unlock(s);
    hit(c, rc == WARP_OK);
    if (rc == WARP_OK)
        add_value(c, &v);
    else if (rc == WARP_NOTFOUND)
        add_null(c);
    else
        add_engine_error(c, rc);
}

/* MGET looks keys up MGET_CHUNK at a time, each into a MGET_SLOT-byte
 * slot of the loop's scratch buffer (a value too big for its slot is
 * fetched alone): the buffer stays at 512 KiB, whatever the key count. */
#define MGET_SLOT  512
#define MGET_CHUNK 1024

/* Reply to MGET's keys first .. first+n-1 (n <= MGET_CHUNK). */
static void mget_chunk(wd_client *c, warp_get_item *items, size_t first,
                       size_t n, uint64_t now)
{
    wd_buf *rb = &c->loop->scratch;

    for (size_t i = 0; i < n; i++)
        items[i] = (warp_get_item){.key = c->argv[first + i],
                                   .klen = c->argvlen[first + i],
                                   .buf = rb->p + i * MGET_SLOT,
                                   .cap = MGET_SLOT};
    warp_get_batch(server.db, items, n);
    for (size_t i = 0; i < n && !c->closing; i++) { /* closing: no reply */
        wd_value v;
        void *big = NULL;
        size_t blen;
        int rc = items[i].rc;
        const char *raw = items[i].buf;
        if (rc == WARP_ERANGE) { /* too big for its slot: fetch it alone */
            rc = warp_get_alloc(server.db, items[i].key, items[i].klen, &big,
                                &blen, NULL);
            raw = big;
            items[i].vlen = blen;
        }
        if (rc == WARP_OK && (value_decode(raw, items[i].vlen, &v) != 0 ||
                              (v.expire && (uint64_t)v.expire <= now)))
            rc = WARP_NOTFOUND; /* expired, or not a string value */
        hit(c, rc == WARP_OK);
        if (rc == WARP_OK)
            add_value(c, &v);
        else
            add_null(c);
        warp_free(big);
    }
}

void mget_cmd(wd_client *c)
{
    size_t n = (size_t)c->argc - 1, chunk = n < MGET_CHUNK ? n : MGET_CHUNK;
    wd_buf *rb = &c->loop->scratch;
    warp_get_item *items = calloc(chunk, sizeof *items);
    uint64_t now = wd_now_ms();

    rb->len = 0;
    if (!items || !buf_reserve(rb, chunk * MGET_SLOT)) {
        free(items);
        add_engine_error(c, WARP_ENOMEM);
        return;
    }
    add_array(c, (int64_t)n);
    for (size_t done = 0; done < n && !c->closing; done += chunk) {
        size_t m = n - done < chunk ? n - done : chunk;
        mget_chunk(c, items, 1 + done, m, now);
    }
    free(items);
}

/* ------------------------------------------------------------------------ */
/* Runs of pipelined GETs (net.c)                                            */
/* ------------------------------------------------------------------------ */

bool getrun_fits(const wd_client *c)
{
    return c->argc == 2 && c->parser.reqtype == 1 && c->authenticated &&
           c->argvlen[0] == 3 && (c->argv[0][0] | 0x20) == 'g' &&
           (c->argv[0][1] | 0x20) == 'e' && (c->argv[0][2] | 0x20) == 't' &&
           !key_reserved(c->argv[1], c->argvlen[1]);
}

void getrun_add(wd_client *c, wd_getrun *r)
{
    assert(r->n < GETRUN_MAX);
    r->key[r->n] = c->argv[1];
    r->klen[r->n] = c->argvlen[1];
    r->n++;
}

void getrun_flush(wd_client *c, wd_getrun *r)
{
    wd_buf *rb = &c->loop->batch;
    warp_get_item items[GETRUN_MAX];
    uint64_t now = wd_now_ms();
    int n = r->n;

    r->n = 0;
    if (n == 0)
        return;
    if (!buf_reserve(rb, (size_t)n * GETRUN_SLOT)) {
        for (int i = 0; i < n; i++)
            get_reply(c, r->key[i], r->klen[i]);
        return;
    }
    for (int i = 0; i < n; i++)
        items[i] = (warp_get_item){.key = r->key[i],
                                   .klen = r->klen[i],
                                   .buf = rb->p + (size_t)i * GETRUN_SLOT,
                                   .cap = GETRUN_SLOT};
    warp_get_batch(server.db, items, (size_t)n);
    for (int i = 0; i < n; i++) {
        wd_value v;
        if (items[i].rc == WARP_NOTFOUND) {
            hit(c, false);
            add_null(c);
        } else if (items[i].rc == WARP_OK &&
                   value_decode(items[i].buf, items[i].vlen, &v) == 0 &&
                   !(v.expire && (uint64_t)v.expire <= now)) {
            hit(c, true);
            add_value(c, &v);
        } else {
            get_reply(c, r->key[i], r->klen[i]);
        }
    }
}

void mset_cmd(wd_client *c)
{
    uint32_t *ids;
    size_t n;
    int rc;

    if (c->argc % 2 == 0) {
        add_wrong_arity(c, "mset");
        return;
    }
    ids = malloc((size_t)c->argc * sizeof *ids);
    if (!ids) {
        add_engine_error(c, WARP_ENOMEM);
        return;
    }
    n = stripes_lock_keys(c, 1, c->argc - 1, 2, ids);
    rc = kv_mset(c);
    stripes_unlock(ids, n);
    free(ids);
    if (rc != WARP_OK)
        add_engine_error(c, rc);
    else
        add_ok(c);
}

void msetnx_cmd(wd_client *c)
{
    uint32_t *ids;
    size_t n;
    int rc = WARP_OK;
    bool any = false;

    if (c->argc % 2 == 0) {
        add_wrong_arity(c, "msetnx");
        return;
    }
    ids = malloc((size_t)c->argc * sizeof *ids);
    if (!ids) {
        add_engine_error(c, WARP_ENOMEM);
        return;
    }
    n = stripes_lock_keys(c, 1, c->argc - 1, 2, ids);
    for (int i = 1; i < c->argc && !any && rc == WARP_OK; i += 2) {
        wd_value v;
        int r = kv_lookup_locked(c, c->argv[i], c->argvlen[i], &v);
        if (r == WARP_OK)
            any = true;
        else if (r != WARP_NOTFOUND)
            rc = r;
    }
    if (!any && rc == WARP_OK)
        rc = kv_mset(c);
    stripes_unlock(ids, n);
    free(ids);
    if (rc != WARP_OK)
        add_engine_error(c, rc);
    else
        add_int(c, any ? 0 : 1);
}

static bool too_long(wd_client *c, uint64_t len)
{
    if (len <= atomic_load_explicit(&server.cfg.proto_max_bulk_len,
                                    memory_order_relaxed))
        return false;
    add_error(c, "ERR string exceeds maximum allowed size "
                 "(proto-max-bulk-len)");
    return true;
}

void append_cmd(wd_client *c)
{
    uint32_t s = key_stripe(c->argv[1], c->argvlen[1]);
    wd_value v = {0};
    size_t add = c->argvlen[2];
    int rc;
    char *p;

    stripe_lock(s);
    rc = kv_lookup_locked(c, c->argv[1], c->argvlen[1], &v);
    if (rc == WARP_NOTFOUND) {
        v.len = 0;
        v.expire = 0;
        rc = WARP_OK;
    }
    if (rc == WARP_OK && too_long(c, v.len + add)) {
        stripe_unlock(s);
        return;
    }
    if (rc == WARP_OK) {
        p = kv_prepare(c, v.expire, v.len + add);
        if (!p)
            rc = WARP_ENOMEM;
        else {
            if (v.len)
                memcpy(p, v.p, v.len);
            memcpy(p + v.len, c->argv[2], add);
            rc = kv_commit(c, c->argv[1], c->argvlen[1]);
        }
    }
    stripe_unlock(s);
    if (rc != WARP_OK)
        add_engine_error(c, rc);
    else
        add_int(c, (int64_t)(v.len + add));
}

void strlen_cmd(wd_client *c)
{
    wd_value v;
    int rc = kv_lookup(c, c->argv[1], c->argvlen[1], &v);

    if (rc == WARP_OK)
        add_int(c, (int64_t)v.len);
    else if (rc == WARP_NOTFOUND)
        add_int(c, 0);
    else
        add_engine_error(c, rc);
}

void getrange_cmd(wd_client *c)
{
    int64_t start, end, len;
    wd_value v;
    int rc;

    if (!arg_ll(c, 2, &start) || !arg_ll(c, 3, &end))
        return;
    rc = kv_lookup(c, c->argv[1], c->argvlen[1], &v);
    if (rc == WARP_NOTFOUND) {
        add_bulk(c, "", 0);
        return;
    }
    if (rc != WARP_OK) {
        add_engine_error(c, rc);
        return;
    }
    len = (int64_t)v.len;
    if (start < 0 && end < 0 && start > end) {
        add_bulk(c, "", 0);
        return;
    }
    if (start < 0)
        start = len + start;
    if (end < 0)
        end = len + end;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= len)
        end = len - 1;
    if (len == 0 || start > end)
        add_bulk(c, "", 0);
    else
        add_bulk(c, v.p + start, (size_t)(end - start + 1));
}

void setrange_cmd(wd_client *c)
{
    uint32_t s;
    int64_t off;
    wd_value v = {0};
    size_t add = c->argvlen[3], nlen;
    int rc;
    char *p;

    if (!arg_ll(c, 2, &off))
        return;
    if (off < 0) {
        add_error(c, "ERR offset is out of range");
        return;
    }
    if (too_long(c, (uint64_t)off + add))
        return;
    s = key_stripe(c->argv[1], c->argvlen[1]);
    stripe_lock(s);
    rc = kv_lookup_locked(c, c->argv[1], c->argvlen[1], &v);
    if (rc == WARP_NOTFOUND) {
        v = (wd_value){0};
        rc = WARP_OK;
        if (add == 0) { /* nothing to write: the key stays absent */
            stripe_unlock(s);
            add_int(c, 0);
            return;
        }
    }
    nlen = v.len;
    if (rc == WARP_OK && add > 0) {
        if ((size_t)off + add > nlen)
            nlen = (size_t)off + add;
        p = kv_prepare(c, v.expire, nlen);
        if (!p)
            rc = WARP_ENOMEM;
        else {
            if (v.len)
                memcpy(p, v.p, v.len);
            if ((size_t)off > v.len)
                memset(p + v.len, 0, (size_t)off - v.len);
            memcpy(p + off, c->argv[3], add);
            rc = kv_commit(c, c->argv[1], c->argvlen[1]);
        }
    }
    stripe_unlock(s);
    if (rc != WARP_OK)
        add_engine_error(c, rc);
    else
        add_int(c, (int64_t)nlen);
}

static void incr_generic(wd_client *c, int64_t by)
{
    uint32_t s = key_stripe(c->argv[1], c->argvlen[1]);
    wd_value v = {0};
    int64_t cur = 0;
    char tmp[32];
    int rc, n;

    stripe_lock(s);
    rc = kv_lookup_locked(c, c->argv[1], c->argvlen[1], &v);
    if (rc == WARP_NOTFOUND) {
        v.expire = 0;
        rc = WARP_OK;
    } else if (rc == WARP_OK && !str_to_ll(v.p, v.len, &cur)) {
        stripe_unlock(s);
        add_not_integer(c);
        return;
    }
    if (rc == WARP_OK && ((by < 0 && cur < INT64_MIN - by) ||
                          (by > 0 && cur > INT64_MAX - by))) {
        stripe_unlock(s);
        add_error(c, "ERR increment or decrement would overflow");
        return;
    }
    if (rc == WARP_OK) {
        cur += by;
        n = snprintf(tmp, sizeof tmp, "%lld", (long long)cur);
        rc =
            write_value(c, c->argv[1], c->argvlen[1], tmp, (size_t)n, v.expire);
    }
    stripe_unlock(s);
    if (rc != WARP_OK)
        add_engine_error(c, rc);
    else
        add_int(c, cur);
}

void incr_cmd(wd_client *c)
{
    incr_generic(c, 1);
}

void decr_cmd(wd_client *c)
{
    incr_generic(c, -1);
}

void incrby_cmd(wd_client *c)
{
    int64_t by;
    if (arg_ll(c, 2, &by))
        incr_generic(c, by);
}

void decrby_cmd(wd_client *c)
{
    int64_t by;
    if (!arg_ll(c, 2, &by))
        return;
    if (by == INT64_MIN) {
        add_error(c, "ERR decrement would overflow");
        return;
    }
    incr_generic(c, -by);
}

/* Redis's string2ld: the whole string, no spaces, not NaN. */
static bool str_to_ld(const char *s, size_t n, long double *out)
{
    char buf[5120];
    char *end;
    long double v;

    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (buf[0] == ' ' || buf[0] == '\t' || buf[n - 1] == ' ')
        return false;
    errno = 0;
    v = strtold(buf, &end);
    if (end != buf + n || isnan(v) || (errno == ERANGE && isinf(v)))
        return false;
    *out = v;
    return true;
}

/* Redis's ld2string in human mode: %.17Lf without trailing zeros. */
static int format_ld(long double v, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%.17Lf", v);
    if (n <= 0 || (size_t)n >= cap)
        return snprintf(buf, cap, "%.17Lg", v);
    if (strchr(buf, '.')) {
        while (n > 0 && buf[n - 1] == '0')
            n--;
        if (n > 0 && buf[n - 1] == '.')
            n--;
        buf[n] = '\0';
    }
    if (n == 2 && buf[0] == '-' && buf[1] == '0')
        n = snprintf(buf, cap, "0");
    return n;
}

void incrbyfloat_cmd(wd_client *c)
{
    uint32_t s;
    wd_value v = {0};
    long double cur = 0, by;
    char tmp[5200];
    int rc, n;

    if (!str_to_ld(c->argv[2], c->argvlen[2], &by)) {
        add_error(c, "ERR value is not a valid float");
        return;
    }
    s = key_stripe(c->argv[1], c->argvlen[1]);
    stripe_lock(s);
    rc = kv_lookup_locked(c, c->argv[1], c->argvlen[1], &v);
    if (rc == WARP_NOTFOUND) {
        v.expire = 0;
        rc = WARP_OK;
    } else if (rc == WARP_OK && !str_to_ld(v.p, v.len, &cur)) {
        stripe_unlock(s);
        add_error(c, "ERR value is not a valid float");
        return;
    }
    if (rc == WARP_OK) {
        cur += by;
        if (isnan(cur) || isinf(cur)) {
            stripe_unlock(s);
            add_error(c, "ERR increment would produce NaN or Infinity");
            return;
        }
        n = format_ld(cur, tmp, sizeof tmp);
        rc =
            write_value(c, c->argv[1], c->argvlen[1], tmp, (size_t)n, v.expire);
    }
    stripe_unlock(s);
    if (rc != WARP_OK)
        add_engine_error(c, rc);
    else
        add_bulk(c, tmp, (size_t)n);
}
