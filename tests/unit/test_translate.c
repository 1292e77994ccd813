/*
 * test_translate.c - NetworkPolicy semantics -> HNS ACLs (src/translate.c).
 *
 * Cases of the form "this input -> these exact ACLs" are data:
 * tests/data/translate/<case>/ holds case.json (what the case checks, the
 * pods to translate, the options), the input objects and expected.json (the
 * ACLs as HNS gets them); test_data_cases runs every folder. The C tests
 * here check properties: the meaning of the ACLs by evaluating packets
 * under HNS rules, origins, the translator API (selecting, pod_by_ip,
 * options, updates in place), determinism, list splitting and scale. They
 * build small clusters through hnp_cluster_add_json(), exactly as the CLI
 * does. Every translation is also checked for the invariants of the header:
 * sorted, Ids unique and ours, no Allow/Block conflict at one priority.
 */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/acl.h"
#include "hnsnetpol/cluster.h"
#include "hnsnetpol/load.h"
#include "platform.h"
#include "hnsnetpol/rangeset.h"
#include "hnsnetpol/translate.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() 0
#endif

/* Tag of demo/demo-policy: first 12 hex digits of FNV-1a-64("demo/demo-policy"). */
#define DEMO_TAG "hnp-2fcffcd1e15d"

/* ---------- building clusters ---------- */

/* Add one object written with ' for " (test JSON never needs a quote). */
static void addf(struct hnp_cluster *c, const char *fmt, ...)
{
    static char text[1 << 16];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    for (char *p = text; *p != '\0'; p++)
        if (*p == '\'')
            *p = '"';
    json_t *obj = hnp_test_json(text);
    bool kept = false;
    struct hnp_error err;
    hnp_error_clear(&err);
    enum hnp_err rc = hnp_cluster_add_json(c, obj, NULL, &kept, &err);
    if (rc != HNP_OK)
        fail_msg("adding %s: %s at %s: %s", text, hnp_strerror(rc), err.where, err.message);
    assert_true(kept);
    json_decref(obj);
}

static void add_ns(struct hnp_cluster *c, const char *name, const char *labels)
{
    addf(c, "{'kind':'Namespace','metadata':{'name':'%s','labels':%s}}", name, labels);
}

/* A running pod on node1 with hostIP 10.240.0.4. */
static void add_pod(struct hnp_cluster *c, const char *ns, const char *name, const char *labels,
                    const char *ip)
{
    addf(c,
         "{'kind':'Pod','metadata':{'name':'%s','namespace':'%s','labels':%s},"
         "'spec':{'nodeName':'node1'},"
         "'status':{'phase':'Running','podIP':'%s','hostIP':'10.240.0.4'}}",
         name, ns, labels, ip);
}

/* A running pod without status.hostIP. */
static void add_pod_nohost(struct hnp_cluster *c, const char *ns, const char *name,
                           const char *labels, const char *ip)
{
    addf(c,
         "{'kind':'Pod','metadata':{'name':'%s','namespace':'%s','labels':%s},"
         "'spec':{'nodeName':'node1'},'status':{'phase':'Running','podIP':'%s'}}",
         name, ns, labels, ip);
}

static void add_policy(struct hnp_cluster *c, const char *ns, const char *name, const char *spec)
{
    addf(c,
         "{'kind':'NetworkPolicy','apiVersion':'networking.k8s.io/v1',"
         "'metadata':{'name':'%s','namespace':'%s'},'spec':%s}",
         name, ns, spec);
}

static const struct hnp_translate_options reject_opts = {false, 0, HNP_UNSUPPORTED_REJECT};

/* ---------- checking ACL lists ---------- */

static void check_invariants(const struct hnp_acl_list *list)
{
    assert_int_equal(hnp_acl_list_conflicts(list), 0);
    for (size_t i = 0; i < list->count; i++) {
        const struct hnp_acl *a = &list->items[i];
        assert_true(hnp_acl_id_is_ours(a->id));
        assert_true(strlen(a->id) < HNP_ACL_ID_MAX);
        assert_true(a->n_remote_addrs <= HNP_ACL_MAX_LIST);
        assert_true(a->n_local_ports <= HNP_ACL_MAX_LIST);
        assert_true(a->n_remote_ports <= HNP_ACL_MAX_LIST);
        for (size_t j = 0; j < i; j++)
            if (strcmp(list->items[j].id, a->id) == 0)
                fail_msg("duplicate ACL Id %s", a->id);
        if (i > 0) {
            const struct hnp_acl *b = &list->items[i - 1];
            assert_true(b->priority < a->priority ||
                        (b->priority == a->priority && b->direction < a->direction) ||
                        (b->priority == a->priority && b->direction == a->direction &&
                         strcmp(b->id, a->id) < 0));
        }
    }
}

/* Translate pod ns/name with a fresh translator; checks the invariants. */
static void translate_opts(struct hnp_cluster *c, const struct hnp_translate_options *opts,
                           const char *ns, const char *name, struct hnp_acl_list *out)
{
    const struct hnp_pod *pod = hnp_cluster_pod(c, ns, name);
    assert_non_null(pod);
    struct hnp_translator *tr = hnp_translator_new(c, opts);
    assert_non_null(tr);
    hnp_acl_list_init(out);
    struct hnp_error err;
    assert_int_equal(hnp_translator_pod(tr, pod, out, &err), HNP_OK);
    check_invariants(out);
    hnp_translator_free(tr);
}

static void translate(struct hnp_cluster *c, const char *ns, const char *name,
                      struct hnp_acl_list *out)
{
    translate_opts(c, &reject_opts, ns, name, out);
}

/* The compact JSON HNS would get for one ACL; caller frees. */
static char *acl_text(const struct hnp_acl *acl)
{
    json_t *j = hnp_acl_to_json(acl);
    assert_non_null(j);
    char *s = json_dumps(j, JSON_COMPACT);
    assert_non_null(s);
    json_decref(j);
    return s;
}

/* Every ACL's JSON, one a line; caller frees. */
static char *list_text(const struct hnp_acl_list *list)
{
    size_t cap = 256, len = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    out[0] = '\0';
    for (size_t i = 0; i < list->count; i++) {
        char *s = acl_text(&list->items[i]);
        size_t n = strlen(s);
        while (len + n + 2 > cap) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        memcpy(out + len, s, n);
        len += n;
        out[len++] = '\n';
        out[len] = '\0';
        free(s);
    }
    return out;
}

