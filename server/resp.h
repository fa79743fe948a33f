/*
 * resp.h - the RESP protocol: an incremental request parser and the reply
 * writers (RESP2, and RESP3 for a client that sent HELLO 3).
 */
#ifndef WARPD_RESP_H
#define WARPD_RESP_H

#include "server.h"

/* Parse the next command from c->qbuf. Returns 1 when a whole command is
 * ready (c->argc/argv/argvlen point into c->qbuf, each NUL-terminated,
 * valid until resp_consume()), 0 when more bytes are needed (the state is
 * kept: a frame may be split at any byte), or -1 on a protocol error
 * (c->parser.error says what). Limits: proto-max-bulk-len,
 * max-multibulk-len (10 and 16 KiB before AUTH when a password is set). */
int resp_parse(wd_client *c);

/* Drop the command just run from the query buffer. */
void resp_consume(wd_client *c);

/* Move unconsumed bytes to the front of qbuf (offsets follow). */
void resp_compact(wd_client *c);

void resp_parser_free(wd_parser *p);

/* Replies: each appends to c->obuf. On allocation failure the client is
 * marked to close. */
void add_raw(wd_client *c, const char *s, size_t n);
void add_simple(wd_client *c, const char *s); /* +s */
void add_error(wd_client *c, const char *s);  /* -s ("ERR ..." etc.) */
void add_errorf(wd_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void add_ok(wd_client *c);
void add_int(wd_client *c, int64_t v);
void add_bulk(wd_client *c, const void *p, size_t n);
void add_bulk_str(wd_client *c, const char *s);
void add_null(wd_client *c);       /* $-1 or _ */
void add_null_array(wd_client *c); /* *-1 or _ */
void add_array(wd_client *c, int64_t n);
void add_map(wd_client *c, int64_t n);   /* %n, or *2n in RESP2 */
void add_set(wd_client *c, int64_t n);   /* ~n, or *n in RESP2 */
void add_double(wd_client *c, double d); /* ,d or a bulk string */
void add_bool(wd_client *c, bool b);     /* #t/#f, or :1/:0 */
void add_verbatim(wd_client *c, const char *p, size_t n); /* =txt: or bulk */

/* Bulk header for a value of n bytes, to be followed by add_raw() of the
 * bytes and add_crlf(). */
void add_bulk_header(wd_client *c, size_t n);
void add_crlf(wd_client *c);

/* Common errors. */
void add_syntax_error(wd_client *c);
void add_wrong_arity(wd_client *c, const char *cmd);
void add_not_integer(wd_client *c);

#endif /* WARPD_RESP_H */
