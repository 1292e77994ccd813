/*
 * config.c - the settings of `hnsnetpol run` from flags and from a YAML
 * configuration file (config.h). Every value, from a flag or from the file,
 * goes through hnp_run_config_set(), so a setting has the same values and
 * the same messages wherever it comes from; the flags are a table of the
 * shared option parser (options.h), the file keys a table here.
 *
 * The file is read whole (it is small and capped) so that the line of a key
 * whose value has no line of its own (true, false, null) can still be found
 * in the text.
 */
#include "config.h"
#include "registry.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hns.h"
#include "hnsnetpol/load.h"
#include "hnsnetpol/rangeset.h"
#include "options.h"
#include "text.h"

/* The longest duration any option takes. */
#define MAX_DURATION_MS (24L * 60 * 60 * 1000)

#define CONFIG_MAX_BYTES (1u << 20)

enum kind {
    K_STRING,
    K_PATH,
    K_HNS,
    K_IPV4,
    K_DURATION,
    K_UNSUPPORTED,
    K_SWITCH,
    K_LEVEL,
    K_FORMAT
};

/* The flags: row s is setting s (an alias would be one more row after them). */
static const struct hnp_opt flag_opts[] = {
    [HNP_RUN_KUBECONFIG] = {"--kubeconfig", 0, HNP_OPT_VALUE, HNP_RUN_KUBECONFIG},
    [HNP_RUN_CONTEXT] = {"--context", 0, HNP_OPT_VALUE, HNP_RUN_CONTEXT},
    [HNP_RUN_NODE_NAME] = {"--node-name", 0, HNP_OPT_VALUE, HNP_RUN_NODE_NAME},
    [HNP_RUN_HNS] = {"--hns", 0, HNP_OPT_VALUE, HNP_RUN_HNS},
    [HNP_RUN_NODE_IP] = {"--node-ip", 0, HNP_OPT_VALUE, HNP_RUN_NODE_IP},
    [HNP_RUN_METRICS_ADDR] = {"--metrics-addr", 0, HNP_OPT_VALUE, HNP_RUN_METRICS_ADDR},
    [HNP_RUN_BATCH_INTERVAL] = {"--batch-interval", 0, HNP_OPT_VALUE, HNP_RUN_BATCH_INTERVAL},
    [HNP_RUN_ENDPOINT_POLL_INTERVAL] = {"--endpoint-poll-interval", 0, HNP_OPT_VALUE,
                                        HNP_RUN_ENDPOINT_POLL_INTERVAL},
    [HNP_RUN_RESYNC_INTERVAL] = {"--resync-interval", 0, HNP_OPT_VALUE, HNP_RUN_RESYNC_INTERVAL},
    [HNP_RUN_HNS_TIMEOUT] = {"--hns-timeout", 0, HNP_OPT_VALUE, HNP_RUN_HNS_TIMEOUT},
    [HNP_RUN_UNSUPPORTED_POLICY] = {"--unsupported-policy", 0, HNP_OPT_VALUE,
                                    HNP_RUN_UNSUPPORTED_POLICY},
    [HNP_RUN_CLEANUP_ON_EXIT] = {"--cleanup-on-exit", 0, HNP_OPT_SWITCH, HNP_RUN_CLEANUP_ON_EXIT},
    [HNP_RUN_EVENTS] = {"--no-events", 0, HNP_OPT_SWITCH, HNP_RUN_EVENTS},
    [HNP_RUN_LOG_LEVEL] = {"--log-level", 0, HNP_OPT_VALUE, HNP_RUN_LOG_LEVEL},
    [HNP_RUN_LOG_FORMAT] = {"--log-format", 0, HNP_OPT_VALUE, HNP_RUN_LOG_FORMAT},
    [HNP_RUN_LOG_FILE] = {"--log-file", 0, HNP_OPT_VALUE, HNP_RUN_LOG_FILE},
    [HNP_RUN_CONFIG_FILE] = {"--config", 0, HNP_OPT_VALUE, HNP_RUN_CONFIG_FILE},
};

