/*
 * check.h - `warp check DIR`: verify a data directory offline.
 */
#ifndef WARP_CLI_CHECK_H
#define WARP_CLI_CHECK_H

/* Run `warp check`. argv[0] is "check". Returns 0 when the directory is
 * clean (a torn WAL tail is not damage), 1 on damage, an I/O error or a
 * directory that holds no store, 2 for bad usage. */
int check_main(int argc, char **argv);

#endif /* WARP_CLI_CHECK_H */
