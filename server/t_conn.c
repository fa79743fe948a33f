/*
 * t_conn.c - connection and server commands: PING, ECHO, HELLO, AUTH,
 * SELECT, QUIT, RESET, COMMAND, CLIENT, CONFIG, DBSIZE, FLUSHDB/FLUSHALL,
 * TIME, SAVE, BGSAVE, LASTSAVE, SHUTDOWN. INFO is in t_info.c.
 */
#include "command.h"
#include "config.h"
#include "keyspace.h"
#include "net.h"
#include "resp.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

void ping_cmd(wd_client *c)
{
    if (c->argc > 2)
        add_wrong_arity(c, "ping");
    else if (c->argc == 2)
        add_bulk(c, c->argv[1], c->argvlen[1]);
    else
        add_raw(c, "+PONG\r\n", 7);
}

void echo_cmd(wd_client *c)
{
    add_bulk(c, c->argv[1], c->argvlen[1]);
}

/* Compare in time that depends only on the lengths, not the contents. */
static bool secret_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    volatile unsigned char diff = (unsigned char)(alen != blen);
    size_t n = alen > blen ? alen : blen;

    for (size_t i = 0; i < n; i++) {
        unsigned char x = i < alen ? (unsigned char)a[i] : 0;
        unsigned char y = i < blen ? (unsigned char)b[i] : 0;
        diff |= x ^ y;
    }
    return diff == 0;
}

/* Check user/password. Returns 0 ok, -1 no password set, -2 wrong. */
static int check_auth(wd_client *c, int ui, int pi)
{
    int rc;

    pthread_mutex_lock(&server.pass_lock);
    if (!server.requirepass || !server.requirepass[0])
        rc = ui < 0 ? -1 : 0;
    else
        rc = secret_equal(c->argv[pi], c->argvlen[pi], server.requirepass,
                          strlen(server.requirepass))
                 ? 0
                 : -2;
    pthread_mutex_unlock(&server.pass_lock);
    if (ui >= 0 && !arg_eq(c, ui, "default"))
        rc = -2;
    return rc;
}

/* AUTH [username] password */
void auth_cmd(wd_client *c)
{
    int rc;

    if (c->argc > 3) {
        add_syntax_error(c);
        return;
    }
    rc = check_auth(c, c->argc == 3 ? 1 : -1, c->argc == 3 ? 2 : 1);
    if (rc == -1) {
        add_error(c, "ERR AUTH <password> called without any password "
                     "configured for the default user. Are you sure your "
                     "configuration is correct?");
    } else if (rc == -2) {
        add_error(c, "WRONGPASS invalid username-password pair or user is "
                     "disabled.");
    } else {
        c->authenticated = true;
        add_ok(c);
    }
}

static void set_name(wd_client *c, const char *name, size_t len)
{
    char *copy = NULL;

    if (len) {
        copy = malloc(len + 1);
        if (!copy)
            return;
        memcpy(copy, name, len);
        copy[len] = '\0';
    }
    pthread_mutex_lock(&server.reg_lock);
    free(c->name);
    c->name = copy;
    pthread_mutex_unlock(&server.reg_lock);
}

static bool valid_name(wd_client *c, int i)
{
    for (size_t k = 0; k < c->argvlen[i]; k++)
        if (c->argv[i][k] < '!' || c->argv[i][k] > '~') {
            add_error(c, "ERR Client names cannot contain spaces, newlines "
                         "or special characters.");
            return false;
        }
    return true;
}

