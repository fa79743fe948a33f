/*
 * hist.c - a log-linear latency histogram: reset, merge and percentiles.
 * The bucket layout is described in hist.h; recording is inline there.
 */
#include "hist.h"

#include <stdlib.h>
#include <string.h>

void hist_reset(hist *h)
{
    memset(h, 0, sizeof *h);
    h->min_ns = UINT64_MAX;
}

hist *hist_new(void)
{
    hist *h = malloc(sizeof *h);
    if (h != NULL)
        hist_reset(h);
    return h;
}

void hist_free(hist *h)
{
    free(h);
}

void hist_merge(hist *dst, const hist *src)
{
    for (uint32_t i = 0; i < HIST_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
    dst->count += src->count;
    dst->sum_ns += src->sum_ns;
    if (src->min_ns < dst->min_ns)
        dst->min_ns = src->min_ns;
    if (src->max_ns > dst->max_ns)
        dst->max_ns = src->max_ns;
}

/* The smallest value bucket `i` holds, and how many consecutive values it
 * holds: the inverse of hist_index(). */
static uint64_t bucket_low(uint32_t i, uint64_t *width)
{
    uint32_t octave = i >> HIST_SUB_BITS;
    if (octave <= 1) {
        *width = 1;
        return i;
    }
    unsigned shift = octave - 1;
    *width = (uint64_t)1 << shift;
    return (uint64_t)((i & (HIST_SUB - 1)) + HIST_SUB) << shift;
}

double hist_percentile(const hist *h, double p)
{
    if (h->count == 0)
        return 0.0;
    if (p > 100.0)
        p = 100.0;
    /* The rank of the value wanted, 1-based: ceil(p% of count), at least 1. */
    double exact = p / 100.0 * (double)h->count;
    uint64_t rank = (uint64_t)exact;
    if ((double)rank < exact)
        rank++;
    if (rank == 0)
        rank = 1;

    uint64_t seen = 0;
    for (uint32_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen < rank)
            continue;
        uint64_t width;
        double mid = (double)bucket_low(i, &width) + (double)(width - 1) / 2;
        if (mid < (double)h->min_ns)
            mid = (double)h->min_ns;
        if (mid > (double)h->max_ns)
            mid = (double)h->max_ns;
        return mid;
    }
    return (double)h->max_ns; /* not reached: the buckets sum to count */
}

double hist_mean(const hist *h)
{
    return h->count ? (double)h->sum_ns / (double)h->count : 0.0;
}
