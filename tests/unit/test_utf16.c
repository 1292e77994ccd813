/*
 * test_utf16.c - unit tests for utf16.c: round trips (ASCII, BMP, astral,
 * every Unicode scalar value at once), every class of malformed UTF-8 and
 * UTF-16 with the offset it is reported at, exhaustive agreement with a
 * reference decoder over all one- to three-byte inputs, and the length caps.
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "utf16.h"

#define BIG ((size_t)1 << 30)

/* Convert UTF-8 -> UTF-16, check the units, convert back, check the bytes. */
static void round_trip(const char *utf8, const uint16_t *units, size_t n_units)
{
    uint16_t *w = NULL;
    size_t wn = 12345;
    struct hnp_error err = {0};
    assert_int_equal(hnp_utf8_to_utf16(utf8, strlen(utf8), BIG, &w, &wn, &err), HNP_OK);
    assert_int_equal(wn, n_units);
    assert_memory_equal(w, units, n_units * sizeof(uint16_t));
    assert_int_equal(w[wn], 0);

    char *back = NULL;
    size_t bn = 12345;
    assert_int_equal(hnp_utf16_to_utf8(w, wn, BIG, &back, &bn, &err), HNP_OK);
    assert_int_equal(bn, strlen(utf8));
    assert_string_equal(back, utf8);
    free(back);

    /* The same through the NUL-terminated forms. */
    back = NULL;
    assert_int_equal(hnp_utf16_to_utf8(w, HNP_UTF_NUL_TERMINATED, BIG, &back, NULL, &err), HNP_OK);
    assert_string_equal(back, utf8);
    free(back);
    free(w);
    w = NULL;
    assert_int_equal(hnp_utf8_to_utf16(utf8, HNP_UTF_NUL_TERMINATED, BIG, &w, NULL, &err), HNP_OK);
    assert_memory_equal(w, units, n_units * sizeof(uint16_t));
    free(w);
}

static void test_round_trips(void **state)
{
    static const uint16_t ascii[] = {'{', '"', 'I', 'D', '"', ':', '1', '}'};
    round_trip("{\"ID\":1}", ascii, 8);
    static const uint16_t latin[] = {0x00E9, 't', 0x00E9};
    round_trip("\xC3\xA9t\xC3\xA9", latin, 3);
    static const uint16_t two_byte_edges[] = {0x0080, 0x07FF};
    round_trip("\xC2\x80\xDF\xBF", two_byte_edges, 2);
    static const uint16_t bmp[] = {0x20AC, 0x0800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFF};
    round_trip("\xE2\x82\xAC\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBD\xEF\xBF\xBF", bmp, 6);
    static const uint16_t astral[] = {0xD800, 0xDC00, 0xD83D, 0xDE00, 0xDBFF, 0xDFFF};
    round_trip("\xF0\x90\x80\x80\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF", astral, 6);
    static const uint16_t mixed[] = {'a', 0xD83D, 0xDE00, 0x00E9, 'z'};
    round_trip("a\xF0\x9F\x98\x80\xC3\xA9z", mixed, 5);
}

static void test_empty(void **state)
{
    uint16_t *w = NULL;
    size_t wn = 99;
    assert_int_equal(hnp_utf8_to_utf16("", 0, 0, &w, &wn, NULL), HNP_OK);
    assert_int_equal(wn, 0);
    assert_int_equal(w[0], 0);
    free(w);
    w = NULL;
    assert_int_equal(hnp_utf8_to_utf16(NULL, 0, 10, &w, NULL, NULL), HNP_OK);
    assert_int_equal(w[0], 0);

    char *s = NULL;
    size_t sn = 99;
    assert_int_equal(hnp_utf16_to_utf8(w, HNP_UTF_NUL_TERMINATED, 0, &s, &sn, NULL), HNP_OK);
    assert_int_equal(sn, 0);
    assert_string_equal(s, "");
    free(s);
    s = NULL;
    assert_int_equal(hnp_utf16_to_utf8(NULL, 0, 0, &s, NULL, NULL), HNP_OK);
    assert_string_equal(s, "");
    free(s);
    free(w);
}

