/*
 * test_kube_client.c - unit tests of the API client and the watch line
 * splitter (src/kube_client.c).
 *
 * The client is tested against a real HTTPS server running in a thread of
 * this test, written with OpenSSL: it records what it received (method,
 * path, headers, body, SNI name, client certificate) and answers by path,
 * including chunked watch streams split mid-line, a stream that goes silent,
 * error statuses and a request that never gets an answer. The PKI is the
 * committed test material in tests/data/kube/certs/ (see gen.sh there).
 *
 * The server thread never asserts (cmocka must only fail on the test's own
 * thread); the tests read its record afterwards.
 */
#define _POSIX_C_SOURCE 200809L

#include "testutil.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "client.h"

#define CERTS HNP_TEST_DATA_DIR "/kube/certs"

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                     */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static char *xdup(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    assert_non_null(d);
    return strcpy(d, s);
}

static void assert_contains(const char *haystack, const char *needle)
{
    if (haystack == NULL || strstr(haystack, needle) == NULL)
        fail_msg("\"%s\" does not contain \"%s\"", haystack ? haystack : "(null)", needle);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------------------------------------ */
/* The test HTTPS server                                                                       */

/* What the server saw of the last request. */
struct record {
    int connections;
    int handshake_failures;
    int requests;
    char method[16];
    char path[1024];
    char authorization[512];
    char accept[128];
    char content_type[128];
    char host[256];
    char user_agent[128];
    char sni[256];
    char peer_cn[256];
    char body[4096];
};

struct server {
    int listen_fd;
    unsigned port;
    SSL_CTX *ctx;
    pthread_t thread;
    pthread_mutex_t lock;
    int stopping; /* under lock */
    struct record rec;
};

static bool stopping(struct server *s)
{
    pthread_mutex_lock(&s->lock);
    bool v = s->stopping != 0;
    pthread_mutex_unlock(&s->lock);
    return v;
}

static bool send_all(SSL *ssl, const char *data, size_t len)
{
    while (len > 0) {
        int n = SSL_write(ssl, data, (int)len);
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

static bool send_chunk(SSL *ssl, const char *data, size_t len)
{
    char head[32];
    snprintf(head, sizeof(head), "%zx\r\n", len);
    return send_all(ssl, head, strlen(head)) && send_all(ssl, data, len) &&
           send_all(ssl, "\r\n", 2);
}

static bool send_response(SSL *ssl, int status, const char *content_type, const char *body,
                          size_t len)
{
    char head[512];
    snprintf(head, sizeof(head),
             "HTTP/1.1 %d Test\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: "
             "close\r\n\r\n",
             status, content_type, len);
    return send_all(ssl, head, strlen(head)) && send_all(ssl, body, len);
}

static bool start_chunked(SSL *ssl)
{
    const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: "
                       "chunked\r\nConnection: close\r\n\r\n";
    return send_all(ssl, head, strlen(head));
}

/* Wait until the client closes the connection, the server stops, or max_ms passes. */
static void hold(struct server *s, int fd, long max_ms)
{
    long long end = now_ms() + max_ms;
    while (!stopping(s) && now_ms() < end) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 20) > 0) {
            char byte;
            /* Readable on a held connection: the peer closed it (or sent a close_notify). */
            if (recv(fd, &byte, 1, MSG_PEEK) <= 0 || (pfd.revents & (POLLHUP | POLLERR)))
                return;
            sleep_ms(20);
            char buf[256];
            if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
                return;
        }
    }
}

/* The pieces of /watch/chunks: lines split anywhere, a CRLF, an empty line, no final newline. */
static const char *const watch_pieces[] = {
    "{\"a\":1}\n{\"b\"", ":2}\r", "\n", "\n", "{\"c\":3}\n{\"d\":4}", "\n{\"e\":", "5}",
};

static void respond(struct server *s, SSL *ssl, int fd, const char *path)
{
    char buf[16384];
    int code;
    if (strcmp(path, "/ok") == 0) {
        const char *body = "{\"kind\":\"Status\",\"status\":\"Success\"}";
        send_response(ssl, 200, "application/json", body, strlen(body));
    } else if (strcmp(path, "/text") == 0) {
        send_response(ssl, 200, "text/plain", "plain text", 10);
    } else if (strcmp(path, "/big") == 0) {
        /* {"d":"xxx...x"}, 10000 bytes. */
        memset(buf, 'x', sizeof(buf));
        memcpy(buf, "{\"d\":\"", 6);
        memcpy(buf + 10000 - 2, "\"}", 2);
        send_response(ssl, 200, "application/json", buf, 10000);
    } else if (sscanf(path, "/status/%d", &code) == 1) {
        snprintf(buf, sizeof(buf),
                 "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"test says "
                 "%d\",\"code\":%d}",
                 code, code);
        send_response(ssl, code, "application/json", buf, strlen(buf));
    } else if (strcmp(path, "/watch/chunks") == 0) {
        if (!start_chunked(ssl))
            return;
        for (size_t i = 0; i < sizeof(watch_pieces) / sizeof(watch_pieces[0]); i++) {
            if (!send_chunk(ssl, watch_pieces[i], strlen(watch_pieces[i])))
                return;
            sleep_ms(5);
        }
        send_all(ssl, "0\r\n\r\n", 5);
    } else if (strcmp(path, "/watch/silent") == 0) {
        const char *line = "{\"type\":\"ADDED\"}\n";
        if (start_chunked(ssl) && send_chunk(ssl, line, strlen(line)))
            hold(s, fd, 20000);
    } else if (strcmp(path, "/watch/long") == 0) {
        memset(buf, 'y', 5000);
        buf[5000] = '\n';
        if (start_chunked(ssl) && send_chunk(ssl, "{\"short\":1}\n", 12) &&
            send_chunk(ssl, buf, 2000) && send_chunk(ssl, buf + 2000, 3001))
            send_all(ssl, "0\r\n\r\n", 5);
    } else if (strcmp(path, "/hang") == 0) {
        hold(s, fd, 20000);
    } else {
        send_response(ssl, 404, "text/plain", "no such path", 12);
    }
}

/* Copy the value of header name (case-insensitive) from the request head into out. */
static void header_value(const char *head, const char *name, char *out, size_t out_len)
{
    size_t n = strlen(name);
    out[0] = '\0';
    for (const char *line = strstr(head, "\r\n"); line != NULL; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            const char *end = strstr(v, "\r\n");
            size_t len = end ? (size_t)(end - v) : strlen(v);
            snprintf(out, out_len, "%.*s", (int)len, v);
            return;
        }
    }
}

