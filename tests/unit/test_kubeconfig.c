/*
 * test_kubeconfig.c - unit tests of kubeconfig and in-cluster configuration
 * (src/kubeconfig.c).
 *
 * The sample kubeconfigs live in tests/data/kube/; their relative paths
 * (certs/ca.crt, sa/token, ../certs/...) must come out resolved against the
 * sample's folder. Inputs made up on the spot (base64 edge cases) are written
 * to the current directory, which ctest sets to the build folder.
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubeconfig.h"

#define KUBE_DIR HNP_TEST_DATA_DIR "/kube"

static void assert_contains(const char *haystack, const char *needle)
{
    if (haystack == NULL || strstr(haystack, needle) == NULL)
        fail_msg("\"%s\" does not contain \"%s\"", haystack ? haystack : "(null)", needle);
}

/* Load one sample (path under tests/data/kube) with context, expecting success. */
static void load_ok(const char *paths, const char *context, struct hnp_kube_config *cfg)
{
    struct hnp_error err = {0};
    enum hnp_err rc = hnp_kube_config_from_kubeconfig(paths, context, cfg, &err);
    if (rc != HNP_OK)
        fail_msg("%s: %s: %s", paths, hnp_err_name(rc), err.message);
}

/* Expect failure code with a message containing text; the output must stay zeroed. */
static void load_fails(const char *paths, const char *context, enum hnp_err code, const char *text)
{
    struct hnp_error err = {0};
    struct hnp_kube_config cfg;
    memset(&cfg, 0xab, sizeof(cfg));
    enum hnp_err rc = hnp_kube_config_from_kubeconfig(paths, context, &cfg, &err);
    if (rc != code)
        fail_msg("%s [%s]: expected %s, got %s: %s", paths, context ? context : "-",
                 hnp_err_name(code), hnp_err_name(rc), err.message);
    assert_contains(err.message, text);
    assert_null(cfg.server);
    assert_null(cfg.token);
    assert_null(cfg.ca_pem);
    assert_null(cfg.context);
}

static void test_token_current_context(void **state)
{
    (void)state;
    struct hnp_kube_config cfg;
    load_ok(KUBE_DIR "/token.yaml", NULL, &cfg);
    assert_string_equal(cfg.server, "https://10.0.0.1:6443");
    assert_string_equal(cfg.ca_file, KUBE_DIR "/certs/ca.crt");
    assert_null(cfg.ca_pem);
    assert_string_equal(cfg.token, "abc.def-123");
    assert_null(cfg.token_file);
    assert_null(cfg.tls_server_name);
    assert_null(cfg.client_cert_file);
    assert_null(cfg.client_key_file);
    assert_false(cfg.insecure_skip_tls_verify);
    assert_string_equal(cfg.context, "main");
    hnp_kube_config_clear(&cfg);
    assert_null(cfg.server);
    hnp_kube_config_clear(&cfg); /* twice is harmless */
    hnp_kube_config_clear(NULL);
}

static void test_token_other_contexts(void **state)
{
    (void)state;
    struct hnp_kube_config cfg;
    load_ok(KUBE_DIR "/token.yaml", "stage", &cfg);
    assert_string_equal(cfg.server, "https://staging.example:443");
    assert_true(cfg.insecure_skip_tls_verify);
    assert_null(cfg.ca_file);
    assert_null(cfg.token);
    assert_string_equal(cfg.token_file, KUBE_DIR "/sa/token");
    assert_string_equal(cfg.context, "stage");
    hnp_kube_config_clear(&cfg);

    /* A context without a user: no credentials at all. */
    load_ok(KUBE_DIR "/token.yaml", "anonymous", &cfg);
    assert_string_equal(cfg.server, "https://10.0.0.1:6443");
    assert_null(cfg.token);
    assert_null(cfg.token_file);
    assert_null(cfg.client_cert_file);
    hnp_kube_config_clear(&cfg);

    /* "" means the current context, like NULL. */
    load_ok(KUBE_DIR "/token.yaml", "", &cfg);
    assert_string_equal(cfg.context, "main");
    hnp_kube_config_clear(&cfg);
}

