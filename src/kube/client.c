/*
 * client.c - HTTPS requests and streamed responses (watches by line through
 * linebuf.h, LIST bodies in raw pieces) to the Kubernetes API server over
 * libcurl (see client.h).
 *
 * Each client owns one easy handle inside its own multi handle, and drives
 * every transfer itself: curl_multi_poll() with a short timeout, then a look
 * at the stop flag and the idle timer. (curl_easy_perform() would only call
 * a progress callback about once a second on a silent connection, too
 * seldom for "stop within 250 ms".) The connection stays in the multi
 * handle's cache between requests.
 *
 * The easy handle is reset before every transfer and every option set
 * again, so nothing (a POST body, a custom method) leaks from one request
 * into the next.
 *
 * Secrets: the bearer token only ever goes into the Authorization header
 * list, which is wiped before it is freed; curl's verbose mode is never
 * enabled; messages name the method and path only.
 */
#include "client.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "platform.h"
#include "text.h"

#ifndef HNP_VERSION
#define HNP_VERSION "0"
#endif

#define CONNECT_TIMEOUT_MS 10000L
#define REQUEST_TIMEOUT_MS 60000L
#define POLL_MS 100
#define DEFAULT_MAX_BODY ((size_t)64 << 20)
#define ERROR_BODY_MAX ((size_t)64 << 10)
#define TOKEN_REREAD_MS 60000L
#define MAX_TOKEN_BYTES ((size_t)64 << 10)

struct hnp_kube_client {
    struct hnp_kube_config cfg;
    CURL *easy;
    CURLM *multi;
    char *base_url;           /* server URL without trailing '/', host = tls_server_name if set */
    struct curl_slist *route; /* the CURLOPT_RESOLVE or CURLOPT_CONNECT_TO entry, or NULL */
    bool route_connect_to;
    bool pkcs12;
    char *token; /* the bearer token in use, NULL for none */
    long long token_read_at;
    long token_reread_ms;
    char token_problem[256]; /* why the last re-read of the token file failed; "" when it did not */
    const volatile int *stop;
    char errbuf[CURL_ERROR_SIZE];
};

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                     */

static void wipe(char *s, size_t len)
{
    volatile char *p = s;
    while (len-- > 0)
        *p++ = '\0';
}

static void wipe_free(char *s)
{
    if (s != NULL) {
        wipe(s, strlen(s));
        free(s);
    }
}

/* A growable byte buffer with a cap (curl's dynbuf). */
struct dynbuf {
    char *data;
    size_t len, cap, max;
};

/* Append; false when past max or out of memory (the buffer keeps what it had). */
static bool dynbuf_add(struct dynbuf *b, const char *p, size_t n)
{
    if (n > b->max - b->len)
        return false;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *data = realloc(b->data, cap);
        if (data == NULL)
            return false;
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Token                                                                                       */

/*
 * Read a token file: at most MAX_TOKEN_BYTES, surrounding white space
 * dropped, not empty. *out is new. On failure why says what went wrong
 * (never the token).
 */
static bool read_token(const char *path, char **out, char *why, size_t why_len)
{
    errno = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        snprintf(why, why_len, "cannot read token file %s: %s", path,
                 e ? strerror(e) : "unknown error");
        return false;
    }
    char *buf = malloc(MAX_TOKEN_BYTES + 1);
    if (buf == NULL) {
        fclose(f);
        snprintf(why, why_len, "out of memory reading token file %s", path);
        return false;
    }
    size_t n = fread(buf, 1, MAX_TOKEN_BYTES + 1, f);
    bool failed = ferror(f) != 0;
    fclose(f);
    const char *problem = failed                 ? "read error"
                          : n > MAX_TOKEN_BYTES  ? "larger than 64 KiB"
                          : memchr(buf, '\0', n) ? "holds a NUL byte"
                                                 : NULL;
    size_t start = 0, end = n;
    while (problem == NULL && start < end && strchr(" \t\r\n", buf[start]) != NULL)
        start++;
    while (problem == NULL && end > start && strchr(" \t\r\n", buf[end - 1]) != NULL)
        end--;
    if (problem == NULL && end == start)
        problem = "empty";
    if (problem != NULL) {
        wipe(buf, n);
        free(buf);
        snprintf(why, why_len, "token file %s: %s", path, problem);
        return false;
    }
    memmove(buf, buf + start, end - start);
    wipe(buf + (end - start), n - (end - start));
    buf[end - start] = '\0';
    *out = buf;
    return true;
}

