/*
 * test-migrate.c - warp_slot_move(): a slot moves to another shard with
 * every key readable and exact, the counters follow it, and with a data
 * directory the move survives close and reopen, checkpoints, fsync=always,
 * a lost image, and files written before slot moves existed.
 *
 * Mostly black-box (include/warp.h); the tests that cut an image out of a
 * WAL or rewrite files in the old formats know the byte layouts of
 * docs/FORMATS.md and use the engine's checksums (white-box: src/).
 */
#include "testutil.h"

#include "durability.h"

#include <stdatomic.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "crc32c.h"
#include "io.h"

#define SHARDS 4

/* ------------------------------------------------------------------------ */
/* A model of the store: key i is "mig:<i>", version 0 means absent          */
/* ------------------------------------------------------------------------ */

typedef struct model {
    uint32_t n;
    uint32_t *version;
} model;

/* Mostly small values, some above the slab's 4 KiB (large items). */
static size_t len_of(uint32_t i, uint32_t v)
{
    uint32_t h = i * 2654435761u ^ v * 40503u;

    return h % 41 == 0 ? 4200 + h % 3000 : h % 300;
}

static uint64_t seed_of(uint32_t i, uint32_t v)
{
    return (uint64_t)i << 32 | v;
}

static model model_new(uint32_t n)
{
    model m = {.n = n, .version = calloc(n, sizeof(uint32_t))};

    assert_non_null(m.version);
    return m;
}

static size_t key_of(char *buf, size_t cap, uint32_t i)
{
    return format_key(buf, cap, "mig", i);
}

static void model_put(warp_db *db, model *m, uint32_t i)
{
    char key[64];
    size_t klen = key_of(key, sizeof(key), i);
    uint32_t v = ++m->version[i];
    uint8_t *val = make_value(len_of(i, v), seed_of(i, v));

    assert_ok(warp_put(db, key, klen, val, len_of(i, v), NULL, NULL));
    free(val);
}

static void model_delete(warp_db *db, model *m, uint32_t i)
{
    char key[64];
    size_t klen = key_of(key, sizeof(key), i);

    assert_rc(warp_delete(db, key, klen),
              m->version[i] ? WARP_OK : WARP_NOTFOUND);
    m->version[i] = 0;
}

/* A random mix of puts (most) and deletes over the model's keys. */
static void model_churn(warp_db *db, model *m, uint32_t ops, uint64_t *rng)
{
    for (uint32_t k = 0; k < ops; k++) {
        uint32_t i = (uint32_t)(next_rand(rng) % m->n);
        if (next_rand(rng) % 6 == 0)
            model_delete(db, m, i);
        else
            model_put(db, m, i);
    }
}

static uint32_t key_slot(warp_db *db, uint32_t i)
{
    char key[64];
    size_t klen = key_of(key, sizeof(key), i);
    warp_placement p;

    assert_ok(warp_locate(db, key, klen, &p));
    return p.slot;
}

/* Every key holds exactly its model value, or is absent; the store's and
 * every shard's counters are what the model and the slot table say. */
static void model_verify(warp_db *db, const model *m)
{
    uint64_t keys = 0, kb = 0, vb = 0;
    uint64_t skeys[SHARDS] = {0}, skb[SHARDS] = {0}, svb[SHARDS] = {0};
    uint32_t nshards = warp_shard_count(db);

    assert_true(nshards <= SHARDS);
    for (uint32_t i = 0; i < m->n; i++) {
        char key[64];
        size_t klen = key_of(key, sizeof(key), i);
        uint32_t v = m->version[i];
        warp_placement p;

        if (!v) {
            assert_get_notfound(db, key, klen);
            continue;
        }
        uint8_t *val = make_value(len_of(i, v), seed_of(i, v));
        assert_get_equals(db, key, klen, val, len_of(i, v));
        free(val);
        assert_ok(warp_locate(db, key, klen, &p));
        keys++;
        kb += klen;
        vb += len_of(i, v);
        skeys[p.shard]++;
        skb[p.shard] += klen;
        svb[p.shard] += len_of(i, v);
    }
    assert_counts(db, keys, kb, vb);
    uint32_t slots = 0;
    for (uint32_t s = 0; s < nshards; s++) {
        warp_shard_stats st;
        assert_ok(warp_shard_stats_get(db, s, &st));
        assert_int_equal(st.keys, skeys[s]);
        assert_int_equal(st.key_bytes, skb[s]);
        assert_int_equal(st.value_bytes, svb[s]);
        slots += st.slots;
    }
    assert_int_equal(slots, WARP_SLOTS);
}

