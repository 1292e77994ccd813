/*
 * log.c - the process-wide logger: one line per event, text (logfmt-like)
 * or JSON (built with jansson so escaping is right), under one lock.
 *
 * Every call formats the whole line into a bounded buffer and writes it with
 * a single fwrite while holding the lock, then hands the same line to the
 * optional extra sink (the Windows Event Log).
 */
#include "log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <pthread.h>

#include "platform.h"
#include "text.h"

/* A line never grows past this; the input bounds keep real lines far below it. */
#define LINE_MAX_BYTES (4u << 20)
/* Longest key written. */
#define KEY_MAX 256

struct logger {
    enum hnp_log_level min_level;
    enum hnp_log_format format;
    FILE *out; /* NULL = stderr */
    hnp_log_sink_fn sink;
    enum hnp_log_level sink_level;
    void *sink_ctx;
    hnp_log_clock_fn clock;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct logger state = {HNP_LOG_INFO, HNP_LOG_TEXT, NULL, NULL, HNP_LOG_DEBUG, NULL, NULL};

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *const level_upper[] = {"DEBUG", "INFO", "WARN", "ERROR"};

/*
 * A growable string builder: starts in a caller's stack array, moves to the
 * heap when it outgrows it, and stops (remembering so) at LINE_MAX_BYTES or
 * when memory runs out, so a line is cut rather than lost.
 */
struct buf {
    char *data;
    size_t len;
    size_t cap; /* bytes usable, not counting the NUL */
    int heap;
    int full;
};

static void buf_init(struct buf *b, char *stack, size_t size)
{
    b->data = stack;
    b->len = 0;
    b->cap = size - 1;
    b->heap = 0;
    b->full = 0;
    b->data[0] = '\0';
}

static void buf_release(struct buf *b)
{
    if (b->heap)
        free(b->data);
}

static int buf_grow(struct buf *b, size_t need)
{
    size_t cap = b->cap + 1;
    while (cap - 1 < need && cap < LINE_MAX_BYTES)
        cap *= 2;
    if (cap > LINE_MAX_BYTES)
        cap = LINE_MAX_BYTES;
    if (cap - 1 <= b->cap)
        return -1;
    char *data = b->heap ? realloc(b->data, cap) : malloc(cap);
    if (data == NULL)
        return -1;
    if (!b->heap)
        memcpy(data, b->data, b->len + 1);
    b->data = data;
    b->cap = cap - 1;
    b->heap = 1;
    return 0;
}

static void buf_putn(struct buf *b, const char *s, size_t n)
{
    if (b->full)
        return;
    if (n > b->cap - b->len && buf_grow(b, b->len + n) != 0) {
        n = b->cap - b->len;
        b->full = 1;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_puts(struct buf *b, const char *s)
{
    buf_putn(b, s, strlen(s));
}

static void buf_putc(struct buf *b, char c)
{
    buf_putn(b, &c, 1);
}

void hnp_log_format_time(long long ms, char out[25])
{
    /* Floor division so instants before 1970 still format. */
    long long days = ms / 86400000;
    long long rem = ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        days--;
    }
    /* Civil date from days since 1970-01-01 (H. Hinnant's algorithm). */
    long long z = days + 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    long long day = doy - (153 * mp + 2) / 5 + 1;
    long long month = mp < 10 ? mp + 3 : mp - 9;
    long long year = yoe + era * 400 + (month <= 2);
    if (year < 0)
        year = 0;
    if (year > 9999)
        year = 9999;
    int msec = (int)(rem % 1000);
    int sec = (int)(rem / 1000 % 60);
    int min = (int)(rem / 60000 % 60);
    int hour = (int)(rem / 3600000);
    snprintf(out, 25, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)year, (int)month, (int)day, hour,
             min, sec, msec);
}

/*
 * Copy s into a new string, cut at max bytes on a character boundary (then
 * ending in "..."), with invalid UTF-8 replaced by U+FFFD when fix_utf8 and
 * control characters by spaces when flatten. NULL when out of memory.
 */
static char *clean_copy(const char *s, size_t max, int fix_utf8, int flatten)
{
    size_t n = strlen(s);
    size_t out_cap = (n < max ? n : max) * 3 + 8;
    char *out = malloc(out_cap);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    size_t i = 0;
    while (i < n && s[i] != '\0') {
        size_t len = hnp_utf8_char_len((const unsigned char *)s + i, n - i);
        const char *piece = s + i;
        size_t piece_len = len;
        if (len == 0) {
            len = 1;
            if (fix_utf8) {
                piece = "\xEF\xBF\xBD";
                piece_len = 3;
            } else {
                piece_len = 1;
            }
        }
        if (o + piece_len > max) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (flatten && piece_len == 1 && ((unsigned char)*piece < 0x20 || *piece == 0x7F)) {
            out[o++] = ' ';
        } else {
            memcpy(out + o, piece, piece_len);
            o += piece_len;
        }
        i += len;
    }
    out[o] = '\0';
    return out;
}

static int needs_quotes(const char *v)
{
    if (*v == '\0')
        return 1;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == 0x7F)
            return 1;
    }
    return 0;
}

