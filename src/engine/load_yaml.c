/*
 * load_yaml.c - the YAML reader of a load (load.h, state in load_internal.h).
 *
 * libyaml reads through a handler over the load's window, which keeps the
 * last raw buffer's worth of bytes libyaml was given, so a reader error
 * (invalid UTF-8) can still be placed. Events build a jansson tree per
 * document with an explicit stack (no recursion); the elements of a root
 * `items` sequence are built, handed over and freed one at a time. Scalars
 * follow the YAML 1.2 core schema; aliases are refused (no billion laughs).
 * The size of the object being built is checked at every event from
 * libyaml's marks; the read handler refuses to feed a stretch without any
 * object boundary much longer than max_object_bytes (a giant scalar, which
 * libyaml would otherwise buffer whole). libyaml counts YAML lines itself.
 */
#include "load_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * How far past max_object_bytes the YAML read handler lets a stretch without
 * any object boundary run: libyaml reads ahead of the event it reports (its
 * 16 KiB raw buffer, the characters decoded from it, a simple key's 1024
 * characters), and this must cover that.
 */
#define YAML_READ_AHEAD ((size_t)1 << 17)

/* The 1-based line of a libyaml mark. */
static long mark_line(const yaml_mark_t *mark)
{
    return (long)mark->line + 1;
}

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
            hnp_loader_where_line_col(ld, where, sizeof(where), mark_line(&ev->start_mark),
                                      (long)ev->start_mark.column + 1);
            char text[65];
            hnp_loader_printable(text, sizeof(text), s, n);
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
    return hnp_loader_type_phrase(value);
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
            rc = hnp_loader_item_error(ld, line, top->count, yaml_type_phrase(value));
            break;
        }
        top->count++;
        rc = hnp_loader_emit(ld, value, line);
        break;
    case FRAME_SEQ:
        hnp_line_map_put(&ld->lines, value, line);
        fail = json_array_append(top->node, value);
        break;
    case FRAME_MAP:
        if (b->sp == 1 && !b->root_is_list && top->key_len == 4 && !memcmp(top->key, "kind", 4))
            hnp_loader_note_list_kind(ld, value);
        hnp_line_map_put(&ld->lines, value, line);
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

/* An object boundary: the read handler measures the stretch from here on. */
static void boundary(struct loader *ld, long line)
{
    ld->seg_handed = ld->handed;
    ld->seg_line = line;
}

/* An object (or the rest of a List wrapper) starts at mark, on line: check its size from here. */
static void measure_from(struct loader *ld, const yaml_mark_t *mark, long line)
{
    ld->measuring = true;
    ld->obj_index = mark->index;
    ld->obj_line = line;
    boundary(ld, line);
}

static void measure_stop(struct loader *ld, long line)
{
    ld->measuring = false;
    boundary(ld, line);
}

static enum hnp_err on_scalar(struct loader *ld, struct builder *b, const yaml_event_t *ev)
{
    long line = mark_line(&ev->start_mark);
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
        snprintf(what, sizeof(what), "YAML document is %s, not a mapping",
                 hnp_loader_type_phrase(value));
        json_decref(value);
        return null ? HNP_OK : hnp_loader_schema_error(ld, line, what);
    }
    return attach(ld, b, value, line);
}

static enum hnp_err on_start(struct loader *ld, struct builder *b, const yaml_event_t *ev,
                             bool is_map)
{
    long line = mark_line(&ev->start_mark);

    if (b->sp == 0) {
        if (!is_map)
            return hnp_loader_schema_error(ld, line, "YAML document is a sequence, not a mapping");
        measure_from(ld, &ev->start_mark, line);
    } else {
        struct frame *top = &b->stack[b->sp - 1];
        if (top->kind == FRAME_MAP && top->key == NULL)
            return hnp_loader_schema_error(ld, line, "a YAML mapping key is not a scalar");
        if (top->kind == FRAME_ITEMS && !is_map)
            return hnp_loader_item_error(ld, line, top->count, "a sequence");
        if (top->kind == FRAME_ITEMS)
            measure_from(ld, &ev->start_mark, line);
        if (b->sp == 1 && top->kind == FRAME_MAP && !is_map && top->key_len == 5 &&
            !memcmp(top->key, "items", 5)) {
            if (b->root_is_list)
                return hnp_loader_schema_error(ld, line, "duplicate \"items\" sequence");
            b->root_is_list = true;
            ld->lists++;
            b->base = 2;
            measure_stop(ld, line); /* the items are measured one by one */
            return push(ld, b, FRAME_ITEMS, NULL, line);
        }
    }
    if (b->sp + 1 - b->base > ld->max_depth)
        return hnp_loader_limit_error(ld, line, b->sp > b->base ? b->stack[b->base].line : line);
    json_t *node = is_map ? json_object() : json_array();
    if (node == NULL)
        return hnp_error_set(ld->err, HNP_ERR_NOMEM, ld->name, "out of memory");
    return push(ld, b, is_map ? FRAME_MAP : FRAME_SEQ, node, line);
}

