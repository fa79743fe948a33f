/*
 * migrate.c - slot migration: moving a slot to another shard while reads
 * and writes go on, so that a crash at any moment loses nothing.
 *
 * IN MEMORY
 *   Every slot has its own table (table.c), so a move changes no table:
 *   it moves the slot's figures from one shard's counters to the other's
 *   and flips the slot's entry in the slot table. Readers never look at
 *   the slot table (slot -> table directly), so they do not notice. A
 *   writer locks the shard the slot table names and re-checks it after
 *   locking (lock_slot() and batch_lock() in warp.c): a writer that waited
 *   on the old shard's lock during a move sees the new owner and goes
 *   there. The move itself holds both shards' locks, taken in id order
 *   like a batch's, so no write to the slot is in flight while it runs.
 *
 *   What moves: the shard counters keys, key_bytes and value_bytes; the
 *   bytes of the slot's tables; the bytes of its large items (those above
 *   SLAB_MAX, which the allocator holds for the slab that frees them). Item
 *   pages stay counted in the shard that allocated them (its slab keeps
 *   them until the store closes); a moved item freed later goes to the
 *   free list of the shard that frees it, which reuses the chunk. So
 *   per-shard memory_bytes is by allocating shard, and the store's total
 *   stays exact. The per-slot figures slot_keys and slot_bytes do not move.
 *
 * ON DISK: GENERATIONS AND SLOT IMAGES
 *   Every slot has a generation: 0 when the store is created, +1 per move
 *   (db->slot_gen). A slot at generation 0 is on its initial shard
 *   (route_initial_shard()). A move to shard D logs ONE record in D's WAL
 *   before it publishes anything: SLOT_IMAGE(slot, gen + 1, every pair of
 *   the slot with its hints) (layout in wal.c). It is one checksummed
 *   record, so a torn image is a torn tail and nothing else. Writes to the
 *   slot after the move go to D's log, after the image. A snapshot lists
 *   the generation of each slot its shard holds at a generation above 0
 *   (snapshot.c); one of its pairs belongs to its slot's generation there.
 *
 *   So every claim "shard X holds slot s at generation g" is in X's own
 *   files: an image in X's WAL, or X's snapshot; and each WAL record is
 *   at the generation its log had for its slot at that point (the
 *   snapshot's, then that of each image of the slot in the log). Only one
 *   shard ever holds a slot at a given generation.
 *
 * RECOVERY (the shards replay in parallel; persist.c)
 *   Per slot, under a lock of its own: applied = the highest generation
 *   any replay has claimed so far (initially 0, on the initial shard).
 *   - a claim (a snapshot's list, or an image) at g: g < applied, ignored;
 *     g > applied: the slot's table is cleared, applied = g, the slot goes
 *     to the claiming shard, then (an image) its pairs are loaded;
 *   - a put or delete, from a snapshot or a WAL, at its log's generation
 *     g for the slot: applied only if g == applied (g < applied: a newer
 *     claim superseded it, dropped).
 *   Each log's claims come before its records at that generation, so the
 *   records of the winning claim are applied after it, whatever the order
 *   in which the shards' replays interleave, and all others are dropped
 *   or cleared. In the end every slot is at its highest generation, on the
 *   shard that claimed it, with exactly that shard's image (or snapshot)
 *   and the writes its log has after it.
 *
 * WHY A CRASH AT ANY MOMENT IS SAFE
 *   - Before the image is whole on disk, the source's files hold the slot
 *     (the image's absence, or its torn tail, leaves the source's claim
 *     the highest). After, the image holds all of it: the source's records
 *     of the slot are at the lower generation.
 *   - fsync=always: the source's writes pending on its group commit are
 *     synced and applied before the image is taken (so an acknowledged
 *     write is in the image, and durable in the source's log as well), and
 *     the image is synced before the move is published: a group commit
 *     that fails later erases unsynced records (persist.c), which must
 *     never include an image. An acknowledged write after the move is in
 *     the destination's log after the image, so durable only if it is.
 *   - Other modes: the image reaches the disk with the log, like any write.
 *     A checkpoint that drops a log must not drop the only copy of a slot
 *     that moved out (the source's new snapshot leaves it out): a
 *     checkpoint after a move first syncs every log (persist.c).
 *   - Moves and checkpoints exclude each other (persist.c's
 *     checkpoint_lock), so a snapshot sees a fixed set of slots, and no
 *     image and snapshot claim the same generation.
 *
 * LOCKS, in the order taken: checkpoint_lock (with a data directory),
 * the two shard locks in id order, then a log's sync_lock (syncs). A move
 * holds the shard locks for the time it takes to copy the slot's pairs
 * into the log, plus two fsyncs with fsync=always.
 *
 * ROUTING must be the same at every open once slots have moved (the
 * colocation and entanglement_rules options): a slot's generation covers
 * the keys that route to it. An image holding a key that routes elsewhere
 * refuses the open with WARP_ECORRUPT, naming the cause.
 */
