/*
 * hcn.c - the real HNS backend: hns.h's interface over the Host Compute
 * Network API (computenetwork.dll), for Windows builds.
 *
 * The DLL is loaded at run time (LoadLibraryExW + GetProcAddress), not
 * linked: a host without HCN gets a clear error instead of a loader
 * failure, and the tests put a fake computenetwork.dll beside the test
 * programs (tests/win/). docs/hcn-backend.md describes the calls made, the
 * error mapping and the version gate.
 *
 * Every string crosses the boundary as UTF-16 JSON, converted strictly and
 * with caps (utf16.h). Every string HCN returns - results and ErrorRecords,
 * on success and on failure - is freed with CoTaskMemFree, and every
 * endpoint handle opened is closed, whatever happens in between.
 *
 * A call failed when its HRESULT is negative OR it returned a non-empty
 * ErrorRecord ({"ErrorCode":..., "Error":"...", "Success":false}); HNS does
 * return S_OK with an ErrorRecord. "Endpoint not found" (0x803B0002, or
 * HRESULT_FROM_WIN32(ERROR_NOT_FOUND)) is HNP_ERR_NOT_FOUND, everything else
 * HNP_ERR_HNS; err->code is the HCN code either way.
 *
 * Like every backend, one instance is used by one thread at a time. Calls
 * can block for minutes on a loaded host; the agent makes them on its HNS
 * worker thread and abandons a hung one (the instance stays with that
 * thread, which frees it when the call returns).
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <computenetwork.h>

#include "hns_hcn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "text.h"
#include "hnsnetpol/rangeset.h"
#include "utf16.h"

/* Caps on what crosses the boundary (bytes of UTF-8 / units of UTF-16). */
#define MAX_LIST_BYTES ((size_t)16 << 20)       /* HcnEnumerateEndpoints' ID list */
#define MAX_PROPERTIES_BYTES ((size_t)64 << 20) /* one endpoint's properties */
#define MAX_RECORD_BYTES ((size_t)1 << 20)      /* one ErrorRecord, one HNSCall answer */
#define MAX_REQUEST_UNITS ((size_t)64 << 20)    /* one HcnModifyEndpoint request */

/*
 * Queries (hns-reference section 2). Filter is JSON *text* inside a string.
 * State 3 is AttachedSharing, 2 Attached: the endpoints local to this host
 * (filtering by network would return remote endpoints too).
 */
#define QUERY_HEAD L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":0},\"Flags\":0"
static const WCHAR query_state_3[] = QUERY_HEAD L",\"Filter\":\"{\\\"State\\\":3}\"}";
static const WCHAR query_state_2[] = QUERY_HEAD L",\"Filter\":\"{\\\"State\\\":2}\"}";
/* Properties of an opened endpoint: the same schema, no filter (as hcsshim asks). */
static const WCHAR query_properties[] = QUERY_HEAD L"}";

/* HcnEndpoint Flags bit: the endpoint lives on another host. */
#define ENDPOINT_FLAG_REMOTE 1

/* The SDK's own declarations give the function pointer types (checked by the compiler). */
typedef __typeof__(HcnEnumerateEndpoints) enumerate_fn;
typedef __typeof__(HcnOpenEndpoint) open_fn;
typedef __typeof__(HcnQueryEndpointProperties) query_fn;
typedef __typeof__(HcnModifyEndpoint) modify_fn;
typedef __typeof__(HcnCloseEndpoint) close_fn;
typedef void(WINAPI co_task_mem_free_fn)(LPVOID pv);
/* vmcompute.dll's HNSCall has no header or import library. */
typedef HRESULT(WINAPI hns_call_fn)(PCWSTR method, PCWSTR path, PCWSTR request, PWSTR *response);

struct hcn {
    struct hnp_hns base; /* first: the agent holds a struct hnp_hns * */
    HMODULE dll;         /* computenetwork.dll */
    HMODULE ole32;
    enumerate_fn *enumerate;
    open_fn *open;
    query_fn *query;
    modify_fn *modify;
    close_fn *close;
    co_task_mem_free_fn *co_free;
};

#define NO_HCN "this host has no Host Compute Network API (computenetwork.dll)"

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */

