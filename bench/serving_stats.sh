#!/usr/bin/env bash
# Benchmark: the cost of serving statistics on the hot path (issue 11,
# "Performance"), as ratios measured in one run on one cluster:
#  1. SELECT sum(ml.predict('m', f)) FROM t (float4[] features, one core, no
#     parallel workers) with learnloop.serving_stats on vs off: time per row
#     (target: on / off <= 1.05);
#  2. ml.decide of ROWS_DECIDE decisions (each one predicts and inserts its
#     row) with learnloop.serving_stats on vs off (target: <= 1.05).  The
#     decision's latency_us is written in both: it is data, not a counter.
# Model: 100 trees of depth 6 over 20 features, as bench/predict.sh.  On and
# off alternate RUNS times in one session each; the best CPU time of each
# side is compared (the least disturbed by other load on the machine).
#
#   bash bench/serving_stats.sh                      # a throwaway cluster (pg_virtualenv)
#   BENCH_SERVER=running bash bench/serving_stats.sh # the server of PGHOST/PGPORT, database learnloop_bench
#   ROWS=200000 ROWS_DECIDE=20000 RUNS=7 bash bench/serving_stats.sh
# Needs the extension installed and learnloop in shared_preload_libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
export ROWS=${ROWS:-200000} ROWS_DECIDE=${ROWS_DECIDE:-20000} RUNS=${RUNS:-7}

body='
set -euo pipefail
bash bench/prediction_data.sh

# on and off alternate in one session, best CPU time of each (bench/alternate.sh)
. bench/alternate.sh

on="SET learnloop.serving_stats = on;" off="SET learnloop.serving_stats = off;"
read -r p_on p_off <<<"$(alternate "SELECT sum(ml.predict(\$\$m\$\$, f)) FROM t" "$on" "$off")"
read -r d_on d_off <<<"$(alternate "SELECT count(*) FROM (SELECT * FROM t ORDER BY id LIMIT $ROWS_DECIDE) s,
                                      LATERAL ml.decide(\$\$bench\$\$, s.id::text, s.j, \$\$rules\$\$, model => \$\$m\$\$, min_confidence => 0)" \
                                  "$on" "$off" "TRUNCATE ml.mltrainingdata;")"
psql -X -q -c "TRUNCATE ml.mltrainingdata"
counted=$(psql -X -At -c "SELECT string_agg(function || \$\$=\$\$ || calls, \$\$ \$\$ ORDER BY function) FROM ml.serving_stats WHERE model = \$\$m\$\$ AND database = current_database()")
echo "model: 100 trees, depth 6, 20 features; one backend, no parallel workers; CPU time of the backend, best of $RUNS alternating runs"
echo "1. ml.predict(m, real[]) x $ROWS: on $(echo "scale=4; $p_on * 1000 / $ROWS" | bc) CPU us/row, off $(echo "scale=4; $p_off * 1000 / $ROWS" | bc) CPU us/row -> on / off = $(ratio $p_on $p_off) (target <= 1.05)"
echo "2. ml.decide x $ROWS_DECIDE:        on $(echo "scale=2; $d_on * 1000 / $ROWS_DECIDE" | bc) CPU us/decision, off $(echo "scale=2; $d_off * 1000 / $ROWS_DECIDE" | bc) CPU us/decision -> on / off = $(ratio $d_on $d_off) (target <= 1.05)"
echo "   counted while on: $counted"
'
. bench/run_bench.sh
run_bench "$body" -o shared_preload_libraries=learnloop
