/*
 * conformance.c - the Kubernetes upstream NetworkPolicy e2e suite
 * (shared/conformance/upstream-e2e.yaml) run through the real engine.
 *
 * For every case of the file the test builds the cluster the case describes
 * (the model's namespaces and pods with the case's label overrides, then the
 * case's NetworkPolicy objects) with hnp_cluster_add_json, translates every
 * pod to the ACL set HNS would be given (round-tripped through the exact JSON
 * HNS takes), and evaluates every probe (port x protocol) for every ordered
 * pair of different pods under HNS rules: the source's Out ACLs and the
 * destination's In ACLs must both allow. The verdicts must equal the file's
 * table; self pairs are don't-care (upstream ignores loopback).
 *
 * A policy that uses something Windows cannot enforce (named port, SCTP,
 * NotIn / DoesNotExist, except CIDR) is rejected by the engine and applies
 * nothing, so for such a case the expectation is the table without that
 * policy. The file cannot say what that is; reference.c, an independent
 * evaluator of plain NetworkPolicy semantics, computes it. The reference
 * earns that trust in the "<id>-reference" tests, where it must reproduce
 * every case of the file exactly (diagonal included) with all policies.
 * Each "<id>" test also asserts that the engine rejects exactly the
 * policies the reference flags, for exactly the features it flags.
 *
 * Usage: conformance [upstream-e2e.yaml]. cmocka prints its summary; a last
 * line counts the verdicts checked.
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/acl.h"
#include "hnsnetpol/cluster.h"
#include "hnsnetpol/error.h"
#include "hnsnetpol/explain.h"
#include "hnsnetpol/load.h"
#include "hnsnetpol/objects.h"
#include "hnsnetpol/policy.h"
#include "hnsnetpol/translate.h"

#include "reference.h"

/* Mismatch lines printed per test before the rest are only counted. */
#define MAX_REPORTED 40

/* One probe: a destination port and a protocol. */
struct probe {
    unsigned port;
    const char *protocol; /* "TCP", "UDP", "SCTP"; borrowed from the document */
    uint8_t number;       /* IANA protocol number */
    char label[32];       /* "80/TCP", as the file writes it */
};

/* One pod of the model. Strings and labels are borrowed from the document. */
struct model_pod {
    const char *key; /* "x/a" */
    const char *ns;
    const char *name;
    uint32_t ip;
    const char *ip_text;
    const json_t *labels;
};

/* The file's model: what every case starts from. */
struct model {
    json_t *doc;              /* owned: the whole file */
    const json_t *namespaces; /* model.namespaces */
    const json_t *ports;      /* model.containerPorts_every_pod */
    json_t *empty;            /* owned: {} for absent label maps */
    struct model_pod *pods;   /* owned, in matrix_order */
    size_t n_pods;
    struct probe *probes; /* owned */
    size_t n_probes;
};

/* One case of the file; the initial_state of its two cmocka tests. */
struct conf_case {
    const char *id;
    char ref_name[64]; /* "<id>-reference" */
    const json_t *json;
    const struct model *model;
};

/* Verdicts checked, for the closing line. */
static size_t engine_checks;
static size_t reference_checks;

/* ---- reading the file ---- */

static uint8_t protocol_number(const char *name)
{
    if (strcmp(name, "TCP") == 0)
        return 6;
    if (strcmp(name, "UDP") == 0)
        return 17;
    if (strcmp(name, "SCTP") == 0)
        return 132;
    return 0;
}

static long find_pod(const struct model *m, const char *key, size_t len)
{
    for (size_t i = 0; i < m->n_pods; i++) {
        if (strlen(m->pods[i].key) == len && strncmp(m->pods[i].key, key, len) == 0)
            return (long)i;
    }
    return -1;
}

static long find_probe(const struct model *m, const char *label)
{
    for (size_t i = 0; i < m->n_probes; i++) {
        if (strcmp(m->probes[i].label, label) == 0)
            return (long)i;
    }
    return -1;
}