static void test_missing_references(void **state)
{
    (void)state;
    load_fails(KUBE_DIR "/token.yaml", "nope", HNP_ERR_INVALID,
               KUBE_DIR "/token.yaml: context \"nope\" not found");
    load_fails(KUBE_DIR "/token.yaml", "no-such-cluster", HNP_ERR_INVALID,
               "cluster \"gone\" not found (context \"no-such-cluster\")");
    load_fails(KUBE_DIR "/token.yaml", "no-such-user", HNP_ERR_INVALID,
               "user \"gone\" not found (context \"no-such-user\")");
    load_fails(KUBE_DIR "/conflict.yaml", "no-cluster", HNP_ERR_INVALID,
               "contexts[\"no-cluster\"].cluster: missing");
    /* No current-context anywhere. */
    load_fails(KUBE_DIR "/conflict.yaml", NULL, HNP_ERR_INVALID, "no current-context is set");
    load_fails(KUBE_DIR "/empty.yaml", NULL, HNP_ERR_INVALID, "no current-context is set");
}

static void test_where_is_the_file(void **state)
{
    (void)state;
    struct hnp_error err = {0};
    struct hnp_kube_config cfg;
    assert_int_equal(hnp_kube_config_from_kubeconfig(KUBE_DIR "/bad-base64.yaml", NULL, &cfg, &err),
                     HNP_ERR_INVALID);
    assert_string_equal(err.where, KUBE_DIR "/bad-base64.yaml");
    assert_string_equal(err.message, KUBE_DIR "/bad-base64.yaml: users[\"u\"].client-key-data: "
                                              "invalid base64 at offset 4");
}

static void test_cert_files_and_tls_server_name(void **state)
{
    (void)state;
    struct hnp_kube_config cfg;
    load_ok(KUBE_DIR "/certfiles.yaml", NULL, &cfg);
    assert_string_equal(cfg.server, "https://localhost:6443/");
    assert_string_equal(cfg.tls_server_name, "kubernetes.default.svc");
    assert_string_equal(cfg.ca_file, KUBE_DIR "/certs/ca.crt");
    assert_string_equal(cfg.client_cert_file, KUBE_DIR "/certs/client.crt");
    assert_string_equal(cfg.client_key_file, "/absolute/client.key"); /* absolute: unchanged */
    assert_null(cfg.token);
    hnp_kube_config_clear(&cfg);
}

static void test_relative_to_kubeconfig_folder(void **state)
{
    (void)state;
    struct hnp_kube_config cfg;
    load_ok(KUBE_DIR "/sub/relative.yaml", NULL, &cfg);
    assert_string_equal(cfg.server, "https://[fd00::1]:443");
    assert_string_equal(cfg.ca_file, KUBE_DIR "/sub/../certs/ca.crt");
    /* A PKCS#12 bundle needs no key. */
    assert_string_equal(cfg.client_cert_file, KUBE_DIR "/sub/../certs/client.p12");
    assert_null(cfg.client_key_file);
    hnp_kube_config_clear(&cfg);
}

static void test_data_fields(void **state)
{
    (void)state;
    struct hnp_kube_config cfg;
    load_ok(KUBE_DIR "/data.yaml", NULL, &cfg);
    char *ca = hnp_test_read_file("kube/certs/ca.crt", NULL);
    char *crt = hnp_test_read_file("kube/certs/client.crt", NULL);
    char *key = hnp_test_read_file("kube/certs/client.key", NULL);
    assert_string_equal(cfg.server, "https://127.0.0.1:41234");
    assert_string_equal(cfg.ca_pem, ca);
    assert_string_equal(cfg.client_cert_pem, crt);
    assert_string_equal(cfg.client_key_pem, key);
    assert_null(cfg.ca_file);
    assert_null(cfg.client_cert_file);
    assert_null(cfg.client_key_file);
    assert_string_equal(cfg.context, "kind-kind");
    free(ca);
    free(crt);
    free(key);
    hnp_kube_config_clear(&cfg);
}

