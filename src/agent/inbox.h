/*
 * inbox.h - the bounded queue between the agent's producer threads and its
 * controller thread.
 *
 * The watch threads (reflectors, or a test's event source) push watch events
 * through hnp_inbox_sink(), which blocks while the queue is full (by count
 * and by the JSON bytes the events were read from); the HNS worker pushes
 * finished jobs through hnp_inbox_job_done(), which never blocks. The
 * controller thread takes everything queued at once with hnp_inbox_take(),
 * waiting until something comes or a deadline on the hnp_monotonic_ms()
 * clock passes.
 */
#ifndef HNP_INBOX_H
#define HNP_INBOX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "hns_worker.h"
#include "wait.h"
#include "watch.h"

/* Events waiting before a sink blocks, and their JSON bytes (an event larger still goes in alone).
 */
#define HNP_INBOX_MAX_EVENTS 4096
#define HNP_INBOX_MAX_BYTES ((size_t)256 * 1024)

/* One watch event waiting for the controller. */
struct hnp_queued_event {
    struct hnp_watch_event ev; /* ev.object owned */
    struct hnp_queued_event *next;
};

struct hnp_inbox {
    pthread_mutex_t mu;
    struct hnp_cond wake;     /* the controller waits on it */
    struct hnp_cond not_full; /* sinks wait on it */
    struct hnp_queued_event *ev_head, *ev_tail;
    size_t n_events;
    size_t n_bytes; /* sum of their ev.bytes */
    struct hnp_hns_job *job_head, *job_tail;
    bool closed; /* no more events are taken */
};

/* Initialise in (caller-owned storage). HNP_ERR_NOMEM when a mutex or condition cannot be made. */
enum hnp_err hnp_inbox_init(struct hnp_inbox *in);

/* Free what is still queued and the synchronisation objects; nobody may use in any more. */
void hnp_inbox_destroy(struct hnp_inbox *in);

/*
 * An hnp_watch_sink (ctx: the inbox): queue event (event->object stolen),
 * waiting while the queue is full. Dropped (freed) when the inbox is closed
 * or out of memory (logged).
 */
void hnp_inbox_sink(struct hnp_watch_event *event, void *ctx);

/* An hnp_hns_done_fn (ctx: the inbox): queue the finished job (stolen). Never blocks. */
void hnp_inbox_job_done(struct hnp_hns_job *job, void *ctx);

/*
 * Wait until something is queued or hnp_monotonic_ms() reaches until, then
 * take everything queued: *events and *jobs receive lists in arrival order
 * (new; NULL when empty). Wakes the sinks waiting for room.
 */
void hnp_inbox_take(struct hnp_inbox *in, long long until, struct hnp_queued_event **events,
                    struct hnp_hns_job **jobs);

/* Take no more events: blocked and later sinks drop theirs at once. */
void hnp_inbox_close(struct hnp_inbox *in);

/* Free a list of events (and their objects) / of jobs as hnp_inbox_take() returns them. */
void hnp_inbox_free_events(struct hnp_queued_event *e);
void hnp_inbox_free_jobs(struct hnp_hns_job *j);

#endif /* HNP_INBOX_H */
