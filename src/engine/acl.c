/*
 * acl.c - HNS ACL policies: the struct, its exact JSON rendering, the
 * HcnModifyEndpoint request that installs a complete ACL set, the strict
 * parse of an ACL policy object (validated the way HNS validates it, so the
 * mock backend can refuse what HNS refuses), and evaluation under HNS rules
 * (hns-reference.md sections 3, 4 and 7).
 *
 * The translator produces struct hnp_acl lists, the backends send
 * hnp_acl_list_request(), `explain` and the tests evaluate with
 * hnp_acl_list_eval().
 */
#include "hnsnetpol/acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* Growth cap of an ACL list: far beyond any endpoint's rule count. */
#define ACL_LIST_MAX ((size_t)1 << 20)

/* Longest text of one list entry: "255.255.255.255/32" or "65535-65535". */
#define ENTRY_MAX 18

/* ------------------------------------------------------------------------ */
/* The struct and the list                                                  */

/* Length of id within its fixed buffer (strnlen is POSIX, not C11). */
static size_t id_length(const char *id)
{
    const char *nul = memchr(id, '\0', HNP_ACL_ID_MAX);
    return nul ? (size_t)(nul - id) : HNP_ACL_ID_MAX;
}

void hnp_acl_clear(struct hnp_acl *acl)
{
    if (acl == NULL)
        return;
    free(acl->remote_addrs);
    free(acl->local_ports);
    free(acl->remote_ports);
    memset(acl, 0, sizeof(*acl));
}

/* A new copy of n elements of size bytes at src; *out NULL when n is 0. */
static enum hnp_err dup_array(void **out, const void *src, size_t n, size_t size)
{
    *out = NULL;
    if (n == 0)
        return HNP_OK;
    if (n > SIZE_MAX / size)
        return HNP_ERR_NOMEM;
    void *copy = malloc(n * size);
    if (copy == NULL)
        return HNP_ERR_NOMEM;
    memcpy(copy, src, n * size);
    *out = copy;
    return HNP_OK;
}

enum hnp_err hnp_acl_copy(struct hnp_acl *dst, const struct hnp_acl *src)
{
    struct hnp_acl copy = *src;
    void *addrs, *local, *remote;
    enum hnp_err rc =
        dup_array(&addrs, src->remote_addrs, src->n_remote_addrs, sizeof(*src->remote_addrs));
    if (rc != HNP_OK) {
        memset(dst, 0, sizeof(*dst));
        return rc;
    }
    rc = dup_array(&local, src->local_ports, src->n_local_ports, sizeof(*src->local_ports));
    if (rc != HNP_OK) {
        free(addrs);
        memset(dst, 0, sizeof(*dst));
        return rc;
    }
    rc = dup_array(&remote, src->remote_ports, src->n_remote_ports, sizeof(*src->remote_ports));
    if (rc != HNP_OK) {
        free(addrs);
        free(local);
        memset(dst, 0, sizeof(*dst));
        return rc;
    }
    copy.remote_addrs = addrs;
    copy.local_ports = local;
    copy.remote_ports = remote;
    *dst = copy;
    return HNP_OK;
}

static bool cidrs_equal(const struct hnp_cidr *a, const struct hnp_cidr *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].addr != b[i].addr || a[i].prefix != b[i].prefix)
            return false;
    }
    return true;
}

static bool ranges_equal(const struct hnp_range *a, const struct hnp_range *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].lo != b[i].lo || a[i].hi != b[i].hi)
            return false;
    }
    return true;
}

bool hnp_acl_equal(const struct hnp_acl *a, const struct hnp_acl *b)
{
    size_t len = id_length(a->id);
    return len == id_length(b->id) && memcmp(a->id, b->id, len) == 0 && a->action == b->action &&
           a->direction == b->direction && a->protocol == b->protocol &&
           a->priority == b->priority && a->n_remote_addrs == b->n_remote_addrs &&
           a->n_local_ports == b->n_local_ports && a->n_remote_ports == b->n_remote_ports &&
           cidrs_equal(a->remote_addrs, b->remote_addrs, a->n_remote_addrs) &&
           ranges_equal(a->local_ports, b->local_ports, a->n_local_ports) &&
           ranges_equal(a->remote_ports, b->remote_ports, a->n_remote_ports);
}

