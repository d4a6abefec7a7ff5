#!/usr/bin/env bash
# Bandit hot path: ml.choose (5 actions, Thompson sampling with the bandit's
# default draws, the decision logged in ml.MLTrainingData) against
# ml.assign_variant with logging (the exposure logged), measured in the same
# run, over units that already have posteriors (ml.bandit_arms holds
# `units` units x 5 actions plus the population) and units that have none.
# Target (issue 12): ml.choose at most 3 times assign_variant's time.  For
# scale, ml.record_decision (the same decision row inserted the same way as
# ml.choose and ml.decide insert it) is measured too.
# The arms differ by action and by unit (ARMS=equal: all alike, where the
# distribution is exactly uniform and no draw is made).
# Then the same three calls one a transaction from a client (pgbench), as an application makes
# them.
# Usage (installs nothing; learnloop must be installed):
#   pg_virtualenv -t -v 15 -o shared_preload_libraries=learnloop bench/bandit.sh [units] [calls]
#   ARMS=equal pg_virtualenv ... bench/bandit.sh
#   KEEP=1 ... keeps the database (learnloop_bench_bandit) for bench/bandit_ab.sh
set -euo pipefail
units=${1:-100000}
calls=${2:-20000}
arms=${ARMS:-distinct}
db=learnloop_bench_bandit
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q() { psql -qXtA -v ON_ERROR_STOP=1 -d "$db" "$@"; }
q -c "CREATE EXTENSION learnloop" \
  -c "SELECT name FROM ml.create_experiment('bench', ARRAY['a', 'b', 'c', 'd', 'e'])" \
  -c "SELECT name FROM ml.create_bandit('bench', ARRAY['a', 'b', 'c', 'd', 'e'], reward_type => 'binary')" >/dev/null
q <<SQL
-- arms that differ by action and by unit (each unit's successes of 4 by a hash, as
-- learned units have them, so that no two calls in a row integrate the same posteriors);
-- with equal arms every posterior is the same and the distribution is exactly 1/5
-- without a draw (ARMS=equal measures that case)
INSERT INTO ml.bandit_arms (bandit, cell, action, n, reward_sum, reward_sq)
SELECT 'bench', 'u' || u, a, 4, s, s
  FROM generate_series(1, $units) u,
       unnest(ARRAY['a', 'b', 'c', 'd', 'e']) WITH ORDINALITY x (a, o),
       LATERAL (SELECT CASE '$arms' WHEN 'equal' THEN 2 ELSE abs(hashint4(u * 5 + o::int)) % 5 END AS s) v;
INSERT INTO ml.bandit_arms (bandit, cell, action, n, reward_sum, reward_sq)
SELECT 'bench', '', a, 4 * $units, s * $units, s * $units
  FROM unnest(ARRAY['a', 'b', 'c', 'd', 'e'],
              CASE '$arms' WHEN 'equal' THEN ARRAY[2, 2, 2, 2, 2] ELSE ARRAY[1.2, 2, 1.6, 1.6, 1.6] END) x (a, s);
VACUUM ANALYZE ml.bandit_arms;
-- the best of five wall times of each statement, measured in turns: load that comes and goes
-- on a shared machine then weighs on every statement alike
CREATE FUNCTION best_seconds(sqls text[]) RETURNS float8[] LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; best float8[] := array_fill('Infinity'::float8, ARRAY[cardinality(sqls)]);
BEGIN
    FOR i IN 1..5 LOOP
        FOR j IN 1..cardinality(sqls) LOOP
            t0 := clock_timestamp();
            EXECUTE sqls[j];
            best[j] := least(best[j], extract(epoch FROM clock_timestamp() - t0));
        END LOOP;
    END LOOP;
    RETURN best;
END \$\$;
SQL
echo "== ml.choose vs ml.assign_variant with logging, $calls calls each (best of 5, in turns), $units units with posteriors, arms $arms"
q <<SQL
SELECT format('assign_variant (logged): %s calls/s; choose, units with history: %s calls/s (ratio %s); new units: %s calls/s (ratio %s); '
              'record_decision alone: %s calls/s (ratio %s to assign_variant; choose to record_decision %s)',
              round($calls / a), round($calls / c), round((c / a)::numeric, 2), round($calls / n), round((n / a)::numeric, 2),
              round($calls / r), round((r / a)::numeric, 2), round((c / r)::numeric, 2))
  FROM (SELECT t[1] AS a, t[2] AS r, t[3] AS c, t[4] AS n
          FROM best_seconds(ARRAY[
                 'SELECT count(ml.assign_variant(''bench'', ''v'' || i || random(), true)) FROM generate_series(1, $calls) i',
                 'SELECT count(ml.record_decision(''bench'', ''u'' || i, ''{}'', ''{"action": "a", "propensity": 0.2}'')) FROM generate_series(1, $calls) i',
                 'SELECT count(ml.choose(''bench'', ''u'' || (1 + i * 7919 % $units))) FROM generate_series(1, $calls) i',
                 'SELECT count(ml.choose(''bench'', ''new'' || i)) FROM generate_series(1, $calls) i']) t) t;
SQL
# The same calls as an application makes them: one statement a transaction, prepared, from
# one client (pgbench), with synchronous_commit off so that the commit's WAL flush, the same
# for every call, does not hide the functions' own work.  Best of 3 turns of TURN_SECONDS.
turn_seconds=${TURN_SECONDS:-5}
scripts=$(mktemp -d)
trap 'rm -rf "$scripts"' EXIT
printf '%s\n' '\set u random(1, 1000000000)' "SELECT ml.assign_variant('bench', 'p' || :u, true);" >"$scripts/assign.sql"
printf '%s\n' "\\set u random(1, $units)" "SELECT ml.choose('bench', 'u' || :u);" >"$scripts/history.sql"
printf '%s\n' '\set u random(1, 1000000000)' "SELECT ml.choose('bench', 'n' || :u);" >"$scripts/new.sql"
declare -A best_tps=([assign]=0 [history]=0 [new]=0)
for turn in 1 2 3; do
  for f in assign history new; do
    tps=$(PGOPTIONS='-c synchronous_commit=off' pgbench -n -M prepared -c 1 -T "$turn_seconds" -f "$scripts/$f.sql" "$db" 2>&1 |
          sed -n 's/^tps = \([0-9.]*\).*/\1/p')
    [ -n "$tps" ] || { echo "pgbench failed on $f.sql" >&2; exit 1; }
    best_tps[$f]=$(awk -v a="${best_tps[$f]}" -v b="$tps" 'BEGIN { print (b > a ? b : a) }')
  done
done
echo "== the same, one call a transaction from a client (pgbench -M prepared, synchronous_commit off, best of 3 turns of ${turn_seconds} s)"
awk -v a="${best_tps[assign]}" -v h="${best_tps[history]}" -v n="${best_tps[new]}" 'BEGIN {
  printf "assign_variant (logged): %.1f us a call; choose, units with history: %.1f us (ratio %.2f); new units: %.1f us (ratio %.2f)\n",
         1e6 / a, 1e6 / h, a / h, 1e6 / n, a / n }'
[ -n "${KEEP:-}" ] || dropdb "$db"