/* The file keys and the kind of value of each setting. */
static const struct setting {
    const char *key;
    enum kind kind;
} settings[HNP_RUN_SETTING_COUNT_] = {
    [HNP_RUN_KUBECONFIG] = {"kubeconfig", K_PATH},
    [HNP_RUN_CONTEXT] = {"context", K_STRING},
    [HNP_RUN_NODE_NAME] = {"nodeName", K_STRING},
    [HNP_RUN_HNS] = {"hns", K_HNS},
    [HNP_RUN_NODE_IP] = {"nodeIP", K_IPV4},
    [HNP_RUN_METRICS_ADDR] = {"metricsAddr", K_STRING},
    [HNP_RUN_BATCH_INTERVAL] = {"batchInterval", K_DURATION},
    [HNP_RUN_ENDPOINT_POLL_INTERVAL] = {"endpointPollInterval", K_DURATION},
    [HNP_RUN_RESYNC_INTERVAL] = {"resyncInterval", K_DURATION},
    [HNP_RUN_HNS_TIMEOUT] = {"hnsTimeout", K_DURATION},
    [HNP_RUN_UNSUPPORTED_POLICY] = {"unsupportedPolicy", K_UNSUPPORTED},
    [HNP_RUN_CLEANUP_ON_EXIT] = {"cleanupOnExit", K_SWITCH},
    [HNP_RUN_EVENTS] = {"events", K_SWITCH},
    [HNP_RUN_LOG_LEVEL] = {"logLevel", K_LEVEL},
    [HNP_RUN_LOG_FORMAT] = {"logFormat", K_FORMAT},
    [HNP_RUN_LOG_FILE] = {"logFile", K_PATH},
    [HNP_RUN_CONFIG_FILE] = {NULL, K_PATH},
};

static bool valid_setting(enum hnp_run_setting s)
{
    return (unsigned)s < HNP_RUN_SETTING_COUNT_;
}

void hnp_run_config_init(struct hnp_run_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->unsupported = HNP_UNSUPPORTED_REJECT;
    cfg->events = true;
    cfg->log_level = HNP_LOG_INFO;
    cfg->log_format = HNP_LOG_TEXT;
}

/* Where the string of s is in the struct; 0 (the offset of `set`) when s is not a string. */
static size_t string_offset(enum hnp_run_setting s)
{
    switch (s) {
    case HNP_RUN_KUBECONFIG:
        return offsetof(struct hnp_run_config, kubeconfig);
    case HNP_RUN_CONTEXT:
        return offsetof(struct hnp_run_config, context);
    case HNP_RUN_NODE_NAME:
        return offsetof(struct hnp_run_config, node_name);
    case HNP_RUN_HNS:
        return offsetof(struct hnp_run_config, hns);
    case HNP_RUN_METRICS_ADDR:
        return offsetof(struct hnp_run_config, metrics_addr);
    case HNP_RUN_LOG_FILE:
        return offsetof(struct hnp_run_config, log_file);
    case HNP_RUN_CONFIG_FILE:
        return offsetof(struct hnp_run_config, config_file);
    default:
        return 0;
    }
}

/* The string field of s, NULL for a setting that is not a string. */
static char **string_field(struct hnp_run_config *cfg, enum hnp_run_setting s)
{
    size_t off = string_offset(s);
    return off ? (char **)((char *)cfg + off) : NULL;
}

/* The same, read-only. */
static const char *string_value(const struct hnp_run_config *cfg, enum hnp_run_setting s,
                                bool *is_string)
{
    size_t off = string_offset(s);
    *is_string = off != 0;
    return off ? *(char *const *)((const char *)cfg + off) : NULL;
}

void hnp_run_config_clear(struct hnp_run_config *cfg)
{
    if (cfg == NULL)
        return;
    for (int s = 0; s < HNP_RUN_SETTING_COUNT_; s++) {
        char **field = string_field(cfg, (enum hnp_run_setting)s);
        if (field != NULL)
            free(*field);
    }
    hnp_run_config_init(cfg);
}