/* Comma-joined Ids of the list; caller frees. */
static char *ids(const struct hnp_acl_list *list)
{
    size_t cap = 16 + list->count * HNP_ACL_ID_MAX;
    char *out = calloc(1, cap);
    assert_non_null(out);
    for (size_t i = 0; i < list->count; i++) {
        if (i > 0)
            strcat(out, ",");
        strcat(out, list->items[i].id);
    }
    return out;
}

static void assert_ids(const struct hnp_acl_list *list, const char *expected)
{
    char *got = ids(list);
    assert_string_equal(got, expected);
    free(got);
}

static const struct hnp_acl *find_acl(const struct hnp_acl_list *list, const char *id)
{
    for (size_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i].id, id) == 0)
            return &list->items[i];
    return NULL;
}

/* The first ACL whose Id contains part. */
static const struct hnp_acl *find_acl_part(const struct hnp_acl_list *list, const char *part)
{
    for (size_t i = 0; i < list->count; i++)
        if (strstr(list->items[i].id, part) != NULL)
            return &list->items[i];
    return NULL;
}

/* RemoteAddresses of an ACL as HNS gets it ("" when omitted); caller frees. */
static char *addrs_text(const struct hnp_acl *acl)
{
    char *out = calloc(1, acl->n_remote_addrs * 20 + 1);
    assert_non_null(out);
    for (size_t i = 0; i < acl->n_remote_addrs; i++) {
        char buf[19];
        hnp_cidr_format(&acl->remote_addrs[i], buf);
        if (i > 0)
            strcat(out, ",");
        strcat(out, buf);
    }
    return out;
}

static void assert_addrs(const struct hnp_acl *acl, const char *expected)
{
    assert_non_null(acl);
    char *got = addrs_text(acl);
    assert_string_equal(got, expected);
    free(got);
}

static uint32_t ip(const char *text)
{
    uint32_t v;
    assert_true(hnp_ipv4_parse(text, &v));
    return v;
}

/* Verdict of the pod's list for one packet. */
static enum hnp_verdict eval(const struct hnp_acl_list *list, enum hnp_acl_direction dir,
                             const char *remote, uint8_t protocol, uint16_t port)
{
    struct hnp_packet p = {dir, ip(remote), protocol, port};
    enum hnp_verdict v;
    hnp_acl_list_eval(list, &p, &v);
    return v;
}

#define ALLOW HNP_VERDICT_ALLOW
#define BLOCK HNP_VERDICT_BLOCK
#define IN HNP_ACL_IN
#define OUT HNP_ACL_OUT
#define TCP HNP_PROTO_TCP
#define UDP HNP_PROTO_UDP

static struct hnp_cluster *new_cluster(void)
{
    struct hnp_cluster *c = hnp_cluster_new();
    assert_non_null(c);
    return c;
}

/* The Azure demo: demo-policy lets app=client reach app=server on TCP 80. */
static struct hnp_cluster *demo_cluster(bool labelled)
{
    struct hnp_cluster *c = new_cluster();
    add_ns(c, "demo", "{}");
    add_pod(c, "demo", "server", "{'app':'server'}", "10.224.0.72");
    add_pod(c, "demo", "client", labelled ? "{'app':'client'}" : "{}", "10.224.0.80");
    add_policy(c, "demo", "demo-policy",
               "{'podSelector':{'matchLabels':{'app':'server'}},'policyTypes':['Ingress'],"
               "'ingress':[{'from':[{'podSelector':{'matchLabels':{'app':'client'}}}],"
               "'ports':[{'protocol':'TCP','port':80}]}]}");
    return c;
}

/* ---------- the Azure demo ---------- */

static void test_demo_unlabelled(void **state)
{
    /* The exact ACLs: tests/data/translate/demo-unlabelled. */
    struct hnp_cluster *c = demo_cluster(false);
    struct hnp_acl_list l;
    translate(c, "demo", "server", &l);
    assert_int_equal(eval(&l, IN, "10.224.0.80", TCP, 80), BLOCK);
    assert_int_equal(eval(&l, IN, "10.240.0.4", TCP, 8080), ALLOW); /* kubelet probe */
    assert_int_equal(eval(&l, OUT, "8.8.8.8", UDP, 53), ALLOW);
    hnp_acl_list_free(&l);

    translate(c, "demo", "client", &l);
    assert_int_equal(eval(&l, OUT, "10.224.0.72", TCP, 80), ALLOW);
    hnp_acl_list_free(&l);
    hnp_cluster_free(c);
}

static void test_demo_labelled(void **state)
{
    /* The exact ACLs: tests/data/translate/demo-labelled; here their origins and meaning. */
    struct hnp_cluster *c = demo_cluster(true);
    struct hnp_acl_list l;
    translate(c, "demo", "server", &l);
    const struct hnp_acl *rule = find_acl(&l, DEMO_TAG "-in0-tcp-0");
    assert_non_null(rule);
    assert_int_equal(rule->origin.kind, HNP_ORIGIN_RULE);
    assert_string_equal(rule->origin.policy_ns, "demo");
    assert_string_equal(rule->origin.policy_name, "demo-policy");
    assert_int_equal(rule->origin.rule_index, 0);
    assert_int_equal(find_acl(&l, "hnp-isolate-in")->origin.kind, HNP_ORIGIN_ISOLATION);
    assert_int_equal(find_acl(&l, "hnp-open-out")->origin.kind, HNP_ORIGIN_OPEN);
    assert_int_equal(find_acl(&l, "hnp-node-in")->origin.kind, HNP_ORIGIN_NODE);

    assert_int_equal(eval(&l, IN, "10.224.0.80", TCP, 80), ALLOW);
    assert_int_equal(eval(&l, IN, "10.224.0.80", TCP, 81), BLOCK);
    assert_int_equal(eval(&l, IN, "10.224.0.80", UDP, 80), BLOCK);
    assert_int_equal(eval(&l, IN, "10.224.0.81", TCP, 80), BLOCK);
    hnp_acl_list_free(&l);
    hnp_cluster_free(c);
}

/* Relabelling the client in the same cluster (a watch update) changes the server's ACLs. */
static void test_demo_relabel_in_place(void **state)
{
    struct hnp_cluster *c = demo_cluster(false);
    struct hnp_acl_list l;
    translate(c, "demo", "server", &l);
    assert_null(find_acl_part(&l, "-in0-"));
    hnp_acl_list_free(&l);
    add_pod(c, "demo", "client", "{'app':'client'}", "10.224.0.80");
    translate(c, "demo", "server", &l);
    assert_addrs(find_acl(&l, DEMO_TAG "-in0-tcp-0"), "10.224.0.80");
    hnp_acl_list_free(&l);
    hnp_cluster_free(c);
}

