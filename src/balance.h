/*
 * balance.h - the rebalancer's plan: which slots to move to which shards so
 * that the busiest shard carries less. Pure computation on the caller's
 * arrays; the physics thread applies the plan with the engine's slot moves.
 *
 * THE PLAN (greedy). A unit is a slot with load, together with the slots
 * of the same shard joined to it by wormhole edges of at least
 * keep_strength (transitively), so that slots used together stay on one
 * shard; units are formed once, from the starting owners. Then,
 * repeatedly: take the heaviest shard H and the lightest L, gap = load(H) -
 * load(L), and move from H to L the unit whose load x (< gap) is nearest
 * gap / 2. Moving x lowers the larger of the two by min(x, gap - x), so
 * that is the unit that lowers it most; H loses x and L ends below where H
 * was, so the busiest load never grows, and sum(load^2) falls by 2x(gap -
 * x) > 0 at every step, so the loop cannot cycle. It stops when H has no
 * such unit, the gap is rounding noise (1e-12 of the total), or the slot
 * budget is spent.
 *
 * Why nearest gap / 2 rather than the heaviest unit under the gap: that
 * unit can be almost the gap itself, which swaps H and L for a tiny gain
 * and sends the next move back. For the same final balance, on Zipf(0.8)
 * over 16 shards it planned 4,025 moves against 61, and on random loads
 * over 2 shards 2,147 against 14.
 *
 * The best any plan can do is max(1/nshards, the hottest slot's share):
 * one slot cannot be split. On a Zipf(0.99) load of 1M keys over 16
 * shards the greedy plan ends within 1.25x of that (tests check it).
 *
 * Cost: O(slots log slots) to sort, then per move O(nshards) to find H and
 * L plus a memmove in two shards' sorted unit lists; a few milliseconds
 * for 16384 slots and 16-64 shards.
 */
#ifndef WARP_BALANCE_H
#define WARP_BALANCE_H

#include <stddef.h>
#include <stdint.h>

#include "wormhole.h"

typedef struct balance_move {
    uint32_t slot, from, to;
} balance_move;

/* Plan moves for the load load[s] >= 0 of each of the WARP_SLOTS slots,
 * owned by owner[s] < nshards, as described above; `w` may be NULL (no
 * groups). Writes the moves into out in the order they were planned and
 * returns how many (at most max_moves). A slot appears at most once, with
 * its starting shard as `from` and its final one as `to`: a unit the plan
 * moved twice is moved once, and one it brought back not at all.
 *
 * Slots with zero load never move (nor do negative, NaN or infinite
 * loads, which count as zero, nor loads under 1e-12 of the total). Returns 0,
 * planning nothing, when nshards is 0, an owner is out of range, or the working
 * memory (about 1 MiB) cannot be allocated; if memory runs out midway, the
 * moves planned so far are returned, each of them valid. */
size_t balance_plan(const double *load, const uint16_t *owner, uint32_t nshards,
                    const wormholes *w, double keep_strength, balance_move *out,
                    size_t max_moves);

/* The busiest shard's share of the total load: 0 if the total is 0 (or,
 * for want of 8 bytes per shard, if out of memory). Slots whose owner is
 * out of range count in the total only. */
double balance_max_share(const double *load, const uint16_t *owner,
                         uint32_t nshards);

/* The best share a plan can reach: max(1/nshards, the hottest slot's share
 * of the total); 1/nshards when the total is 0, and 0 when nshards is. */
double balance_best_share(const double *load, uint32_t nshards);

#endif
