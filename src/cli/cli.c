/*
 * cli.c - the hnsnetpol command line: validate, translate, explain, version.
 *
 * Every command reads Kubernetes objects from files (or "-") into one
 * struct hnp_cluster, then works on it offline. Exit codes are the same for
 * every command: 0 fine, 1 some policy rejected (explain: connection denied),
 * 2 bad usage or input that cannot be read or parsed.
 */
#include "cli.h"
#include "mock_cmd.h"
#include "run.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hnsnetpol/acl.h"
#include "hnsnetpol/cluster.h"
#include "hnsnetpol/error.h"
#include "hnsnetpol/explain.h"
#include "hnsnetpol/load.h"
#include "hnsnetpol/objects.h"
#include "platform.h"
#include "hnsnetpol/policy.h"
#include "hnsnetpol/rangeset.h"
#include "hnsnetpol/translate.h"

#ifndef HNP_VERSION
#define HNP_VERSION "0.0.0"
#endif

enum exit_code { EXIT_OK = 0, EXIT_REJECTED = 1, EXIT_INPUT = 2 };

enum output_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_TABLE };

#define MAX_FILES 256
#define MAX_PROBES 64

/* ---- help texts ---------------------------------------------------------- */

static const char usage_main[] =
    "Usage: hnsnetpol <command> [options] [FILE...]\n"
    "\n"
    "Kubernetes NetworkPolicy for Windows nodes: translates networking.k8s.io/v1\n"
    "NetworkPolicies into HNS ACL policies. The offline commands below read\n"
    "Namespaces, Pods and NetworkPolicies from YAML or JSON files (multi-document\n"
    "YAML and `kubectl get ... -o yaml|json` Lists; `-` reads standard input).\n"
    "\n"
    "Commands:\n"
    "  validate   report what Windows HNS cannot enforce (named ports, SCTP, NotIn /\n"
    "             DoesNotExist selectors, ipBlock except) and what is invalid\n"
    "  translate  print the HNS ACLs every endpoint of a node would get\n"
    "  explain    tell whether a connection is allowed, and which rule decides\n"
    "  run        the agent: keep this node's HNS ACLs converged with the cluster's\n"
    "             NetworkPolicies (hnsnetpol run --help)\n"
    "  service    install, start, stop and remove the agent as a Windows service\n"
    "             (hnsnetpol service --help; Windows only)\n"
    "  version    print the version\n"
    "  hns-mock   read and edit the mock HNS state file (Linux tests and demos)\n"
    "  help       print this text, or `hnsnetpol help <command>`\n"
    "\n"
    "Exit codes: 0 all policies enforceable (explain: allowed), 1 some policy\n"
    "rejected (explain: denied), 2 bad usage or unreadable input.\n"
    "\n"
    "Example:\n"
    "  kubectl get pods,namespaces,networkpolicies -A -o yaml > cluster.yaml\n"
    "  hnsnetpol validate cluster.yaml\n"
    "  hnsnetpol translate --node akswin000000 cluster.yaml\n"
    "  hnsnetpol explain --from demo/client --to demo/server --port 80 cluster.yaml\n";

static const char usage_validate[] =
    "Usage: hnsnetpol validate [-o text|json] FILE...\n"
    "\n"
    "Checks every NetworkPolicy in the files. A policy that uses something Windows\n"
    "HNS cannot enforce is rejected as a whole and never applied; each occurrence is\n"
    "reported with its feature keyword:\n"
    "  namedPort         a port given by name (port: http)\n"
    "  sctp              protocol SCTP\n"
    "  negativeSelector  operator NotIn or DoesNotExist in a pod or namespace selector\n"
    "  exceptCIDR        an ipBlock with a non-empty except list\n"
    "  invalid           a value the API server itself would refuse\n"
    "\n"
    "Text output is one line per finding, compiler style:\n"
    "  FILE:LINE: NAMESPACE/NAME: FIELD.PATH: message (feature)\n"
    "and a summary on standard error.\n"
    "\n"
    "Options:\n"
    "  -o, --output text|json   output format (default text)\n"
    "  -h, --help               this text\n"
    "\n"
    "Exit codes: 0 every policy enforceable, 1 some policy rejected, 2 unreadable\n"
    "input (syntax error, wrong field type: reported as FILE:LINE: error: ...).\n";

