/*
 * test_policy.c - NetworkPolicy conversion (src/policy.c).
 *
 * Most cases are data: tests/data/policy/<group>.json holds an array of
 * {"name", "policy" | "spec", expectations}. "spec" is shorthand for a
 * policy named "p" in namespace "ns" with that spec. Expectations:
 *   "schema": "<where>"       HNP_ERR_SCHEMA at that path, *out untouched
 *   "message": "<text>"       ... whose message contains text
 *   "findings": [[feature, path], ...]   exactly these, in this order
 *                             (no "findings" and no "schema": none at all)
 *   "messages": [[i, "<text>"], ...]     finding i's message contains text
 *   "isolates": ["Ingress", "Egress"]    the defaulted policy types
 *   "n_ingress", "n_egress"   rule counts
 * The C tests below check the parsed structure itself.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/load.h"
#include "hnsnetpol/policy.h"

/* ---- data-driven cases ---------------------------------------------------- */

static json_t *case_object(json_t *tc)
{
    json_t *policy = json_object_get(tc, "policy");
    if (policy != NULL)
        return json_incref(policy);
    json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "networking.k8s.io/v1",
                            "kind", "NetworkPolicy", "metadata", "name", "p", "namespace", "ns");
    assert_non_null(obj);
    json_t *spec = json_object_get(tc, "spec");
    if (spec != NULL)
        assert_int_equal(json_object_set(obj, "spec", spec), 0);
    return obj;
}

static void print_findings(const struct hnp_policy *pol)
{
    for (size_t i = 0; i < pol->n_findings; i++)
        print_message("    [%zu] %s at %s: %s\n", i, hnp_feature_name(pol->findings[i].feature),
                      pol->findings[i].path, pol->findings[i].message);
}

/* Returns the number of failed expectations (0 or 1), printing why. */
static int check_findings(const char *name, json_t *tc, const struct hnp_policy *pol)
{
    json_t *want = json_object_get(tc, "findings");
    size_t n_want = json_array_size(want);
    bool same = n_want == pol->n_findings;
    for (size_t i = 0; same && i < n_want; i++) {
        json_t *w = json_array_get(want, i);
        const struct hnp_finding *f = &pol->findings[i];
        same = strcmp(json_string_value(json_array_get(w, 0)), hnp_feature_name(f->feature)) == 0 &&
               strcmp(json_string_value(json_array_get(w, 1)), f->path) == 0;
    }
    if (!same) {
        print_error("case \"%s\": expected %zu findings, got:\n", name, n_want);
        print_findings(pol);
        return 1;
    }
    for (size_t i = 0; i < pol->n_findings; i++) {
        if (pol->findings[i].message == NULL || strlen(pol->findings[i].message) < 20) {
            print_error("case \"%s\": finding %zu has no real message\n", name, i);
            return 1;
        }
    }
    size_t k;
    json_t *m;
    json_array_foreach(json_object_get(tc, "messages"), k, m)
    {
        size_t i = (size_t)json_integer_value(json_array_get(m, 0));
        const char *text = json_string_value(json_array_get(m, 1));
        if (i >= pol->n_findings || strstr(pol->findings[i].message, text) == NULL) {
            print_error("case \"%s\": finding %zu does not say \"%s\":\n", name, i, text);
            print_findings(pol);
            return 1;
        }
    }
    return 0;
}

static int check_shape(const char *name, json_t *tc, const struct hnp_policy *pol)
{
    json_t *isolates = json_object_get(tc, "isolates");
    if (isolates != NULL) {
        bool in = false, eg = false;
        size_t i;
        json_t *t;
        json_array_foreach(isolates, i, t)
        {
            in = in || strcmp(json_string_value(t), "Ingress") == 0;
            eg = eg || strcmp(json_string_value(t), "Egress") == 0;
        }
        if (pol->isolates_ingress != in || pol->isolates_egress != eg) {
            print_error("case \"%s\": isolates ingress=%d egress=%d, expected %d %d\n", name,
                        pol->isolates_ingress, pol->isolates_egress, in, eg);
            return 1;
        }
    }
    json_t *n = json_object_get(tc, "n_ingress");
    if (n != NULL && (size_t)json_integer_value(n) != pol->n_ingress) {
        print_error("case \"%s\": %zu ingress rules\n", name, pol->n_ingress);
        return 1;
    }
    n = json_object_get(tc, "n_egress");
    if (n != NULL && (size_t)json_integer_value(n) != pol->n_egress) {
        print_error("case \"%s\": %zu egress rules\n", name, pol->n_egress);
        return 1;
    }
    return 0;
}