/* ------------------------------------------------------------------------ */
/* Slot ownership, read through one probe key per slot                       */
/* ------------------------------------------------------------------------ */

static uint32_t probe[WARP_SLOTS]; /* probe[s]: "probe:<n>" is in slot s */

static void find_probes(warp_db *db)
{
    static bool done;
    uint32_t left = WARP_SLOTS;

    if (done)
        return;
    memset(probe, 0xff, sizeof(probe));
    for (uint32_t n = 0; left; n++) {
        char key[64];
        size_t klen = format_key(key, sizeof(key), "probe", n);
        warp_placement p;
        assert_ok(warp_locate(db, key, klen, &p));
        if (probe[p.slot] == UINT32_MAX) {
            probe[p.slot] = n;
            left--;
        }
    }
    done = true;
}

/* owners[s]: the shard slot s maps to now. */
static void slot_owners(warp_db *db, uint16_t *owners)
{
    find_probes(db);
    for (uint32_t s = 0; s < WARP_SLOTS; s++) {
        char key[64];
        size_t klen = format_key(key, sizeof(key), "probe", probe[s]);
        warp_placement p;
        assert_ok(warp_locate(db, key, klen, &p));
        assert_int_equal(p.slot, s);
        owners[s] = (uint16_t)p.shard;
    }
}

static void assert_same_owners(warp_db *db, const uint16_t *want)
{
    uint16_t *got = malloc(WARP_SLOTS * sizeof(*got));

    assert_non_null(got);
    slot_owners(db, got);
    for (uint32_t s = 0; s < WARP_SLOTS; s++)
        if (got[s] != want[s]) {
            print_error("slot %u is on shard %u, expected %u\n", s, got[s],
                        want[s]);
            fail();
        }
    free(got);
}

static uint32_t owner_of(warp_db *db, uint32_t slot)
{
    char key[64];
    size_t klen;
    warp_placement p;

    find_probes(db);
    klen = format_key(key, sizeof(key), "probe", probe[slot]);
    assert_ok(warp_locate(db, key, klen, &p));
    assert_int_equal(p.slot, slot);
    return p.shard;
}

/* Move `moves` random slots holding model keys to random other shards. */
static void move_random(warp_db *db, const model *m, uint32_t moves,
                        uint64_t *rng)
{
    for (uint32_t k = 0; k < moves; k++) {
        uint32_t slot = key_slot(db, (uint32_t)(next_rand(rng) % m->n));
        uint32_t from = owner_of(db, slot);
        uint32_t to =
            (from + 1 + (uint32_t)(next_rand(rng) % (SHARDS - 1))) % SHARDS;
        assert_ok(warp_slot_move(db, slot, to));
        assert_int_equal(owner_of(db, slot), to);
    }
}

/* ------------------------------------------------------------------------ */
/* In memory                                                                 */
/* ------------------------------------------------------------------------ */

static void a_moved_slot_keeps_its_keys_and_its_counts_go_with_it(void **state)
{
    warp_db *db = own_store_with_shards(state, SHARDS);
    model m = model_new(20000);
    uint64_t rng = 1;
    warp_stats before, after;

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    before = stats_of(db);
    /* slot of key 0, moved around every shard and back */
    uint32_t slot = key_slot(db, 0), home = owner_of(db, slot);
    for (uint32_t k = 1; k <= SHARDS; k++) {
        uint32_t to = (home + k) % SHARDS;
        warp_shard_stats from_st, to_st, from_after, to_after;
        uint32_t from = owner_of(db, slot);
        if (to != from) {
            assert_ok(warp_shard_stats_get(db, from, &from_st));
            assert_ok(warp_shard_stats_get(db, to, &to_st));
        }
        assert_ok(warp_slot_move(db, slot, to));
        assert_int_equal(owner_of(db, slot), to);
        if (to != from) {
            assert_ok(warp_shard_stats_get(db, from, &from_after));
            assert_ok(warp_shard_stats_get(db, to, &to_after));
            assert_int_equal(from_after.slots, from_st.slots - 1);
            assert_int_equal(to_after.slots, to_st.slots + 1);
            assert_true(from_after.keys < from_st.keys);
            assert_int_equal(to_after.keys - to_st.keys,
                             from_st.keys - from_after.keys);
        }
        model_verify(db, &m);
    }
    move_random(db, &m, 300, &rng);
    model_verify(db, &m);
    after = stats_of(db);
    /* no write happened: the same keys and the same memory, counted on
     * other shards */
    assert_int_equal(after.keys, before.keys);
    assert_int_equal(after.memory_bytes, before.memory_bytes);
    /* and the slots work as before: overwrite, delete, grow */
    model_churn(db, &m, 30000, &rng);
    model_verify(db, &m);
    free(m.version);
}

