/*
 * gen_cluster.c - hnp-gen-cluster: writes a synthetic cluster (Pods,
 * Namespaces, NetworkPolicies) as one kubectl-style List, the input of the
 * `hnsnetpol translate` benchmarks (tests/bench/run-bench.sh).
 *
 * The output looks like `kubectl get pods,namespaces,networkpolicies -A -o
 * json` (4-space indent, keys sorted) or `-o yaml`, and the objects are sized
 * and shaped like real ones: Deployment pods with ownerReferences,
 * managedFields, probes, projected service-account volumes, container
 * statuses; namespaces applied with kubectl; a mix of policies including
 * ~2% the Windows data plane cannot enforce. `--profile lean` writes the
 * same cluster with objects cut down to about what translation reads (see
 * lean_item()). The same options and seed give the same bytes.
 *
 * Each item is built as a jansson tree, written, and freed, so memory stays
 * flat whatever the cluster size. Node k (node-0001 is k = 1) hosts pods in
 * 10.(k/256).(k%256).0/24; its own address is 10.240.(k/256).(k%256).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* ---- output buffer ------------------------------------------------------ */

struct out {
    FILE *f;
    char *buf;
    size_t len;
    size_t cap;
    int failed;
};

static void out_flush(struct out *o)
{
    if (o->len > 0 && fwrite(o->buf, 1, o->len, o->f) != o->len)
        o->failed = 1;
    o->len = 0;
}

static void out_write(struct out *o, const char *data, size_t n)
{
    if (n >= o->cap) {
        out_flush(o);
        if (fwrite(data, 1, n, o->f) != n)
            o->failed = 1;
        return;
    }
    if (o->len + n > o->cap)
        out_flush(o);
    memcpy(o->buf + o->len, data, n);
    o->len += n;
}

static void out_str(struct out *o, const char *s)
{
    out_write(o, s, strlen(s));
}

static void out_spaces(struct out *o, int n)
{
    static const char spaces[] = "                                                                ";
    while (n > 0) {
        int k = n < 64 ? n : 64;
        out_write(o, spaces, (size_t)k);
        n -= k;
    }
}

/* ---- deterministic randomness ------------------------------------------- */

struct rng {
    uint64_t s;
};

/* splitmix64: tiny, fast, and good enough to shape test data. */
static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned rng_below(struct rng *r, unsigned n)
{
    return n ? (unsigned)(rng_next(r) % n) : 0;
}

static void rng_uid(struct rng *r, char buf[40])
{
    uint64_t a = rng_next(r), b = rng_next(r);
    snprintf(buf, 40, "%08x-%04x-4%03x-%04x-%012" PRIx64, (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffffu, (unsigned)a & 0xfffu,
             ((unsigned)(b >> 48) & 0x3fffu) | 0x8000u, (uint64_t)(b & 0xffffffffffffULL));
}

static void rng_hex(struct rng *r, char *buf, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 16 == 0)
            v = rng_next(r);
        buf[i] = hex[v & 15];
        v >>= 4;
    }
    buf[n] = '\0';
}

/* The alphabet of Kubernetes' generated name suffixes (rand.SafeEncodeString). */
static void rng_k8s_suffix(struct rng *r, char *buf, size_t n)
{
    static const char alnum[] = "bcdfghjklmnpqrstvwxz2456789";
    uint64_t v = rng_next(r);
    for (size_t i = 0; i < n; i++) {
        buf[i] = alnum[v % 27];
        v /= 27;
        if (v < 27)
            v = rng_next(r);
    }
    buf[n] = '\0';
}

/* ---- time --------------------------------------------------------------- */

/* RFC 3339 UTC for seconds since the epoch (days-to-civil, no libc timezone). */
static void fmt_time(long long t, char buf[80])
{
    long long days = t / 86400, secs = t % 86400;
    long long z = days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long y = yoe + era * 400;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    long long d = doy - (153 * mp + 2) / 5 + 1;
    long long m = mp < 10 ? mp + 3 : mp - 9;
    y += (m <= 2);
    snprintf(buf, 80, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", y, m, d, secs / 3600,
             secs / 60 % 60, secs % 60);
}

#define BASE_TIME 1709542800LL /* 2024-03-04T09:00:00Z */

/* ---- the shape of the cluster ------------------------------------------- */

struct port_def {
    const char *name;
    int port;
    const char *protocol;
};

struct app_kind {
    const char *name;
    const char *tier;
    struct port_def ports[2];
    int n_ports;
    const char *cpu_req, *mem_req, *cpu_lim, *mem_lim;
};

static const struct app_kind app_kinds[] = {
    {"web",
     "frontend",
     {{"http", 80, "TCP"}, {"https", 443, "TCP"}},
     2,
     "250m",
     "256Mi",
     "1",
     "512Mi"},
    {"api",
     "backend",
     {{"http", 8080, "TCP"}, {"metrics", 9102, "TCP"}},
     2,
     "500m",
     "512Mi",
     "2",
     "1Gi"},
    {"worker", "backend", {{"metrics", 9102, "TCP"}}, 1, "1", "1Gi", "2", "2Gi"},
    {"cache", "data", {{"redis", 6379, "TCP"}}, 1, "250m", "1Gi", "1", "2Gi"},
    {"db", "data", {{"mssql", 1433, "TCP"}}, 1, "2", "4Gi", "4", "8Gi"},
    {"frontend", "frontend", {{"http", 3000, "TCP"}}, 1, "100m", "128Mi", "500m", "256Mi"},
    {"backend",
     "backend",
     {{"http", 8080, "TCP"}, {"grpc", 9000, "TCP"}},
     2,
     "500m",
     "512Mi",
     "1",
     "1Gi"},
    {"auth", "backend", {{"http", 8080, "TCP"}}, 1, "250m", "256Mi", "1", "512Mi"},
    {"scheduler", "backend", {{"metrics", 9102, "TCP"}}, 1, "100m", "128Mi", "500m", "256Mi"},
    {"indexer",
     "data",
     {{"http", 9200, "TCP"}, {"transport", 9300, "TCP"}},
     2,
     "1",
     "2Gi",
     "2",
     "4Gi"},
    {"proxy",
     "frontend",
     {{"http", 8080, "TCP"}, {"admin", 9901, "TCP"}},
     2,
     "250m",
     "128Mi",
     "1",
     "256Mi"},
    {"metrics", "backend", {{"metrics", 9090, "TCP"}}, 1, "250m", "512Mi", "1", "1Gi"},
    {"queue",
     "data",
     {{"amqp", 5672, "TCP"}, {"management", 15672, "TCP"}},
     2,
     "500m",
     "1Gi",
     "1",
     "2Gi"},
    {"cron", "backend", {{NULL, 0, NULL}}, 0, "100m", "128Mi", "500m", "256Mi"},
    {"importer", "backend", {{"http", 8080, "TCP"}}, 1, "250m", "256Mi", "1", "512Mi"},
    {"exporter",
     "backend",
     {{"syslog", 514, "UDP"}, {"metrics", 9102, "TCP"}},
     2,
     "100m",
     "128Mi",
     "500m",
     "256Mi"},
};
#define N_APP_KINDS (sizeof app_kinds / sizeof app_kinds[0])
#define APP_COREDNS ((unsigned)N_APP_KINDS) /* kube-system's DNS, not in the table */

static const char *const ns_words[] = {
    "payments",  "checkout", "catalog",       "search",  "identity", "billing",  "orders",
    "inventory", "shipping", "analytics",     "reports", "notify",   "gateway",  "media",
    "recommend", "reviews",  "loyalty",       "pricing", "fraud",    "ledger",   "support",
    "partners",  "mobile",   "notifications", "storage", "audit",    "campaign", "pos"};
