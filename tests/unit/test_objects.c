/*
 * test_objects.c - conversion of Namespace and Pod JSON into the engine's
 * structs: fields kept, defaults, IP handling, named ports, phases, and
 * HNP_ERR_SCHEMA with exact field paths for malformed objects.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/objects.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static int setup(void **state)
{
    struct hnp_strtab *tab = hnp_strtab_new();
    if (tab == NULL)
        return -1;
    *state = tab;
    return 0;
}

static int teardown(void **state)
{
    hnp_strtab_free(*state);
    return 0;
}

static json_t *load_json(const char *path)
{
    char *text = hnp_test_read_file(path, NULL);
    json_t *json = hnp_test_json(text);
    free(text);
    return json;
}

/* Convert pod JSON text that must be accepted. */
static struct hnp_pod *pod_of(struct hnp_strtab *tab, const char *text)
{
    json_t *json = hnp_test_json(text);
    struct hnp_pod *pod = NULL;
    struct hnp_error err;
    enum hnp_err rc = hnp_pod_from_json(json, tab, NULL, &pod, &err);
    if (rc != HNP_OK)
        fail_msg("pod rejected: %s: %s", err.where, err.message);
    json_decref(json);
    assert_non_null(pod);
    return pod;
}

static void test_pod_full(void **state)
{
    struct hnp_strtab *tab = *state;
    json_t *json = load_json("objects/pod-full.json");
    struct hnp_source src = {.file = "manifests/pods.json", .line = 42};
    struct hnp_pod *pod = NULL;
    struct hnp_error err;
    assert_int_equal(hnp_pod_from_json(json, tab, &src, &pod, &err), HNP_OK);
    json_decref(json);

    assert_string_equal(pod->name, "web-7d4b9c8f6d-x2k9p");
    assert_string_equal(pod->ns, "shop");
    assert_ptr_equal(pod->ns, hnp_strtab_find(tab, "shop"));
    assert_string_equal(pod->uid, "6b1d2a5e-3c4f-4e8a-b7d9-1f2e3a4b5c6d");
    assert_string_equal(pod->resource_version, "48213");
    assert_string_equal(pod->node, "akswin000001");
    assert_ptr_equal(pod->node, hnp_strtab_find(tab, "akswin000001"));

    assert_int_equal(pod->labels.count, 3);
    assert_string_equal(pod->labels.items[0].key, "app");
    assert_string_equal(pod->labels.items[1].key, "pod-template-hash");
    assert_string_equal(pod->labels.items[2].key, "tier");
    assert_ptr_equal(hnp_labels_get(&pod->labels, hnp_strtab_find(tab, "app")),
                     hnp_strtab_find(tab, "web"));

    /* podIPs first (IPv6 skipped), podIP deduplicated. */
    assert_int_equal(pod->n_ips, 2);
    assert_int_equal(pod->ips[0], IP(10, 244, 1, 17));
    assert_int_equal(pod->ips[1], IP(10, 244, 9, 3));
    assert_true(pod->has_host_ip);
    assert_int_equal(pod->host_ip, IP(10, 240, 0, 4));
    assert_false(pod->host_network);
    assert_int_equal(pod->phase, HNP_PHASE_RUNNING);

    /* Only ports with a name, in container then port order. */
    assert_int_equal(pod->n_ports, 3);
    assert_string_equal(pod->ports[0].name, "http");
    assert_int_equal(pod->ports[0].port, 80);
    assert_int_equal(pod->ports[0].protocol, HNP_PROTO_TCP);
    assert_string_equal(pod->ports[1].name, "mdns");
    assert_int_equal(pod->ports[1].port, 5353);
    assert_int_equal(pod->ports[1].protocol, HNP_PROTO_UDP);
    assert_string_equal(pod->ports[2].name, "metrics");
    assert_int_equal(pod->ports[2].port, 9090);
    assert_int_equal(pod->ports[2].protocol, HNP_PROTO_TCP); /* the default */

    assert_string_equal(pod->src.file, "manifests/pods.json");
    assert_ptr_equal(pod->src.file, hnp_strtab_find(tab, "manifests/pods.json"));
    assert_int_equal(pod->src.line, 42);
    assert_true(hnp_pod_is_endpoint(pod));
    hnp_pod_free(pod);
}

