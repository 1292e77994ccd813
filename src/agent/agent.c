/*
 * agent.c - the controller of `hnsnetpol run`: keeps every local endpoint's
 * HNS ACLs equal to what the cluster's NetworkPolicies ask for.
 *
 * Threads and who owns what:
 *   - three reflectors (watch.c) LIST and WATCH namespaces, pods and
 *     networkpolicies and push their events into the inbox (a bounded queue
 *     under one mutex and condition variable);
 *   - the controller thread (the caller of hnp_agent_run) owns the cluster
 *     model, the table of local endpoints and every decision. It drains the
 *     inbox, applies the events to the cluster, and after a short batch
 *     window recomputes the desired ACLs of the local endpoints;
 *   - one HNS worker (agent_hns_worker.c) makes the HNS calls, one at a
 *     time, and hands finished jobs back through the same inbox. A call that
 *     hangs past hns_timeout_ms is abandoned with its worker and a fresh
 *     worker takes over;
 *   - the events thread (agent_events.c) posts Kubernetes Events about
 *     rejected policies; the HTTP listener (http_server.c) serves metrics and
 *     probes and asks ready_probe() about readiness.
 *
 * Convergence: an endpoint is bound to the pod of this node that owns one
 * of its IPs (unbound endpoints are not ours to touch). Its desired ACLs are
 * compared, rendered JSON by rendered JSON, with our ACLs among the Policies
 * HNS last reported for it (every poll refreshes them); when they differ it
 * gets exactly one Update carrying its foreign policies first and unchanged,
 * then the desired set. The controller hands the worker one job at a time
 * and builds each request from the latest state, so a burst of changes still
 * costs one call per changed endpoint. Failures back off per endpoint and
 * re-read the endpoint before the retry; the others go on meanwhile.
 *
 * Endpoints are learnt by listing them every endpoint_poll_ms. The CNI
 * creates a pod's endpoint before the kubelet reports the pod's IP, so a pod
 * of this node that owns an IP but has no bound endpoint makes the agent list
 * at once and then every FAST_POLL_MS, for FAST_POLL_WINDOW_MS after such a
 * pod was first seen unbound (watch_unbound), instead of leaving the new pod
 * unprotected for up to a whole poll interval.
 */
#define _POSIX_C_SOURCE 200809L

#include "agent.h"
#include "http_server.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hnsnetpol/acl.h"
#include "hnsnetpol/cluster.h"
#include "platform.h"
#include "log.h"
#include "hnsnetpol/objects.h"
#include "hnsnetpol/rangeset.h"
#include "hnsnetpol/strtab.h"

#define DEFAULT_METRICS_ADDR "127.0.0.1:9915"
#define DEFAULT_BATCH_MS 100
#define DEFAULT_POLL_MS 2000
#define DEFAULT_RESYNC_MS 300000
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_RETRY_INITIAL_MS 500
#define DEFAULT_RETRY_MAX_MS 60000

/* The stop flag is looked at least this often. */
#define STOP_CHECK_MS 100
/* Events waiting in the inbox before a reflector's sink blocks. */
#define INBOX_MAX_EVENTS 4096
/*
 * Or JSON text (struct hnp_watch_event.bytes) of the events waiting: their
 * trees take about ten times as much. When the controller lags behind a
 * 20,000-pod initial list, 4,096 pod trees alone were ~25 MB of the peak.
 */
#define INBOX_MAX_BYTES ((size_t)256 * 1024)
/* Abandoned (hung) workers still running before no new one is started. */
#define MAX_ABANDONED 4
/* Wait before trying again to open an HNS backend for a new worker. */
#define WORKER_REOPEN_MS 1000
/*
 * While a pod of this node owns an IP that no endpoint is bound to, the
 * endpoints are listed this long after the previous list returned (or at
 * the normal interval when that is shorter) ...
 */
#define FAST_POLL_MS 200
/* ... until this long after the last such pod was first seen unbound. */
#define FAST_POLL_WINDOW_MS 10000

#define M_POLICIES "hnsnetpol_policies"
#define M_REJECTED "hnsnetpol_policies_rejected"
#define M_ENDPOINTS "hnsnetpol_local_endpoints"
#define M_ACL_RULES "hnsnetpol_acl_rules"
#define M_CALLS "hnsnetpol_hns_calls_total"
#define M_FAILURES "hnsnetpol_hns_failures_total"
#define M_CALL_SECONDS "hnsnetpol_hns_call_duration_seconds"
#define M_LAST_SYNC "hnsnetpol_last_sync_timestamp_seconds"
#define M_SYNC_SECONDS "hnsnetpol_sync_duration_seconds"
#define M_EVENTS "hnsnetpol_rejection_events_total"
#define M_ABANDONED "hnsnetpol_hns_abandoned_calls"

#define N_KINDS 3

static hnp_agent_started_fn started_callback;
static void *started_callback_ctx;
static hnp_agent_ready_fn ready_callback;
static void *ready_callback_ctx;
static struct hnp_agent_test_hooks test_hooks;

void hnp_agent_set_started_callback(hnp_agent_started_fn fn, void *ctx)
{
    started_callback = fn;
    started_callback_ctx = ctx;
}

void hnp_agent_set_ready_callback(hnp_agent_ready_fn fn, void *ctx)
{
    ready_callback = fn;
    ready_callback_ctx = ctx;
}

void hnp_agent_set_test_hooks(const struct hnp_agent_test_hooks *hooks)
{
    if (hooks != NULL)
        test_hooks = *hooks;
    else
        memset(&test_hooks, 0, sizeof(test_hooks));
}

/* ------------------------------------------------------------------------ */
/* Clocks                                                                   */

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------------ */
/* The inbox: reflector events and finished HNS jobs for the controller     */

struct queued_event {
    enum hnp_kind kind;
    enum hnp_watch_event_type type;
    json_t *object;
    size_t bytes; /* event->bytes, for INBOX_MAX_BYTES */
    struct queued_event *next;
};

struct inbox {
    pthread_mutex_t mu;
    pthread_cond_t wake;     /* the controller waits on it */
    pthread_cond_t not_full; /* sinks wait on it */
    bool monotonic;          /* wake uses CLOCK_MONOTONIC (else the realtime clock) */
    struct queued_event *ev_head, *ev_tail;
    size_t n_events;
    size_t n_bytes; /* sum of their bytes */
    struct hnp_hns_job *job_head, *job_tail;
    bool closed; /* no more events are taken */
};

static bool inbox_init(struct inbox *in)
{
    memset(in, 0, sizeof(*in));
    if (pthread_mutex_init(&in->mu, NULL) != 0)
        return false;
    /*
     * Ask the library for a monotonic clock on the condition variable, and
     * fall back to the realtime clock where it has none (winpthreads).
     */
    pthread_condattr_t attr;
    bool ok = pthread_condattr_init(&attr) == 0;
    in->monotonic = ok && pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0;
    int rc = pthread_cond_init(&in->wake, ok && in->monotonic ? &attr : NULL);
    if (ok)
        pthread_condattr_destroy(&attr);
    if (rc != 0) {
        pthread_mutex_destroy(&in->mu);
        return false;
    }
    if (pthread_cond_init(&in->not_full, NULL) != 0) {
        pthread_cond_destroy(&in->wake);
        pthread_mutex_destroy(&in->mu);
        return false;
    }
    return true;
}

static void free_events(struct queued_event *e)
{
    while (e != NULL) {
        struct queued_event *next = e->next;
        json_decref(e->object);
        free(e);
        e = next;
    }
}

static void free_jobs(struct hnp_hns_job *j)
{
    while (j != NULL) {
        struct hnp_hns_job *next = j->next;
        hnp_hns_job_free(j);
        j = next;
    }
}

static void inbox_destroy(struct inbox *in)
{
    free_events(in->ev_head);
    free_jobs(in->job_head);
    pthread_cond_destroy(&in->not_full);
    pthread_cond_destroy(&in->wake);
    pthread_mutex_destroy(&in->mu);
}

/* The sink of the reflectors: queue the event, waiting while the queue is full. */
static void inbox_sink(struct hnp_watch_event *event, void *ctx)
{
    struct inbox *in = ctx;
    struct queued_event *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        hnp_log(HNP_LOG_ERROR, "watch event dropped: out of memory", "resource",
                hnp_kind_resource(event->kind), NULL);
        json_decref(event->object);
        return;
    }
    e->kind = event->kind;
    e->type = event->type;
    e->object = event->object;
    e->bytes = event->bytes;
    pthread_mutex_lock(&in->mu);
    /* One event larger than INBOX_MAX_BYTES still goes in, alone. */
    while (!in->closed && (in->n_events >= INBOX_MAX_EVENTS ||
                           (in->n_events > 0 && in->n_bytes + e->bytes > INBOX_MAX_BYTES)))
        pthread_cond_wait(&in->not_full, &in->mu);
    if (in->closed) {
        pthread_mutex_unlock(&in->mu);
        free_events(e);
        return;
    }
    if (in->ev_tail != NULL)
        in->ev_tail->next = e;
    else
        in->ev_head = e;
    in->ev_tail = e;
    in->n_events++;
    in->n_bytes += e->bytes;
    pthread_cond_signal(&in->wake);
    pthread_mutex_unlock(&in->mu);
}

