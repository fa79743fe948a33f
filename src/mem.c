/* mem.c - the store's allocator hooks and their byte count. */
#include "mem.h"

#include <stdlib.h>
#include <string.h>

static void *default_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void default_release(void *ctx, void *p, size_t size)
{
    (void)ctx;
    (void)size;
    free(p);
}

void mem_init(mem *m, const warp_allocator *a)
{
    if (a && a->alloc && a->release) {
        m->a = *a;
    } else {
        m->a.alloc = default_alloc;
        m->a.release = default_release;
        m->a.ctx = NULL;
    }
    atomic_init(&m->bytes, 0);
}

void *mem_alloc(mem *m, size_t size)
{
    void *p = m->a.alloc(m->a.ctx, size ? size : 1);
    if (p)
        atomic_fetch_add_explicit(&m->bytes, size, memory_order_relaxed);
    return p;
}

void *mem_calloc(mem *m, size_t size)
{
    void *p = mem_alloc(m, size);
    if (p)
        memset(p, 0, size);
    return p;
}

void mem_free(mem *m, void *p, size_t size)
{
    if (!p)
        return;
    atomic_fetch_sub_explicit(&m->bytes, size, memory_order_relaxed);
    m->a.release(m->a.ctx, p, size ? size : 1);
}
