#!/usr/bin/env bash
# learnloop behind PgBouncer in transaction pooling mode, as applications
# reach it: 8 pgbench clients share 4 server connections (round robin, so a
# client's consecutive transactions land on different backends) and run the
# application's calls: ml.decide, ml.record_decision, both ml.record_outcome
# forms and ml.assign_variant.  Every call writes a ledger row in its own
# transaction; afterwards the rows must match the transactions pgbench
# reports, every outcome key must be merged, every unit must keep one variant
# on every backend, and nothing may fail.  Trainings started through the
# pooler complete (ml.train, and ml.train_async polled from other backends,
# whose job outlives the backend that started it), a redeployed model and a
# stopped experiment reach the pooled backends that cached them, cancelling
# works through the pooler, and what needs care (docs/poolers.md) shows why:
# named prepared statements fail, and a session SET stays with the backend.
#
# Runs against the server of PGHOST/PGPORT/PGUSER/PGPASSWORD (pg_virtualenv
# provides them; a local trust server needs no PGPASSWORD).  Starts its own
# pgbouncer (Debian's package) on a free port of 127.0.0.1, as postgres when
# run as root, and stops it on exit.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../shell/tap.sh"

db=learnloop_pgbouncer
clients=8
pool=4
per_client=120

command -v pgbouncer >/dev/null || { echo "pgbouncer is not installed: apt-get install pgbouncer"; exit 1; }

