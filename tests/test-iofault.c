/*
 * test-iofault.c - I/O errors: a write that cannot be logged fails with
 * WARP_EIO or WARP_ENOSPC and is not applied; what was acknowledged before
 * stays intact and readable; once the fault is gone, writes succeed
 * again; a failing checkpoint returns its error and leaves the previous
 * state recoverable.
 *
 * White-box: every file operation of the engine goes through src/io.h's
 * table, and these tests swap it (io_set_ops) for one that forwards to
 * io_system but fails chosen calls: by operation, by the path of the file
 * (".wal", ".snap", ...), after letting some through, with a chosen errno,
 * or as short writes.
 */
#include "testutil.h"

#include "durability.h"

#include <pthread.h>

#include "io.h"

/* ------------------------------------------------------------------------ */
/* The fault-injecting table                                                 */
/* ------------------------------------------------------------------------ */

enum io_op {
    OP_OPEN,
    OP_PWRITE,
    OP_PREAD,
    OP_FDATASYNC,
    OP_SYNCFS,
    OP_FALLOCATE,
    OP_FTRUNCATE,
    OP_RENAME,
    OP_UNLINK,
    OP_MKDIR,
    OP_MMAP,
    OP_MSYNC, /* matched by op alone: a mapping has no path here */
    OP_COUNT
};

#define MAX_FAULTS 4
#define MAX_FDS    4096

typedef struct fault {
    enum io_op op;
    const char *path_has; /* only files whose path contains this; NULL: any */
    int err;              /* errno of the failure */
    int skip;             /* matching calls let through first */
    int count;            /* then fail this many; -1: until cleared */
    bool partial;         /* pwrite: the first failure writes half and
                           * returns a short count; the next ones fail */
    int hits;             /* failures injected */
} fault;

static struct {
    pthread_mutex_t lock;
    fault faults[MAX_FAULTS];
    int nfaults;
    size_t short_max; /* > 0: every pwrite writes at most this many bytes */
    char *fd_path[MAX_FDS];
    uint64_t calls[OP_COUNT];
} inj = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *path_of_fd(int fd)
{
    return fd >= 0 && fd < MAX_FDS && inj.fd_path[fd] ? inj.fd_path[fd] : "";
}

/* Whether this call fails: returns the fault, or NULL. Lock held. */
static fault *should_fail(enum io_op op, const char *path)
{
    inj.calls[op]++;
    for (int i = 0; i < inj.nfaults; i++) {
        fault *f = &inj.faults[i];
        if (f->op != op || (f->path_has && !strstr(path, f->path_has)))
            continue;
        if (f->skip > 0) {
            f->skip--;
            continue;
        }
        if (f->count == 0)
            continue;
        if (f->count > 0)
            f->count--;
        f->hits++;
        return f;
    }
    return NULL;
}

/* Check for a fault; on one, set errno and return true. */
static bool fails(enum io_op op, const char *path, fault *out)
{
    fault *f;

    pthread_mutex_lock(&inj.lock);
    f = should_fail(op, path);
    if (f && out)
        *out = *f;
    pthread_mutex_unlock(&inj.lock);
    if (f)
        errno = f->err;
    return f != NULL;
}

static int f_open(const char *path, int flags, mode_t mode)
{
    int fd;

    if (fails(OP_OPEN, path, NULL))
        return -1;
    fd = io_system.open(path, flags, mode);
    if (fd >= 0 && fd < MAX_FDS) {
        pthread_mutex_lock(&inj.lock);
        free(inj.fd_path[fd]);
        inj.fd_path[fd] = strdup(path);
        pthread_mutex_unlock(&inj.lock);
    }
    return fd;
}

static int f_close(int fd)
{
    if (fd >= 0 && fd < MAX_FDS) {
        pthread_mutex_lock(&inj.lock);
        free(inj.fd_path[fd]);
        inj.fd_path[fd] = NULL;
        pthread_mutex_unlock(&inj.lock);
    }
    return io_system.close(fd);
}

static ssize_t f_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    fault f;
    char path[4096];

    pthread_mutex_lock(&inj.lock);
    snprintf(path, sizeof(path), "%s", path_of_fd(fd));
    size_t short_max = inj.short_max;
    pthread_mutex_unlock(&inj.lock);
    if (fails(OP_PWRITE, path, &f)) {
        if (f.partial && f.hits == 1 && n > 1) {
            int err = errno;
            ssize_t w = io_system.pwrite(fd, buf, n / 2, off);
            errno = err;
            return w;
        }
        return -1;
    }
    if (short_max && n > short_max)
        n = 1 + (size_t)((uintptr_t)buf + (uint64_t)off) % short_max;
    return io_system.pwrite(fd, buf, n, off);
}

