/*
 * test-corruption.c - damaged WAL and snapshot files: torn tails are cut,
 * damage before the tail refuses the open (WARP_ECORRUPT, with
 * warp_open_error() naming the file and offset) unless recovery=salvage,
 * which skips the damage and reports it. Never a crash, never wrong data.
 *
 * The tests write a store, close it, damage its files at random offsets
 * (torn tails, bit flips, garbage, truncation) using the byte layouts at
 * the top of src/wal.c and src/snapshot.c (docs/FORMATS.md), and reopen.
 * Every key is written once with a value derived from its number, so
 * "never wrong data" is checkable: each key is either absent or holds
 * exactly its value. WARP_TEST_SEED replays a run.
 */
#include "testutil.h"

#include "durability.h"

#include "crc32c.h" /* to rewrite segment headers */

/* The WAL layout (src/wal.c) */
#define SEG_HEADER    64
#define REC_HEADER    28
#define HDR_VERSION   8
#define HDR_FLAGS     40
#define PRIOR_DURABLE 1u /* flags: the segments before were on disk */

/* The snapshot layout (src/snapshot.c) */
#define SNAP_HEADER  64
#define BLOCK_HEADER 16
#define SNAP_TRAILER 32

static uint64_t g_rng;

static uint64_t rnd(uint64_t n)
{
    return n ? next_rand(&g_rng) % n : 0;
}

static int setup_seed(void **state)
{
    (void)state;
    g_rng = test_seed("test-corruption");
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Stores with known contents                                                */
/* ------------------------------------------------------------------------ */

static size_t val_len(uint32_t i)
{
    return 40 + (i * 37) % 160;
}

static size_t key_of(char *buf, size_t cap, uint32_t i)
{
    return format_key(buf, cap, "c", i);
}

/* Write keys [from, to) with their values. */
static void write_keys(warp_db *db, uint32_t from, uint32_t to)
{
    char key[32];

    for (uint32_t i = from; i < to; i++) {
        size_t klen = key_of(key, sizeof(key), i);
        uint8_t *v = make_value(val_len(i), i);
        assert_ok(warp_put(db, key, klen, v, val_len(i), NULL, NULL));
        free(v);
    }
}

/* Whether key i holds exactly its value (true), is absent (false); any
 * other value fails the test: that would be wrong data. */
static bool key_state(warp_db *db, uint32_t i)
{
    char key[32];
    size_t klen = key_of(key, sizeof(key), i), vlen = 0;
    void *got = NULL;
    int rc = warp_get_alloc(db, key, klen, &got, &vlen, NULL);

    if (rc == WARP_NOTFOUND)
        return false;
    assert_ok(rc);
    uint8_t *want = make_value(val_len(i), i);
    if (vlen != val_len(i) || memcmp(got, want, vlen) != 0) {
        print_error("key c:%u holds %zu bytes that were never written\n", i,
                    vlen);
        fail();
    }
    free(want);
    warp_free(got);
    return true;
}

/* Assert keys [0, n) are present, except `absent` (UINT32_MAX: none),
 * which must be absent, and that nothing else exists. */
static void expect_keys(warp_db *db, uint32_t n, uint32_t absent)
{
    for (uint32_t i = 0; i < n; i++) {
        bool there = key_state(db, i);
        if (there != (i != absent)) {
            print_error("key c:%u is %s\n", i, there ? "present" : "absent");
            fail();
        }
    }
    assert_int_equal(stats_of(db).keys, n - (absent < n ? 1 : 0));
}

/* Every key that exists holds its exact value; returns how many exist. */
static uint32_t no_wrong_data(warp_db *db, uint32_t n)
{
    uint32_t present = 0;

    for (uint32_t i = 0; i < n; i++)
        present += key_state(db, i);
    assert_int_equal(stats_of(db).keys, present);
    return present;
}

/* A store of one shard in `path` holding keys [0, n), closed. */
static void make_store(const char *path, uint32_t n, bool checkpoint_at_half)
{
    warp_options o = disk_options(1, WARP_FSYNC_NEVER);
    warp_db *db = open_disk(path, &o);

    write_keys(db, 0, checkpoint_at_half ? n / 2 : n);
    if (checkpoint_at_half) {
        assert_ok(warp_checkpoint(db));
        write_keys(db, n / 2, n);
    }
    warp_close(db);
}

static warp_options strict_opts(void)
{
    return disk_options(1, WARP_FSYNC_NEVER);
}

static warp_options salvage_opts(void)
{
    warp_options o = disk_options(1, WARP_FSYNC_NEVER);

    o.recovery = WARP_RECOVERY_SALVAGE;
    return o;
}

/* ------------------------------------------------------------------------ */
/* WAL files                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct rec_pos {
    uint64_t off, len; /* len: header, key and value, without padding */
} rec_pos;

