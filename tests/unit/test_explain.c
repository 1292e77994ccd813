/*
 * test_explain.c - connection verdicts from the generated ACLs (src/explain.c).
 *
 * Each case builds a small cluster from Kubernetes JSON through
 * hnp_cluster_add_json(), then asks whether a connection passes the source's
 * Out ACLs and the destination's In ACLs, and which ACL decided.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/cluster.h"
#include "hnsnetpol/explain.h"
#include "hnsnetpol/rangeset.h"
#include "hnsnetpol/translate.h"

#define DEMO_TAG "hnp-2fcffcd1e15d" /* FNV-1a-64("demo/demo-policy"), first 12 hex digits */

/* Add one object written with ' for ". */
static void addf(struct hnp_cluster *c, const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    for (char *p = text; *p != '\0'; p++)
        if (*p == '\'')
            *p = '"';
    json_t *obj = hnp_test_json(text);
    struct hnp_error err;
    enum hnp_err rc = hnp_cluster_add_json(c, obj, NULL, NULL, &err);
    if (rc != HNP_OK)
        fail_msg("adding %s: %s", text, err.message);
    json_decref(obj);
}

static void add_pod(struct hnp_cluster *c, const char *ns, const char *name, const char *labels,
                    const char *ip)
{
    addf(c,
         "{'kind':'Pod','metadata':{'name':'%s','namespace':'%s','labels':%s},"
         "'spec':{'nodeName':'node1'},"
         "'status':{'phase':'Running','podIP':'%s','hostIP':'10.224.0.4'}}",
         name, ns, labels, ip);
}

static void add_policy(struct hnp_cluster *c, const char *ns, const char *name, const char *spec)
{
    addf(c, "{'kind':'NetworkPolicy','metadata':{'name':'%s','namespace':'%s'},'spec':%s}", name,
         ns, spec);
}

static uint32_t ip(const char *text)
{
    uint32_t v;
    assert_true(hnp_ipv4_parse(text, &v));
    return v;
}

static const struct hnp_translate_options opts = {false, 0, HNP_UNSUPPORTED_REJECT};

struct env {
    struct hnp_cluster *c;
    struct hnp_translator *tr;
};

static void env_open(struct env *e, struct hnp_cluster *c)
{
    e->c = c;
    e->tr = hnp_translator_new(c, &opts);
    assert_non_null(e->tr);
}

static void env_close(struct env *e)
{
    hnp_translator_free(e->tr);
    hnp_cluster_free(e->c);
}

static const struct hnp_pod *pod(struct env *e, const char *ns, const char *name)
{
    const struct hnp_pod *p = hnp_cluster_pod(e->c, ns, name);
    assert_non_null(p);
    return p;
}

/* Explain pod->pod (a NULL name means the given address instead). */
static void explain(struct env *e, const char *from, const char *from_ip, const char *to,
                    const char *to_ip, uint8_t protocol, uint16_t port,
                    struct hnp_explain_result *r)
{
    const struct hnp_pod *f = from ? pod(e, "demo", from) : NULL;
    const struct hnp_pod *t = to ? pod(e, "demo", to) : NULL;
    struct hnp_error err;
    enum hnp_err rc = hnp_explain(e->tr, f, from_ip ? ip(from_ip) : 0, t, to_ip ? ip(to_ip) : 0,
                                  protocol, port, r, &err);
    if (rc != HNP_OK)
        fail_msg("explain: %s", err.message);
}

static struct hnp_cluster *demo_cluster(bool labelled)
{
    struct hnp_cluster *c = hnp_cluster_new();
    assert_non_null(c);
    addf(c, "{'kind':'Namespace','metadata':{'name':'demo'}}");
    add_pod(c, "demo", "server", "{'app':'server'}", "10.224.0.72");
    add_pod(c, "demo", "client", labelled ? "{'app':'client'}" : "{}", "10.224.0.80");
    add_policy(c, "demo", "demo-policy",
               "{'podSelector':{'matchLabels':{'app':'server'}},'policyTypes':['Ingress'],"
               "'ingress':[{'from':[{'podSelector':{'matchLabels':{'app':'client'}}}],"
               "'ports':[{'protocol':'TCP','port':80}]}]}");
    return c;
}

