/*
 * wormhole.c - the co-access graph between slots: a pair-keyed hash map of
 * edge strengths, per-slot neighbour lists, and Dijkstra over them.
 *
 * DECAY WITHOUT A PASS. A decay multiplies every strength by 0.95. Rather
 * than visit every edge, the map stores each strength times a global
 * `scale`, and a decay divides the scale by 0.95: strength = stored /
 * scale, for every edge at once. Uses multiply the stored value (x1.1,
 * capped at 10 * scale), which commutes with the scale. What still needs
 * a visit is pruning, and only the edges that reach 0.1 need one: each
 * edge is filed under the decay round at which, unused, it would fall
 * below 0.1 (due[], a wheel of DUE_ROUNDS rounds; a new edge is due 45
 * rounds on, one at the cap 90). That round's decay looks at its edges:
 * one used since is still strong enough and is filed again further on;
 * the others are pruned, in the same decay as a pass over every edge
 * would have pruned them. A decay costs what its due edges cost: under a
 * stream of random batch gets (new edges, few used again) about 1/45 of
 * the graph a round instead of all of it. The scale grows 1.053x a round,
 * so every RESCALE_ROUNDS rounds one pass divides the stored strengths by
 * it and sets it back to 1.
 *
 * INVARIANT. The pair {a, b} is in the map if and only if b is in a's
 * neighbour list and a is in b's, and then its key is filed in exactly
 * one due[] list. Every change keeps it: a new edge reserves room in the
 * map, in both lists and in its due list before it writes any of them, so
 * running out of memory leaves the graph as it was; a prune removes the
 * edge from the map and from both lists in the same call.
 */
#include "wormhole.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#define EMPTY     UINT32_MAX /* the key of a free map entry */
#define NOPOS     SIZE_MAX
#define MAP_MIN   1024 /* the smallest map; a power of two */
#define SLOT_BITS 14

_Static_assert(WARP_SLOTS == 1u << SLOT_BITS, "pair keys pack two slots");
_Static_assert(WARP_SLOTS <= UINT16_MAX, "neighbour lists hold 16-bit slots");

typedef struct edge {
    uint32_t key; /* lo << 14 | hi, or EMPTY */
    float s;      /* strength times the scale: a float is exact enough, and
                   * halves the map */
} edge;

typedef struct nbrs {
    uint16_t *v;
    uint32_t len, cap;
} nbrs;

/* The keys of the edges due at one decay round. */
typedef struct due_list {
    uint32_t *v;
    uint32_t len, cap;
} due_list;

/* Rounds in the due wheel: more than an unused edge at the cap lives
 * (log(10 / 0.1) / log(1 / 0.95) = 89.8), so a due round never wraps
 * onto the round being decayed. */
#define DUE_ROUNDS 128
/* Rounds between two rescaling passes: the scale reaches 1.053^512 =
 * 2.5e11, and a stored strength 2.5e12, far inside a float. */
#define RESCALE_ROUNDS 512

struct wormholes {
    mem own; /* the allocator when the caller gave none */
    mem *m;
    edge *map;         /* strengths stored times `scale` */
    size_t cap, count; /* cap: 0 or a power of two >= MAP_MIN */
    unsigned bits;     /* log2(cap) */
    double scale;      /* (1 / 0.95) ^ decays since the last rescale, as a
                        * float: a new edge's strength is then exactly 1 */
    uint32_t due_new;  /* due_in() of a new edge */
    double total, max; /* of the stored strengths; kept up to date */
    uint32_t round;    /* decays so far */
    uint32_t rescaled; /* the round of the last rescale */
    uint64_t reinforcements, created, pruned, refused;
    double grow[DUE_ROUNDS];  /* (1 / 0.95) ^ k */
    due_list due[DUE_ROUNDS]; /* due[r % DUE_ROUNDS]: due at round r */
    nbrs adj[WARP_SLOTS];
};

/* The strength of an edge whose stored strength is `st`. */
static double strength_of(const wormholes *w, float st)
{
    return (double)st / w->scale;
}

/* In how many decays (1 .. DUE_ROUNDS - 1) an edge of stored strength
 * `st`, unused, falls below the prune line: the first k with
 * strength / grow[k] < WORMHOLE_PRUNE. The decays round the scale to a
 * float, so for a strength within about 1e-5 of the line this can be a
 * round off: too early, and that decay finds it still strong and files
 * it again; too late, and the edge reads as pruned (wormholes_strength())
 * for the round before its decay prunes it. */
