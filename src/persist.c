/*
 * persist.c - the data directory: lock, manifest, recovery, group commit,
 * checkpoints, and the background thread.
 *
 * LAYOUT (docs/FORMATS.md has every byte)
 *   DIR/LOCK              flock()ed while a process has the store open
 *   DIR/universe.manifest JSON: format version, creation time, the
 *                         configuration the store was created with,
 *                         upstream's cosmic_constants
 *   DIR/wal/              SSSSS-NNNNNNNNNN.wal: shard S's WAL segment N
 *   DIR/snapshots/        SSSSS-NNNNNNNNNN.snap: shard S's snapshot, to be
 *                         followed by its WAL from segment N on
 *   DIR/warp.log          what recovery and checkpoints did, one line each
 *
 * GROUP COMMIT (fsync=always)
 *   A writer appends its record under its shard lock, takes a commit ticket
 *   there (tickets count up), queues the write on the shard's pending list,
 *   and waits, without locks, until `done` reaches its ticket. The first
 *   waiter to find no sync running becomes the leader: it waits up to
 *   200 us for as many writers as recent groups had, notes the newest
 *   ticket, syncs every dirty log (one fdatasync, or one syncfs for
 *   several: each fdatasync costs a device flush), applies every pending
 *   write whose record is now durable (in log order, shard by shard), sets
 *   `done` and wakes its group's waiters, and one waiter of the next group
 *   to lead that one (futexes, one word per group parity: a writer sleeps
 *   once and is woken once, and takes no lock to check).
 *   Writers that arrive during a sync form the next group. A write is
 *   visible only once it is durable.
 *   If a sync fails, the leader locks every shard (so no ticket can be
 *   taken meanwhile), fails every pending write whose record is not
 *   durable, erases those records from the logs, and closes every ticket:
 *   none of those writes is applied, and the logs stay consistent. A write
 *   whose record a sync covered is applied even if a later sync fails.

 * CHECKPOINT (per shard, while reads and writes go on)
 *   Checkpoints and slot moves (migrate.c) take checkpoint_lock, so they
 *   never overlap: a snapshot sees a fixed set of slots and generations.
 *   If a move logged an image since the last sync of every log, the
 *   checkpoint syncs every log first: the shard a slot left writes a
 *   snapshot without it and drops the WAL that held it, so its image in
 *   the other shard's log must be durable before that.
 *   1. Under the shard lock, switch its WAL to a new segment N. Every
 *      record before N is applied to memory by then (with fsync=always,
 *      the switch synced them, and the shard's pending writes apply).
 *   2. Without the lock, write the generations of the shard's moved slots,
 *      then every pair of its slots, to the snapshot for N, a slot at a
 *      time inside an epoch section. Writes
 *      that land meanwhile may or may not be in it: they are in the WAL
 *      from N on, and replaying them over the snapshot gives their final
 *      value (a put replays as itself, a delete as itself).
 *   3. fsync and rename the snapshot, then delete the WAL segments before
 *      N and the older snapshots.
 *   A crash at any point leaves either the old snapshot with all the WAL
 *   after it, or the new snapshot with the WAL after it.
 *
 * RECOVERY
 *   Shards recover in parallel: each loads its newest snapshot and replays
 *   its WAL from the snapshot's segment. A slot that moved has pairs in
 *   several shards' files; every pair goes through the per-slot generation
 *   rule of migrate.c (the highest claim wins, older pairs are dropped),
 *   which also rebuilds the slot table.
 */
#include "persist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <limits.h>
#include <sched.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "db.h"
#include "epoch.h"
#include "io.h"
#include "migrate.h"
#include "rules.h"
#include "snapshot.h"
#include "tier.h"
#include "wal.h"

#define MANIFEST_VERSION 1
#define COMMIT_GATHER_US 200 /* longest a leader waits for its group */
#define FAIL_HISTORY     64
#define PREP_BUSY_MS     10  /* the preparer's period while logs grow */
#define PREP_IDLE_MS     100 /* and while they do not */

struct persist {
    char *dir, *waldir, *snapdir;
    int lock_fd;
    FILE *log;
    warp_recovery recovery;

    /* group commit: tickets count up; a group closes every ticket up to
     * the one its leader saw last; waiters sleep on `gen` (a futex word)
     * while a leader syncs */
    _Atomic uint64_t issued, done;
    _Atomic uint64_t target; /* the last ticket the running group covers,
                              * or UINT64_MAX while it is not fixed */
    _Atomic uint64_t round;  /* groups ended */
    _Atomic int syncing;
    _Atomic uint32_t word[2]; /* futex words: group r's waiters sleep on
                               * word[r & 1], the next group's on the other */
    uint64_t group_goal;      /* writers a leader waits for; the leader's */

    /* background thread, and the segment preparer (prep_main()) */
    pthread_t thread, prep_thread;
    bool thread_started, prep_started, stop; /* stop: under bg_lock */
    pthread_mutex_t bg_lock;
    pthread_cond_t bg_cond, prep_cond;
    pthread_mutex_t checkpoint_lock;    /* one checkpoint or slot move at a
                                         * time */
    _Atomic uint64_t wal_at_checkpoint; /* wal bytes when the last one
                                         * began; read by the bg thread */
    uint64_t last_sync_us;              /* the bg thread's last everysec sync */
    bool image_unsynced; /* a slot move logged an image that no sync has
                          * covered yet; under checkpoint_lock */

