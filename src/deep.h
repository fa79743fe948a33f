/*
 * deep.h - the deep_cache tier's files: values on disk, in append-only
 * segment files under DIR/deep/, with the index in memory.
 *
 * A deep item (tier.h) keeps its key in memory and, instead of its value,
 * a locator: the segment and offset of a record that holds the key and
 * the value as photon_sphere would store it (compressed, or as is). A get
 * preads the record, checks it and decodes the value into the caller's
 * buffer.
 *
 * THE FILES ARE A CACHE, NOT A COPY THAT COUNTS
 *   Snapshots and the WAL hold every value in full (a checkpoint reads
 *   deep values back), so nothing in DIR/deep/ is needed for recovery: an
 *   open deletes what an earlier process left there, and recovery demotes
 *   again if the store is over its memory budget. Records are therefore
 *   never synced, and a crash at any moment loses nothing.
 *
 * LAYOUT (docs/FORMATS.md)
 *   DIR/deep/00000-NNNNNNNNNN.deep   segment N (numbers count up from 1)
 *   A segment starts with the 8 bytes "WDEEP001", then records:
 *     offset  size  field
 *     0       4     CRC-32C of bytes 4 .. the record's end
 *     4       4     key length
 *     8       4     value length (raw)
 *     12      4     stored length n
 *     16      1     codec (compress.h)
 *     17      3     0
 *     20      klen  key
 *     20+klen n     stored value
 *   A locator (ITEM_LOCATOR = 16 bytes, little-endian): segment number
 *   (4), record offset (4), stored length (4), codec (1), 0 (3).
 *
 * RECLAMATION
 *   Each segment counts its live bytes: a record is live while an item
 *   points at it. Once a full segment (not the one being appended to) has
 *   no live record, deep_reclaim() closes and deletes it, after every
 *   reader that could still be reading it has left (epoch.h). Dead records
 *   in segments that still hold live ones are not moved: their space
 *   comes back when the last live record of the segment goes, or at the
 *   next open (docs/TIERS.md).
 *
 * THREADS
 *   deep_put() and deep_reclaim() take the tier's file lock; deep_get()
 *   takes no lock (inside an epoch section); deep_release() is one atomic
 *   subtraction.
 */
#ifndef WARP_DEEP_H
#define WARP_DEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compress.h"
#include "item.h"

#define DEEP_REC_HEADER 20
#define DEEP_MAX_SEGS   4096 /* segments open at once */

typedef struct deep deep;

typedef struct deep_stats {
    uint64_t files;                            /* segment files now */
    uint64_t file_bytes;                       /* their bytes */
    uint64_t live_bytes;                       /* bytes of live records */
    uint64_t reclaimed_files, reclaimed_bytes; /* deleted since open */
    uint64_t reads, read_errors;
    uint64_t writes, write_errors;
} deep_stats;

/* Open the deep tier of data directory `dir`: create DIR/deep/ and delete
 * any segment an earlier process left. Segments hold up to `seg_bytes`
 * each. Returns WARP_OK, WARP_ENOMEM or WARP_EIO. */
int deep_open(deep **out, const char *dir, uint64_t seg_bytes);

/* Close every segment and delete the files. No other call may run. */
void deep_close(deep *d);

/* Append the record of `key` with its stored value, and write its locator
 * to `loc`. Returns WARP_OK, WARP_ENOSPC (no room on the device, or
 * DEEP_MAX_SEGS segments in use) or WARP_EIO; nothing is live then. */
int deep_put(deep *d, const void *key, uint32_t klen, uint32_t vlen,
             const void *stored, uint32_t slen, uint8_t codec,
             unsigned char loc[ITEM_LOCATOR]);

/* Read the value at `loc` (whose key is `key` and raw length `vlen`) into
 * `dst`, decoding it with `dict`. Inside an epoch section. Returns
 * WARP_OK, WARP_EIO (the read failed), WARP_ECORRUPT (the record fails
 * its checksum, or holds another key) or WARP_ENOMEM. */
int deep_get(deep *d, const cz_dict *dict, const unsigned char *loc,
             const void *key, uint32_t klen, uint32_t vlen, void *dst);

/* Read the stored bytes at `loc` into `dst` (room for the locator's
 * stored length); *codec receives their codec. Errors as deep_get(). */
int deep_get_stored(deep *d, const unsigned char *loc, const void *key,
                    uint32_t klen, void *dst, uint8_t *codec);

/* The stored length a locator names. */
uint32_t deep_loc_len(const unsigned char *loc);

/* The record at `loc` (of a key of `klen` bytes) is no longer pointed at. */
void deep_release(deep *d, const unsigned char *loc, uint32_t klen);

/* Delete the segments that have no live record and that no reader can
 * still be reading. */
void deep_reclaim(deep *d);

void deep_stats_get(deep *d, deep_stats *st);

#endif
