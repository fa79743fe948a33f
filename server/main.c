/*
 * main.c - warpd: start, the background (cron) thread, and shutdown.
 *
 * Start: options (config.c), open the store, check its marker and rebuild
 * the TTL index (keyspace.c), bind, start the loops (net.c) and the cron
 * thread, then wait for SIGTERM/SIGINT (or SHUTDOWN, which raises
 * SIGTERM). Every other thread blocks those signals, so only sigwait()
 * here sees them.
 *
 * Cron, `hz` times a second: the active expiry cycle (at most 25% of the
 * period), whether memory is over maxmemory, the last checkpoint's time.
 *
 * Stop: the loops stop accepting, write what they owe and close
 * (net_stop), cron stops, then warp_sync() (and warp_checkpoint() for
 * SHUTDOWN SAVE) and warp_close(); exit 0. A failing sync exits 1.
 */
#include "command.h"
#include "config.h"
#include "keyspace.h"
#include "net.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

wd_server server = {
    .pass_lock = PTHREAD_MUTEX_INITIALIZER,
    .reg_lock = PTHREAD_MUTEX_INITIALIZER,
    .stat_lock = PTHREAD_MUTEX_INITIALIZER,
    .next_client_id = 1,
};

static FILE *logfp;
static pthread_t cron_thread;
static pthread_mutex_t cron_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cron_cond = PTHREAD_COND_INITIALIZER;
static bool cron_stop;

uint64_t wd_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t wd_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t wd_mono_ms(void)
{
    return wd_mono_us() / 1000;
}

void wd_log(const char *fmt, ...)
{
    char when[32], msg[1024];
    time_t t = time(NULL);
    struct tm tm;
    va_list ap;

    localtime_r(&t, &tm);
    strftime(when, sizeof when, "%d %b %Y %H:%M:%S", &tm);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(logfp ? logfp : stderr, "%d:M %s warpd: %s\n", (int)getpid(), when,
            msg);
    fflush(logfp ? logfp : stderr);
}

static void *cron_main(void *arg)
{
    pthread_mutex_lock(&cron_lock);
    while (!cron_stop) {
        uint64_t hz = atomic_load(&server.cfg.hz);
        uint64_t period = 1000 / (hz ? hz : 10);
        struct timespec ts;
        warp_stats st;
        warp_durability d;
        uint64_t max, n;

        pthread_mutex_unlock(&cron_lock);
        n = expire_cycle(period / 4 ? period / 4 : 1);
        if (n)
            atomic_fetch_add(&server.stat_expired_active, n);
        max = atomic_load(&server.cfg.maxmemory);
        if (warp_stats_get(server.db, &st) == WARP_OK)
            atomic_store(&server.over_maxmemory, max && st.memory_bytes > max);
        if (warp_durability_get(server.db, &d) == WARP_OK &&
            d.last_checkpoint_ms / 1000 > atomic_load(&server.lastsave_s))
            atomic_store(&server.lastsave_s, d.last_checkpoint_ms / 1000);
        pthread_mutex_lock(&cron_lock);
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(period % 1000) * 1000000L;
        ts.tv_sec += (time_t)(period / 1000) + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        if (!cron_stop)
            pthread_cond_timedwait(&cron_cond, &cron_lock, &ts);
    }
    pthread_mutex_unlock(&cron_lock);
    return NULL;
}

static int open_store(void)
{
    const char *dir = server.cfg.dir;
    int rc;

    if (!strcmp(dir, WARPD_MEMORY_DIR))
        dir = NULL;
    rc = warp_open(dir, &server.cfg.opts, &server.db);
    if (rc != WARP_OK) {
        const char *more = warp_open_error();
        wd_log("cannot open the store in '%s': %s%s%s",
               dir ? dir : WARPD_MEMORY_DIR, warp_strerror(rc),
               *more ? ": " : "", more);
        return -1;
    }
    return 0;
}

static void free_config(void)
{
    free(server.cfg.bind);
    free(server.cfg.dir);
    free(server.cfg.logfile);
    free(server.requirepass);
}

int main(int argc, char **argv)
{
    sigset_t sigs;
    int sig = 0, rc, status = 0;

    config_init(&server.cfg);
    rc = config_parse_args(&server.cfg, argc, argv);
    if (rc != 0) {
        free_config();
        return rc == 1 ? 0 : 2;
    }
    if (server.cfg.logfile[0]) {
        logfp = fopen(server.cfg.logfile, "a");
        if (!logfp) {
            fprintf(stderr, "warpd: logfile %s: %s\n", server.cfg.logfile,
                    strerror(errno));
            return 1;
        }
    }
    /* Signals: only this thread takes them, through sigwait(). */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    server.start_ms = wd_now_ms();
    atomic_store(&server.lastsave_s, server.start_ms / 1000);
    if (open_store() != 0 || keyspace_load() != 0) {
        warp_close(server.db);
        free_config();
        return 1;
    }
    commands_init();
    server.nloops = server.cfg.threads;
    server.loops = calloc((size_t)server.nloops, sizeof *server.loops);
    if (!server.loops || net_listen() != 0 || net_start() != 0) {
        wd_log("cannot start listening");
        _exit(1);
    }
    pthread_create(&cron_thread, NULL, cron_main, NULL);
    wd_log("warpd %s ready: listening on %s:%d, %d threads, data in %s, "
           "fsync %s, physics %s",
           WARPD_VERSION, server.cfg.bind, server.port, server.nloops,
           server.cfg.dir,
           server.cfg.opts.fsync == WARP_FSYNC_ALWAYS  ? "always"
           : server.cfg.opts.fsync == WARP_FSYNC_NEVER ? "never"
                                                       : "everysec",
           warp_physics_mode_name(warp_physics_get(server.db)));

    while (sigwait(&sigs, &sig) != 0)
        ;
    wd_log("%s: shutting down", atomic_load(&server.shutdown_req)
                                    ? "SHUTDOWN"
                                    : (sig == SIGINT ? "SIGINT" : "SIGTERM"));
    net_stop();
    pthread_mutex_lock(&cron_lock);
    cron_stop = true;
    pthread_cond_signal(&cron_cond);
    pthread_mutex_unlock(&cron_lock);
    pthread_join(cron_thread, NULL);
    while (atomic_load(&server.bgsave_running))
        usleep(10000);
    if (atomic_load(&server.shutdown_req) == 2 &&
        strcmp(server.cfg.dir, WARPD_MEMORY_DIR) != 0) {
        rc = warp_checkpoint(server.db);
        if (rc != WARP_OK)
            wd_log("checkpoint: %s", warp_strerror(rc));
    }
    rc = warp_sync(server.db);
    if (rc != WARP_OK) {
        wd_log("sync: %s", warp_strerror(rc));
        status = 1;
    }
    warp_close(server.db);
    keyspace_free();
    free(server.loops);
    free_config();
    wd_log("bye");
    if (logfp)
        fclose(logfp);
    return status;
}