static int run_case(json_t *tc)
{
    const char *name = json_string_value(json_object_get(tc, "name"));
    assert_non_null(name);
    json_t *obj = case_object(tc);
    struct hnp_strtab *tab = hnp_strtab_new();
    assert_non_null(tab);
    struct hnp_policy sentinel;
    struct hnp_policy *pol = &sentinel;
    struct hnp_error err;
    memset(&err, 'x', sizeof(err));
    enum hnp_err rc = hnp_policy_from_json(obj, tab, NULL, &pol, &err);
    int failed = 0;

    const char *schema_where = json_string_value(json_object_get(tc, "schema"));
    if (schema_where != NULL) {
        const char *message = json_string_value(json_object_get(tc, "message"));
        if (rc != HNP_ERR_SCHEMA || pol != &sentinel || strcmp(err.where, schema_where) != 0 ||
            (message != NULL && strstr(err.message, message) == NULL)) {
            print_error("case \"%s\": expected a schema error at %s, got %s", name, schema_where,
                        hnp_err_name(rc));
            if (rc == HNP_ERR_SCHEMA)
                print_error(" at \"%s\": %s", err.where, err.message);
            print_error("\n");
            failed = 1;
        }
        if (rc == HNP_OK && pol != &sentinel)
            hnp_policy_free(pol);
    } else if (rc != HNP_OK) {
        print_error("case \"%s\": %s at \"%s\": %s\n", name, hnp_err_name(rc), err.where,
                    err.message);
        failed = 1;
    } else {
        failed = check_findings(name, tc, pol) || check_shape(name, tc, pol);
        if (hnp_policy_rejected(pol) != (pol->n_findings > 0)) {
            print_error("case \"%s\": hnp_policy_rejected disagrees\n", name);
            failed = 1;
        }
        hnp_policy_free(pol);
    }
    hnp_strtab_free(tab);
    json_decref(obj);
    return failed;
}

static void run_file(const char *file)
{
    json_t *cases = hnp_test_json_file(file);
    assert_true(json_array_size(cases) > 0);
    int failures = 0;
    size_t i;
    json_t *tc;
    json_array_foreach(cases, i, tc) failures += run_case(tc);
    json_decref(cases);
    assert_int_equal(failures, 0);
}

static void test_policy_types(void **state)
{
    run_file("policy/policy_types.json");
}

static void test_features(void **state)
{
    run_file("policy/features.json");
}

static void test_invalid(void **state)
{
    run_file("policy/invalid.json");
}

static void test_schema(void **state)
{
    run_file("policy/schema.json");
}

/* ---- structure ------------------------------------------------------------ */

struct fixture {
    struct hnp_strtab *tab;
    struct hnp_policy *pol;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (fx == NULL)
        return -1;
    fx->tab = hnp_strtab_new();
    *state = fx;
    return fx->tab == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    hnp_policy_free(fx->pol);
    hnp_strtab_free(fx->tab);
    free(fx);
    return 0;
}

/* Convert text (which must succeed) into fx->pol. */
static struct hnp_policy *convert(struct fixture *fx, const char *text)
{
    json_t *obj = hnp_test_json(text);
    struct hnp_error err;
    enum hnp_err rc = hnp_policy_from_json(obj, fx->tab, NULL, &fx->pol, &err);
    json_decref(obj);
    if (rc != HNP_OK)
        fail_msg("%s at %s: %s", hnp_err_name(rc), err.where, err.message);
    return fx->pol;
}

static const char *in(struct fixture *fx, const char *s)
{
    const char *p = hnp_strtab_find(fx->tab, s);
    assert_non_null(p);
    return p;
}

static void assert_requirement(struct fixture *fx, const struct hnp_requirement *req,
                               const char *key, enum hnp_selector_op op, size_t n_values,
                               const char *const *values)
{
    assert_ptr_equal(req->key, in(fx, key));
    assert_int_equal(req->op, op);
    assert_int_equal(req->n_values, n_values);
    for (size_t i = 0; i < n_values; i++)
        assert_ptr_equal(req->values[i], in(fx, values[i]));
}

