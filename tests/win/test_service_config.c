/*
 * test_service_config.c - what the Windows service (win/service.c) asks of
 * the service manager, recorded through the table of SCM calls in
 * win/service_internal.h. Windows only; runs under wine through ctest, but
 * needs nothing of wine's SCM, which cannot show these things: it accepts
 * SERVICE_CONFIG_FAILURE_ACTIONS without keeping it, refuses
 * SERVICE_CONFIG_FAILURE_ACTIONS_FLAG (ERROR_INVALID_LEVEL), and never
 * delivers SERVICE_CONTROL_SHUTDOWN or _PRESHUTDOWN to a service.
 *
 *   - `service install`: the description, restart on failure as
 *     docs/windows-service.md promises it, the flag that makes a non-zero
 *     exit code a failure, the preshutdown timeout; a refusal of any one of
 *     them is a warning naming it, and the others are still set;
 *   - the control handler: STOP, SHUTDOWN and PRESHUTDOWN each set the
 *     agent's stop flag and report STOP_PENDING; other controls do not;
 *   - the status reports: checkpoints, wait hints, accepted controls, exit
 *     codes, no RUNNING after STOP_PENDING, and the checkpoint advancing
 *     while the service waits in START_PENDING or STOP_PENDING.
 */
#include <windows.h>

#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "log.h"
#include "service_internal.h"

/* Handles the fakes expect: never used as real handles. */
#define FAKE_SERVICE ((SC_HANDLE)(uintptr_t)0x5eed)
#define FAKE_STATUS ((SERVICE_STATUS_HANDLE)(uintptr_t)0x57a7)

#define MAX_CALLS 64

/* ---- the recording fakes of ChangeServiceConfig2W and SetServiceStatus ---- */

struct config_call {
    DWORD level;
    wchar_t description[512];
    SERVICE_FAILURE_ACTIONSW failure; /* lpsaActions points into actions */
    SC_ACTION actions[8];
    BOOL flag;
    DWORD preshutdown_ms;
};

static struct {
    struct config_call config[MAX_CALLS];
    size_t n_config;
    DWORD refuse_level; /* this level fails with refuse_error (0: none) */
    DWORD refuse_error;
    SRWLOCK lock; /* status and n_status: the handler may report from another thread */
    SERVICE_STATUS status[MAX_CALLS];
    size_t n_status;
    bool wrong_handle;
    char log[4096]; /* the "service ..." log lines */
} rec;

static BOOL WINAPI fake_change_config2(SC_HANDLE service, DWORD level, void *info)
{
    if (service != FAKE_SERVICE || rec.n_config == MAX_CALLS) {
        rec.wrong_handle = true;
        SetLastError(ERROR_INVALID_HANDLE);
        return FALSE;
    }
    struct config_call *c = &rec.config[rec.n_config++];
    memset(c, 0, sizeof(*c));
    c->level = level;
    switch (level) {
    case SERVICE_CONFIG_DESCRIPTION: {
        const SERVICE_DESCRIPTIONW *d = info;
        size_t cap = sizeof(c->description) / sizeof(c->description[0]);
        if (d->lpDescription != NULL)
            wcsncpy(c->description, d->lpDescription, cap - 1);
        break;
    }
    case SERVICE_CONFIG_FAILURE_ACTIONS: {
        const SERVICE_FAILURE_ACTIONSW *fa = info;
        c->failure = *fa;
        c->failure.lpsaActions = c->actions;
        for (DWORD i = 0; i < fa->cActions && i < sizeof(c->actions) / sizeof(c->actions[0]); i++)
            c->actions[i] = fa->lpsaActions[i];
        break;
    }
    case SERVICE_CONFIG_FAILURE_ACTIONS_FLAG:
        c->flag = ((const SERVICE_FAILURE_ACTIONS_FLAG *)info)->fFailureActionsOnNonCrashFailures;
        break;
    case SERVICE_CONFIG_PRESHUTDOWN_INFO:
        c->preshutdown_ms = ((const SERVICE_PRESHUTDOWN_INFO *)info)->dwPreshutdownTimeout;
        break;
    default:
        break;
    }
    if (level == rec.refuse_level) {
        SetLastError(rec.refuse_error);
        return FALSE;
    }
    return TRUE;
}

static BOOL WINAPI fake_set_status(SERVICE_STATUS_HANDLE handle, SERVICE_STATUS *status)
{
    AcquireSRWLockExclusive(&rec.lock);
    if (handle != FAKE_STATUS)
        rec.wrong_handle = true;
    if (rec.n_status < MAX_CALLS)
        rec.status[rec.n_status++] = *status;
    ReleaseSRWLockExclusive(&rec.lock);
    return TRUE;
}

static size_t n_status(void)
{
    AcquireSRWLockShared(&rec.lock);
    size_t n = rec.n_status;
    ReleaseSRWLockShared(&rec.lock);
    return n;
}

