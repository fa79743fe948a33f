/*
 * group_commit_floor.c - the simplest group commit, to measure what this
 * machine allows before any engine is involved.
 *
 * THREADS writers each append a 128-byte record to one of FILES
 * preallocated files and wait until a sync covers it. The first waiter
 * that finds no sync running becomes the leader: it syncs (fdatasync for
 * one file, syncfs for several) everything appended so far, then wakes
 * everyone. One mutex and one condition variable, nothing clever: the
 * engine's group commit (src/persist.c) should beat it.
 *
 *   build/bin/group-commit-floor FILES THREADS [SECONDS] [DIR]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES   64
#define MAX_THREADS 256
#define RECORD      128

static int nfiles, fds[MAX_FILES];
static off_t offs[MAX_FILES];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t synced = PTHREAD_COND_INITIALIZER;
static unsigned long issued, done, syncs;
static int leading, failed;
static atomic_int stop;
static atomic_ulong total;

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *writer(void *arg)
{
    unsigned long id = (unsigned long)arg, n = 0;
    char rec[RECORD];

    memset(rec, 'x', sizeof(rec));
    while (!atomic_load(&stop)) {
        int f = (int)((id + n) % (unsigned long)nfiles);
        pthread_mutex_lock(&lock);
        if (pwrite(fds[f], rec, sizeof(rec), offs[f]) != sizeof(rec))
            failed = 1;
        offs[f] += RECORD;
        unsigned long ticket = ++issued;
        while (done < ticket) {
            if (leading) {
                pthread_cond_wait(&synced, &lock);
                continue;
            }
            unsigned long target = issued;
            leading = 1;
            pthread_mutex_unlock(&lock);
            int rc = nfiles == 1 ? fdatasync(fds[0]) : syncfs(fds[0]);
            pthread_mutex_lock(&lock);
            failed |= rc != 0;
            done = target;
            leading = 0;
            syncs++;
            pthread_cond_broadcast(&synced);
        }
        pthread_mutex_unlock(&lock);
        n++;
    }
    atomic_fetch_add(&total, n);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t threads[MAX_THREADS];
    int nthreads, seconds = argc > 3 ? atoi(argv[3]) : 3;
    const char *dir = argc > 4 ? argv[4] : ".";
    char path[4096];

    if (argc < 3) {
        fprintf(stderr, "usage: %s FILES THREADS [SECONDS] [DIR]\n", argv[0]);
        return 2;
    }
    nfiles = atoi(argv[1]);
    nthreads = atoi(argv[2]);
    if (nfiles < 1 || nfiles > MAX_FILES || nthreads < 1 ||
        nthreads > MAX_THREADS || seconds < 1) {
        fprintf(stderr, "1-%d files, 1-%d threads, seconds >= 1\n", MAX_FILES,
                MAX_THREADS);
        return 2;
    }
    for (int i = 0; i < nfiles; i++) {
        snprintf(path, sizeof(path), "%s/gcfloor-%d.tmp", dir, i);
        fds[i] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (fds[i] < 0 || posix_fallocate(fds[i], 0, 64 << 20) != 0 ||
            fsync(fds[i]) != 0) {
            perror(path);
            return 1;
        }
        unlink(path); /* gone when we exit */
    }
    double t0 = now();
    for (int i = 0; i < nthreads; i++)
        pthread_create(&threads[i], NULL, writer, (void *)(unsigned long)i);
    sleep((unsigned)seconds);
    atomic_store(&stop, 1);
    for (int i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
    double t = now() - t0;
    if (failed) {
        fprintf(stderr, "a write or sync failed\n");
        return 1;
    }
    printf("files %d threads %d: %.1fK acknowledged writes/s, %lu syncs, "
           "%.1f writes per sync\n",
           nfiles, nthreads, (double)atomic_load(&total) / t / 1e3, syncs,
           syncs ? (double)atomic_load(&total) / (double)syncs : 0.0);
    return 0;
}
