/*
 * config.h - the settings of `hnsnetpol run` (and of the Windows service,
 * which runs the same agent), from command-line flags and from a YAML
 * configuration file.
 *
 * Every setting has a flag and a key in the file, with the same values:
 *
 *   flag                        file key               value
 *   --kubeconfig FILE           kubeconfig             path
 *   --context NAME              context                string
 *   --node-name NAME            nodeName               string
 *   --hns SPEC                  hns                    "hcn" or "mock:PATH"
 *   --node-ip IP                nodeIP                 IPv4 address
 *   --metrics-addr ADDR         metricsAddr            host:port, "" = off
 *   --batch-interval D          batchInterval          duration ("100ms")
 *   --endpoint-poll-interval D  endpointPollInterval   duration
 *   --resync-interval D         resyncInterval         duration
 *   --hns-timeout D             hnsTimeout             duration
 *   --unsupported-policy MODE   unsupportedPolicy      reject | isolate
 *   --cleanup-on-exit           cleanupOnExit          true | false
 *   --no-events                 events                 true | false (flag: false)
 *   --log-level L               logLevel               debug | info | warn | error
 *   --log-format F              logFormat              text | json
 *   --log-file FILE             logFile                path
 *
 * plus the flag --config FILE, which names the file. Flags override the
 * file. In the file, relative paths (kubeconfig, logFile, the PATH of
 * mock:PATH) are relative to the file's own folder; a key with no value
 * (null) counts as not given; an unknown key is an error that names its
 * file:line. docs/windows-service.md shows a whole file.
 */
#ifndef HNP_CONFIG_H
#define HNP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hnsnetpol/error.h"
#include "log.h"
#include "hnsnetpol/translate.h"

/* The settings; HNP_RUN_BIT(s) is its bit in struct hnp_run_config's `set`. */
enum hnp_run_setting {
    HNP_RUN_KUBECONFIG,
    HNP_RUN_CONTEXT,
    HNP_RUN_NODE_NAME,
    HNP_RUN_HNS,
    HNP_RUN_NODE_IP,
    HNP_RUN_METRICS_ADDR,
    HNP_RUN_BATCH_INTERVAL,
    HNP_RUN_ENDPOINT_POLL_INTERVAL,
    HNP_RUN_RESYNC_INTERVAL,
    HNP_RUN_HNS_TIMEOUT,
    HNP_RUN_UNSUPPORTED_POLICY,
    HNP_RUN_CLEANUP_ON_EXIT,
    HNP_RUN_EVENTS,
    HNP_RUN_LOG_LEVEL,
    HNP_RUN_LOG_FORMAT,
    HNP_RUN_LOG_FILE,
    HNP_RUN_CONFIG_FILE, /* --config: a flag only, never a key of the file */
    HNP_RUN_SETTING_COUNT_
};

#define HNP_RUN_BIT(s) (1u << (s))

/*
 * A set of settings. `set` tells which were given; a field whose bit is
 * clear holds its default (below). Strings are owned (free them with
 * hnp_run_config_clear()).
 */
struct hnp_run_config {
    unsigned set;
    char *kubeconfig;                      /* NULL */
    char *context;                         /* NULL */
    char *node_name;                       /* NULL */
    char *hns;                             /* NULL */
    uint32_t node_ip;                      /* 0 */
    char *metrics_addr;                    /* NULL (the agent's default); "" = no listener */
    long batch_ms;                         /* 0 = the agent's default; likewise below */
    long endpoint_poll_ms;                 /* 0 */
    long resync_ms;                        /* 0 */
    long hns_timeout_ms;                   /* 0 */
    enum hnp_unsupported_mode unsupported; /* HNP_UNSUPPORTED_REJECT */
    bool cleanup_on_exit;                  /* false */
    bool events;                           /* true */
    enum hnp_log_level log_level;          /* HNP_LOG_INFO */
    enum hnp_log_format log_format;        /* HNP_LOG_TEXT */
    char *log_file;                        /* NULL */
    char *config_file;                     /* NULL */
};

/* Set every field to its default, nothing given. */
void hnp_run_config_init(struct hnp_run_config *cfg);

/* Free the strings and set the defaults again. Accepts NULL. */
void hnp_run_config_clear(struct hnp_run_config *cfg);

