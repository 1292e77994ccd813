/*
 * test_cluster.c - the cluster store: put / replace / delete, insertion
 * order, lookups, generation, synthesized namespace labels, add_json
 * dispatch, and bulk loading of 100,000 pods.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/cluster.h"

#ifdef HNP_TEST_WRAP_ALLOC
/*
 * The test program is linked with -Wl,--wrap for malloc, calloc and realloc
 * (tests/CMakeLists.txt, GNU ld): every allocation of the engine's code
 * comes here, and the fail_in-th one from now on (1 = the next) fails.
 * 0 = none fails. jansson and cmocka are shared libraries: untouched.
 */
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
static unsigned long fail_in;

static bool fail_now(void)
{
    return fail_in != 0 && --fail_in == 0;
}

void *__wrap_malloc(size_t size)
{
    return fail_now() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    return fail_now() ? NULL : __real_realloc(p, size);
}
#endif

static int setup(void **state)
{
    struct hnp_cluster *cluster = hnp_cluster_new();
    if (cluster == NULL)
        return -1;
    *state = cluster;
    return 0;
}

static int teardown(void **state)
{
    hnp_cluster_free(*state);
    return 0;
}

/* Add an object given as JSON text; it must be kept. */
static void add(struct hnp_cluster *cluster, const char *text)
{
    json_t *json = hnp_test_json(text);
    bool kept = false;
    struct hnp_error err;
    hnp_error_clear(&err);
    enum hnp_err rc = hnp_cluster_add_json(cluster, json, NULL, &kept, &err);
    if (rc != HNP_OK)
        fail_msg("add_json(%s): %s: %s: %s", text, hnp_err_name(rc), err.where, err.message);
    assert_true(kept);
    json_decref(json);
}

static void add_pod(struct hnp_cluster *cluster, const char *ns, const char *name, const char *app)
{
    char text[512];
    snprintf(text, sizeof(text),
             "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"%s\", \"namespace\": \"%s\","
             " \"labels\": {\"app\": \"%s\"}}, \"status\": {\"podIP\": \"10.0.0.1\"}}",
             name, ns, app);
    add(cluster, text);
}

static void add_namespace(struct hnp_cluster *cluster, const char *name, const char *team)
{
    char text[512];
    snprintf(text, sizeof(text),
             "{\"kind\": \"Namespace\", \"metadata\": {\"name\": \"%s\", \"labels\": {\"team\":"
             " \"%s\"}}}",
             name, team);
    add(cluster, text);
}

static void add_policy(struct hnp_cluster *cluster, const char *ns, const char *name)
{
    char text[512];
    snprintf(text, sizeof(text),
             "{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"NetworkPolicy\","
             " \"metadata\": {\"name\": \"%s\", \"namespace\": \"%s\"},"
             " \"spec\": {\"podSelector\": {}}}",
             name, ns);
    add(cluster, text);
}

/* The pods' names in iteration order, joined with ','. */
static void pod_order(const struct hnp_cluster *cluster, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < hnp_cluster_pod_count(cluster); i++) {
        const struct hnp_pod *pod = hnp_cluster_pod_at(cluster, i);
        used +=
            (size_t)snprintf(buf + used, size - used, "%s%s/%s", i ? "," : "", pod->ns, pod->name);
    }
}

static const char *label(const struct hnp_cluster *cluster, const struct hnp_labels *labels,
                         const char *key)
{
    /* hnp_labels_get wants the interned key; a key never interned is absent. */
    struct hnp_strtab *tab = hnp_cluster_strtab((struct hnp_cluster *)cluster);
    const char *ikey = hnp_strtab_find(tab, key);
    return ikey != NULL ? hnp_labels_get(labels, ikey) : NULL;
}

