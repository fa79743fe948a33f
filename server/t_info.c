/*
 * t_info.c - INFO [section ...]: server, clients, memory, persistence,
 * stats, keyspace (Redis's fields where they apply), and the engine's
 * sections: physics (warp_cosmic_metrics_get()), entropy
 * (warp_entropy_metrics_get()), entanglement
 * (warp_entanglement_metrics_get(), plus warpd's QGET counters) and tiers
 * (warp_tier_metrics_get()). Every figure is measured; none is invented.
 */
#include "command.h"
#include "config.h"
#include "keyspace.h"
#include "net.h"
#include "resp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void human(uint64_t bytes, char *buf, size_t cap)
{
    const char *units = "BKMGT";
    double v = (double)bytes;
    int u = 0;

    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, cap, "%lluB", (unsigned long long)bytes);
    else
        snprintf(buf, cap, "%.2f%c", v, units[u]);
}

static uint64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, rss = 0;

    if (!f)
        return 0;
    if (fscanf(f, "%llu %llu", &size, &rss) != 2)
        rss = 0;
    fclose(f);
    return rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void sec_server(wd_buf *b)
{
    uint64_t up = (wd_now_ms() - server.start_ms) / 1000;

    buf_printf(b,
               "# Server\r\nredis_version:%s\r\nwarpd_version:%s\r\n"
               "libwarp_version:%d.%d.%d\r\nredis_mode:standalone\r\n"
               "os:Linux\r\narch_bits:%d\r\nmultiplexing_api:epoll\r\n"
               "process_id:%d\r\ntcp_port:%d\r\nuptime_in_seconds:%llu\r\n"
               "uptime_in_days:%llu\r\nhz:%llu\r\nio_threads_active:%d\r\n"
               "executable:warpd\r\nconfig_file:%s\r\n\r\n",
               WARPD_REDIS_VER, WARPD_VERSION, WARP_VERSION_MAJOR,
               WARP_VERSION_MINOR, WARP_VERSION_PATCH,
               (int)(8 * sizeof(void *)), (int)getpid(), server.port,
               (unsigned long long)up, (unsigned long long)(up / 86400),
               (unsigned long long)atomic_load(&server.cfg.hz), server.nloops,
               config_file());
}

static void sec_clients(wd_buf *b)
{
    buf_printf(b,
               "# Clients\r\nconnected_clients:%llu\r\nmaxclients:%llu\r\n"
               "blocked_clients:0\r\n\r\n",
               (unsigned long long)atomic_load(&server.nclients),
               (unsigned long long)atomic_load(&server.cfg.maxclients));
}

static void sec_memory(wd_buf *b)
{
    warp_stats st = {0};
    char h1[32], h2[32], h3[32];
    uint64_t max = server.cfg.engine_maxmemory
                       ? server.cfg.opts.maxmemory
                       : atomic_load(&server.cfg.maxmemory);
    uint64_t rss = rss_bytes();

    warp_stats_get(server.db, &st);
    human(st.memory_bytes, h1, sizeof h1);
    human(max, h2, sizeof h2);
    human(rss, h3, sizeof h3);
    buf_printf(b,
               "# Memory\r\nused_memory:%llu\r\nused_memory_human:%s\r\n"
               "used_memory_rss:%llu\r\nused_memory_rss_human:%s\r\n"
               "maxmemory:%llu\r\nmaxmemory_human:%s\r\n"
               "maxmemory_policy:%s\r\nkey_bytes:%llu\r\n"
               "value_bytes:%llu\r\noverhead_bytes:%llu\r\n\r\n",
               (unsigned long long)st.memory_bytes, h1, (unsigned long long)rss,
               h3, (unsigned long long)max, h2,
               server.cfg.engine_maxmemory ? "engine-budget" : "noeviction",
               (unsigned long long)st.key_bytes,
               (unsigned long long)st.value_bytes,
               (unsigned long long)st.overhead_bytes);
}

static void sec_persistence(wd_buf *b)
{
    warp_durability d = {0};
    char fs[16] = "";

    warp_durability_get(server.db, &d);
    warp_options_get(&server.cfg.opts, "fsync", fs, sizeof fs);
    buf_printf(b,
               "# Persistence\r\nloading:0\r\nrdb_bgsave_in_progress:%d\r\n"
               "rdb_last_save_time:%llu\r\naof_enabled:%d\r\nwal_fsync:%s\r\n"
               "wal_bytes:%llu\r\nwal_syncs:%llu\r\ncheckpoints:%llu\r\n"
               "last_checkpoint_ms:%llu\r\nsync_errors:%llu\r\n\r\n",
               atomic_load(&server.bgsave_running) ? 1 : 0,
               (unsigned long long)atomic_load(&server.lastsave_s),
               strcmp(server.cfg.dir, WARPD_MEMORY_DIR) != 0, fs,
               (unsigned long long)d.wal_bytes, (unsigned long long)d.syncs,
               (unsigned long long)d.checkpoints,
               (unsigned long long)d.last_checkpoint_ms,
               (unsigned long long)d.sync_errors);
}

