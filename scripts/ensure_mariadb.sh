#!/usr/bin/env bash
# Makes sure a MariaDB (or MySQL) server binary is present for the database tests.
# Installs Debian's mariadb-server when it is missing and we are root; otherwise says how.
set -euo pipefail

find_server() {
  for name in mariadbd mysqld; do
    for dir in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do
      [ -x "$dir/$name" ] && { echo "$dir/$name"; return 0; }
    done
    command -v "$name" 2>/dev/null && return 0
  done
  return 1
}

if server=$(find_server); then
  echo "MariaDB server found: $server"
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "No MariaDB server binary found: installing Debian's mariadb-server (the database tests start their own server)."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends mariadb-server mariadb-client >/dev/null
  # Debian's package may start a system service; the tests use their own datadir and port, so stop it.
  (service mariadb stop >/dev/null 2>&1 || true)
  server=$(find_server) || { echo "mariadb-server installed but no mariadbd found" >&2; exit 1; }
  echo "MariaDB server installed: $server"
  exit 0
fi

cat >&2 <<'MSG'
The database tests need a MariaDB or MySQL server binary (mariadbd or mysqld), and none was found.
Install one, then run 'make test' again:
  Debian/Ubuntu:  sudo apt-get install mariadb-server mariadb-client
  Fedora/RHEL:    sudo dnf install mariadb-server
  macOS:          brew install mariadb
The tests start their own throwaway server in a temporary directory; no running service is needed.
MSG
exit 1
