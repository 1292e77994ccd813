/*
 * objects.c - conversion of Kubernetes Namespace and Pod JSON objects into
 * the compact structs the engine keeps (see objects.h).
 *
 * Only the fields the engine needs are read; everything else is ignored, as
 * new API fields appear all the time. A field that is present with the wrong
 * JSON type makes the whole object malformed (HNP_ERR_SCHEMA, err->where =
 * the field path such as "spec.containers[1].ports[0].containerPort"). JSON
 * null counts as absent, as it does for the API server.
 */
#include "hnsnetpol/objects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/rangeset.h"

#define PATH_MAX_LEN 256

static const char *const kind_names[HNP_KIND_COUNT] = {
    [HNP_KIND_NAMESPACE] = "Namespace",
    [HNP_KIND_POD] = "Pod",
    [HNP_KIND_POLICY] = "NetworkPolicy",
};

const char *hnp_kind_name(enum hnp_kind kind)
{
    return (unsigned)kind < HNP_KIND_COUNT ? kind_names[kind] : "unknown";
}

bool hnp_kind_from_name(const char *name, enum hnp_kind *out)
{
    for (unsigned k = 0; name != NULL && k < HNP_KIND_COUNT; k++) {
        if (strcmp(name, kind_names[k]) == 0) {
            *out = (enum hnp_kind)k;
            return true;
        }
    }
    return false;
}

enum kind {
    K_STRING,
    K_OBJECT,
    K_ARRAY,
    K_INTEGER,
    K_BOOLEAN,
};

static const char *const kind_messages[] = {
    [K_STRING] = "must be a string",   [K_OBJECT] = "must be an object",
    [K_ARRAY] = "must be an array",    [K_INTEGER] = "must be an integer",
    [K_BOOLEAN] = "must be a boolean",
};

static bool is_kind(const json_t *json, enum kind kind)
{
    switch (kind) {
    case K_STRING:
        return json_is_string(json);
    case K_OBJECT:
        return json_is_object(json);
    case K_ARRAY:
        return json_is_array(json);
    case K_INTEGER:
        return json_is_integer(json);
    case K_BOOLEAN:
        return json_is_boolean(json);
    }
    return false;
}

/* "<parent>.<key>" (or key when parent is empty) into buf; a long path is truncated. */
static void join_path(char *buf, size_t size, const char *parent, const char *key)
{
    int n = parent[0] == '\0' ? snprintf(buf, size, "%s", key)
                              : snprintf(buf, size, "%s.%s", parent, key);
    if (n < 0)
        buf[0] = '\0';
}

/*
 * Member key of parent (which may be NULL) with the given kind. *out is NULL
 * when the member is absent or null. HNP_ERR_SCHEMA when it has another type;
 * parent_path names parent for the message.
 */
static enum hnp_err member(const json_t *parent, const char *parent_path, const char *key,
                           enum kind kind, const json_t **out, struct hnp_error *err)
{
    *out = NULL;
    if (parent == NULL)
        return HNP_OK;
    const json_t *value = json_object_get(parent, key);
    if (value == NULL || json_is_null(value))
        return HNP_OK;
    if (!is_kind(value, kind)) {
        char path[PATH_MAX_LEN];
        join_path(path, sizeof(path), parent_path, key);
        return hnp_error_set(err, HNP_ERR_SCHEMA, path, "%s", kind_messages[kind]);
    }
    *out = value;
    return HNP_OK;
}

/*
 * Member key as an interned string: *out stays NULL when absent (or, with
 * empty_is_absent, when it is ""). HNP_ERR_SCHEMA for another type or an
 * embedded NUL, HNP_ERR_NOMEM when interning fails.
 */
static enum hnp_err string_member(const json_t *parent, const char *parent_path, const char *key,
                                  bool empty_is_absent, struct hnp_strtab *tab, const char **out,
                                  struct hnp_error *err)
{
    const json_t *value;
    enum hnp_err rc = member(parent, parent_path, key, K_STRING, &value, err);
    *out = NULL;
    if (rc != HNP_OK || value == NULL)
        return rc;
    const char *text = json_string_value(value);
    size_t len = json_string_length(value);
    char path[PATH_MAX_LEN];
    if (memchr(text, '\0', len) != NULL) {
        join_path(path, sizeof(path), parent_path, key);
        return hnp_error_set(err, HNP_ERR_SCHEMA, path, "must not contain a NUL character");
    }
    if (len == 0 && empty_is_absent)
        return HNP_OK;
    *out = hnp_strtab_intern_len(tab, text, len);
    if (*out == NULL) {
        join_path(path, sizeof(path), parent_path, key);
        return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory");
    }
    return HNP_OK;
}