/* ---------- isolation and policyTypes ---------- */

static void test_default_deny_ingress(void **state)
{
    /* The exact ACLs of p1, p2 and q: tests/data/translate/default-deny-ingress. */
    struct hnp_cluster *c = new_cluster();
    add_pod(c, "a", "p1", "{'app':'x'}", "10.0.0.1");
    add_pod(c, "a", "p2", "{}", "10.0.0.2");
    add_pod(c, "b", "q", "{'app':'x'}", "10.0.1.1");
    add_policy(c, "a", "deny", "{'podSelector':{},'policyTypes':['Ingress']}");
    struct hnp_acl_list l;
    translate(c, "a", "p1", &l);
    assert_int_equal(eval(&l, IN, "10.0.0.2", TCP, 80), BLOCK);
    assert_int_equal(eval(&l, IN, "10.0.1.1", UDP, 53), BLOCK);
    assert_int_equal(eval(&l, OUT, "10.0.1.1", TCP, 443), ALLOW);
    hnp_acl_list_free(&l);
    hnp_cluster_free(c);
}

static void test_default_deny_egress(void **state)
{
    /* The exact ACLs: tests/data/translate/default-deny-egress. */
    struct hnp_cluster *c = new_cluster();
    add_pod(c, "a", "p1", "{}", "10.0.0.1");
    add_policy(c, "a", "deny", "{'podSelector':{},'policyTypes':['Egress']}");
    struct hnp_acl_list l;
    translate(c, "a", "p1", &l);
    assert_int_equal(eval(&l, OUT, "10.0.0.2", TCP, 80), BLOCK);
    assert_int_equal(eval(&l, OUT, "8.8.8.8", UDP, 53), BLOCK);
    assert_int_equal(eval(&l, IN, "10.0.0.2", TCP, 80), ALLOW);
    hnp_acl_list_free(&l);
    hnp_cluster_free(c);
}

static void test_ingress_empty_vs_allow_all(void **state)
{
    /* The exact ACLs of both pods: tests/data/translate/ingress-empty-vs-allow-all. */
    struct hnp_cluster *c = new_cluster();
    add_pod(c, "a", "deny", "{'t':'deny'}", "10.0.0.1");
    add_pod(c, "a", "all", "{'t':'all'}", "10.0.0.2");
    /* ingress: [] -> policyTypes [Ingress], no rule: deny all ingress. */
    add_policy(c, "a", "p-deny", "{'podSelector':{'matchLabels':{'t':'deny'}},'ingress':[]}");
    /* ingress: [{}] -> one rule from anywhere on any port: allow all ingress. */
    add_policy(c, "a", "p-all", "{'podSelector':{'matchLabels':{'t':'all'}},'ingress':[{}]}");
    struct hnp_acl_list l;
    translate(c, "a", "deny", &l);
    assert_int_equal(eval(&l, IN, "1.2.3.4", UDP, 9999), BLOCK);
    hnp_acl_list_free(&l);
    translate(c, "a", "all", &l);
    assert_int_equal(eval(&l, IN, "1.2.3.4", UDP, 9999), ALLOW);
    assert_int_equal(eval(&l, IN, "10.0.0.1", 132, 1), ALLOW);
    hnp_acl_list_free(&l);
    hnp_cluster_free(c);
}

static void test_policy_types_defaults(void **state)
{
    /* The exact ACLs of e, i and n: tests/data/translate/policy-types-defaults. */
    struct hnp_cluster *c = new_cluster();
    add_pod(c, "a", "e", "{'t':'e'}", "10.0.0.1");
    add_pod(c, "a", "i", "{'t':'i'}", "10.0.0.2");
    /* egress present, no policyTypes: [Ingress, Egress]. */
    add_policy(c, "a", "p-e",
               "{'podSelector':{'matchLabels':{'t':'e'}},'egress':[{'ports':[{'port':53,"
               "'protocol':'UDP'}]}]}");
    /* policyTypes [Egress] with an ingress rule: the ingress rule has no effect. */
    add_policy(c, "a", "p-i",
               "{'podSelector':{'matchLabels':{'t':'i'}},'policyTypes':['Egress'],"
               "'ingress':[{}],'egress':[{}]}");
    struct hnp_acl_list l;
    translate(c, "a", "e", &l);
    assert_int_equal(eval(&l, OUT, "10.96.0.10", UDP, 53), ALLOW);
    assert_int_equal(eval(&l, OUT, "10.96.0.10", TCP, 53), BLOCK);
    assert_int_equal(eval(&l, IN, "10.0.0.9", TCP, 80), BLOCK);
    hnp_acl_list_free(&l);
    hnp_cluster_free(c);
}

/* ---------- peers ---------- */

static void test_pod_selector_confined_to_policy_namespace(void **state)
{
    /* The exact ACLs: tests/data/translate/pod-selector-own-namespace. */
    struct hnp_cluster *c = new_cluster();
    add_pod(c, "a", "server", "{'app':'server'}", "10.0.0.1");
    add_pod(c, "a", "client", "{'app':'client'}", "10.0.0.2");
    add_pod(c, "b", "client", "{'app':'client'}", "10.0.1.2");
    add_policy(c, "a", "p",
               "{'podSelector':{'matchLabels':{'app':'server'}},"
               "'ingress':[{'from':[{'podSelector':{'matchLabels':{'app':'client'}}}]}]}");
    struct hnp_acl_list l;
    translate(c, "a", "server", &l);
    assert_int_equal(eval(&l, IN, "10.0.0.2", TCP, 1), ALLOW);
    assert_int_equal(eval(&l, IN, "10.0.1.2", TCP, 1), BLOCK);
    hnp_acl_list_free(&l);
    hnp_cluster_free(c);
}

static void test_ip_block(void **state)
{
    /* The exact ACLs: tests/data/translate/ip-block. */
    struct hnp_cluster *c = new_cluster();
    add_pod(c, "a", "p", "{}", "10.0.0.1");
    add_policy(c, "a", "p",
               "{'podSelector':{},'policyTypes':['Ingress','Egress'],"
               "'ingress':[{'from':[{'ipBlock':{'cidr':'192.168.0.0/16'}}]},"
               "{'from':[{'ipBlock':{'cidr':'fd00::/8'}}]}],"
               "'egress':[{'to':[{'ipBlock':{'cidr':'172.16.5.1/32'}},"
               "{'ipBlock':{'cidr':'172.16.5.0/32'}}],'ports':[{'port':443}]}]}");
    struct hnp_acl_list l;
    translate(c, "a", "p", &l);
    assert_int_equal(eval(&l, IN, "192.168.7.7", TCP, 22), ALLOW);
    assert_int_equal(eval(&l, IN, "192.169.0.1", TCP, 22), BLOCK);
    assert_int_equal(eval(&l, OUT, "172.16.5.1", TCP, 443), ALLOW);
    assert_int_equal(eval(&l, OUT, "172.16.5.2", TCP, 443), BLOCK);
    hnp_acl_list_free(&l);
    hnp_cluster_free(c);
}

