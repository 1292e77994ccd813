/*
 * agent.h - `hnsnetpol run`: keep every local endpoint's ACLs converged
 * with the cluster's NetworkPolicies.
 *
 * Threads: one reflector per kind (namespaces, pods, networkpolicies) feeds
 * a queue; the controller thread owns the cluster model, batches changes
 * over a short window, computes the desired ACLs of the affected local
 * endpoints and hands one Update per endpoint that differs to the HNS worker
 * thread, which makes the (possibly slow) HNS calls with a timeout. The
 * metrics listener serves /metrics, /healthz and /readyz. A small events
 * thread posts Kubernetes Events about rejected policies. docs/agent.md tells
 * the whole story.
 */
#ifndef HNP_AGENT_H
#define HNP_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "hnsnetpol/error.h"
#include "hns.h"
#include "kubeconfig.h"
#include "metrics.h"
#include "hnsnetpol/policy.h"
#include "hnsnetpol/translate.h"
#include "watch.h"

struct hnp_agent_options {
    const char *node_name;       /* required */
    struct hnp_kube_config kube; /* borrowed */
    const char *hns_spec;        /* "mock:PATH" or "hcn" */
    const char *metrics_addr;    /* NULL = "127.0.0.1:9915"; "" = no listener */
    long batch_ms;               /* 0 = 100 */
    long endpoint_poll_ms;       /* 0 = 2000 */
    long resync_ms;              /* 0 = 300000 */
    long hns_timeout_ms;         /* 0 = 30000 */
    long retry_initial_ms;       /* 0 = 500 */
    long retry_max_ms;           /* 0 = 60000 */
    size_t page_limit;           /* 0 = 500 */
    bool cleanup_on_exit;        /* remove our ACLs when stopping */
    bool has_node_ip;
    uint32_t node_ip;
    enum hnp_unsupported_mode unsupported;
    bool post_events; /* Kubernetes Events for rejected policies; default true via CLI */
    /*
     * Registry the agent declares and updates its metrics in (borrowed; it
     * must outlive the run); NULL = the agent keeps its own. Lets the caller
     * (tests, the Windows service) read them.
     */
    struct hnp_metrics *metrics;
};

/*
 * Run until *stop becomes non-zero (a signal handler or the Windows service
 * control handler sets it; checked at least every 100 ms). Returns HNP_OK
 * after a clean stop (the HNS call in flight finished or timed out, ACLs
 * left enforced unless cleanup_on_exit), or the error that made start-up
 * impossible (err says why): HNP_ERR_USAGE / HNP_ERR_UNSUPPORTED for an
 * unusable hns_spec, HNP_ERR_INVALID for a missing node name, HNP_ERR_IO
 * when the metrics address cannot be bound, what hnp_reflector_start()
 * returned. Runtime failures (API server or HNS unreachable) are logged and
 * retried, never returned.
 */
enum hnp_err hnp_agent_run(const struct hnp_agent_options *options, const volatile int *stop,
                           struct hnp_error *err);

/*
 * Called once the agent's loop starts, before it has heard from the API
 * server: the HNS backend is open, the metrics listener bound and the
 * watches started (the agent logs "agent started" then). The Windows
 * service reports SERVICE_RUNNING from it. Not called when start-up fails;
 * called at most once per hnp_agent_run(), always before the ready
 * callback. May be NULL. Called on the thread of hnp_agent_run(); set it
 * before hnp_agent_run().
 */
typedef void (*hnp_agent_started_fn)(void *ctx);
void hnp_agent_set_started_callback(hnp_agent_started_fn fn, void *ctx);

/*
 * Called once the agent is ready (initial sync done) - the Windows service
 * writes its "initial sync done" Event Log entry from it. May be NULL.
 * Called on the controller thread; set it before hnp_agent_run().
 */
typedef void (*hnp_agent_ready_fn)(void *ctx);
void hnp_agent_set_ready_callback(hnp_agent_ready_fn fn, void *ctx);

/* ------------------------------------------------------------------------ */
/* For tests only                                                           */

/*
 * Replace the agent's outside world so unit tests need no API server:
 *   source_start/source_stop, when set, replace the three reflectors:
 *       source_start is called once at start-up with the sink the
 *       reflectors would feed (push UPSERT / DELETE / SYNCED events into it
 *       from any thread; it steals event->object and may block briefly when
 *       the controller's queue is full); source_stop is called at shut-down,
 *       and no event may be pushed after it returns. A source_start error
 *       stops start-up with that error.
 *   events_transport, when set, is the HTTP layer of the Events poster
 *       (client.h's functions otherwise), so a test can read the Events posted.
 *   watch_transport, when set, is the HTTP layer of the three reflectors
 *       (their options' transport), so a test can script the API server.
 *   listening, when set, receives the metrics listener's port once bound
 *       (useful with metrics_addr "127.0.0.1:0").
 * hooks is copied; NULL restores the defaults. Not thread-safe: call it
 * while no agent runs.
 */
struct hnp_agent_test_hooks {
    enum hnp_err (*source_start)(void *ctx, hnp_watch_sink sink, void *sink_ctx,
                                 struct hnp_error *err);
    void (*source_stop)(void *ctx);
    void *source_ctx;
    const struct hnp_watch_transport *events_transport;
    const struct hnp_watch_transport *watch_transport;
    void (*listening)(void *ctx, unsigned port);
    void *listening_ctx;
};
void hnp_agent_set_test_hooks(const struct hnp_agent_test_hooks *hooks);

