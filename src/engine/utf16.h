/*
 * utf16.h - strict UTF-8 <-> UTF-16 conversion for the Windows API boundary.
 *
 * The core works in UTF-8; the Host Compute Network API (win/hcn.c) and the
 * rest of Win32 speak UTF-16 (little-endian code units, as WCHAR holds them).
 * These converters are portable C, so they are unit-tested on Linux too.
 *
 * Strict: malformed input is an error, never replaced or passed through.
 * Refused are, in UTF-8: stray continuation bytes, truncated sequences,
 * overlong encodings, encoded surrogates (U+D800..U+DFFF), code points above
 * U+10FFFF and the bytes C0, C1, F5..FF; in UTF-16: a high surrogate not
 * followed by a low one and a lone low surrogate. A NUL inside the input is
 * refused as well: the outputs are NUL-terminated C strings, and a NUL in
 * the middle would silently cut them short.
 *
 * Every conversion takes a cap on the size of its result, so a huge or
 * hostile string is HNP_ERR_LIMIT rather than an unbounded allocation.
 */
#ifndef HNP_UTF16_H
#define HNP_UTF16_H

#include <stddef.h>
#include <stdint.h>

#include "hnsnetpol/error.h"

/* As an input length: the input is NUL-terminated (stop at the first NUL). */
#define HNP_UTF_NUL_TERMINATED ((size_t)-1)

/*
 * Convert in_len bytes of UTF-8 at in (or up to its NUL when in_len is
 * HNP_UTF_NUL_TERMINATED) to UTF-16.
 *
 * *out receives a new array of code units ending in a 0 unit (free with
 * free()); *out_units (may be NULL) the number of units before that 0. At
 * most max_units units (the 0 not counted) are produced.
 *
 * Returns HNP_OK; HNP_ERR_INVALID for malformed UTF-8 (err->message names
 * the byte offset and the fault, err->code is that offset); HNP_ERR_LIMIT
 * when the result would exceed max_units; HNP_ERR_NOMEM. On failure *out
 * and *out_units are untouched. in may be NULL only when in_len is 0.
 */
enum hnp_err hnp_utf8_to_utf16(const char *in, size_t in_len, size_t max_units, uint16_t **out,
                               size_t *out_units, struct hnp_error *err);

/*
 * Convert in_units UTF-16 code units at in (or up to the first 0 unit when
 * in_units is HNP_UTF_NUL_TERMINATED; the scan never goes further than the
 * cap makes necessary) to UTF-8.
 *
 * *out receives a new NUL-terminated string (free with free()); *out_len
 * (may be NULL) its length in bytes. At most max_bytes bytes (the NUL not
 * counted) are produced.
 *
 * Returns HNP_OK; HNP_ERR_INVALID for an unpaired surrogate or an embedded 0
 * unit (err->code is the unit offset); HNP_ERR_LIMIT when the result would
 * exceed max_bytes; HNP_ERR_NOMEM. On failure *out and *out_len are
 * untouched. in may be NULL only when in_units is 0.
 */
enum hnp_err hnp_utf16_to_utf8(const uint16_t *in, size_t in_units, size_t max_bytes, char **out,
                               size_t *out_len, struct hnp_error *err);

#endif /* HNP_UTF16_H */
