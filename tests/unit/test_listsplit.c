/*
 * test_listsplit.c - unit tests of the JSON List splitter
 * (src/engine/listsplit.c), the one reader of `{"kind": "...List", "items":
 * [...]}` shared by the file loader and the reflector's LIST pages.
 *
 * Each document is split once whole and then fed in every piece size from
 * 1 byte up: the events (their offsets, member names, item indexes, held
 * bytes, errors) must be the same. A few transcripts are also checked
 * against what they must be.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/error.h"
#include "listsplit.h"

struct transcript {
    char *text;
    size_t len, cap;
};

static void add(struct transcript *t, const char *fmt, ...) HNP_PRINTF(2, 3);

static void add(struct transcript *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->text = realloc(t->text, t->cap);
        assert_non_null(t->text);
    }
    va_start(ap, fmt);
    vsnprintf(t->text + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

static const char *const type_names[] = {
    "MORE",       "BEGIN", "VALUE",    "LIST", "KEY",   "MEMBER",
    "ITEM_BEGIN", "ITEM",  "LIST_END", "END",  "ERROR",
};

/* Take events until MORE, END or ERROR; true when the document is done. */
static bool drain(struct hnp_listsplit *sp, const char *doc, struct transcript *t)
{
    for (;;) {
        struct hnp_split_event ev;
        enum hnp_split_type type = hnp_listsplit_next(sp, &ev);
        if (type == HNP_SPLIT_MORE)
            return false;
        add(t, "%s", type_names[type]);
        switch (type) {
        case HNP_SPLIT_ERROR:
            add(t, " %d/%d at %llu span %d from %llu key %d index %zu\n", (int)ev.error,
                (int)ev.expected, (unsigned long long)ev.at, (int)ev.span,
                (unsigned long long)ev.start, (int)ev.key, ev.index);
            return true;
        case HNP_SPLIT_END:
            add(t, "\n");
            return true;
        default:
            add(t, " %llu-%llu key %d list %d index %zu", (unsigned long long)ev.start,
                (unsigned long long)ev.end, (int)ev.key, (int)ev.in_list, ev.index);
            if (ev.text != NULL) {
                size_t n = (size_t)(ev.end - ev.start);
                /* Held bytes are the document's bytes at those offsets. */
                assert_memory_equal(ev.text, doc + ev.start, n);
                add(t, " '%.*s'", (int)n, ev.text);
            }
            add(t, "\n");
            break;
        }
    }
}

/* The events of doc fed in pieces of size step (0 = whole). New string. */
static char *split(const char *doc, size_t len, const struct hnp_listsplit_options *opt,
                   size_t step)
{
    struct transcript t = {0};
    add(&t, "%s", "");
    struct hnp_listsplit sp;
    hnp_listsplit_init(&sp, opt, 0);
    bool done = false;
    /* Each piece is a copy that is overwritten once the splitter is done with it. */
    char *piece = malloc(len + 1);
    assert_non_null(piece);
    for (size_t off = 0; off < len && !done;) {
        size_t n = step == 0 || len - off < step ? len - off : step;
        memcpy(piece, doc + off, n);
        assert_int_equal(hnp_listsplit_feed(&sp, piece, n), HNP_OK);
        off += n;
        done = drain(&sp, doc, &t);
        memset(piece, '#', n);
    }
    free(piece);
    if (!done) {
        hnp_listsplit_finish(&sp);
        assert_true(drain(&sp, doc, &t));
    }
    /* After the end or an error, the splitter says so again. */
    struct hnp_split_event ev;
    enum hnp_split_type again = hnp_listsplit_next(&sp, &ev);
    assert_true(again == HNP_SPLIT_END || again == HNP_SPLIT_ERROR);
    hnp_listsplit_free(&sp);
    return t.text;
}

/* The same events in every piece size; returns the whole-document transcript (new). */
static char *same_every_piece(const char *doc, const struct hnp_listsplit_options *opt)
{
    size_t len = strlen(doc);
    char *whole = split(doc, len, opt, 0);
    for (size_t step = 1; step <= len; step++) {
        char *pieces = split(doc, len, opt, step);
        if (strcmp(whole, pieces) != 0)
            fail_msg("pieces of %zu bytes of %s:\n%s\nwhole:\n%s", step, doc, pieces, whole);
        free(pieces);
    }
    return whole;
}

