/*
 * test_metrics.c - the metrics registry: exact Prometheus text for
 * counters, gauges and histograms with and without labels, number
 * formatting, label escaping and truncation, declaration rules, misuse,
 * the series cap and concurrent updates.
 */
#include "testutil.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define DROPPED_TAIL(n)                                                                            \
    "# HELP hnsnetpol_metrics_dropped_series_total Series not created: over the series cap, or "   \
    "an invalid name or labels.\n"                                                                 \
    "# TYPE hnsnetpol_metrics_dropped_series_total counter\n"                                      \
    "hnsnetpol_metrics_dropped_series_total " n "\n"

static int setup(void **state)
{
    struct hnp_metrics *m = hnp_metrics_new();
    assert_non_null(m);
    *state = m;
    return 0;
}

static int teardown(void **state)
{
    hnp_metrics_free(*state);
    return 0;
}

static void assert_render(struct hnp_metrics *m, const char *expected)
{
    char *text = hnp_metrics_render(m);
    assert_non_null(text);
    assert_string_equal(text, expected);
    free(text);
}

static void test_empty(void **state)
{
    assert_render(*state, DROPPED_TAIL("0"));
}

static void test_counter_no_labels(void **state)
{
    struct hnp_metrics *m = *state;
    assert_int_equal(
        hnp_metrics_declare(m, "hnsnetpol_relists_total", HNP_METRIC_COUNTER, "Relists.", NULL, 0),
        HNP_OK);
    assert_render(m, "# HELP hnsnetpol_relists_total Relists.\n"
                     "# TYPE hnsnetpol_relists_total counter\n" DROPPED_TAIL("0"));
    hnp_metrics_add(m, "hnsnetpol_relists_total", NULL, 1);
    hnp_metrics_add(m, "hnsnetpol_relists_total", "", 2);
    assert_true(hnp_metrics_get(m, "hnsnetpol_relists_total", NULL) == 3);
    assert_render(m, "# HELP hnsnetpol_relists_total Relists.\n"
                     "# TYPE hnsnetpol_relists_total counter\n"
                     "hnsnetpol_relists_total 3\n" DROPPED_TAIL("0"));
}

static void test_gauges_with_labels_in_order(void **state)
{
    struct hnp_metrics *m = *state;
    assert_int_equal(
        hnp_metrics_declare(m, "hnsnetpol_policies", HNP_METRIC_GAUGE, "Policies.", NULL, 0),
        HNP_OK);
    assert_int_equal(hnp_metrics_declare(m, "hnsnetpol_acl_rules", HNP_METRIC_GAUGE,
                                         "Rules\\with \"odd\"\nhelp.", NULL, 0),
                     HNP_OK);
    /* Series appear in first-use order; families in declaration order. */
    hnp_metrics_set(m, "hnsnetpol_acl_rules", NULL, 12);
    hnp_metrics_set(m, "hnsnetpol_policies", "state=\"rejected\"", 1);
    hnp_metrics_set(m, "hnsnetpol_policies", "state=\"known\"", 5);
    hnp_metrics_add(m, "hnsnetpol_policies", "state=\"applied\"", 4);
    hnp_metrics_add(m, "hnsnetpol_policies", "state=\"known\"", -1);
    assert_true(hnp_metrics_get(m, "hnsnetpol_policies", "state=\"known\"") == 4);
    assert_true(hnp_metrics_get(m, "hnsnetpol_policies", "state=\"other\"") == 0);
    assert_render(m, "# HELP hnsnetpol_policies Policies.\n"
                     "# TYPE hnsnetpol_policies gauge\n"
                     "hnsnetpol_policies{state=\"rejected\"} 1\n"
                     "hnsnetpol_policies{state=\"known\"} 4\n"
                     "hnsnetpol_policies{state=\"applied\"} 4\n"
                     "# HELP hnsnetpol_acl_rules Rules\\\\with \"odd\"\\nhelp.\n"
                     "# TYPE hnsnetpol_acl_rules gauge\n"
                     "hnsnetpol_acl_rules 12\n" DROPPED_TAIL("0"));
}

