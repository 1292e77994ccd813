/*
 * test_load.c - unit tests of the YAML / JSON loader (src/load.c).
 *
 * Every in-memory input is copied into a malloc'd buffer of exactly its
 * length, so AddressSanitizer and valgrind catch any read past the end (the
 * loader must not expect a terminating NUL).
 */
#include "testutil.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/load.h"

/* What the callback saw. */
struct seen {
    json_t *objs; /* array of the objects, kept with a reference */
    long *lines;
    size_t count, cap;
    char name[64];
    size_t stop_after; /* return stop_code for object number stop_after (1-based); 0 = never */
    enum hnp_err stop_code;
};

static enum hnp_err collect(const struct hnp_loaded_object *object, void *ctx)
{
    struct seen *s = ctx;
    assert_non_null(object->obj);
    assert_true(json_is_object(object->obj));
    assert_true(object->line >= 1);
    snprintf(s->name, sizeof(s->name), "%s", object->name);
    if (s->count == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->lines = realloc(s->lines, s->cap * sizeof(*s->lines));
        assert_non_null(s->lines);
    }
    s->lines[s->count++] = object->line;
    assert_int_equal(json_array_append(s->objs, object->obj), 0);
    if (s->stop_after != 0 && s->count == s->stop_after)
        return s->stop_code;
    return HNP_OK;
}

static void seen_init(struct seen *s)
{
    memset(s, 0, sizeof(*s));
    s->objs = json_array();
    assert_non_null(s->objs);
}

static void seen_free(struct seen *s)
{
    json_decref(s->objs);
    free(s->lines);
}

static json_t *obj_at(const struct seen *s, size_t i)
{
    json_t *obj = json_array_get(s->objs, i);
    assert_non_null(obj);
    return obj;
}

/*
 * The read window and the counters of the loads these tests make: fields of
 * struct hnp_load_limits (window_bytes, stats), which every load below gets
 * from here. run_group() sets the window for a whole group of tests.
 */
static size_t current_window;
static struct hnp_load_stats current_stats;

static void set_window(size_t bytes)
{
    current_window = bytes;
}

static void reset_stats(void)
{
    memset(&current_stats, 0, sizeof(current_stats));
}

static void get_stats(struct hnp_load_stats *out)
{
    *out = current_stats;
}

/* limits (may be NULL) with the tests' window and counters. */
static struct hnp_load_limits hooked(const struct hnp_load_limits *limits)
{
    struct hnp_load_limits l = limits != NULL ? *limits : (struct hnp_load_limits){0};
    l.window_bytes = current_window;
    l.stats = &current_stats;
    return l;
}

static enum hnp_err load_buffer(const char *data, size_t len, const char *name,
                                const struct hnp_load_limits *limits, hnp_object_fn fn, void *ctx,
                                struct hnp_error *err)
{
    struct hnp_load_limits l = hooked(limits);
    return hnp_load_buffer(data, len, name, &l, fn, ctx, err);
}

static enum hnp_err load_file(const char *path, const struct hnp_load_limits *limits,
                              hnp_object_fn fn, void *ctx, struct hnp_error *err)
{
    struct hnp_load_limits l = hooked(limits);
    return hnp_load_file(path, &l, fn, ctx, err);
}

/* Load len bytes from an exact-size heap copy (no terminating NUL to lean on). */
static enum hnp_err load_exact(const char *data, size_t len, const struct hnp_load_limits *limits,
                               hnp_object_fn fn, void *ctx, struct hnp_error *err)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    for (size_t i = 0; i < len; i++)
        copy[i] = data[i];
    enum hnp_err rc = load_buffer(copy, len, "in.txt", limits, fn, ctx, err);
    free(copy);
    return rc;
}

static enum hnp_err load_bytes(const char *data, size_t len, const struct hnp_load_limits *limits,
                               struct seen *s, struct hnp_error *err)
{
    return load_exact(data, len, limits, collect, s, err);
}

static enum hnp_err load_text(const char *text, struct seen *s, struct hnp_error *err)
{
    return load_bytes(text, strlen(text), NULL, s, err);
}

/* Assert that text fails with code, where and a message containing message. */
static void expect_error(const char *text, enum hnp_err code, const char *where,
                         const char *message)
{
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    enum hnp_err rc = load_text(text, &s, &err);
    if (rc != code || strcmp(err.where, where) != 0 || strstr(err.message, message) == NULL)
        fail_msg("input %.60s: got %s at '%s': '%s'; want %s at '%s': '%s'", text, hnp_err_name(rc),
                 err.where, err.message, hnp_err_name(code), where, message);
    /* Messages stay valid UTF-8 (jansson refuses anything else), whatever the input held. */
    json_t *text_json = json_string(err.message);
    assert_non_null(text_json);
    json_decref(text_json);
    seen_free(&s);
}

static const char *str_at(json_t *obj, const char *path)
{
    json_t *value = obj;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *key = strtok(buf, "."); key != NULL; key = strtok(NULL, "."))
        value = json_object_get(value, key);
    assert_true(json_is_string(value));
    return json_string_value(value);
}

/* ---------------------------------------------------------------------------------------- */

static void test_json_single_object(void **state)
{
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    assert_int_equal(
        load_text("\n\n  {\"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"}}\n", &s, &err),
        HNP_OK);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.lines[0], 3);
    assert_string_equal(s.name, "in.txt");
    assert_string_equal(str_at(obj_at(&s, 0), "metadata.name"), "a");
    seen_free(&s);
}

static void test_json_list_lines(void **state)
{
    const char *text = "{\n"
                       "  \"apiVersion\": \"v1\",\n"
                       "  \"items\": [\n"
                       "    {\"kind\": \"Pod\", \"n\": 0},\n"
                       "    {\n"
                       "      \"kind\": \"Pod\", \"n\": 1, \"s\": \"a \\\" ] } [ {\"\n"
                       "    },\n"
                       "\n"
                       "    {\"kind\": \"Namespace\", \"n\": 2}\n"
                       "  ],\n"
                       "  \"kind\": \"List\",\n"
                       "  \"metadata\": {\"resourceVersion\": \"\", \"x\": [[], {}]}\n"
                       "}\n";
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    assert_int_equal(load_text(text, &s, &err), HNP_OK);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.lines[0], 4);
    assert_int_equal(s.lines[1], 5);
    assert_int_equal(s.lines[2], 9);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(json_integer_value(json_object_get(obj_at(&s, i), "n")), i);
        assert_null(json_object_get(obj_at(&s, i), "items"));
    }
    assert_string_equal(str_at(obj_at(&s, 1), "s"), "a \" ] } [ {");
    seen_free(&s);
}

/* An items key after other members, written with an escape, and a List followed by more. */
static void test_json_list_variants(void **state)
{
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    assert_int_equal(load_text("{\"kind\":\"List\",\"metadata\":{\"items\":[{\"no\":1}]},"
                               "\"it\\u0065ms\":[{\"n\":0},{\"n\":1}]}\n"
                               "{\"n\":2}",
                               &s, &err),
                     HNP_OK);
    assert_int_equal(s.count, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(json_integer_value(json_object_get(obj_at(&s, i), "n")), i);
    assert_int_equal(s.lines[2], 2);
    seen_free(&s);

    /* Escaped backslashes and quotes in members the scanner skips. */
    seen_init(&s);
    assert_int_equal(
        load_text("{\"kind\":\"List\",\"metadata\":{\"a\":\"x\\\\\",\"b\":\"\\\\\\\"}\"},"
                  "\"items\":[{\"n\":0,\"s\":\"\\\\\"}]}\n"
                  "{\"items\":{},\"c\":\"\\\\\\\"[\\\\\"}",
                  &s, &err),
        HNP_OK);
    assert_int_equal(s.count, 2);
    assert_string_equal(str_at(obj_at(&s, 0), "s"), "\\");
    assert_string_equal(str_at(obj_at(&s, 1), "c"), "\\\"[\\");
    seen_free(&s);

    /* items that is not an array: an ordinary object, emitted whole. */
    seen_init(&s);
    assert_int_equal(load_text("{\"kind\":\"Thing\",\"items\":{\"a\":1}}", &s, &err), HNP_OK);
    assert_int_equal(s.count, 1);
    assert_string_equal(str_at(obj_at(&s, 0), "kind"), "Thing");
    assert_true(json_is_object(json_object_get(obj_at(&s, 0), "items")));
    seen_free(&s);

    /* A nested items array is just data. */
    seen_init(&s);
    assert_int_equal(load_text("{\"kind\":\"X\",\"spec\":{\"items\":[1,2]}}", &s, &err), HNP_OK);
    assert_int_equal(s.count, 1);
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(obj_at(&s, 0), "spec"), "items")), 2);
    seen_free(&s);
}

static void test_json_concatenated(void **state)
{
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    assert_int_equal(load_text("{\"n\":0}\n"
                               "null\n"
                               "  {\"n\":1}{\"n\":2}\n"
                               "\r\n"
                               "\t{\n\"n\":3}",
                               &s, &err),
                     HNP_OK);
    assert_int_equal(s.count, 4);
    long want[] = {1, 3, 3, 5};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(s.lines[i], want[i]);
        assert_int_equal(json_integer_value(json_object_get(obj_at(&s, i), "n")), i);
    }
    seen_free(&s);
}