/* Fill *m from the document (borrowed; m takes its own reference). False with why on error. */
static bool model_load(json_t *doc, struct model *m, char *why, size_t why_len)
{
    memset(m, 0, sizeof(*m));
    m->doc = json_incref(doc);
    m->empty = json_object();
    const json_t *model = json_object_get(doc, "model");
    const json_t *pods = json_object_get(model, "pods");
    const json_t *order = json_object_get(model, "matrix_order");
    const json_t *probes = json_object_get(model, "probes");
    const json_t *ports = json_object_get(probes, "ports");
    const json_t *protocols = json_object_get(probes, "protocols");
    m->namespaces = json_object_get(model, "namespaces");
    m->ports = json_object_get(model, "containerPorts_every_pod");
    if (!json_is_object(pods) || !json_is_array(order) || !json_is_object(m->namespaces) ||
        !json_is_array(m->ports) || json_array_size(ports) == 0 ||
        json_array_size(protocols) == 0 || !json_is_array(json_object_get(doc, "cases"))) {
        snprintf(why, why_len,
                 "model.pods, model.matrix_order, model.namespaces, "
                 "model.containerPorts_every_pod, model.probes or cases missing");
        return false;
    }

    m->n_pods = json_array_size(order);
    m->pods = calloc(m->n_pods, sizeof(*m->pods));
    m->n_probes = json_array_size(ports) * json_array_size(protocols);
    m->probes = calloc(m->n_probes, sizeof(*m->probes));
    if (m->pods == NULL || m->probes == NULL || m->empty == NULL) {
        snprintf(why, why_len, "out of memory");
        return false;
    }
    for (size_t i = 0; i < m->n_pods; i++) {
        struct model_pod *p = &m->pods[i];
        p->key = json_string_value(json_array_get(order, i));
        const json_t *pod = json_object_get(pods, p->key != NULL ? p->key : "");
        p->ns = json_string_value(json_object_get(pod, "namespace"));
        p->name = json_string_value(json_object_get(pod, "name"));
        p->ip_text = json_string_value(json_object_get(pod, "ip"));
        p->labels = json_object_get(pod, "labels");
        if (p->labels == NULL)
            p->labels = m->empty;
        if (p->ns == NULL || p->name == NULL || p->ip_text == NULL ||
            !hnp_ref_parse_ipv4(p->ip_text, &p->ip) || !json_is_object(p->labels)) {
            snprintf(why, why_len, "model.pods[%s]: namespace, name, ip or labels missing or bad",
                     p->key != NULL ? p->key : "?");
            return false;
        }
        if (json_object_get(m->namespaces, p->ns) == NULL) {
            snprintf(why, why_len, "model.pods[%s]: namespace %s is not in model.namespaces",
                     p->key, p->ns);
            return false;
        }
    }
    if (json_object_size(pods) != m->n_pods) {
        snprintf(why, why_len, "model.matrix_order does not list every pod once");
        return false;
    }

    size_t k = 0, i, j;
    const json_t *port, *proto;
    json_array_foreach(ports, i, port)
    {
        json_array_foreach(protocols, j, proto)
        {
            struct probe *pr = &m->probes[k++];
            json_int_t n = json_integer_value(port);
            pr->protocol = json_string_value(proto);
            if (!json_is_integer(port) || n < 1 || n > 65535 || pr->protocol == NULL ||
                protocol_number(pr->protocol) == 0) {
                snprintf(why, why_len, "model.probes: bad port or protocol");
                return false;
            }
            pr->port = (unsigned)n;
            pr->number = protocol_number(pr->protocol);
            snprintf(pr->label, sizeof(pr->label), "%u/%s", pr->port, pr->protocol);
        }
    }
    return true;
}

static void model_free(struct model *m)
{
    free(m->pods);
    free(m->probes);
    json_decref(m->empty);
    json_decref(m->doc);
}

/* One loaded case: its policies, its pods as the reference sees them, and the file's table. */
struct case_data {
    const struct model *m;
    const json_t **policies; /* borrowed */
    size_t n_policies;
    struct hnp_ref_pod *pods; /* [n_pods], borrowed fields */
    bool *denied;       /* [probe][from][to]: denied, or for from == to listed in denied_self */
    char problem[1024]; /* first error in the case, empty when none */
};

static size_t cell(const struct model *m, size_t probe, size_t from, size_t to)
{
    return (probe * m->n_pods + from) * m->n_pods + to;
}

static void case_data_free(struct case_data *cd)
{
    free(cd->policies);
    free(cd->pods);
    free(cd->denied);
}

