/*
 * cluster.h - the engine's view of the cluster: namespaces, pods and
 * policies keyed by name, sharing one string table.
 *
 * The cluster owns every object put into it. Offline commands fill it from
 * files; the agent keeps it up to date from watch events. Replacing or
 * deleting an object frees the old one, so borrowed pointers to it die then.
 */
#ifndef HNP_CLUSTER_H
#define HNP_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hnsnetpol/error.h"
#include "hnsnetpol/objects.h"
#include "hnsnetpol/policy.h"
#include "hnsnetpol/strtab.h"

struct hnp_cluster;

/* New empty cluster, NULL when out of memory. */
struct hnp_cluster *hnp_cluster_new(void);
/* Frees the cluster, its objects and its string table. Accepts NULL. */
void hnp_cluster_free(struct hnp_cluster *cluster);

/* The table every object of this cluster must be interned in (borrowed). */
struct hnp_strtab *hnp_cluster_strtab(struct hnp_cluster *cluster);

/*
 * Insert or replace (same name, same ns/name) an object. The object is
 * stolen, also on failure (then freed). Returns HNP_ERR_NOMEM only.
 */
enum hnp_err hnp_cluster_put_namespace(struct hnp_cluster *cluster, struct hnp_namespace *ns);
enum hnp_err hnp_cluster_put_pod(struct hnp_cluster *cluster, struct hnp_pod *pod);
enum hnp_err hnp_cluster_put_policy(struct hnp_cluster *cluster, struct hnp_policy *policy);

/* Remove and free; false when there was no such object. */
bool hnp_cluster_delete_namespace(struct hnp_cluster *cluster, const char *name);
bool hnp_cluster_delete_pod(struct hnp_cluster *cluster, const char *ns, const char *name);
bool hnp_cluster_delete_policy(struct hnp_cluster *cluster, const char *ns, const char *name);

/* Borrowed lookups; NULL when absent. Strings need not be interned. */
const struct hnp_namespace *hnp_cluster_namespace(const struct hnp_cluster *cluster,
                                                  const char *name);
const struct hnp_pod *hnp_cluster_pod(const struct hnp_cluster *cluster, const char *ns,
                                      const char *name);
const struct hnp_policy *hnp_cluster_policy(const struct hnp_cluster *cluster, const char *ns,
                                            const char *name);

/*
 * Labels of namespace `name` into *out. A namespace the cluster has no
 * object for still has the label kubernetes.io/metadata.name=<name> (the API
 * server guarantees it), so its pods can be selected by name: such labels
 * are made once and cached in the cluster. *out is borrowed, valid until
 * the next change to the cluster. HNP_ERR_NOMEM when those labels cannot be
 * made (*out untouched: no labels would silently change what selectors
 * match).
 */
enum hnp_err hnp_cluster_namespace_labels(struct hnp_cluster *cluster, const char *name,
                                          const struct hnp_labels **out);

/*
 * Iteration in insertion order (a replaced object keeps its place; a
 * deletion keeps the order of the rest), so the same input gives the same
 * order. Index i in [0, count). Borrowed; valid until the next change.
 */
size_t hnp_cluster_namespace_count(const struct hnp_cluster *cluster);
const struct hnp_namespace *hnp_cluster_namespace_at(const struct hnp_cluster *cluster, size_t i);
size_t hnp_cluster_pod_count(const struct hnp_cluster *cluster);
const struct hnp_pod *hnp_cluster_pod_at(const struct hnp_cluster *cluster, size_t i);
size_t hnp_cluster_policy_count(const struct hnp_cluster *cluster);
const struct hnp_policy *hnp_cluster_policy_at(const struct hnp_cluster *cluster, size_t i);

/* Increases with every put or delete: lets caches know they are stale. */
uint64_t hnp_cluster_generation(const struct hnp_cluster *cluster);

/*
 * Convert a Kubernetes object of the given kind and put it into the cluster
 * (its "kind" member is not looked at). obj is borrowed. HNP_ERR_SCHEMA for
 * a malformed object (err says where), HNP_ERR_NOMEM, HNP_ERR_INVALID for a
 * kind out of range; the cluster is unchanged on failure.
 */
enum hnp_err hnp_cluster_add_object(struct hnp_cluster *cluster, enum hnp_kind kind,
                                    const json_t *obj, const struct hnp_source *src,
                                    struct hnp_error *err);

/*
 * The same for an object that names its kind in a "kind" string (a
 * manifest file): Namespace, Pod and NetworkPolicy are converted, other
 * kinds are ignored (HNP_OK, *kept false). HNP_ERR_SCHEMA when "kind" is
 * missing or not a string. kept (may be NULL) tells whether the object was
 * taken.
 */
enum hnp_err hnp_cluster_add_json(struct hnp_cluster *cluster, const json_t *obj,
                                  const struct hnp_source *src, bool *kept, struct hnp_error *err);

#endif /* HNP_CLUSTER_H */