static void test_histogram(void **state)
{
    struct hnp_metrics *m = *state;
    const double buckets[] = {0.5, 1, 10};
    assert_int_equal(hnp_metrics_declare(m, "hnsnetpol_hns_call_duration_seconds",
                                         HNP_METRIC_HISTOGRAM, "HNS call latency.", buckets, 3),
                     HNP_OK);
    assert_int_equal(hnp_metrics_declare(m, "hnsnetpol_sync_duration_seconds", HNP_METRIC_HISTOGRAM,
                                         "Sync.", buckets, 3),
                     HNP_OK);
    const char *modify = "operation=\"modify\"";
    hnp_metrics_observe(m, "hnsnetpol_hns_call_duration_seconds", modify, 0.25);
    hnp_metrics_observe(m, "hnsnetpol_hns_call_duration_seconds", modify, 0.5); /* le is <= */
    hnp_metrics_observe(m, "hnsnetpol_hns_call_duration_seconds", modify, 2);
    hnp_metrics_observe(m, "hnsnetpol_hns_call_duration_seconds", modify, 100);
    hnp_metrics_observe(m, "hnsnetpol_hns_call_duration_seconds", "operation=\"list\"", 0.75);
    hnp_metrics_observe(m, "hnsnetpol_sync_duration_seconds", NULL, 3);
    assert_true(hnp_metrics_get(m, "hnsnetpol_hns_call_duration_seconds", modify) == 4);
    assert_render(m,
                  "# HELP hnsnetpol_hns_call_duration_seconds HNS call latency.\n"
                  "# TYPE hnsnetpol_hns_call_duration_seconds histogram\n"
                  "hnsnetpol_hns_call_duration_seconds_bucket{operation=\"modify\",le=\"0.5\"} 2\n"
                  "hnsnetpol_hns_call_duration_seconds_bucket{operation=\"modify\",le=\"1\"} 2\n"
                  "hnsnetpol_hns_call_duration_seconds_bucket{operation=\"modify\",le=\"10\"} 3\n"
                  "hnsnetpol_hns_call_duration_seconds_bucket{operation=\"modify\",le=\"+Inf\"} 4\n"
                  "hnsnetpol_hns_call_duration_seconds_sum{operation=\"modify\"} 102.75\n"
                  "hnsnetpol_hns_call_duration_seconds_count{operation=\"modify\"} 4\n"
                  "hnsnetpol_hns_call_duration_seconds_bucket{operation=\"list\",le=\"0.5\"} 0\n"
                  "hnsnetpol_hns_call_duration_seconds_bucket{operation=\"list\",le=\"1\"} 1\n"
                  "hnsnetpol_hns_call_duration_seconds_bucket{operation=\"list\",le=\"10\"} 1\n"
                  "hnsnetpol_hns_call_duration_seconds_bucket{operation=\"list\",le=\"+Inf\"} 1\n"
                  "hnsnetpol_hns_call_duration_seconds_sum{operation=\"list\"} 0.75\n"
                  "hnsnetpol_hns_call_duration_seconds_count{operation=\"list\"} 1\n"
                  "# HELP hnsnetpol_sync_duration_seconds Sync.\n"
                  "# TYPE hnsnetpol_sync_duration_seconds histogram\n"
                  "hnsnetpol_sync_duration_seconds_bucket{le=\"0.5\"} 0\n"
                  "hnsnetpol_sync_duration_seconds_bucket{le=\"1\"} 0\n"
                  "hnsnetpol_sync_duration_seconds_bucket{le=\"10\"} 1\n"
                  "hnsnetpol_sync_duration_seconds_bucket{le=\"+Inf\"} 1\n"
                  "hnsnetpol_sync_duration_seconds_sum 3\n"
                  "hnsnetpol_sync_duration_seconds_count 1\n" DROPPED_TAIL("0"));
}

static void test_histogram_bounds(void **state)
{
    struct hnp_metrics *m = *state;
    /* A trailing +Inf is implied and not repeated; fractional bounds print short. */
    const double buckets[] = {0.005, 0.1, 2.5, INFINITY};
    assert_int_equal(hnp_metrics_declare(m, "h", HNP_METRIC_HISTOGRAM, NULL, buckets, 4), HNP_OK);
    hnp_metrics_observe(m, "h", NULL, 1e9);
    hnp_metrics_observe(m, "h", NULL, NAN);
    assert_render(m, "# TYPE h histogram\n"
                     "h_bucket{le=\"0.005\"} 0\n"
                     "h_bucket{le=\"0.1\"} 0\n"
                     "h_bucket{le=\"2.5\"} 0\n"
                     "h_bucket{le=\"+Inf\"} 2\n"
                     "h_sum NaN\n"
                     "h_count 2\n" DROPPED_TAIL("0"));
    /* No buckets at all: only +Inf. */
    assert_int_equal(hnp_metrics_declare(m, "h0", HNP_METRIC_HISTOGRAM, "x", NULL, 0), HNP_OK);
    hnp_metrics_observe(m, "h0", "a=\"b\"", -1.5);
    char *text = hnp_metrics_render(m);
    assert_non_null(strstr(text, "h0_bucket{a=\"b\",le=\"+Inf\"} 1\n"
                                 "h0_sum{a=\"b\"} -1.5\n"
                                 "h0_count{a=\"b\"} 1\n"));
    free(text);
}

