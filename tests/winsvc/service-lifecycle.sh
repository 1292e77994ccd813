#!/usr/bin/env bash
# service-lifecycle.sh - the Windows service under wine, with an API server
# that cannot be reached (the agent's initial sync never completes, so the
# service must report RUNNING when the agent's loop has started, not after
# the sync) and the mock HNS:
#   - `hnsnetpol service` before installing: help, status 4, `service run`
#     from a console refused;
#   - `service install` with flags (a kubeconfig in a folder with a space):
#     the SCM's registry entry (automatic start, quoted command line,
#     description, preshutdown timeout) and the Event Log source;
#   - `net start`, `sc query` RUNNING, /healthz 200 and /readyz 503, the
#     mock's endpoint listed; `net stop`, STOPPED with exit code 0;
#   - `service start | status | stop`; with a slow mock HNS, STOP_PENDING
#     while the HNS call in flight finishes, its checkpoint advancing as
#     `sc query` shows it; automatic start at boot;
#   - a start that fails: STOPPED, ERROR_SERVICE_SPECIFIC_ERROR, exit code 2;
#     likewise with a configuration file broken after the install;
#   - bad installs refused; `service uninstall` (twice);
#   - the log file under %ProgramData%\hnsnetpol and what went to the Event Log.
# Checks are commands run later, often `eval '...'` on purpose (expanded when
# checked), which reads variables and calls functions shellcheck thinks unused.
# shellcheck disable=SC2016,SC2317,SC1003,SC2034
set -euo pipefail
# shellcheck source=tests/winsvc/lib.sh
. "$(dirname "$0")/lib.sh"
winsvc_init "install, start, RUNNING, stop, STOPPED, uninstall; logs; a failing start; boot start"

EP=e2e0f001-0000-4000-8000-000000000001
STATE=$WORK/hns.json
KDIR="$WORK/kube config"
mkdir -p "$KDIR"
cat >"$KDIR/kubeconfig" <<'EOF'
apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster:
    server: https://127.0.0.1:1
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: not-a-real-token
contexts:
- name: ctx
  context:
    cluster: nowhere
    user: u
current-context: ctx
EOF
OUT=$WORK/out.txt

winsvc_boot

# The service's default log file: %ProgramData%\hnsnetpol\hnsnetpol.log of this prefix.
PROGRAMDATA=$("$WINE" cmd /c echo %ProgramData% | tr -d '\r\n')
LOG=$(linux_path "$PROGRAMDATA\\hnsnetpol\\hnsnetpol.log")
LOG_FILES+=("$LOG")
say "%ProgramData% is $PROGRAMDATA; the log file: $LOG"

step "hnsnetpol service, not installed yet"
run_w "$OUT" service --help
check "service --help exits 0 and lists the commands" \
    eval '[ "$RC" = 0 ] && contains "$OUT" "install [FLAGS] [--config FILE]" && contains "$OUT" uninstall'
run_w "$OUT" service status
check "service status: exit 4, not installed" eval '[ "$RC" = 4 ] && contains "$OUT" "is not installed"'
run_w "$OUT" service run --node-name n1
check "service run from a console: exit 2, use hnsnetpol run" \
    eval '[ "$RC" = 2 ] && contains "$OUT" "use \`hnsnetpol run\`"'
run_w "$OUT" service bogus
check "an unknown service command: exit 2" eval '[ "$RC" = 2 ] && contains "$OUT" "unknown command"'

step "An HNS endpoint in the mock state"
run_w "$OUT" hns-mock "$STATE" add-endpoint --id "$EP" --ip 10.240.0.10/24
check "hns-mock add-endpoint" [ "$RC" = 0 ]

step "hnsnetpol service install (flags)"
run_w "$OUT" service install --kubeconfig "$KDIR/kubeconfig" --node-name node-1 \
    --hns "mock:$STATE" --metrics-addr 127.0.0.1:0 --batch-interval 50ms \
    --endpoint-poll-interval 200ms --log-level debug
check "install exits 0" [ "$RC" = 0 ]
check "install says Installed" contains "$OUT" "Installed service hnsnetpol"
# Wine refuses this one level (docs/windows-service.md); tests/win/test_service_config.c
# checks every level install asks for, and the warnings, without wine's SCM.
check "install: wine refuses SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, and the warning names it" \
    contains "$OUT" "warning: cannot set the restart after a non-zero exit code: Invalid level (Windows error 124)"