static void handle(struct server *s, int fd)
{
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    SSL *ssl = SSL_new(s->ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) <= 0) {
        pthread_mutex_lock(&s->lock);
        s->rec.handshake_failures++;
        pthread_mutex_unlock(&s->lock);
        ERR_clear_error();
        SSL_free(ssl);
        return;
    }
    char sni[256] = "", cn[256] = "";
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name != NULL)
        snprintf(sni, sizeof(sni), "%s", name);
    X509 *peer = SSL_get1_peer_certificate(ssl);
    if (peer != NULL) {
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof(cn));
        X509_free(peer);
    }

    /* The request head, then the body by Content-Length. */
    static char req[65536];
    size_t len = 0;
    char *end = NULL;
    while (end == NULL && len < sizeof(req) - 1) {
        int n = SSL_read(ssl, req + len, (int)(sizeof(req) - 1 - len));
        if (n <= 0)
            break;
        len += (size_t)n;
        req[len] = '\0';
        end = strstr(req, "\r\n\r\n");
    }
    if (end == NULL) {
        ERR_clear_error();
        SSL_free(ssl);
        return;
    }
    *end = '\0';
    char *body = end + 4;
    size_t have = len - (size_t)(body - req);
    char clen[32];
    header_value(req, "Content-Length", clen, sizeof(clen));
    size_t want = clen[0] ? (size_t)strtoul(clen, NULL, 10) : 0;
    while (have < want && (size_t)(body - req) + have < sizeof(req) - 1) {
        int n = SSL_read(ssl, body + have, (int)(sizeof(req) - 1 - (size_t)(body - req) - have));
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    body[have] = '\0';

    pthread_mutex_lock(&s->lock);
    struct record *r = &s->rec;
    r->requests++;
    sscanf(req, "%15s %1023s", r->method, r->path);
    header_value(req, "Authorization", r->authorization, sizeof(r->authorization));
    header_value(req, "Accept", r->accept, sizeof(r->accept));
    header_value(req, "Content-Type", r->content_type, sizeof(r->content_type));
    header_value(req, "Host", r->host, sizeof(r->host));
    header_value(req, "User-Agent", r->user_agent, sizeof(r->user_agent));
    snprintf(r->sni, sizeof(r->sni), "%s", sni);
    snprintf(r->peer_cn, sizeof(r->peer_cn), "%s", cn);
    snprintf(r->body, sizeof(r->body), "%s", body);
    char path[1024];
    snprintf(path, sizeof(path), "%s", r->path);
    pthread_mutex_unlock(&s->lock);

    char *query = strchr(path, '?');
    if (query != NULL)
        *query = '\0';
    respond(s, ssl, fd, path);
    SSL_shutdown(ssl);
    ERR_clear_error();
    SSL_free(ssl);
}

static void *serve(void *arg)
{
    struct server *s = arg;
    while (!stopping(s)) {
        struct pollfd pfd = {s->listen_fd, POLLIN, 0};
        if (poll(&pfd, 1, 20) <= 0)
            continue;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&s->lock);
        s->rec.connections++;
        pthread_mutex_unlock(&s->lock);
        handle(s, fd);
        close(fd);
    }
    return NULL;
}

static struct server *server_start(bool require_client_cert)
{
    struct server *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    pthread_mutex_init(&s->lock, NULL);
    s->ctx = SSL_CTX_new(TLS_server_method());
    assert_non_null(s->ctx);
    assert_int_equal(SSL_CTX_use_certificate_chain_file(s->ctx, CERTS "/server.crt"), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey_file(s->ctx, CERTS "/server.key", SSL_FILETYPE_PEM), 1);
    if (require_client_cert) {
        assert_int_equal(SSL_CTX_load_verify_locations(s->ctx, CERTS "/ca.crt", NULL), 1);
        SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->listen_fd >= 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    assert_int_equal(listen(s->listen_fd, 8), 0);
    socklen_t alen = sizeof(addr);
    assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&addr, &alen), 0);
    s->port = ntohs(addr.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
    return s;
}

static void server_stop(struct server *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
    SSL_CTX_free(s->ctx);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static struct record server_record(struct server *s)
{
    pthread_mutex_lock(&s->lock);
    struct record r = s->rec;
    pthread_mutex_unlock(&s->lock);
    return r;
}

/*
 * The server's count of failed handshakes, once it has recorded at least
 * one or 10 s have passed: the client can see the failure before the
 * server thread has written it down (under valgrind, often).
 */
static int server_handshake_failures(struct server *s)
{
    long long deadline = now_ms() + 10000;
    int n = server_record(s).handshake_failures;
    while (n < 1 && now_ms() < deadline) {
        sleep_ms(10);
        n = server_record(s).handshake_failures;
    }
    return n;
}

/* ------------------------------------------------------------------------------------------ */
/* Client set-up                                                                               */

/* A config for https://127.0.0.1:<port> trusting the test CA, with token (may be NULL). */
static void config_for(struct hnp_kube_config *cfg, const struct server *s, const char *token)
{
    char server[64];
    memset(cfg, 0, sizeof(*cfg));
    snprintf(server, sizeof(server), "https://127.0.0.1:%u", s->port);
    cfg->server = xdup(server);
    cfg->ca_file = xdup(CERTS "/ca.crt");
    if (token != NULL)
        cfg->token = xdup(token);
}

static struct hnp_kube_client *client_for(const struct hnp_kube_config *cfg)
{
    struct hnp_kube_client *c = NULL;
    struct hnp_error err = {0};
    enum hnp_err rc = hnp_kube_client_new(cfg, &c, &err);
    if (rc != HNP_OK)
        fail_msg("hnp_kube_client_new: %s: %s", hnp_err_name(rc), err.message);
    return c;
}

/* GET path; returns the code, *status the HTTP status (-1 when not set). */
static enum hnp_err get(struct hnp_kube_client *c, const char *path, long *status,
                        struct hnp_error *err)
{
    *status = -1;
    return hnp_kube_request(c, "GET", path, NULL, NULL, 0, status, NULL, err);
}

/* Expect GET /ok to succeed with the configuration. */
static void expect_ok(const struct hnp_kube_config *cfg)
{
    struct hnp_kube_client *c = client_for(cfg);
    struct hnp_error err = {0};
    long status;
    enum hnp_err rc = get(c, "/ok", &status, &err);
    if (rc != HNP_OK)
        fail_msg("GET /ok: %s: %s", hnp_err_name(rc), err.message);
    assert_int_equal(status, 200);
    hnp_kube_client_free(c);
}

/* Expect GET /ok to fail in transport with curl code (0 = any). */
static void expect_transport_error(const struct hnp_kube_config *cfg, long curl_code)
{
    struct hnp_kube_client *c = client_for(cfg);
    struct hnp_error err = {0};
    long status;
    enum hnp_err rc = get(c, "/ok", &status, &err);
    if (rc != HNP_ERR_HTTP)
        fail_msg("GET /ok: expected HNP_ERR_HTTP, got %s", hnp_err_name(rc));
    assert_int_equal(err.code_kind, HNP_CODE_CURL);
    if (curl_code != 0 && err.code != curl_code)
        fail_msg("curl code %lld, expected %ld: %s", err.code, curl_code, err.message);
    assert_int_equal(status, -1);
    assert_contains(err.message, "GET https://");
    hnp_kube_client_free(c);
}

/* ------------------------------------------------------------------------------------------ */
/* Requests                                                                                    */

static void test_request_json_and_headers(void **state)
{
    (void)state;
    struct server *s = server_start(false);
    struct hnp_kube_config cfg;
    config_for(&cfg, s, "secret-token-1");
    struct hnp_kube_client *c = client_for(&cfg);
    struct hnp_error err = {0};
    long status = -1;
    json_t *resp = NULL;
    assert_int_equal(hnp_kube_request(c, "GET", "/ok?limit=500&continue=a%2Bb", NULL, NULL, 0,
                                      &status, &resp, &err),
                     HNP_OK);
    assert_int_equal(status, 200);
    assert_non_null(resp);
    assert_string_equal(json_string_value(json_object_get(resp, "status")), "Success");
    json_decref(resp);

    struct record r = server_record(s);
    assert_int_equal(r.requests, 1);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.path, "/ok?limit=500&continue=a%2Bb");
    assert_string_equal(r.authorization, "Bearer secret-token-1");
    assert_string_equal(r.accept, "application/json");
    assert_string_equal(r.content_type, "");
    assert_true(strncmp(r.user_agent, "hnsnetpol/", 10) == 0);
    assert_string_equal(r.peer_cn, ""); /* no client certificate */

    /* The same client again: options do not leak between requests. */
    resp = NULL;
    assert_int_equal(hnp_kube_request(c, "GET", "/text", NULL, NULL, 0, &status, &resp, &err),
                     HNP_OK);
    assert_int_equal(status, 200);
    assert_null(resp); /* not JSON */
    r = server_record(s);
    assert_int_equal(r.requests, 2);
    assert_string_equal(r.authorization, "Bearer secret-token-1");

    hnp_kube_client_free(c);
    hnp_kube_config_clear(&cfg);

    /* Without credentials no Authorization header at all. */
    config_for(&cfg, s, NULL);
    expect_ok(&cfg);
    r = server_record(s);
    assert_int_equal(r.requests, 3);
    assert_string_equal(r.authorization, "");
    hnp_kube_config_clear(&cfg);
    server_stop(s);
}

