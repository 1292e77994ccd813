/*
 * fake_computenetwork.c - a test-only computenetwork.dll: the five HCN
 * endpoint functions the real backend (win/hcn.c) uses, served by the mock
 * HNS (src/hns_mock.c) over the JSON state file named by HNP_FAKE_HCN_STATE
 * (docs/mock-hns.md: `hnsnetpol hns-mock` edits it while a test runs), plus
 * vmcompute.dll's HNSCall for the version check. Built with mingw, placed
 * beside the test programs and hnsnetpol.exe, found there by LoadLibraryExW.
 *
 * What it adds to the mock is what only the DLL boundary has:
 *   - UTF-16 JSON in and out; every returned string (result or ErrorRecord)
 *     is CoTaskMemAlloc'd;
 *   - HNS-shaped failures: {"ErrorCode":N,"Error":"...","Success":false}
 *     with the HCN code as a negative HRESULT, or (HNP_FAKE_HCN_S_OK_ERRORS=1)
 *     with S_OK, which the backend must still treat as a failure;
 *   - strict queries: SchemaVersion 2.x, Filter a string of JSON text (an
 *     object is refused, as HNS refuses it), only {"State":N} filters;
 *   - call discipline: endpoint handles are tracked (a handle closed twice
 *     or made up is counted), and so is every string handed out.
 *
 * How a string is known to be freed: the DLL cannot intercept the caller's
 * CoTaskMemFree, but COM can. On its first call the DLL registers an
 * IMallocSpy (CoRegisterMallocSpy): COM then calls the spy's PreFree for
 * every CoTaskMemFree in the process. The spy matches the pointer against
 * the strings the DLL handed out and not yet seen freed; a pointer of ours
 * freed a second time is counted as a double free (and not freed again). A
 * string released any other way (free(), LocalFree) or never released stays
 * outstanding. HnpFakeHcnStats() reports the counts; the tests require
 * every handle closed and nothing outstanding after each test. The DLL pins
 * itself in memory once the spy is registered, since COM keeps calling it.
 *
 * Locking: the spy's callbacks run inside COM's allocator lock and take
 * `lock`; so nothing here calls CoTaskMemAlloc or CoTaskMemFree while
 * holding `lock`.
 *
 * The mock's faults apply as they do to the mock backend: "list" to
 * HcnEnumerateEndpoints, "query" to HcnQueryEndpointProperties, "modify"
 * (with "vanish") to HcnModifyEndpoint; "latency_ms" above the agent's
 * --hns-timeout makes a call hang past it. Counts in "calls" are per HCN
 * function: "list" counts HcnEnumerateEndpoints calls (two per listing of
 * the real backend), "query" HcnQueryEndpointProperties calls.
 */
#define WIN32_LEAN_AND_MEAN
#define COBJMACROS
#include <windows.h>

#include <computenetwork.h>
#include <objbase.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "fake_hcn.h"
#include "mock.h"
#include "hns.h"
#include "utf16.h"

#define EXPORT __declspec(dllexport)

/* Exports without a prototype in a header. */
EXPORT HRESULT WINAPI HNSCall(PCWSTR Method, PCWSTR Path, PCWSTR Request, PWSTR *Response);
EXPORT void HnpFakeHcnStats(struct hnp_fake_hcn_stats *out);
EXPORT void HnpFakeHcnReset(void);
BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved);

#define MAX_TEXT ((size_t)256 << 20)

static CRITICAL_SECTION lock;
static struct hnp_fake_hcn_stats stats; /* counters only; the two "now" fields are computed */

/* Open endpoint handles: HCN_ENDPOINT is a pointer to one of these. */
struct handle {
    struct handle *next;
    char id[40];
};
static struct handle *handles;

/* Pointers of ours: handed out and not yet freed, and freed (for double frees). */
struct ptr_set {
    void **items;
    size_t count, cap;
};
static struct ptr_set outstanding, freed;
#define FREED_KEEP 4096 /* remember this many freed strings */