static void test_empty(void **state)
{
    struct hnp_cluster *cluster = *state;
    assert_non_null(hnp_cluster_strtab(cluster));
    assert_int_equal(hnp_cluster_namespace_count(cluster), 0);
    assert_int_equal(hnp_cluster_pod_count(cluster), 0);
    assert_int_equal(hnp_cluster_policy_count(cluster), 0);
    assert_int_equal(hnp_cluster_generation(cluster), 0);
    assert_null(hnp_cluster_namespace(cluster, "default"));
    assert_null(hnp_cluster_pod(cluster, "default", "p"));
    assert_null(hnp_cluster_policy(cluster, "default", "p"));
    assert_null(hnp_cluster_pod_at(cluster, 0));
    assert_false(hnp_cluster_delete_pod(cluster, "default", "p"));
    assert_false(hnp_cluster_delete_namespace(cluster, "default"));
    assert_false(hnp_cluster_delete_policy(cluster, "default", "p"));
    assert_int_equal(hnp_cluster_generation(cluster), 0);
    hnp_cluster_free(NULL);
}

static void test_pods(void **state)
{
    struct hnp_cluster *cluster = *state;
    char order[1024];
    add_pod(cluster, "a", "p1", "one");
    add_pod(cluster, "b", "p1", "two"); /* same name, other namespace */
    add_pod(cluster, "a", "p2", "three");
    add_pod(cluster, "a", "p3", "four");
    assert_int_equal(hnp_cluster_generation(cluster), 4);
    assert_int_equal(hnp_cluster_pod_count(cluster), 4);
    pod_order(cluster, order, sizeof(order));
    assert_string_equal(order, "a/p1,b/p1,a/p2,a/p3");

    /* Lookups with strings that are not the interned pointers. */
    char ns[8], name[8];
    strcpy(ns, "b");
    strcpy(name, "p1");
    const struct hnp_pod *pod = hnp_cluster_pod(cluster, ns, name);
    assert_non_null(pod);
    assert_string_equal(label(cluster, &pod->labels, "app"), "two");
    assert_null(hnp_cluster_pod(cluster, "b", "p2"));
    assert_null(hnp_cluster_pod(cluster, "c", "p1"));
    assert_null(hnp_cluster_pod(cluster, "never-seen", "never-seen-either"));
    assert_null(hnp_cluster_pod(cluster, NULL, "p1"));

    /* Replace keeps the place and shows the new object. */
    add_pod(cluster, "a", "p1", "one-v2");
    assert_int_equal(hnp_cluster_generation(cluster), 5);
    assert_int_equal(hnp_cluster_pod_count(cluster), 4);
    pod_order(cluster, order, sizeof(order));
    assert_string_equal(order, "a/p1,b/p1,a/p2,a/p3");
    assert_string_equal(label(cluster, &hnp_cluster_pod(cluster, "a", "p1")->labels, "app"),
                        "one-v2");
    assert_ptr_equal(hnp_cluster_pod_at(cluster, 0), hnp_cluster_pod(cluster, "a", "p1"));

    /* Delete keeps the order of the rest. */
    assert_true(hnp_cluster_delete_pod(cluster, "b", "p1"));
    assert_int_equal(hnp_cluster_generation(cluster), 6);
    assert_false(hnp_cluster_delete_pod(cluster, "b", "p1"));
    assert_false(hnp_cluster_delete_pod(cluster, "a", "nope"));
    assert_int_equal(hnp_cluster_generation(cluster), 6);
    pod_order(cluster, order, sizeof(order));
    assert_string_equal(order, "a/p1,a/p2,a/p3");
    assert_null(hnp_cluster_pod(cluster, "b", "p1"));
    assert_non_null(hnp_cluster_pod(cluster, "a", "p3"));

    /* A re-added pod goes to the end. */
    add_pod(cluster, "b", "p1", "back");
    pod_order(cluster, order, sizeof(order));
    assert_string_equal(order, "a/p1,a/p2,a/p3,b/p1");
    assert_true(hnp_cluster_delete_pod(cluster, "a", "p3"));
    assert_true(hnp_cluster_delete_pod(cluster, "a", "p1"));
    pod_order(cluster, order, sizeof(order));
    assert_string_equal(order, "a/p2,b/p1");
    assert_null(hnp_cluster_pod_at(cluster, 2));
}