static void test_yaml_multi_doc(void **state)
{
    const char *text = "# leading comment\n"
                       "apiVersion: v1\n"
                       "kind: Namespace\n"
                       "metadata:\n"
                       "  name: a\n"
                       "---\n"
                       "---\n"
                       "# an empty document above, a null one below\n"
                       "~\n"
                       "---\n"
                       "\n"
                       "kind: Pod\n"
                       "metadata: {name: b, labels: {app: web}}\n"
                       "...\n"
                       "--- {kind: Pod, metadata: {name: c}}\n";
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    assert_int_equal(load_text(text, &s, &err), HNP_OK);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.lines[0], 2);
    assert_int_equal(s.lines[1], 12);
    assert_int_equal(s.lines[2], 15);
    assert_string_equal(str_at(obj_at(&s, 0), "metadata.name"), "a");
    assert_string_equal(str_at(obj_at(&s, 1), "metadata.labels.app"), "web");
    assert_string_equal(str_at(obj_at(&s, 2), "metadata.name"), "c");
    seen_free(&s);
}

/* `kubectl get pods,namespaces -A -o yaml`, read from disk. */
static void test_yaml_kubectl_list_file(void **state)
{
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    enum hnp_err rc =
        load_file(HNP_TEST_DATA_DIR "/load/kubectl-pods-namespaces.yaml", NULL, collect, &s, &err);
    assert_int_equal(rc, HNP_OK);
    assert_int_equal(s.count, 5);
    const char *kinds[] = {"Pod", "Pod", "Pod", "Namespace", "Namespace"};
    const char *names[] = {"web-7d4b9c5f6d-x2x7k", "probe", "pending-job", "kube-system", "shop"};
    long lines[] = {3, 68, 93, 117, 131};
    for (size_t i = 0; i < 5; i++) {
        json_t *obj = obj_at(&s, i);
        assert_string_equal(str_at(obj, "kind"), kinds[i]);
        assert_string_equal(str_at(obj, "metadata.name"), names[i]);
        assert_int_equal(s.lines[i], lines[i]);
        assert_null(json_object_get(obj, "items"));
    }
    assert_true(strstr(s.name, "kubectl-pods-namespaces.yaml") != NULL);

    json_t *web = obj_at(&s, 0);
    json_t *port = json_array_get(
        json_object_get(
            json_array_get(json_object_get(json_object_get(web, "spec"), "containers"), 0),
            "ports"),
        0);
    assert_true(json_is_integer(json_object_get(port, "containerPort")));
    assert_int_equal(json_integer_value(json_object_get(port, "containerPort")), 80);
    assert_string_equal(str_at(web, "metadata.resourceVersion"), "184467");
    assert_string_equal(str_at(web, "metadata.labels.tier"), "1");
    assert_string_equal(str_at(web, "status.podIP"), "10.244.1.23");
    json_t *owner =
        json_array_get(json_object_get(json_object_get(web, "metadata"), "ownerReferences"), 0);
    assert_true(json_is_true(json_object_get(owner, "controller")));
    assert_true(
        json_is_true(json_object_get(json_object_get(obj_at(&s, 1), "spec"), "hostNetwork")));
    json_t *annotations =
        json_object_get(json_object_get(obj_at(&s, 1), "metadata"), "annotations");
    json_t *applied =
        json_object_get(annotations, "kubectl.kubernetes.io/last-applied-configuration");
    assert_true(json_is_string(applied));
    assert_true(strncmp(json_string_value(applied), "{\"apiVersion\":\"v1\"", 17) == 0);
    assert_int_equal(json_string_value(applied)[json_string_length(applied) - 1], '\n');
    seen_free(&s);
}

/* `kubectl get pods -o json` (4-space indent), read from disk. */
static void test_json_kubectl_list_file(void **state)
{
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    assert_int_equal(
        load_file(HNP_TEST_DATA_DIR "/load/kubectl-pods.json", NULL, collect, &s, &err), HNP_OK);
    assert_int_equal(s.count, 3);
    long lines[] = {4, 97, 134};
    const char *names[] = {"web-7d4b9c5f6d-x2x7k", "probe", "pending-job"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(s.lines[i], lines[i]);
        assert_string_equal(str_at(obj_at(&s, i), "metadata.name"), names[i]);
    }
    seen_free(&s);
}

static void test_missing_file(void **state)
{
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    assert_int_equal(
        load_file(HNP_TEST_DATA_DIR "/load/no-such-file.yaml", NULL, collect, &s, &err),
        HNP_ERR_IO);
    assert_true(strstr(err.where, "no-such-file.yaml") != NULL);
    assert_true(strstr(err.message, "No such file or directory") != NULL);
    /* A directory opens on some systems but cannot be read. */
    assert_int_equal(load_file(HNP_TEST_DATA_DIR "/load", NULL, collect, &s, &err), HNP_ERR_IO);
    assert_int_equal(s.count, 0);
    seen_free(&s);
}

static void test_stdin(void **state)
{
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    assert_non_null(freopen(HNP_TEST_DATA_DIR "/load/kubectl-pods.json", "rb", stdin));
    assert_int_equal(load_file("-", NULL, collect, &s, &err), HNP_OK);
    assert_int_equal(s.count, 3);
    assert_string_equal(s.name, "-");
    assert_int_equal(s.lines[2], 134);
    seen_free(&s);

    /* Standard input has no size to ask for: the limit is found while reading. */
    struct hnp_load_limits limits = {.max_input_bytes = 100};
    seen_init(&s);
    assert_non_null(freopen(HNP_TEST_DATA_DIR "/load/kubectl-pods.json", "rb", stdin));
    assert_int_equal(load_file("-", &limits, collect, &s, &err), HNP_ERR_LIMIT);
    assert_string_equal(err.where, "-");
    assert_int_equal(s.count, 0);
    seen_free(&s);
}

static void test_yaml_scalar_types(void **state)
{
    const char *text = "port: 80\n"
                       "quoted: \"80\"\n"
                       "single: '80'\n"
                       "yes_: true\n"
                       "no_: FALSE\n"
                       "nothing: null\n"
                       "tilde: ~\n"
                       "empty:\n"
                       "real: 1.5\n"
                       "exp: 1e3\n"
                       "neg: -17\n"
                       "plus: +5\n"
                       "hex: 0x1F\n"
                       "oct: 0o17\n"
                       "huge: 99999999999999999999\n"
                       "min: -9223372036854775808\n"
                       "inf: .inf\n"
                       "word: yes\n"
                       "date: 2024-05-02\n"
                       "tagged: !!str 12\n"
                       "int_tag: !!int \"12\"\n"
                       "float_tag: !!float 3\n"
                       "bang: ! 12\n"
                       "custom: !thing 12\n"
                       "block: |\n"
                       "  80\n"
                       "80: key is text\n"
                       "dup: 1\n"
                       "dup: 2\n"
                       "anchored: &a 5\n";
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    assert_int_equal(load_text(text, &s, &err), HNP_OK);
    assert_int_equal(s.count, 1);
    json_t *o = obj_at(&s, 0);
    assert_true(json_is_integer(json_object_get(o, "port")));
    assert_int_equal(json_integer_value(json_object_get(o, "port")), 80);
    assert_string_equal(str_at(o, "quoted"), "80");
    assert_string_equal(str_at(o, "single"), "80");
    assert_true(json_is_true(json_object_get(o, "yes_")));
    assert_true(json_is_false(json_object_get(o, "no_")));
    assert_true(json_is_null(json_object_get(o, "nothing")));
    assert_true(json_is_null(json_object_get(o, "tilde")));
    assert_true(json_is_null(json_object_get(o, "empty")));
    assert_true(json_is_real(json_object_get(o, "real")));
    assert_true(json_real_value(json_object_get(o, "real")) == 1.5);
    assert_true(json_real_value(json_object_get(o, "exp")) == 1000.0);
    assert_int_equal(json_integer_value(json_object_get(o, "neg")), -17);
    assert_int_equal(json_integer_value(json_object_get(o, "plus")), 5);
    assert_int_equal(json_integer_value(json_object_get(o, "hex")), 31);
    assert_int_equal(json_integer_value(json_object_get(o, "oct")), 15);
    assert_true(json_is_real(json_object_get(o, "huge")));
    assert_true(json_real_value(json_object_get(o, "huge")) == 1e20);
    assert_true(json_is_integer(json_object_get(o, "min")));
    assert_true(json_integer_value(json_object_get(o, "min")) == INT64_MIN);
    assert_string_equal(str_at(o, "inf"), ".inf");
    assert_string_equal(str_at(o, "word"), "yes");
    assert_string_equal(str_at(o, "date"), "2024-05-02");
    assert_string_equal(str_at(o, "tagged"), "12");
    assert_int_equal(json_integer_value(json_object_get(o, "int_tag")), 12);
    assert_true(json_is_real(json_object_get(o, "float_tag")));
    assert_string_equal(str_at(o, "bang"), "12");
    assert_int_equal(json_integer_value(json_object_get(o, "custom")), 12);
    assert_string_equal(str_at(o, "block"), "80\n");
    assert_string_equal(str_at(o, "80"), "key is text");
    assert_int_equal(json_integer_value(json_object_get(o, "dup")), 2);
    assert_int_equal(json_integer_value(json_object_get(o, "anchored")), 5);
    seen_free(&s);

    expect_error("a: !!int abc\n", HNP_ERR_PARSE, "in.txt:1:4", "not a valid !!int");
    expect_error("a: !!bool 1\n", HNP_ERR_PARSE, "in.txt:1:4", "not a valid !!bool");
}

