/*
 * test_agent.c - `hnsnetpol run` without an API server or HNS: the mock HNS
 * on a temporary state file stands in for HNS, and every scenario asserts on
 * the mock's state file (the endpoints' Policies and the calls counted) and
 * on the agent's metrics.
 *
 * Two levels:
 *   - test_ctl_*: the controller (controller.h) alone, on the test's thread,
 *     with a fake clock: watch events applied directly, each HNS call it
 *     asks for made at once on the mock (or held, for a call that hangs),
 *     time advanced by setting a number. No sleeps, and every "nothing more
 *     happens" is exact.
 *   - the agent with its threads (hnp_agent_run): a scripted event source
 *     stands in for the reflectors (hnp_agent_options.test), or the real
 *     reflectors read a scripted API server, and a scripted HTTP layer
 *     records the Kubernetes Events. These check the wiring: threads, start
 *     and stop, callbacks, HTTP probes, Events, abandoning a hung worker.
 *     Nothing waits a fixed time: conditions are polled with a generous
 *     bound, and "nothing more happens" is asserted after the agent has
 *     listed the endpoints a few more times.
 * Plus the Event body, the HNS worker on its own, and the `run` command line.
 */
#define _POSIX_C_SOURCE 200809L

#include "testutil.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "hnsnetpol/acl.h"
#include "agent.h"
#include "registry.h"
#include "controller.h"
#include "fastpoll.h"
#include "events.h"
#include "hns_worker.h"
#include "inbox.h"
#include "mock.h"
#include "run.h"
#include "hns.h"
#include "log.h"
#include "metrics.h"
#include "platform.h"
#include "hnsnetpol/policy.h"
#include "hnsnetpol/rangeset.h"
#include "hnsnetpol/strtab.h"
#include "watch.h"

/* Bound of every wait for a condition (generous: valgrind is slow). */
#define WAIT_MS 30000

#define NODE "akswin22000001"
#define SERVER_ID "6F8A1B2C-0000-4000-8000-000000000072"
#define CLIENT_ID "6f8a1b2c-0000-4000-8000-000000000045"
#define NEW_ID "6F8A1B2C-0000-4000-8000-0000000000AA"
#define SERVER_IP "10.224.0.72"
#define CLIENT_IP "10.224.0.45"

#define OUTBOUND_NAT "{\"Type\":\"OutBoundNAT\",\"Settings\":{\"Exceptions\":[\"10.224.0.0/16\"]}}"

#define NS_DEMO "{\"metadata\":{\"name\":\"demo\",\"uid\":\"ns-1\",\"resourceVersion\":\"1\"}}"

#define POD_RV(name, labels, ip, rv)                                                               \
    "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"demo\",\"uid\":\"pod-" name              \
    "\",\"resourceVersion\":\"" rv "\",\"labels\":" labels "},\"spec\":{\"nodeName\":\"" NODE      \
    "\",\"containers\":[{\"name\":\"c\",\"ports\":[{\"name\":\"http\",\"containerPort\":80}]}]},"  \
    "\"status\":{\"phase\":\"Running\",\"hostIP\":\"10.224.0.4\",\"podIP\":\"" ip "\"}}"
#define POD(name, labels, ip) POD_RV(name, labels, ip, "10")

#define POD_SERVER POD("server", "{\"app\":\"server\"}", SERVER_IP)
#define POD_CLIENT POD("client", "{\"run\":\"client\"}", CLIENT_IP)
#define POD_CLIENT_LABELLED POD("client", "{\"run\":\"client\",\"app\":\"client\"}", CLIENT_IP)

#define POLICY(name, gen, rv, port)                                                                \
    "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"demo\",\"uid\":\"pol-" name              \
    "\",\"generation\":" gen ",\"resourceVersion\":\"" rv "\"},\"spec\":{\"podSelector\":"         \
    "{\"matchLabels\":{\"app\":\"server\"}},\"ingress\":[{\"from\":[{\"podSelector\":"             \
    "{\"matchLabels\":{\"app\":\"client\"}}}],\"ports\":[{\"protocol\":\"TCP\",\"port\":" port     \
    "}]}]}}"

#define DEMO_POLICY POLICY("demo-policy", "1", "20", "80")
/* The same policy edited to use a named port: Windows cannot enforce it. */
#define DEMO_POLICY_NAMED POLICY("demo-policy", "2", "21", "\"http\"")
/* A named port and a NotIn selector, as docs/demo/unsupported-policy.yaml. */
#define UNSUPPORTED(gen, rv)                                                                       \
    "{\"metadata\":{\"name\":\"web-from-non-debug\",\"namespace\":\"demo\",\"uid\":\"pol-u\","     \
    "\"generation\":" gen ",\"resourceVersion\":\"" rv "\"},\"spec\":{\"podSelector\":"            \
    "{\"matchLabels\":{\"app\":\"server\"}},\"ingress\":[{\"from\":[{\"podSelector\":"             \
    "{\"matchExpressions\":[{\"key\":\"debug\",\"operator\":\"NotIn\",\"values\":[\"true\"]}]}}]," \
    "\"ports\":[{\"port\":\"http\"}]}]}}"

/* ------------------------------------------------------------------------ */
/* Time                                                                     */

static long long now_ms(void)
{
    return hnp_monotonic_ms();
}

static void sleep_ms(long ms)
{
    hnp_sleep_ms(ms);
}

/* Poll pred every 10 ms until it holds; false after ms. */
static bool wait_for_ms(bool (*pred)(void *), void *ctx, long ms)
{
    long long until = now_ms() + ms;
    while (!pred(ctx)) {
        if (now_ms() > until)
            return false;
        sleep_ms(10);
    }
    return true;
}

/* Poll pred every 10 ms until it holds; false after WAIT_MS. */
static bool wait_for(bool (*pred)(void *), void *ctx)
{
    return wait_for_ms(pred, ctx, WAIT_MS);
}

/* ------------------------------------------------------------------------ */
/* The scripted event source                                                */

static struct {
    pthread_mutex_t mu;
    hnp_watch_sink sink;
    void *sink_ctx;
    int starts, stops;
    bool fail; /* the next start fails (the last step of start-up) */
} source = {.mu = PTHREAD_MUTEX_INITIALIZER};

static enum hnp_err source_start(void *ctx, hnp_watch_sink sink, void *sink_ctx,
                                 struct hnp_error *err)
{
    pthread_mutex_lock(&source.mu);
    if (source.fail) {
        source.fail = false;
        pthread_mutex_unlock(&source.mu);
        return hnp_error_set(err, HNP_ERR_HTTP, NULL, "the test's source refused to start");
    }
    source.sink = sink;
    source.sink_ctx = sink_ctx;
    source.starts++;
    pthread_mutex_unlock(&source.mu);
    return HNP_OK;
}

static void source_stop(void *ctx)
{
    pthread_mutex_lock(&source.mu);
    source.sink = NULL;
    source.sink_ctx = NULL;
    source.stops++;
    pthread_mutex_unlock(&source.mu);
}

static bool source_started(void *ctx)
{
    pthread_mutex_lock(&source.mu);
    bool started = source.sink != NULL;
    pthread_mutex_unlock(&source.mu);
    return started;
}

/* Push one event; text NULL for SYNCED. */
static void push(enum hnp_kind kind, enum hnp_watch_event_type type, const char *text)
{
    assert_true(wait_for(source_started, NULL));
    struct hnp_watch_event ev = {.kind = kind, .type = type, .object = NULL};
    if (text != NULL) {
        ev.object = hnp_test_json(text);
        /* The reflectors always set kind. */
        static const char *const kinds[] = {"Namespace", "Pod", "NetworkPolicy"};
        json_object_set_new(ev.object, "kind", json_string(kinds[kind]));
    }
    pthread_mutex_lock(&source.mu);
    assert_non_null(source.sink);
    source.sink(&ev, source.sink_ctx);
    pthread_mutex_unlock(&source.mu);
}

static void upsert(enum hnp_kind kind, const char *text)
{
    push(kind, HNP_WATCH_UPSERT, text);
}

static void synced_all(void)
{
    push(HNP_KIND_NAMESPACE, HNP_WATCH_SYNCED, NULL);
    push(HNP_KIND_POD, HNP_WATCH_SYNCED, NULL);
    push(HNP_KIND_POLICY, HNP_WATCH_SYNCED, NULL);
}

/* The demo cluster with the given policy (NULL: none), then SYNCED for every kind. */
static void push_cluster(const char *client_pod, const char *policy)
{
    upsert(HNP_KIND_NAMESPACE, NS_DEMO);
    upsert(HNP_KIND_POD, POD_SERVER);
    upsert(HNP_KIND_POD, client_pod);
    if (policy != NULL)
        upsert(HNP_KIND_POLICY, policy);
    synced_all();
}

/* ------------------------------------------------------------------------ */
/* The scripted HTTP layer of the Events poster                             */

static struct {
    pthread_mutex_t mu;
    json_t *posts; /* [{"method","path","body"}] */
    int clients;
} api = {.mu = PTHREAD_MUTEX_INITIALIZER};

static enum hnp_err api_client_new(const struct hnp_kube_config *cfg, struct hnp_kube_client **out,
                                   struct hnp_error *err)
{
    pthread_mutex_lock(&api.mu);
    api.clients++;
    pthread_mutex_unlock(&api.mu);
    *out = (struct hnp_kube_client *)malloc(1);
    return *out ? HNP_OK : HNP_ERR_NOMEM;
}

static void api_client_free(struct hnp_kube_client *client)
{
    free(client);
}

static enum hnp_err api_request(struct hnp_kube_client *client, const char *method,
                                const char *path, const json_t *body, const char *content_type,
                                size_t max_body, long *status, json_t **response,
                                struct hnp_error *err)
{
    pthread_mutex_lock(&api.mu);
    json_array_append_new(api.posts, json_pack("{s:s, s:s, s:O}", "method", method, "path", path,
                                               "body", body ? (json_t *)body : json_null()));
    pthread_mutex_unlock(&api.mu);
    *status = 201;
    if (response != NULL)
        *response = json_object();
    return HNP_OK;
}

static enum hnp_err api_stream(struct hnp_kube_client *client, const char *path,
                               hnp_kube_line_fn fn, void *ctx, const volatile int *stop,
                               size_t max_line, long idle_timeout_ms, struct hnp_error *err)
{
    return HNP_ERR_HTTP;
}

static const struct hnp_watch_transport api_transport = {
    .client_new = api_client_new,
    .client_free = api_client_free,
    .request = api_request,
    .stream = api_stream,
};

static size_t posts_count(void)
{
    pthread_mutex_lock(&api.mu);
    size_t n = json_array_size(api.posts);
    pthread_mutex_unlock(&api.mu);
    return n;
}

static int clients_made(void)
{
    pthread_mutex_lock(&api.mu);
    int n = api.clients;
    pthread_mutex_unlock(&api.mu);
    return n;
}

/* New reference to post i. */
static json_t *post_at(size_t i)
{
    pthread_mutex_lock(&api.mu);
    json_t *p = json_incref(json_array_get(api.posts, i));
    pthread_mutex_unlock(&api.mu);
    return p;
}

/* ------------------------------------------------------------------------ */
/* The agent in a thread                                                    */

static struct {
    char dir[300];
    char state[400];
    char spec[420];
    struct hnp_metrics *metrics;
    struct hnp_agent_options opt;
    pthread_t thread;
    bool running;
    volatile int stop;
    enum hnp_err rc;
    struct hnp_error err;
    int ready_calls;
    int started_calls;
    int ready_calls_when_started; /* ready_calls seen by the last started callback */
    unsigned port;
} fx;

static void on_started(void *ctx)
{
    __atomic_store_n(&fx.ready_calls_when_started,
                     __atomic_load_n(&fx.ready_calls, __ATOMIC_SEQ_CST), __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&fx.started_calls, 1, __ATOMIC_SEQ_CST);
}

static void on_ready(void *ctx)
{
    __atomic_add_fetch(&fx.ready_calls, 1, __ATOMIC_SEQ_CST);
}

static void on_listening(void *ctx, unsigned port)
{
    __atomic_store_n(&fx.port, port, __ATOMIC_SEQ_CST);
}