static void test_demo_before_labelling(void **state)
{
    struct env e;
    env_open(&e, demo_cluster(false));
    struct hnp_explain_result r;
    explain(&e, "client", NULL, "server", NULL, HNP_PROTO_TCP, 80, &r);
    assert_false(r.allowed);
    assert_true(r.egress.evaluated);
    assert_false(r.egress.isolated); /* the client has no ACL at all */
    assert_int_equal(r.egress.verdict, HNP_VERDICT_ALLOW);
    assert_false(r.egress.has_acl);
    assert_true(r.ingress.evaluated);
    assert_true(r.ingress.isolated);
    assert_int_equal(r.ingress.verdict, HNP_VERDICT_BLOCK);
    assert_true(r.ingress.has_acl);
    assert_string_equal(r.ingress.acl.id, "hnp-isolate-in");
    assert_int_equal(r.ingress.acl.origin.kind, HNP_ORIGIN_ISOLATION);
    hnp_explain_result_clear(&r);
    env_close(&e);
}

static void test_demo_after_labelling(void **state)
{
    struct env e;
    env_open(&e, demo_cluster(true));
    struct hnp_explain_result r;
    explain(&e, "client", NULL, "server", NULL, HNP_PROTO_TCP, 80, &r);
    assert_true(r.allowed);
    assert_true(r.egress.evaluated);
    assert_int_equal(r.egress.verdict, HNP_VERDICT_ALLOW);
    assert_true(r.ingress.isolated);
    assert_int_equal(r.ingress.verdict, HNP_VERDICT_ALLOW);
    assert_true(r.ingress.has_acl);
    assert_string_equal(r.ingress.acl.id, DEMO_TAG "-in0-tcp-0");
    assert_int_equal(r.ingress.acl.origin.kind, HNP_ORIGIN_RULE);
    assert_string_equal(r.ingress.acl.origin.policy_name, "demo-policy");
    assert_int_equal(r.ingress.acl.n_remote_addrs, 1);
    assert_int_equal(r.ingress.acl.remote_addrs[0].addr, ip("10.224.0.80"));
    hnp_explain_result_clear(&r);

    /* Another port, another protocol, the reverse direction: denied or open as expected. */
    explain(&e, "client", NULL, "server", NULL, HNP_PROTO_TCP, 81, &r);
    assert_false(r.allowed);
    assert_string_equal(r.ingress.acl.id, "hnp-isolate-in");
    hnp_explain_result_clear(&r);
    explain(&e, "client", NULL, "server", NULL, HNP_PROTO_UDP, 80, &r);
    assert_false(r.allowed);
    hnp_explain_result_clear(&r);
    explain(&e, "server", NULL, "client", NULL, HNP_PROTO_TCP, 80, &r);
    assert_true(r.allowed);
    assert_true(r.egress.isolated);
    assert_string_equal(r.egress.acl.id, "hnp-open-out");
    assert_false(r.ingress.isolated);
    assert_false(r.ingress.has_acl);
    hnp_explain_result_clear(&r);
    env_close(&e);
}