static uint32_t due_in(const wormholes *w, float st)
{
    double s = strength_of(w, st);
    double k0 = ceil(log(s / WORMHOLE_PRUNE) / -log(WORMHOLE_DECAY));
    uint32_t k = k0 < 1                ? 1
                 : k0 > DUE_ROUNDS - 1 ? DUE_ROUNDS - 1
                                       : (uint32_t)k0;

    while (k > 1 && s / w->grow[k - 1] < WORMHOLE_PRUNE)
        k--;
    while (k < DUE_ROUNDS - 1 && s / w->grow[k] >= WORMHOLE_PRUNE)
        k++;
    return k;
}

/* ------------------------------------------------------------------------ */
/* The pair map                                                              */
/* ------------------------------------------------------------------------ */

static uint32_t pair_key(uint32_t a, uint32_t b)
{
    return a < b ? a << SLOT_BITS | b : b << SLOT_BITS | a;
}

static size_t map_home(const wormholes *w, uint32_t key)
{
    /* Fibonacci hashing: consecutive pairs spread over the whole map. */
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> (64 - w->bits));
}

/* Distance, in map lookups, at which a loop of independent lookups (a
 * decay's, a touch's) starts loading the entry it will probe: the map is
 * up to 16 MiB, and each probe is otherwise a cache miss the loop waits
 * for. */
#define MAP_AHEAD 8

/* always_inline: as a function of its own, GCC 12 splits the prefetch
 * into a part it finds free of side effects, and deletes the calls. */
static inline __attribute__((always_inline)) void
map_prefetch(const wormholes *w, uint32_t key)
{
    if (w->cap)
        __builtin_prefetch(&w->map[map_home(w, key)]);
}

/* The index of `key` in the map, or NOPOS. */
static size_t map_find(const wormholes *w, uint32_t key)
{
    size_t mask = w->cap - 1;

    if (!w->cap)
        return NOPOS;
    /* The map is never more than 75% full, so an EMPTY entry ends this. */
    for (size_t i = map_home(w, key);; i = (i + 1) & mask) {
        if (w->map[i].key == key)
            return i;
        if (w->map[i].key == EMPTY)
            return NOPOS;
    }
}

/* Put `key` (not in the map; the map has room) with strength s. */
static void map_put(wormholes *w, uint32_t key, float s)
{
    size_t mask = w->cap - 1, i = map_home(w, key);

    while (w->map[i].key != EMPTY)
        i = (i + 1) & mask;
    w->map[i] = (edge){.key = key, .s = s};
}

/* Rehash into a map of `cap` entries (a power of two that holds count at
 * under 75%). Returns 0, or -ENOMEM with the map unchanged. */
static int map_resize(wormholes *w, size_t cap)
{
    edge *old = w->map;
    size_t oldcap = w->cap;
    edge *map = mem_alloc(w->m, cap * sizeof(edge));

    assert(w->count * 4 < cap * 3);
    if (!map)
        return -ENOMEM;
    memset(map, 0xFF, cap * sizeof(edge)); /* every key EMPTY */
    w->map = map;
    w->cap = cap;
    w->bits = (unsigned)__builtin_ctzll(cap);
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].key != EMPTY)
            map_put(w, old[i].key, old[i].s);
    mem_free(w->m, old, oldcap * sizeof(edge));
    return 0;
}

/* Remove entry i, shifting back the entries after it that belong before
 * the hole, so that lookups never need tombstones. */
