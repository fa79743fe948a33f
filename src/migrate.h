/*
 * migrate.h - moving a slot from one shard to another, online and crash
 * safe, and the per-slot rule recovery applies to what moves leave on
 * disk. The design (slot generations, SLOT_IMAGE records, locking) is at
 * the top of migrate.c.
 */
#ifndef WARP_MIGRATE_H
#define WARP_MIGRATE_H

#include <stdint.h>

#include "wal.h"
#include "warp.h"

/* Move `slot` to shard `to`, online: readers and writers of the slot go
 * on. With a data directory the move is logged (one SLOT_IMAGE record in
 * `to`'s WAL) before it is published. *keys_moved and *bytes_moved (key +
 * value bytes; either pointer may be NULL) receive what moved, 0 for a
 * slot that is already on `to` (a no-op returning WARP_OK). Any thread;
 * waits for a running checkpoint. Returns WARP_OK, WARP_EINVAL (bad slot
 * or shard), WARP_ETOOBIG (the slot's image would exceed a WAL record's
 * 4 GiB), WARP_ENOSPC, WARP_EIO or WARP_ENOMEM; on error nothing moved. */
int migrate_slot(warp_db *db, uint32_t slot, uint32_t to, uint64_t *keys_moved,
                 uint64_t *bytes_moved);

/* --- recovery ------------------------------------------------------------ */

/* What the shards' parallel replays share: a lock per group of slots, so
 * that a slot's generation check and the write it admits are one step. */
typedef struct mig_recovery mig_recovery;

/* One shard's replay (its snapshot, then its WAL): the generation its log
 * has for each slot at the point reached. */
typedef struct mig_log {
    warp_db *db;
    mig_recovery *rec;
    uint32_t shard;
    uint64_t *gen;   /* per slot; NULL while every one is 0 */
    char error[512]; /* why a replay call failed, if it says more */
} mig_log;

/* Start recovery, with every slot of the store at generation 0 on its
 * initial shard (as warp_open() sets them up). Returns WARP_OK or
 * WARP_ENOMEM. */
int migrate_recovery_begin(mig_recovery **out);

/* Once every replay is done. NULL is accepted. */
void migrate_recovery_end(mig_recovery *rec);

/* Start shard `id`'s replay (before its snapshot), and free what it used
 * (after its WAL). Neither fails: the per-slot generations are allocated
 * when the first one above 0 appears. */
void migrate_log_init(mig_log *l, warp_db *db, mig_recovery *rec, uint32_t id);
void migrate_log_end(mig_log *l);

/* The callbacks of snapshot loading and WAL replay; `l` is a mig_log.
 *
 * A snapshot's claim: its shard held `slot` at generation `gen`. A pair of
 * a snapshot, or a WAL record (put, delete or SLOT_IMAGE), applied if the
 * log's generation for its slot is the slot's highest seen. Return WARP_OK,
 * WARP_ENOMEM, or WARP_ECORRUPT (a slot out of range, or an image holding
 * a key that routes to another slot: l->error says which). */
int migrate_replay_claim(void *l, uint32_t slot, uint64_t gen);
int migrate_replay_pair(void *l, const void *key, uint32_t klen,
                        const void *val, uint32_t vlen, uint8_t hints);
int migrate_replay_record(void *l, const wal_record *r);

#endif
