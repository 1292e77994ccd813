/*
 * wait.h - a condition variable whose timed wait takes a deadline on the
 * hnp_monotonic_ms() clock.
 *
 * pthread_cond_timedwait() wants an absolute time on the clock the
 * condition variable was made with. The monotonic clock is asked for
 * (setting the system time must not stretch or cut a wait); where the
 * threads library has none for condition variables (winpthreads) the
 * realtime clock is used and the deadline converted to it at each wait.
 * Callers keep their own mutex and predicate, as with pthread_cond_t:
 *
 *     pthread_mutex_lock(&mu);
 *     while (!ready && hnp_cond_wait_until(&cond, &mu, deadline))
 *         ;
 *     pthread_mutex_unlock(&mu);
 */
#ifndef HNP_WAIT_H
#define HNP_WAIT_H

#include <pthread.h>
#include <stdbool.h>

#include "hnsnetpol/error.h"

struct hnp_cond {
    pthread_cond_t cv;
    bool monotonic; /* cv waits on CLOCK_MONOTONIC, else on CLOCK_REALTIME */
};

/* Initialise cond (caller-owned storage). HNP_ERR_NOMEM when the library cannot make one. */
enum hnp_err hnp_cond_init(struct hnp_cond *cond);

/* Destroy an initialised cond that nobody waits on. */
void hnp_cond_destroy(struct hnp_cond *cond);

/* Wake one waiter / every waiter (callers usually hold the mutex). */
void hnp_cond_signal(struct hnp_cond *cond);
void hnp_cond_broadcast(struct hnp_cond *cond);

/* Wait without a deadline; mu (held by the caller) is released while waiting. */
void hnp_cond_wait(struct hnp_cond *cond, pthread_mutex_t *mu);

/*
 * Wait, mu (held by the caller) released meanwhile, until woken or until
 * hnp_monotonic_ms() reaches deadline_ms. Returns false once the deadline
 * has passed (at once when it already had), true otherwise - woken, or
 * possibly spuriously: re-check the predicate and call again.
 */
bool hnp_cond_wait_until(struct hnp_cond *cond, pthread_mutex_t *mu, long long deadline_ms);

#endif /* HNP_WAIT_H */
