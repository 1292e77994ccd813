/*
 * test_acl.c - unit tests for acl.c: exact JSON rendering of every field
 * combination, render -> parse round trips, the HNS validation rules
 * (data-driven from tests/data/acl/validation.json plus limits checked here),
 * evaluation under HNS rules, conflict detection, stable sorting, the list
 * operations and the HcnModifyEndpoint request wrapper.
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/acl.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static struct hnp_acl make_acl(const char *id, enum hnp_acl_action action,
                               enum hnp_acl_direction direction, uint8_t protocol,
                               uint16_t priority)
{
    struct hnp_acl acl;
    memset(&acl, 0, sizeof(acl));
    snprintf(acl.id, sizeof(acl.id), "%s", id);
    acl.action = action;
    acl.direction = direction;
    acl.protocol = protocol;
    acl.priority = priority;
    return acl;
}

/* Append "a.b.c.d" or "a.b.c.d/n" to the ACL's remote addresses. */
static void add_addr(struct hnp_acl *acl, const char *text)
{
    struct hnp_cidr cidr;
    if (strchr(text, '/') != NULL) {
        assert_int_equal(hnp_cidr_parse(text, &cidr, NULL, NULL), HNP_OK);
    } else {
        assert_true(hnp_ipv4_parse(text, &cidr.addr));
        cidr.prefix = 32;
    }
    acl->remote_addrs =
        realloc(acl->remote_addrs, (acl->n_remote_addrs + 1) * sizeof(*acl->remote_addrs));
    assert_non_null(acl->remote_addrs);
    acl->remote_addrs[acl->n_remote_addrs++] = cidr;
}

static void add_port(struct hnp_range **ports, size_t *n, uint32_t lo, uint32_t hi)
{
    *ports = realloc(*ports, (*n + 1) * sizeof(**ports));
    assert_non_null(*ports);
    (*ports)[*n].lo = lo;
    (*ports)[*n].hi = hi;
    (*n)++;
}

static void add_local_port(struct hnp_acl *acl, uint32_t lo, uint32_t hi)
{
    add_port(&acl->local_ports, &acl->n_local_ports, lo, hi);
}

static void add_remote_port(struct hnp_acl *acl, uint32_t lo, uint32_t hi)
{
    add_port(&acl->remote_ports, &acl->n_remote_ports, lo, hi);
}

/* Compact, insertion-ordered dump; the caller frees. */
static char *dump(const json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(text);
    return text;
}

static void assert_renders(const struct hnp_acl *acl, const char *want)
{
    json_t *json = hnp_acl_to_json(acl);
    assert_non_null(json);
    char *text = dump(json);
    assert_string_equal(text, want);
    free(text);
    json_decref(json);
}

/* Everything sent to HNS is equal (origin is not sent). */
static void assert_acl_equal(const struct hnp_acl *a, const struct hnp_acl *b)
{
    assert_string_equal(a->id, b->id);
    assert_int_equal(a->action, b->action);
    assert_int_equal(a->direction, b->direction);
    assert_int_equal(a->protocol, b->protocol);
    assert_int_equal(a->priority, b->priority);
    assert_int_equal(a->n_remote_addrs, b->n_remote_addrs);
    for (size_t i = 0; i < a->n_remote_addrs; i++) {
        assert_int_equal(a->remote_addrs[i].addr, b->remote_addrs[i].addr);
        assert_int_equal(a->remote_addrs[i].prefix, b->remote_addrs[i].prefix);
    }
    assert_int_equal(a->n_local_ports, b->n_local_ports);
    for (size_t i = 0; i < a->n_local_ports; i++) {
        assert_int_equal(a->local_ports[i].lo, b->local_ports[i].lo);
        assert_int_equal(a->local_ports[i].hi, b->local_ports[i].hi);
    }
    assert_int_equal(a->n_remote_ports, b->n_remote_ports);
    for (size_t i = 0; i < a->n_remote_ports; i++) {
        assert_int_equal(a->remote_ports[i].lo, b->remote_ports[i].lo);
        assert_int_equal(a->remote_ports[i].hi, b->remote_ports[i].hi);
    }
}

static enum hnp_err parse_text(const char *text, struct hnp_acl *out, struct hnp_error *err)
{
    json_t *json = hnp_test_json(text);
    enum hnp_err rc = hnp_acl_from_json(json, out, err);
    json_decref(json);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Rendering                                                                */

static void test_render_examples(void **state)
{
    struct hnp_acl acl = make_acl("hnp-x", HNP_ACL_BLOCK, HNP_ACL_IN, 0, HNP_PRIORITY_DEFAULT);
    assert_renders(&acl, "{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"hnp-x\",\"Action\":\"Block\","
                         "\"Direction\":\"In\",\"RuleType\":\"Switch\",\"Priority\":65000}}");

    acl = make_acl("hnp-a", HNP_ACL_ALLOW, HNP_ACL_OUT, 6, HNP_PRIORITY_ALLOW);
    add_addr(&acl, "10.0.0.1");
    add_addr(&acl, "10.1.0.0/16");
    add_addr(&acl, "0.0.0.0/0");
    add_addr(&acl, "255.255.255.255/32");
    add_local_port(&acl, 80, 80);
    add_remote_port(&acl, 80, 80);
    add_remote_port(&acl, 9000, 9100);
    add_remote_port(&acl, 1, 65535);
    assert_renders(&acl, "{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"hnp-a\",\"Action\":\"Allow\","
                         "\"Direction\":\"Out\",\"Protocols\":\"6\","
                         "\"RemoteAddresses\":\"10.0.0.1,10.1.0.0/16,0.0.0.0/0,255.255.255.255\","
                         "\"LocalPorts\":\"80\",\"RemotePorts\":\"80,9000-9100,1-65535\","
                         "\"RuleType\":\"Switch\",\"Priority\":1000}}");
    hnp_acl_clear(&acl);

    /* priority 0, protocol 255, an empty Id */
    acl = make_acl("", HNP_ACL_ALLOW, HNP_ACL_IN, 255, 0);
    assert_renders(&acl, "{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"\",\"Action\":\"Allow\","
                         "\"Direction\":\"In\",\"Protocols\":\"255\",\"RuleType\":\"Switch\","
                         "\"Priority\":0}}");

    /* an Id filling the whole buffer is rendered from its bounded length */
    acl = make_acl("", HNP_ACL_ALLOW, HNP_ACL_IN, 0, 65535);
    memset(acl.id, 'a', sizeof(acl.id));
    json_t *json = hnp_acl_to_json(&acl);
    assert_non_null(json);
    const char *id = json_string_value(json_object_get(json_object_get(json, "Settings"), "Id"));
    assert_non_null(id);
    assert_int_equal(strlen(id), HNP_ACL_ID_MAX);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(json, "Settings"), "Priority")), 65535);
    json_decref(json);
}

/*
 * Every combination of action, direction, protocol and the three lists,
 * against an expected string assembled here key by key.
 */