bool hnp_run_config_has(const struct hnp_run_config *cfg, enum hnp_run_setting s)
{
    return valid_setting(s) && (cfg->set & HNP_RUN_BIT(s)) != 0;
}

const char *hnp_run_setting_flag(enum hnp_run_setting s)
{
    return valid_setting(s) ? flag_opts[s].name : "";
}

const char *hnp_run_setting_key(enum hnp_run_setting s)
{
    return valid_setting(s) ? settings[s].key : NULL;
}

enum hnp_err hnp_run_config_set(struct hnp_run_config *cfg, enum hnp_run_setting s,
                                const char *text, struct hnp_error *err)
{
    if (!valid_setting(s))
        return hnp_error_set(err, HNP_ERR_INVALID, NULL, "no such setting");
    if (settings[s].kind != K_SWITCH && text == NULL)
        return hnp_error_set(err, HNP_ERR_INVALID, NULL, "needs a value");
    long ms = 0;
    uint32_t ip = 0;
    int level = 0, format = 0;
    switch (settings[s].kind) {
    case K_STRING:
    case K_PATH:
    case K_HNS: {
        char *copy = hnp_strdup(text);
        if (copy == NULL)
            return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
        char **field = string_field(cfg, s);
        free(*field);
        *field = copy;
        break;
    }
    case K_IPV4:
        if (!hnp_ipv4_parse(text, &ip))
            return hnp_error_set(err, HNP_ERR_INVALID, NULL, "\"%s\" is not an IPv4 address", text);
        cfg->node_ip = ip;
        break;
    case K_DURATION:
        if (!hnp_parse_duration(text, &ms))
            return hnp_error_set(err, HNP_ERR_INVALID, NULL,
                                 "\"%s\" is not a duration (use a number and a unit: 100ms, 2s, "
                                 "5m, 1m30s; at most 24h)",
                                 text);
        if (s == HNP_RUN_BATCH_INTERVAL)
            cfg->batch_ms = ms;
        else if (s == HNP_RUN_ENDPOINT_POLL_INTERVAL)
            cfg->endpoint_poll_ms = ms;
        else if (s == HNP_RUN_RESYNC_INTERVAL)
            cfg->resync_ms = ms;
        else
            cfg->hns_timeout_ms = ms;
        break;
    case K_UNSUPPORTED:
        if (strcmp(text, "reject") == 0)
            cfg->unsupported = HNP_UNSUPPORTED_REJECT;
        else if (strcmp(text, "isolate") == 0)
            cfg->unsupported = HNP_UNSUPPORTED_ISOLATE;
        else
            return hnp_error_set(err, HNP_ERR_INVALID, NULL, "\"%s\" is neither reject nor isolate",
                                 text);
        break;
    case K_SWITCH:
        if (s == HNP_RUN_CLEANUP_ON_EXIT)
            cfg->cleanup_on_exit = true;
        else
            cfg->events = false;
        break;
    case K_LEVEL:
        level = hnp_log_level_from_name(text);
        if (level < 0)
            return hnp_error_set(err, HNP_ERR_INVALID, NULL,
                                 "\"%s\" is not debug, info, warn or error", text);
        cfg->log_level = (enum hnp_log_level)level;
        break;
    case K_FORMAT:
        format = hnp_log_format_from_name(text);
        if (format < 0)
            return hnp_error_set(err, HNP_ERR_INVALID, NULL, "\"%s\" is not text or json", text);
        cfg->log_format = (enum hnp_log_format)format;
        break;
    }
    cfg->set |= HNP_RUN_BIT(s);
    return HNP_OK;
}

/* ------------------------------------------------------------------------ */
/* Flags                                                                    */

struct flags_call {
    struct hnp_run_config *cfg;
    const char *prog;
};

