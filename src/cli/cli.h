/*
 * cli.h - the hnsnetpol command line: hnp_cli_main() picks the command
 * (validate, translate, explain, run, service, hns-mock, version, help) and
 * runs it. The program's main() only calls it, so the commands are part of
 * the library and testable in-process. Also the exit codes every command
 * returns.
 */
#ifndef HNP_CLI_H
#define HNP_CLI_H

#include <stdio.h>

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

/*
 * Run the command line argv[0..argc) (argv[0] the program, argv[1] the
 * command), writing results to out and diagnostics to errout. Returns the
 * command's exit code (enum hnp_exit).
 */
int hnp_cli_main(int argc, char **argv, FILE *out, FILE *errout);

#endif /* HNP_CLI_H */
