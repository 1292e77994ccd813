/*
 * policy.c - networking.k8s.io/v1 NetworkPolicy JSON -> struct hnp_policy.
 *
 * The conversion follows the API server: v1 defaulting (protocol TCP,
 * policyTypes from the rules present) and the checks of
 * pkg/apis/networking/validation, so a policy the API server would refuse
 * gets an "invalid" finding. What Windows HNS ACLs cannot express (named
 * ports, SCTP, negated selectors, ipBlock except) gets a finding of its own.
 *
 * Two kinds of problem are kept apart:
 *   - a field of the wrong JSON type (the API server could not even decode
 *     the object) fails the whole conversion with HNP_ERR_SCHEMA;
 *   - everything else is a finding with its field path; parsing goes on so
 *     that every occurrence is reported.
 *
 * Findings come out in document order: each object's members are visited in
 * the order they appear (jansson keeps insertion order); a finding about a
 * whole object (a peer, an except list) comes before those about its
 * members, and a missing required member is reported after the members that
 * are present. JSON null is treated as an absent field (as Go's decoder does
 * for pointers, slices and maps), and a null array element as an empty one.
 *
 * The bookkeeping of the walk (field paths, findings with their line, schema
 * errors, quoted values) is policy_walk.c; the syntax of names and label keys and
 * values is names.c; CIDRs are parsed by rangeset.c.
 */
#include "hnsnetpol/policy.h"

#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "policy_walk.h"

#define MAX_PORT 65535

static const char *const feature_names[HNP_FEATURE_COUNT_] = {
    [HNP_FEATURE_NAMED_PORT] = "namedPort",
    [HNP_FEATURE_SCTP] = "sctp",
    [HNP_FEATURE_NEGATIVE_SELECTOR] = "negativeSelector",
    [HNP_FEATURE_EXCEPT_CIDR] = "exceptCIDR",
    [HNP_FEATURE_INVALID] = "invalid",
};

const char *hnp_feature_name(enum hnp_feature feature)
{
    if ((unsigned)feature >= (unsigned)HNP_FEATURE_COUNT_)
        return "unknown";
    return feature_names[feature];
}

static const char *intern(struct hnp_walk *w, const char *s)
{
    return hnp_strtab_intern(w->tab, s);
}

/* ---- CIDRs ---------------------------------------------------------------- */

/* A CIDR of either family (hnp_cidr_any_parse); ok false when it is not one. */
struct any_cidr {
    bool ok;
    struct hnp_cidr_any c;
};

static struct any_cidr parse_any_cidr(const char *s)
{
    struct any_cidr a;
    memset(&a, 0, sizeof(a));
    a.ok = hnp_cidr_any_parse(s, &a.c);
    return a;
}

/* ---- label selectors ------------------------------------------------------ */

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Order of requirements: key, operator, then values. Two requirements that
 * compare equal are identical (their values are interned), so qsort's
 * instability cannot change the result.
 */
static int compare_requirements(const void *pa, const void *pb)
{
    const struct hnp_requirement *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    if (c != 0)
        return c;
    if (a->op != b->op)
        return a->op < b->op ? -1 : 1;
    for (size_t i = 0; i < a->n_values && i < b->n_values; i++) {
        c = strcmp(a->values[i], b->values[i]);
        if (c != 0)
            return c;
    }
    if (a->n_values != b->n_values)
        return a->n_values < b->n_values ? -1 : 1;
    return 0;
}

/* Sort and deduplicate interned values in place; returns the new count. */
static size_t sort_unique(const char **values, size_t n)
{
    if (n < 2)
        return n;
    qsort(values, n, sizeof(*values), compare_strings);
    size_t out = 1;
    for (size_t i = 1; i < n; i++) {
        if (values[i] != values[out - 1])
            values[out++] = values[i];
    }
    return out;
}

/* A string member value that may be JSON null (Go decodes null into ""). */
static const char *string_or_empty(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : "";
}

static size_t string_len_or_zero(const json_t *v)
{
    return json_is_string(v) ? json_string_length(v) : 0;
}

static const char *const op_names[] = {
    [HNP_OP_IN] = "In",
    [HNP_OP_NOT_IN] = "NotIn",
    [HNP_OP_EXISTS] = "Exists",
    [HNP_OP_DOES_NOT_EXIST] = "DoesNotExist",
};

static bool op_from_name(const char *name, enum hnp_selector_op *op)
{
    for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
        if (strcmp(name, op_names[i]) == 0) {
            *op = (enum hnp_selector_op)i;
            return true;
        }
    }
    return false;
}

