/*
 * test_watch.c - the reflector (watch.c) against a scripted API server.
 *
 * hnp_watch_set_transport_for_tests() swaps the reflector's HTTP layer for
 * a fake that plays a script. Every LIST request and every WATCH the
 * reflector makes must match the next step of the script, which answers
 * with an HTTP status and body, a transport error, or a watch stream: lines
 * fed through hnp_line_buffer (kube.h) in oddly sized chunks, then an end
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
 *                "lines": [event object or raw string, ...],
 *                "chunks": [sizes, cycled] (default [13, 1, 64]),
 *                "result": "HNP_ERR_..." (how the stream ends; default HNP_OK)}]
 *   "final"    the call expected right after the script
 *   "events"   what the sink must receive: "SYNCED" or
 *              "<UPSERT|DELETE> <kind> <namespace/>name <resourceVersion>"
 *   "objects"  [{"event": i, "object": {...}}]: exact objects of some events (optional)
 *   "metrics"  {"restarts": N, "relists": N}
 *   "log"      substrings the log must contain (optional)
 * The sink also checks what every object must satisfy (kind set, no
 * managedFields) and marks a violation in the event string.
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

#include "hnsnetpol/kube.h"
#include "hnsnetpol/log.h"
#include "hnsnetpol/metrics.h"
#include "hnsnetpol/watch.h"

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
            err->code = 7; /* CURLE_COULDNT_CONNECT */
        return rc;
    }
    *status = (long)json_integer_value(json_object_get(step, "status"));
    if (response != NULL) {
        json_t *answer = json_object_get(step, "body");
        *response = answer ? json_deep_copy(answer) : NULL;
    }
    return HNP_OK;
}

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

    static const size_t default_chunks[] = {13, 1, 64};
    json_t *chunks = json_object_get(step, "chunks");
    size_t n_chunks = json_array_size(chunks);
    struct hnp_line_buffer lb;
    hnp_line_buffer_init(&lb, max_line);
    enum hnp_err rc = HNP_OK;
    for (size_t off = 0, k = 0; off < len && rc == HNP_OK; k++) {
        if (stop != NULL && *stop) {
            rc = HNP_ERR_STOPPED;
            break;
        }
        size_t size = n_chunks ? (size_t)json_integer_value(json_array_get(chunks, k % n_chunks))
                               : default_chunks[k % 3];
        if (size == 0 || size > len - off)
            size = len - off;
        rc = hnp_line_buffer_feed(&lb, text + off, size, fn, ctx);
        off += size;
    }
    if (rc == HNP_OK)
        rc = hnp_line_buffer_finish(&lb, fn, ctx);
    hnp_line_buffer_free(&lb);
    free(text);
    if (rc != HNP_OK)
        return rc == HNP_ERR_LIMIT ? hnp_error_set(err, rc, NULL, "event too large") : rc;
    const char *result = json_string_value(json_object_get(step, "result"));
    if (result == NULL)
        return HNP_OK;
    return hnp_error_set(err, err_from_name(result), NULL, "scripted end");
}

