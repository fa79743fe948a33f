/*
 * engine_rocksdb.c - RocksDB, through its C API (rocksdb/c.h), behind the
 * bench's engine interface (engine.h).
 *
 * SETTINGS (the fairest for these workloads: point reads and writes of
 * small values over a data set that fits in memory)
 *   Writes: the WAL on, not synced per write (WriteOptions.sync false), so
 *   a put reaches the kernel before it returns and survives a crash of the
 *   process; everysec adds a thread that calls FlushWAL(sync) once a
 *   second; fsync=always sets sync per write.
 *   Reads: a block-based table with an LRU block cache of twice the data
 *   plus 64 MiB (every block stays cached), a full bloom filter of 10 bits
 *   a key, the data blocks' hash index (kDataBlockBinaryAndHash, a point
 *   lookup without the binary search), a whole-key bloom filter on the
 *   memtable, no compression, all files kept open, checksums not verified
 *   on reads (warp and LMDB do not check theirs on reads either).
 *   IncreaseParallelism(2) for the background flushes and compactions.
 *   get     rocksdb_get_pinned (no copy inside RocksDB), then copied out
 *   get_many  rocksdb_multi_get (one call; it mallocs each value)
 *   quantum_get  the keys one by one with rocksdb_get_pinned
 *   load    WriteBatches of 1,000 puts (a preload)
 *   settle  flush the memtable and compact everything into the last level,
 *           so reads find one sorted run, as in a settled store
 *   quiesce FlushWAL(sync), then wait until no flush or compaction runs
 *           or is due
 */
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"

#define LOAD_BATCH_PUTS 1000
#define MANY_MAX        16

struct engine {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *cache;
    rocksdb_filterpolicy_t *filter; /* owned by table once set */
    rocksdb_writeoptions_t *wopts;
    rocksdb_readoptions_t *ropts;
    engine_syncer *syncer;
};

struct ethread {
    engine *e;
};

/* Report RocksDB's error string (and free it). */
static int fail(const char *call, char *err)
{
    fprintf(stderr, "warp bench: rocksdb: %s: %s\n", call,
            err ? err : "failed");
    rocksdb_free(err);
    return WARP_EIO;
}

static void r_sync(void *arg)
{
    engine *e = arg;
    char *err = NULL;
    rocksdb_flush_wal(e->db, 1, &err);
    if (err != NULL)
        fail("rocksdb_flush_wal", err);
}

static void r_close(engine *e)
{
    if (e == NULL)
        return;
    engine_syncer_stop(e->syncer);
    if (e->db != NULL)
        rocksdb_close(e->db);
    if (e->ropts != NULL)
        rocksdb_readoptions_destroy(e->ropts);
    if (e->wopts != NULL)
        rocksdb_writeoptions_destroy(e->wopts);
    if (e->opts != NULL)
        rocksdb_options_destroy(e->opts);
    if (e->table != NULL)
        rocksdb_block_based_options_destroy(e->table);
    if (e->cache != NULL)
        rocksdb_cache_destroy(e->cache);
    free(e);
}

static void r_options(engine *e, const engine_config *cfg)
{
    e->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(e->opts, 1);
    rocksdb_options_increase_parallelism(e->opts, 2);
    rocksdb_options_set_compression(e->opts, rocksdb_no_compression);
    rocksdb_options_set_max_open_files(e->opts, -1);
    rocksdb_options_set_memtable_prefix_bloom_size_ratio(e->opts, 0.1);
    rocksdb_options_set_memtable_whole_key_filtering(e->opts, 1);

    e->table = rocksdb_block_based_options_create();
    e->cache = rocksdb_cache_create_lru((size_t)cfg->data_size * 2 +
                                        ((size_t)64 << 20));
    rocksdb_block_based_options_set_block_cache(e->table, e->cache);
    e->filter = rocksdb_filterpolicy_create_bloom_full(10);
    rocksdb_block_based_options_set_filter_policy(e->table, e->filter);
    rocksdb_block_based_options_set_data_block_index_type(
        e->table,
        rocksdb_block_based_table_data_block_index_type_binary_search_and_hash);
    rocksdb_block_based_options_set_data_block_hash_ratio(e->table, 0.75);
    rocksdb_options_set_block_based_table_factory(e->opts, e->table);

    e->wopts = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(e->wopts, cfg->fsync == WARP_FSYNC_ALWAYS);
    e->ropts = rocksdb_readoptions_create();
    rocksdb_readoptions_set_verify_checksums(e->ropts, 0);
}