static void test_metadata(void **state)
{
    struct fixture *fx = *state;
    json_t *obj =
        hnp_test_json("{\"kind\": \"NetworkPolicy\", \"metadata\": {\"name\": \"deny\", "
                      "\"uid\": \"u-1\", \"resourceVersion\": \"42\", \"generation\": 7}}");
    struct hnp_source src = {.file = hnp_strtab_intern(fx->tab, "p.yaml"), .line = 12};
    assert_int_equal(hnp_policy_from_json(obj, fx->tab, &src, &fx->pol, NULL), HNP_OK);
    json_decref(obj);
    struct hnp_policy *pol = fx->pol;
    assert_ptr_equal(pol->name, in(fx, "deny"));
    assert_ptr_equal(pol->ns, in(fx, "default"));
    assert_ptr_equal(pol->uid, in(fx, "u-1"));
    assert_ptr_equal(pol->resource_version, in(fx, "42"));
    assert_int_equal(pol->generation, 7);
    assert_ptr_equal(pol->src.file, src.file);
    assert_int_equal(pol->src.line, 12);
    assert_int_equal(pol->pod_selector.n_reqs, 0);
    assert_false(hnp_policy_rejected(pol));
    assert_int_equal(pol->n_findings, 0);
    hnp_policy_free(pol);

    convert(fx, "{\"metadata\": {\"name\": \"a\", \"namespace\": \"prod\"}}");
    assert_ptr_equal(fx->pol->ns, in(fx, "prod"));
    assert_null(fx->pol->uid);
    assert_null(fx->pol->resource_version);
    assert_int_equal(fx->pol->generation, 0);
    assert_null(fx->pol->src.file);
    hnp_policy_free(fx->pol);

    /* An empty namespace is the default one, as kubectl treats it. */
    convert(fx, "{\"metadata\": {\"name\": \"a\", \"namespace\": \"\"}}");
    assert_ptr_equal(fx->pol->ns, in(fx, "default"));
}

static void test_selectors(void **state)
{
    struct fixture *fx = *state;
    convert(fx,
            "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"podSelector\": {"
            "\"matchExpressions\": ["
            "  {\"key\": \"tier\", \"operator\": \"In\", \"values\": [\"web\", \"api\", \"web\"]},"
            "  {\"key\": \"app\", \"operator\": \"Exists\"},"
            "  {\"key\": \"zone\", \"operator\": \"NotIn\", \"values\": [\"b\", \"a\"]},"
            "  {\"key\": \"app\", \"operator\": \"DoesNotExist\"}],"
            "\"matchLabels\": {\"tier\": \"web\", \"app\": \"shop\"}}}}");
    const struct hnp_selector *sel = &fx->pol->pod_selector;
    assert_int_equal(sel->n_reqs, 6);
    /* Sorted by key, then operator (In < NotIn < Exists < DoesNotExist), then values. */
    const char *shop[] = {"shop"}, *web[] = {"web"}, *api_web[] = {"api", "web"},
               *a_b[] = {"a", "b"};
    assert_requirement(fx, &sel->reqs[0], "app", HNP_OP_IN, 1, shop);
    assert_requirement(fx, &sel->reqs[1], "app", HNP_OP_EXISTS, 0, NULL);
    assert_requirement(fx, &sel->reqs[2], "app", HNP_OP_DOES_NOT_EXIST, 0, NULL);
    assert_requirement(fx, &sel->reqs[3], "tier", HNP_OP_IN, 2, api_web);
    assert_requirement(fx, &sel->reqs[4], "tier", HNP_OP_IN, 1, web);
    assert_requirement(fx, &sel->reqs[5], "zone", HNP_OP_NOT_IN, 2, a_b);
    assert_true(hnp_policy_has_feature(fx->pol, HNP_FEATURE_NEGATIVE_SELECTOR));
    assert_false(hnp_policy_has_feature(fx->pol, HNP_FEATURE_INVALID));
    assert_int_equal(fx->pol->n_findings, 2);
}

