/*
 * keyspace.h - how warpd stores a Redis string in the engine: the value
 * encoding (a flags byte and an optional expiry), the key stripes that
 * serialise writers of one key, and the per-stripe index of keys with an
 * expiry (the TTL index). docs/FORMATS.md, "warpd values", is the format.
 */
#ifndef WARPD_KEYSPACE_H
#define WARPD_KEYSPACE_H

#include "server.h"

/* Value flags (the first byte of every value warpd stores). */
#define VAL_F_EXPIRES                                                          \
    0x01 /* an 8-byte little-endian expiry (Unix ms)                           \
          * follows the flags byte */
#define VAL_F_KNOWN VAL_F_EXPIRES

/* A result code of warpd's own: a stored value not in warpd's format. */
#define WD_ECORRUPT_VALUE (-100)

/* The key that marks a store as warpd's (its values are encoded). */
#define WD_MARKER_KEY   "\xff\xfdwarpd:format"
#define WD_MARKER_KLEN  (sizeof(WD_MARKER_KEY) - 1)
#define WD_MARKER_VALUE "warpd-values 1"

#define WD_STRIPES 1024

/* A decoded value. `raw` is the stored bytes, `p` the string in them. */
typedef struct wd_value {
    const char *raw;
    size_t rawlen;
    const char *p;
    size_t len;
    int64_t expire; /* Unix ms; 0: no expiry */
} wd_value;

/* Decode stored bytes. Returns 0, or -1 if they are not a warpd value. */
int value_decode(const char *raw, size_t rawlen, wd_value *v);

/* Whether a key is the engine's or warpd's own (`\xff\xfe...`, the marker):
 * warpd neither shows nor writes it. */
bool key_reserved(const char *k, size_t klen);

uint64_t key_hash(const char *k, size_t klen);
uint32_t key_stripe(const char *k, size_t klen);

/* Lock the stripes of keys argv[first], argv[first+step], ... up to
 * argv[last] (inclusive): their mutexes in ascending order, each once.
 * `ids` receives the locked mutexes' ids (room for the keys' count);
 * returns how many (at most 32). */
size_t stripes_lock_keys(wd_client *c, int first, int last, int step,
                         uint32_t *ids);
void stripes_unlock(const uint32_t *ids, size_t n);
void stripe_lock(uint32_t id);
void stripe_unlock(uint32_t id);

/* Look a key up without a lock (a reader). The value lives in the loop's
 * read buffer until the next lookup on this loop. An expired value is
 * deleted (taking its stripe lock) and reported missing. Returns WARP_OK,
 * WARP_NOTFOUND, WD_ECORRUPT_VALUE, or an engine error. */
int kv_lookup(wd_client *c, const char *k, size_t klen, wd_value *v);

/* The same, for a caller that holds the key's stripe lock. */
int kv_lookup_locked(wd_client *c, const char *k, size_t klen, wd_value *v);

/* Start a value to write: returns where its `len` string bytes go (in the
 * loop's write buffer), or NULL when out of memory. Then kv_commit(). */
char *kv_prepare(wd_client *c, int64_t expire, size_t len);

/* Store the prepared value under `k`, updating the TTL index. The caller
 * holds the key's stripe lock. Returns WARP_OK or an engine error. */
int kv_commit(wd_client *c, const char *k, size_t klen);

/* Store stored bytes as they are (RENAME keeps the expiry). Locked. */
int kv_put_raw(wd_client *c, const char *k, size_t klen, const char *raw,
               size_t rawlen);

/* Delete `k` (locked). WARP_OK if it existed, WARP_NOTFOUND, or an
 * error. Updates the TTL index. */
int kv_delete(wd_client *c, const char *k, size_t klen);

/* MSET: store argv[1..] as key value pairs, no expiry, with one
 * all-or-nothing warp_put_batch(). The caller holds their stripes. */
int kv_mset(wd_client *c);

/* Reply for an engine or decode error. */
void add_engine_error(wd_client *c, int rc);

/* The keys a user sees (DBSIZE, INFO keyspace), in O(1): the engine's
 * count less its own keys (warp_stats.internal_keys) and the marker. */
uint64_t keyspace_user_keys(void);

/* The TTL index: keys with an expiry, per stripe, kept exact under the
 * stripe's lock. */
size_t ttl_count(void);
/* k's expiry from the index (Unix ms), 0 if it has none; takes k's
 * stripe lock, so the caller holds no engine lock (KEYS, SCAN). */
int64_t ttl_of(const char *k, size_t klen);
/* Rebuild it from the store, expire what is already due, check the store
 * marker (adopting a plain store if cfg.adopt). Returns 0 or -1 (logged). */
int keyspace_load(void);
/* One active expiry pass: samples keys with an expiry and deletes the due
 * ones, for at most budget_ms. Returns keys deleted. */
uint64_t expire_cycle(uint64_t budget_ms);
void keyspace_free(void);

#endif /* WARPD_KEYSPACE_H */
