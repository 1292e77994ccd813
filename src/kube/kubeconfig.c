/*
 * kubeconfig.c - where the API server is and how to authenticate to it:
 * kubeconfig files (as kubectl reads them) and in-cluster configuration
 * (the service-account token and CA mounted into the pod). See
 * kubeconfig.h; the client that uses the result is client.c.
 *
 * KUBECONFIG merging is done by lookup rather than by building a merged
 * document: the files are kept in list order and a cluster, user or context
 * is taken from the first file that has an entry of that name, which is
 * exactly kubectl's "first file wins per map key". Every file's lists are
 * checked for shape when it is read, so a malformed later file is reported
 * even when an earlier one shadows it (kubectl parses them all too).
 *
 * Relative paths are resolved against the folder of the file the entry
 * came from, at the moment the entry is chosen.
 */
#include "kubeconfig.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/load.h"
#include "platform.h"
#include "text.h"

/* The separator of a KUBECONFIG list is the platform's PATH separator. */
#define LIST_SEPARATOR HNP_PATH_LIST_SEPARATOR

const char hnp_kube_list_separator = LIST_SEPARATOR;

#define DEFAULT_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define IN_CLUSTER_NAME "kubernetes.default.svc"
#define MAX_KUBECONFIG_BYTES ((size_t)16 << 20)
#define MAX_KUBECONFIG_DEPTH 32

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                               */

/* Overwrite a secret before freeing it; volatile so the stores are not optimised away. */
static void wipe_free(char *s)
{
    if (s == NULL)
        return;
    volatile char *p = s;
    while (*p != '\0')
        *p++ = '\0';
    free(s);
}

void hnp_kube_config_clear(struct hnp_kube_config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->server);
    free(cfg->tls_server_name);
    free(cfg->ca_file);
    free(cfg->ca_pem);
    free(cfg->client_cert_file);
    free(cfg->client_cert_pem);
    free(cfg->client_key_file);
    wipe_free(cfg->client_key_pem);
    wipe_free(cfg->token);
    free(cfg->token_file);
    free(cfg->context);
    memset(cfg, 0, sizeof(*cfg));
}

/* *dst = copy of src; false when out of memory. */
static bool copy_field(char **dst, const char *src)
{
    *dst = NULL;
    if (src == NULL)
        return true;
    *dst = hnp_strdup(src);
    return *dst != NULL;
}

