/*
 * test_config.c - the settings of `hnsnetpol run`: every flag, bad flags
 * and their messages, the YAML configuration file (every key, relative
 * paths, null, unknown keys with their file:line, bad values, not one
 * mapping, unreadable), flags over the file, and back to flags for the
 * Windows service's command line. Runs on Linux and, as a .exe, under wine.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "platform.h"

static char *dir;

static int setup(void **state)
{
    (void)state;
    if (hnp_make_temp_dir("hnp-test-config", &dir, NULL) != HNP_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const names[] = {"a.yaml", "b.yaml", "c.json", "empty.yaml"};
    char path[1024];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        remove(path);
    }
    rmdir(dir);
    free(dir);
    return 0;
}

/* Write text to dir/name; the path goes to path. */
static void write_file(const char *name, const char *text, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* Everything written to f so far; caller frees. */
static char *captured(FILE *f)
{
    fflush(f);
    long size = ftell(f);
    assert_true(size >= 0);
    char *text = malloc((size_t)size + 1);
    assert_non_null(text);
    rewind(f);
    size_t n = fread(text, 1, (size_t)size, f);
    text[n] = '\0';
    return text;
}

/* ------------------------------------------------------------------------ */
/* Flags                                                                    */

static void test_every_flag(void **state)
{
    (void)state;
    char *argv[] = {"run",
                    "--kubeconfig",
                    "/etc/kube/config",
                    "--context=prod",
                    "--node-name",
                    "akswin000001",
                    "--hns",
                    "mock:/tmp/hns.json",
                    "--node-ip",
                    "10.240.0.4",
                    "--metrics-addr=",
                    "--batch-interval",
                    "250ms",
                    "--endpoint-poll-interval=3s",
                    "--resync-interval",
                    "1m30s",
                    "--hns-timeout",
                    "45s",
                    "--unsupported-policy",
                    "isolate",
                    "--cleanup-on-exit",
                    "--no-events",
                    "--log-level",
                    "debug",
                    "--log-format=json",
                    "--log-file",
                    "/var/log/hnsnetpol.log",
                    "--config",
                    "/etc/hnsnetpol.yaml"};
    struct hnp_run_config cfg;
    bool help = true;
    assert_int_equal(hnp_run_flags_parse(sizeof(argv) / sizeof(argv[0]), argv, "hnsnetpol run",
                                         &cfg, &help, stderr),
                     HNP_OK);
    assert_false(help);
    assert_int_equal(cfg.set, (1u << HNP_RUN_SETTING_COUNT_) - 1);
    assert_string_equal(cfg.kubeconfig, "/etc/kube/config");
    assert_string_equal(cfg.context, "prod");
    assert_string_equal(cfg.node_name, "akswin000001");
    assert_string_equal(cfg.hns, "mock:/tmp/hns.json");
    assert_int_equal(cfg.node_ip, (10u << 24) | (240u << 16) | 4u);
    assert_string_equal(cfg.metrics_addr, "");
    assert_int_equal(cfg.batch_ms, 250);
    assert_int_equal(cfg.endpoint_poll_ms, 3000);
    assert_int_equal(cfg.resync_ms, 90000);
    assert_int_equal(cfg.hns_timeout_ms, 45000);
    assert_int_equal(cfg.unsupported, HNP_UNSUPPORTED_ISOLATE);
    assert_true(cfg.cleanup_on_exit);
    assert_false(cfg.events);
    assert_int_equal(cfg.log_level, HNP_LOG_DEBUG);
    assert_int_equal(cfg.log_format, HNP_LOG_JSON);
    assert_string_equal(cfg.log_file, "/var/log/hnsnetpol.log");
    assert_string_equal(cfg.config_file, "/etc/hnsnetpol.yaml");
    hnp_run_config_clear(&cfg);
    assert_int_equal(cfg.set, 0);
    assert_null(cfg.kubeconfig);
    assert_true(cfg.events);
}

static void test_defaults_and_help(void **state)
{
    (void)state;
    char *argv[] = {"run", "--help"};
    struct hnp_run_config cfg;
    bool help = false;
    assert_int_equal(hnp_run_flags_parse(2, argv, "hnsnetpol run", &cfg, &help, stderr), HNP_OK);
    assert_true(help);
    assert_int_equal(cfg.set, 0);
    assert_true(cfg.events);
    assert_false(cfg.cleanup_on_exit);
    assert_int_equal(cfg.log_level, HNP_LOG_INFO);
    assert_int_equal(cfg.log_format, HNP_LOG_TEXT);
    assert_int_equal(cfg.unsupported, HNP_UNSUPPORTED_REJECT);
    assert_null(cfg.hns);
    hnp_run_config_clear(&cfg);
}

static void test_bad_flags(void **state)
{
    (void)state;
    struct {
        int argc;
        char *argv[4];
        const char *message;
    } bad[] = {
        {2, {"run", "--bogus"}, "prog: unknown option \"--bogus\" (see prog --help)"},
        {2, {"run", "--bogus=1"}, "unknown option \"--bogus\""},
        {2, {"run", "stray"}, "prog: unexpected argument \"stray\""},
        {3,
         {"run", "--batch-interval", "fast"},
         "prog: --batch-interval: \"fast\" is not a duration"},
        {2, {"run", "--hns-timeout=0s"}, "--hns-timeout: \"0s\" is not a duration"},
        {2, {"run", "--resync-interval=25h"}, "at most 24h"},
        {3, {"run", "--unsupported-policy", "ignore"}, "\"ignore\" is neither reject nor isolate"},
        {3, {"run", "--node-ip", "10.0.0.300"}, "--node-ip: \"10.0.0.300\" is not an IPv4 address"},
        {3,
         {"run", "--log-level", "loud"},
         "--log-level: \"loud\" is not debug, info, warn or error"},
        {3, {"run", "--log-format", "xml"}, "--log-format: \"xml\" is not text or json"},
        {2, {"run", "--hns"}, "prog: --hns needs a value"},
        {2, {"run", "--config"}, "--config needs a value"},
        {2, {"run", "--cleanup-on-exit=yes"}, "prog: --cleanup-on-exit takes no value"},
        {2, {"run", "--no-events=true"}, "--no-events takes no value"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        FILE *errout = tmpfile();
        assert_non_null(errout);
        struct hnp_run_config cfg;
        cfg.set = 12345;
        bool help = false;
        enum hnp_err rc =
            hnp_run_flags_parse(bad[i].argc, bad[i].argv, "prog", &cfg, &help, errout);
        char *text = captured(errout);
        fclose(errout);
        if (rc != HNP_ERR_USAGE || strstr(text, bad[i].message) == NULL)
            fail_msg("case %zu: %s, stderr: %s", i, hnp_err_name(rc), text);
        assert_int_equal(cfg.set, 12345); /* untouched */
        free(text);
    }
}

/* ------------------------------------------------------------------------ */
/* The file                                                                 */

static void test_file_every_key(void **state)
{
    (void)state;
    char path[1024];
    write_file("a.yaml",
               "# hnsnetpol service settings\n"
               "kubeconfig: kube/config\n"
               "context: prod\n"
               "nodeName: akswin000001\n"
               "hns: mock:state/hns.json\n"
               "nodeIP: 10.240.0.4\n"
               "metricsAddr: \"\"\n"
               "batchInterval: 250ms\n"
               "endpointPollInterval: 3s\n"
               "resyncInterval: 1m30s\n"
               "hnsTimeout: \"45s\"\n"
               "unsupportedPolicy: isolate\n"
               "cleanupOnExit: true\n"
               "events: false\n"
               "logLevel: debug\n"
               "logFormat: json\n"
               "logFile: /var/log/hnsnetpol.log\n",
               path, sizeof(path));
    struct hnp_run_config cfg;
    struct hnp_error err = {0};
    assert_int_equal(hnp_run_config_load(path, &cfg, &err), HNP_OK);
    assert_int_equal(cfg.set,
                     ((1u << HNP_RUN_SETTING_COUNT_) - 1) & ~HNP_RUN_BIT(HNP_RUN_CONFIG_FILE));
    char want[1200];
    snprintf(want, sizeof(want), "%s/kube/config", dir);
    assert_string_equal(cfg.kubeconfig, want);
    assert_string_equal(cfg.context, "prod");
    assert_string_equal(cfg.node_name, "akswin000001");
    snprintf(want, sizeof(want), "mock:%s/state/hns.json", dir);
    assert_string_equal(cfg.hns, want);
    assert_int_equal(cfg.node_ip, (10u << 24) | (240u << 16) | 4u);
    assert_string_equal(cfg.metrics_addr, "");
    assert_int_equal(cfg.batch_ms, 250);
    assert_int_equal(cfg.endpoint_poll_ms, 3000);
    assert_int_equal(cfg.resync_ms, 90000);
    assert_int_equal(cfg.hns_timeout_ms, 45000);
    assert_int_equal(cfg.unsupported, HNP_UNSUPPORTED_ISOLATE);
    assert_true(cfg.cleanup_on_exit);
    assert_false(cfg.events);
    assert_int_equal(cfg.log_level, HNP_LOG_DEBUG);
    assert_int_equal(cfg.log_format, HNP_LOG_JSON);
    assert_string_equal(cfg.log_file, "/var/log/hnsnetpol.log"); /* absolute: kept */
    assert_null(cfg.config_file);
    hnp_run_config_clear(&cfg);
}

static void test_file_paths_and_nulls(void **state)
{
    (void)state;
    char path[1024];
    /* Windows paths, hcn, null values, flow style, JSON-like quoting. */
    write_file("b.yaml",
               "kubeconfig: 'C:\\k\\config'\n"
               "logFile: \\\\server\\share\\h.log\n"
               "hns: hcn\n"
               "context:\n"
               "nodeName: ~\n"
               "cleanupOnExit: false\n"
               "events: true\n",
               path, sizeof(path));
    struct hnp_run_config cfg;
    struct hnp_error err = {0};
    assert_int_equal(hnp_run_config_load(path, &cfg, &err), HNP_OK);
    assert_string_equal(cfg.kubeconfig, "C:\\k\\config");
    assert_string_equal(cfg.log_file, "\\\\server\\share\\h.log");
    assert_string_equal(cfg.hns, "hcn");
    assert_false(hnp_run_config_has(&cfg, HNP_RUN_CONTEXT));
    assert_false(hnp_run_config_has(&cfg, HNP_RUN_NODE_NAME));
    assert_null(cfg.context);
    assert_true(hnp_run_config_has(&cfg, HNP_RUN_CLEANUP_ON_EXIT));
    assert_false(cfg.cleanup_on_exit);
    assert_true(hnp_run_config_has(&cfg, HNP_RUN_EVENTS));
    assert_true(cfg.events);
    hnp_run_config_clear(&cfg);

    /* JSON is YAML too. */
    write_file("c.json", "{\"nodeName\": \"n1\", \"hnsTimeout\": \"5s\"}\n", path, sizeof(path));
    assert_int_equal(hnp_run_config_load(path, &cfg, &err), HNP_OK);
    assert_string_equal(cfg.node_name, "n1");
    assert_int_equal(cfg.hns_timeout_ms, 5000);
    hnp_run_config_clear(&cfg);
}

static void test_file_errors(void **state)
{
    (void)state;
    struct {
        const char *text;
        enum hnp_err rc;
        long line; /* 0: the where is the file alone */
        const char *message;
    } bad[] = {
        {"nodeName: n1\nbogus: 1\n", HNP_ERR_SCHEMA, 2, "unknown key \"bogus\" (known keys: "},
        {"nodeName: n1\n\n  # c\nverbose: true\n", HNP_ERR_SCHEMA, 4, "unknown key \"verbose\""},
        {"node-name: n1\n", HNP_ERR_SCHEMA, 1,
         "unknown key \"node-name\" (did you mean nodeName?)"},
        {"hns: hcn\nhns_timeout: 5s\n", HNP_ERR_SCHEMA, 2, "did you mean hnsTimeout?"},
        {"a: 1\n", HNP_ERR_SCHEMA, 1, "unknown key \"a\""},
        {"\n\nbatchInterval: fast\n", HNP_ERR_INVALID, 3,
         "batchInterval: \"fast\" is not a duration"},
        {"hnsTimeout: 30\n", HNP_ERR_INVALID, 1,
         "hnsTimeout: must be a string, a duration such as \"100ms\" or \"5m\""},
        {"nodeName: 12345\n", HNP_ERR_INVALID, 1, "nodeName: must be a string (put it in quotes)"},
        {"x: 1\ncleanupOnExit: \"yes\"\n", HNP_ERR_SCHEMA, 1, "unknown key \"x\""},
        {"cleanupOnExit: \"yes\"\n", HNP_ERR_INVALID, 1,
         "cleanupOnExit: must be true or false (not a string: no quotes)"},
        {"events: yes\n", HNP_ERR_INVALID, 1, "events: must be true or false"},
        {"nodeIP: 10.0.0.300\n", HNP_ERR_INVALID, 1, "nodeIP: \"10.0.0.300\" is not an IPv4"},
        {"unsupportedPolicy: ignore\n", HNP_ERR_INVALID, 1, "neither reject nor isolate"},
        {"logLevel: loud\n", HNP_ERR_INVALID, 1, "logLevel: \"loud\" is not debug"},
        {"logFormat: xml\n", HNP_ERR_INVALID, 1, "logFormat: \"xml\" is not text or json"},
        {"kubeconfig: [a, b]\n", HNP_ERR_INVALID, 1, "kubeconfig: must be a string"},
        {"nodeName: a\n---\nnodeName: b\n", HNP_ERR_SCHEMA, 3, "one mapping, not several"},
        {"- nodeName: a\n", HNP_ERR_SCHEMA, 1, ""},
        {"nodeName: [a\n", HNP_ERR_PARSE, -1, ""},
        {"", HNP_ERR_EMPTY, 0, "holds no settings"},
        {"# nothing\n", HNP_ERR_EMPTY, 0, "holds no settings"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char path[1024];
        write_file("a.yaml", bad[i].text, path, sizeof(path));
        struct hnp_run_config cfg;
        cfg.set = 777;
        struct hnp_error err = {0};
        enum hnp_err rc = hnp_run_config_load(path, &cfg, &err);
        char where[1100];
        if (bad[i].line > 0)
            snprintf(where, sizeof(where), "%s:%ld", path, bad[i].line);
        else
            snprintf(where, sizeof(where), "%s", path);
        bool where_ok = bad[i].line < 0 ? strncmp(err.where, path, strlen(path)) == 0
                                        : strcmp(err.where, where) == 0;
        if (rc != bad[i].rc || !where_ok || strstr(err.message, bad[i].message) == NULL)
            fail_msg("case %zu: %s at \"%s\": %s", i, hnp_err_name(rc), err.where, err.message);
        assert_int_equal(cfg.set, 777); /* untouched */
    }

    char missing[1100];
    snprintf(missing, sizeof(missing), "%s/missing.yaml", dir);
    struct hnp_run_config cfg;
    struct hnp_error err = {0};
    assert_int_equal(hnp_run_config_load(missing, &cfg, &err), HNP_ERR_IO);
    assert_string_equal(err.where, missing);
    assert_non_null(strstr(err.message, "cannot open the configuration file"));
}

static void test_file_too_big(void **state)
{
    (void)state;
    size_t n = (1u << 20) + 10;
    char *text = malloc(n + 1);
    assert_non_null(text);
    memset(text, '#', n);
    text[n] = '\0';
    char path[1024];
    write_file("a.yaml", text, path, sizeof(path));
    free(text);
    struct hnp_run_config cfg;
    struct hnp_error err = {0};
    assert_int_equal(hnp_run_config_load(path, &cfg, &err), HNP_ERR_LIMIT);
    assert_non_null(strstr(err.message, "larger than 1 MiB"));
}

/* ------------------------------------------------------------------------ */
/* Flags over the file                                                      */

static void test_flags_override_file(void **state)
{
    (void)state;
    char path[1024];
    write_file("a.yaml",
               "nodeName: from-file\n"
               "hns: mock:hns.json\n"
               "hnsTimeout: 10s\n"
               "events: false\n"
               "logLevel: warn\n",
               path, sizeof(path));
    char config_flag[1100];
    snprintf(config_flag, sizeof(config_flag), "--config=%s", path);
    char *argv[] = {"run", config_flag, "--node-name", "from-flag", "--log-level", "debug"};
    struct hnp_run_config cfg;
    bool help = false;
    assert_int_equal(hnp_run_options_parse(6, argv, "hnsnetpol run", &cfg, &help, stderr), HNP_OK);
    assert_string_equal(cfg.node_name, "from-flag");
    assert_int_equal(cfg.log_level, HNP_LOG_DEBUG);
    assert_int_equal(cfg.hns_timeout_ms, 10000);
    assert_false(cfg.events);
    char want[1200];
    snprintf(want, sizeof(want), "mock:%s/hns.json", dir);
    assert_string_equal(cfg.hns, want);
    assert_string_equal(cfg.config_file, path);
    hnp_run_config_clear(&cfg);

    /* Without --config the file is not read. */
    char *plain[] = {"run", "--node-name", "n"};
    assert_int_equal(hnp_run_options_parse(3, plain, "hnsnetpol run", &cfg, &help, stderr), HNP_OK);
    assert_int_equal(cfg.set, HNP_RUN_BIT(HNP_RUN_NODE_NAME));
    hnp_run_config_clear(&cfg);

    /* A bad file is a usage error naming file:line. */
    write_file("b.yaml", "nodeName: n\nnode_ip: 1.2.3.4\n", path, sizeof(path));
    char *argv2[] = {"run", "--config", path};
    FILE *errout = tmpfile();
    assert_non_null(errout);
    cfg.set = 99;
    assert_int_equal(hnp_run_options_parse(3, argv2, "prog", &cfg, &help, errout), HNP_ERR_USAGE);
    assert_int_equal(cfg.set, 99);
    char *text = captured(errout);
    fclose(errout);
    char want_msg[1200];
    snprintf(want_msg, sizeof(want_msg),
             "prog: --config: %s:2: unknown key \"node_ip\" (did you mean nodeIP?)", path);
    if (strstr(text, want_msg) == NULL)
        fail_msg("stderr: %s", text);
    free(text);
}

static void test_merge(void **state)
{
    (void)state;
    struct hnp_run_config base, over;
    hnp_run_config_init(&base);
    hnp_run_config_init(&over);
    assert_int_equal(hnp_run_config_set(&base, HNP_RUN_KUBECONFIG, "/a", NULL), HNP_OK);
    assert_int_equal(hnp_run_config_set(&base, HNP_RUN_NODE_NAME, "n1", NULL), HNP_OK);
    assert_int_equal(hnp_run_config_set(&base, HNP_RUN_HNS_TIMEOUT, "10s", NULL), HNP_OK);
    assert_int_equal(hnp_run_config_set(&base, HNP_RUN_EVENTS, NULL, NULL), HNP_OK);
    assert_int_equal(hnp_run_config_set(&over, HNP_RUN_NODE_NAME, "n2", NULL), HNP_OK);
    assert_int_equal(hnp_run_config_set(&over, HNP_RUN_CLEANUP_ON_EXIT, NULL, NULL), HNP_OK);
    assert_int_equal(hnp_run_config_set(&over, HNP_RUN_LOG_LEVEL, "error", NULL), HNP_OK);
    struct hnp_error err = {0};
    assert_int_equal(hnp_run_config_set(&over, HNP_RUN_LOG_LEVEL, "loud", &err), HNP_ERR_INVALID);
    assert_string_equal(err.message, "\"loud\" is not debug, info, warn or error");
    assert_int_equal(over.log_level, HNP_LOG_ERROR); /* unchanged by the failure */
    assert_int_equal(hnp_run_config_set(&over, HNP_RUN_HNS, NULL, &err), HNP_ERR_INVALID);

    assert_int_equal(hnp_run_config_merge(&base, &over), HNP_OK);
    assert_string_equal(base.kubeconfig, "/a");
    assert_string_equal(base.node_name, "n2");
    assert_int_equal(base.hns_timeout_ms, 10000);
    assert_false(base.events);
    assert_true(base.cleanup_on_exit);
    assert_int_equal(base.log_level, HNP_LOG_ERROR);
    assert_int_equal(base.set, HNP_RUN_BIT(HNP_RUN_KUBECONFIG) | HNP_RUN_BIT(HNP_RUN_NODE_NAME) |
                                   HNP_RUN_BIT(HNP_RUN_HNS_TIMEOUT) | HNP_RUN_BIT(HNP_RUN_EVENTS) |
                                   HNP_RUN_BIT(HNP_RUN_CLEANUP_ON_EXIT) |
                                   HNP_RUN_BIT(HNP_RUN_LOG_LEVEL));
    assert_string_equal(hnp_run_setting_flag(HNP_RUN_EVENTS), "--no-events");
    assert_string_equal(hnp_run_setting_key(HNP_RUN_ENDPOINT_POLL_INTERVAL),
                        "endpointPollInterval");
    assert_null(hnp_run_setting_key(HNP_RUN_CONFIG_FILE));
    hnp_run_config_clear(&base);
    hnp_run_config_clear(&over);
    hnp_run_config_clear(NULL);
}

/* ------------------------------------------------------------------------ */
/* Back to flags                                                            */

static void test_to_args_round_trip(void **state)
{
    (void)state;
    char *argv[] = {"run",
                    "--kubeconfig=C:\\k 8s\\config",
                    "--context=prod",
                    "--node-name=n1",
                    "--hns=mock:C:\\ProgramData\\hns.json",
                    "--node-ip=10.0.0.7",
                    "--metrics-addr=",
                    "--batch-interval=1500ms",
                    "--endpoint-poll-interval=2s",
                    "--resync-interval=5m",
                    "--hns-timeout=2h",
                    "--unsupported-policy=isolate",
                    "--cleanup-on-exit",
                    "--no-events",
                    "--log-level=warn",
                    "--log-format=json",
                    "--log-file=C:\\logs\\h.log",
                    "--config=C:\\hnsnetpol.yaml"};
    int argc = sizeof(argv) / sizeof(argv[0]);
    struct hnp_run_config cfg;
    bool help;
    assert_int_equal(hnp_run_flags_parse(argc, argv, "p", &cfg, &help, stderr), HNP_OK);
    char **args = NULL;
    int count = 0;
    assert_int_equal(hnp_run_config_to_args(&cfg, &args, &count), HNP_OK);
    assert_int_equal(count, argc - 1);
    for (int i = 0; i < count; i++)
        assert_string_equal(args[i], argv[i + 1]);
    assert_null(args[count]);

    /* And back again. */
    char *again[HNP_RUN_SETTING_COUNT_ + 2] = {"run"};
    for (int i = 0; i < count; i++)
        again[i + 1] = args[i];
    struct hnp_run_config cfg2;
    assert_int_equal(hnp_run_flags_parse(count + 1, again, "p", &cfg2, &help, stderr), HNP_OK);
    assert_int_equal(cfg2.set, cfg.set);
    assert_string_equal(cfg2.kubeconfig, cfg.kubeconfig);
    assert_int_equal(cfg2.batch_ms, 1500);
    assert_int_equal(cfg2.hns_timeout_ms, 2 * 3600 * 1000);
    hnp_run_args_free(args);
    hnp_run_config_clear(&cfg);
    hnp_run_config_clear(&cfg2);

    /* Nothing given, nothing out; a switch's "off" form from a file is left out. */
    hnp_run_config_init(&cfg);
    cfg.set = HNP_RUN_BIT(HNP_RUN_CLEANUP_ON_EXIT) | HNP_RUN_BIT(HNP_RUN_EVENTS);
    assert_int_equal(hnp_run_config_to_args(&cfg, &args, &count), HNP_OK);
    assert_int_equal(count, 0);
    assert_null(args[0]);
    hnp_run_args_free(args);
    hnp_run_args_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_flag),
        cmocka_unit_test(test_defaults_and_help),
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_file_every_key),
        cmocka_unit_test(test_file_paths_and_nulls),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_file_too_big),
        cmocka_unit_test(test_flags_override_file),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_to_args_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