static ssize_t f_pread(int fd, void *buf, size_t n, off_t off)
{
    char path[4096];

    pthread_mutex_lock(&inj.lock);
    snprintf(path, sizeof(path), "%s", path_of_fd(fd));
    pthread_mutex_unlock(&inj.lock);
    if (fails(OP_PREAD, path, NULL))
        return -1;
    return io_system.pread(fd, buf, n, off);
}

/* The ops that take an fd and return 0 or -1. */
#define FD_WRAPPER(name, OP, call)                                             \
    static int name(int fd)                                                    \
    {                                                                          \
        char path[4096];                                                       \
        pthread_mutex_lock(&inj.lock);                                         \
        snprintf(path, sizeof(path), "%s", path_of_fd(fd));                    \
        pthread_mutex_unlock(&inj.lock);                                       \
        if (fails(OP, path, NULL))                                             \
            return -1;                                                         \
        return call;                                                           \
    }

FD_WRAPPER(f_fdatasync, OP_FDATASYNC, io_system.fdatasync(fd))
FD_WRAPPER(f_syncfs, OP_SYNCFS, io_system.syncfs(fd))

static int f_fallocate(int fd, off_t off, off_t len)
{
    char path[4096];

    pthread_mutex_lock(&inj.lock);
    snprintf(path, sizeof(path), "%s", path_of_fd(fd));
    pthread_mutex_unlock(&inj.lock);
    if (fails(OP_FALLOCATE, path, NULL))
        return -1;
    return io_system.fallocate(fd, off, len);
}

static int f_ftruncate(int fd, off_t len)
{
    char path[4096];

    pthread_mutex_lock(&inj.lock);
    snprintf(path, sizeof(path), "%s", path_of_fd(fd));
    pthread_mutex_unlock(&inj.lock);
    if (fails(OP_FTRUNCATE, path, NULL))
        return -1;
    return io_system.ftruncate(fd, len);
}

static int f_rename(const char *from, const char *to)
{
    if (fails(OP_RENAME, from, NULL))
        return -1;
    return io_system.rename(from, to);
}

static int f_unlink(const char *path)
{
    if (fails(OP_UNLINK, path, NULL))
        return -1;
    return io_system.unlink(path);
}

static int f_mkdir(const char *path, mode_t mode)
{
    if (fails(OP_MKDIR, path, NULL))
        return -1;
    return io_system.mkdir(path, mode);
}

static void *f_mmap(size_t len, int fd)
{
    char path[4096];

    pthread_mutex_lock(&inj.lock);
    snprintf(path, sizeof(path), "%s", path_of_fd(fd));
    pthread_mutex_unlock(&inj.lock);
    if (fails(OP_MMAP, path, NULL))
        return NULL;
    return io_system.mmap(len, fd);
}

static int f_msync(void *addr, size_t len)
{
    if (fails(OP_MSYNC, "", NULL))
        return -1;
    return io_system.msync(addr, len);
}

static const io_ops faulty = {
    .open = f_open,
    .close = f_close,
    .pwrite = f_pwrite,
    .pread = f_pread,
    .fdatasync = f_fdatasync,
    .syncfs = f_syncfs,
    .fallocate = f_fallocate,
    .ftruncate = f_ftruncate,
    .rename = f_rename,
    .unlink = f_unlink,
    .mkdir = f_mkdir,
    .mmap = f_mmap,
    .msync = f_msync,
};

/* Fail calls of `op` on paths containing `path_has` with `err`, after
 * `skip` good ones, `count` times (-1: until clear_faults). */
static void inject(enum io_op op, const char *path_has, int err, int skip,
                   int count)
{
    pthread_mutex_lock(&inj.lock);
    assert_true(inj.nfaults < MAX_FAULTS);
    inj.faults[inj.nfaults++] = (fault){.op = op,
                                        .path_has = path_has,
                                        .err = err,
                                        .skip = skip,
                                        .count = count};
    pthread_mutex_unlock(&inj.lock);
}

/* Failures the last injected fault caused. */
static int last_fault_hits(void)
{
    int n;

    pthread_mutex_lock(&inj.lock);
    n = inj.nfaults ? inj.faults[inj.nfaults - 1].hits : 0;
    pthread_mutex_unlock(&inj.lock);
    return n;
}

static void clear_faults(void)
{
    pthread_mutex_lock(&inj.lock);
    inj.nfaults = 0;
    inj.short_max = 0;
    pthread_mutex_unlock(&inj.lock);
}

