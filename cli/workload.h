/*
 * workload.h - the worker threads of `warp bench`: what one run does, and
 * what it measured. bench.c decides which runs to make and reports them.
 */
#ifndef WARP_CLI_WORKLOAD_H
#define WARP_CLI_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "keygen.h"
#include "warp.h"

#define BENCH_BLOCK   256 /* ops between two reads of the stop flag */
#define BENCH_SAMPLE  16  /* one op in BENCH_SAMPLE is timed */
#define BATCH_KEYS    16  /* keys per warp_get_batch() call */
#define SYNC_BLOCK    16  /* fsync=always puts between two flag reads */
#define PATTERN_SLACK 64  /* values are windows at offsets 0..63 */
#define PRELOAD_CHUNK 1024

/* The mixed workload's shares, in tenths: gets, puts, then related reads. */
#define MIXED_GET_TENTHS 7
#define MIXED_PUT_TENTHS 2

enum workload {
    WL_SIMPLE,
    WL_BATCH,
    WL_PUT,
    WL_MIXED,
    WL_RECOVER,
    WL_CHECKPOINT,
    WL_REBALANCE,
    WL_COUNT
};

extern const char *const workload_names[WL_COUNT];

/* What the workers of one run do. The pointers are borrowed for the run. */
struct run_spec {
    warp_db *db;
    enum workload workload; /* simple, batch, put, mixed; checkpoint (gets
                             * while the caller's thread checkpoints);
                             * rebalance (gets counted per slot) */
    uint32_t keys;
    size_t value_size;
    const uint8_t *pattern; /* make_pattern() */
    enum key_layout layout;
    const keydist *dist;
    bool sync_puts;          /* fsync=always on disk: each put waits */
    const uint16_t *slot_of; /* rebalance: the slot of each key index */
    unsigned threads;
    double seconds;
};

/* What a run measured. */
struct run_stats {
    uint64_t ops;
    double seconds; /* earliest worker start to latest worker stop */
    double ops_per_sec;
    double p50_us, p99_us, p999_us;
    uint64_t checkpoints; /* checkpoint workload: checkpoints finished */
    double checkpoint_ms; /* and their mean time */
    uint64_t *slot_ops;   /* rebalance: the caller's WARP_SLOTS counters,
                           * to which each slot's gets are added */
};

/* Run spec->threads workers for spec->seconds. Every get must find its key
 * with a value_size-byte value. Returns 0 with *out filled (out->slot_ops
 * is an input), or 1 after reporting on stderr why the run failed. */
int workload_run(const struct run_spec *spec, struct run_stats *out);

/* Put key indexes 0 .. count-1, named in `layout`, with warp_put_batch()
 * in chunks of PRELOAD_CHUNK, index i with value_of(pattern, i + shift)
 * (value_size bytes). Returns WARP_OK or the engine's error, which has been
 * reported on stderr (the store may then hold part of the keys). */
int workload_preload(warp_db *db, uint32_t count, enum key_layout layout,
                     size_t value_size, const uint8_t *pattern, uint32_t shift);

/* The pattern values are windows into: value_size + PATTERN_SLACK bytes,
 * malloc'd (free() it), or NULL when out of memory. */
uint8_t *make_pattern(size_t value_size);

/* The value of key index i: pattern[i % PATTERN_SLACK ..][0 .. B-1]:
 * deterministic, different for neighbouring keys, and free to produce. */
static inline const uint8_t *value_of(const uint8_t *pattern, uint32_t i)
{
    return pattern + (i % PATTERN_SLACK);
}

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif /* WARP_CLI_WORKLOAD_H */