/* Windows' text for a Win32 error or HRESULT, in UTF-8, without the trailing period. */
static void system_message(DWORD code, char *out, size_t len)
{
    WCHAR wide[512];
    DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code,
                             0, wide, sizeof(wide) / sizeof(wide[0]), NULL);
    while (n > 0 && (wide[n - 1] == L'\r' || wide[n - 1] == L'\n' || wide[n - 1] == L' ' ||
                     wide[n - 1] == L'.'))
        n--;
    char *text = NULL;
    if (n == 0 || hnp_utf16_to_utf8(wide, n, len - 1, &text, NULL, NULL) != HNP_OK) {
        snprintf(out, len, "no description");
        return;
    }
    snprintf(out, len, "%s", text);
    free(text);
}

/* Win32 error -> HRESULT (HRESULT_FROM_WIN32 without the macro's sign games). */
static uint32_t hresult_from_win32(DWORD e)
{
    return e == 0 || (e & 0x80000000u) ? (uint32_t)e : ((e & 0xFFFFu) | 0x80070000u);
}

/* Convert a UTF-8 name to UTF-16 and load the DLL; NULL with GetLastError() set on failure. */
static HMODULE load_dll(const char *name)
{
    uint16_t *wide = NULL;
    if (hnp_utf8_to_utf16(name, HNP_UTF_NUL_TERMINATED, MAX_PATH, &wide, NULL, NULL) != HNP_OK) {
        SetLastError(ERROR_INVALID_NAME);
        return NULL;
    }
    /*
     * A plain name: the program's folder, then System32 - not the current
     * folder or PATH, where anyone could plant a computenetwork.dll.
     */
    DWORD flags = strpbrk(name, "\\/") != NULL
                      ? 0
                      : LOAD_LIBRARY_SEARCH_APPLICATION_DIR | LOAD_LIBRARY_SEARCH_SYSTEM32;
    HMODULE module = LoadLibraryExW((LPCWSTR)wide, NULL, flags);
    DWORD saved = GetLastError();
    free(wide);
    SetLastError(saved);
    return module;
}

/*
 * The address of name in module, as a function pointer type (GCC treats a
 * cast through void (*)(void) as deliberate); NULL when it is missing.
 */
#define LOOKUP(module, name) ((void (*)(void))GetProcAddress((module), (name)))

/* ------------------------------------------------------------------------ */
/* Outcome of one call                                                      */

/* What an HCN code means (Windows has no message text for facility 0x3B); NULL if unknown. */
static const char *hcn_code_name(uint32_t code)
{
    switch (code) {
    case HNP_HCN_ENDPOINT_NOT_FOUND:
        return "endpoint not found";
    case HNP_HCN_POLICY_NOT_FOUND:
        return "policy not found";
    case HNP_HCN_INVALID_POLICY:
        return "invalid policy";
    case HNP_HCN_INVALID_POLICY_TYPE:
        return "invalid policy type";
    case HNP_HCN_POLICY_ALREADY_EXISTS:
        return "policy already exists";
    case HNP_HCN_REQUEST_UNSUPPORTED:
        return "request unsupported";
    case HNP_HCN_INVALID_JSON:
        return "invalid JSON";
    case HNP_HCN_INVALID_IP:
        return "invalid IP address";
    case HNP_HCN_MANAGER_STOPPED:
        return "the HNS manager is stopped";
    }
    return NULL;
}

/* The Error text and ErrorCode of an ErrorRecord (JSON, or plain text from an odd HNS). */
static void parse_record(const char *text, uint32_t *code, char *detail, size_t len)
{
    json_t *doc = json_loads(text, 0, NULL);
    if (!json_is_object(doc)) {
        snprintf(detail, len, "%s", text);
        json_decref(doc);
        return;
    }
    const json_t *ec = hnp_json_get_nocase(doc, "ErrorCode");
    if (json_is_integer(ec) && json_integer_value(ec) != 0) {
        json_int_t v = json_integer_value(ec);
        /* As uint32 (2151350285) or as a negative int32 (-2143616995). */
        if (v >= INT32_MIN && v <= (json_int_t)UINT32_MAX)
            *code = (uint32_t)(v < 0 ? v + 0x100000000LL : v);
    }
    const json_t *msg = hnp_json_get_nocase(doc, "Error");
    if (json_is_string(msg) && json_string_value(msg)[0] != '\0')
        snprintf(detail, len, "%s", json_string_value(msg));
    else
        snprintf(detail, len, "%s", text);
    json_decref(doc);
}

/*
 * Turn the outcome of the HCN function call (HRESULT hr and ErrorRecord
 * *record, which is freed here and set to NULL) into ours. id (may be NULL)
 * is the endpoint the call was about.
 */