static void test_bom(void **state)
{
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    assert_int_equal(load_text("\xEF\xBB\xBF\n{\"a\": 1}", &s, &err), HNP_OK);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.lines[0], 2);
    assert_int_equal(load_text("\xEF\xBB\xBF"
                               "a: 1\n---\nb: 2\n",
                               &s, &err),
                     HNP_OK);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.lines[1], 1);
    assert_int_equal(s.lines[2], 3);
    assert_int_equal(json_integer_value(json_object_get(obj_at(&s, 1), "a")), 1);
    seen_free(&s);
    /* Columns do not count the BOM. */
    expect_error("\xEF\xBB\xBF{\"a\": x}", HNP_ERR_PARSE, "in.txt:1:7", "invalid token");
    expect_error("\xEF\xBB\xBF"
                 "a: [1\n",
                 HNP_ERR_PARSE, "in.txt:2:1", "flow sequence");
}

/* ASCII text as UTF-16LE with a BOM into out (2 + 2 * strlen(text) bytes); returns its length. */
static size_t utf16le(const char *text, char *out)
{
    size_t n = 0;
    out[n++] = (char)0xFF;
    out[n++] = (char)0xFE;
    for (size_t i = 0; text[i] != '\0'; i++) {
        out[n++] = text[i];
        out[n++] = 0;
    }
    return n;
}

/* Windows PowerShell writes UTF-16LE with a BOM; libyaml reads it. */
static void test_utf16_yaml(void **state)
{
    const char text[] = "kind: Pod\nn: 7\n";
    char utf16[2 + 2 * sizeof(text)];
    size_t n = utf16le(text, utf16);
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    assert_int_equal(load_bytes(utf16, n, NULL, &s, &err), HNP_OK);
    assert_int_equal(s.count, 1);
    assert_int_equal(json_integer_value(json_object_get(obj_at(&s, 0), "n")), 7);
    seen_free(&s);
}

static void test_json_errors(void **state)
{
    expect_error("{\"a\": 1}\n{\"b\":\n  x}", HNP_ERR_PARSE, "in.txt:3:3", "invalid token");
    expect_error("{\"a\": \"caf\xC3\xA9\" x}", HNP_ERR_PARSE, "in.txt:1:14", "'}' expected");
    expect_error("{\"kind\":\"List\",\"items\":[\n{\"a\":1},\n  {\"b\":\n  x}]}", HNP_ERR_PARSE,
                 "in.txt:4:3", "invalid token");
    expect_error("{\"kind\":\"List\",\"items\":[\n  {\"a\":1}\n  x]}", HNP_ERR_PARSE, "in.txt:3:3",
                 "',' or ']' expected");
    expect_error("{\"kind\":\"List\",\"items\":[{\"a\":1}] \"metadata\": {}}", HNP_ERR_PARSE,
                 "in.txt:1:34", "',' or '}' expected");
    expect_error("{\"kind\":\"List\",\"items\":[{\"a\":1}],\n\"metadata\": {x}}", HNP_ERR_PARSE,
                 "in.txt:2:14", "string or '}' expected");
    expect_error("{\"kind\":\"List\",\"items\":[{\"a\":1}]", HNP_ERR_PARSE, "in.txt:1:33",
                 "end of file");
    expect_error("{\"kind\":\"List\",\"items\":[{\"a\":1},", HNP_ERR_PARSE, "in.txt:1:32",
                 "end of file");
    expect_error("{\"a\": \"abc", HNP_ERR_PARSE, "in.txt:1:10", "premature end of input");
    expect_error("{\"a\": 1} x", HNP_ERR_PARSE, "in.txt:1:10", "invalid token");
    expect_error("{\"a\": 123456789012345678901234567890}", HNP_ERR_PARSE, "in.txt:1:36",
                 "too big integer");
    expect_error("{\"kind\":\"List\",\"items\":[{}], \"items\": []}", HNP_ERR_SCHEMA, "in.txt:1",
                 "duplicate \"items\"");
}

/*
 * A bare word that jansson reads only in part (null12 is null, then 12):
 * what it leaves is read on, as it always was, in a top-level value, an
 * item, or a List member before or after the items.
 */
static void test_json_words_read_in_part(void **state)
{
    expect_error("{\"a\": 1}\nnull12", HNP_ERR_SCHEMA, "in.txt:2",
                 "top-level JSON value is an integer");
    expect_error("{} null12", HNP_ERR_SCHEMA, "in.txt:1", "is an integer");
    expect_error("{\"kind\":\"List\",\"items\":[],\"m\": 5x}", HNP_ERR_PARSE, "in.txt:1:33",
                 "',' or '}' expected near 'x'");
    expect_error("{\"kind\":\"List\",\"m\": 5x, \"items\":[]}", HNP_ERR_PARSE, "in.txt:1:22",
                 "',' or '}' expected near 'x'");
    expect_error("{\"items\":[null5]}", HNP_ERR_SCHEMA, "in.txt:1", "items[0] is null");
    expect_error("{\"kind\":\"List\",\"m\": nullx, \"items\":[]}", HNP_ERR_PARSE, "in.txt:1:25",
                 "invalid token");
}

/* Bytes of the input quoted in a message are made printable. */
static void test_error_text_printable(void **state)
{
    expect_error("{\"items\":[{}]\x01}", HNP_ERR_PARSE, "in.txt:1:14",
                 "',' or '}' expected near '?'");
    expect_error("{\"items\":[{}]\xC3}", HNP_ERR_PARSE, "in.txt:1:14", "near '?'");
    expect_error("{\"a\": 1}\n\xFF\xFE", HNP_ERR_PARSE, "in.txt:2:1", "unable to decode byte 0xff");
    expect_error("a: !!int \"\\x01\xC3\xA9\"\n", HNP_ERR_PARSE, "in.txt:1:4",
                 "'??\?' is not a valid !!int");
    expect_error("a: !!int \"\xC3\xA9x\"\n", HNP_ERR_PARSE, "in.txt:1:4",
                 "'\xC3\xA9x' is not a valid !!int");
}

static void test_yaml_errors(void **state)
{
    expect_error("a: 1\nb: [1, 2\nc: 3\n", HNP_ERR_PARSE, "in.txt:3:2",
                 "while parsing a flow sequence: did not find expected ',' or ']'");
    expect_error("a: 1\n  b: 2\n", HNP_ERR_PARSE, "in.txt:2:4",
                 "mapping values are not allowed in this context");
    expect_error("a: \"abc\n", HNP_ERR_PARSE, "in.txt:2:1", "found unexpected end of stream");
    expect_error("a: 1\n\tb: 2\n", HNP_ERR_PARSE, "in.txt:2:1", "tab character");
    expect_error("a:\n  b: \x01\n", HNP_ERR_PARSE, "in.txt:2:6",
                 "control characters are not allowed");
    expect_error("? [a]\n: 1\n", HNP_ERR_SCHEMA, "in.txt:1", "mapping key is not a scalar");
}

static void test_invalid_utf8(void **state)
{
    expect_error("{\"a\": \"\xFF\"}", HNP_ERR_PARSE, "in.txt:1:7", "unable to decode byte 0xff");
    expect_error("{\"kind\":\"List\",\"items\":[\n{\"a\": \"\xC0\x80\"}]}", HNP_ERR_PARSE,
                 "in.txt:2:7", "unable to decode byte 0xc0");
    expect_error("{\"a\": \"\xED\xA0\x80\"}", HNP_ERR_PARSE, "in.txt:1:7", "unable to decode");
    expect_error("{\"\xC3\xA9\xFE\": 1}", HNP_ERR_PARSE, "in.txt:1:3",
                 "unable to decode byte 0xfe");
    expect_error("a: 1\n---\nb: \xFF\n", HNP_ERR_PARSE, "in.txt:3:4",
                 "invalid leading UTF-8 octet");
    expect_error("a: caf\xC3\n", HNP_ERR_PARSE, "in.txt:1:8", "invalid trailing UTF-8 octet");
    expect_error("a: \xED\xA0\x80\n", HNP_ERR_PARSE, "in.txt:1:4", "invalid Unicode character");
    expect_error("a: \xF0\x9F\x98\n", HNP_ERR_PARSE, "in.txt:1:5", "invalid trailing UTF-8 octet");
    expect_error("a: 1\nb: \xF0\x9F", HNP_ERR_PARSE, "in.txt:2:4",
                 "incomplete UTF-8 octet sequence");
    expect_error("{\"a\": \"\xF0\x9F", HNP_ERR_PARSE, "in.txt:1:7", "unable to decode byte 0xf0");
}

