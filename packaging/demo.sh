#!/usr/bin/env bash
# The Azure walkthrough "secure traffic between pods with network policies",
# reproduced offline: namespace demo, pods server and client, demo-policy;
# client -> server is denied until the client is labelled app=client; the
# server endpoint's HCN ACL JSON is shown at each step.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/packaging/install-deps.sh"
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target hnsnetpol >/dev/null
hnp="$top/build/release/hnsnetpol"
demo="$top/docs/demo"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }
run() { "$@" || true; }

step "1. Is demo-policy enforceable on Windows?" \
    "hnsnetpol validate docs/demo/demo-policy.yaml"
run "$hnp" validate "$demo/demo-policy.yaml"

step "2. client -> server on TCP 80, client not labelled" \
    "hnsnetpol explain --from demo/client --to demo/server --port 80 cluster.yaml demo-policy.yaml"
run "$hnp" explain --from demo/client --to demo/server --port 80 \
    "$demo/cluster.yaml" "$demo/demo-policy.yaml"

step "3. The server endpoint's ACLs" \
    "hnsnetpol translate --node akswin22000001 -o table cluster.yaml demo-policy.yaml"
run "$hnp" translate --node akswin22000001 -o table "$demo/cluster.yaml" "$demo/demo-policy.yaml"

step "4. kubectl label pod client -n demo app=client; client -> server again" \
    "hnsnetpol explain --from demo/client --to demo/server --port 80 cluster.yaml client-labelled.yaml demo-policy.yaml"
run "$hnp" explain --from demo/client --to demo/server --port 80 \
    "$demo/cluster.yaml" "$demo/client-labelled.yaml" "$demo/demo-policy.yaml"

step "5. The HcnModifyEndpoint request for the server endpoint, client labelled" \
    "hnsnetpol translate --node akswin22000001 cluster.yaml client-labelled.yaml demo-policy.yaml"
run "$hnp" translate --node akswin22000001 \
    "$demo/cluster.yaml" "$demo/client-labelled.yaml" "$demo/demo-policy.yaml"

step "6. A policy Windows cannot enforce is rejected, with the fields named" \
    "hnsnetpol validate docs/demo/unsupported-policy.yaml"
run "$hnp" validate "$demo/unsupported-policy.yaml"

printf '\nThe binary is %s\n' "$hnp"
