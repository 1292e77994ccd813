/*
 * test_log.c - the logger: exact text lines, JSON lines parsed back with
 * jansson, level filtering, quoting and escaping, newline stripping, caps,
 * the extra sink, and whole lines under concurrent logging.
 *
 * Each test captures output in a tmpfile() and fixes the clock.
 */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* 2026-11-28T07:50:00.123Z */
#define FIXED_MS 1795852200123LL
#define FIXED_TEXT "2026-11-28T07:50:00.123Z"

static long long fixed_clock(void)
{
    return FIXED_MS;
}

static int setup(void **state)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    *state = f;
    hnp_log_set_clock(fixed_clock);
    return 0;
}

static int teardown(void **state)
{
    hnp_log_setup(HNP_LOG_INFO, HNP_LOG_TEXT, NULL);
    hnp_log_set_sink(NULL, HNP_LOG_DEBUG, NULL);
    hnp_log_set_clock(NULL);
    fclose(*state);
    return 0;
}

/* Everything written to f so far; caller frees. */
static char *captured(FILE *f)
{
    fflush(f);
    long size = ftell(f);
    assert_true(size >= 0);
    char *text = malloc((size_t)size + 1);
    assert_non_null(text);
    rewind(f);
    size_t n = fread(text, 1, (size_t)size, f);
    assert_int_equal(n, (size_t)size);
    text[n] = '\0';
    /*
     * Back to the end for the next line: C11 wants a positioning call between
     * a read and a write on one stream (msvcrt drops the write without it).
     */
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    return text;
}

static void assert_captured(FILE *f, const char *expected)
{
    char *text = captured(f);
    assert_string_equal(text, expected);
    free(text);
}

