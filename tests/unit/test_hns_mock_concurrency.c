/*
 * test_hns_mock_concurrency.c - the mock HNS state file edited by two
 * processes at once: a forked child hammers it through the `hns-mock` tool
 * while the parent modifies an endpoint through the backend. No update may
 * be lost and the file must stay valid JSON. POSIX only (fork, waitpid);
 * test_hns_mock.c runs the same race between two threads on every platform.
 */
#define _DEFAULT_SOURCE /* fork, waitpid */

#include "testutil.h"

#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mock.h"
#include "hns.h"

#define NAT "{\"Type\":\"OutBoundNAT\",\"Settings\":{\"Exceptions\":[\"10.0.0.0/8\"]}}"

#define PARENT_MODIFIES 200

static void test_concurrent_processes(void **state)
{
    struct hnp_test_mock *fx = *state;
    hnp_test_mock_write(fx, "{\"endpoints\":[{\"ID\":\"stable\",\"Policies\":[" NAT "]}]}");
    struct hnp_hns *hns = hnp_test_mock_open(fx);
    struct hnp_error err = {0};

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(hnp_test_mock_hammer(fx->path));

    char last[512] = "";
    int failures = 0;
    for (int i = 0; i < PARENT_MODIFIES; i++) {
        snprintf(last, sizeof(last),
                 "[" NAT ",{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"hnp-%d\",\"Action\":\"Allow\","
                 "\"Direction\":\"In\",\"Priority\":%d}}]",
                 i, 1000 + i);
        char text[8192];
        snprintf(text, sizeof(text),
                 "{\"ResourceType\":\"Policy\",\"RequestType\":\"Update\",\"Settings\":"
                 "{\"Policies\":%s}}",
                 last);
        json_t *req = hnp_test_json(text);
        if (hns->ops->modify_endpoint(hns, "STABLE", req, &err) != HNP_OK)
            failures++;
        json_decref(req);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(failures, 0);

    /* valid JSON, every call counted, the child's endpoints all accounted for */
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
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_concurrent_processes, hnp_test_mock_setup,
                                        hnp_test_mock_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
