/*
 * fuzz-wal.c - the WAL segment reader (src/wal.c: wal_check and
 * wal_recover, through the header check, the record scan, torn-tail and
 * salvage handling, and SLOT_IMAGE framing).
 *
 * Input: byte 0 is the mode, the rest is segment 1 of shard 0, written to
 * a scratch directory.
 *   bit 0  fix the checksums first: the segment header's, and each record's
 *          while the lengths chain (so the fuzzer reaches the decoding past
 *          the CRCs rather than only the mismatch path)
 *   bit 1  recover with salvage
 *   bit 2  add an empty segment 2 (created, never written)
 * Invariants checked:
 *   - neither call crashes or reads out of bounds, and every record handed
 *     to the apply callback lies inside the segment;
 *   - a SLOT_IMAGE record given to apply has pairs that fill its payload;
 *   - after a strict recovery succeeds, the log checks clean: same records,
 *     no damage, no torn tail left (recovery cut it).
 */
#include <string.h>

#include "bytes.h"
#include "crc32c.h"
#include "fuzz.h"
#include "wal.h"
#include "warp.h"

typedef struct sink {
    uint64_t records, bytes, last_seq;
} sink;

static int touch_pair(void *ctx, const void *key, uint32_t klen,
                      const void *val, uint32_t vlen, uint8_t hints)
{
    sink *s = ctx;
    const unsigned char *k = key, *v = val;
    for (uint32_t i = 0; i < klen; i++)
        s->bytes += k[i];
    for (uint32_t i = 0; i < vlen; i++)
        s->bytes += v[i];
    return WARP_OK;
}

static int apply(void *ctx, const wal_record *r)
{
    sink *s = ctx;

    FUZZ_CHECK(r->op == WAL_OP_PUT || r->op == WAL_OP_DEL ||
               r->op == WAL_OP_IMAGE);
    FUZZ_CHECK(s->records == 0 || r->seq > s->last_seq);
    s->last_seq = r->seq;
    s->records++;
    if (r->op == WAL_OP_IMAGE) {
        FUZZ_CHECK(wal_image_foreach(r, touch_pair, s) == WARP_OK);
        return WARP_OK;
    }
    return touch_pair(s, r->key, r->klen, r->val, r->vlen, r->hints);
}

/* Make the header and the chain of records carry valid checksums. */
static void fix_checksums(unsigned char *m, size_t size)
{
    if (size < WAL_SEG_HEADER)
        return;
    memcpy(m, "WARPWAL1", 8);
    if (rd32(m + 8) != 1)
        wr32(m + 8, 2);
    wr32(m + 12, 0);
    wr64(m + 16, 1);
    wr32(m + 60, crc32c(m, 60));
    for (size_t o = WAL_SEG_HEADER; o + WAL_REC_HEADER <= size;) {
        uint32_t len = rd32(m + o);
        if (len < WAL_REC_HEADER || len > size - o)
            break;
        wr32(m + o + 4, crc32c(m + o + 8, len - 8));
        o += ((size_t)len + 7) & ~(size_t)7;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4200];
    const char *dir = fuzz_tmpdir();
    wal_replay_stats st, st2;
    sink s;
    wal w;
    unsigned char *m;
    int rc;

    if (size < 1)
        return 0;
    m = malloc(size);
    FUZZ_CHECK(m != NULL);
    memcpy(m, data + 1, size - 1);
    if (data[0] & 1)
        fix_checksums(m, size - 1);
    fuzz_clean_tmpdir();
    wal_path(path, sizeof path, dir, 0, 1);
    FUZZ_CHECK(fuzz_write_file(path, m, size - 1) == 0);
    if (data[0] & 4) {
        wal_path(path, sizeof path, dir, 0, 2);
        FUZZ_CHECK(fuzz_write_file(path, "", 0) == 0);
    }
    free(m);

    memset(&st, 0, sizeof st);
    rc = wal_check(dir, 0, &st);
    FUZZ_CHECK(rc == WARP_OK || rc == WARP_ECORRUPT);

    memset(&st, 0, sizeof st);
    memset(&s, 0, sizeof s);
    bool salvage = data[0] & 2;
    rc = wal_recover(&w, dir, 0, 1u << 16, WAL_SYNC_NONE, 1, salvage, apply, &s,
                     &st);
    FUZZ_CHECK(rc == WARP_OK || rc == WARP_ECORRUPT);
    FUZZ_CHECK(rc != WARP_OK || st.records == s.records);
    wal_close(&w);

    if (rc == WARP_OK && !salvage) {
        memset(&st2, 0, sizeof st2);
        FUZZ_CHECK(wal_check(dir, 0, &st2) == WARP_OK);
        FUZZ_CHECK(st2.records == st.records);
        FUZZ_CHECK(st2.torn_bytes == 0);
    }
    return 0;
}
