/*
 * warp.h - the public API of libwarp, the WarpEngine key-value engine.
 *
 * This header is the whole public interface and its manual.
 *
 * THE MODEL
 *   A store maps keys to values. Both are arbitrary byte strings: they may
 *   contain NUL bytes, and the empty key (length 0) is a valid key. A store is
 *   opened with warp_open() and closed with warp_close().
 *
 *   Every key is routed  key -> 64-bit hash (XXH3) -> slot -> shard.
 *   There are WARP_SLOTS slots, a fixed space; a slot table maps each slot to
 *   one of `shards` shards. Keys with the same slot always live in the same
 *   shard. Later versions move slots between shards online (rebalancing) and
 *   use the slot to co-locate related keys; the shard a key is reported in is
 *   therefore the shard that holds it *now*.
 *
 * THREADS
 *   Every function may be called by any number of threads at once on the same
 *   warp_db, except warp_close(), which must be the last call on a handle and
 *   must not run concurrently with any other call on it. Reads never take a
 *   lock: they run under epoch-based reclamation and never wait for writers.
 *   Writers lock only the shard they write to.
 *
 * ERRORS
 *   Every function that can fail returns an int: WARP_OK (0) on success, or
 *   one of the negative WARP_E* codes below. WARP_NOTFOUND is negative too,
 *   but it is an answer, not a failure. warp_strerror() names every code.
 *   Unless a function says otherwise, on error nothing is modified: no key,
 *   value or hint, and no counter but the memory figures (a call that fails
 *   with WARP_ENOMEM may keep capacity it reserved before the allocation
 *   that failed, such as a grown table).
 *
 * OWNERSHIP
 *   The library never keeps a pointer the caller passed in once the call
 *   returns: keys, values and option strings are copied. Memory the library
 *   hands back says how it is released, next to the function that returns it.
 */
#ifndef WARP_H
#define WARP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WARP_VERSION_MAJOR 0
#define WARP_VERSION_MINOR 1
#define WARP_VERSION_PATCH 0

/* The number of slots: the fixed routing space between keys and shards. */
#define WARP_SLOTS 16384

/* ------------------------------------------------------------------------ */
/* Result codes                                                              */
/* ------------------------------------------------------------------------ */

enum {
    WARP_OK = 0,
    WARP_NOTFOUND = -1, /* the key does not exist (an answer, not a failure) */
    WARP_EINVAL = -2,   /* an argument is invalid: NULL, out of range, ... */
    WARP_ENOMEM = -3,   /* an allocation failed; the store is unchanged */
    WARP_ETOOBIG =
        -4, /* key or value longer than max_key_size / max_value_size */
    WARP_ERANGE = -5,    /* the caller's buffer is too small for the value */
    WARP_ENOOPT = -6,    /* no option has that name */
    WARP_EIO = -7,       /* an I/O error */
    WARP_ENOSPC = -8,    /* no space left on the device */
    WARP_EBUSY = -9,     /* the data directory is held by another process */
    WARP_ECORRUPT = -10, /* a file failed its checksum or format check */
    WARP_EFULL = -11,    /* memory budget exhausted: the write would exceed
                          * maxmemory and nothing more can be demoted (or
                          * evicted); the store is unchanged */
};

/* A static, human-readable description of a result code. Never NULL; an
 * unknown code gives "unknown error". Thread-safe. */
const char *warp_strerror(int rc);

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

/* A custom allocator. The engine routes every heap allocation it makes for
 * the store through it (tests use it to fail the N-th allocation). `alloc`
 * returns NULL on failure; `release` accepts NULL. Both must be thread-safe.
 * `size` passed to release is the size passed to alloc. Returned memory
 * must be aligned to at least 8 bytes (malloc's alignment is fine). */
typedef struct warp_allocator {
    void *(*alloc)(void *ctx, size_t size);
    void (*release)(void *ctx, void *ptr, size_t size);
    void *ctx;
} warp_allocator;

/* Store options. Always initialise with warp_options_init(), which writes
 * the documented defaults; then change fields directly or by name with
 * warp_options_set(). New fields are only ever added at the end, so code
 * written against an older header keeps working when it calls
 * warp_options_init() first.
 *
 *   name              default    range / meaning
 *   shards            16         1 .. WARP_SLOTS. A store with a data
 *                                directory keeps the count it was created
 *                                with; the option is then ignored.
 *   max_key_size      65536      0 .. 16777215 bytes
 *   max_value_size    67108864   0 .. 4294967295 bytes (64 MiB)
 *   huge_pages        yes        ask the kernel for transparent huge pages
 *                                for item memory and the physics key map
 *   fsync             everysec   always: a write returns once it is on disk;
 *                                concurrent writers share one sync (group
 *                                commit). everysec: synced in the background
 *                                once a second; a process crash loses
 *                                nothing, power loss about a second. never:
 *                                the OS decides.
 *   recovery          strict     strict: damage before the WAL's tail
 *                                refuses the open. salvage: skip damaged
 *                                records, open, and report what was skipped.
 *   checkpoint_interval 300000   ms between automatic checkpoints; 0: none
 *   checkpoint_wal_bytes 1073741824  WAL bytes that trigger a checkpoint,
 *                                once the WAL has also grown by as many
 *                                bytes as the keys and values stored (what
 *                                a checkpoint writes); 0: none
 *   wal_segment_size  8388608    bytes per WAL segment file (64 KiB .. 1 GiB),
 *                                reserved on disk when the segment starts
 *
 * Physics (docs/PHYSICS.md):
 *   physics           adaptive   off: a pure key-value path, no physics work.
 *                                full: every access is observed. adaptive:
 *                                accesses are sampled, the rate tuned to keep
 *                                the physics thread within physics_cpu_budget.
 *                                Also settable at run time: warp_physics_set().
 *   physics_cpu_budget 0.05      adaptive mode's budget, in cores (0.001 .. 1)
 *   physics_update_interval 1000 ms between the physics thread's rounds
 *   entropy_monitoring_interval 5000  ms between entropy reports
 *   temporal_half_life 3600000   ms for a key's access weight to halve
 *   entropy_threshold 0.9        normalised operation entropy below which
 *                                the rebalancer moves slots (0 .. 1; 0: never)
 *   rebalance_cooldown 10000     ms between automatic rebalances
 *   colocation        tags,rules how a key's routing id is found: `tags` (the
 *                                part inside the first {...}, Redis's hash
 *                                tags), `rules` (the id after the type prefix
 *                                of a key that an entanglement rule names,
 *                                user:42 -> 42), both, or `none`
 *   entanglement_rules (upstream's six)  `src:*->dst:*,dst:*;...`, e.g.
 *                                `user:*->profile:*,settings:*,sessions:*`
 *   entanglement_learning no     learn entanglement edges between keys one
 *                                thread reads one right after the other
 *                                (see warp_quantum_get()); off by default
 *                                because learned edges are stored as the
 *                                engine's own keys, which count in
 *                                warp_stats and show in warp_foreach
 *
 * Tiers (docs/TIERS.md): every value lives in event_horizon (raw in
 * memory), photon_sphere (compressed in memory) or deep_cache (on disk
 * under DIR/deep/, with a data directory only).
 *   maxmemory         0          the memory budget in bytes (k/m/g
 *                                suffixes), 0: none. Counts what the
 *                                engine allocates (warp_tier_metrics's
 *                                used_bytes). Over it, values are demoted,
 *                                coldest first; when nothing more can be,
 *                                a write fails with WARP_EFULL, or evicts.
 *                                With a budget, items are allocated one by
 *                                one from the allocator, not from slab
 *                                pages, so that freed memory is reusable.
 *   eviction          none       none: a write over budget fails, nothing
 *                                is lost. lru / lfu: delete the least
 *                                recently / least frequently used keys
 *                                instead (logged as deletes in the WAL);
 *                                for caches
 *   demote_after      3600000    ms without access after which a value is
 *                                compressed (photon_sphere), while physics
 *                                observes (not off); 0: never by age. The
 *                                default is the live/recent stage boundary
 *   deep_after        172800000  ms without access after which a value
 *                                goes to deep_cache (recent/historical
 *                                boundary); 0: never by age
 *   deep_segment_size 67108864   bytes per deep_cache segment file
 *                                (1 MiB .. 1 GiB)
 */
