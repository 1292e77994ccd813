/*
 * cli.c - the hnsnetpol command line: picks the command named by argv[1]
 * and runs it (offline.c: validate, translate, explain; run.c: run;
 * service.c: service; mock_cmd.c: hns-mock), and the commands `version`
 * and `help`.
 */
#include "cli.h"

#include <string.h>

#include <jansson.h>

#include "exit_code.h"
#include "mock_cmd.h"
#include "offline.h"
#include "run.h"

#ifndef HNP_VERSION
#define HNP_VERSION "0.0.0"
#endif

static const char usage_main[] =
    "Usage: hnsnetpol <command> [options] [FILE...]\n"
    "\n"
    "Kubernetes NetworkPolicy for Windows nodes: translates networking.k8s.io/v1\n"
    "NetworkPolicies into HNS ACL policies. The offline commands below read\n"
    "Namespaces, Pods and NetworkPolicies from YAML or JSON files (multi-document\n"
    "YAML and `kubectl get ... -o yaml|json` Lists; `-` reads standard input).\n"
    "\n"
    "Commands:\n"
    "  validate   report what Windows HNS cannot enforce (named ports, SCTP, NotIn /\n"
    "             DoesNotExist selectors, ipBlock except) and what is invalid\n"
    "  translate  print the HNS ACLs every endpoint of a node would get\n"
    "  explain    tell whether a connection is allowed, and which rule decides\n"
    "  run        the agent: keep this node's HNS ACLs converged with the cluster's\n"
    "             NetworkPolicies (hnsnetpol run --help)\n"
    "  service    install, start, stop and remove the agent as a Windows service\n"
    "             (hnsnetpol service --help; Windows only)\n"
    "  version    print the version\n"
    "  hns-mock   read and edit the mock HNS state file (Linux tests and demos)\n"
    "  help       print this text, or `hnsnetpol help <command>`\n"
    "\n"
    "Exit codes: 0 all policies enforceable (explain: allowed), 1 some policy\n"
    "rejected (explain: denied), 2 bad usage or unreadable input.\n"
    "\n"
    "Example:\n"
    "  kubectl get pods,namespaces,networkpolicies -A -o yaml > cluster.yaml\n"
    "  hnsnetpol validate cluster.yaml\n"
    "  hnsnetpol translate --node akswin000000 cluster.yaml\n"
    "  hnsnetpol explain --from demo/client --to demo/server --port 80 cluster.yaml\n";

/* The commands; each takes argv from its own name on. */
static const struct command {
    const char *name;
    int (*main)(int argc, char **argv, FILE *out, FILE *errout);
} commands[] = {
    {"validate", hnp_cli_validate_main}, {"translate", hnp_cli_translate_main},
    {"explain", hnp_cli_explain_main},   {"run", hnp_cli_run_main},
    {"service", hnp_cli_service_main},   {"hns-mock", hnp_cli_mock_main},
};

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int hnp_cli_main(int argc, char **argv, FILE *out, FILE *errout)
{
    if (argc < 2) {
        fputs(usage_main, errout);
        return HNP_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        /* `help COMMAND` is `COMMAND --help`. */
        const struct command *c = argc > 2 ? find_command(argv[2]) : NULL;
        if (c == NULL) {
            fputs(usage_main, out);
            return HNP_EXIT_OK;
        }
        char command_name[16], help_flag[] = "--help";
        snprintf(command_name, sizeof(command_name), "%s", c->name);
        char *help_argv[] = {command_name, help_flag, NULL};
        return c->main(2, help_argv, out, errout);
    }
    if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0) {
        fprintf(out, "hnsnetpol %s (jansson %s, libyaml)\n", HNP_VERSION, JANSSON_VERSION);
        return HNP_EXIT_OK;
    }
    const struct command *cmd = find_command(name);
    if (cmd == NULL) {
        fprintf(errout, "hnsnetpol: unknown command '%s'\n\n%s", name, usage_main);
        return HNP_EXIT_USAGE;
    }
    return cmd->main(argc - 1, argv + 1, out, errout);
}
