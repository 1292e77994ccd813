/*
 * labels.c - label maps and label selector matching.
 *
 * A label map is a small array sorted by key. Keys and values are interned
 * in the cluster's string table, so lookups compare pointers: translation of
 * a large cluster asks for a pod's labels millions of times and typical maps
 * hold 2-10 labels, where a linear pointer scan beats any search. Larger maps
 * are binary-searched by strcmp (for interned strings strcmp == 0 exactly
 * when the pointers are equal).
 *
 * Selector parsing lives in policy.c; this file only frees and evaluates
 * the parsed form.
 */
#include "hnsnetpol/labels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Up to this many entries a pointer scan is used instead of a binary search. */
#define LINEAR_SCAN_MAX 16

void hnp_labels_free(struct hnp_labels *labels)
{
    if (labels == NULL)
        return;
    free(labels->items);
    labels->items = NULL;
    labels->count = 0;
}

/*
 * Index of key in the sorted map, or where it would be inserted (with
 * *found false).
 */
static size_t find_slot(const struct hnp_labels *labels, const char *key, bool *found)
{
    size_t lo = 0, hi = labels->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *k = labels->items[mid].key;
        int c = k == key ? 0 : strcmp(k, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

const char *hnp_labels_get(const struct hnp_labels *labels, const char *key)
{
    if (labels == NULL || key == NULL)
        return NULL;
    size_t n = labels->count;
    const struct hnp_label *items = labels->items;
    if (n <= LINEAR_SCAN_MAX) {
        for (size_t i = 0; i < n; i++) {
            if (items[i].key == key)
                return items[i].value;
        }
        return NULL;
    }
    bool found;
    size_t i = find_slot(labels, key, &found);
    return found ? items[i].value : NULL;
}

enum hnp_err hnp_labels_set(struct hnp_labels *labels, const char *key, const char *value)
{
    bool found;
    size_t i = find_slot(labels, key, &found);
    if (found) {
        labels->items[i].value = value;
        return HNP_OK;
    }
    struct hnp_label *items = realloc(labels->items, (labels->count + 1) * sizeof(*items));
    if (items == NULL)
        return HNP_ERR_NOMEM;
    memmove(items + i + 1, items + i, (labels->count - i) * sizeof(*items));
    items[i].key = key;
    items[i].value = value;
    labels->items = items;
    labels->count++;
    return HNP_OK;
}

static int compare_labels(const void *a, const void *b)
{
    const struct hnp_label *la = a, *lb = b;
    return strcmp(la->key, lb->key);
}

/* "<path>.<key>" into buf, or just key when path is empty. */
static void member_path(char *buf, size_t size, const char *path, const char *key)
{
    if (path == NULL || path[0] == '\0')
        snprintf(buf, size, "%s", key);
    else
        snprintf(buf, size, "%s.%s", path, key);
}

enum hnp_err hnp_labels_from_json(const json_t *json, struct hnp_strtab *tab, const char *path,
                                  struct hnp_labels *out, struct hnp_error *err)
{
    if (json == NULL || json_is_null(json)) {
        out->items = NULL;
        out->count = 0;
        return HNP_OK;
    }
    if (!json_is_object(json))
        return hnp_error_set(err, HNP_ERR_SCHEMA, path, "must be an object");

    size_t n = json_object_size(json);
    if (n == 0) {
        out->items = NULL;
        out->count = 0;
        return HNP_OK;
    }
    struct hnp_label *items = malloc(n * sizeof(*items));
    if (items == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory");

    char where[512];
    size_t count = 0;
    const char *key;
    json_t *value;
    /* json_object_foreach takes a non-const object but does not modify it. */
    json_object_foreach((json_t *)json, key, value)
    {
        if (!json_is_string(value)) {
            member_path(where, sizeof(where), path, key);
            free(items);
            return hnp_error_set(err, HNP_ERR_SCHEMA, where, "must be a string");
        }
        const char *text = json_string_value(value);
        size_t len = json_string_length(value);
        if (memchr(text, '\0', len) != NULL) {
            member_path(where, sizeof(where), path, key);
            free(items);
            return hnp_error_set(err, HNP_ERR_SCHEMA, where, "must not contain a NUL character");
        }
        const char *ikey = hnp_strtab_intern(tab, key);
        const char *ivalue = hnp_strtab_intern_len(tab, text, len);
        if (ikey == NULL || ivalue == NULL) {
            free(items);
            return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory");
        }
        items[count].key = ikey;
        items[count].value = ivalue;
        count++;
    }
    /* JSON object keys are unique (jansson keeps the last duplicate). */
    if (count > 1)
        qsort(items, count, sizeof(*items), compare_labels);
    out->items = items;
    out->count = count;
    return HNP_OK;
}

void hnp_selector_free(struct hnp_selector *sel)
{
    if (sel == NULL)
        return;
    for (size_t i = 0; i < sel->n_reqs; i++)
        free(sel->reqs[i].values);
    free(sel->reqs);
    sel->reqs = NULL;
    sel->n_reqs = 0;
}

/* Is value (interned) one of the requirement's values? */
static bool has_value(const struct hnp_requirement *req, const char *value)
{
    size_t n = req->n_values;
    if (n <= LINEAR_SCAN_MAX) {
        for (size_t i = 0; i < n; i++) {
            if (req->values[i] == value)
                return true;
        }
        return false;
    }
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *v = req->values[mid];
        int c = v == value ? 0 : strcmp(v, value);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static bool requirement_matches(const struct hnp_requirement *req, const struct hnp_labels *labels)
{
    const char *value = hnp_labels_get(labels, req->key);
    switch (req->op) {
    case HNP_OP_IN:
        return value != NULL && has_value(req, value);
    case HNP_OP_NOT_IN:
        return value == NULL || !has_value(req, value);
    case HNP_OP_EXISTS:
        return value != NULL;
    case HNP_OP_DOES_NOT_EXIST:
        return value == NULL;
    }
    return false;
}

/*
 * sel NULL behaves as the empty selector (matches everything); labels NULL
 * as the empty map.
 */
bool hnp_selector_matches(const struct hnp_selector *sel, const struct hnp_labels *labels)
{
    if (sel == NULL)
        return true;
    for (size_t i = 0; i < sel->n_reqs; i++) {
        if (!requirement_matches(&sel->reqs[i], labels))
            return false;
    }
    return true;
}

bool hnp_selector_is_negative(const struct hnp_selector *sel)
{
    if (sel == NULL)
        return false;
    for (size_t i = 0; i < sel->n_reqs; i++) {
        if (sel->reqs[i].op == HNP_OP_NOT_IN || sel->reqs[i].op == HNP_OP_DOES_NOT_EXIST)
            return true;
    }
    return false;
}
