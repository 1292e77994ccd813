/*
 * kubeconfig.h - where the Kubernetes API server is and how to authenticate
 * to it: struct hnp_kube_config, read from kubeconfig files (as kubectl
 * reads them) or from the in-cluster service account. client.h talks to the
 * server so described.
 *
 * TLS is always verified unless the configuration explicitly says
 * insecure-skip-tls-verify. Tokens, keys and certificates are never logged
 * and never put in error messages. docs/kubernetes-access.md tells the
 * whole story.
 */
#ifndef HNP_KUBECONFIG_H
#define HNP_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

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

/* The separator of a KUBECONFIG list on this platform: ':', or ';' on Windows. */
extern const char hnp_kube_list_separator;

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

/*
 * Whether path names a PKCS#12 bundle: it ends in .p12 or .pfx (any case).
 * path is borrowed and not NULL.
 */
bool hnp_kube_is_pkcs12(const char *path);

#endif /* HNP_KUBECONFIG_H */