/* Mark the pairs of list ("x/a->x/b") in the probes of group; self_list says which list it is. */
static bool mark_pairs(struct case_data *cd, const json_t *list, const bool *in_group,
                       bool self_list)
{
    const struct model *m = cd->m;
    size_t i;
    const json_t *item;
    if (list != NULL && !json_is_array(list)) {
        snprintf(cd->problem, sizeof(cd->problem), "expect: %s is not a list",
                 self_list ? "denied_self" : "denied");
        return false;
    }
    json_array_foreach(list, i, item)
    {
        const char *text = json_string_value(item);
        const char *arrow = text != NULL ? strstr(text, "->") : NULL;
        long from = arrow != NULL ? find_pod(m, text, (size_t)(arrow - text)) : -1;
        long to = arrow != NULL ? find_pod(m, arrow + 2, strlen(arrow + 2)) : -1;
        if (from < 0 || to < 0 || (from == to) != self_list) {
            snprintf(cd->problem, sizeof(cd->problem), "expect: bad %s entry %s",
                     self_list ? "denied_self" : "denied", text != NULL ? text : "(not a string)");
            return false;
        }
        for (size_t p = 0; p < m->n_probes; p++) {
            if (in_group[p])
                cd->denied[cell(m, p, (size_t)from, (size_t)to)] = true;
        }
    }
    return true;
}

/* Load case c of model m into *cd (zeroed first). False with cd->problem on a file error. */
static bool case_data_load(const struct model *m, const json_t *c, struct case_data *cd)
{
    memset(cd, 0, sizeof(*cd));
    cd->m = m;
    const json_t *policies = json_object_get(c, "policies");
    const json_t *expect = json_object_get(c, "expect");
    const json_t *override = json_object_get(c, "labels_override");
    const json_t *ns_override = json_object_get(override, "namespaces");
    const json_t *pod_override = json_object_get(override, "pods");
    if ((policies != NULL && !json_is_array(policies)) || !json_is_array(expect)) {
        snprintf(cd->problem, sizeof(cd->problem), "policies or expect is not a list");
        return false;
    }

    cd->n_policies = json_array_size(policies);
    cd->policies = calloc(cd->n_policies + 1, sizeof(*cd->policies));
    cd->pods = calloc(m->n_pods, sizeof(*cd->pods));
    cd->denied = calloc(m->n_probes * m->n_pods * m->n_pods, sizeof(*cd->denied));
    bool *in_group = calloc(m->n_probes, sizeof(*in_group));
    bool *covered = calloc(m->n_probes, sizeof(*covered));
    bool ok = false;
    if (cd->policies == NULL || cd->pods == NULL || cd->denied == NULL || in_group == NULL ||
        covered == NULL) {
        snprintf(cd->problem, sizeof(cd->problem), "out of memory");
        goto done;
    }
    for (size_t i = 0; i < cd->n_policies; i++) {
        cd->policies[i] = json_array_get(policies, i);
        if (!json_is_object(cd->policies[i])) {
            snprintf(cd->problem, sizeof(cd->problem), "policies[%zu] is not an object", i);
            goto done;
        }
    }

    for (size_t i = 0; i < m->n_pods; i++) {
        const struct model_pod *mp = &m->pods[i];
        struct hnp_ref_pod *rp = &cd->pods[i];
        rp->ns = mp->ns;
        rp->name = mp->name;
        rp->ip = mp->ip;
        rp->labels = json_object_get(pod_override, mp->key);
        if (rp->labels == NULL)
            rp->labels = mp->labels;
        rp->ns_labels = json_object_get(ns_override, mp->ns);
        if (rp->ns_labels == NULL)
            rp->ns_labels = json_object_get(json_object_get(m->namespaces, mp->ns), "labels");
        if (rp->ns_labels == NULL)
            rp->ns_labels = m->empty;
        rp->container_ports = m->ports;
        if (!json_is_object(rp->labels) || !json_is_object(rp->ns_labels)) {
            snprintf(cd->problem, sizeof(cd->problem), "labels of %s or its namespace not a map",
                     mp->key);
            goto done;
        }
    }

    size_t g;
    const json_t *group;
    json_array_foreach(expect, g, group)
    {
        size_t i;
        const json_t *label;
        memset(in_group, 0, m->n_probes * sizeof(*in_group));
        if (!json_is_array(json_object_get(group, "probes"))) {
            snprintf(cd->problem, sizeof(cd->problem), "expect[%zu].probes is not a list", g);
            goto done;
        }
        json_array_foreach(json_object_get(group, "probes"), i, label)
        {
            long p = json_is_string(label) ? find_probe(m, json_string_value(label)) : -1;
            if (p < 0 || covered[p]) {
                snprintf(cd->problem, sizeof(cd->problem),
                         "expect[%zu]: probe %s unknown or listed twice", g,
                         json_is_string(label) ? json_string_value(label) : "?");
                goto done;
            }
            covered[p] = in_group[p] = true;
        }
        if (!mark_pairs(cd, json_object_get(group, "denied"), in_group, false) ||
            !mark_pairs(cd, json_object_get(group, "denied_self"), in_group, true))
            goto done;
    }
    for (size_t p = 0; p < m->n_probes; p++) {
        if (!covered[p]) {
            snprintf(cd->problem, sizeof(cd->problem), "expect: probe %s in no group",
                     m->probes[p].label);
            goto done;
        }
    }
    ok = true;
done:
    free(in_group);
    free(covered);
    return ok;
}

