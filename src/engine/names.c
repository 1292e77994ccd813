/*
 * names.c - Kubernetes name syntax (names.h), as
 * k8s.io/apimachinery/pkg/util/validation checks it.
 */
#include "names.h"

#include <string.h>

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

bool hnp_names_dns_label(const char *s, size_t len)
{
    if (len == 0 || len > 63 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    }
    return true;
}

bool hnp_names_dns_subdomain(const char *s, size_t len)
{
    if (len == 0 || len > 253)
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '.') {
            if (!hnp_names_dns_label(s + start, i - start))
                return false;
            start = i + 1;
        }
    }
    return true;
}

/* The name part of a label key, and a non-empty label value: at most 63
 * characters of [A-Za-z0-9-_.], beginning and ending with [A-Za-z0-9]. */
static bool is_label_name(const char *s, size_t len)
{
    if (len == 0 || len > 63 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    }
    return true;
}

const char *hnp_names_label_key_problem(const char *s, size_t len)
{
    const char *slash = memchr(s, '/', len);
    const char *name = s;
    size_t name_len = len;
    if (slash != NULL) {
        size_t prefix_len = (size_t)(slash - s);
        name = slash + 1;
        name_len = len - prefix_len - 1;
        if (memchr(name, '/', name_len) != NULL)
            return "a key may contain at most one '/'";
        if (!hnp_names_dns_subdomain(s, prefix_len))
            return "the prefix before '/' must be a lowercase DNS subdomain such as example.com";
    }
    if (name_len == 0)
        return "the name part must not be empty";
    if (name_len > 63)
        return "the name part must be at most 63 characters";
    if (!is_label_name(name, name_len))
        return "the name part may contain only letters, digits, '-', '_' and '.', and must "
               "begin and end with a letter or digit";
    return NULL;
}

const char *hnp_names_label_value_problem(const char *s, size_t len)
{
    if (len == 0)
        return NULL;
    if (len > 63)
        return "a label value must be at most 63 characters";
    if (!is_label_name(s, len))
        return "a label value may contain only letters, digits, '-', '_' and '.', and must "
               "begin and end with a letter or digit";
    return NULL;
}

const char *hnp_names_port_name_problem(const char *s, size_t len)
{
    if (len == 0)
        return "a port name must not be empty";
    if (len > 15)
        return "a port name must be at most 15 characters";
    bool letter = false, double_hyphen = false;
    for (size_t i = 0; i < len; i++) {
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return "a port name may contain only lowercase letters a-z, digits 0-9 and '-'";
        if (s[i] >= 'a' && s[i] <= 'z')
            letter = true;
        if (i > 0 && s[i] == '-' && s[i - 1] == '-')
            double_hyphen = true;
    }
    if (!letter)
        return "a port name must contain at least one letter";
    if (double_hyphen)
        return "a port name must not contain two consecutive hyphens";
    if (s[0] == '-' || s[len - 1] == '-')
        return "a port name must not begin or end with a hyphen";
    return NULL;
}
