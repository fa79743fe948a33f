/*
 * command.c - the command table and dispatch.
 *
 * Each command is a row: name, handler, arity (Redis's convention: n
 * exact, -n at least n, the name counted), flags, key positions, group
 * and summary (for COMMAND DOCS). Lookup is by a small open-addressing
 * table of lower-case names built at start and read-only after.
 *
 * Dispatch checks, in Redis's order: unknown command, arity, NOAUTH,
 * reserved keys (the engine's `\xff\xfe` keys and warpd's marker are not
 * addressable), maxmemory for commands that may add data.
 */
#include "command.h"

#include "keyspace.h"
#include "resp.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define W  CMD_WRITE
#define R  CMD_READONLY
#define NA CMD_NOAUTH
#define OM CMD_DENYOOM
#define AD CMD_ADMIN
#define F  CMD_FAST

static const wd_command table[] = {
    /* connection */
    {"ping", ping_cmd, -1, F, 0, 0, 0, "connection",
     "Returns the server's liveliness response."},
    {"echo", echo_cmd, 2, F, 0, 0, 0, "connection", "Returns the message."},
    {"hello", hello_cmd, -1, NA | F, 0, 0, 0, "connection",
     "Handshakes with the server (RESP2 or RESP3)."},
    {"auth", auth_cmd, -2, NA | F, 0, 0, 0, "connection",
     "Authenticates the connection."},
    {"select", select_cmd, 2, F, 0, 0, 0, "connection",
     "Changes the selected database (only 0)."},
    {"quit", quit_cmd, -1, NA | F, 0, 0, 0, "connection",
     "Closes the connection."},
    {"reset", reset_cmd, 1, F | NA, 0, 0, 0, "connection",
     "Resets the connection."},
    {"client", client_cmd, -2, 0, 0, 0, 0, "connection",
     "CLIENT SETNAME, GETNAME, ID, INFO, LIST."},
    /* server */
    {"command", command_cmd, -1, 0, 0, 0, 0, "server",
     "Returns detailed information about commands."},
    {"info", info_cmd, -1, 0, 0, 0, 0, "server",
     "Returns information and statistics about the server."},
    {"config", config_cmd, -2, AD, 0, 0, 0, "server",
     "CONFIG GET, SET, RESETSTAT."},
    {"dbsize", dbsize_cmd, 1, R | F, 0, 0, 0, "server",
     "Returns the number of keys."},
    {"flushdb", flushdb_cmd, -1, W, 0, 0, 0, "server", "Removes all keys."},
    {"flushall", flushdb_cmd, -1, W, 0, 0, 0, "server", "Removes all keys."},
    {"time", time_cmd, 1, F, 0, 0, 0, "server", "Returns the server time."},
    {"save", save_cmd, 1, AD, 0, 0, 0, "server",
     "Writes a checkpoint of the store (synchronously)."},
    {"bgsave", bgsave_cmd, -1, AD, 0, 0, 0, "server",
     "Writes a checkpoint of the store in the background."},
    {"lastsave", lastsave_cmd, 1, F, 0, 0, 0, "server",
     "Returns the Unix time of the last checkpoint."},
    {"shutdown", shutdown_cmd, -1, AD, 0, 0, 0, "server",
     "Stops the server after flushing the WAL."},
    /* strings */
    {"get", get_cmd, 2, R | F, 1, 1, 1, "string",
     "Returns the string value of a key."},
    {"set", set_cmd, -3, W | OM, 1, 1, 1, "string",
     "Sets the string value of a key."},
    {"setnx", setnx_cmd, 3, W | OM | F, 1, 1, 1, "string",
     "Sets a key only if it does not exist."},
    {"setex", setex_cmd, 4, W | OM, 1, 1, 1, "string",
     "Sets a key with an expiry in seconds."},
    {"psetex", psetex_cmd, 4, W | OM, 1, 1, 1, "string",
     "Sets a key with an expiry in milliseconds."},
    {"getset", getset_cmd, 3, W | OM | F, 1, 1, 1, "string",
     "Sets a key and returns its previous value."},
    {"getdel", getdel_cmd, 2, W | F, 1, 1, 1, "string",
     "Returns a key's value and deletes the key."},
    {"getex", getex_cmd, -2, W | F, 1, 1, 1, "string",
     "Returns a key's value and changes its expiry."},
    {"mget", mget_cmd, -2, R | F, 1, -1, 1, "string",
     "Returns the values of keys."},
    {"mset", mset_cmd, -3, W | OM, 1, -1, 2, "string",
     "Sets several keys, atomically."},
    {"msetnx", msetnx_cmd, -3, W | OM, 1, -1, 2, "string",
     "Sets several keys only if none exists."},
    {"append", append_cmd, 3, W | OM | F, 1, 1, 1, "string",
     "Appends to a key's value."},
    {"strlen", strlen_cmd, 2, R | F, 1, 1, 1, "string",
     "Returns the length of a key's value."},
    {"getrange", getrange_cmd, 4, R, 1, 1, 1, "string",
     "Returns a substring of a key's value."},
    {"substr", getrange_cmd, 4, R, 1, 1, 1, "string",
     "Returns a substring of a key's value."},
    {"setrange", setrange_cmd, 4, W | OM, 1, 1, 1, "string",
     "Overwrites part of a key's value at an offset."},
    {"incr", incr_cmd, 2, W | OM | F, 1, 1, 1, "string",
     "Increments a key's integer value by one."},
    {"decr", decr_cmd, 2, W | OM | F, 1, 1, 1, "string",
     "Decrements a key's integer value by one."},
    {"incrby", incrby_cmd, 3, W | OM | F, 1, 1, 1, "string",
     "Increments a key's integer value by a number."},
    {"decrby", decrby_cmd, 3, W | OM | F, 1, 1, 1, "string",
     "Decrements a key's integer value by a number."},
    {"incrbyfloat", incrbyfloat_cmd, 3, W | OM | F, 1, 1, 1, "string",
     "Increments a key's float value."},
    /* keys */
    {"del", del_cmd, -2, W, 1, -1, 1, "generic", "Deletes keys."},
    {"unlink", del_cmd, -2, W | F, 1, -1, 1, "generic",
     "Deletes keys (as DEL)."},
    {"exists", exists_cmd, -2, R | F, 1, -1, 1, "generic",
     "Counts the keys that exist."},
    {"touch", exists_cmd, -2, R | F, 1, -1, 1, "generic",
     "Counts the keys that exist (and marks them accessed)."},
    {"type", type_cmd, 2, R | F, 1, 1, 1, "generic",
     "Returns the type of a key."},
    {"keys", keys_cmd, 2, R, 0, 0, 0, "generic",
     "Returns the key names that match a pattern."},
    {"scan", scan_cmd, -2, R, 0, 0, 0, "generic",
     "Iterates over the key names."},
    {"randomkey", randomkey_cmd, 1, R, 0, 0, 0, "generic",
     "Returns a random key name."},
    {"rename", rename_cmd, 3, W, 1, 2, 1, "generic", "Renames a key."},
    {"renamenx", renamenx_cmd, 3, W | F, 1, 2, 1, "generic",
     "Renames a key only if the new name does not exist."},
    /* TTL */
    {"expire", expire_cmd, -3, W | F, 1, 1, 1, "generic",
     "Sets a key's time to live in seconds."},
    {"pexpire", pexpire_cmd, -3, W | F, 1, 1, 1, "generic",
     "Sets a key's time to live in milliseconds."},
    {"expireat", expireat_cmd, -3, W | F, 1, 1, 1, "generic",
     "Sets a key's expiry as a Unix time in seconds."},
    {"pexpireat", pexpireat_cmd, -3, W | F, 1, 1, 1, "generic",
     "Sets a key's expiry as a Unix time in milliseconds."},
    {"ttl", ttl_cmd, 2, R | F, 1, 1, 1, "generic",
     "Returns a key's time to live in seconds."},
    {"pttl", pttl_cmd, 2, R | F, 1, 1, 1, "generic",
     "Returns a key's time to live in milliseconds."},
    {"expiretime", expiretime_cmd, 2, R | F, 1, 1, 1, "generic",
     "Returns a key's expiry as a Unix time in seconds."},
    {"pexpiretime", pexpiretime_cmd, 2, R | F, 1, 1, 1, "generic",
     "Returns a key's expiry as a Unix time in milliseconds."},
    {"persist", persist_cmd, 2, W | F, 1, 1, 1, "generic",
     "Removes a key's expiry."},
    /* WarpEngine */
    {"warp.metrics", warp_metrics_cmd, 1, 0, 0, 0, 0, "warp",
     "The physics metrics as JSON (warp_metrics_json)."},
    {"warp.entropy", warp_entropy_cmd, 1, 0, 0, 0, 0, "warp",
     "The entropy of the shards' load."},
    {"warp.rebalance", warp_rebalance_cmd, -1, AD, 0, 0, 0, "warp",
     "Rebalances hot slots now; FORCE ignores the threshold."},
    {"warp.explain", warp_explain_cmd, 2, R, 1, 1, 1, "warp",
     "Where a key lives and what physics knows of it."},
    {"warp.physics", warp_physics_cmd, -1, AD, 0, 0, 0, "warp",
     "Returns or sets the physics mode: off, adaptive, full."},
    /* entanglement (t_quantum.c); ENTANGLE's STRENGTH s counts as keys
     * here, which only COMMAND INFO shows */
    {"qget", qget_cmd, -2, R | F, 1, 1, 1, "warp",
     "Returns a key's value and its entangled partners' values."},
    {"entangle", entangle_cmd, -3, W | OM, 1, -1, 1, "warp",
     "Entangles a key with partners; returns the entanglement id."},
    {"unentangle", unentangle_cmd, -2, W, 1, -1, 1, "warp",
     "Removes stored entanglement edges of a key."},
    /* time series (t_series.c) */
    {"ts.create", ts_create_cmd, -2, W | OM, 1, 1, 1, "timeseries",
     "Creates a time series."},
    {"ts.add", ts_add_cmd, -4, W | OM | F, 1, 1, 1, "timeseries",
     "Appends a sample to a time series."},
    {"ts.get", ts_get_cmd, 2, R | F, 1, 1, 1, "timeseries",
     "Returns the latest sample of a time series."},
    {"ts.range", ts_range_cmd, -4, R, 1, 1, 1, "timeseries",
     "Queries a range of a time series, optionally aggregated."},
    {"ts.info", ts_info_cmd, 2, R, 1, 1, 1, "timeseries",
     "Returns information about a time series."},
};

