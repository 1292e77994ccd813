/*
 * events.c - Kubernetes Events about the policies this node rejects,
 * so that `kubectl describe networkpolicy` tells why a policy is not
 * enforced on Windows.
 *
 * The agent builds the Event (hnp_agent_rejection_event) when the
 * controller reports a rejected policy, and queues it;
 * a small thread with its own API client POSTs it, so a slow or unreachable
 * API server never holds up the controller. The queue is short and never
 * blocks: an Event that does not fit is dropped with a warning (the log line
 * and the metric the controller writes say the same thing).
 */
#define _POSIX_C_SOURCE 200809L

#include "events.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define QUEUE_MAX 64
#define MESSAGE_MAX 1024
/* generateName plus the 5 random characters the server adds must stay a valid name (253). */
#define GENERATE_NAME_MAX 240
#define REASON "UnsupportedOnWindows"
#define COMPONENT "hnsnetpol"

/* ---- the Event body ----------------------------------------------------- */

/* Append text to buf (len used of cap), stopping at the end; returns false when cut. */
static bool append(char *buf, size_t cap, size_t *len, const char *text)
{
    size_t n = strlen(text);
    size_t room = cap - 1 - *len;
    bool whole = n <= room;
    if (!whole)
        n = room;
    memcpy(buf + *len, text, n);
    *len += n;
    buf[*len] = '\0';
    return whole;
}

/* Cut buf back to at most len bytes without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *buf, size_t len)
{
    while (len > 0 && ((unsigned char)buf[len] & 0xC0) == 0x80)
        len--;
    return len;
}

static const char *mode_text(enum hnp_unsupported_mode mode)
{
    if (mode == HNP_UNSUPPORTED_ISOLATE)
        return "this node isolates the pods it selects for its policy types and allows nothing "
               "of it (--unsupported-policy=isolate)";
    return "this node does not enforce it (--unsupported-policy=reject)";
}

/* "<node>: <feature> at <path>: <message>; ...; <what we do>" in at most MESSAGE_MAX bytes. */
static void rejection_message(const struct hnp_policy *policy, const char *node,
                              enum hnp_unsupported_mode mode, char out[MESSAGE_MAX + 1])
{
    const char *tail = mode_text(mode);
    char findings[MESSAGE_MAX + 1];
    size_t len = 0;
    findings[0] = '\0';
    bool whole = append(findings, sizeof(findings), &len, node) &&
                 append(findings, sizeof(findings), &len, ": ");
    for (size_t i = 0; whole && i < policy->n_findings; i++) {
        const struct hnp_finding *f = &policy->findings[i];
        whole = append(findings, sizeof(findings), &len, hnp_feature_name(f->feature)) &&
                append(findings, sizeof(findings), &len, " at ") &&
                append(findings, sizeof(findings), &len, f->path ? f->path : "") &&
                append(findings, sizeof(findings), &len, ": ") &&
                append(findings, sizeof(findings), &len, f->message ? f->message : "") &&
                append(findings, sizeof(findings), &len, "; ");
    }
    size_t tail_len = strlen(tail);
    const char *ellipsis = "...; ";
    size_t ellipsis_len = strlen(ellipsis);
    if (!whole || len + tail_len > MESSAGE_MAX) {
        /* Too long: keep what fits of the findings, then "...; " and the tail. */
        size_t keep = MESSAGE_MAX - tail_len - ellipsis_len;
        if (keep > len)
            keep = len;
        len = utf8_cut(findings, keep);
        memcpy(findings + len, ellipsis, ellipsis_len);
        len += ellipsis_len;
    }
    memcpy(out, findings, len);
    memcpy(out + len, tail, tail_len);
    out[len + tail_len] = '\0';
}

/* RFC 3339 in whole seconds, as metav1.Time writes it. */
static void rfc3339_seconds(long long now_ms, char out[25])
{
    hnp_log_format_time(now_ms, out);
    /* "YYYY-MM-DDTHH:MM:SS.mmmZ" -> "YYYY-MM-DDTHH:MM:SSZ" */
    out[19] = 'Z';
    out[20] = '\0';
}

/* obj[key] = string value (skipped when value is NULL); false on NOMEM. */
static bool set_str(json_t *obj, const char *key, const char *value)
{
    if (value == NULL)
        return true;
    return json_object_set_new(obj, key, json_string(value)) == 0;
}

