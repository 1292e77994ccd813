/*
 * agent.c - the wiring of `hnsnetpol run`: the threads, the real clock and
 * start/stop around the controller (controller.h), which makes every
 * decision.
 *
 * Threads and who owns what:
 *   - three reflectors (watch.c), or a test's event source, LIST and WATCH
 *     namespaces, pods and networkpolicies and push their events into the
 *     inbox (inbox.h);
 *   - the controller thread (the caller of hnp_agent_run) owns the
 *     controller. It drains the inbox, feeds the events and the finished
 *     HNS calls to the controller, steps it with hnp_monotonic_ms(), hands
 *     the call it asks for to the worker, and sleeps on the inbox until the
 *     controller's next wake-up time or new input (or STOP_CHECK_MS, to look
 *     at the stop flag);
 *   - one HNS worker (hns_worker.c) makes the HNS calls, one at a time, and
 *     hands finished jobs back through the inbox. When the controller says
 *     the call in flight hung past its timeout, the worker is abandoned (its
 *     thread ends whenever HNS returns) and a fresh worker takes over; at
 *     most HNP_CONTROLLER_MAX_ABANDONED hung calls are left running;
 *   - the events thread (events.c) posts Kubernetes Events about rejected
 *     policies; the HTTP listener (http_server.c) serves metrics and probes
 *     and asks ready_probe() about readiness, which the controller reports
 *     through its status callback.
 */
#include "agent.h"
#include "http_server.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller.h"
#include "events.h"
#include "hns_worker.h"
#include "inbox.h"
#include "log.h"
#include "platform.h"

#define DEFAULT_METRICS_ADDR "127.0.0.1:9915"

/* The stop flag is looked at least this often. */
#define STOP_CHECK_MS 100
/* Wait before trying again to open an HNS backend for a new worker. */
#define WORKER_REOPEN_MS 1000

#define N_KINDS 3

struct agent {
    const struct hnp_agent_options *opt;
    const volatile int *stop;
    char hns_name[512]; /* "mock:PATH", "hcn": for the log */

    struct hnp_inbox inbox;
    struct hnp_controller *ctl;
    struct hnp_metrics *metrics;
    bool own_metrics;
    struct hnp_http_server *http;
    struct hnp_agent_events *events;
    struct hnp_reflector *reflectors[N_KINDS];
    bool hook_source_started;

    struct hnp_hns_worker *worker;
    struct hnp_hns_worker *abandoned[HNP_CONTROLLER_MAX_ABANDONED];
    size_t n_abandoned;
    long long next_worker_try;

    /* Readiness, read by the HTTP thread. */
    pthread_mutex_t status_mu;
    bool ready;
    char not_ready[256];
};

/* ------------------------------------------------------------------------ */
/* The controller's outputs                                                 */

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

static void on_status(void *ctx, bool ready, const char *reason)
{
    struct agent *a = ctx;
    pthread_mutex_lock(&a->status_mu);
    a->ready = ready;
    snprintf(a->not_ready, sizeof(a->not_ready), "%s", ready ? "" : reason);
    pthread_mutex_unlock(&a->status_mu);
}

static void on_ready(void *ctx)
{
    struct agent *a = ctx;
    if (a->opt->ready != NULL)
        a->opt->ready(a->opt->ready_ctx);
}

/* Queue the Event about a rejected policy; true when one was queued. */
static bool on_rejected(void *ctx, const struct hnp_policy *policy)
{
    struct agent *a = ctx;
    if (a->events == NULL)
        return false;
    json_t *body = hnp_agent_rejection_event(policy, a->opt->node_name, a->opt->unsupported,
                                             hnp_realtime_ms());
    if (body == NULL) {
        char key[600];
        snprintf(key, sizeof(key), "%s/%s", policy->ns, policy->name);
        hnp_log(HNP_LOG_ERROR, "out of memory building an Event", "policy", key, NULL);
        return false;
    }
    hnp_agent_events_post(a->events, policy->ns, body);
    return true;
}

/* ------------------------------------------------------------------------ */
/* HNS workers: starting, abandoning, reaping                               */

