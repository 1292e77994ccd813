/*
 * render.c - the output of validate, translate and explain (render.h):
 * compiler-style text lines, the ACL table, and JSON documents printed with
 * two-space indentation in the order built.
 */
#include "render.h"

#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/policy.h"
#include "hnsnetpol/rangeset.h"
#include "hnsnetpol/translate.h"

static char *policy_key(const struct hnp_policy *p, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", p->ns, p->name);
    return buf;
}

static json_t *findings_json(const struct hnp_policy *p)
{
    json_t *reasons = json_array();
    for (size_t i = 0; i < p->n_findings; i++) {
        const struct hnp_finding *f = &p->findings[i];
        json_array_append_new(reasons,
                              json_pack("{s:s, s:s, s:I, s:s}", "feature",
                                        hnp_feature_name(f->feature), "path", f->path, "line",
                                        (json_int_t)f->line, "message", f->message));
    }
    return reasons;
}

static json_t *rejected_json(const struct hnp_cluster *cluster)
{
    json_t *rejected = json_array();
    char key[600];
    for (size_t i = 0; i < hnp_cluster_policy_count(cluster); i++) {
        const struct hnp_policy *p = hnp_cluster_policy_at(cluster, i);
        if (!hnp_policy_rejected(p))
            continue;
        json_array_append_new(rejected,
                              json_pack("{s:s, s:o}", "policy", policy_key(p, key, sizeof(key)),
                                        "reasons", findings_json(p)));
    }
    return rejected;
}

size_t hnp_render_rejected_count(const struct hnp_cluster *cluster)
{
    size_t n = 0;
    for (size_t i = 0; i < hnp_cluster_policy_count(cluster); i++)
        if (hnp_policy_rejected(hnp_cluster_policy_at(cluster, i)))
            n++;
    return n;
}

static void print_json(FILE *out, json_t *json)
{
    json_dumpf(json, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', out);
}

void hnp_render_warn_rejected(const struct hnp_cluster *cluster, FILE *errout)
{
    char key[600];
    for (size_t i = 0; i < hnp_cluster_policy_count(cluster); i++) {
        const struct hnp_policy *p = hnp_cluster_policy_at(cluster, i);
        for (size_t j = 0; j < p->n_findings; j++)
            fprintf(errout, "%s:%ld: warning: %s: %s: %s (%s); policy not applied\n",
                    p->src.file ? p->src.file : "-", p->findings[j].line,
                    policy_key(p, key, sizeof(key)), p->findings[j].path, p->findings[j].message,
                    hnp_feature_name(p->findings[j].feature));
    }
}

static void format_ranges(const struct hnp_range *r, size_t n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    if (n == 0) {
        snprintf(buf, len, "any");
        return;
    }
    for (size_t i = 0; i < n && used < len; i++) {
        if (r[i].lo == r[i].hi)
            used += (size_t)snprintf(buf + used, len - used, "%s%u", i ? "," : "", r[i].lo);
        else
            used +=
                (size_t)snprintf(buf + used, len - used, "%s%u-%u", i ? "," : "", r[i].lo, r[i].hi);
    }
    if (used >= len && len > 4)
        memcpy(buf + len - 4, "...", 4);
}

static void format_addrs(const struct hnp_acl *acl, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    if (acl->n_remote_addrs == 0) {
        snprintf(buf, len, "any");
        return;
    }
    for (size_t i = 0; i < acl->n_remote_addrs && used < len; i++) {
        char cidr[19];
        hnp_cidr_format(&acl->remote_addrs[i], cidr);
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "", cidr);
    }
    if (used >= len && len > 4)
        memcpy(buf + len - 4, "...", 4);
}

