/*
 * fuzz_load.c - libFuzzer target for the YAML / JSON loader (src/load.c).
 *
 * Not part of the CMake build. Build and run it with clang from the
 * repository root:
 *
 *   clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *       src/error.c src/load.c tests/fuzz/fuzz_load.c -ljansson -lyaml -lm \
 *       -o fuzz_load
 *   cp -r tests/data/load corpus
 *   ./fuzz_load -max_len=65536 -timeout=10 corpus
 *
 * The input is loaded from an exact-size buffer, so the sanitizers see any
 * read past its end. The first byte picks a small depth limit now and then so
 * the limit paths are exercised as well.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hnsnetpol/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum hnp_err check_object(const struct hnp_loaded_object *object, void *ctx)
{
    size_t *count = ctx;
    if (!json_is_object(object->obj) || object->line < 1)
        abort();
    /* Every object handed over must be a sound tree. */
    char *text = json_dumps(object->obj, JSON_COMPACT);
    free(text);
    return ++*count < 1000 ? HNP_OK : HNP_ERR_INVALID;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hnp_load_limits limits = {0};
    if (size > 0 && data[0] == 'D')
        limits.max_depth = 4;
    char *copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    size_t count = 0;
    struct hnp_error err;
    enum hnp_err rc = hnp_load_buffer(copy, size, "fuzz", &limits, check_object, &count, &err);
    if (rc != HNP_OK && err.message[0] == '\0' && rc != HNP_ERR_INVALID)
        abort(); /* every failure explains itself */
    free(copy);
    return 0;
}
