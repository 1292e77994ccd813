#!/usr/bin/env bash
# run-agent-bench.sh BUILD_DIR [TOOLS_DIR] - benchmark `hnsnetpol run`
# against a real kube-apiserver (tests/e2e/apiserver.sh) and the mock HNS.
#
#   1. Loads a synthetic cluster into a fresh API server: hnp-gen-cluster's
#      pods, namespaces and policies plus namespace bench-local, whose LOCAL
#      pods (default 110) run on node-1, this agent's node, and are selected
#      by its 3 policies. Pods are POSTed, then given their status (podIP,
#      ...) by a PATCH of /status, as a kubelet would; all with
#      `curl --parallel` (HTTP/2, keep-alive).
#   2. The pods LIST by curl, three ways taking turns (LIST_RUNS times):
#      paged (limit 500 and continue, as the agent lists), one GET with
#      resourceVersion=0 (the API server's watch cache), and
#      resourceVersion=0&limit=500 (the cache ignores the limit).
#      Then convergence, RUNS times (default 3): a fresh mock HNS state with LOCAL
#      endpoints (the local pods' IPs, an OutBoundNAT each, no ACLs) and
#      `hns-mock fault --operation modify --latency-ms LATENCY` (default 50);
#      then
#        (a) agent start -> the last Update of its initial sync;
#        (b) one PATCH of bench-local/allow-frontends (a port added or
#            removed; it selects every local pod) -> its last Update.
#      Both against the floor LOCAL x LATENCY ms (the HNS calls are
#      sequential) with the number of modify calls the mock counted. With
#      several AGENTS they take turns within each run.
#   3. RSS: the policies replaced by a 1,000-policy set, a fresh mock state,
#      the agent started; VmRSS and VmHWM once its initial sync is done.
#      Then the same with hnp-agent-knobs (other LIST page sizes, a
#      malloc_trim after the lists), to show what the RSS is made of.
#
# Times come from the agent's own log (text format, millisecond UTC
# timestamps): "endpoint ACLs updated" is logged when an Update returns.
# The agent runs with its defaults (batch 100 ms, endpoint poll 2 s, page
# limit 500) and --log-level debug, as the RBAC-limited agent user.
#
# BUILD_DIR holds hnsnetpol and tests/bench/hnp-gen-cluster; TOOLS_DIR holds
# hnp-load-prep and hnp-agent-knobs (default BUILD_DIR/tests/bench/agent). Everything goes under
# BUILD_DIR/bench-agent/ (work/ is removed at the end unless
# HNP_BENCH_KEEP=1; results.md stays).
#
# Environment (defaults): HNP_BENCH_RUNS (3), HNP_BENCH_PODS (20000, local
# pods included), HNP_BENCH_NAMESPACES (PODS/10), HNP_BENCH_POLICIES (500),
# HNP_BENCH_RSS_POLICIES (1000; 0 skips part 3), HNP_BENCH_KNOBS ("500
# 500+trim 100 50": part 3 again with hnp-agent-knobs at these LIST page
# sizes, "+trim" adding a malloc_trim(0) after the initial lists; "" skips
# it), HNP_BENCH_RSS_RUNS (1: part 3's agent starts per binary),
# HNP_BENCH_AGENTS (BUILD_DIR/hnsnetpol: part 2 with each of these hnsnetpol
# binaries, in turn, within each run; tables name them by their folder),
# HNP_BENCH_LIST_RUNS (3: rounds of the curl LIST comparison),
# HNP_BENCH_PAUSE (unset; a file: once the server is loaded and the LISTs
# timed, wait while it exists, the server's env in BUILD_DIR/bench-agent/api.env),
# HNP_BENCH_RSS_AGENTS (BUILD_DIR/hnsnetpol: part 3 with each of these
# hnsnetpol binaries, in turn, RSS_RUNS rounds - to compare two builds on one
# loaded API server), HNP_BENCH_LOCAL (110),
# HNP_BENCH_LATENCY_MS (50), HNP_BENCH_PARALLEL (16, requests in flight
# while loading), HNP_BENCH_SEED (1), HNP_BENCH_TIMEOUT (600 s for a
# convergence), HNP_BENCH_KEEP (0).
#
# Needs: curl with HTTP/2, jq, flock, the cached kube-apiserver
# (tests/e2e/apiserver.sh install). Exit status 0 when every figure was
# measured, 1 when something failed (what was measured is still printed),
# 2 on bad usage or missing tools.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 BUILD_DIR [TOOLS_DIR]" >&2
    exit 2
