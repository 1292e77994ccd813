/*
 * service.c - the agent as a Windows service: what the service manager
 * (SCM) runs as `hnsnetpol service run`. The commands that install and
 * control the service are in service_cmd.c.
 *
 * `service run` connects to the SCM (StartServiceCtrlDispatcherW); its
 * ServiceMain reports START_PENDING with advancing checkpoints, starts the
 * agent on a thread of its own (hnp_run_agent(), the same code as `run`)
 * and reports RUNNING once the agent's loop has started - the agent's
 * started callback (hnp_agent_options.started) - not after the
 * initial sync with the API server, which may take long or, while the API
 * server is unreachable, never end (/readyz tells readiness). STOP,
 * SHUTDOWN and PRESHUTDOWN set the agent's stop flag; STOP_PENDING is
 * reported with a new checkpoint every second while the agent finishes the
 * HNS call in flight; STOPPED once hnp_run_agent() has returned and the logs
 * are closed, with ERROR_SERVICE_SPECIFIC_ERROR and the agent's exit code
 * (1 failed, 2 bad settings) when it did not stop cleanly.
 *
 * The calls that set the service's configuration and report its status
 * go through a table (service_internal.h), so tests/win/test_service_config.c
 * can check what is asked of the SCM where wine's SCM cannot show it.
 *
 * Logs: a size-rotated file (log_file.h; %ProgramData%\hnsnetpol\hnsnetpol.log
 * unless --log-file / logFile says otherwise) at the configured level, and
 * the Event Log (eventlog.c) for start, stop, rejected policies, warnings
 * and errors. Both are fed by one log sink; the logger's main output goes
 * to NUL (a service has no console).
 */
#define WIN32_LEAN_AND_MEAN

#include "service.h"
#include "service_internal.h"

#include <shlobj.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "exit_code.h"
#include "config.h"
#include "run.h"
#include "log.h"
#include "log_file.h"

#ifndef HNP_VERSION
#define HNP_VERSION "0.0.0"
#endif

/* Checkpoints advance this often while starting or stopping. */
#define CHECKPOINT_MS 1000
#define WAIT_HINT_MS 10000

/* ------------------------------------------------------------------------ */
/* The SCM call table                                                       */

/* The SCM calls tests replace; NULL members mean the real functions. */
static struct hnp_scm_calls scm_calls;

void hnp_service_set_scm_calls(const struct hnp_scm_calls *calls)
{
    if (calls != NULL)
        scm_calls = *calls;
    else
        memset(&scm_calls, 0, sizeof(scm_calls));
}

BOOL hnp_service_change_config2(SC_HANDLE svc, DWORD level, void *info)
{
    if (scm_calls.change_config2 != NULL)
        return scm_calls.change_config2(svc, level, info);
    return ChangeServiceConfig2W(svc, level, info);
}

static BOOL set_status(SERVICE_STATUS_HANDLE handle, SERVICE_STATUS *status)
{
    if (scm_calls.set_status != NULL)
        return scm_calls.set_status(handle, status);
    return SetServiceStatus(handle, status);
}

/* ------------------------------------------------------------------------ */
/* run: the service itself                                                  */

static struct {
    int argc;
    char **argv;
    SERVICE_STATUS_HANDLE handle;
    SERVICE_STATUS status;     /* under status_lock */
    volatile int stop;         /* the agent's stop flag */
    HANDLE started;            /* event: the agent's loop runs */
    struct hnp_log_file *file; /* NULL when it could not be opened */
    enum hnp_log_level file_level;
    struct hnp_run_config cfg;
    int exit_code;
} svc_state;

/* Statically initialised: the control handler may run before ServiceMain has done anything. */
static SRWLOCK status_lock = SRWLOCK_INIT;

void hnp_service_status_begin(SERVICE_STATUS_HANDLE handle)
{
    AcquireSRWLockExclusive(&status_lock);
    svc_state.handle = handle;
    memset(&svc_state.status, 0, sizeof(svc_state.status));
    svc_state.stop = 0;
    ReleaseSRWLockExclusive(&status_lock);
}