/* Direct put with objects built by hand, including the same object twice. */
static void test_put_direct(void **state)
{
    struct hnp_cluster *cluster = *state;
    struct hnp_strtab *tab = hnp_cluster_strtab(cluster);
    struct hnp_pod *pod = calloc(1, sizeof(*pod));
    assert_non_null(pod);
    pod->ns = hnp_strtab_intern(tab, "x");
    pod->name = hnp_strtab_intern(tab, "y");
    assert_int_equal(hnp_cluster_put_pod(cluster, pod), HNP_OK);
    assert_int_equal(hnp_cluster_put_pod(cluster, pod), HNP_OK);
    assert_int_equal(hnp_cluster_pod_count(cluster), 1);
    assert_ptr_equal(hnp_cluster_pod(cluster, "x", "y"), pod);

    struct hnp_namespace *ns = calloc(1, sizeof(*ns));
    assert_non_null(ns);
    ns->name = hnp_strtab_intern(tab, "x");
    assert_int_equal(hnp_cluster_put_namespace(cluster, ns), HNP_OK);
    assert_ptr_equal(hnp_cluster_namespace(cluster, "x"), ns);
    assert_int_equal(hnp_cluster_generation(cluster), 3);
}

static void test_namespaces(void **state)
{
    struct hnp_cluster *cluster = *state;
    add_namespace(cluster, "shop", "payments");
    add_namespace(cluster, "dev", "platform");
    add_namespace(cluster, "ops", "sre");
    assert_int_equal(hnp_cluster_namespace_count(cluster), 3);
    assert_string_equal(hnp_cluster_namespace_at(cluster, 0)->name, "shop");
    assert_string_equal(hnp_cluster_namespace_at(cluster, 2)->name, "ops");
    assert_null(hnp_cluster_namespace_at(cluster, 3));

    add_namespace(cluster, "shop", "checkout");
    assert_int_equal(hnp_cluster_namespace_count(cluster), 3);
    const struct hnp_namespace *ns = hnp_cluster_namespace_at(cluster, 0);
    assert_string_equal(ns->name, "shop");
    assert_string_equal(label(cluster, &ns->labels, "team"), "checkout");
    assert_ptr_equal(hnp_cluster_namespace(cluster, "shop"), ns);

    assert_true(hnp_cluster_delete_namespace(cluster, "dev"));
    assert_false(hnp_cluster_delete_namespace(cluster, "dev"));
    assert_int_equal(hnp_cluster_namespace_count(cluster), 2);
    assert_string_equal(hnp_cluster_namespace_at(cluster, 0)->name, "shop");
    assert_string_equal(hnp_cluster_namespace_at(cluster, 1)->name, "ops");
    assert_null(hnp_cluster_namespace(cluster, "dev"));
    assert_int_equal(hnp_cluster_generation(cluster), 5);
}

static void test_policies(void **state)
{
    struct hnp_cluster *cluster = *state;
    add_policy(cluster, "x", "p");
    add_policy(cluster, "y", "p");
    add_policy(cluster, "x", "q");
    assert_int_equal(hnp_cluster_policy_count(cluster), 3);
    const struct hnp_policy *p = hnp_cluster_policy(cluster, "x", "p");
    assert_non_null(p);
    assert_string_equal(p->ns, "x");
    assert_string_equal(p->name, "p");
    assert_ptr_equal(hnp_cluster_policy_at(cluster, 0), p);
    assert_null(hnp_cluster_policy(cluster, "z", "p"));

    add_policy(cluster, "x", "p");
    assert_int_equal(hnp_cluster_policy_count(cluster), 3);
    assert_string_equal(hnp_cluster_policy_at(cluster, 0)->name, "p");
    assert_string_equal(hnp_cluster_policy_at(cluster, 0)->ns, "x");

    assert_true(hnp_cluster_delete_policy(cluster, "x", "p"));
    assert_false(hnp_cluster_delete_policy(cluster, "x", "p"));
    assert_int_equal(hnp_cluster_policy_count(cluster), 2);
    assert_string_equal(hnp_cluster_policy_at(cluster, 0)->ns, "y");
    assert_string_equal(hnp_cluster_policy_at(cluster, 1)->name, "q");
    assert_null(hnp_cluster_policy_at(cluster, 2));
    assert_int_equal(hnp_cluster_generation(cluster), 5);
}

