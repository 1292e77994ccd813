/*
 * load.c - read Kubernetes objects from YAML or JSON input (see load.h).
 *
 * The whole input is read into one buffer, then handed to one of two readers:
 *
 * JSON: a loop over whitespace-separated top-level values. Before an object
 * is parsed, a cheap scanner looks at its members for an "items" array; when
 * there is one (a `kind: List`), the wrapper is walked by hand and every
 * element of items is parsed on its own with json_loadb(JSON_DISABLE_EOF_CHECK),
 * which reports in error.position how many bytes it consumed. Everything else
 * is parsed whole by jansson. The same scanner measures the nesting of each
 * value before jansson sees it, so a deep input fails with HNP_ERR_LIMIT
 * before anything is allocated. Every byte is still checked by jansson
 * (members of a List wrapper are parsed and dropped), so the scanner need not
 * validate anything.
 *
 * YAML: libyaml events build a jansson tree per document with an explicit
 * stack (no recursion); the elements of a root `items` sequence are built,
 * handed over and freed one at a time. Scalars follow the YAML 1.2 core
 * schema; aliases are refused (no billion laughs).
 *
 * Line numbers: for JSON a counter moves forward over the buffer with memchr
 * as values are reached, so it costs one pass in total; jansson's line and
 * column (counted from the start of the value) are translated to the file.
 * Columns are 1-based and count characters, as jansson and libyaml do.
 */
#include "hnsnetpol/load.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#define DEFAULT_MAX_INPUT ((size_t)1 << 30)
#define DEFAULT_MAX_DEPTH 128
#define READ_CHUNK ((size_t)1 << 16)

/* jansson flags for one value in the middle of a buffer. */
#define JSON_VALUE_FLAGS (JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY)

/*
 * Node -> line for the YAML object being built, so messages about a field
 * can name its line. Open addressing on the node's address; cleared after
 * each object is handed over.
 */
struct hnp_line_map {
    const json_t **nodes;
    long *lines;
    size_t cap; /* power of two, or 0 */
    size_t used;
};

static size_t node_slot(const struct hnp_line_map *m, const json_t *node)
{
    uint64_t h = (uint64_t)(uintptr_t)node;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    size_t j = (size_t)h & (m->cap - 1);
    while (m->nodes[j] != NULL && m->nodes[j] != node)
        j = (j + 1) & (m->cap - 1);
    return j;
}

/*
 * Remember node's line; out of memory only loses the detail. true, false and
 * null are singletons in jansson: they have no line of their own.
 */
static void line_map_put(struct hnp_line_map *m, const json_t *node, long line)
{
    if (json_is_true(node) || json_is_false(node) || json_is_null(node))
        return;
    if ((m->used + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        struct hnp_line_map bigger = {calloc(cap, sizeof(*bigger.nodes)),
                                      malloc(cap * sizeof(*bigger.lines)), cap, 0};
        if (bigger.nodes == NULL || bigger.lines == NULL) {
            free(bigger.nodes);
            free(bigger.lines);
            return;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (m->nodes[i] == NULL)
                continue;
            size_t j = node_slot(&bigger, m->nodes[i]);
            bigger.nodes[j] = m->nodes[i];
            bigger.lines[j] = m->lines[i];
        }
        bigger.used = m->used;
        free(m->nodes);
        free(m->lines);
        *m = bigger;
    }
    size_t j = node_slot(m, node);
    if (m->nodes[j] == NULL)
        m->used++;
    m->nodes[j] = node;
    m->lines[j] = line;
}

static void line_map_reset(struct hnp_line_map *m)
{
    if (m->used > 0)
        memset(m->nodes, 0, m->cap * sizeof(*m->nodes));
    m->used = 0;
}

static void line_map_free(struct hnp_line_map *m)
{
    free(m->nodes);
    free(m->lines);
    *m = (struct hnp_line_map){0};
}

long hnp_loaded_object_line(const struct hnp_loaded_object *object, const json_t *node)
{
    const struct hnp_line_map *m = object->lines;
    if (m == NULL || m->cap == 0 || node == NULL)
        return object->line;
    size_t j = node_slot(m, node);
    return m->nodes[j] == node ? m->lines[j] : object->line;
}

struct loader {
    const char *data; /* not NUL-terminated */
    size_t len;
    const char *name;
    size_t max_depth;
    hnp_object_fn fn;
    void *ctx;
    struct hnp_error *err;
    size_t emitted; /* objects handed to fn */

    size_t start; /* offset of the first byte after a UTF-8 BOM */

    /* Line counter, moved forward as the reader goes: offset line_pos is on line `line`,
     * which starts at offset line_start. */
    size_t line_pos;
    long line;
    size_t line_start;

    bool yaml;                 /* lines of nodes are recorded */
    struct hnp_line_map lines; /* of the YAML object being built */
};

/* ------------------------------------------------------------------------------------------ */
/* Common helpers                                                                              */

static enum hnp_err emit(struct loader *ld, json_t *obj, long line)
{
    struct hnp_loaded_object object = {
        .obj = obj, .name = ld->name, .line = line, .lines = ld->yaml ? &ld->lines : NULL};
    ld->emitted++;
    enum hnp_err rc = ld->fn ? ld->fn(&object, ld->ctx) : HNP_OK;
    line_map_reset(&ld->lines);
    return rc;
}

/* Move the line counter to offset off: forward in one pass, backward (rare) from the start. */
static void seek_line(struct loader *ld, size_t off)
{
    if (off > ld->len)
        off = ld->len;
    if (off < ld->line_pos) {
        ld->line_pos = ld->line_start = ld->start;
        ld->line = 1;
    }
    const char *p = ld->data + ld->line_pos;
    const char *end = ld->data + off;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            break;
        ld->line++;
        ld->line_start = (size_t)(nl + 1 - ld->data);
        p = nl + 1;
    }
    ld->line_pos = off;
}

