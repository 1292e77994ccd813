/*
 * policy.h - a parsed networking.k8s.io/v1 NetworkPolicy, with what makes it
 * unenforceable on Windows or invalid for the API server.
 *
 * Parsing never stops at the first problem: every occurrence of an
 * unsupported feature or invalid value becomes a finding with its field path
 * and line, so `validate` can list them all. A policy with any finding is rejected as a
 * whole (never applied); what could be parsed is kept so that the agent's
 * isolate mode can still honour its policyTypes.
 */
#ifndef HNP_POLICY_H
#define HNP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hnsnetpol/error.h"
#include "hnsnetpol/labels.h"
#include "hnsnetpol/objects.h"
#include "hnsnetpol/rangeset.h"
#include "hnsnetpol/strtab.h"

/* Why a policy is rejected. The names are part of the interface (JSON, metrics). */
enum hnp_feature {
    HNP_FEATURE_NAMED_PORT,        /* "namedPort" */
    HNP_FEATURE_SCTP,              /* "sctp" */
    HNP_FEATURE_NEGATIVE_SELECTOR, /* "negativeSelector" */
    HNP_FEATURE_EXCEPT_CIDR,       /* "exceptCIDR" */
    HNP_FEATURE_INVALID,           /* "invalid": the API server would refuse it */
    HNP_FEATURE_COUNT_
};

/* "namedPort", "sctp", "negativeSelector", "exceptCIDR", "invalid". */
const char *hnp_feature_name(enum hnp_feature feature);

struct hnp_finding {
    enum hnp_feature feature;
    char *path;    /* owned, e.g. "spec.ingress[0].ports[1].port" */
    char *message; /* owned, a sentence for a person */
    /*
     * Line of the offending field, taken from src->line_of when the finding
     * is made; the policy's line when the field is absent or its line unknown.
     */
    long line;
};

/* One entry of ports[]. */
struct hnp_port {
    uint8_t protocol;  /* HNP_PROTO_TCP / UDP / SCTP; TCP when omitted */
    uint16_t port;     /* 0 = every port of the protocol */
    uint16_t end_port; /* == port unless endPort was given */
    const char *named; /* interned name when the port was a string, else NULL */
};

/* One entry of from[] / to[]. */
struct hnp_peer {
    bool has_pod_selector;
    struct hnp_selector pod_selector;
    bool has_ns_selector;
    struct hnp_selector ns_selector;
    bool has_ip_block;
    bool ip_block_ipv6;      /* an IPv6 ipBlock: valid, but matches no IPv4 address */
    struct hnp_cidr cidr;    /* ipBlock.cidr when has_ip_block and not IPv6 */
    struct hnp_cidr *except; /* owned; ipBlock.except */
    size_t n_except;
};

/* One ingress or egress rule. */
struct hnp_rule {
    struct hnp_peer *peers; /* owned */
    size_t n_peers;         /* 0 = from/to omitted or empty: every peer */
    struct hnp_port *ports; /* owned */
    size_t n_ports;         /* 0 = ports omitted or empty: every port and protocol */
};

struct hnp_policy {
    const char *ns;               /* interned */
    const char *name;             /* interned */
    const char *uid;              /* interned; NULL when absent */
    const char *resource_version; /* interned; NULL when absent */
    long long generation;         /* metadata.generation, 0 when absent */
    struct hnp_source src;

    struct hnp_selector pod_selector;
    bool isolates_ingress; /* after policyTypes defaulting */
    bool isolates_egress;

    struct hnp_rule *ingress; /* owned */
    size_t n_ingress;
    struct hnp_rule *egress; /* owned */
    size_t n_egress;

    struct hnp_finding *findings; /* owned; empty = enforceable */
    size_t n_findings;
};

/*
 * Convert a NetworkPolicy object. obj is borrowed. On HNP_OK *out is new (free
 * with hnp_policy_free) and may carry findings. HNP_ERR_SCHEMA when the
 * object's shape is wrong (a field of the wrong JSON type, metadata.name
 * missing): err->where holds the field path and *out is untouched.
 */
enum hnp_err hnp_policy_from_json(const json_t *obj, struct hnp_strtab *tab,
                                  const struct hnp_source *src, struct hnp_policy **out,
                                  struct hnp_error *err);
void hnp_policy_free(struct hnp_policy *policy);

/* True when the policy has at least one finding. */
bool hnp_policy_rejected(const struct hnp_policy *policy);

/* True when the policy has a finding of this feature. */
bool hnp_policy_has_feature(const struct hnp_policy *policy, enum hnp_feature feature);

#endif /* HNP_POLICY_H */