/* Reference UTF-8 encoder for the exhaustive tests. */
static size_t encode(uint32_t cp, unsigned char *p)
{
    if (cp < 0x80) {
        p[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        p[0] = (unsigned char)(0xC0 | (cp >> 6));
        p[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (unsigned char)(0xE0 | (cp >> 12));
        p[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        p[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    p[0] = (unsigned char)(0xF0 | (cp >> 18));
    p[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    p[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    p[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Every scalar value U+0001..U+10FFFF (no surrogates) in one string, both ways. */
static void test_every_scalar_value(void **state)
{
    size_t n_cp = 0x10FFFF - 0x800; /* U+0001..U+10FFFF minus 2048 surrogates */
    unsigned char *utf8 = malloc(n_cp * 4 + 1);
    uint16_t *expect = malloc(n_cp * 2 * sizeof(uint16_t));
    assert_non_null(utf8);
    assert_non_null(expect);
    size_t len = 0, units = 0;
    for (uint32_t cp = 1; cp <= 0x10FFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        len += encode(cp, utf8 + len);
        if (cp < 0x10000) {
            expect[units++] = (uint16_t)cp;
        } else {
            expect[units++] = (uint16_t)(0xD800 + ((cp - 0x10000) >> 10));
            expect[units++] = (uint16_t)(0xDC00 + ((cp - 0x10000) & 0x3FF));
        }
    }
    utf8[len] = 0;

    uint16_t *w = NULL;
    size_t wn = 0;
    assert_int_equal(hnp_utf8_to_utf16((const char *)utf8, len, units, &w, &wn, NULL), HNP_OK);
    assert_int_equal(wn, units);
    assert_memory_equal(w, expect, units * sizeof(uint16_t));

    char *back = NULL;
    size_t bn = 0;
    assert_int_equal(hnp_utf16_to_utf8(w, wn, len, &back, &bn, NULL), HNP_OK);
    assert_int_equal(bn, len);
    assert_memory_equal(back, utf8, len);

    /* One unit / byte less than needed is over the cap. */
    uint16_t *w2 = NULL;
    assert_int_equal(hnp_utf8_to_utf16((const char *)utf8, len, units - 1, &w2, NULL, NULL),
                     HNP_ERR_LIMIT);
    assert_null(w2);
    char *b2 = NULL;
    assert_int_equal(hnp_utf16_to_utf8(w, wn, len - 1, &b2, NULL, NULL), HNP_ERR_LIMIT);
    assert_null(b2);
    free(back);
    free(w);
    free(expect);
    free(utf8);
}

struct bad_utf8 {
    const char *bytes;
    size_t len;
    size_t offset; /* where the fault is reported */
    const char *fault;
};

#define BAD(s, off, what)                                                                          \
    {                                                                                              \
        s, sizeof(s) - 1, off, what                                                                \
    }

static void test_malformed_utf8(void **state)
{
    static const struct bad_utf8 cases[] = {
        /* stray continuation bytes */
        BAD("\x80", 0, "continuation byte without a lead byte"),
        BAD("ab\xBF", 2, "continuation byte without a lead byte"),
        BAD("\xC3\xA9\xA9", 2, "continuation byte without a lead byte"),
        /* overlong forms */
        BAD("\xC0\x80", 0, "overlong"),
        BAD("\xC1\xBF", 0, "overlong"),
        BAD("\xE0\x80\x80", 0, "overlong"),
        BAD("\xE0\x9F\xBF", 0, "overlong"),
        BAD("\xF0\x80\x80\x80", 0, "overlong"),
        BAD("\xF0\x8F\xBF\xBF", 0, "overlong"),
        /* surrogates encoded in UTF-8 (CESU-8 style) */
        BAD("\xED\xA0\x80", 0, "surrogate"),
        BAD("x\xED\xBF\xBF", 1, "surrogate"),
        BAD("\xED\xA0\xBD\xED\xB8\x80", 0, "surrogate"),
        /* above U+10FFFF */
        BAD("\xF4\x90\x80\x80", 0, "above U+10FFFF"),
        BAD("\xF4\xBF\xBF\xBF", 0, "above U+10FFFF"),
        /* bytes that never appear */
        BAD("\xF5\x80\x80\x80", 0, "never appears"),
        BAD("\xF8\x88\x80\x80\x80", 0, "never appears"),
        BAD("\xFE", 0, "never appears"),
        BAD("ok\xFF", 2, "never appears"),
        /* truncated at the end */
        BAD("\xC3", 0, "truncated sequence at the end"),
        BAD("ab\xE2\x82", 2, "truncated sequence at the end"),
        BAD("\xF0\x9F\x98", 0, "truncated sequence at the end"),
        /* truncated in the middle */
        BAD("\xC3\x41", 0, "truncated sequence (lead byte"),
        BAD("\xE2\x41\x82", 0, "truncated sequence (lead byte"),
        BAD("\xE2\x82\x41", 0, "truncated sequence (lead byte"),
        BAD("\xF0\x9F\x41\x80", 0, "truncated sequence (lead byte"),
        BAD("\xF0\x9F\x98\xC3\xA9", 0, "truncated sequence (lead byte"),
        /* NUL inside a counted string */
        BAD("a\0b", 1, "NUL character"),
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint16_t *w = (uint16_t *)&cases[i]; /* sentinel: must stay untouched */
        size_t wn = 777;
        struct hnp_error err = {0};
        enum hnp_err rc = hnp_utf8_to_utf16(cases[i].bytes, cases[i].len, BIG, &w, &wn, &err);
        if (rc != HNP_ERR_INVALID)
            fail_msg("case %zu: got %s", i, hnp_err_name(rc));
        assert_ptr_equal(w, (uint16_t *)&cases[i]);
        assert_int_equal(wn, 777);
        if (err.code != (long long)cases[i].offset || err.code_kind != HNP_CODE_OFFSET ||
            strstr(err.message, cases[i].fault) == NULL)
            fail_msg("case %zu: code %lld, message \"%s\"", i, err.code, err.message);
        assert_non_null(strstr(err.message, "invalid UTF-8 at byte"));
    }
    /* With err NULL the result is the same. */
    uint16_t *w = NULL;
    assert_int_equal(hnp_utf8_to_utf16("\xC0\x80", 2, BIG, &w, NULL, NULL), HNP_ERR_INVALID);
    assert_null(w);
}

/*
 * Reference: a byte string is valid UTF-8 iff it splits into sequences that
 * each decode (by the bit patterns alone) to a code point whose canonical
 * encoding is that very sequence, which is not a surrogate, not above
 * U+10FFFF and not NUL.
 */
static bool reference_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned b = s[i];
        size_t len = b < 0x80             ? 1
                     : (b & 0xE0) == 0xC0 ? 2
                     : (b & 0xF0) == 0xE0 ? 3
                     : (b & 0xF8) == 0xF0 ? 4
                                          : 0;
        if (len == 0 || i + len > n)
            return false;
        uint32_t cp = len == 1 ? b : len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        unsigned char canon[4];
        if (encode(cp, canon) != len || memcmp(canon, s + i, len) != 0)
            return false;
        i += len;
    }
    return true;
}

static void check_against_reference(const unsigned char *s, size_t n)
{
    uint16_t *w = NULL;
    enum hnp_err rc = hnp_utf8_to_utf16((const char *)s, n, BIG, &w, NULL, NULL);
    bool valid = reference_valid(s, n);
    if ((rc == HNP_OK) != valid)
        fail_msg("bytes %02X %02X %02X %02X (length %zu): converter says %s, reference %s",
                 n > 0 ? s[0] : 0, n > 1 ? s[1] : 0, n > 2 ? s[2] : 0, n > 3 ? s[3] : 0, n,
                 hnp_err_name(rc), valid ? "valid" : "invalid");
    if (rc == HNP_OK) {
        char *back = NULL;
        size_t bn = 0;
        assert_int_equal(hnp_utf16_to_utf8(w, HNP_UTF_NUL_TERMINATED, BIG, &back, &bn, NULL),
                         HNP_OK);
        if (bn != n || memcmp(back, s, n) != 0)
            fail_msg("round trip differs for %02X %02X %02X", s[0], n > 1 ? s[1] : 0,
                     n > 2 ? s[2] : 0);
        free(back);
    }
    free(w);
}

/*
 * Every string of one and two bytes; every three-byte string that starts
 * with a lead byte of a multi-byte sequence (one starting with ASCII or a
 * stray continuation byte decodes that byte alone, then a two-byte string
 * already covered); four-byte strings over the interesting bytes.
 */
static void test_exhaustive_against_reference(void **state)
{
    unsigned char s[4];
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        check_against_reference(s, 1);
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (unsigned char)b;
            check_against_reference(s, 2);
            for (unsigned c = 0; a >= 0xC0 && c < 256; c++) {
                s[2] = (unsigned char)c;
                check_against_reference(s, 3);
            }
        }
    }
    static const unsigned char tails[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F,
                                          0xA0, 0xBF, 0xC0, 0xC3, 0xE2, 0xF0, 0xFF};
    for (unsigned a = 0xE0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            for (size_t c = 0; c < sizeof(tails); c++) {
                for (size_t d = 0; d < sizeof(tails); d++) {
                    s[0] = (unsigned char)a;
                    s[1] = (unsigned char)b;
                    s[2] = tails[c];
                    s[3] = tails[d];
                    check_against_reference(s, 4);
                }
            }
        }
    }
}

struct bad_utf16 {
    uint16_t units[4];
    size_t n;
    size_t offset;
    const char *fault;
};

static void test_malformed_utf16(void **state)
{
    static const struct bad_utf16 cases[] = {
        {{0xD800}, 1, 0, "high surrogate at the end"},
        {{'a', 0xDBFF}, 2, 1, "high surrogate at the end"},
        {{0xD800, 'a'}, 2, 0, "not followed by a low surrogate"},
        {{0xD800, 0xD800, 0xDC00}, 3, 0, "not followed by a low surrogate"},
        {{0xDC00}, 1, 0, "low surrogate without a high"},
        {{'x', 0xDFFF, 'y'}, 3, 1, "low surrogate without a high"},
        {{0xDC00, 0xD800}, 2, 0, "low surrogate without a high"},
        {{0xD83D, 0xDE00, 0xDE00}, 3, 2, "low surrogate without a high"},
        {{'a', 0, 'b'}, 3, 1, "NUL character"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *s = (char *)&cases[i];
        size_t sn = 777;
        struct hnp_error err = {0};
        enum hnp_err rc = hnp_utf16_to_utf8(cases[i].units, cases[i].n, BIG, &s, &sn, &err);
        if (rc != HNP_ERR_INVALID)
            fail_msg("case %zu: got %s", i, hnp_err_name(rc));
        assert_ptr_equal(s, (char *)&cases[i]);
        assert_int_equal(sn, 777);
        if (err.code != (long long)cases[i].offset || err.code_kind != HNP_CODE_OFFSET ||
            strstr(err.message, cases[i].fault) == NULL)
            fail_msg("case %zu: code %lld, message \"%s\"", i, err.code, err.message);
    }
    /* NUL-terminated: a high surrogate right before the terminator is unpaired. */
    static const uint16_t high_then_end[] = {'a', 0xD800, 0};
    char *s = NULL;
    struct hnp_error err = {0};
    assert_int_equal(hnp_utf16_to_utf8(high_then_end, HNP_UTF_NUL_TERMINATED, BIG, &s, NULL, &err),
                     HNP_ERR_INVALID);
    assert_null(s);
    assert_int_equal(err.code, 1);
    /* Every lone surrogate value, both kinds. */
    for (uint32_t u = 0xD800; u <= 0xDFFF; u++) {
        uint16_t one[2] = {(uint16_t)u, 'z'};
        assert_int_equal(hnp_utf16_to_utf8(one, 2, BIG, &s, NULL, NULL), HNP_ERR_INVALID);
        assert_null(s);
    }
}

static void test_caps(void **state)
{
    uint16_t *w = NULL;
    size_t wn = 0;
    struct hnp_error err = {0};
    /* Exactly at the cap is fine; the terminator is not counted. */
    assert_int_equal(hnp_utf8_to_utf16("abcd", 4, 4, &w, &wn, &err), HNP_OK);
    assert_int_equal(wn, 4);
    free(w);
    w = NULL;
    assert_int_equal(hnp_utf8_to_utf16("abcde", 5, 4, &w, &wn, &err), HNP_ERR_LIMIT);
    assert_null(w);
    assert_non_null(strstr(err.message, "more than 4 UTF-16 code units"));
    /* An astral character takes two units. */
    assert_int_equal(hnp_utf8_to_utf16("a\xF0\x9F\x98\x80", 5, 2, &w, NULL, NULL), HNP_ERR_LIMIT);
    assert_int_equal(hnp_utf8_to_utf16("a\xF0\x9F\x98\x80", 5, 3, &w, NULL, NULL), HNP_OK);
    free(w);

    /* UTF-8 bytes: U+20AC takes three. */
    static const uint16_t euro[] = {0x20AC, 0x20AC, 0};
    char *s = NULL;
    size_t sn = 0;
    assert_int_equal(hnp_utf16_to_utf8(euro, 2, 5, &s, NULL, &err), HNP_ERR_LIMIT);
    assert_null(s);
    assert_non_null(strstr(err.message, "more than 5 bytes"));
    assert_int_equal(hnp_utf16_to_utf8(euro, HNP_UTF_NUL_TERMINATED, 6, &s, &sn, NULL), HNP_OK);
    assert_int_equal(sn, 6);
    free(s);
    s = NULL;

    /*
     * A NUL-terminated input whose terminator lies beyond the cap is refused
     * without reading past the cap: this array has no terminator at all
     * (AddressSanitizer and valgrind would catch a read beyond it).
     */
    uint16_t *unterminated = malloc(10 * sizeof(uint16_t));
    assert_non_null(unterminated);
    for (size_t i = 0; i < 10; i++)
        unterminated[i] = 'a';
    assert_int_equal(hnp_utf16_to_utf8(unterminated, HNP_UTF_NUL_TERMINATED, 5, &s, NULL, NULL),
                     HNP_ERR_LIMIT);
    assert_null(s);
    free(unterminated);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_every_scalar_value),
        cmocka_unit_test(test_malformed_utf8),
        cmocka_unit_test(test_exhaustive_against_reference),
        cmocka_unit_test(test_malformed_utf16),
        cmocka_unit_test(test_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
