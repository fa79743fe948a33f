/*
 * test-physics.c - the physics engine, by its effects: what each mode
 * observes (and that off observes nothing), run-time mode switches under
 * load, co-location by hash tags and rules, the decay arithmetic and
 * lifecycle stages, learned wormholes, and a skewed load that the
 * rebalancer spreads while threads read and write.
 *
 * White-box for the temporal arithmetic (src/temporal.h).
 */
#include "testutil.h"
#include "durability.h"

#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "temporal.h"

static void sleep_ms(unsigned ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static warp_db *open_physics(warp_physics_mode mode, uint32_t shards)
{
    warp_options o;

    warp_options_init(&o);
    o.physics = mode;
    o.shards = shards;
    o.physics_update_interval = 20;
    o.entropy_monitoring_interval = 50;
    o.entropy_threshold = 0; /* no automatic rebalancing unless a test asks */
    return open_store(&o);
}

/* Wait (up to 5 s) until the physics thread has consumed `facts`. */
static warp_cosmic_metrics wait_facts(warp_db *db, uint64_t facts)
{
    warp_cosmic_metrics m;

    for (int i = 0; i < 500; i++) {
        assert_ok(warp_cosmic_metrics_get(db, &m));
        if (m.facts >= facts)
            return m;
        sleep_ms(10);
    }
    fail_msg("physics consumed %llu facts, expected %llu",
             (unsigned long long)m.facts, (unsigned long long)facts);
    return m;
}

/* Wait until the physics thread has drained everything recorded: the
 * fact count holds still over several of its 10 ms drains. */
static warp_cosmic_metrics wait_drained(warp_db *db)
{
    warp_cosmic_metrics m, prev;

    assert_ok(warp_cosmic_metrics_get(db, &prev));
    for (int still = 0; still < 4;) {
        sleep_ms(30);
        assert_ok(warp_cosmic_metrics_get(db, &m));
        still = m.facts == prev.facts ? still + 1 : 0;
        prev = m;
    }
    return m;
}

static void put_keys(warp_db *db, const char *prefix, int n)
{
    char key[64];

    for (int i = 0; i < n; i++) {
        size_t kl = format_key(key, sizeof(key), prefix, (uint64_t)i);
        assert_ok(warp_put(db, key, kl, "v", 1, NULL, NULL));
    }
}

static void get_keys(warp_db *db, const char *prefix, int n, int rounds)
{
    char key[64], buf[16];
    size_t vlen;

    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++) {
            size_t kl = format_key(key, sizeof(key), prefix, (uint64_t)i);
            assert_ok(warp_get(db, key, kl, buf, sizeof(buf), &vlen, NULL));
        }
}

/* ------------------------------------------------------------------------ */
/* Modes                                                                     */
/* ------------------------------------------------------------------------ */

static void off_does_no_physics_work(void **state)
{
    warp_db *db = open_physics(WARP_PHYSICS_OFF, 4);
    warp_cosmic_metrics m;

    (void)state;
    put_keys(db, "k", 1000);
    get_keys(db, "k", 1000, 5);
    sleep_ms(100); /* five update intervals */
    assert_ok(warp_cosmic_metrics_get(db, &m));
    assert_int_equal(m.mode, WARP_PHYSICS_OFF);
    assert_int_equal(m.facts, 0);
    assert_int_equal(m.rounds, 0);
    assert_int_equal(m.gets + m.puts, 0);
    assert_true(m.physics_cpu_total_s == 0.0);
    assert_true(m.sample_rate == 0.0);
    warp_close(db);
}

static void full_observes_every_access(void **state)
{
    warp_db *db = open_physics(WARP_PHYSICS_FULL, 4);
    warp_cosmic_metrics m;

    (void)state;
    put_keys(db, "k", 1000);
    get_keys(db, "k", 1000, 3);
    assert_ok(warp_delete(db, "k:7", 3));
    m = wait_facts(db, 4001);
    assert_int_equal(m.puts, 1000);
    assert_int_equal(m.gets, 3000);
    assert_int_equal(m.deletes, 1);
    assert_int_equal(m.facts_dropped, 0);
    assert_true(m.sample_rate == 1.0);
    /* the deleted key is forgotten; the others are tracked */
    m = wait_facts(db, 4001);
    assert_int_equal(m.tracked_keys, 999);
    warp_close(db);
}