static void test_pod_minimal(void **state)
{
    struct hnp_strtab *tab = *state;
    struct hnp_pod *pod = pod_of(tab, "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}}");
    assert_string_equal(pod->name, "p");
    assert_string_equal(pod->ns, "default");
    assert_null(pod->uid);
    assert_null(pod->resource_version);
    assert_null(pod->node);
    assert_int_equal(pod->labels.count, 0);
    assert_int_equal(pod->n_ips, 0);
    assert_false(pod->has_host_ip);
    assert_false(pod->host_network);
    assert_int_equal(pod->phase, HNP_PHASE_UNKNOWN);
    assert_int_equal(pod->n_ports, 0);
    assert_null(pod->ports);
    assert_null(pod->src.file);
    assert_int_equal(pod->src.line, 0);
    assert_false(hnp_pod_is_endpoint(pod));
    hnp_pod_free(pod);
    hnp_pod_free(NULL);
}

/* JSON null counts as absent everywhere. */
static void test_pod_nulls(void **state)
{
    struct hnp_strtab *tab = *state;
    struct hnp_pod *pod = pod_of(
        tab,
        "{\"metadata\": {\"name\": \"p\", \"namespace\": null, \"labels\": null, \"uid\": null},"
        " \"spec\": {\"nodeName\": null, \"hostNetwork\": null, \"containers\": [{\"ports\":"
        " null}, {\"ports\": [null, {\"name\": \"x\", \"containerPort\": 1, \"protocol\":"
        " null}]}]}, \"status\": {\"phase\": null, \"podIPs\": null, \"podIP\": null,"
        " \"hostIP\": null}}");
    assert_string_equal(pod->ns, "default");
    assert_null(pod->uid);
    assert_null(pod->node);
    assert_int_equal(pod->n_ips, 0);
    assert_false(pod->has_host_ip);
    assert_int_equal(pod->n_ports, 1);
    assert_int_equal(pod->ports[0].port, 1);
    assert_int_equal(pod->ports[0].protocol, HNP_PROTO_TCP);
    hnp_pod_free(pod);

    pod = pod_of(tab, "{\"metadata\": {\"name\": \"p\"}, \"spec\": null, \"status\": null}");
    assert_int_equal(pod->phase, HNP_PHASE_UNKNOWN);
    hnp_pod_free(pod);
}

static void test_pod_ips(void **state)
{
    struct hnp_strtab *tab = *state;
    /* Only podIP (older clusters). */
    struct hnp_pod *pod =
        pod_of(tab, "{\"metadata\": {\"name\": \"p\"}, \"status\": {\"podIP\": \"10.1.2.3\"}}");
    assert_int_equal(pod->n_ips, 1);
    assert_int_equal(pod->ips[0], IP(10, 1, 2, 3));
    hnp_pod_free(pod);

    /* podIP different from podIPs is appended after them. */
    pod = pod_of(tab, "{\"metadata\": {\"name\": \"p\"}, \"status\": {\"podIPs\": [{\"ip\":"
                      " \"10.0.0.2\"}], \"podIP\": \"10.0.0.1\"}}");
    assert_int_equal(pod->n_ips, 2);
    assert_int_equal(pod->ips[0], IP(10, 0, 0, 2));
    assert_int_equal(pod->ips[1], IP(10, 0, 0, 1));
    hnp_pod_free(pod);

    /* IPv6-only pod: no IP, not an endpoint; IPv6 hostIP ignored. */
    pod = pod_of(tab, "{\"metadata\": {\"name\": \"p\"}, \"status\": {\"phase\": \"Running\","
                      " \"podIPs\": [{\"ip\": \"fd00::5\"}], \"podIP\": \"fd00::5\","
                      " \"hostIP\": \"2001:db8::1\"}}");
    assert_int_equal(pod->n_ips, 0);
    assert_false(pod->has_host_ip);
    assert_false(hnp_pod_is_endpoint(pod));
    hnp_pod_free(pod);

    /* At most HNP_POD_MAX_IPS, duplicates dropped, order kept. */
    pod = pod_of(tab, "{\"metadata\": {\"name\": \"p\"}, \"status\": {\"podIPs\": ["
                      "{\"ip\": \"1.1.1.1\"}, {\"ip\": \"1.1.1.1\"}, {\"ip\": \"2.2.2.2\"},"
                      "{\"ip\": \"3.3.3.3\"}, {\"ip\": \"::1\"}, {\"ip\": \"4.4.4.4\"},"
                      "{\"ip\": \"5.5.5.5\"}, {}], \"podIP\": \"6.6.6.6\"}}");
    assert_int_equal(pod->n_ips, HNP_POD_MAX_IPS);
    assert_int_equal(pod->ips[0], IP(1, 1, 1, 1));
    assert_int_equal(pod->ips[1], IP(2, 2, 2, 2));
    assert_int_equal(pod->ips[2], IP(3, 3, 3, 3));
    assert_int_equal(pod->ips[3], IP(4, 4, 4, 4));
    hnp_pod_free(pod);

    /* An empty podIP (pending pod) is no address. */
    pod = pod_of(tab, "{\"metadata\": {\"name\": \"p\"}, \"status\": {\"phase\": \"Pending\","
                      " \"podIP\": \"\", \"hostIP\": \"\"}}");
    assert_int_equal(pod->n_ips, 0);
    assert_false(pod->has_host_ip);
    assert_int_equal(pod->phase, HNP_PHASE_PENDING);
    hnp_pod_free(pod);
}

static void test_pod_host_network(void **state)
{
    struct hnp_strtab *tab = *state;
    json_t *json = load_json("objects/pod-hostnetwork.json");
    struct hnp_pod *pod = NULL;
    assert_int_equal(hnp_pod_from_json(json, tab, NULL, &pod, NULL), HNP_OK);
    json_decref(json);
    assert_true(pod->host_network);
    assert_string_equal(pod->ns, "kube-system");
    assert_int_equal(pod->n_ips, 1);
    assert_int_equal(pod->ips[0], IP(10, 240, 0, 4));
    assert_false(hnp_pod_is_endpoint(pod));
    hnp_pod_free(pod);

    pod = pod_of(tab, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"hostNetwork\": false},"
                      " \"status\": {\"podIP\": \"10.0.0.1\"}}");
    assert_false(pod->host_network);
    assert_true(hnp_pod_is_endpoint(pod)); /* phase Unknown still counts */
    hnp_pod_free(pod);
}

static void test_pod_phases(void **state)
{
    static const struct {
        const char *phase;
        enum hnp_pod_phase want;
        bool endpoint;
    } cases[] = {
        {"Pending", HNP_PHASE_PENDING, true},      {"Running", HNP_PHASE_RUNNING, true},
        {"Succeeded", HNP_PHASE_SUCCEEDED, false}, {"Failed", HNP_PHASE_FAILED, false},
        {"Unknown", HNP_PHASE_UNKNOWN, true},      {"running", HNP_PHASE_UNKNOWN, true},
        {"Evicted", HNP_PHASE_UNKNOWN, true},
    };
    struct hnp_strtab *tab = *state;
    char text[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text),
                 "{\"metadata\": {\"name\": \"p\"}, \"status\": {\"phase\": \"%s\", \"podIP\":"
                 " \"10.0.0.9\"}}",
                 cases[i].phase);
        struct hnp_pod *pod = pod_of(tab, text);
        assert_int_equal(pod->phase, cases[i].want);
        assert_int_equal(hnp_pod_is_endpoint(pod), cases[i].endpoint);
        hnp_pod_free(pod);
    }
}

