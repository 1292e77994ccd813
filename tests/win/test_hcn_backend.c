/*
 * test_hcn_backend.c - the real HCN backend (win/hcn.c) against the fake
 * computenetwork.dll (fake_computenetwork.c) that sits beside this program.
 * Windows only; runs under wine through ctest.
 *
 * Every test gets a new mock HNS state file (HNP_FAKE_HCN_STATE) in a new
 * temporary folder, and ends by checking the call discipline the fake
 * measured: every endpoint handle opened was closed, every string handed
 * out was freed with CoTaskMemFree (and none twice), no call was made with a
 * bad handle. One test proves the checker itself catches each violation.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <computenetwork.h>
#include <objbase.h>

#include "testutil.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_hcn.h"
#include "hnsnetpol/acl.h"
#include "hns_worker.h"
#include "mock.h"
#include "hns.h"
#include "hns_hcn.h"
#include "log.h"
#include "platform.h"
#include "hnsnetpol/rangeset.h"

#define EP_A "8A3C0D0E-0000-4000-8000-00000000000A"
#define EP_A_LOWER "8a3c0d0e-0000-4000-8000-00000000000a"
#define EP_B "8a3c0d0e-0000-4000-8000-00000000000b"
#define EP_C "8a3c0d0e-0000-4000-8000-00000000000c"
#define EP_D "8a3c0d0e-0000-4000-8000-00000000000d"
#define EP_E "8a3c0d0e-0000-4000-8000-00000000000e"
#define EP_F "8a3c0d0e-0000-4000-8000-00000000000f"
#define EP_MISSING "8a3c0d0e-0000-4000-8000-0000000000ff"

static HMODULE fake;
static hnp_fake_hcn_stats_fn *fake_stats;
static hnp_fake_hcn_reset_fn *fake_reset;

/* Per test. */
static char *dir;
static char state_path[600];
static char log_path[600];
static FILE *log_file;

/* ------------------------------------------------------------------------ */
/* Fixture                                                                  */

static int group_setup(void **state)
{
    fake = LoadLibraryExW(L"computenetwork.dll", NULL, LOAD_LIBRARY_SEARCH_APPLICATION_DIR);
    if (fake == NULL) {
        fprintf(stderr, "the fake computenetwork.dll is not beside the test program\n");
        return -1;
    }
    fake_stats = (hnp_fake_hcn_stats_fn *)(void (*)(void))GetProcAddress(fake, HNP_FAKE_HCN_STATS);
    fake_reset = (hnp_fake_hcn_reset_fn *)(void (*)(void))GetProcAddress(fake, HNP_FAKE_HCN_RESET);
    return fake_stats != NULL && fake_reset != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    hnp_log_setup(HNP_LOG_INFO, HNP_LOG_TEXT, NULL);
    /* The fake pins itself (its malloc spy stays registered): nothing to unload. */
    return 0;
}

static int setup(void **state)
{
    if (hnp_make_temp_dir("hnp-test-hcn", &dir, NULL) != HNP_OK)
        return -1;
    snprintf(state_path, sizeof(state_path), "%s\\hns.json", dir);
    snprintf(log_path, sizeof(log_path), "%s\\log.txt", dir);
    log_file = fopen(log_path, "w+");
    if (log_file == NULL)
        return -1;
    hnp_log_setup(HNP_LOG_DEBUG, HNP_LOG_TEXT, log_file);
    SetEnvironmentVariableA("HNP_FAKE_HCN_STATE", state_path);
    SetEnvironmentVariableA("HNP_FAKE_HCN_S_OK_ERRORS", NULL);
    SetEnvironmentVariableA("HNP_FAKE_HCN_NO_ERROR_RECORD", NULL);
    SetEnvironmentVariableA("HNP_FAKE_HNS_VERSION", NULL);
    fake_reset();
    return 0;
}

/* Remove every file in the folder, then the folder. */
static void remove_dir(const char *path)
{
    char pattern[700];
    snprintf(pattern, sizeof(pattern), "%s\\*", path);
    WIN32_FIND_DATAA fd;
    HANDLE h = FindFirstFileA(pattern, &fd);
    if (h != INVALID_HANDLE_VALUE) {
        do {
            if (strcmp(fd.cFileName, ".") == 0 || strcmp(fd.cFileName, "..") == 0)
                continue;
            char file[1000];
            snprintf(file, sizeof(file), "%s\\%s", path, fd.cFileName);
            DeleteFileA(file);
        } while (FindNextFileA(h, &fd));
        FindClose(h);
    }
    RemoveDirectoryA(path);
}

