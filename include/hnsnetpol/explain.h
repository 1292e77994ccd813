/*
 * explain.h - would a connection be allowed, and which ACL decides.
 *
 * The verdict comes from evaluating the generated ACLs under HNS rules
 * (hnp_acl_list_eval), not from re-running NetworkPolicy semantics, so it
 * checks the translation itself: the source endpoint's Out ACLs, then the
 * destination endpoint's In ACLs; the connection is allowed when both allow.
 */
#ifndef HNP_EXPLAIN_H
#define HNP_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "hnsnetpol/acl.h"
#include "hnsnetpol/error.h"
#include "hnsnetpol/objects.h"
#include "hnsnetpol/translate.h"

/* One side (the source's egress or the destination's ingress). */
struct hnp_explain_side {
    bool evaluated;           /* false: not a pod endpoint we translate (an outside IP) */
    bool isolated;            /* the endpoint has ACLs (some applied policy selects it) */
    enum hnp_verdict verdict; /* ALLOW when not evaluated or not isolated */
    bool has_acl;             /* a rule decided (else: implicit default deny or no ACL) */
    struct hnp_acl acl;       /* owned copy of the deciding ACL when has_acl */
};

struct hnp_explain_result {
    bool allowed;
    struct hnp_explain_side egress;  /* at the source */
    struct hnp_explain_side ingress; /* at the destination */
};

/*
 * Explain a connection from `from` (a pod, or NULL with from_ip an outside
 * address) to `to` (a pod, or NULL with to_ip) on protocol/port. A pod's
 * first IP is used. *out is filled; free with hnp_explain_result_clear().
 * HNP_ERR_INVALID when a given pod is not an endpoint (no IP, hostNetwork,
 * finished).
 */
enum hnp_err hnp_explain(struct hnp_translator *tr, const struct hnp_pod *from, uint32_t from_ip,
                         const struct hnp_pod *to, uint32_t to_ip, uint8_t protocol, uint16_t port,
                         struct hnp_explain_result *out, struct hnp_error *err);

void hnp_explain_result_clear(struct hnp_explain_result *result);

#endif /* HNP_EXPLAIN_H */