static void test_json_kubeconfig(void **state)
{
    (void)state;
    struct hnp_kube_config cfg;
    load_ok(KUBE_DIR "/config.json", NULL, &cfg);
    char *ca = hnp_test_read_file("kube/certs/ca.crt", NULL);
    assert_string_equal(cfg.server, "https://127.0.0.1:6443");
    assert_string_equal(cfg.token, "json-token");
    assert_string_equal(cfg.ca_pem, ca);
    free(ca);
    hnp_kube_config_clear(&cfg);
}

/* A KUBECONFIG list from spec with '|' between the files; a static buffer from a small ring. */
static const char *list(const char *spec)
{
    static char bufs[4][2048];
    static int next;
    char *buf = bufs[next++ % 4];
    snprintf(buf, sizeof(bufs[0]), "%s", spec);
    for (char *p = buf; *p; p++)
        if (*p == '|')
            *p = hnp_kube_list_separator;
    return buf;
}

#define SEP "|"

static void test_merge(void **state)
{
    (void)state;
    const char *ab = list(KUBE_DIR "/merge-a.yaml" SEP KUBE_DIR "/merge-b.yaml");
    const char *ba = list(KUBE_DIR "/merge-b.yaml" SEP KUBE_DIR "/merge-a.yaml");
    struct hnp_kube_config cfg;

    /* The first file's current-context and its "shared" entries win. */
    load_ok(ab, NULL, &cfg);
    assert_string_equal(cfg.context, "a-ctx");
    assert_string_equal(cfg.server, "https://a.example:6443");
    assert_true(cfg.insecure_skip_tls_verify);
    assert_string_equal(cfg.token, "from-a");
    hnp_kube_config_clear(&cfg);

    /* Entries only the second file has are found, their paths relative to it. */
    load_ok(ab, "b-ctx", &cfg);
    assert_string_equal(cfg.server, "https://b-only.example:6443");
    assert_string_equal(cfg.ca_file, KUBE_DIR "/certs/ca.crt");
    assert_string_equal(cfg.token_file, KUBE_DIR "/sa/token");
    hnp_kube_config_clear(&cfg);

    /* A context from b naming "shared": the cluster comes from a, which has it first. */
    load_ok(ab, "mixed", &cfg);
    assert_string_equal(cfg.server, "https://a.example:6443");
    assert_true(cfg.insecure_skip_tls_verify);
    assert_null(cfg.token);
    assert_string_equal(cfg.token_file, KUBE_DIR "/sa/token");
    hnp_kube_config_clear(&cfg);

    /* The other order: b wins. */
    load_ok(ba, NULL, &cfg);
    assert_string_equal(cfg.context, "b-ctx");
    hnp_kube_config_clear(&cfg);
    load_ok(ba, "mixed", &cfg);
    assert_string_equal(cfg.server, "https://b.example:6443");
    assert_false(cfg.insecure_skip_tls_verify);
    hnp_kube_config_clear(&cfg);

    /* Empty entries and repeats are ignored; an empty file merges as nothing. */
    load_ok(list(SEP KUBE_DIR "/merge-a.yaml" SEP SEP KUBE_DIR "/merge-a.yaml" SEP KUBE_DIR
                              "/empty.yaml"),
            NULL, &cfg);
    assert_string_equal(cfg.token, "from-a");
    hnp_kube_config_clear(&cfg);
    load_ok(list(KUBE_DIR "/empty.yaml" SEP KUBE_DIR "/merge-b.yaml"), NULL, &cfg);
    assert_string_equal(cfg.context, "b-ctx");
    hnp_kube_config_clear(&cfg);
}

static void test_missing_files(void **state)
{
    (void)state;
    struct hnp_kube_config cfg;
    /* In a list a missing file is skipped, as kubectl does. */
    load_ok(list(KUBE_DIR "/no-such-file.yaml" SEP KUBE_DIR "/token.yaml"), NULL, &cfg);
    assert_string_equal(cfg.context, "main");
    hnp_kube_config_clear(&cfg);

    load_fails(KUBE_DIR "/no-such-file.yaml", NULL, HNP_ERR_IO, "no-such-file.yaml");
    load_fails(list(KUBE_DIR "/no1.yaml" SEP KUBE_DIR "/no2.yaml"), NULL, HNP_ERR_IO,
               "none of these kubeconfig files exists");
    load_fails("", NULL, HNP_ERR_INVALID, "no kubeconfig file given");
    load_fails(list(SEP SEP), NULL, HNP_ERR_INVALID, "no kubeconfig file given");
}