static enum hnp_err call_result(const struct hcn *h, const char *call, const char *id, HRESULT hr,
                                PWSTR *record, struct hnp_error *err)
{
    char *text = NULL;
    bool unreadable = false;
    if (*record != NULL) {
        if (hnp_utf16_to_utf8((const uint16_t *)*record, HNP_UTF_NUL_TERMINATED, MAX_RECORD_BYTES,
                              &text, NULL, NULL) != HNP_OK)
            unreadable = true;
        h->co_free(*record);
        *record = NULL;
    }
    bool has_record = unreadable || (text != NULL && text[0] != '\0');
    if (SUCCEEDED(hr) && !has_record) {
        free(text);
        return HNP_OK;
    }

    uint32_t code = (uint32_t)hr;
    char detail[700] = "";
    if (text != NULL && text[0] != '\0')
        parse_record(text, &code, detail, sizeof(detail));
    else if (unreadable)
        snprintf(detail, sizeof(detail), "(an ErrorRecord that is not valid UTF-16)");
    free(text);
    if (code == 0) /* S_OK with an ErrorRecord that carries no code */
        code = (uint32_t)E_FAIL;
    if (detail[0] == '\0' && hcn_code_name(code) != NULL)
        snprintf(detail, sizeof(detail), "%s (no ErrorRecord)", hcn_code_name(code));
    else if (detail[0] == '\0')
        system_message(code, detail, sizeof(detail));

    bool not_found = code == HNP_HCN_ENDPOINT_NOT_FOUND || code == HNP_HCN_WIN32_NOT_FOUND ||
                     (uint32_t)hr == HNP_HCN_ENDPOINT_NOT_FOUND ||
                     (uint32_t)hr == HNP_HCN_WIN32_NOT_FOUND;
    enum hnp_err rc = not_found ? HNP_ERR_NOT_FOUND : HNP_ERR_HNS;
    hnp_error_set(err, rc, id != NULL ? id : call, "HNS error 0x%08X from %s%s%s%s: %s",
                  (unsigned)code, call, id != NULL ? " on endpoint " : "", id != NULL ? id : "",
                  SUCCEEDED(hr) ? " (HRESULT S_OK with an ErrorRecord)" : "", detail);
    if (err != NULL)
        hnp_error_set_code(err, HNP_CODE_HRESULT, (long long)code);
    return rc;
}

/* Convert a returned string (then free it with CoTaskMemFree and set it NULL) to UTF-8. */
static enum hnp_err take_string(const struct hcn *h, const char *call, const char *id, PWSTR *s,
                                size_t max, char **out, struct hnp_error *err)
{
    if (*s == NULL)
        return hnp_error_set(err, HNP_ERR_HNS, id != NULL ? id : call,
                             "%s%s%s succeeded but returned no result", call,
                             id != NULL ? " on endpoint " : "", id != NULL ? id : "");
    struct hnp_error cerr = {0};
    enum hnp_err rc =
        hnp_utf16_to_utf8((const uint16_t *)*s, HNP_UTF_NUL_TERMINATED, max, out, NULL, &cerr);
    h->co_free(*s);
    *s = NULL;
    if (rc == HNP_ERR_NOMEM)
        return hnp_error_set(err, rc, call, "out of memory reading the result of %s", call);
    if (rc != HNP_OK)
        return hnp_error_set(err, rc == HNP_ERR_LIMIT ? HNP_ERR_LIMIT : HNP_ERR_HNS,
                             id != NULL ? id : call, "the result of %s%s%s is unusable: %s", call,
                             id != NULL ? " on endpoint " : "", id != NULL ? id : "", cerr.message);
    return HNP_OK;
}

