/*
 * fuzz-resp-reply.c - warpd's reply writers (server/resp.c: add_bulk,
 * add_error, add_int, add_double, add_array, add_map, add_set, add_null,
 * add_bool, add_verbatim, ...), checked by an independent reply parser.
 *
 * warpd has no reply parser of its own (it only writes replies), so this
 * target turns the fuzz input into a sequence of writer calls with fuzzed
 * payloads, in RESP2 or RESP3, and parses the output with the small
 * RESP2/RESP3 frame reader below. Invariants checked:
 *   - the output is a sequence of well-formed frames, exactly one top-level
 *     frame per top-level writer call (aggregates count their elements);
 *   - a bulk or verbatim frame carries exactly the payload given;
 *   - an error line holds no CR or LF whatever message it was given;
 *   - an integer frame reads back as the integer given.
 * add_simple() is called only with CR/LF-free text: its contract (every
 * caller passes a constant) makes that the caller's duty.
 *
 * Input: byte 0 bit 0 picks RESP3; then ops, each one byte of opcode and
 * the bytes it consumes.
 */
#include <math.h>
#include <string.h>

#include "fuzz.h"
#include "resp.h"

typedef struct reader {
    const char *p;
    size_t len, off;
} reader;

/* The line at r->off without its CRLF; false if there is no CRLF or a
 * bare CR or LF sits inside it. */
static bool read_line(reader *r, const char **s, size_t *n)
{
    for (size_t i = r->off; i + 1 < r->len; i++) {
        if (r->p[i] == '\r' && r->p[i + 1] == '\n') {
            *s = r->p + r->off;
            *n = i - r->off;
            r->off = i + 2;
            return true;
        }
        if (r->p[i] == '\r' || r->p[i] == '\n')
            return false;
    }
    return false;
}

static bool parse_int(const char *s, size_t n, int64_t *v)
{
    char tmp[32];
    char *end;

    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    *v = strtoll(tmp, &end, 10);
    return *end == '\0';
}

/* Read one frame (recursively for aggregates). Returns false if the bytes
 * are not a well-formed frame. The frame's first byte and, for a bulk or
 * an integer, its payload, go to the out parameters. */
static bool read_frame(reader *r, int depth, char *type, const char **body,
                       int64_t *num)
{
    const char *s;
    size_t n;
    int64_t v;

    if (depth > 8 || r->off >= r->len)
        return false;
    *type = r->p[r->off++];
    if (!read_line(r, &s, &n))
        return false;
    *body = s;
    *num = (int64_t)n;
    switch (*type) {
    case '+':
    case '-':
    case ',':
        return true;
    case '_':
        return n == 0;
    case '#':
        return n == 1 && (s[0] == 't' || s[0] == 'f');
    case ':':
        return parse_int(s, n, num);
    case '$':
    case '=':
        if (!parse_int(s, n, &v) || v < -1)
            return false;
        if (v == -1)
            return *type == '$';
        if ((uint64_t)v > r->len - r->off || r->len - r->off - v < 2 ||
            r->p[r->off + v] != '\r' || r->p[r->off + v + 1] != '\n')
            return false;
        if (*type == '=' && (v < 4 || r->p[r->off + 3] != ':'))
            return false;
        *body = r->p + r->off;
        *num = v;
        r->off += (size_t)v + 2;
        return true;
    case '*':
    case '%':
    case '~':
        if (!parse_int(s, n, &v) || v < -1 || (v == -1 && *type != '*'))
            return false;
        if (*type == '%')
            v *= 2;
        for (int64_t i = 0; i < v; i++) {
            char t;
            const char *b;
            int64_t x;
            if (!read_frame(r, depth + 1, &t, &b, &x))
                return false;
        }
        *num = v;
        return true;
    default:
        return false;
    }
}

typedef struct expect {
    char op;
    const uint8_t *payload;
    size_t n;
    int64_t num;
} expect;

#define MAX_OPS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wd_client c;
    expect want[MAX_OPS];
    int nops = 0;
    size_t i = 1;

    if (size < 1)
        return 0;
    memset(&c, 0, sizeof c);
    c.resp = (data[0] & 1) ? 3 : 2;
    while (i < size && nops < MAX_OPS) {
        uint8_t op = data[i++] % 12;
        size_t n = i < size ? data[i++] : 0;
        if (n > size - i)
            n = size - i;
        const uint8_t *pl = data + i;
        int64_t num = 0;
        char text[256];
        memcpy(&num, pl, n < sizeof num ? n : sizeof num);
        memcpy(text, pl, n);
        text[n] = '\0';
        want[nops] = (expect){.op = (char)op, .payload = pl, .n = n};
        switch (op) {
        case 0:
            add_bulk(&c, pl, n);
            break;
        case 1:
            add_error(&c, text);
            break;
        case 2:
            want[nops].num = num;
            add_int(&c, num);
            break;
        case 3: {
            double d;
            memcpy(&d, &num, sizeof d);
            add_double(&c, d);
            break;
        }
        case 4:
            add_null(&c);
            break;
        case 5:
            add_null_array(&c);
            break;
        case 6:
            add_bool(&c, n & 1);
            break;
        case 7:
            add_verbatim(&c, (const char *)pl, n);
            break;
        case 8: /* an array of n % 4 bulks of the payload */
            add_array(&c, (int64_t)(n % 4));
            for (size_t k = 0; k < n % 4; k++)
                add_bulk(&c, pl, n);
            break;
        case 9: /* a map of n % 3 pairs */
            add_map(&c, (int64_t)(n % 3));
            for (size_t k = 0; k < n % 3; k++) {
                add_bulk(&c, pl, n);
                add_int(&c, num);
            }
            break;
        case 10:
            add_set(&c, (int64_t)(n % 3));
            for (size_t k = 0; k < n % 3; k++)
                add_bulk(&c, pl, n);
            break;
        case 11:
            for (size_t k = 0; k < n; k++)
                if (text[k] == '\r' || text[k] == '\n')
                    text[k] = ' ';
            add_simple(&c, text);
            break;
        }
        i += n;
        nops++;
    }
    FUZZ_CHECK(!c.closing);

    reader r = {.p = c.obuf.p, .len = c.obuf.len};
    for (int k = 0; k < nops; k++) {
        char type;
        const char *body;
        int64_t num;
        FUZZ_CHECK(read_frame(&r, 0, &type, &body, &num));
        switch (want[k].op) {
        case 0:
            FUZZ_CHECK(type == '$' && (size_t)num == want[k].n);
            FUZZ_CHECK(memcmp(body, want[k].payload, want[k].n) == 0);
            break;
        case 1:
            FUZZ_CHECK(type == '-');
            break;
        case 2:
            FUZZ_CHECK(type == ':' && num == want[k].num);
            break;
        case 7:
            FUZZ_CHECK(type == (c.resp == 3 ? '=' : '$'));
            FUZZ_CHECK((size_t)num == want[k].n + (c.resp == 3 ? 4 : 0));
            break;
        default:
            break;
        }
    }
    FUZZ_CHECK(r.off == r.len);
    buf_free(&c.obuf);
    return 0;
}
