/*
 * wormhole_cost.c - what the wormhole graph (src/wormhole.h) costs the
 * physics thread at its largest: one touch of a batch get's slot pairs,
 * and one decay round.
 *
 * Random batches of 16 slots (120 pairs each, as a 16-key batch get of
 * random keys teaches) are touched until the graph holds 900,000 edges;
 * then 50,000 more batches are timed, per pair, on the nearly full graph
 * (it refuses new edges at WORMHOLES_MAX_EDGES, 1,048,576); then ROUNDS
 * decays are timed one by one (no edge is old enough to be pruned yet).
 * Single-threaded, like the physics thread.
 *
 *   build/bin/wormhole-cost [ROUNDS]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "wormhole.h"

#define BATCH 16
#define PAIRS (BATCH * (BATCH - 1) / 2)

static double now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A random batch of slots (xorshift64). */
static void random_batch(uint64_t *x, uint32_t *slots)
{
    for (int i = 0; i < BATCH; i++) {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        slots[i] = (uint32_t)(*x % WARP_SLOTS);
    }
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    uint64_t x = 88172645463325252ull;
    uint32_t slots[BATCH];
    wormhole_stats st;
    wormholes *w;
    long batches = 0;

    if (rounds < 1 || wormholes_new(&w) != 0) {
        fprintf(stderr, "usage: wormhole-cost [ROUNDS >= 1]\n");
        return 2;
    }
    double t0 = now_s();
    do {
        random_batch(&x, slots);
        (void)wormholes_touch(w, slots, BATCH);
        wormholes_stats(w, &st);
    } while (++batches, st.edges < 900000);
    printf("build: %ld batches, %llu edges, %.1f ns a pair\n", batches,
           (unsigned long long)st.edges,
           (now_s() - t0) / ((double)batches * PAIRS) * 1e9);
    t0 = now_s();
    for (int b = 0; b < 50000; b++) {
        random_batch(&x, slots);
        (void)wormholes_touch(w, slots, BATCH);
    }
    printf("touch: %.1f ns a pair (50,000 batches of %d slots)\n",
           (now_s() - t0) / (50000.0 * PAIRS) * 1e9, BATCH);
    for (int r = 0; r < rounds; r++) {
        t0 = now_s();
        wormholes_decay(w);
        double ms = (now_s() - t0) * 1e3;
        wormholes_stats(w, &st);
        printf("decay: %.1f ms (%llu edges)\n", ms,
               (unsigned long long)st.edges);
    }
    wormholes_free(w);
    return 0;
}