static void moving_a_slot_to_the_shard_that_owns_it_does_nothing(void **state)
{
    warp_db *db = own_store_with_shards(state, SHARDS);
    model m = model_new(1000);

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    uint32_t slot = key_slot(db, 7), home = owner_of(db, slot);
    warp_stats before = stats_of(db);
    assert_ok(warp_slot_move(db, slot, home));
    assert_int_equal(owner_of(db, slot), home);
    assert_int_equal(stats_of(db).memory_bytes, before.memory_bytes);
    model_verify(db, &m);
    free(m.version);
}

static void a_bad_slot_or_shard_is_einval_and_moves_nothing(void **state)
{
    warp_db *db = own_store_with_shards(state, SHARDS);
    uint16_t *owners = malloc(WARP_SLOTS * sizeof(*owners));

    assert_non_null(owners);
    put_str(db, "k", "v");
    slot_owners(db, owners);
    assert_rc(warp_slot_move(NULL, 0, 0), WARP_EINVAL);
    assert_rc(warp_slot_move(db, WARP_SLOTS, 0), WARP_EINVAL);
    assert_rc(warp_slot_move(db, UINT32_MAX, 1), WARP_EINVAL);
    assert_rc(warp_slot_move(db, 0, SHARDS), WARP_EINVAL);
    assert_rc(warp_slot_move(db, 0, UINT32_MAX), WARP_EINVAL);
    assert_same_owners(db, owners);
    assert_get_str(db, "k", "v");
    free(owners);
}

static void writes_after_a_move_go_to_the_new_shard(void **state)
{
    warp_db *db = own_store_with_shards(state, SHARDS);
    model m = model_new(3000);
    warp_placement p;
    char key[64];
    size_t klen = key_of(key, sizeof(key), 5);

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    uint32_t slot = key_slot(db, 5), to = (owner_of(db, slot) + 2) % SHARDS;
    assert_ok(warp_slot_move(db, slot, to));
    assert_ok(warp_put(db, key, klen, "new", 3, NULL, &p));
    assert_int_equal(p.shard, to);
    assert_int_equal(p.slot, slot);
    m.version[5] = 0; /* the model's value is gone; check by hand */
    assert_get_equals(db, key, klen, "new", 3);
    assert_ok(warp_delete(db, key, klen));
    model_verify(db, &m);
    for (uint32_t i = 0; i < m.n; i++)
        if (key_slot(db, i) == slot)
            model_put(db, &m, i);
    model_verify(db, &m);
    free(m.version);
}

/* ------------------------------------------------------------------------ */
/* On disk                                                                   */
/* ------------------------------------------------------------------------ */

static uint16_t *owners_now(warp_db *db)
{
    uint16_t *o = malloc(WARP_SLOTS * sizeof(*o));

    assert_non_null(o);
    slot_owners(db, o);
    return o;
}

/* Close, reopen, and find the same pairs, counters and slot table. */
static warp_db *reopen_same(warp_db *db, const char *path,
                            const warp_options *o, const model *m)
{
    uint16_t *owners = owners_now(db);
    warp_check_report r;

    warp_close(db);
    assert_ok(warp_check(path, &r));
    db = open_disk(path, o);
    model_verify(db, m);
    assert_same_owners(db, owners);
    free(owners);
    return db;
}

