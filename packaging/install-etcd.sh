#!/usr/bin/env bash
# Install etcd (Debian's etcd-server, 3.4 in bookworm) for the end-to-end
# tests' kube-apiserver. Idempotent; prints the etcd binary's path on its last
# line. Needs root (or sudo) the first time.
#
# The tests never use the system etcd service (tests/e2e/apiserver.sh runs
# its own etcd on random loopback ports with a private data directory).
# Debian's package enables an `etcd` service on localhost:2379; where the
# machine runs systemd and its policy allows, it starts. That one is not ours
# and this script leaves it alone.
set -euo pipefail

log() { echo "install-etcd: $*" >&2; }
die() { echo "install-etcd: ERROR: $*" >&2; exit 1; }

if ! dpkg-query -W -f='${Status}' etcd-server 2>/dev/null | grep -q "install ok installed"; then
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "not root and no sudo: cannot install etcd-server"
        sudo_cmd=(sudo)
    fi
    log "installing etcd-server"
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        etcd-server >/dev/null
fi
etcd=$(command -v etcd || true)
[ -n "$etcd" ] || etcd=/usr/bin/etcd
[ -x "$etcd" ] || die "etcd-server is installed but $etcd is missing"
log "$("$etcd" --version 2>/dev/null | head -n 1) at $etcd"
echo "$etcd"
