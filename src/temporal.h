/*
 * temporal.h - temporal weight: each observed key's decayed access count
 * and last access time, and the lifecycle stage they give.
 *
 * The physics thread owns the key map; nothing on the data path touches
 * it. A key is known by its 64-bit hash (route.h), so the map holds 16
 * bytes per key and never a copy of the key.
 *
 * Weight: w(t) = w(t0) * 2^-((t - t0) / half_life), plus the accesses
 * observed at t (each sampled fact counts for the accesses it stands for).
 *
 * Stage, from the time since the last access (upstream's thresholds):
 * live < 1 h <= recent < 48 h <= historical < 30 d <= deep_time.
 */
#ifndef WARP_TEMPORAL_H
#define WARP_TEMPORAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "warp.h"

#define TEMPORAL_LIVE_MS       3600000ull    /* 1 h */
#define TEMPORAL_RECENT_MS     172800000ull  /* 48 h */
#define TEMPORAL_HISTORICAL_MS 2592000000ull /* 30 d */

/* w decayed over `dt_ms` with half-life `half_life_ms`. */
double temporal_decay(double w, uint64_t dt_ms, uint64_t half_life_ms);

/* The stage of a key last accessed `age_ms` ago. */
warp_stage temporal_stage(uint64_t age_ms);

typedef struct key_stat {
    uint64_t h;    /* the key's hash; 0: empty */
    float w;       /* weight at `last` */
    uint32_t last; /* last access, in ticks of TEMPORAL_TICK_MS since the
                    * map's origin */
} key_stat;

#define TEMPORAL_TICK_MS 10

/* Decay factors precomputed for gaps shorter than this many ticks (10 s):
 * a touch then costs a multiplication, not an exp2(). */
#define TEMPORAL_DECAY_TICKS 1024

typedef struct key_map {
    key_stat *e;
    size_t cap, count; /* cap: a power of two, or 0 */
    size_t max_cap;    /* growth stops here; new keys are then refused */
    bool huge_pages;   /* ask for transparent huge pages (2 MiB and up) */
    uint64_t refused;  /* observations of keys the full map could not take */
    bool decay_ready;  /* decay[] holds the factors for: */
    uint64_t decay_half_life;           /* this half-life */
    double decay[TEMPORAL_DECAY_TICKS]; /* [t]: the factor over t ticks */
} key_map;

/* An empty map of at most `max_cap` entries; `huge_pages`: the
 * huge_pages option (warp.h). */
void key_map_init(key_map *m, size_t max_cap, bool huge_pages);
void key_map_free(key_map *m);

/* Record `n` accesses of key `h` at tick `now`. */
void key_map_touch(key_map *m, uint64_t h, double n, uint32_t now,
                   uint64_t half_life_ms);

/* Start loading the entry of `h`, for a touch soon after. */
void key_map_prefetch(const key_map *m, uint64_t h);

/* Forget key `h` (it was deleted). */
void key_map_remove(key_map *m, uint64_t h);

/* The entry of `h`, or NULL. */
const key_stat *key_map_find(const key_map *m, uint64_t h);

/* Count the tracked keys per stage at tick `now`. */
void key_map_stages(const key_map *m, uint32_t now,
                    uint64_t counts[WARP_STAGES]);

#endif
