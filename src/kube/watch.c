/*
 * watch.c - the reflector: one thread per kind of object that LISTs, then
 * WATCHes, the API server and hands changes to a sink (see watch.h for the
 * contract the sink sees).
 *
 * State kept per reflector:
 *   - `delivered`: key (namespace/name, or name) -> uid, resourceVersion of
 *     every object handed to the sink and not deleted since. A relist is
 *     diffed against it; each list attempt has a generation number and an
 *     entry seen by the attempt carries it, so what is left with an older
 *     one after a complete list has vanished.
 *   - `pending`: the new or changed objects of the list in progress, as
 *     compact JSON text of the trimmed objects. A 20,000-pod list held as
 *     JSON trees would take several times the memory the text does.
 *   - while a LIST page arrives, the page reader (listpage.h, over the
 *     engine's List splitter) finds the elements of its top-level "items"
 *     array in the bytes and parses each alone: one 500-pod page as one
 *     jansson tree took 35-40 MB, ten
 *     times its text, and was the agent's memory peak
 *     (docs/dev/performance-agent.md).
 *   - the resourceVersion to watch from, updated by every event.
 *
 * The HTTP layer is a table of function pointers (struct
 * hnp_watch_transport, a field of the options): client.h's functions by
 * default, a scripted server in the unit tests.
 *
 * Waiting (backoff) is a timed wait on a condition variable that
 * hnp_reflector_stop() signals, with a deadline on the monotonic clock
 * (runtime's wait.h).
 */
#include "watch.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "hashmap.h"
#include "listpage.h"
#include "log.h"
#include "platform.h"
#include "text.h"
#include "wait.h"

#define DEFAULT_PAGE_LIMIT 500
#define DEFAULT_MAX_EVENT_BYTES ((size_t)16 * 1024 * 1024)
#define DEFAULT_BACKOFF_INITIAL_MS 500
#define DEFAULT_BACKOFF_MAX_MS 30000
#define DEFAULT_WATCH_TIMEOUT_S 300
/* One listed object: as large as a watch event may be (an event carries one object). */
#define DEFAULT_MAX_ITEM_BYTES DEFAULT_MAX_EVENT_BYTES
/*
 * One LIST response (a page, or the whole watch-cache answer of a first
 * LIST): not a memory bound (the body is streamed, only one item is held),
 * a bound on a server that never ends its answer. 20,000 pods are 138 MB.
 */
#define DEFAULT_MAX_LIST_BYTES ((uint64_t)4 * 1024 * 1024 * 1024)
/* A LIST page silent this long is a dead connection (hnp_kube_request() allows 60 s in all). */
#define LIST_IDLE_MS 60000L
/* A watch silent this much longer than timeoutSeconds is a dead connection. */
#define IDLE_GRACE_MS 60000L

#define METRIC_RESTARTS "hnsnetpol_watch_restarts_total"
#define METRIC_RELISTS "hnsnetpol_relists_total"

/* How the API serves each kind; its "kind" string is hnp_kind_name(). */
struct kind_info {
    const char *resource;    /* plural, for paths, metrics and logs */
    const char *api_version; /* the objects' "apiVersion" */
    const char *path;        /* collection across all namespaces */
    int namespaced;
};

static const struct kind_info kinds[HNP_KIND_COUNT] = {
    [HNP_KIND_NAMESPACE] = {"namespaces", "v1", "/api/v1/namespaces", 0},
    [HNP_KIND_POD] = {"pods", "v1", "/api/v1/pods", 1},
    [HNP_KIND_POLICY] = {"networkpolicies", "networking.k8s.io/v1",
                         "/apis/networking.k8s.io/v1/networkpolicies", 1},
};

#define N_KINDS HNP_KIND_COUNT

const char *hnp_kind_resource(enum hnp_kind kind)
{
    if ((unsigned)kind >= N_KINDS)
        return "unknown";
    return kinds[kind].resource;
}

/* ---- transport ---------------------------------------------------------- */

static const struct hnp_watch_transport default_transport = {
    .client_new = hnp_kube_client_new,
    .client_free = hnp_kube_client_free,
    .client_set_stop = hnp_kube_client_set_stop,
    .request = hnp_kube_request,
    .stream = hnp_kube_stream,
    .list_stream = hnp_kube_stream_raw,
};

/* ---- small helpers ------------------------------------------------------ */

/* New string from a printf format, or NULL when out of memory. */
static char *str_printf(const char *fmt, ...) HNP_PRINTF(1, 2);

static char *str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Percent-encode everything but RFC 3986 unreserved characters. New string or NULL. */
static char *url_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen(s);
    char *out = malloc(len * 3 + 1);
    if (out == NULL)
        return NULL;
    char *p = out;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
            *c == '-' || *c == '_' || *c == '.' || *c == '~') {
            *p++ = (char)*c;
        } else {
            *p++ = '%';
            *p++ = hex[*c >> 4];
            *p++ = hex[*c & 15];
        }
    }
    *p = '\0';
    return out;
}

