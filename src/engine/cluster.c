/*
 * cluster.c - the engine's cluster state: namespaces, pods and policies
 * keyed by name, sharing one string table (see cluster.h).
 *
 * Each kind of object lives in a table made of three parts:
 *   - records {ns, name, obj, seq}, one per object, allocated in chunks and
 *     recycled through a free list (no allocation per object; a record
 *     never moves, so pointers to it stay valid);
 *   - an ordered array of record pointers in insertion order, which is what
 *     iteration walks. Sequence numbers only grow, so the array is sorted by
 *     them and a record's place is found by binary search;
 *   - the project's hash map (hashmap.h) from the hash of (ns, name) to the
 *     record. Keys are the interned pointers themselves: two names are equal
 *     exactly when their interned pointers are, so hashing and comparing
 *     never touch the characters. A lookup with strings from outside first
 *     asks the string table for the interned copy; a string never interned
 *     names no object.
 * Replacing an object swaps the pointer in its record (it keeps its place);
 * deleting memmoves the rest of the array down (order kept). Bulk loading is
 * amortised O(1) per object.
 *
 * Namespaces that have no object still have labels (the API server always
 * sets kubernetes.io/metadata.name); those synthesized maps are cached per
 * name in a further hash map (interned name -> labels) and dropped when a
 * real Namespace is put.
 */
#include "hnsnetpol/cluster.h"

#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

/* One object of a table; on the free list, next_free links it. */
struct record {
    const char *ns; /* interned; NULL for cluster-scoped objects */
    const char *name;
    union {
        void *obj;
        struct record *next_free;
    } u;
    uint64_t seq;
};

/* A block of records; blocks grow from FIRST_CHUNK to MAX_CHUNK records. */
struct chunk {
    struct chunk *next;
    size_t n;
    struct record recs[];
};

#define FIRST_CHUNK 16
#define MAX_CHUNK 4096

struct table {
    struct hnp_hashmap map; /* key_hash(ns, name) -> struct record * */
    struct record **items;  /* insertion order, sorted by seq */
    size_t count;
    size_t cap;
    struct chunk *chunks;
    struct record *free_list;
    size_t next_chunk; /* records in the next chunk */
    uint64_t next_seq;
    void (*free_obj)(void *obj);
};

struct hnp_cluster {
    struct hnp_strtab *tab;
    struct table namespaces;
    struct table pods;
    struct table policies;
    struct hnp_hashmap ns_label_cache; /* hnp_hash_ptr(interned name) -> struct hnp_labels * */
    const char *name_label_key;        /* interned HNP_NAMESPACE_NAME_LABEL */
    uint64_t generation;
};

/*
 * The hash of a key. A cluster-scoped key (ns NULL: a namespace) hashes as
 * its name's pointer alone, which is also the key of the label cache, so
 * hnp_cluster_namespace_labels hashes once for both. hnp_hash_combine mixes
 * its second argument fully, so the name's pointer needs no mixing of its own.
 */
static uint64_t key_hash(const char *ns, const char *name)
{
    if (ns == NULL)
        return hnp_hash_ptr(name);
    return hnp_hash_combine(hnp_hash_ptr(ns), (uint64_t)(uintptr_t)name);
}

/* The record holding (ns, name), whose key_hash is h, or NULL. */
static struct record *table_find_hashed(const struct table *t, uint64_t h, const char *ns,
                                        const char *name)
{
    size_t pos = HNP_HASHMAP_START;
    struct record *r;
    while ((r = hnp_hashmap_next(&t->map, h, &pos)) != NULL) {
        if (r->ns == ns && r->name == name)
            return r;
    }
    return NULL;
}

/* The record holding (ns, name), or NULL. */
static struct record *table_find(const struct table *t, const char *ns, const char *name)
{
    if (t->map.count == 0)
        return NULL; /* no hashing for an empty table */
    return table_find_hashed(t, key_hash(ns, name), ns, name);
}

/* A record from the free list, adding a chunk when it is empty; NULL when out of memory. */
static struct record *record_take(struct table *t)
{
    if (t->free_list == NULL) {
        size_t n = t->next_chunk ? t->next_chunk : FIRST_CHUNK;
        struct chunk *c = malloc(sizeof(*c) + n * sizeof(c->recs[0]));
        if (c == NULL)
            return NULL;
        c->n = n;
        c->next = t->chunks;
        t->chunks = c;
        for (size_t i = n; i-- > 0;) {
            c->recs[i].u.next_free = t->free_list;
            t->free_list = &c->recs[i];
        }
        t->next_chunk = n < MAX_CHUNK ? n * 2 : MAX_CHUNK;
    }
    struct record *r = t->free_list;
    t->free_list = r->u.next_free;
    return r;
}

static void record_give_back(struct table *t, struct record *r)
{
    r->ns = r->name = NULL;
    r->u.next_free = t->free_list;
    t->free_list = r;
}

