#!/usr/bin/env bash
# Scenario 1: the Azure walkthrough against a real API server. Namespace demo,
# pods server (app=server) and client (run=client) on node-1, each with an HNS
# endpoint; demo-policy isolates the server and allows TCP 80 from app=client
# only. Before the client is labelled app=client the server allows nothing in;
# after, exactly the client's IP on TCP 80. The client's endpoint never gets
# an ACL (no policy selects it). The ACLs equal what `hnsnetpol translate`
# computes offline from the same objects, and `explain` agrees.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "the demo: server isolated by demo-policy; client allowed once labelled app=client"

EP_SERVER=e2e00001-0000-4000-8000-000000000001
EP_CLIENT=e2e00001-0000-4000-8000-000000000002
SERVER_IP=10.240.0.10
CLIENT_IP=10.240.0.11

e2e_start_apiserver

step "The node's HNS endpoints and the pods"
endpoint_add "$EP_SERVER" "$SERVER_IP"
endpoint_add "$EP_CLIENT" "$CLIENT_IP"
ns_create demo
pod_create demo server node-1 "$SERVER_IP" '{"app":"server"}'
pod_create demo client node-1 "$CLIENT_IP" '{"run":"client"}'

step "The agent starts; no policy yet"
agent_start
wait_synced
expect_acls_now "$EP_SERVER" "server endpoint: no ACL (no policy)" ""
expect_acls_now "$EP_CLIENT" "client endpoint: no ACL" ""
check "no HNS Update at start-up (nothing to change)" [ "$(calls_of modify)" = 0 ]

step "kubectl apply -f demo-policy.yaml"
policy_create demo <"$E2E_TOP/docs/demo/demo-policy.yaml"
expect_acls "$EP_SERVER" "server isolated, nothing allowed in (no pod is app=client yet)" "$(isolated_in)"
expect_acls_now "$EP_CLIENT" "client endpoint: still no ACL" ""
expect_explain denied demo/client demo/server 80
expect_matches_translate "every endpoint's ACLs equal hnsnetpol translate's"

step "kubectl label pod client -n demo app=client"
pod_label demo client '{"app":"client"}'
expect_acls "$EP_SERVER" "server allows TCP 80 from the client's IP only" "$(demo_allows "$CLIENT_IP")"
expect_acls_now "$EP_CLIENT" "client endpoint: still no ACL" ""
expect_explain allowed demo/client demo/server 80
expect_explain denied demo/client demo/server 81
expect_matches_translate "every endpoint's ACLs equal hnsnetpol translate's"
check "exactly one HNS Update per change of the server's ACLs (2)" [ "$(calls_of modify)" = 2 ]
wait_until "metric hnsnetpol_policies{state=\"applied\"} is 1" metric_eq 'hnsnetpol_policies{state="applied"}' 1
wait_until "metric hnsnetpol_local_endpoints is 2" metric_eq hnsnetpol_local_endpoints 2
wait_until "metric hnsnetpol_acl_rules is 4" metric_eq hnsnetpol_acl_rules 4

e2e_pass