/* A thread that goes back and forth between two stores records into one
 * ring in each, and every access is observed. (Each return to a store
 * used to allocate another ring: 200,000 alternating gets took 53 s and
 * 18 GiB.) */
static void a_thread_keeps_its_ring_in_each_store(void **state)
{
    warp_db *db[2] = {open_physics(WARP_PHYSICS_FULL, 4),
                      open_physics(WARP_PHYSICS_FULL, 4)};
    char buf[16];
    size_t vlen;

    (void)state;
    for (int s = 0; s < 2; s++)
        assert_ok(warp_put(db[s], "k", 1, "v", 1, NULL, NULL));
    for (int i = 0; i < 2000; i++)
        assert_ok(warp_get(db[i & 1], "k", 1, buf, sizeof(buf), &vlen, NULL));
    for (int s = 0; s < 2; s++) {
        warp_cosmic_metrics m = wait_facts(db[s], 1001);
        assert_int_equal(m.rings, 1);
        assert_int_equal(m.gets, 1000);
        assert_int_equal(m.puts, 1);
        assert_int_equal(m.facts_dropped, 0);
        warp_close(db[s]);
    }
}

struct churn {
    warp_db *db;
    int n;
    pthread_barrier_t all_in; /* every thread of a round holds its ring */
};

static void *churn_thread(void *arg)
{
    struct churn *c = arg;

    get_keys(c->db, "k", c->n, 1);
    pthread_barrier_wait(&c->all_in);
    return NULL;
}

/* Threads that come and go: each new thread takes over a ring an exited
 * one released, so the store holds as many rings as threads ran at once,
 * and the facts left in a ring when its owner exited are still read. */
static void exited_threads_pass_their_rings_on(void **state)
{
    enum { ROUNDS = 20, AT_ONCE = 3, GETS = 500 };
    warp_db *db = open_physics(WARP_PHYSICS_FULL, 4);
    struct churn c = {.db = db, .n = GETS};
    pthread_t t[AT_ONCE];

    (void)state;
    assert_int_equal(pthread_barrier_init(&c.all_in, NULL, AT_ONCE), 0);
    put_keys(db, "k", GETS); /* this thread's ring */
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < AT_ONCE; i++)
            assert_int_equal(pthread_create(&t[i], NULL, churn_thread, &c), 0);
        for (int i = 0; i < AT_ONCE; i++)
            assert_int_equal(pthread_join(t[i], NULL), 0);
    }
    warp_cosmic_metrics m = wait_facts(db, GETS + ROUNDS * AT_ONCE * GETS);
    assert_int_equal(m.rings, 1 + AT_ONCE);
    assert_int_equal(m.gets, ROUNDS * AT_ONCE * GETS);
    assert_int_equal(m.facts_dropped, 0);
    pthread_barrier_destroy(&c.all_in);
    warp_close(db);
}

/* A thread-exit destructor that runs after the store's own (its key was
 * made later) and still reads the store: it must not write to the ring
 * the exiting thread just released, which another thread may have taken.
 *
 * T1 reads, then exits. Its late destructor lets T2 start: T2's first
 * read takes T1's released ring. Then both read, at once, and T2 keeps
 * its ring until the destructor is done. The destructor
 * must get a ring of its own: three rings (the main thread's, T1's now
 * T2's, the destructor's), every read counted, and under TSan no race on
 * a ring. Before, it kept writing to T1's old ring beside T2: two rings.
 * Then T3 and T4 run together and take the two rings let go (T2's at its
 * exit, the destructor's when the store's destructor ran again): still
 * three. */
struct late {
    warp_db *db;
    pthread_key_t key;
    sem_t t2_go, t2_has_ring, both_go, late_done;
    pthread_barrier_t all_in;
};

enum { LATE_GETS = 2000 };

