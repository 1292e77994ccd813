#!/usr/bin/env bash
# service-apiserver.sh - the Windows service under wine against a real
# kube-apiserver (tests/e2e/apiserver.sh: Linux processes on 127.0.0.1, which
# wine reaches), installed with a YAML configuration file (in a folder with
# a space; relative paths in it) plus a flag that overrides the file:
#   - net start: RUNNING, the initial sync done (Event Log 103), /readyz 200;
#   - the demo: demo-policy isolates the server pod's endpoint in the mock
#     HNS, then the client labelled app=client is allowed on TCP 80; the
#     client's endpoint gets nothing;
#   - a policy with a named port is rejected: a warning with its own ID
#     (200) in the Event Log, the reason in the log file;
#   - net stop: STOPPED with exit code 0, the ACLs left enforced;
#   - uninstall. The log file is the one the configuration file names.
# TLS: Schannel (curl's TLS on Windows) never matches an IP address in a
# server certificate, so the kubeconfig names the server
# kubernetes.default.svc (tls-server-name) and trusts the test CA file.
# Checks are commands run later, often `eval '...'` on purpose (expanded when
# checked), which reads variables and calls functions shellcheck thinks unused.
# shellcheck disable=SC2016,SC2317,SC1003,SC2034
set -euo pipefail
# shellcheck source=tests/winsvc/lib.sh
. "$(dirname "$0")/lib.sh"
winsvc_init "the service against a real kube-apiserver: ACLs applied, rejected policy in the Event Log"

APISERVER=$WINSVC_TOP/tests/e2e/apiserver.sh
API_DIR=$WORK/api
EP_SERVER=e2e0f002-0000-4000-8000-000000000001
EP_CLIENT=e2e0f002-0000-4000-8000-000000000002
SERVER_IP=10.240.0.10
CLIENT_IP=10.240.0.11
NODE1_IP=10.240.0.2
CONF="$WORK/conf dir"
STATE=$CONF/hns.json
LOG=$CONF/logs/agent.log
LOG_FILES+=("$LOG")
OUT=$WORK/out.txt
mkdir -p "$CONF/logs"

step "etcd and kube-apiserver"
HNP_E2E_OWNER_PID=$$ HNP_E2E_MAX_LIFETIME=600 "$APISERVER" start "$API_DIR" >"$WORK/apiserver-start.log" 2>&1 || {
    cat "$WORK/apiserver-start.log"
    fail "tests/e2e/apiserver.sh start failed (tests/e2e/apiserver.sh install builds kube-apiserver)"
}
on_exit "'$APISERVER' stop '$API_DIR'"
# shellcheck disable=SC1091
. "$API_DIR/env"
ok "kube-apiserver $HNP_APISERVER_VERSION at $HNP_APISERVER_URL"

# kube METHOD PATH CONTENT_TYPE < BODY: a request as the admin; 2xx or the test fails.
kube() {
    local code
    code=$(curl -sS --max-time 30 --cacert "$HNP_CA_FILE" -H "Authorization: Bearer $HNP_ADMIN_TOKEN" \
        -X "$1" -H "Content-Type: $3" --data-binary @- -o "$WORK/kube.json" -w '%{http_code}' \
        "$HNP_APISERVER_URL$2") || code=000
    case "$code" in 2??) ;; *) fail "$1 $2: HTTP $code: $(head -c 400 "$WORK/kube.json")" ;; esac
}
pod_create() { # NS NAME IP LABELS_JSON: a Running pod on node-1 with that IP
    kube POST "/api/v1/namespaces/$1/pods" application/json <<<"$(jq -n --arg n "$2" --argjson l "$4" \
        '{apiVersion: "v1", kind: "Pod", metadata: {name: $n, labels: $l},
          spec: {nodeName: "node-1", containers: [{name: "c", image: "registry.k8s.io/pause:3.9"}]}}')"
    kube PATCH "/api/v1/namespaces/$1/pods/$2/status" application/merge-patch+json <<<"$(jq -n \
        --arg ip "$3" --arg host "$NODE1_IP" \
        '{status: {phase: "Running", hostIP: $host, podIP: $ip, podIPs: [{ip: $ip}]}}')"
    say "pod $1/$2, IP $3, labels $4"
}