#include "migrate.h"

#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "item.h"
#include "persist.h"
#include "route.h"
#include "shard.h"
#include "slab.h"
#include "table.h"
#include "tier.h"
#include "wal.h"

/* --- a slot's contents ---------------------------------------------------- */

/* What a slot holds, counted from its items. */
typedef struct slot_tally {
    uint64_t keys, key_bytes, value_bytes;
    uint64_t large_bytes; /* items above SLAB_MAX, or all (direct mode) */
    uint64_t image_bytes; /* their pairs as an image lays them out */
    const slab *slab;     /* any shard's: whether items are large */
} slot_tally;

static void tally_item(void *arg, const item *it)
{
    slot_tally *t = arg;
    size_t size = item_size(it);

    t->keys++;
    t->key_bytes += item_klen(it);
    t->value_bytes += it->vlen;
    if (slab_is_large(t->slab, size))
        t->large_bytes += size;
    t->image_bytes += WAL_IMAGE_ITEM + (uint64_t)item_klen(it) + it->vlen;
}

static slot_tally tally_slot(warp_db *db, uint32_t slot)
{
    slot_tally t = {.slab = &db->shards[0].slab};

    table_foreach(&db->slots[slot], tally_item, &t);
    assert(t.keys ==
           atomic_load_explicit(&db->slot_keys[slot], memory_order_relaxed));
    assert(t.key_bytes + t.value_bytes ==
           atomic_load_explicit(&db->slot_bytes[slot], memory_order_relaxed));
    return t;
}

typedef struct image_fill {
    warp_db *db;
    uint32_t slot;
    unsigned char *at;
} image_fill;

static void fill_item(void *arg, const item *it)
{
    image_fill *f = arg;

    assert(item_tier(it) == ITEM_RAW); /* tier_raw_slot() made it so */
    f->at +=
        wal_image_put(f->at, item_key(it), item_klen(it), item_val(it),
                      it->vlen, hints_pack(item_access(it), item_priority(it)));
}

/* Write the slot's pairs at dst (wal_append_image's fill). */
static void fill_image(void *ctx, unsigned char *dst)
{
    image_fill *f = ctx;

    f->at = dst;
    table_foreach(&f->db->slots[f->slot], fill_item, f);
}

/* --- the move ------------------------------------------------------------- */

static bool fsync_always(const warp_db *db)
{
    return db->p && db->opts.fsync == WARP_FSYNC_ALWAYS;
}

static void lock_pair(warp_db *db, uint32_t a, uint32_t b)
{
    pthread_mutex_lock(&db->shards[a < b ? a : b].lock);
    pthread_mutex_lock(&db->shards[a < b ? b : a].lock);
}

static void unlock_pair(warp_db *db, uint32_t a, uint32_t b)
{
    pthread_mutex_unlock(&db->shards[a < b ? b : a].lock);
    pthread_mutex_unlock(&db->shards[a < b ? a : b].lock);
}

/* Lock the shard that owns `slot` now and shard `to`, re-checking the
 * owner once both are held. Returns the owner; if it is `to`, no lock is
 * held. */
static uint32_t lock_move(warp_db *db, uint32_t slot, uint32_t to)
{
    for (;;) {
        uint32_t from = db_slot_shard(db, slot);
        if (from == to)
            return from;
        lock_pair(db, from, to);
        if (db_slot_shard(db, slot) == from)
            return from;
        unlock_pair(db, from, to); /* it moved meanwhile */
    }
}