static void map_delete(wormholes *w, size_t i)
{
    size_t mask = w->cap - 1;

    for (size_t j = (i + 1) & mask; w->map[j].key != EMPTY;
         j = (j + 1) & mask) {
        size_t home = map_home(w, w->map[j].key);
        /* The entry at j may fill the hole at i if its home is not in
         * (i, j]: it probed through i to get to j. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            w->map[i] = w->map[j];
            i = j;
        }
    }
    w->map[i].key = EMPTY;
    w->count--;
}

/* ------------------------------------------------------------------------ */
/* Neighbour lists                                                           */
/* ------------------------------------------------------------------------ */

/* The lists (neighbours, due keys) are arrays that double when full and
 * are given back when pruning has mostly emptied them. */

/* Move list *v (len entries of `elem` bytes, room for *cap) to room for
 * ncap >= len (0 frees it). Returns 0, or -ENOMEM with the list as it
 * was. */
static int list_resize(wormholes *w, void **v, uint32_t len, uint32_t *cap,
                       uint32_t ncap, size_t elem)
{
    void *nv = NULL;

    assert(ncap >= len);
    if (ncap == *cap)
        return 0;
    if (ncap && !(nv = mem_alloc(w->m, ncap * elem)))
        return -ENOMEM;
    if (nv && len)
        memcpy(nv, *v, len * elem);
    mem_free(w->m, *v, *cap * elem);
    *v = nv;
    *cap = ncap;
    return 0;
}

/* The room a list should have to take one more entry. */
static uint32_t grown(uint32_t len, uint32_t cap, uint32_t first)
{
    return len < cap ? cap : cap ? cap * 2 : first;
}

/* The room a list should keep: none when empty, twice its entries when
 * under a quarter full (and not under `least`), else what it has. */
static uint32_t shrunk(uint32_t len, uint32_t cap, uint32_t least)
{
    if (len == 0)
        return 0;
    if (cap > least && len * 4 < cap)
        return len * 2 > least ? len * 2 : least;
    return cap;
}

/* Give l room for `cap` entries; -ENOMEM leaves it as it was. */
static int nbrs_resize(wormholes *w, nbrs *l, uint32_t cap)
{
    void *v = l->v;
    int rc = list_resize(w, &v, l->len, &l->cap, cap, sizeof(*l->v));

    l->v = v;
    return rc;
}

static int nbrs_reserve(wormholes *w, nbrs *l)
{
    return nbrs_resize(w, l, grown(l->len, l->cap, 4));
}

/* ------------------------------------------------------------------------ */
/* Building and decaying                                                     */
/* ------------------------------------------------------------------------ */

int wormholes_new_in(mem *m, wormholes **out)
{
    wormholes *w = mem_calloc(m, sizeof(*w));

    *out = NULL;
    if (!w)
        return -ENOMEM;
    w->m = m;
    w->scale = 1;
    w->grow[0] = 1;
    for (int k = 1; k < DUE_ROUNDS; k++)
        w->grow[k] = w->grow[k - 1] / WORMHOLE_DECAY;
    /* an unused edge at the cap is due within the wheel */
    assert(WORMHOLE_CAP / w->grow[DUE_ROUNDS - 1] < WORMHOLE_PRUNE);
    w->due_new = due_in(w, (float)WORMHOLE_NEW);
    *out = w;
    return 0;
}

int wormholes_new(wormholes **out)
{
    mem own;
    int rc;

    mem_init(&own, NULL);
    if ((rc = wormholes_new_in(&own, out)) != 0)
        return rc;
    /* The graph carries its own allocator; point at that copy. */
    (*out)->own = own;
    (*out)->m = &(*out)->own;
    return 0;
}

void wormholes_free(wormholes *w)
{
    mem *m;

    if (!w)
        return;
    m = w->m;
    for (size_t s = 0; s < WARP_SLOTS; s++)
        mem_free(m, w->adj[s].v, w->adj[s].cap * sizeof(uint16_t));
    for (size_t r = 0; r < DUE_ROUNDS; r++)
        mem_free(m, w->due[r].v, w->due[r].cap * sizeof(uint32_t));
    mem_free(m, w->map, w->cap * sizeof(edge));
    if (m == &w->own) {
        /* Free the struct through a copy of the allocator it holds. */
        mem own = w->own;
        mem_free(&own, w, sizeof(*w));
    } else {
        mem_free(m, w, sizeof(*w));
    }
}

/* Give l room for `cap` entries; -ENOMEM leaves it as it was. */
static int due_resize(wormholes *w, due_list *l, uint32_t cap)
{
    void *v = l->v;
    int rc = list_resize(w, &v, l->len, &l->cap, cap, sizeof(*l->v));

    l->v = v;
    return rc;
}

static int due_reserve(wormholes *w, due_list *l)
{
    return due_resize(w, l, grown(l->len, l->cap, 64));
}

/* A new edge a-b at WORMHOLE_NEW. Everything is reserved before anything
 * is written, so -ENOMEM leaves the graph as it was. */
static int edge_create(wormholes *w, uint32_t a, uint32_t b)
{
    float st = (float)(WORMHOLE_NEW * w->scale);
    due_list *due = &w->due[(w->round + w->due_new) % DUE_ROUNDS];

    if ((w->count + 1) * 4 > w->cap * 3 &&
        map_resize(w, w->cap ? w->cap * 2 : MAP_MIN) != 0)
        return -ENOMEM;
    if (nbrs_reserve(w, &w->adj[a]) != 0 || nbrs_reserve(w, &w->adj[b]) != 0 ||
        due_reserve(w, due) != 0)
        return -ENOMEM;
    map_put(w, pair_key(a, b), st);
    w->count++;
    w->adj[a].v[w->adj[a].len++] = (uint16_t)b;
    w->adj[b].v[w->adj[b].len++] = (uint16_t)a;
    due->v[due->len++] = pair_key(a, b);
    w->created++;
    w->total += st;
    w->max = fmax(w->max, st);
    return 0;
}

/* One use of the pair a-b (a != b). */
static int pair_use(wormholes *w, uint32_t a, uint32_t b)
{
    size_t i = map_find(w, pair_key(a, b));

    if (i != NOPOS) {
        float st = w->map[i].s;
        w->map[i].s = (float)fmin(st * WORMHOLE_REINF, WORMHOLE_CAP * w->scale);
        w->total += (double)w->map[i].s - st;
        w->max = fmax(w->max, w->map[i].s);
        w->reinforcements++;
        return 0;
    }
    if (w->count >= WORMHOLES_MAX_EDGES) {
        w->refused++;
        return 0;
    }
    return edge_create(w, a, b);
}

/* The distinct valid slots among the first WORMHOLES_TOUCH_MAX of
 * slots[0..n), ascending, into u; returns how many. */
static size_t distinct_slots(const uint32_t *slots, size_t n, uint16_t *u)
{
    size_t k = 0, d = 0;

    if (n > WORMHOLES_TOUCH_MAX)
        n = WORMHOLES_TOUCH_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t j = k;
        if (slots[i] >= WARP_SLOTS)
            continue;
        /* insertion sort: n is at most 64 */
        while (j > 0 && u[j - 1] > slots[i]) {
            u[j] = u[j - 1];
            j--;
        }
        u[j] = (uint16_t)slots[i];
        k++;
    }
    for (size_t i = 0; i < k; i++)
        if (d == 0 || u[d - 1] != u[i])
            u[d++] = u[i];
    return d;
}

int wormholes_touch(wormholes *w, const uint32_t *slots, size_t n)
{
    uint16_t u[WORMHOLES_TOUCH_MAX];
    size_t k = slots ? distinct_slots(slots, n, u) : 0;
    size_t used = 0, loaded = 0; /* pairs used; pairs whose entry loads */
    size_t ai = 0, aj = 1;       /* the next pair to load, in loop order */
    int rc = 0;

    for (size_t i = 0; i < k; i++)
        for (size_t j = i + 1; j < k; j++) {
            for (; loaded < used + MAP_AHEAD && aj < k; loaded++) {
                map_prefetch(w, pair_key(u[ai], u[aj]));
                if (++aj == k) {
                    ai++;
                    aj = ai + 1;
                }
            }
            if (pair_use(w, u[i], u[j]) != 0)
                rc = -ENOMEM; /* that pair is missing; go on */
            used++;
        }
    return rc;
}

/* Drop b from a's neighbour list (it is there), giving back a list that
 * pruning has mostly emptied; keeping the old one if the smaller cannot
 * be allocated is harmless. */
static void nbrs_remove(wormholes *w, uint32_t a, uint32_t b)
{
    nbrs *l = &w->adj[a];
    uint32_t k = 0;

    while (l->v[k] != b)
        k++;
    assert(k < l->len);
    l->v[k] = l->v[--l->len];
    (void)nbrs_resize(w, l, shrunk(l->len, l->cap, 8));
}

/* Divide every stored strength by the scale, and set it back to 1. */
static void rescale(wormholes *w)
{
    w->total = 0;
    w->max = 0;
    for (size_t i = 0; i < w->cap; i++)
        if (w->map[i].key != EMPTY) {
            w->map[i].s = (float)strength_of(w, w->map[i].s);
            w->total += w->map[i].s;
            w->max = fmax(w->max, w->map[i].s);
        }
    w->scale = 1;
    w->rescaled = w->round;
}

void wormholes_decay(wormholes *w)
{
    w->round++;
    w->scale = (float)(w->scale / WORMHOLE_DECAY);
    due_list *l = &w->due[w->round % DUE_ROUNDS];
    uint32_t keep = 0, n = l->len;

    for (uint32_t k = 0; k < n && k < MAP_AHEAD; k++)
        map_prefetch(w, l->v[k]);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t key = l->v[k];
        if (k + MAP_AHEAD < n)
            map_prefetch(w, l->v[k + MAP_AHEAD]);
        size_t i = map_find(w, key);
        assert(i != NOPOS);
        float st = w->map[i].s;
        if (strength_of(w, st) < WORMHOLE_PRUNE) {
            nbrs_remove(w, key >> SLOT_BITS, key & (WARP_SLOTS - 1));
            nbrs_remove(w, key & (WARP_SLOTS - 1), key >> SLOT_BITS);
            map_delete(w, i);
            w->total -= st;
            w->pruned++;
            continue;
        }
        /* used since it was filed: file it where it is due now, or, if
         * that list cannot grow, here again, a wheel's turn later (read
         * as pruned meanwhile once below the line: wormholes_strength()) */
        due_list *to = &w->due[(w->round + due_in(w, st)) % DUE_ROUNDS];
        if (due_reserve(w, to) == 0)
            to->v[to->len++] = key;
        else
            l->v[keep++] = key;
    }
    l->len = keep;
    (void)due_resize(w, l, shrunk(keep, l->cap, 64)); /* or it stays */
    if (w->count == 0) {
        w->total = 0;
        w->max = 0;
    }
    if (w->round - w->rescaled >= RESCALE_ROUNDS)
        rescale(w);
    if (w->cap > MAP_MIN && w->count * 8 < w->cap) {
        size_t cap = MAP_MIN;
        while (cap < w->count * 2)
            cap *= 2;
        map_resize(w, cap); /* on failure the larger map stays: fine */
    }
}

