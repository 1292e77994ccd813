# shellcheck shell=bash
# lib.sh - shared helpers of the Windows service tests under wine
# (tests/winsvc/*.sh).
#
# Each test gets a wine prefix of its own (a copy of the cached one) with a
# wineserver of its own kept alive (`wineserver -p`): wine's service manager
# keeps a service only while one wineserver lives across the commands. The
# first wine process of that wineserver starts wine's services.exe, and every
# service it starts inherits that process's standard error and WINEDEBUG:
# started with WINEDEBUG=+eventlog,fixme+advapi, it records what the
# services report to the Event Log (wine has no Event Log to read back:
# ReportEventW writes the event's type, ID and strings to these debug
# channels). An EXIT trap stops the wineserver (`wineserver -k`, which ends
# every process of the prefix), stops anything else the test started and
# removes the work folder unless the test failed or HNP_WINSVC_KEEP=1.
#
#   . "$(dirname "$0")/lib.sh"
#   winsvc_init "what this test shows"
#   winsvc_boot                      # wineserver -p, then the first process
#   w service install ...            # the program under wine
#   check "..." COMMAND...; wait_until "..." COMMAND...
#   winsvc_pass
#
# Environment (tests/winsvc/CMakeLists.txt sets them):
#   HNP_EXE          hnsnetpol.exe
#   HNP_WINE         the wine program (default: wine)
#   HNP_WINEPREFIX   the prefix to copy (default /var/cache/hnsnetpol/wine64)
#   HNP_WINSVC_WAIT  seconds a wait may take (default 30)
#   TMPDIR           where the work folder goes

# RC, set by run_w and wcmd, and other variables set here are read by the tests.
# shellcheck disable=SC2034
WINSVC_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WINSVC_TOP=$(cd "$WINSVC_HERE/../.." && pwd)
WINSVC_WAIT=${HNP_WINSVC_WAIT:-30}
export LC_ALL=C

_t0=$EPOCHREALTIME
CHECKS=0

step() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
ok() {
    CHECKS=$((CHECKS + 1))
    printf 'ok   %s\n' "$*"
}
fail() {
    FAIL_REASON=$*
    printf 'FAIL %s\n' "$*"
    exit 1
}

# check DESCRIPTION COMMAND...: COMMAND must succeed now.
check() {
    local desc=$1
    shift
    if "$@" >/dev/null 2>&1; then ok "$desc"; else fail "$desc"; fi
}

# wait_until DESCRIPTION COMMAND...: COMMAND must succeed within WINSVC_WAIT s (polled every 0.2 s).
wait_until() {
    local desc=$1 i
    shift
    for ((i = 0; i < WINSVC_WAIT * 5; i++)); do
        if "$@" >/dev/null 2>&1; then
            ok "$desc"
            return 0
        fi
        sleep 0.2
    done
    fail "$desc: still not true after $WINSVC_WAIT s"
}

# contains FILE TEXT: FILE holds TEXT (fixed string).
contains() { grep -aqF -- "$2" "$1"; }

# winsvc_init DESCRIPTION: work folder, private prefix, traps.
winsvc_init() {
    NAME=$(basename "$0" .sh)
    printf '### winsvc %s: %s\n' "$NAME" "$*"
    HNP_EXE=${HNP_EXE:-$WINSVC_TOP/build/mingw64/hnsnetpol.exe}
    WINE=${HNP_WINE:-wine}
    [ -f "$HNP_EXE" ] || fail "no hnsnetpol.exe at $HNP_EXE (cmake --build --preset mingw64)"
    command -v "$WINE" >/dev/null || fail "no wine ($WINE)"
    local src=${HNP_WINEPREFIX:-/var/cache/hnsnetpol/wine64} tool
    [ -f "$src/system.reg" ] || fail "no wine prefix at $src (packaging/build-mingw-deps.sh makes it)"
    for tool in jq curl; do
        command -v "$tool" >/dev/null || fail "$tool is needed"
    done
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/hnsnetpol-winsvc-$NAME.XXXXXX")
    FAIL_REASON=
    BOOTED=0
    CLEANUPS=()
    LOG_FILES=() # printed when the test fails
    trap winsvc_finish EXIT
    trap 'FAIL_REASON=${FAIL_REASON:-"interrupted"}; exit 130' INT TERM HUP
    cp -a "$src" "$WORK/prefix" || fail "cannot copy the wine prefix $src"
    rm -f "$WORK/prefix/wineserver"
    export WINEPREFIX=$WORK/prefix
    export WINEDEBUG=-all
    export WINEDLLOVERRIDES="mscoree,mshtml="
    EVENTLOG=$WORK/eventlog.txt # what the services report (wine's debug channels)
    say "program: $HNP_EXE"
    say "work folder: $WORK"
}

