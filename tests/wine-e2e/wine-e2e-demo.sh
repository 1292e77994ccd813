#!/usr/bin/env bash
# wine-e2e-demo: hnsnetpol.exe (mingw build) run under wine with the real HCN
# backend (--hns hcn) against the fake computenetwork.dll beside it, and a
# real kube-apiserver 1.20 on loopback (tests/e2e/apiserver.sh). The demo of
# scenario 01 (server isolated; TCP 80 from the client once it is labelled
# app=client), then a policy update (port 80 -> 8080), each converging in the
# fake HNS state; the server endpoint's OutBoundNAT stays first; Ctrl-C
# (SIGINT -> CTRL_C_EVENT under wine) stops the agent cleanly with exit 0.
# Then the other console control events, delivered as Windows delivers them
# (console-event.exe starts CtrlRoutine in the agent): Ctrl-Break, console
# close and shutdown (these two with --cleanup-on-exit) each stop it cleanly
# within seconds, and a second Ctrl-Break during a clean stop ends it at once.
#
# Reuses tests/e2e/lib.sh: every `hnsnetpol` it runs (hns-mock, translate)
# is hnsnetpol.exe under wine, through a small wrapper that strips the CR of
# Windows text-mode output. No Linux build of hnsnetpol is needed.
#
# Environment:
#   HNP_WINE_EXE   hnsnetpol.exe (ctest sets it; default build/wine-e2e-mingw,
#                  then build/mingw64); computenetwork.dll (the fake) must be
#                  beside it, as the mingw build tree has it
#   HNP_WINE_CONSOLE_EVENT  console-event.exe (ctest sets it; default
#                  tests/wine-e2e/console-event.exe in the build tree of
#                  HNP_WINE_EXE)
#   HNP_WINE       wine (default: wine in PATH)
#   WINEPREFIX     default /var/cache/hnsnetpol/wine64 (packaging/build-mingw-deps.sh)
#   WINEDEBUG      default -all
#   HNP_E2E_WAIT, HNP_E2E_KEEP, TMPDIR: as for tests/e2e (README.md there)
#   HNP_WINE_E2E_TMPDIR  where the work directory goes (ctest: the build tree);
#                  wine itself keeps the caller's TMPDIR, because Debian's wine
#                  finds its wineserver through it: one wineserver per prefix,
#                  shared with the other wine tests, as the emulator would run it
# shellcheck disable=SC2317 # functions run through check and wait_until
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)

if [ -z "${HNP_WINE_EXE:-}" ]; then
    for HNP_WINE_EXE in "$TOP/build/wine-e2e-mingw/hnsnetpol.exe" "$TOP/build/mingw64/hnsnetpol.exe" ""; do
        [ -f "$HNP_WINE_EXE" ] && break
    done
fi
CONSOLE_EVENT=${HNP_WINE_CONSOLE_EVENT:-$(dirname "${HNP_WINE_EXE:-.}")/tests/wine-e2e/console-event.exe}
export WINEPREFIX=${WINEPREFIX:-/var/cache/hnsnetpol/wine64}
export WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES="mscoree,mshtml="
WINE_ENV=(env -u TMPDIR)
[ -n "${TMPDIR:-}" ] && WINE_ENV=(env "TMPDIR=$TMPDIR")
[ -n "${HNP_WINE_E2E_TMPDIR:-}" ] && export TMPDIR=$HNP_WINE_E2E_TMPDIR
HNP_WINE=${HNP_WINE:-$(command -v wine || true)}
# lib.sh's e2e_init wants an executable file in HNP_BIN; the wrapper replaces it below.
HNP_BIN=${HNP_WINE_EXE:-/nonexistent/hnsnetpol.exe}

# shellcheck source=tests/e2e/lib.sh
. "$TOP/tests/e2e/lib.sh"
e2e_init "hnsnetpol.exe under wine, --hns hcn with the fake computenetwork.dll: demo, then a policy update"

if [ -z "${HNP_WINE_EXE:-}" ] || [ ! -f "$HNP_WINE_EXE" ]; then
    fail "no hnsnetpol.exe: build it (cmake --build build/wine-e2e-mingw) or set HNP_WINE_EXE"
fi
[ -f "$(dirname "$HNP_WINE_EXE")/computenetwork.dll" ] ||
    fail "no computenetwork.dll beside $HNP_WINE_EXE (the fake one of tests/win is built with hnsnetpol.exe)"
if [ -z "$HNP_WINE" ] || [ ! -x "$HNP_WINE" ]; then
    fail "wine is needed (Debian: apt-get install wine wine64)"