static void test_pod_named_ports(void **state)
{
    struct hnp_strtab *tab = *state;
    struct hnp_pod *pod = pod_of(
        tab,
        "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": ["
        "{\"name\": \"a\"},"
        "{\"name\": \"b\", \"ports\": [{\"containerPort\": 1}, {\"name\": \"sctp\","
        " \"containerPort\": 65535, \"protocol\": \"SCTP\"}]},"
        "{\"name\": \"c\", \"ports\": [{\"name\": \"dns\", \"containerPort\": 53, \"protocol\":"
        " \"UDP\"}, {\"name\": \"dns-tcp\", \"containerPort\": 53}]}]}}");
    assert_int_equal(pod->n_ports, 3);
    assert_string_equal(pod->ports[0].name, "sctp");
    assert_int_equal(pod->ports[0].port, 65535);
    assert_int_equal(pod->ports[0].protocol, HNP_PROTO_SCTP);
    assert_string_equal(pod->ports[1].name, "dns");
    assert_ptr_equal(pod->ports[1].name, hnp_strtab_find(tab, "dns"));
    assert_int_equal(pod->ports[1].port, 53);
    assert_int_equal(pod->ports[1].protocol, HNP_PROTO_UDP);
    assert_string_equal(pod->ports[2].name, "dns-tcp");
    assert_int_equal(pod->ports[2].protocol, HNP_PROTO_TCP);
    hnp_pod_free(pod);

    /* Many named ports grow the array. */
    char text[4096];
    size_t used = (size_t)snprintf(text, sizeof(text),
                                   "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\":"
                                   " [{\"ports\": [");
    for (int i = 0; i < 20; i++)
        used += (size_t)snprintf(text + used, sizeof(text) - used,
                                 "%s{\"name\": \"p%d\", \"containerPort\": %d}", i ? "," : "", i,
                                 1000 + i);
    snprintf(text + used, sizeof(text) - used, "]}]}}");
    pod = pod_of(tab, text);
    assert_int_equal(pod->n_ports, 20);
    for (int i = 0; i < 20; i++)
        assert_int_equal(pod->ports[i].port, 1000 + i);
    assert_string_equal(pod->ports[19].name, "p19");
    hnp_pod_free(pod);
}

/* Each case: pod JSON, the expected err->where and err->message. */
static const struct bad_case {
    const char *json;
    const char *where;
    const char *message;
} bad_pods[] = {
    {"[]", "", "the object must be a JSON object"},
    {"{\"kind\": \"Pod\"}", "metadata.name", "is required"},
    {"{\"metadata\": {}}", "metadata.name", "is required"},
    {"{\"metadata\": {\"name\": \"\"}}", "metadata.name", "is required"},
    {"{\"metadata\": {\"name\": null}}", "metadata.name", "is required"},
    {"{\"metadata\": {\"name\": 7}}", "metadata.name", "must be a string"},
    {"{\"metadata\": \"p\"}", "metadata", "must be an object"},
    {"{\"metadata\": {\"name\": \"p\", \"namespace\": 1}}", "metadata.namespace",
     "must be a string"},
    {"{\"metadata\": {\"name\": \"p\", \"uid\": {}}}", "metadata.uid", "must be a string"},
    {"{\"metadata\": {\"name\": \"p\", \"resourceVersion\": 12}}", "metadata.resourceVersion",
     "must be a string"},
    {"{\"metadata\": {\"name\": \"p\", \"labels\": []}}", "metadata.labels", "must be an object"},
    {"{\"metadata\": {\"name\": \"p\", \"labels\": {\"app\": 1}}}", "metadata.labels.app",
     "must be a string"},
    {"{\"metadata\": {\"name\": \"p\"}, \"spec\": []}", "spec", "must be an object"},
    {"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"nodeName\": true}}", "spec.nodeName",
     "must be a string"},
    {"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"hostNetwork\": \"true\"}}", "spec.hostNetwork",
     "must be a boolean"},
    {"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": {}}}", "spec.containers",
     "must be an array"},
    {"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{}, 3]}}", "spec.containers[1]",
     "must be an object"},
    {"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"ports\": {}}]}}",
     "spec.containers[0].ports", "must be an array"},
    {"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{}, {\"ports\": [80]}]}}",
     "spec.containers[1].ports[0]", "must be an object"},
    {"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{}, {\"ports\": [{\"name\":"
     " \"http\", \"containerPort\": 80}, {\"name\": \"x\", \"containerPort\": \"80\"}]}]}}",
     "spec.containers[1].ports[1].containerPort", "must be an integer"},
    {"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"ports\": [{"
     "\"containerPort\": 8.5}]}]}}",
     "spec.containers[0].ports[0].containerPort", "must be an integer"},
    {"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"ports\": [{\"name\": 5,"
     " \"containerPort\": 80}]}]}}",
     "spec.containers[0].ports[0].name", "must be a string"},
    {"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"ports\": [{\"name\": \"h\","
     " \"containerPort\": 80, \"protocol\": 6}]}]}}",
     "spec.containers[0].ports[0].protocol", "must be a string"},
    {"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"ports\": [{\"name\": \"h\","
     " \"containerPort\": 80, \"protocol\": \"tcp\"}]}]}}",
     "spec.containers[0].ports[0].protocol", "must be TCP, UDP or SCTP"},
    {"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"ports\": [{\"name\": \"h\","
     " \"containerPort\": 0}]}]}}",
     "spec.containers[0].ports[0].containerPort", "must be between 1 and 65535"},
    {"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"ports\": [{\"name\": \"h\","
     " \"containerPort\": 65536}]}]}}",
     "spec.containers[0].ports[0].containerPort", "must be between 1 and 65535"},
    {"{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"ports\": [{\"name\": \"h\""
     "}]}]}}",
     "spec.containers[0].ports[0].containerPort", "is required for a named port"},
    {"{\"metadata\": {\"name\": \"p\"}, \"status\": 1}", "status", "must be an object"},
    {"{\"metadata\": {\"name\": \"p\"}, \"status\": {\"phase\": 2}}", "status.phase",
     "must be a string"},
    {"{\"metadata\": {\"name\": \"p\"}, \"status\": {\"podIPs\": \"10.0.0.1\"}}", "status.podIPs",
     "must be an array"},
    {"{\"metadata\": {\"name\": \"p\"}, \"status\": {\"podIPs\": [{\"ip\": \"10.0.0.1\"},"
     " \"10.0.0.2\"]}}",
     "status.podIPs[1]", "must be an object"},
    {"{\"metadata\": {\"name\": \"p\"}, \"status\": {\"podIPs\": [{\"ip\": 167772161}]}}",
     "status.podIPs[0].ip", "must be a string"},
    {"{\"metadata\": {\"name\": \"p\"}, \"status\": {\"podIPs\": [{\"ip\": \"10.0.0.1\"},"
     " {\"ip\": \"10.0.0.256\"}]}}",
     "status.podIPs[1].ip", "\"10.0.0.256\" is not an IP address"},
    {"{\"metadata\": {\"name\": \"p\"}, \"status\": {\"podIP\": \"pod-a\"}}", "status.podIP",
     "\"pod-a\" is not an IP address"},
    {"{\"metadata\": {\"name\": \"p\"}, \"status\": {\"podIP\": \"10.0.0.1/32\"}}", "status.podIP",
     "\"10.0.0.1/32\" is not an IP address"},
    {"{\"metadata\": {\"name\": \"p\"}, \"status\": {\"podIP\": 1}}", "status.podIP",
     "must be a string"},
    {"{\"metadata\": {\"name\": \"p\"}, \"status\": {\"hostIP\": \"10.0.0\"}}", "status.hostIP",
     "\"10.0.0\" is not an IP address"},
    {"{\"metadata\": {\"name\": \"p\"}, \"status\": {\"hostIP\": false}}", "status.hostIP",
     "must be a string"},
};