/* The done() of the HNS workers: queue the finished job. */
static void inbox_job_done(struct hnp_hns_job *job, void *ctx)
{
    struct inbox *in = ctx;
    job->next = NULL;
    pthread_mutex_lock(&in->mu);
    if (in->job_tail != NULL)
        in->job_tail->next = job;
    else
        in->job_head = job;
    in->job_tail = job;
    pthread_cond_signal(&in->wake);
    pthread_mutex_unlock(&in->mu);
}

/*
 * Wait until something is queued or the monotonic time `until` (ms) comes,
 * then take everything queued. *events and *jobs receive lists (may be NULL).
 */
static void inbox_take(struct inbox *in, long long until, struct queued_event **events,
                       struct hnp_hns_job **jobs)
{
    pthread_mutex_lock(&in->mu);
    while (in->ev_head == NULL && in->job_head == NULL) {
        long long left = until - mono_ms();
        if (left <= 0)
            break;
        struct timespec ts;
        clock_gettime(in->monotonic ? CLOCK_MONOTONIC : CLOCK_REALTIME, &ts);
        long long ns = (long long)ts.tv_nsec + (left % 1000) * 1000000LL;
        ts.tv_sec += (time_t)(left / 1000 + ns / 1000000000LL);
        ts.tv_nsec = (long)(ns % 1000000000LL);
        int rc = pthread_cond_timedwait(&in->wake, &in->mu, &ts);
        if (rc == ETIMEDOUT)
            break;
    }
    *events = in->ev_head;
    *jobs = in->job_head;
    in->ev_head = in->ev_tail = NULL;
    in->job_head = in->job_tail = NULL;
    if (in->n_events > 0) {
        in->n_events = 0;
        in->n_bytes = 0;
        pthread_cond_broadcast(&in->not_full);
    }
    pthread_mutex_unlock(&in->mu);
}

static void inbox_close(struct inbox *in)
{
    pthread_mutex_lock(&in->mu);
    in->closed = true;
    pthread_cond_broadcast(&in->not_full);
    pthread_mutex_unlock(&in->mu);
}

/* ------------------------------------------------------------------------ */
/* State                                                                    */

/* One local HNS endpoint as the controller knows it. */
struct endpoint {
    char *id; /* as HNS spells it; compared ignoring case */
    uint32_t ips[HNP_HNS_MAX_IPS];
    size_t n_ips;
    json_t *policies; /* the Policies HNS last reported, or what we last sent */
    size_t n_ours;    /* our ACLs among them (metric) */
    /* The bound pod (strings interned in the cluster's table), or NULL. */
    const char *pod_ns, *pod_name, *pod_uid;
    json_t *pending; /* the Update to send, or NULL when in sync */
    bool dirty;      /* compare at the next pass */
    bool refresh;    /* re-read it (query) before the next Update: a call failed */
    long backoff_ms;
    long long retry_at; /* monotonic ms before which no call is made for it */
    /*
     * The Policies of the last successful Update, and how many Updates in a
     * row sent exactly those: something keeps undoing them (drift, or an
     * HNS that does not report back what it was given). Such repeats back
     * off, so a disagreement cannot turn into a call every poll.
     */
    json_t *last_sent;
    unsigned repeats;
    long long repeat_at; /* monotonic ms before which that same Update is not sent again */
};

/* A rejected policy that has been reported (log line and Event). */
struct reported {
    char *key;     /* ns/name */
    char *version; /* uid and generation (or resourceVersion) */
    bool seen;
};

/* A pod of this node without a bound endpoint (strings interned in the cluster's table). */
struct unbound_pod {
    const char *ns, *name, *uid;
    bool seen; /* still unbound at this check */
};

/* The one HNS call in flight. */
struct flight {
    bool active;
    uint64_t seq;
    enum hnp_hns_op op;
    char *id; /* QUERY, MODIFY */
    long long deadline;
    bool resync; /* a LIST made for the periodic resync */
};

struct agent {
    const struct hnp_agent_options *opt;
    const volatile int *stop;
    const char *node;
    long batch_ms, poll_ms, resync_ms, timeout_ms, retry_initial_ms, retry_max_ms;

    struct inbox inbox;
    struct hnp_metrics *metrics;
    bool own_metrics;
    struct hnp_http_server *http;
    struct hnp_agent_events *events;
    struct hnp_reflector *reflectors[N_KINDS];
    bool hook_source_started;

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

    struct endpoint **eps;
    size_t n_eps, cap_eps;
    size_t cursor; /* where the fair round over endpoints starts */

    struct hnp_hns_worker *worker;
    struct hnp_hns_worker *abandoned[MAX_ABANDONED];
    size_t n_abandoned;
    long long next_worker_try;
    struct flight fly;
    uint64_t next_seq;

    long long next_poll, next_resync;
    long fast_poll_ms;
    long long last_list_end;     /* monotonic ms the last list returned */
    bool check_unbound;          /* look for unbound pods of this node at the next step */
    long long fast_poll_until;   /* monotonic ms; 0 when listing at the normal interval */
    struct unbound_pod *unbound; /* the pods of this node seen unbound at the last check */
    size_t n_unbound, cap_unbound;
    bool resync_due;
    bool list_ok;
    char list_error[256];
    long long sync_started; /* monotonic ms a pass began that has not converged; 0 none */

    struct reported *reported;
    size_t n_reported, cap_reported;

    /* Readiness, read by the HTTP thread. */
    pthread_mutex_t status_mu;
    bool ready;
    char not_ready[256];
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */

static bool same_ignoring_case(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca >= 'A' && ca <= 'Z')
            ca += 'a' - 'A';
        if (cb >= 'A' && cb <= 'Z')
            cb += 'a' - 'A';
        if (ca != cb)
            return false;
        if (ca == 0)
            return true;
    }
}

static char *dup_str(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t len = strlen(s);
    char *d = malloc(len + 1);
    if (d != NULL)
        memcpy(d, s, len + 1);
    return d;
}

static const char *kind_name(enum hnp_kind kind)
{
    switch (kind) {
    case HNP_KIND_NAMESPACE:
        return "Namespace";
    case HNP_KIND_POD:
        return "Pod";
    case HNP_KIND_POLICY:
        return "NetworkPolicy";
    }
    return "unknown";
}

/* "10.0.0.5,10.0.0.6" */
static void format_ips(const uint32_t *ips, size_t n, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used + 17 < len; i++) {
        char ip[16];
        hnp_ipv4_format(ips[i], ip);
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", ip);
    }
}

static void format_pod(const struct endpoint *ep, char *out, size_t len)
{
    if (ep->pod_ns != NULL)
        snprintf(out, len, "%s/%s", ep->pod_ns, ep->pod_name);
    else
        snprintf(out, len, "%s", "");
}

static void format_code(long long code, char out[24])
{
    if (code != 0)
        snprintf(out, 24, "0x%08llX", (unsigned long long)code & 0xFFFFFFFFull);
    else
        snprintf(out, 24, "%s", "");
}

static void op_label(enum hnp_hns_op op, char *buf, size_t len)
{
    hnp_metrics_label(buf, len, "operation", hnp_hns_op_name(op));
}

/* ------------------------------------------------------------------------ */
/* Metrics and readiness                                                    */

