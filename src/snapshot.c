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
 *     8   4  format version (2; version 1 has no generations block and
 *            is read with every slot at generation 0)
 *     12  4  shard
 *     16  8  WAL segment to replay from
 *     24  8  creation time, ms since the epoch
 *     32  28 reserved, zero
 *     60  4  checksum: low 32 bits of XXH3-64 over bytes 0-59
 *   slot generations (version 2; always present, right after the header)
 *     0   4  tag "GEN1"
 *     4   4  payload length: 12 x count
 *     8   4  count
 *     12  4  checksum of the payload (low 32 bits of XXH3-64)
 *     16     payload: count x (u32 slot, u64 generation): every slot the
 *            shard held at a generation above 0 (migrate.c); a slot that
 *            is not listed, and every pair of it below, is at generation 0
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
 *     16  8  total blocks (record blocks; the generations block is not
 *            counted)
 *     24  4  reserved, zero
 *     28  4  checksum of bytes 0-27
 *
 * Blocks hold about 64 KiB of records (one larger record gets a block of
 * its own), so a load checks each block's checksum before it applies any
 * of its records, without holding the whole file in memory. A file with a
 * bad header, block or trailer, or without a trailer, is rejected whole;
 * with recovery=salvage, a damaged block is skipped (a damaged block
 * header: up to the next block tag) and counted, and the rest loads.
 */
#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "bytes.h"
#include "io.h"
#include "warp.h"

#define SNAP_VERSION     2
#define SNAP_VERSION_MIN 1 /* the oldest still read */
#define GEN_ENTRY        12
#define SNAP_HEADER      64
#define BLOCK_HEADER     16
#define TRAILER          32
#define BLOCK_TARGET     (64u << 10)
#define REC_HEADER       9

static const char snap_magic[8] = {'W', 'A', 'R', 'P', 'S', 'N', 'P', '1'};
static const char blk_tag[4] = {'B', 'L', 'K', '1'};
static const char end_tag[4] = {'E', 'N', 'D', '1'};
static const char gen_tag[4] = {'G', 'E', 'N', '1'};

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

void snap_path(char *buf, size_t cap, const char *dir, uint32_t shard,
               uint64_t wal_seg)
{
    snprintf(buf, cap, "%s/%05" PRIu32 "-%010" PRIu64 ".snap", dir, shard,
             wal_seg);
}

/* --- writing -------------------------------------------------------------- */

/* Write the slot generations block at w->off. */
static int write_gens(snap_writer *w, const snap_gen *gens, uint32_t n)
{
    size_t len = (size_t)n * GEN_ENTRY;
    unsigned char *b = malloc(BLOCK_HEADER + len);
    int rc = WARP_OK;

    if (!b)
        return WARP_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        wr32(b + BLOCK_HEADER + (size_t)i * GEN_ENTRY, gens[i].slot);
        wr64(b + BLOCK_HEADER + (size_t)i * GEN_ENTRY + 4, gens[i].gen);
    }
    memcpy(b, gen_tag, 4);
    wr32(b + 4, (uint32_t)len);
    wr32(b + 8, n);
    wr32(b + 12, checksum(b + BLOCK_HEADER, len));
    if (io_write_all(w->fd, b, BLOCK_HEADER + len, (off_t)w->off) < 0)
        rc = io_error(errno);
    else
        w->off += BLOCK_HEADER + len;
    free(b);
    return rc;
}

int snap_begin(snap_writer **out, const char *dir, uint32_t shard,
               uint64_t wal_seg, const snap_gen *gens, uint32_t n)
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
    if ((rc = write_gens(w, gens, n))) {
        snap_abort(w);
        return rc;
    }
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

/* A snapshot being loaded. */
typedef struct loader {
    const char *path;
    int fd;
    uint64_t size;
    bool salvage;
    snap_load_stats *st;
    unsigned char *buf;
    size_t cap;
} loader;

/* Read n bytes at off: WARP_OK, WARP_ECORRUPT (the file ends first) or the
 * I/O error. */
