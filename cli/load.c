/*
 * load.c - `warp load DIR < dump`: the pairs of a dump (dump.h,
 * docs/FORMATS.md) put into a store.
 *
 * PARSING
 *   Strict: the header line first, then pair lines, then "# end N" with N
 *   the number of pairs, as the last line; every line ends with "\n". Any
 *   other byte sequence is an error naming its line and column. Keys and
 *   values are decoded into one arena per chunk.
 *
 * LOADING
 *   Pairs are put in chunks of up to LOAD_CHUNK pairs (or LOAD_CHUNK_BYTES
 *   of keys and values) with warp_put_batch(), which is all or nothing per
 *   chunk. The promise on any error at line L is exact: every pair before
 *   line L is in the store, nothing from line L on is. So a parse error
 *   first puts the pairs parsed before it, and a batch that fails on item i
 *   is retried with items 0..i-1 alone. The report says how many pairs
 *   that is. On success the store is synced (warp_sync) and closed.
 */
#include "dump.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "warp.h"

#define LOAD_CHUNK       1024
#define LOAD_CHUNK_BYTES (8u << 20)

static const char usage_text[] =
    "usage: warp load DIR [--opt NAME=VALUE]... < DUMP\n"
    "\n"
    "Read a dump written by `warp dump` (format: docs/FORMATS.md, \"Dump\n"
    "format\") from stdin and put every pair, with its hints, into the\n"
    "store in DIR. DIR is created if it does not exist; it must be empty\n"
    "or hold a store (pairs then overwrite keys that exist). The input is\n"
    "parsed strictly; on malformed input or an engine error the message\n"
    "names the line, and every pair before that line (and none after) has\n"
    "been loaded. On success the store is synced to disk.\n"
    "\n"
    "  --opt NAME=VALUE  an engine option for opening the store, e.g.\n"
    "                    shards=N or fsync=never for a new store, or\n"
    "                    max_value_size=N for large values\n"
    "  -h, --help        show this help\n"
    "\n"
    "Exit status: 0 when every pair was loaded, 1 on malformed input or an\n"
    "error, 2 for bad usage.\n";

/* One chunk of parsed pairs waiting to be put. Keys and values live in
 * `arena` (which moves as it grows), so items hold offsets until the put. */
struct chunk {
    warp_put_item items[LOAD_CHUNK];
    warp_put_options hints[LOAD_CHUNK];
    size_t koff[LOAD_CHUNK], voff[LOAD_CHUNK];
    uint64_t line[LOAD_CHUNK];
    size_t n;
    unsigned char *arena;
    size_t used, cap;
};

struct loader {
    warp_db *db;
    struct chunk *c;
    uint64_t loaded; /* pairs in the store */
    uint64_t pairs;  /* pair lines parsed */
    uint64_t lineno;
};

/* --- parsing -------------------------------------------------------------- */

/* A parse error: the column (1-based) and a message. */
struct perr {
    size_t col;
    char msg[160];
};