/* ------------------------------------------------------------------------ */
/* GUIDs                                                                    */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool hnp_guid_parse(const char *text, struct hnp_guid *out)
{
    if (text == NULL)
        return false;
    size_t len = strlen(text);
    bool braced = len == 38 && text[0] == '{' && text[37] == '}';
    if (braced)
        text++;
    else if (len != 36)
        return false;
    /* Positions of the dashes; every other of the 36 characters is a hex digit. */
    uint8_t bytes[16];
    size_t nb = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return false;
            i++;
            continue;
        }
        int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        bytes[nb++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    struct hnp_guid g;
    g.data1 =
        (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
    g.data2 = (uint16_t)(bytes[4] << 8 | bytes[5]);
    g.data3 = (uint16_t)(bytes[6] << 8 | bytes[7]);
    memcpy(g.data4, bytes + 8, 8);
    *out = g;
    return true;
}

void hnp_guid_format(const struct hnp_guid *g, char out[37])
{
    snprintf(out, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", (unsigned)g->data1,
             (unsigned)g->data2, (unsigned)g->data3, g->data4[0], g->data4[1], g->data4[2],
             g->data4[3], g->data4[4], g->data4[5], g->data4[6], g->data4[7]);
}

_Static_assert(sizeof(struct hnp_guid) == sizeof(GUID), "struct hnp_guid is laid out as GUID");

static GUID to_windows_guid(const struct hnp_guid *g)
{
    GUID w;
    memcpy(&w, g, sizeof(w));
    return w;
}

/* ------------------------------------------------------------------------ */
/* One endpoint: Open -> (Query | Modify) -> Close                          */

static enum hnp_err open_endpoint(const struct hcn *h, const struct hnp_guid *guid, const char *id,
                                  HCN_ENDPOINT *ep, struct hnp_error *err)
{
    GUID w = to_windows_guid(guid);
    PWSTR record = NULL;
    *ep = NULL;
    HRESULT hr = h->open(&w, ep, &record);
    enum hnp_err rc = call_result(h, "HcnOpenEndpoint", id, hr, &record, err);
    if (rc != HNP_OK && *ep != NULL) {
        /* A handle that came with a failure is still a handle. */
        h->close(*ep);
        *ep = NULL;
    }
    return rc;
}

static void close_endpoint(const struct hcn *h, HCN_ENDPOINT ep, const char *id)
{
    HRESULT hr = h->close(ep);
    if (FAILED(hr)) {
        char code[16];
        snprintf(code, sizeof(code), "0x%08X", (unsigned)hr);
        hnp_log(HNP_LOG_WARN, "HcnCloseEndpoint failed", "endpoint", id, "code", code, NULL);
    }
}

/* The endpoint's properties as UTF-8 JSON text (*out new). */
static enum hnp_err read_properties(const struct hcn *h, const struct hnp_guid *guid,
                                    const char *id, char **out, struct hnp_error *err)
{
    HCN_ENDPOINT ep;
    enum hnp_err rc = open_endpoint(h, guid, id, &ep, err);
    if (rc != HNP_OK)
        return rc;
    PWSTR props = NULL, record = NULL;
    HRESULT hr = h->query(ep, query_properties, &props, &record);
    rc = call_result(h, "HcnQueryEndpointProperties", id, hr, &record, err);
    if (rc == HNP_OK)
        rc = take_string(h, "HcnQueryEndpointProperties", id, &props, MAX_PROPERTIES_BYTES, out,
                         err);
    if (props != NULL) /* returned along with a failure: still ours to free */
        h->co_free(props);
    close_endpoint(h, ep, id);
    return rc;
}

/*
 * Fill *out from an endpoint's properties. *local is false for an endpoint
 * of another host (Flags bit 1) or one no longer attached (a State other
 * than 2 or 3, when present). fallback_id is used when the document has no
 * ID.
 */
static enum hnp_err endpoint_from_properties(const char *text, const char *fallback_id,
                                             struct hnp_hns_endpoint *out, bool *local,
                                             struct hnp_error *err)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return hnp_error_set(err, HNP_ERR_HNS, fallback_id,
                             "HcnQueryEndpointProperties on endpoint %s returned %s", fallback_id,
                             doc == NULL ? "text that is not JSON" : "JSON that is not an object");
    }
    enum hnp_err rc = HNP_OK;
    const json_t *id = hnp_json_get_nocase(doc, "ID");
    const json_t *name = hnp_json_get_nocase(doc, "Name");
    const json_t *ipc = hnp_json_get_nocase(doc, "IpConfigurations");
    json_t *policies = hnp_json_get_nocase(doc, "Policies");
    if (policies != NULL && !json_is_array(policies) && !json_is_null(policies)) {
        rc = hnp_error_set(err, HNP_ERR_HNS, fallback_id,
                           "HcnQueryEndpointProperties on endpoint %s: \"Policies\" is not an "
                           "array",
                           fallback_id);
        goto done;
    }

    struct hnp_hns_endpoint ep;
    memset(&ep, 0, sizeof(ep));
    ep.id = hnp_strdup(json_is_string(id) ? json_string_value(id) : fallback_id);
    if (json_is_string(name))
        ep.name = hnp_strdup(json_string_value(name));
    ep.policies = json_is_array(policies) ? json_incref(policies) : json_array();
    if (ep.id == NULL || (json_is_string(name) && ep.name == NULL) || ep.policies == NULL) {
        hnp_hns_endpoint_clear(&ep);
        rc = hnp_error_set(err, HNP_ERR_NOMEM, fallback_id, "out of memory reading endpoint");
        goto done;
    }
    for (size_t i = 0; json_is_array(ipc) && i < json_array_size(ipc); i++) {
        const char *addr =
            json_string_value(hnp_json_get_nocase(json_array_get(ipc, i), "IpAddress"));
        uint32_t ip;
        if (addr != NULL && ep.n_ips < HNP_HNS_MAX_IPS && hnp_ipv4_parse(addr, &ip))
            ep.ips[ep.n_ips++] = ip; /* IPv6 and the unparseable are skipped */
    }
    const json_t *flags = hnp_json_get_nocase(doc, "Flags");
    const json_t *state = hnp_json_get_nocase(doc, "State");
    *local = !(json_is_integer(flags) && (json_integer_value(flags) & ENDPOINT_FLAG_REMOTE)) &&
             !(json_is_integer(state) && json_integer_value(state) != 2 &&
               json_integer_value(state) != 3);
    *out = ep;