static enum hnp_err on_end(struct loader *ld, struct builder *b, const yaml_event_t *ev)
{
    if (b->sp == 0) /* libyaml pairs every end with a start; never trust that blindly */
        return hnp_error_set(ld->err, HNP_ERR_PARSE, ld->name, "unbalanced YAML events");
    struct frame done = b->stack[--b->sp];

    if (done.kind == FRAME_ITEMS) {
        struct frame *root = &b->stack[0];
        free(root->key);
        root->key = NULL;
        b->base = 0;
        measure_from(ld, &ev->end_mark, root->line); /* the rest of the wrapper */
        return HNP_OK;
    }
    free(done.key); /* NULL unless libyaml ends a mapping after a key, which it does not */
    if (b->sp > 0) {
        if (b->stack[b->sp - 1].kind == FRAME_ITEMS)
            measure_stop(ld, mark_line(&ev->end_mark));
        return attach(ld, b, done.node, done.line);
    }

    /* The document root. */
    measure_stop(ld, mark_line(&ev->end_mark));
    enum hnp_err rc = b->root_is_list ? HNP_OK : hnp_loader_emit(ld, done.node, done.line);
    hnp_line_map_reset(&ld->lines); /* nothing of this document may alias the next one's nodes */
    json_decref(done.node);
    b->root_is_list = false;
    ld->item_kind[0] = '\0';
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
        hnp_loader_position_of(ld, parser->problem_offset, &line, &col);
        hnp_loader_where_line_col(ld, where, sizeof(where), line, col);
        if (parser->problem_value != -1)
            return hnp_error_set(ld->err, HNP_ERR_PARSE, where, "%s: #%X", parser->problem,
                                 (unsigned)parser->problem_value);
        return hnp_error_set(ld->err, HNP_ERR_PARSE, where, "%s", parser->problem);
    default:
        hnp_loader_where_line_col(ld, where, sizeof(where), mark_line(&parser->problem_mark),
                                  (long)parser->problem_mark.column + 1);
        if (parser->context != NULL)
            return hnp_error_set(ld->err, HNP_ERR_PARSE, where, "%s: %s", parser->context,
                                 parser->problem ? parser->problem : "syntax error");
        return hnp_error_set(ld->err, HNP_ERR_PARSE, where, "%s",
                             parser->problem ? parser->problem : "syntax error");
    }
}

/*
 * libyaml's read handler: hands out the window from ld->handed on. Before the
 * window is refilled it keeps the bytes libyaml may still report a reader
 * error in (its raw buffer's worth), and it refuses to go on when the input
 * since the last object boundary is far longer than max_object_bytes.
 */
static int yaml_read(void *data, unsigned char *buffer, size_t size, size_t *size_read)
{
    struct loader *ld = data;

    *size_read = 0;
    if (ld->handed - ld->seg_handed > (uint64_t)ld->max_object + YAML_READ_AHEAD) {
        hnp_loader_object_too_big(ld, ld->seg_line);
        return 0;
    }
    if (ld->handed == hnp_loader_window_end(ld)) {
        const yaml_parser_t *p = ld->parser;
        uint64_t raw = (uint64_t)(p->raw_buffer.end - p->raw_buffer.start);
        uint64_t keep = ld->handed - ld->base > raw ? ld->handed - raw : ld->base;
        if (!hnp_loader_more(ld, keep, false))
            return ld->fail == HNP_OK;
    }
    size_t n = (size_t)(hnp_loader_window_end(ld) - ld->handed);
    if (n > size)
        n = size;
    if (ld->chunk != 0 && n > ld->chunk)
        n = ld->chunk;
    memcpy(buffer, hnp_loader_at(ld, ld->handed), n);
    ld->handed += n;
    *size_read = n;
    return 1;
}

enum hnp_err hnp_loader_yaml(struct loader *ld)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return hnp_error_set(ld->err, HNP_ERR_NOMEM, ld->name, "out of memory");
    ld->handed = ld->seg_handed = 0; /* the window still starts at the input's start */
    ld->seg_line = 1;
    ld->parser = &parser;
    yaml_parser_set_input(&parser, yaml_read, ld);

    struct builder b = {0};
    enum hnp_err rc = HNP_OK;
    bool done = false;
    while (rc == HNP_OK && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = ld->fail != HNP_OK ? ld->fail : yaml_error(ld, &parser);
            break;
        }
        if (ld->measuring && ev.end_mark.index - ld->obj_index > ld->max_object) {
            rc = hnp_loader_object_too_big(ld, ld->obj_line);
            yaml_event_delete(&ev);
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            boundary(ld, mark_line(&ev.start_mark));
            break;
        case YAML_ALIAS_EVENT: {
            char where[sizeof(ld->err->where)];
            hnp_loader_where_line_col(ld, where, sizeof(where), mark_line(&ev.start_mark),
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
            rc = on_end(ld, &b, &ev);
            break;
        default: /* stream start, document end */
            break;
        }
        yaml_event_delete(&ev);
    }
    builder_free(&b);
    yaml_parser_delete(&parser);
    ld->parser = NULL;
    return rc;
}