typedef enum warp_fsync {
    WARP_FSYNC_EVERYSEC = 0,
    WARP_FSYNC_ALWAYS = 1,
    WARP_FSYNC_NEVER = 2,
} warp_fsync;

typedef enum warp_recovery_mode {
    WARP_RECOVERY_STRICT = 0,
    WARP_RECOVERY_SALVAGE = 1,
} warp_recovery_mode;

typedef enum warp_physics_mode {
    WARP_PHYSICS_OFF = 0,
    WARP_PHYSICS_ADAPTIVE = 1,
    WARP_PHYSICS_FULL = 2,
} warp_physics_mode;

typedef enum warp_colocation {
    WARP_COLOCATE_NONE = 0,
    WARP_COLOCATE_TAGS = 1,
    WARP_COLOCATE_RULES = 2,
    WARP_COLOCATE_TAGS_RULES = 3,
} warp_colocation;

typedef enum warp_eviction {
    WARP_EVICT_NONE = 0,
    WARP_EVICT_LRU = 1,
    WARP_EVICT_LFU = 2,
} warp_eviction;

#define WARP_RULES_MAX 2048 /* bytes of entanglement_rules, with the NUL */

typedef struct warp_options {
    uint32_t shards;
    uint32_t max_key_size;
    uint64_t max_value_size;
    bool huge_pages;
    warp_allocator
        allocator; /* defaults to malloc/free; not settable by name */
    warp_fsync fsync;
    warp_recovery_mode recovery;
    uint64_t checkpoint_interval; /* ms */
    uint64_t checkpoint_wal_bytes;
    uint64_t wal_segment_size;
    warp_physics_mode physics;
    double physics_cpu_budget;            /* cores */
    uint64_t physics_update_interval;     /* ms */
    uint64_t entropy_monitoring_interval; /* ms */
    uint64_t temporal_half_life;          /* ms */
    double entropy_threshold;             /* normalised, 0 .. 1 */
    uint64_t rebalance_cooldown;          /* ms */
    warp_colocation colocation;
    char entanglement_rules[WARP_RULES_MAX];
    bool entanglement_learning;
    uint64_t maxmemory; /* bytes; 0: no budget */
    warp_eviction eviction;
    uint64_t demote_after; /* ms */
    uint64_t deep_after;   /* ms */
    uint64_t deep_segment_size;
} warp_options;

/* Fill `opts` with the defaults. Never fails. */
void warp_options_init(warp_options *opts);

/* Set the option called `name` from its string form `value`: decimal
 * integers ("4096"), optionally with a k/m/g suffix for sizes ("64m"), and
 * booleans as yes/no, true/false, on/off or 1/0.
 * Returns WARP_OK, WARP_ENOOPT for an unknown name, or WARP_EINVAL for a
 * value that does not parse or is out of range (or a NULL argument).
 * On error `opts` is unchanged. Thread-safe for distinct `opts`. */
int warp_options_set(warp_options *opts, const char *name, const char *value);

/* Format the option called `name` into `buf` (NUL-terminated, at most
 * `cap` bytes with the NUL). Returns WARP_OK, WARP_ENOOPT, WARP_EINVAL for
 * NULL arguments, or WARP_ERANGE if `cap` is too small. */
int warp_options_get(const warp_options *opts, const char *name, char *buf,
                     size_t cap);

/* The names of every option settable by name, as a NULL-terminated static
 * array, in documentation order. */
const char *const *warp_option_names(void);

/* ------------------------------------------------------------------------ */
/* Opening and closing                                                       */
/* ------------------------------------------------------------------------ */

typedef struct warp_db warp_db;

/* Open a store. `path` names a data directory, created if missing (its
 * parent must exist); NULL gives a purely in-memory store. `opts` may be
 * NULL for the defaults. On success *out receives the handle, released
 * with warp_close(). On error *out is set to NULL.
 *
 * With a directory, every put and delete is logged before it is applied,
 * and opening recovers: it loads each shard's newest snapshot, replays the
 * WAL after it, cuts a torn tail (a write the crash interrupted), and
 * appends from there. See docs/FORMATS.md for the directory's layout.
 *
 * Errors: WARP_EINVAL (NULL out, invalid options), WARP_ENOMEM, WARP_EBUSY
 * (another process has the directory open), WARP_ECORRUPT (damage before
 * the WAL's tail, or a bad manifest; warp_open_error() says where),
 * WARP_EIO, WARP_ENOSPC. */
int warp_open(const char *path, const warp_options *opts, warp_db **out);

/* The message of the last warp_open() failure on this thread that has
 * more to say than its code (the file and offset of damage), or "". */
const char *warp_open_error(void);

/* Close the store and free everything it holds. NULL is accepted. With a
 * data directory, first makes every acknowledged write durable (in every
 * fsync mode). Must not race with any other call on `db`; every pointer
 * into the store is invalid afterwards. */
void warp_close(warp_db *db);

/* Make every write acknowledged so far durable now. WARP_OK for an
 * in-memory store. Errors: WARP_EIO. */
int warp_sync(warp_db *db);

