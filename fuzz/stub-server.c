/*
 * stub-server.c - what warpd's main.c defines, for fuzz targets that link
 * warpd's parsers without its main(): the server's global state (no
 * store, no loops), the clocks and a quiet log.
 */
#include "server.h"

#include <time.h>

wd_server server = {
    .pass_lock = PTHREAD_MUTEX_INITIALIZER,
    .reg_lock = PTHREAD_MUTEX_INITIALIZER,
    .stat_lock = PTHREAD_MUTEX_INITIALIZER,
    .next_client_id = 1,
};

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
    (void)fmt;
}
