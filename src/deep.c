/* deep.c - deep_cache segment files (the design is in deep.h). */
#include "deep.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "crc32c.h"
#include "epoch.h"
#include "io.h"
#include "warp.h"

#define DEEP_MAGIC     "WDEEP001"
#define DEEP_MAGIC_LEN 8
#define STACK_READ     4096 /* records up to this size are read on the stack */

typedef struct deep_seg {
    uint32_t id;
    int fd;
    uint64_t size;         /* bytes written; the writer's (lock held) */
    _Atomic uint64_t live; /* bytes of live records */
    bool sealed;           /* full: no more appends */
    uint64_t dead_epoch;   /* when it was found sealed and dead; 0: not */
} deep_seg;

struct deep {
    char *dir;
    uint64_t seg_bytes;
    pthread_mutex_t lock;                    /* appends and the segment list */
    _Atomic(deep_seg *) segs[DEEP_MAX_SEGS]; /* by id % DEEP_MAX_SEGS */
    deep_seg *active;
    uint32_t next_id;
    uint32_t nsegs;
    uint64_t file_bytes;
    _Atomic uint64_t reclaimed_files, reclaimed_bytes;
    _Atomic uint64_t reads, read_errors, writes, write_errors;
};

static void seg_path(char *buf, size_t cap, const char *dir, uint32_t id)
{
    snprintf(buf, cap, "%s/00000-%010" PRIu32 ".deep", dir, id);
}

/* Delete the segments an earlier process left. */
static int wipe(const char *dir)
{
    uint64_t *nums;
    size_t n;
    char path[4096];
    int rc = io_list_numbers(dir, ".deep", 0, &nums, &n);

    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/00000-%010" PRIu64 ".deep", dir,
                 nums[i]);
        if (io->unlink(path) < 0 && errno != ENOENT)
            rc = WARP_EIO;
    }
    free(nums);
    return rc;
}

int deep_open(deep **out, const char *dir, uint64_t seg_bytes)
{
    deep *d = calloc(1, sizeof(*d));
    int rc = WARP_ENOMEM;

    *out = NULL;
    if (!d || !(d->dir = malloc(strlen(dir) + 6)))
        goto fail;
    sprintf(d->dir, "%s/deep", dir);
    if ((rc = wipe(d->dir))) /* the directory is made by the first segment */
        goto fail;
    d->seg_bytes = seg_bytes;
    d->next_id = 1;
    pthread_mutex_init(&d->lock, NULL);
    *out = d;
    return WARP_OK;
fail:
    if (d)
        free(d->dir);
    free(d);
    return rc;
}

static void seg_delete(deep *d, deep_seg *s)
{
    char path[4096];

    seg_path(path, sizeof(path), d->dir, s->id);
    io->close(s->fd);
    (void)io->unlink(path);
    d->file_bytes -= s->size;
    d->nsegs--;
    free(s);
}

void deep_close(deep *d)
{
    if (!d)
        return;
    for (uint32_t i = 0; i < DEEP_MAX_SEGS; i++) {
        deep_seg *s = atomic_load(&d->segs[i]);
        if (s)
            seg_delete(d, s);
    }
    (void)rmdir(d->dir); /* if we made it; fails harmlessly otherwise */
    pthread_mutex_destroy(&d->lock);
    free(d->dir);
    free(d);
}

/* Start segment next_id as the active one. Lock held. */
static int seg_start(deep *d)
{
    uint32_t id = d->next_id;
    _Atomic(deep_seg *) *slot = &d->segs[id % DEEP_MAX_SEGS];
    char path[4096];
    deep_seg *s;

    if (atomic_load(slot))
        return WARP_ENOSPC; /* DEEP_MAX_SEGS segments still hold values */
    if (io->mkdir(d->dir, 0755) < 0 && errno != EEXIST)
        return io_error(errno);
    if (!(s = calloc(1, sizeof(*s))))
        return WARP_ENOMEM;
    seg_path(path, sizeof(path), d->dir, id);
    s->id = id;
    s->fd = io->open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (s->fd < 0 || io_write_all(s->fd, DEEP_MAGIC, DEEP_MAGIC_LEN, 0) < 0) {
        int rc = io_error(errno);
        if (s->fd >= 0) {
            io->close(s->fd);
            (void)io->unlink(path);
        }
        free(s);
        return rc;
    }
    s->size = DEEP_MAGIC_LEN;
    d->file_bytes += s->size;
    d->nsegs++;
    d->next_id++;
    if (d->active)
        d->active->sealed = true;
    d->active = s;
    atomic_store_explicit(slot, s, memory_order_release);
    return WARP_OK;
}

