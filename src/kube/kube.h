/*
 * kube.h - talking to the Kubernetes API server: where it is and how to
 * authenticate (kubeconfig or in-cluster), and blocking and streaming HTTPS
 * requests over libcurl (a watch by line, a LIST body in raw pieces).
 *
 * TLS is always verified unless the configuration explicitly says
 * insecure-skip-tls-verify. Tokens, keys and certificates are never logged
 * and never put in error messages. Redirects are not followed (a redirect
 * would carry the token to another host). docs/kubernetes-access.md tells
 * the whole story.
 */
#ifndef HNP_KUBE_H
#define HNP_KUBE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "hnsnetpol/error.h"

/*
 * Where the API server is and how to authenticate. Everything owned
 * (malloc'd strings, NULL when unset); hnp_kube_config_clear() frees it.
 *
 * When tls_server_name is set the client addresses the server by that name
 * (the URL host, so SNI and certificate verification use it) and connects
 * to server's host and port (CURLOPT_RESOLVE for an IP address,
 * CURLOPT_CONNECT_TO for a host name). In-cluster configuration uses this
 * with the name kubernetes.default.svc.
 *
 * Data fields win over file fields (they never both come out of the
 * readers below). A client_cert_file ending in .p12 or .pfx is a PKCS#12
 * bundle (certificate and key, no password) and needs no key file.
 */
struct hnp_kube_config {
    char *server;          /* "https://host:port[/prefix]"; IPv6 hosts bracketed */
    char *tls_server_name; /* name to verify the server certificate against, when set */
    char *ca_file;
    char *ca_pem; /* certificate-authority-data, decoded */
    char *client_cert_file;
    char *client_cert_pem;
    char *client_key_file;
    char *client_key_pem;
    char *token;
    char *token_file; /* re-read periodically: bound service-account tokens rotate */
    bool insecure_skip_tls_verify;
    char *context; /* for messages: the kubeconfig context, or "in-cluster" */
};

/* Free every string (tokens and keys are wiped first) and zero cfg. Accepts NULL. */
void hnp_kube_config_clear(struct hnp_kube_config *cfg);

/*
 * Deep copy of src into *dst (overwritten without being cleared first).
 * HNP_ERR_NOMEM leaves *dst zeroed.
 */
enum hnp_err hnp_kube_config_copy(struct hnp_kube_config *dst, const struct hnp_kube_config *src);

/*
 * Read kubeconfig files (YAML or JSON, kind Config). paths is a
 * KUBECONFIG-style list (':' separated, ';' on Windows; empty entries and
 * repeats ignored): maps (clusters, users, contexts by name) merge with the
 * first file's entry winning, and the first current-context set wins, as
 * kubectl does. In a list of several files a missing file is skipped, as
 * kubectl does; a single missing file, or a list where none exists, is
 * HNP_ERR_IO. context NULL or "" = current-context. Relative file paths in
 * a kubeconfig are relative to that kubeconfig's folder.
 *
 * Supported: cluster server (https only), certificate-authority(-data),
 * insecure-skip-tls-verify, tls-server-name; user client-certificate(-data),
 * client-key(-data), token, tokenFile. A user with only exec or
 * auth-provider credentials, basic auth, a proxy-url, or conflicting fields
 * (file and data, insecure with a CA) is refused.
 *
 * On success *out is filled (the caller clears it); on failure it is left
 * zeroed. HNP_ERR_INVALID with err->where = the file and a message naming
 * the file and field ("config: context \"x\" not found", "config:
 * users[\"u\"].client-key-data: invalid base64 at offset 12") when something
 * is missing or wrong; HNP_ERR_IO / HNP_ERR_PARSE from reading a file.
 */
/* The separator of a KUBECONFIG list on this platform: ':', or ';' on Windows. */
extern const char hnp_kube_list_separator;

enum hnp_err hnp_kube_config_from_kubeconfig(const char *paths, const char *context,
                                             struct hnp_kube_config *out, struct hnp_error *err);