fi
BUILD_DIR=$(cd "$1" && pwd)
TOOLS=${2:-$BUILD_DIR/tests/bench/agent}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../../.." && pwd)
APISERVER=$TOP/tests/e2e/apiserver.sh
HNP=$BUILD_DIR/hnsnetpol
GEN=$BUILD_DIR/tests/bench/hnp-gen-cluster
PREP=$TOOLS/hnp-load-prep

RUNS=${HNP_BENCH_RUNS:-3}
PODS=${HNP_BENCH_PODS:-20000}
NAMESPACES=${HNP_BENCH_NAMESPACES:-$((PODS / 10))}
POLICIES=${HNP_BENCH_POLICIES:-500}
RSS_POLICIES=${HNP_BENCH_RSS_POLICIES:-1000}
RSS_RUNS=${HNP_BENCH_RSS_RUNS:-1}
RSS_AGENTS=${HNP_BENCH_RSS_AGENTS:-$HNP}
AGENTS=${HNP_BENCH_AGENTS:-$HNP}
LOCAL=${HNP_BENCH_LOCAL:-110}
LATENCY=${HNP_BENCH_LATENCY_MS:-50}
PARALLEL=${HNP_BENCH_PARALLEL:-16}
SEED=${HNP_BENCH_SEED:-1}
TIMEOUT=${HNP_BENCH_TIMEOUT:-600}
KNOBS=${HNP_BENCH_KNOBS-"500 500+trim 100 50"}
NODE=node-1
LOCAL_NS=bench-local
LOCAL_POLICIES=3 # default-deny-all, allow-frontends, allow-dns-and-same-ns

for tool in "$HNP" "$GEN" "$PREP"; do
    [ -x "$tool" ] || {
        echo "$0: $tool is missing; build hnsnetpol and the bench tools first" >&2
        exit 2
    }
done
for tool in curl jq flock date awk; do
    command -v "$tool" >/dev/null || {
        echo "$0: $tool is needed" >&2
        exit 2
    }
done
curl --version | grep -q HTTP2 || echo "$0: warning: curl without HTTP/2; loading will be slower" >&2
if [ "$LOCAL" -lt 1 ] || [ "$LOCAL" -gt 2500 ]; then
    echo "$0: HNP_BENCH_LOCAL must be 1..2500" >&2
    exit 2
fi

OUT=$BUILD_DIR/bench-agent
WORK=$OUT/work
RESULTS=$OUT/results.md
API_DIR=$WORK/api
STATE=$WORK/hns.json
rm -rf "$WORK"
mkdir -p "$WORK"
: >"$RESULTS"
export LC_ALL=C
FAILED=0
AGENT_PID=

say() { printf '%s\n' "$*" | tee -a "$RESULTS"; }
note() { printf '   %s\n' "$*" >&2; }
die() {
    echo "$0: ERROR: $*" >&2
    exit 1
}

now_ms() {
    local t=${EPOCHREALTIME/./}
    echo $((t / 1000))
}
# log_ms LINE: the time of an agent log line, in ms since the epoch.
log_ms() { date -u -d "${1%% *}" +%s%3N; }
# secs MS: "12.345"
secs() { awk -v m="$1" 'BEGIN { printf "%.3f", m / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    set +e
    if [ -n "$AGENT_PID" ] && kill -0 "$AGENT_PID" 2>/dev/null; then
        kill -TERM "$AGENT_PID"
        wait "$AGENT_PID" 2>/dev/null
    fi
    "$APISERVER" stop "$API_DIR" >/dev/null 2>&1
    if [ "${HNP_BENCH_KEEP:-0}" = 1 ]; then
        echo "kept $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
set -o errtrace
trap 'echo "$0: unexpected failure (status $?) at line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT TERM HUP

# ---------------------------------------------------------------- the machine

say "# hnsnetpol agent benchmarks"
say ""
say "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "- machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)"
say "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
say "- hnsnetpol: $("$HNP" --version 2>/dev/null | head -n 1 || echo unknown) ($HNP)"
say "- cluster: $PODS pods ($LOCAL on $NODE in $LOCAL_NS), $NAMESPACES namespaces, $POLICIES policies ($LOCAL_POLICIES in $LOCAL_NS), seed $SEED"
say "- mock HNS: modify latency $LATENCY ms; $LOCAL local endpoints"
say ""

# ---------------------------------------------------------------- objects

GEN_PODS=$((PODS - LOCAL))
note "generating the cluster ($GEN_PODS pods, $NAMESPACES namespaces, $((POLICIES - LOCAL_POLICIES)) + $((RSS_POLICIES - LOCAL_POLICIES)) policies) ..."
"$GEN" --pods "$GEN_PODS" --namespaces "$NAMESPACES" --policies $((POLICIES - LOCAL_POLICIES)) \
    --seed "$SEED" --no-managed-fields -o "$WORK/cluster.json"