static void *agent_thread(void *arg)
{
    fx.rc = hnp_agent_run(&fx.opt, &fx.stop, &fx.err);
    return NULL;
}

static void start_agent(void)
{
    fx.stop = 0;
    fx.rc = HNP_ERR_COUNT_;
    memset(&fx.err, 0, sizeof(fx.err));
    __atomic_store_n(&fx.ready_calls, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&fx.started_calls, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&fx.ready_calls_when_started, -1, __ATOMIC_SEQ_CST);
    assert_int_equal(pthread_create(&fx.thread, NULL, agent_thread, NULL), 0);
    fx.running = true;
    assert_true(wait_for(source_started, NULL));
}

static enum hnp_err stop_agent(void)
{
    assert_true(fx.running);
    fx.stop = 1;
    pthread_join(fx.thread, NULL);
    fx.running = false;
    if (fx.rc != HNP_OK)
        print_error("agent: %s: %s: %s\n", hnp_err_name(fx.rc), fx.err.where, fx.err.message);
    return fx.rc;
}

/* A fresh metrics registry and default test options. */
static void reset_options(void)
{
    hnp_metrics_free(fx.metrics);
    fx.metrics = hnp_metrics_new();
    assert_non_null(fx.metrics);
    memset(&fx.opt, 0, sizeof(fx.opt));
    fx.opt.node_name = NODE;
    assert_int_equal(hnp_hns_parse_spec(fx.spec, &fx.opt.hns_class, &fx.opt.hns_arg, NULL), HNP_OK);
    fx.opt.metrics_addr = "";
    fx.opt.batch_ms = 20;
    fx.opt.endpoint_poll_ms = 100;
    fx.opt.resync_ms = 300;
    fx.opt.hns_timeout_ms = 10000;
    fx.opt.retry_initial_ms = 20;
    fx.opt.retry_max_ms = 200;
    fx.opt.post_events = true;
    fx.opt.metrics = fx.metrics;
    fx.opt.started = on_started;
    fx.opt.ready = on_ready;
    fx.opt.test = (struct hnp_agent_test_hooks){
        .source_start = source_start,
        .source_stop = source_stop,
        .events_transport = &api_transport,
        .listening = on_listening,
    };
}

static json_t *endpoint_doc(const char *id, const char *ip)
{
    return json_pack("{s:s, s:s, s:[{s:s, s:i}], s:[o]}", "ID", id, "Name", id, "IpConfigurations",
                     "IpAddress", ip, "PrefixLength", 24, "Policies", hnp_test_json(OUTBOUND_NAT));
}

/* Write the state file: the server and client endpoints (each when asked), no calls yet. */
static void write_state(bool server, bool client)
{
    json_t *eps = json_array();
    if (server)
        json_array_append_new(eps, endpoint_doc(SERVER_ID, SERVER_IP));
    if (client)
        json_array_append_new(eps, endpoint_doc(CLIENT_ID, CLIENT_IP));
    json_t *state = json_pack("{s:o}", "endpoints", eps);
    assert_int_equal(json_dump_file(state, fx.state, JSON_INDENT(2)), 0);
    json_decref(state);
}

static int setup(void **state)
{
    memset(&fx, 0, sizeof(fx));
    char *dir = NULL;
    if (hnp_make_temp_dir("hnp-test-agent", &dir, NULL) != HNP_OK)
        return -1;
    snprintf(fx.dir, sizeof(fx.dir), "%s", dir);
    free(dir);
    snprintf(fx.state, sizeof(fx.state), "%s/hns.json", fx.dir);
    snprintf(fx.spec, sizeof(fx.spec), "mock:%s", fx.state);
    write_state(true, true);
    reset_options();
    pthread_mutex_lock(&api.mu);
    json_decref(api.posts);
    api.posts = json_array();
    api.clients = 0;
    pthread_mutex_unlock(&api.mu);
    return 0;
}

static int teardown(void **state)
{
    if (fx.running) {
        fx.stop = 1;
        pthread_join(fx.thread, NULL);
        fx.running = false;
    }
    source.fail = false;
    hnp_metrics_free(fx.metrics);
    fx.metrics = NULL;
    char path[460];
    unlink(fx.state);
    snprintf(path, sizeof(path), "%s.lock", fx.state);
    unlink(path);
    rmdir(fx.dir);
    pthread_mutex_lock(&api.mu);
    json_decref(api.posts);
    api.posts = NULL;
    pthread_mutex_unlock(&api.mu);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Reading the mock's state                                                 */

static json_t *read_state(void)
{
    json_t *state = NULL;
    struct hnp_error err = {0};
    enum hnp_err rc = hnp_hns_mock_read(fx.state, &state, &err);
    if (rc != HNP_OK)
        fail_msg("cannot read the mock state: %s: %s", hnp_err_name(rc), err.message);
    return state;
}

static long calls(const char *op)
{
    json_t *state = read_state();
    long n = (long)json_integer_value(json_object_get(json_object_get(state, "calls"), op));
    json_decref(state);
    return n;
}

/* New reference to the endpoint's Policies; NULL when the endpoint is not there. */
static json_t *policies_of(const char *id)
{
    json_t *state = read_state();
    json_t *ep = hnp_hns_mock_find(state, id, NULL);
    json_t *policies = ep ? json_incref(json_object_get(ep, "Policies")) : NULL;
    json_decref(state);
    return policies;
}

static size_t ours_on(const char *id)
{
    json_t *policies = policies_of(id);
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(policies); i++) {
        const char *acl_id = json_string_value(
            json_object_get(json_object_get(json_array_get(policies, i), "Settings"), "Id"));
        n += acl_id != NULL && hnp_acl_id_is_ours(acl_id);
    }
    json_decref(policies);
    return n;
}

/* Would the endpoint let this connection in (or out), by its ACLs under HNS rules? */
static bool endpoint_allows(const char *id, enum hnp_acl_direction dir, const char *remote,
                            uint8_t protocol, uint16_t port)
{
    json_t *policies = policies_of(id);
    assert_non_null(policies);
    struct hnp_acl_list list;
    hnp_acl_list_init(&list);
    for (size_t i = 0; i < json_array_size(policies); i++) {
        json_t *p = json_array_get(policies, i);
        if (strcmp(json_string_value(json_object_get(p, "Type")), "ACL") != 0)
            continue;
        struct hnp_acl acl;
        assert_int_equal(hnp_acl_from_json(p, &acl, NULL), HNP_OK);
        assert_int_equal(hnp_acl_list_push(&list, &acl), HNP_OK);
    }
    struct hnp_packet packet = {.direction = dir, .protocol = protocol, .port = port};
    assert_true(hnp_ipv4_parse(remote, &packet.remote_addr));
    enum hnp_verdict verdict;
    hnp_acl_list_eval(&list, &packet, &verdict);
    hnp_acl_list_free(&list);
    json_decref(policies);
    return verdict == HNP_VERDICT_ALLOW;
}

static bool is_only_outbound_nat(const char *id)
{
    json_t *policies = policies_of(id);
    json_t *expected = json_pack("[o]", hnp_test_json(OUTBOUND_NAT));
    bool same = json_equal(policies, expected);
    json_decref(policies);
    json_decref(expected);
    return same;
}

static double metric(const char *name, const char *labels)
{
    return hnp_metrics_get(fx.metrics, name, labels);
}

/* ---- predicates for wait_for ---- */

static bool server_has_acls(void *ctx)
{
    return ours_on(SERVER_ID) > 0;
}

static bool server_has_no_acls(void *ctx)
{
    return ours_on(SERVER_ID) == 0;
}

static bool has_acls(void *id)
{
    return ours_on(id) > 0;
}

static bool has_no_acls(void *id)
{
    return ours_on(id) == 0;
}

static bool client_reaches_server(void *ctx)
{
    return endpoint_allows(SERVER_ID, HNP_ACL_IN, CLIENT_IP, 6, 80);
}

static bool ready_called(void *ctx)
{
    return __atomic_load_n(&fx.ready_calls, __ATOMIC_SEQ_CST) > 0;
}

struct at_least {
    const char *what; /* a call operation */
    long n;
};

static bool calls_at_least(void *ctx)
{
    struct at_least *c = ctx;
    return calls(c->what) >= c->n;
}

struct metric_is {
    const char *name, *labels;
    double value;
};

static bool metric_equals(void *ctx)
{
    struct metric_is *m = ctx;
    return metric(m->name, m->labels) == m->value;
}

static bool metric_at_least(void *ctx)
{
    struct metric_is *m = ctx;
    return metric(m->name, m->labels) >= m->value;
}

static bool posts_at_least(void *ctx)
{
    return posts_count() >= *(size_t *)ctx;
}

/*
 * Let the agent look at everything a few more times: wait for three more
 * endpoint lists (each one compares what changed) and two batch windows.
 */
static void settle(void)
{
    struct at_least lists = {"list", calls("list") + 3};
    assert_true(wait_for(calls_at_least, &lists));
}

/* ------------------------------------------------------------------------ */
/* Mock edits                                                               */

typedef void (*state_edit)(json_t *state, void *ctx);

struct edit {
    state_edit fn;
    void *ctx;
};

static enum hnp_err run_edit(json_t *state, bool *write, void *ctx, struct hnp_error *err)
{
    struct edit *e = ctx;
    e->fn(state, e->ctx);
    *write = true;
    return HNP_OK;
}

static void edit_state(state_edit fn, void *ctx)
{
    struct edit e = {fn, ctx};
    struct hnp_error err = {0};
    assert_int_equal(hnp_hns_mock_edit(fx.state, run_edit, &e, &err), HNP_OK);
}

static void add_endpoint_edit(json_t *state, void *ctx)
{
    const char **id_ip = ctx;
    json_array_append_new(json_object_get(state, "endpoints"), endpoint_doc(id_ip[0], id_ip[1]));
}

static void remove_endpoint_edit(json_t *state, void *ctx)
{
    size_t index;
    assert_non_null(hnp_hns_mock_find(state, ctx, &index));
    json_array_remove(json_object_get(state, "endpoints"), index);
}

static void set_faults_edit(json_t *state, void *ctx)
{
    json_object_set_new(state, "faults", hnp_test_json(ctx));
}

/* Drift: someone removed our ACLs from the server endpoint. */
static void strip_ours_edit(json_t *state, void *ctx)
{
    json_t *ep = hnp_hns_mock_find(state, SERVER_ID, NULL);
    json_object_set_new(ep, "Policies", json_pack("[o]", hnp_test_json(OUTBOUND_NAT)));
}

/* Drift: someone changed the priority of one of our ACLs. */
static void bump_priority_edit(json_t *state, void *ctx)
{
    json_t *policies = json_object_get(hnp_hns_mock_find(state, SERVER_ID, NULL), "Policies");
    for (size_t i = 0; i < json_array_size(policies); i++) {
        json_t *settings = json_object_get(json_array_get(policies, i), "Settings");
        const char *id = json_string_value(json_object_get(settings, "Id"));
        if (id != NULL && hnp_acl_id_is_ours(id)) {
            json_object_set_new(settings, "Priority", json_integer(64000));
            return;
        }
    }
    fail_msg("no ACL of ours to change");
}

/* ------------------------------------------------------------------------ */
/* The controller alone, with a fake clock                                  */

/*
 * The controller (controller.h) driven as the agent drives it, but on this
 * thread, with a fake clock and with each HNS call made at once on the mock
 * (hnp_hns_job_run, as the worker does, but on this thread). A call can be held instead, to
 * stand for one that hangs. No sleeps: time passes by setting cx.now.
 */
#define WALL0 1795852200000LL /* the wall clock when cx.now is 0 */

static struct {
    struct hnp_controller *c;
    struct hnp_controller_options opt;
    struct hnp_hns *hns;
    long long now, wake;
    bool worker;        /* a worker is available */
    size_t n_abandoned; /* abandoned calls still "running" (held) */
    int abandons;
    bool hang_modify;             /* hold every MODIFY: it hangs */
    struct hnp_hns_job *held[16]; /* the calls held, oldest first */
    size_t n_held;
    int ready_calls;
    bool ready;
    char reason[256];
    json_t *reports;  /* keys of the rejected policies reported, in order */
    bool post_events; /* what the rejected callback answers */
} cx;

