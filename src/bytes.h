/*
 * bytes.h - little-endian integers at any address, as the on-disk formats
 * (WAL, snapshots) store them, and byte-string equality for short keys.
 */
#ifndef WARP_BYTES_H
#define WARP_BYTES_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return le32toh(v);
}

static inline uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return le64toh(v);
}

static inline void wr32(unsigned char *p, uint32_t v)
{
    v = htole32(v);
    memcpy(p, &v, 4);
}

static inline void wr64(unsigned char *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, 8);
}

static inline uint64_t rd64_any(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Whether the n bytes at a and b are equal. Keys are mostly short, and a
 * call to memcmp() costs more than comparing them inline: 8 to 32 bytes
 * take overlapping 8-byte loads (two, or four above 16), 4 to 7 two 4-byte
 * ones, fewer a byte loop; nothing is read outside [p, p + n). */
static inline int bytes_eq(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    if (n >= 8 && n <= 32) {
        uint64_t d = (rd64_any(x) ^ rd64_any(y)) |
                     (rd64_any(x + n - 8) ^ rd64_any(y + n - 8));
        if (n > 16)
            d |= (rd64_any(x + 8) ^ rd64_any(y + 8)) |
                 (rd64_any(x + n - 16) ^ rd64_any(y + n - 16));
        return d == 0;
    }
    if (n >= 4 && n < 8) {
        uint32_t x0, x1, y0, y1;
        memcpy(&x0, x, 4);
        memcpy(&y0, y, 4);
        memcpy(&x1, x + n - 4, 4);
        memcpy(&y1, y + n - 4, 4);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    if (n < 4) {
        for (size_t i = 0; i < n; i++)
            if (x[i] != y[i])
                return 0;
        return 1;
    }
    return memcmp(x, y, n) == 0;
}

#endif