if [ "$RSS_POLICIES" -gt 0 ]; then
    # Same seed, pods and namespaces: only the policies differ (they are generated last).
    "$GEN" --pods "$GEN_PODS" --namespaces "$NAMESPACES" --policies $((RSS_POLICIES - LOCAL_POLICIES)) \
        --seed "$SEED" --no-managed-fields -o "$WORK/cluster-rss.json"
fi

# ip_of I: the IP of local pod I (0-based): 10.250.X.Y, Y in 2..251.
ip_of() { echo "10.250.$(($1 / 250)).$(($1 % 250 + 2))"; }

# allow_frontends PORTS_JSON: the policy that (b) edits. It selects every
# pod of the namespace: ingress from the frontends of the payments team's
# namespaces and from the namespace's own web pods.
allow_frontends() {
    jq -n --argjson ports "$1" '{
        apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy",
        metadata: {name: "allow-frontends", namespace: "bench-local"},
        spec: {podSelector: {}, policyTypes: ["Ingress"],
               ingress: [{from: [{namespaceSelector: {matchLabels: {team: "payments"}},
                                  podSelector: {matchLabels: {tier: "frontend"}}},
                                 {podSelector: {matchLabels: {app: "web"}}}],
                          ports: [$ports[] | {protocol: "TCP", port: .}]}]}}'
}
PORTS_A='[80,443]'
PORTS_B='[80,443,8443]'

# The local namespace, its pods (half app=web tier=frontend, half app=api
# tier=backend) with the status a kubelet would report, and its policies.
{
    jq -n --arg ns "$LOCAL_NS" '{apiVersion: "v1", kind: "Namespace",
        metadata: {name: $ns, labels: {"kubernetes.io/metadata.name": $ns, team: "bench", env: "prod"}}}'
    for ((i = 0; i < LOCAL; i++)); do
        if ((i % 2 == 0)); then app=web tier=frontend port=80; else app=api tier=backend port=8080; fi
        jq -n --arg ns "$LOCAL_NS" --arg name "$(printf '%s-%04d' $app "$i")" --arg app $app \
            --arg tier $tier --argjson port $port --arg node "$NODE" --arg ip "$(ip_of "$i")" '{
            apiVersion: "v1", kind: "Pod",
            metadata: {name: $name, namespace: $ns, labels: {app: $app, tier: $tier}},
            spec: {nodeName: $node, nodeSelector: {"kubernetes.io/os": "windows"},
                   containers: [{name: $app, image: "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022",
                                 ports: [{name: "http", containerPort: $port, protocol: "TCP"}]}]},
            status: {phase: "Running", hostIP: "10.250.255.1", podIP: $ip, podIPs: [{ip: $ip}]}}'
    done
    jq -n --arg ns "$LOCAL_NS" '{apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy",
        metadata: {name: "default-deny-all", namespace: $ns},
        spec: {podSelector: {}, policyTypes: ["Ingress", "Egress"]}}'
    allow_frontends "$PORTS_A"
    jq -n --arg ns "$LOCAL_NS" '{apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy",
        metadata: {name: "allow-dns-and-same-ns", namespace: $ns},
        spec: {podSelector: {}, policyTypes: ["Egress"],
               egress: [{to: [{namespaceSelector: {matchLabels: {"kubernetes.io/metadata.name": "kube-system"}},
                               podSelector: {matchLabels: {"k8s-app": "kube-dns"}}}],
                         ports: [{protocol: "UDP", port: 53}, {protocol: "TCP", port: 53}]},
                        {to: [{podSelector: {}}]}]}}'
} | jq -s '{apiVersion: "v1", kind: "List", items: .}' >"$WORK/local.json"

# ---------------------------------------------------------------- API server

note "starting etcd and kube-apiserver ..."
HNP_E2E_OWNER_PID=$$ HNP_E2E_MAX_LIFETIME=${HNP_E2E_MAX_LIFETIME:-14400} \
    "$APISERVER" start "$API_DIR" >"$WORK/apiserver-start.log" 2>&1 || {
    cat "$WORK/apiserver-start.log" >&2
    die "tests/e2e/apiserver.sh start failed (tests/e2e/apiserver.sh install first)"
}
# shellcheck disable=SC1091
. "$API_DIR/env"
note "API server $HNP_APISERVER_VERSION at $HNP_APISERVER_URL"

