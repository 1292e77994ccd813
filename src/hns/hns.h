/*
 * hns.h - the HNS backend interface: what the agent needs from the Host
 * Network Service, as a table of function pointers.
 *
 * Two implementations: the real one over computenetwork.dll (win/hcn.c) and
 * the portable mock (src/hns_mock.c) that keeps HCN endpoint documents in a
 * JSON state file and validates requests the way HNS does. Nothing above
 * this interface knows which one it talks to.
 *
 * Calls may block for a long time on a loaded Windows host; the agent makes
 * them from its HNS worker thread, never from the thread that watches the
 * API server. A backend is used from one thread at a time.
 */
#ifndef HNP_HNS_H
#define HNP_HNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hnsnetpol/error.h"

/* HCN error codes (facility 0x3B), as HNS returns them in err->code. */
#define HNP_HCN_ENDPOINT_NOT_FOUND 0x803B0002u
#define HNP_HCN_POLICY_NOT_FOUND 0x803B0008u
#define HNP_HCN_INVALID_POLICY 0x803B000Du
#define HNP_HCN_INVALID_POLICY_TYPE 0x803B000Eu
#define HNP_HCN_POLICY_ALREADY_EXISTS 0x803B0012u
#define HNP_HCN_REQUEST_UNSUPPORTED 0x803B0015u
#define HNP_HCN_INVALID_JSON 0x803B001Bu
#define HNP_HCN_INVALID_IP 0x803B001Eu
#define HNP_HCN_MANAGER_STOPPED 0x803B0020u

#define HNP_HNS_MAX_IPS 4

/* One endpoint as HNS reports it. */
struct hnp_hns_endpoint {
    char *id;   /* owned; the GUID as HNS spells it (compare case-insensitively) */
    char *name; /* owned; NULL when absent */
    uint32_t ips[HNP_HNS_MAX_IPS]; /* IPv4 from IpConfigurations, host order */
    size_t n_ips;
    json_t *policies; /* owned reference: the endpoint's Policies array, never NULL */
};

/* Free what an endpoint owns and zero it. Accepts NULL. */
void hnp_hns_endpoint_clear(struct hnp_hns_endpoint *ep);
/* Clear every element, then free the array. Accepts NULL. */
void hnp_hns_endpoints_free(struct hnp_hns_endpoint *eps, size_t count);

struct hnp_hns;

struct hnp_hns_ops {
    const char *name; /* "mock", "hcn" */

    /*
     * Every local endpoint (attached to this host) with its properties.
     * *out is a new array of *count endpoints (free with
     * hnp_hns_endpoints_free); NULL when count is 0.
     */
    enum hnp_err (*list_endpoints)(struct hnp_hns *hns, struct hnp_hns_endpoint **out,
                                   size_t *count, struct hnp_error *err);

    /*
     * One endpoint by id. HNP_ERR_NOT_FOUND (err->code
     * HNP_HCN_ENDPOINT_NOT_FOUND) when it is gone. *out filled on success.
     */
    enum hnp_err (*get_endpoint)(struct hnp_hns *hns, const char *id, struct hnp_hns_endpoint *out,
                                 struct hnp_error *err);

    /*
     * HcnModifyEndpoint(id, request): request is the settings document
     * ({"ResourceType":"Policy","RequestType":"Update","Settings":{...}}),
     * borrowed. HNP_ERR_NOT_FOUND when the endpoint is gone, HNP_ERR_HNS with
     * err->code set (e.g. HNP_HCN_INVALID_POLICY) when HNS refuses it.
     */
    enum hnp_err (*modify_endpoint)(struct hnp_hns *hns, const char *id, const json_t *request,
                                    struct hnp_error *err);

    /* Release the backend. */
    void (*destroy)(struct hnp_hns *hns);
};

/* Every backend starts with this; the agent only ever uses hns->ops. */
struct hnp_hns {
    const struct hnp_hns_ops *ops;
};

/*
 * A backend class: how to open an instance of one kind of backend. The
 * registry (hnp_hns_class_find) holds one per kind; the agent is given a
 * class and its argument, not a spec string.
 *   name   "mock", "hcn";
 *   takes_arg  whether the spec is "NAME:ARG" (true: ARG required) or "NAME";
 *   open   a new instance (*out, free with hnp_hns_close()) for arg
 *          (borrowed; NULL for a class without one); HNP_ERR_UNSUPPORTED
 *          for a backend this build has not (hcn off Windows);
 *   help   one line for usage texts.
 */
struct hnp_hns_class {
    const char *name;
    bool takes_arg;
    enum hnp_err (*open)(const char *arg, struct hnp_hns **out, struct hnp_error *err);
    const char *help;
};

/* Close a backend opened by its class. Accepts NULL. */
void hnp_hns_close(struct hnp_hns *hns);

/*
 * Split an endpoint's Policies array into the policies that are not ours
 * (every policy that is not an ACL with an Id starting "hnp-": returned as a
 * new array, order kept) and our ACLs parsed (appended to ours, which the
 * caller initialised). An ACL of ours that does not parse is dropped from
 * both (the next Update replaces it). Returns NULL only on NOMEM.
 */
struct hnp_acl_list;
json_t *hnp_hns_split_policies(const json_t *policies, struct hnp_acl_list *ours);

#endif /* HNP_HNS_H */