wcmd "$OUT" reg query 'HKLM\System\CurrentControlSet\Services\hnsnetpol'
check "registry: automatic start (Start = 2), own process (Type = 0x10)" \
    eval 'grep -Eq "Start +REG_DWORD +0x2$" "$OUT" && grep -Eq "Type +REG_DWORD +0x10$" "$OUT"'
check "registry: the command line quotes the path with a space" \
    contains "$OUT" 'service run "--kubeconfig=Z:'"${KDIR//\//\\}"'\kubeconfig" --node-name=node-1'
check "registry: description and display name" \
    eval 'contains "$OUT" "Enforces Kubernetes NetworkPolicies" && contains "$OUT" "hnsnetpol NetworkPolicy agent"'
check "registry: preshutdown timeout 60 s" grep -Eq "PreshutdownTimeout +REG_DWORD +0xea60$" "$OUT"
wcmd "$OUT" reg query 'HKLM\System\CurrentControlSet\Services\EventLog\Application\hnsnetpol'
check "Event Log source registered, its messages in hnsnetpol.exe" \
    eval '[ "$RC" = 0 ] && grep -Eq "EventMessageFile +REG_EXPAND_SZ +Z:.*hnsnetpol.exe$" "$OUT" && grep -Eq "TypesSupported +REG_DWORD +0x7$" "$OUT"'
run_w "$OUT" service status
check "service status: STOPPED, exit 3" eval '[ "$RC" = 3 ] && contains "$OUT" "state:     STOPPED"'

step "net start hnsnetpol"
wcmd "$OUT" net start hnsnetpol
check "net start exits 0" [ "$RC" = 0 ]
wait_until "sc query hnsnetpol: RUNNING" sc_state_is RUNNING
run_w "$OUT" service status
check "service status: RUNNING with its process, exit 0" \
    eval '[ "$RC" = 0 ] && contains "$OUT" "state:     RUNNING" && grep -q "^process:   [0-9]" "$OUT"'
wait_until "log file: the service started and the agent's loop runs" \
    eval 'contains "$LOG" "INFO service starting" && contains "$LOG" "INFO agent started node=node-1" && contains "$LOG" "INFO service running"'
check "log file: RUNNING reported after the agent started, though the API server is unreachable" \
    eval 'grep -q "list request failed" "$LOG" && ! grep -q "initial sync done" "$LOG"'
wait_until "log file: the mock HNS endpoint is listed (the backend works in the service)" \
    contains "$LOG" "HNS endpoints listed endpoints=1"
check "log file: --log-level debug applies" grep -q " DEBUG " "$LOG"
PORT=$(grep -a "serving /metrics" "$LOG" | tail -n 1 | sed -n 's/.* port=\([0-9]*\).*/\1/p')
check "metrics listener port in the log ($PORT)" [ -n "$PORT" ]
check "/healthz answers 200 from the service" \
    eval '[ "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$PORT/healthz")" = 200 ]'
check "/readyz answers 503 (no initial sync without an API server)" \
    eval '[ "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$PORT/readyz")" = 503 ]'
wait_until "Event Log: information 100 (started) with the agent's line" \
    eval '[ "$(events_of 0x0004 0x00000064)" = 1 ] && event_text trace "INFO agent started node=node-1"'
check "Event Log: the unreachable API server as warnings (ID 2)" \
    eval '[ "$(events_of 0x0002 0x00000002)" -ge 1 ] && event_text warn "list request failed"'
check "Event Log: no debug or plain info line" eval '! event_text trace " DEBUG " && ! event_text trace "HNS endpoints listed"'

step "net stop hnsnetpol"
wcmd "$OUT" net stop hnsnetpol
check "net stop exits 0 and says stopped" eval '[ "$RC" = 0 ] && contains "$OUT" "stopped successfully"'
wait_until "sc query hnsnetpol: STOPPED" sc_state_is STOPPED
check "sc query: WIN32_EXIT_CODE 0, SERVICE_EXIT_CODE 0" \
    eval '[ "$(sc_field WIN32_EXIT_CODE)" = 0 ] && [ "$(sc_field SERVICE_EXIT_CODE)" = 0 ]'
check "log file: the SCM's STOP control asked for the stop" \
    contains "$LOG" "INFO service stop requested control=stop"
check "log file: the agent stopped, then the service" \
    eval 'contains "$LOG" "INFO agent stopping" && contains "$LOG" "INFO agent stopped acls=\"left enforced\"" && contains "$LOG" "INFO service stopped exit_code=0"'
check "log file: the stop is the last line" eval 'tail -n 1 "$LOG" | grep -q "service stopped exit_code=0"'
check "Event Log: information 101 (stopped)" \
    eval '[ "$(events_of 0x0004 0x00000065)" = 1 ] && event_text trace "INFO agent stopped"'