fi
[ -d "$WINEPREFIX" ] || fail "no wine prefix at $WINEPREFIX (packaging/build-mingw-deps.sh creates it)"
[ -f "$CONSOLE_EVENT" ] ||
    fail "no console-event.exe at $CONSOLE_EVENT: build it (target hnp_console_event) or set HNP_WINE_CONSOLE_EVENT"
say "hnsnetpol.exe: $HNP_WINE_EXE"
say "console-event.exe: $CONSOLE_EVENT"
say "wine: $HNP_WINE, WINEPREFIX=$WINEPREFIX"

# winpath PATH: the Windows name of a Linux path (drive Z: is /).
winpath() { printf 'Z:%s' "${1//\//\\}"; }

# Every `hnsnetpol` lib.sh runs (hns-mock, translate, explain): the .exe under wine,
# CR of the Windows text-mode output removed, its exit status kept.
HNP=$E2E_DIR/hnsnetpol-wine
cat >"$HNP" <<EOF
#!/usr/bin/env bash
set -o pipefail
${WINE_ENV[*]@Q} "$HNP_WINE" "$HNP_WINE_EXE" "\$@" | tr -d '\r'
EOF
chmod +x "$HNP"

EP_SERVER=e2ea0001-0000-4000-8000-000000000001
EP_CLIENT=e2ea0001-0000-4000-8000-000000000002
SERVER_IP=10.240.0.10
CLIENT_IP=10.240.0.11
NAT='{"Type":"OutBoundNAT","Settings":{"Exceptions":["10.0.0.0/8","10.240.0.0/16"]}}'
STOP_BOUND_MS=${HNP_E2E_STOP_BOUND_MS:-5000}

# free_port: a TCP port nothing listens on (from 20000 up, randomised).
free_port() {
    local p used i
    used=$(ss -Htln | awk '{ n = split($4, a, ":"); print a[n] }')
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 20000))
        grep -qx "$p" <<<"$used" || { echo "$p"; return 0; }
    done
    return 1
}

# agent_start_wine [FLAG...]: hnsnetpol.exe run under wine, --hns hcn, the fake
# DLL's state in HNP_FAKE_HCN_STATE, the agent kubeconfig with tls-server-name
# (Schannel does not match an IP SAN), metrics on a free port, then FLAGs. Sets
# AGENT_PID, METRICS_URL and RUN_LOG_FROM (the log's lines before this run).
agent_start_wine() {
    local port t0 kc=$E2E_DIR/agent-win.kubeconfig
    # The certificate names kubernetes.default.svc; the agent connects to 127.0.0.1 by that name.
    awk '{ print } /^ *server: / { sub(/server:.*/, "tls-server-name: kubernetes.default.svc"); print }' \
        "$HNP_AGENT_KUBECONFIG" >"$kc"
    grep -q 'tls-server-name: kubernetes.default.svc' "$kc" || fail "could not write $kc"
    port=$(free_port) || fail "no free TCP port for the metrics"
    local -a launcher=()
    setpriv --pdeathsig TERM true 2>/dev/null && launcher=(setpriv --pdeathsig TERM)
    AGENT_RUNS=$((AGENT_RUNS + 1))
    RUN_LOG_FROM=0
    [ -f "$AGENT_LOG" ] && RUN_LOG_FROM=$(wc -l <"$AGENT_LOG")
    echo "==== agent run $AGENT_RUNS (wine, hcn${*:+, $*})" >>"$AGENT_LOG"
    "${launcher[@]}" "${WINE_ENV[@]}" "HNP_FAKE_HCN_STATE=$(winpath "$STATE")" "$HNP_WINE" "$HNP_WINE_EXE" run \
        --kubeconfig "$(winpath "$kc")" --node-name "$NODE" --hns hcn \
        --metrics-addr "127.0.0.1:$port" "${AGENT_FLAGS[@]}" "$@" </dev/null >>"$AGENT_LOG" 2>&1 &
    AGENT_PID=$!
    METRICS_URL=http://127.0.0.1:$port
    t0=$(now_ms)
    until [ "$(http_code /healthz)" = 200 ]; do
        if ! kill -0 "$AGENT_PID" 2>/dev/null; then
            local rc=0
            wait "$AGENT_PID" || rc=$?
            AGENT_PID=
            fail "hnsnetpol.exe exited at start-up with status $rc"
        fi
        [ $(($(now_ms) - t0)) -ge 30000 ] && fail "hnsnetpol.exe does not answer /healthz after 30 s"
        sleep 0.1
    done
    ok "hnsnetpol.exe started under wine (pid $AGENT_PID, --hns hcn, metrics $METRICS_URL, $(secs_since "$t0") s)"
}