# pgbouncer checks clients against its auth file and logs in to the server
# with the same password; a trust server ignores it
export PGPASSWORD=${PGPASSWORD:-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')}
user=${PGUSER:-$(id -un)}
work=$(mktemp -d /tmp/learnloop_pgbouncer.XXXXXX)
bouncer_pid=
status=1

cleanup() {
  local pid
  # a psql left waiting when a check failed half-way
  for pid in ${caller:-} ${holder:-}; do
    kill "$pid" 2>/dev/null
  done
  if [ -n "$bouncer_pid" ]; then
    kill "$bouncer_pid" 2>/dev/null
    wait "$bouncer_pid" 2>/dev/null
  fi
  if [ "$status" -ne 0 ]; then
    for f in "$work"/pgbouncer.log "$work"/*.err "$work"/*.out; do
      [ -s "$f" ] && { echo "---- $f"; tail -n 60 "$f"; }
    done
  fi
  rm -rf "$work"
  dropdb --if-exists --force "$db" >/dev/null 2>&1
}
trap cleanup EXIT

# ---------------------------------------------------------------- pgbouncer
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  # pgbouncer refuses to run as root
  run_as=(setpriv --reuid=postgres --regid=postgres --init-groups)
fi

write_config() {
  local server="host=${PGHOST:-/var/run/postgresql} port=${PGPORT:-5432} dbname=$db"
  printf '"%s" "%s"\n' "${user//\"/\"\"}" "${PGPASSWORD//\"/\"\"}" >"$work/userlist.txt"
  cat >"$work/pgbouncer.ini" <<INI
[databases]
$db = $server
; one server connection: shows what a session SET does to the next client
${db}_one = $server pool_size=1

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $work/userlist.txt
pool_mode = transaction
default_pool_size = $pool
max_client_conn = 100
server_round_robin = 1
ignore_startup_parameters = extra_float_digits
pidfile = $work/pgbouncer.pid
INI
  chmod 600 "$work/userlist.txt" "$work/pgbouncer.ini"
  [ ${#run_as[@]} -eq 0 ] || chown -R postgres "$work"
}

start_pgbouncer() {
  local attempt i
  for attempt in $(seq 10); do
    port=$((20000 + RANDOM % 30000))
    # something listens there already
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
    write_config
    "${run_as[@]}" pgbouncer "$work/pgbouncer.ini" >>"$work/pgbouncer.log" 2>&1 &
    bouncer_pid=$!
    for i in $(seq 100); do
      kill -0 "$bouncer_pid" 2>/dev/null || break
      pg_isready -q -h 127.0.0.1 -p "$port" && return 0
      sleep 0.1
    done
    kill "$bouncer_pid" 2>/dev/null
    wait "$bouncer_pid" 2>/dev/null
    bouncer_pid=
  done
  return 1
}

start_pgbouncer || { echo "pgbouncer did not start"; exit 1; }
# options='' : PgBouncer 1.18 refuses the startup parameter tap.sh's PGOPTIONS sets
pooled="host=127.0.0.1 port=$port dbname=$db options=''"
one="host=127.0.0.1 port=$port dbname=${db}_one options=''"
# p SQL: through the pooler (q, from tap.sh, talks to the server directly)
p() { psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 -d "$pooled" -c "$1"; }
echo "# pgbouncer $(pgbouncer --version | head -n 1 | cut -d' ' -f2) on 127.0.0.1:$port, pool_mode=transaction, $pool server connections for $clients clients"

# ---------------------------------------------------------------- the data
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db" || exit 1
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<'SQL' || exit 1
CREATE EXTENSION learnloop;
CREATE SCHEMA pool_data;
CREATE TABLE pool_data.sessions AS
    SELECT i % 24 AS hour_of_day, (ARRAY['x', 'y', 'z'])[i % 3 + 1] AS action,
           ((i % 24) > 12) = (i % 3 = 0) AS engaged
      FROM generate_series(1, 3000) i;
SELECT FROM ml.create_experiment('pool_exp', ARRAY['a', 'b', 'c']);
-- decisions that every client merges outcome keys into at once
CREATE TABLE hot AS
    SELECT n, ml.record_decision('pool_task', 'hot' || n, '{"hour_of_day": 1}', '{"action": "x"}') AS decision_id
      FROM generate_series(1, 8) n;
-- one row per call of the workload, written by the call's own statement
CREATE TABLE ledger (
    id          bigserial PRIMARY KEY,
    phase       int NOT NULL,
    kind        text NOT NULL,
    client      int NOT NULL,
    backend     int NOT NULL DEFAULT pg_backend_pid(),
    decision_id bigint,
    unit_id     text,
    metric      text,
    key         text,
    value       float8,
    variant     text);
SQL

# ---------------------------------------------------------------- training
# SET LOCAL inside the transaction reaches the training worker: a session SET
# would stay behind on whichever server connection ran it
ok "$(p "BEGIN; SET LOCAL search_path = pool_data, public; SET LOCAL client_min_messages = warning;
         SELECT version || ' ' || deployed FROM ml.train('poolm', 'sessions', 'engaged',
                features => ARRAY['hour_of_day', 'action'], params => '{\"num_round\": 5}'); COMMIT;")" \
   "1 true" "ml.train through the pooler registers and deploys version 1"

# ---------------------------------------------------------------- the workload
cat >"$work/decide.sql" <<'SQL'
\set u random(1, 200)
\set h random(0, 23)
INSERT INTO ledger (phase, kind, client, decision_id, unit_id)
  SELECT :phase, 'decide', :client_id, d.decision_id, 'u' || :u
    FROM ml.decide('pool_task', 'u' || :u, jsonb_build_object('hour_of_day', (:h)::int),
                   fallback => 'x', model => 'poolm', min_confidence => 0) d
  RETURNING decision_id AS did
\gset
INSERT INTO ledger (phase, kind, client, decision_id, key, value)
  SELECT :phase, 'decide_outcome', :client_id, :did, 'engaged',
         (ml.record_outcome(:did, jsonb_build_object('engaged', (:h)::int % 2)) ->> 'engaged')::float8;
INSERT INTO ledger (phase, kind, client, decision_id, key, value)
  SELECT :phase, 'decide_outcome', :client_id, :did, 'minutes',
         (ml.record_outcome(:did, jsonb_build_object('minutes', (:client_id)::int)) ->> 'minutes')::float8;
SQL
cat >"$work/record.sql" <<'SQL'
\set u random(1, 200)
INSERT INTO ledger (phase, kind, client, decision_id, unit_id)
  VALUES (:phase, 'record_decision', :client_id,
          ml.record_decision('pool_task', 'r' || :u, jsonb_build_object('hour_of_day', (:u)::int % 24),
                             '{"action": "y", "decided_by": "rules"}'),
          'r' || :u)
  RETURNING decision_id AS did
\gset
INSERT INTO ledger (phase, kind, client, decision_id, key, value)
  SELECT :phase, 'record_outcome', :client_id, :did, 'engaged',
         (ml.record_outcome(:did, jsonb_build_object('engaged', (:u)::int % 2)) ->> 'engaged')::float8;
SQL
cat >"$work/merge.sql" <<'SQL'
\set n random(1, 8)
WITH l AS (INSERT INTO ledger (phase, kind, client, decision_id, value)
             SELECT :phase, 'merge', :client_id, decision_id, (:client_id)::float8 FROM hot WHERE n = (:n)::int
             RETURNING id, decision_id, value)
SELECT ml.record_outcome(decision_id, jsonb_build_object('k' || id, value)) FROM l;
SQL
cat >"$work/experiment.sql" <<'SQL'
\set u random(1, 300)
\set m random(1, 3)
INSERT INTO ledger (phase, kind, client, unit_id, variant)
  VALUES (:phase, 'assign', :client_id, 'e' || :u, ml.assign_variant('pool_exp', 'e' || :u));
INSERT INTO ledger (phase, kind, client, unit_id, metric, value, variant)
  VALUES (:phase, 'experiment_outcome', :client_id, 'e' || :u, 'm' || :m, (:client_id)::float8,
          ml.record_outcome('pool_exp', 'e' || :u, 'm' || :m, (:client_id)::float8));
SQL

# load PHASE MODE TRANSACTIONS_PER_CLIENT SCRIPT...: pgbench through the pooler
load() {
  local phase=$1 mode=$2 t=$3 f args=()
  shift 3
  for f in "$@"; do args+=(-f "$work/$f.sql"); done
  pgbench -n -M "$mode" -c "$clients" -j 2 -t "$t" -D phase="$phase" "${args[@]}" "$pooled" \
    >"$work/pgbench_$phase.out" 2>"$work/pgbench_$phase.err"
}

# pgbench_ok PHASE RC: pgbench's own account of the run
pgbench_ok() {
  local phase=$1 rc=$2 out="$work/pgbench_$1.out" want=$((clients * $3))
  grep -E '^(number of (transactions actually processed|failed transactions)|tps)' "$out" | sed 's/^/# /'
  ok "$rc" 0 "phase $phase: pgbench exits 0"
  ok "$(sed -n 's/^number of transactions actually processed: //p' "$out")" "$want/$want" \
     "phase $phase: pgbench processed every transaction"
  ok "$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")" 0 "phase $phase: pgbench reports no failed transaction"
  ok "$(grep -cE 'ERROR|WARNING|FATAL|abort' "$work/pgbench_$phase.err")" 0 "phase $phase: no error or warning reached a client"
}

# script_count PHASE SCRIPT: the transactions pgbench reports for one script
script_count() {
  awk -v s="$work/$2.sql" '/^SQL script/ { cur = $NF } cur == s && /^ - [0-9]+ transactions/ { print $2 }' \
    "$work/pgbench_$1.out"
}

# ledger_ok PHASE: every call left its row, nothing was lost or duplicated
ledger_ok() {
  local phase=$1 d r m e
  d=$(script_count "$phase" decide)
  r=$(script_count "$phase" record)
  m=$(script_count "$phase" merge)
  e=$(script_count "$phase" experiment)
  echo "# phase $phase: pgbench ran decide.sql ${d:-0}, record.sql ${r:-0}, merge.sql ${m:-0}, experiment.sql ${e:-0} times"
  ok "$(q "SELECT string_agg(kind || ' ' || n, ', ' ORDER BY kind) FROM
             (SELECT kind, count(*) n FROM ledger WHERE phase = $phase GROUP BY kind) k")" \
     "$(q "SELECT string_agg(kind || ' ' || n, ', ' ORDER BY kind) FROM (VALUES
             ('assign', ${e:-0}), ('decide', ${d:-0}), ('decide_outcome', 2 * ${d:-0}),
             ('experiment_outcome', ${e:-0}), ('merge', ${m:-0}), ('record_decision', ${r:-0}),
             ('record_outcome', ${r:-0})) v(kind, n) WHERE n > 0")" \
     "phase $phase: one ledger row per call of every transaction pgbench reports"
}

# every decision of the ledger exists once and holds exactly the outcome keys merged into it
decisions_ok() {
  ok "$(q "SELECT count(*) FROM ledger l LEFT JOIN ml.mltrainingdata d ON d.id = l.decision_id
            WHERE l.kind IN ('decide', 'record_decision') AND (d.unit_id IS DISTINCT FROM l.unit_id
                                                               OR d.task <> 'pool_task')")" 0 \
     "every decision id returned through the pooler names its decision"
  ok "$(q "SELECT (SELECT count(*) FROM ml.mltrainingdata WHERE task = 'pool_task')
                  - (SELECT count(*) FROM hot)
                  - (SELECT count(*) FROM ledger WHERE kind IN ('decide', 'record_decision'))")" 0 \
     "ml.mltrainingdata holds exactly the decisions the ledger counts"
  ok "$(q "WITH written AS (
             SELECT decision_id, key, value FROM ledger WHERE kind IN ('decide_outcome', 'record_outcome')
             UNION ALL SELECT decision_id, 'k' || id, value FROM ledger WHERE kind = 'merge'),
           expected AS (SELECT decision_id, jsonb_object_agg(key, value) AS outcome FROM written GROUP BY decision_id)
           SELECT count(*) FILTER (WHERE d.outcome IS DISTINCT FROM e.outcome) || ' of ' || count(*)
                  || CASE WHEN count(*) > 8 THEN ' ok' ELSE ' too few' END
             FROM expected e LEFT JOIN ml.mltrainingdata d ON d.id = e.decision_id")" \
     "$(q "SELECT '0 of ' || count(DISTINCT decision_id) || ' ok' FROM ledger
            WHERE kind IN ('decide_outcome', 'record_outcome', 'merge')")" \
     "every outcome key merged into its decision, none lost (8 decisions merged by all clients at once)"
}

# every unit keeps one variant, whichever backend answers; one exposure each; one outcome per metric
experiment_ok() {
  ok "$(q "SELECT count(*) FROM (SELECT unit_id FROM ledger WHERE kind IN ('assign', 'experiment_outcome')
                                  GROUP BY unit_id HAVING count(DISTINCT variant) <> 1
                                                       OR count(variant) <> count(*)) u")" 0 \
     "ml.assign_variant and ml.record_outcome give each unit one variant on every call"
  ok "$(q "SELECT count(*) > 0 FROM (SELECT unit_id FROM ledger WHERE kind = 'assign'
                                        GROUP BY unit_id HAVING count(DISTINCT backend) > 1) u")" t \
     "units were assigned again on other server connections"
  ok "$(q "SELECT (SELECT count(*) FROM ml.experiment_exposures WHERE experiment = 'pool_exp')
                  = (SELECT count(DISTINCT unit_id) FROM ledger WHERE kind = 'assign')
              AND NOT EXISTS (SELECT 1 FROM ledger l JOIN ml.experiment_exposures x
                                ON x.experiment = 'pool_exp' AND x.unit_id = l.unit_id
                               WHERE l.kind = 'assign' AND x.variant <> l.variant)")" t \
     "one exposure per unit, in the variant every call returned"
  ok "$(q "SELECT (SELECT count(*) FROM ml.experiment_outcomes WHERE experiment = 'pool_exp')
                  || ' ' || (SELECT count(DISTINCT (unit_id, metric)) FROM ledger WHERE kind = 'experiment_outcome')
                  || ' ' || (SELECT count(*) FROM ml.experiment_outcomes o
                              WHERE o.experiment = 'pool_exp' AND NOT EXISTS (
                                    SELECT 1 FROM ledger l WHERE l.kind = 'experiment_outcome'
                                       AND (l.unit_id, l.metric, l.value, l.variant)
                                           = (o.unit_id, o.metric, o.value, o.variant)))")" \
     "$(q "SELECT count(DISTINCT (unit_id, metric)) || ' ' || count(DISTINCT (unit_id, metric)) || ' 0'
             FROM ledger WHERE kind = 'experiment_outcome'")" \
     "one experiment outcome per (unit, metric), a value some call wrote, in the unit's variant"
}

# the transactions really moved between backends, within the pool
pooling_ok() {
  local phase=$1
  ok "$(q "SELECT count(DISTINCT backend) BETWEEN 2 AND $pool FROM ledger WHERE phase = $phase")" t \
     "phase $phase: the calls ran on 2 to $pool server connections"
  ok "$(q "SELECT count(*) FROM (SELECT client FROM ledger WHERE phase = $phase
                                  GROUP BY client HAVING count(DISTINCT backend) > 1) c")" "$clients" \
     "phase $phase: each client's calls moved between server connections"
}

# decided_by_ok PHASE VERSION: every ml.decide of the phase was decided by that version
decided_by_ok() {
  local phase=$1 version=$2
  ok "$(q "SELECT count(*) || ' ' || count(*) FILTER (WHERE d.decision->>'decided_by' = 'model poolm v$version')
             FROM ledger l JOIN ml.mltrainingdata d ON d.id = l.decision_id
            WHERE l.kind = 'decide' AND l.phase = $phase")" \
     "$(script_count "$phase" decide) $(script_count "$phase" decide)" \
     "phase $phase: every ml.decide was decided by poolm v$version"
}

load 1 extended "$per_client" decide record merge experiment
pgbench_ok 1 $? "$per_client"
ledger_ok 1
pooling_ok 1
decided_by_ok 1 1

# ---------------------------------------------------------------- async training, redeploy
# a job started by ml.train_async belongs to no session: the server
# connection that started it may close (server_lifetime, RECONNECT) while
# the job waits for the lock a direct session holds on its source
mkfifo "$work/lock.fifo"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" <"$work/lock.fifo" >"$work/lock.out" 2>&1 &
holder=$!
exec 3>"$work/lock.fifo"
echo "BEGIN; LOCK TABLE pool_data.sessions;" >&3
lock="SELECT count(*) FROM pg_locks WHERE relation = 'pool_data.sessions'::regclass AND mode = 'AccessExclusiveLock'"
wait_for "$lock AND granted" 100 1
read -r job starter < <(p "BEGIN; SET LOCAL client_min_messages = warning;
  SELECT ml.train_async('poolm', 'pool_data.sessions', 'engaged', features => ARRAY['hour_of_day', 'action'],
                        params => '{\"num_round\": 8}', deploy => 'always'), pg_backend_pid(); COMMIT;")
wait_for "$lock AND NOT granted" 100 1
q "SELECT pg_terminate_backend($starter)" >/dev/null
wait_for "SELECT count(*) FROM pg_stat_activity WHERE pid = $starter" 100 0
ok "$(q "SELECT status FROM ml.training_jobs WHERE job_id = $job AND database = current_database()")" running \
   "a job of ml.train_async runs on after the server connection that started it closed"
echo "COMMIT;" >&3
exec 3>&-
wait "$holder"
holder=
# each poll is a transaction of its own, which the pooler gives any server
# connection; polls go two at a time, each holding its server connection a
# moment, so that they need two even when the pool kept only one (the
# starter's was closed); a few polls even when the job ends before the first
poll="SELECT status, pg_backend_pid() FROM ml.training_jobs, pg_sleep(0.2)
       WHERE job_id = $job AND database = current_database()"
polls=()
state=
for i in $(seq 300); do
  p "$poll" >"$work/poll.out" &
  other=$!
  read -r state backend < <(p "$poll")
  wait "$other"
  polls+=("$backend" "$(cut -d' ' -f2 "$work/poll.out")")
  [ "$state" = running ] || [ ${#polls[@]} -lt 4 ] || break
  sleep 0.1
done
ok "$state" succeeded "ml.train_async through the pooler: job $job succeeded, polled through the pooler"
ok "$(printf '%s\n' "${polls[@]}" | sort -u | grep -vcx "$starter" | awk '{ print ($1 > 0) }')$(
      printf '%s\n' "${polls[@]}" | sort -u | wc -l | awk '{ print ($1 > 1) }')" 11 \
   "ml.training_jobs shows the job on server connections other than the one that started it (${#polls[@]} polls)"
ok "$(p "SELECT ml.deployed_version('poolm')")" 2 "version 2 is deployed"

load 2 extended "$((per_client / 2))" decide experiment
pgbench_ok 2 $? "$((per_client / 2))"
ledger_ok 2
pooling_ok 2
decided_by_ok 2 2
ok "$(q "SELECT count(DISTINCT backend) > 0 FROM ledger WHERE phase = 2 AND kind = 'decide'
           AND backend IN (SELECT backend FROM ledger WHERE phase = 1 AND kind = 'decide')")" t \
   "pooled backends that served poolm v1 from their cache serve the redeployed v2"

decisions_ok
experiment_ok

# stopping the experiment reaches the pooled backends that cached it running
q "SELECT ml.set_experiment_status('pool_exp', 'stopped')" >/dev/null
for i in $(seq 8); do
  psql -X -q -At -v VERBOSITY=sqlstate -d "$pooled" \
    -c "SELECT pg_backend_pid(); SELECT ml.assign_variant('pool_exp', 'e1')" 2>&1
done >"$work/stopped.out"
ok "$(grep -cx 'ERROR:  55000' "$work/stopped.out")" 8 "after ml.set_experiment_status stopped, every pooled backend refuses assignments (55000)"
ok "$(q "SELECT count(DISTINCT backend) > 1 FROM ledger WHERE phase = 2 AND kind = 'assign'
           AND backend IN ($(grep -x '[0-9]*' "$work/stopped.out" | sort -u | paste -sd, -))")" t \
   "among them backends that had assigned units of the running experiment"

# ---------------------------------------------------------------- what needs a session of its own
# named prepared statements live in one server connection: pgbench -M prepared
# fails where -M extended (unnamed statements, above) passed
load 3 prepared 20 decide
ok "$?" 2 "pgbench -M prepared through transaction pooling aborts its clients"
ok "$(grep -c 'aborted in command' "$work/pgbench_3.err" | awk '{ print ($1 > 0) }') $(
      grep 'aborted in command' "$work/pgbench_3.err" | grep -cvE 'prepared statement "[^"]*" (does not exist|already exists)')" "1 0" \
   "every client that aborted met a prepared statement of another server connection"

# a session SET stays with the server connection and reaches the next client
psql -X -q -d "$one" -c "SET learnloop.unknown_features = error" || exit 1
ok "$(psql -X -At -d "$one" -c "SHOW learnloop.unknown_features")" error \
   "a session SET of one client is the setting of the next client of its server connection"
ok "$(psql -X -At -v VERBOSITY=sqlstate -d "$one" \
        -c "SELECT ml.predict('poolm', '{\"hour_of_day\": 3, \"action\": \"x\", \"typo\": 1}'::jsonb)" 2>&1)" \
   "ERROR:  22023" "so another client's ml.predict with an unknown key raises that client's error"
psql -X -q -d "$one" -c "RESET learnloop.unknown_features" || exit 1
ok "$(psql -X -q -At -d "$one" -c "BEGIN; SET LOCAL learnloop.unknown_features = error; SHOW learnloop.unknown_features; COMMIT" |
      head -n 1)" error "SET LOCAL applies inside the transaction"
ok "$(psql -X -At -d "$one" -c "SHOW learnloop.unknown_features")" warning "and leaves nothing for the next client"

# a cancel request through the pooler reaches the backend waiting in ml.train
jobs="(SELECT * FROM ml.training_jobs WHERE database = current_database() AND model = 'slow') j"
psql -X -d "$pooled" -c "SELECT * FROM ml.train('slow', 'pool_data.sessions', 'engaged',
                                                 params => '{\"num_round\": 100000, \"max_depth\": 8}')" \
  >"$work/cancel.out" 2>&1 &
caller=$!
wait_for "SELECT phase FROM $jobs WHERE status = 'running'" 300 training
ok "$(q "SELECT phase FROM $jobs")" training "a long ml.train through the pooler is training"
kill -INT "$caller"
wait "$caller"
ok "$?" 1 "psql's cancel request through the pooler ends its ml.train"
caller=
ok "$(grep -c 'canceling statement due to user request' "$work/cancel.out")" 1 "the caller's statement was cancelled"
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop training'" 100 0
ok "$(q "SELECT status || ', workers ' || (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop training')
           || ', models ' || (SELECT count(*) FROM ml.models WHERE name = 'slow') FROM $jobs")" \
   "failed, workers 0, models 0" "the worker stopped, the job failed, no model was registered"

# a client that goes away while its ml.train waits: PgBouncer closes the
# server connection in mid-transaction, and the backend's exit stops the worker
psql -X -d "$pooled" -c "SELECT * FROM ml.train('gone', 'pool_data.sessions', 'engaged',
                                                 params => '{\"num_round\": 100000, \"max_depth\": 8}')" \
  >/dev/null 2>&1 &
caller=$!
wait_for "SELECT phase FROM ml.training_jobs WHERE database = current_database() AND model = 'gone' AND status = 'running'" 300 training
kill -KILL "$caller"
wait "$caller"
caller=
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop training'" 100 0
ok "$(q "SELECT status || ', workers ' || (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop training')
           || ', models ' || (SELECT count(*) FROM ml.models WHERE name = 'gone')
           FROM ml.training_jobs WHERE database = current_database() AND model = 'gone'")" \
   "failed, workers 0, models 0" "a client killed while its ml.train waits: the worker stopped, the job failed"

# ml.cancel_training stops an asynchronous job from any server connection
job=$(p "SELECT ml.train_async('slow_async', 'pool_data.sessions', 'engaged',
                               params => '{\"num_round\": 100000, \"max_depth\": 8}')")
wait_for "SELECT phase FROM ml.training_jobs WHERE job_id = $job AND database = current_database()" 300 training
ok "$(p "SELECT ml.cancel_training($job)")" t "ml.cancel_training through the pooler reaches the running job"
wait_for "SELECT status FROM ml.training_jobs WHERE job_id = $job AND database = current_database()" 100 failed
ok "$(p "SELECT status || ': ' || error FROM ml.training_jobs WHERE job_id = $job AND database = current_database()")" \
   "failed: training job $job was cancelled" "the cancelled job failed with the reason"

finish
status=$?
exit "$status"