static enum hnp_err parse_match_labels(struct hnp_walk *w, json_t *labels, struct hnp_selector *sel)
{
    if (json_is_null(labels))
        return HNP_OK;
    if (!json_is_object(labels))
        return hnp_walk_schema(w, "an object", labels);
    const char *key;
    json_t *value;
    json_object_foreach(labels, key, value)
    {
        struct hnp_walk_mark mark = hnp_walk_enter_key(w, key, value);
        if (!json_is_string(value) && !json_is_null(value)) {
            enum hnp_err rc = hnp_walk_schema(w, "a string", value);
            hnp_walk_leave(w, mark);
            return rc;
        }
        char qk[HNP_WALK_QBUF], qv[HNP_WALK_QBUF];
        const char *v = string_or_empty(value);
        enum hnp_err rc = HNP_OK;
        const char *problem = hnp_names_label_key_problem(key, strlen(key));
        if (problem != NULL)
            rc = hnp_walk_finding(w, HNP_FEATURE_INVALID, "label key %s is not valid: %s",
                                  hnp_walk_quote(qk, key), problem);
        problem = hnp_names_label_value_problem(v, string_len_or_zero(value));
        if (rc == HNP_OK && problem != NULL)
            rc = hnp_walk_finding(w, HNP_FEATURE_INVALID,
                                  "label value %s of key %s is not valid: %s",
                                  hnp_walk_quote(qv, v), hnp_walk_quote(qk, key), problem);
        if (rc == HNP_OK) {
            struct hnp_requirement *req = &sel->reqs[sel->n_reqs];
            req->values = malloc(sizeof(*req->values));
            req->key = intern(w, key);
            if (req->values != NULL)
                req->values[0] = intern(w, v);
            if (req->values == NULL || req->key == NULL || req->values[0] == NULL) {
                free(req->values);
                req->values = NULL;
                rc = hnp_walk_nomem(w);
            } else {
                req->op = HNP_OP_IN;
                req->n_values = 1;
                sel->n_reqs++;
            }
        }
        hnp_walk_leave(w, mark);
        if (rc != HNP_OK)
            return rc;
    }
    return HNP_OK;
}

/* Type checks of one matchExpressions entry, in document order. */
static enum hnp_err check_expression_types(struct hnp_walk *w, json_t *expr)
{
    const char *name;
    json_t *v;
    json_object_foreach(expr, name, v)
    {
        enum hnp_err rc = HNP_OK;
        struct hnp_walk_mark mark = hnp_walk_enter_field(w, name, v);
        if ((strcmp(name, "key") == 0 || strcmp(name, "operator") == 0) && !json_is_string(v) &&
            !json_is_null(v)) {
            rc = hnp_walk_schema(w, "a string", v);
        } else if (strcmp(name, "values") == 0 && !json_is_null(v)) {
            rc = hnp_walk_check_strings(w, v);
        }
        hnp_walk_leave(w, mark);
        if (rc != HNP_OK)
            return rc;
    }
    return HNP_OK;
}

static enum hnp_err parse_expression(struct hnp_walk *w, json_t *expr, struct hnp_selector *sel)
{
    if (json_is_null(expr))
        expr = NULL; /* a null entry decodes as an empty requirement */
    else if (!json_is_object(expr))
        return hnp_walk_schema(w, "an object", expr);
    if (expr != NULL) {
        enum hnp_err rc = check_expression_types(w, expr);
        if (rc != HNP_OK)
            return rc;
    }
    json_t *jkey = expr ? json_object_get(expr, "key") : NULL;
    json_t *jop = expr ? json_object_get(expr, "operator") : NULL;
    json_t *jvalues = expr ? json_object_get(expr, "values") : NULL;
    const char *key = string_or_empty(jkey);
    const char *op_name = string_or_empty(jop);
    enum hnp_selector_op op = HNP_OP_IN;
    bool op_ok = op_from_name(op_name, &op);
    size_t n_values = json_is_array(jvalues) ? json_array_size(jvalues) : 0;
    bool wants_values = op == HNP_OP_IN || op == HNP_OP_NOT_IN;
    bool values_ok = !op_ok || (wants_values ? n_values > 0 : n_values == 0);
    char q1[HNP_WALK_QBUF], q2[HNP_WALK_QBUF];
    enum hnp_err rc = HNP_OK;

