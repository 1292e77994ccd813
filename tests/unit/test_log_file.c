/*
 * test_log_file.c - the size-rotated log file: appending to an existing
 * file, rotation through PATH.1 .. PATH.<keep> with the oldest dropped, a
 * line bigger than the limit, and the logger's sink writing through it.
 * Runs on Linux and, as a .exe, under wine (where rename() does not replace).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "log_file.h"
#include "platform.h"

static char *dir;
static char path[1024];

static int setup(void **state)
{
    (void)state;
    if (hnp_make_temp_dir("hnp-test-log-file", &dir, NULL) != HNP_OK)
        return -1;
    snprintf(path, sizeof(path), "%s/h.log", dir);
    return 0;
}

/* Remove h.log and h.log.1 .. h.log.9. */
static void clean(void)
{
    char name[1100];
    remove(path);
    for (int i = 1; i <= 9; i++) {
        snprintf(name, sizeof(name), "%s.%d", path, i);
        remove(name);
    }
}

static int teardown(void **state)
{
    (void)state;
    clean();
    rmdir(dir);
    free(dir);
    return 0;
}

/* The text of path + suffix ("" or ".1"...), NULL when there is no such file; caller frees. */
static char *slurp(const char *suffix)
{
    char name[1100];
    snprintf(name, sizeof(name), "%s%s", path, suffix);
    FILE *f = fopen(name, "rb");
    if (f == NULL)
        return NULL;
    char *text = calloc(1, 1 << 16);
    assert_non_null(text);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void assert_file(const char *suffix, const char *expected)
{
    char *text = slurp(suffix);
    if (expected == NULL) {
        if (text != NULL)
            fail_msg("h.log%s exists: \"%s\"", suffix, text);
        return;
    }
    if (text == NULL)
        fail_msg("h.log%s is missing", suffix);
    assert_string_equal(text, expected);
    free(text);
}

static void test_append_and_rotate(void **state)
{
    (void)state;
    clean();
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("old line\n", f); /* 9 bytes already there */
    fclose(f);

    struct hnp_log_file *log = NULL;
    assert_int_equal(hnp_log_file_open(path, 20, 2, &log, NULL), HNP_OK);
    assert_int_equal(hnp_log_file_size(log), 9);
    hnp_log_file_write(log, "line 1"); /* 9 + 7 = 16 <= 20 */
    assert_file("", "old line\nline 1\n");
    hnp_log_file_write(log, "line 2"); /* 16 + 7 > 20: rotate first */
    assert_file("", "line 2\n");
    assert_file(".1", "old line\nline 1\n");
    hnp_log_file_write(log, "line 3");
    hnp_log_file_write(log, "line 4"); /* 21 > 20: rotate */
    assert_file("", "line 4\n");
    assert_file(".1", "line 2\nline 3\n");
    assert_file(".2", "old line\nline 1\n");
    hnp_log_file_write(log, "line 5");
    hnp_log_file_write(log, "line 6"); /* rotate: the oldest (.2) goes */
    assert_file("", "line 6\n");
    assert_file(".1", "line 4\nline 5\n");
    assert_file(".2", "line 2\nline 3\n");
    assert_file(".3", NULL);

    /* A line bigger than the limit gets a file of its own. */
    hnp_log_file_write(log, "a line of more than twenty bytes");
    assert_file("", "a line of more than twenty bytes\n");
    assert_file(".1", "line 6\n");
    hnp_log_file_write(log, "x");
    assert_file("", "x\n");
    assert_file(".1", "a line of more than twenty bytes\n");
    assert_file(".2", "line 6\n");
    hnp_log_file_close(log);
    hnp_log_file_close(NULL);
}

static void test_defaults_and_errors(void **state)
{
    (void)state;
    clean();
    struct hnp_log_file *log = NULL;
    assert_int_equal(hnp_log_file_open(path, 0, 0, &log, NULL), HNP_OK);
    for (int i = 0; i < 1000; i++)
        hnp_log_file_write(log, "0123456789012345678901234567890123456789");
    assert_int_equal(hnp_log_file_size(log), 41000);
    assert_file(".1", NULL); /* 10 MiB is far away */
    hnp_log_file_close(log);

    char bad[1100];
    snprintf(bad, sizeof(bad), "%s/no/such/folder/h.log", dir);
    struct hnp_error err = {0};
    log = NULL;
    assert_int_equal(hnp_log_file_open(bad, 0, 0, &log, &err), HNP_ERR_IO);
    assert_null(log);
    assert_string_equal(err.where, bad);
    assert_non_null(strstr(err.message, "cannot open the log file"));
}

static long long fixed_clock(void)
{
    return 1795852200123LL; /* 2026-11-28T07:50:00.123Z */
}

static void test_as_log_sink(void **state)
{
    (void)state;
    clean();
    struct hnp_log_file *log = NULL;
    assert_int_equal(hnp_log_file_open(path, 0, 0, &log, NULL), HNP_OK);
    FILE *out = tmpfile();
    assert_non_null(out);
    hnp_log_set_clock(fixed_clock);
    hnp_log_setup(HNP_LOG_ERROR, HNP_LOG_TEXT, out);
    hnp_log_set_sink(hnp_log_file_sink, HNP_LOG_INFO, log);
    hnp_log(HNP_LOG_DEBUG, "not written", NULL);
    hnp_log(HNP_LOG_INFO, "agent started", "node", "n1", NULL);
    hnp_log(HNP_LOG_WARN, "policy rejected", "policy", "demo/p", NULL);
    hnp_log_set_sink(NULL, HNP_LOG_DEBUG, NULL);
    hnp_log_setup(HNP_LOG_INFO, HNP_LOG_TEXT, NULL);
    hnp_log_set_clock(NULL);
    fclose(out);
    hnp_log_file_close(log);
    assert_file("", "2026-11-28T07:50:00.123Z INFO agent started node=n1\n"
                    "2026-11-28T07:50:00.123Z WARN policy rejected policy=demo/p\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_rotate),
        cmocka_unit_test(test_defaults_and_errors),
        cmocka_unit_test(test_as_log_sink),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