static void test_format_time(void **state)
{
    char out[25];
    hnp_log_format_time(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    hnp_log_format_time(FIXED_MS, out);
    assert_string_equal(out, FIXED_TEXT);
    hnp_log_format_time(-1, out);
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    hnp_log_format_time(1709164800000LL + 86399999LL, out); /* leap day */
    assert_string_equal(out, "2024-02-29T23:59:59.999Z");
    hnp_log_format_time(951868800000LL, out);
    assert_string_equal(out, "2000-03-01T00:00:00.000Z");
    hnp_log_format_time(253402300799999LL, out);
    assert_string_equal(out, "9999-12-31T23:59:59.999Z");
}

static void test_text_line(void **state)
{
    FILE *f = *state;
    hnp_log_setup(HNP_LOG_DEBUG, HNP_LOG_TEXT, f);
    hnp_log(HNP_LOG_WARN, "policy rejected", "policy", "ns/name", "feature", "sctp", NULL);
    hnp_log(HNP_LOG_INFO, "started", NULL);
    hnp_log(HNP_LOG_DEBUG, "d", "k", "v", NULL);
    hnp_log(HNP_LOG_ERROR, "e", "k", NULL, NULL);
    assert_captured(f, FIXED_TEXT " WARN policy rejected policy=ns/name feature=sctp\n" FIXED_TEXT
                                  " INFO started\n" FIXED_TEXT " DEBUG d k=v\n" FIXED_TEXT
                                  " ERROR e k=\"\"\n");
}

static void test_level_filter(void **state)
{
    FILE *f = *state;
    hnp_log_setup(HNP_LOG_WARN, HNP_LOG_TEXT, f);
    hnp_log(HNP_LOG_DEBUG, "no-debug", NULL);
    hnp_log(HNP_LOG_INFO, "no-info", NULL);
    hnp_log(HNP_LOG_WARN, "yes-warn", NULL);
    hnp_log(HNP_LOG_ERROR, "yes-error", NULL);
    assert_false(hnp_log_enabled(HNP_LOG_INFO));
    assert_true(hnp_log_enabled(HNP_LOG_WARN));
    assert_captured(f, FIXED_TEXT " WARN yes-warn\n" FIXED_TEXT " ERROR yes-error\n");

    /* Reconfiguring takes effect at once. */
    hnp_log_setup(HNP_LOG_ERROR, HNP_LOG_TEXT, f);
    hnp_log(HNP_LOG_WARN, "dropped", NULL);
    hnp_log(HNP_LOG_ERROR, "kept", NULL);
    assert_captured(f, FIXED_TEXT " WARN yes-warn\n" FIXED_TEXT " ERROR yes-error\n" FIXED_TEXT
                                  " ERROR kept\n");
}

static void test_text_quoting(void **state)
{
    FILE *f = *state;
    hnp_log_setup(HNP_LOG_DEBUG, HNP_LOG_TEXT, f);
    hnp_log(HNP_LOG_INFO, "m", "space", "a b", "quote", "say \"hi\"", "eq", "k=v", "empty", "",
            "plain", "back\\slash", "nl", "one\ntwo", "tab", "a\tb", "ctl", "\x01x", "cr", "x\r",
            "bs_q", "a \\ b", NULL);
    assert_captured(f, FIXED_TEXT " INFO m space=\"a b\" quote=\"say \\\"hi\\\"\" eq=\"k=v\" "
                                  "empty=\"\" plain=back\\slash nl=\"one\\ntwo\" tab=\"a\\tb\" "
                                  "ctl=\"\\u0001x\" cr=\"x\\r\" bs_q=\"a \\\\ b\"\n");
}

static void test_text_keys_sanitised(void **state)
{
    FILE *f = *state;
    hnp_log_setup(HNP_LOG_DEBUG, HNP_LOG_TEXT, f);
    hnp_log(HNP_LOG_INFO, "m", "bad key", "1", "a=b", "2", "", "3", "ok.k-e_y:/x", "4", NULL);
    assert_captured(f, FIXED_TEXT " INFO m bad_key=1 a_b=2 _=3 ok.k-e_y:/x=4\n");
}

static void test_message_newlines(void **state)
{
    FILE *f = *state;
    hnp_log_setup(HNP_LOG_DEBUG, HNP_LOG_TEXT, f);
    hnp_log(HNP_LOG_INFO, "two\nlines\r\tand tab", NULL);
    assert_captured(f, FIXED_TEXT " INFO two lines  and tab\n");

    hnp_log_setup(HNP_LOG_DEBUG, HNP_LOG_JSON, f);
    hnp_log(HNP_LOG_INFO, "a\nb", "v", "c\nd", NULL);
    char *text = captured(f);
    const char *json_line = strchr(text, '\n') + 1;
    assert_string_equal(json_line, "{\"time\":\"" FIXED_TEXT "\",\"level\":\"info\","
                                   "\"msg\":\"a b\",\"v\":\"c\\nd\"}\n");
    free(text);
}

static void test_json_line(void **state)
{
    FILE *f = *state;
    hnp_log_setup(HNP_LOG_DEBUG, HNP_LOG_JSON, f);
    hnp_log(HNP_LOG_WARN, "policy rejected", "policy", "ns/name", "feature", "sctp", "odd",
            "q\"uo\\te\n\x02", "msg", "shadow", "time", "t", "level", "l", "none", NULL, NULL);
    char *text = captured(f);
    size_t len = strlen(text);
    assert_true(len > 0 && text[len - 1] == '\n');
    assert_null(memchr(text, '\n', len - 1)); /* exactly one line */

    json_t *obj = hnp_test_json(text);
    assert_true(json_is_object(obj));
    const char *expected_keys[] = {"time", "level",      "msg",         "policy",       "feature",
                                   "odd",  "fields.msg", "fields.time", "fields.level", "none"};
    size_t i = 0;
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value)
    {
        assert_true(i < sizeof(expected_keys) / sizeof(expected_keys[0]));
        assert_string_equal(key, expected_keys[i]);
        assert_true(json_is_string(value));
        i++;
    }
    assert_int_equal(i, sizeof(expected_keys) / sizeof(expected_keys[0]));
    assert_string_equal(json_string_value(json_object_get(obj, "time")), FIXED_TEXT);
    assert_string_equal(json_string_value(json_object_get(obj, "level")), "warn");
    assert_string_equal(json_string_value(json_object_get(obj, "msg")), "policy rejected");
    assert_string_equal(json_string_value(json_object_get(obj, "policy")), "ns/name");
    assert_string_equal(json_string_value(json_object_get(obj, "odd")), "q\"uo\\te\n\x02");
    assert_string_equal(json_string_value(json_object_get(obj, "fields.msg")), "shadow");
    assert_string_equal(json_string_value(json_object_get(obj, "none")), "");
    json_decref(obj);
    free(text);
}

