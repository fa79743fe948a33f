/*
 * t_quantum.c - the entanglement graph over RESP (docs/ENTANGLEMENT.md):
 * QGET, ENTANGLE, UNENTANGLE.
 *
 *   QGET key [MAX n] [MINSTRENGTH s]
 *     One warp_quantum_get(): the key and its strongest partners, read
 *     together. Reply: nil when the key does not exist (or has expired),
 *     else a 2-element array
 *       [value, [[partner, value-or-nil, strength], ...]]
 *     with the partners strongest first; strength is a RESP3 double, or a
 *     bulk string in RESP2. Partner values are warpd values like any other:
 *     decoded as GET decodes them, and a partner that has expired (or that
 *     does not exist) has a nil value.
 *   ENTANGLE primary key [key ...] [STRENGTH s]
 *     warp_entangle() at s (default 1.0): explicit edges primary <-> each
 *     key. Reply: the entanglement id, 16 hex digits (the id is an
 *     unsigned 64-bit hash, which a RESP integer cannot always hold).
 *   UNENTANGLE primary [key ...|ALL]
 *     warp_unentangle(): the stored edges between primary and each key,
 *     or all of primary's (no key, or ALL). Reply: 1 if an edge was
 *     removed, 0 if there was none. Rule edges are configuration and stay.
 *
 * Edges are stored by the engine under its own keys, so they go through
 * the WAL and snapshots; warpd adds nothing of its own to them.
 */
#include "command.h"
#include "keyspace.h"
#include "resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENTANGLE_DEFAULT_STRENGTH 1.0

/* Parse QGET's options from argv[2..]. Replies and returns false on error. */
static bool qget_options(wd_client *c, size_t *max, double *min_strength)
{
    for (int i = 2; i < c->argc; i += 2) {
        int64_t n;
        double s;

        if (i + 1 >= c->argc) {
            add_syntax_error(c);
            return false;
        }
        if (arg_eq(c, i, "max")) {
            if (!str_to_ll(c->argv[i + 1], c->argvlen[i + 1], &n) || n < 0 ||
                n > WARP_QUANTUM_MAX) {
                add_errorf(c, "ERR MAX must be an integer from 0 to %d",
                           WARP_QUANTUM_MAX);
                return false;
            }
            *max = (size_t)n;
        } else if (arg_eq(c, i, "minstrength")) {
            if (!str_to_double(c->argv[i + 1], c->argvlen[i + 1], &s) ||
                s < 0) {
                add_error(c, "ERR MINSTRENGTH must be a number >= 0");
                return false;
            }
            *min_strength = s;
        } else {
            add_syntax_error(c);
            return false;
        }
    }
    return true;
}

/* Decode a partner's stored bytes into *v. False when it has no live
 * warpd value: not found, expired, or not in warpd's format. */
static bool partner_value(const warp_quantum_partner *p, uint64_t now,
                          wd_value *v)
{
    if (p->rc != WARP_OK || !p->val)
        return false;
    if (value_decode(p->val, p->vlen, v) != 0)
        return false;
    return !(v->expire && (uint64_t)v->expire <= now);
}

/* Reply the partners of a quantum get; returns how many had a value. */
static uint64_t add_partners(wd_client *c, const warp_quantum_result *r,
                             uint64_t now)
{
    uint64_t found = 0;
    size_t n = 0;

    for (size_t i = 0; i < r->npartners; i++)
        n += !key_reserved(r->partners[i].key, r->partners[i].klen);
    add_array(c, (int64_t)n);
    for (size_t i = 0; i < r->npartners; i++) {
        const warp_quantum_partner *p = &r->partners[i];
        wd_value v;
        if (key_reserved(p->key, p->klen))
            continue;
        add_array(c, 3);
        add_bulk(c, p->key, p->klen);
        if (partner_value(p, now, &v)) {
            add_bulk(c, v.p, v.len);
            found++;
        } else {
            add_null(c);
        }
        add_double(c, p->strength);
    }
    return found;
}

/* The quantum get of argv[1] into *r, its value decoded into *v. A value
 * found expired is deleted (kv_lookup(), under its stripe lock) and the
 * key reported missing; if it was rewritten meanwhile, read once more.
 * Returns WARP_OK (*r to free), WARP_NOTFOUND or an error (*r NULL). */
