/*
 * load.c - read Kubernetes objects from YAML or JSON input (see load.h).
 *
 * Input is streamed through a window: bytes [base, base + len) of the input
 * sit at data[0, len). Offsets are absolute (uint64_t, from the start of the
 * input) so they stay valid when the window moves. hnp_loader_more() reads on: it drops
 * what lies before a `keep` offset (the start of the value being read),
 * moves the rest to the front, grows the window when less than half of it
 * is free (never past max_object_bytes for a value) and shrinks it back when
 * a big value is gone. Memory input is the same code over a fixed window
 * that holds everything and never refills.
 *
 * JSON: the window's bytes go to the engine's List splitter (listsplit.h)
 * as they arrive. It finds where each top-level value ends and, in an
 * object whose "items" member is an array (a `kind: List`), where each
 * wrapper member and each element of items ends, and measures nesting, so
 * a deep input fails with HNP_ERR_LIMIT before anything is allocated. The
 * window keeps everything from the start of the value being read (a whole
 * object until it is known to be a List, then one item or member), and
 * jansson parses each value from there (json_loadb(JSON_DISABLE_EOF_CHECK)):
 * every byte is still checked by jansson (members of a List wrapper are
 * parsed and dropped), so the splitter need not validate inside values.
 *
 * YAML: load_yaml.c, over the same window (the state is in load_internal.h).
 *
 * What a load reports does not depend on the window's size: every limit is
 * decided from offsets (the splitter never looks more than max_object_bytes
 * past a value's start), and a malformed token is in the window before
 * jansson is asked about it. The one exception is the YAML read handler's
 * stop for a giant scalar, whose exact point depends on how much libyaml
 * asked for at once; and when YAML holds an invalid byte after other
 * errors or objects, which comes first depends on libyaml's read-ahead
 * (as it always did). Tests load their inputs through every window size
 * from 1 byte up and compare.
 *
 * Line numbers: for JSON a counter moves forward over the window with memchr
 * as values are reached (and over bytes about to be dropped), so it costs one
 * pass in total; it also keeps the column, so a position stays exact when the
 * start of its line has left the window. jansson's line and column (counted
 * from the start of the value) are translated to the file. libyaml counts
 * YAML lines itself. Columns are 1-based and count characters, as jansson and
 * libyaml do.
 */
#include "load_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listsplit.h"

#define DEFAULT_MAX_DEPTH 128
#define DEFAULT_MAX_OBJECT ((size_t)256 << 20)
#define DEFAULT_WINDOW ((size_t)1 << 20)

/* jansson flags for one value in the middle of a buffer. */
#define JSON_VALUE_FLAGS (JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY)

/* What this load used, when the caller asked (struct hnp_load_limits.stats). */
static void count_window(struct loader *ld)
{
    if (ld->stats != NULL && ld->cap > ld->stats->window_peak)
        ld->stats->window_peak = ld->cap;
}

/*
 * Remember node's line; out of memory only loses the detail. true, false and
 * null are singletons in jansson: they have no line of their own.
 */
void hnp_line_map_put(struct hnp_line_map *m, const json_t *node, long line)
{
    if (json_is_true(node) || json_is_false(node) || json_is_null(node) || line < 0)
        return;
    uint64_t h = hnp_hash_ptr(node);
    size_t pos = HNP_HASHMAP_START;
    void *old = hnp_hashmap_next(&m->map, h, &pos);
    if (old != NULL)
        hnp_hashmap_remove(&m->map, h, old);
    (void)hnp_hashmap_put(&m->map, h, HNP_HASHMAP_FROM_INDEX((size_t)line));
}

void hnp_line_map_reset(struct hnp_line_map *m)
{
    hnp_hashmap_reset(&m->map);
}

static void line_map_free(struct hnp_line_map *m)
{
    hnp_hashmap_clear(&m->map);
}

long hnp_loaded_object_line(const struct hnp_loaded_object *object, const json_t *node)
{
    if (object->lines == NULL || node == NULL)
        return object->line;
    size_t pos = HNP_HASHMAP_START;
    void *v = hnp_hashmap_next(&object->lines->map, hnp_hash_ptr(node), &pos);
    return v != NULL ? (long)HNP_HASHMAP_TO_INDEX(v) : object->line;
}

