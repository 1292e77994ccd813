/*
 * fastpoll.h - listing the HNS endpoints early while a new pod waits for
 * its endpoint.
 *
 * The CNI creates a pod's endpoint before the kubelet reports the pod's IP,
 * so when a pod of this node owns an IP that no listed endpoint is bound to,
 * its endpoint is most likely there already, unlisted. Such a pod, when
 * first seen, makes the controller list the endpoints at once, then every
 * HNP_FASTPOLL_EVERY_MS after the previous list returned, for
 * HNP_FASTPOLL_WINDOW_MS after the last such pod was first seen, instead of
 * leaving the new pod unprotected for up to a whole poll interval. With no
 * such pod the normal interval applies. Part of the controller: no clock,
 * the time comes in.
 */
#ifndef HNP_FASTPOLL_H
#define HNP_FASTPOLL_H

#include <stdbool.h>
#include <stddef.h>

#include "endpoints.h"
#include "hnsnetpol/cluster.h"

/* The fast interval (the normal one when that is shorter) ... */
#define HNP_FASTPOLL_EVERY_MS 200
/* ... until this long after the last unbound pod was first seen. */
#define HNP_FASTPOLL_WINDOW_MS 10000

struct hnp_fastpoll_pod;

struct hnp_fastpoll {
    struct hnp_fastpoll_pod *unbound; /* the pods seen unbound at the last check; owned */
    size_t count, cap;
    bool active;     /* listing fast ... */
    long long until; /* ... until then */
    long every_ms;   /* the fast interval */
};

/* Initialise f (caller-owned storage): nothing unbound, fast interval every_ms. */
void hnp_fastpoll_init(struct hnp_fastpoll *f, long every_ms);

/* Free what f holds. */
void hnp_fastpoll_clear(struct hnp_fastpoll *f);

/*
 * After a batch or a list, with every endpoint of eps compared (bound): find
 * the pods of node (its name) in cluster that own an IP (hnp_pod_is_endpoint)
 * and have no endpoint bound to them. Returns the time of the next list:
 * now when such a pod is new (a list in flight, list_in_flight, goes first:
 * the caller waits for it), last_list_end + the fast interval while the
 * window lasts and that is earlier than next_poll, else next_poll
 * unchanged. Logs (debug) when fast polling starts and ends. All borrowed
 * (cluster is not const only because its string table is looked up).
 */
long long hnp_fastpoll_check(struct hnp_fastpoll *f, struct hnp_cluster *cluster, const char *node,
                             const struct hnp_endpoints *eps, long long now,
                             long long last_list_end, long long next_poll, bool list_in_flight);

#endif /* HNP_FASTPOLL_H */