/* One flag's value (hnp_opt_set_fn): through hnp_run_config_set(), as the file's are. */
static enum hnp_err set_flag(void *ctx, const struct hnp_opt *opt, const char *value, FILE *errout)
{
    const struct flags_call *call = ctx;
    struct hnp_error err = {0};
    enum hnp_err rc = hnp_run_config_set(call->cfg, (enum hnp_run_setting)opt->id, value, &err);
    if (rc == HNP_ERR_INVALID) {
        fprintf(errout, "%s: %s: %s\n", call->prog, opt->name, err.message);
        return HNP_ERR_USAGE;
    }
    if (rc != HNP_OK)
        fprintf(errout, "%s: %s\n", call->prog, err.message);
    return rc;
}

enum hnp_err hnp_run_flags_parse(int argc, char **argv, const char *prog,
                                 struct hnp_run_config *out, bool *help, FILE *errout)
{
    struct hnp_run_config cfg;
    hnp_run_config_init(&cfg);
    *help = false;
    struct flags_call call = {&cfg, prog};
    const struct hnp_opt_parser parser = {
        .prog = prog,
        .messages = HNP_OPT_MESSAGES_RUN,
        .opts = flag_opts,
        .n_opts = sizeof(flag_opts) / sizeof(flag_opts[0]),
        .allowed = HNP_OPT_ALL,
        .set = set_flag,
        .ctx = &call,
    };
    enum hnp_err rc = hnp_opt_parse(&parser, argc, argv, 1, help, errout);
    if (rc != HNP_OK) {
        hnp_run_config_clear(&cfg);
        *help = false;
        return rc;
    }
    *out = cfg;
    return HNP_OK;
}

/* ------------------------------------------------------------------------ */
/* The file                                                                 */

struct load_ctx {
    const char *path;
    const char *text; /* the whole file, NUL-terminated */
    struct hnp_run_config *cfg;
    int documents;
};

/*
 * The 1-based line where key starts a line (after indentation, plain or
 * quoted, followed by ':'), 0 when none does. For values without a line of
 * their own (true, false, null).
 */
