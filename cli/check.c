/*
 * check.c - `warp check DIR`: every snapshot block and WAL record checksum
 * of a data directory, verified with warp_check() without opening the
 * store (nothing is written, no recovery runs).
 *
 * The store may be open in another process meanwhile: the check then reads
 * a log that is being appended to, and a record caught half-written shows
 * up as a torn tail. The LOCK file tells us, so the summary says so.
 */
#include "check.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common.h"
#include "warp.h"

static const char usage_text[] =
    "usage: warp check DIR\n"
    "\n"
    "Verify the data directory DIR without opening the store: every\n"
    "snapshot (header, block checksums, trailer) and every WAL segment\n"
    "(header, record checksums and sequence numbers). Nothing is written.\n"
    "A torn WAL tail (a write a crash interrupted, which the next open\n"
    "cuts) is counted but is not damage.\n"
    "\n"
    "Exit status: 0 clean, 1 damaged (or DIR holds no store, or an I/O\n"
    "error), 2 bad usage.\n";

/* Whether another process holds DIR/LOCK (has the store open). */
static bool store_in_use(const char *dir)
{
    char path[4096];
    bool busy = false;

    snprintf(path, sizeof path, "%s/LOCK", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    if (flock(fd, LOCK_SH | LOCK_NB) != 0)
        busy = true;
    close(fd); /* releases the shared lock, if taken */
    return busy;
}

static void print_report(const char *dir, const warp_check_report *r)
{
    printf("warp check: %s\n", dir);
    printf("  snapshots       %" PRIu64 " files, %" PRIu64 " records\n",
           r->snapshots, r->snapshot_records);
    printf("  wal             %" PRIu64 " segments, %" PRIu64 " records\n",
           r->wal_segments, r->wal_records);
    printf("  torn tail       %" PRIu64 " bytes%s\n", r->torn_bytes,
           r->torn_bytes ? " (cut by the next open)" : "");
    printf("  damaged files   %" PRIu64 "\n", r->damaged);
    if (r->damaged)
        printf("  first error     %s\n", r->error);
}

int check_main(int argc, char **argv)
{
    const char *dir = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
        if (argv[i][0] == '-' || dir != NULL) {
            fprintf(stderr, "warp check: unexpected argument '%s'\n%s", argv[i],
                    usage_text);
            return 2;
        }
        dir = argv[i];
    }
    if (dir == NULL) {
        fputs(usage_text, stderr);
        return 2;
    }
    if (!cli_is_store("check", dir))
        return 1;

    warp_check_report r;
    bool busy = store_in_use(dir);
    int rc = warp_check(dir, &r);
    if (rc != WARP_OK && rc != WARP_ECORRUPT) {
        fprintf(stderr, "warp check: %s: %s\n", dir, warp_strerror(rc));
        return 1;
    }
    print_report(dir, &r);
    if (busy)
        printf("note: another process has the store open; a record being "
               "written may show as a torn tail\n");
    printf("status: %s\n", rc == WARP_OK ? "clean" : "DAMAGED");
    return rc == WARP_OK ? 0 : 1;
}
