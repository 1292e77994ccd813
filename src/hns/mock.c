/*
 * hns_mock.c - the portable HNS backend: HCN endpoint documents in a JSON
 * state file (docs/mock-hns.md) that tests and `hnsnetpol hns-mock` read and
 * edit while an agent runs against it.
 *
 * Every call re-reads the file under an exclusive lock on PATH.lock
 * held across read-modify-write, counts itself in "calls", applies the
 * faults asked for in "faults", does its work the way HNS would (requests are
 * validated as HNS validates them, refusals carry HCN error codes) and writes
 * the file back atomically (temp file in the same folder, rename).
 *
 * The lock, the atomic replace, the clock and the sleep come from the
 * platform layer (include/hnsnetpol/platform.h), so the same mock runs on
 * Linux and on Windows.
 */

#include "mock.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hnsnetpol/acl.h"
#include "text.h"
#include "platform.h"
#include "hnsnetpol/rangeset.h"

/* A state file larger than this is refused rather than read into memory. */
#define STATE_MAX_BYTES ((size_t)256 << 20)
/* Upper bound of an injected latency (ten minutes). */
#define LATENCY_MAX_MS 600000

enum op { OP_LIST, OP_QUERY, OP_MODIFY, OP_COUNT_ };
static const char *const op_names[OP_COUNT_] = {"list", "query", "modify"};

/* ------------------------------------------------------------------------ */
/* The state file: lock, atomic replace                                     */

/* A new string "<a><b>", NULL when out of memory. */
static char *concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s == NULL)
        return NULL;
    snprintf(s, la + lb + 1, "%s%s", a, b);
    return s;
}