/* Write a snapshot of every shard now, while reads and writes go on, then
 * delete the WAL that it makes unnecessary. Returns WARP_OK, WARP_EINVAL
 * (no data directory), WARP_EIO, WARP_ENOSPC or WARP_ENOMEM. On error the
 * previous snapshot and the WAL stay as they were. */
int warp_checkpoint(warp_db *db);

/* What the last open recovered. All zero for an in-memory store. */
typedef struct warp_recovery {
    uint64_t snapshot_records; /* pairs loaded from snapshots */
    uint64_t wal_records;      /* WAL records replayed */
    uint64_t wal_segments;     /* WAL segment files read */
    uint64_t torn_bytes;       /* cut from torn WAL tails */
    uint64_t skipped_bytes;    /* damaged bytes salvage skipped */
    uint64_t skipped_regions;  /* damaged regions salvage skipped */
    uint64_t micros;           /* time the recovery took */
} warp_recovery;

/* Returns WARP_OK, or WARP_EINVAL for NULL arguments. */
int warp_recovery_get(warp_db *db, warp_recovery *r);

/* Durability counters. */
typedef struct warp_durability {
    uint64_t wal_bytes;          /* bytes appended to the WAL since open */
    uint64_t syncs;              /* sync rounds (group commits, everysec) */
    uint64_t synced_writes;      /* fsync=always writes acknowledged by them */
    uint64_t checkpoints;        /* checkpoints finished since open */
    uint64_t last_checkpoint_ms; /* when the last one finished (Unix ms) */
    uint64_t sync_errors;        /* failed syncs */
} warp_durability;

/* Returns WARP_OK, or WARP_EINVAL for NULL arguments. */
int warp_durability_get(warp_db *db, warp_durability *d);

/* Verify the data directory `path` without opening it as a store: every
 * snapshot block and WAL record checksum. Fills *r and returns WARP_OK
 * (no damage; a torn WAL tail is counted but is not damage), WARP_ECORRUPT
 * (r->error names the first damage), or WARP_EIO. */
typedef struct warp_check_report {
    uint64_t snapshots, snapshot_records;
    uint64_t wal_segments, wal_records;
    uint64_t torn_bytes;
    uint64_t damaged; /* files with damage */
    char error[4608];
} warp_check_report;

int warp_check(const char *path, warp_check_report *r);

/* ------------------------------------------------------------------------ */
/* Put options and placement                                                 */
/* ------------------------------------------------------------------------ */

/* The access-pattern hint of a put, as upstream has it. */
typedef enum warp_access_pattern {
    WARP_ACCESS_BALANCED = 0, /* the default: the priority decides */
    WARP_ACCESS_HOT = 1,
    WARP_ACCESS_WARM = 2,
    WARP_ACCESS_COLD = 3,
} warp_access_pattern;

/* The priority hint of a put, as upstream has it. */
typedef enum warp_priority {
    WARP_PRIORITY_NORMAL = 0, /* the default */
    WARP_PRIORITY_CRITICAL = 1,
    WARP_PRIORITY_HIGH = 2,
    WARP_PRIORITY_LOW = 3,
    WARP_PRIORITY_BACKGROUND = 4,
} warp_priority;

/* The temperature class the hints give a key (upstream's routing table):
 * access pattern hot/warm/cold gives that class; balanced goes by priority:
 * critical/high -> hot, normal -> warm, low/background -> cold. Later
 * versions place and tier keys by it. */
typedef enum warp_class {
    WARP_CLASS_HOT = 0,
    WARP_CLASS_WARM = 1,
    WARP_CLASS_COLD = 2,
} warp_class;

/* Hints for a put. A NULL warp_put_options means all defaults (zero). */
typedef struct warp_put_options {
    warp_access_pattern access_pattern;
    warp_priority priority;
} warp_put_options;

/* Where a key lives, and the hints stored with it. Filled by put and get. */
typedef struct warp_placement {
    uint32_t shard; /* 0 .. shards-1 */
    uint32_t slot;  /* 0 .. WARP_SLOTS-1 */
    warp_class klass;
    warp_access_pattern access_pattern;
    warp_priority priority;
} warp_placement;

/* The class upstream's routing table gives these hints. Out-of-range
 * values count as the defaults (balanced, normal). */
warp_class warp_class_of(warp_access_pattern access_pattern,
                         warp_priority priority);

/* Static names: "hot", "balanced", "critical", ...; "?" when out of range. */
const char *warp_class_name(warp_class c);
const char *warp_access_pattern_name(warp_access_pattern a);
const char *warp_priority_name(warp_priority p);

/* Parse the names above (case-sensitive). Return WARP_OK or WARP_EINVAL,
 * leaving *out unchanged on error. */
int warp_access_pattern_parse(const char *s, warp_access_pattern *out);
int warp_priority_parse(const char *s, warp_priority *out);

/* ------------------------------------------------------------------------ */
/* Single-key operations                                                     */
/* ------------------------------------------------------------------------ */

/* Store `val` under `key`, replacing any earlier value and hints. The
 * bytes are copied. `key` and `val` may be NULL only when their length is
 * 0. `opts` may be NULL (defaults); out-of-range hint values are
 * WARP_EINVAL. If `where` is not NULL it receives the key's placement.
 * Errors: WARP_EINVAL, WARP_ETOOBIG, WARP_ENOMEM (store unchanged). */
int warp_put(warp_db *db, const void *key, size_t klen, const void *val,
             size_t vlen, const warp_put_options *opts, warp_placement *where);

/* Copy the value of `key` into `buf` (capacity `cap`). *vlen (if `vlen`
 * is not NULL) receives the value's length whenever the key exists, even
 * if it does not fit; then the
 * call returns WARP_ERANGE and `buf` is untouched, so the caller can retry
 * with a larger buffer. `buf` may be NULL when `cap` is 0, to ask for the
 * length alone. If `where` is not NULL it receives the placement when the
 * key exists. Returns WARP_OK, WARP_NOTFOUND, WARP_ERANGE, WARP_EINVAL,
 * WARP_ETOOBIG (a key longer than max_key_size, which cannot exist), or
 * WARP_ENOMEM (only on a thread's first call, which allocates its 64-byte
 * reader record). Never blocks on writers. */
int warp_get(warp_db *db, const void *key, size_t klen, void *buf, size_t cap,
             size_t *vlen, warp_placement *where);

/* Like warp_get(), but the library allocates the value with malloc() (one
 * byte longer, NUL-terminated for convenience); the caller frees *val with
 * warp_free(). On any result but WARP_OK, *val is set to NULL.
 * This allocation does not go through warp_options.allocator: it belongs
 * to the caller. Errors: WARP_NOTFOUND, WARP_EINVAL, WARP_ENOMEM. */