static void put_loc(unsigned char *loc, uint32_t seg, uint32_t off,
                    uint32_t slen, uint8_t codec)
{
    wr32(loc, seg);
    wr32(loc + 4, off);
    wr32(loc + 8, slen);
    loc[12] = codec;
    loc[13] = loc[14] = loc[15] = 0;
}

uint32_t deep_loc_len(const unsigned char *loc)
{
    return rd32(loc + 8);
}

int deep_put(deep *d, const void *key, uint32_t klen, uint32_t vlen,
             const void *stored, uint32_t slen, uint8_t codec,
             unsigned char loc[ITEM_LOCATOR])
{
    uint64_t len = DEEP_REC_HEADER + (uint64_t)klen + slen;
    unsigned char *rec = malloc(len);
    int rc = WARP_OK;

    if (!rec)
        return WARP_ENOMEM;
    wr32(rec + 4, klen);
    wr32(rec + 8, vlen);
    wr32(rec + 12, slen);
    rec[16] = codec;
    rec[17] = rec[18] = rec[19] = 0;
    if (klen)
        memcpy(rec + DEEP_REC_HEADER, key, klen);
    if (slen)
        memcpy(rec + DEEP_REC_HEADER + klen, stored, slen);
    wr32(rec, crc32c(rec + 4, len - 4));

    pthread_mutex_lock(&d->lock);
    if (!d->active || (d->active->size + len > d->seg_bytes &&
                       d->active->size > DEEP_MAGIC_LEN))
        rc = seg_start(d);
    if (rc == WARP_OK && d->active->size + len > UINT32_MAX)
        rc = WARP_ENOSPC; /* offsets are 32-bit */
    if (rc == WARP_OK) {
        deep_seg *s = d->active;
        if (io_write_all(s->fd, rec, len, (off_t)s->size) < 0) {
            rc = io_error(errno);
            atomic_fetch_add(&d->write_errors, 1);
        } else {
            put_loc(loc, s->id, (uint32_t)s->size, slen, codec);
            s->size += len;
            d->file_bytes += len;
            atomic_fetch_add(&s->live, len);
            atomic_fetch_add(&d->writes, 1);
        }
    }
    pthread_mutex_unlock(&d->lock);
    free(rec);
    return rc;
}

/* The segment a locator names, or NULL. Inside an epoch section. */
static deep_seg *seg_of(deep *d, const unsigned char *loc)
{
    uint32_t id = rd32(loc);
    deep_seg *s = atomic_load_explicit(&d->segs[id % DEEP_MAX_SEGS],
                                       memory_order_acquire);

    return s && s->id == id ? s : NULL;
}

/* Read and check the record at `loc` into `rec` (room for its length). */
static int read_record(deep *d, const unsigned char *loc, const void *key,
                       uint32_t klen, unsigned char *rec, size_t len)
{
    deep_seg *s = seg_of(d, loc);

    atomic_fetch_add_explicit(&d->reads, 1, memory_order_relaxed);
    if (!s || io_read_all(s->fd, rec, len, (off_t)rd32(loc + 4)) < 0) {
        atomic_fetch_add(&d->read_errors, 1);
        return s ? WARP_EIO : WARP_ECORRUPT;
    }
    if (rd32(rec) != crc32c(rec + 4, len - 4) || rd32(rec + 4) != klen ||
        rd32(rec + 12) != rd32(loc + 8) || rec[16] != loc[12] ||
        (klen && memcmp(rec + DEEP_REC_HEADER, key, klen) != 0)) {
        atomic_fetch_add(&d->read_errors, 1);
        return WARP_ECORRUPT;
    }
    return WARP_OK;
}

