/*
 * fastpoll.c - the pods of this node waiting for their endpoint, and the
 * early lists they cause (fastpoll.h).
 */
#include "fastpoll.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/objects.h"
#include "hnsnetpol/strtab.h"
#include "log.h"

/* A pod of this node without a bound endpoint (strings interned in the cluster's table). */
struct hnp_fastpoll_pod {
    const char *ns, *name, *uid;
    bool seen; /* still unbound at this check */
};

void hnp_fastpoll_init(struct hnp_fastpoll *f, long every_ms)
{
    memset(f, 0, sizeof(*f));
    f->every_ms = every_ms;
}

void hnp_fastpoll_clear(struct hnp_fastpoll *f)
{
    free(f->unbound);
    f->unbound = NULL;
    f->count = f->cap = 0;
    f->active = false;
}

/* Is some endpoint bound to pod (as hnp_endpoint_compare last bound it)? */
static bool pod_has_endpoint(const struct hnp_endpoints *eps, const struct hnp_pod *pod)
{
    for (size_t i = 0; i < eps->count; i++) {
        const struct hnp_endpoint *ep = eps->items[i];
        if (ep->pod_ns == pod->ns && ep->pod_name == pod->name && ep->pod_uid == pod->uid)
            return true;
    }
    return false;
}

/* Mark pod as still unbound; true when it was not there (newly seen). */
static bool note_unbound(struct hnp_fastpoll *f, const struct hnp_pod *pod)
{
    for (size_t i = 0; i < f->count; i++) {
        struct hnp_fastpoll_pod *u = &f->unbound[i];
        if (u->ns == pod->ns && u->name == pod->name && u->uid == pod->uid) {
            u->seen = true;
            return false;
        }
    }
    if (f->count == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        struct hnp_fastpoll_pod *grown = realloc(f->unbound, cap * sizeof(*grown));
        if (grown == NULL)
            return false; /* out of memory: no early list, the normal poll finds it */
        f->unbound = grown;
        f->cap = cap;
    }
    f->unbound[f->count++] =
        (struct hnp_fastpoll_pod){.ns = pod->ns, .name = pod->name, .uid = pod->uid, .seen = true};
    return true;
}

long long hnp_fastpoll_check(struct hnp_fastpoll *f, struct hnp_cluster *cluster,
                             const char *node_name, const struct hnp_endpoints *eps, long long now,
                             long long last_list_end, long long next_poll, bool list_in_flight)
{
    for (size_t i = 0; i < f->count; i++)
        f->unbound[i].seen = false;
    /* pod->node is interned in the cluster's table: a node never interned has no pod. */
    const char *node = hnp_strtab_find(hnp_cluster_strtab(cluster), node_name);
    size_t n_pods = node != NULL ? hnp_cluster_pod_count(cluster) : 0;
    bool early = false;
    for (size_t i = 0; i < n_pods; i++) {
        const struct hnp_pod *pod = hnp_cluster_pod_at(cluster, i);
        if (pod->node != node || !hnp_pod_is_endpoint(pod) || pod_has_endpoint(eps, pod))
            continue;
        if (!note_unbound(f, pod))
            continue;
        early = true;
        f->active = true;
        f->until = now + HNP_FASTPOLL_WINDOW_MS;
        char name[300], ips[80], every[32], window[32];
        snprintf(name, sizeof(name), "%s/%s", pod->ns, pod->name);
        hnp_format_ips(pod->ips, pod->n_ips, ips, sizeof(ips));
        snprintf(every, sizeof(every), "%ldms", f->every_ms);
        snprintf(window, sizeof(window), "%dms", HNP_FASTPOLL_WINDOW_MS);
        hnp_log(HNP_LOG_DEBUG,
                "pod of this node has no HNS endpoint yet; listing the endpoints early", "pod",
                name, "ip", ips, "list_in_flight", list_in_flight ? "yes" : "no", "then_every",
                every, "for", window, NULL);
    }
    size_t kept = 0;
    for (size_t i = 0; i < f->count; i++) {
        if (f->unbound[i].seen)
            f->unbound[kept++] = f->unbound[i];
    }
    f->count = kept;

    if (!f->active)
        return next_poll;
    if (kept == 0) {
        f->active = false;
        hnp_log(HNP_LOG_DEBUG, "every pod of this node has its endpoint; normal poll interval",
                NULL);
    } else if (now >= f->until) {
        char n[32];
        snprintf(n, sizeof(n), "%zu", kept);
        f->active = false;
        hnp_log(HNP_LOG_DEBUG,
                "pods of this node still without an HNS endpoint; back to the normal poll interval",
                "pods", n, NULL);
    } else if (early) {
        return now; /* the controller waits for a list in flight */
    } else if (last_list_end + f->every_ms < next_poll) {
        return last_list_end + f->every_ms;
    }
    return next_poll;
}
