/*
 * test_hns_mock.c - unit tests for the mock HNS backend (hns_mock.c) and the
 * `hns-mock` tool (cli_mock.c): listing and reading endpoints as HNS reports
 * them, modify requests validated as HNS validates them (every ACL rule of
 * tests/data/acl/validation.json, answered with 0x803B000D), Update / Add /
 * Remove / Refresh, HCN error codes, each fault kind, call counting, atomic
 * writes, corrupt state files, every tool command, and a concurrent editor
 * in another thread. It runs on Windows too; the concurrent editor in another
 * process (fork) is test_hns_mock_concurrency.c, POSIX only.
 */

#include "testutil.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>

#include "hnsnetpol/acl.h"
#include "mock.h"
#include "registry.h"
#include "mock_cmd.h"
#include "hns.h"
#include "platform.h"
#include "hnsnetpol/rangeset.h"

#define EP_A "8A3C0D0E-0000-4000-8000-00000000000A"
#define EP_B "8a3c0d0e-0000-4000-8000-00000000000b"

#define ACL_IN                                                                                     \
    "{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"hnp-in\",\"Action\":\"Allow\",\"Direction\":"        \
    "\"In\",\"Protocols\":\"6\",\"LocalPorts\":\"80\",\"RuleType\":\"Switch\",\"Priority\":1000}}"
#define ACL_BLOCK                                                                                  \
    "{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"hnp-block\",\"Action\":\"Block\",\"Direction\":"     \
    "\"In\",\"RuleType\":\"Switch\",\"Priority\":65000}}"
#define NAT "{\"Type\":\"OutBoundNAT\",\"Settings\":{\"Exceptions\":[\"10.0.0.0/8\"]}}"

/* ------------------------------------------------------------------------ */
/* Helpers (the fixture is testutil.h's struct hnp_test_mock)              */

static long long calls_of(struct hnp_test_mock *fx, const char *op)
{
    json_t *state = hnp_test_mock_state(fx);
    long long n = json_integer_value(json_object_get(json_object_get(state, "calls"), op));
    json_decref(state);
    return n;
}

/* The stored Policies of an endpoint (new reference), failing when absent. */
static json_t *stored_policies(struct hnp_test_mock *fx, const char *id)
{
    json_t *state = hnp_test_mock_state(fx);
    json_t *ep = hnp_hns_mock_find(state, id, NULL);
    if (ep == NULL)
        fail_msg("endpoint %s not in the state file", id);
    json_t *policies = json_incref(json_object_get(ep, "Policies"));
    json_decref(state);
    assert_non_null(policies);
    return policies;
}

/* Everything written to f (a tmpfile()) as a new string, *len its length; closes f. */
static char *slurp(FILE *f, size_t *len)
{
    assert_int_equal(fflush(f), 0);
    long size = ftell(f);
    assert_true(size >= 0);
    char *text = malloc((size_t)size + 1);
    assert_non_null(text);
    rewind(f);
    assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
    text[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return text;
}

/* Run `hns-mock STATE args... NULL`; *out (may be NULL) gets its standard output (free it). */
static int cli(struct hnp_test_mock *fx, char **out, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"hns-mock";
    argv[argc++] = fx->path;
    va_list ap;
    va_start(ap, out);
    const char *arg;
    while ((arg = va_arg(ap, const char *)) != NULL) {
        assert_true(argc < 31);
        argv[argc++] = (char *)arg;
    }
    va_end(ap);
    argv[argc] = NULL;
    size_t len = 0, errlen = 0;
    FILE *o = tmpfile();
    FILE *e = tmpfile();
    assert_non_null(o);
    assert_non_null(e);
    int rc = hnp_cli_mock_main(argc, argv, o, e);
    char *text = slurp(o, &len);
    char *errtext = slurp(e, &errlen);
    /* a failure always says why, success says nothing on stderr */
    if (rc == 0)
        assert_int_equal(errlen, 0);
    else
        assert_true(errlen > 0);
    free(errtext);
    if (out != NULL)
        *out = text;
    else
        free(text);
    return rc;
}

static json_t *update_request(const char *type, const char *policies)
{
    char text[8192];
    snprintf(text, sizeof(text),
             "{\"ResourceType\":\"Policy\",\"RequestType\":\"%s\",\"Settings\":{\"Policies\":%s}}",
             type, policies);
    return hnp_test_json(text);
}

static const char two_endpoints[] =
    "{\"endpoints\":["
    " {\"ID\":\"" EP_A "\",\"Name\":\"a\",\"State\":3,"
    "  \"IpConfigurations\":[{\"IpAddress\":\"10.0.0.5\",\"PrefixLength\":24}],"
    "  \"Policies\":[" NAT "]},"
    " {\"Id\":\"" EP_B "\",\"State\":2,"
    "  \"IpConfigurations\":[{\"IpAddress\":\"10.0.0.6\",\"PrefixLength\":24}]}"
    "]}";

static double now_ms(void)
{
    return (double)hnp_monotonic_ms();
}

/* ------------------------------------------------------------------------ */
/* Listing and reading                                                      */

static void test_missing_file_is_empty(void **state)
{
    struct hnp_test_mock *fx = *state;
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    /* created empty on open */
    json_t *st = hnp_test_mock_state(fx);
    assert_int_equal(json_array_size(json_object_get(st, "endpoints")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "calls"), "modify")),
                     0);
    json_decref(st);

    /* deleted while running: no endpoints, created again on the next write */
    assert_int_equal(unlink(fx->path), 0);
    struct hnp_hns_endpoint *eps = NULL;
    size_t n = 7;
    struct hnp_error err = {0};
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_OK);
    assert_int_equal(n, 0);
    assert_null(eps);
    assert_int_equal(calls_of(fx, "list"), 1);

    /* an empty file is an empty state too */
    hnp_test_mock_write(fx, "");
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_OK);
    assert_int_equal(n, 0);
    assert_int_equal(calls_of(fx, "list"), 1);
}

