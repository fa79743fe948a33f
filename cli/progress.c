/* progress.c - the progress bar on stderr (progress.h). */
#include "progress.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 30

static int tty = -1; /* unknown */
static uint64_t last_ns;
static bool drawn;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool progress_on(void)
{
    if (tty < 0)
        tty = isatty(STDERR_FILENO) ? 1 : 0;
    return tty == 1;
}

void progress_draw(const char *label, double done, double total,
                   const char *detail, bool force)
{
    char bar[BAR_WIDTH + 1];
    if (!progress_on())
        return;
    uint64_t now = mono_ns();
    if (!force && drawn && now - last_ns < 100000000u)
        return;
    last_ns = now;
    double f = total > 0 ? done / total : 0;
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    int fill = (int)(f * BAR_WIDTH + 0.5);
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '#' : '-';
    bar[BAR_WIDTH] = '\0';
    fprintf(stderr, "\r\033[K%s [%s] %3.0f%% %s", label, bar, f * 100,
            detail ? detail : "");
    fflush(stderr);
    drawn = true;
}

void progress_clear(void)
{
    if (!progress_on() || !drawn)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    drawn = false;
}
