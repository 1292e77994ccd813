/*
 * mock.h - the mock HNS backend (docs/mock-hns.md) and the locked, atomic
 * state-file transaction that both the backend and `hnsnetpol hns-mock`
 * (src/cli/mock_cmd.c) use.
 *
 * Every edit takes the exclusive lock on PATH.lock, re-reads PATH, changes
 * it and replaces it atomically (temp file in the same folder,
 * rename), so a tool, a test and a running agent can all edit one state file
 * at the same time without losing an update, and a reader never sees half a
 * file.
 */
#ifndef HNP_MOCK_H
#define HNP_MOCK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "hns.h"
#include "hnsnetpol/error.h"

/* The mock's class in the registry (registry.h): "mock:PATH". */
extern const struct hnp_hns_class hnp_hns_mock_class;

/*
 * Open the mock over the state file at state_path (created empty when
 * missing). *out is new; free with hnp_hns_close(). Also reachable through
 * its class.
 */
enum hnp_err hnp_hns_mock_open(const char *state_path, struct hnp_hns **out, struct hnp_error *err);

/*
 * Called with the state read from the file, checked and completed: an
 * object with "endpoints" (array), "calls" (object with at least list, query
 * and modify) and "faults" (object). The function may change state
 * (borrowed) and sets *write to have it written back; it may do so and still
 * return an error (a call that is counted and then refused).
 */
typedef enum hnp_err (*hnp_hns_mock_edit_fn)(json_t *state, bool *write, void *ctx,
                                             struct hnp_error *err);

/*
 * One transaction on the state file at path: lock, read (a missing or empty
 * file is an empty state), fn, write back atomically when fn asked, unlock.
 * Returns what fn returned; else HNP_ERR_HNS for a state file that is not
 * valid JSON or not of the documented shape (err->where is the path, the
 * message names the field), HNP_ERR_IO when the file or its lock cannot be
 * read or written, HNP_ERR_LIMIT for a state file over 256 MiB.
 */
enum hnp_err hnp_hns_mock_edit(const char *path, hnp_hns_mock_edit_fn fn, void *ctx,
                               struct hnp_error *err);

/*
 * Read the state without taking the lock (writes are atomic, so what is read
 * is always one complete version). *out is new, checked and completed as for
 * hnp_hns_mock_edit(); errors as there.
 */
enum hnp_err hnp_hns_mock_read(const char *path, json_t **out, struct hnp_error *err);

/*
 * The endpoint document in state's "endpoints" whose ID (key "ID" or "Id",
 * any case) equals id ignoring case; NULL when there is none. Borrowed.
 * *index (may be NULL) receives its position.
 */
json_t *hnp_hns_mock_find(const json_t *state, const char *id, size_t *index);

#endif /* HNP_MOCK_H */