static char *repeat(const char *prefix, const char *unit, size_t n, const char *suffix)
{
    size_t plen = strlen(prefix), ulen = strlen(unit), slen = strlen(suffix);
    char *buf = malloc(plen + ulen * n + slen + 1);
    assert_non_null(buf);
    char *p = buf;
    p += snprintf(p, plen + 1, "%s", prefix);
    for (size_t i = 0; i < n; i++)
        p += snprintf(p, ulen + 1, "%s", unit);
    snprintf(p, slen + 1, "%s", suffix);
    return buf;
}

static void expect_code(const char *text, const struct hnp_load_limits *limits, enum hnp_err code,
                        const char *where)
{
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    enum hnp_err rc = load_bytes(text, strlen(text), limits, &s, &err);
    if (rc != code || (where != NULL && strcmp(err.where, where) != 0))
        fail_msg("got %s at '%s' (%s), want %s at '%s'", hnp_err_name(rc), err.where, err.message,
                 hnp_err_name(code), where ? where : "");
    seen_free(&s);
}

static void test_deep_nesting(void **state)
{
    char *text = repeat("", "[", 100000, "");
    expect_code(text, NULL, HNP_ERR_LIMIT, "in.txt:1");
    free(text);
    text = repeat("{\"kind\":\"List\",\"items\":[\n", "{\"a\":", 100000, "");
    expect_code(text, NULL, HNP_ERR_LIMIT, "in.txt:2");
    free(text);
    text = repeat("{\"kind\":\"List\",\"metadata\":", "[", 100000, "");
    expect_code(text, NULL, HNP_ERR_LIMIT, "in.txt:1");
    free(text);
    text = repeat("a: 1\n---\nb: ", "[", 100000, "\n");
    expect_code(text, NULL, HNP_ERR_LIMIT, "in.txt:3");
    free(text);
    text = repeat("items:\n- a: ", "{b: ", 100000, "\n");
    expect_code(text, NULL, HNP_ERR_LIMIT, "in.txt:2");
    free(text);
    /* jansson's own cap (2048) is reported as a limit too. */
    struct hnp_load_limits big = {.max_depth = 100000};
    text = repeat("", "[", 100000, "");
    expect_code(text, &big, HNP_ERR_LIMIT, NULL);
    free(text);
}

static void test_depth_boundary(void **state)
{
    /* The object itself is level 1. */
    char *text = repeat("", "{\"a\":", 128, "1");
    char *closed = repeat(text, "}", 128, "");
    expect_code(closed, NULL, HNP_OK, NULL);
    free(text);
    free(closed);
    text = repeat("", "{\"a\":", 129, "1");
    closed = repeat(text, "}", 129, "");
    expect_code(closed, NULL, HNP_ERR_LIMIT, "in.txt:1");
    free(text);
    free(closed);

    struct hnp_load_limits three = {.max_depth = 3};
    expect_code("{\"items\":[{\"a\":{\"b\":[1]}}]}", &three, HNP_OK, NULL);
    expect_code("{\"items\":[{\"a\":{\"b\":[[1]]}}]}", &three, HNP_ERR_LIMIT, "in.txt:1");
    expect_code("{\"a\":{\"b\":[1]}}", &three, HNP_OK, NULL);
    expect_code("{\"a\":{\"b\":[{}]}}", &three, HNP_ERR_LIMIT, "in.txt:1");
    expect_code("a:\n  b: [1]\n", &three, HNP_OK, NULL);
    expect_code("a:\n  b:\n  - [1]\n", &three, HNP_ERR_LIMIT, "in.txt:3");
    expect_code("kind: List\nitems:\n- a:\n    b: [1]\n", &three, HNP_OK, NULL);
    expect_code("kind: List\nitems:\n- a:\n    b: [{}]\n", &three, HNP_ERR_LIMIT, "in.txt:4");

    /* Too deep in a member of the List wrapper after the items: the wrapper is level 1. */
    struct seen s;
    struct hnp_error err;
    const char *list = "{\"kind\":\"List\",\"items\":[\n{\"a\":1},\n{\"b\":2}\n],\n"
                       "\"metadata\":{\"x\":\n[[]]}}";
    seen_init(&s);
    assert_int_equal(load_bytes(list, strlen(list), &three, &s, &err), HNP_ERR_LIMIT);
    assert_int_equal(s.count, 2);
    assert_string_equal(err.where, "in.txt:6");
    assert_string_equal(err.message, "object starting at line 1 is nested deeper than 3 levels");
    seen_free(&s);
}

static void test_size_limit(void **state)
{
    struct hnp_load_limits limits = {.max_input_bytes = 8};
    expect_code("{\"a\":1}", &limits, HNP_OK, NULL);  /* 7 bytes */
    expect_code("{\"a\": 1}", &limits, HNP_OK, NULL); /* 8 bytes */
    expect_code("{\"a\":  1}", &limits, HNP_ERR_LIMIT, "in.txt");

    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    limits.max_input_bytes = 100;
    assert_int_equal(
        load_file(HNP_TEST_DATA_DIR "/load/kubectl-pods.json", &limits, collect, &s, &err),
        HNP_ERR_LIMIT);
    assert_int_equal(s.count, 0);
    assert_true(strstr(err.message, "100 bytes") != NULL);
    seen_free(&s);
}

static void test_empty(void **state)
{
    /* Nothing at all: the wrong file, most likely. */
    const char *nothing[] = {
        "",      " \n\t\r\n",       "\xEF\xBB\xBF",      "# just a comment\n   # another\n",
        "---\n", "---\n...\n---\n", "--- ~\n--- null\n", "null\n",
    };
    for (size_t i = 0; i < sizeof(nothing) / sizeof(nothing[0]); i++) {
        struct seen s;
        struct hnp_error err;
        seen_init(&s);
        enum hnp_err rc = load_text(nothing[i], &s, &err);
        if (rc != HNP_ERR_EMPTY)
            fail_msg("input %zu: %s (%s)", i, hnp_err_name(rc), err.message);
        assert_string_equal(err.message, "no Kubernetes objects in in.txt");
        assert_int_equal(s.count, 0);
        seen_free(&s);
    }
    /*
     * An empty List is what `kubectl get networkpolicies -A -o yaml` prints
     * when there are none: valid input that holds no object. items: null is
     * not a List: the wrapper itself is the object.
     */
    const char *lists[] = {
        "{\"kind\":\"List\",\"items\":[]}",
        "{\"kind\":\"List\",\"items\":[ ]}\nnull",
        "kind: List\nitems: []\n",
        "apiVersion: v1\nitems:\nkind: List\n",
    };
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        struct seen s;
        struct hnp_error err;
        seen_init(&s);
        enum hnp_err rc = load_text(lists[i], &s, &err);
        if (rc != HNP_OK)
            fail_msg("list %zu: %s (%s)", i, hnp_err_name(rc), err.message);
        assert_int_equal(s.count, i == 3 ? 1 : 0);
        seen_free(&s);
    }
}

static void test_alias(void **state)
{
    expect_error("a: &x [1, 2]\nb: *x\n", HNP_ERR_PARSE, "in.txt:2:4",
                 "YAML aliases are not supported");
    /* The classic billion laughs stops at the first alias. */
    expect_error("a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n", HNP_ERR_PARSE,
                 "in.txt:2:8", "aliases");
}

static void test_not_objects(void **state)
{
    expect_error("- a\n- b\n", HNP_ERR_SCHEMA, "in.txt:1", "YAML document is a sequence");
    expect_error("a: 1\n---\njust text\n", HNP_ERR_SCHEMA, "in.txt:3", "YAML document is a string");
    expect_error("--- 5\n", HNP_ERR_SCHEMA, "in.txt:1", "YAML document is an integer");
    expect_error("[{\"a\": 1}]", HNP_ERR_SCHEMA, "in.txt:1",
                 "top-level JSON value is an array, not an object");
    expect_error("{\"a\": 1}\n\n \"x\"", HNP_ERR_SCHEMA, "in.txt:3",
                 "top-level JSON value is a string, not an object");
    expect_error("{\"a\": 1}\n 12", HNP_ERR_SCHEMA, "in.txt:2", "is an integer");
}

