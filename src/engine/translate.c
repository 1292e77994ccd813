/*
 * translate.c - the translation engine: NetworkPolicy semantics as
 * Kubernetes defines them, rendered as the HNS ACL set of one endpoint.
 *
 * A translator borrows a cluster that does not change while it lives, and
 * builds on first use:
 *   - the endpoint pods grouped by namespace (a podSelector-only peer looks
 *     at one group, never at every pod), and every endpoint IP sorted for
 *     hnp_translator_pod_by_ip();
 *   - for each distinct namespaceSelector (compared by content, so policies
 *     sharing `{}` or a name selector share the work), the groups it matches;
 *   - for each (policy, direction, rule), the resolved peer addresses as the
 *     fewest CIDRs and the port lists per protocol. A rule's ACLs are the same
 *     for every pod the policy selects, so each rule is resolved once.
 *
 * Nothing here depends on the order of pointers or hash tables: addresses are
 * normalized sets and the result is sorted, so the output is deterministic.
 */
#include "hnsnetpol/translate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/labels.h"
#include "hnsnetpol/rangeset.h"

#include "hashmap.h"

/* ---------- translator state ---------- */

/* The endpoint pods of one namespace, in cluster order. */
struct ns_group {
    const char *ns; /* interned */
    const struct hnp_pod **pods;
    size_t count;
    size_t cap;
};

struct ip_entry {
    uint32_t ip;
    size_t order; /* cluster index of the pod: the first pod wins a shared IP */
    const struct hnp_pod *pod;
};

/* The namespace groups one namespaceSelector matches. */
struct sel_entry {
    const struct hnp_selector *sel; /* borrowed from a policy of the cluster */
    uint64_t hash;
    size_t *groups; /* owned; indexes into tr->groups */
    size_t n_groups;
};

/* The ports of one protocol in a rule. */
struct proto_ports {
    bool present;             /* some entry of ports[] has this protocol */
    bool all;                 /* some entry has no port: every port */
    struct hnp_range *ranges; /* owned; normalized, when !all */
    size_t n_ranges;
};

#define N_PROTOS 2
static const uint8_t proto_numbers[N_PROTOS] = {HNP_PROTO_TCP, HNP_PROTO_UDP};
static const char *const proto_tags[N_PROTOS] = {"tcp", "udp"};

/* A resolved rule: what its ACLs hold, whichever pod they go to. */
struct rule_cache {
    bool resolved;
    bool any_addr;          /* no peers: every address */
    struct hnp_cidr *cidrs; /* owned; the peers as the fewest CIDRs */
    size_t n_cidrs;         /* 0 with !any_addr: the rule allows nothing */
    bool any_port;          /* no ports: one ACL, every protocol and port */
    struct proto_ports ports[N_PROTOS];
};

struct policy_cache {
    struct rule_cache *in; /* owned; n_in entries, NULL until used */
    size_t n_in;
    struct rule_cache *out; /* owned; n_out entries, NULL until used */
    size_t n_out;
};

struct hnp_translator {
    struct hnp_cluster *cluster; /* borrowed */
    struct hnp_translate_options opts;

    bool indexed;
    struct ns_group *groups; /* namespaces with endpoint pods, first-seen order */
    size_t n_groups;
    struct hnp_hashmap group_by_ns; /* hnp_hash_ptr(ns) -> groups index */
    struct ip_entry *ips;           /* sorted by (ip, order) */
    size_t n_ips;

    struct sel_entry *sels;
    size_t n_sels;
    size_t cap_sels;
    struct hnp_hashmap sel_by_hash; /* selector_hash() -> sels index */

    struct policy_cache *pcache; /* hnp_cluster_policy_count entries, NULL until used */
    size_t n_pcache;
};

struct hnp_translator *hnp_translator_new(struct hnp_cluster *cluster,
                                          const struct hnp_translate_options *options)
{
    struct hnp_translator *tr = calloc(1, sizeof(*tr));
    if (tr == NULL)
        return NULL;
    tr->cluster = cluster;
    if (options != NULL)
        tr->opts = *options;
    return tr;
}

