/*
 * listpage.c - read one page of an API server LIST answer, fed in pieces of
 * any size (see listpage.h): the engine's List splitter (listsplit.h, page
 * mode) finds the wrapper's members and the elements of its items array
 * and holds each one's bytes (within max_item_bytes); an item or metadata
 * is parsed alone, so only one listed object is a JSON tree at a time.
 * Values of other members ("kind", "apiVersion") are skipped unchecked.
 */
#include "listpage.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

void hnp_list_page_init(struct hnp_list_page *ps, const struct hnp_list_page_options *opt,
                        size_t page, size_t index)
{
    memset(ps, 0, sizeof(*ps));
    ps->opt = *opt;
    ps->page = page;
    ps->first = ps->index = index;
    struct hnp_listsplit_options split = {
        .page = true, .hold = true, .max_span = opt->max_item_bytes};
    hnp_listsplit_init(&ps->sp, &split, 0);
}

void hnp_list_page_done(struct hnp_list_page *ps)
{
    hnp_listsplit_free(&ps->sp);
    json_decref(ps->metadata);
    ps->metadata = NULL;
}

enum hnp_err hnp_list_page_fail(struct hnp_list_page *ps, enum hnp_err code, uint64_t off,
                                const char *msg, const char *what)
{
    char page[24], offset[24];
    snprintf(page, sizeof(page), "%zu", ps->page);
    snprintf(offset, sizeof(offset), "%llu", (unsigned long long)off);
    hnp_log(HNP_LOG_WARN, msg, "resource", ps->opt.resource, "page", page, "offset", offset,
            "error", what, NULL);
    ps->logged = true;
    return code;
}

/* The page has reached off bytes: fail when that is more than max_list_bytes. */
static enum hnp_err page_size_check(struct hnp_list_page *ps, uint64_t off)
{
    if (off <= ps->opt.max_list_bytes)
        return HNP_OK;
    char what[96];
    snprintf(what, sizeof(what), "the page is larger than %llu bytes (in items[%zu])",
             (unsigned long long)ps->opt.max_list_bytes, ps->index);
    return hnp_list_page_fail(ps, HNP_ERR_LIMIT, off, "watch: list page too large", what);
}

/* The splitter's error, logged. */
static enum hnp_err page_error(struct hnp_list_page *ps, const struct hnp_split_event *ev)
{
    static const char *const expected[] = {
        [HNP_SPLIT_EXPECT_OBJECT] = "expected '{' at the start of the page",
        [HNP_SPLIT_EXPECT_KEY] = "expected a member name",
        [HNP_SPLIT_EXPECT_COLON] = "expected ':' after a member name",
        [HNP_SPLIT_EXPECT_VALUE] = "expected a value",
        [HNP_SPLIT_EXPECT_MEMBER_END] = "expected ',' or '}' after a member",
        [HNP_SPLIT_EXPECT_ITEM] = "expected an item",
        [HNP_SPLIT_EXPECT_ITEM_END] = "expected ',' or ']' after an item",
        [HNP_SPLIT_TRAILING] = "unexpected bytes after the list",
        [HNP_SPLIT_TRUNCATED] = "the page ends early (truncated)",
    };
    char what[96];
    switch (ev->error) {
    case HNP_SPLIT_NOMEM:
        return HNP_ERR_NOMEM;
    case HNP_SPLIT_TOO_BIG:
        if (ev->span == HNP_SPAN_ITEM)
            snprintf(what, sizeof(what), "items[%zu] is larger than %zu bytes",
                     ps->first + ev->index, ps->opt.max_item_bytes);
        else
            snprintf(what, sizeof(what), "%s is larger than %zu bytes",
                     ev->key == HNP_SPLIT_KEY_METADATA ? "metadata" : "a member",
                     ps->opt.max_item_bytes);
        return hnp_list_page_fail(ps, HNP_ERR_LIMIT, ev->start, "watch: listed object too large",
                                  what);
    case HNP_SPLIT_DUPLICATE_ITEMS:
        return hnp_list_page_fail(ps, HNP_ERR_SCHEMA, ev->at, "watch: list response is not a list",
                                  "a second items array");
    default:
        break;
    }
    const char *text =
        (size_t)ev->error < sizeof(expected) / sizeof(expected[0]) && expected[ev->error] != NULL
            ? expected[ev->error]
            : "not a list";
    return hnp_list_page_fail(ps, HNP_ERR_PARSE, ev->at, "watch: list page is not valid JSON",
                              text);
}

