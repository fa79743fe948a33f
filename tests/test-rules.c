/*
 * test-rules.c - rules.h: parsing entanglement rules, and the partners
 * rules_partners() derives from a key, against a naive reading of the
 * rules on random rule sets and keys.
 *
 * rules_partners() has two paths: a key that matches one typed pattern
 * and nothing else takes the precomputed expansion (rules.exp); every
 * other key walks the matching patterns' uses. The model below knows of
 * neither: rule by rule, a key that matches the source gets the targets,
 * a key that matches a target gets the source; the key itself and
 * repeats are left out. Both paths must give exactly its answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules.h"

#define MODEL_MAX 64
#define KEY_MAX   64

typedef struct model_pattern {
    char pre[RULES_PAT_MAX], suf[RULES_PAT_MAX];
} model_pattern;

typedef struct model_key {
    char key[3 * RULES_PAT_MAX + KEY_MAX];
    size_t len;
    bool same_id;
} model_key;

/* Split "pre*suf" (exactly one '*'). */
static void model_split(const char *pat, model_pattern *p)
{
    const char *star = strchr(pat, '*');

    memcpy(p->pre, pat, (size_t)(star - pat));
    p->pre[star - pat] = '\0';
    strcpy(p->suf, star + 1);
}

/* A pattern is typed when its prefix holds one ':', at its end. */
static bool model_typed(const model_pattern *p)
{
    size_t n = strlen(p->pre);
    const char *colon = strchr(p->pre, ':');

    return n > 0 && colon == p->pre + n - 1;
}

static bool model_match(const model_pattern *p, const char *k, size_t klen)
{
    size_t pre = strlen(p->pre), suf = strlen(p->suf);
    const char *colon = memchr(k, ':', klen);

    if (klen < pre + suf || memcmp(k, p->pre, pre) != 0 ||
        memcmp(k + klen - suf, p->suf, suf) != 0)
        return false;
    /* a typed prefix must be the key's bytes up to its first ':' */
    return !model_typed(p) || (colon && (size_t)(colon - k) + 1 == pre);
}

/* Append p spelled with `id` unless it is the key or a repeat; if it is
 * beyond `max` keys or `cap` bytes, set *more instead. */
static void model_add(const model_pattern *p, const char *id, size_t id_len,
                      const char *k, size_t klen, model_key *out, size_t *n,
                      size_t max, size_t cap, size_t *used, bool *more)
{
    model_key m;
    size_t pre = strlen(p->pre), suf = strlen(p->suf);

    m.len = pre + id_len + suf;
    memcpy(m.key, p->pre, pre);
    memcpy(m.key + pre, id, id_len);
    memcpy(m.key + pre + id_len, p->suf, suf);
    if (m.len == klen && memcmp(m.key, k, klen) == 0)
        return;
    for (size_t i = 0; i < *n; i++)
        if (out[i].len == m.len && memcmp(out[i].key, m.key, m.len) == 0)
            return;
    if (*n == max || cap - *used < m.len) {
        *more = true;
        return;
    }
    m.same_id = model_typed(p) && suf == 0 && !strchr(p->pre, '{');
    out[(*n)++] = m;
    *used += m.len;
}

/* The rules as text: rule i is "src[i]->dst[i][0],dst[i][1],...". */
typedef struct model {
    char src[RULES_MAX][RULES_PAT_MAX];
    char dst[RULES_MAX][RULES_TARGETS][RULES_PAT_MAX];
    size_t ndst[RULES_MAX], n;
} model;

