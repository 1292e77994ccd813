/*
 * rangeset.c - sets of unsigned integers as sorted inclusive ranges, strict
 * IPv4 / CIDR parsing and formatting, IPv6 CIDR parsing (ipBlocks may be
 * IPv6), and the minimal exact CIDR cover of an address set.
 *
 * Used by the policy parser (ipBlock), the translator (peer address sets,
 * port lists) and acl.c (the address lists HNS takes). Arithmetic on range
 * ends is done in uint64_t wherever "hi + 1" or "1 << 32" could appear, so
 * 0.0.0.0/0 and 255.255.255.255 need no special case.
 */
#include "hnsnetpol/rangeset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Growth cap: a set with more ranges than this is an error, not an allocation. */
#define RANGESET_MAX_RANGES ((size_t)1 << 24)

void hnp_rangeset_init(struct hnp_rangeset *set)
{
    set->items = NULL;
    set->count = 0;
    set->cap = 0;
}

void hnp_rangeset_free(struct hnp_rangeset *set)
{
    if (set == NULL)
        return;
    free(set->items);
    hnp_rangeset_init(set);
}

/* Make room for `extra` more ranges. */
static enum hnp_err reserve(struct hnp_rangeset *set, size_t extra)
{
    if (extra > RANGESET_MAX_RANGES || set->count > RANGESET_MAX_RANGES - extra)
        return HNP_ERR_LIMIT;
    size_t need = set->count + extra;
    if (need <= set->cap)
        return HNP_OK;
    size_t cap = set->cap ? set->cap : 8;
    while (cap < need)
        cap *= 2;
    if (cap > RANGESET_MAX_RANGES)
        cap = RANGESET_MAX_RANGES;
    struct hnp_range *items = realloc(set->items, cap * sizeof(*items));
    if (items == NULL)
        return HNP_ERR_NOMEM;
    set->items = items;
    set->cap = cap;
    return HNP_OK;
}

enum hnp_err hnp_rangeset_add(struct hnp_rangeset *set, uint32_t lo, uint32_t hi)
{
    if (lo > hi)
        return HNP_ERR_INVALID;
    enum hnp_err rc = reserve(set, 1);
    if (rc != HNP_OK)
        return rc;
    set->items[set->count].lo = lo;
    set->items[set->count].hi = hi;
    set->count++;
    return HNP_OK;
}

enum hnp_err hnp_rangeset_add_set(struct hnp_rangeset *set, const struct hnp_rangeset *src)
{
    size_t n = src->count; /* read before reserve: src may be set itself */
    if (n == 0)
        return HNP_OK;
    enum hnp_err rc = reserve(set, n);
    if (rc != HNP_OK)
        return rc;
    /* After reserve, src->items is current even when src == set. */
    memmove(set->items + set->count, src->items, n * sizeof(*set->items));
    set->count += n;
    return HNP_OK;
}

static int range_cmp(const void *pa, const void *pb)
{
    const struct hnp_range *a = pa, *b = pb;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    return 0;
}

void hnp_rangeset_normalize(struct hnp_rangeset *set)
{
    if (set->count < 2)
        return;
    qsort(set->items, set->count, sizeof(*set->items), range_cmp);
    size_t out = 0;
    for (size_t i = 1; i < set->count; i++) {
        struct hnp_range *last = &set->items[out];
        const struct hnp_range *cur = &set->items[i];
        if ((uint64_t)cur->lo <= (uint64_t)last->hi + 1) {
            if (cur->hi > last->hi)
                last->hi = cur->hi;
        } else {
            set->items[++out] = *cur;
        }
    }
    set->count = out + 1;
}

bool hnp_rangeset_contains(const struct hnp_rangeset *set, uint32_t value)
{
    size_t lo = 0, hi = set->count; /* search [lo, hi) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct hnp_range *r = &set->items[mid];
        if (value < r->lo)
            hi = mid;
        else if (value > r->hi)
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

bool hnp_rangeset_equal(const struct hnp_rangeset *a, const struct hnp_rangeset *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        if (a->items[i].lo != b->items[i].lo || a->items[i].hi != b->items[i].hi)
            return false;
    }
    return true;
}

/*
 * Parse one decimal number of at most max_digits digits starting at *p, no
 * sign, no leading zero unless the number is exactly "0". Advances *p.
 */
static bool parse_decimal(const char **p, unsigned max_digits, unsigned long *out)
{
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return false;
    if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
        return false;
    unsigned long v = 0;
    unsigned n = 0;
    while (*s >= '0' && *s <= '9') {
        if (++n > max_digits)
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
        s++;
    }
    *p = s;
    *out = v;
    return true;
}

/* Parse a dotted quad at *p, advancing *p past it (what follows is not checked). */
static bool parse_quad(const char **p, uint32_t *out)
{
    const char *s = *p;
    uint32_t addr = 0;
    for (int i = 0; i < 4; i++) {
        unsigned long octet;
        if (i > 0) {
            if (*s != '.')
                return false;
            s++;
        }
        if (!parse_decimal(&s, 3, &octet) || octet > 255)
            return false;
        addr = (addr << 8) | (uint32_t)octet;
    }
    *p = s;
    *out = addr;
    return true;
}

bool hnp_ipv4_parse(const char *text, uint32_t *out)
{
    if (text == NULL)
        return false;
    const char *p = text;
    uint32_t addr;
    if (!parse_quad(&p, &addr) || *p != '\0')
        return false;
    *out = addr;
    return true;
}

void hnp_ipv4_format(uint32_t addr, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", (unsigned)(addr >> 24), (unsigned)((addr >> 16) & 0xff),
             (unsigned)((addr >> 8) & 0xff), (unsigned)(addr & 0xff));
}

