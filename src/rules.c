/*
 * rules.c - parsing entanglement rules, and matching keys against them.
 */
#include "rules.h"

#include <stdlib.h>
#include <string.h>

#include "bytes.h"

static const char *skip_space(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\n'))
        s++;
    return s;
}

static const char *trim_end(const char *s, const char *end)
{
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
        end--;
    return end;
}

/* Parse the pattern [s, end): exactly one `*`, and a non-empty prefix. */
static int parse_pattern(const char *s, const char *end, rule_pattern *p)
{
    s = skip_space(s, end);
    end = trim_end(s, end);
    const char *star = memchr(s, '*', (size_t)(end - s));
    size_t pre, suf;

    if (!star || star == s || memchr(star + 1, '*', (size_t)(end - star - 1)))
        return -1;
    pre = (size_t)(star - s);
    suf = (size_t)(end - star - 1);
    if (pre >= RULES_PAT_MAX || suf >= RULES_PAT_MAX)
        return -1;
    memset(p, 0, sizeof(*p));
    memcpy(p->pre, s, pre);
    memcpy(p->suf, star + 1, suf);
    p->pre_len = (uint8_t)pre;
    p->suf_len = (uint8_t)suf;
    p->typed = memchr(p->pre, ':', pre) == p->pre + pre - 1;
    return 0;
}

static unsigned bucket_of(const void *pre, size_t len)
{
    const unsigned char *p = pre;

    return (unsigned)(len * 31u + p[0] * 7u + p[len - 1]) & (RULES_BUCKETS - 1);
}

static bool same_pattern(const rule_pattern *a, const rule_pattern *b)
{
    return a->pre_len == b->pre_len && a->suf_len == b->suf_len &&
           memcmp(a->pre, b->pre, a->pre_len) == 0 &&
           memcmp(a->suf, b->suf, a->suf_len) == 0;
}

/* Index pattern `p` (once, however many rules use it); returns its
 * index in r->pat. */
static uint16_t index_pattern(rules *r, const rule_pattern *p)
{
    for (uint32_t i = 0; i < r->npat; i++)
        if (same_pattern(&r->pat[i], p))
            return (uint16_t)i;
    const char *colon = memchr(p->pre, ':', p->pre_len);
    r->pat[r->npat] = *p;
    r->pat_use[r->npat] = UINT16_MAX;
    if (colon == p->pre + p->pre_len - 1) {
        unsigned b = bucket_of(p->pre, p->pre_len);
        r->pat_next[r->npat] = r->bucket[b];
        r->bucket[b] = (uint16_t)r->npat;
    } else {
        r->odd[r->nodd++] = (uint16_t)r->npat;
    }
    return (uint16_t)r->npat++;
}

/* Note that pattern `pat` is rule `ri`'s target `dst` (RULES_TARGETS: its
 * source). */
static void index_use(rules *r, uint16_t pat, uint32_t ri, uint32_t dst)
{
    uint32_t u = r->nuse++;

    r->use_rule[u] = (uint8_t)ri;
    r->use_dst[u] = (uint8_t)dst;
    r->use_next[u] = r->pat_use[pat];
    r->pat_use[pat] = (uint16_t)u;
}

static int parse_rule(const char *s, const char *end, rule *out)
{
    const char *arrow = NULL;

    for (const char *q = s; q + 1 < end; q++)
        if (q[0] == '-' && q[1] == '>') {
            arrow = q;
            break;
        }
    if (!arrow || parse_pattern(s, arrow, &out->src))
        return -1;
    out->ndst = 0;
    for (const char *t = arrow + 2; t <= end;) {
        const char *comma = memchr(t, ',', (size_t)(end - t));
        const char *stop = comma ? comma : end;
        if (out->ndst == RULES_TARGETS ||
            parse_pattern(t, stop, &out->dst[out->ndst++]))
            return -1;
        t = stop + 1;
    }
    return 0;
}

