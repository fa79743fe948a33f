/*
 * temporal.c - decay arithmetic, lifecycle stages, and the key map.
 *
 * The map is open addressing with linear probing over 16-byte entries,
 * deleted with backward shifting (no tombstones), grown by doubling at
 * 70% load up to max_cap entries.
 */
#include "temporal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static double decay_factor(uint64_t dt_ms, uint64_t half_life_ms)
{
    return exp2(-(double)dt_ms / (double)(half_life_ms ? half_life_ms : 1));
}

double temporal_decay(double w, uint64_t dt_ms, uint64_t half_life_ms)
{
    if (dt_ms == 0 || w == 0)
        return w;
    return w * decay_factor(dt_ms, half_life_ms);
}

/* temporal_decay() over `ticks` ticks, from the table when it can: the
 * same factor, so the same result. */
static double map_decay(key_map *m, double w, uint32_t ticks,
                        uint64_t half_life_ms)
{
    if (ticks == 0 || w == 0)
        return w;
    if (ticks >= TEMPORAL_DECAY_TICKS)
        return temporal_decay(w, (uint64_t)ticks * TEMPORAL_TICK_MS,
                              half_life_ms);
    if (!m->decay_ready || m->decay_half_life != half_life_ms) {
        for (uint32_t t = 0; t < TEMPORAL_DECAY_TICKS; t++)
            m->decay[t] =
                decay_factor((uint64_t)t * TEMPORAL_TICK_MS, half_life_ms);
        m->decay_half_life = half_life_ms;
        m->decay_ready = true;
    }
    return w * m->decay[ticks];
}

warp_stage temporal_stage(uint64_t age_ms)
{
    if (age_ms < TEMPORAL_LIVE_MS)
        return WARP_STAGE_LIVE;
    if (age_ms < TEMPORAL_RECENT_MS)
        return WARP_STAGE_RECENT;
    if (age_ms < TEMPORAL_HISTORICAL_MS)
        return WARP_STAGE_HISTORICAL;
    return WARP_STAGE_DEEP_TIME;
}

void key_map_init(key_map *m, size_t max_cap, bool huge_pages)
{
    memset(m, 0, sizeof(*m));
    m->max_cap = max_cap;
    m->huge_pages = huge_pages;
}

void key_map_free(key_map *m)
{
    free(m->e);
    m->e = NULL;
    m->cap = m->count = 0;
}

static uint64_t key_of(uint64_t h)
{
    return h ? h : 1; /* 0 marks an empty entry */
}

/* The home position of `h`: its hash's low bits, mixed (the high bits
 * already chose the slot, and the table fingerprint uses the middle). */
static size_t home(const key_map *m, uint64_t h)
{
    return (size_t)((h * 0x9E3779B97F4A7C15ull) >> 20) & (m->cap - 1);
}

static int grow(key_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    key_stat *old = m->e;
    size_t old_cap = m->cap;

    if (cap > m->max_cap)
        return -1;
    /* line-aligned: four whole entries a line, so a probe leaves its
     * home line only past the line's last entry (key_map_prefetch()).
     * With huge_pages, a map of 2 MiB or more is 2 MiB-aligned and asks
     * for huge pages: every touch lands on a random entry, and with 4 KiB
     * pages most would miss the TLB as well as the cache (docs/PHYSICS.md,
     * "Temporal weight", has the cost measured both ways). */
    size_t bytes = cap * sizeof(*m->e), huge = (size_t)2 << 20;
    bool advise = m->huge_pages && bytes >= huge;
    if (!(m->e = aligned_alloc(advise ? huge : 64, bytes))) {
        m->e = old;
        return -1;
    }
    if (advise)
        (void)madvise(m->e, bytes, MADV_HUGEPAGE);
    memset(m->e, 0, cap * sizeof(*m->e));
    m->cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].h)
            continue;
        size_t j = home(m, old[i].h);
        while (m->e[j].h)
            j = (j + 1) & (cap - 1);
        m->e[j] = old[i];
    }
    free(old);
    return 0;
}

void key_map_touch(key_map *m, uint64_t h, double n, uint32_t now,
                   uint64_t half_life_ms)
{
    h = key_of(h);
    if (m->cap) {
        for (size_t i = home(m, h);; i = (i + 1) & (m->cap - 1)) {
            key_stat *e = &m->e[i];
            if (e->h == h) {
                e->w = (float)(map_decay(m, e->w, now - e->last, half_life_ms) +
                               n);
                e->last = now;
                return;
            }
            if (!e->h)
                break;
        }
    }
    /* Grow at 70% load; a map that cannot grow fills to 90%, then
     * refuses new keys. */
    if ((m->count + 1) * 10 > m->cap * 7 && grow(m) &&
        (m->count + 1) * 10 > m->cap * 9) {
        m->refused++;
        return;
    }
    size_t i = home(m, h);
    while (m->e[i].h)
        i = (i + 1) & (m->cap - 1);
    m->e[i] = (key_stat){.h = h, .w = (float)n, .last = now};
    m->count++;
}

void key_map_prefetch(const key_map *m, uint64_t h)
{
    if (m->cap) {
        size_t i = home(m, key_of(h));
        /* and the next line when the probe may reach it: the map runs
         * up to 70% full, so an entry can sit a slot or two past home */
        __builtin_prefetch(&m->e[i], 1);
        __builtin_prefetch(&m->e[(i + 2) & (m->cap - 1)], 1);
    }
}

const key_stat *key_map_find(const key_map *m, uint64_t h)
{
    h = key_of(h);
    if (!m->cap)
        return NULL;
    for (size_t i = home(m, h);; i = (i + 1) & (m->cap - 1)) {
        if (m->e[i].h == h)
            return &m->e[i];
        if (!m->e[i].h)
            return NULL;
    }
}

void key_map_remove(key_map *m, uint64_t h)
{
    const key_stat *found = key_map_find(m, h);

    if (!found)
        return;
    size_t i = (size_t)(found - m->e), mask = m->cap - 1;
    /* Backward shift: move later entries of the run into the hole when
     * the hole lies between their home and their position. */
    for (size_t j = (i + 1) & mask; m->e[j].h; j = (j + 1) & mask) {
        size_t k = home(m, m->e[j].h);
        bool movable = i <= j ? (k <= i || k > j) : (k <= i && k > j);
        if (movable) {
            m->e[i] = m->e[j];
            i = j;
        }
    }
    m->e[i].h = 0;
    m->count--;
}

void key_map_stages(const key_map *m, uint32_t now,
                    uint64_t counts[WARP_STAGES])
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->e[i].h)
            counts[temporal_stage((uint64_t)(now - m->e[i].last) *
                                  TEMPORAL_TICK_MS)]++;
}
