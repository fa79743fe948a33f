/* jsongen.c - JSON records like upstream's large dataset (jsongen.h). */
#include "jsongen.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "keygen.h"

static const char *const families[JSON_FAMILIES] = {
    "user",      "profile", "settings", "posts",       "product", "category",
    "inventory", "order",   "customer", "order_items", "metric",  "trend"};

/* Common English words, most frequent first: text draws low indexes more
 * often (the minimum of two uniform draws), as real text does. */
static const char *const words[] = {
    "the",       "of",        "and",        "to",          "in",
    "is",        "for",       "that",       "with",        "on",
    "as",        "it",        "by",         "this",        "from",
    "at",        "be",        "are",        "an",          "or",
    "was",       "new",       "have",       "more",        "about",
    "your",      "all",       "will",       "can",         "one",
    "time",      "data",      "our",        "which",       "their",
    "when",      "there",     "has",        "been",        "would",
    "first",     "other",     "people",     "after",       "into",
    "some",      "could",     "these",      "product",     "service",
    "system",    "design",    "quality",    "value",       "order",
    "customer",  "team",      "project",    "update",      "release",
    "feature",   "support",   "market",     "report",      "review",
    "price",     "today",     "world",      "great",       "simple",
    "small",     "large",     "fast",       "better",      "working",
    "building",  "learning",  "travel",     "music",       "coffee",
    "morning",   "weekend",   "garden",     "kitchen",     "mountain",
    "river",     "city",      "street",     "office",      "school",
    "history",   "science",   "energy",     "network",     "memory",
    "storage",   "engine",    "question",   "answer",      "problem",
    "solution",  "idea",      "experience", "community",   "platform",
    "analysis",  "strategy",  "growth",     "performance", "security",
    "reliable",  "beautiful", "important",  "interesting", "different",
    "available", "including", "following"};

#define NWORDS (sizeof(words) / sizeof(words[0]))

static const char *const cities[] = {"Berlin",  "Lisbon", "Austin", "Osaka",
                                     "Nairobi", "Lima",   "Oslo",   "Perth"};
static const char *const tags[] = {"tech", "life",  "food", "travel",
                                   "news", "sport", "art",  "science"};

typedef struct out {
    char *buf;
    size_t len, cap;
    uint64_t rng;
} out;

static void put(out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->len >= o->cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n < o->cap - o->len ? (size_t)n : o->cap - o->len - 1;
}

static uint64_t rnd(out *o, uint64_t n)
{
    return wyrand(&o->rng) % n;
}

static const char *word(out *o)
{
    uint64_t a = rnd(o, NWORDS), b = rnd(o, NWORDS);
    return words[a < b ? a : b];
}

/* `n` bytes or so of text, as a JSON string body. */
static void text(out *o, size_t n)
{
    size_t start = o->len;
    bool first = true;

    while (o->len - start < n && o->len + 16 < o->cap) {
        const char *w = word(o);
        if (first)
            put(o, "%c%s", w[0] - 'a' + 'A', w + 1);
        else
            put(o, " %s", w);
        first = false;
    }
    put(o, ".");
}

static void date(out *o)
{
    put(o, "\"2025-%02u-%02uT%02u:%02u:%02u.%06uZ\"",
        (unsigned)(1 + rnd(o, 12)), (unsigned)(1 + rnd(o, 28)),
        (unsigned)rnd(o, 24), (unsigned)rnd(o, 60), (unsigned)rnd(o, 60),
        (unsigned)rnd(o, 1000000));
}

static double frac(out *o)
{
    return (double)rnd(o, 1000000) / 1000000.0;
}

static void user(out *o, uint64_t id)
{
    put(o,
        "{\"id\":%llu,\"username\":\"user_%llu\",\"email\":\"user%llu"
        "@example.com\",\"created_at\":",
        (unsigned long long)id, (unsigned long long)id, (unsigned long long)id);
    date(o);
    put(o, ",\"last_login\":");
    date(o);
    put(o, ",\"active\":%s,\"score\":%.6f,\"balance\":%.2f}",
        rnd(o, 2) ? "true" : "false", frac(o) * 100, frac(o) * 10000);
}