json_t *hnp_agent_rejection_event(const struct hnp_policy *policy, const char *node,
                                  enum hnp_unsupported_mode mode, long long now_ms)
{
    char message[MESSAGE_MAX + 1];
    rejection_message(policy, node, mode, message);
    char stamp[25];
    rfc3339_seconds(now_ms, stamp);
    char generate_name[GENERATE_NAME_MAX + 2];
    snprintf(generate_name, sizeof(generate_name), "%.*s.", GENERATE_NAME_MAX, policy->name);

    json_t *event = json_object();
    json_t *meta = json_object();
    json_t *involved = json_object();
    json_t *source = json_object();
    bool ok = event != NULL && meta != NULL && involved != NULL && source != NULL;
    ok = ok && set_str(meta, "generateName", generate_name) &&
         set_str(meta, "namespace", policy->ns);
    ok = ok && set_str(involved, "apiVersion", "networking.k8s.io/v1") &&
         set_str(involved, "kind", "NetworkPolicy") && set_str(involved, "name", policy->name) &&
         set_str(involved, "namespace", policy->ns) && set_str(involved, "uid", policy->uid) &&
         set_str(involved, "resourceVersion", policy->resource_version);
    ok = ok && set_str(source, "component", COMPONENT) && set_str(source, "host", node);
    ok = ok && set_str(event, "apiVersion", "v1") && set_str(event, "kind", "Event") &&
         json_object_set(event, "metadata", meta) == 0 &&
         json_object_set(event, "involvedObject", involved) == 0 &&
         set_str(event, "reason", REASON) && set_str(event, "message", message) &&
         set_str(event, "type", "Warning") && json_object_set(event, "source", source) == 0 &&
         set_str(event, "reportingComponent", COMPONENT) &&
         set_str(event, "reportingInstance", node) && set_str(event, "firstTimestamp", stamp) &&
         set_str(event, "lastTimestamp", stamp) &&
         json_object_set_new(event, "count", json_integer(1)) == 0;
    json_decref(meta);
    json_decref(involved);
    json_decref(source);
    if (!ok) {
        json_decref(event);
        return NULL;
    }
    return event;
}

/* ---- the events thread -------------------------------------------------- */

struct queued {
    char *path; /* /api/v1/namespaces/<ns>/events */
    json_t *body;
    struct queued *next;
};

struct hnp_agent_events {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct queued *head, *tail;
    size_t count;
    bool stopping;
    volatile int stop_flag; /* for the API client: interrupts a request in flight */
    struct hnp_kube_config cfg;
    struct hnp_watch_transport transport;
    bool default_transport;
};

static const struct hnp_watch_transport kube_transport = {
    .client_new = hnp_kube_client_new,
    .client_free = hnp_kube_client_free,
    .request = hnp_kube_request,
    .stream = hnp_kube_stream,
};

static void queued_free(struct queued *q)
{
    if (q == NULL)
        return;
    free(q->path);
    json_decref(q->body);
    free(q);
}

/* A short text of the server's answer: its Status message when there is one. */
static const char *status_message(const json_t *response)
{
    const char *msg = json_string_value(json_object_get(response, "message"));
    return msg != NULL ? msg : "";
}

static void post_one(struct hnp_agent_events *ev, struct hnp_kube_client **client, struct queued *q)
{
    struct hnp_error err = {0};
    const char *involved =
        json_string_value(json_object_get(json_object_get(q->body, "involvedObject"), "name"));
    if (*client == NULL) {
        enum hnp_err rc = ev->transport.client_new(&ev->cfg, client, &err);
        if (rc != HNP_OK) {
            *client = NULL;
            hnp_log(HNP_LOG_WARN, "cannot post Event: no API client", "path", q->path, "object",
                    involved, "error", hnp_err_name(rc), "detail", err.message, NULL);
            return;
        }
        if (ev->default_transport)
            hnp_kube_client_set_stop(*client, &ev->stop_flag);
    }
    long status = 0;
    json_t *response = NULL;
    enum hnp_err rc =
        ev->transport.request(*client, "POST", q->path, q->body, NULL, 0, &status, &response, &err);
    if (rc == HNP_ERR_STOPPED) {
        json_decref(response);
        return;
    }
    if (rc != HNP_OK) {
        hnp_log(HNP_LOG_WARN, "cannot post Event", "path", q->path, "object", involved, "error",
                hnp_err_name(rc), "detail", err.message, NULL);
    } else if (status != 200 && status != 201) {
        char text[16];
        snprintf(text, sizeof(text), "%ld", status);
        hnp_log(HNP_LOG_WARN, "Event refused by the API server", "path", q->path, "object",
                involved, "status", text, "detail", status_message(response), NULL);
    } else {
        hnp_log(HNP_LOG_DEBUG, "Event posted", "path", q->path, "object", involved, NULL);
    }
    json_decref(response);
}

