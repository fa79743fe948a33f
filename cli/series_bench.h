/*
 * series_bench.h - `warp bench --workload tsadd,...`: the time-series
 * workloads of the benchmark (series_bench.c).
 */
#ifndef WARP_CLI_SERIES_BENCH_H
#define WARP_CLI_SERIES_BENCH_H

#include <stdbool.h>

/* Whether `warp bench`'s arguments ask for time-series workloads (a
 * --workload list whose first name starts with "ts"); bench_main() then
 * hands them to series_bench_main(). */
bool series_bench_wanted(int argc, char **argv);

/* Run the time-series workloads. argv[0] is "bench". Returns the exit
 * status: 0, 1 (an engine or I/O error), or 2 (bad usage). */
int series_bench_main(int argc, char **argv);

#endif /* WARP_CLI_SERIES_BENCH_H */
