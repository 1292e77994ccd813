/*
 * run.c - `hnsnetpol run`: flags (and --config, parsed by config.c), API
 * server credentials, node name, logging (and --log-file) and the stop
 * signals around hnp_agent_run(). hnp_run_agent() is the part the Windows
 * service (win/service.c) shares.
 *
 * Where the credentials come from, first match wins: --kubeconfig, the
 * KUBECONFIG environment variable, the in-cluster service account
 * (KUBERNETES_SERVICE_HOST/PORT, also inside a HostProcess container), and
 * last ~/.kube/config. The node name: --node-name, NODE_NAME, the host name
 * in lower case (what the kubelet registers by default).
 */
#define _POSIX_C_SOURCE 200809L /* PATH_MAX */

#include "run.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "registry.h"
#include "exit_code.h"
#include "hns.h"
#include "kubeconfig.h"
#include "log.h"
#include "log_file.h"
#include "platform.h"

#ifndef HNP_VERSION
#define HNP_VERSION "0.0.0"
#endif

static const char usage_run[] =
    "Usage: hnsnetpol run [--kubeconfig FILE] [--node-name NAME] [--hns SPEC] [options]\n"
    "\n"
    "Runs the agent of one Windows node: watches Namespaces, Pods and NetworkPolicies\n"
    "on the Kubernetes API server and keeps the HNS ACLs of every pod endpoint on\n"
    "this node equal to what the NetworkPolicies ask for, until SIGINT or SIGTERM.\n"
    "\n"
    "How it behaves:\n"
    "  - Start-up adopts what is there: nothing is flushed, and an endpoint that\n"
    "    already carries the right ACLs gets no HNS call at all.\n"
    "  - Changes are batched (--batch-interval); then every endpoint whose ACLs\n"
    "    differ gets exactly one HNS Update that keeps its other policies\n"
    "    (OutBoundNAT, ...) first and unchanged. Failed calls are retried with\n"
    "    backoff per endpoint; a call that hangs past --hns-timeout is abandoned.\n"
    "  - HNS endpoints are listed every --endpoint-poll-interval, and at once when\n"
    "    a pod of this node has an IP but no endpoint yet (then every 200 ms for\n"
    "    up to 10 s), so a new pod gets its ACLs without waiting for the poll.\n"
    "    ACLs changed or removed by someone else are put back at the next list;\n"
    "    every --resync-interval every endpoint is compared again.\n"
    "  - A NetworkPolicy that uses what Windows cannot enforce (named ports, SCTP,\n"
    "    NotIn / DoesNotExist selectors, ipBlock except) is rejected: a warning in\n"
    "    the log, a Warning Event on the policy (kubectl describe networkpolicy)\n"
    "    and the hnsnetpol_policies_rejected metric.\n"
    "  - SIGINT / SIGTERM (on Windows: Ctrl-C, Ctrl-Break, console close, logoff\n"
    "    or shutdown): the HNS call in flight is finished, the ACLs stay\n"
    "    enforced (unless --cleanup-on-exit) and the exit code is 0. A second\n"
    "    SIGINT / SIGTERM (Ctrl-C, Ctrl-Break) during that clean stop ends the\n"
    "    process at once.\n"
    "\n"
    "Options:\n"
    "  --kubeconfig FILE             kubeconfig file (default: $KUBECONFIG, else the\n"
    "                                in-cluster service account, else ~/.kube/config)\n"
    "  --context NAME                kubeconfig context (default: its current-context)\n"
    "  --node-name NAME              this node's name in Kubernetes (default: $NODE_NAME,\n"
    "                                else the host name in lower case)\n"
    "  --hns SPEC                    HNS backend: hcn (the Host Compute Network API;\n"
    "                                the default on Windows) or mock:PATH (endpoints in\n"
    "                                a JSON state file, see docs/mock-hns.md; required\n"
    "                                where there is no HCN, e.g. on Linux)\n"
    "  --node-ip IP                  address allowed in ahead of the isolation rules for\n"
    "                                kubelet probes (default: each pod's status.hostIP)\n"
    "  --metrics-addr ADDR           where /metrics, /healthz and /readyz are served\n"
    "                                (default 127.0.0.1:9915; \"\" turns it off)\n"
    "  --batch-interval DURATION     wait after a change for more before computing\n"
    "                                (default 100ms)\n"
    "  --endpoint-poll-interval DURATION\n"
    "                                how often HNS endpoints are listed (default 2s;\n"
    "                                sooner while a new pod has no endpoint yet)\n"
    "  --resync-interval DURATION    full re-read and drift repair (default 5m)\n"
    "  --hns-timeout DURATION        longest an HNS call may take (default 30s)\n"
    "  --unsupported-policy MODE     reject (default): a rejected policy contributes\n"
    "                                nothing; isolate: it still isolates the pods it\n"
    "                                selects for its policy types, allowing nothing\n"
    "  --cleanup-on-exit             remove hnsnetpol's ACLs when stopping (default:\n"
    "                                leave them enforced)\n"
    "  --no-events                   post no Kubernetes Events about rejected policies\n"
    "  --log-level LEVEL             debug, info (default), warn or error\n"
    "  --log-format FORMAT           text (default) or json; one line per event, on\n"
    "                                standard output\n"
    "  --log-file FILE               also write the log to FILE, rotated at 10 MiB\n"
    "                                (FILE.1 .. FILE.5 kept)\n"
    "  --config FILE                 read these settings from a YAML file (keys\n"
    "                                kubeconfig, nodeName, hnsTimeout, ...; see\n"
    "                                docs/windows-service.md); flags override it\n"
    "  -h, --help                    this text\n"
    "\n"
    "A DURATION is numbers with units ms, s, m or h: 100ms, 2s, 5m, 1m30s.\n"
    "\n"
    "Exit codes: 0 stopped by SIGINT / SIGTERM, 1 could not start or failed (the\n"
    "log says why), 2 bad usage.\n"
    "\n"
    "Examples:\n"
    "  # On a workstation, with a kubeconfig, against the mock HNS:\n"
    "  hnsnetpol run --kubeconfig ~/.kube/config --node-name akswin22000001 \\\n"
    "      --hns mock:/tmp/hns.json --metrics-addr 127.0.0.1:9915\n"
    "  curl -s 127.0.0.1:9915/metrics | grep hnsnetpol_policies\n"
    "\n"
    "  # In a HostProcess pod (packaging/daemonset.yaml): the service account's\n"
    "  # token and CA are found under $CONTAINER_SANDBOX_MOUNT_POINT, NODE_NAME comes\n"
    "  # from the downward API (spec.nodeName), HNS is the real one:\n"
    "  hnsnetpol.exe run --node-name $(NODE_NAME)\n";

