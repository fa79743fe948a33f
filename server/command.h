/*
 * command.h - the command table and dispatch.
 */
#ifndef WARPD_COMMAND_H
#define WARPD_COMMAND_H

#include "server.h"

/* Build the lookup table. Call once before any client connects. */
void commands_init(void);

/* Run the command in c->argv: lookup, arity, NOAUTH gating, reserved
 * keys, maxmemory, then the handler. Replies through c->obuf. */
void command_run(wd_client *c);

const wd_command *command_lookup(const char *name, size_t len);

/* Every command, for COMMAND. */
const wd_command *command_table(size_t *n);

/* Handlers, one file per concern. */
/* t_conn.c: connection and server commands */
wd_cmdfn ping_cmd, echo_cmd, hello_cmd, auth_cmd, select_cmd, quit_cmd,
    reset_cmd, command_cmd, client_cmd, info_cmd, config_cmd, dbsize_cmd,
    flushdb_cmd, time_cmd, save_cmd, bgsave_cmd, lastsave_cmd, shutdown_cmd;
/* t_string.c */
wd_cmdfn get_cmd, set_cmd, setnx_cmd, setex_cmd, psetex_cmd, getset_cmd,
    getdel_cmd, getex_cmd, mget_cmd, mset_cmd, msetnx_cmd, append_cmd,
    strlen_cmd, getrange_cmd, setrange_cmd, incr_cmd, decr_cmd, incrby_cmd,
    decrby_cmd, incrbyfloat_cmd;
/* t_keys.c */
wd_cmdfn del_cmd, exists_cmd, type_cmd, keys_cmd, scan_cmd, randomkey_cmd,
    rename_cmd, renamenx_cmd;
/* expire.c */
wd_cmdfn expire_cmd, pexpire_cmd, expireat_cmd, pexpireat_cmd, ttl_cmd,
    pttl_cmd, expiretime_cmd, pexpiretime_cmd, persist_cmd;
/* t_warp.c */
wd_cmdfn warp_metrics_cmd, warp_entropy_cmd, warp_rebalance_cmd,
    warp_explain_cmd, warp_physics_cmd;
/* t_quantum.c: the entanglement graph */
wd_cmdfn qget_cmd, entangle_cmd, unentangle_cmd;
/* t_series.c: RedisTimeSeries' common commands */
wd_cmdfn ts_create_cmd, ts_add_cmd, ts_get_cmd, ts_range_cmd, ts_info_cmd;

/* Runs of pipelined GETs (t_string.c). When a read brings several GETs
 * one after another, net.c collects their keys and looks them up with one
 * warp_get_batch(), whose prefetching hides the memory latency that
 * dominates a lone GET; the replies are GET's, in order. Only multibulk
 * requests join a run (their arguments stay in the query buffer until
 * the next read; an inline command's do not), and only once the client is
 * authenticated and for a key that is not reserved, so the checks of
 * command_run() have nothing to say. */
#define GETRUN_MAX  16
#define GETRUN_SLOT 256 /* value bytes per key in the batch */
typedef struct wd_getrun {
    const char *key[GETRUN_MAX];
    size_t klen[GETRUN_MAX];
    int n;
} wd_getrun;
/* Whether c->argv is a GET that may join a run. */
bool getrun_fits(const wd_client *c);
/* Add it (the run has room). */
void getrun_add(wd_client *c, wd_getrun *r);
/* Reply every GET of the run, in order, and empty it. */
void getrun_flush(wd_client *c, wd_getrun *r);

/* Helpers shared by the handlers. */
bool arg_ll(wd_client *c, int i, int64_t *out); /* replies on error */
bool str_to_ll(const char *s, size_t n, int64_t *out);
/* A whole string as a double: no spaces, no NaN, in range (inf is). */
bool str_to_double(const char *s, size_t n, double *out);
bool arg_eq(wd_client *c, int i, const char *word); /* case-insensitive */

/* Redis's glob matching (*, ?, [...], \x). */
bool glob_match(const char *pat, size_t plen, const char *s, size_t slen,
                bool nocase);

#endif /* WARPD_COMMAND_H */
