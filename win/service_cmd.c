/*
 * service_cmd.c - `hnsnetpol service install | uninstall | start | stop |
 * status`: the commands that talk to the Windows service manager (SCM),
 * and the dispatch of `hnsnetpol service ...` (hnp_cli_service_main).
 *
 *   install [flags | --config FILE]  create the service (automatic start,
 *                                    restart on failure) and its Event Log source
 *   uninstall                        stop it if it runs, delete it and the source
 *   start | stop | status            through the service manager (SCM)
 *   run [flags]                      what the SCM starts: the service itself
 *                                    (service.c, hnp_service_run())
 *
 * The calls that set the service's configuration go through the SCM call
 * table of service.c (service_internal.h), so tests/win/test_service_config.c
 * can check what is asked of the SCM where wine's SCM cannot show it.
 *
 * Arguments arrive in the ANSI code page (msvcrt's argv); the service's
 * command line is rebuilt from them in UTF-16 with CP_ACP, quoted for
 * CommandLineToArgvW and msvcrt.
 */
#define WIN32_LEAN_AND_MEAN

#include "service.h"
#include "service_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "registry.h"
#include "exit_code.h"
#include "config.h"
#include "options.h"
#include "platform.h"
#include "run.h"

#define DISPLAY_NAME L"hnsnetpol NetworkPolicy agent"
#define DESCRIPTION                                                                                \
    L"Enforces Kubernetes NetworkPolicies on this node's pods as HNS ACLs (hnsnetpol "             \
    L"service run). Logs: %ProgramData%\\hnsnetpol\\hnsnetpol.log and the Application "            \
    L"Event Log."

/* Restart after 5 s, 10 s, 30 s; the failure count goes back to 0 after a day without one. */
#define RESTART_1_MS 5000
#define RESTART_2_MS 10000
#define RESTART_3_MS 30000
#define FAILURE_RESET_S (24 * 60 * 60)
/* How long Windows waits for the service at shutdown, after PRESHUTDOWN. */
#define PRESHUTDOWN_MS 60000
/* How long `service start | stop | uninstall` wait for the service. */
#define CLI_WAIT_MS 120000

static const char usage_service[] =
    "Usage: hnsnetpol service <command> [options]\n"
    "\n"
    "Runs the agent (hnsnetpol run) as the Windows service \"hnsnetpol\". The\n"
    "commands that change the service need an elevated prompt (Administrator).\n"
    "\n"
    "Commands:\n"
    "  install [FLAGS] [--config FILE]\n"
    "             create the service: automatic start, restarted 5 s, 10 s and\n"
    "             30 s after a failure, Event Log source \"hnsnetpol\". FLAGS are\n"
    "             those of hnsnetpol run (see hnsnetpol run --help); the service\n"
    "             runs with exactly these, relative paths made absolute. With\n"
    "             --config the file is read at every start (flags override it).\n"
    "             Installing again replaces the settings of an installed service.\n"
    "  uninstall  stop the service if it runs, delete it and its Event Log source\n"
    "             (the log files stay)\n"
    "  start      start the service and wait until it runs\n"
    "  stop       stop the service and wait until it has stopped\n"
    "  status     print its state, process and exit code\n"
    "  run        what the service manager starts (not for a console: use\n"
    "             hnsnetpol run there)\n"
    "\n"
    "Logs: %ProgramData%\\hnsnetpol\\hnsnetpol.log (rotated at 10 MiB, 5 kept; --log-file\n"
    "changes it) and the Application Event Log, source hnsnetpol (start, stop,\n"
    "rejected policies, warnings, errors).\n"
    "\n"
    "Exit codes: 0 done (status: running), 1 failed, 2 bad usage, 3 (status) not\n"
    "running, 4 (status) not installed.\n"
    "\n"
    "Example (elevated PowerShell):\n"
    "  hnsnetpol.exe service install --config C:\\ProgramData\\hnsnetpol\\config.yaml\n"
    "  hnsnetpol.exe service start\n"
    "  hnsnetpol.exe service status\n";

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

void hnp_service_print_failure(FILE *errout, const char *prog, const char *what, DWORD code)
{
    char text[600];
    if (code == ERROR_ACCESS_DENIED)
        fprintf(errout, "%s: %s: access denied: run from an elevated prompt (Administrator)\n",
                prog, what);
    else
        fprintf(errout, "%s: %s: %s\n", prog, what, hnp_win_error_text(code, text, sizeof(text)));
}