/* The records of a segment file, in order, into v (cap entries). */
static size_t wal_records(const char *path, rec_pos *v, size_t cap)
{
    size_t len, n = 0;
    uint8_t *m = read_whole(path, &len);
    uint64_t o = SEG_HEADER;

    while (o + REC_HEADER <= len) {
        uint32_t rl;
        memcpy(&rl, m + o, 4);
        if (rl == 0)
            break;
        assert_true(rl >= REC_HEADER && o + rl <= len);
        assert_true(n < cap);
        v[n++] = (rec_pos){o, rl};
        o += (rl + 7u) & ~7u;
    }
    free(m);
    return n;
}

/* Rewrite the version and flags of segment file `path`'s header, with its
 * checksum. */
static void set_header(const char *path, uint32_t version, uint32_t flags)
{
    size_t len;
    uint8_t *m = read_whole(path, &len);

    assert_true(len >= SEG_HEADER);
    memcpy(m + HDR_VERSION, &version, 4);
    memcpy(m + HDR_FLAGS, &flags, 4);
    uint32_t crc = crc32c(m, 60);
    memcpy(m + 60, &crc, 4);
    write_whole(path, m, len);
    free(m);
}

/* The open must fail with WARP_ECORRUPT and an error that names `file`
 * and an offset in [lo, hi]. */
static void expect_corrupt_open(const char *path, const warp_options *o,
                                const char *file, uint64_t lo, uint64_t hi)
{
    warp_db *db = (warp_db *)&db;
    int rc = warp_open(path, o, &db);
    const char *err = warp_open_error(), *at;
    unsigned long long off;

    if (rc != WARP_ECORRUPT) {
        print_error("warp_open returned %d (%s), expected WARP_ECORRUPT for "
                    "damage in %s at %llu..%llu\n",
                    rc, warp_strerror(rc), base_name(file),
                    (unsigned long long)lo, (unsigned long long)hi);
        warp_close(rc == WARP_OK ? db : NULL);
        fail();
    }
    assert_null(db);
    if (!strstr(err, base_name(file)) || !(at = strstr(err, "offset ")) ||
        sscanf(at + 7, "%llu", &off) != 1 || off < lo || off > hi) {
        print_error("warp_open_error() is \"%s\": it should name %s and an "
                    "offset in %llu..%llu\n",
                    err, base_name(file), (unsigned long long)lo,
                    (unsigned long long)hi);
        fail();
    }
}

static void expect_check_damage(const char *path, const char *file)
{
    warp_check_report r;

    assert_rc(warp_check(path, &r), WARP_ECORRUPT);
    assert_true(r.damaged >= 1);
    assert_non_null(strstr(r.error, base_name(file)));
}

/* ------------------------------------------------------------------------ */
/* Torn tails                                                                */
/* ------------------------------------------------------------------------ */

enum tear {
    TEAR_FLIP,     /* one bit of the last record flipped */
    TEAR_ZERO,     /* the last record's bytes zeroed from some offset on */
    TEAR_GARBAGE,  /* random bytes over the last record from some offset */
    TEAR_TRUNCATE, /* the file cut inside the last record */
    TEAR_APPENDED, /* a partial record after the last whole one */
    TEAR_KINDS
};

static const char *const tear_names[] = {"bit flip", "zeroed end", "garbage",
                                         "truncated file", "partial record"};

