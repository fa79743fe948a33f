/*
 * rebalance.c - one rebalance experiment for `warp bench`.
 *
 * THE EXPERIMENT
 *   1. Open a fresh in-memory store with the given options, but with
 *      entropy_threshold=0, so that no automatic rebalance moves slots: the
 *      only one is the bench's. Preload N keys in the flat layout.
 *   2. warp_locate() every key once: its slot (fixed: a hash) and the shard
 *      that slot maps to now.
 *   3. Before: the workers run gets for S seconds with the configured
 *      distribution (zipf unless told otherwise), each get also counted in
 *      a per-thread table of WARP_SLOTS counters under its key's slot. A
 *      shard's ops are the sum of its slots' counts; the busiest shard's
 *      share is its ops over all ops.
 *   4. Wait until the physics thread has finished a round that began after
 *      the load stopped (at most 2 update intervals + 1 s), so the plan sees
 *      the whole load; then warp_rebalance(db, force=true).
 *   5. warp_locate() every key again (slots have moved), and run the same
 *      load again: the busiest share after.
 *   6. The best share any slot-to-shard map allows: max(1 / shards, the
 *      hottest slot's share of both phases' ops), because a slot cannot be
 *      split. The store must still hold N keys.
 *   Counting by slot and mapping slots to shards afterwards gives the same
 *   per-shard figures as counting by shard, and the per-slot figures too.
 */
#include "rebalance.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Fill slot_of[k] for every key and slot_shard[] for every slot that holds
 * a key (UINT32_MAX for the others). Returns WARP_OK or the error. */
static int locate_all(warp_db *db, uint32_t keys, uint16_t *slot_of,
                      uint32_t *slot_shard)
{
    char key[KEY_BUF];
    for (uint32_t s = 0; s < WARP_SLOTS; s++)
        slot_shard[s] = UINT32_MAX;
    for (uint32_t k = 0; k < keys; k++) {
        warp_placement where;
        int rc = warp_locate(db, key, key_write(key, LAYOUT_FLAT, k), &where);
        if (rc != WARP_OK)
            return rc;
        slot_of[k] = (uint16_t)where.slot;
        slot_shard[where.slot] = where.shard;
    }
    return WARP_OK;
}

/* The physics thread's CPU seconds so far, or NAN. */
static double physics_cpu_s(warp_db *db)
{
    warp_cosmic_metrics m;
    if (warp_cosmic_metrics_get(db, &m) != WARP_OK)
        return NAN;
    return m.physics_cpu_total_s;
}

/* Run one phase of the load and count its busiest shard. Returns 0 or 1
 * (reported). */
static int run_phase(warp_db *db, const struct rebalance_spec *spec,
                     const uint16_t *slot_of, const uint32_t *slot_shard,
                     uint32_t shards, uint64_t *slot_ops,
                     struct rebalance_phase *ph)
{
    struct run_spec rs = {.db = db,
                          .workload = WL_REBALANCE,
                          .keys = spec->keys,
                          .value_size = spec->value_size,
                          .pattern = spec->pattern,
                          .layout = LAYOUT_FLAT,
                          .dist = spec->dist,
                          .slot_of = slot_of,
                          .threads = spec->threads,
                          .seconds = spec->seconds};
    uint64_t *shard_ops = calloc(shards, sizeof *shard_ops);
    if (shard_ops == NULL) {
        fprintf(stderr, "warp bench: out of memory\n");
        return 1;
    }
    memset(ph, 0, sizeof *ph);
    ph->run.slot_ops = slot_ops;
    double cpu0 = physics_cpu_s(db);
    if (workload_run(&rs, &ph->run) != 0) {
        free(shard_ops);
        return 1;
    }
    ph->physics_cpu = (physics_cpu_s(db) - cpu0) / ph->run.seconds;
    for (uint32_t s = 0; s < WARP_SLOTS; s++)
        if (slot_ops[s] != 0 && slot_shard[s] < shards)
            shard_ops[slot_shard[s]] += slot_ops[s];
    for (uint32_t i = 0; i < shards; i++)
        if (shard_ops[i] > shard_ops[ph->busiest_shard])
            ph->busiest_shard = i;
    ph->busiest_share =
        (double)shard_ops[ph->busiest_shard] / (double)ph->run.ops;
    free(shard_ops);
    return 0;
}

/* Wait for the physics thread to finish a round begun after the load
 * stopped (nothing to wait for with physics off). Returns the ms waited. */
