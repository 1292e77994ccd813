#!/usr/bin/env bash
# run-bench.sh BUILD_DIR [TOOLS_DIR] - benchmark `hnsnetpol translate`.
#
# Compares translate with the floor (hnp-jansson-floor: json_load_file() of
# the same file and nothing else) on a synthetic 20,000-pod / 2,000-namespace
# / 1,000-policy cluster, then shows how translate grows with cluster size and
# what YAML input costs. Every figure is taken for each generator profile:
# "realistic" (objects the size of real ones, managedFields included) and
# "lean" (the same cluster cut down to about what translation reads, near the
# issue's reference file). Prints markdown tables; everything it writes
# (cached clusters, logs, results.md) goes under BUILD_DIR/bench/. See
# docs/dev/performance.md.
#
# BUILD_DIR holds the hnsnetpol program; TOOLS_DIR holds hnp-gen-cluster,
# hnp-jansson-floor and hnp-measure (default BUILD_DIR/tests/bench).
# Environment: HNP_BENCH_RUNS (runs per figure, default 3),
# HNP_BENCH_SIZES (pod counts of the growth table, default
# "1000 5000 20000 50000 100000"), HNP_BENCH_PROFILES (default
# "realistic lean"), HNP_BENCH_NODE (default node-0001), HNP_BENCH_SEED
# (default 1).
#
# Exit status: 0 when every figure was measured, 1 when translate failed
# (the floor figures are still printed), 2 on bad usage or missing tools.
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 BUILD_DIR [TOOLS_DIR]" >&2
    exit 2
fi
BUILD_DIR=$(cd "$1" && pwd) || exit 2
TOOLS=${2:-$BUILD_DIR/tests/bench}
GEN=$TOOLS/hnp-gen-cluster
FLOOR=$TOOLS/hnp-jansson-floor
MEASURE=$TOOLS/hnp-measure
HNS=$BUILD_DIR/hnsnetpol
RUNS=${HNP_BENCH_RUNS:-3}
SIZES=${HNP_BENCH_SIZES:-"1000 5000 20000 50000 100000"}
PROFILES=${HNP_BENCH_PROFILES:-"realistic lean"}
NODE=${HNP_BENCH_NODE:-node-0001}
SEED=${HNP_BENCH_SEED:-1}
OUT=$BUILD_DIR/bench
DATA=$OUT/data
LOGS=$OUT/logs
RESULTS=$OUT/results.md

for tool in "$GEN" "$FLOOR" "$MEASURE" "$HNS"; do
    if [ ! -x "$tool" ]; then
        echo "$0: $tool is missing; build hnsnetpol and the bench tools first" >&2
        exit 2
    fi
done
for profile in $PROFILES; do
    case $profile in
    realistic | lean) ;;
    *)
        echo "$0: unknown profile '$profile' in HNP_BENCH_PROFILES (realistic, lean)" >&2
        exit 2
        ;;
    esac
done
mkdir -p "$DATA" "$LOGS" || exit 2
: >"$RESULTS"

say() {
    printf '%s\n' "$*" | tee -a "$RESULTS"
}

# cluster PODS FORMAT PROFILE -> prints the path of the cached cluster file,
# generating it when missing or older than the generator.
cluster() {
    local pods=$1 fmt=$2 profile=$3
    local ns=$((pods / 10)) pol=$((pods / 20))
    [ "$ns" -ge 1 ] || ns=1
    local f=$DATA/cluster-${pods}p-${ns}n-${pol}np-s${SEED}-$profile.$fmt
    if [ ! -s "$f" ] || [ "$GEN" -nt "$f" ]; then
        echo "generating $(basename "$f") ..." >&2
        if ! "$GEN" --pods "$pods" --namespaces "$ns" --policies "$pol" --seed "$SEED" \
            --profile "$profile" -f "$fmt" -o "$f.tmp"; then
            rm -f "$f.tmp"
            return 1
        fi
        mv "$f.tmp" "$f"
    fi
    printf '%s\n' "$f"
}

# measure LOG CMD ARGS... -> prints "cpu rss wall exit"; the command's
# standard output is discarded, its standard error kept in LOG.
measure() {
    local log=$1
    shift
    "$MEASURE" -- "$@" >/dev/null 2>"$log"
    awk -F'[= ]' '/^cpu_s=/ { c = $2; r = $4; w = $6; e = $8 }
        END { if (c == "") print "- - - 127"; else print c, r, w, e }' "$log"
}

