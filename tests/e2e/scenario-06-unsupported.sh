#!/usr/bin/env bash
# Scenario 6: a policy with a named port is rejected. It is not applied (the
# pod it selects gets no ACL), while a supported policy created after it is;
# a Warning Event with reason UnsupportedOnWindows on the policy is readable
# from the API (what `kubectl describe networkpolicy` shows), once per policy
# generation; the log says why, with the field path; and /metrics counts it
# under hnsnetpol_policies_rejected{feature="namedPort"}.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "unsupported policy (named port): not applied, Event and metric"

EP_WEB=e2e00006-0000-4000-8000-000000000001
EP_DB=e2e00006-0000-4000-8000-000000000002
WEB_IP=10.240.0.60
DB_IP=10.240.0.61

e2e_start_apiserver
endpoint_add "$EP_WEB" "$WEB_IP"
endpoint_add "$EP_DB" "$DB_IP"
ns_create shop
pod_create shop web node-1 "$WEB_IP" '{"app":"web"}'
pod_create shop db node-1 "$DB_IP" '{"app":"db"}'
agent_start
wait_synced

step "A policy with a named port (port: http) selecting app=web"
policy_create shop <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-named-port
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: web
  ingress:
  - ports:
    - port: http
EOF
step "Then a supported policy selecting app=db (proof that the agent has moved past the first)"
policy_create shop <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-deny-all
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: db
EOF
expect_acls "$EP_DB" "the supported policy is applied to db" "$(isolated_in)"
expect_acls_now "$EP_WEB" "the named-port policy is not applied: web has no ACL" ""

step "The rejection is visible"
wait_until "metric hnsnetpol_policies_rejected{feature=\"namedPort\"} is 1" \
    metric_eq 'hnsnetpol_policies_rejected{feature="namedPort"}' 1
wait_until "metric hnsnetpol_policies{state=\"rejected\"} is 1" metric_eq 'hnsnetpol_policies{state="rejected"}' 1
wait_until "metric hnsnetpol_policies{state=\"applied\"} is 1" metric_eq 'hnsnetpol_policies{state="applied"}' 1
wait_until "metric hnsnetpol_policies{state=\"known\"} is 2" metric_eq 'hnsnetpol_policies{state="known"}' 2
check "the log has a warning naming the policy, the feature and the field path" \
    grep -Eq 'WARN .*policy=shop/web-named-port.*feature=namedPort.*spec\.ingress\[0\]\.ports\[0\]\.port' "$AGENT_LOG"

# rejection_events: the UnsupportedOnWindows Events about shop/web-named-port, as the admin reads them.
rejection_events() {
    kube GET /api/v1/namespaces/shop/events
    jq -c '[.items[] | select(.reason == "UnsupportedOnWindows"
                              and .involvedObject.kind == "NetworkPolicy"
                              and .involvedObject.name == "web-named-port")]' "$KUBE_OUT"
}
has_rejection_event() { [ "$(rejection_events | jq length)" -ge 1 ]; }
wait_until "a Kubernetes Event UnsupportedOnWindows on the policy is readable from the API" has_rejection_event
ev=$(rejection_events | jq '.[0]')
say "Event: $(jq -c '{type, reason, message, count, source, involvedObject: .involvedObject.name}' <<<"$ev")"
check "the Event is a Warning" [ "$(jq -r .type <<<"$ev")" = Warning ]
check "its message names the node, namedPort and the field path" \
    jq -e '.message | test("node-1") and test("namedPort") and test("spec\\.ingress\\[0\\]\\.ports\\[0\\]\\.port")' <<<"$ev"
kube GET /apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/web-named-port
uid=$(jq -r .metadata.uid "$KUBE_OUT")
check "it points at the policy's namespace and uid" \
    jq -e --arg uid "$uid" \
    '.involvedObject.namespace == "shop" and .involvedObject.uid == $uid' <<<"$ev"
kube GET /api/v1/namespaces/shop/events
check "no Event about the supported policy" \
    jq -e '[.items[] | select(.involvedObject.name == "db-deny-all")] | length == 0' "$KUBE_OUT"

step "Once per generation: later changes that cause other work do not post it again"
pod_create shop other node-2 10.240.1.62 '{"app":"other"}'
pod_label shop web '{"tier":"frontend"}'
policy_replace shop db-deny-all <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db-deny-all
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: db
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: other
EOF
expect_acls "$EP_DB" "db now allows app=other (the agent has processed these changes)" \
    "$(isolated_in "In 1000 Allow hnp-<shop/db-deny-all>-in0-all-0 RemoteAddresses=10.240.1.62")"
wait_polls 5
check "still exactly one Event for the rejected policy" [ "$(rejection_events | jq length)" = 1 ]
expect_acls_now "$EP_WEB" "web still has no ACL" ""

e2e_pass