static void format_origin(const struct hnp_acl *acl, char *buf, size_t len)
{
    switch (acl->origin.kind) {
    case HNP_ORIGIN_NODE:
        snprintf(buf, len, "node (kubelet probes)");
        break;
    case HNP_ORIGIN_RULE:
        snprintf(buf, len, "%s/%s spec.%s[%d]", acl->origin.policy_ns, acl->origin.policy_name,
                 acl->direction == HNP_ACL_IN ? "ingress" : "egress", acl->origin.rule_index);
        break;
    case HNP_ORIGIN_ISOLATION:
        snprintf(buf, len, "isolated for %s", acl->direction == HNP_ACL_IN ? "ingress" : "egress");
        break;
    case HNP_ORIGIN_OPEN:
        snprintf(buf, len, "no policy isolates %s",
                 acl->direction == HNP_ACL_IN ? "ingress" : "egress");
        break;
    default:
        snprintf(buf, len, "foreign");
        break;
    }
}

static void print_acl_table(FILE *out, const struct hnp_acl_list *acls)
{
    fprintf(out, "  %-6s %-4s %-6s %-5s %-24s %-12s %-28s %s\n", "PRIO", "DIR", "ACTION", "PROTO",
            "REMOTE", "PORTS", "ID", "FROM");
    for (size_t i = 0; i < acls->count; i++) {
        const struct hnp_acl *a = &acls->items[i];
        char addrs[256], ports[128], origin[600];
        format_addrs(a, addrs, sizeof(addrs));
        if (a->direction == HNP_ACL_IN)
            format_ranges(a->local_ports, a->n_local_ports, ports, sizeof(ports));
        else
            format_ranges(a->remote_ports, a->n_remote_ports, ports, sizeof(ports));
        format_origin(a, origin, sizeof(origin));
        fprintf(out, "  %-6u %-4s %-6s %-5s %-24s %-12s %-28s %s\n", (unsigned)a->priority,
                a->direction == HNP_ACL_IN ? "In" : "Out",
                a->action == HNP_ACL_ALLOW ? "Allow" : "Block", hnp_protocol_name(a->protocol),
                addrs, ports, a->id, origin);
    }
}

static void describe_end(const struct hnp_pod *pod, uint32_t ip, char *buf, size_t len)
{
    char text[16];
    hnp_ipv4_format(ip, text);
    if (pod != NULL)
        snprintf(buf, len, "%s/%s (%s)", pod->ns, pod->name, text);
    else
        snprintf(buf, len, "%s", text);
}

static void describe_side(const struct hnp_explain_side *side, const char *what, char *buf,
                          size_t len)
{
    if (!side->evaluated) {
        snprintf(buf, len, "%s: not a pod endpoint here, not evaluated", what);
    } else if (!side->isolated) {
        snprintf(buf, len, "%s: not isolated (no applied policy selects the pod: no ACLs)", what);
    } else if (!side->has_acl) {
        snprintf(buf, len, "%s: %s by HNS default deny (no rule matches)", what,
                 side->verdict == HNP_VERDICT_ALLOW ? "allowed" : "denied");
    } else {
        char origin[600];
        format_origin(&side->acl, origin, sizeof(origin));
        snprintf(buf, len, "%s: %s by %s %s (priority %u, %s)", what,
                 side->verdict == HNP_VERDICT_ALLOW ? "allowed" : "denied",
                 side->acl.action == HNP_ACL_ALLOW ? "Allow" : "Block", side->acl.id,
                 (unsigned)side->acl.priority, origin);
    }
}

static json_t *side_json(const struct hnp_explain_side *side)
{
    json_t *j =
        json_pack("{s:b, s:b, s:s}", "evaluated", side->evaluated, "isolated", side->isolated,
                  "verdict", side->verdict == HNP_VERDICT_ALLOW ? "allow" : "deny");
    if (side->has_acl) {
        char origin[600];
        format_origin(&side->acl, origin, sizeof(origin));
        json_object_set_new(j, "acl", hnp_acl_to_json(&side->acl));
        json_object_set_new(j, "from", json_string(origin));
        if (side->acl.origin.kind == HNP_ORIGIN_RULE) {
            char key[600];
            snprintf(key, sizeof(key), "%s/%s", side->acl.origin.policy_ns,
                     side->acl.origin.policy_name);
            json_object_set_new(j, "policy", json_string(key));
            json_object_set_new(j, "rule", json_integer(side->acl.origin.rule_index));
        }
    }
    return j;
}