/* No more bytes will come into the window. */
static bool input_done(const struct loader *ld)
{
    return ld->eof || ld->fail != HNP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Common helpers                                                                              */

/* Remember the item kind a List wrapper's kind implies ("PodList" -> "Pod"). */
void hnp_loader_note_list_kind(struct loader *ld, const json_t *kind)
{
    const char *text = json_string_value(kind);
    size_t len = text ? strlen(text) : 0;
    ld->item_kind[0] = '\0';
    if (len > 4 && len - 4 < sizeof(ld->item_kind) && strcmp(text + len - 4, "List") == 0) {
        memcpy(ld->item_kind, text, len - 4);
        ld->item_kind[len - 4] = '\0';
    }
}

enum hnp_err hnp_loader_emit(struct loader *ld, json_t *obj, long line)
{
    if (ld->item_kind[0] != '\0' && json_object_get(obj, "kind") == NULL &&
        json_object_set_new(obj, "kind", json_string(ld->item_kind)) != 0)
        return hnp_error_set(ld->err, HNP_ERR_NOMEM, ld->name, "out of memory");
    struct hnp_loaded_object object = {
        .obj = obj, .name = ld->name, .line = line, .lines = ld->yaml ? &ld->lines : NULL};
    ld->emitted++;
    enum hnp_err rc = ld->fn ? ld->fn(&object, ld->ctx) : HNP_OK;
    hnp_line_map_reset(&ld->lines);
    return rc;
}

/* Characters (UTF-8 lead bytes) in [p, end). */
static long chars(const char *p, const char *end)
{
    long n = 0;
    for (; p < end; p++)
        n += ((unsigned char)*p & 0xC0) != 0x80;
    return n;
}

/* Move the line counter forward to offset off (clamped to the window); never backward. */
static void seek_line(struct loader *ld, uint64_t off)
{
    if (off > hnp_loader_window_end(ld))
        off = hnp_loader_window_end(ld);
    if (off <= ld->line_pos)
        return;
    const char *p = hnp_loader_at(ld, ld->line_pos);
    const char *end = hnp_loader_at(ld, off);
    const char *line_start = NULL;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            break;
        ld->line++;
        line_start = nl + 1;
        p = nl + 1;
    }
    if (line_start != NULL) {
        ld->col_pos = ld->base + (uint64_t)(line_start - ld->data);
        ld->col = 1;
    }
    ld->line_pos = off;
}

/* 1-based character column of offset off, after seek_line(ld, off). */
static long column_of(const struct loader *ld, uint64_t off)
{
    if (off < ld->col_pos)
        return ld->col;
    if (off > hnp_loader_window_end(ld))
        off = hnp_loader_window_end(ld);
    return ld->col + chars(hnp_loader_at(ld, ld->col_pos), hnp_loader_at(ld, off));
}

/* Line and column of offset off (error paths: the load stops after). */
void hnp_loader_position_of(struct loader *ld, uint64_t off, long *line, long *col)
{
    seek_line(ld, off);
    *line = ld->line;
    *col = column_of(ld, off < ld->line_pos ? ld->line_pos : off);
}

/*
 * Copy at most n bytes of src into dst (size > 0) for a message: as they are
 * when they form valid UTF-8 without control characters, else with every byte
 * outside printable ASCII replaced by '?', so messages stay valid text.
 */
void hnp_loader_printable(char *dst, size_t size, const char *src, size_t n)
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

void hnp_loader_where_line_col(const struct loader *ld, char *buf, size_t size, long line, long col)
{
    snprintf(buf, size, "%s:%ld:%ld", ld->name, line, col);
}

const char *hnp_loader_type_phrase(const json_t *value)
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

enum hnp_err hnp_loader_limit_error(struct loader *ld, long line, long object_line)
{
    char where[sizeof(ld->err->where)];
    where_line(ld, where, sizeof(where), line);
    return hnp_error_set(ld->err, HNP_ERR_LIMIT, where,
                         "object starting at line %ld is nested deeper than %zu levels",
                         object_line, ld->max_depth);
}

enum hnp_err hnp_loader_schema_error(struct loader *ld, long line, const char *message)
{
    char where[sizeof(ld->err->where)];
    where_line(ld, where, sizeof(where), line);
    return hnp_error_set(ld->err, HNP_ERR_SCHEMA, where, "%s", message);
}

