/*
 * error.h - the one error enum of hnsnetpol and the caller-owned detail struct.
 *
 * Every fallible function returns enum hnp_err. HNP_OK is 0. Values are only
 * ever appended (they appear in logs and metrics). Human detail - where the
 * problem is and what it is - goes into an optional struct hnp_error that the
 * caller owns; functions accept NULL for it.
 */
#ifndef HNP_ERROR_H
#define HNP_ERROR_H

#include <stddef.h>
#include <stdio.h> /* mingw-w64 defines __MINGW_PRINTF_FORMAT here */

/*
 * Marks a printf-like function so the compiler checks its calls. On
 * mingw-w64 a plain `printf` format means msvcrt's, which rejects %zu; the
 * project builds with __USE_MINGW_ANSI_STDIO, whose format is GNU's.
 */
#if defined(__MINGW_PRINTF_FORMAT)
#define HNP_PRINTF(fmt, args) __attribute__((format(__MINGW_PRINTF_FORMAT, fmt, args)))
#elif defined(__GNUC__)
#define HNP_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define HNP_PRINTF(fmt, args)
#endif

/* X(name, short description) */
#define HNP_ERRORS(X)                                                                              \
    X(HNP_OK, "success")                                                                           \
    X(HNP_ERR_NOMEM, "out of memory")                                                              \
    X(HNP_ERR_IO, "input/output error")                                                            \
    X(HNP_ERR_PARSE, "syntax error")                                                               \
    X(HNP_ERR_SCHEMA, "object does not have the expected shape")                                   \
    X(HNP_ERR_INVALID, "invalid value")                                                            \
    X(HNP_ERR_UNSUPPORTED, "not enforceable on Windows")                                           \
    X(HNP_ERR_LIMIT, "size or depth limit exceeded")                                               \
    X(HNP_ERR_NOT_FOUND, "not found")                                                              \
    X(HNP_ERR_USAGE, "invalid command-line usage")                                                 \
    X(HNP_ERR_HNS, "HNS call failed")                                                              \
    X(HNP_ERR_EMPTY, "no Kubernetes objects in input")                                             \
    X(HNP_ERR_TIMEOUT, "timed out")                                                                \
    X(HNP_ERR_HTTP, "HTTP request failed")                                                         \
    X(HNP_ERR_GONE, "resource version too old (410 Gone)")                                         \
    X(HNP_ERR_AUTH, "unauthorized or forbidden")                                                   \
    X(HNP_ERR_STOPPED, "stopped")

enum hnp_err {
#define HNP_ERR_ENUM(name, text) name,
    HNP_ERRORS(HNP_ERR_ENUM)
#undef HNP_ERR_ENUM
        HNP_ERR_COUNT_
};

/* What the number in struct hnp_error.code is. */
enum hnp_code_kind {
    HNP_CODE_NONE = 0,    /* no number (code is 0) */
    HNP_CODE_HRESULT,     /* an HRESULT or HCN error code (0x803B0002 endpoint not found) */
    HNP_CODE_HTTP_STATUS, /* the API server's HTTP status */
    HNP_CODE_CURL,        /* a CURLcode: the transport failed before any status */
    HNP_CODE_OFFSET,      /* a position in the input (UTF-8 bytes, UTF-16 units) */
};

/*
 * Detail of the last failure. `where` is "file:line" or a field path when
 * known (empty otherwise); `message` is a sentence for a person; `code` a
 * number from below, of the kind `code_kind` says (hnp_error_set_code()).
 */
struct hnp_error {
    char where[512];
    char message[1024];
    long long code;
    enum hnp_code_kind code_kind;
};

/* Static description of code; never NULL (unknown codes give "unknown error"). */
const char *hnp_strerror(enum hnp_err code);

/* Machine-readable name of code ("HNP_ERR_PARSE"); never NULL. */
const char *hnp_err_name(enum hnp_err code);

/*
 * Fill err (when not NULL) with where (may be NULL) and a printf-style
 * message, truncating to the buffers; the code is reset to none. Returns code so callers can write
 * `return hnp_error_set(err, HNP_ERR_PARSE, where, "...")`.
 */
enum hnp_err hnp_error_set(struct hnp_error *err, enum hnp_err code, const char *where,
                           const char *fmt, ...) HNP_PRINTF(4, 5);

/* Reset err (when not NULL) to empty strings and no code. */
void hnp_error_clear(struct hnp_error *err);

/* Record a number of the given kind in err (when not NULL). */
void hnp_error_set_code(struct hnp_error *err, enum hnp_code_kind kind, long long code);

/*
 * err's code as text for a log or a message, saying its kind: "0x803B0002"
 * (HRESULT), "HTTP 404", "curl 28", "offset 12"; "" when there is none.
 * Always NUL-terminates buf (len > 0).
 */
void hnp_error_code_text(const struct hnp_error *err, char *buf, size_t len);

#endif /* HNP_ERROR_H */