int warp_get_alloc(warp_db *db, const void *key, size_t klen, void **val,
                   size_t *vlen, warp_placement *where);

/* Free memory returned by warp_get_alloc(). NULL is accepted. */
void warp_free(void *ptr);

/* Remove `key`. Returns WARP_OK if it existed, WARP_NOTFOUND if not (the
 * store is unchanged), WARP_EINVAL, WARP_ETOOBIG, or WARP_ENOMEM (the shard
 * could not grow its list of memory awaiting release; nothing changed). */
int warp_delete(warp_db *db, const void *key, size_t klen);

/* Whether `key` exists: WARP_OK if it does, WARP_NOTFOUND if not, or an
 * error as for warp_get(). */
int warp_exists(warp_db *db, const void *key, size_t klen);

/* ------------------------------------------------------------------------ */
/* Batch operations                                                          */
/* ------------------------------------------------------------------------ */

/* One key of a batch get. The caller fills key, klen, buf and cap; the call
 * fills rc (WARP_OK, WARP_NOTFOUND, WARP_ERANGE, WARP_EINVAL or
 * WARP_ETOOBIG), vlen and where, with the same meaning as warp_get(). */
typedef struct warp_get_item {
    const void *key;
    size_t klen;
    void *buf;
    size_t cap;
    int rc;
    size_t vlen;
    warp_placement where;
} warp_get_item;

/* Look up `n` keys in one call. The lookups are pipelined: hashes are
 * computed and memory is prefetched for a group of keys before any is
 * read, which hides most memory latency. Each item gets its own rc; the
 * call returns WARP_OK if every item was looked up (hits and misses alike),
 * or WARP_EINVAL if `items` is NULL with n > 0. */
int warp_get_batch(warp_db *db, warp_get_item *items, size_t n);

/* One key of a batch put. The caller fills key, klen, val, vlen and opts
 * (NULL for defaults); the call fills where on success. */
typedef struct warp_put_item {
    const void *key;
    size_t klen;
    const void *val;
    size_t vlen;
    const warp_put_options *opts;
    warp_placement where;
} warp_put_item;

/* Store `n` key-value pairs in one call, in order (a key that appears
 * twice ends with its last value). All or nothing: every item is
 * validated and all memory is reserved before the first is applied, so on
 * any error (WARP_EINVAL, WARP_ETOOBIG, WARP_ENOMEM) the store is unchanged
 * and *failed (if not NULL) receives the index of the offending item, or
 * n when the failure belongs to no single item. Concurrent readers may see
 * some items of a batch before others. Each shard logs its own items, with
 * no commit record across shards: a process killed while a batch that
 * spans several shards is being logged (a few microseconds) may reopen
 * with some of its items and not the others. Such a batch was never
 * acknowledged: nothing acknowledged is lost. */
int warp_put_batch(warp_db *db, warp_put_item *items, size_t n, size_t *failed);

/* ------------------------------------------------------------------------ */
/* Introspection                                                             */
/* ------------------------------------------------------------------------ */

/* Counters of a store. Every figure is measured by the engine. */
typedef struct warp_stats {
    uint64_t keys;           /* live keys */
    uint64_t internal_keys;  /* of them, the engine's own: entanglement edge
                              * lists and time-series chunks (keys that
                              * start with 0xff 0xfe); keys - internal_keys
                              * is what the application stored */
    uint64_t key_bytes;      /* sum of key lengths */
    uint64_t value_bytes;    /* sum of value lengths */
    uint64_t memory_bytes;   /* bytes the engine holds for the data: the
                              * item pages it has handed out (headers,
                              * rounding, free chunks), large items, the
                              * index tables, memory awaiting release, and
                              * the store's fixed structures. Not counted:
                              * the untouched rest of the newest 8 MiB
                              * page region (pages are taken from it 64 KiB
                              * at a time). */
    uint64_t overhead_bytes; /* memory_bytes - key_bytes - value_bytes */
    uint64_t puts, deletes;  /* writes applied (batch items count); reads are
                              * not counted here, so that the read path
                              * writes no shared memory */
    uint32_t shards;
    uint64_t table_growths; /* incremental table resizes started */
} warp_stats;

/* Fill *st with a consistent-enough snapshot (each counter is exact; they
 * are not read atomically together). Returns WARP_OK or WARP_EINVAL. */
int warp_stats_get(warp_db *db, warp_stats *st);

/* Per-shard counters, for shard `shard` (0 .. shards-1). */
typedef struct warp_shard_stats {
    uint64_t keys;
    uint64_t key_bytes;
    uint64_t value_bytes;
    uint64_t memory_bytes;
    uint32_t slots; /* slots the slot table maps to this shard */
} warp_shard_stats;

/* Returns WARP_OK, or WARP_EINVAL for a NULL argument or bad shard. */
int warp_shard_stats_get(warp_db *db, uint32_t shard, warp_shard_stats *st);

/* The placement `key` would get (its slot and the shard that slot maps to
 * now), whether or not the key exists. Hint fields are the defaults.
 * Returns WARP_OK or WARP_EINVAL. */
int warp_locate(warp_db *db, const void *key, size_t klen,
                warp_placement *where);

/* The number of shards the store was opened with, or 0 for NULL. */
uint32_t warp_shard_count(const warp_db *db);

/* Called by warp_foreach() for each pair; key and value are valid only
 * during the call. Return 0 to go on, anything else to stop. */
typedef int (*warp_foreach_fn)(void *ctx, const void *key, size_t klen,
                               const void *val, size_t vlen,
                               const warp_placement *where);

/* Call fn for every pair, slot by slot. Each slot is read under its
 * shard's lock, so a slot is seen as of one moment; writes to other slots
 * may or may not be seen. Don't write to the store from fn. Returns
 * WARP_OK, WARP_EINVAL, or fn's nonzero result. */
int warp_foreach(warp_db *db, warp_foreach_fn fn, void *ctx);

/* warp_foreach() from slot `first` on (0 .. WARP_SLOTS; WARP_SLOTS visits
 * nothing): the pairs of the slots before it are not read at all, so a
 * walk resumed slot by slot (a cursor, as warpd's SCAN keeps) costs the
 * pairs it visits. Returns as warp_foreach() does, and WARP_EINVAL for a
 * `first` past WARP_SLOTS. */
int warp_foreach_from(warp_db *db, uint32_t first, warp_foreach_fn fn,
                      void *ctx);

/* Called by warp_foreach_keys_from() for each key, with the length of its
 * value; the key is valid only during the call. Return 0 to go on,
 * anything else to stop. */