    /* Findings about members that are present, in document order. */
    const char *name;
    json_t *v;
    if (expr != NULL) {
        json_object_foreach(expr, name, v)
        {
            struct hnp_walk_mark mark = hnp_walk_enter_field(w, name, v);
            if (strcmp(name, "key") == 0 && !json_is_null(v)) {
                const char *problem = hnp_names_label_key_problem(key, json_string_length(v));
                if (key[0] == '\0')
                    rc = hnp_walk_finding(
                        w, HNP_FEATURE_INVALID,
                        "the key of a label selector requirement must not be empty");
                else if (problem != NULL)
                    rc = hnp_walk_finding(w, HNP_FEATURE_INVALID, "label key %s is not valid: %s",
                                          hnp_walk_quote(q1, key), problem);
            } else if (strcmp(name, "operator") == 0 && !json_is_null(v)) {
                if (!op_ok)
                    rc = hnp_walk_finding(
                        w, HNP_FEATURE_INVALID,
                        "operator %s is not valid; it must be In, NotIn, Exists or "
                        "DoesNotExist",
                        hnp_walk_quote(q1, op_name));
                else if (op == HNP_OP_NOT_IN || op == HNP_OP_DOES_NOT_EXIST)
                    rc = hnp_walk_finding(
                        w, HNP_FEATURE_NEGATIVE_SELECTOR,
                        "operator %s is a negated selector, which Windows HNS cannot "
                        "enforce (key %s); the policy is not applied",
                        op_name, hnp_walk_quote(q1, key));
            } else if (strcmp(name, "values") == 0 && !json_is_null(v)) {
                if (!values_ok && wants_values)
                    rc =
                        hnp_walk_finding(w, HNP_FEATURE_INVALID,
                                         "operator %s requires a non-empty list of values (key %s)",
                                         op_name, hnp_walk_quote(q1, key));
                else if (!values_ok)
                    rc = hnp_walk_finding(w, HNP_FEATURE_INVALID,
                                          "operator %s takes no values, but %zu %s given (key %s)",
                                          op_name, n_values, n_values == 1 ? "was" : "were",
                                          hnp_walk_quote(q1, key));
                size_t i;
                json_t *item;
                json_array_foreach(v, i, item)
                {
                    if (rc != HNP_OK)
                        break;
                    const char *s = string_or_empty(item);
                    const char *problem =
                        hnp_names_label_value_problem(s, string_len_or_zero(item));
                    if (problem != NULL) {
                        struct hnp_walk_mark m2 = hnp_walk_enter_index(w, i, item);
                        rc = hnp_walk_finding(
                            w, HNP_FEATURE_INVALID, "label value %s of key %s is not valid: %s",
                            hnp_walk_quote(q1, s), hnp_walk_quote(q2, key), problem);
                        hnp_walk_leave(w, m2);
                    }
                }
            }
            hnp_walk_leave(w, mark);
            if (rc != HNP_OK)
                return rc;
        }
    }

    /* Required members that are missing. */
    if (json_is_null(jkey) || jkey == NULL) {
        struct hnp_walk_mark mark = hnp_walk_enter_field(w, "key", jkey);
        rc = hnp_walk_finding(w, HNP_FEATURE_INVALID,
                              "a label selector requirement must have a key");
        hnp_walk_leave(w, mark);
    }
    if (rc == HNP_OK && (json_is_null(jop) || jop == NULL)) {
        struct hnp_walk_mark mark = hnp_walk_enter_field(w, "operator", jop);
        if (key[0] == '\0')
            rc = hnp_walk_finding(
                w, HNP_FEATURE_INVALID,
                "a label selector requirement must have an operator (In, NotIn, Exists "
                "or DoesNotExist)");
        else
            rc = hnp_walk_finding(
                w, HNP_FEATURE_INVALID,
                "the label selector requirement on key %s must have an operator (In, "
                "NotIn, Exists or DoesNotExist)",
                hnp_walk_quote(q1, key));
        hnp_walk_leave(w, mark);
    }
    if (rc == HNP_OK && op_ok && wants_values && (json_is_null(jvalues) || jvalues == NULL)) {
        struct hnp_walk_mark mark = hnp_walk_enter_field(w, "values", jvalues);
        rc = hnp_walk_finding(w, HNP_FEATURE_INVALID,
                              "operator %s requires a non-empty list of values (key %s)", op_name,
                              hnp_walk_quote(q1, key));
        hnp_walk_leave(w, mark);
    }
    if (rc != HNP_OK)
        return rc;

    /* A requirement that cannot be represented is left out (the policy is rejected anyway). */
    if (!op_ok || !values_ok)
        return HNP_OK;
    struct hnp_requirement req = {.key = intern(w, key), .op = op};
    if (req.key == NULL)
        return hnp_walk_nomem(w);
    if (n_values > 0) {
        req.values = calloc(n_values, sizeof(*req.values));
        if (req.values == NULL)
            return hnp_walk_nomem(w);
        for (size_t i = 0; i < n_values; i++) {
            req.values[i] = intern(w, string_or_empty(json_array_get(jvalues, i)));
            if (req.values[i] == NULL) {
                free(req.values);
                return hnp_walk_nomem(w);
            }
        }
        req.n_values = sort_unique(req.values, n_values);
    }
    sel->reqs[sel->n_reqs++] = req;
    return HNP_OK;
}

static enum hnp_err parse_match_expressions(struct hnp_walk *w, json_t *exprs,
                                            struct hnp_selector *sel)
{
    if (json_is_null(exprs))
        return HNP_OK;
    if (!json_is_array(exprs))
        return hnp_walk_schema(w, "an array", exprs);
    size_t i;
    json_t *expr;
    json_array_foreach(exprs, i, expr)
    {
        struct hnp_walk_mark mark = hnp_walk_enter_index(w, i, expr);
        enum hnp_err rc = parse_expression(w, expr, sel);
        hnp_walk_leave(w, mark);
        if (rc != HNP_OK)
            return rc;
    }
    return HNP_OK;
}

