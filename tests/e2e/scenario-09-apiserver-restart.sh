#!/usr/bin/env bash
# Scenario 9: kube-apiserver stops mid-run (etcd keeps the data) and starts
# again on the same port. Meanwhile the agent keeps running and keeps the ACLs
# it applied; it reconnects by itself, and a change made after the restart
# converges. (After a restart the new server's watch cache starts at the
# current revision, so the agent's watches may also get 410 and relist.)
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "API server restarted mid-run: the agent reconnects and converges"

EP=e2e00009-0000-4000-8000-000000000001
SERVER_IP=10.240.0.90
CLIENT_IP=10.240.1.91
ISOLATED=$(isolated_in)

e2e_start_apiserver
endpoint_add "$EP" "$SERVER_IP"
ns_create demo
pod_create demo server node-1 "$SERVER_IP" '{"app":"server"}'
pod_create demo client node-2 "$CLIENT_IP" '{"run":"client"}'
policy_create demo <"$E2E_TOP/docs/demo/demo-policy.yaml"
agent_start
wait_synced
expect_acls "$EP" "server isolated" "$ISOLATED"
restarts0=$(metric_watched hnsnetpol_watch_restarts_total)

step "Stop kube-apiserver"
api_stop
modify0=$(calls_of modify)
wait_polls 10 # two seconds of the agent's life without an API server
agent_check_alive
ok "the agent keeps running without an API server"
check "/healthz is still 200" [ "$(http_code /healthz)" = 200 ]
expect_acls_now "$EP" "the ACLs stay enforced" "$ISOLATED"
check "no HNS Update meanwhile" [ "$(calls_of modify)" = "$modify0" ]

step "Start kube-apiserver again on the same port"
api_start
restarts_grew() { [ "$(metric_watched hnsnetpol_watch_restarts_total)" -gt "$restarts0" ]; }
wait_until "hnsnetpol_watch_restarts_total grew (the watches broke and were restarted)" restarts_grew

step "A change after the restart: kubectl label pod client -n demo app=client"
pod_label demo client '{"app":"client"}'
# The agent reconnects with capped exponential backoff (at most 30 s between
# attempts), which grew while the server was down: allow for one full step.
WAIT_TIMEOUT=45 expect_acls "$EP" "the change converges through the new connection" "$(demo_allows "$CLIENT_IP")"
wait_ready

step "And another kind: a new policy after the restart"
policy_create demo <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: server-egress
  namespace: demo
spec:
  podSelector:
    matchLabels:
      app: server
  policyTypes: [Egress]
EOF
expect_acls "$EP" "egress isolation added" \
    "In 200 Allow hnp-node-in RemoteAddresses=$NODE1_IP
In 1000 Allow hnp-<demo/demo-policy>-in0-tcp-0 LocalPorts=80 Protocols=6 RemoteAddresses=$CLIENT_IP
In 65000 Block hnp-isolate-in
Out 65000 Block hnp-isolate-out"

E2E_ERRORS_EXPECTED=1 # connection errors while the server was down are logged, and fine
e2e_pass