static void late_destructor(void *arg)
{
    struct late *l = arg;

    sem_post(&l->t2_go);
    sem_wait(&l->t2_has_ring);
    sem_post(&l->both_go);
    get_keys(l->db, "k", LATE_GETS, 1);
    sem_post(&l->late_done);
}

static void *late_t1(void *arg)
{
    struct late *l = arg;

    get_keys(l->db, "k", LATE_GETS, 1);
    assert_int_equal(pthread_setspecific(l->key, l), 0);
    return NULL;
}

static void *late_t2(void *arg)
{
    struct late *l = arg;
    char buf[16];
    size_t vlen;

    sem_wait(&l->t2_go);
    assert_ok(warp_get(l->db, "k:0", 3, buf, sizeof(buf), &vlen, NULL));
    sem_post(&l->t2_has_ring);
    sem_wait(&l->both_go);
    get_keys(l->db, "k", LATE_GETS, 1);
    sem_wait(&l->late_done); /* hold the ring while the destructor reads */
    return NULL;
}

static void *late_pair(void *arg)
{
    struct late *l = arg;

    get_keys(l->db, "k", LATE_GETS, 1);
    pthread_barrier_wait(&l->all_in);
    return NULL;
}

static void a_late_exit_destructor_gets_a_ring_of_its_own(void **state)
{
    warp_db *db = open_physics(WARP_PHYSICS_FULL, 4);
    struct late l = {.db = db};
    pthread_t t1, t2, t3, t4;

    (void)state;
    put_keys(db, "k", LATE_GETS); /* the main thread's ring, and the
                                   * store's exit key made before ours */
    assert_int_equal(pthread_key_create(&l.key, late_destructor), 0);
    assert_int_equal(sem_init(&l.t2_go, 0, 0), 0);
    assert_int_equal(sem_init(&l.t2_has_ring, 0, 0), 0);
    assert_int_equal(sem_init(&l.both_go, 0, 0), 0);
    assert_int_equal(sem_init(&l.late_done, 0, 0), 0);
    assert_int_equal(pthread_barrier_init(&l.all_in, NULL, 2), 0);
    assert_int_equal(pthread_create(&t2, NULL, late_t2, &l), 0);
    assert_int_equal(pthread_create(&t1, NULL, late_t1, &l), 0);
    assert_int_equal(pthread_join(t1, NULL), 0);
    assert_int_equal(pthread_join(t2, NULL), 0);
    warp_cosmic_metrics m = wait_facts(db, LATE_GETS * 4 + 1);
    assert_int_equal(m.rings, 3);
    assert_int_equal(m.gets, LATE_GETS * 3 + 1);
    assert_int_equal(pthread_create(&t3, NULL, late_pair, &l), 0);
    assert_int_equal(pthread_create(&t4, NULL, late_pair, &l), 0);
    assert_int_equal(pthread_join(t3, NULL), 0);
    assert_int_equal(pthread_join(t4, NULL), 0);
    m = wait_facts(db, LATE_GETS * 6 + 1);
    assert_int_equal(m.rings, 3);
    assert_int_equal(m.gets, LATE_GETS * 5 + 1);
    assert_int_equal(m.facts_dropped, 0);
    pthread_barrier_destroy(&l.all_in);
    sem_destroy(&l.late_done);
    sem_destroy(&l.both_go);
    sem_destroy(&l.t2_has_ring);
    sem_destroy(&l.t2_go);
    pthread_key_delete(l.key);
    warp_close(db);
}

static void adaptive_samples_and_scales(void **state)
{
    warp_options o;
    warp_db *db;
    warp_cosmic_metrics m;

    (void)state;
    warp_options_init(&o);
    o.physics = WARP_PHYSICS_ADAPTIVE;
    o.physics_update_interval = 20;
    o.physics_cpu_budget = 0.001; /* so the rate can only fall */
    db = open_store(&o);
    assert_ok(warp_cosmic_metrics_get(db, &m));
    assert_true(m.sample_rate < 1.0); /* it starts sampling */
    put_keys(db, "k", 1000);
    get_keys(db, "k", 1000, 64);
    /* each sampled fact counts for the accesses it stands for, so the
     * scaled counts are near the truth, from far fewer facts */
    m = wait_drained(db);
    assert_true(m.facts > 0 && m.facts < 65000 / 4);
    assert_true(m.gets > 64000 * 0.7 && m.gets < 64000 * 1.3);
    warp_close(db);
}

