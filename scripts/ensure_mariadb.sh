#!/usr/bin/env bash
# Makes sure a MariaDB (or MySQL) server binary is present for the database tests (make test).
# Installs Debian's mariadb-server when it is missing and we are root. Otherwise it warns and
# exits 0: pytest then skips the database tests with a summary line, or fails them under CI=true.
# MARIADB_BIN_DIRS (colon-separated) replaces the directories searched, as in tests/database.
set -euo pipefail

find_program() { # the first of the names found in the search directories (or PATH)
  local name dir
  for name in "$@"; do
    if [ -n "${MARIADB_BIN_DIRS:-}" ]; then
      IFS=: read -ra dirs <<<"$MARIADB_BIN_DIRS"
    else
      IFS=: read -ra dirs <<<"$PATH:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin"
    fi
    for dir in "${dirs[@]}"; do
      [ -n "$dir" ] && [ -x "$dir/$name" ] && [ -f "$dir/$name" ] && {
        echo "$dir/$name"
        return 0
      }
    done
  done
  return 1
}

find_server() { find_program mariadbd mysqld; }

if server=$(find_server); then
  echo "MariaDB server found for the database tests: $server"
  exit 0
fi

warn_and_continue() {
  cat >&2 <<MSG
WARNING: $1
The database tests need a MariaDB or MySQL server binary (mariadbd or mysqld); pytest will skip
them (and fail them when CI=true). The other tests run. To run them too, install one and run
'make test' again:
  Debian/Ubuntu:  sudo apt-get install mariadb-server mariadb-client
  Fedora/RHEL:    sudo dnf install mariadb-server
  macOS:          brew install mariadb
The tests start their own throwaway server in a temporary directory; no running service is needed.
MSG
  exit 0
}

if [ "$(id -u)" -ne 0 ]; then
  warn_and_continue "no MariaDB server binary found, and installing one needs root."
fi
if [ -n "${MARIADB_BIN_DIRS:-}" ] || ! command -v apt-get >/dev/null 2>&1; then
  warn_and_continue "no MariaDB server binary found$([ -n "${MARIADB_BIN_DIRS:-}" ] && echo " in MARIADB_BIN_DIRS=$MARIADB_BIN_DIRS")."
fi

echo "No MariaDB server binary found: installing Debian's mariadb-server (about 1 minute, ~200 MB;" \
  "the database tests start their own server)..."
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >/dev/null; }; then
  warn_and_continue "apt-get could not install mariadb-server (see its message above)."
fi
# Debian's package may start a system service; the tests use their own datadir and port, so stop it.
(service mariadb stop >/dev/null 2>&1 || true)
server=$(find_server) || warn_and_continue "mariadb-server was installed but no mariadbd was found."
echo "MariaDB server installed: $server"
