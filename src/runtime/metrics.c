/*
 * metrics.c - the metrics registry and its Prometheus text rendering.
 *
 * Families live in an array in declaration (or first use) order; each keeps
 * its series in a list in first-use order. Series are found by an
 * the project's hash map (hashmap.h) keyed on (family, label text). One mutex guards
 * everything: updates are a lookup and an add, rendering walks the lists.
 * The HTTP listener that serves the rendering is in http_server.c.
 *
 * Numbers are printed with snprintf("%g"), which follows LC_NUMERIC: the
 * agent never calls setlocale(), so the decimal point is '.'.
 */
#include "metrics.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include "hashmap.h"
#include "text.h"

struct series {
    char *labels; /* owned, "" for none */
    size_t family;
    double value;                /* counter, gauge */
    double sum;                  /* histogram */
    unsigned long long count;    /* histogram observations */
    unsigned long long *buckets; /* histogram: per-bucket (not cumulative), n_bounds + 1 */
    struct series *next;         /* next in the family, first-use order */
};

struct family {
    char *name;
    char *help; /* owned, NULL when none */
    enum hnp_metric_type type;
    bool declared;
    double *bounds; /* histogram upper bounds, +Inf not stored */
    size_t n_bounds;
    struct series *first;
    struct series *last;
};

struct hnp_metrics {
    pthread_mutex_t lock;
    struct family *families;
    size_t n_families;
    struct hnp_hashmap index; /* (family, labels) -> struct series (borrowed) */
    size_t n_series;
    double dropped;
};

/* A growable output string; on allocation failure it stops and remembers. */
struct out {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
};

static void out_putn(struct out *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->cap - o->len <= n) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap - o->len <= n)
            cap *= 2;
        char *data = realloc(o->data, cap);
        if (data == NULL) {
            o->failed = true;
            return;
        }
        o->data = data;
        o->cap = cap;
    }
    memcpy(o->data + o->len, s, n);
    o->len += n;
    o->data[o->len] = '\0';
}

static void out_puts(struct out *o, const char *s)
{
    out_putn(o, s, strlen(s));
}

static bool valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > HNP_METRICS_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

/*
 * Label text as the exposition format takes it between braces:
 * name="value"(,name="value")*, names [a-zA-Z_][a-zA-Z0-9_]*, values with
 * only \\, \" and \n escapes and no raw newline. For a histogram the name
 * "le" is taken.
 */
static bool valid_labels(const char *labels, bool histogram)
{
    if (strlen(labels) > HNP_METRICS_MAX_LABELS)
        return false;
    const char *p = labels;
    if (*p == '\0')
        return true;
    for (;;) {
        const char *name = p;
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
            return false;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
               (*p >= '0' && *p <= '9'))
            p++;
        if (histogram && p - name == 2 && name[0] == 'l' && name[1] == 'e')
            return false;
        if (p[0] != '=' || p[1] != '"')
            return false;
        p += 2;
        while (*p != '"') {
            if (*p == '\0' || *p == '\n')
                return false;
            if (*p == '\\') {
                if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
                    return false;
                p++;
            }
            p++;
        }
        p++;
        if (*p == '\0')
            return true;
        if (*p != ',')
            return false;
        p++;
    }
}

/* The index's hash of the series (family, labels). */
static uint64_t series_hash(size_t family, const char *labels)
{
    return hnp_hash_combine(hnp_hash_str(labels), (uint64_t)family);
}

/* The series (family, labels) in the index; NULL when there is none. */
static struct series *find_series(const struct hnp_metrics *m, size_t family, const char *labels)
{
    size_t pos = HNP_HASHMAP_START;
    struct series *s;
    while ((s = hnp_hashmap_next(&m->index, series_hash(family, labels), &pos)) != NULL)
        if (s->family == family && strcmp(s->labels, labels) == 0)
            return s;
    return NULL;
}

static struct family *find_family(struct hnp_metrics *m, const char *name, size_t *index)
{
    for (size_t i = 0; i < m->n_families; i++) {
        if (strcmp(m->families[i].name, name) == 0) {
            if (index)
                *index = i;
            return &m->families[i];
        }
    }
    return NULL;
}

/* Append a family (families array is preallocated to the cap). */
static struct family *add_family(struct hnp_metrics *m, const char *name, size_t *index)
{
    if (m->n_families >= HNP_METRICS_MAX_FAMILIES)
        return NULL;
    char *copy = hnp_strdup(name);
    if (copy == NULL)
        return NULL;
    struct family *f = &m->families[m->n_families];
    memset(f, 0, sizeof(*f));
    f->name = copy;
    f->type = HNP_METRIC_GAUGE;
    *index = m->n_families++;
    return f;
}

