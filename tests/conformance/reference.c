/*
 * reference.c - the conformance test's independent NetworkPolicy evaluator
 * (see reference.h).
 *
 * Written straight from the API documentation of networking.k8s.io/v1 and
 * kept deliberately simple: every question is answered by walking the JSON
 * of every policy again. Nothing here is shared with src/.
 */
#include "reference.h"

#include <string.h>

/* Sections of a policy as JSON, NULL when absent. */
static const json_t *spec_of(const json_t *policy)
{
    return json_object_get(policy, "spec");
}

static const char *policy_namespace(const json_t *policy)
{
    const char *ns =
        json_string_value(json_object_get(json_object_get(policy, "metadata"), "namespace"));
    return ns != NULL ? ns : "default";
}

/* Value of label key, NULL when absent (or not a string). */
static const char *label_value(const json_t *labels, const char *key)
{
    if (labels == NULL || !json_is_object(labels))
        return NULL;
    return json_string_value(json_object_get(labels, key));
}

static bool values_contain(const json_t *values, const char *value)
{
    size_t i;
    const json_t *v;
    json_array_foreach(values, i, v)
    {
        const char *s = json_string_value(v);
        if (s != NULL && strcmp(s, value) == 0)
            return true;
    }
    return false;
}

/*
 * metav1.LabelSelector: the AND of matchLabels and matchExpressions; an
 * empty selector matches everything. sel must be an object.
 */
static bool selector_matches(const json_t *sel, const json_t *labels)
{
    const char *key;
    const json_t *want;
    json_object_foreach((json_t *)json_object_get(sel, "matchLabels"), key, want)
    {
        const char *have = label_value(labels, key);
        if (have == NULL || !json_is_string(want) || strcmp(have, json_string_value(want)) != 0)
            return false;
    }
    size_t i;
    const json_t *expr;
    json_array_foreach(json_object_get(sel, "matchExpressions"), i, expr)
    {
        const char *k = json_string_value(json_object_get(expr, "key"));
        const char *op = json_string_value(json_object_get(expr, "operator"));
        const json_t *values = json_object_get(expr, "values");
        if (k == NULL || op == NULL)
            return false;
        const char *have = label_value(labels, k);
        bool ok;
        if (strcmp(op, "In") == 0)
            ok = have != NULL && values_contain(values, have);
        else if (strcmp(op, "NotIn") == 0)
            ok = have == NULL || !values_contain(values, have);
        else if (strcmp(op, "Exists") == 0)
            ok = have != NULL;
        else if (strcmp(op, "DoesNotExist") == 0)
            ok = have == NULL;
        else
            ok = false; /* the API server refuses other operators */
        if (!ok)
            return false;
    }
    return true;
}

/* A selector field: absent or null counts as absent. */
static const json_t *selector_field(const json_t *obj, const char *name)
{
    const json_t *sel = json_object_get(obj, name);
    return json_is_object(sel) ? sel : NULL;
}

/* One decimal number 0..max from *p, advancing it; false when none. */
static bool parse_number(const char **p, unsigned max, unsigned *out)
{
    unsigned v = 0;
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return false;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (unsigned)(*s - '0');
        if (v > max)
            return false;
        s++;
    }
    *p = s;
    *out = v;
    return true;
}

/* A dotted quad at *p, advancing it. */
static bool parse_quad(const char **p, uint32_t *out)
{
    uint32_t addr = 0;
    unsigned part;
    for (int i = 0; i < 4; i++) {
        if (!parse_number(p, 255, &part))
            return false;
        addr = (addr << 8) | part;
        if (i < 3 && *(*p)++ != '.')
            return false;
    }
    *out = addr;
    return true;
}

bool hnp_ref_parse_ipv4(const char *text, uint32_t *out)
{
    uint32_t addr;
    const char *p = text;
    if (!parse_quad(&p, &addr) || *p != '\0')
        return false;
    *out = addr;
    return true;
}

/* "a.b.c.d/n" -> first and last address of the network; false otherwise (IPv6 included). */
static bool parse_cidr(const char *text, uint32_t *first, uint32_t *last)
{
    uint32_t addr;
    unsigned prefix;
    const char *p = text;
    if (!parse_quad(&p, &addr) || *p++ != '/' || !parse_number(&p, 32, &prefix) || *p != '\0')
        return false;
    uint32_t mask = prefix == 0 ? 0 : 0xFFFFFFFFu << (32 - prefix);
    *first = addr & mask;
    *last = *first | ~mask;
    return true;
}

