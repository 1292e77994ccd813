/*
 * strtab.c - open-addressing hash set of strings, stored in arena chunks.
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

#define CHUNK_BYTES 65536

struct chunk {
    struct chunk *next;
    size_t used;
    size_t size;
    char data[];
};

struct hnp_strtab {
    const char **slots; /* NULL = empty */
    size_t nslots;      /* power of two */
    size_t count;
    size_t bytes;
    struct chunk *chunks;
};

static uint64_t hash_bytes(const char *s, size_t len)
{
    /* FNV-1a: short keys, no adversary that gains anything from collisions. */
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

struct hnp_strtab *hnp_strtab_new(void)
{
    struct hnp_strtab *tab = calloc(1, sizeof(*tab));
    if (tab == NULL)
        return NULL;
    tab->nslots = 256;
    tab->slots = calloc(tab->nslots, sizeof(*tab->slots));
    if (tab->slots == NULL) {
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
    free(tab->slots);
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

static int grow(struct hnp_strtab *tab)
{
    size_t nslots = tab->nslots * 2;
    const char **slots = calloc(nslots, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < tab->nslots; i++) {
        const char *s = tab->slots[i];
        if (s == NULL)
            continue;
        size_t j = (size_t)hash_bytes(s, strlen(s)) & (nslots - 1);
        while (slots[j] != NULL)
            j = (j + 1) & (nslots - 1);
        slots[j] = s;
    }
    free(tab->slots);
    tab->slots = slots;
    tab->nslots = nslots;
    return 0;
}

static size_t probe(const struct hnp_strtab *tab, const char *s, size_t len)
{
    size_t j = (size_t)hash_bytes(s, len) & (tab->nslots - 1);
    for (;;) {
        const char *cur = tab->slots[j];
        if (cur == NULL || (strncmp(cur, s, len) == 0 && cur[len] == '\0'))
            return j;
        j = (j + 1) & (tab->nslots - 1);
    }
}

const char *hnp_strtab_intern_len(struct hnp_strtab *tab, const char *s, size_t len)
{
    if (memchr(s, '\0', len) != NULL)
        return NULL;
    size_t j = probe(tab, s, len);
    if (tab->slots[j] != NULL)
        return tab->slots[j];
    if ((tab->count + 1) * 4 > tab->nslots * 3) {
        if (grow(tab) != 0)
            return NULL;
        j = probe(tab, s, len);
    }
    char *copy = arena_alloc(tab, len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    tab->slots[j] = copy;
    tab->count++;
    tab->bytes += len + 1;
    return copy;
}

const char *hnp_strtab_intern(struct hnp_strtab *tab, const char *s)
{
    return hnp_strtab_intern_len(tab, s, strlen(s));
}

const char *hnp_strtab_find(const struct hnp_strtab *tab, const char *s)
{
    return tab->slots[probe(tab, s, strlen(s))];
}

size_t hnp_strtab_count(const struct hnp_strtab *tab)
{
    return tab->count;
}

size_t hnp_strtab_bytes(const struct hnp_strtab *tab)
{
    return tab->bytes;
}
