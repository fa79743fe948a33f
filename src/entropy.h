/*
 * entropy.h - the entropy of the shards' load: how evenly items, bytes and
 * operations are spread over the shards, its history, and its JSONL log.
 *
 * The physics thread fills one entropy_report per entropy_monitoring_interval
 * from its per-shard figures, asks this module for the trend and stability
 * over the recent reports, keeps the report in a ring, and appends it to
 * DIR/entropy/YYYY-MM-DD.jsonl. Everything here is pure computation on the
 * caller's memory, except entropy_append_jsonl(); none of it is
 * thread-safe on a shared history (the physics thread owns its history).
 *
 * Shannon entropy of a load vector w over n shards:
 *   H = -sum p_i log2 p_i,  p_i = w_i / sum(w)
 * log2(n) bits when every shard carries the same load, 0 when one shard
 * carries everything. The normalised entropy H / log2(n) lets stores with
 * different shard counts share one threshold (entropy_threshold).
 */
#ifndef WARP_ENTROPY_H
#define WARP_ENTROPY_H

#include <stddef.h>
#include <stdint.h>

#define ENTROPY_HISTORY 64

/* Shannon entropy in bits of the distribution w[i]/sum(w); 0 if the sum is
 * 0 or n < 2. Negative, NaN and infinite weights count as 0. */
double entropy_bits(const double *w, size_t n);

/* entropy_bits / log2(n), in [0,1]. For n < 2 it is 1.0: one shard is
 * perfectly balanced. With no load at all (the sum is 0) it is 0, like
 * entropy_bits. */
double entropy_norm(const double *w, size_t n);

typedef struct entropy_report {
    uint64_t t_ms;            /* wall clock, ms since the epoch */
    double items, bytes, ops; /* bits */
    double items_norm, bytes_norm, ops_norm;
    double trend, stability;
} entropy_report;

/* The last ENTROPY_HISTORY reports, a ring in which the oldest is
 * overwritten. `n` reports are held; `head` is where the next one goes, so
 * the oldest is r[(head + ENTROPY_HISTORY - n) % ENTROPY_HISTORY]. A zeroed
 * struct is an empty history. */
typedef struct entropy_history {
    entropy_report r[ENTROPY_HISTORY];
    size_t n, head;
} entropy_history;

/* Append a copy of *r, overwriting the oldest report when the ring is
 * full. */
void entropy_history_add(entropy_history *h, const entropy_report *r);

/* The newest report, or NULL if the history is empty. The pointer is into
 * *h and valid until the next entropy_history_add(). */
const entropy_report *entropy_history_last(const entropy_history *h);

/* The least-squares slope of ops_norm per report over the history, oldest
 * to newest, with `cur` as the newest point if it is not NULL. 0 with
 * fewer than 3 points: two points give a slope, but it is only noise. */
double entropy_trend(const entropy_history *h, const entropy_report *cur);

/* 1 - min(population variance of ops_norm over the history (and `cur` if
 * not NULL), 1); 1 with fewer than 2 points. */
double entropy_stability(const entropy_history *h, const entropy_report *cur);

/* Append one JSON line for *r to DIR/entropy/YYYY-MM-DD.jsonl, the UTC date
 * of r->t_ms, creating DIR/entropy if it is missing (DIR itself must
 * exist). Members: t_ms, items, bytes, ops, items_norm, bytes_norm,
 * ops_norm, trend, stability (a non-finite figure is written as null), then
 * `extra` if it is not NULL: a JSON fragment of further members without
 * braces, such as "\"rebalanced\":true", copied verbatim.
 *
 * The line reaches the file in one write(2) on a descriptor opened with
 * O_APPEND, so a concurrent reader sees whole lines (or none of the new
 * one) and concurrent appenders do not interleave. Returns 0 or -errno
 * (-ENOENT when DIR is missing, -ENOMEM, -EIO on a short write). */
int entropy_append_jsonl(const char *dir, const entropy_report *r,
                         const char *extra);

#endif