static SERVICE_STATUS last_status(void)
{
    AcquireSRWLockShared(&rec.lock);
    assert_true(rec.n_status > 0);
    SERVICE_STATUS s = rec.status[rec.n_status - 1];
    ReleaseSRWLockShared(&rec.lock);
    return s;
}

static void log_sink(enum hnp_log_level level, const char *msg, const char *line, void *ctx)
{
    (void)level;
    (void)ctx;
    if (strncmp(msg, "service ", 8) != 0)
        return;
    size_t used = strlen(rec.log);
    snprintf(rec.log + used, sizeof(rec.log) - used, "%s\n", line);
}

static FILE *nul_out;

static int setup(void **state)
{
    (void)state;
    memset(&rec, 0, sizeof(rec));
    InitializeSRWLock(&rec.lock);
    struct hnp_scm_calls calls = {.change_config2 = fake_change_config2,
                                  .set_status = fake_set_status};
    hnp_service_set_scm_calls(&calls);
    nul_out = fopen("NUL", "w");
    hnp_log_setup(HNP_LOG_DEBUG, HNP_LOG_TEXT, nul_out);
    hnp_log_set_sink(log_sink, HNP_LOG_DEBUG, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    hnp_service_set_scm_calls(NULL);
    hnp_log_set_sink(NULL, HNP_LOG_DEBUG, NULL);
    hnp_log_setup(HNP_LOG_INFO, HNP_LOG_TEXT, NULL);
    if (nul_out != NULL)
        fclose(nul_out);
    nul_out = NULL;
    return 0;
}

/* ---- service install: what is asked of the SCM ---- */

/* Run hnp_service_configure(); what it printed into out (NUL-terminated). */
static void configure(char *out, size_t len)
{
    FILE *errout = tmpfile();
    assert_non_null(errout);
    hnp_service_configure(FAKE_SERVICE, errout);
    rewind(errout);
    size_t n = fread(out, 1, len - 1, errout);
    out[n] = '\0';
    fclose(errout);
    assert_false(rec.wrong_handle);
}

static const struct config_call *call_of(DWORD level)
{
    const struct config_call *found = NULL;
    for (size_t i = 0; i < rec.n_config; i++) {
        if (rec.config[i].level == level) {
            assert_null(found); /* asked once */
            found = &rec.config[i];
        }
    }
    assert_non_null(found);
    return found;
}

/* Every setting, as docs/windows-service.md ("Install") describes it. */
static void assert_settings_asked(void)
{
    assert_int_equal(rec.n_config, 4);

    const struct config_call *d = call_of(SERVICE_CONFIG_DESCRIPTION);
    assert_true(wcscmp(d->description,
                       L"Enforces Kubernetes NetworkPolicies on this node's pods as HNS ACLs "
                       L"(hnsnetpol service run). Logs: %ProgramData%\\hnsnetpol\\hnsnetpol.log "
                       L"and the Application Event Log.") == 0);

    /* Restart after 5 s, 10 s, then 30 s; the failure count reset after a day without one. */
    const struct config_call *f = call_of(SERVICE_CONFIG_FAILURE_ACTIONS);
    assert_int_equal(f->failure.dwResetPeriod, 24 * 60 * 60);
    assert_int_equal(f->failure.cActions, 3);
    static const DWORD delays[3] = {5000, 10000, 30000};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f->actions[i].Type, SC_ACTION_RESTART);
        assert_int_equal(f->actions[i].Delay, delays[i]);
    }
    /* No reboot message or command: restart only. */
    assert_null(f->failure.lpRebootMsg);
    assert_null(f->failure.lpCommand);

    /* A stop with a non-zero exit code counts as a failure, not only a crash. */
    assert_int_equal(call_of(SERVICE_CONFIG_FAILURE_ACTIONS_FLAG)->flag, TRUE);

    assert_int_equal(call_of(SERVICE_CONFIG_PRESHUTDOWN_INFO)->preshutdown_ms, 60000);
}

static void test_configure_asks_for_everything(void **state)
{
    (void)state;
    char out[2048];
    configure(out, sizeof(out));
    assert_settings_asked();
    assert_string_equal(out, ""); /* all accepted: no warning */
}

/* Each setting refused in turn (wine refuses the flag with error 124): one warning, the rest set.
 */