static void test_render_all_combinations(void **state)
{
    for (unsigned mask = 0; mask < 64; mask++) {
        bool block = mask & 1, out = mask & 2, proto = mask & 4, addrs = mask & 8,
             lports = mask & 16, rports = mask & 32;
        struct hnp_acl acl =
            make_acl("hnp-c", block ? HNP_ACL_BLOCK : HNP_ACL_ALLOW, out ? HNP_ACL_OUT : HNP_ACL_IN,
                     proto ? 17 : 0, (uint16_t)(mask * 1000));
        char want[1024];
        size_t n = (size_t)snprintf(want, sizeof(want),
                                    "{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"hnp-c\","
                                    "\"Action\":\"%s\",\"Direction\":\"%s\"",
                                    block ? "Block" : "Allow", out ? "Out" : "In");
        if (proto)
            n += (size_t)snprintf(want + n, sizeof(want) - n, ",\"Protocols\":\"17\"");
        if (addrs) {
            add_addr(&acl, "192.168.0.0/24");
            add_addr(&acl, "172.16.5.4");
            n += (size_t)snprintf(want + n, sizeof(want) - n,
                                  ",\"RemoteAddresses\":\"192.168.0.0/24,172.16.5.4\"");
        }
        if (lports) {
            add_local_port(&acl, 53, 53);
            n += (size_t)snprintf(want + n, sizeof(want) - n, ",\"LocalPorts\":\"53\"");
        }
        if (rports) {
            add_remote_port(&acl, 1000, 2000);
            add_remote_port(&acl, 3000, 3000);
            n +=
                (size_t)snprintf(want + n, sizeof(want) - n, ",\"RemotePorts\":\"1000-2000,3000\"");
        }
        snprintf(want + n, sizeof(want) - n, ",\"RuleType\":\"Switch\",\"Priority\":%u}}",
                 mask * 1000);
        assert_renders(&acl, want);

        /* round trip: render -> parse -> equal -> same bytes */
        json_t *json = hnp_acl_to_json(&acl);
        assert_non_null(json);
        struct hnp_acl back;
        struct hnp_error err;
        enum hnp_err rc = hnp_acl_from_json(json, &back, &err);
        if ((lports || rports) && !proto) {
            /* HNS refuses ports without TCP or UDP */
            assert_int_equal(rc, HNP_ERR_INVALID);
            assert_non_null(strstr(err.message, "requires Protocols"));
        } else {
            assert_int_equal(rc, HNP_OK);
            assert_acl_equal(&acl, &back);
            assert_int_equal(back.origin.kind, HNP_ORIGIN_FOREIGN);
            assert_renders(&back, want);
            hnp_acl_clear(&back);
        }
        json_decref(json);
        hnp_acl_clear(&acl);
    }
}

static void test_round_trip_long_lists(void **state)
{
    struct hnp_acl acl = make_acl("hnp-long", HNP_ACL_ALLOW, HNP_ACL_IN, 6, 1000);
    acl.remote_addrs = calloc(HNP_ACL_MAX_LIST, sizeof(*acl.remote_addrs));
    assert_non_null(acl.remote_addrs);
    acl.n_remote_addrs = HNP_ACL_MAX_LIST;
    for (size_t i = 0; i < HNP_ACL_MAX_LIST; i++) {
        acl.remote_addrs[i].addr = 0xFFFF0000u + (uint32_t)i * 4;
        acl.remote_addrs[i].prefix = (uint8_t)(i % 2 ? 32 : 30);
    }
    for (uint32_t p = 0; p < HNP_ACL_MAX_LIST; p++) /* single ports and ranges */
        add_local_port(&acl, 1 + p * 16, 1 + p * 16 + (p % 3 == 1 ? 10 : 0));
    json_t *json = hnp_acl_to_json(&acl);
    assert_non_null(json);
    struct hnp_acl back;
    struct hnp_error err;
    assert_int_equal(hnp_acl_from_json(json, &back, &err), HNP_OK);
    assert_acl_equal(&acl, &back);
    hnp_acl_clear(&back);
    json_decref(json);
    hnp_acl_clear(&acl);
}

/* ------------------------------------------------------------------------ */
/* Validation                                                               */

static void test_validation_data(void **state)
{
    json_t *cases = hnp_test_json_file("acl/validation.json");

    const json_t *accept = json_object_get(cases, "accept");
    assert_true(json_array_size(accept) > 0);
    for (size_t i = 0; i < json_array_size(accept); i++) {
        const json_t *c = json_array_get(accept, i);
        struct hnp_acl acl;
        struct hnp_error err;
        hnp_error_clear(&err);
        enum hnp_err rc = hnp_acl_from_json(json_object_get(c, "policy"), &acl, &err);
        if (rc != HNP_OK)
            fail_msg("accept case \"%s\" refused: %s: %s",
                     json_string_value(json_object_get(c, "name")), err.where, err.message);
        /* what we parse we can render, and what we render parses */
        json_t *again = hnp_acl_to_json(&acl);
        assert_non_null(again);
        struct hnp_acl back;
        assert_int_equal(hnp_acl_from_json(again, &back, &err), HNP_OK);
        assert_acl_equal(&acl, &back);
        hnp_acl_clear(&back);
        json_decref(again);
        hnp_acl_clear(&acl);
    }

    const json_t *refuse = json_object_get(cases, "refuse");
    assert_true(json_array_size(refuse) > 0);
    for (size_t i = 0; i < json_array_size(refuse); i++) {
        const json_t *c = json_array_get(refuse, i);
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *where = json_string_value(json_object_get(c, "where"));
        const char *message = json_string_value(json_object_get(c, "message"));
        assert_non_null(name);
        assert_non_null(where);
        assert_non_null(message);
        struct hnp_acl acl;
        memset(&acl, 0xA5, sizeof(acl));
        struct hnp_error err;
        hnp_error_clear(&err);
        enum hnp_err rc = hnp_acl_from_json(json_object_get(c, "policy"), &acl, &err);
        if (rc != HNP_ERR_INVALID)
            fail_msg("refuse case \"%s\" gave %s", name, hnp_err_name(rc));
        if (strcmp(err.where, where) != 0)
            fail_msg("refuse case \"%s\": where \"%s\", expected \"%s\"", name, err.where, where);
        if (strstr(err.message, message) == NULL)
            fail_msg("refuse case \"%s\": message \"%s\" lacks \"%s\"", name, err.message, message);
        /* the message names the field: the last component of where */
        const char *field = strrchr(where, '.');
        field = field ? field + 1 : where;
        if (strstr(err.message, field) == NULL)
            fail_msg("refuse case \"%s\": message \"%s\" does not name %s", name, err.message,
                     field);
        /* *out untouched on failure */
        for (size_t b = 0; b < sizeof(acl); b++)
            assert_int_equal(((unsigned char *)&acl)[b], 0xA5);
    }
    json_decref(cases);
}

