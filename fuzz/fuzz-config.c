/*
 * fuzz-config.c - warpd's config file parser (server/config.c: the file's
 * `name value` lines through config_parse_args() --config, and CONFIG SET
 * at run time through config_set()).
 *
 * Input: the config file. Each of its lines is then also tried as a
 * run-time CONFIG SET (first word the name, the rest the value).
 * Invariants checked:
 *   - no crash, leak or out-of-bounds access, whatever the file holds;
 *   - CONFIG SET never changes the paths and the listening address
 *     (dir, logfile, bind, port): they are fixed at start.
 */
#include <string.h>

#include "config.h"
#include "fuzz.h"

static void free_config(wd_config *cfg)
{
    free(cfg->bind);
    free(cfg->dir);
    free(cfg->logfile);
    cfg->bind = cfg->dir = cfg->logfile = NULL;
}

static void try_runtime_set(wd_config *cfg, char *line)
{
    char err[256];
    char *name = line, *value;

    while (*name == ' ' || *name == '\t')
        name++;
    value = name + strcspn(name, " \t");
    if (*value)
        *value++ = '\0';
    char *dir = strdup(cfg->dir), *logfile = strdup(cfg->logfile),
         *bind = strdup(cfg->bind);
    int port = cfg->port;
    FUZZ_CHECK(dir && logfile && bind);
    (void)config_set(cfg, name, value, true, err, sizeof err);
    FUZZ_CHECK(strcmp(cfg->dir, dir) == 0);
    FUZZ_CHECK(strcmp(cfg->logfile, logfile) == 0);
    FUZZ_CHECK(strcmp(cfg->bind, bind) == 0);
    FUZZ_CHECK(cfg->port == port);
    free(dir);
    free(logfile);
    free(bind);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200];
    char *argv[] = {"warpd", "--config", path, NULL};
    char *copy, *line, *save;

    snprintf(path, sizeof path, "%s/warpd.conf", fuzz_tmpdir());
    FUZZ_CHECK(fuzz_write_file(path, data, size) == 0);
    config_init(&server.cfg);
    (void)config_parse_args(&server.cfg, 3, argv);

    copy = malloc(size + 1);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, data, size);
    copy[size] = '\0';
    for (line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save))
        try_runtime_set(&server.cfg, line);
    free(copy);

    free_config(&server.cfg);
    free(server.requirepass);
    server.requirepass = NULL;
    return 0;
}