/* The discipline every test must leave behind; false (and a report on stderr) when broken. */
static bool discipline_kept(void)
{
    struct hnp_fake_hcn_stats s;
    fake_stats(&s);
    if (!s.spy_active && s.strings_out > 0) {
        fprintf(stderr, "the fake's IMallocSpy is not active: frees cannot be checked\n");
        return false;
    }
    if (s.handles_open == 0 && s.bad_handles == 0 && s.strings_outstanding == 0 &&
        s.double_frees == 0 && s.strings_freed == s.strings_out)
        return true;
    fprintf(stderr,
            "call discipline broken: %ld handles still open, %ld bad handles, %ld strings out, "
            "%ld freed, %ld outstanding, %ld double frees\n",
            s.handles_open, s.bad_handles, s.strings_out, s.strings_freed, s.strings_outstanding,
            s.double_frees);
    return false;
}

static int teardown(void **state)
{
    bool kept = discipline_kept();
    hnp_log_setup(HNP_LOG_INFO, HNP_LOG_TEXT, NULL);
    fclose(log_file);
    log_file = NULL;
    remove_dir(dir);
    free(dir);
    dir = NULL;
    return kept ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static void write_state(const char *json)
{
    FILE *f = fopen(state_path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(json, 1, strlen(json), f), strlen(json));
    assert_int_equal(fclose(f), 0);
}

static json_t *read_state(void)
{
    json_t *state = NULL;
    struct hnp_error err = {0};
    if (hnp_hns_mock_read(state_path, &state, &err) != HNP_OK)
        fail_msg("cannot read the state: %s", err.message);
    return state;
}

static json_int_t calls_of(const char *op)
{
    json_t *state = read_state();
    json_int_t n = json_integer_value(json_object_get(json_object_get(state, "calls"), op));
    json_decref(state);
    return n;
}

/* Everything logged so far (new string). */
static char *logged(void)
{
    fflush(log_file);
    long end = ftell(log_file);
    char *text = calloc(1, (size_t)end + 1);
    assert_non_null(text);
    rewind(log_file);
    size_t n = fread(text, 1, (size_t)end, log_file);
    text[n] = '\0';
    fseek(log_file, 0, SEEK_END); /* a write follows a read: reposition first */
    return text;
}

static size_t count_of(const char *haystack, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static struct hnp_hns *open_backend(void)
{
    struct hnp_hns_hcn_options o = {.version_check = HNP_HCN_VERSION_SKIP};
    struct hnp_hns *hns = NULL;
    struct hnp_error err = {0};
    if (hnp_hns_hcn_open_with(&o, &hns, &err) != HNP_OK)
        fail_msg("cannot open the HCN backend: %s", err.message);
    assert_string_equal(hns->ops->name, "hcn");
    return hns;
}

/* The endpoint with this id (ignoring case) in eps, or NULL. */
static const struct hnp_hns_endpoint *find(const struct hnp_hns_endpoint *eps, size_t n,
                                           const char *id)
{
    for (size_t i = 0; i < n; i++) {
        if (_stricmp(eps[i].id, id) == 0)
            return &eps[i];
    }
    return NULL;
}

static uint32_t ip(const char *text)
{
    uint32_t addr = 0;
    assert_true(hnp_ipv4_parse(text, &addr));
    return addr;
}

#define ACL(id, action, dir, prio)                                                                 \
    "{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"" id "\",\"Action\":\"" action                       \
    "\",\"Direction\":\"" dir "\",\"RuleType\":\"Switch\",\"Priority\":" #prio "}}"
#define NAT "{\"Type\":\"OutBoundNAT\",\"Settings\":{\"Exceptions\":[\"10.0.0.0/8\"]}}"

/* A one-endpoint state: EP_A (State 3, 10.240.0.5) with the given Policies array and faults. */
static void one_endpoint(const char *policies, const char *faults)
{
    char json[4096];
    snprintf(json, sizeof(json),
             "{\"endpoints\":[{\"ID\":\"" EP_A "\",\"Name\":\"server\",\"State\":3,"
             "\"IpConfigurations\":[{\"IpAddress\":\"10.240.0.5\",\"PrefixLength\":24}],"
             "\"Policies\":%s}],\"faults\":%s}",
             policies, faults);
    write_state(json);
}

/* ------------------------------------------------------------------------ */
/* Opening                                                                  */

static void test_missing_dll(void **state)
{
    struct hnp_hns_hcn_options o = {.computenetwork_dll = "hnp-no-such-computenetwork.dll"};
    struct hnp_hns *hns = NULL;
    struct hnp_error err = {0};
    assert_int_equal(hnp_hns_hcn_open_with(&o, &hns, &err), HNP_ERR_UNSUPPORTED);
    assert_null(hns);
    assert_non_null(
        strstr(err.message, "this host has no Host Compute Network API (computenetwork.dll)"));
    assert_non_null(strstr(err.message, "hnp-no-such-computenetwork.dll cannot be loaded"));
    assert_non_null(strstr(err.message, "Windows error 126"));
    assert_int_equal(err.code, 0x8007007E); /* HRESULT_FROM_WIN32(ERROR_MOD_NOT_FOUND) */
    assert_int_equal(err.code_kind, HNP_CODE_HRESULT);
}

static void test_missing_function(void **state)
{
    struct hnp_hns_hcn_options o = {.computenetwork_dll = "hnp_fake_hcn_partial.dll"};
    struct hnp_hns *hns = NULL;
    struct hnp_error err = {0};
    assert_int_equal(hnp_hns_hcn_open_with(&o, &hns, &err), HNP_ERR_UNSUPPORTED);
    assert_null(hns);
    assert_non_null(
        strstr(err.message, "this host has no Host Compute Network API (computenetwork.dll)"));
    assert_non_null(strstr(err.message, "has no function HcnModifyEndpoint"));
    assert_int_equal(err.code, 0x8007007F); /* ERROR_PROC_NOT_FOUND */
}

/* The default: computenetwork.dll from beside the program, no vmcompute.dll under wine. */
static void test_default_open_without_vmcompute(void **state)
{
    struct hnp_hns *a = NULL, *b = NULL;
    struct hnp_error err = {0};
    assert_int_equal(hnp_hns_hcn_open(&a, &err), HNP_OK);
    assert_int_equal(hnp_hns_hcn_open(&b, &err), HNP_OK);
    char *log = logged();
    /* Warned once: later opens (after an abandoned call) do not ask HNS again. */
    assert_int_equal(count_of(log, "cannot read the HNS version"), 1);
    assert_non_null(strstr(log, "vmcompute.dll cannot be loaded"));
    free(log);
    hnp_hns_close(a);
    hnp_hns_close(b);
}

static void test_version_gate(void **state)
{
    static const struct {
        const char *version;
        enum hnp_err rc;
        const char *logged;
    } cases[] = {
        {"7.1", HNP_ERR_UNSUPPORTED, NULL},
        {"6.9", HNP_ERR_UNSUPPORTED, NULL},
        {"7.2", HNP_OK, "version=7.2 hcn_v2_api=no"},
        {"9.2", HNP_OK, "version=9.2 hcn_v2_api=yes"},
        {"15.1", HNP_OK, "version=15.1 hcn_v2_api=yes"},
        {"fail", HNP_OK, "HNSCall returned 0x80004005"},
        {"error", HNP_OK, "HNS is not running"},
        {"garbage", HNP_OK, "unexpected answer to HNSCall"},
    };
    /* The fake computenetwork.dll serves HNSCall too. */
    struct hnp_hns_hcn_options o = {.vmcompute_dll = "computenetwork.dll",
                                    .version_check = HNP_HCN_VERSION_ALWAYS};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        SetEnvironmentVariableA("HNP_FAKE_HNS_VERSION", cases[i].version);
        struct hnp_hns *hns = NULL;
        struct hnp_error err = {0};
        enum hnp_err rc = hnp_hns_hcn_open_with(&o, &hns, &err);
        if (rc != cases[i].rc)
            fail_msg("version %s: %s (%s)", cases[i].version, hnp_err_name(rc), err.message);
        if (rc != HNP_OK) {
            assert_null(hns);
            char want[64];
            snprintf(want, sizeof(want), "HNS version %s is too old", cases[i].version);
            assert_non_null(strstr(err.message, want));
            assert_non_null(strstr(err.message, "7.2 or later"));
            continue;
        }
        hnp_hns_close(hns);
        char *log = logged();
        if (strstr(log, cases[i].logged) == NULL)
            fail_msg("version %s: \"%s\" not logged in:\n%s", cases[i].version, cases[i].logged,
                     log);
        free(log);
    }
    struct hnp_fake_hcn_stats s;
    fake_stats(&s);
    assert_int_equal(s.hns_calls, 8);
}

/* ------------------------------------------------------------------------ */
/* Listing and reading                                                      */

static void test_list_union_and_filters(void **state)
{
    write_state("{\"endpoints\":["
                /* A, State 3, upper case */
                "{\"ID\":\"" EP_A "\",\"Name\":\"a\",\"State\":3,"
                "\"IpConfigurations\":[{\"IpAddress\":\"10.240.0.5\",\"PrefixLength\":24}],"
                "\"Policies\":[" NAT "]},"
                /* A again, as another State-2 entry spelled in lower case: one endpoint */
                "{\"ID\":\"" EP_A_LOWER "\",\"Name\":\"a-again\",\"State\":2},"
                /* B, State 2, key "Id", two IPv4 and one IPv6 address, no Policies */
                "{\"Id\":\"" EP_B "\",\"name\":\"b\",\"State\":2,\"IpConfigurations\":["
                "{\"IpAddress\":\"10.240.0.6\"},{\"IpAddress\":\"fd00::6\"},"
                "{\"ipaddress\":\"10.240.1.6\"}]},"
                /* C, no State (counts as 3) */
                "{\"ID\":\"" EP_C "\"},"
                /* D, detached */
                "{\"ID\":\"" EP_D "\",\"State\":4},"
                /* E, remote (State 1, Flags 1) */
                "{\"ID\":\"" EP_E "\",\"State\":1,\"Flags\":1},"
                /* F, remote yet reported attached: the Flags bit excludes it */
                "{\"ID\":\"" EP_F "\",\"State\":3,\"Flags\":1},"
                /* not a GUID: skipped with a warning */
                "{\"ID\":\"not-a-guid\",\"State\":3}"
                "]}");
    struct hnp_hns *hns = open_backend();
    struct hnp_hns_endpoint *eps = NULL;
    size_t n = 0;
    struct hnp_error err = {0};
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_OK);
    assert_int_equal(n, 3);

    const struct hnp_hns_endpoint *a = find(eps, n, EP_A);
    assert_non_null(a);
    assert_string_equal(a->id, EP_A); /* as HNS spelled it */
    assert_string_equal(a->name, "a");
    assert_int_equal(a->n_ips, 1);
    assert_int_equal(a->ips[0], ip("10.240.0.5"));
    json_t *nat = hnp_test_json("[" NAT "]");
    assert_true(json_equal(a->policies, nat));
    json_decref(nat);

    const struct hnp_hns_endpoint *b = find(eps, n, EP_B);
    assert_non_null(b);
    assert_string_equal(b->name, "b");
    assert_int_equal(b->n_ips, 2);
    assert_int_equal(b->ips[0], ip("10.240.0.6"));
    assert_int_equal(b->ips[1], ip("10.240.1.6"));
    assert_true(json_is_array(b->policies));
    assert_int_equal(json_array_size(b->policies), 0);

    const struct hnp_hns_endpoint *c = find(eps, n, EP_C);
    assert_non_null(c);
    assert_null(c->name);
    assert_int_equal(c->n_ips, 0);
    assert_null(find(eps, n, EP_D));
    assert_null(find(eps, n, EP_E));
    assert_null(find(eps, n, EP_F));
    hnp_hns_endpoints_free(eps, n);

    /* Two enumerations (State 3, State 2); one Open/Query/Close per distinct GUID (A B C F). */
    struct hnp_fake_hcn_stats s;
    fake_stats(&s);
    assert_int_equal(s.enumerate_calls, 2);
    assert_int_equal(s.open_calls, 4);
    assert_int_equal(s.query_calls, 4);
    assert_int_equal(s.close_calls, 4);
    assert_int_equal(calls_of("list"), 2);
    assert_int_equal(calls_of("query"), 4);
    char *log = logged();
    assert_non_null(strstr(log, "not a GUID"));
    assert_non_null(strstr(log, "not-a-guid"));
    free(log);
    hnp_hns_close(hns);
}

