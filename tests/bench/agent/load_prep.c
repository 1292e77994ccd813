/*
 * load_prep.c - hnp-load-prep: turns a generated cluster (hnp-gen-cluster's
 * kubectl-style List) into curl config files that load it into a real API
 * server with `curl --parallel --config FILE`.
 *
 *     hnp-load-prep --server URL --cacert FILE --token-file FILE --out DIR
 *                   [--only-policies] LIST.json
 *
 * Writes into DIR (mode 0600: they carry the bearer token):
 *   namespaces.curl   POST each Namespace
 *   pods.curl         POST each Pod (without status: the server resets it)
 *   pod-status.curl   PATCH each Pod's /status with the List's status
 *                     (merge patch), as a kubelet would: podIP, hostIP, ...
 *   policies.curl     POST each NetworkPolicy
 *   policies-delete.curl  DELETE each NetworkPolicy
 * (--only-policies: the last two only.)
 *
 * Every object loses what the server sets itself or refuses on create:
 * metadata.uid, resourceVersion, creationTimestamp, generation,
 * managedFields, selfLink, and status; a pod also spec.priority and
 * spec.preemptionPolicy (the Priority admission plugin fills them in).
 * Each request prints "<http code> <method> <url>" on standard output.
 * Prints "namespaces=N pods=N policies=N" on standard error.
 */
#define _POSIX_C_SOURCE 200809L /* umask() */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

struct out {
    FILE *f;
    const char *server, *cacert, *token;
    size_t blocks;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: hnp-load-prep --server URL --cacert FILE --token-file FILE --out DIR\n"
               "                     [--only-policies] LIST.json\n");
}

/* A quoted curl config value: "\" and "\"" escaped (compact JSON has no raw control bytes). */
static void quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int open_out(struct out *o, const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    mode_t old = umask(077);
    o->f = fopen(path, "w");
    umask(old);
    if (o->f == NULL) {
        fprintf(stderr, "hnp-load-prep: %s: %s\n", path, strerror(errno));
        return -1;
    }
    o->blocks = 0;
    return 0;
}

static int close_out(struct out *o)
{
    int rc = (o->f != NULL && (ferror(o->f) | fclose(o->f))) ? -1 : 0;
    o->f = NULL;
    if (rc != 0)
        fprintf(stderr, "hnp-load-prep: writing failed\n");
    return rc;
}

/* One request: method, path below the server, optional body and content type. */
static void request(struct out *o, const char *method, const char *path, const json_t *body,
                    const char *content_type)
{
    FILE *f = o->f;
    if (o->blocks++ > 0)
        fputs("next\n", f);
    fprintf(f, "url = ");
    char *url = malloc(strlen(o->server) + strlen(path) + 1);
    if (url == NULL)
        return;
    strcpy(url, o->server);
    strcat(url, path);
    quoted(f, url);
    free(url);
    fprintf(f, "\nrequest = \"%s\"\ncacert = ", method);
    quoted(f, o->cacert);
    fputs("\nheader = ", f);
    char auth[4200];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o->token);
    quoted(f, auth);
    fputs("\n", f);
    if (body != NULL) {
        char *text = json_dumps(body, JSON_COMPACT);
        if (text == NULL)
            return;
        fprintf(f, "header = \"Content-Type: %s\"\ndata-binary = ", content_type);
        quoted(f, text);
        fputs("\n", f);
        free(text);
    }
    fputs("silent\nshow-error\noutput = \"/dev/null\"\n"
          "write-out = \"%{http_code} %{method} %{url}\\n\"\n",
          f);
}

/* A copy of obj fit to be created. New reference. */
static json_t *for_create(const json_t *obj, int is_pod)
{
    json_t *c = json_deep_copy(obj);
    json_t *meta = json_object_get(c, "metadata");
    static const char *const drop[] = {
        "uid",           "resourceVersion", "creationTimestamp",         "generation",
        "managedFields", "selfLink",        "deletionGracePeriodSeconds"};
    for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
        json_object_del(meta, drop[i]);
    json_object_del(c, "status");
    if (is_pod) {
        json_t *spec = json_object_get(c, "spec");
        json_object_del(spec, "priority");
        json_object_del(spec, "preemptionPolicy");
    }
    return c;
}