static void rule_cache_clear(struct rule_cache *rc)
{
    free(rc->cidrs);
    for (size_t k = 0; k < N_PROTOS; k++)
        free(rc->ports[k].ranges);
    memset(rc, 0, sizeof(*rc));
}

void hnp_translator_free(struct hnp_translator *tr)
{
    if (tr == NULL)
        return;
    for (size_t i = 0; i < tr->n_groups; i++)
        free(tr->groups[i].pods);
    free(tr->groups);
    hnp_hashmap_clear(&tr->group_by_ns);
    free(tr->ips);
    for (size_t i = 0; i < tr->n_sels; i++)
        free(tr->sels[i].groups);
    free(tr->sels);
    hnp_hashmap_clear(&tr->sel_by_hash);
    for (size_t i = 0; i < tr->n_pcache; i++) {
        struct policy_cache *pc = &tr->pcache[i];
        for (size_t r = 0; r < pc->n_in; r++)
            rule_cache_clear(&pc->in[r]);
        for (size_t r = 0; r < pc->n_out; r++)
            rule_cache_clear(&pc->out[r]);
        free(pc->in);
        free(pc->out);
    }
    free(tr->pcache);
    free(tr);
}

/* ---------- pod indexes ---------- */

static long find_group(const struct hnp_translator *tr, const char *ns)
{
    uint64_t h = hnp_hash_ptr(ns);
    size_t pos = HNP_HASHMAP_START;
    void *v;
    while ((v = hnp_hashmap_next(&tr->group_by_ns, h, &pos)) != NULL) {
        size_t idx = HNP_HASHMAP_TO_INDEX(v);
        if (tr->groups[idx].ns == ns)
            return (long)idx;
    }
    return -1;
}

static enum hnp_err group_add(struct hnp_translator *tr, const struct hnp_pod *pod,
                              size_t *cap_groups)
{
    long g = find_group(tr, pod->ns);
    if (g < 0) {
        if (tr->n_groups == *cap_groups) {
            size_t ncap = *cap_groups ? *cap_groups * 2 : 16;
            struct ns_group *ng = realloc(tr->groups, ncap * sizeof(*ng));
            if (ng == NULL)
                return HNP_ERR_NOMEM;
            tr->groups = ng;
            *cap_groups = ncap;
        }
        if (hnp_hashmap_put(&tr->group_by_ns, hnp_hash_ptr(pod->ns),
                            HNP_HASHMAP_FROM_INDEX(tr->n_groups)) != HNP_OK)
            return HNP_ERR_NOMEM;
        g = (long)tr->n_groups++;
        memset(&tr->groups[g], 0, sizeof(tr->groups[g]));
        tr->groups[g].ns = pod->ns;
    }
    struct ns_group *grp = &tr->groups[g];
    if (grp->count == grp->cap) {
        size_t ncap = grp->cap ? grp->cap * 2 : 8;
        const struct hnp_pod **np = realloc(grp->pods, ncap * sizeof(const struct hnp_pod *));
        if (np == NULL)
            return HNP_ERR_NOMEM;
        grp->pods = np;
        grp->cap = ncap;
    }
    grp->pods[grp->count++] = pod;
    return HNP_OK;
}

static int cmp_ip_entry(const void *a, const void *b)
{
    const struct ip_entry *x = a, *y = b;
    if (x->ip != y->ip)
        return x->ip < y->ip ? -1 : 1;
    return x->order < y->order ? -1 : (x->order > y->order);
}

/* Drop whatever a failed index build left behind. */
static void unindex(struct hnp_translator *tr)
{
    for (size_t i = 0; i < tr->n_groups; i++)
        free(tr->groups[i].pods);
    free(tr->groups);
    tr->groups = NULL;
    tr->n_groups = 0;
    hnp_hashmap_clear(&tr->group_by_ns);
    free(tr->ips);
    tr->ips = NULL;
    tr->n_ips = 0;
}