/* Re-read the token file when the token read from it is old enough; keep the old one on failure. */
static void refresh_token(struct hnp_kube_client *c)
{
    if (c->cfg.token_file == NULL)
        return;
    long long now = hnp_monotonic_ms();
    if (now - c->token_read_at < c->token_reread_ms)
        return;
    char *token = NULL;
    c->token_read_at = now;
    if (read_token(c->cfg.token_file, &token, c->token_problem, sizeof(c->token_problem))) {
        wipe_free(c->token);
        c->token = token;
        c->token_problem[0] = '\0';
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Client                                                                                      */

static enum hnp_err check_file(const char *path, const char *what, struct hnp_error *err)
{
    if (path == NULL)
        return HNP_OK;
    errno = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        return hnp_error_set(err, HNP_ERR_IO, path, "cannot read %s %s: %s", what, path,
                             e ? strerror(e) : "unknown error");
    }
    fclose(f);
    return HNP_OK;
}

/* An IPv4 address, or an IPv6 one in brackets, as CURLUPART_HOST gives them. */
static bool is_ip_literal(const char *host)
{
    if (host[0] == '[')
        return true;
    for (const char *p = host; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return false;
    return host[0] != '\0';
}

/*
 * Work out c->base_url and, with a tls_server_name, the route that makes
 * curl connect to the server's real address while naming the other host.
 */
static enum hnp_err plan_route(struct hnp_kube_client *c, struct hnp_error *err)
{
    const struct hnp_kube_config *cfg = &c->cfg;
    enum hnp_err rc = HNP_OK;
    char *scheme = NULL, *host = NULL, *port = NULL, *url = NULL;
    CURLU *u = curl_url();
    if (u == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    if (curl_url_set(u, CURLUPART_URL, cfg->server, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
        rc = hnp_error_set(err, HNP_ERR_INVALID, NULL, "server \"%s\" is not a valid URL",
                           cfg->server);
        goto done;
    }
    if (strcmp(scheme, "https") != 0) {
        rc = hnp_error_set(err, HNP_ERR_INVALID, NULL, "server \"%s\" is not an https:// URL",
                           cfg->server);
        goto done;
    }
    char *user = NULL;
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        /* The server URL appears in messages: it must not carry credentials. */
        curl_free(user);
        rc = hnp_error_set(err, HNP_ERR_INVALID, NULL,
                           "the server URL must not hold a user name or password");
        goto done;
    }
    if (cfg->tls_server_name != NULL) {
        if (curl_url_set(u, CURLUPART_HOST, cfg->tls_server_name, 0) != CURLUE_OK) {
            rc = hnp_error_set(err, HNP_ERR_INVALID, NULL,
                               "tls-server-name \"%s\" is not a host name", cfg->tls_server_name);
            goto done;
        }
        size_t n = strlen(cfg->tls_server_name) + strlen(host) + 2 * strlen(port) + 4;
        char *entry = malloc(n);
        if (entry == NULL) {
            rc = HNP_ERR_NOMEM;
            goto done;
        }
        /* An address: pin the name to it (CURLOPT_RESOLVE, checked with Schannel too).
         * A name: let curl resolve it but talk to it as tls_server_name (CURLOPT_CONNECT_TO). */
        c->route_connect_to = !is_ip_literal(host);
        if (c->route_connect_to)
            snprintf(entry, n, "%s:%s:%s:%s", cfg->tls_server_name, port, host, port);
        else
            snprintf(entry, n, "%s:%s:%s", cfg->tls_server_name, port, host);
        c->route = curl_slist_append(NULL, entry);
        free(entry);
        if (c->route == NULL) {
            rc = HNP_ERR_NOMEM;
            goto done;
        }
    }
    if (curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
        rc = hnp_error_set(err, HNP_ERR_INVALID, NULL, "server \"%s\" is not a valid URL",
                           cfg->server);
        goto done;
    }
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    c->base_url = malloc(len + 1);
    if (c->base_url == NULL) {
        rc = HNP_ERR_NOMEM;
        goto done;
    }
    memcpy(c->base_url, url, len);
    c->base_url[len] = '\0';
done:
    if (rc == HNP_ERR_NOMEM)
        hnp_error_set(err, rc, NULL, "out of memory");
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(url);
    curl_url_cleanup(u);
    return rc;
}

enum hnp_err hnp_kube_client_new(const struct hnp_kube_config *cfg, struct hnp_kube_client **out,
                                 struct hnp_error *err)
{
    hnp_error_clear(err);
    if (cfg->server == NULL)
        return hnp_error_set(err, HNP_ERR_INVALID, NULL, "no API server given");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return hnp_error_set(err, HNP_ERR_HTTP, NULL, "libcurl initialisation failed");
    struct hnp_kube_client *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        curl_global_cleanup();
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    }
    c->token_reread_ms = TOKEN_REREAD_MS;
    enum hnp_err rc = hnp_kube_config_copy(&c->cfg, cfg);
    if (rc != HNP_OK) {
        hnp_error_set(err, rc, NULL, "out of memory");
        goto fail;
    }
    if ((rc = plan_route(c, err)) != HNP_OK)
        goto fail;
    if ((rc = check_file(cfg->ca_pem ? NULL : cfg->ca_file, "certificate-authority", err)) !=
            HNP_OK ||
        (rc = check_file(cfg->client_cert_pem ? NULL : cfg->client_cert_file, "client-certificate",
                         err)) != HNP_OK ||
        (rc = check_file(cfg->client_key_pem ? NULL : cfg->client_key_file, "client-key", err)) !=
            HNP_OK)
        goto fail;
    c->pkcs12 = cfg->client_cert_pem == NULL && cfg->client_cert_file != NULL &&
                hnp_kube_is_pkcs12(cfg->client_cert_file);
    if (cfg->token_file != NULL) {
        char why[sizeof(c->token_problem)];
        if (!read_token(cfg->token_file, &c->token, why, sizeof(why))) {
            rc = hnp_error_set(err, HNP_ERR_IO, cfg->token_file, "%s", why);
            goto fail;
        }
        c->token_read_at = hnp_monotonic_ms();
    } else if (cfg->token != NULL && (c->token = hnp_strdup(cfg->token)) == NULL) {
        rc = hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
        goto fail;
    }
    c->easy = curl_easy_init();
    c->multi = curl_multi_init();
    if (c->easy == NULL || c->multi == NULL) {
        rc = hnp_error_set(err, HNP_ERR_NOMEM, NULL, "cannot create a libcurl handle");
        goto fail;
    }
    *out = c;
    return HNP_OK;
fail:
    hnp_kube_client_free(c);
    return rc;
}

void hnp_kube_client_free(struct hnp_kube_client *client)
{
    if (client == NULL)
        return;
    if (client->easy != NULL)
        curl_easy_cleanup(client->easy);
    if (client->multi != NULL)
        curl_multi_cleanup(client->multi);
    curl_slist_free_all(client->route);
    free(client->base_url);
    wipe_free(client->token);
    hnp_kube_config_clear(&client->cfg);
    free(client);
    curl_global_cleanup();
}

void hnp_kube_client_set_stop(struct hnp_kube_client *client, const volatile int *stop)
{
    client->stop = stop;
}

void hnp_kube_client_set_token_reread_ms(struct hnp_kube_client *client, long ms)
{
    client->token_reread_ms = ms < 0 ? 0 : ms;
}

/* ------------------------------------------------------------------------------------------ */
/* One transfer                                                                                */

/* What a transfer collects; the write callbacks fill it. */
struct xfer {
    CURL *easy;
    long status;         /* read at the first body byte */
    enum hnp_err abort;  /* why a write callback stopped the transfer */
    long long last_data; /* ms, for the idle timeout */
    /* hnp_kube_request */
    struct dynbuf body;
    /* hnp_kube_stream (lines) and hnp_kube_stream_raw (raw: pieces as curl delivers them) */
    bool raw;
    struct hnp_line_buffer lines;
    hnp_kube_line_fn fn;
    void *ctx;
    struct dynbuf error_body; /* a non-2xx body, for its Status message */
};

static size_t collect_body(char *p, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    if (!dynbuf_add(&x->body, p, len)) {
        x->abort = x->body.len + len > x->body.max ? HNP_ERR_LIMIT : HNP_ERR_NOMEM;
        return 0;
    }
    return len;
}

static size_t stream_body(char *p, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    x->last_data = hnp_monotonic_ms();
    if (x->status == 0)
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
    if (x->status < 200 || x->status > 299) {
        /* Keep the start of an error body; drop the rest. */
        size_t room = x->error_body.max - x->error_body.len;
        dynbuf_add(&x->error_body, p, len < room ? len : room);
        return len;
    }
    if (len == 0)
        return 0;
    enum hnp_err rc =
        x->raw ? x->fn(p, len, x->ctx) : hnp_line_buffer_feed(&x->lines, p, len, x->fn, x->ctx);
    if (rc != HNP_OK) {
        x->abort = rc;
        return 0;
    }
    return len;
}

/* Set every option of a transfer to path. *headers receives the header list (free with
 * free_headers). */
static enum hnp_err prepare(struct hnp_kube_client *c, const char *method, const char *path,
                            const char *content_type, struct curl_slist **headers,
                            struct hnp_error *err)
{
    const struct hnp_kube_config *cfg = &c->cfg;
    CURL *h = c->easy;
    curl_easy_reset(h);
    c->errbuf[0] = '\0';

    size_t n = strlen(c->base_url) + strlen(path) + 1;
    char *url = malloc(n);
    if (url == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    snprintf(url, n, "%s%s", c->base_url, path);
    CURLcode cc = curl_easy_setopt(h, CURLOPT_URL, url);
    free(url);
    if (cc != CURLE_OK)
        return hnp_error_set(err, HNP_ERR_INVALID, path, "%s %s: bad URL path", method, path);

#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "hnsnetpol/" HNP_VERSION);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 15L);
    if (c->route != NULL)
        curl_easy_setopt(h, c->route_connect_to ? CURLOPT_CONNECT_TO : CURLOPT_RESOLVE, c->route);

    /* TLS. With a CA of our own, trust it alone, not the system store as well. */
    if (cfg->insecure_skip_tls_verify) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    } else {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    if (cfg->ca_pem != NULL) {
        struct curl_blob blob = {cfg->ca_pem, strlen(cfg->ca_pem), CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
        if (curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK)
            return hnp_error_set(err, HNP_ERR_INVALID, NULL,
                                 "this libcurl cannot take certificate-authority-data; use a "
                                 "certificate-authority file");
    } else if (cfg->ca_file != NULL) {
        curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_file);
    }
    if (cfg->client_cert_pem != NULL) {
        struct curl_blob blob = {cfg->client_cert_pem, strlen(cfg->client_cert_pem),
                                 CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
        if (curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &blob) != CURLE_OK)
            return hnp_error_set(err, HNP_ERR_INVALID, NULL,
                                 "this libcurl cannot take client-certificate-data; use a "
                                 "client-certificate file");
    } else if (cfg->client_cert_file != NULL) {
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, c->pkcs12 ? "P12" : "PEM");
        curl_easy_setopt(h, CURLOPT_SSLCERT, cfg->client_cert_file);
    }
    if (cfg->client_key_pem != NULL) {
        struct curl_blob blob = {cfg->client_key_pem, strlen(cfg->client_key_pem), CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
        if (curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &blob) != CURLE_OK)
            return hnp_error_set(err, HNP_ERR_INVALID, NULL,
                                 "this libcurl (Schannel) cannot take client-key-data; use a "
                                 "client-key file or a PKCS#12 client-certificate");
    } else if (cfg->client_key_file != NULL && !c->pkcs12) {
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
        curl_easy_setopt(h, CURLOPT_SSLKEY, cfg->client_key_file);
    }

    /* Headers. */
    struct curl_slist *list = curl_slist_append(NULL, "Accept: application/json");
    char line[256];
    if (list != NULL && content_type != NULL) {
        snprintf(line, sizeof(line), "Content-Type: %s", content_type);
        struct curl_slist *more = curl_slist_append(list, line);
        list = more ? more : (curl_slist_free_all(list), NULL);
    }
    if (list != NULL) {
        /* No "Expect: 100-continue" round trip for bodies. */
        struct curl_slist *more = curl_slist_append(list, "Expect:");
        list = more ? more : (curl_slist_free_all(list), NULL);
    }
    refresh_token(c);
    if (list != NULL && c->token != NULL) {
        size_t len = strlen("Authorization: Bearer ") + strlen(c->token) + 1;
        char *auth = malloc(len);
        struct curl_slist *more = NULL;
        if (auth != NULL) {
            snprintf(auth, len, "Authorization: Bearer %s", c->token);
            more = curl_slist_append(list, auth);
            wipe(auth, len - 1);
            free(auth);
        }
        list = more ? more : (curl_slist_free_all(list), NULL);
    }
    if (list == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    *headers = list;
    return HNP_OK;
}

/* Free a header list, wiping the token in it first. */
static void free_headers(struct curl_slist *list)
{
    for (struct curl_slist *l = list; l != NULL; l = l->next)
        wipe(l->data, strlen(l->data));
    curl_slist_free_all(list);
}

enum outcome { DONE, STOPPED, IDLE };

/*
 * Run the prepared transfer to its end, or until *stop is set or nothing
 * has arrived for idle_ms (0 = no limit). *result is curl's result when DONE.
 */
static enum outcome run(struct hnp_kube_client *c, struct xfer *x, const volatile int *stop,
                        long idle_ms, CURLcode *result)
{
    enum outcome outcome = DONE;
    *result = CURLE_OK;
    x->last_data = hnp_monotonic_ms();
    if (curl_multi_add_handle(c->multi, c->easy) != CURLM_OK) {
        *result = CURLE_FAILED_INIT;
        return DONE;
    }
    for (;;) {
        int running = 0;
        if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
            *result = CURLE_FAILED_INIT;
            break;
        }
        if (running == 0)
            break;
        if (stop != NULL && *stop) {
            outcome = STOPPED;
            break;
        }
        if (idle_ms > 0 && hnp_monotonic_ms() - x->last_data >= idle_ms) {
            outcome = IDLE;
            break;
        }
        if (curl_multi_poll(c->multi, NULL, 0, POLL_MS, NULL) != CURLM_OK) {
            *result = CURLE_FAILED_INIT;
            break;
        }
    }
    int queued;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(c->multi, &queued)) != NULL)
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == c->easy)
            *result = msg->data.result;
    curl_multi_remove_handle(c->multi, c->easy);
    return outcome;
}

