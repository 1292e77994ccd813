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
 * reader builds a tree per item from libyaml events. The List wrapper itself
 * is not handed over; its members other than items are ignored.
 *
 * JSON `null` values and empty YAML documents are skipped. YAML scalars
 * follow the YAML 1.2 core schema (80 is an integer, "80" a string, true a
 * boolean, ~ null, 1.5 a real; integers past int64 become reals, .inf/.nan
 * stay strings); YAML aliases are refused (HNP_ERR_PARSE). A UTF-8 BOM is
 * skipped; YAML may also be UTF-16 with a BOM (libyaml decodes it).
 */
#ifndef HNP_LOAD_H
#define HNP_LOAD_H

#include <stddef.h>

#include <jansson.h>

#include "hnsnetpol/error.h"

struct hnp_load_limits {
    size_t max_input_bytes; /* whole input; 0 = default (1 GiB) */
    size_t max_depth;       /* nesting of one object, itself level 1; 0 = default (128) */
};

/* One object read from the input, handed to the callback. */
struct hnp_loaded_object {
    json_t *obj;                      /* borrowed for the callback; json_incref() to keep it */
    const char *name;                 /* input name as given ("-" for stdin); borrowed */
    long line;                        /* 1-based line where the object starts */
    const struct hnp_line_map *lines; /* YAML: the line of each node; NULL for JSON */
};

struct hnp_line_map;

/*
 * The 1-based line of node (a value inside object->obj) when the input
 * format records it (YAML), else object->line. Only valid during the
 * callback. true, false and null are shared by jansson and have no line of
 * their own: they give object->line.
 */
long hnp_loaded_object_line(const struct hnp_loaded_object *object, const json_t *node);

/* Return HNP_OK to go on; anything else stops the load and is returned. */
typedef enum hnp_err (*hnp_object_fn)(const struct hnp_loaded_object *object, void *ctx);

/*
 * Read the file at path ("-" = standard input, read as it comes; on Windows
 * the caller puts stdin in binary mode) and call fn, in input order, for
 * every object in it. Returns HNP_ERR_IO when it cannot be read (strerror in
 * the message), HNP_ERR_PARSE on a syntax error or invalid UTF-8
 * (err->where = "file:line:column", column 1-based in characters),
 * HNP_ERR_LIMIT past a limit, HNP_ERR_SCHEMA when a document, top-level value
 * or items element is not a mapping/object (err->where = "file:line"),
 * HNP_ERR_EMPTY when the input holds no object at all (an empty List
 * included), or what fn returned: a code other than HNP_OK from fn stops the
 * load and err is left as fn left it. Objects before an error have already
 * been handed to fn. limits, err and ctx may be NULL.
 */
enum hnp_err hnp_load_file(const char *path, const struct hnp_load_limits *limits, hnp_object_fn fn,
                           void *ctx, struct hnp_error *err);

/*
 * The same for len bytes in memory (not NUL-terminated; borrowed); name is
 * used in messages ("<input>" when NULL). fn may be NULL to only check the input.
 */
enum hnp_err hnp_load_buffer(const char *data, size_t len, const char *name,
                             const struct hnp_load_limits *limits, hnp_object_fn fn, void *ctx,
                             struct hnp_error *err);

#endif /* HNP_LOAD_H */
