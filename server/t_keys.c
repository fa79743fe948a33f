/*
 * t_keys.c - the generic key commands: DEL, UNLINK, EXISTS, TOUCH, TYPE,
 * KEYS, SCAN, RANDOMKEY, RENAME, RENAMENX.
 *
 * KEYS, SCAN and RANDOMKEY walk the store's keys with
 * warp_foreach_keys_from(), which visits the slots from a given one to
 * WARP_SLOTS-1 in order and reads no value (none from disk for a value in
 * deep_cache). SCAN's cursor is therefore a slot number: a call returns
 * the keys of whole slots, from the cursor's slot on, until COUNT keys are
 * collected, and the next slot as the new cursor (0 when the walk is
 * done). Every key present for the whole scan is returned exactly once, a
 * guarantee as strong as Redis's, and a call reads only the slots it
 * returns (and the first key of the slot where it stops). Reserved keys
 * are never shown, nor expired ones: after the walk, each key collected is
 * checked against the TTL index (keyspace.h), whose stripe lock must not
 * be taken under the shard locks the walk holds.
 */
#include "command.h"
#include "keyspace.h"
#include "resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lookup_exists(wd_client *c, const char *k, size_t klen)
{
    wd_value v;
    return kv_lookup(c, k, klen, &v);
}

/* DEL and UNLINK: the engine frees memory in the background anyway. */
void del_cmd(wd_client *c)
{
    int64_t deleted = 0;

    for (int i = 1; i < c->argc; i++) {
        uint32_t s = key_stripe(c->argv[i], c->argvlen[i]);
        wd_value v;
        stripe_lock(s);
        int rc = kv_lookup_locked(c, c->argv[i], c->argvlen[i], &v);
        if (rc == WARP_OK || rc == WD_ECORRUPT_VALUE)
            rc = kv_delete(c, c->argv[i], c->argvlen[i]);
        stripe_unlock(s);
        if (rc == WARP_OK)
            deleted++;
    }
    add_int(c, deleted);
}

/* EXISTS and TOUCH: a key named twice counts twice. */
void exists_cmd(wd_client *c)
{
    int64_t n = 0;

    for (int i = 1; i < c->argc; i++)
        if (lookup_exists(c, c->argv[i], c->argvlen[i]) == WARP_OK)
            n++;
    add_int(c, n);
}

void type_cmd(wd_client *c)
{
    int rc = lookup_exists(c, c->argv[1], c->argvlen[1]);
    add_simple(c, rc == WARP_OK ? "string" : "none");
}

/* ------------------------------------------------------------------------ */
/* Walking the store                                                         */
/* ------------------------------------------------------------------------ */

typedef struct walk {
    wd_buf keys; /* [u32 len][bytes] ... */
    size_t nkeys;
    const char *pat; /* NULL: every key */
    size_t plen;
    uint64_t count;     /* stop after the slot where this many are collected */
    uint32_t next_slot; /* where it stopped: the next cursor; 0 at the end */
    uint32_t cur_slot;
    uint64_t now;
    bool oom;
} walk;

static bool walk_push(walk *w, const void *k, size_t klen)
{
    uint32_t n = (uint32_t)klen;
    if (!buf_reserve(&w->keys, klen + 4)) {
        w->oom = true;
        return false;
    }
    memcpy(w->keys.p + w->keys.len, &n, 4);
    memcpy(w->keys.p + w->keys.len + 4, k, klen);
    w->keys.len += klen + 4;
    w->nkeys++;
    return true;
}

static int walk_fn(void *ctx, const void *key, size_t klen, size_t vlen,
                   const warp_placement *where)
{
    walk *w = ctx;

    (void)vlen;
    if (where->slot != w->cur_slot) {
        /* a new slot: stop here if the previous ones gave enough */
        if (w->count && w->nkeys >= w->count) {
            w->next_slot = where->slot;
            return 1;
        }
        w->cur_slot = where->slot;
    }
    if (key_reserved(key, klen))
        return 0;
    if (w->pat && !glob_match(w->pat, w->plen, key, klen, false))
        return 0;
    return walk_push(w, key, klen) ? 0 : 1;
}

/* Walk the keys from slot `first` on, then drop the ones whose expiry is
 * due (no engine lock is held any more). */
static void walk_from(walk *w, uint32_t first)
{
    size_t in = 0, out = 0, kept = 0;

    warp_foreach_keys_from(server.db, first, walk_fn, w);
    if (w->oom || ttl_count() == 0)
        return;
    for (size_t i = 0; i < w->nkeys; i++) {
        uint32_t n;
        memcpy(&n, w->keys.p + in, 4);
        int64_t expire = ttl_of(w->keys.p + in + 4, n);
        if (!expire || (uint64_t)expire > w->now) {
            memmove(w->keys.p + out, w->keys.p + in, 4 + (size_t)n);
            out += 4 + (size_t)n;
            kept++;
        }
        in += 4 + (size_t)n;
    }
    w->keys.len = out;
    w->nkeys = kept;
}

static void add_walked_keys(wd_client *c, walk *w)
{
    size_t off = 0;

    add_array(c, (int64_t)w->nkeys);
    for (size_t i = 0; i < w->nkeys; i++) {
        uint32_t n;
        memcpy(&n, w->keys.p + off, 4);
        add_bulk(c, w->keys.p + off + 4, n);
        off += 4 + n;
    }
}

