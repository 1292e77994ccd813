/*
 * console_event.c - console-event.exe, test-only: deliver a console control
 * event (Ctrl-C, Ctrl-Break, close, logoff, shutdown) to one process the way
 * Windows does, so the wine end-to-end test (wine-e2e-demo.sh) can stop
 * hnsnetpol.exe with each of them.
 *
 * Windows delivers a console control event by starting a thread in the
 * target process at CtrlRoutine (exported by kernelbase.dll; kernel32.dll
 * forwards it there), with the event code as the thread's parameter.
 * CtrlRoutine calls the handlers that SetConsoleCtrlHandler() registered.
 * GenerateConsoleCtrlEvent() cannot stand in for that: it needs a console
 * shared with the target and only sends Ctrl-C and Ctrl-Break, and wine has
 * no other way to raise close, logoff or shutdown. So this program does
 * what the system does: CreateRemoteThread() at the target's CtrlRoutine.
 * The target may have kernelbase.dll at another address than this process:
 * the address is the target's module base plus the export's offset in the
 * module.
 *
 *     console-event.exe TARGET EVENT [--wait MS]
 *
 * TARGET is a Windows process ID, or cmdline:TEXT for the one process whose
 * command line holds TEXT (under wine the shell knows only the Unix PID,
 * which is not the Windows one). EVENT is c, break, close, logoff or shutdown. The program then
 * waits up to MS milliseconds (default 10000) for CtrlRoutine to return,
 * then up to a second for the target to end, and says what happened. Exit
 * status: 0 when the event was delivered (whatever the target did with it),
 * 1 on failure, 2 on bad usage.
 */
#define WIN32_LEAN_AND_MEAN

#include <windows.h>

#include <psapi.h>
#include <tlhelp32.h>
#include <winternl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* Most modules a process is searched for (EnumProcessModulesEx's array). */
#define MAX_MODULES 1024

static const struct {
    const char *name;
    DWORD code;
} events[] = {
    {"c", CTRL_C_EVENT},           {"break", CTRL_BREAK_EVENT},       {"close", CTRL_CLOSE_EVENT},
    {"logoff", CTRL_LOGOFF_EVENT}, {"shutdown", CTRL_SHUTDOWN_EVENT},
};

/* Print "console-event: MESSAGE: <the system's text for code>". */
static void fail_code(const char *message, DWORD code)
{
    char text[512];
    DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, code,
                             0, text, (DWORD)sizeof(text), NULL);
    while (n > 0 && (text[n - 1] == '\r' || text[n - 1] == '\n' || text[n - 1] == '.'))
        n--;
    fprintf(stderr, "console-event: %s: %.*s (Windows error %lu)\n", message, (int)n, text,
            (unsigned long)code);
}

static int usage(void)
{
    fputs("usage: console-event.exe PID|cmdline:TEXT c|break|close|logoff|shutdown [--wait MS]\n",
          stderr);
    return 2;
}

/* Parse a decimal number in [1, max] into *out. */
static BOOL parse_number(const char *text, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    if (text[0] < '0' || text[0] > '9')
        return FALSE;
    unsigned long n = strtoul(text, &end, 10);
    if (*end != '\0' || n == 0 || n > max)
        return FALSE;
    *out = n;
    return TRUE;
}

/*
 * The command line of process (new UTF-16 string; free() it), NULL when it
 * cannot be read. Read from the target's PEB (ProcessParameters->CommandLine),
 * which works on every Windows and under wine.
 */
static wchar_t *command_line_of(HANDLE process)
{
    PROCESS_BASIC_INFORMATION info;
    PEB peb;
    RTL_USER_PROCESS_PARAMETERS params;
    if (NtQueryInformationProcess(process, ProcessBasicInformation, &info, sizeof(info), NULL) !=
            0 ||
        info.PebBaseAddress == NULL ||
        !ReadProcessMemory(process, info.PebBaseAddress, &peb, sizeof(peb), NULL) ||
        !ReadProcessMemory(process, peb.ProcessParameters, &params, sizeof(params), NULL))
        return NULL;
    size_t len = params.CommandLine.Length / sizeof(wchar_t);
    wchar_t *text = malloc((len + 1) * sizeof(wchar_t));
    if (text == NULL ||
        !ReadProcessMemory(process, params.CommandLine.Buffer, text, len * sizeof(wchar_t), NULL)) {
        free(text);
        return NULL;
    }
    text[len] = L'\0';
    return text;
}

