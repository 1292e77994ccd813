# shellcheck shell=bash
# lib.sh - shared helpers of the end-to-end scenarios (tests/e2e/scenario-*.sh).
#
# A scenario sources this file, calls e2e_init, and from then on everything it
# starts (etcd, kube-apiserver, the agent) is stopped by an EXIT trap, and the
# scenario ends with one line "PASS <name>" or "FAIL <name>: <reason>". The
# first failed check ends the scenario (later steps build on earlier ones),
# printing the agent's log tail and the mock HNS state.
#
#   . "$(dirname "$0")/lib.sh"
#   e2e_init "what this scenario shows"
#   e2e_start_apiserver
#   endpoint_add "$EP1" 10.240.0.5
#   ns_create demo
#   pod_create demo server node-1 10.240.0.5 '{"app":"server"}'
#   agent_start
#   policy_create demo <<'EOF'
#   ...YAML...
#   EOF
#   expect_acls "$EP1" "server isolated" "$(isolated_in)"
#   e2e_pass
#
# The cluster: node-1 (this agent's node; host IP 10.240.0.2, pods in
# 10.240.0.0/24) and node-2 (host IP 10.240.1.2, pods in 10.240.1.0/24).
# There is no kubelet: pods are created with spec.nodeName and get their IP
# by a PATCH of /status, as a kubelet would do.
#
# Waits are bounded polls (every 0.1 s, at most HNP_E2E_WAIT seconds, 20 by
# default), never fixed sleeps.
#
# Environment:
#   HNP_BIN          the hnsnetpol program (ctest sets it; default
#                    build/e2e/hnsnetpol, then build/debug/hnsnetpol)
#   HNP_E2E_WAIT     seconds a wait may take (default 20)
#   HNP_E2E_KEEP=1   keep the work directory (logs, state file) even on success
#   HNP_E2E_LAUNCHER command put in front of the agent (e.g. "valgrind -q")
#   TMPDIR           where the work directory goes

E2E_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_TOP=$(cd "$E2E_HERE/../.." && pwd)
E2E_APISERVER=$E2E_HERE/apiserver.sh
E2E_WAIT=${HNP_E2E_WAIT:-20}
NODE="node-1"
NODE1_IP=10.240.0.2
NODE2_IP=10.240.1.2

# Defaults of the agent in every scenario. The resync is long on purpose: a
# change must converge through the watch and the controller's own bookkeeping,
# not because a periodic resync happened to recompute everything. The drift
# scenario passes --resync-interval 2s itself.
AGENT_FLAGS=(--batch-interval 50ms --endpoint-poll-interval 200ms --resync-interval 10m
    --hns-timeout 10s --log-level debug)

export LC_ALL=C

# ---------------------------------------------------------------- reporting

_e2e_t0=$EPOCHREALTIME
E2E_CHECKS=0

# now_ms: wall clock in milliseconds.
now_ms() {
    local t=${EPOCHREALTIME/./}
    echo $((t / 1000))
}

# secs_since MS: seconds since MS (from now_ms), with one decimal.
secs_since() {
    local d=$(($(now_ms) - $1))
    printf '%d.%d' $((d / 1000)) $((d % 1000 / 100))
}

step() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
ok() {
    E2E_CHECKS=$((E2E_CHECKS + 1))
    printf 'ok   %s\n' "$*"
}

# fail REASON: end the scenario now (the EXIT trap prints diagnostics).
fail() {
    E2E_FAIL_REASON=$*
    printf 'FAIL %s\n' "$*"
    exit 1
}