struct hnp_metrics *hnp_metrics_new(void)
{
    struct hnp_metrics *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->families = calloc(HNP_METRICS_MAX_FAMILIES, sizeof(*m->families));
    if (m->families == NULL || pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m->families);
        free(m);
        return NULL;
    }
    return m;
}

void hnp_metrics_free(struct hnp_metrics *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_families; i++) {
        struct family *f = &m->families[i];
        struct series *s = f->first;
        while (s != NULL) {
            struct series *next = s->next;
            free(s->labels);
            free(s->buckets);
            free(s);
            s = next;
        }
        free(f->name);
        free(f->help);
        free(f->bounds);
    }
    free(m->families);
    hnp_hashmap_clear(&m->index);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

enum hnp_err hnp_metrics_declare(struct hnp_metrics *m, const char *name, enum hnp_metric_type type,
                                 const char *help, const double *buckets, size_t n_buckets)
{
    if (m == NULL || name == NULL || !valid_name(name) || strcmp(name, HNP_METRICS_DROPPED) == 0)
        return HNP_ERR_INVALID;
    if ((unsigned)type > (unsigned)HNP_METRIC_HISTOGRAM)
        return HNP_ERR_INVALID;
    if (type != HNP_METRIC_HISTOGRAM)
        n_buckets = 0;
    if (n_buckets > 0 && buckets == NULL)
        return HNP_ERR_INVALID;
    if (n_buckets > 0 && isinf(buckets[n_buckets - 1]) && buckets[n_buckets - 1] > 0)
        n_buckets--;
    if (n_buckets > HNP_METRICS_MAX_BUCKETS)
        return HNP_ERR_INVALID;
    for (size_t i = 0; i < n_buckets; i++) {
        if (!isfinite(buckets[i]) || (i > 0 && !(buckets[i] > buckets[i - 1])))
            return HNP_ERR_INVALID;
    }

    char *help_copy = NULL;
    if (help != NULL && (help_copy = hnp_strdup(help)) == NULL)
        return HNP_ERR_NOMEM;
    double *bounds = NULL;
    if (n_buckets > 0) {
        bounds = malloc(n_buckets * sizeof(*bounds));
        if (bounds == NULL) {
            free(help_copy);
            return HNP_ERR_NOMEM;
        }
        memcpy(bounds, buckets, n_buckets * sizeof(*bounds));
    }

    enum hnp_err rc = HNP_OK;
    pthread_mutex_lock(&m->lock);
    size_t index;
    struct family *f = find_family(m, name, &index);
    if (f == NULL) {
        f = add_family(m, name, &index);
        if (f == NULL) {
            rc = m->n_families >= HNP_METRICS_MAX_FAMILIES ? HNP_ERR_LIMIT : HNP_ERR_NOMEM;
            goto done;
        }
    } else if (f->declared) {
        bool same = f->type == type && f->n_bounds == n_buckets &&
                    (n_buckets == 0 || memcmp(f->bounds, bounds, n_buckets * sizeof(*bounds)) == 0);
        if (!same) {
            rc = HNP_ERR_INVALID;
            goto done;
        }
    } else if (type == HNP_METRIC_HISTOGRAM && f->first != NULL) {
        /* Used undeclared as a gauge: its series hold no buckets. */
        rc = HNP_ERR_INVALID;
        goto done;
    }
    f->declared = true;
    f->type = type;
    free(f->help);
    f->help = help_copy;
    help_copy = NULL;
    free(f->bounds);
    f->bounds = bounds;
    f->n_bounds = n_buckets;
    bounds = NULL;
done:
    pthread_mutex_unlock(&m->lock);
    free(help_copy);
    free(bounds);
    return rc;
}

/* The series (name, labels), created when create; NULL (and dropped counted) when refused. */
static struct series *lookup(struct hnp_metrics *m, const char *name, const char *labels,
                             bool create, struct family **family_out)
{
    if (labels == NULL)
        labels = "";
    size_t index;
    struct family *f = find_family(m, name, &index);
    if (f == NULL) {
        if (!create)
            return NULL;
        if (!valid_name(name) || strcmp(name, HNP_METRICS_DROPPED) == 0 ||
            !valid_labels(labels, false) || m->n_series >= HNP_METRICS_MAX_SERIES ||
            (f = add_family(m, name, &index)) == NULL) {
            m->dropped += 1;
            return NULL;
        }
    }
    *family_out = f;
    struct series *found = find_series(m, index, labels);
    if (found != NULL || !create)
        return found;

    if (m->n_series >= HNP_METRICS_MAX_SERIES ||
        !valid_labels(labels, f->type == HNP_METRIC_HISTOGRAM)) {
        m->dropped += 1;
        return NULL;
    }
    struct series *s = calloc(1, sizeof(*s));
    if (s == NULL || (s->labels = hnp_strdup(labels)) == NULL) {
        free(s);
        m->dropped += 1;
        return NULL;
    }
    if (f->type == HNP_METRIC_HISTOGRAM) {
        s->buckets = calloc(f->n_bounds + 1, sizeof(*s->buckets));
        if (s->buckets == NULL) {
            free(s->labels);
            free(s);
            m->dropped += 1;
            return NULL;
        }
    }
    s->family = index;
    if (hnp_hashmap_put(&m->index, series_hash(index, labels), s) != HNP_OK) {
        free(s->buckets);
        free(s->labels);
        free(s);
        m->dropped += 1;
        return NULL;
    }
    if (f->last != NULL)
        f->last->next = s;
    else
        f->first = s;
    f->last = s;
    m->n_series++;
    return s;
}

