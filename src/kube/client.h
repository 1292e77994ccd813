/*
 * client.h - blocking and streaming HTTPS requests to the Kubernetes API
 * server over libcurl: one request with a JSON answer, a watch streamed by
 * line, a LIST body streamed in raw pieces.
 *
 * TLS is always verified unless the configuration explicitly says
 * insecure-skip-tls-verify. Tokens, keys and certificates are never logged
 * and never put in error messages. Redirects are not followed (a redirect
 * would carry the token to another host).
 */
#ifndef HNP_CLIENT_H
#define HNP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "hnsnetpol/error.h"
#include "kubeconfig.h"
#include "linebuf.h"

struct hnp_kube_client;

/*
 * A client for cfg (deep-copied). One client per thread; it keeps its
 * connection open between requests. Reads the token file now. HNP_ERR_IO
 * when the token, CA, certificate or key file cannot be read,
 * HNP_ERR_INVALID for an unusable server URL or tls_server_name. *out is
 * new; untouched on failure.
 */
enum hnp_err hnp_kube_client_new(const struct hnp_kube_config *cfg, struct hnp_kube_client **out,
                                 struct hnp_error *err);
/* Close the connection and free. Accepts NULL. */
void hnp_kube_client_free(struct hnp_kube_client *client);

/*
 * From now on hnp_kube_request() (and hnp_kube_stream() when its own stop
 * is NULL) returns HNP_ERR_STOPPED within about 250 ms of *stop becoming
 * non-zero. stop is borrowed (NULL to forget it).
 */
void hnp_kube_client_set_stop(struct hnp_kube_client *client, const volatile int *stop);

/*
 * For tests only: how old (ms) the token read from token_file may get
 * before the next request re-reads it. Default 60000; 0 = every request.
 * A failed re-read keeps the previous token (and is named in the message
 * of a later 401/403).
 */
void hnp_kube_client_set_token_reread_ms(struct hnp_kube_client *client, long ms);

/*
 * One request, at most 60 s (connecting at most 10 s). path starts with "/"
 * and is URL-encoded ("/api/v1/pods?limit=500"). body may be NULL;
 * content_type NULL = application/json. *status receives the HTTP status;
 * *response (may be NULL) a new JSON value of the body or NULL when it is
 * not JSON. Returns HNP_OK for any HTTP status (the caller decides),
 * HNP_ERR_HTTP for transport failures (err->code = curl code, kind HNP_CODE_CURL),
 * HNP_ERR_LIMIT when the body exceeds max_body bytes (0 = 64 MiB),
 * HNP_ERR_STOPPED (see hnp_kube_client_set_stop). Outputs are untouched on
 * failure.
 */
enum hnp_err hnp_kube_request(struct hnp_kube_client *client, const char *method, const char *path,
                              const json_t *body, const char *content_type, size_t max_body,
                              long *status, json_t **response, struct hnp_error *err);

/*
 * Stream path (a watch), calling fn for every line however the bytes are
 * chunked; a last line without newline is delivered when the stream ends.
 * Returns HNP_OK when the server ends the stream, HNP_ERR_STOPPED when
 * *stop became non-zero (checked at least every 250 ms; stop NULL = the
 * client's stop, if any), HNP_ERR_LIMIT when a line exceeds max_line bytes
 * (0 = 16 MiB), HNP_ERR_GONE on HTTP 410, HNP_ERR_AUTH on 401/403,
 * HNP_ERR_HTTP on other statuses (err->code = the status, kind HNP_CODE_HTTP_STATUS; the message
 * carries the server's Status message) and transport errors (err->code =
 * the curl code, kind HNP_CODE_CURL), or what fn returned. idle_timeout_ms (0 = none) ends a
 * stream that has been silent that long with HNP_ERR_TIMEOUT. There is no
 * overall time limit: ask the server for timeoutSeconds.
 */
enum hnp_err hnp_kube_stream(struct hnp_kube_client *client, const char *path, hnp_kube_line_fn fn,
                             void *ctx, const volatile int *stop, size_t max_line,
                             long idle_timeout_ms, struct hnp_error *err);

/*
 * Called for each piece of a response body as it arrives (len > 0, not
 * NUL-terminated, cut anywhere: the pieces concatenate to the body).
 */
typedef enum hnp_err (*hnp_kube_piece_fn)(const char *bytes, size_t len, void *ctx);

/*
 * Stream path (a LIST), calling fn with the body in the pieces it arrives
 * in: no line splitting and no cap, so nothing of the body is held here; a
 * cap is fn's to enforce (it returns HNP_ERR_LIMIT, say). Returns, and sets
 * err, exactly as hnp_kube_stream() (HNP_OK when the body is complete,
 * HNP_ERR_STOPPED, HNP_ERR_TIMEOUT, HNP_ERR_GONE, HNP_ERR_AUTH,
 * HNP_ERR_HTTP, or what fn returned); a non-2xx body is never given to fn.
 */
enum hnp_err hnp_kube_stream_raw(struct hnp_kube_client *client, const char *path,
                                 hnp_kube_piece_fn fn, void *ctx, const volatile int *stop,
                                 long idle_timeout_ms, struct hnp_error *err);

#endif /* HNP_CLIENT_H */
