/*
 * watch.h - keep a local copy of one kind of Kubernetes object current: a
 * paginated LIST, then a WATCH from the list's resourceVersion with
 * bookmarks; relist on 410 Gone or an expired continue token, reconnect
 * with capped exponential backoff and jitter.
 *
 * Each reflector runs in its own thread with its own API client and hands
 * changes to a sink. A relist is diffed against what the reflector already
 * delivered (by uid and resourceVersion), so unchanged objects cause no work.
 */
#ifndef HNP_WATCH_H
#define HNP_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "hnsnetpol/error.h"
#include "hnsnetpol/kube.h"
#include "hnsnetpol/metrics.h"

enum hnp_kind { HNP_KIND_NAMESPACE, HNP_KIND_POD, HNP_KIND_POLICY };

/* "namespaces", "pods", "networkpolicies" */
const char *hnp_kind_resource(enum hnp_kind kind);

enum hnp_watch_event_type {
    HNP_WATCH_UPSERT, /* added or modified (object set) */
    HNP_WATCH_DELETE, /* deleted (object set: the last state known) */
    HNP_WATCH_SYNCED, /* the initial list, or a relist, has been fully delivered */
};

struct hnp_watch_event {
    enum hnp_kind kind;
    enum hnp_watch_event_type type;
    json_t *object; /* NULL for SYNCED */
};

/*
 * Receives events in order, from the reflector's thread. The sink steals
 * event->object (it must json_decref it when done).
 */
typedef void (*hnp_watch_sink)(struct hnp_watch_event *event, void *ctx);

struct hnp_reflector_options {
    size_t page_limit;       /* LIST limit; 0 = 500 */
    size_t max_event_bytes;  /* one watch event; 0 = 16 MiB; larger -> relist */
    long backoff_initial_ms; /* 0 = 500 */
    long backoff_max_ms;     /* 0 = 30000 */
    long watch_timeout_s;    /* timeoutSeconds asked of the server; 0 = 300 */
};

struct hnp_reflector;

/*
 * Start watching kind across all namespaces. cfg is copied (each reflector
 * makes its own client); metrics may be NULL (else counts
 * hnsnetpol_watch_restarts_total and hnsnetpol_relists_total by resource).
 */
enum hnp_err hnp_reflector_start(const struct hnp_kube_config *cfg, enum hnp_kind kind,
                                 const struct hnp_reflector_options *options, hnp_watch_sink sink,
                                 void *ctx, struct hnp_metrics *metrics, struct hnp_reflector **out,
                                 struct hnp_error *err);

/* Stop (interrupting a blocked request within about 250 ms), join and free. Accepts NULL. */
void hnp_reflector_stop(struct hnp_reflector *r);

#endif /* HNP_WATCH_H */
