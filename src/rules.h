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
 * profile:42 and settings:42 land in one slot. Issue 5's entanglement
 * uses the targets.
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

#endif
