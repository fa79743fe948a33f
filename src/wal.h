/*
 * wal.h - a shard's write-ahead log: segment files written through a shared
 * mapping, synced by policy, replayed on open.
 *
 * Each shard logs to its own sequence of segment files, so writers of
 * different shards never share a log. Appends happen under the shard lock;
 * syncs may come from any thread (the everysec thread, a group-commit
 * leader) and take the log's sync_lock, which also guards segment
 * switches. The byte layout and the recovery algorithm are at the top of
 * wal.c and in docs/FORMATS.md.
 */
#ifndef WARP_WAL_H
#define WARP_WAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What leaving a segment does with it. */
#define WAL_SYNC_NONE  0 /* fsync=never: close it */
#define WAL_SYNC_LATER 1 /* everysec: the next sync covers it, then closes */
#define WAL_SYNC_NOW   2 /* always: fsync it before switching */

#define WAL_OLD_MAX  8  /* segments left behind before a switch must sync */
#define WAL_FREE_MAX 16 /* segments let go and kept to be reused, at most */

#define WAL_OP_PUT   1
#define WAL_OP_DEL   2
#define WAL_OP_IMAGE 3 /* SLOT_IMAGE: every pair of a slot that moved here */

#define WAL_IMAGE_HEADER 16 /* a SLOT_IMAGE's "key": slot, count, gen */
#define WAL_IMAGE_ITEM   9  /* bytes before each pair's key in an image */

#define WAL_SEG_HEADER 64 /* bytes before the first record */
#define WAL_REC_HEADER 28 /* bytes before a record's key */

/* One decoded record; key and value point into the log. For a
 * SLOT_IMAGE, `key` is the image header and `val` its pairs (read them
 * with wal_image_header() and wal_image_foreach()). */
typedef struct wal_record {
    uint64_t seq;
    uint8_t op;
    uint8_t hints; /* access pattern | priority << 2 */
    uint32_t klen, vlen;
    const void *key, *val;
} wal_record;

typedef struct wal {
    char *dir; /* the store's wal/ directory */
    uint32_t shard;
    uint64_t seg_size;
    int sync_mode; /* WAL_SYNC_*: what happens to a segment left behind */

    pthread_mutex_t sync_lock; /* syncs and segment switches */
    int fd;                    /* current segment, or -1 */
    unsigned char *map;        /* its mapping */
    uint64_t map_len;
    struct wal_old { /* WAL_SYNC_LATER: segments left behind, */
        int fd;      /* awaiting the next sync               */
        unsigned char *map;
        uint64_t len;
    } old[WAL_OLD_MAX];
    int nold;
    bool dir_dirty;  /* a segment was created since the last sync */
    bool left_dirty; /* WAL_SYNC_NONE: a segment closed since the last sync
                      * may hold records not yet on disk */
    int sync_err;    /* a failed sync not made good yet (wal_sync_many()) */
    /* every segment before the current one is on disk, but for those in
     * old[] or left_dirty (false when recovery could not sync one); and
     * whether the current one's header says so (PRIOR_DURABLE in wal.c);
     * under sync_lock */
    bool behind_durable, cur_flagged;
    int spare_fd; /* the next segment, readied by wal_prepare(), or -1 */
    unsigned char *spare_map;
    uint64_t spare_len, spare_seg;
    uint64_t switches;  /* segments left behind since open */
    uint64_t seg;       /* current segment number */
    uint64_t seg_seq;   /* sequence number of its first record */
    uint64_t first_seg; /* oldest segment on disk */
    /* segments let go by checkpoints and kept, as NAME.wal.free, to be
     * readied again (wal_prepare()); under sync_lock */
    uint64_t free_seg[WAL_FREE_MAX];
    int nfree;
    int free_max; /* how many to keep (the owner sets it; 0: none) */

    /* appender state, under the shard lock */
    uint64_t off;             /* next record's offset in the segment */
    uint64_t next_seq;        /* next record's sequence number */
    _Atomic uint64_t pub_off; /* `off` as published to syncers */

    /* durability: written under sync_lock, read by anyone */
    _Atomic uint64_t synced_off; /* durable prefix of the current segment */

    _Atomic uint64_t appended; /* bytes appended since open (a counter) */
} wal;

/* What replay saw, for the recovery report. */
typedef struct wal_replay_stats {
    uint64_t records; /* applied */
    uint64_t segments;
    uint64_t torn_bytes;    /* dropped from the tail */
    uint64_t skipped_bytes; /* skipped by salvage */
    uint64_t skipped_gaps;  /* damaged regions salvage skipped */
    char error[4608];       /* what refused the open, naming file and offset */
} wal_replay_stats;

/* Called for each valid record, in order. Returns WARP_OK or an error,
 * which stops the replay. */
typedef int (*wal_apply_fn)(void *ctx, const wal_record *r);

/* Replay shard `shard`'s segments from `from_seg` on, then leave `w` ready
 * to append after the last valid record (truncating a torn tail).
 * `salvage` skips damaged records instead of refusing. Returns WARP_OK,
 * WARP_ECORRUPT (st->error says where), WARP_EIO or WARP_ENOMEM. */
int wal_recover(wal *w, const char *dir, uint32_t shard, uint64_t seg_size,
                int sync_mode, uint64_t from_seg, bool salvage,
                wal_apply_fn apply, void *ctx, wal_replay_stats *st);