bool hnp_acl_list_equal(const struct hnp_acl_list *a, const struct hnp_acl_list *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        if (!hnp_acl_equal(&a->items[i], &b->items[i]))
            return false;
    }
    return true;
}

void hnp_acl_list_init(struct hnp_acl_list *list)
{
    list->items = NULL;
    list->count = 0;
    list->cap = 0;
}

void hnp_acl_list_free(struct hnp_acl_list *list)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < list->count; i++)
        hnp_acl_clear(&list->items[i]);
    free(list->items);
    hnp_acl_list_init(list);
}

enum hnp_err hnp_acl_list_push(struct hnp_acl_list *list, struct hnp_acl *acl)
{
    if (list->count == list->cap) {
        if (list->cap >= ACL_LIST_MAX) {
            hnp_acl_clear(acl);
            return HNP_ERR_LIMIT;
        }
        size_t cap = list->cap ? list->cap * 2 : 16;
        struct hnp_acl *items = realloc(list->items, cap * sizeof(*items));
        if (items == NULL) {
            hnp_acl_clear(acl);
            return HNP_ERR_NOMEM;
        }
        list->items = items;
        list->cap = cap;
    }
    list->items[list->count++] = *acl;
    memset(acl, 0, sizeof(*acl));
    return HNP_OK;
}

static int acl_order(const struct hnp_acl *a, const struct hnp_acl *b)
{
    if (a->priority != b->priority)
        return a->priority < b->priority ? -1 : 1;
    if (a->direction != b->direction)
        return a->direction < b->direction ? -1 : 1;
    return strncmp(a->id, b->id, HNP_ACL_ID_MAX);
}

/* Stable insertion sort: the fallback when no scratch memory is available. */
static void insertion_sort(struct hnp_acl *items, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct hnp_acl cur = items[i];
        size_t j = i;
        while (j > 0 && acl_order(&items[j - 1], &cur) > 0) {
            items[j] = items[j - 1];
            j--;
        }
        items[j] = cur;
    }
}

void hnp_acl_list_sort(struct hnp_acl_list *list)
{
    size_t n = list->count;
    if (n < 2)
        return;
    struct hnp_acl *tmp = n <= SIZE_MAX / sizeof(*tmp) ? malloc(n * sizeof(*tmp)) : NULL;
    if (tmp == NULL) {
        insertion_sort(list->items, n);
        return;
    }
    /* Bottom-up merge sort; taking from the left run on ties keeps it stable. */
    struct hnp_acl *src = list->items, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = mid + width < n ? mid + width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = acl_order(&src[j], &src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        struct hnp_acl *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != list->items)
        memcpy(list->items, src, n * sizeof(*src));
    free(tmp);
}

bool hnp_acl_id_is_ours(const char *id)
{
    return id != NULL && strncmp(id, HNP_ACL_ID_PREFIX, strlen(HNP_ACL_ID_PREFIX)) == 0;
}

/* ------------------------------------------------------------------------ */
/* Rendering                                                                */

/* "a,b/n,..." (a /32 as the bare address); a new string or NULL. */
static char *render_addresses(const struct hnp_cidr *cidrs, size_t n)
{
    if (n > SIZE_MAX / (ENTRY_MAX + 1) - 1)
        return NULL;
    char *text = malloc(n * (ENTRY_MAX + 1) + 1);
    if (text == NULL)
        return NULL;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        char entry[19];
        hnp_cidr_format(&cidrs[i], entry);
        if (i > 0)
            text[used++] = ',';
        size_t len = strlen(entry);
        memcpy(text + used, entry, len);
        used += len;
    }
    text[used] = '\0';
    return text;
}

