/*
 * measure.c - hnp-measure -- CMD ARGS...: run a command and report what it
 * cost, for the benchmarks in run-bench.sh.
 *
 * Prints one line to standard error:
 *   cpu_s=<user+sys> maxrss_mb=<peak RSS> wall_s=<elapsed> exit=<code>
 * and exits with the command's exit code (128+signal when it was killed,
 * 127 when it could not be started). The figures come from wait4(), so they
 * are the child's own, not this wrapper's. POSIX only; CMake defines
 * _DEFAULT_SOURCE for wait4() in glibc.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    int first = 1;
    if (first < argc && strcmp(argv[first], "--") == 0)
        first++;
    if (first >= argc) {
        fprintf(stderr, "usage: hnp-measure -- CMD ARGS...\n");
        return 2;
    }

    double start = now_s();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "hnp-measure: fork: %s\n", strerror(errno));
        return 127;
    }
    if (pid == 0) {
        execvp(argv[first], argv + first);
        fprintf(stderr, "hnp-measure: %s: %s\n", argv[first], strerror(errno));
        _exit(127);
    }

    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "hnp-measure: wait4: %s\n", strerror(errno));
            return 127;
        }
    }
    double wall = now_s() - start;

    int code;
    if (WIFEXITED(status))
        code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        code = 128 + WTERMSIG(status);
    else
        code = 127;
    /* Linux reports ru_maxrss in KiB. */
    fprintf(stderr, "cpu_s=%.3f maxrss_mb=%.1f wall_s=%.3f exit=%d\n",
            tv_s(ru.ru_utime) + tv_s(ru.ru_stime), (double)ru.ru_maxrss / 1024.0, wall, code);
    return code;
}