static void test_parse_values(void **state)
{
    struct hnp_acl acl;
    struct hnp_error err;
    assert_int_equal(
        parse_text("{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"hnp-1\",\"Action\":\"Block\","
                   "\"Direction\":\"Out\",\"Protocols\":\"17\",\"RemoteAddresses\":"
                   "\"10.0.0.7/24,1.2.3.4\",\"LocalAddresses\":\"10.9.9.9\",\"RemotePorts\":"
                   "\"53,5000-5010\",\"RuleType\":\"Host\",\"Priority\":42,\"Scope\":0}}",
                   &acl, &err),
        HNP_OK);
    assert_string_equal(acl.id, "hnp-1");
    assert_int_equal(acl.action, HNP_ACL_BLOCK);
    assert_int_equal(acl.direction, HNP_ACL_OUT);
    assert_int_equal(acl.protocol, 17);
    assert_int_equal(acl.priority, 42);
    assert_int_equal(acl.n_remote_addrs, 2);
    assert_int_equal(acl.remote_addrs[0].addr, 0x0A000000u); /* host bits cleared */
    assert_int_equal(acl.remote_addrs[0].prefix, 24);
    assert_int_equal(acl.remote_addrs[1].addr, 0x01020304u);
    assert_int_equal(acl.remote_addrs[1].prefix, 32);
    assert_int_equal(acl.n_local_ports, 0);
    assert_int_equal(acl.n_remote_ports, 2);
    assert_int_equal(acl.remote_ports[0].lo, 53);
    assert_int_equal(acl.remote_ports[0].hi, 53);
    assert_int_equal(acl.remote_ports[1].lo, 5000);
    assert_int_equal(acl.remote_ports[1].hi, 5010);
    assert_int_equal(acl.origin.kind, HNP_ORIGIN_FOREIGN);
    assert_null(acl.origin.policy_ns);
    hnp_acl_clear(&acl);

    /* missing Id and Priority: "" and 0; empty lists are absent */
    assert_int_equal(parse_text("{\"Type\":\"ACL\",\"Settings\":{\"Action\":\"Allow\","
                                "\"Direction\":\"In\",\"RemoteAddresses\":\"\"}}",
                                &acl, &err),
                     HNP_OK);
    assert_string_equal(acl.id, "");
    assert_int_equal(acl.priority, 0);
    assert_int_equal(acl.protocol, 0);
    assert_null(acl.remote_addrs);
    assert_int_equal(acl.n_remote_addrs, 0);
    assert_false(hnp_acl_id_is_ours(acl.id));
    hnp_acl_clear(&acl);

    /* an Id of 95 bytes fits, 96 does not (HNP_ERR_LIMIT: HNS would take it, we cannot) */
    char text[512], id[HNP_ACL_ID_MAX + 1];
    memset(id, 'i', HNP_ACL_ID_MAX - 1);
    id[HNP_ACL_ID_MAX - 1] = '\0';
    snprintf(text, sizeof(text),
             "{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"%s\",\"Action\":\"Allow\","
             "\"Direction\":\"In\"}}",
             id);
    assert_int_equal(parse_text(text, &acl, &err), HNP_OK);
    assert_int_equal(strlen(acl.id), HNP_ACL_ID_MAX - 1);
    hnp_acl_clear(&acl);
    memset(id, 'i', HNP_ACL_ID_MAX);
    id[HNP_ACL_ID_MAX] = '\0';
    snprintf(text, sizeof(text),
             "{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"%s\",\"Action\":\"Allow\","
             "\"Direction\":\"In\"}}",
             id);
    assert_int_equal(parse_text(text, &acl, &err), HNP_ERR_LIMIT);
    assert_string_equal(err.where, "Settings.Id");
    assert_non_null(strstr(err.message, "Id"));

    /* a NUL inside the Id */
    json_t *policy = hnp_test_json("{\"Type\":\"ACL\",\"Settings\":{\"Action\":\"Allow\","
                                   "\"Direction\":\"In\"}}");
    json_object_set_new(json_object_get(policy, "Settings"), "Id", json_stringn("a\0b", 3));
    assert_int_equal(hnp_acl_from_json(policy, &acl, &err), HNP_ERR_INVALID);
    assert_string_equal(err.where, "Settings.Id");
    json_decref(policy);

    /* NULL err is fine */
    assert_int_equal(parse_text("{\"Type\":\"ACL\",\"Settings\":{\"ID\":\"x\"}}", &acl, NULL),
                     HNP_ERR_INVALID);
}

/* A policy whose `key` holds `count` entries made by entry(i). */
static json_t *list_policy(const char *key, size_t count, bool ports)
{
    size_t size = count * 20 + 1;
    char *text = malloc(size);
    assert_non_null(text);
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        if (ports)
            used += (size_t)snprintf(text + used, size - used, "%s%zu", i ? "," : "", i + 1);
        else
            used += (size_t)snprintf(text + used, size - used, "%s10.%zu.%zu.0/24", i ? "," : "",
                                     i / 256, i % 256);
    }
    json_t *policy = hnp_test_json("{\"Type\":\"ACL\",\"Settings\":{\"Action\":\"Allow\","
                                   "\"Direction\":\"In\",\"Protocols\":\"6\"}}");
    json_object_set_new(json_object_get(policy, "Settings"), key, json_string(text));
    free(text);
    return policy;
}

static void test_parse_list_limits(void **state)
{
    static const char *const keys[] = {"RemoteAddresses", "LocalAddresses", "LocalPorts",
                                       "RemotePorts"};
    for (int k = 0; k < 4; k++) {
        bool ports = k >= 2;
        struct hnp_acl acl;
        struct hnp_error err;
        json_t *policy = list_policy(keys[k], HNP_ACL_MAX_LIST, ports);
        assert_int_equal(hnp_acl_from_json(policy, &acl, &err), HNP_OK);
        if (k == 0)
            assert_int_equal(acl.n_remote_addrs, HNP_ACL_MAX_LIST);
        if (k == 2)
            assert_int_equal(acl.n_local_ports, HNP_ACL_MAX_LIST);
        if (k == 3)
            assert_int_equal(acl.n_remote_ports, HNP_ACL_MAX_LIST);
        hnp_acl_clear(&acl);
        json_decref(policy);

        policy = list_policy(keys[k], HNP_ACL_MAX_LIST + 1, ports);
        assert_int_equal(hnp_acl_from_json(policy, &acl, &err), HNP_ERR_INVALID);
        char where[64];
        snprintf(where, sizeof(where), "Settings.%s", keys[k]);
        assert_string_equal(err.where, where);
        assert_non_null(strstr(err.message, keys[k]));
        assert_non_null(strstr(err.message, "4000"));
        json_decref(policy);
    }
}

/* ------------------------------------------------------------------------ */
/* Evaluation                                                               */

static struct hnp_packet packet(enum hnp_acl_direction direction, const char *addr,
                                uint8_t protocol, uint16_t port)
{
    struct hnp_packet p = {direction, 0, protocol, port};
    assert_true(hnp_ipv4_parse(addr, &p.remote_addr));
    return p;
}

/* Evaluate and check both the deciding index and the verdict. */
static void assert_eval(const struct hnp_acl_list *list, struct hnp_packet p, long want_index,
                        enum hnp_verdict want)
{
    enum hnp_verdict verdict = want == HNP_VERDICT_ALLOW ? HNP_VERDICT_BLOCK : HNP_VERDICT_ALLOW;
    long index = hnp_acl_list_eval(list, &p, &verdict);
    assert_int_equal(index, want_index);
    assert_int_equal(verdict, want);
}

