/*
 * linebuf.c - the line splitter of watch streams (see linebuf.h): a line
 * lying whole in the fed bytes is handed over in place, only a line cut by
 * a chunk boundary is copied, into a buffer capped at max_line.
 */
#include "linebuf.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_LINE ((size_t)16 << 20)
#define LINE_KEEP_BYTES ((size_t)64 << 10) /* larger line buffers are released after use */

void hnp_line_buffer_init(struct hnp_line_buffer *lb, size_t max_line)
{
    lb->data = NULL;
    lb->len = 0;
    lb->cap = 0;
    lb->max_line = max_line ? max_line : DEFAULT_MAX_LINE;
}

void hnp_line_buffer_free(struct hnp_line_buffer *lb)
{
    if (lb == NULL)
        return;
    free(lb->data);
    lb->data = NULL;
    lb->len = 0;
    lb->cap = 0;
}

/* Empty the buffer, giving back a large allocation. */
static void line_buffer_reset(struct hnp_line_buffer *lb)
{
    lb->len = 0;
    if (lb->cap > LINE_KEEP_BYTES) {
        free(lb->data);
        lb->data = NULL;
        lb->cap = 0;
    }
}

/* Hand one line (without its "\n") to fn: drop a "\r" before it, skip empty lines. */
static enum hnp_err deliver(const struct hnp_line_buffer *lb, const char *line, size_t len,
                            hnp_kube_line_fn fn, void *ctx)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len > lb->max_line)
        return HNP_ERR_LIMIT;
    if (len == 0)
        return HNP_OK;
    return fn(line, len, ctx);
}

enum hnp_err hnp_line_buffer_feed(struct hnp_line_buffer *lb, const char *bytes, size_t len,
                                  hnp_kube_line_fn fn, void *ctx)
{
    size_t off = 0;
    while (off < len) {
        const char *start = bytes + off;
        const char *nl = memchr(start, '\n', len - off);
        size_t take = nl ? (size_t)(nl - start) : len - off;
        enum hnp_err rc = HNP_OK;
        if (lb->len == 0 && nl != NULL) {
            /* The whole line is in bytes: no copy. */
            rc = deliver(lb, start, take, fn, ctx);
        } else {
            /* Carry over; one byte more than max_line for a "\r" that may end it. */
            if (take > lb->max_line + 1 - lb->len) {
                line_buffer_reset(lb);
                return HNP_ERR_LIMIT;
            }
            if (lb->len + take > lb->cap) {
                size_t cap = lb->cap ? lb->cap : 256;
                while (cap < lb->len + take)
                    cap *= 2;
                if (cap > lb->max_line + 1)
                    cap = lb->max_line + 1;
                char *data = realloc(lb->data, cap);
                if (data == NULL) {
                    line_buffer_reset(lb);
                    return HNP_ERR_NOMEM;
                }
                lb->data = data;
                lb->cap = cap;
            }
            if (take > 0) {
                memcpy(lb->data + lb->len, start, take);
                lb->len += take;
            }
            if (nl != NULL) {
                rc = deliver(lb, lb->data, lb->len, fn, ctx);
                line_buffer_reset(lb);
            }
        }
        if (rc != HNP_OK) {
            line_buffer_reset(lb);
            return rc;
        }
        off += take + (nl ? 1 : 0);
    }
    return HNP_OK;
}

enum hnp_err hnp_line_buffer_finish(struct hnp_line_buffer *lb, hnp_kube_line_fn fn, void *ctx)
{
    enum hnp_err rc = HNP_OK;
    if (lb->len > 0)
        rc = deliver(lb, lb->data, lb->len, fn, ctx);
    line_buffer_reset(lb);
    return rc;
}
