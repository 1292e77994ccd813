/*
 * watch.h - keep a local copy of one kind of Kubernetes object current: a
 * paginated LIST, then a WATCH from the list's resourceVersion with
 * bookmarks; relist on 410 Gone or an expired continue token, reconnect
 * with capped exponential backoff and jitter.
 *
 * Which LIST: the first one of a reflector asks
 * "?resourceVersion=0&limit=<page_limit>", which kube-apiserver answers
 * from its watch cache, all in one answer (it ignores the limit); a server
 * that pages anyway is followed with "?limit=<page_limit>&continue=<token>".
 * Every later LIST (a relist, or a retry after the first attempt failed in
 * any way) is consistent and paged: "?limit=<page_limit>", then continue,
 * so a reflector that has state never steps back to an older cache answer.
 *
 * Each reflector runs in its own thread with its own API client and hands
 * changes to a sink. A relist is diffed against what the reflector already
 * delivered (by uid and resourceVersion), so unchanged objects cause no work.
 *
 * What the sink sees, in order:
 *   - after every complete LIST (the first one and every relist): DELETE for
 *     each object delivered before and absent now, then UPSERT for each
 *     object that is new or whose uid or resourceVersion changed (in list
 *     order), then SYNCED. Nothing is emitted while pages are still coming:
 *     a list that fails half-way emits nothing. The pages are held meanwhile
 *     as compact text of the trimmed objects (below), not as JSON trees. A
 *     page is read item by item: only one listed object is a JSON tree at a
 *     time, never the whole page;
 *   - while watching: UPSERT for ADDED and MODIFIED, DELETE for DELETED
 *     (with the object of the event), in the server's order. An event whose
 *     uid and resourceVersion equal what was last delivered is dropped.
 *
 * Every object handed over has "kind" set (Pod, Namespace, NetworkPolicy;
 * LIST items lack it) and is trimmed by hnp_object_trim_json() (objects.h)
 * to what the engine reads: metadata.managedFields always goes; for a Pod
 * also metadata.annotations and metadata.ownerReferences, spec keeps only
 * nodeName, hostNetwork and containers[].{name, ports}, status only phase,
 * podIP, podIPs, hostIP and hostIPs; a Namespace or a NetworkPolicy loses
 * only the kubectl last-applied-configuration annotation. The DELETE that a relist emits for a
 * vanished object carries only {"kind", "metadata": {"name", "namespace" (if any), "uid",
 * "resourceVersion"}} as last delivered.
 *
 * Errors are never fatal to the thread: HTTP and transport errors, 401/403
 * and ERROR events other than 410 are logged and retried after a backoff of
 * random(0, min(backoff_max_ms, backoff_initial_ms * 2^(n-1))) for the n-th
 * failure in a row (full jitter); a complete list or a good watch event
 * resets n. A LIST page that is not JSON, is not a list, holds an object
 * (or metadata) larger than max_item_bytes, or is larger than
 * max_list_bytes fails the list (logged with the page, offset and item),
 * which is retried after a backoff. 410 Gone (HTTP or ERROR event), an
 * expired continue token, an unparseable event or one larger than
 * max_event_bytes cause an immediate relist. The normal end of a watch
 * (timeoutSeconds) re-watches at once from the last resourceVersion (after a
 * backoff only when two streams in a row ended without a single line, so a
 * misbehaving server cannot make it spin).
 */
#ifndef HNP_WATCH_H
#define HNP_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "client.h"
#include "hnsnetpol/error.h"
#include "hnsnetpol/objects.h"
#include "metrics.h"

/* "namespaces", "pods", "networkpolicies" ("unknown" out of range); never NULL. */
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
    /*
     * The length of the JSON text the object was parsed from (a listed
     * object's trimmed compact text, a watch event's whole line), 0 when
     * unknown (SYNCED, a relist's DELETE): for a sink that bounds what it
     * queues by size (the tree takes several times the text).
     */
    size_t bytes;
};

/*
 * Receives events in order, from the reflector's thread. The sink steals
 * event->object (it must json_decref it when done). It must not call
 * hnp_reflector_stop() on its own reflector.
 */
typedef void (*hnp_watch_sink)(struct hnp_watch_event *event, void *ctx);

