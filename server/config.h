/*
 * config.h - warpd's configuration: defaults, the config file, the
 * command line, and CONFIG GET/SET.
 */
#ifndef WARPD_CONFIG_H
#define WARPD_CONFIG_H

#include "server.h"

/* Write the defaults (docs/SERVER.md lists them). */
void config_init(wd_config *cfg);

/* Parse the command line: --config FILE is read first, then every other
 * `--name value` overrides it. Returns 0 to run, 1 to exit 0 (--help,
 * --version printed), or 2 after printing a usage error. */
int config_parse_args(wd_config *cfg, int argc, char **argv);

/* Set `name` (a server option, or an engine option by its
 * warp_options_set() name; '-' and '_' are the same) to `value`. At run
 * time (`runtime`), only the options CONFIG SET may change are accepted.
 * Returns 0, or -1 with a message in err. */
int config_set(wd_config *cfg, const char *name, const char *value,
               bool runtime, char *err, size_t errcap);

/* Call fn for every option whose name matches the glob `pat`. */
typedef void config_get_fn(void *ctx, const char *name, const char *value);
void config_get(const char *pat, size_t plen, config_get_fn *fn, void *ctx);

/* Parse "512mb", "1g", "100" (k = 1000, kb = 1024, as Redis). */
bool parse_size(const char *s, uint64_t *out);

/* The name of the config file, or "". */
const char *config_file(void);

#endif /* WARPD_CONFIG_H */
