#!/usr/bin/env bash
# run-watch-bench.sh BUILD_DIR [TOOLS_DIR] - how fast the agent ingests
# watch events (hnp-bench-watch), against jansson's parse of the same bytes.
#
# Generates (and caches, under BUILD_DIR/bench-agent/data/) a cluster with
# hnp-gen-cluster, turns its pods into watch event lines with
# hnp-watch-events (every pod ADDED, then every pod MODIFIED, managedFields
# included as a 1.20 API server sends them), and runs hnp-bench-watch on
# them. The table goes to standard output and BUILD_DIR/bench-agent/watch.md.
#
# BUILD_DIR holds tests/bench/hnp-gen-cluster; TOOLS_DIR holds
# hnp-watch-events and hnp-bench-watch (default BUILD_DIR/tests/bench/agent).
# Environment: HNP_BENCH_RUNS (3), HNP_BENCH_WATCH_PODS (20000),
# HNP_BENCH_SEED (1).
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 BUILD_DIR [TOOLS_DIR]" >&2
    exit 2
fi
BUILD_DIR=$(cd "$1" && pwd)
TOOLS=${2:-$BUILD_DIR/tests/bench/agent}
GEN=$BUILD_DIR/tests/bench/hnp-gen-cluster
EVENTS=$TOOLS/hnp-watch-events
BENCH=$TOOLS/hnp-bench-watch
RUNS=${HNP_BENCH_RUNS:-3}
PODS=${HNP_BENCH_WATCH_PODS:-20000}
SEED=${HNP_BENCH_SEED:-1}
for tool in "$GEN" "$EVENTS" "$BENCH"; do
    [ -x "$tool" ] || {
        echo "$0: $tool is missing; build the bench tools first" >&2
        exit 2
    }
done

DATA=$BUILD_DIR/bench-agent/data
mkdir -p "$DATA"
cluster=$DATA/cluster-${PODS}p-s$SEED.json
events=$DATA/events-${PODS}p-s$SEED.jsonl
if [ ! -s "$cluster" ] || [ "$GEN" -nt "$cluster" ]; then
    echo "generating $(basename "$cluster") ..." >&2
    "$GEN" --pods "$PODS" --namespaces $((PODS / 10 > 0 ? PODS / 10 : 1)) --policies $((PODS / 40)) \
        --seed "$SEED" -o "$cluster.tmp"
    mv "$cluster.tmp" "$cluster"
fi
if [ ! -s "$events" ] || [ "$cluster" -nt "$events" ] || [ "$EVENTS" -nt "$events" ]; then
    echo "writing $(basename "$events") ..." >&2
    "$EVENTS" -o "$events.tmp" "$cluster"
    mv "$events.tmp" "$events"
fi

{
    echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "- machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), Linux $(uname -r)"
    echo "- load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    "$BENCH" --runs "$RUNS" "$events"
    echo
    echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$BUILD_DIR/bench-agent/watch.md"