/*
 * The PID of the one process (other than this one) whose command line holds
 * text, 0 (after a message) when none or several do. How the test names the
 * agent: under wine the shell knows only the Unix PID, which is not the
 * Windows one, and a listening socket belongs to the wineserver, not to the
 * process (so GetExtendedTcpTable cannot find the owner of the metrics port);
 * the agent's command line holds its metrics address, which is unique.
 */
static DWORD pid_by_command_line(const char *text)
{
    wchar_t wtext[1024];
    if (MultiByteToWideChar(CP_UTF8, 0, text, -1, wtext, 1024) == 0) {
        fail_code("bad text to look for", GetLastError());
        return 0;
    }
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
    if (snap == INVALID_HANDLE_VALUE) {
        fail_code("cannot list the processes (CreateToolhelp32Snapshot)", GetLastError());
        return 0;
    }
    DWORD found = 0, self = GetCurrentProcessId();
    int matches = 0;
    PROCESSENTRY32W entry = {.dwSize = sizeof(entry)};
    for (BOOL more = Process32FirstW(snap, &entry); more; more = Process32NextW(snap, &entry)) {
        if (entry.th32ProcessID == self || entry.th32ProcessID == 0)
            continue;
        HANDLE process =
            OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE, entry.th32ProcessID);
        if (process == NULL)
            continue;
        wchar_t *cmd = command_line_of(process);
        CloseHandle(process);
        if (cmd != NULL && wcsstr(cmd, wtext) != NULL) {
            matches++;
            found = entry.th32ProcessID;
            fprintf(stderr, "console-event: process %lu (%ls): %ls\n", (unsigned long)found,
                    entry.szExeFile, cmd);
        }
        free(cmd);
    }
    CloseHandle(snap);
    if (matches == 1)
        return found;
    fprintf(stderr, "console-event: %s process has \"%s\" in its command line\n",
            matches == 0 ? "no" : "more than one", text);
    return 0;
}

/*
 * The module of this process that holds CtrlRoutine, and CtrlRoutine's
 * offset in it. GetProcAddress follows kernel32's forwarder to kernelbase.
 */
static BOOL find_ctrl_routine(wchar_t *module, DWORD module_len, uintptr_t *offset)
{
    HMODULE kernel32 = GetModuleHandleW(L"kernel32.dll");
    FARPROC routine = kernel32 ? GetProcAddress(kernel32, "CtrlRoutine") : NULL;
    if (routine == NULL) {
        HMODULE kernelbase = GetModuleHandleW(L"kernelbase.dll");
        routine = kernelbase ? GetProcAddress(kernelbase, "CtrlRoutine") : NULL;
    }
    if (routine == NULL) {
        fail_code("neither kernel32.dll nor kernelbase.dll exports CtrlRoutine", GetLastError());
        return FALSE;
    }
    HMODULE owner = NULL;
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                                GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            (LPCWSTR)(void *)routine, &owner) ||
        GetModuleBaseNameW(GetCurrentProcess(), owner, module, module_len) == 0) {
        fail_code("cannot find the module that holds CtrlRoutine", GetLastError());
        return FALSE;
    }
    *offset = (uintptr_t)(void *)routine - (uintptr_t)(void *)owner;
    return TRUE;
}

/* The base address of the module named module in process, NULL when it has none (after a message).
 */
