/*
 * test_platform.c - the platform layer (include/hnsnetpol/platform.h), the
 * same tests on POSIX and on Windows (under wine): the clocks and sleeping,
 * the host name, temporary folders, atomic replacement over an existing
 * file (also while a reader holds it open), reading, the exclusive lock between two
 * handles in two threads (ordering and no lost update), and the stop
 * handler through SIGTERM raised in the process, and the condition variable
 * of wait.h (deadlines on the monotonic clock).
 *
 * Not covered here: console control events (Ctrl-C, Ctrl-Break, close) on
 * Windows, which need <windows.h> to send, and a real SIGINT from a
 * terminal. The lock between two processes is test_hns_mock_concurrency.c
 * (POSIX).
 */
#include "testutil.h"

#include <dirent.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include "platform.h"
#include "wait.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

/* A new temporary folder for one test; fail the test otherwise. */
static char *temp_dir(void)
{
    char *dir = NULL;
    struct hnp_error err = {0};
    if (hnp_make_temp_dir("hnp-test-platform", &dir, &err) != HNP_OK)
        fail_msg("temporary folder: %s", err.message);
    return dir;
}

/* "dir/name" into out. */
static void join(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);
    assert_true(n > 0 && (size_t)n < len);
}

/* The names in dir except "." and "..", how many into *count; at most 8 kept, joined by ' '. */
static void list_dir(const char *dir, size_t *count, char *names, size_t len)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    *count = 0;
    names[0] = '\0';
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (*count < 8) {
            size_t used = strlen(names);
            snprintf(names + used, len - used, "%s%s", used ? " " : "", e->d_name);
        }
        (*count)++;
    }
    closedir(d);
}