/* Was s given? */
bool hnp_run_config_has(const struct hnp_run_config *cfg, enum hnp_run_setting s);

/* The flag of s ("--kubeconfig", "--no-events" for HNP_RUN_EVENTS); static, never NULL. */
const char *hnp_run_setting_flag(enum hnp_run_setting s);

/* The file key of s ("kubeconfig"); NULL for HNP_RUN_CONFIG_FILE. Static. */
const char *hnp_run_setting_key(enum hnp_run_setting s);

/*
 * Set s from text, as its flag does: a string is copied as it is, a
 * duration, address or name is checked. For the two switches text is NULL
 * (--cleanup-on-exit sets cleanup_on_exit, --no-events clears events).
 * Returns HNP_ERR_INVALID for a bad value (err->message says why, without
 * the flag's name: "\"fast\" is not a duration (...)"), HNP_ERR_NOMEM; cfg
 * is unchanged on failure.
 */
enum hnp_err hnp_run_config_set(struct hnp_run_config *cfg, enum hnp_run_setting s,
                                const char *text, struct hnp_error *err);

/*
 * Parse flags: argv[1..argc-1] (argv[0] is the command's name and is
 * skipped), "--flag value" or "--flag=value", into *out (initialised here:
 * only flags, the file named by --config is not read). -h / --help sets
 * *help and is otherwise ignored. On bad usage prints "<prog>: <problem>
 * (see <prog> --help)"-style messages to errout and returns HNP_ERR_USAGE
 * with *out left empty; HNP_ERR_NOMEM.
 */
enum hnp_err hnp_run_flags_parse(int argc, char **argv, const char *prog,
                                 struct hnp_run_config *out, bool *help, FILE *errout);

/*
 * Read a configuration file (YAML or JSON: one mapping of the keys above,
 * at most 1 MiB) into *out (initialised here; config_file is not set).
 * Relative paths become relative to the file's folder. Returns HNP_ERR_IO
 * when it cannot be read, HNP_ERR_PARSE for bad YAML, HNP_ERR_SCHEMA for
 * something other than one mapping or an unknown key, HNP_ERR_INVALID for a
 * bad value, HNP_ERR_EMPTY for an empty file, HNP_ERR_NOMEM; err->where is
 * "file:line" (file alone when no line applies) and err->message names the
 * key. *out is left empty on failure.
 */
enum hnp_err hnp_run_config_load(const char *path, struct hnp_run_config *out,
                                 struct hnp_error *err);

/*
 * Copy every setting given in over into base, replacing what base had:
 * base is the file, over the flags. HNP_ERR_NOMEM (base unchanged then).
 */
enum hnp_err hnp_run_config_merge(struct hnp_run_config *base, const struct hnp_run_config *over);

/*
 * Flags, then the file they name: hnp_run_flags_parse() and, when --config
 * is given, hnp_run_config_load() of that file with the flags merged over
 * it (config_file stays set). A file that cannot be used is reported on
 * errout as "<prog>: --config: <file:line>: <message>" and gives
 * HNP_ERR_USAGE, as bad flags do. *out is left empty on failure.
 */
enum hnp_err hnp_run_options_parse(int argc, char **argv, const char *prog,
                                   struct hnp_run_config *out, bool *help, FILE *errout);

/*
 * The flags that give the settings given in cfg (config_file as --config),
 * in the order of enum hnp_run_setting, each as one "--flag=value" string or
 * a bare switch, for a command line that must reproduce cfg (the Windows
 * service's). A switch has no "off" form: cleanupOnExit false and events
 * true - what a file may say - are left out. *out receives a new
 * NULL-terminated array of new strings (free with hnp_run_args_free()),
 * *count its length. HNP_ERR_NOMEM.
 */
enum hnp_err hnp_run_config_to_args(const struct hnp_run_config *cfg, char ***out, int *count);

/* Free what hnp_run_config_to_args() made. Accepts NULL. */
void hnp_run_args_free(char **args);

/*
 * Parse a duration: one or more <integer><unit> with unit ms, s, m or h
 * ("100ms", "2s", "5m", "1m30s"). *ms receives the total in milliseconds.
 * False for anything else, a zero total or more than 24 hours.
 */
bool hnp_parse_duration(const char *text, long *ms);

#endif /* HNP_CONFIG_H */