static void test_list_filters_state(void **state)
{
    struct hnp_test_mock *fx = *state;
    hnp_test_mock_write(
        fx, "{\"endpoints\":["
            " {\"ID\":\"created\",\"State\":1},"
            " {\"ID\":\"attached\",\"State\":2,\"Name\":\"n2\","
            "  \"IpConfigurations\":[{\"IpAddress\":\"fd00::5\",\"PrefixLength\":64},"
            "                        {\"IpAddress\":\"10.0.0.2\",\"PrefixLength\":24},"
            "                        {\"PrefixLength\":24},"
            "                        {\"ipaddress\":\"10.0.1.2\",\"PrefixLength\":24}]},"
            " {\"ID\":\"sharing\",\"State\":3,\"Policies\":[" NAT "]},"
            " {\"ID\":\"detached\",\"State\":4},"
            " {\"ID\":\"degraded\",\"State\":5},"
            " {\"ID\":\"destroyed\",\"State\":6},"
            " {\"Id\":\"no-state\"}"
            "]}");
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    struct hnp_hns_endpoint *eps = NULL;
    size_t n = 0;
    struct hnp_error err = {0};
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_OK);
    assert_int_equal(n, 3);
    assert_string_equal(eps[0].id, "attached");
    assert_string_equal(eps[0].name, "n2");
    /* IPv6 and entries without an address are skipped; keys in any case */
    assert_int_equal(eps[0].n_ips, 2);
    assert_int_equal(eps[0].ips[0], 0x0A000002);
    assert_int_equal(eps[0].ips[1], 0x0A000102);
    assert_true(json_is_array(eps[0].policies));
    assert_int_equal(json_array_size(eps[0].policies), 0);
    assert_string_equal(eps[1].id, "sharing");
    assert_null(eps[1].name);
    assert_int_equal(eps[1].n_ips, 0);
    json_t *nat = hnp_test_json("[" NAT "]");
    assert_true(json_equal(eps[1].policies, nat));
    json_decref(nat);
    assert_string_equal(eps[2].id, "no-state"); /* absent State counts as 3 */
    hnp_hns_endpoints_free(eps, n);
    assert_int_equal(calls_of(fx, "list"), 1);
    assert_int_equal(calls_of(fx, "query"), 0);
}

static void test_get_endpoint(void **state)
{
    struct hnp_test_mock *fx = *state;
    hnp_test_mock_write(fx, two_endpoints);
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    struct hnp_hns_endpoint ep;
    struct hnp_error err = {0};

    /* IDs compare ignoring case; the ID comes back as HNS spells it */
    char lower[64];
    snprintf(lower, sizeof(lower), "%s", EP_A);
    for (char *p = lower; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    assert_int_equal(hns->ops->get_endpoint(hns, lower, &ep, &err), HNP_OK);
    assert_string_equal(ep.id, EP_A);
    assert_string_equal(ep.name, "a");
    assert_int_equal(ep.n_ips, 1);
    assert_int_equal(ep.ips[0], 0x0A000005);
    assert_int_equal(json_array_size(ep.policies), 1);
    hnp_hns_endpoint_clear(&ep);

    /* "Id" spelling, upper-case query */
    assert_int_equal(hns->ops->get_endpoint(hns, "8A3C0D0E-0000-4000-8000-00000000000B", &ep, &err),
                     HNP_OK);
    assert_string_equal(ep.id, EP_B);
    hnp_hns_endpoint_clear(&ep);

    /* a detached endpoint can still be opened, as with HcnOpenEndpoint */
    hnp_test_mock_write(fx, "{\"endpoints\":[{\"ID\":\"gone-soon\",\"State\":4}]}");
    assert_int_equal(hns->ops->get_endpoint(hns, "GONE-SOON", &ep, &err), HNP_OK);
    hnp_hns_endpoint_clear(&ep);

    /* not found */
    memset(&ep, 0x5A, sizeof(ep));
    assert_int_equal(hns->ops->get_endpoint(hns, "nope", &ep, &err), HNP_ERR_NOT_FOUND);
    assert_int_equal(err.code, HNP_HCN_ENDPOINT_NOT_FOUND);
    assert_non_null(strstr(err.message, "nope"));
    assert_non_null(strstr(err.message, "0x803B0002"));
    /* counted since the file was rewritten above */
    assert_int_equal(calls_of(fx, "query"), 2);
}

/* ------------------------------------------------------------------------ */
/* Modify                                                                   */

static void test_update_keeps_foreign(void **state)
{
    struct hnp_test_mock *fx = *state;
    hnp_test_mock_write(fx, "{\"endpoints\":[{\"ID\":\"" EP_A "\",\"Policies\":[" NAT "," ACL_IN
                            ",{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"azure-65500\",\"Action\":"
                            "\"Allow\",\"Direction\":\"In\",\"Priority\":65500}}]}]}");
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    struct hnp_error err = {0};
    struct hnp_hns_endpoint ep;
    assert_int_equal(hns->ops->get_endpoint(hns, EP_A, &ep, &err), HNP_OK);

    /* the agent's way: foreign first and unchanged, then the complete new set */
    struct hnp_acl_list ours;
    hnp_acl_list_init(&ours);
    json_t *foreign = hnp_hns_split_policies(ep.policies, &ours);
    assert_non_null(foreign);
    assert_int_equal(json_array_size(foreign), 2);
    assert_int_equal(ours.count, 1);
    hnp_acl_list_free(&ours);
    json_t *block = hnp_test_json(ACL_BLOCK);
    struct hnp_acl acl;
    assert_int_equal(hnp_acl_from_json(block, &acl, NULL), HNP_OK);
    assert_int_equal(hnp_acl_list_push(&ours, &acl), HNP_OK);
    json_t *request = hnp_acl_list_request(&ours, foreign);
    assert_non_null(request);

    assert_int_equal(
        hns->ops->modify_endpoint(hns, "8a3c0d0e-0000-4000-8000-00000000000a", request, &err),
        HNP_OK);
    json_t *stored = stored_policies(fx, EP_A);
    /* exactly what was sent: NAT, azure's ACL, then ours (the old one is gone) */
    assert_true(
        json_equal(stored, json_object_get(json_object_get(request, "Settings"), "Policies")));
    json_t *nat = hnp_test_json(NAT);
    assert_true(json_equal(json_array_get(stored, 0), nat));
    assert_int_equal(json_array_size(stored), 3);
    assert_true(json_equal(json_array_get(stored, 2), block));
    assert_int_equal(calls_of(fx, "modify"), 1);

    json_decref(nat);
    json_decref(stored);
    json_decref(request);
    json_decref(block);
    json_decref(foreign);
    hnp_acl_list_free(&ours);
    hnp_hns_endpoint_clear(&ep);
}

static void test_add_remove_refresh(void **state)
{
    struct hnp_test_mock *fx = *state;
    hnp_test_mock_write(fx, two_endpoints);
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    struct hnp_error err = {0};

    static const struct {
        const char *id, *type, *policies;
        enum hnp_err rc;
        const char *stored; /* the endpoint's Policies after the request */
    } steps[] = {
        {EP_A, "Add", "[" ACL_IN "," ACL_BLOCK "]", HNP_OK, "[" NAT "," ACL_IN "," ACL_BLOCK "]"},
        /* Remove by equality */
        {EP_A, "Remove", "[" ACL_IN "]", HNP_OK, "[" NAT "," ACL_BLOCK "]"},
        /* Remove of a policy that is not there: 0x803B0008, nothing changes */
        {EP_A, "Remove", "[" ACL_BLOCK "," ACL_IN "]", HNP_ERR_HNS, "[" NAT "," ACL_BLOCK "]"},
        /* Refresh: accepted, no change */
        {EP_A, "Refresh", "[]", HNP_OK, "[" NAT "," ACL_BLOCK "]"},
        /* Update on an endpoint without Policies creates them; Update [] empties */
        {EP_B, "Update", "[" ACL_IN "]", HNP_OK, "[" ACL_IN "]"},
        {EP_B, "Update", "[]", HNP_OK, "[]"},
    };
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        json_t *req = update_request(steps[i].type, steps[i].policies);
        assert_int_equal(hns->ops->modify_endpoint(hns, steps[i].id, req, &err), steps[i].rc);
        json_decref(req);
        if (steps[i].rc != HNP_OK) {
            assert_int_equal(err.code, HNP_HCN_POLICY_NOT_FOUND);
            assert_string_equal(err.where, "Settings.Policies[1]");
        }
        json_t *stored = stored_policies(fx, steps[i].id);
        json_t *want = hnp_test_json(steps[i].stored);
        if (!json_equal(stored, want))
            fail_msg("step %zu: stored policies differ", i);
        json_decref(stored);
        json_decref(want);
    }

    assert_int_equal(calls_of(fx, "modify"), 6);
}

