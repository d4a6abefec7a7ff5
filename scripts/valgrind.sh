#!/usr/bin/env bash
# Runs the training, serving and experiment regression suites with the
# server under valgrind's memcheck, and fails on any invalid read, write or
# free, or any use of an uninitialised value inside learnloop.  The server
# is a private one (initdb in a temporary directory, run as the postgres
# user) because pg_ctl cannot start postgres under valgrind.
#   VALGRIND_SUITES="train predict"  the pg_regress suites (test/sql/NAME.sql) to run
#   VALGRIND_SHELL="test/shell/corrupt_models.sh"  shell tests to run after them
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(/usr/lib/postgresql/15/bin/pg_config --bindir)
suites=${VALGRIND_SUITES:-"schema record_decision decision_insert record_outcome train train_shapes predict experiment_assign experiment_outcomes experiment_stats experiment_bandit serving_stats prometheus_metrics alerts report monitor monitor_alerts monitor_keys monitor_exact bandit bandit_read_paths model_import cohort simulate_spec augment"}
command -v valgrind >/dev/null || { echo "valgrind: not installed"; exit 1; }

tmp=$(mktemp -d /tmp/learnloop-valgrind.XXXXXX)
cp test/valgrind/postgres.supp "$tmp/"
chown -R postgres "$tmp"
port=$((20000 + RANDOM % 10000))
as_postgres() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }
# an immediate shutdown: memcheck writes each error when it happens, and a
# checkpoint under valgrind takes minutes
stop_server() {
  [ -n "${pid:-}" ] || return 0
  [ -f "$tmp/data/postmaster.pid" ] && kill -QUIT "$(head -1 "$tmp/data/postmaster.pid")" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}
trap 'stop_server; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

as_postgres "$bin/initdb" -D "$tmp/data" -A trust -U postgres >/dev/null
cat >>"$tmp/data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$tmp'
shared_preload_libraries = 'learnloop'
max_worker_processes = 16
# valgrind runs one thread at a time: a single XGBoost thread is honest
learnloop.training_threads = 1
# no LLVM: JIT under memcheck is slow, and glibc's dlopen of llvmjit.so
# trips a known memcheck false positive (strncmp in dl-load.c)
jit = off
CONF

echo "==> valgrind: starting postgres under memcheck (port $port)"
as_postgres valgrind --quiet --trace-children=yes --num-callers=40 \
  --suppressions="$tmp/postgres.supp" \
  --log-file="$tmp/vg.%p.log" \
  "$bin/postgres" -D "$tmp/data" >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  "$bin/pg_isready" -q -h "$tmp" -p "$port" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 1
done
"$bin/pg_isready" -q -h "$tmp" -p "$port" || { echo "valgrind: server did not start"; tail -20 "$tmp/server.log" "$tmp"/vg.*.log; exit 1; }

echo "==> valgrind: pg_regress $suites"
status=0
# results in the temporary directory: scripts/test.sh runs the other suites
# in this tree at the same time
make -s installcheck REGRESS="$suites" ISOLATION= PGHOST="$tmp" PGPORT="$port" PGUSER=postgres \
  REGRESS_OUTPUT="$tmp/regress_output" \
  EXTRA_REGRESS_OPTS="--launcher=" || status=1
[ $status -eq 0 ] || { cat "$tmp/regress_output/regression.diffs" 2>/dev/null | head -80; }
for t in ${VALGRIND_SHELL:-test/shell/corrupt_models.sh}; do
  echo "==> valgrind: $t"
  PGHOST="$tmp" PGPORT="$port" PGUSER=postgres LEARNLOOP_SLOWDOWN=50 bash "$t" || status=1
done
stop_server; pid=""

# memcheck's findings: every block that names an error kind we refuse
errors=$(cat "$tmp"/vg.*.log | grep -cE "Invalid (read|write|free)|Mismatched free|uninitialised|Source and destination overlap" || true)
if [ "$errors" -gt 0 ]; then
  echo "==> valgrind: $errors memcheck errors"
  cat "$tmp"/vg.*.log | head -200
  status=1
else
  echo "==> valgrind: no memcheck errors in $(ls "$tmp"/vg.*.log | wc -l) processes"
fi
exit $status