/* 1-based character column of offset off, after seek_line(ld, off). */
static long column_of(const struct loader *ld, size_t off)
{
    long col = 1;
    for (size_t i = ld->line_start; i < off; i++)
        if (((unsigned char)ld->data[i] & 0xC0) != 0x80)
            col++;
    return col;
}

/* Line and column of any offset (error paths), leaving the counter alone. */
static void position_of(const struct loader *ld, size_t off, long *line, long *col)
{
    struct loader tmp = *ld;
    if (off > ld->len)
        off = ld->len;
    seek_line(&tmp, off);
    *line = tmp.line;
    *col = column_of(&tmp, off);
}

/*
 * Copy at most n bytes of src into dst (size > 0) for a message: as they are
 * when they form valid UTF-8 without control characters, else with every byte
 * outside printable ASCII replaced by '?', so messages stay valid text.
 */
static void printable(char *dst, size_t size, const char *src, size_t n)
{
    if (n >= size)
        n = size - 1;
    bool clean = true;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)src[i] < 0x20 || src[i] == 0x7F)
            clean = false;
    json_t *check = clean ? json_stringn(src, n) : NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i] = (char)(check != NULL || (c >= 0x20 && c < 0x7F) ? c : '?');
    }
    dst[n] = '\0';
    json_decref(check);
}

static void where_line(const struct loader *ld, char *buf, size_t size, long line)
{
    snprintf(buf, size, "%s:%ld", ld->name, line);
}

static void where_line_col(const struct loader *ld, char *buf, size_t size, long line, long col)
{
    snprintf(buf, size, "%s:%ld:%ld", ld->name, line, col);
}

static const char *type_phrase(const json_t *value)
{
    if (value == NULL)
        return "nothing";
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "a value";
}

static enum hnp_err limit_error(struct loader *ld, long line, long object_line)
{
    char where[sizeof(ld->err->where)];
    where_line(ld, where, sizeof(where), line);
    return hnp_error_set(ld->err, HNP_ERR_LIMIT, where,
                         "object starting at line %ld is nested deeper than %zu levels",
                         object_line, ld->max_depth);
}

static enum hnp_err schema_error(struct loader *ld, long line, const char *message)
{
    char where[sizeof(ld->err->where)];
    where_line(ld, where, sizeof(where), line);
    return hnp_error_set(ld->err, HNP_ERR_SCHEMA, where, "%s", message);
}

/* An element of an items list that is not an object; what is e.g. "a string". */
static enum hnp_err item_error(struct loader *ld, long line, size_t index, const char *what)
{
    char where[sizeof(ld->err->where)];
    where_line(ld, where, sizeof(where), line);
    return hnp_error_set(ld->err, HNP_ERR_SCHEMA, where, "items[%zu] is %s, not an object", index,
                         what);
}

/* ------------------------------------------------------------------------------------------ */
/* JSON                                                                                        */

static bool json_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_blank(const struct loader *ld, size_t pos)
{
    while (pos < ld->len && json_blank((unsigned char)ld->data[pos]))
        pos++;
    return pos;
}

/* Bytes the scanner must look at inside a container. */
static const unsigned char scan_special[256] = {
    ['"'] = 1, ['{'] = 1, ['['] = 1, ['}'] = 1, [']'] = 1,
};

/* Bytes that end a bare scalar (number, true, false, null) at the top of a scan. */
static bool scalar_end(unsigned char c)
{
    return json_blank(c) || c == ',' || c == ':' || c == '{' || c == '}' || c == '[' || c == ']' ||
           c == '"';
}

enum scan_result { SCAN_OK, SCAN_DEEP, SCAN_BAD };

/*
 * Move *pos from the opening quote of a string to just past its closing one.
 * memchr finds each candidate quote; it closes the string when an even number
 * of backslashes precede it. False when the input ends first.
 */
static bool skip_string(const unsigned char *d, size_t len, size_t *pos)
{
    size_t i = *pos + 1;
    for (;;) {
        const unsigned char *q = i < len ? memchr(d + i, '"', len - i) : NULL;
        if (q == NULL)
            return false;
        size_t at = (size_t)(q - d), slashes = 0;
        while (at - slashes > *pos + 1 && d[at - slashes - 1] == '\\')
            slashes++;
        i = at + 1;
        if (slashes % 2 == 0) {
            *pos = i;
            return true;
        }
    }
}

