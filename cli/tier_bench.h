/*
 * tier_bench.h - `warp bench --workload tiers`: the event-horizon tiers'
 * benchmarks (tier_bench.c says what they measure).
 */
#ifndef WARP_CLI_TIER_BENCH_H
#define WARP_CLI_TIER_BENCH_H

#include <stdbool.h>

/* Whether argv asks for the tier benchmarks (--workload tiers). */
bool tier_bench_wanted(int argc, char **argv);

/* Run them; returns the exit status (0, 1 on failure, 2 on bad usage). */
int tier_bench_main(int argc, char **argv);

#endif