# e2e_init DESCRIPTION: work directory, binary, tools, traps.
e2e_init() {
    E2E_NAME=$(basename "$0" .sh)
    E2E_NAME=${E2E_NAME#scenario-}
    printf '### e2e %s: %s\n' "$E2E_NAME" "$*"
    E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/hnsnetpol-e2e-$E2E_NAME.XXXXXX")
    API_DIR=$E2E_DIR/api
    STATE=$E2E_DIR/hns.json
    AGENT_LOG=$E2E_DIR/agent.log
    KUBE_OUT=$E2E_DIR/last-response.json
    AGENT_PID=
    AGENT_RUNS=0
    E2E_FAIL_REASON=
    E2E_POLICY_MAP='{}'
    E2E_API_STARTED=0
    E2E_PAUSED=0
    trap e2e_finish EXIT
    set -o errtrace
    trap 'E2E_FAIL_REASON=${E2E_FAIL_REASON:-"unexpected failure (status $?) at ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND"}' ERR
    trap 'E2E_FAIL_REASON="interrupted"; exit 130' INT TERM HUP

    if [ -z "${HNP_BIN:-}" ]; then
        for HNP_BIN in "$E2E_TOP/build/e2e/hnsnetpol" "$E2E_TOP/build/debug/hnsnetpol" ""; do
            [ -x "$HNP_BIN" ] && break
        done
    fi
    [ -n "$HNP_BIN" ] && [ -x "$HNP_BIN" ] ||
        fail "no hnsnetpol program: build it (cmake --build build/e2e) or set HNP_BIN"
    HNP=$HNP_BIN
    local tool
    for tool in curl jq awk ss flock; do
        command -v "$tool" >/dev/null || fail "$tool is needed (Debian: apt-get install jq iproute2 util-linux curl)"
    done
    say "program: $HNP"
    say "work directory: $E2E_DIR"
}

# Called by the EXIT trap: stop everything, print PASS/FAIL and diagnostics.
e2e_finish() {
    local rc=$?
    trap - EXIT INT TERM HUP ERR
    set +e
    [ "$E2E_PAUSED" = 1 ] && [ -n "$AGENT_PID" ] && kill -CONT "$AGENT_PID" 2>/dev/null
    if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
        kill -TERM "$AGENT_PID" 2>/dev/null
        local i
        for ((i = 0; i < 100; i++)); do
            kill -0 "$AGENT_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$AGENT_PID" 2>/dev/null
        wait "$AGENT_PID" 2>/dev/null
    fi
    if [ "$E2E_API_STARTED" = 1 ]; then
        "$E2E_APISERVER" stop "$API_DIR" >/dev/null 2>&1
    fi
    local took
    took=$(awk -v a="$_e2e_t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    if [ "$rc" = 0 ] && [ -z "$E2E_FAIL_REASON" ]; then
        printf '\nPASS %s (%d checks, %s s)\n' "$E2E_NAME" "$E2E_CHECKS" "$took"
        if [ "${HNP_E2E_KEEP:-0}" = 1 ]; then echo "kept $E2E_DIR"; else rm -rf "$E2E_DIR"; fi
        exit 0
    fi
    [ -n "$E2E_FAIL_REASON" ] || E2E_FAIL_REASON="exit status $rc"
    if [ -s "$AGENT_LOG" ]; then
        printf '\n--- agent log, last 80 lines (%s)\n' "$AGENT_LOG"
        tail -n 80 "$AGENT_LOG"
    fi
    if [ -s "$STATE" ]; then
        printf '\n--- mock HNS state (%s)\n' "$STATE"
        cat "$STATE"
    fi
    printf '\nFAIL %s: %s (after %s s; files kept in %s)\n' "$E2E_NAME" "$E2E_FAIL_REASON" "$took" "$E2E_DIR"
    [ "$rc" = 0 ] && rc=1
    exit "$rc"
}

# e2e_pass: the closing checks, then PASS. A running agent is stopped with
# SIGTERM and must exit 0 (under the sanitizers, a leak or an error at exit
# fails here); the agent's log must show no RBAC refusal, no sanitizer report
# and (unless E2E_ERRORS_EXPECTED=1) no error.
e2e_pass() {
    if [ -n "$AGENT_PID" ]; then
        agent_stop TERM
        check "the agent exits 0 on SIGTERM" [ "$AGENT_RC" = 0 ]
    fi
    check_agent_log_clean
    exit 0
}

# wait_until DESCRIPTION COMMAND...: run COMMAND every 0.1 s until it
# succeeds, at most E2E_WAIT seconds (WAIT_TIMEOUT=N overrides once).
wait_until() {
    local desc=$1 timeout=${WAIT_TIMEOUT:-$E2E_WAIT} t0
    shift
    t0=$(now_ms)
    while :; do
        if "$@" >/dev/null 2>&1; then
            ok "$desc ($(secs_since "$t0") s)"
            return 0
        fi
        [ $(($(now_ms) - t0)) -ge $((timeout * 1000)) ] && fail "$desc: still not true after $timeout s"
        agent_check_alive
        sleep 0.1
    done
}

# check DESCRIPTION COMMAND...: COMMAND must succeed now.
check() {
    local desc=$1
    shift
    if "$@" >/dev/null; then ok "$desc"; else fail "$desc"; fi
}

# ---------------------------------------------------------------- API server

# e2e_start_apiserver: etcd + kube-apiserver in $API_DIR; sources its env.
e2e_start_apiserver() {
    local t0
    t0=$(now_ms)
    E2E_API_STARTED=1
    HNP_E2E_OWNER_PID=$$ HNP_E2E_MAX_LIFETIME=${HNP_E2E_MAX_LIFETIME:-1800} \
        "$E2E_APISERVER" start "$API_DIR" >"$E2E_DIR/apiserver-start.log" 2>&1 || {
        cat "$E2E_DIR/apiserver-start.log"
        fail "tests/e2e/apiserver.sh start failed (is kube-apiserver built? tests/e2e/apiserver.sh install)"
    }
    # shellcheck disable=SC1091
    . "$API_DIR/env"
    ok "etcd and kube-apiserver $HNP_APISERVER_VERSION ready at $HNP_APISERVER_URL ($(secs_since "$t0") s)"
}

# The pid file format of apiserver.sh: "PID STARTTIME", so its stop and its
# watchdog also stop a kube-apiserver this file started again.
_proc_start() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    # shellcheck disable=SC2086
    set -- ${stat##*) }
    case "$1" in Z | X) return 1 ;; esac
    echo "${20}"
}

_api_pid() {
    local pid start
    [ -s "$API_DIR/apiserver.pid" ] || return 1
    read -r pid start <"$API_DIR/apiserver.pid"
    [ "$(_proc_start "$pid" 2>/dev/null)" = "$start" ] || return 1
    echo "$pid"
}

# api_stop: stop kube-apiserver only (etcd keeps running, with all the data):
# SIGTERM, then SIGKILL after 3 s. (With watches open, kube-apiserver 1.20
# stops listening at once but keeps serving the open watch connections
# until they end, which the agent's do after 5 minutes; the SIGKILL is what
# an orchestrator does after its grace period.) Its command line is saved
# for api_start.
api_stop() {
    local pid i how=SIGTERM
    pid=$(_api_pid) || fail "api_stop: kube-apiserver is not running"
    [ -s "$API_DIR/apiserver.cmdline" ] || cp "/proc/$pid/cmdline" "$API_DIR/apiserver.cmdline"
    kill -TERM "$pid"
    for ((i = 0; i < 30; i++)); do
        _proc_start "$pid" >/dev/null || break
        sleep 0.1
    done
    if _proc_start "$pid" >/dev/null; then
        kill -KILL "$pid"
        how="SIGTERM, then SIGKILL after 3 s"
    fi
    for ((i = 0; i < 50; i++)); do
        _proc_start "$pid" >/dev/null || break
        sleep 0.1
    done
    _proc_start "$pid" >/dev/null && fail "kube-apiserver (pid $pid) does not stop"
    rm -f "$API_DIR/apiserver.pid"
    ok "kube-apiserver stopped (pid $pid, $how; etcd still runs)"
}

# api_start [EXTRA_FLAG...]: start kube-apiserver again, on the same port,
# with the flags it had, plus EXTRA_FLAGs (e.g. --watch-cache=false).
api_start() {
    local -a cmd
    local flag t0 pid
    [ -s "$API_DIR/apiserver.cmdline" ] || fail "api_start: no saved command line (api_stop first)"
    mapfile -d '' -t cmd <"$API_DIR/apiserver.cmdline"
    for flag in "$@"; do cmd+=("$flag"); done
    t0=$(now_ms)
    "${cmd[@]}" </dev/null >>"$API_DIR/apiserver.log" 2>&1 &
    pid=$!
    echo "$pid $(_proc_start "$pid")" >"$API_DIR/apiserver.pid"
    while ! curl -sf --max-time 2 --cacert "$HNP_CA_FILE" -H "Authorization: Bearer $HNP_ADMIN_TOKEN" \
        "$HNP_APISERVER_URL/readyz" >/dev/null 2>&1; do
        _proc_start "$pid" >/dev/null || {
            tail -n 20 "$API_DIR/apiserver.log"
            fail "kube-apiserver exited while starting again"
        }
        [ $(($(now_ms) - t0)) -ge 90000 ] && fail "kube-apiserver not ready again after 90 s"
        sleep 0.2
    done
    # Right after a start, kube-apiserver may answer 403 for a moment while its
    # RBAC authorizer loads the roles (seen with 1.20): refusals in the first
    # 15 s after a restart do not count against the RBAC check.
    E2E_RBAC_GRACE_UNTIL=$(date -u -d "+15 seconds" +%Y-%m-%dT%H:%M:%S)
    ok "kube-apiserver running again on port $HNP_APISERVER_PORT${*:+ with $*} ($(secs_since "$t0") s)"
}

# kube METHOD PATH [CONTENT_TYPE]: a request as the admin; with CONTENT_TYPE
# the body is read from standard input. The response body goes to $KUBE_OUT,
# the status to $KUBE_CODE. Anything but 2xx ends the scenario.
kube() {
    kube_try "$@"
    case "$KUBE_CODE" in
    2??) ;;
    *) fail "$1 $2: HTTP $KUBE_CODE: $(head -c 600 "$KUBE_OUT")" ;;
    esac
}

