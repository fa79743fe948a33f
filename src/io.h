/*
 * io.h - every file operation the engine makes, through one swappable table.
 *
 * The WAL, snapshots, the manifest and the lock file call these wrappers,
 * never the system calls directly. Tests replace the table with
 * io_set_ops() to inject EIO, ENOSPC and short writes at chosen calls, and
 * check that the engine reports them and loses nothing acknowledged.
 *
 * Each function returns what the system call returns (-1 with errno set on
 * failure), except io_write_all(), which loops over short writes.
 */
#ifndef WARP_IO_H
#define WARP_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct io_ops {
    int (*open)(const char *path, int flags, mode_t mode);
    int (*close)(int fd);
    ssize_t (*pwrite)(int fd, const void *buf, size_t n, off_t off);
    ssize_t (*pread)(int fd, void *buf, size_t n, off_t off);
    int (*fdatasync)(int fd);
    int (*syncfs)(int fd);
    int (*fallocate)(int fd, off_t off, off_t len);
    int (*ftruncate)(int fd, off_t len);
    int (*rename)(const char *from, const char *to);
    int (*unlink)(const char *path);
    int (*mkdir)(const char *path, mode_t mode);
    void *(*mmap)(size_t len, int fd);    /* shared, read-write, from 0 */
    int (*msync)(void *addr, size_t len); /* MS_SYNC; addr page-aligned */
} io_ops;

/* The operations in use. Never NULL. */
extern const io_ops *io;

/* Replace the operations (NULL restores the system's). For tests; not
 * thread-safe against I/O in flight. */
void io_set_ops(const io_ops *ops);

/* The system's operations, for a test table to fall back on. */
extern const io_ops io_system;

/* Write all `n` bytes at `off`, looping over short writes. 0 or -1. */
int io_write_all(int fd, const void *buf, size_t n, off_t off);

/* Read exactly `n` bytes at `off`. Returns 0, or -1 with errno set
 * (ENODATA when the file ends first). */
int io_read_all(int fd, void *buf, size_t n, off_t off);

/* fsync a directory, so that renames and creations in it are durable. */
int io_sync_dir(const char *path);

/* A file named SSSSS-NNNNNNNNNN<ext>, as WAL segments and snapshots are:
 * shard S, number N, in zero-padded decimal. */
typedef struct io_name {
    uint32_t shard;
    uint64_t num;
} io_name;

#define IO_ALL_SHARDS UINT32_MAX

/* The files in `dir` named SSSSS-NNNNNNNNNN<ext> (of `shard`, or of every
 * shard with IO_ALL_SHARDS), sorted by shard, then number, into *out
 * (malloc'd; free it). A missing directory is an empty list. Returns
 * WARP_OK, WARP_ENOMEM or WARP_EIO. */
int io_list_numbered(const char *dir, const char *ext, uint32_t shard,
                     io_name **out, size_t *n);

/* The same for one shard, numbers only, ascending, into *nums (malloc'd;
 * free it). */
int io_list_numbers(const char *dir, const char *ext, uint32_t shard,
                    uint64_t **nums, size_t *n);

/* Map a WARP_* code from errno after a failed call: ENOSPC and EDQUOT give
 * WARP_ENOSPC, ENOMEM gives WARP_ENOMEM, anything else WARP_EIO. */
int io_error(int err);

#endif