static void test_refused(void **state)
{
    (void)state;
    const char *f = KUBE_DIR "/conflict.yaml";
    load_fails(f, "both-ca", HNP_ERR_INVALID,
               "clusters[\"both-ca\"].certificate-authority: both certificate-authority and "
               "certificate-authority-data are set");
    load_fails(f, "insecure-ca", HNP_ERR_INVALID,
               "clusters[\"insecure-ca\"].insecure-skip-tls-verify: a certificate authority");
    load_fails(f, "plain-http", HNP_ERR_INVALID,
               "clusters[\"plain-http\"].server: expected an "
               "https:// URL");
    load_fails(f, "no-server", HNP_ERR_INVALID, "clusters[\"no-server\"].server: missing");
    load_fails(f, "cert-no-key", HNP_ERR_INVALID, "users[\"cert-no-key\"].client-key: missing");
    load_fails(f, "basic", HNP_ERR_INVALID, "basic authentication is not supported");
    load_fails(f, "binary", HNP_ERR_INVALID,
               "users[\"binary\"].client-certificate-data: expected PEM text");
    load_fails(KUBE_DIR "/exec.yaml", NULL, HNP_ERR_INVALID,
               "users[\"u\"].exec: exec credential plugins are not supported");
    load_fails(KUBE_DIR "/not-config.yaml", NULL, HNP_ERR_INVALID,
               "not-config.yaml: kind: "
               "expected Config");
}

/* Write text to a file in the current directory; returns its name (static buffer). */
static const char *write_temp(const char *text)
{
    static char name[64];
    static int counter;
    snprintf(name, sizeof(name), "test_kubeconfig-%d.json", ++counter);
    FILE *f = fopen(name, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    return name;
}

/* A kubeconfig whose CA data is b64 (a JSON string body, escapes allowed). */
static enum hnp_err load_ca_data(const char *b64, struct hnp_kube_config *cfg,
                                 struct hnp_error *err)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"current-context\":\"c\",\"contexts\":[{\"name\":\"c\",\"context\":{\"cluster\":"
             "\"k\"}}],\"clusters\":[{\"name\":\"k\",\"cluster\":{\"server\":\"https://h\","
             "\"certificate-authority-data\":\"%s\"}}]}",
             b64);
    const char *name = write_temp(text);
    enum hnp_err rc = hnp_kube_config_from_kubeconfig(name, NULL, cfg, err);
    remove(name);
    return rc;
}

static void test_base64(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } good[] = {
        {"aGVsbG8=", "hello"},
        {"aGVsbG8h", "hello!"},
        {"aGVsbA==", "hell"},
        {"aGVs\\r\\nbG8=\\n", "hello"},
        {"LS0tLS1CRUdJTg==", "-----BEGIN"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct hnp_kube_config cfg;
        struct hnp_error err = {0};
        enum hnp_err rc = load_ca_data(good[i].in, &cfg, &err);
        if (rc != HNP_OK)
            fail_msg("%s: %s", good[i].in, err.message);
        assert_string_equal(cfg.ca_pem, good[i].out);
        hnp_kube_config_clear(&cfg);
    }
    static const struct {
        const char *in;
        const char *text;
    } bad[] = {
        {"aGVsbG8", "invalid base64 at offset 7"},   /* truncated */
        {"aGVsbG8=x", "invalid base64 at offset 8"}, /* data after the padding */
        {"aGV=bG8=", "invalid base64 at offset 4"},  /* padding in the middle */
        {"a===", "invalid base64 at offset 1"},      /* too much padding */
        {"aGVsbG8*", "invalid base64 at offset 7"},  /* not in the alphabet */
        {"aGVs bG8=", "invalid base64 at offset 4"}, /* spaces are not line breaks */
        {"aGVsbG-_", "invalid base64 at offset 6"},  /* URL alphabet */
        {"AAECAw==", "expected PEM text"},           /* binary */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hnp_kube_config cfg;
        struct hnp_error err = {0};
        enum hnp_err rc = load_ca_data(bad[i].in, &cfg, &err);
        if (rc != HNP_ERR_INVALID)
            fail_msg("%s: expected HNP_ERR_INVALID, got %s", bad[i].in, hnp_err_name(rc));
        assert_contains(err.message, "clusters[\"k\"].certificate-authority-data: ");
        assert_contains(err.message, bad[i].text);
        assert_null(cfg.server);
    }
}