static void cx_ready(void *ctx)
{
    cx.ready_calls++;
}

static void cx_status(void *ctx, bool ready, const char *reason)
{
    cx.ready = ready;
    snprintf(cx.reason, sizeof(cx.reason), "%s", reason);
}

static bool cx_rejected(void *ctx, const struct hnp_policy *policy)
{
    char key[300];
    snprintf(key, sizeof(key), "%s/%s", policy->ns, policy->name);
    json_array_append_new(cx.reports, json_string(key));
    return cx.post_events;
}

/* Default controller options (the agent's defaults, but for the metrics and callbacks). */
static void cx_options(void)
{
    memset(&cx.opt, 0, sizeof(cx.opt));
    cx.opt.node_name = NODE;
    cx.opt.metrics = fx.metrics;
    cx.opt.rejected = cx_rejected;
    cx.opt.ready = cx_ready;
    cx.opt.status = cx_status;
}

static void cx_start(void)
{
    json_decref(cx.reports);
    cx.reports = json_array();
    cx.ready_calls = 0;
    cx.worker = true;
    cx.post_events = true;
    struct hnp_error err = {0};
    assert_int_equal(hnp_controller_new(&cx.opt, &cx.c, &err), HNP_OK);
    if (cx.hns == NULL)
        assert_int_equal(hnp_hns_open(fx.spec, &cx.hns, &err), HNP_OK);
}

static void cx_free(void)
{
    hnp_controller_free(cx.c);
    cx.c = NULL;
    for (size_t i = 0; i < cx.n_held; i++)
        hnp_hns_job_free(cx.held[i]);
    cx.n_held = 0;
}

static int cx_setup(void **state)
{
    if (setup(state) != 0)
        return -1;
    memset(&cx, 0, sizeof(cx));
    cx_options();
    return 0;
}

static int cx_teardown(void **state)
{
    cx_free();
    hnp_hns_close(cx.hns);
    cx.hns = NULL;
    json_decref(cx.reports);
    cx.reports = NULL;
    return teardown(state);
}

/* Step at cx.now and do what the controller asks, until it asks for nothing more now. */
static void cx_pump(void)
{
    for (int guard = 0; guard < 1000; guard++) {
        hnp_controller_set_workers(cx.c, cx.worker, cx.n_abandoned);
        struct hnp_controller_step s;
        hnp_controller_step(cx.c, cx.now, WALL0 + cx.now, &s);
        assert_true(s.wake_ms >= cx.now);
        cx.wake = s.wake_ms;
        if (s.abandon) {
            assert_null(s.job);
            assert_int_equal(s.wake_ms, cx.now);
            cx.abandons++;
            cx.n_abandoned++;
            cx.worker = cx.n_abandoned < HNP_CONTROLLER_MAX_ABANDONED;
            continue;
        }
        if (s.job == NULL)
            return;
        assert_true(cx.worker);
        if (s.job->op == HNP_HNS_MODIFY && cx.hang_modify) {
            assert_true(cx.n_held < sizeof(cx.held) / sizeof(cx.held[0]));
            cx.held[cx.n_held++] = s.job; /* in flight until the timeout */
            continue;
        }
        hnp_hns_job_run(s.job, cx.hns);
        hnp_controller_job_done(cx.c, s.job, cx.now);
    }
    fail_msg("the controller keeps asking for calls at the same instant");
}

/* Let ms pass, stepping whenever the controller asked to be stepped. */
static void cx_advance(long long ms)
{
    long long until = cx.now + ms;
    cx_pump();
    while (cx.now < until) {
        long long next = cx.wake < until ? cx.wake : until;
        cx.now = next > cx.now ? next : cx.now + 1;
        cx_pump();
    }
}

/* A watch event at cx.now (text NULL for SYNCED); the reflectors set "kind". */
static void cx_event(enum hnp_kind kind, enum hnp_watch_event_type type, const char *text)
{
    struct hnp_watch_event ev = {.kind = kind, .type = type, .object = NULL};
    if (text != NULL) {
        ev.object = hnp_test_json(text);
        static const char *const kinds[] = {"Namespace", "Pod", "NetworkPolicy"};
        json_object_set_new(ev.object, "kind", json_string(kinds[kind]));
    }
    hnp_controller_apply(cx.c, &ev, cx.now);
    assert_null(ev.object); /* stolen */
}

static void cx_upsert(enum hnp_kind kind, const char *text)
{
    cx_event(kind, HNP_WATCH_UPSERT, text);
}

/* The demo cluster with the given policy (NULL: none), then SYNCED for every kind. */
static void cx_cluster(const char *client_pod, const char *policy)
{
    cx_upsert(HNP_KIND_NAMESPACE, NS_DEMO);
    cx_upsert(HNP_KIND_POD, POD_SERVER);
    if (client_pod != NULL)
        cx_upsert(HNP_KIND_POD, client_pod);
    if (policy != NULL)
        cx_upsert(HNP_KIND_POLICY, policy);
    cx_event(HNP_KIND_NAMESPACE, HNP_WATCH_SYNCED, NULL);
    cx_event(HNP_KIND_POD, HNP_WATCH_SYNCED, NULL);
    cx_event(HNP_KIND_POLICY, HNP_WATCH_SYNCED, NULL);
}

/* Start, apply the demo, let a second pass: the server endpoint carries its ACLs. */
static void cx_converge_demo(void)
{
    cx_start();
    cx_cluster(POD_CLIENT, DEMO_POLICY);
    cx_advance(1000);
    assert_true(server_has_acls(NULL));
}

/* What settle() is for the agent: three more endpoint lists (default poll: 2 s). */
static void cx_settle(void)
{
    cx_advance(3 * HNP_CONTROLLER_DEFAULT_POLL_MS + 100);
}

static size_t cx_reports(void)
{
    return json_array_size(cx.reports);
}

static void test_ctl_initial_sync(void **state)
{
    cx_start();
    /* Nothing known yet: not ready, and the first call is the endpoint list. */
    cx_pump();
    assert_false(cx.ready);
    assert_non_null(strstr(cx.reason, "initial sync not done: waiting for namespaces pods "
                                      "networkpolicies"));
    assert_true(hnp_controller_busy(cx.c) == false);
    assert_int_equal(calls("list"), 1);
    assert_false(hnp_controller_initial_done(cx.c));
    assert_int_equal(cx.ready_calls, 0);

    cx_cluster(POD_CLIENT, DEMO_POLICY);
    cx_pump();
    assert_true(hnp_controller_initial_done(cx.c));
    assert_int_equal(cx.ready_calls, 1);
    assert_true(cx.ready);
    /* The batch window of the first pass is 0: the Update goes at once. */
    assert_true(server_has_acls(NULL));
    cx_settle();
    /* One Update, for the server; the client is selected by nothing and untouched. */
    assert_int_equal(calls("modify"), 1);
    assert_true(is_only_outbound_nat(CLIENT_ID));
    json_t *policies = policies_of(SERVER_ID);
    json_t *nat = hnp_test_json(OUTBOUND_NAT);
    assert_true(json_equal(json_array_get(policies, 0), nat)); /* foreign first, unchanged */
    json_decref(nat);
    json_decref(policies);
    /* client (run=client, no app=client) -> server:80 is denied; the kubelet's probes pass. */
    assert_false(endpoint_allows(SERVER_ID, HNP_ACL_IN, CLIENT_IP, 6, 80));
    assert_true(endpoint_allows(SERVER_ID, HNP_ACL_IN, "10.224.0.4", 6, 80));
    assert_true(endpoint_allows(SERVER_ID, HNP_ACL_OUT, "8.8.8.8", 17, 53));

    size_t bound = 0;
    assert_int_equal(hnp_controller_endpoint_count(cx.c, &bound), 2);
    assert_int_equal(bound, 2);
    assert_true(metric("hnsnetpol_local_endpoints", NULL) == 2);
    assert_true(metric("hnsnetpol_acl_rules", NULL) == (double)ours_on(SERVER_ID));
    assert_true(metric("hnsnetpol_policies", "state=\"known\"") == 1);
    assert_true(metric("hnsnetpol_policies", "state=\"applied\"") == 1);
    assert_true(metric("hnsnetpol_policies", "state=\"rejected\"") == 0);
    assert_true(metric("hnsnetpol_hns_calls_total", "operation=\"modify\"") == 1);
    assert_true(metric("hnsnetpol_hns_failures_total", "operation=\"modify\"") == 0);
    assert_true(metric("hnsnetpol_hns_call_duration_seconds", "operation=\"list\"") >= 1);
    /* Converged: the last-sync timestamp is the wall clock of that step. */
    assert_true(metric("hnsnetpol_last_sync_timestamp_seconds", NULL) >= WALL0 / 1000.0);
    assert_true(metric("hnsnetpol_sync_duration_seconds", NULL) >= 1);
    assert_int_equal(cx_reports(), 0);
    assert_true(metric("hnsnetpol_rejection_events_total", NULL) == 0);

    /* kubectl label pod client app=client: after the batch window, one more Update. */
    cx_upsert(HNP_KIND_POD, POD_CLIENT_LABELLED);
    cx_advance(HNP_CONTROLLER_DEFAULT_BATCH_MS - 1);
    assert_int_equal(calls("modify"), 1); /* the batch window is not over */
    cx_advance(1);
    assert_true(client_reaches_server(NULL));
    assert_true(server_has_acls(NULL)); /* allowed by a rule, not by the absence of ACLs */
    cx_settle();
    assert_int_equal(calls("modify"), 2);
    assert_true(is_only_outbound_nat(CLIENT_ID));
    /* Ready once: not again on later passes. */
    assert_int_equal(cx.ready_calls, 1);
    /* Nothing due: the next wake-up is the next poll. */
    assert_true(cx.wake > cx.now && cx.wake <= cx.now + HNP_CONTROLLER_DEFAULT_POLL_MS);
}

static void test_ctl_restart_adopts_without_calls(void **state)
{
    cx_converge_demo();
    cx_settle();
    long modifies = calls("modify");
    json_t *before = read_state();
    cx_free();

    /* A new controller, the same cluster: it adopts what is there. */
    reset_options();
    cx_options();
    cx_start();
    cx_cluster(POD_CLIENT, DEMO_POLICY);
    cx_settle();
    assert_int_equal(cx.ready_calls, 1);
    assert_true(metric("hnsnetpol_last_sync_timestamp_seconds", NULL) >= 1);
    assert_int_equal(calls("modify"), modifies);
    assert_int_equal(calls("query"), 0);
    json_t *after = read_state();
    assert_true(
        json_equal(json_object_get(before, "endpoints"), json_object_get(after, "endpoints")));
    json_decref(before);
    json_decref(after);
}

static void test_ctl_policy_delete_keeps_foreign(void **state)
{
    cx_converge_demo();
    cx_event(HNP_KIND_POLICY, HNP_WATCH_DELETE,
             "{\"metadata\":{\"name\":\"demo-policy\",\"namespace\":\"demo\",\"uid\":\"pol-demo-"
             "policy\",\"resourceVersion\":\"30\"}}");
    cx_advance(HNP_CONTROLLER_DEFAULT_BATCH_MS);
    assert_true(server_has_no_acls(NULL));
    assert_true(is_only_outbound_nat(SERVER_ID));
    cx_settle();
    assert_int_equal(calls("modify"), 2);
    assert_true(metric("hnsnetpol_policies", "state=\"known\"") == 0);
    assert_true(metric("hnsnetpol_acl_rules", NULL) == 0);
    /* A delete of what is not there, or without a name, changes nothing. */
    cx_event(HNP_KIND_POLICY, HNP_WATCH_DELETE,
             "{\"metadata\":{\"name\":\"demo-policy\",\"namespace\":\"demo\"}}");
    cx_event(HNP_KIND_POD, HNP_WATCH_DELETE, "{\"metadata\":{}}");
    cx_settle();
    assert_int_equal(calls("modify"), 2);
}

