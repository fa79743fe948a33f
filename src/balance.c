/*
 * balance.c - the rebalancer's greedy plan: slots grouped into units by
 * union-find over strong wormholes, each shard's units kept sorted by load
 * (heaviest first) so the heaviest movable unit is one binary search away.
 */
#include "balance.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

/* The share of the total load under which a slot's load, or a difference
 * between shards, is treated as zero: the shards' running sums carry
 * rounding errors of about 1e-16 of the total per move, and chasing them
 * would move slots that change nothing. */
#define BALANCE_NOISE 1e-12

/* A unit in a shard's list: its load (the sort key) and its root slot. */
typedef struct unit_ref {
    double load;
    uint32_t root;
} unit_ref;

/* One shard's units, heaviest first (equal loads by ascending root). */
typedef struct unit_list {
    unit_ref *u;
    uint32_t n, cap;
} unit_list;

typedef struct plan {
    const double *load;
    const uint16_t *owner;
    uint32_t nshards;
    double keep;  /* keep_strength */
    double noise; /* loads up to this are rounding: BALANCE_NOISE x total */
    /* Per slot; the unit figures are meaningful at a unit's root. */
    uint32_t parent[WARP_SLOTS]; /* union-find */
    uint32_t head[WARP_SLOTS];   /* a unit's first member, ascending */
    uint32_t next[WARP_SLOTS];   /* the member after this one, or NONE */
    uint32_t size[WARP_SLOTS];   /* a unit's slots */
    uint32_t at[WARP_SLOTS];     /* a unit's shard, as planned so far */
    double uload[WARP_SLOTS];    /* a unit's load */
    bool moved[WARP_SLOTS];      /* in order[] already */
    uint32_t order[WARP_SLOTS];  /* units by their first move */
    uint32_t norder;
    double *sload;    /* [nshards] each shard's load, as planned so far */
    unit_list *lists; /* [nshards] */
} plan;

/* A load as the plan sees it: what cannot be a load is none. */
static double slot_load(const double *load, uint32_t s)
{
    return isfinite(load[s]) && load[s] > 0 ? load[s] : 0;
}

/* ------------------------------------------------------------------------ */
/* Units                                                                     */
/* ------------------------------------------------------------------------ */

static uint32_t find(plan *p, uint32_t s)
{
    while (p->parent[s] != s) {
        p->parent[s] = p->parent[p->parent[s]]; /* path halving */
        s = p->parent[s];
    }
    return s;
}

/* wormholes_foreach() callback: join a and b if the edge binds them. */
static void join(void *ctx, uint32_t a, uint32_t b, double strength)
{
    plan *p = ctx;
    uint32_t ra, rb;

    if (strength < p->keep || p->owner[a] != p->owner[b] ||
        !(slot_load(p->load, a) > p->noise) ||
        !(slot_load(p->load, b) > p->noise))
        return;
    ra = find(p, a);
    rb = find(p, b);
    if (ra != rb)
        p->parent[ra > rb ? ra : rb] = ra < rb ? ra : rb;
}

/* Sum each unit's members and load, and each shard's load. Slots whose
 * load is noise belong to no unit and never move. */
static void build_units(plan *p)
{
    for (uint32_t s = 0; s < WARP_SLOTS; s++)
        p->head[s] = NONE;
    /* Backwards, so each member list comes out ascending. */
    for (uint32_t s = WARP_SLOTS; s-- > 0;) {
        double x = slot_load(p->load, s);
        uint32_t r;

        if (!(x > p->noise))
            continue;
        r = find(p, s);
        p->next[s] = p->head[r];
        p->head[r] = s;
        p->size[r]++;
        p->uload[r] += x;
        p->at[r] = p->owner[s];
        p->sload[p->owner[s]] += x;
    }
}

static int unit_cmp(const void *x, const void *y)
{
    const unit_ref *a = x, *b = y;

    if (a->load != b->load)
        return a->load > b->load ? -1 : 1;
    return a->root < b->root ? -1 : a->root > b->root;
}