static int read_at(loader *l, void *buf, size_t n, uint64_t off)
{
    if (off + n > l->size)
        return WARP_ECORRUPT;
    if (io_read_all(l->fd, buf, n, (off_t)off) < 0)
        return errno == ENODATA ? WARP_ECORRUPT : io_error(errno);
    return WARP_OK;
}

/* Damage at `off`: refuse (strict), or note it for salvage. Returns
 * WARP_ECORRUPT when the load must stop, WARP_OK when salvage goes on. */
static int damage(loader *l, uint64_t off, uint64_t skipped, const char *what)
{
    if (!l->salvage) {
        snprintf(l->st->error, sizeof(l->st->error),
                 "%s: %s at offset %" PRIu64
                 " (recovery=salvage skips damaged blocks)",
                 l->path, what, off);
        return WARP_ECORRUPT;
    }
    l->st->skipped_blocks++;
    l->st->skipped_bytes += skipped;
    return WARP_OK;
}

/* Salvage: the offset of the next block or trailer tag after `from`, or
 * the file size if there is none. */
static uint64_t next_tag(loader *l, uint64_t from)
{
    unsigned char chunk[65536];

    for (uint64_t off = from; off + 4 <= l->size; off += sizeof(chunk) - 3) {
        size_t n =
            l->size - off < sizeof(chunk) ? l->size - off : sizeof(chunk);
        if (read_at(l, chunk, n, off))
            break;
        for (size_t i = 0; i + 4 <= n; i++)
            if (!memcmp(chunk + i, blk_tag, 4) ||
                !memcmp(chunk + i, end_tag, 4))
                return off + i;
    }
    return l->size;
}

/* Make room for `len` bytes in the loader's buffer. */
static int loader_room(loader *l, size_t len)
{
    if (len > l->cap || !l->buf) { /* never NULL: p + 0 on NULL is UB */
        unsigned char *nb = realloc(l->buf, len ? len : 1);
        if (!nb)
            return WARP_ENOMEM;
        l->buf = nb;
        l->cap = len ? len : 1;
    }
    return WARP_OK;
}

/* Load the block at *off and advance *off past it (or, under salvage, past
 * the damage). Returns WARP_OK, or an error that stops the load. */
static int load_block(loader *l, uint64_t *off, snap_apply_fn apply, void *ctx,
                      uint64_t *blocks)
{
    unsigned char b[BLOCK_HEADER];
    uint64_t at = *off, next;
    uint32_t len, count;
    int rc = read_at(l, b, sizeof(b), at);

    if (rc == WARP_OK && memcmp(b, blk_tag, 4))
        rc = WARP_ECORRUPT;
    len = rd32(b + 4);
    count = rd32(b + 8);
    if (rc == WARP_OK && at + BLOCK_HEADER + (uint64_t)len > l->size)
        rc = WARP_ECORRUPT;
    if (rc == WARP_ECORRUPT) { /* the header itself is damaged */
        next = next_tag(l, at + 1);
        *off = next;
        return damage(l, at, next - at, "bad block header");
    }
    if (rc)
        return rc;
    if ((rc = loader_room(l, len)))
        return rc;
    *off = at + BLOCK_HEADER + len;
    if ((rc = read_at(l, l->buf, len, at + BLOCK_HEADER)))
        return rc;
    if (checksum(l->buf, len) != rd32(b + 12))
        return damage(l, at, BLOCK_HEADER + len, "checksum mismatch in block");
    /* verify the records' framing before applying any */
    if (apply_block(l->buf, len, count, NULL, NULL))
        return damage(l, at, BLOCK_HEADER + len, "malformed block");
    if ((rc = apply_block(l->buf, len, count, apply, ctx)))
        return rc;
    l->st->records += count;
    (*blocks)++;
    return WARP_OK;
}

/* Load the slot generations block at *off and advance *off past it (or,
 * under salvage, past the damage). Returns WARP_OK, or an error that
 * stops the load. */