static void test_outside_addresses(void **state)
{
    struct env e;
    env_open(&e, demo_cluster(true));
    struct hnp_explain_result r;
    /* From the internet: only the server's ingress is evaluated. */
    explain(&e, NULL, "8.8.8.8", "server", NULL, HNP_PROTO_TCP, 80, &r);
    assert_false(r.allowed);
    assert_false(r.egress.evaluated);
    assert_int_equal(r.egress.verdict, HNP_VERDICT_ALLOW);
    assert_true(r.ingress.evaluated);
    assert_int_equal(r.ingress.verdict, HNP_VERDICT_BLOCK);
    hnp_explain_result_clear(&r);

    /* From the node (kubelet probe): the node rule decides. */
    explain(&e, NULL, "10.224.0.4", "server", NULL, HNP_PROTO_TCP, 8080, &r);
    assert_true(r.allowed);
    assert_string_equal(r.ingress.acl.id, "hnp-node-in");
    assert_int_equal(r.ingress.acl.origin.kind, HNP_ORIGIN_NODE);
    hnp_explain_result_clear(&r);

    /* To the internet: only the source's egress. */
    explain(&e, "server", NULL, NULL, "1.1.1.1", HNP_PROTO_UDP, 53, &r);
    assert_true(r.allowed);
    assert_true(r.egress.evaluated);
    assert_false(r.ingress.evaluated);
    hnp_explain_result_clear(&r);

    /* Neither end is ours. */
    explain(&e, NULL, "1.2.3.4", NULL, "5.6.7.8", HNP_PROTO_TCP, 1, &r);
    assert_true(r.allowed);
    assert_false(r.egress.evaluated);
    assert_false(r.ingress.evaluated);
    hnp_explain_result_clear(&r);
    env_close(&e);
}

static void test_both_sides(void **state)
{
    struct hnp_cluster *c = hnp_cluster_new();
    add_pod(c, "demo", "a", "{'app':'a'}", "10.0.0.1");
    add_pod(c, "demo", "b", "{'app':'b'}", "10.0.0.2");
    add_pod(c, "demo", "x", "{'app':'x'}", "10.0.0.3");
    /* a may only talk to b on TCP 5432; b only accepts a. */
    add_policy(c, "demo", "a-out",
               "{'podSelector':{'matchLabels':{'app':'a'}},'policyTypes':['Egress'],"
               "'egress':[{'to':[{'podSelector':{'matchLabels':{'app':'b'}}}],"
               "'ports':[{'port':5432}]}]}");
    add_policy(c, "demo", "b-in",
               "{'podSelector':{'matchLabels':{'app':'b'}},"
               "'ingress':[{'from':[{'podSelector':{'matchLabels':{'app':'a'}}}]}]}");
    struct env e;
    env_open(&e, c);
    struct hnp_explain_result r;
    explain(&e, "a", NULL, "b", NULL, HNP_PROTO_TCP, 5432, &r);
    assert_true(r.allowed);
    assert_int_equal(r.egress.acl.origin.kind, HNP_ORIGIN_RULE);
    assert_string_equal(r.egress.acl.origin.policy_name, "a-out");
    assert_int_equal(r.egress.acl.direction, HNP_ACL_OUT);
    assert_string_equal(r.ingress.acl.origin.policy_name, "b-in");
    hnp_explain_result_clear(&r);

    /* Egress refuses before ingress is asked: the verdicts are per side. */
    explain(&e, "a", NULL, "b", NULL, HNP_PROTO_TCP, 22, &r);
    assert_false(r.allowed);
    assert_int_equal(r.egress.verdict, HNP_VERDICT_BLOCK);
    assert_string_equal(r.egress.acl.id, "hnp-isolate-out");
    assert_int_equal(r.ingress.verdict, HNP_VERDICT_ALLOW);
    hnp_explain_result_clear(&r);

    explain(&e, "x", NULL, "b", NULL, HNP_PROTO_TCP, 5432, &r);
    assert_false(r.allowed);
    assert_int_equal(r.egress.verdict, HNP_VERDICT_ALLOW);
    assert_false(r.egress.isolated);
    assert_int_equal(r.ingress.verdict, HNP_VERDICT_BLOCK);
    hnp_explain_result_clear(&r);

    explain(&e, "a", NULL, "x", NULL, HNP_PROTO_TCP, 5432, &r);
    assert_false(r.allowed);
    assert_int_equal(r.egress.verdict, HNP_VERDICT_BLOCK);
    hnp_explain_result_clear(&r);
    env_close(&e);
}