static void push(struct hnp_acl_list *list, struct hnp_acl acl)
{
    assert_int_equal(hnp_acl_list_push(list, &acl), HNP_OK);
}

static void test_eval_empty_allows(void **state)
{
    struct hnp_acl_list list = {0};
    assert_eval(&list, packet(HNP_ACL_IN, "1.2.3.4", 6, 80), -1, HNP_VERDICT_ALLOW);
    assert_eval(&list, packet(HNP_ACL_OUT, "1.2.3.4", 17, 53), -1, HNP_VERDICT_ALLOW);
    assert_eval(&list, packet(HNP_ACL_OUT, "0.0.0.0", 132, 1), -1, HNP_VERDICT_ALLOW);
}

static void test_eval_lone_block(void **state)
{
    /* pitfall 1: one Block ACL blocks everything, both directions */
    struct hnp_acl_list list = {0};
    struct hnp_acl block = make_acl("x", HNP_ACL_BLOCK, HNP_ACL_IN, 6, 100);
    add_addr(&block, "10.0.0.1");
    add_local_port(&block, 22, 22);
    push(&list, block);
    /* the rule itself decides what it matches */
    assert_eval(&list, packet(HNP_ACL_IN, "10.0.0.1", 6, 22), 0, HNP_VERDICT_BLOCK);
    /* everything else falls to the implicit default deny */
    assert_eval(&list, packet(HNP_ACL_IN, "10.0.0.2", 6, 22), -1, HNP_VERDICT_BLOCK);
    assert_eval(&list, packet(HNP_ACL_IN, "10.0.0.1", 6, 80), -1, HNP_VERDICT_BLOCK);
    assert_eval(&list, packet(HNP_ACL_IN, "10.0.0.1", 17, 22), -1, HNP_VERDICT_BLOCK);
    assert_eval(&list, packet(HNP_ACL_OUT, "8.8.8.8", 17, 53), -1, HNP_VERDICT_BLOCK);
    hnp_acl_list_free(&list);
}

static void test_eval_priority_order(void **state)
{
    struct hnp_acl_list list = {0};
    /* listed out of priority order on purpose */
    push(&list, make_acl("final-in", HNP_ACL_BLOCK, HNP_ACL_IN, 0, HNP_PRIORITY_DEFAULT));
    struct hnp_acl allow = make_acl("web", HNP_ACL_ALLOW, HNP_ACL_IN, 6, HNP_PRIORITY_ALLOW);
    add_addr(&allow, "10.0.0.0/8");
    add_local_port(&allow, 80, 80);
    add_local_port(&allow, 8080, 8090);
    push(&list, allow);
    push(&list, make_acl("final-out", HNP_ACL_ALLOW, HNP_ACL_OUT, 0, HNP_PRIORITY_DEFAULT));
    struct hnp_acl node = make_acl("node", HNP_ACL_ALLOW, HNP_ACL_IN, 0, HNP_PRIORITY_NODE);
    add_addr(&node, "192.168.0.10");
    push(&list, node);
    /* a Block ahead of everything for one address */
    struct hnp_acl bad = make_acl("bad", HNP_ACL_BLOCK, HNP_ACL_IN, 0, 10);
    add_addr(&bad, "10.6.6.6");
    push(&list, bad);

    assert_eval(&list, packet(HNP_ACL_IN, "10.1.2.3", 6, 80), 1, HNP_VERDICT_ALLOW);
    assert_eval(&list, packet(HNP_ACL_IN, "10.255.255.255", 6, 8080), 1, HNP_VERDICT_ALLOW);
    assert_eval(&list, packet(HNP_ACL_IN, "10.0.0.0", 6, 8090), 1, HNP_VERDICT_ALLOW);
    /* port range edges */
    assert_eval(&list, packet(HNP_ACL_IN, "10.1.2.3", 6, 8079), 0, HNP_VERDICT_BLOCK);
    assert_eval(&list, packet(HNP_ACL_IN, "10.1.2.3", 6, 8091), 0, HNP_VERDICT_BLOCK);
    assert_eval(&list, packet(HNP_ACL_IN, "10.1.2.3", 6, 81), 0, HNP_VERDICT_BLOCK);
    /* address outside the CIDR, wrong protocol */
    assert_eval(&list, packet(HNP_ACL_IN, "11.0.0.0", 6, 80), 0, HNP_VERDICT_BLOCK);
    assert_eval(&list, packet(HNP_ACL_IN, "9.255.255.255", 6, 80), 0, HNP_VERDICT_BLOCK);
    assert_eval(&list, packet(HNP_ACL_IN, "10.1.2.3", 17, 80), 0, HNP_VERDICT_BLOCK);
    /* the node is allowed on every protocol and port */
    assert_eval(&list, packet(HNP_ACL_IN, "192.168.0.10", 6, 10250), 3, HNP_VERDICT_ALLOW);
    assert_eval(&list, packet(HNP_ACL_IN, "192.168.0.10", 1, 0), 3, HNP_VERDICT_ALLOW);
    /* the lowest priority number wins over a later-evaluated Allow */
    assert_eval(&list, packet(HNP_ACL_IN, "10.6.6.6", 6, 80), 4, HNP_VERDICT_BLOCK);
    /* direction separation: Out has its own final rule */
    assert_eval(&list, packet(HNP_ACL_OUT, "10.6.6.6", 6, 80), 2, HNP_VERDICT_ALLOW);
    assert_eval(&list, packet(HNP_ACL_OUT, "11.0.0.0", 132, 9), 2, HNP_VERDICT_ALLOW);

    /* sorting changes indexes, not verdicts */
    hnp_acl_list_sort(&list);
    assert_string_equal(list.items[0].id, "bad");
    assert_string_equal(list.items[1].id, "node");
    assert_string_equal(list.items[2].id, "web");
    assert_string_equal(list.items[3].id, "final-in");
    assert_string_equal(list.items[4].id, "final-out");
    assert_eval(&list, packet(HNP_ACL_IN, "10.1.2.3", 6, 80), 2, HNP_VERDICT_ALLOW);
    assert_eval(&list, packet(HNP_ACL_IN, "10.6.6.6", 6, 80), 0, HNP_VERDICT_BLOCK);
    assert_eval(&list, packet(HNP_ACL_OUT, "10.6.6.6", 6, 80), 4, HNP_VERDICT_ALLOW);
    hnp_acl_list_free(&list);
}

static void test_eval_first_match_among_equals(void **state)
{
    struct hnp_acl_list list = {0};
    push(&list, make_acl("b", HNP_ACL_BLOCK, HNP_ACL_IN, 6, 500));
    push(&list, make_acl("a", HNP_ACL_ALLOW, HNP_ACL_IN, 6, 500));
    push(&list, make_acl("c", HNP_ACL_ALLOW, HNP_ACL_IN, 0, 500));
    assert_eval(&list, packet(HNP_ACL_IN, "1.1.1.1", 6, 80), 0, HNP_VERDICT_BLOCK);
    /* UDP skips the TCP-only Block: the next equal-priority rule decides */
    assert_eval(&list, packet(HNP_ACL_IN, "1.1.1.1", 17, 80), 2, HNP_VERDICT_ALLOW);
    assert_int_equal(hnp_acl_list_conflicts(&list), 2); /* b-a and b-c */
    hnp_acl_list_free(&list);
}

