#!/usr/bin/env bash
# A real kube-apiserver (1.20.2, built by packaging/build-kube-apiserver.sh)
# and etcd (Debian's etcd-server) on 127.0.0.1, for the end-to-end tests.
#
#   apiserver.sh install                 install etcd, build/find kube-apiserver
#   apiserver.sh start DIR               start etcd + kube-apiserver, load RBAC
#   apiserver.sh stop DIR                stop both (and the watchdog), wait
#   apiserver.sh status DIR              say what runs; exit 0 only if both do
#   apiserver.sh curl DIR admin|agent PATH [curl options...]
#                                        curl the API as that user
#   apiserver.sh apply DIR admin|agent FILE...
#                                        create the objects of YAML manifests
#
# `start DIR` writes into DIR:
#   env                    shell-sourceable: HNP_APISERVER_URL, ports, CA, tokens
#   admin.kubeconfig       user `hnsnetpol-admin`, group system:masters
#   agent.kubeconfig       user `hnsnetpol-agent`, bound to ClusterRole hnsnetpol only
#   admin.token agent.token
#   pki/                   ca.crt (trust this), server.{crt,key}, sa.{key,pub}
#   tokens.csv             the --token-auth-file
#   etcd-data/             wiped at every start: each start is a fresh cluster
#   etcd.log apiserver.log watchdog.log, *.pid
#
# A test must not leave servers behind: trap 'apiserver.sh stop DIR' EXIT in the
# caller. As a second line of defence `start` leaves a watchdog that stops
# the servers when HNP_E2E_OWNER_PID (if set; e.g. the test's $$) exits, or
# after HNP_E2E_MAX_LIFETIME seconds (default 3600; 0 = no limit).
#
# Environment: HNP_KUBE_APISERVER, HNP_ETCD (binaries; default: the cache of
# build-kube-apiserver.sh and `etcd` on PATH), HNP_CACHE_DIR,
# HNP_E2E_START_TIMEOUT (seconds to wait for readiness, default 90).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
self=$here/$(basename "$0")
top=$(cd "$here/../.." && pwd)
KUBE_VERSION=1.20.2

log() { echo "apiserver.sh: $*" >&2; }
die() { echo "apiserver.sh: ERROR: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$self" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

# ---------------------------------------------------------------- processes

# proc_start PID: the process's start time (field 22 of /proc/PID/stat), which
# with the pid names one process for good, whatever it execs later.
proc_start() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    # Fields after the ")" that closes the command name: state is field 3,
    # starttime field 22, i.e. the 1st and the 20th after it.
    # shellcheck disable=SC2086 # split into fields on purpose
    set -- ${stat##*) }
    case "$1" in
    Z | X) return 1 ;; # zombie or dead: gone for our purposes
    esac
    echo "${20}"
}

# record PIDFILE PID: remember the pid with its start time.
record() {
    echo "$2 $(proc_start "$2" || echo gone)" >"$1"
}

# alive PIDFILE [NAME]: the process recorded in PIDFILE still runs (same pid,
# same start time: not a recycled pid, not a zombie). NAME is for messages.
alive() {
    local pid start now
    [ -s "$1" ] || return 1
    read -r pid start <"$1" || true
    [ -n "$pid" ] && [ -n "$start" ] || return 1
    now=$(proc_start "$pid") || return 1
    [ "$now" = "$start" ]
}

# kill_wait PIDFILE NAME: TERM, wait up to 15 s, then KILL; remove PIDFILE.
kill_wait() {
    local pidfile=$1 name=$2 pid i
    if alive "$pidfile" "$name"; then
        read -r pid _ <"$pidfile"
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 150; i++)); do
            alive "$pidfile" "$name" || break
            sleep 0.1
        done
        if alive "$pidfile" "$name"; then
            log "$name (pid $pid) ignored SIGTERM for 15 s; SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do
                alive "$pidfile" "$name" || break
                sleep 0.1
            done
            alive "$pidfile" "$name" && die "$name (pid $pid) survives SIGKILL"
        fi
        log "stopped $name (pid $pid)"
    fi
    rm -f "$pidfile"
}

