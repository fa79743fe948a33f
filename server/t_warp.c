/*
 * t_warp.c - WarpEngine's own commands: WARP.METRICS, WARP.ENTROPY,
 * WARP.REBALANCE [FORCE], WARP.EXPLAIN key, WARP.PHYSICS [mode].
 * Maps are RESP3 maps, or flat name/value arrays in RESP2; doubles are
 * RESP3 doubles, or bulk strings in RESP2.
 */
#include "command.h"
#include "keyspace.h"
#include "resp.h"

#include <string.h>

static void kv_int(wd_client *c, const char *k, int64_t v)
{
    add_bulk_str(c, k);
    add_int(c, v);
}

static void kv_dbl(wd_client *c, const char *k, double v)
{
    add_bulk_str(c, k);
    add_double(c, v);
}

static void kv_str(wd_client *c, const char *k, const char *v)
{
    add_bulk_str(c, k);
    add_bulk_str(c, v);
}

void warp_metrics_cmd(wd_client *c)
{
    char *json = NULL;
    int rc = warp_metrics_json(server.db, &json);

    if (rc != WARP_OK) {
        add_engine_error(c, rc);
        return;
    }
    add_bulk_str(c, json);
    warp_free(json);
}

void warp_entropy_cmd(wd_client *c)
{
    warp_entropy_metrics e;
    int rc = warp_entropy_metrics_get(server.db, &e);

    if (rc != WARP_OK) {
        add_engine_error(c, rc);
        return;
    }
    add_map(c, 13);
    kv_dbl(c, "items", e.items);
    kv_dbl(c, "bytes", e.bytes);
    kv_dbl(c, "ops", e.ops);
    kv_dbl(c, "items_norm", e.items_norm);
    kv_dbl(c, "bytes_norm", e.bytes_norm);
    kv_dbl(c, "ops_norm", e.ops_norm);
    kv_dbl(c, "trend", e.trend);
    kv_dbl(c, "stability", e.stability);
    kv_int(c, "reports", (int64_t)e.reports);
    kv_int(c, "rebalances", (int64_t)e.rebalances);
    kv_int(c, "slots_moved", (int64_t)e.slots_moved);
    kv_int(c, "keys_moved", (int64_t)e.keys_moved);
    kv_int(c, "last_report_ms", (int64_t)e.last_report_ms);
}

void warp_rebalance_cmd(wd_client *c)
{
    warp_rebalance_report r;
    bool force = false;
    int rc;

    if (c->argc > 2 || (c->argc == 2 && !(force = arg_eq(c, 1, "force")))) {
        add_syntax_error(c);
        return;
    }
    rc = warp_rebalance(server.db, force, &r);
    if (rc != WARP_OK) {
        add_engine_error(c, rc);
        return;
    }
    add_map(c, 9);
    kv_int(c, "slots_moved", r.slots_moved);
    kv_int(c, "keys_moved", (int64_t)r.keys_moved);
    kv_int(c, "bytes_moved", (int64_t)r.bytes_moved);
    kv_dbl(c, "ops_norm_before", r.ops_norm_before);
    kv_dbl(c, "ops_norm_after", r.ops_norm_after);
    kv_dbl(c, "max_share_before", r.max_share_before);
    kv_dbl(c, "max_share_after", r.max_share_after);
    kv_dbl(c, "best_share", r.best_share);
    kv_int(c, "micros", (int64_t)r.micros);
}

void warp_explain_cmd(wd_client *c)
{
    warp_explain_info e;
    wd_value v;
    int rc = warp_explain(server.db, c->argv[1], c->argvlen[1], &e);

    if (rc != WARP_OK) {
        add_engine_error(c, rc);
        return;
    }
    /* exists, as warpd sees it: an expired value does not */
    bool exists = kv_lookup(c, c->argv[1], c->argvlen[1], &v) == WARP_OK;
    add_map(c, 12);
    kv_int(c, "shard", e.shard);
    kv_int(c, "slot", e.slot);
    add_bulk_str(c, "routing_id");
    add_bulk(c, e.routing_id,
             e.routing_id_len < sizeof e.routing_id ? e.routing_id_len
                                                    : sizeof e.routing_id - 1);
    kv_str(c, "class", warp_class_name(e.klass));
    kv_int(c, "exists", exists);
    kv_int(c, "observed", e.observed);
    kv_str(c, "stage", warp_stage_name(e.stage));
    kv_dbl(c, "weight", e.weight);
    kv_int(c, "last_access_ms", (int64_t)e.last_access_ms);
    kv_str(c, "tier", e.tier ? e.tier : "");
    kv_int(c, "ttl_ms",
           exists && v.expire ? v.expire - (int64_t)wd_now_ms()
                              : (exists ? -1 : -2));
    add_bulk_str(c, "wormholes");
    add_array(c, (int64_t)e.nedges);
    for (size_t i = 0; i < e.nedges; i++) {
        add_map(c, 2);
        kv_int(c, "slot", e.edges[i].slot);
        kv_dbl(c, "strength", e.edges[i].strength);
    }
}

void warp_physics_cmd(wd_client *c)
{
    warp_physics_mode m;

    if (c->argc == 1) {
        add_bulk_str(c, warp_physics_mode_name(warp_physics_get(server.db)));
        return;
    }
    if (c->argc != 2 || warp_physics_mode_parse(c->argv[1], &m) != WARP_OK) {
        add_error(c, "ERR physics mode must be off, adaptive or full");
        return;
    }
    if (warp_physics_set(server.db, m) != WARP_OK)
        add_error(c, "ERR cannot set the physics mode");
    else
        add_ok(c);
}
