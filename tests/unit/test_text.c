/*
 * test_text.c - the string helpers (src/engine/text.h).
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"

static void test_dup(void **state)
{
    (void)state;
    assert_null(hnp_strdup(NULL));
    char *s = hnp_strdup("pod");
    assert_string_equal(s, "pod");
    free(s);
    s = hnp_strndup("abcdef", 3);
    assert_string_equal(s, "abc");
    free(s);
}

static void test_nocase(void **state)
{
    (void)state;
    assert_true(hnp_equal_nocase("ID", "Id"));
    assert_true(hnp_equal_nocase("", ""));
    assert_false(hnp_equal_nocase("ID", "IDs"));
    assert_false(hnp_equal_nocase("I", "J"));
    json_t *obj = json_pack("{s:i, s:i}", "Id", 1, "policies", 2);
    assert_int_equal(json_integer_value(hnp_json_get_nocase(obj, "ID")), 1);
    assert_int_equal(json_integer_value(hnp_json_get_nocase(obj, "Policies")), 2);
    assert_null(hnp_json_get_nocase(obj, "Name"));
    assert_null(hnp_json_get_nocase(NULL, "Name"));
    json_decref(obj);
}

static void test_utf8(void **state)
{
    (void)state;
    const unsigned char *e_acute = (const unsigned char *)"\xc3\xa9";
    assert_int_equal(hnp_utf8_char_len((const unsigned char *)"a", 1), 1);
    assert_int_equal(hnp_utf8_char_len(e_acute, 2), 2);
    assert_int_equal(hnp_utf8_char_len(e_acute, 1), 0); /* cut short */
    assert_int_equal(hnp_utf8_char_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
    assert_int_equal(hnp_utf8_char_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
    assert_int_equal(hnp_utf8_char_len((const unsigned char *)"\xc0\xaf", 2), 0); /* overlong */
    assert_int_equal(hnp_utf8_char_len((const unsigned char *)"\xed\xa0\x80", 3),
                     0); /* surrogate */
    assert_int_equal(hnp_utf8_char_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
    assert_int_equal(hnp_utf8_char_len((const unsigned char *)"\x80", 1), 0);
    assert_int_equal(hnp_utf8_char_len((const unsigned char *)"x", 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dup),
        cmocka_unit_test(test_nocase),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
