#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL server and exports its URL as TEST_POSTGRES_URL,
# so the PostgreSQL variants of the storage tests run for real. The server lives in a temporary
# folder, listens on a free loopback port only, and is stopped and deleted when the command ends.
set -euo pipefail

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ]; then
    echo "with-postgres: no PostgreSQL server binaries; run scripts/setup.sh first" >&2
    exit 1
fi

# PostgreSQL refuses to run as root: as root, the server runs as the `postgres` account.
as_server_user() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

dir=$(mktemp -d /tmp/pg-test.XXXXXX)
[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop() {
    as_server_user "$pg_bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap stop EXIT

as_server_user "$pg_bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >/dev/null
# fsync off: the data is thrown away, and the tests are about behaviour, not durability.
as_server_user "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null

export TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
"$@"
