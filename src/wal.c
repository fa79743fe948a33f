/*
 * wal.c - the write-ahead log of one shard.
 *
 * FILES
 *   DIR/wal/SSSSS-NNNNNNNNNN.wal: shard S, segment N (decimal, zero-padded).
 *   Segments of a shard are numbered consecutively; sequence numbers run on
 *   from one segment to the next without a gap.
 *
 * SEGMENT HEADER (64 bytes, little-endian)
 *   0   8  magic "WARPWAL1"
 *   8   4  format version (3; versions 1 and 2 are read too: 1, written
 *            before slot moves existed, holds no SLOT_IMAGE; neither has
 *            the flags, so bytes 40-43 of theirs are zero)
 *   12  4  shard
 *   16  8  segment number
 *   24  8  sequence number of the segment's first record
 *   32  8  creation time, ms since the epoch
 *   40  4  flags: bit 0 PRIOR_DURABLE, every earlier segment of the log
 *            was on disk when it was set (DURABILITY ORDER, below)
 *   44  16 reserved, zero
 *   60  4  checksum: CRC-32C of bytes 0-59
 *
 * RECORD (at an 8-byte aligned offset; zero padding after it)
 *   0   4  len   bytes of the record, header included, padding excluded;
 *                0 marks the end of the log
 *   4   4  crc   CRC-32C of bytes 8 .. len-1
 *   8   8  seq   sequence number
 *   16  4  klen
 *   20  4  vlen  (0 for a delete)
 *   24  1  op    1 put, 2 delete, 3 SLOT_IMAGE
 *   25  1  hints access pattern (bits 0-1) | priority << 2 (bits 2-4)
 *   26  2  reserved, zero
 *   28     key bytes, then value bytes
 *
 * SLOT_IMAGE (op 3): every pair of one slot, logged by a slot move to the
 *   log of the shard the slot moves to (migrate.c). It is one record, so
 *   one checksum covers it: a torn image is a torn tail like any other.
 *   Its "key" (klen 16) is the image header, its "value" the pairs:
 *     key   0  4  slot
 *           4  4  number of pairs
 *           8  8  the slot's generation after the move
 *     value each pair: u32 klen, u32 vlen, u8 hints, key bytes, value
 *           bytes (no padding); the pairs fill the value exactly
 *   The records of this log for that slot that follow it belong to that
 *   generation; recovery's per-slot rule is in migrate.c.
 *
 * WRITING
 *   A segment is created at its full size (posix_fallocate, so running out
 *   of space shows up here, as WARP_ENOSPC for the write that needed it,
 *   never later), its header written, and the file mapped shared. A record
 *   is a memcpy into the mapping: it is in the page cache at once, so a
 *   process crash loses nothing in any fsync mode; the kernel writes the
 *   pages back. Many records reach the disk in one fdatasync. The length is
 *   stored last, after the checksum.
 *   Page faults stay off the write path, which holds the shard lock: the
 *   segment preparer (persist.c) readies the next segment with its pages
 *   written as zeros and faulted in (wal_prepare()), and each append
 *   that enters a new WAL_AHEAD-byte chunk has its writer fault in the
 *   chunk after it with one madvise(), once it has released the lock
 *   (wal_fault_ahead()). The
 *   second is needed because the kernel's flusher writes back pages
 *   faulted in ahead of use and write-protects them, and each write to
 *   such a page faults again: about 28% of the pages in the complex
 *   benchmark at 2 threads (27,795 faults in 1.8 s; 641 with the
 *   madvise). Neither is done with fsync=always, whose group commits
 *   would write the zeros.
 *
 * REUSE
 *   With fsync everysec or never, a checkpoint keeps up to free_max of the
 *   segments it lets go (renamed NAME.wal.free) instead of deleting them,
 *   and wal_prepare() readies the next segment from one of them: its
 *   blocks are allocated and its pages often still cached, so it only has
 *   to be zeroed (segment_reuse()). The zeros are not synced: after a
 *   power loss the file may hold its old bytes again, which recovery
 *   below reads as a segment never written (its old header names a lower
 *   segment number) or as a torn tail (old records have lower sequence
 *   numbers). A process crash loses nothing: the page cache holds the
 *   zeros. Kept files are deleted at close and at open.
 *
 * DURABILITY ORDER
 *   The kernel writes a log's pages back in any order, so a power loss can
 *   leave segment N short (a torn tail, zeros, or a reused file's old
 *   bytes or header) while N+1 holds records that reached the disk
 *   without a sync. To tell that from damage, a header's PRIOR_DURABLE
 *   flag says that every earlier segment was on disk. It is set only once
 *   that is true (fsync=always: at creation, the old segment synced by
 *   the switch; everysec: by the first sync after the segments left
 *   behind are synced; never: after a sync of the whole file system, with
 *   an fdatasync of its own; after recovery, which syncs the segments it
 *   replayed: by the first sync), and it is synced before any sync of the
 *   segment's records returns. So when no later segment is marked, no
 *   sync of a later segment's records ever returned: the log may end at
 *   N's damage with nothing lost that a sync acknowledged. Segments of
 *   versions 1 and 2 have no flags; for them, as before, a later segment
 *   with a valid first record stands for the mark.
 *
 * RECOVERY
 *   A last segment that was never written is deleted first: empty or all
 *   zeros (a crash between creating it and writing its header), or a
 *   reused one still holding an intact header of an older segment of the
 *   shard. The segment before it becomes the last, and its number is used
 *   again, so that segment numbers stay consecutive.
 *   For each segment from the snapshot's starting segment on, in order:
 *   check the header, then read records while each is whole: length in
 *   range, checksum right, sequence number the one expected. At the first
 *   record that is not:
 *   - if only zeros follow, the log ends there (clean);
 *   - if no valid record follows in this segment, and no later segment is
 *     marked (above), it is a torn tail: the log is cut there and the
 *     bytes dropped are counted;
 *   - otherwise the damage is before the tail: the open fails with
 *     WARP_ECORRUPT naming the file and offset, unless salvage is on, which
 *     skips to the next valid record and counts what it skipped.
 *   With no later segment marked, the log also ends after segment N when
 *   N+1's header is zeros or an older segment's, or when N+1 starts past
 *   N's last sequence number (N's last pages never reached the disk).
 *   The later segments are then deleted, their bytes counted as torn.
 *   Salvage keeps the older rule (a later segment with records stands
 *   for a mark) and reads on past gaps.
 *   The valid record searched for is one whose checksum verifies at an
 *   8-byte boundary, with a sequence number at least the expected one.
 *   New records are then appended after the last valid one.
 */
#include "wal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "crc32c.h"
#include "bytes.h"
#include "io.h"
#include "warp.h"