static bool set_add(struct ptr_set *s, void *p)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        void **items = realloc(s->items, cap * sizeof(*items));
        if (items == NULL)
            return false;
        s->items = items;
        s->cap = cap;
    }
    s->items[s->count++] = p;
    return true;
}

static bool set_remove(struct ptr_set *s, const void *p)
{
    for (size_t i = 0; i < s->count; i++) {
        if (s->items[i] == p) {
            s->items[i] = s->items[--s->count];
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* The IMallocSpy that sees every CoTaskMemFree                             */

static HRESULT STDMETHODCALLTYPE spy_query_interface(IMallocSpy *self, REFIID riid, void **out)
{
    if (IsEqualIID(riid, &IID_IUnknown) || IsEqualIID(riid, &IID_IMallocSpy)) {
        *out = self;
        return S_OK;
    }
    *out = NULL;
    return E_NOINTERFACE;
}

/* The spy is static: reference counting has nothing to free. */
static ULONG STDMETHODCALLTYPE spy_add_ref(IMallocSpy *self)
{
    return 2;
}

static ULONG STDMETHODCALLTYPE spy_release(IMallocSpy *self)
{
    return 1;
}

static SIZE_T STDMETHODCALLTYPE spy_pre_alloc(IMallocSpy *self, SIZE_T size)
{
    return size;
}

static void *STDMETHODCALLTYPE spy_post_alloc(IMallocSpy *self, void *p)
{
    if (p != NULL) {
        EnterCriticalSection(&lock);
        set_remove(&freed, p); /* the address is in use again: a free of it is no double free */
        LeaveCriticalSection(&lock);
    }
    return p;
}

static void *STDMETHODCALLTYPE spy_pre_free(IMallocSpy *self, void *p, BOOL spyed)
{
    if (p == NULL)
        return p;
    EnterCriticalSection(&lock);
    if (set_remove(&outstanding, p)) {
        stats.strings_freed++;
        if (freed.count >= FREED_KEEP)
            freed.count = 0;
        set_add(&freed, p);
    } else if (set_remove(&freed, p)) {
        stats.double_frees++;
        p = NULL; /* do not corrupt the heap: the test reports it */
    }
    LeaveCriticalSection(&lock);
    return p;
}

static void STDMETHODCALLTYPE spy_post_free(IMallocSpy *self, BOOL spyed) {}

static SIZE_T STDMETHODCALLTYPE spy_pre_realloc(IMallocSpy *self, void *p, SIZE_T size, void **out,
                                                BOOL spyed)
{
    *out = p;
    return size;
}

static void *STDMETHODCALLTYPE spy_post_realloc(IMallocSpy *self, void *p, BOOL spyed)
{
    return p;
}

static void *STDMETHODCALLTYPE spy_pre_get_size(IMallocSpy *self, void *p, BOOL spyed)
{
    return p;
}

static SIZE_T STDMETHODCALLTYPE spy_post_get_size(IMallocSpy *self, SIZE_T size, BOOL spyed)
{
    return size;
}

static void *STDMETHODCALLTYPE spy_pre_did_alloc(IMallocSpy *self, void *p, BOOL spyed)
{
    return p;
}

static int STDMETHODCALLTYPE spy_post_did_alloc(IMallocSpy *self, void *p, BOOL spyed, int actual)
{
    return actual;
}

static void STDMETHODCALLTYPE spy_pre_heap_minimize(IMallocSpy *self) {}

static void STDMETHODCALLTYPE spy_post_heap_minimize(IMallocSpy *self) {}

static IMallocSpyVtbl spy_vtbl = {
    spy_query_interface, spy_add_ref,           spy_release,
    spy_pre_alloc,       spy_post_alloc,        spy_pre_free,
    spy_post_free,       spy_pre_realloc,       spy_post_realloc,
    spy_pre_get_size,    spy_post_get_size,     spy_pre_did_alloc,
    spy_post_did_alloc,  spy_pre_heap_minimize, spy_post_heap_minimize,
};
static IMallocSpy spy = {&spy_vtbl};
static INIT_ONCE spy_once = INIT_ONCE_STATIC_INIT;

static BOOL CALLBACK register_spy(PINIT_ONCE once, void *param, void **ctx)
{
    if (CoRegisterMallocSpy(&spy) == S_OK) {
        /* COM calls into this DLL from now on: never unload it. */
        HMODULE self;
        GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                           (LPCWSTR)(void *)&spy, &self);
        EnterCriticalSection(&lock);
        stats.spy_active = 1;
        LeaveCriticalSection(&lock);
    }
    return TRUE;
}

/* Every export starts here. */
static void begin(long *counter)
{
    InitOnceExecuteOnce(&spy_once, register_spy, NULL, NULL);
    EnterCriticalSection(&lock);
    (*counter)++;
    LeaveCriticalSection(&lock);
}

/* ------------------------------------------------------------------------ */
/* Strings out                                                              */

/* A CoTaskMemAlloc'd UTF-16 copy of utf8, tracked; NULL when out of memory. */
static PWSTR hand_out(const char *utf8)
{
    uint16_t *wide = NULL;
    size_t n = 0;
    if (hnp_utf8_to_utf16(utf8, HNP_UTF_NUL_TERMINATED, MAX_TEXT, &wide, &n, NULL) != HNP_OK)
        return NULL;
    PWSTR p = CoTaskMemAlloc((n + 1) * sizeof(WCHAR));
    if (p != NULL) {
        memcpy(p, wide, (n + 1) * sizeof(WCHAR));
        EnterCriticalSection(&lock);
        set_add(&outstanding, p);
        stats.strings_out++;
        LeaveCriticalSection(&lock);
    }
    free(wide);
    return p;
}

static bool env_is(const char *name, const char *value)
{
    char buf[64];
    DWORD n = GetEnvironmentVariableA(name, buf, sizeof(buf));
    return n > 0 && n < sizeof(buf) && strcmp(buf, value) == 0;
}

/*
 * Fail a call the way HNS does: an ErrorRecord in *record (when the caller
 * gave a place for it, unless HNP_FAKE_HCN_NO_ERROR_RECORD is "1") and the
 * code as HRESULT, or S_OK when HNP_FAKE_HCN_S_OK_ERRORS is "1". code 0
 * means E_FAIL.
 */
static HRESULT fail(PWSTR *record, uint32_t code, const char *message)
{
    if (code == 0)
        code = (uint32_t)E_FAIL;
    if (record != NULL && !env_is("HNP_FAKE_HCN_NO_ERROR_RECORD", "1")) {
        json_t *doc = json_pack("{s:I, s:s, s:b}", "ErrorCode", (json_int_t)code, "Error", message,
                                "Success", 0);
        char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        *record = text != NULL ? hand_out(text) : NULL;
        free(text);
        json_decref(doc);
    }
    return env_is("HNP_FAKE_HCN_S_OK_ERRORS", "1") ? S_OK : (HRESULT)code;
}

/* Fail with what the mock said: its HCN code, its message without "HNS error 0x...: ". */
static HRESULT fail_from(PWSTR *record, const struct hnp_error *err)
{
    const char *text = err->message;
    const char *prefix = strstr(text, "HNS error 0x");
    if (prefix == text) {
        const char *colon = strstr(text, ": ");
        if (colon != NULL)
            text = colon + 2;
    }
    return fail(record, (uint32_t)err->code, text[0] != '\0' ? text : "mock HNS failure");
}

/* The state file, or NULL after failing the call. */
static const char *state_path(char *buf, size_t len)
{
    DWORD n = GetEnvironmentVariableA("HNP_FAKE_HCN_STATE", buf, (DWORD)len);
    return n > 0 && n < len ? buf : NULL;
}

#define NO_STATE "HNP_FAKE_HCN_STATE is not set: the fake computenetwork.dll needs a state file"

/* ------------------------------------------------------------------------ */
/* JSON in                                                                  */

static bool same_ignoring_case(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca >= 'A' && ca <= 'Z')
            ca += 'a' - 'A';
        if (cb >= 'A' && cb <= 'Z')
            cb += 'a' - 'A';
        if (ca != cb)
            return false;
        if (ca == 0)
            return true;
    }
}

