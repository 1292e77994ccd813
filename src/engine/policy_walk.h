/*
 * policy_walk.h - the walk of the policy parser over a NetworkPolicy's JSON: where
 * it is (the Kubernetes field path, "spec.ingress[0].from[1]", and the node
 * that path names), and what it reports there: findings (recorded in the
 * policy with their path and line, parsing goes on) and schema errors (a
 * value of the wrong JSON type: the conversion stops). policy.c knows the
 * NetworkPolicy; this module only the bookkeeping.
 *
 * Entering a field returns a mark; leaving restores the path and node as they
 * were. A finding asks the caller's hnp_source.line_of for the line of the
 * current node when it is made, so no path is ever parsed again.
 *
 * Private to the engine (not under include/hnsnetpol/).
 */
#ifndef HNP_POLICY_WALK_H
#define HNP_POLICY_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "hnsnetpol/error.h"
#include "hnsnetpol/policy.h"
#include "hnsnetpol/strtab.h"

/* Bytes of a user value shown in a message, and a buffer that holds one quoted. */
#define HNP_WALK_QUOTE_MAX 64
#define HNP_WALK_QBUF (HNP_WALK_QUOTE_MAX * 2 + 8)

/*
 * State of one conversion: the policy being built, the current field path
 * and the node it names (NULL when the member is absent). Zero it, then set
 * tab, pol, src, err and node (the object); the path starts empty.
 */
struct hnp_walk {
    struct hnp_strtab *tab;
    struct hnp_policy *pol;       /* findings go to pol->findings */
    const struct hnp_source *src; /* the caller's, with line_of; may be NULL */
    size_t findings_cap;
    struct hnp_error *err;
    bool types_given;   /* spec.policyTypes had at least one entry */
    bool types_ingress; /* ... and one of them was "Ingress" */
    bool types_egress;  /* ... and one of them was "Egress" */
    const json_t *node; /* the node the path names; NULL when absent */
    size_t len;         /* strlen(path) */
    char path[512];     /* same size as hnp_error.where */
};

/* Where to go back to when leaving a field: the path's length and its node. */
struct hnp_walk_mark {
    size_t len;
    const json_t *node;
};

/*
 * Enter member name (".name", or "name" at the top), array entry i ("[i]")
 * or map member key ("[key]", how Kubernetes field paths name one); node is
 * the value there (borrowed, NULL when absent). The path is truncated at
 * its size. Returns the mark for hnp_walk_leave().
 */
struct hnp_walk_mark hnp_walk_enter_field(struct hnp_walk *w, const char *name, const json_t *node);
struct hnp_walk_mark hnp_walk_enter_index(struct hnp_walk *w, size_t i, const json_t *node);
struct hnp_walk_mark hnp_walk_enter_key(struct hnp_walk *w, const char *key, const json_t *node);

/* Back to the path and node of mark. */
void hnp_walk_leave(struct hnp_walk *w, struct hnp_walk_mark mark);

/*
 * Record a finding of feature at the current path, its message formatted
 * from fmt, its line that of the current node (the policy's line when the
 * node is absent or the source cannot tell). The path and message are new
 * strings owned by w->pol. HNP_ERR_NOMEM (set in w->err) leaves the policy
 * as it was.
 */
enum hnp_err HNP_PRINTF(3, 4)
    hnp_walk_finding(struct hnp_walk *w, enum hnp_feature feature, const char *fmt, ...);

/* HNP_ERR_SCHEMA in w->err at the current path: "<path> must be <expected>, not <type of v>". */
enum hnp_err hnp_walk_schema(struct hnp_walk *w, const char *expected, const json_t *v);

/* HNP_ERR_NOMEM in w->err at the current path. */
enum hnp_err hnp_walk_nomem(struct hnp_walk *w);

/*
 * s as a double-quoted, printable string in buf (HNP_WALK_QBUF bytes):
 * quotes and backslashes escaped, control characters shown as '?', clipped
 * to at most HNP_WALK_QUOTE_MAX bytes of s on a UTF-8 sequence boundary
 * and then followed by "...". Returns buf.
 */
const char *hnp_walk_quote(char *buf, const char *s);

/* "an object", "an array", "a string", ...: the JSON type of v for a message (static). */
const char *hnp_walk_type_name(const json_t *v);

/* HNP_ERR_SCHEMA unless json is an array of strings (null entries allowed). */
enum hnp_err hnp_walk_check_strings(struct hnp_walk *w, json_t *json);

/* Parse one array entry (json) into item, which is zeroed; arg is hnp_walk_array's. */
typedef enum hnp_err (*hnp_walk_item_fn)(struct hnp_walk *w, json_t *json, void *item,
                                         const void *arg);

/*
 * An optional array member: null and [] leave *items NULL and *count 0;
 * otherwise *items is a new zeroed array of *count items of item_size bytes
 * (owned by the caller), entry i parsed by parse at path "[i]". On failure
 * *items and *count are set already, so the caller frees what was parsed.
 */
enum hnp_err hnp_walk_array(struct hnp_walk *w, json_t *json, size_t item_size,
                            hnp_walk_item_fn parse, const void *arg, void **items, size_t *count);

#endif /* HNP_POLICY_WALK_H */