check "Event Log: no error so far" [ "$(grep -ac ':err:eventlog:ReportEventW' "$EVENTLOG")" = 0 ]

step "hnsnetpol service start | status | stop"
run_w "$OUT" service start
check "service start: RUNNING, exit 0" eval '[ "$RC" = 0 ] && grep -q "^hnsnetpol RUNNING, process [0-9]" "$OUT"'
check "sc query: RUNNING" sc_state_is RUNNING
run_w "$OUT" service start
check "service start again: still RUNNING, exit 0" eval '[ "$RC" = 0 ] && contains "$OUT" "hnsnetpol RUNNING"'
run_w "$OUT" service stop
check "service stop: STOPPED, exit code 0" eval '[ "$RC" = 0 ] && contains "$OUT" "hnsnetpol STOPPED, exit code 0"'
run_w "$OUT" service stop
check "service stop again: not running, exit 0" eval '[ "$RC" = 0 ] && contains "$OUT" "hnsnetpol is not running"'

step "STOP_PENDING while the HNS call in flight finishes: a mock HNS whose lists take 3 s"
run_w "$OUT" hns-mock "$STATE" fault --operation list --latency-ms 3000
check "hns-mock fault --latency-ms 3000" [ "$RC" = 0 ]
run_w "$OUT" service start
check "service start: RUNNING (at once: no list needed to start)" \
    eval '[ "$RC" = 0 ] && contains "$OUT" "hnsnetpol RUNNING"'
# The mock counts a call when it begins, then holds the reply: a new count is a list in flight.
list_calls() { jq -e '.calls.list' "$STATE" 2>/dev/null; }
LISTS=$(list_calls)
wait_until "a new HNS list call has begun" eval '[ "$(list_calls)" -gt "$LISTS" ]'
wcmd "$OUT" sc stop hnsnetpol
check "sc stop: STOP_PENDING at once, checkpoint 1" \
    eval '[ "$RC" = 0 ] && grep -Eq "STATE +: 3 +STOP_PENDING" "$OUT" && grep -Eq "CHECKPOINT +: 0x1$" "$OUT"'
# `sc query` until STOPPED: the checkpoints seen while STOP_PENDING (sc stop saw 0x1), in order.
CHECKPOINTS=" 0x1"
for ((i = 0; i < WINSVC_WAIT * 5; i++)); do
    "$WINE" sc query hnsnetpol 2>/dev/null | tr -d '\r' >"$OUT.q" || true
    grep -Eq "STATE +: 3 +STOP_PENDING" "$OUT.q" || break
    CP=$(awk '$1 == "CHECKPOINT" { print $3 }' "$OUT.q")
    case " $CHECKPOINTS " in *" $CP "*) ;; *) CHECKPOINTS="$CHECKPOINTS $CP" ;; esac
    sleep 0.2
done
say "checkpoints seen while STOP_PENDING:$CHECKPOINTS"
# advancing CHECKPOINT...: at least two, each above the one before.
advancing() {
    local prev=0 n=0 cp
    for cp in "$@"; do
        [ $((cp)) -gt "$prev" ] || return 1
        prev=$((cp))
        n=$((n + 1))
    done
    [ "$n" -ge 2 ]
}
# shellcheck disable=SC2086 # one word per checkpoint
check "STOP_PENDING lasted over a second, its checkpoint advancing" advancing $CHECKPOINTS
wait_until "sc query hnsnetpol: STOPPED" sc_state_is STOPPED
check "sc query: WIN32_EXIT_CODE 0: the call finished, then a clean stop" \
    eval '[ "$(sc_field WIN32_EXIT_CODE)" = 0 ] && [ "$(sc_field SERVICE_EXIT_CODE)" = 0 ]'
check "log file: the call in flight was waited for, not abandoned" \
    eval '! grep -q "HNS call timed out" "$LOG" && tail -n 1 "$LOG" | grep -q "service stopped exit_code=0"'
run_w "$OUT" hns-mock "$STATE" clear-faults
check "hns-mock clear-faults" [ "$RC" = 0 ]

step "Automatic start: wine restarted (all its processes ended), no net start"
winsvc_reboot
wait_until "sc query hnsnetpol: RUNNING after the boot" sc_state_is RUNNING
wait_until "log file: a fourth start, since the boot" eval '[ "$(grep -c "INFO service running" "$LOG")" = 4 ]'
run_w "$OUT" service stop
check "service stop: exit code 0" eval '[ "$RC" = 0 ] && contains "$OUT" "exit code 0"'

