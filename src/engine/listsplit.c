/*
 * listsplit.c - the JSON List splitter (see listsplit.h).
 *
 * A state machine over the outer structure, resumable at any byte: every
 * state is one place in the grammar
 *
 *   input  = { value }                      (page: exactly one object)
 *   object = '{' [ member { ',' member } ] '}'
 *   member = string ':' ( '[' items ']' when the name is "items" | value )
 *   items  = [ value { ',' value } ]
 *
 * and a value is scanned, not parsed: a scalar runs to the next blank,
 * comma, colon, bracket or quote; a string to its closing quote; a
 * container to the bracket that brings the count back to zero. Events are
 * returned one at a time, each as soon as the byte that decides it has been
 * seen, so a consumer sees errors in input order whatever the pieces.
 *
 * Span limits: the byte at offset span_start + max_span is never looked at
 * as part of a span; reaching it inside the span is HNP_SPLIT_TOO_BIG. A
 * scalar may end there (the byte that ends it is not part of it).
 */
#include "listsplit.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* A hold buffer larger than this is freed after its value, not kept for the next one. */
#define HOLD_KEEP ((size_t)1024 * 1024)

enum state {
    S_TOP,         /* between top-level values */
    S_IN_TOP,      /* inside a top-level value other than an object */
    S_KEY_OR_END,  /* after '{': a member name or '}' */
    S_KEY,         /* after ',': a member name */
    S_IN_KEY,      /* inside a member name */
    S_COLON,       /* ':' after a member name */
    S_VALUE,       /* a member's value */
    S_IN_VALUE,    /* inside a member's value */
    S_MEMBER_END,  /* ',' or '}' after a member */
    S_ITEM_OR_END, /* after '[': an item or ']' */
    S_ITEM,        /* after ',': an item */
    S_IN_ITEM,     /* inside an item */
    S_ITEM_END,    /* ',' or ']' after an item */
    S_FAILED,
    S_DONE,
};

static bool blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Bytes that end a scalar. */
static bool scalar_end(unsigned char c)
{
    return blank(c) || c == ',' || c == ':' || c == '{' || c == '}' || c == '[' || c == ']' ||
           c == '"';
}

/* Bytes the container scan must look at. */
static const unsigned char special[256] = {
    ['"'] = 1, ['{'] = 1, ['['] = 1, ['}'] = 1, [']'] = 1, ['\\'] = 2,
};

void hnp_listsplit_init(struct hnp_listsplit *sp, const struct hnp_listsplit_options *opt,
                        uint64_t start)
{
    memset(sp, 0, sizeof(*sp));
    if (opt != NULL)
        sp->opt = *opt;
    sp->base = start;
    sp->state = S_TOP;
}

void hnp_listsplit_free(struct hnp_listsplit *sp)
{
    if (sp == NULL)
        return;
    free(sp->buf);
    sp->buf = NULL;
    sp->len = sp->cap = 0;
}

/* Append d[0, n) to the hold buffer (never more than max_span in all). */
static bool hold_add(struct hnp_listsplit *sp, const unsigned char *d, size_t n)
{
    if (n == 0)
        return true;
    if (sp->len + n > sp->cap) {
        size_t cap = sp->cap ? sp->cap : 4096;
        while (cap < sp->len + n)
            cap *= 2;
        char *bigger = realloc(sp->buf, cap);
        if (bigger == NULL)
            return false;
        sp->buf = bigger;
        sp->cap = cap;
    }
    memcpy(sp->buf + sp->len, d, n);
    sp->len += n;
    return true;
}

static void hold_release(struct hnp_listsplit *sp)
{
    sp->release = false;
    sp->len = 0;
    if (sp->cap > HOLD_KEEP) {
        free(sp->buf);
        sp->buf = NULL;
        sp->cap = 0;
    }
}

enum hnp_err hnp_listsplit_feed(struct hnp_listsplit *sp, const char *bytes, size_t len)
{
    if (sp->release)
        hold_release(sp);
    if (sp->nomem)
        return HNP_ERR_NOMEM;
    sp->piece_held = false;
    sp->base += sp->n;
    sp->d = (const unsigned char *)bytes;
    sp->n = len;
    sp->i = 0;
    return HNP_OK;
}

void hnp_listsplit_finish(struct hnp_listsplit *sp)
{
    sp->finished = true;
}

uint64_t hnp_listsplit_hold(const struct hnp_listsplit *sp, bool *open)
{
    *open = sp->span != HNP_SPAN_NONE;
    return *open ? sp->span_start : sp->base + sp->i;
}