/* HELLO [protover [AUTH username password] [SETNAME clientname]] */
void hello_cmd(wd_client *c)
{
    int64_t ver = c->resp;
    int setname = -1;

    if (c->argc >= 2) {
        if (!str_to_ll(c->argv[1], c->argvlen[1], &ver)) {
            add_error(c, "ERR Protocol version is not an integer or out of "
                         "range");
            return;
        }
        if (ver < 2 || ver > 3) {
            add_error(c, "NOPROTO unsupported protocol version");
            return;
        }
    }
    for (int i = 2; i < c->argc; i++) {
        if (arg_eq(c, i, "auth") && i + 2 < c->argc) {
            int rc = check_auth(c, i + 1, i + 2);
            if (rc != 0) {
                add_error(c, "WRONGPASS invalid username-password pair or "
                             "user is disabled.");
                return;
            }
            c->authenticated = true;
            i += 2;
        } else if (arg_eq(c, i, "setname") && i + 1 < c->argc) {
            if (!valid_name(c, i + 1))
                return;
            setname = ++i;
        } else {
            add_errorf(c, "ERR Syntax error in HELLO option '%s'", c->argv[i]);
            return;
        }
    }
    if (!c->authenticated &&
        atomic_load_explicit(&server.auth_required, memory_order_relaxed)) {
        add_error(c, "NOAUTH HELLO must be called with the client already "
                     "authenticated, otherwise the HELLO <proto> AUTH <user> "
                     "<pass> option can be used to authenticate the client "
                     "and select the RESP protocol version at the same "
                     "time");
        return;
    }
    if (setname >= 0)
        set_name(c, c->argv[setname], c->argvlen[setname]);
    c->resp = (int)ver;
    add_map(c, 7);
    add_bulk_str(c, "server");
    add_bulk_str(c, "warpd");
    add_bulk_str(c, "version");
    add_bulk_str(c, WARPD_REDIS_VER);
    add_bulk_str(c, "proto");
    add_int(c, ver);
    add_bulk_str(c, "id");
    add_int(c, (int64_t)c->id);
    add_bulk_str(c, "mode");
    add_bulk_str(c, "standalone");
    add_bulk_str(c, "role");
    add_bulk_str(c, "master");
    add_bulk_str(c, "modules");
    add_array(c, 0);
}

void select_cmd(wd_client *c)
{
    int64_t db;

    if (!str_to_ll(c->argv[1], c->argvlen[1], &db)) {
        add_error(c, "ERR value is not an integer or out of range");
        return;
    }
    if (db != 0)
        add_error(c, "ERR DB index is out of range");
    else
        add_ok(c);
}

void quit_cmd(wd_client *c)
{
    add_ok(c);
    c->close_after_reply = true;
}

void reset_cmd(wd_client *c)
{
    c->resp = 2;
    set_name(c, NULL, 0);
    c->authenticated =
        !atomic_load_explicit(&server.auth_required, memory_order_relaxed);
    add_simple(c, "RESET");
}

/* ------------------------------------------------------------------------ */
/* COMMAND                                                                   */
/* ------------------------------------------------------------------------ */

static void add_flags(wd_client *c, const wd_command *cmd)
{
    const char *f[6];
    int n = 0;

    if (cmd->flags & CMD_WRITE)
        f[n++] = "write";
    if (cmd->flags & CMD_READONLY)
        f[n++] = "readonly";
    if (cmd->flags & CMD_DENYOOM)
        f[n++] = "denyoom";
    if (cmd->flags & CMD_ADMIN)
        f[n++] = "admin";
    if (cmd->flags & CMD_NOAUTH)
        f[n++] = "no_auth";
    if (cmd->flags & CMD_FAST)
        f[n++] = "fast";
    add_set(c, n);
    for (int i = 0; i < n; i++) {
        if (c->resp == 3) {
            add_raw(c, "+", 1);
            add_raw(c, f[i], strlen(f[i]));
            add_crlf(c);
        } else {
            add_simple(c, f[i]);
        }
    }
}

/* Redis 7's reply: name, arity, flags, first key, last key, step, ACL
 * categories, tips, key specs, subcommands (the last four empty). */
static void add_command_info(wd_client *c, const wd_command *cmd)
{
    add_array(c, 10);
    add_bulk_str(c, cmd->name);
    add_int(c, cmd->arity);
    add_flags(c, cmd);
    add_int(c, cmd->firstkey);
    add_int(c, cmd->lastkey);
    add_int(c, cmd->step);
    add_set(c, 0);
    add_set(c, 0);
    add_array(c, 0);
    add_array(c, 0);
}

static void add_command_doc(wd_client *c, const wd_command *cmd)
{
    add_bulk_str(c, cmd->name);
    add_map(c, 3);
    add_bulk_str(c, "summary");
    add_bulk_str(c, cmd->summary);
    add_bulk_str(c, "since");
    add_bulk_str(c, "1.0.0");
    add_bulk_str(c, "group");
    add_bulk_str(c, cmd->group);
}

