/*
 * reference.h - an independent NetworkPolicy evaluator for the conformance
 * test.
 *
 * It answers "would this connection be allowed" with plain
 * networking.k8s.io/v1 semantics, reading the NetworkPolicy JSON objects
 * directly with jansson. It shares no code with src/ (no selector, policy or
 * rangeset module), so when the engine and the reference agree, they agree
 * for independent reasons. The conformance test first proves the reference
 * against every case of upstream-e2e.yaml, then uses it for the cases whose
 * expectation the file cannot give: those where the engine rejects a policy
 * Windows cannot enforce, so the expectation is the table without it.
 */
#ifndef HNP_CONFORMANCE_REFERENCE_H
#define HNP_CONFORMANCE_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* One pod as the reference sees it. Everything is borrowed. */
struct hnp_ref_pod {
    const char *ns;
    const char *name;
    uint32_t ip;                   /* IPv4, host byte order */
    const json_t *labels;          /* object of string -> string; NULL = no labels */
    const json_t *ns_labels;       /* labels of the pod's namespace; NULL = none */
    const json_t *container_ports; /* array of {name, containerPort, protocol}; may be NULL */
};

/*
 * Is a connection from `from` to `to` on protocol ("TCP", "UDP", "SCTP") and
 * destination port allowed by the policies policies[0..n) (NetworkPolicy
 * objects, borrowed)? Allowed iff the source's egress allows it and the
 * destination's ingress allows it; a direction no selecting policy isolates
 * allows everything. from == to is evaluated strictly like any other pair.
 */
bool hnp_ref_allowed(const json_t *const *policies, size_t n_policies,
                     const struct hnp_ref_pod *from, const struct hnp_ref_pod *to,
                     const char *protocol, unsigned port);

/* Strict dotted quad "a.b.c.d" -> *out (host byte order); false otherwise. */
bool hnp_ref_parse_ipv4(const char *text, uint32_t *out);

/* Features Windows cannot enforce, detected on the JSON alone. */
#define HNP_REF_NAMED_PORT 0x1u        /* a ports[].port given as a name */
#define HNP_REF_SCTP 0x2u              /* a ports[].protocol SCTP */
#define HNP_REF_NEGATIVE_SELECTOR 0x4u /* a NotIn or DoesNotExist requirement anywhere */
#define HNP_REF_EXCEPT_CIDR 0x8u       /* an ipBlock with a non-empty except */

/* The HNP_REF_* bits of what policy (borrowed) uses; 0 = enforceable. */
unsigned hnp_ref_policy_features(const json_t *policy);

#endif /* HNP_CONFORMANCE_REFERENCE_H */