static void test_list_empty(void **state)
{
    write_state("{\"endpoints\":[]}");
    struct hnp_hns *hns = open_backend();
    struct hnp_hns_endpoint *eps = (struct hnp_hns_endpoint *)&eps;
    size_t n = 99;
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, NULL), HNP_OK);
    assert_int_equal(n, 0);
    assert_null(eps);
    hnp_hns_close(hns);
}

static void test_get_endpoint(void **state)
{
    one_endpoint("[" NAT "," ACL("hnp-x", "Block", "In", 65000) "]", "{}");
    struct hnp_hns *hns = open_backend();
    struct hnp_hns_endpoint ep = {0};
    struct hnp_error err = {0};
    /* By its ID in another case. */
    assert_int_equal(hns->ops->get_endpoint(hns, EP_A_LOWER, &ep, &err), HNP_OK);
    assert_string_equal(ep.id, EP_A);
    assert_string_equal(ep.name, "server");
    assert_int_equal(ep.n_ips, 1);
    assert_int_equal(json_array_size(ep.policies), 2);
    hnp_hns_endpoint_clear(&ep);
    /* In braces, as Windows often writes GUIDs. */
    assert_int_equal(hns->ops->get_endpoint(hns, "{" EP_A "}", &ep, &err), HNP_OK);
    hnp_hns_endpoint_clear(&ep);

    assert_int_equal(hns->ops->get_endpoint(hns, EP_MISSING, &ep, &err), HNP_ERR_NOT_FOUND);
    assert_int_equal(err.code, HNP_HCN_ENDPOINT_NOT_FOUND);
    assert_non_null(strstr(err.message, "HNS error 0x803B0002 from HcnOpenEndpoint"));
    assert_non_null(strstr(err.message, EP_MISSING));
    assert_null(ep.id);

    assert_int_equal(hns->ops->get_endpoint(hns, "server", &ep, &err), HNP_ERR_INVALID);
    assert_non_null(strstr(err.message, "not an HCN endpoint ID"));
    hnp_hns_close(hns);
}

