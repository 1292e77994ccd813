/*
 * hns.c - what every HNS backend shares: closing one, freeing the endpoints
 * a backend returns, and telling our ACLs apart from every other policy on
 * an endpoint.
 *
 * The backends themselves live elsewhere: the portable mock in mock.c, the
 * real HCN one in win/hcn.c (src/posix/hcn_none.c elsewhere), each with its
 * class; registry.c knows the classes. The agent opens a backend through its
 * class and from then on only calls through hns->ops.
 */
#include "hns.h"

#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/acl.h"
#include "text.h"

void hnp_hns_endpoint_clear(struct hnp_hns_endpoint *ep)
{
    if (ep == NULL)
        return;
    free(ep->id);
    free(ep->name);
    json_decref(ep->policies);
    memset(ep, 0, sizeof(*ep));
}

void hnp_hns_endpoints_free(struct hnp_hns_endpoint *eps, size_t count)
{
    if (eps == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        hnp_hns_endpoint_clear(&eps[i]);
    free(eps);
}

void hnp_hns_close(struct hnp_hns *hns)
{
    if (hns != NULL && hns->ops != NULL && hns->ops->destroy != NULL)
        hns->ops->destroy(hns);
}

/*
 * Is this policy one of ours: Type "ACL" and Settings.Id starting "hnp-".
 * Keys and the type are matched ignoring case, so an ACL of ours that HNS
 * reports as "ID" is still recognised (and then dropped as unparseable,
 * rather than kept as foreign and sent back with every Update).
 */
static bool is_ours(const json_t *policy)
{
    if (!json_is_object(policy))
        return false;
    const json_t *type = hnp_json_get_nocase(policy, "Type");
    if (!json_is_string(type) || !hnp_equal_nocase(json_string_value(type), "ACL"))
        return false;
    const json_t *settings = hnp_json_get_nocase(policy, "Settings");
    if (!json_is_object(settings))
        return false;
    const json_t *id = hnp_json_get_nocase(settings, "Id");
    return json_is_string(id) && hnp_acl_id_is_ours(json_string_value(id));
}

json_t *hnp_hns_split_policies(const json_t *policies, struct hnp_acl_list *ours)
{
    json_t *foreign = json_array();
    if (foreign == NULL)
        return NULL;
    size_t first_new = ours->count;
    for (size_t i = 0; json_is_array(policies) && i < json_array_size(policies); i++) {
        const json_t *policy = json_array_get(policies, i);
        if (!is_ours(policy)) {
            /* Shared, not copied: foreign policies go back to HNS byte for byte. */
            if (json_array_append(foreign, (json_t *)policy) != 0)
                goto nomem;
            continue;
        }
        struct hnp_acl acl;
        enum hnp_err rc = hnp_acl_from_json(policy, &acl, NULL);
        if (rc == HNP_ERR_NOMEM)
            goto nomem;
        if (rc != HNP_OK)
            continue; /* ours but unreadable: the next Update replaces it */
        if (hnp_acl_list_push(ours, &acl) != HNP_OK)
            goto nomem;
    }
    return foreign;

nomem:
    /* Leave ours as it was given. */
    while (ours->count > first_new)
        hnp_acl_clear(&ours->items[--ours->count]);
    json_decref(foreign);
    return NULL;
}