/*
 * Find the end of the JSON value at data[pos] (not blank) without building it,
 * and check that its nesting stays within max_depth levels when the value sits
 * at nesting `depth`. Brackets are only counted, not matched, and nothing else
 * is validated: jansson parses these bytes afterwards and reports any error.
 * On SCAN_DEEP *stop is where the limit was passed, on SCAN_OK *stop is the end.
 */
static enum scan_result scan_value(const struct loader *ld, size_t pos, size_t depth, size_t *stop)
{
    const unsigned char *d = (const unsigned char *)ld->data;
    size_t len = ld->len, base = depth, i = pos;

    if (i >= len)
        return SCAN_BAD;
    if (!scan_special[d[i]]) {
        while (i < len && !scalar_end(d[i]))
            i++;
        if (i == pos)
            return SCAN_BAD;
        *stop = i;
        return SCAN_OK;
    }
    for (;;) {
        while (i < len && !scan_special[d[i]])
            i++;
        if (i >= len)
            return SCAN_BAD;
        switch (d[i]) {
        case '"':
            if (!skip_string(d, len, &i))
                return SCAN_BAD;
            break;
        case '{':
        case '[':
            if (++depth > ld->max_depth) {
                *stop = i;
                return SCAN_DEEP;
            }
            i++;
            break;
        default: /* '}' or ']' */
            if (depth == base)
                return SCAN_BAD;
            depth--;
            i++;
            break;
        }
        if (depth == base) {
            *stop = i;
            return SCAN_OK;
        }
    }
}

/* HNP_ERR_LIMIT for a value at off (starting at object_off) that scan_value found too deep. */
static enum hnp_err json_deep(struct loader *ld, size_t object_off, size_t off)
{
    seek_line(ld, object_off);
    long object_line = ld->line;
    seek_line(ld, off);
    return limit_error(ld, ld->line, object_line);
}

/* Translate a jansson error for a value parsed from offset start. */
static enum hnp_err json_error(struct loader *ld, size_t start, const json_error_t *e)
{
    if (json_error_code(e) == json_error_out_of_memory)
        return hnp_error_set(ld->err, HNP_ERR_NOMEM, ld->name, "out of memory parsing JSON");
    seek_line(ld, start);
    long line = ld->line + (e->line > 1 ? e->line - 1 : 0);
    long col = e->line > 1 ? e->column : column_of(ld, start) - 1 + e->column;
    if (col < 1)
        col = 1;
    char where[sizeof(ld->err->where)], text[sizeof(e->text)];
    where_line_col(ld, where, sizeof(where), line, col);
    printable(text, sizeof(text), e->text, strlen(e->text));
    if (json_error_code(e) == json_error_stack_overflow)
        return hnp_error_set(ld->err, HNP_ERR_LIMIT, where, "JSON nested too deeply: %s", text);
    return hnp_error_set(ld->err, HNP_ERR_PARSE, where, "%s", text);
}

/* A syntax error our own walker found at offset off. */
static enum hnp_err json_syntax(struct loader *ld, size_t off, const char *expected)
{
    long line, col;
    position_of(ld, off, &line, &col);
    char where[sizeof(ld->err->where)];
    where_line_col(ld, where, sizeof(where), line, col);
    if (off >= ld->len)
        return hnp_error_set(ld->err, HNP_ERR_PARSE, where, "%s expected near end of file",
                             expected);
    char near[2];
    printable(near, sizeof(near), ld->data + off, 1);
    return hnp_error_set(ld->err, HNP_ERR_PARSE, where, "%s expected near '%s'", expected, near);
}

/* Parse the value at pos with jansson; on success *pos moves past it. */
static enum hnp_err json_parse_at(struct loader *ld, size_t *pos, json_t **out)
{
    json_error_t e;
    json_t *value = json_loadb(ld->data + *pos, ld->len - *pos, JSON_VALUE_FLAGS, &e);
    if (value == NULL)
        return json_error(ld, *pos, &e);
    *pos += (size_t)e.position;
    *out = value;
    return HNP_OK;
}

enum probe_result { PROBE_LIST, PROBE_PLAIN, PROBE_DEEP, PROBE_BAD };

/* Is the string token data[start, end) (quotes included) the key "items"? */
static bool key_is_items(const struct loader *ld, size_t start, size_t end)
{
    if (end - start == 7)
        return memcmp(ld->data + start, "\"items\"", 7) == 0;
    if (memchr(ld->data + start, '\\', end - start) == NULL)
        return false;
    json_error_t e;
    json_t *key = json_loadb(ld->data + start, end - start, JSON_DECODE_ANY, &e);
    bool items = json_is_string(key) && json_string_length(key) == 5 &&
                 !strcmp(json_string_value(key), "items");
    json_decref(key);
    return items;
}

