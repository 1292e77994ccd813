/*
 * http_server.h - the agent's HTTP listener: /metrics (the rendering of a
 * metrics registry, metrics.h), /healthz and /readyz, served by
 * libmicrohttpd from a background thread.
 */
#ifndef HNP_HTTP_SERVER_H
#define HNP_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "hnsnetpol/error.h"
#include "metrics.h"

/*
 * Readiness probe the server calls for /readyz, from the server's thread:
 * true when ready; when not, write a one-line reason (NUL-terminated, at most
 * reason_len bytes) into reason.
 */
typedef bool (*hnp_ready_fn)(void *ctx, char *reason, size_t reason_len);

struct hnp_http_server;

/*
 * Serve in a background thread, on addr only:
 *   GET /metrics  200, hnp_metrics_render(m), Content-Type
 *                 text/plain; version=0.0.4; charset=utf-8 (m may be NULL: empty)
 *   GET /healthz  200 "ok"
 *   GET /readyz   200 "ok" when ready(ctx) (or ready is NULL), else 503 with the reason
 *   other paths   404; methods other than GET and HEAD 405.
 * addr is "IPv4:port" ("127.0.0.1:9915", "0.0.0.0:9915"), "[IPv6]:port"
 * ("[::1]:9915") or ":port" (every address, IPv6 and IPv4 when the host has
 * IPv6); numeric addresses only. Port 0 picks a free port (see
 * hnp_http_server_port). At most 16 connections, each closed after 10 s idle.
 * m and ready_ctx are borrowed and must outlive the server. *out is new.
 * HNP_ERR_INVALID for a malformed addr, HNP_ERR_IO when the address cannot
 * be bound (err says why, e.g. the port is in use).
 */
enum hnp_err hnp_http_server_start(const char *addr, struct hnp_metrics *m, hnp_ready_fn ready,
                                   void *ready_ctx, struct hnp_http_server **out,
                                   struct hnp_error *err);
/* The port actually bound (useful with port 0). */
unsigned hnp_http_server_port(const struct hnp_http_server *s);
/* Stop serving (closing open connections, joining the thread) and free. Accepts NULL. */
void hnp_http_server_stop(struct hnp_http_server *s);

#endif /* HNP_HTTP_SERVER_H */