/* hnp_service_print_failure(), then HNP_EXIT_FAILURE. */
static int report_failure(FILE *errout, const char *prog, const char *what, DWORD code)
{
    hnp_service_print_failure(errout, prog, what, code);
    return HNP_EXIT_FAILURE;
}

/* A new UTF-16 string of text in code page cp, NULL on failure. */
static wchar_t *widen(const char *text, UINT cp)
{
    int n = MultiByteToWideChar(cp, 0, text, -1, NULL, 0);
    if (n <= 0)
        return NULL;
    wchar_t *w = malloc((size_t)n * sizeof(*w));
    if (w != NULL && MultiByteToWideChar(cp, 0, text, -1, w, n) != n) {
        free(w);
        w = NULL;
    }
    return w;
}

/* A new UTF-8 string of w, NULL on failure. */
static char *narrow(const wchar_t *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    if (n <= 0)
        return NULL;
    char *s = malloc((size_t)n);
    if (s != NULL && WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) != n) {
        free(s);
        s = NULL;
    }
    return s;
}

/* A growable UTF-16 string; `failed` once memory ran out. */
struct wbuf {
    wchar_t *data;
    size_t len, cap;
    bool failed;
};

static void wbuf_add(struct wbuf *b, const wchar_t *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        wchar_t *data = realloc(b->data, cap * sizeof(*data));
        if (data == NULL) {
            b->failed = true;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
    wmemcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = L'\0';
}

/*
 * Append arg to a command line so that CommandLineToArgvW and msvcrt give
 * it back unchanged: quoted when empty or when it holds a space, tab or
 * quote; inside quotes, backslashes before a quote or the closing quote are
 * doubled and quotes escaped.
 */
static void append_quoted(struct wbuf *b, const wchar_t *arg)
{
    if (b->len > 0)
        wbuf_add(b, L" ", 1);
    if (arg[0] != L'\0' && wcspbrk(arg, L" \t\n\v\"") == NULL) {
        wbuf_add(b, arg, wcslen(arg));
        return;
    }
    wbuf_add(b, L"\"", 1);
    for (const wchar_t *p = arg;; p++) {
        size_t backslashes = 0;
        while (*p == L'\\') {
            backslashes++;
            p++;
        }
        if (*p == L'\0') {
            for (size_t i = 0; i < backslashes * 2; i++)
                wbuf_add(b, L"\\", 1);
            break;
        }
        if (*p == L'"') {
            for (size_t i = 0; i < backslashes * 2 + 1; i++)
                wbuf_add(b, L"\\", 1);
        } else {
            for (size_t i = 0; i < backslashes; i++)
                wbuf_add(b, L"\\", 1);
        }
        wbuf_add(b, p, 1);
    }
    wbuf_add(b, L"\"", 1);
}

/* The full path of this program (new string), NULL on failure. */
static wchar_t *program_path(void)
{
    for (DWORD size = MAX_PATH;; size *= 2) {
        wchar_t *path = malloc(size * sizeof(*path));
        if (path == NULL)
            return NULL;
        DWORD n = GetModuleFileNameW(NULL, path, size);
        if (n > 0 && n < size)
            return path;
        free(path);
        if (n == 0 || size > 32768)
            return NULL;
    }
}

/*
 * Make the path in *field absolute (the service starts in System32); for
 * mock:PATH the PATH part. false when out of memory or the path is bad.
 */
static bool make_absolute(char **field, bool hns_spec)
{
    if (*field == NULL || (*field)[0] == '\0')
        return true;
    const char *path = *field;
    if (hns_spec) {
        const struct hnp_hns_class *cls = NULL;
        const char *arg = NULL;
        if (hnp_hns_parse_spec(path, &cls, &arg, NULL) != HNP_OK || arg == NULL)
            return true; /* hcn, or a bad spec the agent reports */
        path = arg;
    }
    /* "mock:" of "mock:PATH" stays in front of the absolute path. */
    size_t a = (size_t)(path - *field);
    char full[_MAX_PATH * 4];
    if (_fullpath(full, path, sizeof(full)) == NULL)
        return false;
    size_t b = strlen(full);
    char *out = malloc(a + b + 1);
    if (out == NULL)
        return false;
    memcpy(out, *field, a);
    memcpy(out + a, full, b + 1);
    free(*field);
    *field = out;
    return true;
}

static const char *state_name(DWORD state)
{
    switch (state) {
    case SERVICE_STOPPED:
        return "STOPPED";
    case SERVICE_START_PENDING:
        return "START_PENDING";
    case SERVICE_STOP_PENDING:
        return "STOP_PENDING";
    case SERVICE_RUNNING:
        return "RUNNING";
    case SERVICE_CONTINUE_PENDING:
        return "CONTINUE_PENDING";
    case SERVICE_PAUSE_PENDING:
        return "PAUSE_PENDING";
    case SERVICE_PAUSED:
        return "PAUSED";
    default:
        return "UNKNOWN";
    }
}

/* "0", "2 (service-specific)" or the Windows error, into buf. */
static const char *exit_code_text(const SERVICE_STATUS_PROCESS *st, char *buf, size_t len)
{
    char text[512];
    if (st->dwWin32ExitCode == ERROR_SERVICE_SPECIFIC_ERROR)
        snprintf(buf, len, "%lu (service-specific)", (unsigned long)st->dwServiceSpecificExitCode);
    else if (st->dwWin32ExitCode == NO_ERROR)
        snprintf(buf, len, "0");
    else
        snprintf(buf, len, "%lu: %s", (unsigned long)st->dwWin32ExitCode,
                 hnp_win_error_text(st->dwWin32ExitCode, text, sizeof(text)));
    return buf;
}

static bool query(SC_HANDLE svc, SERVICE_STATUS_PROCESS *st)
{
    DWORD needed = 0;
    return QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (BYTE *)st, sizeof(*st), &needed) != 0;
}