/* fsync=always: make the source's writes waiting for their group commit
 * durable, and apply them, so that the image holds them and none is left
 * to be applied to the slot by the source later. Both locks held.
 * Returns WARP_OK or the sync's error (then nothing changed). */
static int settle_source(warp_db *db, shard *src)
{
    int rc;

    if (!fsync_always(db) || !src->pend_head)
        return WARP_OK;
    if ((rc = persist_sync_log(db, src->id)))
        return rc;
    db_settle(db, src, WARP_OK);
    return WARP_OK;
}

/* Append the slot's image, at generation `gen`, to the destination's log;
 * with fsync=always, sync it. Both locks held. On error the image is not
 * in the log: with fsync=always a failed sync fails and erases the
 * destination's unsynced writes with it, as a failed group commit does. */
static int log_image(warp_db *db, shard *dst, uint32_t slot, uint64_t gen,
                     const slot_tally *t)
{
    image_fill f = {.db = db, .slot = slot};
    uint64_t switches = dst->wal.switches;
    int rc;

    if (t->keys > UINT32_MAX)
        return WARP_ETOOBIG;
    rc = wal_append_image(&dst->wal, slot, gen, (uint32_t)t->keys,
                          t->image_bytes, fill_image, &f);
    if (fsync_always(db) && dst->wal.switches != switches)
        db_settle(db, dst, WARP_OK); /* the switch synced what it left */
    if (rc || !fsync_always(db))
        return rc;
    if ((rc = persist_sync_log(db, dst->id))) {
        db_settle(db, dst, rc);
        wal_rewind(&dst->wal);
        return rc;
    }
    db_settle(db, dst, WARP_OK); /* the sync covered them too */
    return WARP_OK;
}

/* Move the slot's share of the shard counters and memory from src to dst.
 * Both locks held. */
static void move_figures(warp_db *db, shard *src, shard *dst, uint32_t slot,
                         const slot_tally *t)
{
    int64_t tables = (int64_t)table_root_bytes(&db->slots[slot]);

    src->tw.bytes_delta -= tables;
    dst->tw.bytes_delta += tables;
    src->slab.large_bytes -= t->large_bytes;
    dst->slab.large_bytes += t->large_bytes;
    shard_account(src, -(int64_t)t->keys, -(int64_t)t->key_bytes,
                  -(int64_t)t->value_bytes);
    shard_account(dst, (int64_t)t->keys, (int64_t)t->key_bytes,
                  (int64_t)t->value_bytes);
}

int migrate_slot(warp_db *db, uint32_t slot, uint32_t to, uint64_t *keys_moved,
                 uint64_t *bytes_moved)
{
    bool logged = false;
    slot_tally t = {0};
    shard *src, *dst;
    uint32_t from;
    uint64_t gen;
    int rc = WARP_OK;

    if (keys_moved)
        *keys_moved = 0;
    if (bytes_moved)
        *bytes_moved = 0;
    if (!db || slot >= WARP_SLOTS || to >= db->nshards)
        return WARP_EINVAL;
    if (db->p)
        persist_move_begin(db);
    from = lock_move(db, slot, to);
    if (from == to)
        goto out;
    src = &db->shards[from];
    dst = &db->shards[to];
    gen = atomic_load_explicit(&db->slot_gen[slot], memory_order_relaxed) + 1;
    if ((rc = settle_source(db, src)))
        goto unlock;
    if (db->p && (rc = tier_raw_slot(db, src, slot))) /* images hold raw */
        goto unlock;
    t = tally_slot(db, slot);
    if (db->p && (rc = log_image(db, dst, slot, gen, &t)))
        goto unlock;
    logged = db->p != NULL;
    move_figures(db, src, dst, slot, &t);
    atomic_store_explicit(&db->slot_gen[slot], gen, memory_order_relaxed);
    atomic_store_explicit(&db->slot_shard[slot], (uint16_t)to,
                          memory_order_release);
    if (keys_moved)
        *keys_moved = t.keys;
    if (bytes_moved)
        *bytes_moved = t.key_bytes + t.value_bytes;
unlock:
    unlock_pair(db, from, to);
out:
    if (db->p)
        persist_move_end(db, logged);
    return rc;
}

