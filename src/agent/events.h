/*
 * events.h - Kubernetes Events about the policies this node rejects: the
 * Event body, and the small thread that POSTs them so that a slow API
 * server never holds up the controller.
 */
#ifndef HNP_EVENTS_H
#define HNP_EVENTS_H

#include <jansson.h>

#include "hnsnetpol/error.h"
#include "hnsnetpol/policy.h"
#include "hnsnetpol/translate.h"
#include "kubeconfig.h"
#include "watch.h"

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
 * Stop: a POST in flight is interrupted (within about 250 ms with client.h's
 * client), Events still queued are dropped; joins and frees. Accepts NULL.
 */
void hnp_agent_events_stop(struct hnp_agent_events *ev);

#endif /* HNP_EVENTS_H */