static void torn_tail_is_cut_to_the_last_good_record(void **state)
{
    test_dir *d = *state;

    for (int trial = 0; trial < 40; trial++) {
        char path[400], **segs;
        size_t nseg;
        rec_pos recs[256];
        uint32_t n = 30 + (uint32_t)rnd(60);
        enum tear kind = (enum tear)(trial % TEAR_KINDS);
        warp_options o = strict_opts();
        warp_check_report cr;

        snprintf(path, sizeof(path), "%s-%d", d->db, trial);
        make_store(path, n, trial % 2);
        segs = wal_files(path, &nseg);
        assert_true(nseg >= 1);
        const char *file = segs[nseg - 1];
        size_t nrec = wal_records(file, recs, ARRAY_SIZE(recs));
        assert_true(nrec >= 1);
        rec_pos last = recs[nrec - 1];
        uint64_t at = last.off + 1 + rnd(last.len - 1); /* not its 1st byte */
        uint32_t lost = n - 1; /* the key of the last record */

        switch (kind) {
        case TEAR_FLIP:
            flip_bit(file, last.off + rnd(last.len), (unsigned)rnd(8));
            break;
        case TEAR_ZERO:
            fill_bytes(file, at, last.off + last.len - at, 0);
            break;
        case TEAR_GARBAGE: {
            size_t len = last.off + last.len - at + rnd(64);
            uint8_t *g = make_value(len, next_rand(&g_rng));
            g[0] |= 1; /* at least one byte differs from the record's */
            int fd = open(file, O_RDWR);
            assert_true(fd >= 0);
            assert_int_equal(pwrite(fd, g, len, (off_t)at), (ssize_t)len);
            close(fd);
            free(g);
            break;
        }
        case TEAR_TRUNCATE:
            assert_int_equal(truncate(file, (off_t)at), 0);
            break;
        case TEAR_APPENDED: {
            uint64_t end = (last.off + last.len + 7) & ~7ull;
            size_t len = 1 + rnd(80);
            uint8_t *g = make_value(len, next_rand(&g_rng));
            g[0] |= 1;
            int fd = open(file, O_RDWR);
            assert_true(fd >= 0);
            assert_int_equal(pwrite(fd, g, len, (off_t)end), (ssize_t)len);
            close(fd);
            free(g);
            lost = UINT32_MAX; /* every whole record stays */
            break;
        }
        default:
            fail();
        }

        /* a torn tail is not damage for warp_check */
        assert_ok(warp_check(path, &cr));
        warp_db *db = open_disk(path, &o);
        warp_recovery r = recovery_of(db);
        assert_true(r.torn_bytes > 0);
        assert_true(r.torn_bytes <= 80 + last.len + 8);
        assert_int_equal(r.skipped_bytes, 0);
        assert_int_equal(r.skipped_regions, 0);
        expect_keys(db, n, lost);
        /* new writes go after the last good record and survive */
        write_keys(db, n, n + 5);
        warp_close(db);
        db = open_disk(path, &o);
        r = recovery_of(db);
        assert_int_equal(r.torn_bytes, 0); /* the tail was cut */
        for (uint32_t i = 0; i < n + 5; i++)
            if (key_state(db, i) != (i != lost)) {
                print_error("trial %d (%s): key c:%u wrong after the second "
                            "reopen\n",
                            trial, tear_names[kind], i);
                fail();
            }
        warp_close(db);
        free_names(segs);
        remove_tree(path);
    }
}

static void torn_tail_in_the_newest_of_many_segments_is_cut(void **state)
{
    test_dir *d = *state;
    rec_pos recs[1024];
    char **segs;
    size_t nseg;
    uint32_t n = 2000; /* ~250 KB: several 64 KiB segments */
    warp_options o = strict_opts();

    make_store(d->db, n, false);
    segs = wal_files(d->db, &nseg);
    assert_true(nseg >= 3);
    size_t nrec = wal_records(segs[nseg - 1], recs, ARRAY_SIZE(recs));
    assert_true(nrec >= 1);
    flip_bit(segs[nseg - 1], recs[nrec - 1].off + REC_HEADER + 1, 3);
    warp_db *db = open_disk(d->db, &o);
    assert_true(recovery_of(db).torn_bytes > 0);
    expect_keys(db, n, n - 1);
    warp_close(db);
    free_names(segs);
}

/* Power loss after a segment switch: segment N lost its last record, and
 * N+1 has its header, as created (not yet saying that N is on disk), but
 * no record. The open cuts N's tail and appends to N again (N+1 goes):
 * appended to N+1 instead, the tear sat in the middle of the log, and the
 * next open refused it as damage. */
static void torn_tail_before_a_header_only_segment_is_cut(void **state)
{
    test_dir *d = *state;
    rec_pos recs[1024];
    char **segs;
    size_t nseg, len;
    uint32_t n = 2000, kept = 0;
    warp_options o = strict_opts();

    make_store(d->db, n, false);
    segs = wal_files(d->db, &nseg);
    assert_true(nseg >= 3);
    for (size_t i = 0; i + 1 < nseg; i++) /* one put per key, in order */
        kept += (uint32_t)wal_records(segs[i], recs, ARRAY_SIZE(recs));
    size_t nrec = wal_records(segs[nseg - 2], recs, ARRAY_SIZE(recs));
    flip_bit(segs[nseg - 2], recs[nrec - 1].off + REC_HEADER + 1, 3);
    kept--; /* the torn record */
    uint8_t *m = read_whole(segs[nseg - 1], &len);
    assert_true(len > SEG_HEADER);
    if (len > SEG_HEADER) /* (so the compiler sees it) */
        memset(m + SEG_HEADER, 0, len - SEG_HEADER);
    write_whole(segs[nseg - 1], m, len);
    free(m);
    set_header(segs[nseg - 1], 3, 0);

    warp_db *db = open_disk(d->db, &o);
    assert_true(recovery_of(db).torn_bytes > 0);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(key_state(db, i), i < kept);
    write_keys(db, kept, kept + 50);
    warp_close(db);
    db = open_disk(d->db, &o); /* strict: no damage in the middle */
    assert_int_equal(recovery_of(db).torn_bytes, 0);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(key_state(db, i), i < kept + 50);
    warp_close(db);
    free_names(segs);
}