static void test_ctl_unsupported_policy_rejected(void **state)
{
    cx_start();
    cx_cluster(POD_CLIENT, UNSUPPORTED("1", "40"));
    cx_settle();
    assert_true(metric("hnsnetpol_policies", "state=\"rejected\"") == 1);
    assert_int_equal(cx_reports(), 1);
    assert_string_equal(json_string_value(json_array_get(cx.reports, 0)),
                        "demo/web-from-non-debug");
    assert_true(metric("hnsnetpol_rejection_events_total", NULL) == 1);
    assert_int_equal(calls("modify"), 0);
    assert_int_equal(ours_on(SERVER_ID), 0);
    assert_true(metric("hnsnetpol_policies", "state=\"applied\"") == 0);
    assert_true(metric("hnsnetpol_policies_rejected", "feature=\"namedPort\"") == 1);
    assert_true(metric("hnsnetpol_policies_rejected", "feature=\"negativeSelector\"") == 1);
    assert_true(metric("hnsnetpol_policies_rejected", "feature=\"sctp\"") == 0);

    /* The same generation again (a label change): no second report. */
    cx_upsert(HNP_KIND_POLICY, UNSUPPORTED("1", "41"));
    cx_settle();
    assert_int_equal(cx_reports(), 1);
    /* A new generation, still unsupported: reported again. */
    cx_upsert(HNP_KIND_POLICY, UNSUPPORTED("2", "42"));
    cx_advance(HNP_CONTROLLER_DEFAULT_BATCH_MS);
    assert_int_equal(cx_reports(), 2);
    assert_int_equal(calls("modify"), 0);
    /* No Event queued (events off): reported all the same, the Event metric stays. */
    cx.post_events = false;
    cx_upsert(HNP_KIND_POLICY, UNSUPPORTED("3", "43"));
    cx_advance(HNP_CONTROLLER_DEFAULT_BATCH_MS);
    assert_int_equal(cx_reports(), 3);
    assert_true(metric("hnsnetpol_rejection_events_total", NULL) == 2);
}

static void test_ctl_applied_policy_edited_to_unsupported(void **state)
{
    cx_converge_demo();
    cx_upsert(HNP_KIND_POLICY, DEMO_POLICY_NAMED);
    cx_advance(HNP_CONTROLLER_DEFAULT_BATCH_MS);
    assert_true(server_has_no_acls(NULL));
    assert_true(is_only_outbound_nat(SERVER_ID));
    assert_int_equal(cx_reports(), 1);
    assert_true(metric("hnsnetpol_policies", "state=\"rejected\"") == 1);
    assert_true(metric("hnsnetpol_policies", "state=\"applied\"") == 0);
}

static void test_ctl_isolate_mode(void **state)
{
    cx.opt.unsupported = HNP_UNSUPPORTED_ISOLATE;
    cx_start();
    cx_cluster(POD_CLIENT_LABELLED, UNSUPPORTED("1", "40"));
    cx_advance(1000);
    assert_true(server_has_acls(NULL));
    /* Isolated for ingress, nothing of the policy allowed; egress stays open. */
    assert_false(endpoint_allows(SERVER_ID, HNP_ACL_IN, CLIENT_IP, 6, 80));
    assert_true(endpoint_allows(SERVER_ID, HNP_ACL_OUT, "8.8.8.8", 17, 53));
    assert_true(is_only_outbound_nat(CLIENT_ID));
    assert_true(metric("hnsnetpol_policies", "state=\"rejected\"") == 1);
    assert_true(metric("hnsnetpol_policies", "state=\"applied\"") == 1);
    assert_int_equal(cx_reports(), 1);
}

static void test_ctl_late_endpoint(void **state)
{
    write_state(false, true);
    cx_start();
    cx_cluster(POD_CLIENT, DEMO_POLICY);
    cx_settle();
    assert_int_equal(cx.ready_calls, 1);
    assert_int_equal(calls("modify"), 0);
    assert_true(metric("hnsnetpol_local_endpoints", NULL) == 1);

    /* Found by the next poll, at most one interval later. */
    const char *server[2] = {SERVER_ID, SERVER_IP};
    edit_state(add_endpoint_edit, server);
    cx_advance(HNP_CONTROLLER_DEFAULT_POLL_MS);
    assert_true(server_has_acls(NULL));
    assert_true(metric("hnsnetpol_local_endpoints", NULL) == 2);
    assert_int_equal(calls("modify"), 1);
}

/*
 * A pod of this node whose endpoint the controller has not listed yet makes
 * it list at once, not a poll interval later; one whose endpoint never comes
 * makes it list every 200 ms for 10 s only (docs/agent.md, "New and
 * vanished endpoints").
 */
static void test_ctl_new_pod_endpoint_listed_early(void **state)
{
    cx.opt.endpoint_poll_ms = 30000;
    cx.opt.resync_ms = 600000;
    write_state(true, false);
    cx_start();
    cx_cluster(NULL, DEMO_POLICY);
    cx_advance(100);
    assert_true(server_has_acls(NULL));
    /* Every pod of this node is bound: nothing listed after the first list. */
    cx_advance(1000);
    assert_int_equal(calls("list"), 1);

    /* The CNI made the new pod's endpoint; then the pod event brings its IP. */
    const char *second[2] = {NEW_ID, "10.224.0.80"};
    edit_state(add_endpoint_edit, second);
    cx_upsert(HNP_KIND_POD, POD("server-2", "{\"app\":\"server\"}", "10.224.0.80"));
    /* The batch window, then a list at once, then the Update. */
    cx_advance(HNP_CONTROLLER_DEFAULT_BATCH_MS);
    assert_true(has_acls(NEW_ID));
    assert_int_equal(calls("modify"), 2);
    assert_int_equal(calls("list"), 2);
    /* Bound now: the normal interval again. */
    cx_advance(1000);
    assert_int_equal(calls("list"), 2);

    /* A pod whose endpoint never comes (not on HNS): fast lists for the window only. */
    long before = calls("list");
    cx_upsert(HNP_KIND_POD, POD("ghost", "{\"app\":\"ghost\"}", "10.224.0.99"));
    cx_advance(HNP_CONTROLLER_DEFAULT_BATCH_MS);
    assert_int_equal(calls("list"), before + 1); /* at once */
    cx_advance(HNP_FASTPOLL_EVERY_MS - 1);
    assert_int_equal(calls("list"), before + 1);
    cx_advance(1);
    assert_int_equal(calls("list"), before + 2); /* then every 200 ms */
    cx_advance(12000 - HNP_CONTROLLER_DEFAULT_BATCH_MS - HNP_FASTPOLL_EVERY_MS);
    long fast = calls("list") - before;
    assert_true(fast >= 5);
    assert_true(fast <= 10000 / 200 + 2); /* one early, one per 200 ms, one at the end */
    cx_advance(2000);
    assert_int_equal(calls("list") - before, fast);
    /* The same pod changed is not newly unbound: no new window. */
    cx_upsert(HNP_KIND_POD, POD_RV("ghost", "{\"app\":\"ghost2\"}", "10.224.0.99", "11"));
    cx_advance(1000);
    assert_int_equal(calls("list") - before, fast);
}

static void test_ctl_vanished_endpoint_forgotten(void **state)
{
    cx_converge_demo();
    /* Gone from the list: forgotten. */
    edit_state(remove_endpoint_edit, CLIENT_ID);
    cx_advance(HNP_CONTROLLER_DEFAULT_POLL_MS);
    assert_true(metric("hnsnetpol_local_endpoints", NULL) == 1);
    assert_int_equal(hnp_controller_endpoint_count(cx.c, NULL), 1);
    /* Gone between list and modify: forgotten quietly, not a failure. */
    edit_state(set_faults_edit, "{\"vanish\": [\"" SERVER_ID "\"]}");
    cx_upsert(HNP_KIND_POD, POD_CLIENT_LABELLED);
    cx_advance(HNP_CONTROLLER_DEFAULT_BATCH_MS);
    assert_true(metric("hnsnetpol_local_endpoints", NULL) == 0);
    cx_settle();
    assert_true(metric("hnsnetpol_hns_failures_total", "operation=\"modify\"") == 0);
    assert_int_equal(calls("modify"), 2);
}

static void test_ctl_hns_faults_retried(void **state)
{
    edit_state(set_faults_edit,
               "{\"fail\": [{\"operation\": \"modify\", \"count\": 3, \"code\": \"0x803B0020\"}]}");
    cx_start();
    cx_cluster(POD_CLIENT, DEMO_POLICY);
    /* Backoff 500, 1000, 2000 ms: the fourth Update goes 3.5 s after the first. */
    cx_advance(3400);
    assert_int_equal(calls("modify"), 3);
    assert_false(server_has_acls(NULL));
    cx_advance(200);
    assert_true(server_has_acls(NULL));
    cx_settle();
    assert_true(metric("hnsnetpol_hns_failures_total", "operation=\"modify\"") == 3);
    assert_int_equal(calls("modify"), 4);
    /* Each retry re-read the endpoint first. */
    assert_true(calls("query") >= 3);
    assert_false(endpoint_allows(SERVER_ID, HNP_ACL_IN, CLIENT_IP, 6, 80));
    assert_true(is_only_outbound_nat(CLIENT_ID));
}

static void test_ctl_list_failures_then_recovery(void **state)
{
    edit_state(set_faults_edit,
               "{\"fail\": [{\"operation\": \"list\", \"count\": 3, \"code\": \"0x803B0020\"}]}");
    cx_start();
    cx_cluster(POD_CLIENT, DEMO_POLICY);
    /* No worker yet, so no list: the initial sync waits for one. */
    cx.worker = false;
    cx_pump();
    assert_false(hnp_controller_initial_done(cx.c));
    assert_non_null(strstr(cx.reason, "waiting for the HNS endpoint list"));
    /* Until the first list works, a failed one is made again at once. */
    cx.worker = true;
    cx_pump();
    assert_true(hnp_controller_initial_done(cx.c));
    assert_true(server_has_acls(NULL));
    assert_int_equal(calls("list"), 4);
    assert_true(metric("hnsnetpol_hns_failures_total", "operation=\"list\"") == 3);
    assert_true(cx.ready);

    /* Lists fail after the initial sync: not ready, with the reason; ready again after. */
    edit_state(set_faults_edit, "{\"fail\": [{\"operation\": \"list\", \"count\": 1000000, "
                                "\"code\": \"0x803B0020\"}]}");
    cx_advance(HNP_CONTROLLER_DEFAULT_POLL_MS);
    assert_false(cx.ready);
    assert_non_null(strstr(cx.reason, "the last HNS endpoint list failed"));
    assert_non_null(strstr(cx.reason, "0x803B0020"));
    edit_state(set_faults_edit, "{}");
    cx_advance(HNP_CONTROLLER_DEFAULT_POLL_MS);
    assert_true(cx.ready);
}

static void test_ctl_drift_repaired(void **state)
{
    cx_converge_demo();
    cx_settle();
    json_t *good = policies_of(SERVER_ID);
    edit_state(strip_ours_edit, NULL);
    cx_advance(HNP_CONTROLLER_DEFAULT_POLL_MS);
    assert_true(server_has_acls(NULL));
    json_t *repaired = policies_of(SERVER_ID);
    assert_true(json_equal(good, repaired));
    json_decref(repaired);
    assert_int_equal(calls("modify"), 2);

    edit_state(bump_priority_edit, NULL);
    cx_advance(HNP_CONTROLLER_DEFAULT_POLL_MS);
    assert_int_equal(calls("modify"), 3);
    cx_settle();
    repaired = policies_of(SERVER_ID);
    assert_true(json_equal(good, repaired));
    assert_int_equal(calls("modify"), 3);
    json_decref(repaired);
    json_decref(good);
}

