/*
 * server.h - warpd's shared types: the server, its event loops, a client
 * connection, and the command table's entry. docs/SERVER.md is the map.
 *
 * THREADS
 *   `threads` event loops (net.c), each with its own epoll set, its own
 *   SO_REUSEPORT listening socket and its own clients. A client belongs to
 *   one loop for its whole life, so its buffers, parser and reply order
 *   need no lock. Commands call the engine directly from the loop thread.
 *   Writes to a key take the key's stripe lock (keyspace.c), never a
 *   global lock. One more thread runs the active expiry cycle (expire.c).
 *   Shared state (config limits, counters) is read with relaxed atomics.
 */
#ifndef WARPD_SERVER_H
#define WARPD_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warp.h"

#define WARPD_VERSION    "0.1.0"
#define WARPD_REDIS_VER  "7.0.0" /* the Redis command set warpd follows */
#define WARPD_PORT       6380
#define WARPD_DIR        "warpd-data"
#define WARPD_MEMORY_DIR ":memory:" /* --dir value for an in-memory store */

/* Output beyond this stops reading the client until it drains. */
#define WARPD_OBUF_SOFT (1u << 20)

typedef struct wd_loop wd_loop;
typedef struct wd_client wd_client;

/* Per-loop counters. Each is written by its loop only (plain load + store
 * of a relaxed atomic: no locked instruction) and summed by INFO. */
typedef struct wd_stats {
    _Atomic uint64_t commands;
    _Atomic uint64_t connections;
    _Atomic uint64_t net_in, net_out;
    _Atomic uint64_t hits, misses;
    _Atomic uint64_t expired; /* lazily expired keys */
    _Atomic uint64_t rejected;
    _Atomic uint64_t qgets;         /* QGET calls that found their key */
    _Atomic uint64_t qget_partners; /* partners they returned */
    _Atomic uint64_t qget_found;    /* of those, with a live value */
} wd_stats;

#define STAT_ADD(s, field, n)                                                  \
    atomic_store_explicit(                                                     \
        &(s)->field,                                                           \
        atomic_load_explicit(&(s)->field, memory_order_relaxed) + (n),         \
        memory_order_relaxed)

/* A growable byte buffer. */
typedef struct wd_buf {
    char *p;
    size_t len, cap;
} wd_buf;

/* Ensure room for `extra` more bytes; false on allocation failure. */
bool buf_reserve(wd_buf *b, size_t extra);
/* Append printf-formatted text, of any length; false on allocation
 * failure (nothing appended). */
