/*
 * metrics.h - a small thread-safe metrics registry rendered in the
 * Prometheus text exposition format (version 0.0.4). The HTTP listener that
 * serves it is http_server.h.
 *
 * A series is (name, labels): labels is the exact text between the braces,
 * e.g. "operation=\"modify\"" (NULL or "" for none); callers build it with
 * hnp_metrics_label() / hnp_metrics_label_append() so values are escaped.
 * Counter names end in _total by the caller's choice; nothing is renamed.
 *
 * Bounded: at most HNP_METRICS_MAX_SERIES series (a histogram series counts
 * once) and HNP_METRICS_MAX_FAMILIES families. A new series past the cap, or
 * one with an invalid name or label text, is not created; each such attempt
 * increments hnsnetpol_metrics_dropped_series_total, which every render
 * ends with.
 */
#ifndef HNP_METRICS_H
#define HNP_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "hnsnetpol/error.h"

#define HNP_METRICS_MAX_SERIES 10000
#define HNP_METRICS_MAX_FAMILIES 256
#define HNP_METRICS_MAX_BUCKETS 64
#define HNP_METRICS_MAX_NAME 200    /* bytes of a metric name */
#define HNP_METRICS_MAX_LABELS 1024 /* bytes of a series' label text */
#define HNP_METRICS_DROPPED "hnsnetpol_metrics_dropped_series_total"

enum hnp_metric_type { HNP_METRIC_COUNTER, HNP_METRIC_GAUGE, HNP_METRIC_HISTOGRAM };

struct hnp_metrics;

/* New empty registry; NULL when out of memory. */
struct hnp_metrics *hnp_metrics_new(void);
/* Free the registry and every series. Accepts NULL. */
void hnp_metrics_free(struct hnp_metrics *m);

/*
 * Declare a metric family once, before use: help text (may be NULL), type
 * and, for histograms, the upper bounds of the buckets (strictly ascending,
 * finite, at most HNP_METRICS_MAX_BUCKETS; +Inf implied, and dropped when
 * given last). buckets is copied. Declaring again with the same type (and
 * buckets) replaces the help and returns HNP_OK; a family first used
 * undeclared may be declared a counter or gauge later.
 * HNP_ERR_INVALID for a name not matching
 * [a-zA-Z_:][a-zA-Z0-9_:]*, a type conflict, bad buckets or the reserved
 * HNP_METRICS_DROPPED; HNP_ERR_LIMIT past HNP_METRICS_MAX_FAMILIES;
 * HNP_ERR_NOMEM.
 */
enum hnp_err hnp_metrics_declare(struct hnp_metrics *m, const char *name, enum hnp_metric_type type,
                                 const char *help, const double *buckets, size_t n_buckets);

/*
 * Change a series, creating it at 0 on first use. A family used without
 * being declared is an untyped gauge (rendered "# TYPE name untyped").
 * add: counters and gauges (a negative delta on a counter is ignored);
 * set: counters and gauges; observe: histograms. A call that does not fit
 * the family's type is ignored. m may be NULL (then nothing happens), so
 * modules can take an optional registry.
 */
void hnp_metrics_add(struct hnp_metrics *m, const char *name, const char *labels, double delta);
void hnp_metrics_set(struct hnp_metrics *m, const char *name, const char *labels, double value);
void hnp_metrics_observe(struct hnp_metrics *m, const char *name, const char *labels, double value);

/*
 * Current value of a counter or gauge series, the number of observations
 * of a histogram series, the drop count for HNP_METRICS_DROPPED; 0 when
 * unknown. For tests and /readyz.
 */
double hnp_metrics_get(struct hnp_metrics *m, const char *name, const char *labels);

/*
 * Prometheus text format of everything: families in declaration (or first
 * use) order with their # HELP (unless the help is empty) and # TYPE
 * lines, also when they have no series yet; series in first-use order; histograms as cumulative
 * name_bucket{labels,le="..."} lines, name_sum and name_count; then
 * HNP_METRICS_DROPPED. Numbers: integers below 2^53 without exponent, else
 * the shortest text that reads back exactly; +Inf, -Inf, NaN. New string
 * the caller frees; NULL when out of memory.
 */
char *hnp_metrics_render(struct hnp_metrics *m);

/*
 * Writes `key="escaped value"` into buf (NUL-terminated). Backslash, double
 * quote and newline are escaped as the text format requires. When it does
 * not fit in len bytes the value is cut (never inside an escape or a UTF-8
 * character) and the quote still closed; when not even key="" fits, buf is
 * "". value NULL is "".
 */
void hnp_metrics_label(char *buf, size_t len, const char *key, const char *value);

/*
 * Append `,key="escaped value"` (no comma when buf is empty) to the label
 * text already in buf, to build series with several labels. When it does
 * not fit, buf is left unchanged and false is returned.
 */
bool hnp_metrics_label_append(char *buf, size_t len, const char *key, const char *value);

#endif /* HNP_METRICS_H */
