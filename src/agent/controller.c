/*
 * controller.c - the state machine of controller.h: keeps every local
 * endpoint's HNS ACLs equal to what the cluster's NetworkPolicies ask for.
 *
 * Convergence: an endpoint is bound to the pod of this node that owns one
 * of its IPs (unbound endpoints are not ours to touch). Its desired ACLs are
 * compared, ACL by ACL (hnp_acl_list_equal), with our ACLs among the
 * Policies HNS last reported for it (every poll refreshes them); when they
 * differ it gets exactly one Update carrying its foreign policies first and
 * unchanged, then the desired set. The controller has one call in flight at
 * a time and builds each request from the latest state, so a burst of
 * changes still costs one call per changed endpoint. Failures back off per
 * endpoint and re-read the endpoint before the retry; the others go on
 * meanwhile.
 *
 * Endpoints are learnt by listing them every endpoint_poll_ms. The CNI
 * creates a pod's endpoint before the kubelet reports the pod's IP, so a pod
 * of this node that owns an IP but has no bound endpoint makes the agent list
 * at once and then every 200 ms, for 10 s after such a pod was first seen
 * unbound (fastpoll.h), instead of leaving the new pod unprotected for up to
 * a whole poll interval.
 *
 * Time only comes in as arguments; nothing here sleeps, locks or reads a
 * clock, so tests drive it with a fake clock.
 */
#include "controller.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metric_defs.h"
#include "endpoints.h"
#include "fastpoll.h"
#include "hnsnetpol/acl.h"
#include "hnsnetpol/cluster.h"
#include "hnsnetpol/objects.h"
#include "hnsnetpol/rangeset.h"
#include "hnsnetpol/strtab.h"
#include "log.h"
#include "reports.h"
#include "platform.h"
#include "text.h"

/* With nothing due, a step asks to be stepped again this much later. */
#define STEP_MAX_MS 60000

#define N_KINDS 3

/* The one HNS call in flight. */
struct flight {
    bool active;
    uint64_t seq;
    enum hnp_hns_op op;
    char *id; /* QUERY, MODIFY */
    long long deadline;
    bool resync;  /* a LIST made for the periodic resync */
    bool cleanup; /* a call of the cleanup at shutdown */
};

/* The cleanup at shutdown (--cleanup-on-exit). */
enum cleanup_phase { CLEANUP_NONE, CLEANUP_LIST, CLEANUP_MODIFY, CLEANUP_DONE };

struct hnp_controller {
    struct hnp_controller_options opt;
    long batch_ms, poll_ms, resync_ms, timeout_ms, retry_initial_ms, retry_max_ms;
    struct hnp_metrics *metrics;

    struct hnp_cluster *cluster;
    const char *api_source; /* interned "api" */
    struct hnp_translator *tr;
    struct hnp_translate_options topt;

    bool synced[N_KINDS];
    bool listed_once;
    bool initial_done;
    bool ready_called;
    bool batch_pending;
    long long batch_deadline;
    bool policies_changed;

    struct hnp_endpoints eps;
    size_t cursor; /* where the fair round over endpoints starts */

    bool worker_available;
    size_t n_abandoned;
    struct flight fly;
    uint64_t next_seq;

    long long next_poll, next_resync;
    long long last_list_end;  /* when the last list returned */
    bool check_unbound;       /* look for unbound pods of this node at the next step */
    struct hnp_fastpoll fast; /* those pods, and the fast polling they cause */
    bool resync_due;
    bool list_ok;
    char list_error[256];
    bool syncing;           /* a pass began that has not converged ... */
    long long sync_started; /* ... at this time */

    struct hnp_reports reports;