/*
 * Look at the members of the object at data[pos] ('{') for an "items" array.
 * PROBE_LIST: found, *at is its '['. PROBE_PLAIN: no items array, the whole
 * object is within the depth limit. PROBE_DEEP: too deep at *at. PROBE_BAD:
 * not well-formed (let jansson say why).
 */
static enum probe_result probe_object(struct loader *ld, size_t pos, size_t *at)
{
    size_t i = skip_blank(ld, pos + 1);
    if (i < ld->len && ld->data[i] == '}')
        return PROBE_PLAIN;
    for (;;) {
        size_t key_start = i, end;
        if (i >= ld->len || ld->data[i] != '"' || scan_value(ld, i, 1, &end) != SCAN_OK)
            return PROBE_BAD;
        bool items = key_is_items(ld, key_start, end);
        i = skip_blank(ld, end);
        if (i >= ld->len || ld->data[i] != ':')
            return PROBE_BAD;
        i = skip_blank(ld, i + 1);
        if (items && i < ld->len && ld->data[i] == '[') {
            *at = i;
            return PROBE_LIST;
        }
        switch (scan_value(ld, i, 1, &end)) {
        case SCAN_OK:
            break;
        case SCAN_DEEP:
            *at = end;
            return PROBE_DEEP;
        case SCAN_BAD:
            return PROBE_BAD;
        }
        i = skip_blank(ld, end);
        if (i < ld->len && ld->data[i] == ',') {
            i = skip_blank(ld, i + 1);
            continue;
        }
        return i < ld->len && ld->data[i] == '}' ? PROBE_PLAIN : PROBE_BAD;
    }
}

/* Hand over each element of the items array at data[pos] ('['); *end = past its ']'. */
static enum hnp_err json_items(struct loader *ld, size_t pos, size_t *end)
{
    size_t i = skip_blank(ld, pos + 1);
    if (i < ld->len && ld->data[i] == ']') {
        *end = i + 1;
        return HNP_OK;
    }
    for (size_t index = 0;; index++) {
        size_t stop;
        switch (scan_value(ld, i, 0, &stop)) {
        case SCAN_DEEP:
            return json_deep(ld, i, stop);
        case SCAN_OK:
        case SCAN_BAD: /* jansson will say what is wrong */
            break;
        }
        seek_line(ld, i);
        long line = ld->line;
        json_t *item = NULL;
        enum hnp_err rc = json_parse_at(ld, &i, &item);
        if (rc != HNP_OK)
            return rc;
        if (!json_is_object(item)) {
            rc = item_error(ld, line, index, type_phrase(item));
            json_decref(item);
            return rc;
        }
        rc = emit(ld, item, line);
        json_decref(item);
        if (rc != HNP_OK)
            return rc;
        i = skip_blank(ld, i);
        if (i < ld->len && ld->data[i] == ',') {
            i = skip_blank(ld, i + 1);
            continue;
        }
        if (i < ld->len && ld->data[i] == ']') {
            *end = i + 1;
            return HNP_OK;
        }
        return json_syntax(ld, i, "',' or ']'");
    }
}

/*
 * Walk the List wrapper object at data[pos] ('{'): stream its items array,
 * parse (to validate) and drop every other member. *end = past its '}'.
 */
static enum hnp_err json_list(struct loader *ld, size_t pos, size_t *end)
{
    bool seen_items = false;
    size_t i = skip_blank(ld, pos + 1);
    if (i < ld->len && ld->data[i] == '}') {
        *end = i + 1;
        return HNP_OK;
    }
    for (;;) {
        if (i >= ld->len || ld->data[i] != '"')
            return json_syntax(ld, i, "string or '}'");
        json_t *key = NULL;
        enum hnp_err rc = json_parse_at(ld, &i, &key);
        if (rc != HNP_OK)
            return rc;
        bool items = json_string_length(key) == 5 && !strcmp(json_string_value(key), "items");
        json_decref(key);
        i = skip_blank(ld, i);
        if (i >= ld->len || ld->data[i] != ':')
            return json_syntax(ld, i, "':'");
        i = skip_blank(ld, i + 1);
        if (items && i < ld->len && ld->data[i] == '[') {
            if (seen_items) {
                seek_line(ld, i);
                return schema_error(ld, ld->line, "duplicate \"items\" array");
            }
            seen_items = true;
            rc = json_items(ld, i, &i);
            if (rc != HNP_OK)
                return rc;
        } else {
            size_t stop;
            if (scan_value(ld, i, 1, &stop) == SCAN_DEEP)
                return json_deep(ld, pos, stop);
            json_t *member = NULL;
            rc = json_parse_at(ld, &i, &member);
            if (rc != HNP_OK)
                return rc;
            json_decref(member);
        }
        i = skip_blank(ld, i);
        if (i < ld->len && ld->data[i] == ',') {
            i = skip_blank(ld, i + 1);
            continue;
        }
        if (i < ld->len && ld->data[i] == '}') {
            *end = i + 1;
            return HNP_OK;
        }
        return json_syntax(ld, i, "',' or '}'");
    }
}