static void moves_survive_reopen_with_contents_and_ownership(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(SHARDS, WARP_FSYNC_EVERYSEC);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new(5000);
    uint64_t rng = 2;

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    move_random(db, &m, 100, &rng);
    model_churn(db, &m, 5000, &rng);
    /* one slot back and forth, ending where it started */
    uint32_t slot = key_slot(db, 1), home = owner_of(db, slot);
    for (uint32_t k = 0; k < 5; k++) {
        assert_ok(warp_slot_move(db, slot, (home + 1) % SHARDS));
        model_put(db, &m, 1);
        assert_ok(warp_slot_move(db, slot, home));
        model_put(db, &m, 1);
    }
    model_verify(db, &m);
    db = reopen_same(db, d->db, &o, &m);
    /* the generations go on from where they were */
    move_random(db, &m, 50, &rng);
    model_churn(db, &m, 3000, &rng);
    db = reopen_same(db, d->db, &o, &m);
    warp_close(db);
    free(m.version);
}

static void move_checkpoint_write_reopen_keeps_everything(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(SHARDS, WARP_FSYNC_EVERYSEC);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new(5000);
    uint64_t rng = 3;

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    move_random(db, &m, 80, &rng);
    assert_ok(warp_checkpoint(db));
    model_churn(db, &m, 4000, &rng);
    move_random(db, &m, 80, &rng); /* some move again after the snapshot */
    model_churn(db, &m, 2000, &rng);
    db = reopen_same(db, d->db, &o, &m);
    assert_ok(warp_checkpoint(db)); /* a snapshot of a recovered store */
    db = reopen_same(db, d->db, &o, &m);
    move_random(db, &m, 40, &rng);
    assert_ok(warp_checkpoint(db));
    assert_ok(warp_checkpoint(db));
    db = reopen_same(db, d->db, &o, &m);
    warp_close(db);
    free(m.version);
}

