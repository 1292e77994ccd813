/*
 * text.h - the small string helpers every layer uses: copies, ASCII
 * case-insensitive comparison, a case-insensitive JSON member lookup (HNS
 * varies the case of its keys) and UTF-8 sequence checking.
 *
 * Private to the project (not under include/hnsnetpol/); every layer above
 * the engine sees it through the engine library.
 */
#ifndef HNP_TEXT_H
#define HNP_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* A new copy of s (free with free()); NULL when s is NULL or on NOMEM. */
char *hnp_strdup(const char *s);

/* A new NUL-terminated copy of the first len bytes of s; NULL on NOMEM. */
char *hnp_strndup(const char *s, size_t len);

/* ASCII case-insensitive equality of two NUL-terminated strings. */
bool hnp_equal_nocase(const char *a, const char *b);

/*
 * The member of obj whose key equals key, exactly or else ignoring ASCII
 * case (HNS writes "ID" and "Id"). Borrowed; NULL when absent or obj is not
 * an object.
 */
json_t *hnp_json_get_nocase(const json_t *obj, const char *key);

/*
 * Length of the valid UTF-8 sequence at s, reading at most n bytes; 0 when
 * the bytes there are not one (overlong forms, surrogates and values over
 * U+10FFFF included). A NUL byte is a one-byte sequence.
 */
size_t hnp_utf8_char_len(const unsigned char *s, size_t n);

#endif /* HNP_TEXT_H */