/* The string member `key` of obj, or NULL. */
static const char *string_of(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static const char *metadata_string(const json_t *obj, const char *key)
{
    return string_of(json_object_get(obj, "metadata"), key);
}

/* ---- delivered objects: key -> (uid, resourceVersion) ------------------- */

/* A value of the `delivered` map (hashmap.h), hashed by key. */
struct kentry {
    unsigned gen; /* the last list attempt that saw it */
    char *uid;    /* "" when the object had none */
    char *rv;
    char key[];
};

static struct kentry *keymap_find(const struct hnp_hashmap *m, const char *key)
{
    size_t pos = HNP_HASHMAP_START;
    struct kentry *e;
    while ((e = hnp_hashmap_next(m, hnp_hash_str(key), &pos)) != NULL)
        if (strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

static void kentry_free(struct kentry *e)
{
    free(e->uid);
    free(e->rv);
    free(e);
}

/* Insert or update key with copies of uid and rv; gen marks it seen. */
static enum hnp_err keymap_put(struct hnp_hashmap *m, const char *key, const char *uid,
                               const char *rv, unsigned gen)
{
    char *uid_copy = hnp_strdup(uid);
    char *rv_copy = hnp_strdup(rv);
    if (uid_copy == NULL || rv_copy == NULL)
        goto nomem;
    struct kentry *e = keymap_find(m, key);
    if (e != NULL) {
        free(e->uid);
        free(e->rv);
        e->uid = uid_copy;
        e->rv = rv_copy;
        e->gen = gen;
        return HNP_OK;
    }
    size_t klen = strlen(key) + 1;
    e = malloc(sizeof(*e) + klen);
    if (e == NULL)
        goto nomem;
    memcpy(e->key, key, klen);
    e->gen = gen;
    e->uid = uid_copy;
    e->rv = rv_copy;
    if (hnp_hashmap_put(m, hnp_hash_str(key), e) != HNP_OK) {
        free(e);
        goto nomem;
    }
    return HNP_OK;
nomem:
    free(uid_copy);
    free(rv_copy);
    return HNP_ERR_NOMEM;
}

static void keymap_remove(struct hnp_hashmap *m, const char *key)
{
    struct kentry *e = keymap_find(m, key);
    if (e != NULL) {
        hnp_hashmap_remove(m, hnp_hash_str(key), e);
        kentry_free(e);
    }
}

static void keymap_free(struct hnp_hashmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].value != NULL)
            kentry_free(m->slots[i].value);
    hnp_hashmap_clear(m);
}

/* ---- the reflector ------------------------------------------------------ */

struct hnp_reflector {
    enum hnp_kind kind;
    const struct kind_info *info;
    struct hnp_reflector_options opt; /* defaults filled in */
    hnp_watch_sink sink;
    void *ctx;
    struct hnp_metrics *metrics;
    char metric_labels[64];
    const struct hnp_watch_transport *tr;
    struct hnp_kube_client *client;

    pthread_t thread;
    pthread_mutex_t mu;
    struct hnp_cond cv;
    volatile int stop; /* set under mu by hnp_reflector_stop() */

    /* Used by the reflector's thread only. */
    struct hnp_hashmap delivered;
    unsigned list_gen;
    char **pending; /* compact JSON texts */
    size_t n_pending;
    size_t cap_pending;
    char *rv;             /* resourceVersion to watch from */
    bool cache_tried;     /* a LIST from the watch cache was made (see list_all()) */
    unsigned failures;    /* failures in a row, for the backoff */
    unsigned relists_row; /* relists in a row without a good watch event */
    size_t stream_lines;  /* lines seen by the current watch */
    bool line_ended;      /* on_line() ended the current watch (and logged why) */
    uint64_t rng;
};

static void count_metric(struct hnp_reflector *r, const char *name)
{
    if (r->metrics != NULL)
        hnp_metrics_add(r->metrics, name, r->metric_labels, 1);
}

/* bytes: the length of the text object was parsed from, 0 when unknown (see watch.h). */
static void emit(struct hnp_reflector *r, enum hnp_watch_event_type type, json_t *object,
                 size_t bytes)
{
    struct hnp_watch_event event = {r->kind, type, object, bytes};
    r->sink(&event, r->ctx);
}

/* Replace the resourceVersion to watch from; false when out of memory (then unchanged). */
static bool set_rv(struct hnp_reflector *r, const char *rv)
{
    char *copy = hnp_strdup(rv);
    if (copy == NULL)
        return false;
    free(r->rv);
    r->rv = copy;
    return true;
}

static void pending_clear(struct hnp_reflector *r)
{
    for (size_t i = 0; i < r->n_pending; i++)
        free(r->pending[i]);
    free(r->pending);
    r->pending = NULL;
    r->n_pending = r->cap_pending = 0;
}

/* Takes text (also on failure). */
static enum hnp_err pending_push(struct hnp_reflector *r, char *text)
{
    if (r->n_pending == r->cap_pending) {
        size_t cap = r->cap_pending ? r->cap_pending * 2 : 256;
        char **p = realloc(r->pending, cap * sizeof(*p));
        if (p == NULL) {
            free(text);
            return HNP_ERR_NOMEM;
        }
        r->pending = p;
        r->cap_pending = cap;
    }
    r->pending[r->n_pending++] = text;
    return HNP_OK;
}

/* ---- objects ------------------------------------------------------------ */

/* Set kind and apiVersion and drop what the engine never reads (see watch.h). */
static void trim_object(const struct hnp_reflector *r, json_t *obj)
{
    json_object_set_new(obj, "kind", json_string(hnp_kind_name(r->kind)));
    if (!json_is_string(json_object_get(obj, "apiVersion")))
        json_object_set_new(obj, "apiVersion", json_string(r->info->api_version));
    hnp_object_trim_json(r->kind, obj);
}

/* "namespace/name" for namespaced kinds, "name" otherwise. New string or NULL. */
static char *object_key(const struct hnp_reflector *r, const json_t *obj)
{
    const char *name = metadata_string(obj, "name");
    if (name == NULL)
        return NULL;
    if (!r->info->namespaced)
        return hnp_strdup(name);
    const char *ns = metadata_string(obj, "namespace");
    return str_printf("%s/%s", ns ? ns : "", name);
}

/* The object a relist's DELETE carries for a vanished entry. New reference or NULL. */
static json_t *minimal_object(const struct hnp_reflector *r, const struct kentry *e)
{
    const char *name = e->key;
    json_t *metadata = json_object();
    if (metadata == NULL)
        return NULL;
    if (r->info->namespaced) {
        const char *slash = strchr(e->key, '/');
        if (slash != NULL) {
            if (slash != e->key)
                json_object_set_new(metadata, "namespace",
                                    json_stringn(e->key, (size_t)(slash - e->key)));
            name = slash + 1;
        }
    }
    json_object_set_new(metadata, "name", json_string(name));
    if (e->uid[0])
        json_object_set_new(metadata, "uid", json_string(e->uid));
    if (e->rv[0])
        json_object_set_new(metadata, "resourceVersion", json_string(e->rv));
    return json_pack("{s:s, s:s, s:o}", "apiVersion", r->info->api_version, "kind",
                     hnp_kind_name(r->kind), "metadata", metadata);
}

/* ---- waiting ------------------------------------------------------------ */

/* Wait ms milliseconds or until stopped; true when stopped. */
static bool wait_ms(struct hnp_reflector *r, long ms)
{
    long long deadline = hnp_monotonic_ms() + ms;
    pthread_mutex_lock(&r->mu);
    while (!r->stop && hnp_cond_wait_until(&r->cv, &r->mu, deadline))
        ;
    bool stopped = r->stop != 0;
    pthread_mutex_unlock(&r->mu);
    return stopped;
}

static uint64_t next_random(struct hnp_reflector *r)
{
    /* xorshift64* */
    r->rng ^= r->rng >> 12;
    r->rng ^= r->rng << 25;
    r->rng ^= r->rng >> 27;
    return r->rng * 0x2545F4914F6CDD1DULL;
}

/* One more failure in a row: wait the full-jitter backoff. True when stopped meanwhile. */
static bool back_off(struct hnp_reflector *r)
{
    r->failures++;
    long cap = r->opt.backoff_initial_ms;
    for (unsigned i = 1; i < r->failures && cap < r->opt.backoff_max_ms; i++)
        cap = cap > r->opt.backoff_max_ms / 2 ? r->opt.backoff_max_ms : cap * 2;
    if (cap > r->opt.backoff_max_ms)
        cap = r->opt.backoff_max_ms;
    long ms = (long)(next_random(r) % ((uint64_t)cap + 1));
    char failures[16], delay[24];
    snprintf(failures, sizeof(failures), "%u", r->failures);
    snprintf(delay, sizeof(delay), "%ld", ms);
    hnp_log(HNP_LOG_DEBUG, "watch: backing off", "resource", r->info->resource, "failures",
            failures, "delay_ms", delay, NULL);
    return wait_ms(r, ms);
}

/* ---- LIST --------------------------------------------------------------- */

/* A 410, or a Status saying the continue token expired. */
static bool is_expired(long status, const json_t *body)
{
    if (status == 410)
        return true;
    const char *reason = string_of(body, "reason");
    return reason != NULL &&
           (strcmp(reason, "Expired") == 0 || strcmp(reason, "ResourceExpired") == 0 ||
            strcmp(reason, "Gone") == 0);
}

static void log_http_status(enum hnp_log_level level, const char *msg,
                            const struct hnp_reflector *r, long status, const json_t *body)
{
    char code[24];
    snprintf(code, sizeof(code), "%ld", status);
    hnp_log(level, msg, "resource", r->info->resource, "status", code, "reason",
            string_of(body, "reason"), "message", string_of(body, "message"), NULL);
}

/* Take one item of a page: skip it when unchanged, else queue it. */
static enum hnp_err list_item(json_t *item, size_t index, void *ctx)
{
    struct hnp_reflector *r = ctx;
    char *key = json_is_object(item) ? object_key(r, item) : NULL;
    if (key == NULL) {
        char where[32];
        snprintf(where, sizeof(where), "items[%zu]", index);
        hnp_log(HNP_LOG_WARN, "watch: skipping a listed object without metadata.name", "resource",
                r->info->resource, "where", where, NULL);
        return HNP_OK;
    }
    const char *uid = metadata_string(item, "uid");
    const char *rv = metadata_string(item, "resourceVersion");
    struct kentry *e = keymap_find(&r->delivered, key);
    free(key);
    if (e != NULL) {
        e->gen = r->list_gen;
        if (rv != NULL && rv[0] && strcmp(e->rv, rv) == 0 && strcmp(e->uid, uid ? uid : "") == 0)
            return HNP_OK; /* unchanged */
    }
    trim_object(r, item);
    char *text = json_dumps(item, JSON_COMPACT);
    if (text == NULL)
        return HNP_ERR_NOMEM;
    return pending_push(r, text);
}

static int compare_entries(const void *a, const void *b)
{
    const struct kentry *const *x = a;
    const struct kentry *const *y = b;
    return strcmp((*x)->key, (*y)->key);
}

/*
 * Hand a complete list to the sink: DELETE what vanished (in key order),
 * UPSERT what is new or changed (in list order), SYNCED.
 */
static enum hnp_err deliver_list(struct hnp_reflector *r, size_t listed)
{
    size_t n_gone = 0;
    struct kentry **gone = NULL;
    if (r->delivered.count > 0) {
        gone = malloc(r->delivered.count * sizeof(*gone));
        if (gone == NULL)
            return HNP_ERR_NOMEM;
        for (size_t i = 0; i < r->delivered.cap; i++) {
            struct kentry *e = r->delivered.slots[i].value;
            if (e != NULL && e->gen != r->list_gen)
                gone[n_gone++] = e;
        }
        qsort(gone, n_gone, sizeof(*gone), compare_entries);
    }
    /* Past this point nothing fails but single objects (logged and skipped). */
    for (size_t i = 0; i < n_gone; i++) {
        json_t *obj = minimal_object(r, gone[i]);
        if (obj != NULL)
            emit(r, HNP_WATCH_DELETE, obj, 0);
        keymap_remove(&r->delivered, gone[i]->key);
    }
    free(gone);

    size_t changed = 0;
    for (size_t i = 0; i < r->n_pending; i++) {
        /* Each text goes as soon as it is a tree: the trees pile up in the sink meanwhile. */
        size_t bytes = strlen(r->pending[i]);
        json_t *obj = json_loads(r->pending[i], 0, NULL);
        free(r->pending[i]);
        r->pending[i] = NULL;
        char *key = obj ? object_key(r, obj) : NULL;
        const char *uid = obj ? metadata_string(obj, "uid") : NULL;
        const char *rv = obj ? metadata_string(obj, "resourceVersion") : NULL;
        if (key == NULL ||
            keymap_put(&r->delivered, key, uid ? uid : "", rv ? rv : "", r->list_gen) != HNP_OK) {
            hnp_log(HNP_LOG_ERROR, "watch: out of memory delivering a listed object", "resource",
                    r->info->resource, NULL);
            free(key);
            json_decref(obj);
            continue;
        }
        free(key);
        emit(r, HNP_WATCH_UPSERT, obj, bytes);
        changed++;
    }
    pending_clear(r);
    emit(r, HNP_WATCH_SYNCED, NULL, 0);

    char n_listed[24], n_changed[24], n_deleted[24];
    snprintf(n_listed, sizeof(n_listed), "%zu", listed);
    snprintf(n_changed, sizeof(n_changed), "%zu", changed);
    snprintf(n_deleted, sizeof(n_deleted), "%zu", n_gone);
    hnp_log(HNP_LOG_INFO, "watch: listed", "resource", r->info->resource, "objects", n_listed,
            "changed", n_changed, "deleted", n_deleted, "resourceVersion", r->rv, NULL);
    return HNP_OK;
}

/*
 * Fetch the page at path and read it into ps. Returns HNP_OK (ps->metadata
 * set), HNP_ERR_GONE for an expired continue token (when continuing),
 * HNP_ERR_STOPPED, or another failure (logged, except HNP_ERR_NOMEM).
 */
static enum hnp_err list_page(struct hnp_reflector *r, const char *path, bool continuing,
                              struct hnp_list_page *ps)
{
    struct hnp_error e = {0};
    char code[24];
    enum hnp_err rc;
    if (r->tr->list_stream != NULL) {
        rc = r->tr->list_stream(r->client, path, hnp_list_page_piece, ps, &r->stop, LIST_IDLE_MS,
                                &e);
        if (rc == HNP_OK)
            return hnp_list_page_finish(ps);
        if (rc == HNP_ERR_STOPPED || rc == HNP_ERR_NOMEM || ps->logged)
            return rc;
        /* The HTTP status, or curl's code for a transport failure, saying which. */
        hnp_error_code_text(&e, code, sizeof(code));
        if (rc == HNP_ERR_GONE && continuing) {
            hnp_log(HNP_LOG_INFO, "watch: continue token expired, listing again", "resource",
                    r->info->resource, "status", code, "detail", e.message, NULL);
            return HNP_ERR_GONE;
        }
        if (rc == HNP_ERR_AUTH) {
            hnp_log(HNP_LOG_WARN, "watch: list not allowed", "resource", r->info->resource,
                    "status", code, "detail", e.message, NULL);
            return rc;
        }
        hnp_log(HNP_LOG_WARN, "watch: list request failed", "resource", r->info->resource, "error",
                hnp_err_name(rc), "code", code, "detail", e.message, NULL);
        return rc == HNP_ERR_GONE ? HNP_ERR_HTTP : rc; /* a 410 without continue: back off */
    }

    long status = 0;
    json_t *body = NULL;
    size_t max_body =
        r->opt.max_list_bytes < SIZE_MAX ? (size_t)r->opt.max_list_bytes : (size_t)SIZE_MAX;
    rc = r->tr->request(r->client, "GET", path, NULL, NULL, max_body, &status, &body, &e);
    if (rc == HNP_ERR_STOPPED) {
        json_decref(body);
        return rc;
    }
    if (rc != HNP_OK) {
        hnp_error_code_text(&e, code, sizeof(code));
        hnp_log(HNP_LOG_WARN, "watch: list request failed", "resource", r->info->resource, "error",
                hnp_err_name(rc), "code", code, "detail", e.message, NULL);
        json_decref(body);
        return rc;
    }
    if (status != 200) {
        if (continuing && is_expired(status, body)) {
            log_http_status(HNP_LOG_INFO, "watch: continue token expired, listing again", r, status,
                            body);
            rc = HNP_ERR_GONE;
        } else if (status == 401 || status == 403) {
            log_http_status(HNP_LOG_WARN, "watch: list not allowed", r, status, body);
            rc = HNP_ERR_AUTH;
        } else {
            log_http_status(HNP_LOG_WARN, "watch: list failed", r, status, body);
            rc = HNP_ERR_HTTP;
        }
        json_decref(body);
        return rc;
    }
    if (body == NULL)
        return hnp_list_page_fail(ps, HNP_ERR_SCHEMA, 0, "watch: list response is not a list",
                                  "the body is not JSON");
    /* The same reader as for streamed pages, so both paths accept the same pages. */
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(body);
    if (text == NULL)
        return HNP_ERR_NOMEM;
    rc = hnp_list_page_feed(ps, text, strlen(text));
    free(text);
    return rc == HNP_OK ? hnp_list_page_finish(ps) : rc;
}

/*
 * One complete paginated LIST, delivered. Returns HNP_OK, HNP_ERR_GONE when
 * a continue token expired (list again at once), HNP_ERR_STOPPED, or another
 * error to back off from (already logged). The watch resourceVersion is set
 * only on success.
 *
 * The first LIST of a reflector asks "resourceVersion=0&limit=<page>", as
 * client-go's reflector does: kube-apiserver answers it from its watch cache,
 * without reading etcd, and ignores the limit (all 20,000 pods in one
 * answer about 2.5 x sooner than 40 consistent pages,
 * docs/dev/performance-agent.md 2 (c)); a server that pages anyway returns a
 * continue token, and the next pages are asked with that token only (it
 * carries the version), as for any list. The cache may be a little behind
 * etcd, which is fine for a reflector that has nothing yet: the WATCH that
 * follows starts from the answer's resourceVersion and delivers every later
 * change. It is not fine for a reflector that has delivered state: a relist
 * (after 410 Gone, an expired continue token, a bad or oversized event) must
 * not step back to an older answer than what it already handed over, so
 * every other LIST is consistent (no resourceVersion: read from etcd) and
 * paged. Only the first attempt asks the cache: when it fails in any way (no
 * answer, an error status, a bad or oversized answer: after the usual
 * backoff; an expired continue token: at once), the next attempt is the
 * consistent one.
 */
static enum hnp_err list_all(struct hnp_reflector *r)
{
    enum hnp_err rc = HNP_OK;
    char *cont = NULL;
    char *list_rv = NULL;
    size_t listed = 0;

    r->list_gen++;
    pending_clear(r);
    for (size_t page = 1;; page++) {
        if (r->stop) {
            rc = HNP_ERR_STOPPED;
            break;
        }
        /* size_t goes through snprintf: mingw-w64 checks str_printf's format as ms_printf. */
        char limit[24];
        snprintf(limit, sizeof(limit), "%zu", r->opt.page_limit);
        char *path;
        if (cont != NULL) {
            char *enc = url_encode(cont);
            path = enc ? str_printf("%s?limit=%s&continue=%s", r->info->path, limit, enc) : NULL;
            free(enc);
        } else if (!r->cache_tried) {
            r->cache_tried = true;
            path = str_printf("%s?resourceVersion=0&limit=%s", r->info->path, limit);
        } else {
            path = str_printf("%s?limit=%s", r->info->path, limit);
        }
        if (path == NULL) {
            rc = HNP_ERR_NOMEM;
            break;
        }
        struct hnp_list_page_options popt = {.resource = r->info->resource,
                                             .max_item_bytes = r->opt.max_item_bytes,
                                             .max_list_bytes = r->opt.max_list_bytes,
                                             .item = list_item,
                                             .ctx = r,
                                             .stop = &r->stop};
        struct hnp_list_page ps;
        hnp_list_page_init(&ps, &popt, page, listed);
        rc = list_page(r, path, cont != NULL, &ps);
        free(path);
        bool more = false;
        if (rc == HNP_OK) {
            listed = ps.index;
            const char *next = string_of(ps.metadata, "continue");
            more = next != NULL && next[0] != '\0';
            free(list_rv);
            list_rv = hnp_strdup(string_of(ps.metadata, "resourceVersion"));
            free(cont);
            cont = more ? hnp_strdup(next) : NULL;
            if (list_rv == NULL || (more && cont == NULL))
                rc = HNP_ERR_NOMEM;
        }
        hnp_list_page_done(&ps);
        if (rc != HNP_OK || !more)
            break;
    }
    free(cont);
    if (rc == HNP_OK && !set_rv(r, list_rv))
        rc = HNP_ERR_NOMEM;
    free(list_rv);
    if (rc == HNP_OK)
        rc = deliver_list(r, listed);
    if (rc != HNP_OK)
        pending_clear(r);
    if (rc == HNP_ERR_NOMEM)
        hnp_log(HNP_LOG_ERROR, "watch: out of memory while listing", "resource", r->info->resource,
                NULL);
    return rc;
}

/* ---- WATCH -------------------------------------------------------------- */

/* A good event: the failure streaks end. */
static void watch_progress(struct hnp_reflector *r)
{
    r->failures = 0;
    r->relists_row = 0;
}

/* An ADDED, MODIFIED or DELETED event; obj borrowed, bytes the event line's length. */
static enum hnp_err watch_object(struct hnp_reflector *r, const char *type, json_t *obj,
                                 size_t bytes)
{
    const char *rv = metadata_string(obj, "resourceVersion");
    char *key = object_key(r, obj);
    if (key == NULL || rv == NULL) {
        free(key);
        hnp_log(HNP_LOG_WARN, "watch: event object without metadata.name or resourceVersion",
                "resource", r->info->resource, "type", type, NULL);
        return HNP_ERR_SCHEMA;
    }
    /*
     * The version advances only once the event is applied (else watching
     * again would skip it); copied first because the sink may change obj.
     */
    char *new_rv = hnp_strdup(rv);
    if (new_rv == NULL) {
        free(key);
        return HNP_ERR_NOMEM;
    }
    const char *uid = metadata_string(obj, "uid");
    enum hnp_err rc = HNP_OK;
    if (strcmp(type, "DELETED") == 0) {
        keymap_remove(&r->delivered, key);
        trim_object(r, obj);
        emit(r, HNP_WATCH_DELETE, json_incref(obj), bytes);
    } else {
        struct kentry *e = keymap_find(&r->delivered, key);
        if (e == NULL || strcmp(e->rv, rv) != 0 || strcmp(e->uid, uid ? uid : "") != 0) {
            rc = keymap_put(&r->delivered, key, uid ? uid : "", rv, r->list_gen);
            if (rc == HNP_OK) {
                trim_object(r, obj);
                emit(r, HNP_WATCH_UPSERT, json_incref(obj), bytes);
            }
        }
    }
    free(key);
    if (rc == HNP_OK) {
        free(r->rv);
        r->rv = new_rv;
    } else {
        free(new_rv);
    }
    return rc;
}

/*
 * hnp_kube_line_fn for the watch stream. Returns HNP_OK to go on; else the
 * stream ends with what this returns: HNP_ERR_STOPPED, HNP_ERR_GONE (410:
 * relist), HNP_ERR_PARSE / HNP_ERR_SCHEMA (bad event: relist), HNP_ERR_HTTP
 * (an ERROR event: back off and watch again), HNP_ERR_NOMEM.
 */
static enum hnp_err on_line(const char *line, size_t len, void *ctx)
{
    struct hnp_reflector *r = ctx;
    if (r->stop)
        return HNP_ERR_STOPPED;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (i == len)
        return HNP_OK; /* a blank line */
    r->stream_lines++;

    json_error_t jerr;
    json_t *event = json_loadb(line, len, 0, &jerr);
    if (event == NULL) {
        char column[24];
        snprintf(column, sizeof(column), "%d", jerr.column);
        hnp_log(HNP_LOG_WARN, "watch: event is not JSON, relisting", "resource", r->info->resource,
                "column", column, "error", jerr.text, NULL);
        r->line_ended = true;
        return HNP_ERR_PARSE;
    }
    const char *type = string_of(event, "type");
    json_t *obj = json_object_get(event, "object");
    enum hnp_err rc = HNP_OK;
    if (type == NULL || !json_is_object(obj)) {
        hnp_log(HNP_LOG_WARN, "watch: event without type or object, relisting", "resource",
                r->info->resource, NULL);
        rc = HNP_ERR_SCHEMA;
    } else if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0 ||
               strcmp(type, "DELETED") == 0) {
        rc = watch_object(r, type, obj, len);
    } else if (strcmp(type, "BOOKMARK") == 0) {
        const char *rv = metadata_string(obj, "resourceVersion");
        if (rv != NULL && !set_rv(r, rv))
            rc = HNP_ERR_NOMEM;
    } else if (strcmp(type, "ERROR") == 0) {
        json_int_t code = json_integer_value(json_object_get(obj, "code"));
        char code_text[24];
        snprintf(code_text, sizeof(code_text), "%lld", (long long)code);
        if (code == 410 || is_expired(0, obj)) {
            hnp_log(HNP_LOG_INFO, "watch: resource version gone, relisting", "resource",
                    r->info->resource, "code", code_text, "reason", string_of(obj, "reason"),
                    "message", string_of(obj, "message"), NULL);
            rc = HNP_ERR_GONE;
        } else {
            hnp_log(HNP_LOG_WARN, "watch: error event", "resource", r->info->resource, "code",
                    code_text, "reason", string_of(obj, "reason"), "message",
                    string_of(obj, "message"), NULL);
            rc = HNP_ERR_HTTP;
        }
    } else {
        hnp_log(HNP_LOG_WARN, "watch: ignoring an event of unknown type", "resource",
                r->info->resource, "type", type, NULL);
    }
    json_decref(event);
    if (rc == HNP_OK)
        watch_progress(r);
    else
        r->line_ended = true;
    return rc;
}

