#!/usr/bin/env bash
# Make sure the PostgreSQL server the registry tests use is accepting connections, starting one
# when it is not; prints the SQLAlchemy URL of its maintenance database on stdout.
#   1. STEWARD_TEST_POSTGRES, when set, is used as it is.
#   2. A server already on 127.0.0.1:5432 (trust auth) is used.
#   3. Otherwise Debian's clusters are started (pg_ctlcluster), installing the postgresql package
#      first when there is none and we are root.
#   4. Otherwise (not root) a private cluster is made under .pgtest/ on port 55432.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${STEWARD_TEST_POSTGRES:-}" ]; then
    echo "$STEWARD_TEST_POSTGRES"
    exit 0
fi
default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ready() { pg_isready -q -h 127.0.0.1 -p "$1" 2>/dev/null; }
wait_ready() {
    for _ in $(seq 60); do ready "$1" && return 0; sleep 0.5; done
    echo "PostgreSQL on port $1 did not start" >&2
    return 1
}
if command -v pg_isready >/dev/null && ready 5432; then
    echo "$default"
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    if ! command -v pg_ctlcluster >/dev/null; then
        echo "installing PostgreSQL from Debian packages" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
    fi
    pg_lsclusters -h | while read -r version cluster _; do
        pg_ctlcluster "$version" "$cluster" start >&2 || true
    done
    wait_ready 5432
    if ! psql -q -h 127.0.0.1 -U postgres -d postgres -c "select 1" >/dev/null 2>&1; then
        echo "PostgreSQL runs on 127.0.0.1:5432 but user postgres cannot log in without a password:" \
            "allow trust for 127.0.0.1 in pg_hba.conf, or set STEWARD_TEST_POSTGRES to a URL that logs in" >&2
        exit 1
    fi
    echo "$default"
    exit 0
fi
bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
if [ ! -d .pgtest/data ]; then
    "$bin/initdb" -q -A trust -U postgres -D .pgtest/data >&2
fi
ready 55432 || "$bin/pg_ctl" -s -D .pgtest/data -o "-p 55432 -k /tmp -c listen_addresses=127.0.0.1" \
    -l .pgtest/log start >&2
wait_ready 55432
echo "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
