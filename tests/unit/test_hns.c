/*
 * test_hns.c - unit tests for hns.c: opening backends by spec (mock, hcn off
 * Windows, bad specs), closing, freeing endpoints, and splitting an
 * endpoint's policies into foreign ones and our ACLs.
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hnsnetpol/acl.h"
#include "hns.h"
#include "registry.h"
#include "hns_hcn.h"
#include "mock.h"
#include "platform.h"

/* ------------------------------------------------------------------------ */
/* Opening                                                                  */

static void test_open_mock(void **state)
{
    char *dir = NULL;
    assert_int_equal(hnp_make_temp_dir("hnp-test-hns", &dir, NULL), HNP_OK);
    char path[512], lock[560], spec[560];
    snprintf(path, sizeof(path), "%s/state.json", dir);
    snprintf(lock, sizeof(lock), "%s.lock", path);
    snprintf(spec, sizeof(spec), "mock:%s", path);

    struct hnp_hns *hns = NULL;
    struct hnp_error err = {0};
    assert_int_equal(hnp_hns_open(spec, &hns, &err), HNP_OK);
    assert_non_null(hns);
    assert_non_null(hns->ops);
    assert_string_equal(hns->ops->name, "mock");
    /* opening creates the state file */
    assert_int_equal(access(path, F_OK), 0);

    struct hnp_hns_endpoint *eps = (void *)1;
    size_t count = 99;
    assert_int_equal(hns->ops->list_endpoints(hns, &eps, &count, &err), HNP_OK);
    assert_int_equal(count, 0);
    assert_null(eps);
    hnp_hns_close(hns);

    assert_int_equal(unlink(path), 0);
    assert_int_equal(unlink(lock), 0);
    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

static void test_open_hcn_unsupported(void **state)
{
    /*
     * Without Windows there is no HCN: the error says what to use instead.
     * In the Windows build the backend opens when computenetwork.dll is
     * there (tests/win covers it) and otherwise names the missing DLL.
     */
    struct hnp_hns *hns = NULL;
    struct hnp_error err = {0};
    enum hnp_err rc = hnp_hns_open("hcn", &hns, &err);
    if (rc == HNP_OK) {
        assert_non_null(hns);
        assert_string_equal(hns->ops->name, "hcn");
        hnp_hns_close(hns);
        return;
    }
    assert_int_equal(rc, HNP_ERR_UNSUPPORTED);
    assert_null(hns);
    assert_non_null(strstr(err.message, "computenetwork.dll"));
}

static void test_open_bad_specs(void **state)
{
    static const char *const specs[] = {"", "mock:", "mock", "hcn:", "HCN", "fake:/tmp/x"};
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        struct hnp_hns *hns = NULL;
        struct hnp_error err = {0};
        enum hnp_err rc = hnp_hns_open(specs[i], &hns, &err);
        if (rc != HNP_ERR_USAGE)
            fail_msg("spec \"%s\" gave %s", specs[i], hnp_err_name(rc));
        assert_null(hns);
        assert_true(err.message[0] != '\0');
    }
    struct hnp_hns *hns = NULL;
    assert_int_equal(hnp_hns_open(NULL, &hns, NULL), HNP_ERR_USAGE);
    assert_null(hns);
    /* unknown specs are quoted back */
    struct hnp_error err = {0};
    assert_int_equal(hnp_hns_open("fake:/tmp/x", &hns, &err), HNP_ERR_USAGE);
    assert_non_null(strstr(err.message, "fake:/tmp/x"));
}

