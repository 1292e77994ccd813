/*
 * log_file.h - a log file that rotates by size: the agent's `--log-file`,
 * and the Windows service's %ProgramData%\hnsnetpol\hnsnetpol.log.
 *
 * Lines are appended to PATH. Before a line would take PATH past max_bytes,
 * PATH becomes PATH.1, PATH.1 becomes PATH.2 and so on up to PATH.<keep>;
 * the oldest is deleted; a new PATH is started. A single line longer than
 * max_bytes is still written whole, into a file of its own.
 *
 * Plain C library calls (fopen, rename, remove), so the same code runs on
 * Linux and Windows. On Windows a file that another program holds open
 * without delete sharing cannot be renamed: the rotation is then skipped
 * and tried again after another max_bytes / 8 bytes, and lines keep going
 * to PATH meanwhile.
 *
 * Not locked: the logger calls its sink under its own lock, which is the
 * only way the agent writes here. Lines end in '\n' (no '\r', also on
 * Windows: the file is opened in binary mode).
 */
#ifndef HNP_LOG_FILE_H
#define HNP_LOG_FILE_H

#include <stddef.h>

#include "hnsnetpol/error.h"
#include "log.h"

#define HNP_LOG_FILE_MAX_BYTES (10u << 20) /* 10 MiB */
#define HNP_LOG_FILE_KEEP 5

struct hnp_log_file;

/*
 * Open path for appending (created when missing; its folder must exist).
 * max_bytes 0 = HNP_LOG_FILE_MAX_BYTES; keep 0 = HNP_LOG_FILE_KEEP (at most
 * 99). *out is new. HNP_ERR_IO when it cannot be opened (strerror in the
 * message), HNP_ERR_NOMEM.
 */
enum hnp_err hnp_log_file_open(const char *path, size_t max_bytes, unsigned keep,
                               struct hnp_log_file **out, struct hnp_error *err);

/*
 * Append line (borrowed, without its newline) and '\n', rotating first when
 * needed, and flush. A write error is remembered and the file reopened at
 * the next line; nothing is reported (there is nowhere to report it).
 */
void hnp_log_file_write(struct hnp_log_file *f, const char *line);

/* Bytes in the current PATH as far as this writer knows. */
size_t hnp_log_file_size(const struct hnp_log_file *f);

/* Close and free. Accepts NULL. */
void hnp_log_file_close(struct hnp_log_file *f);

/*
 * A hnp_log_sink_fn that writes every line it is given to ctx, a struct
 * hnp_log_file *: hnp_log_set_sink(hnp_log_file_sink, level, file).
 */
void hnp_log_file_sink(enum hnp_log_level level, const char *msg, const char *line, void *ctx);

#endif /* HNP_LOG_FILE_H */