/* ---- validate ------------------------------------------------------------ */

void hnp_render_validate(const struct hnp_cluster *cluster, json_t *errors, bool inputs_ok,
                         enum hnp_output_format format, FILE *out, FILE *errout)
{
    size_t n_policies = hnp_cluster_policy_count(cluster);
    size_t n_rejected = hnp_render_rejected_count(cluster);
    char key[600];
    if (format == HNP_OUTPUT_JSON) {
        json_t *policies = json_array();
        for (size_t i = 0; i < n_policies; i++) {
            const struct hnp_policy *p = hnp_cluster_policy_at(cluster, i);
            json_array_append_new(policies,
                                  json_pack("{s:s, s:s?, s:I, s:b, s:o}", "policy",
                                            policy_key(p, key, sizeof(key)), "file", p->src.file,
                                            "line", (json_int_t)p->src.line, "enforceable",
                                            !hnp_policy_rejected(p), "reasons", findings_json(p)));
        }
        json_t *doc =
            json_pack("{s:o, s:O, s:{s:I, s:I, s:I}}", "policies", policies, "errors", errors,
                      "summary", "policies", (json_int_t)n_policies, "enforceable",
                      (json_int_t)(n_policies - n_rejected), "rejected", (json_int_t)n_rejected);
        print_json(out, doc);
        json_decref(doc);
        return;
    }
    for (size_t i = 0; i < n_policies; i++) {
        const struct hnp_policy *p = hnp_cluster_policy_at(cluster, i);
        for (size_t j = 0; j < p->n_findings; j++)
            fprintf(out, "%s:%ld: %s: %s: %s (%s)\n", p->src.file ? p->src.file : "-",
                    p->findings[j].line, policy_key(p, key, sizeof(key)), p->findings[j].path,
                    p->findings[j].message, hnp_feature_name(p->findings[j].feature));
    }
    fprintf(errout, "hnsnetpol validate: %zu %s checked: %zu enforceable, %zu rejected%s\n",
            n_policies, n_policies == 1 ? "policy" : "policies", n_policies - n_rejected,
            n_rejected, inputs_ok ? "" : "; input errors above");
}

/* ---- translate ----------------------------------------------------------- */

void hnp_render_endpoint_table(FILE *out, const struct hnp_pod *pod,
                               const struct hnp_acl_list *acls)
{
    char ip[16];
    hnp_ipv4_format(pod->ips[0], ip);
    fprintf(out, "%s/%s  %s  node %s%s\n", pod->ns, pod->name, ip, pod->node ? pod->node : "-",
            acls->count ? "" : "  (no policy selects it: no ACLs)");
    if (acls->count)
        print_acl_table(out, acls);
    fputc('\n', out);
}

json_t *hnp_render_endpoint_json(const struct hnp_pod *pod, const struct hnp_acl_list *acls)
{
    char ip[16], key[600];
    hnp_ipv4_format(pod->ips[0], ip);
    snprintf(key, sizeof(key), "%s/%s", pod->ns, pod->name);
    json_t *request = acls->count ? hnp_acl_list_request(acls, NULL) : json_null();
    return json_pack("{s:s, s:s, s:s?, s:o}", "pod", key, "ip", ip, "node", pod->node, "request",
                     request);
}

void hnp_render_translate_json(FILE *out, json_t *endpoints, const struct hnp_cluster *cluster)
{
    json_t *doc =
        json_pack("{s:o, s:o}", "endpoints", endpoints, "rejected", rejected_json(cluster));
    print_json(out, doc);
    json_decref(doc);
}

/* ---- explain ------------------------------------------------------------- */