/* Load the API server configuration, first match wins; false (after a message) on failure. */
static bool load_kube_config(const struct hnp_run_config *f, struct hnp_kube_config *cfg,
                             const char **origin)
{
    struct hnp_error err = {0};
    enum hnp_err rc;
    const char *env_kubeconfig = getenv("KUBECONFIG");
    if (f->kubeconfig != NULL) {
        *origin = f->kubeconfig;
        rc = hnp_kube_config_from_kubeconfig(f->kubeconfig, f->context, cfg, &err);
    } else if (env_kubeconfig != NULL && env_kubeconfig[0] != '\0') {
        *origin = "$KUBECONFIG";
        rc = hnp_kube_config_from_kubeconfig(env_kubeconfig, f->context, cfg, &err);
    } else {
        struct hnp_kube_env env;
        hnp_kube_env_from_process(&env);
        *origin = "in-cluster service account";
        rc = hnp_kube_config_in_cluster(&env, cfg, &err);
        if (rc == HNP_ERR_NOT_FOUND) {
            /* Not in a cluster: the user's own kubeconfig. */
            const char *home = getenv("HOME");
            if (home == NULL || home[0] == '\0')
                home = getenv("USERPROFILE");
            if (home == NULL || home[0] == '\0') {
                hnp_log(HNP_LOG_ERROR,
                        "no API server configuration: give --kubeconfig, set KUBECONFIG, or run "
                        "in a pod",
                        NULL);
                return false;
            }
            static char path[PATH_MAX];
            snprintf(path, sizeof(path), "%s/.kube/config", home);
            *origin = path;
            hnp_error_clear(&err);
            rc = hnp_kube_config_from_kubeconfig(path, f->context, cfg, &err);
        }
    }
    if (rc != HNP_OK) {
        hnp_log(HNP_LOG_ERROR, "cannot use the API server configuration", "source", *origin,
                "error", hnp_err_name(rc), "field", err.where, "detail",
                err.message[0] ? err.message : hnp_strerror(rc), NULL);
        return false;
    }
    return true;
}

/*
 * Set by the platform's stop handler: SIGINT and SIGTERM on POSIX; Ctrl-C,
 * Ctrl-Break and console close / logoff / shutdown on Windows. The Windows
 * service stops the agent from its service control handler (win/) instead.
 */
static volatile int stop_requested;

/* A problem before the agent starts: to errout, or to the log when there is none (the service). */
static void early_error(FILE *errout, const char *message)
{
    if (errout != NULL)
        fprintf(errout, "hnsnetpol run: %s\n", message);
    else
        hnp_log(HNP_LOG_ERROR, message, NULL);
}

