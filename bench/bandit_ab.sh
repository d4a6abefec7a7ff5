#!/usr/bin/env bash
# Two builds of ml.choose compared on one machine: two servers, each with the
# database bench/bandit.sh builds (run it with KEEP=1 on each), measured in
# turns (each turn 20,000 calls of assign_variant with logging, of choose for
# units with history and of choose for new units on one server, then the
# other), so that the machine's load, which moves bench/bandit.sh's ratios
# by about 0.4 from run to run, weighs on both alike.  Prints each turn (µs
# per call) and each server's best.
# Usage: bench/bandit_ab.sh PORT_A PORT_B [turns] [units]
set -euo pipefail
a=$1 b=$2 turns=${3:-8} units=${4:-100000}
db=learnloop_bench_bandit
for port in "$a" "$b"; do
  psql -p "$port" -d "$db" -qXtA -v ON_ERROR_STOP=1 <<'SQL'
CREATE OR REPLACE FUNCTION turn_us(sqls text[], calls int) RETURNS float8[] LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; r float8[] := '{}';
BEGIN
    FOR j IN 1..cardinality(sqls) LOOP
        t0 := clock_timestamp();
        EXECUTE sqls[j];
        r := r || extract(epoch FROM clock_timestamp() - t0)::float8 * 1e6 / calls;
    END LOOP;
    RETURN r;
END $$;
SQL
done
for t in $(seq 1 "$turns"); do
  for port in "$a" "$b"; do
    echo "$port $(psql -p "$port" -d "$db" -qXtA -v ON_ERROR_STOP=1 -c "SELECT array_to_string(turn_us(ARRAY[
      'SELECT count(ml.assign_variant(''bench'', ''v'' || i || random(), true)) FROM generate_series(1, 20000) i',
      'SELECT count(ml.choose(''bench'', ''u'' || (1 + i * 7919 % $units))) FROM generate_series(1, 20000) i',
      'SELECT count(ml.choose(''bench'', ''new'' || i || random())) FROM generate_series(1, 20000) i'], 20000), ' ')")"
  done
done | awk '{ print "port " $1 ": assign_variant " $2 " us, choose with history " $3 " us, new units " $4 " us"
              if (!($1 in a) || $2 < a[$1]) a[$1] = $2
              if (!($1 in c) || $3 < c[$1]) c[$1] = $3
              if (!($1 in n) || $4 < n[$1]) n[$1] = $4 }
            END { for (p in a) printf "port %s best: assign_variant %.2f us; choose with history %.2f us (ratio %.2f); new units %.2f us (ratio %.2f)\n", p, a[p], c[p], c[p] / a[p], n[p], n[p] / a[p] }'
