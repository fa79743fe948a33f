/*
 * durability.h - what the durability tests share: temporary data
 * directories, the files in them, and byte-level damage.
 *
 * Used by test-durability.c, test-durability-threads.c, test-crash.c,
 * test-corruption.c and test-iofault.c, after testutil.h. Each test makes
 * its own directory under /tmp with make_test_dir() and removes it with
 * remove_test_dir(), pass or fail (use DIR_TEST to register a test whose
 * *state is that directory).
 *
 * The file helpers know the directory layout of include/warp.h's data
 * directory (src/persist.c, docs/FORMATS.md): wal/SSSSS-NNNNNNNNNN.wal,
 * snapshots/SSSSS-NNNNNNNNNN.snap, universe.manifest.
 */
#ifndef WARP_DURABILITY_H
#define WARP_DURABILITY_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Temporary directories                                                     */
/* ------------------------------------------------------------------------ */

/* A test's directory: `root` is made by mkdtemp; the store lives in
 * `root`/db, which warp_open creates. */
typedef struct test_dir {
    char root[256];
    char db[300];
} test_dir;

static inline test_dir *make_test_dir(void)
{
    test_dir *d = calloc(1, sizeof(*d));

    assert_non_null(d);
    snprintf(d->root, sizeof(d->root), "/tmp/warp-durability-XXXXXX");
    assert_non_null(mkdtemp(d->root));
    snprintf(d->db, sizeof(d->db), "%s/db", d->root);
    return d;
}

static inline int rm_entry(const char *path, const struct stat *sb, int flag,
                           struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Remove a directory tree (no error if it is missing). */
static inline void remove_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void remove_test_dir(test_dir *d)
{
    if (!d)
        return;
    remove_tree(d->root);
    free(d);
}

static inline int setup_test_dir(void **state)
{
    *state = make_test_dir();
    return 0;
}

static inline int teardown_test_dir(void **state)
{
    remove_test_dir(*state);
    *state = NULL;
    return 0;
}

/* A test whose *state is a fresh test_dir, removed after the test. */
#define DIR_TEST(f)                                                            \
    cmocka_unit_test_setup_teardown(f, setup_test_dir, teardown_test_dir)

/* ------------------------------------------------------------------------ */
/* Opening stores on disk                                                    */
/* ------------------------------------------------------------------------ */

/* Options for the durability tests: `shards` shards, fsync mode `fsync`,
 * 64 KiB WAL segments (so that segment switches are frequent), and no
 * automatic checkpoints (tests ask for them). */
static inline warp_options disk_options(uint32_t shards, warp_fsync fsync)
{
    warp_options o;

    warp_options_init(&o);
    o.shards = shards;
    o.fsync = fsync;
    o.wal_segment_size = 64u << 10;
    o.checkpoint_interval = 0;
    o.checkpoint_wal_bytes = 0;
    return o;
}

/* Open the store in `path`, asserting success. */
#define open_disk(path, opts) open_disk_at((path), (opts), __FILE__, __LINE__)

static inline warp_db *open_disk_at(const char *path, const warp_options *o,
                                    const char *file, int line)
{
    warp_db *db = NULL;
    int rc = warp_open(path, o, &db);

    if (rc != WARP_OK || !db) {
        print_error("warp_open(%s) returned %d (%s): %s\n", path, rc,
                    warp_strerror(rc), warp_open_error());
        _fail(file, line);
    }
    return db;
}

static inline warp_recovery recovery_of(warp_db *db)
{
    warp_recovery r;

    memset(&r, 0xff, sizeof(r));
    assert_ok(warp_recovery_get(db, &r));
    return r;
}

static inline warp_durability durability_of(warp_db *db)
{
    warp_durability d;

    memset(&d, 0xff, sizeof(d));
    assert_ok(warp_durability_get(db, &d));
    return d;
}

/* ------------------------------------------------------------------------ */
/* Files of a data directory                                                 */
/* ------------------------------------------------------------------------ */

static inline int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in `dir` that end with `suffix`, sorted (the zero-padded
 * numbers sort as numbers), as a NULL-terminated malloc'd array of
 * malloc'd full paths. *n receives the count. Free with free_names(). */
static inline char **list_files(const char *dir, const char *suffix, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **v = calloc(1, sizeof(*v));
    size_t cnt = 0, sl = strlen(suffix);

    assert_non_null(v);
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < sl || strcmp(e->d_name + l - sl, suffix) != 0)
            continue;
        v = realloc(v, (cnt + 2) * sizeof(*v));
        assert_non_null(v);
        size_t plen = strlen(dir) + l + 2;
        v[cnt] = malloc(plen);
        assert_non_null(v[cnt]);
        snprintf(v[cnt], plen, "%s/%s", dir, e->d_name);
        cnt++;
    }
    if (d)
        closedir(d);
    v[cnt] = NULL;
    qsort(v, cnt, sizeof(*v), cmp_names);
    *n = cnt;
    return v;
}

