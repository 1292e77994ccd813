/*
 * cli_run.h - `hnsnetpol run`: the agent's command line (flags, where the
 * API server credentials come from, the node name, logging, SIGINT and
 * SIGTERM), around hnp_agent_run().
 */
#ifndef HNP_CLI_RUN_H
#define HNP_CLI_RUN_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Run `run [options]`: argv[0] is "run". --help goes to out; diagnostics
 * and the agent's log lines go to errout. Blocks until SIGINT or SIGTERM
 * (handlers installed for the call and restored after it). Returns the exit
 * code: 0 after a clean stop (or --help), 1 when the agent cannot start or
 * fails at run time (kubeconfig unreadable, metrics address in use, ...),
 * 2 for bad usage (unknown flag, bad value, no --hns where there is no
 * default).
 */
int hnp_cli_run_main(int argc, char **argv, FILE *out, FILE *errout);

/*
 * Parse a duration: one or more <integer><unit> with unit ms, s, m or h
 * ("100ms", "2s", "5m", "1m30s"). *ms receives the total in milliseconds.
 * False for anything else, a zero total or more than 24 hours.
 */
bool hnp_parse_duration(const char *text, long *ms);

#endif /* HNP_CLI_RUN_H */