static const char seg_magic[8] = {'W', 'A', 'R', 'P', 'W', 'A', 'L', '1'};
#define WAL_VERSION     3
#define WAL_VERSION_MIN 1 /* the oldest still read */
#define HDR_FLAGS       40
#define PRIOR_DURABLE   1u /* flags: the segments before this are on disk */
#define WAL_AHEAD       (64u << 10) /* bytes faulted in ahead of the writer */

static inline uint64_t align8(uint64_t n)
{
    return (n + 7) & ~(uint64_t)7;
}

static inline uint32_t checksum(const void *p, size_t n)
{
    return crc32c(p, n);
}

void wal_path(char *buf, size_t cap, const char *dir, uint32_t shard,
              uint64_t seg)
{
    snprintf(buf, cap, "%s/%05" PRIu32 "-%010" PRIu64 ".wal", dir, shard, seg);
}

/* --- records -------------------------------------------------------------- */

static void record_decode(const unsigned char *p, wal_record *r);

/* Whether the pairs of a SLOT_IMAGE record at p fill its payload exactly,
 * as many as its header says. */
static bool image_ok(const unsigned char *p)
{
    wal_record r;
    uint32_t slot, count;
    uint64_t gen;

    record_decode(p, &r);
    if (r.klen != WAL_IMAGE_HEADER)
        return false;
    wal_image_header(&r, &slot, &count, &gen);
    return slot < WARP_SLOTS && wal_image_foreach(&r, NULL, NULL) == WARP_OK;
}

/* Whether a whole, valid record starts at p (with `room` bytes available)
 * and carries sequence number `seq` (or at least `seq` if !exact). */
static bool record_ok(const unsigned char *p, uint64_t room, uint64_t seq,
                      bool exact)
{
    uint32_t len, klen, vlen;
    uint64_t rseq;

    if (room < WAL_REC_HEADER)
        return false;
    len = rd32(p);
    klen = rd32(p + 16);
    vlen = rd32(p + 20);
    rseq = rd64(p + 8);
    if (len < WAL_REC_HEADER || len > room ||
        (uint64_t)WAL_REC_HEADER + klen + vlen != len)
        return false;
    if (p[24] != WAL_OP_PUT && p[24] != WAL_OP_DEL && p[24] != WAL_OP_IMAGE)
        return false;
    if (exact ? rseq != seq : rseq < seq)
        return false;
    if (checksum(p + 8, len - 8) != rd32(p + 4))
        return false;
    return p[24] != WAL_OP_IMAGE || image_ok(p);
}

static void record_decode(const unsigned char *p, wal_record *r)
{
    r->seq = rd64(p + 8);
    r->klen = rd32(p + 16);
    r->vlen = rd32(p + 20);
    r->op = p[24];
    r->hints = p[25];
    r->key = p + WAL_REC_HEADER;
    r->val = p + WAL_REC_HEADER + r->klen;
}