/* An element of an items list that is not an object; what is e.g. "a string". */
enum hnp_err hnp_loader_item_error(struct loader *ld, long line, size_t index, const char *what)
{
    char where[sizeof(ld->err->where)];
    where_line(ld, where, sizeof(where), line);
    return hnp_error_set(ld->err, HNP_ERR_SCHEMA, where, "items[%zu] is %s, not an object", index,
                         what);
}
/* Record a failure of the source or a limit; the readers then see the input end. */
static void fail_with(struct loader *ld, enum hnp_err code, const char *where, const char *what)
{
    if (ld->fail != HNP_OK)
        return;
    ld->fail = code;
    hnp_error_set(&ld->fail_err, code, where, "%s", what);
}

/* HNP_ERR_LIMIT, recorded in ld->fail: the object starting on line is over max_object_bytes. */
enum hnp_err hnp_loader_object_too_big(struct loader *ld, long line)
{
    char where[sizeof(ld->err->where)], what[128];
    where_line(ld, where, sizeof(where), line);
    snprintf(what, sizeof(what), "object starting at line %ld is larger than %zu bytes", line,
             ld->max_object);
    fail_with(ld, HNP_ERR_LIMIT, where, what);
    return HNP_ERR_LIMIT;
}

/* The same for the value starting at offset start (not before the line counter). */
static enum hnp_err value_too_big(struct loader *ld, uint64_t start)
{
    seek_line(ld, start);
    return hnp_loader_object_too_big(ld, ld->line);
}

/* Up to n bytes from the source into dst; 0 at its end or on an error (ld->fail set). */
static size_t read_source(struct loader *ld, char *dst, size_t n)
{
    if (ld->f == NULL) {
        size_t left = ld->src_len - ld->src_pos;
        if (n > left)
            n = left;
        if (n > 0)
            memcpy(dst, ld->src + ld->src_pos, n);
        ld->src_pos += n;
        return n;
    }
    errno = 0;
    size_t got = fread(dst, 1, n, ld->f);
    if (got == 0 && ferror(ld->f)) {
        int e = errno;
        char what[sizeof(ld->err->message)];
        snprintf(what, sizeof(what), "cannot read %s: %s", ld->name,
                 e ? strerror(e) : "read error");
        fail_with(ld, HNP_ERR_IO, ld->name, what);
    }
    return got;
}

static bool less_than_half_free(const struct loader *ld)
{
    return ld->cap - ld->len < ld->cap / 2 || ld->len == ld->cap;
}

/*
 * Read more input into the window, keeping the bytes from offset keep
 * (>= base) on. object: keep is the start of one value, which may not grow
 * past max_object_bytes. True when new bytes arrived; false at the end of the
 * input or on a failure (ld->fail set: the source failed, a limit was passed,
 * out of memory).
 *
 * The bytes before keep are dropped once the window is at least half full;
 * when it still is, it doubles (for a value: up to max_object_bytes), and
 * once a big value has gone it shrinks back to its first size. So every
 * read brings at least half a window of new bytes or follows a growth, and
 * rescanning a value after a refill costs O(its size) in total.
 */
