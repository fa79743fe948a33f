/*
 * config.c - warpd's options.
 *
 * Two kinds of option share one namespace:
 *   server options (the table below): port, bind, dir, threads, the
 *     limits, requirepass, ...; Redis's names where Redis has the option;
 *   engine options: every name warp_options_set() takes (fsync, physics,
 *     shards, ...), passed through to warp_open(). A '-' in a name is
 *     read as '_', so `max-value-size` works too.
 * They are set, in order, by the defaults, the config file (Redis-style
 * `name value` lines; '#' starts a comment; a value may be "quoted"),
 * and the command line (`--name value`).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "command.h" /* glob_match */

enum otype { O_SIZE, O_INT, O_STR, O_BOOL };

typedef struct opt {
    const char *name;
    enum otype type;
    size_t off;   /* in wd_config */
    bool mutable; /* CONFIG SET may change it */
    const char *help;
} opt;

#define OFF(f) offsetof(wd_config, f)

static const opt opts[] = {
    {"port", O_INT, OFF(port), false, "TCP port (0: any free port)"},
    {"bind", O_STR, OFF(bind), false, "address to listen on"},
    {"dir", O_STR, OFF(dir), false, "data directory, or :memory:"},
    {"threads", O_INT, OFF(threads), false, "event loop threads"},
    {"requirepass", O_STR, OFF(config_file) /* special */, true,
     "password for AUTH ('' : none)"},
    {"maxmemory", O_SIZE, OFF(maxmemory), true,
     "the engine's memory budget (tiers), set at start; CONFIG SET: "
     "refuse writes above it"},
    {"maxclients", O_SIZE, OFF(maxclients), true, "most clients at once"},
    {"timeout", O_SIZE, OFF(timeout), true,
     "close clients idle this many seconds (0: never)"},
    {"proto-max-bulk-len", O_SIZE, OFF(proto_max_bulk_len), true,
     "largest bulk string in a request"},
    {"max-multibulk-len", O_SIZE, OFF(max_multibulk_len), true,
     "most arguments in a request"},
    {"client-query-buffer-limit", O_SIZE, OFF(client_query_buffer_limit), true,
     "most unparsed request bytes per client"},
    {"client-output-buffer-limit", O_SIZE, OFF(client_output_buffer_limit),
     true, "most pending reply bytes per client (0: no limit)"},
    {"hz", O_SIZE, OFF(hz), true, "active expiry cycles per second"},
    {"busy-poll", O_SIZE, OFF(busy_poll), true,
     "microseconds a loop keeps polling after its last event (0: sleep at "
     "once)"},
    {"tcp-backlog", O_INT, OFF(tcp_backlog), false, "listen() backlog"},
    {"logfile", O_STR, OFF(logfile), false, "log file ('' : stderr)"},
    {"adopt", O_BOOL, OFF(adopt), false,
     "convert a store written without warpd (docs/FORMATS.md)"},
};

#define NOPTS (sizeof opts / sizeof opts[0])

static char *cfg_file_name;

const char *config_file(void)
{
    return cfg_file_name ? cfg_file_name : "";
}

void config_init(wd_config *cfg)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN) - 1;

    memset(cfg, 0, sizeof *cfg);
    cfg->bind = strdup("127.0.0.1");
    cfg->port = WARPD_PORT;
    cfg->dir = strdup(WARPD_DIR);
    cfg->threads = n > 1 ? (int)(n < 64 ? n : 64) : 1;
    cfg->maxclients = 10000;
    cfg->proto_max_bulk_len = 512ull << 20;
    cfg->max_multibulk_len = 1024 * 1024;
    cfg->client_query_buffer_limit = 1ull << 30;
    cfg->client_output_buffer_limit = 256ull << 20;
    cfg->hz = 10;
    cfg->busy_poll = 50;
    cfg->tcp_backlog = 511;
    cfg->logfile = strdup("");
    warp_options_init(&cfg->opts);
}

bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    uint64_t mul = 1;

    if (!*s || *s == '-' || isspace((unsigned char)*s))
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s)
        return false;
    if (!strcasecmp(end, "") || !strcasecmp(end, "b"))
        mul = 1;
    else if (!strcasecmp(end, "k"))
        mul = 1000;
    else if (!strcasecmp(end, "kb"))
        mul = 1024;
    else if (!strcasecmp(end, "m"))
        mul = 1000 * 1000;
    else if (!strcasecmp(end, "mb"))
        mul = 1024 * 1024;
    else if (!strcasecmp(end, "g"))
        mul = 1000ull * 1000 * 1000;
    else if (!strcasecmp(end, "gb"))
        mul = 1024ull * 1024 * 1024;
    else
        return false;
    if (v > UINT64_MAX / mul)
        return false;
    *out = v * mul;
    return true;
}

static const opt *find_opt(const char *name)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (!strcasecmp(opts[i].name, name))
            return &opts[i];
    return NULL;
}

static void set_password(const char *value)
{
    pthread_mutex_lock(&server.pass_lock);
    free(server.requirepass);
    server.requirepass = strdup(value);
    atomic_store(&server.auth_required, value[0] != '\0');
    pthread_mutex_unlock(&server.pass_lock);
}

/* maxmemory: at start, the engine's memory budget when the engine has
 * one (tiers demote values to stay under it; a write it cannot fit fails
 * with WARP_EFULL, -OOM); otherwise, and for an engine without it, warpd's
 * own gate (refuse writes while over, checked by cron). */
static int set_maxmemory(wd_config *cfg, const char *value, bool runtime,
                         char *err, size_t errcap)
{
    uint64_t v;

    if (!parse_size(value, &v)) {
        snprintf(err, errcap, "argument '%s' is invalid for 'maxmemory'",
                 value);
        return -1;
    }
    if (runtime && cfg->engine_maxmemory) {
        snprintf(err, errcap,
                 "maxmemory is the engine's memory budget, "
                 "fixed at start");
        return -1;
    }
    if (!runtime &&
        warp_options_set(&cfg->opts, "maxmemory", value) == WARP_OK) {
        cfg->engine_maxmemory = v > 0;
        atomic_store(&cfg->maxmemory, 0);
        return 0;
    }
    atomic_store(&cfg->maxmemory, v);
    return 0;
}

static int set_server_opt(wd_config *cfg, const opt *o, const char *value,
                          bool runtime, char *err, size_t errcap)
{
    char *base = (char *)cfg;
    uint64_t v;

    if (!strcmp(o->name, "requirepass")) {
        set_password(value);
        return 0;
    }
    if (!strcmp(o->name, "maxmemory"))
        return set_maxmemory(cfg, value, runtime, err, errcap);
    switch (o->type) {
    case O_SIZE:
        if (!strcmp(o->name, "client-output-buffer-limit") &&
            !strncasecmp(value, "normal ", 7)) {
            /* Redis's "normal <hard> <soft> <secs>": the hard limit */
            char hard[64];
            size_t n = strcspn(value + 7, " ");
            if (n >= sizeof hard)
                n = sizeof hard - 1;
            memcpy(hard, value + 7, n);
            hard[n] = '\0';
            if (!parse_size(hard, &v))
                goto bad;
            atomic_store((_Atomic uint64_t *)(base + o->off), v);
            return 0;
        }
        if (!parse_size(value, &v))
            goto bad;
        if (!strcmp(o->name, "hz") && (v < 1 || v > 500))
            goto bad;
        atomic_store((_Atomic uint64_t *)(base + o->off), v);
        return 0;
    case O_INT: {
        char *end;
        long n = strtol(value, &end, 10);
        if (!*value || *end || n < 0 || n > 65535 ||
            (!strcmp(o->name, "threads") && (n < 1 || n > 256)))
            goto bad;
        *(int *)(base + o->off) = (int)n;
        return 0;
    }
    case O_STR: {
        char *copy = strdup(value);
        if (!copy)
            goto bad;
        free(*(char **)(base + o->off));
        *(char **)(base + o->off) = copy;
        return 0;
    }
    case O_BOOL:
        if (!strcasecmp(value, "yes") || !strcmp(value, "1"))
            *(bool *)(base + o->off) = true;
        else if (!strcasecmp(value, "no") || !strcmp(value, "0"))
            *(bool *)(base + o->off) = false;
        else
            goto bad;
        return 0;
    }
bad:
    snprintf(err, errcap, "argument '%s' is invalid for '%s'", value, o->name);
    return -1;
}

