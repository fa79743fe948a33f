/*
 * keygen.c - the Zipf sampler's constants, the rank permutation, and the
 * names of layouts and distributions. The hot path is inline in keygen.h.
 *
 * REJECTION-INVERSION, IN SHORT
 *   Take h(x) = x^-s on [0.5, N+0.5] and H its integral (H(x) =
 *   (x^(1-s) - 1) / (1-s), written with expm1/log1p so s = 1 needs no
 *   special case). Draw u uniformly in (H(1.5) - 1, H(N+0.5)], invert:
 *   x = H^-1(u), k = round(x). The area under h over [k-0.5, k+0.5] is at
 *   least h(k), the mass rank k should get, so accepting when
 *   u >= H(k+0.5) - h(k) gives exactly P(k) ~ k^-s. `accept` is a cheap
 *   bound: whenever k - x <= accept the test passes without evaluating it.
 */
#include "keygen.h"

#include <string.h>

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* H(N, s) = sum of k^-s for k = 1..N: exactly for the first 2^20 terms,
 * then the midpoint integral of the tail (relative error far below what a
 * report prints). */
static double harmonic(uint32_t n, double s)
{
    const uint32_t exact = 1u << 20;
    double sum = 0.0;
    uint32_t m = n < exact ? n : exact;
    for (uint32_t k = m; k >= 1; k--) /* small terms first */
        sum += pow((double)k, -s);
    if (n > m) {
        double a = (double)m + 0.5, b = (double)n + 0.5;
        sum += fabs(s - 1.0) < 1e-12
                   ? log(b / a)
                   : (pow(b, 1.0 - s) - pow(a, 1.0 - s)) / (1.0 - s);
    }
    return sum;
}

void keydist_init(keydist *d, enum key_dist dist, uint32_t n, double s)
{
    memset(d, 0, sizeof *d);
    d->dist = dist;
    d->n = n;
    d->s = s;
    if (dist != DIST_ZIPF)
        return;
    d->h_x1 = zipf_hint(s, 1.5) - 1.0;
    d->h_n = zipf_hint(s, (double)n + 0.5);
    d->accept = 2.0 - zipf_hint_inv(s, zipf_hint(s, 2.5) - zipf_h(s, 2.0));
    /* A multiplier near N / phi, coprime to N, so the permutation is a
     * bijection that sends neighbouring ranks far apart. */
    uint64_t a = (uint64_t)((double)n * 0.6180339887498949);
    if (a == 0)
        a = 1;
    while (gcd(a, n) != 1)
        a++;
    d->perm_a = a;
    d->perm_b = n / 3;
}

double keydist_rank_share(const keydist *d, uint32_t r)
{
    if (d->dist == DIST_UNIFORM)
        return 1.0 / (double)d->n;
    return pow((double)r + 1.0, -d->s) / harmonic(d->n, d->s);
}

bool key_dist_parse(const char *s, enum key_dist *out)
{
    if (strcmp(s, "uniform") == 0)
        *out = DIST_UNIFORM;
    else if (strcmp(s, "zipf") == 0)
        *out = DIST_ZIPF;
    else
        return false;
    return true;
}

const char *key_dist_name(enum key_dist d)
{
    return d == DIST_ZIPF ? "zipf" : "uniform";
}

const char *key_layout_name(enum key_layout l)
{
    return l == LAYOUT_RELATED ? "related" : "flat";
}