/* ------------------------------------------------------------------------ */
/* Damage before the tail                                                    */
/* ------------------------------------------------------------------------ */

/* Flip a random bit of a random record of segment file `file` other than
 * the shard's very last (`newest`: file is the newest segment). Returns the
 * record's index; *pos receives it, *at the damaged byte. */
static size_t damage_a_record(const char *file, bool newest, rec_pos *pos,
                              uint64_t *at)
{
    rec_pos recs[1024];
    size_t nrec = wal_records(file, recs, ARRAY_SIZE(recs));
    size_t i;

    assert_true(nrec >= 2);
    i = (size_t)rnd(newest ? nrec - 1 : nrec);
    *pos = recs[i];
    *at = recs[i].off + rnd(recs[i].len);
    flip_bit(file, *at, (unsigned)rnd(8));
    return i;
}

static void damaged_record_before_the_tail_refuses_strict_open(void **state)
{
    test_dir *d = *state;

    for (int trial = 0; trial < 30; trial++) {
        char path[400], **segs;
        size_t nseg;
        uint32_t n = 20 + (uint32_t)rnd(100);
        rec_pos pos;
        uint64_t at;
        warp_options o = strict_opts();

        snprintf(path, sizeof(path), "%s-%d", d->db, trial);
        make_store(path, n, false);
        segs = wal_files(path, &nseg);
        assert_int_equal(nseg, 1);
        damage_a_record(segs[0], true, &pos, &at);
        expect_corrupt_open(path, &o, segs[0], pos.off, at);
        expect_check_damage(path, segs[0]);
        /* the refused open let go of the directory: it opens again */
        expect_corrupt_open(path, &o, segs[0], pos.off, at);
        free_names(segs);
        remove_tree(path);
    }
}

static void salvage_skips_a_damaged_record_and_reports_it(void **state)
{
    test_dir *d = *state;

    for (int trial = 0; trial < 30; trial++) {
        char path[400], **segs;
        size_t nseg;
        uint32_t n = 20 + (uint32_t)rnd(100);
        rec_pos pos;
        uint64_t at;
        warp_options o = salvage_opts();

        snprintf(path, sizeof(path), "%s-%d", d->db, trial);
        make_store(path, n, false);
        segs = wal_files(path, &nseg);
        size_t i = damage_a_record(segs[0], true, &pos, &at);
        warp_db *db = open_disk(path, &o);
        warp_recovery r = recovery_of(db);
        assert_int_equal(r.skipped_regions, 1);
        assert_true(r.skipped_bytes >= pos.len);
        assert_true(r.skipped_bytes <= ((pos.len + 7) & ~7ull));
        assert_int_equal(r.wal_records, n - 1);
        /* record i wrote key c:i: only it is lost */
        expect_keys(db, n, (uint32_t)i);
        /* the salvaged store takes writes */
        write_keys(db, n, n + 3);
        for (uint32_t k = n; k < n + 3; k++)
            assert_true(key_state(db, k));
        warp_close(db);
        free_names(segs);
        remove_tree(path);
    }
}

static void damage_in_an_older_segment_is_not_a_torn_tail(void **state)
{
    test_dir *d = *state;

    for (int trial = 0; trial < 12; trial++) {
        char path[400], **segs;
        size_t nseg;
        uint32_t n = 2000;
        rec_pos pos;
        uint64_t at;
        warp_options strict = strict_opts(), salvage = salvage_opts();

        snprintf(path, sizeof(path), "%s-%d", d->db, trial);
        make_store(path, n, false);
        segs = wal_files(path, &nseg);
        assert_true(nseg >= 3);
        /* any segment but the newest, any record of it, its last too */
        size_t s = (size_t)rnd(nseg - 1);
        damage_a_record(segs[s], false, &pos, &at);
        expect_corrupt_open(path, &strict, segs[s], pos.off, at);
        expect_check_damage(path, segs[s]);

        warp_db *db = open_disk(path, &salvage);
        warp_recovery r = recovery_of(db);
        assert_int_equal(r.skipped_regions, 1);
        assert_true(r.skipped_bytes >= pos.len);
        assert_int_equal(r.wal_records, n - 1);
        assert_int_equal(no_wrong_data(db, n), n - 1);
        warp_close(db);
        free_names(segs);
        remove_tree(path);
    }
}

