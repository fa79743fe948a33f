/*
 * fuzz.h - what the fuzz targets share.
 *
 * Each fuzz-<target>.c defines LLVMFuzzerTestOneInput(). Built with clang
 * and -fsanitize=fuzzer (the fuzz tree, WARP_FUZZ=ON), libFuzzer supplies
 * main() and mutates inputs; in the other trees replay.c supplies a main()
 * that runs the target once on each file of the seed corpus and of
 * fuzz/regressions/, so every tree replays every input that ever crashed.
 *
 * A target reports a broken invariant with FUZZ_CHECK, which abort()s:
 * libFuzzer records the input as a crash, replay.c fails the test.
 */
#ifndef WARP_FUZZ_H
#define WARP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__,         \
                    __LINE__, #cond);                                          \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* A private scratch directory for this process (created on first use,
 * under $TMPDIR or /tmp, removed at exit). Never fails: exits the fuzzer
 * if it cannot be made. */
const char *fuzz_tmpdir(void);

/* Write data[0..n) to `path`, replacing it. 0 or -1. */
int fuzz_write_file(const char *path, const void *data, size_t n);

/* Remove every file in fuzz_tmpdir() (not subdirectories). */
void fuzz_clean_tmpdir(void);

#endif