/* One watch from r->rv until the stream ends; returns how it ended. */
static enum hnp_err watch_once(struct hnp_reflector *r)
{
    char *rv = url_encode(r->rv ? r->rv : "");
    char *path = rv ? str_printf("%s?watch=1&allowWatchBookmarks=true&resourceVersion=%s"
                                 "&timeoutSeconds=%ld",
                                 r->info->path, rv, r->opt.watch_timeout_s)
                    : NULL;
    free(rv);
    if (path == NULL)
        return HNP_ERR_NOMEM;
    r->stream_lines = 0;
    r->line_ended = false;
    struct hnp_error e = {0};
    long idle_ms = r->opt.watch_timeout_s * 1000L + IDLE_GRACE_MS;
    enum hnp_err rc =
        r->tr->stream(r->client, path, on_line, r, &r->stop, r->opt.max_event_bytes, idle_ms, &e);
    free(path);
    if (rc != HNP_OK && rc != HNP_ERR_STOPPED && !r->line_ended) {
        char code[24];
        hnp_error_code_text(&e, code, sizeof(code));
        hnp_log(rc == HNP_ERR_GONE ? HNP_LOG_INFO : HNP_LOG_WARN, "watch: stream ended", "resource",
                r->info->resource, "error", hnp_err_name(rc), "code", code, "detail", e.message,
                NULL);
    }
    return rc;
}