/* hnp_cluster_namespace_labels(), which must succeed. */
static const struct hnp_labels *ns_labels(struct hnp_cluster *cluster, const char *name)
{
    const struct hnp_labels *labels = NULL;
    assert_int_equal(hnp_cluster_namespace_labels(cluster, name, &labels), HNP_OK);
    assert_non_null(labels);
    return labels;
}

static void test_namespace_labels(void **state)
{
    struct hnp_cluster *cluster = *state;
    /* No object: synthesized, cached. */
    const struct hnp_labels *l1 = ns_labels(cluster, "shop");
    assert_non_null(l1);
    assert_int_equal(l1->count, 1);
    assert_string_equal(l1->items[0].key, HNP_NAMESPACE_NAME_LABEL);
    assert_string_equal(l1->items[0].value, "shop");
    assert_string_equal(label(cluster, l1, HNP_NAMESPACE_NAME_LABEL), "shop");
    assert_ptr_equal(ns_labels(cluster, "shop"), l1);
    /* The interned pointer (what a pod's ns is) finds the same map. */
    const char *ishop = hnp_strtab_find(hnp_cluster_strtab(cluster), "shop");
    assert_non_null(ishop);
    assert_ptr_equal(ns_labels(cluster, ishop), l1);
    const struct hnp_labels *other = ns_labels(cluster, "dev");
    assert_ptr_not_equal(other, l1);
    assert_string_equal(label(cluster, other, HNP_NAMESPACE_NAME_LABEL), "dev");
    assert_int_equal(hnp_cluster_generation(cluster), 0); /* a query changes nothing */

    /* A real Namespace object takes over. */
    add_namespace(cluster, "shop", "payments");
    const struct hnp_labels *l2 = ns_labels(cluster, "shop");
    assert_ptr_equal(l2, &hnp_cluster_namespace(cluster, "shop")->labels);
    assert_ptr_equal(ns_labels(cluster, ishop), l2);
    assert_int_equal(l2->count, 2);
    assert_string_equal(label(cluster, l2, "team"), "payments");
    assert_string_equal(label(cluster, l2, HNP_NAMESPACE_NAME_LABEL), "shop");

    /* Deleted again: back to the synthesized map. */
    assert_true(hnp_cluster_delete_namespace(cluster, "shop"));
    const struct hnp_labels *l3 = ns_labels(cluster, "shop");
    assert_int_equal(l3->count, 1);
    assert_null(label(cluster, l3, "team"));
    assert_string_equal(label(cluster, l3, HNP_NAMESPACE_NAME_LABEL), "shop");
    assert_ptr_equal(ns_labels(cluster, ishop), l3);

    /* Still cached for "dev", which never had an object. */
    assert_ptr_equal(ns_labels(cluster, "dev"), other);

    /* Many synthesized namespaces (the cache index grows). */
    char name[32];
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "ns-%d", i);
        const struct hnp_labels *l = ns_labels(cluster, name);
        assert_string_equal(label(cluster, l, HNP_NAMESPACE_NAME_LABEL), name);
    }
    for (int i = 0; i < 500; i += 7) {
        snprintf(name, sizeof(name), "ns-%d", i);
        add_namespace(cluster, name, "t");
    }
    for (int i = 0; i < 500; i++) {
        snprintf(name, sizeof(name), "ns-%d", i);
        const struct hnp_labels *l = ns_labels(cluster, name);
        assert_string_equal(label(cluster, l, HNP_NAMESPACE_NAME_LABEL), name);
        assert_int_equal(l->count, i % 7 == 0 ? 2 : 1);
    }
}

/* The kind as an enum: the object's own "kind" member is not looked at. */
#ifdef HNP_TEST_WRAP_ALLOC
/*
 * Out of memory while making the labels of a namespace without an object
 * is an error, never empty labels (which would change what selectors
 * match): fail each allocation in turn until the call goes through.
 */
