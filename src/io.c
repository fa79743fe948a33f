/* io.c - the system's file operations, and the pointer tests swap. */
#include "io.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "warp.h"

static int sys_open(const char *path, int flags, mode_t mode)
{
    return open(path, flags | O_CLOEXEC, mode);
}

static int sys_fallocate(int fd, off_t off, off_t len)
{
    int rc = posix_fallocate(fd, off, len);
    if (rc) {
        errno = rc;
        return -1;
    }
    return 0;
}

static void *sys_mmap(size_t len, int fd)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

static int sys_msync(void *addr, size_t len)
{
    return msync(addr, len, MS_SYNC);
}

const io_ops io_system = {
    .open = sys_open,
    .close = close,
    .pwrite = pwrite,
    .pread = pread,
    .fdatasync = fdatasync,
    .syncfs = syncfs,
    .fallocate = sys_fallocate,
    .ftruncate = ftruncate,
    .rename = rename,
    .unlink = unlink,
    .mkdir = mkdir,
    .mmap = sys_mmap,
    .msync = sys_msync,
};

const io_ops *io = &io_system;

void io_set_ops(const io_ops *ops)
{
    io = ops ? ops : &io_system;
}

int io_write_all(int fd, const void *buf, size_t n, off_t off)
{
    const char *p = buf;

    while (n) {
        ssize_t w = io->pwrite(fd, p, n, off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {
            errno = ENOSPC;
            return -1;
        }
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

int io_read_all(int fd, void *buf, size_t n, off_t off)
{
    char *p = buf;

    while (n) {
        ssize_t r = io->pread(fd, p, n, off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0) {
            errno = ENODATA; /* the file is shorter: not an I/O error */
            return -1;
        }
        p += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

int io_sync_dir(const char *path)
{
    int fd = io->open(path, O_RDONLY | O_DIRECTORY, 0), rc;

    if (fd < 0)
        return -1;
    rc = io->fdatasync(fd);
    io->close(fd);
    return rc;
}

int io_error(int err)
{
    switch (err) {
    case ENOSPC:
    case EDQUOT:
        return WARP_ENOSPC;
    case ENOMEM:
        return WARP_ENOMEM;
    default:
        return WARP_EIO;
    }
}

static int name_cmp(const void *a, const void *b)
{
    const io_name *x = a, *y = b;

    if (x->shard != y->shard)
        return x->shard < y->shard ? -1 : 1;
    return x->num < y->num ? -1 : x->num > y->num;
}

int io_list_numbered(const char *dir, const char *ext, uint32_t shard,
                     io_name **out, size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t cap = 0;

    *out = NULL;
    *n = 0;
    if (!d)
        return errno == ENOENT ? WARP_OK : io_error(errno);
    while ((e = readdir(d))) {
        io_name v;
        char tail[16];
        if (sscanf(e->d_name, "%5" SCNu32 "-%10" SCNu64 "%15s", &v.shard,
                   &v.num, tail) != 3 ||
            strcmp(tail, ext) != 0 ||
            (shard != IO_ALL_SHARDS && v.shard != shard))
            continue;
        if (*n == cap) {
            io_name *g = realloc(*out, (cap = cap ? cap * 2 : 16) * sizeof(v));
            if (!g) {
                closedir(d);
                free(*out);
                *out = NULL;
                *n = 0;
                return WARP_ENOMEM;
            }
            *out = g;
        }
        (*out)[(*n)++] = v;
    }
    closedir(d);
    if (*n > 1)
        qsort(*out, *n, sizeof(**out), name_cmp);
    return WARP_OK;
}

int io_list_numbers(const char *dir, const char *ext, uint32_t shard,
                    uint64_t **nums, size_t *n)
{
    io_name *v;
    int rc = io_list_numbered(dir, ext, shard, &v, n);

    *nums = NULL;
    if (rc)
        return rc;
    if (*n && !(*nums = malloc(*n * sizeof(**nums))))
        rc = WARP_ENOMEM;
    for (size_t i = 0; rc == WARP_OK && i < *n; i++)
        (*nums)[i] = v[i].num;
    free(v);
    return rc;
}
