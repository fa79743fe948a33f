/*
 * rebalance.h - `warp bench --workload rebalance`: how evenly
 * warp_rebalance() spreads a skewed load over the shards, measured from
 * the bench's side (rebalance.c says how).
 */
#ifndef WARP_CLI_REBALANCE_H
#define WARP_CLI_REBALANCE_H

#include <stdint.h>

#include "workload.h"

/* One experiment: the store's options (their physics mode is the run's),
 * the keys and values, the key distribution and the load. */
struct rebalance_spec {
    const warp_options *opts;
    uint32_t keys;
    size_t value_size;
    const uint8_t *pattern;
    const keydist *dist;
    unsigned threads;
    double seconds;
};

/* One phase's load, as the bench counted it. */
struct rebalance_phase {
    struct run_stats run;
    double busiest_share;   /* the busiest shard's ops / all ops */
    uint32_t busiest_shard; /* which shard that was */
    double physics_cpu;     /* the physics thread's cores; NAN if unknown */
};

struct rebalance_result {
    uint32_t shards;
    struct rebalance_phase before, after;
    double hottest_slot_share; /* of both phases' ops */
    double best_share;         /* max(1 / shards, hottest_slot_share) */
    warp_rebalance_report report;
    double settle_ms; /* waited for the physics thread before rebalancing */
};

/* Open a fresh in-memory store, preload it, run the load, rebalance, run
 * it again; close. Returns 0 with *out filled, or 1 after reporting the
 * failure on stderr. */
int rebalance_run(const struct rebalance_spec *spec,
                  struct rebalance_result *out);

#endif /* WARP_CLI_REBALANCE_H */
