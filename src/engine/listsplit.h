/*
 * listsplit.h - split JSON text into top-level values, and a List (an
 * object with an "items" array, as `kubectl get -o json` and the API
 * server's LIST answers write it) into its items and wrapper members,
 * fed with bytes in pieces cut anywhere. The one splitter of the project:
 * the file loader (load.c) and the reflector's LIST page reader
 * (src/kube/watch.c) both use it, so both accept the same shapes. Private
 * to the engine and the layers above; not part of the embedding API.
 *
 * The splitter checks the outer structure exactly (the top-level values,
 * a List wrapper's member names, colons and commas, the items array and
 * its commas); inside a value it only follows strings (with their escapes)
 * and counts brackets to find where the value ends: whether a value is
 * valid JSON is for jansson to say when the consumer parses it alone. It
 * allocates only to decode a member name written with escapes and, in hold
 * mode, to keep a value cut by a piece boundary (within max_span bytes).
 *
 * Offsets are absolute: bytes of the input before the current piece plus
 * the position in it, counted from the start offset given to
 * hnp_listsplit_init().
 *
 * Use: hnp_listsplit_feed() a piece, then hnp_listsplit_next() until it
 * returns HNP_SPLIT_MORE; feed the next piece, and so on; at the end of
 * the input hnp_listsplit_finish() and hnp_listsplit_next() until
 * HNP_SPLIT_END or HNP_SPLIT_ERROR.
 */
#ifndef HNP_LISTSPLIT_H
#define HNP_LISTSPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hnsnetpol/error.h"

struct hnp_listsplit_options {
    /*
     * false: the input is a sequence of top-level values (blank-separated);
     * an object is a List once its "items" member is found to be an array,
     * until then the whole object is one span (the file loader). true: the
     * input is exactly one object, read as a List wrapper from its first
     * member; value starts are checked strictly (a value must start with
     * '{', '[', '"', '-', a digit, 't', 'f' or 'n') (a LIST page).
     */
    bool page;
    /*
     * Keep the bytes of every item and member value of a List: their
     * events carry them in text (for a consumer that does not keep the
     * input itself).
     */
    bool hold;
    /*
     * A span - a top-level value (a whole object while it is not known to
     * be a List), a List's item, a List member's name or value - longer
     * than this is HNP_SPLIT_TOO_BIG; no byte past it is looked at. 0 = no
     * limit.
     */
    size_t max_span;
    /*
     * Nesting: a top-level value or an item is level 1, a List member's
     * value level 2 (the wrapper being level 1). Deeper is
     * HNP_SPLIT_TOO_DEEP. 0 = no limit.
     */
    size_t max_depth;
};

enum hnp_split_type {
    HNP_SPLIT_MORE,        /* the piece is used up: feed the next one or finish */
    HNP_SPLIT_VALUE_BEGIN, /* a top-level value starts at start */
    HNP_SPLIT_VALUE,       /* a top-level value that is not a List: [start, end) */
    HNP_SPLIT_LIST,        /* the object at start is a List: its items array starts at end ('[') */
    HNP_SPLIT_KEY,         /* a member name of a top-level object, quotes included: [start, end) */
    HNP_SPLIT_MEMBER,      /* that member's value: [start, end), key, text in hold mode */
    HNP_SPLIT_ITEM_BEGIN,  /* items[index] starts at start */
    HNP_SPLIT_ITEM,        /* items[index]: [start, end), text in hold mode */
    HNP_SPLIT_LIST_END,    /* the List wrapper closes; end is past its '}' */
    HNP_SPLIT_END,         /* after finish: the input is complete */
    HNP_SPLIT_ERROR,       /* error, at; repeated by every later call */
};

/* The member names that mean something to a List (escapes decoded). */
enum hnp_split_key {
    HNP_SPLIT_KEY_OTHER,
    HNP_SPLIT_KEY_ITEMS,
    HNP_SPLIT_KEY_KIND,
    HNP_SPLIT_KEY_METADATA,
};

