/*
 * reports.h - which rejected NetworkPolicies have been reported, so each
 * one is reported (log lines and a Kubernetes Event, events.h) once per
 * generation, and the policy metrics (known, applied, rejected, rejected by
 * feature).
 *
 * A policy is reported again when its uid and generation change (or its
 * resourceVersion, for an object without a generation); a report is
 * forgotten when the policy is deleted or no longer rejected ("now
 * enforceable" is logged for the latter).
 */
#ifndef HNP_REPORTS_H
#define HNP_REPORTS_H

#include <stdbool.h>
#include <stddef.h>

#include "hnsnetpol/cluster.h"
#include "hnsnetpol/policy.h"
#include "hnsnetpol/translate.h"
#include "metrics.h"

struct hnp_reported;

struct hnp_reports {
    struct hnp_reported *items; /* owned */
    size_t count, cap;
};

/* Receives a rejected policy to report (borrowed) and its "ns/name" key. */
typedef void (*hnp_report_fn)(void *ctx, const struct hnp_policy *policy, const char *key);

/* An empty set (a zeroed struct is one too). */
void hnp_reports_init(struct hnp_reports *r);

/* Free what the set holds; it is empty and reusable afterwards. */
void hnp_reports_clear(struct hnp_reports *r);

/*
 * Look at every policy of cluster (borrowed): call report(ctx, ...) for each
 * rejected policy not reported at its current generation, forget the
 * reports of the policies that are gone or fixed, and set the policy
 * metrics in m: applied counts the policies tr applies (tr may be NULL when
 * it could not be made: none counted).
 */
void hnp_reports_scan(struct hnp_reports *r, const struct hnp_cluster *cluster,
                      const struct hnp_translator *tr, struct hnp_metrics *m, hnp_report_fn report,
                      void *ctx);

#endif /* HNP_REPORTS_H */
