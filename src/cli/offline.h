/*
 * offline.h - the commands that work on manifests without a cluster:
 * `validate`, `translate` and `explain` (hnsnetpol help <command>).
 */
#ifndef HNP_OFFLINE_H
#define HNP_OFFLINE_H

#include <stdio.h>

/*
 * Run `validate|translate|explain [options] FILE...`: argv[0] is the
 * command's name. Results go to out, --help to out, diagnostics and
 * summaries to errout. Returns the exit code (enum hnp_exit, exit_code.h): 0
 * every policy enforceable (explain: allowed; --matrix: printed), 1 some
 * policy rejected (explain: denied), 2 bad usage or input that cannot be
 * read or parsed.
 */
int hnp_cli_validate_main(int argc, char **argv, FILE *out, FILE *errout);
int hnp_cli_translate_main(int argc, char **argv, FILE *out, FILE *errout);
int hnp_cli_explain_main(int argc, char **argv, FILE *out, FILE *errout);

#endif /* HNP_OFFLINE_H */