/* ------------------------------------------------------------------------ */
/* Queries                                                                   */
/* ------------------------------------------------------------------------ */

double wormholes_strength(const wormholes *w, uint32_t a, uint32_t b)
{
    size_t i;

    if (a >= WARP_SLOTS || b >= WARP_SLOTS || a == b)
        return 0;
    i = map_find(w, pair_key(a, b));
    if (i == NOPOS)
        return 0;
    /* below the line only until a decay prunes it (due_in()), or when
     * its decay could not file it again (-ENOMEM): pruned, for every
     * reader */
    double s = strength_of(w, w->map[i].s);
    return s >= WORMHOLE_PRUNE ? s : 0;
}

void wormholes_foreach(const wormholes *w,
                       void (*fn)(void *ctx, uint32_t a, uint32_t b,
                                  double strength),
                       void *ctx)
{
    for (size_t i = 0; i < w->cap; i++) {
        uint32_t key = w->map[i].key;
        double s = key != EMPTY ? strength_of(w, w->map[i].s) : 0;
        if (s >= WORMHOLE_PRUNE)
            fn(ctx, key >> SLOT_BITS, key & (WARP_SLOTS - 1), s);
    }
}

/* Whether edge x ranks before edge y: stronger, then the lower slot. */
static int edge_before(const warp_edge *x, const warp_edge *y)
{
    return x->strength > y->strength ||
           (x->strength == y->strength && x->slot < y->slot);
}