/* The source, with its file name interned in tab. */
static enum hnp_err copy_source(const struct hnp_source *src, struct hnp_strtab *tab,
                                struct hnp_source *out, struct hnp_error *err)
{
    out->file = NULL;
    out->line = 0;
    if (src == NULL)
        return HNP_OK;
    if (src->file != NULL) {
        out->file = hnp_strtab_intern(tab, src->file);
        if (out->file == NULL)
            return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    }
    out->line = src->line;
    return HNP_OK;
}

/*
 * The object and its metadata (may be NULL when absent). metadata.name is
 * required and non-empty.
 */
static enum hnp_err read_metadata(const json_t *obj, struct hnp_strtab *tab,
                                  const json_t **metadata, const char **name, struct hnp_error *err)
{
    *metadata = NULL;
    *name = NULL;
    if (obj == NULL || !json_is_object(obj))
        return hnp_error_set(err, HNP_ERR_SCHEMA, "", "the object must be a JSON object");
    enum hnp_err rc = member(obj, "", "metadata", K_OBJECT, metadata, err);
    if (rc != HNP_OK)
        return rc;
    rc = string_member(*metadata, "metadata", "name", true, tab, name, err);
    if (rc != HNP_OK)
        return rc;
    if (*name == NULL)
        return hnp_error_set(err, HNP_ERR_SCHEMA, "metadata.name", "is required");
    return HNP_OK;
}

enum hnp_err hnp_namespace_from_json(const json_t *obj, struct hnp_strtab *tab,
                                     const struct hnp_source *src, struct hnp_namespace **out,
                                     struct hnp_error *err)
{
    const json_t *metadata, *labels;
    const char *name;
    enum hnp_err rc = read_metadata(obj, tab, &metadata, &name, err);
    if (rc != HNP_OK)
        return rc;

    struct hnp_namespace *ns = calloc(1, sizeof(*ns));
    if (ns == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    ns->name = name;
    if ((rc = string_member(metadata, "metadata", "uid", true, tab, &ns->uid, err)) != HNP_OK ||
        (rc = string_member(metadata, "metadata", "resourceVersion", true, tab,
                            &ns->resource_version, err)) != HNP_OK ||
        (rc = member(metadata, "metadata", "labels", K_OBJECT, &labels, err)) != HNP_OK ||
        (rc = hnp_labels_from_json(labels, tab, "metadata.labels", &ns->labels, err)) != HNP_OK ||
        (rc = copy_source(src, tab, &ns->src, err)) != HNP_OK)
        goto fail;

    /* The API server sets this label on every namespace, overriding the user's. */
    const char *key = hnp_strtab_intern(tab, HNP_NAMESPACE_NAME_LABEL);
    if (key == NULL || hnp_labels_set(&ns->labels, key, name) != HNP_OK) {
        rc = hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
        goto fail;
    }
    *out = ns;
    return HNP_OK;

fail:
    hnp_namespace_free(ns);
    return rc;
}

void hnp_namespace_free(struct hnp_namespace *ns)
{
    if (ns == NULL)
        return;
    hnp_labels_free(&ns->labels);
    free(ns);
}

/* Light check that text looks like an IPv6 address (hex digits, ':' and '.', one ':'). */
static bool looks_like_ipv6(const char *text)
{
    if (strchr(text, ':') == NULL)
        return false;
    for (const char *p = text; *p != '\0'; p++) {
        char c = *p;
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                  c == ':' || c == '.';
        if (!ok)
            return false;
    }
    return true;
}

/*
 * Parse an address string: *is_v4 tells whether *addr was set (IPv6 and ""
 * are skipped silently). HNP_ERR_SCHEMA for anything else.
 */
static enum hnp_err parse_ip(const json_t *value, const char *path, uint32_t *addr, bool *is_v4,
                             struct hnp_error *err)
{
    *is_v4 = false;
    const char *text = json_string_value(value);
    if (strlen(text) != json_string_length(value))
        return hnp_error_set(err, HNP_ERR_SCHEMA, path, "is not an IP address");
    if (text[0] == '\0' || looks_like_ipv6(text))
        return HNP_OK;
    if (!hnp_ipv4_parse(text, addr))
        return hnp_error_set(err, HNP_ERR_SCHEMA, path, "\"%s\" is not an IP address", text);
    *is_v4 = true;
    return HNP_OK;
}

static void add_pod_ip(struct hnp_pod *pod, uint32_t addr)
{
    for (size_t i = 0; i < pod->n_ips; i++) {
        if (pod->ips[i] == addr)
            return;
    }
    if (pod->n_ips < HNP_POD_MAX_IPS)
        pod->ips[pod->n_ips++] = addr;
}

/* status.podIPs[].ip, then status.podIP, then status.hostIP. */
static enum hnp_err read_pod_ips(const json_t *status, struct hnp_pod *pod, struct hnp_error *err)
{
    const json_t *pod_ips, *value;
    char path[PATH_MAX_LEN];
    uint32_t addr;
    bool is_v4;
    enum hnp_err rc = member(status, "status", "podIPs", K_ARRAY, &pod_ips, err);
    if (rc != HNP_OK)
        return rc;
    for (size_t i = 0; pod_ips != NULL && i < json_array_size(pod_ips); i++) {
        const json_t *entry = json_array_get(pod_ips, i);
        snprintf(path, sizeof(path), "status.podIPs[%zu]", i);
        if (json_is_null(entry))
            continue;
        if (!json_is_object(entry))
            return hnp_error_set(err, HNP_ERR_SCHEMA, path, "must be an object");
        if ((rc = member(entry, path, "ip", K_STRING, &value, err)) != HNP_OK)
            return rc;
        if (value == NULL)
            continue;
        snprintf(path, sizeof(path), "status.podIPs[%zu].ip", i);
        if ((rc = parse_ip(value, path, &addr, &is_v4, err)) != HNP_OK)
            return rc;
        if (is_v4)
            add_pod_ip(pod, addr);
    }

