#!/usr/bin/env bash
# 8 pgbench clients expose units and record their outcomes concurrently, many
# units written by several clients at once.  Every transaction also writes a
# ledger row; afterwards each (unit, metric) of the ledger must have exactly
# one outcome row, in the unit's exposed variant, and each unit one exposure.
# Runs inside the throwaway cluster of scripts/test.sh (PGHOST etc. are set).
set -euo pipefail
db=learnloop_pgbench
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
psql -qX -v ON_ERROR_STOP=1 -d "$db" <<'SQL'
CREATE EXTENSION learnloop;
SELECT name FROM ml.create_experiment('load', ARRAY['a', 'b']);
CREATE TABLE ledger (unit_id text, metric text);
SQL
script=$(mktemp)
trap 'rm -f "$script"' EXIT
cat >"$script" <<'SQL'
\set u random(1, 500)
\set m random(1, 4)
BEGIN;
SELECT ml.assign_variant('load', 'u' || :u);
SELECT ml.record_outcome('load', 'u' || :u, 'm' || :m, :client_id);
INSERT INTO ledger VALUES ('u' || :u, 'm' || :m);
END;
SQL
pgbench -n -c 8 -j 2 -t 500 -f "$script" "$db" >/dev/null
result=$(psql -qXtA -d "$db" <<'SQL'
SELECT (SELECT count(DISTINCT (unit_id, metric)) FROM ledger)
           = (SELECT count(*) FROM ml.experiment_outcomes)
       AND (SELECT count(DISTINCT unit_id) FROM ledger)
           = (SELECT count(*) FROM ml.experiment_exposures)
       AND NOT EXISTS (SELECT 1 FROM ml.experiment_outcomes o JOIN ml.experiment_exposures e
                          USING (experiment, unit_id) WHERE o.variant <> e.variant)
       AND (SELECT count(*) FROM ledger) = 4000
SQL
)
dropdb "$db"
if [ "$result" != "t" ]; then
  echo "pgbench outcomes: rows were lost or duplicated"
  exit 1
fi
echo "pgbench outcomes: 8 clients, 4000 transactions, no row lost"
