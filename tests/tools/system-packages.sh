#!/usr/bin/env bash
# Ensure the Debian packages the test suite needs are installed:
# PostgreSQL (server binaries, incl. the btree_gist extension), redis-server, and
# Chromium for the browser tests (tests/e2e drive Debian's /usr/bin/chromium through
# Playwright; no browser is ever downloaded, `playwright install` is never run).
#
# Idempotent and fast when everything is already present. Services are never
# started by this script: tests/tools/services.py runs throwaway servers on free
# loopback ports. During installation a temporary /usr/sbin/policy-rc.d (exit 101)
# keeps the Debian maintainer scripts from auto-starting the system services.
set -euo pipefail

have_postgres() {
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

have_btree_gist() {
    compgen -G '/usr/share/postgresql/*/extension/btree_gist.control' >/dev/null
}

have_redis() {
    command -v redis-server >/dev/null 2>&1
}

have_chromium() {
    [[ -x /usr/bin/chromium ]]
}

packages=()
if ! have_postgres || ! have_btree_gist; then
    packages+=(postgresql)
fi
if ! have_redis; then
    packages+=(redis-server)
fi
if ! have_chromium; then
    packages+=(chromium)
fi

if ((${#packages[@]} > 0)); then
    if ((EUID != 0)); then
        echo "system-packages: missing Debian packages: ${packages[*]}" >&2
        echo "system-packages: install them as root, e.g.:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends ${packages[*]}" >&2
        exit 1
    fi

    echo "system-packages: installing ${packages[*]}" >&2
    apt-get update

    # btree_gist ships in postgresql-<version> since PostgreSQL 10; the
    # postgresql-contrib package is a transitional dummy on Debian 12. Add it
    # anyway when the archive has it, for older or differently split releases.
    if [[ " ${packages[*]} " == *" postgresql "* ]] \
        && apt-cache show postgresql-contrib >/dev/null 2>&1; then
        packages+=(postgresql-contrib)
    fi

    # Keep maintainer scripts from starting services. An existing policy-rc.d
    # (e.g. Docker's, which already exits 101) is left untouched.
    policy=/usr/sbin/policy-rc.d
    own_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\n# temporary, created by rdv-spie tests/tools/system-packages.sh\nexit 101\n' >"$policy"
        chmod 0755 "$policy"
        own_policy=1
        trap 'rm -f "$policy"' EXIT
    fi

    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"

    if ((own_policy)); then
        rm -f "$policy"
        trap - EXIT
    fi

    if ! have_postgres || ! have_btree_gist; then
        echo "system-packages: PostgreSQL (initdb, btree_gist) still missing after install" >&2
        exit 1
    fi
    if ! have_redis; then
        echo "system-packages: redis-server still missing after install" >&2
        exit 1
    fi
    if ! have_chromium; then
        echo "system-packages: chromium (/usr/bin/chromium) still missing after install" >&2
        exit 1
    fi
fi

# The postgres system user runs initdb/pg_ctl when the tests run as root
# (postgresql-common creates it; recreate it if it was removed).
if ! id -u postgres >/dev/null 2>&1; then
    if ((EUID != 0)); then
        echo "system-packages: the 'postgres' system user is missing; create it as root:" >&2
        echo "    sudo useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres" >&2
        exit 1
    fi
    useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi
