/*
 * benchdir.h - the data directory of `warp bench --dir`: made ready before
 * the benchmark, removed after it.
 *
 * The bench only ever works in a directory that is absent or empty when it
 * starts, so that removing what it leaves can never touch anyone's data;
 * and it removes only the names a store is made of (docs/FORMATS.md).
 */
#ifndef WARP_CLI_BENCHDIR_H
#define WARP_CLI_BENCHDIR_H

#include <stdbool.h>

/* Make sure `dir` exists and is empty: create it if absent (its parent
 * must exist), setting *created. Returns 0, or 2 after reporting on stderr
 * that `dir` is not an empty directory (a usage error), or 1 after
 * reporting another error. */
int benchdir_prepare(const char *dir, bool *created);

/* Remove the store files in `dir` (LOCK, universe.manifest, warp.log,
 * wal/, snapshots/, with their temporaries), and `dir` itself if
 * `created`. A store must not be open on it. Reports on stderr what it
 * could not remove (something else was put there) and returns false then. */
bool benchdir_remove(const char *dir, bool created);

#endif /* WARP_CLI_BENCHDIR_H */
