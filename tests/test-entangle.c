/*
 * test-entangle.c - quantum entanglement: explicit, rule and learned edges,
 * warp_quantum_get() returning the partners' real values, unentangle,
 * learned edges that appear with co-access and decay without it, the
 * graph across a restart and through `warp dump` / `warp load`, bad input,
 * damaged edge lists, and quantum gets while other threads edit the graph.
 *
 * Black-box: the stored edge list is built by hand only from its format in
 * docs/FORMATS.md. The dump/load test runs the `warp` binary named by the
 * WARP_CLI environment variable (tests/CMakeLists.txt sets it) and is
 * skipped without it.
 */
#include "testutil.h"
#include "durability.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

#define SYS_Q     "\xff\xfeq" /* the edge list of a key: SYS_Q <key> */
#define SYS_Q_LEN 3

static void sleep_ms(unsigned ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static warp_key K(const char *s)
{
    return (warp_key){s, strlen(s)};
}

/* Quantum get of a NUL-terminated key with upstream's defaults. */
static warp_quantum_result *qget(warp_db *db, const char *key)
{
    warp_quantum_result *r = NULL;

    assert_ok(warp_quantum_get(db, key, strlen(key), WARP_QUANTUM_MAX_DEFAULT,
                               WARP_QUANTUM_MIN_DEFAULT, &r));
    assert_non_null(r);
    return r;
}

/* The partner called `key` in `r`, or NULL. */
static const warp_quantum_partner *partner(const warp_quantum_result *r,
                                           const char *key)
{
    for (size_t i = 0; i < r->npartners; i++)
        if (r->partners[i].klen == strlen(key) &&
            memcmp(r->partners[i].key, key, r->partners[i].klen) == 0)
            return &r->partners[i];
    return NULL;
}

/* Assert that `r` has partner `key` with value `val` (NULL: not found),
 * strength `s` and sources `src`. */
#define assert_partner(r, key, val, s, src)                                    \
    assert_partner_at((r), (key), (val), (s), (src), __FILE__, __LINE__)

static void assert_partner_at(const warp_quantum_result *r, const char *key,
                              const char *val, double s, unsigned src,
                              const char *file, int line)
{
    const warp_quantum_partner *p = partner(r, key);

    if (!p)
        print_error("partner %s missing\n", key);
    else if (val && (p->rc != WARP_OK || p->vlen != strlen(val) ||
                     memcmp(p->val, val, p->vlen) != 0 ||
                     ((const char *)p->val)[p->vlen] != '\0'))
        print_error("partner %s: rc %d value '%.*s', expected '%s'\n", key,
                    p->rc, (int)p->vlen, p->val ? (const char *)p->val : "",
                    val);
    else if (!val && (p->rc != WARP_NOTFOUND || p->val || p->vlen))
        print_error("partner %s: rc %d, expected WARP_NOTFOUND\n", key, p->rc);
    else if (fabs(p->strength - s) > 1e-6)
        print_error("partner %s: strength %g, expected %g\n", key, p->strength,
                    s);
    else if (p->sources != src)
        print_error("partner %s: sources %u, expected %u\n", key, p->sources,
                    src);
    else
        return;
    _fail(file, line);
}

/* Options for a store without the default rules' routing surprises. */
static warp_options plain_options(void)
{
    warp_options o;

    warp_options_init(&o);
    o.shards = 4;
    return o;
}

/* ------------------------------------------------------------------------ */
/* Explicit edges                                                            */
/* ------------------------------------------------------------------------ */

static void explicit_edges_return_the_partners_values(void **state)
{
    warp_db *db = *state;
    warp_key keys[] = {K("b"), K("c"), K("d")};
    uint64_t id = 0;

    put_str(db, "a", "alpha");
    put_str(db, "b", "bravo");
    put_str(db, "c", "charlie");
    /* d does not exist: an edge needs no value */
    assert_ok(warp_entangle(db, "a", 1, keys, 3, 0.9, &id));
    assert_true(id != 0);

    warp_quantum_result *r = qget(db, "a");
    assert_int_equal(r->vlen, 5);
    assert_memory_equal(r->value, "alpha", 6); /* NUL-terminated */
    assert_int_equal(r->npartners, 3);
    assert_int_equal(r->found, 2);
    assert_true(fabs(r->efficiency - 2.0 / 3.0) < 1e-9);
    assert_partner(r, "b", "bravo", 0.9, WARP_EDGE_EXPLICIT);
    assert_partner(r, "c", "charlie", 0.9, WARP_EDGE_EXPLICIT);
    assert_partner(r, "d", NULL, 0.9, WARP_EDGE_EXPLICIT);
    warp_quantum_free(r);

    /* edges are symmetric: b sees a, and only a */
    r = qget(db, "b");
    assert_int_equal(r->npartners, 1);
    assert_partner(r, "a", "alpha", 0.9, WARP_EDGE_EXPLICIT);
    assert_true(r->efficiency == 1.0);
    warp_quantum_free(r);

    /* a value written later is what the next quantum get returns */
    put_str(db, "d", "delta");
    put_str(db, "b", "bravo2");
    r = qget(db, "a");
    assert_int_equal(r->found, 3);
    assert_true(r->efficiency == 1.0);
    assert_partner(r, "b", "bravo2", 0.9, WARP_EDGE_EXPLICIT);
    assert_partner(r, "d", "delta", 0.9, WARP_EDGE_EXPLICIT);
    warp_quantum_free(r);
}

static void entanglement_id_depends_on_the_set_not_the_order(void **state)
{
    warp_db *db = *state;
    warp_key k1[] = {K("x"), K("y"), K("z")};
    warp_key k2[] = {K("z"), K("x"), K("y"), K("x")};
    warp_key k3[] = {K("x"), K("y")};
    uint64_t id1, id2, id3, id4;

    assert_ok(warp_entangle(db, "p", 1, k1, 3, 1.0, &id1));
    assert_ok(warp_entangle(db, "p", 1, k2, 4, 2.0, &id2));
    assert_ok(warp_entangle(db, "p", 1, k3, 2, 1.0, &id3));
    assert_ok(warp_entangle(db, "q", 1, k1, 3, 1.0, &id4));
    assert_true(id1 == id2); /* same primary and partners, any order */
    assert_true(id1 != id3);
    assert_true(id1 != id4);
    assert_ok(warp_entangle(db, "p", 1, k1, 3, 1.0, NULL)); /* id optional */
}

static void stronger_partners_come_first_and_filters_apply(void **state)
{
    warp_db *db = *state;
    warp_key b = K("b"), c = K("c"), d = K("d"), e = K("e");

    put_str(db, "a", "A");
    put_str(db, "b", "B");
    put_str(db, "c", "C");
    put_str(db, "e", "E");
    assert_ok(warp_entangle(db, "a", 1, &c, 1, 0.5, NULL));
    assert_ok(warp_entangle(db, "a", 1, &b, 1, 2.0, NULL));
    assert_ok(warp_entangle(db, "a", 1, &d, 1, 0.05, NULL));
    assert_ok(warp_entangle(db, "a", 1, &e, 1, 10.0, NULL));

    warp_quantum_result *r = qget(db, "a"); /* min 0.1 drops d */
    assert_int_equal(r->npartners, 3);
    assert_memory_equal(r->partners[0].key, "e", 1);
    assert_memory_equal(r->partners[1].key, "b", 1);
    assert_memory_equal(r->partners[2].key, "c", 1);
    assert_null(partner(r, "d"));
    warp_quantum_free(r);

    assert_ok(warp_quantum_get(db, "a", 1, 2, 0.0, &r));
    assert_int_equal(r->npartners, 2); /* the two strongest */
    assert_memory_equal(r->partners[1].key, "b", 1);
    warp_quantum_free(r);

    assert_ok(warp_quantum_get(db, "a", 1, 10, 0.0, &r));
    assert_int_equal(r->npartners, 4); /* min 0 keeps d */
    assert_partner(r, "d", NULL, 0.05, WARP_EDGE_EXPLICIT);
    warp_quantum_free(r);

    assert_ok(warp_quantum_get(db, "a", 1, 0, 0.1, &r));
    assert_int_equal(r->npartners, 0); /* just the value */
    assert_true(r->efficiency == 1.0);
    assert_memory_equal(r->value, "A", 2);
    warp_quantum_free(r);

    /* entangling again sets the new strength */
    assert_ok(warp_entangle(db, "a", 1, &c, 1, 3.0, NULL));
    r = qget(db, "a");
    assert_memory_equal(r->partners[1].key, "c", 1);
    assert_partner(r, "c", "C", 3.0, WARP_EDGE_EXPLICIT);
    warp_quantum_free(r);
}

static void many_partners_are_fetched_in_groups(void **state)
{
    warp_db *db = *state;
    enum { N = 300 };
    warp_key *keys = calloc(N, sizeof(*keys));
    char(*names)[32] = calloc(N, 32);
    warp_quantum_result *r;

    assert_non_null(keys);
    assert_non_null(names);
    put_str(db, "hub", "centre");
    for (int i = 0; i < N; i++) {
        size_t n = format_key(names[i], 32, "spoke", (uint64_t)i);
        keys[i] = (warp_key){names[i], n};
        if (i % 3) /* two in three exist */
            assert_ok(warp_put(db, names[i], n, names[i], n, NULL, NULL));
    }
    assert_ok(warp_entangle(db, "hub", 3, keys, N, 1.5, NULL));
    assert_ok(warp_quantum_get(db, "hub", 3, WARP_QUANTUM_MAX, 0.1, &r));
    assert_int_equal(r->npartners, N);
    assert_int_equal(r->found, N - (N + 2) / 3);
    for (int i = 0; i < N; i++) {
        const warp_quantum_partner *p = partner(r, names[i]);
        assert_non_null(p);
        assert_int_equal(p->rc, i % 3 ? WARP_OK : WARP_NOTFOUND);
        if (i % 3)
            assert_memory_equal(p->val, names[i], strlen(names[i]));
    }
    warp_quantum_free(r);
    free(names);
    free(keys);
}

/* ------------------------------------------------------------------------ */
/* Rules                                                                     */
/* ------------------------------------------------------------------------ */

static void rules_relate_a_key_to_its_targets_and_back(void **state)
{
    warp_db *db = *state; /* the default rules: upstream's six */

    put_str(db, "user:42", "ada");
    put_str(db, "profile:42", "{\"name\":\"Ada\"}");
    put_str(db, "settings:42", "dark");
    put_str(db, "profile:7", "someone else");

    warp_quantum_result *r = qget(db, "user:42");
    assert_int_equal(r->npartners, 3);
    assert_int_equal(r->found, 2);
    assert_true(fabs(r->efficiency - 2.0 / 3.0) < 1e-9);
    /* equal strengths keep the rule's order */
    assert_memory_equal(r->partners[0].key, "profile:42", 10);
    assert_memory_equal(r->partners[1].key, "settings:42", 11);
    assert_memory_equal(r->partners[2].key, "sessions:42", 11);
    assert_partner(r, "profile:42", "{\"name\":\"Ada\"}", WARP_RULE_STRENGTH,
                   WARP_EDGE_RULE);
    assert_partner(r, "settings:42", "dark", WARP_RULE_STRENGTH,
                   WARP_EDGE_RULE);
    assert_partner(r, "sessions:42", NULL, WARP_RULE_STRENGTH, WARP_EDGE_RULE);
    warp_quantum_free(r);

    /* and back: a target sees its source (not its siblings) */
    r = qget(db, "profile:42");
    assert_int_equal(r->npartners, 1);
    assert_partner(r, "user:42", "ada", WARP_RULE_STRENGTH, WARP_EDGE_RULE);
    warp_quantum_free(r);

    /* a min_strength above the rules' strength leaves them out */
    assert_ok(warp_quantum_get(db, "user:42", 7, 10, 0.9, &r));
    assert_int_equal(r->npartners, 0);
    warp_quantum_free(r);

    /* rule edges take no storage */
    assert_int_equal(stats_of(db).keys, 4);
}

static void configured_rules_are_honoured(void **state)
{
    warp_options o = plain_options();
    warp_quantum_result *r;

    assert_ok(
        warp_options_set(&o, "entanglement_rules",
                         "team:*->member:*,board:*; doc:*.md->doc:*.html"));
    warp_db *db = own_store(state, &o);
    put_str(db, "team:red", "T");
    put_str(db, "member:red", "M");
    put_str(db, "user:1", "U");
    put_str(db, "profile:1", "P");
    put_str(db, "doc:a.md", "markdown");
    put_str(db, "doc:a.html", "html");

    r = qget(db, "team:red");
    assert_int_equal(r->npartners, 2);
    assert_partner(r, "member:red", "M", 0.8, WARP_EDGE_RULE);
    assert_partner(r, "board:red", NULL, 0.8, WARP_EDGE_RULE);
    warp_quantum_free(r);
    /* the default rules are replaced, not added to */
    r = qget(db, "user:1");
    assert_int_equal(r->npartners, 0);
    warp_quantum_free(r);
    /* the id is what follows the first ':', suffixes kept */
    r = qget(db, "doc:a.md");
    assert_int_equal(r->npartners, 1);
    assert_partner(r, "doc:a.md.html", NULL, 0.8, WARP_EDGE_RULE);
    warp_quantum_free(r);
}

static void an_explicit_and_a_rule_edge_merge_into_one_partner(void **state)
{
    warp_db *db = *state;
    warp_key p = K("profile:9"), x = K("extra");

    put_str(db, "user:9", "u");
    put_str(db, "profile:9", "p");
    put_str(db, "extra", "x");
    assert_ok(warp_entangle(db, "user:9", 6, &p, 1, 2.5, NULL));
    assert_ok(warp_entangle(db, "user:9", 6, &x, 1, 0.3, NULL));

    warp_quantum_result *r = qget(db, "user:9");
    assert_int_equal(r->npartners, 4); /* 3 rule targets + extra */
    assert_memory_equal(r->partners[0].key, "profile:9", 9);
    assert_partner(r, "profile:9", "p", 2.5,
                   WARP_EDGE_EXPLICIT | WARP_EDGE_RULE);
    assert_partner(r, "extra", "x", 0.3, WARP_EDGE_EXPLICIT);
    assert_memory_equal(r->partners[3].key, "extra", 5);
    warp_quantum_free(r);

    /* weaker explicit than rule: the rule's strength shows */
    assert_ok(warp_entangle(db, "user:9", 6, &p, 1, 0.2, NULL));
    r = qget(db, "user:9");
    assert_partner(r, "profile:9", "p", 0.8,
                   WARP_EDGE_EXPLICIT | WARP_EDGE_RULE);
    warp_quantum_free(r);
}

/* ------------------------------------------------------------------------ */
/* Lookups that find nothing, and unentangle                                 */
/* ------------------------------------------------------------------------ */

static void quantum_get_of_a_missing_key_is_notfound(void **state)
{
    warp_db *db = *state;
    warp_key b = K("b");
    warp_quantum_result *r = (warp_quantum_result *)1;

    put_str(db, "b", "B");
    assert_ok(warp_entangle(db, "a", 1, &b, 1, 1.0, NULL));
    assert_rc(warp_quantum_get(db, "a", 1, 10, 0.1, &r), WARP_NOTFOUND);
    assert_null(r);
    /* a key with no edges at all: its value and efficiency 1 */
    r = qget(db, "b");
    assert_int_equal(r->npartners, 1); /* b -> a, a missing */
    assert_true(r->efficiency == 0.0);
    warp_quantum_free(r);
    put_str(db, "lonely", "L");
    r = qget(db, "lonely");
    assert_int_equal(r->npartners, 0);
    assert_int_equal(r->found, 0);
    assert_true(r->efficiency == 1.0);
    warp_quantum_free(r);
    warp_quantum_free(NULL);
}

static void unentangle_removes_edges_both_ways(void **state)
{
    warp_db *db = *state;
    warp_key keys[] = {K("b"), K("c"), K("d")};
    warp_key b = K("b"), zz = K("zz");
    uint64_t base;

    put_str(db, "a", "A");
    put_str(db, "b", "B");
    put_str(db, "c", "C");
    base = stats_of(db).keys;
    assert_int_equal(stats_of(db).internal_keys, 0);
    assert_ok(warp_entangle(db, "a", 1, keys, 3, 1.0, NULL));
    assert_int_equal(stats_of(db).keys, base + 4);   /* four edge lists */
    assert_int_equal(stats_of(db).internal_keys, 4); /* ... the engine's */

    assert_ok(warp_unentangle(db, "a", 1, &b, 1));
    warp_quantum_result *r = qget(db, "a");
    assert_int_equal(r->npartners, 2);
    assert_null(partner(r, "b"));
    warp_quantum_free(r);
    r = qget(db, "b");
    assert_int_equal(r->npartners, 0);
    warp_quantum_free(r);
    assert_int_equal(stats_of(db).keys, base + 3); /* b's list is gone */
    assert_int_equal(stats_of(db).internal_keys, 3);

    /* removing what is not there changes nothing */
    assert_rc(warp_unentangle(db, "a", 1, &b, 1), WARP_NOTFOUND);
    assert_rc(warp_unentangle(db, "a", 1, &zz, 1), WARP_NOTFOUND);

    /* all of a's edges */
    assert_ok(warp_unentangle(db, "a", 1, NULL, 0));
    r = qget(db, "a");
    assert_int_equal(r->npartners, 0);
    warp_quantum_free(r);
    r = qget(db, "c");
    assert_int_equal(r->npartners, 0);
    warp_quantum_free(r);
    assert_int_equal(stats_of(db).keys, base);
    assert_int_equal(stats_of(db).internal_keys, 0);
    assert_rc(warp_unentangle(db, "a", 1, NULL, 0), WARP_NOTFOUND);

    warp_entanglement_metrics m;
    assert_ok(warp_entanglement_metrics_get(db, &m));
    assert_int_equal(m.entangled, 3);
    assert_int_equal(m.unentangled, 3);
}

static void unentangle_leaves_rule_edges(void **state)
{
    warp_db *db = *state;
    warp_key p = K("profile:5");

    put_str(db, "user:5", "u");
    put_str(db, "profile:5", "p");
    assert_rc(warp_unentangle(db, "user:5", 6, &p, 1), WARP_NOTFOUND);
    warp_quantum_result *r = qget(db, "user:5");
    assert_partner(r, "profile:5", "p", 0.8, WARP_EDGE_RULE);
    warp_quantum_free(r);
}

static void deleting_a_key_keeps_its_edges(void **state)
{
    warp_db *db = *state;
    warp_key b = K("b");

    put_str(db, "a", "A");
    put_str(db, "b", "B");
    assert_ok(warp_entangle(db, "a", 1, &b, 1, 1.0, NULL));
    assert_ok(warp_delete(db, "b", 1));
    warp_quantum_result *r = qget(db, "a");
    assert_partner(r, "b", NULL, 1.0, WARP_EDGE_EXPLICIT);
    warp_quantum_free(r);
    put_str(db, "b", "B again");
    r = qget(db, "a");
    assert_partner(r, "b", "B again", 1.0, WARP_EDGE_EXPLICIT);
    warp_quantum_free(r);
}

/* ------------------------------------------------------------------------ */
/* Learned edges                                                             */
/* ------------------------------------------------------------------------ */

static warp_db *open_learning(void **state, bool learning)
{
    warp_options o = plain_options();

    o.physics = WARP_PHYSICS_FULL;
    o.physics_update_interval = 20;
    o.entropy_threshold = 0; /* no rebalancing */
    o.entanglement_learning = learning;
    return own_store(state, &o);
}

/* Read a then b, `times` times, on this thread. */
static void coaccess(warp_db *db, const char *a, const char *b, int times)
{
    char buf[64];
    size_t vlen;

    for (int i = 0; i < times; i++) {
        assert_ok(warp_get(db, a, strlen(a), buf, sizeof(buf), &vlen, NULL));
        assert_ok(warp_get(db, b, strlen(b), buf, sizeof(buf), &vlen, NULL));
    }
}

/* The strength of the learned edge a -> b now, or 0 if there is none. */
static double learned_strength(warp_db *db, const char *a, const char *b)
{
    warp_quantum_result *r = qget(db, a);
    const warp_quantum_partner *p = partner(r, b);
    double s = p && (p->sources & WARP_EDGE_LEARNED) ? p->strength : 0;

    warp_quantum_free(r);
    return s;
}

static void learned_edges_appear_with_coaccess_and_fade_without(void **state)
{
    warp_db *db = open_learning(state, true);
    uint64_t base;
    double s = 0;
    int i;

    put_str(db, "cart", "3 items");
    put_str(db, "stock", "12");
    put_str(db, "noise", "n");
    base = stats_of(db).keys;
    assert_true(learned_strength(db, "cart", "stock") == 0);

    /* read cart then stock, over and over, until the physics thread has
     * learned it (a round every 20 ms) */
    for (i = 0; i < 200 && s == 0; i++) {
        coaccess(db, "cart", "stock", 5);
        sleep_ms(10);
        s = learned_strength(db, "cart", "stock");
    }
    print_message("learned after %d bursts: strength %.3f\n", i, s);
    assert_true(s >= 0.9 && s <= WARP_STRENGTH_MAX);
    warp_quantum_result *r = qget(db, "stock"); /* both ways */
    const warp_quantum_partner *p = partner(r, "cart");
    assert_non_null(p);
    assert_int_equal(p->sources, WARP_EDGE_LEARNED);
    assert_memory_equal(p->val, "3 items", 8);
    assert_null(partner(r, "noise"));
    warp_quantum_free(r);

    /* more co-access strengthens it */
    for (i = 0; i < 20; i++) {
        coaccess(db, "cart", "stock", 5);
        sleep_ms(25);
    }
    double s2 = learned_strength(db, "cart", "stock");
    print_message("after 20 more rounds: %.3f\n", s2);
    assert_true(s2 > s);

    warp_entanglement_metrics m;
    assert_ok(warp_entanglement_metrics_get(db, &m));
    assert_true(m.learned_created >= 1);
    assert_true(m.learned_reinforced >= 1);
    assert_true(m.learned_tracked >= 1);
    assert_int_equal(stats_of(db).keys, base + 2); /* two edge lists */

    /* without co-access it fades (x0.95 per 20 ms: from 10 to below 0.1
     * in about 1.8 s), and the physics thread removes it */
    for (i = 0; i < 600 && stats_of(db).keys != base; i++)
        sleep_ms(10);
    assert_true(learned_strength(db, "cart", "stock") == 0);
    assert_true(learned_strength(db, "stock", "cart") == 0);
    assert_int_equal(stats_of(db).keys, base);
    assert_ok(warp_entanglement_metrics_get(db, &m));
    assert_true(m.learned_pruned >= 1);
    assert_int_equal(m.learned_tracked, 0);
}

static void learning_is_off_by_default(void **state)
{
    warp_options dflt;
    warp_options_init(&dflt);
    assert_false(dflt.entanglement_learning);
    warp_db *db = open_learning(state, false);
    warp_entanglement_metrics m;

    put_str(db, "cart", "1");
    put_str(db, "stock", "2");
    for (int i = 0; i < 10; i++) {
        coaccess(db, "cart", "stock", 10);
        sleep_ms(25);
    }
    assert_true(learned_strength(db, "cart", "stock") == 0);
    assert_int_equal(stats_of(db).keys, 2);
    assert_ok(warp_entanglement_metrics_get(db, &m));
    assert_int_equal(m.pairs_seen, 0);
}

static void batch_gets_teach_and_quantum_gets_do_not(void **state)
{
    warp_db *db = open_learning(state, true);
    warp_key keys[] = {K("b"), K("c")};
    warp_quantum_result *r;
    char buf[3][16];
    double s = 0;

    put_str(db, "a", "A");
    put_str(db, "b", "B");
    put_str(db, "c", "C");
    put_str(db, "x", "X");
    put_str(db, "y", "Y");
    /* a quantum get reads a, b and c together, because they are
     * entangled: that teaches nothing (no b <-> c edge) */
    assert_ok(warp_entangle(db, "a", 1, keys, 2, 1.0, NULL));
    for (int i = 0; i < 20; i++) {
        for (int j = 0; j < 10; j++) {
            r = qget(db, "a");
            warp_quantum_free(r);
        }
        sleep_ms(25);
    }
    assert_true(learned_strength(db, "b", "c") == 0);
    warp_cosmic_metrics cm;
    assert_ok(warp_cosmic_metrics_get(db, &cm));
    assert_true(cm.batch_gets >= 200); /* each counted as a batch get */

    /* neighbours in a batch get teach */
    for (int i = 0; i < 200 && s == 0; i++) {
        for (int j = 0; j < 5; j++) {
            warp_get_item it[2] = {
                {.key = "x", .klen = 1, .buf = buf[0], .cap = sizeof(buf[0])},
                {.key = "y", .klen = 1, .buf = buf[1], .cap = sizeof(buf[1])}};
            assert_ok(warp_get_batch(db, it, 2));
            assert_ok(it[1].rc);
        }
        sleep_ms(10);
        s = learned_strength(db, "x", "y");
    }
    assert_true(s > 0);
}

static void learned_edges_skip_rule_pairs_and_missing_keys(void **state)
{
    warp_db *db = open_learning(state, true);
    char buf[16];
    size_t vlen;

    put_str(db, "user:1", "u");
    put_str(db, "profile:1", "p");
    put_str(db, "here", "h");
    for (int i = 0; i < 10; i++) {
        coaccess(db, "user:1", "profile:1", 10);
        for (int j = 0; j < 10; j++) { /* "gone" does not exist */
            assert_ok(warp_get(db, "here", 4, buf, sizeof(buf), &vlen, NULL));
            assert_rc(warp_get(db, "gone", 4, buf, sizeof(buf), &vlen, NULL),
                      WARP_NOTFOUND);
        }
        sleep_ms(25);
    }
    warp_entanglement_metrics m;
    assert_ok(warp_entanglement_metrics_get(db, &m));
    assert_true(m.pairs_seen > 0);
    assert_int_equal(m.learned_created, 0);
    assert_int_equal(stats_of(db).keys, 3); /* no edge list written */
    warp_quantum_result *r = qget(db, "user:1");
    assert_partner(r, "profile:1", "p", 0.8, WARP_EDGE_RULE);
    warp_quantum_free(r);
}

/* ------------------------------------------------------------------------ */
/* Persistence                                                               */
/* ------------------------------------------------------------------------ */

/* The graph every persistence test writes and checks. */
static void write_graph(warp_db *db)
{
    warp_key keys[] = {K("order:1"), K("invoice:1")};
    warp_key gone = K("old");

    put_str(db, "user:1", "ada");
    put_str(db, "profile:1", "P1");
    put_str(db, "order:1", "O1");
    put_str(db, "invoice:1", "I1");
    assert_ok(warp_entangle(db, "user:1", 6, keys, 2, 1.5, NULL));
    assert_ok(warp_entangle(db, "user:1", 6, &gone, 1, 1.0, NULL));
    assert_ok(warp_unentangle(db, "user:1", 6, &gone, 1));
}

static void check_graph(warp_db *db)
{
    warp_quantum_result *r = qget(db, "user:1");

    assert_memory_equal(r->value, "ada", 4);
    assert_int_equal(r->npartners, 5); /* 2 explicit + 3 rule */
    assert_memory_equal(r->partners[0].key, "invoice:1", 9); /* 1.5 */
    assert_memory_equal(r->partners[1].key, "order:1", 7);
    assert_partner(r, "order:1", "O1", 1.5, WARP_EDGE_EXPLICIT);
    assert_partner(r, "invoice:1", "I1", 1.5, WARP_EDGE_EXPLICIT);
    assert_partner(r, "profile:1", "P1", 0.8, WARP_EDGE_RULE);
    assert_null(partner(r, "old"));
    warp_quantum_free(r);
    r = qget(db, "order:1");
    assert_partner(r, "user:1", "ada", 1.5, WARP_EDGE_EXPLICIT);
    warp_quantum_free(r);
}

static void graph_survives_a_restart(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(4, WARP_FSYNC_EVERYSEC);
    warp_db *db = open_disk(d->db, &o);

    write_graph(db);
    check_graph(db);
    uint64_t lists = stats_of(db).internal_keys; /* the edge lists */
    assert_true(lists > 0);
    warp_close(db);

    db = open_disk(d->db, &o); /* from the WAL */
    check_graph(db);
    assert_int_equal(stats_of(db).internal_keys, lists);
    assert_ok(warp_checkpoint(db));
    warp_close(db);

    db = open_disk(d->db, &o); /* from the snapshots */
    assert_true(recovery_of(db).snapshot_records > 0);
    check_graph(db);
    assert_int_equal(stats_of(db).internal_keys, lists);
    warp_close(db);
}

typedef struct copy_ctx {
    warp_db *to;
    int rc;
} copy_ctx;

static int copy_pair(void *arg, const void *key, size_t klen, const void *val,
                     size_t vlen, const warp_placement *where)
{
    copy_ctx *c = arg;

    (void)where;
    c->rc = warp_put(c->to, key, klen, val, vlen, NULL, NULL);
    return c->rc;
}

static void graph_travels_with_the_pairs(void **state)
{
    test_dir *d = *state;
    warp_options o = disk_options(4, WARP_FSYNC_EVERYSEC);
    warp_db *db = open_disk(d->db, &o);
    char cmd[2048], path2[320], dump[320];

    write_graph(db);
    /* in process: every pair, edge lists included, copied over */
    warp_db *copy = open_store(NULL);
    copy_ctx c = {copy, WARP_OK};
    assert_ok(warp_foreach(db, copy_pair, &c));
    check_graph(copy);
    warp_close(copy);
    warp_close(db);

    /* through the real `warp dump` and `warp load` */
    const char *cli = getenv("WARP_CLI");
    if (!cli || !*cli) {
        print_message("WARP_CLI not set: dump/load through the CLI skipped\n");
        return;
    }
    snprintf(path2, sizeof(path2), "%s/loaded", d->root);
    snprintf(dump, sizeof(dump), "%s/dump.txt", d->root);
    snprintf(cmd, sizeof(cmd), "'%s' dump '%s' > '%s' && '%s' load '%s' < '%s'",
             cli, d->db, dump, cli, path2, dump);
    assert_int_equal(system(cmd), 0);
    db = open_disk(path2, &o);
    check_graph(db);
    warp_close(db);
}

/* ------------------------------------------------------------------------ */
/* Bad input and damaged lists                                               */
/* ------------------------------------------------------------------------ */

static void bad_input_gets_clear_errors(void **state)
{
    warp_options o = plain_options();
    o.max_key_size = 16;
    warp_db *db = own_store(state, &o);
    warp_key ok = K("b"), self = K("a"),
             sys = {"\xff\xfe"
                    "q"
                    "b",
                    4};
    warp_key nullkey = {NULL, 3}, longkey = K("0123456789abcdef");
    warp_quantum_result *r = (warp_quantum_result *)1;
    uint64_t id = 42;

    put_str(db, "a", "A");
    assert_rc(warp_entangle(NULL, "a", 1, &ok, 1, 1.0, &id), WARP_EINVAL);
    assert_rc(warp_entangle(db, NULL, 1, &ok, 1, 1.0, &id), WARP_EINVAL);
    assert_rc(warp_entangle(db, "a", 1, NULL, 1, 1.0, &id), WARP_EINVAL);
    assert_rc(warp_entangle(db, "a", 1, &ok, 0, 1.0, &id), WARP_EINVAL);
    assert_rc(warp_entangle(db, "a", 1, &ok, WARP_ENTANGLE_MAX + 1, 1.0, &id),
              WARP_EINVAL);
    assert_rc(warp_entangle(db, "a", 1, &self, 1, 1.0, &id), WARP_EINVAL);
    assert_rc(warp_entangle(db, "a", 1, &sys, 1, 1.0, &id), WARP_EINVAL);
    assert_rc(warp_entangle(db, sys.key, sys.klen, &ok, 1, 1.0, &id),
              WARP_EINVAL);
    assert_rc(warp_entangle(db, "a", 1, &nullkey, 1, 1.0, &id), WARP_EINVAL);
    assert_rc(warp_entangle(db, "a", 1, &ok, 1, 0.0, &id), WARP_EINVAL);
    assert_rc(warp_entangle(db, "a", 1, &ok, 1, -1.0, &id), WARP_EINVAL);
    assert_rc(warp_entangle(db, "a", 1, &ok, 1, 10.5, &id), WARP_EINVAL);
    assert_rc(warp_entangle(db, "a", 1, &ok, 1, NAN, &id), WARP_EINVAL);
    assert_rc(warp_entangle(db, "a", 1, &ok, 1, INFINITY, &id), WARP_EINVAL);
    /* a key whose edge list's key would pass max_key_size */
    assert_rc(warp_entangle(db, "a", 1, &longkey, 1, 1.0, &id), WARP_ETOOBIG);
    assert_int_equal(id, 42);               /* untouched on error */
    assert_int_equal(stats_of(db).keys, 1); /* nothing written */

    assert_rc(warp_unentangle(NULL, "a", 1, NULL, 0), WARP_EINVAL);
    assert_rc(warp_unentangle(db, "a", 1, NULL, 1), WARP_EINVAL);
    assert_rc(warp_unentangle(db, "a", 1, &ok, 0), WARP_EINVAL);
    assert_rc(warp_unentangle(db, "a", 1, &self, 1), WARP_EINVAL);

    assert_rc(warp_quantum_get(NULL, "a", 1, 10, 0.1, &r), WARP_EINVAL);
    assert_null(r);
    assert_rc(warp_quantum_get(db, "a", 1, 10, 0.1, NULL), WARP_EINVAL);
    assert_rc(warp_quantum_get(db, NULL, 1, 10, 0.1, &r), WARP_EINVAL);
    assert_rc(warp_quantum_get(db, "a", 1, WARP_QUANTUM_MAX + 1, 0.1, &r),
              WARP_EINVAL);
    assert_rc(warp_quantum_get(db, "a", 1, 10, -0.5, &r), WARP_EINVAL);
    assert_rc(warp_quantum_get(db, "a", 1, 10, NAN, &r), WARP_EINVAL);
    assert_rc(warp_quantum_get(db, longkey.key, 17, 10, 0.1, &r), WARP_ETOOBIG);
    assert_null(r);

    warp_entanglement_metrics m;
    assert_rc(warp_entanglement_metrics_get(NULL, &m), WARP_EINVAL);
    assert_rc(warp_entanglement_metrics_get(db, NULL), WARP_EINVAL);
}

static void too_many_edges_on_one_key_is_refused_whole(void **state)
{
    warp_db *db = *state;
    enum { N = WARP_ENTANGLE_MAX };
    warp_key *keys = calloc(N, sizeof(*keys));
    char(*names)[16] = calloc(N, 16);
    warp_key extra = K("one-more");

    assert_non_null(keys);
    assert_non_null(names);
    for (int round = 0; round < WARP_ENTANGLE_EDGES / N; round++) {
        for (int i = 0; i < N; i++) {
            size_t n = (size_t)snprintf(names[i], 16, "k%d", round * N + i);
            keys[i] = (warp_key){names[i], n};
        }
        assert_ok(warp_entangle(db, "hub", 3, keys, N, 1.0, NULL));
    }
    uint64_t keys_before = stats_of(db).keys;
    assert_rc(warp_entangle(db, "hub", 3, &extra, 1, 1.0, NULL), WARP_ETOOBIG);
    assert_int_equal(stats_of(db).keys, keys_before);
    /* setting an existing edge again still works */
    assert_ok(warp_entangle(db, "hub", 3, keys, 1, 2.0, NULL));
    free(names);
    free(keys);
}

static void
a_damaged_edge_list_is_ignored_by_reads_and_kept_by_edits(void **state)
{
    warp_db *db = *state;
    warp_key b = K("b");
    /* version 9: a format this build does not know */
    const char bad_version[] = "\x09\x00\x00\x00";
    /* one edge whose key runs past the end */
    const char truncated[] = "\x01\x00\x01\x00\x01\x05\x00\x00\x00\x00\x80\x3f"
                             "ab";
    const char *lists[] = {bad_version, truncated};
    size_t lens[] = {4, sizeof(truncated) - 1};

    put_str(db, "user:3", "u");
    put_str(db, "profile:3", "p");
    for (size_t i = 0; i < 2; i++) {
        assert_ok(warp_put(db, SYS_Q "user:3", SYS_Q_LEN + 6, lists[i], lens[i],
                           NULL, NULL));
        warp_quantum_result *r = qget(db, "user:3");
        assert_int_equal(r->npartners, 3); /* the rules still answer */
        assert_partner(r, "profile:3", "p", 0.8, WARP_EDGE_RULE);
        warp_quantum_free(r);
        assert_rc(warp_entangle(db, "user:3", 6, &b, 1, 1.0, NULL),
                  WARP_ECORRUPT);
        assert_rc(warp_unentangle(db, "user:3", 6, NULL, 0), WARP_ECORRUPT);
        assert_get_equals(db, SYS_Q "user:3", SYS_Q_LEN + 6, lists[i],
                          lens[i]); /* left as it was */
        assert_get_notfound(db, SYS_Q "b", SYS_Q_LEN + 1);
    }
}

static void an_edge_list_written_by_hand_is_read(void **state)
{
    warp_db *db = *state;
    /* docs/FORMATS.md: version 1, flags 0, 2 edges: explicit "b" at 2.0,
     * learned "c" at 4.0 with t = now (the test writes it now) */
    unsigned char v[64];
    size_t n = 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    float two = 2.0f, four = 4.0f;
    uint32_t u;

    v[n++] = 1;
    v[n++] = 0;
    v[n++] = 2;
    v[n++] = 0;
    v[n++] = 1; /* explicit */
    v[n++] = 1; /* klen 1, u24 */
    v[n++] = 0;
    v[n++] = 0;
    memcpy(&u, &two, 4);
    for (int i = 0; i < 4; i++)
        v[n++] = (unsigned char)(u >> (8 * i));
    v[n++] = 'b';
    v[n++] = 2; /* learned */
    v[n++] = 1;
    v[n++] = 0;
    v[n++] = 0;
    memcpy(&u, &four, 4);
    for (int i = 0; i < 4; i++)
        v[n++] = (unsigned char)(u >> (8 * i));
    for (int i = 0; i < 8; i++)
        v[n++] = (unsigned char)(now >> (8 * i));
    v[n++] = 'c';
    put_str(db, "a", "A");
    put_str(db, "c", "C");
    assert_ok(warp_put(db, SYS_Q "a", SYS_Q_LEN + 1, v, n, NULL, NULL));
    warp_quantum_result *r = qget(db, "a");
    assert_int_equal(r->npartners, 2);
    assert_memory_equal(r->partners[0].key, "c", 1);
    assert_true(r->partners[0].strength > 3.5 &&
                r->partners[0].strength <= 4.0);
    assert_int_equal(r->partners[0].sources, WARP_EDGE_LEARNED);
    assert_partner(r, "b", NULL, 2.0, WARP_EDGE_EXPLICIT);
    warp_quantum_free(r);
}

/* ------------------------------------------------------------------------ */
/* Threads                                                                   */
/* ------------------------------------------------------------------------ */

#define T_IDS 64

typedef struct worker {
    warp_db *db;
    atomic_bool *stop;
    int id;
    uint64_t ops;
    int errors;
} worker;

/* Readers: every partner returned is found with its own name as value. */
static void *reader(void *arg)
{
    worker *w = arg;
    char key[32];
    uint64_t x = (uint64_t)w->id + 1;

    do {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int n = snprintf(key, sizeof(key), "node:%d", (int)((x >> 33) % T_IDS));
        warp_quantum_result *r = NULL;
        if (warp_quantum_get(w->db, key, (size_t)n, 10, 0.1, &r) != WARP_OK) {
            w->errors++;
            continue;
        }
        for (size_t i = 0; i < r->npartners; i++) {
            const warp_quantum_partner *p = &r->partners[i];
            if (p->rc != WARP_OK || p->vlen != p->klen ||
                memcmp(p->val, p->key, p->klen) != 0)
                w->errors++;
        }
        warp_quantum_free(r);
        w->ops++;
    } while (!atomic_load(w->stop));
    return NULL;
}

/* Writers: entangle and unentangle random pairs of nodes. */
static void *editor(void *arg)
{
    worker *w = arg;
    char a[32], b[32];
    uint64_t x = (uint64_t)w->id * 7919 + 3;

    do {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int i = (int)((x >> 33) % T_IDS), j = (int)((x >> 17) % T_IDS);
        if (i == j)
            continue;
        int na = snprintf(a, sizeof(a), "node:%d", i);
        warp_key k = {b, (size_t)snprintf(b, sizeof(b), "node:%d", j)};
        int rc = (x >> 5) % 3 ? warp_entangle(w->db, a, (size_t)na, &k, 1,
                                              1.0 + (double)(x % 9), NULL)
                              : warp_unentangle(w->db, a, (size_t)na, &k, 1);
        if (rc != WARP_OK && rc != WARP_NOTFOUND)
            w->errors++;
        w->ops++;
    } while (!atomic_load(w->stop));
    return NULL;
}

static void quantum_gets_run_while_threads_edit_the_graph(void **state)
{
    warp_options o = plain_options();
    o.physics = WARP_PHYSICS_FULL;
    o.physics_update_interval = 20;
    o.entanglement_learning = true; /* and the physics thread learns */
    warp_db *db = own_store(state, &o);
    atomic_bool stop = false;
    pthread_t t[4];
    worker w[4];
    char key[32];

    for (int i = 0; i < T_IDS; i++) {
        int n = snprintf(key, sizeof(key), "node:%d", i);
        assert_ok(warp_put(db, key, (size_t)n, key, (size_t)n, NULL, NULL));
    }
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){.db = db, .stop = &stop, .id = i};
        assert_int_equal(
            pthread_create(&t[i], NULL, i < 2 ? reader : editor, &w[i]), 0);
    }
    sleep_ms(400);
    atomic_store(&stop, true);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].errors, 0);
        assert_true(w[i].ops > 0);
    }
    /* every stored edge is stored both ways */
    for (int i = 0; i < T_IDS; i++) {
        int n = snprintf(key, sizeof(key), "node:%d", i);
        warp_quantum_result *r;
        assert_ok(
            warp_quantum_get(db, key, (size_t)n, WARP_QUANTUM_MAX, 0, &r));
        for (size_t p = 0; p < r->npartners; p++) {
            warp_quantum_result *back;
            assert_ok(warp_quantum_get(db, r->partners[p].key,
                                       r->partners[p].klen, WARP_QUANTUM_MAX, 0,
                                       &back));
            const warp_quantum_partner *q = partner(back, key);
            assert_non_null(q);
            assert_true(fabs(q->strength - r->partners[p].strength) < 1e-6);
            warp_quantum_free(back);
        }
        warp_quantum_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(explicit_edges_return_the_partners_values),
        STORE_TEST(entanglement_id_depends_on_the_set_not_the_order),
        STORE_TEST(stronger_partners_come_first_and_filters_apply),
        STORE_TEST(many_partners_are_fetched_in_groups),
        STORE_TEST(rules_relate_a_key_to_its_targets_and_back),
        OWN_STORE_TEST(configured_rules_are_honoured),
        STORE_TEST(an_explicit_and_a_rule_edge_merge_into_one_partner),
        STORE_TEST(quantum_get_of_a_missing_key_is_notfound),
        STORE_TEST(unentangle_removes_edges_both_ways),
        STORE_TEST(unentangle_leaves_rule_edges),
        STORE_TEST(deleting_a_key_keeps_its_edges),
        OWN_STORE_TEST(learned_edges_appear_with_coaccess_and_fade_without),
        OWN_STORE_TEST(learning_is_off_by_default),
        OWN_STORE_TEST(batch_gets_teach_and_quantum_gets_do_not),
        OWN_STORE_TEST(learned_edges_skip_rule_pairs_and_missing_keys),
        DIR_TEST(graph_survives_a_restart),
        DIR_TEST(graph_travels_with_the_pairs),
        OWN_STORE_TEST(bad_input_gets_clear_errors),
        STORE_TEST(too_many_edges_on_one_key_is_refused_whole),
        STORE_TEST(a_damaged_edge_list_is_ignored_by_reads_and_kept_by_edits),
        STORE_TEST(an_edge_list_written_by_hand_is_read),
        OWN_STORE_TEST(quantum_gets_run_while_threads_edit_the_graph),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