/* ------------------------------------------------------------------------ */
/* Applying                                                                 */

static void test_apply_keeps_foreign_policies_first(void **state)
{
    one_endpoint("[" ACL("hnp-old", "Block", "In", 65000) "," NAT "," ACL("other-agent-allow",
                                                                          "Allow", "In", 65500) "]",
                 "{}");
    struct hnp_hns *hns = open_backend();
    struct hnp_hns_endpoint ep = {0};
    struct hnp_error err = {0};
    assert_int_equal(hns->ops->get_endpoint(hns, EP_A, &ep, &err), HNP_OK);

    /* What the agent does: split, keep the foreign ones, append our complete new set. */
    struct hnp_acl_list ours;
    hnp_acl_list_init(&ours);
    json_t *foreign = hnp_hns_split_policies(ep.policies, &ours);
    assert_non_null(foreign);
    assert_int_equal(ours.count, 1);
    assert_int_equal(json_array_size(foreign), 2);
    hnp_acl_list_free(&ours);

    const char *new_acls[] = {ACL("hnp-allow-80", "Allow", "In", 1000),
                              ACL("hnp-block-in", "Block", "In", 65000),
                              ACL("hnp-allow-out", "Allow", "Out", 65000)};
    for (size_t i = 0; i < 3; i++) {
        json_t *policy = hnp_test_json(new_acls[i]);
        struct hnp_acl acl;
        assert_int_equal(hnp_acl_from_json(policy, &acl, NULL), HNP_OK);
        assert_int_equal(hnp_acl_list_push(&ours, &acl), HNP_OK);
        json_decref(policy);
    }
    json_t *request = hnp_acl_list_request(&ours, foreign);
    assert_non_null(request);
    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, request, &err), HNP_OK);

    json_t *st = read_state();
    json_t *stored =
        json_object_get(json_array_get(json_object_get(st, "endpoints"), 0), "Policies");
    /* Stored exactly as sent: the two foreign policies unchanged and first, then ours. */
    assert_true(
        json_equal(stored, json_object_get(json_object_get(request, "Settings"), "Policies")));
    assert_int_equal(json_array_size(stored), 5);
    json_t *expect = hnp_test_json("[" NAT "," ACL("other-agent-allow", "Allow", "In", 65500) "]");
    for (size_t i = 0; i < 2; i++)
        assert_true(json_equal(json_array_get(stored, i), json_array_get(expect, i)));
    const char *ids[] = {"hnp-allow-80", "hnp-block-in", "hnp-allow-out"};
    for (size_t i = 0; i < 3; i++) {
        const json_t *s = json_object_get(json_array_get(stored, 2 + i), "Settings");
        assert_string_equal(json_string_value(json_object_get(s, "Id")), ids[i]);
    }
    assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "calls"), "modify")),
                     1);
    json_decref(expect);
    json_decref(st);
    json_decref(request);
    json_decref(foreign);
    hnp_acl_list_free(&ours);
    hnp_hns_endpoint_clear(&ep);

    /* Non-ASCII survives the UTF-16 round trip (a foreign policy with a name in it). */
    json_t *req = hnp_test_json(
        "{\"ResourceType\":\"Policy\",\"RequestType\":\"Update\",\"Settings\":{\"Policies\":"
        "[{\"Type\":\"SDNRoute\",\"Settings\":{\"Note\":\"caf\\u00e9 \\ud83d\\ude00\"}}]}}");
    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A_LOWER, req, &err), HNP_OK);
    assert_int_equal(hns->ops->get_endpoint(hns, EP_A, &ep, &err), HNP_OK);
    const char *note = json_string_value(
        json_object_get(json_object_get(json_array_get(ep.policies, 0), "Settings"), "Note"));
    assert_string_equal(note, "caf\xC3\xA9 \xF0\x9F\x98\x80");
    hnp_hns_endpoint_clear(&ep);
    json_decref(req);
    hnp_hns_close(hns);
}