static enum hnp_err ensure_index(struct hnp_translator *tr)
{
    if (tr->indexed)
        return HNP_OK;
    size_t n = hnp_cluster_pod_count(tr->cluster);
    size_t n_ips = 0, cap_groups = 0;
    for (size_t i = 0; i < n; i++) {
        const struct hnp_pod *pod = hnp_cluster_pod_at(tr->cluster, i);
        if (hnp_pod_is_endpoint(pod))
            n_ips += pod->n_ips;
    }
    if (n_ips > 0) {
        tr->ips = malloc(n_ips * sizeof(*tr->ips));
        if (tr->ips == NULL)
            return HNP_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const struct hnp_pod *pod = hnp_cluster_pod_at(tr->cluster, i);
        if (!hnp_pod_is_endpoint(pod))
            continue;
        if (group_add(tr, pod, &cap_groups) != HNP_OK) {
            unindex(tr);
            return HNP_ERR_NOMEM;
        }
        for (size_t k = 0; k < pod->n_ips; k++)
            tr->ips[tr->n_ips++] = (struct ip_entry){pod->ips[k], i, pod};
    }
    if (tr->n_ips > 1)
        qsort(tr->ips, tr->n_ips, sizeof(*tr->ips), cmp_ip_entry);
    tr->indexed = true;
    return HNP_OK;
}

static const struct hnp_pod *ip_lookup(const struct hnp_translator *tr, uint32_t ip)
{
    size_t lo = 0, hi = tr->n_ips;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tr->ips[mid].ip < ip)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < tr->n_ips && tr->ips[lo].ip == ip ? tr->ips[lo].pod : NULL;
}

const struct hnp_pod *hnp_translator_pod_by_ip(const struct hnp_translator *tr, uint32_t ip)
{
    /*
     * The index is a cache, so building it does not change what the
     * translator means; every translator is allocated non-const by
     * hnp_translator_new, so writing through the cast is well defined.
     */
    struct hnp_translator *mut = (struct hnp_translator *)tr;
    if (ensure_index(mut) == HNP_OK)
        return ip_lookup(tr, ip);
    /* Out of memory for the index: answer the slow way. */
    size_t n = hnp_cluster_pod_count(tr->cluster);
    for (size_t i = 0; i < n; i++) {
        const struct hnp_pod *pod = hnp_cluster_pod_at(tr->cluster, i);
        if (!hnp_pod_is_endpoint(pod))
            continue;
        for (size_t k = 0; k < pod->n_ips; k++)
            if (pod->ips[k] == ip)
                return pod;
    }
    return NULL;
}

/* ---------- namespace selectors ---------- */

static uint64_t selector_hash(const struct hnp_selector *sel)
{
    uint64_t h = hnp_hash_combine(0, sel->n_reqs);
    for (size_t i = 0; i < sel->n_reqs; i++) {
        const struct hnp_requirement *r = &sel->reqs[i];
        h = hnp_hash_combine(h, (uint64_t)(uintptr_t)r->key);
        h = hnp_hash_combine(h, (uint64_t)r->op);
        for (size_t v = 0; v < r->n_values; v++)
            h = hnp_hash_combine(h, (uint64_t)(uintptr_t)r->values[v]);
        h = hnp_hash_combine(h, r->n_values);
    }
    return h;
}

/* Same requirements in the same order (strings are interned: pointers compare). */
static bool selector_equal(const struct hnp_selector *a, const struct hnp_selector *b)
{
    if (a->n_reqs != b->n_reqs)
        return false;
    for (size_t i = 0; i < a->n_reqs; i++) {
        const struct hnp_requirement *x = &a->reqs[i], *y = &b->reqs[i];
        if (x->key != y->key || x->op != y->op || x->n_values != y->n_values)
            return false;
        for (size_t v = 0; v < x->n_values; v++)
            if (x->values[v] != y->values[v])
                return false;
    }
    return true;
}

