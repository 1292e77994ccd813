#!/usr/bin/env bash
# The Azure walkthrough "secure traffic between pods with network policies",
# live: a real kube-apiserver (1.20.2) and etcd on 127.0.0.1, the agent
# (`hnsnetpol run`) watching them for node akswin22000001 with the mock HNS
# (docs/mock-hns.md) standing in for the Windows Host Network Service.
#
#   namespace demo, pods server (app=server) and client (run=client)
#   kubectl apply -f demo-policy.yaml   -> client -> server denied
#   kubectl label pod client app=client -> allowed
#   a policy Windows cannot enforce     -> rejected, with an Event
#
# At each step it shows the server endpoint's ACLs as the agent wrote them
# into HNS and `hnsnetpol explain` over the objects read back from the API
# server. Everything it starts is stopped when it ends (also on Ctrl-C).
#
# The first run on a machine installs packages (root or sudo) and builds
# kube-apiserver from Debian's source package: 4 to 10 minutes. Later runs
# take about 20 seconds. HNP_DEMO_PAUSE=1 waits for Enter between steps;
# HNP_DEMO_KEEP=1 keeps the work directory (logs, state file, objects);
# HNP_BIN=PATH uses that hnsnetpol program instead of building the release
# preset.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
cmd() { printf '\033[2m$ %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
pause() { if [ "${HNP_DEMO_PAUSE:-0}" = 1 ]; then read -r -p "   (Enter for the next step) " _ </dev/tty; fi; }
die() {
    echo "demo-live: $*" >&2
    exit 1
}

# ---------------------------------------------------------------- set-up

"$top/packaging/install-deps.sh"
if ! command -v jq >/dev/null; then
    echo "demo-live: installing jq"
    sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends jq >/dev/null
fi
cache=${HNP_CACHE_DIR:-/var/cache/hnsnetpol}/kube-apiserver-1.20.2/kube-apiserver
if [ ! -x "$cache" ]; then
    echo "demo-live: kube-apiserver 1.20.2 is not built yet on this machine: building it from"
    echo "demo-live: Debian's source package now (once; 4 to 10 minutes, 1.6 GB of temporary space)"
fi
"$top/tests/e2e/apiserver.sh" install >/dev/null
if [ -n "${HNP_BIN:-}" ]; then
    hnp=$HNP_BIN # a program built elsewhere (tests, other presets)
else
    cmake --preset release >/dev/null
    cmake --build --preset release -j "$(nproc)" --target hnsnetpol >/dev/null
    hnp=$top/build/release/hnsnetpol
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/hnsnetpol-demo.XXXXXX")
state=$work/hns.json
agent_log=$work/agent.log
agent_pid=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
        kill -TERM "$agent_pid"
        wait "$agent_pid"
    fi
    "$top/tests/e2e/apiserver.sh" stop "$work/api" >/dev/null 2>&1
    if [ "$rc" != 0 ] && [ "$interrupted" = 0 ] && [ -s "$agent_log" ]; then
        echo "--- the agent's log, last 30 lines"
        tail -n 30 "$agent_log"
    fi
    if [ "${HNP_DEMO_KEEP:-0}" = 1 ] || { [ "$rc" != 0 ] && [ "$interrupted" = 0 ]; }; then
        echo "demo-live: files kept in $work"
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
interrupted=0
trap cleanup EXIT
trap 'interrupted=1; exit 130' INT TERM

NODE=akswin22000001
HOST_IP=10.224.0.4
SERVER_IP=10.224.0.72
CLIENT_IP=10.224.0.45
EP_SERVER=5f2b0c1e-3d4a-4c1b-9a8e-0000000000a1
EP_CLIENT=5f2b0c1e-3d4a-4c1b-9a8e-0000000000a2
NAT='{"Type":"OutBoundNAT","Settings":{"Exceptions":["10.224.0.0/12"]}}'

# kube METHOD PATH [CONTENT_TYPE] < BODY: a request as the cluster admin;
# the response in $work/response.json, anything but 2xx is fatal.
kube() {
    local -a args=(-X "$1")
    [ -n "${3:-}" ] && args+=(-H "Content-Type: $3" --data-binary @-)
    local code
    code=$(curl -sS --max-time 30 --cacert "$HNP_CA_FILE" -H "Authorization: Bearer $HNP_ADMIN_TOKEN" \
        "${args[@]}" -o "$work/response.json" -w '%{http_code}' "$HNP_APISERVER_URL$2")
    case "$code" in 2??) ;; *) die "$1 $2: HTTP $code: $(head -c 400 "$work/response.json")" ;; esac
}

# server_acls: the ACLs of ours on the server's endpoint, as JSON.
server_acls() { "$hnp" hns-mock "$state" acls --id "$EP_SERVER"; }