#undef W
#undef R
#undef NA
#undef OM
#undef AD
#undef F

#define NCMDS    (sizeof table / sizeof table[0])
#define LOOKUP_N 256 /* a power of two, > 2 * NCMDS */

static const wd_command *lookup[LOOKUP_N];

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)tolower((unsigned char)s[i])) * 16777619u;
    return h;
}

void commands_init(void)
{
    for (size_t i = 0; i < NCMDS; i++) {
        const char *nm = table[i].name;
        uint32_t j = name_hash(nm, strlen(nm)) & (LOOKUP_N - 1);
        while (lookup[j])
            j = (j + 1) & (LOOKUP_N - 1);
        lookup[j] = &table[i];
    }
}

const wd_command *command_lookup(const char *name, size_t len)
{
    uint32_t j = name_hash(name, len) & (LOOKUP_N - 1);

    for (; lookup[j]; j = (j + 1) & (LOOKUP_N - 1)) {
        const wd_command *cmd = lookup[j];
        if (strlen(cmd->name) == len && strncasecmp(cmd->name, name, len) == 0)
            return cmd;
    }
    return NULL;
}

const wd_command *command_table(size_t *n)
{
    *n = NCMDS;
    return table;
}

static bool touches_reserved(wd_client *c, const wd_command *cmd)
{
    int last;

    if (cmd->firstkey == 0)
        return false;
    last = cmd->lastkey < 0 ? c->argc + cmd->lastkey : cmd->lastkey;
    for (int i = cmd->firstkey; i <= last && i < c->argc; i += cmd->step)
        if (key_reserved(c->argv[i], c->argvlen[i]))
            return true;
    return false;
}