/* "80,9000-9100"; a new string or NULL. */
static char *render_ports(const struct hnp_range *ports, size_t n)
{
    if (n > SIZE_MAX / (ENTRY_MAX + 1) - 1)
        return NULL;
    size_t size = n * (ENTRY_MAX + 1) + 1;
    char *text = malloc(size);
    if (text == NULL)
        return NULL;
    size_t used = 0;
    text[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *sep = i > 0 ? "," : "";
        int len;
        if (ports[i].lo == ports[i].hi)
            len = snprintf(text + used, size - used, "%s%lu", sep, (unsigned long)ports[i].lo);
        else
            len = snprintf(text + used, size - used, "%s%lu-%lu", sep, (unsigned long)ports[i].lo,
                           (unsigned long)ports[i].hi);
        if (len < 0 || (size_t)len >= size - used) {
            free(text);
            return NULL;
        }
        used += (size_t)len;
    }
    return text;
}

/* json_object_set_new that records failure in *ok (value may be NULL). */
static void put(json_t *obj, const char *key, json_t *value, bool *ok)
{
    if (value == NULL || json_object_set_new(obj, key, value) != 0)
        *ok = false;
}

/* put() of a string we allocated (NULL when allocation failed); frees it. */
static void put_text(json_t *obj, const char *key, char *text, bool *ok)
{
    if (text == NULL) {
        *ok = false;
        return;
    }
    put(obj, key, json_string(text), ok);
    free(text);
}

json_t *hnp_acl_to_json(const struct hnp_acl *acl)
{
    json_t *settings = json_object();
    if (settings == NULL)
        return NULL;
    bool ok = true;
    put(settings, "Id", json_stringn(acl->id, id_length(acl->id)), &ok);
    put(settings, "Action", json_string(acl->action == HNP_ACL_ALLOW ? "Allow" : "Block"), &ok);
    put(settings, "Direction", json_string(acl->direction == HNP_ACL_IN ? "In" : "Out"), &ok);
    if (acl->protocol != 0) {
        char proto[4];
        snprintf(proto, sizeof(proto), "%u", (unsigned)acl->protocol);
        put(settings, "Protocols", json_string(proto), &ok);
    }
    if (acl->n_remote_addrs > 0)
        put_text(settings, "RemoteAddresses",
                 render_addresses(acl->remote_addrs, acl->n_remote_addrs), &ok);
    if (acl->n_local_ports > 0)
        put_text(settings, "LocalPorts", render_ports(acl->local_ports, acl->n_local_ports), &ok);
    if (acl->n_remote_ports > 0)
        put_text(settings, "RemotePorts", render_ports(acl->remote_ports, acl->n_remote_ports),
                 &ok);
    /* The struct models Switch ACLs only: the ones pod traffic hits. */
    put(settings, "RuleType", json_string("Switch"), &ok);
    put(settings, "Priority", json_integer(acl->priority), &ok);
    if (!ok) {
        json_decref(settings);
        return NULL;
    }
    json_t *policy = json_object();
    if (policy == NULL) {
        json_decref(settings);
        return NULL;
    }
    put(policy, "Type", json_string("ACL"), &ok);
    put(policy, "Settings", settings, &ok);
    if (!ok) {
        json_decref(policy);
        return NULL;
    }
    return policy;
}

json_t *hnp_acl_list_request(const struct hnp_acl_list *list, const json_t *foreign)
{
    /* A non-array `foreign` is a caller bug; dropping it would delete the
     * endpoint's other policies, so no request is made at all. */
    if (foreign != NULL && !json_is_array(foreign))
        return NULL;
    json_t *policies = json_array();
    if (policies == NULL)
        return NULL;
    bool ok = true;
    for (size_t i = 0; ok && foreign != NULL && i < json_array_size(foreign); i++) {
        /* Shared, not copied: the foreign policies go out byte for byte. */
        if (json_array_append(policies, json_array_get(foreign, i)) != 0)
            ok = false;
    }
    for (size_t i = 0; ok && list != NULL && i < list->count; i++) {
        if (json_array_append_new(policies, hnp_acl_to_json(&list->items[i])) != 0)
            ok = false;
    }
    if (!ok) {
        json_decref(policies);
        return NULL;
    }
    json_t *settings = json_object();
    if (settings == NULL) {
        json_decref(policies);
        return NULL;
    }
    put(settings, "Policies", policies, &ok);
    json_t *request = json_object();
    if (!ok || request == NULL) {
        json_decref(settings);
        json_decref(request);
        return NULL;
    }
    put(request, "ResourceType", json_string("Policy"), &ok);
    put(request, "RequestType", json_string("Update"), &ok);
    put(request, "Settings", settings, &ok);
    if (!ok) {
        json_decref(request);
        return NULL;
    }
    return request;
}

