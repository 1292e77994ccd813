/*
 * test_names.c - Kubernetes name syntax (src/engine/names.h). The policy
 * tests check the same rules through findings; these check the edges.
 */
#include "testutil.h"

#include <string.h>

#include "names.h"

#define LEN(s) (s), strlen(s)

static void test_dns_names(void **state)
{
    (void)state;
    assert_true(hnp_names_dns_label(LEN("a")));
    assert_true(hnp_names_dns_label(LEN("kube-system")));
    assert_true(hnp_names_dns_label(LEN("0a9")));
    assert_false(hnp_names_dns_label(LEN("")));
    assert_false(hnp_names_dns_label(LEN("-a")));
    assert_false(hnp_names_dns_label(LEN("a-")));
    assert_false(hnp_names_dns_label(LEN("Abc")));
    assert_false(hnp_names_dns_label(LEN("a.b")));
    char long_label[65];
    memset(long_label, 'a', 64);
    long_label[64] = '\0';
    assert_false(hnp_names_dns_label(LEN(long_label)));
    assert_true(hnp_names_dns_label(long_label, 63));
    /* only the len bytes count */
    assert_true(hnp_names_dns_label("ab-", 2));

    assert_true(hnp_names_dns_subdomain(LEN("example.com")));
    assert_true(hnp_names_dns_subdomain(LEN("a")));
    assert_false(hnp_names_dns_subdomain(LEN("a..b")));
    assert_false(hnp_names_dns_subdomain(LEN(".a")));
    assert_false(hnp_names_dns_subdomain(LEN("a.")));
    assert_false(hnp_names_dns_subdomain(LEN("")));
    char long_name[255];
    for (size_t i = 0; i < 254; i++)
        long_name[i] = i % 2 ? '.' : 'a';
    long_name[253] = 'a';
    long_name[254] = '\0';
    assert_false(hnp_names_dns_subdomain(LEN(long_name)));
    assert_true(hnp_names_dns_subdomain(long_name, 253));
}

static void test_label_keys_and_values(void **state)
{
    (void)state;
    assert_null(hnp_names_label_key_problem(LEN("app")));
    assert_null(hnp_names_label_key_problem(LEN("app.kubernetes.io/name")));
    assert_null(hnp_names_label_key_problem(LEN("A_b.c-D")));
    assert_non_null(strstr(hnp_names_label_key_problem(LEN("a/b/c")), "at most one '/'"));
    assert_non_null(strstr(hnp_names_label_key_problem(LEN("Example.com/a")), "prefix"));
    assert_non_null(strstr(hnp_names_label_key_problem(LEN("example.com/")), "must not be empty"));
    assert_non_null(strstr(hnp_names_label_key_problem(LEN("")), "must not be empty"));
    assert_non_null(strstr(hnp_names_label_key_problem(LEN("a]b")), "may contain only"));
    assert_non_null(strstr(hnp_names_label_key_problem(LEN("_a")), "may contain only"));
    char long_key[70];
    memset(long_key, 'k', 64);
    long_key[64] = '\0';
    assert_non_null(strstr(hnp_names_label_key_problem(LEN(long_key)), "at most 63"));

    assert_null(hnp_names_label_value_problem(LEN("")));
    assert_null(hnp_names_label_value_problem(LEN("v1.2_x-Y")));
    assert_non_null(strstr(hnp_names_label_value_problem(LEN("bad value")), "may contain only"));
    assert_non_null(strstr(hnp_names_label_value_problem(LEN("-a")), "may contain only"));
    assert_non_null(strstr(hnp_names_label_value_problem(LEN(long_key)), "at most 63"));
}

static void test_port_names(void **state)
{
    (void)state;
    assert_null(hnp_names_port_name_problem(LEN("http")));
    assert_null(hnp_names_port_name_problem(LEN("h2-c")));
    assert_null(hnp_names_port_name_problem(LEN("a123456789012345") - 1));
    assert_non_null(strstr(hnp_names_port_name_problem(LEN("")), "must not be empty"));
    assert_non_null(strstr(hnp_names_port_name_problem(LEN("a123456789012345")), "at most 15"));
    assert_non_null(strstr(hnp_names_port_name_problem(LEN("HTTP")), "lowercase"));
    assert_non_null(strstr(hnp_names_port_name_problem(LEN("8080")), "at least one letter"));
    assert_non_null(strstr(hnp_names_port_name_problem(LEN("a--b")), "consecutive hyphens"));
    assert_non_null(strstr(hnp_names_port_name_problem(LEN("-ab")), "begin or end"));
    assert_non_null(strstr(hnp_names_port_name_problem(LEN("ab-")), "begin or end"));
    /* only the len bytes count: "a--" cut to "a-" ends with a hyphen, no double one */
    assert_non_null(strstr(hnp_names_port_name_problem("a--", 2), "begin or end"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns_names),
        cmocka_unit_test(test_label_keys_and_values),
        cmocka_unit_test(test_port_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