/* ---- the reference against the file ---- */

static void test_reference(void **state)
{
    const struct conf_case *cc = *state;
    const struct model *m = cc->model;
    struct case_data cd;
    size_t mismatches = 0;

    if (case_data_load(m, cc->json, &cd)) {
        for (size_t p = 0; p < m->n_probes; p++) {
            const struct probe *pr = &m->probes[p];
            for (size_t f = 0; f < m->n_pods; f++) {
                for (size_t t = 0; t < m->n_pods; t++) {
                    bool want = !cd.denied[cell(m, p, f, t)];
                    bool got = hnp_ref_allowed(cd.policies, cd.n_policies, &cd.pods[f], &cd.pods[t],
                                               pr->protocol, pr->port);
                    reference_checks++;
                    if (want == got)
                        continue;
                    if (mismatches++ < MAX_REPORTED)
                        print_error("%s %s %s->%s: the file says %s, the reference %s\n", cc->id,
                                    pr->label, m->pods[f].key, m->pods[t].key,
                                    want ? "allowed" : "denied", got ? "allowed" : "denied");
                }
            }
        }
    }
    char problem[sizeof(cd.problem)];
    memcpy(problem, cd.problem, sizeof(problem));
    case_data_free(&cd);
    if (problem[0] != '\0')
        fail_msg("%s: %s", cc->id, problem);
    if (mismatches > 0)
        fail_msg("%s: the reference disagrees with the file on %zu verdicts", cc->id, mismatches);
}

/* ---- the engine ---- */

static json_t *namespace_json(const char *name, const json_t *labels)
{
    return json_pack("{s:s, s:s, s:{s:s, s:O}}", "apiVersion", "v1", "kind", "Namespace",
                     "metadata", "name", name, "labels", (json_t *)labels);
}

static json_t *pod_json(const struct model_pod *mp, const json_t *labels, const json_t *ports)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:O},"
                     " s:{s:s, s:[{s:s, s:s, s:O}]},"
                     " s:{s:s, s:s, s:[{s:s}]}}",
                     "apiVersion", "v1", "kind", "Pod", "metadata", "name", mp->name, "namespace",
                     mp->ns, "labels", (json_t *)labels, "spec", "nodeName", "node-1", "containers",
                     "name", "agnhost", "image", "registry.k8s.io/e2e-test-images/agnhost", "ports",
                     (json_t *)ports, "status", "phase", "Running", "podIP", mp->ip_text, "podIPs",
                     "ip", mp->ip_text);
}

/* Everything one engine run holds; freed by engine_free. */
struct engine {
    struct hnp_cluster *cluster;
    struct hnp_translator *tr;
    const struct hnp_pod **pods; /* [n_pods] borrowed from cluster */
    struct hnp_acl_list *acls;   /* [n_pods] as translated */
    struct hnp_acl_list *hns;    /* [n_pods] as HNS parses their JSON back */
    unsigned *features;          /* [n_policies] reference's HNP_REF_* bits */
    const json_t **enforced;     /* policies without reference features */
    size_t n_enforced;
    size_t n_pods;
};

static void engine_free(struct engine *e)
{
    for (size_t i = 0; e->acls != NULL && i < e->n_pods; i++)
        hnp_acl_list_free(&e->acls[i]);
    for (size_t i = 0; e->hns != NULL && i < e->n_pods; i++)
        hnp_acl_list_free(&e->hns[i]);
    free(e->acls);
    free(e->hns);
    free(e->pods);
    free(e->features);
    free(e->enforced);
    hnp_translator_free(e->tr);
    hnp_cluster_free(e->cluster);
}