#define N_NS_WORDS (sizeof ns_words / sizeof ns_words[0])

static const char *const envs[] = {"prod", "staging", "dev", "qa"};

#define MAX_APPS 4

struct app_plan {
    unsigned kind; /* index in app_kinds, or APP_COREDNS */
    unsigned version;
    int sidecar;
    unsigned long replicas;
    char hash[12];
    char rs_uid[40];
    char token_suffix[8];
};

struct ns_plan {
    char name[64];
    char uid[40];
    unsigned word;
    unsigned env;
    int istio;
    unsigned n_apps;
    struct app_plan apps[MAX_APPS];
};

struct gen {
    struct rng rng;
    unsigned long n_pods, n_namespaces, n_policies, n_nodes;
    struct ns_plan *ns;
    unsigned long long resource_version;
    struct out *o;
    int yaml;
    int no_managed_fields;
    int lean; /* --profile lean: see lean_item() */
    unsigned long items;
};

static const char *app_name(const struct app_plan *ap)
{
    return ap->kind == APP_COREDNS ? "coredns" : app_kinds[ap->kind].name;
}

static const char *app_tier(const struct app_plan *ap)
{
    return ap->kind == APP_COREDNS ? "platform" : app_kinds[ap->kind].tier;
}

static void next_rv(struct gen *g, char buf[32])
{
    snprintf(buf, 32, "%llu", g->resource_version++);
}

/* Decide namespaces, their apps and how many pods each app runs. */
static int plan_cluster(struct gen *g)
{
    g->ns = calloc(g->n_namespaces, sizeof *g->ns);
    if (!g->ns)
        return -1;
    unsigned long base = g->n_pods / g->n_namespaces, rem = g->n_pods % g->n_namespaces;
    for (unsigned long i = 0; i < g->n_namespaces; i++) {
        struct ns_plan *n = &g->ns[i];
        unsigned long pods = base + (i < rem);
        n->word = (unsigned)(i % N_NS_WORDS);
        n->env = (unsigned)((i / N_NS_WORDS) % 4);
        if (i == 0)
            snprintf(n->name, sizeof n->name, "kube-system");
        else if (i == 1)
            snprintf(n->name, sizeof n->name, "default");
        else
            snprintf(n->name, sizeof n->name, "%s-%s-%04lu", ns_words[n->word], envs[n->env], i);
        rng_uid(&g->rng, n->uid);
        n->istio = rng_below(&g->rng, 4) == 0;
        unsigned want = 1 + rng_below(&g->rng, MAX_APPS);
        if (pods < want)
            want = pods > 0 ? (unsigned)pods : 1;
        n->n_apps = want;
        unsigned first = rng_below(&g->rng, (unsigned)N_APP_KINDS);
        for (unsigned a = 0; a < want; a++) {
            struct app_plan *ap = &n->apps[a];
            ap->kind = (first + a * 3) % (unsigned)N_APP_KINDS;
            if (i == 0 && a == 0)
                ap->kind = APP_COREDNS;
            ap->version = 1 + rng_below(&g->rng, 3);
            ap->sidecar = rng_below(&g->rng, 6) == 0;
            ap->replicas = pods / want + (a < pods % want);
            rng_k8s_suffix(&g->rng, ap->hash, 9 + rng_below(&g->rng, 2));
            rng_uid(&g->rng, ap->rs_uid);
            rng_k8s_suffix(&g->rng, ap->token_suffix, 5);
        }
    }
    return 0;
}

/* ---- JSON helpers ------------------------------------------------------- */

static void set(json_t *obj, const char *key, json_t *value)
{
    json_object_set_new(obj, key, value);
}

/* {".": {}, "f:a": {}, "f:b": {}, ...} for managedFields; NULL-terminated names. */
static json_t *fset(int dot, ...)
{
    json_t *o = json_object();
    char key[256];
    va_list ap;
    if (dot)
        set(o, ".", json_object());
    va_start(ap, dot);
    for (const char *n = va_arg(ap, const char *); n; n = va_arg(ap, const char *)) {
        snprintf(key, sizeof key, "f:%s", n);
        set(o, key, json_object());
    }
    va_end(ap);
    return o;
}

/* {".": {}, "f:<key>": {}...} for every key of obj. */
static json_t *fset_keys(const json_t *obj)
{
    json_t *o = json_object();
    char key[256];
    set(o, ".", json_object());
    for (void *it = json_object_iter((json_t *)obj); it;
         it = json_object_iter_next((json_t *)obj, it)) {
        snprintf(key, sizeof key, "f:%s", json_object_iter_key(it));
        set(o, key, json_object());
    }
    return o;
}

static json_t *managed_entry(const char *manager, const char *subresource, json_t *fields,
                             const char *time, const char *api_version)
{
    json_t *e =
        json_pack("{s:s,s:s,s:o,s:s,s:s,s:s}", "apiVersion", api_version, "fieldsType", "FieldsV1",
                  "fieldsV1", fields, "manager", manager, "operation", "Update", "time", time);
    if (subresource)
        set(e, "subresource", json_string(subresource));
    return e;
}

/* ---- Namespaces --------------------------------------------------------- */

static json_t *build_namespace(struct gen *g, unsigned long i)
{
    const struct ns_plan *n = &g->ns[i];
    char created[80], rv[32];
    fmt_time(BASE_TIME + (long long)i * 37, created);
    next_rv(g, rv);

    json_t *labels = json_pack("{s:s}", "kubernetes.io/metadata.name", n->name);
    if (i >= 2) {
        set(labels, "team", json_string(ns_words[n->word]));
        set(labels, "env", json_string(envs[n->env]));
        set(labels, "cost-center", json_sprintf("cc-%04u", 1000 + n->word * 7));
        if (n->istio)
            set(labels, "istio-injection", json_string("enabled"));
    }

    json_t *meta = json_pack("{s:s,s:O,s:s,s:s,s:s}", "creationTimestamp", created, "labels",
                             labels, "name", n->name, "resourceVersion", rv, "uid", n->uid);
    json_t *mf = json_array();
    if (i >= 2) {
        /* Created with `kubectl apply`: the last-applied annotation and its manager. */
        json_t *applied_labels = json_deep_copy(labels);
        json_object_del(applied_labels, "kubernetes.io/metadata.name");
        json_t *applied =
            json_pack("{s:s,s:s,s:{s:o,s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata",
                      "labels", applied_labels, "name", n->name);
        /* kubectl stores it compact, with a trailing newline. */
        char *text = json_dumps(applied, JSON_COMPACT | JSON_SORT_KEYS);
        json_t *withnl = json_sprintf("%s\n", text);
        free(text);
        json_decref(applied);
        json_t *annotations = json_object();
        set(annotations, "kubectl.kubernetes.io/last-applied-configuration", withnl);
        set(meta, "annotations", annotations);
        json_t *mf_labels = fset_keys(labels);
        json_object_del(mf_labels, "f:kubernetes.io/metadata.name");
        json_array_append_new(
            mf, managed_entry(
                    "kubectl-client-side-apply", NULL,
                    json_pack("{s:{s:o,s:o}}", "f:metadata", "f:annotations",
                              fset(1, "kubectl.kubernetes.io/last-applied-configuration", NULL),
                              "f:labels", mf_labels),
                    created, "v1"));
    } else {
        json_array_append_new(mf,
                              managed_entry("kube-apiserver", NULL,
                                            json_pack("{s:{s:o}}", "f:metadata", "f:labels",
                                                      fset(1, "kubernetes.io/metadata.name", NULL)),
                                            created, "v1"));
    }
    set(meta, "managedFields", mf);
    json_decref(labels);

    return json_pack("{s:s,s:s,s:o,s:{s:[s]},s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                     "metadata", meta, "spec", "finalizers", "kubernetes", "status", "phase",
                     "Active");
}

