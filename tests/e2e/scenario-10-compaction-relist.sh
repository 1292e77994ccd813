#!/usr/bin/env bash
# Scenario 10: etcd is compacted past the agent's resourceVersions, so its
# watches get 410 Gone when they resume; the agent relists, converges on what
# changed meanwhile, and makes no HNS call for what did not change.
#
# How the 410 is made to reach the agent (what works with kube-apiserver 1.20):
#  - kube-apiserver runs with --watch-cache=false, so watches go to etcd
#    itself. With the watch cache (the default) a watch is served from the
#    cache's window of recent events, and compacting etcd changes nothing
#    for it (checked: a watch from a compacted revision still replays).
#  - An established watch is not affected by a compaction either: only a
#    watch that *starts* at a compacted revision gets 410. So the agent is
#    paused (SIGSTOP) and its TCP connections to the API server are cut with
#    `ss -K` (the server ends its watches; the paused agent notices nothing
#    yet). Then a change is made, etcd is advanced (ConfigMap churn) and
#    compacted. Resumed (SIGCONT), the agent finds its connections gone and
#    watches again from its last resourceVersions, which are compacted: 410,
#    relist, and the change arrives through the relist only. (Cutting the
#    connections after the change is not enough: the event already sitting
#    in the agent's socket buffer is still read before the abort.)
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "etcd compacted: the watch gets 410, the agent relists and converges"

EP=e2e00010-0000-4000-8000-000000000001
SERVER_IP=10.240.0.100
CLIENT_IP=10.240.1.101
ISOLATED=$(isolated_in)
ALLOWED=$(demo_allows "$CLIENT_IP")

e2e_start_apiserver
step "kube-apiserver without its watch cache (watches served by etcd)"
api_stop
api_start --watch-cache=false

endpoint_add "$EP" "$SERVER_IP"
ns_create demo
pod_create demo server node-1 "$SERVER_IP" '{"app":"server"}'
pod_create demo client node-2 "$CLIENT_IP" '{"run":"client"}'
policy_create demo <"$E2E_TOP/docs/demo/demo-policy.yaml"
agent_start
wait_synced
expect_acls "$EP" "server isolated" "$ISOLATED"

relists() { metric_watched hnsnetpol_relists_total; }
relists0=$(relists)
say "hnsnetpol_relists_total, all resources: $relists0"
rv_before=$(etcd_revision)

step "Pause the agent and cut its connections; label the client app=client; churn and compact etcd"
agent_pause
agent_cut_connections
pod_label demo client '{"app":"client"}'
kube POST /api/v1/namespaces application/json <<<'{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"churn"}}'
for i in $(seq 1 40); do
    kube POST /api/v1/namespaces/churn/configmaps application/json \
        <<<"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm-$i\"},\"data\":{\"i\":\"$i\"}}"
done
say "40 ConfigMaps written: etcd revision $rv_before -> $(etcd_revision)"
etcd_compact "$(etcd_revision)"

# The mechanism itself: a watch from the old revision now gets 410.
watch_out=$E2E_DIR/watch-410.json
curl -sS --max-time 10 --cacert "$HNP_CA_FILE" -H "Authorization: Bearer $HNP_ADMIN_TOKEN" \
    "$HNP_APISERVER_URL/api/v1/pods?watch=1&resourceVersion=$rv_before&timeoutSeconds=2" >"$watch_out" || true
check "a watch from revision $rv_before gets 410 Gone ($(head -c 160 "$watch_out"))" \
    jq -e -s 'any(.[]; .type == "ERROR" and .object.code == 410)' "$watch_out"
lines0=$(wc -l <"$AGENT_LOG")
agent_resume

step "The agent resumes: 410, relist, converge"
relists_grew() { [ "$(relists)" -gt "$relists0" ]; }
wait_until "hnsnetpol_relists_total increased" relists_grew
for r in namespaces pods networkpolicies; do
    wait_until "each watch was resumed at a compacted revision: hnsnetpol_relists_total{resource=\"$r\"} is 1" \
        metric_eq "hnsnetpol_relists_total{resource=\"$r\"}" 1
done
check "the log says the resource version is gone" grep -q 'resource version gone, relisting' "$AGENT_LOG"
expect_acls "$EP" "the label change converges" "$ALLOWED"
relisted_change() { tail -n +"$lines0" "$AGENT_LOG" | grep -q 'watch: listed resource=pods .*changed=1 '; }
check "it came through the relist of pods (the log's relist line counts 1 changed pod)" relisted_change
check "exactly one HNS Update for it (2 in all)" [ "$(calls_of modify)" = 2 ]

step "Watching resumed after the relist: a later change converges too"
pod_label demo client '{"app":"other"}'
expect_acls "$EP" "client unlabelled again: nothing allowed in" "$ISOLATED"
check "one more HNS Update (3 in all)" [ "$(calls_of modify)" = 3 ]

E2E_ERRORS_EXPECTED=1 # the cut connections are logged
e2e_pass
