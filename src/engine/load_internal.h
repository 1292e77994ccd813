/*
 * load_internal.h - the state of one load (load.h) shared by its two readers:
 * load.c (the read window, messages, the JSON reader, the entry points)
 * and load_yaml.c (the YAML reader). Private to the engine.
 *
 * The window: bytes [base, base + len) of the input sit at data[0, len);
 * offsets are absolute (from the start of the input). See load.c.
 */
#ifndef HNP_LOAD_INTERNAL_H
#define HNP_LOAD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <yaml.h>

#include "hashmap.h"
#include "hnsnetpol/load.h"

/*
 * Node -> line for the YAML object being built, so messages about a field
 * can name its line: the hash map keyed by the node's address (hnp_hash_ptr
 * tells nodes apart by itself), the line as the value; emptied after each
 * object is handed over.
 */
struct hnp_line_map {
    struct hnp_hashmap map;
};

struct loader {
    /* The window: bytes [base, base + len) of the input are at data[0, len). */
    const char *data;
    size_t len;
    uint64_t base;
    char *own;      /* the window's memory when streaming (data == own); NULL for a fixed buffer */
    size_t cap;     /* size of own */
    size_t initial; /* size own starts with and shrinks back to */
    size_t chunk;   /* most bytes asked of the source (and handed to libyaml) at once; 0 = any */
    size_t window;  /* limits->window_bytes: 0 = DEFAULT_WINDOW, memory read in place */
    struct hnp_load_stats *stats; /* limits->stats: where to count, or NULL */

    /* The source behind the window: a stream, or memory read in chunks (test hook). */
    FILE *f;
    const char *src;
    size_t src_len, src_pos;
    bool eof;      /* nothing more will come: the window holds the rest of the input */
    uint64_t read; /* bytes read from the source */

    /* A read failed or a limit was passed. The readers see the input end; this wins. */
    enum hnp_err fail;
    struct hnp_error fail_err;

    const char *name;
    size_t max_input; /* 0 = none */
    size_t max_depth;
    size_t max_object;
    hnp_object_fn fn;
    void *ctx;
    struct hnp_error *err;
    size_t emitted; /* objects handed to fn */
    size_t lists;   /* List wrappers seen: an empty List is input, not "nothing" */
    /*
     * The kind of the items of the List being read, from its wrapper's kind
     * when that came before the items ("PodList" -> "Pod"). The API server's
     * own Lists (curl .../api/v1/pods) leave "kind" out of every item;
     * kubectl fills it in. Empty when unknown or the wrapper is a plain List.
     */
    char item_kind[64];

    /*
     * Line counter, moved forward as the reader goes: offset line_pos is on
     * line `line`; offset col_pos (on that line, at or before line_pos) is in
     * column col. Both offsets stay inside the window.
     */
    uint64_t line_pos, col_pos;
    long line, col;

    /* YAML */
    bool yaml;                 /* lines of nodes are recorded */
    struct hnp_line_map lines; /* of the YAML object being built */
    yaml_parser_t *parser;
    uint64_t handed;  /* offset of the next byte for libyaml */
    bool measuring;   /* an object is being built: its size is checked at each event */
    size_t obj_index; /* libyaml's index (characters) where it starts */
    long obj_line;
    uint64_t seg_handed; /* bytes handed to libyaml at the last object boundary, */
    long seg_line;       /* which was on this line */
};

/* The window's byte at offset off (in the window). */
static inline const char *hnp_loader_at(const struct loader *ld, uint64_t off)
{
    return ld->data + (size_t)(off - ld->base);
}

/* The offset just past the window. */
static inline uint64_t hnp_loader_window_end(const struct loader *ld)
{
    return ld->base + ld->len;
}

/*
 * Read more input into the window, keeping the bytes from offset keep on
 * (object: keep starts one value, which may not pass max_object_bytes).
 * True when new bytes arrived; false at the end of the input or on a
 * failure (ld->fail set).
 */
bool hnp_loader_more(struct loader *ld, uint64_t keep, bool object);

/* Remember node's line (YAML); out of memory only loses the detail. */
void hnp_line_map_put(struct hnp_line_map *m, const json_t *node, long line);
/* Forget every node (after an object is handed over). */
void hnp_line_map_reset(struct hnp_line_map *m);

/* Remember the item kind a List wrapper's kind (borrowed) implies ("PodList" -> "Pod"). */
void hnp_loader_note_list_kind(struct loader *ld, const json_t *kind);

/*
 * Hand obj (borrowed; its "kind" is set from the List's when missing) to
 * the callback; returns what it returned (HNP_ERR_NOMEM setting the kind).
 */
enum hnp_err hnp_loader_emit(struct loader *ld, json_t *obj, long line);

/* Line and column of offset off (error paths: the load stops after). */
void hnp_loader_position_of(struct loader *ld, uint64_t off, long *line, long *col);

/*
 * At most n bytes of src into dst (size > 0) for a message, made printable
 * (invalid UTF-8 and control characters become '?').
 */
void hnp_loader_printable(char *dst, size_t size, const char *src, size_t n);

/* "name:line:col" into buf. */
void hnp_loader_where_line_col(const struct loader *ld, char *buf, size_t size, long line,
                               long col);

/* "an object", "a string", ... for messages; static. */
const char *hnp_loader_type_phrase(const json_t *value);

/*
 * The errors of a load, set in ld->err and returned: an object (starting
 * on object_line) nested too deeply at line (HNP_ERR_LIMIT); a value that
 * is not what it must be (HNP_ERR_SCHEMA); items[index] is what, not an
 * object (HNP_ERR_SCHEMA); the object starting on line is larger than
 * max_object_bytes (HNP_ERR_LIMIT, recorded in ld->fail).
 */
enum hnp_err hnp_loader_limit_error(struct loader *ld, long line, long object_line);
enum hnp_err hnp_loader_schema_error(struct loader *ld, long line, const char *message);
enum hnp_err hnp_loader_item_error(struct loader *ld, long line, size_t index, const char *what);
enum hnp_err hnp_loader_object_too_big(struct loader *ld, long line);

/* Read YAML from the window's start (load_yaml.c); HNP_OK or the load's error. */
enum hnp_err hnp_loader_yaml(struct loader *ld);

#endif /* HNP_LOAD_INTERNAL_H */
