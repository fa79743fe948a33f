/*
 * engine_warp.c - WarpEngine behind the bench's engine interface
 * (engine.h): each call is the public API's, nothing added.
 *
 * SETTINGS
 *   The options the command line gives (--opt, --shards, --physics), with
 *   `fsync` from the harness; in memory without --dir. get is warp_get()
 *   into the caller's buffer, get_many warp_get_batch(), quantum_get
 *   warp_quantum_get() with upstream's defaults (at most 10 partners of
 *   strength >= 0.1; the partners come from the engine's rules, not from
 *   the caller's list), load warp_put_batch() in chunks, settle
 *   warp_sync() and, on disk, warp_checkpoint(): a long-running store
 *   holds its data in snapshots, not in a WAL as long as the data set, and
 *   the load's checkpoint is the load's cost (RocksDB's settle compacts
 *   for the same reason). Without it the load's WAL bytes count toward
 *   the first checkpoint, which then comes due inside a measured window
 *   sooner. quiesce warp_sync().
 */
#include <stdio.h>
#include <stdlib.h>

#include "engine.h"

struct engine {
    warp_db *db;
    bool on_disk;
};

struct ethread {
    warp_db *db;
};

static int report(const char *call, int rc)
{
    fprintf(stderr, "warp bench: warp: %s: %s\n", call, warp_strerror(rc));
    return rc;
}

static int w_open(const engine_config *cfg, engine **out)
{
    warp_options o = *cfg->warp;
    engine *e = calloc(1, sizeof *e);
    *out = NULL;
    if (e == NULL)
        return report("open", WARP_ENOMEM);
    o.fsync = cfg->fsync;
    int rc = warp_open(cfg->dir, &o, &e->db);
    if (rc != WARP_OK) {
        const char *detail = warp_open_error();
        fprintf(stderr, "warp bench: warp: warp_open(%s): %s%s%s\n",
                cfg->dir ? cfg->dir : "in memory", warp_strerror(rc),
                *detail ? ": " : "", detail);
        free(e);
        return rc;
    }
    e->on_disk = cfg->dir != NULL;
    *out = e;
    return WARP_OK;
}

static void w_close(engine *e)
{
    if (e == NULL)
        return;
    warp_close(e->db);
    free(e);
}

static int w_load(engine *e, const warp_put_item *items, size_t n)
{
    int rc = warp_put_batch(e->db, (warp_put_item *)items, n, NULL);
    return rc == WARP_OK ? rc : report("warp_put_batch", rc);
}

static int w_settle(engine *e)
{
    int rc = warp_sync(e->db);
    if (rc != WARP_OK)
        return report("warp_sync", rc);
    rc = e->on_disk ? warp_checkpoint(e->db) : WARP_OK;
    return rc == WARP_OK ? rc : report("warp_checkpoint", rc);
}

static int w_quiesce(engine *e)
{
    int rc = warp_sync(e->db);
    return rc == WARP_OK ? rc : report("warp_sync", rc);
}

static int w_physics(engine *e, warp_physics_mode mode)
{
    int rc = warp_physics_set(e->db, mode);
    return rc == WARP_OK ? rc : report("warp_physics_set", rc);
}

static uint64_t w_facts_dropped(engine *e)
{
    warp_cosmic_metrics m;

    return warp_cosmic_metrics_get(e->db, &m) == WARP_OK ? m.facts_dropped : 0;
}

static uint64_t w_size(engine *e)
{
    warp_stats st;
    return warp_stats_get(e->db, &st) == WARP_OK ? st.memory_bytes : 0;
}

static ethread *w_thread_open(engine *e)
{
    ethread *t = malloc(sizeof *t);
    if (t == NULL)
        report("thread", WARP_ENOMEM);
    else
        t->db = e->db;
    return t;
}

static void w_thread_close(ethread *t)
{
    free(t);
}

static int w_put(ethread *t, const void *key, size_t klen, const void *val,
                 size_t vlen)
{
    int rc = warp_put(t->db, key, klen, val, vlen, NULL, NULL);
    return rc == WARP_OK ? rc : report("warp_put", rc);
}

static int w_get(ethread *t, const void *key, size_t klen, void *buf,
                 size_t cap, size_t *vlen)
{
    return warp_get(t->db, key, klen, buf, cap, vlen, NULL);
}

static int w_get_many(ethread *t, warp_get_item *items, size_t n)
{
    return warp_get_batch(t->db, items, n);
}

static int w_quantum_get(ethread *t, const warp_key *keys, size_t n, void *buf,
                         size_t cap, unsigned *found)
{
    warp_quantum_result *r;
    (void)n, (void)buf, (void)cap;
    int rc = warp_quantum_get(t->db, keys[0].key, keys[0].klen,
                              WARP_QUANTUM_MAX_DEFAULT,
                              WARP_QUANTUM_MIN_DEFAULT, &r);
    if (rc != WARP_OK)
        return rc;
    *found = 1 + (unsigned)r->found;
    warp_quantum_free(r);
    return WARP_OK;
}

const engine_ops engine_warp = {
    .name = "warp",
    .settings = "the command line's options; get = warp_get, related read = "
                "warp_get_batch, quantum get = warp_quantum_get",
    .open = w_open,
    .close = w_close,
    .load = w_load,
    .settle = w_settle,
    .quiesce = w_quiesce,
    .physics = w_physics,
    .facts_dropped = w_facts_dropped,
    .size = w_size,
    .thread_open = w_thread_open,
    .thread_close = w_thread_close,
    .put = w_put,
    .get = w_get,
    .get_many = w_get_many,
    .quantum_get = w_quantum_get,
};
