/*
 * utf16.c - strict UTF-8 <-> UTF-16 converters (see utf16.h).
 *
 * Each conversion makes two passes over its input: the first decodes and
 * validates every code point and counts the size of the result (stopping as
 * soon as the cap is passed), the second writes it into a buffer of exactly
 * that size. Nothing is allocated for invalid or oversized input.
 *
 * UTF-8 validity follows the Unicode Standard, table 3-7 ("well-formed UTF-8
 * byte sequences"): the second byte of a sequence led by E0, ED, F0 or F4 has
 * a narrower range, which is what excludes overlong forms, surrogates and
 * code points above U+10FFFF.
 */
#include "utf16.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * Decode the code point starting at s[0], with n bytes available (n >= 1).
 * Returns its length in bytes (1..4) and sets *cp, or returns 0 and sets *why.
 */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp, const char **why)
{
    unsigned lead = s[0];
    if (lead < 0x80) {
        if (lead == 0) {
            *why = "NUL character inside the string";
            return 0;
        }
        *cp = lead;
        return 1;
    }
    if (lead < 0xC0) {
        *why = "continuation byte without a lead byte";
        return 0;
    }
    if (lead < 0xC2) {
        *why = "overlong encoding";
        return 0;
    }
    size_t len;
    uint32_t c;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    const char *range_fault = NULL;
    if (lead < 0xE0) {
        len = 2;
        c = lead & 0x1Fu;
    } else if (lead < 0xF0) {
        len = 3;
        c = lead & 0x0Fu;
        if (lead == 0xE0) {
            lo = 0xA0;
            range_fault = "overlong encoding";
        } else if (lead == 0xED) {
            hi = 0x9F;
            range_fault = "encoded surrogate (U+D800..U+DFFF)";
        }
    } else if (lead < 0xF5) {
        len = 4;
        c = lead & 0x07u;
        if (lead == 0xF0) {
            lo = 0x90;
            range_fault = "overlong encoding";
        } else if (lead == 0xF4) {
            hi = 0x8F;
            range_fault = "code point above U+10FFFF";
        }
    } else {
        *why = "byte that never appears in UTF-8 (F5..FF)";
        return 0;
    }
    for (size_t k = 1; k < len; k++) {
        if (k >= n) {
            *why = "truncated sequence at the end of the input";
            return 0;
        }
        unsigned next = s[k];
        if ((next & 0xC0u) != 0x80u) {
            *why = "truncated sequence (lead byte not followed by enough continuation bytes)";
            return 0;
        }
        if (k == 1 && (next < lo || next > hi)) {
            *why = range_fault;
            return 0;
        }
        c = (c << 6) | (next & 0x3Fu);
    }
    *cp = c;
    return len;
}

/*
 * Decode the code point starting at s[0]. n is the number of units
 * available, or HNP_UTF_NUL_TERMINATED when the string ends with a 0 unit
 * (so s[1] is readable whenever s[0] is not 0). Returns 1 or 2 and sets
 * *cp, or returns 0 and sets *why.
 */
static size_t utf16_next(const uint16_t *s, size_t n, uint32_t *cp, const char **why)
{
    uint32_t u = s[0];
    if (u == 0) {
        *why = "NUL character inside the string";
        return 0;
    }
    if (u >= 0xDC00 && u <= 0xDFFF) {
        *why = "low surrogate without a high surrogate before it";
        return 0;
    }
    if (u < 0xD800 || u > 0xDBFF) {
        *cp = u;
        return 1;
    }
    if (n != HNP_UTF_NUL_TERMINATED && n < 2) {
        *why = "high surrogate at the end of the input";
        return 0;
    }
    uint32_t low = s[1];
    if (low < 0xDC00 || low > 0xDFFF) {
        *why = "high surrogate not followed by a low surrogate";
        return 0;
    }
    *cp = 0x10000u + ((u - 0xD800u) << 10) + (low - 0xDC00u);
    return 2;
}