/* The background thread readies each shard's next WAL segment ahead of
 * time (a NAME.wal.spare file, src/wal.c), and a writer that finds one
 * ready only renames it. The tests of a writer's own segment creation turn
 * that off by failing the spare's creation, which the engine ignores. */
static void no_spare_segments(void)
{
    inject(OP_OPEN, ".spare", EIO, 0, -1);
}

static bool spare_segment_exists(const char *db)
{
    char sub[512];
    size_t n;

    snprintf(sub, sizeof(sub), "%s/wal", db);
    free_names(list_files(sub, ".spare", &n));
    return n > 0;
}

static int setup_faulty_dir(void **state)
{
    clear_faults();
    io_set_ops(&faulty);
    return setup_test_dir(state);
}

static int teardown_faulty_dir(void **state)
{
    clear_faults();
    io_set_ops(NULL);
    return teardown_test_dir(state);
}

#define FAULT_TEST(f)                                                          \
    cmocka_unit_test_setup_teardown(f, setup_faulty_dir, teardown_faulty_dir)

/* ------------------------------------------------------------------------ */
/* Keys and values                                                           */
/* ------------------------------------------------------------------------ */

#define VLEN 1000 /* ~64 records fill a 64 KiB segment */

static size_t key_of(char *buf, size_t cap, uint32_t i)
{
    return format_key(buf, cap, "f", i);
}

static int put_key(warp_db *db, uint32_t i)
{
    char key[32];
    size_t klen = key_of(key, sizeof(key), i);
    uint8_t *v = make_value(VLEN, i);
    int rc = warp_put(db, key, klen, v, VLEN, NULL, NULL);

    free(v);
    return rc;
}

static void assert_key(warp_db *db, uint32_t i, bool present)
{
    char key[32];
    size_t klen = key_of(key, sizeof(key), i);

    if (present) {
        uint8_t *v = make_value(VLEN, i);
        assert_get_equals(db, key, klen, v, VLEN);
        free(v);
    } else {
        assert_get_notfound(db, key, klen);
    }
}

/* Keys [0, n) present except those with failed[i]. */
static void assert_keys(warp_db *db, uint32_t n, const bool *failed)
{
    uint64_t live = 0;

    for (uint32_t i = 0; i < n; i++) {
        assert_key(db, i, !(failed && failed[i]));
        live += !(failed && failed[i]);
    }
    assert_int_equal(stats_of(db).keys, live);
}

/* Put keys from *next on until one fails (at most `limit` tries); returns
 * its result code, leaving *next at the failed key. */
static int put_until_failure(warp_db *db, uint32_t *next, uint32_t limit)
{
    for (uint32_t tries = 0; tries < limit; tries++, (*next)++) {
        int rc = put_key(db, *next);
        if (rc != WARP_OK)
            return rc;
    }
    return WARP_OK;
}

/* ------------------------------------------------------------------------ */
/* A put that cannot be logged                                               */
/* ------------------------------------------------------------------------ */

/* The scenario of every new-segment fault: fill the current segment until
 * the put that needs a new one fails with `want`; that put is not applied,
 * reads go on, and once the fault is cleared writes succeed again and
 * everything acknowledged survives a reopen. */
static void new_segment_fault(test_dir *d, warp_fsync mode, enum io_op op,
                              int err, bool partial, int want)
{
    warp_options o = disk_options(1, mode);
    warp_db *db;
    uint32_t next = 0;
    bool failed[400] = {false};

    no_spare_segments();
    db = open_disk(d->db, &o);

    for (; next < 10; next++)
        assert_ok(put_key(db, next));
    inject(op, ".wal", err, 0, -1);
    if (partial)
        inj.faults[inj.nfaults - 1].partial = true;
    /* the segment holds ~64 records: one of the next 100 needs a new one */
    assert_rc(put_until_failure(db, &next, 100), want);
    assert_true(last_fault_hits() >= 1);
    failed[next] = true;
    /* not applied; everything before it readable */
    assert_keys(db, next + 1, failed);
    /* it keeps failing while the fault lasts, and changes nothing */
    assert_rc(put_key(db, next + 1), want);
    failed[next + 1] = true;
    assert_keys(db, next + 2, failed);
    /* space returns: writes succeed again */
    clear_faults();
    no_spare_segments();
    uint32_t resume = next + 2;
    for (uint32_t i = resume; i < resume + 80; i++)
        assert_ok(put_key(db, i));
    assert_keys(db, resume + 80, failed);
    warp_close(db);
    db = open_disk(d->db, &o);
    assert_keys(db, resume + 80, failed);
    assert_int_equal(recovery_of(db).skipped_regions, 0);
    warp_close(db);
}