/* ---- Pods --------------------------------------------------------------- */

static void ip4(char buf[24], unsigned a, unsigned b, unsigned c, unsigned d)
{
    snprintf(buf, 24, "%u.%u.%u.%u", a & 255u, b & 255u, c & 255u, d & 255u);
}

static json_t *container_ports(const struct app_plan *ap)
{
    json_t *ports = json_array();
    if (ap->kind == APP_COREDNS) {
        json_array_append_new(ports, json_pack("{s:i,s:s,s:s}", "containerPort", 53, "name", "dns",
                                               "protocol", "UDP"));
        json_array_append_new(ports, json_pack("{s:i,s:s,s:s}", "containerPort", 53, "name",
                                               "dns-tcp", "protocol", "TCP"));
        json_array_append_new(ports, json_pack("{s:i,s:s,s:s}", "containerPort", 9153, "name",
                                               "metrics", "protocol", "TCP"));
        return ports;
    }
    const struct app_kind *k = &app_kinds[ap->kind];
    for (int i = 0; i < k->n_ports; i++)
        json_array_append_new(ports,
                              json_pack("{s:i,s:s,s:s}", "containerPort", k->ports[i].port, "name",
                                        k->ports[i].name, "protocol", k->ports[i].protocol));
    return ports;
}

/* managedFields entry of one container in the controller's spec fields. */
static json_t *container_fields(const json_t *c)
{
    json_t *f = fset(1, "image", "imagePullPolicy", "name", "terminationMessagePath",
                     "terminationMessagePolicy", NULL);
    json_t *v;
    char key[256];
    if ((v = json_object_get(c, "env"))) {
        json_t *env = fset(1, NULL);
        size_t i;
        json_t *e;
        for (i = 0; i < json_array_size(v); i++) {
            e = json_array_get(v, i);
            snprintf(key, sizeof key, "k:{\"name\":\"%s\"}",
                     json_string_value(json_object_get(e, "name")));
            json_t *ef = json_object_get(e, "value") ? fset(1, "name", "value", NULL)
                                                     : fset(1, "name", NULL);
            if (json_object_get(e, "valueFrom"))
                set(ef, "f:valueFrom",
                    json_pack("{s:{},s:{s:{},s:{},s:{}}}", ".", "f:fieldRef", ".", "f:apiVersion",
                              "f:fieldPath"));
            set(env, key, ef);
        }
        set(f, "f:env", env);
    }
    if ((v = json_object_get(c, "ports")) && json_array_size(v) > 0) {
        json_t *ports = fset(1, NULL);
        size_t i;
        json_t *p;
        for (i = 0; i < json_array_size(v); i++) {
            p = json_array_get(v, i);
            snprintf(key, sizeof key,
                     "k:{\"containerPort\":%" JSON_INTEGER_FORMAT ",\"protocol\":\"%s\"}",
                     json_integer_value(json_object_get(p, "containerPort")),
                     json_string_value(json_object_get(p, "protocol")));
            set(ports, key, fset(1, "containerPort", "name", "protocol", NULL));
        }
        set(f, "f:ports", ports);
    }
    if (json_object_get(c, "readinessProbe"))
        set(f, "f:readinessProbe",
            json_pack("{s:{},s:{},s:{s:{},s:{},s:{},s:{}},s:{},s:{},s:{}}", ".",
                      "f:failureThreshold", "f:httpGet", ".", "f:path", "f:port", "f:scheme",
                      "f:periodSeconds", "f:successThreshold", "f:timeoutSeconds"));
    set(f, "f:resources",
        json_pack("{s:{},s:o,s:o}", ".", "f:limits", fset(1, "cpu", "memory", NULL), "f:requests",
                  fset(1, "cpu", "memory", NULL)));
    if ((v = json_object_get(c, "volumeMounts"))) {
        json_t *vm = fset(1, NULL);
        size_t i;
        json_t *m;
        for (i = 0; i < json_array_size(v); i++) {
            m = json_array_get(v, i);
            const char *path = json_string_value(json_object_get(m, "mountPath"));
            if (strncmp(path, "/var/run/secrets", 16) == 0)
                continue; /* added by the service-account admission, not the controller */
            json_t *ks = json_pack("{s:s}", "mountPath", path);
            char *kv = json_dumps(ks, JSON_COMPACT);
            snprintf(key, sizeof key, "k:%s", kv);
            free(kv);
            json_decref(ks);
            set(vm, key, fset(1, "mountPath", "name", "readOnly", NULL));
        }
        set(f, "f:volumeMounts", vm);
    }
    return f;
}

static json_t *build_container(const struct ns_plan *n, const struct app_plan *ap,
                               const char *token_volume)
{
    const char *app = app_name(ap);
    char image[160], cm_path[64];
    if (ap->kind == APP_COREDNS)
        snprintf(image, sizeof image, "mcr.microsoft.com/oss/kubernetes/coredns:v1.9.4");
    else
        snprintf(image, sizeof image, "contoso.azurecr.io/%s/%s:%u.%u.%u", ns_words[n->word], app,
                 ap->version, (unsigned)(n->word % 7), (unsigned)(ap->kind * 3 % 11));
    snprintf(cm_path, sizeof cm_path, "C:\\app\\config");

    const struct app_kind *k = ap->kind == APP_COREDNS ? NULL : &app_kinds[ap->kind];
    json_t *env = json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:{s:{s:s,s:s}}}]", "name", "APP_ENV",
                            "value", envs[n->env], "name", "LOG_LEVEL", "value",
                            ap->version == 1 ? "info" : "warning", "name", "POD_NAME", "valueFrom",
                            "fieldRef", "apiVersion", "v1", "fieldPath", "metadata.name");

    json_t *c = json_pack(
        "{s:o,s:s,s:s,s:s,s:{s:{s:s,s:s},s:{s:s,s:s}},s:s,s:s,s:[{s:s,s:s,s:b},{s:s,s:s,s:b}]}",
        "env", env, "image", image, "imagePullPolicy", "IfNotPresent", "name", app, "resources",
        "limits", "cpu", k ? k->cpu_lim : "100m", "memory", k ? k->mem_lim : "170Mi", "requests",
        "cpu", k ? k->cpu_req : "100m", "memory", k ? k->mem_req : "70Mi", "terminationMessagePath",
        "/dev/termination-log", "terminationMessagePolicy", "File", "volumeMounts", "mountPath",
        cm_path, "name", "config", "readOnly", 1, "mountPath",
        "/var/run/secrets/kubernetes.io/serviceaccount", "name", token_volume, "readOnly", 1);
    json_t *ports = container_ports(ap);
    if (json_array_size(ports) > 0)
        set(c, "ports", ports);
    else
        json_decref(ports);
    if (k && k->n_ports > 0 && strcmp(k->ports[0].protocol, "TCP") == 0)
        set(c, "readinessProbe",
            json_pack("{s:i,s:{s:s,s:s,s:s},s:i,s:i,s:i}", "failureThreshold", 3, "httpGet", "path",
                      "/healthz", "port", k->ports[0].name, "scheme", "HTTP", "periodSeconds", 10,
                      "successThreshold", 1, "timeoutSeconds", 1));
    return c;
}