int hnp_run_agent(const struct hnp_run_config *cfg, const struct hnp_agent_options *base,
                  const volatile int *stop, FILE *errout)
{
    /* The HNS backend: "hcn" by default, where there is one. */
    const char *hns = cfg->hns;
    if (hns == NULL) {
        struct hnp_hns *probe = NULL;
        struct hnp_error err = {0};
        enum hnp_err rc = hnp_hns_open("hcn", &probe, &err);
        hnp_hns_close(probe);
        if (rc == HNP_ERR_UNSUPPORTED) {
            early_error(errout, "--hns is required on this platform, which has no Host Compute "
                                "Network API: use --hns mock:PATH (a JSON state file)");
            return HNP_EXIT_USAGE;
        }
        hns = "hcn";
    }

    /* The host name in lower case is what the kubelet registers by default. */
    char host[256];
    const char *node = cfg->node_name;
    if (node == NULL || node[0] == '\0')
        node = getenv("NODE_NAME");
    if ((node == NULL || node[0] == '\0') && hnp_hostname(host, sizeof(host), NULL) == HNP_OK)
        node = host;
    if (node == NULL || node[0] == '\0') {
        early_error(errout, "no node name: give --node-name or set NODE_NAME");
        return HNP_EXIT_USAGE;
    }

    struct hnp_agent_options opt;
    memset(&opt, 0, sizeof(opt));
    if (base != NULL)
        opt = *base;
    const char *origin = NULL;
    if (!load_kube_config(cfg, &opt.kube, &origin))
        return HNP_EXIT_FAILURE;
    hnp_log(HNP_LOG_INFO, "hnsnetpol " HNP_VERSION " starting", "node", node, "api_config", origin,
            "server", opt.kube.server, cfg->config_file ? "config_file" : NULL, cfg->config_file,
            NULL);

    opt.node_name = node;
    struct hnp_error err = {0};
    enum hnp_err rc = hnp_hns_parse_spec(hns, &opt.hns_class, &opt.hns_arg, &err);
    if (rc != HNP_OK) {
        hnp_kube_config_clear(&opt.kube);
        hnp_log(HNP_LOG_ERROR, "agent failed", "error", hnp_err_name(rc), "field", err.where,
                "detail", err.message, NULL);
        return HNP_EXIT_USAGE;
    }
    opt.metrics_addr = cfg->metrics_addr;
    opt.batch_ms = cfg->batch_ms;
    opt.endpoint_poll_ms = cfg->endpoint_poll_ms;
    opt.resync_ms = cfg->resync_ms;
    opt.hns_timeout_ms = cfg->hns_timeout_ms;
    opt.cleanup_on_exit = cfg->cleanup_on_exit;
    opt.has_node_ip = hnp_run_config_has(cfg, HNP_RUN_NODE_IP);
    opt.node_ip = cfg->node_ip;
    opt.unsupported = cfg->unsupported;
    opt.post_events = cfg->events;

    rc = hnp_agent_run(&opt, stop, &err);
    hnp_kube_config_clear(&opt.kube);
    if (rc == HNP_OK)
        return HNP_EXIT_OK;
    hnp_log(HNP_LOG_ERROR, "agent failed", "error", hnp_err_name(rc), "field", err.where, "detail",
            err.message[0] ? err.message : hnp_strerror(rc), NULL);
    return rc == HNP_ERR_USAGE ? HNP_EXIT_USAGE : HNP_EXIT_FAILURE;
}

int hnp_cli_run_main(int argc, char **argv, FILE *out, FILE *errout)
{
    return hnp_cli_run_main_with(argc, argv, NULL, out, errout);
}

int hnp_cli_run_main_with(int argc, char **argv, const struct hnp_agent_options *base, FILE *out,
                          FILE *errout)
{
    struct hnp_run_config cfg;
    bool help = false;
    enum hnp_err rc = hnp_run_options_parse(argc, argv, "hnsnetpol run", &cfg, &help, errout);
    if (rc != HNP_OK)
        return rc == HNP_ERR_USAGE ? HNP_EXIT_USAGE : HNP_EXIT_FAILURE;
    if (help) {
        hnp_run_config_clear(&cfg);
        fputs(usage_run, out);
        return HNP_EXIT_OK;
    }

    struct hnp_error err = {0};
    struct hnp_log_file *log_file = NULL;
    if (cfg.log_file != NULL) {
        rc = hnp_log_file_open(cfg.log_file, 0, 0, &log_file, &err);
        if (rc != HNP_OK) {
            fprintf(errout, "hnsnetpol run: --log-file: %s\n", err.message);
            hnp_run_config_clear(&cfg);
            return HNP_EXIT_FAILURE;
        }
    }
    /*
     * The log goes to standard output, as a foreground program's output
     * does (kubectl logs of a HostProcess container, a console); usage and
     * early errors stay on errout. hnp_log() flushes every line, so a pipe
     * or a file gets each line as it is written.
     */
    hnp_log_setup(cfg.log_level, cfg.log_format, out);
    if (log_file != NULL)
        hnp_log_set_sink(hnp_log_file_sink, cfg.log_level, log_file);

    int code = HNP_EXIT_FAILURE;
    stop_requested = 0;
    rc = hnp_install_stop_handler(&stop_requested, &err);
    if (rc != HNP_OK)
        hnp_log(HNP_LOG_ERROR, "cannot install the stop handler", "error", hnp_err_name(rc),
                "detail", err.message, NULL);
    else
        code = hnp_run_agent(&cfg, base, &stop_requested, errout);
    if (log_file != NULL) {
        hnp_log_set_sink(NULL, HNP_LOG_DEBUG, NULL);
        hnp_log_file_close(log_file);
    }
    hnp_run_config_clear(&cfg);
    /*
     * Last, with everything closed: after a console close, logoff or
     * shutdown, Windows ends the process as soon as this lets the handler
     * return.
     */
    hnp_remove_stop_handler();
    return code;
}
