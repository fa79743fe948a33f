/*
 * engine.c - the engines `warp bench --engine` knows (engine.h), and the
 * once-a-second sync thread the adapters share.
 */
#include "engine.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const engine_ops engine_warp;
#ifdef WARP_BENCH_LMDB
extern const engine_ops engine_lmdb;
#endif
#ifdef WARP_BENCH_ROCKSDB
extern const engine_ops engine_rocksdb;
#endif

const char *const engine_names[] = {"warp", "lmdb", "rocksdb", NULL};

static const engine_ops *const built[] = {
    &engine_warp,
#ifdef WARP_BENCH_LMDB
    &engine_lmdb,
#endif
#ifdef WARP_BENCH_ROCKSDB
    &engine_rocksdb,
#endif
};

const engine_ops *engine_find(const char *name)
{
    for (size_t i = 0; i < sizeof built / sizeof built[0]; i++)
        if (strcmp(built[i]->name, name) == 0)
            return built[i];
    return NULL;
}

bool engine_built(const char *name)
{
    return engine_find(name) != NULL;
}

/* ------------------------------------------------------------------------ */
/* The sync thread                                                           */
/* ------------------------------------------------------------------------ */

struct engine_syncer {
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* on CLOCK_MONOTONIC */
    bool stop;
    void (*fn)(void *arg);
    void *arg;
};

static void *syncer_main(void *p)
{
    engine_syncer *s = p;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        next.tv_sec += 1;
        while (!s->stop && pthread_cond_timedwait(&s->cv, &s->mu, &next) == 0)
            ;
        if (s->stop)
            break;
        pthread_mutex_unlock(&s->mu);
        s->fn(s->arg);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

engine_syncer *engine_syncer_start(void (*fn)(void *arg), void *arg)
{
    engine_syncer *s = calloc(1, sizeof *s);
    pthread_condattr_t ca;
    if (s == NULL) {
        fprintf(stderr, "warp bench: out of memory\n");
        return NULL;
    }
    s->fn = fn;
    s->arg = arg;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&s->tid, NULL, syncer_main, s) != 0) {
        fprintf(stderr, "warp bench: cannot start the sync thread\n");
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    return s;
}

void engine_syncer_stop(engine_syncer *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->tid, NULL);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
