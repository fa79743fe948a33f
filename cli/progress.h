/*
 * progress.h - a one-line progress bar on stderr, drawn only when stderr
 * is a terminal (so logs and pipes get none of it).
 */
#ifndef WARP_CLI_PROGRESS_H
#define WARP_CLI_PROGRESS_H

#include <stdbool.h>

/* Whether bars are drawn (stderr is a terminal); decided once. */
bool progress_on(void);

/* Draw "label [#####-----] detail" for `done` of `total` (0 .. 1 of the
 * bar), at most about ten times a second unless `force`. */
void progress_draw(const char *label, double done, double total,
                   const char *detail, bool force);

/* Erase the bar's line. */
void progress_clear(void);

#endif /* WARP_CLI_PROGRESS_H */