static uint32_t prefix_mask(unsigned prefix)
{
    return prefix == 0 ? 0 : (uint32_t)(UINT32_MAX << (32 - prefix));
}

enum hnp_err hnp_cidr_parse(const char *text, struct hnp_cidr *out, bool *host_bits_set,
                            struct hnp_error *err)
{
    if (text == NULL)
        return hnp_error_set(err, HNP_ERR_INVALID, NULL, "missing CIDR");
    if (strchr(text, ':') != NULL)
        return hnp_error_set(err, HNP_ERR_INVALID, NULL,
                             "\"%s\" is an IPv6 CIDR; only IPv4 is supported", text);
    const char *p = text;
    uint32_t addr;
    unsigned long prefix;
    if (!parse_quad(&p, &addr) || *p != '/')
        return hnp_error_set(err, HNP_ERR_INVALID, NULL,
                             "\"%s\" is not an IPv4 CIDR (expected a.b.c.d/n)", text);
    p++;
    if (!parse_decimal(&p, 2, &prefix) || *p != '\0' || prefix > 32)
        return hnp_error_set(err, HNP_ERR_INVALID, NULL,
                             "\"%s\" is not an IPv4 CIDR (prefix length must be 0..32)", text);
    uint32_t mask = prefix_mask((unsigned)prefix);
    if (host_bits_set != NULL)
        *host_bits_set = (addr & ~mask) != 0;
    out->addr = addr & mask;
    out->prefix = (uint8_t)prefix;
    return HNP_OK;
}

void hnp_cidr_format(const struct hnp_cidr *cidr, char out[19])
{
    hnp_ipv4_format(cidr->addr, out);
    if (cidr->prefix >= 32)
        return;
    /* Appended by hand: at most 15 + 3 + 1 bytes, which the compiler cannot see. */
    size_t len = strlen(out);
    out[len++] = '/';
    if (cidr->prefix >= 10)
        out[len++] = (char)('0' + cidr->prefix / 10);
    out[len++] = (char)('0' + cidr->prefix % 10);
    out[len] = '\0';
}

struct hnp_range hnp_cidr_range(const struct hnp_cidr *cidr)
{
    unsigned prefix = cidr->prefix > 32 ? 32 : cidr->prefix;
    uint32_t mask = prefix_mask(prefix);
    struct hnp_range r = {cidr->addr & mask, (cidr->addr & mask) | ~mask};
    return r;
}

bool hnp_cidr_contains(const struct hnp_cidr *cidr, uint32_t addr)
{
    struct hnp_range r = hnp_cidr_range(cidr);
    return addr >= r.lo && addr <= r.hi;
}

/* ---- IPv6 CIDRs: valid in a policy, never matched (pods are IPv4) ---- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* An IPv6 address of len bytes (RFC 4291 text forms, no zone). */
static bool parse_ipv6(const char *s, size_t len, uint8_t out[16])
{
    uint16_t groups[8];
    size_t n = 0;  /* groups parsed */
    long gap = -1; /* index in groups where "::" stands */
    size_t i = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    } else if (len >= 1 && s[0] == ':') {
        return false;
    }
    while (i < len) {
        if (n == 8)
            return false;
        /* An embedded IPv4 address ends the text and fills two groups. */
        size_t end = i;
        while (end < len && s[end] != ':')
            end++;
        if (end == len && memchr(s + i, '.', len - i) != NULL) {
            char quad[16];
            uint32_t v4;
            if (len - i >= sizeof(quad) || n > 6)
                return false;
            memcpy(quad, s + i, len - i);
            quad[len - i] = '\0';
            if (!hnp_ipv4_parse(quad, &v4))
                return false;
            groups[n++] = (uint16_t)(v4 >> 16);
            groups[n++] = (uint16_t)(v4 & 0xffff);
            break;
        }
        if (end == i || end - i > 4)
            return false;
        unsigned v = 0;
        for (size_t k = i; k < end; k++) {
            int d = hex_digit(s[k]);
            if (d < 0)
                return false;
            v = v * 16 + (unsigned)d;
        }
        groups[n++] = (uint16_t)v;
        i = end;
        if (i == len)
            break;
        i++; /* the ':' */
        if (i < len && s[i] == ':') {
            if (gap >= 0)
                return false;
            gap = (long)n;
            i++;
        } else if (i == len) {
            return false; /* a trailing single ':' */
        }
    }
    if (gap < 0 && n != 8)
        return false;
    if (gap >= 0 && n == 8)
        return false; /* "::" must stand for at least one group */
    uint16_t full[8] = {0};
    if (gap < 0) {
        memcpy(full, groups, sizeof(full));
    } else {
        size_t g = (size_t)gap, tail = n - g;
        memcpy(full, groups, g * sizeof(uint16_t));
        memcpy(full + 8 - tail, groups + g, tail * sizeof(uint16_t));
    }
    for (size_t k = 0; k < 8; k++) {
        out[2 * k] = (uint8_t)(full[k] >> 8);
        out[2 * k + 1] = (uint8_t)(full[k] & 0xff);
    }
    return true;
}