/* Append pattern `p` to the expansion being built, unless it spells the
 * key or is already there. A key that matches typed pattern `self` alone
 * is spelled by `self` if its suffix is empty (the id is the key's bytes
 * after its first ':', suffix included), and by no other pattern: one
 * that did would match the key too. */
static void expansion_add(rules *r, uint16_t self, uint16_t p)
{
    uint16_t *e = &r->exp[r->exp_first[self]];

    if (p == self && r->pat[self].suf_len == 0)
        return;
    for (uint32_t i = 0; i < r->exp_n[self]; i++)
        if (e[i] == p)
            return;
    e[r->exp_n[self]++] = p;
}

/* exp_*: each pattern's partner patterns, in the order rules_partners()
 * gives them (rule by rule: a source's targets, or a target's source). */
static void index_expansions(rules *r)
{
    uint32_t used = 0;

    for (uint16_t p = 0; p < r->npat; p++) {
        const rule_pattern *pp = &r->pat[p];
        r->pat_same_id[p] =
            pp->typed && pp->suf_len == 0 && !memchr(pp->pre, '{', pp->pre_len);
        r->exp_first[p] = (uint16_t)used;
        r->exp_n[p] = 0;
        for (uint32_t ri = 0; ri < r->n; ri++) {
            bool dst = false;
            for (uint32_t d = 0; d < r->r[ri].ndst; d++)
                dst = dst || r->dst_pat[ri][d] == p;
            if (r->src_pat[ri] == p)
                for (uint32_t d = 0; d < r->r[ri].ndst; d++)
                    expansion_add(r, p, r->dst_pat[ri][d]);
            else if (dst)
                expansion_add(r, p, r->src_pat[ri]);
        }
        used += r->exp_n[p];
    }
}

int rules_parse(const char *spec, rules *out)
{
    const char *s = spec, *end = spec + strlen(spec);

    memset(out, 0, sizeof(*out));
    memset(out->bucket, 0xff, sizeof(out->bucket));
    while (s < end) {
        const char *semi = memchr(s, ';', (size_t)(end - s));
        const char *stop = semi ? semi : end;
        if (skip_space(s, stop) < stop) { /* skip empty rules */
            if (out->n == RULES_MAX || parse_rule(s, stop, &out->r[out->n]))
                return -1;
            uint32_t ri = out->n++;
            rule *r = &out->r[ri];
            out->src_pat[ri] = index_pattern(out, &r->src);
            index_use(out, out->src_pat[ri], ri, RULES_TARGETS);
            for (uint32_t i = 0; i < r->ndst; i++) {
                out->dst_pat[ri][i] = index_pattern(out, &r->dst[i]);
                index_use(out, out->dst_pat[ri][i], ri, i);
            }
        }
        s = stop + 1;
    }
    index_expansions(out);
    return 0;
}

int rules_check(const char *spec)
{
    rules *r = malloc(sizeof(*r));
    int rc = r ? rules_parse(spec, r) : -1;

    free(r);
    return rc;
}

bool rules_id(const rules *r, const void *key, size_t klen, const void **id,
              size_t *id_len)
{
    const unsigned char *k = key;
    const unsigned char *colon;

    if (!r->npat || klen < 2 || !(colon = memchr(k, ':', klen)))
        return false;
    /* A "type:" prefix can only be the key's bytes up to its first ':' */
    size_t plen = (size_t)(colon - k) + 1;
    for (uint16_t i = r->bucket[bucket_of(k, plen)]; i != UINT16_MAX;
         i = r->pat_next[i]) {
        const rule_pattern *p = &r->pat[i];
        if (p->pre_len == plen && bytes_eq(p->pre, k, plen) &&
            klen >= (size_t)p->pre_len + p->suf_len &&
            bytes_eq(k + klen - p->suf_len, p->suf, p->suf_len)) {
            *id = colon + 1;
            *id_len = klen - plen;
            return true;
        }
    }
    for (uint32_t i = 0; i < r->nodd; i++) {
        const rule_pattern *p = &r->pat[r->odd[i]];
        if (klen >= (size_t)p->pre_len + p->suf_len &&
            memcmp(p->pre, k, p->pre_len) == 0 &&
            memcmp(k + klen - p->suf_len, p->suf, p->suf_len) == 0) {
            *id = colon + 1;
            *id_len = klen - plen;
            return true;
        }
    }
    return false;
}