static void test_invalid_requirements_left_out(void **state)
{
    struct fixture *fx = *state;
    convert(fx, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"podSelector\": {"
                "\"matchExpressions\": ["
                "  {\"key\": \"a\", \"operator\": \"Equals\", \"values\": [\"x\"]},"
                "  {\"key\": \"b\", \"operator\": \"In\"},"
                "  {\"key\": \"c\", \"operator\": \"Exists\", \"values\": [\"x\"]},"
                "  {\"key\": \"d\", \"operator\": \"In\", \"values\": [null]}]}}}");
    const struct hnp_selector *sel = &fx->pol->pod_selector;
    const char *empty[] = {""};
    assert_int_equal(sel->n_reqs, 1);
    assert_requirement(fx, &sel->reqs[0], "d", HNP_OP_IN, 1, empty);
    assert_int_equal(fx->pol->n_findings, 3);
    assert_true(hnp_policy_rejected(fx->pol));
}

static void test_peers(void **state)
{
    struct fixture *fx = *state;
    convert(fx, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"ingress\": [{\"from\": ["
                "  {\"podSelector\": {\"matchLabels\": {\"app\": \"web\"}}},"
                "  {\"namespaceSelector\": {}},"
                "  {\"namespaceSelector\": {\"matchLabels\": {\"team\": \"a\"}},"
                "   \"podSelector\": {\"matchExpressions\": [{\"key\": \"app\", \"operator\": "
                "\"Exists\"}]}},"
                "  {\"ipBlock\": {\"cidr\": \"10.1.2.3/16\"}},"
                "  {\"ipBlock\": {\"cidr\": \"fd00::/64\"}}]}]}}");
    struct hnp_policy *pol = fx->pol;
    assert_int_equal(pol->n_findings, 0);
    assert_int_equal(pol->n_ingress, 1);
    assert_int_equal(pol->ingress[0].n_ports, 0);
    assert_null(pol->ingress[0].ports);
    assert_int_equal(pol->ingress[0].n_peers, 5);
    const struct hnp_peer *p = pol->ingress[0].peers;
    const char *web[] = {"web"}, *team_a[] = {"a"};

    assert_true(p[0].has_pod_selector);
    assert_false(p[0].has_ns_selector);
    assert_false(p[0].has_ip_block);
    assert_int_equal(p[0].pod_selector.n_reqs, 1);
    assert_requirement(fx, &p[0].pod_selector.reqs[0], "app", HNP_OP_IN, 1, web);

    assert_false(p[1].has_pod_selector);
    assert_true(p[1].has_ns_selector);
    assert_int_equal(p[1].ns_selector.n_reqs, 0);

    assert_true(p[2].has_pod_selector);
    assert_true(p[2].has_ns_selector);
    assert_false(p[2].has_ip_block);
    assert_requirement(fx, &p[2].ns_selector.reqs[0], "team", HNP_OP_IN, 1, team_a);
    assert_requirement(fx, &p[2].pod_selector.reqs[0], "app", HNP_OP_EXISTS, 0, NULL);

    assert_true(p[3].has_ip_block);
    assert_false(p[3].ip_block_ipv6);
    assert_false(p[3].has_pod_selector || p[3].has_ns_selector);
    assert_int_equal(p[3].cidr.addr, 0x0A010000u); /* host bits cleared */
    assert_int_equal(p[3].cidr.prefix, 16);
    assert_int_equal(p[3].n_except, 0);

    assert_true(p[4].has_ip_block);
    assert_true(p[4].ip_block_ipv6);
    assert_int_equal(p[4].n_except, 0);
}

static void test_except_kept(void **state)
{
    struct fixture *fx = *state;
    convert(fx, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"egress\": [{\"to\": ["
                "  {\"ipBlock\": {\"cidr\": \"10.0.0.0/8\","
                "   \"except\": [\"10.1.0.0/16\", \"bad\", \"10.2.3.4/24\", \"11.0.0.0/16\"]}},"
                "  {\"ipBlock\": {\"cidr\": \"fd00::/8\", \"except\": [\"fd00::/16\"]}}]}]}}");
    struct hnp_policy *pol = fx->pol;
    assert_true(pol->isolates_egress);
    const struct hnp_peer *p = pol->egress[0].peers;
    assert_int_equal(p[0].cidr.addr, 0x0A000000u);
    assert_int_equal(p[0].cidr.prefix, 8);
    /* Every except entry that parses is kept, even one outside cidr (which is invalid). */
    assert_int_equal(p[0].n_except, 3);
    assert_int_equal(p[0].except[0].addr, 0x0A010000u);
    assert_int_equal(p[0].except[0].prefix, 16);
    assert_int_equal(p[0].except[1].addr, 0x0A020300u);
    assert_int_equal(p[0].except[1].prefix, 24);
    assert_int_equal(p[0].except[2].addr, 0x0B000000u);
    assert_true(p[1].ip_block_ipv6);
    assert_int_equal(p[1].n_except, 0);
    assert_true(hnp_policy_has_feature(pol, HNP_FEATURE_EXCEPT_CIDR));
    assert_true(hnp_policy_has_feature(pol, HNP_FEATURE_INVALID));
    assert_int_equal(pol->n_findings, 4);
}

