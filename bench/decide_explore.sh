#!/usr/bin/env bash
# Benchmark: ml.decide's cost with exploration (issue 12), as ratios
# measured in one run on one cluster, CPU time of the backend (first field
# of /proc/self/schedstat), best of RUNS alternating runs:
#  - ml.decide greedy against ml.record_decision of the same rows (the
#    baseline: the insert every decision pays, and the argument checks), so
#    the greedy path's own cost can be compared between builds whatever the
#    machine's load: decide / record_decision before and after a change;
#  - ml.decide with epsilon, softmax and squarecb exploration against
#    greedy.
# Model: bench/prediction_data.sh's m (100 trees of depth 6, 20 features),
# a binary classifier deciding between its two classes.
#
#   bash bench/decide_explore.sh                      # a throwaway cluster (pg_virtualenv)
#   BENCH_SERVER=running bash bench/decide_explore.sh # the server of PGHOST/PGPORT, database learnloop_bench
#   ROWS=20000 RUNS=7 bash bench/decide_explore.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export ROWS=${ROWS:-20000} RUNS=${RUNS:-5}

body='
set -euo pipefail
bash bench/prediction_data.sh

# each query of the list once per run, in an order that rotates between
# runs and runs backwards every other run (a rotation alone keeps each
# query after the same neighbour, and the query after ml.record_decision
# measures slower), after one untimed warm-up of each; the table is
# emptied before every query.  Prints "name best_ms" lines.
measure() {
  local script r i n=$# names=("$@") cpu="SELECT split_part(pg_read_file(\$\$/proc/self/schedstat\$\$), \$\$ \$\$, 1);"
  script=$(for r in $(seq 0 $RUNS); do
    for i in $(seq 0 $((n - 1))); do
      local k=$(( r % 2 ? n - 1 - i : i ))
      local name=${names[$(( (k + r / 2) % n ))]}
      printf "TRUNCATE ml.mltrainingdata;\n\\\\echo %s%s\n%s\n%s;\n%s\n" \
        "$([ $r = 0 ] && echo warmup_)" "$name" "$cpu" "${queries[$name]}" "$cpu"
    done
  done)
  printf "SET max_parallel_workers_per_gather = 0;\n%s\n" "$script" |
    psql -X -q -At 2>&1 |
    awk "/^[a-z_]+\$/ { name = \$1; n = 0; next }
         name != \"\" { n++; if (n == 1) t0 = \$1; if (n == 3) { t = (\$1 - t0) / 1e6;
                          if (name !~ /^warmup_/ && (!(name in best) || t < best[name])) best[name] = t; name = \"\" } }
         END { for (k in best) print k, best[k] }"
}
rows="SELECT count(*) FROM (SELECT * FROM t ORDER BY id LIMIT $ROWS) s, LATERAL"
declare -A queries=(
  [record]="$rows ml.record_decision(\$\$bench\$\$, s.id::text, s.j, \$\${\"action\": \"true\"}\$\$) d"
  [greedy]="$rows ml.decide(\$\$bench\$\$, s.id::text, s.j, \$\$rules\$\$, model => \$\$m\$\$, min_confidence => 0) d")
explores=$(psql -X -At -c "SELECT count(*) FROM pg_proc WHERE proname = \$\$decide\$\$ AND \$\$explore\$\$ = ANY (proargnames)")
names="record greedy"
if [ "$explores" = 1 ]; then
  for m in epsilon softmax squarecb; do
    queries[$m]="$rows ml.decide(\$\$bench\$\$, s.id::text, s.j, \$\$rules\$\$, model => \$\$m\$\$, min_confidence => 0, explore => \$\$$m\$\$) d"
    names="$names $m"
  done
fi
declare -A best
while read -r k v; do best[$k]=$v; done <<<"$(measure $names)"
psql -X -q -c "TRUNCATE ml.mltrainingdata"
per() { echo "scale=2; $1 * 1000 / $ROWS" | bc; }
ratio() { echo "scale=3; $1 / $2" | bc; }
echo "model: 100 trees, depth 6, 20 features, 2 actions; one backend; CPU time, best of $RUNS rotating runs of $ROWS rows"
echo "ml.record_decision: $(per ${best[record]}) CPU us/row (baseline)"
echo "ml.decide greedy:   $(per ${best[greedy]}) CPU us/decision -> greedy / record_decision = $(ratio ${best[greedy]} ${best[record]})"
if [ "$explores" = 1 ]; then
  for m in epsilon softmax squarecb; do
    echo "ml.decide $m: $(per ${best[$m]}) CPU us/decision -> $m / greedy = $(ratio ${best[$m]} ${best[greedy]})"
  done
fi
'
. bench/run_bench.sh
run_bench "$body"
