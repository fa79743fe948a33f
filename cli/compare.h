/*
 * compare.h - `warp bench --engine ...`: the seed's three workloads on
 * WarpEngine and on its peers, through the engine interface of
 * bench/engine.h. compare.c parses the command, loads the stores and
 * reports; compare_run.c runs the workers of one measured window.
 */
#ifndef WARP_CLI_COMPARE_H
#define WARP_CLI_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../bench/engine.h"
#include "large.h"

/* The seed's tiers (docs/BENCHMARKS.md, "The seed's workloads"). */
enum cmp_workload { CW_SIMPLE, CW_MIXED, CW_COMPLEX, CW_COUNT };

#define CMP_SUBTEST_ITERS 50  /* iterations of each sub-test per call */
#define CMP_CALL_OPS      900 /* engine calls per workload call */

/* Whether argv asks for this harness: --engine, --plot or --target-gb,
 * or a workload list with large or complex in it. */
bool compare_wanted(int argc, char **argv);

/* Run it with bench's argv (argv[0] is "bench"). Returns the exit status:
 * 0, 1 if the benchmark failed, 2 for bad usage. */
int compare_main(int argc, char **argv);

/* One measured window: spec->threads workers on one open store. */
struct cmp_spec {
    const engine_ops *ops;
    engine *eng;
    enum cmp_workload workload;
    uint32_t keys;              /* simple, mixed */
    size_t value_size;          /* simple, mixed */
    const uint8_t *pattern;     /* simple, mixed: make_pattern() */
    const large_dataset *large; /* complex */
    unsigned threads;
    double seconds;
    uint64_t seed;     /* the workers' generators start from it */
    const char *label; /* for the progress bar */
};

/* What a window measured. Every engine call is counted once: a get, a put,
 * a related read (get_many) and a quantum get are one op each. */
struct cmp_stats {
    uint64_t ops;
    uint64_t gets, puts, reads, qgets; /* ops by kind */
    double seconds; /* earliest worker start to latest worker stop */
    double ops_per_sec;
    double cores; /* the workers' CPU seconds / seconds */
    double p50_us, p99_us, p999_us;
};

/* Run the window. Every read of a key the store must hold has to find it
 * (and, for simple and mixed, with a value_size-byte value). Returns 0
 * with *out filled, or 1 after reporting on stderr why it failed. */
int cmp_run(const struct cmp_spec *spec, struct cmp_stats *out);

#endif /* WARP_CLI_COMPARE_H */
