/*
 * wormhole.h - wormholes: a weighted, undirected co-access graph between
 * slots, learnt from multi-key operations, and the cheapest routes in it.
 *
 * Every pair of distinct slots that one batch touches is an edge whose
 * strength grows with use and fades with time (upstream's constants):
 *
 *   new edge     1.0
 *   each use     x 1.1, capped at 10.0
 *   each decay   x 0.95 (once per physics_update_interval); an edge that
 *                falls below 0.1 is pruned, after 45 idle decays for a
 *                new edge (1.0 * 0.95^45 < 0.1)
 *
 * Upstream created an edge at 0.1 (its prune threshold), so the first
 * decay deleted every edge that had been used once, and the graph only
 * remembered pairs used again within one interval. Starting at 1.0 gives a
 * pair used once about 45 intervals to be used again.
 *
 * A route's cost is the sum of 1/strength over its edges, so a strong
 * two-hop path (10, 10: cost 0.2) beats a weak direct one (1.0: cost 1.0).
 *
 * MEMORY. Edges live in an open-addressing hash map (linear probing,
 * backward-shift deletion, no tombstones) keyed by the slot pair (lo << 14
 * | hi, lo < hi): 8 bytes per entry, at most 75% full. Each slot also keeps
 * the list of its neighbours (2 bytes each, both directions), for Dijkstra
 * and the strongest-edge queries, and each edge's key is filed (4 bytes)
 * under the decay that would prune it (wormhole.c, "Decay without a
 * pass"). The graph holds at most WORMHOLES_MAX_EDGES edges: about 16 MiB
 * of map, and at most 8 MiB each of neighbour and due lists (half that
 * in use, the rest room to grow), and decay gives back what pruning
 * frees. A full graph refuses new edges (counted) but
 * still strengthens the ones it has.
 *
 * THREADS. None of this is thread-safe: one thread (the physics thread)
 * changes the graph, and readers must not run while it does. The const
 * functions may run concurrently with each other.
 */
#ifndef WARP_WORMHOLE_H
#define WARP_WORMHOLE_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"
#include "warp.h"

#define WORMHOLES_MAX_EDGES (1u << 20)
#define WORMHOLES_TOUCH_MAX 64 /* slots of one touch that are learnt */

#define WORMHOLE_NEW   1.0
#define WORMHOLE_REINF 1.1
#define WORMHOLE_CAP   10.0
#define WORMHOLE_DECAY 0.95
#define WORMHOLE_PRUNE 0.1

typedef struct wormholes wormholes;

/* A new, empty graph whose memory comes from malloc. Returns 0 or
 * -ENOMEM. Free it with wormholes_free(). */
int wormholes_new(wormholes **out);

/* The same, with every allocation through `m` (counted there, and failing
 * when it fails). `m` is borrowed and must outlive the graph. */
int wormholes_new_in(mem *m, wormholes **out);

/* Free the graph and everything it holds; NULL is accepted. */
void wormholes_free(wormholes *w);

/* One multi-key operation touched these slots: reinforce every pair of
 * distinct slots (create it at 1.0, else x1.1 up to 10). Duplicates and
 * slots >= WARP_SLOTS are ignored; only the first WORMHOLES_TOUCH_MAX
 * entries of `slots` are read, so one call costs at most 2,016 pairs.
 * Returns 0, or -ENOMEM when some new edge could not be allocated: that
 * pair is then missing, every other pair was still applied, and the graph
 * is consistent. */
int wormholes_touch(wormholes *w, const uint32_t *slots, size_t n);

/* Every edge x0.95; edges below 0.1 are pruned (counted), and memory they
 * held is given back when the map or a list has become mostly empty. The
 * cost is that of the edges pruned or used since they were last looked
 * at, not of the whole graph (wormhole.c). */
void wormholes_decay(wormholes *w);

/* The cheapest path from `from` to `to` (Dijkstra, cost = sum of
 * 1/strength). Writes path[0] = from ... path[len-1] = to, at most `max`
 * entries; *len is the full length even when it is more than `max`. `path`
 * may be NULL when `max` is 0; `len` and `cost` may be NULL. from == to is
 * a path of length 1 and cost 0, edges or not. Returns 0, -ENOENT if no
 * path joins them, -EINVAL for a slot >= WARP_SLOTS, or -ENOMEM (the
 * search needs 320 KiB). On error *len and *cost are unchanged. */
int wormholes_route(const wormholes *w, uint32_t from, uint32_t to,
                    uint32_t *path, size_t max, size_t *len, double *cost);

/* Up to `max` of the strongest edges of `slot` into out, strongest first
 * (equal strengths by ascending slot); returns how many. */
size_t wormholes_strongest(const wormholes *w, uint32_t slot, warp_edge *out,
                           size_t max);

/* Up to `max` slots joined to `slot` by an edge of strength >= min (direct
 * neighbours only, in no particular order); returns how many. */
size_t wormholes_partners(const wormholes *w, uint32_t slot, double min,
                          uint32_t *out, size_t max);

/* The strength of the edge between a and b, or 0 if there is none. */
double wormholes_strength(const wormholes *w, uint32_t a, uint32_t b);

/* Call fn once for every edge (a < b), in no particular order. fn must not
 * change the graph. */
void wormholes_foreach(const wormholes *w,
                       void (*fn)(void *ctx, uint32_t a, uint32_t b,
                                  double strength),
                       void *ctx);

/* `reinforcements` counts uses of an existing edge, `created` new edges,
 * `pruned` edges decay removed, `refused` new edges a full graph did not
 * take; all since wormholes_new(). */
typedef struct wormhole_stats {
    uint64_t edges;
    double total_strength, max_strength;
    uint64_t reinforcements, created, pruned, refused;
} wormhole_stats;

void wormholes_stats(const wormholes *w, wormhole_stats *s);

#endif