# run_log: the agent's log since the last agent_start_wine (its standard output
# and error), CRs removed.
run_log() { tail -n "+$((RUN_LOG_FROM + 1))" "$AGENT_LOG" | tr -d '\r'; }

# run_log_has TEXT: this run's log has a line with TEXT (fixed string).
run_log_has() { run_log | grep -qF -- "$1"; }

# console_event EVENT: deliver EVENT (c, break, close, logoff, shutdown) to the
# running agent with console-event.exe, which starts CtrlRoutine in it as the
# system does. The agent is found by its metrics address in its command line
# (the shell knows only its Unix PID). What console-event.exe says goes to
# console-event.log and is shown.
console_event() {
    local out=$E2E_DIR/console-event.log from=0
    [ -f "$out" ] && from=$(wc -l <"$out")
    echo "==== $1" >>"$out"
    "${WINE_ENV[@]}" "$HNP_WINE" "$CONSOLE_EVENT" "cmdline:--metrics-addr ${METRICS_URL#http://}" "$1" \
        --wait 5000 >>"$out" 2>&1 || {
        tail -n "+$((from + 1))" "$out" | tr -d '\r'
        fail "console-event.exe could not deliver $1 to hnsnetpol.exe"
    }
    tail -n "+$((from + 2))" "$out" | tr -d '\r' | grep -v '^console-event: process ' | sed 's/^/   /'
}

# agent_event EVENT: console_event, then wait for the agent to exit (at most
# 40 s, longer than the 30 s the close handler may wait). Sets AGENT_RC and
# AGENT_STOP_MS, counted from before the delivery (wine starting
# console-event.exe included).
agent_event() {
    local t0
    [ -n "$AGENT_PID" ] || fail "agent_event: no agent runs"
    t0=$(now_ms)
    console_event "$1"
    agent_await_exit "$t0" 40000 "the $1 event"
}

