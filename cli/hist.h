/*
 * hist.h - a log-linear latency histogram, in the manner of HdrHistogram.
 *
 * LAYOUT
 *   Values are nanoseconds. Below 64 ns every value has a bucket of its own.
 *   From 64 ns up, each power of two [2^e, 2^(e+1)) is split into
 *   HIST_SUB (32) equal buckets: 5 significant bits. A bucket is therefore at
 *   most 1/32 of its lower bound wide, and its midpoint, which is what a
 *   percentile reports, is within 1.6% of every value counted in it.
 *
 *   The buckets reach 2^34 ns (17 s); values above HIST_MAX_NS (10 s) are
 *   counted as 10 s. 960 buckets of 8 bytes: 7.5 KiB, small enough to give
 *   every thread its own histogram and merge them when the threads are done.
 *
 * THREADS
 *   A histogram is not synchronised: one writer at a time, and merge or read
 *   it only once its writer has stopped.
 */
#ifndef WARP_CLI_HIST_H
#define WARP_CLI_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 5
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_TOP_BITS 34 /* buckets cover [0, 2^34) ns */
#define HIST_BUCKETS  ((HIST_TOP_BITS - HIST_SUB_BITS + 1) * HIST_SUB)
#define HIST_MAX_NS   10000000000ull /* 10 s: larger values are clamped */

typedef struct hist {
    uint64_t count;  /* values recorded */
    uint64_t sum_ns; /* their sum, for the mean */
    uint64_t min_ns; /* UINT64_MAX while empty */
    uint64_t max_ns;
    uint64_t buckets[HIST_BUCKETS];
} hist;

/* The bucket that holds `ns` (which must be below 2^HIST_TOP_BITS). */
static inline uint32_t hist_index(uint64_t ns)
{
    if (ns < 2 * HIST_SUB)
        return (uint32_t)ns;
    unsigned shift = 63u - (unsigned)__builtin_clzll(ns) - HIST_SUB_BITS;
    return (shift << HIST_SUB_BITS) + (uint32_t)(ns >> shift);
}

/* Count one value of `ns` nanoseconds. */
static inline void hist_record(hist *h, uint64_t ns)
{
    if (ns > HIST_MAX_NS)
        ns = HIST_MAX_NS;
    h->buckets[hist_index(ns)]++;
    h->count++;
    h->sum_ns += ns;
    if (ns < h->min_ns)
        h->min_ns = ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

/* Empty `h`. */
void hist_reset(hist *h);

/* Allocate an empty histogram, or return NULL when out of memory. Release
 * it with hist_free(), which accepts NULL. */
hist *hist_new(void);
void hist_free(hist *h);

/* Add every value counted in `src` to `dst`. `src` is unchanged. */
void hist_merge(hist *dst, const hist *src);

/* The value at percentile `p` (0 < p <= 100) in nanoseconds: the midpoint of
 * the bucket holding the ceil(p% * count)-th smallest value, clamped to the
 * exact minimum and maximum. 0 for an empty histogram. */
double hist_percentile(const hist *h, double p);

/* The mean in nanoseconds, or 0 for an empty histogram. */
double hist_mean(const hist *h);

#endif /* WARP_CLI_HIST_H */
