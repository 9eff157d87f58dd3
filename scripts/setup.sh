#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh machine. Idempotent: each step checks
# first and does nothing when the need is already met, so `make` targets can call it every time.
set -euo pipefail

need_apt=()

# rustfmt and clippy come with the toolchain on this machine kind; add them if a minimal
# toolchain lacks them.
if command -v rustup >/dev/null 2>&1; then
    for component in rustfmt clippy; do
        if ! rustup component list --installed 2>/dev/null | grep -q "^${component}"; then
            rustup component add "$component"
        fi
    done
fi

# `ring` compiles a little C and assembly.
command -v cc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)

# The storage tests run against a real PostgreSQL server (scripts/with-postgres.sh starts one),
# and the free-port helper there uses Python.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)

# The browser walkthrough (e2e) drives Debian's Chromium through its ChromeDriver; both come
# from Debian's packages, so no driver is ever downloaded at test time.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)

if [ ${#need_apt[@]} -gt 0 ]; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}"
fi