/*
 * Wait while the service is in state `pending`, at most CLI_WAIT_MS in all
 * and no longer than its wait hint without a new checkpoint. *st holds the
 * last status. false when the status cannot be read.
 */
static bool wait_while(SC_HANDLE svc, DWORD pending, SERVICE_STATUS_PROCESS *st)
{
    if (!query(svc, st))
        return false;
    ULONGLONG start = GetTickCount64(), progress = start;
    DWORD checkpoint = st->dwCheckPoint;
    while (st->dwCurrentState == pending) {
        DWORD hint = st->dwWaitHint;
        DWORD step = hint / 10 < 250 ? 250 : hint / 10 > 1000 ? 1000 : hint / 10;
        Sleep(step);
        if (!query(svc, st))
            return false;
        ULONGLONG now = GetTickCount64();
        if (st->dwCheckPoint != checkpoint) {
            checkpoint = st->dwCheckPoint;
            progress = now;
        } else if (now - progress > (ULONGLONG)(hint > 30000 ? hint : 30000)) {
            break; /* no progress for longer than it said */
        }
        if (now - start > CLI_WAIT_MS)
            break;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* install                                                                  */

void hnp_service_configure(SC_HANDLE svc, FILE *errout)
{
    SERVICE_DESCRIPTIONW description = {(wchar_t *)DESCRIPTION};
    SC_ACTION actions[3] = {{SC_ACTION_RESTART, RESTART_1_MS},
                            {SC_ACTION_RESTART, RESTART_2_MS},
                            {SC_ACTION_RESTART, RESTART_3_MS}};
    SERVICE_FAILURE_ACTIONSW failure = {FAILURE_RESET_S, NULL, NULL, 3, actions};
    /* Also restart after a clean exit with a non-zero exit code, not only after a crash. */
    SERVICE_FAILURE_ACTIONS_FLAG flag = {TRUE};
    SERVICE_PRESHUTDOWN_INFO preshutdown = {PRESHUTDOWN_MS};
    const struct {
        DWORD level;
        void *info;
        const char *what; /* for the warning */
    } settings[] = {
        {SERVICE_CONFIG_DESCRIPTION, &description, "the description"},
        {SERVICE_CONFIG_FAILURE_ACTIONS, &failure, "the restart on failure"},
        {SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &flag, "the restart after a non-zero exit code"},
        {SERVICE_CONFIG_PRESHUTDOWN_INFO, &preshutdown, "the preshutdown timeout"},
    };
    /* One refusal (wine refuses the flag) does not keep the others from being set. */
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        if (hnp_service_change_config2(svc, settings[i].level, settings[i].info))
            continue;
        char text[512];
        fprintf(errout, "hnsnetpol service install: warning: cannot set %s: %s\n", settings[i].what,
                hnp_win_error_text(GetLastError(), text, sizeof(text)));
    }
}

/*
 * The service's command line: "<exe>" service run <flags>, into *out (new).
 * HNP_ERR_NOMEM, HNP_ERR_INVALID (a path that cannot be made absolute).
 */
static enum hnp_err service_command_line(const wchar_t *exe, struct hnp_run_config *flags,
                                         wchar_t **out)
{
    if (!make_absolute(&flags->kubeconfig, false) || !make_absolute(&flags->log_file, false) ||
        !make_absolute(&flags->config_file, false) || !make_absolute(&flags->hns, true))
        return HNP_ERR_INVALID;
    char **args = NULL;
    int count = 0;
    if (hnp_run_config_to_args(flags, &args, &count) != HNP_OK)
        return HNP_ERR_NOMEM;
    struct wbuf b = {0};
    append_quoted(&b, exe);
    wbuf_add(&b, L" service run", 12);
    for (int i = 0; i < count; i++) {
        wchar_t *w = widen(args[i], CP_ACP);
        if (w == NULL) {
            b.failed = true;
            break;
        }
        append_quoted(&b, w);
        free(w);
    }
    hnp_run_args_free(args);
    if (b.failed) {
        free(b.data);
        return HNP_ERR_NOMEM;
    }
    *out = b.data;
    return HNP_OK;
}

/*
 * Depend on the Host Network Service where there is one, so Windows starts
 * HNS first. A static REG_MULTI_SZ: "hns\0\0", or NULL.
 */
static const wchar_t *dependencies(SC_HANDLE scm)
{
    SC_HANDLE hns = OpenServiceW(scm, L"hns", SERVICE_QUERY_STATUS);
    if (hns == NULL)
        return NULL;
    CloseServiceHandle(hns);
    return L"hns\0";
}

static int cmd_install(int argc, char **argv, FILE *out, FILE *errout)
{
    static const char prog[] = "hnsnetpol service install";
    struct hnp_run_config flags;
    bool help = false;
    enum hnp_err rc = hnp_run_flags_parse(argc, argv, prog, &flags, &help, errout);
    if (rc != HNP_OK)
        return rc == HNP_ERR_USAGE ? HNP_EXIT_USAGE : HNP_EXIT_FAILURE;
    if (help) {
        hnp_run_config_clear(&flags);
        fputs(usage_service, out);
        return HNP_EXIT_OK;
    }
    wchar_t *exe = program_path();
    wchar_t *command = NULL;
    int code = HNP_EXIT_FAILURE;
    SC_HANDLE scm = NULL, svc = NULL;
    if (exe == NULL) {
        fprintf(errout, "%s: cannot find the path of this program\n", prog);
        goto out;
    }
    rc = service_command_line(exe, &flags, &command);
    if (rc != HNP_OK) {
        fprintf(errout, "%s: %s\n", prog,
                rc == HNP_ERR_NOMEM ? "out of memory" : "a path cannot be made absolute");
        goto out;
    }
    /* The file must be good now, not only at the first start. */
    if (flags.config_file != NULL) {
        struct hnp_run_config file;
        struct hnp_error err = {0};
        rc = hnp_run_config_load(flags.config_file, &file, &err);
        if (rc != HNP_OK) {
            fprintf(errout, "%s: --config: %s: %s\n", prog, err.where, err.message);
            code = HNP_EXIT_USAGE;
            goto out;
        }
        hnp_run_config_clear(&file);
    }

    scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE);
    if (scm == NULL) {
        code = report_failure(errout, prog, "cannot open the service manager", GetLastError());
        goto out;
    }
    const wchar_t *depends = dependencies(scm);
    bool updated = false;
    svc = CreateServiceW(scm, HNP_SERVICE_NAME, DISPLAY_NAME, SERVICE_ALL_ACCESS,
                         SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START, SERVICE_ERROR_NORMAL,
                         command, NULL, NULL, depends, NULL, NULL);
    if (svc == NULL && GetLastError() == ERROR_SERVICE_EXISTS) {
        /* Installed already: take the new settings. */
        svc = OpenServiceW(scm, HNP_SERVICE_NAME, SERVICE_ALL_ACCESS);
        if (svc != NULL &&
            !ChangeServiceConfigW(svc, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                                  SERVICE_ERROR_NORMAL, command, NULL, NULL,
                                  depends ? depends : L"\0", NULL, NULL, DISPLAY_NAME)) {
            code =
                report_failure(errout, prog, "cannot change the installed service", GetLastError());
            goto out;
        }
        updated = true;
    }
    if (svc == NULL) {
        code = report_failure(errout, prog, "cannot create the service", GetLastError());
        goto out;
    }
    hnp_service_configure(svc, errout);

    struct hnp_error err = {0};
    rc = hnp_eventlog_install(exe, &err);
    if (rc != HNP_OK)
        fprintf(errout, "%s: warning: %s\n", prog, err.message);

    char *shown = narrow(command);
    fprintf(out,
            "%s service hnsnetpol (automatic start, restarted on failure)\n"
            "command: %s\n"
            "start it with: hnsnetpol service start   (or: net start hnsnetpol)\n",
            updated ? "Updated" : "Installed", shown ? shown : "?");
    if (updated)
        fputs("The new settings apply from the next start (hnsnetpol service stop, then start).\n",
              out);
    free(shown);
    code = HNP_EXIT_OK;
out:
    if (svc != NULL)
        CloseServiceHandle(svc);
    if (scm != NULL)
        CloseServiceHandle(scm);
    free(command);
    free(exe);
    hnp_run_config_clear(&flags);
    return code;
}

