/*
 * metrics.h - a small thread-safe metrics registry rendered in the
 * Prometheus text exposition format, and the HTTP listener that serves it
 * with /healthz and /readyz (libmicrohttpd).
 *
 * A series is (name, labels): labels is the exact text between the braces,
 * e.g. "operation=\"modify\"" (NULL or "" for none); callers build it with
 * hnp_metrics_label() so values are escaped.
 */
#ifndef HNP_METRICS_H
#define HNP_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "hnsnetpol/error.h"

enum hnp_metric_type { HNP_METRIC_COUNTER, HNP_METRIC_GAUGE, HNP_METRIC_HISTOGRAM };

struct hnp_metrics;

struct hnp_metrics *hnp_metrics_new(void);
void hnp_metrics_free(struct hnp_metrics *m);

/*
 * Declare a metric family once, before use: help text, type and, for
 * histograms, the upper bounds of the buckets (ascending, +Inf implied).
 * A family used without being declared is an untyped gauge.
 */
enum hnp_err hnp_metrics_declare(struct hnp_metrics *m, const char *name, enum hnp_metric_type type,
                                 const char *help, const double *buckets, size_t n_buckets);

void hnp_metrics_add(struct hnp_metrics *m, const char *name, const char *labels, double delta);
void hnp_metrics_set(struct hnp_metrics *m, const char *name, const char *labels, double value);
void hnp_metrics_observe(struct hnp_metrics *m, const char *name, const char *labels, double value);
/* Current value of a counter or gauge series (0 when unknown); for tests and /readyz. */
double hnp_metrics_get(struct hnp_metrics *m, const char *name, const char *labels);

/*
 * Prometheus text format of everything, families in declaration order,
 * series in first-use order. New string the caller frees.
 */
char *hnp_metrics_render(struct hnp_metrics *m);

/* Writes `key="escaped value"` into buf (NUL-terminated, truncated to len). */
void hnp_metrics_label(char *buf, size_t len, const char *key, const char *value);

/* Readiness probe the server calls for /readyz: true when ready; reason filled when not. */
typedef bool (*hnp_ready_fn)(void *ctx, char *reason, size_t reason_len);

struct hnp_http_server;

/*
 * Serve /metrics, /healthz (always 200 "ok") and /readyz (200 "ok" when
 * ready(ctx), else 503 with the reason) on addr ("127.0.0.1:9915",
 * "[::1]:9915", ":9915" for all addresses) in background threads. Port 0
 * picks a free port (see hnp_http_server_port). *out is new.
 */
enum hnp_err hnp_http_server_start(const char *addr, struct hnp_metrics *m, hnp_ready_fn ready,
                                   void *ready_ctx, struct hnp_http_server **out,
                                   struct hnp_error *err);
unsigned hnp_http_server_port(const struct hnp_http_server *s);
/* Stop serving and free. Accepts NULL. */
void hnp_http_server_stop(struct hnp_http_server *s);

#endif /* HNP_METRICS_H */