done:
    json_decref(doc);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The operations                                                           */

struct id_list {
    struct hnp_guid *guids;
    char **texts; /* as HNS spelled them */
    size_t count, cap;
};

static void id_list_free(struct id_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->texts[i]);
    free(l->guids);
    free(l->texts);
    memset(l, 0, sizeof(*l));
}

/* Append unless present (GUIDs compare as numbers: case never matters). false on NOMEM. */
static bool id_list_add(struct id_list *l, const struct hnp_guid *g, const char *text)
{
    for (size_t i = 0; i < l->count; i++) {
        if (memcmp(&l->guids[i], g, sizeof(*g)) == 0)
            return true;
    }
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct hnp_guid *guids = realloc(l->guids, cap * sizeof(*guids));
        if (guids == NULL)
            return false;
        l->guids = guids;
        char **texts = realloc(l->texts, cap * sizeof(*texts));
        if (texts == NULL)
            return false;
        l->texts = texts;
        l->cap = cap;
    }
    char *copy = hnp_strdup(text);
    if (copy == NULL)
        return false;
    l->guids[l->count] = *g;
    l->texts[l->count++] = copy;
    return true;
}

/* HcnEnumerateEndpoints with query; add the IDs to ids. */
static enum hnp_err enumerate(const struct hcn *h, const WCHAR *query, const char *what,
                              struct id_list *ids, struct hnp_error *err)
{
    PWSTR list = NULL, record = NULL;
    HRESULT hr = h->enumerate(query, &list, &record);
    enum hnp_err rc = call_result(h, "HcnEnumerateEndpoints", NULL, hr, &record, err);
    char *text = NULL;
    if (rc == HNP_OK && list != NULL)
        rc = take_string(h, "HcnEnumerateEndpoints", NULL, &list, MAX_LIST_BYTES, &text, err);
    if (list != NULL)
        h->co_free(list);
    if (rc != HNP_OK)
        return rc;
    if (text == NULL || text[0] == '\0') { /* no result at all: no endpoints */
        free(text);
        return HNP_OK;
    }
    json_t *arr = json_loads(text, 0, NULL);
    free(text);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return hnp_error_set(err, HNP_ERR_HNS, "HcnEnumerateEndpoints",
                             "HcnEnumerateEndpoints (%s) returned something other than a JSON "
                             "array of endpoint IDs",
                             what);
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        struct hnp_guid g;
        if (s == NULL || !hnp_guid_parse(s, &g)) {
            hnp_log(HNP_LOG_WARN, "HcnEnumerateEndpoints returned an entry that is not a GUID",
                    "query", what, "entry", s != NULL ? s : "(not a string)", NULL);
            continue;
        }
        if (!id_list_add(ids, &g, s)) {
            json_decref(arr);
            return hnp_error_set(err, HNP_ERR_NOMEM, "HcnEnumerateEndpoints",
                                 "out of memory listing endpoints");
        }
    }
    json_decref(arr);
    return HNP_OK;
}