/* ------------------------------------------------------------------------ */
/* uninstall, start, stop, status                                           */

/*
 * Open the service with access; prints the failure (access denied, not
 * installed - unless quiet_missing) and sets *code (HNP_EXIT_NOT_INSTALLED when
 * it is not installed).
 */
static SC_HANDLE open_service(const char *prog, DWORD access, bool quiet_missing, FILE *errout,
                              int *code)
{
    SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (scm == NULL) {
        *code = report_failure(errout, prog, "cannot open the service manager", GetLastError());
        return NULL;
    }
    SC_HANDLE svc = OpenServiceW(scm, HNP_SERVICE_NAME, access);
    DWORD error = GetLastError();
    CloseServiceHandle(scm);
    if (svc == NULL && error == ERROR_SERVICE_DOES_NOT_EXIST) {
        if (!quiet_missing)
            fprintf(errout,
                    "%s: the service hnsnetpol is not installed (hnsnetpol service install)\n",
                    prog);
        *code = HNP_EXIT_NOT_INSTALLED;
    } else if (svc == NULL) {
        *code = report_failure(errout, prog, "cannot open the service", error);
    }
    return svc;
}

/* Ask a running service to stop and wait for STOPPED; prints the outcome. */
static int stop_and_wait(SC_HANDLE svc, const char *prog, FILE *out, FILE *errout)
{
    SERVICE_STATUS status;
    if (!ControlService(svc, SERVICE_CONTROL_STOP, &status)) {
        DWORD error = GetLastError();
        if (error == ERROR_SERVICE_NOT_ACTIVE) {
            fputs("hnsnetpol is not running\n", out);
            return HNP_EXIT_OK;
        }
        return report_failure(errout, prog, "cannot stop the service", error);
    }
    SERVICE_STATUS_PROCESS st;
    if (!wait_while(svc, SERVICE_STOP_PENDING, &st))
        return report_failure(errout, prog, "cannot query the service", GetLastError());
    char text[600];
    if (st.dwCurrentState != SERVICE_STOPPED) {
        fprintf(errout, "%s: hnsnetpol is still %s after %d s\n", prog,
                state_name(st.dwCurrentState), CLI_WAIT_MS / 1000);
        return HNP_EXIT_FAILURE;
    }
    fprintf(out, "hnsnetpol STOPPED, exit code %s\n", exit_code_text(&st, text, sizeof(text)));
    return st.dwWin32ExitCode == NO_ERROR ? HNP_EXIT_OK : HNP_EXIT_FAILURE;
}

