/*
 * benchdir.c - preparing and removing the data directory of
 * `warp bench --dir`. See benchdir.h.
 */
#include "benchdir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Whether `name` ends with `suffix`. */
static bool ends_with(const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);
    return n >= s && strcmp(name + n - s, suffix) == 0;
}

int benchdir_prepare(const char *dir, bool *created)
{
    struct stat sb;

    *created = false;
    if (stat(dir, &sb) != 0) {
        if (errno != ENOENT || mkdir(dir, 0755) != 0) {
            fprintf(stderr, "warp bench: --dir %s: %s\n", dir, strerror(errno));
            return errno == ENOENT ? 2 : 1;
        }
        *created = true;
        return 0;
    }
    if (!S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "warp bench: --dir %s: not a directory\n", dir);
        return 2;
    }
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "warp bench: --dir %s: %s\n", dir, strerror(errno));
        return 1;
    }
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = false;
    closedir(d);
    if (!empty) {
        fprintf(stderr,
                "warp bench: --dir %s is not empty; the bench needs an "
                "absent or empty directory (it deletes what it writes)\n",
                dir);
        return 2;
    }
    return 0;
}

/* Remove the files of `sub` (inside dir) whose names end with one of
 * `suffixes`, then `sub` itself. Returns false if anything is left. */
static bool remove_sub(const char *dir, const char *sub,
                       const char *const *suffixes)
{
    char path[4096], file[4352];
    bool ok = true;

    snprintf(path, sizeof path, "%s/%s", dir, sub);
    DIR *d = opendir(path);
    if (d == NULL)
        return errno == ENOENT;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        for (const char *const *s = suffixes; *s != NULL; s++) {
            if (!ends_with(e->d_name, *s))
                continue;
            snprintf(file, sizeof file, "%s/%s", path, e->d_name);
            if (unlink(file) != 0)
                ok = false;
            break;
        }
    }
    closedir(d);
    return rmdir(path) == 0 && ok;
}

bool benchdir_remove(const char *dir, bool created)
{
    static const char *const wal[] = {".wal", NULL};
    static const char *const snap[] = {".snap", ".snap.tmp", NULL};
    static const char *const top[] = {"LOCK", "universe.manifest",
                                      "universe.manifest.tmp", "warp.log"};
    char path[4096];
    bool ok = remove_sub(dir, "wal", wal);

    ok = remove_sub(dir, "snapshots", snap) && ok;

    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, top[i]);
        if (unlink(path) != 0 && errno != ENOENT)
            ok = false;
    }
    if (ok && created && rmdir(dir) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr,
                "warp bench: could not remove everything the bench wrote in "
                "%s\n",
                dir);
    return ok;
}