static void test_request_methods_and_bodies(void **state)
{
    (void)state;
    struct server *s = server_start(false);
    struct hnp_kube_config cfg;
    config_for(&cfg, s, "t");
    struct hnp_kube_client *c = client_for(&cfg);
    struct hnp_error err = {0};
    long status = -1;
    json_t *body = hnp_test_json("{\"a\":1,\"b\":\"x\"}");

    assert_int_equal(hnp_kube_request(c, "POST", "/ok", body, NULL, 0, &status, NULL, &err),
                     HNP_OK);
    struct record r = server_record(s);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.content_type, "application/json");
    assert_string_equal(r.body, "{\"a\":1,\"b\":\"x\"}");

    assert_int_equal(hnp_kube_request(c, "PATCH", "/ok", body, "application/merge-patch+json", 0,
                                      &status, NULL, &err),
                     HNP_OK);
    r = server_record(s);
    assert_string_equal(r.method, "PATCH");
    assert_string_equal(r.content_type, "application/merge-patch+json");
    assert_string_equal(r.body, "{\"a\":1,\"b\":\"x\"}");

    assert_int_equal(hnp_kube_request(c, "DELETE", "/ok", NULL, NULL, 0, &status, NULL, &err),
                     HNP_OK);
    r = server_record(s);
    assert_string_equal(r.method, "DELETE");
    assert_string_equal(r.body, "");
    assert_string_equal(r.content_type, "");

    /* A GET after them is a plain GET again. */
    assert_int_equal(get(c, "/ok", &status, &err), HNP_OK);
    r = server_record(s);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.body, "");
    assert_int_equal(r.requests, 4);

    json_decref(body);
    hnp_kube_client_free(c);
    hnp_kube_config_clear(&cfg);
    server_stop(s);
}

static void test_request_statuses_and_limit(void **state)
{
    (void)state;
    struct server *s = server_start(false);
    struct hnp_kube_config cfg;
    config_for(&cfg, s, "t");
    struct hnp_kube_client *c = client_for(&cfg);
    struct hnp_error err = {0};
    long status = -1;
    json_t *resp = NULL;

    /* Any HTTP status is the caller's business. */
    assert_int_equal(hnp_kube_request(c, "GET", "/status/404", NULL, NULL, 0, &status, &resp, &err),
                     HNP_OK);
    assert_int_equal(status, 404);
    assert_string_equal(json_string_value(json_object_get(resp, "message")), "test says 404");
    json_decref(resp);

    /* The body cap. */
    status = -1;
    resp = (json_t *)&status; /* must stay untouched */
    assert_int_equal(hnp_kube_request(c, "GET", "/big", NULL, NULL, 1000, &status, &resp, &err),
                     HNP_ERR_LIMIT);
    assert_int_equal(status, -1);
    assert_ptr_equal(resp, (json_t *)&status);
    assert_contains(err.message, "larger than 1000 bytes");
    resp = NULL;
    assert_int_equal(hnp_kube_request(c, "GET", "/big", NULL, NULL, 10000, &status, &resp, &err),
                     HNP_OK);
    assert_int_equal(status, 200);
    assert_int_equal(json_string_length(json_object_get(resp, "d")), 10000 - 8);
    json_decref(resp);

    hnp_kube_client_free(c);
    hnp_kube_config_clear(&cfg);
    server_stop(s);
}

struct stopper {
    volatile int *flag;
    long after_ms;
};

static void *stop_later(void *arg)
{
    struct stopper *st = arg;
    sleep_ms(st->after_ms);
    *st->flag = 1;
    return NULL;
}

static void test_request_stop(void **state)
{
    (void)state;
    struct server *s = server_start(false);
    struct hnp_kube_config cfg;
    config_for(&cfg, s, "t");
    struct hnp_kube_client *c = client_for(&cfg);
    volatile int stop = 0;
    hnp_kube_client_set_stop(c, &stop);
    struct stopper st = {&stop, 100};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, stop_later, &st), 0);
    struct hnp_error err = {0};
    long status;
    /* /hang never answers; only the stop flag ends this (the server gives up after 20 s). */
    assert_int_equal(get(c, "/hang", &status, &err), HNP_ERR_STOPPED);
    assert_int_equal(status, -1);
    pthread_join(thread, NULL);

    /* With the flag cleared the client works again. */
    stop = 0;
    assert_int_equal(get(c, "/ok", &status, &err), HNP_OK);
    assert_int_equal(status, 200);
    hnp_kube_client_free(c);
    hnp_kube_config_clear(&cfg);
    server_stop(s);
}