static enum hnp_err load_json(struct loader *ld, size_t pos)
{
    for (;;) {
        pos = skip_blank(ld, pos);
        if (pos >= ld->len)
            return HNP_OK;
        seek_line(ld, pos);
        long line = ld->line;
        size_t at;
        enum hnp_err rc;

        if (ld->data[pos] == '{') {
            switch (probe_object(ld, pos, &at)) {
            case PROBE_LIST:
                rc = json_list(ld, pos, &pos);
                if (rc != HNP_OK)
                    return rc;
                continue;
            case PROBE_DEEP:
                return json_deep(ld, pos, at);
            case PROBE_PLAIN:
            case PROBE_BAD:
                break;
            }
        } else if (scan_value(ld, pos, 0, &at) == SCAN_DEEP) {
            return json_deep(ld, pos, at);
        }

        json_t *value = NULL;
        rc = json_parse_at(ld, &pos, &value);
        if (rc != HNP_OK)
            return rc;
        if (json_is_null(value))
            continue;
        if (!json_is_object(value)) {
            char what[64];
            snprintf(what, sizeof(what), "top-level JSON value is %s, not an object",
                     type_phrase(value));
            json_decref(value);
            return schema_error(ld, line, what);
        }
        rc = emit(ld, value, line);
        json_decref(value);
        if (rc != HNP_OK)
            return rc;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* YAML                                                                                        */

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

enum frame_kind { FRAME_MAP, FRAME_SEQ, FRAME_ITEMS };

struct frame {
    enum frame_kind kind;
    json_t *node; /* object or array being built (owned); NULL for FRAME_ITEMS */
    char *key;    /* FRAME_MAP: pending key (owned), NULL while a key is expected */
    size_t key_len;
    long line;    /* where the collection starts */
    size_t count; /* FRAME_ITEMS: elements handed over so far */
};

struct builder {
    struct frame *stack;
    size_t sp, cap;
    size_t base;       /* stack index of the root of the object being built */
    bool root_is_list; /* the document root had an items sequence: do not emit it */
};

static void builder_clear(struct builder *b)
{
    for (size_t i = 0; i < b->sp; i++) {
        json_decref(b->stack[i].node);
        free(b->stack[i].key);
    }
    b->sp = 0;
    b->base = 0;
    b->root_is_list = false;
}

static void builder_free(struct builder *b)
{
    builder_clear(b);
    free(b->stack);
}

static enum hnp_err push(struct loader *ld, struct builder *b, enum frame_kind kind, json_t *node,
                         long line)
{
    if (b->sp == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        struct frame *stack = realloc(b->stack, cap * sizeof(*stack));
        if (stack == NULL) {
            json_decref(node);
            return hnp_error_set(ld->err, HNP_ERR_NOMEM, ld->name, "out of memory");
        }
        b->stack = stack;
        b->cap = cap;
    }
    b->stack[b->sp++] = (struct frame){.kind = kind, .node = node, .line = line};
    return HNP_OK;
}

static bool is_digits(const char *s, size_t n, int base)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = base == 16
                      ? (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
                  : base == 8 ? c >= '0' && c <= '7'
                              : c >= '0' && c <= '9';
        if (!ok)
            return false;
    }
    return true;
}

/*
 * An integer of the core schema (digits s[0, n) in base); out of int64 range
 * it becomes a real, and past the range of a double the string text[0, len).
 */
static json_t *make_int(const char *s, size_t n, int base, bool negative, const char *text,
                        size_t len)
{
    uint64_t v = 0;
    double d = 0;
    bool overflow = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        unsigned digit = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
        d = d * base + digit;
        if (v > (UINT64_MAX - digit) / (uint64_t)base)
            overflow = true;
        else
            v = v * (uint64_t)base + digit;
    }
    if (!overflow && !negative && v <= (uint64_t)INT64_MAX)
        return json_integer((json_int_t)v);
    if (!overflow && negative && v <= (uint64_t)INT64_MAX + 1)
        return json_integer(v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(json_int_t)v);
    if (base == 10)
        d = strtod(text, NULL); /* signed and correctly rounded, unlike the sum */
    if (!isfinite(d))
        return json_stringn_nocheck(text, len);
    return json_real(d);
}

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static bool is_core_float(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        size_t frac = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, frac++;
        if (digits == 0 && frac == 0)
            return false;
    } else if (digits == 0) {
        return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t exp = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, exp++;
        if (exp == 0)
            return false;
    }
    return i == n;
}

static bool equals_any(const char *s, size_t n, const char *const *words)
{
    for (; *words != NULL; words++)
        if (strlen(*words) == n && memcmp(s, *words, n) == 0)
            return true;
    return false;
}