    _Atomic uint64_t syncs, synced_writes, checkpoints, last_checkpoint_ms,
        sync_errors;
};

static _Thread_local char open_error[4608];

void persist_set_open_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(open_error, sizeof(open_error), fmt, ap);
    va_end(ap);
}

const char *warp_open_error(void)
{
    return open_error;
}

/* One line in DIR/warp.log. */
static void plog(persist *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void plog(persist *p, const char *fmt, ...)
{
    va_list ap;
    char when[32];
    time_t t = time(NULL);
    struct tm tm;

    if (!p->log)
        return;
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    fprintf(p->log, "%s ", when);
    va_start(ap, fmt);
    vfprintf(p->log, fmt, ap);
    va_end(ap);
    fputc('\n', p->log);
    fflush(p->log);
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);

    if (s)
        snprintf(s, n, "%s/%s", a, b);
    return s;
}

/* --- manifest ------------------------------------------------------------- */

static const char *fsync_name(warp_fsync f)
{
    return f == WARP_FSYNC_ALWAYS  ? "always"
           : f == WARP_FSYNC_NEVER ? "never"
                                   : "everysec";
}

static const char *const colocation_names[] = {"none", "tags", "rules",
                                               "tags,rules"};

/* `s` as the inside of a JSON string: quotes, backslashes and control
 * characters escaped. */
static void json_escape(char *out, size_t cap, const char *s)
{
    size_t n = 0;

    for (; *s && n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            n += (size_t)snprintf(out + n, cap - n, "\\%c", c);
        else if (c < 0x20)
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        else
            out[n++] = (char)c;
    }
    out[n] = '\0';
}

/* The JSON string after "key": in `text`, unescaped into out; 0 or -1. */
static int json_str(const char *text, const char *key, char *out, size_t cap)
{
    char pat[64];
    const char *at;
    size_t n = 0;

    snprintf(pat, sizeof(pat), "\"%s\": \"", key);
    if (!(at = strstr(text, pat)))
        return -1;
    for (at += strlen(pat); *at && *at != '"'; at++) {
        char c = *at;
        if (c == '\\') {
            at++;
            if (*at == 'u') {
                unsigned v;
                if (sscanf(at + 1, "%4x", &v) != 1)
                    return -1;
                c = (char)v;
                at += 4;
            } else {
                c = *at;
            }
            if (!c)
                return -1;
        }
        if (n + 1 >= cap)
            return -1;
        out[n++] = c;
    }
    if (*at != '"')
        return -1;
    out[n] = '\0';
    return 0;
}

