/*
 * run.h - `hnsnetpol run`: the agent's command line (flags, where the
 * API server credentials come from, the node name, logging, SIGINT and
 * SIGTERM), around hnp_agent_run().
 */
#ifndef HNP_CLI_RUN_H
#define HNP_CLI_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "agent.h"
#include "config.h"

/*
 * Run `run [options]`: argv[0] is "run". --help and the agent's log lines
 * go to out (and to --log-file); usage errors and problems found before
 * logging starts go to errout. Blocks until
 * the platform's stop request (hnp_install_stop_handler(): SIGINT or
 * SIGTERM; Ctrl-C, Ctrl-Break, console close or shutdown on Windows;
 * installed for the call and removed after it). Returns the exit
 * code: 0 after a clean stop (or --help), 1 when the agent cannot start or
 * fails at run time (kubeconfig unreadable, metrics address in use, ...),
 * 2 for bad usage (unknown flag, bad value, no --hns where there is no
 * default).
 */
int hnp_cli_run_main(int argc, char **argv, FILE *out, FILE *errout);

/*
 * hnp_cli_run_main() with base (borrowed, may be NULL) as the agent options
 * the command line does not give (see hnp_run_agent()): a test passes its
 * hooks here, e.g. a scripted API server for the reflectors.
 */
int hnp_cli_run_main_with(int argc, char **argv, const struct hnp_agent_options *base, FILE *out,
                          FILE *errout);

/*
 * The agent with the settings in cfg (borrowed; flags and file merged, as
 * hnp_run_options_parse() gives them): picks the HNS backend, the node name
 * and the API server credentials as `run` does, then hnp_agent_run() until
 * *stop becomes non-zero. base (borrowed, may be NULL) gives the agent
 * options cfg does not: the started and ready callbacks, the test hooks.
 * The caller sets up logging and whatever sets *stop: `run` its stop
 * handler, the Windows service its control handler.
 * Problems found before the agent starts (no --hns where there is no HCN,
 * no node name) go to errout as "hnsnetpol run: ..." lines, or to the log
 * at ERROR when errout is NULL. Returns the exit code of hnp_cli_run_main().
 */
int hnp_run_agent(const struct hnp_run_config *cfg, const struct hnp_agent_options *base,
                  const volatile int *stop, FILE *errout);

/*
 * Run `service <install|uninstall|start|stop|status|run> ...`: argv[0] is
 * "service". The Windows service (win/service.c, docs/windows-service.md);
 * elsewhere it only says that it exists on Windows alone and returns 2.
 */
int hnp_cli_service_main(int argc, char **argv, FILE *out, FILE *errout);

#endif /* HNP_CLI_RUN_H */