/* ------------------------------------------------------------------------ */
/* Parsing as HNS does                                                      */

/*
 * Fill err and evaluate to HNP_ERR_INVALID: the refusal HNS answers with
 * 0x803B000D. A macro so that static analysis sees every refusal path fail.
 */
#define REFUSE(err, where, ...)                                                                    \
    (hnp_error_set((err), HNP_ERR_INVALID, (where), __VA_ARGS__), HNP_ERR_INVALID)

/* The keys HNS knows in ACL Settings, in canonical spelling. */
static const char *const settings_keys[] = {
    "Id",         "Action",      "Direction", "Protocols", "LocalAddresses", "RemoteAddresses",
    "LocalPorts", "RemotePorts", "RuleType",  "Priority",  "Scope",
};

/*
 * Strict decimal: 1 to max_digits digits, no sign, no leading zero unless
 * the number is "0", value <= max.
 */
static bool parse_number(const char *s, size_t len, unsigned max_digits, unsigned long max,
                         unsigned long *out)
{
    if (len == 0 || len > max_digits || (len > 1 && s[0] == '0'))
        return false;
    unsigned long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* The string value of Settings.key, NULL with *present false when absent. */
static enum hnp_err get_string(const json_t *settings, const char *key, const char **out,
                               bool *present, struct hnp_error *err)
{
    const json_t *value = json_object_get(settings, key);
    *out = NULL;
    *present = value != NULL;
    if (value == NULL)
        return HNP_OK;
    char where[64];
    snprintf(where, sizeof(where), "Settings.%s", key);
    if (!json_is_string(value))
        return REFUSE(err, where, "ACL %s must be a string", key);
    if (strlen(json_string_value(value)) != json_string_length(value))
        return REFUSE(err, where, "ACL %s contains a NUL character", key);
    *out = json_string_value(value);
    return HNP_OK;
}

/* Number of comma-separated entries of a non-empty list. */
static size_t count_entries(const char *text)
{
    size_t n = 1;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    return n;
}

/*
 * Split the comma list `text` of Settings.key, calling parse_entry on each
 * entry (copied NUL-terminated, at most ENTRY_MAX characters) with its index.
 * The empty string is an empty list (HNS reports absent lists that way).
 */
typedef enum hnp_err (*entry_fn)(const char *key, const char *entry, size_t index, void *items,
                                 struct hnp_error *err);

static enum hnp_err parse_list(const char *key, const char *text, size_t item_size,
                               entry_fn parse_entry, void **out, size_t *count,
                               struct hnp_error *err)
{
    char where[64];
    snprintf(where, sizeof(where), "Settings.%s", key);
    *out = NULL;
    *count = 0;
    if (text == NULL || text[0] == '\0')
        return HNP_OK;
    size_t n = count_entries(text);
    if (n > HNP_ACL_MAX_LIST)
        return REFUSE(err, where, "ACL %s has %zu entries; at most %d are accepted", key, n,
                      HNP_ACL_MAX_LIST);
    void *items = malloc(n * item_size);
    if (items == NULL)
        return HNP_ERR_NOMEM;
    const char *p = text;
    for (size_t i = 0; i < n; i++) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char entry[ENTRY_MAX + 1];
        enum hnp_err rc;
        if (len == 0) {
            rc = REFUSE(err, where, "ACL %s \"%s\" has an empty entry at position %zu", key, text,
                        i + 1);
        } else if (len > ENTRY_MAX) {
            rc = REFUSE(err, where, "ACL %s entry %zu \"%.*s\" is not valid (too long)", key, i + 1,
                        len > 40 ? 40 : (int)len, p);
        } else {
            memcpy(entry, p, len);
            entry[len] = '\0';
            rc = parse_entry(key, entry, i, items, err);
        }
        if (rc != HNP_OK) {
            free(items);
            return rc;
        }
        p = end ? end + 1 : p + len;
    }
    *out = items;
    *count = n;
    return HNP_OK;
}

