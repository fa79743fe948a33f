/*
 * wormhole.c - the co-access graph between slots: a pair-keyed hash map of
 * edge strengths, per-slot neighbour lists, and Dijkstra over them.
 *
 * INVARIANT. The pair {a, b} is in the map if and only if b is in a's
 * neighbour list and a is in b's. Every change keeps it: a new edge
 * reserves room in the map and in both lists before it writes any of them,
 * so running out of memory leaves the graph as it was; decay removes a
 * pruned edge from the map and from both lists in the same call.
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
    float s;      /* 0.1 .. 10: a float is exact enough, and halves the map */
} edge;

typedef struct nbrs {
    uint16_t *v;
    uint32_t len, cap;
} nbrs;

struct wormholes {
    mem own; /* the allocator when the caller gave none */
    mem *m;
    edge *map;
    size_t cap, count; /* cap: 0 or a power of two >= MAP_MIN */
    unsigned bits;     /* log2(cap) */
    double total, max; /* exact after a decay, kept up to date by touches */
    uint64_t reinforcements, created, pruned, refused;
    nbrs adj[WARP_SLOTS];
};

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

/* Give list l a capacity of `cap` >= l->len (0 frees it). Returns 0 or
 * -ENOMEM with the list unchanged. */
static int nbrs_resize(wormholes *w, nbrs *l, uint32_t cap)
{
    uint16_t *v = NULL;

    assert(cap >= l->len);
    if (cap && !(v = mem_alloc(w->m, cap * sizeof(*v))))
        return -ENOMEM;
    if (v && l->len)
        memcpy(v, l->v, l->len * sizeof(*v));
    mem_free(w->m, l->v, l->cap * sizeof(*v));
    l->v = v;
    l->cap = cap;
    return 0;
}

static int nbrs_reserve(wormholes *w, nbrs *l)
{
    if (l->len < l->cap)
        return 0;
    return nbrs_resize(w, l, l->cap ? l->cap * 2 : 4);
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
    mem_free(m, w->map, w->cap * sizeof(edge));
    if (m == &w->own) {
        /* Free the struct through a copy of the allocator it holds. */
        mem own = w->own;
        mem_free(&own, w, sizeof(*w));
    } else {
        mem_free(m, w, sizeof(*w));
    }
}

/* A new edge a-b at WORMHOLE_NEW. Everything is reserved before anything
 * is written, so -ENOMEM leaves the graph as it was. */
static int edge_create(wormholes *w, uint32_t a, uint32_t b)
{
    if ((w->count + 1) * 4 > w->cap * 3 &&
        map_resize(w, w->cap ? w->cap * 2 : MAP_MIN) != 0)
        return -ENOMEM;
    if (nbrs_reserve(w, &w->adj[a]) != 0 || nbrs_reserve(w, &w->adj[b]) != 0)
        return -ENOMEM;
    map_put(w, pair_key(a, b), (float)WORMHOLE_NEW);
    w->count++;
    w->adj[a].v[w->adj[a].len++] = (uint16_t)b;
    w->adj[b].v[w->adj[b].len++] = (uint16_t)a;
    w->created++;
    w->total += WORMHOLE_NEW;
    w->max = fmax(w->max, WORMHOLE_NEW);
    return 0;
}

/* One use of the pair a-b (a != b). */
static int pair_use(wormholes *w, uint32_t a, uint32_t b)
{
    size_t i = map_find(w, pair_key(a, b));

    if (i != NOPOS) {
        double s = w->map[i].s, ns = fmin(s * WORMHOLE_REINF, WORMHOLE_CAP);
        w->map[i].s = (float)ns;
        w->total += (double)w->map[i].s - s;
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

/* Decay the edges of slot a whose other end is above a, pruning the weak;
 * drop from a's list the neighbours below a whose edge an earlier slot's
 * pass pruned. Each edge is therefore decayed once, by its lower end. */
static void decay_slot(wormholes *w, uint32_t a)
{
    nbrs *l = &w->adj[a];
    uint32_t keep = 0;

    for (uint32_t k = 0; k < l->len && k < MAP_AHEAD; k++)
        map_prefetch(w, pair_key(a, l->v[k]));
    for (uint32_t k = 0; k < l->len; k++) {
        uint32_t b = l->v[k];
        if (k + MAP_AHEAD < l->len)
            map_prefetch(w, pair_key(a, l->v[k + MAP_AHEAD]));
        size_t i = map_find(w, pair_key(a, b));

        if (b < a) {
            if (i == NOPOS)
                continue;
        } else {
            float s;
            assert(i != NOPOS);
            s = (float)(w->map[i].s * WORMHOLE_DECAY);
            if (s < (float)WORMHOLE_PRUNE) {
                map_delete(w, i);
                w->pruned++;
                continue;
            }
            w->map[i].s = s;
            w->total += s;
            w->max = fmax(w->max, s);
        }
        l->v[keep++] = (uint16_t)b;
    }
    l->len = keep;
    /* Give back a list that pruning has mostly emptied; keeping the old
     * one if the smaller cannot be allocated is harmless. */
    if (keep == 0)
        nbrs_resize(w, l, 0);
    else if (l->cap > 8 && keep * 4 < l->cap)
        nbrs_resize(w, l, keep * 2);
}

void wormholes_decay(wormholes *w)
{
    w->total = 0;
    w->max = 0;
    for (uint32_t a = 0; a < WARP_SLOTS; a++)
        if (w->adj[a].len)
            decay_slot(w, a);
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
    return i == NOPOS ? 0 : w->map[i].s;
}

void wormholes_foreach(const wormholes *w,
                       void (*fn)(void *ctx, uint32_t a, uint32_t b,
                                  double strength),
                       void *ctx)
{
    for (size_t i = 0; i < w->cap; i++) {
        uint32_t key = w->map[i].key;
        if (key != EMPTY)
            fn(ctx, key >> SLOT_BITS, key & (WARP_SLOTS - 1), w->map[i].s);
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
        if (n == max && !edge_before(&e, &out[n - 1]))
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
        if (wormholes_strength(w, slot, b) >= min)
            out[n++] = b;
    }
    return n;
}

void wormholes_stats(const wormholes *w, wormhole_stats *s)
{
    *s = (wormhole_stats){
        .edges = w->count,
        .total_strength = w->count ? w->total : 0,
        .max_strength = w->count ? w->max : 0,
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
        double d;

        if (q->pos[v] == DONE)
            continue;
        d = q->dist[u] + 1.0 / wormholes_strength(w, u, v);
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