typedef int (*warp_foreach_key_fn)(void *ctx, const void *key, size_t klen,
                                   size_t vlen, const warp_placement *where);

/* warp_foreach_from() for the keys alone: no value is read, so a walk
 * costs no disk read for a value in deep_cache and no decompression for
 * one in photon_sphere (warpd's KEYS and SCAN). The same guarantees and
 * results as warp_foreach_from(). */
int warp_foreach_keys_from(warp_db *db, uint32_t first, warp_foreach_key_fn fn,
                           void *ctx);

/* ------------------------------------------------------------------------ */
/* Physics (docs/PHYSICS.md)                                                  */
/* ------------------------------------------------------------------------ */
/*
 * The data path only records facts (which slot and key were touched, by
 * which kind of operation) into per-thread rings; the physics thread turns
 * them into temporal weights, slot and shard mass, the entropy of the
 * shards' load, the wormhole graph, and slot migrations. Every figure
 * below is measured; none is a constant or a guess.
 */

/* Switch the physics mode at run time; safe while other threads work.
 * Returns WARP_OK or WARP_EINVAL. */
int warp_physics_set(warp_db *db, warp_physics_mode mode);
warp_physics_mode warp_physics_get(const warp_db *db);
const char *warp_physics_mode_name(warp_physics_mode m);
int warp_physics_mode_parse(const char *s, warp_physics_mode *out);

/* A key's lifecycle stage, from the time since its last access
 * (upstream's thresholds): live < 1 h, recent < 48 h, historical < 30 d,
 * deep_time beyond, or never observed since the store opened. */
typedef enum warp_stage {
    WARP_STAGE_LIVE = 0,
    WARP_STAGE_RECENT = 1,
    WARP_STAGE_HISTORICAL = 2,
    WARP_STAGE_DEEP_TIME = 3,
} warp_stage;
#define WARP_STAGES 4
const char *warp_stage_name(warp_stage s);

typedef struct warp_cosmic_metrics {
    uint64_t uptime_ms;
    uint64_t gets, puts, deletes, batch_gets; /* observed (scaled by the
                                               * sample rate in adaptive) */
    warp_physics_mode mode;
    double sample_rate;         /* fraction of accesses observed now */
    uint64_t facts;             /* facts the physics thread has consumed */
    uint64_t facts_dropped;     /* facts lost to full rings */
    uint64_t rounds;            /* physics rounds run */
    double physics_cpu;         /* the physics thread's CPU, in cores, over its
                                 * last round (CLOCK_THREAD_CPUTIME_ID) */
    double physics_cpu_total_s; /* its CPU seconds since open */
    uint64_t tracked_keys;      /* keys with a temporal weight */
    uint64_t stage_keys[WARP_STAGES]; /* keys per lifecycle stage; keys
                                       * never observed count as deep_time */
    uint64_t keys_unobserved;
    uint64_t rings; /* per-thread fact rings held, 2 MiB each: as many as
                     * threads have used the store at the same time (a
                     * thread that exits leaves its ring to the next) */
} warp_cosmic_metrics;

/* Per-shard physics figures. `ops_rate` is the decayed operations per
 * second observed; `mass` = ops_rate + bytes / 4096 (docs/PHYSICS.md). */
typedef struct warp_shard_physics {
    uint64_t items, bytes;
    double ops_rate;
    double mass;
    uint32_t slots;
} warp_shard_physics;

int warp_cosmic_metrics_get(warp_db *db, warp_cosmic_metrics *m);
int warp_shard_physics_get(warp_db *db, uint32_t shard, warp_shard_physics *s);

typedef struct warp_entropy_metrics {
    double items, bytes, ops; /* Shannon entropy (bits) of the shards'
                               * shares of items, bytes and recent ops */
    double items_norm, bytes_norm, ops_norm; /* divided by log2(shards) */
    double trend;         /* least-squares slope of ops_norm per report */
    double stability;     /* 1 - min(variance of ops_norm, 1) over history */
    uint64_t reports;     /* reports made */
    uint64_t rebalances;  /* rebalances that moved something */
    uint64_t slots_moved; /* in all rebalances */
    uint64_t keys_moved;
    uint64_t last_report_ms; /* wall-clock time of the last report */
} warp_entropy_metrics;

int warp_entropy_metrics_get(warp_db *db, warp_entropy_metrics *m);

/* What a rebalance did. */
typedef struct warp_rebalance_report {
    uint32_t slots_moved;
    uint64_t keys_moved, bytes_moved;
    double ops_norm_before, ops_norm_after;   /* normalised op entropy, from
                                               * the load the plan used */
    double max_share_before, max_share_after; /* the busiest shard's share */
    double best_share; /* max(1/shards, hottest slot's share) */
    uint64_t micros;
} warp_rebalance_report;

/* Rebalance now from the load observed so far. With `force` it runs even
 * when the entropy is above the threshold. Returns WARP_OK (the report
 * says what moved, possibly nothing), WARP_EINVAL, or an I/O error from
 * logging a move (then that slot did not move). */
int warp_rebalance(warp_db *db, bool force, warp_rebalance_report *r);

/* Move one slot to `shard` now, online: reads and writes of its keys go
 * on, and every key keeps its value. With a data directory the move is
 * logged before it takes effect and survives a crash at any moment; it
 * waits for a running checkpoint, and with fsync=always it syncs the logs
 * of both shards. Moving a slot to the shard that holds it does nothing.
 * For tests and tools; the rebalancer calls the same code. Thread-safe.
 * Returns WARP_OK, WARP_EINVAL (NULL db, slot >= WARP_SLOTS, or shard out
 * of range), WARP_ETOOBIG (the slot's pairs exceed the 4 GiB a WAL record
 * holds), WARP_ENOSPC, WARP_EIO or WARP_ENOMEM; on error the slot has not
 * moved. */
int warp_slot_move(warp_db *db, uint32_t slot, uint32_t shard);

typedef struct warp_wormhole_metrics {
    uint64_t edges;
    double total_strength, max_strength;
    uint64_t reinforcements, pruned;
    uint64_t routes; /* warp_wormhole_route() calls answered */
} warp_wormhole_metrics;

int warp_wormhole_metrics_get(warp_db *db, warp_wormhole_metrics *m);

/* The cheapest route between two slots through the wormhole graph (cost =
 * sum of 1/strength; direct or multi-hop). Writes up to `max` slots of the
 * path (from first, to last) into `path`, its length into *len and its
 * cost into *cost. Returns WARP_OK, WARP_NOTFOUND (no path), WARP_EINVAL. */
int warp_wormhole_route(warp_db *db, uint32_t from, uint32_t to, uint32_t *path,
                        size_t max, size_t *len, double *cost);

