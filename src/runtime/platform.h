/*
 * platform.h - the operating-system services the portable core needs: clocks,
 * sleeping, the host name, an exclusive file lock, atomic file replacement,
 * reading a file that is being replaced, temporary folders, the stop request
 * (Ctrl-C, SIGTERM) and binary stdin.
 *
 * Two implementations, chosen by CMake as libuv chooses src/unix vs src/win:
 * src/platform_posix.c everywhere but Windows, win/platform_win.c on Windows.
 * This header and win/ are the only places that test _WIN32; it includes no
 * system header beyond the C library, and never <windows.h>.
 *
 * Paths are UTF-8 on every platform (the Windows implementation converts
 * them to UTF-16 for the wide Win32 calls). Functions that can fail return
 * enum hnp_err and fill the optional caller-owned struct hnp_error; on
 * failure their outputs are untouched.
 */
#ifndef HNP_PLATFORM_H
#define HNP_PLATFORM_H

#include <stddef.h>
#include <stdio.h>

#include "hnsnetpol/error.h"

/* The separator of a list of paths (PATH, KUBECONFIG), as a constant expression. */
#ifdef _WIN32
#define HNP_PATH_LIST_SEPARATOR ';'
#else
#define HNP_PATH_LIST_SEPARATOR ':'
#endif

/* The separator of a list of paths: ';' on Windows, ':' elsewhere. */
static inline char hnp_path_list_separator(void)
{
    return HNP_PATH_LIST_SEPARATOR;
}

#ifdef _WIN32
/*
 * The system's text for a Win32 error code into buf, "Access is denied
 * (Windows error 5)", or "Windows error N" when the system has none.
 * Returns buf.
 */
const char *hnp_win_error_text(unsigned long code, char *buf, size_t len);
#endif

/* ------------------------------------------------------------------------ */
/* Time                                                                     */

/*
 * Milliseconds of a clock that never goes backwards and is not changed by
 * setting the system time (CLOCK_MONOTONIC; QueryPerformanceCounter on
 * Windows). Its zero is arbitrary: only differences mean something.
 * Cannot fail.
 */
long long hnp_monotonic_ms(void);

/*
 * Milliseconds since the Unix epoch, UTC, of the system's wall clock
 * (CLOCK_REALTIME; GetSystemTimePreciseAsFileTime on Windows). It jumps when
 * the system time is set: for timestamps, never for measuring durations.
 */
long long hnp_realtime_ms(void);

/*
 * Block the calling thread for at least ms milliseconds as hnp_monotonic_ms()
 * counts them (nothing when ms <= 0). A POSIX signal does not cut the sleep
 * short.
 */
void hnp_sleep_ms(long ms);

/* ------------------------------------------------------------------------ */
/* Host                                                                     */

/*
 * The host name in lower case, as the kubelet registers the node by
 * default: gethostname() on POSIX, the DNS host name of the computer
 * (GetComputerNameExA(ComputerNameDnsHostname)) on Windows. out (len bytes,
 * caller-owned) receives it NUL-terminated. Returns HNP_ERR_LIMIT when it
 * does not fit in len bytes, HNP_ERR_IO when the system cannot say or the
 * name is empty.
 */
enum hnp_err hnp_hostname(char *out, size_t len, struct hnp_error *err);

/* ------------------------------------------------------------------------ */
/* Files                                                                    */

/* An exclusive lock held on a file; opaque. */
struct hnp_file_lock;

/*
 * Take an exclusive lock on the file at path (created, empty, when missing),
 * waiting as long as another holder keeps it. POSIX: flock(LOCK_EX) on a new
 * descriptor (close-on-exec); Windows: LockFileEx(LOCKFILE_EXCLUSIVE_LOCK) on
 * a new, non-inherited handle. Every call opens its own descriptor or handle,
 * so two threads of one process exclude each other as two processes do. The
 * lock is advisory: it only keeps out others that take it too. *out
 * receives the lock (new; release it with hnp_file_unlock()). Returns
 * HNP_ERR_IO when the file cannot be opened or locked, HNP_ERR_NOMEM.
 */
enum hnp_err hnp_file_lock(const char *path, struct hnp_file_lock **out, struct hnp_error *err);

/* Release and free lock (stolen); NULL is accepted. The lock file stays. */
void hnp_file_unlock(struct hnp_file_lock *lock);