static uintptr_t module_base(HANDLE process, DWORD pid, const wchar_t *module)
{
    static HMODULE mods[MAX_MODULES];
    DWORD needed = 0;
    if (!EnumProcessModulesEx(process, mods, (DWORD)sizeof(mods), &needed, LIST_MODULES_ALL)) {
        fail_code("cannot list the modules of the target (EnumProcessModulesEx)", GetLastError());
        return 0;
    }
    DWORD n = needed / sizeof(mods[0]);
    if (n > MAX_MODULES)
        n = MAX_MODULES;
    for (DWORD i = 0; i < n; i++) {
        wchar_t name[MAX_PATH];
        if (GetModuleBaseNameW(process, mods[i], name, MAX_PATH) > 0 && _wcsicmp(name, module) == 0)
            return (uintptr_t)(void *)mods[i];
    }
    fprintf(stderr, "console-event: process %lu has no %ls loaded (not a console program?)\n",
            (unsigned long)pid, module);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 && !(argc == 5 && strcmp(argv[3], "--wait") == 0))
        return usage();
    unsigned long wait_ms = 10000, number = 0;
    if (argc == 5 && !parse_number(argv[4], 600000, &wait_ms))
        return usage();
    DWORD pid = 0;
    if (strncmp(argv[1], "cmdline:", 8) == 0) {
        if (argv[1][8] == '\0')
            return usage();
        pid = pid_by_command_line(argv[1] + 8);
        if (pid == 0)
            return 1;
    } else if (parse_number(argv[1], 0xFFFFFFFFul, &number)) {
        pid = (DWORD)number;
    } else {
        return usage();
    }
    DWORD code = 0;
    const char *event = NULL;
    for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
        if (strcmp(argv[2], events[i].name) == 0) {
            event = events[i].name;
            code = events[i].code;
        }
    }
    if (event == NULL)
        return usage();

    wchar_t module[MAX_PATH];
    uintptr_t offset = 0;
    if (!find_ctrl_routine(module, MAX_PATH, &offset))
        return 1;
    HANDLE process =
        OpenProcess(PROCESS_CREATE_THREAD | PROCESS_QUERY_INFORMATION | PROCESS_VM_OPERATION |
                        PROCESS_VM_READ | PROCESS_VM_WRITE | SYNCHRONIZE,
                    FALSE, pid);
    if (process == NULL) {
        fail_code("cannot open the target process", GetLastError());
        return 1;
    }
    uintptr_t base = module_base(process, pid, module);
    if (base == 0) {
        CloseHandle(process);
        return 1;
    }
    LPTHREAD_START_ROUTINE start = (LPTHREAD_START_ROUTINE)(void *)(base + offset);
    DWORD tid = 0;
    HANDLE thread = CreateRemoteThread(process, NULL, 0, start, (void *)(uintptr_t)code, 0, &tid);
    if (thread == NULL) {
        fail_code("cannot start CtrlRoutine in the target (CreateRemoteThread)", GetLastError());
        CloseHandle(process);
        return 1;
    }
    printf("console-event: %s (%lu) sent to process %lu: thread %lu at %ls!CtrlRoutine (%p)\n",
           event, (unsigned long)code, (unsigned long)pid, (unsigned long)tid, module,
           (void *)start);
    fflush(stdout);

    /*
     * The thread ends when CtrlRoutine returns, or when the process ends
     * first: then its exit code is the process's. Then the process gets a
     * second to end, since after close, logoff and shutdown Windows ends it.
     */
    DWORD code_of = 0;
    if (WaitForSingleObject(thread, (DWORD)wait_ms) == WAIT_TIMEOUT)
        printf("console-event: CtrlRoutine still runs after %lu ms\n", wait_ms);
    else if (GetExitCodeThread(thread, &code_of))
        printf("console-event: the thread ended with %lu (what CtrlRoutine returned: 1 when a "
               "handler took the event; unless the process ended first)\n",
               (unsigned long)code_of);
    if (WaitForSingleObject(process, 1000) == WAIT_OBJECT_0 &&
        GetExitCodeProcess(process, &code_of))
        printf("console-event: the process ended, exit code %lu (0x%lx)\n", (unsigned long)code_of,
               (unsigned long)code_of);
    else
        printf("console-event: the process still runs\n");
    CloseHandle(thread);
    CloseHandle(process);
    return 0;
}