static void damaged_segment_header_refuses_strict_open(void **state)
{
    test_dir *d = *state;

    for (int trial = 0; trial < 10; trial++) {
        char path[400], **segs;
        size_t nseg;
        uint32_t n = 2000;
        warp_options strict = strict_opts(), salvage = salvage_opts();
        warp_db *db = (warp_db *)&db;

        snprintf(path, sizeof(path), "%s-%d", d->db, trial);
        make_store(path, n, false);
        segs = wal_files(path, &nseg);
        assert_true(nseg >= 3);
        size_t s = (size_t)rnd(nseg);
        flip_bit(segs[s], rnd(SEG_HEADER), (unsigned)rnd(8));
        expect_corrupt_open(path, &strict, segs[s], 0, 0);
        expect_check_damage(path, segs[s]);
        /* salvage: refuse, or open without wrong data and say so */
        int rc = warp_open(path, &salvage, &db);
        if (rc == WARP_OK) {
            warp_recovery r = recovery_of(db);
            assert_true(r.skipped_regions >= 1);
            assert_true(no_wrong_data(db, n) < n);
            warp_close(db);
        } else {
            assert_rc(rc, WARP_ECORRUPT);
            assert_null(db);
        }
        free_names(segs);
        remove_tree(path);
    }
}

static void missing_middle_segment_refuses_strict_open(void **state)
{
    test_dir *d = *state;
    char **segs;
    size_t nseg;
    warp_options strict = strict_opts();
    warp_db *db = (warp_db *)&db;

    make_store(d->db, 2000, false);
    segs = wal_files(d->db, &nseg);
    assert_true(nseg >= 3);
    assert_int_equal(unlink(segs[1]), 0);
    assert_rc(warp_open(d->db, &strict, &db), WARP_ECORRUPT);
    assert_null(db);
    assert_non_null(strstr(warp_open_error(), "missing"));
    free_names(segs);
}

/* ------------------------------------------------------------------------ */
/* Power loss across segments (fsync everysec and never)                     */
/* ------------------------------------------------------------------------ */

/* The kernel writes a log's pages back in any order, so a power loss can
 * leave segment k short (a torn or zeroed tail) while later segments hold
 * records that reached the disk unsynced. Their headers then lack
 * PRIOR_DURABLE (src/wal.c), which is set only once every segment before
 * is on disk: the log ends in k, and the later segments go. With the mark
 * on a later segment, the same bytes are damage, as before. */

/* A store of several segments, each of whose headers but the first says
 * the segments before it were on disk (as a log synced at every segment
 * switch has them); *nseg receives their number, nrecs[i] the record
 * count of segment i. */
static char **marked_store(const char *path, uint32_t n, size_t *nseg,
                           size_t *nrecs)
{
    rec_pos recs[1024];
    char **segs;

    make_store(path, n, false);
    segs = wal_files(path, nseg);
    assert_true(*nseg >= 4 && *nseg <= 64);
    for (size_t i = 0; i < *nseg; i++) {
        nrecs[i] = wal_records(segs[i], recs, ARRAY_SIZE(recs));
        if (i > 0)
            set_header(segs[i], 3, PRIOR_DURABLE);
    }
    return segs;
}

/* What a power loss leaves: segments after k without their marks. */
static void unmark_after(char **segs, size_t nseg, size_t k)
{
    for (size_t i = k + 1; i < nseg; i++)
        set_header(segs[i], 3, 0);
}

/* Open strictly; the keys of the first `kept` records are there, no
 * other; the segments after `k` are gone; the store takes writes, and
 * opens strictly again with nothing torn. */
static void expect_log_ends(const char *path, char **segs, size_t nseg,
                            size_t k, uint32_t n, uint32_t kept)
{
    warp_options strict = strict_opts();
    warp_db *db = open_disk(path, &strict);

    assert_true(recovery_of(db).torn_bytes > 0);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(key_state(db, i), i < kept);
    for (size_t i = k + 1; i < nseg; i++)
        assert_false(file_exists(segs[i]));
    write_keys(db, kept, kept + 50);
    warp_close(db);
    db = open_disk(path, &strict);
    assert_int_equal(recovery_of(db).torn_bytes, 0);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(key_state(db, i), i < kept + 50);
    warp_close(db);
}

static uint32_t records_before(const size_t *nrecs, size_t k)
{
    uint32_t sum = 0;

    for (size_t i = 0; i < k; i++)
        sum += (uint32_t)nrecs[i];
    return sum;
}

