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

/*
 * Read a whole file (relative paths are under HNP_TEST_DATA_DIR) or fail;
 * caller frees. *len (may be NULL) gets its length. Opened with
 * hnp_file_open_read(), so a file another thread is replacing reads whole.
 */
char *hnp_test_read_file(const char *path, size_t *len);

/* A JSON file (as hnp_test_read_file finds it) parsed, or fail. New reference. */
json_t *hnp_test_json_file(const char *path);

/*
 * Fixture of the mock HNS tests: a new temporary folder dir holding the
 * state file path (not created). hnp_test_mock_setup and _teardown are the
 * cmocka setup and teardown; teardown closes hns (may be NULL) and removes
 * the folder with every file in it.
 */
struct hnp_test_mock {
    char *dir;
    char path[512];
    struct hnp_hns *hns;
};

int hnp_test_mock_setup(void **state);
int hnp_test_mock_teardown(void **state);

/* Write the state file as a test editing it by hand would. */
void hnp_test_mock_write(struct hnp_test_mock *fx, const char *text);

/* Open the mock backend on the state file into fx->hns (borrowed: teardown closes it). */
struct hnp_hns *hnp_test_mock_open(struct hnp_test_mock *fx);

/* The state file parsed. New reference. */
json_t *hnp_test_mock_state(struct hnp_test_mock *fx);

/*
 * The other editor of the concurrency tests: 150 rounds of add-endpoint and
 * remove-endpoint through the `hns-mock` tool on path, as fast as it can,
 * then one last endpoint "child-final" (10.2.0.1). 0 when every command
 * worked; a lost update shows as a failed remove (1).
 */
int hnp_test_mock_hammer(const char *path);

#endif