typedef struct load_arg {
    warp_db *db;
    atomic_bool *stop;
    int id;
    uint64_t ops;
    int errors;
} load_arg;

/* Puts and gets on this thread's own keys; checks every read. */
static void *mixed_load(void *p)
{
    load_arg *a = p;
    char key[64], buf[64];
    size_t vlen;
    uint64_t v = 0;

    do { /* at least one round: 200 keys per thread */
        for (int i = 0; i < 200; i++, v++) {
            int n = snprintf(key, sizeof(key), "t%d:%d", a->id, i);
            char val[32];
            int vl = snprintf(val, sizeof(val), "%llu", (unsigned long long)v);
            if (warp_put(a->db, key, (size_t)n, val, (size_t)vl, NULL, NULL))
                a->errors++;
            if (warp_get(a->db, key, (size_t)n, buf, sizeof(buf), &vlen,
                         NULL) != WARP_OK ||
                vlen != (size_t)vl || memcmp(buf, val, vlen) != 0)
                a->errors++;
            a->ops += 2;
        }
    } while (!atomic_load(a->stop));
    return NULL;
}

static void modes_switch_safely_under_load(void **state)
{
    warp_db *db = open_physics(WARP_PHYSICS_OFF, 4);
    atomic_bool stop = false;
    pthread_t t[2];
    load_arg a[2];

    (void)state;
    for (int i = 0; i < 2; i++) {
        a[i] = (load_arg){.db = db, .stop = &stop, .id = i};
        assert_int_equal(pthread_create(&t[i], NULL, mixed_load, &a[i]), 0);
    }
    for (int i = 0; i < 60; i++) {
        assert_ok(warp_physics_set(db, (warp_physics_mode)(i % 3)));
        assert_int_equal(warp_physics_get(db), i % 3);
        sleep_ms(5);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].errors, 0);
        assert_true(a[i].ops > 0);
    }
    assert_rc(warp_physics_set(db, (warp_physics_mode)7), WARP_EINVAL);
    warp_close(db);
}

/* ------------------------------------------------------------------------ */
/* Co-location                                                               */
/* ------------------------------------------------------------------------ */

static uint32_t slot_of(warp_db *db, const char *key)
{
    warp_placement w;

    assert_ok(warp_locate(db, key, strlen(key), &w));
    return w.slot;
}

static void hash_tags_and_rules_colocate(void **state)
{
    warp_db *db = open_physics(WARP_PHYSICS_OFF, 16);
    char a[64], b[64], c[64], d[64];
    warp_explain_info e;

    (void)state;
    assert_int_equal(slot_of(db, "{cart42}.items"),
                     slot_of(db, "{cart42}.total"));
    assert_int_equal(slot_of(db, "x{cart42}"), slot_of(db, "{cart42}y"));
    for (int i = 0; i < 50; i++) {
        snprintf(a, sizeof(a), "user:%d", i);
        snprintf(b, sizeof(b), "profile:%d", i);
        snprintf(c, sizeof(c), "settings:%d", i);
        snprintf(d, sizeof(d), "sessions:%d", i);
        assert_int_equal(slot_of(db, a), slot_of(db, b));
        assert_int_equal(slot_of(db, a), slot_of(db, c));
        assert_int_equal(slot_of(db, a), slot_of(db, d));
    }
    /* an empty tag is no tag; keys no rule names hash whole */
    int same = 0;
    for (int i = 0; i < 50; i++) {
        snprintf(a, sizeof(a), "{}x%d", i);
        snprintf(b, sizeof(b), "{}y%d", i);
        same += slot_of(db, a) == slot_of(db, b);
    }
    assert_true(same < 5);
    assert_ok(warp_explain(db, "profile:alice", 13, &e));
    assert_int_equal(e.routing_id_len, 5);
    assert_memory_equal(e.routing_id, "alice", 5);
    assert_false(e.exists);
    warp_close(db);

    /* with colocation none, the same keys scatter */
    warp_options o;
    warp_options_init(&o);
    assert_ok(warp_options_set(&o, "colocation", "none"));
    db = open_store(&o);
    same = 0;
    for (int i = 0; i < 50; i++) {
        snprintf(a, sizeof(a), "user:%d", i);
        snprintf(b, sizeof(b), "profile:%d", i);
        same += slot_of(db, a) == slot_of(db, b);
    }
    assert_true(same < 5);
    warp_close(db);

    /* configured rules are honoured, the defaults then are not */
    warp_options_init(&o);
    assert_ok(warp_options_set(&o, "entanglement_rules", "team:*->member:*"));
    assert_rc(warp_options_set(&o, "entanglement_rules", "nostar->x:*"),
              WARP_EINVAL);
    db = open_store(&o);
    assert_int_equal(slot_of(db, "team:9"), slot_of(db, "member:9"));
    same = 0;
    for (int i = 0; i < 50; i++) {
        snprintf(a, sizeof(a), "user:%d", i);
        snprintf(b, sizeof(b), "profile:%d", i);
        same += slot_of(db, a) == slot_of(db, b);
    }
    assert_true(same < 5);
    warp_close(db);
}