/* ---- the thread --------------------------------------------------------- */

static void *reflector_main(void *arg)
{
    struct hnp_reflector *r = arg;
    bool need_list = true;
    unsigned empty_ends = 0;

    while (!r->stop) {
        if (need_list) {
            enum hnp_err rc = list_all(r);
            if (rc == HNP_OK) {
                need_list = false;
                r->failures = 0;
                empty_ends = 0;
            } else if (rc == HNP_ERR_GONE) {
                count_metric(r, METRIC_RELISTS); /* a continue token expired: at once */
            } else if (rc == HNP_ERR_STOPPED || back_off(r)) {
                break;
            }
            continue;
        }

        enum hnp_err rc = watch_once(r);
        switch (rc) {
        case HNP_OK: /* the server ended the watch (timeoutSeconds) */
            if (r->stream_lines > 0) {
                empty_ends = 0;
                watch_progress(r);
            } else if (++empty_ends >= 2 && back_off(r)) {
                goto out;
            }
            break;
        case HNP_ERR_STOPPED:
            goto out;
        case HNP_ERR_GONE:
        case HNP_ERR_PARSE:
        case HNP_ERR_SCHEMA:
        case HNP_ERR_LIMIT:
            count_metric(r, METRIC_RESTARTS);
            count_metric(r, METRIC_RELISTS);
            need_list = true;
            /* Relisting again without a good event in between: something is off; slow down. */
            if (r->relists_row++ > 0 && back_off(r))
                goto out;
            break;
        default: /* HTTP, AUTH, TIMEOUT, NOMEM, ...: watch again from the same version */
            count_metric(r, METRIC_RESTARTS);
            if (back_off(r))
                goto out;
            break;
        }
    }
out:
    return NULL;
}

