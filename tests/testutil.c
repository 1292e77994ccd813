/*
 * testutil.c - helpers shared by the unit tests.
 */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock.h"
#include "registry.h"
#include "mock_cmd.h"
#include "hns.h"
#include "platform.h"

json_t *hnp_test_json(const char *text)
{
    json_error_t error;
    json_t *json = json_loads(text, 0, &error);
    if (json == NULL)
        fail_msg("bad test JSON at %d:%d: %s", error.line, error.column, error.text);
    return json;
}

char *hnp_test_read_file(const char *path, size_t *len)
{
    char full[4096];
    /* absolute: "/...", and on Windows "\..." or "C:..." too */
    if (path[0] == '/' || path[0] == '\\' || (path[0] != '\0' && path[1] == ':'))
        snprintf(full, sizeof(full), "%s", path);
    else
        snprintf(full, sizeof(full), "%s/%s", HNP_TEST_DATA_DIR, path);
    FILE *f = NULL;
    struct hnp_error err = {0};
    if (hnp_file_open_read(full, &f, &err) != HNP_OK)
        fail_msg("cannot open %s: %s", full, err.message);
    char *buf = NULL;
    size_t used = 0, cap = 0;
    for (;;) {
        if (cap - used < 65536) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
        size_t n = fread(buf + used, 1, cap - used, f);
        used += n;
        if (n == 0)
            break;
    }
    assert_int_equal(ferror(f), 0);
    fclose(f);
    buf[used] = '\0';
    if (len)
        *len = used;
    return buf;
}

json_t *hnp_test_json_file(const char *path)
{
    char *text = hnp_test_read_file(path, NULL);
    json_t *json = hnp_test_json(text);
    free(text);
    return json;
}

int hnp_test_mock_setup(void **state)
{
    struct hnp_test_mock *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    assert_int_equal(hnp_make_temp_dir("hnp-test-mock", &fx->dir, NULL), HNP_OK);
    snprintf(fx->path, sizeof(fx->path), "%s/state.json", fx->dir);
    *state = fx;
    return 0;
}

int hnp_test_mock_teardown(void **state)
{
    struct hnp_test_mock *fx = *state;
    hnp_hns_close(fx->hns);
    DIR *d = opendir(fx->dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char file[800];
        snprintf(file, sizeof(file), "%s/%s", fx->dir, e->d_name);
        unlink(file);
    }
    closedir(d);
    rmdir(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

void hnp_test_mock_write(struct hnp_test_mock *fx, const char *text)
{
    FILE *f = fopen(fx->path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

struct hnp_hns *hnp_test_mock_open(struct hnp_test_mock *fx)
{
    struct hnp_error err = {0};
    char spec[600];
    snprintf(spec, sizeof(spec), "mock:%s", fx->path);
    if (hnp_hns_open(spec, &fx->hns, &err) != HNP_OK)
        fail_msg("open: %s", err.message);
    return fx->hns;
}

json_t *hnp_test_mock_state(struct hnp_test_mock *fx)
{
    return hnp_test_json_file(fx->path);
}

int hnp_test_mock_hammer(const char *path)
{
    FILE *null = tmpfile(); /* the tool's output, not wanted */
    if (null == NULL)
        return 3;
    for (int i = 0; i < 150; i++) {
        char id[32], ip[32];
        snprintf(id, sizeof(id), "child-%d", i);
        snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 250, i % 250 + 1);
        char *add[] = {(char *)"hns-mock",
                       (char *)path,
                       (char *)"add-endpoint",
                       (char *)"--id",
                       id,
                       (char *)"--ip",
                       ip,
                       NULL};
        char *remove[] = {(char *)"hns-mock", (char *)path, (char *)"remove-endpoint",
                          (char *)"--id",     id,           NULL};
        if (hnp_cli_mock_main(7, add, null, null) != 0 ||
            hnp_cli_mock_main(5, remove, null, null) != 0) {
            fclose(null);
            return 1;
        }
    }
    char *last[] = {(char *)"hns-mock",    (char *)path,   (char *)"add-endpoint", (char *)"--id",
                    (char *)"child-final", (char *)"--ip", (char *)"10.2.0.1",     NULL};
    int rc = hnp_cli_mock_main(7, last, null, null);
    fclose(null);
    return rc == 0 ? 0 : 2;
}