    if ((rc = member(status, "status", "podIP", K_STRING, &value, err)) != HNP_OK)
        return rc;
    if (value != NULL) {
        if ((rc = parse_ip(value, "status.podIP", &addr, &is_v4, err)) != HNP_OK)
            return rc;
        if (is_v4)
            add_pod_ip(pod, addr);
    }

    if ((rc = member(status, "status", "hostIP", K_STRING, &value, err)) != HNP_OK)
        return rc;
    if (value != NULL) {
        if ((rc = parse_ip(value, "status.hostIP", &addr, &is_v4, err)) != HNP_OK)
            return rc;
        pod->has_host_ip = is_v4;
        pod->host_ip = is_v4 ? addr : 0;
    }
    return HNP_OK;
}

static enum hnp_err read_phase(const json_t *status, struct hnp_pod *pod, struct hnp_error *err)
{
    static const struct {
        const char *name;
        enum hnp_pod_phase phase;
    } phases[] = {
        {"Pending", HNP_PHASE_PENDING},
        {"Running", HNP_PHASE_RUNNING},
        {"Succeeded", HNP_PHASE_SUCCEEDED},
        {"Failed", HNP_PHASE_FAILED},
    };
    const json_t *value;
    enum hnp_err rc = member(status, "status", "phase", K_STRING, &value, err);
    pod->phase = HNP_PHASE_UNKNOWN;
    if (rc != HNP_OK || value == NULL)
        return rc;
    for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
        if (strcmp(json_string_value(value), phases[i].name) == 0)
            pod->phase = phases[i].phase;
    }
    return HNP_OK;
}

/* One spec.containers[c].ports[p] entry at path; appends a named port. */
static enum hnp_err read_port(const json_t *entry, const char *path, struct hnp_strtab *tab,
                              struct hnp_pod *pod, size_t *cap, struct hnp_error *err)
{
    const json_t *number, *protocol;
    const char *name;
    char where[PATH_MAX_LEN];
    enum hnp_err rc;
    if (!json_is_object(entry))
        return hnp_error_set(err, HNP_ERR_SCHEMA, path, "must be an object");
    if ((rc = string_member(entry, path, "name", true, tab, &name, err)) != HNP_OK ||
        (rc = member(entry, path, "containerPort", K_INTEGER, &number, err)) != HNP_OK ||
        (rc = member(entry, path, "protocol", K_STRING, &protocol, err)) != HNP_OK)
        return rc;
    if (name == NULL)
        return HNP_OK;