for what in cluster local cluster-rss; do
    [ -s "$WORK/$what.json" ] || continue
    mkdir -p "$WORK/load-$what"
    extra=()
    [ "$what" = cluster-rss ] && extra=(--only-policies)
    "$PREP" --server "$HNP_APISERVER_URL" --cacert "$HNP_CA_FILE" --token-file "$API_DIR/admin.token" \
        --out "$WORK/load-$what" "${extra[@]}" "$WORK/$what.json" 2>"$WORK/load-$what/prep.log" ||
        die "hnp-load-prep $what.json failed: $(cat "$WORK/load-$what/prep.log")"
done

# load NAME OK_RE CONFIG...: run the requests of the curl configs, PARALLEL
# at a time; print a table row (requests, seconds, requests/s); fail on any
# answer whose status does not match OK_RE.
load() {
    local name=$1 okre=$2 t0 ms n bad out=$WORK/load-${1//[^a-z0-9]/_}.out
    shift 2
    t0=$(now_ms)
    : >"$out"
    local cfg
    for cfg in "$@"; do
        curl --no-progress-meter --parallel --parallel-max "$PARALLEL" --config "$cfg" >>"$out" 2>>"$out.err" || true
    done
    ms=$(($(now_ms) - t0))
    n=$(wc -l <"$out")
    bad=$(awk -v re="$okre" '$1 !~ re' "$out" | wc -l)
    say "| $name | $n | $(secs "$ms") | $(awk -v n="$n" -v m="$ms" 'BEGIN { printf "%.0f", m ? n * 1000 / m : 0 }') |"
    if [ "$bad" -gt 0 ] || [ -s "$out.err" ]; then
        awk -v re="$okre" '$1 !~ re' "$out" | head -n 5 >&2
        head -n 5 "$out.err" >&2
        die "$name: $bad requests failed"
    fi
}

# count PATH: how many objects a LIST of PATH has.
count() {
    curl -sS --cacert "$HNP_CA_FILE" -H "Authorization: Bearer $HNP_ADMIN_TOKEN" "$HNP_APISERVER_URL$1?limit=1" |
        jq '(.metadata.remainingItemCount // 0) + (.items | length)'
}

say "## Loading the API server"
say ""
say "curl $(curl --version | head -n 1 | cut -d' ' -f2) --parallel, $PARALLEL requests in flight, one HTTP/2 connection"
say ""
say "| step | requests | seconds | requests/s |"
say "|---|---|---|---|"
# kube-system and default exist already: 409 for those two.
load "namespaces" '^(2..|409)$' "$WORK/load-cluster/namespaces.curl" "$WORK/load-local/namespaces.curl"
load "pods (POST)" '^2' "$WORK/load-cluster/pods.curl" "$WORK/load-local/pods.curl"
load "pod status (PATCH /status)" '^2' "$WORK/load-cluster/pod-status.curl" "$WORK/load-local/pod-status.curl"
load "networkpolicies" '^2' "$WORK/load-cluster/policies.curl" "$WORK/load-local/policies.curl"
n_pods=$(count /api/v1/pods)
n_ns=$(count /api/v1/namespaces)
n_pol=$(count /apis/networking.k8s.io/v1/networkpolicies)
say ""
say "In the API server: $n_pods pods, $n_ns namespaces (default, kube-system, kube-public, kube-node-lease among them), $n_pol networkpolicies."
say ""
if [ "$n_pods" != "$PODS" ] || [ "$n_pol" != "$POLICIES" ]; then
    die "expected $PODS pods and $POLICIES policies"
fi


# ---------------------------------------------------------------- the mock HNS and the agent

# fresh_state: LOCAL endpoints with the local pods' IPs and an OutBoundNAT,
# no ACLs, call counts 0; then the modify latency through hns-mock.
fresh_state() {
    rm -f "$STATE" "$STATE.lock"
    jq -n --argjson n "$LOCAL" '{
        endpoints: [range(0; $n) as $i | {
            ID: ("6f8a1b2c-0000-4000-8000-" + ("000000000000" + ($i + 1 | tostring) | .[-12:])),
            Name: "bench-\($i)", State: 3,
            IpConfigurations: [{IpAddress: "10.250.\($i / 250 | floor).\($i % 250 + 2)", PrefixLength: 24}],
            Policies: [{Type: "OutBoundNAT", Settings: {Exceptions: ["10.0.0.0/8", "10.250.0.0/16"]}}]}],
        calls: {list: 0, query: 0, modify: 0}}' >"$STATE"
    # The IDs above are decimal digits; endpoint_id is only used for messages.
    "$HNP" hns-mock "$STATE" fault --operation modify --latency-ms "$LATENCY" >/dev/null
}

