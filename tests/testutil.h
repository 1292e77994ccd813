/*
 * testutil.h - helpers shared by the unit tests (cmocka).
 */
#ifndef HNP_TESTUTIL_H
#define HNP_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

/* Parse JSON text or fail the test. New reference. */
json_t *hnp_test_json(const char *text);

/* Read a whole file (relative paths are under HNP_TEST_DATA_DIR) or fail; caller frees. */
char *hnp_test_read_file(const char *path, size_t *len);

#endif