static long key_line(const char *text, const char *key)
{
    size_t klen = strlen(key);
    long line = 1;
    for (const char *p = text; *p != '\0'; line++) {
        const char *q = p;
        while (*q == ' ' || *q == '\t')
            q++;
        char quote = '\0';
        if (*q == '"' || *q == '\'')
            quote = *q;
        if (quote)
            q++;
        if (strncmp(q, key, klen) == 0) {
            q += klen;
            if (quote && *q == quote)
                q++;
            while (*q == ' ' || *q == '\t')
                q++;
            if (*q == ':')
                return line;
        }
        const char *nl = strchr(p, '\n');
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    return 0;
}

static long line_of(const struct load_ctx *c, const struct hnp_loaded_object *object,
                    const char *key, const json_t *value)
{
    if (!json_is_true(value) && !json_is_false(value) && !json_is_null(value))
        return hnp_loaded_object_line(object, value);
    long line = key_line(c->text, key);
    return line > 0 ? line : object->line;
}

/* Letters and digits of s in lower case: "node-name", "node_name" and "nodeName" agree. */
static void squash(const char *s, char *out, size_t len)
{
    size_t n = 0;
    for (; *s != '\0' && n + 1 < len; s++)
        if (isalnum((unsigned char)*s))
            out[n++] = (char)tolower((unsigned char)*s);
    out[n] = '\0';
}

static int setting_of_key(const char *key)
{
    for (int s = 0; s < HNP_RUN_SETTING_COUNT_; s++)
        if (settings[s].key != NULL && strcmp(settings[s].key, key) == 0)
            return s;
    return -1;
}

/* The key that key was likely meant to be ("node-name" -> nodeName), NULL if none. */
static const char *near_key(const char *key)
{
    char want[64], have[64];
    squash(key, want, sizeof(want));
    for (int s = 0; s < HNP_RUN_SETTING_COUNT_; s++) {
        if (settings[s].key == NULL)
            continue;
        squash(settings[s].key, have, sizeof(have));
        if (strcmp(want, have) == 0)
            return settings[s].key;
        squash(flag_opts[s].name, have, sizeof(have));
        if (strcmp(want, have) == 0)
            return settings[s].key;
    }
    return NULL;
}

static bool is_absolute(const char *path)
{
    if (path[0] == '/' || path[0] == '\\')
        return true;
    return isalpha((unsigned char)path[0]) && path[1] == ':';
}

/*
 * path made relative to the folder of the file `base` (new string), or a
 * copy of path when it is absolute or base has no folder part. NULL when out
 * of memory.
 */
static char *relative_to(const char *base, const char *path)
{
    const char *slash = strrchr(base, '/');
    const char *bslash = strrchr(base, '\\');
    if (bslash != NULL && (slash == NULL || bslash > slash))
        slash = bslash;
    if (path[0] == '\0' || is_absolute(path) || slash == NULL)
        return hnp_strdup(path);
    size_t dir = (size_t)(slash - base) + 1, n = strlen(path);
    char *out = malloc(dir + n + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, base, dir);
    memcpy(out + dir, path, n + 1);
    /* One kind of separator in the result: the folder's ("C:\\conf\\logs\\a.log"). */
    if (*slash == '\\')
        for (char *p = out + dir; *p != '\0'; p++)
            if (*p == '/')
                *p = '\\';
    return out;
}

/* "file:line" into where. */
static const char *file_line(const struct load_ctx *c, long line, char where[512])
{
    snprintf(where, 512, "%s:%ld", c->path, line);
    return where;
}

/* One setting from the file: key (known) = value. */

/* The argument of an HNS spec that takes one ("mock:PATH": PATH, inside spec), else NULL. */
static const char *hns_spec_arg(const char *spec)
{
    const struct hnp_hns_class *cls = NULL;
    const char *arg = NULL;
    if (hnp_hns_parse_spec(spec, &cls, &arg, NULL) != HNP_OK)
        return NULL;
    return arg;
}

static enum hnp_err set_from_file(struct load_ctx *c, const struct hnp_loaded_object *object,
                                  enum hnp_run_setting s, const char *key, json_t *value,
                                  struct hnp_error *err)
{
    if (json_is_null(value))
        return HNP_OK; /* "key:" with nothing: not given */
    char where[512];
    file_line(c, line_of(c, object, key, value), where);
    struct hnp_run_config *cfg = c->cfg;
    if (settings[s].kind == K_SWITCH) {
        if (!json_is_boolean(value))
            return hnp_error_set(err, HNP_ERR_INVALID, where, "%s: must be true or false%s", key,
                                 json_is_string(value) ? " (not a string: no quotes)" : "");
        if (s == HNP_RUN_CLEANUP_ON_EXIT)
            cfg->cleanup_on_exit = json_is_true(value);
        else
            cfg->events = json_is_true(value);
        cfg->set |= HNP_RUN_BIT(s);
        return HNP_OK;
    }
    if (!json_is_string(value)) {
        const char *hint = settings[s].kind == K_DURATION
                               ? ", a duration such as \"100ms\" or \"5m\""
                               : " (put it in quotes)";
        return hnp_error_set(err, HNP_ERR_INVALID, where, "%s: must be a string%s", key, hint);
    }
    const char *text = json_string_value(value);
    char *resolved = NULL;
    if (settings[s].kind == K_PATH) {
        resolved = relative_to(c->path, text);
    } else if (settings[s].kind == K_HNS && hns_spec_arg(text) != NULL) {
        /* "mock:PATH": PATH relative to the file, as every path in it. */
        const char *arg = hns_spec_arg(text);
        char *p = relative_to(c->path, arg);
        if (p != NULL) {
            size_t a = (size_t)(arg - text), n = strlen(p);
            resolved = malloc(a + n + 1);
            if (resolved != NULL) {
                memcpy(resolved, text, a);
                memcpy(resolved + a, p, n + 1);
            }
            free(p);
        }
    } else {
        resolved = hnp_strdup(text);
    }
    if (resolved == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, c->path, "out of memory");
    struct hnp_error detail = {0};
    enum hnp_err rc = hnp_run_config_set(cfg, s, resolved, &detail);
    free(resolved);
    if (rc != HNP_OK)
        return hnp_error_set(err, rc, where, "%s: %s", key, detail.message);
    return HNP_OK;
}

struct load_call {
    struct load_ctx c;
    struct hnp_error *err;
};

static enum hnp_err on_document(const struct hnp_loaded_object *object, void *ctx)
{
    struct load_call *call = ctx;
    struct load_ctx *c = &call->c;
    char where[512];
    if (++c->documents > 1)
        return hnp_error_set(call->err, HNP_ERR_SCHEMA, file_line(c, object->line, where),
                             "a configuration file holds one mapping, not several documents");
    const char *key;
    json_t *value;
    json_object_foreach(object->obj, key, value)
    {
        int s = setting_of_key(key);
        if (s < 0) {
            const char *near = near_key(key);
            file_line(c, line_of(c, object, key, value), where);
            if (near != NULL)
                return hnp_error_set(call->err, HNP_ERR_SCHEMA, where,
                                     "unknown key \"%s\" (did you mean %s?)", key, near);
            return hnp_error_set(call->err, HNP_ERR_SCHEMA, where,
                                 "unknown key \"%s\" (known keys: kubeconfig, context, "
                                 "nodeName, hns, nodeIP, metricsAddr, batchInterval, "
                                 "endpointPollInterval, resyncInterval, hnsTimeout, "
                                 "unsupportedPolicy, cleanupOnExit, events, logLevel, logFormat, "
                                 "logFile)",
                                 key);
        }
        enum hnp_err rc = set_from_file(c, object, (enum hnp_run_setting)s, key, value, call->err);
        if (rc != HNP_OK)
            return rc;
    }
    return HNP_OK;
}

/* Read the whole file at path (at most CONFIG_MAX_BYTES) into a new NUL-terminated string. */
static enum hnp_err read_text(const char *path, char **out, size_t *len, struct hnp_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return hnp_error_set(err, HNP_ERR_IO, path, "cannot open the configuration file: %s",
                             strerror(errno));
    char *text = malloc(CONFIG_MAX_BYTES + 2);
    if (text == NULL) {
        fclose(f);
        return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory");
    }
    size_t n = fread(text, 1, CONFIG_MAX_BYTES + 1, f);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed || n > CONFIG_MAX_BYTES) {
        free(text);
        if (failed)
            return hnp_error_set(err, HNP_ERR_IO, path, "cannot read the configuration file");
        return hnp_error_set(err, HNP_ERR_LIMIT, path,
                             "the configuration file is larger than 1 MiB");
    }
    text[n] = '\0';
    *out = text;
    *len = n;
    return HNP_OK;
}