static void test_request_validation(void **state)
{
    struct hnp_test_mock *fx = *state;
    hnp_test_mock_write(fx, two_endpoints);
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    static const struct {
        const char *request;
        unsigned code;
        const char *where;
        const char *message;
    } cases[] = {
        {"[1]", HNP_HCN_INVALID_JSON, "", "object"},
        {"{\"RequestType\":\"Update\",\"Settings\":{\"Policies\":[]}}", HNP_HCN_REQUEST_UNSUPPORTED,
         "ResourceType", "ResourceType"},
        {"{\"ResourceType\":\"Endpoint\",\"RequestType\":\"Update\",\"Settings\":{\"Policies\":[]}"
         "}",
         HNP_HCN_REQUEST_UNSUPPORTED, "ResourceType", "Policy"},
        {"{\"ResourceType\":\"Policy\",\"RequestType\":\"Replace\",\"Settings\":{\"Policies\":[]}}",
         HNP_HCN_REQUEST_UNSUPPORTED, "RequestType", "RequestType"},
        {"{\"ResourceType\":\"Policy\",\"RequestType\":\"update\",\"Settings\":{\"Policies\":[]}}",
         HNP_HCN_REQUEST_UNSUPPORTED, "RequestType", "Update"},
        {"{\"ResourceType\":\"Policy\",\"RequestType\":\"Update\"}", HNP_HCN_INVALID_JSON,
         "Settings", "Settings"},
        {"{\"ResourceType\":\"Policy\",\"RequestType\":\"Update\",\"Settings\":"
         "\"{\\\"Policies\\\":[]}\"}",
         HNP_HCN_INVALID_JSON, "Settings", "not a string"},
        {"{\"ResourceType\":\"Policy\",\"RequestType\":\"Update\",\"Settings\":[]}",
         HNP_HCN_INVALID_JSON, "Settings", "object"},
        {"{\"ResourceType\":\"Policy\",\"RequestType\":\"Update\",\"Settings\":{}}",
         HNP_HCN_INVALID_JSON, "Settings.Policies", "array"},
        {"{\"ResourceType\":\"Policy\",\"RequestType\":\"Update\",\"Settings\":{\"Policies\":{}}}",
         HNP_HCN_INVALID_JSON, "Settings.Policies", "array"},
        {"{\"ResourceType\":\"Policy\",\"RequestType\":\"Update\",\"Settings\":{\"Policies\":["
         "\"ACL\"]}}",
         HNP_HCN_INVALID_POLICY, "Settings.Policies[0]", "object"},
        {"{\"ResourceType\":\"Policy\",\"RequestType\":\"Add\",\"Settings\":{\"Policies\":[" NAT
         ",{\"Settings\":{}}]}}",
         HNP_HCN_INVALID_POLICY, "Settings.Policies[1].Type", "Type is missing"},
        {"{\"ResourceType\":\"Policy\",\"RequestType\":\"Add\",\"Settings\":{\"Policies\":["
         "{\"Type\":7}]}}",
         HNP_HCN_INVALID_POLICY, "Settings.Policies[0].Type", "Type must be a string"},
        {"{\"ResourceType\":\"Policy\",\"RequestType\":\"Update\",\"Settings\":{\"Policies\":[" NAT
         "," ACL_IN ",{\"Type\":\"ACL\",\"Settings\":{\"ID\":\"hnp-x\",\"Action\":\"Allow\","
         "\"Direction\":\"In\"}}]}}",
         HNP_HCN_INVALID_POLICY, "Settings.Policies[2].Settings.ID", "\"Id\" not \"ID\""},
    };
    json_t *before = stored_policies(fx, EP_A);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *req = hnp_test_json(cases[i].request);
        struct hnp_error err = {0};
        enum hnp_err rc = hns->ops->modify_endpoint(hns, EP_A, req, &err);
        json_decref(req);
        if (rc != HNP_ERR_HNS || err.code != (long long)cases[i].code ||
            err.code_kind != HNP_CODE_HRESULT)
            fail_msg("case %zu: %s code 0x%llX (%s)", i, hnp_err_name(rc), err.code, err.message);
        if (strcmp(err.where, cases[i].where) != 0)
            fail_msg("case %zu: where \"%s\", expected \"%s\"", i, err.where, cases[i].where);
        if (strstr(err.message, cases[i].message) == NULL)
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err.message, cases[i].message);
    }
    /* nothing was changed by a refused request, but every call was counted */
    json_t *after = stored_policies(fx, EP_A);
    assert_true(json_equal(before, after));
    json_decref(before);
    json_decref(after);
    assert_int_equal(calls_of(fx, "modify"), (long long)(sizeof(cases) / sizeof(cases[0])));
}

