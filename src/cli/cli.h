/*
 * cli.h - the hnsnetpol command line: `validate`, `translate`, `explain`,
 * `version`, `help`. The program's main() only calls hnp_cli_main(), so the
 * commands are part of the library and testable in-process.
 */
#ifndef HNP_CLI_H
#define HNP_CLI_H

#include <stdio.h>

/*
 * Run the command line argv[0..argc) writing results to out and diagnostics
 * to errout. Returns the process exit code: 0 success, 1 some policy
 * rejected (or connection denied for `explain`), 2 bad usage or unreadable
 * input.
 */
int hnp_cli_main(int argc, char **argv, FILE *out, FILE *errout);

#endif /* HNP_CLI_H */
