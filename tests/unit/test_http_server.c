/*
 * test_http_server.c - the metrics listener over real sockets, fetched with
 * libcurl: /metrics, /healthz, /readyz in both states, 404, 405, HEAD,
 * address parsing, IPv6 and all-address listeners, a port already in use,
 * stop and restart, idle clients and the connection limit.
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "log.h"
#include "http_server.h"

struct response {
    long status;
    char *body;
    size_t len;
    char content_type[128];
    char allow[64];
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct response *r = ctx;
    char *body = realloc(r->body, r->len + size * n + 1);
    assert_non_null(body);
    memcpy(body + r->len, data, size * n);
    r->body = body;
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
    struct response *r = ctx;
    size_t len = size * n;
    if (len > 6 && strncmp(data, "Allow:", 6) == 0) {
        size_t v = 6;
        while (v < len && data[v] == ' ')
            v++;
        size_t end = len;
        while (end > v && (data[end - 1] == '\r' || data[end - 1] == '\n'))
            end--;
        snprintf(r->allow, sizeof(r->allow), "%.*s", (int)(end - v), data + v);
    }
    return len;
}

/* Whole-request timeout of fetch(): a bound against hanging, not an assertion. */
static long fetch_timeout_s = 120;

/* One request to http://host:port/path; the CURLcode says whether it got an answer. */
static CURLcode fetch(const char *host, unsigned port, const char *method, const char *path,
                      struct response *r)
{
    memset(r, 0, sizeof(*r));
    r->body = calloc(1, 1);
    assert_non_null(r->body);
    char url[256];
    snprintf(url, sizeof(url), "http://%s:%u%s", host, port, path);
    CURL *curl = curl_easy_init();
    assert_non_null(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, fetch_timeout_s);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "a=1&b=2");
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
    char *type = NULL;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    if (type != NULL)
        snprintf(r->content_type, sizeof(r->content_type), "%s", type);
    curl_easy_cleanup(curl);
    return rc;
}

static void response_free(struct response *r)
{
    free(r->body);
    r->body = NULL;
}

/* Fetch and check status and body. */
static void expect(const char *host, unsigned port, const char *method, const char *path,
                   long status, const char *body)
{
    struct response r;
    CURLcode rc = fetch(host, port, method, path, &r);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    assert_int_equal(r.status, status);
    assert_string_equal(r.body, body);
    response_free(&r);
}

struct readiness {
    bool ready;
    const char *reason;
    int calls;
};

static bool ready_fn(void *ctx, char *reason, size_t reason_len)
{
    struct readiness *state = ctx;
    state->calls++;
    if (!state->ready)
        snprintf(reason, reason_len, "%s", state->reason);
    return state->ready;
}

static struct hnp_http_server *start(const char *addr, struct hnp_metrics *m, hnp_ready_fn fn,
                                     void *ctx)
{
    struct hnp_http_server *s = NULL;
    struct hnp_error err = {0};
    enum hnp_err rc = hnp_http_server_start(addr, m, fn, ctx, &s, &err);
    if (rc != HNP_OK)
        fail_msg("start %s: %s", addr, err.message);
    assert_non_null(s);
    assert_true(hnp_http_server_port(s) > 0);
    return s;
}

