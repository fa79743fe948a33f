/*
 * resp.c - RESP request parsing and reply writing.
 *
 * THE PARSER
 *   A request is a multibulk (`*<n>\r\n` then n times `$<len>\r\n<bytes>
 *   \r\n`) or an inline command (a line of space-separated words, with
 *   "double" and 'single' quotes as redis-cli writes them). The parser is
 *   incremental: it keeps how far it got (parser.pos), the arguments read
 *   so far as offsets into the query buffer, and the pending bulk length,
 *   so bytes may arrive split anywhere and nothing is parsed twice. An
 *   argument's trailing CR is overwritten with NUL, so every argument is
 *   a C string too. Offsets, not pointers, survive the buffer's realloc.
 *
 *   Limits (each a config option): a bulk length above proto-max-bulk-len,
 *   a count above max-multibulk-len, or a line over 64 KiB without CRLF
 *   is a protocol error; the caller replies with it and closes. Before
 *   AUTH on a server with a password, the limits are 10 arguments of at
 *   most 16 KiB, as in Redis, so an unauthenticated client cannot make
 *   the server buffer much. Buffers grow with the bytes that arrive, not
 *   with what a header declares.
 */
#include "resp.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INLINE_MAX       (64u * 1024)
#define UNAUTH_MULTIBULK 10
#define UNAUTH_BULK      16384

bool buf_reserve(wd_buf *b, size_t extra)
{
    size_t want, cap;
    char *p;

    if (b->cap - b->len >= extra)
        return true;
    want = b->len + extra;
    cap = b->cap ? b->cap : 256;
    while (cap < want)
        cap *= 2;
    p = realloc(b->p, cap);
    if (!p)
        return false;
    b->p = p;
    b->cap = cap;
    return true;
}

bool buf_printf(wd_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    /* room for the NUL vsnprintf writes, which is not kept */
    if (n < 0 || !buf_reserve(b, (size_t)n + 1))
        return false;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return true;
}

