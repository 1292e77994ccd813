/*
 * acl.h - HNS ACL policies: the structure, the exact JSON HNS takes, the
 * parse of that JSON (validated the way HNS validates it), and evaluation
 * under HNS rules.
 *
 * An ACL holds its address and port lists already split the way they are
 * sent (at most HNP_ACL_MAX_LIST entries each), so evaluating a struct
 * hnp_acl evaluates exactly what HNS would be given.
 *
 * HNS evaluation (hns-reference.md section 4): an endpoint without ACLs
 * allows everything; with any ACL, rules of the packet's direction are tried
 * by ascending Priority, the first match decides, and no match means Block.
 */
#ifndef HNP_ACL_H
#define HNP_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hnsnetpol/error.h"
#include "hnsnetpol/rangeset.h"

#define HNP_ACL_ID_PREFIX "hnp-"
#define HNP_ACL_ID_MAX 96
#define HNP_ACL_MAX_LIST 4000

/* Priorities of the rules we write; lower is evaluated first. */
#define HNP_PRIORITY_NODE 200      /* Allow In from the node (kubelet probes) */
#define HNP_PRIORITY_ALLOW 1000    /* Allow rules from NetworkPolicy rules */
#define HNP_PRIORITY_DEFAULT 65000 /* final Block / Allow-all per direction */

enum hnp_acl_action { HNP_ACL_ALLOW, HNP_ACL_BLOCK };
enum hnp_acl_direction { HNP_ACL_IN, HNP_ACL_OUT };

/* Why we wrote an ACL; not sent to HNS. */
enum hnp_acl_origin_kind {
    HNP_ORIGIN_FOREIGN = 0, /* parsed from HNS, not ours or unknown */
    HNP_ORIGIN_NODE,        /* the node's Allow In */
    HNP_ORIGIN_RULE,        /* an ingress or egress rule of a policy */
    HNP_ORIGIN_ISOLATION,   /* final Block of a direction a policy isolates */
    HNP_ORIGIN_OPEN,        /* final Allow-all of a direction no policy isolates */
};

struct hnp_acl_origin {
    enum hnp_acl_origin_kind kind;
    const char *policy_ns;   /* borrowed (interned) when kind == RULE */
    const char *policy_name; /* borrowed (interned) when kind == RULE */
    int rule_index;          /* index in spec.ingress / spec.egress when kind == RULE */
};

struct hnp_acl {
    char id[HNP_ACL_ID_MAX];
    enum hnp_acl_action action;
    enum hnp_acl_direction direction;
    uint8_t protocol;              /* 0 = any (Protocols omitted), else 6 or 17 */
    uint16_t priority;             /* 0..65535 */
    struct hnp_cidr *remote_addrs; /* owned; 0 entries = any (RemoteAddresses omitted) */
    size_t n_remote_addrs;
    struct hnp_range *local_ports; /* owned; 0 entries = any (LocalPorts omitted) */
    size_t n_local_ports;
    struct hnp_range *remote_ports; /* owned; 0 entries = any (RemotePorts omitted) */
    size_t n_remote_ports;
    struct hnp_acl_origin origin;
};

/* Free what an ACL owns (not the struct). Accepts NULL. */
void hnp_acl_clear(struct hnp_acl *acl);
/* Deep copy into *dst (uninitialised). */
enum hnp_err hnp_acl_copy(struct hnp_acl *dst, const struct hnp_acl *src);

/* A growable list of ACLs; zero-initialise or hnp_acl_list_init(). */
struct hnp_acl_list {
    struct hnp_acl *items;
    size_t count;
    size_t cap;
};

void hnp_acl_list_init(struct hnp_acl_list *list);
/* Clears every ACL and frees the array; the list is empty and reusable. Accepts NULL. */
void hnp_acl_list_free(struct hnp_acl_list *list);
/* Append *acl; its owned arrays are stolen (also on failure, then freed) and *acl zeroed. */
enum hnp_err hnp_acl_list_push(struct hnp_acl_list *list, struct hnp_acl *acl);
/*
 * Do a and b render to the same policy object (hnp_acl_to_json)? Compares
 * Id, Action, Direction, Protocols, Priority and the address and port lists
 * entry by entry, in order; the origin is not part of what HNS is given and
 * is ignored. Both borrowed; no allocation.
 */