static void power_loss_tear_in_an_older_segment_ends_the_log(void **state)
{
    test_dir *d = *state;
    rec_pos recs[1024];
    size_t nseg, nrecs[64];
    uint32_t n = 2000;

    for (int marked = 0; marked < 2; marked++) {
        char path[400];
        snprintf(path, sizeof(path), "%s-%d", d->db, marked);
        char **segs = marked_store(path, n, &nseg, nrecs);
        size_t k = 1 + (size_t)rnd(nseg - 2); /* not the first or last */
        size_t nrec = wal_records(segs[k], recs, ARRAY_SIZE(recs));
        uint64_t at = recs[nrec - 1].off + REC_HEADER + 1;
        flip_bit(segs[k], at, 3); /* its last record, torn */
        if (!marked) {
            unmark_after(segs, nseg, k);
            expect_log_ends(path, segs, nseg, k, n,
                            records_before(nrecs, k) + (uint32_t)nrec - 1);
        } else { /* a later segment was synced after k: damage */
            warp_options strict = strict_opts();
            expect_corrupt_open(path, &strict, segs[k], recs[nrec - 1].off, at);
        }
        free_names(segs);
        remove_tree(path);
    }
}

static void
power_loss_zeroed_tail_in_an_older_segment_ends_the_log(void **state)
{
    test_dir *d = *state;
    rec_pos recs[1024];
    size_t nseg, nrecs[64], len;
    uint32_t n = 2000;

    for (int marked = 0; marked < 2; marked++) {
        char path[400];
        snprintf(path, sizeof(path), "%s-%d", d->db, marked);
        char **segs = marked_store(path, n, &nseg, nrecs);
        size_t k = 1 + (size_t)rnd(nseg - 2);
        size_t nrec = wal_records(segs[k], recs, ARRAY_SIZE(recs));
        size_t lost = 1 + (size_t)rnd(nrec - 1); /* its last `lost` records */
        uint8_t *m = read_whole(segs[k], &len);
        uint64_t cut = recs[nrec - lost].off;
        memset(m + cut, 0, len - cut); /* pages never written back */
        write_whole(segs[k], m, len);
        free(m);
        if (!marked) {
            unmark_after(segs, nseg, k);
            expect_log_ends(path, segs, nseg, k, n,
                            records_before(nrecs, k) + (uint32_t)(nrec - lost));
        } else { /* the next segment starts past a gap */
            warp_options strict = strict_opts();
            warp_db *db = (warp_db *)&db;
            assert_rc(warp_open(path, &strict, &db), WARP_ECORRUPT);
            assert_null(db);
            assert_non_null(strstr(warp_open_error(), "expected"));
        }
        free_names(segs);
        remove_tree(path);
    }
}

/* Segment k+1's header never reached the disk (zeros), or a reused file
 * still holds an older segment's: the log ends in k. A header that is
 * neither (a flipped bit) stays damage, marks or not. */
static void power_loss_unwritten_header_ends_the_log(void **state)
{
    test_dir *d = *state;
    size_t nseg, nrecs[64], len;
    uint32_t n = 2000;

    for (int shape = 0; shape < 3; shape++) {
        char path[400];
        snprintf(path, sizeof(path), "%s-%d", d->db, shape);
        char **segs = marked_store(path, n, &nseg, nrecs);
        size_t k = (size_t)rnd(nseg - 2); /* k+1 is not the last */
        unmark_after(segs, nseg, k);
        uint8_t *m = read_whole(segs[k + 1], &len);
        if (shape == 0) {
            memset(m, 0, SEG_HEADER);
        } else if (shape == 1) { /* the header of segment 1 */
            uint8_t *first = read_whole(segs[0], &len);
            memcpy(m, first, SEG_HEADER);
            free(first);
        }
        write_whole(segs[k + 1], m, len);
        free(m);
        if (shape < 2) {
            expect_log_ends(path, segs, nseg, k, n,
                            records_before(nrecs, k + 1));
        } else {
            warp_options strict = strict_opts();
            flip_bit(segs[k + 1], 16, 0); /* its segment number */
            expect_corrupt_open(path, &strict, segs[k + 1], 0, 0);
        }
        free_names(segs);
        remove_tree(path);
    }
}

/* A log written before the marks existed (version 2): a later segment
 * with records still says the earlier ones were written, as it did. */
static void version_2_segments_keep_the_older_rule(void **state)
{
    test_dir *d = *state;
    rec_pos recs[1024];
    size_t nseg, nrecs[64];
    warp_options strict = strict_opts();

    char **segs = marked_store(d->db, 2000, &nseg, nrecs);
    for (size_t i = 0; i < nseg; i++)
        set_header(segs[i], 2, 0);
    size_t k = 1 + (size_t)rnd(nseg - 2);
    size_t nrec = wal_records(segs[k], recs, ARRAY_SIZE(recs));
    uint64_t at = recs[nrec - 1].off + REC_HEADER + 1;
    flip_bit(segs[k], at, 3);
    expect_corrupt_open(d->db, &strict, segs[k], recs[nrec - 1].off, at);
    free_names(segs);
}