void buf_free(wd_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void resp_parser_free(wd_parser *p)
{
    free(p->argoff);
    free(p->arglen);
    buf_free(&p->inline_args);
    p->argoff = p->arglen = NULL;
    p->argcap = 0;
}

static bool push_arg(wd_parser *p, size_t off, size_t len)
{
    if (p->nargs == p->argcap) {
        size_t cap = p->argcap ? p->argcap * 2 : 8;
        size_t *o = realloc(p->argoff, cap * sizeof *o);
        if (!o)
            return false;
        p->argoff = o;
        size_t *l = realloc(p->arglen, cap * sizeof *l);
        if (!l)
            return false;
        p->arglen = l;
        p->argcap = cap;
    }
    p->argoff[p->nargs] = off;
    p->arglen[p->nargs] = len;
    p->nargs++;
    return true;
}

/* Parse a decimal (optionally negative) integer of exactly n bytes. */
static bool parse_ll(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    bool neg = false;
    size_t i = 0;

    if (n == 0 || n > 20)
        return false;
    if (s[0] == '-') {
        neg = true;
        i = 1;
        if (n == 1)
            return false;
    }
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (INT64_MAX - (s[i] - '0')) / 10)
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

/* Find CRLF from `from` in qbuf; returns its offset or SIZE_MAX. */
static size_t find_crlf(wd_client *c, size_t from)
{
    const char *b = c->qbuf.p;
    const char *nl;

    if (from >= c->qbuf.len)
        return SIZE_MAX;
    nl = memchr(b + from, '\n', c->qbuf.len - from);
    if (!nl)
        return SIZE_MAX;
    return (size_t)(nl - b);
}

static bool limits_unauth(wd_client *c)
{
    return !c->authenticated &&
           atomic_load_explicit(&server.auth_required, memory_order_relaxed);
}

static int fail(wd_parser *p, const char *msg)
{
    p->error = msg;
    return -1;
}

/* Split an inline line into p->inline_args as NUL-separated words, with
 * redis-cli's quoting. Returns the number of words or -1 (bad quotes). */
static int split_inline(wd_parser *p, const char *s, size_t n)
{
    wd_buf *b = &p->inline_args;
    size_t i = 0;

    b->len = 0;
    p->nargs = 0;
    while (i < n) {
        while (i < n && isspace((unsigned char)s[i]))
            i++;
        if (i == n)
            break;
        if (!buf_reserve(b, n - i + 1))
            return -1;
        size_t start = b->len;
        char q = 0;
        if (s[i] == '"' || s[i] == '\'')
            q = s[i++];
        for (;;) {
            if (i == n) {
                if (q)
                    return -1; /* unbalanced quotes */
                break;
            }
            char ch = s[i];
            if (q && ch == q) {
                i++;
                if (i < n && !isspace((unsigned char)s[i]))
                    return -1; /* closing quote must be followed by space */
                break;
            }
            if (!q && isspace((unsigned char)ch))
                break;
            if (q == '"' && ch == '\\' && i + 1 < n) {
                i++;
                ch = s[i];
                switch (ch) {
                case 'n':
                    ch = '\n';
                    break;
                case 'r':
                    ch = '\r';
                    break;
                case 't':
                    ch = '\t';
                    break;
                case 'a':
                    ch = '\a';
                    break;
                case 'b':
                    ch = '\b';
                    break;
                case 'x':
                    if (i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
                        isxdigit((unsigned char)s[i + 2])) {
                        char hex[3] = {s[i + 1], s[i + 2], 0};
                        ch = (char)strtol(hex, NULL, 16);
                        i += 2;
                    }
                    break;
                default:
                    break;
                }
            } else if (q == '\'' && ch == '\\' && i + 1 < n &&
                       s[i + 1] == '\'') {
                i++;
                ch = '\'';
            }
            b->p[b->len++] = ch;
            i++;
        }
        b->p[b->len++] = '\0';
        if (!push_arg(p, start, b->len - start - 1))
            return -1;
    }
    return (int)p->nargs;
}

static int set_argv(wd_client *c, const char *base, size_t n)
{
    wd_parser *p = &c->parser;

    if ((int)n > c->argvcap) {
        int cap = c->argvcap ? c->argvcap : 8;
        while (cap < (int)n)
            cap *= 2;
        char **a = realloc(c->argv, (size_t)cap * sizeof *a);
        if (!a)
            return fail(p, "out of memory");
        c->argv = a;
        size_t *l = realloc(c->argvlen, (size_t)cap * sizeof *l);
        if (!l)
            return fail(p, "out of memory");
        c->argvlen = l;
        c->argvcap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        c->argv[i] = (char *)base + p->argoff[i];
        c->argvlen[i] = p->arglen[i];
    }
    c->argc = (int)n;
    return 1;
}

static int parse_inline(wd_client *c)
{
    wd_parser *p = &c->parser;
    size_t nl = find_crlf(c, p->pos);
    size_t end;
    int n;

    if (nl == SIZE_MAX) {
        if (c->qbuf.len - p->start > INLINE_MAX)
            return fail(p, "too big inline request");
        p->pos = c->qbuf.len;
        return 0;
    }
    end = nl;
    if (end > p->start && c->qbuf.p[end - 1] == '\r')
        end--;
    n = split_inline(p, c->qbuf.p + p->start, end - p->start);
    p->pos = nl + 1;
    if (n < 0)
        return fail(p, "unbalanced quotes in request");
    if (n == 0) { /* an empty line: skip it */
        resp_consume(c);
        return 2;
    }
    return set_argv(c, p->inline_args.p, (size_t)n);
}

/* Read the `*<n>` line. Returns 1 to go on, 0 for more bytes, -1. */
static int parse_multibulk_len(wd_client *c)
{
    wd_parser *p = &c->parser;
    size_t nl = find_crlf(c, p->start);
    int64_t n;

    if (nl == SIZE_MAX) {
        if (c->qbuf.len - p->start > INLINE_MAX)
            return fail(p, "too big mbulk count string");
        return 0;
    }
    if (nl == p->start || c->qbuf.p[nl - 1] != '\r')
        return fail(p, "expected '\\r', got something else");
    if (!parse_ll(c->qbuf.p + p->start + 1, nl - 1 - p->start - 1, &n))
        return fail(p, "invalid multibulk length");
    uint64_t max = limits_unauth(c)
                       ? UNAUTH_MULTIBULK
                       : atomic_load_explicit(&server.cfg.max_multibulk_len,
                                              memory_order_relaxed);
    if (n > (int64_t)max)
        return fail(p, "invalid multibulk length");
    p->pos = nl + 1;
    p->multibulk = n;
    p->bulklen = -1;
    p->nargs = 0;
    return 1;
}

/* Read bulk arguments while whole ones are there. */
static int parse_bulks(wd_client *c)
{
    wd_parser *p = &c->parser;
    char *b = c->qbuf.p;

    while (p->multibulk > 0) {
        if (p->bulklen < 0) {
            size_t nl = find_crlf(c, p->pos);
            int64_t len;
            if (nl == SIZE_MAX) {
                if (c->qbuf.len - p->pos > INLINE_MAX)
                    return fail(p, "too big bulk count string");
                return 0;
            }
            if (b[p->pos] != '$')
                return fail(p, "expected '$', got something else");
            if (nl == p->pos || b[nl - 1] != '\r')
                return fail(p, "expected '\\r', got something else");
            if (!parse_ll(b + p->pos + 1, nl - 1 - p->pos - 1, &len) || len < 0)
                return fail(p, "invalid bulk length");
            uint64_t max =
                limits_unauth(c)
                    ? UNAUTH_BULK
                    : atomic_load_explicit(&server.cfg.proto_max_bulk_len,
                                           memory_order_relaxed);
            if ((uint64_t)len > max)
                return fail(p, "invalid bulk length");
            p->bulklen = len;
            p->pos = nl + 1;
        }
        if (c->qbuf.len - p->pos < (size_t)p->bulklen + 2)
            return 0;
        if (b[p->pos + p->bulklen] != '\r' ||
            b[p->pos + p->bulklen + 1] != '\n')
            return fail(p, "expected CRLF after bulk data");
        b[p->pos + p->bulklen] = '\0';
        if (!push_arg(p, p->pos, (size_t)p->bulklen))
            return fail(p, "out of memory");
        p->pos += (size_t)p->bulklen + 2;
        p->bulklen = -1;
        p->multibulk--;
    }
    return 1;
}

int resp_parse(wd_client *c)
{
    wd_parser *p = &c->parser;
    int rc;

    for (;;) {
        if (p->start >= c->qbuf.len)
            return 0;
        if (p->reqtype == 0) {
            p->reqtype = c->qbuf.p[p->start] == '*' ? 1 : 2;
            p->pos = p->start;
        }
        if (p->reqtype == 2) {
            rc = parse_inline(c);
            if (rc == 2)
                continue; /* empty line */
            return rc;
        }
        if (p->multibulk == 0 && p->nargs == 0 && p->pos == p->start) {
            rc = parse_multibulk_len(c);
            if (rc <= 0)
                return rc;
            if (p->multibulk <= 0) { /* *0 or *-1: nothing to run */
                resp_consume(c);
                continue;
            }
        }
        rc = parse_bulks(c);
        if (rc <= 0)
            return rc;
        return set_argv(c, c->qbuf.p, p->nargs);
    }
}

void resp_consume(wd_client *c)
{
    wd_parser *p = &c->parser;

    p->start = p->pos;
    p->reqtype = 0;
    p->multibulk = 0;
    p->bulklen = -1;
    p->nargs = 0;
    c->argc = 0;
    if (p->start == c->qbuf.len) { /* everything consumed */
        c->qbuf.len = 0;
        p->start = p->pos = 0;
    }
}

void resp_compact(wd_client *c)
{
    wd_parser *p = &c->parser;
    size_t shift = p->start;

    if (shift == 0)
        return;
    memmove(c->qbuf.p, c->qbuf.p + shift, c->qbuf.len - shift);
    c->qbuf.len -= shift;
    p->start = 0;
    p->pos -= shift;
    if (p->reqtype == 1)
        for (size_t i = 0; i < p->nargs; i++)
            p->argoff[i] -= shift;
}

/* ------------------------------------------------------------------------ */
/* Replies                                                                   */
/* ------------------------------------------------------------------------ */

/* Whether `n` more bytes of replies fit under client-output-buffer-limit
 * (the hard limit; 0: none). If not, the client is marked to close and
 * nothing more is added: a command whose reply would be huge (an MGET of
 * one big value many times over) stops growing the buffer at the limit,
 * as in Redis, instead of building it all first. */
static bool reply_fits(wd_client *c, size_t n)
{
    uint64_t hard = atomic_load_explicit(&server.cfg.client_output_buffer_limit,
                                         memory_order_relaxed);

    if (c->closing)
        return false;
    if (hard && c->obuf.len - c->sent + n > hard) {
        wd_log("closing client %s: output buffer over "
               "client-output-buffer-limit (%llu bytes)",
               c->addr, (unsigned long long)hard);
        c->closing = true;
        return false;
    }
    return true;
}

void add_raw(wd_client *c, const char *s, size_t n)
{
    if (!reply_fits(c, n))
        return;
    if (!buf_reserve(&c->obuf, n)) {
        c->closing = true;
        return;
    }
    memcpy(c->obuf.p + c->obuf.len, s, n);
    c->obuf.len += n;
}

/* "<prefix><v>\r\n": every bulk reply's header, so written by hand
 * (snprintf cost about 5% of a pipelined GET's CPU). */
static void add_prefixed_ll(wd_client *c, char prefix, int64_t v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    *--p = '\n';
    *--p = '\r';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    *--p = prefix;
    add_raw(c, p, (size_t)(tmp + sizeof tmp - p));
}

void add_crlf(wd_client *c)
{
    add_raw(c, "\r\n", 2);
}

void add_simple(wd_client *c, const char *s)
{
    add_raw(c, "+", 1);
    add_raw(c, s, strlen(s));
    add_crlf(c);
}

void add_ok(wd_client *c)
{
    add_raw(c, "+OK\r\n", 5);
}

void add_error(wd_client *c, const char *s)
{
    /* An error line may not hold CR or LF. */
    add_raw(c, "-", 1);
    for (const char *q = s; *q; q++)
        add_raw(c, (*q == '\r' || *q == '\n') ? " " : q, 1);
    add_crlf(c);
}

void add_errorf(wd_client *c, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    add_error(c, tmp);
}

void add_int(wd_client *c, int64_t v)
{
    if (v == 0) {
        add_raw(c, ":0\r\n", 4);
        return;
    }
    if (v == 1) {
        add_raw(c, ":1\r\n", 4);
        return;
    }
    add_prefixed_ll(c, ':', v);
}

void add_bulk_header(wd_client *c, size_t n)
{
    add_prefixed_ll(c, '$', (int64_t)n);
}

void add_bulk(wd_client *c, const void *p, size_t n)
{
    if (!reply_fits(c, n + 32))
        return;
    if (!buf_reserve(&c->obuf, n + 32)) {
        c->closing = true;
        return;
    }
    add_bulk_header(c, n);
    add_raw(c, p, n);
    add_crlf(c);
}

void add_bulk_str(wd_client *c, const char *s)
{
    add_bulk(c, s, strlen(s));
}

void add_null(wd_client *c)
{
    if (c->resp == 3)
        add_raw(c, "_\r\n", 3);
    else
        add_raw(c, "$-1\r\n", 5);
}

void add_null_array(wd_client *c)
{
    if (c->resp == 3)
        add_raw(c, "_\r\n", 3);
    else
        add_raw(c, "*-1\r\n", 5);
}

void add_array(wd_client *c, int64_t n)
{
    add_prefixed_ll(c, '*', n);
}

void add_map(wd_client *c, int64_t n)
{
    if (c->resp == 3)
        add_prefixed_ll(c, '%', n);
    else
        add_prefixed_ll(c, '*', n * 2);
}

void add_set(wd_client *c, int64_t n)
{
    add_prefixed_ll(c, c->resp == 3 ? '~' : '*', n);
}

void add_double(wd_client *c, double d)
{
    char tmp[64];
    int n;

    if (isinf(d))
        n = snprintf(tmp, sizeof tmp, "%s", d > 0 ? "inf" : "-inf");
    else if (isnan(d))
        n = snprintf(tmp, sizeof tmp, "nan");
    else {
        /* The shortest of %.15g and %.17g that reads back as d. */
        n = snprintf(tmp, sizeof tmp, "%.15g", d);
        if (strtod(tmp, NULL) != d)
            n = snprintf(tmp, sizeof tmp, "%.17g", d);
    }
    if (c->resp == 3) {
        add_raw(c, ",", 1);
        add_raw(c, tmp, (size_t)n);
        add_crlf(c);
    } else {
        add_bulk(c, tmp, (size_t)n);
    }
}

void add_bool(wd_client *c, bool b)
{
    if (c->resp == 3)
        add_raw(c, b ? "#t\r\n" : "#f\r\n", 4);
    else
        add_int(c, b ? 1 : 0);
}

void add_verbatim(wd_client *c, const char *p, size_t n)
{
    if (c->resp != 3) {
        add_bulk(c, p, n);
        return;
    }
    add_prefixed_ll(c, '=', (int64_t)n + 4);
    add_raw(c, "txt:", 4);
    add_raw(c, p, n);
    add_crlf(c);
}

void add_syntax_error(wd_client *c)
{
    add_error(c, "ERR syntax error");
}

void add_wrong_arity(wd_client *c, const char *cmd)
{
    add_errorf(c, "ERR wrong number of arguments for '%s' command", cmd);
}

void add_not_integer(wd_client *c)
{
    add_error(c, "ERR value is not an integer or out of range");
}