/* Put obj (new reference, stolen; NULL = out of memory) into the cluster; false with problem. */
static bool add_object(struct engine *e, json_t *obj, const char *what, char *problem, size_t len)
{
    struct hnp_error err = {0};
    struct hnp_source src = {0}; /* synthesized: no file, no line */
    bool kept = false;
    enum hnp_err rc =
        obj != NULL ? hnp_cluster_add_json(e->cluster, obj, &src, &kept, &err) : HNP_ERR_NOMEM;
    json_decref(obj);
    if (rc != HNP_OK || !kept) {
        snprintf(problem, len, "%s not taken by hnp_cluster_add_json: %s (%.200s: %.400s)", what,
                 hnp_err_name(rc), err.where, err.message);
        return false;
    }
    return true;
}

static const struct {
    unsigned ref;
    enum hnp_feature engine;
} feature_map[] = {
    {HNP_REF_NAMED_PORT, HNP_FEATURE_NAMED_PORT},
    {HNP_REF_SCTP, HNP_FEATURE_SCTP},
    {HNP_REF_NEGATIVE_SELECTOR, HNP_FEATURE_NEGATIVE_SELECTOR},
    {HNP_REF_EXCEPT_CIDR, HNP_FEATURE_EXCEPT_CIDR},
};

/*
 * Compare the engine's findings on every policy with the reference's
 * feature detection. Prints each disagreement; returns their number.
 */
static size_t check_rejections(const struct conf_case *cc, struct case_data *cd, struct engine *e)
{
    size_t bad = 0;
    for (size_t k = 0; k < cd->n_policies; k++) {
        const json_t *meta = json_object_get(cd->policies[k], "metadata");
        const char *ns = json_string_value(json_object_get(meta, "namespace"));
        const char *name = json_string_value(json_object_get(meta, "name"));
        const struct hnp_policy *pol =
            hnp_cluster_policy(e->cluster, ns != NULL ? ns : "default", name != NULL ? name : "");
        unsigned want = e->features[k];
        if (pol == NULL) {
            print_error("%s: policy %s/%s is not in the cluster\n", cc->id, ns, name);
            bad++;
            continue;
        }
        bool agree = hnp_policy_rejected(pol) == (want != 0) &&
                     !hnp_policy_has_feature(pol, HNP_FEATURE_INVALID);
        for (size_t f = 0; f < sizeof(feature_map) / sizeof(feature_map[0]); f++) {
            if (hnp_policy_has_feature(pol, feature_map[f].engine) !=
                ((want & feature_map[f].ref) != 0))
                agree = false;
        }
        if (want != 0) {
            char names[128] = "";
            for (size_t f = 0; f < sizeof(feature_map) / sizeof(feature_map[0]); f++) {
                if (want & feature_map[f].ref)
                    snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                             names[0] != '\0' ? ", " : "", hnp_feature_name(feature_map[f].engine));
            }
            print_message("%s: policy %s/%s uses %s, not enforceable on Windows (the engine %s "
                          "it); expecting the reference's table without it\n",
                          cc->id, pol->ns, pol->name, names,
                          hnp_policy_rejected(pol) ? "rejects" : "ACCEPTS");
        }
        if (agree)
            continue;
        bad++;
        print_error("%s: policy %s/%s: the engine's findings differ from the reference's "
                    "features (namedPort %d, sctp %d, negativeSelector %d, exceptCIDR %d):\n",
                    cc->id, pol->ns, pol->name, (want & HNP_REF_NAMED_PORT) != 0,
                    (want & HNP_REF_SCTP) != 0, (want & HNP_REF_NEGATIVE_SELECTOR) != 0,
                    (want & HNP_REF_EXCEPT_CIDR) != 0);
        if (pol->n_findings == 0)
            print_error("    (no findings)\n");
        for (size_t i = 0; i < pol->n_findings; i++)
            print_error("    %s at %s: %s\n", hnp_feature_name(pol->findings[i].feature),
                        pol->findings[i].path, pol->findings[i].message);
    }
    return bad;
}

/*
 * Translate every pod, check there is no equal-priority Allow/Block pair,
 * and parse each ACL back from the JSON HNS would receive, as HNS would.
 * False with problem on any failure.
 */
