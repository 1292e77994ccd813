/*
 * hns_worker.c - the thread that makes the agent's HNS calls (hns_worker.h).
 *
 * HNS calls can take from milliseconds to minutes on a loaded host, so the
 * controller thread never makes them itself: it hands one job at a time to
 * a worker, which owns its own backend instance, makes the call and hands
 * the job back through a callback. When a call hangs past the agent's
 * timeout the controller says so, the agent abandons the worker (it will
 * never hear from it again), starts a new one with a new backend instance
 * and goes on; the abandoned thread finishes its call whenever HNS returns,
 * cleans up and ends.
 *
 * Locking: the worker's mutex is held while done() runs, so that once
 * hnp_hns_worker_abandon() has returned no result can arrive any more. The
 * controller thread must therefore never hold a lock that done() takes
 * while it calls into the worker.
 */
#define _POSIX_C_SOURCE 200809L

#include "hns_worker.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"

struct hnp_hns_worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct hnp_hns *hns; /* used by the thread only */
    hnp_hns_done_fn done;
    void *done_ctx;
    struct hnp_hns_job *job; /* handed over, not yet picked up */
    bool quit;               /* stop asked */
    bool abandoned;          /* done() must not be called any more */
    bool exited;             /* the thread is about to end */
    bool detached;           /* nobody joins: the thread frees the worker */
};

const char *hnp_hns_op_name(enum hnp_hns_op op)
{
    switch (op) {
    case HNP_HNS_LIST:
        return "list";
    case HNP_HNS_QUERY:
        return "query";
    case HNP_HNS_MODIFY:
        return "modify";
    }
    return "unknown";
}

struct hnp_hns_job *hnp_hns_job_new(enum hnp_hns_op op, const char *id, json_t *request)
{
    struct hnp_hns_job *job = calloc(1, sizeof(*job));
    if (job == NULL)
        return NULL;
    job->op = op;
    if (id != NULL) {
        size_t len = strlen(id);
        job->id = malloc(len + 1);
        if (job->id == NULL) {
            free(job);
            return NULL;
        }
        memcpy(job->id, id, len + 1);
    }
    job->request = json_incref(request);
    return job;
}

void hnp_hns_job_free(struct hnp_hns_job *job)
{
    if (job == NULL)
        return;
    free(job->id);
    json_decref(job->request);
    hnp_hns_endpoints_free(job->eps, job->n_eps);
    hnp_hns_endpoint_clear(&job->one);
    free(job);
}

static double now_seconds(void)
{
    return (double)hnp_monotonic_ms() / 1000.0;
}

void hnp_hns_job_run(struct hnp_hns_job *job, struct hnp_hns *hns)
{
    hnp_error_clear(&job->err);
    double start = now_seconds();
    switch (job->op) {
    case HNP_HNS_LIST:
        job->rc = hns->ops->list_endpoints(hns, &job->eps, &job->n_eps, &job->err);
        if (job->rc != HNP_OK) {
            job->eps = NULL;
            job->n_eps = 0;
        }
        break;
    case HNP_HNS_QUERY:
        job->rc = hns->ops->get_endpoint(hns, job->id, &job->one, &job->err);
        if (job->rc != HNP_OK)
            memset(&job->one, 0, sizeof(job->one));
        break;
    case HNP_HNS_MODIFY:
        job->rc = hns->ops->modify_endpoint(hns, job->id, job->request, &job->err);
        break;
    }
    job->seconds = now_seconds() - start;
}

static void destroy(struct hnp_hns_worker *w)
{
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}

static void *worker_main(void *arg)
{
    struct hnp_hns_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->job == NULL && !w->quit && !w->abandoned)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->job == NULL)
            break;
        struct hnp_hns_job *job = w->job;
        w->job = NULL;
        pthread_mutex_unlock(&w->mu);
        hnp_hns_job_run(job, w->hns);
        pthread_mutex_lock(&w->mu);
        if (w->abandoned || w->quit) {
            hnp_hns_job_free(job);
            break;
        }
        w->done(job, w->done_ctx);
    }
    w->exited = true;
    bool detached = w->detached;
    pthread_mutex_unlock(&w->mu);
    hnp_hns_close(w->hns);
    w->hns = NULL;
    if (detached)
        destroy(w);
    return NULL;
}

enum hnp_err hnp_hns_worker_start(struct hnp_hns *hns, hnp_hns_done_fn done, void *done_ctx,
                                  struct hnp_hns_worker **out)
{
    struct hnp_hns_worker *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        hnp_hns_close(hns);
        return HNP_ERR_NOMEM;
    }
    w->hns = hns;
    w->done = done;
    w->done_ctx = done_ctx;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        hnp_hns_close(hns);
        free(w);
        return HNP_ERR_NOMEM;
    }
    if (pthread_cond_init(&w->cv, NULL) != 0) {
        pthread_mutex_destroy(&w->mu);
        hnp_hns_close(hns);
        free(w);
        return HNP_ERR_NOMEM;
    }
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        hnp_hns_close(hns);
        destroy(w);
        return HNP_ERR_NOMEM;
    }
    *out = w;
    return HNP_OK;
}

void hnp_hns_worker_submit(struct hnp_hns_worker *w, struct hnp_hns_job *job)
{
    pthread_mutex_lock(&w->mu);
    if (w->job != NULL || w->abandoned || w->quit) {
        /* Misuse; never leak the job. */
        pthread_mutex_unlock(&w->mu);
        hnp_hns_job_free(job);
        return;
    }
    w->job = job;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void hnp_hns_worker_abandon(struct hnp_hns_worker *w)
{
    pthread_mutex_lock(&w->mu);
    w->abandoned = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

bool hnp_hns_worker_exited(struct hnp_hns_worker *w)
{
    pthread_mutex_lock(&w->mu);
    bool exited = w->exited;
    pthread_mutex_unlock(&w->mu);
    return exited;
}

void hnp_hns_worker_stop(struct hnp_hns_worker *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    struct hnp_hns_job *unstarted = w->job;
    w->job = NULL;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    hnp_hns_job_free(unstarted);
    pthread_join(w->thread, NULL);
    destroy(w);
}

void hnp_hns_worker_detach(struct hnp_hns_worker *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    if (w->exited) {
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
        destroy(w);
        return;
    }
    w->detached = true;
    pthread_detach(w->thread);
    pthread_mutex_unlock(&w->mu);
}