# kube_try METHOD PATH [CONTENT_TYPE]: as kube, but only sets $KUBE_CODE.
kube_try() {
    local method=$1 path=$2 ctype=${3:-}
    local -a args=(-X "$method")
    [ -n "$ctype" ] && args+=(-H "Content-Type: $ctype" --data-binary @-)
    KUBE_CODE=$(curl -sS --max-time 30 --cacert "$HNP_CA_FILE" \
        -H "Authorization: Bearer $HNP_ADMIN_TOKEN" "${args[@]}" \
        -o "$KUBE_OUT" -w '%{http_code}' "$HNP_APISERVER_URL$path" 2>"$E2E_DIR/curl.err") ||
        KUBE_CODE=000
}

# ns_create NAME [LABELS_JSON]
ns_create() {
    kube POST /api/v1/namespaces application/json <<<"$(jq -n --arg n "$1" --argjson l "${2:-{\}}" \
        '{apiVersion: "v1", kind: "Namespace", metadata: {name: $n, labels: $l}}')"
    say "namespace $1 created, labels ${2:-{\}}"
}

# ns_label NAME LABELS_JSON: merge the labels (a null value removes a label).
ns_label() {
    kube PATCH "/api/v1/namespaces/$1" application/merge-patch+json \
        <<<"$(jq -n --argjson l "$2" '{metadata: {labels: $l}}')"
    say "namespace $1 labels patched with $2"
}