static void test_ctl_repeated_undo_backs_off(void **state)
{
    cx.opt.retry_initial_ms = 600000;
    cx.opt.retry_max_ms = 600000;
    cx_converge_demo();
    /* First undo: repaired at the next poll. */
    edit_state(strip_ours_edit, NULL);
    cx_advance(HNP_CONTROLLER_DEFAULT_POLL_MS);
    assert_true(server_has_acls(NULL));
    assert_int_equal(calls("modify"), 2);
    /* Undone again right after the same Update: the repeat waits for its backoff. */
    edit_state(strip_ours_edit, NULL);
    cx_advance(100000);
    assert_int_equal(calls("modify"), 2);
    assert_int_equal(ours_on(SERVER_ID), 0);
    /* A real change is not held back by it. */
    cx_upsert(HNP_KIND_POD, POD_CLIENT_LABELLED);
    cx_advance(HNP_CONTROLLER_DEFAULT_BATCH_MS);
    assert_true(server_has_acls(NULL));
    assert_true(client_reaches_server(NULL));
    assert_int_equal(calls("modify"), 3);
}

static void test_ctl_hung_call_abandoned(void **state)
{
    cx_start();
    cx.hang_modify = true;
    cx_cluster(POD_CLIENT, DEMO_POLICY);
    cx_pump();
    assert_true(hnp_controller_busy(cx.c));
    assert_int_equal(cx.n_held, 1);
    /* The modify hangs: nothing happens until the timeout ... */
    cx_advance(HNP_CONTROLLER_DEFAULT_TIMEOUT_MS - 1);
    assert_int_equal(cx.abandons, 0);
    long lists = calls("list");
    /* ... then it is abandoned and reported as a failure. */
    cx_advance(1);
    assert_int_equal(cx.abandons, 1);
    assert_true(metric("hnsnetpol_hns_failures_total", "operation=\"modify\"") == 1);
    /* The rest goes on with a new worker: endpoints are listed while calls hang. */
    cx_advance(2 * HNP_CONTROLLER_DEFAULT_POLL_MS);
    assert_true(calls("list") >= lists + 1);
    /* Every Update hangs: at HNP_CONTROLLER_MAX_ABANDONED no new call, not ready. */
    cx_advance(10 * HNP_CONTROLLER_DEFAULT_TIMEOUT_MS);
    assert_int_equal(cx.abandons, HNP_CONTROLLER_MAX_ABANDONED);
    assert_false(cx.worker);
    assert_false(cx.ready);
    assert_non_null(strstr(cx.reason, "HNS calls hang: 4 abandoned calls still running"));
    assert_true(metric("hnsnetpol_hns_abandoned_calls", NULL) == 4);
    lists = calls("list");
    cx_advance(HNP_CONTROLLER_DEFAULT_POLL_MS);
    assert_int_equal(calls("list"), lists);

    /* HNS recovers: the hung calls return (too late: their endpoint is re-read). */
    cx.hang_modify = false;
    for (size_t i = 0; i < cx.n_held; i++) {
        hnp_hns_job_run(cx.held[i], cx.hns);
        hnp_controller_job_done(cx.c, cx.held[i], cx.now);
    }
    cx.n_held = 0;
    cx.n_abandoned = 0;
    cx.worker = true;
    long queries = calls("query");
    cx_advance(HNP_CONTROLLER_DEFAULT_POLL_MS);
    assert_true(calls("query") > queries);
    assert_true(server_has_acls(NULL));
    assert_true(cx.ready);
    assert_true(metric("hnsnetpol_last_sync_timestamp_seconds", NULL) >= 1);
    cx_settle();
    assert_false(endpoint_allows(SERVER_ID, HNP_ACL_IN, CLIENT_IP, 6, 80));
    assert_true(metric("hnsnetpol_hns_abandoned_calls", NULL) == 0);
    /* Stopping waits for the call in flight, up to its timeout. */
    cx.hang_modify = true;
    edit_state(strip_ours_edit, NULL);
    cx_advance(HNP_CONTROLLER_DEFAULT_POLL_MS);
    assert_true(hnp_controller_busy(cx.c));
    hnp_controller_shutdown(cx.c, false);
    cx_pump();
    assert_false(hnp_controller_finished(cx.c));
    cx_advance(HNP_CONTROLLER_DEFAULT_TIMEOUT_MS);
    assert_true(hnp_controller_finished(cx.c));
}

static void test_ctl_cleanup_on_exit(void **state)
{
    cx_converge_demo();
    long lists = calls("list");
    hnp_controller_shutdown(cx.c, true);
    /* Events are ignored from now on. */
    cx_upsert(HNP_KIND_POD, POD_CLIENT_LABELLED);
    for (int i = 0; i < 10 && !hnp_controller_finished(cx.c); i++)
        cx_pump();
    assert_true(hnp_controller_finished(cx.c));
    assert_int_equal(calls("list"), lists + 1); /* a fresh list first */
    assert_true(is_only_outbound_nat(SERVER_ID));
    assert_true(is_only_outbound_nat(CLIENT_ID));
    assert_int_equal(calls("modify"), 2);
}

static void test_ctl_rebinding(void **state)
{
    cx_converge_demo();
    /* The server's IP moves to a new endpoint ID (the pod was recreated). */
    const char *moved[2] = {NEW_ID, SERVER_IP};
    edit_state(remove_endpoint_edit, SERVER_ID);
    edit_state(add_endpoint_edit, moved);
    cx_advance(HNP_CONTROLLER_DEFAULT_POLL_MS);
    assert_true(has_acls(NEW_ID));
    assert_false(endpoint_allows(NEW_ID, HNP_ACL_IN, CLIENT_IP, 6, 80));

    /* The IP now belongs to another pod (the client): its ACLs follow the new owner. */
    cx_upsert(HNP_KIND_POD, POD("server", "{\"app\":\"server\"}", "10.224.0.99"));
    cx_upsert(HNP_KIND_POD, POD("client", "{\"run\":\"client\"}", SERVER_IP));
    cx_advance(HNP_CONTROLLER_DEFAULT_BATCH_MS);
    assert_true(has_no_acls(NEW_ID));
    assert_true(is_only_outbound_nat(NEW_ID));
    /* The old client endpoint (10.224.0.45) belongs to no pod now: untouched. */
    assert_true(is_only_outbound_nat(CLIENT_ID));
}

static void test_ctl_pods_of_other_nodes_ignored(void **state)
{
    cx.opt.node_name = "another-node";
    cx_start();
    cx_cluster(POD_CLIENT, DEMO_POLICY);
    cx_settle();
    assert_int_equal(cx.ready_calls, 1);
    assert_int_equal(calls("modify"), 0);
    assert_true(metric("hnsnetpol_local_endpoints", NULL) == 0);
}

static void test_ctl_new_errors(void **state)
{
    struct hnp_controller *c = NULL;
    struct hnp_error err = {0};
    cx.opt.node_name = "";
    assert_int_equal(hnp_controller_new(&cx.opt, &c, &err), HNP_ERR_INVALID);
    assert_null(c);
    cx.opt.node_name = NODE;
    cx.opt.metrics = NULL;
    assert_int_equal(hnp_controller_new(&cx.opt, &c, &err), HNP_ERR_INVALID);
    assert_null(c);
    hnp_controller_free(NULL);
}

/* ------------------------------------------------------------------------ */
/* The agent with its threads (integration)                                 */

/* Start, push the demo, wait until the server endpoint carries its ACLs. */
static void converge_demo(void)
{
    start_agent();
    push_cluster(POD_CLIENT, DEMO_POLICY);
    assert_true(wait_for(server_has_acls, NULL));
}

static void test_initial_sync_applies_demo(void **state)
{
    converge_demo();
    settle();
    /* One Update, for the server; the client is selected by nothing and untouched. */
    assert_int_equal(calls("modify"), 1);
    assert_true(is_only_outbound_nat(CLIENT_ID));
    json_t *policies = policies_of(SERVER_ID);
    json_t *nat = hnp_test_json(OUTBOUND_NAT);
    assert_true(json_equal(json_array_get(policies, 0), nat)); /* foreign first, unchanged */
    json_decref(nat);
    json_decref(policies);
    /* client (run=client, no app=client) -> server:80 is denied; the kubelet's probes pass. */
    assert_false(endpoint_allows(SERVER_ID, HNP_ACL_IN, CLIENT_IP, 6, 80));
    assert_true(endpoint_allows(SERVER_ID, HNP_ACL_IN, "10.224.0.4", 6, 80));
    assert_true(endpoint_allows(SERVER_ID, HNP_ACL_OUT, "8.8.8.8", 17, 53));
    assert_true(ready_called(NULL));

    assert_true(metric("hnsnetpol_local_endpoints", NULL) == 2);
    assert_true(metric("hnsnetpol_acl_rules", NULL) == (double)ours_on(SERVER_ID));
    assert_true(metric("hnsnetpol_policies", "state=\"known\"") == 1);
    assert_true(metric("hnsnetpol_policies", "state=\"applied\"") == 1);
    assert_true(metric("hnsnetpol_policies", "state=\"rejected\"") == 0);
    assert_true(metric("hnsnetpol_hns_calls_total", "operation=\"modify\"") == 1);
    assert_true(metric("hnsnetpol_hns_failures_total", "operation=\"modify\"") == 0);
    assert_true(metric("hnsnetpol_hns_call_duration_seconds", "operation=\"list\"") >= 1);
    struct metric_is synced = {"hnsnetpol_last_sync_timestamp_seconds", NULL, 1};
    assert_true(wait_for(metric_at_least, &synced));
    assert_true(metric("hnsnetpol_sync_duration_seconds", NULL) >= 1);
    assert_int_equal(posts_count(), 0);

    /* kubectl label pod client app=client: the connection is allowed, with one more Update. */
    upsert(HNP_KIND_POD, POD_CLIENT_LABELLED);
    assert_true(wait_for(client_reaches_server, NULL));
    assert_true(server_has_acls(NULL)); /* allowed by a rule, not by the absence of ACLs */
    settle();
    assert_int_equal(calls("modify"), 2);
    assert_true(is_only_outbound_nat(CLIENT_ID));

    /* A stop leaves the ACLs enforced. */
    size_t before = ours_on(SERVER_ID);
    assert_int_equal(stop_agent(), HNP_OK);
    assert_int_equal(ours_on(SERVER_ID), before);
    assert_int_equal(source.stops, source.starts);
}

static void test_unsupported_policy_rejected(void **state)
{
    start_agent();
    push_cluster(POD_CLIENT, UNSUPPORTED("1", "40"));
    struct metric_is rejected = {"hnsnetpol_policies", "state=\"rejected\"", 1};
    assert_true(wait_for(metric_equals, &rejected));
    size_t one = 1;
    assert_true(wait_for(posts_at_least, &one));
    settle();
    assert_int_equal(calls("modify"), 0);
    assert_int_equal(ours_on(SERVER_ID), 0);
    assert_true(metric("hnsnetpol_policies", "state=\"applied\"") == 0);
    assert_true(metric("hnsnetpol_policies_rejected", "feature=\"namedPort\"") == 1);
    assert_true(metric("hnsnetpol_policies_rejected", "feature=\"negativeSelector\"") == 1);
    assert_true(metric("hnsnetpol_policies_rejected", "feature=\"sctp\"") == 0);

    /* The Event on the policy. */
    assert_int_equal(posts_count(), 1);
    json_t *post = post_at(0);
    assert_string_equal(json_string_value(json_object_get(post, "method")), "POST");
    assert_string_equal(json_string_value(json_object_get(post, "path")),
                        "/api/v1/namespaces/demo/events");
    json_t *body = json_object_get(post, "body");
    assert_string_equal(json_string_value(json_object_get(body, "reason")), "UnsupportedOnWindows");
    assert_string_equal(json_string_value(json_object_get(body, "type")), "Warning");
    json_t *involved = json_object_get(body, "involvedObject");
    assert_string_equal(json_string_value(json_object_get(involved, "kind")), "NetworkPolicy");
    assert_string_equal(json_string_value(json_object_get(involved, "name")), "web-from-non-debug");
    assert_string_equal(json_string_value(json_object_get(involved, "uid")), "pol-u");
    const char *message = json_string_value(json_object_get(body, "message"));
    assert_non_null(strstr(message, NODE ": "));
    assert_non_null(strstr(message, "namedPort at spec.ingress[0].ports[0].port"));
    assert_non_null(strstr(message, "negativeSelector at "));
    json_decref(post);

    /* The same generation again (a label change): no second Event. */
    upsert(HNP_KIND_POLICY, UNSUPPORTED("1", "41"));
    settle();
    assert_int_equal(posts_count(), 1);
    /* A new generation, still unsupported: reported again. */
    upsert(HNP_KIND_POLICY, UNSUPPORTED("2", "42"));
    size_t two = 2;
    assert_true(wait_for(posts_at_least, &two));
    assert_int_equal(calls("modify"), 0);
    assert_int_equal(stop_agent(), HNP_OK);
    assert_int_equal(posts_count(), 2);
}