static void sec_stats(wd_buf *b)
{
    wd_stats s;

    net_stats_sum(&s);
    buf_printf(b,
               "# Stats\r\ntotal_connections_received:%llu\r\n"
               "total_commands_processed:%llu\r\ntotal_net_input_bytes:%llu\r\n"
               "total_net_output_bytes:%llu\r\nrejected_connections:%llu\r\n"
               "expired_keys:%llu\r\nkeyspace_hits:%llu\r\n"
               "keyspace_misses:%llu\r\n\r\n",
               (unsigned long long)s.connections,
               (unsigned long long)s.commands, (unsigned long long)s.net_in,
               (unsigned long long)s.net_out, (unsigned long long)s.rejected,
               (unsigned long long)(s.expired +
                                    atomic_load(&server.stat_expired_active)),
               (unsigned long long)s.hits, (unsigned long long)s.misses);
}

static void sec_keyspace(wd_buf *b)
{
    uint64_t keys = keyspace_user_keys();

    buf_printf(b, "# Keyspace\r\n");
    if (keys > 0)
        buf_printf(b, "db0:keys=%llu,expires=%llu,avg_ttl=0\r\n",
                   (unsigned long long)keys, (unsigned long long)ttl_count());
    buf_printf(b, "\r\n");
}

static void sec_physics(wd_buf *b)
{
    warp_cosmic_metrics m = {0};

    warp_cosmic_metrics_get(server.db, &m);
    buf_printf(b,
               "# Physics\r\nphysics_mode:%s\r\nsample_rate:%.6f\r\n"
               "observed_gets:%llu\r\nobserved_puts:%llu\r\n"
               "observed_deletes:%llu\r\nobserved_batch_gets:%llu\r\n"
               "facts:%llu\r\nfacts_dropped:%llu\r\nrings:%llu\r\n"
               "rounds:%llu\r\n"
               "physics_cpu:%.6f\r\nphysics_cpu_total_s:%.3f\r\n"
               "tracked_keys:%llu\r\nstage_live:%llu\r\nstage_recent:%llu\r\n"
               "stage_historical:%llu\r\nstage_deep_time:%llu\r\n"
               "keys_unobserved:%llu\r\n\r\n",
               warp_physics_mode_name(m.mode), m.sample_rate,
               (unsigned long long)m.gets, (unsigned long long)m.puts,
               (unsigned long long)m.deletes, (unsigned long long)m.batch_gets,
               (unsigned long long)m.facts, (unsigned long long)m.facts_dropped,
               (unsigned long long)m.rings, (unsigned long long)m.rounds,
               m.physics_cpu, m.physics_cpu_total_s,
               (unsigned long long)m.tracked_keys,
               (unsigned long long)m.stage_keys[WARP_STAGE_LIVE],
               (unsigned long long)m.stage_keys[WARP_STAGE_RECENT],
               (unsigned long long)m.stage_keys[WARP_STAGE_HISTORICAL],
               (unsigned long long)m.stage_keys[WARP_STAGE_DEEP_TIME],
               (unsigned long long)m.keys_unobserved);
}

static void sec_entropy(wd_buf *b)
{
    warp_entropy_metrics e = {0};

    warp_entropy_metrics_get(server.db, &e);
    buf_printf(
        b,
        "# Entropy\r\nentropy_items:%.6f\r\nentropy_bytes:%.6f\r\n"
        "entropy_ops:%.6f\r\nentropy_items_norm:%.6f\r\n"
        "entropy_bytes_norm:%.6f\r\nentropy_ops_norm:%.6f\r\n"
        "entropy_trend:%.6f\r\nentropy_stability:%.6f\r\n"
        "entropy_reports:%llu\r\nrebalances:%llu\r\nslots_moved:%llu\r\n"
        "keys_moved:%llu\r\nlast_report_ms:%llu\r\n\r\n",
        e.items, e.bytes, e.ops, e.items_norm, e.bytes_norm, e.ops_norm,
        e.trend, e.stability, (unsigned long long)e.reports,
        (unsigned long long)e.rebalances, (unsigned long long)e.slots_moved,
        (unsigned long long)e.keys_moved, (unsigned long long)e.last_report_ms);
}

static void sec_entanglement(wd_buf *b)
{
    warp_entanglement_metrics m = {0};
    wd_stats s;

    warp_entanglement_metrics_get(server.db, &m);
    net_stats_sum(&s);
    buf_printf(
        b,
        "# Entanglement\r\nentangled_edges:%llu\r\nunentangled_edges:%llu\r\n"
        "edge_records_written:%llu\r\nlearning:%s\r\n"
        "learned_pairs_seen:%llu\r\nlearned_pairs_dropped:%llu\r\n"
        "learned_created:%llu\r\nlearned_reinforced:%llu\r\n"
        "learned_pruned:%llu\r\nlearned_tracked:%llu\r\n"
        "qget_calls:%llu\r\nqget_partners:%llu\r\n"
        "qget_partners_found:%llu\r\nqget_efficiency:%.6f\r\n\r\n",
        (unsigned long long)m.entangled, (unsigned long long)m.unentangled,
        (unsigned long long)m.records_written,
        server.cfg.opts.entanglement_learning ? "yes" : "no",
        (unsigned long long)m.pairs_seen, (unsigned long long)m.pairs_dropped,
        (unsigned long long)m.learned_created,
        (unsigned long long)m.learned_reinforced,
        (unsigned long long)m.learned_pruned,
        (unsigned long long)m.learned_tracked, (unsigned long long)s.qgets,
        (unsigned long long)s.qget_partners, (unsigned long long)s.qget_found,
        s.qget_partners ? (double)s.qget_found / (double)s.qget_partners : 1.0);
}

