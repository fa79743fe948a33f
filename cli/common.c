/*
 * common.c - helpers shared by check, dump and load.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

bool cli_apply_opt(warp_options *opts, const char *cmd, const char *flag,
                   const char *name, const char *value)
{
    int rc = warp_options_set(opts, name, value);

    if (rc == WARP_OK)
        return true;
    if (rc == WARP_ENOOPT) {
        fprintf(stderr,
                "warp %s: %s: unknown engine option '%s'; options:", cmd, flag,
                name);
        for (const char *const *n = warp_option_names(); *n != NULL; n++)
            fprintf(stderr, " %s", *n);
        fputc('\n', stderr);
    } else {
        fprintf(stderr, "warp %s: %s: invalid value '%s' for %s\n", cmd, flag,
                value, name);
    }
    return false;
}

bool cli_set_opt(warp_options *opts, const char *cmd, const char *spec)
{
    const char *eq = strchr(spec, '=');
    char name[64];

    if (eq == NULL || eq == spec || (size_t)(eq - spec) >= sizeof name) {
        fprintf(stderr, "warp %s: --opt: '%s' is not NAME=VALUE\n", cmd, spec);
        return false;
    }
    memcpy(name, spec, (size_t)(eq - spec));
    name[eq - spec] = '\0';
    return cli_apply_opt(opts, cmd, "--opt", name, eq + 1);
}

bool cli_is_store(const char *cmd, const char *dir)
{
    char path[4096];
    struct stat sb;

    if (stat(dir, &sb) != 0) {
        fprintf(stderr, "warp %s: %s: %s\n", cmd, dir, strerror(errno));
        return false;
    }
    if (!S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "warp %s: %s: not a directory\n", cmd, dir);
        return false;
    }
    snprintf(path, sizeof path, "%s/universe.manifest", dir);
    if (stat(path, &sb) != 0) {
        fprintf(stderr,
                "warp %s: %s: not a WarpEngine data directory (no "
                "universe.manifest)\n",
                cmd, dir);
        return false;
    }
    return true;
}

void cli_open_failed(const char *cmd, const char *dir, int rc)
{
    const char *detail = warp_open_error();

    fprintf(stderr, "warp %s: cannot open %s: %s%s%s\n", cmd, dir,
            warp_strerror(rc), *detail ? ": " : "", detail);
}

int cli_dir_args(int argc, char **argv, const char *cmd, const char *usage,
                 const char **dir, warp_options *opts)
{
    *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return -1;
        }
        if (strcmp(a, "--opt") == 0 || strncmp(a, "--opt=", 6) == 0) {
            const char *v = a[5] == '=' ? a + 6 : argv[++i];
            if (v == NULL) {
                fprintf(stderr, "warp %s: missing value for --opt\n", cmd);
                return 2;
            }
            if (!cli_set_opt(opts, cmd, v))
                return 2;
            continue;
        }
        if (a[0] == '-' || *dir != NULL) {
            fprintf(stderr, "warp %s: unexpected argument '%s'\n%s", cmd, a,
                    usage);
            return 2;
        }
        *dir = a;
    }
    if (*dir == NULL) {
        fputs(usage, stderr);
        return 2;
    }
    return 0;
}