static void test_peers_match_nothing(void **state)
{
    /* The exact ACLs: tests/data/translate/peers-match-nothing. */
    struct hnp_cluster *c = new_cluster();
    add_pod(c, "a", "server", "{'app':'server'}", "10.0.0.1");
    add_policy(c, "a", "p",
               "{'podSelector':{'matchLabels':{'app':'server'}},'policyTypes':['Ingress','Egress'],"
               "'ingress':[{'from':[{'podSelector':{'matchLabels':{'app':'ghost'}}},"
               "{'namespaceSelector':{'matchLabels':{'team':'none'}}}]},{}],"
               "'egress':[{'to':[{'namespaceSelector':{'matchLabels':{'team':'none'}},"
               "'podSelector':{}}],'ports':[{'port':53,'protocol':'UDP'}]}]}");
    struct hnp_acl_list l;
    translate(c, "a", "server", &l);
    assert_int_equal(eval(&l, OUT, "10.96.0.10", UDP, 53), BLOCK);
    hnp_acl_list_free(&l);
    hnp_cluster_free(c);
}

/* ---------- ports ---------- */

static void test_ports(void **state)
{
    /* The exact ACLs: tests/data/translate/ports. */
    struct hnp_cluster *c = new_cluster();
    add_pod(c, "a", "s", "{}", "10.0.0.1");
    add_policy(c, "a", "p",
               "{'podSelector':{},'ingress':["
               /* rule 0: TCP without port (every TCP port), UDP 53 */
               "{'ports':[{'protocol':'TCP','port':80},{'protocol':'UDP','port':53},"
               "{'protocol':'TCP'}]},"
               /* rule 1: default protocol TCP, a range and overlapping ports */
               "{'ports':[{'port':80,'endPort':90},{'port':85},{'port':91},{'port':443},"
               "{'protocol':'UDP','port':5000,'endPort':5010},{'protocol':'UDP','port':4999}]}]}");
    struct hnp_acl_list l;
    translate(c, "a", "s", &l);
    assert_int_equal(eval(&l, IN, "1.1.1.1", TCP, 22), ALLOW);
    assert_int_equal(eval(&l, IN, "1.1.1.1", UDP, 53), ALLOW);
    assert_int_equal(eval(&l, IN, "1.1.1.1", UDP, 5005), ALLOW);
    assert_int_equal(eval(&l, IN, "1.1.1.1", UDP, 54), BLOCK);
    hnp_acl_list_free(&l);
    hnp_cluster_free(c);
}

/* ---------- several policies, rejection, scale of lists ---------- */

static void test_policies_union(void **state)
{
    struct hnp_cluster *c = new_cluster();
    add_pod(c, "a", "s", "{'app':'s','tier':'web'}", "10.0.0.1");
    add_pod(c, "a", "x", "{'app':'x'}", "10.0.0.2");
    add_pod(c, "a", "y", "{'app':'y'}", "10.0.0.3");
    add_policy(c, "a", "p1",
               "{'podSelector':{'matchLabels':{'app':'s'}},'ingress':[{'from':[{'podSelector':"
               "{'matchLabels':{'app':'x'}}}],'ports':[{'port':80}]}]}");
    add_policy(c, "a", "p2",
               "{'podSelector':{'matchLabels':{'tier':'web'}},'policyTypes':['Egress'],"
               "'ingress':[{'from':[{'podSelector':{'matchLabels':{'app':'y'}}}]}],"
               "'egress':[{'to':[{'podSelector':{'matchLabels':{'app':'y'}}}]}]}");
    add_policy(c, "a", "p3",
               "{'podSelector':{'matchLabels':{'tier':'web'}},"
               "'ingress':[{'from':[{'podSelector':{'matchLabels':{'app':'y'}}}],"
               "'ports':[{'port':8080}]}]}");
    struct hnp_acl_list l;
    translate(c, "a", "s", &l);
    assert_int_equal(eval(&l, IN, "10.0.0.2", TCP, 80), ALLOW);   /* p1 */
    assert_int_equal(eval(&l, IN, "10.0.0.3", TCP, 8080), ALLOW); /* p3 */
    assert_int_equal(eval(&l, IN, "10.0.0.3", TCP, 80), BLOCK);   /* p2 ingress is inert */
    assert_int_equal(eval(&l, IN, "10.0.0.2", TCP, 8080), BLOCK);
    assert_int_equal(eval(&l, OUT, "10.0.0.3", TCP, 1), ALLOW); /* p2 */
    assert_int_equal(eval(&l, OUT, "10.0.0.2", TCP, 1), BLOCK);
    assert_non_null(find_acl(&l, "hnp-isolate-in"));
    assert_non_null(find_acl(&l, "hnp-isolate-out"));
    /* 1 node + 3 rules + 2 defaults. */
    assert_int_equal(l.count, 6);

    struct hnp_translator *tr = hnp_translator_new(c, &reject_opts);
    const struct hnp_policy **sel = NULL;
    size_t n = 0;
    assert_int_equal(hnp_translator_selecting(tr, hnp_cluster_pod(c, "a", "s"), &sel, &n), HNP_OK);
    assert_int_equal(n, 3);
    assert_string_equal(sel[0]->name, "p1");
    assert_string_equal(sel[1]->name, "p2");
    assert_string_equal(sel[2]->name, "p3");
    free(sel);
    assert_int_equal(hnp_translator_selecting(tr, hnp_cluster_pod(c, "a", "x"), &sel, &n), HNP_OK);
    assert_int_equal(n, 0);
    assert_null(sel);
    hnp_translator_free(tr);
    hnp_acl_list_free(&l);
    hnp_cluster_free(c);
}

