#!/usr/bin/env bash
# Provide a local PostgreSQL for the storage tests (Debian; run as root; idempotent).
#
#   source .ci/postgres.sh   # installs/starts PostgreSQL and exports TEST_POSTGRES_URL
#   bash .ci/postgres.sh     # same, then prints the export line to use
#
# Installs the `postgresql` package when no server is present, starts the first
# cluster without systemd (pg_ctlcluster), waits until it accepts connections and
# creates role `chatbridge` (password `chatbridge`) owning database `chatbridge_test`.

_chatbridge_pg_setup() {
    local role=chatbridge password=chatbridge database=chatbridge_test

    if [ "$(id -u)" -ne 0 ]; then
        echo "postgres.sh: must run as root" >&2
        return 1
    fi

    if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
        echo "postgres.sh: installing PostgreSQL via apt-get" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi

    local version cluster port
    read -r version cluster port < <(pg_lsclusters --no-header | awk 'NR==1 {print $1, $2, $3}') || true
    if [ -z "${version:-}" ]; then
        version=$(basename "$(ls -d /usr/lib/postgresql/*/ | sort -V | tail -n1)")
        cluster=main
        pg_createcluster "$version" "$cluster" >/dev/null
        read -r port < <(pg_lsclusters --no-header "$version" "$cluster" | awk '{print $3}')
    fi

    install -d -m 2775 -o postgres -g postgres /var/run/postgresql
    local status
    status=$(pg_lsclusters --no-header "$version" "$cluster" | awk '{print $4}')
    if [ "$status" != online ]; then
        pg_ctlcluster "$version" "$cluster" start >&2 3>&-
    fi

    local tries=0
    until pg_isready -q -h 127.0.0.1 -p "$port"; do
        tries=$((tries + 1))
        if [ "$tries" -ge 60 ]; then
            echo "postgres.sh: PostgreSQL $version/$cluster did not become ready" >&2
            return 1
        fi
        sleep 0.5
    done

    local psql=(runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres)
    if [ -z "$("${psql[@]}" -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" ]; then
        "${psql[@]}" -c "CREATE ROLE $role LOGIN PASSWORD '$password'"
    else
        "${psql[@]}" -c "ALTER ROLE $role LOGIN PASSWORD '$password'"
    fi
    if [ -z "$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'")" ]; then
        "${psql[@]}" -c "CREATE DATABASE $database OWNER $role"
    fi

    echo "postgresql+asyncpg://$role:$password@127.0.0.1:$port/$database"
}

if [ -n "${_CHATBRIDGE_PG_CHILD:-}" ]; then
    # Child process: a fresh shell so that `set -e` really applies to every step.
    # Only the URL goes to stdout (fd 3); every tool's chatter goes to stderr, since
    # pg_ctlcluster/psql may print notices such as "Removed stale pid file.".
    set -euo pipefail
    exec 3>&1 1>&2
    _chatbridge_pg_url=$(_chatbridge_pg_setup | tail -n1)
    case "$_chatbridge_pg_url" in
        postgresql+asyncpg://*) echo "$_chatbridge_pg_url" >&3 ;;
        *) echo "postgres.sh: unexpected setup output: $_chatbridge_pg_url" >&2; exit 1 ;;
    esac
    exit 0
fi

if _chatbridge_pg_url=$(_CHATBRIDGE_PG_CHILD=1 bash "${BASH_SOURCE[0]}"); then
    export TEST_POSTGRES_URL="$_chatbridge_pg_url"
    echo "PostgreSQL ready. Tests use it via:" >&2
    echo "  export TEST_POSTGRES_URL=$TEST_POSTGRES_URL" >&2
    if [ "${BASH_SOURCE[0]}" = "$0" ]; then
        echo "(run 'source .ci/postgres.sh' to export it into your shell)" >&2
    fi
    unset _chatbridge_pg_url
    unset -f _chatbridge_pg_setup
else
    echo "postgres.sh: PostgreSQL setup failed" >&2
    unset _chatbridge_pg_url
    unset -f _chatbridge_pg_setup
    # shellcheck disable=SC2317
    return 1 2>/dev/null || exit 1
fi