static void test_configure_refusal_warns(void **state)
{
    (void)state;
    static const struct {
        DWORD level;
        const char *warning;
    } cases[] = {
        {SERVICE_CONFIG_DESCRIPTION, "warning: cannot set the description: "},
        {SERVICE_CONFIG_FAILURE_ACTIONS, "warning: cannot set the restart on failure: "},
        {SERVICE_CONFIG_FAILURE_ACTIONS_FLAG,
         "warning: cannot set the restart after a non-zero exit code: "},
        {SERVICE_CONFIG_PRESHUTDOWN_INFO, "warning: cannot set the preshutdown timeout: "},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rec.n_config = 0;
        rec.refuse_level = cases[i].level;
        rec.refuse_error = ERROR_INVALID_LEVEL;
        char out[2048];
        configure(out, sizeof(out));
        print_message("refused level %lu: %s", (unsigned long)cases[i].level, out);
        assert_settings_asked();
        /* One line: the command, what was not set, the system's reason with its code. */
        assert_non_null(strstr(out, "hnsnetpol service install: "));
        assert_non_null(strstr(out, cases[i].warning));
        assert_non_null(strstr(out, "(Windows error 124)"));
        assert_non_null(strchr(out, '\n'));
        assert_string_equal(strchr(out, '\n'), "\n");
    }
}

/* ---- the control handler and the status reports ---- */

/* The service reported START_PENDING twice (as ServiceMain does), then RUNNING. */
static void begin_running(void)
{
    hnp_service_status_begin(FAKE_STATUS);
    assert_int_equal(*hnp_service_stop_flag(), 0);
    hnp_service_report(SERVICE_START_PENDING, 0);
    hnp_service_report(SERVICE_START_PENDING, 0);
    hnp_service_report(SERVICE_RUNNING, 0);
}

static void test_status_reports(void **state)
{
    (void)state;
    begin_running();
    assert_int_equal(n_status(), 3);
    for (int i = 0; i < 2; i++) {
        SERVICE_STATUS s = rec.status[i];
        assert_int_equal(s.dwServiceType, SERVICE_WIN32_OWN_PROCESS);
        assert_int_equal(s.dwCurrentState, SERVICE_START_PENDING);
        assert_int_equal(s.dwCheckPoint, i + 1); /* advances */
        assert_int_equal(s.dwWaitHint, 10000);
        assert_int_equal(s.dwControlsAccepted, 0); /* no control while starting */
        assert_int_equal(s.dwWin32ExitCode, NO_ERROR);
    }
    SERVICE_STATUS s = rec.status[2];
    assert_int_equal(s.dwCurrentState, SERVICE_RUNNING);
    assert_int_equal(s.dwCheckPoint, 0);
    assert_int_equal(s.dwWaitHint, 0);
    assert_int_equal(s.dwControlsAccepted,
                     SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN | SERVICE_ACCEPT_PRESHUTDOWN);
    assert_int_equal(hnp_service_state(), SERVICE_RUNNING);

    /* A failure: STOPPED with the agent's exit code as a service-specific one. */
    hnp_service_report(SERVICE_STOPPED, 2);
    s = last_status();
    assert_int_equal(s.dwCurrentState, SERVICE_STOPPED);
    assert_int_equal(s.dwWin32ExitCode, ERROR_SERVICE_SPECIFIC_ERROR);
    assert_int_equal(s.dwServiceSpecificExitCode, 2);
    assert_int_equal(s.dwCheckPoint, 0);
    assert_int_equal(s.dwControlsAccepted, 0);

    /* A clean stop: exit code 0. A new run starts from nothing. */
    begin_running();
    hnp_service_report(SERVICE_STOPPED, 0);
    s = last_status();
    assert_int_equal(s.dwWin32ExitCode, NO_ERROR);
    assert_int_equal(s.dwServiceSpecificExitCode, 0);
    assert_int_equal(rec.status[n_status() - 4].dwCurrentState, SERVICE_START_PENDING);
    assert_int_equal(rec.status[n_status() - 4].dwCheckPoint, 1);
    assert_false(rec.wrong_handle);
}

