/*
 * keygen.h - which key a benchmark operation touches, and its bytes.
 *
 * KEY INDEXES AND NAMES
 *   The bench's N keys are indexes 0 .. N-1. An index becomes a key name in
 *   one of two layouts, each a type prefix and a 10-digit, zero-padded id:
 *     flat     index k is "key:<k>"                     ("key:0000000042")
 *     related  index k is type k % 4 of id k / 4: "user:<id>",
 *              "profile:<id>", "settings:<id>", "sessions:<id>"
 *   In the related layout the four keys of an id are the source and the
 *   targets of the default entanglement rule user:* -> profile:*,
 *   settings:*, sessions:*, so with the default colocation (tags,rules) they
 *   share one slot. The layout keeps the count: N keys are N indexes in both
 *   (the last id has fewer than four types when N is not a multiple of 4).
 *
 * DISTRIBUTIONS
 *   uniform  every index equally likely: wyrand, then Lemire's
 *            multiply-shift onto [0, N)
 *   zipf     rank r (0 .. N-1) has probability (r+1)^-s / H(N,s), drawn by
 *            rejection-inversion (Hoermann and Derflinger, "Rejection-
 *            inversion to generate variates from monotone discrete
 *            distributions", 1996; the variant of Apache Commons RNG's
 *            RejectionInversionZipfSampler): O(1) memory, no table, about
 *            one exp and one log1p per draw, the rejection step almost never
 *            taken. A rank is then mapped to an index by a fixed
 *            permutation, r -> (r * A + B) mod N with A coprime to N, so the
 *            hot ranks are spread over the index space (and over ids, hence
 *            slots, in the related layout) instead of being keys 0, 1, 2...
 *
 * THREADS
 *   A keydist is read-only once made: share it. Each thread keeps its own
 *   PRNG state (a uint64_t).
 */
#ifndef WARP_CLI_KEYGEN_H
#define WARP_CLI_KEYGEN_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define KEY_DIGITS   10
#define KEY_BUF      32 /* a key buffer: the longest name is 19 bytes */
#define RELATED_KEYS 4  /* keys per id in the related layout */

enum key_layout { LAYOUT_FLAT, LAYOUT_RELATED };
enum key_dist { DIST_UNIFORM, DIST_ZIPF };

/* A key-choosing distribution over N indexes. */
typedef struct keydist {
    enum key_dist dist;
    uint32_t n;
    /* zipf: exponent and the sampler's constants (keygen.c) */
    double s;
    double h_x1, h_n, accept;
    /* the rank -> index permutation */
    uint64_t perm_a, perm_b;
} keydist;

/* Set `d` up for `n` >= 1 indexes; `s` (> 0) is the Zipf exponent and is
 * ignored for uniform. Never fails. */
void keydist_init(keydist *d, enum key_dist dist, uint32_t n, double s);

/* The probability of rank `r` under `d` (for the report; O(N) the first
 * time for zipf, as it sums H(N,s)). */
double keydist_rank_share(const keydist *d, uint32_t r);

/* The index that rank `r` maps to (identity for uniform). */
static inline uint32_t keydist_index_of_rank(const keydist *d, uint32_t r)
{
    if (d->dist == DIST_UNIFORM)
        return r;
    return (uint32_t)(((uint64_t)r * d->perm_a + d->perm_b) % d->n);
}

/* wyrand (Wang Yi): one add and one 64x64->128 multiply per number; passes
 * BigCrush and PractRand. Any seed is fine. */
static inline uint64_t wyrand(uint64_t *state)
{
    *state += 0xa0761d6478bd642full;
    __uint128_t t = (__uint128_t)*state * (*state ^ 0xe7037ed1a0b428dbull);
    return (uint64_t)(t >> 64) ^ (uint64_t)t;
}

/* A uniform integer in [0, n), n >= 1: Lemire's multiply-shift with the
 * rejection step that removes its bias (almost never taken). */