mock_calls() { "$HNP" hns-mock "$STATE" calls | awk -v op="$1" '$1 == op { print $2 }'; }

# agent_start LOG [BINARY]: start the agent (BINARY, default $HNP); sets
# AGENT_PID and AGENT_T0 (ms).
agent_start() {
    AGENT_LOG=$1
    AGENT_T0=$(now_ms)
    "${2:-$HNP}" run --kubeconfig "$HNP_AGENT_KUBECONFIG" --node-name "$NODE" --hns "mock:$STATE" \
        --metrics-addr 127.0.0.1:0 --log-level debug </dev/null >"$AGENT_LOG" 2>&1 &
    AGENT_PID=$!
    rss_trace "$AGENT_PID" "$AGENT_LOG.rss"
}

# rss_trace PID FILE: "MS VmRSS VmHWM" (MB) every 50 ms while PID lives, in
# the background; it ends with the process.
rss_trace() {
    local pid=$1 file=$2 line
    : >"$file"
    (
        while line=$(rss "$pid" 2>/dev/null); do
            echo "$(now_ms) $line" >>"$file"
            sleep 0.05
        done
    ) &
}

# peak_at FILE T0 HWM: seconds from T0 to the first sample of FILE with VmHWM >= HWM.
peak_at() {
    awk -v t0="$2" -v hwm="$3" '$3 >= hwm { printf "%.1f", ($1 - t0) / 1000; found = 1; exit }
        END { if (!found) print "-" }' "$1"
}

agent_stop() {
    kill -TERM "$AGENT_PID"
    local rc=0
    wait "$AGENT_PID" || rc=$?
    AGENT_PID=
    [ "$rc" = 0 ] || {
        note "the agent exited with status $rc"
        FAILED=1
    }
}

# updates_after LINE: the "endpoint ACLs updated" lines of the log after line LINE.
updates_after() { tail -n +$(($1 + 1)) "$AGENT_LOG" | grep ' endpoint ACLs updated ' || true; }

# wait_updates LINE N: wait until N Updates were logged after line LINE, then
# 3 s more (a straggler would show); false after TIMEOUT s.
wait_updates() {
    local from=$1 want=$2 t0 n
    t0=$(now_ms)
    while :; do
        kill -0 "$AGENT_PID" 2>/dev/null || {
            tail -n 20 "$AGENT_LOG" >&2
            die "the agent died"
        }
        n=$(updates_after "$from" | wc -l)
        [ "$n" -ge "$want" ] && break
        if [ $(($(now_ms) - t0)) -ge $((TIMEOUT * 1000)) ]; then
            note "only $n of $want Updates after $TIMEOUT s"
            FAILED=1
            return 1
        fi
        sleep 0.2
    done
    sleep 3
}

# rss PID: "VmRSS VmHWM" in MB; fails when PID is gone.
rss() {
    [ -r "/proc/$1/status" ] &&
        awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { if (!h) exit 1; printf "%.1f %.1f\n", r / 1024, h / 1024 }' "/proc/$1/status"
}

# cpu_s PID: user + system CPU seconds the process has used so far.
cpu_s() {
    local stat
    stat=$(cat "/proc/$1/stat")
    # shellcheck disable=SC2086 # split into fields on purpose
    set -- ${stat##*) }
    awk -v u="${12}" -v s="${13}" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f\n", (u + s) / hz }'
}

# list_pages PATH LIMIT: GET every page of PATH as the agent's reflector
# does (limit, then continue), bodies discarded; prints "PAGES MS MBYTES".
# One curl process (and TLS handshake) per page.
list_pages() {
    local path=$1 limit=$2 cont="" pages=0 bytes=0 t0 url size
    t0=$(now_ms)
    while :; do
        url="$HNP_APISERVER_URL$path?limit=$limit"
        [ -n "$cont" ] && url+="&continue=$(jq -rn --arg c "$cont" '$c | @uri')"
        # Not curl's own User-Agent: the API server pretty-prints for curl.
        size=$(curl -sS -A hnp-bench --cacert "$HNP_CA_FILE" -H "Authorization: Bearer $HNP_ADMIN_TOKEN" \
            -o "$WORK/page.json" -w '%{size_download}' "$url")
        pages=$((pages + 1))
        bytes=$((bytes + size))
        cont=$(head -c 4000 "$WORK/page.json" | grep -o '"continue": *"[^"]*"' | cut -d'"' -f4 || true)
        [ -n "$cont" ] || break
    done
    echo "$pages $(($(now_ms) - t0)) $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')"
}

# first_line PATTERN [FROM]: the first log line matching PATTERN after line FROM.
first_line() { tail -n +$((${2:-0} + 1)) "$AGENT_LOG" | grep -m 1 -- "$1" || true; }

# update_stats FROM: "N DISTINCT FIRST_MS LAST_MS SUM_SECONDS MAX_SECONDS" of the Updates after line FROM.
update_stats() {
    local lines first last
    lines=$(updates_after "$1")
    [ -n "$lines" ] || {
        echo "0 0 0 0 0 0"
        return
    }
    first=$(log_ms "$(head -n 1 <<<"$lines")")
    last=$(log_ms "$(tail -n 1 <<<"$lines")")
    awk -v first="$first" -v last="$last" '{
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^endpoint=/) seen[$i] = 1
                if ($i ~ /^seconds=/) { s = substr($i, 9) + 0; sum += s; if (s > max) max = s }
            }
            n++
        }
        END { d = 0; for (k in seen) d++; printf "%d %d %s %s %.3f %.3f\n", n, d, first, last, sum, max }' <<<"$lines"
}

