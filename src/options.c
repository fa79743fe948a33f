/*
 * options.c - store options, and their names and string forms.
 *
 * One table describes every option settable by name: its name, where it
 * lives in warp_options, its kind and range. warp_options_set(),
 * warp_options_get() and warp_option_names() all read it, so the config
 * file, CONFIG SET and the CLI share one vocabulary.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "item.h"
#include "options.h"
#include "rules.h"

typedef enum {
    OPT_U32,
    OPT_U64,
    OPT_BOOL,
    OPT_ENUM,
    OPT_DOUBLE,
    OPT_STR
} opt_kind;

typedef struct opt_desc {
    const char *name;
    size_t offset;
    opt_kind kind;
    uint64_t min, max;        /* OPT_DOUBLE: thousandths; OPT_STR: bytes */
    const char *const *names; /* OPT_ENUM: value i is names[i] */
} opt_desc;

static const char *const fsync_names[] = {"everysec", "always", "never", NULL};
static const char *const recovery_names[] = {"strict", "salvage", NULL};
static const char *const physics_names[] = {"off", "adaptive", "full", NULL};
static const char *const eviction_names[] = {"none", "lru", "lfu", NULL};
static const char *const colocation_names[] = {"none", "tags", "rules",
                                               "tags,rules", NULL};

/* Every option settable by name: X(field, kind, min, max). */
#define WARP_OPTIONS(X)                                                        \
    X(shards, OPT_U32, 1, WARP_SLOTS, NULL)                                    \
    X(max_key_size, OPT_U32, 0, ITEM_KEY_MAX, NULL)                            \
    X(max_value_size, OPT_U64, 0, UINT32_MAX, NULL)                            \
    X(huge_pages, OPT_BOOL, 0, 1, NULL)                                        \
    X(fsync, OPT_ENUM, 0, 2, fsync_names)                                      \
    X(recovery, OPT_ENUM, 0, 1, recovery_names)                                \
    X(checkpoint_interval, OPT_U64, 0, UINT64_MAX, NULL)                       \
    X(checkpoint_wal_bytes, OPT_U64, 0, UINT64_MAX, NULL)                      \
    X(wal_segment_size, OPT_U64, 64u << 10, 1u << 30, NULL)                    \
    X(physics, OPT_ENUM, 0, 2, physics_names)                                  \
    X(physics_cpu_budget, OPT_DOUBLE, 1, 1000, NULL)                           \
    X(physics_update_interval, OPT_U64, 10, 3600000, NULL)                     \
    X(entropy_monitoring_interval, OPT_U64, 10, 86400000, NULL)                \
    X(temporal_half_life, OPT_U64, 1, UINT64_MAX, NULL)                        \
    X(entropy_threshold, OPT_DOUBLE, 0, 1000, NULL)                            \
    X(rebalance_cooldown, OPT_U64, 0, UINT64_MAX, NULL)                        \
    X(colocation, OPT_ENUM, 0, 3, colocation_names)                            \
    X(entanglement_rules, OPT_STR, 0, WARP_RULES_MAX - 1, NULL)                \
    X(entanglement_learning, OPT_BOOL, 0, 1, NULL)                             \
    X(maxmemory, OPT_U64, 0, UINT64_MAX, NULL)                                 \
    X(eviction, OPT_ENUM, 0, 2, eviction_names)                                \
    X(demote_after, OPT_U64, 0, UINT64_MAX, NULL)                              \
    X(deep_after, OPT_U64, 0, UINT64_MAX, NULL)                                \
    X(deep_segment_size, OPT_U64, 1u << 20, 1u << 30, NULL)

#define OPT_DESC(field, kind, lo, hi, names)                                   \
    {#field, offsetof(warp_options, field), kind, lo, hi, names},
#define OPT_NAME(field, kind, lo, hi, names) #field,

static const opt_desc opts_table[] = {WARP_OPTIONS(OPT_DESC)};
static const char *const opt_names[] = {WARP_OPTIONS(OPT_NAME) NULL};

#define NOPTS (sizeof(opts_table) / sizeof(opts_table[0]))

void warp_options_init(warp_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof(*o));
    o->shards = 16;
    o->max_key_size = 64u << 10;
    o->max_value_size = 64u << 20;
    o->huge_pages = true;
    o->fsync = WARP_FSYNC_EVERYSEC;
    o->recovery = WARP_RECOVERY_STRICT;
    o->checkpoint_interval = 300000;
    o->checkpoint_wal_bytes = 1u << 30;
    o->wal_segment_size = 8u << 20;
    o->physics = WARP_PHYSICS_ADAPTIVE;
    o->physics_cpu_budget = 0.05;
    o->physics_update_interval = 1000;
    o->entropy_monitoring_interval = 5000;
    o->temporal_half_life = 3600000;
    o->entropy_threshold = 0.9;
    o->rebalance_cooldown = 10000;
    o->colocation = WARP_COLOCATE_TAGS_RULES;
    snprintf(o->entanglement_rules, sizeof(o->entanglement_rules), "%s",
             RULES_DEFAULT);
    o->maxmemory = 0;
    o->eviction = WARP_EVICT_NONE;
    o->demote_after = 3600000; /* 1 h: live -> recent */
    o->deep_after = 172800000; /* 48 h: recent -> historical */
    o->deep_segment_size = 64u << 20;
}

static const opt_desc *find_opt(const char *name)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strcmp(opts_table[i].name, name) == 0)
            return &opts_table[i];
    return NULL;
}