static enum hnp_err parse_address_entry(const char *key, const char *entry, size_t index,
                                        void *items, struct hnp_error *err)
{
    char where[64];
    snprintf(where, sizeof(where), "Settings.%s", key);
    struct hnp_cidr *cidr = (struct hnp_cidr *)items + index;
    if (hnp_equal_nocase(entry, "Any"))
        return REFUSE(err, where, "ACL %s: \"%s\" is rejected by HNS; omit %s to match any address",
                      key, entry, key);
    if (strchr(entry, '-') != NULL)
        return REFUSE(err, where,
                      "ACL %s entry %zu \"%s\": address ranges are not accepted, use "
                      "CIDRs",
                      key, index + 1, entry);
    if (strchr(entry, ':') != NULL)
        return REFUSE(err, where, "ACL %s entry %zu \"%s\": IPv6 is not supported", key, index + 1,
                      entry);
    if (strchr(entry, '/') != NULL) {
        /* Host bits below the prefix are accepted and cleared. */
        if (hnp_cidr_parse(entry, cidr, NULL, NULL) == HNP_OK)
            return HNP_OK;
    } else {
        uint32_t addr;
        if (hnp_ipv4_parse(entry, &addr)) {
            cidr->addr = addr;
            cidr->prefix = 32;
            return HNP_OK;
        }
    }
    return REFUSE(err, where, "ACL %s entry %zu \"%s\" is not an IPv4 address or CIDR", key,
                  index + 1, entry);
}

static enum hnp_err parse_port_entry(const char *key, const char *entry, size_t index, void *items,
                                     struct hnp_error *err)
{
    struct hnp_range *range = (struct hnp_range *)items + index;
    const char *dash = strchr(entry, '-');
    unsigned long lo = 0, hi = 0;
    bool ok;
    if (dash == NULL) {
        ok = parse_number(entry, strlen(entry), 5, 65535, &lo);
        hi = lo;
    } else {
        ok = parse_number(entry, (size_t)(dash - entry), 5, 65535, &lo) &&
             parse_number(dash + 1, strlen(dash + 1), 5, 65535, &hi);
    }
    if (!ok || lo == 0 || lo > hi) {
        char where[64];
        snprintf(where, sizeof(where), "Settings.%s", key);
        return REFUSE(err, where,
                      "ACL %s entry %zu \"%s\" is not a port 1..65535 or a range N-M "
                      "with N <= M",
                      key, index + 1, entry);
    }
    range->lo = (uint32_t)lo;
    range->hi = (uint32_t)hi;
    return HNP_OK;
}

/* Refuse keys HNS does not know; "ID" and other case slips get a pointed message. */
static enum hnp_err check_settings_keys(const json_t *settings, struct hnp_error *err)
{
    const char *key;
    json_t *value;
    /* json_object_foreach wants a non-const object; iterating does not modify it. */
    json_t *obj = (json_t *)settings;
    json_object_foreach(obj, key, value)
    {
        const char *canonical = NULL;
        bool exact = false;
        for (size_t i = 0; i < sizeof(settings_keys) / sizeof(settings_keys[0]); i++) {
            if (strcmp(key, settings_keys[i]) == 0) {
                exact = true;
                break;
            }
            if (hnp_equal_nocase(key, settings_keys[i]))
                canonical = settings_keys[i];
        }
        if (exact)
            continue;
        char where[600];
        snprintf(where, sizeof(where), "Settings.%s", key);
        if (canonical != NULL)
            return REFUSE(err, where,
                          "unknown ACL key \"%s\": keys are case-sensitive, use \"%s\" "
                          "not \"%s\"",
                          key, canonical, key);
        return REFUSE(err, where, "unknown ACL key \"%s\"", key);
    }
    return HNP_OK;
}

