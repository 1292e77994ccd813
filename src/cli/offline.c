/*
 * offline.c - the offline commands validate, translate and explain
 * (offline.h).
 *
 * Each reads Kubernetes objects from files (or "-") into one struct
 * hnp_cluster, then works on it without a cluster: validate reports the
 * policies' findings, translate computes the ACLs of a node's endpoints,
 * explain evaluates connections against those ACLs. What they print is
 * render.c's. Exit codes are the same for the three (exit_code.h): 0 fine, 1 some
 * policy rejected (explain: connection denied), 2 bad usage or input that
 * cannot be read or parsed.
 */
#include "offline.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "exit_code.h"
#include "hnsnetpol/acl.h"
#include "hnsnetpol/cluster.h"
#include "hnsnetpol/error.h"
#include "hnsnetpol/explain.h"
#include "hnsnetpol/load.h"
#include "hnsnetpol/objects.h"
#include "hnsnetpol/policy.h"
#include "hnsnetpol/rangeset.h"
#include "hnsnetpol/translate.h"
#include "options.h"
#include "platform.h"
#include "render.h"

#define MAX_FILES 256
#define MAX_PROBES 64

/* ---- help texts ---------------------------------------------------------- */

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

enum opt_id {
    OPT_OUTPUT,
    OPT_NODE,
    OPT_ALL_NODES,
    OPT_NODE_IP,
    OPT_UNSUPPORTED,
    OPT_FROM,
    OPT_TO,
    OPT_PORT,
    OPT_PROTOCOL,
    OPT_MATRIX,
};

/* Every option of the three commands; struct command says which one takes which. */
static const struct hnp_opt offline_opts[] = {
    {"--output", 'o', HNP_OPT_VALUE, OPT_OUTPUT},
    {"--node", 0, HNP_OPT_VALUE, OPT_NODE},
    {"--all-nodes", 0, HNP_OPT_SWITCH, OPT_ALL_NODES},
    {"--node-ip", 0, HNP_OPT_VALUE, OPT_NODE_IP},
    {"--unsupported-policy", 0, HNP_OPT_VALUE, OPT_UNSUPPORTED},
    {"--from", 0, HNP_OPT_VALUE, OPT_FROM},
    {"--to", 0, HNP_OPT_VALUE, OPT_TO},
    {"--port", 0, HNP_OPT_VALUE, OPT_PORT},
    {"--protocol", 0, HNP_OPT_VALUE, OPT_PROTOCOL},
    {"--matrix", 0, HNP_OPT_SWITCH, OPT_MATRIX},
};

#define FORMAT_BIT(f) (1u << (f))

struct command {
    const char *name;
    uint64_t options; /* HNP_OPT_BIT() of each option it takes */
    unsigned formats; /* FORMAT_BIT() of each output format it takes */
    enum hnp_output_format default_format;
    const char *usage;
};

static const struct command validate_command = {
    "validate", HNP_OPT_BIT(OPT_OUTPUT), FORMAT_BIT(HNP_OUTPUT_TEXT) | FORMAT_BIT(HNP_OUTPUT_JSON),
    HNP_OUTPUT_TEXT, usage_validate};

static const struct command translate_command = {
    "translate",
    HNP_OPT_BIT(OPT_OUTPUT) | HNP_OPT_BIT(OPT_NODE) | HNP_OPT_BIT(OPT_ALL_NODES) |
        HNP_OPT_BIT(OPT_NODE_IP) | HNP_OPT_BIT(OPT_UNSUPPORTED),
    FORMAT_BIT(HNP_OUTPUT_JSON) | FORMAT_BIT(HNP_OUTPUT_TABLE), HNP_OUTPUT_JSON, usage_translate};

static const struct command explain_command = {
    "explain",
    HNP_OPT_BIT(OPT_OUTPUT) | HNP_OPT_BIT(OPT_NODE_IP) | HNP_OPT_BIT(OPT_UNSUPPORTED) |
        HNP_OPT_BIT(OPT_FROM) | HNP_OPT_BIT(OPT_TO) | HNP_OPT_BIT(OPT_PORT) |
        HNP_OPT_BIT(OPT_PROTOCOL) | HNP_OPT_BIT(OPT_MATRIX),
    FORMAT_BIT(HNP_OUTPUT_TEXT) | FORMAT_BIT(HNP_OUTPUT_JSON), HNP_OUTPUT_TEXT, usage_explain};