static void test_json_levels_and_utf8(void **state)
{
    FILE *f = *state;
    hnp_log_setup(HNP_LOG_DEBUG, HNP_LOG_JSON, f);
    hnp_log(HNP_LOG_DEBUG, "d", NULL);
    hnp_log(HNP_LOG_ERROR, "caf\xc3\xa9", "bad", "x\xff\xfey", NULL);
    char *text = captured(f);
    char *second = strchr(text, '\n');
    assert_non_null(second);
    *second++ = '\0';
    json_t *a = hnp_test_json(text);
    json_t *b = hnp_test_json(second);
    assert_string_equal(json_string_value(json_object_get(a, "level")), "debug");
    assert_string_equal(json_string_value(json_object_get(b, "level")), "error");
    assert_string_equal(json_string_value(json_object_get(b, "msg")), "caf\xc3\xa9");
    assert_string_equal(json_string_value(json_object_get(b, "bad")), "x\xef\xbf\xbd\xef\xbf\xbdy");
    json_decref(a);
    json_decref(b);
    free(text);
}

static void test_caps(void **state)
{
    FILE *f = *state;
    hnp_log_setup(HNP_LOG_DEBUG, HNP_LOG_JSON, f);
    size_t big_len = (size_t)HNP_LOG_MAX_VALUE * 2;
    char *big = malloc(big_len + 1);
    assert_non_null(big);
    memset(big, 'a', big_len);
    big[big_len] = '\0';
    /* 40 pairs: only HNP_LOG_MAX_FIELDS are kept. */
    hnp_log(HNP_LOG_INFO, big, "big", big, "k1", "1", "k2", "2", "k3", "3", "k4", "4", "k5", "5",
            "k6", "6", "k7", "7", "k8", "8", "k9", "9", "k10", "0", "k11", "1", "k12", "2", "k13",
            "3", "k14", "4", "k15", "5", "k16", "6", "k17", "7", "k18", "8", "k19", "9", "k20", "0",
            "k21", "1", "k22", "2", "k23", "3", "k24", "4", "k25", "5", "k26", "6", "k27", "7",
            "k28", "8", "k29", "9", "k30", "0", "k31", "1", "k32", "2", "k33", "3", "k34", "4",
            "k35", "5", "k36", "6", "k37", "7", "k38", "8", "k39", "9", NULL);
    char *text = captured(f);
    json_t *obj = hnp_test_json(text);
    const char *msg = json_string_value(json_object_get(obj, "msg"));
    assert_int_equal(strlen(msg), HNP_LOG_MAX_VALUE + 3);
    assert_string_equal(msg + HNP_LOG_MAX_VALUE, "...");
    assert_int_equal(strlen(json_string_value(json_object_get(obj, "big"))), HNP_LOG_MAX_VALUE + 3);
    assert_int_equal(json_object_size(obj), 3 + HNP_LOG_MAX_FIELDS);
    assert_non_null(json_object_get(obj, "k31"));
    assert_null(json_object_get(obj, "k32"));
    json_decref(obj);
    free(text);
    free(big);
}

struct sink_record {
    int calls;
    enum hnp_log_level level;
    char msg[64];
    char line[256];
};

static void record_sink(enum hnp_log_level level, const char *msg, const char *line, void *ctx)
{
    struct sink_record *r = ctx;
    r->calls++;
    r->level = level;
    snprintf(r->msg, sizeof(r->msg), "%s", msg);
    snprintf(r->line, sizeof(r->line), "%s", line);
}