static void test_ports(void **state)
{
    struct fixture *fx = *state;
    convert(fx, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"egress\": [{\"ports\": ["
                "  {\"port\": 80},"
                "  {\"protocol\": \"UDP\", \"port\": 53},"
                "  {\"protocol\": \"UDP\"},"
                "  {},"
                "  {\"port\": 32000, \"endPort\": 32768},"
                "  {\"protocol\": \"TCP\", \"port\": 1, \"endPort\": 65535},"
                "  {\"port\": 443, \"endPort\": 443},"
                "  null,"
                "  {\"protocol\": \"SCTP\", \"port\": 7},"
                "  {\"port\": \"http\"}]}]}}");
    struct hnp_policy *pol = fx->pol;
    assert_int_equal(pol->n_egress, 1);
    assert_int_equal(pol->egress[0].n_peers, 0);
    assert_int_equal(pol->egress[0].n_ports, 10);
    const struct hnp_port *pt = pol->egress[0].ports;
    static const struct {
        uint8_t protocol;
        uint16_t port, end_port;
    } want[] = {
        {HNP_PROTO_TCP, 80, 80},   {HNP_PROTO_UDP, 53, 53},       {HNP_PROTO_UDP, 0, 0},
        {HNP_PROTO_TCP, 0, 0},     {HNP_PROTO_TCP, 32000, 32768}, {HNP_PROTO_TCP, 1, 65535},
        {HNP_PROTO_TCP, 443, 443}, {HNP_PROTO_TCP, 0, 0},         {HNP_PROTO_SCTP, 7, 7},
        {HNP_PROTO_TCP, 0, 0},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(pt[i].protocol, want[i].protocol);
        assert_int_equal(pt[i].port, want[i].port);
        assert_int_equal(pt[i].end_port, want[i].end_port);
        if (i != 9)
            assert_null(pt[i].named);
    }
    assert_ptr_equal(pt[9].named, in(fx, "http"));
    assert_int_equal(pol->n_findings, 2);
    assert_int_equal(pol->findings[0].feature, HNP_FEATURE_SCTP);
    assert_string_equal(pol->findings[0].path, "spec.egress[0].ports[8].protocol");
    assert_int_equal(pol->findings[1].feature, HNP_FEATURE_NAMED_PORT);
    assert_string_equal(pol->findings[1].path, "spec.egress[0].ports[9].port");
    assert_true(hnp_policy_has_feature(pol, HNP_FEATURE_SCTP));
    assert_true(hnp_policy_has_feature(pol, HNP_FEATURE_NAMED_PORT));
    assert_false(hnp_policy_has_feature(pol, HNP_FEATURE_EXCEPT_CIDR));
}

static void test_rules_allow_all(void **state)
{
    struct fixture *fx = *state;
    convert(fx, "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"ingress\": [{}, "
                "{\"from\": [], \"ports\": []}, {\"from\": null, \"ports\": null}]}}");
    assert_int_equal(fx->pol->n_ingress, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(fx->pol->ingress[i].n_peers, 0);
        assert_int_equal(fx->pol->ingress[i].n_ports, 0);
    }
    assert_int_equal(fx->pol->n_egress, 0);
    assert_null(fx->pol->egress);
    assert_true(fx->pol->isolates_ingress);
    assert_false(fx->pol->isolates_egress);
}

static void test_long_values_clipped(void **state)
{
    struct fixture *fx = *state;
    char text[1024];
    char name[301];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    snprintf(text, sizeof(text),
             "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"ingress\": [{\"ports\": [{\"port\": "
             "\"%s\"}]}]}}",
             name);
    convert(fx, text);
    assert_int_equal(fx->pol->n_findings, 1);
    assert_int_equal(fx->pol->findings[0].feature, HNP_FEATURE_INVALID);
    assert_non_null(strstr(fx->pol->findings[0].message, "aaa\"..."));
    assert_true(strlen(fx->pol->findings[0].message) < 300);
}

