/*
 * dump.c - `warp dump DIR`: every pair of a store as text, on stdout.
 *
 * The store is opened (which runs recovery, as any open does) with
 * fsync=never and no automatic checkpoints, and read with warp_foreach(),
 * slot by slot: the order is the store's, stable for a given store but not
 * sorted. Nothing is written to the store by the dump itself. The format
 * is in dump.h and docs/FORMATS.md; load.c reads it back.
 */
#include "dump.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
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

struct dump_ctx {
    FILE *out;
    uint64_t pairs;
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

static int dump_pair(void *arg, const void *key, size_t klen, const void *val,
                     size_t vlen, const warp_placement *where)
{
    struct dump_ctx *d = arg;

    put_string(d->out, key, klen);
    putc_unlocked(' ', d->out);
    put_string(d->out, val, vlen);
    if (where->access_pattern != WARP_ACCESS_BALANCED)
        fprintf(d->out, " access=%s",
                warp_access_pattern_name(where->access_pattern));
    if (where->priority != WARP_PRIORITY_NORMAL)
        fprintf(d->out, " priority=%s", warp_priority_name(where->priority));
    putc_unlocked('\n', d->out);
    d->pairs++;
    return ferror(d->out) ? 1 : 0; /* stop at the first write error */
}

/* Parse the arguments into *dir and *opts. Returns 0 to go on, -1 after
 * --help, or 2 after a usage error has been reported. */
static int parse_args(int argc, char **argv, const char **dir,
                      warp_options *opts)
{
    *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return -1;
        }
        if (strcmp(a, "--opt") == 0 || strncmp(a, "--opt=", 6) == 0) {
            const char *v = a[5] == '=' ? a + 6 : argv[++i];
            if (v == NULL) {
                fprintf(stderr, "warp dump: missing value for --opt\n");
                return 2;
            }
            if (!cli_set_opt(opts, "dump", v))
                return 2;
            continue;
        }
        if (a[0] == '-' || *dir != NULL) {
            fprintf(stderr, "warp dump: unexpected argument '%s'\n%s", a,
                    usage_text);
            return 2;
        }
        *dir = a;
    }
    if (*dir == NULL) {
        fputs(usage_text, stderr);
        return 2;
    }
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
    int rc = parse_args(argc, argv, &dir, &opts);
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
    if (rc == WARP_OK)
        fprintf(stdout, DUMP_END "%" PRIu64 "\n", d.pairs);
    funlockfile(stdout);
    warp_close(db);

    if (rc != WARP_OK && rc != 1) {
        fprintf(stderr, "warp dump: warp_foreach: %s\n", warp_strerror(rc));
        return 1;
    }
    if (rc == 1 || fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "warp dump: writing stdout: %s\n", strerror(errno));
        return 1;
    }
    fprintf(stderr, "warp dump: %" PRIu64 " pairs from %s\n", d.pairs, dir);
    return 0;
}