/* Check the top-level keys of the policy object: Type "ACL" and Settings an object. */
static enum hnp_err check_policy(const json_t *policy, struct hnp_error *err)
{
    if (!json_is_object(policy))
        return REFUSE(err, "", "an endpoint policy must be an object");
    const char *key;
    json_t *value;
    json_t *obj = (json_t *)policy; /* iteration only */
    json_object_foreach(obj, key, value)
    {
        if (strcmp(key, "Type") != 0 && strcmp(key, "Settings") != 0)
            return REFUSE(err, key, "unknown endpoint policy key \"%s\" (Type and Settings only)",
                          key);
    }
    const json_t *type = json_object_get(policy, "Type");
    if (type == NULL)
        return REFUSE(err, "Type", "policy Type is missing");
    if (!json_is_string(type))
        return REFUSE(err, "Type", "policy Type must be a string");
    if (strcmp(json_string_value(type), "ACL") != 0)
        return REFUSE(err, "Type", "policy Type is \"%s\", not \"ACL\"", json_string_value(type));
    const json_t *settings = json_object_get(policy, "Settings");
    if (settings == NULL)
        return REFUSE(err, "Settings", "ACL Settings is missing");
    if (json_is_string(settings))
        return REFUSE(err, "Settings",
                      "ACL Settings must be a JSON object, not a string of JSON text");
    if (!json_is_object(settings))
        return REFUSE(err, "Settings", "ACL Settings must be a JSON object");
    return HNP_OK;
}

/* Match a required or optional enumerated string; *index gets the position in names. */
static enum hnp_err get_enum(const json_t *settings, const char *key, bool required,
                             const char *const *names, size_t n_names, size_t *index,
                             struct hnp_error *err)
{
    const char *text;
    bool present;
    enum hnp_err rc = get_string(settings, key, &text, &present, err);
    if (rc != HNP_OK)
        return rc;
    char where[64];
    snprintf(where, sizeof(where), "Settings.%s", key);
    if (!present) {
        if (required)
            return REFUSE(err, where, "ACL %s is missing", key);
        *index = 0;
        return HNP_OK;
    }
    for (size_t i = 0; i < n_names; i++) {
        if (strcmp(text, names[i]) == 0) {
            *index = i;
            return HNP_OK;
        }
    }
    return REFUSE(err, where, "ACL %s \"%s\" must be \"%s\" or \"%s\"", key, text, names[0],
                  names[1]);
}

/* Everything after the shape checks; fills acl (zeroed by the caller), may leave arrays set. */
static enum hnp_err parse_settings(const json_t *settings, struct hnp_acl *acl,
                                   struct hnp_error *err)
{
    enum hnp_err rc = check_settings_keys(settings, err);
    if (rc != HNP_OK)
        return rc;

    const char *text;
    bool present;
    rc = get_string(settings, "Id", &text, &present, err);
    if (rc != HNP_OK)
        return rc;
    if (present) {
        /* HNS takes any Id; ours are short, a foreign one we cannot hold is refused. */
        if (strlen(text) >= HNP_ACL_ID_MAX) {
            hnp_error_set(err, HNP_ERR_LIMIT, "Settings.Id", "ACL Id is longer than %d bytes",
                          HNP_ACL_ID_MAX - 1);
            return HNP_ERR_LIMIT;
        }
        memcpy(acl->id, text, strlen(text) + 1);
    }

    static const char *const actions[] = {"Allow", "Block"};
    static const char *const directions[] = {"In", "Out"};
    static const char *const rule_types[] = {"Switch", "Host"};
    size_t index;
    rc = get_enum(settings, "Action", true, actions, 2, &index, err);
    if (rc != HNP_OK)
        return rc;
    acl->action = index == 0 ? HNP_ACL_ALLOW : HNP_ACL_BLOCK;
    rc = get_enum(settings, "Direction", true, directions, 2, &index, err);
    if (rc != HNP_OK)
        return rc;
    acl->direction = index == 0 ? HNP_ACL_IN : HNP_ACL_OUT;
    /* RuleType is validated; the struct models Switch rules only, so a Host
     * rule parses as if it were a Switch rule. */
    rc = get_enum(settings, "RuleType", false, rule_types, 2, &index, err);
    if (rc != HNP_OK)
        return rc;

