/*
 * test_labels.c - label maps (parsing, order, lookup, set) and label
 * selector matching for the four operators.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/labels.h"

static int setup(void **state)
{
    struct hnp_strtab *tab = hnp_strtab_new();
    if (tab == NULL)
        return -1;
    *state = tab;
    return 0;
}

static int teardown(void **state)
{
    hnp_strtab_free(*state);
    return 0;
}

static void test_from_json_sorted(void **state)
{
    struct hnp_strtab *tab = *state;
    json_t *json = hnp_test_json("{\"tier\": \"web\", \"app\": \"shop\", \"zone\": \"\", "
                                 "\"app.kubernetes.io/name\": \"x\"}");
    struct hnp_labels labels;
    struct hnp_error err;
    assert_int_equal(hnp_labels_from_json(json, tab, "metadata.labels", &labels, &err), HNP_OK);
    assert_int_equal(labels.count, 4);
    assert_string_equal(labels.items[0].key, "app");
    assert_string_equal(labels.items[1].key, "app.kubernetes.io/name");
    assert_string_equal(labels.items[2].key, "tier");
    assert_string_equal(labels.items[3].key, "zone");
    assert_string_equal(labels.items[0].value, "shop");
    assert_string_equal(labels.items[3].value, "");
    /* Keys and values are interned in tab. */
    assert_ptr_equal(labels.items[0].key, hnp_strtab_find(tab, "app"));
    assert_ptr_equal(labels.items[2].value, hnp_strtab_find(tab, "web"));
    assert_ptr_equal(hnp_labels_get(&labels, hnp_strtab_find(tab, "tier")),
                     hnp_strtab_find(tab, "web"));
    assert_null(hnp_labels_get(&labels, hnp_strtab_intern(tab, "missing")));
    hnp_labels_free(&labels);
    assert_null(labels.items);
    assert_int_equal(labels.count, 0);
    json_decref(json);
}

static void test_from_json_empty(void **state)
{
    struct hnp_strtab *tab = *state;
    struct hnp_labels labels = {(struct hnp_label *)1, 99};
    assert_int_equal(hnp_labels_from_json(NULL, tab, "metadata.labels", &labels, NULL), HNP_OK);
    assert_int_equal(labels.count, 0);
    assert_null(labels.items);

    json_t *null = json_null();
    labels.count = 99;
    assert_int_equal(hnp_labels_from_json(null, tab, "metadata.labels", &labels, NULL), HNP_OK);
    assert_int_equal(labels.count, 0);

    json_t *empty = hnp_test_json("{}");
    labels.count = 99;
    assert_int_equal(hnp_labels_from_json(empty, tab, "metadata.labels", &labels, NULL), HNP_OK);
    assert_int_equal(labels.count, 0);
    assert_null(hnp_labels_get(&labels, hnp_strtab_intern(tab, "app")));
    hnp_labels_free(&labels);
    json_decref(empty);
    json_decref(null);
}

static void test_from_json_bad_value(void **state)
{
    static const char *const bad[] = {
        "{\"app\": \"ok\", \"version\": 3}",       "{\"app\": \"ok\", \"version\": true}",
        "{\"app\": \"ok\", \"version\": null}",    "{\"app\": \"ok\", \"version\": {\"a\": \"b\"}}",
        "{\"app\": \"ok\", \"version\": [\"1\"]}",
    };
    struct hnp_strtab *tab = *state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *json = hnp_test_json(bad[i]);
        struct hnp_labels labels = {NULL, 12345};
        struct hnp_error err;
        hnp_error_clear(&err);
        assert_int_equal(hnp_labels_from_json(json, tab, "metadata.labels", &labels, &err),
                         HNP_ERR_SCHEMA);
        assert_string_equal(err.where, "metadata.labels.version");
        assert_string_equal(err.message, "must be a string");
        /* Output untouched on failure. */
        assert_int_equal(labels.count, 12345);
        assert_null(labels.items);
        json_decref(json);
    }
}

