/*
 * hns.c - what every HNS backend shares: opening one by its spec string,
 * closing it, freeing the endpoints it returns, and telling our ACLs apart
 * from every other policy on an endpoint.
 *
 * The backends themselves live elsewhere: the portable mock in hns_mock.c,
 * the real HCN one in win/ (Windows builds only). The agent opens a backend
 * here and from then on only calls through hns->ops.
 */
#include "hns.h"
#include "hns_hcn.h"
#include "mock.h"

#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/acl.h"
#include "text.h"

#define MOCK_PREFIX "mock:"

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

enum hnp_err hnp_hns_open(const char *spec, struct hnp_hns **out, struct hnp_error *err)
{
    if (spec == NULL || spec[0] == '\0')
        return hnp_error_set(err, HNP_ERR_USAGE, "--hns",
                             "no HNS backend given: use \"mock:PATH\" or \"hcn\"");
    if (strncmp(spec, MOCK_PREFIX, strlen(MOCK_PREFIX)) == 0) {
        const char *path = spec + strlen(MOCK_PREFIX);
        if (path[0] == '\0')
            return hnp_error_set(err, HNP_ERR_USAGE, "--hns",
                                 "\"mock:\" needs the path of the state file, as in "
                                 "\"mock:/tmp/hns.json\"");
        return hnp_hns_mock_open(path, out, err);
    }
    if (strcmp(spec, "hcn") == 0)
        return hnp_hns_hcn_open(out, err);
    return hnp_error_set(err, HNP_ERR_USAGE, "--hns",
                         "unknown HNS backend \"%s\": use \"mock:PATH\" or \"hcn\"", spec);
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