static json_t *member(const json_t *obj, const char *key)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (same_ignoring_case(k, key))
            return v;
    }
    return NULL;
}

/* Parse UTF-16 JSON text; NULL (and *why) when it is not valid UTF-16 or JSON. */
static json_t *parse_wide(PCWSTR text, char *why, size_t len)
{
    if (text == NULL) {
        snprintf(why, len, "no document (NULL)");
        return NULL;
    }
    char *utf8 = NULL;
    struct hnp_error err = {0};
    if (hnp_utf16_to_utf8((const uint16_t *)text, HNP_UTF_NUL_TERMINATED, MAX_TEXT, &utf8, NULL,
                          &err) != HNP_OK) {
        snprintf(why, len, "%s", err.message);
        return NULL;
    }
    json_error_t jerr;
    json_t *doc = json_loads(utf8, JSON_REJECT_DUPLICATES, &jerr);
    free(utf8);
    if (doc == NULL)
        snprintf(why, len, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    return doc;
}

/*
 * Check an HCN query: an object with SchemaVersion {"Major":2,...}, Flags
 * an integer when present, Filter (when present) a string of JSON text
 * holding {} or {"State":N}. *state is N, or -1 when there is no filter.
 */
static HRESULT check_query(PCWSTR query, int *state, PWSTR *record)
{
    char why[300];
    json_t *doc = parse_wide(query, why, sizeof(why));
    if (doc == NULL) {
        char msg[400];
        snprintf(msg, sizeof(msg), "invalid JSON in the query: %s", why);
        return fail(record, HNP_HCN_INVALID_JSON, msg);
    }
    HRESULT hr = S_OK;
    const json_t *schema = json_object_get(doc, "SchemaVersion");
    const json_t *flags = json_object_get(doc, "Flags");
    const json_t *filter = json_object_get(doc, "Filter");
    *state = -1;
    if (!json_is_object(doc) || !json_is_object(schema) ||
        json_integer_value(json_object_get(schema, "Major")) != 2) {
        hr = fail(record, HNP_HCN_INVALID_JSON,
                  "invalid query: needs \"SchemaVersion\": {\"Major\": 2, \"Minor\": 0}");
    } else if (flags != NULL && !json_is_integer(flags)) {
        hr = fail(record, HNP_HCN_INVALID_JSON, "invalid query: \"Flags\" must be an integer");
    } else if (filter != NULL && !json_is_string(filter)) {
        hr = fail(record, HNP_HCN_INVALID_JSON,
                  "invalid query: \"Filter\" must be a string holding JSON text, not an object");
    } else if (filter != NULL && json_string_value(filter)[0] != '\0') {
        json_t *f = json_loads(json_string_value(filter), JSON_REJECT_DUPLICATES, NULL);
        const json_t *st = json_object_get(f, "State");
        if (!json_is_object(f)) {
            hr = fail(record, HNP_HCN_INVALID_JSON, "invalid query: \"Filter\" is not JSON text");
        } else if (json_object_size(f) > 1 || (json_object_size(f) == 1 && !json_is_integer(st))) {
            hr = fail(record, HNP_HCN_REQUEST_UNSUPPORTED,
                      "the fake HCN only filters on {\"State\": N}");
        } else if (st != NULL) {
            *state = (int)json_integer_value(st);
        }
        json_decref(f);
    }
    json_decref(doc);
    return hr;
}

/* ------------------------------------------------------------------------ */
/* Reading the state (under its lock, without writing it)                   */

struct read_ctx {
    const char *id; /* find this endpoint ... */
    json_t *doc;    /* ... new reference, or NULL */
    int state;      /* or list the IDs of this State (-1: all) ... */
    json_t *ids;    /* ... into this array */
};

static enum hnp_err read_state(json_t *state, bool *write, void *ctx, struct hnp_error *err)
{
    struct read_ctx *c = ctx;
    *write = false;
    if (c->id != NULL) {
        c->doc = json_incref(hnp_hns_mock_find(state, c->id, NULL));
        return HNP_OK;
    }
    const json_t *endpoints = json_object_get(state, "endpoints");
    for (size_t i = 0; i < json_array_size(endpoints); i++) {
        const json_t *ep = json_array_get(endpoints, i);
        const json_t *st = member(ep, "State");
        json_int_t s = json_is_integer(st) ? json_integer_value(st) : 3;
        if (c->state >= 0 && s != c->state)
            continue;
        if (json_array_append(c->ids, member(ep, "ID")) != 0)
            return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    }
    return HNP_OK;
}

/* The handle's record when h is an open handle; counts a bad handle otherwise. */
static bool handle_id(HCN_ENDPOINT h, char id[40])
{
    bool found = false;
    EnterCriticalSection(&lock);
    for (struct handle *p = handles; p != NULL; p = p->next) {
        if ((void *)p == h) {
            memcpy(id, p->id, 40);
            found = true;
            break;
        }
    }
    if (!found)
        stats.bad_handles++;
    LeaveCriticalSection(&lock);
    return found;
}

#define BAD_HANDLE "invalid handle: not an endpoint handle that is open (closed already?)"

/* ------------------------------------------------------------------------ */
/* The HCN functions                                                        */

EXPORT HRESULT WINAPI HcnEnumerateEndpoints(PCWSTR Query, PWSTR *Endpoints, PWSTR *ErrorRecord)
{
    begin(&stats.enumerate_calls);
    if (Endpoints == NULL)
        return E_POINTER;
    *Endpoints = NULL;
    if (ErrorRecord != NULL)
        *ErrorRecord = NULL;
    char path[MAX_PATH * 3];
    if (state_path(path, sizeof(path)) == NULL)
        return fail(ErrorRecord, 0, NO_STATE);
    int state;
    HRESULT hr = check_query(Query, &state, ErrorRecord);
    if (hr != S_OK || (ErrorRecord != NULL && *ErrorRecord != NULL))
        return hr;

    /* The mock's list: counts the call, applies "fail" and "latency_ms" faults. */
    struct hnp_hns *mock = NULL;
    struct hnp_error err = {0};
    struct hnp_hns_endpoint *eps = NULL;
    size_t n = 0;
    enum hnp_err rc = hnp_hns_mock_open(path, &mock, &err);
    if (rc == HNP_OK)
        rc = mock->ops->list_endpoints(mock, &eps, &n, &err);
    hnp_hns_endpoints_free(eps, n);
    hnp_hns_close(mock);
    if (rc != HNP_OK)
        return fail_from(ErrorRecord, &err);

    /* Then the IDs of the state asked for, as the state file spells them. */
    struct read_ctx ctx = {.state = state, .ids = json_array()};
    rc = ctx.ids != NULL ? hnp_hns_mock_edit(path, read_state, &ctx, &err) : HNP_ERR_NOMEM;
    char *text = rc == HNP_OK ? json_dumps(ctx.ids, JSON_COMPACT) : NULL;
    json_decref(ctx.ids);
    if (rc != HNP_OK)
        return fail_from(ErrorRecord, &err);
    *Endpoints = text != NULL ? hand_out(text) : NULL;
    free(text);
    return *Endpoints != NULL ? S_OK : E_OUTOFMEMORY;
}

EXPORT HRESULT WINAPI HcnOpenEndpoint(REFGUID Id, PHCN_ENDPOINT Endpoint, PWSTR *ErrorRecord)
{
    begin(&stats.open_calls);
    if (Endpoint == NULL || Id == NULL)
        return E_POINTER;
    *Endpoint = NULL;
    if (ErrorRecord != NULL)
        *ErrorRecord = NULL;
    char path[MAX_PATH * 3];
    if (state_path(path, sizeof(path)) == NULL)
        return fail(ErrorRecord, 0, NO_STATE);

    /* "{XXXXXXXX-...}" from COM itself, so the backend's own GUID code is not trusted here. */
    WCHAR braced[40];
    char id[40];
    if (StringFromGUID2(Id, braced, 40) != 39)
        return E_INVALIDARG;
    for (int i = 0; i < 36; i++)
        id[i] = (char)braced[i + 1];
    id[36] = '\0';

    struct read_ctx ctx = {.id = id};
    struct hnp_error err = {0};
    if (hnp_hns_mock_edit(path, read_state, &ctx, &err) != HNP_OK)
        return fail_from(ErrorRecord, &err);
    if (ctx.doc == NULL) {
        char msg[100];
        snprintf(msg, sizeof(msg), "endpoint %s not found", id);
        return fail(ErrorRecord, HNP_HCN_ENDPOINT_NOT_FOUND, msg);
    }
    json_decref(ctx.doc);
    struct handle *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return E_OUTOFMEMORY;
    memcpy(h->id, id, sizeof(h->id));
    EnterCriticalSection(&lock);
    h->next = handles;
    handles = h;
    LeaveCriticalSection(&lock);
    *Endpoint = h;
    return S_OK;
}

EXPORT HRESULT WINAPI HcnQueryEndpointProperties(HCN_ENDPOINT Endpoint, PCWSTR Query,
                                                 PWSTR *Properties, PWSTR *ErrorRecord)
{
    begin(&stats.query_calls);
    if (Properties == NULL)
        return E_POINTER;
    *Properties = NULL;
    if (ErrorRecord != NULL)
        *ErrorRecord = NULL;
    char id[40], path[MAX_PATH * 3];
    if (!handle_id(Endpoint, id))
        return fail(ErrorRecord, (uint32_t)E_HANDLE, BAD_HANDLE);
    if (state_path(path, sizeof(path)) == NULL)
        return fail(ErrorRecord, 0, NO_STATE);
    int state;
    HRESULT hr = check_query(Query, &state, ErrorRecord);
    if (hr != S_OK || (ErrorRecord != NULL && *ErrorRecord != NULL))
        return hr;

    /* The mock's query: counts, faults, latency, "not found" if it went since Open. */
    struct hnp_hns *mock = NULL;
    struct hnp_error err = {0};
    struct hnp_hns_endpoint one = {0};
    enum hnp_err rc = hnp_hns_mock_open(path, &mock, &err);
    if (rc == HNP_OK)
        rc = mock->ops->get_endpoint(mock, id, &one, &err);
    hnp_hns_endpoint_clear(&one);
    hnp_hns_close(mock);
    if (rc != HNP_OK)
        return fail_from(ErrorRecord, &err);

    /* The document itself, every key as stored. */
    struct read_ctx ctx = {.id = id};
    if (hnp_hns_mock_edit(path, read_state, &ctx, &err) != HNP_OK)
        return fail_from(ErrorRecord, &err);
    if (ctx.doc == NULL) {
        char msg[100];
        snprintf(msg, sizeof(msg), "endpoint %s not found", id);
        return fail(ErrorRecord, HNP_HCN_ENDPOINT_NOT_FOUND, msg);
    }
    char *text = json_dumps(ctx.doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(ctx.doc);
    *Properties = text != NULL ? hand_out(text) : NULL;
    free(text);
    return *Properties != NULL ? S_OK : E_OUTOFMEMORY;
}

EXPORT HRESULT WINAPI HcnModifyEndpoint(HCN_ENDPOINT Endpoint, PCWSTR Settings, PWSTR *ErrorRecord)
{
    begin(&stats.modify_calls);
    if (ErrorRecord != NULL)
        *ErrorRecord = NULL;
    char id[40], path[MAX_PATH * 3];
    if (!handle_id(Endpoint, id))
        return fail(ErrorRecord, (uint32_t)E_HANDLE, BAD_HANDLE);
    if (state_path(path, sizeof(path)) == NULL)
        return fail(ErrorRecord, 0, NO_STATE);
    char why[300] = "";
    json_t *request = parse_wide(Settings, why, sizeof(why));

    /*
     * The mock's modify: counts, faults, vanish, validation as HNS does it.
     * Text that is not JSON goes in as null, which the mock refuses with
     * 0x803B001B after its count and faults, as HNS would.
     */
    struct hnp_hns *mock = NULL;
    struct hnp_error err = {0};
    enum hnp_err rc = hnp_hns_mock_open(path, &mock, &err);
    if (rc == HNP_OK)
        rc = mock->ops->modify_endpoint(mock, id, request != NULL ? request : json_null(), &err);
    hnp_hns_close(mock);
    json_decref(request);
    if (rc == HNP_OK)
        return S_OK;
    if (request == NULL && err.code == HNP_HCN_INVALID_JSON) {
        char msg[400];
        snprintf(msg, sizeof(msg), "invalid JSON in the settings: %s", why);
        return fail(ErrorRecord, HNP_HCN_INVALID_JSON, msg);
    }
    return fail_from(ErrorRecord, &err);
}

EXPORT HRESULT WINAPI HcnCloseEndpoint(HCN_ENDPOINT Endpoint)
{
    begin(&stats.close_calls);
    struct handle *gone = NULL;
    EnterCriticalSection(&lock);
    for (struct handle **p = &handles; *p != NULL; p = &(*p)->next) {
        if ((void *)*p == Endpoint) {
            gone = *p;
            *p = gone->next;
            break;
        }
    }
    if (gone == NULL)
        stats.bad_handles++;
    LeaveCriticalSection(&lock);
    free(gone);
    return gone != NULL ? S_OK : E_HANDLE;
}

/* vmcompute.dll's HNSCall, for the backend's version check. */
EXPORT HRESULT WINAPI HNSCall(PCWSTR Method, PCWSTR Path, PCWSTR Request, PWSTR *Response)
{
    begin(&stats.hns_calls);
    if (Response == NULL)
        return E_POINTER;
    *Response = NULL;
    if (Method == NULL || Path == NULL || wcscmp(Method, L"GET") != 0 ||
        wcscmp(Path, L"/globals/version") != 0) {
        *Response = hand_out("{\"Success\":false,\"Error\":\"the fake HNSCall only answers GET "
                             "/globals/version\"}");
        return S_OK;
    }
    char version[64];
    DWORD n = GetEnvironmentVariableA("HNP_FAKE_HNS_VERSION", version, sizeof(version));
    if (n == 0 || n >= sizeof(version))
        snprintf(version, sizeof(version), "15.0");
    if (strcmp(version, "fail") == 0)
        return E_FAIL;
    char text[200];
    int major = 0, minor = 0;
    if (strcmp(version, "error") == 0)
        snprintf(text, sizeof(text), "{\"Success\":false,\"Error\":\"HNS is not running\"}");
    else if (strcmp(version, "garbage") == 0)
        snprintf(text, sizeof(text), "Version: who knows");
    else if (sscanf(version, "%d.%d", &major, &minor) == 2)
        snprintf(text, sizeof(text),
                 "{\"Success\":true,\"Error\":\"\",\"Output\":{\"Major\":%d,\"Minor\":%d}}", major,
                 minor);
    else
        return E_INVALIDARG;
    *Response = hand_out(text);
    return *Response != NULL ? S_OK : E_OUTOFMEMORY;
}

/* ------------------------------------------------------------------------ */
/* Test-only                                                                */

EXPORT void HnpFakeHcnStats(struct hnp_fake_hcn_stats *out)
{
    InitOnceExecuteOnce(&spy_once, register_spy, NULL, NULL);
    EnterCriticalSection(&lock);
    *out = stats;
    out->handles_open = 0;
    for (const struct handle *p = handles; p != NULL; p = p->next)
        out->handles_open++;
    out->strings_outstanding = (long)outstanding.count;
    LeaveCriticalSection(&lock);
}

EXPORT void HnpFakeHcnReset(void)
{
    EnterCriticalSection(&lock);
    int spy_active = stats.spy_active;
    memset(&stats, 0, sizeof(stats));
    stats.spy_active = spy_active;
    LeaveCriticalSection(&lock);
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    if (reason == DLL_PROCESS_ATTACH) {
        InitializeCriticalSection(&lock);
        DisableThreadLibraryCalls(instance);
    }
    return TRUE;
}