/* The namespace groups sel matches (borrowed from the cache). */
static enum hnp_err ns_selector_groups(struct hnp_translator *tr, const struct hnp_selector *sel,
                                       const struct sel_entry **out)
{
    uint64_t h = selector_hash(sel);
    size_t pos = HNP_HASHMAP_START;
    void *v;
    while ((v = hnp_hashmap_next(&tr->sel_by_hash, h, &pos)) != NULL) {
        size_t idx = HNP_HASHMAP_TO_INDEX(v);
        if (selector_equal(tr->sels[idx].sel, sel)) {
            *out = &tr->sels[idx];
            return HNP_OK;
        }
    }
    if (tr->n_sels == tr->cap_sels) {
        size_t ncap = tr->cap_sels ? tr->cap_sels * 2 : 16;
        struct sel_entry *ns = realloc(tr->sels, ncap * sizeof(*ns));
        if (ns == NULL)
            return HNP_ERR_NOMEM;
        tr->sels = ns;
        tr->cap_sels = ncap;
    }
    struct sel_entry e = {sel, h, NULL, 0};
    if (tr->n_groups > 0) {
        e.groups = malloc(tr->n_groups * sizeof(*e.groups));
        if (e.groups == NULL)
            return HNP_ERR_NOMEM;
    }
    for (size_t g = 0; g < tr->n_groups; g++) {
        const struct hnp_labels *labels;
        if (hnp_cluster_namespace_labels(tr->cluster, tr->groups[g].ns, &labels) != HNP_OK) {
            free(e.groups);
            return HNP_ERR_NOMEM;
        }
        if (hnp_selector_matches(sel, labels))
            e.groups[e.n_groups++] = g;
    }
    if (hnp_hashmap_put(&tr->sel_by_hash, h, HNP_HASHMAP_FROM_INDEX(tr->n_sels)) != HNP_OK) {
        free(e.groups);
        return HNP_ERR_NOMEM;
    }
    tr->sels[tr->n_sels] = e;
    *out = &tr->sels[tr->n_sels++];
    return HNP_OK;
}

/* ---------- resolving rules ---------- */

static enum hnp_err add_group_pods(struct hnp_rangeset *set, const struct ns_group *grp,
                                   const struct hnp_peer *peer)
{
    for (size_t i = 0; i < grp->count; i++) {
        const struct hnp_pod *pod = grp->pods[i];
        if (peer->has_pod_selector && !hnp_selector_matches(&peer->pod_selector, &pod->labels))
            continue;
        for (size_t k = 0; k < pod->n_ips; k++)
            if (hnp_rangeset_add(set, pod->ips[k], pod->ips[k]) != HNP_OK)
                return HNP_ERR_NOMEM;
    }
    return HNP_OK;
}

static enum hnp_err add_peer(struct hnp_translator *tr, const struct hnp_policy *policy,
                             const struct hnp_peer *peer, struct hnp_rangeset *set)
{
    if (peer->has_ip_block) {
        /*
         * An IPv6 block matches no IPv4 address. `except` never reaches a
         * policy that applies (it is rejected as exceptCIDR); should one
         * arrive anyway, the block is left out: allowing less, never more.
         */
        if (peer->ip_block_ipv6 || peer->n_except > 0)
            return HNP_OK;
        struct hnp_range r = hnp_cidr_range(&peer->cidr);
        return hnp_rangeset_add(set, r.lo, r.hi);
    }
    if (peer->has_ns_selector) {
        const struct sel_entry *e;
        enum hnp_err rc = ns_selector_groups(tr, &peer->ns_selector, &e);
        if (rc != HNP_OK)
            return rc;
        for (size_t i = 0; i < e->n_groups; i++) {
            rc = add_group_pods(set, &tr->groups[e->groups[i]], peer);
            if (rc != HNP_OK)
                return rc;
        }
        return HNP_OK;
    }
    /* podSelector alone: pods of the policy's own namespace only. */
    long g = find_group(tr, policy->ns);
    return g < 0 ? HNP_OK : add_group_pods(set, &tr->groups[g], peer);
}

