/*
 * plot.h - `warp bench --plot FILE.png`: ops/s against threads, one line
 * per engine, workload and physics mode, on a log axis, with the seed's
 * figures as reference lines, drawn by gnuplot (Debian gnuplot-nox).
 *
 * Beside FILE.png it leaves FILE.dat (the data, one gnuplot index block
 * per line drawn) and FILE.gp (the script), so the plot can be redrawn
 * or restyled with `gnuplot FILE.gp`.
 */
#ifndef WARP_CLI_PLOT_H
#define WARP_CLI_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#define PLOT_MAX_POINTS 64

/* One line: the median ops/s at each thread count. */
struct plot_series {
    const char *engine;   /* warp, lmdb, rocksdb */
    const char *workload; /* simple, mixed, complex */
    const char *mode;     /* warp's physics mode, or NULL */
    unsigned n;
    unsigned threads[PLOT_MAX_POINTS];
    double ops[PLOT_MAX_POINTS];
};

/* Whether a `gnuplot` executable is on PATH. */
bool plot_available(void);

/* Write the data and script next to `png` and run gnuplot on them.
 * `subtitle` goes under the title. Returns 0, or 1 after reporting on
 * stderr what failed. */
int plot_write(const char *png, const struct plot_series *s, size_t n,
               const char *subtitle);

#endif /* WARP_CLI_PLOT_H */
