/*
 * jsongen.h - JSON values shaped like upstream's large dataset.
 *
 * Upstream's large-dataset benchmark (../shared/reference/
 * upstream-benchmarks.md, section 1) loads twelve families of JSON
 * records: user, profile, settings, posts, product, category, inventory,
 * order, customer, order_items, metric and trend, 434 bytes on average.
 * jsongen_record() writes record `id` of family `id % JSON_FAMILIES` with
 * the same fields and about the same sizes: field names, ISO-8601 dates,
 * integers, floats with random digits, and text drawn from a vocabulary of
 * common English words. jsongen_sized() writes a posts-like record cut
 * or padded (with more posts) to a target size, for the 1 KiB values of
 * the tier benchmarks.
 *
 * Every value is a pure function of its arguments (seeded by the id), so
 * a benchmark can check what it reads back.
 */
#ifndef WARP_CLI_JSONGEN_H
#define WARP_CLI_JSONGEN_H

#include <stddef.h>
#include <stdint.h>

#define JSON_FAMILIES 12
#define JSON_MAX      8192 /* the largest record jsongen_record() writes */

/* The family name of record `id` ("user", "posts", ...). */
const char *jsongen_family(uint64_t id);

/* Write record `id` into buf (room for JSON_MAX bytes); returns its
 * length. Not NUL-terminated. */
size_t jsongen_record(uint64_t id, char *buf);

/* Write a posts-like record of exactly `size` bytes (size <= JSON_MAX)
 * into buf: whole posts while they fit, then the last field padded with
 * words. Returns `size`. */
size_t jsongen_sized(uint64_t id, size_t size, char *buf);

#endif
