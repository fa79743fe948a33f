/*
 * bytes.h - little-endian integers at any address, as the on-disk formats
 * (WAL, snapshots) store them.
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

#endif