static inline void free_names(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* The WAL segments or snapshots of the store in `db`. */
static inline char **wal_files(const char *db, size_t *n)
{
    char sub[512];

    snprintf(sub, sizeof(sub), "%s/wal", db);
    return list_files(sub, ".wal", n);
}

static inline char **snapshot_files(const char *db, size_t *n)
{
    char sub[512];

    snprintf(sub, sizeof(sub), "%s/snapshots", db);
    return list_files(sub, ".snap", n);
}

/* The whole file at `path` (malloc'd, one NUL byte past the end);
 * *len receives its length. */
static inline uint8_t *read_whole(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    struct stat sb;
    uint8_t *buf;

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &sb), 0);
    buf = malloc((size_t)sb.st_size + 1);
    assert_non_null(buf);
    size_t got = 0;
    while (got < (size_t)sb.st_size) {
        ssize_t r = pread(fd, buf + got, (size_t)sb.st_size - got, (off_t)got);
        assert_true(r > 0);
        got += (size_t)r;
    }
    buf[got] = 0;
    close(fd);
    *len = got;
    return buf;
}

static inline void write_whole(const char *path, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    size_t done = 0;

    assert_true(fd >= 0);
    while (done < len) {
        ssize_t w =
            pwrite(fd, (const uint8_t *)buf + done, len - done, (off_t)done);
        assert_true(w > 0);
        done += (size_t)w;
    }
    assert_int_equal(close(fd), 0);
}

static inline void copy_file(const char *from, const char *to)
{
    size_t len;
    uint8_t *buf = read_whole(from, &len);

    write_whole(to, buf, len);
    free(buf);
}

static inline bool file_exists(const char *path)
{
    struct stat sb;

    return stat(path, &sb) == 0;
}

/* Flip bit `bit` (0-7) of byte `off` of the file. */
static inline void flip_bit(const char *path, uint64_t off, unsigned bit)
{
    int fd = open(path, O_RDWR);
    uint8_t b;

    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
    b ^= (uint8_t)(1u << (bit & 7));
    assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
    close(fd);
}

/* Overwrite bytes [off, off+n) of the file with `byte`. */
static inline void fill_bytes(const char *path, uint64_t off, size_t n,
                              uint8_t byte)
{
    int fd = open(path, O_RDWR);
    uint8_t *buf = malloc(n ? n : 1);

    assert_true(fd >= 0);
    assert_non_null(buf);
    memset(buf, byte, n);
    assert_int_equal(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
    free(buf);
    close(fd);
}

/* The base name of a path (a pointer into it). */
static inline const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

/* A small, seedable PRNG for the tests (splitmix64). */
static inline uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A seed for this run: WARP_TEST_SEED if set (to replay a failure),
 * otherwise the time; printed so that a failure can be replayed. */
static inline uint64_t test_seed(const char *what)
{
    const char *env = getenv("WARP_TEST_SEED");
    uint64_t seed;

    if (env && *env) {
        seed = strtoull(env, NULL, 0);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^
               ((uint64_t)getpid() << 32);
    }
    printf("# %s: seed %llu (set WARP_TEST_SEED to replay)\n", what,
           (unsigned long long)seed);
    return seed;
}

#endif /* WARP_DURABILITY_H */
