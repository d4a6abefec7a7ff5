# shellcheck shell=bash
# alternate QUERY SETUP_A SETUP_B [BEFORE]: runs QUERY RUNS times on each of
# two sides in one session (psql with the environment's connection), side
# A first in odd runs and B first in even ones, so that neither side always
# runs on the warmer or the fuller table, after one untimed warm-up.
# SETUP_A / SETUP_B are the SQL that puts the session (or the database) on
# a side; BEFORE, when given, runs before each measured run.  A run is
# measured by the CPU time the backend spent on it (the first field of
# /proc/self/schedstat, in nanoseconds), not by the wall clock: on a machine
# that other work shares, the wall clock counts the time the backend waited
# for a core.  Prints "best_a_ms best_b_ms".
alternate() {
  local query=$1 setup_a=$2 setup_b=$3 before=${4:-} script r side setup
  local cpu="SELECT split_part(pg_read_file(\$\$/proc/self/schedstat\$\$), \$\$ \$\$, 1);"
  script=$(for r in $(seq 1 "$RUNS"); do
    for side in $([ $((r % 2)) = 1 ] && echo "a b" || echo "b a"); do
      setup=$([ "$side" = a ] && echo "$setup_a" || echo "$setup_b")
      printf "%s\n%s\n\\\\echo %s\n%s\n%s;\n%s\n" "$before" "$setup" "$side" "$cpu" "$query" "$cpu"
    done
  done)
  printf "SET max_parallel_workers_per_gather = 0;\n%s;\n%s\n" "$query" "$script" |
    psql -X -q -At 2>&1 |
    awk "/^(a|b)\$/ { side = \$1; n = 0; next }
         side != \"\" { n++; if (n == 1) t0 = \$1; if (n == 3) { t = (\$1 - t0) / 1e6;
                          if (!(side in best) || t < best[side]) best[side] = t; side = \"\" } }
         END { print best[\"a\"], best[\"b\"] }"
}
ratio() { echo "scale=3; $1 / $2" | bc; }
