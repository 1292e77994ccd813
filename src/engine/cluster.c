/*
 * cluster.c - the engine's cluster state: namespaces, pods and policies
 * keyed by name, sharing one string table (see cluster.h).
 *
 * Each kind of object lives in a table made of two parts:
 *   - an ordered array of (sequence number, object) in insertion order,
 *     which is what iteration walks. Sequence numbers only grow, so the array
 *     is sorted by them and an object's place is found by binary search;
 *   - an open-addressing hash index from (ns, name) to (sequence, object).
 *     Keys are the interned pointers themselves: two names are equal exactly
 *     when their interned pointers are, so hashing and comparing never touch
 *     the characters. A lookup with strings from outside first asks the
 *     string table for the interned copy; a string never interned names no
 *     object.
 * Replacing an object swaps the pointer in place (it keeps its place);
 * deleting memmoves the rest of the array down (order kept). Bulk loading is
 * amortised O(1) per object.
 *
 * Namespaces that have no object still have labels (the API server always
 * sets kubernetes.io/metadata.name); those synthesized maps are cached per
 * name in a further index and dropped when a real Namespace is put.
 */
#include "hnsnetpol/cluster.h"

#include <stdlib.h>
#include <string.h>

/* One hash slot; obj == NULL marks an empty slot. */
struct slot {
    const char *ns; /* interned; NULL for cluster-scoped objects */
    const char *name;
    void *obj;
    uint64_t seq;
};

/* Open addressing with linear probing and backward-shift deletion. */
struct index {
    struct slot *slots;
    size_t nslots; /* power of two, or 0 before the first insert */
    size_t count;
};

struct entry {
    uint64_t seq;
    void *obj;
};

struct table {
    struct index idx;
    struct entry *items; /* insertion order, sorted by seq */
    size_t count;
    size_t cap;
    uint64_t next_seq;
    void (*free_obj)(void *obj);
};

struct hnp_cluster {
    struct hnp_strtab *tab;
    struct table namespaces;
    struct table pods;
    struct table policies;
    struct index ns_label_cache; /* interned name -> struct hnp_labels * (no object) */
    const char *name_label_key;  /* interned HNP_NAMESPACE_NAME_LABEL */
    uint64_t generation;
};

static uint64_t hash_key(const char *ns, const char *name)
{
    /* Mix the two pointers (splitmix64 finaliser): their low bits are alike. */
    uint64_t h = (uint64_t)(uintptr_t)ns * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)name;
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBULL;
    h ^= h >> 31;
    return h;
}

/* The slot holding (ns, name), or NULL. */
static struct slot *index_find(const struct index *idx, const char *ns, const char *name)
{
    if (idx->nslots == 0)
        return NULL;
    size_t mask = idx->nslots - 1;
    size_t j = (size_t)hash_key(ns, name) & mask;
    for (;;) {
        struct slot *s = &idx->slots[j];
        if (s->obj == NULL)
            return NULL;
        if (s->ns == ns && s->name == name)
            return s;
        j = (j + 1) & mask;
    }
}

/* Place a slot whose key is known to be absent; the index has room. */
static void index_place(struct slot *slots, size_t nslots, const struct slot *s)
{
    size_t mask = nslots - 1;
    size_t j = (size_t)hash_key(s->ns, s->name) & mask;
    while (slots[j].obj != NULL)
        j = (j + 1) & mask;
    slots[j] = *s;
}

/* Make room for one more key (load factor at most 3/4). -1 when out of memory. */
static int index_reserve(struct index *idx)
{
    if ((idx->count + 1) * 4 <= idx->nslots * 3)
        return 0;
    size_t nslots = idx->nslots ? idx->nslots * 2 : 64;
    struct slot *slots = calloc(nslots, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < idx->nslots; i++) {
        if (idx->slots[i].obj != NULL)
            index_place(slots, nslots, &idx->slots[i]);
    }
    free(idx->slots);
    idx->slots = slots;
    idx->nslots = nslots;
    return 0;
}

/* Remove the slot s (from index_find), shifting later probes back. */
static void index_remove(struct index *idx, struct slot *s)
{
    size_t mask = idx->nslots - 1;
    size_t hole = (size_t)(s - idx->slots);
    size_t j = hole;
    for (;;) {
        j = (j + 1) & mask;
        struct slot *cur = &idx->slots[j];
        if (cur->obj == NULL)
            break;
        size_t home = (size_t)hash_key(cur->ns, cur->name) & mask;
        /* cur may move to hole when its home is not cyclically in (hole, j]. */
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            idx->slots[hole] = *cur;
            hole = j;
        }
    }
    memset(&idx->slots[hole], 0, sizeof(idx->slots[hole]));
    idx->count--;
}