static void test_eval_protocols(void **state)
{
    struct hnp_acl_list list = {0};
    push(&list, make_acl("tcp", HNP_ACL_ALLOW, HNP_ACL_OUT, 6, 100));
    push(&list, make_acl("any-block", HNP_ACL_BLOCK, HNP_ACL_OUT, 0, 200));
    push(&list, make_acl("any-allow", HNP_ACL_ALLOW, HNP_ACL_IN, 0, 200));
    assert_eval(&list, packet(HNP_ACL_OUT, "1.1.1.1", 6, 443), 0, HNP_VERDICT_ALLOW);
    assert_eval(&list, packet(HNP_ACL_OUT, "1.1.1.1", 17, 443), 1, HNP_VERDICT_BLOCK);
    assert_eval(&list, packet(HNP_ACL_OUT, "1.1.1.1", 132, 443), 1, HNP_VERDICT_BLOCK);
    assert_eval(&list, packet(HNP_ACL_IN, "1.1.1.1", 132, 9), 2, HNP_VERDICT_ALLOW);
    assert_eval(&list, packet(HNP_ACL_IN, "1.1.1.1", 17, 53), 2, HNP_VERDICT_ALLOW);
    hnp_acl_list_free(&list);
}

static void test_eval_ports_by_direction(void **state)
{
    struct hnp_acl_list list = {0};
    /* In: LocalPorts is the service port */
    struct hnp_acl in = make_acl("in", HNP_ACL_ALLOW, HNP_ACL_IN, 6, 100);
    add_local_port(&in, 9000, 9100);
    push(&list, in);
    /* Out: RemotePorts is the service port */
    struct hnp_acl out = make_acl("out", HNP_ACL_ALLOW, HNP_ACL_OUT, 17, 100);
    add_remote_port(&out, 53, 53);
    push(&list, out);
    /* rules restricting the ephemeral side never match */
    struct hnp_acl in_remote = make_acl("in-remote", HNP_ACL_ALLOW, HNP_ACL_IN, 6, 50);
    add_remote_port(&in_remote, 1, 65535);
    push(&list, in_remote);
    struct hnp_acl out_local = make_acl("out-local", HNP_ACL_ALLOW, HNP_ACL_OUT, 17, 50);
    add_local_port(&out_local, 1, 65535);
    push(&list, out_local);

    assert_eval(&list, packet(HNP_ACL_IN, "1.1.1.1", 6, 9000), 0, HNP_VERDICT_ALLOW);
    assert_eval(&list, packet(HNP_ACL_IN, "1.1.1.1", 6, 9100), 0, HNP_VERDICT_ALLOW);
    assert_eval(&list, packet(HNP_ACL_IN, "1.1.1.1", 6, 8999), -1, HNP_VERDICT_BLOCK);
    assert_eval(&list, packet(HNP_ACL_IN, "1.1.1.1", 6, 9101), -1, HNP_VERDICT_BLOCK);
    assert_eval(&list, packet(HNP_ACL_OUT, "1.1.1.1", 17, 53), 1, HNP_VERDICT_ALLOW);
    assert_eval(&list, packet(HNP_ACL_OUT, "1.1.1.1", 17, 54), -1, HNP_VERDICT_BLOCK);
    /* an In port rule says nothing about Out, and the reverse */
    assert_eval(&list, packet(HNP_ACL_OUT, "1.1.1.1", 6, 9000), -1, HNP_VERDICT_BLOCK);
    assert_eval(&list, packet(HNP_ACL_IN, "1.1.1.1", 17, 53), -1, HNP_VERDICT_BLOCK);
    hnp_acl_list_free(&list);
}

static void test_eval_addresses(void **state)
{
    struct hnp_acl_list list = {0};
    struct hnp_acl acl = make_acl("peers", HNP_ACL_ALLOW, HNP_ACL_OUT, 0, 100);
    add_addr(&acl, "10.0.0.5");
    add_addr(&acl, "192.168.8.0/22");
    add_addr(&acl, "255.255.255.255");
    push(&list, acl);
    struct hnp_acl all = make_acl("all", HNP_ACL_BLOCK, HNP_ACL_OUT, 0, 200);
    add_addr(&all, "0.0.0.0/0");
    push(&list, all);
    assert_eval(&list, packet(HNP_ACL_OUT, "10.0.0.5", 6, 1), 0, HNP_VERDICT_ALLOW);
    assert_eval(&list, packet(HNP_ACL_OUT, "10.0.0.4", 6, 1), 1, HNP_VERDICT_BLOCK);
    assert_eval(&list, packet(HNP_ACL_OUT, "192.168.8.0", 6, 1), 0, HNP_VERDICT_ALLOW);
    assert_eval(&list, packet(HNP_ACL_OUT, "192.168.11.255", 6, 1), 0, HNP_VERDICT_ALLOW);
    assert_eval(&list, packet(HNP_ACL_OUT, "192.168.12.0", 6, 1), 1, HNP_VERDICT_BLOCK);
    assert_eval(&list, packet(HNP_ACL_OUT, "255.255.255.255", 6, 1), 0, HNP_VERDICT_ALLOW);
    assert_eval(&list, packet(HNP_ACL_OUT, "0.0.0.0", 6, 1), 1, HNP_VERDICT_BLOCK);
    assert_eval(&list, packet(HNP_ACL_IN, "10.0.0.5", 6, 1), -1, HNP_VERDICT_BLOCK);
    hnp_acl_list_free(&list);
}

/* ------------------------------------------------------------------------ */
/* Conflicts                                                                */

static size_t conflicts_of(struct hnp_acl a, struct hnp_acl b)
{
    struct hnp_acl_list list = {0};
    push(&list, a);
    push(&list, b);
    size_t n = hnp_acl_list_conflicts(&list);
    hnp_acl_list_free(&list);
    return n;
}