bool hnp_loader_more(struct loader *ld, uint64_t keep, bool object)
{
    if (input_done(ld))
        return false;
    size_t tail = (size_t)(hnp_loader_window_end(ld) - keep);
    if (object && tail > ld->max_object) {
        value_too_big(ld, keep);
        return false;
    }
    bool shrink = ld->cap > ld->initial && tail <= ld->initial / 2; /* a big value is gone */
    if (keep > ld->base && (less_than_half_free(ld) || shrink)) {
        /* Drop what lies before keep. The counters must pass those bytes before they go. */
        seek_line(ld, keep);
        if (ld->col_pos < keep) {
            ld->col += chars(hnp_loader_at(ld, ld->col_pos), hnp_loader_at(ld, keep));
            ld->col_pos = keep;
        }
        memmove(ld->own, hnp_loader_at(ld, keep), tail);
        ld->base = keep;
        ld->len = tail;
    }

    size_t want = ld->cap;
    size_t limit = object && ld->max_object >= ld->initial ? ld->max_object + 1 : ld->initial;
    if (less_than_half_free(ld)) {
        want = ld->cap <= SIZE_MAX / 4 ? ld->cap * 2 : ld->cap;
        if (object && want > limit)
            want = limit > ld->cap ? limit : ld->cap;
    } else if (shrink) {
        want = ld->initial;
    }
    if (want != ld->cap) {
        char *resized = realloc(ld->own, want);
        if (resized != NULL) {
            ld->own = resized;
            ld->data = resized;
            ld->cap = want;
            count_window(ld);
        } else if (want > ld->cap && ld->len == ld->cap) {
            fail_with(ld, HNP_ERR_NOMEM, ld->name, "out of memory reading the input");
            return false;
        }
    }

    size_t room = ld->cap - ld->len;
    if (ld->chunk != 0 && room > ld->chunk)
        room = ld->chunk;
    size_t n = read_source(ld, ld->own + ld->len, room);
    if (ld->stats != NULL) {
        ld->stats->refills++;
        ld->stats->bytes_read += n;
    }
    if (n == 0) {
        ld->eof = true;
        return false;
    }
    ld->read += n;
    if (ld->max_input != 0 && ld->read > ld->max_input) {
        char what[sizeof(ld->err->message)];
        snprintf(what, sizeof(what), "%s is larger than the limit of %zu bytes", ld->name,
                 ld->max_input);
        fail_with(ld, HNP_ERR_LIMIT, ld->name, what);
        return false;
    }
    ld->len += n;
    return true;
}

/* The byte at offset off, reading on (keeping from keep) when off is past the window; -1 at the
 * end. */
static int peek(struct loader *ld, uint64_t keep, bool object, uint64_t off)
{
    while (off >= hnp_loader_window_end(ld))
        if (!hnp_loader_more(ld, keep, object))
            return -1;
    return (unsigned char)*hnp_loader_at(ld, off);
}

/* ------------------------------------------------------------------------------------------ */
/* JSON                                                                                        */