static int r_open(const engine_config *cfg, engine **out)
{
    char *err = NULL;
    engine *e = calloc(1, sizeof *e);
    *out = NULL;
    if (e == NULL) {
        fprintf(stderr, "warp bench: rocksdb: out of memory\n");
        return WARP_ENOMEM;
    }
    if (cfg->dir == NULL) {
        fprintf(stderr, "warp bench: rocksdb needs a directory (--dir)\n");
        free(e);
        return WARP_EINVAL;
    }
    r_options(e, cfg);
    e->db = rocksdb_open(e->opts, cfg->dir, &err);
    if (err != NULL) {
        int rc = fail("rocksdb_open", err);
        r_close(e);
        return rc;
    }
    if (cfg->fsync == WARP_FSYNC_EVERYSEC &&
        (e->syncer = engine_syncer_start(r_sync, e)) == NULL) {
        r_close(e);
        return WARP_ENOMEM;
    }
    *out = e;
    return WARP_OK;
}

static int r_load(engine *e, const warp_put_item *items, size_t n)
{
    rocksdb_writebatch_t *b = rocksdb_writebatch_create();
    char *err = NULL;
    for (size_t i = 0; i < n && err == NULL; i += LOAD_BATCH_PUTS) {
        rocksdb_writebatch_clear(b);
        for (size_t j = i; j < n && j < i + LOAD_BATCH_PUTS; j++)
            rocksdb_writebatch_put(b, items[j].key, items[j].klen, items[j].val,
                                   items[j].vlen);
        rocksdb_write(e->db, e->wopts, b, &err);
    }
    rocksdb_writebatch_destroy(b);
    return err == NULL ? WARP_OK : fail("rocksdb_write", err);
}

static int r_settle(engine *e)
{
    char *err = NULL;
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
    rocksdb_flushoptions_set_wait(fo, 1);
    rocksdb_flush(e->db, fo, &err);
    rocksdb_flushoptions_destroy(fo);
    if (err != NULL)
        return fail("rocksdb_flush", err);
    rocksdb_compact_range(e->db, NULL, 0, NULL, 0);
    return WARP_OK;
}

/* Whether a flush or a compaction is running or due. */
static bool r_busy(engine *e)
{
    static const char *const props[] = {
        "rocksdb.num-running-flushes", "rocksdb.num-running-compactions",
        "rocksdb.mem-table-flush-pending", "rocksdb.compaction-pending"};
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
        uint64_t v = 0;
        if (rocksdb_property_int(e->db, props[i], &v) == 0 && v != 0)
            return true;
    }
    return false;
}

static int r_quiesce(engine *e)
{
    char *err = NULL;
    rocksdb_flush_wal(e->db, 1, &err);
    if (err != NULL)
        return fail("rocksdb_flush_wal", err);
    for (int i = 0; i < 6000 && r_busy(e); i++) /* a minute at most */
        nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
    if (r_busy(e))
        fprintf(stderr, "warp bench: rocksdb: still flushing or compacting "
                        "after 60 s; the next window starts anyway\n");
    return WARP_OK;
}

static uint64_t r_size(engine *e)
{
    uint64_t sst = 0, mem = 0;
    rocksdb_property_int(e->db, "rocksdb.total-sst-files-size", &sst);
    rocksdb_property_int(e->db, "rocksdb.cur-size-all-mem-tables", &mem);
    return sst + mem;
}