static bool all_zero(const unsigned char *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* Offset of the next valid record at or after `from` with seq >= `seq`,
 * or 0 if there is none. */
static uint64_t find_valid(const unsigned char *m, uint64_t size, uint64_t from,
                           uint64_t seq)
{
    for (uint64_t o = align8(from); o + WAL_REC_HEADER <= size; o += 8)
        if (rd32(m + o) && record_ok(m + o, size - o, seq, false))
            return o;
    return 0;
}

/* --- segment headers ------------------------------------------------------ */

static void header_fill(unsigned char *h, uint32_t shard, uint64_t seg,
                        uint64_t first_seq, uint32_t flags)
{
    memset(h, 0, WAL_SEG_HEADER);
    memcpy(h, seg_magic, 8);
    wr32(h + 8, WAL_VERSION);
    wr32(h + 12, shard);
    wr64(h + 16, seg);
    wr64(h + 24, first_seq);
    wr64(h + 32, clock_wall_ms());
    wr32(h + HDR_FLAGS, flags);
    wr32(h + 60, checksum(h, 60));
}

/* Mark the header `h` of the current segment PRIOR_DURABLE (writing it as
 * this version's), once every earlier segment is on disk. Writers never
 * touch a header after its segment's creation. sync_lock held. */
static void header_mark_prior_durable(unsigned char *h)
{
    wr32(h + 8, WAL_VERSION);
    wr32(h + HDR_FLAGS, rd32(h + HDR_FLAGS) | PRIOR_DURABLE);
    wr32(h + 60, checksum(h, 60));
}

/* Whether `h` is an intact header of a segment of `shard`, any number. */
static bool header_valid(const unsigned char *h, uint64_t size, uint32_t shard)
{
    return size >= WAL_SEG_HEADER && memcmp(h, seg_magic, 8) == 0 &&
           rd32(h + 8) >= WAL_VERSION_MIN && rd32(h + 8) <= WAL_VERSION &&
           rd32(h + 60) == checksum(h, 60) && rd32(h + 12) == shard;
}

/* Whether `h` is a valid header of segment `seg` of `shard`. */
static bool header_ok(const unsigned char *h, uint64_t size, uint32_t shard,
                      uint64_t seg)
{
    return header_valid(h, size, shard) && rd64(h + 16) == seg;
}

/* Whether segment `seg`, mapped at m, was never written: all zeros (a
 * crash between its creation and its header), or a kept segment readied
 * again whose new header never reached the disk (power lost before a
 * sync): it still holds its old life's header, with a lower number. */
static bool never_written(const unsigned char *m, uint64_t size, uint32_t shard,
                          uint64_t seg)
{
    return all_zero(m, size) ||
           (header_valid(m, size, shard) && rd64(m + 16) < seg);
}

/* --- segment scan, shared by recovery and check --------------------------- */

typedef struct scan {
    const char *path;
    const unsigned char *m;
    uint64_t size;
    uint64_t seq;       /* in: expected first; out: next expected */
    uint64_t end;       /* out: offset after the last valid record */
    uint64_t dirty_end; /* out: end of the nonzero bytes after `end` */
    bool later_valid;   /* a later segment holds valid records */
    bool salvage;
    wal_apply_fn apply;
    void *ctx;
    wal_replay_stats *st;
} scan;

/* Read the records of one segment. Returns WARP_OK, an apply error, or
 * WARP_ECORRUPT. */
static int scan_segment(scan *s)
{
    uint64_t o = WAL_SEG_HEADER;

    while (o < s->size) {
        const unsigned char *p = s->m + o;
        if (record_ok(p, s->size - o, s->seq, true)) {
            wal_record r;
            record_decode(p, &r);
            if (s->apply) {
                int rc = s->apply(s->ctx, &r);
                if (rc)
                    return rc;
            }
            s->st->records++;
            s->seq++;
            o += align8(rd32(p));
            continue;
        }
        if (all_zero(p, s->size - o))
            break; /* the clean end of the log */
        uint64_t next = find_valid(s->m, s->size, o + 8, s->seq);
        if (!next && !s->later_valid) { /* a torn tail */
            uint64_t last = s->size;
            while (last > o && s->m[last - 1] == 0)
                last--;
            s->st->torn_bytes += last - o;
            s->dirty_end = last;
            break;
        }
        if (!s->salvage) {
            snprintf(s->st->error, sizeof(s->st->error),
                     "%s: damaged record at offset %" PRIu64
                     " (valid records follow; recovery=salvage skips it)",
                     s->path, o);
            return WARP_ECORRUPT;
        }
        s->st->skipped_gaps++;
        if (!next) { /* skip the rest; the next segment goes on */
            s->st->skipped_bytes += s->size - o;
            o = s->size;
            break;
        }
        s->st->skipped_bytes += next - o;
        s->seq = rd64(s->m + next + 8);
        o = next;
    }
    s->end = o < s->size ? o : s->size;
    if (s->dirty_end < s->end)
        s->dirty_end = s->end;
    return WARP_OK;
}

/* --- segment files -------------------------------------------------------- */

/* Map a whole file shared read-write. Returns WARP_OK or an error. */
static int map_file(const char *path, int *fd, unsigned char **m,
                    uint64_t *size)
{
    struct stat sb;

    *fd = io->open(path, O_RDWR, 0);
    if (*fd < 0)
        return io_error(errno);
    if (fstat(*fd, &sb) < 0 || sb.st_size <= 0) {
        int err = sb.st_size <= 0 ? 0 : errno;
        io->close(*fd);
        *fd = -1;
        *m = NULL;
        *size = 0;
        return err ? io_error(err) : WARP_OK; /* an empty file */
    }
    *size = (uint64_t)sb.st_size;
    *m = io->mmap(*size, *fd);
    if (!*m) {
        int err = errno;
        io->close(*fd);
        *fd = -1;
        return io_error(err);
    }
    return WARP_OK;
}

static void unmap_close(int fd, unsigned char *map, uint64_t len)
{
    if (map)
        munmap(map, len);
    io->close(fd);
}

/* The path of segment `seg` with `ext` appended: ".spare" (readied ahead,
 * wal_prepare()) or ".free" (let go, kept to be readied again). */
static void other_path(char *buf, size_t cap, const char *dir, uint32_t shard,
                       uint64_t seg, const char *ext)
{
    wal_path(buf, cap, dir, shard, seg);
    strncat(buf, ext, cap - strlen(buf) - 1);
}

static void spare_path(char *buf, size_t cap, const wal *w, uint64_t seg)
{
    other_path(buf, cap, w->dir, w->shard, seg, ".spare");
}

static void free_path(char *buf, size_t cap, const wal *w, uint64_t seg)
{
    other_path(buf, cap, w->dir, w->shard, seg, ".free");
}

/* Put zeros in the page cache for the first `size` bytes of new segment
 * `fd`, with large writes. A fresh file's pages come far cheaper this way
 * than from faulting them in one by one: each fault of an unwritten page
 * reads it (zeros) and reserves its block separately. Measured here, for
 * 8 MiB segments: 6.1 ms of CPU for the faults alone, 1.4 ms for these
 * writes and the (then cheap) faults; in the complex benchmark at 2
 * threads, 16.4 ms against 9.4 ms of the preparer's CPU per segment. A
 * failed write is harmless: the faults then do the rest. */
static void zero_fill(int fd, uint64_t size)
{
    static unsigned char zeros[256u << 10]; /* in .bss; never written */

    for (uint64_t off = 0; off < size; off += sizeof(zeros)) {
        size_t n = size - off < sizeof(zeros) ? size - off : sizeof(zeros);
        if (io_write_all(fd, zeros, n, (off_t)off) < 0)
            return;
    }
}

/* Create, size and map a segment file at `path`; with `populate`, its
 * pages are also readied in the page cache and faulted in, so that no
 * write to it faults. */
static int segment_file(const char *path, uint64_t size, bool populate,
                        int *fdp, unsigned char **mp)
{
    int fd = io->open(path, O_RDWR | O_CREAT | O_TRUNC, 0644), rc;
    unsigned char *m;

    if (fd < 0)
        return io_error(errno);
    if (io->fallocate(fd, 0, (off_t)size) < 0 || !(m = io->mmap(size, fd))) {
        rc = io_error(errno);
        io->close(fd);
        io->unlink(path);
        return rc;
    }
    if (populate) {
        zero_fill(fd, size);
#ifdef MADV_POPULATE_WRITE
        (void)madvise(m, size, MADV_POPULATE_WRITE);
#endif
    }
    *fdp = fd;
    *mp = m;
    return WARP_OK;
}

/* Ready kept segment file `from` again as `path`, `size` bytes, mapped,
 * its pages faulted in and zeroed. Cheaper than a new file: its blocks are
 * allocated already and its pages are often still cached, so there is no
 * file to create and reserve, no page to allocate, and no unlink (with
 * its discards) when a checkpoint lets it go. The zeros are in the page
 * cache only: after a power loss its old bytes may be back, which replay
 * reads as never written (an old header) or as a torn tail (records of
 * lower sequence numbers). A file that cannot be readied is deleted. */
static int segment_reuse(const char *from, const char *path, uint64_t size,
                         int *fdp, unsigned char **mp)
{
    unsigned char *m = NULL;
    int fd = -1, rc;

    if (io->rename(from, path) < 0) {
        rc = io_error(errno);
        io->unlink(from);
        return rc;
    }
    if ((fd = io->open(path, O_RDWR, 0)) < 0 ||
        io->ftruncate(fd, (off_t)size) < 0 ||
        io->fallocate(fd, 0, (off_t)size) < 0 || !(m = io->mmap(size, fd))) {
        rc = io_error(errno);
        if (fd >= 0)
            io->close(fd);
        io->unlink(path);
        return rc;
    }
#ifdef MADV_POPULATE_WRITE
    (void)madvise(m, size, MADV_POPULATE_WRITE);
#endif
    memset(m, 0, size);
    *fdp = fd;
    *mp = m;
    return WARP_OK;
}

static void discard_spare(wal *w)
{
    char path[4200];

    if (w->spare_fd < 0)
        return;
    spare_path(path, sizeof(path), w, w->spare_seg);
    munmap(w->spare_map, w->spare_len);
    io->close(w->spare_fd);
    io->unlink(path);
    w->spare_fd = -1;
}

/* Whether every segment before the current one is on disk. sync_lock
 * held. */
static bool prior_durable(const wal *w)
{
    return w->behind_durable && w->nold == 0 && !w->left_dirty;
}

/* Mark the current segment PRIOR_DURABLE if it is and does not say so
 * yet; whether it was marked now. sync_lock held. */
static bool mark_current(wal *w)
{
    if (w->fd < 0 || w->cur_flagged || !prior_durable(w))
        return false;
    header_mark_prior_durable(w->map);
    w->cur_flagged = true;
    return true;
}

/* Create segment `seg` able to hold `need` record bytes, and make it
 * current: the spare if it fits, else a new file. `marked`: every
 * segment before it is on disk (its header says so). sync_lock held. */
static int segment_create(wal *w, uint64_t seg, uint64_t need, bool marked)
{
    char path[4096], spare[4200];
    unsigned char hdr[WAL_SEG_HEADER];
    uint64_t size = w->seg_size;
    int fd, rc;
    unsigned char *m;

    if (size < WAL_SEG_HEADER + need)
        size = WAL_SEG_HEADER + align8(need);
    wal_path(path, sizeof(path), w->dir, w->shard, seg);
    header_fill(hdr, w->shard, seg, w->next_seq, marked ? PRIOR_DURABLE : 0);
    if (w->spare_fd >= 0 && (w->spare_seg != seg || w->spare_len < size))
        discard_spare(w);
    if (w->spare_fd >= 0) {
        spare_path(spare, sizeof(spare), w, seg);
        if (io->rename(spare, path) < 0) {
            rc = io_error(errno);
            discard_spare(w);
            return rc;
        }
        fd = w->spare_fd;
        m = w->spare_map;
        size = w->spare_len;
        w->spare_fd = -1;
        memcpy(m, hdr, sizeof(hdr));
    } else {
        if ((rc = segment_file(path, size, false, &fd, &m)))
            return rc;
        if (io_write_all(fd, hdr, sizeof(hdr), 0) < 0) {
            rc = io_error(errno);
            unmap_close(fd, m, size);
            io->unlink(path);
            return rc;
        }
    }
    if (w->sync_mode == WAL_SYNC_NOW && io_sync_dir(w->dir) < 0) {
        rc = io_error(errno);
        unmap_close(fd, m, size);
        io->unlink(path);
        return rc;
    }
    w->dir_dirty = w->sync_mode != WAL_SYNC_NOW;
    w->cur_flagged = marked;
    w->fd = fd;
    w->map = m;
    w->map_len = size;
    w->seg = seg;
    w->seg_seq = w->next_seq;
    w->off = WAL_SEG_HEADER;
    atomic_store_explicit(&w->pub_off, w->off, memory_order_release);
    atomic_store_explicit(&w->synced_off, w->off, memory_order_release);
    return WARP_OK;
}

void wal_prepare(wal *w)
{
    char path[4200], from[4200];
    uint64_t seg, used, kept = 0;
    unsigned char *m = NULL;
    int fd = -1;

    pthread_mutex_lock(&w->sync_lock);
    seg = w->seg + 1;
    used = atomic_load(&w->pub_off);
    bool wanted = w->fd >= 0 && w->spare_fd < 0 && used > w->map_len / 4;
    bool reuse = wanted && w->nfree > 0;
    if (reuse)
        kept = w->free_seg[--w->nfree];
    pthread_mutex_unlock(&w->sync_lock);
    if (!wanted)
        return;
    spare_path(path, sizeof(path), w, seg);
    if (reuse)
        free_path(from, sizeof(from), w, kept);
    bool ready =
        reuse && segment_reuse(from, path, w->seg_size, &fd, &m) == WARP_OK;
    /* fsync=always: faulting in would dirty every page, and the next
     * group commit would write them all */
    if (!ready &&
        segment_file(path, w->seg_size, w->sync_mode != WAL_SYNC_NOW, &fd, &m))
        return; /* the writer will try itself, and report */
    pthread_mutex_lock(&w->sync_lock);
    if (w->fd >= 0 && w->seg + 1 == seg && w->spare_fd < 0) {
        w->spare_fd = fd;
        w->spare_map = m;
        w->spare_len = w->seg_size;
        w->spare_seg = seg;
        fd = -1;
    }
    pthread_mutex_unlock(&w->sync_lock);
    if (fd >= 0) { /* the writer moved on meanwhile */
        unmap_close(fd, m, w->seg_size);
        io->unlink(path);
    }
}

/* Sync and close the segments left behind for the next sync. On error
 * they all stay, to be tried again. sync_lock held. */
static int settle_old(wal *w)
{
    for (int i = 0; i < w->nold; i++) {
        /* Nothing writes to a segment left behind. Unmapped first, its
         * pages are written back without a TLB shootdown each. */
        if (w->old[i].map) {
            munmap(w->old[i].map, w->old[i].len);
            w->old[i].map = NULL;
        }
        if (io->fdatasync(w->old[i].fd) < 0)
            return io_error(errno);
    }
    for (int i = 0; i < w->nold; i++)
        unmap_close(w->old[i].fd, w->old[i].map, w->old[i].len);
    w->nold = 0;
    return WARP_OK;
}

/* Leave the current segment for a new one. What becomes of the old one
 * depends on sync_mode: fsync=always syncs it now; everysec leaves it to
 * the next sync (unless WAL_OLD_MAX are waiting already: then they are
 * synced now); never closes it. On error the current segment stays
 * current. Shard lock held. */
static int segment_switch(wal *w, uint64_t need)
{
    int rc = WARP_OK;
    int old_fd = w->fd;
    unsigned char *old_map = w->map;
    uint64_t old_len = w->map_len;
    bool dirty = atomic_load(&w->pub_off) != atomic_load(&w->synced_off);

    pthread_mutex_lock(&w->sync_lock);
    if (old_fd >= 0 && dirty && w->sync_mode == WAL_SYNC_NOW &&
        io->fdatasync(old_fd) < 0) {
        rc = w->sync_err = io_error(errno);
        goto out;
    }
    if (old_fd >= 0 && dirty && w->sync_mode == WAL_SYNC_LATER &&
        w->nold == WAL_OLD_MAX && (rc = settle_old(w)))
        goto out;
    /* fsync=always has synced the old segment by now; the other modes
     * leave a dirty one for a later sync */
    bool prior = prior_durable(w) &&
                 (old_fd < 0 || !dirty || w->sync_mode == WAL_SYNC_NOW);
    rc = segment_create(w, old_fd >= 0 ? w->seg + 1 : w->seg, need, prior);
    if (rc || old_fd < 0)
        goto out;
    w->switches++;
    if (dirty && w->sync_mode == WAL_SYNC_LATER)
        w->old[w->nold++] = (struct wal_old){old_fd, old_map, old_len};
    else
        unmap_close(old_fd, old_map, old_len);
    /* fsync=never keeps no file open for the next explicit sync, which
     * then syncs the whole file system (wal_sync_many()) */
    if (dirty && w->sync_mode == WAL_SYNC_NONE)
        w->left_dirty = true;
out:
    pthread_mutex_unlock(&w->sync_lock);
    return rc;
}

/* --- appending and syncing ------------------------------------------------ */

/* A record of `len` bytes was written at `off`: publish it. */
static void record_appended(wal *w, uint64_t len)
{
    w->off += align8(len);
    w->next_seq++;
    atomic_store_explicit(&w->pub_off, w->off, memory_order_release);
    atomic_fetch_add_explicit(&w->appended, align8(len), memory_order_relaxed);
}

/* After an append of `len` bytes: if it entered a new WAL_AHEAD chunk,
 * the next chunk, to fault in so that the appends to it take no page
 * fault (WRITING, above); else NULL. */
static void *chunk_ahead(const wal *w, uint64_t len)
{
    uint64_t chunk = w->off / WAL_AHEAD, next = (chunk + 1) * WAL_AHEAD;

    /* not for fsync=always: its group commits would write the chunk's
     * zeros (see wal_prepare()) */
    if (w->sync_mode != WAL_SYNC_NOW &&
        (w->off - align8(len)) / WAL_AHEAD != chunk &&
        next + WAL_AHEAD <= w->map_len)
        return w->map + next;
    return NULL;
}

void wal_fault_ahead(void *ahead)
{
#ifdef MADV_POPULATE_WRITE
    if (ahead)
        (void)madvise(ahead, WAL_AHEAD, MADV_POPULATE_WRITE);
#else
    (void)ahead;
#endif
}

int wal_append(wal *w, uint8_t op, uint8_t hints, const void *key,
               uint32_t klen, const void *val, uint32_t vlen, void **ahead)
{
    uint64_t len = (uint64_t)WAL_REC_HEADER + klen + vlen;
    unsigned char *p;
    int rc;

    *ahead = NULL;
    if (len > UINT32_MAX)
        return WARP_ETOOBIG;
    if (w->fd < 0 || w->off + align8(len) > w->map_len) {
        rc = segment_switch(w, len);
        if (rc)
            return rc;
    }
    /* The checksum is computed from the caller's buffers, not read back
     * from the mapping just written (that stalls on the fresh stores). */
    unsigned char h[WAL_REC_HEADER];
    wr32(h, (uint32_t)len);
    wr64(h + 8, w->next_seq);
    wr32(h + 16, klen);
    wr32(h + 20, vlen);
    h[24] = op;
    h[25] = hints;
    h[26] = h[27] = 0;
    uint32_t crc = crc32c(h + 8, WAL_REC_HEADER - 8);
    crc = crc32c_update(crc, key, klen);
    wr32(h + 4, crc32c_update(crc, val, vlen));
    p = w->map + w->off;
    memcpy(p + 4, h + 4, WAL_REC_HEADER - 4);
    if (klen)
        memcpy(p + WAL_REC_HEADER, key, klen);
    if (vlen)
        memcpy(p + WAL_REC_HEADER + klen, val, vlen);
    memcpy(p, h, 4); /* the length last */
    record_appended(w, len);
    *ahead = chunk_ahead(w, len);
    return WARP_OK;
}

int wal_append_image(wal *w, uint32_t slot, uint64_t gen, uint32_t count,
                     uint64_t bytes,
                     void (*fill)(void *ctx, unsigned char *dst), void *ctx)
{
    uint64_t len = (uint64_t)WAL_REC_HEADER + WAL_IMAGE_HEADER + bytes;
    unsigned char *p;
    int rc;

    if (len > UINT32_MAX)
        return WARP_ETOOBIG;
    if (w->fd < 0 || w->off + align8(len) > w->map_len) {
        rc = segment_switch(w, len);
        if (rc)
            return rc;
    }
    /* Filled in place (an image may be large), then checksummed from the
     * mapping: moves are rare, so reading it back costs nothing that
     * matters. The length goes last, as for every record. */
    p = w->map + w->off;
    wr64(p + 8, w->next_seq);
    wr32(p + 16, WAL_IMAGE_HEADER);
    wr32(p + 20, (uint32_t)bytes);
    p[24] = WAL_OP_IMAGE;
    p[25] = p[26] = p[27] = 0;
    wr32(p + WAL_REC_HEADER, slot);
    wr32(p + WAL_REC_HEADER + 4, count);
    wr64(p + WAL_REC_HEADER + 8, gen);
    fill(ctx, p + WAL_REC_HEADER + WAL_IMAGE_HEADER);
    wr32(p + 4, checksum(p + 8, len - 8));
    unsigned char l[4];
    wr32(l, (uint32_t)len);
    memcpy(p, l, 4);
    record_appended(w, len);
    return WARP_OK;
}

size_t wal_image_put(unsigned char *dst, const void *key, uint32_t klen,
                     const void *val, uint32_t vlen, uint8_t hints)
{
    wr32(dst, klen);
    wr32(dst + 4, vlen);
    dst[8] = hints;
    if (klen)
        memcpy(dst + WAL_IMAGE_ITEM, key, klen);
    if (vlen)
        memcpy(dst + WAL_IMAGE_ITEM + klen, val, vlen);
    return WAL_IMAGE_ITEM + (size_t)klen + vlen;
}

void wal_image_header(const wal_record *r, uint32_t *slot, uint32_t *count,
                      uint64_t *gen)
{
    const unsigned char *h = r->key;

    *slot = rd32(h);
    *count = rd32(h + 4);
    *gen = rd64(h + 8);
}

int wal_image_foreach(const wal_record *r, wal_pair_fn fn, void *ctx)
{
    const unsigned char *p = r->val, *end = p + r->vlen;
    uint32_t slot, count;
    uint64_t gen;

    wal_image_header(r, &slot, &count, &gen);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t klen, vlen;
        int rc;
        if ((size_t)(end - p) < WAL_IMAGE_ITEM)
            return WARP_ECORRUPT;
        klen = rd32(p);
        vlen = rd32(p + 4);
        if ((uint64_t)(end - p) < (uint64_t)WAL_IMAGE_ITEM + klen + vlen)
            return WARP_ECORRUPT;
        if (fn && (rc = fn(ctx, p + WAL_IMAGE_ITEM, klen,
                           p + WAL_IMAGE_ITEM + klen, vlen, p[8])))
            return rc;
        p += WAL_IMAGE_ITEM + (size_t)klen + vlen;
    }
    return p == end ? WARP_OK : WARP_ECORRUPT;
}