static const char *const docs[] = {
    /* kubectl's List, members in any order, escapes and brackets in strings. */
    "{\"apiVersion\": \"v1\", \"kind\": \"PodList\",\n \"items\": [\n"
    "  {\"metadata\": {\"name\": \"a]b\", \"x\": \"caf\xC3\xA9 \\\" ] } [ { \\\\\"}},\n"
    "  {\"a\": [1, 2.5, -3e2, true, false, null, {\"b\": {}}], \"c\": \"\\\\\"},\n"
    "  {\"k\\u0065y\": \"\\u00e9\\n\"}\n"
    " ],\n \"metadata\": {\"resourceVersion\": \"12\", \"continue\": \"c\"}}\n",
    /* An items name with an escape, a List after a List, plain values. */
    "{\"kind\":\"List\",\"metadata\":{\"items\":[{\"no\":1}]},\"it\\u0065ms\":[{\"n\":0},"
    "{\"n\":1}]}\n{\"items\":[{\"n\":2}]}{\"items\":[]}{\"items\":{}} null 12 \"s\" [1,[2]]",
    /* Errors. */
    "{\"kind\":\"List\",\"items\":[\n  {\"a\":1}\n  x]}",
    "{\"kind\":\"List\",\"items\":[{\"a\":1}] \"metadata\": {}}",
    "{\"kind\":\"List\",\"items\":[{\"a\":1}],\n\"metadata\": {x}}",
    "{\"kind\":\"List\",\"items\":[{\"a\":1},{\"b\":[1,2",
    "{\"kind\":\"List\",\"items\":[{\"a\":1},",
    "{\"kind\":\"List\",\"items\":[{}], \"items\": []}",
    "{\"a\" 1}",
    "{\"a\": 1,}",
    "{\"items\": [1 2]}",
    "{\"items\": [1,]}",
    "{\"metadata\": {\"resourceVersion\": \"5\"}, \"items\": []} x",
    "<html><body>502 Bad Gateway</body></html>",
    "{\"a\": \"abc",
    "{\"a\": 1} ]",
    "",
    "   ",
};

/* Every document, in both modes, with limits: the same events in every piece size. */
static void test_every_piece_size(void **state)
{
    (void)state;
    const struct hnp_listsplit_options opts[] = {
        {0},
        {.max_span = 20, .max_depth = 3},
        {.page = true, .hold = true},
        {.page = true, .hold = true, .max_span = 12, .max_depth = 2},
        {.hold = true, .max_span = 30},
    };
    for (size_t o = 0; o < sizeof(opts) / sizeof(opts[0]); o++)
        for (size_t d = 0; d < sizeof(docs) / sizeof(docs[0]); d++)
            free(same_every_piece(docs[d], &opts[o]));
}

static void expect_events(const char *doc, const struct hnp_listsplit_options *opt,
                          const char *want)
{
    char *got = same_every_piece(doc, opt);
    if (strcmp(got, want) != 0)
        fail_msg("%s:\ngot:\n%s\nwant:\n%s", doc, got, want);
    free(got);
}

