/*
 * entangle.h - the entanglement graph (co-access graph and related-key
 * fetch): explicit, rule and learned edges between keys, and
 * warp_quantum_get(). The design, the record format and the learning
 * rules are at the top of entangle.c; the API is in warp.h.
 *
 * Two halves:
 *   - the API (warp_entangle, warp_unentangle, warp_quantum_get): any
 *     thread. Reads are lock-free (epoch sections); edits of the stored
 *     edge lists are serialised by one mutex.
 *   - the learner: the physics thread feeds it co-access pairs while it
 *     drains the fact rings (entangle_coaccess), and once per
 *     physics_update_interval lets it turn them into learned edges and
 *     prune decayed ones (entangle_round). Only that thread calls these.
 */
#ifndef WARP_ENTANGLE_H
#define WARP_ENTANGLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

/* Set up db->ent. Returns WARP_OK or WARP_ENOMEM. */
int entangle_open(warp_db *db);

/* Free db->ent; NULL is accepted. After the physics thread has stopped. */
void entangle_close(warp_db *db);

/* Whether the learner wants co-access pairs (entanglement_learning). */
bool entangle_learning(const entangle *e);

/* Physics thread: key `ha` (slot `sa`) was read right before key `hb`
 * (slot `sb`) by one thread. Counts the pair for this round; never
 * allocates, never blocks. */
void entangle_coaccess(entangle *e, uint64_t ha, uint32_t sa, uint64_t hb,
                       uint32_t sb);

/* Physics thread, once per physics_update_interval, holding no lock:
 * make or strengthen the learned edges of the pairs seen often enough,
 * remove learned edges that decayed below the floor, and start a new
 * round. Writes the edge lists it changes with one warp_put_batch(). */
void entangle_round(warp_db *db);

/* The stored edge list (docs/FORMATS.md), for white-box tests. */
#define ENT_REC_VERSION   1
#define ENT_KIND_EXPLICIT 1
#define ENT_KIND_LEARNED  2

#endif