static json_t *build_sidecar(const char *token_volume)
{
    return json_pack(
        "{s:s,s:s,s:s,s:[{s:i,s:s,s:s}],s:{s:{s:s,s:s},s:{s:s,s:s}},s:s,s:s,"
        "s:[{s:s,s:s,s:b},{s:s,s:s,s:b}]}",
        "image", "mcr.microsoft.com/oss/fluent/fluent-bit:2.1.8", "imagePullPolicy", "IfNotPresent",
        "name", "log-agent", "ports", "containerPort", 2020, "name", "fb-metrics", "protocol",
        "TCP", "resources", "limits", "cpu", "200m", "memory", "128Mi", "requests", "cpu", "50m",
        "memory", "64Mi", "terminationMessagePath", "/dev/termination-log",
        "terminationMessagePolicy", "File", "volumeMounts", "mountPath", "C:\\var\\log\\containers",
        "name", "varlog", "readOnly", 1, "mountPath",
        "/var/run/secrets/kubernetes.io/serviceaccount", "name", token_volume, "readOnly", 1);
}

static json_t *container_status(struct gen *g, const char *name, const char *image,
                                const char *started)
{
    char hex[80], cid[96], image_id[256];
    const char *tag = strrchr(image, ':');
    int repo_len = (int)(tag ? (size_t)(tag - image) : strlen(image));
    rng_hex(&g->rng, hex, 64);
    snprintf(cid, sizeof cid, "containerd://%s", hex);
    rng_hex(&g->rng, hex, 64);
    snprintf(image_id, sizeof image_id, "%.*s@sha256:%s", repo_len, image, hex);
    return json_pack("{s:s,s:s,s:s,s:{},s:s,s:b,s:i,s:b,s:{s:{s:s}}}", "containerID", cid, "image",
                     image, "imageID", image_id, "lastState", "name", name, "ready", 1,
                     "restartCount", 0, "started", 1, "state", "running", "startedAt", started);
}

static json_t *build_pod(struct gen *g, const struct ns_plan *n, const struct app_plan *ap,
                         unsigned long p)
{
    const char *app = app_name(ap);
    unsigned long k = p % g->n_nodes + 1, slot = p / g->n_nodes;
    char name[160], gen_name[128], uid[40], rv[32], pod_ip[24], host_ip[24], node[32];
    char t_created[80], t_sched[80], t_started[80], t_ready[80], suffix[8];
    char token_volume[40], cm[96], rs_name[96];

    rng_k8s_suffix(&g->rng, suffix, 5);
    snprintf(rs_name, sizeof rs_name, "%s-%s", app, ap->hash);
    snprintf(gen_name, sizeof gen_name, "%s-", rs_name);
    snprintf(name, sizeof name, "%s%s", gen_name, suffix);
    rng_uid(&g->rng, uid);
    next_rv(g, rv);
    ip4(pod_ip, 10, (unsigned)(k >> 8), (unsigned)k, (unsigned)slot + 2);
    ip4(host_ip, 10, 240, (unsigned)(k >> 8), (unsigned)k);
    snprintf(node, sizeof node, "node-%04lu", k);
    long long t0 = BASE_TIME + 86400LL * 30 + (long long)p * 3;
    fmt_time(t0, t_created);
    fmt_time(t0 + 1, t_sched);
    fmt_time(t0 + 9 + rng_below(&g->rng, 20), t_started);
    fmt_time(t0 + 35 + rng_below(&g->rng, 30), t_ready);
    snprintf(token_volume, sizeof token_volume, "kube-api-access-%s", ap->token_suffix);
    snprintf(cm, sizeof cm, "%s-config", app);

    /* metadata */
    char version[16];
    snprintf(version, sizeof version, "v%u", ap->version);
    json_t *labels = json_pack("{s:s,s:s,s:s,s:s}", "app", app, "pod-template-hash", ap->hash,
                               "tier", app_tier(ap), "version", version);
    if (ap->kind == APP_COREDNS)
        set(labels, "k8s-app", json_string("kube-dns"));
    json_t *annotations = json_object();
    set(annotations, "kubectl.kubernetes.io/restartedAt", json_string(t_created));
    if (ap->kind != APP_COREDNS && app_kinds[ap->kind].n_ports > 0) {
        set(annotations, "prometheus.io/scrape", json_string("true"));
        set(annotations, "prometheus.io/port", json_string("9102"));
    }
    json_t *annotation_fields = fset_keys(annotations);
    json_t *meta =
        json_pack("{s:o,s:s,s:s,s:O,s:s,s:s,s:[{s:s,s:b,s:b,s:s,s:s,s:s}],s:s,s:s}", "annotations",
                  annotations, "creationTimestamp", t_created, "generateName", gen_name, "labels",
                  labels, "name", name, "namespace", n->name, "ownerReferences", "apiVersion",
                  "apps/v1", "blockOwnerDeletion", 1, "controller", 1, "kind", "ReplicaSet", "name",
                  rs_name, "uid", ap->rs_uid, "resourceVersion", rv, "uid", uid);

    /* spec */
    json_t *containers = json_array();
    json_array_append_new(containers, build_container(n, ap, token_volume));
    if (ap->sidecar)
        json_array_append_new(containers, build_sidecar(token_volume));
    json_t *volumes =
        json_pack("[{s:{s:i,s:s},s:s},{s:s,s:{s:i,s:[{s:{s:i,s:s}},{s:{s:[{s:s,s:s}],s:s}},"
                  "{s:{s:[{s:{s:s,s:s},s:s}]}}]}}]",
                  "configMap", "defaultMode", 420, "name", cm, "name", "config", "name",
                  token_volume, "projected", "defaultMode", 420, "sources", "serviceAccountToken",
                  "expirationSeconds", 3607, "path", "token", "configMap", "items", "key", "ca.crt",
                  "path", "ca.crt", "name", "kube-root-ca.crt", "downwardAPI", "items", "fieldRef",
                  "apiVersion", "v1", "fieldPath", "metadata.namespace", "path", "namespace");
    if (ap->sidecar)
        json_array_append_new(volumes,
                              json_pack("{s:{s:s,s:s},s:s}", "hostPath", "path",
                                        "C:\\var\\log\\containers", "type", "", "name", "varlog"));
    json_t *spec = json_pack(
        "{s:o,s:s,s:b,s:s,s:{s:s},s:s,s:i,s:s,s:s,s:{},s:s,s:s,s:i,"
        "s:[{s:s,s:s,s:s,s:i},{s:s,s:s,s:s,s:i}],s:o}",
        "containers", containers, "dnsPolicy", "ClusterFirst", "enableServiceLinks", 1, "nodeName",
        node, "nodeSelector", "kubernetes.io/os", "windows", "preemptionPolicy",
        "PreemptLowerPriority", "priority", 0, "restartPolicy", "Always", "schedulerName",
        "default-scheduler", "securityContext", "serviceAccount", "default", "serviceAccountName",
        "default", "terminationGracePeriodSeconds", 30, "tolerations", "effect", "NoExecute", "key",
        "node.kubernetes.io/not-ready", "operator", "Exists", "tolerationSeconds", 300, "effect",
        "NoExecute", "key", "node.kubernetes.io/unreachable", "operator", "Exists",
        "tolerationSeconds", 300, "volumes", volumes);

    /* status */
    json_t *conditions = json_array();
    static const char *const cond_types[] = {"PodReadyToStartContainers", "Initialized", "Ready",
                                             "ContainersReady", "PodScheduled"};
    for (int i = 0; i < 5; i++) {
        const char *t = i == 4 ? t_sched : i < 2 ? t_started : t_ready;
        json_array_append_new(conditions,
                              json_pack("{s:n,s:s,s:s,s:s}", "lastProbeTime", "lastTransitionTime",
                                        t, "status", "True", "type", cond_types[i]));
    }
    json_t *cstatus = json_array();
    size_t ci;
    json_t *c;
    for (ci = 0; ci < json_array_size(containers); ci++) {
        c = json_array_get(containers, ci);
        json_array_append_new(
            cstatus, container_status(g, json_string_value(json_object_get(c, "name")),
                                      json_string_value(json_object_get(c, "image")), t_started));
    }
    json_t *status =
        json_pack("{s:o,s:o,s:s,s:[{s:s}],s:s,s:s,s:[{s:s}],s:s,s:s}", "conditions", conditions,
                  "containerStatuses", cstatus, "hostIP", host_ip, "hostIPs", "ip", host_ip,
                  "phase", "Running", "podIP", pod_ip, "podIPs", "ip", pod_ip, "qosClass",
                  "Burstable", "startTime", t_sched);

    /* managedFields: the ReplicaSet controller's create and the kubelet's status. */
    json_t *cf = json_object();
    for (ci = 0; ci < json_array_size(containers); ci++) {
        c = json_array_get(containers, ci);
        char key[128];
        snprintf(key, sizeof key, "k:{\"name\":\"%s\"}",
                 json_string_value(json_object_get(c, "name")));
        set(cf, key, container_fields(c));
    }
    char owner_key[96];
    snprintf(owner_key, sizeof owner_key, "k:{\"uid\":\"%s\"}", ap->rs_uid);
    json_t *mf_meta = json_pack("{s:{},s:o,s:o,s:{s:{},s:{}}}", "f:generateName", "f:annotations",
                                annotation_fields, "f:labels", fset_keys(labels),
                                "f:ownerReferences", ".", owner_key);
    json_t *volf = fset(1, NULL);
    set(volf, "k:{\"name\":\"config\"}",
        json_pack("{s:{},s:{s:{},s:{},s:{}},s:{}}", ".", "f:configMap", ".", "f:defaultMode",
                  "f:name", "f:name"));
    json_t *ctrl = json_pack(
        "{s:o,s:{s:o,s:{},s:{},s:{},s:{},s:{},s:{},s:{},s:{},s:{},s:o}}", "f:metadata", mf_meta,
        "f:spec", "f:containers", cf, "f:dnsPolicy", "f:enableServiceLinks", "f:nodeSelector",
        "f:restartPolicy", "f:schedulerName", "f:securityContext",
        "f:terminationGracePeriodSeconds", "f:tolerations", "f:priority", "f:volumes", volf);
    json_t *cond_fields = fset(0, NULL);
    for (int i = 0; i < 5; i++) {
        char key[96];
        snprintf(key, sizeof key, "k:{\"type\":\"%s\"}", cond_types[i]);
        set(cond_fields, key,
            fset(1, "lastProbeTime", "lastTransitionTime", "status", "type", NULL));
    }
    char ip_key[64], hip_key[64];
    snprintf(ip_key, sizeof ip_key, "k:{\"ip\":\"%s\"}", pod_ip);
    snprintf(hip_key, sizeof hip_key, "k:{\"ip\":\"%s\"}", host_ip);
    json_t *kubelet = json_pack(
        "{s:{s:o,s:{},s:{},s:{s:{},s:{s:{},s:{}}},s:{},s:{},s:{s:{},s:{s:{},s:{}}},s:{}}}",
        "f:status", "f:conditions", cond_fields, "f:containerStatuses", "f:hostIP", "f:hostIPs",
        ".", hip_key, ".", "f:ip", "f:phase", "f:podIP", "f:podIPs", ".", ip_key, ".", "f:ip",
        "f:startTime");
    json_t *mf =
        json_pack("[o,o]", managed_entry("kube-controller-manager", NULL, ctrl, t_created, "v1"),
                  managed_entry("kubelet", "status", kubelet, t_ready, "v1"));
    set(meta, "managedFields", mf);
    json_decref(labels);

    return json_pack("{s:s,s:s,s:o,s:o,s:o}", "apiVersion", "v1", "kind", "Pod", "metadata", meta,
                     "spec", spec, "status", status);
}

