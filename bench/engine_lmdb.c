/*
 * engine_lmdb.c - LMDB behind the bench's engine interface (engine.h).
 *
 * SETTINGS (the fairest for these workloads)
 *   One environment, one unnamed database, opened with MDB_WRITEMAP (writes
 *   go straight to the shared map: no copy, no malloc'd dirty pages),
 *   MDB_NORDAHEAD (random reads over a map that fits in memory) and
 *   MDB_NOTLS (a read transaction belongs to its handle, not its thread).
 *   fsync everysec and never add MDB_NOSYNC, MDB_NOMETASYNC and
 *   MDB_MAPASYNC: a commit writes to the map only, which survives a crash
 *   of the process; everysec adds a thread that calls mdb_env_sync(force)
 *   once a second. fsync always keeps LMDB's synchronous commits.
 *   The map is sized at 4x the data plus 256 MiB (a sparse file).
 *   put     one write transaction per put (begin, mdb_put, commit), as the
 *           issue asks: LMDB serialises writers on its writer lock
 *   get     each worker keeps one read-only transaction and renews it for
 *           each read (mdb_txn_renew, mdb_get, copy out, mdb_txn_reset):
 *           no allocation, the reader slot reused
 *   get_many, quantum_get  the keys read one by one inside one renewed
 *           read transaction
 *   load    1,000 puts per write transaction (a preload)
 *   settle, quiesce  mdb_env_sync(force)
 */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define LOAD_TXN_PUTS 1000

struct engine {
    MDB_env *env;
    MDB_dbi dbi;
    engine_syncer *syncer;
};

struct ethread {
    engine *e;
    MDB_txn *rtxn; /* reset between reads */
};

static int fail(const char *call, int err)
{
    fprintf(stderr, "warp bench: lmdb: %s: %s\n", call, mdb_strerror(err));
    return err == ENOMEM ? WARP_ENOMEM : err == ENOSPC ? WARP_ENOSPC : WARP_EIO;
}

static void l_sync(void *arg)
{
    engine *e = arg;
    int err = mdb_env_sync(e->env, 1);
    if (err != 0)
        fail("mdb_env_sync", err);
}

static void l_close(engine *e)
{
    if (e == NULL)
        return;
    engine_syncer_stop(e->syncer);
    if (e->env != NULL)
        mdb_env_close(e->env); /* syncs unless MDB_NOSYNC */
    free(e);
}

/* Create the environment and its database. Returns 0 or an LMDB error,
 * with *what naming the call that failed. */
static int l_setup(engine *e, const engine_config *cfg, const char **what)
{
    unsigned flags = MDB_WRITEMAP | MDB_NORDAHEAD | MDB_NOTLS;
    size_t map = (size_t)(cfg->data_size * 4) + ((size_t)256 << 20);
    MDB_txn *txn;
    int err;
    if (cfg->fsync != WARP_FSYNC_ALWAYS)
        flags |= MDB_NOSYNC | MDB_NOMETASYNC | MDB_MAPASYNC;
    if ((err = mdb_env_create(&e->env)) != 0)
        return *what = "mdb_env_create", err;
    if ((err = mdb_env_set_mapsize(e->env, map)) != 0)
        return *what = "mdb_env_set_mapsize", err;
    if ((err = mdb_env_set_maxreaders(e->env, 1024)) != 0)
        return *what = "mdb_env_set_maxreaders", err;
    if ((err = mdb_env_open(e->env, cfg->dir, flags, 0644)) != 0)
        return *what = "mdb_env_open", err;
    if ((err = mdb_txn_begin(e->env, NULL, 0, &txn)) != 0)
        return *what = "mdb_txn_begin", err;
    if ((err = mdb_dbi_open(txn, NULL, 0, &e->dbi)) != 0) {
        mdb_txn_abort(txn);
        return *what = "mdb_dbi_open", err;
    }
    if ((err = mdb_txn_commit(txn)) != 0)
        return *what = "mdb_txn_commit", err;
    return 0;
}

static int l_open(const engine_config *cfg, engine **out)
{
    const char *what = "";
    engine *e = calloc(1, sizeof *e);
    *out = NULL;
    if (e == NULL)
        return fail("open", ENOMEM);
    if (cfg->dir == NULL) {
        fprintf(stderr, "warp bench: lmdb needs a directory (--dir)\n");
        free(e);
        return WARP_EINVAL;
    }
    int err = l_setup(e, cfg, &what);
    if (err != 0) {
        int rc = fail(what, err);
        l_close(e);
        return rc;
    }
    if (cfg->fsync == WARP_FSYNC_EVERYSEC &&
        (e->syncer = engine_syncer_start(l_sync, e)) == NULL) {
        l_close(e);
        return WARP_ENOMEM;
    }
    *out = e;
    return WARP_OK;
}

static int l_load(engine *e, const warp_put_item *items, size_t n)
{
    for (size_t i = 0; i < n; i += LOAD_TXN_PUTS) {
        MDB_txn *txn;
        int err = mdb_txn_begin(e->env, NULL, 0, &txn);
        if (err != 0)
            return fail("mdb_txn_begin", err);
        for (size_t j = i; j < n && j < i + LOAD_TXN_PUTS; j++) {
            MDB_val k = {items[j].klen, (void *)items[j].key};
            MDB_val v = {items[j].vlen, (void *)items[j].val};
            if ((err = mdb_put(txn, e->dbi, &k, &v, 0)) != 0) {
                mdb_txn_abort(txn);
                return fail("mdb_put", err);
            }
        }
        if ((err = mdb_txn_commit(txn)) != 0)
            return fail("mdb_txn_commit", err);
    }
    return WARP_OK;
}