void command_cmd(wd_client *c)
{
    size_t n;
    const wd_command *t = command_table(&n);

    if (c->argc == 1) {
        add_array(c, (int64_t)n);
        for (size_t i = 0; i < n; i++)
            add_command_info(c, &t[i]);
    } else if (arg_eq(c, 1, "count") && c->argc == 2) {
        add_int(c, (int64_t)n);
    } else if (arg_eq(c, 1, "info")) {
        if (c->argc == 2) {
            add_array(c, (int64_t)n);
            for (size_t i = 0; i < n; i++)
                add_command_info(c, &t[i]);
            return;
        }
        add_array(c, c->argc - 2);
        for (int i = 2; i < c->argc; i++) {
            const wd_command *cmd = command_lookup(c->argv[i], c->argvlen[i]);
            if (cmd)
                add_command_info(c, cmd);
            else
                add_null_array(c);
        }
    } else if (arg_eq(c, 1, "docs")) {
        int found = 0;
        const wd_command *list[256];
        if (c->argc == 2)
            for (size_t i = 0; i < n && i < 256; i++)
                list[found++] = &t[i];
        for (int i = 2; i < c->argc && found < 256; i++) {
            const wd_command *cmd = command_lookup(c->argv[i], c->argvlen[i]);
            if (cmd)
                list[found++] = cmd;
        }
        add_map(c, found);
        for (int i = 0; i < found; i++)
            add_command_doc(c, list[i]);
    } else if (arg_eq(c, 1, "list") && c->argc == 2) {
        add_array(c, (int64_t)n);
        for (size_t i = 0; i < n; i++)
            add_bulk_str(c, t[i].name);
    } else {
        add_errorf(c, "ERR unknown subcommand '%.64s'. Try COMMAND HELP.",
                   c->argv[1]);
    }
}

/* ------------------------------------------------------------------------ */
/* CLIENT                                                                    */
/* ------------------------------------------------------------------------ */

void client_cmd(wd_client *c)
{
    wd_buf out = {0};

    if (arg_eq(c, 1, "id") && c->argc == 2) {
        add_int(c, (int64_t)c->id);
    } else if (arg_eq(c, 1, "setname") && c->argc == 3) {
        if (!valid_name(c, 2))
            return;
        set_name(c, c->argv[2], c->argvlen[2]);
        add_ok(c);
    } else if (arg_eq(c, 1, "getname") && c->argc == 2) {
        pthread_mutex_lock(&server.reg_lock);
        if (c->name)
            add_bulk_str(c, c->name);
        else
            add_null(c);
        pthread_mutex_unlock(&server.reg_lock);
    } else if (arg_eq(c, 1, "info") && c->argc == 2) {
        net_client_info(c, &out);
        add_verbatim(c, out.p, out.len);
    } else if (arg_eq(c, 1, "list") && c->argc == 2) {
        net_client_list(&out);
        add_verbatim(c, out.p ? out.p : "", out.len);
    } else if (arg_eq(c, 1, "setinfo") && c->argc == 4) {
        add_ok(c); /* lib-name / lib-ver from newer clients: accepted */
    } else {
        add_errorf(c,
                   "ERR unknown subcommand or wrong number of arguments "
                   "for '%.64s'. Try CLIENT HELP.",
                   c->argv[1]);
    }
    buf_free(&out);
}

/* ------------------------------------------------------------------------ */
/* CONFIG                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct get_ctx {
    wd_buf pairs; /* name\0value\0 ... */
    int n;
} get_ctx;

static void collect_pair(void *ctx, const char *name, const char *value)
{
    get_ctx *g = ctx;
    size_t a = strlen(name) + 1, b = strlen(value) + 1;

    for (size_t off = 0; off < g->pairs.len;) { /* each name once */
        if (!strcmp(g->pairs.p + off, name))
            return;
        off += strlen(g->pairs.p + off) + 1;
        off += strlen(g->pairs.p + off) + 1;
    }
    if (!buf_reserve(&g->pairs, a + b))
        return;
    memcpy(g->pairs.p + g->pairs.len, name, a);
    memcpy(g->pairs.p + g->pairs.len + a, value, b);
    g->pairs.len += a + b;
    g->n++;
}

