/*
 * exit_code.h - the exit codes of every hnsnetpol command, one set for the
 * whole program (also win/service.c's and src/posix/service_none.c's).
 */
#ifndef HNP_EXIT_CODE_H
#define HNP_EXIT_CODE_H

/*
 * The exit codes of every command (values are only ever appended):
 *   0 done; explain: the connection is allowed; service status: running
 *   1 failed, or the answer is no: validate / translate some policy
 *     rejected, explain the connection denied, hns-mock no such endpoint
 *     (add-endpoint: it exists already), run / service the agent could not
 *     start or failed
 *   2 bad usage, or input that cannot be read or parsed
 *   3 service status: installed, not running
 *   4 service status: not installed
 */
enum hnp_exit {
    HNP_EXIT_OK = 0,
    HNP_EXIT_FAILURE = 1,
    HNP_EXIT_USAGE = 2,
    HNP_EXIT_NOT_RUNNING = 3,
    HNP_EXIT_NOT_INSTALLED = 4,
};

#endif /* HNP_EXIT_CODE_H */
