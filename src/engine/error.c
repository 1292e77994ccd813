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
    return code;
}

void hnp_error_clear(struct hnp_error *err)
{
    if (err == NULL)
        return;
    err->where[0] = '\0';
    err->message[0] = '\0';
    err->code = 0;
}