/* Would this operation fit the family? Checked before a series is created. */
static bool fits(struct hnp_metrics *m, const char *name, enum hnp_metric_type want)
{
    struct family *f = find_family(m, name, NULL);
    if (f == NULL)
        return want != HNP_METRIC_HISTOGRAM; /* an undeclared family is a gauge */
    return (f->type == HNP_METRIC_HISTOGRAM) == (want == HNP_METRIC_HISTOGRAM);
}

void hnp_metrics_add(struct hnp_metrics *m, const char *name, const char *labels, double delta)
{
    if (m == NULL || name == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    struct family *f;
    if (fits(m, name, HNP_METRIC_GAUGE)) {
        struct series *s = lookup(m, name, labels, true, &f);
        if (s != NULL && !(f->type == HNP_METRIC_COUNTER && delta < 0))
            s->value += delta;
    }
    pthread_mutex_unlock(&m->lock);
}

void hnp_metrics_set(struct hnp_metrics *m, const char *name, const char *labels, double value)
{
    if (m == NULL || name == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    struct family *f;
    if (fits(m, name, HNP_METRIC_GAUGE)) {
        struct series *s = lookup(m, name, labels, true, &f);
        if (s != NULL)
            s->value = value;
    }
    pthread_mutex_unlock(&m->lock);
}

void hnp_metrics_observe(struct hnp_metrics *m, const char *name, const char *labels, double value)
{
    if (m == NULL || name == NULL)
        return;
    pthread_mutex_lock(&m->lock);
    struct family *f;
    if (fits(m, name, HNP_METRIC_HISTOGRAM)) {
        struct series *s = lookup(m, name, labels, true, &f);
        if (s != NULL && s->buckets != NULL) {
            size_t i = 0;
            while (i < f->n_bounds && !(value <= f->bounds[i]))
                i++;
            s->buckets[i]++;
            s->count++;
            s->sum += value;
        }
    }
    pthread_mutex_unlock(&m->lock);
}

double hnp_metrics_get(struct hnp_metrics *m, const char *name, const char *labels)
{
    if (m == NULL || name == NULL)
        return 0;
    pthread_mutex_lock(&m->lock);
    double v = 0;
    struct family *f = NULL;
    if (strcmp(name, HNP_METRICS_DROPPED) == 0) {
        v = m->dropped;
    } else {
        struct series *s = lookup(m, name, labels, false, &f);
        if (s != NULL)
            v = f->type == HNP_METRIC_HISTOGRAM ? (double)s->count : s->value;
    }
    pthread_mutex_unlock(&m->lock);
    return v;
}

/* A sample value as Prometheus parses it. out has room for 32 bytes. */
static void format_value(char out[32], double v)
{
    if (isnan(v)) {
        snprintf(out, 32, "NaN");
    } else if (isinf(v)) {
        snprintf(out, 32, "%s", v > 0 ? "+Inf" : "-Inf");
    } else if (v == 0) {
        snprintf(out, 32, "0"); /* also for -0 */
    } else if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(long long)v) {
        snprintf(out, 32, "%lld", (long long)v);
    } else {
        /* The shortest of 15, 16, 17 significant digits that reads back exactly. */
        for (int precision = 15; precision <= 17; precision++) {
            snprintf(out, 32, "%.*g", precision, v);
            if (strtod(out, NULL) == v)
                break;
        }
    }
}

static void put_help(struct out *o, const char *help)
{
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            out_puts(o, "\\\\");
        else if (*p == '\n')
            out_puts(o, "\\n");
        else
            out_putn(o, p, 1);
    }
}

/* name{labels[,extra]} value\n */
static void put_sample(struct out *o, const char *name, const char *suffix, const char *labels,
                       const char *extra, const char *value)
{
    out_puts(o, name);
    out_puts(o, suffix);
    if (labels[0] != '\0' || extra != NULL) {
        out_puts(o, "{");
        out_puts(o, labels);
        if (extra != NULL) {
            if (labels[0] != '\0')
                out_puts(o, ",");
            out_puts(o, extra);
        }
        out_puts(o, "}");
    }
    out_puts(o, " ");
    out_puts(o, value);
    out_puts(o, "\n");
}

