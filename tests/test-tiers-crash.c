/*
 * test-tiers-crash.c - a store killed with SIGKILL while its values are
 * being demoted (compressed, written to deep_cache segments) loses no
 * acknowledged write: the WAL holds raw writes, demotions are not logged,
 * and deep segments are rebuilt at each open.
 *
 * Each iteration forks: the child writes keys 0, 1, 2... under a small
 * budget with physics full and demote_after = deep_after = 1 ms, so that
 * the demoter moves values all the time, and reports each acknowledged
 * key over a pipe; the parent kills it after 100-500 ms, reopens the
 * directory and checks every acknowledged key to the byte (and the key
 * in flight, if it is there).
 * WARP_CRASH_ITERS / 4 + 1 iterations (default 4); WARP_TEST_SEED replays.
 */
#include "tiers.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

/* The child: write keys 0.. in order with a small budget, so that the
 * demoter is busy, and report each acknowledged key on `fd`. */
static void crash_child(const char *dir, int fd)
{
    warp_options o = tier_options(4u << 20);
    warp_db *db;
    uint8_t buf[2048];
    char key[32];

    o.physics = WARP_PHYSICS_FULL;
    o.demote_after = 1;
    o.deep_after = 1;
    o.deep_segment_size = 1u << 20;
    if (warp_open(dir, &o, &db) != WARP_OK)
        _exit(2);
    for (uint32_t k = 0;; k++) {
        uint64_t v = 1;
        while (vsize(k, v) > sizeof(buf))
            v++;
        vfill(buf, k, v);
        if (warp_put(db, key, kname(key, k), buf, vsize(k, v), NULL, NULL))
            _exit(3);
        if (write(fd, &k, sizeof(k)) != sizeof(k))
            _exit(4);
    }
}

/* SIGKILL while values are being demoted loses no acknowledged write. */
static void crash_during_demotion_loses_nothing(void **state)
{
    test_dir *d = *state;
    const char *env = getenv("WARP_CRASH_ITERS");
    int iters = env ? atoi(env) / 4 + 1 : 4;
    uint64_t seed = test_seed("tiers crash");

    for (int it = 0; it < iters; it++) {
        int fds[2];
        uint32_t acked = 0, k;
        pid_t pid;

        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            crash_child(d->db, fds[1]);
        }
        close(fds[1]);
        struct timespec t0, now;
        long wait_ms = 100 + (long)(next_rand(&seed) % 400), ms = 0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (ms < wait_ms) {
            struct pollfd p = {.fd = fds[0], .events = POLLIN};
            if (poll(&p, 1, 10) > 0) {
                ssize_t r = read(fds[0], &k, sizeof(k));
                if (r == sizeof(k))
                    acked = k + 1;
                else if (r <= 0)
                    break;
            }
            clock_gettime(CLOCK_MONOTONIC, &now);
            ms = (now.tv_sec - t0.tv_sec) * 1000 +
                 (now.tv_nsec - t0.tv_nsec) / 1000000;
        }
        kill(pid, SIGKILL);
        while (read(fds[0], &k, sizeof(k)) == sizeof(k))
            acked = k + 1;
        close(fds[0]);
        waitpid(pid, NULL, 0);

        warp_options o = tier_options(4u << 20);
        warp_db *db = open_disk(d->db, &o);
        printf("# kill %d after %ld ms: %u writes acknowledged\n", it, ms,
               acked);
        uint64_t *ver = calloc(acked + 1, sizeof(*ver));
        for (k = 0; k <= acked; k++) {
            uint64_t v = 1;
            while (vsize(k, v) > 2048)
                v++;
            ver[k] = v;
        }
        /* key `acked` was being written when the kill came: it may or may
         * not be there, but if it is, it is whole */
        check_all_but_in_flight(db, acked, ver, ver[acked]);
        warp_close(db);
        free(ver);
        remove_tree(d->db);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        DIR_TEST(crash_during_demotion_loses_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