static enum hnp_err hcn_list(struct hnp_hns *hns, struct hnp_hns_endpoint **out, size_t *count,
                             struct hnp_error *err)
{
    const struct hcn *h = (const struct hcn *)hns;
    struct id_list ids = {0};
    enum hnp_err rc = enumerate(h, query_state_3, "State 3 AttachedSharing", &ids, err);
    if (rc == HNP_OK)
        rc = enumerate(h, query_state_2, "State 2 Attached", &ids, err);
    struct hnp_hns_endpoint *eps = NULL;
    size_t n = 0;
    if (rc == HNP_OK && ids.count > 0) {
        eps = calloc(ids.count, sizeof(*eps));
        if (eps == NULL)
            rc = hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory listing endpoints");
    }
    for (size_t i = 0; rc == HNP_OK && i < ids.count; i++) {
        char *props = NULL;
        struct hnp_error one = {0};
        rc = read_properties(h, &ids.guids[i], ids.texts[i], &props, &one);
        if (rc == HNP_ERR_NOT_FOUND) {
            /* Gone since the enumeration (a pod deleted): not an error. */
            hnp_log(HNP_LOG_DEBUG, "endpoint vanished while listing", "endpoint", ids.texts[i],
                    NULL);
            rc = HNP_OK;
            continue;
        }
        bool local = false;
        if (rc == HNP_OK)
            rc = endpoint_from_properties(props, ids.texts[i], &eps[n], &local, &one);
        free(props);
        if (rc != HNP_OK) {
            if (err != NULL)
                *err = one;
            break;
        }
        if (local)
            n++;
        else
            hnp_hns_endpoint_clear(&eps[n]); /* remote or detached meanwhile */
    }
    id_list_free(&ids);
    if (rc != HNP_OK) {
        hnp_hns_endpoints_free(eps, n);
        return rc;
    }
    if (n == 0) {
        free(eps);
        eps = NULL;
    }
    *out = eps;
    *count = n;
    return HNP_OK;
}

static enum hnp_err parse_id(const char *id, struct hnp_guid *g, struct hnp_error *err)
{
    if (id == NULL || !hnp_guid_parse(id, g))
        return hnp_error_set(err, HNP_ERR_INVALID, id != NULL ? id : "",
                             "\"%s\" is not an HCN endpoint ID (a GUID)", id != NULL ? id : "");
    return HNP_OK;
}

static enum hnp_err hcn_get(struct hnp_hns *hns, const char *id, struct hnp_hns_endpoint *out,
                            struct hnp_error *err)
{
    const struct hcn *h = (const struct hcn *)hns;
    struct hnp_guid g;
    enum hnp_err rc = parse_id(id, &g, err);
    if (rc != HNP_OK)
        return rc;
    char *props = NULL;
    rc = read_properties(h, &g, id, &props, err);
    if (rc != HNP_OK)
        return rc;
    bool local;
    rc = endpoint_from_properties(props, id, out, &local, err);
    free(props);
    return rc;
}

static enum hnp_err hcn_modify(struct hnp_hns *hns, const char *id, const json_t *request,
                               struct hnp_error *err)
{
    const struct hcn *h = (const struct hcn *)hns;
    struct hnp_guid g;
    enum hnp_err rc = parse_id(id, &g, err);
    if (rc != HNP_OK)
        return rc;
    char *text = request != NULL ? json_dumps(request, JSON_COMPACT) : NULL;
    if (text == NULL)
        return hnp_error_set(err, request != NULL ? HNP_ERR_NOMEM : HNP_ERR_INVALID, id,
                             "cannot serialise the modify request for endpoint %s", id);
    uint16_t *settings = NULL;
    rc = hnp_utf8_to_utf16(text, HNP_UTF_NUL_TERMINATED, MAX_REQUEST_UNITS, &settings, NULL, err);
    free(text);
    if (rc != HNP_OK)
        return rc;

    HCN_ENDPOINT ep;
    rc = open_endpoint(h, &g, id, &ep, err);
    if (rc == HNP_OK) {
        PWSTR record = NULL;
        HRESULT hr = h->modify(ep, (PCWSTR)settings, &record);
        rc = call_result(h, "HcnModifyEndpoint", id, hr, &record, err);
        close_endpoint(h, ep, id);
    }
    free(settings);
    return rc;
}

static void hcn_destroy(struct hnp_hns *hns)
{
    struct hcn *h = (struct hcn *)hns;
    if (h == NULL)
        return;
    if (h->dll != NULL)
        FreeLibrary(h->dll);
    if (h->ole32 != NULL)
        FreeLibrary(h->ole32);
    free(h);
}

