/*
 * http_server.c - the agent's HTTP listener: /metrics, /healthz, /readyz,
 * served by libmicrohttpd from one internal polling thread.
 *
 * Requests are answered on their first callback (no request body is ever
 * needed), so a slow or hostile client costs at most one of a few
 * connection slots until its idle timeout. libmicrohttpd's own messages go
 * to hnp_log, except while starting, when the first one is kept to explain
 * a failure (a port already in use, ...).
 */

/* getaddrinfo() and struct addrinfo are POSIX, hidden by -std=c11 otherwise. */
#define _POSIX_C_SOURCE 200809L

#include "http_server.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <microhttpd.h>
#include <pthread.h>

/*
 * microhttpd.h brings the socket API in with winsock on Windows; with POSIX
 * sockets (its own MHD_POSIX_SOCKETS) the address types and getaddrinfo()
 * need these. Testing MHD's macro keeps _WIN32 out of this file.
 */
#if defined(MHD_POSIX_SOCKETS)
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#include "log.h"
#include "hnsnetpol/rangeset.h"

#define MAX_CONNECTIONS 16u
#define CONNECTION_TIMEOUT_S 10u
#define REASON_MAX 256

#define TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define TYPE_TEXT "text/plain; charset=utf-8"

struct hnp_http_server {
    struct MHD_Daemon *daemon;
    struct hnp_metrics *metrics;
    hnp_ready_fn ready;
    void *ready_ctx;
    unsigned port;
    pthread_mutex_t lock; /* guards starting and start_error */
    bool starting;
    char start_error[256];
};

/* libmicrohttpd's diagnostics (the attribute tells compilers fmt is its format). */
static void mhd_logger(void *cls, const char *fmt, va_list ap) HNP_PRINTF(2, 0);

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    struct hnp_http_server *s = cls;
    char text[256];
    vsnprintf(text, sizeof(text), fmt, ap);
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        text[--n] = '\0';

    pthread_mutex_lock(&s->lock);
    bool starting = s->starting;
    if (starting && s->start_error[0] == '\0')
        snprintf(s->start_error, sizeof(s->start_error), "%s", text);
    pthread_mutex_unlock(&s->lock);
    if (!starting)
        hnp_log(HNP_LOG_WARN, "metrics listener", "error", text, NULL);
}

static void free_body(void *body)
{
    free(body);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (ok == MHD_YES && status == MHD_HTTP_METHOD_NOT_ALLOWED)
        ok = MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    if (ok == MHD_YES)
        ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result reply_metrics(struct hnp_http_server *s, struct MHD_Connection *c)
{
    char *body = hnp_metrics_render(s->metrics);
    if (body == NULL)
        return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, TYPE_TEXT, "out of memory\n");
    /* Our own free: the library may use another C runtime on Windows. */
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback(strlen(body), body, free_body);
    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    enum MHD_Result ok = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, TYPE_METRICS);
    if (ok == MHD_YES)
        ok = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result reply_ready(struct hnp_http_server *s, struct MHD_Connection *c)
{
    char reason[REASON_MAX + 1];
    memset(reason, 0, sizeof(reason));
    if (s->ready == NULL || s->ready(s->ready_ctx, reason, REASON_MAX))
        return reply(c, MHD_HTTP_OK, TYPE_TEXT, "ok");
    reason[REASON_MAX] = '\0';
    for (char *p = reason; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            *p = ' ';
    }
    return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, TYPE_TEXT, reason[0] ? reason : "not ready");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
    struct hnp_http_server *s = cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, TYPE_TEXT, "method not allowed\n");
    if (strcmp(url, "/metrics") == 0)
        return reply_metrics(s, c);
    if (strcmp(url, "/healthz") == 0)
        return reply(c, MHD_HTTP_OK, TYPE_TEXT, "ok");
    if (strcmp(url, "/readyz") == 0)
        return reply_ready(s, c);
    return reply(c, MHD_HTTP_NOT_FOUND, TYPE_TEXT, "not found\n");
}

/* What a listen address names. */
struct listen_addr {
    bool any; /* ":port": every address */
    unsigned port;
    struct sockaddr_storage sa;
};

