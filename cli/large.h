/*
 * large.h - upstream's large_dataset_feature_validation data set: twelve
 * key families of nested JSON records (../shared/reference/
 * upstream-benchmarks.md, section 1), and the names and values its
 * workload reads and writes.
 *
 * THE DATA SET
 *   --target-gb X gives N = trunc(X * 100,000) and Q = N / 4, as upstream
 *   computes them. For each id i = 1 .. Q one record of each family is put,
 *   in the order i = 1, family 0 .. 11, i = 2, ...: entry j is family
 *   j % 12 of id j / 12 + 1, and its value is jsongen_record(j), the
 *   family's fields and sizes (cli/jsongen.c). Three families are keyed by
 *   the id modulo a constant, as upstream does, so their later records
 *   overwrite earlier ones: category:(i mod 100), customer:(i mod 10000),
 *   trend:(i mod 1000). The others are keyed by i. Keys are "family:id"
 *   with the id in decimal, unpadded, as upstream writes them. 12Q entries
 *   (3N), 9Q + min(Q,100) + min(Q,10000) + min(Q,1000) distinct keys; the
 *   average value is about 430 bytes.
 *
 * MEMORY
 *   The values are generated once into one arena (about 430 bytes x 3N),
 *   before any load is timed, and shared by every engine's load.
 */
#ifndef WARP_CLI_LARGE_H
#define WARP_CLI_LARGE_H

#include <stddef.h>
#include <stdint.h>

#define LARGE_FAMILIES 12
#define LARGE_KEY_BUF  32 /* "order_items:4294967295" and more */

/* The families, in jsongen's order. */
enum large_family {
    LF_USER,
    LF_PROFILE,
    LF_SETTINGS,
    LF_POSTS,
    LF_PRODUCT,
    LF_CATEGORY,
    LF_INVENTORY,
    LF_ORDER,
    LF_CUSTOMER,
    LF_ORDER_ITEMS,
    LF_METRIC,
    LF_TREND,
};

typedef struct large_dataset {
    double target_gb;
    uint32_t n;           /* trunc(target_gb * 100,000) */
    uint32_t q;           /* n / 4: ids 1 .. q */
    uint64_t entries;     /* 12q puts */
    uint64_t keys;        /* distinct keys after the load */
    uint64_t key_bytes;   /* of the entries */
    uint64_t value_bytes; /* of the entries */
    char *arena;          /* the entries' values, back to back */
    uint64_t *offset;     /* entries + 1 offsets into arena */
} large_dataset;

/* Build the data set for `target_gb` (0 < X, N >= 4). Returns 0, or -1
 * when out of memory or when N < 4 (reported on stderr). */
int large_build(large_dataset *ds, double target_gb);

/* Free what large_build() allocated. */
void large_free(large_dataset *ds);

/* The id family f of id i (1 .. q) is keyed by: i, or i modulo 100, 10000
 * or 1000 for category, customer and trend. */
static inline uint32_t large_key_id(unsigned family, uint32_t i)
{
    switch (family) {
    case LF_CATEGORY:
        return i % 100;
    case LF_CUSTOMER:
        return i % 10000;
    case LF_TREND:
        return i % 1000;
    default:
        return i;
    }
}

/* Write "family:id" to out (LARGE_KEY_BUF bytes, no NUL); return its
 * length. */
size_t large_key(char *out, unsigned family, uint32_t id);

/* Entry j's key (into out, as large_key) and value. */
size_t large_entry_key(char *out, uint64_t j);
static inline const char *large_value(const large_dataset *ds, uint64_t j,
                                      size_t *len)
{
    *len = (size_t)(ds->offset[j + 1] - ds->offset[j]);
    return ds->arena + ds->offset[j];
}

/* The "WAL" sub-test's values: user:u's 4-field update {id, username
 * "user_<u>_updated", last_login, activity_level} and profile:u's 3-field
 * update {user_id, bio, updated_at}, about 100 bytes of JSON each, with
 * `now` (27 bytes, "2026-11-24T09:40:00.123456Z") as the date. Written to
 * out (room for 160 bytes); return the length. */
size_t large_user_update(char *out, uint32_t u, const char *now,
                         unsigned level);
size_t large_profile_update(char *out, uint32_t u, const char *now);

/* The current UTC time as 27 bytes of ISO-8601 with microseconds and a
 * NUL, as Elixir's DateTime.now prints it (for years 1000 .. 9999). */
void large_now(char out[28]);

#endif /* WARP_CLI_LARGE_H */
