/*
 * jansson_floor.c - hnp-jansson-floor FILE: load a JSON file with
 * json_load_file() and free it, nothing else. Its CPU time and peak RSS are
 * the floor `hnsnetpol translate` is measured against (run-bench.sh): any
 * program that reads the whole file with jansson pays at least this much.
 */
#include <stdio.h>

#include <jansson.h>

int main(int argc, char **argv)
{
    json_error_t error;
    if (argc != 2) {
        fprintf(stderr, "usage: hnp-jansson-floor FILE\n");
        return 2;
    }
    json_t *root = json_load_file(argv[1], 0, &error);
    if (!root) {
        fprintf(stderr, "%s:%d:%d: %s\n", argv[1], error.line, error.column, error.text);
        return 1;
    }
    json_decref(root);
    return 0;
}