static enum hnp_err start_worker(struct agent *a, struct hnp_error *err)
{
    struct hnp_hns *hns;
    enum hnp_err rc = a->opt->hns_class->open(a->opt->hns_arg, &hns, err);
    if (rc != HNP_OK)
        return rc;
    rc = hnp_hns_worker_start(hns, hnp_inbox_job_done, &a->inbox, &a->worker);
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
    if (a->worker != NULL || a->n_abandoned >= HNP_CONTROLLER_MAX_ABANDONED ||
        now < a->next_worker_try)
        return;
    struct hnp_error err = {0};
    enum hnp_err rc = start_worker(a, &err);
    if (rc != HNP_OK) {
        a->next_worker_try = now + WORKER_REOPEN_MS;
        hnp_log(HNP_LOG_ERROR, "cannot open the HNS backend; trying again", "hns", a->hns_name,
                "error", hnp_err_name(rc), "detail", err.message, NULL);
    }
}

/* The controller gave up on the call in flight: so does its worker. */
static void abandon_worker(struct agent *a)
{
    if (a->worker == NULL)
        return;
    hnp_hns_worker_abandon(a->worker);
    if (a->n_abandoned < HNP_CONTROLLER_MAX_ABANDONED)
        a->abandoned[a->n_abandoned++] = a->worker;
    else
        hnp_hns_worker_detach(a->worker); /* unreachable: no worker is started past the cap */
    a->worker = NULL;
}

/* Wait for the abandoned workers a while (their calls may still return), then let them be. */
static void release_abandoned(struct agent *a, long timeout_ms)
{
    long long until = hnp_monotonic_ms() + timeout_ms;
    while (a->n_abandoned > 0 && hnp_monotonic_ms() < until) {
        reap_abandoned(a);
        if (a->n_abandoned == 0)
            break;
        hnp_sleep_ms(20);
    }
    for (size_t i = 0; i < a->n_abandoned; i++)
        hnp_hns_worker_detach(a->abandoned[i]);
    if (a->n_abandoned > 0)
        hnp_log(HNP_LOG_WARN, "HNS calls still hang at exit; left behind", NULL);
    a->n_abandoned = 0;
}

/* ------------------------------------------------------------------------ */
/* The loop                                                                 */

/* Hand what the inbox held to the controller: the finished calls, then the events. */
static void feed(struct agent *a, struct hnp_queued_event *events, struct hnp_hns_job *jobs,
                 bool apply_events)
{
    long long now = hnp_monotonic_ms();
    while (jobs != NULL) {
        struct hnp_hns_job *next = jobs->next;
        hnp_controller_job_done(a->ctl, jobs, now);
        jobs = next;
    }
    for (struct hnp_queued_event *e = events; e != NULL && apply_events && !*a->stop; e = e->next)
        hnp_controller_apply(a->ctl, &e->ev, now);
    hnp_inbox_free_events(events);
}

/*
 * Step the controller now and do what it asks: abandon the hung worker (and
 * step again with a new one, when want_worker), submit its call. Returns when
 * it wants to be stepped next.
 */
static long long decide(struct agent *a, bool want_worker)
{
    long long now = hnp_monotonic_ms();
    reap_abandoned(a);
    if (want_worker)
        ensure_worker(a, now);
    hnp_controller_set_workers(a->ctl, a->worker != NULL, a->n_abandoned);
    struct hnp_controller_step step;
    hnp_controller_step(a->ctl, now, hnp_realtime_ms(), &step);
    if (step.abandon) {
        abandon_worker(a);
        if (want_worker)
            ensure_worker(a, now);
        hnp_controller_set_workers(a->ctl, a->worker != NULL, a->n_abandoned);
        hnp_controller_step(a->ctl, now, hnp_realtime_ms(), &step);
    }
    if (step.job != NULL)
        hnp_hns_worker_submit(a->worker, step.job);
    return step.wake_ms;
}