int warp_slot_move(warp_db *db, uint32_t slot, uint32_t to)
{
    return migrate_slot(db, slot, to, NULL, NULL);
}

/* --- recovery ------------------------------------------------------------- */

/* Slots share locks by their number modulo this: replays rarely meet on a
 * slot, and a replay holds one at a time. */
#define RECOVERY_LOCKS 256

struct mig_recovery {
    pthread_mutex_t lock[RECOVERY_LOCKS];
};

int migrate_recovery_begin(mig_recovery **out)
{
    mig_recovery *r = malloc(sizeof(*r));
    uint32_t i;

    *out = NULL;
    if (!r)
        return WARP_ENOMEM;
    for (i = 0; i < RECOVERY_LOCKS; i++)
        if (pthread_mutex_init(&r->lock[i], NULL))
            break;
    if (i < RECOVERY_LOCKS) {
        while (i--)
            pthread_mutex_destroy(&r->lock[i]);
        free(r);
        return WARP_ENOMEM;
    }
    *out = r;
    return WARP_OK;
}

void migrate_recovery_end(mig_recovery *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < RECOVERY_LOCKS; i++)
        pthread_mutex_destroy(&r->lock[i]);
    free(r);
}

void migrate_log_init(mig_log *l, warp_db *db, mig_recovery *rec, uint32_t id)
{
    l->db = db;
    l->rec = rec;
    l->shard = id;
    l->gen = NULL;
    l->error[0] = '\0';
}

void migrate_log_end(mig_log *l)
{
    free(l->gen);
    l->gen = NULL;
}

static pthread_mutex_t *slot_lock(mig_log *l, uint32_t slot)
{
    return &l->rec->lock[slot % RECOVERY_LOCKS];
}

/* The log's generation for `slot` at the point its replay has reached. */
static uint64_t log_gen(const mig_log *l, uint32_t slot)
{
    return l->gen ? l->gen[slot] : 0;
}

static int set_log_gen(mig_log *l, uint32_t slot, uint64_t gen)
{
    if (!l->gen && gen && !(l->gen = calloc(WARP_SLOTS, sizeof(*l->gen))))
        return WARP_ENOMEM;
    if (l->gen)
        l->gen[slot] = gen;
    return WARP_OK;
}

/* Whether the log's records of `slot` are current: at the slot's highest
 * generation claimed. Slot lock held. */
static bool log_current(const mig_log *l, uint32_t slot)
{
    return log_gen(l, slot) ==
           atomic_load_explicit(&l->db->slot_gen[slot], memory_order_relaxed);
}

typedef struct free_ctx {
    warp_db *db;
    shard *sh;
} free_ctx;

static void free_item(void *arg, const item *it)
{
    free_ctx *f = arg;

    tier_note(f->db, f->sh, NULL, it);
    slab_free(&f->sh->slab, (void *)it, item_size(it));
}

/* Empty `slot`: free its pairs and tables and uncount them from its
 * owner, whose slab allocated them all (recovery applies every pair of a
 * slot through its owner of the moment, which changes only here, once the
 * slot is empty). Recovery only: no reader can hold them. Slot lock
 * held. */
static void clear_slot(warp_db *db, uint32_t slot)
{
    shard *sh = &db->shards[db_slot_shard(db, slot)];
    table_root *root = &db->slots[slot];
    slot_tally t;

    free_ctx f = {.db = db, .sh = sh};

    pthread_mutex_lock(&sh->lock);
    t = tally_slot(db, slot);
    table_foreach(root, free_item, &f);
    sh->tw.bytes_delta -= (int64_t)table_root_bytes(root);
    table_destroy(&db->m, root);
    shard_account(sh, -(int64_t)t.keys, -(int64_t)t.key_bytes,
                  -(int64_t)t.value_bytes);
    atomic_store_explicit(&db->slot_keys[slot], 0, memory_order_relaxed);
    atomic_store_explicit(&db->slot_bytes[slot], 0, memory_order_relaxed);
    pthread_mutex_unlock(&sh->lock);
}