/* ---- NetworkPolicies ---------------------------------------------------- */

static json_t *match_labels(const char *key, const char *value)
{
    return json_pack("{s:{s:s}}", "matchLabels", key, value);
}

static json_t *port(const char *protocol, int number)
{
    return json_pack("{s:i,s:s}", "port", number, "protocol", protocol);
}

static json_t *port_range(const char *protocol, int number, int end)
{
    return json_pack("{s:i,s:i,s:s}", "endPort", end, "port", number, "protocol", protocol);
}

static int app_port(const struct app_plan *ap)
{
    if (ap->kind == APP_COREDNS)
        return 53;
    const struct app_kind *k = &app_kinds[ap->kind];
    return k->n_ports > 0 ? k->ports[0].port : 8080;
}

enum policy_kind {
    POL_DENY_INGRESS,
    POL_DENY_ALL,
    POL_SAME_APP,
    POL_TIER,
    POL_CROSS_NS,
    POL_EGRESS,
    POL_RANGES,
    POL_NAMED_PORT, /* the unsupported ones from here on */
    POL_SCTP,
    POL_NOT_IN,
    POL_EXCEPT,
};

static const char *const policy_names[] = {
    "default-deny-ingress", "default-deny-all", "allow-same-app",    "allow-tier",
    "allow-from-ns",        "allow-egress",     "allow-port-ranges", "allow-named-port",
    "allow-sctp",           "deny-except-tier", "egress-except",
};

/*
 * The spec of one policy in namespace n. Peers and selected pods are apps
 * that exist, so translation resolves real addresses.
 */