static void
put_that_cannot_reserve_a_segment_is_enospc_and_not_applied(void **state)
{
    new_segment_fault(*state, WARP_FSYNC_ALWAYS, OP_FALLOCATE, ENOSPC, false,
                      WARP_ENOSPC);
}

static void
put_that_cannot_reserve_a_segment_is_enospc_with_everysec(void **state)
{
    new_segment_fault(*state, WARP_FSYNC_EVERYSEC, OP_FALLOCATE, ENOSPC, false,
                      WARP_ENOSPC);
}

static void put_whose_segment_reservation_fails_with_eio_is_eio(void **state)
{
    new_segment_fault(*state, WARP_FSYNC_ALWAYS, OP_FALLOCATE, EIO, false,
                      WARP_EIO);
}

static void put_that_cannot_write_a_segment_header_is_enospc(void **state)
{
    new_segment_fault(*state, WARP_FSYNC_ALWAYS, OP_PWRITE, ENOSPC, false,
                      WARP_ENOSPC);
}

static void put_whose_header_write_is_short_then_enospc_is_enospc(void **state)
{
    new_segment_fault(*state, WARP_FSYNC_NEVER, OP_PWRITE, ENOSPC, true,
                      WARP_ENOSPC);
}

static void put_that_cannot_create_a_segment_file_is_eio(void **state)
{
    new_segment_fault(*state, WARP_FSYNC_ALWAYS, OP_OPEN, EIO, false, WARP_EIO);
}

static void put_that_cannot_map_a_segment_is_enomem(void **state)
{
    new_segment_fault(*state, WARP_FSYNC_ALWAYS, OP_MMAP, ENOMEM, false,
                      WARP_ENOMEM);
}

static void delete_that_cannot_be_logged_fails_and_keeps_the_key(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    uint32_t next = 0;
    char key[32];
    int rc = WARP_OK;

    /* fill the segment to the brim, then fail the next one */
    no_spare_segments();
    inject(OP_FALLOCATE, ".wal", ENOSPC, 1, -1); /* the first is segment 1 */
    rc = put_until_failure(db, &next, 100);
    assert_rc(rc, WARP_ENOSPC);
    /* a delete (a small record) may still fit: delete until one fails */
    uint32_t i = 0;
    for (; i < next; i++) {
        rc = warp_delete(db, key, key_of(key, sizeof(key), i));
        if (rc != WARP_OK)
            break;
    }
    assert_true(i < next);
    assert_rc(rc, WARP_ENOSPC);
    assert_key(db, i, true); /* the failed delete changed nothing */
    clear_faults();
    assert_ok(warp_delete(db, key, key_of(key, sizeof(key), i)));
    assert_key(db, i, false);
    db = (warp_close(db), open_disk(d->db, &o));
    for (uint32_t k = 0; k < next; k++)
        assert_key(db, k, k > i);
    warp_close(db);
}

static void
batch_whose_log_space_cannot_be_reserved_changes_nothing(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    warp_put_item items[100];
    char keys[100][32];
    uint8_t *v = make_value(VLEN, 99);
    size_t failed = 0;

    no_spare_segments();
    for (uint32_t i = 0; i < 5; i++)
        assert_ok(put_key(db, i));
    /* 100 items of 1 KB cannot fit in what is left of the segment */
    for (uint32_t i = 0; i < 100; i++)
        items[i] = (warp_put_item){.key = keys[i],
                                   .klen = format_key(keys[i], 32, "b", i),
                                   .val = v,
                                   .vlen = VLEN};
    inject(OP_FALLOCATE, ".wal", ENOSPC, 0, -1);
    assert_rc(warp_put_batch(db, items, 100, &failed), WARP_ENOSPC);
    assert_int_equal(stats_of(db).keys, 5);
    for (uint32_t i = 0; i < 100; i++)
        assert_get_notfound(db, keys[i], items[i].klen);
    assert_keys(db, 5, NULL);
    clear_faults();
    assert_ok(warp_put_batch(db, items, 100, &failed));
    db = (warp_close(db), open_disk(d->db, &o));
    assert_int_equal(stats_of(db).keys, 105);
    for (uint32_t i = 0; i < 100; i++)
        assert_get_equals(db, keys[i], items[i].klen, v, VLEN);
    warp_close(db);
    free(v);
}

/* ------------------------------------------------------------------------ */
/* Group commit failures (fsync=always)                                      */
/* ------------------------------------------------------------------------ */