/* Remove every file in dir, then dir, then free it. */
static void remove_dir(char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char file[1024];
        join(file, sizeof(file), dir, e->d_name);
        assert_int_equal(remove(file), 0);
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

/* The whole file at path (binary) as a new string; *len its length. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    char *buf = malloc(65536);
    assert_non_null(buf);
    size_t n = fread(buf, 1, 65535, f);
    assert_int_equal(ferror(f), 0);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------------------ */
/* Time                                                                     */

static void test_monotonic_clock(void **state)
{
    long long prev = hnp_monotonic_ms();
    for (int i = 0; i < 100000; i++) {
        long long now = hnp_monotonic_ms();
        if (now < prev)
            fail_msg("the monotonic clock went back from %lld to %lld", prev, now);
        prev = now;
    }
    /* it advances, and a sleep lasts at least what was asked by that clock */
    static const long naps[] = {1, 7, 20, 55};
    for (size_t i = 0; i < sizeof(naps) / sizeof(naps[0]); i++) {
        long long t0 = hnp_monotonic_ms();
        hnp_sleep_ms(naps[i]);
        long long slept = hnp_monotonic_ms() - t0;
        if (slept < naps[i] || slept > naps[i] + 5000)
            fail_msg("hnp_sleep_ms(%ld) took %lld ms", naps[i], slept);
    }
    /* nothing to do for nothing */
    long long t0 = hnp_monotonic_ms();
    hnp_sleep_ms(0);
    hnp_sleep_ms(-5);
    assert_true(hnp_monotonic_ms() - t0 < 1000);
}

static void test_realtime_clock(void **state)
{
    long long ms = hnp_realtime_ms();
    long long c = (long long)time(NULL) * 1000;
    /* the C library's clock agrees to within a couple of seconds */
    if (ms < c - 2000 || ms > c + 2000)
        fail_msg("wall clock %lld ms, time() says %lld ms", ms, c);
    assert_true(ms > 1577836800000LL); /* after 2020-01-01 */
}

/* ------------------------------------------------------------------------ */
/* Host                                                                     */

static void test_hostname(void **state)
{
    char name[256];
    struct hnp_error err = {0};
    assert_int_equal(hnp_hostname(name, sizeof(name), &err), HNP_OK);
    assert_true(name[0] != '\0');
    assert_true(strlen(name) < sizeof(name));
    for (const char *p = name; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            fail_msg("host name \"%s\" is not in lower case", name);
    print_message("host name: %s\n", name);

    /* too small (no room for even one character): an error, the buffer untouched */
    char tiny[1] = {'x'};
    assert_int_equal(hnp_hostname(tiny, sizeof(tiny), &err), HNP_ERR_LIMIT);
    assert_int_equal(tiny[0], 'x');
    assert_non_null(strstr(err.message, "does not fit"));
    /* exactly big enough */
    char exact[256];
    assert_int_equal(hnp_hostname(exact, strlen(name) + 1, NULL), HNP_OK);
    assert_string_equal(exact, name);
}

static void test_path_list_separator(void **state)
{
    char sep = hnp_path_list_separator();
    assert_int_equal(sep, HNP_PATH_LIST_SEPARATOR);
    assert_true(sep == ':' || sep == ';');
}

/* ------------------------------------------------------------------------ */
/* Temporary folders                                                        */

static void test_temp_dir(void **state)
{
    char *a = temp_dir(), *b = temp_dir();
    assert_string_not_equal(a, b);
    assert_non_null(strstr(a, "hnp-test-platform-"));
    /* each exists, empty, and files can be made in it */
    size_t count = 9;
    char names[512];
    list_dir(a, &count, names, sizeof(names));
    assert_int_equal(count, 0);
    char file[1024];
    join(file, sizeof(file), a, "f.txt");
    write_text(file, "x");
    list_dir(a, &count, names, sizeof(names));
    assert_int_equal(count, 1);
    remove_dir(a);
    remove_dir(b);

    /* a prefix is a plain name */
    static const char *const bad[] = {"", "a/b", "../x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *out = (char *)"untouched";
        struct hnp_error err = {0};
        assert_int_equal(hnp_make_temp_dir(bad[i], &out, &err), HNP_ERR_INVALID);
        assert_string_equal(out, "untouched");
        assert_true(err.message[0] != '\0');
    }
    char *out = NULL;
    assert_int_equal(hnp_make_temp_dir(NULL, &out, NULL), HNP_ERR_INVALID);
    assert_null(out);
}

/* ------------------------------------------------------------------------ */
/* Atomic replacement                                                       */

static void test_replace_over_existing(void **state)
{
    char *dir = temp_dir();
    char path[1024];
    join(path, sizeof(path), dir, "state.json");

    /* a new file */
    struct hnp_error err = {0};
    assert_int_equal(hnp_file_replace(path, "first\n", 6, &err), HNP_OK);
    size_t len;
    char *text = read_all(path, &len);
    assert_string_equal(text, "first\n");
    free(text);

    /* over an existing, longer file: exactly the new bytes, binary as given */
    write_text(path, "an old file that is longer than the new one\n");
    static const char bytes[] = "new\r\n\0\x1a tail";
    assert_int_equal(hnp_file_replace(path, bytes, sizeof(bytes) - 1, &err), HNP_OK);
    text = read_all(path, &len);
    assert_int_equal(len, sizeof(bytes) - 1);
    assert_memory_equal(text, bytes, sizeof(bytes) - 1);
    free(text);

    /* again and again, and nothing empty: the file is there at every step */
    for (int i = 0; i < 50; i++) {
        char line[32];
        int n = snprintf(line, sizeof(line), "round %d\n", i);
        assert_int_equal(hnp_file_replace(path, line, (size_t)n, &err), HNP_OK);
    }
    text = read_all(path, &len);
    assert_string_equal(text, "round 49\n");
    free(text);
    /* an empty file is a file too */
    assert_int_equal(hnp_file_replace(path, "", 0, &err), HNP_OK);
    text = read_all(path, &len);
    assert_int_equal(len, 0);
    free(text);

    /* no temporary file left behind */
    size_t count;
    char names[512];
    list_dir(dir, &count, names, sizeof(names));
    if (count != 1)
        fail_msg("expected only state.json, found: %s", names);
    remove_dir(dir);
}

static void test_replace_failure(void **state)
{
    char *dir = temp_dir();
    char path[1024];
    join(path, sizeof(path), dir, "no-such-folder/state.json");
    struct hnp_error err = {0};
    assert_int_equal(hnp_file_replace(path, "x", 1, &err), HNP_ERR_IO);
    assert_non_null(strstr(err.message, "state.json"));
    assert_non_null(strstr(err.message, "temporary file"));

    /*
     * A folder where the file should be: the temporary file is written but
     * cannot take the folder's place; it is removed again.
     */
    char sub[1024];
    join(sub, sizeof(sub), dir, "taken");
    char *inner = NULL;
    assert_int_equal(hnp_make_temp_dir("inner", &inner, NULL), HNP_OK);
    assert_int_equal(rename(inner, sub), 0);
    free(inner);
    assert_int_equal(hnp_file_replace(sub, "x", 1, &err), HNP_ERR_IO);
    assert_non_null(strstr(err.message, "(rename)"));
    size_t count;
    char names[512];
    list_dir(dir, &count, names, sizeof(names));
    if (count != 1)
        fail_msg("expected only \"taken\", found: %s", names);
    assert_int_equal(rmdir(sub), 0);
    remove_dir(dir);
}

static void test_open_read(void **state)
{
    char *dir = temp_dir();
    char path[1024];
    join(path, sizeof(path), dir, "data.bin");
    FILE *f = (FILE *)&f;
    struct hnp_error err = {0};
    assert_int_equal(hnp_file_open_read(path, &f, &err), HNP_ERR_NOT_FOUND);
    assert_ptr_equal(f, (FILE *)&f); /* untouched */
    assert_non_null(strstr(err.message, "data.bin"));

    static const char bytes[] = "a\r\nb\x1a\0c";
    assert_int_equal(hnp_file_replace(path, bytes, sizeof(bytes) - 1, NULL), HNP_OK);
    assert_int_equal(hnp_file_open_read(path, &f, &err), HNP_OK);
    char buf[32];
    /* binary: "\r\n" and Ctrl-Z come back as they are */
    assert_int_equal(fread(buf, 1, sizeof(buf), f), sizeof(bytes) - 1);
    assert_memory_equal(buf, bytes, sizeof(bytes) - 1);
    fclose(f);
    remove_dir(dir);
}

struct reader {
    FILE *f;
    long delay_ms;
    char rest[64];
};

/* After a while, read the rest of the file and close it. */
static void *read_later(void *arg)
{
    struct reader *r = arg;
    hnp_sleep_ms(r->delay_ms);
    size_t n = fread(r->rest, 1, sizeof(r->rest) - 1, r->f);
    r->rest[n] = '\0';
    fclose(r->f);
    return NULL;
}

/*
 * A reader has the file open while it is replaced, first one that opened it
 * with fopen(), then one that used hnp_file_open_read(). The replacement
 * succeeds (POSIX at once; Windows as soon as it may) and the reader reads
 * the whole old file.
 */
static void test_replace_while_read(void **state)
{
    char *dir = temp_dir();
    char path[1024];
    join(path, sizeof(path), dir, "state.json");
    for (int round = 0; round < 2; round++) {
        write_text(path, "old contents\n");
        struct reader r = {.delay_ms = 150};
        if (round == 0)
            r.f = fopen(path, "rb");
        else
            assert_int_equal(hnp_file_open_read(path, &r.f, NULL), HNP_OK);
        assert_non_null(r.f);
        char first[4] = "";
        assert_int_equal(fread(first, 1, 3, r.f), 3);
        assert_string_equal(first, "old");
        pthread_t thread;
        assert_int_equal(pthread_create(&thread, NULL, read_later, &r), 0);
        long long t0 = hnp_monotonic_ms();
        struct hnp_error err = {0};
        enum hnp_err rc = hnp_file_replace(path, "new contents\n", 13, &err);
        long long took = hnp_monotonic_ms() - t0;
        assert_int_equal(pthread_join(thread, NULL), 0);
        if (rc != HNP_OK)
            fail_msg("replace while read (%s): %s", round ? "hnp_file_open_read" : "fopen",
                     err.message);
        print_message("replaced under a %s reader in %lld ms\n",
                      round ? "hnp_file_open_read" : "fopen", took);
        assert_string_equal(r.rest, " contents\n");
        size_t len;
        char *text = read_all(path, &len);
        assert_string_equal(text, "new contents\n");
        free(text);
    }
    remove_dir(dir);
}

/* ------------------------------------------------------------------------ */
/* The exclusive lock                                                       */

struct holder {
    const char *path;
    long hold_ms;
    volatile int held;     /* set once the lock is taken */
    volatile int released; /* set just before it is released */
    enum hnp_err rc;
};

static void *hold_lock(void *arg)
{
    struct holder *h = arg;
    struct hnp_file_lock *lock = NULL;
    h->rc = hnp_file_lock(h->path, &lock, NULL);
    if (h->rc != HNP_OK)
        return NULL;
    __atomic_store_n(&h->held, 1, __ATOMIC_SEQ_CST);
    hnp_sleep_ms(h->hold_ms);
    __atomic_store_n(&h->released, 1, __ATOMIC_SEQ_CST);
    hnp_file_unlock(lock);
    return NULL;
}

/* A second handle waits until the first one lets go. */
static void test_lock_excludes(void **state)
{
    char *dir = temp_dir();
    char path[1024];
    join(path, sizeof(path), dir, "state.json.lock");

    struct holder h = {.path = path, .hold_ms = 300};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, hold_lock, &h), 0);
    long long until = hnp_monotonic_ms() + 30000;
    while (!__atomic_load_n(&h.held, __ATOMIC_SEQ_CST) && h.rc == HNP_OK &&
           hnp_monotonic_ms() < until)
        hnp_sleep_ms(1);
    assert_int_equal(h.rc, HNP_OK);
    assert_true(__atomic_load_n(&h.held, __ATOMIC_SEQ_CST));

    long long t0 = hnp_monotonic_ms();
    struct hnp_file_lock *lock = NULL;
    struct hnp_error err = {0};
    assert_int_equal(hnp_file_lock(path, &lock, &err), HNP_OK);
    /* only once the holder had let go */
    assert_true(__atomic_load_n(&h.released, __ATOMIC_SEQ_CST));
    print_message("the second handle waited %lld ms\n", hnp_monotonic_ms() - t0);
    hnp_file_unlock(lock);
    assert_int_equal(pthread_join(thread, NULL), 0);

    /* free again: taken and released at once, twice in a row */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(hnp_file_lock(path, &lock, &err), HNP_OK);
        hnp_file_unlock(lock);
    }
    hnp_file_unlock(NULL);
    remove_dir(dir);
}

