/*
 * main.c - entry point of the hnsnetpol program.
 */
#include <stdio.h>

#include "cli.h"

int main(int argc, char **argv)
{
    return hnp_cli_main(argc, argv, stdout, stderr);
}