/* ------------------------------------------------------------------------ */
/* Snapshots                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct snap_map {
    uint64_t gens, gens_len; /* the slot generations block */
    uint64_t blocks[64], block_len[64];
    size_t nblocks;
    uint64_t trailer, size;
} snap_map;

/* Where the blocks and trailer of a snapshot file are. */
static snap_map snapshot_map(const char *path)
{
    size_t len;
    uint8_t *m = read_whole(path, &len);
    snap_map s = {.size = len};
    uint64_t o = SNAP_HEADER;

    assert_true(o + BLOCK_HEADER <= len);
    assert_memory_equal(m + o, "GEN1", 4);
    uint32_t gl;
    memcpy(&gl, m + o + 4, 4);
    s.gens = o;
    s.gens_len = BLOCK_HEADER + gl;
    o += s.gens_len;
    while (o + 4 <= len && memcmp(m + o, "BLK1", 4) == 0) {
        uint32_t bl;
        memcpy(&bl, m + o + 4, 4);
        assert_true(s.nblocks < ARRAY_SIZE(s.blocks));
        s.blocks[s.nblocks] = o;
        s.block_len[s.nblocks++] = BLOCK_HEADER + bl;
        o += BLOCK_HEADER + bl;
    }
    assert_true(o + SNAP_TRAILER == len);
    assert_memory_equal(m + o, "END1", 4);
    s.trailer = o;
    free(m);
    return s;
}

/* The start of the snapshot part that holds byte `at`. */
static uint64_t part_start(const snap_map *s, uint64_t at)
{
    if (at < SNAP_HEADER)
        return 0;
    if (at < s->gens + s->gens_len)
        return s->gens;
    if (at >= s->trailer)
        return s->trailer;
    for (size_t b = 0; b < s->nblocks; b++)
        if (at < s->blocks[b] + s->block_len[b])
            return s->blocks[b];
    fail();
    return 0;
}

static void bit_flip_anywhere_in_a_snapshot_refuses_strict_open(void **state)
{
    test_dir *d = *state;

    for (int trial = 0; trial < 40; trial++) {
        char path[400], **snaps;
        size_t ns;
        uint32_t n = 3000; /* 1500 in the snapshot: a few blocks */
        warp_options strict = strict_opts();

        snprintf(path, sizeof(path), "%s-%d", d->db, trial);
        make_store(path, n, true);
        snaps = snapshot_files(path, &ns);
        assert_int_equal(ns, 1);
        snap_map sm = snapshot_map(snaps[0]);
        assert_true(sm.nblocks >= 2);
        /* a third of the trials hit a header or trailer */
        uint64_t at = trial % 3 == 0
                          ? (trial % 2 ? rnd(SNAP_HEADER)
                                       : sm.trailer + rnd(SNAP_TRAILER))
                          : rnd(sm.size);
        flip_bit(snaps[0], at, (unsigned)rnd(8));
        expect_corrupt_open(path, &strict, snaps[0], part_start(&sm, at), at);
        expect_check_damage(path, snaps[0]);
        free_names(snaps);
        remove_tree(path);
    }
}

static void salvage_skips_a_damaged_snapshot_block_and_reports_it(void **state)
{
    test_dir *d = *state;

    for (int trial = 0; trial < 10; trial++) {
        char path[400], **snaps;
        size_t ns;
        uint32_t n = 3000;
        warp_options salvage = salvage_opts();

        snprintf(path, sizeof(path), "%s-%d", d->db, trial);
        make_store(path, n, true);
        snaps = snapshot_files(path, &ns);
        snap_map sm = snapshot_map(snaps[0]);
        size_t b = (size_t)rnd(sm.nblocks);
        /* inside the block's records, not its header */
        uint64_t at =
            sm.blocks[b] + BLOCK_HEADER + rnd(sm.block_len[b] - BLOCK_HEADER);
        flip_bit(snaps[0], at, (unsigned)rnd(8));
        warp_db *db = open_disk(path, &salvage);
        warp_recovery r = recovery_of(db);
        assert_true(r.skipped_regions >= 1);
        assert_true(r.skipped_bytes >= sm.block_len[b] - BLOCK_HEADER);
        /* what is there is right; only the block's keys are lost, and
         * every key written after the checkpoint is there */
        uint32_t present = no_wrong_data(db, n);
        assert_true(present < n);
        assert_true(present >= n - 1000);
        for (uint32_t i = n / 2; i < n; i++)
            assert_true(key_state(db, i));
        warp_close(db);
        free_names(snaps);
        remove_tree(path);
    }
}