/* Resolve a plain scalar (NUL-terminated, n bytes) by the YAML 1.2 core schema. */
static json_t *resolve_plain(const char *s, size_t n)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};

    if (equals_any(s, n, nulls))
        return json_null();
    if (equals_any(s, n, trues))
        return json_true();
    if (equals_any(s, n, falses))
        return json_false();
    if (n > 2 && s[0] == '0' && s[1] == 'x' && is_digits(s + 2, n - 2, 16))
        return make_int(s + 2, n - 2, 16, false, s, n);
    if (n > 2 && s[0] == '0' && s[1] == 'o' && is_digits(s + 2, n - 2, 8))
        return make_int(s + 2, n - 2, 8, false, s, n);
    size_t sign = n > 0 && (s[0] == '-' || s[0] == '+');
    if (is_digits(s + sign, n - sign, 10))
        return make_int(s + sign, n - sign, 10, s[0] == '-', s, n);
    if (is_core_float(s, n)) {
        double d = strtod(s, NULL);
        if (isfinite(d))
            return json_real(d);
    }
    return json_stringn_nocheck(s, n);
}

/*
 * The JSON value of a scalar event. Quoted, block and !!str scalars are
 * strings; plain ones are resolved; !!int, !!float, !!bool and !!null force
 * the resolution and refuse a value of another type; other tags are ignored.
 */
static enum hnp_err scalar_value(struct loader *ld, const yaml_event_t *ev, json_t **out)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    const char *want = NULL;

    if (tag != NULL && strncmp(tag, YAML_TAG_PREFIX, strlen(YAML_TAG_PREFIX)) == 0) {
        const char *t = tag + strlen(YAML_TAG_PREFIX);
        if (!strcmp(t, "int") || !strcmp(t, "float") || !strcmp(t, "bool") || !strcmp(t, "null"))
            want = t;
        else if (!strcmp(t, "str"))
            plain = false;
    } else if (tag != NULL && !strcmp(tag, "!")) {
        plain = false;
    }

    json_t *value = plain || want ? resolve_plain(s, n) : json_stringn_nocheck(s, n);
    if (value == NULL)
        return hnp_error_set(ld->err, HNP_ERR_NOMEM, ld->name, "out of memory");
    if (want != NULL) {
        bool ok = !strcmp(want, "int")     ? json_is_integer(value)
                  : !strcmp(want, "float") ? json_is_number(value)
                  : !strcmp(want, "bool")  ? json_is_boolean(value)
                                           : json_is_null(value);
        if (ok && json_is_integer(value) && !strcmp(want, "float")) {
            json_t *real = json_real((double)json_integer_value(value));
            json_decref(value);
            value = real;
            if (value == NULL)
                return hnp_error_set(ld->err, HNP_ERR_NOMEM, ld->name, "out of memory");
        }
        if (!ok) {
            json_decref(value);
            char where[sizeof(ld->err->where)];
            where_line_col(ld, where, sizeof(where), (long)ev->start_mark.line + 1,
                           (long)ev->start_mark.column + 1);
            char text[65];
            printable(text, sizeof(text), s, n);
            return hnp_error_set(ld->err, HNP_ERR_PARSE, where, "'%s' is not a valid !!%s", text,
                                 want);
        }
    }
    *out = value;
    return HNP_OK;
}

static const char *yaml_type_phrase(const json_t *value)
{
    if (json_is_array(value))
        return "a sequence";
    if (json_is_object(value))
        return "a mapping";
    return type_phrase(value);
}

/* Attach a finished value (stolen) to the collection on top of the stack. */
static enum hnp_err attach(struct loader *ld, struct builder *b, json_t *value, long line)
{
    struct frame *top = &b->stack[b->sp - 1];
    enum hnp_err rc = HNP_OK;
    int fail = 0;

    switch (top->kind) {
    case FRAME_ITEMS:
        if (!json_is_object(value)) {
            rc = item_error(ld, line, top->count, yaml_type_phrase(value));
            break;
        }
        top->count++;
        rc = emit(ld, value, line);
        break;
    case FRAME_SEQ:
        line_map_put(&ld->lines, value, line);
        fail = json_array_append(top->node, value);
        break;
    case FRAME_MAP:
        line_map_put(&ld->lines, value, line);
        fail = json_object_setn_nocheck(top->node, top->key, top->key_len, value);
        free(top->key);
        top->key = NULL;
        break;
    }
    json_decref(value);
    if (fail)
        return hnp_error_set(ld->err, HNP_ERR_NOMEM, ld->name, "out of memory");
    return rc;
}

static enum hnp_err on_scalar(struct loader *ld, struct builder *b, const yaml_event_t *ev)
{
    long line = (long)ev->start_mark.line + 1;
    json_t *value = NULL;

    if (b->sp > 0 && b->stack[b->sp - 1].kind == FRAME_MAP && b->stack[b->sp - 1].key == NULL) {
        /* A mapping key: its text as written, whatever it would resolve to. */
        struct frame *top = &b->stack[b->sp - 1];
        top->key = malloc(ev->data.scalar.length + 1);
        if (top->key == NULL)
            return hnp_error_set(ld->err, HNP_ERR_NOMEM, ld->name, "out of memory");
        memcpy(top->key, ev->data.scalar.value, ev->data.scalar.length + 1);
        top->key_len = ev->data.scalar.length;
        return HNP_OK;
    }
    enum hnp_err rc = scalar_value(ld, ev, &value);
    if (rc != HNP_OK)
        return rc;
    if (b->sp == 0) {
        bool null = json_is_null(value);
        char what[64];
        snprintf(what, sizeof(what), "YAML document is %s, not a mapping", type_phrase(value));
        json_decref(value);
        return null ? HNP_OK : schema_error(ld, line, what);
    }
    return attach(ld, b, value, line);
}

