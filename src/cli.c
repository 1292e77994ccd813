/*
 * cli.c - placeholder until the commands land.
 */
#include "hnsnetpol/cli.h"

int hnp_cli_main(int argc, char **argv, FILE *out, FILE *errout)
{
    (void)argc;
    (void)argv;
    (void)out;
    fprintf(errout, "hnsnetpol: not implemented yet\n");
    return 2;
}
