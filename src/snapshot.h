/*
 * snapshot.h - a shard's checkpoint file: every key-value pair of the shard
 * at some moment after its WAL switched to segment `wal_seg`, so that
 * loading it and replaying the WAL from that segment rebuilds the shard.
 * Format and rationale at the top of snapshot.c and in docs/FORMATS.md.
 */
#ifndef WARP_SNAPSHOT_H
#define WARP_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

typedef struct snap_writer snap_writer;

/* Start `dir`/SSSSS-NNNNNNNNNN.snap (written as .tmp until finished).
 * Returns WARP_OK or an I/O error code. */
int snap_begin(snap_writer **out, const char *dir, uint32_t shard,
               uint64_t wal_seg);

/* Add one pair. Returns WARP_OK or an I/O error code. */
int snap_add(snap_writer *w, const void *key, uint32_t klen, const void *val,
             uint32_t vlen, uint8_t hints);

/* Write the trailer, fsync, rename into place and fsync the directory.
 * Frees `w` whatever happens. */
int snap_finish(snap_writer *w, uint64_t *records);

/* Remove the unfinished file and free `w`. */
void snap_abort(snap_writer *w);

/* Called for each pair of a snapshot being loaded. */
typedef int (*snap_apply_fn)(void *ctx, const void *key, uint32_t klen,
                             const void *val, uint32_t vlen, uint8_t hints);

/* Load (or, with apply NULL, only verify) a snapshot file. Every block's
 * checksum is checked before its records are applied. Returns WARP_OK,
 * WARP_ECORRUPT (err says what and where), WARP_EIO, WARP_ENOMEM, or an
 * apply error. *records receives the number of pairs. */
int snap_load(const char *path, uint32_t shard, uint64_t wal_seg,
              snap_apply_fn apply, void *ctx, uint64_t *records, char *err,
              size_t errcap);

/* The path of a snapshot, into buf. */
void snap_path(char *buf, size_t cap, const char *dir, uint32_t shard,
               uint64_t wal_seg);

/* The WAL segments named by the snapshots of `shard` in `dir`, newest
 * first, into *segs (malloc'd; free it). Returns WARP_OK or an error. */
int snap_list(const char *dir, uint32_t shard, uint64_t **segs, size_t *n);

#endif
