/*
 * kube.h - talking to the Kubernetes API server: where it is and how to
 * authenticate (kubeconfig or in-cluster), and blocking and streaming HTTPS
 * requests over libcurl.
 *
 * TLS is always verified unless the configuration explicitly says
 * insecure-skip-tls-verify. Tokens, keys and certificates are never logged.
 */
#ifndef HNP_KUBE_H
#define HNP_KUBE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "hnsnetpol/error.h"

/* Everything owned (malloc'd strings, NULL when unset). */
struct hnp_kube_config {
    char *server;          /* "https://host:port" */
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
    char *context; /* for messages */
};

void hnp_kube_config_clear(struct hnp_kube_config *cfg);

/*
 * Read kubeconfig files. paths is a KUBECONFIG-style list (':' separated,
 * ';' on Windows): maps merge with the first file's value winning, as
 * kubectl does. context NULL = current-context. Relative file paths in a
 * kubeconfig are relative to that kubeconfig's folder. HNP_ERR_INVALID with
 * a message naming the file and field when something is missing or wrong.
 */
enum hnp_err hnp_kube_config_from_kubeconfig(const char *paths, const char *context,
                                             struct hnp_kube_config *out, struct hnp_error *err);

/* In-cluster inputs, passed in so tests control them. */
struct hnp_kube_env {
    const char *service_host;  /* KUBERNETES_SERVICE_HOST */
    const char *service_port;  /* KUBERNETES_SERVICE_PORT */
    const char *sandbox_mount; /* CONTAINER_SANDBOX_MOUNT_POINT (HostProcess), may be NULL */
    const char *sa_dir;        /* default "/var/run/secrets/kubernetes.io/serviceaccount" */
};

/*
 * In-cluster configuration: server from the service host/port (IPv6
 * bracketed), token file and CA from sa_dir, below sandbox_mount when set.
 * The server is addressed by the name kubernetes.default.svc, resolved to
 * the service address (a name every API server certificate carries; Schannel
 * cannot verify IP SANs). HNP_ERR_NOT_FOUND when not in a cluster.
 */
enum hnp_err hnp_kube_config_in_cluster(const struct hnp_kube_env *env, struct hnp_kube_config *out,
                                        struct hnp_error *err);

struct hnp_kube_client;

/* A client for cfg (deep-copied). One client per thread. */
enum hnp_err hnp_kube_client_new(const struct hnp_kube_config *cfg, struct hnp_kube_client **out,
                                 struct hnp_error *err);
void hnp_kube_client_free(struct hnp_kube_client *client);

/*
 * One request. path starts with "/" ("/api/v1/pods?limit=500"). body may be
 * NULL; content_type NULL = application/json. *status receives the HTTP
 * status; *response (may be NULL) a new JSON value of the body or NULL when
 * it is not JSON. Returns HNP_OK for any HTTP status (the caller decides),
 * HNP_ERR_HTTP for transport failures (err->code = curl code), HNP_ERR_LIMIT
 * when the body exceeds max_body bytes (0 = 64 MiB).
 */
enum hnp_err hnp_kube_request(struct hnp_kube_client *client, const char *method, const char *path,
                              const json_t *body, const char *content_type, size_t max_body,
                              long *status, json_t **response, struct hnp_error *err);

/* Called for each complete line of a streamed response (no newline, not NUL-terminated). */
typedef enum hnp_err (*hnp_kube_line_fn)(const char *line, size_t len, void *ctx);

/*
 * Stream path (a watch), calling fn for every line however the bytes are
 * chunked. Returns HNP_OK when the server ends the stream, HNP_ERR_STOPPED
 * when *stop became non-zero (checked at least every 250 ms), HNP_ERR_LIMIT
 * when a line exceeds max_line bytes, HNP_ERR_GONE on HTTP 410,
 * HNP_ERR_AUTH on 401/403, HNP_ERR_HTTP on other statuses and transport
 * errors, or what fn returned. idle_timeout_ms (0 = none) ends a stream that
 * has been silent that long with HNP_ERR_TIMEOUT.
 */
enum hnp_err hnp_kube_stream(struct hnp_kube_client *client, const char *path, hnp_kube_line_fn fn,
                             void *ctx, const volatile int *stop, size_t max_line,
                             long idle_timeout_ms, struct hnp_error *err);

/*
 * Split a byte stream into lines across arbitrary chunk boundaries, with a
 * cap. Exposed for tests; hnp_kube_stream uses it.
 */
struct hnp_line_buffer {
    char *data;
    size_t len;
    size_t cap;
    size_t max_line;
};
void hnp_line_buffer_init(struct hnp_line_buffer *lb, size_t max_line);
void hnp_line_buffer_free(struct hnp_line_buffer *lb);
/* Feed bytes; calls fn per complete line; HNP_ERR_LIMIT past max_line. */
enum hnp_err hnp_line_buffer_feed(struct hnp_line_buffer *lb, const char *bytes, size_t len,
                                  hnp_kube_line_fn fn, void *ctx);

#endif /* HNP_KUBE_H */