static void test_conflicts(void **state)
{
    struct hnp_acl_list empty = {0};
    assert_int_equal(hnp_acl_list_conflicts(&empty), 0);

    /* the plain case */
    assert_int_equal(conflicts_of(make_acl("a", HNP_ACL_ALLOW, HNP_ACL_IN, 0, 7),
                                  make_acl("b", HNP_ACL_BLOCK, HNP_ACL_IN, 0, 7)),
                     1);
    /* different priority, direction, or the same action: none */
    assert_int_equal(conflicts_of(make_acl("a", HNP_ACL_ALLOW, HNP_ACL_IN, 0, 7),
                                  make_acl("b", HNP_ACL_BLOCK, HNP_ACL_IN, 0, 8)),
                     0);
    assert_int_equal(conflicts_of(make_acl("a", HNP_ACL_ALLOW, HNP_ACL_IN, 0, 7),
                                  make_acl("b", HNP_ACL_BLOCK, HNP_ACL_OUT, 0, 7)),
                     0);
    assert_int_equal(conflicts_of(make_acl("a", HNP_ACL_BLOCK, HNP_ACL_IN, 0, 7),
                                  make_acl("b", HNP_ACL_BLOCK, HNP_ACL_IN, 0, 7)),
                     0);
    /* protocols: any overlaps everything, distinct numbers do not */
    assert_int_equal(conflicts_of(make_acl("a", HNP_ACL_ALLOW, HNP_ACL_IN, 6, 7),
                                  make_acl("b", HNP_ACL_BLOCK, HNP_ACL_IN, 17, 7)),
                     0);
    assert_int_equal(conflicts_of(make_acl("a", HNP_ACL_ALLOW, HNP_ACL_IN, 6, 7),
                                  make_acl("b", HNP_ACL_BLOCK, HNP_ACL_IN, 0, 7)),
                     1);
    assert_int_equal(conflicts_of(make_acl("a", HNP_ACL_ALLOW, HNP_ACL_IN, 17, 7),
                                  make_acl("b", HNP_ACL_BLOCK, HNP_ACL_IN, 17, 7)),
                     1);

    /* addresses */
    struct hnp_acl a = make_acl("a", HNP_ACL_ALLOW, HNP_ACL_OUT, 0, 7);
    struct hnp_acl b = make_acl("b", HNP_ACL_BLOCK, HNP_ACL_OUT, 0, 7);
    add_addr(&a, "10.0.0.0/16");
    add_addr(&b, "10.1.0.0/16");
    add_addr(&b, "192.168.0.1");
    assert_int_equal(conflicts_of(a, b), 0);
    a = make_acl("a", HNP_ACL_ALLOW, HNP_ACL_OUT, 0, 7);
    b = make_acl("b", HNP_ACL_BLOCK, HNP_ACL_OUT, 0, 7);
    add_addr(&a, "172.16.0.0/12");
    add_addr(&a, "10.0.0.0/8");
    add_addr(&b, "10.1.2.3");
    assert_int_equal(conflicts_of(a, b), 1);
    a = make_acl("a", HNP_ACL_ALLOW, HNP_ACL_OUT, 0, 7);
    b = make_acl("b", HNP_ACL_BLOCK, HNP_ACL_OUT, 0, 7);
    add_addr(&a, "10.0.0.0/8"); /* b without addresses matches any */
    assert_int_equal(conflicts_of(a, b), 1);

    /* ports, on the modelled and on the ephemeral side */
    a = make_acl("a", HNP_ACL_ALLOW, HNP_ACL_IN, 6, 7);
    b = make_acl("b", HNP_ACL_BLOCK, HNP_ACL_IN, 6, 7);
    add_local_port(&a, 80, 80);
    add_local_port(&b, 81, 90);
    assert_int_equal(conflicts_of(a, b), 0);
    a = make_acl("a", HNP_ACL_ALLOW, HNP_ACL_IN, 6, 7);
    b = make_acl("b", HNP_ACL_BLOCK, HNP_ACL_IN, 6, 7);
    add_local_port(&a, 80, 80);
    add_local_port(&a, 443, 443);
    add_local_port(&b, 400, 500);
    assert_int_equal(conflicts_of(a, b), 1);
    a = make_acl("a", HNP_ACL_ALLOW, HNP_ACL_IN, 6, 7);
    b = make_acl("b", HNP_ACL_BLOCK, HNP_ACL_IN, 6, 7);
    add_remote_port(&a, 1000, 2000);
    add_remote_port(&b, 3000, 4000);
    assert_int_equal(conflicts_of(a, b), 0);
    a = make_acl("a", HNP_ACL_ALLOW, HNP_ACL_IN, 6, 7);
    b = make_acl("b", HNP_ACL_BLOCK, HNP_ACL_IN, 6, 7);
    add_remote_port(&a, 1000, 2000);
    assert_int_equal(conflicts_of(a, b), 1);

    /* pairs are counted */
    struct hnp_acl_list list = {0};
    push(&list, make_acl("a1", HNP_ACL_ALLOW, HNP_ACL_IN, 0, 7));
    push(&list, make_acl("a2", HNP_ACL_ALLOW, HNP_ACL_IN, 6, 7));
    push(&list, make_acl("b1", HNP_ACL_BLOCK, HNP_ACL_IN, 0, 7));
    push(&list, make_acl("b2", HNP_ACL_BLOCK, HNP_ACL_IN, 17, 7));
    /* a1-b1, a1-b2, a2-b1 (a2 TCP vs b2 UDP do not) */
    assert_int_equal(hnp_acl_list_conflicts(&list), 3);
    hnp_acl_list_free(&list);
}

/* ------------------------------------------------------------------------ */
/* Sorting and the list                                                     */

static void test_sort_stable(void **state)
{
    struct hnp_acl_list list = {0};
    hnp_acl_list_sort(&list); /* empty */
    /* equal keys, told apart by rule_index, and one owned array per ACL */
    static const struct {
        const char *id;
        uint16_t priority;
        enum hnp_acl_direction direction;
    } items[] = {
        {"z", 65000, HNP_ACL_OUT}, {"b", 1000, HNP_ACL_IN},  {"a", 1000, HNP_ACL_IN},
        {"b", 1000, HNP_ACL_IN},   {"a", 1000, HNP_ACL_OUT}, {"z", 65000, HNP_ACL_IN},
        {"b", 1000, HNP_ACL_IN},   {"a", 200, HNP_ACL_IN},   {"a", 1000, HNP_ACL_IN},
    };
    size_t n = sizeof(items) / sizeof(items[0]);
    for (size_t i = 0; i < n; i++) {
        struct hnp_acl acl =
            make_acl(items[i].id, HNP_ACL_ALLOW, items[i].direction, 0, items[i].priority);
        acl.origin.rule_index = (int)i;
        add_addr(&acl, "10.0.0.1");
        acl.remote_addrs[0].addr += (uint32_t)i; /* follows its ACL */
        push(&list, acl);
    }
    hnp_acl_list_sort(&list);
    static const int want[] = {7, 2, 8, 1, 3, 6, 4, 5, 0};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(list.items[i].origin.rule_index, want[i]);
        assert_int_equal(list.items[i].remote_addrs[0].addr, 0x0A000001u + (uint32_t)want[i]);
    }
    hnp_acl_list_free(&list);

    /* a larger pseudo-random list against the ordering and stability rules */
    uint32_t seed = 12345;
    for (int i = 0; i < 1000; i++) {
        seed = seed * 1103515245u + 12345u;
        char id[8];
        snprintf(id, sizeof(id), "id%u", (seed >> 16) % 5);
        struct hnp_acl acl = make_acl(id, HNP_ACL_ALLOW, (seed >> 8) & 1 ? HNP_ACL_IN : HNP_ACL_OUT,
                                      0, (uint16_t)((seed >> 20) % 4 * 100));
        acl.origin.rule_index = i;
        push(&list, acl);
    }
    hnp_acl_list_sort(&list);
    assert_int_equal(list.count, 1000);
    for (size_t i = 1; i < list.count; i++) {
        const struct hnp_acl *a = &list.items[i - 1], *b = &list.items[i];
        int order = a->priority != b->priority     ? (a->priority < b->priority ? -1 : 1)
                    : a->direction != b->direction ? (a->direction < b->direction ? -1 : 1)
                                                   : strcmp(a->id, b->id);
        assert_true(order <= 0);
        if (order == 0)
            assert_true(a->origin.rule_index < b->origin.rule_index);
    }
    hnp_acl_list_free(&list);
}