/* ------------------------------------------------------------------------ */
/* Internal to the agent (src/agent*.c), exposed for its unit tests         */

/* ---- the HNS worker (src/agent_hns_worker.c) ---- */

enum hnp_hns_op { HNP_HNS_LIST, HNP_HNS_QUERY, HNP_HNS_MODIFY };

/* "list", "query", "modify": the operation label of the metrics and the mock's call counts. */
const char *hnp_hns_op_name(enum hnp_hns_op op);

/* One HNS call and, once made, its outcome. */
struct hnp_hns_job {
    enum hnp_hns_op op;
    char *id;        /* owned; QUERY and MODIFY */
    json_t *request; /* owned reference; MODIFY */
    uint64_t seq;    /* the submitter's number for it, echoed */
    /* Filled by the worker: */
    enum hnp_err rc;
    struct hnp_error err;
    struct hnp_hns_endpoint *eps; /* LIST: owned array of n_eps */
    size_t n_eps;
    struct hnp_hns_endpoint one; /* QUERY: owned */
    double seconds;              /* how long the call took */
    struct hnp_hns_job *next;    /* free for whoever holds the job (queue link) */
};

/*
 * A new job for op; id is copied (may be NULL for LIST), request gets a new
 * reference (may be NULL). NULL when out of memory.
 */
struct hnp_hns_job *hnp_hns_job_new(enum hnp_hns_op op, const char *id, json_t *request);
/* Free the job and everything it owns. Accepts NULL. */
void hnp_hns_job_free(struct hnp_hns_job *job);

/* Receives each finished job (stolen), on the worker's thread. */
typedef void (*hnp_hns_done_fn)(struct hnp_hns_job *job, void *ctx);

struct hnp_hns_worker;

/*
 * Start a worker thread that makes the calls of the jobs handed to it, one
 * at a time, on hns (stolen, also on failure: the worker closes it when it
 * ends), and hands each finished job to done(job, done_ctx). done_ctx must
 * stay valid until the worker is stopped or abandoned. *out is new.
 * HNP_ERR_NOMEM when the thread cannot be created.
 */
enum hnp_err hnp_hns_worker_start(struct hnp_hns *hns, hnp_hns_done_fn done, void *done_ctx,
                                  struct hnp_hns_worker **out);

/* Hand job (stolen) to an idle worker: one job at a time, the next after done() has it back. */
void hnp_hns_worker_submit(struct hnp_hns_worker *w, struct hnp_hns_job *job);

/*
 * Give up on the job in flight (its call hangs): from when this returns,
 * done() is never called again; the thread finishes the call, frees the job,
 * closes its backend and ends on its own. Then the worker is only good for
 * hnp_hns_worker_exited(), hnp_hns_worker_stop() once exited, or
 * hnp_hns_worker_detach().
 */
void hnp_hns_worker_abandon(struct hnp_hns_worker *w);

/* Has the thread of an abandoned worker ended (a stop can join it at once)? */
bool hnp_hns_worker_exited(struct hnp_hns_worker *w);

/*
 * End the thread and free: an idle worker quits at once, one with a job in
 * flight after the call returns (that job is freed, done() not called), an
 * abandoned one when its call returns. Joins. Accepts NULL.
 */
void hnp_hns_worker_stop(struct hnp_hns_worker *w);

/* Forget an abandoned worker whose call still hangs: its thread frees everything when it ends. */
void hnp_hns_worker_detach(struct hnp_hns_worker *w);

/* ---- Kubernetes Events about rejected policies (src/agent_events.c) ---- */

/*
 * The Event that tells `kubectl describe networkpolicy` why this node does
 * not enforce policy (borrowed): type Warning, reason UnsupportedOnWindows,
 * involvedObject the policy (with uid and resourceVersion when known),
 * generateName "<policy>.", message "<node>: <feature> at <path>: <message>;
 * ... " followed by what the agent does about it under mode, at most 1024
 * bytes; first/lastTimestamp from now_ms (ms since the Unix epoch), count 1,
 * source and reporting component "hnsnetpol" on node. New reference; NULL
 * when out of memory.
 */
json_t *hnp_agent_rejection_event(const struct hnp_policy *policy, const char *node,
                                  enum hnp_unsupported_mode mode, long long now_ms);

struct hnp_agent_events;

/*
 * Start the events thread: it POSTs queued Events with its own API client
 * made from cfg (deep-copied; the client is made at the first post) through
 * transport (borrowed, must outlive the thread; NULL = client.h's functions).
 * *out is new. HNP_ERR_NOMEM (also when the thread cannot be created).
 */
enum hnp_err hnp_agent_events_start(const struct hnp_kube_config *cfg,
                                    const struct hnp_watch_transport *transport,
                                    struct hnp_agent_events **out);

/*
 * Queue body (stolen) for POST /api/v1/namespaces/<ns>/events; never
 * blocks: when 64 Events are already waiting it is dropped with a warning.
 * A failed POST is logged (warning) and not retried.
 */
void hnp_agent_events_post(struct hnp_agent_events *ev, const char *ns, json_t *body);

/*
 * Stop: a POST in flight is interrupted (within about 250 ms with kube.h's
 * client), Events still queued are dropped; joins and frees. Accepts NULL.
 */
void hnp_agent_events_stop(struct hnp_agent_events *ev);

#endif /* HNP_AGENT_H */