do_stop() {
    local dir=$1
    [ -d "$dir" ] || return 0
    if [ "${HNP_E2E_IN_WATCHDOG:-0}" != 1 ]; then
        kill_wait "$dir/watchdog.pid" apiserver.sh
    fi
    kill_wait "$dir/apiserver.pid" kube-apiserver
    kill_wait "$dir/etcd.pid" etcd
}

# ---------------------------------------------------------------- ports

port_in_use() {
    local p=$1
    if command -v ss >/dev/null 2>&1; then
        # Any TCP socket on that local port (listening, connected, TIME-WAIT).
        [ -n "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null
    fi
}

# pick_port EXCLUDED...: a random free loopback port in 20000-32767 (below
# Linux's ephemeral range, so outgoing connections do not take it meanwhile).
pick_port() {
    local p i x taken
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
        taken=0
        for x in "$@"; do [ "$x" = "$p" ] && taken=1; done
        [ "$taken" = 0 ] && ! port_in_use "$p" && { echo "$p"; return 0; }
    done
    die "no free loopback port found in 200 tries"
}

# ---------------------------------------------------------------- binaries

find_binaries() {
    cache_dir=${HNP_CACHE_DIR:-/var/cache/hnsnetpol}
    kube_apiserver=${HNP_KUBE_APISERVER:-$cache_dir/kube-apiserver-$KUBE_VERSION/kube-apiserver}
    [ -x "$kube_apiserver" ] || die "no kube-apiserver at $kube_apiserver: run packaging/build-kube-apiserver.sh (or '$self install')"
    etcd_bin=${HNP_ETCD:-$(command -v etcd || echo /usr/bin/etcd)}
    [ -x "$etcd_bin" ] || die "no etcd: run packaging/install-etcd.sh (or '$self install')"
    for tool in curl openssl base64 awk; do
        command -v "$tool" >/dev/null || die "$tool is needed"
    done
}

# ---------------------------------------------------------------- credentials

make_pki() {
    local pki=$1/pki
    mkdir -p "$pki"
    chmod 700 "$pki"
    if [ -s "$pki/ca.crt" ] && [ -s "$pki/server.crt" ] && [ -s "$pki/sa.key" ]; then
        return 0
    fi
    log "generating a CA, a serving certificate and a service-account key in $pki"
    (
        cd "$pki"
        umask 077
        openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
        openssl req -x509 -new -key ca.key -sha256 -days 3650 \
            -subj "/CN=hnsnetpol-e2e-ca" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" \
            -out ca.crt 2>/dev/null
        openssl ecparam -name prime256v1 -genkey -noout -out server.key 2>/dev/null
        openssl req -new -key server.key -subj "/CN=kube-apiserver" -out server.csr 2>/dev/null
        printf '%s\n' \
            "basicConstraints=critical,CA:FALSE" \
            "keyUsage=critical,digitalSignature,keyEncipherment" \
            "extendedKeyUsage=serverAuth" \
            "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc" \
            >server.ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
            -sha256 -days 3650 -extfile server.ext -out server.crt 2>/dev/null
        openssl ecparam -name prime256v1 -genkey -noout -out sa.key 2>/dev/null
        openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null
        rm -f server.csr server.ext ca.srl
        chmod 644 ca.crt server.crt sa.pub
    ) || die "openssl failed in $pki"
    openssl verify -CAfile "$pki/ca.crt" "$pki/server.crt" >/dev/null || die "generated server.crt does not verify"
}

random_token() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# write_kubeconfig FILE USER TOKEN
write_kubeconfig() {
    local ca_data
    ca_data=$(base64 -w0 <"$pki/ca.crt")
    (
        umask 077
        cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: hnsnetpol-e2e
    cluster:
      server: $api_url
      certificate-authority-data: $ca_data
users:
  - name: $2
    user:
      token: $3
contexts:
  - name: $2@hnsnetpol-e2e
    context:
      cluster: hnsnetpol-e2e
      user: $2
      namespace: default
current-context: $2@hnsnetpol-e2e
EOF
    )
}

load_env() {
    local dir=$1
    [ -s "$dir/env" ] || die "$dir/env missing: was '$self start $dir' run?"
    # shellcheck disable=SC1091
    . "$dir/env"
}

# ---------------------------------------------------------------- REST helpers

# kcurl TOKEN PATH [curl options...]: body on stdout; fails on transport errors.
kcurl() {
    local token=$1 path=$2
    shift 2
    curl -sS --max-time "${HNP_E2E_CURL_TIMEOUT:-30}" --cacert "$HNP_CA_FILE" \
        -H "Authorization: Bearer $token" "$@" "$HNP_APISERVER_URL$path"
}

# api_create TOKEN COLLECTION_PATH CONTENT_TYPE BODY_FILE LABEL: POST; 201 or
# 409 (already there) is success, anything else prints the Status and fails.
api_create() {
    local token=$1 path=$2 ctype=$3 body=$4 label=$5 out code
    out=$(mktemp)
    code=$(kcurl "$token" "$path" -X POST -H "Content-Type: $ctype" \
        --data-binary "@$body" -o "$out" -w '%{http_code}') || { rm -f "$out"; die "POST $path failed"; }
    case "$code" in
    201 | 200) log "created $label" ;;
    409) log "exists: $label" ;;
    *)
        echo "apiserver.sh: POST $path ($label): HTTP $code" >&2
        cat "$out" >&2
        echo >&2
        rm -f "$out"
        return 1
        ;;
    esac
    rm -f "$out"
}