static int manifest_write(persist *p, const warp_options *o)
{
    char path[4096], tmp[4100], when[32], body[8192];
    char rules_json[2 * WARP_RULES_MAX + 8];
    time_t t = time(NULL);
    struct tm tm;
    int fd, n, rc = WARP_OK;

    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    json_escape(rules_json, sizeof(rules_json), o->entanglement_rules);
    n = snprintf(body, sizeof(body),
                 "{\n"
                 "  \"format\": \"warpengine\",\n"
                 "  \"format_version\": %d,\n"
                 "  \"universe_version\": \"1.0.0\",\n"
                 "  \"physics_engine\": \"WarpEngine C %d.%d.%d\",\n"
                 "  \"created_at\": \"%s\",\n"
                 "  \"created_at_ms\": %" PRIu64 ",\n"
                 "  \"config\": {\n"
                 "    \"shards\": %" PRIu32 ",\n"
                 "    \"slots\": %d,\n"
                 "    \"fsync\": \"%s\",\n"
                 "    \"wal_segment_size\": %" PRIu64 ",\n"
                 "    \"max_key_size\": %" PRIu32 ",\n"
                 "    \"max_value_size\": %" PRIu64 ",\n"
                 "    \"colocation\": \"%s\",\n"
                 "    \"entanglement_rules\": \"%s\"\n"
                 "  },\n"
                 "  \"cosmic_constants\": {\n"
                 "    \"planck_time_ns\": 5.39e-26,\n"
                 "    \"light_speed_ops_per_sec\": 299792458,\n"
                 "    \"entropy_rebalance_threshold\": 2.5,\n"
                 "    \"cosmic_background_temp\": 2.7\n"
                 "  }\n"
                 "}\n",
                 MANIFEST_VERSION, WARP_VERSION_MAJOR, WARP_VERSION_MINOR,
                 WARP_VERSION_PATCH, when, clock_wall_ms(), o->shards,
                 WARP_SLOTS, fsync_name(o->fsync), o->wal_segment_size,
                 o->max_key_size, o->max_value_size,
                 colocation_names[o->colocation & 3], rules_json);
    snprintf(path, sizeof(path), "%s/universe.manifest", p->dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = io->open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return io_error(errno);
    if (io_write_all(fd, body, (size_t)n, 0) < 0 || io->fdatasync(fd) < 0 ||
        io->rename(tmp, path) < 0 || io_sync_dir(p->dir) < 0)
        rc = io_error(errno);
    io->close(fd);
    return rc;
}

/* The integer after "key": in a JSON text, or -1. */
static long long json_int(const char *text, const char *key)
{
    char pat[64];
    const char *at;

    snprintf(pat, sizeof(pat), "\"%s\":", key);
    if (!(at = strstr(text, pat)))
        return -1;
    return strtoll(at + strlen(pat), NULL, 10);
}

/* Read the manifest: 1 and *shards if it exists, 0 if not, or an error.
 * Routing is fixed at creation like the shard count (a slot that moved
 * holds its keys by the routing that placed them): the manifest's
 * colocation and rules replace the options'. A manifest from before they
 * were recorded leaves the options as they are; no slot moved then. */
static int manifest_read(persist *p, uint32_t *shards, warp_options *o)
{
    char path[4096], text[8192], name[16];
    int fd;
    ssize_t n;
    long long v, sh;

    snprintf(path, sizeof(path), "%s/universe.manifest", p->dir);
    fd = io->open(path, O_RDONLY, 0);
    if (fd < 0)
        return errno == ENOENT ? 0 : io_error(errno);
    n = io->pread(fd, text, sizeof(text) - 1, 0);
    io->close(fd);
    if (n < 0)
        return io_error(errno);
    text[n] = '\0';
    v = json_int(text, "format_version");
    sh = json_int(text, "shards");
    if (v != MANIFEST_VERSION || sh < 1 || sh > WARP_SLOTS) {
        persist_set_open_error("%s: not a WarpEngine manifest of format "
                               "version %d (or damaged)",
                               path, MANIFEST_VERSION);
        return WARP_ECORRUPT;
    }
    *shards = (uint32_t)sh;
    if (json_str(text, "colocation", name, sizeof(name)) == 0) {
        int c = -1;
        for (int i = 0; i < 4; i++)
            if (strcmp(name, colocation_names[i]) == 0)
                c = i;
        if (c < 0 ||
            json_str(text, "entanglement_rules", o->entanglement_rules,
                     sizeof(o->entanglement_rules)) ||
            rules_check(o->entanglement_rules)) {
            persist_set_open_error("%s: bad colocation or entanglement_rules",
                                   path);
            return WARP_ECORRUPT;
        }
        o->colocation = (warp_colocation)c;
    }
    return 1;
}

/* --- open and close ------------------------------------------------------- */

static int make_dir(const char *path)
{
    if (io->mkdir(path, 0755) == 0 || errno == EEXIST)
        return WARP_OK;
    persist_set_open_error("%s: %s", path, strerror(errno));
    return io_error(errno);
}

static void persist_free(persist *p)
{
    if (!p)
        return;
    if (p->log)
        fclose(p->log);
    if (p->lock_fd >= 0)
        io->close(p->lock_fd); /* releases the flock */
    pthread_mutex_destroy(&p->bg_lock);
    pthread_cond_destroy(&p->bg_cond);
    pthread_cond_destroy(&p->prep_cond);
    pthread_mutex_destroy(&p->checkpoint_lock);
    free(p->dir);
    free(p->waldir);
    free(p->snapdir);
    free(p);
}

/* Remove the temporary files a crash may have left: an unfinished
 * snapshot or manifest. Nothing reads them. */
static void remove_leftovers(persist *p)
{
    DIR *d = opendir(p->snapdir);
    struct dirent *e;
    char path[8192];

    if (d) {
        while ((e = readdir(d))) {
            size_t n = strlen(e->d_name);
            if (n > 4 && strcmp(e->d_name + n - 4, ".tmp") == 0) {
                snprintf(path, sizeof(path), "%s/%s", p->snapdir, e->d_name);
                io->unlink(path);
            }
        }
        closedir(d);
    }
    snprintf(path, sizeof(path), "%s/universe.manifest.tmp", p->dir);
    io->unlink(path);
}

int persist_begin(warp_db *db, const char *path, uint32_t *shards)
{
    persist *p = calloc(1, sizeof(*p));
    char lockpath[4096], logpath[4096];
    int rc;

    if (!p)
        return WARP_ENOMEM;
    p->lock_fd = -1;
    atomic_store(&p->target, UINT64_MAX); /* no group running */
    pthread_mutex_init(&p->bg_lock, NULL);
    pthread_cond_init(&p->bg_cond, NULL);
    pthread_cond_init(&p->prep_cond, NULL);
    pthread_mutex_init(&p->checkpoint_lock, NULL);
    rc = WARP_ENOMEM;
    if (!(p->dir = strdup(path)) || !(p->waldir = join(path, "wal")) ||
        !(p->snapdir = join(path, "snapshots")))
        goto fail;
    if ((rc = make_dir(p->dir)))
        goto fail;
    snprintf(lockpath, sizeof(lockpath), "%s/LOCK", p->dir);
    p->lock_fd = io->open(lockpath, O_RDWR | O_CREAT, 0644);
    if (p->lock_fd < 0) {
        rc = io_error(errno);
        persist_set_open_error("%s: %s", lockpath, strerror(errno));
        goto fail;
    }
    if (flock(p->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        rc = errno == EWOULDBLOCK ? WARP_EBUSY : io_error(errno);
        persist_set_open_error("%s: held by another process", p->dir);
        goto fail;
    }
    if ((rc = make_dir(p->waldir)) || (rc = make_dir(p->snapdir)))
        goto fail;
    remove_leftovers(p);
    rc = manifest_read(p, shards, &db->opts);
    if (rc == 0) {
        warp_options o = db->opts;
        o.shards = *shards;
        rc = manifest_write(p, &o);
    } else if (rc == 1) {
        rc = WARP_OK;
    }
    if (rc)
        goto fail;
    snprintf(logpath, sizeof(logpath), "%s/warp.log", p->dir);
    p->log = fopen(logpath, "ae");
    db->p = p;
    return WARP_OK;
fail:
    persist_free(p);
    return rc;
}

/* --- recovery ------------------------------------------------------------- */

/* Snapshot pairs and WAL records go through the slot generation rule of
 * migrate.c (migrate_replay_*): the shards recover in parallel, and a slot
 * that moved has pairs in several shards' files; the highest generation
 * wins, whichever shard's replay reaches it first. */
typedef struct shard_recovery {
    warp_db *db;
    uint32_t shard;
    int rc;
    uint64_t snap_records;
    wal_replay_stats st;
    mig_recovery *mig;
} shard_recovery;

/* How many of the segments a checkpoint lets go each log keeps to reuse
 * (wal.c, segment_reuse()): the log's share of checkpoint_wal_bytes, the
 * WAL a checkpoint waits for, so that the kept files and the log they
 * become take no more disk than the log did; at least 2, at most
 * WAL_FREE_MAX. */
static int segments_kept(const warp_db *db)
{
    uint64_t each =
        db->opts.checkpoint_wal_bytes / db->nshards / db->opts.wal_segment_size;

    return each < 2 ? 2 : each > WAL_FREE_MAX ? WAL_FREE_MAX : (int)each;
}

/* Recover one shard: its newest snapshot, then its WAL. */
static void recover_shard(shard_recovery *r)
{
    warp_db *db = r->db;
    persist *p = db->p;
    shard *sh = &db->shards[r->shard];
    uint64_t *segs, from = 1;
    size_t n;
    char path[4096];
    snap_load_stats ls;
    mig_log log;

    migrate_log_init(&log, db, r->mig, r->shard);
    r->rc = io_list_numbers(p->snapdir, ".snap", r->shard, &segs, &n);
    if (r->rc)
        goto out;
    if (n) {
        from = segs[n - 1]; /* the newest */
        snap_path(path, sizeof(path), p->snapdir, r->shard, from);
        r->rc = snap_load(path, r->shard, from,
                          db->opts.recovery == WARP_RECOVERY_SALVAGE,
                          migrate_replay_pair, migrate_replay_claim, &log, &ls);
        r->snap_records = ls.records;
        r->st.skipped_bytes += ls.skipped_bytes;
        r->st.skipped_gaps += ls.skipped_blocks;
        if (r->rc)
            snprintf(r->st.error, sizeof(r->st.error), "%s", ls.error);
        for (size_t i = 0; r->rc == WARP_OK && i + 1 < n; i++) {
            /* a checkpoint died before deleting its predecessors */
            snap_path(path, sizeof(path), p->snapdir, r->shard, segs[i]);
            io->unlink(path);
        }
    }
    free(segs);
    if (r->rc)
        goto out;
    r->rc =
        wal_recover(&sh->wal, p->waldir, r->shard, db->opts.wal_segment_size,
                    db->opts.fsync == WARP_FSYNC_ALWAYS  ? WAL_SYNC_NOW
                    : db->opts.fsync == WARP_FSYNC_NEVER ? WAL_SYNC_NONE
                                                         : WAL_SYNC_LATER,
                    from, db->opts.recovery == WARP_RECOVERY_SALVAGE,
                    migrate_replay_record, &log, &r->st);
    sh->logged = sh->wal.dir != NULL;
    if (r->rc == WARP_OK)
        sh->wal.free_max = segments_kept(db);
out:
    if (r->rc && !r->st.error[0] && log.error[0])
        snprintf(r->st.error, sizeof(r->st.error), "%s", log.error);
    migrate_log_end(&log);
}

typedef struct recovery_pool {
    shard_recovery *rs;
    uint32_t n;
    _Atomic uint32_t next;
} recovery_pool;

static void *recovery_worker(void *arg)
{
    recovery_pool *pool = arg;
    uint32_t i;

    while ((i = atomic_fetch_add(&pool->next, 1)) < pool->n)
        recover_shard(&pool->rs[i]);
    return NULL;
}

static void *bg_main(void *arg);
static void *prep_main(void *arg);

/* Shards recover in parallel: each has its own slots, allocator and log. */
static int recover_all(warp_db *db, shard_recovery *rs)
{
    recovery_pool pool = {.rs = rs, .n = db->nshards};
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    uint32_t workers = cpus > 1 ? (uint32_t)cpus : 1;
    pthread_t th[16];
    uint32_t started = 0;
    mig_recovery *mig;
    int rc = migrate_recovery_begin(&mig);

    if (rc)
        return rc;
    if (workers > 16)
        workers = 16;
    if (workers > db->nshards)
        workers = db->nshards;
    for (uint32_t i = 0; i < db->nshards; i++)
        rs[i] = (shard_recovery){.db = db, .shard = i, .mig = mig};
    for (; started + 1 < workers; started++)
        if (pthread_create(&th[started], NULL, recovery_worker, &pool))
            break;
    recovery_worker(&pool);
    for (uint32_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    migrate_recovery_end(mig);
    for (uint32_t i = 0; i < db->nshards; i++)
        if (rs[i].rc) {
            if (rs[i].st.error[0])
                persist_set_open_error("%s", rs[i].st.error);
            return rs[i].rc;
        }
    return WARP_OK;
}

int persist_recover(warp_db *db)
{
    persist *p = db->p;
    warp_recovery *rec = &p->recovery;
    shard_recovery *rs = calloc(db->nshards, sizeof(*rs));
    uint64_t t0 = clock_mono_us();
    int rc;

    if (!rs)
        return WARP_ENOMEM;
    rc = recover_all(db, rs);
    for (uint32_t i = 0; i < db->nshards; i++) {
        rec->snapshot_records += rs[i].snap_records;
        rec->wal_records += rs[i].st.records;
        rec->wal_segments += rs[i].st.segments;
        rec->torn_bytes += rs[i].st.torn_bytes;
        rec->skipped_bytes += rs[i].st.skipped_bytes;
        rec->skipped_regions += rs[i].st.skipped_gaps;
        if (rs[i].st.torn_bytes)
            plog(p, "shard %u: torn WAL tail cut, %" PRIu64 " bytes dropped", i,
                 rs[i].st.torn_bytes);
        if (rs[i].st.skipped_gaps)
            plog(p,
                 "shard %u: salvage skipped %" PRIu64 " damaged regions, "
                 "%" PRIu64 " bytes",
                 i, rs[i].st.skipped_gaps, rs[i].st.skipped_bytes);
    }
    free(rs);
    rec->micros = clock_mono_us() - t0;
    if (rc) {
        plog(p, "open failed: %s: %s", warp_strerror(rc), open_error);
        return rc;
    }
    plog(p,
         "opened: %" PRIu64 " snapshot pairs, %" PRIu64
         " WAL records in %" PRIu64 " segments, %" PRIu64 " us",
         rec->snapshot_records, rec->wal_records, rec->wal_segments,
         rec->micros);
    for (uint32_t i = 0; i < db->nshards; i++)
        p->wal_at_checkpoint += atomic_load(&db->shards[i].wal.appended);
    p->last_sync_us = clock_mono_us();
    if (pthread_create(&p->thread, NULL, bg_main, db))
        return WARP_ENOMEM;
    p->thread_started = true;
    if (pthread_create(&p->prep_thread, NULL, prep_main, db))
        return WARP_ENOMEM;
    p->prep_started = true;
    return WARP_OK;
}

/* --- syncing and group commit --------------------------------------------- */

/* Sync every shard's log. */
static int sync_all(warp_db *db)
{
    wal *ws[db->nshards];
    uint32_t n = 0;
    int rc;

    for (uint32_t i = 0; i < db->nshards; i++)
        if (db->shards[i].logged && wal_pending(&db->shards[i].wal))
            ws[n++] = &db->shards[i].wal;
    rc = wal_sync_many(ws, n);
    atomic_fetch_add(&db->p->syncs, 1);
    if (rc) {
        atomic_fetch_add(&db->p->sync_errors, 1);
        plog(db->p, "sync failed: %s", warp_strerror(rc));
    }
    return rc;
}

int persist_sync(warp_db *db)
{
    return sync_all(db);
}

uint64_t persist_commit_ticket(warp_db *db)
{
    return atomic_fetch_add(&db->p->issued, 1) + 1;
}

static void futex_wait(_Atomic uint32_t *word, uint32_t val)
{
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word, int n)
{
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* A failed group: fail every pending write whose record is not durable,
 * erase those records, and close every ticket issued so far. Called by the
 * leader with no lock held; holding every shard lock stops new tickets. */
static void fail_group(warp_db *db, int rc)
{
    persist *p = db->p;

    for (uint32_t i = 0; i < db->nshards; i++)
        pthread_mutex_lock(&db->shards[i].lock);
    for (uint32_t i = 0; i < db->nshards; i++)
        if (db->shards[i].logged) {
            db_settle(db, &db->shards[i], rc); /* before the rewind */
            wal_rewind(&db->shards[i].wal);
        }
    atomic_store(&p->done, atomic_load(&p->issued));
    for (uint32_t i = db->nshards; i-- > 0;)
        pthread_mutex_unlock(&db->shards[i].lock);
    plog(p, "group commit failed (%s): unsynced writes erased and failed",
         warp_strerror(rc));
}

/* A synced group: apply every write now durable. */
static void apply_group(warp_db *db)
{
    for (uint32_t i = 0; i < db->nshards; i++) {
        shard *sh = &db->shards[i];
        pthread_mutex_lock(&sh->lock);
        db_settle(db, sh, WARP_OK);
        pthread_mutex_unlock(&sh->lock);
    }
}

/* Lead one group: sync, then apply or fail what it covers. Returns the
 * sync's result. */
static int lead_group(warp_db *db)
{
    persist *p = db->p;
    uint64_t first = atomic_load(&p->done), target, t0 = clock_mono_us();
    int rc;

    /* Let the writers of recent groups rejoin before syncing: they were
     * busy applying their last write when this sync became possible. The
     * goal is the largest recent group, decaying, so that one small group
     * does not keep the next small. */
    while (atomic_load(&p->issued) - first < p->group_goal &&
           clock_mono_us() - t0 < COMMIT_GATHER_US)
        sched_yield();
    target = atomic_load(&p->issued);
    atomic_store(&p->target, target);
    p->group_goal -= p->group_goal / 16;
    if (target - first > p->group_goal)
        p->group_goal = target - first;
    rc = sync_all(db);
    if (rc) {
        fail_group(db, rc);
        return rc;
    }
    apply_group(db);
    atomic_fetch_add(&p->synced_writes, target - first);
    uint64_t d = atomic_load(&p->done);
    while (d < target && !atomic_compare_exchange_weak(&p->done, &d, target))
        ;
    return WARP_OK;
}

/* Close group `r` and wake who must go on: its own waiters, and, if
 * tickets are left, one waiter of the next group to lead it. After a
 * failure every ticket is closed, so everyone wakes. */
static void end_group(persist *p, uint64_t r, int rc)
{
    _Atomic uint32_t *mine = &p->word[r & 1], *next = &p->word[(r + 1) & 1];

    atomic_store(&p->target, UINT64_MAX);
    atomic_store(&p->round, r + 1);
    atomic_store(&p->syncing, 0);
    atomic_fetch_add(mine, 1);
    futex_wake(mine, INT_MAX);
    if (rc || atomic_load(&p->issued) > atomic_load(&p->done)) {
        atomic_fetch_add(next, 1);
        futex_wake(next, rc ? INT_MAX : 1);
    }
}

void persist_commit_wait(warp_db *db, uint64_t t)
{
    persist *p = db->p;

    while (atomic_load(&p->done) < t) {
        uint32_t v[2] = {atomic_load(&p->word[0]), atomic_load(&p->word[1])};
        int idle = 0;
        if (atomic_compare_exchange_strong(&p->syncing, &idle, 1)) {
            uint64_t r = atomic_load(&p->round);
            int rc = atomic_load(&p->done) < t ? lead_group(db) : WARP_OK;
            end_group(p, r, rc);
            continue;
        }
        /* A group is running. Sleep until it ends if it may cover t (its
         * target is not fixed yet, or covers t), else until the next one
         * ends. A stale choice only costs an extra turn of the loop. */
        uint64_t r = atomic_load(&p->round), target = atomic_load(&p->target);
        if (atomic_load(&p->round) != r)
            continue;
        unsigned w = (unsigned)((r + (target != UINT64_MAX && t > target)) & 1);
        futex_wait(&p->word[w], v[w]);
    }
}

/* --- checkpoints ---------------------------------------------------------- */

typedef struct snap_ctx {
    warp_db *db;
    snap_writer *w;
    int rc;
    tier_buf buf; /* a tiered value, decoded: snapshots hold raw values */
} snap_ctx;

static void snap_item(void *arg, const item *it)
{
    snap_ctx *c = arg;
    const void *val;

    if (c->rc == WARP_OK &&
        (c->rc = tier_value(c->db, it, &c->buf, &val)) == WARP_OK)
        c->rc = snap_add(c->w, item_key(it), item_klen(it), val, it->vlen,
                         hints_pack(item_access(it), item_priority(it)));
}

/* The slots shard `id` holds at a generation above 0, into gens (room
 * for WARP_SLOTS); returns how many. No slot moves meanwhile: the caller
 * holds checkpoint_lock. */
static uint32_t shard_gens(const warp_db *db, uint32_t id, snap_gen *gens)
{
    uint32_t n = 0;

    for (uint32_t s = 0; s < WARP_SLOTS; s++) {
        uint64_t g =
            atomic_load_explicit(&db->slot_gen[s], memory_order_relaxed);
        if (g && db_slot_shard(db, s) == id)
            gens[n++] = (snap_gen){.slot = s, .gen = g};
    }
    return n;
}

static void bg_tick(warp_db *db);

/* Write shard `id`'s snapshot. `bg`: on the background thread, which
 * keeps up its everysec syncs (bg_tick()) as it goes: one shard of a
 * large store takes seconds, and its writers go on logging. */
static int checkpoint_shard(warp_db *db, uint32_t id, bool bg,
                            uint64_t *records)
{
    persist *p = db->p;
    shard *sh = &db->shards[id];
    snap_ctx c = {.db = db};
    uint64_t seg, *segs;
    snap_gen *gens;
    size_t n;
    int rc;

    if (!(gens = malloc(WARP_SLOTS * sizeof(*gens))))
        return WARP_ENOMEM;
    pthread_mutex_lock(&sh->lock);
    rc = wal_switch(&sh->wal, &seg);
    if (rc == WARP_OK && db->opts.fsync == WARP_FSYNC_ALWAYS)
        db_settle(db, sh, WARP_OK); /* synced by the switch */
    pthread_mutex_unlock(&sh->lock);
    if (rc == WARP_OK)
        rc = snap_begin(&c.w, p->snapdir, id, seg, gens,
                        shard_gens(db, id, gens));
    free(gens);
    if (rc)
        return rc;
    for (uint32_t s = 0; s < WARP_SLOTS && c.rc == WARP_OK; s++) {
        if (bg && s % 64 == 0)
            bg_tick(db);
        if (db_slot_shard(db, s) != id)
            continue;
        epoch_thread *et = epoch_enter();
        if (!et) {
            c.rc = WARP_ENOMEM;
            break;
        }
        table_foreach(&db->slots[s], snap_item, &c);
        epoch_exit(et);
    }
    tier_buf_free(&c.buf);
    if (c.rc) {
        snap_abort(c.w);
        return c.rc;
    }
    if ((rc = snap_finish(c.w, records)))
        return rc;
    wal_drop_before(&sh->wal, seg);
    if (io_list_numbers(p->snapdir, ".snap", id, &segs, &n) == WARP_OK) {
        char path[4096];
        for (size_t i = 0; i < n; i++)
            if (segs[i] < seg) {
                snap_path(path, sizeof(path), p->snapdir, id, segs[i]);
                io->unlink(path);
            }
        free(segs);
    }
    return WARP_OK;
}

static uint64_t wal_bytes(const warp_db *db)
{
    uint64_t n = 0;

    for (uint32_t i = 0; i < db->nshards; i++)
        n += atomic_load(&db->shards[i].wal.appended);
    return n;
}

/* Make every image logged so far durable. everysec: a sync of every log
 * covers the segments they left behind too. never: a segment left behind
 * was closed unsynced, so sync the WAL's whole file system. */
static int sync_images(warp_db *db)
{
    int fd, rc = WARP_OK;

    if (db->opts.fsync != WARP_FSYNC_NEVER)
        return sync_all(db);
    if ((fd = io->open(db->p->waldir, O_RDONLY | O_DIRECTORY, 0)) < 0)
        return io_error(errno);
    if (io->syncfs(fd) < 0)
        rc = io_error(errno);
    io->close(fd);
    return rc;
}

/* The background thread's routine work, every 100 ms, and during its own
 * checkpoints (which take seconds on large stores, while writers go on):
 * for fsync=everysec, sync once a second. */
static void bg_tick(warp_db *db)
{
    persist *p = db->p;
    uint64_t now = clock_mono_us();

    if (db->opts.fsync == WARP_FSYNC_EVERYSEC &&
        now - p->last_sync_us >= 1000000) {
        (void)sync_all(db);
        p->last_sync_us = now;
    }
}

/* A checkpoint; `bg`: on the background thread, which keeps up its
 * routine work as it goes (checkpoint_shard()). */
static int checkpoint_all(warp_db *db, bool bg)
{
    persist *p = db->p;
    uint64_t t0 = clock_mono_us(), records = 0;
    int rc = WARP_OK;

    pthread_mutex_lock(&p->checkpoint_lock);
    p->wal_at_checkpoint = wal_bytes(db);
    /* A slot that moved out of a shard whose new snapshot leaves it out
     * lives on in its image only: that must be durable before the
     * snapshot lets the old WAL go. */
    if (p->image_unsynced && (rc = sync_images(db)) == WARP_OK)
        p->image_unsynced = false;
    for (uint32_t i = 0; i < db->nshards && rc == WARP_OK; i++) {
        uint64_t r = 0;
        rc = checkpoint_shard(db, i, bg, &r); /* it ticks as it goes */
        records += r;
    }
    if (rc == WARP_OK) {
        atomic_fetch_add(&p->checkpoints, 1);
        atomic_store(&p->last_checkpoint_ms, clock_wall_ms());
        plog(p, "checkpoint: %" PRIu64 " pairs in %" PRIu64 " us", records,
             clock_mono_us() - t0);
    } else {
        plog(p, "checkpoint failed: %s", warp_strerror(rc));
    }
    pthread_mutex_unlock(&p->checkpoint_lock);
    return rc;
}

int persist_checkpoint(warp_db *db)
{
    return checkpoint_all(db, false);
}

/* --- slot moves ----------------------------------------------------------- */

void persist_move_begin(warp_db *db)
{
    pthread_mutex_lock(&db->p->checkpoint_lock);
}

void persist_move_end(warp_db *db, bool logged)
{
    persist *p = db->p;

    if (logged && db->opts.fsync != WARP_FSYNC_ALWAYS)
        p->image_unsynced = true;
    pthread_mutex_unlock(&p->checkpoint_lock);
}

int persist_sync_log(warp_db *db, uint32_t id)
{
    wal *w = &db->shards[id].wal;
    int rc = wal_sync_many(&w, 1);

    atomic_fetch_add(&db->p->syncs, 1);
    if (rc) {
        atomic_fetch_add(&db->p->sync_errors, 1);
        plog(db->p, "sync failed: %s", warp_strerror(rc));
    }
    return rc;
}

/* --- the background thread ------------------------------------------------ */

/* Whether the WAL has grown enough since the last checkpoint for another:
 * by checkpoint_wal_bytes, and by as much as the keys and values stored,
 * which the checkpoint would write, so that checkpoints never write more
 * than the log they let go. */
static bool wal_grown(warp_db *db)
{
    uint64_t want = db->opts.checkpoint_wal_bytes;
    warp_stats st;

    if (!want || warp_stats_get(db, &st) != WARP_OK)
        return false;
    uint64_t data = st.key_bytes + st.value_bytes;
    return wal_bytes(db) - db->p->wal_at_checkpoint >=
           (data > want ? data : want);
}

/* Wait on `cond` for up to `ms` ms, bg_lock held (and held again on
 * return); false once persist_end() has asked the threads to stop. */
static bool bg_sleep(persist *p, pthread_cond_t *cond, unsigned ms)
{
    struct timespec until = clock_deadline(ms);

    if (!p->stop)
        pthread_cond_timedwait(cond, &p->bg_lock, &until);
    return !p->stop;
}

/* Every 100 ms: the routine work (bg_tick()), and a checkpoint when the
 * interval has passed or the WAL has grown enough. */
static void *bg_main(void *arg)
{
    warp_db *db = arg;
    persist *p = db->p;
    uint64_t last_ckpt = clock_mono_us();

    pthread_setname_np(pthread_self(), "warp-bg");
    pthread_mutex_lock(&p->bg_lock);
    while (bg_sleep(p, &p->bg_cond, 100)) {
        pthread_mutex_unlock(&p->bg_lock);
        bg_tick(db);
        bool by_time =
            db->opts.checkpoint_interval &&
            clock_mono_us() - last_ckpt >= db->opts.checkpoint_interval * 1000;
        if (by_time || wal_grown(db)) {
            (void)checkpoint_all(db, true);
            last_ckpt = clock_mono_us();
        }
        pthread_mutex_lock(&p->bg_lock);
    }
    pthread_mutex_unlock(&p->bg_lock);
    return NULL;
}

/* The segment preparer: readies the next segment of every log whose
 * current one is filling (wal_prepare()), so that writers neither create
 * segments nor fault their pages in under their shard lock. It is not the
 * background thread's work because that thread blocks on the disk: with
 * the log growing 550 MB/s, its syncs, checkpoints and segment deletions
 * kept it in fdatasync(), msync(), unlink() and munmap() for 2.1 s of a
 * 3-s trace, and writers then created segments themselves, holding their
 * shard's other writers up (docs/BENCHMARKS.md, "Open: puts on disk"). Every
 * PREP_BUSY_MS while the logs grow, every PREP_IDLE_MS when they do not.
 * The only caller of wal_prepare(), which must not run twice at once on a
 * log. */
static void *prep_main(void *arg)
{
    warp_db *db = arg;
    persist *p = db->p;
    uint64_t seen = wal_bytes(db);
    unsigned ms = PREP_IDLE_MS;

    pthread_setname_np(pthread_self(), "warp-wal");
    pthread_mutex_lock(&p->bg_lock);
    while (bg_sleep(p, &p->prep_cond, ms)) {
        pthread_mutex_unlock(&p->bg_lock);
        for (uint32_t i = 0; i < db->nshards; i++)
            if (db->shards[i].logged)
                wal_prepare(&db->shards[i].wal);
        uint64_t now = wal_bytes(db);
        ms = now != seen ? PREP_BUSY_MS : PREP_IDLE_MS;
        seen = now;
        pthread_mutex_lock(&p->bg_lock);
    }
    pthread_mutex_unlock(&p->bg_lock);
    return NULL;
}

void persist_end(warp_db *db)
{
    persist *p = db->p;

    if (!p)
        return;
    pthread_mutex_lock(&p->bg_lock);
    p->stop = true;
    pthread_cond_signal(&p->bg_cond);
    pthread_cond_signal(&p->prep_cond);
    pthread_mutex_unlock(&p->bg_lock);
    if (p->thread_started)
        pthread_join(p->thread, NULL);
    if (p->prep_started)
        pthread_join(p->prep_thread, NULL);
    if (db->shards) {
        (void)sync_all(db);
        for (uint32_t i = 0; i < db->nshards; i++)
            if (db->shards[i].logged) {
                wal_close(&db->shards[i].wal);
                db->shards[i].logged = false;
            }
    }
    persist_free(p);
    db->p = NULL;
}

void persist_recovery(const warp_db *db, warp_recovery *r)
{
    *r = db->p->recovery;
}

void persist_durability(const warp_db *db, warp_durability *d)
{
    persist *p = db->p;

    d->wal_bytes = wal_bytes(db);
    d->syncs = atomic_load(&p->syncs);
    d->synced_writes = atomic_load(&p->synced_writes);
    d->checkpoints = atomic_load(&p->checkpoints);
    d->last_checkpoint_ms = atomic_load(&p->last_checkpoint_ms);
    d->sync_errors = atomic_load(&p->sync_errors);
}

/* --- offline check -------------------------------------------------------- */

static void note_damage(warp_check_report *r, const char *msg)
{
    if (!r->damaged++)
        snprintf(r->error, sizeof(r->error), "%s", msg);
}

int warp_check(const char *path, warp_check_report *r)
{
    char sub[4096], file[4096];
    io_name *v;
    size_t n;
    int rc;

    if (!path || !r)
        return WARP_EINVAL;
    memset(r, 0, sizeof(*r));
    snprintf(sub, sizeof(sub), "%s/snapshots", path);
    if ((rc = io_list_numbered(sub, ".snap", IO_ALL_SHARDS, &v, &n)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        snap_load_stats ls;
        snap_path(file, sizeof(file), sub, v[i].shard, v[i].num);
        rc =
            snap_load(file, v[i].shard, v[i].num, false, NULL, NULL, NULL, &ls);
        r->snapshots++;
        r->snapshot_records += ls.records;
        if (rc)
            note_damage(r, ls.error[0] ? ls.error : warp_strerror(rc));
    }
    free(v);
    snprintf(sub, sizeof(sub), "%s/wal", path);
    if ((rc = io_list_numbered(sub, ".wal", IO_ALL_SHARDS, &v, &n)))
        return rc;
    for (size_t i = 0; i < n; i++) {
        wal_replay_stats st;
        if (i > 0 && v[i - 1].shard == v[i].shard)
            continue; /* one check per shard */
        memset(&st, 0, sizeof(st));
        rc = wal_check(sub, v[i].shard, &st);
        r->wal_segments += st.segments;
        r->wal_records += st.records;
        r->torn_bytes += st.torn_bytes;
        if (rc)
            note_damage(r, st.error[0] ? st.error : warp_strerror(rc));
    }
    free(v);
    return r->damaged ? WARP_ECORRUPT : WARP_OK;
}