/*
 * A LabelSelector object (the caller handles null) into *sel, which must be
 * zeroed. On failure *sel may hold requirements; the policy frees it.
 */
static enum hnp_err parse_selector(struct hnp_walk *w, json_t *json, struct hnp_selector *sel)
{
    if (!json_is_object(json))
        return hnp_walk_schema(w, "an object", json);
    json_t *labels = json_object_get(json, "matchLabels");
    json_t *exprs = json_object_get(json, "matchExpressions");
    size_t cap = (json_is_object(labels) ? json_object_size(labels) : 0) +
                 (json_is_array(exprs) ? json_array_size(exprs) : 0);
    if (cap > 0) {
        sel->reqs = calloc(cap, sizeof(*sel->reqs));
        if (sel->reqs == NULL)
            return hnp_walk_nomem(w);
    }
    const char *name;
    json_t *v;
    json_object_foreach(json, name, v)
    {
        enum hnp_err rc = HNP_OK;
        struct hnp_walk_mark mark = hnp_walk_enter_field(w, name, v);
        if (strcmp(name, "matchLabels") == 0)
            rc = parse_match_labels(w, v, sel);
        else if (strcmp(name, "matchExpressions") == 0)
            rc = parse_match_expressions(w, v, sel);
        hnp_walk_leave(w, mark);
        if (rc != HNP_OK)
            return rc;
    }
    if (sel->n_reqs > 1)
        qsort(sel->reqs, sel->n_reqs, sizeof(*sel->reqs), compare_requirements);
    return HNP_OK;
}

/* ---- ports ---------------------------------------------------------------- */

static enum hnp_err check_port_types(struct hnp_walk *w, json_t *obj)
{
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v)
    {
        if (json_is_null(v))
            continue;
        enum hnp_err rc = HNP_OK;
        struct hnp_walk_mark mark = hnp_walk_enter_field(w, name, v);
        if (strcmp(name, "protocol") == 0 && !json_is_string(v))
            rc = hnp_walk_schema(w, "a string", v);
        else if (strcmp(name, "port") == 0 && !json_is_integer(v) && !json_is_string(v))
            rc = hnp_walk_schema(w, "an integer or a string", v);
        else if (strcmp(name, "endPort") == 0 && !json_is_integer(v))
            rc = hnp_walk_schema(w, "an integer", v);
        hnp_walk_leave(w, mark);
        if (rc != HNP_OK)
            return rc;
    }
    return HNP_OK;
}

static bool valid_port_number(json_int_t n)
{
    return n >= 1 && n <= MAX_PORT;
}

/* One entry of a rule's ports (a hnp_walk_item_fn) into the struct hnp_port item. */
static enum hnp_err parse_port(struct hnp_walk *w, json_t *obj, void *item, const void *unused)
{
    (void)unused;
    struct hnp_port *port = item;
    port->protocol = HNP_PROTO_TCP;
    if (json_is_null(obj))
        return HNP_OK; /* a null entry decodes as {}: every TCP port */
    if (!json_is_object(obj))
        return hnp_walk_schema(w, "an object", obj);
    enum hnp_err rc = check_port_types(w, obj);
    if (rc != HNP_OK)
        return rc;