static json_t *policy_spec(struct gen *g, enum policy_kind kind, unsigned long nsi, unsigned a)
{
    const struct ns_plan *n = &g->ns[nsi];
    const struct app_plan *ap = &n->apps[a % n->n_apps];
    const struct app_plan *peer = &n->apps[(a + 1) % n->n_apps];
    const char *app = app_name(ap);
    switch (kind) {
    case POL_DENY_INGRESS:
        return json_pack("{s:{},s:[s]}", "podSelector", "policyTypes", "Ingress");
    case POL_DENY_ALL:
        return json_pack("{s:{},s:[s,s]}", "podSelector", "policyTypes", "Ingress", "Egress");
    case POL_SAME_APP:
        return json_pack("{s:[{s:[{s:o}],s:[o]}],s:o,s:[s]}", "ingress", "from", "podSelector",
                         match_labels("app", app), "ports", port("TCP", app_port(ap)),
                         "podSelector", match_labels("app", app), "policyTypes", "Ingress");
    case POL_TIER: {
        json_t *sel = json_pack("{s:{s:s,s:s}}", "matchLabels", "app", app_name(peer), "tier",
                                app_tier(peer));
        return json_pack("{s:[{s:[{s:o}],s:[o,o]}],s:o,s:[s]}", "ingress", "from", "podSelector",
                         sel, "ports", port("TCP", app_port(ap)), port("TCP", 9102), "podSelector",
                         match_labels("app", app), "policyTypes", "Ingress");
    }
    case POL_CROSS_NS: {
        unsigned long other = rng_below(&g->rng, (unsigned)g->n_namespaces);
        const struct ns_plan *on = &g->ns[other];
        const struct app_plan *oap = &on->apps[rng_below(&g->rng, on->n_apps)];
        json_t *from =
            json_pack("[{s:o,s:o},{s:{s:{s:s}},s:{s:[{s:s,s:s,s:[s,s]}]}}]", "namespaceSelector",
                      match_labels("kubernetes.io/metadata.name", on->name), "podSelector",
                      match_labels("app", app_name(oap)), "namespaceSelector", "matchLabels", "env",
                      envs[n->env], "podSelector", "matchExpressions", "key", "tier", "operator",
                      "In", "values", "frontend", "backend");
        return json_pack("{s:[{s:o,s:[o]}],s:o,s:[s]}", "ingress", "from", from, "ports",
                         port("TCP", app_port(ap)), "podSelector", match_labels("app", app),
                         "policyTypes", "Ingress");
    }
    case POL_EGRESS: {
        char cidr[32], ext[32];
        snprintf(cidr, sizeof cidr, "10.%u.0.0/16", 100 + rng_below(&g->rng, 100));
        snprintf(ext, sizeof ext, "172.%u.%u.0/24", 16 + rng_below(&g->rng, 16),
                 rng_below(&g->rng, 256));
        return json_pack(
            "{s:[{s:[o,o],s:[{s:{s:s}}]},{s:[o,o],s:[{s:o,s:o}]},{s:[o],s:[{s:{s:s}}]}],"
            "s:o,s:[s]}",
            "egress", "ports", port("TCP", 443), port("TCP", 1433), "to", "ipBlock", "cidr", cidr,
            "ports", port("UDP", 53), port("TCP", 53), "to", "namespaceSelector",
            match_labels("kubernetes.io/metadata.name", "kube-system"), "podSelector",
            match_labels("k8s-app", "kube-dns"), "ports", port("TCP", 443), "to", "ipBlock", "cidr",
            ext, "podSelector", match_labels("app", app), "policyTypes", "Egress");
    }
    case POL_RANGES: {
        json_t *sel = json_pack("{s:[{s:s,s:s,s:[s,s]}]}", "matchExpressions", "key", "app",
                                "operator", "In", "values", app_name(peer), app);
        return json_pack("{s:[{s:[{s:o}],s:[o,o,o,o]}],s:o,s:[s]}", "ingress", "from",
                         "podSelector", sel, "ports", port_range("TCP", 8000, 8100),
                         port_range("UDP", 5000, 5010), port("TCP", 9090), port("UDP", 514),
                         "podSelector", match_labels("tier", app_tier(ap)), "policyTypes",
                         "Ingress");
    }
    case POL_NAMED_PORT:
        return json_pack("{s:[{s:[{s:o}],s:[{s:s,s:s}]}],s:o,s:[s]}", "ingress", "from",
                         "podSelector", match_labels("app", app_name(peer)), "ports", "port",
                         "http", "protocol", "TCP", "podSelector", match_labels("app", app),
                         "policyTypes", "Ingress");
    case POL_SCTP:
        return json_pack("{s:[{s:[o]}],s:o,s:[s]}", "ingress", "ports", port("SCTP", 3868),
                         "podSelector", match_labels("app", app), "policyTypes", "Ingress");
    case POL_NOT_IN:
        return json_pack("{s:[{s:[{s:{s:[{s:s,s:s,s:[s]}]}}]}],s:{},s:[s]}", "ingress", "from",
                         "podSelector", "matchExpressions", "key", "tier", "operator", "NotIn",
                         "values", "data", "podSelector", "policyTypes", "Ingress");
    case POL_EXCEPT:
        return json_pack("{s:[{s:[{s:{s:s,s:[s,s]}}]}],s:o,s:[s]}", "egress", "to", "ipBlock",
                         "cidr", "10.0.0.0/8", "except", "10.0.1.0/24", "10.0.2.0/24",
                         "podSelector", match_labels("app", app), "policyTypes", "Egress");
    }
    return json_object();
}

static json_t *build_policy(struct gen *g, unsigned long j)
{
    /*
     * Policies live in about a third as many namespaces as there are
     * policies, spread over the cluster: each such namespace gets a default
     * deny first, then allows. 2% (j % 50 == 25) use a feature Windows
     * cannot enforce.
     */
    unsigned long protected_ns = g->n_policies / 3 ? g->n_policies / 3 : 1;
    if (g->n_namespaces > 1 && protected_ns > g->n_namespaces - 1)
        protected_ns = g->n_namespaces - 1; /* one namespace per q: names stay unique */
    unsigned long q = j % protected_ns, rank = j / protected_ns;
    unsigned long nsi = g->n_namespaces > 1 ? 1 + q * (g->n_namespaces - 1) / protected_ns : 0;
    if (nsi >= g->n_namespaces)
        nsi = g->n_namespaces - 1;
    const struct ns_plan *n = &g->ns[nsi];

    enum policy_kind kind;
    if (j % 50 == 25) {
        kind = (enum policy_kind)(POL_NAMED_PORT + (j / 50) % 4);
    } else if (rank == 0) {
        kind = rng_below(&g->rng, 10) < 7 ? POL_DENY_INGRESS : POL_DENY_ALL;
    } else {
        unsigned r = rng_below(&g->rng, 100);
        kind = r < 30   ? POL_SAME_APP
               : r < 50 ? POL_TIER
               : r < 70 ? POL_CROSS_NS
               : r < 85 ? POL_EGRESS
                        : POL_RANGES;
    }
    unsigned a = (unsigned)rank;
    json_t *spec = policy_spec(g, kind, nsi, a);

    char name[96], uid[40], rv[32], created[80];
    if (kind == POL_DENY_INGRESS || kind == POL_DENY_ALL)
        snprintf(name, sizeof name, "%s", policy_names[kind]);
    else
        snprintf(name, sizeof name, "%s-%s-%lu", policy_names[kind],
                 app_name(&n->apps[a % n->n_apps]), rank);
    rng_uid(&g->rng, uid);
    next_rv(g, rv);
    fmt_time(BASE_TIME + 86400LL * 45 + (long long)j * 11, created);

    json_t *applied =
        json_pack("{s:s,s:s,s:{s:s,s:s},s:O}", "apiVersion", "networking.k8s.io/v1", "kind",
                  "NetworkPolicy", "metadata", "name", name, "namespace", n->name, "spec", spec);
    char *text = json_dumps(applied, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *last = json_sprintf("%s\n", text);
    free(text);
    json_decref(applied);

    json_t *mf_spec = fset(0, "podSelector", "policyTypes", NULL);
    if (json_object_get(spec, "ingress"))
        set(mf_spec, "f:ingress", json_object());
    if (json_object_get(spec, "egress"))
        set(mf_spec, "f:egress", json_object());
    json_t *mf = json_pack(
        "[o]",
        managed_entry("kubectl-client-side-apply", NULL,
                      json_pack("{s:{s:o},s:o}", "f:metadata", "f:annotations",
                                fset(1, "kubectl.kubernetes.io/last-applied-configuration", NULL),
                                "f:spec", mf_spec),
                      created, "networking.k8s.io/v1"));
    json_t *meta = json_pack("{s:{s:o},s:s,s:i,s:o,s:s,s:s,s:s,s:s}", "annotations",
                             "kubectl.kubernetes.io/last-applied-configuration", last,
                             "creationTimestamp", created, "generation", 1, "managedFields", mf,
                             "name", name, "namespace", n->name, "resourceVersion", rv, "uid", uid);
    return json_pack("{s:s,s:s,s:o,s:o}", "apiVersion", "networking.k8s.io/v1", "kind",
                     "NetworkPolicy", "metadata", meta, "spec", spec);
}

/* ---- writers ------------------------------------------------------------ */

/* jansson dump callback: nest the item two levels deep (8 spaces) in the List. */
static int dump_nested(const char *buf, size_t size, void *data)
{
    struct out *o = data;
    const char *end = buf + size;
    for (const char *nl; (nl = memchr(buf, '\n', (size_t)(end - buf))) != NULL; buf = nl + 1) {
        out_write(o, buf, (size_t)(nl + 1 - buf));
        out_write(o, "        ", 8);
    }
    out_write(o, buf, (size_t)(end - buf));
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Can s be written as a YAML plain scalar that reads back as this string? */
static int yaml_plain_ok(const char *s)
{
    static const char *const reserved[] = {"true", "false", "yes", "no", "on", "off",
                                           "null", "y",     "n",   "~",  NULL};
    size_t len = strlen(s);
    if (len == 0 || strchr("-?:,[]{}#&*!|>'\"%@`<= ", s[0]))
        return 0;
    if (s[len - 1] == ' ' || s[len - 1] == ':')
        return 0;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch >= 0x7f)
            return 0;
        if (ch == ':' && p[1] == ' ')
            return 0;
        if (ch == ' ' && p[1] == '#')
            return 0;
    }
    for (int i = 0; reserved[i]; i++) {
        size_t k = 0;
        while (reserved[i][k] && s[k] && (s[k] | 0x20) == reserved[i][k])
            k++;
        if (!reserved[i][k] && !s[k])
            return 0;
    }
    if (s[0] == '.')
        return len == 1;
    if (s[0] >= '0' && s[0] <= '9') {
        /* Only dotted addresses (and CIDRs) stay plain, as kubectl writes them. */
        int dots = 0;
        for (const char *p = s; *p; p++) {
            if (*p == '.')
                dots++;
            else if (!(*p >= '0' && *p <= '9') && *p != '/')
                return 0;
        }
        return dots == 3;
    }
    return 1;
}

