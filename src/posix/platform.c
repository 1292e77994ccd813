/*
 * platform_posix.c - include/hnsnetpol/platform.h for POSIX systems (Linux,
 * the BSDs, macOS). CMake builds it everywhere but Windows, which has
 * win/platform_win.c instead.
 */
#define _DEFAULT_SOURCE /* flock, mkstemp, mkdtemp, fchmod, gethostname, sigaction with -std=c11   \
                         */

#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h> /* malloc_trim */
#endif

/* ------------------------------------------------------------------------ */
/* Time                                                                     */

static long long clock_ms(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long hnp_monotonic_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

long long hnp_realtime_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

void hnp_sleep_ms(long ms)
{
    if (ms <= 0)
        return;
    struct timespec left = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        continue;
}

/* ------------------------------------------------------------------------ */
/* Host                                                                     */

enum hnp_err hnp_hostname(char *out, size_t len, struct hnp_error *err)
{
    char name[256];
    if (gethostname(name, sizeof(name)) != 0)
        return hnp_error_set(err, HNP_ERR_IO, NULL, "cannot read the host name: %s",
                             strerror(errno));
    name[sizeof(name) - 1] = '\0';
    size_t n = strlen(name);
    if (n == 0)
        return hnp_error_set(err, HNP_ERR_IO, NULL, "the host name is empty");
    if (n >= len)
        return hnp_error_set(err, HNP_ERR_LIMIT, NULL,
                             "the host name (%zu bytes) does not fit in %zu bytes", n, len);
    for (size_t i = 0; i <= n; i++) {
        int c = (unsigned char)name[i];
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    return HNP_OK;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */

struct hnp_file_lock {
    int fd;
};

/* A new string "<a><b>", NULL when out of memory. */
static char *concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

enum hnp_err hnp_file_lock(const char *path, struct hnp_file_lock **out, struct hnp_error *err)
{
    struct hnp_file_lock *lock = malloc(sizeof(*lock));
    if (lock == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory locking %s", path);
    lock->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock->fd < 0) {
        hnp_error_set(err, HNP_ERR_IO, path, "cannot open the lock file %s: %s", path,
                      strerror(errno));
        free(lock);
        return HNP_ERR_IO;
    }
    while (flock(lock->fd, LOCK_EX) != 0) {
        if (errno == EINTR)
            continue;
        hnp_error_set(err, HNP_ERR_IO, path, "cannot lock %s: %s", path, strerror(errno));
        close(lock->fd);
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
    close(lock->fd); /* releases the lock */
    free(lock);
}

/* Write all of buf to fd. */
static bool write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

enum hnp_err hnp_file_replace(const char *path, const void *data, size_t len, struct hnp_error *err)
{
    char *tmp = concat(path, ".tmp.XXXXXX");
    if (tmp == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, path, "out of memory writing %s", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        hnp_error_set(err, HNP_ERR_IO, path, "cannot create a temporary file next to %s: %s", path,
                      strerror(errno));
        free(tmp);
        return HNP_ERR_IO;
    }
    const char *step = "write";
    bool ok = fchmod(fd, 0644) == 0 && write_all(fd, data, len);
    int saved = errno;
    if (close(fd) != 0 && ok) {
        saved = errno;
        step = "close";
        ok = false;
    }
    if (ok) {
        step = "rename";
        ok = rename(tmp, path) == 0;
        saved = errno;
    }
    if (!ok) {
        unlink(tmp);
        hnp_error_set(err, HNP_ERR_IO, path, "cannot write %s (%s): %s", path, step,
                      strerror(saved));
    }
    free(tmp);
    return ok ? HNP_OK : HNP_ERR_IO;
}

enum hnp_err hnp_file_open_read(const char *path, FILE **out, struct hnp_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int saved = errno;
        return hnp_error_set(err, saved == ENOENT ? HNP_ERR_NOT_FOUND : HNP_ERR_IO, path,
                             "cannot open %s: %s", path, strerror(saved));
    }
    *out = f;
    return HNP_OK;
}

enum hnp_err hnp_make_temp_dir(const char *prefix, char **out, struct hnp_error *err)
{
    if (prefix == NULL || prefix[0] == '\0' || strchr(prefix, '/') != NULL)
        return hnp_error_set(err, HNP_ERR_INVALID, NULL, "bad temporary folder prefix \"%s\"",
                             prefix ? prefix : "(null)");
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    size_t lb = strlen(base);
    while (lb > 1 && base[lb - 1] == '/')
        lb--;
    size_t size = lb + 1 + strlen(prefix) + sizeof("-XXXXXX");
    char *dir = malloc(size);
    if (dir == NULL)
        return hnp_error_set(err, HNP_ERR_NOMEM, NULL, "out of memory");
    snprintf(dir, size, "%.*s/%s-XXXXXX", (int)lb, base, prefix);
    if (mkdtemp(dir) == NULL) {
        hnp_error_set(err, HNP_ERR_IO, dir, "cannot create a temporary folder %s: %s", dir,
                      strerror(errno));
        free(dir);
        return HNP_ERR_IO;
    }
    *out = dir;
    return HNP_OK;
}

void hnp_stdin_binary(void) {}

void hnp_release_free_memory(void)
{
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

/* ------------------------------------------------------------------------ */
/* Stop requests                                                            */

/*
 * The handler writes *stop_flag, an int: only a volatile sig_atomic_t may be
 * written from a signal handler, and on every POSIX system built for that
 * is int.
 */
_Static_assert(_Generic((sig_atomic_t)0, int : 1, default : 0),
               "the stop flag is a volatile int: sig_atomic_t must be int");

/* Set before the handlers are installed, cleared after they are removed. */
static volatile int *stop_flag;
static struct sigaction old_int, old_term;

static void on_stop_signal(int sig)
{
    (void)sig;
    *stop_flag = 1;
}

enum hnp_err hnp_install_stop_handler(volatile int *flag, struct hnp_error *err)
{
    if (stop_flag != NULL)
        return hnp_error_set(err, HNP_ERR_INVALID, NULL, "a stop handler is installed already");
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    stop_flag = flag;
    if (sigaction(SIGINT, &sa, &old_int) != 0) {
        stop_flag = NULL;
        return hnp_error_set(err, HNP_ERR_IO, NULL, "cannot handle SIGINT: %s", strerror(errno));
    }
    if (sigaction(SIGTERM, &sa, &old_term) != 0) {
        int saved = errno;
        sigaction(SIGINT, &old_int, NULL);
        stop_flag = NULL;
        return hnp_error_set(err, HNP_ERR_IO, NULL, "cannot handle SIGTERM: %s", strerror(saved));
    }
    return HNP_OK;
}

void hnp_remove_stop_handler(void)
{
    if (stop_flag == NULL)
        return;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    stop_flag = NULL;
}