bool hnp_acl_equal(const struct hnp_acl *a, const struct hnp_acl *b);

/* Same count and hnp_acl_equal() item by item, in order. Both borrowed. */
bool hnp_acl_list_equal(const struct hnp_acl_list *a, const struct hnp_acl_list *b);

/* Stable sort by (priority, direction, id). */
void hnp_acl_list_sort(struct hnp_acl_list *list);

/*
 * The policy object HNS takes: {"Type":"ACL","Settings":{"Id":...,
 * "Action":..., "Direction":..., "Protocols":"6", "RemoteAddresses":"...",
 * "LocalPorts":"...", "RemotePorts":"...", "RuleType":"Switch",
 * "Priority":N}} with absent lists omitted. New reference; NULL on NOMEM.
 * Key order is fixed, so the same ACL always renders to the same bytes.
 */
json_t *hnp_acl_to_json(const struct hnp_acl *acl);

/*
 * The HcnModifyEndpoint request that leaves an endpoint with `foreign`
 * (a JSON array of policy objects that are not ours, borrowed, may be NULL)
 * first and unchanged, then every ACL of list:
 * {"ResourceType":"Policy","RequestType":"Update","Settings":{"Policies":[...]}}.
 * New reference; NULL on NOMEM.
 */
json_t *hnp_acl_list_request(const struct hnp_acl_list *list, const json_t *foreign);

/*
 * Parse one policy object of Type "ACL" as HNS would: Settings must be an
 * object; `Id` (not `ID`) a string; Action Allow|Block; Direction In|Out;
 * Protocols a decimal number string (no "Any", one protocol); address lists
 * of IPv4 addresses and CIDRs (no "Any", no ranges); port lists of ports and
 * ranges, only with Protocols 6 or 17; RuleType Switch|Host; Priority an
 * integer 0..65535; unknown keys refused. HNP_ERR_INVALID with a message
 * naming the field on any violation (the mock answers 0x803B000D for it).
 * On success *out is filled (origin FOREIGN) and owns its arrays.
 */
enum hnp_err hnp_acl_from_json(const json_t *policy, struct hnp_acl *out, struct hnp_error *err);

/* True when the ACL Id starts with HNP_ACL_ID_PREFIX. */
bool hnp_acl_id_is_ours(const char *id);

/* A connection attempt as seen by one endpoint. */
struct hnp_packet {
    enum hnp_acl_direction direction; /* IN: arriving at the endpoint; OUT: leaving it */
    uint32_t remote_addr;             /* IN: the source; OUT: the destination */
    uint8_t protocol;                 /* 6, 17, 132, ... */
    uint16_t port; /* the service (destination) port: local for IN, remote for OUT */
};

enum hnp_verdict { HNP_VERDICT_ALLOW, HNP_VERDICT_BLOCK };

/*
 * Evaluate packet against an endpoint's complete ACL list under HNS rules.
 * Returns the index of the deciding ACL, or -1 when none decided: then
 * *verdict is ALLOW if the list is empty (no ACL at all) and BLOCK otherwise
 * (implicit default deny). A rule that restricts the port we do not model
 * (RemotePorts on In, LocalPorts on Out: the ephemeral port) never matches.
 * Among equal priorities the earlier list entry wins (HNS leaves it undefined;
 * hnp_acl_list_conflicts() finds such pairs).
 */
long hnp_acl_list_eval(const struct hnp_acl_list *list, const struct hnp_packet *packet,
                       enum hnp_verdict *verdict);

/*
 * Number of pairs (Allow, Block) in list that have the same priority and
 * direction and could match the same packet. Our translation must give 0.
 */
size_t hnp_acl_list_conflicts(const struct hnp_acl_list *list);

#endif /* HNP_ACL_H */
