/*
 * rules.c - parsing entanglement rules, and matching keys against them.
 */
#include "rules.h"

#include <stdlib.h>
#include <string.h>

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

static void index_pattern(rules *r, const rule_pattern *p)
{
    for (uint32_t i = 0; i < r->npat; i++)
        if (same_pattern(&r->pat[i], p))
            return;
    const char *colon = memchr(p->pre, ':', p->pre_len);
    r->pat[r->npat] = *p;
    if (colon == p->pre + p->pre_len - 1) {
        unsigned b = bucket_of(p->pre, p->pre_len);
        r->pat_next[r->npat] = r->bucket[b];
        r->bucket[b] = (uint16_t)r->npat;
    } else {
        r->odd[r->nodd++] = (uint16_t)r->npat;
    }
    r->npat++;
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
            rule *r = &out->r[out->n++];
            index_pattern(out, &r->src);
            for (uint32_t i = 0; i < r->ndst; i++)
                index_pattern(out, &r->dst[i]);
        }
        s = stop + 1;
    }
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
        if (p->pre_len == plen && memcmp(p->pre, k, plen) == 0 &&
            klen >= (size_t)p->pre_len + p->suf_len &&
            memcmp(k + klen - p->suf_len, p->suf, p->suf_len) == 0) {
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