/* ---- start / stop ------------------------------------------------------- */

static void reflector_free(struct hnp_reflector *r)
{
    if (r->client != NULL)
        r->tr->client_free(r->client);
    keymap_free(&r->delivered);
    pending_clear(r);
    free(r->rv);
    hnp_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

enum hnp_err hnp_reflector_start(const struct hnp_kube_config *cfg, enum hnp_kind kind,
                                 const struct hnp_reflector_options *options, hnp_watch_sink sink,
                                 void *ctx, struct hnp_metrics *metrics, struct hnp_reflector **out,
                                 struct hnp_error *err)
{
    if (cfg == NULL || sink == NULL || out == NULL)
        return hnp_error_set(err, HNP_ERR_INVALID, NULL,
                             "a configuration, a sink and an output are required");
    if ((unsigned)kind >= N_KINDS)
        return hnp_error_set(err, HNP_ERR_INVALID, NULL, "unknown kind %d", (int)kind);

    struct hnp_reflector *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    r->kind = kind;
    r->info = &kinds[kind];
    if (options != NULL)
        r->opt = *options;
    if (r->opt.page_limit == 0)
        r->opt.page_limit = DEFAULT_PAGE_LIMIT;
    if (r->opt.max_event_bytes == 0)
        r->opt.max_event_bytes = DEFAULT_MAX_EVENT_BYTES;
    if (r->opt.backoff_initial_ms <= 0)
        r->opt.backoff_initial_ms = DEFAULT_BACKOFF_INITIAL_MS;
    if (r->opt.backoff_max_ms <= 0)
        r->opt.backoff_max_ms = DEFAULT_BACKOFF_MAX_MS;
    if (r->opt.backoff_max_ms < r->opt.backoff_initial_ms)
        r->opt.backoff_max_ms = r->opt.backoff_initial_ms;
    if (r->opt.watch_timeout_s <= 0)
        r->opt.watch_timeout_s = DEFAULT_WATCH_TIMEOUT_S;
    if (r->opt.max_item_bytes == 0)
        r->opt.max_item_bytes = DEFAULT_MAX_ITEM_BYTES;
    if (r->opt.max_list_bytes == 0)
        r->opt.max_list_bytes = DEFAULT_MAX_LIST_BYTES;
    r->sink = sink;
    r->ctx = ctx;
    r->metrics = metrics;
    r->tr = r->opt.transport != NULL ? r->opt.transport : &default_transport;
    hnp_metrics_label(r->metric_labels, sizeof(r->metric_labels), "resource", r->info->resource);

    if (hnp_cond_init(&r->cv) != HNP_OK) {
        free(r);
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "cannot create a condition variable");
    }
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        hnp_cond_destroy(&r->cv);
        free(r);
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "cannot create a mutex");
    }

    uint64_t now = (uint64_t)hnp_monotonic_ms();
    r->rng = ((uint64_t)(uintptr_t)r * 0x9E3779B97F4A7C15ULL) ^ (now * 0xBF58476D1CE4E5B9ULL) ^
             (uint64_t)kind;
    if (r->rng == 0)
        r->rng = 0x9E3779B97F4A7C15ULL;

    enum hnp_err rc = r->tr->client_new(cfg, &r->client, err);
    if (rc != HNP_OK) {
        r->client = NULL;
        reflector_free(r);
        return rc;
    }
    /* A LIST request in flight ends when the reflector is stopped. */
    if (r->tr->client_set_stop != NULL)
        r->tr->client_set_stop(r->client, &r->stop);

    if (metrics != NULL) {
        /* Another reflector may have declared them already: that result is fine. */
        (void)hnp_metrics_declare(metrics, METRIC_RESTARTS, HNP_METRIC_COUNTER,
                                  "Watches of the API server that ended abnormally, by resource.",
                                  NULL, 0);
        (void)hnp_metrics_declare(
            metrics, METRIC_RELISTS, HNP_METRIC_COUNTER,
            "Full lists made again because a watch could not resume, by resource.", NULL, 0);
        hnp_metrics_add(metrics, METRIC_RESTARTS, r->metric_labels, 0);
        hnp_metrics_add(metrics, METRIC_RELISTS, r->metric_labels, 0);
    }

    if (pthread_create(&r->thread, NULL, reflector_main, r) != 0) {
        reflector_free(r);
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "cannot create the %s reflector thread",
                             kinds[kind].resource);
    }
    *out = r;
    return HNP_OK;
}

void hnp_reflector_stop(struct hnp_reflector *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    hnp_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    reflector_free(r);
}