enum hnp_err hnp_run_config_load(const char *path, struct hnp_run_config *out,
                                 struct hnp_error *err)
{
    char *text = NULL;
    size_t len = 0;
    enum hnp_err rc = read_text(path, &text, &len, err);
    if (rc != HNP_OK)
        return rc;
    struct hnp_run_config cfg;
    hnp_run_config_init(&cfg);
    struct load_call call = {{path, text, &cfg, 0}, err};
    struct hnp_load_limits limits = {.max_input_bytes = CONFIG_MAX_BYTES, .max_depth = 16};
    rc = hnp_load_buffer(text, len, path, &limits, on_document, &call, err);
    if (rc == HNP_ERR_EMPTY)
        hnp_error_set(err, rc, path, "the configuration file holds no settings");
    free(text);
    if (rc != HNP_OK) {
        hnp_run_config_clear(&cfg);
        return rc;
    }
    *out = cfg;
    return HNP_OK;
}

enum hnp_err hnp_run_config_merge(struct hnp_run_config *base, const struct hnp_run_config *over)
{
    /* Copy the strings first, so that running out of memory changes nothing. */
    char *copies[HNP_RUN_SETTING_COUNT_] = {0};
    for (int s = 0; s < HNP_RUN_SETTING_COUNT_; s++) {
        bool is_string;
        const char *value = string_value(over, (enum hnp_run_setting)s, &is_string);
        if (!hnp_run_config_has(over, (enum hnp_run_setting)s) || value == NULL)
            continue;
        copies[s] = hnp_strdup(value);
        if (copies[s] == NULL) {
            for (int t = 0; t < s; t++)
                free(copies[t]);
            return HNP_ERR_NOMEM;
        }
    }
    for (int s = 0; s < HNP_RUN_SETTING_COUNT_; s++) {
        enum hnp_run_setting setting = (enum hnp_run_setting)s;
        if (!hnp_run_config_has(over, setting))
            continue;
        char **field = string_field(base, setting);
        if (field != NULL) {
            free(*field);
            *field = copies[s];
        }
        switch (setting) {
        case HNP_RUN_NODE_IP:
            base->node_ip = over->node_ip;
            break;
        case HNP_RUN_BATCH_INTERVAL:
            base->batch_ms = over->batch_ms;
            break;
        case HNP_RUN_ENDPOINT_POLL_INTERVAL:
            base->endpoint_poll_ms = over->endpoint_poll_ms;
            break;
        case HNP_RUN_RESYNC_INTERVAL:
            base->resync_ms = over->resync_ms;
            break;
        case HNP_RUN_HNS_TIMEOUT:
            base->hns_timeout_ms = over->hns_timeout_ms;
            break;
        case HNP_RUN_UNSUPPORTED_POLICY:
            base->unsupported = over->unsupported;
            break;
        case HNP_RUN_CLEANUP_ON_EXIT:
            base->cleanup_on_exit = over->cleanup_on_exit;
            break;
        case HNP_RUN_EVENTS:
            base->events = over->events;
            break;
        case HNP_RUN_LOG_LEVEL:
            base->log_level = over->log_level;
            break;
        case HNP_RUN_LOG_FORMAT:
            base->log_format = over->log_format;
            break;
        default:
            break;
        }
        base->set |= HNP_RUN_BIT(s);
    }
    return HNP_OK;
}