static int load_gens(loader *l, uint64_t *off, snap_gen_fn gen, void *ctx)
{
    unsigned char b[BLOCK_HEADER];
    uint64_t at = *off, len = 0;
    int rc = read_at(l, b, sizeof(b), at);

    if (rc == WARP_OK) {
        len = rd32(b + 4);
        if (memcmp(b, gen_tag, 4) || len != (uint64_t)rd32(b + 8) * GEN_ENTRY ||
            at + BLOCK_HEADER + len > l->size)
            rc = WARP_ECORRUPT;
    }
    if (rc == WARP_ECORRUPT) { /* the header itself is damaged */
        uint64_t next = next_tag(l, at + 1);
        *off = next;
        return damage(l, at, next - at, "bad slot generations block");
    }
    if (rc || (rc = loader_room(l, len)))
        return rc;
    *off = at + BLOCK_HEADER + len;
    if ((rc = read_at(l, l->buf, len, at + BLOCK_HEADER)))
        return rc;
    if (checksum(l->buf, len) != rd32(b + 12))
        return damage(l, at, BLOCK_HEADER + len,
                      "checksum mismatch in slot generations");
    for (uint64_t o = 0; o < len; o += GEN_ENTRY)
        if (rd32(l->buf + o) >= WARP_SLOTS)
            return damage(l, at, BLOCK_HEADER + len,
                          "slot out of range in slot generations");
    for (uint64_t o = 0; gen && o < len; o += GEN_ENTRY)
        if ((rc = gen(ctx, rd32(l->buf + o), rd64(l->buf + o + 4))))
            return rc;
    return WARP_OK;
}

int snap_load(const char *path, uint32_t shard, uint64_t wal_seg, bool salvage,
              snap_apply_fn apply, snap_gen_fn gen, void *ctx,
              snap_load_stats *st)
{
    loader l = {.path = path, .salvage = salvage, .st = st};
    unsigned char h[SNAP_HEADER], t[TRAILER];
    uint64_t off = SNAP_HEADER, blocks = 0;
    struct stat sb;
    bool has_gens = false;
    int rc;

    memset(st, 0, sizeof(*st));
    l.fd = io->open(path, O_RDONLY, 0);
    if (l.fd < 0 || fstat(l.fd, &sb) < 0) {
        rc = io_error(errno);
        snprintf(st->error, sizeof(st->error), "%s: %s", path, strerror(errno));
        if (l.fd >= 0)
            io->close(l.fd);
        return rc;
    }
    l.size = (uint64_t)sb.st_size;
    rc = read_at(&l, h, sizeof(h), 0);
    if (rc == WARP_OK &&
        (memcmp(h, snap_magic, 8) || rd32(h + 60) != checksum(h, 60) ||
         rd32(h + 8) < SNAP_VERSION_MIN || rd32(h + 8) > SNAP_VERSION ||
         rd32(h + 12) != shard || rd64(h + 16) != wal_seg))
        rc = WARP_ECORRUPT;
    if (rc == WARP_OK) {
        has_gens = rd32(h + 8) >= 2;
    } else if (rc == WARP_ECORRUPT) {
        /* salvage reads on: blocks check themselves */
        rc = damage(&l, 0, SNAP_HEADER, "bad snapshot header");
        unsigned char tag[4];
        has_gens = rc == WARP_OK && SNAP_HEADER + 4 <= l.size &&
                   read_at(&l, tag, 4, SNAP_HEADER) == WARP_OK &&
                   !memcmp(tag, gen_tag, 4);
    }
    if (rc == WARP_OK && has_gens)
        rc = load_gens(&l, &off, gen, ctx);
    while (rc == WARP_OK && off < l.size) {
        unsigned char tag[4];
        if (off + 4 <= l.size && (rc = read_at(&l, tag, 4, off)) == WARP_OK &&
            !memcmp(tag, end_tag, 4))
            break;
        if (rc == WARP_OK)
            rc = load_block(&l, &off, apply, ctx, &blocks);
    }
    if (rc == WARP_OK) {
        rc = read_at(&l, t, sizeof(t), off);
        if (rc == WARP_OK &&
            (rd32(t + 28) != checksum(t, 28) || rd64(t + 8) != st->records ||
             rd64(t + 16) != blocks))
            rc = WARP_ECORRUPT;
        if (rc == WARP_ECORRUPT)
            rc = damage(&l, off, l.size > off ? l.size - off : 0,
                        "missing or bad trailer");
    }
    free(l.buf);
    io->close(l.fd);
    return rc;
}