static void put_text_value(struct buf *b, const char *v)
{
    if (!needs_quotes(v)) {
        buf_puts(b, v);
        return;
    }
    buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"':
            buf_puts(b, "\\\"");
            break;
        case '\\':
            buf_puts(b, "\\\\");
            break;
        case '\n':
            buf_puts(b, "\\n");
            break;
        case '\r':
            buf_puts(b, "\\r");
            break;
        case '\t':
            buf_puts(b, "\\t");
            break;
        default:
            if (*p < 0x20 || *p == 0x7F) {
                snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)*p);
                buf_puts(b, esc);
            } else {
                buf_putc(b, (char)*p);
            }
        }
    }
    buf_putc(b, '"');
}

static void put_text_key(struct buf *b, const char *k)
{
    if (*k == '\0') {
        buf_putc(b, '_');
        return;
    }
    for (const char *p = k; *p && (size_t)(p - k) < KEY_MAX; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == ':' || c == '/' || c == '-';
        if (!ok)
            c = '_';
        buf_putc(b, c);
    }
}

struct field {
    const char *key;
    const char *value;
};

static void format_text(struct buf *b, const char *time_text, enum hnp_log_level level,
                        const char *msg, const struct field *fields, size_t n_fields)
{
    buf_puts(b, time_text);
    buf_putc(b, ' ');
    buf_puts(b, level_upper[level]);
    buf_putc(b, ' ');
    buf_puts(b, msg);
    for (size_t i = 0; i < n_fields; i++) {
        buf_putc(b, ' ');
        put_text_key(b, fields[i].key);
        buf_putc(b, '=');
        char *v = clean_copy(fields[i].value, HNP_LOG_MAX_VALUE, 0, 0);
        put_text_value(b, v ? v : "");
        free(v);
    }
}

static int json_set_clean(json_t *obj, const char *key, const char *value)
{
    char *k = clean_copy(key, KEY_MAX, 1, 0);
    char *v = clean_copy(value, HNP_LOG_MAX_VALUE, 1, 0);
    int rc = -1;
    if (k != NULL && v != NULL)
        rc = json_object_set_new(obj, k, json_string(v));
    free(k);
    free(v);
    return rc;
}

/* 0 on success, -1 when out of memory (then the caller falls back to text). */
static int format_json(struct buf *b, const char *time_text, enum hnp_log_level level,
                       const char *msg, const struct field *fields, size_t n_fields)
{
    json_t *obj = json_object();
    if (obj == NULL)
        return -1;
    int rc = 0;
    rc |= json_object_set_new(obj, "time", json_string(time_text));
    rc |= json_object_set_new(obj, "level", json_string(level_names[level]));
    rc |= json_set_clean(obj, "msg", msg);
    for (size_t i = 0; i < n_fields && rc == 0; i++) {
        const char *key = fields[i].key;
        if (strcmp(key, "time") == 0 || strcmp(key, "level") == 0 || strcmp(key, "msg") == 0) {
            char renamed[16] = "";
            snprintf(renamed, sizeof(renamed), "fields.%s", key);
            rc |= json_set_clean(obj, renamed, fields[i].value);
        } else {
            rc |= json_set_clean(obj, key, fields[i].value);
        }
    }
    char *text = rc == 0 ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(obj);
    if (text == NULL)
        return -1;
    buf_puts(b, text);
    free(text);
    return 0;
}