/* Every ACL rule of tests/data/acl/validation.json, through the mock. */
static void test_policy_validation_data(void **state)
{
    struct hnp_test_mock *fx = *state;
    hnp_test_mock_write(fx, two_endpoints);
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    json_t *cases = hnp_test_json_file("acl/validation.json");

    const json_t *accept = json_object_get(cases, "accept");
    assert_true(json_array_size(accept) > 0);
    for (size_t i = 0; i < json_array_size(accept); i++) {
        const json_t *c = json_array_get(accept, i);
        json_t *req = json_pack("{s:s, s:s, s:{s:[O,O]}}", "ResourceType", "Policy", "RequestType",
                                "Update", "Settings", "Policies", json_object_get(c, "policy"),
                                json_object_get(c, "policy"));
        assert_non_null(req);
        struct hnp_error err = {0};
        if (hns->ops->modify_endpoint(hns, EP_A, req, &err) != HNP_OK)
            fail_msg("accept case \"%s\" refused: %s",
                     json_string_value(json_object_get(c, "name")), err.message);
        /* stored as given */
        json_t *stored = stored_policies(fx, EP_A);
        assert_true(
            json_equal(stored, json_object_get(json_object_get(req, "Settings"), "Policies")));
        json_decref(stored);
        json_decref(req);
    }

    json_t *before = stored_policies(fx, EP_A);
    const json_t *refuse = json_object_get(cases, "refuse");
    size_t refused = 0;
    assert_true(json_array_size(refuse) > 0);
    for (size_t i = 0; i < json_array_size(refuse); i++) {
        const json_t *c = json_array_get(refuse, i);
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *where = json_string_value(json_object_get(c, "where"));
        const char *message = json_string_value(json_object_get(c, "message"));
        const json_t *policy = json_object_get(c, "policy");
        /* the good policy first: one bad policy refuses the whole request */
        json_t *req = update_request("Update", "[" ACL_IN "]");
        json_array_append(json_object_get(json_object_get(req, "Settings"), "Policies"),
                          (json_t *)policy);
        struct hnp_error err = {0};
        enum hnp_err rc = hns->ops->modify_endpoint(hns, EP_A, req, &err);
        json_decref(req);
        const json_t *type = json_object_get(policy, "Type");
        if (json_is_string(type) && strcmp(json_string_value(type), "ACL") != 0) {
            /* another policy type: HNS stores it unchecked */
            if (rc != HNP_OK)
                fail_msg("case \"%s\": %s", name, err.message);
            json_decref(before);
            before = stored_policies(fx, EP_A);
            continue;
        }
        refused++;
        if (rc != HNP_ERR_HNS || err.code != HNP_HCN_INVALID_POLICY)
            fail_msg("refuse case \"%s\" gave %s code 0x%llX", name, hnp_err_name(rc), err.code);
        char full[256];
        if (where[0] != '\0')
            snprintf(full, sizeof(full), "Settings.Policies[1].%s", where);
        else
            snprintf(full, sizeof(full), "Settings.Policies[1]");
        if (strcmp(err.where, full) != 0)
            fail_msg("refuse case \"%s\": where \"%s\", expected \"%s\"", name, err.where, full);
        if (strstr(err.message, message) == NULL || strstr(err.message, full) == NULL)
            fail_msg("refuse case \"%s\": message \"%s\" lacks \"%s\" or \"%s\"", name, err.message,
                     message, full);
        if (strstr(err.message, "0x803B000D") == NULL)
            fail_msg("refuse case \"%s\": message \"%s\" lacks the code", name, err.message);
        json_t *after = stored_policies(fx, EP_A);
        if (!json_equal(before, after))
            fail_msg("refuse case \"%s\" changed the endpoint", name);
        json_decref(after);
    }
    assert_true(refused > 40);
    json_decref(before);
    json_decref(cases);
}

static void test_modify_not_found(void **state)
{
    struct hnp_test_mock *fx = *state;
    hnp_test_mock_write(fx, two_endpoints);
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    json_t *req = update_request("Update", "[" ACL_IN "]");
    struct hnp_error err = {0};
    assert_int_equal(hns->ops->modify_endpoint(hns, "no-such-endpoint", req, &err),
                     HNP_ERR_NOT_FOUND);
    assert_int_equal(err.code, HNP_HCN_ENDPOINT_NOT_FOUND);
    assert_non_null(strstr(err.message, "no-such-endpoint"));
    /* endpoint lookup comes before request validation, as HcnOpenEndpoint does */
    json_t *bad = hnp_test_json("{}");
    assert_int_equal(hns->ops->modify_endpoint(hns, "no-such-endpoint", bad, &err),
                     HNP_ERR_NOT_FOUND);
    json_decref(bad);
    json_decref(req);
    assert_int_equal(calls_of(fx, "modify"), 2);
}

/* ------------------------------------------------------------------------ */
/* Faults                                                                   */