/* Drain, feed, decide; until *stop. */
static void run_loop(struct agent *a)
{
    long long wake = hnp_monotonic_ms();
    while (!*a->stop) {
        long long now = hnp_monotonic_ms();
        if (wake > now + STOP_CHECK_MS)
            wake = now + STOP_CHECK_MS;
        struct hnp_queued_event *events;
        struct hnp_hns_job *jobs;
        hnp_inbox_take(&a->inbox, wake, &events, &jobs);
        feed(a, events, jobs, true);
        if (*a->stop)
            break;
        wake = decide(a, true);
    }
}

/*
 * Stopping: let the call in flight finish (or time out), then, with
 * cleanup, remove our ACLs from every endpoint (controller.h). Events that
 * still come are dropped.
 */
static void shut_down(struct agent *a, bool cleanup)
{
    a->next_worker_try = 0;
    hnp_controller_shutdown(a->ctl, cleanup);
    for (;;) {
        long long wake = decide(a, cleanup);
        if (hnp_controller_finished(a->ctl))
            break;
        struct hnp_queued_event *events;
        struct hnp_hns_job *jobs;
        hnp_inbox_take(&a->inbox, wake, &events, &jobs);
        feed(a, events, jobs, false);
    }
}

/* ------------------------------------------------------------------------ */
/* Start and stop                                                           */

static enum hnp_err start_sources(struct agent *a, struct hnp_error *err)
{
    const struct hnp_agent_test_hooks *hooks = &a->opt->test;
    if (hooks->source_start != NULL) {
        enum hnp_err rc = hooks->source_start(hooks->source_ctx, hnp_inbox_sink, &a->inbox, err);
        a->hook_source_started = rc == HNP_OK;
        return rc;
    }
    struct hnp_reflector_options ropt = {.page_limit = a->opt->page_limit,
                                         .transport = hooks->watch_transport};
    static const enum hnp_kind kinds[N_KINDS] = {HNP_KIND_NAMESPACE, HNP_KIND_POD, HNP_KIND_POLICY};
    for (int k = 0; k < N_KINDS; k++) {
        enum hnp_err rc = hnp_reflector_start(&a->opt->kube, kinds[k], &ropt, hnp_inbox_sink,
                                              &a->inbox, a->metrics, &a->reflectors[kinds[k]], err);
        if (rc != HNP_OK) {
            a->reflectors[kinds[k]] = NULL;
            return rc;
        }
    }
    return HNP_OK;
}

static void stop_sources(struct agent *a)
{
    hnp_inbox_close(&a->inbox); /* a sink blocked on a full queue returns at once */
    if (a->hook_source_started && a->opt->test.source_stop != NULL)
        a->opt->test.source_stop(a->opt->test.source_ctx);
    a->hook_source_started = false;
    for (int k = 0; k < N_KINDS; k++) {
        hnp_reflector_stop(a->reflectors[k]);
        a->reflectors[k] = NULL;
    }
}

static void agent_free(struct agent *a)
{
    hnp_http_server_stop(a->http);
    hnp_controller_free(a->ctl);
    hnp_inbox_destroy(&a->inbox);
    pthread_mutex_destroy(&a->status_mu);
    if (a->own_metrics)
        hnp_metrics_free(a->metrics);
}

/* Everything up to the loop; on failure what was started is left for the caller to stop. */
static enum hnp_err start(struct agent *a, const char **addr, struct hnp_error *err)
{
    const struct hnp_agent_options *options = a->opt;
    a->metrics = options->metrics;
    if (a->metrics == NULL) {
        a->metrics = hnp_metrics_new();
        a->own_metrics = true;
        if (a->metrics == NULL)
            return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    }
    struct hnp_controller_options copt = {
        .node_name = options->node_name,
        .batch_ms = options->batch_ms,
        .endpoint_poll_ms = options->endpoint_poll_ms,
        .resync_ms = options->resync_ms,
        .hns_timeout_ms = options->hns_timeout_ms,
        .retry_initial_ms = options->retry_initial_ms,
        .retry_max_ms = options->retry_max_ms,
        .has_node_ip = options->has_node_ip,
        .node_ip = options->node_ip,
        .unsupported = options->unsupported,
        .metrics = a->metrics,
        .rejected = on_rejected,
        .ready = on_ready,
        .status = on_status,
        .ctx = a,
    };
    enum hnp_err rc = hnp_controller_new(&copt, &a->ctl, err);
    if (rc != HNP_OK)
        return rc;