static const struct hnp_hns_ops hcn_ops = {
    .name = "hcn",
    .list_endpoints = hcn_list,
    .get_endpoint = hcn_get,
    .modify_endpoint = hcn_modify,
    .destroy = hcn_destroy,
};

/* ------------------------------------------------------------------------ */
/* Opening: the DLLs, the functions, the HNS version                        */

/*
 * Set once a check made for HNP_HCN_VERSION_ONCE has not refused HNS (a
 * warning counts: asking again would only repeat it); later ONCE opens skip
 * the check.
 */
static volatile LONG version_checked;

static void version_warning(const char *why, const char *detail)
{
    hnp_log(HNP_LOG_WARN, "cannot read the HNS version; assuming it is recent enough", "reason",
            why, "detail", detail, NULL);
}

/*
 * Ask HNS for its version through vmcompute.dll's HNSCall("GET",
 * "/globals/version"); log it, refuse one older than the minimum. Anything
 * missing or unreadable is a warning, not an error.
 */
static enum hnp_err check_version(const char *dll_name, co_task_mem_free_fn *co_free,
                                  struct hnp_error *err)
{
    HMODULE vm = load_dll(dll_name);
    if (vm == NULL) {
        char why[256];
        system_message(GetLastError(), why, sizeof(why));
        version_warning("vmcompute.dll cannot be loaded", why);
        return HNP_OK;
    }
    hns_call_fn *call = (hns_call_fn *)LOOKUP(vm, "HNSCall");
    if (call == NULL) {
        version_warning("vmcompute.dll has no HNSCall", dll_name);
        FreeLibrary(vm);
        return HNP_OK;
    }
    PWSTR response = NULL;
    HRESULT hr = call(L"GET", L"/globals/version", L"", &response);
    char *text = NULL;
    if (response != NULL) {
        if (hnp_utf16_to_utf8((const uint16_t *)response, HNP_UTF_NUL_TERMINATED, MAX_RECORD_BYTES,
                              &text, NULL, NULL) != HNP_OK)
            text = NULL;
        co_free(response);
    }
    FreeLibrary(vm);

    enum hnp_err rc = HNP_OK;
    json_t *doc = text != NULL ? json_loads(text, 0, NULL) : NULL;
    const json_t *output = hnp_json_get_nocase(doc, "Output");
    const json_t *major = hnp_json_get_nocase(output, "Major");
    const json_t *minor = hnp_json_get_nocase(output, "Minor");
    const json_t *success = hnp_json_get_nocase(doc, "Success");
    char detail[300];
    if (FAILED(hr)) {
        snprintf(detail, sizeof(detail), "HNSCall returned 0x%08X", (unsigned)hr);
        version_warning("HNSCall GET /globals/version failed", detail);
    } else if (json_is_false(success)) {
        const char *why = json_string_value(hnp_json_get_nocase(doc, "Error"));
        version_warning("HNSCall GET /globals/version failed", why != NULL ? why : "no reason");
    } else if (!json_is_integer(major) || !json_is_integer(minor)) {
        snprintf(detail, sizeof(detail), "%.200s", text != NULL ? text : "(nothing)");
        version_warning("unexpected answer to HNSCall GET /globals/version", detail);
    } else {
        json_int_t ma = json_integer_value(major), mi = json_integer_value(minor);
        char version[48];
        snprintf(version, sizeof(version), "%lld.%lld", (long long)ma, (long long)mi);
        if (ma < HNP_HCN_MIN_VERSION_MAJOR ||
            (ma == HNP_HCN_MIN_VERSION_MAJOR && mi < HNP_HCN_MIN_VERSION_MINOR)) {
            rc = hnp_error_set(err, HNP_ERR_UNSUPPORTED, "HNS",
                               "HNS version %s is too old: hnsnetpol needs %d.%d or later "
                               "(Windows Server 2019 or later) for ACLs with address lists, port "
                               "ranges and a rule Id",
                               version, HNP_HCN_MIN_VERSION_MAJOR, HNP_HCN_MIN_VERSION_MINOR);
        } else {
            hnp_log(HNP_LOG_INFO, "HNS version", "version", version, "hcn_v2_api",
                    ma > 9 || (ma == 9 && mi >= 2) ? "yes" : "no", NULL);
        }
    }
    json_decref(doc);
    free(text);
    return rc;
}

