/*
 * bench.h - `warp bench`: the engine's throughput and latency benchmark.
 */
#ifndef WARP_CLI_BENCH_H
#define WARP_CLI_BENCH_H

/* Run `warp bench`. argv[0] is "bench"; the rest are its flags (see
 * `warp bench --help`). Returns the process exit status: 0 on success, 1 if
 * the benchmark failed (an engine error, a missed key, an I/O error), 2 for
 * bad usage. */
int bench_main(int argc, char **argv);

#endif /* WARP_CLI_BENCH_H */