void hnp_service_report(DWORD state, DWORD exit_code)
{
    AcquireSRWLockExclusive(&status_lock);
    SERVICE_STATUS *s = &svc_state.status;
    /* Once stopping, only STOPPED may follow (a late RUNNING would confuse the SCM). */
    if (!(s->dwCurrentState == SERVICE_STOP_PENDING && state == SERVICE_RUNNING)) {
        s->dwServiceType = SERVICE_WIN32_OWN_PROCESS;
        s->dwCurrentState = state;
        s->dwControlsAccepted =
            state == SERVICE_RUNNING
                ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PRESHUTDOWN
                : 0;
        if (exit_code == 0) {
            s->dwWin32ExitCode = NO_ERROR;
            s->dwServiceSpecificExitCode = 0;
        } else {
            s->dwWin32ExitCode = ERROR_SERVICE_SPECIFIC_ERROR;
            s->dwServiceSpecificExitCode = exit_code;
        }
        bool pending = state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING;
        s->dwCheckPoint = pending ? s->dwCheckPoint + 1 : 0;
        s->dwWaitHint = pending ? WAIT_HINT_MS : 0;
        set_status(svc_state.handle, s);
    }
    ReleaseSRWLockExclusive(&status_lock);
}

DWORD hnp_service_state(void)
{
    AcquireSRWLockShared(&status_lock);
    DWORD state = svc_state.status.dwCurrentState;
    ReleaseSRWLockShared(&status_lock);
    return state;
}

DWORD hnp_service_wait_pending(DWORD count, const HANDLE *handles, DWORD pending, DWORD interval_ms)
{
    for (;;) {
        DWORD w = WaitForMultipleObjects(count, handles, FALSE, interval_ms);
        if (w != WAIT_TIMEOUT)
            return w;
        if (hnp_service_state() == pending)
            hnp_service_report(pending, 0);
    }
}

const volatile int *hnp_service_stop_flag(void)
{
    return &svc_state.stop;
}