static void test_namespace_labels_nomem(void **state)
{
    struct hnp_cluster *cluster = *state;
    unsigned long failures = 0;
    for (unsigned long k = 1;; k++) {
        const struct hnp_labels *labels = NULL;
        fail_in = k;
        enum hnp_err rc = hnp_cluster_namespace_labels(cluster, "fresh-namespace", &labels);
        bool failed = fail_in == 0; /* the k-th allocation was reached and failed */
        fail_in = 0;
        if (rc == HNP_OK) {
            assert_false(failed);
            assert_int_equal(labels->count, 1);
            assert_string_equal(label(cluster, labels, HNP_NAMESPACE_NAME_LABEL),
                                "fresh-namespace");
            break;
        }
        assert_int_equal(rc, HNP_ERR_NOMEM);
        assert_true(failed);
        assert_null(labels);
        failures++;
        assert_true(k < 100);
    }
    assert_true(failures >= 1); /* at least the labels themselves are allocated */
    assert_ptr_equal(ns_labels(cluster, "fresh-namespace"), ns_labels(cluster, "fresh-namespace"));
}
#endif

static void test_add_object_kind(void **state)
{
    struct hnp_cluster *cluster = *state;
    json_t *json = hnp_test_json("{\"kind\": \"Namespace\", \"metadata\": {\"name\": \"p\"}}");
    struct hnp_error err;
    hnp_error_clear(&err);
    assert_int_equal(hnp_cluster_add_object(cluster, HNP_KIND_POD, json, NULL, &err), HNP_OK);
    assert_non_null(hnp_cluster_pod(cluster, "default", "p"));
    assert_int_equal(hnp_cluster_namespace_count(cluster), 0);
    assert_int_equal(hnp_cluster_add_object(cluster, HNP_KIND_NAMESPACE, json, NULL, &err), HNP_OK);
    assert_non_null(hnp_cluster_namespace(cluster, "p"));
    json_decref(json);

    json = hnp_test_json("{\"metadata\": {\"name\": \"np\", \"namespace\": \"x\"}, \"spec\":"
                         " {\"podSelector\": {}}}");
    assert_int_equal(hnp_cluster_add_object(cluster, HNP_KIND_POLICY, json, NULL, &err), HNP_OK);
    assert_non_null(hnp_cluster_policy(cluster, "x", "np"));
    uint64_t generation = hnp_cluster_generation(cluster);
    assert_int_equal(hnp_cluster_add_object(cluster, (enum hnp_kind)7, json, NULL, &err),
                     HNP_ERR_INVALID);
    assert_int_equal(hnp_cluster_generation(cluster), generation);
    json_decref(json);

    json = hnp_test_json("{\"metadata\": {\"name\": \"q\"}, \"spec\": {\"hostNetwork\": 1}}");
    assert_int_equal(hnp_cluster_add_object(cluster, HNP_KIND_POD, json, NULL, &err),
                     HNP_ERR_SCHEMA);
    assert_string_equal(err.where, "spec.hostNetwork");
    json_decref(json);
    assert_int_equal(hnp_cluster_pod_count(cluster), 1);

    enum hnp_kind kind = HNP_KIND_POD;
    assert_true(hnp_kind_from_name("NetworkPolicy", &kind));
    assert_int_equal(kind, HNP_KIND_POLICY);
    assert_false(hnp_kind_from_name("pod", &kind));
    assert_false(hnp_kind_from_name(NULL, &kind));
    assert_int_equal(kind, HNP_KIND_POLICY);
    for (unsigned k = 0; k < HNP_KIND_COUNT; k++) {
        assert_true(hnp_kind_from_name(hnp_kind_name((enum hnp_kind)k), &kind));
        assert_int_equal(kind, k);
    }
    assert_string_equal(hnp_kind_name((enum hnp_kind)9), "unknown");
}