static enum hnp_err transport_error(struct hnp_kube_client *c, const char *method, const char *path,
                                    CURLcode cc, struct hnp_error *err)
{
    enum hnp_err rc = hnp_error_set(err, HNP_ERR_HTTP, path, "%s %s%s: %s", method, c->cfg.server,
                                    path, c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
    if (err != NULL)
        hnp_error_set_code(err, HNP_CODE_CURL, (long long)cc);
    return rc;
}

/* The "message" of a Kubernetes Status body, else the start of the body, printable, in out. */
static void status_message(const struct dynbuf *body, char *out, size_t out_len)
{
    out[0] = '\0';
    if (body->len == 0)
        return;
    json_t *json = json_loadb(body->data, body->len, 0, NULL);
    const char *msg = json_string_value(json_object_get(json, "message"));
    const char *src = msg ? msg : body->data;
    size_t len = msg ? strlen(msg) : body->len;
    size_t j = 0;
    for (size_t i = 0; i < len && j + 1 < out_len && i < 400; i++) {
        unsigned char ch = (unsigned char)src[i];
        out[j++] = (char)(ch < 0x20 || ch == 0x7f ? ' ' : ch);
    }
    out[j] = '\0';
    json_decref(json);
}

enum hnp_err hnp_kube_request(struct hnp_kube_client *client, const char *method, const char *path,
                              const json_t *body, const char *content_type, size_t max_body,
                              long *status, json_t **response, struct hnp_error *err)
{
    hnp_error_clear(err);
    char *payload = NULL;
    if (body != NULL && (payload = json_dumps(body, JSON_COMPACT)) == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, path, "cannot serialise the request body");
    struct curl_slist *headers = NULL;
    enum hnp_err rc =
        prepare(client, method, path,
                payload ? (content_type ? content_type : "application/json") : NULL, &headers, err);
    if (rc != HNP_OK) {
        free(payload);
        return rc;
    }
    CURL *h = client->easy;
    struct xfer x;
    memset(&x, 0, sizeof(x));
    x.easy = h;
    x.body.max = max_body ? max_body : DEFAULT_MAX_BODY;
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, REQUEST_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    else if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "POST") != 0 || payload == NULL)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (payload != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(payload));
        curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, payload);
    }
    free(payload);

    CURLcode cc;
    enum outcome outcome = run(client, &x, client->stop, 0, &cc);
    free_headers(headers);
    if (outcome == STOPPED)
        rc = hnp_error_set(err, HNP_ERR_STOPPED, path, "%s %s: stopped", method, path);
    else if (x.abort == HNP_ERR_LIMIT)
        rc = hnp_error_set(err, HNP_ERR_LIMIT, path, "%s %s: response larger than %zu bytes",
                           method, path, x.body.max);
    else if (x.abort != HNP_OK)
        rc = hnp_error_set(err, x.abort, path, "%s %s: out of memory", method, path);
    else if (cc != CURLE_OK)
        rc = transport_error(client, method, path, cc, err);
    if (rc == HNP_OK) {
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        *status = code;
        if (response != NULL)
            *response = x.body.len ? json_loadb(x.body.data, x.body.len, 0, NULL) : NULL;
    }
    free(x.body.data);
    return rc;
}