/* ---- finding lines -------------------------------------------------------- */

struct lines_ctx {
    struct hnp_strtab *tab;
    struct hnp_policy *pol;
};

static long node_line(const void *object, const json_t *node)
{
    return hnp_loaded_object_line(object, node);
}

static enum hnp_err convert_loaded(const struct hnp_loaded_object *object, void *arg)
{
    struct lines_ctx *c = arg;
    struct hnp_source src = {.line = object->line, .line_of = node_line, .line_ctx = object};
    struct hnp_error err;
    enum hnp_err rc = hnp_policy_from_json(object->obj, c->tab, &src, &c->pol, &err);
    if (rc != HNP_OK)
        fail_msg("%s at %s: %s", hnp_err_name(rc), err.where, err.message);
    return rc;
}

static void assert_finding_at(const struct hnp_policy *pol, size_t i, const char *path, long line)
{
    assert_true(i < pol->n_findings);
    assert_string_equal(pol->findings[i].path, path);
    assert_int_equal(pol->findings[i].line, line);
}

/*
 * Every finding carries the line of its own node, taken when the finding is
 * made; a missing member gives the policy's line. Map keys holding ']' or
 * '[' used to be found again by parsing the path, which fell back to the
 * policy's line.
 */
static void test_finding_lines(void **state)
{
    struct fixture *fx = *state;
    static const char yaml[] = "---\n"                                   /* 1 */
                               "apiVersion: networking.k8s.io/v1\n"      /* 2 */
                               "kind: NetworkPolicy\n"                   /* 3 */
                               "metadata:\n"                             /* 4 */
                               "  name: p\n"                             /* 5 */
                               "spec:\n"                                 /* 6 */
                               "  podSelector:\n"                        /* 7 */
                               "    matchLabels:\n"                      /* 8 */
                               "      ok: x\n"                           /* 9 */
                               "      a]b: x\n"                          /* 10 */
                               "      example.com/a.b: \"bad value!\"\n" /* 11 */
                               "      a[0]: y\n"                         /* 12 */
                               "      x].b: z\n"                         /* 13 */
                               "  ingress:\n"                            /* 14 */
                               "  - from:\n"                             /* 15 */
                               "    - ipBlock:\n"                        /* 16 */
                               "        except: [10.0.0.0/8]\n"          /* 17 */
                               "    - podSelector:\n"                    /* 18 */
                               "        matchExpressions:\n"             /* 19 */
                               "        - key: app\n"                    /* 20 */
                               "          operator: NotIn\n"             /* 21 */
                               "          values: [a]\n"                 /* 22 */
                               "    ports:\n"                            /* 23 */
                               "    - port: http\n";                     /* 24 */
    struct lines_ctx c = {fx->tab, NULL};
    assert_int_equal(hnp_load_buffer(yaml, strlen(yaml), "p.yaml", NULL, convert_loaded, &c, NULL),
                     HNP_OK);
    fx->pol = c.pol;
    assert_non_null(fx->pol);
    assert_int_equal(fx->pol->src.line, 2);
    assert_null(fx->pol->src.line_of);
    assert_int_equal(fx->pol->n_findings, 8);
    assert_finding_at(fx->pol, 0, "spec.podSelector.matchLabels[a]b]", 10);
    assert_finding_at(fx->pol, 1, "spec.podSelector.matchLabels[example.com/a.b]", 11);
    assert_finding_at(fx->pol, 2, "spec.podSelector.matchLabels[a[0]]", 12);
    assert_finding_at(fx->pol, 3, "spec.podSelector.matchLabels[x].b]", 13);
    assert_finding_at(fx->pol, 4, "spec.ingress[0].from[0].ipBlock.except", 17);
    /* ipBlock has no cidr: the member is missing, so the policy's line. */
    assert_finding_at(fx->pol, 5, "spec.ingress[0].from[0].ipBlock.cidr", 2);
    assert_finding_at(fx->pol, 6,
                      "spec.ingress[0].from[1].podSelector.matchExpressions[0].operator", 21);
    assert_finding_at(fx->pol, 7, "spec.ingress[0].ports[0].port", 24);
    assert_int_equal(fx->pol->findings[7].feature, HNP_FEATURE_NAMED_PORT);

    /* Without a line resolver every finding has the policy's line. */
    hnp_policy_free(fx->pol);
    fx->pol = NULL;
    json_t *obj = hnp_test_json("{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"podSelector\": "
                                "{\"matchLabels\": {\"a]b\": \"x\"}}}}");
    struct hnp_source src = {.line = 7};
    assert_int_equal(hnp_policy_from_json(obj, fx->tab, &src, &fx->pol, NULL), HNP_OK);
    json_decref(obj);
    assert_finding_at(fx->pol, 0, "spec.podSelector.matchLabels[a]b]", 7);
}

