#!/usr/bin/env bash
# Scenario 11: the agent is restarted with nothing changed. Start-up adopts
# what is there: no flush, and zero HNS Updates, on a node whose endpoints
# carry several kinds of ACL sets (ingress rules, egress rules, none) next to
# foreign policies. Then a change made while the agent was down converges
# with exactly one Update.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "agent restarted with nothing changed: zero HNS Updates"

EP_SERVER=e2e00011-0000-4000-8000-000000000001
EP_CLIENT=e2e00011-0000-4000-8000-000000000002
EP_DB=e2e00011-0000-4000-8000-000000000003
SERVER_IP=10.240.0.110
CLIENT_IP=10.240.0.111
DB_IP=10.240.0.112
NAT='{"Type":"OutBoundNAT","Settings":{"Exceptions":["10.0.0.0/8"]}}'

e2e_start_apiserver
endpoint_add "$EP_SERVER" "$SERVER_IP" --policy "$NAT"
endpoint_add "$EP_CLIENT" "$CLIENT_IP" --policy "$NAT"
endpoint_add "$EP_DB" "$DB_IP" --policy "$NAT"
ns_create demo
pod_create demo server node-1 "$SERVER_IP" '{"app":"server"}'
pod_create demo client node-1 "$CLIENT_IP" '{"app":"client"}'
pod_create demo db node-1 "$DB_IP" '{"app":"db"}'
policy_create demo <"$E2E_TOP/docs/demo/demo-policy.yaml"
policy_create demo <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-policy
  namespace: demo
spec:
  podSelector:
    matchLabels:
      app: db
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: server
    ports:
    - port: 5432
  egress:
  - to:
    - ipBlock:
        cidr: 10.96.0.0/16
EOF

step "First run: converge"
agent_start
wait_synced
expect_acls "$EP_SERVER" "server: TCP 80 from the client" "$(demo_allows "$CLIENT_IP")"
expect_acls "$EP_DB" "db: TCP 5432 from the server, egress to 10.96.0.0/16 only" \
    "In 200 Allow hnp-node-in RemoteAddresses=$NODE1_IP
In 1000 Allow hnp-<demo/db-policy>-in0-tcp-0 LocalPorts=5432 Protocols=6 RemoteAddresses=$SERVER_IP
In 65000 Block hnp-isolate-in
Out 1000 Allow hnp-<demo/db-policy>-out0-all-0 RemoteAddresses=10.96.0.0/16
Out 65000 Block hnp-isolate-out"
expect_acls_now "$EP_CLIENT" "client: no ACL" ""
mock show | jq -S '.endpoints' >"$E2E_DIR/endpoints-before.json"
agent_stop TERM
check "clean exit (status 0)" [ "$AGENT_RC" = 0 ]

step "Second run, nothing changed"
mock reset-calls >/dev/null
agent_start
wait_synced
wait_polls 5
say "HNS calls after the restart: $(mock calls | tr '\n' ' ')"
check "zero HNS Updates (modify calls) after the restart" [ "$(calls_of modify)" = 0 ]
check "the endpoints are exactly as before" diff <(mock show | jq -S '.endpoints') "$E2E_DIR/endpoints-before.json"
wait_until "metric hnsnetpol_local_endpoints is 3" metric_eq hnsnetpol_local_endpoints 3
wait_until "metric hnsnetpol_acl_rules is 9" metric_eq hnsnetpol_acl_rules 9
agent_stop TERM
check "clean exit (status 0)" [ "$AGENT_RC" = 0 ]

step "Third run, after a change made while the agent was down"
pod_label demo client '{"app":"other"}'
mock reset-calls >/dev/null
agent_start
expect_acls "$EP_SERVER" "server: the client is no longer allowed" "$(isolated_in)"
wait_synced
wait_polls 5
check "exactly one HNS Update, for the server" [ "$(calls_of modify)" = 1 ]
expect_foreign "$EP_SERVER" "the OutBoundNAT still first and unchanged" "[$NAT]"

e2e_pass