static void test_transport_error(void **state)
{
    (void)state;
    /* A port nobody listens on: bind one, note it, close it. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    socklen_t alen = sizeof(addr);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &alen), 0);
    close(fd);
    struct server fake;
    fake.port = ntohs(addr.sin_port);
    struct hnp_kube_config cfg;
    config_for(&cfg, &fake, "t");
    expect_transport_error(&cfg, CURLE_COULDNT_CONNECT);
    hnp_kube_config_clear(&cfg);
}

static void test_client_new_errors(void **state)
{
    (void)state;
    static const struct {
        const char *server, *ca_file, *token_file;
        enum hnp_err code;
        const char *text;
    } cases[] = {
        {NULL, NULL, NULL, HNP_ERR_INVALID, "no API server"},
        {"http://127.0.0.1:8080", NULL, NULL, HNP_ERR_INVALID, "is not an https:// URL"},
        {"https://", NULL, NULL, HNP_ERR_INVALID, "is not a valid URL"},
        {"https://user:pw@127.0.0.1", NULL, NULL, HNP_ERR_INVALID, "must not hold a user name"},
        {"https://127.0.0.1", CERTS "/none.crt", NULL, HNP_ERR_IO,
         "cannot read certificate-authority " CERTS "/none.crt"},
        {"https://127.0.0.1", NULL, CERTS "/no-token", HNP_ERR_IO,
         "cannot read token file " CERTS "/no-token"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hnp_kube_config cfg;
        memset(&cfg, 0, sizeof(cfg));
        cfg.server = (char *)cases[i].server;
        cfg.ca_file = (char *)cases[i].ca_file;
        cfg.token_file = (char *)cases[i].token_file;
        struct hnp_kube_client *c = (struct hnp_kube_client *)&cfg;
        struct hnp_error err = {0};
        enum hnp_err rc = hnp_kube_client_new(&cfg, &c, &err);
        if (rc != cases[i].code)
            fail_msg("case %zu: expected %s, got %s: %s", i, hnp_err_name(cases[i].code),
                     hnp_err_name(rc), err.message);
        assert_contains(err.message, cases[i].text);
        assert_ptr_equal(c, (struct hnp_kube_client *)&cfg); /* untouched */
    }
    hnp_kube_client_free(NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* TLS                                                                                         */

static void test_server_verification(void **state)
{
    (void)state;
    struct server *s = server_start(false);
    struct hnp_kube_config cfg;

    /* The right CA file. */
    config_for(&cfg, s, "secret-token-2");
    expect_ok(&cfg);

    /* A wrong CA is refused, and the token never reaches the server or the message. */
    free(cfg.ca_file);
    cfg.ca_file = xdup(CERTS "/other-ca.crt");
    {
        struct hnp_kube_client *c = client_for(&cfg);
        struct hnp_error err = {0};
        long status;
        assert_int_equal(get(c, "/ok", &status, &err), HNP_ERR_HTTP);
        assert_int_equal(err.code, CURLE_PEER_FAILED_VERIFICATION);
        assert_null(strstr(err.message, "secret-token-2"));
        hnp_kube_client_free(c);
    }
    assert_int_equal(server_record(s).requests, 1);

    /* No CA: the system store, which does not know the test CA. */
    free(cfg.ca_file);
    cfg.ca_file = NULL;
    expect_transport_error(&cfg, CURLE_PEER_FAILED_VERIFICATION);

    /* insecure-skip-tls-verify skips verification. */
    cfg.insecure_skip_tls_verify = true;
    expect_ok(&cfg);
    cfg.insecure_skip_tls_verify = false;

    /* certificate-authority-data: the right one, then the wrong one (trusted alone). */
    cfg.ca_pem = hnp_test_read_file("kube/certs/ca.crt", NULL);
    expect_ok(&cfg);
    free(cfg.ca_pem);
    cfg.ca_pem = hnp_test_read_file("kube/certs/other-ca.crt", NULL);
    expect_transport_error(&cfg, CURLE_PEER_FAILED_VERIFICATION);

    assert_int_equal(server_record(s).requests, 3);
    hnp_kube_config_clear(&cfg);
    server_stop(s);
}

static void test_client_certificate(void **state)
{
    (void)state;
    struct server *s = server_start(true);
    struct hnp_kube_config cfg;

    /* The server requires one: no handshake without it. */
    config_for(&cfg, s, NULL);
    expect_transport_error(&cfg, 0);
    assert_int_equal(server_record(s).requests, 0);
    assert_true(server_handshake_failures(s) >= 1);

    /* Files. */
    cfg.client_cert_file = xdup(CERTS "/client.crt");
    cfg.client_key_file = xdup(CERTS "/client.key");
    expect_ok(&cfg);
    assert_string_equal(server_record(s).peer_cn, "hnsnetpol-test-client");
    hnp_kube_config_clear(&cfg);

    /* Data. */
    config_for(&cfg, s, NULL);
    cfg.client_cert_pem = hnp_test_read_file("kube/certs/client.crt", NULL);
    cfg.client_key_pem = hnp_test_read_file("kube/certs/client.key", NULL);
    expect_ok(&cfg);
    assert_int_equal(server_record(s).requests, 2);
    assert_string_equal(server_record(s).peer_cn, "hnsnetpol-test-client");
    hnp_kube_config_clear(&cfg);

    /* A PKCS#12 bundle. */
    config_for(&cfg, s, NULL);
    cfg.client_cert_file = xdup(CERTS "/client.p12");
    expect_ok(&cfg);
    assert_int_equal(server_record(s).requests, 3);
    assert_string_equal(server_record(s).peer_cn, "hnsnetpol-test-client");
    hnp_kube_config_clear(&cfg);
    server_stop(s);
}

static void test_tls_server_name(void **state)
{
    (void)state;
    struct server *s = server_start(false);
    struct hnp_kube_config cfg;
    char host[64];
    snprintf(host, sizeof(host), "kubernetes.default.svc:%u", s->port);

    /* An IP server (CURLOPT_RESOLVE): addressed and verified by the name. */
    config_for(&cfg, s, "t");
    cfg.tls_server_name = xdup("kubernetes.default.svc");
    expect_ok(&cfg);
    struct record r = server_record(s);
    assert_string_equal(r.sni, "kubernetes.default.svc");
    assert_string_equal(r.host, host);

    /* A name the certificate does not carry is refused. */
    free(cfg.tls_server_name);
    cfg.tls_server_name = xdup("wrong.example");
    expect_transport_error(&cfg, CURLE_PEER_FAILED_VERIFICATION);
    hnp_kube_config_clear(&cfg);

    /* A server given by name (CURLOPT_CONNECT_TO), with a path prefix and trailing slash. */
    config_for(&cfg, s, "t");
    free(cfg.server);
    char server[64];
    snprintf(server, sizeof(server), "https://localhost:%u/", s->port);
    cfg.server = xdup(server);
    cfg.tls_server_name = xdup("kubernetes.default.svc");
    expect_ok(&cfg);
    r = server_record(s);
    assert_string_equal(r.sni, "kubernetes.default.svc");
    assert_string_equal(r.path, "/ok");
    assert_int_equal(r.requests, 2);
    hnp_kube_config_clear(&cfg);
    server_stop(s);
}

/* ------------------------------------------------------------------------------------------ */
/* Configurations end to end, token rotation                                                   */

static char *make_temp_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *path = malloc(4096);
    assert_non_null(path);
    snprintf(path, 4096, "%s/hnp-kube-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(path));
    return path;
}

static void test_in_cluster_end_to_end(void **state)
{
    (void)state;
    struct server *s = server_start(false);
    char *dir = make_temp_dir();
    char token[4200], ca[4200], port[16];
    snprintf(token, sizeof(token), "%s/token", dir);
    snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
    snprintf(port, sizeof(port), "%u", s->port);
    write_file(token, "in-cluster-token\n");
    char *pem = hnp_test_read_file("kube/certs/ca.crt", NULL);
    write_file(ca, pem);
    free(pem);

    struct hnp_kube_env env = {"127.0.0.1", port, NULL, dir};
    struct hnp_kube_config cfg;
    struct hnp_error err = {0};
    assert_int_equal(hnp_kube_config_in_cluster(&env, &cfg, &err), HNP_OK);
    expect_ok(&cfg);
    struct record r = server_record(s);
    assert_string_equal(r.authorization, "Bearer in-cluster-token");
    assert_string_equal(r.sni, "kubernetes.default.svc");
    hnp_kube_config_clear(&cfg);

    remove(token);
    remove(ca);
    rmdir(dir);
    free(dir);
    server_stop(s);
}

static void test_kubeconfig_end_to_end(void **state)
{
    (void)state;
    struct server *s = server_start(true);
    char *dir = make_temp_dir();
    char path[4200], text[8192];
    snprintf(path, sizeof(path), "%s/config", dir);
    char *ca = hnp_test_read_file("kube/data.yaml", NULL);
    /* data.yaml with this server's port (its CA, client certificate and key as data). */
    char *at = strstr(ca, "https://127.0.0.1:41234");
    assert_non_null(at);
    snprintf(text, sizeof(text), "%.*shttps://127.0.0.1:%u%s", (int)(at - ca), ca, s->port,
             at + strlen("https://127.0.0.1:41234"));
    free(ca);
    write_file(path, text);

    struct hnp_kube_config cfg;
    struct hnp_error err = {0};
    assert_int_equal(hnp_kube_config_from_kubeconfig(path, NULL, &cfg, &err), HNP_OK);
    expect_ok(&cfg);
    assert_string_equal(server_record(s).peer_cn, "hnsnetpol-test-client");
    hnp_kube_config_clear(&cfg);

    remove(path);
    rmdir(dir);
    free(dir);
    server_stop(s);
}

static enum hnp_err count_line(const char *line, size_t len, void *ctx)
{
    (void)line;
    (void)len;
    (*(int *)ctx)++;
    return HNP_OK;
}

static void test_token_rotation(void **state)
{
    (void)state;
    struct server *s = server_start(false);
    char *dir = make_temp_dir();
    char token[4200];
    snprintf(token, sizeof(token), "%s/token", dir);
    write_file(token, "  tok-1\r\n");

    struct hnp_kube_config cfg;
    config_for(&cfg, s, "static-token-loses");
    cfg.token_file = xdup(token);
    struct hnp_kube_client *c = client_for(&cfg);
    struct hnp_error err = {0};
    long status;
    assert_int_equal(get(c, "/ok", &status, &err), HNP_OK);
    assert_string_equal(server_record(s).authorization, "Bearer tok-1");

    /* Rotated; not yet 60 s old: the token in use stays. */
    write_file(token, "tok-2\n");
    assert_int_equal(get(c, "/ok", &status, &err), HNP_OK);
    assert_string_equal(server_record(s).authorization, "Bearer tok-1");

    /* Old enough: re-read. */
    hnp_kube_client_set_token_reread_ms(c, 0);
    assert_int_equal(get(c, "/ok", &status, &err), HNP_OK);
    assert_string_equal(server_record(s).authorization, "Bearer tok-2");

    /* Gone or empty: the last good token is kept, and a 401 says why the re-read failed. */
    remove(token);
    assert_int_equal(get(c, "/ok", &status, &err), HNP_OK);
    assert_string_equal(server_record(s).authorization, "Bearer tok-2");
    int lines = 0;
    assert_int_equal(hnp_kube_stream(c, "/status/401", count_line, &lines, NULL, 0, 0, &err),
                     HNP_ERR_AUTH);
    assert_contains(err.message, "HTTP 401: test says 401 (cannot read token file");
    assert_null(strstr(err.message, "tok-2"));
    write_file(token, " \n");
    assert_int_equal(get(c, "/ok", &status, &err), HNP_OK);
    assert_string_equal(server_record(s).authorization, "Bearer tok-2");
    assert_int_equal(hnp_kube_stream(c, "/status/403", count_line, &lines, NULL, 0, 0, &err),
                     HNP_ERR_AUTH);
    assert_contains(err.message, "token: empty)");
    write_file(token, "tok-3");
    assert_int_equal(get(c, "/ok", &status, &err), HNP_OK);
    assert_string_equal(server_record(s).authorization, "Bearer tok-3");
    assert_int_equal(lines, 0);

    hnp_kube_client_free(c);
    hnp_kube_config_clear(&cfg);
    remove(token);
    rmdir(dir);
    free(dir);
    server_stop(s);
}

/* ------------------------------------------------------------------------------------------ */
/* Streams                                                                                     */

struct lines {
    json_t *seen; /* array of strings */
    volatile int *stop_on_first;
    long long stopped_at;
    size_t fail_at; /* return HNP_ERR_PARSE for this line (1-based); 0 = never */
};

static enum hnp_err collect_line(const char *line, size_t len, void *ctx)
{
    struct lines *l = ctx;
    json_array_append_new(l->seen, json_stringn(line, len));
    if (l->stop_on_first != NULL && json_array_size(l->seen) == 1) {
        *l->stop_on_first = 1;
        l->stopped_at = now_ms();
    }
    if (l->fail_at != 0 && json_array_size(l->seen) == l->fail_at)
        return HNP_ERR_PARSE;
    return HNP_OK;
}

static void assert_lines(const struct lines *l, const char *expected_json)
{
    json_t *expected = hnp_test_json(expected_json);
    if (!json_equal(expected, l->seen)) {
        char *got = json_dumps(l->seen, JSON_COMPACT);
        fail_msg("lines %s, expected %s", got, expected_json);
    }
    json_decref(expected);
}

static void test_stream_chunks(void **state)
{
    (void)state;
    struct server *s = server_start(false);
    struct hnp_kube_config cfg;
    config_for(&cfg, s, "t");
    struct hnp_kube_client *c = client_for(&cfg);
    struct hnp_error err = {0};
    struct lines l = {json_array(), NULL, 0, 0};
    assert_int_equal(
        hnp_kube_stream(c, "/watch/chunks?watch=1", collect_line, &l, NULL, 0, 0, &err), HNP_OK);
    assert_lines(&l, "[\"{\\\"a\\\":1}\",\"{\\\"b\\\":2}\",\"{\\\"c\\\":3}\",\"{\\\"d\\\":4}\","
                     "\"{\\\"e\\\":5}\"]");
    struct record r = server_record(s);
    assert_string_equal(r.path, "/watch/chunks?watch=1");
    assert_string_equal(r.authorization, "Bearer t");

    /* A handler error ends the stream with that error. */
    json_array_clear(l.seen);
    l.fail_at = 2;
    assert_int_equal(hnp_kube_stream(c, "/watch/chunks", collect_line, &l, NULL, 0, 0, &err),
                     HNP_ERR_PARSE);
    assert_int_equal(json_array_size(l.seen), 2);
    assert_contains(err.message, "HNP_ERR_PARSE");

    json_decref(l.seen);
    hnp_kube_client_free(c);
    hnp_kube_config_clear(&cfg);
    server_stop(s);
}

static void test_stream_stop_and_idle(void **state)
{
    (void)state;
    struct server *s = server_start(false);
    struct hnp_kube_config cfg;
    config_for(&cfg, s, "t");
    struct hnp_kube_client *c = client_for(&cfg);
    struct hnp_error err = {0};

    /* The first line sets the stop flag; then the server says nothing (for 20 s). */
    volatile int stop = 0;
    struct lines l = {json_array(), &stop, 0, 0};
    assert_int_equal(hnp_kube_stream(c, "/watch/silent", collect_line, &l, &stop, 0, 0, &err),
                     HNP_ERR_STOPPED);
    long long took = now_ms() - l.stopped_at;
    /*
     * The contract is 250 ms. The bound leaves room for valgrind on a busy
     * two-core machine and still proves the point: the server stays silent
     * for 20 s, so without the stop flag this would take at least that.
     */
    if (took > 8000)
        fail_msg("stopping took %lld ms", took);
    assert_int_equal(json_array_size(l.seen), 1);

    /* The client's own stop flag serves when the call passes none. */
    stop = 0;
    json_array_clear(l.seen);
    hnp_kube_client_set_stop(c, &stop);
    assert_int_equal(hnp_kube_stream(c, "/watch/silent", collect_line, &l, NULL, 0, 0, &err),
                     HNP_ERR_STOPPED);
    assert_int_equal(json_array_size(l.seen), 1);
    hnp_kube_client_set_stop(c, NULL);

    /* Idle timeout. */
    json_array_clear(l.seen);
    l.stop_on_first = NULL;
    long long start = now_ms();
    assert_int_equal(hnp_kube_stream(c, "/watch/silent", collect_line, &l, NULL, 0, 300, &err),
                     HNP_ERR_TIMEOUT);
    assert_true(now_ms() - start >= 300);
    assert_contains(err.message, "nothing received for 300 ms");
    assert_int_equal(json_array_size(l.seen), 1);

    json_decref(l.seen);
    hnp_kube_client_free(c);
    hnp_kube_config_clear(&cfg);
    server_stop(s);
}

static void test_stream_statuses(void **state)
{
    (void)state;
    struct server *s = server_start(false);
    struct hnp_kube_config cfg;
    config_for(&cfg, s, "secret-token-3");
    struct hnp_kube_client *c = client_for(&cfg);
    static const struct {
        const char *path;
        enum hnp_err code;
        long status;
    } cases[] = {
        {"/status/410", HNP_ERR_GONE, 410}, {"/status/401", HNP_ERR_AUTH, 401},
        {"/status/403", HNP_ERR_AUTH, 403}, {"/status/500", HNP_ERR_HTTP, 500},
        {"/status/404", HNP_ERR_HTTP, 404},
    };
    /* Each case by line (a watch) and in raw pieces (a LIST): the same codes and messages. */
    for (size_t k = 0; k < 2 * sizeof(cases) / sizeof(cases[0]); k++) {
        size_t i = k / 2;
        struct hnp_error err = {0};
        int calls = 0;
        enum hnp_err rc =
            k % 2 ? hnp_kube_stream_raw(c, cases[i].path, count_line, &calls, NULL, 0, &err)
                  : hnp_kube_stream(c, cases[i].path, count_line, &calls, NULL, 0, 0, &err);
        assert_int_equal(rc, cases[i].code);
        assert_int_equal(err.code, cases[i].status);
        assert_int_equal(err.code_kind, HNP_CODE_HTTP_STATUS);
        char text[64];
        snprintf(text, sizeof(text), "HTTP %ld: test says %ld", cases[i].status, cases[i].status);
        assert_contains(err.message, text);
        assert_null(strstr(err.message, "secret-token-3"));
        assert_int_equal(calls, 0); /* an error body is not watch events, nor a list */
    }
    hnp_kube_client_free(c);
    hnp_kube_config_clear(&cfg);
    server_stop(s);
}

static void test_stream_max_line(void **state)
{
    (void)state;
    struct server *s = server_start(false);
    struct hnp_kube_config cfg;
    config_for(&cfg, s, "t");
    struct hnp_kube_client *c = client_for(&cfg);
    struct hnp_error err = {0};
    struct lines l = {json_array(), NULL, 0, 0};
    assert_int_equal(hnp_kube_stream(c, "/watch/long", collect_line, &l, NULL, 1000, 0, &err),
                     HNP_ERR_LIMIT);
    assert_contains(err.message, "longer than 1000 bytes");
    assert_lines(&l, "[\"{\\\"short\\\":1}\"]");
    /* Allowed, it arrives whole. */
    json_array_clear(l.seen);
    assert_int_equal(hnp_kube_stream(c, "/watch/long", collect_line, &l, NULL, 5000, 0, &err),
                     HNP_OK);
    assert_int_equal(json_array_size(l.seen), 2);
    assert_int_equal(json_string_length(json_array_get(l.seen, 1)), 5000);
    json_decref(l.seen);
    hnp_kube_client_free(c);
    hnp_kube_config_clear(&cfg);
    server_stop(s);
}

/* What hnp_kube_stream_raw() handed over: the pieces, concatenated. */
struct pieces {
    char *data;
    size_t len;
    size_t count;
    volatile int *stop_on_first;
    enum hnp_err fail_with; /* returned for the first piece when not HNP_OK */
};

static enum hnp_err collect_piece(const char *bytes, size_t len, void *ctx)
{
    struct pieces *p = ctx;
    assert_true(len > 0);
    char *bigger = realloc(p->data, p->len + len + 1);
    assert_non_null(bigger);
    memcpy(bigger + p->len, bytes, len);
    p->data = bigger;
    p->len += len;
    p->data[p->len] = '\0';
    p->count++;
    if (p->stop_on_first != NULL)
        *p->stop_on_first = 1;
    return p->fail_with;
}

static void pieces_clear(struct pieces *p)
{
    free(p->data);
    memset(p, 0, sizeof(*p));
}

/*
 * The raw stream: the pieces concatenate to the body, lines and all (no
 * splitting, no line cap); handler errors, stop and idle timeout as for
 * hnp_kube_stream() (statuses: test_stream_statuses).
 */
static void test_stream_raw(void **state)
{
    (void)state;
    struct server *s = server_start(false);
    struct hnp_kube_config cfg;
    config_for(&cfg, s, "t");
    struct hnp_kube_client *c = client_for(&cfg);
    struct hnp_error err = {0};
    struct pieces p = {0};

    assert_int_equal(
        hnp_kube_stream_raw(c, "/watch/chunks?limit=1", collect_piece, &p, NULL, 0, &err), HNP_OK);
    char body[256] = "";
    for (size_t i = 0; i < sizeof(watch_pieces) / sizeof(watch_pieces[0]); i++)
        strcat(body, watch_pieces[i]);
    assert_string_equal(p.data, body);
    assert_string_equal(server_record(s).path, "/watch/chunks?limit=1");
    pieces_clear(&p);

    /* A 5,000-byte line: no cap here (the caller's handler keeps its own). */
    assert_int_equal(hnp_kube_stream_raw(c, "/watch/long", collect_piece, &p, NULL, 0, &err),
                     HNP_OK);
    assert_int_equal(p.len, 12 + 5001);
    assert_memory_equal(p.data, "{\"short\":1}\nyyy", 15);
    pieces_clear(&p);

    /* The handler's error ends the stream. */
    p.fail_with = HNP_ERR_LIMIT;
    assert_int_equal(hnp_kube_stream_raw(c, "/watch/long", collect_piece, &p, NULL, 0, &err),
                     HNP_ERR_LIMIT);
    assert_int_equal(p.count, 1);
    assert_contains(err.message, "GET /watch/long: the body handler returned HNP_ERR_LIMIT");
    pieces_clear(&p);

    /* Stop: the first piece sets the flag, then the server is silent for 20 s. */
    volatile int stop = 0;
    p.stop_on_first = &stop;
    long long start = now_ms();
    assert_int_equal(hnp_kube_stream_raw(c, "/watch/silent", collect_piece, &p, &stop, 0, &err),
                     HNP_ERR_STOPPED);
    if (now_ms() - start > 8000) /* see test_stream_stop_and_idle */
        fail_msg("stopping took %lld ms", now_ms() - start);
    assert_string_equal(p.data, "{\"type\":\"ADDED\"}\n");
    assert_contains(err.message, "GET /watch/silent: stopped");
    pieces_clear(&p);

    /* Idle timeout. */
    start = now_ms();
    assert_int_equal(hnp_kube_stream_raw(c, "/watch/silent", collect_piece, &p, NULL, 300, &err),
                     HNP_ERR_TIMEOUT);
    assert_true(now_ms() - start >= 300);
    assert_contains(err.message, "nothing received for 300 ms");
    assert_int_equal(p.count, 1);
    pieces_clear(&p);

    hnp_kube_client_free(c);
    hnp_kube_config_clear(&cfg);
    server_stop(s);
}

/* ------------------------------------------------------------------------------------------ */
/* Line buffer                                                                                 */

static const char split_input[] = "alpha\nbeta\r\n\n\r\ngamma delta\n{\"x\":1}\nlast";
static const char split_expected[] =
    "[\"alpha\",\"beta\",\"gamma delta\",\"{\\\"x\\\":1}\",\"last\"]";

static void test_line_buffer_every_split(void **state)
{
    (void)state;
    size_t n = strlen(split_input);
    for (size_t i = 0; i <= n; i++) {
        for (size_t j = i; j <= n; j++) {
            struct hnp_line_buffer lb;
            hnp_line_buffer_init(&lb, 64);
            struct lines l = {json_array(), NULL, 0, 0};
            /* Exact-size heap copies, so a read past a piece is caught by ASan / valgrind. */
            const size_t cuts[4] = {0, i, j, n};
            for (int k = 0; k < 3; k++) {
                size_t len = cuts[k + 1] - cuts[k];
                char *piece = malloc(len ? len : 1);
                assert_non_null(piece);
                memcpy(piece, split_input + cuts[k], len);
                assert_int_equal(hnp_line_buffer_feed(&lb, piece, len, collect_line, &l), HNP_OK);
                free(piece);
            }
            assert_int_equal(hnp_line_buffer_finish(&lb, collect_line, &l), HNP_OK);
            assert_lines(&l, split_expected);
            assert_int_equal(lb.len, 0);
            json_decref(l.seen);
            hnp_line_buffer_free(&lb);
        }
    }
}

static void test_line_buffer_one_byte_chunks(void **state)
{
    (void)state;
    struct hnp_line_buffer lb;
    hnp_line_buffer_init(&lb, 0);
    assert_int_equal(lb.max_line, (size_t)16 << 20);
    struct lines l = {json_array(), NULL, 0, 0};
    for (size_t i = 0; split_input[i] != '\0'; i++)
        assert_int_equal(hnp_line_buffer_feed(&lb, split_input + i, 1, collect_line, &l), HNP_OK);
    assert_int_equal(json_array_size(l.seen), 4); /* "last" is still pending */
    assert_int_equal(hnp_line_buffer_finish(&lb, collect_line, &l), HNP_OK);
    assert_lines(&l, split_expected);
    /* Finishing again, or an empty stream: nothing. */
    assert_int_equal(hnp_line_buffer_finish(&lb, collect_line, &l), HNP_OK);
    assert_int_equal(json_array_size(l.seen), 5);
    json_decref(l.seen);
    hnp_line_buffer_free(&lb);
    hnp_line_buffer_free(NULL);
}

/* Feed text to a fresh buffer with max_line, in chunks of step bytes; returns the first error. */
static enum hnp_err feed_all(const char *text, size_t max_line, size_t step, struct lines *l)
{
    struct hnp_line_buffer lb;
    hnp_line_buffer_init(&lb, max_line);
    enum hnp_err rc = HNP_OK;
    size_t n = strlen(text);
    for (size_t off = 0; off < n && rc == HNP_OK; off += step)
        rc =
            hnp_line_buffer_feed(&lb, text + off, n - off < step ? n - off : step, collect_line, l);
    if (rc == HNP_OK)
        rc = hnp_line_buffer_finish(&lb, collect_line, l);
    hnp_line_buffer_free(&lb);
    return rc;
}

static void test_line_buffer_cap(void **state)
{
    (void)state;
    static const size_t steps[] = {1, 2, 3, 100};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        size_t step = steps[i];
        struct lines l = {json_array(), NULL, 0, 0};
        /* Exactly max_line, also with CRLF and at the end without newline. */
        assert_int_equal(feed_all("12345\n12345\r\nab\n12345", 5, step, &l), HNP_OK);
        assert_lines(&l, "[\"12345\",\"12345\",\"ab\",\"12345\"]");
        json_array_clear(l.seen);
        /* One more is too long, wherever it is. */
        assert_int_equal(feed_all("ab\n123456\ncd\n", 5, step, &l), HNP_ERR_LIMIT);
        assert_lines(&l, "[\"ab\"]");
        json_array_clear(l.seen);
        assert_int_equal(feed_all("123456\r\n", 5, step, &l), HNP_ERR_LIMIT);
        assert_int_equal(feed_all("ab\n1234567890", 5, step, &l), HNP_ERR_LIMIT);
        assert_int_equal(feed_all("123456", 5, step, &l), HNP_ERR_LIMIT); /* at finish */
        assert_lines(&l, "[\"ab\"]");
        json_decref(l.seen);
    }
    /* A line that never ends fails as soon as it is too long, not at its end. */
    struct hnp_line_buffer lb;
    hnp_line_buffer_init(&lb, 5);
    struct lines l = {json_array(), NULL, 0, 0};
    assert_int_equal(hnp_line_buffer_feed(&lb, "123", 3, collect_line, &l), HNP_OK);
    assert_int_equal(hnp_line_buffer_feed(&lb, "456", 3, collect_line, &l), HNP_OK); /* \r room */
    assert_int_equal(hnp_line_buffer_feed(&lb, "7", 1, collect_line, &l), HNP_ERR_LIMIT);
    assert_int_equal(lb.len, 0); /* dropped */
    assert_true(lb.cap <= 6);
    /* The buffer can be fed again afterwards. */
    assert_int_equal(hnp_line_buffer_feed(&lb, "ok\n", 3, collect_line, &l), HNP_OK);
    assert_lines(&l, "[\"ok\"]");
    json_decref(l.seen);
    hnp_line_buffer_free(&lb);
}