static bool cidr_contains(const json_t *cidr, uint32_t ip)
{
    uint32_t first, last;
    const char *text = json_string_value(cidr);
    return text != NULL && parse_cidr(text, &first, &last) && ip >= first && ip <= last;
}

/* ipBlock: inside cidr and outside every except. */
static bool ip_block_matches(const json_t *block, uint32_t ip)
{
    if (!cidr_contains(json_object_get(block, "cidr"), ip))
        return false;
    size_t i;
    const json_t *except;
    json_array_foreach(json_object_get(block, "except"), i, except)
    {
        if (cidr_contains(except, ip))
            return false;
    }
    return true;
}

/*
 * One entry of from[] / to[] against pod q, for a policy in namespace
 * policy_ns: an ipBlock matches by address; otherwise a podSelector alone
 * means pods of the policy's namespace, a namespaceSelector alone every pod
 * of the selected namespaces, both together the AND of the two.
 */
static bool peer_matches(const json_t *peer, const char *policy_ns, const struct hnp_ref_pod *q)
{
    const json_t *block = json_object_get(peer, "ipBlock");
    if (json_is_object(block))
        return ip_block_matches(block, q->ip);
    const json_t *pod_sel = selector_field(peer, "podSelector");
    const json_t *ns_sel = selector_field(peer, "namespaceSelector");
    if (pod_sel == NULL && ns_sel == NULL)
        return false; /* the API server refuses an empty peer */
    if (ns_sel != NULL) {
        if (!selector_matches(ns_sel, q->ns_labels))
            return false;
    } else if (strcmp(q->ns, policy_ns) != 0) {
        return false;
    }
    return pod_sel == NULL || selector_matches(pod_sel, q->labels);
}

/*
 * One entry of ports[] against protocol/port on the destination pod dest.
 * The protocol defaults to TCP; no port means every port of the protocol;
 * endPort makes a range; a named port is looked up among dest's container
 * ports with the same protocol.
 */
static bool port_matches(const json_t *entry, const char *protocol, unsigned port,
                         const struct hnp_ref_pod *dest)
{
    const char *proto = json_string_value(json_object_get(entry, "protocol"));
    if (proto == NULL)
        proto = "TCP";
    if (strcmp(proto, protocol) != 0)
        return false;
    const json_t *p = json_object_get(entry, "port");
    if (p == NULL || json_is_null(p))
        return true;
    if (json_is_integer(p)) {
        json_int_t lo = json_integer_value(p);
        const json_t *end = json_object_get(entry, "endPort");
        json_int_t hi = json_is_integer(end) ? json_integer_value(end) : lo;
        return (json_int_t)port >= lo && (json_int_t)port <= hi;
    }
    const char *name = json_string_value(p);
    if (name == NULL)
        return false;
    size_t i;
    const json_t *cp;
    json_array_foreach(dest->container_ports, i, cp)
    {
        const char *cp_name = json_string_value(json_object_get(cp, "name"));
        const char *cp_proto = json_string_value(json_object_get(cp, "protocol"));
        if (cp_proto == NULL)
            cp_proto = "TCP";
        if (cp_name != NULL && strcmp(cp_name, name) == 0 && strcmp(cp_proto, proto) == 0 &&
            json_integer_value(json_object_get(cp, "containerPort")) == (json_int_t)port)
            return true;
    }
    return false;
}

/* A rule: (no peers or some peer matches) and (no ports or some port matches). */
static bool rule_matches(const json_t *rule, const char *peers_key, const char *policy_ns,
                         const struct hnp_ref_pod *peer, const struct hnp_ref_pod *dest,
                         const char *protocol, unsigned port)
{
    const json_t *peers = json_object_get(rule, peers_key);
    if (json_array_size(peers) > 0) {
        bool any = false;
        size_t i;
        const json_t *p;
        json_array_foreach(peers, i, p)
        {
            if (peer_matches(p, policy_ns, peer)) {
                any = true;
                break;
            }
        }
        if (!any)
            return false;
    }
    const json_t *ports = json_object_get(rule, "ports");
    if (json_array_size(ports) == 0)
        return true;
    size_t i;
    const json_t *entry;
    json_array_foreach(ports, i, entry)
    {
        if (port_matches(entry, protocol, port, dest))
            return true;
    }
    return false;
}