static void test_rejected_policy(void **state)
{
    struct hnp_cluster *c = new_cluster();
    add_pod(c, "a", "s", "{'app':'s'}", "10.0.0.1");
    add_pod(c, "a", "x", "{'app':'x'}", "10.0.0.2");
    /* A named port cannot be enforced: the policy is rejected as a whole. */
    add_policy(c, "a", "named",
               "{'podSelector':{'matchLabels':{'app':'s'}},'policyTypes':['Ingress','Egress'],"
               "'ingress':[{'from':[{'podSelector':{}}],'ports':[{'port':'http'}]},{}],"
               "'egress':[{}]}");
    const struct hnp_policy *pol = hnp_cluster_policy(c, "a", "named");
    assert_non_null(pol);
    assert_true(hnp_policy_rejected(pol));

    struct hnp_acl_list l;
    translate(c, "a", "s", &l);
    assert_int_equal(l.count, 0);
    hnp_acl_list_free(&l);
    struct hnp_translator *tr = hnp_translator_new(c, &reject_opts);
    assert_false(hnp_translator_policy_applies(tr, pol));
    const struct hnp_policy **sel = NULL;
    size_t n = 7;
    assert_int_equal(hnp_translator_selecting(tr, hnp_cluster_pod(c, "a", "s"), &sel, &n), HNP_OK);
    assert_int_equal(n, 0);
    hnp_translator_free(tr);

    struct hnp_translate_options iso = {false, 0, HNP_UNSUPPORTED_ISOLATE};
    translate_opts(c, &iso, "a", "s", &l);
    assert_ids(&l, "hnp-node-in,hnp-isolate-in,hnp-isolate-out");
    assert_int_equal(eval(&l, IN, "10.0.0.2", TCP, 80), BLOCK);
    assert_int_equal(eval(&l, OUT, "10.0.0.2", TCP, 80), BLOCK);
    hnp_acl_list_free(&l);
    tr = hnp_translator_new(c, &iso);
    assert_true(hnp_translator_policy_applies(tr, pol));
    assert_int_equal(hnp_translator_selecting(tr, hnp_cluster_pod(c, "a", "s"), &sel, &n), HNP_OK);
    assert_int_equal(n, 1);
    assert_ptr_equal(sel[0], pol);
    free(sel);
    hnp_translator_free(tr);
    hnp_cluster_free(c);
}

/* A rejected policy beside an enforced one: only the enforced one's rules appear. */
static void test_rejected_beside_valid(void **state)
{
    struct hnp_cluster *c = new_cluster();
    add_pod(c, "a", "s", "{'app':'s'}", "10.0.0.1");
    add_pod(c, "a", "x", "{'app':'x'}", "10.0.0.2");
    add_policy(c, "a", "sctp",
               "{'podSelector':{},'policyTypes':['Egress'],'egress':[{'ports':[{'protocol':'SCTP',"
               "'port':9}]}]}");
    add_policy(c, "a", "ok",
               "{'podSelector':{},'ingress':[{'from':[{'podSelector':{'matchLabels':{'app':'x'}}}]"
               "}]}");
    struct hnp_acl_list l;
    translate(c, "a", "s", &l);
    assert_non_null(find_acl(&l, "hnp-open-out"));
    assert_int_equal(l.count, 4);
    hnp_acl_list_free(&l);
    struct hnp_translate_options iso = {false, 0, HNP_UNSUPPORTED_ISOLATE};
    translate_opts(c, &iso, "a", "s", &l);
    assert_non_null(find_acl(&l, "hnp-isolate-out"));
    assert_null(find_acl_part(&l, "-out0-"));
    assert_int_equal(eval(&l, IN, "10.0.0.2", TCP, 80), ALLOW);
    assert_int_equal(l.count, 4);
    hnp_acl_list_free(&l);
    hnp_cluster_free(c);
}

static void test_split_large_lists(void **state)
{
    struct hnp_cluster *c = new_cluster();
    add_pod(c, "a", "server", "{'app':'server'}", "10.255.0.1");
    /* 4002 clients at even addresses: no two merge, 4002 /32 entries. */
    for (unsigned i = 0; i < 4002; i++) {
        char name[32], addr[16];
        snprintf(name, sizeof(name), "c%u", i);
        hnp_ipv4_format(ip("10.1.0.0") + 2 * i, addr);
        add_pod(c, "a", name, "{'app':'c'}", addr);
    }
    add_policy(c, "a", "p",
               "{'podSelector':{'matchLabels':{'app':'server'}},'ingress':[{'from':[{'podSelector':"
               "{'matchLabels':{'app':'c'}}}],'ports':[{'port':443}]}]}");
    struct hnp_acl_list l;
    translate(c, "a", "server", &l);
    const struct hnp_acl *c0 = find_acl_part(&l, "-in0-tcp-0");
    const struct hnp_acl *c1 = find_acl_part(&l, "-in0-tcp-1");
    assert_non_null(c0);
    assert_non_null(c1);
    assert_string_not_equal(c0->id, c1->id);
    assert_int_equal(c0->n_remote_addrs, HNP_ACL_MAX_LIST);
    assert_int_equal(c1->n_remote_addrs, 2);
    assert_int_equal(c0->n_local_ports, 1);
    assert_int_equal(c1->n_local_ports, 1);
    assert_null(find_acl_part(&l, "-in0-tcp-2"));
    assert_int_equal(l.count, 5);
    char first[16], last[16];
    hnp_ipv4_format(ip("10.1.0.0") + 2 * 4000, first);
    hnp_ipv4_format(ip("10.1.0.0") + 2 * 4001, last);
    assert_int_equal(eval(&l, IN, "10.1.0.0", TCP, 443), ALLOW);
    assert_int_equal(eval(&l, IN, first, TCP, 443), ALLOW);
    assert_int_equal(eval(&l, IN, last, TCP, 443), ALLOW);
    assert_int_equal(eval(&l, IN, "10.1.0.1", TCP, 443), BLOCK);
    hnp_acl_list_free(&l);
    hnp_cluster_free(c);
}

/* ---------- stability and options ---------- */

