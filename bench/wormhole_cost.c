/*
 * wormhole_cost.c - what the wormhole graph (src/wormhole.h) costs the
 * physics thread near its largest: the touch of a batch get's slot pairs,
 * and a decay round.
 *
 * Random batches of 16 slots (120 pairs each, as a 16-key batch get of
 * random keys teaches; almost every pair is new) arrive at 20,400 pairs a
 * round, so that the graph settles near 900,000 edges (45 rounds' worth:
 * a new edge, unused, is pruned at its 45th decay). After 60 rounds of
 * that, ROUNDS more are timed: the touches per pair, and each decay. A
 * decay visits only the edges due then (wormhole.c), here the 20,400 of
 * 45 rounds ago. Single-threaded, like the physics thread.
 *
 *   build/bin/wormhole-cost [ROUNDS]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "wormhole.h"

#define BATCH     16
#define PAIRS     (BATCH * (BATCH - 1) / 2)
#define PER_ROUND 170 /* batches a round: 20,400 pairs */
#define SETTLE    60  /* rounds before the timed ones */

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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Touch a round's batches; the seconds it took. */
static double touch_round(wormholes *w, uint64_t *x)
{
    uint32_t slots[BATCH];
    double t0 = now_s();

    for (int b = 0; b < PER_ROUND; b++) {
        random_batch(x, slots);
        (void)wormholes_touch(w, slots, BATCH);
    }
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    uint64_t x = 88172645463325252ull;
    wormhole_stats st;
    wormholes *w;
    double touch_s = 0, *ms;

    if (rounds < 1 || rounds > 100000 || wormholes_new(&w) != 0 ||
        !(ms = malloc((size_t)rounds * sizeof(*ms)))) {
        fprintf(stderr, "usage: wormhole-cost [ROUNDS 1..100000]\n");
        return 2;
    }
    for (int r = 0; r < SETTLE; r++) {
        (void)touch_round(w, &x);
        wormholes_decay(w);
    }
    wormholes_stats(w, &st);
    printf("settled: %d rounds of %d pairs, %llu edges, %llu pruned\n", SETTLE,
           PER_ROUND * PAIRS, (unsigned long long)st.edges,
           (unsigned long long)st.pruned);
    for (int r = 0; r < rounds; r++) {
        touch_s += touch_round(w, &x);
        double t0 = now_s();
        wormholes_decay(w);
        ms[r] = (now_s() - t0) * 1e3;
    }
    wormholes_stats(w, &st);
    qsort(ms, (size_t)rounds, sizeof(*ms), cmp_double);
    printf("touch: %.1f ns a pair (%d rounds of %d batches of %d slots)\n",
           touch_s / ((double)rounds * PER_ROUND * PAIRS) * 1e9, rounds,
           PER_ROUND, BATCH);
    printf("decay: median %.2f ms, max %.2f ms a round (%d rounds; %llu "
           "edges, %llu pruned in all)\n",
           ms[rounds / 2], ms[rounds - 1], rounds, (unsigned long long)st.edges,
           (unsigned long long)st.pruned);
    free(ms);
    wormholes_free(w);
    return 0;
}