enum hnp_split_error {
    HNP_SPLIT_OK = 0,
    HNP_SPLIT_EXPECT_OBJECT,     /* page: the input does not start with '{' */
    HNP_SPLIT_EXPECT_KEY,        /* a member name (or '}' right after '{') */
    HNP_SPLIT_EXPECT_COLON,      /* ':' after a member name */
    HNP_SPLIT_EXPECT_VALUE,      /* a value */
    HNP_SPLIT_EXPECT_MEMBER_END, /* ',' or '}' after a member */
    HNP_SPLIT_EXPECT_ITEM,       /* an item (or ']' right after '[') */
    HNP_SPLIT_EXPECT_ITEM_END,   /* ',' or ']' after an item */
    HNP_SPLIT_TRAILING,          /* page: bytes after the object */
    HNP_SPLIT_DUPLICATE_ITEMS,   /* a second "items" array in one List, at its '[' */
    HNP_SPLIT_TOO_DEEP,          /* at the bracket past max_depth */
    HNP_SPLIT_TOO_BIG,           /* the span (span, start) is longer than max_span */
    HNP_SPLIT_TRUNCATED,         /* the input ends early; expected says what was expected */
    HNP_SPLIT_NOMEM,             /* hold mode: out of memory */
};

/* What an error happened in. */
enum hnp_split_span {
    HNP_SPAN_NONE,   /* between spans of a List */
    HNP_SPAN_TOP,    /* a top-level value (an object not known to be a List) */
    HNP_SPAN_KEY,    /* a List member's name */
    HNP_SPAN_MEMBER, /* a List member's value */
    HNP_SPAN_ITEM,   /* a List item */
};

struct hnp_split_event {
    enum hnp_split_type type;
    uint64_t start, end;
    /*
     * HNP_SPLIT_MEMBER and HNP_SPLIT_ITEM in hold mode: the bytes [start,
     * end), borrowed until the next call; else NULL.
     */
    const char *text;
    enum hnp_split_key key; /* KEY, MEMBER; ERROR: the member being read */
    bool in_list;           /* KEY, MEMBER: of an object known to be a List */
    size_t index;           /* ITEM_BEGIN, ITEM; ERROR: the next item's index */
    /* HNP_SPLIT_ERROR */
    enum hnp_split_error error;
    enum hnp_split_error expected; /* TRUNCATED: what was expected; 0 inside a span */
    uint64_t at;                   /* where (TRUNCATED: the end of the input) */
    enum hnp_split_span span;      /* the span open; start is where it starts */
};

/* The splitter's state; fields private to listsplit.c. */
struct hnp_listsplit {
    struct hnp_listsplit_options opt;
    int state;
    const unsigned char *d; /* the piece */
    size_t n, i;
    uint64_t base; /* offset of d[0] */
    bool finished;
    bool seen_object; /* page: the object was read */
    bool in_list, seen_items;
    size_t index;
    uint64_t top_start, value_start;
    /* the member name being read */
    char key[64];
    size_t key_len;
    bool key_long, key_escaped, key_escape;
    enum hnp_split_key cur_key;
    /* the value being scanned */
    size_t level, depth;
    bool in_string, escape, scalar;
    /* the open span */
    enum hnp_split_span span;
    uint64_t span_start;
    bool held;
    char *buf;
    size_t len, cap;
    bool release;
    bool piece_held; /* the held span's part of the current piece is in buf */
    bool nomem;
    struct hnp_split_event error;
};

/* Start at offset start (the offset of the first byte fed). opt is copied. */
void hnp_listsplit_init(struct hnp_listsplit *sp, const struct hnp_listsplit_options *opt,
                        uint64_t start);

/* Free the hold buffer. Accepts NULL. */
void hnp_listsplit_free(struct hnp_listsplit *sp);

/*
 * The next piece: len bytes, borrowed until hnp_listsplit_next() returns
 * HNP_SPLIT_MORE (in hold mode the part a value still needs is copied
 * then). Only after HNP_SPLIT_MORE (or right after init). HNP_ERR_NOMEM
 * after a copy failed (hnp_listsplit_next() reported it).
 */
enum hnp_err hnp_listsplit_feed(struct hnp_listsplit *sp, const char *bytes, size_t len);

/* No more input: the next calls report what is left (a value ending at the end, END, ERROR). */
void hnp_listsplit_finish(struct hnp_listsplit *sp);

/* The next event into *ev (overwritten); returns ev->type. */
enum hnp_split_type hnp_listsplit_next(struct hnp_listsplit *sp, struct hnp_split_event *ev);

/*
 * The earliest offset the consumer may still need (the start of the open
 * span, else the offset of the next byte not yet fed); *open tells whether
 * a span is open (which max_span bounds).
 */
uint64_t hnp_listsplit_hold(const struct hnp_listsplit *sp, bool *open);

#endif /* HNP_LISTSPLIT_H */