static int l_settle(engine *e)
{
    int err = mdb_env_sync(e->env, 1);
    return err == 0 ? WARP_OK : fail("mdb_env_sync", err);
}

static uint64_t l_size(engine *e)
{
    MDB_envinfo info;
    MDB_stat st;
    if (mdb_env_info(e->env, &info) != 0 || mdb_env_stat(e->env, &st) != 0)
        return 0;
    return (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
}

static ethread *l_thread_open(engine *e)
{
    ethread *t = calloc(1, sizeof *t);
    int err;
    if (t == NULL) {
        fail("thread", ENOMEM);
        return NULL;
    }
    t->e = e;
    if ((err = mdb_txn_begin(e->env, NULL, MDB_RDONLY, &t->rtxn)) != 0) {
        fail("mdb_txn_begin(read)", err);
        free(t);
        return NULL;
    }
    mdb_txn_reset(t->rtxn);
    return t;
}

static void l_thread_close(ethread *t)
{
    if (t == NULL)
        return;
    mdb_txn_abort(t->rtxn);
    free(t);
}

static int l_put(ethread *t, const void *key, size_t klen, const void *val,
                 size_t vlen)
{
    MDB_txn *txn;
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    int err = mdb_txn_begin(t->e->env, NULL, 0, &txn);
    if (err != 0)
        return fail("mdb_txn_begin", err);
    if ((err = mdb_put(txn, t->e->dbi, &k, &v, 0)) != 0) {
        mdb_txn_abort(txn);
        return fail("mdb_put", err);
    }
    err = mdb_txn_commit(txn);
    return err == 0 ? WARP_OK : fail("mdb_txn_commit", err);
}

/* One read inside the renewed transaction. */
static int read_one(ethread *t, const void *key, size_t klen, void *buf,
                    size_t cap, size_t *vlen)
{
    MDB_val k = {klen, (void *)key}, v;
    int err = mdb_get(t->rtxn, t->e->dbi, &k, &v);
    if (err == MDB_NOTFOUND)
        return WARP_NOTFOUND;
    if (err != 0)
        return fail("mdb_get", err);
    if (vlen != NULL)
        *vlen = v.mv_size;
    if (v.mv_size > cap)
        return WARP_ERANGE;
    memcpy(buf, v.mv_data, v.mv_size);
    return WARP_OK;
}

static int renew(ethread *t)
{
    int err = mdb_txn_renew(t->rtxn);
    return err == 0 ? WARP_OK : fail("mdb_txn_renew", err);
}

static int l_get(ethread *t, const void *key, size_t klen, void *buf,
                 size_t cap, size_t *vlen)
{
    int rc = renew(t);
    if (rc != WARP_OK)
        return rc;
    rc = read_one(t, key, klen, buf, cap, vlen);
    mdb_txn_reset(t->rtxn);
    return rc;
}

static int l_get_many(ethread *t, warp_get_item *items, size_t n)
{
    int rc = renew(t);
    if (rc != WARP_OK)
        return rc;
    for (size_t i = 0; i < n && rc == WARP_OK; i++) {
        warp_get_item *it = &items[i];
        it->rc = read_one(t, it->key, it->klen, it->buf, it->cap, &it->vlen);
        if (it->rc != WARP_OK && it->rc != WARP_NOTFOUND &&
            it->rc != WARP_ERANGE)
            rc = it->rc;
    }
    mdb_txn_reset(t->rtxn);
    return rc;
}

static int l_quantum_get(ethread *t, const warp_key *keys, size_t n, void *buf,
                         size_t cap, unsigned *found)
{
    int rc = renew(t), first = WARP_NOTFOUND;
    *found = 0;
    for (size_t i = 0; i < n && rc == WARP_OK; i++) {
        size_t vlen;
        int r = read_one(t, keys[i].key, keys[i].klen, buf, cap, &vlen);
        if (i == 0)
            first = r;
        if (r == WARP_OK)
            (*found)++;
        else if (r != WARP_NOTFOUND)
            rc = r;
    }
    mdb_txn_reset(t->rtxn);
    return rc != WARP_OK ? rc : first;
}

const engine_ops engine_lmdb = {
    .name = "lmdb",
    .settings = "MDB_WRITEMAP|MDB_NORDAHEAD|MDB_NOTLS, +MDB_NOSYNC|"
                "MDB_NOMETASYNC|MDB_MAPASYNC unless fsync=always (everysec: "
                "mdb_env_sync once a second); one write txn per put; one "
                "read txn per worker, renewed per read",
    .open = l_open,
    .close = l_close,
    .load = l_load,
    .settle = l_settle,
    .quiesce = l_settle,
    .physics = NULL,
    .size = l_size,
    .thread_open = l_thread_open,
    .thread_close = l_thread_close,
    .put = l_put,
    .get = l_get,
    .get_many = l_get_many,
    .quantum_get = l_quantum_get,
};
