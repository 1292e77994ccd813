#!/usr/bin/env bash
# Scenario 5: an endpoint that appears after its pod and the policy are known
# (the CNI is slower than the API server) gets its ACLs within about a second
# of the agent's next endpoint poll (200 ms here). Then the endpoint goes and
# the same IP comes back on a new endpoint ID (a pod sandbox recreated): the
# new endpoint is bound to the pod and gets the ACLs; the old one is
# forgotten quietly (no call for it). Last, the ID changes between two polls
# (one atomic edit of the state file): the IP is re-bound to the new ID.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "endpoint added late gets its ACLs within about a second of the next poll"

EP_OLD=e2e00005-0000-4000-8000-000000000001
EP_NEW=e2e00005-0000-4000-8000-000000000002
SERVER_IP=10.240.0.50
CLIENT_IP=10.240.1.51
BOUND_MS=${HNP_E2E_LATE_BOUND_MS:-1500} # 200 ms poll + 1 s, + 300 ms slack for a loaded machine

WANT=$(demo_allows "$CLIENT_IP")

e2e_start_apiserver
ns_create demo
pod_create demo server node-1 "$SERVER_IP" '{"app":"server"}'
pod_create demo client node-2 "$CLIENT_IP" '{"app":"client"}'
policy_create demo <"$E2E_TOP/docs/demo/demo-policy.yaml"

step "The agent starts with no HNS endpoint at all"
agent_start
wait_synced
wait_polls 2
check "no HNS Update (nothing to update)" [ "$(calls_of modify)" = 0 ]

# timed_acls ID: add-time to ACL-time in ms, against BOUND_MS.
timed_acls() {
    local id=$1 t0 took
    t0=$(now_ms)
    endpoint_add "$id" "$SERVER_IP"
    expect_acls "$id" "the new endpoint gets the server's ACLs" "$WANT"
    took=$(($(now_ms) - t0))
    say "endpoint added -> ACLs in the state file: $took ms (bound $BOUND_MS ms)"
    [ "$took" -le "$BOUND_MS" ] || fail "ACLs took $took ms to reach a new endpoint, more than $BOUND_MS ms"
    ok "ACLs within $BOUND_MS ms of adding the endpoint ($took ms)"
}

step "The CNI creates the server's endpoint"
timed_acls "$EP_OLD"
check "exactly one HNS Update" [ "$(calls_of modify)" = 1 ]

step "The endpoint goes; the same IP comes back on a new endpoint ID"
endpoint_remove "$EP_OLD"
wait_until "metric hnsnetpol_local_endpoints drops to 0" metric_eq hnsnetpol_local_endpoints 0
timed_acls "$EP_NEW"
check "exactly one more HNS Update, for the new endpoint" [ "$(calls_of modify)" = 2 ]
wait_until "metric hnsnetpol_local_endpoints is 1" metric_eq hnsnetpol_local_endpoints 1

step "In one poll: the endpoint is replaced by a new ID with the same IP (no ACLs on it yet)"
EP_3=e2e00005-0000-4000-8000-000000000003
state_edit '(.endpoints[] | select(.ID == $old)) |= (.ID = $new | .Policies = [])' --arg old "$EP_NEW" --arg new "$EP_3"
say "endpoint $EP_NEW replaced by $EP_3 (same IP, no policies) in one atomic edit"
expect_acls "$EP_3" "the IP is re-bound to the new endpoint, which gets the ACLs" "$WANT"
check "exactly one more HNS Update (3)" [ "$(calls_of modify)" = 3 ]

e2e_pass
