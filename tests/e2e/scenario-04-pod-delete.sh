#!/usr/bin/env bash
# Scenario 4: pod deletion. Two clients are allowed into the server; deleting
# one removes its IP from the server's rule, deleting the other removes the
# rule (no peer left: the server stays isolated). A pod that is deleted and
# created again with another IP is followed. Deleting the server pod itself
# (its endpoint removed first, as the CNI does) leaves nothing behind and no error.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "pod delete: its IP leaves the peers' rules"

EP=e2e00004-0000-4000-8000-000000000001
SERVER_IP=10.240.0.40
C1=10.240.0.41 # node-1; a peer needs no HNS endpoint here
C2=10.240.1.43 # node-2
C3=10.240.1.45 # c1 again, rescheduled

e2e_start_apiserver
endpoint_add "$EP" "$SERVER_IP"
ns_create demo
pod_create demo server node-1 "$SERVER_IP" '{"app":"server"}'
pod_create demo c1 node-1 "$C1" '{"app":"client"}'
pod_create demo c2 node-2 "$C2" '{"app":"client"}'
policy_create demo <"$E2E_TOP/docs/demo/demo-policy.yaml"
agent_start
wait_synced

expect_peers() {
    local rules=()
    [ -n "$2" ] && rules=("In 1000 Allow hnp-<demo/demo-policy>-in0-tcp-0 LocalPorts=80 Protocols=6 RemoteAddresses=$2")
    expect_acls "$EP" "$1" "$(isolated_in "${rules[@]}")"
}

expect_peers "both clients allowed" "$C1,$C2"

step "Delete client c1"
pod_delete demo c1
expect_peers "only c2 left" "$C2"

step "c1 comes back on node-2 with another IP"
pod_create demo c1 node-2 "$C3" '{"app":"client"}'
expect_peers "c2 and the new c1" "$C2,$C3"

step "Delete both clients"
pod_delete demo c1
pod_delete demo c2
expect_peers "no client left: the rule is gone, the server stays isolated" ""
expect_matches_translate "ACLs equal hnsnetpol translate's"

step "The server goes: the CNI removes its endpoint, then the pod object is deleted"
modify_before=$(calls_of modify)
endpoint_remove "$EP"
wait_until "metric hnsnetpol_local_endpoints drops to 0" metric_eq hnsnetpol_local_endpoints 0
pod_delete demo server
wait_polls 3
check "no HNS Update for the vanished endpoint" [ "$(calls_of modify)" = "$modify_before" ]

e2e_pass
