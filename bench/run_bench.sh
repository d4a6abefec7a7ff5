# shellcheck shell=bash
# run_bench BODY [OPTION...]: runs the benchmark script BODY (bash, from the
# repository's root) in a database of its own: with BENCH_SERVER=running on
# the server of PGHOST/PGPORT, in a database learnloop_bench created for it
# and dropped after; otherwise in a throwaway pg_virtualenv cluster started
# with max_worker_processes = 16 and the pg_virtualenv OPTIONs given (such as
# -o shared_preload_libraries=learnloop), its log lines left out.
run_bench() {
  local body=$1
  shift
  if [ "${BENCH_SERVER:-}" = running ]; then
    export PGDATABASE=learnloop_bench
    dropdb --if-exists "$PGDATABASE" 2>/dev/null
    createdb "$PGDATABASE"
    bash -c "$body"
    dropdb "$PGDATABASE"
  else
    pg_virtualenv -t -v 15 -o max_worker_processes=16 "$@" bash -c "$body" 2>&1 |
      grep -v "UTC \[" | grep -v "cluster 15/regress"
  fi
}