static const char *type_name(const struct family *f)
{
    if (!f->declared)
        return "untyped";
    switch (f->type) {
    case HNP_METRIC_COUNTER:
        return "counter";
    case HNP_METRIC_HISTOGRAM:
        return "histogram";
    case HNP_METRIC_GAUGE:
        break;
    }
    return "gauge";
}

static void render_family(struct out *o, const struct family *f)
{
    if (f->declared && f->help != NULL && f->help[0] != '\0') {
        out_puts(o, "# HELP ");
        out_puts(o, f->name);
        out_puts(o, " ");
        put_help(o, f->help);
        out_puts(o, "\n");
    }
    out_puts(o, "# TYPE ");
    out_puts(o, f->name);
    out_puts(o, " ");
    out_puts(o, type_name(f));
    out_puts(o, "\n");

    char value[32];
    for (const struct series *s = f->first; s != NULL; s = s->next) {
        if (f->type != HNP_METRIC_HISTOGRAM) {
            format_value(value, s->value);
            put_sample(o, f->name, "", s->labels, NULL, value);
            continue;
        }
        unsigned long long cumulative = 0;
        char le[48];
        char bound[32];
        for (size_t i = 0; i <= f->n_bounds; i++) {
            cumulative += s->buckets[i];
            if (i < f->n_bounds)
                format_value(bound, f->bounds[i]);
            else
                snprintf(bound, sizeof(bound), "+Inf");
            snprintf(le, sizeof(le), "le=\"%s\"", bound);
            snprintf(value, sizeof(value), "%llu", cumulative);
            put_sample(o, f->name, "_bucket", s->labels, le, value);
        }
        format_value(value, s->sum);
        put_sample(o, f->name, "_sum", s->labels, NULL, value);
        snprintf(value, sizeof(value), "%llu", s->count);
        put_sample(o, f->name, "_count", s->labels, NULL, value);
    }
}

char *hnp_metrics_render(struct hnp_metrics *m)
{
    struct out o = {NULL, 0, 0, false};
    out_puts(&o, "");
    if (m == NULL)
        return o.data;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n_families; i++)
        render_family(&o, &m->families[i]);
    char value[32];
    format_value(value, m->dropped);
    pthread_mutex_unlock(&m->lock);
    out_puts(&o, "# HELP " HNP_METRICS_DROPPED
                 " Series not created: over the series cap, or an invalid name or labels.\n");
    out_puts(&o, "# TYPE " HNP_METRICS_DROPPED " counter\n");
    put_sample(&o, HNP_METRICS_DROPPED, "", "", NULL, value);
    if (o.failed) {
        free(o.data);
        return NULL;
    }
    return o.data;
}

/* Write key="value" into buf[0..len); true when the whole value fit. */
static bool write_label(char *buf, size_t len, const char *key, const char *value)
{
    size_t key_len = strlen(key);
    if (len < key_len + 4) { /* key = " " NUL */
        if (len > 0)
            buf[0] = '\0';
        return false;
    }
    memcpy(buf, key, key_len);
    size_t pos = key_len;
    buf[pos++] = '=';
    buf[pos++] = '"';
    size_t limit = len - 2; /* room for the closing quote and the NUL */
    bool complete = true;
    const unsigned char *p = (const unsigned char *)(value ? value : "");
    while (*p) {
        const char *piece = (const char *)p;
        size_t piece_len;
        size_t used = 1;
        if (*p == '\\') {
            piece = "\\\\";
            piece_len = 2;
        } else if (*p == '"') {
            piece = "\\\"";
            piece_len = 2;
        } else if (*p == '\n') {
            piece = "\\n";
            piece_len = 2;
        } else if ((used = hnp_utf8_char_len(p, 4)) == 0) {
            piece = "\xEF\xBF\xBD"; /* U+FFFD: label values must be UTF-8 */
            piece_len = 3;
            used = 1;
        } else {
            piece_len = used;
        }
        if (pos + piece_len > limit) {
            complete = false;
            break;
        }
        memcpy(buf + pos, piece, piece_len);
        pos += piece_len;
        p += used;
    }
    buf[pos++] = '"';
    buf[pos] = '\0';
    return complete;
}

void hnp_metrics_label(char *buf, size_t len, const char *key, const char *value)
{
    if (buf == NULL || key == NULL)
        return;
    write_label(buf, len, key, value);
}

bool hnp_metrics_label_append(char *buf, size_t len, const char *key, const char *value)
{
    if (buf == NULL || key == NULL || len == 0)
        return false;
    size_t used = strlen(buf);
    size_t comma = used > 0 ? 1 : 0;
    if (used + comma >= len)
        return false;
    if (comma)
        buf[used] = ',';
    if (!write_label(buf + used + comma, len - used - comma, key, value)) {
        buf[used] = '\0';
        return false;
    }
    return true;
}
