/*
 * cli_run.c - `hnsnetpol run`: flags, API server credentials, node name,
 * logging and the stop signals around hnp_agent_run().
 *
 * Where the credentials come from, first match wins: --kubeconfig, the
 * KUBECONFIG environment variable, the in-cluster service account
 * (KUBERNETES_SERVICE_HOST/PORT, also inside a HostProcess container), and
 * last ~/.kube/config. The node name: --node-name, NODE_NAME, the host name
 * in lower case (what the kubelet registers by default).
 */
#define _POSIX_C_SOURCE 200809L /* PATH_MAX */

#include "hnsnetpol/cli_run.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/agent.h"
#include "hnsnetpol/hns.h"
#include "hnsnetpol/kube.h"
#include "hnsnetpol/log.h"
#include "hnsnetpol/platform.h"
#include "hnsnetpol/rangeset.h"

#ifndef HNP_VERSION
#define HNP_VERSION "0.0.0"
#endif

enum { EXIT_OK = 0, EXIT_FAILURE_ = 1, EXIT_USAGE = 2 };

#define MAX_DURATION_MS (24L * 60 * 60 * 1000)

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
    "  - New and vanished endpoints are noticed every --endpoint-poll-interval;\n"
    "    every --resync-interval all endpoints are re-read and ACLs changed or\n"
    "    removed by someone else are put back.\n"
    "  - A NetworkPolicy that uses what Windows cannot enforce (named ports, SCTP,\n"
    "    NotIn / DoesNotExist selectors, ipBlock except) is rejected: a warning in\n"
    "    the log, a Warning Event on the policy (kubectl describe networkpolicy)\n"
    "    and the hnsnetpol_policies_rejected metric.\n"
    "  - SIGINT / SIGTERM: the HNS call in flight is finished, the ACLs stay\n"
    "    enforced (unless --cleanup-on-exit) and the exit code is 0.\n"
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
    "                                how often HNS endpoints are listed (default 2s)\n"
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
    "                                standard error\n"
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

struct run_flags {
    const char *kubeconfig;
    const char *context;
    const char *node_name;
    const char *hns;
    bool has_node_ip;
    uint32_t node_ip;
    const char *metrics_addr;
    long batch_ms, poll_ms, resync_ms, timeout_ms;
    enum hnp_unsupported_mode unsupported;
    bool cleanup_on_exit;
    bool no_events;
    enum hnp_log_level log_level;
    enum hnp_log_format log_format;
    bool help;
};

bool hnp_parse_duration(const char *text, long *ms)
{
    if (text == NULL || *text == '\0')
        return false;
    long long total = 0;
    const char *p = text;
    while (*p != '\0') {
        if (!isdigit((unsigned char)*p))
            return false;
        long long n = 0;
        while (isdigit((unsigned char)*p)) {
            n = n * 10 + (*p - '0');
            if (n > MAX_DURATION_MS)
                return false;
            p++;
        }
        long long unit;
        if (strncmp(p, "ms", 2) == 0) {
            unit = 1;
            p += 2;
        } else if (*p == 's') {
            unit = 1000;
            p++;
        } else if (*p == 'm') {
            unit = 60LL * 1000;
            p++;
        } else if (*p == 'h') {
            unit = 60LL * 60 * 1000;
            p++;
        } else {
            return false;
        }
        total += n * unit;
        if (total > MAX_DURATION_MS)
            return false;
    }
    if (total <= 0)
        return false;
    *ms = (long)total;
    return true;
}

/* The value of a flag: "--flag=value" or "--flag value". NULL (and a message) when missing. */
static const char *flag_value(const char *flag, const char *inline_value, int argc, char **argv,
                              int *i, FILE *errout)
{
    if (inline_value != NULL)
        return inline_value;
    if (*i + 1 >= argc) {
        fprintf(errout, "hnsnetpol run: %s needs a value (see hnsnetpol run --help)\n", flag);
        return NULL;
    }
    return argv[++*i];
}

static bool duration_flag(const char *flag, const char *value, long *out, FILE *errout)
{
    if (!hnp_parse_duration(value, out)) {
        fprintf(errout,
                "hnsnetpol run: %s: \"%s\" is not a duration (use a number and a unit: 100ms, "
                "2s, 5m, 1m30s; at most 24h)\n",
                flag, value);
        return false;
    }
    return true;
}

