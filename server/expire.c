/*
 * expire.c - the TTL commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (NX,
 * XX, GT, LT), TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST.
 *
 * An expiry lives in the value's header (keyspace.c), so it goes through
 * the WAL and snapshots with the value: setting one rewrites the value.
 * Expired keys go lazily (any access finds them due and deletes them) and
 * actively (main.c's background thread runs expire_cycle()).
 */
#include "command.h"
#include "keyspace.h"
#include "resp.h"

#include <string.h>

#define EX_NX 1
#define EX_XX 2
#define EX_GT 4
#define EX_LT 8

static bool parse_flags(wd_client *c, int *flags)
{
    *flags = 0;
    for (int i = 3; i < c->argc; i++) {
        if (arg_eq(c, i, "nx"))
            *flags |= EX_NX;
        else if (arg_eq(c, i, "xx"))
            *flags |= EX_XX;
        else if (arg_eq(c, i, "gt"))
            *flags |= EX_GT;
        else if (arg_eq(c, i, "lt"))
            *flags |= EX_LT;
        else {
            add_errorf(c, "ERR Unsupported option %s", c->argv[i]);
            return false;
        }
    }
    if ((*flags & EX_NX) && (*flags & (EX_XX | EX_GT | EX_LT))) {
        add_error(c, "ERR NX and XX, GT or LT options at the same time are "
                     "not compatible");
        return false;
    }
    if ((*flags & EX_GT) && (*flags & EX_LT)) {
        add_error(c, "ERR GT and LT options at the same time are not "
                     "compatible");
        return false;
    }
    return true;
}

/* Whether the flags allow replacing `cur` (0: none, i.e. infinite) by
 * `when`. */
static bool allowed(int flags, int64_t cur, int64_t when)
{
    if ((flags & EX_NX) && cur)
        return false;
    if ((flags & EX_XX) && !cur)
        return false;
    if ((flags & EX_GT) && (!cur || when <= cur))
        return false;
    if ((flags & EX_LT) && cur && when >= cur)
        return false;
    return true;
}

static void expire_generic(wd_client *c, int64_t unit, bool absolute)
{
    int64_t t, when, now = (int64_t)wd_now_ms();
    int flags, rc;
    uint32_t s;
    wd_value v;

    if (!arg_ll(c, 2, &t) || !parse_flags(c, &flags))
        return;
    if ((t > 0 && t > INT64_MAX / unit) || (t < 0 && t < INT64_MIN / unit)) {
        add_errorf(c, "ERR invalid expire time in '%s' command",
                   atomic_load_explicit(&c->lastcmd, memory_order_relaxed));
        return;
    }
    when = t * unit;
    if (!absolute) {
        if ((when > 0 && when > INT64_MAX - now)) {
            add_errorf(c, "ERR invalid expire time in '%s' command",
                       atomic_load_explicit(&c->lastcmd, memory_order_relaxed));
            return;
        }
        when += now;
    }
    s = key_stripe(c->argv[1], c->argvlen[1]);
    stripe_lock(s);
    rc = kv_lookup_locked(c, c->argv[1], c->argvlen[1], &v);
    if (rc == WARP_OK && !allowed(flags, v.expire, when)) {
        stripe_unlock(s);
        add_int(c, 0);
        return;
    }
    if (rc == WARP_OK && when <= now) {
        rc = kv_delete(c, c->argv[1], c->argvlen[1]);
    } else if (rc == WARP_OK) {
        char *p = kv_prepare(c, when, v.len);
        if (!p)
            rc = WARP_ENOMEM;
        else {
            memcpy(p, v.p, v.len);
            rc = kv_commit(c, c->argv[1], c->argvlen[1]);
        }
    }
    stripe_unlock(s);
    if (rc == WARP_NOTFOUND)
        add_int(c, 0);
    else if (rc != WARP_OK)
        add_engine_error(c, rc);
    else
        add_int(c, 1);
}

void expire_cmd(wd_client *c)
{
    expire_generic(c, 1000, false);
}

void pexpire_cmd(wd_client *c)
{
    expire_generic(c, 1, false);
}

void expireat_cmd(wd_client *c)
{
    expire_generic(c, 1000, true);
}

void pexpireat_cmd(wd_client *c)
{
    expire_generic(c, 1, true);
}

/* TTL-like replies: -2 no key, -1 no expiry. */
static void ttl_generic(wd_client *c, bool ms, bool absolute)
{
    wd_value v;
    int rc = kv_lookup(c, c->argv[1], c->argvlen[1], &v);
    int64_t left;

    if (rc == WARP_NOTFOUND) {
        add_int(c, -2);
        return;
    }
    if (rc != WARP_OK) {
        add_engine_error(c, rc);
        return;
    }
    if (!v.expire) {
        add_int(c, -1);
        return;
    }
    if (absolute) {
        add_int(c, ms ? v.expire : v.expire / 1000);
        return;
    }
    left = v.expire - (int64_t)wd_now_ms();
    if (left < 0)
        left = 0;
    add_int(c, ms ? left : (left + 500) / 1000);
}

void ttl_cmd(wd_client *c)
{
    ttl_generic(c, false, false);
}

void pttl_cmd(wd_client *c)
{
    ttl_generic(c, true, false);
}

void expiretime_cmd(wd_client *c)
{
    ttl_generic(c, false, true);
}

void pexpiretime_cmd(wd_client *c)
{
    ttl_generic(c, true, true);
}

void persist_cmd(wd_client *c)
{
    uint32_t s = key_stripe(c->argv[1], c->argvlen[1]);
    wd_value v;
    int rc;
    bool changed = false;

    stripe_lock(s);
    rc = kv_lookup_locked(c, c->argv[1], c->argvlen[1], &v);
    if (rc == WARP_OK && v.expire) {
        char *p = kv_prepare(c, 0, v.len);
        if (!p)
            rc = WARP_ENOMEM;
        else {
            memcpy(p, v.p, v.len);
            rc = kv_commit(c, c->argv[1], c->argvlen[1]);
            changed = rc == WARP_OK;
        }
    }
    stripe_unlock(s);
    if (rc != WARP_OK && rc != WARP_NOTFOUND)
        add_engine_error(c, rc);
    else
        add_int(c, changed ? 1 : 0);
}