static void test_fault_fail_counts_down(void **state)
{
    struct hnp_test_mock *fx = *state;
    hnp_test_mock_write(fx, "{\"endpoints\":[{\"ID\":\"" EP_A "\",\"Policies\":[]}],"
                            " \"faults\":{\"fail\":[{\"operation\":\"modify\",\"count\":2,"
                            "\"code\":2151350304},"
                            " {\"operation\":\"list\",\"count\":1,\"code\":\"0x803B0015\"}]}}");
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    json_t *req = update_request("Update", "[" ACL_IN "]");
    struct hnp_error err = {0};

    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, req, &err), HNP_ERR_HNS);
    assert_int_equal(err.code, HNP_HCN_MANAGER_STOPPED);
    assert_non_null(strstr(err.message, "0x803B0020"));
    json_t *st = hnp_test_mock_state(fx);
    json_t *fail = json_object_get(json_object_get(st, "faults"), "fail");
    assert_int_equal(json_array_size(fail), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(fail, 0), "count")), 1);
    json_decref(st);

    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, req, &err), HNP_ERR_HNS);
    assert_int_equal(err.code, HNP_HCN_MANAGER_STOPPED);
    st = hnp_test_mock_state(fx);
    fail = json_object_get(json_object_get(st, "faults"), "fail");
    assert_int_equal(json_array_size(fail), 1); /* spent, removed */
    assert_string_equal(json_string_value(json_object_get(json_array_get(fail, 0), "operation")),
                        "list");
    json_decref(st);
    json_t *stored = stored_policies(fx, EP_A);
    assert_int_equal(json_array_size(stored), 0); /* failed calls changed nothing */
    json_decref(stored);

    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, req, &err), HNP_OK);
    stored = stored_policies(fx, EP_A);
    assert_int_equal(json_array_size(stored), 1);
    json_decref(stored);
    assert_int_equal(calls_of(fx, "modify"), 3);

    /* list fails once with the code given as a hex string, then works */
    struct hnp_hns_endpoint *eps = NULL;
    size_t n = 0;
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_ERR_HNS);
    assert_int_equal(err.code, HNP_HCN_REQUEST_UNSUPPORTED);
    assert_null(eps);
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_OK);
    assert_int_equal(n, 1);
    hnp_hns_endpoints_free(eps, n);

    /* query: set through the tool, code as a signed HRESULT; 0x803B0002 reads as not found */
    assert_int_equal(cli(fx, NULL, "fault", "--operation", "query", "--fail", "1", "--code",
                         "-2143617022", NULL),
                     0);
    struct hnp_hns_endpoint ep;
    assert_int_equal(hns->ops->get_endpoint(hns, EP_A, &ep, &err), HNP_ERR_NOT_FOUND);
    assert_int_equal(err.code, HNP_HCN_ENDPOINT_NOT_FOUND);
    assert_int_equal(hns->ops->get_endpoint(hns, EP_A, &ep, &err), HNP_OK);
    hnp_hns_endpoint_clear(&ep);

    st = hnp_test_mock_state(fx);
    assert_int_equal(json_array_size(json_object_get(json_object_get(st, "faults"), "fail")), 0);
    json_decref(st);
    json_decref(req);
}

static void test_fault_vanish(void **state)
{
    struct hnp_test_mock *fx = *state;
    hnp_test_mock_write(fx, two_endpoints);
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    assert_int_equal(
        cli(fx, NULL, "fault", "--vanish", "8a3c0d0e-0000-4000-8000-00000000000A", NULL), 0);
    struct hnp_error err = {0};

    /* still there for list and query: it goes just before the next modify */
    struct hnp_hns_endpoint *eps = NULL;
    size_t n = 0;
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_OK);
    assert_int_equal(n, 2);
    hnp_hns_endpoints_free(eps, n);
    /* a modify of another endpoint does not trigger it */
    json_t *req = update_request("Update", "[" ACL_IN "]");
    assert_int_equal(hns->ops->modify_endpoint(hns, EP_B, req, &err), HNP_OK);

    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, req, &err), HNP_ERR_NOT_FOUND);
    assert_int_equal(err.code, HNP_HCN_ENDPOINT_NOT_FOUND);
    json_t *st = hnp_test_mock_state(fx);
    assert_null(hnp_hns_mock_find(st, EP_A, NULL));
    assert_non_null(hnp_hns_mock_find(st, EP_B, NULL));
    assert_int_equal(json_array_size(json_object_get(json_object_get(st, "faults"), "vanish")), 0);
    json_decref(st);

    struct hnp_hns_endpoint ep;
    assert_int_equal(hns->ops->get_endpoint(hns, EP_A, &ep, &err), HNP_ERR_NOT_FOUND);
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_OK);
    assert_int_equal(n, 1);
    hnp_hns_endpoints_free(eps, n);
    json_decref(req);
}

static void test_fault_latency(void **state)
{
    struct hnp_test_mock *fx = *state;
    hnp_test_mock_write(fx, "{\"endpoints\":[{\"ID\":\"" EP_A "\"}],"
                            " \"faults\":{\"latency_ms\":{\"modify\":60,\"list\":0}}}");
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    json_t *req = update_request("Update", "[]");
    struct hnp_error err = {0};
    double start = now_ms();
    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, req, &err), HNP_OK);
    assert_true(now_ms() - start >= 60.0);

    /* set through the tool for one operation */
    assert_int_equal(cli(fx, NULL, "fault", "--operation", "query", "--latency-ms", "40", NULL), 0);
    struct hnp_hns_endpoint ep;
    start = now_ms();
    assert_int_equal(hns->ops->get_endpoint(hns, EP_A, &ep, &err), HNP_OK);
    assert_true(now_ms() - start >= 40.0);
    hnp_hns_endpoint_clear(&ep);
    json_t *st = hnp_test_mock_state(fx);
    json_t *latency = json_object_get(json_object_get(st, "faults"), "latency_ms");
    assert_int_equal(json_integer_value(json_object_get(latency, "query")), 40);
    assert_int_equal(json_integer_value(json_object_get(latency, "modify")), 60);
    json_decref(st);

    /* without --operation: every operation */
    assert_int_equal(cli(fx, NULL, "fault", "--latency-ms", "30", NULL), 0);
    start = now_ms();
    struct hnp_hns_endpoint *eps = NULL;
    size_t n = 0;
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_OK);
    assert_true(now_ms() - start >= 30.0);
    hnp_hns_endpoints_free(eps, n);
    json_decref(req);
}

/* ------------------------------------------------------------------------ */
/* Counting, atomic writes, corrupt files                                   */