static void test_endpoints(void **state)
{
    struct hnp_metrics *m = hnp_metrics_new();
    assert_non_null(m);
    assert_int_equal(
        hnp_metrics_declare(m, "hnsnetpol_relists_total", HNP_METRIC_COUNTER, "Relists.", NULL, 0),
        HNP_OK);
    hnp_metrics_add(m, "hnsnetpol_relists_total", "resource=\"pods\"", 2);
    struct readiness rd = {false, "waiting for initial sync", 0};
    struct hnp_http_server *s = start("127.0.0.1:0", m, ready_fn, &rd);
    unsigned port = hnp_http_server_port(s);

    struct response r;
    assert_int_equal(fetch("127.0.0.1", port, "GET", "/metrics", &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    char *expected = hnp_metrics_render(m);
    assert_string_equal(r.body, expected);
    assert_non_null(strstr(r.body, "hnsnetpol_relists_total{resource=\"pods\"} 2\n"));
    free(expected);
    response_free(&r);

    assert_int_equal(fetch("127.0.0.1", port, "GET", "/healthz", &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/plain; charset=utf-8");
    assert_string_equal(r.body, "ok");
    response_free(&r);

    expect("127.0.0.1", port, "GET", "/readyz", 503, "waiting for initial sync");
    assert_int_equal(rd.calls, 1);
    rd.ready = true;
    expect("127.0.0.1", port, "GET", "/readyz", 200, "ok");
    assert_int_equal(rd.calls, 2);
    rd.ready = false;
    rd.reason = "HNS unreachable:\nretrying";
    expect("127.0.0.1", port, "GET", "/readyz", 503, "HNS unreachable: retrying");
    rd.reason = "";
    expect("127.0.0.1", port, "GET", "/readyz", 503, "not ready");

    /* A query string does not change the path. */
    expect("127.0.0.1", port, "GET", "/healthz?verbose=1", 200, "ok");
    expect("127.0.0.1", port, "GET", "/nope", 404, "not found\n");
    expect("127.0.0.1", port, "GET", "/metrics/", 404, "not found\n");
    expect("127.0.0.1", port, "GET", "/", 404, "not found\n");

    /* HEAD: the status and headers of GET, no body. */
    assert_int_equal(fetch("127.0.0.1", port, "HEAD", "/metrics", &r), CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(r.body, "");
    response_free(&r);

    /* The metrics are read at each request. */
    hnp_metrics_add(m, "hnsnetpol_relists_total", "resource=\"pods\"", 1);
    assert_int_equal(fetch("127.0.0.1", port, "GET", "/metrics", &r), CURLE_OK);
    assert_non_null(strstr(r.body, "hnsnetpol_relists_total{resource=\"pods\"} 3\n"));
    response_free(&r);

    hnp_http_server_stop(s);
    hnp_metrics_free(m);
}

static void test_methods(void **state)
{
    struct hnp_http_server *s = start("127.0.0.1:0", NULL, NULL, NULL);
    unsigned port = hnp_http_server_port(s);
    const char *methods[] = {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        struct response r;
        assert_int_equal(fetch("127.0.0.1", port, methods[i], "/metrics", &r), CURLE_OK);
        assert_int_equal(r.status, 405);
        assert_string_equal(r.allow, "GET, HEAD");
        assert_string_equal(r.body, "method not allowed\n");
        response_free(&r);
    }
    /* Still serving after refusing bodies. */
    expect("127.0.0.1", port, "GET", "/healthz", 200, "ok");
    hnp_http_server_stop(s);
}

static void test_no_metrics_no_probe(void **state)
{
    struct hnp_http_server *s = start("127.0.0.1:0", NULL, NULL, NULL);
    unsigned port = hnp_http_server_port(s);
    expect("127.0.0.1", port, "GET", "/readyz", 200, "ok");
    expect("127.0.0.1", port, "GET", "/metrics", 200, "");
    hnp_http_server_stop(s);
    hnp_http_server_stop(NULL);
}

static void test_port_in_use(void **state)
{
    struct hnp_http_server *a = start("127.0.0.1:0", NULL, NULL, NULL);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", hnp_http_server_port(a));

    struct hnp_http_server *b = NULL;
    struct hnp_error err = {0};
    assert_int_equal(hnp_http_server_start(addr, NULL, NULL, NULL, &b, &err), HNP_ERR_IO);
    assert_null(b);
    char prefix[96];
    snprintf(prefix, sizeof(prefix), "cannot listen on %s: ", addr);
    assert_memory_equal(err.message, prefix, strlen(prefix));
    assert_non_null(strstr(err.message, "in use"));

    /* The first server is unaffected. */
    expect("127.0.0.1", hnp_http_server_port(a), "GET", "/healthz", 200, "ok");
    hnp_http_server_stop(a);
}

static void test_stop_and_restart(void **state)
{
    struct hnp_http_server *s = start("127.0.0.1:0", NULL, NULL, NULL);
    unsigned port = hnp_http_server_port(s);
    expect("127.0.0.1", port, "GET", "/healthz", 200, "ok");
    hnp_http_server_stop(s);

    /* Stopped means closed. */
    struct response r;
    assert_int_not_equal(fetch("127.0.0.1", port, "GET", "/healthz", &r), CURLE_OK);
    response_free(&r);

    /* The same port can be bound again at once. */
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
    s = start(addr, NULL, NULL, NULL);
    assert_int_equal(hnp_http_server_port(s), port);
    expect("127.0.0.1", port, "GET", "/healthz", 200, "ok");
    hnp_http_server_stop(s);
}

static void test_ipv6_and_all_addresses(void **state)
{
    struct hnp_http_server *s = start("[::1]:0", NULL, NULL, NULL);
    unsigned port = hnp_http_server_port(s);
    expect("[::1]", port, "GET", "/healthz", 200, "ok");
    /* Bound to ::1 only. */
    struct response r;
    assert_int_not_equal(fetch("127.0.0.1", port, "GET", "/healthz", &r), CURLE_OK);
    response_free(&r);
    hnp_http_server_stop(s);

    s = start(":0", NULL, NULL, NULL);
    port = hnp_http_server_port(s);
    expect("127.0.0.1", port, "GET", "/healthz", 200, "ok");
    expect("[::1]", port, "GET", "/healthz", 200, "ok");
    hnp_http_server_stop(s);

    s = start("0.0.0.0:0", NULL, NULL, NULL);
    expect("127.0.0.1", hnp_http_server_port(s), "GET", "/healthz", 200, "ok");
    hnp_http_server_stop(s);
}

static void test_bad_addresses(void **state)
{
    const char *bad[] = {
        "",
        "9915",
        "localhost:9915",
        "::1:9915",
        "[::1]9915",
        "[::1]",
        "1.2.3.4:99999",
        "1.2.3.4:",
        "1.2.3.4:12a",
        "1.2.3.4:-1",
        "[127.0.0.1]:80",
        "1.2.3:80",
        "1.2.3.4.5:80",
        "[::1]:123456",
        "256.1.1.1:80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hnp_http_server *s = NULL;
        struct hnp_error err = {0};
        enum hnp_err rc = hnp_http_server_start(bad[i], NULL, NULL, NULL, &s, &err);
        if (rc != HNP_ERR_INVALID)
            fail_msg("\"%s\": got %s", bad[i], hnp_err_name(rc));
        assert_null(s);
        assert_true(err.message[0] != '\0');
    }
    struct hnp_http_server *s = NULL;
    assert_int_equal(hnp_http_server_start(NULL, NULL, NULL, NULL, &s, NULL), HNP_ERR_INVALID);
    assert_null(s);
}

#define LIMIT 16

/* Open n TCP connections that send nothing. */
static void open_idle(CURL **handles, size_t n, unsigned port)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/", port);
    for (size_t i = 0; i < n; i++) {
        handles[i] = curl_easy_init();
        assert_non_null(handles[i]);
        curl_easy_setopt(handles[i], CURLOPT_URL, url);
        curl_easy_setopt(handles[i], CURLOPT_NOPROXY, "*");
        curl_easy_setopt(handles[i], CURLOPT_CONNECT_ONLY, 1L);
        assert_int_equal(curl_easy_perform(handles[i]), CURLE_OK);
    }
}

static void close_idle(CURL **handles, size_t n)
{
    for (size_t i = 0; i < n; i++)
        curl_easy_cleanup(handles[i]);
}

static void test_idle_clients_and_limit(void **state)
{
    CURL *idle[LIMIT];

    /* Clients that connect and say nothing do not hold up the others. */
    struct hnp_http_server *s = start("127.0.0.1:0", NULL, NULL, NULL);
    open_idle(idle, LIMIT - 1, hnp_http_server_port(s));
    expect("127.0.0.1", hnp_http_server_port(s), "GET", "/healthz", 200, "ok");
    hnp_http_server_stop(s); /* with connections open */
    close_idle(idle, LIMIT - 1);

    /*
     * With every slot taken, a new connection waits in the listen queue: not
     * served within 2 s (the idle ones hold their slots for 10 s)...
     */
    s = start("127.0.0.1:0", NULL, NULL, NULL);
    unsigned port = hnp_http_server_port(s);
    open_idle(idle, LIMIT, port);
    struct response r;
    fetch_timeout_s = 2;
    assert_int_equal(fetch("127.0.0.1", port, "GET", "/healthz", &r), CURLE_OPERATION_TIMEDOUT);
    response_free(&r);
    /* ...and served once the idle clients have been timed out. */
    fetch_timeout_s = 120;
    expect("127.0.0.1", port, "GET", "/healthz", 200, "ok");
    hnp_http_server_stop(s);
    close_idle(idle, LIMIT);
}

int main(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    hnp_log_setup(HNP_LOG_ERROR, HNP_LOG_TEXT, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoints),           cmocka_unit_test(test_methods),
        cmocka_unit_test(test_no_metrics_no_probe), cmocka_unit_test(test_port_in_use),
        cmocka_unit_test(test_stop_and_restart),    cmocka_unit_test(test_ipv6_and_all_addresses),
        cmocka_unit_test(test_bad_addresses),       cmocka_unit_test(test_idle_clients_and_limit),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
