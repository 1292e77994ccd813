/*
 * mock_cmd.h - `hnsnetpol hns-mock`: read and edit the mock HNS state file
 * (docs/mock-hns.md) while an agent runs against it, through the state-file
 * transactions of src/hns/mock.h.
 */
#ifndef HNP_MOCK_CMD_H
#define HNP_MOCK_CMD_H

#include <stdio.h>

/*
 * Run `hns-mock STATE COMMAND [options]`: argv[0] is "hns-mock". Results go
 * to out, diagnostics to errout. Returns the exit code: 0 done, 1 the
 * endpoint named is not there (or, for add-endpoint, already there), 2 bad
 * usage or a state file that cannot be read, parsed or written.
 */
int hnp_cli_mock_main(int argc, char **argv, FILE *out, FILE *errout);

#endif /* HNP_MOCK_CMD_H */