void keys_cmd(wd_client *c)
{
    walk w = {.now = wd_now_ms(), .cur_slot = UINT32_MAX};
    bool all = c->argvlen[1] == 1 && c->argv[1][0] == '*';

    if (!all) {
        w.pat = c->argv[1];
        w.plen = c->argvlen[1];
    }
    walk_from(&w, 0);
    if (w.oom)
        add_engine_error(c, WARP_ENOMEM);
    else
        add_walked_keys(c, &w);
    buf_free(&w.keys);
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] */
void scan_cmd(wd_client *c)
{
    walk w = {.now = wd_now_ms(), .count = 10, .cur_slot = UINT32_MAX};
    int64_t cursor, count;
    char cur[24];
    bool none = false;

    if (!str_to_ll(c->argv[1], c->argvlen[1], &cursor) || cursor < 0) {
        add_error(c, "ERR invalid cursor");
        return;
    }
    for (int i = 2; i < c->argc; i += 2) {
        if (i + 1 >= c->argc) {
            add_syntax_error(c);
            return;
        }
        if (arg_eq(c, i, "match")) {
            w.pat = c->argv[i + 1];
            w.plen = c->argvlen[i + 1];
            if (w.plen == 1 && w.pat[0] == '*')
                w.pat = NULL;
        } else if (arg_eq(c, i, "count")) {
            if (!arg_ll(c, i + 1, &count))
                return;
            if (count < 1) {
                add_syntax_error(c);
                return;
            }
            w.count = (uint64_t)count;
        } else if (arg_eq(c, i, "type")) {
            none = !arg_eq(c, i + 1, "string");
        } else {
            add_syntax_error(c);
            return;
        }
    }
    if (cursor >= WARP_SLOTS) {
        cursor = WARP_SLOTS; /* past the end: an empty, final page */
        none = true;
    }
    if (!none)
        walk_from(&w, (uint32_t)cursor);
    if (w.oom) {
        add_engine_error(c, WARP_ENOMEM);
        buf_free(&w.keys);
        return;
    }
    if (none)
        w.nkeys = 0;
    snprintf(cur, sizeof cur, "%u", w.next_slot);
    add_array(c, 2);
    add_bulk_str(c, cur);
    add_walked_keys(c, &w);
    buf_free(&w.keys);
}

/* The first key shown from a random slot on, wrapping around once: the
 * walk takes one slot with keys at a time (COUNT 1), until one of them is
 * not expired. */
void randomkey_cmd(wd_client *c)
{
    uint32_t r = (uint32_t)(((uint64_t)wd_mono_ms() * 0x9E3779B97F4A7C15ull ^
                             c->id * 0xff51afd7ed558ccdull) >>
                            40) %
                 WARP_SLOTS;
    uint32_t from = r;
    bool wrapped = r == 0;
    walk w;

    for (;;) {
        w = (walk){.now = wd_now_ms(), .count = 1, .cur_slot = UINT32_MAX};
        walk_from(&w, from);
        if (w.nkeys > 0 || w.oom)
            break;
        buf_free(&w.keys);
        if (w.next_slot) { /* that slot's keys were all expired */
            from = w.next_slot;
        } else if (!wrapped) { /* none from r on: from the first slot */
            from = 0;
            wrapped = true;
        } else {
            break;
        }
    }
    if (w.oom) {
        add_engine_error(c, WARP_ENOMEM);
    } else if (w.nkeys == 0) {
        add_null(c);
    } else {
        uint32_t n;
        memcpy(&n, w.keys.p, 4);
        add_bulk(c, w.keys.p + 4, n);
    }
    buf_free(&w.keys);
}

/* ------------------------------------------------------------------------ */
/* RENAME                                                                    */
/* ------------------------------------------------------------------------ */

static void rename_generic(wd_client *c, bool nx)
{
    uint32_t ids[2];
    size_t n = stripes_lock_keys(c, 1, 2, 1, ids);
    wd_value v, d;
    int rc;
    bool same = c->argvlen[1] == c->argvlen[2] &&
                memcmp(c->argv[1], c->argv[2], c->argvlen[1]) == 0;

    if (nx && !same) {
        rc = kv_lookup_locked(c, c->argv[2], c->argvlen[2], &d);
        if (rc == WARP_OK) {
            /* the source must still exist for the answer 0 */
            rc = kv_lookup_locked(c, c->argv[1], c->argvlen[1], &v);
            stripes_unlock(ids, n);
            if (rc == WARP_NOTFOUND)
                add_error(c, "ERR no such key");
            else
                add_int(c, 0);
            return;
        }
    }
    rc = kv_lookup_locked(c, c->argv[1], c->argvlen[1], &v);
    if (rc == WARP_OK && same) {
        stripes_unlock(ids, n);
        if (nx)
            add_int(c, 0);
        else
            add_ok(c);
        return;
    }
    if (rc == WARP_OK)
        rc = kv_put_raw(c, c->argv[2], c->argvlen[2], v.raw, v.rawlen);
    if (rc == WARP_OK)
        rc = kv_delete(c, c->argv[1], c->argvlen[1]);
    stripes_unlock(ids, n);
    if (rc == WARP_NOTFOUND)
        add_error(c, "ERR no such key");
    else if (rc != WARP_OK)
        add_engine_error(c, rc);
    else if (nx)
        add_int(c, 1);
    else
        add_ok(c);
}

void rename_cmd(wd_client *c)
{
    rename_generic(c, false);
}

void renamenx_cmd(wd_client *c)
{
    rename_generic(c, true);
}