# apply_yaml TOKEN FILE: create every document of a YAML manifest. The server
# takes YAML bodies (Content-Type: application/yaml), so no converter is
# needed; only apiVersion, kind and metadata.namespace are read here, which
# must be written plainly (`key: value` at the top level / under metadata).
apply_yaml() {
    local token=$1 file=$2 tmp doc api kind ns plural base path name
    [ -r "$file" ] || die "cannot read $file"
    tmp=$(mktemp -d)
    awk -v dir="$tmp" '
        BEGIN { n = 1; f = sprintf("%s/%03d.yaml", dir, n) }
        /^---/ { close(f); n++; f = sprintf("%s/%03d.yaml", dir, n); next }
        { print > f }
    ' "$file"
    for doc in "$tmp"/*.yaml; do
        [ -e "$doc" ] || continue
        grep -qv '^[[:space:]]*\(#.*\)\{0,1\}$' "$doc" || continue # comments only
        read -r api kind ns name < <(awk '
            function val(s) { sub(/^[^:]*:[ \t]*/, "", s); sub(/[ \t]+#.*$/, "", s); gsub(/["\047]/, "", s); return s }
            /^[A-Za-z]/ { top = $0; sub(/:.*/, "", top) }
            /^apiVersion:/ { api = val($0) }
            /^kind:/ { kind = val($0) }
            top == "metadata" && /^  namespace:/ { ns = val($0) }
            top == "metadata" && /^  name:/ { name = val($0) }
            END { printf "%s %s %s %s\n", api, kind, (ns == "" ? "-" : ns), (name == "" ? "-" : name) }
        ' "$doc")
        if [ -z "$api" ] || [ -z "$kind" ]; then die "$file: a document without apiVersion/kind"; fi
        case "$api" in
        v1) base=/api/v1 ;;
        */*) base=/apis/$api ;;
        *) die "$file: apiVersion '$api' not understood" ;;
        esac
        plural=$(echo "$kind" | tr '[:upper:]' '[:lower:]')
        case "$plural" in
        *y) plural=${plural%y}ies ;;
        *s) plural=${plural}es ;;
        *) plural=${plural}s ;;
        esac
        case "$kind" in
        Namespace | Node | PersistentVolume | ClusterRole | ClusterRoleBinding | \
            CustomResourceDefinition | StorageClass | PriorityClass | \
            ValidatingWebhookConfiguration | MutatingWebhookConfiguration)
            path=$base/$plural
            ;;
        *)
            [ "$ns" = - ] && ns=default
            path=$base/namespaces/$ns/$plural
            ;;
        esac
        api_create "$token" "$path" application/yaml "$doc" "$kind $name" || {
            rm -rf "$tmp"
            die "could not create $kind $name from $file"
        }
    done
    rm -rf "$tmp"
}

# ---------------------------------------------------------------- start

wait_ready() { # NAME PIDFILE LOG URL [curl options...]
    local name=$1 pidfile=$2 logf=$3 url=$4 deadline
    shift 4
    deadline=$(($(date +%s) + ${HNP_E2E_START_TIMEOUT:-90}))
    while :; do
        if curl -sf --max-time 2 "$@" "$url" >/dev/null 2>&1; then
            return 0
        fi
        if ! alive "$pidfile" "$name"; then
            if grep -q 'address already in use' "$logf" 2>/dev/null; then
                return 2 # lost a race for the port: caller retries
            fi
            echo "apiserver.sh: $name exited during start-up; last lines of $logf:" >&2
            tail -n 40 "$logf" >&2
            return 1
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            echo "apiserver.sh: $name not ready at $url after ${HNP_E2E_START_TIMEOUT:-90} s; last lines of $logf:" >&2
            tail -n 40 "$logf" >&2
            return 1
        fi
        sleep 0.25
    done
}

start_etcd() {
    local attempt rc
    for attempt in 1 2 3; do
        etcd_port=$(pick_port)
        etcd_peer_port=$(pick_port "$etcd_port")
        rm -rf "$dir/etcd-data"
        mkdir -p "$dir/etcd-data"
        chmod 700 "$dir/etcd-data"
        "$etcd_bin" --name hnsnetpol-e2e \
            --data-dir "$dir/etcd-data" \
            --listen-client-urls "http://127.0.0.1:$etcd_port" \
            --advertise-client-urls "http://127.0.0.1:$etcd_port" \
            --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
            --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
            --initial-cluster "hnsnetpol-e2e=http://127.0.0.1:$etcd_peer_port" \
            --initial-cluster-state new \
            --logger zap --log-outputs stderr \
            </dev/null >"$dir/etcd.log" 2>&1 &
        record "$dir/etcd.pid" $!
        rc=0
        wait_ready etcd "$dir/etcd.pid" "$dir/etcd.log" "http://127.0.0.1:$etcd_port/health" || rc=$?
        [ "$rc" = 0 ] && return 0
        kill_wait "$dir/etcd.pid" etcd
        [ "$rc" = 2 ] || return 1
        log "etcd lost its port to another process; retrying ($attempt)"
    done
    return 1
}

start_apiserver() {
    local attempt rc
    for attempt in 1 2 3; do
        api_port=$(pick_port "$etcd_port" "$etcd_peer_port")
        api_url=https://127.0.0.1:$api_port
        "$kube_apiserver" \
            --etcd-servers="http://127.0.0.1:$etcd_port" \
            --bind-address=127.0.0.1 \
            --advertise-address=127.0.0.1 \
            --secure-port="$api_port" \
            --insecure-port=0 \
            --tls-cert-file="$pki/server.crt" \
            --tls-private-key-file="$pki/server.key" \
            --cert-dir="$dir/pki" \
            --token-auth-file="$dir/tokens.csv" \
            --service-account-key-file="$pki/sa.pub" \
            --service-account-signing-key-file="$pki/sa.key" \
            --service-account-issuer=https://kubernetes.default.svc \
            --authorization-mode=RBAC \
            --service-cluster-ip-range=10.96.0.0/16 \
            --disable-admission-plugins=ServiceAccount \
            --profiling=false \
            </dev/null >"$dir/apiserver.log" 2>&1 &
        record "$dir/apiserver.pid" $!
        rc=0
        wait_ready kube-apiserver "$dir/apiserver.pid" "$dir/apiserver.log" "$api_url/readyz" \
            --cacert "$pki/ca.crt" -H "Authorization: Bearer $admin_token" || rc=$?
        [ "$rc" = 0 ] && return 0
        kill_wait "$dir/apiserver.pid" kube-apiserver
        [ "$rc" = 2 ] || return 1
        log "kube-apiserver lost its port to another process; retrying ($attempt)"
    done
    return 1
}

start_watchdog() {
    local owner=${HNP_E2E_OWNER_PID:-} lifetime=${HNP_E2E_MAX_LIFETIME:-3600}
    [ -z "$owner" ] && [ "$lifetime" = 0 ] && return 0
    if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
        die "HNP_E2E_OWNER_PID=$owner is not a running process"
    fi
    HNP_E2E_IN_WATCHDOG=1 "$self" _watchdog "$dir" "${owner:-0}" "$lifetime" \
        </dev/null >>"$dir/watchdog.log" 2>&1 &
    record "$dir/watchdog.pid" $!
}

watchdog() { # DIR OWNER_PID LIFETIME
    local dir=$1 owner=$2 lifetime=$3 started sp=
    started=$(date +%s)
    trap '[ -n "$sp" ] && kill "$sp" 2>/dev/null; exit 0' TERM INT
    while :; do
        if [ "$owner" != 0 ] && ! kill -0 "$owner" 2>/dev/null; then
            log "$(date -Is) owner pid $owner is gone: stopping the servers"
            break
        fi
        if [ "$lifetime" != 0 ] && [ $(($(date +%s) - started)) -ge "$lifetime" ]; then
            log "$(date -Is) HNP_E2E_MAX_LIFETIME=$lifetime s reached: stopping the servers"
            break
        fi
        sleep 1 &
        sp=$!
        wait "$sp" || true
        sp=
    done
    do_stop "$dir"
    rm -f "$dir/watchdog.pid"
}

do_start() {
    dir=$1
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if alive "$dir/apiserver.pid" kube-apiserver || alive "$dir/etcd.pid" etcd; then
        die "servers from an earlier start still run in $dir: '$self stop $dir' first"
    fi
    find_binaries
    local t0 ca_data
    t0=$(date +%s.%N)
    pki=$dir/pki
    make_pki "$dir"

    admin_token=$(random_token)
    agent_token=$(random_token)
    (
        umask 077
        printf '%s,hnsnetpol-admin,hnsnetpol-admin,"system:masters"\n' "$admin_token" >"$dir/tokens.csv"
        printf '%s,hnsnetpol-agent,hnsnetpol-agent\n' "$agent_token" >>"$dir/tokens.csv"
        printf '%s\n' "$admin_token" >"$dir/admin.token"
        printf '%s\n' "$agent_token" >"$dir/agent.token"
    )

    # From here on, a failure stops whatever was started.
    trap 'rc=$?; if [ $rc -ne 0 ]; then log "start failed: stopping what was started"; do_stop "$dir"; fi' EXIT

    log "starting etcd ($("$etcd_bin" --version 2>/dev/null | head -n 1))"
    start_etcd || die "etcd did not start (log: $dir/etcd.log)"
    log "etcd ready on 127.0.0.1:$etcd_port (peer port $etcd_peer_port)"

    log "starting kube-apiserver ($("$kube_apiserver" --version 2>&1))"
    start_apiserver || die "kube-apiserver did not start (log: $dir/apiserver.log)"
    log "kube-apiserver ready at $api_url"

    (
        umask 077
        cat >"$dir/env" <<EOF
# Written by tests/e2e/apiserver.sh start; source it.
HNP_E2E_DIR='$dir'
HNP_APISERVER_URL='$api_url'
HNP_APISERVER_PORT='$api_port'
HNP_APISERVER_VERSION='v$KUBE_VERSION'
HNP_ETCD_URL='http://127.0.0.1:$etcd_port'
HNP_ETCD_PORT='$etcd_port'
HNP_ETCD_PEER_PORT='$etcd_peer_port'
HNP_CA_FILE='$pki/ca.crt'
HNP_ADMIN_USER='hnsnetpol-admin'
HNP_ADMIN_TOKEN='$admin_token'
HNP_ADMIN_KUBECONFIG='$dir/admin.kubeconfig'
HNP_AGENT_USER='hnsnetpol-agent'
HNP_AGENT_TOKEN='$agent_token'
HNP_AGENT_KUBECONFIG='$dir/agent.kubeconfig'
export HNP_E2E_DIR HNP_APISERVER_URL HNP_APISERVER_PORT HNP_APISERVER_VERSION HNP_ETCD_URL HNP_ETCD_PORT HNP_ETCD_PEER_PORT HNP_CA_FILE HNP_ADMIN_USER HNP_ADMIN_TOKEN HNP_ADMIN_KUBECONFIG HNP_AGENT_USER HNP_AGENT_TOKEN HNP_AGENT_KUBECONFIG
EOF
    )
    write_kubeconfig "$dir/admin.kubeconfig" hnsnetpol-admin "$admin_token"
    write_kubeconfig "$dir/agent.kubeconfig" hnsnetpol-agent "$agent_token"
    load_env "$dir"

    log "applying packaging/rbac.yaml"
    apply_yaml "$admin_token" "$top/packaging/rbac.yaml"
    local body
    body=$(mktemp)
    cat >"$body" <<'EOF'
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding",
 "metadata":{"name":"hnsnetpol-e2e-agent","labels":{"app.kubernetes.io/name":"hnsnetpol"}},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"hnsnetpol"},
 "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"hnsnetpol-agent"}]}
EOF
    api_create "$admin_token" /apis/rbac.authorization.k8s.io/v1/clusterrolebindings \
        application/json "$body" "ClusterRoleBinding hnsnetpol-e2e-agent (user hnsnetpol-agent)" \
        || { rm -f "$body"; die "could not bind the agent user"; }
    rm -f "$body"

    start_watchdog
    trap - EXIT
    log "ready in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s: source $dir/env; '$self stop $dir' when done"
}

do_status() {
    local dir=$1 ok=0
    if alive "$dir/etcd.pid" etcd; then echo "etcd: running (pid $(cut -d' ' -f1 "$dir/etcd.pid"))"; else echo "etcd: stopped"; ok=1; fi
    if alive "$dir/apiserver.pid" kube-apiserver; then echo "kube-apiserver: running (pid $(cut -d' ' -f1 "$dir/apiserver.pid"))"; else echo "kube-apiserver: stopped"; ok=1; fi
    if alive "$dir/watchdog.pid" apiserver.sh; then echo "watchdog: running (pid $(cut -d' ' -f1 "$dir/watchdog.pid"))"; fi
    return $ok
}

user_token() { # DIR admin|agent
    load_env "$1"
    case "$2" in
    admin) echo "$HNP_ADMIN_TOKEN" ;;
    agent) echo "$HNP_AGENT_TOKEN" ;;
    *) die "user must be admin or agent, not '$2'" ;;
    esac
}

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
case "$cmd" in
install)
    "$top/packaging/install-etcd.sh"
    "$top/packaging/build-kube-apiserver.sh"
    ;;
start)
    [ $# = 1 ] || usage
    do_start "$1"
    ;;
stop)
    [ $# = 1 ] || usage
    do_stop "$1"
    ;;
status)
    [ $# = 1 ] || usage
    do_status "$1"
    ;;
curl)
    [ $# -ge 3 ] || usage
    load_env "$1"
    token=$(user_token "$1" "$2")
    path=$3
    shift 3
    kcurl "$token" "$path" "$@"
    ;;
apply)
    [ $# -ge 3 ] || usage
    token=$(user_token "$1" "$2")
    d=$1
    shift 2
    load_env "$d"
    for f in "$@"; do apply_yaml "$token" "$f"; done
    ;;
_watchdog)
    watchdog "$@"
    ;;
-h | --help | help) usage ;;
*) usage ;;
esac