static void test_from_json_not_object(void **state)
{
    struct hnp_strtab *tab = *state;
    json_t *json = hnp_test_json("[\"app\"]");
    struct hnp_labels labels = {NULL, 7};
    struct hnp_error err;
    assert_int_equal(hnp_labels_from_json(json, tab, "spec.podSelector.matchLabels", &labels, &err),
                     HNP_ERR_SCHEMA);
    assert_string_equal(err.where, "spec.podSelector.matchLabels");
    assert_string_equal(err.message, "must be an object");
    assert_int_equal(labels.count, 7);
    /* A NULL err is accepted. */
    assert_int_equal(hnp_labels_from_json(json, tab, "x", &labels, NULL), HNP_ERR_SCHEMA);
    json_decref(json);
}

static void test_set(void **state)
{
    struct hnp_strtab *tab = *state;
    struct hnp_labels labels = {NULL, 0};
    const char *a = hnp_strtab_intern(tab, "a");
    const char *m = hnp_strtab_intern(tab, "m");
    const char *z = hnp_strtab_intern(tab, "z");
    const char *v1 = hnp_strtab_intern(tab, "1");
    const char *v2 = hnp_strtab_intern(tab, "2");
    assert_int_equal(hnp_labels_set(&labels, m, v1), HNP_OK);
    assert_int_equal(hnp_labels_set(&labels, z, v1), HNP_OK);
    assert_int_equal(hnp_labels_set(&labels, a, v1), HNP_OK);
    assert_int_equal(labels.count, 3);
    assert_ptr_equal(labels.items[0].key, a);
    assert_ptr_equal(labels.items[1].key, m);
    assert_ptr_equal(labels.items[2].key, z);
    assert_int_equal(hnp_labels_set(&labels, m, v2), HNP_OK);
    assert_int_equal(labels.count, 3);
    assert_ptr_equal(hnp_labels_get(&labels, m), v2);
    assert_ptr_equal(hnp_labels_get(&labels, a), v1);
    hnp_labels_free(&labels);
    hnp_labels_free(NULL);
}

/* A map large enough to be binary-searched, and a check of every key. */
static void test_large_map(void **state)
{
    struct hnp_strtab *tab = *state;
    struct hnp_labels labels = {NULL, 0};
    char key[32], value[32];
    for (int i = 99; i >= 0; i--) {
        snprintf(key, sizeof(key), "key-%03d", i);
        snprintf(value, sizeof(value), "value-%d", i);
        assert_int_equal(
            hnp_labels_set(&labels, hnp_strtab_intern(tab, key), hnp_strtab_intern(tab, value)),
            HNP_OK);
    }
    assert_int_equal(labels.count, 100);
    for (size_t i = 1; i < labels.count; i++)
        assert_true(strcmp(labels.items[i - 1].key, labels.items[i].key) < 0);
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "key-%03d", i);
        snprintf(value, sizeof(value), "value-%d", i);
        assert_ptr_equal(hnp_labels_get(&labels, hnp_strtab_find(tab, key)),
                         hnp_strtab_find(tab, value));
    }
    assert_null(hnp_labels_get(&labels, hnp_strtab_intern(tab, "key-100")));
    assert_null(hnp_labels_get(&labels, hnp_strtab_intern(tab, "a")));
    hnp_labels_free(&labels);
}

/* Build a requirement by hand; values are interned and sorted as the parser would. */
static struct hnp_requirement req(struct hnp_strtab *tab, const char *key, enum hnp_selector_op op,
                                  const char *v1, const char *v2)
{
    struct hnp_requirement r = {hnp_strtab_intern(tab, key), op, NULL, 0};
    const char *vals[2];
    size_t n = 0;
    if (v1 != NULL)
        vals[n++] = hnp_strtab_intern(tab, v1);
    if (v2 != NULL)
        vals[n++] = hnp_strtab_intern(tab, v2);
    if (n == 2 && strcmp(vals[0], vals[1]) > 0) {
        const char *t = vals[0];
        vals[0] = vals[1];
        vals[1] = t;
    }
    if (n > 0) {
        r.values = malloc(n * sizeof(*r.values));
        assert_non_null(r.values);
        memcpy(r.values, vals, n * sizeof(*vals));
    }
    r.n_values = n;
    return r;
}