static void span_open(struct hnp_listsplit *sp, enum hnp_split_span span, uint64_t at)
{
    sp->span = span;
    sp->span_start = at;
    sp->held = sp->opt.hold && (span == HNP_SPAN_MEMBER || span == HNP_SPAN_ITEM);
    sp->len = 0;
}

static void span_close(struct hnp_listsplit *sp)
{
    sp->span = HNP_SPAN_NONE;
    sp->held = false;
}

/* True when the byte at offset off lies past the open span's limit. */
static bool over(const struct hnp_listsplit *sp, uint64_t off)
{
    return sp->span != HNP_SPAN_NONE && sp->opt.max_span != 0 &&
           off - sp->span_start >= sp->opt.max_span;
}

static enum hnp_split_type fail(struct hnp_listsplit *sp, struct hnp_split_event *ev,
                                enum hnp_split_error error, uint64_t at)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = HNP_SPLIT_ERROR;
    ev->error = error;
    ev->at = at;
    ev->span = sp->span;
    ev->start = sp->span_start;
    ev->key = sp->cur_key;
    ev->index = sp->index;
    sp->error = *ev;
    sp->state = S_FAILED;
    return HNP_SPLIT_ERROR;
}

/* Can a value start with c? Loosely (the loader: jansson judges bare words) or strictly (page). */
static bool value_start(const struct hnp_listsplit *sp, unsigned char c)
{
    if (!sp->opt.page)
        return !(scalar_end(c) && c != '"' && c != '{' && c != '[');
    return c == '{' || c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' ||
           c == 'f' || c == 'n';
}

/* Begin scanning a value whose first byte is c, at nesting level (of its container). */
static void value_begin(struct hnp_listsplit *sp, unsigned char c, size_t level)
{
    sp->level = level;
    sp->depth = 0;
    sp->in_string = sp->escape = false;
    sp->scalar = c != '{' && c != '[' && c != '"';
}

/*
 * Scan the value in progress from sp->i. 1: it ended, sp->i is just past
 * it. 0: the piece ended first. -1: an error (ev filled).
 */
static int scan(struct hnp_listsplit *sp, struct hnp_split_event *ev)
{
    const unsigned char *d = sp->d;
    size_t n = sp->n, i = sp->i, stop = n;
    bool clamped = false;
    if (sp->span != HNP_SPAN_NONE && sp->opt.max_span != 0) {
        uint64_t limit = sp->span_start + sp->opt.max_span;
        if (limit < sp->base + n) {
            stop = limit > sp->base ? (size_t)(limit - sp->base) : 0;
            clamped = true;
        }
    }
    if (sp->scalar) {
        while (i < stop && !scalar_end(d[i]))
            i++;
        sp->i = i;
        if (i < stop || (clamped && scalar_end(d[i])))
            return 1;
        if (clamped) {
            fail(sp, ev, HNP_SPLIT_TOO_BIG, sp->base + i);
            return -1;
        }
        return 0;
    }
    while (i < stop) {
        if (sp->in_string && !sp->escape) {
            while (i < stop && d[i] != '"' && d[i] != '\\')
                i++;
            if (i == stop)
                break;
        } else if (!sp->in_string) {
            while (i < stop && !special[d[i]])
                i++;
            if (i == stop)
                break;
        }
        unsigned char c = d[i++];
        if (sp->in_string) {
            if (sp->escape)
                sp->escape = false;
            else if (c == '\\')
                sp->escape = true;
            else if (c == '"') {
                sp->in_string = false;
                if (sp->depth == 0) {
                    sp->i = i;
                    return 1;
                }
            }
        } else if (c == '"') {
            sp->in_string = true;
        } else if (c == '{' || c == '[') {
            sp->depth++;
            if (sp->opt.max_depth != 0 && sp->level + sp->depth > sp->opt.max_depth) {
                sp->i = i - 1;
                fail(sp, ev, HNP_SPLIT_TOO_DEEP, sp->base + i - 1);
                return -1;
            }
        } else if ((c == '}' || c == ']') && sp->depth > 0 && --sp->depth == 0) {
            sp->i = i;
            return 1;
        }
    }
    sp->i = i;
    if (clamped) {
        fail(sp, ev, HNP_SPLIT_TOO_BIG, sp->base + i);
        return -1;
    }
    return 0;
}

