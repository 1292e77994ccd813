/*
 * bench_watch.c - hnp-bench-watch: how fast the agent ingests watch events,
 * against jansson's parse of the same bytes.
 *
 *     hnp-bench-watch [--runs N] [--chunk BYTES] EVENTS.jsonl
 *
 * EVENTS.jsonl holds watch event lines (hnp-watch-events writes them). The
 * file is read into memory once; then, per run, three measurements over
 * the same bytes:
 *
 *   floor      json_loadb() + json_decref() of each line (lines split
 *              beforehand, outside the timing): the cost of parsing alone.
 *   reflector  the agent's own reflector (src/watch.c, started with
 *              hnp_reflector_start()) over a scripted transport
 *              (the transport of struct hnp_reflector_options): an empty LIST, then one
 *              watch stream whose bytes are fed, in chunks of BYTES (default
 *              16 KiB, what curl hands its write callback), through
 *              hnp_line_buffer_feed() - the line splitter hnp_kube_stream()
 *              uses - into the reflector's line handler: json_loadb, the
 *              uid/resourceVersion map, trimming, hand-over to the sink. The
 *              sink only drops the object.
 *   agent      the same, and the sink does what the controller does with an
 *              UPSERT (src/agent/agent.c apply_event): hnp_cluster_add_object() into
 *              one struct hnp_cluster, then json_decref(). Not included:
 *              TLS and HTTP (curl), and the hop through the agent's inbox
 *              (a mutex, a calloc and a condition-variable signal per
 *              event), which is internal to agent.c.
 *
 * The reflector modes are timed inside the stream (from its first byte to
 * the return of the last line's handler), on the reflector's thread; wall
 * and thread CPU time are both reported. Each run uses a new reflector and
 * a new cluster. Prints a markdown table per run and the medians.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "hnsnetpol/cluster.h"
#include "client.h"
#include "log.h"
#include "watch.h"

#define ADDED_PREFIX "{\"type\":\"ADDED\""

static double now_s(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the input ---------------------------------------------------------- */

struct input {
    char *bytes;
    size_t len;
    size_t *off; /* start of each line */
    size_t *n;   /* length of each line, without its newline */
    size_t lines;
    size_t added; /* lines that are ADDED events (they come first) */
};

static int read_input(const char *path, struct input *in)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "hnp-bench-watch: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 20;
    in->bytes = malloc(cap);
    in->len = 0;
    size_t got;
    while (in->bytes != NULL && (got = fread(in->bytes + in->len, 1, cap - in->len, f)) > 0) {
        in->len += got;
        if (in->len == cap) {
            char *p = realloc(in->bytes, cap * 2);
            if (p == NULL) {
                free(in->bytes);
                in->bytes = NULL;
                break;
            }
            in->bytes = p;
            cap *= 2;
        }
    }
    int bad = ferror(f) || in->bytes == NULL;
    fclose(f);
    if (bad) {
        fprintf(stderr, "hnp-bench-watch: cannot read %s\n", path);
        return -1;
    }
    size_t lines = 0;
    for (size_t i = 0; i < in->len; i++)
        lines += in->bytes[i] == '\n';
    lines++;
    in->off = malloc(lines * sizeof(*in->off));
    in->n = malloc(lines * sizeof(*in->n));
    if (in->off == NULL || in->n == NULL)
        return -1;
    in->lines = 0;
    in->added = 0;
    size_t start = 0;
    for (size_t i = 0; i <= in->len; i++) {
        if (i == in->len || in->bytes[i] == '\n') {
            if (i > start) {
                in->off[in->lines] = start;
                in->n[in->lines] = i - start;
                if (i - start >= sizeof(ADDED_PREFIX) - 1 &&
                    memcmp(in->bytes + start, ADDED_PREFIX, sizeof(ADDED_PREFIX) - 1) == 0)
                    in->added++;
                in->lines++;
            }
            start = i + 1;
        }
    }
    return 0;
}