/* A selector with the given requirements (copied into a new array). */
static struct hnp_selector selector(const struct hnp_requirement *reqs, size_t n)
{
    struct hnp_selector sel = {NULL, n};
    if (n > 0) {
        sel.reqs = malloc(n * sizeof(*reqs));
        assert_non_null(sel.reqs);
        memcpy(sel.reqs, reqs, n * sizeof(*reqs));
    }
    return sel;
}

static struct hnp_labels labels_of(struct hnp_strtab *tab, const char *text)
{
    json_t *json = hnp_test_json(text);
    struct hnp_labels labels;
    assert_int_equal(hnp_labels_from_json(json, tab, "metadata.labels", &labels, NULL), HNP_OK);
    json_decref(json);
    return labels;
}

static void test_selector_empty(void **state)
{
    struct hnp_strtab *tab = *state;
    struct hnp_selector sel = {NULL, 0};
    struct hnp_labels none = {NULL, 0};
    struct hnp_labels some = labels_of(tab, "{\"app\": \"web\"}");
    assert_true(hnp_selector_matches(&sel, &none));
    assert_true(hnp_selector_matches(&sel, &some));
    assert_false(hnp_selector_is_negative(&sel));
    hnp_selector_free(&sel);
    hnp_selector_free(NULL);
    hnp_labels_free(&some);
}

static void test_selector_in(void **state)
{
    struct hnp_strtab *tab = *state;
    struct hnp_requirement r = req(tab, "app", HNP_OP_IN, "web", "api");
    struct hnp_selector sel = selector(&r, 1);
    struct hnp_labels web = labels_of(tab, "{\"app\": \"web\", \"tier\": \"x\"}");
    struct hnp_labels api = labels_of(tab, "{\"app\": \"api\"}");
    struct hnp_labels db = labels_of(tab, "{\"app\": \"db\"}");
    struct hnp_labels absent = labels_of(tab, "{\"tier\": \"web\"}");
    struct hnp_labels empty = {NULL, 0};
    assert_true(hnp_selector_matches(&sel, &web));
    assert_true(hnp_selector_matches(&sel, &api));
    assert_false(hnp_selector_matches(&sel, &db));
    assert_false(hnp_selector_matches(&sel, &absent));
    assert_false(hnp_selector_matches(&sel, &empty));
    assert_false(hnp_selector_is_negative(&sel));
    hnp_selector_free(&sel);
    assert_null(sel.reqs);
    assert_int_equal(sel.n_reqs, 0);
    hnp_labels_free(&web);
    hnp_labels_free(&api);
    hnp_labels_free(&db);
    hnp_labels_free(&absent);
}

static void test_selector_not_in(void **state)
{
    struct hnp_strtab *tab = *state;
    struct hnp_requirement r = req(tab, "env", HNP_OP_NOT_IN, "prod", "staging");
    struct hnp_selector sel = selector(&r, 1);
    struct hnp_labels prod = labels_of(tab, "{\"env\": \"prod\"}");
    struct hnp_labels staging = labels_of(tab, "{\"env\": \"staging\", \"a\": \"b\"}");
    struct hnp_labels dev = labels_of(tab, "{\"env\": \"dev\"}");
    struct hnp_labels absent = labels_of(tab, "{\"app\": \"prod\"}");
    struct hnp_labels empty = {NULL, 0};
    assert_false(hnp_selector_matches(&sel, &prod));
    assert_false(hnp_selector_matches(&sel, &staging));
    assert_true(hnp_selector_matches(&sel, &dev));
    assert_true(hnp_selector_matches(&sel, &absent));
    assert_true(hnp_selector_matches(&sel, &empty));
    assert_true(hnp_selector_is_negative(&sel));
    hnp_selector_free(&sel);
    hnp_labels_free(&prod);
    hnp_labels_free(&staging);
    hnp_labels_free(&dev);
    hnp_labels_free(&absent);
}

static void test_selector_exists(void **state)
{
    struct hnp_strtab *tab = *state;
    struct hnp_requirement reqs[2] = {
        req(tab, "app", HNP_OP_EXISTS, NULL, NULL),
        req(tab, "legacy", HNP_OP_DOES_NOT_EXIST, NULL, NULL),
    };
    struct hnp_selector exists = selector(&reqs[0], 1);
    struct hnp_selector not_exists = selector(&reqs[1], 1);
    struct hnp_labels app = labels_of(tab, "{\"app\": \"\"}");
    struct hnp_labels legacy = labels_of(tab, "{\"legacy\": \"true\", \"app\": \"x\"}");
    struct hnp_labels empty = {NULL, 0};
    assert_true(hnp_selector_matches(&exists, &app));
    assert_true(hnp_selector_matches(&exists, &legacy));
    assert_false(hnp_selector_matches(&exists, &empty));
    assert_false(hnp_selector_is_negative(&exists));
    assert_true(hnp_selector_matches(&not_exists, &app));
    assert_false(hnp_selector_matches(&not_exists, &legacy));
    assert_true(hnp_selector_matches(&not_exists, &empty));
    assert_true(hnp_selector_is_negative(&not_exists));
    hnp_selector_free(&exists);
    hnp_selector_free(&not_exists);
    hnp_labels_free(&app);
    hnp_labels_free(&legacy);
}

/* Every requirement must hold (AND). */
static void test_selector_and(void **state)
{
    struct hnp_strtab *tab = *state;
    struct hnp_requirement reqs[3] = {
        req(tab, "app", HNP_OP_IN, "web", NULL),
        req(tab, "tier", HNP_OP_EXISTS, NULL, NULL),
        req(tab, "env", HNP_OP_NOT_IN, "prod", NULL),
    };
    struct hnp_selector sel = selector(reqs, 3);
    struct hnp_labels all =
        labels_of(tab, "{\"app\": \"web\", \"tier\": \"fe\", \"env\": \"dev\"}");
    struct hnp_labels no_env = labels_of(tab, "{\"app\": \"web\", \"tier\": \"fe\"}");
    struct hnp_labels prod =
        labels_of(tab, "{\"app\": \"web\", \"tier\": \"fe\", \"env\": \"prod\"}");
    struct hnp_labels no_tier = labels_of(tab, "{\"app\": \"web\", \"env\": \"dev\"}");
    struct hnp_labels other_app =
        labels_of(tab, "{\"app\": \"api\", \"tier\": \"fe\", \"env\": \"dev\"}");
    assert_true(hnp_selector_matches(&sel, &all));
    assert_true(hnp_selector_matches(&sel, &no_env));
    assert_false(hnp_selector_matches(&sel, &prod));
    assert_false(hnp_selector_matches(&sel, &no_tier));
    assert_false(hnp_selector_matches(&sel, &other_app));
    assert_true(hnp_selector_is_negative(&sel));
    hnp_selector_free(&sel);
    hnp_labels_free(&all);
    hnp_labels_free(&no_env);
    hnp_labels_free(&prod);
    hnp_labels_free(&no_tier);
    hnp_labels_free(&other_app);
}

/* An In with many values (binary-searched) still compares exactly. */
static void test_selector_many_values(void **state)
{
    struct hnp_strtab *tab = *state;
    struct hnp_requirement r = {hnp_strtab_intern(tab, "n"), HNP_OP_IN, NULL, 0};
    char text[32];
    r.values = malloc(40 * sizeof(*r.values));
    assert_non_null(r.values);
    for (int i = 0; i < 40; i++) {
        snprintf(text, sizeof(text), "v%02d", i * 2); /* v00, v02, ..., v78: sorted */
        r.values[r.n_values++] = hnp_strtab_intern(tab, text);
    }
    struct hnp_selector sel = selector(&r, 1);
    for (int i = 0; i < 80; i++) {
        snprintf(text, sizeof(text), "{\"n\": \"v%02d\"}", i);
        struct hnp_labels labels = labels_of(tab, text);
        assert_int_equal(hnp_selector_matches(&sel, &labels), i % 2 == 0);
        hnp_labels_free(&labels);
    }
    hnp_selector_free(&sel);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_from_json_sorted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_from_json_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_from_json_bad_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_from_json_not_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_map, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selector_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selector_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selector_not_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selector_exists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selector_and, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selector_many_values, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