static void test_pod_bad(void **state)
{
    struct hnp_strtab *tab = *state;
    for (size_t i = 0; i < sizeof(bad_pods) / sizeof(bad_pods[0]); i++) {
        json_t *json = hnp_test_json(bad_pods[i].json);
        static struct hnp_pod sentinel;
        struct hnp_pod *pod = &sentinel;
        struct hnp_error err;
        hnp_error_clear(&err);
        enum hnp_err rc = hnp_pod_from_json(json, tab, NULL, &pod, &err);
        if (rc != HNP_ERR_SCHEMA || strcmp(err.where, bad_pods[i].where) != 0 ||
            strcmp(err.message, bad_pods[i].message) != 0)
            fail_msg("case %zu %s: got %s where \"%s\" message \"%s\"", i, bad_pods[i].json,
                     hnp_err_name(rc), err.where, err.message);
        assert_ptr_equal(pod, &sentinel); /* output untouched */
        /* err may be NULL. */
        assert_int_equal(hnp_pod_from_json(json, tab, NULL, &pod, NULL), HNP_ERR_SCHEMA);
        json_decref(json);
    }
}

static void test_namespace(void **state)
{
    struct hnp_strtab *tab = *state;
    json_t *json = load_json("objects/namespace.json");
    struct hnp_namespace *ns = NULL;
    struct hnp_source src = {.file = "-", .line = 3};
    assert_int_equal(hnp_namespace_from_json(json, tab, &src, &ns, NULL), HNP_OK);
    json_decref(json);
    assert_string_equal(ns->name, "shop");
    assert_string_equal(ns->uid, "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d");
    assert_string_equal(ns->resource_version, "1201");
    assert_string_equal(ns->src.file, "-");
    assert_int_equal(ns->src.line, 3);
    assert_int_equal(ns->labels.count, 3);
    assert_string_equal(ns->labels.items[0].key, "env");
    assert_string_equal(ns->labels.items[1].key, HNP_NAMESPACE_NAME_LABEL);
    assert_string_equal(ns->labels.items[2].key, "team");
    /* The name label is forced to the real name. */
    assert_ptr_equal(hnp_labels_get(&ns->labels, hnp_strtab_find(tab, HNP_NAMESPACE_NAME_LABEL)),
                     hnp_strtab_find(tab, "shop"));
    hnp_namespace_free(ns);
    hnp_namespace_free(NULL);
}

