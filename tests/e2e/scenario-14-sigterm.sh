#!/usr/bin/env bash
# Scenario 14: stopping. SIGTERM (and SIGINT) make the agent exit 0 within a
# few seconds, leaving the ACLs enforced. With --cleanup-on-exit it removes
# its own ACLs on the way out and keeps every foreign policy, first and
# unchanged. An HNS call in flight (slow HNS: 1 s per modify) is finished
# before the agent exits.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "SIGTERM: exit 0 quickly, ACLs kept; --cleanup-on-exit removes ours only"

EP=e2e00014-0000-4000-8000-000000000001
EP2=e2e00014-0000-4000-8000-000000000002
SERVER_IP=10.240.0.140
SERVER2_IP=10.240.0.141
CLIENT_IP=10.240.1.142
NAT='{"Type":"OutBoundNAT","Settings":{"Exceptions":["10.0.0.0/8"]}}'
OTHER_ACL='{"Type":"ACL","Settings":{"Id":"azure-cni-allow-all","Action":"Allow","Direction":"In","RuleType":"Switch","Priority":65500}}'
FOREIGN="[$NAT,$OTHER_ACL]"
WANT=$(demo_allows "$CLIENT_IP")
STOP_BOUND_MS=${HNP_E2E_STOP_BOUND_MS:-3000}

e2e_start_apiserver
endpoint_add "$EP" "$SERVER_IP" --policy "$NAT" --policy "$OTHER_ACL"
ns_create demo
pod_create demo server node-1 "$SERVER_IP" '{"app":"server"}'
pod_create demo client node-2 "$CLIENT_IP" '{"app":"client"}'
policy_create demo <"$E2E_TOP/docs/demo/demo-policy.yaml"

# stopped_ok: status 0 within STOP_BOUND_MS.
stopped_ok() {
    check "exit status 0" [ "$AGENT_RC" = 0 ]
    check "exited within $STOP_BOUND_MS ms ($AGENT_STOP_MS ms)" [ "$AGENT_STOP_MS" -le "$STOP_BOUND_MS" ]
}

step "Run 1: SIGTERM"
agent_start
wait_synced
expect_acls "$EP" "ACLs applied" "$WANT"
agent_stop TERM
stopped_ok
expect_acls_now "$EP" "ACLs still present after the exit" "$WANT"
expect_foreign "$EP" "foreign policies first and unchanged" "$FOREIGN"
check "the log says the ACLs are left enforced" grep -q 'agent stopped.*left enforced' "$AGENT_LOG"

step "Run 2: SIGINT"
agent_start
wait_synced
agent_stop INT
stopped_ok
expect_acls_now "$EP" "ACLs still present" "$WANT"

step "Run 3: SIGTERM while an HNS Update is in flight (2 s per modify)"
agent_start
wait_synced
mock fault --operation modify --latency-ms 2000 >/dev/null
modify0=$(calls_of modify)
lines0=$(wc -l <"$AGENT_LOG")
pod_label demo client '{"app":"other"}'
got_change() { tail -n +"$lines0" "$AGENT_LOG" | grep -q 'object updated.*namespace=demo name=client'; }
wait_until "the agent has received the change" got_change
# Not an assertion: place the signal inside the 2 s call, which starts when
# the 50 ms batch closes.
sleep 0.5
agent_stop TERM
check "exit status 0" [ "$AGENT_RC" = 0 ]
check "it waited for the call in flight, and no longer ($AGENT_STOP_MS ms)" \
    in_range "$AGENT_STOP_MS" 1000 $((2000 + STOP_BOUND_MS))
mock clear-faults >/dev/null
check "the Update in flight was finished, not cut: one more modify call" [ "$(calls_of modify)" = $((modify0 + 1)) ]
expect_acls_now "$EP" "and its result is in place (client no longer allowed)" "$(isolated_in)"
pod_label demo client '{"app":"client"}'

step "Run 4: --cleanup-on-exit, two endpoints"
endpoint_add "$EP2" "$SERVER2_IP" --policy "$NAT"
pod_create demo server2 node-1 "$SERVER2_IP" '{"app":"server"}'
agent_start --cleanup-on-exit
wait_synced
expect_acls "$EP" "ACLs applied" "$WANT"
expect_acls "$EP2" "ACLs applied to the second endpoint" "$WANT"
agent_stop TERM
stopped_ok
expect_acls_now "$EP" "our ACLs removed" ""
expect_acls_now "$EP2" "our ACLs removed from the second endpoint" ""
check "the foreign policies kept, in order, unchanged" [ "$(policies_of "$EP")" = "$(jq -c . <<<"$FOREIGN")" ]
check "the second endpoint's OutBoundNAT kept" [ "$(policies_of "$EP2")" = "$(jq -c . <<<"[$NAT]")" ]
check "the log says so" grep -q 'agent stopped.*removed' "$AGENT_LOG"

e2e_pass