/* Take the exclusive lock on PATH.lock; *lock receives it. */
static enum hnp_err lock_state(const char *path, struct hnp_file_lock **lock, struct hnp_error *err)
{
    char *lock_path = concat(path, ".lock");
    if (lock_path == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory locking the mock HNS state");
    struct hnp_error lerr = {0};
    enum hnp_err rc = hnp_file_lock(lock_path, lock, &lerr);
    if (rc != HNP_OK)
        hnp_error_set(err, rc, path, "cannot lock the mock HNS state: %s", lerr.message);
    free(lock_path);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* JSON helpers                                                             */

/* The ID of an endpoint document (checked to be a string when the state was read). */
static const char *endpoint_id(const json_t *ep)
{
    return json_string_value(hnp_json_get_nocase(ep, "ID"));
}

json_t *hnp_hns_mock_find(const json_t *state, const char *id, size_t *index)
{
    const json_t *endpoints = json_object_get(state, "endpoints");
    for (size_t i = 0; i < json_array_size(endpoints); i++) {
        json_t *ep = json_array_get(endpoints, i);
        const char *ep_id = endpoint_id(ep);
        if (ep_id != NULL && hnp_equal_nocase(ep_id, id)) {
            if (index != NULL)
                *index = i;
            return ep;
        }
    }
    return NULL;
}

static int op_from_name(const char *name)
{
    for (int i = 0; i < OP_COUNT_; i++) {
        if (strcmp(name, op_names[i]) == 0)
            return i;
    }
    return -1;
}

/*
 * An HCN code given in a fault: an integer 0..0xFFFFFFFF, a negative 32-bit
 * HRESULT as PowerShell prints it, or a string "0x803B0020" / "2151350304".
 */
static bool fault_code(const json_t *value, uint32_t *out)
{
    long long code;
    if (json_is_integer(value)) {
        code = json_integer_value(value);
    } else if (json_is_string(value)) {
        const char *text = json_string_value(value);
        char *end;
        errno = 0;
        code = strtoll(text, &end, 0);
        if (end == text || *end != '\0' || errno != 0)
            return false;
    } else {
        return false;
    }
    if (code < INT32_MIN || code > (long long)UINT32_MAX)
        return false;
    *out = (uint32_t)(code < 0 ? code + 0x100000000LL : code);
    return true;
}

/* ------------------------------------------------------------------------ */
/* Reading and checking the state file                                      */

/* Fill err for a state file of the wrong shape: "PATH: FIELD: ...". */
static enum hnp_err corrupt(struct hnp_error *err, const char *path, const char *field,
                            const char *fmt, ...) HNP_PRINTF(4, 5);

static enum hnp_err corrupt(struct hnp_error *err, const char *path, const char *field,
                            const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return hnp_error_set(err, HNP_ERR_HNS, path, "mock HNS state %s is corrupt: %s: %s", path,
                         field, what);
}

/* Read the whole file into *text (NUL-terminated, new); *text NULL when it does not exist. */
static enum hnp_err read_text(const char *path, char **text, size_t *len, struct hnp_error *err)
{
    *text = NULL;
    *len = 0;
    FILE *f = NULL;
    struct hnp_error oerr = {0};
    enum hnp_err orc = hnp_file_open_read(path, &f, &oerr);
    if (orc == HNP_ERR_NOT_FOUND)
        return HNP_OK;
    if (orc != HNP_OK)
        return hnp_error_set(err, orc, path, "cannot read the mock HNS state: %s", oerr.message);
    char *buf = NULL;
    size_t used = 0, cap = 0;
    enum hnp_err rc = HNP_OK;
    for (;;) {
        if (cap - used < 4096) {
            size_t grown = cap ? cap * 2 : 65536;
            if (grown > STATE_MAX_BYTES + 1)
                grown = STATE_MAX_BYTES + 1;
            if (grown <= cap) {
                rc = hnp_error_set(err, HNP_ERR_LIMIT, path,
                                   "mock HNS state %s is larger than %zu bytes", path,
                                   STATE_MAX_BYTES);
                break;
            }
            char *bigger = realloc(buf, grown + 1);
            if (bigger == NULL) {
                rc = hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory reading %s", path);
                break;
            }
            buf = bigger;
            cap = grown;
        }
        size_t n = fread(buf + used, 1, cap - used, f);
        used += n;
        if (n == 0) {
            if (ferror(f))
                rc = hnp_error_set(err, HNP_ERR_IO, path, "cannot read the mock HNS state %s: %s",
                                   path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (rc == HNP_OK && used > STATE_MAX_BYTES)
        rc = hnp_error_set(err, HNP_ERR_LIMIT, path, "mock HNS state %s is larger than %zu bytes",
                           path, STATE_MAX_BYTES);
    if (rc != HNP_OK) {
        free(buf);
        return rc;
    }
    if (buf == NULL) { /* empty file */
        buf = malloc(1);
        if (buf == NULL)
            return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory reading %s", path);
    }
    buf[used] = '\0';
    *text = buf;
    *len = used;
    return HNP_OK;
}

/* Set key to a new value when it is absent; false on NOMEM. */
static bool ensure(json_t *obj, const char *key, json_t *(*make)(void))
{
    if (json_object_get(obj, key) != NULL)
        return true;
    return json_object_set_new(obj, key, make()) == 0;
}

static json_t *make_zero(void)
{
    return json_integer(0);
}

static enum hnp_err check_endpoints(const json_t *endpoints, const char *path,
                                    struct hnp_error *err)
{
    if (!json_is_array(endpoints))
        return corrupt(err, path, "endpoints", "must be an array of HCN endpoint objects");
    char field[96];
    for (size_t i = 0; i < json_array_size(endpoints); i++) {
        const json_t *ep = json_array_get(endpoints, i);
        snprintf(field, sizeof(field), "endpoints[%zu]", i);
        if (!json_is_object(ep))
            return corrupt(err, path, field, "must be an object");
        const json_t *id = hnp_json_get_nocase(ep, "ID");
        if (!json_is_string(id) || json_string_value(id)[0] == '\0')
            return corrupt(err, path, field, "needs an \"ID\" string");
        const json_t *st = hnp_json_get_nocase(ep, "State");
        if (st != NULL && !json_is_integer(st))
            return corrupt(err, path, field,
                           "\"State\" must be an integer (2 Attached, 3 "
                           "AttachedSharing, ...)");
        const json_t *ipc = hnp_json_get_nocase(ep, "IpConfigurations");
        if (ipc != NULL && !json_is_array(ipc))
            return corrupt(err, path, field, "\"IpConfigurations\" must be an array");
        for (size_t j = 0; j < json_array_size(ipc); j++) {
            const json_t *c = json_array_get(ipc, j);
            if (!json_is_object(c))
                return corrupt(err, path, field, "\"IpConfigurations\"[%zu] must be an object", j);
            const json_t *ip = hnp_json_get_nocase(c, "IpAddress");
            if (ip != NULL && !json_is_string(ip))
                return corrupt(err, path, field,
                               "\"IpConfigurations\"[%zu].IpAddress must be a string", j);
        }
        const json_t *pol = hnp_json_get_nocase(ep, "Policies");
        if (pol != NULL && !json_is_array(pol))
            return corrupt(err, path, field, "\"Policies\" must be an array");
    }
    return HNP_OK;
}

static enum hnp_err check_calls(json_t *calls, const char *path, struct hnp_error *err)
{
    if (!json_is_object(calls))
        return corrupt(err, path, "calls", "must be an object of operation -> count");
    const char *key;
    json_t *value;
    json_object_foreach(calls, key, value)
    {
        if (!json_is_integer(value) || json_integer_value(value) < 0)
            return corrupt(err, path, "calls", "\"%s\" must be a count (an integer >= 0)", key);
    }
    for (int i = 0; i < OP_COUNT_; i++) {
        if (!ensure(calls, op_names[i], make_zero))
            return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory");
    }
    return HNP_OK;
}

static enum hnp_err check_fail_entry(const json_t *entry, size_t i, const char *path,
                                     struct hnp_error *err)
{
    char field[64];
    snprintf(field, sizeof(field), "faults.fail[%zu]", i);
    if (!json_is_object(entry))
        return corrupt(err, path, field, "must be an object {\"operation\", \"count\", \"code\"}");
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)entry, key, value)
    {
        if (strcmp(key, "operation") != 0 && strcmp(key, "count") != 0 && strcmp(key, "code") != 0)
            return corrupt(err, path, field, "unknown key \"%s\" (operation, count, code)", key);
    }
    const json_t *op = json_object_get(entry, "operation");
    if (!json_is_string(op) || op_from_name(json_string_value(op)) < 0)
        return corrupt(err, path, field, "\"operation\" must be \"list\", \"query\" or \"modify\"");
    const json_t *count = json_object_get(entry, "count");
    if (!json_is_integer(count) || json_integer_value(count) < 0)
        return corrupt(err, path, field, "\"count\" must be an integer >= 0");
    uint32_t code;
    if (!fault_code(json_object_get(entry, "code"), &code))
        return corrupt(err, path, field,
                       "\"code\" must be an HCN error code: an integer such as 2151350304 or a "
                       "string such as \"0x803B0020\"");
    return HNP_OK;
}

static enum hnp_err check_faults(json_t *faults, const char *path, struct hnp_error *err)
{
    if (!json_is_object(faults))
        return corrupt(err, path, "faults", "must be an object");
    const char *key;
    json_t *value;
    json_object_foreach(faults, key, value)
    {
        if (strcmp(key, "fail") == 0) {
            if (!json_is_array(value))
                return corrupt(err, path, "faults.fail", "must be an array");
            for (size_t i = 0; i < json_array_size(value); i++) {
                enum hnp_err rc = check_fail_entry(json_array_get(value, i), i, path, err);
                if (rc != HNP_OK)
                    return rc;
            }
        } else if (strcmp(key, "latency_ms") == 0) {
            if (!json_is_object(value))
                return corrupt(err, path, "faults.latency_ms",
                               "must be an object of operation -> milliseconds");
            const char *op;
            json_t *ms;
            json_object_foreach(value, op, ms)
            {
                if (op_from_name(op) < 0)
                    return corrupt(err, path, "faults.latency_ms",
                                   "unknown operation \"%s\" (list, query, modify)", op);
                if (!json_is_integer(ms) || json_integer_value(ms) < 0 ||
                    json_integer_value(ms) > LATENCY_MAX_MS)
                    return corrupt(err, path, "faults.latency_ms", "\"%s\" must be 0..%d ms", op,
                                   LATENCY_MAX_MS);
            }
        } else if (strcmp(key, "vanish") == 0) {
            if (!json_is_array(value))
                return corrupt(err, path, "faults.vanish", "must be an array of endpoint IDs");
            for (size_t i = 0; i < json_array_size(value); i++) {
                if (!json_is_string(json_array_get(value, i)))
                    return corrupt(err, path, "faults.vanish",
                                   "entry %zu must be an endpoint ID string", i);
            }
        } else {
            return corrupt(err, path, "faults", "unknown fault \"%s\" (fail, latency_ms, vanish)",
                           key);
        }
    }
    return HNP_OK;
}

/* Check the documented shape and add what is missing (endpoints, calls, faults). */
static enum hnp_err check_state(json_t *state, const char *path, struct hnp_error *err)
{
    if (!json_is_object(state))
        return corrupt(err, path, "(top level)",
                       "must be an object {\"endpoints\": [...], \"calls\": {...}, \"faults\": "
                       "{...}}");
    if (!ensure(state, "endpoints", json_array) || !ensure(state, "calls", json_object) ||
        !ensure(state, "faults", json_object))
        return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory");
    enum hnp_err rc = check_endpoints(json_object_get(state, "endpoints"), path, err);
    if (rc == HNP_OK)
        rc = check_calls(json_object_get(state, "calls"), path, err);
    if (rc == HNP_OK)
        rc = check_faults(json_object_get(state, "faults"), path, err);
    return rc;
}

/* Read, parse and check the state; *out is new. */
static enum hnp_err load_state(const char *path, json_t **out, struct hnp_error *err)
{
    char *text;
    size_t len;
    enum hnp_err rc = read_text(path, &text, &len, err);
    if (rc != HNP_OK)
        return rc;
    json_t *state;
    if (text == NULL || len == 0) {
        state = json_object();
        if (state == NULL) {
            free(text);
            return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory");
        }
    } else {
        json_error_t jerr;
        state = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (state == NULL) {
            free(text);
            return hnp_error_set(err, HNP_ERR_HNS, path,
                                 "mock HNS state %s:%d:%d is not valid JSON: %s", path, jerr.line,
                                 jerr.column, jerr.text);
        }
    }
    free(text);
    rc = check_state(state, path, err);
    if (rc != HNP_OK) {
        json_decref(state);
        return rc;
    }
    *out = state;
    return HNP_OK;
}

/*
 * Replace the state file with state and a newline, atomically (temp file in
 * the same folder, renamed over it), so a reader sees the old file or the
 * new one, never half of one. No fsync: durability across a power cut is not
 * something a test double needs, and it would add milliseconds to every
 * modelled HNS call.
 */
static enum hnp_err save_state(const char *path, const json_t *state, struct hnp_error *err)
{
    char *text = json_dumps(state, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    size_t len = text != NULL ? strlen(text) : 0;
    char *line = text != NULL ? realloc(text, len + 2) : NULL;
    if (line == NULL) {
        free(text);
        return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory writing %s", path);
    }
    line[len] = '\n';
    line[len + 1] = '\0';
    struct hnp_error werr = {0};
    enum hnp_err rc = hnp_file_replace(path, line, len + 1, &werr);
    if (rc != HNP_OK)
        hnp_error_set(err, rc, path, "cannot write the mock HNS state: %s", werr.message);
    free(line);
    return rc;
}

enum hnp_err hnp_hns_mock_read(const char *path, json_t **out, struct hnp_error *err)
{
    return load_state(path, out, err);
}

enum hnp_err hnp_hns_mock_edit(const char *path, hnp_hns_mock_edit_fn fn, void *ctx,
                               struct hnp_error *err)
{
    struct hnp_file_lock *lock = NULL;
    enum hnp_err rc = lock_state(path, &lock, err);
    if (rc != HNP_OK)
        return rc;
    json_t *state = NULL;
    rc = load_state(path, &state, err);
    if (rc == HNP_OK) {
        bool write = false;
        rc = fn(state, &write, ctx, err);
        if (write) {
            struct hnp_error werr = {0};
            enum hnp_err wrc = save_state(path, state, &werr);
            if (wrc != HNP_OK) {
                /* The call's effect (or its counting) was not recorded: say so. */
                rc = wrc;
                if (err != NULL)
                    *err = werr;
            }
        }
    }
    json_decref(state);
    hnp_file_unlock(lock);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The backend                                                              */

struct mock {
    struct hnp_hns base; /* first: the agent holds a struct hnp_hns * */
    char *path;
};

/* Fill err for an HCN failure; 0x803B0002 is HNP_ERR_NOT_FOUND, anything else HNP_ERR_HNS. */
static enum hnp_err hcn_error(struct hnp_error *err, uint32_t code, const char *where,
                              const char *fmt, ...) HNP_PRINTF(4, 5);

static enum hnp_err hcn_error(struct hnp_error *err, uint32_t code, const char *where,
                              const char *fmt, ...)
{
    enum hnp_err rc = code == HNP_HCN_ENDPOINT_NOT_FOUND ? HNP_ERR_NOT_FOUND : HNP_ERR_HNS;
    if (err == NULL)
        return rc;
    char what[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    hnp_error_set(err, rc, where, "HNS error 0x%08X: %s", (unsigned)code, what);
    hnp_error_set_code(err, HNP_CODE_HRESULT, (long long)code);
    return rc;
}

/* A call context: what the operation needs and what it produces. */
struct call {
    enum op op;
    const char *path;
    const char *id;               /* query, modify */
    const json_t *request;        /* modify */
    struct hnp_hns_endpoint *eps; /* list result */
    size_t n_eps;
    struct hnp_hns_endpoint one; /* query result */
    long latency_ms;             /* faults.latency_ms of this operation */
};

/* Count the call, then fail it if a "fail" fault for its operation is pending. */
static enum hnp_err begin_call(json_t *state, struct call *call, bool *write, struct hnp_error *err)
{
    const char *name = op_names[call->op];
    json_t *calls = json_object_get(state, "calls");
    json_int_t n = json_integer_value(json_object_get(calls, name));
    if (json_object_set_new(calls, name, json_integer(n < LLONG_MAX ? n + 1 : n)) != 0)
        return hnp_error_set(err, HNP_ERR_NOMEM, call->path, "out of memory");
    *write = true;
    call->latency_ms = (long)json_integer_value(
        json_object_get(json_object_get(json_object_get(state, "faults"), "latency_ms"), name));

    json_t *fail = json_object_get(json_object_get(state, "faults"), "fail");
    size_t i = 0;
    while (i < json_array_size(fail)) {
        json_t *entry = json_array_get(fail, i);
        if (strcmp(json_string_value(json_object_get(entry, "operation")), name) != 0) {
            i++;
            continue;
        }
        json_int_t count = json_integer_value(json_object_get(entry, "count"));
        uint32_t code = 0;
        fault_code(json_object_get(entry, "code"), &code); /* checked when read */
        if (count <= 1) {
            json_array_remove(fail, i); /* spent (a count of 0 is dropped unused) */
            if (count <= 0)
                continue;
        } else if (json_object_set_new(entry, "count", json_integer(count - 1)) != 0) {
            return hnp_error_set(err, HNP_ERR_NOMEM, call->path, "out of memory");
        }
        return hcn_error(err, code, call->path, "injected fault on %s (faults.fail in %s)", name,
                         call->path);
    }
    return HNP_OK;
}

/* Convert one endpoint document. HNP_ERR_NOMEM only: the shape was checked on reading. */
static enum hnp_err endpoint_from_json(json_t *doc, struct hnp_hns_endpoint *out)
{
    struct hnp_hns_endpoint ep;
    memset(&ep, 0, sizeof(ep));
    ep.id = hnp_strdup(endpoint_id(doc));
    const json_t *name = hnp_json_get_nocase(doc, "Name");
    if (json_is_string(name))
        ep.name = hnp_strdup(json_string_value(name));
    json_t *policies = hnp_json_get_nocase(doc, "Policies");
    ep.policies = policies != NULL ? json_incref(policies) : json_array();
    if (ep.id == NULL || (json_is_string(name) && ep.name == NULL) || ep.policies == NULL) {
        hnp_hns_endpoint_clear(&ep);
        return HNP_ERR_NOMEM;
    }
    const json_t *ipc = hnp_json_get_nocase(doc, "IpConfigurations");
    for (size_t i = 0; i < json_array_size(ipc) && ep.n_ips < HNP_HNS_MAX_IPS; i++) {
        const char *text =
            json_string_value(hnp_json_get_nocase(json_array_get(ipc, i), "IpAddress"));
        uint32_t addr;
        if (text != NULL && hnp_ipv4_parse(text, &addr))
            ep.ips[ep.n_ips++] = addr; /* IPv6 and the unparseable are skipped */
    }
    *out = ep;
    return HNP_OK;
}

static bool endpoint_is_local(const json_t *doc)
{
    const json_t *st = hnp_json_get_nocase(doc, "State");
    json_int_t state = st != NULL ? json_integer_value(st) : 3;
    return state == 2 || state == 3;
}

static enum hnp_err do_list(json_t *state, bool *write, void *ctx, struct hnp_error *err)
{
    struct call *call = ctx;
    enum hnp_err rc = begin_call(state, call, write, err);
    if (rc != HNP_OK)
        return rc;
    const json_t *endpoints = json_object_get(state, "endpoints");
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(endpoints); i++)
        n += endpoint_is_local(json_array_get(endpoints, i));
    if (n == 0)
        return HNP_OK;
    struct hnp_hns_endpoint *eps = calloc(n, sizeof(*eps));
    if (eps == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, call->path, "out of memory listing endpoints");
    size_t k = 0;
    for (size_t i = 0; i < json_array_size(endpoints); i++) {
        json_t *doc = json_array_get(endpoints, i);
        if (!endpoint_is_local(doc))
            continue;
        if (endpoint_from_json(doc, &eps[k]) != HNP_OK) {
            hnp_hns_endpoints_free(eps, k);
            return hnp_error_set(err, HNP_ERR_NOMEM, call->path, "out of memory listing endpoints");
        }
        k++;
    }
    call->eps = eps;
    call->n_eps = k;
    return HNP_OK;
}

static enum hnp_err not_found(struct hnp_error *err, const struct call *call)
{
    return hcn_error(err, HNP_HCN_ENDPOINT_NOT_FOUND, call->path, "endpoint %s not found",
                     call->id);
}

static enum hnp_err do_query(json_t *state, bool *write, void *ctx, struct hnp_error *err)
{
    struct call *call = ctx;
    enum hnp_err rc = begin_call(state, call, write, err);
    if (rc != HNP_OK)
        return rc;
    json_t *doc = hnp_hns_mock_find(state, call->id, NULL);
    if (doc == NULL)
        return not_found(err, call);
    if (endpoint_from_json(doc, &call->one) != HNP_OK)
        return hnp_error_set(err, HNP_ERR_NOMEM, call->path, "out of memory reading endpoint");
    return HNP_OK;
}

enum request_type { REQ_ADD, REQ_UPDATE, REQ_REMOVE, REQ_REFRESH };

/* Refuse a request with an HCN code; where is the field path in the request. */
#define REFUSE(err, code, where, ...) hcn_error((err), (code), (where), __VA_ARGS__)

/* Check one policy of Settings.Policies the way HNS does. */
static enum hnp_err check_policy(const json_t *policy, size_t i, struct hnp_error *err)
{
    char where[64];
    snprintf(where, sizeof(where), "Settings.Policies[%zu]", i);
    if (!json_is_object(policy))
        return REFUSE(err, HNP_HCN_INVALID_POLICY, where, "invalid policy: %s must be an object",
                      where);
    const json_t *type = json_object_get(policy, "Type");
    char type_where[80];
    snprintf(type_where, sizeof(type_where), "%s.Type", where);
    if (type == NULL)
        return REFUSE(err, HNP_HCN_INVALID_POLICY, type_where, "invalid policy: %s is missing",
                      type_where);
    if (!json_is_string(type))
        return REFUSE(err, HNP_HCN_INVALID_POLICY, type_where,
                      "invalid policy: %s must be a string", type_where);
    if (strcmp(json_string_value(type), "ACL") != 0)
        return HNP_OK; /* OutBoundNAT, SDNRoute, ...: stored as given */
    struct hnp_acl acl;
    struct hnp_error inner = {0};
    enum hnp_err rc = hnp_acl_from_json(policy, &acl, &inner);
    if (rc == HNP_OK) {
        hnp_acl_clear(&acl);
        return HNP_OK;
    }
    if (rc == HNP_ERR_NOMEM)
        return hnp_error_set(err, HNP_ERR_NOMEM, where, "out of memory checking a policy");
    char full[sizeof(where) + sizeof(inner.where) + 1];
    if (inner.where[0] != '\0')
        snprintf(full, sizeof(full), "%s.%s", where, inner.where);
    else
        snprintf(full, sizeof(full), "%s", where);
    return REFUSE(err, HNP_HCN_INVALID_POLICY, full, "invalid policy: %s: %s", full, inner.message);
}

/* Check a modify request; *type and *policies (borrowed) describe it. */
static enum hnp_err check_request(const json_t *request, enum request_type *type,
                                  const json_t **policies, struct hnp_error *err)
{
    if (!json_is_object(request))
        return REFUSE(err, HNP_HCN_INVALID_JSON, "",
                      "invalid JSON: the modify request must be an object");
    const json_t *rt = json_object_get(request, "ResourceType");
    if (!json_is_string(rt) || strcmp(json_string_value(rt), "Policy") != 0)
        return REFUSE(err, HNP_HCN_REQUEST_UNSUPPORTED, "ResourceType",
                      "request unsupported: ResourceType must be \"Policy\"");
    static const char *const types[] = {"Add", "Update", "Remove", "Refresh"};
    const json_t *req = json_object_get(request, "RequestType");
    int found = -1;
    for (int i = 0; i < 4 && json_is_string(req); i++) {
        if (strcmp(json_string_value(req), types[i]) == 0)
            found = i;
    }
    if (found < 0)
        return REFUSE(err, HNP_HCN_REQUEST_UNSUPPORTED, "RequestType",
                      "request unsupported: RequestType must be \"Add\", \"Update\", \"Remove\" "
                      "or \"Refresh\"");
    const json_t *settings = json_object_get(request, "Settings");
    if (json_is_string(settings))
        return REFUSE(err, HNP_HCN_INVALID_JSON, "Settings",
                      "invalid JSON: Settings must be a JSON object, not a string of JSON text");
    if (!json_is_object(settings))
        return REFUSE(err, HNP_HCN_INVALID_JSON, "Settings",
                      "invalid JSON: Settings must be an object {\"Policies\": [...]}");
    const json_t *list = json_object_get(settings, "Policies");
    if (!json_is_array(list))
        return REFUSE(err, HNP_HCN_INVALID_JSON, "Settings.Policies",
                      "invalid JSON: Settings.Policies must be an array");
    for (size_t i = 0; i < json_array_size(list); i++) {
        enum hnp_err rc = check_policy(json_array_get(list, i), i, err);
        if (rc != HNP_OK)
            return rc;
    }
    *type = (enum request_type)found;
    *policies = list;
    return HNP_OK;
}

/* The endpoint's Policies array (created when absent); NULL on NOMEM. */
static json_t *endpoint_policies(json_t *doc)
{
    json_t *policies = hnp_json_get_nocase(doc, "Policies");
    if (policies != NULL)
        return policies;
    policies = json_array();
    if (json_object_set_new(doc, "Policies", policies) != 0)
        return NULL;
    return policies;
}

/* Append deep copies of every element of src to dst. */
static bool append_copies(json_t *dst, const json_t *src)
{
    for (size_t i = 0; i < json_array_size(src); i++) {
        if (json_array_append_new(dst, json_deep_copy(json_array_get(src, i))) != 0)
            return false;
    }
    return true;
}

/* Apply a checked request to the endpoint's policies, all or nothing. */
static enum hnp_err apply_request(json_t *doc, enum request_type type, const json_t *given,
                                  const struct call *call, struct hnp_error *err)
{
    if (type == REQ_REFRESH)
        return HNP_OK;
    json_t *policies = endpoint_policies(doc);
    json_t *next = json_array();
    if (policies == NULL || next == NULL) {
        json_decref(next);
        return hnp_error_set(err, HNP_ERR_NOMEM, call->path, "out of memory");
    }
    bool ok = true;
    if (type == REQ_UPDATE) {
        ok = append_copies(next, given);
    } else if (type == REQ_ADD) {
        ok = json_array_extend(next, policies) == 0 && append_copies(next, given);
    } else { /* REQ_REMOVE: each given policy takes away one equal policy */
        ok = json_array_extend(next, policies) == 0;
        for (size_t i = 0; ok && i < json_array_size(given); i++) {
            const json_t *gone = json_array_get(given, i);
            size_t j = 0;
            while (j < json_array_size(next) && !json_equal(json_array_get(next, j), gone))
                j++;
            if (j == json_array_size(next)) {
                json_decref(next);
                char where[64];
                snprintf(where, sizeof(where), "Settings.Policies[%zu]", i);
                return REFUSE(err, HNP_HCN_POLICY_NOT_FOUND, where,
                              "policy not found: %s is not on endpoint %s", where, call->id);
            }
            ok = json_array_remove(next, j) == 0;
        }
    }
    if (ok)
        ok = json_array_clear(policies) == 0 && json_array_extend(policies, next) == 0;
    json_decref(next);
    if (!ok)
        return hnp_error_set(err, HNP_ERR_NOMEM, call->path, "out of memory");
    return HNP_OK;
}

/* If id is listed in faults.vanish: remove the endpoint and the entry, return true. */
static bool vanish(json_t *state, const char *id)
{
    json_t *list = json_object_get(json_object_get(state, "faults"), "vanish");
    for (size_t i = 0; i < json_array_size(list); i++) {
        if (!hnp_equal_nocase(json_string_value(json_array_get(list, i)), id))
            continue;
        json_array_remove(list, i);
        size_t index;
        if (hnp_hns_mock_find(state, id, &index) != NULL)
            json_array_remove(json_object_get(state, "endpoints"), index);
        return true;
    }
    return false;
}

static enum hnp_err do_modify(json_t *state, bool *write, void *ctx, struct hnp_error *err)
{
    struct call *call = ctx;
    enum hnp_err rc = begin_call(state, call, write, err);
    if (rc != HNP_OK)
        return rc;
    if (vanish(state, call->id))
        return hcn_error(err, HNP_HCN_ENDPOINT_NOT_FOUND, call->path,
                         "endpoint %s not found (it vanished: faults.vanish)", call->id);
    json_t *doc = hnp_hns_mock_find(state, call->id, NULL);
    if (doc == NULL)
        return not_found(err, call);
    enum request_type type = REQ_UPDATE;
    const json_t *given = NULL;
    rc = check_request(call->request, &type, &given, err);
    if (rc != HNP_OK)
        return rc;
    return apply_request(doc, type, given, call, err);
}

/*
 * Run one call through the locked state file, then hold the reply until the
 * call has taken faults.latency_ms in all: the latency models a slow HNS, so
 * the mock's own file work counts toward it instead of adding to it. The
 * lock is released before the wait.
 */
static enum hnp_err timed_call(const struct mock *m, hnp_hns_mock_edit_fn fn, struct call *call,
                               struct hnp_error *err)
{
    long long start = hnp_monotonic_ms();
    enum hnp_err rc = hnp_hns_mock_edit(m->path, fn, call, err);
    /* +1: the clock reads whole milliseconds, so "elapsed" may be short by one. */
    long long left = call->latency_ms - (hnp_monotonic_ms() - start) + 1;
    if (call->latency_ms > 0 && left > 0)
        hnp_sleep_ms((long)left);
    return rc;
}

static enum hnp_err mock_list(struct hnp_hns *hns, struct hnp_hns_endpoint **out, size_t *count,
                              struct hnp_error *err)
{
    struct mock *m = (struct mock *)hns;
    struct call call = {.op = OP_LIST, .path = m->path};
    enum hnp_err rc = timed_call(m, do_list, &call, err);
    if (rc != HNP_OK) {
        hnp_hns_endpoints_free(call.eps, call.n_eps);
        return rc;
    }
    *out = call.eps;
    *count = call.n_eps;
    return HNP_OK;
}

static enum hnp_err mock_get(struct hnp_hns *hns, const char *id, struct hnp_hns_endpoint *out,
                             struct hnp_error *err)
{
    struct mock *m = (struct mock *)hns;
    struct call call = {.op = OP_QUERY, .path = m->path, .id = id};
    enum hnp_err rc = timed_call(m, do_query, &call, err);
    if (rc != HNP_OK) {
        hnp_hns_endpoint_clear(&call.one);
        return rc;
    }
    *out = call.one;
    return HNP_OK;
}

static enum hnp_err mock_modify(struct hnp_hns *hns, const char *id, const json_t *request,
                                struct hnp_error *err)
{
    struct mock *m = (struct mock *)hns;
    struct call call = {.op = OP_MODIFY, .path = m->path, .id = id, .request = request};
    return timed_call(m, do_modify, &call, err);
}

static void mock_destroy(struct hnp_hns *hns)
{
    struct mock *m = (struct mock *)hns;
    free(m->path);
    free(m);
}

static const struct hnp_hns_ops mock_ops = {
    .name = "mock",
    .list_endpoints = mock_list,
    .get_endpoint = mock_get,
    .modify_endpoint = mock_modify,
    .destroy = mock_destroy,
};

/* Write the (checked, completed) state back: creates a missing file. */
static enum hnp_err do_create(json_t *state, bool *write, void *ctx, struct hnp_error *err)
{
    *write = true;
    return HNP_OK;
}

enum hnp_err hnp_hns_mock_open(const char *state_path, struct hnp_hns **out, struct hnp_error *err)
{
    if (state_path == NULL || state_path[0] == '\0')
        return hnp_error_set(err, HNP_ERR_USAGE, "", "the mock HNS needs a state file path");
    struct mock *m = calloc(1, sizeof(*m));
    if (m == NULL || (m->path = hnp_strdup(state_path)) == NULL) {
        free(m);
        return hnp_error_set(err, HNP_ERR_NOMEM, state_path, "out of memory");
    }
    m->base.ops = &mock_ops;
    /* Check the file now, so a bad path or a corrupt file stops start-up. */
    struct stat st;
    enum hnp_err rc;
    if (stat(state_path, &st) != 0 && errno == ENOENT) {
        rc = hnp_hns_mock_edit(state_path, do_create, NULL, err);
    } else {
        json_t *state = NULL;
        rc = load_state(state_path, &state, err);
        if (rc == HNP_OK)
            json_decref(state);
    }
    if (rc != HNP_OK) {
        mock_destroy(&m->base);
        return rc;
    }
    *out = &m->base;
    return HNP_OK;
}

static enum hnp_err mock_class_open(const char *arg, struct hnp_hns **out, struct hnp_error *err)
{
    return hnp_hns_mock_open(arg, out, err);
}

const struct hnp_hns_class hnp_hns_mock_class = {
    .name = "mock",
    .takes_arg = true,
    .open = mock_class_open,
    .help = "mock:PATH  the mock HNS over the JSON state file PATH (docs/mock-hns.md)",
};