static void test_namespace_minimal(void **state)
{
    struct hnp_strtab *tab = *state;
    json_t *json = hnp_test_json("{\"kind\": \"Namespace\", \"metadata\": {\"name\": \"dev\"}}");
    struct hnp_namespace *ns = NULL;
    assert_int_equal(hnp_namespace_from_json(json, tab, NULL, &ns, NULL), HNP_OK);
    json_decref(json);
    assert_string_equal(ns->name, "dev");
    assert_null(ns->uid);
    assert_null(ns->resource_version);
    assert_null(ns->src.file);
    assert_int_equal(ns->labels.count, 1);
    assert_string_equal(ns->labels.items[0].key, HNP_NAMESPACE_NAME_LABEL);
    assert_ptr_equal(ns->labels.items[0].value, ns->name);
    hnp_namespace_free(ns);
}

static void test_namespace_bad(void **state)
{
    static const struct bad_case cases[] = {
        {"{\"kind\": \"Namespace\"}", "metadata.name", "is required"},
        {"{\"metadata\": {\"name\": [\"x\"]}}", "metadata.name", "must be a string"},
        {"{\"metadata\": {\"name\": \"x\", \"labels\": {\"a\": {}}}}", "metadata.labels.a",
         "must be a string"},
        {"{\"metadata\": {\"name\": \"x\", \"uid\": 5}}", "metadata.uid", "must be a string"},
        {"\"x\"", "", "the object must be a JSON object"},
    };
    struct hnp_strtab *tab = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *json = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        assert_non_null(json);
        struct hnp_namespace *ns = NULL;
        struct hnp_error err;
        hnp_error_clear(&err);
        assert_int_equal(hnp_namespace_from_json(json, tab, NULL, &ns, &err), HNP_ERR_SCHEMA);
        assert_string_equal(err.where, cases[i].where);
        assert_string_equal(err.message, cases[i].message);
        assert_null(ns);
        json_decref(json);
    }
}

