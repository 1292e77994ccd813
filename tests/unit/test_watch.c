/*
 * test_watch.c - the reflector (watch.c) against a scripted API server.
 *
 * The transport member of the reflector options swaps its HTTP layer for
 * a fake that plays a script. Every LIST request and every WATCH the
 * reflector makes must match the next step of the script, which answers
 * with an HTTP status and body, a transport error, or a watch stream: lines
 * fed through hnp_line_buffer (linebuf.h) in oddly sized chunks, then an end
 * code. The first call past the end of the script is recorded (so a scenario
 * can say which resourceVersion the reflector watches from at the end) and
 * blocks until the test stops the reflector.
 *
 * Scenarios are data: tests/data/watch/<name>.json, each with
 *   "kind"     "pods" | "namespaces" | "networkpolicies"
 *   "options"  struct hnp_reflector_options members (optional)
 *   "steps"    [{"expect": "GET <path>" | "WATCH <path>", and either
 *                "error": "HNP_ERR_..."                    (transport error), or
 *                "status": N, "body": {...}                (a LIST answer), or
 *                "text": "..."  (a LIST page's raw bytes; streamed LIST only), or
 *                "lines": [event object or raw string, ...],
 *                "chunks": [sizes, cycled] (default [13, 1, 64]),
 *                "result": "HNP_ERR_..." (how the stream ends; default HNP_OK)}]
 *   "final"    the call expected right after the script
 *   "events"   what the sink must receive: "SYNCED" or
 *              "<UPSERT|DELETE> <kind> <namespace/>name <resourceVersion>"
 *   "objects"  [{"event": i, "object": {...}}]: exact objects of some events (optional)
 *   "metrics"  {"restarts": N, "relists": N}
 *   "log"      substrings the log must contain (optional)
 * The sink also checks what every event must satisfy (kind set, no
 * managedFields, the size of its text for an UPSERT, none for SYNCED) and
 * marks a violation in the event string.
 *
 * Every scenario runs twice: with LIST pages answered by request (a JSON
 * tree, which the reflector serialises for its page reader) and with pages
 * streamed as hnp_kube_stream_raw() streams them (the default transport):
 * pretty-printed over many lines, fed as raw pieces of odd sizes, non-200
 * statuses as its error codes. The log is only checked in the first run (a streamed
 * error carries the status and message, not the Status reason). Tests in
 * code feed raw page bytes (bad JSON, truncation, large items) that only
 * the streamed form can carry.
 *
 * In the scenario files the first LIST asks the watch cache, "GET
 * <path>?resourceVersion=0&limit=N" (watch.h), and every later one (after
 * a failed first attempt, a 410, an expired continue, a bad event) is the
 * consistent "GET <path>?limit=N".
 *
 * Timing is never asserted except that stopping returns within a generous
 * bound; backoffs are a few milliseconds in the scenarios.
 */
#define _POSIX_C_SOURCE 200809L

#include "testutil.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "log.h"
#include "metrics.h"
#include "watch.h"

#define WAIT_LIMIT_S 60 /* for the script to play out; generous for valgrind */

struct fake {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    json_t *steps; /* borrowed from the scenario */
    size_t next;
    size_t calls;
    bool done;     /* a call past the script (or a mismatch) happened */
    bool shutdown; /* the test is stopping: calls past the script return */
    char final[2048];
    char mismatch[2048];
    json_t *events;  /* strings */
    json_t *objects; /* the object of each event, null for SYNCED */
    enum hnp_kind kind;
    int live_clients;
    enum hnp_err client_new_result;
    size_t last_max_line;
    long last_idle_ms;
    bool saw_stop_flag;
    const volatile int *client_stop; /* from client_set_stop */
};

static struct fake fk;
static char client_token; /* what the fake clients point at */

static void fake_reset(json_t *steps, enum hnp_kind kind)
{
    pthread_mutex_lock(&fk.mu);
    fk.steps = steps;
    fk.next = 0;
    fk.calls = 0;
    fk.done = false;
    fk.shutdown = false;
    fk.final[0] = '\0';
    fk.mismatch[0] = '\0';
    json_decref(fk.events);
    json_decref(fk.objects);
    fk.events = json_array();
    fk.objects = json_array();
    fk.kind = kind;
    fk.live_clients = 0;
    fk.client_new_result = HNP_OK;
    fk.last_max_line = 0;
    fk.last_idle_ms = 0;
    fk.saw_stop_flag = false;
    fk.client_stop = NULL;
    pthread_mutex_unlock(&fk.mu);
}

static void fake_release(void)
{
    pthread_mutex_lock(&fk.mu);
    json_decref(fk.events);
    json_decref(fk.objects);
    fk.events = fk.objects = NULL;
    fk.steps = NULL;
    pthread_mutex_unlock(&fk.mu);
}

static enum hnp_err err_from_name(const char *name)
{
    for (int code = 0; code < HNP_ERR_COUNT_; code++)
        if (strcmp(hnp_err_name((enum hnp_err)code), name) == 0)
            return (enum hnp_err)code;
    return HNP_ERR_COUNT_;
}

/*
 * The step answering call, or NULL past the script (or on a mismatch,
 * which ends the script too). Runs on the reflector's thread: no cmocka
 * assertions here, the test thread checks what is recorded.
 */
