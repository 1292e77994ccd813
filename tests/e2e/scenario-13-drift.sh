#!/usr/bin/env bash
# Scenario 13: drift. Someone else rewrites the endpoint's policies in HNS
# (our ACLs deleted, one altered, a stray hnp- ACL added, a foreign ACL added):
# the periodic resync (2 s here) puts ours back exactly, removes the stray
# one, and keeps every foreign policy as it is, first.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "drift written into the state file: repaired at the next resync"

EP=e2e00013-0000-4000-8000-000000000001
SERVER_IP=10.240.0.130
CLIENT_IP=10.240.1.131
NAT='{"Type":"OutBoundNAT","Settings":{"Exceptions":["10.0.0.0/8"]}}'
OTHER_ACL='{"Type":"ACL","Settings":{"Id":"other-agent-allow-dns","Action":"Allow","Direction":"Out","Protocols":"17","RemotePorts":"53","RuleType":"Switch","Priority":300}}'
WANT=$(demo_allows "$CLIENT_IP")
RESYNC_BOUND=${HNP_E2E_RESYNC_BOUND:-6} # resync every 2 s; a pass, plus slack

e2e_start_apiserver
endpoint_add "$EP" "$SERVER_IP" --policy "$NAT"
ns_create demo
pod_create demo server node-1 "$SERVER_IP" '{"app":"server"}'
pod_create demo client node-2 "$CLIENT_IP" '{"app":"client"}'
policy_create demo <"$E2E_TOP/docs/demo/demo-policy.yaml"
agent_start --resync-interval 2s
wait_synced
expect_acls "$EP" "the server's ACLs" "$WANT"
ours=$(mock acls --id "$EP" | jq -c .)

step "Drift 1: every ACL of ours deleted (the OutBoundNAT kept)"
modify0=$(calls_of modify)
mock set-policies --id "$EP" --json "[$NAT]" >/dev/null
WAIT_TIMEOUT=$RESYNC_BOUND expect_acls "$EP" "repaired by the resync" "$WANT"
check "exactly as before (Ids, order, every field)" [ "$(mock acls --id "$EP" | jq -c .)" = "$ours" ]
check "with one HNS Update" [ "$(calls_of modify)" = $((modify0 + 1)) ]
expect_foreign "$EP" "the OutBoundNAT still first and unchanged" "[$NAT]"

step "Drift 2: the client's rule altered to allow from everywhere, the isolation turned into Allow"
modify0=$(calls_of modify)
state_edit '(.endpoints[] | select(.ID == $id) | .Policies) |= map(
        if .Settings.Id? == "hnp-isolate-in" then .Settings.Action = "Allow"
        elif (.Settings.Id? // "" | test("-in0-tcp-0$")) then .Settings |= del(.RemoteAddresses)
        else . end)' --arg id "$EP"
WAIT_TIMEOUT=$RESYNC_BOUND expect_acls "$EP" "repaired by the resync" "$WANT"
check "exactly as before" [ "$(mock acls --id "$EP" | jq -c .)" = "$ours" ]
check "with one HNS Update" [ "$(calls_of modify)" = $((modify0 + 1)) ]

step "Drift 3: a stray hnp- ACL added (ours by its Id, but not wanted) and another agent's ACL added"
modify0=$(calls_of modify)
state_edit '(.endpoints[] | select(.ID == $id) | .Policies) += [$stray, $other]' --arg id "$EP" \
    --argjson stray '{"Type":"ACL","Settings":{"Id":"hnp-stray","Action":"Allow","Direction":"In","RuleType":"Switch","Priority":100}}' \
    --argjson other "$OTHER_ACL"
WAIT_TIMEOUT=$RESYNC_BOUND expect_acls "$EP" "the stray hnp- ACL is removed by the resync" "$WANT"
check "ours exactly as before" [ "$(mock acls --id "$EP" | jq -c .)" = "$ours" ]
check "with one HNS Update" [ "$(calls_of modify)" = $((modify0 + 1)) ]
expect_foreign "$EP" "the OutBoundNAT and the other agent's ACL kept, first, unchanged" "[$NAT,$OTHER_ACL]"

step "No drift: resyncs make no call"
modify0=$(calls_of modify)
passes() { metric hnsnetpol_sync_duration_seconds_count; }
passes_ge() { [ "$(passes)" -ge "$1" ]; }
base=$(passes)
WAIT_TIMEOUT=10 wait_until "two more sync passes (resyncs) happened" passes_ge $((base + 2))
check "no HNS Update when nothing drifted" [ "$(calls_of modify)" = "$modify0" ]

e2e_pass