static char *dup(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    assert_non_null(d);
    return strcpy(d, s);
}

static void test_copy(void **state)
{
    (void)state;
    struct hnp_kube_config cfg, copy;
    load_ok(KUBE_DIR "/data.yaml", NULL, &cfg);
    free(cfg.token);
    cfg.token = dup("t");
    cfg.tls_server_name = dup("name");
    cfg.insecure_skip_tls_verify = true;
    assert_int_equal(hnp_kube_config_copy(&copy, &cfg), HNP_OK);
    assert_string_equal(copy.server, cfg.server);
    assert_ptr_not_equal(copy.server, cfg.server);
    assert_string_equal(copy.ca_pem, cfg.ca_pem);
    assert_string_equal(copy.client_key_pem, cfg.client_key_pem);
    assert_string_equal(copy.token, "t");
    assert_string_equal(copy.tls_server_name, "name");
    assert_string_equal(copy.context, "kind-kind");
    assert_null(copy.ca_file);
    assert_true(copy.insecure_skip_tls_verify);
    hnp_kube_config_clear(&cfg);
    assert_string_equal(copy.token, "t"); /* independent */
    hnp_kube_config_clear(&copy);
}

/* ------------------------------------------------------------------------------------------ */
/* In-cluster                                                                                  */

static void test_in_cluster(void **state)
{
    (void)state;
    struct hnp_kube_env env = {"10.96.0.1", "443", NULL, KUBE_DIR "/sa"};
    struct hnp_kube_config cfg;
    struct hnp_error err = {0};
    assert_int_equal(hnp_kube_config_in_cluster(&env, &cfg, &err), HNP_OK);
    assert_string_equal(cfg.server, "https://10.96.0.1:443");
    assert_string_equal(cfg.tls_server_name, "kubernetes.default.svc");
    assert_string_equal(cfg.token_file, KUBE_DIR "/sa/token");
    assert_string_equal(cfg.ca_file, KUBE_DIR "/sa/ca.crt");
    assert_null(cfg.token);
    assert_null(cfg.ca_pem);
    assert_false(cfg.insecure_skip_tls_verify);
    assert_string_equal(cfg.context, "in-cluster");
    hnp_kube_config_clear(&cfg);

    /* IPv6 is bracketed. */
    env.service_host = "fd00:10:96::1";
    env.service_port = "6443";
    assert_int_equal(hnp_kube_config_in_cluster(&env, &cfg, &err), HNP_OK);
    assert_string_equal(cfg.server, "https://[fd00:10:96::1]:6443");
    hnp_kube_config_clear(&cfg);
}

static void test_in_cluster_sandbox(void **state)
{
    (void)state;
    /* HostProcess containers: the default folder below the sandbox mount point. */
    struct hnp_kube_env env = {"10.96.0.1", "443", KUBE_DIR "/sandbox/", NULL};
    struct hnp_kube_config cfg;
    struct hnp_error err = {0};
    assert_int_equal(hnp_kube_config_in_cluster(&env, &cfg, &err), HNP_OK);
    assert_string_equal(cfg.token_file,
                        KUBE_DIR "/sandbox/var/run/secrets/kubernetes.io/serviceaccount/token");
    assert_string_equal(cfg.ca_file,
                        KUBE_DIR "/sandbox/var/run/secrets/kubernetes.io/serviceaccount/ca.crt");
    hnp_kube_config_clear(&cfg);

    /* Without a trailing separator, and with an explicit sa_dir below it. */
    env.sandbox_mount = KUBE_DIR;
    env.sa_dir = "/sa";
    assert_int_equal(hnp_kube_config_in_cluster(&env, &cfg, &err), HNP_OK);
    assert_string_equal(cfg.token_file, KUBE_DIR "/sa/token");
    hnp_kube_config_clear(&cfg);

    /* A sandbox without the files. */
    env.sandbox_mount = KUBE_DIR "/certs";
    env.sa_dir = NULL;
    assert_int_equal(hnp_kube_config_in_cluster(&env, &cfg, &err), HNP_ERR_IO);
    assert_contains(err.message, "cannot read the service account token " KUBE_DIR
                                 "/certs/var/run/secrets/kubernetes.io/serviceaccount/token");
    assert_null(cfg.server);
}