static void put_whose_sync_fails_is_eio_and_is_erased(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    bool failed[64] = {false};

    for (uint32_t i = 0; i < 10; i++)
        assert_ok(put_key(db, i));
    inject(OP_FDATASYNC, ".wal", EIO, 0, 3);
    for (uint32_t i = 10; i < 13; i++) {
        assert_rc(put_key(db, i), WARP_EIO);
        failed[i] = true;
        assert_keys(db, i + 1, failed); /* not applied; the rest readable */
    }
    assert_true(durability_of(db).sync_errors >= 3);
    /* the fault is over: writes are durable again */
    for (uint32_t i = 13; i < 30; i++)
        assert_ok(put_key(db, i));
    /* an overwrite whose sync fails keeps the old value */
    inject(OP_FDATASYNC, ".wal", EIO, 0, 1);
    uint8_t *v = make_value(10, 12345);
    char key[32];
    size_t klen = key_of(key, sizeof(key), 0);
    assert_rc(warp_put(db, key, klen, v, 10, NULL, NULL), WARP_EIO);
    assert_key(db, 0, true);
    assert_rc(warp_delete(db, key, klen), WARP_OK); /* fault used up */
    assert_key(db, 0, false);
    failed[0] = true;
    free(v);
    /* the erased records never come back */
    db = (warp_close(db), open_disk(d->db, &o));
    assert_keys(db, 30, failed);
    assert_int_equal(recovery_of(db).skipped_regions, 0);
    assert_int_equal(recovery_of(db).torn_bytes, 0);
    warp_close(db);
}

static void delete_whose_sync_fails_is_eio_and_keeps_the_key(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    char key[32];
    size_t klen = key_of(key, sizeof(key), 3);

    for (uint32_t i = 0; i < 5; i++)
        assert_ok(put_key(db, i));
    inject(OP_FDATASYNC, ".wal", EIO, 0, 1);
    assert_rc(warp_delete(db, key, klen), WARP_EIO);
    assert_keys(db, 5, NULL);
    db = (warp_close(db), open_disk(d->db, &o));
    assert_keys(db, 5, NULL);
    warp_close(db);
}

typedef struct sync_worker {
    warp_db *db;
    uint32_t first, n;
    int *rc; /* result of each put, indexed by key */
} sync_worker;

static void *sync_worker_main(void *arg)
{
    sync_worker *w = arg;

    for (uint32_t i = w->first; i < w->first + w->n; i++) {
        w->rc[i] = put_key(w->db, i);
        if (i % 7 == 0)
            usleep(100);
    }
    return NULL;
}

