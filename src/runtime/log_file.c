/*
 * log_file.c - the size-rotated log file (log_file.h).
 */
#include "log_file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hnp_log_file {
    char *path;
    char *scratch_a, *scratch_b; /* PATH.<n> names, built during a rotation */
    size_t max_bytes;
    unsigned keep;
    FILE *f;         /* NULL after a failure: reopened at the next line */
    size_t size;     /* bytes in PATH */
    size_t next_try; /* after a failed rotation: the size to try again at */
};

/* Open (append) f->path and learn its size; false when it cannot be opened. */
static bool reopen(struct hnp_log_file *f)
{
    f->f = fopen(f->path, "ab");
    if (f->f == NULL)
        return false;
    if (fseek(f->f, 0, SEEK_END) == 0) {
        long end = ftell(f->f);
        f->size = end > 0 ? (size_t)end : 0;
    }
    return true;
}

enum hnp_err hnp_log_file_open(const char *path, size_t max_bytes, unsigned keep,
                               struct hnp_log_file **out, struct hnp_error *err)
{
    struct hnp_log_file *f = calloc(1, sizeof(*f));
    size_t n = strlen(path);
    if (f != NULL) {
        f->path = malloc(n + 1);
        f->scratch_a = malloc(n + 4);
        f->scratch_b = malloc(n + 4);
    }
    if (f == NULL || f->path == NULL || f->scratch_a == NULL || f->scratch_b == NULL) {
        hnp_log_file_close(f);
        return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory");
    }
    memcpy(f->path, path, n + 1);
    f->max_bytes = max_bytes ? max_bytes : HNP_LOG_FILE_MAX_BYTES;
    f->keep = keep ? keep : HNP_LOG_FILE_KEEP;
    if (f->keep > 99)
        f->keep = 99;
    if (!reopen(f)) {
        int saved = errno;
        hnp_log_file_close(f);
        return hnp_error_set(err, HNP_ERR_IO, path, "cannot open the log file %s: %s", path,
                             strerror(saved));
    }
    *out = f;
    return HNP_OK;
}

/* Shift PATH.(keep-1) .. PATH.1 up by one, PATH to PATH.1; reopen a new PATH. */
static void rotate(struct hnp_log_file *f)
{
    if (f->f != NULL) {
        fclose(f->f);
        f->f = NULL;
    }
    size_t n = strlen(f->path);
    bool ok = true;
    snprintf(f->scratch_a, n + 4, "%s.%u", f->path, f->keep);
    remove(f->scratch_a); /* the oldest goes; missing is fine */
    for (unsigned i = f->keep; i > 1 && ok; i--) {
        snprintf(f->scratch_a, n + 4, "%s.%u", f->path, i - 1);
        snprintf(f->scratch_b, n + 4, "%s.%u", f->path, i);
        /* rename() does not replace a file on Windows: PATH.<i> was just moved or removed. */
        if (rename(f->scratch_a, f->scratch_b) != 0 && errno != ENOENT)
            ok = false;
    }
    if (ok) {
        snprintf(f->scratch_b, n + 4, "%s.1", f->path);
        ok = rename(f->path, f->scratch_b) == 0;
    }
    if (ok) {
        f->size = 0;
        f->next_try = 0;
    } else {
        /* Someone holds a file open (Windows): carry on in PATH, try again later. */
        f->next_try = f->size + f->max_bytes / 8;
    }
    reopen(f);
}

void hnp_log_file_write(struct hnp_log_file *f, const char *line)
{
    if (f == NULL)
        return;
    size_t len = strlen(line);
    if (f->f == NULL && !reopen(f))
        return;
    if (f->size > 0 && f->size + len + 1 > f->max_bytes && f->size >= f->next_try) {
        rotate(f);
        if (f->f == NULL)
            return;
    }
    bool ok = fwrite(line, 1, len, f->f) == len && fputc('\n', f->f) != EOF && fflush(f->f) == 0;
    f->size += len + 1;
    if (!ok) {
        /* Disk full, file removed under us, ...: start again at the next line. */
        fclose(f->f);
        f->f = NULL;
    }
}

size_t hnp_log_file_size(const struct hnp_log_file *f)
{
    return f ? f->size : 0;
}

void hnp_log_file_close(struct hnp_log_file *f)
{
    if (f == NULL)
        return;
    if (f->f != NULL)
        fclose(f->f);
    free(f->path);
    free(f->scratch_a);
    free(f->scratch_b);
    free(f);
}

void hnp_log_file_sink(enum hnp_log_level level, const char *msg, const char *line, void *ctx)
{
    (void)level;
    (void)msg;
    hnp_log_file_write(ctx, line);
}