typedef struct warp_edge {
    uint32_t slot;
    double strength;
} warp_edge;

typedef struct warp_explain_info {
    uint32_t shard, slot;
    char routing_id[64]; /* the bytes the slot was hashed from (cut at 63) */
    size_t routing_id_len;
    warp_class klass; /* from the key's hints, or the default */
    bool exists;
    bool observed; /* it has a temporal weight */
    warp_stage stage;
    double weight;           /* decayed access count, now */
    uint64_t last_access_ms; /* ms since the epoch; 0 if never observed */
    const char *tier;   /* "event_horizon", "photon_sphere" or "deep_cache";
                         * "none" if the key does not exist */
    warp_edge edges[4]; /* its slot's strongest wormholes */
    size_t nedges;
} warp_explain_info;

int warp_explain(warp_db *db, const void *key, size_t klen,
                 warp_explain_info *e);

/* All of the above as one JSON object (cosmic_metrics, entropy_metrics,
 * wormholes, shards, tiers), malloc'd; free with warp_free(). Returns
 * WARP_OK, WARP_EINVAL or WARP_ENOMEM. */
int warp_metrics_json(warp_db *db, char **json);

/* ------------------------------------------------------------------------ */
/* Event-horizon tiers (docs/TIERS.md)                                       */
/* ------------------------------------------------------------------------ */
/*
 * Every value lives in one tier. Gets read every tier (a tiered value is
 * decoded into the caller's buffer, and may be promoted in the
 * background); warp_foreach, dumps and snapshots see raw values. The
 * demoter ("Hawking radiation") moves values down as they cool and under
 * the memory budget (maxmemory); access moves them back up. A put with
 * access_pattern hot is pinned to event_horizon; one with access_pattern
 * cold is compressed as it is written and is not promoted.
 */
typedef enum warp_tier {
    WARP_TIER_EVENT_HORIZON = 0, /* raw in memory */
    WARP_TIER_PHOTON_SPHERE = 1, /* compressed in memory (LZ4) */
    WARP_TIER_DEEP_CACHE = 2,    /* on disk, the key in memory */
} warp_tier;
#define WARP_TIERS 3

/* "event_horizon", "photon_sphere", "deep_cache"; "?" when out of range. */
const char *warp_tier_name(warp_tier t);

typedef struct warp_tier_stats {
    uint64_t items;           /* values in the tier now */
    uint64_t bytes;           /* memory its items take: headers, keys, and the
                               * values as stored (deep_cache: the locators) */
    uint64_t value_bytes;     /* its values' raw bytes */
    uint64_t stored_bytes;    /* its values' bytes as stored: raw, compressed,
                               * or in the deep files */
    uint64_t hits;            /* gets served from it since open. Gets of
                               * event_horizon are not counted (the read path
                               * writes no shared memory): its figure is the
                               * gets physics observed (scaled by its sampling;
                               * 0 with physics off) minus the others' hits */
    uint64_t promotions;      /* values promoted out of it to event_horizon */
    uint64_t demotions;       /* values demoted into it */
    double compression_ratio; /* value_bytes / stored_bytes (1 if empty) */
} warp_tier_stats;

typedef struct warp_tier_metrics {
    warp_tier_stats tiers[WARP_TIERS];
    uint64_t maxmemory;  /* the budget; 0: none */
    uint64_t used_bytes; /* the memory counted against it */
    warp_eviction eviction;
    uint64_t evictions;          /* keys the eviction policy deleted */
    uint64_t budget_failures;    /* writes that failed with WARP_EFULL */
    bool exhausted;              /* the last turn found nothing to demote */
    uint64_t promotions_skipped; /* promotions the budget did not allow */
    uint64_t moves_lost;         /* moves dropped: a write came first */
    uint64_t dict_bytes;         /* the compression dictionary */
    uint64_t deep_files, deep_file_bytes, deep_live_bytes;
    uint64_t deep_reclaimed_files, deep_reclaimed_bytes;
    uint64_t deep_read_errors, deep_write_errors;
} warp_tier_metrics;

/* Fill *m. Each figure is exact (hits of event_horizon aside); they are
 * not read atomically together. Returns WARP_OK or WARP_EINVAL. */
int warp_tier_metrics_get(warp_db *db, warp_tier_metrics *m);

/* ------------------------------------------------------------------------ */
/* Quantum entanglement: related keys fetched together (docs/ENTANGLEMENT.md) */
/* ------------------------------------------------------------------------ */
/*
 * The entanglement graph relates keys by symmetric edges, each with a
 * strength (0 < strength <= WARP_STRENGTH_MAX). An edge comes from one of
 * three sources:
 *   explicit  warp_entangle(); it stays until warp_unentangle().
 *   rule      the entanglement_rules option: user:42 is related to
 *             profile:42, settings:42 and sessions:42, and each of those to
 *             user:42, at WARP_RULE_STRENGTH. Derived when read, never
 *             stored; configure the rules to change them.
 *   learned   with entanglement_learning on: two keys one thread reads one
 *             right after the other (or side by side in a warp_get_batch())
 *             at least 3 times within one physics_update_interval. New at
 *             1.0, x1.1 each interval it is seen again (at most
 *             WARP_STRENGTH_MAX), x0.95 per interval without, and dropped
 *             below 0.1. Single gets teach only while physics observes
 *             every access (physics full, or adaptive at a period of 1);
 *             batch gets teach in any mode but off.
 * Explicit and learned edges are stored in the store itself, as the values
 * of the engine's own keys (`\xff\xfe` 'q' <key>, docs/FORMATS.md), so
 * they go through the WAL and snapshots, recover, and travel with `warp
 * dump` and `warp load`. They count in warp_stats and show in
 * warp_foreach. A key's edges do not depend on its existence: partners
 * need not exist, and deleting a key keeps its edges (warp_unentangle()
 * removes them). Keys that begin with `\xff\xfe` cannot be entangled.
 */
#define WARP_STRENGTH_MAX        10.0 /* the strongest edge */
#define WARP_RULE_STRENGTH       0.8  /* the strength of a rule's edge */
#define WARP_ENTANGLE_MAX        1024 /* partners per warp_entangle() call */
#define WARP_ENTANGLE_EDGES      4096 /* stored edges per key */
#define WARP_QUANTUM_MAX         1024 /* the largest max_entangled */
#define WARP_QUANTUM_MAX_DEFAULT 10   /* upstream's max_entangled */
#define WARP_QUANTUM_MIN_DEFAULT 0.1  /* upstream's min_strength */

/* A key, by address and length. */
typedef struct warp_key {
    const void *key;
    size_t klen;
} warp_key;