/* The log's shard claims `slot` at `gen`: if that is the highest claim so
 * far, the slot starts over, empty, on that shard. Slot lock held. */
static void claim(mig_log *l, uint32_t slot, uint64_t gen)
{
    warp_db *db = l->db;

    if (gen <= atomic_load_explicit(&db->slot_gen[slot], memory_order_relaxed))
        return;
    clear_slot(db, slot);
    atomic_store_explicit(&db->slot_gen[slot], gen, memory_order_relaxed);
    atomic_store_explicit(&db->slot_shard[slot], (uint16_t)l->shard,
                          memory_order_release);
}

int migrate_replay_claim(void *ctx, uint32_t slot, uint64_t gen)
{
    mig_log *l = ctx;
    int rc;

    if (slot >= WARP_SLOTS)
        return WARP_ECORRUPT;
    if ((rc = set_log_gen(l, slot, gen)))
        return rc;
    pthread_mutex_lock(slot_lock(l, slot));
    claim(l, slot, gen);
    pthread_mutex_unlock(slot_lock(l, slot));
    return WARP_OK;
}

static uint32_t key_slot(const warp_db *db, const void *key, uint32_t klen)
{
    return db_key_slot(db, key, klen, route_hash(key, klen));
}

/* Apply a put or delete of the log to `slot` if the log is current there. */
static int replay_write(mig_log *l, uint32_t slot, uint8_t op, const void *key,
                        uint32_t klen, const void *val, uint32_t vlen,
                        uint8_t hints)
{
    int rc = WARP_OK;

    pthread_mutex_lock(slot_lock(l, slot));
    if (log_current(l, slot))
        rc = op == WAL_OP_PUT ? db_apply_put(l->db, key, klen, val, vlen, hints)
                              : db_apply_del(l->db, key, klen);
    pthread_mutex_unlock(slot_lock(l, slot));
    return rc;
}

int migrate_replay_pair(void *ctx, const void *key, uint32_t klen,
                        const void *val, uint32_t vlen, uint8_t hints)
{
    mig_log *l = ctx;

    return replay_write(l, key_slot(l->db, key, klen), WAL_OP_PUT, key, klen,
                        val, vlen, hints);
}

typedef struct image_load {
    mig_log *l;
    uint32_t slot;
} image_load;

/* One pair of an image being loaded. Slot lock held. */
static int image_pair(void *ctx, const void *key, uint32_t klen,
                      const void *val, uint32_t vlen, uint8_t hints)
{
    image_load *im = ctx;
    uint32_t at = key_slot(im->l->db, key, klen);

    if (at != im->slot) {
        snprintf(im->l->error, sizeof(im->l->error),
                 "shard %" PRIu32 ": a slot image of slot %" PRIu32
                 " holds a key of slot %" PRIu32
                 ": the colocation or entanglement_rules option differs "
                 "from the one the store was written with",
                 im->l->shard, im->slot, at);
        return WARP_ECORRUPT;
    }
    return db_apply_put(im->l->db, key, klen, val, vlen, hints);
}

/* A SLOT_IMAGE of the log: a claim, then, if it won, the slot's pairs. */
static int replay_image(mig_log *l, const wal_record *r)
{
    image_load im = {.l = l};
    uint32_t count;
    uint64_t gen;
    int rc;

    wal_image_header(r, &im.slot, &count, &gen);
    if (im.slot >= WARP_SLOTS) /* wal.c checks it; this is an invariant */
        return WARP_ECORRUPT;
    if ((rc = set_log_gen(l, im.slot, gen)))
        return rc;
    pthread_mutex_lock(slot_lock(l, im.slot));
    claim(l, im.slot, gen);
    if (log_current(l, im.slot))
        rc = wal_image_foreach(r, image_pair, &im);
    pthread_mutex_unlock(slot_lock(l, im.slot));
    return rc;
}

int migrate_replay_record(void *ctx, const wal_record *r)
{
    mig_log *l = ctx;

    if (r->op == WAL_OP_IMAGE)
        return replay_image(l, r);
    return replay_write(l, key_slot(l->db, r->key, r->klen), r->op, r->key,
                        r->klen, r->val, r->vlen, r->hints);
}