# winsvc_boot: start this prefix's wineserver (persistent) and its first
# process, whose standard error collects the services' Event Log reports.
winsvc_boot() {
    local t0=$EPOCHREALTIME
    wineserver -p || fail "wineserver -p failed"
    BOOTED=1
    WINEDEBUG=-all,trace+eventlog,warn+eventlog,err+eventlog,fixme+advapi \
        "$WINE" cmd /c exit 2>>"$EVENTLOG" || fail "the first wine process failed"
    ok "wineserver and wine's service manager up ($(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s)"
}

# winsvc_reboot: what a reboot of the machine is to wine: end every process
# of the prefix, then boot again (services with automatic start start).
winsvc_reboot() {
    wineserver -k
    wineserver -w
    BOOTED=0
    winsvc_boot
}

# run_w OUT ARG...: hnsnetpol.exe under wine, standard output and error
# into OUT (CRs removed); sets RC. Through a file, not a process
# substitution: bash does not wait for one, so a check right after could
# read OUT before the last of standard error was in it.
run_w() {
    local out=$1
    shift
    wcmd "$out" "$HNP_EXE" "$@"
}

# wcmd OUT PROGRAM ARG...: a wine program (net, sc, reg), output into OUT; sets RC.
wcmd() {
    local out=$1
    shift
    RC=0
    "$WINE" "$@" >"$out.raw" 2>&1 || RC=$?
    tr -d '\r' <"$out.raw" >"$out"
    rm -f "$out.raw"
    sed 's/^/       | /' "$out"
}

# sc_state: the STATE word of `sc query hnsnetpol` (RUNNING, STOPPED, ...), "NONE" when not installed.
sc_state() {
    local s
    s=$("$WINE" sc query hnsnetpol 2>/dev/null | tr -d '\r' | awk '$1 == "STATE" { print $4 }')
    echo "${s:-NONE}"
}
sc_state_is() { [ "$(sc_state)" = "$1" ]; }

# sc_field NAME: a field of `sc query hnsnetpol` (WIN32_EXIT_CODE, SERVICE_EXIT_CODE: the number).
sc_field() {
    "$WINE" sc query hnsnetpol 2>/dev/null | tr -d '\r' | awk -v f="$1" '$1 == f { print $3 }'
}

# linux_path WINDOWS_PATH: C:\... of the prefix, or Z:\... , as a Linux path.
linux_path() {
    local p=${1//\\//}
    case "$p" in
    [Zz]:*) echo "${p:2}" ;;
    [Cc]:*) echo "$WINEPREFIX/drive_c${p:2}" ;;
    *) echo "$p" ;;
    esac
}

# events_of TYPE ID: how many Event Log reports of that type (0x0001 error,
# 0x0002 warning, 0x0004 information) and ID (hex, 8 digits) wine recorded.
events_of() {
    grep -ac "fixme:advapi:ReportEventW ([0-9A-Fa-f]*,$1,0x0000,$2," "$EVENTLOG" || true
}

# event_text LEVEL TEXT: a recorded Event Log string of that level
# (trace = information, warn, err) contains TEXT.
event_text() {
    grep -a ":$1:eventlog:ReportEventW" "$EVENTLOG" | grep -aqF -- "$2"
}

# on_exit COMMAND...: run COMMAND at the end (before the wineserver stops).
on_exit() { CLEANUPS+=("$*"); }

winsvc_finish() {
    local rc=$? c
    trap - EXIT INT TERM HUP
    set +e
    for c in "${CLEANUPS[@]}"; do eval "$c" >/dev/null 2>&1; done
    if [ "$BOOTED" = 1 ]; then
        wineserver -k >/dev/null 2>&1
        wineserver -w >/dev/null 2>&1
    fi
    local took
    took=$(awk -v a="$_t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    if [ "$rc" = 0 ] && [ -z "$FAIL_REASON" ]; then
        printf '\nPASS %s (%d checks, %s s)\n' "$NAME" "$CHECKS" "$took"
        if [ "${HNP_WINSVC_KEEP:-0}" = 1 ]; then
            echo "kept $WORK"
        else
            rm -rf "$WORK"
        fi
        exit 0
    fi
    [ -n "$FAIL_REASON" ] || FAIL_REASON="exit status $rc"
    local f
    for f in "${LOG_FILES[@]}"; do
        [ -s "$f" ] || continue
        printf '\n--- %s, last 60 lines\n' "$f"
        tail -n 60 "$f"
    done
    if [ -s "$EVENTLOG" ]; then
        printf '\n--- Event Log reports (wine debug channel), last 30\n'
        grep -a 'eventlog:ReportEventW' "$EVENTLOG" | tail -n 30 | cut -c1-300
    fi
    rm -rf "$WORK/prefix"
    printf '\nFAIL %s: %s (after %s s; files kept in %s)\n' "$NAME" "$FAIL_REASON" "$took" "$WORK"
    [ "$rc" = 0 ] && rc=1
    exit "$rc"
}

# winsvc_pass: the end of a test that got here.
winsvc_pass() { exit 0; }
