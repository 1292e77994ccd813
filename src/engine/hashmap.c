/*
 * hashmap.c - open addressing, linear probing, backward-shift deletion
 * (hashmap.h). The table keeps its load at or under three quarters: the
 * string table holds tens of thousands of strings, and 16-byte slots at a
 * lower load cost more memory than the probes they save.
 */
#include "hashmap.h"

#include <stdlib.h>
#include <string.h>

#define MIN_CAP 16

void hnp_hashmap_clear(struct hnp_hashmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
}

void hnp_hashmap_reset(struct hnp_hashmap *m)
{
    if (m->count > 0)
        memset(m->slots, 0, m->cap * sizeof(*m->slots));
    m->count = 0;
}

static void place(struct hnp_hashmap_slot *slots, size_t cap, uint64_t hash, void *value)
{
    size_t j = (size_t)hash & (cap - 1);
    while (slots[j].value != NULL)
        j = (j + 1) & (cap - 1);
    slots[j].hash = hash;
    slots[j].value = value;
}

enum hnp_err hnp_hashmap_reserve(struct hnp_hashmap *m, size_t n)
{
    size_t cap = m->cap ? m->cap : MIN_CAP;
    while (n > cap / 4 * 3) {
        if (cap > SIZE_MAX / 2 / sizeof(*m->slots))
            return HNP_ERR_NOMEM;
        cap *= 2;
    }
    if (cap == m->cap)
        return HNP_OK;
    struct hnp_hashmap_slot *slots = calloc(cap, sizeof(*slots));
    if (slots == NULL)
        return HNP_ERR_NOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].value != NULL)
            place(slots, cap, m->slots[i].hash, m->slots[i].value);
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return HNP_OK;
}

enum hnp_err hnp_hashmap_put(struct hnp_hashmap *m, uint64_t hash, void *value)
{
    if (value == NULL)
        return HNP_ERR_INVALID;
    enum hnp_err rc = hnp_hashmap_reserve(m, m->count + 1);
    if (rc != HNP_OK)
        return rc;
    place(m->slots, m->cap, hash, value);
    m->count++;
    return HNP_OK;
}

void *hnp_hashmap_next(const struct hnp_hashmap *m, uint64_t hash, size_t *pos)
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1;
    size_t j = *pos == HNP_HASHMAP_START ? (size_t)hash & mask : (*pos + 1) & mask;
    for (; m->slots[j].value != NULL; j = (j + 1) & mask) {
        if (m->slots[j].hash == hash) {
            *pos = j;
            return m->slots[j].value;
        }
    }
    return NULL;
}

bool hnp_hashmap_remove(struct hnp_hashmap *m, uint64_t hash, const void *value)
{
    size_t pos = HNP_HASHMAP_START;
    void *found;
    while ((found = hnp_hashmap_next(m, hash, &pos)) != NULL && found != value)
        ;
    if (found == NULL)
        return false;
    /*
     * Backward shift: move later members of the probe run into the hole
     * when their home slot is not between the hole and them, so no lookup
     * ever stops early at an empty slot.
     */
    size_t mask = m->cap - 1, hole = pos;
    for (size_t j = (hole + 1) & mask; m->slots[j].value != NULL; j = (j + 1) & mask) {
        size_t home = (size_t)m->slots[j].hash & mask;
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (stays)
            continue;
        m->slots[hole] = m->slots[j];
        hole = j;
    }
    m->slots[hole].value = NULL;
    m->slots[hole].hash = 0;
    m->count--;
    return true;
}

uint64_t hnp_hash_bytes(const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

uint64_t hnp_hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t mix64(uint64_t x)
{
    /* splitmix64's finalizer */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t hnp_hash_ptr(const void *p)
{
    return mix64((uint64_t)(uintptr_t)p);
}

uint64_t hnp_hash_combine(uint64_t h, uint64_t v)
{
    return mix64(h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)));
}