/* The registry of backend classes and the spec that names one. */
static void test_classes_and_specs(void **state)
{
    assert_ptr_equal(hnp_hns_class_find("mock"), &hnp_hns_mock_class);
    assert_ptr_equal(hnp_hns_class_find("hcn"), &hnp_hns_hcn_class);
    assert_null(hnp_hns_class_find("fake"));
    assert_null(hnp_hns_class_find("HCN"));
    assert_null(hnp_hns_class_find(NULL));
    assert_true(hnp_hns_mock_class.takes_arg);
    assert_false(hnp_hns_hcn_class.takes_arg);
    assert_non_null(hnp_hns_mock_class.help);
    assert_non_null(hnp_hns_hcn_class.help);

    const struct hnp_hns_class *cls = NULL;
    const char *arg = "untouched";
    const char *spec = "mock:/tmp/state:with:colons.json";
    assert_int_equal(hnp_hns_parse_spec(spec, &cls, &arg, NULL), HNP_OK);
    assert_ptr_equal(cls, &hnp_hns_mock_class);
    assert_ptr_equal(arg, spec + 5); /* inside spec, not a copy */
    assert_int_equal(hnp_hns_parse_spec("hcn", &cls, &arg, NULL), HNP_OK);
    assert_ptr_equal(cls, &hnp_hns_hcn_class);
    assert_null(arg);

    /* Bad specs: the messages --hns gives, outputs untouched. */
    struct {
        const char *spec, *message;
    } bad[] = {
        {"", "no HNS backend given: use \"mock:PATH\" or \"hcn\""},
        {"mock:", "\"mock:\" needs the path of the state file, as in \"mock:/tmp/hns.json\""},
        {"mock", "unknown HNS backend \"mock\": use \"mock:PATH\" or \"hcn\""},
        {"hcn:x", "unknown HNS backend \"hcn:x\": use \"mock:PATH\" or \"hcn\""},
        {"fake:/tmp/x", "unknown HNS backend \"fake:/tmp/x\": use \"mock:PATH\" or \"hcn\""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hnp_error err = {0};
        cls = NULL;
        arg = "untouched";
        assert_int_equal(hnp_hns_parse_spec(bad[i].spec, &cls, &arg, &err), HNP_ERR_USAGE);
        assert_null(cls);
        assert_string_equal(arg, "untouched");
        assert_string_equal(err.where, "--hns");
        assert_string_equal(err.message, bad[i].message);
    }
    assert_int_equal(hnp_hns_parse_spec(NULL, &cls, &arg, NULL), HNP_ERR_USAGE);

    /* A class opens with its argument. */
    struct hnp_hns *hns = NULL;
    struct hnp_error err = {0};
    assert_int_equal(hnp_hns_mock_class.open("/nonexistent-dir-hnp/state.json", &hns, &err),
                     HNP_ERR_IO);
    assert_null(hns);
}

static void test_open_unwritable_path(void **state)
{
    struct hnp_hns *hns = NULL;
    struct hnp_error err = {0};
    enum hnp_err rc = hnp_hns_open("mock:/nonexistent-dir-hnp/state.json", &hns, &err);
    assert_int_equal(rc, HNP_ERR_IO);
    assert_null(hns);
    assert_non_null(strstr(err.message, "/nonexistent-dir-hnp/state.json"));
}

static void test_close_null(void **state)
{
    hnp_hns_close(NULL);
    hnp_hns_endpoint_clear(NULL);
    hnp_hns_endpoints_free(NULL, 3);

    struct hnp_hns_endpoint ep = {0};
    ep.id = malloc(4);
    assert_non_null(ep.id);
    snprintf(ep.id, 4, "abc");
    ep.policies = json_array();
    ep.n_ips = 1;
    hnp_hns_endpoint_clear(&ep);
    assert_null(ep.id);
    assert_null(ep.policies);
    assert_int_equal(ep.n_ips, 0);

    struct hnp_hns_endpoint *eps = calloc(2, sizeof(*eps));
    assert_non_null(eps);
    eps[1].name = malloc(2);
    eps[1].policies = json_array();
    hnp_hns_endpoints_free(eps, 2); /* no leak under ASan / valgrind */
}

/* ------------------------------------------------------------------------ */
/* Splitting policies                                                       */

static void test_split_policies(void **state)
{
    json_t *policies = hnp_test_json(
        "["
        " {\"Type\":\"OutBoundNAT\",\"Settings\":{\"Exceptions\":[\"10.0.0.0/8\"]}},"
        " {\"Type\":\"ACL\",\"Settings\":{\"Id\":\"hnp-in-1\",\"Action\":\"Allow\","
        "  \"Direction\":\"In\",\"Protocols\":\"6\",\"LocalPorts\":\"80\",\"Priority\":1000}},"
        " {\"Type\":\"ACL\",\"Settings\":{\"Id\":\"azure-allow\",\"Action\":\"Allow\","
        "  \"Direction\":\"In\",\"Priority\":65500}},"
        " {\"Type\":\"ACL\",\"Settings\":{\"Id\":\"hnp-bad\",\"Action\":\"Allow\","
        "  \"Direction\":\"In\",\"Protocols\":\"Any\"}},"
        " {\"Type\":\"ACL\",\"Settings\":{\"Action\":\"Block\",\"Direction\":\"Out\"}},"
        " {\"Type\":\"ACL\",\"Settings\":{\"Id\":5,\"Action\":\"Block\",\"Direction\":\"Out\"}},"
        " {\"Type\":\"ACL\",\"Settings\":{\"ID\":\"hnp-case\",\"Action\":\"Allow\","
        "  \"Direction\":\"In\"}},"
        " {\"Type\":\"SDNRoute\",\"Settings\":{\"Id\":\"hnp-not-an-acl\"}},"
        " \"not an object\","
        " {\"Type\":\"ACL\",\"Settings\":\"{\\\"Id\\\":\\\"hnp-text\\\"}\"},"
        " {\"Type\":\"ACL\",\"Settings\":{\"Id\":\"hnp-out-9\",\"Action\":\"Block\","
        "  \"Direction\":\"Out\",\"Priority\":65000}}"
        "]");

    struct hnp_acl_list ours;
    hnp_acl_list_init(&ours);
    /* a caller's ACL already in the list stays first */
    struct hnp_acl pre;
    memset(&pre, 0, sizeof(pre));
    strcpy(pre.id, "hnp-pre");
    assert_int_equal(hnp_acl_list_push(&ours, &pre), HNP_OK);

    json_t *foreign = hnp_hns_split_policies(policies, &ours);
    assert_non_null(foreign);

    /* ours: hnp-in-1 and hnp-out-9 parsed, in order; hnp-bad (refused "Any")
     * and hnp-case (spelled ID, which HNS refuses) are ours but dropped */
    assert_int_equal(ours.count, 3);
    assert_string_equal(ours.items[0].id, "hnp-pre");
    assert_string_equal(ours.items[1].id, "hnp-in-1");
    assert_int_equal(ours.items[1].protocol, 6);
    assert_int_equal(ours.items[1].priority, 1000);
    assert_int_equal(ours.items[1].n_local_ports, 1);
    assert_string_equal(ours.items[2].id, "hnp-out-9");
    assert_int_equal(ours.items[2].action, HNP_ACL_BLOCK);
    assert_int_equal(ours.items[2].direction, HNP_ACL_OUT);

    /* foreign: everything else, same objects, same order */
    static const size_t kept[] = {0, 2, 4, 5, 7, 8, 9};
    assert_int_equal(json_array_size(foreign), sizeof(kept) / sizeof(kept[0]));
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        assert_ptr_equal(json_array_get(foreign, i), json_array_get(policies, kept[i]));

    json_decref(foreign);
    hnp_acl_list_free(&ours);
    json_decref(policies);
}

static void test_split_policies_case(void **state)
{
    /* HNS may report keys in another case: still recognised as ours */
    json_t *policies =
        hnp_test_json("[{\"type\":\"acl\",\"settings\":{\"id\":\"hnp-lower\",\"Action\":\"Allow\","
                      "\"Direction\":\"In\"}},"
                      " {\"Type\":\"ACL\",\"Settings\":{\"Id\":\"HNP-upper\",\"Action\":\"Allow\","
                      "\"Direction\":\"In\"}}]");
    struct hnp_acl_list ours;
    hnp_acl_list_init(&ours);
    json_t *foreign = hnp_hns_split_policies(policies, &ours);
    assert_non_null(foreign);
    /* the first is ours (and unparseable as spelled, so dropped); the prefix
     * itself is case-sensitive, so "HNP-upper" is someone else's */
    assert_int_equal(ours.count, 0);
    assert_int_equal(json_array_size(foreign), 1);
    assert_ptr_equal(json_array_get(foreign, 0), json_array_get(policies, 1));
    json_decref(foreign);
    json_decref(policies);
}

static void test_split_policies_empty(void **state)
{
    struct hnp_acl_list ours;
    hnp_acl_list_init(&ours);
    json_t *foreign = hnp_hns_split_policies(NULL, &ours);
    assert_non_null(foreign);
    assert_true(json_is_array(foreign));
    assert_int_equal(json_array_size(foreign), 0);
    json_decref(foreign);

    json_t *not_array = hnp_test_json("{\"Type\":\"ACL\"}");
    foreign = hnp_hns_split_policies(not_array, &ours);
    assert_non_null(foreign);
    assert_int_equal(json_array_size(foreign), 0);
    assert_int_equal(ours.count, 0);
    json_decref(foreign);
    json_decref(not_array);
}

/* What we render, split gives back unchanged; with the foreign ones it is the request. */
static void test_split_round_trip(void **state)
{
    json_t *nat = hnp_test_json("[{\"Type\":\"OutBoundNAT\",\"Settings\":{}}]");
    struct hnp_acl_list list;
    hnp_acl_list_init(&list);
    for (int i = 0; i < 3; i++) {
        struct hnp_acl acl;
        memset(&acl, 0, sizeof(acl));
        snprintf(acl.id, sizeof(acl.id), "hnp-rule-%d", i);
        acl.direction = i == 2 ? HNP_ACL_OUT : HNP_ACL_IN;
        acl.action = i == 2 ? HNP_ACL_BLOCK : HNP_ACL_ALLOW;
        acl.priority = (uint16_t)(1000 + i);
        assert_int_equal(hnp_acl_list_push(&list, &acl), HNP_OK);
    }
    json_t *request = hnp_acl_list_request(&list, nat);
    assert_non_null(request);
    const json_t *sent = json_object_get(json_object_get(request, "Settings"), "Policies");

    struct hnp_acl_list back;
    hnp_acl_list_init(&back);
    json_t *foreign = hnp_hns_split_policies(sent, &back);
    assert_non_null(foreign);
    assert_true(json_equal(foreign, nat));
    assert_int_equal(back.count, list.count);
    for (size_t i = 0; i < list.count; i++) {
        json_t *a = hnp_acl_to_json(&list.items[i]);
        json_t *b = hnp_acl_to_json(&back.items[i]);
        assert_true(json_equal(a, b));
        json_decref(a);
        json_decref(b);
    }
    json_decref(foreign);
    hnp_acl_list_free(&back);
    hnp_acl_list_free(&list);
    json_decref(request);
    json_decref(nat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_mock),           cmocka_unit_test(test_open_hcn_unsupported),
        cmocka_unit_test(test_open_bad_specs),      cmocka_unit_test(test_open_unwritable_path),
        cmocka_unit_test(test_close_null),          cmocka_unit_test(test_split_policies),
        cmocka_unit_test(test_split_policies_case), cmocka_unit_test(test_split_policies_empty),
        cmocka_unit_test(test_split_round_trip),    cmocka_unit_test(test_classes_and_specs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
