/*
 * compress.h - value compression for the photon_sphere tier: LZ4, with a
 * dictionary of sampled values.
 *
 * Values are compressed one at a time (each is read alone), and a value of
 * a few hundred bytes holds few repeats of its own; what it shares is with
 * the other values: field names, common words, the shape of a record. So
 * a store builds one dictionary, 64 KiB of its own values sampled across
 * the slots (tier.c), and every value compressed after that refers to it
 * (LZ4's external dictionary: the back-references may reach into it).
 * docs/DEPENDENCIES.md has the measurements that chose LZ4 over zstd.
 *
 * A stored value says how it is stored (its codec): CZ_STORED (as is:
 * compression would not save enough), CZ_LZ4 (no dictionary), or
 * CZ_LZ4_DICT (with the store's dictionary). The dictionary lives in
 * memory for the life of the store; nothing compressed reaches a file
 * that outlives it (deep segments are rewritten at each open).
 *
 * Thread-safe: a dictionary is immutable once built; compression keeps
 * its state on the caller's stack (16 KiB), decompression has none.
 */
#ifndef WARP_COMPRESS_H
#define WARP_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

enum { CZ_STORED = 0, CZ_LZ4 = 1, CZ_LZ4_DICT = 2 };

#define CZ_DICT_MAX (64u << 10) /* LZ4 looks back at most 64 KiB */

typedef struct cz_dict cz_dict;

/* A dictionary made of the `n` bytes at `samples` (the last CZ_DICT_MAX
 * if more), allocated from `m`; NULL if that fails. */
cz_dict *cz_dict_new(mem *m, const void *samples, size_t n);
void cz_dict_free(mem *m, cz_dict *d);

/* Bytes the dictionary holds in memory. */
size_t cz_dict_bytes(const cz_dict *d);

/* The room cz_compress() needs for `n` bytes. */
size_t cz_bound(size_t n);

/* Compress the `n` bytes at `src` into `dst` (room for cz_bound(n)),
 * with dictionary `d` if not NULL. Returns the stored length, and the
 * codec in *codec: CZ_STORED (a copy of src) when compressing would not
 * save at least 1/16 of the bytes. Never fails. */
size_t cz_compress(const cz_dict *d, const void *src, size_t n, void *dst,
                   uint8_t *codec);

/* Restore `vlen` bytes into `dst` from the `slen` stored bytes at `src`
 * with `codec`. Returns 0, or -1 if they do not decode to exactly vlen
 * bytes (damage, or a codec that needs a dictionary `d` lacks). */
int cz_decompress(const cz_dict *d, uint8_t codec, const void *src, size_t slen,
                  void *dst, size_t vlen);

#endif