static json_t *update_with(const char *policy)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"ResourceType\":\"Policy\",\"RequestType\":\"Update\",\"Settings\":{\"Policies\":"
             "[" NAT ",%s]}}",
             policy);
    return hnp_test_json(text);
}

#define BAD_ACL                                                                                    \
    "{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"hnp-bad\",\"Action\":\"Allow\",\"Direction\":"       \
    "\"In\","                                                                                      \
    "\"RemoteAddresses\":\"Any\",\"RuleType\":\"Switch\",\"Priority\":1000}}"

static void test_invalid_policy_error(void **state)
{
    one_endpoint("[" NAT "]", "{}");
    struct hnp_hns *hns = open_backend();
    json_t *req = update_with(BAD_ACL);
    struct hnp_error err = {0};
    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, req, &err), HNP_ERR_HNS);
    assert_int_equal(err.code, HNP_HCN_INVALID_POLICY);
    assert_non_null(strstr(err.message, "HNS error 0x803B000D from HcnModifyEndpoint on endpoint"));
    assert_non_null(strstr(err.message, EP_A));
    assert_non_null(strstr(err.message, "invalid policy")); /* the ErrorRecord's Error text */
    assert_non_null(strstr(err.message, "RemoteAddresses"));
    assert_null(strstr(err.message, "S_OK"));
    json_decref(req);

    /* Nothing changed on the endpoint. */
    json_t *st = read_state();
    json_t *nat = hnp_test_json("[" NAT "]");
    assert_true(json_equal(
        json_object_get(json_array_get(json_object_get(st, "endpoints"), 0), "Policies"), nat));
    json_decref(nat);
    json_decref(st);
    hnp_hns_close(hns);
}

static void test_s_ok_with_error_record_is_failure(void **state)
{
    one_endpoint("[" NAT "]", "{\"fail\":[{\"operation\":\"list\",\"count\":1,\"code\":"
                              "\"0x803B0020\"}]}");
    SetEnvironmentVariableA("HNP_FAKE_HCN_S_OK_ERRORS", "1");
    struct hnp_hns *hns = open_backend();
    struct hnp_error err = {0};

    json_t *req = update_with(BAD_ACL);
    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, req, &err), HNP_ERR_HNS);
    assert_int_equal(err.code, HNP_HCN_INVALID_POLICY);
    assert_non_null(strstr(err.message, "HRESULT S_OK with an ErrorRecord"));
    assert_non_null(strstr(err.message, "invalid policy"));
    json_decref(req);

    struct hnp_hns_endpoint *eps = NULL;
    size_t n = 0;
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_ERR_HNS);
    assert_int_equal(err.code, HNP_HCN_MANAGER_STOPPED);
    assert_non_null(strstr(err.message, "HcnEnumerateEndpoints"));

    /* Not found, the S_OK way, is still not found. */
    struct hnp_hns_endpoint ep = {0};
    assert_int_equal(hns->ops->get_endpoint(hns, EP_MISSING, &ep, &err), HNP_ERR_NOT_FOUND);
    assert_int_equal(err.code, HNP_HCN_ENDPOINT_NOT_FOUND);
    hnp_hns_close(hns);
}

/* A failure with only an HRESULT still names the code and says what it means. */
static void test_failure_without_error_record(void **state)
{
    one_endpoint("[" NAT "]", "{\"fail\":[{\"operation\":\"modify\",\"count\":1,\"code\":"
                              "\"0x80070490\"}]}");
    SetEnvironmentVariableA("HNP_FAKE_HCN_NO_ERROR_RECORD", "1");
    struct hnp_hns *hns = open_backend();
    struct hnp_error err = {0};
    json_t *req = update_with(BAD_ACL);
    /* HRESULT_FROM_WIN32(ERROR_NOT_FOUND): Windows' own text. */
    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, req, &err), HNP_ERR_NOT_FOUND);
    assert_int_equal(err.code, HNP_HCN_WIN32_NOT_FOUND);
    assert_non_null(strstr(err.message, "HNS error 0x80070490 from HcnModifyEndpoint"));
    assert_null(strstr(err.message, "no description"));
    /* An HCN code: the name of the code. */
    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, req, &err), HNP_ERR_HNS);
    assert_int_equal(err.code, HNP_HCN_INVALID_POLICY);
    assert_non_null(strstr(err.message, ": invalid policy (no ErrorRecord)"));
    json_decref(req);
    hnp_hns_close(hns);
}

static void test_injected_faults(void **state)
{
    one_endpoint("[" NAT "]", "{\"fail\":["
                              "{\"operation\":\"list\",\"count\":1,\"code\":2151350304},"
                              "{\"operation\":\"query\",\"count\":1,\"code\":\"0x803B0002\"},"
                              "{\"operation\":\"modify\",\"count\":1,\"code\":\"0x80070490\"},"
                              "{\"operation\":\"modify\",\"count\":1,\"code\":-2143616995}]}");
    struct hnp_hns *hns = open_backend();
    struct hnp_error err = {0};
    struct hnp_hns_endpoint *eps = NULL;
    size_t n = 0;
    /* HNS stopped: the listing fails with the code. */
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_ERR_HNS);
    assert_int_equal(err.code, HNP_HCN_MANAGER_STOPPED);
    assert_non_null(strstr(err.message, "HNS error 0x803B0020 from HcnEnumerateEndpoints"));
    assert_non_null(strstr(err.message, "injected fault on list"));
    /* An endpoint that is "not found" when queried during a listing is left out, quietly. */
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_OK);
    assert_int_equal(n, 0);
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_OK);
    assert_int_equal(n, 1);
    hnp_hns_endpoints_free(eps, n);

    json_t *req = update_with(ACL("hnp-block", "Block", "In", 65000));
    /* HRESULT_FROM_WIN32(ERROR_NOT_FOUND) is "not found" too. */
    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, req, &err), HNP_ERR_NOT_FOUND);
    assert_int_equal(err.code, HNP_HCN_WIN32_NOT_FOUND);
    /* A code given as a negative HRESULT: 0x803B001D. */
    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, req, &err), HNP_ERR_HNS);
    assert_int_equal(err.code, 0x803B001D);
    /* Faults spent: it goes through. */
    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, req, &err), HNP_OK);
    assert_int_equal(calls_of("modify"), 3);
    json_decref(req);
    hnp_hns_close(hns);
}

