/*
 * labels.h - label maps and label selectors (metav1.LabelSelector).
 *
 * All strings are interned in the owning cluster's struct hnp_strtab, so a
 * key or value comparison is a pointer comparison. A selector's keys and
 * values must be interned in the same table as the labels it is matched
 * against.
 */
#ifndef HNP_LABELS_H
#define HNP_LABELS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "hnsnetpol/error.h"
#include "hnsnetpol/strtab.h"

struct hnp_label {
    const char *key;   /* interned */
    const char *value; /* interned */
};

/* A label map, sorted by strcmp(key), keys unique. Owns `items`. */
struct hnp_labels {
    struct hnp_label *items;
    size_t count;
};

/* Free the items array (not the strings, which the strtab owns). Accepts NULL. */
void hnp_labels_free(struct hnp_labels *labels);

/*
 * The value of key (interned in the same table) or NULL when absent.
 */
const char *hnp_labels_get(const struct hnp_labels *labels, const char *key);

/*
 * Parse a JSON object of string -> string (metadata.labels, matchLabels) into
 * *out, interning into tab. json may be NULL or JSON null (empty map).
 * path names the field for error messages ("metadata.labels").
 * Returns HNP_ERR_SCHEMA (err->where = path of the bad member) when json is
 * not an object or a value is not a string; *out is untouched on failure.
 */
enum hnp_err hnp_labels_from_json(const json_t *json, struct hnp_strtab *tab, const char *path,
                                  struct hnp_labels *out, struct hnp_error *err);

/*
 * Set key=value (both interned), replacing an existing value, keeping order.
 */
enum hnp_err hnp_labels_set(struct hnp_labels *labels, const char *key, const char *value);

enum hnp_selector_op {
    HNP_OP_IN,
    HNP_OP_NOT_IN,
    HNP_OP_EXISTS,
    HNP_OP_DOES_NOT_EXIST,
};

/* One requirement. matchLabels k: v becomes {k, In, [v]}. Owns `values`. */
struct hnp_requirement {
    const char *key; /* interned */
    enum hnp_selector_op op;
    const char **values; /* interned; sorted by strcmp, unique */
    size_t n_values;
};

/*
 * A parsed LabelSelector: the AND of its requirements. No requirement
 * (an empty selector `{}`) matches everything. Owns `reqs`.
 */
struct hnp_selector {
    struct hnp_requirement *reqs;
    size_t n_reqs;
};

/* Free what the selector owns. Accepts NULL. */
void hnp_selector_free(struct hnp_selector *sel);

/* Kubernetes semantics: In / NotIn / Exists / DoesNotExist, AND of all. */
bool hnp_selector_matches(const struct hnp_selector *sel, const struct hnp_labels *labels);

/* True when the selector has a NotIn or DoesNotExist requirement. */
bool hnp_selector_is_negative(const struct hnp_selector *sel);

#endif /* HNP_LABELS_H */
