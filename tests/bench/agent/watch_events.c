/*
 * watch_events.c - hnp-watch-events: turns the pods of a generated cluster
 * (hnp-gen-cluster's kubectl-style List) into the lines of a Kubernetes
 * watch stream, the input of hnp-bench-watch.
 *
 *     hnp-watch-events [--max N] [-o FILE] LIST.json
 *
 * Writes, one event per line as the API server sends them (compact JSON,
 * "type" first, then "object" with kind and apiVersion set):
 *   1. {"type":"ADDED","object":<pod>} for each pod (at most N; default all),
 *   2. {"type":"MODIFIED","object":<pod>} for the same pods again, as a
 *      kubelet status update makes them: a new resourceVersion, the Ready
 *      condition's lastTransitionTime and the kubelet's managedFields time
 *      moved on a minute. Same size and shape as the ADDED ones.
 * The objects keep whatever the List has (managedFields included unless the
 * cluster was generated with --no-managed-fields): a 1.20 API server sends
 * managedFields in watch events.
 *
 * Prints "events=N added=N modified=N bytes=N" on standard error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: hnp-watch-events [--max N] [-o FILE] LIST.json\n"
               "Writes the pods of a kubectl-style List as watch event lines:\n"
               "ADDED for each pod, then MODIFIED for each (a status update).\n");
}

/* Write one event line; returns its length in bytes, 0 on failure. */
static size_t write_event(FILE *out, const char *type, json_t *pod)
{
    json_t *event = json_object();
    if (event == NULL)
        return 0;
    /* jansson keeps insertion order: "type" first, as the API server writes it. */
    json_object_set_new(event, "type", json_string(type));
    json_object_set(event, "object", pod);
    char *text = json_dumps(event, JSON_COMPACT);
    json_decref(event);
    if (text == NULL)
        return 0;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, out) == n && fputc('\n', out) != EOF;
    free(text);
    return ok ? n + 1 : 0;
}

/* "2024-04-03T09:00:37Z" -> one minute later (the minute wraps at 60; the hour stays). */
static void later(json_t *parent, const char *key)
{
    const char *t = json_string_value(json_object_get(parent, key));
    if (t == NULL || strlen(t) != 20)
        return;
    char buf[21];
    memcpy(buf, t, sizeof(buf));
    int minute = (buf[14] - '0') * 10 + (buf[15] - '0');
    minute = (minute + 1) % 60;
    buf[14] = (char)('0' + minute / 10);
    buf[15] = (char)('0' + minute % 10);
    json_object_set_new(parent, key, json_string(buf));
}

/* Make pod look like the kubelet's next status update of it. */
static void touch(json_t *pod, unsigned long long rv)
{
    json_t *meta = json_object_get(pod, "metadata");
    char rv_text[32];
    snprintf(rv_text, sizeof(rv_text), "%llu", rv);
    json_object_set_new(meta, "resourceVersion", json_string(rv_text));
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), i, c)
    {
        const char *type = json_string_value(json_object_get(c, "type"));
        if (type != NULL && strcmp(type, "Ready") == 0)
            later(c, "lastTransitionTime");
    }
    json_t *mf;
    json_array_foreach(json_object_get(meta, "managedFields"), i, mf)
    {
        const char *manager = json_string_value(json_object_get(mf, "manager"));
        if (manager != NULL && strcmp(manager, "kubelet") == 0)
            later(mf, "time");
    }
}

int main(int argc, char **argv)
{
    const char *in_path = NULL, *out_path = NULL;
    unsigned long max = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            out_path = argv[++i];
        } else if (strcmp(argv[i], "--max") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            max = strtoul(argv[++i], &end, 10);
            if (*end || errno) {
                usage(stderr);
                return 2;
            }
        } else if (argv[i][0] != '-' && in_path == NULL) {
            in_path = argv[i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (in_path == NULL) {
        usage(stderr);
        return 2;
    }

    json_error_t jerr;
    json_t *list = json_load_file(in_path, 0, &jerr);
    if (list == NULL) {
        fprintf(stderr, "hnp-watch-events: %s:%d:%d: %s\n", in_path, jerr.line, jerr.column,
                jerr.text);
        return 1;
    }
    json_t *items = json_object_get(list, "items");
    json_t *pods = json_array();
    size_t i;
    json_t *item;
    unsigned long long max_rv = 0;
    json_array_foreach(items, i, item)
    {
        const char *kind = json_string_value(json_object_get(item, "kind"));
        if (kind == NULL || strcmp(kind, "Pod") != 0)
            continue;
        if (max > 0 && json_array_size(pods) >= max)
            break;
        json_object_set_new(item, "apiVersion", json_string("v1"));
        json_array_append(pods, item);
        const char *rv = json_string_value(
            json_object_get(json_object_get(item, "metadata"), "resourceVersion"));
        unsigned long long v = rv ? strtoull(rv, NULL, 10) : 0;
        if (v > max_rv)
            max_rv = v;
    }
    /* The List only holds references now, and jansson frees an item when the last one goes. */
    json_decref(list);

    FILE *out = out_path ? fopen(out_path, "wb") : stdout;
    if (out == NULL) {
        fprintf(stderr, "hnp-watch-events: %s: %s\n", out_path, strerror(errno));
        json_decref(pods);
        return 1;
    }
    size_t n = json_array_size(pods), bytes = 0, written;
    int failed = 0;
    json_array_foreach(pods, i, item)
    {
        if ((written = write_event(out, "ADDED", item)) == 0)
            failed = 1;
        bytes += written;
    }
    json_array_foreach(pods, i, item)
    {
        touch(item, max_rv + 1 + i);
        if ((written = write_event(out, "MODIFIED", item)) == 0)
            failed = 1;
        bytes += written;
    }
    json_decref(pods);
    if ((out_path ? fclose(out) : fflush(out)) != 0)
        failed = 1;
    if (failed) {
        fprintf(stderr, "hnp-watch-events: writing %s failed\n", out_path ? out_path : "stdout");
        return 1;
    }
    fprintf(stderr, "events=%zu added=%zu modified=%zu bytes=%zu\n", 2 * n, n, n, bytes);
    return 0;
}