static void test_vanished_endpoint(void **state)
{
    one_endpoint("[" NAT "]", "{\"vanish\":[\"" EP_A_LOWER "\"]}");
    struct hnp_hns *hns = open_backend();
    struct hnp_error err = {0};
    /* Listed ... */
    struct hnp_hns_endpoint *eps = NULL;
    size_t n = 0;
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_OK);
    assert_int_equal(n, 1);
    hnp_hns_endpoints_free(eps, n);
    /* ... gone by the time of the modify (after HcnOpenEndpoint succeeded). */
    json_t *req = update_with(ACL("hnp-block", "Block", "In", 65000));
    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, req, &err), HNP_ERR_NOT_FOUND);
    assert_int_equal(err.code, HNP_HCN_ENDPOINT_NOT_FOUND);
    assert_non_null(strstr(err.message, "HcnModifyEndpoint"));
    /* And from then on HcnOpenEndpoint says so. */
    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, req, &err), HNP_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "HcnOpenEndpoint"));
    json_decref(req);
    struct hnp_hns_endpoint ep = {0};
    assert_int_equal(hns->ops->get_endpoint(hns, EP_A, &ep, &err), HNP_ERR_NOT_FOUND);
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_OK);
    assert_int_equal(n, 0);
    hnp_hns_close(hns);
}

/* ------------------------------------------------------------------------ */
/* The checker itself, and the fake's strictness                           */

typedef __typeof__(HcnEnumerateEndpoints) enumerate_fn;
typedef __typeof__(HcnOpenEndpoint) open_fn;
typedef __typeof__(HcnCloseEndpoint) close_fn;

static void test_discipline_checker_catches_violations(void **state)
{
    one_endpoint("[]", "{}");
    enumerate_fn *enumerate =
        (enumerate_fn *)(void (*)(void))GetProcAddress(fake, "HcnEnumerateEndpoints");
    open_fn *open = (open_fn *)(void (*)(void))GetProcAddress(fake, "HcnOpenEndpoint");
    close_fn *close = (close_fn *)(void (*)(void))GetProcAddress(fake, "HcnCloseEndpoint");
    assert_non_null(enumerate);
    assert_non_null(open);
    assert_non_null(close);
    struct hnp_fake_hcn_stats s;

    /* A result not freed is outstanding; freed, it is not. */
    PWSTR list = NULL, record = NULL;
    assert_int_equal(
        enumerate(L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":0},\"Flags\":0}", &list, &record),
        S_OK);
    assert_non_null(list);
    assert_null(record);
    fake_stats(&s);
    assert_true(s.spy_active);
    assert_int_equal(s.strings_outstanding, 1);
    CoTaskMemFree(list);
    fake_stats(&s);
    assert_int_equal(s.strings_outstanding, 0);
    assert_int_equal(s.strings_freed, 1);
    /* Freed twice: caught (and the second free is not passed on to the heap). */
    CoTaskMemFree(list);
    fake_stats(&s);
    assert_int_equal(s.double_frees, 1);

    /* A Filter given as an object, not JSON text, is refused as HNS refuses it. */
    assert_int_equal(enumerate(L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":0},\"Flags\":0,"
                               L"\"Filter\":{\"State\":3}}",
                               &list, &record),
                     (HRESULT)HNP_HCN_INVALID_JSON);
    assert_null(list);
    assert_non_null(record);
    CoTaskMemFree(record);
    record = NULL;

    /* A handle left open is counted; closing it twice is a bad handle. */
    GUID g;
    struct hnp_guid hg;
    assert_true(hnp_guid_parse(EP_A, &hg));
    memcpy(&g, &hg, sizeof(g));
    HCN_ENDPOINT ep = NULL;
    assert_int_equal(open(&g, &ep, &record), S_OK);
    assert_null(record);
    fake_stats(&s);
    assert_int_equal(s.handles_open, 1);
    assert_int_equal(close(ep), S_OK);
    assert_int_equal(close(ep), E_HANDLE);
    fake_stats(&s);
    assert_int_equal(s.handles_open, 0);
    assert_int_equal(s.bad_handles, 1);

    /* This test broke the rules on purpose: clear the counts for the teardown's check. */
    fake_reset();
}

