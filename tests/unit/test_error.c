/*
 * test_error.c - the error struct (include/hnsnetpol/error.h): messages,
 * codes and the kind of number a code is.
 */
#include "testutil.h"

#include <string.h>

#include "hnsnetpol/error.h"

static void test_set_and_clear(void **state)
{
    (void)state;
    struct hnp_error err;
    memset(&err, 0x55, sizeof(err));
    assert_int_equal(hnp_error_set(&err, HNP_ERR_PARSE, "a.yaml:3", "bad %s", "thing"),
                     HNP_ERR_PARSE);
    assert_string_equal(err.where, "a.yaml:3");
    assert_string_equal(err.message, "bad thing");
    assert_int_equal(err.code, 0);
    assert_int_equal(err.code_kind, HNP_CODE_NONE);
    hnp_error_set_code(&err, HNP_CODE_HTTP_STATUS, 404);
    assert_int_equal(err.code, 404);
    assert_int_equal(err.code_kind, HNP_CODE_HTTP_STATUS);
    /* a new message resets the code: a stale one must not be read as this error's */
    hnp_error_set(&err, HNP_ERR_IO, NULL, "x");
    assert_int_equal(err.code_kind, HNP_CODE_NONE);
    hnp_error_set_code(&err, HNP_CODE_CURL, 7);
    hnp_error_clear(&err);
    assert_string_equal(err.where, "");
    assert_string_equal(err.message, "");
    assert_int_equal(err.code_kind, HNP_CODE_NONE);
    /* NULL is accepted everywhere */
    assert_int_equal(hnp_error_set(NULL, HNP_ERR_IO, NULL, "x"), HNP_ERR_IO);
    hnp_error_set_code(NULL, HNP_CODE_CURL, 7);
    hnp_error_clear(NULL);
}

static void test_code_text(void **state)
{
    (void)state;
    static const struct {
        enum hnp_code_kind kind;
        long long code;
        const char *text;
    } cases[] = {
        {HNP_CODE_NONE, 0, ""},
        {HNP_CODE_HRESULT, 0x803B0002LL, "0x803B0002"},
        {HNP_CODE_HRESULT, -2147024809LL, "0x80070057"}, /* a negative HRESULT read as signed */
        {HNP_CODE_HTTP_STATUS, 410, "HTTP 410"},
        {HNP_CODE_CURL, 28, "curl 28"},
        {HNP_CODE_OFFSET, 12, "offset 12"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hnp_error err = {0};
        hnp_error_set_code(&err, cases[i].kind, cases[i].code);
        char buf[32];
        hnp_error_code_text(&err, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].text);
    }
    char small[4] = "xyz";
    struct hnp_error err = {0};
    hnp_error_set_code(&err, HNP_CODE_HTTP_STATUS, 503);
    hnp_error_code_text(&err, small, sizeof(small));
    assert_string_equal(small, "HTT"); /* truncated, terminated */
    hnp_error_code_text(NULL, small, sizeof(small));
    assert_string_equal(small, "");
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(hnp_err_name(HNP_OK), "HNP_OK");
    assert_string_equal(hnp_err_name(HNP_ERR_STOPPED), "HNP_ERR_STOPPED");
    assert_string_equal(hnp_err_name((enum hnp_err)999), "HNP_ERR_UNKNOWN");
    assert_string_equal(hnp_strerror(HNP_ERR_NOMEM), "out of memory");
    assert_string_equal(hnp_strerror((enum hnp_err) - 1), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_and_clear),
        cmocka_unit_test(test_code_text),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