static void test_no_events_when_disabled(void **state)
{
    fx.opt.post_events = false;
    start_agent();
    push_cluster(POD_CLIENT, UNSUPPORTED("1", "40"));
    struct metric_is rejected = {"hnsnetpol_policies", "state=\"rejected\"", 1};
    assert_true(wait_for(metric_equals, &rejected));
    settle();
    assert_int_equal(stop_agent(), HNP_OK);
    assert_int_equal(posts_count(), 0);
    assert_int_equal(clients_made(), 0);
}

static void test_isolate_mode(void **state)
{
    fx.opt.unsupported = HNP_UNSUPPORTED_ISOLATE;
    start_agent();
    push_cluster(POD_CLIENT_LABELLED, UNSUPPORTED("1", "40"));
    assert_true(wait_for(server_has_acls, NULL));
    /* Isolated for ingress, nothing of the policy allowed; egress stays open. */
    assert_false(endpoint_allows(SERVER_ID, HNP_ACL_IN, CLIENT_IP, 6, 80));
    assert_true(endpoint_allows(SERVER_ID, HNP_ACL_OUT, "8.8.8.8", 17, 53));
    assert_true(is_only_outbound_nat(CLIENT_ID));
    assert_true(metric("hnsnetpol_policies", "state=\"rejected\"") == 1);
    assert_true(metric("hnsnetpol_policies", "state=\"applied\"") == 1);
    size_t one = 1;
    assert_true(wait_for(posts_at_least, &one));
    json_t *post = post_at(0);
    const char *message =
        json_string_value(json_object_get(json_object_get(post, "body"), "message"));
    assert_non_null(strstr(message, "isolate"));
    json_decref(post);
    assert_int_equal(stop_agent(), HNP_OK);
}

static void test_hung_call_abandoned(void **state)
{
    fx.opt.hns_timeout_ms = 300;
    edit_state(set_faults_edit, "{\"latency_ms\": {\"modify\": 1200}}");
    start_agent();
    push_cluster(POD_CLIENT, DEMO_POLICY);
    /* The modify hangs past the timeout: reported as a failure. */
    struct metric_is failed = {"hnsnetpol_hns_failures_total", "operation=\"modify\"", 1};
    assert_true(wait_for(metric_at_least, &failed));
    /* The rest goes on: endpoints are still listed while calls hang. */
    struct at_least lists = {"list", calls("list") + 2};
    assert_true(wait_for(calls_at_least, &lists));
    /* HNS recovers: the endpoint converges. */
    edit_state(set_faults_edit, "{}");
    assert_true(wait_for(server_has_acls, NULL));
    struct metric_is synced = {"hnsnetpol_last_sync_timestamp_seconds", NULL, 1};
    assert_true(wait_for(metric_at_least, &synced));
    settle();
    assert_false(endpoint_allows(SERVER_ID, HNP_ACL_IN, CLIENT_IP, 6, 80));
    /* Every abandoned call returns in the end, and is reaped. */
    struct metric_is none_hung = {"hnsnetpol_hns_abandoned_calls", NULL, 0};
    assert_true(wait_for(metric_equals, &none_hung));
    assert_int_equal(stop_agent(), HNP_OK);
}

static void test_cleanup_on_exit(void **state)
{
    fx.opt.cleanup_on_exit = true;
    converge_demo();
    assert_int_equal(stop_agent(), HNP_OK);
    assert_true(is_only_outbound_nat(SERVER_ID));
    assert_true(is_only_outbound_nat(CLIENT_ID));
    assert_int_equal(calls("modify"), 2);
}

/* ---- HTTP: /readyz and /metrics ---- */

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
    char *buf = ctx;
    size_t used = strlen(buf), len = size * n;
    size_t room = 65535 - used;
    memcpy(buf + used, data, len < room ? len : room);
    buf[used + (len < room ? len : room)] = '\0';
    return len;
}

static long http_get(const char *path, char *body)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", __atomic_load_n(&fx.port, __ATOMIC_SEQ_CST),
             path);
    body[0] = '\0';
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    long status = 0;
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    return status;
}

static bool readyz_ok(void *ctx)
{
    char *body = ctx;
    return http_get("/readyz", body) == 200;
}

static void test_http_probes(void **state)
{
    fx.opt.metrics_addr = "127.0.0.1:0";
    start_agent();
    assert_true(__atomic_load_n(&fx.port, __ATOMIC_SEQ_CST) != 0);
    static char body[65536];
    assert_int_equal(http_get("/healthz", body), 200);
    assert_int_equal(http_get("/readyz", body), 503);
    assert_non_null(strstr(body, "initial sync"));
    push_cluster(POD_CLIENT, DEMO_POLICY);
    assert_true(wait_for(readyz_ok, body));
    assert_true(wait_for(server_has_acls, NULL));
    settle();
    assert_int_equal(http_get("/metrics", body), 200);
    assert_non_null(strstr(body, "hnsnetpol_local_endpoints 2"));
    assert_non_null(strstr(body, "hnsnetpol_hns_calls_total{operation=\"modify\"} 1"));
    assert_non_null(strstr(body, "hnsnetpol_policies{state=\"known\"} 1"));
    assert_non_null(strstr(body, "# TYPE hnsnetpol_hns_call_duration_seconds histogram"));

    /* HNS lists fail: not ready, with the reason. */
    edit_state(set_faults_edit, "{\"fail\": [{\"operation\": \"list\", \"count\": 1000000, "
                                "\"code\": \"0x803B0020\"}]}");
    long long until = now_ms() + WAIT_MS;
    while (http_get("/readyz", body) == 200 && now_ms() < until)
        sleep_ms(10);
    assert_non_null(strstr(body, "HNS"));
    edit_state(set_faults_edit, "{}");
    assert_true(wait_for(readyz_ok, body));
    assert_int_equal(stop_agent(), HNP_OK);
}

/* ---- through the real reflectors, against a scripted API server ---- */

static struct {
    pthread_mutex_t mu;
    json_t *items; /* resource -> list items */
    json_t *lines; /* resource -> watch lines not yet streamed */
    int watches;   /* streams open */
} apiserver = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* "pods" for "/api/v1/pods?...", ... ; NULL for anything else. */
static const char *resource_of(const char *path)
{
    static const char *const prefixes[][2] = {
        {"/api/v1/namespaces?", "namespaces"},
        {"/api/v1/pods?", "pods"},
        {"/apis/networking.k8s.io/v1/networkpolicies?", "networkpolicies"},
    };
    for (size_t i = 0; i < 3; i++) {
        if (strncmp(path, prefixes[i][0], strlen(prefixes[i][0])) == 0)
            return prefixes[i][1];
    }
    return NULL;
}

static enum hnp_err apiserver_request(struct hnp_kube_client *client, const char *method,
                                      const char *path, const json_t *body,
                                      const char *content_type, size_t max_body, long *status,
                                      json_t **response, struct hnp_error *err)
{
    if (strcmp(method, "GET") != 0)
        return api_request(client, method, path, body, content_type, max_body, status, response,
                           err);
    const char *resource = resource_of(path);
    pthread_mutex_lock(&apiserver.mu);
    json_t *items = resource ? json_object_get(apiserver.items, resource) : NULL;
    json_t *list =
        items ? json_pack("{s:{s:s}, s:O}", "metadata", "resourceVersion", "100", "items", items)
              : NULL;
    pthread_mutex_unlock(&apiserver.mu);
    *status = list ? 200 : 404;
    if (response != NULL)
        *response = list;
    else
        json_decref(list);
    return HNP_OK;
}

static enum hnp_err apiserver_stream(struct hnp_kube_client *client, const char *path,
                                     hnp_kube_line_fn fn, void *ctx, const volatile int *stop,
                                     size_t max_line, long idle_timeout_ms, struct hnp_error *err)
{
    const char *resource = resource_of(path);
    if (resource == NULL)
        return HNP_ERR_HTTP;
    pthread_mutex_lock(&apiserver.mu);
    apiserver.watches++;
    pthread_mutex_unlock(&apiserver.mu);
    enum hnp_err rc = HNP_ERR_STOPPED;
    while (stop == NULL || !*stop) {
        pthread_mutex_lock(&apiserver.mu);
        json_t *lines = json_object_get(apiserver.lines, resource);
        json_t *line = json_incref(json_array_get(lines, 0));
        if (line != NULL)
            json_array_remove(lines, 0);
        pthread_mutex_unlock(&apiserver.mu);
        if (line == NULL) {
            sleep_ms(10);
            continue;
        }
        rc = fn(json_string_value(line), json_string_length(line), ctx);
        json_decref(line);
        if (rc != HNP_OK)
            break;
        rc = HNP_ERR_STOPPED;
    }
    pthread_mutex_lock(&apiserver.mu);
    apiserver.watches--;
    pthread_mutex_unlock(&apiserver.mu);
    return rc;
}

static const struct hnp_watch_transport apiserver_transport = {
    .client_new = api_client_new,
    .client_free = api_client_free,
    .request = apiserver_request,
    .stream = apiserver_stream,
};

/* Queue a watch event {"type": type, "object": object} for resource. */
static void watch_event(const char *resource, const char *type, const char *object,
                        const char *kind)
{
    json_t *obj = hnp_test_json(object);
    json_object_set_new(obj, "kind", json_string(kind));
    json_t *ev = json_pack("{s:s, s:o}", "type", type, "object", obj);
    char *text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    pthread_mutex_lock(&apiserver.mu);
    json_array_append_new(json_object_get(apiserver.lines, resource), json_string(text));
    pthread_mutex_unlock(&apiserver.mu);
    free(text);
}

static bool three_watches(void *ctx)
{
    pthread_mutex_lock(&apiserver.mu);
    bool all = apiserver.watches == 3;
    pthread_mutex_unlock(&apiserver.mu);
    return all;
}

static void test_with_reflectors(void **state)
{
    pthread_mutex_lock(&apiserver.mu);
    apiserver.items =
        json_pack("{s:[o], s:[o,o], s:[]}", "namespaces", hnp_test_json(NS_DEMO), "pods",
                  hnp_test_json(POD_SERVER), hnp_test_json(POD_CLIENT), "networkpolicies");
    apiserver.lines = json_pack("{s:[], s:[], s:[]}", "namespaces", "pods", "networkpolicies");
    pthread_mutex_unlock(&apiserver.mu);
    fx.opt.test = (struct hnp_agent_test_hooks){.events_transport = &apiserver_transport,
                                                .watch_transport = &apiserver_transport};

    fx.stop = 0;
    assert_int_equal(pthread_create(&fx.thread, NULL, agent_thread, NULL), 0);
    fx.running = true;
    assert_true(wait_for(ready_called, NULL));
    assert_true(wait_for(three_watches, NULL));
    settle();
    assert_int_equal(calls("modify"), 0);
    assert_true(metric("hnsnetpol_local_endpoints", NULL) == 2);

    /* kubectl apply -f demo-policy.yaml */
    watch_event("networkpolicies", "ADDED", DEMO_POLICY, "NetworkPolicy");
    assert_true(wait_for(server_has_acls, NULL));
    assert_false(endpoint_allows(SERVER_ID, HNP_ACL_IN, CLIENT_IP, 6, 80));
    /* kubectl label pod client app=client */
    watch_event("pods", "MODIFIED",
                POD_RV("client", "{\"run\":\"client\",\"app\":\"client\"}", CLIENT_IP, "101"),
                "Pod");
    assert_true(wait_for(client_reaches_server, NULL));
    assert_true(server_has_acls(NULL));
    /* An unsupported policy: not applied, and an Event on it. */
    watch_event("networkpolicies", "ADDED", UNSUPPORTED("1", "102"), "NetworkPolicy");
    size_t one = 1;
    assert_true(wait_for(posts_at_least, &one));
    json_t *post = post_at(0);
    assert_string_equal(json_string_value(json_object_get(post, "path")),
                        "/api/v1/namespaces/demo/events");
    json_decref(post);
    /* kubectl delete networkpolicy demo-policy */
    watch_event("networkpolicies", "DELETED", POLICY("demo-policy", "1", "103", "80"),
                "NetworkPolicy");
    assert_true(wait_for(server_has_no_acls, NULL));
    assert_true(is_only_outbound_nat(SERVER_ID));
    assert_int_equal(stop_agent(), HNP_OK);
    assert_true(metric("hnsnetpol_policies", "state=\"rejected\"") == 1);

    pthread_mutex_lock(&apiserver.mu);
    json_decref(apiserver.items);
    json_decref(apiserver.lines);
    apiserver.items = apiserver.lines = NULL;
    pthread_mutex_unlock(&apiserver.mu);
}

