/*
 * log.h - one line per event, text or JSON, thread-safe.
 *
 * Fields are key/value string pairs so JSON logs stay machine-readable.
 * Never pass a token, a key or a certificate as a field: nothing here
 * filters them.
 */
#ifndef HNP_LOG_H
#define HNP_LOG_H

#include <stdio.h>

enum hnp_log_level { HNP_LOG_DEBUG, HNP_LOG_INFO, HNP_LOG_WARN, HNP_LOG_ERROR };
enum hnp_log_format { HNP_LOG_TEXT, HNP_LOG_JSON };

/* Extra destination (the Windows Event Log): called with every line logged at or above min. */
typedef void (*hnp_log_sink_fn)(enum hnp_log_level level, const char *msg, const char *line,
                                void *ctx);

/*
 * Configure: lines at or above min_level go to out (borrowed; stderr when
 * NULL) in the given format. Safe to call again at any time.
 */
void hnp_log_setup(enum hnp_log_level min_level, enum hnp_log_format format, FILE *out);
/* Add (or with fn NULL remove) the extra sink. */
void hnp_log_set_sink(hnp_log_sink_fn fn, enum hnp_log_level min_level, void *ctx);

/*
 * Log msg with NULL-terminated key, value pairs:
 *   hnp_log(HNP_LOG_WARN, "policy rejected", "policy", "ns/name", "feature", "sctp", NULL);
 * Text:  2026-11-28T07:50:00.123Z WARN policy rejected policy=ns/name feature=sctp
 * JSON:  {"time":"...","level":"warn","msg":"policy rejected","policy":"ns/name",...}
 * Values with spaces or quotes are quoted in text. A NULL value prints as "".
 */
void hnp_log(enum hnp_log_level level, const char *msg, ...);

/* "debug" / "info" / "warn" / "error" -> level; -1 for anything else. */
int hnp_log_level_from_name(const char *name);

#endif /* HNP_LOG_H */