static void moves_with_fsync_always_survive_reopen(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(SHARDS, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new(1500);
    uint64_t rng = 4;

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    move_random(db, &m, 40, &rng);
    model_churn(db, &m, 1500, &rng);
    assert_ok(warp_checkpoint(db));
    move_random(db, &m, 40, &rng);
    model_churn(db, &m, 500, &rng);
    model_verify(db, &m);
    db = reopen_same(db, d->db, &o, &m);
    warp_close(db);
    free(m.version);
}

static void moves_with_fsync_never_survive_checkpoint_and_reopen(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(SHARDS, WARP_FSYNC_NEVER);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new(3000);
    uint64_t rng = 7;

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    move_random(db, &m, 60, &rng);
    model_churn(db, &m, 3000, &rng); /* segments switch behind the images */
    assert_ok(warp_checkpoint(db));
    move_random(db, &m, 20, &rng);
    db = reopen_same(db, d->db, &o, &m);
    warp_close(db);
    free(m.version);
}

static void
a_slot_moved_around_across_checkpoints_ends_where_it_went(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(SHARDS, WARP_FSYNC_EVERYSEC);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new(2000);

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    uint32_t slot = key_slot(db, 11), home = owner_of(db, slot);
    /* every shard in turn, back home at the end; a checkpoint after some
     * moves and before others, a reopen after each */
    for (uint32_t k = 1; k <= 2 * SHARDS; k++) {
        uint32_t to = (home + k) % SHARDS;
        assert_ok(warp_slot_move(db, slot, to));
        model_put(db, &m, 11);
        if (k % 3 == 0)
            assert_ok(warp_checkpoint(db));
        if (k % 2 == 0)
            model_delete(db, &m, 11);
        db = reopen_same(db, d->db, &o, &m);
        assert_int_equal(owner_of(db, slot), to);
    }
    assert_int_equal(owner_of(db, slot), home);
    warp_close(db);
    free(m.version);
}

static void an_empty_slot_keeps_its_new_shard_across_checkpoints(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(SHARDS, WARP_FSYNC_EVERYSEC);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new(1);
    uint32_t slot, to;

    slot = key_slot(db, 0);
    to = (owner_of(db, slot) + 1) % SHARDS;
    assert_ok(warp_slot_move(db, slot, to));
    assert_ok(warp_checkpoint(db)); /* the WAL with its image goes */
    db = reopen_same(db, d->db, &o, &m);
    assert_int_equal(owner_of(db, slot), to);
    model_put(db, &m, 0); /* logged on the new shard, after its snapshot */
    db = reopen_same(db, d->db, &o, &m);
    assert_int_equal(owner_of(db, slot), to);
    warp_close(db);
    free(m.version);
}

static void a_slot_larger_than_a_wal_segment_moves(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(SHARDS, WARP_FSYNC_EVERYSEC);
    warp_db *db = open_disk(d->db, &o);
    uint32_t n = 3000, slot = 0;
    warp_placement p;
    char key[64];

    /* one hash tag: one slot, ~0.5 MiB against 64 KiB segments */
    for (uint32_t i = 0; i < n; i++) {
        size_t klen = format_key(key, sizeof(key), "{big}", i);
        uint8_t *v = make_value(160, i);
        assert_ok(warp_put(db, key, klen, v, 160, NULL, &p));
        slot = p.slot;
        free(v);
    }
    uint32_t to = (p.shard + 1) % SHARDS;
    assert_ok(warp_slot_move(db, slot, to));
    warp_close(db);
    db = open_disk(d->db, &o);
    assert_int_equal(owner_of(db, slot), to);
    for (uint32_t i = 0; i < n; i++) {
        size_t klen = format_key(key, sizeof(key), "{big}", i);
        uint8_t *v = make_value(160, i);
        assert_get_equals(db, key, klen, v, 160);
        free(v);
    }
    warp_shard_stats st;
    assert_ok(warp_shard_stats_get(db, to, &st));
    assert_int_equal(st.keys, n);
    warp_close(db);
}

/* ------------------------------------------------------------------------ */
/* White-box: the files themselves                                           */
/* ------------------------------------------------------------------------ */

#define WAL_HEADER  64
#define REC_HEADER  28
#define OP_IMAGE    3
#define SNAP_HEADER 64

static uint32_t rd32le(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The offset of the first SLOT_IMAGE record of WAL file `path` (with
 * `followed`, the first that another record follows), or 0. */
static uint64_t find_image(const char *path, bool followed)
{
    size_t len;
    uint8_t *m = read_whole(path, &len);
    uint64_t o = WAL_HEADER, at = 0;

    while (o + REC_HEADER <= len) {
        uint32_t rl = rd32le(m + o);
        if (rl < REC_HEADER)
            break;
        uint64_t next = o + ((rl + 7) & ~7u);
        if (m[o + 24] == OP_IMAGE &&
            (!followed || (next + 4 <= len && rd32le(m + next)))) {
            at = o;
            break;
        }
        o = next;
    }
    free(m);
    return at;
}

static void a_lost_image_leaves_the_slot_on_its_old_shard(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(SHARDS, WARP_FSYNC_EVERYSEC);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new(2000);
    char **segs;
    size_t n;

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    uint32_t slot = key_slot(db, 9), home = owner_of(db, slot);
    uint32_t to = (home + 1) % SHARDS;
    assert_ok(warp_slot_move(db, slot, to));
    warp_close(db);
    /* the crash came while the image was being written: cut it off the
     * destination's log (it is its last record) */
    char prefix[16];
    snprintf(prefix, sizeof(prefix), "%05u-", to);
    segs = wal_files(d->db, &n);
    uint64_t at = 0;
    size_t which = 0;
    for (size_t i = 0; i < n && !at; i++)
        if (strncmp(base_name(segs[i]), prefix, 6) == 0 &&
            (at = find_image(segs[i], false)))
            which = i;
    assert_true(at > 0);
    size_t len;
    free(read_whole(segs[which], &len));
    fill_bytes(segs[which], at + 8, len - at - 8, 0xAB); /* torn */
    free_names(segs);
    db = open_disk(d->db, &o);
    assert_true(recovery_of(db).torn_bytes > 0);
    assert_int_equal(owner_of(db, slot), home);
    model_verify(db, &m);
    /* and it moves again, to a new image of the same generation */
    assert_ok(warp_slot_move(db, slot, to));
    model_put(db, &m, 9);
    db = reopen_same(db, d->db, &o, &m);
    assert_int_equal(owner_of(db, slot), to);
    warp_close(db);
    free(m.version);
}

/* Rewrite the store's files as the engine wrote them before slot moves:
 * WAL segment headers of version 1, snapshots of version 1 (no slot
 * generations block). */
static void downgrade_files(const char *db)
{
    char **v;
    size_t n, len;

    v = wal_files(db, &n);
    for (size_t i = 0; i < n; i++) {
        uint8_t *m = read_whole(v[i], &len);
        uint32_t one = 1, crc;
        memcpy(m + 8, &one, 4);
        crc = crc32c(m, 60);
        memcpy(m + 60, &crc, 4);
        write_whole(v[i], m, len);
        free(m);
    }
    free_names(v);
    v = snapshot_files(db, &n);
    for (size_t i = 0; i < n; i++) {
        uint8_t *m = read_whole(v[i], &len);
        uint32_t one = 1, gl, sum;
        assert_memory_equal(m + SNAP_HEADER, "GEN1", 4);
        memcpy(&gl, m + SNAP_HEADER + 4, 4);
        assert_int_equal(gl, 0); /* nothing moved: nothing lost */
        memmove(m + SNAP_HEADER, m + SNAP_HEADER + 16, len - SNAP_HEADER - 16);
        memcpy(m + 8, &one, 4);
        sum = (uint32_t)XXH3_64bits(m, 60);
        memcpy(m + 60, &sum, 4);
        write_whole(v[i], m, len - 16);
        free(m);
    }
    free_names(v);
}

static void files_written_before_slot_moves_still_open(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(SHARDS, WARP_FSYNC_EVERYSEC);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new(3000);
    uint64_t rng = 5;
    warp_check_report r;

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    assert_ok(warp_checkpoint(db));
    model_churn(db, &m, 2000, &rng);
    warp_close(db);
    downgrade_files(d->db);
    assert_ok(warp_check(d->db, &r));
    db = open_disk(d->db, &o);
    model_verify(db, &m);
    /* and such a store can move slots from there */
    move_random(db, &m, 30, &rng);
    db = reopen_same(db, d->db, &o, &m);
    warp_close(db);
    free(m.version);
}

static void warp_check_reads_images_and_generations(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(SHARDS, WARP_FSYNC_EVERYSEC);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new(2000);
    uint64_t rng = 6;
    warp_check_report r;

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    move_random(db, &m, 20, &rng);
    assert_ok(warp_checkpoint(db)); /* snapshots with generations */
    move_random(db, &m, 20, &rng);  /* images in the WAL */
    model_churn(db, &m, 2000, &rng);
    warp_close(db);
    assert_ok(warp_check(d->db, &r));
    assert_int_equal(r.damaged, 0);
    assert_true(r.snapshot_records > 0);
    assert_true(r.wal_records >= 20);
    /* a flipped bit inside an image is damage */
    char **segs;
    size_t n;
    uint64_t at = 0;
    segs = wal_files(d->db, &n);
    for (size_t i = 0; i < n && !at; i++)
        if ((at = find_image(segs[i], true)))
            flip_bit(segs[i], at + REC_HEADER + 20, 3);
    free_names(segs);
    assert_true(at > 0);
    assert_rc(warp_check(d->db, &r), WARP_ECORRUPT);
    free(m.version);
}

/* ------------------------------------------------------------------------ */
/* I/O errors: a move that cannot be logged moves nothing                    */
/* ------------------------------------------------------------------------ */

static _Atomic int fail_syncs, fail_fallocates; /* calls left to fail */
static io_ops faulty;

static bool take_fault(_Atomic int *left)
{
    int n = atomic_load(left);

    while (n > 0 && !atomic_compare_exchange_weak(left, &n, n - 1))
        ;
    return n > 0;
}

static int f_fdatasync(int fd)
{
    if (take_fault(&fail_syncs))
        return errno = EIO, -1;
    return io_system.fdatasync(fd);
}

static int f_syncfs(int fd)
{
    if (take_fault(&fail_syncs))
        return errno = EIO, -1;
    return io_system.syncfs(fd);
}

static int f_fallocate(int fd, off_t off, off_t len)
{
    if (take_fault(&fail_fallocates))
        return errno = ENOSPC, -1;
    return io_system.fallocate(fd, off, len);
}

static int use_faulty_io(void **state)
{
    faulty = io_system;
    faulty.fdatasync = f_fdatasync;
    faulty.syncfs = f_syncfs;
    faulty.fallocate = f_fallocate;
    atomic_store(&fail_syncs, 0);
    atomic_store(&fail_fallocates, 0);
    io_set_ops(&faulty);
    return setup_test_dir(state);
}

static int use_system_io(void **state)
{
    io_set_ops(NULL);
    return teardown_test_dir(state);
}

#define FAULT_TEST(f)                                                          \
    cmocka_unit_test_setup_teardown(f, use_faulty_io, use_system_io)

static void a_move_without_room_for_its_image_moves_nothing(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(SHARDS, WARP_FSYNC_EVERYSEC);
    warp_db *db = open_disk(d->db, &o);
    uint32_t n = 1000, slot = 0, home;
    warp_placement p;
    char key[64];

    /* one slot of ~170 KiB: its image needs a segment of its own */
    for (uint32_t i = 0; i < n; i++) {
        size_t klen = format_key(key, sizeof(key), "{full}", i);
        uint8_t *v = make_value(160, i);
        assert_ok(warp_put(db, key, klen, v, 160, NULL, &p));
        free(v);
    }
    slot = p.slot;
    home = p.shard;
    warp_stats before = stats_of(db);
    atomic_store(&fail_fallocates, 1000);
    assert_rc(warp_slot_move(db, slot, (home + 1) % SHARDS), WARP_ENOSPC);
    atomic_store(&fail_fallocates, 0);
    assert_int_equal(owner_of(db, slot), home);
    assert_int_equal(stats_of(db).keys, before.keys);
    warp_shard_stats st;
    assert_ok(warp_shard_stats_get(db, home, &st));
    assert_int_equal(st.keys, n);
    warp_close(db);
    db = open_disk(d->db, &o);
    assert_int_equal(owner_of(db, slot), home);
    assert_int_equal(stats_of(db).keys, n);
    assert_ok(warp_slot_move(db, slot, (home + 1) % SHARDS)); /* room now */
    warp_close(db);
    db = open_disk(d->db, &o);
    assert_int_equal(owner_of(db, slot), (home + 1) % SHARDS);
    for (uint32_t i = 0; i < n; i++) {
        size_t klen = format_key(key, sizeof(key), "{full}", i);
        uint8_t *v = make_value(160, i);
        assert_get_equals(db, key, klen, v, 160);
        free(v);
    }
    warp_close(db);
}

static void a_move_whose_image_sync_fails_moves_nothing(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(SHARDS, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    model m = model_new(400);

    for (uint32_t i = 0; i < m.n; i++)
        model_put(db, &m, i);
    uint32_t slot = key_slot(db, 3), home = owner_of(db, slot);
    atomic_store(&fail_syncs, 1);
    assert_rc(warp_slot_move(db, slot, (home + 1) % SHARDS), WARP_EIO);
    assert_int_equal(atomic_load(&fail_syncs), 0);
    assert_int_equal(owner_of(db, slot), home);
    model_verify(db, &m);
    assert_true(durability_of(db).sync_errors >= 1);
    /* the image was erased with the failed sync: the slot's writes go on
     * in its shard's log, and win on reopen */
    model_put(db, &m, 3);
    db = reopen_same(db, d->db, &o, &m);
    assert_int_equal(owner_of(db, slot), home);
    warp_close(db);
    free(m.version);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        OWN_STORE_TEST(a_moved_slot_keeps_its_keys_and_its_counts_go_with_it),
        OWN_STORE_TEST(moving_a_slot_to_the_shard_that_owns_it_does_nothing),
        OWN_STORE_TEST(a_bad_slot_or_shard_is_einval_and_moves_nothing),
        OWN_STORE_TEST(writes_after_a_move_go_to_the_new_shard),
        DIR_TEST(moves_survive_reopen_with_contents_and_ownership),
        DIR_TEST(move_checkpoint_write_reopen_keeps_everything),
        DIR_TEST(moves_with_fsync_always_survive_reopen),
        DIR_TEST(moves_with_fsync_never_survive_checkpoint_and_reopen),
        DIR_TEST(a_slot_moved_around_across_checkpoints_ends_where_it_went),
        DIR_TEST(an_empty_slot_keeps_its_new_shard_across_checkpoints),
        DIR_TEST(a_slot_larger_than_a_wal_segment_moves),
        DIR_TEST(a_lost_image_leaves_the_slot_on_its_old_shard),
        DIR_TEST(files_written_before_slot_moves_still_open),
        DIR_TEST(warp_check_reads_images_and_generations),
        FAULT_TEST(a_move_without_room_for_its_image_moves_nothing),
        FAULT_TEST(a_move_whose_image_sync_fails_moves_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