static void profile(out *o, uint64_t id)
{
    put(o, "{\"user_id\":%llu,\"bio\":\"", (unsigned long long)id);
    text(o, 60);
    put(o,
        "\",\"avatar_url\":\"https://cdn.example.com/avatars/%llu.png\","
        "\"location\":\"%s\",\"interests\":[\"%s\",\"%s\"],"
        "\"followers\":%u,\"following\":%u}",
        (unsigned long long)id, cities[rnd(o, 8)], tags[rnd(o, 8)],
        tags[rnd(o, 8)], (unsigned)rnd(o, 100000), (unsigned)rnd(o, 5000));
}

static void settings(out *o, uint64_t id)
{
    (void)id;
    put(o,
        "{\"theme\":\"%s\",\"notifications\":{\"email\":%s,\"push\":%s,"
        "\"sms\":%s},\"privacy\":{\"public_profile\":%s,\"show_email\":%s,"
        "\"searchable\":%s}}",
        rnd(o, 2) ? "dark" : "light", rnd(o, 2) ? "true" : "false",
        rnd(o, 2) ? "true" : "false", rnd(o, 2) ? "true" : "false",
        rnd(o, 2) ? "true" : "false", rnd(o, 2) ? "true" : "false",
        rnd(o, 2) ? "true" : "false");
}

static void post(out *o, uint64_t id, unsigned j)
{
    put(o, "{\"id\":%llu,\"title\":\"", (unsigned long long)(id * 16 + j));
    text(o, 24);
    put(o, "\",\"content\":\"");
    text(o, 120);
    put(o, "\",\"created_at\":");
    date(o);
    put(o, ",\"likes\":%u,\"comments\":%u,\"tags\":[\"%s\",\"%s\"]}",
        (unsigned)rnd(o, 5000), (unsigned)rnd(o, 300), tags[rnd(o, 8)],
        tags[rnd(o, 8)]);
}

static void posts(out *o, uint64_t id)
{
    unsigned n = 1 + (unsigned)rnd(o, 10);

    put(o, "{\"user_id\":%llu,\"posts\":[", (unsigned long long)id);
    for (unsigned j = 0; j < n; j++) {
        if (j)
            put(o, ",");
        post(o, id, j);
    }
    put(o, "]}");
}

static void product(out *o, uint64_t id)
{
    put(o,
        "{\"id\":%llu,\"name\":\"%s %s\",\"sku\":\"SKU-%08llu\","
        "\"description\":\"",
        (unsigned long long)id, word(o), word(o), (unsigned long long)id);
    text(o, 85);
    put(o,
        "\",\"price\":%.2f,\"currency\":\"EUR\",\"stock\":%u,"
        "\"category_id\":%u,\"created_at\":",
        frac(o) * 500, (unsigned)rnd(o, 1000), (unsigned)(id % 100));
    date(o);
    put(o, ",\"updated_at\":");
    date(o);
    put(o, "}");
}

static void category(out *o, uint64_t id)
{
    put(o, "{\"id\":%llu,\"name\":\"%s\",\"slug\":\"%s-%llu\",\"parent\":",
        (unsigned long long)(id % 100), word(o), word(o),
        (unsigned long long)(id % 100));
    if (rnd(o, 2))
        put(o, "null");
    else
        put(o, "%u", (unsigned)rnd(o, 100));
    put(o, ",\"position\":%u,\"visible\":true}", (unsigned)rnd(o, 50));
}

static void inventory(out *o, uint64_t id)
{
    put(o,
        "{\"product_id\":%llu,\"warehouse\":\"%s\",\"quantity\":%u,"
        "\"reserved\":%u,\"reorder_level\":%u,\"updated_at\":",
        (unsigned long long)id, cities[rnd(o, 8)], (unsigned)rnd(o, 10000),
        (unsigned)rnd(o, 100), (unsigned)rnd(o, 500));
    date(o);
    put(o, "}");
}

static void order(out *o, uint64_t id)
{
    put(o,
        "{\"id\":%llu,\"customer_id\":%llu,\"status\":\"%s\","
        "\"total\":%.2f,\"shipping_address\":{\"street\":\"%u %s Street\","
        "\"city\":\"%s\",\"zip\":\"%05u\",\"country\":\"%s\"},"
        "\"created_at\":",
        (unsigned long long)id, (unsigned long long)(id % 10000),
        rnd(o, 2) ? "shipped" : "pending", frac(o) * 900, (unsigned)rnd(o, 999),
        word(o), cities[rnd(o, 8)], (unsigned)rnd(o, 99999),
        rnd(o, 2) ? "DE" : "US");
    date(o);
    put(o, ",\"updated_at\":");
    date(o);
    put(o, "}");
}