static json_t *take_step(const char *call)
{
    json_t *step = NULL;
    pthread_mutex_lock(&fk.mu);
    fk.calls++;
    if (!fk.done && fk.next < json_array_size(fk.steps)) {
        step = json_array_get(fk.steps, fk.next);
        const char *expect = json_string_value(json_object_get(step, "expect"));
        if (expect == NULL || strcmp(expect, call) != 0) {
            snprintf(fk.mismatch, sizeof(fk.mismatch), "step %zu: expected \"%s\", got \"%s\"",
                     fk.next, expect ? expect : "(none)", call);
            step = NULL;
            fk.done = true;
            pthread_cond_broadcast(&fk.cv);
        } else {
            fk.next++;
        }
    } else if (!fk.done) {
        snprintf(fk.final, sizeof(fk.final), "%s", call);
        fk.done = true;
        pthread_cond_broadcast(&fk.cv);
    }
    pthread_mutex_unlock(&fk.mu);
    return step;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static enum hnp_err fake_client_new(const struct hnp_kube_config *cfg, struct hnp_kube_client **out,
                                    struct hnp_error *err)
{
    (void)cfg;
    pthread_mutex_lock(&fk.mu);
    enum hnp_err rc = fk.client_new_result;
    if (rc == HNP_OK)
        fk.live_clients++;
    pthread_mutex_unlock(&fk.mu);
    if (rc != HNP_OK)
        return hnp_error_set(err, rc, "kubeconfig", "fake client refused");
    *out = (struct hnp_kube_client *)(void *)&client_token;
    return HNP_OK;
}

static void fake_client_free(struct hnp_kube_client *client)
{
    if (client == NULL)
        return;
    pthread_mutex_lock(&fk.mu);
    if ((void *)client == (void *)&client_token)
        fk.live_clients--;
    pthread_mutex_unlock(&fk.mu);
}

static void fake_client_set_stop(struct hnp_kube_client *client, const volatile int *stop)
{
    (void)client;
    pthread_mutex_lock(&fk.mu);
    fk.client_stop = stop;
    pthread_mutex_unlock(&fk.mu);
}

/* Past the script a request hangs, like one to a server that does not answer. */
static enum hnp_err hang(struct hnp_error *err)
{
    for (;;) {
        pthread_mutex_lock(&fk.mu);
        bool shutdown = fk.shutdown;
        bool stopped = fk.client_stop != NULL && *fk.client_stop;
        pthread_mutex_unlock(&fk.mu);
        if (stopped)
            return hnp_error_set(err, HNP_ERR_STOPPED, NULL, "stopped");
        if (shutdown)
            return hnp_error_set(err, HNP_ERR_HTTP, NULL, "the script is over");
        pause_ms(2);
    }
}

static enum hnp_err fake_request(struct hnp_kube_client *client, const char *method,
                                 const char *path, const json_t *body, const char *content_type,
                                 size_t max_body, long *status, json_t **response,
                                 struct hnp_error *err)
{
    (void)client, (void)body, (void)content_type, (void)max_body;
    char call[2048];
    snprintf(call, sizeof(call), "%s %s", method, path);
    json_t *step = take_step(call);
    if (step == NULL)
        return hang(err);
    const char *error = json_string_value(json_object_get(step, "error"));
    if (error != NULL) {
        enum hnp_err rc = hnp_error_set(err, err_from_name(error), NULL, "scripted failure");
        if (err != NULL)
            hnp_error_set_code(err, HNP_CODE_CURL, 7); /* CURLE_COULDNT_CONNECT */
        return rc;
    }
    *status = (long)json_integer_value(json_object_get(step, "status"));
    if (response != NULL) {
        json_t *answer = json_object_get(step, "body");
        *response = answer ? json_deep_copy(answer) : NULL;
    }
    return HNP_OK;
}

static enum hnp_err feed_chunks(const json_t *step, const char *text, size_t len,
                                hnp_kube_line_fn fn, void *ctx, const volatile int *stop,
                                size_t max_line);

static enum hnp_err fake_stream(struct hnp_kube_client *client, const char *path,
                                hnp_kube_line_fn fn, void *ctx, const volatile int *stop,
                                size_t max_line, long idle_timeout_ms, struct hnp_error *err)
{
    (void)client;
    char call[2048];
    snprintf(call, sizeof(call), "WATCH %s", path);
    pthread_mutex_lock(&fk.mu);
    fk.last_max_line = max_line;
    fk.last_idle_ms = idle_timeout_ms;
    fk.saw_stop_flag = stop != NULL;
    pthread_mutex_unlock(&fk.mu);
    json_t *step = take_step(call);
    if (step == NULL) {
        /* Like hnp_kube_stream() on a silent stream: look at the stop flag now and then. */
        while (stop != NULL && !*stop)
            pause_ms(2);
        return HNP_ERR_STOPPED;
    }

    /* The stream's bytes: every line then "\n". */
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    if (text == NULL)
        return HNP_ERR_NOMEM;
    size_t i;
    json_t *line;
    json_array_foreach(json_object_get(step, "lines"), i, line)
    {
        char *dumped = json_is_string(line) ? NULL : json_dumps(line, JSON_COMPACT);
        const char *s = dumped ? dumped : json_string_value(line);
        size_t n = s ? strlen(s) : 0;
        while (len + n + 1 > cap) {
            cap *= 2;
            char *bigger = realloc(text, cap);
            if (bigger == NULL) {
                free(text);
                free(dumped);
                return HNP_ERR_NOMEM;
            }
            text = bigger;
        }
        if (n > 0)
            memcpy(text + len, s, n);
        len += n;
        text[len++] = '\n';
        free(dumped);
    }

    enum hnp_err rc = feed_chunks(step, text, len, fn, ctx, stop, max_line);
    free(text);
    if (rc != HNP_OK)
        return rc == HNP_ERR_LIMIT ? hnp_error_set(err, rc, NULL, "event too large") : rc;
    const char *result = json_string_value(json_object_get(step, "result"));
    if (result == NULL)
        return HNP_OK;
    return hnp_error_set(err, err_from_name(result), NULL, "scripted end");
}

static enum hnp_err feed_pieces(const json_t *step, const char *text, size_t len,
                                hnp_kube_piece_fn fn, void *ctx, const volatile int *stop);

/*
 * A streamed LIST page, as hnp_kube_stream_raw() answers: a non-200 status
 * is its error code (the Status message in err), else the body goes to fn
 * in raw pieces. The body is "text" as is, or "body" pretty-printed (so
 * items span lines).
 */
static enum hnp_err fake_list_stream(struct hnp_kube_client *client, const char *path,
                                     hnp_kube_piece_fn fn, void *ctx, const volatile int *stop,
                                     long idle_timeout_ms, struct hnp_error *err)
{
    (void)client, (void)idle_timeout_ms;
    char call[2048];
    snprintf(call, sizeof(call), "GET %s", path);
    json_t *step = take_step(call);
    if (step == NULL) {
        while (stop != NULL && !*stop)
            pause_ms(2);
        return hnp_error_set(err, HNP_ERR_STOPPED, path, "stopped");
    }
    const char *error = json_string_value(json_object_get(step, "error"));
    if (error != NULL) {
        enum hnp_err rc = hnp_error_set(err, err_from_name(error), NULL, "scripted failure");
        if (err != NULL)
            hnp_error_set_code(err, HNP_CODE_CURL, 7); /* CURLE_COULDNT_CONNECT */
        return rc;
    }
    json_t *jstatus = json_object_get(step, "status");
    long status = jstatus ? (long)json_integer_value(jstatus) : 200;
    json_t *body = json_object_get(step, "body");
    if (status < 200 || status > 299) {
        enum hnp_err rc = status == 410                    ? HNP_ERR_GONE
                          : status == 401 || status == 403 ? HNP_ERR_AUTH
                                                           : HNP_ERR_HTTP;
        const char *message = json_string_value(json_object_get(body, "message"));
        hnp_error_set(err, rc, path, "GET %s: HTTP %ld%s%s", path, status, message ? ": " : "",
                      message ? message : "");
        if (err != NULL)
            hnp_error_set_code(err, HNP_CODE_HTTP_STATUS, status);
        return rc;
    }
    const char *raw = json_string_value(json_object_get(step, "text"));
    char *text = raw    ? strdup(raw)
                 : body ? json_dumps(body, JSON_INDENT(2) | JSON_ENCODE_ANY)
                        : strdup(""); /* an empty body */
    if (text == NULL)
        return HNP_ERR_NOMEM;
    enum hnp_err rc = feed_pieces(step, text, strlen(text), fn, ctx, stop);
    free(text);
    if (rc != HNP_OK)
        return hnp_error_set(err, rc, path, "GET %s: the body handler returned %s", path,
                             hnp_err_name(rc));
    return HNP_OK;
}

/* The size of the k-th piece of a step's bytes, off of len fed so far. */
static size_t chunk_size(const json_t *step, size_t k, size_t off, size_t len)
{
    static const size_t default_chunks[] = {13, 1, 64};
    json_t *chunks = json_object_get(step, "chunks");
    size_t n_chunks = json_array_size(chunks);
    size_t size = n_chunks ? (size_t)json_integer_value(json_array_get(chunks, k % n_chunks))
                           : default_chunks[k % 3];
    return size == 0 || size > len - off ? len - off : size;
}

/*
 * Feed text to fn as raw pieces of the step's chunk sizes (a streamed LIST).
 * As curl does, each piece is in a buffer that is reused once fn returns.
 */
static enum hnp_err feed_pieces(const json_t *step, const char *text, size_t len,
                                hnp_kube_piece_fn fn, void *ctx, const volatile int *stop)
{
    enum hnp_err rc = HNP_OK;
    char *piece = malloc(len + 1);
    assert_non_null(piece);
    for (size_t off = 0, k = 0; off < len && rc == HNP_OK; k++) {
        if (stop != NULL && *stop) {
            rc = HNP_ERR_STOPPED;
            break;
        }
        size_t size = chunk_size(step, k, off, len);
        memcpy(piece, text + off, size);
        rc = fn(piece, size, ctx);
        memset(piece, '#', size);
        off += size;
    }
    free(piece);
    return rc;
}

/* Feed text to fn through hnp_line_buffer in the step's chunk sizes (a watch). */
static enum hnp_err feed_chunks(const json_t *step, const char *text, size_t len,
                                hnp_kube_line_fn fn, void *ctx, const volatile int *stop,
                                size_t max_line)
{
    struct hnp_line_buffer lb;
    hnp_line_buffer_init(&lb, max_line);
    enum hnp_err rc = HNP_OK;
    for (size_t off = 0, k = 0; off < len && rc == HNP_OK; k++) {
        if (stop != NULL && *stop) {
            rc = HNP_ERR_STOPPED;
            break;
        }
        size_t size = chunk_size(step, k, off, len);
        rc = hnp_line_buffer_feed(&lb, text + off, size, fn, ctx);
        off += size;
    }
    if (rc == HNP_OK)
        rc = hnp_line_buffer_finish(&lb, fn, ctx);
    hnp_line_buffer_free(&lb);
    return rc;
}

static const struct hnp_watch_transport fake_transport = {
    .client_new = fake_client_new,
    .client_free = fake_client_free,
    .client_set_stop = fake_client_set_stop,
    .request = fake_request,
    .stream = fake_stream,
};

/* LIST pages streamed, as by the default transport. */
static const struct hnp_watch_transport fake_transport_streamed = {
    .client_new = fake_client_new,
    .client_free = fake_client_free,
    .client_set_stop = fake_client_set_stop,
    .request = fake_request,
    .stream = fake_stream,
    .list_stream = fake_list_stream,
};

/* The same without client_set_stop, which is optional. */
static const struct hnp_watch_transport fake_transport_no_stop = {
    .client_new = fake_client_new,
    .client_free = fake_client_free,
    .request = fake_request,
    .stream = fake_stream,
};

/* ---- the sink ----------------------------------------------------------- */

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
    return "?";
}