# pod_create NS NAME NODE IP LABELS_JSON: a Running pod with that IP on NODE
# (host IP of node-1 or node-2), as the scheduler and the kubelet would leave it.
pod_create() {
    local ns=$1 name=$2 node=$3 ip=$4 labels=${5:-{\}} host body
    case "$node" in node-1) host=$NODE1_IP ;; node-2) host=$NODE2_IP ;; *) host=10.240.9.2 ;; esac
    body=$(jq -n --arg n "$name" --arg node "$node" --argjson l "$labels" \
        '{apiVersion: "v1", kind: "Pod", metadata: {name: $n, labels: $l},
          spec: {nodeName: $node, containers: [{name: "c", image: "registry.k8s.io/pause:3.9",
                 ports: [{containerPort: 80, name: "http"}]}]}}')
    kube POST "/api/v1/namespaces/$ns/pods" application/json <<<"$body"
    body=$(jq -n --arg ip "$ip" --arg host "$host" \
        '{status: {phase: "Running", hostIP: $host, podIP: $ip, podIPs: [{ip: $ip}]}}')
    kube PATCH "/api/v1/namespaces/$ns/pods/$name/status" application/merge-patch+json <<<"$body"
    say "pod $ns/$name on $node, IP $ip, labels $labels"
}

# pod_label NS NAME LABELS_JSON: merge the labels (a null value removes one).
pod_label() {
    kube PATCH "/api/v1/namespaces/$1/pods/$2" application/merge-patch+json \
        <<<"$(jq -n --argjson l "$3" '{metadata: {labels: $l}}')"
    say "pod $1/$2 labels patched with $3"
}

# pod_delete NS NAME: gone at once (grace period 0: there is no kubelet to
# confirm a graceful deletion).
pod_delete() {
    kube DELETE "/api/v1/namespaces/$1/pods/$2?gracePeriodSeconds=0"
    say "pod $1/$2 deleted"
}

