/*
 * persist.h - the data directory: lock, manifest, recovery, group commit,
 * the background sync and checkpoint thread.
 *
 * warp.c calls in at open and close, and on the write path when a write
 * must wait for durability (fsync=always). Layout of the directory and of
 * every file: docs/FORMATS.md.
 */
#ifndef WARP_PERSIST_H
#define WARP_PERSIST_H

#include <stdbool.h>
#include <stdint.h>

#include "warp.h"

typedef struct persist persist;

/* Take the directory (creating it and its layout if needed), read or
 * write its manifest, and fix the shard count: *shards is the count to
 * use. Returns WARP_OK or an error; on error nothing is held. */
int persist_begin(warp_db *db, const char *path, uint32_t *shards);

/* With the store's shards in place: load snapshots, replay the WAL (every
 * shard's log is ready to append afterwards), and start the background
 * thread. On error the caller calls persist_end(). */
int persist_recover(warp_db *db);

/* Stop the thread, sync, close every log, release the directory. */
void persist_end(warp_db *db);

/* A ticket for the next group commit: all records appended so far are in
 * it. Call under the shard lock, right after appending. */
uint64_t persist_commit_ticket(warp_db *db);

/* Wait until ticket `t`'s group is settled: every write queued with it
 * is applied or failed (see db_settle()). Hold no lock. */
void persist_commit_wait(warp_db *db, uint64_t t);

/* Slot moves (migrate.c). A move runs between these two calls, which
 * hold off checkpoints and other moves. `logged`: the move appended a
 * SLOT_IMAGE, which (unless fsync=always synced it) the next checkpoint
 * syncs before it may drop any log. */
void persist_move_begin(warp_db *db);
void persist_move_end(warp_db *db, bool logged);

/* Sync shard `id`'s log now. Its lock held. Returns WARP_OK or the
 * error. */
int persist_sync_log(warp_db *db, uint32_t id);

/* A checkpoint of every shard now. */
int persist_checkpoint(warp_db *db);

/* Sync every log now. */
int persist_sync(warp_db *db);

void persist_recovery(const warp_db *db, warp_recovery *r);
void persist_durability(const warp_db *db, warp_durability *d);

/* Remember an error message for warp_open_error(). */
void persist_set_open_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