/* ---- start-up errors ---- */

static int started_calls(void)
{
    return __atomic_load_n(&fx.started_calls, __ATOMIC_SEQ_CST);
}

static void test_startup_errors(void **state)
{
    struct hnp_error err = {0};
    volatile int stop = 1;
    fx.opt.node_name = "";
    assert_int_equal(hnp_agent_run(&fx.opt, &stop, &err), HNP_ERR_INVALID);
    fx.opt.node_name = NODE;
    const struct hnp_hns_class *mock = fx.opt.hns_class;
    const struct hnp_hns_class *cls = NULL;
    const char *arg = NULL;
    assert_int_equal(hnp_hns_parse_spec("nonsense", &cls, &arg, &err), HNP_ERR_USAGE);
    fx.opt.hns_class = NULL;
    assert_int_equal(hnp_agent_run(&fx.opt, &stop, &err), HNP_ERR_USAGE);
    fx.opt.hns_class = hnp_hns_class_find("hcn");
    assert_int_equal(hnp_agent_run(&fx.opt, &stop, &err), HNP_ERR_UNSUPPORTED);
    fx.opt.hns_class = mock;
    fx.opt.metrics_addr = "not an address";
    assert_int_equal(hnp_agent_run(&fx.opt, &stop, &err), HNP_ERR_INVALID);
    /* The last step of start-up fails: the watches. */
    fx.opt.metrics_addr = "";
    source.fail = true;
    assert_int_equal(hnp_agent_run(&fx.opt, &stop, &err), HNP_ERR_HTTP);
    assert_int_equal(source.starts, source.stops);
    /* A start-up that failed never says it started (the service reports no RUNNING). */
    assert_int_equal(started_calls(), 0);
    /* Stop asked before anything happened: a clean, immediate stop, after the loop started. */
    assert_int_equal(hnp_agent_run(&fx.opt, &stop, &err), HNP_OK);
    assert_int_equal(calls("modify"), 0);
    assert_int_equal(started_calls(), 1);
    assert_int_equal(__atomic_load_n(&fx.ready_calls, __ATOMIC_SEQ_CST), 0);
}

/* ---- the started callback (the Windows service reports RUNNING from it) ---- */

static bool agent_loop_started(void *ctx)
{
    return started_calls() > 0;
}

static void test_started_callback(void **state)
{
    /* Called when the loop starts, before the initial sync: nothing was pushed yet. */
    start_agent();
    assert_true(wait_for(agent_loop_started, NULL));
    assert_int_equal(__atomic_load_n(&fx.ready_calls_when_started, __ATOMIC_SEQ_CST), 0);
    assert_int_equal(__atomic_load_n(&fx.ready_calls, __ATOMIC_SEQ_CST), 0);
    push_cluster(POD_CLIENT, DEMO_POLICY);
    assert_true(wait_for(ready_called, NULL));
    assert_true(wait_for(server_has_acls, NULL));
    settle();
    /* Once: not again at the sync, on later passes or at the stop. */
    assert_int_equal(stop_agent(), HNP_OK);
    assert_int_equal(started_calls(), 1);
    assert_int_equal(__atomic_load_n(&fx.ready_calls, __ATOMIC_SEQ_CST), 1);

    /* Unset: the agent runs the same without it. */
    fx.opt.started = NULL;
    start_agent();
    push_cluster(POD_CLIENT, DEMO_POLICY);
    assert_true(wait_for(ready_called, NULL));
    assert_int_equal(stop_agent(), HNP_OK);
    assert_int_equal(started_calls(), 0);
}

/* ---- the Event body ---- */

static void test_rejection_event_body(void **state)
{
    struct hnp_strtab *tab = hnp_strtab_new();
    json_t *obj = hnp_test_json(UNSUPPORTED("3", "77"));
    struct hnp_policy *policy = NULL;
    assert_int_equal(hnp_policy_from_json(obj, tab, NULL, &policy, NULL), HNP_OK);
    assert_true(hnp_policy_rejected(policy));
    /* 2026-11-28T07:50:00.123Z */
    json_t *ev = hnp_agent_rejection_event(policy, NODE, HNP_UNSUPPORTED_REJECT, 1795852200123LL);
    assert_non_null(ev);
    assert_string_equal(json_string_value(json_object_get(ev, "apiVersion")), "v1");
    assert_string_equal(json_string_value(json_object_get(ev, "kind")), "Event");
    json_t *meta = json_object_get(ev, "metadata");
    assert_string_equal(json_string_value(json_object_get(meta, "generateName")),
                        "web-from-non-debug.");
    assert_string_equal(json_string_value(json_object_get(meta, "namespace")), "demo");
    json_t *inv = json_object_get(ev, "involvedObject");
    assert_string_equal(json_string_value(json_object_get(inv, "apiVersion")),
                        "networking.k8s.io/v1");
    assert_string_equal(json_string_value(json_object_get(inv, "namespace")), "demo");
    assert_string_equal(json_string_value(json_object_get(inv, "resourceVersion")), "77");
    assert_string_equal(json_string_value(json_object_get(ev, "firstTimestamp")),
                        "2026-11-28T07:50:00Z");
    assert_string_equal(json_string_value(json_object_get(ev, "lastTimestamp")),
                        "2026-11-28T07:50:00Z");
    assert_int_equal(json_integer_value(json_object_get(ev, "count")), 1);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(ev, "source"), "component")),
        "hnsnetpol");
    assert_string_equal(json_string_value(json_object_get(json_object_get(ev, "source"), "host")),
                        NODE);
    assert_string_equal(json_string_value(json_object_get(ev, "reportingComponent")), "hnsnetpol");
    assert_string_equal(json_string_value(json_object_get(ev, "reportingInstance")), NODE);
    const char *message = json_string_value(json_object_get(ev, "message"));
    assert_true(strncmp(message, NODE ": ", strlen(NODE) + 2) == 0);
    assert_non_null(strstr(message, "--unsupported-policy=reject"));
    json_decref(ev);

    /* Many findings: the message is cut at 1024 bytes, keeping what the agent does. */
    json_t *ports = json_array();
    for (int i = 0; i < 200; i++)
        json_array_append_new(ports, json_pack("{s:s}", "port", "http"));
    json_object_set_new(json_array_get(json_object_get(json_object_get(obj, "spec"), "ingress"), 0),
                        "ports", ports);
    hnp_policy_free(policy);
    assert_int_equal(hnp_policy_from_json(obj, tab, NULL, &policy, NULL), HNP_OK);
    ev = hnp_agent_rejection_event(policy, NODE, HNP_UNSUPPORTED_ISOLATE, 0);
    message = json_string_value(json_object_get(ev, "message"));
    assert_true(strlen(message) <= 1024);
    assert_non_null(strstr(message, "...; "));
    assert_non_null(strstr(message, "--unsupported-policy=isolate"));
    json_decref(ev);
    hnp_policy_free(policy);
    json_decref(obj);
    hnp_strtab_free(tab);
}

/* ---- the inbox on its own ---- */

struct blocked_sink {
    struct hnp_inbox *in;
    size_t bytes;
};

static void *sink_thread(void *arg)
{
    struct blocked_sink *b = arg;
    struct hnp_watch_event ev = {
        .kind = HNP_KIND_POD, .type = HNP_WATCH_UPSERT, .object = json_object(), .bytes = b->bytes};
    hnp_inbox_sink(&ev, b->in);
    return NULL;
}

static void test_inbox(void **state)
{
    struct hnp_inbox in;
    assert_int_equal(hnp_inbox_init(&in), HNP_OK);
    /* Empty: take waits for the deadline and returns nothing. */
    struct hnp_queued_event *events = NULL;
    struct hnp_hns_job *jobs = NULL;
    long long start = now_ms();
    hnp_inbox_take(&in, start + 50, &events, &jobs);
    assert_true(now_ms() - start >= 50);
    assert_null(events);
    assert_null(jobs);

    /* Events and jobs come out in the order they went in; the objects are stolen. */
    struct hnp_watch_event a = {.kind = HNP_KIND_NAMESPACE,
                                .type = HNP_WATCH_UPSERT,
                                .object = hnp_test_json(NS_DEMO),
                                .bytes = 10};
    hnp_inbox_sink(&a, &in);
    struct hnp_watch_event b = {.kind = HNP_KIND_POD, .type = HNP_WATCH_SYNCED};
    hnp_inbox_sink(&b, &in);
    hnp_inbox_job_done(hnp_hns_job_new(HNP_HNS_LIST, NULL, NULL), &in);
    hnp_inbox_job_done(hnp_hns_job_new(HNP_HNS_QUERY, "x", NULL), &in);
    assert_int_equal(in.n_events, 2);
    assert_int_equal(in.n_bytes, 10);
    start = now_ms();
    hnp_inbox_take(&in, start + WAIT_MS, &events, &jobs); /* at once: something is there */
    assert_true(now_ms() - start < WAIT_MS);
    assert_non_null(events);
    assert_int_equal(events->ev.kind, HNP_KIND_NAMESPACE);
    assert_non_null(events->ev.object);
    assert_non_null(events->next);
    assert_int_equal(events->next->ev.type, HNP_WATCH_SYNCED);
    assert_null(events->next->next);
    assert_int_equal(jobs->op, HNP_HNS_LIST);
    assert_int_equal(jobs->next->op, HNP_HNS_QUERY);
    assert_null(jobs->next->next);
    assert_int_equal(in.n_events, 0);
    assert_int_equal(in.n_bytes, 0);
    hnp_inbox_free_events(events);
    hnp_inbox_free_jobs(jobs);

    /* One event larger than the byte bound still goes in, alone; the next waits for room. */
    struct blocked_sink big = {&in, HNP_INBOX_MAX_BYTES + 1};
    sink_thread(&big);
    assert_int_equal(in.n_events, 1);
    pthread_t thread;
    struct blocked_sink next = {&in, 1};
    assert_int_equal(pthread_create(&thread, NULL, sink_thread, &next), 0);
    /* Taking makes room: the waiting sink's event comes next. */
    hnp_inbox_take(&in, now_ms() + WAIT_MS, &events, &jobs);
    assert_non_null(events);
    assert_int_equal(events->ev.bytes, HNP_INBOX_MAX_BYTES + 1);
    hnp_inbox_free_events(events);
    hnp_inbox_take(&in, now_ms() + WAIT_MS, &events, &jobs);
    assert_non_null(events);
    assert_int_equal(events->ev.bytes, 1);
    hnp_inbox_free_events(events);
    pthread_join(thread, NULL);

    /* Closed: a sink blocked on a full queue returns, and later events are dropped. */
    sink_thread(&big);
    assert_int_equal(pthread_create(&thread, NULL, sink_thread, &next), 0);
    hnp_inbox_close(&in);
    pthread_join(thread, NULL);
    sink_thread(&next);
    assert_int_equal(in.n_events, 1);
    hnp_inbox_destroy(&in); /* frees what is still queued */
}

/* ---- the worker on its own ---- */

struct collected {
    pthread_mutex_t mu;
    struct hnp_hns_job *jobs;
    int n;
};