static void test_line_buffer_shrinks(void **state)
{
    (void)state;
    size_t big = (size_t)300 * 1024;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, 'z', big);
    struct hnp_line_buffer lb;
    hnp_line_buffer_init(&lb, 1 << 20);
    struct lines l = {json_array(), NULL, 0, 0};
    /* A big line in two pieces has to be carried over. */
    assert_int_equal(hnp_line_buffer_feed(&lb, "x\n", 2, collect_line, &l), HNP_OK);
    assert_int_equal(lb.cap, 0); /* whole lines are never copied */
    assert_int_equal(hnp_line_buffer_feed(&lb, text, big / 2, collect_line, &l), HNP_OK);
    assert_int_equal(hnp_line_buffer_feed(&lb, text + big / 2, big - big / 2, collect_line, &l),
                     HNP_OK);
    assert_true(lb.cap >= big);
    assert_int_equal(hnp_line_buffer_feed(&lb, "\nsmall", 6, collect_line, &l), HNP_OK);
    assert_int_equal(json_array_size(l.seen), 2);
    assert_int_equal(json_string_length(json_array_get(l.seen, 1)), big);
    /* Given back; only the small pending line is held. */
    assert_true(lb.cap <= (size_t)64 * 1024);
    assert_int_equal(lb.len, 5);
    assert_int_equal(hnp_line_buffer_finish(&lb, collect_line, &l), HNP_OK);
    assert_string_equal(json_string_value(json_array_get(l.seen, 2)), "small");
    json_decref(l.seen);
    hnp_line_buffer_free(&lb);
    free(text);
}