static ethread *r_thread_open(engine *e)
{
    ethread *t = malloc(sizeof *t);
    if (t == NULL)
        fprintf(stderr, "warp bench: rocksdb: out of memory\n");
    else
        t->e = e;
    return t;
}

static void r_thread_close(ethread *t)
{
    free(t);
}

static int r_put(ethread *t, const void *key, size_t klen, const void *val,
                 size_t vlen)
{
    char *err = NULL;
    rocksdb_put(t->e->db, t->e->wopts, key, klen, val, vlen, &err);
    return err == NULL ? WARP_OK : fail("rocksdb_put", err);
}

static int r_get(ethread *t, const void *key, size_t klen, void *buf,
                 size_t cap, size_t *vlen)
{
    char *err = NULL;
    rocksdb_pinnableslice_t *ps =
        rocksdb_get_pinned(t->e->db, t->e->ropts, key, klen, &err);
    if (err != NULL)
        return fail("rocksdb_get_pinned", err);
    if (ps == NULL)
        return WARP_NOTFOUND;
    size_t len;
    const char *v = rocksdb_pinnableslice_value(ps, &len);
    int rc = WARP_OK;
    if (vlen != NULL)
        *vlen = len;
    if (len > cap)
        rc = WARP_ERANGE;
    else
        memcpy(buf, v, len);
    rocksdb_pinnableslice_destroy(ps);
    return rc;
}

static int r_get_many(ethread *t, warp_get_item *items, size_t n)
{
    const char *keys[MANY_MAX] = {NULL};
    size_t klens[MANY_MAX] = {0}, vlens[MANY_MAX];
    char *vals[MANY_MAX], *errs[MANY_MAX];
    int rc = WARP_OK;
    if (n > MANY_MAX)
        return WARP_EINVAL;
    for (size_t i = 0; i < n; i++) {
        keys[i] = items[i].key;
        klens[i] = items[i].klen;
    }
    rocksdb_multi_get(t->e->db, t->e->ropts, n, keys, klens, vals, vlens, errs);
    for (size_t i = 0; i < n; i++) {
        warp_get_item *it = &items[i];
        if (errs[i] != NULL) {
            rc = fail("rocksdb_multi_get", errs[i]);
            it->rc = rc;
        } else if (vals[i] == NULL) {
            it->rc = WARP_NOTFOUND;
        } else {
            it->vlen = vlens[i];
            it->rc = vlens[i] > it->cap ? WARP_ERANGE : WARP_OK;
            if (it->rc == WARP_OK)
                memcpy(it->buf, vals[i], vlens[i]);
        }
        rocksdb_free(vals[i]);
    }
    return rc;
}

static int r_quantum_get(ethread *t, const warp_key *keys, size_t n, void *buf,
                         size_t cap, unsigned *found)
{
    int first = WARP_NOTFOUND;
    *found = 0;
    for (size_t i = 0; i < n; i++) {
        size_t vlen;
        int r = r_get(t, keys[i].key, keys[i].klen, buf, cap, &vlen);
        if (i == 0)
            first = r;
        if (r == WARP_OK)
            (*found)++;
        else if (r != WARP_NOTFOUND)
            return r;
    }
    return first;
}

const engine_ops engine_rocksdb = {
    .name = "rocksdb",
    .settings = "WAL unsynced per write (everysec: FlushWAL(sync) once a "
                "second), LRU block cache 2x data + 64 MiB, full bloom 10 "
                "bits/key, data-block hash index, memtable whole-key bloom, "
                "no compression, compacted after the load",
    .open = r_open,
    .close = r_close,
    .load = r_load,
    .settle = r_settle,
    .quiesce = r_quiesce,
    .physics = NULL,
    .size = r_size,
    .thread_open = r_thread_open,
    .thread_close = r_thread_close,
    .put = r_put,
    .get = r_get,
    .get_many = r_get_many,
    .quantum_get = r_quantum_get,
};