static void collect_job(struct hnp_hns_job *job, void *ctx)
{
    struct collected *c = ctx;
    pthread_mutex_lock(&c->mu);
    job->next = c->jobs;
    c->jobs = job;
    c->n++;
    pthread_mutex_unlock(&c->mu);
}

static bool collected_one(void *ctx)
{
    struct collected *c = ctx;
    pthread_mutex_lock(&c->mu);
    bool done = c->n > 0;
    pthread_mutex_unlock(&c->mu);
    return done;
}

static void test_worker(void **state)
{
    struct collected c = {.mu = PTHREAD_MUTEX_INITIALIZER};
    struct hnp_hns *hns;
    assert_int_equal(hnp_hns_open(fx.spec, &hns, NULL), HNP_OK);
    struct hnp_hns_worker *w;
    assert_int_equal(hnp_hns_worker_start(hns, collect_job, &c, &w), HNP_OK);
    hnp_hns_worker_submit(w, hnp_hns_job_new(HNP_HNS_LIST, NULL, NULL));
    assert_true(wait_for(collected_one, &c));
    assert_int_equal(c.jobs->rc, HNP_OK);
    assert_int_equal(c.jobs->n_eps, 2);
    assert_string_equal(hnp_hns_op_name(c.jobs->op), "list");
    hnp_hns_job_free(c.jobs);
    c.jobs = NULL;
    c.n = 0;
    hnp_hns_worker_submit(w, hnp_hns_job_new(HNP_HNS_QUERY, "no-such-endpoint", NULL));
    assert_true(wait_for(collected_one, &c));
    assert_int_equal(c.jobs->rc, HNP_ERR_NOT_FOUND);
    hnp_hns_job_free(c.jobs);
    c.jobs = NULL;
    c.n = 0;
    hnp_hns_worker_stop(w);

    /* A hung call: abandoned, it never reports, and its thread ends on its own. */
    edit_state(set_faults_edit, "{\"latency_ms\": {\"list\": 300}}");
    assert_int_equal(hnp_hns_open(fx.spec, &hns, NULL), HNP_OK);
    assert_int_equal(hnp_hns_worker_start(hns, collect_job, &c, &w), HNP_OK);
    hnp_hns_worker_submit(w, hnp_hns_job_new(HNP_HNS_LIST, NULL, NULL));
    hnp_hns_worker_abandon(w);
    long long until = now_ms() + WAIT_MS;
    while (!hnp_hns_worker_exited(w) && now_ms() < until)
        sleep_ms(10);
    assert_true(hnp_hns_worker_exited(w));
    hnp_hns_worker_stop(w);
    assert_int_equal(c.n, 0);

    /* Detached once its thread has ended: joined and freed at once. */
    assert_int_equal(hnp_hns_open(fx.spec, &hns, NULL), HNP_OK);
    assert_int_equal(hnp_hns_worker_start(hns, collect_job, &c, &w), HNP_OK);
    hnp_hns_worker_abandon(w);
    until = now_ms() + WAIT_MS;
    while (!hnp_hns_worker_exited(w) && now_ms() < until)
        sleep_ms(10);
    assert_true(hnp_hns_worker_exited(w));
    hnp_hns_worker_detach(w);
    assert_int_equal(c.n, 0);
}

/* ---- the command line ---- */

static void test_parse_duration(void **state)
{
    long ms = 0;
    assert_true(hnp_parse_duration("100ms", &ms));
    assert_int_equal(ms, 100);
    assert_true(hnp_parse_duration("2s", &ms));
    assert_int_equal(ms, 2000);
    assert_true(hnp_parse_duration("5m", &ms));
    assert_int_equal(ms, 300000);
    assert_true(hnp_parse_duration("1h", &ms));
    assert_int_equal(ms, 3600000);
    assert_true(hnp_parse_duration("1m30s", &ms));
    assert_int_equal(ms, 90000);
    assert_true(hnp_parse_duration("24h", &ms));
    const char *bad[] = {
        "", "10", "s", "1.5s", "-1s", "0s", "2d", "25h", "1s ", " 1s", "99999999999999999999ms"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ms = 7;
        if (hnp_parse_duration(bad[i], &ms))
            fail_msg("\"%s\" accepted", bad[i]);
        assert_int_equal(ms, 7);
    }
}

/* Run the command line; out and err receive what it printed (static buffers). */
static int run_cli(int argc, char **argv, char **out_text, char **err_text)
{
    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    int code = hnp_cli_run_main(argc, argv, out, err);
    hnp_log_setup(HNP_LOG_WARN, HNP_LOG_TEXT, stderr); /* err closes below */
    static char obuf[16384], ebuf[16384];
    FILE *files[2] = {out, err};
    char *bufs[2] = {obuf, ebuf};
    for (int i = 0; i < 2; i++) {
        rewind(files[i]);
        size_t n = fread(bufs[i], 1, sizeof(obuf) - 1, files[i]);
        bufs[i][n] = '\0';
        fclose(files[i]);
    }
    *out_text = obuf;
    *err_text = ebuf;
    return code;
}

static void test_cli_usage(void **state)
{
    char *out, *err;
    char *help[] = {"run", "--help"};
    assert_int_equal(run_cli(2, help, &out, &err), 0);
    const char *expected[] = {"--kubeconfig",
                              "--context",
                              "--node-name",
                              "--hns",
                              "--node-ip",
                              "--metrics-addr",
                              "--batch-interval",
                              "--endpoint-poll-interval",
                              "--resync-interval",
                              "--hns-timeout",
                              "--unsupported-policy",
                              "--cleanup-on-exit",
                              "--no-events",
                              "--log-level",
                              "--log-format",
                              "127.0.0.1:9915",
                              "HostProcess",
                              "mock:",
                              "Exit codes"};
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        if (strstr(out, expected[i]) == NULL)
            fail_msg("--help does not mention %s", expected[i]);
    }

    struct {
        int argc;
        char *argv[6];
        const char *message;
    } bad[] = {
        {2, {"run", "--bogus"}, "unknown option"},
        {2, {"run", "stray"}, "unexpected argument"},
        {3, {"run", "--batch-interval", "fast"}, "not a duration"},
        {2, {"run", "--hns-timeout=0s"}, "not a duration"},
        {3, {"run", "--unsupported-policy", "ignore"}, "neither reject nor isolate"},
        {3, {"run", "--node-ip", "10.0.0.300"}, "not an IPv4 address"},
        {3, {"run", "--log-level", "loud"}, "--log-level"},
        {3, {"run", "--log-format", "xml"}, "--log-format"},
        {2, {"run", "--hns"}, "needs a value"},
        {2, {"run", "--cleanup-on-exit=yes"}, "takes no value"},
        /* No --hns where there is no HCN. */
        {3, {"run", "--node-name", "n1"}, "--hns is required"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int code = run_cli(bad[i].argc, bad[i].argv, &out, &err);
        if (code != 2 || strstr(err, bad[i].message) == NULL)
            fail_msg("case %zu: exit %d, stderr: %s", i, code, err);
    }
}

/* The agent options the CLI tests give hnp_cli_run_main_with(). */
static struct hnp_agent_options cli_base;

static void *cli_thread(void *arg)
{
    char **argv = arg;
    int argc = 0;
    while (argv[argc] != NULL)
        argc++;
    /* The agent's debug log goes to out: kept out of the test's output. */
    FILE *out = tmpfile();
    FILE *err = tmpfile();
    static int code;
    code = hnp_cli_run_main_with(argc, argv, &cli_base, out, err);
    hnp_log_setup(HNP_LOG_WARN, HNP_LOG_TEXT, stderr);
    fclose(out);
    fclose(err);
    return &code;
}

static void test_cli_runs_until_sigterm(void **state)
{
    char kubeconfig[360];
    snprintf(kubeconfig, sizeof(kubeconfig), "%s/kubeconfig", fx.dir);
    FILE *f = fopen(kubeconfig, "w");
    assert_non_null(f);
    fputs("apiVersion: v1\nkind: Config\n"
          "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n"
          "    insecure-skip-tls-verify: true\n"
          "users:\n- name: u\n  user:\n    token: not-a-real-token\n"
          "contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\n"
          "current-context: ctx\n",
          f);
    fclose(f);

    char *argv[] = {"run",
                    "--kubeconfig",
                    kubeconfig,
                    "--node-name",
                    NODE,
                    "--hns",
                    fx.spec,
                    "--metrics-addr=",
                    "--batch-interval",
                    "20ms",
                    "--endpoint-poll-interval",
                    "100ms",
                    "--resync-interval",
                    "1s",
                    "--hns-timeout",
                    "5s",
                    "--no-events",
                    "--log-level",
                    "debug",
                    NULL};
    /* The reflectors read the demo cluster from the scripted API server. */
    pthread_mutex_lock(&apiserver.mu);
    apiserver.items = json_pack("{s:[o], s:[o,o], s:[o]}", "namespaces", hnp_test_json(NS_DEMO),
                                "pods", hnp_test_json(POD_SERVER), hnp_test_json(POD_CLIENT),
                                "networkpolicies", hnp_test_json(DEMO_POLICY));
    apiserver.lines = json_pack("{s:[], s:[], s:[]}", "namespaces", "pods", "networkpolicies");
    pthread_mutex_unlock(&apiserver.mu);
    cli_base.test.watch_transport = &apiserver_transport;

    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, cli_thread, argv), 0);
    assert_true(wait_for(server_has_acls, NULL));
    assert_true(wait_for(three_watches, NULL));
    /*
     * The handlers are in place once the watches run: SIGTERM stops it
     * cleanly (raised here; the platform's stop handler takes it on Windows too).
     */
    assert_int_equal(raise(SIGTERM), 0);
    void *result;
    pthread_join(thread, &result);
    assert_int_equal(*(int *)result, 0);
    assert_true(ours_on(SERVER_ID) > 0); /* left enforced */
    unlink(kubeconfig);
    memset(&cli_base, 0, sizeof(cli_base));
    pthread_mutex_lock(&apiserver.mu);
    json_decref(apiserver.items);
    json_decref(apiserver.lines);
    apiserver.items = apiserver.lines = NULL;
    pthread_mutex_unlock(&apiserver.mu);
}

static void test_cli_bad_kubeconfig(void **state)
{
    char missing[360];
    snprintf(missing, sizeof(missing), "%s/no-such-kubeconfig", fx.dir);
    char *argv[] = {"run", "--kubeconfig", missing, "--node-name", NODE, "--hns", fx.spec};
    char *out, *err;
    assert_int_equal(run_cli(7, argv, &out, &err), 1);
    /* A log line, so on standard output with the rest of the log. */
    assert_non_null(strstr(out, "ERROR cannot use the API server configuration"));
    assert_non_null(strstr(out, "no-such-kubeconfig"));
}

int main(void)
{
    hnp_log_setup(HNP_LOG_WARN, HNP_LOG_TEXT, stderr);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ctl_initial_sync, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_restart_adopts_without_calls, cx_setup,
                                        cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_policy_delete_keeps_foreign, cx_setup,
                                        cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_unsupported_policy_rejected, cx_setup,
                                        cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_applied_policy_edited_to_unsupported, cx_setup,
                                        cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_isolate_mode, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_late_endpoint, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_new_pod_endpoint_listed_early, cx_setup,
                                        cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_vanished_endpoint_forgotten, cx_setup,
                                        cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_hns_faults_retried, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_list_failures_then_recovery, cx_setup,
                                        cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_drift_repaired, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_repeated_undo_backs_off, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_hung_call_abandoned, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_cleanup_on_exit, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_rebinding, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_pods_of_other_nodes_ignored, cx_setup,
                                        cx_teardown),
        cmocka_unit_test_setup_teardown(test_ctl_new_errors, cx_setup, cx_teardown),
        cmocka_unit_test_setup_teardown(test_initial_sync_applies_demo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_policy_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_events_when_disabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_isolate_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hung_call_abandoned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cleanup_on_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_probes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_with_reflectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_startup_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_started_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejection_event_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_worker, setup, teardown),
        cmocka_unit_test(test_inbox),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test_setup_teardown(test_cli_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_runs_until_sigterm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_bad_kubeconfig, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
