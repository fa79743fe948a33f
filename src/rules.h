/*
 * rules.h - entanglement rules: `user:*` -> `profile:*`, `settings:*`, ...
 *
 * A rule names a source pattern and target patterns. A pattern is a glob
 * with one `*`: a key matches when it starts with the part before the `*`
 * and ends with the part after it. A key's id is what follows its first
 * `:` (upstream's split), and a rule's targets are its patterns with the
 * `*` replaced by the id: user:alice -> profile:alice, settings:alice, ...
 *
 * Routing uses the ids (route.h): with colocation `rules`, every key that
 * matches any pattern of any rule is routed by its id, so user:42,
 * profile:42 and settings:42 land in one slot. The entanglement graph
 * (entangle.c) uses the targets, through rules_partners().
 *
 * Text form (the `entanglement_rules` option): rules separated by `;`,
 * each `source->target,target,...`; spaces around tokens are ignored.
 */
#ifndef WARP_RULES_H
#define WARP_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RULES_MAX     32 /* rules */
#define RULES_TARGETS 8  /* targets per rule */
#define RULES_PAT_MAX 48 /* bytes of a pattern, with its NUL */
#define RULES_BUCKETS 64 /* prefix hash buckets, a power of two */

#define RULES_DEFAULT                                                          \
    "user:*->profile:*,settings:*,sessions:*;"                                 \
    "order:*->customer:*,products:*,payment:*;"                                \
    "post:*->author:*,comments:*,tags:*;"                                      \
    "product:*->reviews:*,inventory:*,pricing:*;"                              \
    "project:*->team:*,tasks:*,milestones:*;"                                  \
    "article:*->author:*,categories:*,related:*"

typedef struct rule_pattern {
    char pre[RULES_PAT_MAX], suf[RULES_PAT_MAX];
    uint8_t pre_len, suf_len;
    bool typed; /* pre is "type:", one ':' at its end: a key can match only
                 * if its bytes up to its first ':' are pre */
} rule_pattern;

typedef struct rule {
    rule_pattern src;
    rule_pattern dst[RULES_TARGETS];
    uint32_t ndst;
} rule;

typedef struct rules {
    rule r[RULES_MAX];
    uint32_t n;
    /* every distinct pattern, source or target, for routing lookups */
    rule_pattern pat[RULES_MAX * (RULES_TARGETS + 1)];
    uint32_t npat;
    /* bucket by (prefix length, its first and last byte): the head of a
     * chain through pat_next; UINT16_MAX ends it */
    uint16_t bucket[RULES_BUCKETS];
    uint16_t pat_next[RULES_MAX * (RULES_TARGETS + 1)];
    /* patterns whose prefix is not "type:" (one ':', at its end): tried
     * one by one; none among the defaults */
    uint16_t odd[RULES_MAX * (RULES_TARGETS + 1)];
    uint32_t nodd;
    /* where each pattern is used, for rules_partners(): a chain from
     * pat_use[i] through use_next (UINT16_MAX ends it) of uses, each
     * rule use_rule[u] and its target use_dst[u] (RULES_TARGETS: its
     * source) */
    uint16_t pat_use[RULES_MAX * (RULES_TARGETS + 1)];
    uint16_t use_next[RULES_MAX * (RULES_TARGETS + 1)];
    uint8_t use_rule[RULES_MAX * (RULES_TARGETS + 1)];
    uint8_t use_dst[RULES_MAX * (RULES_TARGETS + 1)];
    uint32_t nuse;
    /* the partners of a key that matches pattern i and no other, as
     * pattern indices in rules_partners()' order, without repeats and
     * without the one that spells the key (i itself, if it has no
     * suffix): exp[exp_first[i] .. exp_first[i] + exp_n[i]). Exact only
     * when every pattern is typed (nodd == 0): then distinct patterns
     * spell distinct keys of one id */
    uint16_t exp_first[RULES_MAX * (RULES_TARGETS + 1)];
    uint8_t exp_n[RULES_MAX * (RULES_TARGETS + 1)];
    uint16_t exp[RULES_MAX * RULES_TARGETS * 2];
    bool pat_same_id[RULES_MAX * (RULES_TARGETS + 1)]; /* rule_key.same_id */
    uint16_t src_pat[RULES_MAX];                /* rule r's source pattern */
    uint16_t dst_pat[RULES_MAX][RULES_TARGETS]; /* and its targets' */
} rules;

/* Parse `spec` into *out. Returns 0, or -1 for a malformed spec (*out is
 * then unspecified). */
int rules_parse(const char *spec, rules *out);

/* 0 if `spec` parses. */
int rules_check(const char *spec);

/* The id of `key` if some pattern matches it: sets *id and *id_len to the
 * bytes after the key's first `:` and returns true. */
bool rules_id(const rules *r, const void *key, size_t klen, const void **id,
              size_t *id_len);

/* One key a rule relates to another: `len` bytes at `key`. `same_id`:
 * its pattern is "type:*" with no '{' (one ':', at the end of its prefix;
 * no suffix), so its id under the rules is exactly the other key's id;
 * then, when both are routed by their rule ids (no hash tag), they share
 * a slot. */
typedef struct rule_key {
    const char *key;
    size_t len;
    bool same_id;
} rule_key;

/* The keys that the rules relate to `key`, both ways, as the entanglement
 * graph's rule edges (entangle.c): for each rule whose source pattern
 * `key` matches, its targets; for each rule one of whose targets `key`
 * matches, its source. The `*` of each is replaced by the key's id, the
 * bytes after its first ':' (upstream's split; a key without ':' has
 * none): user:42 -> profile:42, settings:42, sessions:42; profile:42 ->
 * user:42. The key itself and repeats are left out.
 *
 * The keys are written one after another into buf (capacity `cap`) and
 * described in out[0 ..]; returns how many there are. Those that do not fit
 * in `cap` bytes or `max` entries are left out, and *more (if not NULL) is
 * set to true. Reads only `r`: thread-safe. */
size_t rules_partners(const rules *r, const void *key, size_t klen, char *buf,
                      size_t cap, rule_key *out, size_t max, bool *more);

#endif