static void index_free(struct index *idx)
{
    free(idx->slots);
    idx->slots = NULL;
    idx->nslots = 0;
    idx->count = 0;
}

/* Position of seq in the ordered array (it is there). */
static size_t table_position(const struct table *t, uint64_t seq)
{
    size_t lo = 0, hi = t->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->items[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Insert or replace obj under (ns, name). obj is stolen, also on failure. */
static enum hnp_err table_put(struct table *t, const char *ns, const char *name, void *obj)
{
    struct slot *s = index_find(&t->idx, ns, name);
    if (s != NULL) {
        if (s->obj == obj)
            return HNP_OK; /* the very same object again: nothing to replace */
        size_t pos = table_position(t, s->seq);
        t->free_obj(s->obj);
        s->obj = obj;
        t->items[pos].obj = obj;
        return HNP_OK;
    }
    if (t->count == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        struct entry *items = realloc(t->items, ncap * sizeof(*items));
        if (items == NULL) {
            t->free_obj(obj);
            return HNP_ERR_NOMEM;
        }
        t->items = items;
        t->cap = ncap;
    }
    if (index_reserve(&t->idx) != 0) {
        t->free_obj(obj);
        return HNP_ERR_NOMEM;
    }
    struct slot fresh = {.ns = ns, .name = name, .obj = obj, .seq = t->next_seq++};
    index_place(t->idx.slots, t->idx.nslots, &fresh);
    t->idx.count++;
    t->items[t->count].seq = fresh.seq;
    t->items[t->count].obj = obj;
    t->count++;
    return HNP_OK;
}

static bool table_delete(struct table *t, const char *ns, const char *name)
{
    struct slot *s = index_find(&t->idx, ns, name);
    if (s == NULL)
        return false;
    size_t pos = table_position(t, s->seq);
    void *obj = s->obj;
    index_remove(&t->idx, s);
    memmove(&t->items[pos], &t->items[pos + 1], (t->count - pos - 1) * sizeof(t->items[0]));
    t->count--;
    t->free_obj(obj);
    return true;
}

static void *table_get(const struct table *t, const char *ns, const char *name)
{
    const struct slot *s = index_find(&t->idx, ns, name);
    return s != NULL ? s->obj : NULL;
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->count; i++)
        t->free_obj(t->items[i].obj);
    free(t->items);
    t->items = NULL;
    t->count = t->cap = 0;
    index_free(&t->idx);
}

static void free_namespace(void *obj)
{
    hnp_namespace_free(obj);
}

static void free_pod(void *obj)
{
    hnp_pod_free(obj);
}

static void free_policy(void *obj)
{
    hnp_policy_free(obj);
}

static void free_cached_labels(void *obj)
{
    struct hnp_labels *labels = obj;
    hnp_labels_free(labels);
    free(labels);
}

/* Drop the synthesized labels of namespace name (interned), if cached. */
static void drop_cached_labels(struct hnp_cluster *cluster, const char *name)
{
    struct slot *s = index_find(&cluster->ns_label_cache, NULL, name);
    if (s == NULL)
        return;
    void *labels = s->obj;
    index_remove(&cluster->ns_label_cache, s);
    free_cached_labels(labels);
}

struct hnp_cluster *hnp_cluster_new(void)
{
    struct hnp_cluster *cluster = calloc(1, sizeof(*cluster));
    if (cluster == NULL)
        return NULL;
    cluster->tab = hnp_strtab_new();
    if (cluster->tab == NULL) {
        free(cluster);
        return NULL;
    }
    cluster->name_label_key = hnp_strtab_intern(cluster->tab, HNP_NAMESPACE_NAME_LABEL);
    if (cluster->name_label_key == NULL) {
        hnp_strtab_free(cluster->tab);
        free(cluster);
        return NULL;
    }
    cluster->namespaces.free_obj = free_namespace;
    cluster->pods.free_obj = free_pod;
    cluster->policies.free_obj = free_policy;
    return cluster;
}

void hnp_cluster_free(struct hnp_cluster *cluster)
{
    if (cluster == NULL)
        return;
    table_free(&cluster->namespaces);
    table_free(&cluster->pods);
    table_free(&cluster->policies);
    struct index *cache = &cluster->ns_label_cache;
    for (size_t i = 0; i < cache->nslots; i++) {
        if (cache->slots[i].obj != NULL)
            free_cached_labels(cache->slots[i].obj);
    }
    index_free(cache);
    hnp_strtab_free(cluster->tab);
    free(cluster);
}

struct hnp_strtab *hnp_cluster_strtab(struct hnp_cluster *cluster)
{
    return cluster->tab;
}

enum hnp_err hnp_cluster_put_namespace(struct hnp_cluster *cluster, struct hnp_namespace *ns)
{
    const char *name = ns->name;
    enum hnp_err rc = table_put(&cluster->namespaces, NULL, name, ns);
    if (rc != HNP_OK)
        return rc;
    drop_cached_labels(cluster, name);
    cluster->generation++;
    return HNP_OK;
}

enum hnp_err hnp_cluster_put_pod(struct hnp_cluster *cluster, struct hnp_pod *pod)
{
    enum hnp_err rc = table_put(&cluster->pods, pod->ns, pod->name, pod);
    if (rc == HNP_OK)
        cluster->generation++;
    return rc;
}

enum hnp_err hnp_cluster_put_policy(struct hnp_cluster *cluster, struct hnp_policy *policy)
{
    enum hnp_err rc = table_put(&cluster->policies, policy->ns, policy->name, policy);
    if (rc == HNP_OK)
        cluster->generation++;
    return rc;
}

/*
 * The interned copies of ns and name; false when either was never interned
 * (then no object has that key). ns may be NULL.
 */
static bool find_key(const struct hnp_cluster *cluster, const char *ns, const char *name,
                     const char **ins, const char **iname)
{
    *ins = NULL;
    if (ns != NULL && (*ins = hnp_strtab_find(cluster->tab, ns)) == NULL)
        return false;
    *iname = name != NULL ? hnp_strtab_find(cluster->tab, name) : NULL;
    return *iname != NULL;
}

/* Delete the object (ns, name) from t; ns is NULL for a namespace. */
static bool delete_object(struct hnp_cluster *cluster, struct table *t, const char *ns,
                          const char *name)
{
    const char *ins, *iname;
    if (!find_key(cluster, ns, name, &ins, &iname) || !table_delete(t, ins, iname))
        return false;
    cluster->generation++;
    return true;
}

bool hnp_cluster_delete_namespace(struct hnp_cluster *cluster, const char *name)
{
    return delete_object(cluster, &cluster->namespaces, NULL, name);
}

bool hnp_cluster_delete_pod(struct hnp_cluster *cluster, const char *ns, const char *name)
{
    return delete_object(cluster, &cluster->pods, ns, name);
}

bool hnp_cluster_delete_policy(struct hnp_cluster *cluster, const char *ns, const char *name)
{
    return delete_object(cluster, &cluster->policies, ns, name);
}

const struct hnp_namespace *hnp_cluster_namespace(const struct hnp_cluster *cluster,
                                                  const char *name)
{
    const char *ins, *iname;
    if (!find_key(cluster, NULL, name, &ins, &iname))
        return NULL;
    return table_get(&cluster->namespaces, NULL, iname);
}

const struct hnp_pod *hnp_cluster_pod(const struct hnp_cluster *cluster, const char *ns,
                                      const char *name)
{
    const char *ins, *iname;
    if (ns == NULL || !find_key(cluster, ns, name, &ins, &iname))
        return NULL;
    return table_get(&cluster->pods, ins, iname);
}

const struct hnp_policy *hnp_cluster_policy(const struct hnp_cluster *cluster, const char *ns,
                                            const char *name)
{
    const char *ins, *iname;
    if (ns == NULL || !find_key(cluster, ns, name, &ins, &iname))
        return NULL;
    return table_get(&cluster->policies, ins, iname);
}

enum hnp_err hnp_cluster_namespace_labels(struct hnp_cluster *cluster, const char *name,
                                          const struct hnp_labels **out)
{
    /*
     * Fast path for the usual caller, who passes an interned name (a pod's
     * ns): keys are interned pointers, so a hit by pointer is a real hit.
     */
    const struct hnp_namespace *ns = table_get(&cluster->namespaces, NULL, name);
    if (ns != NULL) {
        *out = &ns->labels;
        return HNP_OK;
    }
    struct slot *s = index_find(&cluster->ns_label_cache, NULL, name);
    if (s != NULL) {
        *out = s->obj;
        return HNP_OK;
    }

    const char *iname = hnp_strtab_intern(cluster->tab, name);
    if (iname == NULL)
        return HNP_ERR_NOMEM;
    if (iname != name) {
        if ((ns = table_get(&cluster->namespaces, NULL, iname)) != NULL) {
            *out = &ns->labels;
            return HNP_OK;
        }
        if ((s = index_find(&cluster->ns_label_cache, NULL, iname)) != NULL) {
            *out = s->obj;
            return HNP_OK;
        }
    }

    struct hnp_labels *labels = calloc(1, sizeof(*labels));
    if (labels == NULL)
        return HNP_ERR_NOMEM;
    if (hnp_labels_set(labels, cluster->name_label_key, iname) != HNP_OK ||
        index_reserve(&cluster->ns_label_cache) != 0) {
        free_cached_labels(labels);
        return HNP_ERR_NOMEM;
    }
    struct slot fresh = {.ns = NULL, .name = iname, .obj = labels, .seq = 0};
    index_place(cluster->ns_label_cache.slots, cluster->ns_label_cache.nslots, &fresh);
    cluster->ns_label_cache.count++;
    *out = labels;
    return HNP_OK;
}

size_t hnp_cluster_namespace_count(const struct hnp_cluster *cluster)
{
    return cluster->namespaces.count;
}

const struct hnp_namespace *hnp_cluster_namespace_at(const struct hnp_cluster *cluster, size_t i)
{
    return i < cluster->namespaces.count ? cluster->namespaces.items[i].obj : NULL;
}

size_t hnp_cluster_pod_count(const struct hnp_cluster *cluster)
{
    return cluster->pods.count;
}

const struct hnp_pod *hnp_cluster_pod_at(const struct hnp_cluster *cluster, size_t i)
{
    return i < cluster->pods.count ? cluster->pods.items[i].obj : NULL;
}

size_t hnp_cluster_policy_count(const struct hnp_cluster *cluster)
{
    return cluster->policies.count;
}

const struct hnp_policy *hnp_cluster_policy_at(const struct hnp_cluster *cluster, size_t i)
{
    return i < cluster->policies.count ? cluster->policies.items[i].obj : NULL;
}

uint64_t hnp_cluster_generation(const struct hnp_cluster *cluster)
{
    return cluster->generation;
}

enum hnp_err hnp_cluster_add_object(struct hnp_cluster *cluster, enum hnp_kind kind,
                                    const json_t *obj, const struct hnp_source *src,
                                    struct hnp_error *err)
{
    if (obj == NULL || !json_is_object(obj))
        return hnp_error_set(err, HNP_ERR_SCHEMA, "", "the object must be a JSON object");
    enum hnp_err rc;
    switch (kind) {
    case HNP_KIND_NAMESPACE: {
        struct hnp_namespace *ns;
        rc = hnp_namespace_from_json(obj, cluster->tab, src, &ns, err);
        if (rc == HNP_OK)
            rc = hnp_cluster_put_namespace(cluster, ns);
        break;
    }
    case HNP_KIND_POD: {
        struct hnp_pod *pod;
        rc = hnp_pod_from_json(obj, cluster->tab, src, &pod, err);
        if (rc == HNP_OK)
            rc = hnp_cluster_put_pod(cluster, pod);
        break;
    }
    case HNP_KIND_POLICY: {
        struct hnp_policy *policy;
        rc = hnp_policy_from_json(obj, cluster->tab, src, &policy, err);
        if (rc == HNP_OK)
            rc = hnp_cluster_put_policy(cluster, policy);
        break;
    }
    default:
        return hnp_error_set(err, HNP_ERR_INVALID, NULL, "unknown kind %d", (int)kind);
    }
    if (rc == HNP_ERR_NOMEM)
        return hnp_error_set(err, rc, NULL, "out of memory");
    return rc;
}

enum hnp_err hnp_cluster_add_json(struct hnp_cluster *cluster, const json_t *obj,
                                  const struct hnp_source *src, bool *kept, struct hnp_error *err)
{
    if (kept != NULL)
        *kept = false;
    if (obj == NULL || !json_is_object(obj))
        return hnp_error_set(err, HNP_ERR_SCHEMA, "", "the object must be a JSON object");
    const json_t *kind_json = json_object_get(obj, "kind");
    if (kind_json == NULL || json_is_null(kind_json))
        return hnp_error_set(err, HNP_ERR_SCHEMA, "kind", "is required");
    if (!json_is_string(kind_json))
        return hnp_error_set(err, HNP_ERR_SCHEMA, "kind", "must be a string");
    enum hnp_kind kind;
    if (!hnp_kind_from_name(json_string_value(kind_json), &kind))
        return HNP_OK;
    enum hnp_err rc = hnp_cluster_add_object(cluster, kind, obj, src, err);
    if (rc == HNP_OK && kept != NULL)
        *kept = true;
    return rc;
}
