#!/usr/bin/env bash
# Scenario 12: HNS faults. The next 3 modify calls fail with an HCN error
# (0x803B0020): the agent retries with backoff and converges, the failures
# are counted in /metrics, and exactly one successful Update per endpoint is
# made. Then one endpoint vanishes just before its Update while another one
# still needs its own: the second is not held up, the first is forgotten.
# Last, HNS list failures: the agent is not ready while it cannot list, and
# recovers.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "HNS faults: retries, then converges"

EP_A=e2e00012-0000-4000-8000-00000000000a
EP_B=e2e00012-0000-4000-8000-00000000000b
A_IP=10.240.0.120
B_IP=10.240.0.121
CLIENT_IP=10.240.1.122

e2e_start_apiserver
endpoint_add "$EP_A" "$A_IP"
endpoint_add "$EP_B" "$B_IP"
ns_create demo
pod_create demo a node-1 "$A_IP" '{"app":"server"}'
pod_create demo b node-1 "$B_IP" '{"app":"server"}'
pod_create demo client node-2 "$CLIENT_IP" '{"app":"client"}'
agent_start
wait_synced
WANT=$(demo_allows "$CLIENT_IP")

step "The next 3 modify calls fail with 0x803B0020; demo-policy selects both endpoints"
mock fault --operation modify --fail 3 --code 0x803B0020 >/dev/null
policy_create demo <"$E2E_TOP/docs/demo/demo-policy.yaml"
expect_acls "$EP_A" "endpoint a converges" "$WANT"
expect_acls "$EP_B" "endpoint b converges" "$WANT"
say "HNS calls: $(mock calls | tr '\n' ' ')"
check "modify calls: 3 failed + exactly 1 per endpoint = 5" [ "$(calls_of modify)" = 5 ]
check "the fault is used up" jq -e '(.faults.fail // []) | length == 0' "$STATE"
wait_until "metric hnsnetpol_hns_failures_total{operation=\"modify\"} is 3" \
    metric_eq 'hnsnetpol_hns_failures_total{operation="modify"}' 3
wait_until "metric hnsnetpol_hns_calls_total{operation=\"modify\"} is 5" \
    metric_eq 'hnsnetpol_hns_calls_total{operation="modify"}' 5
check "the log shows the retries with the HCN code" grep -qi 'cannot update endpoint ACLs; retrying.*0x803B0020' "$AGENT_LOG"

step "Endpoint a vanishes just before its next Update; b must still get its own"
mock fault --vanish "$EP_A" >/dev/null
pod_label demo client '{"app":"other"}'
expect_acls "$EP_B" "endpoint b converges (client no longer allowed)" "$(isolated_in)"
wait_until "endpoint a is gone from HNS" sh -c "! '$HNP' hns-mock '$STATE' acls --id $EP_A"
wait_until "the agent forgets it: hnsnetpol_local_endpoints is 1" metric_eq hnsnetpol_local_endpoints 1
modify_now=$(calls_of modify)
wait_polls 5
check "no further call for the vanished endpoint" [ "$(calls_of modify)" = "$modify_now" ]

step "HNS cannot list endpoints (5 failures): not ready meanwhile, then ready again"
mock fault --operation list --fail 5 --code 0x80070005 >/dev/null
wait_until "/readyz is 503 while HNS list fails" sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $METRICS_URL/readyz)\" = 503 ]"
wait_ready
pod_label demo client '{"app":"client"}'
expect_acls "$EP_B" "endpoint b converges again after the list failures" "$WANT"

E2E_ERRORS_EXPECTED=1 # the failed calls are logged
e2e_pass