static void test_call_counting(void **state)
{
    struct hnp_test_mock *fx = *state;
    hnp_test_mock_write(fx, two_endpoints);
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    struct hnp_error err = {0};
    struct hnp_hns_endpoint *eps;
    size_t n;
    struct hnp_hns_endpoint ep;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_OK);
        hnp_hns_endpoints_free(eps, n);
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hns->ops->get_endpoint(hns, EP_B, &ep, &err), HNP_OK);
        hnp_hns_endpoint_clear(&ep);
    }
    assert_int_equal(hns->ops->get_endpoint(hns, "missing", &ep, &err), HNP_ERR_NOT_FOUND);
    json_t *req = update_request("Update", "[]");
    assert_int_equal(hns->ops->modify_endpoint(hns, EP_B, req, &err), HNP_OK);
    json_decref(req);

    char *out = NULL;
    assert_int_equal(cli(fx, &out, "calls", NULL), 0);
    assert_string_equal(out, "list 2\nquery 4\nmodify 1\n");
    free(out);

    assert_int_equal(cli(fx, NULL, "reset-calls", NULL), 0);
    assert_int_equal(cli(fx, &out, "calls", NULL), 0);
    assert_string_equal(out, "list 0\nquery 0\nmodify 0\n");
    free(out);
    /* the tool itself is not counted */
    assert_int_equal(calls_of(fx, "list"), 0);

    /* a count at the top of the range stays there, without overflow */
    hnp_test_mock_write(fx, "{\"calls\":{\"list\":9223372036854775807}}");
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_OK);
    assert_int_equal(calls_of(fx, "list"), 9223372036854775807LL);
}

static void test_atomic_write(void **state)
{
    struct hnp_test_mock *fx = *state;
    hnp_test_mock_write(fx, two_endpoints);
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    struct hnp_error err = {0};
    json_t *req = update_request("Update", "[" NAT "," ACL_IN "]");
    for (int i = 0; i < 20; i++)
        assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, req, &err), HNP_OK);
    json_decref(req);
    assert_int_equal(cli(fx, NULL, "add-endpoint", "--id", "x", "--ip", "10.0.0.9", NULL), 0);

    /* only the state and its lock file: no temporary file left behind */
    DIR *d = opendir(fx->dir);
    assert_non_null(d);
    struct dirent *e;
    size_t files = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        files++;
        if (strcmp(e->d_name, "state.json") != 0 && strcmp(e->d_name, "state.json.lock") != 0)
            fail_msg("unexpected file %s", e->d_name);
    }
    closedir(d);
    assert_int_equal(files, 2);
    /* the file written is complete JSON, ending in a newline */
    size_t len;
    char *text = hnp_test_read_file(fx->path, &len);
    assert_true(len > 0 && text[len - 1] == '\n');
    json_decref(hnp_test_json(text));
    free(text);
}

static void test_corrupt_state(void **state)
{
    struct hnp_test_mock *fx = *state;
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"{\"endpoints\": [", "not valid JSON"},
        {"[]", "top level"},
        {"{\"endpoints\": 5}", "endpoints"},
        {"{\"endpoints\": [7]}", "endpoints[0]"},
        {"{\"endpoints\": [{\"Name\": \"no id\"}]}", "ID"},
        {"{\"endpoints\": [{\"ID\": \"a\", \"State\": \"Attached\"}]}", "State"},
        {"{\"endpoints\": [{\"ID\": \"a\", \"Policies\": {}}]}", "Policies"},
        {"{\"endpoints\": [{\"ID\": \"a\", \"IpConfigurations\": [{\"IpAddress\": 5}]}]}",
         "IpAddress"},
        {"{\"calls\": {\"modify\": \"many\"}}", "calls"},
        {"{\"faults\": {\"fial\": []}}", "fial"},
        {"{\"faults\": {\"fail\": [{\"operation\": \"delete\", \"count\": 1, \"code\": 1}]}}",
         "operation"},
        {"{\"faults\": {\"fail\": [{\"operation\": \"list\", \"count\": 1, \"code\": \"x\"}]}}",
         "code"},
        {"{\"faults\": {\"fail\": [{\"operation\": \"list\", \"count\": -1, \"code\": 1}]}}",
         "count"},
        {"{\"faults\": {\"latency_ms\": {\"modify\": -5}}}", "latency_ms"},
        {"{\"faults\": {\"vanish\": [1]}}", "vanish"},
        {"{\"endpoints\": [], \"endpoints\": []}", "not valid JSON"},
    };
    hnp_test_mock_write(fx, "{}");
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    json_t *req = update_request("Update", "[]");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        hnp_test_mock_write(fx, cases[i].text);
        struct hnp_error err = {0};
        struct hnp_hns_endpoint *eps = (void *)1;
        size_t n = 42;
        enum hnp_err rc = hns->ops->list_endpoints(hns, &eps, &n, &err);
        if (rc != HNP_ERR_HNS)
            fail_msg("case %zu gave %s", i, hnp_err_name(rc));
        assert_ptr_equal(eps, (void *)1); /* outputs untouched */
        assert_int_equal(n, 42);
        if (strstr(err.message, cases[i].message) == NULL || strstr(err.message, fx->path) == NULL)
            fail_msg("case %zu: message \"%s\" lacks \"%s\" or the path", i, err.message,
                     cases[i].message);
        struct hnp_hns_endpoint ep;
        assert_int_equal(hns->ops->get_endpoint(hns, "a", &ep, &err), HNP_ERR_HNS);
        assert_int_equal(hns->ops->modify_endpoint(hns, "a", req, &err), HNP_ERR_HNS);
        /* the tool refuses it too, and nobody rewrote the file */
        assert_int_equal(cli(fx, NULL, "show", NULL), 2);
        char *text = hnp_test_read_file(fx->path, NULL);
        assert_string_equal(text, cases[i].text);
        free(text);
    }
    json_decref(req);

    /* opening a corrupt file fails at once */
    hnp_test_mock_write(fx, "nonsense");
    struct hnp_hns *other = NULL;
    char spec[600];
    snprintf(spec, sizeof(spec), "mock:%s", fx->path);
    struct hnp_error err = {0};
    assert_int_equal(hnp_hns_open(spec, &other, &err), HNP_ERR_HNS);
    assert_null(other);
}

/* ------------------------------------------------------------------------ */
/* The hns-mock tool                                                        */

