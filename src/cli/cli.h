/*
 * cli.h - the hnsnetpol command line: hnp_cli_main() picks the command
 * (validate, translate, explain, run, service, hns-mock, version, help) and
 * runs it. The program's main() only calls it, so the commands are part of
 * the library and testable in-process.
 */
#ifndef HNP_CLI_H
#define HNP_CLI_H

#include <stdio.h>

/*
 * Run the command line argv[0..argc) (argv[0] the program, argv[1] the
 * command), writing results to out and diagnostics to errout. Returns the
 * command's exit code (enum hnp_exit, exit_code.h).
 */
int hnp_cli_main(int argc, char **argv, FILE *out, FILE *errout);

#endif /* HNP_CLI_H */