/* Entangle `primary` with each of the `n` keys of `keys` at `strength`
 * (0 < strength <= WARP_STRENGTH_MAX), both ways: an explicit edge
 * primary <-> key for each. An explicit edge that exists already takes the
 * new strength. Repeated keys count once. If `id` is not NULL it receives
 * the entanglement id: XXH3-64 of the primary and the sorted, distinct
 * partners, each preceded by its length as 8 little-endian bytes. The same
 * primary and partners give the same id in any order.
 * All or nothing: on error nothing is modified. Thread-safe: entangle and
 * unentangle calls (and the learning of edges) are serialised.
 * Errors: WARP_EINVAL (NULL db, NULL key with a length, keys NULL or n 0,
 * n > WARP_ENTANGLE_MAX, a partner equal to the primary, a key beginning
 * with `\xff\xfe`, a strength that is not a number in (0, 10]),
 * WARP_ETOOBIG (a key longer than max_key_size, more than
 * WARP_ENTANGLE_EDGES edges on one key, or an edge list longer than
 * max_value_size), WARP_ECORRUPT (a stored edge list that does not parse;
 * it is left as it is), WARP_ENOMEM, and the write errors of
 * warp_put_batch() (WARP_EIO, WARP_ENOSPC with a data directory). */
int warp_entangle(warp_db *db, const void *primary, size_t plen,
                  const warp_key *keys, size_t n, double strength,
                  uint64_t *id);

/* Remove the stored edges (explicit and learned) between `primary` and
 * each of the `n` keys of `keys`, both ways; with `keys` NULL (and n 0),
 * every stored edge of `primary`. Rule edges are not stored and stay.
 * Returns WARP_OK if an edge was removed, WARP_NOTFOUND if there was none
 * (nothing changed), or an error as for warp_entangle() (keys not NULL
 * with n 0 is WARP_EINVAL). A key's edge list that becomes empty is
 * deleted. Thread-safe. */
int warp_unentangle(warp_db *db, const void *primary, size_t plen,
                    const warp_key *keys, size_t n);

/* Where a partner's edge came from: bits, one per source merged. */
enum {
    WARP_EDGE_EXPLICIT = 1,
    WARP_EDGE_RULE = 2,
    WARP_EDGE_LEARNED = 4,
};

/* One partner in a quantum get's result. */
typedef struct warp_quantum_partner {
    const void *key; /* its bytes, NUL-terminated */
    size_t klen;
    int rc;          /* WARP_OK (found) or WARP_NOTFOUND */
    const void *val; /* its value, NUL-terminated; NULL if not found */
    size_t vlen;
    double strength;  /* the strongest of its edges to the key, now */
    unsigned sources; /* WARP_EDGE_* of the edges to it */
} warp_quantum_partner;

/* What warp_quantum_get() found. One block of memory: free it with
 * warp_quantum_free(); every pointer in it is valid until then. */
typedef struct warp_quantum_result {
    const void *value; /* the key's value, NUL-terminated */
    size_t vlen;
    warp_quantum_partner *partners; /* strongest first */
    size_t npartners;               /* partners requested */
    size_t found;                   /* of those, found */
    double efficiency;              /* found / npartners; 1.0 if none */
} warp_quantum_result;

/* Read `key` and its entangled partners in one call: the partners are its
 * edges (explicit, rule and learned) of strength >= min_strength, the
 * strongest first (ties in the order of the rules, then of the stored
 * list), at most max_entangled of them (0 .. WARP_QUANTUM_MAX; upstream's
 * defaults are WARP_QUANTUM_MAX_DEFAULT and WARP_QUANTUM_MIN_DEFAULT). The
 * key, its edge list and its rule partners are looked up together through
 * the prefetching pipeline of warp_get_batch(), then any other partners in
 * a second such pass; co-location puts rule partners in the key's slot.
 * Physics counts the call as one batch get.
 * On WARP_OK *out receives the result (free it with warp_quantum_free());
 * otherwise *out is NULL. A stored edge list that does not parse is
 * ignored (its rule partners are still returned).
 * Errors: WARP_NOTFOUND (the key does not exist), WARP_EINVAL (NULL db or
 * out, NULL key with a length, max_entangled > WARP_QUANTUM_MAX,
 * min_strength negative or not a number), WARP_ETOOBIG (key longer than
 * max_key_size), WARP_ENOMEM. Never blocks on writers. Like warp_get_alloc(),
 * the result is malloc'd, not from warp_options.allocator. */
int warp_quantum_get(warp_db *db, const void *key, size_t klen,
                     size_t max_entangled, double min_strength,
                     warp_quantum_result **out);

/* Free a result of warp_quantum_get(). NULL is accepted. */
void warp_quantum_free(warp_quantum_result *r);

/* What the entanglement graph has done since the store opened. */
typedef struct warp_entanglement_metrics {
    uint64_t entangled;          /* explicit edges set by warp_entangle() */
    uint64_t unentangled;        /* edges removed by warp_unentangle() */
    uint64_t records_written;    /* edge lists written (put or deleted) */
    uint64_t pairs_seen;         /* co-access pairs counted by physics */
    uint64_t pairs_dropped;      /* not counted: the round's table was full */
    uint64_t learned_created;    /* learned edges made */
    uint64_t learned_reinforced; /* learned edges strengthened */
    uint64_t learned_pruned;     /* learned edges decayed below 0.1, removed */
    uint64_t learned_tracked;    /* learned edges physics watches to prune */
} warp_entanglement_metrics;

/* Returns WARP_OK, or WARP_EINVAL for NULL arguments. */
int warp_entanglement_metrics_get(warp_db *db, warp_entanglement_metrics *m);

/* ------------------------------------------------------------------------ */
/* Time series (docs/SERIES.md)                                              */
/* ------------------------------------------------------------------------ */
/*
 * A series is a named sequence of samples: a timestamp in milliseconds
 * (any int64; by convention Unix time) and a double. Names are byte
 * strings like keys (any bytes, the empty name too), at most
 * max_key_size - 12 bytes. A series exists from its first add (or
 * warp_ts_set_retention()) until warp_ts_delete(); reads of a series that
 * does not exist return WARP_NOTFOUND.
 *
 * Each timestamp holds at most one sample: adding at a timestamp the
 * series holds replaces its value. Samples may arrive in any order. With
 * a retention R > 0, only samples with ts >= latest - R are kept, where
 * latest is the greatest timestamp ever added; older ones are dropped.
 *
 * The samples live in chunks of up to 64 under the engine's own keys,
 * written through the WAL like any pair, so series survive restarts,
 * checkpoints, and `warp dump`/`warp load` (docs/FORMATS.md, "Time
 * series records"). Don't put or delete those keys (they begin with the bytes
 * 0xff 0xfe) yourself while the store is open, except by loading a dump
 * into a store before its first time-series call.
 *
 * THREADS: every function may be called from any number of threads. The
 * calls on one series are linearizable; adds to different series run in
 * parallel. A read waits for an add of the same series in progress.
 *
 * ERRORS, for every function below that takes a series: WARP_EINVAL (NULL
 * db, NULL name with slen > 0, a NULL out-pointer, or as stated),
 * WARP_ETOOBIG (name too long), WARP_ENOMEM, WARP_ECORRUPT (a record of
 * the series is missing or not in a format this version reads), and for
 * writes the errors of warp_put() (WARP_ENOSPC, WARP_EIO, ...). On error
 * no sample and no retention has changed, except as warp_ts_delete()
 * says. Reads may write: the first access to a series after open finishes
 * what a crash interrupted (docs/FORMATS.md, "Time series records").
 */

