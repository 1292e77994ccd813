/*
 * names.h - the syntax of Kubernetes names as the API server checks it
 * (k8s.io/apimachinery/pkg/util/validation): DNS labels and subdomains,
 * label keys and values, port names. The policy parser turns a problem into
 * an "invalid" finding; the sentences returned are part of its messages.
 *
 * Every function reads the len bytes at s (borrowed, need not be
 * NUL-terminated). Private to the engine (not under include/hnsnetpol/).
 */
#ifndef HNP_NAMES_H
#define HNP_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 characters (namespace names). */
bool hnp_names_dns_label(const char *s, size_t len);

/* DNS-1123 subdomain: dot-separated labels, at most 253 characters (most object names). */
bool hnp_names_dns_subdomain(const char *s, size_t len);

/*
 * Why s is not a valid label key (IsQualifiedName: an optional DNS subdomain
 * prefix and '/', then a name of at most 63 characters of [A-Za-z0-9-_.]
 * beginning and ending with [A-Za-z0-9]), or NULL when it is. The sentence
 * is static.
 */
const char *hnp_names_label_key_problem(const char *s, size_t len);

/* Why s is not a valid label value, or NULL when it is (empty is valid). Static sentence. */
const char *hnp_names_label_value_problem(const char *s, size_t len);

/* Why s is not an IANA_SVC_NAME (IsValidPortName), or NULL when it is. Static sentence. */
const char *hnp_names_port_name_problem(const char *s, size_t len);

#endif /* HNP_NAMES_H */