/* Routing is fixed when a store is created: the manifest's colocation and
 * rules win over the options of a later open (moved slots hold their keys
 * by the routing that placed them). */
static void routing_is_fixed_at_creation(void **state)
{
    test_dir *d = make_test_dir();
    warp_options o;
    warp_db *db;

    (void)state;
    warp_options_init(&o);
    assert_ok(warp_options_set(&o, "colocation", "none"));
    assert_ok(warp_options_set(&o, "entanglement_rules", "team:*->member:*"));
    assert_ok(warp_open(d->db, &o, &db));
    put_str(db, "user:1", "u");
    put_str(db, "team:1", "t");
    warp_close(db);

    assert_ok(warp_open(d->db, NULL, &db)); /* defaults: tags,rules */
    int same = 0;
    char a[32], b[32];
    for (int i = 0; i < 50; i++) {
        snprintf(a, sizeof(a), "team:%d", i);
        snprintf(b, sizeof(b), "member:%d", i);
        same += slot_of(db, a) == slot_of(db, b);
    }
    assert_true(same < 5); /* still none */
    assert_get_str(db, "user:1", "u");
    assert_get_str(db, "team:1", "t");
    warp_close(db);
    remove_test_dir(d);
}

/* ------------------------------------------------------------------------ */
/* Temporal weight                                                           */
/* ------------------------------------------------------------------------ */

