/*
 * agent_knobs.c - hnp-agent-knobs: `hnsnetpol run` with knobs its command
 * line does not have, to see what drives the agent's memory.
 *
 *     hnp-agent-knobs --kubeconfig FILE --node-name NAME --hns SPEC
 *                     [--page-limit N] [--trim] [--log-level L]
 *
 * Runs hnp_agent_run() as cli_run.c does (metrics on 127.0.0.1:0, Events
 * on, every interval at its default) with:
 *   --page-limit N  the LIST page size of the reflectors
 *                   (struct hnp_agent_options.page_limit; default 500);
 *   --trim          glibc's malloc_trim(0) once, from the ready callback
 *                   (the initial lists are done and applied): shows how much
 *                   of the RSS is freed memory the allocator kept.
 * SIGINT / SIGTERM stop it. Linux and glibc only: a benchmark tool.
 */
#define _GNU_SOURCE /* malloc_trim() */

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "registry.h"
#include "kubeconfig.h"
#include "log.h"

static volatile int stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void trim_now(void *ctx)
{
    (void)ctx;
    malloc_trim(0);
    hnp_log(HNP_LOG_INFO, "malloc_trim(0) done", NULL);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: hnp-agent-knobs --kubeconfig FILE --node-name NAME --hns SPEC\n"
               "                       [--page-limit N] [--trim] [--log-level L]\n");
}

int main(int argc, char **argv)
{
    const char *kubeconfig = NULL, *node = NULL, *hns = NULL, *level = "info";
    long page_limit = 0;
    int trim = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--kubeconfig") == 0 && v) {
            kubeconfig = v, i++;
        } else if (strcmp(a, "--node-name") == 0 && v) {
            node = v, i++;
        } else if (strcmp(a, "--hns") == 0 && v) {
            hns = v, i++;
        } else if (strcmp(a, "--log-level") == 0 && v) {
            level = v, i++;
        } else if (strcmp(a, "--page-limit") == 0 && v) {
            page_limit = atol(v), i++;
        } else if (strcmp(a, "--trim") == 0) {
            trim = 1;
        } else {
            usage(stderr);
            return 2;
        }
    }
    int lvl = hnp_log_level_from_name(level);
    if (kubeconfig == NULL || node == NULL || hns == NULL || page_limit < 0 || lvl < 0) {
        usage(stderr);
        return 2;
    }
    hnp_log_setup((enum hnp_log_level)lvl, HNP_LOG_TEXT, stderr);

    struct hnp_agent_options opt;
    memset(&opt, 0, sizeof(opt));
    struct hnp_error err = {0};
    if (hnp_kube_config_from_kubeconfig(kubeconfig, NULL, &opt.kube, &err) != HNP_OK) {
        fprintf(stderr, "hnp-agent-knobs: %s\n", err.message);
        return 1;
    }
    char limit[32];
    snprintf(limit, sizeof(limit), "%ld", page_limit ? page_limit : 500);
    hnp_log(HNP_LOG_INFO, "hnp-agent-knobs starting", "node", node, "page_limit", limit, "trim",
            trim ? "yes" : "no", NULL);
    opt.node_name = node;
    if (hnp_hns_parse_spec(hns, &opt.hns_class, &opt.hns_arg, &err) != HNP_OK) {
        fprintf(stderr, "hnp-agent-knobs: %s\n", err.message);
        hnp_kube_config_clear(&opt.kube);
        return 2;
    }
    opt.metrics_addr = "127.0.0.1:0";
    opt.page_limit = (size_t)page_limit;
    opt.post_events = true;
    if (trim)
        opt.ready = trim_now;

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    enum hnp_err rc = hnp_agent_run(&opt, &stop_requested, &err);
    hnp_kube_config_clear(&opt.kube);
    if (rc != HNP_OK) {
        fprintf(stderr, "hnp-agent-knobs: %s: %s\n", hnp_err_name(rc), err.message);
        return 1;
    }
    return 0;
}