/* In-cluster inputs, passed in so tests control them. NULL or "" = unset. */
struct hnp_kube_env {
    const char *service_host;  /* KUBERNETES_SERVICE_HOST */
    const char *service_port;  /* KUBERNETES_SERVICE_PORT */
    const char *sandbox_mount; /* CONTAINER_SANDBOX_MOUNT_POINT (HostProcess), may be NULL */
    const char *sa_dir;        /* default "/var/run/secrets/kubernetes.io/serviceaccount" */
};

/*
 * Fill env from the process environment (the three variables above; sa_dir
 * NULL). The pointers are borrowed from the environment.
 */
void hnp_kube_env_from_process(struct hnp_kube_env *env);

/*
 * In-cluster configuration: server "https://<service host>:<port>" (IPv6
 * bracketed) with tls_server_name "kubernetes.default.svc" (a name every
 * API server certificate carries; Schannel cannot verify IP SANs), token
 * file <sa_dir>/token and CA <sa_dir>/ca.crt, sa_dir below sandbox_mount
 * when that is set. HNP_ERR_NOT_FOUND when the service host or port is
 * unset (not in a cluster), HNP_ERR_INVALID for a bad port, HNP_ERR_IO when
 * the token or CA file cannot be read. *out as for the kubeconfig reader.
 */
enum hnp_err hnp_kube_config_in_cluster(const struct hnp_kube_env *env, struct hnp_kube_config *out,
                                        struct hnp_error *err);

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
 * HNP_ERR_HTTP for transport failures (err->code = curl code),
 * HNP_ERR_LIMIT when the body exceeds max_body bytes (0 = 64 MiB),
 * HNP_ERR_STOPPED (see hnp_kube_client_set_stop). Outputs are untouched on
 * failure.
 */
enum hnp_err hnp_kube_request(struct hnp_kube_client *client, const char *method, const char *path,
                              const json_t *body, const char *content_type, size_t max_body,
                              long *status, json_t **response, struct hnp_error *err);

/* Called for each non-empty line of a streamed response (no "\n" nor "\r\n", not NUL-terminated).
 */
typedef enum hnp_err (*hnp_kube_line_fn)(const char *line, size_t len, void *ctx);

/*
 * Stream path (a watch), calling fn for every line however the bytes are
 * chunked; a last line without newline is delivered when the stream ends.
 * Returns HNP_OK when the server ends the stream, HNP_ERR_STOPPED when
 * *stop became non-zero (checked at least every 250 ms; stop NULL = the
 * client's stop, if any), HNP_ERR_LIMIT when a line exceeds max_line bytes
 * (0 = 16 MiB), HNP_ERR_GONE on HTTP 410, HNP_ERR_AUTH on 401/403,
 * HNP_ERR_HTTP on other statuses (err->code = the status, the message
 * carries the server's Status message) and transport errors (err->code =
 * the curl code), or what fn returned. idle_timeout_ms (0 = none) ends a
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

/*
 * Split a byte stream into lines across arbitrary chunk boundaries, with a
 * cap. Exposed for tests; hnp_kube_stream uses it. Lines end with "\n" or
 * "\r\n"; empty lines are skipped. A line is handed to fn straight from the
 * fed bytes when it lies whole in them, else from data; data shrinks back
 * after a line over 64 KiB, so one large event is not kept for the life of
 * the watch.
 */
struct hnp_line_buffer {
    char *data; /* partial line carried over between feeds */
    size_t len;
    size_t cap;
    size_t max_line;
};
/* max_line 0 = 16 MiB. */
void hnp_line_buffer_init(struct hnp_line_buffer *lb, size_t max_line);
/* Free data and empty the buffer (it can be fed again). Accepts NULL. */
void hnp_line_buffer_free(struct hnp_line_buffer *lb);
/*
 * Feed bytes; calls fn per complete line. HNP_ERR_LIMIT as soon as a line
 * is known to exceed max_line, or what fn returned; either way the rest of
 * bytes is not looked at and the partial line is dropped.
 */
enum hnp_err hnp_line_buffer_feed(struct hnp_line_buffer *lb, const char *bytes, size_t len,
                                  hnp_kube_line_fn fn, void *ctx);
/* End of stream: hand a pending last line (without newline) to fn and empty the buffer. */
enum hnp_err hnp_line_buffer_finish(struct hnp_line_buffer *lb, hnp_kube_line_fn fn, void *ctx);

#endif /* HNP_KUBE_H */
