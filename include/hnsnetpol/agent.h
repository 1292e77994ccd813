/*
 * agent.h - `hnsnetpol run`: keep every local endpoint's ACLs converged
 * with the cluster's NetworkPolicies.
 *
 * Threads: one reflector per kind (namespaces, pods, networkpolicies) feeds
 * a queue; the controller thread owns the cluster model, batches changes
 * over a short window, computes the desired ACLs of the affected local
 * endpoints and hands one Update per endpoint that differs to the HNS worker
 * thread, which makes the (possibly slow) HNS calls with a timeout. The
 * metrics listener serves /metrics, /healthz and /readyz.
 */
#ifndef HNP_AGENT_H
#define HNP_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "hnsnetpol/error.h"
#include "hnsnetpol/kube.h"
#include "hnsnetpol/translate.h"

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
};

/*
 * Run until *stop becomes non-zero (a signal handler or the Windows service
 * control handler sets it). Returns HNP_OK after a clean stop (the HNS call
 * in flight finished, ACLs left enforced unless cleanup_on_exit), or the
 * error that made start-up impossible (err says why).
 */
enum hnp_err hnp_agent_run(const struct hnp_agent_options *options, const volatile int *stop,
                           struct hnp_error *err);

/*
 * Called once the agent is running (initial sync done) - the Windows
 * service reports SERVICE_RUNNING from it. May be NULL.
 */
typedef void (*hnp_agent_ready_fn)(void *ctx);
void hnp_agent_set_ready_callback(hnp_agent_ready_fn fn, void *ctx);

#endif /* HNP_AGENT_H */