enum hnp_err hnp_run_options_parse(int argc, char **argv, const char *prog,
                                   struct hnp_run_config *out, bool *help, FILE *errout)
{
    struct hnp_run_config flags;
    enum hnp_err rc = hnp_run_flags_parse(argc, argv, prog, &flags, help, errout);
    if (rc != HNP_OK || *help || flags.config_file == NULL) {
        if (rc == HNP_OK)
            *out = flags;
        return rc;
    }
    struct hnp_run_config cfg;
    struct hnp_error err = {0};
    rc = hnp_run_config_load(flags.config_file, &cfg, &err);
    if (rc != HNP_OK) {
        fprintf(errout, "%s: --config: %s%s%s\n", prog, err.where, err.where[0] ? ": " : "",
                err.message[0] ? err.message : hnp_strerror(rc));
        hnp_run_config_clear(&flags);
        return rc == HNP_ERR_NOMEM ? rc : HNP_ERR_USAGE;
    }
    rc = hnp_run_config_merge(&cfg, &flags);
    hnp_run_config_clear(&flags);
    if (rc != HNP_OK) {
        fprintf(errout, "%s: out of memory\n", prog);
        hnp_run_config_clear(&cfg);
        return rc;
    }
    *out = cfg;
    return HNP_OK;
}

/* ------------------------------------------------------------------------ */
/* Back to flags                                                            */

/* "--flag=value" as a new string. */
static char *flag_arg(const char *flag, const char *value)
{
    size_t a = strlen(flag), b = strlen(value);
    char *s = malloc(a + b + 2);
    if (s == NULL)
        return NULL;
    memcpy(s, flag, a);
    s[a] = '=';
    memcpy(s + a + 1, value, b + 1);
    return s;
}