static void test_list_push_copy_clear(void **state)
{
    struct hnp_acl_list list;
    hnp_acl_list_init(&list);
    assert_null(list.items);
    for (int i = 0; i < 100; i++) {
        struct hnp_acl acl = make_acl("hnp-p", HNP_ACL_ALLOW, HNP_ACL_IN, 6, (uint16_t)i);
        add_addr(&acl, "10.0.0.0/8");
        add_local_port(&acl, 80, 80);
        add_remote_port(&acl, 1, 2);
        struct hnp_cidr *addrs = acl.remote_addrs;
        assert_int_equal(hnp_acl_list_push(&list, &acl), HNP_OK);
        /* stolen: the source is zeroed, the list holds the same array */
        assert_null(acl.remote_addrs);
        assert_null(acl.local_ports);
        assert_int_equal(acl.n_remote_addrs, 0);
        assert_ptr_equal(list.items[list.count - 1].remote_addrs, addrs);
    }
    assert_int_equal(list.count, 100);
    assert_int_equal(list.items[99].priority, 99);

    struct hnp_acl copy;
    memset(&copy, 0xA5, sizeof(copy));
    list.items[5].origin.kind = HNP_ORIGIN_RULE;
    list.items[5].origin.rule_index = 3;
    assert_int_equal(hnp_acl_copy(&copy, &list.items[5]), HNP_OK);
    assert_acl_equal(&copy, &list.items[5]);
    assert_int_equal(copy.origin.kind, HNP_ORIGIN_RULE);
    assert_int_equal(copy.origin.rule_index, 3);
    assert_ptr_not_equal(copy.remote_addrs, list.items[5].remote_addrs);
    assert_ptr_not_equal(copy.local_ports, list.items[5].local_ports);
    assert_ptr_not_equal(copy.remote_ports, list.items[5].remote_ports);
    hnp_acl_clear(&copy);
    assert_null(copy.remote_addrs);
    assert_int_equal(copy.n_remote_ports, 0);
    hnp_acl_clear(&copy); /* twice is fine */
    hnp_acl_clear(NULL);

    /* copying an ACL without lists gives NULL arrays */
    struct hnp_acl bare = make_acl("bare", HNP_ACL_BLOCK, HNP_ACL_OUT, 0, 1);
    assert_int_equal(hnp_acl_copy(&copy, &bare), HNP_OK);
    assert_null(copy.remote_addrs);
    assert_null(copy.local_ports);
    assert_null(copy.remote_ports);
    assert_string_equal(copy.id, "bare");
    hnp_acl_clear(&copy);

    hnp_acl_list_free(&list);
    assert_null(list.items);
    assert_int_equal(list.count, 0);
    hnp_acl_list_free(&list); /* reusable, and freeing twice is fine */
    hnp_acl_list_free(NULL);
}

static void test_id_is_ours(void **state)
{
    assert_true(hnp_acl_id_is_ours("hnp-"));
    assert_true(hnp_acl_id_is_ours("hnp-x-in-0"));
    assert_false(hnp_acl_id_is_ours("hnp"));
    assert_false(hnp_acl_id_is_ours("HNP-x"));
    assert_false(hnp_acl_id_is_ours("calico-hnp-x"));
    assert_false(hnp_acl_id_is_ours(""));
    assert_false(hnp_acl_id_is_ours(NULL));
}

/* ------------------------------------------------------------------------ */
/* The request                                                              */

static void test_request(void **state)
{
    const char *foreign_text =
        "[{\"Type\":\"OutBoundNAT\",\"Settings\":{\"Exceptions\":[\"10.0.0.0/8\"]}},"
        "{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"azure-allow\",\"Action\":\"Allow\","
        "\"Direction\":\"In\",\"RuleType\":\"Switch\",\"Priority\":65500}},"
        "{\"Type\":\"SDNRoute\",\"Settings\":{\"DestinationPrefix\":\"10.0.0.0/8\","
        "\"NeedEncap\":true}}]";
    json_t *foreign = hnp_test_json(foreign_text);
    json_t *before = json_deep_copy(foreign);
    assert_non_null(before);

    struct hnp_acl_list list = {0};
    struct hnp_acl in = make_acl("hnp-in", HNP_ACL_ALLOW, HNP_ACL_IN, 6, 1000);
    add_addr(&in, "10.0.0.7");
    add_local_port(&in, 80, 80);
    push(&list, in);
    push(&list, make_acl("hnp-final", HNP_ACL_BLOCK, HNP_ACL_IN, 0, 65000));

    json_t *request = hnp_acl_list_request(&list, foreign);
    assert_non_null(request);
    char *text = dump(request);
    char want[2048];
    snprintf(want, sizeof(want),
             "{\"ResourceType\":\"Policy\",\"RequestType\":\"Update\",\"Settings\":"
             "{\"Policies\":%.*s,"
             "{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"hnp-in\",\"Action\":\"Allow\","
             "\"Direction\":\"In\",\"Protocols\":\"6\",\"RemoteAddresses\":\"10.0.0.7\","
             "\"LocalPorts\":\"80\",\"RuleType\":\"Switch\",\"Priority\":1000}},"
             "{\"Type\":\"ACL\",\"Settings\":{\"Id\":\"hnp-final\",\"Action\":\"Block\","
             "\"Direction\":\"In\",\"RuleType\":\"Switch\",\"Priority\":65000}}]}}",
             (int)strlen(foreign_text) - 1, foreign_text);
    assert_string_equal(text, want);
    free(text);

    /* the foreign policies are the caller's objects, shared, first, in order, unchanged */
    const json_t *policies = json_object_get(json_object_get(request, "Settings"), "Policies");
    assert_int_equal(json_array_size(policies), 5);
    for (size_t i = 0; i < 3; i++)
        assert_ptr_equal(json_array_get(policies, i), json_array_get(foreign, i));
    json_decref(request);
    assert_true(json_equal(foreign, before));
    assert_int_equal(foreign->refcount, 1);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(json_array_get(foreign, i)->refcount, 1);

    /* no foreign policies; then nothing at all */
    request = hnp_acl_list_request(&list, NULL);
    assert_non_null(request);
    policies = json_object_get(json_object_get(request, "Settings"), "Policies");
    assert_int_equal(json_array_size(policies), 2);
    json_decref(request);
    struct hnp_acl_list empty = {0};
    request = hnp_acl_list_request(&empty, NULL);
    text = dump(request);
    assert_string_equal(text, "{\"ResourceType\":\"Policy\",\"RequestType\":\"Update\","
                              "\"Settings\":{\"Policies\":[]}}");
    free(text);
    json_decref(request);
    /* only foreign: our ACLs removed, theirs kept */
    request = hnp_acl_list_request(&empty, foreign);
    policies = json_object_get(json_object_get(request, "Settings"), "Policies");
    assert_true(json_equal(policies, before));
    json_decref(request);

    /* a foreign that is not an array is refused rather than dropped */
    json_t *object = hnp_test_json("{\"Type\":\"OutBoundNAT\"}");
    assert_null(hnp_acl_list_request(&list, object));
    json_decref(object);

    json_decref(before);
    json_decref(foreign);
    hnp_acl_list_free(&list);
}

