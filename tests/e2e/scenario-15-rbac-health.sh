#!/usr/bin/env bash
# Scenario 15: RBAC and health. The agent runs (as in every scenario) with the
# kubeconfig of user hnsnetpol-agent, bound only to the ClusterRole of
# packaging/rbac.yaml; here that user is first shown to be really limited. The
# agent is started while the API server is down: /healthz is 200 at once,
# /readyz 503 with a reason until the initial sync, then 200. The metrics
# endpoint serves the documented families. Nothing in the agent's log shows
# a refusal by the API server (checked at the end of every scenario).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "RBAC-limited agent; /healthz and /readyz"

EP=e2e00015-0000-4000-8000-000000000001
SERVER_IP=10.240.0.150

e2e_start_apiserver

step "The agent's user is limited to packaging/rbac.yaml's ClusterRole"
agent_get() {
    curl -s --max-time 10 --cacert "$HNP_CA_FILE" -H "Authorization: Bearer $HNP_AGENT_TOKEN" \
        -o /dev/null -w '%{http_code}' "$HNP_APISERVER_URL$1"
}
check "the agent kubeconfig's user is hnsnetpol-agent" grep -q 'name: hnsnetpol-agent' "$HNP_AGENT_KUBECONFIG"
check "it may list pods in all namespaces" [ "$(agent_get /api/v1/pods)" = 200 ]
check "it may list NetworkPolicies in all namespaces" [ "$(agent_get /apis/networking.k8s.io/v1/networkpolicies)" = 200 ]
check "it may not list secrets (403)" [ "$(agent_get /api/v1/secrets)" = 403 ]
check "it may not read events (403)" [ "$(agent_get /api/v1/namespaces/default/events)" = 403 ]

endpoint_add "$EP" "$SERVER_IP"
ns_create demo
pod_create demo server node-1 "$SERVER_IP" '{"app":"server"}'
policy_create demo <"$E2E_TOP/docs/demo/demo-policy.yaml"

step "The agent starts while kube-apiserver is down"
api_stop
agent_start
check "/healthz is 200 at once" [ "$(http_code /healthz)" = 200 ]
code=$(http_code /readyz)
check "/readyz is 503 before the initial sync (got $code)" [ "$code" = 503 ]
reason=$(curl -s --max-time 5 "$METRICS_URL/readyz" || true)
say "/readyz says: $reason"
check "/readyz gives a reason" [ -n "$reason" ]
wait_polls 5
check "/readyz still 503 (no API server, no initial sync)" [ "$(http_code /readyz)" = 503 ]
expect_acls_now "$EP" "nothing applied without the API server" ""

step "kube-apiserver comes up"
api_start
# The agent retries with capped exponential backoff (at most 30 s).
WAIT_TIMEOUT=45 wait_ready
check "/healthz is 200" [ "$(http_code /healthz)" = 200 ]
expect_acls "$EP" "the initial sync converged" "$(isolated_in)"
wait_synced

step "The HTTP listener"
check "/metrics is 200" [ "$(http_code /metrics)" = 200 ]
check "an unknown path is 404" [ "$(http_code /nope)" = 404 ]
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST "$METRICS_URL/metrics" || true)
check "POST is 405 ($code)" [ "$code" = 405 ]
curl -sS --max-time 5 "$METRICS_URL/metrics" >"$E2E_DIR/metrics.txt"
for family in hnsnetpol_policies hnsnetpol_policies_rejected hnsnetpol_local_endpoints \
    hnsnetpol_acl_rules hnsnetpol_hns_calls_total hnsnetpol_hns_failures_total \
    hnsnetpol_hns_call_duration_seconds hnsnetpol_watch_restarts_total hnsnetpol_relists_total \
    hnsnetpol_last_sync_timestamp_seconds hnsnetpol_sync_duration_seconds \
    hnsnetpol_metrics_dropped_series_total; do
    check "family $family is declared" grep -q "^# TYPE $family " "$E2E_DIR/metrics.txt"
done
check "hnsnetpol_metrics_dropped_series_total is 0" metric_eq hnsnetpol_metrics_dropped_series_total 0
check "hnsnetpol_local_endpoints is 1" metric_eq hnsnetpol_local_endpoints 1
check "hnsnetpol_hns_calls_total{operation=\"list\"} counts the polls" metric_ge 'hnsnetpol_hns_calls_total{operation="list"}' 1
check "the last sync time is recent" awk -v t="$(metric hnsnetpol_last_sync_timestamp_seconds)" -v now="$(date +%s)" \
    'BEGIN { exit !(t > now - 60 && t <= now + 1) }'
check "the agent's token never appears in its log" sh -c "! grep -qF '$HNP_AGENT_TOKEN' '$AGENT_LOG'"

E2E_ERRORS_EXPECTED=1 # connection refused while the server was down
e2e_pass
