/*
 * platform_win.c - include/hnsnetpol/platform.h for Windows. CMake builds it
 * instead of src/platform_posix.c when the target is Windows (mingw-w64).
 *
 * Paths arrive in UTF-8 and go to the wide (UTF-16) Win32 calls, so a path
 * with non-ASCII characters works whatever the system's ANSI code page is.
 */
#define WIN32_LEAN_AND_MEAN

#include "platform.h"

#include <windows.h>

#include <fcntl.h>
#include <io.h>
#include <malloc.h> /* _heapmin */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long a file that another program holds open is waited for (replace, open). */
#define BUSY_RETRY_MS 2000
/* Write a file in pieces of at most this many bytes (WriteFile takes a DWORD). */
#define WRITE_CHUNK ((DWORD)1 << 30)
/* How long the console handler holds a close / logoff / shutdown for the clean stop. */
#define STOP_WAIT_MS 30000

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

const char *hnp_win_error_text(unsigned long code, char *buf, size_t len)
{
    char text[512];
    DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code,
                             0, text, (DWORD)sizeof(text), NULL);
    while (n > 0 &&
           (text[n - 1] == '\r' || text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '.'))
        n--;
    if (n == 0)
        snprintf(buf, len, "Windows error %lu", (unsigned long)code);
    else
        snprintf(buf, len, "%.*s (Windows error %lu)", (int)n, text, (unsigned long)code);
    return buf;
}

/* path (UTF-8) as a new UTF-16 string into *out. */
static enum hnp_err to_wide(const char *path, wchar_t **out, struct hnp_error *err)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
    if (n <= 0)
        return hnp_error_set(err, HNP_ERR_INVALID, path, "the path %s is not valid UTF-8", path);
    wchar_t *w = malloc((size_t)n * sizeof(*w));
    if (w == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory");
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, n) != n) {
        free(w);
        return hnp_error_set(err, HNP_ERR_INVALID, path, "the path %s is not valid UTF-8", path);
    }
    *out = w;
    return HNP_OK;
}

/* A new UTF-8 string of the first n UTF-16 units of w, NULL on failure. */
static char *to_utf8(const wchar_t *w, int n)
{
    int size = WideCharToMultiByte(CP_UTF8, 0, w, n, NULL, 0, NULL, NULL);
    if (size <= 0)
        return NULL;
    char *s = malloc((size_t)size + 1);
    if (s == NULL)
        return NULL;
    if (WideCharToMultiByte(CP_UTF8, 0, w, n, s, size, NULL, NULL) != size) {
        free(s);
        return NULL;
    }
    s[size] = '\0';
    return s;
}

/* Six characters of [0-9a-z] that differ between calls and between processes. */
static void unique_suffix(char out[7])
{
    static volatile LONG counter;
    LARGE_INTEGER now;
    QueryPerformanceCounter(&now);
    uint64_t x = (uint64_t)now.QuadPart ^ ((uint64_t)GetCurrentProcessId() << 32) ^
                 ((uint64_t)(ULONG)InterlockedIncrement(&counter) * 0x9E3779B97F4A7C15ull);
    /* splitmix64's finaliser: every input bit moves every output character */
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (int i = 0; i < 6; i++) {
        out[i] = digits[x % 36];
        x /= 36;
    }
    out[6] = '\0';
}

/* ------------------------------------------------------------------------ */
/* Time                                                                     */

long long hnp_monotonic_ms(void)
{
    LARGE_INTEGER count, freq;
    QueryPerformanceFrequency(&freq); /* never fails since Windows XP */
    QueryPerformanceCounter(&count);
    /* split so count * 1000 cannot overflow */
    long long f = freq.QuadPart, c = count.QuadPart;
    return (c / f) * 1000 + (c % f) * 1000 / f;
}

long long hnp_realtime_ms(void)
{
    FILETIME ft;
    GetSystemTimePreciseAsFileTime(&ft);
    ULARGE_INTEGER t;
    t.LowPart = ft.dwLowDateTime;
    t.HighPart = ft.dwHighDateTime;
    /* 100 ns units since 1601-01-01 */
    return ((long long)t.QuadPart - 116444736000000000LL) / 10000;
}

void hnp_sleep_ms(long ms)
{
    /*
     * Sleep() counts in timer ticks and can come back a little before the
     * monotonic clock says ms have passed: sleep again for the rest.
     */
    if (ms <= 0)
        return;
    long long until = hnp_monotonic_ms() + ms;
    for (long long left = ms; left > 0; left = until - hnp_monotonic_ms())
        Sleep((DWORD)left);
}

/* ------------------------------------------------------------------------ */
/* Host                                                                     */