/*
 * policyTypes after API defaulting: as given when non-empty, else Ingress
 * always and Egress when the policy has egress rules.
 */
static void policy_types(const json_t *spec, bool *ingress, bool *egress)
{
    const json_t *types = json_object_get(spec, "policyTypes");
    if (json_array_size(types) == 0) {
        *ingress = true;
        *egress = json_array_size(json_object_get(spec, "egress")) > 0;
        return;
    }
    *ingress = values_contain(types, "Ingress");
    *egress = values_contain(types, "Egress");
}

/* Does policy select pod (its namespace, its podSelector; absent = {})? */
static bool policy_selects(const json_t *policy, const struct hnp_ref_pod *pod)
{
    if (strcmp(policy_namespace(policy), pod->ns) != 0)
        return false;
    const json_t *sel = selector_field(spec_of(policy), "podSelector");
    return sel == NULL || selector_matches(sel, pod->labels);
}

/*
 * One direction at subject (the source for egress, the destination for
 * ingress): allowed when no selecting policy isolates that direction, or
 * some rule of a selecting policy of that type matches peer on the port of
 * dest.
 */
static bool direction_allows(const json_t *const *policies, size_t n, bool egress,
                             const struct hnp_ref_pod *subject, const struct hnp_ref_pod *peer,
                             const struct hnp_ref_pod *dest, const char *protocol, unsigned port)
{
    bool isolated = false;
    for (size_t k = 0; k < n; k++) {
        const json_t *spec = spec_of(policies[k]);
        bool has_ingress, has_egress;
        if (!policy_selects(policies[k], subject))
            continue;
        policy_types(spec, &has_ingress, &has_egress);
        if (egress ? !has_egress : !has_ingress)
            continue;
        isolated = true;
        size_t i;
        const json_t *rule;
        json_array_foreach(json_object_get(spec, egress ? "egress" : "ingress"), i, rule)
        {
            if (rule_matches(rule, egress ? "to" : "from", policy_namespace(policies[k]), peer,
                             dest, protocol, port))
                return true;
        }
    }
    return !isolated;
}

bool hnp_ref_allowed(const json_t *const *policies, size_t n_policies,
                     const struct hnp_ref_pod *from, const struct hnp_ref_pod *to,
                     const char *protocol, unsigned port)
{
    return direction_allows(policies, n_policies, true, from, to, to, protocol, port) &&
           direction_allows(policies, n_policies, false, to, from, to, protocol, port);
}

static unsigned selector_features(const json_t *sel)
{
    size_t i;
    const json_t *expr;
    json_array_foreach(json_object_get(sel, "matchExpressions"), i, expr)
    {
        const char *op = json_string_value(json_object_get(expr, "operator"));
        if (op != NULL && (strcmp(op, "NotIn") == 0 || strcmp(op, "DoesNotExist") == 0))
            return HNP_REF_NEGATIVE_SELECTOR;
    }
    return 0;
}

static unsigned rules_features(const json_t *rules, const char *peers_key)
{
    unsigned features = 0;
    size_t i, j;
    const json_t *rule, *item;
    json_array_foreach(rules, i, rule)
    {
        json_array_foreach(json_object_get(rule, peers_key), j, item)
        {
            features |= selector_features(json_object_get(item, "podSelector"));
            features |= selector_features(json_object_get(item, "namespaceSelector"));
            if (json_array_size(json_object_get(json_object_get(item, "ipBlock"), "except")) > 0)
                features |= HNP_REF_EXCEPT_CIDR;
        }
        json_array_foreach(json_object_get(rule, "ports"), j, item)
        {
            const char *proto = json_string_value(json_object_get(item, "protocol"));
            if (json_is_string(json_object_get(item, "port")))
                features |= HNP_REF_NAMED_PORT;
            if (proto != NULL && strcmp(proto, "SCTP") == 0)
                features |= HNP_REF_SCTP;
        }
    }
    return features;
}

unsigned hnp_ref_policy_features(const json_t *policy)
{
    const json_t *spec = spec_of(policy);
    return selector_features(json_object_get(spec, "podSelector")) |
           rules_features(json_object_get(spec, "ingress"), "from") |
           rules_features(json_object_get(spec, "egress"), "to");
}
