/*
 * wait.c - the condition variable of wait.h: timed waits on the monotonic
 * clock where the threads library can, on the realtime clock otherwise.
 * Portable pthreads (winpthreads on Windows), so one file for every platform.
 */
#define _POSIX_C_SOURCE 200809L

#include "wait.h"

#include <errno.h>
#include <time.h>

#include "platform.h"

enum hnp_err hnp_cond_init(struct hnp_cond *cond)
{
    pthread_condattr_t attr;
    bool have_attr = pthread_condattr_init(&attr) == 0;
    cond->monotonic = have_attr && pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0;
    int rc = pthread_cond_init(&cond->cv, cond->monotonic ? &attr : NULL);
    if (have_attr)
        pthread_condattr_destroy(&attr);
    return rc == 0 ? HNP_OK : HNP_ERR_NOMEM;
}

void hnp_cond_destroy(struct hnp_cond *cond)
{
    pthread_cond_destroy(&cond->cv);
}

void hnp_cond_signal(struct hnp_cond *cond)
{
    pthread_cond_signal(&cond->cv);
}

void hnp_cond_broadcast(struct hnp_cond *cond)
{
    pthread_cond_broadcast(&cond->cv);
}

void hnp_cond_wait(struct hnp_cond *cond, pthread_mutex_t *mu)
{
    pthread_cond_wait(&cond->cv, mu);
}

bool hnp_cond_wait_until(struct hnp_cond *cond, pthread_mutex_t *mu, long long deadline_ms)
{
    long long left = deadline_ms - hnp_monotonic_ms();
    if (left <= 0)
        return false;
    /* The deadline as the condition variable's clock tells it: now on that clock + left. */
    struct timespec ts;
    clock_gettime(cond->monotonic ? CLOCK_MONOTONIC : CLOCK_REALTIME, &ts);
    long long ns = (long long)ts.tv_nsec + (left % 1000) * 1000000LL;
    ts.tv_sec += (time_t)(left / 1000 + ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    if (pthread_cond_timedwait(&cond->cv, mu, &ts) == ETIMEDOUT)
        return false;
    return true;
}