median() {
    printf '%s\n' "$@" | grep -v '^-$' | sort -g | awk '{ a[NR] = $1 }
        END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2];
              else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { n = "^[0-9]+([.][0-9]*)?$";
        if (a !~ n || b !~ n || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
}

mb() {
    awk -v s="$(stat -c %s "$1")" 'BEGIN { m = s / 1048576; printf (m < 10 ? "%.1f\n" : "%.0f\n"), m }'
}

# translate ran when it exited 0 (all applied) or 1 (some policy rejected).
translate_ok() {
    [ "$1" = 0 ] || [ "$1" = 1 ]
}

show_failure() {
    say ""
    say "translate FAILED (exit $1); first lines of its standard error ($2):"
    say ""
    say '```'
    grep -v '^cpu_s=' "$2" | head -n 5 | tee -a "$RESULTS"
    say '```'
}

cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
mem_gb=$(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo 2>/dev/null)
say "# hnsnetpol translate benchmark"
say ""
say "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "- machine: $(nproc) CPUs, ${cpu_model:-unknown CPU}, ${mem_gb:-?} GB RAM"
say "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
say "- jansson $(pkg-config --modversion jansson 2>/dev/null || echo '?'), translate node $NODE, seed $SEED, $RUNS runs per figure (median), profiles: $PROFILES"
say ""

translate_failed=0      # any translate run failed: the exit status
declare -A floor_cpu    # median floor figures of the 20k JSON, per profile
declare -A floor_rss
declare -A broken       # translate failed on the 20k JSON of this profile

# ---- 1. translate against the floor, 20,000 pods -------------------------
for profile in $PROFILES; do
    f20=$(cluster 20000 json "$profile") || { echo "$0: cannot generate the cluster" >&2; exit 2; }
    say "## 20,000 pods / 2,000 namespaces / 1,000 policies, JSON, $profile profile ($(mb "$f20") MB)"
    say ""

    # Untimed warm-up: fills the page cache and keeps one translate output to look at.
    "$FLOOR" "$f20" || { echo "$0: the floor cannot load $f20" >&2; exit 2; }
    kept=$OUT/translate-20000-$profile.json
    "$HNS" translate --node "$NODE" -o json "$f20" >"$kept" 2>"$LOGS/translate-20000-$profile-warmup.err"
    warm=$?
    if translate_ok "$warm"; then
        say "translate output for $NODE: $(stat -c %s "$kept") bytes (exit $warm), kept in $kept"
        say ""
    fi

    say "| run | floor CPU s | floor peak RSS MB | translate CPU s | translate peak RSS MB | CPU / floor | RSS / floor |"
    say "|---|---|---|---|---|---|---|"
    fc=() fr=() tc=() tr=()
    last_exit=0
    for i in $(seq 1 "$RUNS"); do
        read -r c r _ e < <(measure "$LOGS/floor-20000-$profile-$i.err" "$FLOOR" "$f20")
        [ "$e" = 0 ] || { c=-; r=-; }
        fc+=("$c") fr+=("$r")
        read -r c2 r2 _ e2 < <(measure "$LOGS/translate-20000-$profile-$i.err" \
            "$HNS" translate --node "$NODE" -o json "$f20")
        if translate_ok "$e2"; then
            tc+=("$c2") tr+=("$r2")
            say "| $i | $c | $r | $c2 | $r2 | $(ratio "$c2" "$c") | $(ratio "$r2" "$r") |"
        else
            last_exit=$e2
            broken[$profile]=1
            translate_failed=1
            say "| $i | $c | $r | failed (exit $e2) | - | - | - |"
        fi
    done
    mfc=$(median "${fc[@]}")
    mfr=$(median "${fr[@]}")
    floor_cpu[$profile]=$mfc
    floor_rss[$profile]=$mfr
    if [ "${#tc[@]}" -gt 0 ]; then
        mtc=$(median "${tc[@]}")
        mtr=$(median "${tr[@]}")
    else
        mtc=- mtr=-
    fi
    say "| **median** | **$mfc** | **$mfr** | **$mtc** | **$mtr** | **$(ratio "$mtc" "$mfc")** | **$(ratio "$mtr" "$mfr")** |"
    say ""
    say "Targets: translate CPU <= 1.5 x floor CPU; translate peak RSS <= floor peak RSS."
    if [ "${broken[$profile]:-0}" = 1 ]; then
        show_failure "$last_exit" "$LOGS/translate-20000-$profile-$RUNS.err"
    fi
    say ""
done

# ---- 2. growth -----------------------------------------------------------
say "## Growth (pods/10 namespaces, pods/20 policies, JSON)"
say ""
say "| pods | profile | file MB | floor CPU s | floor peak RSS MB | translate CPU s | translate peak RSS MB | CPU / floor | RSS / floor |"
say "|---|---|---|---|---|---|---|---|---|"
growth_failures=()
for pods in $SIZES; do
    for profile in $PROFILES; do
        f=$(cluster "$pods" json "$profile") || { say "| $pods | $profile | generation failed |"; continue; }
        gfc=() gfr=() gtc=() gtr=() gte=
        for i in $(seq 1 "$RUNS"); do
            read -r c r _ e < <(measure "$LOGS/floor-$pods-$profile-$i.err" "$FLOOR" "$f")
            [ "$e" = 0 ] && gfc+=("$c") gfr+=("$r")
            if [ "${broken[$profile]:-0}" = 0 ]; then
                read -r c r _ e < <(measure "$LOGS/translate-$pods-$profile-$i.err" \
                    "$HNS" translate --node "$NODE" -o json "$f")
                if translate_ok "$e"; then
                    gtc+=("$c") gtr+=("$r")
                else
                    gte=$e
                fi
            fi
        done
        a=$(median "${gfc[@]}") b=$(median "${gfr[@]}")
        if [ "${#gtc[@]}" -gt 0 ]; then
            c=$(median "${gtc[@]}") d=$(median "${gtr[@]}")
        elif [ "${broken[$profile]:-0}" = 1 ]; then
            c=pending d=pending
        else
            c="failed (exit $gte)" d=-
            growth_failures+=("$pods-$profile")
        fi
        say "| $pods | $profile | $(mb "$f") | $a | $b | $c | $d | $(ratio "$c" "$a") | $(ratio "$d" "$b") |"
    done
done
say ""
for run in "${growth_failures[@]}"; do
    say "- translate failed at $run: $(grep -v '^cpu_s=' "$LOGS/translate-$run-$RUNS.err" | head -n 1)"
    translate_failed=1
done
[ "${#growth_failures[@]}" -eq 0 ] || say ""

# ---- 3. YAML -------------------------------------------------------------
say "## 20,000 pods, YAML (no jansson floor for YAML: ratios to the JSON floor of the same profile)"
say ""
say "| profile | file MB | run | translate CPU s | translate peak RSS MB | CPU / JSON floor | RSS / JSON floor |"
say "|---|---|---|---|---|---|---|"
for profile in $PROFILES; do
    fy=$(cluster 20000 yaml "$profile") || { echo "$0: cannot generate the YAML cluster" >&2; exit 2; }
    if [ "${broken[$profile]:-0}" = 1 ]; then
        say "| $profile | $(mb "$fy") | - | pending (failed on the JSON input above) | - | - | - |"
        continue
    fi
    yc=() yr=()
    for i in $(seq 1 "$RUNS"); do
        read -r c r _ e < <(measure "$LOGS/translate-yaml-20000-$profile-$i.err" \
            "$HNS" translate --node "$NODE" -o json "$fy")
        if translate_ok "$e"; then
            yc+=("$c") yr+=("$r")
            say "| $profile | $(mb "$fy") | $i | $c | $r | $(ratio "$c" "${floor_cpu[$profile]}") | $(ratio "$r" "${floor_rss[$profile]}") |"
        else
            say "| $profile | $(mb "$fy") | $i | failed (exit $e) | - | - | - |"
            translate_failed=1
        fi
    done
    if [ "${#yc[@]}" -gt 0 ]; then
        c=$(median "${yc[@]}") r=$(median "${yr[@]}")
        say "| **$profile** | | **median** | **$c** | **$r** | **$(ratio "$c" "${floor_cpu[$profile]}")** | **$(ratio "$r" "${floor_rss[$profile]}")** |"
    fi
done
say ""
say "Results: $RESULTS; logs: $LOGS/"

exit "$translate_failed"