static bool translate_all(const struct conf_case *cc, struct engine *e, char *problem, size_t len)
{
    const struct model *m = cc->model;
    for (size_t i = 0; i < e->n_pods; i++) {
        struct hnp_error err = {0};
        enum hnp_err rc = hnp_translator_pod(e->tr, e->pods[i], &e->acls[i], &err);
        if (rc != HNP_OK) {
            snprintf(problem, len, "hnp_translator_pod(%s): %s (%.200s: %.400s)", m->pods[i].key,
                     hnp_err_name(rc), err.where, err.message);
            return false;
        }
        size_t conflicts = hnp_acl_list_conflicts(&e->acls[i]);
        if (conflicts != 0) {
            snprintf(problem, len, "%s: %zu Allow/Block pairs share a priority", m->pods[i].key,
                     conflicts);
            return false;
        }
        for (size_t a = 0; a < e->acls[i].count; a++) {
            const struct hnp_acl *acl = &e->acls[i].items[a];
            json_t *wire = hnp_acl_to_json(acl);
            struct hnp_acl parsed;
            memset(&parsed, 0, sizeof(parsed));
            rc = wire != NULL ? hnp_acl_from_json(wire, &parsed, &err) : HNP_ERR_NOMEM;
            json_decref(wire);
            if (rc == HNP_OK)
                rc = hnp_acl_list_push(&e->hns[i], &parsed);
            if (rc != HNP_OK) {
                snprintf(problem, len,
                         "%s: ACL %s is refused as HNS would parse it: %s (%.200s: %.400s)",
                         m->pods[i].key, acl->id, hnp_err_name(rc), err.where, err.message);
                return false;
            }
        }
    }
    return true;
}

/* "Allow by hnp-...", "implicit default deny", "no ACL". */
static void describe(const struct hnp_acl_list *list, long idx, enum hnp_verdict v, char *buf,
                     size_t len)
{
    if (idx >= 0)
        snprintf(buf, len, "%s by %s", v == HNP_VERDICT_ALLOW ? "Allow" : "Block",
                 list->items[idx].id);
    else if (list->count == 0)
        snprintf(buf, len, "no ACL (allow)");
    else
        snprintf(buf, len, "implicit default deny");
}

/*
 * Evaluate every probe for every pair of different pods and compare with
 * want (denied cells). Also requires hnp_explain to give the same verdict.
 * Returns the number of disagreements.
 */
static size_t check_verdicts(const struct conf_case *cc, struct engine *e, const bool *denied,
                             const char *source)
{
    const struct model *m = cc->model;
    size_t mismatches = 0;
    for (size_t p = 0; p < m->n_probes; p++) {
        const struct probe *pr = &m->probes[p];
        for (size_t f = 0; f < m->n_pods; f++) {
            for (size_t t = 0; t < m->n_pods; t++) {
                if (f == t)
                    continue; /* self pairs are don't-care */
                struct hnp_packet out = {HNP_ACL_OUT, m->pods[t].ip, pr->number,
                                         (uint16_t)pr->port};
                struct hnp_packet in = {HNP_ACL_IN, m->pods[f].ip, pr->number, (uint16_t)pr->port};
                enum hnp_verdict ve, vi;
                long ie = hnp_acl_list_eval(&e->hns[f], &out, &ve);
                long ii = hnp_acl_list_eval(&e->hns[t], &in, &vi);
                bool got = ve == HNP_VERDICT_ALLOW && vi == HNP_VERDICT_ALLOW;
                bool want = !denied[cell(m, p, f, t)];
                engine_checks++;

                struct hnp_explain_result ex;
                struct hnp_error err = {0};
                memset(&ex, 0, sizeof(ex));
                enum hnp_err rc = hnp_explain(e->tr, e->pods[f], 0, e->pods[t], 0, pr->number,
                                              (uint16_t)pr->port, &ex, &err);
                bool explain_ok = rc == HNP_OK && ex.allowed == got;
                hnp_explain_result_clear(&ex);

                if (got == want && explain_ok)
                    continue;
                if (mismatches++ >= MAX_REPORTED)
                    continue;
                char eg[HNP_ACL_ID_MAX + 32], ig[HNP_ACL_ID_MAX + 32];
                describe(&e->hns[f], ie, ve, eg, sizeof(eg));
                describe(&e->hns[t], ii, vi, ig, sizeof(ig));
                if (got != want)
                    print_error("%s %s %s->%s: expected %s (%s), got %s; egress at %s: %s; "
                                "ingress at %s: %s\n",
                                cc->id, pr->label, m->pods[f].key, m->pods[t].key,
                                want ? "allowed" : "denied", source, got ? "allowed" : "denied",
                                m->pods[f].key, eg, m->pods[t].key, ig);
                if (!explain_ok)
                    print_error("%s %s %s->%s: hnp_explain says %s (%s) but the ACLs give %s\n",
                                cc->id, pr->label, m->pods[f].key, m->pods[t].key,
                                rc != HNP_OK ? "nothing"
                                : ex.allowed ? "allowed"
                                             : "denied",
                                rc != HNP_OK ? err.message : "ok", got ? "allowed" : "denied");
            }
        }
    }
    return mismatches;
}

