/*
 * translate.h - cluster state + policies -> the complete ACL set of one
 * endpoint. Pure: no I/O, no clock.
 *
 * For a pod that no applied policy selects: no ACL at all. Otherwise, sorted
 * by priority then Id:
 *   - Allow In from the node IP (options->node_ip, else the pod's hostIP)
 *     at HNP_PRIORITY_NODE, when a node IP is known;
 *   - one Allow per (policy rule, protocol, list chunk) at HNP_PRIORITY_ALLOW:
 *     In rules carry peers in RemoteAddresses and ports in LocalPorts, Out
 *     rules peers in RemoteAddresses and ports in RemotePorts; peers are pod
 *     IPs and ipBlock CIDRs merged into the fewest CIDRs; a rule whose peers
 *     resolve to no address is left out;
 *   - at HNP_PRIORITY_DEFAULT, for each direction: Block when some selecting
 *     policy isolates it, Allow-all otherwise (any ACL makes HNS default-deny).
 * Ids start with "hnp-", are unique within the set and stable for the same
 * policy, rule, protocol and chunk.
 */
#ifndef HNP_TRANSLATE_H
#define HNP_TRANSLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hnsnetpol/acl.h"
#include "hnsnetpol/cluster.h"
#include "hnsnetpol/error.h"
#include "hnsnetpol/objects.h"
#include "hnsnetpol/policy.h"

enum hnp_unsupported_mode {
    HNP_UNSUPPORTED_REJECT,  /* a rejected policy contributes nothing */
    HNP_UNSUPPORTED_ISOLATE, /* it isolates the pods it selects for its policy types, allows nothing
                              */
};

struct hnp_translate_options {
    bool has_node_ip;
    uint32_t node_ip; /* overrides each pod's hostIP when has_node_ip */
    enum hnp_unsupported_mode unsupported;
};

struct hnp_translator;

/*
 * A translator over cluster. cluster is borrowed and must not change while
 * the translator lives (it caches peer resolutions and indexes); options is
 * copied. NULL when out of memory.
 */
struct hnp_translator *hnp_translator_new(struct hnp_cluster *cluster,
                                          const struct hnp_translate_options *options);
void hnp_translator_free(struct hnp_translator *tr);

/*
 * The complete desired ACL set for pod (borrowed, from the same cluster),
 * appended to out (which the caller initialised). Deterministic.
 */
enum hnp_err hnp_translator_pod(struct hnp_translator *tr, const struct hnp_pod *pod,
                                struct hnp_acl_list *out, struct hnp_error *err);

/*
 * Is the policy applied (enforced) under the translator's options: not
 * rejected, or rejected but honoured for isolation in ISOLATE mode.
 */
bool hnp_translator_policy_applies(const struct hnp_translator *tr,
                                   const struct hnp_policy *policy);

/*
 * The policies (borrowed, in cluster order) whose podSelector selects pod
 * and that apply; *count receives how many. Returns a new array the caller
 * frees (NULL when count is 0).
 */
enum hnp_err hnp_translator_selecting(struct hnp_translator *tr, const struct hnp_pod *pod,
                                      const struct hnp_policy ***out, size_t *count);

/* The pod that owns IPv4 address ip among endpoint pods, or NULL. */
const struct hnp_pod *hnp_translator_pod_by_ip(const struct hnp_translator *tr, uint32_t ip);

#endif /* HNP_TRANSLATE_H */