static const char usage_translate[] =
    "Usage: hnsnetpol translate (--node NAME | --all-nodes) [options] FILE...\n"
    "\n"
    "Prints, for every pod endpoint on the node (a pod with an IP, not hostNetwork,\n"
    "not finished), the complete set of HNS ACLs hnsnetpol puts on it. An endpoint\n"
    "that no applied policy selects gets no ACL at all (\"request\": null).\n"
    "\n"
    "JSON output (-o json, the default) is what tools read:\n"
    "  {\"endpoints\":[{\"pod\":\"ns/name\",\"ip\":\"10.0.0.5\",\"node\":\"n1\",\n"
    "                 \"request\":{...exactly the HcnModifyEndpoint settings...}}],\n"
    "   \"rejected\":[{\"policy\":\"ns/name\",\"reasons\":[{\"feature\":...,\"path\":...,\n"
    "                \"message\":...}]}]}\n"
    "The request leaves the endpoint's other policies first and unchanged; offline\n"
    "there are none, so it holds our ACLs only.\n"
    "\n"
    "Options:\n"
    "  --node NAME                 endpoints of pods with spec.nodeName NAME\n"
    "  --all-nodes                 endpoints of every node\n"
    "  --node-ip IP                the node's IP for the kubelet-probe Allow rule\n"
    "                              (default: each pod's status.hostIP)\n"
    "  --unsupported-policy MODE   reject (default): a rejected policy contributes\n"
    "                              nothing; isolate: it isolates the pods it selects\n"
    "                              for its policy types but allows nothing\n"
    "  -o, --output json|table     output format (default json)\n"
    "  -h, --help                  this text\n"
    "\n"
    "Exit codes as for validate.\n";

static const char usage_explain[] =
    "Usage: hnsnetpol explain --from SRC --to DST --port N [--protocol P] FILE...\n"
    "       hnsnetpol explain --matrix [--port N,...] [--protocol P,...] FILE...\n"
    "\n"
    "Tells whether a connection would be allowed and which ACL decides, at the\n"
    "source's egress and at the destination's ingress. The verdict comes from\n"
    "evaluating the generated ACLs the way HNS does (lowest priority first, first\n"
    "match decides, an endpoint with any ACL denies what no rule allows), so it\n"
    "checks the translation itself.\n"
    "\n"
    "SRC and DST are NAMESPACE/POD or an IPv4 address (an address that belongs to\n"
    "a pod is that pod).\n"
    "\n"
    "Options:\n"
    "  --from SRC, --to DST        the connection's ends\n"
    "  --port N[,N...]             destination port(s) (matrix default: 80)\n"
    "  --protocol TCP|UDP|SCTP     protocol(s), comma separated (default TCP)\n"
    "  --matrix                    pod-by-pod truth table ('.' allowed, 'X' denied;\n"
    "                              rows are sources, columns destinations)\n"
    "  --node-ip IP, --unsupported-policy MODE   as for translate\n"
    "  -o, --output text|json      output format (default text)\n"
    "  -h, --help                  this text\n"
    "\n"
    "Exit codes: 0 allowed (matrix: printed), 1 denied, 2 bad usage or input.\n";

/* ---- options ------------------------------------------------------------- */

struct options {
    enum output_format format;
    bool format_given;
    const char *node;
    bool all_nodes;
    bool has_node_ip;
    uint32_t node_ip;
    enum hnp_unsupported_mode unsupported;
    const char *from;
    const char *to;
    uint16_t ports[MAX_PROBES];
    size_t n_ports;
    uint8_t protocols[4];
    size_t n_protocols;
    bool matrix;
    bool help;
    const char *files[MAX_FILES];
    size_t n_files;
};

/* Returns the option's value for "--name value" or "--name=value"; NULL if arg is not it. */
static const char *match_option(const char *name, const char *alias, int argc, char **argv, int *i,
                                bool *missing)
{
    const char *arg = argv[*i];
    size_t len = strlen(name);
    *missing = false;
    if (strncmp(arg, name, len) == 0 && arg[len] == '=')
        return arg + len + 1;
    if (strcmp(arg, name) == 0 || (alias != NULL && strcmp(arg, alias) == 0)) {
        if (*i + 1 >= argc) {
            *missing = true;
            return NULL;
        }
        (*i)++;
        return argv[*i];
    }
    return NULL;
}

static bool parse_u16_list(const char *text, uint16_t *out, size_t *n, size_t max)
{
    const char *p = text;
    while (*p != '\0') {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno != 0 || v < 1 || v > 65535 || *n >= max)
            return false;
        out[(*n)++] = (uint16_t)v;
        if (*end == ',')
            end++;
        else if (*end != '\0')
            return false;
        p = end;
    }
    return *n > 0;
}

