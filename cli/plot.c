/* plot.c - the gnuplot plot of `warp bench --plot` (plot.h). */
#include "plot.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The seed's figures (../shared/reference/upstream-benchmarks.md, section
 * 1 and 10): measured ops/s of large_dataset_feature_validation, and the
 * long-term targets of PERFORMANCE_ANALYSIS.md. */
static const struct {
    double ops;
    const char *title;
    const char *dash;
    const char *color;
} refs[] = {
    {1038, "seed measured, 1 process: 1,038 ops/s", "2", "#b00020"},
    {630, "seed measured, 4 processes: 630 ops/s", "3", "#b00020"},
    {300000, "seed target, simple: 300K", "1", "#888888"},
    {150000, "seed target, mixed: 150K", "2", "#888888"},
    {75000, "seed target, complex: 75K", "4", "#888888"},
};

bool plot_available(void)
{
    const char *path = getenv("PATH");
    char buf[4096];
    if (path == NULL)
        path = "/usr/bin:/bin";
    while (*path != '\0') {
        size_t len = strcspn(path, ":");
        if (len > 0 && len + sizeof "/gnuplot" < sizeof buf) {
            memcpy(buf, path, len);
            memcpy(buf + len, "/gnuplot", sizeof "/gnuplot");
            if (access(buf, X_OK) == 0)
                return true;
        }
        path += len + (path[len] == ':');
    }
    return false;
}

static const char *color_of(const char *engine)
{
    return strcmp(engine, "warp") == 0   ? "#1f5fbf"
           : strcmp(engine, "lmdb") == 0 ? "#2e9e44"
                                         : "#e07b00";
}

/* Point type and dash type by workload. */
static int point_of(const char *wl)
{
    return strcmp(wl, "simple") == 0 ? 7 : strcmp(wl, "mixed") == 0 ? 9 : 5;
}

static int dash_of(const char *wl)
{
    return strcmp(wl, "simple") == 0 ? 1 : strcmp(wl, "mixed") == 0 ? 2 : 4;
}

/* `png` without its .png suffix, plus `ext`; malloc'd. */
static char *sibling(const char *png, const char *ext)
{
    size_t len = strlen(png);
    if (len > 4 && strcmp(png + len - 4, ".png") == 0)
        len -= 4;
    char *p = malloc(len + strlen(ext) + 1);
    if (p != NULL) {
        memcpy(p, png, len);
        strcpy(p + len, ext);
    }
    return p;
}

static void write_data(FILE *f, const struct plot_series *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "# %s %s%s%s\n", s[i].engine, s[i].workload,
                s[i].mode ? " physics " : "", s[i].mode ? s[i].mode : "");
        for (unsigned p = 0; p < s[i].n; p++)
            fprintf(f, "%u %.1f\n", s[i].threads[p], s[i].ops[p]);
        fputs("\n\n", f);
    }
}

/* The x range and tics: every thread count that occurs. */
static void write_axes(FILE *f, const struct plot_series *s, size_t n)
{
    unsigned lo = 0, hi = 0;
    bool seen[PLOT_MAX_POINTS * 16 + 1] = {false};
    for (size_t i = 0; i < n; i++)
        for (unsigned p = 0; p < s[i].n; p++) {
            unsigned t = s[i].threads[p];
            lo = lo == 0 || t < lo ? t : lo;
            hi = t > hi ? t : hi;
            if (t < sizeof seen)
                seen[t] = true;
        }
    fprintf(f, "set xrange [%g:%g]\nset xtics (", lo - 0.25, hi + 0.25);
    bool first = true;
    for (unsigned t = lo; t <= hi && t < sizeof seen; t++)
        if (seen[t]) {
            fprintf(f, "%s\"%u\" %u", first ? "" : ", ", t, t);
            first = false;
        }
    fputs(")\n", f);
}

static void write_script(FILE *f, const char *png, const char *dat,
                         const char *gp, const struct plot_series *s, size_t n,
                         const char *subtitle)
{
    fprintf(f,
            "# written by `warp bench --plot`; redraw with `gnuplot %s`\n"
            "set terminal pngcairo size 1280,800 font \",11\"\n"
            "set output '%s'\n"
            "set title \"WarpEngine, LMDB and RocksDB on the seed's "
            "workloads\\n{/*0.8 %s}\"\n"
            "set logscale y\nset format y \"%%.0s%%c\"\n"
            "set yrange [300:*]\n"
            "set xlabel \"threads\"\nset ylabel \"ops/s (log scale)\"\n"
            "set grid ytics mytics\n"
            "set key outside right top box\n",
            gp, png, subtitle);
    write_axes(f, s, n);
    fputs("plot \\\n", f);
    for (size_t i = 0; i < n; i++)
        fprintf(f,
                "  '%s' index %zu using 1:2 with linespoints lw 2 lc rgb "
                "\"%s\" dt %d pt %d ps 1.5 title \"%s %s%s%s\", \\\n",
                dat, i, color_of(s[i].engine), dash_of(s[i].workload),
                point_of(s[i].workload), s[i].engine, s[i].workload,
                s[i].mode ? ", physics " : "", s[i].mode ? s[i].mode : "");
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
        fprintf(f,
                "  %g with lines lw 1.5 lc rgb \"%s\" dt %s title \"%s\"%s\n",
                refs[i].ops, refs[i].color, refs[i].dash, refs[i].title,
                i + 1 < sizeof refs / sizeof refs[0] ? ", \\" : "");
}

/* Run `gnuplot script`; returns 0 or 1 (reported). */
static int run_gnuplot(const char *script)
{
    char *argv[] = {"gnuplot", (char *)script, NULL};
    pid_t pid;
    int st, err = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ);
    if (err != 0) {
        fprintf(stderr, "warp bench: --plot: cannot run gnuplot: %s\n",
                strerror(err));
        return 1;
    }
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            fprintf(stderr, "warp bench: --plot: waitpid: %s\n",
                    strerror(errno));
            return 1;
        }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return 0;
    fprintf(stderr, "warp bench: --plot: gnuplot %s failed (status %d)\n",
            script, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 1;
}

/* Create `path` for writing into *out; returns 0 or 1 (reported). */
static int write_file(const char *path, FILE **out)
{
    *out = fopen(path, "w");
    if (*out == NULL)
        fprintf(stderr, "warp bench: --plot: cannot create %s: %s\n", path,
                strerror(errno));
    return *out == NULL;
}

static int close_file(FILE *f, const char *path)
{
    bool ok = !ferror(f);
    ok = fclose(f) == 0 && ok;
    if (!ok)
        fprintf(stderr, "warp bench: --plot: cannot write %s\n", path);
    return !ok;
}

int plot_write(const char *png, const struct plot_series *s, size_t n,
               const char *subtitle)
{
    char *dat = sibling(png, ".dat"), *gp = sibling(png, ".gp");
    int status = 1;
    FILE *f;
    if (dat == NULL || gp == NULL) {
        fprintf(stderr, "warp bench: out of memory\n");
        goto out;
    }
    if (write_file(dat, &f) != 0)
        goto out;
    write_data(f, s, n);
    if (close_file(f, dat) != 0 || write_file(gp, &f) != 0)
        goto out;
    write_script(f, png, dat, gp, s, n, subtitle);
    if (close_file(f, gp) != 0)
        goto out;
    status = run_gnuplot(gp);
out:
    free(gp);
    free(dat);
    return status;
}