step "A start that fails: an HNS backend that does not exist"
run_w "$OUT" service install --kubeconfig "$KDIR/kubeconfig" --node-name node-1 --hns bogus:x
check "install again: Updated, exit 0" eval '[ "$RC" = 0 ] && contains "$OUT" "Updated service hnsnetpol"'
run_w "$OUT" service start
check "service start: exit 1, STOPPED with exit code 2" \
    eval '[ "$RC" = 1 ] && contains "$OUT" "hnsnetpol is STOPPED, exit code 2 (service-specific)"'
check "sc query: STOPPED, WIN32_EXIT_CODE 1066 (service-specific), SERVICE_EXIT_CODE 2" \
    eval 'sc_state_is STOPPED && [ "$(sc_field WIN32_EXIT_CODE)" = 1066 ] && [ "$(sc_field SERVICE_EXIT_CODE)" = 2 ]'
run_w "$OUT" service status
check "service status: exit code 2 (service-specific)" contains "$OUT" "exit code: 2 (service-specific)"
check "log file: why, and the service's exit code" \
    eval 'contains "$LOG" "ERROR agent failed error=HNP_ERR_USAGE field=--hns" && contains "$LOG" "ERROR service stopped after a failure exit_code=2"'
wait_until "Event Log: the agent's error (ID 3) and error 102 (failed)" \
    eval '[ "$(events_of 0x0001 0x00000003)" = 1 ] && [ "$(events_of 0x0001 0x00000066)" = 1 ] && event_text err "the agent ended with exit code 2"'

step "A configuration file that goes bad after the install"
cat >"$WORK/conf.yaml" <<'EOF'
kubeconfig: kube config/kubeconfig   # relative to this file's folder
nodeName: node-1
hns: mock:hns.json
metricsAddr: ""
EOF
run_w "$OUT" service install --config "$WORK/conf.yaml"
check "install --config: Updated, exit 0" eval '[ "$RC" = 0 ] && contains "$OUT" "Updated service hnsnetpol"'
run_w "$OUT" service start
check "service start: RUNNING with the file's settings" eval '[ "$RC" = 0 ] && contains "$OUT" "hnsnetpol RUNNING"'
run_w "$OUT" service stop
check "service stop: exit code 0" eval '[ "$RC" = 0 ] && contains "$OUT" "exit code 0"'
printf 'nodeName: node-1\nhnsTimeout: 30\n' >"$WORK/conf.yaml"
run_w "$OUT" service start
check "service start with the file broken: exit 1, STOPPED with exit code 2" \
    eval '[ "$RC" = 1 ] && contains "$OUT" "exit code 2 (service-specific)"'
wait_until "Event Log: error 102 names the file, the line and the key" \
    eval 'grep -a ":err:eventlog:ReportEventW" "$EVENTLOG" | grep -aqF "conf.yaml:2: hnsTimeout: must be a string"'
check "Event Log: the service's error 102 (twice now)" [ "$(events_of 0x0001 0x00000066)" = 2 ]

step "Bad installs are refused"
run_w "$OUT" service install --batch-interval fast
check "a bad flag: exit 2" \
    eval '[ "$RC" = 2 ] && contains "$OUT" "hnsnetpol service install: --batch-interval: \"fast\" is not a duration"'
printf 'nodeName: n1\nverbose: true\n' >"$WORK/bad.yaml"
run_w "$OUT" service install --config "$WORK/bad.yaml"
check "a bad config file: exit 2, file:line" \
    eval '[ "$RC" = 2 ] && contains "$OUT" "bad.yaml:2: unknown key \"verbose\""'
run_w "$OUT" service status
check "the installed service is unchanged (still conf.yaml)" contains "$OUT" "conf.yaml"

step "hnsnetpol service uninstall"
run_w "$OUT" service uninstall
check "uninstall: exit 0" eval '[ "$RC" = 0 ] && contains "$OUT" "Removed service hnsnetpol"'
check "sc query: no such service" sc_state_is NONE
wcmd "$OUT" reg query 'HKLM\System\CurrentControlSet\Services\EventLog\Application\hnsnetpol'
check "the Event Log source is gone" [ "$RC" != 0 ]
run_w "$OUT" service uninstall
check "uninstall again: exit 0, nothing to remove" \
    eval '[ "$RC" = 0 ] && contains "$OUT" "not installed; nothing to remove"'
check "the log file is kept" test -s "$LOG"

winsvc_pass