    rc = get_string(settings, "Protocols", &text, &present, err);
    if (rc != HNP_OK)
        return rc;
    if (present) {
        unsigned long proto;
        if (!parse_number(text, strlen(text), 3, 255, &proto))
            return REFUSE(err, "Settings.Protocols",
                          "ACL Protocols \"%s\" must be one protocol number 0..255 "
                          "in decimal (\"6\" TCP, \"17\" UDP)",
                          text);
        acl->protocol = (uint8_t)proto;
    }

    const json_t *priority = json_object_get(settings, "Priority");
    if (priority != NULL) {
        if (!json_is_integer(priority) || json_integer_value(priority) < 0 ||
            json_integer_value(priority) > 65535)
            return REFUSE(err, "Settings.Priority", "ACL Priority must be an integer 0..65535");
        acl->priority = (uint16_t)json_integer_value(priority);
    }

    const json_t *scope = json_object_get(settings, "Scope");
    if (scope != NULL && !json_is_integer(scope))
        return REFUSE(err, "Settings.Scope", "ACL Scope must be an integer");

    /* LocalAddresses is validated, then dropped: the struct has no field for
     * it (we never write it, and HNS ACLs normally leave it out). */
    rc = get_string(settings, "LocalAddresses", &text, &present, err);
    if (rc != HNP_OK)
        return rc;
    void *items;
    size_t n;
    rc = parse_list("LocalAddresses", text, sizeof(struct hnp_cidr), parse_address_entry, &items,
                    &n, err);
    if (rc != HNP_OK)
        return rc;
    free(items);

    rc = get_string(settings, "RemoteAddresses", &text, &present, err);
    if (rc != HNP_OK)
        return rc;
    rc = parse_list("RemoteAddresses", text, sizeof(struct hnp_cidr), parse_address_entry, &items,
                    &n, err);
    if (rc != HNP_OK)
        return rc;
    acl->remote_addrs = items;
    acl->n_remote_addrs = n;

    static const char *const port_keys[] = {"LocalPorts", "RemotePorts"};
    for (int k = 0; k < 2; k++) {
        rc = get_string(settings, port_keys[k], &text, &present, err);
        if (rc != HNP_OK)
            return rc;
        rc = parse_list(port_keys[k], text, sizeof(struct hnp_range), parse_port_entry, &items, &n,
                        err);
        if (rc != HNP_OK)
            return rc;
        if (k == 0) {
            acl->local_ports = items;
            acl->n_local_ports = n;
        } else {
            acl->remote_ports = items;
            acl->n_remote_ports = n;
        }
        if (n > 0 && acl->protocol != 6 && acl->protocol != 17) {
            char where[64];
            snprintf(where, sizeof(where), "Settings.%s", port_keys[k]);
            return REFUSE(err, where, "ACL %s requires Protocols \"6\" or \"17\"", port_keys[k]);
        }
    }
    return HNP_OK;
}

enum hnp_err hnp_acl_from_json(const json_t *policy, struct hnp_acl *out, struct hnp_error *err)
{
    enum hnp_err rc = check_policy(policy, err);
    if (rc != HNP_OK)
        return rc;
    struct hnp_acl acl;
    memset(&acl, 0, sizeof(acl));
    acl.origin.kind = HNP_ORIGIN_FOREIGN;
    acl.origin.rule_index = -1;
    rc = parse_settings(json_object_get(policy, "Settings"), &acl, err);
    if (rc != HNP_OK) {
        hnp_acl_clear(&acl);
        if (rc == HNP_ERR_NOMEM)
            hnp_error_set(err, rc, "", "out of memory parsing an ACL");
        return rc;
    }
    *out = acl;
    return HNP_OK;
}

/* ------------------------------------------------------------------------ */
/* Evaluation                                                               */

static bool ports_contain(const struct hnp_range *ports, size_t n, uint32_t port)
{
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++) {
        if (port >= ports[i].lo && port <= ports[i].hi)
            return true;
    }
    return false;
}

