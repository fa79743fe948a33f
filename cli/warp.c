/*
 * warp.c - the `warp` command-line tool: subcommand dispatch.
 *
 * `warp CMD ARGS...` runs the subcommand named CMD with argv starting at CMD.
 * Each subcommand lives in its own file with a header declaring its entry
 * point `int NAME_main(int argc, char **argv)`, which returns the exit
 * status: 0 on success, 1 when the work failed, 2 for bad usage. Adding a
 * subcommand is one row in `commands` below.
 */
#include "bench.h"
#include "check.h"
#include "dump.h"

#include <stdio.h>
#include <string.h>

#include "warp.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static int help_main(int argc, char **argv);
static int version_main(int argc, char **argv);

static const struct command commands[] = {
    {"bench", bench_main, "measure throughput and latency of the engine"},
    {"check", check_main, "verify a data directory's checksums offline"},
    {"dump", dump_main, "write every pair of a store to stdout as text"},
    {"load", load_main, "put the pairs of a dump on stdin into a store"},
    {"help", help_main, "show this help, or `warp help CMD` for CMD's"},
    {"version", version_main, "print the version"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: warp COMMAND [ARGS...]\n"
                 "       warp --version\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun `warp COMMAND --help` for a command's options.\n");
}

/* `warp help [CMD]`: the general usage, or CMD's own --help. */
static int help_main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        return 0;
    }
    const struct command *cmd = find_command(argv[1]);
    if (cmd == NULL || cmd->run == help_main) {
        fprintf(stderr, "warp help: unknown command '%s'\n", argv[1]);
        return 2;
    }
    char *sub_argv[] = {argv[1], "--help", NULL};
    return cmd->run(2, sub_argv);
}

static int version_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("warp %d.%d.%d\n", WARP_VERSION_MAJOR, WARP_VERSION_MINOR,
           WARP_VERSION_PATCH);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
        return version_main(argc - 1, argv + 1);
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        return help_main(1, argv + 1);

    const struct command *cmd = find_command(name);
    if (cmd == NULL) {
        fprintf(stderr, "warp: unknown command '%s'\n\n", name);
        usage(stderr);
        return 2;
    }
    return cmd->run(argc - 1, argv + 1);
}