static void record_sink(struct hnp_watch_event *event, void *ctx)
{
    struct fake *f = ctx;
    char text[1024];
    json_t *obj = event->object;
    if (event->type == HNP_WATCH_SYNCED) {
        snprintf(text, sizeof(text), "SYNCED%s%s", obj != NULL ? " BAD(object)" : "",
                 event->bytes != 0 ? " BAD(bytes)" : "");
    } else {
        const char *type = event->type == HNP_WATCH_UPSERT   ? "UPSERT"
                           : event->type == HNP_WATCH_DELETE ? "DELETE"
                                                             : "?";
        json_t *md = json_object_get(obj, "metadata");
        const char *kind = json_string_value(json_object_get(obj, "kind"));
        const char *ns = json_string_value(json_object_get(md, "namespace"));
        const char *name = json_string_value(json_object_get(md, "name"));
        const char *rv = json_string_value(json_object_get(md, "resourceVersion"));
        /* An UPSERT always comes from text: a listed item or a watch line. */
        bool bad = event->kind != f->kind || kind == NULL ||
                   strcmp(kind, kind_name(f->kind)) != 0 ||
                   json_object_get(md, "managedFields") != NULL ||
                   (event->type == HNP_WATCH_UPSERT && event->bytes == 0);
        snprintf(text, sizeof(text), "%s %s %s%s%s %s%s", type, kind ? kind : "(no kind)",
                 ns ? ns : "", ns ? "/" : "", name ? name : "(no name)", rv ? rv : "-",
                 bad ? " BAD" : "");
    }
    pthread_mutex_lock(&f->mu);
    json_array_append_new(f->events, json_string(text));
    json_array_append_new(f->objects, obj ? obj : json_null());
    pthread_mutex_unlock(&f->mu);
}

/* ---- helpers for the tests ---------------------------------------------- */

/* Wait (bounded) until the script has played out; false on timeout. */
static bool wait_done(void)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += WAIT_LIMIT_S;
    pthread_mutex_lock(&fk.mu);
    while (!fk.done)
        if (pthread_cond_timedwait(&fk.cv, &fk.mu, &deadline) != 0)
            break;
    bool done = fk.done;
    pthread_mutex_unlock(&fk.mu);
    return done;
}

static void shut_down(void)
{
    pthread_mutex_lock(&fk.mu);
    fk.shutdown = true;
    pthread_cond_broadcast(&fk.cv);
    pthread_mutex_unlock(&fk.mu);
}