size_t wormholes_strongest(const wormholes *w, uint32_t slot, warp_edge *out,
                           size_t max)
{
    size_t n = 0;

    if (slot >= WARP_SLOTS || !out || !max)
        return 0;
    for (uint32_t k = 0; k < w->adj[slot].len; k++) {
        warp_edge e = {.slot = w->adj[slot].v[k]};
        size_t j;

        e.strength = wormholes_strength(w, slot, e.slot);
        if (e.strength == 0 || (n == max && !edge_before(&e, &out[n - 1])))
            continue;
        /* insert into the sorted top `max`, dropping the last if full */
        j = n < max ? n++ : n - 1;
        while (j > 0 && edge_before(&e, &out[j - 1])) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = e;
    }
    return n;
}

size_t wormholes_partners(const wormholes *w, uint32_t slot, double min,
                          uint32_t *out, size_t max)
{
    size_t n = 0;

    if (slot >= WARP_SLOTS || !out)
        return 0;
    for (uint32_t k = 0; k < w->adj[slot].len && n < max; k++) {
        uint32_t b = w->adj[slot].v[k];
        double s = wormholes_strength(w, slot, b);
        if (s > 0 && s >= min)
            out[n++] = b;
    }
    return n;
}

void wormholes_stats(const wormholes *w, wormhole_stats *s)
{
    *s = (wormhole_stats){
        .edges = w->count,
        .total_strength = w->count ? w->total / w->scale : 0,
        .max_strength = w->count ? w->max / w->scale : 0,
        .reinforcements = w->reinforcements,
        .created = w->created,
        .pruned = w->pruned,
        .refused = w->refused,
    };
}

