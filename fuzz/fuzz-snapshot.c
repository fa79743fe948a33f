/*
 * fuzz-snapshot.c - the snapshot reader (src/snapshot.c: snap_load, its
 * header, slot generations, blocks, record framing, trailer and salvage).
 *
 * Input: byte 0 is the mode, the rest is the snapshot file of shard 0
 * that replays the WAL from segment 1.
 *   bit 0  fix the checksums first (header, generations block, each block
 *          while the lengths chain, trailer), so the fuzzer gets past them
 *   bit 1  load with salvage
 * Invariants checked:
 *   - no crash or out-of-bounds read, loading or only verifying;
 *   - every generation passed on names a slot below WARP_SLOTS;
 *   - a load that succeeds applies exactly st.records pairs, and a strict
 *     verify-only pass agrees with a strict load on the verdict.
 */
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "bytes.h"
#include "fuzz.h"
#include "snapshot.h"
#include "warp.h"

static uint32_t sum32(const void *p, size_t n)
{
    return (uint32_t)XXH3_64bits(p, n);
}

typedef struct sink {
    uint64_t pairs, gens, bytes;
} sink;

static int apply(void *ctx, const void *key, uint32_t klen, const void *val,
                 uint32_t vlen, uint8_t hints)
{
    sink *s = ctx;
    const unsigned char *k = key, *v = val;
    for (uint32_t i = 0; i < klen; i++)
        s->bytes += k[i];
    for (uint32_t i = 0; i < vlen; i++)
        s->bytes += v[i];
    s->pairs++;
    return WARP_OK;
}

static int gen(void *ctx, uint32_t slot, uint64_t g)
{
    sink *s = ctx;
    FUZZ_CHECK(slot < WARP_SLOTS);
    s->gens++;
    return WARP_OK;
}

static void fix_checksums(unsigned char *m, size_t size)
{
    size_t o = 64;

    if (size < 64)
        return;
    memcpy(m, "WARPSNP1", 8);
    if (rd32(m + 8) != 1)
        wr32(m + 8, 2);
    wr32(m + 12, 0);
    wr64(m + 16, 1);
    wr32(m + 60, sum32(m, 60));
    while (o + 16 <= size) {
        unsigned char *b = m + o;
        if (!memcmp(b, "END1", 4)) {
            if (o + 32 <= size)
                wr32(b + 28, sum32(b, 28));
            return;
        }
        if (memcmp(b, "BLK1", 4) && memcmp(b, "GEN1", 4))
            return;
        uint32_t len = rd32(b + 4);
        if (len > size - o - 16)
            return;
        wr32(b + 12, sum32(b + 16, len));
        o += 16 + (size_t)len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200];
    snap_load_stats st, st2;
    sink s;
    unsigned char *m;
    int rc, rc2;

    if (size < 1)
        return 0;
    m = malloc(size);
    FUZZ_CHECK(m != NULL);
    memcpy(m, data + 1, size - 1);
    if (data[0] & 1)
        fix_checksums(m, size - 1);
    snap_path(path, sizeof path, fuzz_tmpdir(), 0, 1);
    FUZZ_CHECK(fuzz_write_file(path, m, size - 1) == 0);
    free(m);

    bool salvage = data[0] & 2;
    memset(&s, 0, sizeof s);
    rc = snap_load(path, 0, 1, salvage, apply, gen, &s, &st);
    FUZZ_CHECK(rc == WARP_OK || rc == WARP_ECORRUPT);
    FUZZ_CHECK(rc != WARP_OK || s.pairs == st.records);

    rc2 = snap_load(path, 0, 1, salvage, NULL, NULL, NULL, &st2);
    FUZZ_CHECK(rc2 == rc);
    FUZZ_CHECK(rc != WARP_OK || st2.records == st.records);
    return 0;
}