static enum hnp_err parse_addr(const char *addr, struct listen_addr *out, struct hnp_error *err)
{
    char host[128];
    const char *port_text;
    bool bracketed = false;
    memset(out, 0, sizeof(*out));
    if (addr == NULL || addr[0] == '\0')
        return hnp_error_set(err, HNP_ERR_INVALID, "metrics address",
                             "empty listen address (want HOST:PORT)");
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - addr - 1) >= sizeof(host))
            return hnp_error_set(err, HNP_ERR_INVALID, "metrics address",
                                 "\"%s\": want [IPv6]:PORT", addr);
        memcpy(host, addr + 1, (size_t)(close - addr - 1));
        host[close - addr - 1] = '\0';
        port_text = close + 2;
        bracketed = true;
    } else {
        const char *colon = strrchr(addr, ':');
        if (colon == NULL || (size_t)(colon - addr) >= sizeof(host))
            return hnp_error_set(err, HNP_ERR_INVALID, "metrics address",
                                 "\"%s\": want IPv4:PORT, [IPv6]:PORT or :PORT", addr);
        memcpy(host, addr, (size_t)(colon - addr));
        host[colon - addr] = '\0';
        if (strchr(host, ':') != NULL)
            return hnp_error_set(err, HNP_ERR_INVALID, "metrics address",
                                 "\"%s\": put an IPv6 address in brackets, as [::1]:9915", addr);
        port_text = colon + 1;
    }

    size_t digits = strspn(port_text, "0123456789");
    unsigned long port = digits > 0 && digits <= 5 ? strtoul(port_text, NULL, 10) : 70000;
    if (port_text[digits] != '\0' || port > 65535)
        return hnp_error_set(err, HNP_ERR_INVALID, "metrics address",
                             "\"%s\": the port must be a number from 0 to 65535", addr);
    out->port = (unsigned)port;
    if (host[0] == '\0' && !bracketed) {
        out->any = true;
        return HNP_OK;
    }

    /* getaddrinfo() takes legacy forms such as "127.1"; insist on a dotted quad. */
    uint32_t ipv4;
    if (!bracketed && !hnp_ipv4_parse(host, &ipv4))
        return hnp_error_set(err, HNP_ERR_INVALID, "metrics address",
                             "\"%s\": \"%s\" is not a numeric IPv4 address", addr, host);

    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = bracketed ? AF_INET6 : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    char service[8];
    snprintf(service, sizeof(service), "%u", out->port);
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, service, &hints, &res) != 0 || res == NULL ||
        res->ai_addrlen > sizeof(out->sa)) {
        if (res != NULL)
            freeaddrinfo(res);
        return hnp_error_set(err, HNP_ERR_INVALID, "metrics address",
                             "\"%s\": \"%s\" is not a numeric %s address", addr, host,
                             bracketed ? "IPv6" : "IPv4");
    }
    memcpy(&out->sa, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return HNP_OK;
}

static struct MHD_Daemon *start_daemon(struct hnp_http_server *s, unsigned flags, unsigned port,
                                       const struct sockaddr_storage *sa)
{
    pthread_mutex_lock(&s->lock);
    s->start_error[0] = '\0';
    pthread_mutex_unlock(&s->lock);
    if (sa != NULL)
        return MHD_start_daemon(flags, 0, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER,
                                mhd_logger, s, MHD_OPTION_CONNECTION_LIMIT, MAX_CONNECTIONS,
                                MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S,
                                MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)sa, MHD_OPTION_END);
    return MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s, MHD_OPTION_CONNECTION_LIMIT,
                            MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S,
                            MHD_OPTION_END);
}

enum hnp_err hnp_http_server_start(const char *addr, struct hnp_metrics *m, hnp_ready_fn ready,
                                   void *ready_ctx, struct hnp_http_server **out,
                                   struct hnp_error *err)
{
    struct listen_addr la;
    enum hnp_err rc = parse_addr(addr, &la, err);
    if (rc != HNP_OK)
        return rc;

    struct hnp_http_server *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, "metrics address", "out of memory");
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        return hnp_error_set(err, HNP_ERR_NOMEM, "metrics address", "cannot create a mutex");
    }
    s->metrics = m;
    s->ready = ready;
    s->ready_ctx = ready_ctx;
    s->starting = true;

    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (la.any) {
        /* IPv6 and IPv4 on one socket; a host without IPv6 gets IPv4 only. */
        s->daemon = start_daemon(s, flags | MHD_USE_DUAL_STACK, la.port, NULL);
        if (s->daemon == NULL)
            s->daemon = start_daemon(s, flags, la.port, NULL);
    } else {
        if (la.sa.ss_family == AF_INET6)
            flags |= MHD_USE_IPv6;
        s->daemon = start_daemon(s, flags, la.port, &la.sa);
    }

    pthread_mutex_lock(&s->lock);
    s->starting = false;
    pthread_mutex_unlock(&s->lock);
    if (s->daemon == NULL) {
        rc = hnp_error_set(err, HNP_ERR_IO, "metrics address", "cannot listen on %s: %s", addr,
                           s->start_error[0] ? s->start_error : "libmicrohttpd could not start");
        pthread_mutex_destroy(&s->lock);
        free(s);
        return rc;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info != NULL && info->port != 0 ? info->port : la.port;
    *out = s;
    return HNP_OK;
}

unsigned hnp_http_server_port(const struct hnp_http_server *s)
{
    return s != NULL ? s->port : 0;
}

void hnp_http_server_stop(struct hnp_http_server *s)
{
    if (s == NULL)
        return;
    MHD_stop_daemon(s->daemon);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