#define COUNTER_THREADS 4
#define COUNTER_ROUNDS 100

struct counter {
    const char *lock_path;
    const char *path;
    int failures;
};

/* Read-modify-write the number in the counter file under the lock, many times. */
static void *count_up(void *arg)
{
    struct counter *c = arg;
    for (int i = 0; i < COUNTER_ROUNDS; i++) {
        struct hnp_file_lock *lock = NULL;
        if (hnp_file_lock(c->lock_path, &lock, NULL) != HNP_OK) {
            __atomic_add_fetch(&c->failures, 1, __ATOMIC_SEQ_CST);
            continue;
        }
        long n = -1000000;
        FILE *f = fopen(c->path, "rb");
        if (f != NULL) {
            if (fscanf(f, "%ld", &n) != 1)
                n = -1000000;
            fclose(f);
        }
        char text[32];
        int len = snprintf(text, sizeof(text), "%ld\n", n + 1);
        if (hnp_file_replace(c->path, text, (size_t)len, NULL) != HNP_OK)
            __atomic_add_fetch(&c->failures, 1, __ATOMIC_SEQ_CST);
        hnp_file_unlock(lock);
    }
    return NULL;
}

/* Four threads, each with its own handle, lose no update. */
static void test_lock_no_lost_update(void **state)
{
    char *dir = temp_dir();
    char path[1024], lock_path[1100];
    join(path, sizeof(path), dir, "counter");
    snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
    write_text(path, "0\n");

    struct counter c = {.lock_path = lock_path, .path = path};
    pthread_t threads[COUNTER_THREADS];
    for (int i = 0; i < COUNTER_THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, count_up, &c), 0);
    for (int i = 0; i < COUNTER_THREADS; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(c.failures, 0);
    size_t len;
    char *text = read_all(path, &len);
    assert_int_equal(atol(text), COUNTER_THREADS * COUNTER_ROUNDS);
    free(text);
    remove_dir(dir);
}