static enum hnp_err on_start(struct loader *ld, struct builder *b, const yaml_event_t *ev,
                             bool is_map)
{
    long line = (long)ev->start_mark.line + 1;

    if (b->sp == 0) {
        if (!is_map)
            return schema_error(ld, line, "YAML document is a sequence, not a mapping");
    } else {
        struct frame *top = &b->stack[b->sp - 1];
        if (top->kind == FRAME_MAP && top->key == NULL)
            return schema_error(ld, line, "a YAML mapping key is not a scalar");
        if (top->kind == FRAME_ITEMS && !is_map)
            return item_error(ld, line, top->count, "a sequence");
        if (b->sp == 1 && top->kind == FRAME_MAP && !is_map && top->key_len == 5 &&
            !memcmp(top->key, "items", 5)) {
            if (b->root_is_list)
                return schema_error(ld, line, "duplicate \"items\" sequence");
            b->root_is_list = true;
            b->base = 2;
            return push(ld, b, FRAME_ITEMS, NULL, line);
        }
    }
    if (b->sp + 1 - b->base > ld->max_depth)
        return limit_error(ld, line, b->sp > b->base ? b->stack[b->base].line : line);
    json_t *node = is_map ? json_object() : json_array();
    if (node == NULL)
        return hnp_error_set(ld->err, HNP_ERR_NOMEM, ld->name, "out of memory");
    return push(ld, b, is_map ? FRAME_MAP : FRAME_SEQ, node, line);
}

static enum hnp_err on_end(struct loader *ld, struct builder *b)
{
    if (b->sp == 0) /* libyaml pairs every end with a start; never trust that blindly */
        return hnp_error_set(ld->err, HNP_ERR_PARSE, ld->name, "unbalanced YAML events");
    struct frame done = b->stack[--b->sp];

    if (done.kind == FRAME_ITEMS) {
        struct frame *root = &b->stack[0];
        free(root->key);
        root->key = NULL;
        b->base = 0;
        return HNP_OK;
    }
    free(done.key); /* NULL unless libyaml ends a mapping after a key, which it does not */
    if (b->sp > 0)
        return attach(ld, b, done.node, done.line);

    /* The document root. */
    enum hnp_err rc = b->root_is_list ? HNP_OK : emit(ld, done.node, done.line);
    line_map_reset(&ld->lines); /* nothing of this document may alias the next one's nodes */
    json_decref(done.node);
    b->root_is_list = false;
    return rc;
}

static enum hnp_err yaml_error(struct loader *ld, const yaml_parser_t *parser)
{
    char where[sizeof(ld->err->where)];
    long line, col;

    switch (parser->error) {
    case YAML_MEMORY_ERROR:
        return hnp_error_set(ld->err, HNP_ERR_NOMEM, ld->name, "out of memory parsing YAML");
    case YAML_READER_ERROR:
        position_of(ld, parser->problem_offset, &line, &col);
        where_line_col(ld, where, sizeof(where), line, col);
        if (parser->problem_value != -1)
            return hnp_error_set(ld->err, HNP_ERR_PARSE, where, "%s: #%X", parser->problem,
                                 (unsigned)parser->problem_value);
        return hnp_error_set(ld->err, HNP_ERR_PARSE, where, "%s", parser->problem);
    default:
        where_line_col(ld, where, sizeof(where), (long)parser->problem_mark.line + 1,
                       (long)parser->problem_mark.column + 1);
        if (parser->context != NULL)
            return hnp_error_set(ld->err, HNP_ERR_PARSE, where, "%s: %s", parser->context,
                                 parser->problem ? parser->problem : "syntax error");
        return hnp_error_set(ld->err, HNP_ERR_PARSE, where, "%s",
                             parser->problem ? parser->problem : "syntax error");
    }
}

static enum hnp_err load_yaml(struct loader *ld)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return hnp_error_set(ld->err, HNP_ERR_NOMEM, ld->name, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)ld->data, ld->len);

    struct builder b = {0};
    enum hnp_err rc = HNP_OK;
    bool done = false;
    while (rc == HNP_OK && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = yaml_error(ld, &parser);
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_ALIAS_EVENT: {
            char where[sizeof(ld->err->where)];
            where_line_col(ld, where, sizeof(where), (long)ev.start_mark.line + 1,
                           (long)ev.start_mark.column + 1);
            rc = hnp_error_set(ld->err, HNP_ERR_PARSE, where, "YAML aliases are not supported");
            break;
        }
        case YAML_SCALAR_EVENT:
            rc = on_scalar(ld, &b, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            rc = on_start(ld, &b, &ev, ev.type == YAML_MAPPING_START_EVENT);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            rc = on_end(ld, &b);
            break;
        default: /* stream start, document start and end */
            break;
        }
        yaml_event_delete(&ev);
    }
    builder_free(&b);
    yaml_parser_delete(&parser);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Entry points                                                                                */

