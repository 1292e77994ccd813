/*
 * log.h - one line per event, text or JSON, thread-safe.
 *
 * A process-wide logger: every module calls hnp_log(); the program's entry
 * point configures it once (level, format, destination) and the Windows
 * service adds the Event Log as an extra sink. Lines are formatted and
 * written under one lock, so lines from different threads never interleave.
 *
 * Fields are key/value string pairs so JSON logs stay machine-readable.
 * Never pass a token, a key or a certificate as a field: nothing here
 * filters them.
 *
 * Bounds: a message or a value longer than HNP_LOG_MAX_VALUE bytes is cut
 * (ending in "..."); pairs after the first HNP_LOG_MAX_FIELDS are dropped.
 * Messages never contain line breaks: control characters in msg become
 * spaces. Invalid UTF-8 in JSON output becomes U+FFFD.
 */
#ifndef HNP_LOG_H
#define HNP_LOG_H

#include <stdbool.h>
#include <stdio.h>

#define HNP_LOG_MAX_VALUE 8192
#define HNP_LOG_MAX_FIELDS 32

enum hnp_log_level { HNP_LOG_DEBUG, HNP_LOG_INFO, HNP_LOG_WARN, HNP_LOG_ERROR };
enum hnp_log_format { HNP_LOG_TEXT, HNP_LOG_JSON };

/*
 * Extra destination (the Windows Event Log): called with every line logged
 * at or above its own min_level (independently of the main output's level).
 * msg is the event's message (newlines already replaced), line the whole
 * formatted line without its trailing newline; both borrowed for the call.
 * Called with the log lock held, from the logging thread: it must not call
 * hnp_log() itself.
 */
typedef void (*hnp_log_sink_fn)(enum hnp_log_level level, const char *msg, const char *line,
                                void *ctx);

/*
 * Configure: lines at or above min_level go to out (borrowed; stderr when
 * NULL) in the given format, each followed by '\n' and flushed. Safe to call
 * again at any time, from any thread. Before the first call: INFO, text,
 * stderr. Tests pass a FILE * from tmpfile() to capture lines.
 */
void hnp_log_setup(enum hnp_log_level min_level, enum hnp_log_format format, FILE *out);

/* Add (or with fn NULL remove) the extra sink. ctx is borrowed. */
void hnp_log_set_sink(hnp_log_sink_fn fn, enum hnp_log_level min_level, void *ctx);

/*
 * Log msg with NULL-terminated key, value pairs:
 *   hnp_log(HNP_LOG_WARN, "policy rejected", "policy", "ns/name", "feature", "sctp", NULL);
 * Text:  2026-11-28T07:50:00.123Z WARN policy rejected policy=ns/name feature=sctp
 * JSON:  {"time":"2026-11-28T07:50:00.123Z","level":"warn","msg":"policy rejected",
 *         "policy":"ns/name","feature":"sctp"}
 * The time is UTC, RFC 3339 with milliseconds. The list ends at the first
 * NULL key; a NULL value prints as "". In text, a value that is empty or
 * contains a space, '"', '=' or a control character is quoted, with '"',
 * '\' and control characters escaped (\n, \r, \t, \u00XX); keys keep only
 * [A-Za-z0-9_.:/-] (anything else becomes '_'). In JSON, a key named
 * time, level or msg is written as fields.<key> so it cannot hide those;
 * a repeated key keeps its last value.
 */
void hnp_log(enum hnp_log_level level, const char *msg, ...)
#if defined(__GNUC__)
    __attribute__((sentinel))
#endif
    ;

/* Would a line at level go anywhere (main output or sink)? Lets callers skip costly fields. */
bool hnp_log_enabled(enum hnp_log_level level);

/* "debug" / "info" / "warn" / "error" -> level; -1 for anything else. */
int hnp_log_level_from_name(const char *name);
/* level -> "debug" / "info" / "warn" / "error"; never NULL ("error" when out of range). */
const char *hnp_log_level_name(enum hnp_log_level level);
/* "text" / "json" -> format; -1 for anything else. */
int hnp_log_format_from_name(const char *name);

/*
 * Replace the clock (for tests): fn returns milliseconds since the Unix
 * epoch, UTC. NULL restores the system clock.
 */
typedef long long (*hnp_log_clock_fn)(void);
void hnp_log_set_clock(hnp_log_clock_fn fn);

/*
 * Write ms (milliseconds since the Unix epoch) as "YYYY-MM-DDTHH:MM:SS.mmmZ"
 * and a NUL into out (25 bytes are enough) for years 0..9999.
 */
void hnp_log_format_time(long long ms, char out[25]);

#endif /* HNP_LOG_H */