static void decay_arithmetic(void **state)
{
    (void)state;
    assert_true(fabs(temporal_decay(8.0, 1000, 1000) - 4.0) < 1e-12);
    assert_true(fabs(temporal_decay(8.0, 3000, 1000) - 1.0) < 1e-12);
    assert_true(fabs(temporal_decay(8.0, 500, 1000) - 8.0 / sqrt(2.0)) < 1e-12);
    assert_true(temporal_decay(8.0, 0, 1000) == 8.0);
    assert_int_equal(temporal_stage(0), WARP_STAGE_LIVE);
    assert_int_equal(temporal_stage(3599999), WARP_STAGE_LIVE);
    assert_int_equal(temporal_stage(3600000), WARP_STAGE_RECENT);
    assert_int_equal(temporal_stage(172799999), WARP_STAGE_RECENT);
    assert_int_equal(temporal_stage(172800000), WARP_STAGE_HISTORICAL);
    assert_int_equal(temporal_stage(2591999999ull), WARP_STAGE_HISTORICAL);
    assert_int_equal(temporal_stage(2592000000ull), WARP_STAGE_DEEP_TIME);

    /* the key map: touch accumulates with decay, remove forgets, and
     * 100k keys survive growth and backward-shift deletes */
    key_map m;
    key_map_init(&m, 1u << 20, false);
    key_map_touch(&m, 42, 4.0, 0, 1000);
    key_map_touch(&m, 42, 1.0, 100, 1000); /* 100 ticks = 1000 ms later */
    const key_stat *ks = key_map_find(&m, 42);
    assert_non_null(ks);
    assert_true(fabs(ks->w - 3.0) < 1e-6);
    /* a touch decays exactly as temporal_decay() does, for gaps inside
     * the precomputed table and past it, and after the half-life changes */
    const uint32_t gaps[] = {1, 7, TEMPORAL_DECAY_TICKS - 1,
                             TEMPORAL_DECAY_TICKS, 5 * TEMPORAL_DECAY_TICKS};
    uint32_t tick = 0;
    key_map_touch(&m, 43, 5.0, tick, 1000);
    for (size_t i = 0; i < 10; i++) {
        uint64_t half_life = i < 5 ? 1000 : 30000;
        uint32_t gap = gaps[i % 5];
        double before = key_map_find(&m, 43)->w;
        key_map_touch(&m, 43, 1.0, tick += gap, half_life);
        float want =
            (float)(temporal_decay(before, (uint64_t)gap * TEMPORAL_TICK_MS,
                                   half_life) +
                    1.0);
        assert_true(key_map_find(&m, 43)->w == want);
    }
    key_map_remove(&m, 43);
    for (uint64_t h = 1; h <= 100000; h++)
        key_map_touch(&m, h * 0x9E3779B97F4A7C15ull, 1.0, 0, 1000);
    for (uint64_t h = 1; h <= 100000; h += 2)
        key_map_remove(&m, h * 0x9E3779B97F4A7C15ull);
    for (uint64_t h = 1; h <= 100000; h++)
        assert_true((key_map_find(&m, h * 0x9E3779B97F4A7C15ull) != NULL) ==
                    (h % 2 == 0));
    uint64_t stages[WARP_STAGES] = {0};
    key_map_stages(&m, 360000 + 1, stages);       /* 3600.01 s after tick 0 */
    assert_int_equal(stages[WARP_STAGE_LIVE], 1); /* key 42, at tick 100 */
    assert_int_equal(stages[WARP_STAGE_RECENT], m.count - 1);
    key_map_free(&m);
}

static void weight_decays_in_the_engine(void **state)
{
    warp_options o;
    warp_db *db;
    warp_explain_info e;

    (void)state;
    warp_options_init(&o);
    o.physics = WARP_PHYSICS_FULL;
    o.temporal_half_life = 200;
    o.physics_update_interval = 20;
    db = open_store(&o);
    put_keys(db, "k", 1);
    get_keys(db, "k", 1, 9);
    wait_facts(db, 10);
    assert_ok(warp_explain(db, "k:0", 3, &e));
    assert_true(e.exists && e.observed);
    assert_int_equal(e.stage, WARP_STAGE_LIVE);
    assert_true(e.weight > 8.0 && e.weight <= 10.0);
    sleep_ms(450); /* over two half-lives */
    assert_ok(warp_explain(db, "k:0", 3, &e));
    assert_true(e.weight < 10.0 / 4 && e.weight > 0.5);
    assert_ok(warp_explain(db, "never", 5, &e));
    assert_false(e.observed);
    assert_int_equal(e.stage, WARP_STAGE_DEEP_TIME);
    warp_close(db);
}

/* ------------------------------------------------------------------------ */
/* Wormholes                                                                 */
/* ------------------------------------------------------------------------ */

