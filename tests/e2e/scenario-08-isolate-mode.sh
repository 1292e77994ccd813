#!/usr/bin/env bash
# Scenario 8: --unsupported-policy=isolate fails closed. A rejected policy
# still isolates the pods it selects, for its policy types, but allows
# nothing; a supported policy on the same pod still adds its Allow rules.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "--unsupported-policy=isolate: selected pods isolated, nothing allowed by the rejected policy"

EP_WEB=e2e00008-0000-4000-8000-000000000001
EP_API=e2e00008-0000-4000-8000-000000000002
WEB_IP=10.240.0.80
API_IP=10.240.0.81
CLIENT_IP=10.240.1.82

e2e_start_apiserver
endpoint_add "$EP_WEB" "$WEB_IP"
endpoint_add "$EP_API" "$API_IP"
ns_create shop
pod_create shop web node-1 "$WEB_IP" '{"app":"web"}'
pod_create shop api node-1 "$API_IP" '{"app":"api"}'
pod_create shop client node-2 "$CLIENT_IP" '{"app":"client"}'
agent_start --unsupported-policy isolate
wait_synced

step "A rejected ingress policy (named port) selecting app=web"
policy_create shop <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-named
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: web
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: client
    ports:
    - port: http
EOF
expect_acls "$EP_WEB" "web isolated for ingress, nothing allowed in" "$(isolated_in)"
wait_until "it counts as rejected" metric_eq 'hnsnetpol_policies{state="rejected"}' 1
wait_until "and, in isolate mode, as applied" metric_eq 'hnsnetpol_policies{state="applied"}' 1
expect_acls_now "$EP_API" "api (not selected) has no ACL" ""

step "A rejected policy of both types (SCTP egress) selecting app=api"
policy_create shop <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api-sctp
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: api
  policyTypes: [Ingress, Egress]
  ingress:
  - {}
  egress:
  - ports:
    - port: 9000
      protocol: SCTP
EOF
expect_acls "$EP_API" "api isolated both ways, nothing allowed (not even its ingress: [{}])" \
    "In 200 Allow hnp-node-in RemoteAddresses=$NODE1_IP
In 65000 Block hnp-isolate-in
Out 65000 Block hnp-isolate-out"

step "A supported policy on web adds its Allow rules next to the isolation"
policy_create shop <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-443
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: web
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: client
    ports:
    - port: 443
EOF
expect_acls "$EP_WEB" "web: TCP 443 from the client, from web-443 only" \
    "$(isolated_in "In 1000 Allow hnp-<shop/web-443>-in0-tcp-0 LocalPorts=443 Protocols=6 RemoteAddresses=$CLIENT_IP")"
expect_matches_translate "ACLs equal hnsnetpol translate --unsupported-policy isolate" --unsupported-policy isolate

step "The rejected SCTP policy deleted: api is no longer isolated"
policy_delete shop api-sctp
expect_acls "$EP_API" "api: no ACL" ""

e2e_pass