static void test_cli_endpoints(void **state)
{
    struct hnp_test_mock *fx = *state;
    assert_int_equal(cli(fx, NULL, "add-endpoint", "--id", EP_A, "--ip", "10.0.0.5/16", "--name",
                         "server", "--policy", NAT, "--policy",
                         "{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"other\"}}", NULL),
                     0);
    assert_int_equal(cli(fx, NULL, "add-endpoint", "--id=" EP_B, "--ip", "10.0.0.6", "--ip",
                         "10.0.1.6", "--state", "4", NULL),
                     0);
    /* the same ID in another case already exists */
    assert_int_equal(cli(fx, NULL, "add-endpoint", "--id", "8a3c0d0e-0000-4000-8000-00000000000a",
                         "--ip", "10.0.0.7", NULL),
                     1);

    char *out = NULL;
    assert_int_equal(cli(fx, &out, "show", NULL), 0);
    json_t *shown = hnp_test_json(out);
    free(out);
    json_t *want = hnp_test_json(
        "{\"endpoints\":["
        " {\"ID\":\"" EP_A "\",\"Name\":\"server\",\"State\":3,"
        "  \"IpConfigurations\":[{\"IpAddress\":\"10.0.0.5\",\"PrefixLength\":16}],"
        "  \"Policies\":[" NAT ",{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"other\"}}]},"
        " {\"ID\":\"" EP_B "\",\"State\":4,"
        "  \"IpConfigurations\":[{\"IpAddress\":\"10.0.0.6\",\"PrefixLength\":24},"
        "                        {\"IpAddress\":\"10.0.1.6\",\"PrefixLength\":24}],"
        "  \"Policies\":[]}],"
        " \"calls\":{\"list\":0,\"query\":0,\"modify\":0},\"faults\":{}}");
    assert_true(json_equal(shown, want));
    json_decref(shown);
    json_decref(want);

    /* the backend sees them: B is detached, so only A is local */
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    struct hnp_hns_endpoint *eps = NULL;
    size_t n = 0;
    struct hnp_error err = {0};
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &n, &err), HNP_OK);
    assert_int_equal(n, 1);
    assert_string_equal(eps[0].id, EP_A);
    assert_int_equal(eps[0].ips[0], 0x0A000005);
    hnp_hns_endpoints_free(eps, n);

    assert_int_equal(cli(fx, NULL, "remove-endpoint", "--id", EP_B, NULL), 0);
    assert_int_equal(cli(fx, NULL, "remove-endpoint", "--id", EP_B, NULL), 1);
    json_t *st = hnp_test_mock_state(fx);
    assert_int_equal(json_array_size(json_object_get(st, "endpoints")), 1);
    json_decref(st);
}

static void test_cli_acls_and_drift(void **state)
{
    struct hnp_test_mock *fx = *state;
    assert_int_equal(
        cli(fx, NULL, "add-endpoint", "--id", EP_A, "--ip", "10.0.0.5", "--policy", NAT, NULL), 0);
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    json_t *req = update_request("Update", "[" NAT "," ACL_IN "," ACL_BLOCK "]");
    struct hnp_error err = {0};
    assert_int_equal(hns->ops->modify_endpoint(hns, EP_A, req, &err), HNP_OK);
    json_decref(req);

    char *out = NULL;
    assert_int_equal(cli(fx, &out, "acls", "--id", EP_A, NULL), 0);
    json_t *acls = hnp_test_json(out);
    free(out);
    json_t *want = hnp_test_json("[" ACL_IN "," ACL_BLOCK "]");
    assert_true(json_equal(acls, want));
    json_decref(acls);
    json_decref(want);
    assert_int_equal(cli(fx, NULL, "acls", "--id", "missing", NULL), 1);

    /* drift: someone deletes our Allow; set-policies stores anything, unchecked */
    assert_int_equal(cli(fx, NULL, "set-policies", "--id", EP_A, "--json",
                         "[" NAT "," ACL_BLOCK ",{\"Type\":\"ACL\",\"Settings\":{\"ID\":1}}]",
                         NULL),
                     0);
    json_t *stored = stored_policies(fx, EP_A);
    assert_int_equal(json_array_size(stored), 3);
    json_decref(stored);
    assert_int_equal(cli(fx, &out, "acls", "--id", EP_A, NULL), 0);
    acls = hnp_test_json(out);
    free(out);
    want = hnp_test_json("[" ACL_BLOCK "]");
    assert_true(json_equal(acls, want));
    json_decref(acls);
    json_decref(want);
    assert_int_equal(cli(fx, NULL, "set-policies", "--id", EP_A, "--json", "[]", NULL), 0);
    stored = stored_policies(fx, EP_A);
    assert_int_equal(json_array_size(stored), 0);
    json_decref(stored);
    assert_int_equal(cli(fx, NULL, "set-policies", "--id", "missing", "--json", "[]", NULL), 1);
}

static void test_cli_faults(void **state)
{
    struct hnp_test_mock *fx = *state;
    assert_int_equal(cli(fx, NULL, "fault", "--operation", "modify", "--fail", "3", "--code",
                         "0x803B0020", "--vanish", EP_A, NULL),
                     0);
    assert_int_equal(cli(fx, NULL, "fault", "--operation", "modify", "--latency-ms", "50", NULL),
                     0);
    json_t *st = hnp_test_mock_state(fx);
    json_t *want = hnp_test_json("{\"fail\":[{\"operation\":\"modify\",\"count\":3,"
                                 "\"code\":2151350304}],\"vanish\":[\"" EP_A "\"],"
                                 "\"latency_ms\":{\"modify\":50}}");
    assert_true(json_equal(json_object_get(st, "faults"), want));
    json_decref(want);
    json_decref(st);

    assert_int_equal(cli(fx, NULL, "clear-faults", NULL), 0);
    st = hnp_test_mock_state(fx);
    assert_int_equal(json_object_size(json_object_get(st, "faults")), 0);
    json_decref(st);
}