/* The span [start, end) ended at sp->i: fill ev's offsets and, for a held span, its text. */
static bool span_event(struct hnp_listsplit *sp, struct hnp_split_event *ev,
                       enum hnp_split_type type, uint64_t start)
{
    ev->type = type;
    ev->start = start;
    ev->end = sp->base + sp->i;
    if (sp->held) {
        if (sp->len == 0 && start >= sp->base) {
            ev->text = (const char *)sp->d + (size_t)(start - sp->base);
        } else {
            if (!hold_add(sp, sp->d, sp->i))
                return false;
            ev->text = sp->buf;
        }
        sp->release = true;
    }
    span_close(sp);
    return true;
}

/* Which member name the raw key (quotes excluded) is. */
static enum hnp_split_key classify_key(const struct hnp_listsplit *sp)
{
    if (sp->key_long)
        return HNP_SPLIT_KEY_OTHER;
    char text[sizeof(sp->key) + 1];
    size_t len = sp->key_len;
    memcpy(text, sp->key, len);
    if (sp->key_escaped) {
        /* "\u0069tems" is items too: let jansson decode it. */
        char quoted[sizeof(sp->key) + 2];
        quoted[0] = '"';
        memcpy(quoted + 1, sp->key, len);
        quoted[len + 1] = '"';
        json_t *s = json_loadb(quoted, len + 2, JSON_DECODE_ANY, NULL);
        len = json_is_string(s) ? json_string_length(s) : sizeof(sp->key) + 1;
        if (len < sizeof(text))
            memcpy(text, json_string_value(s), len);
        json_decref(s);
        if (len >= sizeof(text))
            return HNP_SPLIT_KEY_OTHER;
    }
    text[len] = '\0';
    if (strcmp(text, "items") == 0)
        return HNP_SPLIT_KEY_ITEMS;
    if (strcmp(text, "kind") == 0)
        return HNP_SPLIT_KEY_KIND;
    if (strcmp(text, "metadata") == 0)
        return HNP_SPLIT_KEY_METADATA;
    return HNP_SPLIT_KEY_OTHER;
}

/* What the state expects next, for a truncated input. */
static enum hnp_split_error expected_in(int state)
{
    switch (state) {
    case S_KEY_OR_END:
    case S_KEY:
        return HNP_SPLIT_EXPECT_KEY;
    case S_COLON:
        return HNP_SPLIT_EXPECT_COLON;
    case S_VALUE:
        return HNP_SPLIT_EXPECT_VALUE;
    case S_MEMBER_END:
        return HNP_SPLIT_EXPECT_MEMBER_END;
    case S_ITEM_OR_END:
    case S_ITEM:
        return HNP_SPLIT_EXPECT_ITEM;
    case S_ITEM_END:
        return HNP_SPLIT_EXPECT_ITEM_END;
    default:
        return HNP_SPLIT_OK;
    }
}

/* The input has ended with the piece used up. */
static enum hnp_split_type at_end(struct hnp_listsplit *sp, struct hnp_split_event *ev)
{
    uint64_t end = sp->base + sp->n;
    memset(ev, 0, sizeof(*ev));
    switch (sp->state) {
    case S_TOP:
        if (sp->opt.page && !sp->seen_object) {
            sp->span = HNP_SPAN_NONE;
            return fail(sp, ev, HNP_SPLIT_TRUNCATED, end);
        }
        sp->state = S_DONE;
        ev->type = HNP_SPLIT_END;
        return HNP_SPLIT_END;
    case S_IN_TOP:
    case S_IN_VALUE:
    case S_IN_ITEM:
        if (sp->scalar) { /* a scalar ends with the input */
            int state = sp->state;
            if (state == S_IN_TOP) {
                span_close(sp);
                ev->type = HNP_SPLIT_VALUE;
                ev->start = sp->top_start;
                ev->end = end;
                sp->state = S_TOP;
                return HNP_SPLIT_VALUE;
            }
            uint64_t start = sp->value_start;
            bool in_list = sp->in_list;
            if (sp->span == HNP_SPAN_MEMBER || sp->span == HNP_SPAN_ITEM) {
                if (!span_event(sp, ev, state == S_IN_VALUE ? HNP_SPLIT_MEMBER : HNP_SPLIT_ITEM,
                                start))
                    return fail(sp, ev, HNP_SPLIT_NOMEM, end);
            } else {
                ev->type = HNP_SPLIT_MEMBER;
                ev->start = start;
                ev->end = end;
            }
            ev->key = sp->cur_key;
            ev->in_list = in_list;
            ev->index = sp->index;
            if (state == S_IN_ITEM)
                sp->index++;
            sp->state = state == S_IN_VALUE ? S_MEMBER_END : S_ITEM_END;
            return ev->type;
        }
        break;
    default:
        break;
    }
    enum hnp_split_error expected = sp->span == HNP_SPAN_NONE ? expected_in(sp->state) : 0;
    enum hnp_split_type type = fail(sp, ev, HNP_SPLIT_TRUNCATED, end);
    ev->expected = sp->error.expected = expected;
    return type;
}