# list_once PATH QUERY: one GET of PATH?QUERY, body kept in $WORK/once.json;
# prints "MS MBYTES ITEMS CONTINUE" (CONTINUE: yes when metadata.continue is set).
list_once() {
    local t0 ms size items cont
    t0=$(now_ms)
    size=$(curl -sS -A hnp-bench --cacert "$HNP_CA_FILE" -H "Authorization: Bearer $HNP_ADMIN_TOKEN" \
        -o "$WORK/once.json" -w '%{size_download}' "$HNP_APISERVER_URL$1?$2")
    ms=$(($(now_ms) - t0))
    items=$(jq '.items | length' "$WORK/once.json")
    cont=no
    head -c 4000 "$WORK/once.json" | grep -q '"continue": *"[^"]' && cont=yes
    rm -f "$WORK/once.json"
    echo "$ms $(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1e6 }') $items $cont"
}

say "What the agent's initial LIST of pods costs the API server alone, curl, bodies discarded, the three ways taking turns: (paged) every page of limit 500, following continue (a consistent list, read from etcd; what the agent does); (rv0) one GET with resourceVersion=0 (served from the API server's watch cache, as client-go's first LIST); (rv0+limit) resourceVersion=0&limit=500 (client-go's exact request). One curl process, so one TLS handshake, per request."
say ""
say "| try | list | requests | seconds | MB | items in the first response | continue set |"
say "|---|---|---|---|---|---|---|"
for ((try = 1; try <= ${HNP_BENCH_LIST_RUNS:-3}; try++)); do
    read -r pages ms mb < <(list_pages /api/v1/pods 500)
    say "| $try | paged | $pages | $(secs "$ms") | $mb | 500 | yes |"
    read -r ms mb items cont < <(list_once /api/v1/pods resourceVersion=0)
    say "| $try | rv0 | 1 | $(secs "$ms") | $mb | $items | $cont |"
    read -r ms mb items cont < <(list_once /api/v1/pods 'resourceVersion=0&limit=500')
    say "| $try | rv0+limit | 1 | $(secs "$ms") | $mb | $items | $cont |"
done
say ""

# HNP_BENCH_PAUSE=FILE: wait here while FILE exists, the server loaded (its
# env in $API_DIR/env), to use it by hand or build another agent meanwhile.
if [ -n "${HNP_BENCH_PAUSE:-}" ]; then
    cp "$API_DIR/env" "$OUT/api.env"
    note "paused while $HNP_BENCH_PAUSE exists (server env in $OUT/api.env)"
    while [ -e "$HNP_BENCH_PAUSE" ]; do sleep 2; done
fi

FLOOR_MS=$((LOCAL * LATENCY))
ROWS_A=()
ROWS_B=()
DETAIL=()

