/*
 * strtab.c - a set of strings (the project's hash map: hash -> string),
 * the strings stored in arena chunks.
 *
 * Strings are never removed: the set of label keys and values in a cluster is
 * small compared with the number of objects that use them, and an agent that
 * runs for months sees mostly the same ones again. Chunked storage keeps
 * every returned pointer stable while the table grows.
 */
#include "hnsnetpol/strtab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"

#define CHUNK_BYTES 65536
#define INITIAL_STRINGS 128 /* room before the first growth */

struct chunk {
    struct chunk *next;
    size_t used;
    size_t size;
    char data[];
};

struct hnp_strtab {
    struct hnp_hashmap map; /* hnp_hash_bytes(string) -> its interned copy */
    size_t bytes;
    struct chunk *chunks;
};

struct hnp_strtab *hnp_strtab_new(void)
{
    struct hnp_strtab *tab = calloc(1, sizeof(*tab));
    if (tab == NULL)
        return NULL;
    if (hnp_hashmap_reserve(&tab->map, INITIAL_STRINGS) != HNP_OK) {
        free(tab);
        return NULL;
    }
    return tab;
}

void hnp_strtab_free(struct hnp_strtab *tab)
{
    if (tab == NULL)
        return;
    struct chunk *c = tab->chunks;
    while (c != NULL) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
    hnp_hashmap_clear(&tab->map);
    free(tab);
}

static char *arena_alloc(struct hnp_strtab *tab, size_t n)
{
    struct chunk *c = tab->chunks;
    if (c == NULL || c->size - c->used < n) {
        size_t size = n > CHUNK_BYTES ? n : CHUNK_BYTES;
        c = malloc(sizeof(*c) + size);
        if (c == NULL)
            return NULL;
        c->size = size;
        c->used = 0;
        c->next = tab->chunks;
        tab->chunks = c;
    }
    char *p = c->data + c->used;
    c->used += n;
    return p;
}

/* The interned copy of the len bytes at s (no NUL among them), or NULL. */
static const char *lookup(const struct hnp_strtab *tab, uint64_t hash, const char *s, size_t len)
{
    size_t pos = HNP_HASHMAP_START;
    const char *cur;
    /* strncmp stops at cur's NUL, so a shorter stored string is never read past. */
    while ((cur = hnp_hashmap_next(&tab->map, hash, &pos)) != NULL) {
        if (strncmp(cur, s, len) == 0 && cur[len] == '\0')
            return cur;
    }
    return NULL;
}

const char *hnp_strtab_intern_len(struct hnp_strtab *tab, const char *s, size_t len)
{
    if (memchr(s, '\0', len) != NULL)
        return NULL;
    uint64_t hash = hnp_hash_bytes(s, len);
    const char *found = lookup(tab, hash, s, len);
    if (found != NULL)
        return found;
    /* Room first, so a failure leaves nothing half added. */
    if (hnp_hashmap_reserve(&tab->map, tab->map.count + 1) != HNP_OK)
        return NULL;
    char *copy = arena_alloc(tab, len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    if (hnp_hashmap_put(&tab->map, hash, copy) != HNP_OK)
        return NULL; /* not reached: the room was reserved */
    tab->bytes += len + 1;
    return copy;
}

const char *hnp_strtab_intern(struct hnp_strtab *tab, const char *s)
{
    return hnp_strtab_intern_len(tab, s, strlen(s));
}

const char *hnp_strtab_find(const struct hnp_strtab *tab, const char *s)
{
    size_t len = strlen(s);
    return lookup(tab, hnp_hash_bytes(s, len), s, len);
}

size_t hnp_strtab_count(const struct hnp_strtab *tab)
{
    return tab->map.count;
}

size_t hnp_strtab_bytes(const struct hnp_strtab *tab)
{
    return tab->bytes;
}