/* Parse a decimal size with an optional k/m/g suffix (powers of 1024). */
static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    uint64_t v, mul = 1;

    if (*s < '0' || *s > '9') /* no sign, no space, not empty */
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    switch (*end) {
    case 'k':
    case 'K':
        mul = 1ull << 10;
        end++;
        break;
    case 'm':
    case 'M':
        mul = 1ull << 20;
        end++;
        break;
    case 'g':
    case 'G':
        mul = 1ull << 30;
        end++;
        break;
    default:
        break;
    }
    if ((*end == 'b' || *end == 'B') && mul > 1)
        end++;
    if (*end || (v && mul > UINT64_MAX / v))
        return -1;
    *out = v * mul;
    return 0;
}

static int parse_bool(const char *s, uint64_t *out);

/* A non-negative decimal fraction, as thousandths ("0.05" -> 50), so that
 * doubles share the integer range checks. Finer digits must be zero. */
static int parse_thousandths(const char *s, uint64_t *out)
{
    char *end;
    double d;

    if ((*s < '0' || *s > '9') && *s != '.')
        return -1;
    errno = 0;
    d = strtod(s, &end);
    if (errno || *end || d < 0 || d > 1e12)
        return -1;
    *out = (uint64_t)(d * 1000 + 0.5);
    return 0;
}

static int parse_enum(const char *s, const char *const *names, uint64_t *out)
{
    for (uint64_t i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return *out = i, 0;
    return -1;
}

/* Parse `value` as option `d` wants it. */
static int parse_value(const opt_desc *d, const char *value, uint64_t *v)
{
    switch (d->kind) {
    case OPT_BOOL:
        return parse_bool(value, v);
    case OPT_ENUM:
        return parse_enum(value, d->names, v);
    case OPT_DOUBLE:
        return parse_thousandths(value, v);
    case OPT_STR:
        *v = strlen(value);
        return rules_check(value) ? -1 : 0;
    default:
        return parse_u64(value, v);
    }
}

static int parse_bool(const char *s, uint64_t *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(s, no[i]) == 0)
            return *out = 0, 0;
    }
    return -1;
}

int warp_options_set(warp_options *o, const char *name, const char *value)
{
    const opt_desc *d;
    uint64_t v;
    char *field;

    if (!o || !name || !value)
        return WARP_EINVAL;
    if (!(d = find_opt(name)))
        return WARP_ENOOPT;
    if (parse_value(d, value, &v) || v < d->min || v > d->max)
        return WARP_EINVAL;
    field = (char *)o + d->offset;
    switch (d->kind) {
    case OPT_U32:
        *(uint32_t *)field = (uint32_t)v;
        break;
    case OPT_U64:
        *(uint64_t *)field = v;
        break;
    case OPT_BOOL:
        *(bool *)field = v != 0;
        break;
    case OPT_ENUM:
        *(int *)field = (int)v;
        break;
    case OPT_DOUBLE:
        *(double *)field = strtod(value, NULL);
        break;
    case OPT_STR:
        memcpy(field, value, v + 1);
        break;
    }
    return WARP_OK;
}

int warp_options_get(const warp_options *o, const char *name, char *buf,
                     size_t cap)
{
    const opt_desc *d;
    const char *field;
    int n = 0;

    if (!o || !name || !buf)
        return WARP_EINVAL;
    if (!(d = find_opt(name)))
        return WARP_ENOOPT;
    field = (const char *)o + d->offset;
    switch (d->kind) {
    case OPT_U32:
        n = snprintf(buf, cap, "%" PRIu32, *(const uint32_t *)field);
        break;
    case OPT_U64:
        n = snprintf(buf, cap, "%" PRIu64, *(const uint64_t *)field);
        break;
    case OPT_BOOL:
        n = snprintf(buf, cap, "%s", *(const bool *)field ? "yes" : "no");
        break;
    case OPT_ENUM: {
        int v = *(const int *)field;
        n = v >= 0 && (uint64_t)v <= d->max
                ? snprintf(buf, cap, "%s", d->names[v])
                : snprintf(buf, cap, "%d", v);
        break;
    }
    case OPT_DOUBLE:
        n = snprintf(buf, cap, "%g", *(const double *)field);
        break;
    case OPT_STR:
        n = snprintf(buf, cap, "%s", field);
        break;
    }
    return n >= 0 && (size_t)n < cap ? WARP_OK : WARP_ERANGE;
}

const char *const *warp_option_names(void)
{
    return opt_names;
}

int warp_options_check(const warp_options *o)
{
    for (size_t i = 0; i < NOPTS; i++) {
        const char *field = (const char *)o + opts_table[i].offset;
        uint64_t v = 0;
        switch (opts_table[i].kind) {
        case OPT_U32:
            v = *(const uint32_t *)field;
            break;
        case OPT_U64:
            v = *(const uint64_t *)field;
            break;
        case OPT_BOOL:
            v = *(const bool *)field;
            break;
        case OPT_ENUM:
            v = (uint64_t)(int64_t) * (const int *)field;
            break;
        case OPT_DOUBLE: {
            double d = *(const double *)field;
            if (!(d >= 0 && d <= 1e12)) /* NaN too */
                return WARP_EINVAL;
            v = (uint64_t)(d * 1000 + 0.5);
            break;
        }
        case OPT_STR:
            v = strnlen(field, WARP_RULES_MAX);
            if (v == WARP_RULES_MAX || rules_check(field))
                return WARP_EINVAL;
            break;
        }
        if (v < opts_table[i].min || v > opts_table[i].max)
            return WARP_EINVAL;
    }
    return WARP_OK;
}
