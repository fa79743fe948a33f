/*
 * slab.h - the item allocator: size classes carved from huge-page regions.
 *
 * Items (one header + key + value) up to SLAB_MAX bytes come from per-class
 * free lists and 64 KiB pages; larger ones go straight to the store's
 * allocator. Pages come from a page pool shared by the store's shards,
 * which takes 8 MiB regions from the allocator and asks the kernel to back
 * them with transparent huge pages, so that random reads over a large
 * store do not pay a TLB miss each.
 *
 * A slab belongs to one shard and is used under that shard's lock; the
 * page pool has its own small lock, taken once per 64 KiB page.
 * Pages go back to the pool only when the store closes.
 *
 * DIRECT MODE (a memory budget, maxmemory, is set: docs/TIERS.md): every
 * item, whatever its size, comes from the store's allocator, as large ones
 * do. A class's pages are never released, so an item that moves to a
 * smaller tier would leave its chunk free for its class alone; freed heap
 * memory is reusable by any size and can go back to the system.
 */
#ifndef WARP_SLAB_H
#define WARP_SLAB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem.h"

#define SLAB_MAX     4096 /* largest size served from classes */
#define SLAB_CLASSES 56
#define SLAB_PAGE    (64u << 10)
#define POOL_REGION  (8u << 20)

typedef struct page_pool {
    pthread_mutex_t lock;
    mem *m;
    bool huge_pages;
    struct pool_region *regions; /* every region, to free on close */
    char *cur;                   /* next free page in the newest region */
    char *end;
    uint64_t pages_used; /* pages handed out */
} page_pool;

typedef struct slab {
    page_pool *pool;
    void *free_list[SLAB_CLASSES];
    char *bump[SLAB_CLASSES]; /* next unused chunk in the class's page */
    char *bump_end[SLAB_CLASSES];
    uint64_t page_bytes;  /* bytes of pages this slab took */
    uint64_t large_bytes; /* bytes of large allocations live */
    bool direct;          /* every allocation is large (direct mode) */
} slab;

int page_pool_init(page_pool *p, mem *m, bool huge_pages);
void page_pool_destroy(page_pool *p);

void slab_init(slab *s, page_pool *pool);

/* Whether an allocation of `size` bytes bypasses the classes. */
static inline bool slab_is_large(const slab *s, size_t size)
{
    return size > SLAB_MAX || s->direct;
}

/* Allocate `size` bytes (at least 8-byte aligned). NULL on failure. */
void *slab_alloc(slab *s, size_t size);

/* Free `p`, allocated by slab_alloc(size) on any slab of the same pool. */
void slab_free(slab *s, void *p, size_t size);

/* Memory this slab holds: its pages plus its large allocations. */
static inline uint64_t slab_bytes(const slab *s)
{
    return s->page_bytes + s->large_bytes;
}

#endif