void hnp_render_explain(FILE *out, enum hnp_output_format format, const struct hnp_pod *from,
                        uint32_t from_ip, const struct hnp_pod *to, uint32_t to_ip,
                        uint8_t protocol, uint16_t port, const struct hnp_explain_result *result)
{
    char src[600], dst[600], eg[1400], in[1400];
    describe_end(from, from_ip, src, sizeof(src));
    describe_end(to, to_ip, dst, sizeof(dst));
    if (format == HNP_OUTPUT_JSON) {
        json_t *doc = json_pack("{s:s, s:s, s:s, s:i, s:s, s:o, s:o}", "from", src, "to", dst,
                                "protocol", hnp_protocol_name(protocol), "port", (int)port,
                                "verdict", result->allowed ? "allowed" : "denied", "egress",
                                side_json(&result->egress), "ingress", side_json(&result->ingress));
        print_json(out, doc);
        json_decref(doc);
    } else {
        describe_side(&result->egress, "egress at source", eg, sizeof(eg));
        describe_side(&result->ingress, "ingress at destination", in, sizeof(in));
        fprintf(out, "%s -> %s %s/%u: %s\n  %s\n  %s\n", src, dst, hnp_protocol_name(protocol),
                (unsigned)port, result->allowed ? "ALLOWED" : "DENIED", eg, in);
    }
}

/* One probe as text: a header, the column numbers, a row per source pod, an empty line. */
static void matrix_text(FILE *out, const struct hnp_pod *const *pods, size_t n,
                        const struct hnp_matrix_probe *probe)
{
    size_t width = 3;
    for (size_t i = 0; i < n; i++) {
        size_t w = strlen(pods[i]->ns) + 1 + strlen(pods[i]->name);
        if (w > width)
            width = w;
    }
    fprintf(out, "%s/%u (rows: from, columns: to; '.' allowed, 'X' denied)\n",
            hnp_protocol_name(probe->protocol), (unsigned)probe->port);
    fprintf(out, "%-*s", (int)width + 1, "");
    for (size_t j = 0; j < n; j++)
        fprintf(out, " %zu", j + 1);
    fputc('\n', out);
    for (size_t i = 0; i < n; i++) {
        char key[600];
        snprintf(key, sizeof(key), "%s/%s", pods[i]->ns, pods[i]->name);
        fprintf(out, "%2zu %-*s", i + 1, (int)width, key);
        for (size_t j = 0; j < n; j++)
            fprintf(out, " %*c", (int)(j + 1 >= 10 ? 2 : 1), probe->cells[i * n + j]);
        fputc('\n', out);
    }
    fputc('\n', out);
}

/* One probe as JSON: {"probe": "80/TCP", "matrix": {"ns/pod": ".X.", ...}}; NULL when out of
 * memory. */
static json_t *matrix_json(const struct hnp_pod *const *pods, size_t n,
                           const struct hnp_matrix_probe *probe)
{
    json_t *rows = json_object();
    char *line = malloc(n + 1);
    if (rows == NULL || line == NULL) {
        json_decref(rows);
        free(line);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        char key[600];
        snprintf(key, sizeof(key), "%s/%s", pods[i]->ns, pods[i]->name);
        memcpy(line, probe->cells + i * n, n);
        line[n] = '\0';
        json_object_set_new(rows, key, json_string(line));
    }
    free(line);
    char name[32];
    snprintf(name, sizeof(name), "%u/%s", (unsigned)probe->port,
             hnp_protocol_name(probe->protocol));
    return json_pack("{s:s, s:o}", "probe", name, "matrix", rows);
}

void hnp_render_matrix(FILE *out, enum hnp_output_format format, const struct hnp_pod *const *pods,
                       size_t n, const struct hnp_matrix_probe *probes, size_t n_probes)
{
    if (format != HNP_OUTPUT_JSON) {
        for (size_t k = 0; k < n_probes; k++)
            matrix_text(out, pods, n, &probes[k]);
        return;
    }
    json_t *doc = json_array();
    for (size_t k = 0; k < n_probes; k++)
        json_array_append_new(doc, matrix_json(pods, n, &probes[k]));
    print_json(out, doc);
    json_decref(doc);
}
