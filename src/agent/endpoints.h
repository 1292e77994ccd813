/*
 * endpoints.h - the controller's table of the local HNS endpoints: what it
 * knows of each (IPs, Policies HNS last reported, the pod it is bound to)
 * and what it plans for it (the pending Update, retry and repeat backoff).
 *
 * Endpoints keep the order they were added in (the controller's fair round
 * over them walks that order) and are found by id, ignoring case as HNS
 * does, through the project's hash map (hashmap.h). The table owns the
 * endpoints; the strings of the bound pod are interned in the cluster's
 * table and only borrowed here. hnp_endpoint_compare() decides what one
 * endpoint should be sent.
 */
#ifndef HNP_ENDPOINTS_H
#define HNP_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hashmap.h"
#include "hns.h"
#include "hnsnetpol/translate.h"

/* One local HNS endpoint as the controller knows it. */
struct hnp_endpoint {
    char *id; /* as HNS spells it; compared ignoring case */
    uint32_t ips[HNP_HNS_MAX_IPS];
    size_t n_ips;
    json_t *policies; /* the Policies HNS last reported, or what we last sent */
    size_t n_ours;    /* our ACLs among them (metric) */
    /* The bound pod (strings interned in the cluster's table), or NULL. */
    const char *pod_ns, *pod_name, *pod_uid;
    json_t *pending;     /* the Update to send, or NULL when in sync */
    size_t pending_acls; /* how many ACLs of ours pending carries */
    bool dirty;          /* compare at the next pass */
    bool refresh;        /* re-read it (query) before the next Update: a call failed */
    long backoff_ms;
    long long retry_at; /* monotonic ms before which no call is made for it */
    /*
     * The Policies of the last successful Update, and how many Updates in a
     * row sent exactly those: something keeps undoing them (drift, or an
     * HNS that does not report back what it was given). Such repeats back
     * off, so a disagreement cannot turn into a call every poll.
     */
    json_t *last_sent;
    unsigned repeats;
    long long repeat_at; /* monotonic ms before which that same Update is not sent again */
    bool listed;         /* scratch: seen in the list being taken in */
};

struct hnp_endpoints {
    struct hnp_endpoint **items; /* owned, in the order they were added */
    size_t count, cap;
    struct hnp_hashmap by_id; /* hash of the lower-cased id -> endpoint */
};

/* An empty table (a zeroed struct is one too). */
void hnp_endpoints_init(struct hnp_endpoints *t);

/* Free every endpoint and the table's storage; t is empty and reusable afterwards. */
void hnp_endpoints_clear(struct hnp_endpoints *t);

/* The endpoint with this id, ignoring case (borrowed), or NULL. */
struct hnp_endpoint *hnp_endpoints_find(const struct hnp_endpoints *t, const char *id);

/*
 * Add a new endpoint with this id (copied), no IPs, an empty Policies array
 * and marked dirty, at the end of the order. Borrowed pointer; NULL when out
 * of memory (the table is unchanged). The caller makes sure the id is new.
 */
struct hnp_endpoint *hnp_endpoints_add(struct hnp_endpoints *t, const char *id);

/*
 * Remove ep (which must be in t) and free it. Returns the index it had in
 * the order; the ones after it move down by one.
 */
size_t hnp_endpoints_remove(struct hnp_endpoints *t, struct hnp_endpoint *ep);

/*
 * Compare ep with what it should carry: bind it to the pod of node (the
 * node name) that owns one of its IPs in tr's cluster (logged when the
 * binding changes), count our ACLs among its Policies (ep->n_ours), and set
 * ep->pending to the Update that makes it right - its foreign policies first
 * and unchanged, then the desired ACLs (ep->pending_acls of them) - or NULL
 * when it is right or not ours to touch (unbound, or the pod's ACLs cannot
 * be computed: logged). Clears ep->dirty; sets it again when out of memory
 * (compare later).
 */
void hnp_endpoint_compare(struct hnp_endpoint *ep, struct hnp_translator *tr, const char *node);

/* "ns/name" of the bound pod into out (len bytes), "" when unbound. */
void hnp_endpoint_format_pod(const struct hnp_endpoint *ep, char *out, size_t len);

/* "10.0.0.5,10.0.0.6" into out (len bytes); as many as fit. */
void hnp_format_ips(const uint32_t *ips, size_t n, char *out, size_t len);

#endif /* HNP_ENDPOINTS_H */