static void test_add_json_dispatch(void **state)
{
    struct hnp_cluster *cluster = *state;
    json_t *json = hnp_test_json("{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\":"
                                 " {\"name\": \"cm\"}, \"data\": {\"a\": \"b\"}}");
    bool kept = true;
    assert_int_equal(hnp_cluster_add_json(cluster, json, NULL, &kept, NULL), HNP_OK);
    assert_false(kept);
    assert_int_equal(hnp_cluster_generation(cluster), 0);
    assert_int_equal(hnp_cluster_add_json(cluster, json, NULL, NULL, NULL), HNP_OK);
    json_decref(json);

    static const struct {
        const char *json;
        const char *where;
        const char *message;
    } bad[] = {
        {"{\"metadata\": {\"name\": \"p\"}}", "kind", "is required"},
        {"{\"kind\": null, \"metadata\": {\"name\": \"p\"}}", "kind", "is required"},
        {"{\"kind\": 3, \"metadata\": {\"name\": \"p\"}}", "kind", "must be a string"},
        {"[{\"kind\": \"Pod\"}]", "", "the object must be a JSON object"},
        {"{\"kind\": \"Pod\", \"metadata\": {\"namespace\": \"x\"}}", "metadata.name",
         "is required"},
        {"{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}, \"spec\": {\"hostNetwork\": 1}}",
         "spec.hostNetwork", "must be a boolean"},
        {"{\"kind\": \"Namespace\", \"metadata\": {\"name\": \"n\", \"labels\": {\"a\": 1}}}",
         "metadata.labels.a", "must be a string"},
        {"{\"kind\": \"NetworkPolicy\", \"metadata\": {\"namespace\": \"x\"}, \"spec\":"
         " {\"podSelector\": {}}}",
         "metadata.name", NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json = hnp_test_json(bad[i].json);
        struct hnp_error err;
        hnp_error_clear(&err);
        kept = true;
        assert_int_equal(hnp_cluster_add_json(cluster, json, NULL, &kept, &err), HNP_ERR_SCHEMA);
        assert_false(kept);
        assert_string_equal(err.where, bad[i].where);
        if (bad[i].message != NULL)
            assert_string_equal(err.message, bad[i].message);
        else
            assert_true(err.message[0] != '\0');
        json_decref(json);
    }
    assert_int_equal(hnp_cluster_generation(cluster), 0);
    assert_int_equal(hnp_cluster_pod_count(cluster), 0);
    assert_int_equal(hnp_cluster_namespace_count(cluster), 0);
    assert_int_equal(hnp_cluster_policy_count(cluster), 0);

    /* The source reaches the object, its file interned in the cluster's table. */
    json = hnp_test_json("{\"kind\": \"Pod\", \"metadata\": {\"name\": \"p\"}}");
    char file[32];
    strcpy(file, "pods.yaml");
    struct hnp_source src = {.file = file, .line = 17};
    assert_int_equal(hnp_cluster_add_json(cluster, json, &src, &kept, NULL), HNP_OK);
    assert_true(kept);
    json_decref(json);
    const struct hnp_pod *pod = hnp_cluster_pod(cluster, "default", "p");
    assert_non_null(pod);
    assert_string_equal(pod->src.file, "pods.yaml");
    assert_ptr_not_equal(pod->src.file, file);
    assert_int_equal(pod->src.line, 17);

    add_namespace(cluster, "default", "none");
    add_policy(cluster, "default", "deny-all");
    assert_int_equal(hnp_cluster_pod_count(cluster), 1);
    assert_int_equal(hnp_cluster_namespace_count(cluster), 1);
    assert_int_equal(hnp_cluster_policy_count(cluster), 1);
    assert_int_equal(hnp_cluster_generation(cluster), 3);
}

/* Many deletes in scrambled order keep every remaining lookup and the order right. */
static void test_many_deletes(void **state)
{
    struct hnp_cluster *cluster = *state;
    struct hnp_strtab *tab = hnp_cluster_strtab(cluster);
    enum { N = 5000 };
    char name[32], ns[32];
    for (int i = 0; i < N; i++) {
        struct hnp_pod *pod = calloc(1, sizeof(*pod));
        assert_non_null(pod);
        snprintf(ns, sizeof(ns), "ns-%d", i % 13);
        snprintf(name, sizeof(name), "pod-%d", i);
        pod->ns = hnp_strtab_intern(tab, ns);
        pod->name = hnp_strtab_intern(tab, name);
        assert_int_equal(hnp_cluster_put_pod(cluster, pod), HNP_OK);
    }
    static bool deleted[N];
    memset(deleted, 0, sizeof(deleted));
    /* i * 7919 mod N walks every index once (7919 is prime, N is not a multiple). */
    for (int k = 0; k < N; k++) {
        int i = (int)(((long)k * 7919) % N);
        if (k % 3 == 0)
            continue;
        snprintf(ns, sizeof(ns), "ns-%d", i % 13);
        snprintf(name, sizeof(name), "pod-%d", i);
        assert_true(hnp_cluster_delete_pod(cluster, ns, name));
        deleted[i] = true;
    }
    size_t remaining = 0;
    for (int i = 0; i < N; i++) {
        snprintf(ns, sizeof(ns), "ns-%d", i % 13);
        snprintf(name, sizeof(name), "pod-%d", i);
        const struct hnp_pod *pod = hnp_cluster_pod(cluster, ns, name);
        if (deleted[i]) {
            assert_null(pod);
        } else {
            assert_non_null(pod);
            assert_string_equal(pod->name, name);
            assert_ptr_equal(hnp_cluster_pod_at(cluster, remaining), pod);
            remaining++;
        }
    }
    assert_int_equal(hnp_cluster_pod_count(cluster), remaining);
    assert_true(remaining > N / 4 && remaining < N / 2);
}

static void test_bulk_100k(void **state)
{
    struct hnp_cluster *cluster = *state;
    struct hnp_strtab *tab = hnp_cluster_strtab(cluster);
    enum { N = 100000 };
    char name[32], ns[32];
    for (int i = 0; i < N; i++) {
        struct hnp_pod *pod = calloc(1, sizeof(*pod));
        assert_non_null(pod);
        snprintf(ns, sizeof(ns), "team-%d", i % 250);
        snprintf(name, sizeof(name), "pod-%d", i);
        pod->ns = hnp_strtab_intern(tab, ns);
        pod->name = hnp_strtab_intern(tab, name);
        pod->ips[0] = 0x0A000000u + (uint32_t)i;
        pod->n_ips = 1;
        assert_int_equal(hnp_cluster_put_pod(cluster, pod), HNP_OK);
    }
    assert_int_equal(hnp_cluster_pod_count(cluster), N);
    assert_int_equal(hnp_cluster_generation(cluster), N);
    for (int i = 0; i < N; i += 997) {
        snprintf(ns, sizeof(ns), "team-%d", i % 250);
        snprintf(name, sizeof(name), "pod-%d", i);
        const struct hnp_pod *pod = hnp_cluster_pod(cluster, ns, name);
        assert_non_null(pod);
        assert_int_equal(pod->ips[0], 0x0A000000u + (uint32_t)i);
        assert_ptr_equal(hnp_cluster_pod_at(cluster, (size_t)i), pod);
    }
    assert_null(hnp_cluster_pod(cluster, "team-1", "pod-2")); /* exists in team-2 */
    assert_true(hnp_cluster_delete_pod(cluster, "team-0", "pod-0"));
    assert_true(hnp_cluster_delete_pod(cluster, "team-249", "pod-99999"));
    assert_int_equal(hnp_cluster_pod_count(cluster), N - 2);
    assert_string_equal(hnp_cluster_pod_at(cluster, 0)->name, "pod-1");
    assert_string_equal(hnp_cluster_pod_at(cluster, N - 3)->name, "pod-99998");
    /* Plus a JSON-loaded share, through the whole conversion path. */
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof(name), "json-%d", i);
        add_pod(cluster, "json", name, "x");
    }
    assert_int_equal(hnp_cluster_pod_count(cluster), N - 2 + 2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_direct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace_labels, setup, teardown),
#ifdef HNP_TEST_WRAP_ALLOC
        cmocka_unit_test_setup_teardown(test_namespace_labels_nomem, setup, teardown),
#endif
        cmocka_unit_test_setup_teardown(test_add_object_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_json_dispatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_deletes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk_100k, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