# acls ID: our ACLs of the endpoint in the mock's state file, one line each:
# "DIR PRIORITY ACTION ID [LocalPorts=.. RemoteAddresses=..]", sorted. Read
# from Linux (no wine process holds the file meanwhile).
acls() {
    jq -r --arg id "${1,,}" '.endpoints[] | select((.ID // .Id | ascii_downcase) == $id) | .Policies // []
        | map(select(.Type == "ACL" and (.Settings.Id | startswith("hnp-")))) | map(.Settings)
        | sort_by(.Direction, .Priority, .Id) | .[]
        | "\(.Direction) \(.Priority) \(.Action) \(.Id | sub("^hnp-[0-9a-f]{12}-"; "hnp-<policy>-"))"
          + (if .LocalPorts then " LocalPorts=\(.LocalPorts)" else "" end)
          + (if .RemoteAddresses then " RemoteAddresses=\(.RemoteAddresses)" else "" end)' "$STATE"
}
acls_are() { [ "$(acls "$1")" = "$2" ]; }

step "The cluster: namespace demo, pods server and client on node-1, their HNS endpoints"
kube POST /api/v1/namespaces application/json <<<'{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"demo"}}'
pod_create demo server "$SERVER_IP" '{"app":"server"}'
pod_create demo client "$CLIENT_IP" '{"run":"client"}'

winsvc_boot
run_w "$OUT" hns-mock "$STATE" add-endpoint --id "$EP_SERVER" --ip "$SERVER_IP/24"
run_w "$OUT" hns-mock "$STATE" add-endpoint --id "$EP_CLIENT" --ip "$CLIENT_IP/24"
check "two endpoints in the mock HNS" [ "$(jq '.endpoints | length' "$STATE")" = 2 ]

step "The configuration file, and service install --config FILE --log-level debug"
cat >"$CONF/agent.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: https://127.0.0.1:$HNP_APISERVER_PORT
    tls-server-name: kubernetes.default.svc
    certificate-authority: $HNP_CA_FILE
users:
- name: agent
  user:
    token: $HNP_AGENT_TOKEN
contexts:
- name: agent@e2e
  context: {cluster: e2e, user: agent}
current-context: agent@e2e
EOF
cat >"$CONF/hnsnetpol.yaml" <<'EOF'
# hnsnetpol settings for the Windows service (relative paths: this folder)
kubeconfig: agent.kubeconfig
nodeName: node-1
hns: mock:hns.json
nodeIP: 10.240.0.2
metricsAddr: 127.0.0.1:0
batchInterval: 50ms
endpointPollInterval: 200ms
hnsTimeout: 10s
logLevel: warn          # the flag --log-level debug overrides it
logFile: logs/agent.log
EOF
run_w "$OUT" service install --config "$CONF/hnsnetpol.yaml" --log-level debug
check "install exits 0" [ "$RC" = 0 ]
check "the command line: --log-level, then the quoted absolute --config" \
    contains "$OUT" 'service run --log-level=debug "--config=Z:'"${CONF//\//\\}"'\hnsnetpol.yaml"'

step "net start hnsnetpol"
wcmd "$OUT" net start hnsnetpol
check "net start exits 0" [ "$RC" = 0 ]
wait_until "sc query hnsnetpol: RUNNING" sc_state_is RUNNING
wait_until "the log file named by the config file: the agent started, at debug level" \
    eval 'contains "$LOG" "INFO agent started node=node-1" && grep -q " DEBUG " "$LOG"'
check "the config file is in the start line" contains "$LOG" 'config_file="Z:\\'
check "relative paths in the file are relative to its folder" \
    contains "$LOG" 'api_config="Z:'"${CONF//\//\\\\}"'\\agent.kubeconfig"'