/* What the events are. */
static void test_events(void **state)
{
    (void)state;
    struct hnp_listsplit_options loose = {0};
    /* A List (its members before the items come while it is not known to be one). */
    expect_events("{\"kind\":\"PodList\",\"items\":[{\"a\":1}, 2],\"x\":[]}", &loose,
                  "BEGIN 0-0 key 0 list 0 index 0\n"
                  "KEY 1-7 key 2 list 0 index 0\n"
                  "MEMBER 8-17 key 2 list 0 index 0\n"
                  "KEY 18-25 key 1 list 0 index 0\n"
                  "LIST 0-26 key 0 list 0 index 0\n"
                  "ITEM_BEGIN 27-0 key 0 list 0 index 0\n"
                  "ITEM 27-34 key 0 list 0 index 0\n"
                  "ITEM_BEGIN 36-0 key 0 list 0 index 1\n"
                  "ITEM 36-37 key 0 list 0 index 1\n"
                  "KEY 39-42 key 0 list 1 index 0\n"
                  "MEMBER 43-45 key 0 list 1 index 0\n"
                  "LIST_END 0-46 key 0 list 0 index 0\n"
                  "END\n");
    /* Not a List: one value; then a scalar ending with the input. */
    expect_events("{\"items\": null} 5", &loose,
                  "BEGIN 0-0 key 0 list 0 index 0\n"
                  "KEY 1-8 key 1 list 0 index 0\n"
                  "MEMBER 10-14 key 1 list 0 index 0\n"
                  "VALUE 0-15 key 0 list 0 index 0\n"
                  "BEGIN 16-0 key 0 list 0 index 0\n"
                  "VALUE 16-17 key 0 list 0 index 0\n"
                  "END\n");
    /* A page: held bytes; the object is a List from its first member. */
    struct hnp_listsplit_options page = {.page = true, .hold = true};
    expect_events("{\"metadata\":{\"r\":\"1\"},\"items\":[{}]}", &page,
                  "BEGIN 0-0 key 0 list 0 index 0\n"
                  "KEY 1-11 key 3 list 1 index 0\n"
                  "MEMBER 12-21 key 3 list 1 index 0 '{\"r\":\"1\"}'\n"
                  "KEY 22-29 key 1 list 1 index 0\n"
                  "LIST 0-30 key 0 list 0 index 0\n"
                  "ITEM_BEGIN 31-0 key 0 list 0 index 0\n"
                  "ITEM 31-33 key 0 list 0 index 0 '{}'\n"
                  "LIST_END 0-35 key 0 list 0 index 0\n"
                  "END\n");
    /* Errors: where, and in what. */
    expect_events("{\"items\":[{}] x", &loose,
                  "BEGIN 0-0 key 0 list 0 index 0\n"
                  "KEY 1-8 key 1 list 0 index 0\n"
                  "LIST 0-9 key 0 list 0 index 0\n"
                  "ITEM_BEGIN 10-0 key 0 list 0 index 0\n"
                  "ITEM 10-12 key 0 list 0 index 0\n"
                  "ERROR 5/0 at 14 span 0 from 10 key 1 index 1\n");
    expect_events("{\"items\":[{}]", &loose,
                  "BEGIN 0-0 key 0 list 0 index 0\n"
                  "KEY 1-8 key 1 list 0 index 0\n"
                  "LIST 0-9 key 0 list 0 index 0\n"
                  "ITEM_BEGIN 10-0 key 0 list 0 index 0\n"
                  "ITEM 10-12 key 0 list 0 index 0\n"
                  "ERROR 12/5 at 13 span 0 from 10 key 1 index 1\n");
    struct hnp_listsplit_options small = {.max_span = 12, .max_depth = 2};
    expect_events("{\"items\":[[[1]], [12345678901234]]}", &small,
                  "BEGIN 0-0 key 0 list 0 index 0\n"
                  "KEY 1-8 key 1 list 0 index 0\n"
                  "LIST 0-9 key 0 list 0 index 0\n"
                  "ITEM_BEGIN 10-0 key 0 list 0 index 0\n"
                  "ITEM 10-15 key 0 list 0 index 0\n"
                  "ITEM_BEGIN 17-0 key 0 list 0 index 1\n"
                  "ERROR 11/0 at 29 span 4 from 17 key 1 index 1\n");
    expect_events("{\"items\":[[[[1]]]]}", &small,
                  "BEGIN 0-0 key 0 list 0 index 0\n"
                  "KEY 1-8 key 1 list 0 index 0\n"
                  "LIST 0-9 key 0 list 0 index 0\n"
                  "ITEM_BEGIN 10-0 key 0 list 0 index 0\n"
                  "ERROR 10/0 at 12 span 4 from 10 key 1 index 0\n");
    expect_events("x", &page, "ERROR 1/0 at 0 span 0 from 0 key 0 index 0\n");
    expect_events("", &page, "ERROR 12/0 at 0 span 0 from 0 key 0 index 0\n");
    expect_events("", &loose, "END\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_piece_size),
        cmocka_unit_test(test_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
