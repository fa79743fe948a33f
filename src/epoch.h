/*
 * epoch.h - epoch-based reclamation (EBR): lock-free reads with safe frees.
 *
 * Readers never lock. A reader brackets its access to shared structures with
 * epoch_enter()/epoch_exit(); inside, every pointer it loads stays valid.
 * A writer that unlinks memory does not free it at once: it retires it,
 * stamped with epoch_now(), and frees it once epoch_safe(stamp) is true,
 * which is when no reader that could have seen it is still inside.
 *
 * One domain serves the whole process, shared by every open store, so a
 * thread registers once. See epoch.c for the protocol and its proof.
 */
#ifndef WARP_EPOCH_H
#define WARP_EPOCH_H

#include <stdbool.h>
#include <stdint.h>

typedef struct epoch_thread epoch_thread;

/* Enter a read-side critical section. Nests. Returns the thread's record,
 * to pass to epoch_exit(); NULL only if the record could not be allocated
 * (the caller must then fail with WARP_ENOMEM). */
epoch_thread *epoch_enter(void);

/* Leave the section entered by the matching epoch_enter(). */
void epoch_exit(epoch_thread *t);

/* The current global epoch, the stamp for memory retired now. */
uint64_t epoch_now(void);

/* Try to advance the global epoch (it advances when every active reader has
 * seen the current one). Returns the global epoch afterwards. */
uint64_t epoch_advance(void);

/* Whether memory retired with stamp `e` can be freed, given the value
 * `now` returned by epoch_advance(). */
static inline bool epoch_safe(uint64_t e, uint64_t now)
{
    return now >= e + 2;
}

#endif