int config_set(wd_config *cfg, const char *name, const char *value,
               bool runtime, char *err, size_t errcap)
{
    const opt *o = find_opt(name);
    char ename[128];
    int rc;

    if (o) {
        if (runtime && !o->mutable) {
            snprintf(err, errcap, "can't set immutable config '%s'", name);
            return -1;
        }
        return set_server_opt(cfg, o, value, runtime, err, errcap);
    }
    if (strlen(name) >= sizeof ename) {
        snprintf(err, errcap, "unknown option '%s'", name);
        return -1;
    }
    for (size_t i = 0; (ename[i] = name[i]); i++)
        if (ename[i] == '-')
            ename[i] = '_';
    if (runtime && strcmp(ename, "physics") != 0) {
        snprintf(err, errcap,
                 "can't set engine option '%s' at run time "
                 "(only physics)",
                 name);
        return -1;
    }
    if (runtime) {
        warp_physics_mode m;
        if (warp_physics_mode_parse(value, &m) != WARP_OK ||
            warp_physics_set(server.db, m) != WARP_OK) {
            snprintf(err, errcap, "argument '%s' is invalid for 'physics'",
                     value);
            return -1;
        }
        return 0;
    }
    rc = warp_options_set(&cfg->opts, ename, value);
    if (rc == WARP_ENOOPT)
        snprintf(err, errcap, "unknown option '%s'", name);
    else if (rc != WARP_OK)
        snprintf(err, errcap, "argument '%s' is invalid for '%s'", value, name);
    return rc == WARP_OK ? 0 : -1;
}

static void get_server_opt(const opt *o, char *buf, size_t cap)
{
    const char *base = (const char *)&server.cfg;

    if (!strcmp(o->name, "maxmemory") && server.cfg.engine_maxmemory &&
        warp_options_get(&server.cfg.opts, "maxmemory", buf, cap) == WARP_OK)
        return;
    if (!strcmp(o->name, "requirepass")) {
        pthread_mutex_lock(&server.pass_lock);
        snprintf(buf, cap, "%s", server.requirepass ? server.requirepass : "");
        pthread_mutex_unlock(&server.pass_lock);
        return;
    }
    switch (o->type) {
    case O_SIZE:
        snprintf(buf, cap, "%llu",
                 (unsigned long long)atomic_load(
                     (_Atomic uint64_t *)(base + o->off)));
        break;
    case O_INT:
        snprintf(buf, cap, "%d",
                 !strcmp(o->name, "port") ? server.port
                                          : *(const int *)(base + o->off));
        break;
    case O_STR:
        snprintf(buf, cap, "%s", *(char *const *)(base + o->off));
        break;
    case O_BOOL:
        snprintf(buf, cap, "%s", *(const bool *)(base + o->off) ? "yes" : "no");
        break;
    }
}

