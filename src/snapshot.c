/*
 * snapshot.c - writing and loading a shard's checkpoint.
 *
 * FILE  DIR/snapshots/SSSSS-NNNNNNNNNN.snap: shard S, replay the WAL from
 *       segment N on. Written as .tmp, fsynced, renamed, directory fsynced:
 *       a snapshot file that exists under its final name is complete.
 *
 * LAYOUT (little-endian)
 *   header, 64 bytes
 *     0   8  magic "WARPSNP1"
 *     8   4  format version (1)
 *     12  4  shard
 *     16  8  WAL segment to replay from
 *     24  8  creation time, ms since the epoch
 *     32  28 reserved, zero
 *     60  4  checksum: low 32 bits of XXH3-64 over bytes 0-59
 *   blocks, each
 *     0   4  tag "BLK1"
 *     4   4  payload length
 *     8   4  number of records
 *     12  4  checksum of the payload (low 32 bits of XXH3-64)
 *     16     payload: records, each
 *              u32 klen, u32 vlen, u8 hints, key bytes, value bytes
 *   trailer, 32 bytes
 *     0   4  tag "END1"
 *     4   4  reserved, zero
 *     8   8  total records
 *     16  8  total blocks
 *     24  4  reserved, zero
 *     28  4  checksum of bytes 0-27
 *
 * Blocks hold about 64 KiB of records (one larger record gets a block of
 * its own), so a load checks each block's checksum before it applies any
 * of its records, without holding the whole file in memory. A file with a
 * bad header, block or trailer, or without a trailer, is rejected whole.
 */
#include "snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "io.h"
#include "warp.h"

#define SNAP_VERSION 1
#define SNAP_HEADER  64
#define BLOCK_HEADER 16
#define TRAILER      32
#define BLOCK_TARGET (64u << 10)
#define REC_HEADER   9

static const char snap_magic[8] = {'W', 'A', 'R', 'P', 'S', 'N', 'P', '1'};
static const char blk_tag[4] = {'B', 'L', 'K', '1'};
static const char end_tag[4] = {'E', 'N', 'D', '1'};

struct snap_writer {
    int fd;
    char path[4096], tmp[4100], dir[4096];
    uint64_t off, records, blocks;
    unsigned char *buf; /* the block being filled, header included */
    size_t len, cap;    /* payload bytes in buf, buf capacity */
    uint32_t count;     /* records in the block */
};

static inline uint32_t checksum(const void *p, size_t n)
{
    return (uint32_t)XXH3_64bits(p, n);
}