static enum hnp_err resolve_ports(const struct hnp_rule *rule, struct rule_cache *rc)
{
    if (rule->n_ports == 0) {
        rc->any_port = true;
        return HNP_OK;
    }
    for (size_t k = 0; k < N_PROTOS; k++) {
        struct proto_ports *pp = &rc->ports[k];
        struct hnp_rangeset set;
        hnp_rangeset_init(&set);
        for (size_t i = 0; i < rule->n_ports; i++) {
            const struct hnp_port *p = &rule->ports[i];
            /* Named and SCTP ports reject the policy; they never get here. */
            if (p->protocol != proto_numbers[k] || p->named != NULL)
                continue;
            pp->present = true;
            if (p->port == 0)
                pp->all = true;
            else if (hnp_rangeset_add(&set, p->port,
                                      p->end_port >= p->port ? p->end_port : p->port) != HNP_OK) {
                hnp_rangeset_free(&set);
                return HNP_ERR_NOMEM;
            }
        }
        if (pp->present && !pp->all) {
            hnp_rangeset_normalize(&set);
            pp->ranges = set.items; /* stolen */
            pp->n_ranges = set.count;
        } else {
            hnp_rangeset_free(&set);
        }
    }
    return HNP_OK;
}

static enum hnp_err resolve_rule(struct hnp_translator *tr, const struct hnp_policy *policy,
                                 const struct hnp_rule *rule, struct rule_cache *rc)
{
    enum hnp_err err = HNP_OK;
    if (rule->n_peers == 0) {
        rc->any_addr = true;
    } else {
        struct hnp_rangeset set;
        hnp_rangeset_init(&set);
        for (size_t i = 0; i < rule->n_peers && err == HNP_OK; i++)
            err = add_peer(tr, policy, &rule->peers[i], &set);
        if (err == HNP_OK) {
            hnp_rangeset_normalize(&set);
            err = hnp_rangeset_to_cidrs(&set, &rc->cidrs, &rc->n_cidrs);
        }
        hnp_rangeset_free(&set);
    }
    if (err == HNP_OK)
        err = resolve_ports(rule, rc);
    if (err != HNP_OK) {
        rule_cache_clear(rc);
        return err;
    }
    rc->resolved = true;
    return HNP_OK;
}

/* The cache entry of rule r of the policy at cluster index pi, resolved. */
static enum hnp_err rule_cached(struct hnp_translator *tr, size_t pi, enum hnp_acl_direction dir,
                                size_t r, const struct rule_cache **out)
{
    const struct hnp_policy *policy = hnp_cluster_policy_at(tr->cluster, pi);
    if (tr->pcache == NULL) {
        size_t n = hnp_cluster_policy_count(tr->cluster);
        tr->pcache = calloc(n, sizeof(*tr->pcache));
        if (tr->pcache == NULL)
            return HNP_ERR_NOMEM;
        tr->n_pcache = n;
    }
    struct policy_cache *pc = &tr->pcache[pi];
    struct rule_cache **slot = dir == HNP_ACL_IN ? &pc->in : &pc->out;
    size_t *n_slot = dir == HNP_ACL_IN ? &pc->n_in : &pc->n_out;
    if (*slot == NULL) {
        size_t n_rules = dir == HNP_ACL_IN ? policy->n_ingress : policy->n_egress;
        *slot = calloc(n_rules, sizeof(**slot));
        if (*slot == NULL)
            return HNP_ERR_NOMEM;
        *n_slot = n_rules;
    }
    struct rule_cache *rc = &(*slot)[r];
    if (!rc->resolved) {
        const struct hnp_rule *rule = dir == HNP_ACL_IN ? &policy->ingress[r] : &policy->egress[r];
        enum hnp_err err = resolve_rule(tr, policy, rule, rc);
        if (err != HNP_OK)
            return err;
    }
    *out = rc;
    return HNP_OK;
}