/* Read the record at `loc`, then hand its stored bytes to `use`. */
static int with_record(deep *d, const unsigned char *loc, const void *key,
                       uint32_t klen,
                       int (*use)(void *ctx, const unsigned char *rec),
                       void *ctx)
{
    size_t len = DEEP_REC_HEADER + (size_t)klen + rd32(loc + 8);
    unsigned char stack[STACK_READ];
    unsigned char *rec = len <= sizeof(stack) ? stack : malloc(len);
    int rc;

    if (!rec)
        return WARP_ENOMEM;
    rc = read_record(d, loc, key, klen, rec, len);
    if (rc == WARP_OK)
        rc = use(ctx, rec);
    if (rec != stack)
        free(rec);
    return rc;
}

typedef struct decode_ctx {
    const cz_dict *dict;
    uint32_t klen, vlen;
    void *dst;
    uint8_t *codec;
} decode_ctx;

static int decode(void *arg, const unsigned char *rec)
{
    decode_ctx *c = arg;
    const unsigned char *stored = rec + DEEP_REC_HEADER + c->klen;
    uint32_t slen = rd32(rec + 12);

    if (rd32(rec + 8) != c->vlen)
        return WARP_ECORRUPT;
    if (c->codec) { /* the stored bytes themselves */
        *c->codec = rec[16];
        if (slen)
            memcpy(c->dst, stored, slen);
        return WARP_OK;
    }
    return cz_decompress(c->dict, rec[16], stored, slen, c->dst, c->vlen)
               ? WARP_ECORRUPT
               : WARP_OK;
}

int deep_get(deep *d, const cz_dict *dict, const unsigned char *loc,
             const void *key, uint32_t klen, uint32_t vlen, void *dst)
{
    decode_ctx c = {.dict = dict, .klen = klen, .vlen = vlen, .dst = dst};

    return with_record(d, loc, key, klen, decode, &c);
}

typedef struct stored_ctx {
    uint32_t klen;
    void *dst;
    uint8_t *codec;
} stored_ctx;

static int copy_stored(void *arg, const unsigned char *rec)
{
    stored_ctx *c = arg;
    uint32_t slen = rd32(rec + 12);

    *c->codec = rec[16];
    if (slen)
        memcpy(c->dst, rec + DEEP_REC_HEADER + c->klen, slen);
    return WARP_OK;
}

int deep_get_stored(deep *d, const unsigned char *loc, const void *key,
                    uint32_t klen, void *dst, uint8_t *codec)
{
    stored_ctx c = {.klen = klen, .dst = dst, .codec = codec};

    return with_record(d, loc, key, klen, copy_stored, &c);
}

void deep_release(deep *d, const unsigned char *loc, uint32_t klen)
{
    deep_seg *s = seg_of(d, loc);
    uint64_t len = DEEP_REC_HEADER + (uint64_t)klen + rd32(loc + 8);

    if (s)
        atomic_fetch_sub(&s->live, len);
}

void deep_reclaim(deep *d)
{
    uint64_t now = epoch_advance();

    pthread_mutex_lock(&d->lock);
    for (uint32_t i = 0; i < DEEP_MAX_SEGS; i++) {
        deep_seg *s = atomic_load(&d->segs[i]);
        if (!s || !s->sealed || atomic_load(&s->live))
            continue;
        if (!s->dead_epoch) {
            s->dead_epoch = epoch_now();
            continue;
        }
        if (!epoch_safe(s->dead_epoch, now))
            continue;
        atomic_store(&d->segs[i], NULL);
        atomic_fetch_add(&d->reclaimed_files, 1);
        atomic_fetch_add(&d->reclaimed_bytes, s->size);
        seg_delete(d, s);
    }
    pthread_mutex_unlock(&d->lock);
}

void deep_stats_get(deep *d, deep_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    st->files = d->nsegs;
    st->file_bytes = d->file_bytes;
    for (uint32_t i = 0; i < DEEP_MAX_SEGS; i++) {
        deep_seg *s = atomic_load(&d->segs[i]);
        if (s)
            st->live_bytes += atomic_load(&s->live);
    }
    pthread_mutex_unlock(&d->lock);
    st->reclaimed_files = atomic_load(&d->reclaimed_files);
    st->reclaimed_bytes = atomic_load(&d->reclaimed_bytes);
    st->reads = atomic_load(&d->reads);
    st->read_errors = atomic_load(&d->read_errors);
    st->writes = atomic_load(&d->writes);
    st->write_errors = atomic_load(&d->write_errors);
}
