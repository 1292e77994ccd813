/*
 * error.c - strings for enum hnp_err and the struct hnp_error helpers.
 */
#include "hnsnetpol/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const descriptions[] = {
#define HNP_ERR_TEXT(name, text) text,
    HNP_ERRORS(HNP_ERR_TEXT)
#undef HNP_ERR_TEXT
};

static const char *const names[] = {
#define HNP_ERR_NAME(name, text) #name,
    HNP_ERRORS(HNP_ERR_NAME)
#undef HNP_ERR_NAME
};

const char *hnp_strerror(enum hnp_err code)
{
    if ((unsigned)code >= (unsigned)HNP_ERR_COUNT_)
        return "unknown error";
    return descriptions[code];
}

const char *hnp_err_name(enum hnp_err code)
{
    if ((unsigned)code >= (unsigned)HNP_ERR_COUNT_)
        return "HNP_ERR_UNKNOWN";
    return names[code];
}

enum hnp_err hnp_error_set(struct hnp_error *err, enum hnp_err code, const char *where,
                           const char *fmt, ...)
{
    if (err == NULL)
        return code;
    snprintf(err->where, sizeof(err->where), "%s", where ? where : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    err->code = 0;
    err->code_kind = HNP_CODE_NONE;
    return code;
}

void hnp_error_clear(struct hnp_error *err)
{
    if (err == NULL)
        return;
    err->where[0] = '\0';
    err->message[0] = '\0';
    err->code = 0;
    err->code_kind = HNP_CODE_NONE;
}

void hnp_error_set_code(struct hnp_error *err, enum hnp_code_kind kind, long long code)
{
    if (err == NULL)
        return;
    err->code = code;
    err->code_kind = kind;
}

void hnp_error_code_text(const struct hnp_error *err, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    if (err == NULL)
        return;
    switch (err->code_kind) {
    case HNP_CODE_NONE:
        break;
    case HNP_CODE_HRESULT:
        snprintf(buf, len, "0x%08llX", (unsigned long long)err->code & 0xFFFFFFFFull);
        break;
    case HNP_CODE_HTTP_STATUS:
        snprintf(buf, len, "HTTP %lld", err->code);
        break;
    case HNP_CODE_CURL:
        snprintf(buf, len, "curl %lld", err->code);
        break;
    case HNP_CODE_OFFSET:
        snprintf(buf, len, "offset %lld", err->code);
        break;
    }
}