/* Whether `key` matches pattern `p`: its prefix, then its suffix, not
 * overlapping. `plen` is the length of the key up to its first ':'
 * included: a typed pattern's prefix must be exactly that (the cheap test
 * that rules most patterns out). */
static bool pattern_match(const rule_pattern *p, const unsigned char *k,
                          size_t klen, size_t plen)
{
    if (p->typed && p->pre_len != plen)
        return false;
    return klen >= (size_t)p->pre_len + p->suf_len &&
           k[0] == (unsigned char)p->pre[0] &&
           bytes_eq(k, p->pre, p->pre_len) &&
           bytes_eq(k + klen - p->suf_len, p->suf, p->suf_len);
}

/* Write pattern `p` with its `*` replaced by `id` at dst, which has
 * room for it (`room` bytes); returns its length. */
static size_t spell(const rule_pattern *p, const unsigned char *id,
                    size_t id_len, char *dst, size_t room)
{
    if (room >= 2 * (size_t)RULES_PAT_MAX + id_len) {
        /* whole pattern buffers: fixed-size copies, no calls; the bytes
         * past the partner are overwritten by the next one */
        memcpy(dst, p->pre, RULES_PAT_MAX);
        memcpy(dst + p->pre_len, id, id_len);
        memcpy(dst + p->pre_len + id_len, p->suf, RULES_PAT_MAX);
    } else {
        memcpy(dst, p->pre, p->pre_len);
        memcpy(dst + p->pre_len, id, id_len);
        memcpy(dst + p->pre_len + id_len, p->suf, p->suf_len);
    }
    return (size_t)p->pre_len + id_len + p->suf_len;
}

/* Whether pattern `p` with its `*` replaced by `id` spells `s`. */
static bool spells(const rule_pattern *p, const unsigned char *id,
                   size_t id_len, const char *s, size_t len)
{
    return len == (size_t)p->pre_len + id_len + p->suf_len &&
           bytes_eq(s, p->pre, p->pre_len) &&
           bytes_eq(s + p->pre_len, id, id_len) &&
           bytes_eq(s + p->pre_len + id_len, p->suf, p->suf_len);
}

/* Append pattern `pi` with its `*` replaced by `id` to out[*n], its bytes
 * at buf + *used; false if it does not fit `max` keys or `cap` bytes. */
static inline bool append_partner(const rules *r, uint16_t pi,
                                  const unsigned char *id, size_t id_len,
                                  char *buf, size_t cap, size_t *used,
                                  rule_key *out, size_t *n, size_t max)
{
    const rule_pattern *p = &r->pat[pi];
    size_t len = (size_t)p->pre_len + id_len + p->suf_len;

    if (*n == max || cap - *used < len)
        return false;
    out[(*n)++] = (rule_key){buf + *used, len, r->pat_same_id[pi]};
    *used += spell(p, id, id_len, buf + *used, cap - *used);
    return true;
}

/* Whether pattern `pi` with its `*` replaced by `id` spells the key or one
 * of out[0 .. n). */
static bool spells_any(const rules *r, uint16_t pi, const unsigned char *id,
                       size_t id_len, const void *key, size_t klen,
                       const rule_key *out, size_t n)
{
    const rule_pattern *p = &r->pat[pi];

    if (spells(p, id, id_len, key, klen))
        return true;
    for (size_t i = 0; i < n; i++)
        if (spells(p, id, id_len, out[i].key, out[i].len))
            return true;
    return false;
}