    join_path(where, sizeof(where), path, "containerPort");
    if (number == NULL)
        return hnp_error_set(err, HNP_ERR_SCHEMA, where, "is required for a named port");
    json_int_t port = json_integer_value(number);
    if (port < 1 || port > 65535)
        return hnp_error_set(err, HNP_ERR_SCHEMA, where, "must be between 1 and 65535");
    uint8_t proto = HNP_PROTO_TCP;
    if (protocol != NULL) {
        proto = hnp_protocol_from_name(json_string_value(protocol));
        if (proto == 0) {
            join_path(where, sizeof(where), path, "protocol");
            return hnp_error_set(err, HNP_ERR_SCHEMA, where, "must be TCP, UDP or SCTP");
        }
    }

    if (pod->n_ports == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        struct hnp_named_port *ports = realloc(pod->ports, ncap * sizeof(*ports));
        if (ports == NULL)
            return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory");
        pod->ports = ports;
        *cap = ncap;
    }
    struct hnp_named_port *np = &pod->ports[pod->n_ports++];
    np->name = name;
    np->port = (uint16_t)port;
    np->protocol = proto;
    return HNP_OK;
}

static enum hnp_err read_ports(const json_t *spec, struct hnp_strtab *tab, struct hnp_pod *pod,
                               struct hnp_error *err)
{
    const json_t *containers, *ports;
    char cpath[PATH_MAX_LEN], ppath[PATH_MAX_LEN];
    size_t cap = 0;
    enum hnp_err rc = member(spec, "spec", "containers", K_ARRAY, &containers, err);
    if (rc != HNP_OK)
        return rc;
    for (size_t c = 0; containers != NULL && c < json_array_size(containers); c++) {
        const json_t *container = json_array_get(containers, c);
        snprintf(cpath, sizeof(cpath), "spec.containers[%zu]", c);
        if (json_is_null(container))
            continue;
        if (!json_is_object(container))
            return hnp_error_set(err, HNP_ERR_SCHEMA, cpath, "must be an object");
        if ((rc = member(container, cpath, "ports", K_ARRAY, &ports, err)) != HNP_OK)
            return rc;
        for (size_t p = 0; ports != NULL && p < json_array_size(ports); p++) {
            const json_t *entry = json_array_get(ports, p);
            if (json_is_null(entry))
                continue;
            snprintf(ppath, sizeof(ppath), "spec.containers[%zu].ports[%zu]", c, p);
            if ((rc = read_port(entry, ppath, tab, pod, &cap, err)) != HNP_OK)
                return rc;
        }
    }
    if (pod->n_ports > 0 && pod->n_ports < cap) {
        /* Shrink to fit: a large cluster keeps many pods for a long time. */
        struct hnp_named_port *shrunk = realloc(pod->ports, pod->n_ports * sizeof(*shrunk));
        if (shrunk != NULL)
            pod->ports = shrunk;
    }
    return HNP_OK;
}

enum hnp_err hnp_pod_from_json(const json_t *obj, struct hnp_strtab *tab,
                               const struct hnp_source *src, struct hnp_pod **out,
                               struct hnp_error *err)
{
    const json_t *metadata, *labels, *spec, *status, *host_network;
    const char *name;
    enum hnp_err rc = read_metadata(obj, tab, &metadata, &name, err);
    if (rc != HNP_OK)
        return rc;

