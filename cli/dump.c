/*
 * dump.c - `warp dump DIR`: every pair of a store as text, on stdout.
 *
 * The store is opened (which runs recovery, as any open does) with
 * fsync=never and no automatic checkpoints, and read with warp_foreach(),
 * which goes slot by slot. The pairs of one slot are collected and written
 * sorted by key, so the output is canonical: two stores with the same
 * pairs and hints give byte-identical dumps, whatever order the pairs were
 * written in. Nothing is written to the store by the dump itself. The
 * format is in dump.h and docs/FORMATS.md; load.c reads it back.
 */
#include "dump.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "warp.h"

static const char usage_text[] =
    "usage: warp dump DIR [--opt NAME=VALUE]...\n"
    "\n"
    "Write every key-value pair of the store in DIR to stdout as text\n"
    "(format: docs/FORMATS.md, \"Dump format\"), to be read back by\n"
    "`warp load`. Keys and values may hold any bytes.\n"
    "\n"
    "  --opt NAME=VALUE  an engine option for opening the store, e.g.\n"
    "                    recovery=salvage to dump a damaged store, or\n"
    "                    max_value_size=N for one created with larger\n"
    "                    values (default here: fsync=never, no automatic\n"
    "                    checkpoints)\n"
    "  -h, --help        show this help\n"
    "\n"
    "Exit status: 0 on success, 1 on an error, 2 for bad usage.\n";

/* One pair of the slot being collected; its bytes are in the arena. */
struct held {
    size_t koff, klen, vlen;
    warp_access_pattern access;
    warp_priority priority;
};

struct dump_ctx {
    FILE *out;
    uint64_t pairs;
    uint32_t slot;     /* the slot being collected */
    struct held *held; /* its pairs */
    size_t nheld, capheld;
    unsigned char *arena; /* their keys and values */
    size_t used, cap;
    bool failed; /* out of memory */
};

/* Write `n` bytes of `s` as a quoted dump string. */
static void put_string(FILE *out, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";

    putc_unlocked('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = s[i];
        if (ch >= 0x20 && ch <= 0x7e && ch != '"' && ch != '\\') {
            putc_unlocked(ch, out);
            continue;
        }
        putc_unlocked('\\', out);
        switch (ch) {
        case '"':
        case '\\':
            putc_unlocked(ch, out);
            break;
        case '\n':
            putc_unlocked('n', out);
            break;
        case '\r':
            putc_unlocked('r', out);
            break;
        case '\t':
            putc_unlocked('t', out);
            break;
        default:
            putc_unlocked('x', out);
            putc_unlocked(hex[ch >> 4], out);
            putc_unlocked(hex[ch & 15], out);
        }
    }
    putc_unlocked('"', out);
}

static void put_pair(struct dump_ctx *d, const struct held *h)
{
    const unsigned char *k = d->arena + h->koff;

    put_string(d->out, k, h->klen);
    putc_unlocked(' ', d->out);
    put_string(d->out, k + h->klen, h->vlen);
    if (h->access != WARP_ACCESS_BALANCED)
        fprintf(d->out, " access=%s", warp_access_pattern_name(h->access));
    if (h->priority != WARP_PRIORITY_NORMAL)
        fprintf(d->out, " priority=%s", warp_priority_name(h->priority));
    putc_unlocked('\n', d->out);
    d->pairs++;
}

static const unsigned char *sort_arena; /* qsort has no context argument */

/* Keys in memcmp order, a prefix before the longer key. */
static int held_cmp(const void *pa, const void *pb)
{
    const struct held *a = pa, *b = pb;
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    int c = memcmp(sort_arena + a->koff, sort_arena + b->koff, n);

    return c ? c : (a->klen > b->klen) - (a->klen < b->klen);
}

/* Write the collected slot, sorted, and empty the collection. */
static void flush_slot(struct dump_ctx *d)
{
    sort_arena = d->arena;
    if (d->nheld > 1)
        qsort(d->held, d->nheld, sizeof *d->held, held_cmp);
    for (size_t i = 0; i < d->nheld; i++)
        put_pair(d, &d->held[i]);
    d->nheld = 0;
    d->used = 0;
}

/* `p` (an array of *cap elements of `size` bytes) grown to hold `need`:
 * the same or a new pointer, or NULL when out of memory (`p` is then
 * still valid and unchanged). */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(p, n * size);
    if (q != NULL)
        *cap = n;
    return q;
}

static int dump_pair(void *arg, const void *key, size_t klen, const void *val,
                     size_t vlen, const warp_placement *where)
{
    struct dump_ctx *d = arg;

    if (where->slot != d->slot) {
        flush_slot(d);
        d->slot = where->slot;
        if (ferror(d->out))
            return 1; /* stop at the first write error */
    }
    struct held *h = grow(d->held, &d->capheld, d->nheld + 1, sizeof *h);
    if (h != NULL)
        d->held = h;
    unsigned char *a = grow(d->arena, &d->cap, d->used + klen + vlen + 1, 1);
    if (a != NULL)
        d->arena = a;
    if (h == NULL || a == NULL) {
        d->failed = true;
        return 1;
    }
    d->held[d->nheld++] = (struct held){.koff = d->used,
                                        .klen = klen,
                                        .vlen = vlen,
                                        .access = where->access_pattern,
                                        .priority = where->priority};
    memcpy(d->arena + d->used, key, klen);
    memcpy(d->arena + d->used + klen, val, vlen);
    d->used += klen + vlen;
    return 0;
}

int dump_main(int argc, char **argv)
{
    warp_options opts;
    const char *dir;

    warp_options_init(&opts);
    opts.fsync = WARP_FSYNC_NEVER;
    opts.checkpoint_interval = 0;
    opts.checkpoint_wal_bytes = 0;
    int rc = cli_dir_args(argc, argv, "dump", usage_text, &dir, &opts);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (!cli_is_store("dump", dir))
        return 1;

    warp_db *db;
    rc = warp_open(dir, &opts, &db);
    if (rc != WARP_OK) {
        cli_open_failed("dump", dir, rc);
        return 1;
    }
    struct dump_ctx d = {.out = stdout};
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    flockfile(stdout);
    fputs(DUMP_HEADER "\n", stdout);
    rc = warp_foreach(db, dump_pair, &d);
    if (rc == WARP_OK) {
        flush_slot(&d);
        fprintf(stdout, DUMP_END "%" PRIu64 "\n", d.pairs);
    }
    funlockfile(stdout);
    warp_close(db);
    free(d.held);
    free(d.arena);

    if (d.failed) {
        fprintf(stderr, "warp dump: out of memory\n");
        return 1;
    }
    if (rc != WARP_OK && rc != 1) {
        fprintf(stderr, "warp dump: warp_foreach: %s\n", warp_strerror(rc));
        return 1;
    }
    if (rc == 1 || fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "warp dump: writing stdout: %s\n", strerror(errno));
        return 1;
    }
    fprintf(stderr, "warp dump: %" PRIu64 " pair%s from %s\n", d.pairs,
            d.pairs == 1 ? "" : "s", dir);
    return 0;
}