static bool json_blank(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Bytes that end a bare word (number, true, false, null, or junk). */
static bool scalar_end(unsigned char c)
{
    return json_blank(c) || c == ',' || c == ':' || c == '{' || c == '}' || c == '[' || c == ']' ||
           c == '"';
}

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

/* HNP_ERR_LIMIT for a value (of the object starting on object_line) too deep at off. */
static enum hnp_err json_deep(struct loader *ld, long object_line, uint64_t off)
{
    seek_line(ld, off);
    return hnp_loader_limit_error(ld, ld->line, object_line);
}

/* Translate a jansson error for a value parsed from offset start. */
static enum hnp_err json_error(struct loader *ld, uint64_t start, const json_error_t *e)
{
    if (json_error_code(e) == json_error_out_of_memory)
        return hnp_error_set(ld->err, HNP_ERR_NOMEM, ld->name, "out of memory parsing JSON");
    seek_line(ld, start);
    long line = ld->line + (e->line > 1 ? e->line - 1 : 0);
    long col = e->line > 1 ? e->column : column_of(ld, start) - 1 + e->column;
    if (col < 1)
        col = 1;
    char where[sizeof(ld->err->where)], text[sizeof(e->text)];
    hnp_loader_where_line_col(ld, where, sizeof(where), line, col);
    hnp_loader_printable(text, sizeof(text), e->text, strlen(e->text));
    if (json_error_code(e) == json_error_stack_overflow)
        return hnp_error_set(ld->err, HNP_ERR_LIMIT, where, "JSON nested too deeply: %s", text);
    return hnp_error_set(ld->err, HNP_ERR_PARSE, where, "%s", text);
}

/* A syntax error of a List wrapper at offset off (in the window or at its end). */
static enum hnp_err json_syntax(struct loader *ld, uint64_t off, const char *expected)
{
    long line, col;
    hnp_loader_position_of(ld, off, &line, &col);
    char where[sizeof(ld->err->where)];
    hnp_loader_where_line_col(ld, where, sizeof(where), line, col);
    if (off >= hnp_loader_window_end(ld))
        return hnp_error_set(ld->err, HNP_ERR_PARSE, where, "%s expected near end of file",
                             expected);
    char near[2];
    hnp_loader_printable(near, sizeof(near), hnp_loader_at(ld, off), 1);
    return hnp_error_set(ld->err, HNP_ERR_PARSE, where, "%s expected near '%s'", expected, near);
}

/*
 * Parse the value at offset start with jansson (the window holds it whole,
 * or everything to the end of the input). *used (may be NULL): how many
 * bytes jansson read, which is less than the splitter's span for a bare word
 * such as null12 (null, then 12).
 */
static enum hnp_err json_parse_at(struct loader *ld, uint64_t start, json_t **out, uint64_t *used)
{
    json_error_t e;
    json_t *value = json_loadb(hnp_loader_at(ld, start),
                               (size_t)(hnp_loader_window_end(ld) - start), JSON_VALUE_FLAGS, &e);
    if (value == NULL)
        return json_error(ld, start, &e);
    *out = value;
    if (used != NULL)
        *used = (uint64_t)e.position;
    return HNP_OK;
}

/*
 * Parse (to check it) and drop the value at start; *out (may be NULL) keeps
 * it instead. end (0 = not checked): where the value of a List member ends;
 * what jansson leaves of it is a syntax error, as after any member.
 */
static enum hnp_err json_check_at(struct loader *ld, uint64_t start, uint64_t end, json_t **out)
{
    json_t *value = NULL;
    uint64_t used = 0;
    enum hnp_err rc = json_parse_at(ld, start, &value, &used);
    if (rc == HNP_OK && end != 0 && start + used < end)
        rc = json_syntax(ld, start + used, "',' or '}'");
    if (rc == HNP_OK && out != NULL)
        *out = value;
    else
        json_decref(value);
    return rc;
}

/*
 * jansson reads the whole token at off (a string or a bare word) before it
 * says what is wrong there: have it in the window, within the limit of the
 * value starting at keep.
 */
static enum hnp_err have_token(struct loader *ld, uint64_t keep, uint64_t off)
{
    for (;;) {
        if (off >= hnp_loader_window_end(ld))
            return ld->fail;
        const unsigned char *d = (const unsigned char *)hnp_loader_at(ld, off);
        size_t n = (size_t)(hnp_loader_window_end(ld) - off), i = 0;
        bool whole;
        if (d[0] == '"') {
            whole = skip_string(d, n, &i);
        } else {
            while (i < n && !scalar_end(d[i]))
                i++;
            whole = i < n;
        }
        if (whole || !hnp_loader_more(ld, keep, true))
            return ld->fail;
    }
}

/* A member of a List wrapper: its name and value, as offsets. */
struct member {
    uint64_t key, value, end;
    enum hnp_split_key name;
};

/* The state of one JSON load around the splitter. */
struct json_reader {
    struct hnp_listsplit sp;
    uint64_t fed;           /* bytes before this offset were fed to the splitter */
    long value_line;        /* line of the top-level value being read */
    long item_line;         /* line of the List item being read */
    struct member *members; /* of the object being read while not known to be a List */
    size_t n_members, cap_members;
    uint64_t key; /* the member name just read (a List's) */
};

/* The object turned out to be a List: check its members before the items, note its kind. */
static enum hnp_err list_members(struct loader *ld, struct json_reader *jr)
{
    ld->lists++;
    for (size_t i = 0; i < jr->n_members; i++) {
        json_t *value = NULL;
        enum hnp_err rc = json_check_at(ld, jr->members[i].key, 0, NULL);
        if (rc == HNP_OK)
            rc = json_check_at(ld, jr->members[i].value, jr->members[i].end, &value);
        if (rc != HNP_OK)
            return rc;
        if (jr->members[i].name == HNP_SPLIT_KEY_KIND)
            hnp_loader_note_list_kind(ld, value);
        json_decref(value);
    }
    jr->n_members = 0;
    return HNP_OK;
}

/*
 * A top-level value that is not a List, [start, end) (or an item when
 * item): checked and handed over.
 */
static enum hnp_err json_object_at(struct loader *ld, uint64_t start, uint64_t end, long line,
                                   bool item, size_t index)
{
    json_t *value = NULL;
    uint64_t used = 0;
    enum hnp_err rc = json_parse_at(ld, start, &value, &used);
    if (rc != HNP_OK)
        return rc;
    if (!item && json_is_null(value)) /* skipped; what jansson left of the word is the next value */
        return start + used < end ? json_object_at(ld, start + used, end, line, false, 0) : HNP_OK;
    if (!json_is_object(value)) {
        if (item) {
            rc = hnp_loader_item_error(ld, line, index, hnp_loader_type_phrase(value));
        } else {
            char what[64];
            snprintf(what, sizeof(what), "top-level JSON value is %s, not an object",
                     hnp_loader_type_phrase(value));
            rc = hnp_loader_schema_error(ld, line, what);
        }
        json_decref(value);
        return rc;
    }
    rc = hnp_loader_emit(ld, value, line);
    json_decref(value);
    return rc;
}

/* The splitter stopped at an error: say it as jansson, or our List walker, would. */
static enum hnp_err json_split_error(struct loader *ld, struct json_reader *jr,
                                     const struct hnp_split_event *ev)
{
    switch (ev->error) {
    case HNP_SPLIT_TOO_BIG:
        value_too_big(ld, ev->start);
        return ld->fail;
    case HNP_SPLIT_TOO_DEEP:
        return json_deep(ld, ev->span == HNP_SPAN_ITEM ? jr->item_line : jr->value_line, ev->at);
    case HNP_SPLIT_DUPLICATE_ITEMS:
        seek_line(ld, ev->at);
        return hnp_loader_schema_error(ld, ld->line, "duplicate \"items\" array");
    case HNP_SPLIT_NOMEM:
        return hnp_error_set(ld->err, HNP_ERR_NOMEM, ld->name, "out of memory");
    default:
        break;
    }
    enum hnp_err rc;
    if (ev->span != HNP_SPAN_NONE) {
        /* Inside a value, or a malformed object not known to be a List: jansson says why. */
        if (ev->error != HNP_SPLIT_TRUNCATED && (rc = have_token(ld, ev->start, ev->at)) != HNP_OK)
            return rc;
        rc = json_check_at(ld, ev->start, 0, NULL);
        return rc != HNP_OK ? rc : json_syntax(ld, ev->at, "valid JSON");
    }
    enum hnp_split_error what = ev->error == HNP_SPLIT_TRUNCATED ? ev->expected : ev->error;
    switch (what) {
    case HNP_SPLIT_EXPECT_KEY:
        return json_syntax(ld, ev->at, "string or '}'");
    case HNP_SPLIT_EXPECT_COLON:
        return json_syntax(ld, ev->at, "':'");
    case HNP_SPLIT_EXPECT_MEMBER_END:
        return json_syntax(ld, ev->at, "',' or '}'");
    case HNP_SPLIT_EXPECT_ITEM_END:
        return json_syntax(ld, ev->at, "',' or ']'");
    default: /* no value can start here: jansson says why */
        rc = json_check_at(ld, ev->at, 0, NULL);
        return rc != HNP_OK ? rc : json_syntax(ld, ev->at, "a value");
    }
}

/* One splitter event; HNP_OK to go on. */
static enum hnp_err json_event(struct loader *ld, struct json_reader *jr,
                               const struct hnp_split_event *ev)
{
    switch (ev->type) {
    case HNP_SPLIT_VALUE_BEGIN:
        seek_line(ld, ev->start);
        jr->value_line = ld->line;
        jr->n_members = 0;
        ld->item_kind[0] = '\0';
        return HNP_OK;
    case HNP_SPLIT_VALUE:
        return json_object_at(ld, ev->start, ev->end, jr->value_line, false, 0);
    case HNP_SPLIT_KEY:
        if (ev->in_list)
            return json_check_at(ld, ev->start, 0, NULL);
        jr->key = ev->start;
        return HNP_OK;
    case HNP_SPLIT_MEMBER:
        if (ev->in_list)
            return json_check_at(ld, ev->start, ev->end, NULL);
        if (jr->n_members == jr->cap_members) {
            size_t cap = jr->cap_members ? jr->cap_members * 2 : 8;
            struct member *m = realloc(jr->members, cap * sizeof(*m));
            if (m == NULL)
                return hnp_error_set(ld->err, HNP_ERR_NOMEM, ld->name, "out of memory");
            jr->members = m;
            jr->cap_members = cap;
        }
        jr->members[jr->n_members++] = (struct member){jr->key, ev->start, ev->end, ev->key};
        return HNP_OK;
    case HNP_SPLIT_LIST:
        return list_members(ld, jr);
    case HNP_SPLIT_ITEM_BEGIN:
        seek_line(ld, ev->start);
        jr->item_line = ld->line;
        return HNP_OK;
    case HNP_SPLIT_ITEM:
        return json_object_at(ld, ev->start, ev->end, jr->item_line, true, ev->index);
    case HNP_SPLIT_LIST_END:
        ld->item_kind[0] = '\0';
        return HNP_OK;
    default:
        return HNP_OK;
    }
}

/*
 * Read JSON from offset pos: the window's bytes go to the List splitter
 * (listsplit.h) as they arrive; it tells where each top-level value, List
 * member and item starts and ends, and jansson parses each from the
 * window, which keeps everything from the start of the value being read.
 */
static enum hnp_err load_json(struct loader *ld, uint64_t pos)
{
    struct json_reader jr = {.fed = pos};
    struct hnp_listsplit_options opt = {.max_span = ld->max_object, .max_depth = ld->max_depth};
    hnp_listsplit_init(&jr.sp, &opt, pos);
    enum hnp_err rc = HNP_OK;
    for (;;) {
        struct hnp_split_event ev;
        enum hnp_split_type type = hnp_listsplit_next(&jr.sp, &ev);
        if (type == HNP_SPLIT_END)
            break;
        if (type == HNP_SPLIT_ERROR) {
            rc = json_split_error(ld, &jr, &ev);
            break;
        }
        if (type != HNP_SPLIT_MORE) {
            if ((rc = json_event(ld, &jr, &ev)) != HNP_OK)
                break;
            continue;
        }
        if (jr.fed < hnp_loader_window_end(ld)) {
            (void)hnp_listsplit_feed(&jr.sp, hnp_loader_at(ld, jr.fed),
                                     (size_t)(hnp_loader_window_end(ld) - jr.fed));
            jr.fed = hnp_loader_window_end(ld);
            continue;
        }
        bool open;
        uint64_t keep = hnp_listsplit_hold(&jr.sp, &open);
        if (!hnp_loader_more(ld, keep, open)) {
            if (ld->fail != HNP_OK) {
                rc = ld->fail;
                break;
            }
            hnp_listsplit_finish(&jr.sp);
        }
    }
    hnp_listsplit_free(&jr.sp);
    free(jr.members);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Entry points                                                                                */

/* A loader for name with limits (may be NULL) and a window still to be set up. */
static struct loader loader_init(const char *name, const struct hnp_load_limits *limits,
                                 hnp_object_fn fn, void *ctx, struct hnp_error *err)
{
    return (struct loader){
        .name = name,
        .max_input = limits ? limits->max_input_bytes : 0,
        .max_depth = limits && limits->max_depth ? limits->max_depth : DEFAULT_MAX_DEPTH,
        .max_object = limits && limits->max_object_bytes
                          ? (limits->max_object_bytes < SIZE_MAX / 4 ? limits->max_object_bytes
                                                                     : SIZE_MAX / 4)
                          : DEFAULT_MAX_OBJECT,
        .window = limits ? limits->window_bytes : 0,
        .stats = limits ? limits->stats : NULL,
        .fn = fn,
        .ctx = ctx,
        .err = err,
        .line = 1,
        .col = 1,
    };
}

/* Give ld a window of its own to stream its source through. */
static enum hnp_err window_alloc(struct loader *ld)
{
    ld->initial = ld->window ? ld->window : DEFAULT_WINDOW;
    ld->chunk = ld->window;
    ld->own = malloc(ld->initial);
    if (ld->own == NULL)
        return hnp_error_set(ld->err, HNP_ERR_NOMEM, ld->name, "out of memory");
    ld->data = ld->own;
    ld->cap = ld->initial;
    count_window(ld);
    return HNP_OK;
}

/* Tell the format and read everything; frees what ld holds. */
static enum hnp_err run(struct loader *ld)
{
    /* A UTF-8 BOM is not part of the first line. */
    uint64_t pos = 0;
    if (peek(ld, 0, false, 0) == 0xEF && peek(ld, 0, false, 1) == 0xBB &&
        peek(ld, 0, false, 2) == 0xBF)
        pos = 3;
    ld->line_pos = ld->col_pos = pos;

    /*
     * The first non-blank byte tells the format. The blanks before it stay in
     * the window (libyaml must see them as they are), so they are limited
     * like an object.
     */
    int c;
    while ((c = peek(ld, 0, false, pos)) >= 0 && json_blank(c) && pos < ld->max_object)
        pos++;

    enum hnp_err rc = HNP_OK;
    if (c >= 0 && json_blank(c)) {
        char where[sizeof(ld->err->where)], what[128];
        seek_line(ld, pos);
        where_line(ld, where, sizeof(where), ld->line);
        snprintf(what, sizeof(what), "more than %zu bytes of blank space before any object",
                 ld->max_object);
        fail_with(ld, HNP_ERR_LIMIT, where, what);
    } else if (c >= 0) {
        ld->yaml = !(c == '{' || c == '[');
        rc = ld->yaml ? hnp_loader_yaml(ld) : load_json(ld, pos);
    }
    if (ld->fail != HNP_OK) {
        /* The readers saw the input end early: what ended it is the error. */
        rc = ld->fail;
        if (ld->err != NULL)
            *ld->err = ld->fail_err;
    }
    line_map_free(&ld->lines);
    if (ld->stats != NULL)
        ld->stats->window_last = ld->own != NULL ? ld->cap : 0;
    free(ld->own);
    ld->own = NULL;
    if (rc == HNP_OK && ld->emitted == 0 && ld->lists == 0)
        rc = hnp_error_set(ld->err, HNP_ERR_EMPTY, ld->name, "no Kubernetes objects in %s",
                           ld->name);
    return rc;
}

enum hnp_err hnp_load_buffer(const char *data, size_t len, const char *name,
                             const struct hnp_load_limits *limits, hnp_object_fn fn, void *ctx,
                             struct hnp_error *err)
{
    struct loader ld = loader_init(name ? name : "<input>", limits, fn, ctx, err);

    hnp_error_clear(err);
    if (ld.max_input != 0 && len > ld.max_input)
        return hnp_error_set(err, HNP_ERR_LIMIT, ld.name,
                             "%s is %zu bytes, more than the limit of %zu bytes", ld.name, len,
                             ld.max_input);
    if (len > 0 && data == NULL)
        return hnp_error_set(err, HNP_ERR_IO, ld.name, "no data");

    if (ld.window != 0) {
        /* Through a window, as a file would be read. */
        ld.src = data;
        ld.src_len = len;
        enum hnp_err rc = window_alloc(&ld);
        if (rc != HNP_OK)
            return rc;
    } else {
        ld.data = data;
        ld.len = len;
        ld.eof = true;
    }
    return run(&ld);
}

enum hnp_err hnp_load_file(const char *path, const struct hnp_load_limits *limits, hnp_object_fn fn,
                           void *ctx, struct hnp_error *err)
{
    struct loader ld = loader_init(path, limits, fn, ctx, err);
    bool is_stdin = strcmp(path, "-") == 0;

    hnp_error_clear(err);
    ld.f = stdin;
    if (!is_stdin) {
        errno = 0;
        ld.f = fopen(path, "rb");
        if (ld.f == NULL) {
            int e = errno;
            return hnp_error_set(err, HNP_ERR_IO, path, "cannot open %s: %s", path,
                                 e ? strerror(e) : "unknown error");
        }
        /* A regular file tells its size: refuse one over the limit before reading it. */
        if (ld.max_input != 0 && fseek(ld.f, 0, SEEK_END) == 0) {
            long size = ftell(ld.f);
            bool rewound = fseek(ld.f, 0, SEEK_SET) == 0;
            if (rewound && size >= 0 && (unsigned long)size > ld.max_input) {
                /* Too big, unless it is no file at all (a directory reports odd sizes). */
                char byte;
                errno = 0;
                enum hnp_err rc;
                if (fread(&byte, 1, 1, ld.f) == 0 && ferror(ld.f)) {
                    int e = errno;
                    rc = hnp_error_set(err, HNP_ERR_IO, path, "cannot read %s: %s", path,
                                       e ? strerror(e) : "read error");
                } else {
                    rc = hnp_error_set(err, HNP_ERR_LIMIT, path,
                                       "%s is larger than the limit of %zu bytes", path,
                                       ld.max_input);
                }
                fclose(ld.f);
                return rc;
            }
        }
    }
    enum hnp_err rc = window_alloc(&ld);
    if (rc == HNP_OK)
        rc = run(&ld);
    if (!is_stdin)
        fclose(ld.f);
    return rc;
}
