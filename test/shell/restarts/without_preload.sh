#!/usr/bin/env bash
# learnloop works when it is not in shared_preload_libraries: CREATE
# EXTENSION loads it in a backend, which must not die (defining a
# postmaster setting after startup is FATAL), recording, training and
# serving work, and what needs shared memory says so.  The cluster is
# restarted without the preload and then with it again (LEARNLOOP_RESTART,
# when set, is the command that restarts it).
set -uo pipefail
cd "$(dirname "$0")/.."
. ./tap.sh
db=learnloop_no_preload
restart() {
  ${LEARNLOOP_RESTART:-pg_ctlcluster ${PGVERSION:-15} regress restart}
  for i in $(seq 1 50); do pg_isready -q && return 0; sleep 0.2; done
}
psql -X -q -c "ALTER SYSTEM SET shared_preload_libraries = 'plpgsql'"
restart
ok "$(psql -X -At -c "SHOW shared_preload_libraries")" plpgsql "the server runs without learnloop preloaded (plpgsql only: an empty list reads as one empty name)"
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
ok "$(psql -X -q -At -d "$db" -c "CREATE EXTENSION learnloop" -c "SELECT extversion FROM pg_extension WHERE extname = 'learnloop'" 2>&1)" \
   "$(sed -n "s/^default_version = '\(.*\)'/\1/p" ../../learnloop.control)" "CREATE EXTENSION loads the library in a backend that lives on"
q "CREATE TABLE t AS SELECT (i % 7)::float8 AS x, i % 7 > 3 AS y FROM generate_series(1, 300) i"
ok "$(q "SELECT count(*) FROM ml.train('np', 't', 'y', params => '{\"num_round\": 2}')")" 1 "training works"
ok "$(q "SELECT ml.predict_label('np', '{\"x\": 5}'::jsonb)")" true "serving works"
ok "$(q "SELECT ml.record_decision('np', 'u1', '{\"x\": 5}', '{\"action\": \"a\"}') > 0")" t "recording works"
ok "$(q "SELECT count(*) FROM ml.serving_stats")" 0 "ml.serving_stats is empty"
ok "$(q "SELECT ml.create_channel('np', 'https://hooks.example.com/x') IS NULL" && q "SELECT ml.test_channel('np') IS NOT NULL" >/dev/null && q "SELECT count(*) FROM ml.webhook_outbox WHERE state = 'pending'")" \
   "t
1" "an event is queued (no delivery worker runs to send it)"
ok "$(psql -X -At -d "$db" -c "SELECT ml.serving_stats_reset()" 2>&1 | head -1)" \
   "ERROR:  serving statistics are not kept" "resetting them says they are not kept"
ok "$(psql -X -At -d "$db" -c "SHOW learnloop.max_training_jobs" 2>&1)" \
   'ERROR:  unrecognized configuration parameter "learnloop.max_training_jobs"' "the postmaster settings do not exist"
ok "$(psql -X -At -d "$db" -c "SELECT count(*) FROM ml.model_cache()" -c "SHOW learnloop.max_payload_bytes" | tail -1)" 64kB \
   "the other settings exist once the library is loaded"
dropdb "$db"
psql -X -q -c "ALTER SYSTEM RESET shared_preload_libraries"
restart
ok "$(psql -X -At -c "SHOW learnloop.max_training_jobs")" 16 "preloaded again, the postmaster settings are back"
finish