static void test_in_cluster_errors(void **state)
{
    (void)state;
    struct hnp_kube_config cfg;
    struct hnp_error err = {0};
    static const struct hnp_kube_env not_in_cluster[] = {
        {NULL, NULL, NULL, NULL}, {"10.96.0.1", NULL, NULL, NULL}, {NULL, "443", NULL, NULL},
        {"", "443", NULL, NULL},  {"10.96.0.1", "", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(not_in_cluster) / sizeof(not_in_cluster[0]); i++) {
        assert_int_equal(hnp_kube_config_in_cluster(&not_in_cluster[i], &cfg, &err),
                         HNP_ERR_NOT_FOUND);
        assert_contains(err.message, "not running in a cluster");
        assert_null(cfg.server);
    }
    static const char *const bad_ports[] = {"abc", "0",   "65536", "99999999999999999999",
                                            "-1",  "44 3"};
    for (size_t i = 0; i < sizeof(bad_ports) / sizeof(bad_ports[0]); i++) {
        struct hnp_kube_env env = {"10.96.0.1", bad_ports[i], NULL, KUBE_DIR "/sa"};
        assert_int_equal(hnp_kube_config_in_cluster(&env, &cfg, &err), HNP_ERR_INVALID);
        assert_contains(err.message, "is not a port number");
    }
    struct hnp_kube_env env = {"10.0.0.1/x@evil", "443", NULL, KUBE_DIR "/sa"};
    assert_int_equal(hnp_kube_config_in_cluster(&env, &cfg, &err), HNP_ERR_INVALID);
    assert_contains(err.message, "is not an address");

    /* No token; a token but no CA. */
    struct hnp_kube_env no_token = {"10.96.0.1", "443", NULL, KUBE_DIR "/no-such-dir"};
    assert_int_equal(hnp_kube_config_in_cluster(&no_token, &cfg, &err), HNP_ERR_IO);
    assert_contains(err.message, "cannot read the service account token");
    struct hnp_kube_env no_ca = {"10.96.0.1", "443", NULL, KUBE_DIR "/sa-no-ca"};
    assert_int_equal(hnp_kube_config_in_cluster(&no_ca, &cfg, &err), HNP_ERR_IO);
    assert_contains(err.message,
                    "cannot read the service account CA certificate " KUBE_DIR "/sa-no-ca/ca.crt");
    assert_null(cfg.server);
}

static void test_env_from_process(void **state)
{
    (void)state;
    struct hnp_kube_env env;
    memset(&env, 0xab, sizeof(env));
    hnp_kube_env_from_process(&env);
    assert_ptr_equal(env.service_host, getenv("KUBERNETES_SERVICE_HOST"));
    assert_ptr_equal(env.service_port, getenv("KUBERNETES_SERVICE_PORT"));
    assert_ptr_equal(env.sandbox_mount, getenv("CONTAINER_SANDBOX_MOUNT_POINT"));
    assert_null(env.sa_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_current_context),
        cmocka_unit_test(test_token_other_contexts),
        cmocka_unit_test(test_missing_references),
        cmocka_unit_test(test_where_is_the_file),
        cmocka_unit_test(test_cert_files_and_tls_server_name),
        cmocka_unit_test(test_relative_to_kubeconfig_folder),
        cmocka_unit_test(test_data_fields),
        cmocka_unit_test(test_json_kubeconfig),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_missing_files),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_in_cluster),
        cmocka_unit_test(test_in_cluster_sandbox),
        cmocka_unit_test(test_in_cluster_errors),
        cmocka_unit_test(test_env_from_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