static void concurrent_writers_see_failed_group_commits_as_eio(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(4, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    enum { THREADS = 4, PER = 300 };
    static int rc[THREADS * PER];
    pthread_t th[THREADS];
    sync_worker w[THREADS];
    bool failed[THREADS * PER];
    uint32_t nfailed = 0, nok = 0;

    for (int t = 0; t < THREADS; t++) {
        w[t] = (sync_worker){db, (uint32_t)t * PER, PER, rc};
        assert_int_equal(pthread_create(&th[t], NULL, sync_worker_main, &w[t]),
                         0);
    }
    /* faults come and go while they write */
    for (int round = 0; round < 20; round++) {
        usleep(2000);
        inject(OP_FDATASYNC, ".wal", EIO, 0, 2);
        inject(OP_SYNCFS, NULL, EIO, 0, 2);
        usleep(2000);
        clear_faults();
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    clear_faults();
    for (uint32_t i = 0; i < THREADS * PER; i++) {
        if (rc[i] != WARP_OK && rc[i] != WARP_EIO) {
            print_error("put f:%u returned %d (%s)\n", i, rc[i],
                        warp_strerror(rc[i]));
            fail();
        }
        failed[i] = rc[i] != WARP_OK;
        nfailed += failed[i];
        nok += !failed[i];
    }
    printf("# %u puts acknowledged, %u failed with WARP_EIO\n", nok, nfailed);
    assert_true(nok > 0);
    assert_keys(db, THREADS * PER, failed);
    db = (warp_close(db), open_disk(d->db, &o));
    assert_keys(db, THREADS * PER, failed);
    warp_close(db);
}

static void everysec_sync_failure_is_reported_by_warp_sync(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(2, WARP_FSYNC_EVERYSEC);
    warp_db *db = open_disk(d->db, &o);

    for (uint32_t i = 0; i < 20; i++)
        assert_ok(put_key(db, i));
    inject(OP_FDATASYNC, NULL, EIO, 0, -1);
    inject(OP_SYNCFS, NULL, EIO, 0, -1);
    inject(OP_MSYNC, NULL, EIO, 0, -1);
    /* puts do not wait for the sync in this mode */
    assert_ok(put_key(db, 20));
    assert_rc(warp_sync(db), WARP_EIO);
    assert_true(durability_of(db).sync_errors >= 1);
    assert_keys(db, 21, NULL);
    clear_faults();
    /* A later sync does not make it good: Linux marks the pages it could
     * not write clean and reports that once, so the next fdatasync may
     * succeed with the bytes never on disk. Reopening replays them from
     * the page cache. */
    assert_rc(warp_sync(db), WARP_EIO);
    assert_ok(put_key(db, 21));
    assert_rc(warp_sync(db), WARP_EIO);
    db = (warp_close(db), open_disk(d->db, &o));
    assert_keys(db, 22, NULL);
    assert_ok(warp_sync(db));
    warp_close(db);
}

/* fsync=never: a segment left behind is closed without a sync, and an
 * explicit warp_sync() (and so warp_close()) must still make it durable,
 * with the directory entries of the segments made since: it syncs the
 * file system. It used to sync only the current segment, or nothing when
 * that one was still empty. */
static void never_mode_sync_covers_the_segments_left_behind(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_NEVER);
    warp_db *db = open_disk(d->db, &o);

    assert_ok(warp_sync(db));
    for (uint32_t i = 0; i < 300; i++) /* several 64 KiB segments */
        assert_ok(put_key(db, i));
    inject(OP_SYNCFS, NULL, EIO, 0, -1);
    assert_rc(warp_sync(db), WARP_EIO);
    assert_int_equal(last_fault_hits(), 1);
    clear_faults();
    assert_rc(warp_sync(db), WARP_EIO); /* a failed sync stays failed */
    db = (warp_close(db), open_disk(d->db, &o));
    assert_keys(db, 300, NULL);
    assert_ok(warp_sync(db));
    /* then nothing is left to sync */
    inject(OP_SYNCFS, NULL, EIO, 0, -1);
    inject(OP_FDATASYNC, NULL, EIO, 0, -1);
    assert_ok(warp_sync(db));
    clear_faults();
    for (uint32_t i = 300; i < 600; i++) /* and a clean store syncs them */
        assert_ok(put_key(db, i));
    assert_ok(warp_sync(db));
    db = (warp_close(db), open_disk(d->db, &o));
    assert_keys(db, 600, NULL);
    warp_close(db);
}

/* ------------------------------------------------------------------------ */
/* Checkpoint failures                                                       */
/* ------------------------------------------------------------------------ */

/* A checkpoint that fails at `op` on `path_has` returns `want`; the store
 * keeps working, and a reopen finds everything. */
static void checkpoint_fault(test_dir *d, enum io_op op, const char *path_has,
                             int err, int skip, int want)
{
    warp_options o = disk_options(2, WARP_FSYNC_ALWAYS);
    warp_db *db;
    size_t nsnap, ntmp;
    char sub[512];

    no_spare_segments();
    db = open_disk(d->db, &o);

    for (uint32_t i = 0; i < 200; i++)
        assert_ok(put_key(db, i));
    assert_ok(warp_checkpoint(db)); /* the previous state: a snapshot */
    for (uint32_t i = 200; i < 300; i++)
        assert_ok(put_key(db, i));
    uint64_t done = durability_of(db).checkpoints;

    inject(op, path_has, err, skip, -1);
    assert_rc(warp_checkpoint(db), want);
    assert_true(last_fault_hits() >= 1);
    assert_int_equal(durability_of(db).checkpoints, done);
    /* reads go on, and writes (unless the fault is the WAL's own) */
    assert_keys(db, 300, NULL);
    if (op == OP_FALLOCATE) {
        clear_faults();
        no_spare_segments();
    }
    for (uint32_t i = 300; i < 350; i++)
        assert_ok(put_key(db, i));
    clear_faults();
    /* no half-written snapshot is left under its final name or as .tmp */
    snprintf(sub, sizeof(sub), "%s/snapshots", d->db);
    free_names(list_files(sub, ".tmp", &ntmp));
    if (op != OP_UNLINK)
        assert_int_equal(ntmp, 0);
    warp_close(db);
    /* the previous state is recoverable */
    db = open_disk(d->db, &o);
    assert_keys(db, 350, NULL);
    /* and with I/O back, a checkpoint succeeds */
    assert_ok(warp_checkpoint(db));
    free_names(snapshot_files(d->db, &nsnap));
    assert_int_equal(nsnap, 2); /* one per shard */
    for (uint32_t i = 350; i < 360; i++)
        assert_ok(put_key(db, i));
    db = (warp_close(db), open_disk(d->db, &o));
    assert_keys(db, 360, NULL);
    warp_close(db);
}

static void checkpoint_that_cannot_write_its_snapshot_is_enospc(void **state)
{
    checkpoint_fault(*state, OP_PWRITE, ".snap", ENOSPC, 0, WARP_ENOSPC);
}

static void checkpoint_failing_midway_through_a_snapshot_is_eio(void **state)
{
    /* the second shard's snapshot fails after the first one is done */
    checkpoint_fault(*state, OP_PWRITE, ".snap", EIO, 3, WARP_EIO);
}

static void checkpoint_that_cannot_sync_its_snapshot_is_eio(void **state)
{
    checkpoint_fault(*state, OP_FDATASYNC, ".snap", EIO, 0, WARP_EIO);
}

static void checkpoint_that_cannot_rename_its_snapshot_is_eio(void **state)
{
    checkpoint_fault(*state, OP_RENAME, ".snap", EIO, 0, WARP_EIO);
}

static void checkpoint_that_cannot_create_its_snapshot_is_enospc(void **state)
{
    checkpoint_fault(*state, OP_OPEN, ".snap", ENOSPC, 0, WARP_ENOSPC);
}

static void checkpoint_that_cannot_start_a_wal_segment_is_enospc(void **state)
{
    checkpoint_fault(*state, OP_FALLOCATE, ".wal", ENOSPC, 0, WARP_ENOSPC);
}

/* ------------------------------------------------------------------------ */
/* Segments readied ahead of time                                            */
/* ------------------------------------------------------------------------ */

static void spare_segment_that_cannot_be_readied_is_not_an_error(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    warp_db *db;

    /* the background thread's attempts fail; the writers make their own */
    inject(OP_FALLOCATE, ".spare", ENOSPC, 0, -1);
    db = open_disk(d->db, &o);
    for (uint32_t i = 0; i < 300; i++) {
        assert_ok(put_key(db, i));
        if (i % 20 == 0)
            usleep(30 * 1000); /* let it try */
    }
    assert_true(last_fault_hits() >= 1);
    assert_int_equal(durability_of(db).sync_errors, 0);
    clear_faults();
    db = (warp_close(db), open_disk(d->db, &o));
    assert_keys(db, 300, NULL);
    warp_close(db);
}

static void put_whose_readied_segment_cannot_be_renamed_is_eio(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(d->db, &o);
    bool failed[400] = {false};
    uint32_t next = 0;

    /* half a segment: the background thread readies the next one */
    for (; next < 32; next++)
        assert_ok(put_key(db, next));
    for (int t = 0; t < 40 && !spare_segment_exists(d->db); t++)
        usleep(50 * 1000);
    assert_true(spare_segment_exists(d->db));
    inject(OP_RENAME, ".spare", EIO, 0, -1);
    no_spare_segments(); /* and no new one after this one fails */
    assert_rc(put_until_failure(db, &next, 100), WARP_EIO);
    failed[next] = true;
    assert_keys(db, next + 1, failed);
    clear_faults();
    for (uint32_t i = next + 1; i < next + 100; i++)
        assert_ok(put_key(db, i));
    db = (warp_close(db), open_disk(d->db, &o));
    assert_keys(db, next + 100, failed);
    warp_close(db);
}

/* ------------------------------------------------------------------------ */
/* Short writes, and faults at open                                          */
/* ------------------------------------------------------------------------ */

static void short_writes_everywhere_lose_nothing(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(2, WARP_FSYNC_ALWAYS);
    warp_db *db;

    pthread_mutex_lock(&inj.lock);
    inj.short_max = 7; /* every pwrite writes 1..7 bytes */
    pthread_mutex_unlock(&inj.lock);
    db = open_disk(d->db, &o);         /* the manifest too */
    for (uint32_t i = 0; i < 300; i++) /* several segment headers */
        assert_ok(put_key(db, i));
    assert_ok(warp_checkpoint(db));
    for (uint32_t i = 300; i < 400; i++)
        assert_ok(put_key(db, i));
    clear_faults();
    db = (warp_close(db), open_disk(d->db, &o));
    assert_keys(db, 400, NULL);
    assert_int_equal(recovery_of(db).snapshot_records, 300);
    warp_check_report r;
    assert_ok(warp_check(d->db, &r));
    warp_close(db);
}

static void
open_that_cannot_make_its_directory_fails_and_holds_nothing(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    warp_db *db = (warp_db *)&db;

    inject(OP_MKDIR, NULL, EIO, 0, -1);
    assert_rc(warp_open(d->db, &o, &db), WARP_EIO);
    assert_null(db);
    clear_faults();
    inject(OP_PWRITE, "manifest", ENOSPC, 0, -1);
    db = (warp_db *)&db;
    assert_rc(warp_open(d->db, &o, &db), WARP_ENOSPC);
    assert_null(db);
    clear_faults();
    /* nothing is left held: it opens, and the store works */
    db = open_disk(d->db, &o);
    assert_ok(put_key(db, 1));
    db = (warp_close(db), open_disk(d->db, &o));
    assert_key(db, 1, true);
    warp_close(db);
}

/* A store of one shard with a snapshot and a WAL after it, closed. */
static void make_checkpointed_store(const char *path)
{
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    warp_db *db = open_disk(path, &o);

    for (uint32_t i = 0; i < 100; i++)
        assert_ok(put_key(db, i));
    assert_ok(warp_checkpoint(db));
    assert_ok(put_key(db, 100));
    warp_close(db);
}

static void snapshot_read_error_at_open_is_eio_not_ecorrupt(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    warp_db *db = (warp_db *)&db;

    make_checkpointed_store(d->db);
    /* the disk fails to read the snapshot: that is no proof of damage */
    inject(OP_PREAD, ".snap", EIO, 0, -1);
    assert_rc(warp_open(d->db, &o, &db), WARP_EIO);
    assert_null(db);
    clear_faults();
    db = open_disk(d->db, &o);
    assert_keys(db, 101, NULL);
    warp_close(db);
}

static void wal_map_error_at_open_is_eio(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(1, WARP_FSYNC_ALWAYS);
    warp_db *db = (warp_db *)&db;

    make_checkpointed_store(d->db);
    inject(OP_MMAP, ".wal", EIO, 0, -1);
    assert_rc(warp_open(d->db, &o, &db), WARP_EIO);
    assert_null(db);
    clear_faults();
    db = open_disk(d->db, &o);
    assert_keys(db, 101, NULL);
    warp_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FAULT_TEST(put_that_cannot_reserve_a_segment_is_enospc_and_not_applied),
        FAULT_TEST(put_that_cannot_reserve_a_segment_is_enospc_with_everysec),
        FAULT_TEST(put_whose_segment_reservation_fails_with_eio_is_eio),
        FAULT_TEST(put_that_cannot_write_a_segment_header_is_enospc),
        FAULT_TEST(put_whose_header_write_is_short_then_enospc_is_enospc),
        FAULT_TEST(put_that_cannot_create_a_segment_file_is_eio),
        FAULT_TEST(put_that_cannot_map_a_segment_is_enomem),
        FAULT_TEST(delete_that_cannot_be_logged_fails_and_keeps_the_key),
        FAULT_TEST(batch_whose_log_space_cannot_be_reserved_changes_nothing),
        FAULT_TEST(put_whose_sync_fails_is_eio_and_is_erased),
        FAULT_TEST(delete_whose_sync_fails_is_eio_and_keeps_the_key),
        FAULT_TEST(concurrent_writers_see_failed_group_commits_as_eio),
        FAULT_TEST(everysec_sync_failure_is_reported_by_warp_sync),
        FAULT_TEST(never_mode_sync_covers_the_segments_left_behind),
        FAULT_TEST(checkpoint_that_cannot_write_its_snapshot_is_enospc),
        FAULT_TEST(checkpoint_failing_midway_through_a_snapshot_is_eio),
        FAULT_TEST(checkpoint_that_cannot_sync_its_snapshot_is_eio),
        FAULT_TEST(checkpoint_that_cannot_rename_its_snapshot_is_eio),
        FAULT_TEST(checkpoint_that_cannot_create_its_snapshot_is_enospc),
        FAULT_TEST(checkpoint_that_cannot_start_a_wal_segment_is_enospc),
        FAULT_TEST(spare_segment_that_cannot_be_readied_is_not_an_error),
        FAULT_TEST(put_whose_readied_segment_cannot_be_renamed_is_eio),
        FAULT_TEST(short_writes_everywhere_lose_nothing),
        FAULT_TEST(open_that_cannot_make_its_directory_fails_and_holds_nothing),
        FAULT_TEST(snapshot_read_error_at_open_is_eio_not_ecorrupt),
        FAULT_TEST(wal_map_error_at_open_is_eio),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