int wal_reserve(wal *w, uint64_t bytes)
{
    if (w->fd >= 0 && w->off + bytes <= w->map_len)
        return WARP_OK;
    return segment_switch(w, bytes);
}

bool wal_dirty(wal *w)
{
    return atomic_load_explicit(&w->pub_off, memory_order_acquire) !=
           atomic_load_explicit(&w->synced_off, memory_order_acquire);
}

bool wal_pending(wal *w)
{
    bool more;

    if (wal_dirty(w))
        return true;
    pthread_mutex_lock(&w->sync_lock);
    more = w->nold > 0 || w->dir_dirty || w->left_dirty || w->sync_err;
    pthread_mutex_unlock(&w->sync_lock);
    return more;
}

/* Sync one log by ranges, for fsync=everysec: msync only the bytes
 * written since the last sync. A whole-file sync would also write back the
 * pages of the segment's unwritten tail, which wal_prepare() faulted in
 * (and so dirtied) ahead of time, and the writer would take a fault on
 * each of them again. The pages written in full are unmapped first (the
 * page cache keeps them, dirty): writeback must write-protect every page
 * still mapped, at the cost of a TLB shootdown that interrupts the writer,
 * while one unmapping of the range costs one. sync_lock held. */
static int sync_range(wal *w)
{
    const uint64_t page = 4096;
    uint64_t target = atomic_load_explicit(&w->pub_off, memory_order_acquire);
    uint64_t from = atomic_load(&w->synced_off) & ~(page - 1);

    int rc = settle_old(w);

    if (rc)
        return w->sync_err = rc;
    if (mark_current(w))
        from = 0; /* and this sync writes the mark */
    uint64_t full = target & ~(page - 1);
    if (w->fd >= 0 && full > from)
        (void)madvise(w->map + from, full - from, MADV_DONTNEED);
    if (w->fd >= 0 && target > from &&
        io->msync(w->map + from, target - from) < 0)
        return w->sync_err = io_error(errno);
    if (w->dir_dirty && io_sync_dir(w->dir) < 0)
        return w->sync_err = io_error(errno);
    w->dir_dirty = false;
    if (w->fd >= 0)
        atomic_store_explicit(&w->synced_off, target, memory_order_release);
    return w->sync_err; /* everysec: what failed once stays failed */
}