void command_run(wd_client *c)
{
    const wd_command *cmd = command_lookup(c->argv[0], c->argvlen[0]);

    if (!cmd) {
        char name[128];
        size_t n = c->argvlen[0] < 100 ? c->argvlen[0] : 100;
        for (size_t i = 0; i < n; i++)
            name[i] =
                isprint((unsigned char)c->argv[0][i]) ? c->argv[0][i] : '?';
        name[n] = '\0';
        add_errorf(
            c, "ERR unknown command '%s', with args beginning with: ", name);
        return;
    }
    atomic_store_explicit(&c->lastcmd, cmd->name, memory_order_relaxed);
    if ((cmd->arity > 0 && c->argc != cmd->arity) || (c->argc < -cmd->arity)) {
        add_wrong_arity(c, cmd->name);
        return;
    }
    if (!c->authenticated && !(cmd->flags & CMD_NOAUTH)) {
        if (atomic_load_explicit(&server.auth_required, memory_order_relaxed)) {
            add_error(c, "NOAUTH Authentication required.");
            return;
        }
        c->authenticated = true; /* the password was removed */
    }
    if (touches_reserved(c, cmd)) {
        add_error(c, "ERR keys beginning with \\xff\\xfe, and warpd's "
                     "marker key, are reserved");
        return;
    }
    if ((cmd->flags & CMD_DENYOOM) &&
        atomic_load_explicit(&server.over_maxmemory, memory_order_relaxed)) {
        add_error(c, "OOM command not allowed when used memory > "
                     "'maxmemory'.");
        return;
    }
    cmd->fn(c);
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

/* Redis's string2ll: no spaces, no '+', no leading zeros, fits int64. */
bool str_to_ll(const char *s, size_t n, int64_t *out)
{
    uint64_t v = 0;
    bool neg = false;
    size_t i = 0;

    if (n == 0 || n > 20)
        return false;
    if (n == 1 && s[0] == '0') {
        *out = 0;
        return true;
    }
    if (s[0] == '-') {
        neg = true;
        i = 1;
        if (n == 1)
            return false;
    }
    if (s[i] < '1' || s[i] > '9')
        return false;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return false;
        *out = (int64_t)(0 - v);
    } else {
        if (v > INT64_MAX)
            return false;
        *out = (int64_t)v;
    }
    return true;
}