/* Every foreign ACL in a request parses back, ours and theirs alike. */
static void test_request_policies_parse(void **state)
{
    struct hnp_acl_list list = {0};
    struct hnp_acl out = make_acl("hnp-out", HNP_ACL_ALLOW, HNP_ACL_OUT, 17, 1000);
    add_addr(&out, "10.96.0.10");
    add_remote_port(&out, 53, 53);
    push(&list, out);
    push(&list, make_acl("hnp-final-out", HNP_ACL_BLOCK, HNP_ACL_OUT, 0, 65000));
    json_t *request = hnp_acl_list_request(&list, NULL);
    const json_t *policies = json_object_get(json_object_get(request, "Settings"), "Policies");
    for (size_t i = 0; i < json_array_size(policies); i++) {
        struct hnp_acl acl;
        assert_int_equal(hnp_acl_from_json(json_array_get(policies, i), &acl, NULL), HNP_OK);
        assert_acl_equal(&acl, &list.items[i]);
        assert_true(hnp_acl_id_is_ours(acl.id));
        hnp_acl_clear(&acl);
    }
    json_decref(request);
    hnp_acl_list_free(&list);
}

/* hnp_acl_equal: every field HNS is given counts, the origin does not. */
static void test_equal(void **state)
{
    struct hnp_acl a = make_acl("hnp-e", HNP_ACL_ALLOW, HNP_ACL_IN, 6, 1000);
    add_addr(&a, "10.0.0.0/8");
    add_addr(&a, "192.168.1.5/32");
    add_local_port(&a, 80, 80);
    add_remote_port(&a, 1000, 2000);
    struct hnp_acl b;
    assert_int_equal(hnp_acl_copy(&b, &a), HNP_OK);
    assert_true(hnp_acl_equal(&a, &b));
    b.origin.kind = HNP_ORIGIN_RULE;
    b.origin.rule_index = 7;
    assert_true(hnp_acl_equal(&a, &b));
    /* Equal exactly when the rendered JSON is equal. */
    json_t *ja = hnp_acl_to_json(&a), *jb = hnp_acl_to_json(&b);
    assert_true(json_equal(ja, jb));
    json_decref(jb);

    struct hnp_acl c;
    for (int field = 0; field < 10; field++) {
        assert_int_equal(hnp_acl_copy(&c, &a), HNP_OK);
        switch (field) {
        case 0:
            c.id[1] = 'X';
            break;
        case 1:
            c.action = HNP_ACL_BLOCK;
            break;
        case 2:
            c.direction = HNP_ACL_OUT;
            break;
        case 3:
            c.protocol = 17;
            break;
        case 4:
            c.priority = 1001;
            break;
        case 5:
            c.remote_addrs[1].prefix = 31;
            c.remote_addrs[1].addr &= ~1u;
            break;
        case 6:
            c.n_remote_addrs = 1;
            break;
        case 7:
            c.local_ports[0].hi = 81;
            break;
        case 8:
            c.remote_ports[0].lo = 999;
            break;
        case 9:
            c.n_local_ports = 0;
            break;
        }
        if (hnp_acl_equal(&a, &c))
            fail_msg("change %d not seen", field);
        jb = hnp_acl_to_json(&c);
        if (json_equal(ja, jb))
            fail_msg("change %d does not change the JSON", field);
        json_decref(jb);
        hnp_acl_clear(&c);
    }
    json_decref(ja);

    /* Lists: same items in the same order. */
    struct hnp_acl_list x, y;
    hnp_acl_list_init(&x);
    hnp_acl_list_init(&y);
    assert_true(hnp_acl_list_equal(&x, &y));
    assert_int_equal(hnp_acl_copy(&c, &a), HNP_OK);
    assert_int_equal(hnp_acl_list_push(&x, &c), HNP_OK);
    assert_false(hnp_acl_list_equal(&x, &y));
    assert_int_equal(hnp_acl_list_push(&y, &b), HNP_OK);
    assert_true(hnp_acl_list_equal(&x, &y));
    struct hnp_acl other = make_acl("hnp-f", HNP_ACL_BLOCK, HNP_ACL_OUT, 0, 65000);
    assert_int_equal(hnp_acl_copy(&c, &other), HNP_OK);
    assert_int_equal(hnp_acl_list_push(&x, &c), HNP_OK);
    assert_int_equal(hnp_acl_copy(&c, &a), HNP_OK);
    assert_int_equal(hnp_acl_list_push(&x, &c), HNP_OK);
    assert_int_equal(hnp_acl_list_push(&y, &other), HNP_OK);
    assert_int_equal(hnp_acl_copy(&c, &a), HNP_OK);
    assert_int_equal(hnp_acl_list_push(&y, &c), HNP_OK);
    /* x = [a, f, a], y = [a, a, f]: the same ACLs in another order differ. */
    struct hnp_acl_list z;
    hnp_acl_list_init(&z);
    assert_int_equal(hnp_acl_copy(&c, &a), HNP_OK);
    assert_int_equal(hnp_acl_list_push(&z, &c), HNP_OK);
    assert_int_equal(hnp_acl_copy(&c, &a), HNP_OK);
    assert_int_equal(hnp_acl_list_push(&z, &c), HNP_OK);
    assert_int_equal(hnp_acl_copy(&c, &other), HNP_OK);
    assert_int_equal(hnp_acl_list_push(&z, &c), HNP_OK);
    assert_false(hnp_acl_list_equal(&x, &z));
    assert_true(hnp_acl_list_equal(&y, &y));
    hnp_acl_list_free(&x);
    hnp_acl_list_free(&y);
    hnp_acl_list_free(&z);
    hnp_acl_clear(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_examples),
        cmocka_unit_test(test_render_all_combinations),
        cmocka_unit_test(test_round_trip_long_lists),
        cmocka_unit_test(test_validation_data),
        cmocka_unit_test(test_parse_values),
        cmocka_unit_test(test_parse_list_limits),
        cmocka_unit_test(test_eval_empty_allows),
        cmocka_unit_test(test_eval_lone_block),
        cmocka_unit_test(test_eval_priority_order),
        cmocka_unit_test(test_eval_first_match_among_equals),
        cmocka_unit_test(test_eval_protocols),
        cmocka_unit_test(test_eval_ports_by_direction),
        cmocka_unit_test(test_eval_addresses),
        cmocka_unit_test(test_conflicts),
        cmocka_unit_test(test_sort_stable),
        cmocka_unit_test(test_list_push_copy_clear),
        cmocka_unit_test(test_id_is_ours),
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_request_policies_parse),
        cmocka_unit_test(test_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
