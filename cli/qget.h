/*
 * qget.h - `warp bench --workload qget`: one warp_quantum_get() of a key
 * with three partners against four warp_get() calls of the same keys
 * (qget.c says how it is measured). bench.c hands the command line over
 * when --workload is qget.
 */
#ifndef WARP_CLI_QGET_H
#define WARP_CLI_QGET_H

#include <stdbool.h>

/* Whether argv asks for --workload qget (as "--workload qget" or
 * "--workload=qget"). */
bool qget_wanted(int argc, char **argv);

/* Run the qget benchmark with bench's argv (argv[0] is "bench"). Returns
 * the exit status: 0, 1 if the benchmark failed, 2 for bad usage. */
int qget_main(int argc, char **argv);

#endif /* WARP_CLI_QGET_H */
