/*
 * strtab.h - string interning.
 *
 * Label keys and values, namespace names, node names and file names repeat
 * across tens of thousands of pods; each distinct string is stored once and
 * compared by pointer. Two strings interned in the same table are equal if
 * and only if their pointers are equal.
 */
#ifndef HNP_STRTAB_H
#define HNP_STRTAB_H

#include <stddef.h>

struct hnp_strtab;

/* New empty table, or NULL when out of memory. Free with hnp_strtab_free(). */
struct hnp_strtab *hnp_strtab_new(void);

/* Free the table and every string interned in it. Accepts NULL. */
void hnp_strtab_free(struct hnp_strtab *tab);

/*
 * Intern the len bytes at s (need not be NUL-terminated; may contain no NUL).
 * Returns a borrowed, NUL-terminated pointer that lives as long as the table,
 * or NULL when out of memory.
 */
const char *hnp_strtab_intern_len(struct hnp_strtab *tab, const char *s, size_t len);

/* hnp_strtab_intern_len() for a NUL-terminated string. */
const char *hnp_strtab_intern(struct hnp_strtab *tab, const char *s);

/*
 * The interned copy of s if s was interned before, else NULL. Never adds.
 * Useful to look up a key: a key never interned matches no label.
 */
const char *hnp_strtab_find(const struct hnp_strtab *tab, const char *s);

/* Number of distinct strings and bytes held (for metrics and benchmarks). */
size_t hnp_strtab_count(const struct hnp_strtab *tab);
size_t hnp_strtab_bytes(const struct hnp_strtab *tab);

#endif /* HNP_STRTAB_H */