static void test_ids_stable_and_deterministic(void **state)
{
    struct hnp_cluster *c1 = demo_cluster(true);
    struct hnp_cluster *c2 = new_cluster();
    /* Same objects in another order, plus an unrelated policy first. */
    add_policy(c2, "other", "x", "{'podSelector':{}}");
    add_pod(c2, "demo", "client", "{'app':'client'}", "10.224.0.80");
    add_policy(c2, "demo", "demo-policy",
               "{'podSelector':{'matchLabels':{'app':'server'}},'policyTypes':['Ingress'],"
               "'ingress':[{'from':[{'podSelector':{'matchLabels':{'app':'client'}}}],"
               "'ports':[{'protocol':'TCP','port':80}]}]}");
    add_pod(c2, "demo", "server", "{'app':'server'}", "10.224.0.72");
    add_ns(c2, "demo", "{}");

    struct hnp_acl_list a, b, d;
    translate(c1, "demo", "server", &a);
    translate(c1, "demo", "server", &b);
    translate(c2, "demo", "server", &d);
    char *ta = list_text(&a), *tb = list_text(&b), *td = list_text(&d);
    assert_string_equal(ta, tb);
    assert_string_equal(ta, td);
    assert_non_null(find_acl(&a, DEMO_TAG "-in0-tcp-0"));
    free(ta);
    free(tb);
    free(td);

    /* One translator, the same pod twice, appended to one list: two identical halves. */
    struct hnp_translator *tr = hnp_translator_new(c1, &reject_opts);
    struct hnp_acl_list twice;
    hnp_acl_list_init(&twice);
    const struct hnp_pod *server = hnp_cluster_pod(c1, "demo", "server");
    assert_int_equal(hnp_translator_pod(tr, server, &twice, NULL), HNP_OK);
    assert_int_equal(hnp_translator_pod(tr, server, &twice, NULL), HNP_OK);
    assert_int_equal(twice.count, 2 * a.count);
    for (size_t i = 0; i < a.count; i++) {
        char *x = acl_text(&a.items[i]), *y = acl_text(&twice.items[i]),
             *z = acl_text(&twice.items[a.count + i]);
        assert_string_equal(x, y);
        assert_string_equal(x, z);
        free(x);
        free(y);
        free(z);
    }
    hnp_acl_list_free(&twice);
    hnp_translator_free(tr);
    hnp_acl_list_free(&a);
    hnp_acl_list_free(&b);
    hnp_acl_list_free(&d);
    hnp_cluster_free(c1);
    hnp_cluster_free(c2);
}

static void test_node_ip(void **state)
{
    struct hnp_cluster *c = demo_cluster(true);
    add_pod_nohost(c, "demo", "server2", "{'app':'server'}", "10.224.0.73");
    struct hnp_translate_options opts = {true, ip("10.240.0.99"), HNP_UNSUPPORTED_REJECT};
    struct hnp_acl_list l;
    translate_opts(c, &opts, "demo", "server", &l);
    assert_addrs(find_acl(&l, "hnp-node-in"), "10.240.0.99"); /* overrides hostIP */
    assert_int_equal(find_acl(&l, "hnp-node-in")->priority, HNP_PRIORITY_NODE);
    assert_int_equal(eval(&l, IN, "10.240.0.99", TCP, 8080), ALLOW);
    assert_int_equal(eval(&l, IN, "10.240.0.4", TCP, 8080), BLOCK);
    hnp_acl_list_free(&l);
    translate_opts(c, &opts, "demo", "server2", &l);
    assert_addrs(find_acl(&l, "hnp-node-in"), "10.240.0.99");
    hnp_acl_list_free(&l);
    translate(c, "demo", "server2", &l); /* no hostIP, no override */
    assert_null(find_acl(&l, "hnp-node-in"));
    assert_int_equal(l.count, 3);
    hnp_acl_list_free(&l);
    hnp_cluster_free(c);
}

static void test_non_endpoints(void **state)
{
    struct hnp_cluster *c = new_cluster();
    add_pod(c, "a", "server", "{'app':'s'}", "10.0.0.1");
    addf(c, "{'kind':'Pod','metadata':{'name':'hostnet','namespace':'a','labels':{'app':'s'}},"
            "'spec':{'nodeName':'node1','hostNetwork':true},"
            "'status':{'phase':'Running','podIP':'10.240.0.4','hostIP':'10.240.0.4'}}");
    addf(c, "{'kind':'Pod','metadata':{'name':'done','namespace':'a','labels':{'app':'s'}},"
            "'spec':{'nodeName':'node1'},"
            "'status':{'phase':'Succeeded','podIP':'10.0.0.2','hostIP':'10.240.0.4'}}");
    addf(c, "{'kind':'Pod','metadata':{'name':'failed','namespace':'a','labels':{'app':'s'}},"
            "'spec':{'nodeName':'node1'},"
            "'status':{'phase':'Failed','podIP':'10.0.0.3','hostIP':'10.240.0.4'}}");
    addf(c, "{'kind':'Pod','metadata':{'name':'pending','namespace':'a','labels':{'app':'s'}},"
            "'spec':{},'status':{'phase':'Pending'}}");
    add_policy(c, "a", "p",
               "{'podSelector':{'matchLabels':{'app':'s'}},"
               "'ingress':[{'from':[{'podSelector':{'matchLabels':{'app':'s'}}}]}]}");
    const char *others[] = {"hostnet", "done", "failed", "pending"};
    struct hnp_acl_list l;
    for (size_t i = 0; i < 4; i++) {
        translate(c, "a", others[i], &l);
        assert_int_equal(l.count, 0);
        hnp_acl_list_free(&l);
    }
    translate(c, "a", "server", &l);
    /* The only endpoint that matches the peer is the server itself. */
    assert_addrs(find_acl_part(&l, "-in0-all-0"), "10.0.0.1");
    hnp_acl_list_free(&l);

    struct hnp_translator *tr = hnp_translator_new(c, &reject_opts);
    assert_ptr_equal(hnp_translator_pod_by_ip(tr, ip("10.0.0.1")),
                     hnp_cluster_pod(c, "a", "server"));
    assert_null(hnp_translator_pod_by_ip(tr, ip("10.0.0.2")));
    assert_null(hnp_translator_pod_by_ip(tr, ip("10.0.0.3")));
    assert_null(hnp_translator_pod_by_ip(tr, ip("10.240.0.4")));
    assert_null(hnp_translator_pod_by_ip(tr, ip("0.0.0.0")));
    assert_null(hnp_translator_pod_by_ip(tr, ip("255.255.255.255")));
    hnp_translator_free(tr);
    hnp_cluster_free(c);
}

static void test_pod_by_ip(void **state)
{
    struct hnp_cluster *c = new_cluster();
    struct hnp_translator *tr = hnp_translator_new(c, &reject_opts);
    assert_null(hnp_translator_pod_by_ip(tr, ip("10.0.0.1"))); /* empty cluster */
    hnp_translator_free(tr);
    add_pod(c, "a", "p3", "{}", "10.0.0.3");
    add_pod(c, "b", "p1", "{}", "10.0.0.1");
    addf(c, "{'kind':'Pod','metadata':{'name':'dual','namespace':'a'},'spec':{},"
            "'status':{'phase':'Running','podIP':'10.0.0.7',"
            "'podIPs':[{'ip':'10.0.0.7'},{'ip':'fd00::7'},{'ip':'10.0.9.9'}]}}");
    tr = hnp_translator_new(c, &reject_opts);
    assert_ptr_equal(hnp_translator_pod_by_ip(tr, ip("10.0.0.1")), hnp_cluster_pod(c, "b", "p1"));
    assert_ptr_equal(hnp_translator_pod_by_ip(tr, ip("10.0.0.3")), hnp_cluster_pod(c, "a", "p3"));
    assert_ptr_equal(hnp_translator_pod_by_ip(tr, ip("10.0.0.7")), hnp_cluster_pod(c, "a", "dual"));
    assert_ptr_equal(hnp_translator_pod_by_ip(tr, ip("10.0.9.9")), hnp_cluster_pod(c, "a", "dual"));
    assert_null(hnp_translator_pod_by_ip(tr, ip("10.0.0.2")));
    assert_null(hnp_translator_pod_by_ip(tr, ip("10.0.0.4")));
    hnp_translator_free(tr);
    hnp_cluster_free(c);
}