    json_t *jport = json_object_get(obj, "port");
    json_t *jend = json_object_get(obj, "endPort");
    bool numeric = json_is_integer(jport);
    json_int_t number = numeric ? json_integer_value(jport) : 0;
    char q[HNP_WALK_QBUF];
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v)
    {
        if (json_is_null(v))
            continue;
        struct hnp_walk_mark mark = hnp_walk_enter_field(w, name, v);
        if (strcmp(name, "protocol") == 0) {
            const char *proto = json_string_value(v);
            if (strcmp(proto, "TCP") == 0) {
                port->protocol = HNP_PROTO_TCP;
            } else if (strcmp(proto, "UDP") == 0) {
                port->protocol = HNP_PROTO_UDP;
            } else if (strcmp(proto, "SCTP") == 0) {
                port->protocol = HNP_PROTO_SCTP;
                rc = hnp_walk_finding(
                    w, HNP_FEATURE_SCTP,
                    "protocol SCTP cannot be expressed as an HNS ACL (HNS filters TCP "
                    "and UDP only), so the policy is not applied");
            } else {
                rc =
                    hnp_walk_finding(w, HNP_FEATURE_INVALID,
                                     "protocol %s is not supported; it must be \"TCP\", \"UDP\" or "
                                     "\"SCTP\" (upper case)",
                                     hnp_walk_quote(q, proto));
            }
        } else if (strcmp(name, "port") == 0 && numeric) {
            if (valid_port_number(number))
                port->port = (uint16_t)number;
            else
                rc = hnp_walk_finding(
                    w, HNP_FEATURE_INVALID,
                    "port %lld is out of range; a port number must be between 1 and "
                    "65535",
                    (long long)number);
        } else if (strcmp(name, "port") == 0) {
            const char *s = json_string_value(v);
            const char *problem = hnp_names_port_name_problem(s, json_string_length(v));
            port->named = intern(w, s);
            if (port->named == NULL)
                rc = hnp_walk_nomem(w);
            else if (problem != NULL)
                rc =
                    hnp_walk_finding(w, HNP_FEATURE_INVALID, "port %s is not a valid port name: %s",
                                     hnp_walk_quote(q, s), problem);
            else
                rc = hnp_walk_finding(
                    w, HNP_FEATURE_NAMED_PORT,
                    "port %s is a named port; HNS ACLs match port numbers only, so the "
                    "policy is not applied",
                    hnp_walk_quote(q, s));
        } else if (strcmp(name, "endPort") == 0) {
            json_int_t end = json_integer_value(v);
            if (json_is_string(jport))
                rc = hnp_walk_finding(w, HNP_FEATURE_INVALID,
                                      "endPort %lld cannot be used with the named port %s; endPort "
                                      "requires a numeric port",
                                      (long long)end, hnp_walk_quote(q, json_string_value(jport)));
            else if (!numeric)
                rc = hnp_walk_finding(w, HNP_FEATURE_INVALID,
                                      "endPort %lld requires port to be set to a port number",
                                      (long long)end);
            else if (!valid_port_number(end))
                rc = hnp_walk_finding(
                    w, HNP_FEATURE_INVALID,
                    "endPort %lld is out of range; a port number must be between 1 "
                    "and 65535",
                    (long long)end);
            else if (end < number)
                rc = hnp_walk_finding(
                    w, HNP_FEATURE_INVALID,
                    "endPort %lld is less than port %lld; it must be greater than or "
                    "equal to port",
                    (long long)end, (long long)number);
        }
        hnp_walk_leave(w, mark);
        if (rc != HNP_OK)
            return rc;
    }
    port->end_port = port->port;
    if (numeric && valid_port_number(number) && json_is_integer(jend)) {
        json_int_t end = json_integer_value(jend);
        if (valid_port_number(end) && end >= number)
            port->end_port = (uint16_t)end;
    }
    return HNP_OK;
}

/* ---- peers ---------------------------------------------------------------- */

static enum hnp_err check_ip_block_types(struct hnp_walk *w, json_t *obj)
{
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v)
    {
        if (json_is_null(v))
            continue;
        enum hnp_err rc = HNP_OK;
        struct hnp_walk_mark mark = hnp_walk_enter_field(w, name, v);
        if (strcmp(name, "cidr") == 0 && !json_is_string(v))
            rc = hnp_walk_schema(w, "a string", v);
        else if (strcmp(name, "except") == 0)
            rc = hnp_walk_check_strings(w, v);
        hnp_walk_leave(w, mark);
        if (rc != HNP_OK)
            return rc;
    }
    return HNP_OK;
}

#define CIDR_FORMS "an address and a prefix length such as 10.0.0.0/16 or fd00::/64"

static enum hnp_err parse_except(struct hnp_walk *w, json_t *list, const struct any_cidr *block,
                                 const char *block_text, struct hnp_peer *peer)
{
    size_t n = json_array_size(list);
    if (n == 0)
        return HNP_OK;
    char q1[HNP_WALK_QBUF], q2[HNP_WALK_QBUF];
    enum hnp_err rc = hnp_walk_finding(
        w, HNP_FEATURE_EXCEPT_CIDR,
        "ipBlock except ranges cannot be expressed as HNS ACLs; the policy is not applied "
        "(%zu except entr%s; list the allowed ranges as separate ipBlocks instead)",
        n, n == 1 ? "y" : "ies");
    if (rc != HNP_OK)
        return rc;
    if (!block->c.ipv6) {
        peer->except = calloc(n, sizeof(*peer->except));
        if (peer->except == NULL)
            return hnp_walk_nomem(w);
    }
    for (size_t k = 0; k < n && rc == HNP_OK; k++) {
        const char *text = string_or_empty(json_array_get(list, k));
        struct any_cidr c = parse_any_cidr(text);
        struct hnp_walk_mark mark = hnp_walk_enter_index(w, k, json_array_get(list, k));
        if (!c.ok)
            rc = hnp_walk_finding(w, HNP_FEATURE_INVALID,
                                  "except entry %s is not a valid CIDR; expected " CIDR_FORMS,
                                  hnp_walk_quote(q1, text));
        else if (block->ok && !hnp_cidr_any_inside(&c.c, &block->c))
            rc = hnp_walk_finding(
                w, HNP_FEATURE_INVALID,
                "except entry %s must be strictly inside cidr %s (same address family, "
                "longer prefix)",
                hnp_walk_quote(q1, text), hnp_walk_quote(q2, block_text));
        hnp_walk_leave(w, mark);
        if (c.ok && !c.c.ipv6 && peer->except != NULL)
            peer->except[peer->n_except++] = c.c.v4;
    }
    return rc;
}