static size_t utf8_size(uint32_t cp)
{
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

static char *put_utf8(char *p, uint32_t cp)
{
    if (cp < 0x80) {
        *p++ = (char)cp;
    } else if (cp < 0x800) {
        *p++ = (char)(0xC0u | (cp >> 6));
        *p++ = (char)(0x80u | (cp & 0x3Fu));
    } else if (cp < 0x10000) {
        *p++ = (char)(0xE0u | (cp >> 12));
        *p++ = (char)(0x80u | ((cp >> 6) & 0x3Fu));
        *p++ = (char)(0x80u | (cp & 0x3Fu));
    } else {
        *p++ = (char)(0xF0u | (cp >> 18));
        *p++ = (char)(0x80u | ((cp >> 12) & 0x3Fu));
        *p++ = (char)(0x80u | ((cp >> 6) & 0x3Fu));
        *p++ = (char)(0x80u | (cp & 0x3Fu));
    }
    return p;
}

enum hnp_err hnp_utf8_to_utf16(const char *in, size_t in_len, size_t max_units, uint16_t **out,
                               size_t *out_units, struct hnp_error *err)
{
    if (in_len == HNP_UTF_NUL_TERMINATED)
        in_len = in != NULL ? strlen(in) : 0;
    const unsigned char *s = (const unsigned char *)in;

    /* Pass 1: validate and count. */
    size_t units = 0;
    for (size_t i = 0; i < in_len;) {
        uint32_t cp = 0;
        const char *why = NULL;
        size_t len = utf8_next(s + i, in_len - i, &cp, &why);
        if (len == 0) {
            hnp_error_set(err, HNP_ERR_INVALID, NULL, "invalid UTF-8 at byte %zu (0x%02X): %s", i,
                          (unsigned)s[i], why);
            if (err != NULL)
                hnp_error_set_code(err, HNP_CODE_OFFSET, (long long)i);
            return HNP_ERR_INVALID;
        }
        units += cp < 0x10000 ? 1 : 2;
        if (units > max_units)
            return hnp_error_set(err, HNP_ERR_LIMIT, NULL,
                                 "string too long: more than %zu UTF-16 code units", max_units);
        i += len;
    }

    /* Pass 2: write. */
    uint16_t *buf = malloc((units + 1) * sizeof(*buf));
    if (buf == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory converting to UTF-16");
    size_t k = 0;
    for (size_t i = 0; i < in_len;) {
        uint32_t cp = 0;
        const char *why = NULL;
        i += utf8_next(s + i, in_len - i, &cp, &why); /* valid: checked above */
        if (cp < 0x10000) {
            buf[k++] = (uint16_t)cp;
        } else {
            cp -= 0x10000u;
            buf[k++] = (uint16_t)(0xD800u + (cp >> 10));
            buf[k++] = (uint16_t)(0xDC00u + (cp & 0x3FFu));
        }
    }
    buf[k] = 0;
    *out = buf;
    if (out_units != NULL)
        *out_units = k;
    return HNP_OK;
}

enum hnp_err hnp_utf16_to_utf8(const uint16_t *in, size_t in_units, size_t max_bytes, char **out,
                               size_t *out_len, struct hnp_error *err)
{
    bool nul_terminated = in_units == HNP_UTF_NUL_TERMINATED;
    if (in == NULL) {
        in_units = 0;
        nul_terminated = false;
    }

    /* Pass 1: validate and count; also finds the end of a NUL-terminated input. */
    size_t bytes = 0, i = 0;
    while (nul_terminated ? in[i] != 0 : i < in_units) {
        uint32_t cp = 0;
        const char *why = NULL;
        size_t len =
            utf16_next(in + i, nul_terminated ? HNP_UTF_NUL_TERMINATED : in_units - i, &cp, &why);
        if (len == 0) {
            hnp_error_set(err, HNP_ERR_INVALID, NULL,
                          "invalid UTF-16 at code unit %zu (0x%04X): %s", i, (unsigned)in[i], why);
            if (err != NULL)
                hnp_error_set_code(err, HNP_CODE_OFFSET, (long long)i);
            return HNP_ERR_INVALID;
        }
        bytes += utf8_size(cp);
        if (bytes > max_bytes)
            return hnp_error_set(err, HNP_ERR_LIMIT, NULL,
                                 "string too long: more than %zu bytes of UTF-8", max_bytes);
        i += len;
    }
    size_t end = i;

    /* Pass 2: write. */
    char *buf = malloc(bytes + 1);
    if (buf == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory converting to UTF-8");
    char *p = buf;
    for (i = 0; i < end;) {
        uint32_t cp = 0;
        const char *why = NULL;
        i += utf16_next(in + i, nul_terminated ? HNP_UTF_NUL_TERMINATED : end - i, &cp, &why);
        p = put_utf8(p, cp);
    }
    *p = '\0';
    *out = buf;
    if (out_len != NULL)
        *out_len = (size_t)(p - buf);
    return HNP_OK;
}
