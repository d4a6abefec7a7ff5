#!/usr/bin/env bash
# Two builds of ml.choose compared on one machine: two servers, each with the
# database bench/bandit.sh builds (run it with KEEP=1 on each), measured in
# turns (each turn 20,000 calls of assign_variant with logging, of choose for
# units with history and of choose for new units on one server, then the
# other), so that the machine's load, which moves bench/bandit.sh's ratios
# by about 0.4 from run to run, weighs on both alike.  Prints each turn (µs
# of the backend's CPU per call) and each server's best and median.
# Usage: bench/bandit_ab.sh PORT_A PORT_B [turns] [units]
set -euo pipefail
a=$1 b=$2 turns=${3:-8} units=${4:-100000}
db=learnloop_bench_bandit
for port in "$a" "$b"; do
  psql -p "$port" -d "$db" -qXtA -v ON_ERROR_STOP=1 <<'SQL'
-- the backend's CPU time (the first field of /proc/self/schedstat, ns), not the wall clock:
-- on a shared machine the wall clock also counts the time the backend waited for a core
CREATE OR REPLACE FUNCTION turn_us(sqls text[], calls int) RETURNS float8[] LANGUAGE plpgsql AS $$
DECLARE t0 float8; r float8[] := '{}';
BEGIN
    FOR j IN 1..cardinality(sqls) LOOP
        t0 := split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::float8;
        EXECUTE sqls[j];
        r := r || (split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::float8 - t0) / 1e3 / calls;
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
              n[$1]++; a[$1, n[$1]] = $2; c[$1, n[$1]] = $3; u[$1, n[$1]] = $4 }
            function sorted(v, p, k,   i, j, t) { for (i = 1; i <= k; i++) s[i] = v[p, i]
              for (i = 2; i <= k; i++) for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t } }
            function best(v, p) { sorted(v, p, n[p]); return s[1] }
            function median(v, p) { sorted(v, p, n[p]); return n[p] % 2 ? s[(n[p] + 1) / 2] : (s[n[p] / 2] + s[n[p] / 2 + 1]) / 2 }
            END { for (p in n) {
                    printf "port %s best: assign_variant %.2f us; choose with history %.2f us (ratio %.2f); new units %.2f us (ratio %.2f)\n",
                           p, best(a, p), best(c, p), best(c, p) / best(a, p), best(u, p), best(u, p) / best(a, p)
                    printf "port %s median: assign_variant %.2f us; choose with history %.2f us (ratio %.2f); new units %.2f us (ratio %.2f)\n",
                           p, median(a, p), median(c, p), median(c, p) / median(a, p), median(u, p), median(u, p) / median(a, p) } }'