enum hnp_err hnp_load_buffer(const char *data, size_t len, const char *name,
                             const struct hnp_load_limits *limits, hnp_object_fn fn, void *ctx,
                             struct hnp_error *err)
{
    size_t max_input =
        limits && limits->max_input_bytes ? limits->max_input_bytes : DEFAULT_MAX_INPUT;
    struct loader ld = {
        .data = data,
        .len = len,
        .name = name ? name : "<input>",
        .max_depth = limits && limits->max_depth ? limits->max_depth : DEFAULT_MAX_DEPTH,
        .fn = fn,
        .ctx = ctx,
        .err = err,
        .line = 1,
    };

    hnp_error_clear(err);
    if (len > max_input)
        return hnp_error_set(err, HNP_ERR_LIMIT, ld.name,
                             "%s is %zu bytes, more than the limit of %zu bytes", ld.name, len,
                             max_input);
    if (len > 0 && data == NULL)
        return hnp_error_set(err, HNP_ERR_IO, ld.name, "no data");

    size_t start = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        start = 3;
    ld.start = ld.line_pos = ld.line_start = start;
    size_t first = skip_blank(&ld, start);

    enum hnp_err rc = HNP_OK;
    if (first < len) {
        ld.yaml = !(data[first] == '{' || data[first] == '[');
        rc = ld.yaml ? load_yaml(&ld) : load_json(&ld, first);
    }
    line_map_free(&ld.lines);
    if (rc == HNP_OK && ld.emitted == 0)
        rc = hnp_error_set(err, HNP_ERR_EMPTY, ld.name, "no Kubernetes objects in %s", ld.name);
    return rc;
}

static enum hnp_err too_big(const char *path, size_t max, struct hnp_error *err)
{
    return hnp_error_set(err, HNP_ERR_LIMIT, path, "%s is larger than the limit of %zu bytes", path,
                         max);
}

static enum hnp_err read_error(const char *path, int e, struct hnp_error *err)
{
    return hnp_error_set(err, HNP_ERR_IO, path, "cannot read %s: %s", path,
                         e ? strerror(e) : "read error");
}

/* Read all of f into a new buffer (*out, not NUL-terminated) of at most max bytes. */
static enum hnp_err read_stream(FILE *f, const char *path, size_t max, char **out, size_t *out_len,
                                struct hnp_error *err)
{
    size_t cap = READ_CHUNK, used = 0;

    if (max > SIZE_MAX / 2)
        max = SIZE_MAX / 2; /* so that max + 1 and doubling cannot overflow */

    /* A regular file tells its size: read it into a buffer of the right size at once. */
    if (f != stdin && fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        bool rewound = fseek(f, 0, SEEK_SET) == 0;
        if (rewound && size >= 0 && (unsigned long)size <= max) {
            cap = (size_t)size + 1;
        } else if (rewound && size >= 0) {
            /* Too big, unless it is no file at all (a directory reports odd sizes). */
            char byte;
            errno = 0;
            if (fread(&byte, 1, 1, f) == 0 && ferror(f))
                return read_error(path, errno, err);
            return too_big(path, max, err);
        }
    }
    if (cap > max + 1)
        cap = max + 1;
    char *buf = malloc(cap);
    if (buf == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory reading %s", path);
    for (;;) {
        if (used == cap) {
            if (cap > max)
                break;
            size_t next = cap <= (max + 1) / 2 ? cap * 2 : max + 1;
            char *grown = realloc(buf, next);
            if (grown == NULL) {
                free(buf);
                return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory reading %s", path);
            }
            buf = grown;
            cap = next;
        }
        errno = 0;
        size_t n = fread(buf + used, 1, cap - used, f);
        used += n;
        if (n == 0) {
            if (ferror(f)) {
                int e = errno;
                free(buf);
                return read_error(path, e, err);
            }
            break;
        }
    }
    if (used > max) {
        free(buf);
        return too_big(path, max, err);
    }
    *out = buf;
    *out_len = used;
    return HNP_OK;
}

enum hnp_err hnp_load_file(const char *path, const struct hnp_load_limits *limits, hnp_object_fn fn,
                           void *ctx, struct hnp_error *err)
{
    size_t max = limits && limits->max_input_bytes ? limits->max_input_bytes : DEFAULT_MAX_INPUT;
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = stdin;

    hnp_error_clear(err);
    if (!is_stdin) {
        errno = 0;
        f = fopen(path, "rb");
        if (f == NULL) {
            int e = errno;
            return hnp_error_set(err, HNP_ERR_IO, path, "cannot open %s: %s", path,
                                 e ? strerror(e) : "unknown error");
        }
    }
    char *buf = NULL;
    size_t len = 0;
    enum hnp_err rc = read_stream(f, path, max, &buf, &len, err);
    if (!is_stdin)
        fclose(f);
    if (rc != HNP_OK)
        return rc;
    rc = hnp_load_buffer(buf, len, path, limits, fn, ctx, err);
    free(buf);
    return rc;
}