# ours_in_state: how many ACLs with an Id "hnp-..." the fake HNS state holds, all endpoints.
ours_in_state() {
    mock show | jq '[.endpoints[] | (.Policies // .policies // [])[]
        | select((.Type // .type // "" | ascii_downcase) == "acl")
        | select((.Settings // .settings // {}) | (.Id // .ID // .id // "") | startswith("hnp-"))]
        | length'
}

# What the log of this run shows about the stop: clean, ACLs left; clean, ACLs
# removed (the server's endpoint cleaned); begun but not finished.
stopped_acls_left() { run_log_has "agent stopping" && run_log_has 'agent stopped acls="left enforced"'; }
stopped_acls_removed() {
    run_log_has "agent stopping" && run_log_has "cleanup done endpoints_cleaned=1 endpoints_failed=0" &&
        run_log_has "agent stopped acls=removed"
}
stop_unfinished() { ! run_log_has "cleanup done" && ! run_log_has "agent stopped"; }

# cleanup_hangs N: this run began removing the ACLs and made its Nth HcnModifyEndpoint.
cleanup_hangs() { run_log_has "removing the ACLs of hnsnetpol" && [ "$(calls_of modify)" -ge "$1" ]; }

e2e_start_apiserver

step "The node's HCN endpoints (fake computenetwork.dll state) and the pods"
endpoint_add "$EP_SERVER" "$SERVER_IP" --policy "$NAT"
endpoint_add "$EP_CLIENT" "$CLIENT_IP"
ns_create demo
pod_create demo server node-1 "$SERVER_IP" '{"app":"server"}'
pod_create demo client node-1 "$CLIENT_IP" '{"run":"client"}'

step "Schannel refuses the API server when the kubeconfig's CA did not sign its certificate"
# Under wine, Schannel without a CA accepted a self-signed server; the agent
# always passes the CA, and this proves a wrong one is refused.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=wrong-ca \
    -keyout "$E2E_DIR/wrong-ca.key" -out "$E2E_DIR/wrong-ca.crt" 2>/dev/null ||
    fail "openssl could not make the wrong CA"
wrong_ca=$(base64 -w0 "$E2E_DIR/wrong-ca.crt")
right_kubeconfig=$HNP_AGENT_KUBECONFIG
HNP_AGENT_KUBECONFIG=$E2E_DIR/agent-wrong-ca.kubeconfig
sed "s|certificate-authority-data: .*|certificate-authority-data: $wrong_ca|" "$right_kubeconfig" \
    >"$HNP_AGENT_KUBECONFIG"
check "the wrong-CA kubeconfig differs only in its CA" \
    [ "$(grep -c "$wrong_ca" "$HNP_AGENT_KUBECONFIG")" = 1 ]
agent_start_wine
sleep 3
check "not ready: no list got through TLS" [ "$(http_code /readyz)" = 503 ]
check "every list is refused by Schannel's trust check (curl code 60)" grep -qE 'code="curl 60" .*schannel: .*trust' "$AGENT_LOG"
check "no HcnModifyEndpoint without the cluster's state" [ "$(calls_of modify)" = 0 ]
agent_stop INT
HNP_AGENT_KUBECONFIG=$right_kubeconfig

step "hnsnetpol.exe run --hns hcn under wine; no policy yet"
agent_start_wine
wait_synced
grep -q 'HNS version' "$AGENT_LOG" && say "log: $(grep -m1 'HNS version' "$AGENT_LOG" | tr -d '\r')"
expect_acls_now "$EP_SERVER" "server endpoint: no ACL (no policy)" ""
expect_acls_now "$EP_CLIENT" "client endpoint: no ACL" ""
check "no HcnModifyEndpoint at start-up (nothing to change)" [ "$(calls_of modify)" = 0 ]
wait_until "metric hnsnetpol_local_endpoints is 2 (both endpoints enumerated through HCN)" \
    metric_eq hnsnetpol_local_endpoints 2

step "kubectl apply -f demo-policy.yaml"
policy_create demo <"$TOP/docs/demo/demo-policy.yaml"
expect_acls "$EP_SERVER" "server isolated, nothing allowed in (no pod is app=client yet)" \
    "In 200 Allow hnp-node-in RemoteAddresses=$NODE1_IP
In 65000 Block hnp-isolate-in
Out 65000 Allow hnp-open-out"
expect_foreign "$EP_SERVER" "the server's OutBoundNAT still first and unchanged" "[$NAT]"
expect_acls_now "$EP_CLIENT" "client endpoint: still no ACL" ""

step "kubectl label pod client -n demo app=client"
pod_label demo client '{"app":"client"}'
expect_acls "$EP_SERVER" "server allows TCP 80 from the client's IP only" \
    "In 200 Allow hnp-node-in RemoteAddresses=$NODE1_IP
In 1000 Allow hnp-<demo/demo-policy>-in0-tcp-0 LocalPorts=80 Protocols=6 RemoteAddresses=$CLIENT_IP
In 65000 Block hnp-isolate-in
Out 65000 Allow hnp-open-out"
expect_foreign "$EP_SERVER" "the server's OutBoundNAT still first and unchanged" "[$NAT]"
expect_acls_now "$EP_CLIENT" "client endpoint: still no ACL" ""
expect_matches_translate "every endpoint's ACLs equal hnsnetpol translate's"
check "exactly one HcnModifyEndpoint per change of the server's ACLs (2)" [ "$(calls_of modify)" = 2 ]

step "Policy update: TCP 8080 instead of 80"
policy_replace demo demo-policy <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: demo-policy
  namespace: demo
spec:
  podSelector:
    matchLabels:
      app: server
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: client
    ports:
    - port: 8080
      protocol: TCP
EOF
expect_acls "$EP_SERVER" "server allows TCP 8080 (no longer 80) from the client's IP" \
    "In 200 Allow hnp-node-in RemoteAddresses=$NODE1_IP
In 1000 Allow hnp-<demo/demo-policy>-in0-tcp-0 LocalPorts=8080 Protocols=6 RemoteAddresses=$CLIENT_IP
In 65000 Block hnp-isolate-in
Out 65000 Allow hnp-open-out"
expect_foreign "$EP_SERVER" "the server's OutBoundNAT still first and unchanged" "[$NAT]"
expect_acls_now "$EP_CLIENT" "client endpoint: still no ACL" ""
expect_matches_translate "every endpoint's ACLs equal hnsnetpol translate's"
check "one more HcnModifyEndpoint (3)" [ "$(calls_of modify)" = 3 ]
wait_until "metric hnsnetpol_policies{state=\"applied\"} is 1" metric_eq 'hnsnetpol_policies{state="applied"}' 1

step "Ctrl-C: SIGINT to the wine process (wine raises CTRL_C_EVENT in it)"
agent_stop INT
check "hnsnetpol.exe exits 0 on Ctrl-C" [ "$AGENT_RC" = 0 ]
check "... within $STOP_BOUND_MS ms ($AGENT_STOP_MS ms)" [ "$AGENT_STOP_MS" -le "$STOP_BOUND_MS" ]
check "the agent logged \"agent stopping\" (a clean stop, not a kill)" grep -q 'agent stopping' "$AGENT_LOG"
ACLS_8080="In 200 Allow hnp-node-in RemoteAddresses=$NODE1_IP
In 1000 Allow hnp-<demo/demo-policy>-in0-tcp-0 LocalPorts=8080 Protocols=6 RemoteAddresses=$CLIENT_IP
In 65000 Block hnp-isolate-in
Out 65000 Allow hnp-open-out"
expect_acls_now "$EP_SERVER" "the ACLs stay enforced after the stop" "$ACLS_8080"

# The other console control events, delivered as Windows delivers them: a thread
# at CtrlRoutine in the agent (console-event.exe). GenerateConsoleCtrlEvent needs a
# shared console and sends only Ctrl-C and Ctrl-Break; wine has no other way to
# raise close or shutdown.
step "Ctrl-Break (CtrlRoutine(CTRL_BREAK_EVENT) in the agent)"
agent_start_wine
wait_synced
expect_acls "$EP_SERVER" "converged: the server's ACLs adopted as they are" "$ACLS_8080"
agent_event break
check "hnsnetpol.exe exits 0 on Ctrl-Break" [ "$AGENT_RC" = 0 ]
check "... within $STOP_BOUND_MS ms ($AGENT_STOP_MS ms)" [ "$AGENT_STOP_MS" -le "$STOP_BOUND_MS" ]
check "its log says \"agent stopping\", then \"agent stopped\" with the ACLs left enforced" \
    stopped_acls_left
expect_acls_now "$EP_SERVER" "the ACLs stay enforced" "$ACLS_8080"

# Close and shutdown: Windows ends the process once the handler returns, so the
# handler waits (up to 30 s) until the clean stop is done. That wait held the
# console lock while the main thread deregistered the handler (which takes the same
# lock): 30 s, then the kill. An exit within seconds with the cleanup done proves
# the order is right.
for event in close shutdown; do
    step "Console $event event (CtrlRoutine(CTRL_${event^^}_EVENT)) with --cleanup-on-exit"
    agent_start_wine --cleanup-on-exit
    wait_synced
    expect_acls "$EP_SERVER" "converged: the server's ACLs in place" "$ACLS_8080"
    check "the fake HNS state holds ACLs of ours before the event ($(ours_in_state))" [ "$(ours_in_state)" -gt 0 ]
    agent_event "$event"
    check "hnsnetpol.exe exits within $STOP_BOUND_MS ms of the $event event ($AGENT_STOP_MS ms; a deadlock would take 30 s)" \
        [ "$AGENT_STOP_MS" -le "$STOP_BOUND_MS" ]
    # Wine does not end the process after a close or shutdown handler returned TRUE
    # (Windows does): main returns, with the agent's exit code.
    check "exit status 0 (under wine, main returns after the handler returned)" [ "$AGENT_RC" = 0 ]
    check "its log says \"agent stopping\", \"cleanup done\" for the server's endpoint, \"agent stopped\" with the ACLs removed" \
        stopped_acls_removed
    check "no ACL with an Id \"hnp-...\" is left in the fake HNS state" [ "$(ours_in_state)" = 0 ]
    expect_foreign "$EP_SERVER" "the server's OutBoundNAT stays" "[$NAT]"
done

# Deterministic: the clean stop's HcnModifyEndpoint holds its reply for 20 s (the
# agent waits --hns-timeout, 10 s, for it), and the second event is sent once that
# call has begun.
step "Ctrl-C, then Ctrl-Break during the clean stop: the second event ends the process at once"
agent_start_wine --cleanup-on-exit
wait_synced
expect_acls "$EP_SERVER" "converged: the server's ACLs in place again" "$ACLS_8080"
mock fault --operation modify --latency-ms 20000 >/dev/null
modify_before=$(calls_of modify)
console_event c
wait_until "Ctrl-C started the clean stop and its HcnModifyEndpoint hangs" cleanup_hangs $((modify_before + 1))
agent_event break
check "hnsnetpol.exe ended within $STOP_BOUND_MS ms of the second event ($AGENT_STOP_MS ms; the call in flight holds 20 s)" \
    [ "$AGENT_STOP_MS" -le "$STOP_BOUND_MS" ]
check "... without finishing the clean stop (no \"cleanup done\", no \"agent stopped\")" stop_unfinished
# Wine 8's default handler ends the process with exit code 0; Windows (and later
# wine) with STATUS_CONTROL_C_EXIT, 0xC000013A, whose low byte is 58.
check "exit status of the default handler's ExitProcess: 0 (wine 8) or 58 (STATUS_CONTROL_C_EXIT) ($AGENT_RC)" \
    grep -qxE '0|58' <<<"$AGENT_RC"
mock clear-faults >/dev/null

e2e_pass
