/*
 * engine.h - the small engine interface that `warp bench --engine` drives,
 * so that one harness runs the same workloads on WarpEngine and on the
 * embedded engines a user would pick instead (cli/compare.c).
 *
 * THE ADAPTERS
 *   engine_warp.c     libwarp through include/warp.h
 *   engine_lmdb.c     LMDB (liblmdb), built when the library is found
 *   engine_rocksdb.c  RocksDB through its C API (rocksdb/c.h), likewise
 *   Each adapter is thin: one engine call per operation, the value copied
 *   into the caller's buffer (as warp_get() does), and the settings that
 *   suit the engine best for these workloads, stated at the top of its
 *   file and in docs/BENCHMARKS.md.
 *
 * DURABILITY
 *   Every engine is given the same promise by `fsync` (warp's option):
 *     always    a write returns once it is on disk
 *     everysec  a write survives a crash of the process at once, and the
 *               loss of power after at most about a second: each engine's
 *               writes reach the kernel when they return, and a thread of
 *               the adapter (warp's own for warp) syncs once a second
 *     never     as everysec without the syncs: the kernel decides
 *   A store without a directory (warp only) is in memory.
 *
 * RESULTS
 *   Calls return WARP_OK, WARP_NOTFOUND (an answer), or a negative WARP_E*
 *   code after the adapter has printed what its engine said on stderr.
 *
 * THREADS
 *   open, load, settle, physics, size and close run on one thread, with no
 *   worker running. Each worker opens its own ethread (LMDB's read
 *   transaction, RocksDB's read options, ...) and uses it alone; any number
 *   of workers run at once on one engine.
 */
#ifndef WARP_BENCH_ENGINE_H
#define WARP_BENCH_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warp.h"

typedef struct engine engine;   /* an open store */
typedef struct ethread ethread; /* one worker's handle on it */

/* How a store is opened. */
typedef struct engine_config {
    const char *dir;          /* an existing empty directory, or NULL: in memory
                               * (only warp accepts that) */
    warp_fsync fsync;         /* the durability promise above */
    uint64_t data_size;       /* about how many bytes of keys and values the
                               * store will hold (LMDB sizes its map from it) */
    const warp_options *warp; /* warp's options (fsync aside) */
} engine_config;

typedef struct engine_ops {
    const char *name;     /* "warp", "lmdb", "rocksdb" */
    const char *settings; /* one line: the settings the adapter uses */

    /* Open a store; *out is NULL on error. */
    int (*open)(const engine_config *cfg, engine **out);
    /* Close it, after every ethread is closed. NULL is accepted. */
    void (*close)(engine *e);

    /* Put `n` items in as few engine calls as the engine allows (a
     * preload, not a measured workload). */
    int (*load)(engine *e, const warp_put_item *items, size_t n);
    /* After a load: make the store what a long-running one would be
     * (synced; RocksDB flushed and compacted; warp checkpointed). */
    int (*settle)(engine *e);
    /* After a measured window: finish the background work it left behind
     * (its writes synced, in every fsync mode; RocksDB's flushes and
     * compactions done), so that the next window, often another
     * engine's, does not pay for it. */
    int (*quiesce)(engine *e);
    /* Switch physics (warp only; NULL for the others). */
    int (*physics)(engine *e, warp_physics_mode mode);
    /* The facts physics has dropped since the store opened, its rings
     * being full (warp only; NULL for the others): a window with physics
     * full observed every access only if it dropped none. */
    uint64_t (*facts_dropped)(engine *e);
    /* The engine's bytes: memory for warp in memory, else on disk. */
    uint64_t (*size)(engine *e);

    /* A worker's handle; NULL (reported) on error. */
    ethread *(*thread_open)(engine *e);
    void (*thread_close)(ethread *t);

    /* One put, its own transaction where the engine has them. */
    int (*put)(ethread *t, const void *key, size_t klen, const void *val,
               size_t vlen);
    /* One get, copying the value into buf (cap bytes; WARP_ERANGE if it
     * does not fit). *vlen receives the length when found. */
    int (*get)(ethread *t, const void *key, size_t klen, void *buf, size_t cap,
               size_t *vlen);
    /* Read `n` keys in one call where the engine has one (warp_get_batch,
     * RocksDB MultiGet; LMDB: one read transaction). Each item's rc and
     * vlen are set as by get; returns WARP_OK or an error. */
    int (*get_many)(ethread *t, warp_get_item *items, size_t n);
    /* A quantum get: keys[0] and its n-1 entanglement-rule partners.
     * warp calls warp_quantum_get(keys[0]), which finds the partners
     * itself; the others read the n keys one by one into buf. *found
     * receives the keys found. Returns WARP_OK (keys[0] found),
     * WARP_NOTFOUND or an error. */
    int (*quantum_get)(ethread *t, const warp_key *keys, size_t n, void *buf,
                       size_t cap, unsigned *found);
} engine_ops;

/* The engine called `name`, or NULL when it is unknown or not built. */
const engine_ops *engine_find(const char *name);

/* Every engine the harness knows, built or not, NULL-terminated, and
 * whether `name` was built into this binary. */
extern const char *const engine_names[];
bool engine_built(const char *name);

/* For the adapters: a thread that calls fn(arg) once a second until it is
 * stopped (the everysec syncs of LMDB and RocksDB). */
typedef struct engine_syncer engine_syncer;

/* Start one; NULL (reported) on error. */
engine_syncer *engine_syncer_start(void (*fn)(void *arg), void *arg);
/* Stop it and wait for it; NULL is accepted. */
void engine_syncer_stop(engine_syncer *s);

#endif /* WARP_BENCH_ENGINE_H */