/* STOP, SHUTDOWN and PRESHUTDOWN: the stop flag, STOP_PENDING, a log line naming the control. */
static void test_stop_controls(void **state)
{
    (void)state;
    static const struct {
        DWORD control;
        const char *line;
    } cases[] = {
        {SERVICE_CONTROL_STOP, "INFO service stop requested control=stop\n"},
        {SERVICE_CONTROL_SHUTDOWN, "INFO service stop requested control=shutdown\n"},
        {SERVICE_CONTROL_PRESHUTDOWN, "INFO service stop requested control=preshutdown\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rec.n_status = 0;
        rec.log[0] = '\0';
        begin_running();
        assert_int_equal(hnp_service_on_control(cases[i].control, 0, NULL, NULL), NO_ERROR);
        assert_int_equal(*hnp_service_stop_flag(), 1);
        assert_int_equal(n_status(), 4);
        SERVICE_STATUS s = last_status();
        assert_int_equal(s.dwCurrentState, SERVICE_STOP_PENDING);
        assert_int_equal(s.dwCheckPoint, 1);
        assert_int_equal(s.dwWaitHint, 10000);
        assert_int_equal(s.dwControlsAccepted,
                         0); /* no second stop, no SHUTDOWN after PRESHUTDOWN */
        assert_non_null(strstr(rec.log, cases[i].line));

        /* The agent's loop starting late does not turn STOP_PENDING back into RUNNING. */
        hnp_service_report(SERVICE_RUNNING, 0);
        assert_int_equal(n_status(), 4);
        assert_int_equal(hnp_service_state(), SERVICE_STOP_PENDING);
        hnp_service_report(SERVICE_STOP_PENDING, 0);
        assert_int_equal(last_status().dwCheckPoint, 2);
        hnp_service_report(SERVICE_STOPPED, 0);
        assert_int_equal(last_status().dwCurrentState, SERVICE_STOPPED);
    }
}

static void test_other_controls(void **state)
{
    (void)state;
    begin_running();
    size_t before = n_status();
    /* INTERROGATE: answered; the SCM has the status already. */
    assert_int_equal(hnp_service_on_control(SERVICE_CONTROL_INTERROGATE, 0, NULL, NULL), NO_ERROR);
    static const DWORD others[] = {SERVICE_CONTROL_PAUSE, SERVICE_CONTROL_CONTINUE,
                                   SERVICE_CONTROL_PARAMCHANGE, SERVICE_CONTROL_POWEREVENT, 200};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        assert_int_equal(hnp_service_on_control(others[i], 0, NULL, NULL),
                         ERROR_CALL_NOT_IMPLEMENTED);
    assert_int_equal(*hnp_service_stop_flag(), 0);
    assert_int_equal(n_status(), before);
    assert_int_equal(hnp_service_state(), SERVICE_RUNNING);
    assert_string_equal(rec.log, "");
}

/* ---- checkpoints while waiting ---- */

struct later {
    HANDLE event;
    DWORD stop_after_ms; /* send STOP after this long (0: never) */
    DWORD signal_after_ms;
};

static DWORD WINAPI act_later(void *arg)
{
    struct later *l = arg;
    DWORD slept = 0;
    if (l->stop_after_ms > 0) {
        Sleep(l->stop_after_ms);
        slept = l->stop_after_ms;
        hnp_service_on_control(SERVICE_CONTROL_STOP, 0, NULL, NULL);
    }
    Sleep(l->signal_after_ms - slept);
    SetEvent(l->event);
    return 0;
}

/* Wait as ServiceMain does, with a 20 ms interval; the handle is signalled by a thread. */
static DWORD wait_for_thread(struct later *l, DWORD pending)
{
    l->event = CreateEventW(NULL, TRUE, FALSE, NULL);
    assert_non_null(l->event);
    HANDLE thread = CreateThread(NULL, 0, act_later, l, 0, NULL);
    assert_non_null(thread);
    DWORD w = hnp_service_wait_pending(1, &l->event, pending, 20);
    WaitForSingleObject(thread, INFINITE);
    CloseHandle(thread);
    CloseHandle(l->event);
    return w;
}

static void test_checkpoints_advance_while_waiting(void **state)
{
    (void)state;
    /* START_PENDING: reported again, with the next checkpoint, every interval. */
    hnp_service_status_begin(FAKE_STATUS);
    hnp_service_report(SERVICE_START_PENDING, 0);
    struct later start = {.signal_after_ms = 300};
    assert_int_equal(wait_for_thread(&start, SERVICE_START_PENDING), WAIT_OBJECT_0);
    size_t n = n_status();
    print_message("START_PENDING reported %lu times in 300 ms\n", (unsigned long)n);
    assert_true(n >= 4);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rec.status[i].dwCurrentState, SERVICE_START_PENDING);
        assert_int_equal(rec.status[i].dwCheckPoint, i + 1);
    }

    /* RUNNING: nothing reported while waiting; after STOP, STOP_PENDING with advancing checkpoints.
     */
    rec.n_status = 0;
    begin_running();
    struct later stop = {.stop_after_ms = 200, .signal_after_ms = 500};
    assert_int_equal(wait_for_thread(&stop, SERVICE_STOP_PENDING), WAIT_OBJECT_0);
    n = n_status();
    print_message("STOP_PENDING reported %lu times in 300 ms\n", (unsigned long)(n - 3));
    assert_true(n >= 3 + 4);
    assert_int_equal(rec.status[2].dwCurrentState, SERVICE_RUNNING);
    for (size_t i = 3; i < n; i++) {
        assert_int_equal(rec.status[i].dwCurrentState, SERVICE_STOP_PENDING);
        assert_int_equal(rec.status[i].dwCheckPoint, i - 2);
        assert_int_equal(rec.status[i].dwWaitHint, 10000);
    }
    assert_false(rec.wrong_handle);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_configure_asks_for_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_configure_refusal_warns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_controls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_controls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints_advance_while_waiting, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