/* The expectation without the unenforceable policies, from the reference (diagonal unset). */
static bool *reference_table(const struct model *m, const struct case_data *cd,
                             const struct engine *e)
{
    bool *denied = calloc(m->n_probes * m->n_pods * m->n_pods, sizeof(*denied));
    if (denied == NULL)
        return NULL;
    for (size_t p = 0; p < m->n_probes; p++) {
        for (size_t f = 0; f < m->n_pods; f++) {
            for (size_t t = 0; t < m->n_pods; t++) {
                if (f != t)
                    denied[cell(m, p, f, t)] =
                        !hnp_ref_allowed(e->enforced, e->n_enforced, &cd->pods[f], &cd->pods[t],
                                         m->probes[p].protocol, m->probes[p].port);
            }
        }
    }
    return denied;
}

/* Build the engine's state for the case; false with problem. */
static bool engine_build(const struct conf_case *cc, struct case_data *cd, struct engine *e,
                         char *problem, size_t len)
{
    const struct model *m = cc->model;
    e->n_pods = m->n_pods;
    e->cluster = hnp_cluster_new();
    e->pods = calloc(m->n_pods, sizeof(*e->pods));
    e->acls = calloc(m->n_pods, sizeof(*e->acls));
    e->hns = calloc(m->n_pods, sizeof(*e->hns));
    e->features = calloc(cd->n_policies + 1, sizeof(*e->features));
    e->enforced = calloc(cd->n_policies + 1, sizeof(*e->enforced));
    if (e->cluster == NULL || e->pods == NULL || e->acls == NULL || e->hns == NULL ||
        e->features == NULL || e->enforced == NULL) {
        snprintf(problem, len, "out of memory");
        return false;
    }
    for (size_t i = 0; i < m->n_pods; i++) {
        hnp_acl_list_init(&e->acls[i]);
        hnp_acl_list_init(&e->hns[i]);
    }

    const json_t *ns_override =
        json_object_get(json_object_get(cc->json, "labels_override"), "namespaces");
    const char *ns_name;
    const json_t *ns;
    json_object_foreach((json_t *)m->namespaces, ns_name, ns)
    {
        const json_t *labels = json_object_get(ns_override, ns_name);
        if (labels == NULL)
            labels = json_object_get(ns, "labels");
        if (labels == NULL)
            labels = m->empty;
        if (!add_object(e, namespace_json(ns_name, labels), ns_name, problem, len))
            return false;
    }
    for (size_t i = 0; i < m->n_pods; i++) {
        if (!add_object(e, pod_json(&m->pods[i], cd->pods[i].labels, m->ports), m->pods[i].key,
                        problem, len))
            return false;
    }
    for (size_t k = 0; k < cd->n_policies; k++) {
        char what[64];
        snprintf(what, sizeof(what), "policies[%zu]", k);
        if (!add_object(e, json_incref((json_t *)cd->policies[k]), what, problem, len))
            return false;
        e->features[k] = hnp_ref_policy_features(cd->policies[k]);
        if (e->features[k] == 0)
            e->enforced[e->n_enforced++] = cd->policies[k];
    }
    for (size_t i = 0; i < m->n_pods; i++) {
        e->pods[i] = hnp_cluster_pod(e->cluster, m->pods[i].ns, m->pods[i].name);
        if (e->pods[i] == NULL) {
            snprintf(problem, len, "pod %s not in the cluster", m->pods[i].key);
            return false;
        }
    }
    struct hnp_translate_options opts = {false, 0, HNP_UNSUPPORTED_REJECT};
    e->tr = hnp_translator_new(e->cluster, &opts);
    if (e->tr == NULL) {
        snprintf(problem, len, "hnp_translator_new: out of memory");
        return false;
    }
    return true;
}