void hnp_log(enum hnp_log_level level, const char *msg, ...)
{
    if ((unsigned)level > (unsigned)HNP_LOG_ERROR)
        level = HNP_LOG_ERROR;

    pthread_mutex_lock(&lock);
    int to_out = level >= state.min_level;
    int to_sink = state.sink != NULL && level >= state.sink_level;
    if (!to_out && !to_sink) {
        pthread_mutex_unlock(&lock);
        return;
    }

    struct field fields[HNP_LOG_MAX_FIELDS];
    size_t n_fields = 0;
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (key == NULL)
            break;
        const char *value = va_arg(ap, const char *);
        if (n_fields < HNP_LOG_MAX_FIELDS) {
            fields[n_fields].key = key;
            fields[n_fields].value = value ? value : "";
            n_fields++;
        }
    }
    va_end(ap);

    char time_text[25];
    hnp_log_format_time(state.clock ? state.clock() : hnp_realtime_ms(), time_text);

    char stack[1024];
    struct buf line;
    buf_init(&line, stack, sizeof(stack));
    char *flat = clean_copy(msg ? msg : "", HNP_LOG_MAX_VALUE, 0, 1);
    const char *message = flat ? flat : "(out of memory)";

    if (state.format != HNP_LOG_JSON ||
        format_json(&line, time_text, level, message, fields, n_fields) != 0) {
        line.len = 0;
        line.full = 0;
        line.data[0] = '\0';
        format_text(&line, time_text, level, message, fields, n_fields);
    }

    if (to_out) {
        FILE *out = state.out ? state.out : stderr;
        /* One fwrite of the line and its newline (written over the NUL). */
        line.data[line.len] = '\n';
        fwrite(line.data, 1, line.len + 1, out);
        line.data[line.len] = '\0';
        fflush(out);
    }
    if (to_sink)
        state.sink(level, message, line.data, state.sink_ctx);
    buf_release(&line);
    free(flat);
    pthread_mutex_unlock(&lock);
}

void hnp_log_setup(enum hnp_log_level min_level, enum hnp_log_format format, FILE *out)
{
    pthread_mutex_lock(&lock);
    state.min_level = min_level;
    state.format = format;
    state.out = out;
    pthread_mutex_unlock(&lock);
}

void hnp_log_set_sink(hnp_log_sink_fn fn, enum hnp_log_level min_level, void *ctx)
{
    pthread_mutex_lock(&lock);
    state.sink = fn;
    state.sink_level = min_level;
    state.sink_ctx = ctx;
    pthread_mutex_unlock(&lock);
}

void hnp_log_set_clock(hnp_log_clock_fn fn)
{
    pthread_mutex_lock(&lock);
    state.clock = fn;
    pthread_mutex_unlock(&lock);
}

bool hnp_log_enabled(enum hnp_log_level level)
{
    pthread_mutex_lock(&lock);
    bool on = level >= state.min_level || (state.sink != NULL && level >= state.sink_level);
    pthread_mutex_unlock(&lock);
    return on;
}

int hnp_log_level_from_name(const char *name)
{
    if (name == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(name, level_names[i]) == 0)
            return (int)i;
    }
    return -1;
}

const char *hnp_log_level_name(enum hnp_log_level level)
{
    if ((unsigned)level > (unsigned)HNP_LOG_ERROR)
        return "error";
    return level_names[level];
}

int hnp_log_format_from_name(const char *name)
{
    if (name == NULL)
        return -1;
    if (strcmp(name, "text") == 0)
        return HNP_LOG_TEXT;
    if (strcmp(name, "json") == 0)
        return HNP_LOG_JSON;
    return -1;
}
