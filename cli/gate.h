/*
 * gate.h - the start gate of the benchmark workers: each worker arrives
 * and waits; the main thread opens the gate once all have arrived (so
 * every timed window starts with every worker ready), or aborts the run.
 */
#ifndef WARP_CLI_GATE_H
#define WARP_CLI_GATE_H

#include <pthread.h>
#include <stdbool.h>

struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned arrived;
    bool open;
    bool abort;
};

static inline void gate_init(struct gate *g)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->arrived = 0;
    g->open = g->abort = false;
}

static inline void gate_destroy(struct gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

/* Arrive at the gate and wait until it opens. Returns false if the run was
 * aborted instead. */
static inline bool gate_wait(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->arrived++;
    pthread_cond_broadcast(&g->cv);
    while (!g->open && !g->abort)
        pthread_cond_wait(&g->cv, &g->mu);
    bool go = !g->abort;
    pthread_mutex_unlock(&g->mu);
    return go;
}

/* Wait until `expected` workers have arrived, then open the gate, or abort
 * the run if `abort`. */
static inline void gate_release(struct gate *g, unsigned expected, bool abort)
{
    pthread_mutex_lock(&g->mu);
    while (!abort && g->arrived < expected)
        pthread_cond_wait(&g->cv, &g->mu);
    g->open = !abort;
    g->abort = abort;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

#endif /* WARP_CLI_GATE_H */