static void test_lock_failure(void **state)
{
    char *dir = temp_dir();
    char path[1024];
    join(path, sizeof(path), dir, "missing-folder/x.lock");
    struct hnp_file_lock *lock = (struct hnp_file_lock *)&lock;
    struct hnp_error err = {0};
    assert_int_equal(hnp_file_lock(path, &lock, &err), HNP_ERR_IO);
    assert_ptr_equal(lock, (struct hnp_file_lock *)&lock); /* untouched */
    assert_non_null(strstr(err.message, "x.lock"));
    remove_dir(dir);
}

/* ------------------------------------------------------------------------ */
/* Stop requests                                                            */

static volatile int other_handler_calls;

static void other_handler(int sig)
{
    (void)sig;
    other_handler_calls++;
}

static void test_stop_handler(void **state)
{
    volatile int flag = 0;
    struct hnp_error err = {0};
    assert_int_equal(hnp_install_stop_handler(&flag, &err), HNP_OK);
    /* one at a time */
    volatile int other = 0;
    assert_int_equal(hnp_install_stop_handler(&other, &err), HNP_ERR_INVALID);
    assert_non_null(strstr(err.message, "already"));

    assert_int_equal(flag, 0);
    assert_int_equal(raise(SIGTERM), 0);
    assert_int_equal(flag, 1);
    assert_int_equal(other, 0);
    /* the handler was one-shot: a second SIGTERM would end the process */
    assert_true(signal(SIGTERM, SIG_DFL) == SIG_DFL);
    hnp_remove_stop_handler();
    hnp_remove_stop_handler(); /* nothing installed: nothing to do */

    /* what was there before comes back */
    other_handler_calls = 0;
    assert_true(signal(SIGTERM, other_handler) != SIG_ERR);
    flag = 0;
    assert_int_equal(hnp_install_stop_handler(&flag, &err), HNP_OK);
    hnp_remove_stop_handler();
    assert_int_equal(raise(SIGTERM), 0);
    assert_int_equal(other_handler_calls, 1);
    assert_int_equal(flag, 0);
    signal(SIGTERM, SIG_DFL);
}