# Several agents (HNP_BENCH_AGENTS) take turns within each run, so that each
# sees the same server and a similar share of the machine.
turn=0
for ((run = 1; run <= RUNS; run++)); do
    for agent in $AGENTS; do
        turn=$((turn + 1))
        tag=$(basename "$(dirname "$agent")")
        note "run $run of $RUNS ($agent): initial sync ..."
        fresh_state
        agent_start "$WORK/agent-$run-$tag.log" "$agent"
        if wait_updates 0 "$LOCAL"; then
            read -r n d first last sum max < <(update_stats 0)
            modify=$(mock_calls modify)
            total=$((last - AGENT_T0))
            synced=$(log_ms "$(first_line 'initial sync done')")
            listed=$(log_ms "$(first_line 'initial list done resource=pods')")
            read -r vmrss vmhwm < <(rss "$AGENT_PID")
            cpu=$(cpu_s "$AGENT_PID")
            ROWS_A+=("| $run | $tag | $(secs "$total") | $(secs "$FLOOR_MS") | $(ratio "$total" "$FLOOR_MS") | $(secs $((last - synced))) | $(ratio $((last - synced)) "$FLOOR_MS") | $modify | $d | $(secs $((synced - AGENT_T0))) | $sum | $max |")
            DETAIL+=("run $run $tag (a): agent start -> pods listed $(secs $((listed - AGENT_T0))) s -> initial sync done $(secs $((synced - AGENT_T0))) s -> first Update $(secs $((first - AGENT_T0))) s -> last Update $(secs "$total") s; agent CPU so far $cpu s; VmRSS $vmrss MB, VmHWM $vmhwm MB")
        else
            ROWS_A+=("| $run | $tag | failed | | | | | $(mock_calls modify) | | | | |")
        fi

        note "run $run of $RUNS ($agent): policy change ..."
        if ((turn % 2 == 1)); then ports=$PORTS_B; else ports=$PORTS_A; fi
        before=$(mock_calls modify)
        from=$(wc -l <"$AGENT_LOG")
        t0=$(now_ms)
        code=$(allow_frontends "$ports" | curl -sS -o "$WORK/patch.out" -w '%{http_code}' --cacert "$HNP_CA_FILE" \
            -H "Authorization: Bearer $HNP_ADMIN_TOKEN" -H 'Content-Type: application/merge-patch+json' \
            -X PATCH --data-binary @- \
            "$HNP_APISERVER_URL/apis/networking.k8s.io/v1/namespaces/$LOCAL_NS/networkpolicies/allow-frontends")
        [ "$code" = 200 ] || die "PATCH allow-frontends: HTTP $code: $(head -c 300 "$WORK/patch.out")"
        if wait_updates "$from" "$LOCAL"; then
            read -r n d first last sum max < <(update_stats "$from")
            modify=$(($(mock_calls modify) - before))
            total=$((last - t0))
            seen=$(log_ms "$(first_line 'object updated kind=NetworkPolicy' "$from")")
            ROWS_B+=("| $run | $tag | ports $ports | $(secs "$total") | $(secs "$FLOOR_MS") | $(ratio "$total" "$FLOOR_MS") | $modify | $d | $(secs $((seen - t0))) | $(secs $((first - t0))) | $sum | $max |")
        else
            ROWS_B+=("| $run | $tag | ports $ports | failed | | | $(($(mock_calls modify) - before)) | | | | | |")
        fi
        agent_stop
    done
done

say "## Convergence: $LOCAL local endpoints, modify latency $LATENCY ms, $PODS pods, $POLICIES policies"
say ""
say "Floor: $LOCAL endpoints changed x $LATENCY ms = $(secs "$FLOOR_MS") s (HNS calls are sequential). Target: <= 1.2 x floor, exactly one modify per changed endpoint."
say ""
say "### (a) agent start -> last Update of the initial sync"
say ""
say "| run | agent | start -> last Update s | floor s | ratio | sync done -> last Update s | ratio | modify calls | endpoints updated | start -> sync done s | sum of modify s | max modify s |"
say "|---|---|---|---|---|---|---|---|---|---|---|---|"
for r in "${ROWS_A[@]}"; do say "$r"; done
say ""
for r in "${DETAIL[@]}"; do say "- $r"; done
say ""
say "### (b) one policy change (bench-local/allow-frontends, selects all $LOCAL pods) -> its last Update"
say ""
say "| run | agent | change | PATCH -> last Update s | floor s | ratio | modify calls | endpoints updated | PATCH -> agent applied s | PATCH -> first Update s | sum of modify s | max modify s |"
say "|---|---|---|---|---|---|---|---|---|---|---|---|"
for r in "${ROWS_B[@]}"; do say "$r"; done
say ""

# ---------------------------------------------------------------- RSS at RSS_POLICIES