/* ---------- building ACLs ---------- */

/* "hnp-" + the first 12 hex digits of FNV-1a-64("ns/name"). */
static void policy_tag(const struct hnp_policy *policy, char out[17])
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const char *parts[3] = {policy->ns, "/", policy->name};
    for (size_t i = 0; i < 3; i++)
        for (const unsigned char *s = (const unsigned char *)parts[i]; *s != '\0'; s++) {
            h ^= *s;
            h *= 0x100000001b3ULL;
        }
    snprintf(out, 17, "hnp-%012" PRIx64, h >> 16);
}

static size_t chunks_of(size_t n)
{
    return n == 0 ? 1 : (n + HNP_ACL_MAX_LIST - 1) / HNP_ACL_MAX_LIST;
}

/* A fresh owned copy of n items of size sz (NULL for n == 0). */
static enum hnp_err dup_array(void **dst, const void *src, size_t n, size_t sz)
{
    *dst = NULL;
    if (n == 0)
        return HNP_OK;
    *dst = malloc(n * sz);
    if (*dst == NULL)
        return HNP_ERR_NOMEM;
    memcpy(*dst, src, n * sz);
    return HNP_OK;
}

/* Push one Allow of a rule; addrs/ports are chunks (borrowed, copied). */
static enum hnp_err push_rule_acl(struct hnp_acl_list *list, const struct hnp_policy *policy,
                                  const char *tag, enum hnp_acl_direction dir, size_t r,
                                  uint8_t protocol, const char *proto_tag, size_t chunk,
                                  const struct hnp_cidr *addrs, size_t n_addrs,
                                  const struct hnp_range *ports, size_t n_ports)
{
    struct hnp_acl acl;
    memset(&acl, 0, sizeof(acl));
    snprintf(acl.id, sizeof(acl.id), "%s-%s%zu-%s-%zu", tag, dir == HNP_ACL_IN ? "in" : "out", r,
             proto_tag, chunk);
    acl.action = HNP_ACL_ALLOW;
    acl.direction = dir;
    acl.protocol = protocol;
    acl.priority = HNP_PRIORITY_ALLOW;
    acl.origin.kind = HNP_ORIGIN_RULE;
    acl.origin.policy_ns = policy->ns;
    acl.origin.policy_name = policy->name;
    acl.origin.rule_index = (int)r;
    void *a = NULL, *p = NULL;
    if (dup_array(&a, addrs, n_addrs, sizeof(*addrs)) != HNP_OK ||
        dup_array(&p, ports, n_ports, sizeof(*ports)) != HNP_OK) {
        free(a);
        return HNP_ERR_NOMEM;
    }
    acl.remote_addrs = a;
    acl.n_remote_addrs = n_addrs;
    if (dir == HNP_ACL_IN) {
        acl.local_ports = p;
        acl.n_local_ports = n_ports;
    } else {
        acl.remote_ports = p;
        acl.n_remote_ports = n_ports;
    }
    return hnp_acl_list_push(list, &acl);
}