/* ---------- data-driven cases (tests/data/translate/<case>/) ---------- */

static enum hnp_err load_object(const struct hnp_loaded_object *object, void *ctx)
{
    struct hnp_error err;
    enum hnp_err rc = hnp_cluster_add_json(ctx, object->obj, NULL, NULL, &err);
    if (rc != HNP_OK)
        fail_msg("%s:%ld: %s", object->name, object->line, err.message);
    return rc;
}

/* The ACLs of one pod as [{"pod": "ns/name", "acls": [ACL as HNS gets it, ...]}] entry. */
static json_t *pod_result(struct hnp_translator *tr, const struct hnp_pod *pod)
{
    struct hnp_acl_list l;
    hnp_acl_list_init(&l);
    assert_int_equal(hnp_translator_pod(tr, pod, &l, NULL), HNP_OK);
    check_invariants(&l);
    json_t *acls = json_array();
    assert_non_null(acls);
    for (size_t i = 0; i < l.count; i++)
        assert_int_equal(json_array_append_new(acls, hnp_acl_to_json(&l.items[i])), 0);
    hnp_acl_list_free(&l);
    char name[512];
    snprintf(name, sizeof(name), "%s/%s", pod->ns, pod->name);
    json_t *entry = json_pack("{s:s, s:o}", "pod", name, "acls", acls);
    assert_non_null(entry);
    return entry;
}

/* The options of case.json: "node_ip" and "unsupported" ("reject", the default, or "isolate"). */
static struct hnp_translate_options case_options(const char *name, const json_t *spec)
{
    struct hnp_translate_options opts = reject_opts;
    const json_t *node_ip = json_object_get(spec, "node_ip");
    if (node_ip != NULL) {
        if (!json_is_string(node_ip) || !hnp_ipv4_parse(json_string_value(node_ip), &opts.node_ip))
            fail_msg("case %s: node_ip must be an IPv4 address", name);
        opts.has_node_ip = true;
    }
    const char *unsupported = json_string_value(json_object_get(spec, "unsupported"));
    if (unsupported != NULL && strcmp(unsupported, "isolate") == 0)
        opts.unsupported = HNP_UNSUPPORTED_ISOLATE;
    else if (unsupported != NULL && strcmp(unsupported, "reject") != 0)
        fail_msg("case %s: unsupported must be \"reject\" or \"isolate\"", name);
    return opts;
}

/*
 * Run the case in folder name: load its objects, translate its pods with its
 * options and compare the result with expected.json exactly (json_equal: the
 * same pods in the same order, the same ACLs in the same order, the same
 * members and values). HNP_UPDATE_GOLDEN=1 rewrites expected.json instead
 * (review the diff before committing it).
 */
static void run_case(const char *name)
{
    char rel[512], path[1024];
    snprintf(rel, sizeof(rel), "translate/%s/case.json", name);
    json_t *spec = hnp_test_json_file(rel);
    const char *comment = json_string_value(json_object_get(spec, "comment"));
    if (comment == NULL || strlen(comment) < 10)
        fail_msg("case %s: case.json must say what the case checks in \"comment\"", name);
    const char *objects = json_string_value(json_object_get(spec, "objects"));
    snprintf(path, sizeof(path), "%s/translate/%s/%s", HNP_TEST_DATA_DIR, name,
             objects != NULL ? objects : "objects.yaml");
    struct hnp_cluster *c = new_cluster();
    struct hnp_error err;
    if (hnp_load_file(path, NULL, load_object, c, &err) != HNP_OK)
        fail_msg("loading %s: %s", path, err.message);

    struct hnp_translate_options opts = case_options(name, spec);
    struct hnp_translator *tr = hnp_translator_new(c, &opts);
    assert_non_null(tr);
    json_t *got = json_array();
    assert_non_null(got);
    const json_t *pods = json_object_get(spec, "pods");
    if (pods == NULL) {
        for (size_t i = 0; i < hnp_cluster_pod_count(c); i++)
            json_array_append_new(got, pod_result(tr, hnp_cluster_pod_at(c, i)));
    } else {
        size_t i;
        const json_t *item;
        json_array_foreach(pods, i, item)
        {
            char ns[256];
            const char *text = json_string_value(item);
            const char *slash = text != NULL ? strchr(text, '/') : NULL;
            if (slash == NULL || (size_t)(slash - text) >= sizeof(ns))
                fail_msg("case %s: pods[%zu] must be \"namespace/name\"", name, i);
            memcpy(ns, text, (size_t)(slash - text));
            ns[slash - text] = '\0';
            const struct hnp_pod *pod = hnp_cluster_pod(c, ns, slash + 1);
            if (pod == NULL)
                fail_msg("case %s: no pod %s", name, text);
            json_array_append_new(got, pod_result(tr, pod));
        }
    }
    hnp_translator_free(tr);
    hnp_cluster_free(c);

    snprintf(rel, sizeof(rel), "translate/%s/expected.json", name);
    char *got_text = json_dumps(got, JSON_INDENT(2));
    assert_non_null(got_text);
    if (getenv("HNP_UPDATE_GOLDEN") != NULL) {
        snprintf(path, sizeof(path), "%s/%s", HNP_TEST_DATA_DIR, rel);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fputs(got_text, f);
        fputs("\n", f);
        fclose(f);
    }
    json_t *want = hnp_test_json_file(rel);
    if (!json_equal(got, want)) {
        char *want_text = json_dumps(want, JSON_INDENT(2));
        fail_msg("case %s: %s differs\n--- expected\n%s\n--- got\n%s", name, rel, want_text,
                 got_text);
    }
    free(got_text);
    json_decref(want);
    json_decref(got);
    json_decref(spec);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every folder of tests/data/translate/ is a case; they run in name order. */
static void test_data_cases(void **state)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/translate", HNP_TEST_DATA_DIR);
    DIR *d = opendir(dir);
    if (d == NULL)
        fail_msg("cannot open %s", dir);
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        assert_true(n < sizeof(names) / sizeof(names[0]));
        names[n] = malloc(strlen(e->d_name) + 1);
        assert_non_null(names[n]);
        strcpy(names[n++], e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), compare_names);
    /* The cases of the repository: fewer means the folder was not found whole. */
    assert_true(n >= 19);
    for (size_t i = 0; i < n; i++) {
        if (getenv("HNP_TEST_VERBOSE") != NULL)
            printf("translate case %s\n", names[i]);
        run_case(names[i]);
        free(names[i]);
    }
}