void config_cmd(wd_client *c)
{
    if (arg_eq(c, 1, "get") && c->argc >= 3) {
        get_ctx g = {0};
        for (int i = 2; i < c->argc; i++)
            config_get(c->argv[i], c->argvlen[i], collect_pair, &g);
        add_map(c, g.n);
        for (size_t off = 0; off < g.pairs.len;) {
            add_bulk_str(c, g.pairs.p + off);
            off += strlen(g.pairs.p + off) + 1;
        }
        buf_free(&g.pairs);
    } else if (arg_eq(c, 1, "set") && c->argc >= 4 && c->argc % 2 == 0) {
        char err[256];
        for (int i = 2; i < c->argc; i += 2) {
            if (config_set(&server.cfg, c->argv[i], c->argv[i + 1], true, err,
                           sizeof err) != 0) {
                add_errorf(c,
                           "ERR CONFIG SET failed (possibly related to "
                           "argument '%.64s') - %s",
                           c->argv[i], err);
                return;
            }
        }
        add_ok(c);
    } else if (arg_eq(c, 1, "resetstat") && c->argc == 2) {
        net_stats_reset();
        add_ok(c);
    } else if (arg_eq(c, 1, "rewrite")) {
        add_error(c, "ERR CONFIG REWRITE is not supported by warpd");
    } else {
        add_errorf(c,
                   "ERR unknown subcommand or wrong number of arguments "
                   "for '%.64s'. Try CONFIG HELP.",
                   c->argv[1]);
    }
}

/* ------------------------------------------------------------------------ */
/* The keyspace as a whole                                                   */
/* ------------------------------------------------------------------------ */

/* Keys the user sees: keyspace_user_keys(). Series and entanglement edge
 * lists are the engine's keys and do not count. */
void dbsize_cmd(wd_client *c)
{
    add_int(c, (int64_t)keyspace_user_keys());
}

typedef struct keylist {
    wd_buf keys; /* [u8 kind][u32 len][bytes] ... */
    size_t n;
    bool oom;
} keylist;

/* What FLUSHDB deletes, and how. */
#define FLUSH_KEY    'k' /* a user key: kv_delete() */
#define FLUSH_SERIES 't' /* a series, by name: warp_ts_delete() */
#define FLUSH_EDGES  'q' /* a key's edge list: warp_unentangle(ALL) */

/* The kind of a stored key for FLUSHDB, and the bytes that name it; 0 for
 * keys it leaves (the marker, series chunks, other engine keys). Series
 * are found by their meta record, 0xff 0xfe 't' <name> 0x00 <8 x 0xff>,
 * edge lists as 0xff 0xfe 'q' <key> (docs/FORMATS.md). */
static int flush_kind(const char *k, size_t klen, const char **name,
                      size_t *nlen)
{
    static const char meta_id[8] = {-1, -1, -1, -1, -1, -1, -1, -1};

    *name = k;
    *nlen = klen;
    if (!key_reserved(k, klen))
        return FLUSH_KEY;
    if (klen < 3 || (uint8_t)k[0] != 0xff || (uint8_t)k[1] != 0xfe)
        return 0;
    *name = k + 3;
    if (k[2] == 'q') {
        *nlen = klen - 3;
        return FLUSH_EDGES;
    }
    if (k[2] == 't' && klen >= 12 && k[klen - 9] == 0 &&
        memcmp(k + klen - 8, meta_id, 8) == 0) {
        *nlen = klen - 12;
        return FLUSH_SERIES;
    }
    return 0;
}

static int collect_key(void *ctx, const void *key, size_t klen, const void *val,
                       size_t vlen, const warp_placement *where)
{
    keylist *l = ctx;
    const char *name;
    size_t nlen;
    int kind = flush_kind(key, klen, &name, &nlen);
    uint32_t n = (uint32_t)nlen;

    if (kind == 0)
        return 0;
    if (!buf_reserve(&l->keys, nlen + 5)) {
        l->oom = true;
        return 1;
    }
    l->keys.p[l->keys.len] = (char)kind;
    memcpy(l->keys.p + l->keys.len + 1, &n, 4);
    memcpy(l->keys.p + l->keys.len + 5, name, nlen);
    l->keys.len += nlen + 5;
    l->n++;
    return 0;
}

/* Delete one collected entry. */
static void flush_one(wd_client *c, int kind, const char *k, uint32_t n)
{
    if (kind == FLUSH_SERIES) {
        warp_ts_delete(server.db, k, n);
    } else if (kind == FLUSH_EDGES) {
        warp_unentangle(server.db, k, n, NULL, 0);
    } else {
        uint32_t s = key_stripe(k, n);
        stripe_lock(s);
        kv_delete(c, k, n);
        stripe_unlock(s);
    }
}

