/* large.c - upstream's large data set (large.h). */
#include "large.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsongen.h"

static const struct {
    char text[16];
    size_t len;
} prefixes[LARGE_FAMILIES] = {
    {"user:", 5},     {"profile:", 8},      {"settings:", 9},   {"posts:", 6},
    {"product:", 8},  {"category:", 9},     {"inventory:", 10}, {"order:", 6},
    {"customer:", 9}, {"order_items:", 12}, {"metric:", 7},     {"trend:", 6},
};

/* Write v in decimal to out; return the digits written. */
static size_t put_u32(char *out, uint32_t v)
{
    char tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

size_t large_key(char *out, unsigned family, uint32_t id)
{
    memcpy(out, prefixes[family].text, sizeof prefixes[family].text);
    return prefixes[family].len + put_u32(out + prefixes[family].len, id);
}

size_t large_entry_key(char *out, uint64_t j)
{
    unsigned f = (unsigned)(j % LARGE_FAMILIES);
    uint32_t i = (uint32_t)(j / LARGE_FAMILIES + 1);
    return large_key(out, f, large_key_id(f, i));
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

int large_build(large_dataset *ds, double target_gb)
{
    char key[LARGE_KEY_BUF];
    memset(ds, 0, sizeof *ds);
    ds->target_gb = target_gb;
    ds->n = (uint32_t)(target_gb * 100000.0);
    ds->q = ds->n / 4;
    if (ds->q == 0) {
        fprintf(stderr,
                "warp bench: --target-gb %g gives N = %u keys; the large "
                "data set needs N >= 4 (--target-gb >= 0.00004)\n",
                target_gb, ds->n);
        return -1;
    }
    ds->entries = (uint64_t)ds->q * LARGE_FAMILIES;
    ds->keys = 9ull * ds->q + min_u64(ds->q, 100) + min_u64(ds->q, 10000) +
               min_u64(ds->q, 1000);
    ds->offset = malloc((ds->entries + 1) * sizeof *ds->offset);
    size_t cap = (size_t)ds->entries * 512 + JSON_MAX;
    ds->arena = malloc(cap);
    if (ds->offset == NULL || ds->arena == NULL)
        goto nomem;
    uint64_t at = 0;
    for (uint64_t j = 0; j < ds->entries; j++) {
        if (at + JSON_MAX > cap) {
            char *grown = realloc(ds->arena, cap * 2);
            if (grown == NULL)
                goto nomem;
            ds->arena = grown;
            cap *= 2;
        }
        ds->offset[j] = at;
        at += jsongen_record(j, ds->arena + at);
        ds->key_bytes += large_entry_key(key, j);
    }
    ds->offset[ds->entries] = at;
    ds->value_bytes = at;
    return 0;
nomem:
    fprintf(stderr, "warp bench: out of memory for the large data set\n");
    large_free(ds);
    return -1;
}

void large_free(large_dataset *ds)
{
    free(ds->arena);
    free(ds->offset);
    ds->arena = NULL;
    ds->offset = NULL;
}

/* Append the n bytes of s at *p. */
static char *add(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define ADD(p, lit) add((p), (lit), sizeof(lit) - 1)

size_t large_user_update(char *out, uint32_t u, const char *now, unsigned level)
{
    static const char *const levels[] = {"low", "medium", "high"};
    char *p = ADD(out, "{\"id\":");
    p += put_u32(p, u);
    p = ADD(p, ",\"username\":\"user_");
    p += put_u32(p, u);
    p = ADD(p, "_updated\",\"last_login\":\"");
    p = add(p, now, 27);
    p = ADD(p, "\",\"activity_level\":\"");
    p = add(p, levels[level % 3], strlen(levels[level % 3]));
    p = ADD(p, "\"}");
    return (size_t)(p - out);
}

size_t large_profile_update(char *out, uint32_t u, const char *now)
{
    char *p = ADD(out, "{\"user_id\":");
    p += put_u32(p, u);
    p = ADD(p, ",\"bio\":\"Updated bio for user ");
    p += put_u32(p, u);
    p = ADD(p, "\",\"updated_at\":\"");
    p = add(p, now, 27);
    p = ADD(p, "\"}");
    return (size_t)(p - out);
}

void large_now(char out[28])
{
    struct timespec ts;
    struct tm tm;
    char buf[96];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
    memcpy(out, buf, 27);
    out[27] = '\0';
}