/* A member of the page's wrapper: metadata is kept, items must be an array or null. */
static enum hnp_err page_member(struct hnp_list_page *ps, const struct hnp_split_event *ev)
{
    size_t n = (size_t)(ev->end - ev->start);
    if (ev->key == HNP_SPLIT_KEY_ITEMS) {
        if (ev->text[0] != 'n') /* null: a list without items, as before */
            return hnp_list_page_fail(ps, HNP_ERR_SCHEMA, ev->start,
                                      "watch: list response is not a list",
                                      "items is not an array");
        ps->saw_items = true;
        return HNP_OK;
    }
    if (ev->key != HNP_SPLIT_KEY_METADATA)
        return HNP_OK;
    json_error_t jerr;
    json_t *value = json_loadb(ev->text, n, JSON_DECODE_ANY, &jerr);
    if (value == NULL) {
        /* The offset is where the value starts; jansson's position is inside it. */
        char what[256];
        snprintf(what, sizeof(what), "metadata, byte %d of it: %s", jerr.position, jerr.text);
        return hnp_list_page_fail(ps, HNP_ERR_PARSE, ev->start,
                                  "watch: list page is not valid JSON", what);
    }
    if (!json_is_object(value)) {
        json_decref(value);
        return hnp_list_page_fail(ps, HNP_ERR_SCHEMA, ev->start,
                                  "watch: list response is not a list",
                                  "metadata is not an object");
    }
    json_decref(ps->metadata);
    ps->metadata = value;
    return HNP_OK;
}

/* An item of the page: parsed alone and taken. */
static enum hnp_err page_item(struct hnp_list_page *ps, const struct hnp_split_event *ev)
{
    json_error_t jerr;
    json_t *value = json_loadb(ev->text, (size_t)(ev->end - ev->start), JSON_DECODE_ANY, &jerr);
    if (value == NULL) {
        char what[256];
        snprintf(what, sizeof(what), "items[%zu], byte %d of the item: %s", ps->index,
                 jerr.position, jerr.text);
        return hnp_list_page_fail(ps, HNP_ERR_PARSE, ev->start,
                                  "watch: list page is not valid JSON", what);
    }
    enum hnp_err rc = ps->opt.item(value, ps->index, ps->opt.ctx);
    json_decref(value);
    ps->index++;
    return rc;
}

/* Take the splitter's events until it wants more input or the page ends. */
static enum hnp_err page_events(struct hnp_list_page *ps)
{
    for (;;) {
        struct hnp_split_event ev;
        enum hnp_err rc = HNP_OK;
        switch (hnp_listsplit_next(&ps->sp, &ev)) {
        case HNP_SPLIT_MORE:
        case HNP_SPLIT_END:
            return HNP_OK;
        case HNP_SPLIT_ERROR:
            return page_error(ps, &ev);
        case HNP_SPLIT_LIST:
            ps->saw_items = true;
            break;
        case HNP_SPLIT_MEMBER:
            rc = page_member(ps, &ev);
            break;
        case HNP_SPLIT_ITEM:
            rc = page_item(ps, &ev);
            break;
        default:
            break;
        }
        if (rc != HNP_OK)
            return rc;
    }
}

enum hnp_err hnp_list_page_feed(struct hnp_list_page *ps, const char *text, size_t n)
{
    /* The splitter bounds what is held; this bounds a body that never ends. */
    enum hnp_err rc = page_size_check(ps, ps->offset + n);
    if (rc != HNP_OK)
        return rc;
    if ((rc = hnp_listsplit_feed(&ps->sp, text, n)) != HNP_OK)
        return rc;
    ps->offset += n;
    return page_events(ps);
}

enum hnp_err hnp_list_page_finish(struct hnp_list_page *ps)
{
    hnp_listsplit_finish(&ps->sp);
    enum hnp_err rc = page_events(ps);
    if (rc != HNP_OK)
        return rc;
    if (!ps->saw_items ||
        json_string_value(json_object_get(ps->metadata, "resourceVersion")) == NULL)
        return hnp_list_page_fail(ps, HNP_ERR_SCHEMA, ps->offset,
                                  "watch: list response is not a list",
                                  ps->saw_items ? "no metadata.resourceVersion" : "no items");
    return HNP_OK;
}

enum hnp_err hnp_list_page_piece(const char *bytes, size_t len, void *ctx)
{
    struct hnp_list_page *ps = ctx;
    if (ps->opt.stop != NULL && *ps->opt.stop)
        return HNP_ERR_STOPPED;
    return hnp_list_page_feed(ps, bytes, len);
}