/* FLUSHDB / FLUSHALL [ASYNC|SYNC]: delete every user key (each under its
 * stripe lock), every series and every stored entanglement edge. Not
 * atomic: a write racing the flush may survive it. */
void flushdb_cmd(wd_client *c)
{
    keylist l = {0};
    size_t off = 0;

    if (c->argc > 2 ||
        (c->argc == 2 && !arg_eq(c, 1, "async") && !arg_eq(c, 1, "sync"))) {
        add_syntax_error(c);
        return;
    }
    warp_foreach(server.db, collect_key, &l);
    if (l.oom) {
        buf_free(&l.keys);
        add_engine_error(c, WARP_ENOMEM);
        return;
    }
    for (size_t i = 0; i < l.n; i++) {
        uint32_t n;
        memcpy(&n, l.keys.p + off + 1, 4);
        flush_one(c, l.keys.p[off], l.keys.p + off + 5, n);
        off += 5 + n;
    }
    buf_free(&l.keys);
    add_ok(c);
}

void time_cmd(wd_client *c)
{
    struct timeval tv;
    char a[32], b[32];

    gettimeofday(&tv, NULL);
    snprintf(a, sizeof a, "%lld", (long long)tv.tv_sec);
    snprintf(b, sizeof b, "%lld", (long long)tv.tv_usec);
    add_array(c, 2);
    add_bulk_str(c, a);
    add_bulk_str(c, b);
}

/* ------------------------------------------------------------------------ */
/* Checkpoints and shutdown                                                  */
/* ------------------------------------------------------------------------ */

static bool in_memory(wd_client *c)
{
    if (strcmp(server.cfg.dir, WARPD_MEMORY_DIR) != 0)
        return false;
    add_error(c, "ERR no data directory: warpd runs in memory "
                 "(--dir :memory:)");
    return true;
}

void save_cmd(wd_client *c)
{
    int rc;

    if (in_memory(c))
        return;
    rc = warp_checkpoint(server.db);
    if (rc != WARP_OK) {
        add_engine_error(c, rc);
        return;
    }
    atomic_store(&server.lastsave_s, wd_now_ms() / 1000);
    add_ok(c);
}

static void *bgsave_main(void *arg)
{
    int rc = warp_checkpoint(server.db);

    if (rc == WARP_OK)
        atomic_store(&server.lastsave_s, wd_now_ms() / 1000);
    else
        wd_log("BGSAVE: %s", warp_strerror(rc));
    atomic_store(&server.bgsave_running, false);
    return NULL;
}

void bgsave_cmd(wd_client *c)
{
    bool expected = false;
    pthread_t t;

    if (c->argc > 2 || (c->argc == 2 && !arg_eq(c, 1, "schedule"))) {
        add_syntax_error(c);
        return;
    }
    if (in_memory(c))
        return;
    if (!atomic_compare_exchange_strong(&server.bgsave_running, &expected,
                                        true)) {
        add_error(c, "ERR Background save already in progress");
        return;
    }
    if (pthread_create(&t, NULL, bgsave_main, NULL) != 0) {
        atomic_store(&server.bgsave_running, false);
        add_error(c, "ERR cannot start a thread for BGSAVE");
        return;
    }
    pthread_detach(t);
    add_simple(c, "Background saving started");
}

void lastsave_cmd(wd_client *c)
{
    add_int(c, (int64_t)atomic_load(&server.lastsave_s));
}

/* SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE]: no reply; the connection closes
 * once the server has stopped accepting and flushed the WAL. */
void shutdown_cmd(wd_client *c)
{
    int req = 1;

    for (int i = 1; i < c->argc; i++) {
        if (arg_eq(c, i, "save"))
            req = 2;
        else if (arg_eq(c, i, "nosave") || arg_eq(c, i, "now") ||
                 arg_eq(c, i, "force"))
            continue;
        else if (arg_eq(c, i, "abort")) {
            add_error(c, "ERR No shutdown in progress.");
            return;
        } else {
            add_syntax_error(c);
            return;
        }
    }
    atomic_store(&server.shutdown_req, req);
    c->close_after_reply = true;
    kill(getpid(), SIGTERM);
}
