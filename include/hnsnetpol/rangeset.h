/*
 * rangeset.h - sets of unsigned integers as sorted inclusive ranges, IPv4
 * addresses and CIDRs (and the IPv6 CIDRs a policy may hold), and the two
 * renderings HNS takes: the fewest CIDRs covering exactly a set of
 * addresses, and port lists such as "80,9000-9100".
 *
 * Addresses are IPv4 in host byte order (10.0.0.1 == 0x0A000001).
 */
#ifndef HNP_RANGESET_H
#define HNP_RANGESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hnsnetpol/error.h"

struct hnp_range {
    uint32_t lo; /* inclusive */
    uint32_t hi; /* inclusive */
};

/*
 * A growable set of ranges. After hnp_rangeset_normalize() the ranges are
 * sorted, disjoint and not adjacent. Zero-initialise or hnp_rangeset_init().
 */
struct hnp_rangeset {
    struct hnp_range *items;
    size_t count;
    size_t cap;
};

struct hnp_cidr {
    uint32_t addr;  /* network address, host bits zero */
    uint8_t prefix; /* 0..32 */
};

void hnp_rangeset_init(struct hnp_rangeset *set);
/* Frees items; the set is empty and reusable afterwards. Accepts NULL. */
void hnp_rangeset_free(struct hnp_rangeset *set);
/* Add [lo, hi] (lo <= hi). Leaves the set unnormalized. */
enum hnp_err hnp_rangeset_add(struct hnp_rangeset *set, uint32_t lo, uint32_t hi);
/* Add every range of src. */
enum hnp_err hnp_rangeset_add_set(struct hnp_rangeset *set, const struct hnp_rangeset *src);
/* Sort, then merge overlapping and adjacent ranges. */
void hnp_rangeset_normalize(struct hnp_rangeset *set);
/* Membership; the set must be normalized (binary search). */
bool hnp_rangeset_contains(const struct hnp_rangeset *set, uint32_t value);
/* Equality of two normalized sets. */
bool hnp_rangeset_equal(const struct hnp_rangeset *a, const struct hnp_rangeset *b);

/* Strict dotted quad "a.b.c.d" (no leading zeros beyond "0", no spaces). */
bool hnp_ipv4_parse(const char *text, uint32_t *out);
/* Writes "a.b.c.d" and a NUL into out (16 bytes are enough). */
void hnp_ipv4_format(uint32_t addr, char out[16]);

/*
 * Parse "a.b.c.d/n" (n 0..32). Host bits set below the prefix are accepted
 * and cleared, as the API server does; *host_bits_set (may be NULL) says so.
 * Returns HNP_ERR_INVALID with a message on anything else (IPv6 included).
 */
enum hnp_err hnp_cidr_parse(const char *text, struct hnp_cidr *out, bool *host_bits_set,
                            struct hnp_error *err);
/* Writes "a.b.c.d/n", or "a.b.c.d" for /32, into out (19 bytes are enough). */
void hnp_cidr_format(const struct hnp_cidr *cidr, char out[19]);
/* The range [first, last] a CIDR covers. */
struct hnp_range hnp_cidr_range(const struct hnp_cidr *cidr);
bool hnp_cidr_contains(const struct hnp_cidr *cidr, uint32_t addr);

/* An IPv6 CIDR: valid in a policy, never matched (pods are IPv4). */
struct hnp_cidr6 {
    uint8_t addr[16]; /* network address, host bits zero, network byte order */
    uint8_t prefix;   /* 0..128 */
};

/* A CIDR of either family, as an ipBlock's cidr or except entry holds it. */
struct hnp_cidr_any {
    bool ipv6;
    struct hnp_cidr v4;  /* when !ipv6 */
    struct hnp_cidr6 v6; /* when ipv6 */
};

/*
 * Parse an IPv4 CIDR (as hnp_cidr_parse) or an IPv6 one, "addr/n" with
 * addr in an RFC 4291 text form (no zone) and n 0..128, host bits accepted
 * and cleared. The family is told by a ':' in text: out->ipv6 says which
 * even when false is returned (text is not a valid CIDR). text is borrowed.
 */
bool hnp_cidr_any_parse(const char *text, struct hnp_cidr_any *out);

/* True when inner is a strict subset of outer: same family, longer prefix, inside. */
bool hnp_cidr_any_inside(const struct hnp_cidr_any *inner, const struct hnp_cidr_any *outer);

/*
 * The fewest CIDRs covering exactly the addresses of a normalized set, in
 * ascending order. *out is a new array the caller frees (NULL when the set is
 * empty); *count receives its length.
 */
enum hnp_err hnp_rangeset_to_cidrs(const struct hnp_rangeset *set, struct hnp_cidr **out,
                                   size_t *count);

#endif /* HNP_RANGESET_H */