static void test_stdin_binary(void **state)
{
    /* Nothing to see on POSIX; on Windows stdin stays usable. */
    hnp_stdin_binary();
    assert_int_equal(ferror(stdin), 0);
}

/* ------------------------------------------------------------------------ */
/* wait.h                                                                   */

struct waker {
    pthread_mutex_t mu;
    struct hnp_cond cond;
    bool flag;
};

static void *wake_later(void *arg)
{
    struct waker *w = arg;
    hnp_sleep_ms(50);
    pthread_mutex_lock(&w->mu);
    w->flag = true;
    hnp_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void test_cond_deadline(void **state)
{
    struct waker w = {.mu = PTHREAD_MUTEX_INITIALIZER};
    assert_int_equal(hnp_cond_init(&w.cond), HNP_OK);
    /* Nobody wakes it: it returns false at the deadline, not before. */
    long long start = hnp_monotonic_ms();
    pthread_mutex_lock(&w.mu);
    while (hnp_cond_wait_until(&w.cond, &w.mu, start + 100))
        ;
    pthread_mutex_unlock(&w.mu);
    long long waited = hnp_monotonic_ms() - start;
    assert_true(waited >= 100);
    assert_true(waited < 5000);
    /* A deadline already past: at once. */
    pthread_mutex_lock(&w.mu);
    assert_false(hnp_cond_wait_until(&w.cond, &w.mu, hnp_monotonic_ms() - 1));
    pthread_mutex_unlock(&w.mu);
    /* Woken by another thread long before the deadline. */
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, wake_later, &w), 0);
    start = hnp_monotonic_ms();
    pthread_mutex_lock(&w.mu);
    while (!w.flag && hnp_cond_wait_until(&w.cond, &w.mu, start + 60000))
        ;
    bool woken = w.flag;
    pthread_mutex_unlock(&w.mu);
    pthread_join(thread, NULL);
    assert_true(woken);
    assert_true(hnp_monotonic_ms() - start < 30000);
    /* hnp_cond_wait without a deadline. */
    w.flag = false;
    assert_int_equal(pthread_create(&thread, NULL, wake_later, &w), 0);
    pthread_mutex_lock(&w.mu);
    while (!w.flag)
        hnp_cond_wait(&w.cond, &w.mu);
    pthread_mutex_unlock(&w.mu);
    pthread_join(thread, NULL);
    hnp_cond_broadcast(&w.cond); /* no waiter: nothing happens */
    hnp_cond_destroy(&w.cond);
}

int main(void)
{
#define T(name) cmocka_unit_test(name)
    const struct CMUnitTest tests[] = {
        T(test_monotonic_clock),
        T(test_realtime_clock),
        T(test_hostname),
        T(test_path_list_separator),
        T(test_temp_dir),
        T(test_replace_over_existing),
        T(test_replace_failure),
        T(test_open_read),
        T(test_replace_while_read),
        T(test_lock_excludes),
        T(test_lock_no_lost_update),
        T(test_lock_failure),
        T(test_stop_handler),
        T(test_stdin_binary),
        T(test_cond_deadline),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