enum hnp_err hnp_hns_hcn_open_with(const struct hnp_hns_hcn_options *options, struct hnp_hns **out,
                                   struct hnp_error *err)
{
    struct hnp_hns_hcn_options defaults = {0};
    const struct hnp_hns_hcn_options *o = options != NULL ? options : &defaults;
    const char *dll_name =
        o->computenetwork_dll != NULL ? o->computenetwork_dll : "computenetwork.dll";
    const char *vm_name = o->vmcompute_dll != NULL ? o->vmcompute_dll : "vmcompute.dll";

    struct hcn *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, "hcn", "out of memory");
    h->base.ops = &hcn_ops;

    h->dll = load_dll(dll_name);
    if (h->dll == NULL) {
        DWORD e = GetLastError();
        char why[256];
        system_message(e, why, sizeof(why));
        hnp_error_set(err, HNP_ERR_UNSUPPORTED, dll_name,
                      NO_HCN ": %s cannot be loaded (Windows error %lu: %s). HCN comes with "
                             "Windows Server 2019 and later, with the Containers feature",
                      dll_name, (unsigned long)e, why);
        if (err != NULL)
            hnp_error_set_code(err, HNP_CODE_HRESULT, (long long)hresult_from_win32(e));
        hcn_destroy(&h->base);
        return HNP_ERR_UNSUPPORTED;
    }
    static const char *const names[] = {"HcnEnumerateEndpoints", "HcnOpenEndpoint",
                                        "HcnQueryEndpointProperties", "HcnModifyEndpoint",
                                        "HcnCloseEndpoint"};
    void (*fns[5])(void);
    for (size_t i = 0; i < 5; i++) {
        fns[i] = LOOKUP(h->dll, names[i]);
        if (fns[i] == NULL) {
            DWORD e = GetLastError();
            hnp_error_set(err, HNP_ERR_UNSUPPORTED, dll_name,
                          NO_HCN ": %s has no function %s (Windows error %lu)", dll_name, names[i],
                          (unsigned long)e);
            if (err != NULL)
                hnp_error_set_code(err, HNP_CODE_HRESULT, (long long)hresult_from_win32(e));
            hcn_destroy(&h->base);
            return HNP_ERR_UNSUPPORTED;
        }
    }
    h->enumerate = (enumerate_fn *)fns[0];
    h->open = (open_fn *)fns[1];
    h->query = (query_fn *)fns[2];
    h->modify = (modify_fn *)fns[3];
    h->close = (close_fn *)fns[4];

    h->ole32 = load_dll("ole32.dll");
    h->co_free = h->ole32 != NULL ? (co_task_mem_free_fn *)LOOKUP(h->ole32, "CoTaskMemFree") : NULL;
    if (h->co_free == NULL) {
        DWORD e = GetLastError();
        hnp_error_set(err, HNP_ERR_UNSUPPORTED, "ole32.dll",
                      "CoTaskMemFree cannot be found in ole32.dll (Windows error %lu)",
                      (unsigned long)e);
        if (err != NULL)
            hnp_error_set_code(err, HNP_CODE_HRESULT, (long long)hresult_from_win32(e));
        hcn_destroy(&h->base);
        return HNP_ERR_UNSUPPORTED;
    }

    bool check = o->version_check == HNP_HCN_VERSION_ALWAYS ||
                 (o->version_check == HNP_HCN_VERSION_ONCE &&
                  InterlockedCompareExchange(&version_checked, 0, 0) == 0);
    if (check) {
        enum hnp_err rc = check_version(vm_name, h->co_free, err);
        if (rc != HNP_OK) {
            hcn_destroy(&h->base);
            return rc;
        }
        if (o->version_check == HNP_HCN_VERSION_ONCE)
            InterlockedExchange(&version_checked, 1);
    }
    *out = &h->base;
    return HNP_OK;
}

enum hnp_err hnp_hns_hcn_open(struct hnp_hns **out, struct hnp_error *err)
{
    return hnp_hns_hcn_open_with(NULL, out, err);
}

static enum hnp_err hcn_class_open(const char *arg, struct hnp_hns **out, struct hnp_error *err)
{
    (void)arg;
    return hnp_hns_hcn_open(out, err);
}

const struct hnp_hns_class hnp_hns_hcn_class = {
    .name = "hcn",
    .takes_arg = false,
    .open = hcn_class_open,
    .help = "hcn        the Host Compute Network API (computenetwork.dll)",
};