static enum hnp_err parse_ip_block(struct hnp_walk *w, json_t *obj, struct hnp_peer *peer)
{
    if (!json_is_object(obj))
        return hnp_walk_schema(w, "an object", obj);
    enum hnp_err rc = check_ip_block_types(w, obj);
    if (rc != HNP_OK)
        return rc;
    peer->has_ip_block = true;
    json_t *jcidr = json_object_get(obj, "cidr");
    const char *text = string_or_empty(jcidr);
    struct any_cidr block = {.ok = false};
    if (text[0] != '\0')
        block = parse_any_cidr(text);
    peer->ip_block_ipv6 = block.ok && block.c.ipv6;
    if (block.ok && !block.c.ipv6)
        peer->cidr = block.c.v4;

    char q[HNP_WALK_QBUF];
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v)
    {
        if (json_is_null(v))
            continue;
        struct hnp_walk_mark mark = hnp_walk_enter_field(w, name, v);
        if (strcmp(name, "cidr") == 0) {
            if (text[0] == '\0')
                rc = hnp_walk_finding(w, HNP_FEATURE_INVALID, "ipBlock cidr must not be empty");
            else if (!block.ok)
                rc = hnp_walk_finding(w, HNP_FEATURE_INVALID,
                                      "cidr %s is not a valid CIDR; expected " CIDR_FORMS,
                                      hnp_walk_quote(q, text));
        } else if (strcmp(name, "except") == 0) {
            rc = parse_except(w, v, &block, text, peer);
        }
        hnp_walk_leave(w, mark);
        if (rc != HNP_OK)
            return rc;
    }
    if (jcidr == NULL || json_is_null(jcidr)) {
        struct hnp_walk_mark mark = hnp_walk_enter_field(w, "cidr", jcidr);
        rc = hnp_walk_finding(w, HNP_FEATURE_INVALID, "ipBlock must have a cidr");
        hnp_walk_leave(w, mark);
    }
    return rc;
}

static bool present(const json_t *obj, const char *name)
{
    const json_t *v = json_object_get(obj, name);
    return v != NULL && !json_is_null(v);
}

/* One peer of a rule's from or to (a hnp_walk_item_fn) into the struct hnp_peer item. */
static enum hnp_err parse_peer(struct hnp_walk *w, json_t *obj, void *item, const void *unused)
{
    (void)unused;
    struct hnp_peer *peer = item;
    if (!json_is_null(obj) && !json_is_object(obj))
        return hnp_walk_schema(w, "an object", obj);
    bool pods = json_is_object(obj) && present(obj, "podSelector");
    bool namespaces = json_is_object(obj) && present(obj, "namespaceSelector");
    bool block = json_is_object(obj) && present(obj, "ipBlock");
    enum hnp_err rc = HNP_OK;
    if (!pods && !namespaces && !block)
        rc = hnp_walk_finding(
            w, HNP_FEATURE_INVALID,
            "a peer must set at least one of podSelector, namespaceSelector or ipBlock");
    else if (block && (pods || namespaces))
        rc = hnp_walk_finding(
            w, HNP_FEATURE_INVALID,
            "ipBlock cannot be combined with podSelector or namespaceSelector in the "
            "same peer; use separate peers");
    if (rc != HNP_OK || !json_is_object(obj))
        return rc;

    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v)
    {
        if (json_is_null(v))
            continue;
        struct hnp_walk_mark mark = hnp_walk_enter_field(w, name, v);
        if (strcmp(name, "podSelector") == 0) {
            peer->has_pod_selector = true;
            rc = parse_selector(w, v, &peer->pod_selector);
        } else if (strcmp(name, "namespaceSelector") == 0) {
            peer->has_ns_selector = true;
            rc = parse_selector(w, v, &peer->ns_selector);
        } else if (strcmp(name, "ipBlock") == 0) {
            rc = parse_ip_block(w, v, peer);
        }
        hnp_walk_leave(w, mark);
        if (rc != HNP_OK)
            return rc;
    }
    return HNP_OK;
}

/* ---- rules, spec, metadata ------------------------------------------------ */

/* One rule of spec.ingress (peer_key "from") or spec.egress (peer_key "to"), a hnp_walk_item_fn. */
static enum hnp_err parse_rule(struct hnp_walk *w, json_t *json, void *item, const void *peer_key)
{
    struct hnp_rule *rule = item;
    if (json_is_null(json))
        return HNP_OK;
    if (!json_is_object(json))
        return hnp_walk_schema(w, "an object", json);
    const char *name;
    json_t *v;
    json_object_foreach(json, name, v)
    {
        enum hnp_err rc = HNP_OK;
        void *items = NULL;
        struct hnp_walk_mark mark = hnp_walk_enter_field(w, name, v);
        if (strcmp(name, "ports") == 0) {
            rc = hnp_walk_array(w, v, sizeof(*rule->ports), parse_port, NULL, &items,
                                &rule->n_ports);
            rule->ports = items;
        } else if (strcmp(name, peer_key) == 0) {
            rc = hnp_walk_array(w, v, sizeof(*rule->peers), parse_peer, NULL, &items,
                                &rule->n_peers);
            rule->peers = items;
        }
        hnp_walk_leave(w, mark);
        if (rc != HNP_OK)
            return rc;
    }
    return HNP_OK;
}