static double settle(warp_db *db, const warp_options *o)
{
    warp_cosmic_metrics m;
    if (o->physics == WARP_PHYSICS_OFF ||
        warp_cosmic_metrics_get(db, &m) != WARP_OK)
        return 0.0;
    uint64_t r0 = m.rounds, t0 = now_ns();
    uint64_t limit = (2 * o->physics_update_interval + 1000) * 1000000ull;
    while (m.rounds < r0 + 2 && now_ns() - t0 < limit) {
        struct timespec ts = {0, 5000000}; /* 5 ms */
        nanosleep(&ts, NULL);
        if (warp_cosmic_metrics_get(db, &m) != WARP_OK)
            break;
    }
    return (double)(now_ns() - t0) / 1e6;
}

/* The hottest slot's share of the two phases' ops, together. */
static double hottest_slot(const uint64_t *a, const uint64_t *b, uint64_t ops)
{
    uint64_t top = 0;
    for (uint32_t s = 0; s < WARP_SLOTS; s++)
        if (a[s] + b[s] > top)
            top = a[s] + b[s];
    return ops ? (double)top / (double)ops : 0.0;
}

/* Steps 2 to 6 on the open, preloaded store. Returns 0 or 1 (reported). */
static int experiment(warp_db *db, const struct rebalance_spec *spec,
                      const warp_options *o, uint16_t *slot_of,
                      uint32_t *slot_shard, uint64_t *ops[2],
                      struct rebalance_result *out)
{
    uint32_t shards = warp_shard_count(db);
    const char *call = "warp_locate";
    int rc = locate_all(db, spec->keys, slot_of, slot_shard);
    if (rc != WARP_OK)
        goto fail;
    if (run_phase(db, spec, slot_of, slot_shard, shards, ops[0],
                  &out->before) != 0)
        return 1;
    out->settle_ms = settle(db, o);
    call = "warp_rebalance";
    rc = warp_rebalance(db, true, &out->report);
    if (rc != WARP_OK)
        goto fail;
    call = "warp_locate";
    rc = locate_all(db, spec->keys, slot_of, slot_shard);
    if (rc != WARP_OK)
        goto fail;
    if (run_phase(db, spec, slot_of, slot_shard, shards, ops[1], &out->after) !=
        0)
        return 1;
    out->shards = shards;
    out->hottest_slot_share =
        hottest_slot(ops[0], ops[1], out->before.run.ops + out->after.run.ops);
    out->best_share = fmax(1.0 / shards, out->hottest_slot_share);
    warp_stats st;
    call = "warp_stats_get";
    rc = warp_stats_get(db, &st);
    if (rc == WARP_OK && st.keys == spec->keys)
        return 0;
    if (rc == WARP_OK) {
        fprintf(stderr,
                "warp bench: rebalance: the store holds %llu keys after the "
                "rebalance, expected %u\n",
                (unsigned long long)st.keys, spec->keys);
        return 1;
    }
fail:
    fprintf(stderr, "warp bench: rebalance: %s: %s\n", call, warp_strerror(rc));
    return 1;
}

int rebalance_run(const struct rebalance_spec *spec,
                  struct rebalance_result *out)
{
    warp_options o = *spec->opts;
    o.entropy_threshold = 0; /* no automatic rebalance: only ours */
    warp_db *db = NULL;
    int status = 1;
    uint16_t *slot_of = malloc((size_t)spec->keys * sizeof *slot_of);
    uint32_t *slot_shard = malloc(WARP_SLOTS * sizeof *slot_shard);
    uint64_t *ops[2] = {calloc(WARP_SLOTS, sizeof *ops[0]),
                        calloc(WARP_SLOTS, sizeof *ops[1])};
    memset(out, 0, sizeof *out);
    if (slot_of == NULL || slot_shard == NULL || ops[0] == NULL ||
        ops[1] == NULL) {
        fprintf(stderr, "warp bench: out of memory\n");
        goto out;
    }
    int rc = warp_open(NULL, &o, &db);
    if (rc != WARP_OK) {
        fprintf(stderr, "warp bench: rebalance: warp_open: %s\n",
                warp_strerror(rc));
        goto out;
    }
    if (workload_preload(db, spec->keys, LAYOUT_FLAT, spec->value_size,
                         spec->pattern, 0) != WARP_OK)
        goto out;
    status = experiment(db, spec, &o, slot_of, slot_shard, ops, out);
out:
    warp_close(db);
    free(ops[1]);
    free(ops[0]);
    free(slot_shard);
    free(slot_of);
    return status;
}
