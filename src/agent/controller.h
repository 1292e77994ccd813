/*
 * controller.h - the decisions of `hnsnetpol run` as a state machine: no
 * threads, no locks, no clock. The wiring (agent.c) feeds it watch events
 * and finished HNS calls, steps it with the time, runs the HNS call it asks
 * for, and wakes it when it asks to be woken; a test does the same with a
 * fake clock.
 *
 *   apply(event, now)   a watch event (upsert/delete/synced of a namespace,
 *                       pod or policy) changes the cluster model;
 *   job_done(job, now)  an HNS call (list, query, modify) has finished;
 *   step(now, wall)     decides: at most one HNS call to make (the
 *                       controller has at most one in flight), whether the
 *                       call in flight has hung past its timeout (abandon
 *                       its worker), and when to be stepped next.
 *
 * What it keeps: the cluster model, the table of local endpoints
 * (endpoints.h) bound to the pods of this node, the call in flight, the
 * batch window, the poll, fast-poll and resync schedule, per-endpoint retry
 * and repeat backoff, the policies reported as rejected. Its outputs besides
 * the jobs: metrics in the registry it is given, log lines, and the
 * callbacks of its options (readiness, initial sync done, a rejected policy
 * to report). Every time is a number of milliseconds on the caller's
 * monotonic clock (hnp_monotonic_ms() in the agent); wall time is only used
 * for the last-sync timestamp metric.
 */
#ifndef HNP_CONTROLLER_H
#define HNP_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hns_worker.h"
#include "hnsnetpol/error.h"
#include "hnsnetpol/policy.h"
#include "hnsnetpol/translate.h"
#include "metrics.h"
#include "watch.h"

#define HNP_CONTROLLER_DEFAULT_BATCH_MS 100
#define HNP_CONTROLLER_DEFAULT_POLL_MS 2000
#define HNP_CONTROLLER_DEFAULT_RESYNC_MS 300000
#define HNP_CONTROLLER_DEFAULT_TIMEOUT_MS 30000
#define HNP_CONTROLLER_DEFAULT_RETRY_INITIAL_MS 500
#define HNP_CONTROLLER_DEFAULT_RETRY_MAX_MS 60000
/* Abandoned (hung) calls still running before no new call is made. */
#define HNP_CONTROLLER_MAX_ABANDONED 4

struct hnp_controller_options {
    const char *node_name; /* required; borrowed, must outlive the controller */
    /* Intervals in ms; 0 (or less) = the default above. */
    long batch_ms, endpoint_poll_ms, resync_ms, hns_timeout_ms, retry_initial_ms, retry_max_ms;
    bool has_node_ip;
    uint32_t node_ip;
    enum hnp_unsupported_mode unsupported;
    /* Where the controller declares and updates its metrics (borrowed, required). */
    struct hnp_metrics *metrics;
    /*
     * Outputs, each may be NULL, called on the caller's thread from inside
     * the controller's functions, with ctx:
     *   rejected: a rejected policy (borrowed, valid during the call) seen
     *       for the first time at this generation - the agent posts its
     *       Event; the controller has logged it and counts the Event metric
     *       when this returns true (an Event was queued);
     *   ready: the initial sync is done (once, at the end of that step);
     *   status: readiness after every step: ready, or not and why.
     */
    bool (*rejected)(void *ctx, const struct hnp_policy *policy);
    void (*ready)(void *ctx);
    void (*status)(void *ctx, bool ready, const char *reason);
    void *ctx;
};

struct hnp_controller;

/*
 * A new controller (*out, free with hnp_controller_free()), its metrics
 * declared in options->metrics. options is copied (the strings it points to
 * are borrowed). HNP_ERR_INVALID without node name or metrics,
 * HNP_ERR_NOMEM; err says why.
 */
enum hnp_err hnp_controller_new(const struct hnp_controller_options *options,
                                struct hnp_controller **out, struct hnp_error *err);

/* Free the controller and everything it owns. Accepts NULL. */
void hnp_controller_free(struct hnp_controller *c);

/*
 * Apply a watch event at time now_ms: event->object is stolen (decref'd
 * here or kept by the cluster model). An object that cannot be read is
 * logged and skipped; the last good version stays in effect.
 */
void hnp_controller_apply(struct hnp_controller *c, struct hnp_watch_event *event,
                          long long now_ms);

/*
 * Take the outcome of an HNS call (job, stolen) at time now_ms. A job that
 * is not the call in flight (given up on as it finished) only makes its
 * endpoint be re-read.
 */
void hnp_controller_job_done(struct hnp_controller *c, struct hnp_hns_job *job, long long now_ms);

/*
 * What the caller's workers can do: available = a worker is ready for a
 * call; n_abandoned = calls given up on that still run (readiness and the
 * metric). Tell it before each step; the controller itself marks the worker
 * unavailable when it asks for an abandon.
 */
void hnp_controller_set_workers(struct hnp_controller *c, bool available, size_t n_abandoned);

/*
 * What a step asks of its caller:
 *   job      new: the call to make now (hand it to the worker), or NULL;
 *   abandon  the call in flight hung past the timeout: abandon its worker;
 *   wake_ms  step again at this time at the latest (at most 60 s on), and
 *            after any input (an event applied, a job done).
 */
struct hnp_controller_step {
    struct hnp_hns_job *job;
    bool abandon;
    long long wake_ms;
};

/*
 * Decide at time now_ms (wall_ms: the same moment in ms since the Unix
 * epoch). Fills *out. After an abandon, wake_ms is now_ms: give the
 * controller a new worker (hnp_controller_set_workers) and step again.
 */
void hnp_controller_step(struct hnp_controller *c, long long now_ms, long long wall_ms,
                         struct hnp_controller_step *out);

/*
 * Start stopping: from now on no call is made but the one in flight, plus,
 * when cleanup is true, a fresh list and one Update per endpoint that
 * carries ACLs of ours removing them (the endpoints' other policies stay).
 * An endpoint for which no worker is available counts as failed. Keep
 * feeding job_done() and stepping until hnp_controller_finished().
 */
void hnp_controller_shutdown(struct hnp_controller *c, bool cleanup);

/* After a shutdown: no call in flight and nothing left to do. */
bool hnp_controller_finished(const struct hnp_controller *c);

/* ---- for tests: what the controller knows ---- */

/* Local endpoints known (listed), and how many are bound to a pod of this node. */
size_t hnp_controller_endpoint_count(const struct hnp_controller *c, size_t *bound);

/* Is an HNS call in flight? */
bool hnp_controller_busy(const struct hnp_controller *c);

/* Has the initial sync (every kind listed, endpoints listed once) happened? */
bool hnp_controller_initial_done(const struct hnp_controller *c);

#endif /* HNP_CONTROLLER_H */