/* ---- the floor ---------------------------------------------------------- */

struct result {
    double wall, cpu;
    double wall_added; /* wall time until the last ADDED event was handled */
    size_t events, failures;
};

static struct result run_floor(const struct input *in)
{
    struct result r = {0};
    double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
    for (size_t i = 0; i < in->lines; i++) {
        json_error_t jerr;
        json_t *v = json_loadb(in->bytes + in->off[i], in->n[i], 0, &jerr);
        if (v == NULL)
            r.failures++;
        json_decref(v);
        if (i + 1 == in->added)
            r.wall_added = now_s(CLOCK_MONOTONIC) - w0;
    }
    r.wall = now_s(CLOCK_MONOTONIC) - w0;
    r.cpu = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    r.events = in->lines;
    return r;
}

/* ---- the reflector over a scripted transport ---------------------------- */

struct bench {
    const struct input *in;
    size_t chunk;
    struct hnp_cluster *cluster; /* NULL: the sink only drops objects */
    const char *api_source;

    /* Written by the reflector's thread. */
    size_t upserts, failures;
    double w0, c0, w_added;
    struct result res;
    enum hnp_err stream_rc;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
};

static struct bench *current; /* the transport's functions have no context of their own */
static char dummy_client;

static enum hnp_err t_client_new(const struct hnp_kube_config *cfg, struct hnp_kube_client **out,
                                 struct hnp_error *err)
{
    *out = (struct hnp_kube_client *)(void *)&dummy_client;
    return HNP_OK;
}

static void t_client_free(struct hnp_kube_client *client) {}

/* The LIST: empty, resourceVersion 1. */
static enum hnp_err t_request(struct hnp_kube_client *client, const char *method, const char *path,
                              const json_t *body, const char *content_type, size_t max_body,
                              long *status, json_t **response, struct hnp_error *err)
{
    *status = 200;
    if (response != NULL)
        *response = json_pack("{s:s, s:s, s:{s:s}, s:[]}", "kind", "PodList", "apiVersion", "v1",
                              "metadata", "resourceVersion", "1", "items");
    return HNP_OK;
}