static void test_values(void **state)
{
    struct hnp_metrics *m = *state;
    struct {
        double value;
        const char *text;
    } cases[] = {
        {0.1, "0.1"},
        {1.0 / 3.0, "0.3333333333333333"},
        {-5, "-5"},
        {-0.0, "0"},
        {123456789012.0, "123456789012"},
        {9007199254740991.0, "9007199254740991"},
        {9007199254740992.0, "9007199254740992"},
        {1e20, "1e+20"},
        {1.5e-7, "1.5e-07"},
        {1782000000.125, "1782000000.125"},
        {INFINITY, "+Inf"},
        {-INFINITY, "-Inf"},
        {NAN, "NaN"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hnp_metrics *one = hnp_metrics_new();
        assert_non_null(one);
        assert_int_equal(hnp_metrics_declare(one, "g", HNP_METRIC_GAUGE, "G.", NULL, 0), HNP_OK);
        hnp_metrics_set(one, "g", NULL, cases[i].value);
        char expected[512];
        snprintf(expected, sizeof(expected), "# HELP g G.\n# TYPE g gauge\ng %s\n%s", cases[i].text,
                 DROPPED_TAIL("0"));
        assert_render(one, expected);
        hnp_metrics_free(one);
    }
    (void)m;
}

static void test_label_escaping(void **state)
{
    struct hnp_metrics *m = *state;
    char labels[256];
    hnp_metrics_label(labels, sizeof(labels), "path", "C:\\dir\\\"x\"\nend");
    assert_string_equal(labels, "path=\"C:\\\\dir\\\\\\\"x\\\"\\nend\"");
    assert_true(hnp_metrics_label_append(labels, sizeof(labels), "op", "modify"));
    assert_string_equal(labels, "path=\"C:\\\\dir\\\\\\\"x\\\"\\nend\",op=\"modify\"");
    hnp_metrics_add(m, "escaped_total", labels, 1);
    assert_render(m, "# TYPE escaped_total untyped\n"
                     "escaped_total{path=\"C:\\\\dir\\\\\\\"x\\\"\\nend\",op=\"modify\"} 1\n"
                     "" DROPPED_TAIL("0"));

    hnp_metrics_label(labels, sizeof(labels), "v", NULL);
    assert_string_equal(labels, "v=\"\"");
    hnp_metrics_label(labels, sizeof(labels), "v", "caf\xc3\xa9 \xff");
    assert_string_equal(labels, "v=\"caf\xc3\xa9 \xef\xbf\xbd\"");
}

static void test_label_truncation(void **state)
{
    char buf[16];
    /* Never split an escape: k="ab then \" does not fit in 7 bytes. */
    hnp_metrics_label(buf, 7, "k", "ab\"cd");
    assert_string_equal(buf, "k=\"ab\"");
    hnp_metrics_label(buf, 6, "k", "ab\"cd");
    assert_string_equal(buf, "k=\"a\"");
    /* Nor a UTF-8 character. */
    hnp_metrics_label(buf, 7, "k", "a\xc3\xa9");
    assert_string_equal(buf, "k=\"a\"");
    hnp_metrics_label(buf, 8, "k", "a\xc3\xa9");
    assert_string_equal(buf, "k=\"a\xc3\xa9\"");
    hnp_metrics_label(buf, 5, "k", "abc");
    assert_string_equal(buf, "k=\"\"");
    memcpy(buf, "junk", 5);
    hnp_metrics_label(buf, 4, "k", "abc");
    assert_string_equal(buf, "");

    /* Append that does not fit leaves the text as it was. */
    hnp_metrics_label(buf, sizeof(buf), "a", "1");
    assert_false(hnp_metrics_label_append(buf, sizeof(buf), "bbbbb", "22222"));
    assert_string_equal(buf, "a=\"1\"");
    assert_true(hnp_metrics_label_append(buf, sizeof(buf), "b", "22"));
    assert_string_equal(buf, "a=\"1\",b=\"22\"");
    buf[0] = '\0';
    assert_true(hnp_metrics_label_append(buf, sizeof(buf), "c", "3"));
    assert_string_equal(buf, "c=\"3\"");
    (void)state;
}

static void test_declare_rules(void **state)
{
    struct hnp_metrics *m = *state;
    const double good[] = {1, 2};
    const double unordered[] = {2, 1};
    const double equal[] = {1, 1};
    const double nan[] = {1, NAN};
    assert_int_equal(hnp_metrics_declare(m, "ns:sub_total", HNP_METRIC_COUNTER, "", NULL, 0),
                     HNP_OK);
    assert_int_equal(hnp_metrics_declare(m, "_x9", HNP_METRIC_GAUGE, "", NULL, 0), HNP_OK);
    assert_int_equal(hnp_metrics_declare(m, "", HNP_METRIC_GAUGE, "", NULL, 0), HNP_ERR_INVALID);
    assert_int_equal(hnp_metrics_declare(m, "1abc", HNP_METRIC_GAUGE, "", NULL, 0),
                     HNP_ERR_INVALID);
    assert_int_equal(hnp_metrics_declare(m, "a-b", HNP_METRIC_GAUGE, "", NULL, 0), HNP_ERR_INVALID);
    assert_int_equal(hnp_metrics_declare(m, "a b", HNP_METRIC_GAUGE, "", NULL, 0), HNP_ERR_INVALID);
    assert_int_equal(hnp_metrics_declare(m, NULL, HNP_METRIC_GAUGE, "", NULL, 0), HNP_ERR_INVALID);
    assert_int_equal(hnp_metrics_declare(m, HNP_METRICS_DROPPED, HNP_METRIC_COUNTER, "", NULL, 0),
                     HNP_ERR_INVALID);
    assert_int_equal(hnp_metrics_declare(m, "h1", HNP_METRIC_HISTOGRAM, "", unordered, 2),
                     HNP_ERR_INVALID);
    assert_int_equal(hnp_metrics_declare(m, "h2", HNP_METRIC_HISTOGRAM, "", equal, 2),
                     HNP_ERR_INVALID);
    assert_int_equal(hnp_metrics_declare(m, "h3", HNP_METRIC_HISTOGRAM, "", nan, 2),
                     HNP_ERR_INVALID);
    assert_int_equal(hnp_metrics_declare(m, "h4", HNP_METRIC_HISTOGRAM, "", NULL, 2),
                     HNP_ERR_INVALID);
    assert_int_equal(hnp_metrics_declare(m, "h", HNP_METRIC_HISTOGRAM, "", good, 2), HNP_OK);
    /* Same again is fine and replaces the help; another type or buckets is not. */
    assert_int_equal(hnp_metrics_declare(m, "h", HNP_METRIC_HISTOGRAM, "New help.", good, 2),
                     HNP_OK);
    assert_int_equal(hnp_metrics_declare(m, "h", HNP_METRIC_HISTOGRAM, "", good, 1),
                     HNP_ERR_INVALID);
    assert_int_equal(hnp_metrics_declare(m, "h", HNP_METRIC_GAUGE, "", NULL, 0), HNP_ERR_INVALID);
    assert_int_equal(hnp_metrics_declare(m, "ns:sub_total", HNP_METRIC_GAUGE, "", NULL, 0),
                     HNP_ERR_INVALID);
    /* A family used undeclared can become a counter, not a histogram. */
    hnp_metrics_add(m, "late_total", NULL, 2);
    hnp_metrics_add(m, "late2", NULL, 2);
    assert_int_equal(hnp_metrics_declare(m, "late2", HNP_METRIC_HISTOGRAM, "", good, 2),
                     HNP_ERR_INVALID);
    assert_int_equal(hnp_metrics_declare(m, "late_total", HNP_METRIC_COUNTER, "Late.", NULL, 0),
                     HNP_OK);
    char *text = hnp_metrics_render(m);
    assert_non_null(strstr(text, "# HELP h New help.\n# TYPE h histogram\n"));
    assert_non_null(strstr(text, "# HELP late_total Late.\n# TYPE late_total counter\n"
                                 "late_total 2\n# TYPE late2 untyped\nlate2 2\n"));
    assert_null(strstr(text, "h1"));
    free(text);
}

static void test_invalid_series_dropped(void **state)
{
    struct hnp_metrics *m = *state;
    const double b[] = {1};
    assert_int_equal(hnp_metrics_declare(m, "c_total", HNP_METRIC_COUNTER, "C.", NULL, 0), HNP_OK);
    assert_int_equal(hnp_metrics_declare(m, "h", HNP_METRIC_HISTOGRAM, "H.", b, 1), HNP_OK);
    hnp_metrics_add(m, "c_total", "a=b", 1);              /* unquoted */
    hnp_metrics_add(m, "c_total", "a=\"b\",", 1);         /* trailing comma */
    hnp_metrics_add(m, "c_total", "a=\"b\"c=\"d\"", 1);   /* no comma */
    hnp_metrics_add(m, "c_total", "a=\"b\nc\"", 1);       /* raw newline */
    hnp_metrics_add(m, "c_total", "a=\"\\x\"", 1);        /* bad escape */
    hnp_metrics_add(m, "c_total", "9a=\"b\"", 1);         /* bad label name */
    hnp_metrics_add(m, "c_total", "a=\"unterminated", 1); /* no closing quote */
    hnp_metrics_observe(m, "h", "le=\"5\"", 1);           /* le is the histogram's */
    hnp_metrics_add(m, "bad-name", NULL, 1);              /* invalid family name */
    hnp_metrics_add(m, HNP_METRICS_DROPPED, NULL, 5);     /* reserved */
    assert_true(hnp_metrics_get(m, HNP_METRICS_DROPPED, NULL) == 10);
    /* Valid label text with escapes is taken. */
    hnp_metrics_add(m, "c_total", "a=\"x\\\\y\\\"z\\n\",b=\"\"", 1);
    assert_render(m, "# HELP c_total C.\n# TYPE c_total counter\n"
                     "c_total{a=\"x\\\\y\\\"z\\n\",b=\"\"} 1\n"
                     "# HELP h H.\n# TYPE h histogram\n" DROPPED_TAIL("10"));
}

static void test_misuse_ignored(void **state)
{
    struct hnp_metrics *m = *state;
    const double b[] = {1};
    assert_int_equal(hnp_metrics_declare(m, "c_total", HNP_METRIC_COUNTER, "C.", NULL, 0), HNP_OK);
    assert_int_equal(hnp_metrics_declare(m, "h", HNP_METRIC_HISTOGRAM, "H.", b, 1), HNP_OK);
    hnp_metrics_add(m, "c_total", NULL, 5);
    hnp_metrics_add(m, "c_total", NULL, -2); /* counters never go down */
    hnp_metrics_observe(m, "c_total", NULL, 1);
    hnp_metrics_observe(m, "undeclared", NULL, 1); /* an undeclared family is a gauge */
    hnp_metrics_add(m, "h", NULL, 1);
    hnp_metrics_set(m, "h", NULL, 1);
    assert_true(hnp_metrics_get(m, "c_total", NULL) == 5);
    assert_true(hnp_metrics_get(m, "h", NULL) == 0);
    hnp_metrics_set(m, "c_total", NULL, 7); /* set is allowed on counters */
    assert_true(hnp_metrics_get(m, "c_total", NULL) == 7);
    assert_render(m, "# HELP c_total C.\n# TYPE c_total counter\nc_total 7\n"
                     "# HELP h H.\n# TYPE h histogram\n" DROPPED_TAIL("0"));

    /* A NULL registry is accepted everywhere. */
    hnp_metrics_add(NULL, "x", NULL, 1);
    hnp_metrics_set(NULL, "x", NULL, 1);
    hnp_metrics_observe(NULL, "x", NULL, 1);
    assert_true(hnp_metrics_get(NULL, "x", NULL) == 0);
    assert_int_equal(hnp_metrics_declare(NULL, "x", HNP_METRIC_GAUGE, "", NULL, 0),
                     HNP_ERR_INVALID);
    char *empty = hnp_metrics_render(NULL);
    assert_non_null(empty);
    assert_string_equal(empty, "");
    free(empty);
    hnp_metrics_free(NULL);
}

static void test_series_cap(void **state)
{
    struct hnp_metrics *m = *state;
    assert_int_equal(hnp_metrics_declare(m, "g", HNP_METRIC_GAUGE, "G.", NULL, 0), HNP_OK);
    char labels[64];
    for (int i = 0; i < HNP_METRICS_MAX_SERIES; i++) {
        snprintf(labels, sizeof(labels), "i=\"%d\"", i);
        hnp_metrics_set(m, "g", labels, i);
    }
    assert_true(hnp_metrics_get(m, HNP_METRICS_DROPPED, NULL) == 0);
    assert_true(hnp_metrics_get(m, "g", "i=\"9999\"") == 9999);

    /* Past the cap: refused and counted, in this family and in a new one. */
    hnp_metrics_set(m, "g", "i=\"10000\"", 1);
    hnp_metrics_add(m, "other", NULL, 1);
    assert_true(hnp_metrics_get(m, "g", "i=\"10000\"") == 0);
    assert_true(hnp_metrics_get(m, HNP_METRICS_DROPPED, NULL) == 2);
    /* Existing series still change. */
    hnp_metrics_add(m, "g", "i=\"0\"", 41);
    assert_true(hnp_metrics_get(m, "g", "i=\"0\"") == 41);

    char *text = hnp_metrics_render(m);
    assert_non_null(text);
    size_t samples = 0;
    for (const char *p = text; (p = strstr(p, "\ng{")) != NULL; p++)
        samples++;
    assert_int_equal(samples, HNP_METRICS_MAX_SERIES);
    assert_null(strstr(text, "other"));
    assert_non_null(strstr(text, "\ng{i=\"0\"} 41\n"));
    assert_non_null(strstr(text, "hnsnetpol_metrics_dropped_series_total 2\n"));
    free(text);
}

static void test_family_cap(void **state)
{
    struct hnp_metrics *m = *state;
    char name[32];
    for (int i = 0; i < HNP_METRICS_MAX_FAMILIES; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        assert_int_equal(hnp_metrics_declare(m, name, HNP_METRIC_GAUGE, "", NULL, 0), HNP_OK);
    }
    assert_int_equal(hnp_metrics_declare(m, "one_more", HNP_METRIC_GAUGE, "", NULL, 0),
                     HNP_ERR_LIMIT);
    hnp_metrics_set(m, "one_more_undeclared", NULL, 1);
    assert_true(hnp_metrics_get(m, HNP_METRICS_DROPPED, NULL) == 1);
    /* Re-declaring an existing family still works at the cap. */
    assert_int_equal(hnp_metrics_declare(m, "f0", HNP_METRIC_GAUGE, "again", NULL, 0), HNP_OK);
}

#define THREADS 4
#define ITERATIONS 20000

static void *metrics_worker(void *arg)
{
    struct hnp_metrics *m = arg;
    for (int i = 0; i < ITERATIONS; i++) {
        hnp_metrics_add(m, "hits_total", "op=\"x\"", 1);
        hnp_metrics_observe(m, "lat_seconds", NULL, (i % 2) ? 0.5 : 2);
        if (i % 1000 == 0)
            free(hnp_metrics_render(m));
    }
    return NULL;
}

static void test_concurrent_updates(void **state)
{
    struct hnp_metrics *m = *state;
    const double b[] = {1};
    assert_int_equal(hnp_metrics_declare(m, "hits_total", HNP_METRIC_COUNTER, "", NULL, 0), HNP_OK);
    assert_int_equal(hnp_metrics_declare(m, "lat_seconds", HNP_METRIC_HISTOGRAM, "", b, 1), HNP_OK);
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&threads[t], NULL, metrics_worker, m), 0);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    assert_true(hnp_metrics_get(m, "hits_total", "op=\"x\"") == THREADS * ITERATIONS);
    char *text = hnp_metrics_render(m);
    char expected[256];
    snprintf(expected, sizeof(expected),
             "lat_seconds_bucket{le=\"1\"} %d\nlat_seconds_bucket{le=\"+Inf\"} %d\n"
             "lat_seconds_sum %d\nlat_seconds_count %d\n",
             THREADS * ITERATIONS / 2, THREADS * ITERATIONS,
             THREADS * ITERATIONS / 2 * 2 + THREADS * ITERATIONS / 4, THREADS * ITERATIONS);
    assert_non_null(strstr(text, expected));
    free(text);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_empty),
        T(test_counter_no_labels),
        T(test_gauges_with_labels_in_order),
        T(test_histogram),
        T(test_histogram_bounds),
        T(test_values),
        T(test_label_escaping),
        T(test_label_truncation),
        T(test_declare_rules),
        T(test_invalid_series_dropped),
        T(test_misuse_ignored),
        T(test_series_cap),
        T(test_family_cap),
        T(test_concurrent_updates),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
