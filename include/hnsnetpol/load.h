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
 * Input is streamed: files and standard input are read through a bounded
 * window (1 MiB to start with; it grows to hold the largest single top-level
 * value or List item and shrinks back after it), so the memory a load needs
 * depends on the largest object, not on the size of the input. No limit on
 * the whole input is needed to protect memory; max_object_bytes and
 * max_depth are the limits that do.
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
#include <stdint.h>

#include <jansson.h>

#include "hnsnetpol/error.h"

/*
 * Limits of one load; 0 in a field means its default. Past any of them the
 * load stops with HNP_ERR_LIMIT.
 *
 * max_input_bytes: the whole input. Default: no limit - the input is
 *   streamed, so its size does not decide the memory used (set it to refuse
 *   big files early, e.g. for a configuration file).
 * max_depth: nesting of one object, the object itself being level 1.
 *   Default 128.
 * max_object_bytes: one object - a top-level JSON value, an element of a
 *   List's items, a YAML document or items element; for YAML counted in
 *   characters (libyaml's marks). The read window grows past its first
 *   size (1 MiB) only to hold one such object, never past this plus one
 *   byte. Default 256 MiB. A List wrapper is not one object: its items are.
 *
 * For tests and benchmarks (the agent and the commands leave them 0):
 * window_bytes: the read window's first size and the most bytes read at a
 *   time (0 = 1 MiB, reads as large as the room). When not 0,
 *   hnp_load_buffer() also streams its memory through such a window (and
 *   libyaml gets at most this many bytes per read), so a test can put a
 *   refill boundary at every position of its input.
 * stats: when not NULL, the load adds what it used to *stats (window_last
 *   and window_peak are set, the counters added to).
 */
struct hnp_load_stats;
struct hnp_load_limits {
    size_t max_input_bytes;
    size_t max_depth;
    size_t max_object_bytes;
    size_t window_bytes;
    struct hnp_load_stats *stats;
};

/* What loads used, counted where struct hnp_load_limits.stats says. */
struct hnp_load_stats {
    size_t window_peak;  /* largest read window allocated, bytes (0: none, e.g. memory input) */
    size_t window_last;  /* size of the window when the last load ended (0: none) */
    uint64_t bytes_read; /* bytes read from files, standard input or a streamed buffer */
    uint64_t refills;    /* reads into the window */
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
 * HNP_ERR_LIMIT past a limit (an object too big or too deep: err->where =
 * "file:line" of its start or of where the depth limit is passed; the whole
 * input too big: err->where = "file"), HNP_ERR_SCHEMA when a document,
 * top-level value or items element is not a mapping/object (err->where =
 * "file:line"), HNP_ERR_EMPTY when the input holds nothing at all (an
 * empty List is input: HNP_OK with no object), or what fn returned: a code other than HNP_OK from
 * fn stops the load and err is left as fn left it. Objects before an error
 * have already been handed to fn (a regular file over max_input_bytes is
 * refused before any; standard input only when the limit is reached).
 * limits, err and ctx may be NULL.
 */
enum hnp_err hnp_load_file(const char *path, const struct hnp_load_limits *limits, hnp_object_fn fn,
                           void *ctx, struct hnp_error *err);

/*
 * The same for len bytes in memory (not NUL-terminated; borrowed); name is
 * used in messages ("<input>" when NULL). fn may be NULL to only check the
 * input. The bytes are read in place (the window is the whole buffer); the
 * limits apply as for a file.
 */
enum hnp_err hnp_load_buffer(const char *data, size_t len, const char *name,
                             const struct hnp_load_limits *limits, hnp_object_fn fn, void *ctx,
                             struct hnp_error *err);

#endif /* HNP_LOAD_H */
