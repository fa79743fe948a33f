/*
 * epoch.c - epoch-based reclamation.
 *
 * PROTOCOL
 *   A global counter G starts at 1 and only grows. Each thread that reads has
 *   a record holding `active`: 0 when outside a read section, else the value
 *   of G it saw when it entered.
 *
 *   enter:   e = G; record.active = e; full fence; then loads
 *   exit:    record.active = 0                 (release store)
 *   retire:  unlink the object from every shared structure, full fence,
 *            then stamp it with r = G.
 *   advance: if every record has active == 0 or active == G, CAS G -> G+1.
 *   free:    an object stamped r may be freed once G >= r + 2.
 *
 * WHY IT IS SAFE
 *   G can go from r+1 to r+2 only when every active reader announced r+1 or
 *   more, that is, it entered after G became r+1, which is after the object
 *   was stamped r, so after it was unlinked: such a reader can never find it.
 *   Readers that entered earlier must have left before G could pass r+1.
 *   The fence at enter orders the announcement before the reader's loads
 *   of shared pointers, and the one at retire (in epoch_now()) orders the
 *   unlink before the stamp's load: the two store-load orders the scheme
 *   needs, which neither release/acquire nor a seq_cst store alone give.
 *
 * RECORDS
 *   Records live in a lock-free, insert-only list, one per thread that ever
 *   read. A thread's record is freed for reuse by the pthread key destructor
 *   when the thread exits; records themselves are never freed, so the list
 *   can be walked without locks. Memory: one 64-byte record per thread. A
 *   destructor of the caller's that runs after ours and reads again gets a
 *   record afresh (record_release()).
 */
#include "epoch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct epoch_thread {
    _Atomic uint64_t active; /* 0, or the epoch seen at enter */
    uint32_t depth;          /* nesting, touched only by the owner */
    _Atomic int in_use;      /* owned by a live thread */
    struct epoch_thread *next;
} __attribute__((aligned(64)));

static _Atomic uint64_t global_epoch = 1;
static _Atomic(epoch_thread *) records;
static pthread_key_t record_key;
static bool key_ok; /* record_key was created */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static _Thread_local epoch_thread *self
    __attribute__((tls_model("initial-exec")));

static void record_release(void *arg)
{
    epoch_thread *t = arg;
    atomic_store_explicit(&t->active, 0, memory_order_release);
    atomic_store_explicit(&t->in_use, 0, memory_order_release);
    /* Another thread-exit destructor that runs after this one may still
     * read a store. It must not use the record just let go, which another
     * thread may adopt now (its exit would end that thread's read
     * section): forget it, so that epoch_enter() takes a record afresh,
     * which arms this destructor again. */
    self = NULL;
}

/* Should the process have used up its pthread keys, this fails and no
 * record is released at thread exit: each later thread then takes a new
 * record, 64 bytes that stay in the list (active 0, so they never hold
 * an epoch back). A leak of a record per thread is the better failure:
 * refusing every read section would make the store unusable. Without a
 * key, record_key holds no key of ours (perhaps another library's), so
 * nothing may be stored under it. */
static void key_create(void)
{
    key_ok = pthread_key_create(&record_key, record_release) == 0;
}

/* Adopt a free record or push a new one. NULL on allocation failure. */
static epoch_thread *record_acquire(void)
{
    epoch_thread *t;

    pthread_once(&key_once, key_create);
    for (t = atomic_load(&records); t; t = t->next) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&t->in_use, &expected, 1))
            goto adopted;
    }
    t = aligned_alloc(64, sizeof(*t));
    if (!t)
        return NULL;
    atomic_init(&t->active, 0);
    atomic_init(&t->in_use, 1);
    t->next = atomic_load(&records);
    while (!atomic_compare_exchange_weak(&records, &t->next, t))
        ;
adopted:
    t->depth = 0;
    if (key_ok)
        (void)pthread_setspecific(record_key, t);
    return t;
}

epoch_thread *epoch_enter(void)
{
    epoch_thread *t = self;

    if (__builtin_expect(!t, 0)) {
        t = self = record_acquire();
        if (!t)
            return NULL;
    }
    if (t->depth++ == 0) {
        uint64_t e = atomic_load_explicit(&global_epoch, memory_order_relaxed);
        atomic_store_explicit(&t->active, e, memory_order_relaxed);
        /* the announcement before the section's loads of shared pointers:
         * a store-load order, which only a full fence gives (a seq_cst
         * store alone does not order a later acquire load of another
         * object in C11, nor on POWER or ARMv8.3 with LDAPR) */
        atomic_thread_fence(memory_order_seq_cst);
    }
    return t;
}

void epoch_exit(epoch_thread *t)
{
    if (--t->depth == 0)
        atomic_store_explicit(&t->active, 0, memory_order_release);
}

uint64_t epoch_now(void)
{
    /* the caller's unlink (a release store) before this load of the
     * stamp: a store-load order again (x86 lets a load pass an earlier
     * store still in the store buffer) */
    atomic_thread_fence(memory_order_seq_cst);
    return atomic_load_explicit(&global_epoch, memory_order_seq_cst);
}

uint64_t epoch_advance(void)
{
    uint64_t e = atomic_load_explicit(&global_epoch, memory_order_seq_cst);

    for (epoch_thread *t = atomic_load(&records); t; t = t->next) {
        uint64_t a = atomic_load_explicit(&t->active, memory_order_seq_cst);
        if (a != 0 && a != e)
            return e;
    }
    if (atomic_compare_exchange_strong(&global_epoch, &e, e + 1))
        return e + 1;
    return e; /* someone else advanced; e now holds the newer value */
}