/* A duration in ms as text: whole hours, minutes or seconds where exact, else ms. */
static void format_duration(long ms, char *out, size_t len)
{
    if (ms % 3600000 == 0)
        snprintf(out, len, "%ldh", ms / 3600000);
    else if (ms % 60000 == 0)
        snprintf(out, len, "%ldm", ms / 60000);
    else if (ms % 1000 == 0)
        snprintf(out, len, "%lds", ms / 1000);
    else
        snprintf(out, len, "%ldms", ms);
}

enum hnp_err hnp_run_config_to_args(const struct hnp_run_config *cfg, char ***out, int *count)
{
    char **args = calloc(HNP_RUN_SETTING_COUNT_ + 1, sizeof(*args));
    if (args == NULL)
        return HNP_ERR_NOMEM;
    int n = 0;
    for (int s = 0; s < HNP_RUN_SETTING_COUNT_; s++) {
        enum hnp_run_setting setting = (enum hnp_run_setting)s;
        if (!hnp_run_config_has(cfg, setting))
            continue;
        const char *flag = flag_opts[s].name;
        char text[32];
        bool is_string;
        const char *value = string_value(cfg, setting, &is_string);
        if (is_string) {
            value = value ? value : "";
        } else {
            value = text;
            switch (setting) {
            case HNP_RUN_NODE_IP:
                hnp_ipv4_format(cfg->node_ip, text);
                break;
            case HNP_RUN_BATCH_INTERVAL:
                format_duration(cfg->batch_ms, text, sizeof(text));
                break;
            case HNP_RUN_ENDPOINT_POLL_INTERVAL:
                format_duration(cfg->endpoint_poll_ms, text, sizeof(text));
                break;
            case HNP_RUN_RESYNC_INTERVAL:
                format_duration(cfg->resync_ms, text, sizeof(text));
                break;
            case HNP_RUN_HNS_TIMEOUT:
                format_duration(cfg->hns_timeout_ms, text, sizeof(text));
                break;
            case HNP_RUN_UNSUPPORTED_POLICY:
                value = cfg->unsupported == HNP_UNSUPPORTED_ISOLATE ? "isolate" : "reject";
                break;
            case HNP_RUN_LOG_LEVEL:
                value = hnp_log_level_name(cfg->log_level);
                break;
            case HNP_RUN_LOG_FORMAT:
                value = cfg->log_format == HNP_LOG_JSON ? "json" : "text";
                break;
            case HNP_RUN_CLEANUP_ON_EXIT:
                if (!cfg->cleanup_on_exit)
                    continue; /* a switch has no "off" form */
                value = NULL;
                break;
            case HNP_RUN_EVENTS:
                if (cfg->events)
                    continue;
                value = NULL;
                break;
            default:
                continue;
            }
        }
        args[n] = value == NULL ? hnp_strdup(flag) : flag_arg(flag, value);
        if (args[n] == NULL) {
            hnp_run_args_free(args);
            return HNP_ERR_NOMEM;
        }
        n++;
    }
    *out = args;
    *count = n;
    return HNP_OK;
}

void hnp_run_args_free(char **args)
{
    if (args == NULL)
        return;
    for (char **a = args; *a != NULL; a++)
        free(*a);
    free(args);
}

bool hnp_parse_duration(const char *text, long *ms)
{
    if (text == NULL || *text == '\0')
        return false;
    long long total = 0;
    const char *p = text;
    while (*p != '\0') {
        if (!isdigit((unsigned char)*p))
            return false;
        long long n = 0;
        while (isdigit((unsigned char)*p)) {
            n = n * 10 + (*p - '0');
            if (n > MAX_DURATION_MS)
                return false;
            p++;
        }
        long long unit;
        if (strncmp(p, "ms", 2) == 0) {
            unit = 1;
            p += 2;
        } else if (*p == 's') {
            unit = 1000;
            p++;
        } else if (*p == 'm') {
            unit = 60LL * 1000;
            p++;
        } else if (*p == 'h') {
            unit = 60LL * 60 * 1000;
            p++;
        } else {
            return false;
        }
        total += n * unit;
        if (total > MAX_DURATION_MS)
            return false;
    }
    if (total <= 0)
        return false;
    *ms = (long)total;
    return true;
}