static bool fail(struct perr *e, const char *line, const char *at,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static bool fail(struct perr *e, const char *line, const char *at,
                 const char *fmt, ...)
{
    va_list ap;

    e->col = (size_t)(at - line) + 1;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return false;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Make room for `n` more bytes in the arena. */
static bool arena_reserve(struct chunk *c, size_t n)
{
    if (c->cap - c->used >= n)
        return true;
    size_t cap = c->cap ? c->cap : 1 << 16;
    while (cap - c->used < n)
        cap *= 2;
    unsigned char *a = realloc(c->arena, cap);
    if (a == NULL)
        return false;
    c->arena = a;
    c->cap = cap;
    return true;
}

/* Decode the quoted string at *p (the line's bytes end at `end`, before the
 * newline) into the arena; *len receives its length and *p moves past the
 * closing quote. The decoded bytes are never longer than the text, so the
 * caller reserves room for the whole line once. */
static bool parse_string(struct chunk *c, const char *line, const char **p,
                         const char *end, size_t *len, struct perr *e)
{
    const char *s = *p;
    unsigned char *out = c->arena + c->used, *o = out;

    if (s >= end || *s != '"')
        return fail(e, line, s, "expected '\"'");
    for (s++;; s++) {
        if (s >= end)
            return fail(e, line, s, "unterminated string");
        unsigned char ch = (unsigned char)*s;
        if (ch == '"')
            break;
        if (ch < 0x20 || ch > 0x7e)
            return fail(e, line, s,
                        "raw byte 0x%02x in a string (write it "
                        "as \\x%02x)",
                        ch, ch);
        if (ch != '\\') {
            *o++ = ch;
            continue;
        }
        if (++s >= end)
            return fail(e, line, s, "unterminated escape");
        switch (*s) {
        case '\\':
        case '"':
            *o++ = (unsigned char)*s;
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'x': {
            int hi = s + 1 < end ? hexval(s[1]) : -1;
            int lo = s + 2 < end ? hexval(s[2]) : -1;
            if (hi < 0 || lo < 0)
                return fail(e, line, s - 1, "\\x needs two hex digits");
            *o++ = (unsigned char)(hi << 4 | lo);
            s += 2;
            break;
        }
        default:
            return fail(e, line, s - 1, "unknown escape '\\%c'",
                        (*s >= 0x20 && *s <= 0x7e) ? *s : '?');
        }
    }
    *p = s + 1;
    *len = (size_t)(o - out);
    c->used += *len;
    return true;
}

/* Parse the hints after the value: " access=NAME" and " priority=NAME",
 * each at most once, in either order. */
static bool parse_hints(const char *line, const char *p, const char *end,
                        warp_put_options *h, struct perr *e)
{
    bool seen_access = false, seen_priority = false;

    *h = (warp_put_options){0};
    while (p < end) {
        if (*p != ' ')
            return fail(e, line, p, "expected ' ' or the end of the line");
        p++;
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *stop = memchr(p, ' ', (size_t)(end - p));
        stop = stop ? stop : end;
        char name[32];
        size_t nlen = eq && eq < stop ? (size_t)(stop - eq - 1) : 0;
        if (eq == NULL || eq > stop || nlen == 0 || nlen >= sizeof name)
            return fail(e, line, p, "expected access=NAME or priority=NAME");
        memcpy(name, eq + 1, nlen);
        name[nlen] = '\0';
        size_t klen = (size_t)(eq - p);
        if (klen == 6 && memcmp(p, "access", 6) == 0 && !seen_access) {
            seen_access = true;
            if (warp_access_pattern_parse(name, &h->access_pattern) != 0)
                return fail(e, line, eq + 1,
                            "unknown access pattern '%s' "
                            "(balanced, hot, warm, cold)",
                            name);
        } else if (klen == 8 && memcmp(p, "priority", 8) == 0 &&
                   !seen_priority) {
            seen_priority = true;
            if (warp_priority_parse(name, &h->priority) != 0)
                return fail(e, line, eq + 1,
                            "unknown priority '%s' "
                            "(normal, critical, high, low, background)",
                            name);
        } else {
            return fail(e, line, p, "unknown or repeated attribute '%.*s'",
                        (int)klen, p);
        }
        p = stop;
    }
    return true;
}

/* Parse one pair line (without its newline) into the chunk. */
static bool parse_pair(struct chunk *c, const char *line, size_t n,
                       struct perr *e)
{
    const char *p = line, *end = line + n;
    size_t used = c->used, klen, vlen;
    warp_put_options h;

    if (!arena_reserve(c, n))
        return fail(e, line, line, "out of memory");
    if (!parse_string(c, line, &p, end, &klen, e))
        goto undo;
    if (p >= end || *p != ' ') {
        fail(e, line, p, "expected ' ' between key and value");
        goto undo;
    }
    p++;
    if (!parse_string(c, line, &p, end, &vlen, e) ||
        !parse_hints(line, p, end, &h, e))
        goto undo;
    c->koff[c->n] = used;
    c->voff[c->n] = used + klen;
    c->items[c->n] = (warp_put_item){.klen = klen, .vlen = vlen};
    c->hints[c->n] = h;
    c->n++;
    return true;
undo:
    c->used = used;
    return false;
}

/* --- loading -------------------------------------------------------------- */

static void report(const struct loader *l, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(const struct loader *l, uint64_t line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "warp load: line %" PRIu64 ": ", line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr,
            "\nwarp load: %" PRIu64 " pair%s loaded (every pair before line "
            "%" PRIu64 ", none after)\n",
            l->loaded, l->loaded == 1 ? "" : "s", line);
}

/* Put the chunk's first `n` items. Returns WARP_OK or the error, with
 * *failed the item at fault (n when none is). */
static int put_items(struct loader *l, size_t n, size_t *failed)
{
    struct chunk *c = l->c;

    for (size_t i = 0; i < n; i++) {
        c->items[i].key = c->arena + c->koff[i];
        c->items[i].val = c->arena + c->voff[i];
        c->items[i].opts = &c->hints[i];
    }
    *failed = n;
    return n ? warp_put_batch(l->db, c->items, n, failed) : WARP_OK;
}

/* Put every pending pair. On an error, put the pairs before the one at
 * fault, report, and return false. */
static bool flush(struct loader *l)
{
    struct chunk *c = l->c;
    size_t failed, dummy;
    int rc = put_items(l, c->n, &failed);

    if (rc == WARP_OK) {
        l->loaded += c->n;
        c->n = 0;
        c->used = 0;
        return true;
    }
    uint64_t line = c->line[failed < c->n ? failed : 0];
    if (failed < c->n && put_items(l, failed, &dummy) == WARP_OK)
        l->loaded += failed;
    else if (failed < c->n)
        line = c->line[0]; /* could not put even those: none of the chunk */
    report(l, line, "warp_put_batch: %s%s", warp_strerror(rc),
           rc == WARP_ETOOBIG ? " (raise max_key_size or max_value_size "
                                "with --opt)"
                              : "");
    return false;
}

/* Whether `s` (n bytes, no newline) is "# end N" with N == pairs. */
static bool end_line_ok(const char *s, size_t n, uint64_t pairs, struct perr *e)
{
    size_t plen = strlen(DUMP_END);
    char digits[24];

    if (n <= plen || n - plen >= sizeof digits)
        return fail(e, s, s, "expected '" DUMP_END "N'");
    memcpy(digits, s + plen, n - plen);
    digits[n - plen] = '\0';
    char *endp;
    errno = 0;
    unsigned long long v = strtoull(digits, &endp, 10);
    if (digits[0] < '0' || digits[0] > '9' || *endp != '\0' || errno != 0)
        return fail(e, s, s + plen, "expected a pair count after '# end '");
    if (v != pairs)
        return fail(e, s, s + plen,
                    "the end line counts %llu pairs, but %" PRIu64 " were read",
                    v, pairs);
    return true;
}

/* Read stdin to the end. Returns true when every pair was loaded. */
static bool load_stream(struct loader *l, FILE *in)
{
    char *buf = NULL;
    size_t cap = 0;
    ssize_t got;
    bool ok = false, ended = false;
    struct perr e;

    while ((got = getline(&buf, &cap, in)) >= 0) {
        size_t n = (size_t)got;
        l->lineno++;
        if (n == 0 || buf[n - 1] != '\n') {
            e = (struct perr){.col = n + 1};
            snprintf(e.msg, sizeof e.msg,
                     "no newline at the end of the "
                     "line (truncated input?)");
            goto bad;
        }
        n--;
        if (ended) {
            fail(&e, buf, buf, "text after the end line");
            goto bad;
        }
        if (l->lineno == 1) {
            if (n != strlen(DUMP_HEADER) || memcmp(buf, DUMP_HEADER, n) != 0) {
                fail(&e, buf, buf,
                     "not a warp dump: the first line must be "
                     "'" DUMP_HEADER "'");
                goto bad;
            }
            continue;
        }
        if (n > 0 && buf[0] == '#') {
            if (!end_line_ok(buf, n, l->pairs, &e))
                goto bad;
            ended = true;
            continue;
        }
        if (!parse_pair(l->c, buf, n, &e))
            goto bad;
        l->c->line[l->c->n - 1] = l->lineno;
        l->pairs++;
        if ((l->c->n == LOAD_CHUNK || l->c->used >= LOAD_CHUNK_BYTES) &&
            !flush(l))
            goto out;
    }
    if (ferror(in)) {
        if (flush(l))
            fprintf(stderr,
                    "warp load: reading stdin: %s\nwarp load: %" PRIu64
                    " pairs were loaded\n",
                    strerror(errno), l->loaded);
        goto out;
    }
    if (!ended) {
        l->lineno++;
        e = (struct perr){.col = 1};
        snprintf(e.msg, sizeof e.msg, "%s",
                 l->lineno == 1 ? "empty input: not a warp dump"
                                : "the input ends without '" DUMP_END
                                  "N' (truncated?)");
        goto bad;
    }
    ok = flush(l);
    goto out;
bad:
    if (flush(l))
        report(l, l->lineno, "column %zu: %s", e.col, e.msg);
out:
    free(buf);
    return ok;
}

/* --- the command ---------------------------------------------------------- */

/* Whether DIR may be loaded into: absent, empty, or a store. */
static bool dir_usable(const char *dir)
{
    struct stat sb;
    char path[4096];

    if (stat(dir, &sb) != 0)
        return errno == ENOENT;
    if (!S_ISDIR(sb.st_mode))
        return false;
    snprintf(path, sizeof path, "%s/universe.manifest", dir);
    if (stat(path, &sb) == 0)
        return true;
    DIR *d = opendir(dir);
    struct dirent *de;
    bool empty = d != NULL;
    while (d && (de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            empty = false;
    if (d)
        closedir(d);
    return empty;
}

int load_main(int argc, char **argv)
{
    warp_options opts;
    const char *dir;
    struct loader l = {0};
    int status = 1;

    warp_options_init(&opts);
    int rc = cli_dir_args(argc, argv, "load", usage_text, &dir, &opts);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (!dir_usable(dir)) {
        fprintf(stderr,
                "warp load: %s exists but is neither empty nor a "
                "WarpEngine data directory\n",
                dir);
        return 1;
    }
    l.c = calloc(1, sizeof *l.c);
    if (l.c == NULL) {
        fprintf(stderr, "warp load: out of memory\n");
        return 1;
    }
    rc = warp_open(dir, &opts, &l.db);
    if (rc != WARP_OK) {
        cli_open_failed("load", dir, rc);
        goto out;
    }
    if (!load_stream(&l, stdin))
        goto out;
    rc = warp_sync(l.db);
    if (rc != WARP_OK) {
        fprintf(stderr, "warp load: warp_sync: %s\n", warp_strerror(rc));
        goto out;
    }
    fprintf(stderr, "warp load: %" PRIu64 " pair%s into %s\n", l.loaded,
            l.loaded == 1 ? "" : "s", dir);
    status = 0;
out:
    warp_close(l.db); /* makes what was loaded durable, on errors too */
    if (l.c)
        free(l.c->arena);
    free(l.c);
    return status;
}
