/* compress.c - LZ4 with a dictionary of sampled values (compress.h). */
#include "compress.h"

#include <lz4.h>
#include <string.h>

struct cz_dict {
    size_t len;
    LZ4_stream_t base; /* LZ4_loadDict()ed once; copied for each value */
    char bytes[];
};

cz_dict *cz_dict_new(mem *m, const void *samples, size_t n)
{
    cz_dict *d;

    if (n > CZ_DICT_MAX) {
        samples = (const char *)samples + (n - CZ_DICT_MAX);
        n = CZ_DICT_MAX;
    }
    if (!(d = mem_alloc(m, sizeof(*d) + n)))
        return NULL;
    d->len = n;
    memcpy(d->bytes, samples, n);
    LZ4_initStream(&d->base, sizeof(d->base));
    LZ4_loadDict(&d->base, d->bytes, (int)n);
    return d;
}

void cz_dict_free(mem *m, cz_dict *d)
{
    if (d)
        mem_free(m, d, sizeof(*d) + d->len);
}

size_t cz_dict_bytes(const cz_dict *d)
{
    return d ? sizeof(*d) + d->len : 0;
}

size_t cz_bound(size_t n)
{
    return n > LZ4_MAX_INPUT_SIZE ? n : (size_t)LZ4_compressBound((int)n);
}

/* Whether `c` compressed bytes are worth storing instead of `n`. */
static int worth(size_t c, size_t n)
{
    return c > 0 && c + n / 16 < n;
}

size_t cz_compress(const cz_dict *d, const void *src, size_t n, void *dst,
                   uint8_t *codec)
{
    LZ4_stream_t st; /* 16 KiB on the stack: no shared state */
    int c = 0;

    if (n >= 16 && n <= LZ4_MAX_INPUT_SIZE) {
        if (d) {
            memcpy(&st, &d->base, sizeof(st));
            c = LZ4_compress_fast_continue(&st, src, dst, (int)n,
                                           LZ4_compressBound((int)n), 1);
        } else {
            c = LZ4_compress_fast_extState(&st, src, dst, (int)n,
                                           LZ4_compressBound((int)n), 1);
        }
    }
    if (c > 0 && worth((size_t)c, n)) {
        *codec = d ? CZ_LZ4_DICT : CZ_LZ4;
        return (size_t)c;
    }
    if (n)
        memcpy(dst, src, n);
    *codec = CZ_STORED;
    return n;
}

int cz_decompress(const cz_dict *d, uint8_t codec, const void *src, size_t slen,
                  void *dst, size_t vlen)
{
    int r;

    switch (codec) {
    case CZ_STORED:
        if (slen != vlen)
            return -1;
        if (vlen)
            memcpy(dst, src, vlen);
        return 0;
    case CZ_LZ4:
        r = LZ4_decompress_safe(src, dst, (int)slen, (int)vlen);
        return r >= 0 && (size_t)r == vlen ? 0 : -1;
    case CZ_LZ4_DICT:
        if (!d)
            return -1;
        r = LZ4_decompress_safe_usingDict(src, dst, (int)slen, (int)vlen,
                                          d->bytes, (int)d->len);
        return r >= 0 && (size_t)r == vlen ? 0 : -1;
    default:
        return -1;
    }
}
