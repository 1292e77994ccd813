/*
 * agent.h - `hnsnetpol run`: keep every local endpoint's ACLs converged
 * with the cluster's NetworkPolicies.
 *
 * Threads: one reflector per kind (namespaces, pods, networkpolicies) feeds
 * the inbox (inbox.h); the controller thread runs the controller
 * (controller.h: the cluster model and every decision, as a state machine)
 * with the real clock, and hands the HNS call it asks for to the HNS worker
 * thread (hns_worker.h), which makes the (possibly slow) call with a
 * timeout. The metrics listener serves /metrics, /healthz and /readyz. A
 * small events thread (events.h) posts Kubernetes Events about rejected
 * policies. docs/agent.md tells the whole story.
 */
#ifndef HNP_AGENT_H
#define HNP_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "hnsnetpol/error.h"
#include "hnsnetpol/policy.h"
#include "hnsnetpol/translate.h"
#include "hns.h"
#include "kubeconfig.h"
#include "metrics.h"
#include "watch.h"

/*
 * Called once the agent's loop starts, before it has heard from the API
 * server: the HNS backend is open, the metrics listener bound and the
 * watches started (the agent logs "agent started" then). The Windows
 * service reports SERVICE_RUNNING from it. Not called when start-up fails;
 * called at most once per hnp_agent_run(), always before the ready
 * callback. Called on the thread of hnp_agent_run().
 */
typedef void (*hnp_agent_started_fn)(void *ctx);

/*
 * Called once the agent is ready (initial sync done) - the Windows service
 * writes its "initial sync done" Event Log entry from it. Called on the
 * controller thread (the thread of hnp_agent_run()).
 */
typedef void (*hnp_agent_ready_fn)(void *ctx);

/*
 * Replace the agent's outside world so tests need no API server (every
 * field may be NULL: the default):
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

struct hnp_agent_options {
    const char *node_name;                 /* required */
    struct hnp_kube_config kube;           /* borrowed */
    const struct hnp_hns_class *hns_class; /* required: the HNS backend (hns.h's registry) */
    const char *hns_arg;                   /* its argument (the mock's state file), or NULL */
    const char *metrics_addr;              /* NULL = "127.0.0.1:9915"; "" = no listener */
    long batch_ms;                         /* 0 = 100 */
    long endpoint_poll_ms;                 /* 0 = 2000 */
    long resync_ms;                        /* 0 = 300000 */
    long hns_timeout_ms;                   /* 0 = 30000 */
    long retry_initial_ms;                 /* 0 = 500 */
    long retry_max_ms;                     /* 0 = 60000 */
    size_t page_limit;                     /* 0 = 500 */
    bool cleanup_on_exit;                  /* remove our ACLs when stopping */
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
    /* Callbacks (each may be NULL) and their contexts. */
    hnp_agent_started_fn started;
    void *started_ctx;
    hnp_agent_ready_fn ready;
    void *ready_ctx;
    /* For tests only: zeroed = the real outside world. */
    struct hnp_agent_test_hooks test;
};

/*
 * Run until *stop becomes non-zero (a signal handler or the Windows service
 * control handler sets it; checked at least every 100 ms). Returns HNP_OK
 * after a clean stop (the HNS call in flight finished or timed out, ACLs
 * left enforced unless cleanup_on_exit), or the error that made start-up
 * impossible (err says why): HNP_ERR_USAGE without an HNS class,
 * HNP_ERR_UNSUPPORTED / what the class's open returned for an unusable
 * backend, HNP_ERR_INVALID for a missing node name, HNP_ERR_IO when the
 * metrics address cannot be bound, what hnp_reflector_start() returned.
 * Runtime failures (API server or HNS unreachable) are logged and retried,
 * never returned.
 */
enum hnp_err hnp_agent_run(const struct hnp_agent_options *options, const volatile int *stop,
                           struct hnp_error *err);

#endif /* HNP_AGENT_H */