# fnv12 TEXT: the first 12 hex digits of FNV-1a-64 of TEXT, the <policy hash>
# in our ACL Ids (docs/translation.md).
fnv12() {
    local s=$1 h=-3750763034362895579 i c
    for ((i = 0; i < ${#s}; i++)); do
        printf -v c '%d' "'${s:i:1}"
        h=$(((h ^ c) * 1099511628211))
    done
    printf -v h '%016x' "$h"
    echo "${h:0:12}"
}

_remember_policy() {
    E2E_POLICY_MAP=$(jq -c --arg h "$(fnv12 "$1/$2")" --arg p "$1/$2" '. + {($h): $p}' <<<"$E2E_POLICY_MAP")
}

# policy_create NS < YAML: create the NetworkPolicy of the YAML document.
policy_create() {
    kube POST "/apis/networking.k8s.io/v1/namespaces/$1/networkpolicies" application/yaml
    local name
    name=$(jq -r .metadata.name "$KUBE_OUT")
    _remember_policy "$1" "$name"
    say "NetworkPolicy $1/$name created"
}

# policy_replace NS NAME < YAML: replace the policy (PUT, unconditional).
policy_replace() {
    kube PUT "/apis/networking.k8s.io/v1/namespaces/$1/networkpolicies/$2" application/yaml
    say "NetworkPolicy $1/$2 replaced (generation $(jq -r .metadata.generation "$KUBE_OUT"))"
}

policy_delete() {
    kube DELETE "/apis/networking.k8s.io/v1/namespaces/$1/networkpolicies/$2"
    say "NetworkPolicy $1/$2 deleted"
}

# dump_objects DIR: the cluster's Namespaces, Pods and NetworkPolicies as
# the admin reads them from the API server, one List file each. The API's
# List items carry no kind (kubectl adds it); jq adds it here.
dump_objects() {
    local dir=$1 what name path kind api
    mkdir -p "$dir"
    for what in namespaces:/api/v1/namespaces:Namespace:v1 pods:/api/v1/pods:Pod:v1 \
        networkpolicies:/apis/networking.k8s.io/v1/networkpolicies:NetworkPolicy:networking.k8s.io/v1; do
        IFS=: read -r name path kind api <<<"$what"
        kube GET "$path"
        jq --arg k "$kind" --arg a "$api" '.items |= map({kind: $k, apiVersion: $a} + .)' \
            "$KUBE_OUT" >"$dir/$name.json"
    done
}

# ---------------------------------------------------------------- etcd

# etcd_revision: the current revision of etcd (= the latest resourceVersion).
etcd_revision() {
    curl -sS --max-time 10 -X POST "$HNP_ETCD_URL/v3/kv/range" -d '{"key":"Lw==","limit":1,"keys_only":true}' |
        jq -r .header.revision
}

# etcd_compact REV: compact etcd's history up to REV (what kube-apiserver
# itself does every 5 minutes), through etcd's JSON gateway: no etcdctl needed.
etcd_compact() {
    local out
    out=$(curl -sS --max-time 30 -X POST "$HNP_ETCD_URL/v3/kv/compaction" \
        -d "{\"revision\":\"$1\",\"physical\":true}") || fail "etcd compaction request failed"
    jq -e .header.revision <<<"$out" >/dev/null || fail "etcd compaction failed: $out"
    ok "etcd compacted at revision $1"
}

# ---------------------------------------------------------------- mock HNS

mock() { "$HNP" hns-mock "$STATE" "$@"; }

# endpoint_add ID IP [--policy JSON]...: an attached HNS endpoint.
endpoint_add() {
    local id=$1 ip=$2
    shift 2
    mock add-endpoint --id "$id" --ip "$ip/24" "$@" >/dev/null || fail "hns-mock add-endpoint $id failed"
    say "HNS endpoint $id ($ip) added${*:+ with foreign policies}"
}

endpoint_remove() {
    mock remove-endpoint --id "$1" >/dev/null || fail "hns-mock remove-endpoint $1 failed"
    say "HNS endpoint $1 removed"
}

# state_edit JQ_PROGRAM [JQ_OPTION...]: rewrite the mock's state file with
# jq, holding its lock and replacing it atomically (docs/mock-hns.md), as
# another program on the node would.
state_edit() {
    local prog=$1
    shift
    (
        flock 9
        jq "$@" "$prog" "$STATE" >"$STATE.e2e-new" && mv "$STATE.e2e-new" "$STATE"
    ) 9>>"$STATE.lock" || fail "editing $STATE with jq failed"
}

# policies_of ID: the endpoint's whole Policies array, compact.
policies_of() {
    mock show | jq -c --arg id "${1,,}" '.endpoints[] | select((.ID // .Id | ascii_downcase) == $id) | .Policies // []'
}

# calls_of OP: the mock's count of calls of OP (list, query, modify).
calls_of() {
    mock calls | awk -v op="$1" '$1 == op { print $2 }'
}

# The jq program that turns our ACLs into one line each, sorted by direction,
# priority and Id: "DIR PRIORITY ACTION ID KEY=VALUE..." with the policy hash
# of a rule's Id replaced by <ns/name> when the scenario created that policy,
# and RuleType left out when it is Switch (it always should be).
ACL_SUMMARY_JQ='
  def pname: . as $id
    | ($map | to_entries | map(select(. as $e | $id | startswith("hnp-" + $e.key + "-"))))
    | if length > 0 then .[0] as $m | $id | sub("^hnp-" + $m.key; "hnp-<" + $m.value + ">") else $id end;
  map(.Settings) | sort_by(.Direction, .Priority, .Id) | .[]
  | "\(.Direction) \(.Priority) \(.Action) \(.Id | pname)"
    + (to_entries
       | map(select(.key | IN("Id", "Action", "Direction", "Priority") | not))
       | map(select(.key != "RuleType" or .value != "Switch"))
       | sort_by(.key) | map(" \(.key)=\(.value)") | join(""))'

# acl_summary ID: our ACLs of the endpoint, one line each (see above).
acl_summary() {
    local json
    json=$(mock acls --id "$1") || return 1
    jq -r --argjson map "$E2E_POLICY_MAP" "$ACL_SUMMARY_JQ" <<<"$json"
}

# isolated_in [RULE...]: the summary of a node-1 pod isolated for ingress
# only: the node rule, the RULE lines (our In rules), the ingress isolation,
# the open egress.
isolated_in() {
    printf '%s\n' "In 200 Allow hnp-node-in RemoteAddresses=$NODE1_IP" "$@" \
        "In 65000 Block hnp-isolate-in" "Out 65000 Allow hnp-open-out"
}

# demo_allows PEERS: isolated_in with the rule of docs/demo/demo-policy.yaml
# (created as demo/demo-policy): TCP 80 from PEERS (comma-separated).
demo_allows() {
    isolated_in "In 1000 Allow hnp-<demo/demo-policy>-in0-tcp-0 LocalPorts=80 Protocols=6 RemoteAddresses=$1"
}

# expect_acls ID DESCRIPTION EXPECTED: wait until the endpoint's ACL summary
# is exactly EXPECTED (lines as acl_summary prints them; "" = no ACL of ours).
expect_acls() {
    local id=$1 desc=$2 want=$3 got t0 timeout=${WAIT_TIMEOUT:-$E2E_WAIT}
    t0=$(now_ms)
    while :; do
        got=$(acl_summary "$id" 2>&1) || got="(cannot read: $got)"
        if [ "$got" = "$want" ]; then
            ok "$desc ($(secs_since "$t0") s)"
            [ -n "$want" ] && sed 's/^/       /' <<<"$want"
            return 0
        fi
        if [ $(($(now_ms) - t0)) -ge $((timeout * 1000)) ]; then
            echo "--- expected ACLs of $id"
            echo "${want:-(none)}"
            echo "--- actual"
            echo "${got:-(none)}"
            fail "$desc: ACLs of $id not as expected after $timeout s"
        fi
        agent_check_alive
        sleep 0.1
    done
}

# expect_acls_now ID DESCRIPTION EXPECTED: the same, checked once.
expect_acls_now() {
    WAIT_TIMEOUT=0 expect_acls "$@"
}

# expect_foreign ID DESCRIPTION JSON_ARRAY: the endpoint's policies start
# with exactly these (foreign) policies, in this order, and every policy
# after them is one of our ACLs.
expect_foreign() {
    local id=$1 desc=$2 want=$3 all
    all=$(policies_of "$id")
    if jq -e --argjson w "$want" '
        (.[0:($w | length)] == $w)
        and (.[($w | length):] | all(.Type == "ACL" and (.Settings.Id | startswith("hnp-"))))' \
        <<<"$all" >/dev/null; then
        ok "$desc"
    else
        echo "--- expected first: $want"
        echo "--- policies: $all"
        fail "$desc"
    fi
}

# expect_matches_translate DESCRIPTION [TRANSLATE_FLAG...]: for every endpoint
# in the state file, our ACLs equal what `hnsnetpol translate --node node-1`
# computes offline from the objects read back from the API server (compared
# as sets by Id, after canonical formatting).
expect_matches_translate() {
    local desc=$1 dir=$E2E_DIR/objects ids id ip want got
    shift
    dump_objects "$dir"
    "$HNP" translate --node "$NODE" "$@" "$dir/namespaces.json" "$dir/pods.json" \
        "$dir/networkpolicies.json" >"$dir/translate.json" 2>"$dir/translate.err" || true
    jq -e .endpoints "$dir/translate.json" >/dev/null 2>&1 ||
        fail "$desc: hnsnetpol translate failed: $(head -c 400 "$dir/translate.err")"
    ids=$(mock show | jq -r '.endpoints[] | "\(.ID // .Id) \(.IpConfigurations[0].IpAddress)"')
    while read -r id ip; do
        [ -n "$id" ] || continue
        want=$(jq -c --arg ip "$ip" '[.endpoints[] | select(.ip == $ip) | .request.Settings.Policies // []
                | .[] | select(.Type == "ACL")] | sort_by(.Settings.Id)' "$dir/translate.json")
        got=$(mock acls --id "$id" | jq -c 'sort_by(.Settings.Id)')
        if [ "$want" != "$got" ]; then
            echo "--- translate says for $ip: $want"
            echo "--- endpoint $id has: $got"
            fail "$desc: endpoint $id ($ip) differs from hnsnetpol translate"
        fi
    done <<<"$ids"
    ok "$desc"
}

# ---------------------------------------------------------------- the agent

# agent_start [FLAG...]: `hnsnetpol run` in the background with the
# RBAC-limited agent kubeconfig, node-1, the mock HNS, the small intervals of
# AGENT_FLAGS (FLAGs come after them, so they win), metrics on a free port.
# Sets AGENT_PID and METRICS_URL; the log goes to $AGENT_LOG.
agent_start() {
    local -a launcher=()
    # If this script is killed outright (no trap runs), the agent gets SIGTERM.
    setpriv --pdeathsig TERM true 2>/dev/null && launcher=(setpriv --pdeathsig TERM)
    # shellcheck disable=SC2206 # a command line on purpose
    [ -n "${HNP_E2E_LAUNCHER:-}" ] && launcher+=($HNP_E2E_LAUNCHER)
    AGENT_RUNS=$((AGENT_RUNS + 1))
    echo "==== agent run $AGENT_RUNS: $*" >>"$AGENT_LOG"
    "${launcher[@]}" "$HNP" run --kubeconfig "$HNP_AGENT_KUBECONFIG" --node-name "$NODE" \
        --hns "mock:$STATE" --metrics-addr 127.0.0.1:0 "${AGENT_FLAGS[@]}" "$@" \
        </dev/null >>"$AGENT_LOG" 2>&1 &
    AGENT_PID=$!
    local t0 port
    t0=$(now_ms)
    while :; do
        port=$(listening_port "$AGENT_PID")
        [ -n "$port" ] && break
        if ! kill -0 "$AGENT_PID" 2>/dev/null; then
            local rc=0
            wait "$AGENT_PID" || rc=$?
            AGENT_PID=
            fail "the agent exited at start-up with status $rc"
        fi
        [ $(($(now_ms) - t0)) -ge 10000 ] && fail "the agent does not listen for /metrics after 10 s"
        sleep 0.05
    done
    METRICS_URL=http://127.0.0.1:$port
    ok "agent started (pid $AGENT_PID, metrics $METRICS_URL${*:+, $*})"
}

# listening_port PID: the TCP port PID listens on (from /proc: the sockets of
# its file descriptors that /proc/net/tcp{,6} list in state LISTEN).
listening_port() {
    local inodes hex
    inodes=$(find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null |
        sed 's/socket:\[\([0-9]*\)\]/\1/' | tr '\n' ' ')
    [ -n "$inodes" ] || return 0
    hex=$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v inodes=" $inodes" '
        $4 == "0A" && index(inodes, " " $10 " ") { n = split($2, a, ":"); print a[n]; exit }')
    [ -n "$hex" ] && echo $((16#$hex))
    return 0
}

# agent_check_alive: end the scenario if the agent died unexpectedly.
agent_check_alive() {
    [ -n "$AGENT_PID" ] || return 0
    if ! kill -0 "$AGENT_PID" 2>/dev/null; then
        local pid=$AGENT_PID rc=0
        AGENT_PID=
        wait "$pid" || rc=$?
        fail "the agent (pid $pid) died unexpectedly, exit status $rc"
    fi
}

# agent_stop [SIGNAL]: send SIGNAL (TERM), wait at most 15 s. Sets AGENT_RC
# and AGENT_STOP_MS (how long it took).
agent_stop() {
    local sig=${1:-TERM} t0
    [ -n "$AGENT_PID" ] || fail "agent_stop: no agent runs"
    t0=$(now_ms)
    kill "-$sig" "$AGENT_PID"
    agent_await_exit "$t0" 15000 "SIG$sig"
}

# agent_await_exit T0_MS LIMIT_MS WHAT: wait until the agent has exited
# (LIMIT_MS after T0_MS at the most, then kill it and fail), reap it. Sets
# AGENT_RC and AGENT_STOP_MS (since T0_MS); WHAT names the stop request.
agent_await_exit() {
    local t0=$1 limit=$2 what=$3 pid=$AGENT_PID
    while kill -0 "$pid" 2>/dev/null && [ $(($(now_ms) - t0)) -lt "$limit" ]; do
        # A zombie is gone for our purposes; wait reaps it below.
        grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && break
        sleep 0.05
    done
    AGENT_STOP_MS=$(($(now_ms) - t0))
    if kill -0 "$pid" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null; then
        kill -KILL "$pid"
        wait "$pid" 2>/dev/null
        AGENT_PID=
        fail "the agent did not exit within $((limit / 1000)) s of $what"
    fi
    AGENT_RC=0
    wait "$pid" || AGENT_RC=$?
    AGENT_PID=
    say "agent stopped by $what: exit status $AGENT_RC after $AGENT_STOP_MS ms"
}

# agent_pause / agent_resume: SIGSTOP / SIGCONT.
agent_pause() {
    kill -STOP "$AGENT_PID"
    E2E_PAUSED=1
    say "agent paused (SIGSTOP)"
}
agent_resume() {
    kill -CONT "$AGENT_PID"
    E2E_PAUSED=0
    say "agent resumed (SIGCONT)"
}

# agent_cut_connections: destroy the agent's TCP connections to the API
# server (ss -K: as a network failure or a load balancer would), without
# touching the API server. Prints how many were cut.
agent_cut_connections() {
    local ports p n=0
    ports=$(ss -Htnp state established "( dport = :$HNP_APISERVER_PORT )" 2>/dev/null |
        awk -v pid="pid=$AGENT_PID," 'index($0, pid) { n = split($3, a, ":"); print a[n] }')
    for p in $ports; do
        ss -K -Htn state established "( sport = :$p and dport = :$HNP_APISERVER_PORT )" >/dev/null 2>&1 &&
            n=$((n + 1))
    done
    # ss -K needs CAP_NET_ADMIN and a kernel with CONFIG_INET_DIAG_DESTROY.
    local left
    left=$(ss -Htnp state established "( dport = :$HNP_APISERVER_PORT )" 2>/dev/null | grep -c "pid=$AGENT_PID," || true)
    [ "$n" -gt 0 ] && [ "$left" = 0 ] ||
        fail "could not cut the agent's connections with ss -K ($n cut, $left left; needs root and CONFIG_INET_DIAG_DESTROY)"
    ok "cut the agent's $n connections to the API server (ss -K)"
}

# http_code PATH: the status of GET METRICS_URL/PATH.
http_code() {
    curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$METRICS_URL$1" || true
}

# metric 'NAME{LABELS}': its value in /metrics, nothing when absent.
metric() {
    curl -sS --max-time 5 "$METRICS_URL/metrics" | awk -v s="$1" '$1 == s { print $2; exit }'
}

# metric_watched NAME: the sum of NAME{resource="..."} over the three watched
# resources (an absent series counts 0).
metric_watched() {
    local r v sum=0
    for r in namespaces pods networkpolicies; do
        v=$(metric "$1{resource=\"$r\"}")
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}

# metric_ge 'NAME{LABELS}' N: the metric exists and is >= N.
metric_ge() {
    local v
    v=$(metric "$1")
    [ -n "$v" ] && awk -v v="$v" -v n="$2" 'BEGIN { exit !(v + 0 >= n + 0) }'
}

# metric_eq 'NAME{LABELS}' N
metric_eq() {
    local v
    v=$(metric "$1")
    [ -n "$v" ] && awk -v v="$v" -v n="$2" 'BEGIN { exit !(v + 0 == n + 0) }'
}

# wait_ready: /readyz answers 200 (initial sync done, HNS answers).
wait_ready() {
    wait_until "agent ready: /readyz is 200" ready_now
}
ready_now() { [ "$(http_code /readyz)" = 200 ]; }

# wait_synced: every local endpoint carries its desired ACLs, as the agent
# itself reports it (last sync timestamp set after the readiness).
wait_synced() {
    wait_ready
    wait_until "agent reports a completed sync (hnsnetpol_last_sync_timestamp_seconds > 0)" \
        metric_ge hnsnetpol_last_sync_timestamp_seconds 1
}

# wait_polls N: the agent has listed the HNS endpoints N more times (a
# bounded way to let time pass in the agent's own terms).
wait_polls() {
    local base
    base=$(calls_of list)
    WAIT_TIMEOUT=${WAIT_TIMEOUT:-$E2E_WAIT} wait_until "the agent polled HNS $1 more times" \
        _list_calls_ge $((base + $1))
}
_list_calls_ge() { [ "$(calls_of list)" -ge "$1" ]; }

# check_agent_log_clean: RBAC holds (the agent was never refused with 401 or
# 403, except in the moments after a kube-apiserver restart, see api_start)
# and, unless E2E_ERRORS_EXPECTED=1, nothing was logged at error level.
check_agent_log_clean() {
    [ -s "$AGENT_LOG" ] || return 0
    local refused
    refused=$({ grep -E '(code|status)="?(401|403)"?|[Ff]orbidden' "$AGENT_LOG" || true; } |
        awk -v grace="${E2E_RBAC_GRACE_UNTIL:-}" 'substr($1, 1, 19) > grace' | head -n 5)
    if [ -n "$refused" ]; then
        echo "$refused"
        fail "the agent was refused by the API server (RBAC of packaging/rbac.yaml not enough?)"
    fi
    ok "the agent was never refused by the API server (RBAC-limited user hnsnetpol-agent)"
    if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$AGENT_LOG"; then
        grep -E -A5 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$AGENT_LOG" | head -n 20
        fail "a sanitizer reported an error in the agent"
    fi
    if [ "${E2E_ERRORS_EXPECTED:-0}" != 1 ] && grep -q ' ERROR ' "$AGENT_LOG"; then
        grep ' ERROR ' "$AGENT_LOG" | head -n 5
        fail "the agent logged errors"
    fi
}

# expect_explain allowed|denied FROM TO PORT: `hnsnetpol explain` over the
# objects read back from the API server gives that verdict.
expect_explain() {
    local want=$1 from=$2 to=$3 port=$4 dir=$E2E_DIR/objects rc=0 got
    dump_objects "$dir"
    "$HNP" explain --from "$from" --to "$to" --port "$port" "$dir/namespaces.json" \
        "$dir/pods.json" "$dir/networkpolicies.json" >"$dir/explain.out" 2>&1 || rc=$?
    case "$rc" in 0) got=allowed ;; 1) got=denied ;; *) got="error $rc" ;; esac
    if [ "$got" != "$want" ]; then
        cat "$dir/explain.out"
        fail "hnsnetpol explain $from -> $to:$port says $got, want $want"
    fi
    ok "hnsnetpol explain over the API server's objects: $from -> $to TCP $port $got"
}

# in_range VALUE LOW HIGH: LOW <= VALUE <= HIGH (integers).
in_range() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
