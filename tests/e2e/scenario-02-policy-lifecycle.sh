#!/usr/bin/env bash
# Scenario 2: a NetworkPolicy added, updated twice and deleted. Our ACLs
# appear, change and disappear, one HNS Update per change; the endpoint's
# foreign policies (an OutBoundNAT and another component's ACL, as Azure CNI
# leaves them) stay first and unchanged throughout.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
e2e_init "policy add / update / delete; foreign policies stay first and unchanged"

EP=e2e00002-0000-4000-8000-000000000001
WEB_IP=10.240.0.20
CLIENT_IP=10.240.1.21 # on node-2: a peer, not a local endpoint
NAT='{"Type":"OutBoundNAT","Settings":{"Exceptions":["10.0.0.0/8","10.240.0.0/16"]}}'
CNI_ACL='{"Type":"ACL","Settings":{"Id":"azure-cni-allow-all","Action":"Allow","Direction":"In","RuleType":"Switch","Priority":65500}}'
FOREIGN="[$NAT,$CNI_ACL]"

e2e_start_apiserver
endpoint_add "$EP" "$WEB_IP" --policy "$NAT" --policy "$CNI_ACL"
ns_create shop
pod_create shop web node-1 "$WEB_IP" '{"app":"web"}'
pod_create shop client node-2 "$CLIENT_IP" '{"app":"client"}'
agent_start
wait_synced
expect_acls_now "$EP" "no policy: no ACL of ours" ""
expect_foreign "$EP" "foreign policies untouched" "$FOREIGN"

step "Add: ingress to app=web from app=client on TCP 80"
policy_create shop <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-policy
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: client
    ports:
    - port: 80
EOF
expect_acls "$EP" "ACLs appear" \
    "$(isolated_in "In 1000 Allow hnp-<shop/web-policy>-in0-tcp-0 LocalPorts=80 Protocols=6 RemoteAddresses=$CLIENT_IP")"
expect_foreign "$EP" "OutBoundNAT and the foreign ACL still first and unchanged" "$FOREIGN"
check "one HNS Update" [ "$(calls_of modify)" = 1 ]

step "Update: TCP 8080 and UDP 53 instead of TCP 80"
policy_replace shop web-policy <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-policy
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: client
    ports:
    - port: 8080
    - port: 53
      protocol: UDP
EOF
expect_acls "$EP" "ACLs change" \
    "$(isolated_in "In 1000 Allow hnp-<shop/web-policy>-in0-tcp-0 LocalPorts=8080 Protocols=6 RemoteAddresses=$CLIENT_IP" \
        "In 1000 Allow hnp-<shop/web-policy>-in0-udp-0 LocalPorts=53 Protocols=17 RemoteAddresses=$CLIENT_IP")"
expect_foreign "$EP" "foreign policies still first and unchanged" "$FOREIGN"
check "one more HNS Update (2)" [ "$(calls_of modify)" = 2 ]

step "Update: egress isolated too, allowed only to 10.96.0.10 UDP 53 (DNS)"
policy_replace shop web-policy <<'EOF'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-policy
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: client
    ports:
    - port: 8080
  egress:
  - to:
    - ipBlock:
        cidr: 10.96.0.10/32
    ports:
    - port: 53
      protocol: UDP
EOF
expect_acls "$EP" "egress now isolated, DNS allowed out" \
    "In 200 Allow hnp-node-in RemoteAddresses=$NODE1_IP
In 1000 Allow hnp-<shop/web-policy>-in0-tcp-0 LocalPorts=8080 Protocols=6 RemoteAddresses=$CLIENT_IP
In 65000 Block hnp-isolate-in
Out 1000 Allow hnp-<shop/web-policy>-out0-udp-0 Protocols=17 RemoteAddresses=10.96.0.10 RemotePorts=53
Out 65000 Block hnp-isolate-out"
expect_foreign "$EP" "foreign policies still first and unchanged" "$FOREIGN"
expect_matches_translate "ACLs equal hnsnetpol translate's"
check "one more HNS Update (3)" [ "$(calls_of modify)" = 3 ]

step "Delete"
policy_delete shop web-policy
expect_acls "$EP" "our ACLs gone (no policy selects the pod)" ""
expect_foreign "$EP" "foreign policies kept, first and unchanged" "$FOREIGN"
check "the endpoint holds exactly the foreign policies again" [ "$(policies_of "$EP")" = "$(jq -c . <<<"$FOREIGN")" ]
check "one more HNS Update (4)" [ "$(calls_of modify)" = 4 ]
wait_until "metric hnsnetpol_policies{state=\"known\"} back to 0" metric_eq 'hnsnetpol_policies{state="known"}' 0

e2e_pass