/* "addr/prefix" with an IPv6 address; host bits are accepted and cleared. */
static bool parse_cidr6(const char *s, struct hnp_cidr6 *out)
{
    const char *slash = strchr(s, '/');
    if (slash == NULL || !parse_ipv6(s, (size_t)(slash - s), out->addr))
        return false;
    const char *p = slash + 1;
    if (*p == '\0' || strlen(p) > 3)
        return false;
    unsigned prefix = 0;
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return false;
        prefix = prefix * 10 + (unsigned)(*p - '0');
    }
    if (prefix > 128)
        return false;
    out->prefix = (uint8_t)prefix;
    for (unsigned bit = prefix; bit < 128; bit++)
        out->addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
    return true;
}

/* Is inner a strict subset of outer? */
static bool cidr6_strictly_inside(const struct hnp_cidr6 *inner, const struct hnp_cidr6 *outer)
{
    if (inner->prefix <= outer->prefix)
        return false;
    for (unsigned bit = 0; bit < outer->prefix; bit++) {
        uint8_t m = (uint8_t)(0x80u >> (bit % 8));
        if ((inner->addr[bit / 8] & m) != (outer->addr[bit / 8] & m))
            return false;
    }
    return true;
}

static bool cidr4_strictly_inside(const struct hnp_cidr *inner, const struct hnp_cidr *outer)
{
    if (inner->prefix <= outer->prefix)
        return false;
    uint32_t mask = outer->prefix == 0 ? 0 : 0xffffffffu << (32 - outer->prefix);
    return (inner->addr & mask) == outer->addr;
}

/*
 * A CIDR of either family: the family is told by a ':' in the text, and
 * out->ipv6 says which one even when the text is not a valid CIDR.
 */
bool hnp_cidr_any_parse(const char *text, struct hnp_cidr_any *out)
{
    memset(out, 0, sizeof(*out));
    if (strchr(text, ':') != NULL) {
        out->ipv6 = true;
        return parse_cidr6(text, &out->v6);
    }
    return hnp_cidr_parse(text, &out->v4, NULL, NULL) == HNP_OK;
}

bool hnp_cidr_any_inside(const struct hnp_cidr_any *inner, const struct hnp_cidr_any *outer)
{
    if (inner->ipv6 != outer->ipv6)
        return false;
    return inner->ipv6 ? cidr6_strictly_inside(&inner->v6, &outer->v6)
                       : cidr4_strictly_inside(&inner->v4, &outer->v4);
}

/*
 * The greedy cover of [lo, hi]: repeatedly the largest block aligned at lo
 * that ends at or before hi. Optimal for one interval, and since a normalized
 * set's ranges are separated by gaps no CIDR can span, optimal for the set.
 * Writes into out when not NULL; returns the number of CIDRs.
 */
static size_t cover_range(uint64_t lo, uint64_t hi, struct hnp_cidr *out)
{
    size_t n = 0;
    while (lo <= hi) {
        unsigned bits = 0; /* block size 2^bits */
        while (bits < 32 && (lo & (((uint64_t)1 << (bits + 1)) - 1)) == 0 &&
               lo + ((uint64_t)1 << (bits + 1)) - 1 <= hi)
            bits++;
        if (out != NULL) {
            out[n].addr = (uint32_t)lo;
            out[n].prefix = (uint8_t)(32 - bits);
        }
        n++;
        lo += (uint64_t)1 << bits;
    }
    return n;
}

enum hnp_err hnp_rangeset_to_cidrs(const struct hnp_rangeset *set, struct hnp_cidr **out,
                                   size_t *count)
{
    size_t total = 0;
    for (size_t i = 0; i < set->count; i++)
        total += cover_range(set->items[i].lo, set->items[i].hi, NULL);
    if (total == 0) {
        *out = NULL;
        *count = 0;
        return HNP_OK;
    }
    if (total > SIZE_MAX / sizeof(struct hnp_cidr))
        return HNP_ERR_LIMIT;
    struct hnp_cidr *cidrs = malloc(total * sizeof(*cidrs));
    if (cidrs == NULL)
        return HNP_ERR_NOMEM;
    size_t n = 0;
    for (size_t i = 0; i < set->count; i++)
        n += cover_range(set->items[i].lo, set->items[i].hi, cidrs + n);
    *out = cidrs;
    *count = n;
    return HNP_OK;
}
