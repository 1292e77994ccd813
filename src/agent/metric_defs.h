/*
 * metric_defs.h - the names of the agent's metrics and their declaration
 * in a registry (metrics.h), all at zero, so /metrics shows every series
 * from the start. The controller updates them; docs/agent.md lists them.
 */
#ifndef HNP_METRIC_DEFS_H
#define HNP_METRIC_DEFS_H

#include "hnsnetpol/error.h"
#include "metrics.h"

#define HNP_M_POLICIES "hnsnetpol_policies"
#define HNP_M_REJECTED "hnsnetpol_policies_rejected"
#define HNP_M_ENDPOINTS "hnsnetpol_local_endpoints"
#define HNP_M_ACL_RULES "hnsnetpol_acl_rules"
#define HNP_M_CALLS "hnsnetpol_hns_calls_total"
#define HNP_M_FAILURES "hnsnetpol_hns_failures_total"
#define HNP_M_CALL_SECONDS "hnsnetpol_hns_call_duration_seconds"
#define HNP_M_LAST_SYNC "hnsnetpol_last_sync_timestamp_seconds"
#define HNP_M_SYNC_SECONDS "hnsnetpol_sync_duration_seconds"
#define HNP_M_EVENTS "hnsnetpol_rejection_events_total"
#define HNP_M_ABANDONED "hnsnetpol_hns_abandoned_calls"

/*
 * Declare every metric of the agent in m (borrowed) with its help text,
 * buckets and zero values for every label the agent uses. What
 * hnp_metrics_declare() returns on failure.
 */
enum hnp_err hnp_agent_metrics_declare(struct hnp_metrics *m);

#endif /* HNP_METRIC_DEFS_H */