static enum hnp_err parse_policy_types(struct hnp_walk *w, json_t *json)
{
    if (json_is_null(json))
        return HNP_OK;
    enum hnp_err rc = hnp_walk_check_strings(w, json);
    if (rc != HNP_OK)
        return rc;
    size_t n = json_array_size(json);
    w->types_given = n > 0;
    if (n > 2)
        rc = hnp_walk_finding(
            w, HNP_FEATURE_INVALID,
            "policyTypes lists %zu entries; at most two are allowed (\"Ingress\" and "
            "\"Egress\")",
            n);
    char q[HNP_WALK_QBUF];
    size_t i;
    json_t *item;
    json_array_foreach(json, i, item)
    {
        if (rc != HNP_OK)
            break;
        const char *type = string_or_empty(item);
        if (strcmp(type, "Ingress") == 0) {
            w->types_ingress = true;
        } else if (strcmp(type, "Egress") == 0) {
            w->types_egress = true;
        } else {
            struct hnp_walk_mark mark = hnp_walk_enter_index(w, i, item);
            rc = hnp_walk_finding(
                w, HNP_FEATURE_INVALID,
                "policyTypes entry %s is not supported; each entry must be \"Ingress\" "
                "or \"Egress\"",
                hnp_walk_quote(q, type));
            hnp_walk_leave(w, mark);
        }
    }
    return rc;
}

static enum hnp_err parse_spec(struct hnp_walk *w, json_t *spec)
{
    if (json_is_null(spec))
        return HNP_OK;
    if (!json_is_object(spec))
        return hnp_walk_schema(w, "an object", spec);
    struct hnp_policy *pol = w->pol;
    const char *name;
    json_t *v;
    json_object_foreach(spec, name, v)
    {
        enum hnp_err rc = HNP_OK;
        void *rules = NULL;
        struct hnp_walk_mark mark = hnp_walk_enter_field(w, name, v);
        if (strcmp(name, "podSelector") == 0 && !json_is_null(v)) {
            rc = parse_selector(w, v, &pol->pod_selector);
        } else if (strcmp(name, "policyTypes") == 0) {
            rc = parse_policy_types(w, v);
        } else if (strcmp(name, "ingress") == 0) {
            rc = hnp_walk_array(w, v, sizeof(*pol->ingress), parse_rule, "from", &rules,
                                &pol->n_ingress);
            pol->ingress = rules;
        } else if (strcmp(name, "egress") == 0) {
            rc = hnp_walk_array(w, v, sizeof(*pol->egress), parse_rule, "to", &rules,
                                &pol->n_egress);
            pol->egress = rules;
        }
        hnp_walk_leave(w, mark);
        if (rc != HNP_OK)
            return rc;
    }
    return HNP_OK;
}

/* An optional string member of metadata, interned into *out (NULL when absent). */
static enum hnp_err meta_string(struct hnp_walk *w, json_t *v, const char **out)
{
    if (json_is_null(v))
        return HNP_OK;
    if (!json_is_string(v))
        return hnp_walk_schema(w, "a string", v);
    *out = intern(w, json_string_value(v));
    return *out == NULL ? hnp_walk_nomem(w) : HNP_OK;
}

static enum hnp_err parse_metadata(struct hnp_walk *w, json_t *meta)
{
    if (json_is_null(meta))
        return HNP_OK;
    if (!json_is_object(meta))
        return hnp_walk_schema(w, "an object", meta);
    struct hnp_policy *pol = w->pol;
    char q[HNP_WALK_QBUF];
    const char *name;
    json_t *v;
    json_object_foreach(meta, name, v)
    {
        enum hnp_err rc = HNP_OK;
        struct hnp_walk_mark mark = hnp_walk_enter_field(w, name, v);
        if (strcmp(name, "name") == 0) {
            rc = meta_string(w, v, &pol->name);
            if (rc == HNP_OK && pol->name != NULL && pol->name[0] != '\0' &&
                !hnp_names_dns_subdomain(json_string_value(v), json_string_length(v)))
                rc = hnp_walk_finding(
                    w, HNP_FEATURE_INVALID,
                    "name %s is not a valid NetworkPolicy name: it must be a lowercase "
                    "DNS subdomain (a-z, 0-9, '-' and '.', at most 253 characters)",
                    hnp_walk_quote(q, pol->name));
        } else if (strcmp(name, "namespace") == 0) {
            rc = meta_string(w, v, &pol->ns);
            if (rc == HNP_OK && pol->ns != NULL && pol->ns[0] != '\0' &&
                !hnp_names_dns_label(json_string_value(v), json_string_length(v)))
                rc = hnp_walk_finding(
                    w, HNP_FEATURE_INVALID,
                    "namespace %s is not a valid namespace name: it must be a lowercase "
                    "DNS label (a-z, 0-9 and '-', at most 63 characters)",
                    hnp_walk_quote(q, pol->ns));
        } else if (strcmp(name, "uid") == 0) {
            rc = meta_string(w, v, &pol->uid);
        } else if (strcmp(name, "resourceVersion") == 0) {
            rc = meta_string(w, v, &pol->resource_version);
        } else if (strcmp(name, "generation") == 0) {
            if (json_is_integer(v))
                pol->generation = json_integer_value(v);
            else if (!json_is_null(v))
                rc = hnp_walk_schema(w, "an integer", v);
        }
        hnp_walk_leave(w, mark);
        if (rc != HNP_OK)
            return rc;
    }
    return HNP_OK;
}