int wal_sync_many(wal **ws, size_t n)
{
    uint64_t target[n ? n : 1];

    if (n && ws[0]->sync_mode == WAL_SYNC_LATER) {
        int rc = WARP_OK;
        for (size_t i = 0; i < n; i++) {
            pthread_mutex_lock(&ws[i]->sync_lock);
            int r = sync_range(ws[i]);
            pthread_mutex_unlock(&ws[i]->sync_lock);
            if (r && rc == WARP_OK)
                rc = r;
        }
        return rc;
    }
    size_t files = 0, last = 0;
    bool whole = false; /* more than the current segments' bytes */
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        wal *w = ws[i];
        pthread_mutex_lock(&w->sync_lock);
        target[i] = atomic_load_explicit(&w->pub_off, memory_order_acquire);
        if (w->fd >= 0 && target[i] != atomic_load(&w->synced_off))
            files++;
        /* a new segment's directory entry, or a segment left behind */
        whole = whole || w->dir_dirty || w->left_dirty;
        if (w->fd >= 0)
            last = i;
    }
    bool fs_synced = false; /* every file of the logs: syncfs() */
    if (files == 1 && !whole) {
        for (size_t i = 0; i < n; i++)
            if (ws[i]->fd >= 0 && target[i] != atomic_load(&ws[i]->synced_off))
                rc = io->fdatasync(ws[i]->fd);
    } else if (files || whole) {
        rc = io->syncfs(ws[last]->fd);
        fs_synced = true;
    }
    if (rc < 0)
        rc = io_error(errno);
    int result = rc;
    for (size_t i = 0; i < n; i++) {
        wal *w = ws[i];
        if (rc)
            w->sync_err = rc;
        if (w->sync_err) { /* this sync may not have covered it */
            result = result ? result : w->sync_err;
        } else {
            if (w->fd >= 0)
                atomic_store_explicit(&w->synced_off, target[i],
                                      memory_order_release);
            w->dir_dirty = false;
            w->left_dirty = false;
            w->behind_durable = w->behind_durable || fs_synced;
            /* a recovered segment, or the first one after the segments
             * behind it reached the disk: say so, after the fact */
            if (mark_current(w)) {
                if (io->fdatasync(w->fd) < 0) {
                    w->sync_err = io_error(errno);
                    result = result ? result : w->sync_err;
                }
            }
        }
        pthread_mutex_unlock(&w->sync_lock);
    }
    return result;
}