/* ---------- scale ---------- */

static double seconds(void)
{
    return (double)hnp_monotonic_ms() / 1e3;
}

/*
 * 20,000 pods in 2,000 namespaces, 1,000 policies mixing podSelector-only,
 * namespaceSelector and ipBlock peers; translating the 110 pods of one node
 * must take well under 0.2 s (a generous bound under sanitizers, none under
 * valgrind).
 */
static void test_scale(void **state)
{
    struct hnp_cluster *c = new_cluster();
    for (unsigned n = 0; n < 2000; n++) {
        char name[32];
        snprintf(name, sizeof(name), "ns%u", n);
        addf(c, "{'kind':'Namespace','metadata':{'name':'%s','labels':{'team':'t%u'}}}", name,
             n % 20);
    }
    for (unsigned i = 0; i < 20000; i++) {
        addf(c,
             "{'kind':'Pod','metadata':{'name':'p%u','namespace':'ns%u','labels':"
             "{'app':'a%u','tier':'%s'}},'spec':{'nodeName':'node%u'},"
             "'status':{'phase':'Running','podIP':'10.%u.%u.%u','hostIP':'10.240.0.%u'}}",
             i, i % 2000, i % 7, i % 3 ? "web" : "db", i % 182, 1 + i / 65536, (i / 256) % 256,
             i % 256, i % 182);
    }
    for (unsigned k = 0; k < 1000; k++) {
        char ns[32], name[32], spec[1024];
        snprintf(ns, sizeof(ns), "ns%u", (k * 2) % 2000);
        snprintf(name, sizeof(name), "pol%u", k);
        snprintf(spec, sizeof(spec),
                 "{'podSelector':{'matchLabels':{'tier':'web'}},'policyTypes':['Ingress','Egress'],"
                 "'ingress':[{'from':[{'podSelector':{'matchLabels':{'app':'a%u'}}}],"
                 "'ports':[{'port':%u}]},"
                 "{'from':[{'namespaceSelector':{'matchLabels':{'team':'t%u'}},"
                 "'podSelector':{'matchLabels':{'tier':'db'}}}]}],"
                 "'egress':[{'to':[{'namespaceSelector':{'matchLabels':{'team':'t%u'}}}]},"
                 "{'to':[{'ipBlock':{'cidr':'172.16.%u.0/24'}}],'ports':[{'port':53,"
                 "'protocol':'UDP'}]}]}",
                 k % 7, 8000 + k % 100, k % 20, (k + 1) % 20, k % 256);
        add_policy(c, ns, name, spec);
    }
    /* node8 holds pods 8 + 182j: even, so in the even namespaces that hold the policies. */
    const struct hnp_pod *node_pods[200];
    size_t n_node = 0;
    for (size_t i = 0; i < hnp_cluster_pod_count(c); i++) {
        const struct hnp_pod *p = hnp_cluster_pod_at(c, i);
        if (strcmp(p->node, "node8") == 0 && n_node < 200)
            node_pods[n_node++] = p;
    }
    assert_true(n_node >= 109 && n_node <= 111);

    struct hnp_acl_list l;
    hnp_acl_list_init(&l);
    size_t total = 0, isolated = 0;
    double t0 = seconds();
    struct hnp_translator *tr = hnp_translator_new(c, &reject_opts);
    assert_non_null(tr);
    for (size_t i = 0; i < n_node; i++) {
        assert_int_equal(hnp_translator_pod(tr, node_pods[i], &l, NULL), HNP_OK);
        if (l.count > 0) {
            isolated++;
            assert_int_equal(hnp_acl_list_conflicts(&l), 0);
        }
        total += l.count;
        hnp_acl_list_free(&l);
    }
    double elapsed = seconds() - t0;

    /* Spot-check one translation against the semantics. */
    const struct hnp_pod *web = hnp_cluster_pod(c, "ns8", "p8"); /* 8 % 3 != 0: web */
    assert_non_null(web);
    assert_int_equal(hnp_translator_pod(tr, web, &l, NULL), HNP_OK);
    assert_non_null(find_acl(&l, "hnp-isolate-in"));
    assert_non_null(find_acl(&l, "hnp-isolate-out"));
    hnp_acl_list_free(&l);
    hnp_translator_free(tr);
    assert_true(isolated > 0);
    assert_true(total > isolated * 4);

    double budget = 0.2;
#if defined(__SANITIZE_ADDRESS__)
    budget = 4.0;
#endif
    if (getenv("HNP_TEST_VERBOSE") != NULL)
        printf("scale: %zu pods, %zu isolated, %zu ACLs, %.4f s\n", n_node, isolated, total,
               elapsed);
    if (!UNDER_VALGRIND() && elapsed >= budget)
        fail_msg("translating one node's pods took %.3f s (budget %.1f s)", elapsed, budget);
    hnp_cluster_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_unlabelled),
        cmocka_unit_test(test_demo_labelled),
        cmocka_unit_test(test_demo_relabel_in_place),
        cmocka_unit_test(test_default_deny_ingress),
        cmocka_unit_test(test_default_deny_egress),
        cmocka_unit_test(test_ingress_empty_vs_allow_all),
        cmocka_unit_test(test_policy_types_defaults),
        cmocka_unit_test(test_pod_selector_confined_to_policy_namespace),
        cmocka_unit_test(test_ip_block),
        cmocka_unit_test(test_peers_match_nothing),
        cmocka_unit_test(test_ports),
        cmocka_unit_test(test_policies_union),
        cmocka_unit_test(test_rejected_policy),
        cmocka_unit_test(test_rejected_beside_valid),
        cmocka_unit_test(test_split_large_lists),
        cmocka_unit_test(test_ids_stable_and_deterministic),
        cmocka_unit_test(test_node_ip),
        cmocka_unit_test(test_non_endpoints),
        cmocka_unit_test(test_pod_by_ip),
        cmocka_unit_test(test_data_cases),
        cmocka_unit_test(test_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