/* Parse argv[1..]; false (after a message) on bad usage. */
static bool parse_flags(int argc, char **argv, struct run_flags *f, FILE *errout)
{
    memset(f, 0, sizeof(*f));
    f->log_level = HNP_LOG_INFO;
    f->log_format = HNP_LOG_TEXT;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            f->help = true;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(errout,
                    "hnsnetpol run: unexpected argument \"%s\" (see hnsnetpol run --help)\n", arg);
            return false;
        }
        char name[64];
        const char *eq = strchr(arg, '=');
        const char *inline_value = eq ? eq + 1 : NULL;
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (len >= sizeof(name)) {
            fprintf(errout, "hnsnetpol run: unknown option \"%s\"\n", arg);
            return false;
        }
        memcpy(name, arg, len);
        name[len] = '\0';

        /* Switches. */
        if (strcmp(name, "--cleanup-on-exit") == 0 || strcmp(name, "--no-events") == 0) {
            if (inline_value != NULL) {
                fprintf(errout, "hnsnetpol run: %s takes no value\n", name);
                return false;
            }
            if (strcmp(name, "--cleanup-on-exit") == 0)
                f->cleanup_on_exit = true;
            else
                f->no_events = true;
            continue;
        }

        static const char *const with_value[] = {
            "--kubeconfig",
            "--context",
            "--node-name",
            "--hns",
            "--node-ip",
            "--metrics-addr",
            "--batch-interval",
            "--endpoint-poll-interval",
            "--resync-interval",
            "--hns-timeout",
            "--unsupported-policy",
            "--log-level",
            "--log-format",
        };
        bool known = false;
        for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
            known = known || strcmp(name, with_value[k]) == 0;
        if (!known) {
            fprintf(errout, "hnsnetpol run: unknown option \"%s\" (see hnsnetpol run --help)\n",
                    name);
            return false;
        }
        const char *value = flag_value(name, inline_value, argc, argv, &i, errout);
        if (value == NULL)
            return false;

        if (strcmp(name, "--kubeconfig") == 0) {
            f->kubeconfig = value;
        } else if (strcmp(name, "--context") == 0) {
            f->context = value;
        } else if (strcmp(name, "--node-name") == 0) {
            f->node_name = value;
        } else if (strcmp(name, "--hns") == 0) {
            f->hns = value;
        } else if (strcmp(name, "--node-ip") == 0) {
            if (!hnp_ipv4_parse(value, &f->node_ip)) {
                fprintf(errout, "hnsnetpol run: --node-ip: \"%s\" is not an IPv4 address\n", value);
                return false;
            }
            f->has_node_ip = true;
        } else if (strcmp(name, "--metrics-addr") == 0) {
            f->metrics_addr = value;
        } else if (strcmp(name, "--batch-interval") == 0) {
            if (!duration_flag(name, value, &f->batch_ms, errout))
                return false;
        } else if (strcmp(name, "--endpoint-poll-interval") == 0) {
            if (!duration_flag(name, value, &f->poll_ms, errout))
                return false;
        } else if (strcmp(name, "--resync-interval") == 0) {
            if (!duration_flag(name, value, &f->resync_ms, errout))
                return false;
        } else if (strcmp(name, "--hns-timeout") == 0) {
            if (!duration_flag(name, value, &f->timeout_ms, errout))
                return false;
        } else if (strcmp(name, "--unsupported-policy") == 0) {
            if (strcmp(value, "reject") == 0) {
                f->unsupported = HNP_UNSUPPORTED_REJECT;
            } else if (strcmp(value, "isolate") == 0) {
                f->unsupported = HNP_UNSUPPORTED_ISOLATE;
            } else {
                fprintf(errout,
                        "hnsnetpol run: --unsupported-policy: \"%s\" is neither reject nor "
                        "isolate\n",
                        value);
                return false;
            }
        } else if (strcmp(name, "--log-level") == 0) {
            int level = hnp_log_level_from_name(value);
            if (level < 0) {
                fprintf(errout,
                        "hnsnetpol run: --log-level: \"%s\" is not debug, info, warn or error\n",
                        value);
                return false;
            }
            f->log_level = (enum hnp_log_level)level;
        } else if (strcmp(name, "--log-format") == 0) {
            int format = hnp_log_format_from_name(value);
            if (format < 0) {
                fprintf(errout, "hnsnetpol run: --log-format: \"%s\" is not text or json\n", value);
                return false;
            }
            f->log_format = (enum hnp_log_format)format;
        }
    }
    return true;
}