static void test_line_buffer_callback_error(void **state)
{
    (void)state;
    struct hnp_line_buffer lb;
    hnp_line_buffer_init(&lb, 100);
    struct lines l = {json_array(), NULL, 0, 2};
    assert_int_equal(hnp_line_buffer_feed(&lb, "a\nb\nc\nd", 7, collect_line, &l), HNP_ERR_PARSE);
    assert_lines(&l, "[\"a\",\"b\"]"); /* the rest is not looked at */
    assert_int_equal(lb.len, 0);
    json_decref(l.seen);
    hnp_line_buffer_free(&lb);
}

static int group_setup(void **state)
{
    (void)state;
    /* The test server is on loopback: no proxy from the environment. */
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    OPENSSL_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_buffer_every_split),
        cmocka_unit_test(test_line_buffer_one_byte_chunks),
        cmocka_unit_test(test_line_buffer_cap),
        cmocka_unit_test(test_line_buffer_shrinks),
        cmocka_unit_test(test_line_buffer_callback_error),
        cmocka_unit_test(test_client_new_errors),
        cmocka_unit_test(test_request_json_and_headers),
        cmocka_unit_test(test_request_methods_and_bodies),
        cmocka_unit_test(test_request_statuses_and_limit),
        cmocka_unit_test(test_request_stop),
        cmocka_unit_test(test_transport_error),
        cmocka_unit_test(test_server_verification),
        cmocka_unit_test(test_client_certificate),
        cmocka_unit_test(test_tls_server_name),
        cmocka_unit_test(test_in_cluster_end_to_end),
        cmocka_unit_test(test_kubeconfig_end_to_end),
        cmocka_unit_test(test_token_rotation),
        cmocka_unit_test(test_stream_chunks),
        cmocka_unit_test(test_stream_stop_and_idle),
        cmocka_unit_test(test_stream_statuses),
        cmocka_unit_test(test_stream_max_line),
        cmocka_unit_test(test_stream_raw),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