/* ------------------------------------------------------------------------ */
/* Routes: Dijkstra with an indexed binary heap                              */
/* ------------------------------------------------------------------------ */

#define UNSEEN UINT32_MAX       /* pos[]: never reached */
#define DONE   (UINT32_MAX - 1) /* pos[]: its distance is final */

typedef struct search {
    double *dist;
    uint32_t *prev, *heap, *pos; /* pos: a slot's index in heap */
    uint32_t n;                  /* slots in the heap */
} search;

static void heap_set(search *q, uint32_t i, uint32_t v)
{
    q->heap[i] = v;
    q->pos[v] = i;
}

static void heap_up(search *q, uint32_t i)
{
    uint32_t v = q->heap[i];

    while (i > 0 && q->dist[q->heap[(i - 1) / 2]] > q->dist[v]) {
        heap_set(q, i, q->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(q, i, v);
}

static uint32_t heap_pop(search *q)
{
    uint32_t top = q->heap[0], v = q->heap[--q->n], i = 0;

    q->pos[top] = DONE;
    if (q->n == 0)
        return top;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= q->n)
            break;
        if (c + 1 < q->n && q->dist[q->heap[c + 1]] < q->dist[q->heap[c]])
            c++;
        if (q->dist[q->heap[c]] >= q->dist[v])
            break;
        heap_set(q, i, q->heap[c]);
        i = c;
    }
    heap_set(q, i, v);
    return top;
}

/* Relax every edge out of u. */
static void relax(const wormholes *w, search *q, uint32_t u)
{
    const nbrs *l = &w->adj[u];

    for (uint32_t k = 0; k < l->len; k++) {
        uint32_t v = l->v[k];
        double s, d;

        if (q->pos[v] == DONE || (s = wormholes_strength(w, u, v)) == 0)
            continue;
        d = q->dist[u] + 1.0 / s;
        if (d >= q->dist[v])
            continue;
        q->dist[v] = d;
        q->prev[v] = u;
        if (q->pos[v] == UNSEEN) {
            q->pos[v] = q->n;
            q->heap[q->n++] = v;
        }
        heap_up(q, q->pos[v]);
    }
}

/* Run the search from `from` until `to` is final or nothing is left. */
static void dijkstra(const wormholes *w, search *q, uint32_t from, uint32_t to)
{
    for (uint32_t s = 0; s < WARP_SLOTS; s++) {
        q->dist[s] = INFINITY;
        q->pos[s] = UNSEEN;
    }
    q->dist[from] = 0;
    q->prev[from] = from;
    q->n = 0;
    heap_set(q, q->n++, from);
    while (q->n) {
        uint32_t u = heap_pop(q);
        if (u == to)
            return;
        relax(w, q, u);
    }
}

int wormholes_route(const wormholes *w, uint32_t from, uint32_t to,
                    uint32_t *path, size_t max, size_t *len, double *cost)
{
    size_t bytes = WARP_SLOTS * (sizeof(double) + 3 * sizeof(uint32_t));
    search q;
    size_t n = 1;
    char *block;

    if (from >= WARP_SLOTS || to >= WARP_SLOTS || (!path && max))
        return -EINVAL;
    if (from == to) {
        if (max)
            path[0] = from;
        if (len)
            *len = 1;
        if (cost)
            *cost = 0;
        return 0;
    }
    if (!w->adj[from].len || !w->adj[to].len)
        return -ENOENT;
    if (!(block = mem_alloc(w->m, bytes)))
        return -ENOMEM;
    q.dist = (double *)block;
    q.prev = (uint32_t *)(q.dist + WARP_SLOTS);
    q.heap = q.prev + WARP_SLOTS;
    q.pos = q.heap + WARP_SLOTS;
    dijkstra(w, &q, from, to);
    if (q.pos[to] != DONE) {
        mem_free(w->m, block, bytes);
        return -ENOENT;
    }
    for (uint32_t v = to; v != from; v = q.prev[v])
        n++;
    /* Walk back again, writing each slot at its place from the front. */
    for (uint32_t v = to, k = (uint32_t)n; k-- > 0; v = q.prev[v])
        if (k < max)
            path[k] = v;
    if (len)
        *len = n;
    if (cost)
        *cost = q.dist[to];
    mem_free(w->m, block, bytes);
    return 0;
}
