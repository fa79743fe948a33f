/*
 * common.h - helpers shared by the subcommands that work on a data
 * directory (check, dump, load): engine options from --opt, and the test
 * that a directory holds a store.
 */
#ifndef WARP_CLI_COMMON_H
#define WARP_CLI_COMMON_H

#include <stdbool.h>

#include "warp.h"

/* Set option `name` to `value` in `opts`, as flag `flag` of CMD asked.
 * On error prints "warp CMD: FLAG: ..." on stderr (naming the valid options
 * for an unknown name) and returns false; `opts` is unchanged then. */
bool cli_apply_opt(warp_options *opts, const char *cmd, const char *flag,
                   const char *name, const char *value);

/* Apply "--opt NAME=VALUE"'s `spec` to `opts`. On error prints
 * "warp CMD: ..." on stderr (naming the valid options for an unknown name)
 * and returns false; `opts` is unchanged then. */
bool cli_set_opt(warp_options *opts, const char *cmd, const char *spec);

/* Whether `dir` is an existing WarpEngine data directory, i.e. holds
 * universe.manifest. If not, prints why on stderr and returns false. Used
 * before warp_open(), which would otherwise create an empty store. */
bool cli_is_store(const char *cmd, const char *dir);

/* Parse "CMD [--opt NAME=VALUE]... DIR" into *dir and *opts. Returns 0
 * to go on, -1 after printing `usage` for --help, or 2 after reporting a
 * usage error on stderr. */
int cli_dir_args(int argc, char **argv, const char *cmd, const char *usage,
                 const char **dir, warp_options *opts);

/* Print "warp CMD: warp_open DIR: <error>[: <detail>]" on stderr. */
void cli_open_failed(const char *cmd, const char *dir, int rc);

#endif /* WARP_CLI_COMMON_H */