static const char *eviction_name(warp_eviction e)
{
    return e == WARP_EVICT_LRU ? "lru" : e == WARP_EVICT_LFU ? "lfu" : "none";
}

static void sec_tiers(wd_buf *b)
{
    warp_tier_metrics m = {0};

    warp_tier_metrics_get(server.db, &m);
    buf_printf(
        b,
        "# Tiers\r\ntier_maxmemory:%llu\r\ntier_used_bytes:%llu\r\n"
        "tier_eviction:%s\r\nevictions:%llu\r\nbudget_failures:%llu\r\n"
        "budget_exhausted:%d\r\npromotions_skipped:%llu\r\n"
        "moves_lost:%llu\r\ndict_bytes:%llu\r\n",
        (unsigned long long)m.maxmemory, (unsigned long long)m.used_bytes,
        eviction_name(m.eviction), (unsigned long long)m.evictions,
        (unsigned long long)m.budget_failures, m.exhausted ? 1 : 0,
        (unsigned long long)m.promotions_skipped,
        (unsigned long long)m.moves_lost, (unsigned long long)m.dict_bytes);
    for (int t = 0; t < WARP_TIERS; t++) {
        const warp_tier_stats *s = &m.tiers[t];
        const char *n = warp_tier_name((warp_tier)t);
        buf_printf(
            b,
            "%s_items:%llu\r\n%s_bytes:%llu\r\n%s_value_bytes:%llu\r\n"
            "%s_stored_bytes:%llu\r\n%s_hits:%llu\r\n%s_promotions:%llu\r\n"
            "%s_demotions:%llu\r\n%s_compression_ratio:%.4f\r\n",
            n, (unsigned long long)s->items, n, (unsigned long long)s->bytes, n,
            (unsigned long long)s->value_bytes, n,
            (unsigned long long)s->stored_bytes, n, (unsigned long long)s->hits,
            n, (unsigned long long)s->promotions, n,
            (unsigned long long)s->demotions, n, s->compression_ratio);
    }
    buf_printf(
        b,
        "deep_files:%llu\r\ndeep_file_bytes:%llu\r\ndeep_live_bytes:%llu\r\n"
        "deep_reclaimed_files:%llu\r\ndeep_reclaimed_bytes:%llu\r\n"
        "deep_read_errors:%llu\r\ndeep_write_errors:%llu\r\n\r\n",
        (unsigned long long)m.deep_files, (unsigned long long)m.deep_file_bytes,
        (unsigned long long)m.deep_live_bytes,
        (unsigned long long)m.deep_reclaimed_files,
        (unsigned long long)m.deep_reclaimed_bytes,
        (unsigned long long)m.deep_read_errors,
        (unsigned long long)m.deep_write_errors);
}

typedef struct section {
    const char *name;
    void (*fn)(wd_buf *b);
    bool dflt; /* in INFO without arguments */
} section;

static const section sections[] = {
    {"server", sec_server, true},
    {"clients", sec_clients, true},
    {"memory", sec_memory, true},
    {"persistence", sec_persistence, true},
    {"stats", sec_stats, true},
    {"keyspace", sec_keyspace, true},
    {"physics", sec_physics, true},
    {"entropy", sec_entropy, true},
    {"entanglement", sec_entanglement, true},
    {"tiers", sec_tiers, true},
};

#define NSECTIONS (sizeof sections / sizeof sections[0])

void info_cmd(wd_client *c)
{
    wd_buf b = {0};
    bool want[NSECTIONS] = {0};

    if (c->argc == 1)
        for (size_t s = 0; s < NSECTIONS; s++)
            want[s] = sections[s].dflt;
    for (int i = 1; i < c->argc; i++) {
        bool all = arg_eq(c, i, "all") || arg_eq(c, i, "everything");
        bool dflt = arg_eq(c, i, "default");
        for (size_t s = 0; s < NSECTIONS; s++)
            if (all || (dflt && sections[s].dflt) ||
                arg_eq(c, i, sections[s].name))
                want[s] = true;
    }
    for (size_t s = 0; s < NSECTIONS; s++)
        if (want[s])
            sections[s].fn(&b);
    if (b.len >= 2) /* no blank line after the last section */
        b.len -= 2;
    add_verbatim(c, b.p ? b.p : "", b.len);
    buf_free(&b);
}