/* Trimming keeps everything hnp_pod_from_json() reads and drops the rest. */
static void test_trim(void **state)
{
    struct hnp_strtab *tab = *state;
    json_t *full = load_json("objects/pod-full.json");
    json_t *trimmed = json_deep_copy(full);
    assert_non_null(trimmed);
    json_t *metadata = json_object_get(trimmed, "metadata");
    json_object_set_new(metadata, "managedFields", json_array());
    json_object_set_new(metadata, "annotations", json_object());
    json_object_set_new(metadata, "ownerReferences", json_array());
    json_object_set_new(json_object_get(trimmed, "spec"), "volumes", json_array());
    json_object_set_new(json_object_get(trimmed, "status"), "conditions", json_array());
    hnp_object_trim_json(HNP_KIND_POD, trimmed);
    assert_null(json_object_get(metadata, "managedFields"));
    assert_null(json_object_get(metadata, "annotations"));
    assert_null(json_object_get(metadata, "ownerReferences"));
    assert_non_null(json_object_get(metadata, "labels"));
    assert_null(json_object_get(json_object_get(trimmed, "spec"), "volumes"));
    assert_null(json_object_get(json_object_get(trimmed, "status"), "conditions"));

    struct hnp_pod *a = NULL, *b = NULL;
    assert_int_equal(hnp_pod_from_json(full, tab, NULL, &a, NULL), HNP_OK);
    assert_int_equal(hnp_pod_from_json(trimmed, tab, NULL, &b, NULL), HNP_OK);
    /* Interned: equal strings are equal pointers. */
    assert_ptr_equal(a->ns, b->ns);
    assert_ptr_equal(a->name, b->name);
    assert_ptr_equal(a->uid, b->uid);
    assert_ptr_equal(a->resource_version, b->resource_version);
    assert_ptr_equal(a->node, b->node);
    assert_int_equal(a->labels.count, b->labels.count);
    assert_int_equal(a->n_ips, b->n_ips);
    assert_memory_equal(a->ips, b->ips, sizeof(a->ips));
    assert_int_equal(a->has_host_ip, b->has_host_ip);
    assert_int_equal(a->host_ip, b->host_ip);
    assert_int_equal(a->host_network, b->host_network);
    assert_int_equal(a->phase, b->phase);
    assert_int_equal(a->n_ports, b->n_ports);
    assert_true(a->n_ports > 0);
    for (size_t i = 0; i < a->n_ports; i++) {
        assert_ptr_equal(a->ports[i].name, b->ports[i].name);
        assert_int_equal(a->ports[i].port, b->ports[i].port);
        assert_int_equal(a->ports[i].protocol, b->ports[i].protocol);
    }
    hnp_pod_free(a);
    hnp_pod_free(b);
    json_decref(full);
    json_decref(trimmed);

    /* Other kinds lose only managedFields and kubectl's last-applied copy. */
    json_t *ns =
        hnp_test_json("{\"metadata\": {\"name\": \"n\", \"managedFields\": [],"
                      " \"ownerReferences\": [], \"annotations\": {\"a\": \"b\","
                      " \"" HNP_LAST_APPLIED_ANNOTATION "\": \"{}\"}}, \"spec\": {\"x\": 1}}");
    hnp_object_trim_json(HNP_KIND_NAMESPACE, ns);
    json_t *want = hnp_test_json("{\"metadata\": {\"name\": \"n\", \"ownerReferences\": [],"
                                 " \"annotations\": {\"a\": \"b\"}}, \"spec\": {\"x\": 1}}");
    assert_true(json_equal(ns, want));
    json_decref(ns);
    json_decref(want);
    hnp_object_trim_json(HNP_KIND_POD, NULL); /* not an object: nothing happens */
}

static void test_protocols(void **state)
{
    (void)state;
    assert_int_equal(hnp_protocol_from_name("TCP"), HNP_PROTO_TCP);
    assert_int_equal(hnp_protocol_from_name("UDP"), HNP_PROTO_UDP);
    assert_int_equal(hnp_protocol_from_name("SCTP"), HNP_PROTO_SCTP);
    assert_int_equal(hnp_protocol_from_name("tcp"), 0);
    assert_int_equal(hnp_protocol_from_name("ICMP"), 0);
    assert_int_equal(hnp_protocol_from_name(""), 0);
    assert_int_equal(hnp_protocol_from_name(NULL), 0);
    assert_string_equal(hnp_protocol_name(HNP_PROTO_TCP), "TCP");
    assert_string_equal(hnp_protocol_name(HNP_PROTO_UDP), "UDP");
    assert_string_equal(hnp_protocol_name(HNP_PROTO_SCTP), "SCTP");
    assert_string_equal(hnp_protocol_name(HNP_PROTO_ANY), "any");
    assert_string_equal(hnp_protocol_name(1), "any");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pod_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pod_minimal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pod_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pod_ips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pod_host_network, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pod_phases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pod_named_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pod_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace_minimal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trim, setup, teardown),
        cmocka_unit_test(test_protocols),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