/* The one typed pattern `key` matches, or -1 if none or several do. */
static int only_match(const rules *r, const unsigned char *k, size_t klen,
                      size_t plen)
{
    int only = -1;

    for (uint16_t i = r->bucket[bucket_of(k, plen)]; i != UINT16_MAX;
         i = r->pat_next[i])
        if (pattern_match(&r->pat[i], k, klen, plen)) {
            if (only >= 0)
                return -1;
            only = i;
        }
    return only;
}

/* The uses of the patterns `key` matches, as rule << 8 | target (0xff:
 * the source), into u[]; returns how many. The typed patterns are found
 * through the prefix buckets, like rules_id(), so a call touches only the
 * patterns that can match. */
static size_t matching_uses(const rules *r, const unsigned char *k, size_t klen,
                            size_t plen, uint16_t *u)
{
    size_t n = 0;

    for (uint16_t i = r->bucket[bucket_of(k, plen)]; i != UINT16_MAX;
         i = r->pat_next[i])
        if (pattern_match(&r->pat[i], k, klen, plen))
            for (uint16_t x = r->pat_use[i]; x != UINT16_MAX;
                 x = r->use_next[x])
                u[n++] = (uint16_t)(r->use_rule[x] << 8 |
                                    (r->use_dst[x] == RULES_TARGETS
                                         ? 0xff
                                         : r->use_dst[x]));
    for (uint32_t j = 0; j < r->nodd; j++)
        if (pattern_match(&r->pat[r->odd[j]], k, klen, plen))
            for (uint16_t x = r->pat_use[r->odd[j]]; x != UINT16_MAX;
                 x = r->use_next[x])
                u[n++] = (uint16_t)(r->use_rule[x] << 8 |
                                    (r->use_dst[x] == RULES_TARGETS
                                         ? 0xff
                                         : r->use_dst[x]));
    for (size_t i = 1; i < n; i++) /* rule order; a source before targets */
        for (size_t j = i; j > 0 && (u[j - 1] >> 8) > (u[j] >> 8); j--) {
            uint16_t t = u[j];
            u[j] = u[j - 1];
            u[j - 1] = t;
        }
    return n;
}

size_t rules_partners(const rules *r, const void *key, size_t klen, char *buf,
                      size_t cap, rule_key *out, size_t max, bool *more)
{
    const unsigned char *k = key;
    const unsigned char *colon = klen ? memchr(k, ':', klen) : NULL;
    uint16_t use[RULES_MAX * (RULES_TARGETS + 1)];
    size_t n = 0, used = 0;
    bool dummy;

    more = more ? more : &dummy;
    *more = false;
    if (!colon || klen < 2)
        return 0;
    const unsigned char *id = colon + 1;
    size_t plen = (size_t)(id - k), id_len = klen - plen;
    int only = r->nodd ? -1 : only_match(r, k, klen, plen);
    if (only >= 0) { /* the common case: the precomputed expansion */
        const uint16_t *e = &r->exp[r->exp_first[only]];
        for (uint32_t i = 0; i < r->exp_n[only]; i++)
            if (!append_partner(r, e[i], id, id_len, buf, cap, &used, out, &n,
                                max))
                *more = true;
        return n;
    }
    size_t nuse = matching_uses(r, k, klen, plen, use);
    for (size_t i = 0; i < nuse; i++) {
        uint32_t ri = use[i] >> 8, ndst = r->r[ri].ndst;
        bool src = false;
        size_t j = i;
        for (; j < nuse && (use[j] >> 8) == ri; j++)
            src = src || (use[j] & 0xff) == 0xff;
        /* the key is the rule's source: its targets; else its source */
        for (uint32_t d = 0; d < (src ? ndst : 1); d++) {
            uint16_t pi = src ? r->dst_pat[ri][d] : r->src_pat[ri];
            if (!spells_any(r, pi, id, id_len, key, klen, out, n) &&
                !append_partner(r, pi, id, id_len, buf, cap, &used, out, &n,
                                max))
                *more = true;
        }
        i = j - 1;
    }
    return n;
}