# wait_acls JQ_TEST: until the server's ACLs pass the jq test (at most 20 s).
wait_acls() {
    local i
    for ((i = 0; i < 200; i++)); do
        server_acls | jq -e "$1" >/dev/null && return 0
        kill -0 "$agent_pid" 2>/dev/null || die "the agent has stopped"
        sleep 0.1
    done
    die "the server's ACLs did not become as expected within 20 s"
}

# show_acls: the server endpoint's ACLs (and the client's, which stay empty).
show_acls() {
    cmd "hnsnetpol hns-mock hns.json acls --id $EP_SERVER     # the server endpoint's ACLs of ours"
    server_acls
    cmd "hnsnetpol hns-mock hns.json acls --id $EP_CLIENT     # the client's"
    "$hnp" hns-mock "$state" acls --id "$EP_CLIENT"
}

# show_explain: `hnsnetpol explain` over what the API server holds now,
# fetched with curl (the API's List items carry no kind; jq adds it, as
# kubectl does).
show_explain() {
    local what path kind api name
    for what in namespaces:/api/v1/namespaces:Namespace:v1 pods:/api/v1/namespaces/demo/pods:Pod:v1 \
        networkpolicies:/apis/networking.k8s.io/v1/namespaces/demo/networkpolicies:NetworkPolicy:networking.k8s.io/v1; do
        IFS=: read -r name path kind api <<<"$what"
        kube GET "$path"
        jq --arg k "$kind" --arg a "$api" '.items |= map({kind: $k, apiVersion: $a} + .)' \
            "$work/response.json" >"$work/$name.json"
    done
    # An empty List is refused ("no Kubernetes objects"): leave it out.
    local -a files=(namespaces.json pods.json)
    [ "$(jq '.items | length' "$work/networkpolicies.json")" -gt 0 ] && files+=(networkpolicies.json)
    cmd "curl \$API/api/v1/namespaces ... > ${files[*]}"
    cmd "hnsnetpol explain --from demo/client --to demo/server --port 80 ${files[*]}"
    (cd "$work" && "$hnp" explain --from demo/client --to demo/server --port 80 "${files[@]}") || true
}

# agent_says SINCE_LINE: the agent's INFO/WARN lines since then.
agent_says() {
    note "the agent's log:"
    tail -n +"$(($1 + 1))" "$agent_log" | grep -E ' (INFO|WARN|ERROR) ' | grep -Ev 'watch: listed|initial list done' |
        sed 's/^/     /' || true
}

# ---------------------------------------------------------------- the demo

bold "0. A local Kubernetes API server and the agent"
cmd "tests/e2e/apiserver.sh start   # etcd + kube-apiserver 1.20.2 on 127.0.0.1, RBAC on"
HNP_E2E_OWNER_PID=$$ "$top/tests/e2e/apiserver.sh" start "$work/api" 2>&1 | grep 'ready in' | sed 's/^/   /'
# shellcheck disable=SC1091
. "$work/api/env"
note "API server: $HNP_APISERVER_URL; the agent uses the RBAC-limited user $HNP_AGENT_USER"
note "(packaging/rbac.yaml: list and watch pods, namespaces, NetworkPolicies; create Events)"

cmd "hnsnetpol hns-mock hns.json add-endpoint ...   # the node's HNS endpoints, as the CNI made them"
"$hnp" hns-mock "$state" add-endpoint --id "$EP_SERVER" --ip "$SERVER_IP/24" --name server --policy "$NAT" >/dev/null
"$hnp" hns-mock "$state" add-endpoint --id "$EP_CLIENT" --ip "$CLIENT_IP/24" --name client --policy "$NAT" >/dev/null
note "server $EP_SERVER $SERVER_IP, client $EP_CLIENT $CLIENT_IP (each with an OutBoundNAT policy)"

cmd "hnsnetpol run --kubeconfig agent.kubeconfig --node-name $NODE --hns mock:hns.json &"
# setpriv --pdeathsig: should this script be killed outright, the agent stops too.
setpriv --pdeathsig TERM "$hnp" run --kubeconfig "$HNP_AGENT_KUBECONFIG" --node-name "$NODE" --hns "mock:$state" \
    --metrics-addr 127.0.0.1:0 --batch-interval 100ms --endpoint-poll-interval 500ms \
    </dev/null >"$agent_log" 2>&1 &
agent_pid=$!
# Its /metrics port (chosen by the system: 127.0.0.1:0), then its readiness.
port=
for ((i = 0; i < 200; i++)); do
    kill -0 "$agent_pid" 2>/dev/null || die "the agent did not start"
    port=$(ss -Htlnp 2>/dev/null | awk -v p="pid=$agent_pid," 'index($0, p) { n = split($4, a, ":"); print a[n]; exit }')
    [ -n "$port" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ] && break
    sleep 0.1
done
cmd "curl 127.0.0.1:$port/readyz"
curl -s "http://127.0.0.1:$port/readyz" | sed 's/^/   /'
echo
pause