static size_t model_partners(const model *md, const char *k, size_t klen,
                             model_key *out, size_t max, size_t cap, bool *more)
{
    const char *colon = memchr(k, ':', klen);
    size_t n = 0, used = 0;

    *more = false;
    if (!colon || klen < 2)
        return 0;
    const char *id = colon + 1;
    size_t id_len = klen - (size_t)(id - k);
    for (size_t r = 0; r < md->n; r++) {
        model_pattern src, dst;
        bool is_dst = false;
        model_split(md->src[r], &src);
        for (size_t d = 0; d < md->ndst[r] && !is_dst; d++) {
            model_split(md->dst[r][d], &dst);
            is_dst = model_match(&dst, k, klen);
        }
        if (model_match(&src, k, klen)) {
            for (size_t d = 0; d < md->ndst[r]; d++) {
                model_split(md->dst[r][d], &dst);
                model_add(&dst, id, id_len, k, klen, out, &n, max, cap, &used,
                          more);
            }
        } else if (is_dst) {
            model_add(&src, id, id_len, k, klen, out, &n, max, cap, &used,
                      more);
        }
    }
    return n;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const char *pick(uint64_t *s, const char *const *v, size_t n)
{
    return v[rng_next(s) % n];
}

/* Random patterns from a small alphabet, so that keys often match
 * several: mostly typed ("a:*"), some with a suffix, some odd ("a*",
 * "a:b:*"), some with a '{'. */
static void random_pattern(uint64_t *s, char *out)
{
    static const char *const pre[] = {"a:", "b:",   "ab:", "user:", "a:", "b:",
                                      "a",  "a:b:", "{a:", "ses:",  "b:"};
    static const char *const suf[] = {"", "", "", "", ":x", "x", "{t}"};

    snprintf(out, RULES_PAT_MAX, "%s*%s", pick(s, pre, 11), pick(s, suf, 7));
}

static void random_key(uint64_t *s, char *out, size_t *len)
{
    static const char *const pre[] = {
        "a:", "b:", "ab:", "user:", "a:b:", "{a:", "a", "ses:", "zz:", ""};
    static const char *const id[] = {"1", "42", "", "b:7", "x", "7:x", "9x"};
    static const char *const suf[] = {"", "", ":x", "x", "{t}"};

    *len = (size_t)snprintf(out, KEY_MAX, "%s%s%s", pick(s, pre, 10),
                            pick(s, id, 7), pick(s, suf, 5));
}

static const char *spec_now = ""; /* the rules under test, for messages */

static void assert_same(const model *md, const rules *r, const char *k,
                        size_t klen, size_t max, size_t cap)
{
    model_key want[MODEL_MAX];
    rule_key got[MODEL_MAX];
    char buf[4096];
    bool want_more, got_more;
    size_t nw = model_partners(md, k, klen, want, max, cap, &want_more);
    size_t ng = rules_partners(r, k, klen, buf, cap, got, max, &got_more);

    if (nw != ng || want_more != got_more)
        fail_msg("rules '%s', key '%.*s' (max %zu, cap %zu): %zu partners "
                 "(more %d), want %zu (more %d)",
                 spec_now, (int)klen, k, max, cap, ng, got_more, nw, want_more);
    for (size_t i = 0; i < nw; i++)
        if (got[i].len != want[i].len ||
            memcmp(got[i].key, want[i].key, want[i].len) != 0 ||
            got[i].same_id != want[i].same_id)
            fail_msg("rules '%s', key '%.*s': partner %zu is '%.*s' "
                     "(same_id %d), want '%.*s' (%d)",
                     spec_now, (int)klen, k, i, (int)got[i].len, got[i].key,
                     got[i].same_id, (int)want[i].len, want[i].key,
                     want[i].same_id);
}

static void defaults_relate_user_to_three(void **state)
{
    rules *r = malloc(sizeof(*r));
    rule_key out[8];
    char buf[256];

    (void)state;
    assert_non_null(r);
    assert_int_equal(rules_parse(RULES_DEFAULT, r), 0);
    assert_int_equal(
        rules_partners(r, "user:42", 7, buf, sizeof(buf), out, 8, NULL), 3);
    assert_memory_equal(out[0].key, "profile:42", 10);
    assert_memory_equal(out[1].key, "settings:42", 11);
    assert_memory_equal(out[2].key, "sessions:42", 11);
    assert_true(out[0].same_id && out[2].same_id);
    /* author: is a target of two rules: both sources, in rule order */
    assert_int_equal(
        rules_partners(r, "author:9", 8, buf, sizeof(buf), out, 8, NULL), 2);
    assert_memory_equal(out[0].key, "post:9", 6);
    assert_memory_equal(out[1].key, "article:9", 9);
    assert_int_equal(
        rules_partners(r, "nobody:1", 8, buf, sizeof(buf), out, 8, NULL), 0);
    free(r);
}

static void agrees_with_the_model_on_random_rules(void **state)
{
    rules *r = malloc(sizeof(*r));
    uint64_t s = 0x9E3779B97F4A7C15ull;
    size_t typed_only = 0, with_odd = 0; /* keys tried on each kind */

    (void)state;
    assert_non_null(r);
    for (int round = 0; round < 400; round++) {
        model md = {.n = 1 + rng_next(&s) % 6};
        char spec[4096];
        size_t at = 0;
        for (size_t i = 0; i < md.n; i++) {
            random_pattern(&s, md.src[i]);
            md.ndst[i] = 1 + rng_next(&s) % 4;
            at += (size_t)snprintf(spec + at, sizeof(spec) - at, "%s%s->",
                                   i ? ";" : "", md.src[i]);
            for (size_t d = 0; d < md.ndst[i]; d++) {
                random_pattern(&s, md.dst[i][d]);
                at += (size_t)snprintf(spec + at, sizeof(spec) - at, "%s%s",
                                       d ? "," : "", md.dst[i][d]);
            }
        }
        assert_int_equal(rules_parse(spec, r), 0);
        spec_now = spec;
        for (int j = 0; j < 200; j++) {
            char k[KEY_MAX];
            size_t klen, max = j % 5 == 0 ? rng_next(&s) % 4 : MODEL_MAX;
            size_t cap = j % 7 == 0 ? rng_next(&s) % 40 : 4096;
            random_key(&s, k, &klen);
            assert_same(&md, r, k, klen, max, cap);
            if (r->nodd)
                with_odd++;
            else
                typed_only++;
        }
    }
    /* rule sets of typed patterns only (the precomputed path, for keys
     * that match one pattern) and with odd ones (the general path) */
    assert_true(typed_only > 1000 && with_odd > 1000);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_relate_user_to_three),
        cmocka_unit_test(agrees_with_the_model_on_random_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