static inline void wr32(unsigned char *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static inline void wr64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static inline uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

void snap_path(char *buf, size_t cap, const char *dir, uint32_t shard,
               uint64_t wal_seg)
{
    snprintf(buf, cap, "%s/%05" PRIu32 "-%010" PRIu64 ".snap", dir, shard,
             wal_seg);
}

/* --- writing -------------------------------------------------------------- */

int snap_begin(snap_writer **out, const char *dir, uint32_t shard,
               uint64_t wal_seg)
{
    snap_writer *w = calloc(1, sizeof(*w));
    unsigned char h[SNAP_HEADER] = {0};
    struct timespec ts;
    int rc;

    *out = NULL;
    if (!w || !(w->buf = malloc(w->cap = BLOCK_HEADER + BLOCK_TARGET))) {
        free(w);
        return WARP_ENOMEM;
    }
    snprintf(w->dir, sizeof(w->dir), "%s", dir);
    snap_path(w->path, sizeof(w->path), dir, shard, wal_seg);
    snprintf(w->tmp, sizeof(w->tmp), "%s.tmp", w->path);
    w->fd = io->open(w->tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (w->fd < 0) {
        rc = io_error(errno);
        free(w->buf);
        free(w);
        return rc;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    memcpy(h, snap_magic, 8);
    wr32(h + 8, SNAP_VERSION);
    wr32(h + 12, shard);
    wr64(h + 16, wal_seg);
    wr64(h + 24, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
    wr32(h + 60, checksum(h, 60));
    if (io_write_all(w->fd, h, sizeof(h), 0) < 0) {
        rc = io_error(errno);
        snap_abort(w);
        return rc;
    }
    w->off = SNAP_HEADER;
    *out = w;
    return WARP_OK;
}

/* Write the block in buf, if it has records. */
static int flush_block(snap_writer *w)
{
    if (!w->count)
        return WARP_OK;
    memcpy(w->buf, blk_tag, 4);
    wr32(w->buf + 4, (uint32_t)w->len);
    wr32(w->buf + 8, w->count);
    wr32(w->buf + 12, checksum(w->buf + BLOCK_HEADER, w->len));
    if (io_write_all(w->fd, w->buf, BLOCK_HEADER + w->len, (off_t)w->off) < 0)
        return io_error(errno);
    w->off += BLOCK_HEADER + w->len;
    w->blocks++;
    w->len = 0;
    w->count = 0;
    return WARP_OK;
}

int snap_add(snap_writer *w, const void *key, uint32_t klen, const void *val,
             uint32_t vlen, uint8_t hints)
{
    size_t need = REC_HEADER + (size_t)klen + vlen;
    unsigned char *p;
    int rc;

    if (w->len && w->len + need > BLOCK_TARGET && (rc = flush_block(w)))
        return rc;
    if (BLOCK_HEADER + w->len + need > w->cap) {
        unsigned char *b = realloc(w->buf, BLOCK_HEADER + w->len + need);
        if (!b)
            return WARP_ENOMEM;
        w->buf = b;
        w->cap = BLOCK_HEADER + w->len + need;
    }
    p = w->buf + BLOCK_HEADER + w->len;
    wr32(p, klen);
    wr32(p + 4, vlen);
    p[8] = hints;
    if (klen)
        memcpy(p + REC_HEADER, key, klen);
    if (vlen)
        memcpy(p + REC_HEADER + klen, val, vlen);
    w->len += need;
    w->count++;
    w->records++;
    return WARP_OK;
}

int snap_finish(snap_writer *w, uint64_t *records)
{
    unsigned char t[TRAILER] = {0};
    int rc = flush_block(w);

    if (rc == WARP_OK) {
        memcpy(t, end_tag, 4);
        wr64(t + 8, w->records);
        wr64(t + 16, w->blocks);
        wr32(t + 28, checksum(t, 28));
        if (io_write_all(w->fd, t, sizeof(t), (off_t)w->off) < 0 ||
            io->fdatasync(w->fd) < 0 || io->rename(w->tmp, w->path) < 0 ||
            io_sync_dir(w->dir) < 0)
            rc = io_error(errno);
    }
    if (rc) {
        snap_abort(w);
        return rc;
    }
    if (records)
        *records = w->records;
    io->close(w->fd);
    free(w->buf);
    free(w);
    return WARP_OK;
}

void snap_abort(snap_writer *w)
{
    if (!w)
        return;
    io->close(w->fd);
    io->unlink(w->tmp);
    free(w->buf);
    free(w);
}

/* --- loading -------------------------------------------------------------- */

#define FAIL(...)                                                              \
    do {                                                                       \
        snprintf(err, errcap, __VA_ARGS__);                                    \
        rc = WARP_ECORRUPT;                                                    \
        goto out;                                                              \
    } while (0)

/* Apply the records of one verified block. */
static int apply_block(const unsigned char *p, uint32_t len, uint32_t count,
                       snap_apply_fn apply, void *ctx)
{
    const unsigned char *end = p + len;

    for (uint32_t i = 0; i < count; i++) {
        uint32_t klen, vlen;
        int rc;
        if ((size_t)(end - p) < REC_HEADER)
            return WARP_ECORRUPT;
        klen = rd32(p);
        vlen = rd32(p + 4);
        if ((uint64_t)(end - p) < (uint64_t)REC_HEADER + klen + vlen)
            return WARP_ECORRUPT;
        if (apply && (rc = apply(ctx, p + REC_HEADER, klen,
                                 p + REC_HEADER + klen, vlen, p[8])))
            return rc;
        p += REC_HEADER + (size_t)klen + vlen;
    }
    return p == end ? WARP_OK : WARP_ECORRUPT;
}

int snap_load(const char *path, uint32_t shard, uint64_t wal_seg,
              snap_apply_fn apply, void *ctx, uint64_t *records, char *err,
              size_t errcap)
{
    unsigned char h[SNAP_HEADER], b[BLOCK_HEADER], *buf = NULL;
    uint64_t off = SNAP_HEADER, blocks = 0, n = 0;
    size_t cap = 0;
    int fd = io->open(path, O_RDONLY, 0), rc = WARP_OK;

    *records = 0;
    if (fd < 0) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return io_error(errno);
    }
    if (io_read_all(fd, h, sizeof(h), 0) < 0 || memcmp(h, snap_magic, 8) ||
        rd32(h + 60) != checksum(h, 60))
        FAIL("%s: bad snapshot header at offset 0", path);
    if (rd32(h + 8) != SNAP_VERSION)
        FAIL("%s: snapshot format version %" PRIu32 " is not supported", path,
             rd32(h + 8));
    if (rd32(h + 12) != shard || rd64(h + 16) != wal_seg)
        FAIL("%s: header names shard %" PRIu32 " segment %" PRIu64, path,
             rd32(h + 12), rd64(h + 16));
    for (;;) {
        if (io_read_all(fd, b, sizeof(b), (off_t)off) < 0)
            FAIL("%s: truncated at offset %" PRIu64 " (no trailer)", path, off);
        if (memcmp(b, end_tag, 4) == 0)
            break;
        uint32_t len = rd32(b + 4), count = rd32(b + 8);
        if (memcmp(b, blk_tag, 4) != 0)
            FAIL("%s: bad block header at offset %" PRIu64, path, off);
        if (len > cap) {
            unsigned char *nb = realloc(buf, len);
            if (!nb) {
                rc = WARP_ENOMEM;
                goto out;
            }
            buf = nb;
            cap = len;
        }
        if (io_read_all(fd, buf, len, (off_t)(off + BLOCK_HEADER)) < 0)
            FAIL("%s: truncated block at offset %" PRIu64, path, off);
        if (checksum(buf, len) != rd32(b + 12))
            FAIL("%s: checksum mismatch in block at offset %" PRIu64, path,
                 off);
        rc = apply_block(buf, len, count, apply, ctx);
        if (rc == WARP_ECORRUPT)
            FAIL("%s: malformed records in block at offset %" PRIu64, path,
                 off);
        if (rc)
            goto out;
        n += count;
        blocks++;
        off += BLOCK_HEADER + len;
    }
    unsigned char t[TRAILER];
    if (io_read_all(fd, t, sizeof(t), (off_t)off) < 0 ||
        rd32(t + 28) != checksum(t, 28) || rd64(t + 8) != n ||
        rd64(t + 16) != blocks)
        FAIL("%s: bad trailer at offset %" PRIu64, path, off);
    *records = n;
out:
    free(buf);
    io->close(fd);
    return rc;
}

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x > y ? -1 : x < y;
}

int snap_list(const char *dir, uint32_t shard, uint64_t **segs, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t cap = 0;

    *segs = NULL;
    *n = 0;
    if (!d)
        return errno == ENOENT ? WARP_OK : io_error(errno);
    while ((e = readdir(d))) {
        uint32_t sh;
        uint64_t seg;
        char tail[8];
        if (sscanf(e->d_name, "%5" SCNu32 "-%10" SCNu64 "%7s", &sh, &seg,
                   tail) != 3 ||
            strcmp(tail, ".snap") != 0 || sh != shard)
            continue;
        if (*n == cap) {
            uint64_t *g = realloc(*segs, (cap = cap ? cap * 2 : 8) * 8);
            if (!g) {
                closedir(d);
                free(*segs);
                *segs = NULL;
                return WARP_ENOMEM;
            }
            *segs = g;
        }
        (*segs)[(*n)++] = seg;
    }
    closedir(d);
    qsort(*segs, *n, sizeof(**segs), cmp_desc);
    return WARP_OK;
}