static int cmd_uninstall(FILE *out, FILE *errout)
{
    static const char prog[] = "hnsnetpol service uninstall";
    int code = HNP_EXIT_FAILURE;
    SC_HANDLE svc =
        open_service(prog, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE, true, errout, &code);
    if (svc == NULL && code != HNP_EXIT_NOT_INSTALLED)
        return code;
    if (svc != NULL) {
        SERVICE_STATUS_PROCESS st;
        if (query(svc, &st) && st.dwCurrentState != SERVICE_STOPPED)
            stop_and_wait(svc, prog, out, errout);
        if (!DeleteService(svc)) {
            DWORD error = GetLastError();
            CloseServiceHandle(svc);
            if (error != ERROR_SERVICE_MARKED_FOR_DELETE)
                return report_failure(errout, prog, "cannot delete the service", error);
        } else {
            CloseServiceHandle(svc);
        }
    }
    struct hnp_error err = {0};
    if (hnp_eventlog_uninstall(&err) != HNP_OK) {
        fprintf(errout, "%s: %s\n", prog, err.message);
        return HNP_EXIT_FAILURE;
    }
    fputs(svc != NULL ? "Removed service hnsnetpol and its Event Log source (log files are kept)\n"
                      : "hnsnetpol is not installed; nothing to remove\n",
          out);
    return HNP_EXIT_OK;
}