static void test_items_not_objects(void **state)
{
    expect_error("{\"kind\":\"List\",\"items\":[\n  {\"a\":1},\n  {\"b\":2},\n  {},\n  \"x\"]}",
                 HNP_ERR_SCHEMA, "in.txt:5", "items[3] is a string, not an object");
    expect_error("{\"items\":[null]}", HNP_ERR_SCHEMA, "in.txt:1", "items[0] is null");
    expect_error("{\"items\":[{}, [1]]}", HNP_ERR_SCHEMA, "in.txt:1", "items[1] is an array");
    expect_error("kind: List\nitems:\n- a: 1\n- 5\n", HNP_ERR_SCHEMA, "in.txt:4",
                 "items[1] is an integer, not an object");
    expect_error("kind: List\nitems:\n- a: 1\n-\n  - x\n", HNP_ERR_SCHEMA, "in.txt:5",
                 "items[1] is a sequence");
    expect_error("items:\n- ~\n", HNP_ERR_SCHEMA, "in.txt:2", "items[0] is null");
    expect_error("items:\n- a: 1\nitems:\n- b: 1\n", HNP_ERR_SCHEMA, "in.txt:4",
                 "duplicate \"items\"");
}

/* The rest of a YAML List root is ignored; items inside an item are data. */
static void test_yaml_list_shapes(void **state)
{
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    assert_int_equal(load_text("metadata: {resourceVersion: \"\"}\n"
                               "items:\n"
                               "  - kind: A\n"
                               "    items: [1, 2]\n"
                               "  - {kind: B}\n"
                               "kind: List\n"
                               "---\n"
                               "kind: C\n"
                               "items: {x: 1}\n",
                               &s, &err),
                     HNP_OK);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.lines[0], 3);
    assert_int_equal(s.lines[1], 5);
    assert_int_equal(s.lines[2], 8);
    assert_int_equal(json_array_size(json_object_get(obj_at(&s, 0), "items")), 2);
    assert_string_equal(str_at(obj_at(&s, 1), "kind"), "B");
    assert_true(json_is_object(json_object_get(obj_at(&s, 2), "items")));
    seen_free(&s);
}

static void stop_case(const char *text, size_t stop_after, size_t want_count)
{
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    s.stop_after = stop_after;
    s.stop_code = HNP_ERR_INVALID;
    /* The callback sets no detail, and the loader must add none after the stop. */
    enum hnp_err rc = load_text(text, &s, &err);
    assert_int_equal(rc, HNP_ERR_INVALID);
    assert_int_equal(s.count, want_count);
    assert_string_equal(err.where, "");
    assert_string_equal(err.message, "");
    seen_free(&s);
}

static enum hnp_err stop_with_message(const struct hnp_loaded_object *object, void *ctx)
{
    struct hnp_error *err = ctx;
    return hnp_error_set(err, HNP_ERR_NOT_FOUND, "cb", "stopped at line %ld", object->line);
}

static void test_callback_stop(void **state)
{
    stop_case("{\"items\":[{\"n\":0},{\"n\":1},{\"n\":2}]}", 2, 2);
    stop_case("{\"n\":0}{\"n\":1}{\"n\":2}", 1, 1);
    stop_case("items:\n- n: 0\n- n: 1\n- n: 2\n", 3, 3);
    stop_case("n: 0\n---\nn: 1\n---\nn: 2\n", 2, 2);
    /* Objects after the stop are not looked at, even broken ones. */
    stop_case("{\"items\":[{\"n\":0},{\"n\":1}, x", 2, 2);
    stop_case("n: 0\n---\nn: 1\n---\n[oops\n", 2, 2);

    struct hnp_error err;
    const char *text = "a: 1\n---\nb: 2\n";
    assert_int_equal(load_exact(text, strlen(text), NULL, stop_with_message, &err, &err),
                     HNP_ERR_NOT_FOUND);
    assert_string_equal(err.where, "cb");
    assert_string_equal(err.message, "stopped at line 1");
}

static void test_generated_list(void **state)
{
    size_t n = 5000, cap = n * 128 + 64, used = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    used += (size_t)snprintf(buf + used, cap - used, "{\"apiVersion\":\"v1\",\"items\":[\n");
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(buf + used, cap - used,
                                 "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p%zu\","
                                 "\"labels\":{\"i\":\"%zu\"}},\"n\":%zu}%s\n",
                                 i, i, i, i + 1 < n ? "," : "");
    used += (size_t)snprintf(buf + used, cap - used, "],\"kind\":\"List\"}\n");
    assert_true(used < cap);

    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    assert_int_equal(load_bytes(buf, used, NULL, &s, &err), HNP_OK);
    free(buf);
    assert_int_equal(s.count, n);
    for (size_t i = 0; i < n; i++) {
        json_t *obj = obj_at(&s, i);
        assert_int_equal(json_integer_value(json_object_get(obj, "n")), i);
        assert_int_equal(s.lines[i], (long)i + 2);
        /* Each item is a tree of its own: the callback's reference is the only one left. */
        assert_int_equal(obj->refcount, 1);
    }
    seen_free(&s);
}

/* hnp_load_buffer accepts a NULL callback (count-only use, fuzzing) and a NULL err. */
static void test_null_callback_and_err(void **state)
{
    const char *text = "a: 1\n";
    assert_int_equal(load_buffer(text, strlen(text), NULL, NULL, NULL, NULL, NULL), HNP_OK);
    assert_int_equal(load_buffer("{", 1, NULL, NULL, NULL, NULL, NULL), HNP_ERR_PARSE);
    struct hnp_error err;
    assert_int_equal(load_buffer("", 0, NULL, NULL, NULL, NULL, &err), HNP_ERR_EMPTY);
    assert_string_equal(err.message, "no Kubernetes objects in <input>");
}

/* Lines of nodes inside each object: YAML records them, JSON falls back to the object's line. */
struct node_lines {
    long spec_line, port_line, protocol_line, true_line, object_line;
    int calls;
};

static enum hnp_err collect_node_lines(const struct hnp_loaded_object *o, void *ctx)
{
    struct node_lines *nl = ctx;
    json_t *rule = json_array_get(json_object_get(json_object_get(o->obj, "spec"), "ingress"), 0);
    json_t *port = json_array_get(json_object_get(rule, "ports"), 0);
    nl->object_line = o->line;
    nl->spec_line = hnp_loaded_object_line(o, json_object_get(o->obj, "spec"));
    nl->port_line = hnp_loaded_object_line(o, json_object_get(port, "port"));
    nl->protocol_line = hnp_loaded_object_line(o, json_object_get(port, "protocol"));
    nl->true_line = hnp_loaded_object_line(o, json_object_get(port, "flag"));
    nl->calls++;
    return HNP_OK;
}

static void test_node_lines(void **state)
{
    (void)state;
    const char *yaml = "# comment\n"
                       "---\n"
                       "kind: NetworkPolicy\n"
                       "spec:\n"
                       "  ingress:\n"
                       "  - ports:\n"
                       "    - port: 80\n"
                       "      flag: true\n"
                       "      protocol: TCP\n";
    struct node_lines nl = {0};
    assert_int_equal(load_buffer(yaml, strlen(yaml), "p.yaml", NULL, collect_node_lines, &nl, NULL),
                     HNP_OK);
    assert_int_equal(nl.calls, 1);
    assert_int_equal(nl.object_line, 3);
    assert_int_equal(nl.spec_line, 5);
    assert_int_equal(nl.port_line, 7);
    assert_int_equal(nl.protocol_line, 9);
    assert_int_equal(nl.true_line, 3); /* a shared singleton: the object's line */

    const char *json = "\n{\"kind\": \"NetworkPolicy\",\n \"spec\": {\"ingress\": [{\"ports\":\n"
                       "[{\"port\": 80, \"protocol\": \"TCP\"}]}]}}\n";
    memset(&nl, 0, sizeof(nl));
    assert_int_equal(load_buffer(json, strlen(json), "p.json", NULL, collect_node_lines, &nl, NULL),
                     HNP_OK);
    assert_int_equal(nl.object_line, 2);
    assert_int_equal(nl.port_line, 2);
    assert_int_equal(nl.protocol_line, 2);
}

/* ---------------------------------------------------------------------------------------- */
/* Streaming: the read window, its boundaries and its limits                                */

/* The window the current group of tests runs with (0: the default); tests that change it
 * put it back. */
static size_t group_window;

static void window_restore(void)
{
    set_window(group_window);
}

/* Everything a load showed, as text, to compare loads through different windows. */
struct trace {
    char *text;
    size_t len, cap;
};

