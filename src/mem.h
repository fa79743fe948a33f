/*
 * mem.h - the store's allocator: every heap byte the engine holds for a store
 * goes through here, so that a test can fail the N-th allocation and so that
 * memory figures are counted, not estimated.
 */
#ifndef WARP_MEM_H
#define WARP_MEM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "warp.h"

typedef struct mem {
    warp_allocator a;
    _Atomic uint64_t bytes; /* outstanding bytes allocated through `a` */
} mem;

/* Use `a`, or malloc/free when a->alloc is NULL. */
void mem_init(mem *m, const warp_allocator *a);

/* Allocate `size` bytes; NULL on failure. */
void *mem_alloc(mem *m, size_t size);

/* Allocate `size` zeroed bytes; NULL on failure. */
void *mem_calloc(mem *m, size_t size);

/* Release `p` (NULL is accepted); `size` must be the size it was allocated
 * with. */
void mem_free(mem *m, void *p, size_t size);

#endif