/* Every ACL of one resolved rule, split into chunks of HNP_ACL_MAX_LIST. */
static enum hnp_err push_rule(struct hnp_acl_list *list, const struct hnp_policy *policy,
                              const char *tag, enum hnp_acl_direction dir, size_t r,
                              const struct rule_cache *rc)
{
    if (!rc->any_addr && rc->n_cidrs == 0)
        return HNP_OK; /* peers given, none matched: the rule allows nothing */
    size_t addr_chunks = rc->any_addr ? 1 : chunks_of(rc->n_cidrs);
    for (size_t k = 0; k < (rc->any_port ? 1 : N_PROTOS); k++) {
        const struct proto_ports *pp = &rc->ports[k];
        if (!rc->any_port && !pp->present)
            continue;
        bool port_list = !rc->any_port && !pp->all;
        size_t port_chunks = port_list ? chunks_of(pp->n_ranges) : 1;
        for (size_t a = 0; a < addr_chunks; a++) {
            size_t a0 = a * HNP_ACL_MAX_LIST;
            size_t na = rc->any_addr ? 0 : rc->n_cidrs - a0;
            if (na > HNP_ACL_MAX_LIST)
                na = HNP_ACL_MAX_LIST;
            for (size_t pc = 0; pc < port_chunks; pc++) {
                size_t p0 = pc * HNP_ACL_MAX_LIST;
                size_t np = port_list ? pp->n_ranges - p0 : 0;
                if (np > HNP_ACL_MAX_LIST)
                    np = HNP_ACL_MAX_LIST;
                enum hnp_err err = push_rule_acl(
                    list, policy, tag, dir, r, rc->any_port ? HNP_PROTO_ANY : proto_numbers[k],
                    rc->any_port ? "all" : proto_tags[k], a * port_chunks + pc,
                    rc->any_addr ? NULL : rc->cidrs + a0, na, port_list ? pp->ranges + p0 : NULL,
                    np);
                if (err != HNP_OK)
                    return err;
            }
        }
    }
    return HNP_OK;
}

static enum hnp_err push_simple(struct hnp_acl_list *list, const char *id,
                                enum hnp_acl_action action, enum hnp_acl_direction dir,
                                uint16_t priority, enum hnp_acl_origin_kind kind,
                                const uint32_t *remote)
{
    struct hnp_acl acl;
    memset(&acl, 0, sizeof(acl));
    snprintf(acl.id, sizeof(acl.id), "%s", id);
    acl.action = action;
    acl.direction = dir;
    acl.priority = priority;
    acl.origin.kind = kind;
    acl.origin.rule_index = -1;
    if (remote != NULL) {
        acl.remote_addrs = malloc(sizeof(*acl.remote_addrs));
        if (acl.remote_addrs == NULL)
            return HNP_ERR_NOMEM;
        acl.remote_addrs[0] = (struct hnp_cidr){*remote, 32};
        acl.n_remote_addrs = 1;
    }
    return hnp_acl_list_push(list, &acl);
}

/* ---------- public ---------- */

bool hnp_translator_policy_applies(const struct hnp_translator *tr, const struct hnp_policy *policy)
{
    return !hnp_policy_rejected(policy) || tr->opts.unsupported == HNP_UNSUPPORTED_ISOLATE;
}

static bool selects(const struct hnp_translator *tr, const struct hnp_policy *policy,
                    const struct hnp_pod *pod)
{
    /* Namespaces are interned in the cluster's table; strcmp covers a foreign pod. */
    return (policy->ns == pod->ns || strcmp(policy->ns, pod->ns) == 0) &&
           hnp_translator_policy_applies(tr, policy) &&
           hnp_selector_matches(&policy->pod_selector, &pod->labels);
}

enum hnp_err hnp_translator_selecting(struct hnp_translator *tr, const struct hnp_pod *pod,
                                      const struct hnp_policy ***out, size_t *count)
{
    size_t n = hnp_cluster_policy_count(tr->cluster), found = 0;
    const struct hnp_policy **arr = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct hnp_policy *policy = hnp_cluster_policy_at(tr->cluster, i);
        if (!selects(tr, policy, pod))
            continue;
        if (arr == NULL) {
            arr = malloc((n - i) * sizeof(const struct hnp_policy *));
            if (arr == NULL)
                return HNP_ERR_NOMEM;
        }
        arr[found++] = policy;
    }
    *out = arr;
    *count = found;
    return HNP_OK;
}