void wal_rewind(wal *w)
{
    uint64_t synced, n = 0;

    pthread_mutex_lock(&w->sync_lock);
    synced = atomic_load(&w->synced_off);
    if (w->fd >= 0 && w->off > synced) {
        memset(w->map + synced, 0, w->off - synced);
        for (uint64_t o = WAL_SEG_HEADER; o < synced; n++)
            o += align8(rd32(w->map + o));
        w->off = synced;
        w->next_seq = w->seg_seq + n;
        atomic_store_explicit(&w->pub_off, w->off, memory_order_release);
    }
    /* the bytes a failed sync may have lost are gone now, and the zeros
     * written over them are dirty again: the next sync writes them */
    w->sync_err = 0;
    pthread_mutex_unlock(&w->sync_lock);
}

int wal_switch(wal *w, uint64_t *seg)
{
    int rc = segment_switch(w, 0);

    if (rc == WARP_OK)
        *seg = w->seg;
    return rc;
}

void wal_drop_before(wal *w, uint64_t seg)
{
    char path[4096], kept[4200];

    pthread_mutex_lock(&w->sync_lock);
    for (; w->first_seg < seg; w->first_seg++) {
        wal_path(path, sizeof(path), w->dir, w->shard, w->first_seg);
        free_path(kept, sizeof(kept), w, w->first_seg);
        /* fsync=always readies no pages ahead (wal_prepare()) */
        if (w->sync_mode != WAL_SYNC_NOW && w->nfree < w->free_max &&
            w->nfree < WAL_FREE_MAX && io->rename(path, kept) == 0)
            w->free_seg[w->nfree++] = w->first_seg;
        else
            (void)io->unlink(path);
    }
    pthread_mutex_unlock(&w->sync_lock);
}

void wal_close(wal *w)
{
    char path[4200];

    discard_spare(w);
    for (; w->nfree > 0; w->nfree--) {
        free_path(path, sizeof(path), w, w->free_seg[w->nfree - 1]);
        io->unlink(path);
    }
    for (int i = 0; i < w->nold; i++)
        unmap_close(w->old[i].fd, w->old[i].map, w->old[i].len);
    w->nold = 0;
    if (w->fd >= 0) {
        munmap(w->map, w->map_len);
        io->close(w->fd);
        w->fd = -1;
    }
    free(w->dir);
    w->dir = NULL;
    pthread_mutex_destroy(&w->sync_lock);
}

/* --- recovery ------------------------------------------------------------- */