enum hnp_err hnp_kube_config_copy(struct hnp_kube_config *dst, const struct hnp_kube_config *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->insecure_skip_tls_verify = src->insecure_skip_tls_verify;
    if (!copy_field(&dst->server, src->server) ||
        !copy_field(&dst->tls_server_name, src->tls_server_name) ||
        !copy_field(&dst->ca_file, src->ca_file) || !copy_field(&dst->ca_pem, src->ca_pem) ||
        !copy_field(&dst->client_cert_file, src->client_cert_file) ||
        !copy_field(&dst->client_cert_pem, src->client_cert_pem) ||
        !copy_field(&dst->client_key_file, src->client_key_file) ||
        !copy_field(&dst->client_key_pem, src->client_key_pem) ||
        !copy_field(&dst->token, src->token) || !copy_field(&dst->token_file, src->token_file) ||
        !copy_field(&dst->context, src->context)) {
        hnp_kube_config_clear(dst);
        return HNP_ERR_NOMEM;
    }
    return HNP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Base64 (RFC 4648 standard alphabet, padded, as Go's base64.StdEncoding writes it)           */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/*
 * Decode in strictly: only the alphabet, '=' only as the last one or two
 * characters of the last quantum, a whole number of quanta. Line breaks
 * (\r, \n) are ignored, as Go does. On success *out is new, NUL-terminated,
 * *out_len its length. HNP_ERR_INVALID with *bad_at = the offset of the
 * offending character (or the length, for a truncated input).
 */
static enum hnp_err b64_decode(const char *in, char **out, size_t *out_len, size_t *bad_at)
{
    size_t n = strlen(in);
    char *buf = malloc(n / 4 * 3 + 4);
    if (buf == NULL)
        return HNP_ERR_NOMEM;
    size_t len = 0;
    unsigned quantum[4];
    size_t q = 0;   /* characters in the current quantum */
    size_t pad = 0; /* '=' seen */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            /* Padding may only fill the third and fourth place of a quantum. */
            if (q < 2) {
                *bad_at = i;
                free(buf);
                return HNP_ERR_INVALID;
            }
            pad++;
            quantum[q++] = 0;
        } else {
            int v = b64_value(c);
            if (v < 0 || pad > 0) {
                *bad_at = i;
                free(buf);
                return HNP_ERR_INVALID;
            }
            quantum[q++] = (unsigned)v;
        }
        if (q == 4) {
            unsigned bits = quantum[0] << 18 | quantum[1] << 12 | quantum[2] << 6 | quantum[3];
            buf[len++] = (char)(bits >> 16);
            if (pad < 2)
                buf[len++] = (char)(bits >> 8 & 0xff);
            if (pad < 1)
                buf[len++] = (char)(bits & 0xff);
            q = 0;
            if (pad > 0) {
                /* Only line breaks may follow the padded quantum. */
                for (size_t j = i + 1; j < n; j++) {
                    if (in[j] != '\r' && in[j] != '\n') {
                        *bad_at = j;
                        free(buf);
                        return HNP_ERR_INVALID;
                    }
                }
                break;
            }
        }
    }
    if (q != 0) {
        *bad_at = n;
        free(buf);
        return HNP_ERR_INVALID;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return HNP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading the files                                                                           */

struct kubefile {
    char *path;
    json_t *doc; /* the Config object; never NULL (an empty file is an empty object) */
};

struct kubeconfig {
    const char *paths; /* as given, for messages about the whole list */
    struct kubefile *files;
    size_t n_files;
    struct hnp_error *err;
};

static void kubeconfig_free(struct kubeconfig *kc)
{
    for (size_t i = 0; i < kc->n_files; i++) {
        free(kc->files[i].path);
        json_decref(kc->files[i].doc);
    }
    free(kc->files);
}

struct first_doc {
    json_t *doc;
    size_t count;
};

static enum hnp_err keep_first(const struct hnp_loaded_object *object, void *ctx)
{
    struct first_doc *fd = ctx;
    if (fd->count++ == 0)
        fd->doc = json_incref(object->obj);
    return HNP_OK;
}

/* Check that doc[key] is absent or a list of {name: string, inner: object}. */
static enum hnp_err check_list(const char *file, json_t *doc, const char *key, const char *inner,
                               struct hnp_error *err)
{
    json_t *list = json_object_get(doc, key);
    if (list == NULL || json_is_null(list))
        return HNP_OK;
    if (!json_is_array(list))
        return hnp_error_set(err, HNP_ERR_INVALID, file, "%s: %s: expected a list", file, key);
    size_t i;
    json_t *entry;
    json_array_foreach(list, i, entry)
    {
        if (!json_is_object(entry))
            return hnp_error_set(err, HNP_ERR_INVALID, file, "%s: %s[%zu]: expected a mapping",
                                 file, key, i);
        json_t *name = json_object_get(entry, "name");
        if (!json_is_string(name) || json_string_length(name) == 0)
            return hnp_error_set(err, HNP_ERR_INVALID, file, "%s: %s[%zu].name: missing", file, key,
                                 i);
        json_t *body = json_object_get(entry, inner);
        if (body != NULL && !json_is_null(body) && !json_is_object(body))
            return hnp_error_set(err, HNP_ERR_INVALID, file,
                                 "%s: %s[\"%s\"].%s: expected a mapping", file, key,
                                 json_string_value(name), inner);
    }
    return HNP_OK;
}

static enum hnp_err read_one(struct kubeconfig *kc, const char *path)
{
    struct hnp_error *err = kc->err;
    struct hnp_load_limits limits = {.max_input_bytes = MAX_KUBECONFIG_BYTES,
                                     .max_depth = MAX_KUBECONFIG_DEPTH};
    struct first_doc fd = {NULL, 0};
    enum hnp_err rc = hnp_load_file(path, &limits, keep_first, &fd, err);
    if (rc == HNP_ERR_EMPTY) {
        /* kubectl takes an empty file as an empty configuration. */
        fd.doc = json_object();
        if (fd.doc == NULL)
            return HNP_ERR_NOMEM;
        rc = HNP_OK;
    }
    if (rc != HNP_OK) {
        json_decref(fd.doc);
        return rc;
    }
    if (fd.count > 1) {
        json_decref(fd.doc);
        return hnp_error_set(err, HNP_ERR_INVALID, path,
                             "%s: holds %zu documents; a kubeconfig is one Config", path, fd.count);
    }
    json_t *kind = json_object_get(fd.doc, "kind");
    if (kind != NULL && !json_is_null(kind) &&
        (!json_is_string(kind) || strcmp(json_string_value(kind), "Config") != 0)) {
        json_decref(fd.doc);
        return hnp_error_set(err, HNP_ERR_INVALID, path, "%s: kind: expected Config", path);
    }
    json_t *cur = json_object_get(fd.doc, "current-context");
    if (cur != NULL && !json_is_null(cur) && !json_is_string(cur)) {
        json_decref(fd.doc);
        return hnp_error_set(err, HNP_ERR_INVALID, path, "%s: current-context: expected a string",
                             path);
    }
    if ((rc = check_list(path, fd.doc, "clusters", "cluster", err)) != HNP_OK ||
        (rc = check_list(path, fd.doc, "users", "user", err)) != HNP_OK ||
        (rc = check_list(path, fd.doc, "contexts", "context", err)) != HNP_OK) {
        json_decref(fd.doc);
        return rc;
    }

    struct kubefile *files = realloc(kc->files, (kc->n_files + 1) * sizeof(*files));
    char *copy = hnp_strdup(path);
    if (files == NULL || copy == NULL) {
        if (files != NULL)
            kc->files = files;
        free(copy);
        json_decref(fd.doc);
        return HNP_ERR_NOMEM;
    }
    kc->files = files;
    files[kc->n_files].path = copy;
    files[kc->n_files].doc = fd.doc;
    kc->n_files++;
    return HNP_OK;
}

static bool already_read(const struct kubeconfig *kc, const char *path)
{
    for (size_t i = 0; i < kc->n_files; i++)
        if (strcmp(kc->files[i].path, path) == 0)
            return true;
    return false;
}

static bool file_missing(const char *path)
{
    errno = 0;
    FILE *f = fopen(path, "rb");
    if (f != NULL) {
        fclose(f);
        return false;
    }
    return errno == ENOENT;
}

static enum hnp_err read_all(struct kubeconfig *kc, const char *paths)
{
    /* Split into entries first, to know whether this is a list. */
    size_t n_entries = 0;
    for (const char *p = paths;;) {
        const char *end = strchr(p, LIST_SEPARATOR);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0)
            n_entries++;
        if (end == NULL)
            break;
        p = end + 1;
    }
    if (n_entries == 0)
        return hnp_error_set(kc->err, HNP_ERR_INVALID, NULL, "no kubeconfig file given");

    for (const char *p = paths;;) {
        const char *end = strchr(p, LIST_SEPARATOR);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0) {
            char *path = hnp_strndup(p, len);
            if (path == NULL)
                return HNP_ERR_NOMEM;
            enum hnp_err rc = HNP_OK;
            if (!already_read(kc, path) && !(n_entries > 1 && file_missing(path)))
                rc = read_one(kc, path);
            free(path);
            if (rc != HNP_OK)
                return rc;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    if (kc->n_files == 0)
        return hnp_error_set(kc->err, HNP_ERR_IO, paths,
                             "%s: none of these kubeconfig files exists", paths);
    return HNP_OK;
}

/* The first entry called name in list key of any file, with its file; NULL when none. */
static json_t *find_entry(const struct kubeconfig *kc, const char *key, const char *inner,
                          const char *name, const char **file)
{
    for (size_t f = 0; f < kc->n_files; f++) {
        json_t *list = json_object_get(kc->files[f].doc, key);
        size_t i;
        json_t *entry;
        json_array_foreach(list, i, entry)
        {
            if (strcmp(json_string_value(json_object_get(entry, "name")), name) == 0) {
                *file = kc->files[f].path;
                json_t *body = json_object_get(entry, inner);
                /* An entry without a body is an empty one. */
                return json_is_object(body) ? body : entry;
            }
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Fields                                                                                      */

/* Where messages point: "<file>: <list>[\"<name>\"].<field>". */
struct place {
    const char *file;
    const char *list; /* "clusters", "users", "contexts" */
    const char *name;
    struct hnp_error *err;
};

static enum hnp_err field_error(const struct place *pl, const char *field, const char *what)
{
    return hnp_error_set(pl->err, HNP_ERR_INVALID, pl->file, "%s: %s[\"%s\"].%s: %s", pl->file,
                         pl->list, pl->name, field, what);
}

/* *out = the string at obj[field], borrowed, or NULL when absent, null or empty. */
static enum hnp_err get_string(const struct place *pl, json_t *obj, const char *field,
                               const char **out)
{
    json_t *v = json_object_get(obj, field);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return HNP_OK;
    if (!json_is_string(v))
        return field_error(pl, field, "expected a string");
    if (json_string_length(v) > 0)
        *out = json_string_value(v);
    return HNP_OK;
}

static bool present(json_t *obj, const char *field)
{
    json_t *v = json_object_get(obj, field);
    return v != NULL && !json_is_null(v);
}

static bool is_absolute(const char *path)
{
    if (path[0] == '/' || path[0] == '\\')
        return true;
    /* A Windows drive: "C:\..." or "C:/..." */
    return ((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z')) &&
           path[1] == ':' && (path[2] == '\\' || path[2] == '/');
}

/* A new string: path resolved against the folder of file. */
static char *resolve_path(const char *file, const char *path)
{
    if (is_absolute(path))
        return hnp_strdup(path);
    const char *slash = strrchr(file, '/');
    const char *backslash = strrchr(file, '\\');
    if (backslash != NULL && (slash == NULL || backslash > slash))
        slash = backslash;
    if (slash == NULL)
        return hnp_strdup(path);
    size_t dir_len = (size_t)(slash - file) + 1;
    size_t len = strlen(path);
    char *out = malloc(dir_len + len + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, file, dir_len);
    memcpy(out + dir_len, path, len + 1);
    return out;
}

/* A file field: *out = the path resolved against the kubeconfig's folder. */
static enum hnp_err get_path(const struct place *pl, json_t *obj, const char *field, char **out)
{
    const char *value;
    enum hnp_err rc = get_string(pl, obj, field, &value);
    if (rc != HNP_OK || value == NULL)
        return rc;
    *out = resolve_path(pl->file, value);
    return *out ? HNP_OK : HNP_ERR_NOMEM;
}

/* A *-data field: *out = the decoded PEM text. */
static enum hnp_err get_data(const struct place *pl, json_t *obj, const char *field, char **out)
{
    const char *value;
    enum hnp_err rc = get_string(pl, obj, field, &value);
    if (rc != HNP_OK || value == NULL)
        return rc;
    char *decoded = NULL;
    size_t len = 0, bad_at = 0;
    rc = b64_decode(value, &decoded, &len, &bad_at);
    if (rc == HNP_ERR_INVALID) {
        char what[64];
        snprintf(what, sizeof(what), "invalid base64 at offset %zu", bad_at);
        return field_error(pl, field, what);
    }
    if (rc != HNP_OK)
        return rc;
    if (len == 0 || memchr(decoded, '\0', len) != NULL) {
        wipe_free(decoded);
        return field_error(pl, field, len ? "expected PEM text, found binary data" : "empty");
    }
    *out = decoded;
    return HNP_OK;
}

static enum hnp_err read_cluster(const struct place *pl, json_t *cluster,
                                 struct hnp_kube_config *cfg)
{
    enum hnp_err rc;
    const char *server, *name;
    if ((rc = get_string(pl, cluster, "server", &server)) != HNP_OK)
        return rc;
    if (server == NULL)
        return field_error(pl, "server", "missing");
    if (strncmp(server, "https://", 8) != 0 || server[8] == '\0' || server[8] == '/')
        return field_error(pl, "server", "expected an https:// URL (plain http is not supported)");
    if (present(cluster, "proxy-url"))
        return field_error(pl, "proxy-url",
                           "not supported; set HTTPS_PROXY and NO_PROXY in the environment");
    json_t *insecure = json_object_get(cluster, "insecure-skip-tls-verify");
    if (insecure != NULL && !json_is_null(insecure) && !json_is_boolean(insecure))
        return field_error(pl, "insecure-skip-tls-verify", "expected true or false");
    cfg->insecure_skip_tls_verify = json_is_true(insecure);

    if (present(cluster, "certificate-authority") && present(cluster, "certificate-authority-data"))
        return field_error(pl, "certificate-authority",
                           "both certificate-authority and certificate-authority-data are set");
    if (cfg->insecure_skip_tls_verify && (present(cluster, "certificate-authority") ||
                                          present(cluster, "certificate-authority-data")))
        return field_error(pl, "insecure-skip-tls-verify",
                           "a certificate authority together with insecure-skip-tls-verify is "
                           "contradictory");

    if ((cfg->server = hnp_strdup(server)) == NULL)
        return HNP_ERR_NOMEM;
    if ((rc = get_string(pl, cluster, "tls-server-name", &name)) != HNP_OK)
        return rc;
    if (name != NULL && (cfg->tls_server_name = hnp_strdup(name)) == NULL)
        return HNP_ERR_NOMEM;
    if ((rc = get_path(pl, cluster, "certificate-authority", &cfg->ca_file)) != HNP_OK)
        return rc;
    return get_data(pl, cluster, "certificate-authority-data", &cfg->ca_pem);
}

bool hnp_kube_is_pkcs12(const char *path)
{
    size_t n = strlen(path);
    if (n < 4)
        return false;
    const char *ext = path + n - 4;
    char lower[5];
    for (int i = 0; i < 4; i++)
        lower[i] = (char)(ext[i] >= 'A' && ext[i] <= 'Z' ? ext[i] - 'A' + 'a' : ext[i]);
    lower[4] = '\0';
    return strcmp(lower, ".p12") == 0 || strcmp(lower, ".pfx") == 0;
}

static enum hnp_err read_user(const struct place *pl, json_t *user, struct hnp_kube_config *cfg)
{
    enum hnp_err rc;
    if (present(user, "username") || present(user, "password"))
        return field_error(pl, "username", "basic authentication is not supported");
    if (present(user, "client-certificate") && present(user, "client-certificate-data"))
        return field_error(pl, "client-certificate",
                           "both client-certificate and client-certificate-data are set");
    if (present(user, "client-key") && present(user, "client-key-data"))
        return field_error(pl, "client-key", "both client-key and client-key-data are set");

    const char *token;
    if ((rc = get_string(pl, user, "token", &token)) != HNP_OK)
        return rc;
    if (token != NULL && (cfg->token = hnp_strdup(token)) == NULL)
        return HNP_ERR_NOMEM;
    if ((rc = get_path(pl, user, "tokenFile", &cfg->token_file)) != HNP_OK ||
        (rc = get_path(pl, user, "client-certificate", &cfg->client_cert_file)) != HNP_OK ||
        (rc = get_data(pl, user, "client-certificate-data", &cfg->client_cert_pem)) != HNP_OK ||
        (rc = get_path(pl, user, "client-key", &cfg->client_key_file)) != HNP_OK ||
        (rc = get_data(pl, user, "client-key-data", &cfg->client_key_pem)) != HNP_OK)
        return rc;

    bool has_cert = cfg->client_cert_file || cfg->client_cert_pem;
    bool has_key = cfg->client_key_file || cfg->client_key_pem;
    bool bundle = cfg->client_cert_file && hnp_kube_is_pkcs12(cfg->client_cert_file);
    if (has_cert && !has_key && !bundle)
        return field_error(pl, "client-key", "missing (client-certificate is set)");
    if (has_key && !has_cert)
        return field_error(pl, "client-certificate", "missing (client-key is set)");
    if (!has_cert && !cfg->token && !cfg->token_file) {
        if (present(user, "exec"))
            return field_error(pl, "exec",
                               "exec credential plugins are not supported; use a token, a "
                               "tokenFile or a client certificate");
        if (present(user, "auth-provider"))
            return field_error(pl, "auth-provider",
                               "auth providers are not supported; use a token, a tokenFile or a "
                               "client certificate");
    }
    return HNP_OK;
}

static enum hnp_err resolve_context(struct kubeconfig *kc, const char *context,
                                    struct hnp_kube_config *cfg)
{
    struct hnp_error *err = kc->err;
    const char *name = context && *context ? context : NULL;
    for (size_t f = 0; name == NULL && f < kc->n_files; f++) {
        json_t *cur = json_object_get(kc->files[f].doc, "current-context");
        if (json_is_string(cur) && json_string_length(cur) > 0)
            name = json_string_value(cur);
    }
    if (name == NULL)
        return hnp_error_set(err, HNP_ERR_INVALID, kc->paths,
                             "%s: no current-context is set; name a context", kc->paths);

    const char *ctx_file = NULL;
    json_t *ctx = find_entry(kc, "contexts", "context", name, &ctx_file);
    if (ctx == NULL)
        return hnp_error_set(err, HNP_ERR_INVALID, kc->paths, "%s: context \"%s\" not found",
                             kc->paths, name);
    struct place pl = {ctx_file, "contexts", name, err};
    const char *cluster_name, *user_name;
    enum hnp_err rc;
    if ((rc = get_string(&pl, ctx, "cluster", &cluster_name)) != HNP_OK ||
        (rc = get_string(&pl, ctx, "user", &user_name)) != HNP_OK)
        return rc;
    if (cluster_name == NULL)
        return field_error(&pl, "cluster", "missing");

    const char *cluster_file = NULL;
    json_t *cluster = find_entry(kc, "clusters", "cluster", cluster_name, &cluster_file);
    if (cluster == NULL)
        return hnp_error_set(err, HNP_ERR_INVALID, kc->paths,
                             "%s: cluster \"%s\" not found (context \"%s\")", kc->paths,
                             cluster_name, name);
    struct place cpl = {cluster_file, "clusters", cluster_name, err};
    if ((rc = read_cluster(&cpl, cluster, cfg)) != HNP_OK)
        return rc;

    if (user_name != NULL) {
        const char *user_file = NULL;
        json_t *user = find_entry(kc, "users", "user", user_name, &user_file);
        if (user == NULL)
            return hnp_error_set(err, HNP_ERR_INVALID, kc->paths,
                                 "%s: user \"%s\" not found (context \"%s\")", kc->paths, user_name,
                                 name);
        struct place upl = {user_file, "users", user_name, err};
        if ((rc = read_user(&upl, user, cfg)) != HNP_OK)
            return rc;
    }
    cfg->context = hnp_strdup(name);
    return cfg->context ? HNP_OK : HNP_ERR_NOMEM;
}

enum hnp_err hnp_kube_config_from_kubeconfig(const char *paths, const char *context,
                                             struct hnp_kube_config *out, struct hnp_error *err)
{
    struct kubeconfig kc = {paths ? paths : "", NULL, 0, err};
    struct hnp_kube_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    memset(out, 0, sizeof(*out));
    hnp_error_clear(err);

    enum hnp_err rc = read_all(&kc, kc.paths);
    if (rc == HNP_OK)
        rc = resolve_context(&kc, context, &cfg);
    kubeconfig_free(&kc);
    if (rc == HNP_ERR_NOMEM)
        hnp_error_set(err, rc, NULL, "out of memory reading %s", kc.paths);
    if (rc != HNP_OK) {
        hnp_kube_config_clear(&cfg);
        return rc;
    }
    *out = cfg;
    return HNP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* In-cluster                                                                                  */

void hnp_kube_env_from_process(struct hnp_kube_env *env)
{
    env->service_host = getenv("KUBERNETES_SERVICE_HOST");
    env->service_port = getenv("KUBERNETES_SERVICE_PORT");
    env->sandbox_mount = getenv("CONTAINER_SANDBOX_MOUNT_POINT");
    env->sa_dir = NULL;
}

/* a + "/" + b without doubling the separator; new string. */
static char *join_path(const char *a, const char *b)
{
    size_t la = strlen(a);
    while (la > 0 && (a[la - 1] == '/' || a[la - 1] == '\\'))
        la--;
    while (*b == '/' || *b == '\\')
        b++;
    size_t lb = strlen(b);
    char *out = malloc(la + 1 + lb + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, a, la);
    out[la] = '/';
    memcpy(out + la + 1, b, lb + 1);
    return out;
}

static enum hnp_err check_readable(const char *path, const char *what, struct hnp_error *err)
{
    errno = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        return hnp_error_set(err, HNP_ERR_IO, path, "cannot read the service account %s %s: %s",
                             what, path, e ? strerror(e) : "unknown error");
    }
    fclose(f);
    return HNP_OK;
}

enum hnp_err hnp_kube_config_in_cluster(const struct hnp_kube_env *env, struct hnp_kube_config *out,
                                        struct hnp_error *err)
{
    memset(out, 0, sizeof(*out));
    hnp_error_clear(err);
    const char *host = env->service_host;
    const char *port = env->service_port;
    if (host == NULL || *host == '\0' || port == NULL || *port == '\0')
        return hnp_error_set(err, HNP_ERR_NOT_FOUND, NULL,
                             "not running in a cluster: KUBERNETES_SERVICE_HOST and "
                             "KUBERNETES_SERVICE_PORT are not both set");
    long port_value = 0;
    for (const char *p = port; *p; p++) {
        if (*p < '0' || *p > '9' || port_value > 65535)
            return hnp_error_set(err, HNP_ERR_INVALID, "KUBERNETES_SERVICE_PORT",
                                 "KUBERNETES_SERVICE_PORT \"%s\" is not a port number", port);
        port_value = port_value * 10 + (*p - '0');
    }
    if (port_value < 1 || port_value > 65535)
        return hnp_error_set(err, HNP_ERR_INVALID, "KUBERNETES_SERVICE_PORT",
                             "KUBERNETES_SERVICE_PORT \"%s\" is not a port number", port);
    /* An address or a name; nothing that could change the meaning of the URL. */
    bool has_colon = false;
    for (const char *p = host; *p; p++) {
        char c = *p;
        if (c == ':')
            has_colon = true;
        else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   c == '.' || c == '-'))
            return hnp_error_set(err, HNP_ERR_INVALID, "KUBERNETES_SERVICE_HOST",
                                 "KUBERNETES_SERVICE_HOST \"%s\" is not an address", host);
    }

    struct hnp_kube_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    size_t n = strlen(host) + 32;
    const char *sa = env->sa_dir && *env->sa_dir ? env->sa_dir : DEFAULT_SA_DIR;
    char *dir = env->sandbox_mount && *env->sandbox_mount ? join_path(env->sandbox_mount, sa)
                                                          : hnp_strdup(sa);
    cfg.server = malloc(n);
    cfg.tls_server_name = hnp_strdup(IN_CLUSTER_NAME);
    cfg.context = hnp_strdup("in-cluster");
    if (dir != NULL) {
        cfg.token_file = join_path(dir, "token");
        cfg.ca_file = join_path(dir, "ca.crt");
    }
    free(dir);
    if (cfg.server == NULL || cfg.tls_server_name == NULL || cfg.context == NULL ||
        cfg.token_file == NULL || cfg.ca_file == NULL) {
        hnp_kube_config_clear(&cfg);
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    }
    snprintf(cfg.server, n, has_colon ? "https://[%s]:%ld" : "https://%s:%ld", host, port_value);

    enum hnp_err rc = check_readable(cfg.token_file, "token", err);
    if (rc == HNP_OK)
        rc = check_readable(cfg.ca_file, "CA certificate", err);
    if (rc != HNP_OK) {
        hnp_kube_config_clear(&cfg);
        return rc;
    }
    *out = cfg;
    return HNP_OK;
}