static enum hnp_err translate_into(struct hnp_translator *tr, const struct hnp_pod *pod,
                                   struct hnp_acl_list *list)
{
    enum hnp_err err = ensure_index(tr);
    if (err != HNP_OK)
        return err;
    size_t n = hnp_cluster_policy_count(tr->cluster);
    bool selected = false, iso_in = false, iso_out = false;
    for (size_t i = 0; i < n; i++) {
        const struct hnp_policy *policy = hnp_cluster_policy_at(tr->cluster, i);
        if (!selects(tr, policy, pod))
            continue;
        selected = true;
        iso_in = iso_in || policy->isolates_ingress;
        iso_out = iso_out || policy->isolates_egress;
        if (hnp_policy_rejected(policy))
            continue; /* ISOLATE mode: isolation only, no Allow */
        char tag[17];
        policy_tag(policy, tag);
        /* Rules of a direction the policy does not isolate have no effect. */
        for (size_t r = 0; policy->isolates_ingress && r < policy->n_ingress; r++) {
            const struct rule_cache *rc;
            if ((err = rule_cached(tr, i, HNP_ACL_IN, r, &rc)) != HNP_OK ||
                (err = push_rule(list, policy, tag, HNP_ACL_IN, r, rc)) != HNP_OK)
                return err;
        }
        for (size_t r = 0; policy->isolates_egress && r < policy->n_egress; r++) {
            const struct rule_cache *rc;
            if ((err = rule_cached(tr, i, HNP_ACL_OUT, r, &rc)) != HNP_OK ||
                (err = push_rule(list, policy, tag, HNP_ACL_OUT, r, rc)) != HNP_OK)
                return err;
        }
    }
    if (!selected)
        return HNP_OK;

    const uint32_t *node = tr->opts.has_node_ip ? &tr->opts.node_ip
                           : pod->has_host_ip   ? &pod->host_ip
                                                : NULL;
    if (node != NULL && (err = push_simple(list, "hnp-node-in", HNP_ACL_ALLOW, HNP_ACL_IN,
                                           HNP_PRIORITY_NODE, HNP_ORIGIN_NODE, node)) != HNP_OK)
        return err;
    err = iso_in ? push_simple(list, "hnp-isolate-in", HNP_ACL_BLOCK, HNP_ACL_IN,
                               HNP_PRIORITY_DEFAULT, HNP_ORIGIN_ISOLATION, NULL)
                 : push_simple(list, "hnp-open-in", HNP_ACL_ALLOW, HNP_ACL_IN, HNP_PRIORITY_DEFAULT,
                               HNP_ORIGIN_OPEN, NULL);
    if (err != HNP_OK)
        return err;
    err = iso_out ? push_simple(list, "hnp-isolate-out", HNP_ACL_BLOCK, HNP_ACL_OUT,
                                HNP_PRIORITY_DEFAULT, HNP_ORIGIN_ISOLATION, NULL)
                  : push_simple(list, "hnp-open-out", HNP_ACL_ALLOW, HNP_ACL_OUT,
                                HNP_PRIORITY_DEFAULT, HNP_ORIGIN_OPEN, NULL);
    if (err != HNP_OK)
        return err;
    hnp_acl_list_sort(list);
    return HNP_OK;
}

enum hnp_err hnp_translator_pod(struct hnp_translator *tr, const struct hnp_pod *pod,
                                struct hnp_acl_list *out, struct hnp_error *err)
{
    if (!hnp_pod_is_endpoint(pod))
        return HNP_OK; /* hostNetwork, finished or without IP: nothing to enforce */

    /* Build apart, then move: a failure leaves out as it was. */
    struct hnp_acl_list tmp;
    hnp_acl_list_init(&tmp);
    enum hnp_err rc = translate_into(tr, pod, &tmp);
    size_t base = out->count, moved = 0;
    for (; rc == HNP_OK && moved < tmp.count; moved++)
        rc = hnp_acl_list_push(out, &tmp.items[moved]);
    if (rc != HNP_OK) {
        for (size_t i = base; i < out->count; i++)
            hnp_acl_clear(&out->items[i]);
        out->count = base;
        /* Items not moved yet still own their arrays; moved ones were zeroed. */
        hnp_acl_list_free(&tmp);
        return hnp_error_set(err, rc, NULL, "translating pod %s/%s: %s", pod->ns, pod->name,
                             hnp_strerror(rc));
    }
    hnp_acl_list_free(&tmp);
    return HNP_OK;
}