/* Position of seq in the ordered array (it is there). */
static size_t table_position(const struct table *t, uint64_t seq)
{
    size_t lo = 0, hi = t->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->items[mid]->seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Insert or replace obj under (ns, name). obj is stolen, also on failure.
 * On failure the table's contents are unchanged.
 */
static enum hnp_err table_put(struct table *t, const char *ns, const char *name, void *obj)
{
    struct record *r = table_find(t, ns, name);
    if (r != NULL) {
        if (r->u.obj == obj)
            return HNP_OK; /* the very same object again: nothing to replace */
        t->free_obj(r->u.obj);
        r->u.obj = obj;
        return HNP_OK;
    }
    if (t->count == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        struct record **items = realloc(t->items, ncap * sizeof(*items));
        if (items == NULL) {
            t->free_obj(obj);
            return HNP_ERR_NOMEM;
        }
        t->items = items;
        t->cap = ncap;
    }
    /* Room first, so that the put below cannot fail. */
    if (hnp_hashmap_reserve(&t->map, t->map.count + 1) != HNP_OK || (r = record_take(t)) == NULL) {
        t->free_obj(obj);
        return HNP_ERR_NOMEM;
    }
    r->ns = ns;
    r->name = name;
    r->u.obj = obj;
    r->seq = t->next_seq++;
    (void)hnp_hashmap_put(&t->map, key_hash(ns, name), r);
    t->items[t->count++] = r;
    return HNP_OK;
}

static bool table_delete(struct table *t, const char *ns, const char *name)
{
    struct record *r = table_find(t, ns, name);
    if (r == NULL)
        return false;
    size_t pos = table_position(t, r->seq);
    void *obj = r->u.obj;
    hnp_hashmap_remove(&t->map, key_hash(ns, name), r);
    memmove(&t->items[pos], &t->items[pos + 1], (t->count - pos - 1) * sizeof(t->items[0]));
    t->count--;
    record_give_back(t, r);
    t->free_obj(obj);
    return true;
}

static void *table_get(const struct table *t, const char *ns, const char *name)
{
    const struct record *r = table_find(t, ns, name);
    return r != NULL ? r->u.obj : NULL;
}

static void table_free(struct table *t)
{
    for (size_t i = 0; i < t->count; i++)
        t->free_obj(t->items[i]->u.obj);
    free(t->items);
    t->items = NULL;
    t->count = t->cap = 0;
    while (t->chunks != NULL) {
        struct chunk *next = t->chunks->next;
        free(t->chunks);
        t->chunks = next;
    }
    t->free_list = NULL;
    t->next_chunk = 0;
    hnp_hashmap_clear(&t->map);
}

/*
 * The synthesized labels cached for the namespace whose interned name has
 * hash h = hnp_hash_ptr(name), or NULL. hnp_hash_ptr is a bijection: a
 * value under h is the name's.
 */
static struct hnp_labels *cached_labels(const struct hnp_cluster *cluster, uint64_t h)
{
    size_t pos = HNP_HASHMAP_START;
    return hnp_hashmap_next(&cluster->ns_label_cache, h, &pos);
}

/*
 * The labels of namespace name (interned or not: an interned pointer is
 * the only one that can hit), from its object or the cache; NULL when
 * neither has them.
 */
static const struct hnp_labels *known_labels(const struct hnp_cluster *cluster, const char *name)
{
    uint64_t h = hnp_hash_ptr(name);
    if (cluster->namespaces.map.count > 0) {
        const struct record *r = table_find_hashed(&cluster->namespaces, h, NULL, name);
        if (r != NULL)
            return &((const struct hnp_namespace *)r->u.obj)->labels;
    }
    return cluster->ns_label_cache.count > 0 ? cached_labels(cluster, h) : NULL;
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
    uint64_t h = hnp_hash_ptr(name);
    struct hnp_labels *labels = cached_labels(cluster, h);
    if (labels == NULL)
        return;
    hnp_hashmap_remove(&cluster->ns_label_cache, h, labels);
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
    struct hnp_hashmap *cache = &cluster->ns_label_cache;
    for (size_t i = 0; i < cache->cap; i++) {
        if (cache->slots[i].value != NULL)
            free_cached_labels(cache->slots[i].value);
    }
    hnp_hashmap_clear(cache);
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
    const struct hnp_labels *known = known_labels(cluster, name);
    if (known != NULL) {
        *out = known;
        return HNP_OK;
    }

    const char *iname = hnp_strtab_intern(cluster->tab, name);
    if (iname == NULL)
        return HNP_ERR_NOMEM;
    if (iname != name && (known = known_labels(cluster, iname)) != NULL) {
        *out = known;
        return HNP_OK;
    }

    struct hnp_labels *labels = calloc(1, sizeof(*labels));
    if (labels == NULL)
        return HNP_ERR_NOMEM;
    if (hnp_labels_set(labels, cluster->name_label_key, iname) != HNP_OK ||
        hnp_hashmap_put(&cluster->ns_label_cache, hnp_hash_ptr(iname), labels) != HNP_OK) {
        free_cached_labels(labels);
        return HNP_ERR_NOMEM;
    }
    *out = labels;
    return HNP_OK;
}

size_t hnp_cluster_namespace_count(const struct hnp_cluster *cluster)
{
    return cluster->namespaces.count;
}

const struct hnp_namespace *hnp_cluster_namespace_at(const struct hnp_cluster *cluster, size_t i)
{
    return i < cluster->namespaces.count ? cluster->namespaces.items[i]->u.obj : NULL;
}

size_t hnp_cluster_pod_count(const struct hnp_cluster *cluster)
{
    return cluster->pods.count;
}

const struct hnp_pod *hnp_cluster_pod_at(const struct hnp_cluster *cluster, size_t i)
{
    return i < cluster->pods.count ? cluster->pods.items[i]->u.obj : NULL;
}

size_t hnp_cluster_policy_count(const struct hnp_cluster *cluster)
{
    return cluster->policies.count;
}

const struct hnp_policy *hnp_cluster_policy_at(const struct hnp_cluster *cluster, size_t i)
{
    return i < cluster->policies.count ? cluster->policies.items[i]->u.obj : NULL;
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