static void finish(struct bench *b)
{
    pthread_mutex_lock(&b->mu);
    b->done = 1;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

/* The watch: feed every byte once, then wait to be stopped. */
static enum hnp_err t_stream(struct hnp_kube_client *client, const char *path, hnp_kube_line_fn fn,
                             void *ctx, const volatile int *stop, size_t max_line,
                             long idle_timeout_ms, struct hnp_error *err)
{
    struct bench *b = current;
    pthread_mutex_lock(&b->mu);
    int first = !b->done;
    pthread_mutex_unlock(&b->mu);
    if (first) {
        const struct input *in = b->in;
        struct hnp_line_buffer lb;
        hnp_line_buffer_init(&lb, max_line);
        b->w0 = now_s(CLOCK_MONOTONIC);
        b->c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
        enum hnp_err rc = HNP_OK;
        for (size_t off = 0; off < in->len && rc == HNP_OK; off += b->chunk) {
            size_t n = in->len - off < b->chunk ? in->len - off : b->chunk;
            rc = hnp_line_buffer_feed(&lb, in->bytes + off, n, fn, ctx);
        }
        if (rc == HNP_OK)
            rc = hnp_line_buffer_finish(&lb, fn, ctx);
        hnp_line_buffer_free(&lb);
        b->res.wall = now_s(CLOCK_MONOTONIC) - b->w0;
        b->res.cpu = now_s(CLOCK_THREAD_CPUTIME_ID) - b->c0;
        b->stream_rc = rc;
        finish(b);
        if (rc != HNP_OK)
            return rc;
    }
    while (!*stop)
        sleep_ms(1);
    return HNP_ERR_STOPPED;
}

static const struct hnp_watch_transport scripted = {
    .client_new = t_client_new,
    .client_free = t_client_free,
    .client_set_stop = NULL,
    .request = t_request,
    .stream = t_stream,
};

/* The sink: what the controller does with the event (or nothing but the decref). */
static void sink(struct hnp_watch_event *event, void *ctx)
{
    struct bench *b = ctx;
    if (event->type == HNP_WATCH_UPSERT) {
        if (b->cluster != NULL) {
            struct hnp_source src = {.file = b->api_source, .line = 0};
            struct hnp_error err = {0};
            if (hnp_cluster_add_object(b->cluster, event->kind, event->object, &src, &err) !=
                HNP_OK) {
                if (b->failures++ == 0)
                    fprintf(stderr, "hnp-bench-watch: object not taken: %s: %s\n", err.where,
                            err.message);
            }
        }
        if (++b->upserts == b->in->added)
            b->w_added = now_s(CLOCK_MONOTONIC) - b->w0;
    } else if (event->type == HNP_WATCH_DELETE && b->cluster != NULL) {
        const json_t *meta = json_object_get(event->object, "metadata");
        const char *ns = json_string_value(json_object_get(meta, "namespace"));
        const char *name = json_string_value(json_object_get(meta, "name"));
        if (ns != NULL && name != NULL)
            hnp_cluster_delete_pod(b->cluster, ns, name);
    }
    json_decref(event->object);
}

static int run_reflector(const struct input *in, size_t chunk, int with_cluster, struct result *out)
{
    struct bench b = {0};
    b.in = in;
    b.chunk = chunk;
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.cv, NULL);
    if (with_cluster) {
        b.cluster = hnp_cluster_new();
        if (b.cluster == NULL ||
            (b.api_source = hnp_strtab_intern(hnp_cluster_strtab(b.cluster), "api")) == NULL) {
            fprintf(stderr, "hnp-bench-watch: out of memory\n");
            return -1;
        }
    }
    current = &b;

    struct hnp_kube_config cfg = {0};
    struct hnp_reflector_options opt = {.transport = &scripted};
    struct hnp_reflector *r = NULL;
    struct hnp_error err = {0};
    enum hnp_err rc = hnp_reflector_start(&cfg, HNP_KIND_POD, &opt, sink, &b, NULL, &r, &err);
    if (rc != HNP_OK) {
        fprintf(stderr, "hnp-bench-watch: hnp_reflector_start: %s\n", err.message);
        hnp_cluster_free(b.cluster);
        return -1;
    }
    pthread_mutex_lock(&b.mu);
    while (!b.done)
        pthread_cond_wait(&b.cv, &b.mu);
    pthread_mutex_unlock(&b.mu);
    hnp_reflector_stop(r);
    current = NULL;

    if (b.stream_rc != HNP_OK)
        fprintf(stderr, "hnp-bench-watch: the stream ended with %s\n", hnp_err_name(b.stream_rc));
    if (with_cluster && hnp_cluster_pod_count(b.cluster) * 2 < in->added)
        fprintf(stderr, "hnp-bench-watch: the cluster holds only %zu pods\n",
                hnp_cluster_pod_count(b.cluster));
    hnp_cluster_free(b.cluster);
    pthread_cond_destroy(&b.cv);
    pthread_mutex_destroy(&b.mu);
    *out = b.res;
    out->events = b.upserts;
    out->failures = b.failures;
    out->wall_added = b.w_added;
    return b.stream_rc == HNP_OK ? 0 : -1;
}

/* ---- reporting ---------------------------------------------------------- */

static const char *const mode_names[] = {"floor (json_loadb + json_decref)",
                                         "reflector (split, parse, dedup, trim)",
                                         "agent (reflector + hnp_cluster_add_object)"};