static double elapsed_s(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

static enum hnp_kind kind_from_resource(const char *resource)
{
    if (strcmp(resource, "namespaces") == 0)
        return HNP_KIND_NAMESPACE;
    if (strcmp(resource, "networkpolicies") == 0)
        return HNP_KIND_POLICY;
    assert_string_equal(resource, "pods");
    return HNP_KIND_POD;
}

static double metric(struct hnp_metrics *m, const char *name, enum hnp_kind kind)
{
    char labels[64];
    hnp_metrics_label(labels, sizeof(labels), "resource", hnp_kind_resource(kind));
    return hnp_metrics_get(m, name, labels);
}

static void print_strings(const char *title, const json_t *array)
{
    size_t i;
    json_t *s;
    print_message("%s:\n", title);
    json_array_foreach(array, i, s)
        print_message("  %lu: %s\n", (unsigned long)i, json_string_value(s));
}

static char *read_stream(FILE *f)
{
    fflush(f);
    long size = ftell(f);
    assert_true(size >= 0);
    char *text = malloc((size_t)size + 1);
    assert_non_null(text);
    rewind(f);
    size_t n = fread(text, 1, (size_t)size, f);
    text[n] = '\0';
    return text;
}

/* Append s to the growing string *buf (length *len). */
static void append(char **buf, size_t *len, const char *s)
{
    size_t n = strlen(s);
    char *bigger = realloc(*buf, *len + n + 1);
    assert_non_null(bigger);
    memcpy(bigger + *len, s, n + 1);
    *buf = bigger;
    *len += n;
}

/* ---- data-driven scenarios ---------------------------------------------- */

/*
 * Play scenario sc (named file in messages) with transport t and check what
 * it says; its "log" only when check_log.
 */
static void play(json_t *sc, const char *file, const struct hnp_watch_transport *t, bool check_log)
{
    enum hnp_kind kind = kind_from_resource(json_string_value(json_object_get(sc, "kind")));
    json_t *jopt = json_object_get(sc, "options");
    struct hnp_reflector_options opt = {
        .page_limit = (size_t)json_integer_value(json_object_get(jopt, "page_limit")),
        .max_event_bytes = (size_t)json_integer_value(json_object_get(jopt, "max_event_bytes")),
        .backoff_initial_ms = (long)json_integer_value(json_object_get(jopt, "backoff_initial_ms")),
        .backoff_max_ms = (long)json_integer_value(json_object_get(jopt, "backoff_max_ms")),
        .watch_timeout_s = (long)json_integer_value(json_object_get(jopt, "watch_timeout_s")),
        .max_item_bytes = (size_t)json_integer_value(json_object_get(jopt, "max_item_bytes")),
        .max_list_bytes = (uint64_t)json_integer_value(json_object_get(jopt, "max_list_bytes")),
    };
    if (opt.backoff_initial_ms == 0)
        opt.backoff_initial_ms = 1;
    if (opt.backoff_max_ms == 0)
        opt.backoff_max_ms = 4;

    FILE *log = tmpfile();
    assert_non_null(log);
    hnp_log_setup(HNP_LOG_DEBUG, HNP_LOG_TEXT, log);

    fake_reset(json_object_get(sc, "steps"), kind);
    opt.transport = t;
    struct hnp_metrics *m = hnp_metrics_new();
    assert_non_null(m);
    struct hnp_kube_config cfg = {0};
    struct hnp_reflector *r = NULL;
    struct hnp_error err = {0};
    assert_int_equal(hnp_reflector_start(&cfg, kind, &opt, record_sink, &fk, m, &r, &err), HNP_OK);
    bool done = wait_done();
    shut_down();
    hnp_reflector_stop(r);
    hnp_log_setup(HNP_LOG_ERROR, HNP_LOG_TEXT, NULL);

    assert_true(done);
    if (fk.mismatch[0])
        fail_msg("%s: %s", file, fk.mismatch);
    assert_int_equal(fk.next, json_array_size(fk.steps));
    assert_string_equal(fk.final, json_string_value(json_object_get(sc, "final")));
    assert_int_equal(fk.live_clients, 0);

    json_t *want = json_object_get(sc, "events");
    if (!json_equal(want, fk.events)) {
        print_strings("expected events", want);
        print_strings("received events", fk.events);
        fail_msg("%s: events differ", file);
    }

    size_t i;
    json_t *check;
    json_array_foreach(json_object_get(sc, "objects"), i, check)
    {
        size_t index = (size_t)json_integer_value(json_object_get(check, "event"));
        json_t *got = json_array_get(fk.objects, index);
        json_t *expected = json_object_get(check, "object");
        if (!json_equal(got, expected)) {
            char *g = json_dumps(got, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_ENCODE_ANY);
            char *e = json_dumps(expected, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_ENCODE_ANY);
            print_message("expected object:\n%s\nreceived object:\n%s\n", e, g);
            free(g);
            free(e);
            fail_msg("%s: object of event %lu differs", file, (unsigned long)index);
        }
    }

    json_t *jm = json_object_get(sc, "metrics");
    assert_int_equal((long)metric(m, "hnsnetpol_watch_restarts_total", kind),
                     (long)json_integer_value(json_object_get(jm, "restarts")));
    assert_int_equal((long)metric(m, "hnsnetpol_relists_total", kind),
                     (long)json_integer_value(json_object_get(jm, "relists")));

    char *logged = read_stream(log);
    json_t *needle;
    json_array_foreach(check_log ? json_object_get(sc, "log") : NULL, i, needle)
    {
        if (strstr(logged, json_string_value(needle)) == NULL) {
            fprintf(stderr, "log:\n%s\n", logged); /* print_message() truncates */
            fail_msg("%s: the log lacks \"%s\"", file, json_string_value(needle));
        }
    }
    free(logged);
    fclose(log);

    hnp_metrics_free(m);
    fake_release();
}

static void run_scenario(void **state)
{
    const char *file = *state;
    char path[512];
    snprintf(path, sizeof(path), "watch/%s", file);
    char *text = hnp_test_read_file(path, NULL);
    json_t *sc = hnp_test_json(text);
    free(text);
    play(sc, file, &fake_transport, true);
    play(sc, file, &fake_transport_streamed, false);
    json_decref(sc);
}

/* ---- tests in code ------------------------------------------------------ */

static void test_kind_resource(void **state)
{
    (void)state;
    assert_string_equal(hnp_kind_resource(HNP_KIND_POD), "pods");
    assert_string_equal(hnp_kind_resource(HNP_KIND_NAMESPACE), "namespaces");
    assert_string_equal(hnp_kind_resource(HNP_KIND_POLICY), "networkpolicies");
    assert_string_equal(hnp_kind_resource((enum hnp_kind)42), "unknown");
}

static void test_start_bad_arguments(void **state)
{
    (void)state;
    struct hnp_kube_config cfg = {0};
    struct hnp_reflector *r = NULL;
    struct hnp_error err = {0};
    assert_int_equal(hnp_reflector_start(&cfg, HNP_KIND_POD, NULL, NULL, NULL, NULL, &r, &err),
                     HNP_ERR_INVALID);
    assert_int_equal(
        hnp_reflector_start(NULL, HNP_KIND_POD, NULL, record_sink, &fk, NULL, &r, &err),
        HNP_ERR_INVALID);
    assert_int_equal(
        hnp_reflector_start(&cfg, (enum hnp_kind)9, NULL, record_sink, &fk, NULL, &r, &err),
        HNP_ERR_INVALID);
    assert_null(r);
    hnp_reflector_stop(NULL);
}

static void test_start_client_error(void **state)
{
    (void)state;
    fake_reset(NULL, HNP_KIND_POD);
    fk.client_new_result = HNP_ERR_INVALID;
    struct hnp_reflector_options opt = {.transport = &fake_transport};
    struct hnp_kube_config cfg = {0};
    struct hnp_reflector *r = NULL;
    struct hnp_error err = {0};
    assert_int_equal(
        hnp_reflector_start(&cfg, HNP_KIND_POD, &opt, record_sink, &fk, NULL, &r, &err),
        HNP_ERR_INVALID);
    assert_null(r);
    assert_string_equal(err.message, "fake client refused");
    assert_int_equal(fk.calls, 0);
    assert_int_equal(fk.live_clients, 0);
    fake_release();
}

/* Stop while the reflector waits out a (ten-minute) backoff after a failed LIST. */
static void test_stop_during_backoff(void **state)
{
    (void)state;
    json_t *steps = hnp_test_json("[{\"expect\": \"GET /api/v1/pods?resourceVersion=0&limit=500\","
                                  "  \"error\": \"HNP_ERR_HTTP\"}]");
    fake_reset(steps, HNP_KIND_POD);
    hnp_log_setup(HNP_LOG_ERROR, HNP_LOG_TEXT, NULL);
    struct hnp_reflector_options opt = {
        .backoff_initial_ms = 600000, .backoff_max_ms = 600000, .transport = &fake_transport};
    struct hnp_kube_config cfg = {0};
    struct hnp_reflector *r = NULL;
    assert_int_equal(
        hnp_reflector_start(&cfg, HNP_KIND_POD, &opt, record_sink, &fk, NULL, &r, NULL), HNP_OK);

    /* Wait (bounded) for the failed request; the reflector then backs off. */
    bool called = false;
    for (int i = 0; i < WAIT_LIMIT_S * 100 && !called; i++) {
        pthread_mutex_lock(&fk.mu);
        called = fk.calls >= 1;
        pthread_mutex_unlock(&fk.mu);
        if (!called)
            pause_ms(10);
    }
    assert_true(called);
    pause_ms(50); /* most likely inside the wait by now; either way stop must be prompt */

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    shut_down();
    hnp_reflector_stop(r);
    double took = elapsed_s(&t0);

    assert_true(took < 10.0);
    assert_int_equal(fk.next, 1);
    assert_int_equal(json_array_size(fk.events), 0);
    assert_int_equal(fk.live_clients, 0);
    fake_release();
    json_decref(steps);
}

/*
 * Stop while a LIST request hangs: with the whole-page transport the
 * client's stop flag ends it, with the streamed one the stop flag passed to
 * list_stream. Only the stop flag ends the request here (no shut_down()).
 */
static void stop_during_list(const struct hnp_watch_transport *transport, enum hnp_kind kind,
                             const char *list_path)
{
    fake_reset(NULL, kind);
    hnp_log_setup(HNP_LOG_ERROR, HNP_LOG_TEXT, NULL);
    struct hnp_reflector_options opt = {.transport = transport};
    struct hnp_kube_config cfg = {0};
    struct hnp_reflector *r = NULL;
    assert_int_equal(hnp_reflector_start(&cfg, kind, &opt, record_sink, &fk, NULL, &r, NULL),
                     HNP_OK);
    assert_true(wait_done());
    assert_string_equal(fk.final, list_path);
    if (transport == &fake_transport)
        assert_non_null(fk.client_stop);

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    hnp_reflector_stop(r);
    double took = elapsed_s(&t0);

    assert_true(took < 10.0);
    assert_int_equal(fk.calls, 1);
    assert_int_equal(json_array_size(fk.events), 0);
    assert_int_equal(fk.live_clients, 0);
    fake_release();
}

static void test_stop_during_list(void **state)
{
    (void)state;
    stop_during_list(&fake_transport, HNP_KIND_POLICY,
                     "GET /apis/networking.k8s.io/v1/networkpolicies?resourceVersion=0&limit=500");
}

/* Stop while a watch stream is open and silent (with a transport without client_set_stop). */
static void test_stop_during_watch(void **state)
{
    (void)state;
    json_t *steps =
        hnp_test_json("[{\"expect\": \"GET /api/v1/namespaces?resourceVersion=0&limit=500\","
                      "  \"status\": 200,"
                      "  \"body\": {\"metadata\": {\"resourceVersion\": \"7\"}, \"items\": ["
                      "    {\"metadata\": {\"name\": \"default\", \"uid\": \"u1\", "
                      "\"resourceVersion\": \"3\"}}]}}]");
    fake_reset(steps, HNP_KIND_NAMESPACE);
    hnp_log_setup(HNP_LOG_ERROR, HNP_LOG_TEXT, NULL);
    struct hnp_reflector_options opt = {
        .max_event_bytes = 1000, .watch_timeout_s = 45, .transport = &fake_transport_no_stop};
    struct hnp_kube_config cfg = {0};
    struct hnp_reflector *r = NULL;
    assert_int_equal(
        hnp_reflector_start(&cfg, HNP_KIND_NAMESPACE, &opt, record_sink, &fk, NULL, &r, NULL),
        HNP_OK);
    assert_true(wait_done());

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    hnp_reflector_stop(r); /* no shut_down(): only the stop flag ends the stream */
    double took = elapsed_s(&t0);

    assert_true(took < 10.0);
    assert_string_equal(fk.final, "WATCH /api/v1/namespaces?watch=1&allowWatchBookmarks=true"
                                  "&resourceVersion=7&timeoutSeconds=45");
    assert_true(fk.saw_stop_flag);
    assert_int_equal(fk.last_max_line, 1000);
    assert_true(fk.last_idle_ms > 45000);
    json_t *want = hnp_test_json("[\"UPSERT Namespace default 3\", \"SYNCED\"]");
    assert_true(json_equal(want, fk.events));
    json_decref(want);
    assert_int_equal(fk.live_clients, 0);
    fake_release();
    json_decref(steps);
}

/* Two reflectors share one registry: the second declaration is not an error. */
static void test_metrics_shared(void **state)
{
    (void)state;
    struct hnp_metrics *m = hnp_metrics_new();
    assert_non_null(m);
    hnp_log_setup(HNP_LOG_ERROR, HNP_LOG_TEXT, NULL);
    enum hnp_kind kinds[] = {HNP_KIND_POD, HNP_KIND_POLICY};
    const char *scripts[] = {
        "[{\"expect\": \"GET /api/v1/pods?resourceVersion=0&limit=500\", \"status\": 200,"
        "  \"body\": {\"metadata\": {\"resourceVersion\": \"7\"}, \"items\": []}},"
        " {\"expect\": \"WATCH /api/v1/pods?watch=1&allowWatchBookmarks=true"
        "&resourceVersion=7&timeoutSeconds=300\", \"result\": \"HNP_ERR_GONE\"},"
        " {\"expect\": \"GET /api/v1/pods?limit=500\", \"status\": 200,"
        "  \"body\": {\"metadata\": {\"resourceVersion\": \"9\"}, \"items\": []}}]",
        "[{\"expect\": \"GET /apis/networking.k8s.io/v1/networkpolicies?resourceVersion=0"
        "&limit=500\","
        "  \"status\": 200, \"body\": {\"metadata\": {\"resourceVersion\": \"7\"}, \"items\": []}},"
        " {\"expect\": \"WATCH /apis/networking.k8s.io/v1/networkpolicies?watch=1"
        "&allowWatchBookmarks=true&resourceVersion=7&timeoutSeconds=300\","
        "  \"result\": \"HNP_ERR_HTTP\"}]",
    };
    for (int k = 0; k < 2; k++) {
        json_t *steps = hnp_test_json(scripts[k]);
        fake_reset(steps, kinds[k]);
        struct hnp_reflector_options opt = {
            .backoff_initial_ms = 1, .backoff_max_ms = 2, .transport = &fake_transport};
        struct hnp_kube_config cfg = {0};
        struct hnp_reflector *r = NULL;
        assert_int_equal(hnp_reflector_start(&cfg, kinds[k], &opt, record_sink, &fk, m, &r, NULL),
                         HNP_OK);
        assert_true(wait_done());
        shut_down();
        hnp_reflector_stop(r);
        assert_string_equal(fk.mismatch, "");
        fake_release();
        json_decref(steps);
    }
    assert_int_equal((long)metric(m, "hnsnetpol_watch_restarts_total", HNP_KIND_POD), 1);
    assert_int_equal((long)metric(m, "hnsnetpol_relists_total", HNP_KIND_POD), 1);
    assert_int_equal((long)metric(m, "hnsnetpol_watch_restarts_total", HNP_KIND_POLICY), 1);
    assert_int_equal((long)metric(m, "hnsnetpol_relists_total", HNP_KIND_POLICY), 0);
    char *text = hnp_metrics_render(m);
    assert_non_null(text);
    assert_non_null(strstr(text, "# TYPE hnsnetpol_watch_restarts_total counter"));
    assert_non_null(strstr(text, "# TYPE hnsnetpol_relists_total counter"));
    assert_non_null(strstr(text, "hnsnetpol_relists_total{resource=\"networkpolicies\"} 0"));
    free(text);
    hnp_metrics_free(m);
}

/* ---- LIST pages read item by item (streamed, raw bytes) ----------------- */

/* The first LIST of a reflector (from the watch cache), and every other one (consistent). */
#define LIST_PODS_FIRST "GET /api/v1/pods?resourceVersion=0&limit=500"
#define LIST_PODS "GET /api/v1/pods?limit=500"
#define WATCH_PODS(rv)                                                                             \
    "WATCH /api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=" rv "&timeoutSeconds="   \
    "300"

/* A pod's text as the API server lists it (no kind, managedFields set). */
static char *pod_text(size_t i)
{
    char name[32], rv[32];
    snprintf(name, sizeof(name), "p%05zu", i);
    snprintf(rv, sizeof(rv), "%zu", i + 1);
    json_t *pod = json_pack("{s:{s:s, s:s, s:s, s:s, s:[{s:s}]}, s:{s:s}, s:{s:s}}", "metadata",
                            "name", name, "namespace", "ns", "uid", name + 1, "resourceVersion", rv,
                            "managedFields", "manager", "kubelet", "spec", "nodeName", "node-1",
                            "status", "podIP", "10.0.0.1");
    assert_non_null(pod);
    char *text = json_dumps(pod, JSON_COMPACT);
    json_decref(pod);
    assert_non_null(text);
    return text;
}

/*
 * Two pages, 1,200 pods in one compact line and 300 pretty-printed over
 * many lines, in odd chunks: every pod is delivered once, in order.
 */
static void test_page_many_items(void **state)
{
    (void)state;
    char *page1 = NULL;
    size_t len = 0;
    append(&page1, &len,
           "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"9000\","
           "\"continue\":\"next\"},\"items\":[");
    json_t *items2 = json_array();
    json_t *events = json_array();
    for (size_t i = 0; i < 1500; i++) {
        char *pod = pod_text(i);
        if (i < 1200) {
            if (i > 0)
                append(&page1, &len, ",");
            append(&page1, &len, pod);
        } else {
            json_array_append_new(items2, hnp_test_json(pod));
        }
        free(pod);
        char event[64];
        snprintf(event, sizeof(event), "UPSERT Pod ns/p%05zu %zu", i, i + 1);
        json_array_append_new(events, json_string(event));
    }
    append(&page1, &len, "]}\n");
    json_array_append_new(events, json_string("SYNCED"));

    json_t *sc =
        json_pack("{s:s, s:[{s:s, s:s, s:[i]}, {s:s, s:{s:{s:s}, s:o}}], s:s, s:o}", "kind", "pods",
                  "steps", "expect", LIST_PODS_FIRST, "text", page1, "chunks", 4093, "expect",
                  LIST_PODS "&continue=next", "body", "metadata", "resourceVersion", "9001",
                  "items", items2, "final", WATCH_PODS("9001"), "events", events);
    assert_non_null(sc);
    free(page1);
    play(sc, "many items", &fake_transport_streamed, true);
    json_decref(sc);
}

/* Strings holding brackets, braces, escaped quotes and backslashes; members in any order. */
static const char tricky_page[] =
    "{ \"kind\" : \"PodList\",\n"
    "  \"extra\": {\"a\": [\"]\", \"}\\\"\", {\"b\": \"[[\"}], \"n\": -1.5e3, \"t\": true,\n"
    "             \"f\": false, \"z\": null, \"s\": \"\\\\\"},\n"
    "  \"count\": 2, \"flag\": true, \"nothing\": null, \"k\\\"ey\": \"items\",\n"
    "  \"items\" : [ {\"metadata\": {\"name\": \"a]b\", \"namespace\": \"ns\", \"uid\": \"u-1\",\n"
    "      \"resourceVersion\": \"5\", \"labels\": {\"x\": \"}{][\\\"\\\\\", \"y\": "
    "\"\\\\\\\"]\",\n"
    "      \"z\": \"\\u005d\\/\"}}, \"spec\": {\"nodeName\": \"n1\"}} ,\n"
    "   {\"metadata\": {\"name\": \"c\\\"d\", \"namespace\": \"ns\", \"uid\": \"u-2\",\n"
    "    \"resourceVersion\": \"6\"}},[\"not an object\"], \"nor this\", 7 ],\n"
    "  \"metadata\": {\"resourceVersion\": \"77\", \"continue\": \"\"} }\n";

static void test_page_tricky_strings(void **state)
{
    (void)state;
    json_t *first =
        hnp_test_json("{\"apiVersion\": \"v1\", \"kind\": \"Pod\","
                      " \"metadata\": {\"name\": \"a]b\", \"namespace\": \"ns\","
                      " \"uid\": \"u-1\", \"resourceVersion\": \"5\", \"labels\":"
                      " {\"x\": \"}{][\\\"\\\\\", \"y\": \"\\\\\\\"]\", \"z\": \"]/\"}},"
                      " \"spec\": {\"nodeName\": \"n1\"}}");
    /* In pieces of 1 byte, of odd sizes, and as one compact line. */
    char compact[sizeof(tricky_page)];
    size_t n = 0;
    for (const char *p = tricky_page; *p; p++)
        if (*p != '\n')
            compact[n++] = *p;
    compact[n] = '\0';
    const char *texts[] = {tricky_page, tricky_page, compact};
    int chunks[] = {1, 0, 0};
    for (int k = 0; k < 3; k++) {
        json_t *sc = json_pack(
            "{s:s, s:[{s:s, s:s, s:[i]}], s:s, s:[s,s,s], s:[{s:i, s:O}], s:[s,s,s]}", "kind",
            "pods", "steps", "expect", LIST_PODS_FIRST, "text", texts[k], "chunks", chunks[k],
            "final", WATCH_PODS("77"), "events", "UPSERT Pod ns/a]b 5", "UPSERT Pod ns/c\"d 6",
            "SYNCED", "objects", "event", 0, "object", first, "log",
            "watch: skipping a listed object without metadata.name resource=pods where=items[2]",
            "where=items[3]", "where=items[4]");
        assert_non_null(sc);
        play(sc, "tricky strings", &fake_transport_streamed, true);
        json_decref(sc);
    }
    json_decref(first);
}

/*
 * Pages that are not lists, or not JSON: each fails the list with a message
 * saying what and where, nothing of it reaches the sink, and the list is
 * made again (after a backoff) until a good one comes.
 */
static void test_page_bad(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"{\"metadata\": {\"resourceVersion\": \"5\"}, \"items\": [{\"metadata\": {\"name\": \"a\"",
         "page=1 offset=74 error=\"the page ends early (truncated)\""},
        {"<html><body>502 Bad Gateway</body></html>",
         "page=1 offset=0 error=\"expected '{' at the start of the page\""},
        {"{\"metadata\": {\"resourceVersion\": \"5\"}, \"items\": {\"a\": []}}",
         "watch: list response is not a list resource=pods page=1 offset=48 error=\"items is not "
         "an array\""},
        {"{\"metadata\": {\"resourceVersion\": \"5\"}, \"items\": [{\"metadata\": {\"name\": "
         "\"a\",}}]}",
         "watch: list page is not valid JSON resource=pods page=1 offset=49 error=\"items[0], "
         "byte 27 of the item: "},
        {"{\"metadata\": {\"resourceVersion\": \"5\"}, \"items\": []} x",
         "offset=52 error=\"unexpected bytes after the list\""},
        {"{\"metadata\": {\"resourceVersion\": \"5\"}, \"items\": [{\"a\": 1} {\"b\": 2}]}",
         "error=\"expected ',' or ']' after an item\""},
        {"{\"metadata\": {\"resourceVersion\": \"5\"}, \"items\": [{\"a\": 1},]}",
         "error=\"expected an item\""},
        {"{\"metadata\": {}, \"items\": []}", "error=\"no metadata.resourceVersion\""},
        {"{\"metadata\": {\"resourceVersion\": \"5\"}}", "error=\"no items\""},
        {"{\"metadata\": [1], \"items\": []}", "offset=13 error=\"metadata is not an object\""},
        {"{\"metadata\" {}}", "error=\"expected ':' after a member name\""},
        {"{\"items\": [], \"metadata\": {\"resourceVersion\": \"5\"},}",
         "error=\"expected a member name\""},
        {"", "the page ends early"},
    };
    size_t n_bad = sizeof(bad) / sizeof(bad[0]);
    json_t *steps = json_array();
    json_t *log = json_array();
    for (size_t i = 0; i < n_bad; i++) {
        /* The first is the answer of the watch cache: bad, so the next LISTs are consistent. */
        json_array_append_new(steps,
                              json_pack("{s:s, s:s}", "expect",
                                        i == 0 ? LIST_PODS_FIRST : LIST_PODS, "text", bad[i][0]));
        json_array_append_new(log, json_string(bad[i][1]));
    }
    /* A good first page, then a bad second one: the list starts over, "x" is never emitted. */
    json_array_append_new(
        steps, json_pack("{s:s, s:s}", "expect", LIST_PODS, "text",
                         "{\"metadata\": {\"resourceVersion\": \"5\", \"continue\": \"c1\"},"
                         " \"items\": [{\"metadata\": {\"name\": \"x\", \"namespace\": \"ns\","
                         " \"resourceVersion\": \"2\"}}]}"));
    json_array_append_new(steps, json_pack("{s:s, s:s}", "expect", LIST_PODS "&continue=c1", "text",
                                           "{\"metadata\": {\"resourceVersion\": \"5\"}, "
                                           "\"items\": [{\"metadata\": {]}]}"));
    json_array_append_new(log,
                          json_string("page=2 offset=49 error=\"items[1], byte 15 of the item"));
    /* Statuses through the streamed transport. */
    json_array_append_new(steps, json_pack("{s:s, s:i, s:{s:s}}", "expect", LIST_PODS, "status",
                                           403, "body", "message", "pods is forbidden"));
    json_array_append_new(
        log, json_string("watch: list not allowed resource=pods status=\"HTTP 403\" detail=\"GET "
                         "/api/v1/pods?limit=500: HTTP 403: pods is forbidden\""));
    json_array_append_new(steps, json_pack("{s:s, s:i}", "expect", LIST_PODS, "status", 500));
    json_array_append_new(
        log, json_string(
                 "watch: list request failed resource=pods error=HNP_ERR_HTTP code=\"HTTP 500\""));
    json_array_append_new(steps,
                          json_pack("{s:s, s:s}", "expect", LIST_PODS, "error", "HNP_ERR_TIMEOUT"));
    json_array_append_new(log, json_string("error=HNP_ERR_TIMEOUT code=\"curl 7\""));
    json_array_append_new(
        steps, json_pack("{s:s, s:s}", "expect", LIST_PODS, "text",
                         "{\"items\": [{\"metadata\": {\"name\": \"a\", \"namespace\": \"ns\","
                         " \"resourceVersion\": \"1\"}}], \"metadata\": {\"resourceVersion\": "
                         "\"8\"}}"));
    json_t *sc = json_pack("{s:s, s:o, s:s, s:[s,s], s:{s:i, s:i}, s:o}", "kind", "pods", "steps",
                           steps, "final", WATCH_PODS("8"), "events", "UPSERT Pod ns/a 1", "SYNCED",
                           "metrics", "restarts", 0, "relists", 0, "log", log);
    assert_non_null(sc);
    play(sc, "bad pages", &fake_transport_streamed, true);
    json_decref(sc);
}