if [ "$RSS_POLICIES" -gt 0 ]; then
    note "replacing the $((POLICIES - LOCAL_POLICIES)) generated policies by $((RSS_POLICIES - LOCAL_POLICIES)) ..."
    say "## RSS after the initial sync: $PODS pods, $RSS_POLICIES policies"
    say ""
    say "| step | requests | seconds | requests/s |"
    say "|---|---|---|---|"
    load "delete $((POLICIES - LOCAL_POLICIES)) policies" '^2' "$WORK/load-cluster/policies-delete.curl"
    load "create $((RSS_POLICIES - LOCAL_POLICIES)) policies" '^2' "$WORK/load-cluster-rss/policies.curl"
    n_pol=$(count /apis/networking.k8s.io/v1/networkpolicies)
    say ""
    [ "$n_pol" = "$RSS_POLICIES" ] || die "expected $RSS_POLICIES policies, the API server has $n_pol"
    say "Peak at: when VmHWM reached its final value (from /proc/PID/status read every 50 ms), against when the pods were listed and the initial sync was done (agent log), seconds from the agent's start."
    say ""
    say "| agent | policies | VmRSS MB after sync | VmHWM MB | VmRSS MB 5 s later | target | start -> last Update s | modify calls | agent CPU s | peak at s | pods listed at s | sync done at s |"
    say "|---|---|---|---|---|---|---|---|---|---|---|---|"
    # Several binaries take turns, round after round, so that each sees the
    # same server and a similar share of the machine.
    for ((round = 1; round <= RSS_RUNS; round++)); do
        for agent in $RSS_AGENTS; do
            fresh_state
            agent_start "$WORK/agent-rss-$round-$(basename "$(dirname "$agent")").log" "$agent"
            if wait_updates 0 "$LOCAL"; then
                read -r n d first last sum max < <(update_stats 0)
                read -r vmrss vmhwm < <(rss "$AGENT_PID")
                sleep 5
                read -r vmrss2 _ < <(rss "$AGENT_PID")
                synced=$(log_ms "$(first_line 'initial sync done')")
                listed=$(log_ms "$(first_line 'initial list done resource=pods')")
                say "| $agent | $n_pol | $vmrss | $vmhwm | $vmrss2 | < 64 MB | $(secs $((last - AGENT_T0))) | $(mock_calls modify) | $(cpu_s "$AGENT_PID") | $(peak_at "$AGENT_LOG.rss" "$AGENT_T0" "$vmhwm") | $(secs $((listed - AGENT_T0))) | $(secs $((synced - AGENT_T0))) |"
            else
                say "| $agent | $n_pol | failed: the initial sync did not finish | | | | | | | | | |"
            fi
            agent_stop
        done
    done
    say ""

    # What the RSS is made of: the same start with hnp-agent-knobs, other
    # LIST page sizes and/or a malloc_trim(0) once the initial lists are in.
    if [ -n "$KNOBS" ] && [ -x "$TOOLS/hnp-agent-knobs" ]; then
        say "### The same with hnp-agent-knobs (LIST page size, malloc_trim after the lists)"
        say ""
        say "Each setting 3 times, in turn (the RSS varies from run to run: it depends on how far the controller lags behind the pods reflector while the initial list is delivered)."
        say ""
        say "| page limit | malloc_trim | VmRSS MB after sync | VmHWM MB | start -> last Update s | modify calls | agent CPU s |"
        say "|---|---|---|---|---|---|---|"
        for knob in $KNOBS $KNOBS $KNOBS; do
            limit=${knob%%+*}
            trim=()
            [ "$knob" != "$limit" ] && trim=(--trim)
            fresh_state
            AGENT_LOG=$WORK/agent-knobs-$knob.log
            [ -e "$AGENT_LOG" ] && AGENT_LOG=$WORK/agent-knobs-$knob-$(now_ms).log
            AGENT_T0=$(now_ms)
            "$TOOLS/hnp-agent-knobs" --kubeconfig "$HNP_AGENT_KUBECONFIG" --node-name "$NODE" \
                --hns "mock:$STATE" --page-limit "$limit" "${trim[@]}" --log-level debug \
                </dev/null >"$AGENT_LOG" 2>&1 &
            AGENT_PID=$!
            if wait_updates 0 "$LOCAL"; then
                read -r n d first last sum max < <(update_stats 0)
                read -r vmrss vmhwm < <(rss "$AGENT_PID")
                say "| $limit | ${trim[*]:+yes} | $vmrss | $vmhwm | $(secs $((last - AGENT_T0))) | $(mock_calls modify) | $(cpu_s "$AGENT_PID") |"
            else
                say "| $limit | ${trim[*]:+yes} | failed | | | | |"
            fi
            agent_stop
        done
        say ""
    fi
fi

say "- load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$FAILED" != 0 ]; then
    say "- SOME MEASUREMENTS FAILED (see above)"
fi
if [ "${HNP_BENCH_KEEP:-0}" = 1 ]; then
    cp "$WORK"/agent-*.log* "$OUT/" 2>/dev/null || true
fi
exit "$FAILED"
