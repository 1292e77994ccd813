/*
 * metric_defs.c - the declaration of the agent's metrics (metric_defs.h).
 */
#include "metric_defs.h"

#include "hns_worker.h"
#include "hnsnetpol/policy.h"

static const double call_buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                      1,     2.5,   5,    10,    30,   60,  120};
static const double sync_buckets[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

enum hnp_err hnp_agent_metrics_declare(struct hnp_metrics *m)
{
    struct {
        const char *name;
        enum hnp_metric_type type;
        const char *help;
        const double *buckets;
        size_t n_buckets;
    } defs[] = {
        {HNP_M_POLICIES, HNP_METRIC_GAUGE,
         "NetworkPolicies by state: known (in the cluster), applied (enforced, fully or, in "
         "isolate mode, for isolation only), rejected (using what Windows cannot enforce)",
         NULL, 0},
        {HNP_M_REJECTED, HNP_METRIC_GAUGE,
         "Rejected NetworkPolicies that use each unsupported feature", NULL, 0},
        {HNP_M_ENDPOINTS, HNP_METRIC_GAUGE,
         "Local HNS endpoints bound to a pod of this node (the endpoints the agent manages)", NULL,
         0},
        {HNP_M_ACL_RULES, HNP_METRIC_GAUGE, "ACL rules of hnsnetpol on the local endpoints", NULL,
         0},
        {HNP_M_CALLS, HNP_METRIC_COUNTER, "HNS calls made, by operation (list, query, modify)",
         NULL, 0},
        {HNP_M_FAILURES, HNP_METRIC_COUNTER,
         "HNS calls that failed or timed out, by operation (an endpoint gone is not a failure)",
         NULL, 0},
        {HNP_M_CALL_SECONDS, HNP_METRIC_HISTOGRAM, "Duration of HNS calls, by operation",
         call_buckets, sizeof(call_buckets) / sizeof(call_buckets[0])},
        {HNP_M_LAST_SYNC, HNP_METRIC_GAUGE,
         "Unix time when every local endpoint was last known to carry its desired ACLs", NULL, 0},
        {HNP_M_SYNC_SECONDS, HNP_METRIC_HISTOGRAM,
         "Time from the start of a sync pass (a batch of changes, the initial sync, a resync) "
         "until every local endpoint carried its desired ACLs",
         sync_buckets, sizeof(sync_buckets) / sizeof(sync_buckets[0])},
        {HNP_M_EVENTS, HNP_METRIC_COUNTER,
         "Kubernetes Events queued for posting about rejected policies", NULL, 0},
        {HNP_M_ABANDONED, HNP_METRIC_GAUGE,
         "HNS calls given up on after --hns-timeout that have not returned yet", NULL, 0},
    };
    for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
        enum hnp_err rc = hnp_metrics_declare(m, defs[i].name, defs[i].type, defs[i].help,
                                              defs[i].buckets, defs[i].n_buckets);
        if (rc != HNP_OK)
            return rc;
    }
    char labels[64];
    for (int op = HNP_HNS_LIST; op <= HNP_HNS_MODIFY; op++) {
        hnp_metrics_label(labels, sizeof(labels), "operation",
                          hnp_hns_op_name((enum hnp_hns_op)op));
        hnp_metrics_add(m, HNP_M_CALLS, labels, 0);
        hnp_metrics_add(m, HNP_M_FAILURES, labels, 0);
    }
    static const char *const states[] = {"known", "applied", "rejected"};
    for (size_t i = 0; i < 3; i++) {
        hnp_metrics_label(labels, sizeof(labels), "state", states[i]);
        hnp_metrics_set(m, HNP_M_POLICIES, labels, 0);
    }
    for (int f = 0; f < HNP_FEATURE_COUNT_; f++) {
        hnp_metrics_label(labels, sizeof(labels), "feature", hnp_feature_name((enum hnp_feature)f));
        hnp_metrics_set(m, HNP_M_REJECTED, labels, 0);
    }
    hnp_metrics_set(m, HNP_M_ENDPOINTS, NULL, 0);
    hnp_metrics_set(m, HNP_M_ACL_RULES, NULL, 0);
    hnp_metrics_set(m, HNP_M_LAST_SYNC, NULL, 0);
    hnp_metrics_add(m, HNP_M_EVENTS, NULL, 0);
    hnp_metrics_set(m, HNP_M_ABANDONED, NULL, 0);
    return HNP_OK;
}