static const struct hnp_watch_transport fake_transport = {
    .client_new = fake_client_new,
    .client_free = fake_client_free,
    .client_set_stop = fake_client_set_stop,
    .request = fake_request,
    .stream = fake_stream,
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
        snprintf(text, sizeof(text), "SYNCED%s", obj != NULL ? " BAD(object)" : "");
    } else {
        const char *type = event->type == HNP_WATCH_UPSERT   ? "UPSERT"
                           : event->type == HNP_WATCH_DELETE ? "DELETE"
                                                             : "?";
        json_t *md = json_object_get(obj, "metadata");
        const char *kind = json_string_value(json_object_get(obj, "kind"));
        const char *ns = json_string_value(json_object_get(md, "namespace"));
        const char *name = json_string_value(json_object_get(md, "name"));
        const char *rv = json_string_value(json_object_get(md, "resourceVersion"));
        bool bad = event->kind != f->kind || kind == NULL ||
                   strcmp(kind, kind_name(f->kind)) != 0 ||
                   json_object_get(md, "managedFields") != NULL;
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

/* ---- data-driven scenarios ---------------------------------------------- */

static void run_scenario(void **state)
{
    const char *file = *state;
    char path[512];
    snprintf(path, sizeof(path), "watch/%s", file);
    char *text = hnp_test_read_file(path, NULL);
    json_t *sc = hnp_test_json(text);
    free(text);

    enum hnp_kind kind = kind_from_resource(json_string_value(json_object_get(sc, "kind")));
    json_t *jopt = json_object_get(sc, "options");
    struct hnp_reflector_options opt = {
        (size_t)json_integer_value(json_object_get(jopt, "page_limit")),
        (size_t)json_integer_value(json_object_get(jopt, "max_event_bytes")),
        (long)json_integer_value(json_object_get(jopt, "backoff_initial_ms")),
        (long)json_integer_value(json_object_get(jopt, "backoff_max_ms")),
        (long)json_integer_value(json_object_get(jopt, "watch_timeout_s")),
    };
    if (opt.backoff_initial_ms == 0)
        opt.backoff_initial_ms = 1;
    if (opt.backoff_max_ms == 0)
        opt.backoff_max_ms = 4;

    FILE *log = tmpfile();
    assert_non_null(log);
    hnp_log_setup(HNP_LOG_DEBUG, HNP_LOG_TEXT, log);

    fake_reset(json_object_get(sc, "steps"), kind);
    hnp_watch_set_transport_for_tests(&fake_transport);
    struct hnp_metrics *m = hnp_metrics_new();
    assert_non_null(m);
    struct hnp_kube_config cfg = {0};
    struct hnp_reflector *r = NULL;
    struct hnp_error err = {0};
    assert_int_equal(hnp_reflector_start(&cfg, kind, &opt, record_sink, &fk, m, &r, &err), HNP_OK);
    bool done = wait_done();
    shut_down();
    hnp_reflector_stop(r);
    hnp_watch_set_transport_for_tests(NULL);
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
    json_array_foreach(json_object_get(sc, "log"), i, needle)
    {
        if (strstr(logged, json_string_value(needle)) == NULL) {
            print_message("log:\n%s\n", logged);
            fail_msg("%s: the log lacks \"%s\"", file, json_string_value(needle));
        }
    }
    free(logged);
    fclose(log);

    hnp_metrics_free(m);
    fake_release();
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
    hnp_watch_set_transport_for_tests(&fake_transport);
    struct hnp_kube_config cfg = {0};
    struct hnp_reflector *r = NULL;
    struct hnp_error err = {0};
    assert_int_equal(
        hnp_reflector_start(&cfg, HNP_KIND_POD, NULL, record_sink, &fk, NULL, &r, &err),
        HNP_ERR_INVALID);
    hnp_watch_set_transport_for_tests(NULL);
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
    json_t *steps = hnp_test_json("[{\"expect\": \"GET /api/v1/pods?limit=500\","
                                  "  \"error\": \"HNP_ERR_HTTP\"}]");
    fake_reset(steps, HNP_KIND_POD);
    hnp_watch_set_transport_for_tests(&fake_transport);
    hnp_log_setup(HNP_LOG_ERROR, HNP_LOG_TEXT, NULL);
    struct hnp_reflector_options opt = {0, 0, 600000, 600000, 0};
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
    hnp_watch_set_transport_for_tests(NULL);

    assert_true(took < 10.0);
    assert_int_equal(fk.next, 1);
    assert_int_equal(json_array_size(fk.events), 0);
    assert_int_equal(fk.live_clients, 0);
    fake_release();
    json_decref(steps);
}

/* Stop while a LIST request hangs: the client's stop flag ends it. */
static void test_stop_during_list(void **state)
{
    (void)state;
    fake_reset(NULL, HNP_KIND_POLICY);
    hnp_watch_set_transport_for_tests(&fake_transport);
    hnp_log_setup(HNP_LOG_ERROR, HNP_LOG_TEXT, NULL);
    struct hnp_kube_config cfg = {0};
    struct hnp_reflector *r = NULL;
    assert_int_equal(
        hnp_reflector_start(&cfg, HNP_KIND_POLICY, NULL, record_sink, &fk, NULL, &r, NULL), HNP_OK);
    assert_true(wait_done());
    assert_string_equal(fk.final, "GET /apis/networking.k8s.io/v1/networkpolicies?limit=500");
    assert_non_null(fk.client_stop);

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    hnp_reflector_stop(r); /* no shut_down(): only the stop flag ends the request */
    double took = elapsed_s(&t0);
    hnp_watch_set_transport_for_tests(NULL);

    assert_true(took < 10.0);
    assert_int_equal(fk.calls, 1);
    assert_int_equal(json_array_size(fk.events), 0);
    assert_int_equal(fk.live_clients, 0);
    fake_release();
}

/* Stop while a watch stream is open and silent (with a transport without client_set_stop). */
static void test_stop_during_watch(void **state)
{
    (void)state;
    json_t *steps =
        hnp_test_json("[{\"expect\": \"GET /api/v1/namespaces?limit=500\", \"status\": 200,"
                      "  \"body\": {\"metadata\": {\"resourceVersion\": \"7\"}, \"items\": ["
                      "    {\"metadata\": {\"name\": \"default\", \"uid\": \"u1\", "
                      "\"resourceVersion\": \"3\"}}]}}]");
    fake_reset(steps, HNP_KIND_NAMESPACE);
    hnp_watch_set_transport_for_tests(&fake_transport_no_stop);
    hnp_log_setup(HNP_LOG_ERROR, HNP_LOG_TEXT, NULL);
    struct hnp_reflector_options opt = {0, 1000, 0, 0, 45};
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
    hnp_watch_set_transport_for_tests(NULL);

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
        "[{\"expect\": \"GET /api/v1/pods?limit=500\", \"status\": 200,"
        "  \"body\": {\"metadata\": {\"resourceVersion\": \"7\"}, \"items\": []}},"
        " {\"expect\": \"WATCH /api/v1/pods?watch=1&allowWatchBookmarks=true"
        "&resourceVersion=7&timeoutSeconds=300\", \"result\": \"HNP_ERR_GONE\"},"
        " {\"expect\": \"GET /api/v1/pods?limit=500\", \"status\": 200,"
        "  \"body\": {\"metadata\": {\"resourceVersion\": \"9\"}, \"items\": []}}]",
        "[{\"expect\": \"GET /apis/networking.k8s.io/v1/networkpolicies?limit=500\","
        "  \"status\": 200, \"body\": {\"metadata\": {\"resourceVersion\": \"7\"}, \"items\": []}},"
        " {\"expect\": \"WATCH /apis/networking.k8s.io/v1/networkpolicies?watch=1"
        "&allowWatchBookmarks=true&resourceVersion=7&timeoutSeconds=300\","
        "  \"result\": \"HNP_ERR_HTTP\"}]",
    };
    for (int k = 0; k < 2; k++) {
        json_t *steps = hnp_test_json(scripts[k]);
        fake_reset(steps, kinds[k]);
        hnp_watch_set_transport_for_tests(&fake_transport);
        struct hnp_reflector_options opt = {0, 0, 1, 2, 0};
        struct hnp_kube_config cfg = {0};
        struct hnp_reflector *r = NULL;
        assert_int_equal(hnp_reflector_start(&cfg, kinds[k], &opt, record_sink, &fk, m, &r, NULL),
                         HNP_OK);
        assert_true(wait_done());
        shut_down();
        hnp_reflector_stop(r);
        hnp_watch_set_transport_for_tests(NULL);
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
