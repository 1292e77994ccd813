/*
 * load.h - read Kubernetes objects from YAML or JSON files.
 *
 * Accepts multi-document YAML, one or more concatenated JSON values, and
 * `kind: List` (anything with an `items` array at the top, as written by
 * `kubectl get ... -o yaml|json`). The format is told by the first
 * non-blank byte: `{` or `[` is JSON, anything else YAML.
 *
 * Objects are handed to a callback one at a time and released after it
 * returns, so a 20,000-pod List never exists as one whole tree: the JSON
 * reader parses the top level itself and each item with jansson, the YAML
 * reader builds a tree per item from libyaml events.
 */
#ifndef HNP_LOAD_H
#define HNP_LOAD_H

#include <stddef.h>

#include <jansson.h>

#include "hnsnetpol/error.h"

struct hnp_load_limits {
    size_t max_input_bytes; /* whole input; 0 = default (1 GiB) */
    size_t max_depth;       /* nesting of one object; 0 = default (128) */
};

/* One object read from the input, handed to the callback. */
struct hnp_loaded_object {
    json_t *obj;      /* borrowed for the callback; json_incref() to keep it */
    const char *name; /* input name as given ("-" for stdin); borrowed */
    long line;        /* 1-based line where the object starts */
};

/* Return HNP_OK to go on; anything else stops the load and is returned. */
typedef enum hnp_err (*hnp_object_fn)(const struct hnp_loaded_object *object, void *ctx);

/*
 * Read the file at path ("-" = standard input) and call fn for every object
 * in it. Returns HNP_ERR_IO when it cannot be read, HNP_ERR_PARSE on a syntax
 * error or invalid UTF-8 (err->where = "file:line:column"), HNP_ERR_LIMIT
 * past a limit, HNP_ERR_SCHEMA when a document is not a mapping/object,
 * HNP_ERR_EMPTY when the input holds no object at all, or what fn returned.
 * Objects before an error have already been handed to fn. limits may be NULL.
 */
enum hnp_err hnp_load_file(const char *path, const struct hnp_load_limits *limits, hnp_object_fn fn,
                           void *ctx, struct hnp_error *err);

/* The same for len bytes in memory; name is used in messages. */
enum hnp_err hnp_load_buffer(const char *data, size_t len, const char *name,
                             const struct hnp_load_limits *limits, hnp_object_fn fn, void *ctx,
                             struct hnp_error *err);

#endif /* HNP_LOAD_H */