static void batch_gets_grow_wormholes(void **state)
{
    warp_db *db = open_physics(WARP_PHYSICS_FULL, 4);
    warp_get_item it[2];
    char va[8], vb[8];
    uint32_t path[8];
    size_t len;
    double cost;

    (void)state;
    put_str(db, "alpha", "1");
    put_str(db, "omega", "2");
    uint32_t sa = slot_of(db, "alpha"), sb = slot_of(db, "omega");
    assert_int_not_equal(sa, sb);
    assert_rc(warp_wormhole_route(db, sa, sb, path, 8, &len, &cost),
              WARP_NOTFOUND);
    for (int i = 0; i < 30; i++) {
        it[0] = (warp_get_item){
            .key = "alpha", .klen = 5, .buf = va, .cap = sizeof(va)};
        it[1] = (warp_get_item){
            .key = "omega", .klen = 5, .buf = vb, .cap = sizeof(vb)};
        assert_ok(warp_get_batch(db, it, 2));
        assert_ok(it[0].rc);
        assert_ok(it[1].rc);
    }
    wait_facts(db, 2 + 30 * 3);
    assert_ok(warp_wormhole_route(db, sa, sb, path, 8, &len, &cost));
    assert_int_equal(len, 2);
    assert_int_equal(path[0], sa);
    assert_int_equal(path[1], sb);
    /* 30 uses: 1.0 * 1.1^29 > 10, so capped at 10 (decay may have run) */
    assert_true(cost >= 0.1 - 1e-9 && cost < 0.2);
    warp_explain_info e;
    assert_ok(warp_explain(db, "alpha", 5, &e));
    assert_true(e.nedges >= 1);
    assert_int_equal(e.edges[0].slot, sb);
    warp_wormhole_metrics wm;
    assert_ok(warp_wormhole_metrics_get(db, &wm));
    assert_true(wm.edges >= 1 && wm.max_strength <= 10.0);
    warp_close(db);
}

/* ------------------------------------------------------------------------ */
/* Entropy and rebalancing                                                   */
/* ------------------------------------------------------------------------ */

#define SKEW_KEYS 4000

static void skewed_load_rebalances_online(void **state)
{
    warp_db *db = open_physics(WARP_PHYSICS_FULL, 4);
    char key[64], buf[16];
    size_t vlen;
    warp_entropy_metrics before, after;
    warp_rebalance_report rep;
    atomic_bool stop = false;
    pthread_t t[4];
    load_arg a[4];

    (void)state;
    put_keys(db, "k", SKEW_KEYS);
    warp_stats st0 = stats_of(db);
    /* read only keys of shard 0, many times: a skewed load */
    for (int r = 0; r < 100; r++)
        for (int i = 0; i < SKEW_KEYS; i++) {
            warp_placement w;
            size_t kl = format_key(key, sizeof(key), "k", (uint64_t)i);
            assert_ok(warp_locate(db, key, kl, &w));
            if (w.shard == 0)
                assert_ok(warp_get(db, key, kl, buf, sizeof(buf), &vlen, NULL));
        }
    sleep_ms(100); /* let the rates fold */
    assert_ok(warp_entropy_metrics_get(db, &before));
    assert_true(before.ops_norm < 0.2); /* nearly all load on one shard */
    assert_true(before.items_norm > 0.95);

    for (int i = 0; i < 4; i++) {
        a[i] = (load_arg){.db = db, .stop = &stop, .id = i};
        assert_int_equal(pthread_create(&t[i], NULL, mixed_load, &a[i]), 0);
    }
    assert_ok(warp_rebalance(db, true, &rep));
    atomic_store(&stop, true);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].errors, 0);
    }
    print_message("moved %u slots, %llu keys; ops_norm %.3f -> %.3f; busiest "
                  "share %.3f -> %.3f (best %.3f)\n",
                  rep.slots_moved, (unsigned long long)rep.keys_moved,
                  rep.ops_norm_before, rep.ops_norm_after, rep.max_share_before,
                  rep.max_share_after, rep.best_share);
    assert_true(rep.slots_moved > 0);
    assert_true(rep.keys_moved > 0);
    /* the plan sees the skew plus the threads' fresh, even load */
    assert_true(rep.ops_norm_after > 0.95);
    assert_true(rep.ops_norm_after > rep.ops_norm_before);
    assert_true(rep.max_share_after < rep.max_share_before);
    assert_true(rep.max_share_after <= 1.25 * rep.best_share);

    /* every key is still there, counts conserved (plus the threads' own
     * 4 x 200 keys) */
    get_keys(db, "k", SKEW_KEYS, 1);
    warp_stats st1 = stats_of(db);
    assert_int_equal(st1.keys, st0.keys + 4 * 200);
    uint64_t shard_keys = 0;
    for (uint32_t i = 0; i < 4; i++) {
        warp_shard_stats ss;
        assert_ok(warp_shard_stats_get(db, i, &ss));
        shard_keys += ss.keys;
    }
    assert_int_equal(shard_keys, st1.keys);
    assert_ok(warp_entropy_metrics_get(db, &after));
    assert_true(after.rebalances >= 1);
    assert_true(after.slots_moved >= rep.slots_moved);
    warp_close(db);
}