/*
 * Replace the file at path with the len bytes at data, atomically: a reader
 * sees the old file or the new one, never part of one. The bytes go to a new
 * temporary file PATH.tmp.XXXXXX in the same folder, which then takes the
 * place of path: rename() on POSIX (the file gets mode 0644),
 * MoveFileExW(MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) on Windows,
 * where rename() refuses to replace a file. On Windows a file that a reader
 * holds open cannot be replaced: the replacement is retried for up to 2 s,
 * so readers must not keep it open for long.
 * No fsync: atomic, not durable across a power cut. On failure the
 * temporary file is removed, path is unchanged and HNP_ERR_IO (or
 * HNP_ERR_NOMEM) is returned; the message names the step that failed.
 */
enum hnp_err hnp_file_replace(const char *path, const void *data, size_t len,
                              struct hnp_error *err);

/*
 * Open the file at path for reading, in binary mode; *out receives the
 * stream (new; fclose() it). Use it for files that hnp_file_replace() may
 * replace meanwhile: on Windows a plain fopen() can fail (EACCES) for the
 * instant a replacement is in flight. Here the file is opened sharing read,
 * write and delete access, and a sharing conflict is retried for up to 2 s.
 * The reader keeps reading the file it opened. Returns HNP_ERR_NOT_FOUND
 * when there is no such file (err says so too), HNP_ERR_IO for any other
 * failure.
 */
enum hnp_err hnp_file_open_read(const char *path, FILE **out, struct hnp_error *err);

/*
 * Create a new, empty folder "PREFIX-XXXXXX" (XXXXXX unique) in the system's
 * temporary folder ($TMPDIR or /tmp on POSIX, GetTempPathW() on Windows),
 * readable by its owner only on POSIX. *out receives its path (new string;
 * free() it); removing the folder is the caller's business. prefix must be
 * a plain name (no separator). Returns HNP_ERR_IO, HNP_ERR_NOMEM,
 * HNP_ERR_INVALID for a bad prefix.
 */
enum hnp_err hnp_make_temp_dir(const char *prefix, char **out, struct hnp_error *err);

/*
 * Put stdin in binary mode, so bytes are read exactly as they are: on
 * Windows the C library otherwise turns "\r\n" into "\n" and stops at a
 * Ctrl-Z byte. Nothing to do on POSIX. Call before the first read.
 */
void hnp_stdin_binary(void);

/*
 * Hand memory the allocator holds but no longer uses back to the system.
 * The agent calls it once the initial LIST of every resource has been
 * turned into its compact model: the list pages were the peak, and without
 * this the C library keeps that memory (and the RSS) for the life of the
 * process. glibc: malloc_trim(0); Windows: _heapmin(); elsewhere nothing.
 */
void hnp_release_free_memory(void);

/* ------------------------------------------------------------------------ */
/* Stop requests                                                            */

/*
 * Set *flag to 1 when the user or the system asks the process to stop.
 * POSIX: SIGINT and SIGTERM (sigaction, SA_RESETHAND: a second signal ends
 * the process at once if the clean stop takes too long). Windows: the
 * console's Ctrl-C, Ctrl-Break, close, logoff and shutdown events
 * (SetConsoleCtrlHandler; a second Ctrl-C or Ctrl-Break ends the process at
 * once; for close, logoff and shutdown, after which Windows ends the process
 * as soon as the handler returns, the handler waits - up to 30 s - until
 * hnp_remove_stop_handler() says the clean stop is done), and SIGTERM raised
 * inside the process (raise(); SIGINT is left to the C library, whose own
 * console handler would swallow the second Ctrl-C). Meant for console mode: a
 * Windows service stops from its service control handler instead (a service
 * gets the logoff event whenever any user logs off).
 *
 * flag (borrowed) must stay valid until hnp_remove_stop_handler(); it is
 * only ever set to 1, from a signal handler or a system thread, and *flag is
 * not changed here. One handler at a time per process: HNP_ERR_INVALID when
 * one is installed already, HNP_ERR_IO when the system refuses.
 */
enum hnp_err hnp_install_stop_handler(volatile int *flag, struct hnp_error *err);

/*
 * Put back what hnp_install_stop_handler() replaced; once it returns, the
 * handlers no longer touch the flag. Nothing when no handler is installed.
 * Call it last, when the clean stop is done: on Windows, after a console
 * close, logoff or shutdown, it lets the waiting handler return and Windows
 * then ends the process, possibly before this call returns.
 */
void hnp_remove_stop_handler(void);

#endif /* HNP_PLATFORM_H */