static void test_engine(void **state)
{
    const struct conf_case *cc = *state;
    const struct model *m = cc->model;
    struct case_data cd;
    struct engine e;
    char problem[1024] = "";
    size_t rejections = 0, mismatches = 0;
    bool *ref_denied = NULL;

    memset(&e, 0, sizeof(e));
    if (!case_data_load(m, cc->json, &cd)) {
        snprintf(problem, sizeof(problem), "%s", cd.problem);
    } else if (engine_build(cc, &cd, &e, problem, sizeof(problem)) &&
               translate_all(cc, &e, problem, sizeof(problem))) {
        rejections = check_rejections(cc, &cd, &e);
        if (e.n_enforced == cd.n_policies) {
            mismatches = check_verdicts(cc, &e, cd.denied, "file");
        } else if ((ref_denied = reference_table(m, &cd, &e)) != NULL) {
            mismatches = check_verdicts(cc, &e, ref_denied, "reference without rejected policies");
        } else {
            snprintf(problem, sizeof(problem), "out of memory");
        }
    }
    free(ref_denied);
    engine_free(&e);
    case_data_free(&cd);
    if (problem[0] != '\0')
        fail_msg("%s: %s", cc->id, problem);
    if (rejections > 0)
        fail_msg("%s: %zu policies rejected differently from the reference's feature detection"
                 " (and %zu wrong verdicts)",
                 cc->id, rejections, mismatches);
    if (mismatches > 0)
        fail_msg("%s: %zu wrong verdicts", cc->id, mismatches);
}

/* ---- main ---- */

static enum hnp_err keep_document(const struct hnp_loaded_object *object, void *ctx)
{
    json_t **doc = ctx;
    if (*doc != NULL)
        return HNP_ERR_SCHEMA; /* one document expected */
    *doc = json_incref(object->obj);
    return HNP_OK;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : HNP_SOURCE_DIR "/tests/conformance/upstream-e2e.yaml";
    struct hnp_error err = {0};
    json_t *doc = NULL;
    enum hnp_err rc = hnp_load_file(path, NULL, keep_document, &doc, &err);
    if (rc != HNP_OK) {
        fprintf(stderr, "conformance: cannot load %s: %s (%s: %s)\n", path, hnp_err_name(rc),
                err.where, err.message);
        json_decref(doc);
        return 2;
    }

    struct model m;
    char why[512];
    bool loaded = model_load(doc, &m, why, sizeof(why));
    json_decref(doc);
    if (!loaded) {
        fprintf(stderr, "conformance: %s: %s\n", path, why);
        model_free(&m);
        return 2;
    }

    const json_t *cases = json_object_get(m.doc, "cases");
    size_t n_cases = json_array_size(cases);
    struct conf_case *cc = calloc(n_cases + 1, sizeof(*cc));
    struct CMUnitTest *tests = calloc(2 * n_cases + 1, sizeof(*tests));
    if (cc == NULL || tests == NULL) {
        fprintf(stderr, "conformance: out of memory\n");
        free(cc);
        free(tests);
        model_free(&m);
        return 2;
    }
    for (size_t i = 0; i < n_cases; i++) {
        cc[i].json = json_array_get(cases, i);
        cc[i].model = &m;
        cc[i].id = json_string_value(json_object_get(cc[i].json, "id"));
        if (cc[i].id == NULL)
            cc[i].id = "(no id)";
        snprintf(cc[i].ref_name, sizeof(cc[i].ref_name), "%s-reference", cc[i].id);
        tests[2 * i] = (struct CMUnitTest){cc[i].ref_name, test_reference, NULL, NULL, &cc[i]};
        tests[2 * i + 1] = (struct CMUnitTest){cc[i].id, test_engine, NULL, NULL, &cc[i]};
    }

    int failed = n_cases == 0 ? 1 : 0;
    if (n_cases > 0)
        failed = _cmocka_run_group_tests("conformance", tests, 2 * n_cases, NULL, NULL);
    printf("conformance: %zu cases, %zu probe x pair verdicts of the engine checked, %zu of the "
           "reference against the file\n",
           n_cases, engine_checks, reference_checks);

    free(cc);
    free(tests);
    model_free(&m);
    return failed != 0 ? 1 : 0;
}
