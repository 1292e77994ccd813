/*
 * endpoints.c - the endpoint table of endpoints.h (an array in insertion
 * order for the fair round, the hash map for lookups by id) and the
 * comparison of one endpoint with what it should carry.
 */
#include "endpoints.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/acl.h"
#include "hnsnetpol/rangeset.h"
#include "log.h"
#include "text.h"

/* The hash of id lower-cased (HNS GUIDs come in either case). */
static uint64_t hash_id(const char *id)
{
    uint64_t h = hnp_hash_bytes("", 0);
    for (const char *p = id; *p != '\0'; p++) {
        int ch = (unsigned char)*p;
        if (ch >= 'A' && ch <= 'Z')
            ch += 'a' - 'A';
        h = hnp_hash_combine(h, (uint64_t)ch);
    }
    return h;
}

static void endpoint_free(struct hnp_endpoint *ep)
{
    if (ep == NULL)
        return;
    free(ep->id);
    json_decref(ep->policies);
    json_decref(ep->pending);
    json_decref(ep->last_sent);
    free(ep);
}

void hnp_endpoints_init(struct hnp_endpoints *t)
{
    memset(t, 0, sizeof(*t));
}

void hnp_endpoints_clear(struct hnp_endpoints *t)
{
    for (size_t i = 0; i < t->count; i++)
        endpoint_free(t->items[i]);
    free(t->items);
    hnp_hashmap_clear(&t->by_id);
    memset(t, 0, sizeof(*t));
}

struct hnp_endpoint *hnp_endpoints_find(const struct hnp_endpoints *t, const char *id)
{
    uint64_t h = hash_id(id);
    size_t pos = HNP_HASHMAP_START;
    struct hnp_endpoint *ep;
    while ((ep = hnp_hashmap_next(&t->by_id, h, &pos)) != NULL) {
        if (hnp_equal_nocase(ep->id, id))
            return ep;
    }
    return NULL;
}

struct hnp_endpoint *hnp_endpoints_add(struct hnp_endpoints *t, const char *id)
{
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        struct hnp_endpoint **items = realloc(t->items, cap * sizeof(*items));
        if (items == NULL)
            return NULL;
        t->items = items;
        t->cap = cap;
    }
    struct hnp_endpoint *ep = calloc(1, sizeof(*ep));
    if (ep == NULL || (ep->id = hnp_strdup(id)) == NULL) {
        free(ep);
        return NULL;
    }
    ep->policies = json_array();
    if (ep->policies == NULL || hnp_hashmap_put(&t->by_id, hash_id(id), ep) != HNP_OK) {
        endpoint_free(ep);
        return NULL;
    }
    ep->dirty = true;
    t->items[t->count++] = ep;
    return ep;
}

size_t hnp_endpoints_remove(struct hnp_endpoints *t, struct hnp_endpoint *ep)
{
    size_t i = 0;
    while (i < t->count && t->items[i] != ep)
        i++;
    hnp_hashmap_remove(&t->by_id, hash_id(ep->id), ep);
    if (i < t->count) {
        memmove(&t->items[i], &t->items[i + 1], (t->count - i - 1) * sizeof(t->items[0]));
        t->count--;
    }
    endpoint_free(ep);
    return i;
}

/* ------------------------------------------------------------------------ */
/* Comparing an endpoint with what it should carry                          */

void hnp_format_ips(const uint32_t *ips, size_t n, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && used + 17 < len; i++) {
        char ip[16];
        hnp_ipv4_format(ips[i], ip);
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", ip);
    }
}

void hnp_endpoint_format_pod(const struct hnp_endpoint *ep, char *out, size_t len)
{
    if (ep->pod_ns != NULL)
        snprintf(out, len, "%s/%s", ep->pod_ns, ep->pod_name);
    else
        snprintf(out, len, "%s", "");
}

/* The pod of this node that owns one of the endpoint's IPs, or NULL. */
static const struct hnp_pod *bound_pod(const char *node, struct hnp_translator *tr,
                                       const struct hnp_endpoint *ep)
{
    for (size_t i = 0; i < ep->n_ips; i++) {
        const struct hnp_pod *pod = hnp_translator_pod_by_ip(tr, ep->ips[i]);
        if (pod != NULL && pod->node != NULL && strcmp(pod->node, node) == 0)
            return pod;
    }
    return NULL;
}

/* Re-bind the endpoint to the pod that owns its IP now; log when that changes. */
static const struct hnp_pod *bind(const char *node, struct hnp_translator *tr,
                                  struct hnp_endpoint *ep)
{
    const struct hnp_pod *pod = bound_pod(node, tr, ep);
    const char *ns = pod ? pod->ns : NULL, *name = pod ? pod->name : NULL;
    const char *uid = pod ? pod->uid : NULL;
    if (ns == ep->pod_ns && name == ep->pod_name && uid == ep->pod_uid)
        return pod; /* interned strings: equal if and only if the same pointer */
    char ips[80], before[300];
    hnp_format_ips(ep->ips, ep->n_ips, ips, sizeof(ips));
    hnp_endpoint_format_pod(ep, before, sizeof(before));
    ep->pod_ns = ns;
    ep->pod_name = name;
    ep->pod_uid = uid;
    if (pod != NULL) {
        char now[300];
        hnp_endpoint_format_pod(ep, now, sizeof(now));
        hnp_log(HNP_LOG_INFO, "endpoint bound to pod", "endpoint", ep->id, "ip", ips, "pod", now,
                "previous", before, NULL);
    } else {
        hnp_log(before[0] ? HNP_LOG_INFO : HNP_LOG_DEBUG,
                "endpoint not bound: no pod of this node owns its IP; left untouched", "endpoint",
                ep->id, "ip", ips, "previous", before, NULL);
    }
    return pod;
}

void hnp_endpoint_compare(struct hnp_endpoint *ep, struct hnp_translator *tr, const char *node)
{
    ep->dirty = false;
    json_decref(ep->pending);
    ep->pending = NULL;
    ep->pending_acls = 0;

    struct hnp_acl_list ours, desired;
    hnp_acl_list_init(&ours);
    hnp_acl_list_init(&desired);
    json_t *foreign = hnp_hns_split_policies(ep->policies, &ours);
    if (foreign == NULL)
        goto nomem;
    ep->n_ours = ours.count;

    const struct hnp_pod *pod = bind(node, tr, ep);
    if (pod == NULL)
        goto done;
    struct hnp_error err = {0};
    enum hnp_err rc = hnp_translator_pod(tr, pod, &desired, &err);
    if (rc != HNP_OK) {
        char name[300];
        hnp_endpoint_format_pod(ep, name, sizeof(name));
        hnp_log(HNP_LOG_ERROR, "cannot compute the ACLs of a pod; its endpoint is left as it is",
                "pod", name, "endpoint", ep->id, "error", hnp_err_name(rc), "detail", err.message,
                NULL);
        goto done;
    }
    if (!hnp_acl_list_equal(&desired, &ours)) {
        ep->pending = hnp_acl_list_request(&desired, foreign);
        if (ep->pending == NULL)
            goto nomem;
        ep->pending_acls = desired.count;
    }
    goto done;

nomem:
    hnp_log(HNP_LOG_ERROR, "out of memory comparing an endpoint; retried later", "endpoint", ep->id,
            NULL);
    ep->dirty = true;
done:
    json_decref(foreign);
    hnp_acl_list_free(&ours);
    hnp_acl_list_free(&desired);
}