/* Remove the files of `shard` with extension `ext` (".spare" or ".free")
 * that a previous run left. */
static void remove_others(const char *dir, uint32_t shard, const char *ext)
{
    io_name *v;
    size_t n;
    char path[4200], list_ext[16] = ".wal";

    strncat(list_ext, ext, sizeof(list_ext) - strlen(list_ext) - 1);
    if (io_list_numbered(dir, list_ext, shard, &v, &n))
        return;
    for (size_t i = 0; i < n; i++) {
        other_path(path, sizeof(path), dir, shard, v[i].num, ext);
        io->unlink(path);
    }
    free(v);
}

/* What a later segment says of the ones before it. `records`: it holds a
 * valid header and first record, so (before version 3) the log went on
 * past them. `vouches`: they were on disk, by its PRIOR_DURABLE mark, or
 * for a segment of version 1 or 2, which has no marks, by its records. */
static void segment_says(const char *dir, uint32_t shard, uint64_t seg,
                         bool *records, bool *vouches)
{
    char path[4096];
    int fd;
    unsigned char *m;
    uint64_t size;

    *records = *vouches = false;
    wal_path(path, sizeof(path), dir, shard, seg);
    if (map_file(path, &fd, &m, &size) || fd < 0)
        return;
    if (header_ok(m, size, shard, seg)) {
        *records = record_ok(m + WAL_SEG_HEADER, size - WAL_SEG_HEADER,
                             rd64(m + 24), false);
        *vouches = rd32(m + 8) >= 3 ? (rd32(m + HDR_FLAGS) & PRIOR_DURABLE) != 0
                                    : *records;
    }
    unmap_close(fd, m, size);
}

/* Whether segment `seg` was created but never written: empty, or
 * never_written(). */
static bool segment_unwritten(const char *dir, uint32_t shard, uint64_t seg)
{
    char path[4096];
    int fd;
    unsigned char *m;
    uint64_t size;
    bool unwritten;

    wal_path(path, sizeof(path), dir, shard, seg);
    if (map_file(path, &fd, &m, &size))
        return false;
    if (fd < 0)
        return true;
    unwritten = never_written(m, size, shard, seg);
    unmap_close(fd, m, size);
    return unwritten;
}

/* The bytes of segment `seg` up to its last nonzero one, past the header. */
static uint64_t segment_used(const char *dir, uint32_t shard, uint64_t seg)
{
    char path[4096];
    int fd;
    unsigned char *m;
    uint64_t size, last;

    wal_path(path, sizeof(path), dir, shard, seg);
    if (map_file(path, &fd, &m, &size) || fd < 0)
        return 0;
    for (last = size; last > WAL_SEG_HEADER && m[last - 1] == 0; last--)
        ;
    unmap_close(fd, m, size);
    return last > WAL_SEG_HEADER ? last - WAL_SEG_HEADER : 0;
}

/* Segments segs[0..n), which the log no longer reaches: count their
 * bytes as torn, and (unless `check_only`) delete them and make that
 * durable: back after a crash, they would follow the records appended
 * before them. */
static int drop_segments(wal *w, const uint64_t *segs, size_t n,
                         bool check_only, wal_replay_stats *st)
{
    char path[4096];

    for (size_t i = 0; i < n; i++)
        st->torn_bytes += segment_used(w->dir, w->shard, segs[i]);
    if (check_only)
        return WARP_OK;
    for (size_t i = 0; i < n; i++) {
        wal_path(path, sizeof(path), w->dir, w->shard, segs[i]);
        if (io->unlink(path) < 0 && errno != ENOENT)
            return io_error(errno);
    }
    return n && io_sync_dir(w->dir) < 0 ? io_error(errno) : WARP_OK;
}

/* Whether a segment's header is one a power loss can leave behind: zeros
 * (it never reached the disk) or the intact header of an older segment
 * (a reused file whose new header did not). Not a damaged one. */
static bool header_unwritten(const unsigned char *m, uint64_t size,
                             uint32_t shard, uint64_t seg)
{
    return all_zero(m, size < WAL_SEG_HEADER ? size : WAL_SEG_HEADER) ||
           (header_valid(m, size, shard) && rd64(m + 16) < seg);
}

/* A replayed segment, kept open until the next one proves to follow it:
 * if that one does not, the log ends in this one. */
typedef struct held {
    int fd;
    unsigned char *m;
    uint64_t size, seg, first, end, dirty_end;
} held;

/* Close `h`; with `sync`, sync it first (replayed, it may be only in the
 * page cache, after a process crash), and clear *all_synced if that
 * fails. */
static void held_close(held *h, bool sync, bool *all_synced)
{
    if (h->fd < 0)
        return;
    if (sync && io->fdatasync(h->fd) < 0)
        *all_synced = false;
    unmap_close(h->fd, h->m, h->size);
    h->fd = -1;
}

/* Make `h` the current segment: appends go after its last record, its
 * torn tail cut. */
static int held_take(wal *w, held *h)
{
    int rc = WARP_OK;

    memset(h->m + h->end, 0, h->dirty_end - h->end);
    w->fd = h->fd;
    w->map = h->m;
    w->map_len = h->size;
    w->seg = h->seg;
    w->seg_seq = h->first;
    w->off = align8(h->end);
    atomic_store(&w->pub_off, w->off);
    if (io->fdatasync(h->fd) < 0)
        rc = io_error(errno);
    atomic_store(&w->synced_off, w->off);
    w->cur_flagged =
        rd32(h->m + 8) >= 3 && (rd32(h->m + HDR_FLAGS) & PRIOR_DURABLE) != 0;
    h->fd = -1;
    return rc;
}

/* Replay segments segs[0..n) in order and leave the last one open for
 * appending, or the one where the log turns out to end (DURABILITY ORDER,
 * at the top). Sets w->behind_durable. */