/* '}' of a top-level object at offset off (sp->i is past it). */
static enum hnp_split_type object_end(struct hnp_listsplit *sp, struct hnp_split_event *ev,
                                      uint64_t off)
{
    ev->end = off + 1;
    ev->start = sp->top_start;
    if (sp->opt.page)
        sp->seen_object = true;
    sp->state = S_TOP;
    if (!sp->in_list) {
        span_close(sp);
        ev->type = HNP_SPLIT_VALUE;
        return HNP_SPLIT_VALUE;
    }
    ev->type = HNP_SPLIT_LIST_END;
    return HNP_SPLIT_LIST_END;
}

enum hnp_split_type hnp_listsplit_next(struct hnp_listsplit *sp, struct hnp_split_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    if (sp->release)
        hold_release(sp);
    if (sp->state == S_FAILED) {
        *ev = sp->error;
        return ev->type;
    }
    if (sp->state == S_DONE) {
        ev->type = HNP_SPLIT_END;
        return HNP_SPLIT_END;
    }
    while (sp->i < sp->n) {
        unsigned char c = sp->d[sp->i];
        uint64_t off = sp->base + sp->i;
        int r;
        switch (sp->state) {
        case S_IN_TOP:
        case S_IN_VALUE:
        case S_IN_ITEM:
            if ((r = scan(sp, ev)) < 0)
                return HNP_SPLIT_ERROR;
            if (r == 0)
                continue; /* the piece is used up */
            if (sp->state == S_IN_TOP) {
                span_close(sp);
                ev->type = HNP_SPLIT_VALUE;
                ev->start = sp->top_start;
                ev->end = sp->base + sp->i;
                sp->state = S_TOP;
                return HNP_SPLIT_VALUE;
            }
            if (sp->state == S_IN_ITEM) {
                if (!span_event(sp, ev, HNP_SPLIT_ITEM, sp->value_start))
                    return fail(sp, ev, HNP_SPLIT_NOMEM, sp->base + sp->i);
                ev->index = sp->index++;
                sp->state = S_ITEM_END;
                return HNP_SPLIT_ITEM;
            }
            ev->key = sp->cur_key;
            ev->in_list = sp->in_list;
            sp->state = S_MEMBER_END;
            if (!sp->in_list) { /* a member of an object not known to be a List: the span goes on */
                ev->type = HNP_SPLIT_MEMBER;
                ev->start = sp->value_start;
                ev->end = sp->base + sp->i;
                return HNP_SPLIT_MEMBER;
            }
            if (!span_event(sp, ev, HNP_SPLIT_MEMBER, sp->value_start))
                return fail(sp, ev, HNP_SPLIT_NOMEM, sp->base + sp->i);
            return HNP_SPLIT_MEMBER;
        case S_IN_KEY:
            if (over(sp, off))
                return fail(sp, ev, HNP_SPLIT_TOO_BIG, off);
            sp->i++;
            if (c == '"' && !sp->key_escape) {
                enum hnp_split_key key = classify_key(sp);
                sp->cur_key = key;
                sp->state = S_COLON;
                ev->type = HNP_SPLIT_KEY;
                ev->start = sp->value_start;
                ev->end = off + 1;
                ev->key = key;
                ev->in_list = sp->in_list;
                if (sp->in_list)
                    span_close(sp);
                return HNP_SPLIT_KEY;
            }
            if (c == '\\' && !sp->key_escape)
                sp->key_escaped = true;
            sp->key_escape = !sp->key_escape && c == '\\';
            if (sp->key_len < sizeof(sp->key))
                sp->key[sp->key_len++] = (char)c;
            else
                sp->key_long = true;
            continue;
        default:
            break;
        }
        if (over(sp, off))
            return fail(sp, ev, HNP_SPLIT_TOO_BIG, off);
        if (blank(c)) {
            sp->i++;
            continue;
        }
        switch (sp->state) {
        case S_TOP:
            if (sp->opt.page && sp->seen_object)
                return fail(sp, ev, HNP_SPLIT_TRAILING, off);
            if (sp->opt.page && c != '{')
                return fail(sp, ev, HNP_SPLIT_EXPECT_OBJECT, off);
            if (!value_start(sp, c))
                return fail(sp, ev, HNP_SPLIT_EXPECT_VALUE, off);
            sp->top_start = off;
            sp->index = 0;
            sp->seen_items = false;
            sp->in_list = sp->opt.page;
            sp->cur_key = HNP_SPLIT_KEY_OTHER;
            if (!sp->opt.page)
                span_open(sp, HNP_SPAN_TOP, off);
            if (c == '{') {
                sp->state = S_KEY_OR_END;
                sp->i++;
            } else {
                value_begin(sp, c, 0);
                sp->state = S_IN_TOP;
            }
            ev->type = HNP_SPLIT_VALUE_BEGIN;
            ev->start = off;
            return HNP_SPLIT_VALUE_BEGIN;
        case S_KEY_OR_END:
        case S_KEY:
            if (c == '}' && sp->state == S_KEY_OR_END) {
                sp->i++;
                return object_end(sp, ev, off);
            }
            if (c != '"')
                return fail(sp, ev, HNP_SPLIT_EXPECT_KEY, off);
            sp->key_len = 0;
            sp->key_long = sp->key_escaped = sp->key_escape = false;
            sp->value_start = off;
            if (sp->in_list)
                span_open(sp, HNP_SPAN_KEY, off);
            sp->state = S_IN_KEY;
            sp->i++;
            continue;
        case S_COLON:
            if (c != ':')
                return fail(sp, ev, HNP_SPLIT_EXPECT_COLON, off);
            sp->state = S_VALUE;
            sp->i++;
            continue;
        case S_VALUE:
            if (sp->cur_key == HNP_SPLIT_KEY_ITEMS && c == '[') {
                if (sp->seen_items)
                    return fail(sp, ev, HNP_SPLIT_DUPLICATE_ITEMS, off);
                sp->seen_items = true;
                if (!sp->in_list) {
                    sp->in_list = true;
                    span_close(sp);
                }
                sp->state = S_ITEM_OR_END;
                sp->i++;
                ev->type = HNP_SPLIT_LIST;
                ev->start = sp->top_start;
                ev->end = off;
                return HNP_SPLIT_LIST;
            }
            if (!value_start(sp, c))
                return fail(sp, ev, HNP_SPLIT_EXPECT_VALUE, off);
            value_begin(sp, c, 1);
            sp->value_start = off;
            if (sp->in_list)
                span_open(sp, HNP_SPAN_MEMBER, off);
            sp->state = S_IN_VALUE;
            continue;
        case S_MEMBER_END:
            sp->i++;
            if (c == '}')
                return object_end(sp, ev, off);
            if (c != ',') {
                sp->i--;
                return fail(sp, ev, HNP_SPLIT_EXPECT_MEMBER_END, off);
            }
            sp->cur_key = HNP_SPLIT_KEY_OTHER;
            sp->state = S_KEY;
            continue;
        case S_ITEM_OR_END:
        case S_ITEM:
            if (c == ']' && sp->state == S_ITEM_OR_END) {
                sp->state = S_MEMBER_END;
                sp->i++;
                continue;
            }
            if (!value_start(sp, c))
                return fail(sp, ev, HNP_SPLIT_EXPECT_ITEM, off);
            value_begin(sp, c, 0);
            sp->value_start = off;
            span_open(sp, HNP_SPAN_ITEM, off);
            sp->state = S_IN_ITEM;
            ev->type = HNP_SPLIT_ITEM_BEGIN;
            ev->start = off;
            ev->index = sp->index;
            return HNP_SPLIT_ITEM_BEGIN;
        case S_ITEM_END:
            if (c == ']')
                sp->state = S_MEMBER_END;
            else if (c == ',')
                sp->state = S_ITEM;
            else
                return fail(sp, ev, HNP_SPLIT_EXPECT_ITEM_END, off);
            sp->i++;
            continue;
        default:
            sp->i++;
            continue;
        }
    }
    if (sp->finished)
        return at_end(sp, ev);
    /*
     * A held value going on past the piece: keep its part of the piece now
     * (the piece is the caller's again once MORE is returned).
     */
    if (sp->held && !sp->piece_held) {
        size_t from = sp->span_start > sp->base ? (size_t)(sp->span_start - sp->base) : 0;
        if (from < sp->n && !hold_add(sp, sp->d + from, sp->n - from)) {
            sp->nomem = true;
            return fail(sp, ev, HNP_SPLIT_NOMEM, sp->base + sp->n);
        }
        sp->piece_held = true;
    }
    ev->type = HNP_SPLIT_MORE;
    return HNP_SPLIT_MORE;
}
