/*
 * testutil.c - helpers shared by the unit tests.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    if (path[0] == '/')
        snprintf(full, sizeof(full), "%s", path);
    else
        snprintf(full, sizeof(full), "%s/%s", HNP_TEST_DATA_DIR, path);
    FILE *f = fopen(full, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", full);
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
    fclose(f);
    buf[used] = '\0';
    if (len)
        *len = used;
    return buf;
}