/* Load the API server configuration, first match wins; false (after a message) on failure. */
static bool load_kube_config(const struct run_flags *f, struct hnp_kube_config *cfg,
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

int hnp_cli_run_main(int argc, char **argv, FILE *out, FILE *errout)
{
    struct run_flags f;
    if (!parse_flags(argc, argv, &f, errout))
        return EXIT_USAGE;
    if (f.help) {
        fputs(usage_run, out);
        return EXIT_OK;
    }

    /* The HNS backend: "hcn" by default, where there is one. */
    const char *hns = f.hns;
    if (hns == NULL) {
        struct hnp_hns *probe = NULL;
        struct hnp_error err = {0};
        enum hnp_err rc = hnp_hns_open("hcn", &probe, &err);
        hnp_hns_close(probe);
        if (rc == HNP_ERR_UNSUPPORTED) {
            fprintf(errout, "hnsnetpol run: --hns is required on this platform, which has no Host "
                            "Compute Network API: use --hns mock:PATH (a JSON state file)\n");
            return EXIT_USAGE;
        }
        hns = "hcn";
    }

    /* The host name in lower case is what the kubelet registers by default. */
    char host[256];
    const char *node = f.node_name;
    if (node == NULL || node[0] == '\0')
        node = getenv("NODE_NAME");
    if ((node == NULL || node[0] == '\0') && hnp_hostname(host, sizeof(host), NULL) == HNP_OK)
        node = host;
    if (node == NULL || node[0] == '\0') {
        fprintf(errout, "hnsnetpol run: no node name: give --node-name or set NODE_NAME\n");
        return EXIT_USAGE;
    }

    hnp_log_setup(f.log_level, f.log_format, errout);

    struct hnp_agent_options opt;
    memset(&opt, 0, sizeof(opt));
    const char *origin = NULL;
    if (!load_kube_config(&f, &opt.kube, &origin))
        return EXIT_FAILURE_;
    hnp_log(HNP_LOG_INFO, "hnsnetpol " HNP_VERSION " starting", "node", node, "api_config", origin,
            "server", opt.kube.server, NULL);

    opt.node_name = node;
    opt.hns_spec = hns;
    opt.metrics_addr = f.metrics_addr;
    opt.batch_ms = f.batch_ms;
    opt.endpoint_poll_ms = f.poll_ms;
    opt.resync_ms = f.resync_ms;
    opt.hns_timeout_ms = f.timeout_ms;
    opt.cleanup_on_exit = f.cleanup_on_exit;
    opt.has_node_ip = f.has_node_ip;
    opt.node_ip = f.node_ip;
    opt.unsupported = f.unsupported;
    opt.post_events = !f.no_events;

    struct hnp_error err = {0};
    stop_requested = 0;
    enum hnp_err rc = hnp_install_stop_handler(&stop_requested, &err);
    if (rc != HNP_OK) {
        hnp_log(HNP_LOG_ERROR, "cannot install the stop handler", "error", hnp_err_name(rc),
                "detail", err.message, NULL);
        hnp_kube_config_clear(&opt.kube);
        return EXIT_FAILURE_;
    }
    rc = hnp_agent_run(&opt, &stop_requested, &err);
    hnp_remove_stop_handler();
    hnp_kube_config_clear(&opt.kube);
    if (rc == HNP_OK)
        return EXIT_OK;
    hnp_log(HNP_LOG_ERROR, "agent failed", "error", hnp_err_name(rc), "field", err.where, "detail",
            err.message[0] ? err.message : hnp_strerror(rc), NULL);
    return rc == HNP_ERR_USAGE ? EXIT_USAGE : EXIT_FAILURE_;
}