/* A clipped value is cut on a UTF-8 sequence boundary, never inside one. */
static void test_clipped_on_utf8_boundary(void **state)
{
    struct fixture *fx = *state;
    /* "a" then 40 two-byte "é": the 64-byte clip falls inside the 32nd "é". */
    char name[1 + 40 * 2 + 1] = "a";
    for (size_t i = 0; i < 40; i++)
        memcpy(name + 1 + 2 * i, "\xc3\xa9", 3);
    char text[512];
    snprintf(text, sizeof(text),
             "{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"ingress\": [{\"ports\": [{\"port\": "
             "\"%s\"}]}]}}",
             name);
    convert(fx, text);
    assert_int_equal(fx->pol->n_findings, 1);
    const char *msg = fx->pol->findings[0].message;
    /* jansson refuses a string that is not valid UTF-8. */
    json_t *valid = json_string(msg);
    assert_non_null(valid);
    json_decref(valid);
    /* 1 + 31 * 2 = 63 bytes shown, then the mark of a clipped value. */
    char shown[80];
    memcpy(shown, name, 63);
    memcpy(shown + 63, "\"...", 5);
    assert_non_null(strstr(msg, shown));
    assert_null(strstr(msg, "\xc3\"..."));
}

static void test_not_an_object(void **state)
{
    struct fixture *fx = *state;
    json_t *arr = json_array();
    struct hnp_policy *untouched = (struct hnp_policy *)fx;
    struct hnp_policy *pol = untouched;
    struct hnp_error err;
    assert_int_equal(hnp_policy_from_json(arr, fx->tab, NULL, &pol, &err), HNP_ERR_SCHEMA);
    assert_ptr_equal(pol, untouched);
    assert_string_equal(err.where, "");
    assert_non_null(strstr(err.message, "must be a JSON object, not an array"));
    assert_int_equal(hnp_policy_from_json(NULL, fx->tab, NULL, &pol, NULL), HNP_ERR_SCHEMA);
    json_decref(arr);
    /* A NULL error struct is accepted on the failure path too. */
    json_t *obj = hnp_test_json("{\"metadata\": {\"name\": \"p\"}, \"spec\": {\"ingress\": 1}}");
    assert_int_equal(hnp_policy_from_json(obj, fx->tab, NULL, &pol, NULL), HNP_ERR_SCHEMA);
    assert_ptr_equal(pol, untouched);
    json_decref(obj);
}

static void test_helpers(void **state)
{
    assert_string_equal(hnp_feature_name(HNP_FEATURE_NAMED_PORT), "namedPort");
    assert_string_equal(hnp_feature_name(HNP_FEATURE_SCTP), "sctp");
    assert_string_equal(hnp_feature_name(HNP_FEATURE_NEGATIVE_SELECTOR), "negativeSelector");
    assert_string_equal(hnp_feature_name(HNP_FEATURE_EXCEPT_CIDR), "exceptCIDR");
    assert_string_equal(hnp_feature_name(HNP_FEATURE_INVALID), "invalid");
    assert_string_equal(hnp_feature_name(HNP_FEATURE_COUNT_), "unknown");
    assert_false(hnp_policy_rejected(NULL));
    assert_false(hnp_policy_has_feature(NULL, HNP_FEATURE_INVALID));
    hnp_policy_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_types),
        cmocka_unit_test(test_features),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_schema),
        cmocka_unit_test_setup_teardown(test_metadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_requirements_left_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_except_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rules_allow_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_values_clipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_finding_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clipped_on_utf8_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_an_object, setup, teardown),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