static void trace_add(struct trace *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->len + (size_t)n + 1) * 2;
        t->text = realloc(t->text, t->cap);
        assert_non_null(t->text);
    }
    va_start(ap, fmt);
    vsnprintf(t->text + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

static enum hnp_err trace_object(const struct hnp_loaded_object *o, void *ctx)
{
    struct trace *t = ctx;
    char *dump = json_dumps(o->obj, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    assert_non_null(dump);
    trace_add(t, "%s:%ld: %s\n", o->name, o->line, dump);
    free(dump);
    const char *key;
    json_t *value;
    json_object_foreach(o->obj, key, value)
    {
        trace_add(t, "  %s@%ld\n", key, hnp_loaded_object_line(o, value));
    }
    return HNP_OK;
}

/* Load len bytes (an exact-size copy) through a window of the given size (0: in place). */
static char *trace_load(const char *data, size_t len, const struct hnp_load_limits *limits,
                        size_t window)
{
    struct trace t = {0};
    struct hnp_error err;
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, data, len);
    set_window(window);
    enum hnp_err rc = load_buffer(copy, len, "in.txt", limits, trace_object, &t, &err);
    window_restore();
    free(copy);
    trace_add(&t, "=> %s at '%s': %s\n", hnp_err_name(rc), err.where, err.message);
    return t.text;
}

/*
 * Two traces show the same load: the same result and the same objects. With
 * reader_error, a failed load may also have handed over fewer or more of the
 * objects before the error: libyaml decodes everything it has read before it
 * parses any of it, so a reader error (invalid UTF-8) comes before or after
 * the objects that precede it depending on how much was read at once.
 */
static bool same_load(const char *got, const char *want, bool reader_error)
{
    const char *got_result = strstr(got, "=> "), *want_result = strstr(want, "=> ");
    assert_non_null(got_result);
    assert_non_null(want_result);
    if (strcmp(got_result, want_result) != 0)
        return false;
    size_t got_len = (size_t)(got_result - got), want_len = (size_t)(want_result - want);
    if (!reader_error || strncmp(want_result, "=> HNP_OK ", 10) == 0)
        return got_len == want_len && memcmp(got, want, got_len) == 0;
    size_t shorter = got_len < want_len ? got_len : want_len;
    return memcmp(got, want, shorter) == 0;
}

/*
 * Through every window of 1 to 80 bytes and a few bigger ones, so that a
 * refill boundary falls at every position of the input (and inside every
 * token, string, UTF-8 sequence and line of it), the load shows exactly what
 * it shows over the whole buffer: objects, lines, errors, positions.
 */
static void expect_same_windows(const char *data, size_t len, const struct hnp_load_limits *limits,
                                bool reader_error)
{
    static const size_t bigger[] = {96, 127, 128, 129, 255, 256, 1000, 4096, 65536};
    size_t nbig = sizeof(bigger) / sizeof(bigger[0]);
    char *want = trace_load(data, len, limits, 0);
    for (size_t k = 1; k <= 80 + nbig; k++) {
        size_t window = k <= 80 ? k : bigger[k - 81];
        char *got = trace_load(data, len, limits, window);
        if (!same_load(got, want, reader_error))
            fail_msg("window %zu:\n%.1500s\nwant (whole buffer):\n%.1500s", window, got, want);
        free(got);
    }
    free(want);
}

static void expect_same_every_window(const char *data, size_t len,
                                     const struct hnp_load_limits *limits)
{
    expect_same_windows(data, len, limits, false);
}

static void expect_same_every_window_text(const char *text, const struct hnp_load_limits *limits)
{
    expect_same_every_window(text, strlen(text), limits);
}

/* The first line of a trace that starts with "=>": the result. */
static void expect_result(const char *data, size_t len, const struct hnp_load_limits *limits,
                          const char *result)
{
    char *got = trace_load(data, len, limits, 0);
    const char *r = strstr(got, "=> ");
    assert_non_null(r);
    if (strncmp(r + 3, result, strlen(result)) != 0)
        fail_msg("got %s, want %s", r + 3, result);
    free(got);
}

static char *text_printf(const char *fmt, ...)
{
    struct trace t = {0};
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    t.text = malloc((size_t)n + 1);
    assert_non_null(t.text);
    va_start(ap, fmt);
    vsnprintf(t.text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return t.text;
}

static void test_window_json(void **state)
{
    /* A List with escapes, multi-byte characters and numbers, then more top-level values. */
    expect_same_every_window_text(
        "\xEF\xBB\xBF\n\n"
        "{\n"
        "  \"apiVersion\": \"v1\",\n"
        "  \"items\": [\n"
        "    {\"kind\": \"Pod\", \"n\": 12345, \"s\": \"caf\xC3\xA9 \\\" ] } [ { \\\\\","
        " \"e\": \"\xF0\x9F\x98\x80\"},\n"
        "    {\"a\": [1, 2.5, -3e2, true, false, null, {\"b\": {}}], \"c\": \"\\\\\"},\n"
        "\n"
        "    {\"k\\u0065y\": \"\\u00e9\\n\", \"t\": \"\\t\"}\n"
        "  ],\n"
        "  \"kind\": \"List\",\n"
        "  \"metadata\": {\"resourceVersion\": \"\", \"x\": [[], {}]}\n"
        "}\n"
        "{\"after\": 1}null\n"
        "  {\"x\": [[1]], \"y\": 1e5}   \n"
        "\r\n\t{\"z\":\n\"\xE2\x82\xAC\"}",
        NULL);
    /* An items key after other members and written with an escape, a List after a List. */
    expect_same_every_window_text("{\"kind\":\"List\",\"metadata\":{\"items\":[{\"no\":1}]},"
                                  "\"it\\u0065ms\":[{\"n\":0},{\"n\":1}]}\n"
                                  "{\"items\":[{\"n\":2}]}{\"items\":[]}{\"items\":{}}",
                                  NULL);

    /* Errors and their positions. */
    static const char *const bad[] = {
        "{\"kind\":\"List\",\"items\":[\n{\"a\":1},\n{\"a\":2},\n{\"a\":3},\n  {\"b\":\n  x}]}",
        "{\"kind\":\"List\",\"items\":[\n  {\"a\":1}\n  x]}",
        "{\"kind\":\"List\",\"items\":[{\"a\":1}] \"metadata\": {}}",
        "{\"kind\":\"List\",\"items\":[{\"a\":1}],\n\"metadata\": {x}}",
        "{\"kind\":\"List\",\"items\":[{\"a\":1},{\"b\":[1,2",
        "{\"kind\":\"List\",\"items\":[{\"a\":1},",
        "{\"a\": \"abc",
        "{\"a\": 1} x",
        "{\"a\": 1}\n12345",
        "{\"a\": 1}\n\n  \"caf\xC3\xA9\"",
        "{\"a\": 123456789012345678901234567890}",
        "{\"kind\":\"List\",\"items\":[\n{\"a\": \"\xC0\x80\"}]}",
        "{\"a\": \"caf\xC3\xA9\" x}",
        "{\"items\":[{}]\x01}",
        "[{\"a\": 1}]",
        "{\"items\":[{}, [1]]}",
        "{\"kind\":\"List\",\"items\":[{}], \"items\": []}",
        "{\"a\": \"\xF0\x9F",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_same_every_window_text(bad[i], NULL);

    /* Depth limits, in an item and in a member of the wrapper after the items. */
    struct hnp_load_limits three = {.max_depth = 3};
    expect_same_every_window_text("{\"items\":[{\"a\":{\"b\":[1]}},\n{\"a\":{\"b\":[[1]]}}]}",
                                  &three);
    expect_same_every_window_text("{\"kind\":\"List\",\"items\":[\n{\"a\":1},\n{\"b\":2}\n],\n"
                                  "\"metadata\":{\"x\":\n[[]]}}",
                                  &three);
    expect_same_every_window_text("{\"a\":{\"b\":[{}]}}", &three);
}

/* A one-line input: positions stay exact after the start of their line has left the window. */
static void test_window_long_line(void **state)
{
    struct trace t = {0};
    for (int i = 0; i < 300; i++)
        trace_add(&t, "{\"caf\xC3\xA9\":%d} ", i);
    trace_add(&t, "{\"b\": x}");
    expect_same_every_window(t.text, t.len, NULL);
    expect_result(t.text, t.len, NULL, "HNP_ERR_PARSE at 'in.txt:1:3797': invalid token");
    free(t.text);
}

static void test_window_yaml(void **state)
{
    /* Blank lines first (the window must hold them until the format is known), a
     * document, a List, a block scalar, flow collections, multi-byte characters. */
    struct trace t = {0};
    for (int i = 0; i < 100; i++)
        trace_add(&t, i % 3 ? "\n" : "  \n");
    trace_add(&t, "# comment\n"
                  "kind: Pod\n"
                  "metadata:\n"
                  "  name: caf\xC3\xA9\n"
                  "  labels: {app: web, \"x\": '1'}\n"
                  "spec:\n"
                  "  containers:\n"
                  "  - name: a\n"
                  "    ports: [80, 443]\n"
                  "---\n"
                  "kind: List\n"
                  "items:\n"
                  "- kind: A\n"
                  "  n: 1\n"
                  "- {kind: B, s: \"\xF0\x9F\x98\x80\"}\n"
                  "- kind: C\n"
                  "  text: |\n"
                  "    line1\n"
                  "    line2\n"
                  "metadata: {}\n"
                  "...\n"
                  "--- {kind: D}\n");
    expect_same_every_window(t.text, t.len, NULL);
    free(t.text);

    /* The same after a BOM. */
    expect_same_every_window_text("\xEF\xBB\xBF\n\n\nkind: Pod\nn: 1\n---\nkind: B\n", NULL);

    /* UTF-16 with a BOM, decoded by libyaml from reads of any size. */
    const char text[] = "kind: Pod\nn: 7\ns: \"\\u00e9\"\n";
    char utf16[2 + 2 * sizeof(text)];
    expect_same_every_window(utf16, utf16le(text, utf16), NULL);

    /* Errors, including reader errors far from the start (placed from the kept bytes). */
    static const char *const bad[] = {
        "a: 1\nb: [1, 2\nc: 3\n",
        "a: 1\n---\nb: \xFF\n",
        "a: caf\xC3\n",
        "a: \xF0\x9F\x98\n",
        "a: 1\nb: \xF0\x9F",
        "a: &x [1, 2]\nb: *x\n",
        "kind: List\nitems:\n- a: 1\n- 5\n",
        "a: !!int abc\n",
        "? [a]\n: 1\n",
        "\xEF\xBB\xBFx: [1\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_same_windows(bad[i], strlen(bad[i]), NULL, true);

    t = (struct trace){0};
    for (int i = 0; i < 2000; i++)
        trace_add(&t, "k%d: caf\xC3\xA9 %d\n", i, i);
    trace_add(&t, "bad: caf\xC3\xA9 \xFF\n");
    expect_same_windows(t.text, t.len, NULL, true);
    expect_result(t.text, t.len, NULL,
                  "HNP_ERR_PARSE at 'in.txt:2001:11': invalid leading UTF-8 octet");
    free(t.text);

    t = (struct trace){0};
    for (int i = 0; i < 500; i++)
        trace_add(&t, "\n");
    trace_add(&t, "a: 1\nb: [1\n");
    expect_same_every_window(t.text, t.len, NULL);
    expect_result(t.text, t.len, NULL, "HNP_ERR_PARSE at 'in.txt:503:1'");
    free(t.text);

    struct hnp_load_limits three = {.max_depth = 3};
    expect_same_every_window_text("kind: List\nitems:\n- a:\n    b: [1]\n- a:\n    b: [{}]\n",
                                  &three);
}

/* An object past max_object_bytes: HNP_ERR_LIMIT naming its line, in place and streamed. */
static void test_object_limit(void **state)
{
    struct hnp_load_limits limits = {.max_object_bytes = 120};
    char big[201];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';

    char *text = text_printf("{\"kind\":\"List\",\"items\":[\n{\"n\":0},\n{\"n\":1},\n{\"n\":2},\n"
                             "  {\"big\":\"%s\"},\n{\"n\":4}]}",
                             big);
    expect_same_every_window_text(text, &limits);
    char *got = trace_load(text, strlen(text), &limits, 0);
    assert_non_null(strstr(got, "in.txt:4: {\"n\":2}\n"));
    assert_non_null(strstr(
        got,
        "=> HNP_ERR_LIMIT at 'in.txt:5': object starting at line 5 is larger than 120 bytes\n"));
    assert_null(strstr(got, "{\"n\":4}"));
    free(got);
    free(text);

    /* A top-level object, a top-level array. */
    text = text_printf("{\"n\":0}\n\n{\"big\":\"%s\"}", big);
    expect_same_every_window_text(text, &limits);
    expect_result(text, strlen(text), &limits, "HNP_ERR_LIMIT at 'in.txt:3'");
    free(text);
    text = text_printf("{\"n\":0}\n[\"%s\"]", big);
    expect_same_every_window_text(text, &limits);
    expect_result(text, strlen(text), &limits, "HNP_ERR_LIMIT at 'in.txt:2'");
    free(text);
    /* The List wrapper is not one object: its items are. */
    text = text_printf("{\"kind\":\"List\",\"items\":[{\"a\":\"%.100s\"},\n{\"b\":\"%.100s\"}]}",
                       big, big);
    expect_same_every_window_text(text, &limits);
    expect_result(text, strlen(text), &limits, "HNP_OK");
    free(text);

    /* Exactly at the limit is fine. */
    text = text_printf("{\"items\":[{\"a\":\"%.112s\"}]}", big); /* the item: 120 bytes */
    expect_same_every_window_text(text, &limits);
    expect_result(text, strlen(text), &limits, "HNP_OK");
    free(text);
    text = text_printf("{\"items\":[{\"a\":\"%.113s\"}]}", big);
    expect_same_every_window_text(text, &limits);
    expect_result(text, strlen(text), &limits, "HNP_ERR_LIMIT at 'in.txt:1'");
    free(text);

    /* Blank space before the first object is limited like an object. */
    for (size_t blanks = 120; blanks <= 121; blanks++) {
        struct trace t = {0};
        for (size_t k = 0; k < blanks; k++)
            trace_add(&t, k < 40 ? "\n" : " ");
        trace_add(&t, "{\"a\": 1}");
        expect_same_every_window(t.text, t.len, &limits);
        expect_result(t.text, t.len, &limits,
                      blanks == 120 ? "HNP_OK"
                                    : "HNP_ERR_LIMIT at 'in.txt:41': more than 120 bytes of blank "
                                      "space before any object");
        free(t.text);
    }

    /* YAML: an item and a document, measured by libyaml's marks. */
    text = text_printf("kind: List\nitems:\n- n: 0\n- n: 1\n- big: %s\n- n: 3\n", big);
    expect_same_every_window_text(text, &limits);
    expect_result(text, strlen(text), &limits,
                  "HNP_ERR_LIMIT at 'in.txt:5': object starting at line 5 is larger than 120 "
                  "bytes");
    free(text);
    text = text_printf("n: 0\n---\n# c\nkind: Pod\nspec:\n  big: %s\n", big);
    expect_same_every_window_text(text, &limits);
    expect_result(text, strlen(text), &limits, "HNP_ERR_LIMIT at 'in.txt:4'");
    free(text);
}

/* A giant YAML scalar is refused before libyaml has buffered all of it. */
static void test_yaml_giant_scalar(void **state)
{
    size_t n = (size_t)4 << 20;
    char *text = malloc(n + 16);
    assert_non_null(text);
    memcpy(text, "n: 0\n---\na: ", 12);
    memset(text + 12, 'x', n);
    text[12 + n] = '\n';
    text[13 + n] = '\0';
    struct hnp_load_limits limits = {.max_object_bytes = (size_t)64 << 10};
    for (size_t window = 0; window <= 4096; window += 4096) {
        struct seen s;
        struct hnp_error err;
        seen_init(&s);
        struct hnp_load_stats st;
        set_window(window);
        reset_stats();
        assert_int_equal(load_bytes(text, strlen(text), &limits, &s, &err), HNP_ERR_LIMIT);
        get_stats(&st);
        window_restore();
        if (window != 0) /* streamed: the rest of the scalar was never read */
            assert_true(st.bytes_read < ((size_t)1 << 20));
        assert_int_equal(s.count, 1);
        assert_string_equal(err.where, "in.txt:3");
        assert_string_equal(err.message, "object starting at line 3 is larger than 65536 bytes");
        seen_free(&s);
    }
    free(text);
}

/* The window grows to hold a big item, never past max_object_bytes, and shrinks back. */
static void test_window_growth(void **state)
{
    size_t big = 100000;
    struct trace t = {0};
    trace_add(&t, "{\"kind\":\"List\",\"items\":[\n");
    for (int i = 0; i < 50; i++)
        trace_add(&t, "{\"n\":%d},\n", i);
    char *filler = malloc(big + 1);
    assert_non_null(filler);
    memset(filler, 'y', big);
    filler[big] = '\0';
    trace_add(&t, "{\"big\":\"%s\"},\n", filler);
    free(filler);
    for (int i = 0; i < 50; i++)
        trace_add(&t, "{\"n\":%d}%s\n", i, i < 49 ? "," : "]}");

    struct hnp_load_stats st;
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    set_window(4096);
    reset_stats();
    assert_int_equal(load_bytes(t.text, t.len, NULL, &s, &err), HNP_OK);
    get_stats(&st);
    assert_int_equal(s.count, 101);
    assert_int_equal(s.lines[50], 52);
    assert_int_equal(s.lines[100], 102);
    assert_true(st.window_peak >= big);
    assert_true(st.window_peak <= 4 * big);
    assert_int_equal(st.window_last, 4096); /* shrunk back after the big item */
    assert_int_equal(st.bytes_read, t.len);
    seen_free(&s);

    /* With a limit below the big item the window stops at the limit. */
    struct hnp_load_limits limits = {.max_object_bytes = 65536};
    seen_init(&s);
    reset_stats();
    assert_int_equal(load_bytes(t.text, t.len, &limits, &s, &err), HNP_ERR_LIMIT);
    get_stats(&st);
    window_restore();
    assert_int_equal(s.count, 50);
    assert_string_equal(err.where, "in.txt:52");
    assert_true(st.window_peak <= 65536 + 1); /* the limit and one byte to see past it */
    seen_free(&s);
    free(t.text);
}

/* A read limit on standard input is found while streaming: objects before it were handed over. */
static void test_stream_input_limit(void **state)
{
    const char *path = "test_load_input_limit.tmp";
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("{\"kind\":\"List\",\"items\":[\n", f);
    for (int i = 0; i < 100; i++)
        fprintf(f, "{\"n\":%d}%s\n", i, i < 99 ? "," : "]}");
    assert_int_equal(fclose(f), 0);

    struct hnp_load_limits limits = {.max_input_bytes = 500};
    struct seen s;
    struct hnp_error err;
    seen_init(&s);
    set_window(64);
    assert_non_null(freopen(path, "rb", stdin));
    assert_int_equal(load_file("-", &limits, collect, &s, &err), HNP_ERR_LIMIT);
    window_restore();
    assert_true(s.count > 10 && s.count < 100);
    assert_string_equal(err.where, "-");
    assert_string_equal(err.message, "- is larger than the limit of 500 bytes");
    seen_free(&s);

    /* A file says its size: refused before anything is read. */
    seen_init(&s);
    assert_int_equal(load_file(path, &limits, collect, &s, &err), HNP_ERR_LIMIT);
    assert_int_equal(s.count, 0);
    seen_free(&s);
    remove(path);
}

/* Under valgrind the big inputs shrink: the point is the same, the time is not. */
static size_t stream_scale(size_t bytes)
{
    const char *preload = getenv("LD_PRELOAD");
    return preload != NULL && strstr(preload, "vgpreload") != NULL ? bytes / 25 : bytes;
}

struct count_ctx {
    size_t count;
    long last_line;
    long bad_line; /* the first item whose line or number was wrong, else 0 */
};

static enum hnp_err count_items(const struct hnp_loaded_object *o, void *ctx)
{
    struct count_ctx *c = ctx;
    json_t *n = json_object_get(o->obj, "n");
    if (c->bad_line == 0 && (!json_is_integer(n) || (size_t)json_integer_value(n) != c->count))
        c->bad_line = o->line;
    c->count++;
    c->last_line = o->line;
    return HNP_OK;
}

/*
 * A 200 MB List read from a file, and a YAML List from standard input: the
 * loader's window never grows past its first megabyte, whatever the input size.
 */
static void test_stream_large(void **state)
{
    const char *path = "test_load_stream.tmp";
    size_t target = stream_scale((size_t)200 << 20), size = 0, n = 0;
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    size += (size_t)fprintf(f, "{\n\"apiVersion\": \"v1\",\n\"items\": [\n");
    while (size < target) {
        size +=
            (size_t)fprintf(f,
                            "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
                            "\"pod-%zu\",\"namespace\":\"ns-%zu\",\"labels\":{\"app\":"
                            "\"app-%zu\"}},\"n\":%zu,\"status\":{\"podIP\":\"10.%zu.%zu.%zu\"}},\n",
                            n, n % 1000, n % 7, n, n >> 16 & 255, n >> 8 & 255, n & 255);
        n++;
    }
    size += (size_t)fprintf(f, "{\"n\":%zu}\n],\n\"kind\": \"List\"\n}\n", n);
    n++;
    assert_int_equal(fclose(f), 0);

    struct count_ctx c = {0};
    struct hnp_load_stats st;
    struct hnp_error err;
    set_window(0);
    reset_stats();
    assert_int_equal(load_file(path, NULL, count_items, &c, &err), HNP_OK);
    get_stats(&st);
    window_restore();
    assert_int_equal(c.count, n);
    assert_int_equal(c.bad_line, 0);
    assert_int_equal(c.last_line, (long)n + 3);
    assert_int_equal(st.bytes_read, size);
    assert_int_equal(st.window_peak, (size_t)1 << 20);
    remove(path);

    /* YAML, from standard input. */
    target = stream_scale((size_t)20 << 20);
    size = 0;
    n = 0;
    f = fopen(path, "wb");
    assert_non_null(f);
    size += (size_t)fprintf(f, "apiVersion: v1\nitems:\n");
    while (size < target) {
        size += (size_t)fprintf(f,
                                "- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: pod-%zu\n"
                                "    labels: {app: app-%zu}\n  n: %zu\n",
                                n, n % 7, n);
        n++;
    }
    size += (size_t)fprintf(f, "kind: List\n");
    assert_int_equal(fclose(f), 0);

    c = (struct count_ctx){0};
    assert_non_null(freopen(path, "rb", stdin));
    set_window(0);
    reset_stats();
    assert_int_equal(load_file("-", NULL, count_items, &c, &err), HNP_OK);
    get_stats(&st);
    window_restore();
    assert_int_equal(c.count, n);
    assert_int_equal(c.bad_line, 0);
    assert_int_equal(c.last_line, (long)(n - 1) * 6 + 3);
    assert_int_equal(st.bytes_read, size);
    assert_int_equal(st.window_peak, (size_t)1 << 20);
    remove(path);
}

static int run_group(const char *name, const struct CMUnitTest *tests, size_t count, size_t window)
{
    group_window = window;
    set_window(window);
    int failed = _cmocka_run_group_tests(name, tests, count, NULL, NULL);
    set_window(0);
    return failed;
}

/* The API server's own Lists: items without kind take it from the wrapper; empty Lists are input.
 */
struct kinds_seen {
    char kinds[8][32];
    int n;
};

static enum hnp_err collect_kinds(const struct hnp_loaded_object *o, void *ctx)
{
    struct kinds_seen *ks = ctx;
    const char *kind = json_string_value(json_object_get(o->obj, "kind"));
    if (ks->n < 8)
        snprintf(ks->kinds[ks->n++], sizeof(ks->kinds[0]), "%s", kind ? kind : "(none)");
    return HNP_OK;
}

static void test_api_lists(void **state)
{
    (void)state;
    struct kinds_seen ks = {0};
    const char *json = "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},"
                       "\"items\":[{\"metadata\":{\"name\":\"a\"}},"
                       "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\"}}]}\n"
                       "{\"apiVersion\":\"v1\",\"items\":[{\"metadata\":{}}],\"kind\":\"List\"}";
    assert_int_equal(load_buffer(json, strlen(json), "api.json", NULL, collect_kinds, &ks, NULL),
                     HNP_OK);
    assert_int_equal(ks.n, 3);
    assert_string_equal(ks.kinds[0], "Pod");
    assert_string_equal(ks.kinds[1], "Pod");
    assert_string_equal(ks.kinds[2], "(none)"); /* a plain List says nothing of its items */

    memset(&ks, 0, sizeof(ks));
    const char *yaml = "kind: NetworkPolicyList\napiVersion: networking.k8s.io/v1\nitems:\n"
                       "- metadata:\n    name: p\n---\nkind: Namespace\nmetadata:\n  name: n\n";
    assert_int_equal(load_buffer(yaml, strlen(yaml), "api.yaml", NULL, collect_kinds, &ks, NULL),
                     HNP_OK);
    assert_int_equal(ks.n, 2);
    assert_string_equal(ks.kinds[0], "NetworkPolicy");
    assert_string_equal(ks.kinds[1], "Namespace");

    /* `kubectl get networkpolicies -A -o yaml` with none: valid input, no object. */
    memset(&ks, 0, sizeof(ks));
    const char *empty_yaml = "apiVersion: v1\nitems: []\nkind: List\n";
    assert_int_equal(
        load_buffer(empty_yaml, strlen(empty_yaml), "e.yaml", NULL, collect_kinds, &ks, NULL),
        HNP_OK);
    const char *empty_json = "{\"kind\":\"NetworkPolicyList\",\"items\":[]}";
    assert_int_equal(
        load_buffer(empty_json, strlen(empty_json), "e.json", NULL, collect_kinds, &ks, NULL),
        HNP_OK);
    assert_int_equal(ks.n, 0);
}

int main(void)
{
    /* The loader's behaviour, over whole buffers and again through a 64-byte window. */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_single_object),
        cmocka_unit_test(test_json_list_lines),
        cmocka_unit_test(test_json_list_variants),
        cmocka_unit_test(test_json_concatenated),
        cmocka_unit_test(test_yaml_multi_doc),
        cmocka_unit_test(test_yaml_kubectl_list_file),
        cmocka_unit_test(test_json_kubectl_list_file),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_yaml_scalar_types),
        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_utf16_yaml),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_json_words_read_in_part),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_error_text_printable),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_depth_boundary),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_alias),
        cmocka_unit_test(test_not_objects),
        cmocka_unit_test(test_items_not_objects),
        cmocka_unit_test(test_yaml_list_shapes),
        cmocka_unit_test(test_callback_stop),
        cmocka_unit_test(test_generated_list),
        cmocka_unit_test(test_null_callback_and_err),
        cmocka_unit_test(test_node_lines),
        cmocka_unit_test(test_api_lists),
    };
    /* Streaming itself. */
    const struct CMUnitTest streaming[] = {
        cmocka_unit_test(test_window_json),        cmocka_unit_test(test_window_long_line),
        cmocka_unit_test(test_window_yaml),        cmocka_unit_test(test_object_limit),
        cmocka_unit_test(test_yaml_giant_scalar),  cmocka_unit_test(test_window_growth),
        cmocka_unit_test(test_stream_input_limit), cmocka_unit_test(test_stream_large),
    };
    size_t n = sizeof(tests) / sizeof(tests[0]);
    int failed = run_group("load", tests, n, 0);
    failed += run_group("load, 64-byte window", tests, n, 64);
    failed += run_group("load, streaming", streaming, sizeof(streaming) / sizeof(streaming[0]), 0);
    return failed;
}
