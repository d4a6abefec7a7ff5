#!/usr/bin/env bash
# Installs learnloop's build, runtime and test dependencies from Debian 12's packages,
# skipping what is already there.  Runs as root, or through sudo.
set -euo pipefail

packages=(
  make gcc git
  postgresql-15 postgresql-server-dev-15 postgresql-common
  libxgboost-dev libcurl4-openssl-dev libcjson-dev
  postgresql-15-pgtap postgresql-15-cron libtap-parser-sourcehandler-pgtap-perl pgbouncer
  valgrind python3 curl openssl
  prometheus-postgres-exporter prometheus-sql-exporter chromium python3-pil
  python3-xgboost
  python3-pandas
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "==> dependencies: all ${#packages[@]} Debian packages already installed"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "==> dependencies: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# the tests start the exporters themselves: the service the package starts
# under systemd (postgres_exporter on :9187) is not wanted
if [[ " ${missing[*]} " == *" prometheus-postgres-exporter "* ]] && [ -d /run/systemd/system ]; then
  $sudo systemctl disable --now prometheus-postgres-exporter >/dev/null 2>&1 || true
fi
echo "==> dependencies: done"
