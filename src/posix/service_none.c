/*
 * service_none.c - `hnsnetpol service` where there are no Windows services.
 * CMake builds it everywhere but Windows, which has win/service.c instead
 * (as with src/posix/hcn_none.c and win/hcn.c).
 */
#include "exit_code.h"
#include "run.h"

int hnp_cli_service_main(int argc, char **argv, FILE *out, FILE *errout)
{
    (void)argc;
    (void)argv;
    (void)out;
    fputs("hnsnetpol service: Windows services exist only on Windows; here, run the agent with "
          "`hnsnetpol run` (under systemd, for example)\n",
          errout);
    return HNP_EXIT_USAGE;
}