static void yaml_scalar_string(struct out *o, const char *s)
{
    if (yaml_plain_ok(s)) {
        out_str(o, s);
        return;
    }
    out_write(o, "\"", 1);
    const char *run = s;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        const char *esc = NULL;
        char ubuf[8];
        if (ch == '"')
            esc = "\\\"";
        else if (ch == '\\')
            esc = "\\\\";
        else if (ch == '\n')
            esc = "\\n";
        else if (ch == '\t')
            esc = "\\t";
        else if (ch < 0x20 || ch == 0x7f) {
            snprintf(ubuf, sizeof ubuf, "\\x%02x", ch);
            esc = ubuf;
        }
        if (esc) {
            out_write(o, run, (size_t)(p - run));
            out_str(o, esc);
            run = p + 1;
        }
    }
    out_str(o, run);
    out_write(o, "\"", 1);
}

static void yaml_scalar(struct out *o, const json_t *v)
{
    char buf[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        yaml_scalar_string(o, json_string_value(v));
        break;
    case JSON_INTEGER:
        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        out_str(o, buf);
        break;
    case JSON_REAL:
        snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
        out_str(o, buf);
        break;
    case JSON_TRUE:
        out_str(o, "true");
        break;
    case JSON_FALSE:
        out_str(o, "false");
        break;
    case JSON_NULL:
        out_str(o, "null");
        break;
    case JSON_OBJECT:
        out_str(o, "{}");
        break;
    case JSON_ARRAY:
        out_str(o, "[]");
        break;
    }
}

static int is_block(const json_t *v)
{
    return (json_is_object(v) && json_object_size(v) > 0) ||
           (json_is_array(v) && json_array_size(v) > 0);
}

static void yaml_seq(struct out *o, const json_t *arr, int indent);

/*
 * A block mapping, keys sorted, kubectl style. When inline, the first key
 * continues the current line (after "- ").
 */
static void yaml_map(struct out *o, const json_t *obj, int indent, int inline_first)
{
    size_t n = json_object_size(obj), i = 0;
    const char *stack_keys[64];
    const char **keys = n <= 64 ? stack_keys : malloc(n * sizeof *keys);
    json_t *v;
    if (!keys) {
        o->failed = 1;
        return;
    }
    for (void *it = json_object_iter((json_t *)obj); it;
         it = json_object_iter_next((json_t *)obj, it))
        keys[i++] = json_object_iter_key(it);
    qsort(keys, n, sizeof *keys, cmp_str);
    for (i = 0; i < n; i++) {
        v = json_object_get(obj, keys[i]);
        if (i > 0 || !inline_first)
            out_spaces(o, indent);
        yaml_scalar_string(o, keys[i]);
        if (json_is_object(v) && is_block(v)) {
            out_write(o, ":\n", 2);
            yaml_map(o, v, indent + 2, 0);
        } else if (json_is_array(v) && is_block(v)) {
            out_write(o, ":\n", 2);
            yaml_seq(o, v, indent);
        } else {
            out_write(o, ": ", 2);
            yaml_scalar(o, v);
            out_write(o, "\n", 1);
        }
    }
    if (keys != stack_keys)
        free(keys);
}

/* A block sequence whose dashes sit at indent (kubectl does not indent them). */
static void yaml_seq(struct out *o, const json_t *arr, int indent)
{
    size_t i;
    json_t *v;
    for (i = 0; i < json_array_size(arr); i++) {
        v = json_array_get(arr, i);
        out_spaces(o, indent);
        if (json_is_object(v) && is_block(v)) {
            out_write(o, "- ", 2);
            yaml_map(o, v, indent + 2, 1);
        } else if (json_is_array(v) && is_block(v)) {
            out_write(o, "-\n", 2);
            yaml_seq(o, v, indent + 2);
        } else {
            out_write(o, "- ", 2);
            yaml_scalar(o, v);
            out_write(o, "\n", 1);
        }
    }
}

/* Keep only the members of obj named in keep (NULL-terminated). */
static void keep_only(json_t *obj, const char *const *keep)
{
    const char *key;
    json_t *value;
    void *tmp;
    json_object_foreach_safe(obj, tmp, key, value)
    {
        const char *const *k = keep;
        while (*k && strcmp(*k, key) != 0)
            k++;
        if (!*k)
            json_object_del(obj, key);
    }
}

/*
 * --profile lean: the same cluster (same names, IPs, nodes and policies;
 * the same random draws) with objects cut down to about what
 * policy translation reads: metadata keeps name, namespace and labels (no
 * uid, timestamps, managedFields, annotations or ownerReferences); a pod
 * keeps one container (image, name, ports), its node, its IPs and phase,
 * and the labels app, tier and k8s-app. About 1.4 KB of JSON per pod
 * instead of 19 KB; sized so that the jansson load of the 20,000-pod file
 * comes near the reference (about 0.26 s and 115 MB).
 */
