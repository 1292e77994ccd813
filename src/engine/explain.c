/*
 * explain.c - would a connection be allowed, and which ACL decides.
 *
 * Each side is answered by translating the endpoint and evaluating its ACL
 * list under HNS rules (hnp_acl_list_eval), so `explain` exercises exactly
 * what the agent would write, not a second reading of NetworkPolicy.
 */
#include "hnsnetpol/explain.h"

#include <string.h>

/*
 * Evaluate one side. pod NULL: an outside address, nothing to evaluate.
 * On failure side is left cleared.
 */
static enum hnp_err explain_side(struct hnp_translator *tr, const struct hnp_pod *pod,
                                 const struct hnp_packet *packet, struct hnp_explain_side *side,
                                 struct hnp_error *err)
{
    memset(side, 0, sizeof(*side));
    side->verdict = HNP_VERDICT_ALLOW;
    if (pod == NULL)
        return HNP_OK;

    struct hnp_acl_list list;
    hnp_acl_list_init(&list);
    enum hnp_err rc = hnp_translator_pod(tr, pod, &list, err);
    if (rc != HNP_OK)
        return rc;
    side->evaluated = true;
    side->isolated = list.count > 0;
    long idx = hnp_acl_list_eval(&list, packet, &side->verdict);
    if (idx >= 0) {
        rc = hnp_acl_copy(&side->acl, &list.items[idx]);
        if (rc != HNP_OK) {
            hnp_acl_list_free(&list);
            memset(side, 0, sizeof(*side));
            return hnp_error_set(err, rc, NULL, "copying the deciding ACL: %s", hnp_strerror(rc));
        }
        side->has_acl = true;
    }
    hnp_acl_list_free(&list);
    return HNP_OK;
}

static enum hnp_err check_endpoint(const struct hnp_pod *pod, const char *role,
                                   struct hnp_error *err)
{
    if (pod == NULL || hnp_pod_is_endpoint(pod))
        return HNP_OK;
    return hnp_error_set(err, HNP_ERR_INVALID, NULL,
                         "%s pod %s/%s is not an endpoint (no IP, hostNetwork or finished)", role,
                         pod->ns, pod->name);
}

enum hnp_err hnp_explain(struct hnp_translator *tr, const struct hnp_pod *from, uint32_t from_ip,
                         const struct hnp_pod *to, uint32_t to_ip, uint8_t protocol, uint16_t port,
                         struct hnp_explain_result *out, struct hnp_error *err)
{
    memset(out, 0, sizeof(*out));
    enum hnp_err rc = check_endpoint(from, "source", err);
    if (rc == HNP_OK)
        rc = check_endpoint(to, "destination", err);
    if (rc != HNP_OK)
        return rc;
    if (from != NULL)
        from_ip = from->ips[0];
    if (to != NULL)
        to_ip = to->ips[0];

    struct hnp_packet egress = {HNP_ACL_OUT, to_ip, protocol, port};
    struct hnp_packet ingress = {HNP_ACL_IN, from_ip, protocol, port};
    rc = explain_side(tr, from, &egress, &out->egress, err);
    if (rc == HNP_OK)
        rc = explain_side(tr, to, &ingress, &out->ingress, err);
    if (rc != HNP_OK) {
        hnp_explain_result_clear(out);
        return rc;
    }
    out->allowed =
        out->egress.verdict == HNP_VERDICT_ALLOW && out->ingress.verdict == HNP_VERDICT_ALLOW;
    return HNP_OK;
}

void hnp_explain_result_clear(struct hnp_explain_result *result)
{
    if (result == NULL)
        return;
    if (result->egress.has_acl)
        hnp_acl_clear(&result->egress.acl);
    if (result->ingress.has_acl)
        hnp_acl_clear(&result->ingress.acl);
    memset(result, 0, sizeof(*result));
}