enum hnp_err hnp_hostname(char *out, size_t len, struct hnp_error *err)
{
    char name[256];
    DWORD size = (DWORD)sizeof(name);
    if (!GetComputerNameExA(ComputerNameDnsHostname, name, &size)) {
        char why[600];
        return hnp_error_set(err, HNP_ERR_IO, NULL, "cannot read the computer name: %s",
                             hnp_win_error_text(GetLastError(), why, sizeof(why)));
    }
    size_t n = strlen(name);
    if (n == 0)
        return hnp_error_set(err, HNP_ERR_IO, NULL, "the computer name is empty");
    if (n >= len)
        return hnp_error_set(err, HNP_ERR_LIMIT, NULL,
                             "the computer name (%zu bytes) does not fit in %zu bytes", n, len);
    for (size_t i = 0; i <= n; i++) {
        int c = (unsigned char)name[i];
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    return HNP_OK;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */

struct hnp_file_lock {
    HANDLE handle;
};

enum hnp_err hnp_file_lock(const char *path, struct hnp_file_lock **out, struct hnp_error *err)
{
    wchar_t *wpath = NULL;
    enum hnp_err rc = to_wide(path, &wpath, err);
    if (rc != HNP_OK)
        return rc;
    struct hnp_file_lock *lock = malloc(sizeof(*lock));
    if (lock == NULL) {
        free(wpath);
        return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory locking %s", path);
    }
    /* No security attributes: the handle is not inherited (O_CLOEXEC). */
    lock->handle = CreateFileW(wpath, GENERIC_READ | GENERIC_WRITE,
                               FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                               OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    free(wpath);
    char why[600];
    if (lock->handle == INVALID_HANDLE_VALUE) {
        hnp_error_set(err, HNP_ERR_IO, path, "cannot open the lock file %s: %s", path,
                      hnp_win_error_text(GetLastError(), why, sizeof(why)));
        free(lock);
        return HNP_ERR_IO;
    }
    /* The whole file, waiting for as long as another handle holds it. */
    OVERLAPPED at = {0};
    if (!LockFileEx(lock->handle, LOCKFILE_EXCLUSIVE_LOCK, 0, MAXDWORD, MAXDWORD, &at)) {
        hnp_error_set(err, HNP_ERR_IO, path, "cannot lock %s: %s", path,
                      hnp_win_error_text(GetLastError(), why, sizeof(why)));
        CloseHandle(lock->handle);
        free(lock);
        return HNP_ERR_IO;
    }
    *out = lock;
    return HNP_OK;
}

void hnp_file_unlock(struct hnp_file_lock *lock)
{
    if (lock == NULL)
        return;
    /*
     * Unlocked explicitly: closing the handle releases the lock too, but only
     * "when the system gets to it", which would leave another waiter blocked
     * for a while.
     */
    OVERLAPPED at = {0};
    UnlockFileEx(lock->handle, 0, MAXDWORD, MAXDWORD, &at);
    CloseHandle(lock->handle);
    free(lock);
}

/* Write all of data to h. */
static bool write_all(HANDLE h, const char *data, size_t len)
{
    while (len > 0) {
        DWORD chunk = len > WRITE_CHUNK ? WRITE_CHUNK : (DWORD)len;
        DWORD done = 0;
        if (!WriteFile(h, data, chunk, &done, NULL) || done == 0)
            return false;
        data += done;
        len -= done;
    }
    return true;
}

/* Is code the answer of a file another program holds open (worth waiting out)? */
static bool is_busy(DWORD code)
{
    return code == ERROR_ACCESS_DENIED || code == ERROR_SHARING_VIOLATION ||
           code == ERROR_LOCK_VIOLATION;
}

enum hnp_err hnp_file_replace(const char *path, const void *data, size_t len, struct hnp_error *err)
{
    wchar_t *wpath = NULL;
    enum hnp_err rc = to_wide(path, &wpath, err);
    if (rc != HNP_OK)
        return rc;
    size_t tmp_size = strlen(path) + sizeof(".tmp.XXXXXX");
    char *tmp = malloc(tmp_size);
    wchar_t *wtmp = NULL;
    if (tmp == NULL) {
        free(wpath);
        return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory writing %s", path);
    }

    /* A new temporary file next to path (CREATE_NEW: never one that exists). */
    HANDLE h = INVALID_HANDLE_VALUE;
    DWORD code = ERROR_FILE_EXISTS;
    for (int attempt = 0; attempt < 100 && code == ERROR_FILE_EXISTS; attempt++) {
        char suffix[7];
        unique_suffix(suffix);
        snprintf(tmp, tmp_size, "%s.tmp.%s", path, suffix);
        free(wtmp);
        wtmp = NULL;
        rc = to_wide(tmp, &wtmp, err);
        if (rc != HNP_OK) {
            free(tmp);
            free(wpath);
            return rc;
        }
        h = CreateFileW(wtmp, GENERIC_WRITE, 0, NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
        code = h == INVALID_HANDLE_VALUE ? GetLastError() : ERROR_SUCCESS;
    }
    char why[600];
    if (h == INVALID_HANDLE_VALUE) {
        hnp_error_set(err, HNP_ERR_IO, path, "cannot create a temporary file next to %s: %s", path,
                      hnp_win_error_text(code, why, sizeof(why)));
        free(wtmp);
        free(tmp);
        free(wpath);
        return HNP_ERR_IO;
    }

    const char *step = "write";
    bool ok = write_all(h, data, len);
    code = ok ? ERROR_SUCCESS : GetLastError();
    if (!CloseHandle(h) && ok) {
        code = GetLastError();
        step = "close";
        ok = false;
    }
    if (ok) {
        /*
         * rename() cannot replace a file here. MoveFileExW can, atomically
         * on NTFS; it fails while a reader holds path open, which is
         * waited out.
         */
        step = "rename";
        long long give_up = hnp_monotonic_ms() + BUSY_RETRY_MS;
        DWORD pause = 1;
        while (!(ok = MoveFileExW(wtmp, wpath,
                                  MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH) != 0)) {
            code = GetLastError();
            if (!is_busy(code) || hnp_monotonic_ms() >= give_up)
                break;
            Sleep(pause);
            pause = pause < 16 ? pause * 2 : pause;
        }
    }
    if (!ok) {
        DeleteFileW(wtmp);
        hnp_error_set(err, HNP_ERR_IO, path, "cannot write %s (%s): %s", path, step,
                      hnp_win_error_text(code, why, sizeof(why)));
    }
    free(wtmp);
    free(tmp);
    free(wpath);
    return ok ? HNP_OK : HNP_ERR_IO;
}

enum hnp_err hnp_file_open_read(const char *path, FILE **out, struct hnp_error *err)
{
    wchar_t *wpath = NULL;
    enum hnp_err rc = to_wide(path, &wpath, err);
    if (rc != HNP_OK)
        return rc;
    /*
     * Every kind of sharing, delete included, as a POSIX reader has it. A
     * replacement in flight can still make the open fail for an instant (a
     * sharing violation), which is waited out.
     */
    long long give_up = hnp_monotonic_ms() + BUSY_RETRY_MS;
    DWORD pause = 1;
    HANDLE h;
    DWORD code = ERROR_SUCCESS;
    while ((h = CreateFileW(wpath, GENERIC_READ,
                            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                            OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL)) == INVALID_HANDLE_VALUE) {
        code = GetLastError();
        if (!is_busy(code) || hnp_monotonic_ms() >= give_up)
            break;
        Sleep(pause);
        pause = pause < 16 ? pause * 2 : pause;
    }
    free(wpath);
    char why[600];
    if (h == INVALID_HANDLE_VALUE) {
        bool missing = code == ERROR_FILE_NOT_FOUND || code == ERROR_PATH_NOT_FOUND;
        return hnp_error_set(err, missing ? HNP_ERR_NOT_FOUND : HNP_ERR_IO, path,
                             "cannot open %s: %s", path,
                             hnp_win_error_text(code, why, sizeof(why)));
    }
    /* The handle becomes a C stream; fclose() closes the handle. */
    int fd = _open_osfhandle((intptr_t)h, _O_RDONLY | _O_BINARY);
    if (fd < 0) {
        CloseHandle(h);
        return hnp_error_set(err, HNP_ERR_IO, path, "cannot open %s: no file descriptor left",
                             path);
    }
    FILE *f = _fdopen(fd, "rb");
    if (f == NULL) {
        _close(fd);
        return hnp_error_set(err, HNP_ERR_IO, path, "cannot open %s: no stream left", path);
    }
    *out = f;
    return HNP_OK;
}

enum hnp_err hnp_make_temp_dir(const char *prefix, char **out, struct hnp_error *err)
{
    if (prefix == NULL || prefix[0] == '\0' || strpbrk(prefix, "/\\:") != NULL)
        return hnp_error_set(err, HNP_ERR_INVALID, NULL, "bad temporary folder prefix \"%s\"",
                             prefix ? prefix : "(null)");
    wchar_t wbase[MAX_PATH + 1];
    DWORD n = GetTempPathW(MAX_PATH + 1, wbase);
    char why[600];
    if (n == 0 || n > MAX_PATH)
        return hnp_error_set(err, HNP_ERR_IO, NULL, "cannot find the temporary folder: %s",
                             hnp_win_error_text(GetLastError(), why, sizeof(why)));
    while (n > 1 && (wbase[n - 1] == L'\\' || wbase[n - 1] == L'/'))
        n--;
    char *base = to_utf8(wbase, (int)n);
    if (base == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    size_t size = strlen(base) + 1 + strlen(prefix) + sizeof("-XXXXXX");
    char *dir = malloc(size);
    if (dir == NULL) {
        free(base);
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    }
    DWORD code = ERROR_ALREADY_EXISTS;
    for (int attempt = 0; attempt < 100 && code == ERROR_ALREADY_EXISTS; attempt++) {
        char suffix[7];
        unique_suffix(suffix);
        snprintf(dir, size, "%s\\%s-%s", base, prefix, suffix);
        wchar_t *wdir = NULL;
        enum hnp_err rc = to_wide(dir, &wdir, err);
        if (rc != HNP_OK) {
            free(dir);
            free(base);
            return rc;
        }
        code = CreateDirectoryW(wdir, NULL) ? ERROR_SUCCESS : GetLastError();
        free(wdir);
    }
    free(base);
    if (code != ERROR_SUCCESS) {
        hnp_error_set(err, HNP_ERR_IO, dir, "cannot create a temporary folder %s: %s", dir,
                      hnp_win_error_text(code, why, sizeof(why)));
        free(dir);
        return HNP_ERR_IO;
    }
    *out = dir;
    return HNP_OK;
}

void hnp_stdin_binary(void)
{
    _setmode(_fileno(stdin), _O_BINARY);
}

void hnp_release_free_memory(void)
{
    _heapmin();
}

/* ------------------------------------------------------------------------ */
/* Stop requests                                                            */

typedef void (*signal_fn)(int);

/* Set before the handlers are installed, cleared after they are removed. */
static volatile int *volatile stop_flag;
/* Signalled by hnp_remove_stop_handler(): the clean stop is done (manual reset; never closed). */
static HANDLE stop_done;
static signal_fn old_term;

/* Runs on a thread the system starts for the event. */
static BOOL WINAPI on_console_event(DWORD type)
{
    volatile int *flag = stop_flag;
    if (flag == NULL)
        return FALSE;
    switch (type) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
        if (*flag)
            return FALSE; /* the second one: the default handler ends the process */
        *flag = 1;
        return TRUE;
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
        /* Windows ends the process once this returns: give the clean stop its time. */
        *flag = 1;
        WaitForSingleObject(stop_done, STOP_WAIT_MS);
        return TRUE;
    default:
        return FALSE;
    }
}

/* SIGTERM raised inside the process; the C library resets the handler before calling it. */
static void on_signal(int sig)
{
    (void)sig;
    volatile int *flag = stop_flag;
    if (flag != NULL)
        *flag = 1;
}

enum hnp_err hnp_install_stop_handler(volatile int *flag, struct hnp_error *err)
{
    if (stop_flag != NULL)
        return hnp_error_set(err, HNP_ERR_INVALID, NULL, "a stop handler is installed already");
    char why[600];
    if (stop_done == NULL) {
        stop_done = CreateEventW(NULL, TRUE, FALSE, NULL);
        if (stop_done == NULL)
            return hnp_error_set(err, HNP_ERR_IO, NULL, "cannot create an event: %s",
                                 hnp_win_error_text(GetLastError(), why, sizeof(why)));
    } else {
        ResetEvent(stop_done);
    }
    stop_flag = flag;
    /*
     * SIGINT is left alone: the C library's SIGINT handling is a console
     * handler of its own, which would swallow the second Ctrl-C.
     */
    old_term = signal(SIGTERM, on_signal);
    if (old_term == SIG_ERR) {
        stop_flag = NULL;
        return hnp_error_set(err, HNP_ERR_IO, NULL, "cannot handle SIGTERM");
    }
    if (!SetConsoleCtrlHandler(on_console_event, TRUE)) {
        DWORD code = GetLastError();
        signal(SIGTERM, old_term);
        stop_flag = NULL;
        return hnp_error_set(err, HNP_ERR_IO, NULL, "cannot install a console control handler: %s",
                             hnp_win_error_text(code, why, sizeof(why)));
    }
    return HNP_OK;
}

void hnp_remove_stop_handler(void)
{
    if (stop_flag == NULL)
        return;
    /*
     * The order matters. The thread that delivers a console event
     * (CtrlRoutine, started in the process by the system) calls the handlers
     * while it holds the console lock, on Windows as under wine, and
     * SetConsoleCtrlHandler() takes that lock too. A close, logoff or
     * shutdown handler holds it while it waits for stop_done: deregistering
     * first would block here until that wait ran out (30 s, and then Windows
     * kills the process). So the clean stop is declared done first; the
     * deregistration then waits only for the handler to return, and once it
     * has returned no handler can touch *flag any more. A new event in
     * between finds no flag and goes on to the default handler, as it would
     * after the deregistration. After a close, logoff or shutdown Windows
     * ends the process as soon as the handler returns (wine lets it go on).
     */
    stop_flag = NULL;
    SetEvent(stop_done);
    SetConsoleCtrlHandler(on_console_event, FALSE);
    signal(SIGTERM, old_term);
}
