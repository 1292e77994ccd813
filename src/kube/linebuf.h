/*
 * linebuf.h - split a byte stream into lines across arbitrary chunk
 * boundaries, with a cap: the framing of a watch stream (one JSON event a
 * line). client.c's hnp_kube_stream() uses it; exposed for tests.
 */
#ifndef HNP_LINEBUF_H
#define HNP_LINEBUF_H

#include <stddef.h>

#include "hnsnetpol/error.h"

/*
 * Called for each non-empty line of a streamed response (no "\n" nor
 * "\r\n", not NUL-terminated).
 */
typedef enum hnp_err (*hnp_kube_line_fn)(const char *line, size_t len, void *ctx);

/*
 * Split a byte stream into lines across arbitrary chunk boundaries, with a
 * cap. Lines end with "\n" or "\r\n"; empty lines are skipped. A line is
 * handed to fn straight from the fed bytes when it lies whole in them, else
 * from data; data shrinks back after a line over 64 KiB, so one large event
 * is not kept for the life of the watch.
 */
struct hnp_line_buffer {
    char *data; /* partial line carried over between feeds */
    size_t len;
    size_t cap;
    size_t max_line;
};
/* max_line 0 = 16 MiB. */
void hnp_line_buffer_init(struct hnp_line_buffer *lb, size_t max_line);
/* Free data and empty the buffer (it can be fed again). Accepts NULL. */
void hnp_line_buffer_free(struct hnp_line_buffer *lb);
/*
 * Feed bytes; calls fn per complete line. HNP_ERR_LIMIT as soon as a line
 * is known to exceed max_line, or what fn returned; either way the rest of
 * bytes is not looked at and the partial line is dropped.
 */
enum hnp_err hnp_line_buffer_feed(struct hnp_line_buffer *lb, const char *bytes, size_t len,
                                  hnp_kube_line_fn fn, void *ctx);
/* End of stream: hand a pending last line (without newline) to fn and empty the buffer. */
enum hnp_err hnp_line_buffer_finish(struct hnp_line_buffer *lb, hnp_kube_line_fn fn, void *ctx);

#endif /* HNP_LINEBUF_H */