/* A page of n small pods, compact, with resourceVersion rv. New string. */
static char *small_pods_page(size_t n, const char *rv)
{
    char *page = NULL;
    size_t len = 0;
    append(&page, &len, "{\"metadata\": {\"resourceVersion\": \"");
    append(&page, &len, rv);
    append(&page, &len, "\"}, \"items\": [");
    for (size_t i = 0; i < n; i++) {
        char *pod = pod_text(i);
        if (i > 0)
            append(&page, &len, ",");
        append(&page, &len, pod);
        free(pod);
    }
    append(&page, &len, "]}");
    return page;
}

/*
 * Caps, on the first LIST (the watch cache's answer) and after it: an item
 * larger than max_item_bytes, whole in one piece or over many, and a page
 * of small items larger than max_list_bytes each fail the list; the next
 * LIST, after a backoff, is the consistent one; the objects come once the
 * page fits.
 */
static void test_page_too_large(void **state)
{
    (void)state;
    char big[3001];
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    json_t *huge = json_pack("{s:{s:s, s:s, s:s, s:{s:s}}}", "metadata", "name", "big", "namespace",
                             "ns", "resourceVersion", "3", "labels", "big", big);
    char *huge_text = json_dumps(huge, JSON_COMPACT);
    static const char head[] = "{\"metadata\": {\"resourceVersion\": \"5\"}, \"items\": [";
    char *page = NULL;
    size_t len = 0;
    append(&page, &len, head);
    append(&page, &len, huge_text);
    append(&page, &len, "]}");
    free(huge_text);
    char *many = small_pods_page(40, "6"); /* about 7.5 KB */
    char *fits = small_pods_page(2, "7");
    char offset[48];
    snprintf(offset, sizeof(offset), "page=1 offset=%zu", strlen(head));
    json_t *sc =
        json_pack("{s:s, s:{s:i, s:i}, s:["
                  "{s:s, s:s, s:[i]}," /* the cache's answer: an item over the cap, in one piece */
                  "{s:s, s:s},"        /* the same in many pieces */
                  "{s:s, s:s},"        /* small items, the page over its cap */
                  "{s:s, s:s}], "      /* fits */
                  "s:s, s:[s,s,s], s:{s:i, s:i}, s:[s,s,s]}",
                  "kind", "pods", "options", "max_item_bytes", 1000, "max_list_bytes", 4000,
                  "steps", "expect", LIST_PODS_FIRST, "text", page, "chunks", 0, "expect",
                  LIST_PODS, "text", page, "expect", LIST_PODS, "text", many, "expect", LIST_PODS,
                  "text", fits, "final", WATCH_PODS("7"), "events", "UPSERT Pod ns/p00000 1",
                  "UPSERT Pod ns/p00001 2", "SYNCED", "metrics", "restarts", 0, "relists", 0, "log",
                  offset, "watch: listed object too large resource=pods page=1 offset=",
                  "error=\"items[0] is larger than 1000 bytes\"");
    assert_non_null(sc);
    json_array_append_new(json_object_get(sc, "log"),
                          json_string("error=\"the page is larger than 4000 bytes (in items["));
    json_array_append_new(json_object_get(sc, "log"),
                          json_string("watch: list page too large resource=pods page=1"));
    free(page);
    free(many);
    free(fits);
    play(sc, "page too large", &fake_transport_streamed, true);
    json_decref(sc);
    json_decref(huge);
}