/* Each entropy report is appended to DIR/entropy/<UTC date>.jsonl. */
static void entropy_reports_go_to_jsonl(void **state)
{
    test_dir *d = make_test_dir();
    warp_options o;
    warp_db *db;
    char path[512], day[16], line[1024];
    time_t t = time(NULL);
    struct tm tm;
    int lines = 0;

    (void)state;
    warp_options_init(&o);
    o.physics = WARP_PHYSICS_FULL;
    o.physics_update_interval = 20;
    o.entropy_monitoring_interval = 40;
    o.entropy_threshold = 0;
    assert_ok(warp_open(d->db, &o, &db));
    put_keys(db, "k", 500);
    get_keys(db, "k", 500, 4);
    sleep_ms(300);
    warp_entropy_metrics m;
    assert_ok(warp_entropy_metrics_get(db, &m));
    assert_true(m.reports >= 2);
    assert_true(m.items_norm > 0.9); /* 500 keys spread over 16 shards */
    warp_close(db);

    strftime(day, sizeof(day), "%Y-%m-%d", gmtime_r(&t, &tm));
    snprintf(path, sizeof(path), "%s/entropy/%s.jsonl", d->db, day);
    FILE *f = fopen(path, "r");
    if (!f) { /* the day may have turned during the test */
        t = time(NULL);
        strftime(day, sizeof(day), "%Y-%m-%d", gmtime_r(&t, &tm));
        snprintf(path, sizeof(path), "%s/entropy/%s.jsonl", d->db, day);
        f = fopen(path, "r");
    }
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        assert_non_null(strstr(line, "\"ops_norm\":"));
        assert_non_null(strstr(line, "\"items_norm\":"));
        assert_int_equal(line[0], '{');
        lines++;
    }
    fclose(f);
    assert_true(lines >= 2);
    remove_test_dir(d);
}

static void metrics_json_reports_measured_numbers(void **state)
{
    warp_db *db = open_physics(WARP_PHYSICS_FULL, 4);
    char *json;
    warp_cosmic_metrics m;

    (void)state;
    put_keys(db, "k", 100);
    get_keys(db, "k", 100, 2);
    m = wait_facts(db, 300);
    assert_ok(warp_metrics_json(db, &json));
    assert_non_null(strstr(json, "\"cosmic_metrics\""));
    assert_non_null(strstr(json, "\"entropy_metrics\""));
    assert_non_null(strstr(json, "\"wormholes\""));
    assert_non_null(strstr(json, "\"physics_mode\":\"full\""));
    char want[64];
    snprintf(want, sizeof(want), "\"get\":%llu", (unsigned long long)m.gets);
    assert_non_null(strstr(json, want));
    assert_int_equal(m.gets, 200);
    warp_free(json);
    warp_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(off_does_no_physics_work),
        cmocka_unit_test(full_observes_every_access),
        cmocka_unit_test(a_thread_keeps_its_ring_in_each_store),
        cmocka_unit_test(exited_threads_pass_their_rings_on),
        cmocka_unit_test(a_late_exit_destructor_gets_a_ring_of_its_own),
        cmocka_unit_test(adaptive_samples_and_scales),
        cmocka_unit_test(modes_switch_safely_under_load),
        cmocka_unit_test(hash_tags_and_rules_colocate),
        cmocka_unit_test(routing_is_fixed_at_creation),
        cmocka_unit_test(decay_arithmetic),
        cmocka_unit_test(weight_decays_in_the_engine),
        cmocka_unit_test(batch_gets_grow_wormholes),
        cmocka_unit_test(skewed_load_rebalances_online),
        cmocka_unit_test(entropy_reports_go_to_jsonl),
        cmocka_unit_test(metrics_json_reports_measured_numbers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