DWORD WINAPI hnp_service_on_control(DWORD control, DWORD type, void *data, void *ctx)
{
    (void)type;
    (void)data;
    (void)ctx;
    const char *name = control == SERVICE_CONTROL_STOP       ? "stop"
                       : control == SERVICE_CONTROL_SHUTDOWN ? "shutdown"
                                                             : "preshutdown";
    switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
    case SERVICE_CONTROL_PRESHUTDOWN:
        /* The log file says why the agent stops: an operator, or Windows shutting down. */
        hnp_log(HNP_LOG_INFO, "service stop requested", "control", name, NULL);
        svc_state.stop = 1;
        hnp_service_report(SERVICE_STOP_PENDING, 0);
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

/*
 * The log sink of the service: every line at the configured level to the
 * file, and the Event Log's share of the agent's lines to the Event Log
 * (eventlog.c).
 */
static void service_sink(enum hnp_log_level level, const char *msg, const char *line, void *ctx)
{
    (void)ctx;
    if (svc_state.file != NULL && level >= svc_state.file_level)
        hnp_log_file_write(svc_state.file, line);
    /* The service's own lines ("service ...") are not the agent's: it reports its events itself. */
    if (strncmp(msg, "service ", 8) != 0)
        hnp_eventlog_log_line(level, msg, line);
}

/* The agent's loop runs: ServiceMain reports RUNNING. On the agent's thread. */
static void on_started(void *ctx)
{
    SetEvent((HANDLE)ctx);
}

/* The agent's initial sync is done: one Event Log entry (the agent logs it too). */
static void on_ready(void *ctx)
{
    (void)ctx;
    hnp_eventlog_report(EVENTLOG_INFORMATION_TYPE, HNP_EVENT_SYNCED,
                        "initial sync with the API server done; ACLs converging");
}

static DWORD WINAPI agent_thread(void *arg)
{
    (void)arg;
    struct hnp_agent_options base = {
        .started = on_started,
        .started_ctx = svc_state.started,
        .ready = on_ready,
    };
    svc_state.exit_code = hnp_run_agent(&svc_state.cfg, &base, hnp_service_stop_flag(), NULL);
    return 0;
}

/*
 * The default log file, %ProgramData%\hnsnetpol\hnsnetpol.log, into buf
 * (the folder is created). The folder of CSIDL_COMMON_APPDATA rather than
 * the variable, which a service's environment need not have. false when the
 * folder cannot be made.
 */
static bool default_log_path(char *buf, size_t len)
{
    char base[MAX_PATH];
    if (SHGetFolderPathA(NULL, CSIDL_COMMON_APPDATA, NULL, SHGFP_TYPE_CURRENT, base) != S_OK) {
        DWORD n = GetEnvironmentVariableA("ProgramData", base, sizeof(base));
        if (n == 0 || n >= sizeof(base))
            snprintf(base, sizeof(base), "C:\\ProgramData");
    }
    char dir[MAX_PATH + 16];
    snprintf(dir, sizeof(dir), "%s\\hnsnetpol", base);
    if (!CreateDirectoryA(dir, NULL) && GetLastError() != ERROR_ALREADY_EXISTS)
        return false;
    snprintf(buf, len, "%s\\hnsnetpol.log", dir);
    return true;
}

/* Parse the service's arguments; messages about them go to the Event Log (no log file yet). */
static bool parse_arguments(void)
{
    FILE *errout = tmpfile();
    bool help = false;
    enum hnp_err rc = hnp_run_options_parse(svc_state.argc, svc_state.argv, "hnsnetpol service run",
                                            &svc_state.cfg, &help, errout ? errout : stderr);
    if (rc != HNP_OK) {
        char text[4096] = "bad service settings";
        if (errout != NULL) {
            rewind(errout);
            size_t n = fread(text, 1, sizeof(text) - 1, errout);
            while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
                n--;
            text[n] = '\0';
        }
        hnp_eventlog_report(EVENTLOG_ERROR_TYPE, HNP_EVENT_FAILED, text);
    }
    if (errout != NULL)
        fclose(errout);
    return rc == HNP_OK;
}

static void WINAPI service_main(DWORD argc, wchar_t **argv)
{
    (void)argc;
    (void)argv;
    SERVICE_STATUS_HANDLE handle =
        RegisterServiceCtrlHandlerExW(HNP_SERVICE_NAME, hnp_service_on_control, NULL);
    if (handle == NULL)
        return;
    hnp_service_status_begin(handle);
    hnp_service_report(SERVICE_START_PENDING, 0);
    hnp_eventlog_open();

    hnp_run_config_init(&svc_state.cfg);
    if (!parse_arguments()) {
        svc_state.exit_code = HNP_EXIT_USAGE;
        hnp_eventlog_close();
        hnp_service_report(SERVICE_STOPPED, HNP_EXIT_USAGE);
        return;
    }
    const struct hnp_run_config *cfg = &svc_state.cfg;

    /* Logs: NUL for the main output, the file and the Event Log through the sink. */
    char path[MAX_PATH + 64];
    const char *log_path = cfg->log_file;
    if (log_path == NULL && default_log_path(path, sizeof(path)))
        log_path = path;
    struct hnp_error err = {0};
    if (log_path == NULL || hnp_log_file_open(log_path, 0, 0, &svc_state.file, &err) != HNP_OK) {
        char text[1200];
        snprintf(text, sizeof(text), "no log file: %s",
                 log_path ? err.message : "cannot create %ProgramData%\\hnsnetpol");
        hnp_eventlog_report(EVENTLOG_WARNING_TYPE, HNP_EVENT_WARNING, text);
        svc_state.file = NULL;
    }
    FILE *nul = fopen("NUL", "w");
    svc_state.file_level = cfg->log_level;
    hnp_log_setup(cfg->log_level, cfg->log_format, nul);
    hnp_log_set_sink(service_sink, cfg->log_level < HNP_LOG_INFO ? cfg->log_level : HNP_LOG_INFO,
                     NULL);
    char pid[16];
    snprintf(pid, sizeof(pid), "%lu", (unsigned long)GetCurrentProcessId());
    hnp_log(HNP_LOG_INFO, "service starting", "version", HNP_VERSION, "pid", pid, "log_file",
            svc_state.file ? log_path : "", NULL);
    hnp_service_report(SERVICE_START_PENDING, 0);

    svc_state.started = CreateEventW(NULL, TRUE, FALSE, NULL);
    HANDLE thread = svc_state.started ? CreateThread(NULL, 0, agent_thread, NULL, 0, NULL) : NULL;
    if (thread == NULL) {
        hnp_log(HNP_LOG_ERROR, "cannot start the agent's thread", NULL);
        svc_state.exit_code = HNP_EXIT_FAILURE;
    } else {
        /* START_PENDING until the agent's loop runs or the agent returns (it could not start). */
        HANDLE both[2] = {thread, svc_state.started};
        if (hnp_service_wait_pending(2, both, SERVICE_START_PENDING, CHECKPOINT_MS) ==
            WAIT_OBJECT_0 + 1) {
            hnp_service_report(SERVICE_RUNNING, 0);
            hnp_log(HNP_LOG_INFO, "service running", NULL);
        }
        /* RUNNING until the agent returns; STOP_PENDING with new checkpoints once asked. */
        hnp_service_wait_pending(1, &thread, SERVICE_STOP_PENDING, CHECKPOINT_MS);
        CloseHandle(thread);
    }

    int code = svc_state.exit_code;
    if (code == HNP_EXIT_OK && !svc_state.stop)
        code = HNP_EXIT_FAILURE; /* the agent only returns 0 when asked to stop */
    if (code == HNP_EXIT_OK) {
        hnp_log(HNP_LOG_INFO, "service stopped", "exit_code", "0", NULL);
    } else {
        char text[64];
        snprintf(text, sizeof(text), "%d", code);
        hnp_log(HNP_LOG_ERROR, "service stopped after a failure", "exit_code", text, NULL);
        char event[256];
        snprintf(event, sizeof(event),
                 "the agent ended with exit code %d (1: failed, 2: bad settings); the log file "
                 "says why",
                 code);
        hnp_eventlog_report(EVENTLOG_ERROR_TYPE, HNP_EVENT_FAILED, event);
    }
    hnp_log_set_sink(NULL, HNP_LOG_DEBUG, NULL);
    hnp_log_setup(HNP_LOG_INFO, HNP_LOG_TEXT, NULL);
    if (nul != NULL)
        fclose(nul);
    hnp_log_file_close(svc_state.file);
    svc_state.file = NULL;
    hnp_eventlog_close();
    if (svc_state.started != NULL)
        CloseHandle(svc_state.started);
    hnp_run_config_clear(&svc_state.cfg);
    svc_state.exit_code = code;
    hnp_service_report(SERVICE_STOPPED, (DWORD)code);
}
int hnp_service_run(int argc, char **argv, FILE *errout)
{
    svc_state.argc = argc;
    svc_state.argv = argv;
    SERVICE_TABLE_ENTRYW table[] = {{(wchar_t *)HNP_SERVICE_NAME, service_main}, {NULL, NULL}};
    if (!StartServiceCtrlDispatcherW(table)) {
        DWORD error = GetLastError();
        if (error == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
            fputs("hnsnetpol service run: this is what the service manager starts; in a console "
                  "or a HostProcess container use `hnsnetpol run` with the same flags\n",
                  errout);
            return HNP_EXIT_USAGE;
        }
        hnp_service_print_failure(errout, "hnsnetpol service run",
                                  "cannot connect to the service "
                                  "manager",
                                  error);
        return HNP_EXIT_FAILURE;
    }
    return svc_state.exit_code;
}