    bool stopping;
    enum cleanup_phase cleanup;
    size_t cleanup_index; /* the next endpoint to clean */
    size_t cleaned, cleanup_failed;
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */

static void op_label(enum hnp_hns_op op, char *buf, size_t len)
{
    hnp_metrics_label(buf, len, "operation", hnp_hns_op_name(op));
}

/* ------------------------------------------------------------------------ */
/* Metrics and readiness                                                    */

static void count_call(struct hnp_controller *c, const struct hnp_hns_job *job)
{
    char labels[64];
    op_label(job->op, labels, sizeof(labels));
    hnp_metrics_add(c->metrics, HNP_M_CALLS, labels, 1);
    hnp_metrics_observe(c->metrics, HNP_M_CALL_SECONDS, labels, job->seconds);
    if (job->rc != HNP_OK && job->rc != HNP_ERR_NOT_FOUND)
        hnp_metrics_add(c->metrics, HNP_M_FAILURES, labels, 1);
}

static void update_status(struct hnp_controller *c)
{
    if (c->opt.status == NULL)
        return;
    char why[256] = "";
    if (!c->initial_done) {
        size_t used = (size_t)snprintf(why, sizeof(why), "initial sync not done: waiting for");
        for (int k = 0; k < N_KINDS; k++) {
            if (!c->synced[k] && used < sizeof(why))
                used += (size_t)snprintf(why + used, sizeof(why) - used, " %s",
                                         hnp_kind_resource((enum hnp_kind)k));
        }
        if (!c->listed_once && used < sizeof(why))
            snprintf(why + used, sizeof(why) - used, " %s", "the HNS endpoint list");
    } else if (!c->list_ok) {
        snprintf(why, sizeof(why), "the last HNS endpoint list failed: %.200s", c->list_error);
    } else if (!c->worker_available) {
        snprintf(why, sizeof(why), "HNS calls hang: %zu abandoned calls still running",
                 c->n_abandoned);
    }
    c->opt.status(c->opt.ctx, why[0] == '\0', why);
}

static void update_gauges(struct hnp_controller *c)
{
    size_t bound = 0, rules = 0;
    for (size_t i = 0; i < c->eps.count; i++) {
        bound += c->eps.items[i]->pod_ns != NULL;
        rules += c->eps.items[i]->n_ours;
    }
    hnp_metrics_set(c->metrics, HNP_M_ENDPOINTS, NULL, (double)bound);
    hnp_metrics_set(c->metrics, HNP_M_ACL_RULES, NULL, (double)rules);
    hnp_metrics_set(c->metrics, HNP_M_ABANDONED, NULL, (double)c->n_abandoned);
}

/* ------------------------------------------------------------------------ */
/* Endpoints                                                                */

static void forget_endpoint(struct hnp_controller *c, struct hnp_endpoint *ep, const char *why)
{
    char pod[300];
    hnp_endpoint_format_pod(ep, pod, sizeof(pod));
    hnp_log(HNP_LOG_DEBUG, "endpoint forgotten", "endpoint", ep->id, "pod", pod, "reason", why,
            NULL);
    size_t i = hnp_endpoints_remove(&c->eps, ep);
    if (c->cursor > i)
        c->cursor--;
    if (c->cleanup == CLEANUP_MODIFY && c->cleanup_index > i)
        c->cleanup_index--;
}

static bool same_ips(const struct hnp_endpoint *ep, const struct hnp_hns_endpoint *h)
{
    return ep->n_ips == h->n_ips && memcmp(ep->ips, h->ips, h->n_ips * sizeof(h->ips[0])) == 0;
}

/*
 * Take what HNS reports about an endpoint: its IPs and Policies. Marks it
 * for comparison when either changed (a new IP may mean a new pod; new
 * Policies may be drift).
 */
static void refresh_endpoint(struct hnp_endpoint *ep, const struct hnp_hns_endpoint *h)
{
    if (!same_ips(ep, h)) {
        memcpy(ep->ips, h->ips, sizeof(ep->ips));
        ep->n_ips = h->n_ips;
        ep->dirty = true;
    }
    if (!json_equal(ep->policies, h->policies)) {
        json_decref(ep->policies);
        ep->policies = json_incref(h->policies);
        ep->dirty = true;
    }
}

static void schedule_retry(struct hnp_controller *c, struct hnp_endpoint *ep, long long now)
{
    long next = ep->backoff_ms ? ep->backoff_ms * 2 : c->retry_initial_ms;
    if (next > c->retry_max_ms || next <= 0)
        next = c->retry_max_ms;
    ep->backoff_ms = next;
    ep->retry_at = now + next;
    ep->refresh = true;
}

/* ------------------------------------------------------------------------ */
/* Cluster events                                                           */

static void drop_translator(struct hnp_controller *c)
{
    hnp_translator_free(c->tr);
    c->tr = NULL;
}

static struct hnp_translator *translator(struct hnp_controller *c)
{
    if (c->tr == NULL) {
        c->tr = hnp_translator_new(c->cluster, &c->topt);
        if (c->tr == NULL)
            hnp_log(HNP_LOG_ERROR, "out of memory creating the translator", NULL);
    }
    return c->tr;
}

static void mark_changed(struct hnp_controller *c, long long now)
{
    if (!c->batch_pending) {
        c->batch_pending = true;
        c->batch_deadline = now + c->batch_ms;
    }
}

static void apply_synced(struct hnp_controller *c, enum hnp_kind kind)
{
    if (c->synced[kind]) {
        hnp_log(HNP_LOG_DEBUG, "relist done", "resource", hnp_kind_resource(kind), NULL);
        return;
    }
    c->synced[kind] = true;
    char count[32];
    size_t n = kind == HNP_KIND_NAMESPACE ? hnp_cluster_namespace_count(c->cluster)
               : kind == HNP_KIND_POD     ? hnp_cluster_pod_count(c->cluster)
                                          : hnp_cluster_policy_count(c->cluster);
    snprintf(count, sizeof(count), "%zu", n);
    hnp_log(HNP_LOG_INFO, "initial list done", "resource", hnp_kind_resource(kind), "objects",
            count, NULL);
}

/* Apply one watch event to the cluster; true when the cluster changed. */
static bool apply_event(struct hnp_controller *c, struct hnp_watch_event *e)
{
    const json_t *meta = json_object_get(e->object, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    if (ns == NULL && e->kind != HNP_KIND_NAMESPACE)
        ns = "default";
    drop_translator(c); /* it must not outlive a change of the cluster */

    if (e->type == HNP_WATCH_UPSERT) {
        struct hnp_source src = {.file = c->api_source, .line = 0};
        struct hnp_error err = {0};
        enum hnp_err rc = hnp_cluster_add_object(c->cluster, e->kind, e->object, &src, &err);
        if (rc != HNP_OK) {
            hnp_log(rc == HNP_ERR_NOMEM ? HNP_LOG_ERROR : HNP_LOG_WARN,
                    "object skipped: cannot be read; the last good version stays in effect", "kind",
                    hnp_kind_name(e->kind), "namespace", ns, "name", name, "field", err.where,
                    "error", err.message, NULL);
            return false;
        }
    } else {
        if (name == NULL) {
            hnp_log(HNP_LOG_WARN, "delete event without metadata.name ignored", "kind",
                    hnp_kind_name(e->kind), NULL);
            return false;
        }
        bool gone = false;
        switch (e->kind) {
        case HNP_KIND_NAMESPACE:
            gone = hnp_cluster_delete_namespace(c->cluster, name);
            break;
        case HNP_KIND_POD:
            gone = hnp_cluster_delete_pod(c->cluster, ns, name);
            break;
        case HNP_KIND_POLICY:
            gone = hnp_cluster_delete_policy(c->cluster, ns, name);
            break;
        }
        if (!gone)
            return false;
    }
    if (hnp_log_enabled(HNP_LOG_DEBUG))
        hnp_log(HNP_LOG_DEBUG, e->type == HNP_WATCH_UPSERT ? "object updated" : "object deleted",
                "kind", hnp_kind_name(e->kind), "namespace", ns, "name", name, NULL);
    return true;
}

void hnp_controller_apply(struct hnp_controller *c, struct hnp_watch_event *event, long long now_ms)
{
    if ((unsigned)event->kind < N_KINDS && !c->stopping) {
        if (event->type == HNP_WATCH_SYNCED) {
            apply_synced(c, event->kind);
        } else if (apply_event(c, event)) {
            if (event->kind == HNP_KIND_POLICY)
                c->policies_changed = true;
            mark_changed(c, now_ms);
        }
    }
    json_decref(event->object);
    event->object = NULL;
}

/* ------------------------------------------------------------------------ */
/* Rejected policies                                                        */

/* Log every finding of a rejected policy and have its Event posted. */
static void report_rejected(void *ctx, const struct hnp_policy *p, const char *key)
{
    struct hnp_controller *c = ctx;
    const char *mode = c->topt.unsupported == HNP_UNSUPPORTED_ISOLATE ? "isolate" : "reject";
    for (size_t i = 0; i < p->n_findings; i++) {
        const struct hnp_finding *f = &p->findings[i];
        hnp_log(HNP_LOG_WARN, "NetworkPolicy not enforceable on Windows", "policy", key, "feature",
                hnp_feature_name(f->feature), "field", f->path, "message", f->message, "mode", mode,
                NULL);
    }
    if (c->opt.rejected != NULL && c->opt.rejected(c->opt.ctx, p))
        hnp_metrics_add(c->metrics, HNP_M_EVENTS, NULL, 1);
}

/* ------------------------------------------------------------------------ */
/* Comparing an endpoint with what it should carry                          */

static void compare_dirty(struct hnp_controller *c)
{
    struct hnp_translator *tr = NULL;
    size_t compared = 0, differ = 0;
    for (size_t i = 0; i < c->eps.count; i++) {
        if (!c->eps.items[i]->dirty)
            continue;
        if (tr == NULL && (tr = translator(c)) == NULL)
            return;
        hnp_endpoint_compare(c->eps.items[i], tr, c->opt.node_name);
        compared++;
        differ += c->eps.items[i]->pending != NULL;
    }
    if (compared > 1 && hnp_log_enabled(HNP_LOG_DEBUG)) {
        char n[32], d[32];
        snprintf(n, sizeof(n), "%zu", compared);
        snprintf(d, sizeof(d), "%zu", differ);
        hnp_log(HNP_LOG_DEBUG, "endpoints compared", "compared", n, "to_update", d, NULL);
    }
}

/* ------------------------------------------------------------------------ */
/* The call in flight                                                       */

/* A job for the call, made the call in flight; NULL when out of memory. */
static struct hnp_hns_job *submit(struct hnp_controller *c, enum hnp_hns_op op, const char *id,
                                  json_t *request, size_t n_acls, bool resync, long long now)
{
    struct hnp_hns_job *job = hnp_hns_job_new(op, id, request);
    char *fid = id ? hnp_strdup(id) : NULL;
    if (job == NULL || (id != NULL && fid == NULL)) {
        hnp_hns_job_free(job);
        free(fid);
        hnp_log(HNP_LOG_ERROR, "out of memory preparing an HNS call", NULL);
        return NULL;
    }
    job->seq = ++c->next_seq;
    job->n_acls = n_acls;
    free(c->fly.id);
    c->fly = (struct flight){.active = true,
                             .seq = job->seq,
                             .op = op,
                             .id = fid,
                             .deadline = now + c->timeout_ms,
                             .resync = resync,
                             .cleanup = c->cleanup != CLEANUP_NONE};
    return job;
}

static void end_flight(struct hnp_controller *c)
{
    free(c->fly.id);
    memset(&c->fly, 0, sizeof(c->fly));
}

/* A cleanup Update for id is over (made or not): count the endpoint cleaned or failed. */
static void cleanup_count(struct hnp_controller *c, const char *id, bool made)
{
    /* The call may have forgotten the endpoint: look it up again. */
    struct hnp_endpoint *after = hnp_endpoints_find(&c->eps, id);
    if (made && (after == NULL || after->n_ours == 0))
        c->cleaned++;
    else
        c->cleanup_failed++;
    if (after != NULL)
        c->cleanup_index++; /* else it was removed from the table: the next one moved down */
}

/* The call in flight has hung past its timeout: give up on it (its worker is abandoned). */
static void abandon_flight(struct hnp_controller *c, long long now)
{
    char labels[64], timeout[32];
    op_label(c->fly.op, labels, sizeof(labels));
    hnp_metrics_add(c->metrics, HNP_M_FAILURES, labels, 1);
    snprintf(timeout, sizeof(timeout), "%ldms", c->timeout_ms);
    hnp_log(HNP_LOG_ERROR, "HNS call timed out; abandoned, a new worker takes over", "operation",
            hnp_hns_op_name(c->fly.op), "endpoint", c->fly.id, "timeout", timeout, NULL);
    c->worker_available = false;
    c->n_abandoned++;
    if (c->fly.op == HNP_HNS_LIST) {
        c->list_ok = false;
        snprintf(c->list_error, sizeof(c->list_error), "timed out after %s", timeout);
        c->next_poll = now + c->poll_ms;
        if (c->fly.resync)
            c->resync_due = true;
        if (c->fly.cleanup)
            c->cleanup = CLEANUP_MODIFY;
    } else {
        struct hnp_endpoint *ep = hnp_endpoints_find(&c->eps, c->fly.id);
        if (ep != NULL)
            schedule_retry(c, ep, now);
        if (c->fly.cleanup)
            cleanup_count(c, c->fly.id, true);
    }
    end_flight(c);
    if (c->n_abandoned >= HNP_CONTROLLER_MAX_ABANDONED)
        hnp_log(HNP_LOG_ERROR,
                "too many HNS calls hang; no new call until one returns (not ready meanwhile)",
                NULL);
}

/* ------------------------------------------------------------------------ */
/* Finished calls                                                           */

static void list_done(struct hnp_controller *c, struct hnp_hns_job *job, bool resync, long long now)
{
    c->last_list_end = now;
    c->next_poll = now + c->poll_ms;
    c->check_unbound = true;
    if (job->rc != HNP_OK) {
        if (c->list_ok || strcmp(c->list_error, job->err.message) != 0) {
            char code[24];
            hnp_error_code_text(&job->err, code, sizeof(code));
            hnp_log(HNP_LOG_WARN, "cannot list the HNS endpoints; trying again", "error",
                    hnp_err_name(job->rc), "code", code, "detail", job->err.message, NULL);
        }
        c->list_ok = false;
        snprintf(c->list_error, sizeof(c->list_error), "%.*s", (int)sizeof(c->list_error) - 1,
                 job->err.message);
        if (resync)
            c->resync_due = true;
        return;
    }
    if (!c->list_ok && c->listed_once)
        hnp_log(HNP_LOG_INFO, "HNS endpoint list works again", NULL);
    c->list_ok = true;
    c->list_error[0] = '\0';
    if (!c->listed_once) {
        char count[32];
        snprintf(count, sizeof(count), "%zu", job->n_eps);
        hnp_log(HNP_LOG_INFO, "HNS endpoints listed", "endpoints", count, NULL);
    }
    c->listed_once = true;

    /* Forget endpoints that are gone, then take in the listed ones. */
    for (size_t i = 0; i < c->eps.count; i++)
        c->eps.items[i]->listed = false;
    for (size_t j = 0; j < job->n_eps; j++) {
        struct hnp_endpoint *ep = hnp_endpoints_find(&c->eps, job->eps[j].id);
        if (ep != NULL)
            ep->listed = true;
    }
    for (size_t i = c->eps.count; i-- > 0;) {
        if (!c->eps.items[i]->listed)
            forget_endpoint(c, c->eps.items[i], "no longer listed by HNS");
    }
    for (size_t j = 0; j < job->n_eps; j++) {
        const struct hnp_hns_endpoint *h = &job->eps[j];
        struct hnp_endpoint *ep = hnp_endpoints_find(&c->eps, h->id);
        if (ep == NULL) {
            ep = hnp_endpoints_add(&c->eps, h->id);
            if (ep == NULL) {
                hnp_log(HNP_LOG_ERROR, "out of memory taking in an endpoint", "endpoint", h->id,
                        NULL);
                continue;
            }
            hnp_log(HNP_LOG_DEBUG, "endpoint listed", "endpoint", h->id, NULL);
        }
        refresh_endpoint(ep, h);
        if (resync)
            ep->dirty = true;
    }
    if (resync && c->initial_done && !c->syncing) {
        c->syncing = true;
        c->sync_started = now;
    }
}

static void query_done(struct hnp_controller *c, struct hnp_hns_job *job, long long now)
{
    struct hnp_endpoint *ep = hnp_endpoints_find(&c->eps, job->id);
    if (ep == NULL)
        return;
    if (job->rc == HNP_ERR_NOT_FOUND) {
        forget_endpoint(c, ep, "HNS no longer knows it");
        return;
    }
    if (job->rc != HNP_OK) {
        char code[24];
        hnp_error_code_text(&job->err, code, sizeof(code));
        hnp_log(HNP_LOG_WARN, "cannot read an endpoint before retrying; backing off", "endpoint",
                ep->id, "error", hnp_err_name(job->rc), "code", code, "detail", job->err.message,
                NULL);
        schedule_retry(c, ep, now);
        return;
    }
    ep->refresh = false;
    refresh_endpoint(ep, &job->one);
    ep->dirty = true;
}

/* The endpoint took the Update: remember what was sent, back off when it keeps being undone. */
static void modify_succeeded(struct hnp_controller *c, struct hnp_endpoint *ep,
                             const struct hnp_hns_job *job, const char *pod, long long now)
{
    json_t *sent = json_object_get(json_object_get(job->request, "Settings"), "Policies");
    ep->backoff_ms = 0;
    ep->retry_at = 0;
    ep->refresh = false;
    if (json_is_array(sent)) {
        json_decref(ep->policies);
        ep->policies = json_incref(sent);
        ep->n_ours = job->n_acls;
        if (ep->last_sent != NULL && json_equal(ep->last_sent, sent)) {
            /* The same Update again: back off before the next repeat. */
            ep->repeats++;
            long delay = c->retry_initial_ms;
            for (unsigned r = 1; r < ep->repeats && delay < c->retry_max_ms; r++)
                delay *= 2;
            if (delay > c->retry_max_ms)
                delay = c->retry_max_ms;
            ep->repeat_at = now + delay;
            if (ep->repeats == 2)
                hnp_log(HNP_LOG_WARN,
                        "endpoint ACLs keep being undone; repeating the same Update with backoff",
                        "endpoint", ep->id, "pod", pod, NULL);
        } else {
            ep->repeats = 0;
            ep->repeat_at = 0;
            json_decref(ep->last_sent);
            ep->last_sent = json_incref(sent);
        }
    }
    ep->dirty = true; /* compare again: a change that came meanwhile still needs its Update */
}

static void modify_done(struct hnp_controller *c, struct hnp_hns_job *job, long long now)
{
    struct hnp_endpoint *ep = hnp_endpoints_find(&c->eps, job->id);
    if (ep == NULL)
        return;
    char pod[300], seconds[32];
    hnp_endpoint_format_pod(ep, pod, sizeof(pod));
    snprintf(seconds, sizeof(seconds), "%.3f", job->seconds);
    if (job->rc == HNP_ERR_NOT_FOUND) {
        forget_endpoint(c, ep, "gone when updated");
        return;
    }
    if (job->rc != HNP_OK) {
        char code[24];
        hnp_error_code_text(&job->err, code, sizeof(code));
        schedule_retry(c, ep, now);
        char backoff[32];
        snprintf(backoff, sizeof(backoff), "%ldms", ep->backoff_ms);
        hnp_log(HNP_LOG_WARN, "cannot update endpoint ACLs; retrying", "endpoint", ep->id, "pod",
                pod, "error", hnp_err_name(job->rc), "code", code, "detail", job->err.message,
                "retry_in", backoff, NULL);
        return;
    }
    modify_succeeded(c, ep, job, pod, now);
    char count[32];
    snprintf(count, sizeof(count), "%zu", ep->n_ours);
    hnp_log(HNP_LOG_INFO, "endpoint ACLs updated", "endpoint", ep->id, "pod", pod, "acls", count,
            "seconds", seconds, NULL);
}

void hnp_controller_job_done(struct hnp_controller *c, struct hnp_hns_job *job, long long now_ms)
{
    count_call(c, job);
    if (!c->fly.active || job->seq != c->fly.seq) {
        /* A job given up on just as it finished: what it changed is unknown, re-read. */
        struct hnp_endpoint *ep = job->id ? hnp_endpoints_find(&c->eps, job->id) : NULL;
        if (ep != NULL) {
            ep->refresh = true;
            ep->dirty = true;
        }
        hnp_hns_job_free(job);
        return;
    }
    bool resync = c->fly.resync, cleanup = c->fly.cleanup;
    end_flight(c);
    switch (job->op) {
    case HNP_HNS_LIST:
        list_done(c, job, resync, now_ms);
        if (cleanup)
            c->cleanup = CLEANUP_MODIFY;
        break;
    case HNP_HNS_QUERY:
        query_done(c, job, now_ms);
        break;
    case HNP_HNS_MODIFY:
        modify_done(c, job, now_ms);
        if (cleanup)
            cleanup_count(c, job->id, true);
        break;
    }
    hnp_hns_job_free(job);
}

/* ------------------------------------------------------------------------ */
/* Deciding the next call                                                   */

static bool list_wanted(const struct hnp_controller *c, long long now)
{
    return !c->listed_once || c->resync_due || now >= c->next_poll;
}

/* Is the pending Update the one that keeps being undone, and its backoff not over? */
static bool repeat_held(const struct hnp_endpoint *ep, long long now)
{
    if (ep->repeat_at <= now || ep->last_sent == NULL || ep->pending == NULL)
        return false;
    const json_t *next = json_object_get(json_object_get(ep->pending, "Settings"), "Policies");
    return json_equal(next, ep->last_sent);
}

static struct hnp_hns_job *dispatch(struct hnp_controller *c, long long now)
{
    if (!c->worker_available || c->fly.active)
        return NULL;
    if (list_wanted(c, now)) {
        bool resync = c->resync_due && c->initial_done;
        if (resync)
            c->resync_due = false;
        return submit(c, HNP_HNS_LIST, NULL, NULL, 0, resync, now);
    }
    if (!c->initial_done)
        return NULL;
    for (size_t k = 0; k < c->eps.count; k++) {
        size_t i = (c->cursor + k) % c->eps.count;
        struct hnp_endpoint *ep = c->eps.items[i];
        if ((ep->pending == NULL && !ep->refresh) || ep->retry_at > now || ep->dirty)
            continue;
        if (!ep->refresh && repeat_held(ep, now))
            continue;
        c->cursor = i + 1;
        if (ep->refresh)
            return submit(c, HNP_HNS_QUERY, ep->id, NULL, 0, false, now);
        return submit(c, HNP_HNS_MODIFY, ep->id, ep->pending, ep->pending_acls, false, now);
    }
    return NULL;
}

/* Every endpoint carries its desired ACLs: record it. */
static void check_converged(struct hnp_controller *c, long long now, long long wall)
{
    if (!c->initial_done || c->batch_pending || c->fly.active || !c->list_ok || !c->syncing)
        return;
    for (size_t i = 0; i < c->eps.count; i++) {
        const struct hnp_endpoint *ep = c->eps.items[i];
        if (ep->pending != NULL || ep->refresh || ep->dirty)
            return;
    }
    hnp_metrics_observe(c->metrics, HNP_M_SYNC_SECONDS, NULL,
                        (double)(now - c->sync_started) / 1000.0);
    hnp_metrics_set(c->metrics, HNP_M_LAST_SYNC, NULL, (double)wall / 1000.0);
    c->syncing = false;
}

/* The earliest moment something is due, at most STEP_MAX_MS away. */
static long long next_wakeup(const struct hnp_controller *c, long long now)
{
    long long t = now + STEP_MAX_MS;
#define EARLIER(x)                                                                                 \
    do {                                                                                           \
        if ((x) < t)                                                                               \
            t = (x);                                                                               \
    } while (0)
    if (c->fly.active)
        EARLIER(c->fly.deadline);
    if (c->batch_pending && c->initial_done && !c->stopping)
        EARLIER(c->batch_deadline);
    if (c->worker_available && !c->fly.active && !c->stopping) {
        EARLIER(c->next_poll);
        if (c->initial_done) {
            EARLIER(c->next_resync);
            for (size_t i = 0; i < c->eps.count; i++) {
                const struct hnp_endpoint *ep = c->eps.items[i];
                if (ep->pending != NULL || ep->refresh)
                    EARLIER(ep->retry_at > ep->repeat_at ? ep->retry_at : ep->repeat_at);
            }
        }
    }
#undef EARLIER
    return t > now ? t : now;
}

/* The initial sync is complete: every kind listed and the endpoints listed once. */
static void initial_sync_done(struct hnp_controller *c, long long now)
{
    c->initial_done = true;
    c->batch_pending = true;
    c->batch_deadline = now;
    c->policies_changed = true;
    c->next_resync = now + c->resync_ms;
    char pods[32], policies[32], eps[32];
    snprintf(pods, sizeof(pods), "%zu", hnp_cluster_pod_count(c->cluster));
    snprintf(policies, sizeof(policies), "%zu", hnp_cluster_policy_count(c->cluster));
    snprintf(eps, sizeof(eps), "%zu", c->eps.count);
    hnp_log(HNP_LOG_INFO, "initial sync done; converging", "pods", pods, "policies", policies,
            "hns_endpoints", eps, NULL);
    /* The LIST pages were the peak; what is kept is the compact model. */
    hnp_release_free_memory();
}

/* The cleanup's next call at shutdown, or NULL (then perhaps it is done). */
static struct hnp_hns_job *cleanup_next(struct hnp_controller *c, long long now)
{
    if (c->fly.active)
        return NULL;
    if (c->cleanup == CLEANUP_LIST) {
        /* A fresh list, so what is removed is what is there now. */
        if (c->worker_available) {
            struct hnp_hns_job *job = submit(c, HNP_HNS_LIST, NULL, NULL, 0, false, now);
            if (job != NULL)
                return job;
        }
        c->cleanup = CLEANUP_MODIFY;
    }
    while (c->cleanup == CLEANUP_MODIFY) {
        if (c->cleanup_index >= c->eps.count ||
            (!c->worker_available && c->n_abandoned >= HNP_CONTROLLER_MAX_ABANDONED)) {
            c->cleanup = CLEANUP_DONE;
            char ok[32], bad[32];
            snprintf(ok, sizeof(ok), "%zu", c->cleaned);
            snprintf(bad, sizeof(bad), "%zu", c->cleanup_failed);
            hnp_log(c->cleanup_failed ? HNP_LOG_WARN : HNP_LOG_INFO, "cleanup done",
                    "endpoints_cleaned", ok, "endpoints_failed", bad, NULL);
            break;
        }
        struct hnp_endpoint *ep = c->eps.items[c->cleanup_index];
        struct hnp_acl_list ours, none;
        hnp_acl_list_init(&ours);
        hnp_acl_list_init(&none);
        json_t *foreign = hnp_hns_split_policies(ep->policies, &ours);
        size_t n_ours = ours.count;
        hnp_acl_list_free(&ours);
        if (foreign == NULL || n_ours == 0) {
            json_decref(foreign);
            c->cleanup_index++;
            continue;
        }
        json_t *request = hnp_acl_list_request(&none, foreign);
        json_decref(foreign);
        struct hnp_hns_job *job = request != NULL && c->worker_available
                                      ? submit(c, HNP_HNS_MODIFY, ep->id, request, 0, false, now)
                                      : NULL;
        json_decref(request);
        if (job != NULL)
            return job;
        cleanup_count(c, ep->id, false);
    }
    return NULL;
}

void hnp_controller_step(struct hnp_controller *c, long long now_ms, long long wall_ms,
                         struct hnp_controller_step *out)
{
    long long now = now_ms;
    memset(out, 0, sizeof(*out));
    if (c->fly.active && now >= c->fly.deadline) {
        /* The caller abandons the worker, brings a new one and steps again at once. */
        abandon_flight(c, now);
        out->abandon = true;
        out->wake_ms = now;
        return;
    }
    if (c->stopping) {
        if (c->cleanup != CLEANUP_NONE)
            out->job = cleanup_next(c, now);
        out->wake_ms = next_wakeup(c, now);
        return;
    }

    bool first_pass = false;
    if (!c->initial_done && c->listed_once && c->synced[HNP_KIND_NAMESPACE] &&
        c->synced[HNP_KIND_POD] && c->synced[HNP_KIND_POLICY]) {
        initial_sync_done(c, now);
        first_pass = true;
    }
    if (c->initial_done && now >= c->next_resync) {
        c->resync_due = true;
        c->next_resync = now + c->resync_ms;
        hnp_log(HNP_LOG_DEBUG, "resync: re-reading every endpoint", NULL);
    }
    if (c->initial_done && c->batch_pending && now >= c->batch_deadline) {
        c->batch_pending = false;
        for (size_t i = 0; i < c->eps.count; i++)
            c->eps.items[i]->dirty = true;
        if (c->policies_changed) {
            hnp_reports_scan(&c->reports, c->cluster, translator(c), c->metrics, report_rejected,
                             c);
            c->policies_changed = false;
        }
        if (!c->syncing) {
            c->syncing = true;
            c->sync_started = now;
        }
        c->check_unbound = true;
    }
    if (c->initial_done)
        compare_dirty(c);
    if (c->initial_done && c->check_unbound) {
        c->check_unbound = false;
        c->next_poll = hnp_fastpoll_check(&c->fast, c->cluster, c->opt.node_name, &c->eps, now,
                                          c->last_list_end, c->next_poll, c->fly.active);
    }
    out->job = dispatch(c, now);
    check_converged(c, now, wall_ms);
    update_gauges(c);
    update_status(c);
    if (first_pass && !c->ready_called) {
        c->ready_called = true;
        if (c->opt.ready != NULL)
            c->opt.ready(c->opt.ctx);
    }
    out->wake_ms = next_wakeup(c, now);
}

void hnp_controller_set_workers(struct hnp_controller *c, bool available, size_t n_abandoned)
{
    c->worker_available = available;
    c->n_abandoned = n_abandoned;
}

void hnp_controller_shutdown(struct hnp_controller *c, bool cleanup)
{
    if (c->stopping)
        return;
    c->stopping = true;
    if (cleanup) {
        hnp_log(HNP_LOG_INFO, "removing the ACLs of hnsnetpol from every local endpoint", NULL);
        c->cleanup = CLEANUP_LIST;
        c->cleanup_index = 0;
    }
}

bool hnp_controller_finished(const struct hnp_controller *c)
{
    return c->stopping && !c->fly.active &&
           (c->cleanup == CLEANUP_NONE || c->cleanup == CLEANUP_DONE);
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                               */

static long or_default(long value, long def)
{
    return value > 0 ? value : def;
}

enum hnp_err hnp_controller_new(const struct hnp_controller_options *options,
                                struct hnp_controller **out, struct hnp_error *err)
{
    if (options->node_name == NULL || options->node_name[0] == '\0' || options->metrics == NULL)
        return hnp_error_set(err, HNP_ERR_INVALID, NULL,
                             "the controller needs a node name and a metrics registry");
    struct hnp_controller *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    c->opt = *options;
    c->metrics = options->metrics;
    c->batch_ms = or_default(options->batch_ms, HNP_CONTROLLER_DEFAULT_BATCH_MS);
    c->poll_ms = or_default(options->endpoint_poll_ms, HNP_CONTROLLER_DEFAULT_POLL_MS);
    hnp_fastpoll_init(&c->fast,
                      c->poll_ms < HNP_FASTPOLL_EVERY_MS ? c->poll_ms : HNP_FASTPOLL_EVERY_MS);
    c->resync_ms = or_default(options->resync_ms, HNP_CONTROLLER_DEFAULT_RESYNC_MS);
    c->timeout_ms = or_default(options->hns_timeout_ms, HNP_CONTROLLER_DEFAULT_TIMEOUT_MS);
    c->retry_initial_ms =
        or_default(options->retry_initial_ms, HNP_CONTROLLER_DEFAULT_RETRY_INITIAL_MS);
    c->retry_max_ms = or_default(options->retry_max_ms, HNP_CONTROLLER_DEFAULT_RETRY_MAX_MS);
    if (c->retry_max_ms < c->retry_initial_ms)
        c->retry_max_ms = c->retry_initial_ms;
    c->topt.has_node_ip = options->has_node_ip;
    c->topt.node_ip = options->node_ip;
    c->topt.unsupported = options->unsupported;
    hnp_endpoints_init(&c->eps);
    c->cluster = hnp_cluster_new();
    if (c->cluster == NULL ||
        (c->api_source = hnp_strtab_intern(hnp_cluster_strtab(c->cluster), "api")) == NULL) {
        hnp_controller_free(c);
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    }
    enum hnp_err rc = hnp_agent_metrics_declare(c->metrics);
    if (rc != HNP_OK) {
        hnp_controller_free(c);
        return hnp_error_set(err, rc, NULL, "cannot declare the agent's metrics");
    }
    *out = c;
    return HNP_OK;
}

void hnp_controller_free(struct hnp_controller *c)
{
    if (c == NULL)
        return;
    drop_translator(c);
    hnp_cluster_free(c->cluster);
    hnp_endpoints_clear(&c->eps);
    hnp_reports_clear(&c->reports);
    hnp_fastpoll_clear(&c->fast);
    free(c->fly.id);
    free(c);
}

size_t hnp_controller_endpoint_count(const struct hnp_controller *c, size_t *bound)
{
    if (bound != NULL) {
        *bound = 0;
        for (size_t i = 0; i < c->eps.count; i++)
            *bound += c->eps.items[i]->pod_ns != NULL;
    }
    return c->eps.count;
}

bool hnp_controller_busy(const struct hnp_controller *c)
{
    return c->fly.active;
}

bool hnp_controller_initial_done(const struct hnp_controller *c)
{
    return c->initial_done;
}