static int quantum_read(wd_client *c, size_t max, double min_strength,
                        uint64_t now, warp_quantum_result **r, wd_value *v)
{
    for (int tries = 0;; tries++) {
        int rc = warp_quantum_get(server.db, c->argv[1], c->argvlen[1], max,
                                  min_strength, r);
        if (rc != WARP_OK)
            return rc;
        if (value_decode((*r)->value, (*r)->vlen, v) != 0)
            rc = WD_ECORRUPT_VALUE;
        else if (!(v->expire && (uint64_t)v->expire <= now))
            return WARP_OK;
        warp_quantum_free(*r);
        *r = NULL;
        if (rc == WARP_OK)
            rc = kv_lookup(c, c->argv[1], c->argvlen[1], v);
        if (rc != WARP_OK || tries > 0)
            return rc == WARP_OK ? WARP_NOTFOUND : rc;
    }
}

void qget_cmd(wd_client *c)
{
    size_t max = WARP_QUANTUM_MAX_DEFAULT;
    double min_strength = WARP_QUANTUM_MIN_DEFAULT;
    warp_quantum_result *r = NULL;
    uint64_t now = wd_now_ms(), found;
    wd_value v;
    int rc;

    if (!qget_options(c, &max, &min_strength))
        return;
    rc = quantum_read(c, max, min_strength, now, &r, &v);
    if (rc == WARP_NOTFOUND) {
        STAT_ADD(&c->loop->stats, misses, 1);
        add_null_array(c);
        return;
    }
    if (rc != WARP_OK) {
        add_engine_error(c, rc);
        return;
    }
    STAT_ADD(&c->loop->stats, hits, 1);
    add_array(c, 2);
    add_bulk(c, v.p, v.len);
    found = add_partners(c, r, now);
    STAT_ADD(&c->loop->stats, qgets, 1);
    STAT_ADD(&c->loop->stats, qget_partners, r->npartners);
    STAT_ADD(&c->loop->stats, qget_found, found);
    warp_quantum_free(r);
}

/* The keys of argv[first .. last], as the engine takes them; NULL when out
 * of memory (replied). */
static warp_key *key_list(wd_client *c, int first, int last)
{
    size_t n = (size_t)(last - first + 1);
    warp_key *keys = malloc(n * sizeof *keys);

    if (!keys) {
        add_engine_error(c, WARP_ENOMEM);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        keys[i] =
            (warp_key){c->argv[first + (int)i], c->argvlen[first + (int)i]};
    return keys;
}

/* Reply for a warp_entangle()/warp_unentangle() error. */
static void add_entangle_error(wd_client *c, int rc)
{
    if (rc == WARP_EINVAL)
        add_error(c, "ERR a partner equal to the primary, a reserved key, "
                     "or too many keys");
    else if (rc == WARP_ETOOBIG)
        add_error(c, "ERR too many edges on one key, or a key longer than "
                     "max_key_size");
    else
        add_engine_error(c, rc);
}

void entangle_cmd(wd_client *c)
{
    double strength = ENTANGLE_DEFAULT_STRENGTH;
    int last = c->argc - 1;
    uint64_t id = 0;
    warp_key *keys;
    char hex[17];
    int rc;

    if (c->argc >= 5 && arg_eq(c, c->argc - 2, "strength")) {
        if (!str_to_double(c->argv[c->argc - 1], c->argvlen[c->argc - 1],
                           &strength) ||
            !(strength > 0 && strength <= WARP_STRENGTH_MAX)) {
            add_errorf(c, "ERR STRENGTH must be a number in (0, %g]",
                       WARP_STRENGTH_MAX);
            return;
        }
        last -= 2;
    }
    if (last - 1 > WARP_ENTANGLE_MAX) {
        add_errorf(c, "ERR at most %d partners per ENTANGLE",
                   WARP_ENTANGLE_MAX);
        return;
    }
    if (!(keys = key_list(c, 2, last)))
        return;
    rc = warp_entangle(server.db, c->argv[1], c->argvlen[1], keys,
                       (size_t)(last - 1), strength, &id);
    free(keys);
    if (rc != WARP_OK) {
        add_entangle_error(c, rc);
        return;
    }
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)id);
    add_bulk(c, hex, 16);
}

void unentangle_cmd(wd_client *c)
{
    bool all = c->argc == 2 || (c->argc == 3 && arg_eq(c, 2, "all"));
    warp_key *keys = NULL;
    int rc;

    if (!all && !(keys = key_list(c, 2, c->argc - 1)))
        return;
    rc = warp_unentangle(server.db, c->argv[1], c->argvlen[1], keys,
                         all ? 0 : (size_t)(c->argc - 2));
    free(keys);
    if (rc == WARP_OK || rc == WARP_NOTFOUND)
        add_int(c, rc == WARP_OK);
    else
        add_entangle_error(c, rc);
}
