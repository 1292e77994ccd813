#!/usr/bin/env bash
# Scenario 3: pod and namespace label changes re-resolve the peers of a
# policy. The policy on app/api allows from pods role=fe in namespaces team=a
# (namespaceSelector AND podSelector in one peer) and from pods app=client of
# its own namespace (a second peer). Labels move; the peers' IPs follow.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "pod and namespace label changes: namespaceSelector and podSelector peers re-resolved"

EP=e2e00003-0000-4000-8000-000000000001
API_IP=10.240.0.30
FE1=10.240.1.31  # prod/fe1, role=fe
FE2=10.240.1.33  # prod/fe2, role=be at first
STG=10.240.1.35  # staging/fe, role=fe
CLI=10.240.0.37  # app/client, on node-1 without an endpoint of its own

e2e_start_apiserver
endpoint_add "$EP" "$API_IP"
ns_create app
ns_create prod '{"team":"a"}'
ns_create staging '{"team":"b"}'
pod_create app api node-1 "$API_IP" '{"app":"api"}'
pod_create app client node-1 "$CLI" '{"run":"client"}'
pod_create prod fe1 node-2 "$FE1" '{"role":"fe"}'
pod_create prod fe2 node-2 "$FE2" '{"role":"be"}'
pod_create staging fe node-2 "$STG" '{"role":"fe"}'
policy_create app <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api-policy
  namespace: app
spec:
  podSelector:
    matchLabels:
      app: api
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          team: a
      podSelector:
        matchLabels:
          role: fe
    - podSelector:
        matchLabels:
          app: client
    ports:
    - port: 443
EOF
agent_start
wait_synced

# expect_peers DESCRIPTION REMOTE_ADDRESSES ("" = the rule matches nobody).
expect_peers() {
    local rules=()
    [ -n "$2" ] && rules=("In 1000 Allow hnp-<app/api-policy>-in0-tcp-0 LocalPorts=443 Protocols=6 RemoteAddresses=$2")
    expect_acls "$EP" "$1" "$(isolated_in "${rules[@]}")"
}

step "Start: only prod/fe1 matches (team=a, role=fe)"
expect_peers "peer: prod/fe1" "$FE1"

step "Pod label: prod/fe2 becomes role=fe"
pod_label prod fe2 '{"role":"fe"}'
expect_peers "peers: prod/fe1, prod/fe2" "$FE1,$FE2"

step "Namespace label: staging becomes team=a"
ns_label staging '{"team":"a"}'
expect_peers "peers: prod/fe1, prod/fe2, staging/fe" "$FE1,$FE2,$STG"

step "Namespace label: prod becomes team=b"
ns_label prod '{"team":"b"}'
expect_peers "peers: staging/fe only" "$STG"

step "Pod label of the own namespace: app/client becomes app=client"
pod_label app client '{"app":"client"}'
expect_peers "peers: app/client and staging/fe" "$CLI,$STG"
expect_matches_translate "ACLs equal hnsnetpol translate's"

step "Labels removed: staging loses team, client loses app"
ns_label staging '{"team":null}'
pod_label app client '{"app":null}'
expect_peers "the rule matches nobody: left out, the pod stays isolated" ""

step "The policy's own podSelector: app/api relabelled app=api-v2, then back"
pod_label app api '{"app":"api-v2"}'
expect_acls "$EP" "no policy selects app/api any more: no ACL" ""
pod_label app api '{"app":"api"}'
expect_peers "selected again, isolated" ""

e2e_pass
