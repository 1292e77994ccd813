/*
 * service_internal.h - private to win/service.c (the running service),
 * win/service_cmd.c (the `service ...` commands) and their tests
 * (tests/win/test_service_config.c): the service manager (SCM) calls that
 * change the service's configuration and report its status go through a
 * table, so a test can record what the service asks the SCM and refuse
 * some of it. Wine's SCM cannot show it: it accepts
 * SERVICE_CONFIG_FAILURE_ACTIONS without keeping it, refuses
 * SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, and never delivers
 * SERVICE_CONTROL_SHUTDOWN or _PRESHUTDOWN (docs/windows-service.md).
 *
 * Nothing here is for other code: `hnsnetpol service ...` is the interface.
 */
#ifndef HNP_WIN_SERVICE_INTERNAL_H
#define HNP_WIN_SERVICE_INTERNAL_H

#include <windows.h>

#include <stdio.h>

/* The SCM calls of service.c and service_cmd.c that tests replace; the real functions by default.
 */
struct hnp_scm_calls {
    BOOL(WINAPI *change_config2)(SC_HANDLE service, DWORD level, void *info);
    BOOL(WINAPI *set_status)(SERVICE_STATUS_HANDLE handle, SERVICE_STATUS *status);
};

/*
 * Use calls (copied) from now on; NULL, or a NULL member, restores the
 * real function. Not thread-safe: call it while no service runs.
 */
void hnp_service_set_scm_calls(const struct hnp_scm_calls *calls);

/*
 * ChangeServiceConfig2W(service, level, info), or the table's replacement
 * (service.c). Returns what it returned; GetLastError() tells why not.
 */
BOOL hnp_service_change_config2(SC_HANDLE service, DWORD level, void *info);

/*
 * Print "<prog>: <what>: <system message>" to errout, or the elevation hint
 * for ERROR_ACCESS_DENIED (service_cmd.c). prog and what are borrowed.
 */
void hnp_service_print_failure(FILE *errout, const char *prog, const char *what, DWORD code);

/*
 * `hnsnetpol service run` without -h / --help (service.c): connect to the
 * SCM and run the service with the arguments argv[1..argc-1] (the flags of
 * `hnsnetpol run`, borrowed until it returns). Returns the agent's exit
 * code, HNP_EXIT_USAGE (not started by the SCM) or HNP_EXIT_FAILURE after a
 * message on errout.
 */
int hnp_service_run(int argc, char **argv, FILE *errout);

/*
 * What `service install` sets beyond CreateServiceW / ChangeServiceConfigW,
 * one ChangeServiceConfig2W call each: the description, restart on failure
 * (SERVICE_CONFIG_FAILURE_ACTIONS and _FAILURE_ACTIONS_FLAG) and the
 * preshutdown timeout. A refusal prints one warning line to errout naming
 * what was not set; the others are still asked for.
 */
void hnp_service_configure(SC_HANDLE service, FILE *errout);

/*
 * Begin a run of the service: nothing reported yet, the stop flag clear,
 * handle (from RegisterServiceCtrlHandlerExW) used for every report.
 */
void hnp_service_status_begin(SERVICE_STATUS_HANDLE handle);

/*
 * Report state to the SCM: SERVICE_RUNNING accepts STOP, SHUTDOWN and
 * PRESHUTDOWN, no other state accepts a control; a pending state gets the
 * next checkpoint and a wait hint, any other checkpoint 0; exit_code != 0
 * is reported as ERROR_SERVICE_SPECIFIC_ERROR with that code. Once
 * STOP_PENDING was reported, RUNNING is not. Thread-safe.
 */
void hnp_service_report(DWORD state, DWORD exit_code);

/* The state last reported. */
DWORD hnp_service_state(void);

/*
 * Wait until one of the count handles is signalled and return what
 * WaitForMultipleObjects returned (not WAIT_TIMEOUT). Every interval_ms
 * meanwhile, while the state reported is `pending`, report it again: the
 * SCM sees the checkpoint advance and knows the service is alive.
 */
DWORD hnp_service_wait_pending(DWORD count, const HANDLE *handles, DWORD pending,
                               DWORD interval_ms);

/*
 * The control handler (RegisterServiceCtrlHandlerExW). STOP, SHUTDOWN and
 * PRESHUTDOWN set the stop flag, log which one came and report
 * STOP_PENDING; INTERROGATE is answered; anything else is
 * ERROR_CALL_NOT_IMPLEMENTED.
 */
DWORD WINAPI hnp_service_on_control(DWORD control, DWORD type, void *data, void *ctx);

/* The agent's stop flag, which the control handler sets (borrowed, static). */
const volatile int *hnp_service_stop_flag(void);

#endif /* HNP_WIN_SERVICE_INTERNAL_H */