static const double call_buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                      1,     2.5,   5,    10,    30,   60,  120};
static const double sync_buckets[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

static enum hnp_err declare_metrics(struct hnp_metrics *m)
{
    struct {
        const char *name;
        enum hnp_metric_type type;
        const char *help;
        const double *buckets;
        size_t n_buckets;
    } defs[] = {
        {M_POLICIES, HNP_METRIC_GAUGE,
         "NetworkPolicies by state: known (in the cluster), applied (enforced, fully or, in "
         "isolate mode, for isolation only), rejected (using what Windows cannot enforce)",
         NULL, 0},
        {M_REJECTED, HNP_METRIC_GAUGE, "Rejected NetworkPolicies that use each unsupported feature",
         NULL, 0},
        {M_ENDPOINTS, HNP_METRIC_GAUGE,
         "Local HNS endpoints bound to a pod of this node (the endpoints the agent manages)", NULL,
         0},
        {M_ACL_RULES, HNP_METRIC_GAUGE, "ACL rules of hnsnetpol on the local endpoints", NULL, 0},
        {M_CALLS, HNP_METRIC_COUNTER, "HNS calls made, by operation (list, query, modify)", NULL,
         0},
        {M_FAILURES, HNP_METRIC_COUNTER,
         "HNS calls that failed or timed out, by operation (an endpoint gone is not a failure)",
         NULL, 0},
        {M_CALL_SECONDS, HNP_METRIC_HISTOGRAM, "Duration of HNS calls, by operation", call_buckets,
         sizeof(call_buckets) / sizeof(call_buckets[0])},
        {M_LAST_SYNC, HNP_METRIC_GAUGE,
         "Unix time when every local endpoint was last known to carry its desired ACLs", NULL, 0},
        {M_SYNC_SECONDS, HNP_METRIC_HISTOGRAM,
         "Time from the start of a sync pass (a batch of changes, the initial sync, a resync) "
         "until every local endpoint carried its desired ACLs",
         sync_buckets, sizeof(sync_buckets) / sizeof(sync_buckets[0])},
        {M_EVENTS, HNP_METRIC_COUNTER,
         "Kubernetes Events queued for posting about rejected policies", NULL, 0},
        {M_ABANDONED, HNP_METRIC_GAUGE,
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
        op_label((enum hnp_hns_op)op, labels, sizeof(labels));
        hnp_metrics_add(m, M_CALLS, labels, 0);
        hnp_metrics_add(m, M_FAILURES, labels, 0);
    }
    static const char *const states[] = {"known", "applied", "rejected"};
    for (size_t i = 0; i < 3; i++) {
        hnp_metrics_label(labels, sizeof(labels), "state", states[i]);
        hnp_metrics_set(m, M_POLICIES, labels, 0);
    }
    for (int f = 0; f < HNP_FEATURE_COUNT_; f++) {
        hnp_metrics_label(labels, sizeof(labels), "feature", hnp_feature_name((enum hnp_feature)f));
        hnp_metrics_set(m, M_REJECTED, labels, 0);
    }
    hnp_metrics_set(m, M_ENDPOINTS, NULL, 0);
    hnp_metrics_set(m, M_ACL_RULES, NULL, 0);
    hnp_metrics_set(m, M_LAST_SYNC, NULL, 0);
    hnp_metrics_add(m, M_EVENTS, NULL, 0);
    hnp_metrics_set(m, M_ABANDONED, NULL, 0);
    return HNP_OK;
}

static void count_call(struct agent *a, const struct hnp_hns_job *job)
{
    char labels[64];
    op_label(job->op, labels, sizeof(labels));
    hnp_metrics_add(a->metrics, M_CALLS, labels, 1);
    hnp_metrics_observe(a->metrics, M_CALL_SECONDS, labels, job->seconds);
    if (job->rc != HNP_OK && job->rc != HNP_ERR_NOT_FOUND)
        hnp_metrics_add(a->metrics, M_FAILURES, labels, 1);
}

/* The HTTP thread's /readyz. */
static bool ready_probe(void *ctx, char *reason, size_t reason_len)
{
    struct agent *a = ctx;
    pthread_mutex_lock(&a->status_mu);
    bool ready = a->ready;
    if (!ready)
        snprintf(reason, reason_len, "%s", a->not_ready);
    pthread_mutex_unlock(&a->status_mu);
    return ready;
}

static void update_status(struct agent *a)
{
    char why[256] = "";
    if (!a->initial_done) {
        size_t used = (size_t)snprintf(why, sizeof(why), "initial sync not done: waiting for");
        for (int k = 0; k < N_KINDS; k++) {
            if (!a->synced[k] && used < sizeof(why))
                used += (size_t)snprintf(why + used, sizeof(why) - used, " %s",
                                         hnp_kind_resource((enum hnp_kind)k));
        }
        if (!a->listed_once && used < sizeof(why))
            snprintf(why + used, sizeof(why) - used, " %s", "the HNS endpoint list");
    } else if (!a->list_ok) {
        snprintf(why, sizeof(why), "the last HNS endpoint list failed: %.200s", a->list_error);
    } else if (a->worker == NULL) {
        snprintf(why, sizeof(why), "HNS calls hang: %zu abandoned calls still running",
                 a->n_abandoned);
    }
    pthread_mutex_lock(&a->status_mu);
    a->ready = why[0] == '\0';
    snprintf(a->not_ready, sizeof(a->not_ready), "%s", why);
    pthread_mutex_unlock(&a->status_mu);
}

/* ------------------------------------------------------------------------ */
/* Endpoints                                                                */

static void endpoint_free(struct endpoint *ep)
{
    if (ep == NULL)
        return;
    free(ep->id);
    json_decref(ep->policies);
    json_decref(ep->pending);
    json_decref(ep->last_sent);
    free(ep);
}

static struct endpoint *find_endpoint(struct agent *a, const char *id, size_t *index)
{
    for (size_t i = 0; i < a->n_eps; i++) {
        if (same_ignoring_case(a->eps[i]->id, id)) {
            if (index != NULL)
                *index = i;
            return a->eps[i];
        }
    }
    return NULL;
}

static void forget_endpoint(struct agent *a, size_t i, const char *why)
{
    struct endpoint *ep = a->eps[i];
    char pod[300];
    format_pod(ep, pod, sizeof(pod));
    hnp_log(HNP_LOG_DEBUG, "endpoint forgotten", "endpoint", ep->id, "pod", pod, "reason", why,
            NULL);
    endpoint_free(ep);
    memmove(&a->eps[i], &a->eps[i + 1], (a->n_eps - i - 1) * sizeof(a->eps[0]));
    a->n_eps--;
    if (a->cursor > i)
        a->cursor--;
}

static struct endpoint *add_endpoint(struct agent *a, const char *id)
{
    if (a->n_eps == a->cap_eps) {
        size_t cap = a->cap_eps ? a->cap_eps * 2 : 32;
        struct endpoint **eps = realloc(a->eps, cap * sizeof(*eps));
        if (eps == NULL)
            return NULL;
        a->eps = eps;
        a->cap_eps = cap;
    }
    struct endpoint *ep = calloc(1, sizeof(*ep));
    if (ep == NULL || (ep->id = dup_str(id)) == NULL) {
        free(ep);
        return NULL;
    }
    ep->policies = json_array();
    if (ep->policies == NULL) {
        endpoint_free(ep);
        return NULL;
    }
    ep->dirty = true;
    a->eps[a->n_eps++] = ep;
    return ep;
}

static bool same_ips(const struct endpoint *ep, const struct hnp_hns_endpoint *h)
{
    return ep->n_ips == h->n_ips && memcmp(ep->ips, h->ips, h->n_ips * sizeof(h->ips[0])) == 0;
}

/*
 * Take what HNS reports about an endpoint: its IPs and Policies. Marks it
 * for comparison when either changed (a new IP may mean a new pod; new
 * Policies may be drift).
 */
static void refresh_endpoint(struct endpoint *ep, const struct hnp_hns_endpoint *h)
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

static void schedule_retry(struct agent *a, struct endpoint *ep)
{
    long next = ep->backoff_ms ? ep->backoff_ms * 2 : a->retry_initial_ms;
    if (next > a->retry_max_ms || next <= 0)
        next = a->retry_max_ms;
    ep->backoff_ms = next;
    ep->retry_at = mono_ms() + next;
    ep->refresh = true;
}

/* ------------------------------------------------------------------------ */
/* Cluster events                                                           */

static void drop_translator(struct agent *a)
{
    hnp_translator_free(a->tr);
    a->tr = NULL;
}

static struct hnp_translator *translator(struct agent *a)
{
    if (a->tr == NULL) {
        a->tr = hnp_translator_new(a->cluster, &a->topt);
        if (a->tr == NULL)
            hnp_log(HNP_LOG_ERROR, "out of memory creating the translator", NULL);
    }
    return a->tr;
}

static void mark_changed(struct agent *a)
{
    if (!a->batch_pending) {
        a->batch_pending = true;
        a->batch_deadline = mono_ms() + a->batch_ms;
    }
}

/* Apply one watch event to the cluster. */
static void apply_event(struct agent *a, struct queued_event *e)
{
    if ((unsigned)e->kind >= N_KINDS)
        return;
    if (e->type == HNP_WATCH_SYNCED) {
        if (!a->synced[e->kind]) {
            a->synced[e->kind] = true;
            char count[32];
            size_t n = e->kind == HNP_KIND_NAMESPACE ? hnp_cluster_namespace_count(a->cluster)
                       : e->kind == HNP_KIND_POD     ? hnp_cluster_pod_count(a->cluster)
                                                     : hnp_cluster_policy_count(a->cluster);
            snprintf(count, sizeof(count), "%zu", n);
            hnp_log(HNP_LOG_INFO, "initial list done", "resource", hnp_kind_resource(e->kind),
                    "objects", count, NULL);
        } else {
            hnp_log(HNP_LOG_DEBUG, "relist done", "resource", hnp_kind_resource(e->kind), NULL);
        }
        return;
    }
    const json_t *meta = json_object_get(e->object, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    if (ns == NULL && e->kind != HNP_KIND_NAMESPACE)
        ns = "default";
    drop_translator(a); /* it must not outlive a change of the cluster */

    if (e->type == HNP_WATCH_UPSERT) {
        struct hnp_source src = {.file = a->api_source, .line = 0};
        struct hnp_error err = {0};
        enum hnp_err rc = hnp_cluster_add_object(a->cluster, e->kind, e->object, &src, &err);
        if (rc != HNP_OK) {
            hnp_log(rc == HNP_ERR_NOMEM ? HNP_LOG_ERROR : HNP_LOG_WARN,
                    "object skipped: cannot be read; the last good version stays in effect", "kind",
                    kind_name(e->kind), "namespace", ns, "name", name, "field", err.where, "error",
                    err.message, NULL);
            return;
        }
    } else {
        if (name == NULL) {
            hnp_log(HNP_LOG_WARN, "delete event without metadata.name ignored", "kind",
                    kind_name(e->kind), NULL);
            return;
        }
        bool gone = false;
        switch (e->kind) {
        case HNP_KIND_NAMESPACE:
            gone = hnp_cluster_delete_namespace(a->cluster, name);
            break;
        case HNP_KIND_POD:
            gone = hnp_cluster_delete_pod(a->cluster, ns, name);
            break;
        case HNP_KIND_POLICY:
            gone = hnp_cluster_delete_policy(a->cluster, ns, name);
            break;
        }
        if (!gone)
            return;
    }
    if (e->kind == HNP_KIND_POLICY)
        a->policies_changed = true;
    if (hnp_log_enabled(HNP_LOG_DEBUG))
        hnp_log(HNP_LOG_DEBUG, e->type == HNP_WATCH_UPSERT ? "object updated" : "object deleted",
                "kind", kind_name(e->kind), "namespace", ns, "name", name, NULL);
    mark_changed(a);
}

/* ------------------------------------------------------------------------ */
/* Rejected policies: log, Event, metrics                                   */

static struct reported *find_reported(struct agent *a, const char *key)
{
    for (size_t i = 0; i < a->n_reported; i++) {
        if (strcmp(a->reported[i].key, key) == 0)
            return &a->reported[i];
    }
    return NULL;
}

/* Log every finding of a rejected policy and queue its Event. */
static void report_rejected(struct agent *a, const struct hnp_policy *p, const char *key)
{
    const char *mode = a->topt.unsupported == HNP_UNSUPPORTED_ISOLATE ? "isolate" : "reject";
    for (size_t i = 0; i < p->n_findings; i++) {
        const struct hnp_finding *f = &p->findings[i];
        hnp_log(HNP_LOG_WARN, "NetworkPolicy not enforceable on Windows", "policy", key, "feature",
                hnp_feature_name(f->feature), "field", f->path, "message", f->message, "mode", mode,
                NULL);
    }
    if (a->events == NULL)
        return;
    json_t *body = hnp_agent_rejection_event(p, a->node, a->topt.unsupported, wall_ms());
    if (body == NULL) {
        hnp_log(HNP_LOG_ERROR, "out of memory building an Event", "policy", key, NULL);
        return;
    }
    hnp_agent_events_post(a->events, p->ns, body);
    hnp_metrics_add(a->metrics, M_EVENTS, NULL, 1);
}

/*
 * Report each rejected policy once per generation (uid and generation, or
 * resourceVersion when the object has no generation), update the policy
 * metrics, and forget reports of policies that are gone or fixed.
 */
static void scan_policies(struct agent *a)
{
    struct hnp_translator *tr = translator(a);
    size_t n = hnp_cluster_policy_count(a->cluster);
    size_t applied = 0, rejected = 0;
    size_t by_feature[HNP_FEATURE_COUNT_] = {0};
    for (size_t i = 0; i < a->n_reported; i++)
        a->reported[i].seen = false;

    for (size_t i = 0; i < n; i++) {
        const struct hnp_policy *p = hnp_cluster_policy_at(a->cluster, i);
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
        struct reported *r = find_reported(a, key);
        if (r != NULL && strcmp(r->version, version) == 0) {
            r->seen = true;
            continue;
        }
        if (r == NULL) {
            if (a->n_reported == a->cap_reported) {
                size_t cap = a->cap_reported ? a->cap_reported * 2 : 16;
                struct reported *grown = realloc(a->reported, cap * sizeof(*grown));
                if (grown == NULL)
                    continue;
                a->reported = grown;
                a->cap_reported = cap;
            }
            r = &a->reported[a->n_reported];
            r->key = dup_str(key);
            r->version = NULL;
            if (r->key == NULL)
                continue;
            a->n_reported++;
        }
        char *v = dup_str(version);
        if (v == NULL)
            continue;
        free(r->version);
        r->version = v;
        r->seen = true;
        report_rejected(a, p, key);
    }

    /* Forget the reports of policies deleted or no longer rejected. */
    size_t kept = 0;
    for (size_t i = 0; i < a->n_reported; i++) {
        struct reported *r = &a->reported[i];
        if (r->seen) {
            a->reported[kept++] = *r;
            continue;
        }
        const char *slash = strchr(r->key, '/');
        char ns[300];
        snprintf(ns, sizeof(ns), "%.*s", (int)(slash - r->key), r->key);
        if (hnp_cluster_policy(a->cluster, ns, slash + 1) != NULL)
            hnp_log(HNP_LOG_INFO, "NetworkPolicy now enforceable", "policy", r->key, NULL);
        free(r->key);
        free(r->version);
    }
    a->n_reported = kept;

    char labels[64];
    hnp_metrics_label(labels, sizeof(labels), "state", "known");
    hnp_metrics_set(a->metrics, M_POLICIES, labels, (double)n);
    hnp_metrics_label(labels, sizeof(labels), "state", "applied");
    hnp_metrics_set(a->metrics, M_POLICIES, labels, (double)applied);
    hnp_metrics_label(labels, sizeof(labels), "state", "rejected");
    hnp_metrics_set(a->metrics, M_POLICIES, labels, (double)rejected);
    for (int f = 0; f < HNP_FEATURE_COUNT_; f++) {
        hnp_metrics_label(labels, sizeof(labels), "feature", hnp_feature_name((enum hnp_feature)f));
        hnp_metrics_set(a->metrics, M_REJECTED, labels, (double)by_feature[f]);
    }
}

/* ------------------------------------------------------------------------ */
/* Comparing an endpoint with what it should carry                          */

/* Same ACLs in the same order, rendered JSON by rendered JSON. */
static enum hnp_err acl_lists_equal(const struct hnp_acl_list *a, const struct hnp_acl_list *b,
                                    bool *equal)
{
    *equal = a->count == b->count;
    for (size_t i = 0; *equal && i < a->count; i++) {
        json_t *x = hnp_acl_to_json(&a->items[i]);
        json_t *y = hnp_acl_to_json(&b->items[i]);
        if (x == NULL || y == NULL) {
            json_decref(x);
            json_decref(y);
            return HNP_ERR_NOMEM;
        }
        *equal = json_equal(x, y);
        json_decref(x);
        json_decref(y);
    }
    return HNP_OK;
}

/* The pod of this node that owns one of the endpoint's IPs, or NULL. */
static const struct hnp_pod *bound_pod(struct agent *a, struct hnp_translator *tr,
                                       const struct endpoint *ep)
{
    for (size_t i = 0; i < ep->n_ips; i++) {
        const struct hnp_pod *pod = hnp_translator_pod_by_ip(tr, ep->ips[i]);
        if (pod != NULL && pod->node != NULL && strcmp(pod->node, a->node) == 0)
            return pod;
    }
    return NULL;
}

/* Re-bind the endpoint to the pod that owns its IP now; log when that changes. */
static const struct hnp_pod *bind(struct agent *a, struct hnp_translator *tr, struct endpoint *ep)
{
    const struct hnp_pod *pod = bound_pod(a, tr, ep);
    const char *ns = pod ? pod->ns : NULL, *name = pod ? pod->name : NULL;
    const char *uid = pod ? pod->uid : NULL;
    if (ns == ep->pod_ns && name == ep->pod_name && uid == ep->pod_uid)
        return pod; /* interned strings: equal if and only if the same pointer */
    char ips[80], before[300];
    format_ips(ep->ips, ep->n_ips, ips, sizeof(ips));
    format_pod(ep, before, sizeof(before));
    ep->pod_ns = ns;
    ep->pod_name = name;
    ep->pod_uid = uid;
    if (pod != NULL) {
        char now[300];
        format_pod(ep, now, sizeof(now));
        hnp_log(HNP_LOG_INFO, "endpoint bound to pod", "endpoint", ep->id, "ip", ips, "pod", now,
                "previous", before, NULL);
    } else {
        hnp_log(before[0] ? HNP_LOG_INFO : HNP_LOG_DEBUG,
                "endpoint not bound: no pod of this node owns its IP; left untouched", "endpoint",
                ep->id, "ip", ips, "previous", before, NULL);
    }
    return pod;
}

/*
 * Compare one endpoint: bind it, compute its desired ACLs, and set
 * ep->pending to the Update that makes it right (NULL when it is right, or
 * not ours to touch).
 */
static void compare_endpoint(struct agent *a, struct hnp_translator *tr, struct endpoint *ep)
{
    ep->dirty = false;
    json_decref(ep->pending);
    ep->pending = NULL;

    struct hnp_acl_list ours, desired;
    hnp_acl_list_init(&ours);
    hnp_acl_list_init(&desired);
    json_t *foreign = hnp_hns_split_policies(ep->policies, &ours);
    if (foreign == NULL)
        goto nomem;
    ep->n_ours = ours.count;

    const struct hnp_pod *pod = bind(a, tr, ep);
    if (pod == NULL)
        goto done;
    struct hnp_error err = {0};
    enum hnp_err rc = hnp_translator_pod(tr, pod, &desired, &err);
    if (rc != HNP_OK) {
        char name[300];
        format_pod(ep, name, sizeof(name));
        hnp_log(HNP_LOG_ERROR, "cannot compute the ACLs of a pod; its endpoint is left as it is",
                "pod", name, "endpoint", ep->id, "error", hnp_err_name(rc), "detail", err.message,
                NULL);
        goto done;
    }
    bool equal;
    if (acl_lists_equal(&desired, &ours, &equal) != HNP_OK)
        goto nomem;
    if (!equal) {
        ep->pending = hnp_acl_list_request(&desired, foreign);
        if (ep->pending == NULL)
            goto nomem;
    }
    goto done;

nomem:
    hnp_log(HNP_LOG_ERROR, "out of memory comparing an endpoint; retried later", "endpoint", ep->id,
            NULL);
    ep->dirty = true;
done:
    json_decref(foreign);
    hnp_acl_list_free(&ours);
    hnp_acl_list_free(&desired);
}

static void compare_dirty(struct agent *a)
{
    struct hnp_translator *tr = NULL;
    long long start = 0;
    size_t compared = 0, differ = 0;
    for (size_t i = 0; i < a->n_eps; i++) {
        if (!a->eps[i]->dirty)
            continue;
        if (tr == NULL) {
            start = mono_ms();
            if ((tr = translator(a)) == NULL)
                return;
        }
        compare_endpoint(a, tr, a->eps[i]);
        compared++;
        differ += a->eps[i]->pending != NULL;
    }
    if (compared > 1 && hnp_log_enabled(HNP_LOG_DEBUG)) {
        char n[32], d[32], ms[32];
        snprintf(n, sizeof(n), "%zu", compared);
        snprintf(d, sizeof(d), "%zu", differ);
        snprintf(ms, sizeof(ms), "%lld", mono_ms() - start);
        hnp_log(HNP_LOG_DEBUG, "endpoints compared", "compared", n, "to_update", d, "ms", ms, NULL);
    }
}

/* ------------------------------------------------------------------------ */
/* Pods of this node whose endpoint is not listed yet                       */

/* Is some endpoint bound to pod (as compare_endpoint last bound it)? */
static bool pod_has_endpoint(const struct agent *a, const struct hnp_pod *pod)
{
    for (size_t i = 0; i < a->n_eps; i++) {
        const struct endpoint *ep = a->eps[i];
        if (ep->pod_ns == pod->ns && ep->pod_name == pod->name && ep->pod_uid == pod->uid)
            return true;
    }
    return false;
}

/* Mark pod as still unbound in a->unbound; true when it was not there (newly seen). */
static bool note_unbound(struct agent *a, const struct hnp_pod *pod)
{
    for (size_t i = 0; i < a->n_unbound; i++) {
        struct unbound_pod *u = &a->unbound[i];
        if (u->ns == pod->ns && u->name == pod->name && u->uid == pod->uid) {
            u->seen = true;
            return false;
        }
    }
    if (a->n_unbound == a->cap_unbound) {
        size_t cap = a->cap_unbound ? a->cap_unbound * 2 : 8;
        struct unbound_pod *grown = realloc(a->unbound, cap * sizeof(*grown));
        if (grown == NULL)
            return false; /* out of memory: no early list, the normal poll finds it */
        a->unbound = grown;
        a->cap_unbound = cap;
    }
    a->unbound[a->n_unbound++] =
        (struct unbound_pod){.ns = pod->ns, .name = pod->name, .uid = pod->uid, .seen = true};
    return true;
}

/*
 * After a batch or a list, with every compared endpoint bound: find the pods
 * of this node that own an IP (hnp_pod_is_endpoint, as bound_pod() binds)
 * and have no bound endpoint. Each one not seen unbound before makes the
 * next list happen at once (after the list in flight, if any) and extends
 * the fast polling to FAST_POLL_WINDOW_MS from now; while some remain unbound
 * within that window, the next list comes fast_poll_ms after the last one
 * returned. With none unbound nothing changes: the normal interval.
 */
static void watch_unbound(struct agent *a, long long now)
{
    a->check_unbound = false;
    for (size_t i = 0; i < a->n_unbound; i++)
        a->unbound[i].seen = false;
    /* pod->node is interned in the cluster's table: a node never interned has no pod. */
    const char *node = hnp_strtab_find(hnp_cluster_strtab(a->cluster), a->node);
    size_t n_pods = node != NULL ? hnp_cluster_pod_count(a->cluster) : 0;
    bool early = false;
    for (size_t i = 0; i < n_pods; i++) {
        const struct hnp_pod *pod = hnp_cluster_pod_at(a->cluster, i);
        if (pod->node != node || !hnp_pod_is_endpoint(pod) || pod_has_endpoint(a, pod))
            continue;
        if (!note_unbound(a, pod))
            continue;
        early = true;
        a->fast_poll_until = now + FAST_POLL_WINDOW_MS;
        char name[300], ips[80], every[32], window[32];
        snprintf(name, sizeof(name), "%s/%s", pod->ns, pod->name);
        format_ips(pod->ips, pod->n_ips, ips, sizeof(ips));
        snprintf(every, sizeof(every), "%ldms", a->fast_poll_ms);
        snprintf(window, sizeof(window), "%dms", FAST_POLL_WINDOW_MS);
        hnp_log(HNP_LOG_DEBUG,
                "pod of this node has no HNS endpoint yet; listing the endpoints early", "pod",
                name, "ip", ips, "list_in_flight", a->fly.active ? "yes" : "no", "then_every",
                every, "for", window, NULL);
    }
    size_t kept = 0;
    for (size_t i = 0; i < a->n_unbound; i++) {
        if (a->unbound[i].seen)
            a->unbound[kept++] = a->unbound[i];
    }
    a->n_unbound = kept;

    if (a->fast_poll_until == 0)
        return;
    if (kept == 0) {
        a->fast_poll_until = 0;
        hnp_log(HNP_LOG_DEBUG, "every pod of this node has its endpoint; normal poll interval",
                NULL);
    } else if (now >= a->fast_poll_until) {
        char n[32];
        snprintf(n, sizeof(n), "%zu", kept);
        a->fast_poll_until = 0;
        hnp_log(HNP_LOG_DEBUG,
                "pods of this node still without an HNS endpoint; back to the normal poll interval",
                "pods", n, NULL);
    } else if (early) {
        a->next_poll = now; /* dispatch() waits for a list in flight */
    } else if (a->last_list_end + a->fast_poll_ms < a->next_poll) {
        a->next_poll = a->last_list_end + a->fast_poll_ms;
    }
}

/* ------------------------------------------------------------------------ */
/* The HNS worker: starting, submitting, timeouts                           */

static enum hnp_err start_worker(struct agent *a, struct hnp_error *err)
{
    struct hnp_hns *hns;
    enum hnp_err rc = hnp_hns_open(a->opt->hns_spec, &hns, err);
    if (rc != HNP_OK)
        return rc;
    rc = hnp_hns_worker_start(hns, inbox_job_done, &a->inbox, &a->worker);
    if (rc != HNP_OK) {
        a->worker = NULL;
        return hnp_error_set(err, rc, NULL, "cannot start the HNS worker thread");
    }
    return HNP_OK;
}

/* Join the abandoned workers whose hung call has returned. */
static void reap_abandoned(struct agent *a)
{
    size_t kept = 0;
    for (size_t i = 0; i < a->n_abandoned; i++) {
        if (hnp_hns_worker_exited(a->abandoned[i])) {
            hnp_hns_worker_stop(a->abandoned[i]);
            hnp_log(HNP_LOG_INFO, "an abandoned HNS call has returned", NULL);
        } else {
            a->abandoned[kept++] = a->abandoned[i];
        }
    }
    a->n_abandoned = kept;
}

/* A worker for the next call, when there is none: after a hung call, and within the cap. */
static void ensure_worker(struct agent *a, long long now)
{
    if (a->worker != NULL || a->n_abandoned >= MAX_ABANDONED || now < a->next_worker_try)
        return;
    struct hnp_error err = {0};
    enum hnp_err rc = start_worker(a, &err);
    if (rc != HNP_OK) {
        a->next_worker_try = now + WORKER_REOPEN_MS;
        hnp_log(HNP_LOG_ERROR, "cannot open the HNS backend; trying again", "hns", a->opt->hns_spec,
                "error", hnp_err_name(rc), "detail", err.message, NULL);
    }
}

static bool submit(struct agent *a, enum hnp_hns_op op, const char *id, json_t *request,
                   bool resync)
{
    struct hnp_hns_job *job = hnp_hns_job_new(op, id, request);
    char *fid = id ? dup_str(id) : NULL;
    if (job == NULL || (id != NULL && fid == NULL)) {
        hnp_hns_job_free(job);
        free(fid);
        hnp_log(HNP_LOG_ERROR, "out of memory preparing an HNS call", NULL);
        return false;
    }
    job->seq = ++a->next_seq;
    free(a->fly.id);
    a->fly = (struct flight){.active = true,
                             .seq = job->seq,
                             .op = op,
                             .id = fid,
                             .deadline = mono_ms() + a->timeout_ms,
                             .resync = resync};
    hnp_hns_worker_submit(a->worker, job);
    return true;
}

static void end_flight(struct agent *a)
{
    free(a->fly.id);
    memset(&a->fly, 0, sizeof(a->fly));
}

/* The call in flight has hung past its timeout: give up on it and its worker. */
static void abandon_flight(struct agent *a)
{
    char labels[64], timeout[32];
    op_label(a->fly.op, labels, sizeof(labels));
    hnp_metrics_add(a->metrics, M_FAILURES, labels, 1);
    snprintf(timeout, sizeof(timeout), "%ldms", a->timeout_ms);
    hnp_log(HNP_LOG_ERROR, "HNS call timed out; abandoned, a new worker takes over", "operation",
            hnp_hns_op_name(a->fly.op), "endpoint", a->fly.id, "timeout", timeout, NULL);
    hnp_hns_worker_abandon(a->worker);
    if (a->n_abandoned < MAX_ABANDONED) {
        a->abandoned[a->n_abandoned++] = a->worker;
    } else {
        hnp_hns_worker_detach(a->worker); /* unreachable: no worker is started past the cap */
    }
    a->worker = NULL;
    if (a->fly.op == HNP_HNS_LIST) {
        a->list_ok = false;
        snprintf(a->list_error, sizeof(a->list_error), "timed out after %s", timeout);
        a->next_poll = mono_ms() + a->poll_ms;
        if (a->fly.resync)
            a->resync_due = true;
    } else {
        struct endpoint *ep = find_endpoint(a, a->fly.id, NULL);
        if (ep != NULL)
            schedule_retry(a, ep);
    }
    end_flight(a);
    if (a->n_abandoned >= MAX_ABANDONED)
        hnp_log(HNP_LOG_ERROR,
                "too many HNS calls hang; no new call until one returns (not ready meanwhile)",
                NULL);
}

/* ------------------------------------------------------------------------ */
/* Finished calls                                                           */

static void list_done(struct agent *a, struct hnp_hns_job *job, bool resync)
{
    a->last_list_end = mono_ms();
    a->next_poll = a->last_list_end + a->poll_ms;
    a->check_unbound = true;
    if (job->rc != HNP_OK) {
        if (a->list_ok || strcmp(a->list_error, job->err.message) != 0) {
            char code[24];
            format_code(job->err.code, code);
            hnp_log(HNP_LOG_WARN, "cannot list the HNS endpoints; trying again", "error",
                    hnp_err_name(job->rc), "code", code, "detail", job->err.message, NULL);
        }
        a->list_ok = false;
        snprintf(a->list_error, sizeof(a->list_error), "%.*s", (int)sizeof(a->list_error) - 1,
                 job->err.message);
        if (resync)
            a->resync_due = true;
        return;
    }
    if (!a->list_ok && a->listed_once)
        hnp_log(HNP_LOG_INFO, "HNS endpoint list works again", NULL);
    a->list_ok = true;
    a->list_error[0] = '\0';
    if (!a->listed_once) {
        char count[32];
        snprintf(count, sizeof(count), "%zu", job->n_eps);
        hnp_log(HNP_LOG_INFO, "HNS endpoints listed", "endpoints", count, NULL);
    }
    a->listed_once = true;

    /* Forget endpoints that are gone, then take in the listed ones. */
    for (size_t i = a->n_eps; i-- > 0;) {
        bool listed = false;
        for (size_t j = 0; j < job->n_eps && !listed; j++)
            listed = same_ignoring_case(a->eps[i]->id, job->eps[j].id);
        if (!listed)
            forget_endpoint(a, i, "no longer listed by HNS");
    }
    for (size_t j = 0; j < job->n_eps; j++) {
        const struct hnp_hns_endpoint *h = &job->eps[j];
        struct endpoint *ep = find_endpoint(a, h->id, NULL);
        if (ep == NULL) {
            ep = add_endpoint(a, h->id);
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
    if (resync && a->initial_done && a->sync_started == 0)
        a->sync_started = mono_ms();
}

static void query_done(struct agent *a, struct hnp_hns_job *job)
{
    size_t i;
    struct endpoint *ep = find_endpoint(a, job->id, &i);
    if (ep == NULL)
        return;
    if (job->rc == HNP_ERR_NOT_FOUND) {
        forget_endpoint(a, i, "HNS no longer knows it");
        return;
    }
    if (job->rc != HNP_OK) {
        char code[24];
        format_code(job->err.code, code);
        hnp_log(HNP_LOG_WARN, "cannot read an endpoint before retrying; backing off", "endpoint",
                ep->id, "error", hnp_err_name(job->rc), "code", code, "detail", job->err.message,
                NULL);
        schedule_retry(a, ep);
        return;
    }
    ep->refresh = false;
    refresh_endpoint(ep, &job->one);
    ep->dirty = true;
}

static void modify_done(struct agent *a, struct hnp_hns_job *job)
{
    size_t i;
    struct endpoint *ep = find_endpoint(a, job->id, &i);
    if (ep == NULL)
        return;
    char pod[300], seconds[32];
    format_pod(ep, pod, sizeof(pod));
    snprintf(seconds, sizeof(seconds), "%.3f", job->seconds);
    if (job->rc == HNP_ERR_NOT_FOUND) {
        forget_endpoint(a, i, "gone when updated");
        return;
    }
    if (job->rc != HNP_OK) {
        char code[24];
        format_code(job->err.code, code);
        schedule_retry(a, ep);
        char backoff[32];
        snprintf(backoff, sizeof(backoff), "%ldms", ep->backoff_ms);
        hnp_log(HNP_LOG_WARN, "cannot update endpoint ACLs; retrying", "endpoint", ep->id, "pod",
                pod, "error", hnp_err_name(job->rc), "code", code, "detail", job->err.message,
                "retry_in", backoff, NULL);
        return;
    }
    /* It now carries what was sent. */
    json_t *sent = json_object_get(json_object_get(job->request, "Settings"), "Policies");
    ep->backoff_ms = 0;
    ep->retry_at = 0;
    ep->refresh = false;
    if (json_is_array(sent)) {
        json_decref(ep->policies);
        ep->policies = json_incref(sent);
        if (ep->last_sent != NULL && json_equal(ep->last_sent, sent)) {
            /* The same Update again: back off before the next repeat. */
            ep->repeats++;
            long delay = a->retry_initial_ms;
            for (unsigned r = 1; r < ep->repeats && delay < a->retry_max_ms; r++)
                delay *= 2;
            if (delay > a->retry_max_ms)
                delay = a->retry_max_ms;
            ep->repeat_at = mono_ms() + delay;
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
    struct hnp_acl_list ours;
    hnp_acl_list_init(&ours);
    json_t *foreign = hnp_hns_split_policies(ep->policies, &ours);
    char count[32];
    snprintf(count, sizeof(count), "%zu", ours.count);
    ep->n_ours = ours.count;
    json_decref(foreign);
    hnp_acl_list_free(&ours);
    hnp_log(HNP_LOG_INFO, "endpoint ACLs updated", "endpoint", ep->id, "pod", pod, "acls", count,
            "seconds", seconds, NULL);
}

/* A finished job: the call in flight, or a stale one. */
static void job_done(struct agent *a, struct hnp_hns_job *job)
{
    count_call(a, job);
    if (!a->fly.active || job->seq != a->fly.seq) {
        /* A job given up on just as it finished: what it changed is unknown, re-read. */
        struct endpoint *ep = job->id ? find_endpoint(a, job->id, NULL) : NULL;
        if (ep != NULL) {
            ep->refresh = true;
            ep->dirty = true;
        }
        hnp_hns_job_free(job);
        return;
    }
    bool resync = a->fly.resync;
    end_flight(a);
    switch (job->op) {
    case HNP_HNS_LIST:
        list_done(a, job, resync);
        break;
    case HNP_HNS_QUERY:
        query_done(a, job);
        break;
    case HNP_HNS_MODIFY:
        modify_done(a, job);
        break;
    }
    hnp_hns_job_free(job);
}

/* ------------------------------------------------------------------------ */
/* Deciding the next call                                                   */

static bool list_wanted(const struct agent *a, long long now)
{
    return !a->listed_once || a->resync_due || now >= a->next_poll;
}

/* Is the pending Update the one that keeps being undone, and its backoff not over? */
static bool repeat_held(const struct endpoint *ep, long long now)
{
    if (ep->repeat_at <= now || ep->last_sent == NULL || ep->pending == NULL)
        return false;
    const json_t *next = json_object_get(json_object_get(ep->pending, "Settings"), "Policies");
    return json_equal(next, ep->last_sent);
}

static void dispatch(struct agent *a, long long now)
{
    if (a->worker == NULL || a->fly.active)
        return;
    if (list_wanted(a, now)) {
        bool resync = a->resync_due && a->initial_done;
        if (resync)
            a->resync_due = false;
        submit(a, HNP_HNS_LIST, NULL, NULL, resync);
        return;
    }
    if (!a->initial_done)
        return;
    for (size_t k = 0; k < a->n_eps; k++) {
        size_t i = (a->cursor + k) % a->n_eps;
        struct endpoint *ep = a->eps[i];
        if ((ep->pending == NULL && !ep->refresh) || ep->retry_at > now || ep->dirty)
            continue;
        if (!ep->refresh && repeat_held(ep, now))
            continue;
        a->cursor = i + 1;
        if (ep->refresh)
            submit(a, HNP_HNS_QUERY, ep->id, NULL, false);
        else
            submit(a, HNP_HNS_MODIFY, ep->id, ep->pending, false);
        return;
    }
}

/* Every endpoint carries its desired ACLs: record it. */
static void check_converged(struct agent *a, long long now)
{
    if (!a->initial_done || a->batch_pending || a->fly.active || !a->list_ok ||
        a->sync_started == 0)
        return;
    for (size_t i = 0; i < a->n_eps; i++) {
        const struct endpoint *ep = a->eps[i];
        if (ep->pending != NULL || ep->refresh || ep->dirty)
            return;
    }
    hnp_metrics_observe(a->metrics, M_SYNC_SECONDS, NULL, (double)(now - a->sync_started) / 1000.0);
    hnp_metrics_set(a->metrics, M_LAST_SYNC, NULL, (double)wall_ms() / 1000.0);
    a->sync_started = 0;
}

static void update_gauges(struct agent *a)
{
    size_t bound = 0, rules = 0;
    for (size_t i = 0; i < a->n_eps; i++) {
        bound += a->eps[i]->pod_ns != NULL;
        rules += a->eps[i]->n_ours;
    }
    hnp_metrics_set(a->metrics, M_ENDPOINTS, NULL, (double)bound);
    hnp_metrics_set(a->metrics, M_ACL_RULES, NULL, (double)rules);
    hnp_metrics_set(a->metrics, M_ABANDONED, NULL, (double)a->n_abandoned);
}

/* The earliest moment something is due (monotonic ms), at most STOP_CHECK_MS away. */
static long long next_wakeup(const struct agent *a, long long now)
{
    long long t = now + STOP_CHECK_MS;
#define EARLIER(x)                                                                                 \
    do {                                                                                           \
        if ((x) < t)                                                                               \
            t = (x);                                                                               \
    } while (0)
    if (a->batch_pending && a->initial_done)
        EARLIER(a->batch_deadline);
    if (a->fly.active)
        EARLIER(a->fly.deadline);
    if (a->worker != NULL && !a->fly.active) {
        EARLIER(a->next_poll);
        if (a->initial_done) {
            EARLIER(a->next_resync);
            for (size_t i = 0; i < a->n_eps; i++) {
                const struct endpoint *ep = a->eps[i];
                if (ep->pending != NULL || ep->refresh)
                    EARLIER(ep->retry_at > ep->repeat_at ? ep->retry_at : ep->repeat_at);
            }
        }
    }
#undef EARLIER
    return t;
}

/* One round of decisions after the inbox was drained. */
static void step(struct agent *a)
{
    long long now = mono_ms();
    reap_abandoned(a);
    if (a->fly.active && now >= a->fly.deadline)
        abandon_flight(a);
    ensure_worker(a, now);

    bool first_pass = false;
    if (!a->initial_done && a->listed_once && a->synced[HNP_KIND_NAMESPACE] &&
        a->synced[HNP_KIND_POD] && a->synced[HNP_KIND_POLICY]) {
        a->initial_done = true;
        first_pass = true;
        a->batch_pending = true;
        a->batch_deadline = now;
        a->policies_changed = true;
        a->next_resync = now + a->resync_ms;
        char pods[32], policies[32], eps[32];
        snprintf(pods, sizeof(pods), "%zu", hnp_cluster_pod_count(a->cluster));
        snprintf(policies, sizeof(policies), "%zu", hnp_cluster_policy_count(a->cluster));
        snprintf(eps, sizeof(eps), "%zu", a->n_eps);
        hnp_log(HNP_LOG_INFO, "initial sync done; converging", "pods", pods, "policies", policies,
                "hns_endpoints", eps, NULL);
        /* The LIST pages were the peak; what is kept is the compact model. */
        hnp_release_free_memory();
    }
    if (a->initial_done && now >= a->next_resync) {
        a->resync_due = true;
        a->next_resync = now + a->resync_ms;
        hnp_log(HNP_LOG_DEBUG, "resync: re-reading every endpoint", NULL);
    }
    if (a->initial_done && a->batch_pending && now >= a->batch_deadline) {
        a->batch_pending = false;
        for (size_t i = 0; i < a->n_eps; i++)
            a->eps[i]->dirty = true;
        if (a->policies_changed) {
            scan_policies(a);
            a->policies_changed = false;
        }
        if (a->sync_started == 0)
            a->sync_started = now;
        a->check_unbound = true;
    }
    if (a->initial_done)
        compare_dirty(a);
    if (a->initial_done && a->check_unbound)
        watch_unbound(a, now);
    dispatch(a, now);
    check_converged(a, now);
    update_gauges(a);
    update_status(a);
    if (first_pass && !a->ready_called) {
        a->ready_called = true;
        if (ready_callback != NULL)
            ready_callback(ready_callback_ctx);
    }
}

/* ------------------------------------------------------------------------ */
/* Start and stop                                                           */

static enum hnp_err start_sources(struct agent *a, struct hnp_error *err)
{
    if (test_hooks.source_start != NULL) {
        enum hnp_err rc =
            test_hooks.source_start(test_hooks.source_ctx, inbox_sink, &a->inbox, err);
        a->hook_source_started = rc == HNP_OK;
        return rc;
    }
    struct hnp_reflector_options ropt = {.page_limit = a->opt->page_limit,
                                         .transport = test_hooks.watch_transport};
    static const enum hnp_kind kinds[N_KINDS] = {HNP_KIND_NAMESPACE, HNP_KIND_POD, HNP_KIND_POLICY};
    for (int k = 0; k < N_KINDS; k++) {
        enum hnp_err rc = hnp_reflector_start(&a->opt->kube, kinds[k], &ropt, inbox_sink, &a->inbox,
                                              a->metrics, &a->reflectors[kinds[k]], err);
        if (rc != HNP_OK) {
            a->reflectors[kinds[k]] = NULL;
            return rc;
        }
    }
    return HNP_OK;
}

static void stop_sources(struct agent *a)
{
    inbox_close(&a->inbox); /* a sink blocked on a full queue returns at once */
    if (a->hook_source_started && test_hooks.source_stop != NULL)
        test_hooks.source_stop(test_hooks.source_ctx);
    a->hook_source_started = false;
    for (int k = 0; k < N_KINDS; k++) {
        hnp_reflector_stop(a->reflectors[k]);
        a->reflectors[k] = NULL;
    }
}

/* Wait for the call in flight (bounded by its timeout), handling its result. */
static void finish_flight(struct agent *a)
{
    while (a->fly.active) {
        if (mono_ms() >= a->fly.deadline) {
            abandon_flight(a);
            return;
        }
        struct queued_event *events;
        struct hnp_hns_job *jobs;
        inbox_take(&a->inbox, a->fly.deadline, &events, &jobs);
        free_events(events);
        while (jobs != NULL) {
            struct hnp_hns_job *next = jobs->next;
            job_done(a, jobs);
            jobs = next;
        }
    }
}

/* One call made to its end (or its timeout) before going on; false when it could not be made. */
static bool call_and_wait(struct agent *a, enum hnp_hns_op op, const char *id, json_t *request)
{
    ensure_worker(a, mono_ms());
    if (a->worker == NULL || !submit(a, op, id, request, false))
        return false;
    finish_flight(a);
    return true;
}

/* --cleanup-on-exit: every endpoint that carries ACLs of ours keeps only its other policies. */
static void cleanup(struct agent *a)
{
    hnp_log(HNP_LOG_INFO, "removing the ACLs of hnsnetpol from every local endpoint", NULL);
    a->next_worker_try = 0;
    /* A fresh list, so what is removed is what is there now. */
    call_and_wait(a, HNP_HNS_LIST, NULL, NULL);
    size_t cleaned = 0, failed = 0;
    for (size_t i = 0; i < a->n_eps; i++) {
        struct endpoint *ep = a->eps[i];
        struct hnp_acl_list ours, none;
        hnp_acl_list_init(&ours);
        hnp_acl_list_init(&none);
        json_t *foreign = hnp_hns_split_policies(ep->policies, &ours);
        size_t n_ours = ours.count;
        hnp_acl_list_free(&ours);
        if (foreign == NULL || n_ours == 0) {
            json_decref(foreign);
            continue;
        }
        json_t *request = hnp_acl_list_request(&none, foreign);
        json_decref(foreign);
        char *id = dup_str(ep->id);
        bool made = request != NULL && id != NULL && call_and_wait(a, HNP_HNS_MODIFY, id, request);
        json_decref(request);
        /* The call may have forgotten the endpoint: look it up again. */
        struct endpoint *after = id ? find_endpoint(a, id, NULL) : NULL;
        if (made && (after == NULL || after->n_ours == 0))
            cleaned++;
        else
            failed++;
        if (after == NULL)
            i--; /* it was removed from the table */
        free(id);
        if (a->worker == NULL && a->n_abandoned >= MAX_ABANDONED)
            break;
    }
    char ok[32], bad[32];
    snprintf(ok, sizeof(ok), "%zu", cleaned);
    snprintf(bad, sizeof(bad), "%zu", failed);
    hnp_log(failed ? HNP_LOG_WARN : HNP_LOG_INFO, "cleanup done", "endpoints_cleaned", ok,
            "endpoints_failed", bad, NULL);
}

/* Wait for the abandoned workers a while (their calls may still return), then let them be. */
static void release_abandoned(struct agent *a)
{
    long long until = mono_ms() + a->timeout_ms;
    while (a->n_abandoned > 0 && mono_ms() < until) {
        reap_abandoned(a);
        if (a->n_abandoned == 0)
            break;
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < a->n_abandoned; i++)
        hnp_hns_worker_detach(a->abandoned[i]);
    if (a->n_abandoned > 0)
        hnp_log(HNP_LOG_WARN, "HNS calls still hang at exit; left behind", NULL);
    a->n_abandoned = 0;
}

static void agent_free(struct agent *a)
{
    hnp_http_server_stop(a->http);
    drop_translator(a);
    hnp_cluster_free(a->cluster);
    for (size_t i = 0; i < a->n_eps; i++)
        endpoint_free(a->eps[i]);
    free(a->eps);
    for (size_t i = 0; i < a->n_reported; i++) {
        free(a->reported[i].key);
        free(a->reported[i].version);
    }
    free(a->reported);
    free(a->unbound);
    free(a->fly.id);
    inbox_destroy(&a->inbox);
    pthread_mutex_destroy(&a->status_mu);
    if (a->own_metrics)
        hnp_metrics_free(a->metrics);
}

static long or_default(long value, long def)
{
    return value > 0 ? value : def;
}

/* The loop: drain, apply, decide; until *stop. */
static void run_loop(struct agent *a)
{
    while (!*a->stop) {
        long long now = mono_ms();
        struct queued_event *events;
        struct hnp_hns_job *jobs;
        inbox_take(&a->inbox, next_wakeup(a, now), &events, &jobs);
        while (jobs != NULL) {
            struct hnp_hns_job *next = jobs->next;
            job_done(a, jobs);
            jobs = next;
        }
        for (struct queued_event *e = events; e != NULL && !*a->stop; e = e->next)
            apply_event(a, e);
        free_events(events);
        if (*a->stop)
            break;
        step(a);
    }
}

enum hnp_err hnp_agent_run(const struct hnp_agent_options *options, const volatile int *stop,
                           struct hnp_error *err)
{
    if (options == NULL || stop == NULL)
        return hnp_error_set(err, HNP_ERR_INVALID, NULL, "no options or stop flag given");
    if (options->node_name == NULL || options->node_name[0] == '\0')
        return hnp_error_set(err, HNP_ERR_INVALID, "--node-name",
                             "the node name is required (--node-name, or NODE_NAME)");

    struct agent *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    a->opt = options;
    a->stop = stop;
    a->node = options->node_name;
    a->batch_ms = or_default(options->batch_ms, DEFAULT_BATCH_MS);
    a->poll_ms = or_default(options->endpoint_poll_ms, DEFAULT_POLL_MS);
    a->fast_poll_ms = a->poll_ms < FAST_POLL_MS ? a->poll_ms : FAST_POLL_MS;
    a->resync_ms = or_default(options->resync_ms, DEFAULT_RESYNC_MS);
    a->timeout_ms = or_default(options->hns_timeout_ms, DEFAULT_TIMEOUT_MS);
    a->retry_initial_ms = or_default(options->retry_initial_ms, DEFAULT_RETRY_INITIAL_MS);
    a->retry_max_ms = or_default(options->retry_max_ms, DEFAULT_RETRY_MAX_MS);
    if (a->retry_max_ms < a->retry_initial_ms)
        a->retry_max_ms = a->retry_initial_ms;
    a->topt.has_node_ip = options->has_node_ip;
    a->topt.node_ip = options->node_ip;
    a->topt.unsupported = options->unsupported;

    if (!inbox_init(&a->inbox)) {
        free(a);
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "cannot create the agent's queue");
    }
    if (pthread_mutex_init(&a->status_mu, NULL) != 0) {
        inbox_destroy(&a->inbox);
        free(a);
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "cannot create a mutex");
    }
    snprintf(a->not_ready, sizeof(a->not_ready), "%s", "starting");

    enum hnp_err rc = HNP_OK;
    a->metrics = options->metrics;
    if (a->metrics == NULL) {
        a->metrics = hnp_metrics_new();
        a->own_metrics = true;
    }
    a->cluster = hnp_cluster_new();
    if (a->metrics == NULL || a->cluster == NULL ||
        (a->api_source = hnp_strtab_intern(hnp_cluster_strtab(a->cluster), "api")) == NULL) {
        rc = hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
        goto out;
    }
    rc = declare_metrics(a->metrics);
    if (rc != HNP_OK) {
        hnp_error_set(err, rc, NULL, "cannot declare the agent's metrics");
        goto out;
    }

    /* The HNS backend first: a bad --hns is the likeliest start-up mistake. */
    rc = start_worker(a, err);
    if (rc != HNP_OK)
        goto out;

    const char *addr = options->metrics_addr ? options->metrics_addr : DEFAULT_METRICS_ADDR;
    if (addr[0] != '\0') {
        rc = hnp_http_server_start(addr, a->metrics, ready_probe, a, &a->http, err);
        if (rc != HNP_OK) {
            a->http = NULL;
            goto out;
        }
        unsigned port = hnp_http_server_port(a->http);
        char port_text[16];
        snprintf(port_text, sizeof(port_text), "%u", port);
        hnp_log(HNP_LOG_INFO, "serving /metrics, /healthz and /readyz", "addr", addr, "port",
                port_text, NULL);
        if (test_hooks.listening != NULL)
            test_hooks.listening(test_hooks.listening_ctx, port);
    }

    if (options->post_events) {
        rc = hnp_agent_events_start(&options->kube, test_hooks.events_transport, &a->events);
        if (rc != HNP_OK) {
            a->events = NULL;
            hnp_error_set(err, rc, NULL, "cannot start the events thread");
            goto out;
        }
    }

    rc = start_sources(a, err);
    if (rc != HNP_OK)
        goto out;

    hnp_log(HNP_LOG_INFO, "agent started", "node", a->node, "hns", options->hns_spec, "server",
            options->kube.server, "context", options->kube.context, "metrics", addr,
            "unsupported_policy",
            options->unsupported == HNP_UNSUPPORTED_ISOLATE ? "isolate" : "reject", NULL);
    /* Before the loop's first pass, so it always comes before the ready callback. */
    if (started_callback != NULL)
        started_callback(started_callback_ctx);
    run_loop(a);
    hnp_log(HNP_LOG_INFO, "agent stopping", NULL);

out:
    stop_sources(a);
    hnp_agent_events_stop(a->events);
    a->events = NULL;
    if (a->worker != NULL) {
        finish_flight(a);
        if (rc == HNP_OK && options->cleanup_on_exit)
            cleanup(a);
        hnp_hns_worker_stop(a->worker);
        a->worker = NULL;
        end_flight(a);
    }
    release_abandoned(a);
    if (rc == HNP_OK)
        hnp_log(HNP_LOG_INFO, "agent stopped", "acls",
                options->cleanup_on_exit ? "removed" : "left enforced", NULL);
    agent_free(a);
    free(a);
    return rc;
}