    struct hnp_pod *pod = calloc(1, sizeof(*pod));
    if (pod == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    pod->name = name;
    if ((rc = string_member(metadata, "metadata", "namespace", true, tab, &pod->ns, err)) !=
            HNP_OK ||
        (rc = string_member(metadata, "metadata", "uid", true, tab, &pod->uid, err)) != HNP_OK ||
        (rc = string_member(metadata, "metadata", "resourceVersion", true, tab,
                            &pod->resource_version, err)) != HNP_OK ||
        (rc = member(metadata, "metadata", "labels", K_OBJECT, &labels, err)) != HNP_OK ||
        (rc = hnp_labels_from_json(labels, tab, "metadata.labels", &pod->labels, err)) != HNP_OK ||
        (rc = member(obj, "", "spec", K_OBJECT, &spec, err)) != HNP_OK ||
        (rc = string_member(spec, "spec", "nodeName", true, tab, &pod->node, err)) != HNP_OK ||
        (rc = member(spec, "spec", "hostNetwork", K_BOOLEAN, &host_network, err)) != HNP_OK ||
        (rc = read_ports(spec, tab, pod, err)) != HNP_OK ||
        (rc = member(obj, "", "status", K_OBJECT, &status, err)) != HNP_OK ||
        (rc = read_phase(status, pod, err)) != HNP_OK ||
        (rc = read_pod_ips(status, pod, err)) != HNP_OK ||
        (rc = copy_source(src, tab, &pod->src, err)) != HNP_OK)
        goto fail;
    if (pod->ns == NULL) {
        pod->ns = hnp_strtab_intern(tab, "default");
        if (pod->ns == NULL) {
            rc = hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
            goto fail;
        }
    }
    pod->host_network = host_network != NULL && json_is_true(host_network);
    *out = pod;
    return HNP_OK;

fail:
    hnp_pod_free(pod);
    return rc;
}

/*
 * What of a Pod's JSON hnp_pod_from_json() reads, and so what
 * hnp_object_trim_json() keeps: keep these lists and the reader together.
 * (metadata keeps everything but annotations, ownerReferences and
 * managedFields: name, namespace, uid, resourceVersion and labels are read,
 * the rest is small.)
 */
static const char *const pod_spec_keep[] = {"nodeName", "hostNetwork", "containers", NULL};
static const char *const pod_container_keep[] = {"name", "ports", NULL};
static const char *const pod_status_keep[] = {"phase",  "podIP",   "podIPs",
                                              "hostIP", "hostIPs", NULL};
static const char *const pod_metadata_drop[] = {"annotations", "ownerReferences", NULL};

static bool in_list(const char *key, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(key, *list) == 0)
            return true;
    return false;
}

/* Delete every member of obj (when an object) whose key is not in keep (NULL-terminated). */
static void keep_only(json_t *obj, const char *const *keep)
{
    const char *key;
    json_t *value;
    void *tmp;
    if (!json_is_object(obj))
        return;
    json_object_foreach_safe(obj, tmp, key, value)
    {
        if (!in_list(key, keep))
            json_object_del(obj, key);
    }
}

void hnp_object_trim_json(enum hnp_kind kind, json_t *obj)
{
    json_t *metadata = json_object_get(obj, "metadata");
    if (json_is_object(metadata)) {
        json_object_del(metadata, "managedFields");
        if (kind == HNP_KIND_POD) {
            for (const char *const *key = pod_metadata_drop; *key; key++)
                json_object_del(metadata, *key);
        } else {
            json_t *annotations = json_object_get(metadata, "annotations");
            if (json_is_object(annotations))
                json_object_del(annotations, HNP_LAST_APPLIED_ANNOTATION);
        }
    }
    if (kind != HNP_KIND_POD)
        return;
    json_t *spec = json_object_get(obj, "spec");
    keep_only(spec, pod_spec_keep);
    size_t i;
    json_t *container;
    json_array_foreach(json_object_get(spec, "containers"), i, container)
        keep_only(container, pod_container_keep);
    keep_only(json_object_get(obj, "status"), pod_status_keep);
}

void hnp_pod_free(struct hnp_pod *pod)
{
    if (pod == NULL)
        return;
    hnp_labels_free(&pod->labels);
    free(pod->ports);
    free(pod);
}

bool hnp_pod_is_endpoint(const struct hnp_pod *pod)
{
    return pod->n_ips > 0 && !pod->host_network && pod->phase != HNP_PHASE_SUCCEEDED &&
           pod->phase != HNP_PHASE_FAILED;
}

uint8_t hnp_protocol_from_name(const char *name)
{
    if (name == NULL)
        return 0;
    if (strcmp(name, "TCP") == 0)
        return HNP_PROTO_TCP;
    if (strcmp(name, "UDP") == 0)
        return HNP_PROTO_UDP;
    if (strcmp(name, "SCTP") == 0)
        return HNP_PROTO_SCTP;
    return 0;
}

const char *hnp_protocol_name(uint8_t protocol)
{
    switch (protocol) {
    case HNP_PROTO_TCP:
        return "TCP";
    case HNP_PROTO_UDP:
        return "UDP";
    case HNP_PROTO_SCTP:
        return "SCTP";
    default:
        return "any";
    }
}
