/*
 * reports.c - the set of reported rejected policies (reports.h): a small
 * array searched by key (rejected policies are few).
 */
#include "reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metric_defs.h"
#include "log.h"
#include "text.h"

struct hnp_reported {
    char *key;     /* ns/name */
    char *version; /* uid and generation (or resourceVersion) */
    bool seen;
};

void hnp_reports_init(struct hnp_reports *r)
{
    memset(r, 0, sizeof(*r));
}

void hnp_reports_clear(struct hnp_reports *r)
{
    for (size_t i = 0; i < r->count; i++) {
        free(r->items[i].key);
        free(r->items[i].version);
    }
    free(r->items);
    memset(r, 0, sizeof(*r));
}

static struct hnp_reported *find_reported(struct hnp_reports *r, const char *key)
{
    for (size_t i = 0; i < r->count; i++) {
        if (strcmp(r->items[i].key, key) == 0)
            return &r->items[i];
    }
    return NULL;
}

/* Note that the policy key is rejected at version; true when that is news (to report). */
static bool note_reported(struct hnp_reports *r, const char *key, const char *version)
{
    struct hnp_reported *e = find_reported(r, key);
    if (e != NULL && strcmp(e->version, version) == 0) {
        e->seen = true;
        return false;
    }
    if (e == NULL) {
        if (r->count == r->cap) {
            size_t cap = r->cap ? r->cap * 2 : 16;
            struct hnp_reported *grown = realloc(r->items, cap * sizeof(*grown));
            if (grown == NULL)
                return false;
            r->items = grown;
            r->cap = cap;
        }
        e = &r->items[r->count];
        e->key = hnp_strdup(key);
        e->version = NULL;
        if (e->key == NULL)
            return false;
        r->count++;
    }
    char *v = hnp_strdup(version);
    if (v == NULL)
        return false;
    free(e->version);
    e->version = v;
    e->seen = true;
    return true;
}

/* Forget the reports of policies deleted or no longer rejected. */
static void forget_reports(struct hnp_reports *r, const struct hnp_cluster *cluster)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->count; i++) {
        struct hnp_reported *e = &r->items[i];
        if (e->seen) {
            r->items[kept++] = *e;
            continue;
        }
        const char *slash = strchr(e->key, '/');
        char ns[300];
        snprintf(ns, sizeof(ns), "%.*s", (int)(slash - e->key), e->key);
        if (hnp_cluster_policy(cluster, ns, slash + 1) != NULL)
            hnp_log(HNP_LOG_INFO, "NetworkPolicy now enforceable", "policy", e->key, NULL);
        free(e->key);
        free(e->version);
    }
    r->count = kept;
}

void hnp_reports_scan(struct hnp_reports *r, const struct hnp_cluster *cluster,
                      const struct hnp_translator *tr, struct hnp_metrics *m, hnp_report_fn report,
                      void *ctx)
{
    size_t n = hnp_cluster_policy_count(cluster);
    size_t applied = 0, rejected = 0;
    size_t by_feature[HNP_FEATURE_COUNT_] = {0};
    for (size_t i = 0; i < r->count; i++)
        r->items[i].seen = false;

    for (size_t i = 0; i < n; i++) {
        const struct hnp_policy *p = hnp_cluster_policy_at(cluster, i);
        if (tr != NULL && hnp_translator_policy_applies(tr, p))
            applied++;
        if (!hnp_policy_rejected(p))
            continue;
        rejected++;
        for (int f = 0; f < HNP_FEATURE_COUNT_; f++)
            by_feature[f] += hnp_policy_has_feature(p, (enum hnp_feature)f);

        char key[600], version[400];
        snprintf(key, sizeof(key), "%s/%s", p->ns, p->name);
        if (p->generation > 0)
            snprintf(version, sizeof(version), "%s/g%lld", p->uid ? p->uid : "", p->generation);
        else
            snprintf(version, sizeof(version), "%s/rv%s", p->uid ? p->uid : "",
                     p->resource_version ? p->resource_version : "");
        if (note_reported(r, key, version) && report != NULL)
            report(ctx, p, key);
    }
    forget_reports(r, cluster);

    char labels[64];
    hnp_metrics_label(labels, sizeof(labels), "state", "known");
    hnp_metrics_set(m, HNP_M_POLICIES, labels, (double)n);
    hnp_metrics_label(labels, sizeof(labels), "state", "applied");
    hnp_metrics_set(m, HNP_M_POLICIES, labels, (double)applied);
    hnp_metrics_label(labels, sizeof(labels), "state", "rejected");
    hnp_metrics_set(m, HNP_M_POLICIES, labels, (double)rejected);
    for (int f = 0; f < HNP_FEATURE_COUNT_; f++) {
        hnp_metrics_label(labels, sizeof(labels), "feature", hnp_feature_name((enum hnp_feature)f));
        hnp_metrics_set(m, HNP_M_REJECTED, labels, (double)by_feature[f]);
    }
}