void config_get(const char *pat, size_t plen, config_get_fn *fn, void *ctx)
{
    char buf[WARP_RULES_MAX + 16];
    const char *const *names = warp_option_names();

    for (size_t i = 0; i < NOPTS; i++) {
        if (!glob_match(pat, plen, opts[i].name, strlen(opts[i].name), true))
            continue;
        get_server_opt(&opts[i], buf, sizeof buf);
        fn(ctx, opts[i].name, buf);
    }
    for (size_t i = 0; names[i]; i++) {
        if (!glob_match(pat, plen, names[i], strlen(names[i]), true))
            continue;
        if (!strcmp(names[i], "physics") && server.db)
            snprintf(buf, sizeof buf, "%s",
                     warp_physics_mode_name(warp_physics_get(server.db)));
        else if (warp_options_get(&server.cfg.opts, names[i], buf,
                                  sizeof buf) != WARP_OK)
            continue;
        fn(ctx, names[i], buf);
    }
    /* Read-only answers tools expect from Redis (redis-benchmark asks). */
    bool mem = !strcmp(server.cfg.dir, WARPD_MEMORY_DIR);
    if (glob_match(pat, plen, "save", 4, true))
        fn(ctx, "save", "");
    if (glob_match(pat, plen, "appendonly", 10, true))
        fn(ctx, "appendonly", mem ? "no" : "yes");
}

/* Split a config line into name and value; false for blank/comment. */
static bool split_line(char *line, char **name, char **value)
{
    char *p = line, *end;

    while (isspace((unsigned char)*p))
        p++;
    if (!*p || *p == '#')
        return false;
    *name = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    if (*p)
        *p++ = '\0';
    while (isspace((unsigned char)*p))
        p++;
    end = p + strlen(p);
    while (end > p && isspace((unsigned char)end[-1]))
        *--end = '\0';
    if (end - p >= 2 && (*p == '"' || *p == '\'') && end[-1] == *p) {
        end[-1] = '\0';
        p++;
    }
    *value = p;
    return true;
}

static int load_file(wd_config *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096], err[256];
    int lineno = 0;

    if (!f) {
        fprintf(stderr, "warpd: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        char *name, *value;
        lineno++;
        if (!split_line(line, &name, &value))
            continue;
        if (config_set(cfg, name, value, false, err, sizeof err) != 0) {
            fprintf(stderr, "warpd: %s:%d: %s\n", path, lineno, err);
            fclose(f);
            return -1;
        }
    }
    fclose(f);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: warpd [--config FILE] [--port P] [--bind ADDR] "
            "[--dir DIR]\n"
            "             [--threads N] [--fsync always|everysec|never]\n"
            "             [--physics off|adaptive|full] [--maxmemory BYTES]\n"
            "             [--requirepass PW] [--NAME VALUE ...]\n\n"
            "A server that speaks the Redis protocol (RESP2/RESP3) over a\n"
            "WarpEngine store. Defaults: bind 127.0.0.1, port %d, dir ./%s\n"
            "(%s: in memory). NAME is a server option or any engine option\n"
            "(warp_options_set names). Server options:\n",
            WARPD_PORT, WARPD_DIR, WARPD_MEMORY_DIR);
    for (size_t i = 0; i < NOPTS; i++)
        fprintf(out, "  --%-28s %s\n", opts[i].name, opts[i].help);
    fprintf(out, "Engine options:");
    for (const char *const *n = warp_option_names(); *n; n++)
        fprintf(out, " %s", *n);
    fprintf(out, "\nSee docs/SERVER.md.\n");
}

int config_parse_args(wd_config *cfg, int argc, char **argv)
{
    char err[256];

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--version")) {
            printf("warpd %s (libwarp %d.%d.%d)\n", WARPD_VERSION,
                   WARP_VERSION_MAJOR, WARP_VERSION_MINOR, WARP_VERSION_PATCH);
            return 1;
        }
    }
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--config")) {
            free(cfg_file_name);
            cfg_file_name = strdup(argv[i + 1]);
            if (load_file(cfg, argv[i + 1]) != 0)
                return 2;
        }
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "warpd: expected --NAME VALUE, got '%s'\n", a);
            usage(stderr);
            return 2;
        }
        if (!strcmp(a, "--config"))
            continue;
        if (config_set(cfg, a + 2, argv[i + 1], false, err, sizeof err)) {
            fprintf(stderr, "warpd: --%s: %s\n", a + 2, err);
            return 2;
        }
    }
    return 0;
}