static bool acl_matches(const struct hnp_acl *acl, const struct hnp_packet *packet)
{
    if (acl->direction != packet->direction)
        return false;
    if (acl->protocol != 0 && acl->protocol != packet->protocol)
        return false;
    if (acl->n_remote_addrs > 0) {
        bool found = false;
        for (size_t i = 0; i < acl->n_remote_addrs && !found; i++)
            found = hnp_cidr_contains(&acl->remote_addrs[i], packet->remote_addr);
        if (!found)
            return false;
    }
    /* The service port is local for In and remote for Out; the other side's
     * port is ephemeral, so a rule restricting it is taken to never match. */
    if (packet->direction == HNP_ACL_IN)
        return acl->n_remote_ports == 0 &&
               ports_contain(acl->local_ports, acl->n_local_ports, packet->port);
    return acl->n_local_ports == 0 &&
           ports_contain(acl->remote_ports, acl->n_remote_ports, packet->port);
}

long hnp_acl_list_eval(const struct hnp_acl_list *list, const struct hnp_packet *packet,
                       enum hnp_verdict *verdict)
{
    long best = -1;
    for (size_t i = 0; i < list->count; i++) {
        const struct hnp_acl *acl = &list->items[i];
        if (best >= 0 && acl->priority >= list->items[best].priority)
            continue; /* strictly lower only: the earlier of equals wins */
        if (acl_matches(acl, packet))
            best = (long)i;
    }
    if (best >= 0)
        *verdict =
            list->items[best].action == HNP_ACL_ALLOW ? HNP_VERDICT_ALLOW : HNP_VERDICT_BLOCK;
    else
        *verdict = list->count == 0 ? HNP_VERDICT_ALLOW : HNP_VERDICT_BLOCK;
    return best;
}

/* ------------------------------------------------------------------------ */
/* Conflicts                                                                */

static bool port_lists_overlap(const struct hnp_range *a, size_t na, const struct hnp_range *b,
                               size_t nb)
{
    if (na == 0 || nb == 0)
        return true;
    for (size_t i = 0; i < na; i++) {
        for (size_t j = 0; j < nb; j++) {
            if (a[i].lo <= b[j].hi && b[j].lo <= a[i].hi)
                return true;
        }
    }
    return false;
}

static bool address_lists_overlap(const struct hnp_cidr *a, size_t na, const struct hnp_cidr *b,
                                  size_t nb)
{
    if (na == 0 || nb == 0)
        return true;
    for (size_t i = 0; i < na; i++) {
        struct hnp_range ra = hnp_cidr_range(&a[i]);
        for (size_t j = 0; j < nb; j++) {
            struct hnp_range rb = hnp_cidr_range(&b[j]);
            if (ra.lo <= rb.hi && rb.lo <= ra.hi)
                return true;
        }
    }
    return false;
}

/*
 * Could some real packet match both? Both port lists are compared (empty
 * meaning any), the ephemeral side included: HNS sees real ports there.
 */
static bool acls_overlap(const struct hnp_acl *a, const struct hnp_acl *b)
{
    if (a->direction != b->direction)
        return false;
    if (a->protocol != 0 && b->protocol != 0 && a->protocol != b->protocol)
        return false;
    return port_lists_overlap(a->local_ports, a->n_local_ports, b->local_ports, b->n_local_ports) &&
           port_lists_overlap(a->remote_ports, a->n_remote_ports, b->remote_ports,
                              b->n_remote_ports) &&
           address_lists_overlap(a->remote_addrs, a->n_remote_addrs, b->remote_addrs,
                                 b->n_remote_addrs);
}

size_t hnp_acl_list_conflicts(const struct hnp_acl_list *list)
{
    size_t conflicts = 0;
    for (size_t i = 0; i < list->count; i++) {
        const struct hnp_acl *a = &list->items[i];
        for (size_t j = i + 1; j < list->count; j++) {
            const struct hnp_acl *b = &list->items[j];
            if (a->action != b->action && a->priority == b->priority && acls_overlap(a, b))
                conflicts++;
        }
    }
    return conflicts;
}
