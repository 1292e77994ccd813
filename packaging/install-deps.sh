#!/usr/bin/env bash
# Install what building and testing hnsnetpol needs on Debian 12 (bookworm).
# Idempotent: packages already installed are not fetched again.
set -euo pipefail

packages=(
    build-essential cmake pkg-config git
    libyaml-dev libjansson-dev libcurl4-openssl-dev libcmocka-dev libmicrohttpd-dev
    libssl-dev openssl curl jq iproute2 util-linux
    valgrind clang-format clang-tidy python3
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd=(sudo)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi
echo "install-deps: all build and test packages present"
