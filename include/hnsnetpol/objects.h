/*
 * objects.h - the compact Namespace and Pod the engine keeps, and their
 * conversion from the Kubernetes JSON objects.
 *
 * Only the fields the engine needs survive conversion; the JSON tree is
 * released by the caller right after, so a 100k-pod cluster stays small.
 * Every string is interned in the cluster's struct hnp_strtab.
 */
#ifndef HNP_OBJECTS_H
#define HNP_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hnsnetpol/error.h"
#include "hnsnetpol/labels.h"
#include "hnsnetpol/strtab.h"

/* Where an object came from, for messages. */
struct hnp_source {
    const char *file; /* interned; "-" for stdin, "api" for the API server, NULL if unknown */
    long line;        /* 1-based line of the object, 0 if unknown */
    /*
     * Optional, only during the conversion call (never kept in an object):
     * the line of one node of the object's JSON, 0 when unknown. The loader
     * knows it for YAML (hnp_loaded_object_line); findings use it.
     */
    long (*line_of)(const void *ctx, const json_t *node);
    const void *line_ctx;
};

/*
 * The kinds of object the engine models. A reader that knows what it reads
 * (the API reflectors: one kind per watch) passes the kind as this enum;
 * only input that names it in a "kind" string (files) goes through
 * hnp_kind_from_name().
 */
enum hnp_kind { HNP_KIND_NAMESPACE, HNP_KIND_POD, HNP_KIND_POLICY };

#define HNP_KIND_COUNT 3

/* "Namespace", "Pod", "NetworkPolicy"; "unknown" out of range. Never NULL, static. */
const char *hnp_kind_name(enum hnp_kind kind);

/*
 * The kind named name (exactly, case-sensitive as the API). false when name
 * is NULL or names another kind (*out untouched).
 */
bool hnp_kind_from_name(const char *name, enum hnp_kind *out);

/* The API server always labels a namespace with its name. */
#define HNP_NAMESPACE_NAME_LABEL "kubernetes.io/metadata.name"

struct hnp_namespace {
    const char *name;             /* interned */
    const char *uid;              /* interned; NULL when absent */
    const char *resource_version; /* interned; NULL when absent */
    struct hnp_labels labels;     /* always holds HNP_NAMESPACE_NAME_LABEL */
    struct hnp_source src;
};

enum hnp_pod_phase {
    HNP_PHASE_UNKNOWN = 0,
    HNP_PHASE_PENDING,
    HNP_PHASE_RUNNING,
    HNP_PHASE_SUCCEEDED,
    HNP_PHASE_FAILED,
};

/* Protocol numbers as HNS writes them. */
#define HNP_PROTO_ANY 0
#define HNP_PROTO_TCP 6
#define HNP_PROTO_UDP 17
#define HNP_PROTO_SCTP 132

/* A named container port (spec.containers[].ports[] with a name). */
struct hnp_named_port {
    const char *name; /* interned */
    uint16_t port;
    uint8_t protocol; /* HNP_PROTO_* */
};

#define HNP_POD_MAX_IPS 4

struct hnp_pod {
    const char *ns;               /* interned */
    const char *name;             /* interned */
    const char *uid;              /* interned; NULL when absent */
    const char *resource_version; /* interned; NULL when absent */
    const char *node;             /* spec.nodeName, interned; NULL when unscheduled */
    struct hnp_labels labels;
    uint32_t ips[HNP_POD_MAX_IPS]; /* IPv4 from status.podIPs / podIP; IPv6 ignored */
    size_t n_ips;
    uint32_t host_ip; /* status.hostIP when has_host_ip */
    bool has_host_ip;
    bool host_network;
    enum hnp_pod_phase phase;
    struct hnp_named_port *ports; /* owned */
    size_t n_ports;
    struct hnp_source src;
};

/*
 * Convert a Namespace object. obj is borrowed. On success *out is new (free
 * with hnp_namespace_free). HNP_ERR_SCHEMA when metadata.name is missing or a
 * field has the wrong type (err->where holds the field path).
 */
enum hnp_err hnp_namespace_from_json(const json_t *obj, struct hnp_strtab *tab,
                                     const struct hnp_source *src, struct hnp_namespace **out,
                                     struct hnp_error *err);
void hnp_namespace_free(struct hnp_namespace *ns);

/*
 * Convert a Pod object (as above). metadata.namespace defaults to "default".
 */
enum hnp_err hnp_pod_from_json(const json_t *obj, struct hnp_strtab *tab,
                               const struct hnp_source *src, struct hnp_pod **out,
                               struct hnp_error *err);
void hnp_pod_free(struct hnp_pod *pod);

/* kubectl's copy of the applied manifest: large, and never read by the engine. */
#define HNP_LAST_APPLIED_ANNOTATION "kubectl.kubernetes.io/last-applied-configuration"

/*
 * Drop in place what the engine never reads of an object of the given kind
 * (for a reader that holds many objects before converting them, such as
 * the API reflectors). Every kind loses metadata.managedFields. A Pod also
 * loses metadata.annotations and metadata.ownerReferences; its spec keeps
 * only nodeName, hostNetwork and containers[].{name, ports}, its status
 * only phase, podIP, podIPs, hostIP and hostIPs: what hnp_pod_from_json()
 * reads. A Namespace or a NetworkPolicy loses only the
 * HNP_LAST_APPLIED_ANNOTATION annotation. Members of the wrong type are
 * left alone (the conversion reports them). obj is borrowed; not an object:
 * nothing happens.
 */
void hnp_object_trim_json(enum hnp_kind kind, json_t *obj);

/*
 * A pod is an endpoint (and a possible peer) when it has an IP, is not
 * hostNetwork and is not Succeeded or Failed.
 */
bool hnp_pod_is_endpoint(const struct hnp_pod *pod);

/* "TCP" / "UDP" / "SCTP" -> HNP_PROTO_*; 0 for anything else (case-sensitive, as the API). */
uint8_t hnp_protocol_from_name(const char *name);
/* HNP_PROTO_* -> "TCP" / "UDP" / "SCTP" / "any". */
const char *hnp_protocol_name(uint8_t protocol);

#endif /* HNP_OBJECTS_H */