#define N_MODES 3

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void row(const char *name, const struct input *in, double wall, double cpu, double added,
                double floor_wall, double floor_cpu)
{
    double mb = (double)in->len / 1e6;
    size_t modified = in->lines - in->added;
    printf("| %s | %.3f | %.3f | %.0f | %.0f | %.1f | %.0f | %.0f | %.2f | %.2f |\n", name, wall,
           cpu, (double)in->lines / wall, (double)in->lines / cpu, mb / wall,
           added > 0 ? (double)in->added / added : 0.0,
           wall > added && modified > 0 ? (double)modified / (wall - added) : 0.0,
           floor_wall > 0 ? wall / floor_wall : 0.0, floor_cpu > 0 ? cpu / floor_cpu : 0.0);
}

static void header(void)
{
    printf("| mode | wall s | cpu s | events/s (wall) | events/s (cpu) | MB/s (wall) | "
           "ADDED/s | MODIFIED/s | x floor (wall) | x floor (cpu) |\n"
           "|---|---|---|---|---|---|---|---|---|---|\n");
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int runs = 3;
    size_t chunk = 16384;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc) {
            chunk = (size_t)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: hnp-bench-watch [--runs N] [--chunk BYTES] EVENTS.jsonl\n");
            return 0;
        } else if (argv[i][0] != '-' && path == NULL) {
            path = argv[i];
        } else {
            fprintf(stderr, "usage: hnp-bench-watch [--runs N] [--chunk BYTES] EVENTS.jsonl\n");
            return 2;
        }
    }
    if (path == NULL || runs < 1 || runs > 100 || chunk == 0) {
        fprintf(stderr, "usage: hnp-bench-watch [--runs N] [--chunk BYTES] EVENTS.jsonl\n");
        return 2;
    }
    /* The reflector logs its list at info level; keep the output to the numbers. */
    hnp_log_setup(HNP_LOG_WARN, HNP_LOG_TEXT, NULL);

    struct input in = {0};
    if (read_input(path, &in) != 0)
        return 1;
    printf("input: %s: %zu events (%zu ADDED, %zu MODIFIED), %.1f MB, %.0f bytes/event; "
           "chunks of %zu bytes; %d runs\n\n",
           path, in.lines, in.added, in.lines - in.added, (double)in.len / 1e6,
           (double)in.len / (double)in.lines, chunk, runs);

    double wall[N_MODES][100], cpu[N_MODES][100], added[N_MODES][100];
    int failed = 0;
    for (int run = 0; run < runs; run++) {
        struct result res[N_MODES];
        res[0] = run_floor(&in);
        if (res[0].failures > 0) {
            fprintf(stderr, "hnp-bench-watch: %zu lines are not JSON\n", res[0].failures);
            failed = 1;
        }
        for (int m = 1; m < N_MODES; m++) {
            if (run_reflector(&in, chunk, m == 2, &res[m]) != 0)
                failed = 1;
            if (res[m].events != in.lines)
                fprintf(stderr, "hnp-bench-watch: %s: %zu of %zu events reached the sink\n",
                        mode_names[m], res[m].events, in.lines);
            if (res[m].failures > 0) {
                fprintf(stderr, "hnp-bench-watch: %s: %zu objects not taken\n", mode_names[m],
                        res[m].failures);
                failed = 1;
            }
        }
        printf("run %d\n\n", run + 1);
        header();
        for (int m = 0; m < N_MODES; m++) {
            row(mode_names[m], &in, res[m].wall, res[m].cpu, res[m].wall_added, res[0].wall,
                res[0].cpu);
            wall[m][run] = res[m].wall;
            cpu[m][run] = res[m].cpu;
            added[m][run] = res[m].wall_added;
        }
        printf("\n");
    }
    printf("median of %d runs\n\n", runs);
    header();
    double floor_wall = median(wall[0], runs), floor_cpu = median(cpu[0], runs);
    for (int m = 0; m < N_MODES; m++) {
        double w = median(wall[m], runs);
        row(mode_names[m], &in, w, median(cpu[m], runs), median(added[m], runs), floor_wall,
            floor_cpu);
    }
    free(in.bytes);
    free(in.off);
    free(in.n);
    return failed;
}