struct options {
    const struct command *cmd;
    char prog[32]; /* "hnsnetpol translate" */
    enum hnp_output_format format;
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
    size_t len = strlen(text);
    if (len >= sizeof(buf))
        return false;
    memcpy(buf, text, len + 1);
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

/* One option's value (hnp_opt_set_fn). */
static enum hnp_err set_option(void *ctx, const struct hnp_opt *o, const char *value, FILE *errout)
{
    struct options *opt = ctx;
    const char *prog = opt->prog;
    switch ((enum opt_id)o->id) {
    case OPT_OUTPUT: {
        static const char *const names[] = {
            [HNP_OUTPUT_TEXT] = "text", [HNP_OUTPUT_JSON] = "json", [HNP_OUTPUT_TABLE] = "table"};
        size_t f = 0;
        while (f < sizeof(names) / sizeof(names[0]) &&
               !((opt->cmd->formats & FORMAT_BIT(f)) && strcmp(value, names[f]) == 0))
            f++;
        if (f == sizeof(names) / sizeof(names[0])) {
            fprintf(errout, "%s: unknown output format '%s'\n", prog, value);
            return HNP_ERR_USAGE;
        }
        opt->format = (enum hnp_output_format)f;
        opt->format_given = true;
        break;
    }
    case OPT_NODE:
        opt->node = value;
        break;
    case OPT_ALL_NODES:
        opt->all_nodes = true;
        break;
    case OPT_NODE_IP:
        if (!hnp_ipv4_parse(value, &opt->node_ip)) {
            fprintf(errout, "%s: --node-ip '%s' is not an IPv4 address\n", prog, value);
            return HNP_ERR_USAGE;
        }
        opt->has_node_ip = true;
        break;
    case OPT_UNSUPPORTED:
        if (strcmp(value, "reject") == 0) {
            opt->unsupported = HNP_UNSUPPORTED_REJECT;
        } else if (strcmp(value, "isolate") == 0) {
            opt->unsupported = HNP_UNSUPPORTED_ISOLATE;
        } else {
            fprintf(errout, "%s: --unsupported-policy takes reject or isolate, not '%s'\n", prog,
                    value);
            return HNP_ERR_USAGE;
        }
        break;
    case OPT_FROM:
        opt->from = value;
        break;
    case OPT_TO:
        opt->to = value;
        break;
    case OPT_PORT:
        if (!parse_u16_list(value, opt->ports, &opt->n_ports, MAX_PROBES)) {
            fprintf(errout, "%s: --port takes port numbers 1-65535, not '%s'\n", prog, value);
            return HNP_ERR_USAGE;
        }
        break;
    case OPT_PROTOCOL:
        if (!parse_protocol_list(value, opt->protocols, &opt->n_protocols, 4)) {
            fprintf(errout, "%s: --protocol takes TCP, UDP or SCTP, not '%s'\n", prog, value);
            return HNP_ERR_USAGE;
        }
        break;
    case OPT_MATRIX:
        opt->matrix = true;
        break;
    }
    return HNP_OK;
}

/* An input file (hnp_opt_arg_fn). */
static enum hnp_err add_file(void *ctx, const char *arg, FILE *errout)
{
    struct options *opt = ctx;
    if (opt->n_files >= MAX_FILES) {
        fprintf(errout, "%s: at most %d files\n", opt->prog, MAX_FILES);
        return HNP_ERR_USAGE;
    }
    opt->files[opt->n_files++] = arg;
    return HNP_OK;
}

/* Parse argv[1..argc) for cmd into *opt; false (after printing why) on bad usage. */
static bool parse_options(const struct command *cmd, int argc, char **argv, struct options *opt,
                          FILE *errout)
{
    memset(opt, 0, sizeof(*opt));
    opt->cmd = cmd;
    snprintf(opt->prog, sizeof(opt->prog), "hnsnetpol %s", cmd->name);
    const struct hnp_opt_parser parser = {
        .prog = opt->prog,
        .messages = HNP_OPT_MESSAGES_OFFLINE,
        .opts = offline_opts,
        .n_opts = sizeof(offline_opts) / sizeof(offline_opts[0]),
        .allowed = cmd->options,
        .set = set_option,
        .argument = add_file,
        .ctx = opt,
    };
    return hnp_opt_parse(&parser, argc, argv, 1, &opt->help, errout) == HNP_OK;
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

/* ---- validate ------------------------------------------------------------ */

static int cmd_validate(struct options *opt, struct hnp_cluster *cluster, struct load_ctx *ctx,
                        bool inputs_ok, FILE *out, FILE *errout)
{
    hnp_render_validate(cluster, ctx->errors, inputs_ok, opt->format, out, errout);
    if (!inputs_ok)
        return HNP_EXIT_USAGE;
    return hnp_render_rejected_count(cluster) > 0 ? HNP_EXIT_FAILURE : HNP_EXIT_OK;
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
        return HNP_EXIT_USAGE;
    }
    int rc = HNP_EXIT_OK;
    json_t *list = json_array();
    for (size_t i = 0; i < n_endpoints && rc == HNP_EXIT_OK; i++) {
        const struct hnp_pod *pod = endpoints[i].pod;
        struct hnp_acl_list acls;
        struct hnp_error err;
        hnp_acl_list_init(&acls);
        hnp_error_clear(&err);
        enum hnp_err e = hnp_translator_pod(tr, pod, &acls, &err);
        if (e != HNP_OK) {
            fprintf(errout, "hnsnetpol translate: %s/%s: %s\n", pod->ns, pod->name,
                    err.message[0] ? err.message : hnp_strerror(e));
            rc = HNP_EXIT_USAGE;
        } else if (opt->format == HNP_OUTPUT_TABLE) {
            hnp_render_endpoint_table(out, pod, &acls);
        } else {
            json_array_append_new(list, hnp_render_endpoint_json(pod, &acls));
        }
        hnp_acl_list_free(&acls);
    }
    if (rc == HNP_EXIT_OK && opt->format != HNP_OUTPUT_TABLE)
        hnp_render_translate_json(out, list, cluster);
    else
        json_decref(list);
    if (rc == HNP_EXIT_OK && opt->format == HNP_OUTPUT_TABLE)
        hnp_render_warn_rejected(cluster, errout);
    hnp_translator_free(tr);
    free(endpoints);
    if (rc == HNP_EXIT_OK && hnp_render_rejected_count(cluster) > 0)
        rc = HNP_EXIT_FAILURE;
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

static int explain_one(struct options *opt, struct hnp_cluster *cluster, struct hnp_translator *tr,
                       FILE *out, FILE *errout)
{
    if (opt->from == NULL || opt->to == NULL || opt->n_ports != 1) {
        fprintf(errout, "hnsnetpol explain: give --from, --to and one --port (or --matrix); see "
                        "hnsnetpol explain --help\n");
        return HNP_EXIT_USAGE;
    }
    if (opt->n_protocols > 1) {
        fprintf(errout, "hnsnetpol explain: one --protocol for a single connection\n");
        return HNP_EXIT_USAGE;
    }
    const struct hnp_pod *from, *to;
    uint32_t from_ip, to_ip;
    if (!resolve_end(cluster, tr, opt->from, &from, &from_ip, errout) ||
        !resolve_end(cluster, tr, opt->to, &to, &to_ip, errout))
        return HNP_EXIT_USAGE;
    uint8_t protocol = opt->n_protocols ? opt->protocols[0] : HNP_PROTO_TCP;
    struct hnp_explain_result result;
    struct hnp_error err;
    hnp_error_clear(&err);
    enum hnp_err e =
        hnp_explain(tr, from, from_ip, to, to_ip, protocol, opt->ports[0], &result, &err);
    if (e != HNP_OK) {
        fprintf(errout, "hnsnetpol explain: %s\n", err.message[0] ? err.message : hnp_strerror(e));
        return HNP_EXIT_USAGE;
    }
    hnp_render_explain(out, opt->format, from, from_ip, to, to_ip, protocol, opt->ports[0],
                       &result);
    bool allowed = result.allowed;
    hnp_explain_result_clear(&result);
    return allowed ? HNP_EXIT_OK : HNP_EXIT_FAILURE;
}

/* Order of the matrix's rows and columns: namespace, then name. */
static int compare_by_name(const void *a, const void *b)
{
    const struct hnp_pod *pa = *(const struct hnp_pod *const *)a;
    const struct hnp_pod *pb = *(const struct hnp_pod *const *)b;
    int c = strcmp(pa->ns, pb->ns);
    return c != 0 ? c : strcmp(pa->name, pb->name);
}

static int explain_matrix(struct options *opt, struct hnp_cluster *cluster,
                          struct hnp_translator *tr, FILE *out, FILE *errout)
{
    struct options all = *opt;
    all.all_nodes = true;
    size_t n = 0;
    struct endpoint_ref *refs = select_endpoints(cluster, &all, &n);
    const struct hnp_pod **pods = calloc(n ? n : 1, sizeof(*pods));
    if (opt->n_ports == 0) {
        opt->ports[0] = 80;
        opt->n_ports = 1;
    }
    if (opt->n_protocols == 0) {
        opt->protocols[0] = HNP_PROTO_TCP;
        opt->n_protocols = 1;
    }
    size_t n_probes = opt->n_protocols * opt->n_ports;
    struct hnp_matrix_probe *probes = calloc(n_probes, sizeof(*probes));
    char *cells = calloc(n_probes * n * n + 1, 1);
    if (refs == NULL || pods == NULL || probes == NULL || cells == NULL) {
        free(refs);
        free(pods);
        free(probes);
        free(cells);
        fprintf(errout, "hnsnetpol explain: out of memory\n");
        return HNP_EXIT_USAGE;
    }
    for (size_t i = 0; i < n; i++)
        pods[i] = refs[i].pod;
    free(refs);
    qsort(pods, n, sizeof(*pods), compare_by_name);

    int rc = HNP_EXIT_OK;
    for (size_t k = 0; k < n_probes && rc == HNP_EXIT_OK; k++) {
        struct hnp_matrix_probe *probe = &probes[k];
        probe->protocol = opt->protocols[k / opt->n_ports];
        probe->port = opt->ports[k % opt->n_ports];
        char *row = cells + k * n * n;
        probe->cells = row;
        for (size_t i = 0; i < n && rc == HNP_EXIT_OK; i++) {
            for (size_t j = 0; j < n; j++) {
                struct hnp_explain_result res;
                struct hnp_error err;
                enum hnp_err e = hnp_explain(tr, pods[i], pods[i]->ips[0], pods[j], pods[j]->ips[0],
                                             probe->protocol, probe->port, &res, &err);
                if (e != HNP_OK) {
                    fprintf(errout, "hnsnetpol explain: %s\n", err.message);
                    rc = HNP_EXIT_USAGE;
                    break;
                }
                row[i * n + j] = res.allowed ? '.' : 'X';
                hnp_explain_result_clear(&res);
            }
        }
    }
    if (rc == HNP_EXIT_OK)
        hnp_render_matrix(out, opt->format, pods, n, probes, n_probes);
    free(cells);
    free(probes);
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
        return HNP_EXIT_USAGE;
    }
    hnp_render_warn_rejected(cluster, errout);
    int rc = opt->matrix ? explain_matrix(opt, cluster, tr, out, errout)
                         : explain_one(opt, cluster, tr, out, errout);
    hnp_translator_free(tr);
    return rc;
}

/* ---- the commands -------------------------------------------------------- */

/* Options, the input files, then the command itself. */
static int offline_main(const struct command *cmd, int argc, char **argv, FILE *out, FILE *errout)
{
    struct options opt;
    if (!parse_options(cmd, argc, argv, &opt, errout))
        return HNP_EXIT_USAGE;
    if (opt.help) {
        fputs(cmd->usage, out);
        return HNP_EXIT_OK;
    }
    if (!opt.format_given)
        opt.format = cmd->default_format;
    if (opt.n_files == 0) {
        fprintf(errout, "hnsnetpol %s: no input files (use - for standard input)\n\n%s", cmd->name,
                cmd->usage);
        return HNP_EXIT_USAGE;
    }
    if (cmd == &translate_command && (opt.node == NULL) == !opt.all_nodes) {
        fprintf(errout, "hnsnetpol translate: give exactly one of --node NAME or --all-nodes\n");
        return HNP_EXIT_USAGE;
    }

    struct hnp_cluster *cluster = hnp_cluster_new();
    struct load_ctx ctx = {.cluster = cluster, .errout = errout, .errors = json_array()};
    if (cluster == NULL || ctx.errors == NULL) {
        hnp_cluster_free(cluster);
        json_decref(ctx.errors);
        fprintf(errout, "hnsnetpol: out of memory\n");
        return HNP_EXIT_USAGE;
    }
    bool inputs_ok = load_inputs(&opt, &ctx);
    int rc;
    if (cmd == &validate_command)
        rc = cmd_validate(&opt, cluster, &ctx, inputs_ok, out, errout);
    else if (!inputs_ok)
        rc = HNP_EXIT_USAGE;
    else if (cmd == &translate_command)
        rc = cmd_translate(&opt, cluster, out, errout);
    else
        rc = cmd_explain(&opt, cluster, out, errout);
    json_decref(ctx.errors);
    hnp_cluster_free(cluster);
    return rc;
}

int hnp_cli_validate_main(int argc, char **argv, FILE *out, FILE *errout)
{
    return offline_main(&validate_command, argc, argv, out, errout);
}

int hnp_cli_translate_main(int argc, char **argv, FILE *out, FILE *errout)
{
    return offline_main(&translate_command, argc, argv, out, errout);
}

int hnp_cli_explain_main(int argc, char **argv, FILE *out, FILE *errout)
{
    return offline_main(&explain_command, argc, argv, out, errout);
}