/*
 * The HTTP layer under a reflector (struct hnp_reflector_options'
 * transport), so unit tests can script an API server. The default is hnp_kube_client_new(),
 * hnp_kube_client_free(), hnp_kube_client_set_stop(), hnp_kube_request(),
 * hnp_kube_stream() and hnp_kube_stream_raw() for list_stream; the members
 * have exactly their contracts. client_set_stop may be NULL (then a LIST in
 * flight is not interrupted).
 *
 * list_stream fetches one LIST page: its body goes to fn in pieces as it
 * arrives, so the reflector never holds the page, as text or as one JSON
 * tree (410 is HNP_ERR_GONE, 401/403 HNP_ERR_AUTH, other statuses
 * HNP_ERR_HTTP with err->code = the status). It may be NULL: then pages are
 * fetched with request (max_body = max_list_bytes) and the returned tree is
 * serialised for the same item-by-item reader (for test transports that
 * script whole pages as JSON).
 */
struct hnp_watch_transport {
    enum hnp_err (*client_new)(const struct hnp_kube_config *cfg, struct hnp_kube_client **out,
                               struct hnp_error *err);
    void (*client_free)(struct hnp_kube_client *client);
    void (*client_set_stop)(struct hnp_kube_client *client, const volatile int *stop);
    enum hnp_err (*request)(struct hnp_kube_client *client, const char *method, const char *path,
                            const json_t *body, const char *content_type, size_t max_body,
                            long *status, json_t **response, struct hnp_error *err);
    enum hnp_err (*stream)(struct hnp_kube_client *client, const char *path, hnp_kube_line_fn fn,
                           void *ctx, const volatile int *stop, size_t max_line,
                           long idle_timeout_ms, struct hnp_error *err);
    enum hnp_err (*list_stream)(struct hnp_kube_client *client, const char *path,
                                hnp_kube_piece_fn fn, void *ctx, const volatile int *stop,
                                long idle_timeout_ms, struct hnp_error *err);
};

struct hnp_reflector_options {
    size_t page_limit;       /* LIST limit; 0 = 500 */
    size_t max_event_bytes;  /* one watch event; 0 = 16 MiB; larger -> relist */
    long backoff_initial_ms; /* 0 = 500 */
    long backoff_max_ms;     /* 0 = 30000 */
    long watch_timeout_s;    /* timeoutSeconds asked of the server; 0 = 300 */
    /*
     * One listed object's JSON text (or a page's metadata): a LIST body is
     * streamed and scanned item by item, so this is what a list holds of it
     * at once (besides the compact texts of the objects kept until the list
     * completes); 0 = 16 MiB, as max_event_bytes.
     */
    size_t max_item_bytes;
    /*
     * One LIST response's body (a page, or the whole watch-cache answer of
     * the first LIST): no memory is held in proportion to it, it only ends
     * an answer that never ends; 0 = 4 GiB (20,000 pods are 138 MB).
     */
    uint64_t max_list_bytes;
    /*
     * For tests: the HTTP layer (borrowed; it must outlive the reflector).
     * NULL = client.h's functions.
     */
    const struct hnp_watch_transport *transport;
};

struct hnp_reflector;

/*
 * Start watching kind across all namespaces. cfg is borrowed for the call
 * (the reflector makes its own client from it before returning); options may
 * be NULL (all defaults); sink is required; ctx is passed to it. metrics may
 * be NULL, else it is borrowed until hnp_reflector_stop() and counts, with
 * the label resource="<hnp_kind_resource(kind)>":
 *   hnsnetpol_watch_restarts_total - watches that ended abnormally (error,
 *       410, bad or oversized event, idle timeout), not the normal end;
 *   hnsnetpol_relists_total - lists started after the first complete one
 *       because the watch could not go on (410, bad event, expired continue).
 * On success *out is new (end it with hnp_reflector_stop()). HNP_ERR_INVALID
 * for a missing argument or an unknown kind, what hnp_kube_client_new()
 * returned, or HNP_ERR_NOMEM (also when the thread cannot be created).
 */
enum hnp_err hnp_reflector_start(const struct hnp_kube_config *cfg, enum hnp_kind kind,
                                 const struct hnp_reflector_options *options, hnp_watch_sink sink,
                                 void *ctx, struct hnp_metrics *metrics, struct hnp_reflector **out,
                                 struct hnp_error *err);

/*
 * Stop, join and free. A LIST request, a watch stream or a backoff wait in
 * progress is interrupted within about 250 ms (the client's stop flag, see
 * hnp_kube_client_set_stop()). No event reaches the sink after this
 * returns. Accepts NULL.
 */
void hnp_reflector_stop(struct hnp_reflector *r);

#endif /* HNP_WATCH_H */