/* Fill and sort every shard's unit list. Returns false if out of memory. */
static bool build_lists(plan *p)
{
    for (uint32_t r = 0; r < WARP_SLOTS; r++)
        if (p->head[r] != NONE && find(p, r) == r)
            p->lists[p->at[r]].cap++;
    for (uint32_t k = 0; k < p->nshards; k++) {
        unit_list *l = &p->lists[k];
        l->cap += 16; /* room for arrivals before the first growth */
        if (!(l->u = malloc(l->cap * sizeof(unit_ref))))
            return false;
    }
    for (uint32_t r = 0; r < WARP_SLOTS; r++) {
        if (p->head[r] != NONE && find(p, r) == r) {
            unit_list *l = &p->lists[p->at[r]];
            l->u[l->n++] = (unit_ref){.load = p->uload[r], .root = r};
        }
    }
    for (uint32_t k = 0; k < p->nshards; k++)
        qsort(p->lists[k].u, p->lists[k].n, sizeof(unit_ref), unit_cmp);
    return true;
}

/* ------------------------------------------------------------------------ */
/* The greedy loop                                                           */
/* ------------------------------------------------------------------------ */

/* The index in l of the first unit lighter than `below`: the list is
 * heaviest first, so every unit from there on is lighter too. */
static uint32_t first_below(const unit_list *l, double below)
{
    uint32_t lo = 0, hi = l->n;

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (l->u[mid].load < below)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The index in l (shard H's list) of the unit to move when H is `gap`
 * heavier than the lightest shard, or NONE. Moving x lowers the larger of
 * the two loads by min(x, gap - x), so the best unit is the one nearest
 * gap / 2: the heaviest at or under it, or the lightest above it (and
 * under gap). Units of more than `budget` slots are passed over. */
static uint32_t pick(const plan *p, const unit_list *l, double gap,
                     size_t budget)
{
    uint32_t mid = first_below(l, nextafter(gap / 2, INFINITY));
    uint32_t under = NONE, over = NONE;

    for (uint32_t i = mid; i < l->n && under == NONE; i++)
        if (p->size[l->u[i].root] <= budget)
            under = i;
    for (uint32_t i = mid; i-- > 0 && l->u[i].load < gap && over == NONE;)
        if (p->size[l->u[i].root] <= budget)
            over = i;
    if (under == NONE || over == NONE)
        return under == NONE ? over : under;
    return gap - l->u[over].load > l->u[under].load ? over : under;
}

/* Move unit i of shard h's list to shard to. Returns false, changing
 * nothing, if the destination list cannot grow. */
static bool move_unit(plan *p, uint32_t h, uint32_t i, uint32_t to)
{
    unit_list *src = &p->lists[h], *dst = &p->lists[to];
    unit_ref u = src->u[i];
    uint32_t j = 0, hi = dst->n;

    if (dst->n == dst->cap) {
        unit_ref *v = realloc(dst->u, 2 * dst->cap * sizeof(unit_ref));
        if (!v)
            return false;
        dst->u = v;
        dst->cap *= 2;
    }
    memmove(src->u + i, src->u + i + 1, (src->n - i - 1) * sizeof(unit_ref));
    src->n--;
    while (j < hi) { /* the first entry u sorts before */
        uint32_t mid = j + (hi - j) / 2;
        if (unit_cmp(&dst->u[mid], &u) < 0)
            j = mid + 1;
        else
            hi = mid;
    }
    memmove(dst->u + j + 1, dst->u + j, (dst->n - j) * sizeof(unit_ref));
    dst->u[j] = u;
    dst->n++;

    p->sload[h] -= u.load;
    p->sload[to] += u.load;
    p->at[u.root] = to;
    if (!p->moved[u.root]) {
        p->moved[u.root] = true;
        p->order[p->norder++] = u.root;
    }
    return true;
}

/* Plan moves until no unit can lower the maximum or `budget` slots have
 * been planned. */
static void greedy(plan *p, size_t budget)
{
    for (;;) {
        uint32_t h = 0, l = 0, i;
        double gap;

        for (uint32_t k = 1; k < p->nshards; k++) {
            if (p->sload[k] > p->sload[h])
                h = k;
            if (p->sload[k] < p->sload[l])
                l = k;
        }
        /* Below the noise, a gap is rounding in the running sums. */
        gap = p->sload[h] - p->sload[l];
        if (!(gap > p->noise))
            return;
        if ((i = pick(p, &p->lists[h], gap, budget)) == NONE)
            return;
        budget -= p->size[p->lists[h].u[i].root];
        if (!move_unit(p, h, i, l))
            return;
    }
}

/* Write the net move of every unit that ended away from its shard. */
static size_t emit(const plan *p, balance_move *out)
{
    size_t n = 0;

    for (uint32_t k = 0; k < p->norder; k++) {
        uint32_t r = p->order[k];
        if (p->at[r] == p->owner[r])
            continue; /* brought back */
        for (uint32_t s = p->head[r]; s != NONE; s = p->next[s])
            out[n++] =
                (balance_move){.slot = s, .from = p->owner[s], .to = p->at[r]};
    }
    return n;
}

static void plan_free(plan *p)
{
    if (!p)
        return;
    if (p->lists)
        for (uint32_t k = 0; k < p->nshards; k++)
            free(p->lists[k].u);
    free(p->lists);
    free(p->sload);
    free(p);
}

size_t balance_plan(const double *load, const uint16_t *owner, uint32_t nshards,
                    const wormholes *w, double keep_strength, balance_move *out,
                    size_t max_moves)
{
    plan *p;
    size_t n = 0;

    if (!load || !owner || !out || nshards == 0 || max_moves == 0)
        return 0;
    for (uint32_t s = 0; s < WARP_SLOTS; s++)
        if (owner[s] >= nshards)
            return 0;
    if (!(p = calloc(1, sizeof(*p))))
        return 0;
    p->load = load;
    p->owner = owner;
    p->nshards = nshards;
    p->keep = keep_strength;
    p->sload = calloc(nshards, sizeof(double));
    p->lists = calloc(nshards, sizeof(unit_list));
    if (!p->sload || !p->lists)
        goto out;
    for (uint32_t s = 0; s < WARP_SLOTS; s++) {
        p->parent[s] = s;
        p->noise += slot_load(load, s);
    }
    p->noise *= BALANCE_NOISE;
    if (w)
        wormholes_foreach(w, join, p);
    build_units(p);
    if (!build_lists(p))
        goto out;
    greedy(p, max_moves);
    n = emit(p, out);
    assert(n <= max_moves);
out:
    plan_free(p);
    return n;
}

/* ------------------------------------------------------------------------ */
/* Shares                                                                    */
/* ------------------------------------------------------------------------ */

double balance_max_share(const double *load, const uint16_t *owner,
                         uint32_t nshards)
{
    double total = 0, max = 0, *sl;

    if (!nshards || !(sl = calloc(nshards, sizeof(double))))
        return 0;
    for (uint32_t s = 0; s < WARP_SLOTS; s++) {
        double x = slot_load(load, s);
        total += x;
        if (owner[s] < nshards)
            sl[owner[s]] += x;
    }
    for (uint32_t k = 0; k < nshards; k++)
        max = fmax(max, sl[k]);
    free(sl);
    return total > 0 ? max / total : 0;
}

double balance_best_share(const double *load, uint32_t nshards)
{
    double total = 0, hot = 0;

    if (!nshards)
        return 0;
    for (uint32_t s = 0; s < WARP_SLOTS; s++) {
        double x = slot_load(load, s);
        total += x;
        hot = fmax(hot, x);
    }
    return fmax(1.0 / nshards, total > 0 ? hot / total : 0);
}
