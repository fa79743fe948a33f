/*
 * fuzz-resp-request.c - warpd's incremental RESP request parser
 * (server/resp.c: resp_parse, resp_consume, resp_compact).
 *
 * Input: byte 0 picks the mode, the rest is what a client sends.
 *   bit 0     the server has a password and the client has not sent AUTH
 *             (the 10-argument, 16 KiB limits)
 *   bits 1-7  chunk size seed: the bytes arrive in chunks of 1..128
 *
 * The bytes are parsed twice: all at once, then in chunks as a socket
 * would deliver them, compacting the buffer between reads as net.c does.
 * Invariants checked:
 *   - every command has argc >= 1 and each argv[i] lies inside the query
 *     buffer, is argvlen[i] long and NUL-terminated there;
 *   - split delivery yields exactly the commands (same arguments, same
 *     bytes) and the same final verdict as whole delivery.
 */
#include <string.h>

#include "fuzz.h"
#include "resp.h"

#define MAX_CMDS 4096

typedef struct outcome {
    uint64_t ncmds;
    uint64_t hash; /* FNV-1a over every argument and its length */
    int verdict;   /* 0 wanted more bytes, -1 protocol error */
} outcome;

static void hash_bytes(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        *h = (*h ^ b[i]) * 0x100000001b3ull;
}

static void check_command(const wd_client *c)
{
    FUZZ_CHECK(c->argc >= 1);
    for (int i = 0; i < c->argc; i++) {
        const char *a = c->argv[i];
        bool in_qbuf =
            a >= c->qbuf.p && a + c->argvlen[i] < c->qbuf.p + c->qbuf.len;
        bool in_inline = c->parser.inline_args.p &&
                         a >= c->parser.inline_args.p &&
                         a + c->argvlen[i] < c->parser.inline_args.p +
                                                 c->parser.inline_args.len;
        FUZZ_CHECK(in_qbuf || in_inline);
        FUZZ_CHECK(a[c->argvlen[i]] == '\0');
    }
}

/* Parse what has arrived; returns 1 to read on, 0 after an error. */
static int drain(wd_client *c, outcome *o)
{
    for (;;) {
        int rc = resp_parse(c);
        if (rc < 0) {
            FUZZ_CHECK(c->parser.error != NULL);
            o->verdict = -1;
            return 0;
        }
        if (rc == 0)
            return 1;
        FUZZ_CHECK(rc == 1);
        check_command(c);
        o->ncmds++;
        for (int i = 0; i < c->argc; i++) {
            uint64_t len = c->argvlen[i];
            hash_bytes(&o->hash, &len, sizeof len);
            hash_bytes(&o->hash, c->argv[i], c->argvlen[i]);
        }
        resp_consume(c);
        if (o->ncmds >= MAX_CMDS)
            return 0;
    }
}

static void run(const uint8_t *data, size_t size, size_t chunk, outcome *o)
{
    wd_client c;

    memset(&c, 0, sizeof c);
    memset(o, 0, sizeof *o);
    o->hash = 0xcbf29ce484222325ull;
    c.authenticated = false;
    c.parser.bulklen = -1;
    for (size_t off = 0; off < size;) {
        size_t n = size - off < chunk ? size - off : chunk;
        resp_compact(&c);
        FUZZ_CHECK(buf_reserve(&c.qbuf, n));
        memcpy(c.qbuf.p + c.qbuf.len, data + off, n);
        c.qbuf.len += n;
        off += n;
        if (!drain(&c, o))
            break;
    }
    resp_parser_free(&c.parser);
    buf_free(&c.qbuf);
    free(c.argv);
    free(c.argvlen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    outcome whole, split;

    if (size < 1)
        return 0;
    atomic_store(&server.auth_required, (data[0] & 1) != 0);
    server.cfg.proto_max_bulk_len = 1u << 20;
    server.cfg.max_multibulk_len = 1024;
    run(data + 1, size - 1, size, &whole);
    run(data + 1, size - 1, 1 + (data[0] >> 1), &split);
    /* Past 64 KiB a line without CRLF is refused as it grows, so a split
     * delivery may fail where a whole one does not: compare below that. */
    if (size < 60000 && whole.ncmds < MAX_CMDS && split.ncmds < MAX_CMDS) {
        FUZZ_CHECK(whole.ncmds == split.ncmds);
        FUZZ_CHECK(whole.hash == split.hash);
        FUZZ_CHECK(whole.verdict == split.verdict);
    }
    return 0;
}
