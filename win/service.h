/*
 * service.h - private to win/: the Windows service shell (service.c) and
 * the hnsnetpol source of the Windows Event Log (eventlog.c).
 *
 * The public entry point, hnp_cli_service_main() (`hnsnetpol service ...`),
 * is declared in include/hnsnetpol/cli_run.h; docs/windows-service.md tells
 * the whole story.
 */
#ifndef HNP_WIN_SERVICE_H
#define HNP_WIN_SERVICE_H

#include <windows.h>

#include <stdbool.h>

#include "hnsnetpol/error.h"
#include "log.h"

/* The service's name, its Event Log source's name and the folder under %ProgramData%. */
#define HNP_SERVICE_NAME L"hnsnetpol"

/*
 * Event IDs of the source. They are the message IDs of win/messages.mc
 * (Severity=Success, so the ID is the number itself); the message table is
 * linked into hnsnetpol.exe, which the source names as its
 * EventMessageFile. Every message is "<what>: %1", %1 being the log line.
 */
enum hnp_event_id {
    HNP_EVENT_INFO = 1,        /* any other information */
    HNP_EVENT_WARNING = 2,     /* a warning of the agent */
    HNP_EVENT_ERROR = 3,       /* an error of the agent */
    HNP_EVENT_STARTED = 100,   /* the agent's loop runs: the service reported RUNNING */
    HNP_EVENT_STOPPED = 101,   /* the agent stopped cleanly */
    HNP_EVENT_FAILED = 102,    /* the service stopped with a non-zero exit code */
    HNP_EVENT_SYNCED = 103,    /* the initial sync with the API server is done */
    HNP_EVENT_REJECTED = 200,  /* a NetworkPolicy is not enforced on this node */
    HNP_EVENT_SUPPRESSED = 300 /* warnings and errors left out of the Event Log */
};

/* ---- eventlog.c ---- */

/*
 * Register the source: the key
 * HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\hnsnetpol
 * with EventMessageFile = exe (REG_EXPAND_SZ) and TypesSupported = 7.
 * Replaces what is there. HNP_ERR_AUTH when not elevated, HNP_ERR_IO.
 */
enum hnp_err hnp_eventlog_install(const wchar_t *exe, struct hnp_error *err);

/* Remove that key; HNP_OK when it is not there. HNP_ERR_AUTH, HNP_ERR_IO. */
enum hnp_err hnp_eventlog_uninstall(struct hnp_error *err);

/*
 * Open the source for reporting (RegisterEventSourceW). false when the
 * system refuses; hnp_eventlog_report() is then a no-op.
 */
bool hnp_eventlog_open(void);

/* Close what hnp_eventlog_open() opened; nothing when it is not open. */
void hnp_eventlog_close(void);

/*
 * Report text (UTF-8, borrowed; cut at 31,000 characters) with type
 * EVENTLOG_INFORMATION_TYPE, _WARNING_TYPE or _ERROR_TYPE and id. Never
 * rate-limited: for the service's own events.
 */
void hnp_eventlog_report(WORD type, enum hnp_event_id id, const char *text);

/*
 * The log's share of the Event Log, for the service's log sink (called
 * with the log lock held): the agent's start ("agent started") and stop
 * ("agent stopped") lines at INFO, rejected NetworkPolicies (WARN, their own
 * ID), and every other WARN and ERROR line. Warnings and errors are limited
 * to 30 a minute; past that one HNP_EVENT_SUPPRESSED event says how many
 * were left out (the log file has them all). msg and line are borrowed.
 */
void hnp_eventlog_log_line(enum hnp_log_level level, const char *msg, const char *line);

#endif /* HNP_WIN_SERVICE_H */