static int recover_segments(wal *w, const uint64_t *segs, size_t n,
                            bool salvage, bool check_only, wal_apply_fn apply,
                            void *ctx, wal_replay_stats *st)
{
    char path[4096];
    bool *flags = calloc(n ? 2 * n : 1, sizeof(bool));
    bool records = false, vouched = false, tore = false, all_synced = true;
    held prev = {.fd = -1};
    int rc = WARP_OK;

    if (!flags)
        return WARP_ENOMEM;
    /* has[i]: a later segment holds records; on[i]: one says that
     * segment i was on disk. Salvage keeps the older rule (has[]), which
     * reads on past more damage. */
    bool *has = flags, *on = flags + n;
    for (size_t i = n; i-- > 0;) {
        bool r, v;
        has[i] = records;
        on[i] = vouched;
        segment_says(w->dir, w->shard, segs[i], &r, &v);
        records = records || r;
        vouched = vouched || v;
    }
    const bool *later = salvage ? has : on;
    for (size_t i = 0; i < n && rc == WARP_OK; i++) {
        scan s = {.path = path,
                  .salvage = salvage,
                  .apply = apply,
                  .ctx = ctx,
                  .st = st,
                  .later_valid = later[i]};
        int fd;
        unsigned char *m;
        uint64_t size, first;
        bool last = i + 1 == n;
        /* segment i may be where a power loss cut the log short, after
         * `prev`: nothing later says that prev was on disk */
        bool may_end = i > 0 && prev.fd >= 0 && !later[i - 1];

        wal_path(path, sizeof(path), w->dir, w->shard, segs[i]);
        if ((rc = map_file(path, &fd, &m, &size)))
            break;
        if (fd < 0 || !header_ok(m, size, w->shard, segs[i])) {
            bool empty = fd < 0 || never_written(m, size, w->shard, segs[i]);
            bool unwritten =
                fd < 0 || header_unwritten(m, size, w->shard, segs[i]);
            if (fd >= 0) {
                unmap_close(fd, m, size);
            }
            if (last && empty) { /* created, never written: drop it */
                if (!check_only)
                    io->unlink(path);
                break;
            }
            if (may_end && unwritten)
                goto end_at_prev;
            snprintf(st->error, sizeof(st->error),
                     "%s: bad segment header at offset 0", path);
            rc = WARP_ECORRUPT;
            break;
        }
        first = rd64(m + 24);
        /* sequence numbers run on across segments, unless the previous
         * one lost its tail (power loss without fsync) */
        if (i > 0 && first != w->next_seq &&
            !((tore || salvage) && first > w->next_seq)) {
            unmap_close(fd, m, size);
            if (may_end && first > w->next_seq) /* prev lost its tail */
                goto end_at_prev;
            snprintf(st->error, sizeof(st->error),
                     "%s: starts at sequence %" PRIu64 ", expected %" PRIu64,
                     path, first, w->next_seq);
            rc = WARP_ECORRUPT;
            break;
        }
        st->segments++;
        s.m = m;
        s.size = size;
        s.seq = first;
        uint64_t torn = st->torn_bytes;
        rc = scan_segment(&s);
        tore = st->torn_bytes > torn;
        w->next_seq = s.seq;
        held_close(&prev, !check_only, &all_synced);
        prev = (held){fd, m, size, segs[i], first, s.end, s.dirty_end};
        if (rc)
            break;
        /* A torn tail that nothing later says was on disk ends the log
         * here: power lost before it reached the disk, and the later
         * segments hold only what reached it unsynced. This segment takes
         * the appends and the later ones go: appended after them, the
         * tear would sit in the middle of the log, and the next open
         * would refuse it. */
        if (last || (tore && !later[i])) {
            rc = drop_segments(w, segs + i + 1, n - i - 1, check_only, st);
            if (rc == WARP_OK && !check_only)
                rc = held_take(w, &prev);
            break;
        }
        continue;
    end_at_prev: /* the log ends after prev's last record */
        rc = drop_segments(w, segs + i, n - i, check_only, st);
        if (rc == WARP_OK && !check_only)
            rc = held_take(w, &prev);
        break;
    }
    held_close(&prev, !check_only && rc == WARP_OK, &all_synced);
    w->behind_durable = all_synced;
    free(flags);
    return rc;
}

int wal_recover(wal *w, const char *dir, uint32_t shard, uint64_t seg_size,
                int sync_mode, uint64_t from_seg, bool salvage,
                wal_apply_fn apply, void *ctx, wal_replay_stats *st)
{
    uint64_t *segs;
    size_t n, first;
    char path[4096];
    int rc;

    memset(w, 0, sizeof(*w));
    w->fd = -1;
    w->shard = shard;
    w->seg_size = seg_size;
    w->sync_mode = sync_mode;
    w->nold = 0;
    w->spare_fd = -1;
    w->next_seq = 1;
    w->seg = from_seg;
    w->first_seg = from_seg;
    if (!(w->dir = strdup(dir)))
        return WARP_ENOMEM;
    if (pthread_mutex_init(&w->sync_lock, NULL)) {
        free(w->dir);
        return WARP_ENOMEM;
    }
    remove_others(dir, shard, ".spare");
    remove_others(dir, shard, ".free");
    if ((rc = io_list_numbers(dir, ".wal", shard, &segs, &n)))
        return rc;
    for (first = 0; first < n && segs[first] < from_seg; first++) {
        /* older than the snapshot: a checkpoint died before deleting it */
        wal_path(path, sizeof(path), dir, shard, segs[first]);
        io->unlink(path);
    }
    for (size_t i = first; i + 1 < n; i++)
        if (segs[i + 1] != segs[i] + 1 && !salvage) {
            snprintf(st->error, sizeof(st->error),
                     "%s: segment %" PRIu64 " of shard %" PRIu32 " is missing",
                     dir, segs[i] + 1, shard);
            free(segs);
            return WARP_ECORRUPT;
        }
    if (first < n && segs[first] != from_seg && !salvage) {
        snprintf(st->error, sizeof(st->error),
                 "%s: segment %" PRIu64 " of shard %" PRIu32
                 " (named by the snapshot) is missing",
                 dir, from_seg, shard);
        free(segs);
        return WARP_ECORRUPT;
    }
    /* A last segment created but never written is dropped before the
     * replay, so the one before it stays current (its torn tail cut) and
     * the number is used again: skipping it would leave a gap that the
     * next open refuses as a missing segment. */
    if (n > first + 1 && segment_unwritten(dir, shard, segs[n - 1])) {
        wal_path(path, sizeof(path), dir, shard, segs[n - 1]);
        io->unlink(path);
        n--;
    }
    rc = recover_segments(w, segs + first, n - first, salvage, false, apply,
                          ctx, st);
    if (rc == WARP_OK && w->fd < 0 && n > first)
        w->seg = segs[n - 1]; /* the only one was dropped: use it again */
    free(segs);
    return rc;
}

int wal_check(const char *dir, uint32_t shard, wal_replay_stats *st)
{
    wal w = {.dir = (char *)dir, .shard = shard, .fd = -1, .next_seq = 1};
    uint64_t *segs;
    size_t n;
    int rc = io_list_numbers(dir, ".wal", shard, &segs, &n);

    if (rc)
        return rc;
    for (size_t i = 0; i + 1 < n; i++)
        if (segs[i + 1] != segs[i] + 1) {
            snprintf(st->error, sizeof(st->error),
                     "%s: segment %" PRIu64 " of shard %" PRIu32 " is missing",
                     dir, segs[i] + 1, shard);
            free(segs);
            return WARP_ECORRUPT;
        }
    rc = recover_segments(&w, segs, n, false, true, NULL, NULL, st);
    free(segs);
    return rc;
}