static char *read_token(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "hnp-load-prep: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    if (n == 0 || strpbrk(buf, "\"\\\n") != NULL) {
        fprintf(stderr, "hnp-load-prep: %s: not a bearer token\n", path);
        return NULL;
    }
    char *t = malloc(n + 1);
    if (t != NULL)
        memcpy(t, buf, n + 1);
    return t;
}

int main(int argc, char **argv)
{
    const char *server = NULL, *cacert = NULL, *token_file = NULL, *dir = NULL, *list_path = NULL;
    int only_policies = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--server") == 0 && v) {
            server = v, i++;
        } else if (strcmp(a, "--cacert") == 0 && v) {
            cacert = v, i++;
        } else if (strcmp(a, "--token-file") == 0 && v) {
            token_file = v, i++;
        } else if (strcmp(a, "--out") == 0 && v) {
            dir = v, i++;
        } else if (strcmp(a, "--only-policies") == 0) {
            only_policies = 1;
        } else if (a[0] != '-' && list_path == NULL) {
            list_path = a;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!server || !cacert || !token_file || !dir || !list_path) {
        usage(stderr);
        return 2;
    }
    char *token = read_token(token_file);
    if (token == NULL)
        return 1;
    json_error_t jerr;
    json_t *list = json_load_file(list_path, 0, &jerr);
    if (list == NULL) {
        fprintf(stderr, "hnp-load-prep: %s:%d:%d: %s\n", list_path, jerr.line, jerr.column,
                jerr.text);
        free(token);
        return 1;
    }
    json_t *items = json_object_get(list, "items");

    struct out o = {NULL, server, cacert, token, 0};
    int rc = 0;
    size_t counts[3] = {0, 0, 0};
    static const char *const kinds[] = {"Namespace", "Pod", "NetworkPolicy"};
    static const char *const files[] = {"namespaces.curl", "pods.curl", "policies.curl"};
    for (int k = only_policies ? 2 : 0; k < 3 && rc == 0; k++) {
        if (open_out(&o, dir, files[k]) != 0) {
            rc = 1;
            break;
        }
        size_t i;
        json_t *item;
        json_array_foreach(items, i, item)
        {
            const char *kind = json_string_value(json_object_get(item, "kind"));
            if (kind == NULL || strcmp(kind, kinds[k]) != 0)
                continue;
            const json_t *meta = json_object_get(item, "metadata");
            const char *ns = json_string_value(json_object_get(meta, "namespace"));
            char path[1024];
            if (k == 0)
                snprintf(path, sizeof(path), "/api/v1/namespaces");
            else if (k == 1)
                snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", ns ? ns : "default");
            else
                snprintf(path, sizeof(path),
                         "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies",
                         ns ? ns : "default");
            json_t *body = for_create(item, k == 1);
            request(&o, "POST", path, body, "application/json");
            json_decref(body);
            counts[k]++;
        }
        if (close_out(&o) != 0)
            rc = 1;
    }

    /* Pod status and policy deletes. */
    for (int k = only_policies ? 2 : 1; k < 3 && rc == 0; k += 1) {
        if (open_out(&o, dir, k == 1 ? "pod-status.curl" : "policies-delete.curl") != 0) {
            rc = 1;
            break;
        }
        size_t i;
        json_t *item;
        json_array_foreach(items, i, item)
        {
            const char *kind = json_string_value(json_object_get(item, "kind"));
            if (kind == NULL || strcmp(kind, kinds[k]) != 0)
                continue;
            const json_t *meta = json_object_get(item, "metadata");
            const char *ns = json_string_value(json_object_get(meta, "namespace"));
            const char *name = json_string_value(json_object_get(meta, "name"));
            char path[1024];
            if (k == 1) {
                snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/status",
                         ns ? ns : "default", name ? name : "");
                json_t *patch = json_pack("{s:O}", "status", json_object_get(item, "status"));
                request(&o, "PATCH", path, patch, "application/merge-patch+json");
                json_decref(patch);
            } else {
                snprintf(path, sizeof(path),
                         "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies/%s",
                         ns ? ns : "default", name ? name : "");
                request(&o, "DELETE", path, NULL, NULL);
            }
        }
        if (close_out(&o) != 0)
            rc = 1;
    }
    json_decref(list);
    free(token);
    if (rc == 0)
        fprintf(stderr, "namespaces=%zu pods=%zu policies=%zu\n", counts[0], counts[1], counts[2]);
    return rc;
}