static int cmd_start(FILE *out, FILE *errout)
{
    static const char prog[] = "hnsnetpol service start";
    int code = HNP_EXIT_FAILURE;
    SC_HANDLE svc = open_service(prog, SERVICE_START | SERVICE_QUERY_STATUS, false, errout, &code);
    if (svc == NULL)
        return code == HNP_EXIT_NOT_INSTALLED ? HNP_EXIT_FAILURE : code;
    SERVICE_STATUS_PROCESS st;
    char text[600];
    if (!StartServiceW(svc, 0, NULL) && GetLastError() != ERROR_SERVICE_ALREADY_RUNNING) {
        code = report_failure(errout, prog, "cannot start the service", GetLastError());
    } else if (!wait_while(svc, SERVICE_START_PENDING, &st)) {
        code = report_failure(errout, prog, "cannot query the service", GetLastError());
    } else if (st.dwCurrentState == SERVICE_RUNNING) {
        fprintf(out, "hnsnetpol RUNNING, process %lu\n", (unsigned long)st.dwProcessId);
        code = HNP_EXIT_OK;
    } else {
        fprintf(errout, "%s: hnsnetpol is %s, exit code %s (see the log file and the Event Log)\n",
                prog, state_name(st.dwCurrentState), exit_code_text(&st, text, sizeof(text)));
        code = HNP_EXIT_FAILURE;
    }
    CloseServiceHandle(svc);
    return code;
}

static int cmd_stop(FILE *out, FILE *errout)
{
    static const char prog[] = "hnsnetpol service stop";
    int code = HNP_EXIT_FAILURE;
    SC_HANDLE svc = open_service(prog, SERVICE_STOP | SERVICE_QUERY_STATUS, false, errout, &code);
    if (svc == NULL)
        return code == HNP_EXIT_NOT_INSTALLED ? HNP_EXIT_FAILURE : code;
    code = stop_and_wait(svc, prog, out, errout);
    CloseServiceHandle(svc);
    return code;
}

/* "on failure: restart after 5 s, 10 s, 30 s (count reset after 86400 s)", when the SCM says. */
static void print_failure_actions(SC_HANDLE svc, FILE *out)
{
    DWORD needed = 0;
    QueryServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, NULL, 0, &needed);
    SERVICE_FAILURE_ACTIONSW *fa = needed ? malloc(needed) : NULL;
    if (fa == NULL ||
        !QueryServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, (BYTE *)fa, needed, &needed)) {
        free(fa);
        return;
    }
    fputs("on failure:", out);
    if (fa->cActions == 0)
        fputs(" nothing", out);
    for (DWORD i = 0; i < fa->cActions; i++) {
        const SC_ACTION *a = &fa->lpsaActions[i];
        const char *sep = i ? "," : "";
        if (a->Type == SC_ACTION_RESTART)
            fprintf(out, "%s restart after %lu s", sep, (unsigned long)(a->Delay / 1000));
        else if (a->Type == SC_ACTION_NONE)
            fprintf(out, "%s nothing", sep);
        else
            fprintf(out, "%s action %d", sep, (int)a->Type);
    }
    if (fa->cActions > 0)
        fprintf(out, " (count reset after %lu s)", (unsigned long)fa->dwResetPeriod);
    fputc('\n', out);
    free(fa);
}