static inline uint32_t rand_below(uint64_t *state, uint32_t n)
{
    uint64_t m = (uint64_t)(uint32_t)wyrand(state) * n;
    uint32_t low = (uint32_t)m;
    if (__builtin_expect(low < n, 0)) {
        uint32_t threshold = -n % n;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)wyrand(state) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* A uniform double in [0, 1), 53 bits. */
static inline double rand_unit(uint64_t *state)
{
    return (double)(wyrand(state) >> 11) * 0x1.0p-53;
}

/* The Zipf sampler's pieces (see keygen.c for the derivation): h(x) is
 * x^-s, zipf_hint(x) its integral from 1, zipf_hint_inv the inverse. */
static inline double zipf_helper1(double x) /* log1p(x) / x */
{
    return fabs(x) > 1e-8 ? log1p(x) / x
                          : 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

static inline double zipf_helper2(double x) /* expm1(x) / x */
{
    return fabs(x) > 1e-8 ? expm1(x) / x
                          : 1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x));
}

static inline double zipf_h(double s, double x)
{
    return exp(-s * log(x));
}

static inline double zipf_hint(double s, double x)
{
    double lx = log(x);
    return zipf_helper2((1.0 - s) * lx) * lx;
}

static inline double zipf_hint_inv(double s, double x)
{
    double t = x * (1.0 - s);
    if (t < -1.0)
        t = -1.0;
    return exp(zipf_helper1(t) * x);
}

/* A Zipf rank in [0, n): rejection-inversion. */
static inline uint32_t zipf_rank(const keydist *d, uint64_t *rng)
{
    for (;;) {
        double u = d->h_n + rand_unit(rng) * (d->h_x1 - d->h_n);
        double x = zipf_hint_inv(d->s, u);
        double k = floor(x + 0.5);
        if (k < 1.0)
            k = 1.0;
        else if (k > (double)d->n)
            k = (double)d->n;
        if (k - x <= d->accept ||
            u >= zipf_hint(d->s, k + 0.5) - zipf_h(d->s, k))
            return (uint32_t)k - 1;
    }
}

/* The next key index under `d`. */
static inline uint32_t keydist_next(const keydist *d, uint64_t *rng)
{
    if (d->dist == DIST_UNIFORM)
        return rand_below(rng, d->n);
    return keydist_index_of_rank(d, zipf_rank(d, rng));
}

static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

/* Write `v` as exactly 10 decimal digits, zero-padded, to out[0..9] (no
 * NUL): what snprintf("%010u") gives, in a few ns. */
static inline void format10(char *out, uint32_t v)
{
    uint32_t hi = v / 100000000u; /* 0 .. 42 */
    uint32_t lo = v % 100000000u;
    uint32_t a = lo / 10000u, b = lo % 10000u;
    memcpy(out + 0, digit_pairs + 2 * hi, 2);
    memcpy(out + 2, digit_pairs + 2 * (a / 100u), 2);
    memcpy(out + 4, digit_pairs + 2 * (a % 100u), 2);
    memcpy(out + 6, digit_pairs + 2 * (b / 100u), 2);
    memcpy(out + 8, digit_pairs + 2 * (b % 100u), 2);
}

/* The type prefixes, padded to 16 bytes so one fixed-size copy writes any
 * of them: flat's, then the related layout's four. */
struct key_prefix {
    char text[16];
    size_t len;
};

static const struct key_prefix key_prefixes[1 + RELATED_KEYS] = {
    {"key:", 4},      {"user:", 5},     {"profile:", 8},
    {"settings:", 9}, {"sessions:", 9},
};

/* Write the name of index `k` in `layout` to out[0 .. KEY_BUF-1] (no NUL)
 * and return its length. */
static inline size_t key_write(char *out, enum key_layout layout, uint32_t k)
{
    bool related = layout == LAYOUT_RELATED;
    const struct key_prefix *p =
        &key_prefixes[related ? 1 + k % RELATED_KEYS : 0];
    memcpy(out, p->text, sizeof p->text);
    format10(out + p->len, related ? k / RELATED_KEYS : k);
    return p->len + KEY_DIGITS;
}

/* Parse a layout or distribution name. Return false if unknown. */
bool key_dist_parse(const char *s, enum key_dist *out);
const char *key_dist_name(enum key_dist d);
const char *key_layout_name(enum key_layout l);

#endif /* WARP_CLI_KEYGEN_H */
