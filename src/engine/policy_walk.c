/*
 * policy_walk.c - the walk over a NetworkPolicy's JSON (policy_walk.h): the field path and
 * its node, findings with their line, schema errors, quoted values.
 */
#include "policy_walk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* ---- field paths ---------------------------------------------------------- */

/* Append text to the path (truncating). */
static void path_append(struct hnp_walk *w, const char *text)
{
    size_t room = sizeof(w->path) - w->len;
    size_t n = strlen(text);
    if (n >= room)
        n = room - 1;
    memcpy(w->path + w->len, text, n);
    w->len += n;
    w->path[w->len] = '\0';
}

/* Make node the current one; returns the mark to restore. */
static struct hnp_walk_mark enter(struct hnp_walk *w, const json_t *node)
{
    struct hnp_walk_mark mark = {w->len, w->node};
    w->node = node;
    return mark;
}

/* ".name", or "name" at the top; node is the member's value (NULL when absent). */
struct hnp_walk_mark hnp_walk_enter_field(struct hnp_walk *w, const char *name, const json_t *node)
{
    struct hnp_walk_mark mark = enter(w, node);
    if (w->len > 0)
        path_append(w, ".");
    path_append(w, name);
    return mark;
}

struct hnp_walk_mark hnp_walk_enter_index(struct hnp_walk *w, size_t i, const json_t *node)
{
    struct hnp_walk_mark mark = enter(w, node);
    char buf[32];
    snprintf(buf, sizeof(buf), "[%zu]", i);
    path_append(w, buf);
    return mark;
}

/* "[key]": how Kubernetes field paths name a map member. */
struct hnp_walk_mark hnp_walk_enter_key(struct hnp_walk *w, const char *key, const json_t *node)
{
    struct hnp_walk_mark mark = enter(w, node);
    path_append(w, "[");
    path_append(w, key);
    path_append(w, "]");
    return mark;
}

void hnp_walk_leave(struct hnp_walk *w, struct hnp_walk_mark mark)
{
    w->len = mark.len;
    w->path[mark.len] = '\0';
    w->node = mark.node;
}

/* ---- messages ------------------------------------------------------------- */

/*
 * s as a double-quoted, printable string in buf (QBUF bytes), clipped to at
 * most HNP_WALK_QUOTE_MAX bytes of s on a UTF-8 sequence boundary, so a clipped value
 * is still valid UTF-8.
 */
const char *hnp_walk_quote(char *buf, const char *s)
{
    size_t o = 0;
    buf[o++] = '"';
    size_t i = 0;
    while (s[i] != '\0') {
        /* s is NUL-terminated: the check stops at the NUL, never reads past it. */
        size_t n = hnp_utf8_char_len((const unsigned char *)s + i, 4);
        if (n == 0)
            n = 1; /* not UTF-8 (jansson never hands such a string): one byte */
        if (i + n > HNP_WALK_QUOTE_MAX)
            break;
        for (size_t k = 0; k < n; k++, i++) {
            char c = s[i];
            if (c == '"' || c == '\\')
                buf[o++] = '\\';
            if ((unsigned char)c < 0x20 || c == 0x7f)
                c = '?';
            buf[o++] = c;
        }
    }
    buf[o++] = '"';
    if (s[i] != '\0') {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

const char *hnp_walk_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a fractional number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a JSON value";
}

enum hnp_err hnp_walk_nomem(struct hnp_walk *w)
{
    return hnp_error_set(w->err, HNP_ERR_NOMEM, w->path,
                         "out of memory converting a NetworkPolicy");
}

/* HNP_ERR_SCHEMA at the current path: "<path> must be <expected>, not <type of v>". */
enum hnp_err hnp_walk_schema(struct hnp_walk *w, const char *expected, const json_t *v)
{
    return hnp_error_set(w->err, HNP_ERR_SCHEMA, w->path, "%s must be %s, not %s", w->path,
                         expected, hnp_walk_type_name(v));
}

/* Record a finding at the current path, with the line of the current node. */
enum hnp_err hnp_walk_finding(struct hnp_walk *w, enum hnp_feature feature, const char *fmt, ...)
{
    struct hnp_policy *pol = w->pol;
    if (pol->n_findings == w->findings_cap) {
        size_t cap = w->findings_cap ? w->findings_cap * 2 : 4;
        struct hnp_finding *grown = realloc(pol->findings, cap * sizeof(*grown));
        if (grown == NULL)
            return hnp_walk_nomem(w);
        pol->findings = grown;
        w->findings_cap = cap;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char *path = hnp_strdup(w->path);
    char *message = hnp_strdup(msg);
    if (path == NULL || message == NULL) {
        free(path);
        free(message);
        return hnp_walk_nomem(w);
    }
    long line = 0;
    if (w->node != NULL && w->src != NULL && w->src->line_of != NULL)
        line = w->src->line_of(w->src->line_ctx, w->node);
    struct hnp_finding *f = &pol->findings[pol->n_findings++];
    f->feature = feature;
    f->path = path;
    f->message = message;
    f->line = line > 0 ? line : pol->src.line;
    return HNP_OK;
}

/* ---- arrays --------------------------------------------------------------- */

/* HNP_ERR_SCHEMA unless json is an array of strings (null entries allowed). */
enum hnp_err hnp_walk_check_strings(struct hnp_walk *w, json_t *json)
{
    if (!json_is_array(json))
        return hnp_walk_schema(w, "an array of strings", json);
    size_t i;
    json_t *item;
    json_array_foreach(json, i, item)
    {
        if (!json_is_string(item) && !json_is_null(item)) {
            struct hnp_walk_mark mark = hnp_walk_enter_index(w, i, item);
            enum hnp_err rc = hnp_walk_schema(w, "a string", item);
            hnp_walk_leave(w, mark);
            return rc;
        }
    }
    return HNP_OK;
}

/*
 * An optional array member: null and [] leave *items NULL and *count 0;
 * otherwise *items is a new zeroed array of *count items of item_size bytes,
 * entry i parsed by parse at path "[i]". On failure *items and *count are set
 * already, for hnp_policy_free.
 */
enum hnp_err hnp_walk_array(struct hnp_walk *w, json_t *json, size_t item_size,
                            hnp_walk_item_fn parse, const void *arg, void **items, size_t *count)
{
    if (json_is_null(json))
        return HNP_OK;
    if (!json_is_array(json))
        return hnp_walk_schema(w, "an array", json);
    size_t n = json_array_size(json);
    if (n == 0)
        return HNP_OK;
    char *array = calloc(n, item_size);
    if (array == NULL)
        return hnp_walk_nomem(w);
    *items = array;
    *count = n;
    for (size_t i = 0; i < n; i++) {
        struct hnp_walk_mark mark = hnp_walk_enter_index(w, i, json_array_get(json, i));
        enum hnp_err rc = parse(w, json_array_get(json, i), array + i * item_size, arg);
        hnp_walk_leave(w, mark);
        if (rc != HNP_OK)
            return rc;
    }
    return HNP_OK;
}
