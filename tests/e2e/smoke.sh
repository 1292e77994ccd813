#!/usr/bin/env bash
# Smoke test of the end-to-end infrastructure itself (no hnsnetpol code):
# start etcd + kube-apiserver with apiserver.sh, then check with curl that
#   - the agent user may list pods, namespaces and NetworkPolicies everywhere,
#     create and patch Events, and nothing else (Secrets, Nodes: 403);
#   - packaging/rbac.yaml's ServiceAccount has exactly the same rights;
#   - a pod created by the admin gets an IP by a PATCH of its status;
#   - a watch on NetworkPolicies sees the ADDED event of a new policy;
#   - packaging/daemonset.yaml passes the server's validation (dry run);
#   - stop leaves no process behind.
# Needs the binaries: tests/e2e/apiserver.sh install (root, once).
# Ends with 'N passed, N failed'; exit status 0 only when nothing failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
S=$here/apiserver.sh

dir=$(mktemp -d "${TMPDIR:-/tmp}/hnsnetpol-e2e-smoke.XXXXXX")
cleanup() {
    "$S" stop "$dir" || true
    if [ "${HNP_E2E_KEEP:-0}" = 1 ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
# expect CODE DESCRIPTION USER PATH [curl options...]
expect() {
    local want=$1 what=$2 user=$3 path=$4 got
    shift 4
    got=$("$S" curl "$dir" "$user" "$path" -o "$dir/last.json" -w '%{http_code}' "$@") || got="curl-error"
    if [ "$got" = "$want" ]; then ok "$what (HTTP $got)"; else bad "$what: HTTP $got, want $want: $(head -c 400 "$dir/last.json" 2>/dev/null)"; fi
}

HNP_E2E_OWNER_PID=$$ HNP_E2E_MAX_LIFETIME=600 "$S" start "$dir"
# shellcheck disable=SC1091
. "$dir/env"
json='Content-Type: application/json'
merge='Content-Type: application/merge-patch+json'

expect 200 "agent lists pods in all namespaces" agent /api/v1/pods
expect 200 "agent lists namespaces" agent /api/v1/namespaces
expect 200 "agent lists NetworkPolicies in all namespaces" agent /apis/networking.k8s.io/v1/networkpolicies
expect 403 "agent may not list secrets" agent /api/v1/secrets
expect 403 "agent may not list nodes" agent /api/v1/nodes
expect 403 "agent may not create pods" agent /api/v1/namespaces/default/pods -X POST -H "$json" -d '{}'
got=$(curl -sS --cacert "$HNP_CA_FILE" -H 'Authorization: Bearer wrong' -o /dev/null -w '%{http_code}' "$HNP_APISERVER_URL/api/v1/pods") || got=curl-error
if [ "$got" = 401 ]; then ok "a wrong token is refused (HTTP 401)"; else bad "a wrong token: HTTP $got, want 401"; fi
expect 201 "agent creates a core Event" agent /api/v1/namespaces/default/events -X POST -H "$json" \
    -d '{"apiVersion":"v1","kind":"Event","metadata":{"name":"smoke.1"},"involvedObject":{"kind":"Pod","namespace":"default","name":"x"},"reason":"Smoke","message":"hello","type":"Normal"}'
expect 200 "agent patches its core Event" agent /api/v1/namespaces/default/events/smoke.1 -X PATCH -H "$merge" -d '{"count":2}'
expect 201 "agent creates an events.k8s.io Event" agent /apis/events.k8s.io/v1/namespaces/default/events -X POST -H "$json" \
    -d '{"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"smoke.2"},"eventTime":"2024-01-01T00:00:00.000000Z","reportingController":"hnsnetpol","reportingInstance":"hnsnetpol-smoke","action":"Apply","reason":"Smoke","regarding":{"kind":"Pod","namespace":"default","name":"x"},"type":"Normal","note":"hello"}'
expect 403 "agent may not read Events back" agent /api/v1/namespaces/default/events/smoke.1

sa='Impersonate-User: system:serviceaccount:kube-system:hnsnetpol'
expect 200 "ServiceAccount kube-system/hnsnetpol lists pods" admin /api/v1/pods -H "$sa"
expect 200 "ServiceAccount lists NetworkPolicies" admin /apis/networking.k8s.io/v1/networkpolicies -H "$sa"
expect 403 "ServiceAccount may not list secrets" admin /api/v1/secrets -H "$sa"

cat >"$dir/objects.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: smoke
  labels:
    team: smoke
---
apiVersion: v1
kind: Pod
metadata:
  name: server
  namespace: smoke
  labels:
    app: server
spec:
  nodeName: win-node-1
  containers:
    - name: web
      image: mcr.microsoft.com/windows/servercore/iis
EOF
if "$S" apply "$dir" admin "$dir/objects.yaml"; then ok "admin creates a namespace and a pod from YAML"; else bad "apply objects.yaml"; fi
expect 200 "admin gives the pod an IP (PATCH .../status)" admin /api/v1/namespaces/smoke/pods/server/status \
    -X PATCH -H "$merge" -d '{"status":{"phase":"Running","podIP":"10.244.1.5","podIPs":[{"ip":"10.244.1.5"}]}}'
"$S" curl "$dir" agent /api/v1/namespaces/smoke/pods/server >"$dir/pod.json"
if grep -q '"podIP": "10.244.1.5"' "$dir/pod.json" && grep -q '"phase": "Running"' "$dir/pod.json"; then
    ok "agent reads the pod's IP back"
else
    bad "pod IP not read back: $(grep -E 'podIP|phase' "$dir/pod.json" | tr -d '\n')"
fi
expect 403 "agent may not patch pod status" agent /api/v1/namespaces/smoke/pods/server/status \
    -X PATCH -H "$merge" -d '{"status":{"podIP":"10.0.0.1"}}'

# Watch from the list's resourceVersion, then create a policy.
rv=$("$S" curl "$dir" agent /apis/networking.k8s.io/v1/networkpolicies | sed -n 's/.*"resourceVersion": "\([0-9]*\)".*/\1/p' | head -n 1)
"$S" curl "$dir" agent "/apis/networking.k8s.io/v1/networkpolicies?watch=1&resourceVersion=$rv&timeoutSeconds=4" -N \
    >"$dir/watch.out" 2>&1 &
watch_pid=$!
sleep 1
cat >"$dir/policy.yaml" <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: smoke-policy
  namespace: smoke
spec:
  podSelector:
    matchLabels:
      app: server
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app: client
      ports:
        - protocol: TCP
          port: 80
          endPort: 90
EOF
"$S" apply "$dir" admin "$dir/policy.yaml"
wait "$watch_pid" || true
if grep -q '"type":"ADDED".*"name":"smoke-policy"' "$dir/watch.out"; then ok "watch sees ADDED smoke-policy"; else bad "watch saw: $(head -c 400 "$dir/watch.out")"; fi
if grep -q endPort "$dir/watch.out"; then bad "endPort kept (this server should be 1.20)"; else ok "1.20 drops endPort, as documented"; fi

expect 201 "packaging/daemonset.yaml passes server-side validation (dry run)" admin \
    '/apis/apps/v1/namespaces/kube-system/daemonsets?dryRun=All' -X POST \
    -H 'Content-Type: application/yaml' --data-binary "@$top/packaging/daemonset.yaml"

read -r api_pid _ <"$dir/apiserver.pid"
read -r etcd_pid _ <"$dir/etcd.pid"
"$S" stop "$dir"
gone=1
for p in $api_pid $etcd_pid; do
    # A zombie waiting for pid 1 to reap it has exited: only a live one counts.
    if [ -r "/proc/$p/stat" ] && ! grep -q ') [ZX] ' "/proc/$p/stat"; then gone=0; fi
done
if [ "$gone" = 1 ]; then ok "stop leaves no server process"; else bad "a server process survived stop"; fi
if "$S" status "$dir" >/dev/null; then bad "status says running after stop"; else ok "status says stopped"; fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