static void lean_item(json_t *item)
{
    static const char *const meta_keep[] = {"labels", "name", "namespace", NULL};
    static const char *const label_keep[] = {"app", "tier", "k8s-app", NULL};
    static const char *const spec_keep[] = {"containers", "nodeName", NULL};
    static const char *const container_keep[] = {"image", "name", "ports", NULL};
    static const char *const status_keep[] = {"hostIP", "phase", "podIP", "podIPs", NULL};

    json_t *meta = json_object_get(item, "metadata");
    keep_only(meta, meta_keep);
    if (strcmp(json_string_value(json_object_get(item, "kind")), "Pod") != 0)
        return;
    keep_only(json_object_get(meta, "labels"), label_keep);
    json_t *spec = json_object_get(item, "spec");
    keep_only(spec, spec_keep);
    json_t *containers = json_object_get(spec, "containers");
    while (json_array_size(containers) > 1)
        json_array_remove(containers, json_array_size(containers) - 1);
    keep_only(json_array_get(containers, 0), container_keep);
    keep_only(json_object_get(item, "status"), status_keep);
}

static void write_item(struct gen *g, json_t *item)
{
    if (!item) {
        fprintf(stderr, "hnp-gen-cluster: out of memory building an object\n");
        exit(1);
    }
    if (g->no_managed_fields) /* what kubectl prints unless --show-managed-fields */
        json_object_del(json_object_get(item, "metadata"), "managedFields");
    if (g->lean)
        lean_item(item);
    if (g->yaml) {
        out_write(g->o, "- ", 2);
        yaml_map(g->o, item, 2, 1);
    } else {
        out_str(g->o, g->items ? ",\n        " : "        ");
        json_dump_callback(item, dump_nested, g->o, JSON_INDENT(4) | JSON_SORT_KEYS);
    }
    g->items++;
    json_decref(item);
}

static void write_header(struct gen *g, int empty)
{
    if (g->yaml)
        out_str(g->o, empty ? "apiVersion: v1\nitems: []\n" : "apiVersion: v1\nitems:\n");
    else
        out_str(g->o, empty ? "{\n    \"apiVersion\": \"v1\",\n    \"items\": [],\n"
                            : "{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n");
}

static void write_footer(struct gen *g)
{
    if (g->yaml) {
        out_str(g->o, "kind: List\nmetadata:\n  resourceVersion: \"\"\n");
        return;
    }
    if (g->items > 0)
        out_str(g->o, "\n    ],\n");
    out_str(g->o, "    \"kind\": \"List\",\n    \"metadata\": {\n"
                  "        \"resourceVersion\": \"\"\n    }\n}\n");
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: hnp-gen-cluster [--pods N] [--namespaces N] [--policies N] [--nodes N]\n"
               "                       [--seed S] [-o FILE] [-f json|yaml] [--no-managed-fields]\n"
               "                       [--profile realistic|lean]\n"
               "Writes a synthetic cluster as a kubectl-style List (pods, namespaces,\n"
               "networkpolicies). Defaults: 20000 pods, 2000 namespaces, 1000 policies,\n"
               "pods/110 nodes (rounded up), seed 1, JSON to standard output, objects\n"
               "with managedFields (as `kubectl get --show-managed-fields` writes them).\n"
               "--profile lean writes the same cluster with objects cut down to what\n"
               "translation reads (no managedFields, annotations, status conditions or\n"
               "container statuses; one container; labels app, tier, k8s-app).\n");
}

static int parse_ulong(const char *opt, const char *s, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s ? s : "", &end, 10);
    if (!s || !*s || *end || errno || v > 100000000ULL) {
        fprintf(stderr, "hnp-gen-cluster: %s wants a number, got '%s'\n", opt, s ? s : "");
        return -1;
    }
    *out = (unsigned long)v;
    return 0;
}

int main(int argc, char **argv)
{
    struct gen g = {0};
    unsigned long seed = 1;
    const char *path = NULL, *format = "json";
    g.n_pods = 20000;
    g.n_namespaces = 2000;
    g.n_policies = 1000;
    g.n_nodes = 0;
    g.resource_version = 1000000;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long *target = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--pods") == 0) {
            target = &g.n_pods;
        } else if (strcmp(a, "--namespaces") == 0) {
            target = &g.n_namespaces;
        } else if (strcmp(a, "--policies") == 0) {
            target = &g.n_policies;
        } else if (strcmp(a, "--nodes") == 0) {
            target = &g.n_nodes;
        } else if (strcmp(a, "--no-managed-fields") == 0) {
            g.no_managed_fields = 1;
            continue;
        } else if (strcmp(a, "--seed") == 0) {
            target = &seed;
        } else if (strcmp(a, "-o") == 0 && val) {
            path = val;
            i++;
            continue;
        } else if (strcmp(a, "-f") == 0 && val) {
            format = val;
            i++;
            continue;
        } else if (strcmp(a, "--profile") == 0 && val) {
            if (strcmp(val, "lean") == 0) {
                g.lean = 1;
            } else if (strcmp(val, "realistic") != 0) {
                fprintf(stderr, "hnp-gen-cluster: --profile wants realistic or lean\n");
                return 2;
            }
            i++;
            continue;
        } else {
            usage(stderr);
            return 2;
        }
        if (parse_ulong(a, val, target) != 0)
            return 2;
        i++;
    }
    if (strcmp(format, "json") == 0) {
        g.yaml = 0;
    } else if (strcmp(format, "yaml") == 0) {
        g.yaml = 1;
    } else {
        fprintf(stderr, "hnp-gen-cluster: -f wants json or yaml\n");
        return 2;
    }
    if (g.n_namespaces == 0) {
        fprintf(stderr, "hnp-gen-cluster: at least one namespace is needed\n");
        return 2;
    }
    if (g.n_nodes == 0)
        g.n_nodes = g.n_pods ? (g.n_pods + 109) / 110 : 1;
    if (g.n_nodes > 61439) {
        fprintf(stderr, "hnp-gen-cluster: at most 61439 nodes (one /24 each under 10.0.0.0/8)\n");
        return 2;
    }
    if ((g.n_pods + g.n_nodes - 1) / g.n_nodes > 253) {
        fprintf(stderr, "hnp-gen-cluster: more than 253 pods per node do not fit a /24; "
                        "raise --nodes\n");
        return 2;
    }
    g.rng.s = seed;

    struct out o = {0};
    o.cap = 1 << 20;
    o.buf = malloc(o.cap);
    o.f = path ? fopen(path, "wb") : stdout;
    if (!o.buf || !o.f) {
        fprintf(stderr, "hnp-gen-cluster: %s: %s\n", path ? path : "stdout", strerror(errno));
        free(o.buf);
        return 1;
    }
    g.o = &o;
    if (plan_cluster(&g) != 0) {
        fprintf(stderr, "hnp-gen-cluster: out of memory\n");
        free(o.buf);
        return 1;
    }

    /* The order of `kubectl get pods,namespaces,networkpolicies -A`. */
    write_header(&g, g.n_pods + g.n_namespaces + g.n_policies == 0);
    unsigned long p = 0;
    for (unsigned long i = 0; i < g.n_namespaces; i++)
        for (unsigned a = 0; a < g.ns[i].n_apps; a++)
            for (unsigned long r = 0; r < g.ns[i].apps[a].replicas; r++)
                write_item(&g, build_pod(&g, &g.ns[i], &g.ns[i].apps[a], p++));
    for (unsigned long i = 0; i < g.n_namespaces; i++)
        write_item(&g, build_namespace(&g, i));
    for (unsigned long j = 0; j < g.n_policies; j++)
        write_item(&g, build_policy(&g, j));
    write_footer(&g);

    out_flush(&o);
    int failed = o.failed || ferror(o.f);
    if ((path ? fclose(o.f) : fflush(o.f)) != 0)
        failed = 1;
    free(o.buf);
    free(g.ns);
    if (failed) {
        fprintf(stderr, "hnp-gen-cluster: writing %s failed\n", path ? path : "stdout");
        return 1;
    }
    return 0;
}
