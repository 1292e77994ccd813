/*
 * listpage.h - read one page of an API server LIST answer ({"kind":
 * "...List", "metadata": {...}, "items": [...]}, members in any order) from
 * its body in pieces cut anywhere, item by item: the reflector (watch.c)
 * never holds a page, as text or as one JSON tree. Each item is parsed
 * alone and handed to a callback; the page's metadata is kept (for its
 * resourceVersion and continue token).
 *
 * A page that is not JSON, is not a list, holds an item (or metadata)
 * larger than max_item_bytes, or is larger than max_list_bytes is refused:
 * the failure is logged (warning, with the resource, the page number, the
 * offset in the page and what is wrong) and returned.
 */
#ifndef HNP_LISTPAGE_H
#define HNP_LISTPAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hnsnetpol/error.h"
#include "listsplit.h"

/*
 * Called with each item (borrowed for the call) and its index in the whole
 * list; a code other than HNP_OK refuses the page (not logged here).
 */
typedef enum hnp_err (*hnp_list_item_fn)(json_t *item, size_t index, void *ctx);

struct hnp_list_page_options {
    const char *resource;    /* for messages ("pods"); borrowed */
    size_t max_item_bytes;   /* one item, or the metadata; not 0 */
    uint64_t max_list_bytes; /* the whole page */
    hnp_list_item_fn item;   /* required */
    void *ctx;
    const volatile int *stop; /* may be NULL; non-zero: hnp_list_page_piece() stops */
};

/* One page being read; fields private to listpage.c except metadata, index and logged. */
struct hnp_list_page {
    struct hnp_list_page_options opt;
    struct hnp_listsplit sp;
    size_t page;      /* 1 for the first page of the list, for messages */
    size_t first;     /* index in the whole list of the page's first item */
    size_t index;     /* index in the whole list of the next item */
    uint64_t offset;  /* bytes of the page fed so far */
    bool saw_items;   /* an items array, or items: null */
    json_t *metadata; /* the page's (owned), once read */
    bool logged;      /* a failure was logged */
};

/* Start page number page (1-based, for messages) whose first item has index index. */
void hnp_list_page_init(struct hnp_list_page *ps, const struct hnp_list_page_options *opt,
                        size_t page, size_t index);

/* Free what the page holds (metadata included). */
void hnp_list_page_done(struct hnp_list_page *ps);

/*
 * The next n bytes of the body. HNP_OK, or the failure: logged, except
 * HNP_ERR_NOMEM and what the item callback returned.
 */
enum hnp_err hnp_list_page_feed(struct hnp_list_page *ps, const char *bytes, size_t n);

/* hnp_kube_piece_fn (client.h) over hnp_list_page_feed(), ctx the page; checks opt.stop first. */
enum hnp_err hnp_list_page_piece(const char *bytes, size_t len, void *ctx);

/*
 * The body is complete: it must have been a whole list with
 * metadata.resourceVersion (HNP_ERR_PARSE, HNP_ERR_SCHEMA, logged).
 */
enum hnp_err hnp_list_page_finish(struct hnp_list_page *ps);

/* Log why the page is refused (msg and what at offset off of the page); returns code. */
enum hnp_err hnp_list_page_fail(struct hnp_list_page *ps, enum hnp_err code, uint64_t off,
                                const char *msg, const char *what);

#endif /* HNP_LISTPAGE_H */
