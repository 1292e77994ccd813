/*
 * hashmap.h - the one hash table of the project: open addressing with
 * linear probing, mapping a 64-bit hash to a caller's value.
 *
 * The table stores (hash, value) pairs and never looks at keys: a lookup
 * returns every value stored under a hash and the caller compares its own
 * keys (a string, a pod's namespace and name, a pointer). Equal hashes may
 * be stored any number of times. Values are borrowed: the table never frees
 * them. A value is any non-NULL pointer; to store an array index i, store
 * HNP_HASHMAP_FROM_INDEX(i) and read it back with HNP_HASHMAP_TO_INDEX().
 *
 * Private to the project; every layer sees it through the engine library.
 */
#ifndef HNP_HASHMAP_H
#define HNP_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hnsnetpol/error.h"

struct hnp_hashmap_slot {
    uint64_t hash;
    void *value; /* NULL = empty slot */
};

struct hnp_hashmap {
    struct hnp_hashmap_slot *slots;
    size_t cap;   /* power of two, or 0 before the first insertion */
    size_t count; /* values stored */
};

/* An empty table; a zeroed struct is one too. */
#define HNP_HASHMAP_INIT                                                                           \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* An array index as a value, and back. */
#define HNP_HASHMAP_FROM_INDEX(i) ((void *)((uintptr_t)(i) + 1))
#define HNP_HASHMAP_TO_INDEX(v) ((size_t)((uintptr_t)(v)-1))

/* Where hnp_hashmap_next() starts. */
#define HNP_HASHMAP_START ((size_t)-1)

/* Free the slots (not the values) and leave an empty table. */
void hnp_hashmap_clear(struct hnp_hashmap *m);

/* Forget every value but keep the slots, for a table that is filled again. */
void hnp_hashmap_reset(struct hnp_hashmap *m);

/*
 * Make room for n values in all without growing again. HNP_ERR_NOMEM leaves
 * the table as it was.
 */
enum hnp_err hnp_hashmap_reserve(struct hnp_hashmap *m, size_t n);

/*
 * Store value (not NULL) under hash; the same hash may hold several values.
 * HNP_ERR_NOMEM leaves the table as it was.
 */
enum hnp_err hnp_hashmap_put(struct hnp_hashmap *m, uint64_t hash, void *value);

/*
 * The values stored under hash, one a call: start with *pos =
 * HNP_HASHMAP_START; each call returns the next value or NULL when there is
 * none. Do not insert or remove while iterating.
 */
void *hnp_hashmap_next(const struct hnp_hashmap *m, uint64_t hash, size_t *pos);

/* Remove value stored under hash; false when it is not there. */
bool hnp_hashmap_remove(struct hnp_hashmap *m, uint64_t hash, const void *value);

/* Hashes: FNV-1a of bytes (short keys, no adversary that gains from collisions). */
uint64_t hnp_hash_bytes(const void *bytes, size_t len);
uint64_t hnp_hash_str(const char *s);
/*
 * A pointer's bits spread over the low bits the table indexes with. A
 * bijection: two pointers have the same hash only when they are equal, so a
 * table keyed by pointers needs no further comparison.
 */
uint64_t hnp_hash_ptr(const void *p);
/* Mix v into h (for keys of several parts). */
uint64_t hnp_hash_combine(uint64_t h, uint64_t v);

#endif /* HNP_HASHMAP_H */