static void customer(out *o, uint64_t id)
{
    put(o,
        "{\"id\":%llu,\"name\":\"%s %s\",\"email\":\"customer%llu"
        "@example.com\",\"tier\":\"%s\",\"orders\":%u,\"lifetime_value\":"
        "%.2f,\"since\":",
        (unsigned long long)(id % 10000), word(o), word(o),
        (unsigned long long)(id % 10000), rnd(o, 2) ? "gold" : "silver",
        (unsigned)rnd(o, 200), frac(o) * 20000);
    date(o);
    put(o, "}");
}

static void order_items(out *o, uint64_t id)
{
    unsigned n = 1 + (unsigned)rnd(o, 5);

    put(o, "{\"order_id\":%llu,\"items\":[", (unsigned long long)id);
    for (unsigned j = 0; j < n; j++)
        put(o,
            "%s{\"product_id\":%u,\"quantity\":%u,\"unit_price\":%u,"
            "\"discount\":%u}",
            j ? "," : "", (unsigned)rnd(o, 100000), 1 + (unsigned)rnd(o, 9),
            (unsigned)rnd(o, 50000), (unsigned)rnd(o, 30));
    put(o, "]}");
}

static void metric(out *o, uint64_t id)
{
    put(o,
        "{\"id\":%llu,\"name\":\"%s.%s\",\"value\":%.6f,\"tags\":[\"%s\","
        "\"%s\"],\"metadata\":{\"host\":\"host-%02u\",\"region\":\"%s\","
        "\"source\":\"%s\"},\"timestamp\":",
        (unsigned long long)id, word(o), word(o), frac(o) * 1000,
        tags[rnd(o, 8)], tags[rnd(o, 8)], (unsigned)rnd(o, 64),
        cities[rnd(o, 8)], word(o));
    date(o);
    put(o, "}");
}

static void trend(out *o, uint64_t id)
{
    put(o, "{\"id\":%llu,\"name\":\"%s\",\"values\":[",
        (unsigned long long)(id % 1000), word(o));
    for (unsigned h = 0; h < 24; h++) {
        put(o, "%s{\"hour\":%u,\"value\":%.4f,\"at\":", h ? "," : "", h,
            frac(o) * 100);
        date(o);
        put(o, "}");
    }
    put(o, "],\"direction\":\"%s\",\"confidence\":%.4f}",
        rnd(o, 2) ? "up" : "down", frac(o));
}

static void (*const makers[JSON_FAMILIES])(out *, uint64_t) = {
    user,      profile, settings, posts,       product, category,
    inventory, order,   customer, order_items, metric,  trend};

const char *jsongen_family(uint64_t id)
{
    return families[id % JSON_FAMILIES];
}

size_t jsongen_record(uint64_t id, char *buf)
{
    out o = {.buf = buf, .cap = JSON_MAX, .rng = id * 0x9E3779B97F4A7C15ull};

    makers[id % JSON_FAMILIES](&o, id / JSON_FAMILIES + 1);
    return o.len;
}

size_t jsongen_sized(uint64_t id, size_t size, char *buf)
{
    char tmp[JSON_MAX + 64];
    out o = {.buf = tmp, .cap = sizeof(tmp), .rng = id * 0x9E3779B97F4A7C15ull};
    size_t keep;

    if (size > JSON_MAX)
        size = JSON_MAX;
    put(&o, "{\"user_id\":%llu,\"posts\":[", (unsigned long long)id);
    for (unsigned j = 0;; j++) {
        size_t before = o.len;
        if (j)
            put(&o, ",");
        post(&o, id, j);
        if (o.len + 32 > size || o.len + 400 >= o.cap) {
            o.len = before;
            break;
        }
    }
    put(&o, "],\"note\":\"");
    while (o.len < size)
        put(&o, "%s ", word(&o));
    keep = size >= 2 ? size - 2 : 0;
    memcpy(buf, tmp, keep);
    if (size >= 2)
        memcpy(buf + keep, "\"}", 2);
    else if (size)
        buf[0] = '}';
    return size;
}