static void test_no_policies(void **state)
{
    struct hnp_cluster *c = hnp_cluster_new();
    add_pod(c, "demo", "a", "{}", "10.0.0.1");
    add_pod(c, "demo", "b", "{}", "10.0.0.2");
    struct env e;
    env_open(&e, c);
    struct hnp_explain_result r;
    explain(&e, "a", NULL, "b", NULL, 132, 9, &r);
    assert_true(r.allowed);
    assert_true(r.egress.evaluated);
    assert_true(r.ingress.evaluated);
    assert_false(r.egress.isolated);
    assert_false(r.ingress.isolated);
    assert_false(r.egress.has_acl);
    assert_false(r.ingress.has_acl);
    hnp_explain_result_clear(&r);
    env_close(&e);
}

static void test_not_an_endpoint(void **state)
{
    struct hnp_cluster *c = demo_cluster(true);
    addf(c, "{'kind':'Pod','metadata':{'name':'hostnet','namespace':'demo'},"
            "'spec':{'hostNetwork':true},'status':{'phase':'Running','podIP':'10.224.0.4'}}");
    addf(c, "{'kind':'Pod','metadata':{'name':'done','namespace':'demo'},"
            "'spec':{},'status':{'phase':'Succeeded','podIP':'10.224.0.99'}}");
    addf(c, "{'kind':'Pod','metadata':{'name':'noip','namespace':'demo'},'spec':{},"
            "'status':{'phase':'Pending'}}");
    struct env e;
    env_open(&e, c);
    const char *bad[] = {"hostnet", "done", "noip"};
    for (size_t i = 0; i < 3; i++) {
        struct hnp_explain_result r;
        struct hnp_error err;
        hnp_error_clear(&err);
        memset(&r, 0xff, sizeof(r));
        assert_int_equal(hnp_explain(e.tr, pod(&e, "demo", bad[i]), 0, pod(&e, "demo", "server"), 0,
                                     HNP_PROTO_TCP, 80, &r, &err),
                         HNP_ERR_INVALID);
        assert_non_null(strstr(err.message, bad[i]));
        assert_false(r.egress.has_acl);
        assert_false(r.ingress.has_acl);
        hnp_explain_result_clear(&r);
        assert_int_equal(hnp_explain(e.tr, pod(&e, "demo", "client"), 0, pod(&e, "demo", bad[i]), 0,
                                     HNP_PROTO_TCP, 80, &r, NULL),
                         HNP_ERR_INVALID);
        hnp_explain_result_clear(&r);
    }
    env_close(&e);
}

/* The deciding ACL is a copy: it outlives the translator and the cluster. */
static void test_acl_is_owned_copy(void **state)
{
    struct env e;
    env_open(&e, demo_cluster(true));
    struct hnp_explain_result r;
    explain(&e, "client", NULL, "server", NULL, HNP_PROTO_TCP, 80, &r);
    env_close(&e);
    assert_true(r.ingress.has_acl);
    assert_int_equal(r.ingress.acl.n_local_ports, 1);
    assert_int_equal(r.ingress.acl.local_ports[0].lo, 80);
    assert_int_equal(r.ingress.acl.local_ports[0].hi, 80);
    assert_int_equal(r.ingress.acl.remote_addrs[0].prefix, 32);
    hnp_explain_result_clear(&r);
    assert_false(r.ingress.has_acl);
    hnp_explain_result_clear(&r); /* twice is fine */
    hnp_explain_result_clear(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_before_labelling), cmocka_unit_test(test_demo_after_labelling),
        cmocka_unit_test(test_outside_addresses),     cmocka_unit_test(test_both_sides),
        cmocka_unit_test(test_no_policies),           cmocka_unit_test(test_not_an_endpoint),
        cmocka_unit_test(test_acl_is_owned_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