static void test_guid_parse_format(void **state)
{
    struct hnp_guid g, h;
    assert_true(hnp_guid_parse("8a3c0d0e-1234-4abc-8def-0123456789ab", &g));
    assert_int_equal(g.data1, 0x8a3c0d0e);
    assert_int_equal(g.data2, 0x1234);
    assert_int_equal(g.data3, 0x4abc);
    assert_int_equal(g.data4[0], 0x8d);
    assert_int_equal(g.data4[1], 0xef);
    assert_int_equal(g.data4[7], 0xab);
    char text[37];
    hnp_guid_format(&g, text);
    assert_string_equal(text, "8a3c0d0e-1234-4abc-8def-0123456789ab");
    assert_true(hnp_guid_parse("{8A3C0D0E-1234-4ABC-8DEF-0123456789AB}", &h));
    assert_memory_equal(&g, &h, sizeof(g));

    /* Agrees with Windows' own parser and printer. */
    GUID w;
    assert_int_equal(CLSIDFromString(L"{8A3C0D0E-1234-4ABC-8DEF-0123456789AB}", &w), S_OK);
    assert_memory_equal(&w, &g, sizeof(g));

    static const char *const bad[] = {
        "",
        "8a3c0d0e-1234-4abc-8def-0123456789a",
        "8a3c0d0e-1234-4abc-8def-0123456789abc",
        "8a3c0d0e-1234-4abc-8def_0123456789ab",
        "8a3c0d0e 1234-4abc-8def-0123456789ab",
        "8a3c0d0g-1234-4abc-8def-0123456789ab",
        "{8a3c0d0e-1234-4abc-8def-0123456789ab",
        "8a3c0d0e-1234-4abc-8def-0123456789ab}",
        "(8a3c0d0e-1234-4abc-8def-0123456789ab)",
        " 8a3c0d0e-1234-4abc-8def-0123456789ab",
        "8a3c0d0e12344abc8def0123456789ab",
        "+a3c0d0e-1234-4abc-8def-0123456789ab",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&h, 0x5A, sizeof(h));
        if (hnp_guid_parse(bad[i], &h))
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(h.data1, 0x5A5A5A5A);
    }
    assert_false(hnp_guid_parse(NULL, &h));
}

/* ------------------------------------------------------------------------ */
/* A call that hangs past the agent's timeout                               */

struct box {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct hnp_hns_job *job;
    int calls;
};

static void box_done(struct hnp_hns_job *job, void *ctx)
{
    struct box *b = ctx;
    pthread_mutex_lock(&b->mu);
    b->job = job;
    b->calls++;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

/* Wait up to ms for a finished job; NULL when none came. */
static struct hnp_hns_job *box_wait(struct box *b, long ms)
{
    long long deadline = hnp_monotonic_ms() + ms;
    pthread_mutex_lock(&b->mu);
    while (b->job == NULL && hnp_monotonic_ms() < deadline) {
        pthread_mutex_unlock(&b->mu);
        hnp_sleep_ms(10);
        pthread_mutex_lock(&b->mu);
    }
    struct hnp_hns_job *job = b->job;
    b->job = NULL;
    pthread_mutex_unlock(&b->mu);
    return job;
}

static void test_hang_past_timeout_through_worker(void **state)
{
    /* HcnModifyEndpoint takes 3 s; the "agent" waits 300 ms. */
    one_endpoint("[" NAT "]", "{\"latency_ms\":{\"modify\":3000}}");
    struct box hung = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    struct box fresh = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

    struct hnp_hns_worker *w = NULL;
    assert_int_equal(hnp_hns_worker_start(open_backend(), box_done, &hung, &w), HNP_OK);
    json_t *req = update_with(ACL("hnp-block", "Block", "In", 65000));
    long long start = hnp_monotonic_ms();
    hnp_hns_worker_submit(w, hnp_hns_job_new(HNP_HNS_MODIFY, EP_A, req));
    json_decref(req);
    assert_null(box_wait(&hung, 300));

    /* Timed out: abandon it, and go on with a new worker and a new backend instance. */
    hnp_hns_worker_abandon(w);
    struct hnp_hns_worker *w2 = NULL;
    assert_int_equal(hnp_hns_worker_start(open_backend(), box_done, &fresh, &w2), HNP_OK);
    hnp_hns_worker_submit(w2, hnp_hns_job_new(HNP_HNS_LIST, NULL, NULL));
    struct hnp_hns_job *listed = box_wait(&fresh, 2000);
    assert_non_null(listed);
    assert_true(hnp_monotonic_ms() - start < 2500); /* while the modify still hangs */
    assert_int_equal(listed->rc, HNP_OK);
    assert_int_equal(listed->n_eps, 1);
    hnp_hns_job_free(listed);
    hnp_hns_worker_stop(w2);

    /* The hung call returns in its own time; its thread cleans up and ends. */
    assert_false(hnp_hns_worker_exited(w));
    while (!hnp_hns_worker_exited(w) && hnp_monotonic_ms() - start < 20000)
        hnp_sleep_ms(20);
    assert_true(hnp_hns_worker_exited(w));
    assert_true(hnp_monotonic_ms() - start >= 2900);
    hnp_hns_worker_stop(w);
    assert_int_equal(hung.calls, 0); /* its result never reached the "agent" */
    assert_int_equal(fresh.calls, 1);
    assert_int_equal(calls_of("modify"), 1);
    /* The teardown checks that the abandoned call still closed its handle and freed its strings. */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_dll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_function, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_open_without_vmcompute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_gate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_union_and_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_endpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_keeps_foreign_policies_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_policy_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_s_ok_with_error_record_is_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_without_error_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_injected_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vanished_endpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discipline_checker_catches_violations, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_guid_parse_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hang_past_timeout_through_worker, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