static int cmd_status(FILE *out, FILE *errout)
{
    static const char prog[] = "hnsnetpol service status";
    int code = HNP_EXIT_FAILURE;
    SC_HANDLE svc =
        open_service(prog, SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG, false, errout, &code);
    if (svc == NULL)
        return code;
    SERVICE_STATUS_PROCESS st;
    if (!query(svc, &st)) {
        code = report_failure(errout, prog, "cannot query the service", GetLastError());
        CloseServiceHandle(svc);
        return code;
    }
    char text[600];
    fprintf(out, "service:   hnsnetpol\nstate:     %s\n", state_name(st.dwCurrentState));
    if (st.dwProcessId != 0)
        fprintf(out, "process:   %lu\n", (unsigned long)st.dwProcessId);
    fprintf(out, "exit code: %s\n", exit_code_text(&st, text, sizeof(text)));

    DWORD needed = 0;
    QueryServiceConfigW(svc, NULL, 0, &needed);
    QUERY_SERVICE_CONFIGW *config = needed ? malloc(needed) : NULL;
    if (config != NULL && QueryServiceConfigW(svc, config, needed, &needed)) {
        char *command = narrow(config->lpBinaryPathName);
        fprintf(out, "start:     %s\ncommand:   %s\n",
                config->dwStartType == SERVICE_AUTO_START     ? "automatic"
                : config->dwStartType == SERVICE_DEMAND_START ? "manual"
                : config->dwStartType == SERVICE_DISABLED     ? "disabled"
                                                              : "other",
                command ? command : "?");
        free(command);
    }
    free(config);
    print_failure_actions(svc, out);
    CloseServiceHandle(svc);
    return st.dwCurrentState == SERVICE_RUNNING ? HNP_EXIT_OK : HNP_EXIT_NOT_RUNNING;
}

/* ------------------------------------------------------------------------ */
/* run: the service itself (service.c)                                      */

static int cmd_run(int argc, char **argv, FILE *out, FILE *errout)
{
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        fputs(usage_service, out);
        return HNP_EXIT_OK;
    }
    return hnp_service_run(argc, argv, errout);
}

/* ------------------------------------------------------------------------ */

/*
 * The arguments of a command without options (uninstall, start, stop,
 * status): only -h / --help, which sets *help. HNP_ERR_USAGE after a
 * message about anything else.
 */
static enum hnp_err no_options(const char *cmd, int argc, char **argv, bool *help, FILE *errout)
{
    char prog[64];
    snprintf(prog, sizeof(prog), "hnsnetpol service %s", cmd);
    const struct hnp_opt_parser parser = {
        .prog = prog,
        .messages = HNP_OPT_MESSAGES_RUN,
        .allowed = HNP_OPT_ALL,
    };
    return hnp_opt_parse(&parser, argc, argv, 2, help, errout);
}

int hnp_cli_service_main(int argc, char **argv, FILE *out, FILE *errout)
{
    if (argc < 2) {
        fputs(usage_service, errout);
        return HNP_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_service, out);
        return HNP_EXIT_OK;
    }
    if (strcmp(cmd, "install") == 0)
        return cmd_install(argc - 1, argv + 1, out, errout);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1, out, errout);
    int (*fn)(FILE *, FILE *) = NULL;
    if (strcmp(cmd, "uninstall") == 0)
        fn = cmd_uninstall;
    else if (strcmp(cmd, "start") == 0)
        fn = cmd_start;
    else if (strcmp(cmd, "stop") == 0)
        fn = cmd_stop;
    else if (strcmp(cmd, "status") == 0)
        fn = cmd_status;
    if (fn == NULL) {
        fprintf(errout, "hnsnetpol service: unknown command \"%s\"\n\n%s", cmd, usage_service);
        return HNP_EXIT_USAGE;
    }
    bool help = false;
    if (no_options(cmd, argc, argv, &help, errout) != HNP_OK)
        return HNP_EXIT_USAGE;
    if (help) {
        fputs(usage_service, out);
        return HNP_EXIT_OK;
    }
    return fn(out, errout);
}
