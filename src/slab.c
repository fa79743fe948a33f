/*
 * slab.c - size classes, per-class free lists, and the page pool.
 *
 * CLASSES
 *   Sizes are rounded up to a class. Steps grow with the size so that no
 *   class wastes more than 1/8 of a chunk (beyond the first, 8-byte steps):
 *       8 .. 128 by 8   (16 classes)     576 .. 1024 by 64   (8 classes)
 *     144 .. 256 by 16  (8 classes)     1152 .. 2048 by 128  (8 classes)
 *     288 .. 512 by 32  (8 classes)     2304 .. 4096 by 256  (8 classes)
 *
 * A free chunk's first 8 bytes link it into its class's free list.
 */
#include "slab.h"

#include <assert.h>
#include <string.h>
#include <sys/mman.h>

struct pool_region {
    struct pool_region *next;
    size_t size;
};

static unsigned size_class(size_t size)
{
    if (size <= 128)
        return size == 0 ? 0 : (unsigned)((size - 1) >> 3);
    /* 8 classes per doubling above 128: shift = log2 of the step */
    unsigned lg = 63u - (unsigned)__builtin_clzll(size - 1); /* >= 7 */
    unsigned shift = lg - 3;
    return 16 + (lg - 7) * 8 + (unsigned)(((size - 1) >> shift) & 7);
}

static size_t class_size(unsigned c)
{
    if (c < 16)
        return (size_t)(c + 1) << 3;
    unsigned group = (c - 16) / 8, idx = (c - 16) % 8;
    size_t base = (size_t)128 << group, step = base >> 3;
    return base + (idx + 1) * step;
}

int page_pool_init(page_pool *p, mem *m, bool huge_pages)
{
    memset(p, 0, sizeof(*p));
    p->m = m;
    p->huge_pages = huge_pages;
    return pthread_mutex_init(&p->lock, NULL) == 0 ? 0 : -1;
}

void page_pool_destroy(page_pool *p)
{
    struct pool_region *r = p->regions, *next;

    for (; r; r = next) {
        next = r->next;
        mem_free(p->m, r, r->size);
    }
    p->regions = NULL;
    pthread_mutex_destroy(&p->lock);
}

/* Ask for transparent huge pages on the 2 MiB-aligned part of [a, a+n). */
static void advise_huge(char *a, size_t n)
{
    const uintptr_t huge = 2u << 20;
    uintptr_t lo = ((uintptr_t)a + huge - 1) & ~(huge - 1);
    uintptr_t hi = ((uintptr_t)a + n) & ~(huge - 1);

    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

/* Take one SLAB_PAGE from the pool, adding a region if needed. */
static char *pool_page(page_pool *p)
{
    char *page = NULL;

    pthread_mutex_lock(&p->lock);
    if (p->end - p->cur < (ptrdiff_t)SLAB_PAGE) {
        struct pool_region *r = mem_alloc(p->m, POOL_REGION);
        if (!r)
            goto out;
        r->size = POOL_REGION;
        r->next = p->regions;
        p->regions = r;
        /* pages start on a page boundary after the header */
        uintptr_t start =
            ((uintptr_t)(r + 1) + SLAB_PAGE - 1) & ~(uintptr_t)(SLAB_PAGE - 1);
        p->cur = (char *)start;
        p->end = (char *)r + POOL_REGION;
        if (p->huge_pages)
            advise_huge(p->cur, (size_t)(p->end - p->cur));
    }
    page = p->cur;
    p->cur += SLAB_PAGE;
    p->pages_used++;
out:
    pthread_mutex_unlock(&p->lock);
    return page;
}

void slab_init(slab *s, page_pool *pool)
{
    memset(s, 0, sizeof(*s));
    s->pool = pool;
}

void *slab_alloc(slab *s, size_t size)
{
    if (slab_is_large(s, size)) {
        void *p = mem_alloc(s->pool->m, size);
        if (p)
            s->large_bytes += size;
        return p;
    }
    unsigned c = size_class(size);
    size_t csize = class_size(c);
    void *p = s->free_list[c];

    if (p) {
        memcpy(&s->free_list[c], p, sizeof(void *));
        return p;
    }
    if (s->bump_end[c] - s->bump[c] < (ptrdiff_t)csize) {
        char *page = pool_page(s->pool);
        if (!page)
            return NULL;
        s->page_bytes += SLAB_PAGE;
        s->bump[c] = page;
        s->bump_end[c] = page + SLAB_PAGE;
    }
    p = s->bump[c];
    s->bump[c] += csize;
    return p;
}

void slab_free(slab *s, void *p, size_t size)
{
    if (!p)
        return;
    if (slab_is_large(s, size)) {
        s->large_bytes -= size;
        mem_free(s->pool->m, p, size);
        return;
    }
    unsigned c = size_class(size);
    assert(c < SLAB_CLASSES);
    memcpy(p, &s->free_list[c], sizeof(void *));
    s->free_list[c] = p;
}