static enum hnp_err convert(struct hnp_walk *w, json_t *obj)
{
    struct hnp_policy *pol = w->pol;
    const char *name;
    json_t *v;
    json_object_foreach(obj, name, v)
    {
        enum hnp_err rc = HNP_OK;
        struct hnp_walk_mark mark = hnp_walk_enter_field(w, name, v);
        if (strcmp(name, "metadata") == 0)
            rc = parse_metadata(w, v);
        else if (strcmp(name, "spec") == 0)
            rc = parse_spec(w, v);
        hnp_walk_leave(w, mark);
        if (rc != HNP_OK)
            return rc;
    }
    if (pol->name == NULL || pol->name[0] == '\0')
        return hnp_error_set(w->err, HNP_ERR_SCHEMA, "metadata.name",
                             "metadata.name is required: a NetworkPolicy must have a name");
    if (pol->ns == NULL || pol->ns[0] == '\0') {
        pol->ns = intern(w, "default");
        if (pol->ns == NULL)
            return hnp_walk_nomem(w);
    }
    /* SetDefaults_NetworkPolicySpec: Ingress always, Egress when there are egress rules. */
    if (w->types_given) {
        pol->isolates_ingress = w->types_ingress;
        pol->isolates_egress = w->types_egress;
    } else {
        pol->isolates_ingress = true;
        pol->isolates_egress = pol->n_egress != 0;
    }
    return HNP_OK;
}

enum hnp_err hnp_policy_from_json(const json_t *obj, struct hnp_strtab *tab,
                                  const struct hnp_source *src, struct hnp_policy **out,
                                  struct hnp_error *err)
{
    if (!json_is_object(obj))
        return hnp_error_set(err, HNP_ERR_SCHEMA, "",
                             "a NetworkPolicy must be a JSON object, not %s",
                             obj ? hnp_walk_type_name(obj) : "nothing");
    struct hnp_policy *pol = calloc(1, sizeof(*pol));
    if (pol == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, "", "out of memory converting a NetworkPolicy");
    if (src != NULL)
        pol->src = *src;
    /* The line resolver belongs to the caller's conversion call only (findings use w.src). */
    pol->src.line_of = NULL;
    pol->src.line_ctx = NULL;
    struct hnp_walk w = {.tab = tab, .pol = pol, .src = src, .err = err, .node = obj};
    /* jansson's iteration API takes non-const objects; nothing here modifies obj. */
    enum hnp_err rc = convert(&w, (json_t *)obj);
    if (rc != HNP_OK) {
        hnp_policy_free(pol);
        return rc;
    }
    *out = pol;
    return HNP_OK;
}

static void free_rules(struct hnp_rule *rules, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t p = 0; p < rules[i].n_peers; p++) {
            hnp_selector_free(&rules[i].peers[p].pod_selector);
            hnp_selector_free(&rules[i].peers[p].ns_selector);
            free(rules[i].peers[p].except);
        }
        free(rules[i].peers);
        free(rules[i].ports);
    }
    free(rules);
}

void hnp_policy_free(struct hnp_policy *policy)
{
    if (policy == NULL)
        return;
    hnp_selector_free(&policy->pod_selector);
    free_rules(policy->ingress, policy->n_ingress);
    free_rules(policy->egress, policy->n_egress);
    for (size_t i = 0; i < policy->n_findings; i++) {
        free(policy->findings[i].path);
        free(policy->findings[i].message);
    }
    free(policy->findings);
    free(policy);
}

bool hnp_policy_rejected(const struct hnp_policy *policy)
{
    return policy != NULL && policy->n_findings > 0;
}

bool hnp_policy_has_feature(const struct hnp_policy *policy, enum hnp_feature feature)
{
    if (policy == NULL)
        return false;
    for (size_t i = 0; i < policy->n_findings; i++) {
        if (policy->findings[i].feature == feature)
            return true;
    }
    return false;
}