static void truncated_or_empty_snapshot_refuses_strict_open(void **state)
{
    test_dir *d = *state;

    for (int trial = 0; trial < 12; trial++) {
        char path[400], **snaps;
        size_t ns;
        warp_options strict = strict_opts();
        warp_db *db = (warp_db *)&db;

        snprintf(path, sizeof(path), "%s-%d", d->db, trial);
        make_store(path, 3000, true);
        snaps = snapshot_files(path, &ns);
        snap_map sm = snapshot_map(snaps[0]);
        /* trial 0: empty; otherwise cut anywhere before the end */
        uint64_t cut = trial == 0 ? 0 : rnd(sm.size);
        assert_int_equal(truncate(snaps[0], (off_t)cut), 0);
        assert_rc(warp_open(path, &strict, &db), WARP_ECORRUPT);
        assert_null(db);
        assert_non_null(strstr(warp_open_error(), base_name(snaps[0])));
        expect_check_damage(path, snaps[0]);
        free_names(snaps);
        remove_tree(path);
    }
}

/* ------------------------------------------------------------------------ */
/* Random damage anywhere: no crash, no wrong data                           */
/* ------------------------------------------------------------------------ */

static void random_damage_never_crashes_or_returns_wrong_data(void **state)
{
    test_dir *d = *state;

    for (int trial = 0; trial < 40; trial++) {
        char path[400], **files;
        size_t nw, ns;
        uint32_t n = 1500;

        snprintf(path, sizeof(path), "%s-%d", d->db, trial);
        make_store(path, n, trial % 2);
        /* 1-8 random flips or garbage runs in random WAL/snapshot files */
        int hits = 1 + (int)rnd(8);
        for (int h = 0; h < hits; h++) {
            bool snap = rnd(2) && (trial % 2);
            files = snap ? snapshot_files(path, &ns) : wal_files(path, &nw);
            size_t nf = snap ? ns : nw;
            if (nf == 0) {
                free_names(files);
                continue;
            }
            const char *f = files[rnd(nf)];
            size_t len;
            free(read_whole(f, &len));
            if (len == 0) {
                free_names(files);
                continue;
            }
            uint64_t at = rnd(len);
            if (rnd(2)) {
                flip_bit(f, at, (unsigned)rnd(8));
            } else {
                size_t run = 1 + rnd(64);
                if (at + run > len)
                    run = len - at;
                fill_bytes(f, at, run, (uint8_t)next_rand(&g_rng));
            }
            free_names(files);
        }
        for (int mode = 0; mode < 2; mode++) {
            warp_options o = mode ? salvage_opts() : strict_opts();
            warp_db *db = NULL;
            int rc = warp_open(path, &o, &db);
            if (rc == WARP_OK) {
                no_wrong_data(db, n);
                warp_close(db);
            } else {
                assert_rc(rc, WARP_ECORRUPT);
                assert_null(db);
                assert_true(strlen(warp_open_error()) > 0);
            }
        }
        warp_check_report cr;
        int crc = warp_check(path, &cr);
        assert_true(crc == WARP_OK || crc == WARP_ECORRUPT);
        remove_tree(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        DIR_TEST(torn_tail_is_cut_to_the_last_good_record),
        DIR_TEST(torn_tail_in_the_newest_of_many_segments_is_cut),
        DIR_TEST(torn_tail_before_a_header_only_segment_is_cut),
        DIR_TEST(damaged_record_before_the_tail_refuses_strict_open),
        DIR_TEST(salvage_skips_a_damaged_record_and_reports_it),
        DIR_TEST(damage_in_an_older_segment_is_not_a_torn_tail),
        DIR_TEST(damaged_segment_header_refuses_strict_open),
        DIR_TEST(missing_middle_segment_refuses_strict_open),
        DIR_TEST(power_loss_tear_in_an_older_segment_ends_the_log),
        DIR_TEST(power_loss_zeroed_tail_in_an_older_segment_ends_the_log),
        DIR_TEST(power_loss_unwritten_header_ends_the_log),
        DIR_TEST(version_2_segments_keep_the_older_rule),
        DIR_TEST(bit_flip_anywhere_in_a_snapshot_refuses_strict_open),
        DIR_TEST(salvage_skips_a_damaged_snapshot_block_and_reports_it),
        DIR_TEST(truncated_or_empty_snapshot_refuses_strict_open),
        DIR_TEST(random_damage_never_crashes_or_returns_wrong_data),
    };

    return cmocka_run_group_tests(tests, setup_seed, NULL);
}