check "... also logFile (one kind of separator)" contains "$LOG" '\\conf dir\\logs\\agent.log"'
wait_until "initial sync done (log file)" contains "$LOG" "INFO initial sync done"
wait_until "Event Log: information 103 (in sync)" eval '[ "$(events_of 0x0004 0x00000067)" = 1 ]'
PORT=$(grep -a "serving /metrics" "$LOG" | tail -n 1 | sed -n 's/.* port=\([0-9]*\).*/\1/p')
wait_until "/readyz answers 200 from the service" \
    eval '[ "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$PORT/readyz")" = 200 ]'
check "no ACL yet (no policy)" eval 'acls_are "$EP_SERVER" "" && acls_are "$EP_CLIENT" ""'

step "kubectl apply -f docs/demo/demo-policy.yaml"
kube POST /apis/networking.k8s.io/v1/namespaces/demo/networkpolicies application/yaml <"$WINSVC_TOP/docs/demo/demo-policy.yaml"
wait_until "the server's endpoint is isolated in the mock HNS" acls_are "$EP_SERVER" \
    "In 200 Allow hnp-node-in RemoteAddresses=$NODE1_IP
In 65000 Block hnp-isolate-in
Out 65000 Allow hnp-open-out"
check "the client's endpoint has no ACL" acls_are "$EP_CLIENT" ""

step "kubectl label pod client app=client"
kube PATCH /api/v1/namespaces/demo/pods/client application/merge-patch+json <<<'{"metadata":{"labels":{"app":"client"}}}'
wait_until "the server allows TCP 80 from the client's IP" acls_are "$EP_SERVER" \
    "In 200 Allow hnp-node-in RemoteAddresses=$NODE1_IP
In 1000 Allow hnp-<policy>-in0-tcp-0 LocalPorts=80 RemoteAddresses=$CLIENT_IP
In 65000 Block hnp-isolate-in
Out 65000 Allow hnp-open-out"

step "A policy with a named port (not enforceable on Windows)"
kube POST /apis/networking.k8s.io/v1/namespaces/demo/networkpolicies application/yaml <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: named-port
  namespace: demo
spec:
  podSelector:
    matchLabels:
      run: client
  ingress:
  - ports:
    - port: http
EOF
wait_until "log file: the policy is rejected, with the reason" \
    eval 'grep "WARN NetworkPolicy not enforceable on Windows" "$LOG" | grep -q "policy=demo/named-port"'
wait_until "Event Log: warning 200 (policy not enforced) naming demo/named-port" \
    eval '[ "$(events_of 0x0002 0x000000c8)" = 1 ] && event_text warn "policy=demo/named-port"'
check "the client's endpoint still has no ACL" acls_are "$EP_CLIENT" ""

step "net stop hnsnetpol"
wcmd "$OUT" net stop hnsnetpol
check "net stop exits 0" [ "$RC" = 0 ]
wait_until "sc query hnsnetpol: STOPPED" sc_state_is STOPPED
check "sc query: WIN32_EXIT_CODE 0, SERVICE_EXIT_CODE 0" \
    eval '[ "$(sc_field WIN32_EXIT_CODE)" = 0 ] && [ "$(sc_field SERVICE_EXIT_CODE)" = 0 ]'
check "the ACLs are left enforced" eval '[ "$(acls "$EP_SERVER" | wc -l)" = 4 ]'
check "log file: stopped cleanly" contains "$LOG" "INFO service stopped exit_code=0"
check "Event Log: started and stopped once each, no error" \
    eval '[ "$(events_of 0x0004 0x00000064)" = 1 ] && [ "$(events_of 0x0004 0x00000065)" = 1 ] && [ "$(grep -ac ":err:eventlog:ReportEventW" "$EVENTLOG")" = 0 ]'
check "the default log file is not used: the config file names another" eval '! test -e "$WINEPREFIX/drive_c/ProgramData/hnsnetpol/hnsnetpol.log"'

step "hnsnetpol service uninstall"
run_w "$OUT" service uninstall
check "uninstall: exit 0, no such service" eval '[ "$RC" = 0 ] && sc_state_is NONE'

winsvc_pass