static bool parse_protocol_list(const char *text, uint8_t *out, size_t *n, size_t max)
{
    char buf[64];
    if (strlen(text) >= sizeof(buf))
        return false;
    strcpy(buf, text);
    for (char *tok = strtok(buf, ","); tok != NULL; tok = strtok(NULL, ",")) {
        for (char *c = tok; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        uint8_t proto = hnp_protocol_from_name(tok);
        if (proto == 0 || *n >= max)
            return false;
        out[(*n)++] = proto;
    }
    return *n > 0;
}

/*
 * Parse argv[first..argc) for a command. `allowed` lists which options the
 * command takes. Returns false (after printing why) on bad usage.
 */
static bool parse_options(const char *command, const char *allowed, int argc, char **argv,
                          int first, struct options *opt, FILE *errout)
{
    memset(opt, 0, sizeof(*opt));
    bool only_files = false;
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        const char *value;
        bool missing = false;
        if (only_files || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (opt->n_files >= MAX_FILES) {
                fprintf(errout, "hnsnetpol %s: at most %d files\n", command, MAX_FILES);
                return false;
            }
            opt->files[opt->n_files++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_files = true;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            opt->help = true;
            continue;
        }
#define TAKE(name, alias, key)                                                                     \
    (strstr(allowed, key) != NULL &&                                                               \
     ((value = match_option(name, alias, argc, argv, &i, &missing)) != NULL || missing))
        if (TAKE("--output", "-o", "o")) {
            if (missing)
                goto missing_value;
            if (strcmp(value, "json") == 0)
                opt->format = FORMAT_JSON;
            else if (strcmp(value, "text") == 0 && strstr(allowed, "T") != NULL)
                opt->format = FORMAT_TEXT;
            else if (strcmp(value, "table") == 0 && strstr(allowed, "t") != NULL)
                opt->format = FORMAT_TABLE;
            else {
                fprintf(errout, "hnsnetpol %s: unknown output format '%s'\n", command, value);
                return false;
            }
            opt->format_given = true;
        } else if (TAKE("--node", NULL, "n")) {
            if (missing)
                goto missing_value;
            opt->node = value;
        } else if (strcmp(arg, "--all-nodes") == 0 && strstr(allowed, "a") != NULL) {
            opt->all_nodes = true;
        } else if (TAKE("--node-ip", NULL, "i")) {
            if (missing)
                goto missing_value;
            if (!hnp_ipv4_parse(value, &opt->node_ip)) {
                fprintf(errout, "hnsnetpol %s: --node-ip '%s' is not an IPv4 address\n", command,
                        value);
                return false;
            }
            opt->has_node_ip = true;
        } else if (TAKE("--unsupported-policy", NULL, "u")) {
            if (missing)
                goto missing_value;
            if (strcmp(value, "reject") == 0)
                opt->unsupported = HNP_UNSUPPORTED_REJECT;
            else if (strcmp(value, "isolate") == 0)
                opt->unsupported = HNP_UNSUPPORTED_ISOLATE;
            else {
                fprintf(errout,
                        "hnsnetpol %s: --unsupported-policy takes reject or isolate, not '%s'\n",
                        command, value);
                return false;
            }
        } else if (TAKE("--from", NULL, "f")) {
            if (missing)
                goto missing_value;
            opt->from = value;
        } else if (TAKE("--to", NULL, "d")) {
            if (missing)
                goto missing_value;
            opt->to = value;
        } else if (TAKE("--port", NULL, "p")) {
            if (missing)
                goto missing_value;
            if (!parse_u16_list(value, opt->ports, &opt->n_ports, MAX_PROBES)) {
                fprintf(errout, "hnsnetpol %s: --port takes port numbers 1-65535, not '%s'\n",
                        command, value);
                return false;
            }
        } else if (TAKE("--protocol", NULL, "P")) {
            if (missing)
                goto missing_value;
            if (!parse_protocol_list(value, opt->protocols, &opt->n_protocols, 4)) {
                fprintf(errout, "hnsnetpol %s: --protocol takes TCP, UDP or SCTP, not '%s'\n",
                        command, value);
                return false;
            }
        } else if (strcmp(arg, "--matrix") == 0 && strstr(allowed, "m") != NULL) {
            opt->matrix = true;
        } else {
            fprintf(errout, "hnsnetpol %s: unknown option '%s' (see hnsnetpol %s --help)\n",
                    command, arg, command);
            return false;
        }
#undef TAKE
        continue;
    missing_value:
        fprintf(errout, "hnsnetpol %s: option '%s' needs a value\n", command, arg);
        return false;
    }
    return true;
}

/* ---- loading ------------------------------------------------------------- */

struct load_ctx {
    struct hnp_cluster *cluster;
    FILE *errout;
    json_t *errors; /* array of {"file","line","message"} */
    size_t n_objects;
};

static const char *json_str_at(const json_t *obj, const char *a, const char *b)
{
    const json_t *v = json_object_get(obj, a);
    if (b != NULL)
        v = json_object_get(v, b);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void record_error(struct load_ctx *ctx, const char *file, long line, const char *message)
{
    if (line > 0)
        fprintf(ctx->errout, "%s:%ld: error: %s\n", file, line, message);
    else
        fprintf(ctx->errout, "%s: error: %s\n", file, message);
    json_t *e =
        json_pack("{s:s, s:I, s:s}", "file", file, "line", (json_int_t)line, "message", message);
    if (e != NULL)
        json_array_append_new(ctx->errors, e);
}

static long object_node_line(const void *object, const json_t *node)
{
    return hnp_loaded_object_line(object, node);
}

static enum hnp_err on_object(const struct hnp_loaded_object *object, void *arg)
{
    struct load_ctx *ctx = arg;
    struct hnp_error err;
    hnp_error_clear(&err);
    struct hnp_source src = {
        .file = hnp_strtab_intern(hnp_cluster_strtab(ctx->cluster), object->name),
        .line = object->line,
        .line_of = object_node_line,
        .line_ctx = object,
    };
    if (src.file == NULL)
        return HNP_ERR_NOMEM;
    ctx->n_objects++;
    enum hnp_err rc = hnp_cluster_add_json(ctx->cluster, object->obj, &src, NULL, &err);
    if (rc == HNP_ERR_NOMEM)
        return rc;
    if (rc != HNP_OK) {
        /* A malformed object is reported with its identity and skipped. */
        const char *kind = json_str_at(object->obj, "kind", NULL);
        const char *ns = json_str_at(object->obj, "metadata", "namespace");
        const char *name = json_str_at(object->obj, "metadata", "name");
        char message[2048];
        snprintf(message, sizeof(message), "%s %s%s%s: %s%s%s", kind ? kind : "object",
                 ns ? ns : "", ns ? "/" : "", name ? name : "(unnamed)", err.where,
                 err.where[0] ? ": " : "", err.message[0] ? err.message : hnp_strerror(rc));
        record_error(ctx, object->name, object->line, message);
    }
    return HNP_OK;
}

/* Load every file into cluster. Returns false when any input error was reported. */
static bool load_inputs(const struct options *opt, struct load_ctx *ctx)
{
    bool ok = true;
    for (size_t i = 0; i < opt->n_files; i++) {
        struct hnp_error err;
        hnp_error_clear(&err);
        size_t before = json_array_size(ctx->errors);
        if (strcmp(opt->files[i], "-") == 0)
            hnp_stdin_binary(); /* the bytes as they are, also on Windows */
        enum hnp_err rc = hnp_load_file(opt->files[i], NULL, on_object, ctx, &err);
        if (rc != HNP_OK) {
            char message[2048];
            snprintf(message, sizeof(message), "%s",
                     err.message[0] ? err.message : hnp_strerror(rc));
            /* err.where is "file:line[:col]" when the loader knows it. */
            if (err.where[0] != '\0') {
                fprintf(ctx->errout, "%s: error: %s\n", err.where, message);
                json_t *e = json_pack("{s:s, s:s, s:s}", "file", opt->files[i], "where", err.where,
                                      "message", message);
                if (e != NULL)
                    json_array_append_new(ctx->errors, e);
            } else {
                record_error(ctx, opt->files[i], 0, message);
            }
            ok = false;
        }
        if (json_array_size(ctx->errors) != before)
            ok = false;
    }
    return ok;
}

/* ---- shared rendering ---------------------------------------------------- */

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

static size_t rejected_count(const struct hnp_cluster *cluster)
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

/* Warn on errout about rejected policies (translate / explain). */
static void warn_rejected(const struct hnp_cluster *cluster, FILE *errout)
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

/* ---- validate ------------------------------------------------------------ */

static int cmd_validate(struct options *opt, struct hnp_cluster *cluster, struct load_ctx *ctx,
                        bool inputs_ok, FILE *out, FILE *errout)
{
    size_t n_policies = hnp_cluster_policy_count(cluster);
    size_t n_rejected = rejected_count(cluster);
    char key[600];
    if (opt->format == FORMAT_JSON) {
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
            json_pack("{s:o, s:O, s:{s:I, s:I, s:I}}", "policies", policies, "errors", ctx->errors,
                      "summary", "policies", (json_int_t)n_policies, "enforceable",
                      (json_int_t)(n_policies - n_rejected), "rejected", (json_int_t)n_rejected);
        print_json(out, doc);
        json_decref(doc);
    } else {
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
    if (!inputs_ok)
        return EXIT_INPUT;
    return n_rejected > 0 ? EXIT_REJECTED : EXIT_OK;
}

/* ---- translate ----------------------------------------------------------- */

struct endpoint_ref {
    const struct hnp_pod *pod;
};

static int compare_endpoints(const void *a, const void *b)
{
    const struct hnp_pod *pa = ((const struct endpoint_ref *)a)->pod;
    const struct hnp_pod *pb = ((const struct endpoint_ref *)b)->pod;
    int c = strcmp(pa->node ? pa->node : "", pb->node ? pb->node : "");
    if (c == 0)
        c = strcmp(pa->ns, pb->ns);
    if (c == 0)
        c = strcmp(pa->name, pb->name);
    return c;
}

/* Endpoint pods on opt->node (or all), sorted by node, namespace, name. New array. */
static struct endpoint_ref *select_endpoints(const struct hnp_cluster *cluster,
                                             const struct options *opt, size_t *count)
{
    size_t n = hnp_cluster_pod_count(cluster);
    struct endpoint_ref *refs = calloc(n ? n : 1, sizeof(*refs));
    size_t k = 0;
    if (refs == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const struct hnp_pod *pod = hnp_cluster_pod_at(cluster, i);
        if (!hnp_pod_is_endpoint(pod))
            continue;
        if (!opt->all_nodes && (pod->node == NULL || strcmp(pod->node, opt->node) != 0))
            continue;
        refs[k++].pod = pod;
    }
    qsort(refs, k, sizeof(*refs), compare_endpoints);
    *count = k;
    return refs;
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
        strcpy(buf + len - 4, "...");
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
        strcpy(buf + len - 4, "...");
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

static int cmd_translate(struct options *opt, struct hnp_cluster *cluster, FILE *out, FILE *errout)
{
    struct hnp_translate_options topt = {
        .has_node_ip = opt->has_node_ip,
        .node_ip = opt->node_ip,
        .unsupported = opt->unsupported,
    };
    struct hnp_translator *tr = hnp_translator_new(cluster, &topt);
    size_t n_endpoints = 0;
    struct endpoint_ref *endpoints = select_endpoints(cluster, opt, &n_endpoints);
    if (tr == NULL || endpoints == NULL) {
        hnp_translator_free(tr);
        free(endpoints);
        fprintf(errout, "hnsnetpol translate: out of memory\n");
        return EXIT_INPUT;
    }
    int rc = EXIT_OK;
    json_t *list = json_array();
    for (size_t i = 0; i < n_endpoints && rc == EXIT_OK; i++) {
        const struct hnp_pod *pod = endpoints[i].pod;
        struct hnp_acl_list acls;
        struct hnp_error err;
        hnp_acl_list_init(&acls);
        hnp_error_clear(&err);
        enum hnp_err e = hnp_translator_pod(tr, pod, &acls, &err);
        if (e != HNP_OK) {
            fprintf(errout, "hnsnetpol translate: %s/%s: %s\n", pod->ns, pod->name,
                    err.message[0] ? err.message : hnp_strerror(e));
            rc = EXIT_INPUT;
        } else {
            char ip[16], key[600];
            hnp_ipv4_format(pod->ips[0], ip);
            snprintf(key, sizeof(key), "%s/%s", pod->ns, pod->name);
            if (opt->format == FORMAT_TABLE) {
                fprintf(out, "%s  %s  node %s%s\n", key, ip, pod->node ? pod->node : "-",
                        acls.count ? "" : "  (no policy selects it: no ACLs)");
                if (acls.count)
                    print_acl_table(out, &acls);
                fputc('\n', out);
            } else {
                json_t *request = acls.count ? hnp_acl_list_request(&acls, NULL) : json_null();
                json_array_append_new(list, json_pack("{s:s, s:s, s:s?, s:o}", "pod", key, "ip", ip,
                                                      "node", pod->node, "request", request));
            }
        }
        hnp_acl_list_free(&acls);
    }
    if (rc == EXIT_OK && opt->format != FORMAT_TABLE) {
        json_t *doc =
            json_pack("{s:o, s:o}", "endpoints", list, "rejected", rejected_json(cluster));
        print_json(out, doc);
        json_decref(doc);
    } else {
        json_decref(list);
    }
    if (rc == EXIT_OK && opt->format == FORMAT_TABLE)
        warn_rejected(cluster, errout);
    hnp_translator_free(tr);
    free(endpoints);
    if (rc == EXIT_OK && rejected_count(cluster) > 0)
        rc = EXIT_REJECTED;
    return rc;
}

/* ---- explain ------------------------------------------------------------- */

/* Resolve "ns/pod" or an IPv4 address. *pod is NULL for an outside address. */
static bool resolve_end(struct hnp_cluster *cluster, struct hnp_translator *tr, const char *text,
                        const struct hnp_pod **pod, uint32_t *ip, FILE *errout)
{
    *pod = NULL;
    const char *slash = strchr(text, '/');
    if (slash != NULL) {
        char ns[256];
        size_t len = (size_t)(slash - text);
        if (len == 0 || len >= sizeof(ns)) {
            fprintf(errout, "hnsnetpol explain: '%s' is not NAMESPACE/POD\n", text);
            return false;
        }
        memcpy(ns, text, len);
        ns[len] = '\0';
        *pod = hnp_cluster_pod(cluster, ns, slash + 1);
        if (*pod == NULL) {
            fprintf(errout, "hnsnetpol explain: no pod %s in the input\n", text);
            return false;
        }
        if (!hnp_pod_is_endpoint(*pod)) {
            fprintf(errout,
                    "hnsnetpol explain: pod %s is not an endpoint (no IPv4 address, "
                    "hostNetwork, or finished)\n",
                    text);
            return false;
        }
        *ip = (*pod)->ips[0];
        return true;
    }
    if (!hnp_ipv4_parse(text, ip)) {
        fprintf(errout, "hnsnetpol explain: '%s' is neither NAMESPACE/POD nor an IPv4 address\n",
                text);
        return false;
    }
    *pod = hnp_translator_pod_by_ip(tr, *ip);
    return true;
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

static int explain_one(struct options *opt, struct hnp_cluster *cluster, struct hnp_translator *tr,
                       FILE *out, FILE *errout)
{
    if (opt->from == NULL || opt->to == NULL || opt->n_ports != 1) {
        fprintf(errout, "hnsnetpol explain: give --from, --to and one --port (or --matrix); see "
                        "hnsnetpol explain --help\n");
        return EXIT_INPUT;
    }
    if (opt->n_protocols > 1) {
        fprintf(errout, "hnsnetpol explain: one --protocol for a single connection\n");
        return EXIT_INPUT;
    }
    const struct hnp_pod *from, *to;
    uint32_t from_ip, to_ip;
    if (!resolve_end(cluster, tr, opt->from, &from, &from_ip, errout) ||
        !resolve_end(cluster, tr, opt->to, &to, &to_ip, errout))
        return EXIT_INPUT;
    uint8_t protocol = opt->n_protocols ? opt->protocols[0] : HNP_PROTO_TCP;
    struct hnp_explain_result result;
    struct hnp_error err;
    hnp_error_clear(&err);
    enum hnp_err e =
        hnp_explain(tr, from, from_ip, to, to_ip, protocol, opt->ports[0], &result, &err);
    if (e != HNP_OK) {
        fprintf(errout, "hnsnetpol explain: %s\n", err.message[0] ? err.message : hnp_strerror(e));
        return EXIT_INPUT;
    }
    char src[600], dst[600], eg[1400], in[1400];
    describe_end(from, from_ip, src, sizeof(src));
    describe_end(to, to_ip, dst, sizeof(dst));
    if (opt->format == FORMAT_JSON) {
        json_t *doc = json_pack("{s:s, s:s, s:s, s:i, s:s, s:o, s:o}", "from", src, "to", dst,
                                "protocol", hnp_protocol_name(protocol), "port", (int)opt->ports[0],
                                "verdict", result.allowed ? "allowed" : "denied", "egress",
                                side_json(&result.egress), "ingress", side_json(&result.ingress));
        print_json(out, doc);
        json_decref(doc);
    } else {
        describe_side(&result.egress, "egress at source", eg, sizeof(eg));
        describe_side(&result.ingress, "ingress at destination", in, sizeof(in));
        fprintf(out, "%s -> %s %s/%u: %s\n  %s\n  %s\n", src, dst, hnp_protocol_name(protocol),
                (unsigned)opt->ports[0], result.allowed ? "ALLOWED" : "DENIED", eg, in);
    }
    bool allowed = result.allowed;
    hnp_explain_result_clear(&result);
    return allowed ? EXIT_OK : EXIT_REJECTED;
}

static int explain_matrix(struct options *opt, struct hnp_cluster *cluster,
                          struct hnp_translator *tr, FILE *out, FILE *errout)
{
    struct options all = *opt;
    all.all_nodes = true;
    size_t n = 0;
    struct endpoint_ref *pods = select_endpoints(cluster, &all, &n);
    if (pods == NULL) {
        fprintf(errout, "hnsnetpol explain: out of memory\n");
        return EXIT_INPUT;
    }
    /* Matrix rows in namespace/name order, whatever the node. */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0; j--) {
            const struct hnp_pod *a = pods[j - 1].pod, *b = pods[j].pod;
            int c = strcmp(a->ns, b->ns);
            if (c > 0 || (c == 0 && strcmp(a->name, b->name) > 0)) {
                struct endpoint_ref t = pods[j - 1];
                pods[j - 1] = pods[j];
                pods[j] = t;
            } else {
                break;
            }
        }
    if (opt->n_ports == 0) {
        opt->ports[0] = 80;
        opt->n_ports = 1;
    }
    if (opt->n_protocols == 0) {
        opt->protocols[0] = HNP_PROTO_TCP;
        opt->n_protocols = 1;
    }
    size_t width = 3;
    for (size_t i = 0; i < n; i++) {
        size_t w = strlen(pods[i].pod->ns) + 1 + strlen(pods[i].pod->name);
        if (w > width)
            width = w;
    }
    json_t *doc = json_array();
    int rc = EXIT_OK;
    for (size_t pr = 0; pr < opt->n_protocols && rc == EXIT_OK; pr++) {
        for (size_t po = 0; po < opt->n_ports && rc == EXIT_OK; po++) {
            uint8_t protocol = opt->protocols[pr];
            uint16_t port = opt->ports[po];
            json_t *rows = json_object();
            if (opt->format != FORMAT_JSON) {
                fprintf(out, "%s/%u (rows: from, columns: to; '.' allowed, 'X' denied)\n",
                        hnp_protocol_name(protocol), (unsigned)port);
                fprintf(out, "%-*s", (int)width + 1, "");
                for (size_t j = 0; j < n; j++)
                    fprintf(out, " %zu", j + 1);
                fputc('\n', out);
            }
            for (size_t i = 0; i < n && rc == EXIT_OK; i++) {
                char key[600], line[4096];
                size_t used = 0;
                snprintf(key, sizeof(key), "%s/%s", pods[i].pod->ns, pods[i].pod->name);
                line[0] = '\0';
                for (size_t j = 0; j < n; j++) {
                    struct hnp_explain_result res;
                    struct hnp_error err;
                    enum hnp_err e = hnp_explain(tr, pods[i].pod, pods[i].pod->ips[0], pods[j].pod,
                                                 pods[j].pod->ips[0], protocol, port, &res, &err);
                    if (e != HNP_OK) {
                        fprintf(errout, "hnsnetpol explain: %s\n", err.message);
                        rc = EXIT_INPUT;
                        break;
                    }
                    if (used + 2 < sizeof(line))
                        line[used++] = res.allowed ? '.' : 'X';
                    line[used] = '\0';
                    hnp_explain_result_clear(&res);
                }
                if (opt->format == FORMAT_JSON)
                    json_object_set_new(rows, key, json_string(line));
                else {
                    fprintf(out, "%2zu %-*s", i + 1, (int)width, key);
                    for (size_t j = 0; j < used; j++)
                        fprintf(out, " %*c", (int)(j + 1 >= 10 ? 2 : 1), line[j]);
                    fputc('\n', out);
                }
            }
            if (opt->format == FORMAT_JSON) {
                char probe[32];
                snprintf(probe, sizeof(probe), "%u/%s", (unsigned)port,
                         hnp_protocol_name(protocol));
                json_array_append_new(doc, json_pack("{s:s, s:o}", "probe", probe, "matrix", rows));
            } else {
                json_decref(rows);
                fputc('\n', out);
            }
        }
    }
    if (opt->format == FORMAT_JSON && rc == EXIT_OK)
        print_json(out, doc);
    json_decref(doc);
    free(pods);
    return rc;
}

static int cmd_explain(struct options *opt, struct hnp_cluster *cluster, FILE *out, FILE *errout)
{
    struct hnp_translate_options topt = {
        .has_node_ip = opt->has_node_ip,
        .node_ip = opt->node_ip,
        .unsupported = opt->unsupported,
    };
    struct hnp_translator *tr = hnp_translator_new(cluster, &topt);
    if (tr == NULL) {
        fprintf(errout, "hnsnetpol explain: out of memory\n");
        return EXIT_INPUT;
    }
    warn_rejected(cluster, errout);
    int rc = opt->matrix ? explain_matrix(opt, cluster, tr, out, errout)
                         : explain_one(opt, cluster, tr, out, errout);
    hnp_translator_free(tr);
    return rc;
}

/* ---- dispatch ------------------------------------------------------------ */

struct command {
    const char *name;
    const char *options; /* letters of the options it takes, see parse_options */
    const char *usage;
    enum output_format default_format;
};

static const struct command commands[] = {
    {"validate", "oT", usage_validate, FORMAT_TEXT},
    {"translate", "onaiut", usage_translate, FORMAT_JSON},
    {"explain", "oTiufdpPm", usage_explain, FORMAT_TEXT},
};

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int hnp_cli_main(int argc, char **argv, FILE *out, FILE *errout)
{
    if (argc < 2) {
        fputs(usage_main, errout);
        return EXIT_INPUT;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc > 2 && (strcmp(argv[2], "run") == 0 || strcmp(argv[2], "hns-mock") == 0 ||
                         strcmp(argv[2], "service") == 0)) {
            char cmd_name[16], help_flag[] = "--help";
            snprintf(cmd_name, sizeof(cmd_name), "%s", argv[2]);
            char *help_argv[] = {cmd_name, help_flag, NULL};
            if (strcmp(argv[2], "service") == 0)
                return hnp_cli_service_main(2, help_argv, out, errout);
            return strcmp(argv[2], "run") == 0 ? hnp_cli_run_main(2, help_argv, out, errout)
                                               : hnp_cli_mock_main(2, help_argv, out, errout);
        }
        const struct command *c = argc > 2 ? find_command(argv[2]) : NULL;
        fputs(c ? c->usage : usage_main, out);
        return EXIT_OK;
    }
    if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0) {
        fprintf(out, "hnsnetpol %s (jansson %s, libyaml)\n", HNP_VERSION, JANSSON_VERSION);
        return EXIT_OK;
    }
    if (strcmp(name, "run") == 0)
        return hnp_cli_run_main(argc - 1, argv + 1, out, errout);
    if (strcmp(name, "hns-mock") == 0)
        return hnp_cli_mock_main(argc - 1, argv + 1, out, errout);
    if (strcmp(name, "service") == 0)
        return hnp_cli_service_main(argc - 1, argv + 1, out, errout);
    const struct command *cmd = find_command(name);
    if (cmd == NULL) {
        fprintf(errout, "hnsnetpol: unknown command '%s'\n\n%s", name, usage_main);
        return EXIT_INPUT;
    }
    struct options opt;
    if (!parse_options(cmd->name, cmd->options, argc, argv, 2, &opt, errout))
        return EXIT_INPUT;
    if (opt.help) {
        fputs(cmd->usage, out);
        return EXIT_OK;
    }
    if (!opt.format_given)
        opt.format = cmd->default_format;
    if (opt.n_files == 0) {
        fprintf(errout, "hnsnetpol %s: no input files (use - for standard input)\n\n%s", cmd->name,
                cmd->usage);
        return EXIT_INPUT;
    }
    if (strcmp(cmd->name, "translate") == 0 && (opt.node == NULL) == !opt.all_nodes) {
        fprintf(errout, "hnsnetpol translate: give exactly one of --node NAME or --all-nodes\n");
        return EXIT_INPUT;
    }

    struct hnp_cluster *cluster = hnp_cluster_new();
    struct load_ctx ctx = {.cluster = cluster, .errout = errout, .errors = json_array()};
    if (cluster == NULL || ctx.errors == NULL) {
        hnp_cluster_free(cluster);
        json_decref(ctx.errors);
        fprintf(errout, "hnsnetpol: out of memory\n");
        return EXIT_INPUT;
    }
    bool inputs_ok = load_inputs(&opt, &ctx);
    int rc;
    if (strcmp(cmd->name, "validate") == 0)
        rc = cmd_validate(&opt, cluster, &ctx, inputs_ok, out, errout);
    else if (!inputs_ok)
        rc = EXIT_INPUT;
    else if (strcmp(cmd->name, "translate") == 0)
        rc = cmd_translate(&opt, cluster, out, errout);
    else
        rc = cmd_explain(&opt, cluster, out, errout);
    json_decref(ctx.errors);
    hnp_cluster_free(cluster);
    return rc;
}