static void test_cli_usage(void **state)
{
    struct hnp_test_mock *fx = *state;
    static const char *const bad[][8] = {
        {"frobnicate"},
        {"add-endpoint", "--ip", "10.0.0.1"},
        {"add-endpoint", "--id", "x"},
        {"add-endpoint", "--id", "x", "--ip", "10.0.0.256"},
        {"add-endpoint", "--id", "x", "--ip", "10.0.0.1/33"},
        {"add-endpoint", "--id", "x", "--ip", "10.0.0.1", "--policy", "{not json"},
        {"add-endpoint", "--id", "x", "--ip", "10.0.0.1", "--policy", "[]"},
        {"add-endpoint", "--id", "x", "--ip", "10.0.0.1", "--state", "9"},
        {"add-endpoint", "--id", "x", "--id", "y", "--ip", "10.0.0.1"},
        {"remove-endpoint"},
        {"remove-endpoint", "--id"},
        {"remove-endpoint", "--id", "x", "--ip", "10.0.0.1"},
        {"show", "--id", "x"},
        {"fault"},
        {"fault", "--fail", "2", "--code", "1"},
        {"fault", "--operation", "modify", "--fail", "2"},
        {"fault", "--operation", "delete", "--fail", "2", "--code", "1"},
        {"fault", "--operation", "modify", "--fail", "0", "--code", "1"},
        {"fault", "--operation", "modify", "--fail", "1", "--code", "0x1FFFFFFFF"},
        {"fault", "--operation", "modify"},
        {"fault", "--latency-ms", "-1"},
        {"set-policies", "--id", "x", "--json", "{}"},
        {"set-policies", "--id", "x"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *argv[12] = {(char *)"hns-mock", fx->path};
        int argc = 2;
        for (size_t k = 0; k < 8 && bad[i][k] != NULL; k++)
            argv[argc++] = (char *)bad[i][k];
        FILE *null = tmpfile();
        assert_non_null(null);
        int rc = hnp_cli_mock_main(argc, argv, null, null);
        fclose(null);
        if (rc != 2)
            fail_msg("case %zu (%s) gave %d", i, bad[i][0], rc);
    }
    /* usage errors never touch the file */
    assert_int_equal(access(fx->path, F_OK), -1);

    char *argv[] = {(char *)"hns-mock", NULL};
    FILE *null = tmpfile();
    assert_int_equal(hnp_cli_mock_main(1, argv, null, null), 2);
    fclose(null);
}

static void test_cli_help(void **state)
{
    struct hnp_test_mock *fx = *state;
    size_t len = 0;
    FILE *out = tmpfile();
    assert_non_null(out);
    char *argv[] = {(char *)"hns-mock", (char *)"--help", NULL};
    assert_int_equal(hnp_cli_mock_main(2, argv, out, stderr), 0);
    char *text = slurp(out, &len);
    assert_non_null(strstr(text, "add-endpoint"));
    assert_non_null(strstr(text, "set-policies"));
    assert_non_null(strstr(text, "Exit codes"));
    free(text);

    static const char *const commands[] = {"add-endpoint", "remove-endpoint", "show",
                                           "acls",         "calls",           "reset-calls",
                                           "fault",        "clear-faults",    "set-policies"};
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        char *help = NULL;
        assert_int_equal(cli(fx, &help, commands[i], "--help", NULL), 0);
        char usage[128];
        snprintf(usage, sizeof(usage), "hns-mock STATE %s", commands[i]);
        if (strstr(help, usage) == NULL)
            fail_msg("%s --help lacks \"%s\"", commands[i], usage);
        free(help);
    }
}

/* ------------------------------------------------------------------------ */
/* Concurrent editing                                                       */

#define PARENT_MODIFIES 200

struct hammer_thread {
    const char *path;
    int rc;
};

static void *hammer_main(void *arg)
{
    struct hammer_thread *h = arg;
    h->rc = hnp_test_mock_hammer(h->path);
    return NULL;
}

/*
 * The tool in another thread edits the file while the backend modifies an
 * endpoint: each call takes the lock on its own descriptor (handle), so no
 * update is lost. On Windows this is LockFileEx between two handles.
 */
static void test_concurrent_edits(void **state)
{
    struct hnp_test_mock *fx = *state;
    hnp_test_mock_write(fx, "{\"endpoints\":[{\"ID\":\"stable\",\"Policies\":[" NAT "]}]}");
    struct hnp_hns *hns = hnp_test_mock_open(fx);

    struct hammer_thread h = {.path = fx->path, .rc = -1};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, hammer_main, &h), 0);

    char last[512] = "";
    int failures = 0;
    for (int i = 0; i < PARENT_MODIFIES; i++) {
        snprintf(last, sizeof(last),
                 "[" NAT ",{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"hnp-%d\",\"Action\":\"Allow\","
                 "\"Direction\":\"In\",\"Priority\":%d}}]",
                 i, 1000 + i);
        json_t *req = update_request("Update", last);
        struct hnp_error err = {0};
        if (hns->ops->modify_endpoint(hns, "STABLE", req, &err) != HNP_OK)
            failures++;
        json_decref(req);
    }
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(h.rc, 0);
    assert_int_equal(failures, 0);

    /* valid JSON, every call counted, the other editor's endpoints all accounted for */
    json_t *st = hnp_test_mock_state(fx);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "calls"), "modify")),
                     PARENT_MODIFIES);
    const json_t *endpoints = json_object_get(st, "endpoints");
    assert_int_equal(json_array_size(endpoints), 2);
    assert_non_null(hnp_hns_mock_find(st, "stable", NULL));
    assert_non_null(hnp_hns_mock_find(st, "child-final", NULL));
    json_t *want = hnp_test_json(last);
    assert_true(
        json_equal(json_object_get(hnp_hns_mock_find(st, "stable", NULL), "Policies"), want));
    json_decref(want);
    json_decref(st);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, hnp_test_mock_setup, hnp_test_mock_teardown)
    const struct CMUnitTest tests[] = {
        T(test_missing_file_is_empty),
        T(test_list_filters_state),
        T(test_get_endpoint),
        T(test_update_keeps_foreign),
        T(test_add_remove_refresh),
        T(test_request_validation),
        T(test_policy_validation_data),
        T(test_modify_not_found),
        T(test_fault_fail_counts_down),
        T(test_fault_vanish),
        T(test_fault_latency),
        T(test_call_counting),
        T(test_atomic_write),
        T(test_corrupt_state),
        T(test_cli_endpoints),
        T(test_cli_acls_and_drift),
        T(test_cli_faults),
        T(test_cli_usage),
        T(test_cli_help),
        T(test_concurrent_edits),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
