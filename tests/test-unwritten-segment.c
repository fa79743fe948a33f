/*
 * test-unwritten-segment.c - a WAL segment that a crash left created but
 * never written (empty, or all zeros: the process died between creating
 * the file and writing its header) must not break the store.
 *
 * Found by fuzz/fuzz-wal.c (fuzz/regressions/wal/): recovery dropped such
 * a segment and gave the next segment the number after it, so the open
 * after that refused the store as "segment N is missing".
 */
#include "testutil.h"

#include "durability.h"

static warp_db *open_one_shard(const char *path)
{
    warp_options o;
    warp_db *db = NULL;

    warp_options_init(&o);
    o.shards = 1;
    assert_ok(warp_options_set(&o, "fsync", "always"));
    assert_ok(warp_options_set(&o, "wal_segment_size", "64k"));
    assert_ok(warp_open(path, &o, &db));
    return db;
}

/* The highest segment number in db/wal. */
static uint64_t last_segment(const char *db)
{
    char dir[512];
    DIR *d;
    struct dirent *e;
    uint64_t last = 0;

    snprintf(dir, sizeof dir, "%s/wal", db);
    d = opendir(dir);
    assert_non_null(d);
    while ((e = readdir(d))) {
        unsigned shard;
        unsigned long long seg;
        if (sscanf(e->d_name, "%5u-%10llu.wal", &shard, &seg) == 2 &&
            strstr(e->d_name, ".wal") && !strstr(e->d_name, ".spare") &&
            seg > last)
            last = seg;
    }
    closedir(d);
    return last;
}

static void make_unwritten(const char *db, uint64_t seg, size_t zeros)
{
    char path[600];
    int fd;

    snprintf(path, sizeof path, "%s/wal/00000-%010llu.wal", db,
             (unsigned long long)seg);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    if (zeros)
        assert_int_equal(ftruncate(fd, (off_t)zeros), 0);
    close(fd);
}

static void survives(void **state, size_t zeros)
{
    test_dir *d = *state;
    warp_db *db = open_one_shard(d->db);

    put_str(db, "before", "1");
    warp_close(db);
    make_unwritten(d->db, last_segment(d->db) + 1, zeros);

    db = open_one_shard(d->db);
    assert_get_str(db, "before", "1");
    put_str(db, "after", "2");
    warp_close(db);

    db = open_one_shard(d->db); /* refused before the fix */
    assert_get_str(db, "before", "1");
    assert_get_str(db, "after", "2");
    warp_close(db);
}

/* "a store reopens after a crash left an all-zero last segment" */
static void zero_filled_segment_leaves_no_gap(void **state)
{
    survives(state, 64 << 10);
}

/* "a store reopens after a crash left an empty last segment" */
static void empty_segment_leaves_no_gap(void **state)
{
    survives(state, 0);
}

/* A segment that a checkpoint let go is readied again as a later one
 * (src/wal.c, segment_reuse()). If the power fails before its new header
 * reaches the disk, the file holds its old life: the header of an older
 * segment of the shard, and that segment's records. It was never written
 * as the new segment, so the store must reopen without it, with nothing
 * lost, like after the all-zero case. */
static void reused_segment_left_with_its_old_bytes_leaves_no_gap(void **state)
{
    test_dir *d = *state;
    warp_db *db = open_one_shard(d->db);
    char first[600], last[600];

    put_str(db, "before", "1");
    warp_close(db);
    snprintf(first, sizeof first, "%s/wal/00000-%010llu.wal", d->db, 1ull);
    snprintf(last, sizeof last, "%s/wal/00000-%010llu.wal", d->db,
             (unsigned long long)last_segment(d->db) + 1);
    size_t len;
    uint8_t *bytes = read_whole(first, &len);
    write_whole(last, bytes, len);
    free(bytes);

    db = open_one_shard(d->db);
    assert_get_str(db, "before", "1");
    put_str(db, "after", "2");
    warp_close(db);

    db = open_one_shard(d->db);
    assert_get_str(db, "before", "1");
    assert_get_str(db, "after", "2");
    warp_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        DIR_TEST(zero_filled_segment_leaves_no_gap),
        DIR_TEST(empty_segment_leaves_no_gap),
        DIR_TEST(reused_segment_left_with_its_old_bytes_leaves_no_gap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