bold "1. kubectl create namespace demo; kubectl run server ... ; kubectl run client ..."
lines=$(wc -l <"$agent_log")
cmd "kubectl apply -f docs/demo/cluster.yaml   # namespace demo, pods server (app=server) and client (run=client)"
"$top/tests/e2e/apiserver.sh" apply "$work/api" admin "$top/docs/demo/cluster.yaml" 2>&1 | sed 's/^apiserver.sh: /   /'
# The API server ignores the status in cluster.yaml; a kubelet would set it.
# Here a PATCH of /status gives each pod its IP.
for pod in server:$SERVER_IP client:$CLIENT_IP; do
    kube PATCH "/api/v1/namespaces/demo/pods/${pod%%:*}/status" application/merge-patch+json \
        <<<"{\"status\":{\"phase\":\"Running\",\"hostIP\":\"$HOST_IP\",\"podIP\":\"${pod#*:}\",\"podIPs\":[{\"ip\":\"${pod#*:}\"}]}}"
done
kube GET /api/v1/namespaces/demo/pods
cmd "kubectl get pods -n demo --show-labels -o wide"
jq -r '["NAME", "IP", "NODE", "LABELS"], (.items[] | [.metadata.name, .status.podIP, .spec.nodeName,
        (.metadata.labels | to_entries | map("\(.key)=\(.value)") | join(","))]) | @tsv' \
    "$work/response.json" | awk -F'\t' '{ printf "   %-8s %-13s %-16s %s\n", $1, $2, $3, $4 }'
for ((i = 0; i < 200; i++)); do
    curl -s "http://127.0.0.1:$port/metrics" | grep -q '^hnsnetpol_local_endpoints 2$' && break
    sleep 0.1
done
agent_says "$lines"
note "no NetworkPolicy yet: no ACL anywhere, everything is allowed"
show_acls
show_explain
pause

bold "2. kubectl apply -f docs/demo/demo-policy.yaml   # only app=client may reach app=server on TCP 80"
lines=$(wc -l <"$agent_log")
kube POST /apis/networking.k8s.io/v1/namespaces/demo/networkpolicies application/yaml <"$top/docs/demo/demo-policy.yaml"
wait_acls 'any(.[]; .Settings.Id == "hnp-isolate-in")'
agent_says "$lines"
note "the client is not labelled app=client yet: the server is isolated, nothing is allowed in"
note "but kubelet probes from the node ($HOST_IP); the client gets no ACL (no policy selects it)"
show_acls
show_explain
pause

bold "3. kubectl label pod client -n demo app=client"
lines=$(wc -l <"$agent_log")
kube PATCH /api/v1/namespaces/demo/pods/client application/merge-patch+json <<<'{"metadata":{"labels":{"app":"client"}}}'
wait_acls "any(.[]; .Settings.RemoteAddresses == \"$CLIENT_IP\")"
agent_says "$lines"
note "one HNS Update; the endpoint's OutBoundNAT stays first and unchanged:"
cmd "hnsnetpol hns-mock hns.json show | jq -c '.endpoints[0].Policies[] | [.Type, .Settings.Id]'"
"$hnp" hns-mock "$state" show | jq -c '.endpoints[0].Policies[] | [.Type, .Settings.Id]' | sed 's/^/   /'
show_acls
show_explain
pause

bold "4. A policy Windows cannot enforce: kubectl apply -f docs/demo/unsupported-policy.yaml"
lines=$(wc -l <"$agent_log")
before=$(server_acls)
kube POST /apis/networking.k8s.io/v1/namespaces/demo/networkpolicies application/yaml <"$top/docs/demo/unsupported-policy.yaml"
for ((i = 0; i < 200; i++)); do
    kube GET /api/v1/namespaces/demo/events
    jq -e 'any(.items[]; .reason == "UnsupportedOnWindows")' "$work/response.json" >/dev/null && break
    sleep 0.1
done
agent_says "$lines"
cmd "kubectl describe networkpolicy web-from-non-debug -n demo   # its Events"
jq -r '.items[] | select(.reason == "UnsupportedOnWindows") | "   \(.type)  \(.reason)  \(.source.component)  \(.message)"' \
    "$work/response.json" | fold -s -w 110 | sed '2,$s/^/      /'
if [ "$(server_acls)" = "$before" ]; then
    note "the server's ACLs are unchanged: the policy is rejected as a whole, never half-applied"
else
    note "UNEXPECTED: the server's ACLs changed"
fi
cmd "curl -s 127.0.0.1:$port/metrics | grep -E '^hnsnetpol_(policies|local_endpoints|acl_rules|hns_calls_total)'"
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^hnsnetpol_(policies|local_endpoints|acl_rules|hns_calls_total)' | sed 's/^/   /'
pause

bold "5. The agent stops (SIGTERM): the ACLs stay enforced"
kill -TERM "$agent_pid"
rc=0
wait "$agent_pid" || rc=$?
agent_pid=
note "exit status $rc; $(grep -c '"hnp-' "$state") ACLs of ours still in HNS"
printf '\nThe live demo is over; everything it started is stopped. The binary is %s\n' "$hnp"