static void *events_main(void *arg)
{
    struct hnp_agent_events *ev = arg;
    struct hnp_kube_client *client = NULL;
    pthread_mutex_lock(&ev->mu);
    for (;;) {
        while (ev->head == NULL && !ev->stopping)
            pthread_cond_wait(&ev->cv, &ev->mu);
        if (ev->stopping)
            break;
        struct queued *q = ev->head;
        ev->head = q->next;
        if (ev->head == NULL)
            ev->tail = NULL;
        ev->count--;
        pthread_mutex_unlock(&ev->mu);
        post_one(ev, &client, q);
        queued_free(q);
        pthread_mutex_lock(&ev->mu);
    }
    pthread_mutex_unlock(&ev->mu);
    if (client != NULL)
        ev->transport.client_free(client);
    return NULL;
}

enum hnp_err hnp_agent_events_start(const struct hnp_kube_config *cfg,
                                    const struct hnp_watch_transport *transport,
                                    struct hnp_agent_events **out)
{
    struct hnp_agent_events *ev = calloc(1, sizeof(*ev));
    if (ev == NULL)
        return HNP_ERR_NOMEM;
    if (hnp_kube_config_copy(&ev->cfg, cfg) != HNP_OK) {
        free(ev);
        return HNP_ERR_NOMEM;
    }
    ev->default_transport = transport == NULL;
    ev->transport = transport != NULL ? *transport : kube_transport;
    if (pthread_mutex_init(&ev->mu, NULL) != 0)
        goto fail_cfg;
    if (pthread_cond_init(&ev->cv, NULL) != 0)
        goto fail_mutex;
    if (pthread_create(&ev->thread, NULL, events_main, ev) != 0)
        goto fail_cond;
    *out = ev;
    return HNP_OK;

fail_cond:
    pthread_cond_destroy(&ev->cv);
fail_mutex:
    pthread_mutex_destroy(&ev->mu);
fail_cfg:
    hnp_kube_config_clear(&ev->cfg);
    free(ev);
    return HNP_ERR_NOMEM;
}

void hnp_agent_events_post(struct hnp_agent_events *ev, const char *ns, json_t *body)
{
    if (body == NULL)
        return;
    if (ev == NULL || ns == NULL) {
        json_decref(body);
        return;
    }
    struct queued *q = calloc(1, sizeof(*q));
    size_t len = strlen("/api/v1/namespaces//events") + strlen(ns) + 1;
    char *path = malloc(len);
    if (q == NULL || path == NULL) {
        free(q);
        free(path);
        json_decref(body);
        hnp_log(HNP_LOG_WARN, "Event dropped: out of memory", "namespace", ns, NULL);
        return;
    }
    /* Namespace names are DNS labels: nothing to escape in the path. */
    snprintf(path, len, "/api/v1/namespaces/%s/events", ns);
    q->path = path;
    q->body = body;
    pthread_mutex_lock(&ev->mu);
    if (ev->stopping || ev->count >= QUEUE_MAX) {
        pthread_mutex_unlock(&ev->mu);
        hnp_log(HNP_LOG_WARN, "Event dropped: too many waiting to be posted", "path", path, NULL);
        queued_free(q);
        return;
    }
    if (ev->tail != NULL)
        ev->tail->next = q;
    else
        ev->head = q;
    ev->tail = q;
    ev->count++;
    pthread_cond_signal(&ev->cv);
    pthread_mutex_unlock(&ev->mu);
}

void hnp_agent_events_stop(struct hnp_agent_events *ev)
{
    if (ev == NULL)
        return;
    pthread_mutex_lock(&ev->mu);
    ev->stopping = true;
    ev->stop_flag = 1;
    pthread_cond_signal(&ev->cv);
    pthread_mutex_unlock(&ev->mu);
    pthread_join(ev->thread, NULL);
    while (ev->head != NULL) {
        struct queued *q = ev->head;
        ev->head = q->next;
        queued_free(q);
    }
    pthread_cond_destroy(&ev->cv);
    pthread_mutex_destroy(&ev->mu);
    hnp_kube_config_clear(&ev->cfg);
    free(ev);
}
