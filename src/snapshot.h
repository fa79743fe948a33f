/*
 * snapshot.h - a shard's checkpoint file: every key-value pair of the shard
 * at some moment after its WAL switched to segment `wal_seg`, so that
 * loading it and replaying the WAL from that segment rebuilds the shard.
 * Format and rationale at the top of snapshot.c and in docs/FORMATS.md.
 */
#ifndef WARP_SNAPSHOT_H
#define WARP_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct snap_writer snap_writer;

/* A slot the shard holds at a generation above 0 (slots that never moved,
 * at generation 0, are not listed). */
typedef struct snap_gen {
    uint32_t slot;
    uint64_t gen;
} snap_gen;

/* Start `dir`/SSSSS-NNNNNNNNNN.snap (written as .tmp until finished),
 * with the shard's slot generations gens[0..n). Returns WARP_OK,
 * WARP_ENOMEM or an I/O error code. */
int snap_begin(snap_writer **out, const char *dir, uint32_t shard,
               uint64_t wal_seg, const snap_gen *gens, uint32_t n);

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

/* Called for each slot generation of a snapshot being loaded, before any
 * pair. */
typedef int (*snap_gen_fn)(void *ctx, uint32_t slot, uint64_t gen);

/* What a load found. */
typedef struct snap_load_stats {
    uint64_t records;        /* pairs loaded (or verified) */
    uint64_t skipped_blocks; /* damaged regions salvage skipped */
    uint64_t skipped_bytes;
    char error[4608]; /* what refused the load, naming file and offset */
} snap_load_stats;

/* Load (or, with apply and gen NULL, only verify) a snapshot file: its
 * slot generations go to gen (none for a version 1 file: every slot is at
 * generation 0), then its pairs to apply. Every block's checksum is
 * checked before its records are applied. With `salvage`, damaged blocks
 * are skipped and counted instead of refusing the file. Returns WARP_OK,
 * WARP_ECORRUPT (st->error says what and where), WARP_EIO, WARP_ENOMEM,
 * or a callback's error. */
int snap_load(const char *path, uint32_t shard, uint64_t wal_seg, bool salvage,
              snap_apply_fn apply, snap_gen_fn gen, void *ctx,
              snap_load_stats *st);

/* The path of a snapshot, into buf. */
void snap_path(char *buf, size_t cap, const char *dir, uint32_t shard,
               uint64_t wal_seg);

#endif