    /* The HNS backend first: a bad --hns is the likeliest start-up mistake. */
    rc = start_worker(a, err);
    if (rc != HNP_OK)
        return rc;

    *addr = options->metrics_addr ? options->metrics_addr : DEFAULT_METRICS_ADDR;
    if ((*addr)[0] != '\0') {
        rc = hnp_http_server_start(*addr, a->metrics, ready_probe, a, &a->http, err);
        if (rc != HNP_OK) {
            a->http = NULL;
            return rc;
        }
        unsigned port = hnp_http_server_port(a->http);
        char port_text[16];
        snprintf(port_text, sizeof(port_text), "%u", port);
        hnp_log(HNP_LOG_INFO, "serving /metrics, /healthz and /readyz", "addr", *addr, "port",
                port_text, NULL);
        if (options->test.listening != NULL)
            options->test.listening(options->test.listening_ctx, port);
    }

    if (options->post_events) {
        rc = hnp_agent_events_start(&options->kube, options->test.events_transport, &a->events);
        if (rc != HNP_OK) {
            a->events = NULL;
            return hnp_error_set(err, rc, NULL, "cannot start the events thread");
        }
    }
    return start_sources(a, err);
}

enum hnp_err hnp_agent_run(const struct hnp_agent_options *options, const volatile int *stop,
                           struct hnp_error *err)
{
    if (options == NULL || stop == NULL)
        return hnp_error_set(err, HNP_ERR_INVALID, NULL, "no options or stop flag given");
    if (options->node_name == NULL || options->node_name[0] == '\0')
        return hnp_error_set(err, HNP_ERR_INVALID, "--node-name",
                             "the node name is required (--node-name, or NODE_NAME)");
    if (options->hns_class == NULL)
        return hnp_error_set(err, HNP_ERR_USAGE, "--hns",
                             "no HNS backend given: use \"mock:PATH\" or \"hcn\"");

    struct agent *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    a->opt = options;
    a->stop = stop;
    snprintf(a->hns_name, sizeof(a->hns_name), "%s%s%s", options->hns_class->name,
             options->hns_arg ? ":" : "", options->hns_arg ? options->hns_arg : "");
    if (hnp_inbox_init(&a->inbox) != HNP_OK) {
        free(a);
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "cannot create the agent's queue");
    }
    if (pthread_mutex_init(&a->status_mu, NULL) != 0) {
        hnp_inbox_destroy(&a->inbox);
        free(a);
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "cannot create a mutex");
    }
    snprintf(a->not_ready, sizeof(a->not_ready), "%s", "starting");

    const char *addr = NULL;
    enum hnp_err rc = start(a, &addr, err);
    if (rc == HNP_OK) {
        hnp_log(HNP_LOG_INFO, "agent started", "node", options->node_name, "hns", a->hns_name,
                "server", options->kube.server, "context", options->kube.context, "metrics", addr,
                "unsupported_policy",
                options->unsupported == HNP_UNSUPPORTED_ISOLATE ? "isolate" : "reject", NULL);
        /* Before the loop's first pass, so it always comes before the ready callback. */
        if (options->started != NULL)
            options->started(options->started_ctx);
        run_loop(a);
        hnp_log(HNP_LOG_INFO, "agent stopping", NULL);
    }

    stop_sources(a);
    hnp_agent_events_stop(a->events);
    a->events = NULL;
    if (a->worker != NULL) {
        shut_down(a, rc == HNP_OK && options->cleanup_on_exit);
        hnp_hns_worker_stop(a->worker);
        a->worker = NULL;
    }
    release_abandoned(a, options->hns_timeout_ms > 0 ? options->hns_timeout_ms
                                                     : HNP_CONTROLLER_DEFAULT_TIMEOUT_MS);
    if (rc == HNP_OK)
        hnp_log(HNP_LOG_INFO, "agent stopped", "acls",
                options->cleanup_on_exit ? "removed" : "left enforced", NULL);
    agent_free(a);
    free(a);
    return rc;
}