bool buf_printf(wd_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_free(wd_buf *b);

/* The incremental RESP parser's state for one client (resp.c). */
typedef struct wd_parser {
    int reqtype;       /* 0 none yet, 1 multibulk, 2 inline */
    int64_t multibulk; /* arguments still to read */
    int64_t bulklen;   /* -1: expecting a $ line */
    size_t start;      /* where the current command begins in qbuf */
    size_t pos;        /* how far parsing got in qbuf */
    size_t nargs;      /* arguments read so far */
    size_t *argoff;    /* their offsets in qbuf (NUL-terminated there) */
    size_t *arglen;
    size_t argcap;
    wd_buf inline_args; /* an inline command's arguments, unescaped */
    const char *error;  /* set when resp_parse() returns -1 */
} wd_parser;

struct wd_client {
    int fd;
    uint64_t id;
    wd_loop *loop;
    wd_buf qbuf; /* bytes read, not yet consumed */
    wd_parser parser;
    int argc;
    char **argv; /* the command being run; valid during the call */
    size_t *argvlen;
    int argvcap;
    wd_buf obuf;      /* replies not yet written */
    size_t sent;      /* bytes of obuf written */
    _Atomic int resp; /* 2 or 3; atomic only for CLIENT LIST */
    uint32_t events;  /* the epoll interest now */
    bool authenticated;
    bool close_after_reply;
    bool closing; /* protocol error: reply, then close */
    bool reading_paused;
    bool pending; /* on the loop's pending list: replies to write */
    char addr[64], laddr[64];
    uint64_t created_ms;
    _Atomic uint64_t last_ms;      /* last interaction, for idle timeout */
    _Atomic(const char *) lastcmd; /* static name, for CLIENT LIST */
    _Atomic uint64_t qbuf_len, obuf_len; /* for CLIENT LIST, relaxed */
    char *name;               /* CLIENT SETNAME; guarded by the registry lock */
    wd_client *next, *prev;   /* the loop's list */
    wd_client *pnext, *pprev; /* the loop's pending list */
    wd_client *gnext, *gprev; /* the registry (all loops) */
};

struct wd_loop {
    int index;
    int epfd;
    int listen_fd;
    int wake_fd;
    pthread_t thread;
    wd_client *clients;
    wd_client *pending; /* clients read this round, replies to write */
    wd_stats stats;
    wd_buf scratch;  /* values read (keyspace.c) */
    wd_buf wbuf;     /* the value being written (keyspace.c) */
    wd_buf batch;    /* values of a run of pipelined GETs (t_string.c) */
    uint64_t now_ms; /* refreshed each loop iteration */
};

/* The configuration: server settings, then the engine's options. Fields
 * that CONFIG SET changes at run time are atomics. */
typedef struct wd_config {
    char *config_file;
    char *bind;
    int port;
    char *dir;
    int threads;
    bool adopt;
    _Atomic uint64_t maxmemory; /* warpd's write gate; 0: no limit */
    bool engine_maxmemory;      /* maxmemory went to the engine's budget
                                 * (tiers) instead: fixed at start */
    _Atomic uint64_t maxclients;
    _Atomic uint64_t timeout; /* idle seconds; 0: never */
    _Atomic uint64_t proto_max_bulk_len;
    _Atomic uint64_t max_multibulk_len;
    _Atomic uint64_t client_query_buffer_limit;
    _Atomic uint64_t client_output_buffer_limit;
    _Atomic uint64_t hz;        /* active expiry cycles per second */
    _Atomic uint64_t busy_poll; /* µs a loop polls on after its last event */
    int tcp_backlog;
    char *logfile; /* "" : stderr */
    warp_options opts;
} wd_config;

typedef struct wd_server {
    wd_config cfg;
    warp_db *db;
    wd_loop *loops;
    int nloops;
    int port; /* the bound port (resolved when 0) */
    uint64_t start_ms;
    _Atomic bool stopping;
    _Atomic int shutdown_req; /* set by SHUTDOWN: 1, or 2 with SAVE */
    _Atomic uint64_t next_client_id;
    _Atomic uint64_t nclients;
    _Atomic bool over_maxmemory; /* refreshed by the expiry thread */
    _Atomic bool bgsave_running;
    _Atomic uint64_t lastsave_s;
    _Atomic uint64_t stat_expired_active;
    pthread_mutex_t pass_lock; /* requirepass */
    char *requirepass;         /* NULL or "": no password */
    _Atomic bool auth_required;
    pthread_mutex_t reg_lock; /* the client registry, names */
    wd_client *registry;
    wd_stats stat_base; /* CONFIG RESETSTAT's baseline */
    pthread_mutex_t stat_lock;
} wd_server;

extern wd_server server;

/* A command: what it is and how to find its keys. */
typedef void wd_cmdfn(wd_client *c);

#define CMD_WRITE    (1u << 0)
#define CMD_READONLY (1u << 1)
#define CMD_NOAUTH   (1u << 2) /* allowed before AUTH */
#define CMD_DENYOOM  (1u << 3) /* refused over maxmemory */
#define CMD_ADMIN    (1u << 4)
#define CMD_FAST     (1u << 5)

typedef struct wd_command {
    const char *name; /* lower case */
    wd_cmdfn *fn;
    int arity; /* > 0 exact; < 0 at least -arity */
    unsigned flags;
    int firstkey, lastkey, step; /* Redis's key positions */
    const char *group;
    const char *summary;
} wd_command;

/* Time in ms: wall clock (Unix) and monotonic. */
uint64_t wd_now_ms(void);
uint64_t wd_mono_ms(void);
uint64_t wd_mono_us(void);

/* Logging to stderr (or the logfile), with a timestamp. */
void wd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* WARPD_SERVER_H */