/*
 * Which LIST when: the first from the watch cache; a server that pages it
 * anyway is followed with continue only; a normal end of the watch and a
 * transport error re-watch without a LIST; a 410 relists consistently, and
 * an expired continue token during that relist lists consistently again.
 * Both transports.
 */
static void test_list_paths(void **state)
{
    (void)state;
    json_t *sc = hnp_test_json(
        "{\"kind\": \"pods\", \"steps\": ["
        " {\"expect\": \"GET /api/v1/pods?resourceVersion=0&limit=500\", \"status\": 200,"
        "  \"body\": {\"metadata\": {\"resourceVersion\": \"10\", \"continue\": \"c/1\"},"
        "   \"items\": [{\"metadata\": {\"name\": \"a\", \"namespace\": \"ns\", \"uid\": \"ua\","
        "    \"resourceVersion\": \"4\"}}]}},"
        " {\"expect\": \"GET /api/v1/pods?limit=500&continue=c%2F1\", \"status\": 200,"
        "  \"body\": {\"metadata\": {\"resourceVersion\": \"10\"},"
        "   \"items\": [{\"metadata\": {\"name\": \"b\", \"namespace\": \"ns\", \"uid\": \"ub\","
        "    \"resourceVersion\": \"5\"}}]}},"
        " {\"expect\": \"WATCH /api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=10"
        "&timeoutSeconds=300\", \"lines\": [{\"type\": \"BOOKMARK\", \"object\": {\"metadata\":"
        "  {\"resourceVersion\": \"11\"}}}]},"
        " {\"expect\": \"WATCH /api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=11"
        "&timeoutSeconds=300\", \"result\": \"HNP_ERR_HTTP\"},"
        " {\"expect\": \"WATCH /api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=11"
        "&timeoutSeconds=300\", \"result\": \"HNP_ERR_GONE\"},"
        " {\"expect\": \"GET /api/v1/pods?limit=500\", \"status\": 200,"
        "  \"body\": {\"metadata\": {\"resourceVersion\": \"20\", \"continue\": \"c2\"},"
        "   \"items\": [{\"metadata\": {\"name\": \"a\", \"namespace\": \"ns\", \"uid\": \"ua\","
        "    \"resourceVersion\": \"4\"}}]}},"
        " {\"expect\": \"GET /api/v1/pods?limit=500&continue=c2\", \"status\": 410,"
        "  \"body\": {\"kind\": \"Status\", \"status\": \"Failure\", \"reason\": \"Expired\","
        "   \"message\": \"continue expired\", \"code\": 410}},"
        " {\"expect\": \"GET /api/v1/pods?limit=500\", \"status\": 200,"
        "  \"body\": {\"metadata\": {\"resourceVersion\": \"21\"},"
        "   \"items\": [{\"metadata\": {\"name\": \"a\", \"namespace\": \"ns\", \"uid\": \"ua\","
        "    \"resourceVersion\": \"4\"}}]}}],"
        " \"final\": \"WATCH /api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=21"
        "&timeoutSeconds=300\","
        " \"events\": [\"UPSERT Pod ns/a 4\", \"UPSERT Pod ns/b 5\", \"SYNCED\","
        "  \"DELETE Pod ns/b 5\", \"SYNCED\"],"
        " \"metrics\": {\"restarts\": 2, \"relists\": 2}}");
    play(sc, "list paths", &fake_transport, true);
    play(sc, "list paths", &fake_transport_streamed, true);
    json_decref(sc);
}