/* One sample. */
typedef struct warp_ts_sample {
    int64_t ts; /* ms */
    double value;
} warp_ts_sample;

/* Add sample (ts, value) to `series`, creating the series if needed. A
 * sample at the same timestamp is replaced. Out-of-order timestamps are
 * fine. Returns WARP_OK, or WARP_EINVAL for a NaN value, or for a
 * timestamp the series' retention has already dropped (ts < latest - R);
 * nothing is stored then. Costs about 0.3 us in memory, 0.5 us with a
 * WAL (one chunk of at most 1 KiB rewritten; docs/SERIES.md). */
int warp_ts_add(warp_db *db, const void *series, size_t slen, int64_t ts,
                double value);

/* The sample with the greatest timestamp into *out. Returns WARP_OK, or
 * WARP_NOTFOUND if the series does not exist or holds no sample. */
int warp_ts_last(warp_db *db, const void *series, size_t slen,
                 warp_ts_sample *out);

/* The value at exactly `ts` into *value. Returns WARP_OK, or
 * WARP_NOTFOUND if the series does not exist or holds no sample at ts. */
int warp_ts_get(warp_db *db, const void *series, size_t slen, int64_t ts,
                double *value);

/* The samples with from <= ts <= to, in time order: up to `cap` of them
 * into out[0..*n). If *n == cap there may be more: call again with from =
 * out[cap-1].ts + 1. Each call sees the series at one moment; successive
 * pages may see adds made in between. from > to gives *n = 0. `out` may be
 * NULL when cap is 0. Returns WARP_OK (*n = 0 for no sample), or
 * WARP_NOTFOUND (no such series; *n = 0). */
int warp_ts_range(warp_db *db, const void *series, size_t slen, int64_t from,
                  int64_t to, warp_ts_sample *out, size_t cap, size_t *n);

/* Aggregates of warp_ts_aggregate(). avg is sum / count. */
typedef enum warp_ts_agg {
    WARP_TS_COUNT = 0,
    WARP_TS_SUM = 1,
    WARP_TS_AVG = 2,
    WARP_TS_MIN = 3,
    WARP_TS_MAX = 4,
} warp_ts_agg;

/* "count", "sum", "avg", "min", "max"; "?" when out of range. */
const char *warp_ts_agg_name(warp_ts_agg a);
/* Parse those names. Returns WARP_OK or WARP_EINVAL (*out unchanged). */
int warp_ts_agg_parse(const char *s, warp_ts_agg *out);

/* Aggregate `agg` of the samples with from <= ts <= to.
 * bucket_ms = 0: one result, {from, aggregate}, if the range holds any
 * sample. bucket_ms > 0: one result per bucket of bucket_ms that holds a
 * sample, in time order, {bucket start, aggregate of its samples in the
 * range}. Buckets are aligned to 0 (RedisTimeSeries' default): a bucket
 * starts at a multiple of bucket_ms, so the first one may start before
 * `from`. Empty buckets are omitted: no result means no sample (a count
 * of 0). Up to `cap` results go to out[0..*n); if *n == cap there may be
 * more: call again with from = out[cap-1].ts + bucket_ms. Sums are added
 * in a different order than sample by sample, so sum and avg may differ
 * from a naive sum in the last bits. Returns WARP_OK, WARP_NOTFOUND (no
 * such series), or WARP_EINVAL (bucket_ms < 0, agg out of range). */
int warp_ts_aggregate(warp_db *db, const void *series, size_t slen,
                      int64_t from, int64_t to, warp_ts_agg agg,
                      int64_t bucket_ms, warp_ts_sample *out, size_t cap,
                      size_t *n);

/* Keep only the samples with ts >= latest - retention_ms from now on (0:
 * keep every sample, the default). Creates an empty series if there is
 * none. Samples outside the new window go at once; a longer retention
 * does not bring dropped samples back. Returns WARP_OK or WARP_EINVAL
 * (retention_ms < 0). */
int warp_ts_set_retention(warp_db *db, const void *series, size_t slen,
                          int64_t retention_ms);

/* Delete the series and all its samples. Returns WARP_OK or
 * WARP_NOTFOUND (no such series). A crash during the call, or an error
 * after its first write, may leave the series existing with no sample
 * (and its retention); calling it again deletes that. */
int warp_ts_delete(warp_db *db, const void *series, size_t slen);

/* The lifecycle stage of a sample at `ts` at time `now_ms`, from its age
 * now_ms - ts with upstream's thresholds: live < 1 h <= recent < 48 h <=
 * historical < 30 d <= deep_time. A sample from the future is live. */
warp_stage warp_ts_stage(int64_t ts, int64_t now_ms);

/* The wall clock in Unix ms (CLOCK_REALTIME), for `now_ms` and for
 * timestamps. */
int64_t warp_ts_now(void);

/* What a series holds. */
typedef struct warp_ts_info {
    uint64_t samples;      /* visible samples */
    int64_t first_ts;      /* the oldest visible sample's; 0 if none */
    int64_t last_ts;       /* the latest sample's; 0 if none */
    int64_t retention_ms;  /* 0: forever */
    uint64_t chunks;       /* chunk records */
    uint64_t record_bytes; /* key + value bytes of its records */
    uint64_t index_bytes;  /* its in-memory index */
    uint64_t memory_bytes; /* record_bytes + index_bytes */
    uint64_t stage_samples[WARP_STAGES]; /* samples per stage at now_ms */
} warp_ts_info;

/* Fill *info for `series`, with stages as of `now_ms` (warp_ts_now() for
 * the wall clock). Returns WARP_OK or WARP_NOTFOUND (no such series;
 * *info zeroed). */
int warp_ts_info_get(warp_db *db, const void *series, size_t slen,
                     int64_t now_ms, warp_ts_info *info);

#ifdef __cplusplus
}
#endif

#endif /* WARP_H */