bool str_to_double(const char *s, size_t n, double *out)
{
    char buf[64], *end;
    double v;

    if (n == 0 || n >= sizeof buf || isspace((unsigned char)s[0]))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    v = strtod(buf, &end);
    if (end != buf + n || errno == ERANGE || isnan(v))
        return false;
    *out = v;
    return true;
}

bool arg_ll(wd_client *c, int i, int64_t *out)
{
    if (str_to_ll(c->argv[i], c->argvlen[i], out))
        return true;
    add_not_integer(c);
    return false;
}

bool arg_eq(wd_client *c, int i, const char *word)
{
    size_t n = strlen(word);
    return c->argvlen[i] == n && strncasecmp(c->argv[i], word, n) == 0;
}

static inline int fold(int ch, bool nocase)
{
    return nocase ? tolower(ch) : ch;
}

/* Redis's stringmatchlen (util.c), iterative except for '*'. */
static bool match(const char *p, size_t plen, const char *s, size_t slen,
                  bool nocase, int depth)
{
    if (depth > 1000)
        return false;
    while (plen && slen) {
        switch (*p) {
        case '*':
            while (plen > 1 && p[1] == '*') {
                p++;
                plen--;
            }
            if (plen == 1)
                return true;
            for (size_t k = 0; k <= slen; k++)
                if (match(p + 1, plen - 1, s + k, slen - k, nocase, depth + 1))
                    return true;
            return false;
        case '?':
            s++;
            slen--;
            break;
        case '[': {
            bool neg, hit = false;
            p++;
            plen--;
            neg = plen && *p == '^';
            if (neg) {
                p++;
                plen--;
            }
            for (;;) {
                if (plen == 0)
                    break;
                if (*p == '\\' && plen >= 2) {
                    p++;
                    plen--;
                    if (fold((unsigned char)*p, nocase) ==
                        fold((unsigned char)*s, nocase))
                        hit = true;
                } else if (*p == ']') {
                    break;
                } else if (plen >= 3 && p[1] == '-') {
                    int a = fold((unsigned char)p[0], nocase);
                    int b = fold((unsigned char)p[2], nocase);
                    int ch = fold((unsigned char)*s, nocase);
                    if (a > b) {
                        int t = a;
                        a = b;
                        b = t;
                    }
                    if (ch >= a && ch <= b)
                        hit = true;
                    p += 2;
                    plen -= 2;
                } else if (fold((unsigned char)*p, nocase) ==
                           fold((unsigned char)*s, nocase)) {
                    hit = true;
                }
                p++;
                plen--;
            }
            if (plen == 0) { /* no ']': Redis treats it as the end */
                p--;
                plen++;
            }
            if (neg)
                hit = !hit;
            if (!hit)
                return false;
            s++;
            slen--;
            break;
        }
        case '\\':
            if (plen >= 2) {
                p++;
                plen--;
            }
            /* fall through */
        default:
            if (fold((unsigned char)*p, nocase) !=
                fold((unsigned char)*s, nocase))
                return false;
            s++;
            slen--;
            break;
        }
        p++;
        plen--;
        if (slen == 0) {
            while (plen && *p == '*') {
                p++;
                plen--;
            }
            break;
        }
    }
    return plen == 0 && slen == 0;
}

bool glob_match(const char *pat, size_t plen, const char *s, size_t slen,
                bool nocase)
{
    return match(pat, plen, s, slen, nocase, 0);
}