/*
 * hnp_kube_stream() (raw false: fn gets lines, max_line caps them) and
 * hnp_kube_stream_raw() (raw true: fn gets the body's pieces, max_line
 * unused): one transfer, one mapping of statuses and errors to codes and
 * messages.
 */
static enum hnp_err stream(struct hnp_kube_client *client, const char *path, bool raw,
                           hnp_kube_line_fn fn, void *ctx, const volatile int *stop,
                           size_t max_line, long idle_timeout_ms, struct hnp_error *err)
{
    hnp_error_clear(err);
    struct curl_slist *headers = NULL;
    enum hnp_err rc = prepare(client, "GET", path, NULL, &headers, err);
    if (rc != HNP_OK)
        return rc;
    CURL *h = client->easy;
    struct xfer x;
    memset(&x, 0, sizeof(x));
    x.easy = h;
    x.raw = raw;
    x.fn = fn;
    x.ctx = ctx;
    x.error_body.max = ERROR_BODY_MAX;
    hnp_line_buffer_init(&x.lines, max_line);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, stream_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);

    CURLcode cc;
    enum outcome outcome = run(client, &x, stop ? stop : client->stop, idle_timeout_ms, &cc);
    free_headers(headers);
    long status = x.status;
    if (status == 0)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);

    if (outcome == STOPPED) {
        rc = hnp_error_set(err, HNP_ERR_STOPPED, path, "GET %s: stopped", path);
    } else if (outcome == IDLE) {
        rc = hnp_error_set(err, HNP_ERR_TIMEOUT, path, "GET %s: nothing received for %ld ms", path,
                           idle_timeout_ms);
    } else if (x.abort == HNP_ERR_LIMIT && !raw) {
        rc = hnp_error_set(err, HNP_ERR_LIMIT, path, "GET %s: a line is longer than %zu bytes",
                           path, x.lines.max_line);
    } else if (x.abort != HNP_OK) {
        rc = hnp_error_set(err, x.abort, path, "GET %s: the %s handler returned %s", path,
                           raw ? "body" : "line", hnp_err_name(x.abort));
    } else if (cc != CURLE_OK) {
        rc = transport_error(client, "GET", path, cc, err);
    } else if (status < 200 || status > 299) {
        char msg[512];
        status_message(&x.error_body, msg, sizeof(msg));
        rc = status == 410                    ? HNP_ERR_GONE
             : status == 401 || status == 403 ? HNP_ERR_AUTH
                                              : HNP_ERR_HTTP;
        bool token_note = rc == HNP_ERR_AUTH && client->token_problem[0] != '\0';
        hnp_error_set(err, rc, path, "GET %s: HTTP %ld%s%s%s%s%s", path, status, msg[0] ? ": " : "",
                      msg, token_note ? " (" : "", token_note ? client->token_problem : "",
                      token_note ? ")" : "");
        if (err != NULL)
            hnp_error_set_code(err, HNP_CODE_HTTP_STATUS, status);
    } else if (!raw) {
        rc = hnp_line_buffer_finish(&x.lines, fn, ctx);
        if (rc == HNP_ERR_LIMIT)
            hnp_error_set(err, rc, path, "GET %s: a line is longer than %zu bytes", path,
                          x.lines.max_line);
        else if (rc != HNP_OK)
            hnp_error_set(err, rc, path, "GET %s: the line handler returned %s", path,
                          hnp_err_name(rc));
    }
    hnp_line_buffer_free(&x.lines);
    free(x.error_body.data);
    return rc;
}

enum hnp_err hnp_kube_stream(struct hnp_kube_client *client, const char *path, hnp_kube_line_fn fn,
                             void *ctx, const volatile int *stop, size_t max_line,
                             long idle_timeout_ms, struct hnp_error *err)
{
    return stream(client, path, false, fn, ctx, stop, max_line, idle_timeout_ms, err);
}

enum hnp_err hnp_kube_stream_raw(struct hnp_kube_client *client, const char *path,
                                 hnp_kube_piece_fn fn, void *ctx, const volatile int *stop,
                                 long idle_timeout_ms, struct hnp_error *err)
{
    return stream(client, path, true, fn, ctx, stop, 0, idle_timeout_ms, err);
}