static void test_stop_during_streamed_list(void **state)
{
    (void)state;
    stop_during_list(&fake_transport_streamed, HNP_KIND_POD, LIST_PODS_FIRST);
}

static int group_setup(void **state)
{
    (void)state;
    pthread_mutex_init(&fk.mu, NULL);
    pthread_cond_init(&fk.cv, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pthread_cond_destroy(&fk.cv);
    pthread_mutex_destroy(&fk.mu);
    return 0;
}

#define SCENARIO(file)                                                                             \
    {                                                                                              \
        "scenario " file, run_scenario, NULL, NULL, (void *)(file)                                 \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_resource),
        cmocka_unit_test(test_start_bad_arguments),
        cmocka_unit_test(test_start_client_error),
        cmocka_unit_test(test_stop_during_backoff),
        cmocka_unit_test(test_stop_during_list),
        cmocka_unit_test(test_stop_during_watch),
        cmocka_unit_test(test_metrics_shared),
        cmocka_unit_test(test_page_many_items),
        cmocka_unit_test(test_page_tricky_strings),
        cmocka_unit_test(test_page_bad),
        cmocka_unit_test(test_page_too_large),
        cmocka_unit_test(test_list_paths),
        cmocka_unit_test(test_stop_during_streamed_list),
        SCENARIO("initial-list.json"),
        SCENARIO("relist-after-error-410.json"),
        SCENARIO("watch-http-410.json"),
        SCENARIO("expired-continue.json"),
        SCENARIO("too-large-event.json"),
        SCENARIO("bad-events.json"),
        SCENARIO("transport-errors.json"),
        SCENARIO("namespaces.json"),
        SCENARIO("pod-trim.json"),
        SCENARIO("empty-streams.json"),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
