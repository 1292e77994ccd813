/*
 * inbox.c - the agent's bounded queue (inbox.h): one mutex, one condition
 * variable for the controller and one for the blocked sinks.
 *
 * The byte bound matters more than the count: when the controller lags
 * behind a 20,000-pod initial list, 4,096 pod trees alone were ~25 MB of
 * the peak; the JSON text they came from is about a tenth of their trees.
 */
#include "inbox.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

enum hnp_err hnp_inbox_init(struct hnp_inbox *in)
{
    memset(in, 0, sizeof(*in));
    if (pthread_mutex_init(&in->mu, NULL) != 0)
        return HNP_ERR_NOMEM;
    if (hnp_cond_init(&in->wake) != HNP_OK) {
        pthread_mutex_destroy(&in->mu);
        return HNP_ERR_NOMEM;
    }
    if (hnp_cond_init(&in->not_full) != HNP_OK) {
        hnp_cond_destroy(&in->wake);
        pthread_mutex_destroy(&in->mu);
        return HNP_ERR_NOMEM;
    }
    return HNP_OK;
}

void hnp_inbox_free_events(struct hnp_queued_event *e)
{
    while (e != NULL) {
        struct hnp_queued_event *next = e->next;
        json_decref(e->ev.object);
        free(e);
        e = next;
    }
}

void hnp_inbox_free_jobs(struct hnp_hns_job *j)
{
    while (j != NULL) {
        struct hnp_hns_job *next = j->next;
        hnp_hns_job_free(j);
        j = next;
    }
}

void hnp_inbox_destroy(struct hnp_inbox *in)
{
    hnp_inbox_free_events(in->ev_head);
    hnp_inbox_free_jobs(in->job_head);
    hnp_cond_destroy(&in->not_full);
    hnp_cond_destroy(&in->wake);
    pthread_mutex_destroy(&in->mu);
}

void hnp_inbox_sink(struct hnp_watch_event *event, void *ctx)
{
    struct hnp_inbox *in = ctx;
    struct hnp_queued_event *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        hnp_log(HNP_LOG_ERROR, "watch event dropped: out of memory", "resource",
                hnp_kind_resource(event->kind), NULL);
        json_decref(event->object);
        return;
    }
    e->ev = *event;
    pthread_mutex_lock(&in->mu);
    /* One event larger than HNP_INBOX_MAX_BYTES still goes in, alone. */
    while (!in->closed && (in->n_events >= HNP_INBOX_MAX_EVENTS ||
                           (in->n_events > 0 && in->n_bytes + e->ev.bytes > HNP_INBOX_MAX_BYTES)))
        hnp_cond_wait(&in->not_full, &in->mu);
    if (in->closed) {
        pthread_mutex_unlock(&in->mu);
        hnp_inbox_free_events(e);
        return;
    }
    if (in->ev_tail != NULL)
        in->ev_tail->next = e;
    else
        in->ev_head = e;
    in->ev_tail = e;
    in->n_events++;
    in->n_bytes += e->ev.bytes;
    hnp_cond_signal(&in->wake);
    pthread_mutex_unlock(&in->mu);
}

void hnp_inbox_job_done(struct hnp_hns_job *job, void *ctx)
{
    struct hnp_inbox *in = ctx;
    job->next = NULL;
    pthread_mutex_lock(&in->mu);
    if (in->job_tail != NULL)
        in->job_tail->next = job;
    else
        in->job_head = job;
    in->job_tail = job;
    hnp_cond_signal(&in->wake);
    pthread_mutex_unlock(&in->mu);
}

void hnp_inbox_take(struct hnp_inbox *in, long long until, struct hnp_queued_event **events,
                    struct hnp_hns_job **jobs)
{
    pthread_mutex_lock(&in->mu);
    while (in->ev_head == NULL && in->job_head == NULL &&
           hnp_cond_wait_until(&in->wake, &in->mu, until))
        ;
    *events = in->ev_head;
    *jobs = in->job_head;
    in->ev_head = in->ev_tail = NULL;
    in->job_head = in->job_tail = NULL;
    if (in->n_events > 0) {
        in->n_events = 0;
        in->n_bytes = 0;
        hnp_cond_broadcast(&in->not_full);
    }
    pthread_mutex_unlock(&in->mu);
}

void hnp_inbox_close(struct hnp_inbox *in)
{
    pthread_mutex_lock(&in->mu);
    in->closed = true;
    hnp_cond_broadcast(&in->not_full);
    pthread_mutex_unlock(&in->mu);
}