/* Close the current segment (without syncing) and free `w`'s memory. */
void wal_close(wal *w);

/* Append one record. Under the shard lock. Starts a new segment when the
 * record does not fit. Returns WARP_OK, or WARP_ENOSPC / WARP_EIO /
 * WARP_ENOMEM with nothing appended. *ahead receives the chunk of the log
 * to fault in next (wal_fault_ahead()), or NULL. */
int wal_append(wal *w, uint8_t op, uint8_t hints, const void *key,
               uint32_t klen, const void *val, uint32_t vlen, void **ahead);

/* Fault in the chunk wal_append() named, with the shard lock released:
 * the call takes a few microseconds, may sleep, and is where a thread is
 * most often preempted, so under the lock it would hold the shard's other
 * writers up. Harmless if the log has left that segment meanwhile:
 * faulting pages in changes no byte, whatever is mapped there. */
void wal_fault_ahead(void *ahead);

/* Append a SLOT_IMAGE record: slot `slot` at generation `gen`, `count`
 * pairs taking `bytes` bytes of payload, which fill(ctx, dst) writes
 * straight into the log (each pair as wal_image_put() lays it out).
 * Under the shard lock. Returns WARP_OK, WARP_ETOOBIG (the record would
 * exceed 4 GiB), or WARP_ENOSPC / WARP_EIO with nothing appended. */
int wal_append_image(wal *w, uint32_t slot, uint64_t gen, uint32_t count,
                     uint64_t bytes,
                     void (*fill)(void *ctx, unsigned char *dst), void *ctx);

/* Lay out one pair of an image at `dst`; returns the bytes written,
 * WAL_IMAGE_ITEM + klen + vlen. */
size_t wal_image_put(unsigned char *dst, const void *key, uint32_t klen,
                     const void *val, uint32_t vlen, uint8_t hints);

/* The slot, pair count and generation of a SLOT_IMAGE record. */
void wal_image_header(const wal_record *r, uint32_t *slot, uint32_t *count,
                      uint64_t *gen);

/* Called for each pair of an image. Returns WARP_OK or an error, which
 * stops the walk. */
typedef int (*wal_pair_fn)(void *ctx, const void *key, uint32_t klen,
                           const void *val, uint32_t vlen, uint8_t hints);

/* Call fn for each pair of SLOT_IMAGE record `r` (fn NULL: only check the
 * framing). Returns WARP_OK, WARP_ECORRUPT if the pairs do not fill the
 * payload exactly, or fn's error. */
int wal_image_foreach(const wal_record *r, wal_pair_fn fn, void *ctx);

/* Make the next segment's file ready before the current one fills up, so
 * that the writer who fills it does not wait for the file system: create
 * it under a temporary name, reserve its space, and map it with its pages
 * faulted in. For the segment preparer (persist.c), never two calls at
 * once on one log; takes sync_lock briefly. */
void wal_prepare(wal *w);

/* Make sure the next `bytes` bytes of records (padding included: use
 * wal_record_bytes()) fit in the current segment, starting a new one if
 * not, so that the appends that follow cannot fail. Under the shard lock.
 * Returns WARP_OK or the error, with nothing appended. */
int wal_reserve(wal *w, uint64_t bytes);

/* The bytes a record takes in the log, padding included. */
static inline uint64_t wal_record_bytes(uint64_t klen, uint64_t vlen)
{
    return (WAL_REC_HEADER + klen + vlen + 7) & ~(uint64_t)7;
}

/* Whether records were appended that are not durable yet. Any thread. */
bool wal_dirty(wal *w);

/* Whether a sync has anything to do: records not yet durable, a segment
 * left behind, or a new segment's directory entry. */
bool wal_pending(wal *w);

/* Make every record appended to the logs `ws` so far durable. With
 * fsync=everysec (logs in WAL_SYNC_LATER mode), each log's new bytes are
 * msync()ed. Otherwise one syncfs() of their file system when more than
 * one is dirty, one fdatasync when one is. Also syncs a segment left behind
 * (everysec) and the directory entries of new segments. Measured here (ext4,
 * virtio disk): one fdatasync ~150 us; 16 files fdatasynced in parallel 1.3-4.7
 * ms; one syncfs over 16 dirty files 0.3-0.4 ms. */
int wal_sync_many(wal **ws, size_t n);

/* After a failed sync: forget every record appended since the last
 * successful one, erasing them from the mapping. Shard lock held. */
void wal_rewind(wal *w);

/* Start a new segment and return its number: every record appended from
 * now on is in it or later. Shard lock held. */
int wal_switch(wal *w, uint64_t *seg);

/* Delete segments older than `seg`. */
void wal_drop_before(wal *w, uint64_t seg);

/* Check shard `shard`'s segments under `dir` the way recovery reads them,
 * changing nothing: for `warp check`. Counts into *st; returns WARP_OK
 * (a torn tail is counted, not damage), WARP_ECORRUPT (st->error says
 * where) or WARP_EIO. */
int wal_check(const char *dir, uint32_t shard, wal_replay_stats *st);

/* The path of segment `seg` of `shard` under `dir`, into buf. */
void wal_path(char *buf, size_t cap, const char *dir, uint32_t shard,
              uint64_t seg);

#endif