static void test_sink(void **state)
{
    FILE *f = *state;
    struct sink_record r;
    memset(&r, 0, sizeof(r));
    hnp_log_setup(HNP_LOG_ERROR, HNP_LOG_TEXT, f);
    hnp_log_set_sink(record_sink, HNP_LOG_INFO, &r);

    hnp_log(HNP_LOG_DEBUG, "below both", NULL);
    assert_int_equal(r.calls, 0);
    assert_false(hnp_log_enabled(HNP_LOG_DEBUG));
    assert_true(hnp_log_enabled(HNP_LOG_INFO));

    hnp_log(HNP_LOG_INFO, "sink\nonly", "k", "v w", NULL);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.level, HNP_LOG_INFO);
    assert_string_equal(r.msg, "sink only");
    assert_string_equal(r.line, FIXED_TEXT " INFO sink only k=\"v w\"");

    hnp_log(HNP_LOG_ERROR, "both", NULL);
    assert_int_equal(r.calls, 2);
    assert_string_equal(r.line, FIXED_TEXT " ERROR both");
    assert_captured(f, FIXED_TEXT " ERROR both\n");

    hnp_log_set_sink(NULL, HNP_LOG_DEBUG, NULL);
    hnp_log(HNP_LOG_ERROR, "after", NULL);
    assert_int_equal(r.calls, 2);
}

static void test_names(void **state)
{
    assert_int_equal(hnp_log_level_from_name("debug"), HNP_LOG_DEBUG);
    assert_int_equal(hnp_log_level_from_name("info"), HNP_LOG_INFO);
    assert_int_equal(hnp_log_level_from_name("warn"), HNP_LOG_WARN);
    assert_int_equal(hnp_log_level_from_name("error"), HNP_LOG_ERROR);
    assert_int_equal(hnp_log_level_from_name("WARN"), -1);
    assert_int_equal(hnp_log_level_from_name("warning"), -1);
    assert_int_equal(hnp_log_level_from_name(""), -1);
    assert_int_equal(hnp_log_level_from_name(NULL), -1);
    assert_string_equal(hnp_log_level_name(HNP_LOG_DEBUG), "debug");
    assert_string_equal(hnp_log_level_name(HNP_LOG_WARN), "warn");
    assert_string_equal(hnp_log_level_name((enum hnp_log_level)42), "error");
    assert_int_equal(hnp_log_format_from_name("text"), HNP_LOG_TEXT);
    assert_int_equal(hnp_log_format_from_name("json"), HNP_LOG_JSON);
    assert_int_equal(hnp_log_format_from_name("yaml"), -1);
    assert_int_equal(hnp_log_format_from_name(NULL), -1);
}

#define THREADS 4
#define LINES_PER_THREAD 500

struct worker {
    int id;
    char value[2048];
};

static void *log_worker(void *arg)
{
    struct worker *w = arg;
    char id[16];
    snprintf(id, sizeof(id), "%d", w->id);
    for (int i = 0; i < LINES_PER_THREAD; i++) {
        char seq[16];
        snprintf(seq, sizeof(seq), "%d", i);
        hnp_log(HNP_LOG_INFO, "concurrent", "thread", id, "seq", seq, "payload", w->value, NULL);
    }
    return NULL;
}

static void test_concurrent_whole_lines(void **state)
{
    FILE *f = *state;
    hnp_log_setup(HNP_LOG_DEBUG, HNP_LOG_JSON, f);
    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t].id = t;
        memset(workers[t].value, 'a' + t, sizeof(workers[t].value) - 1);
        workers[t].value[sizeof(workers[t].value) - 1] = '\0';
        assert_int_equal(pthread_create(&threads[t], NULL, log_worker, &workers[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);

    char *text = captured(f);
    int next_seq[THREADS] = {0};
    int lines = 0;
    char *save = text;
    for (char *nl; (nl = strchr(save, '\n')) != NULL; save = nl + 1) {
        *nl = '\0';
        json_t *obj = hnp_test_json(save);
        int t = atoi(json_string_value(json_object_get(obj, "thread")));
        assert_true(t >= 0 && t < THREADS);
        /* Whole, and in each thread's order. */
        assert_int_equal(atoi(json_string_value(json_object_get(obj, "seq"))), next_seq[t]);
        next_seq[t]++;
        assert_string_equal(json_string_value(json_object_get(obj, "payload")), workers[t].value);
        json_decref(obj);
        lines++;
    }
    assert_string_equal(save, ""); /* nothing after the last newline */
    assert_int_equal(lines, THREADS * LINES_PER_THREAD);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_time),
        cmocka_unit_test_setup_teardown(test_text_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_level_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_quoting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_keys_sanitised, setup, teardown),
        cmocka_unit_test_setup_teardown(test_message_newlines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_levels_and_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sink, setup, teardown),
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_concurrent_whole_lines, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
