#!/usr/bin/env bash
# Scenario 7: a policy that is applied and then edited to use something
# Windows cannot enforce stops being enforced at once: its ACLs go, the old
# version never lingers. Edited back, it is enforced again. Each rejected
# generation gets its own Event.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "applied policy edited to unsupported: its ACLs removed"

EP=e2e00007-0000-4000-8000-000000000001
SERVER_IP=10.240.0.70
CLIENT_IP=10.240.1.71

e2e_start_apiserver
endpoint_add "$EP" "$SERVER_IP"
ns_create demo
pod_create demo server node-1 "$SERVER_IP" '{"app":"server"}'
pod_create demo client node-2 "$CLIENT_IP" '{"app":"client"}'
agent_start
wait_synced

# policy PORT [EXTRA_PEER_YAML]: demo-policy with that port.
policy() {
    cat <<EOF
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
${2:-}
    ports:
    - port: $1
EOF
}
APPLIED=$(demo_allows "$CLIENT_IP")

events_of_policy() {
    kube GET /api/v1/namespaces/demo/events
    jq '[.items[] | select(.reason == "UnsupportedOnWindows" and .involvedObject.name == "demo-policy")] | length' "$KUBE_OUT"
}
events_ge() { [ "$(events_of_policy)" -ge "$1" ]; }

step "demo-policy applied (TCP 80 from app=client)"
policy_create demo < <(policy 80)
expect_acls "$EP" "server's ACLs in place" "$APPLIED"

step "Edited to a named port (port: http)"
policy_replace demo demo-policy < <(policy http)
expect_acls "$EP" "all of the policy's ACLs removed at once (no policy left that applies)" ""
wait_until "metric hnsnetpol_policies_rejected{feature=\"namedPort\"} is 1" \
    metric_eq 'hnsnetpol_policies_rejected{feature="namedPort"}' 1
wait_until "an UnsupportedOnWindows Event for this generation" events_ge 1

step "Edited back to TCP 80"
policy_replace demo demo-policy < <(policy 80)
expect_acls "$EP" "enforced again" "$APPLIED"
wait_until "metric hnsnetpol_policies_rejected{feature=\"namedPort\"} back to 0" \
    metric_eq 'hnsnetpol_policies_rejected{feature="namedPort"}' 0
check "the log says it is enforceable again" grep -q 'NetworkPolicy now enforceable.*policy=demo/demo-policy' "$AGENT_LOG"

step "Edited to a NotIn selector (a new generation, another feature)"
NOT_DEV="      namespaceSelector:
        matchExpressions:
        - key: env
          operator: NotIn
          values: [dev]"
policy_replace demo demo-policy < <(policy 80 "$NOT_DEV")
expect_acls "$EP" "ACLs removed again" ""
wait_until "metric hnsnetpol_policies_rejected{feature=\"negativeSelector\"} is 1" \
    metric_eq 'hnsnetpol_policies_rejected{feature="negativeSelector"}' 1
wait_until "a second Event, for the new generation" events_ge 2
check "exactly two Events in all" [ "$(events_of_policy)" = 2 ]

e2e_pass
