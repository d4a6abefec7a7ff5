#!/usr/bin/env bash
# Benchmark: active learning's ranking (issue 14): ml.least_certain picking
# the 100 least certain of ROWS rows (default 1,000,000), by entropy, and
# with diversity 0.5, against predicting every row with ml.predict_proba
# (SELECT sum of its first element): what the ranking adds to the
# predictions it cannot avoid.  Model: 100 trees of depth 6 over 20
# features (bench/prediction_data.sh); one backend, no parallel workers;
# each side's best CPU time of RUNS alternating runs (bench/alternate.sh).
#
#   bash bench/least_certain.sh                      # a throwaway cluster (pg_virtualenv)
#   BENCH_SERVER=running bash bench/least_certain.sh # the server of PGHOST/PGPORT, database learnloop_bench
#   ROWS=200000 RUNS=3 bash bench/least_certain.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export ROWS=${ROWS:-1000000} RUNS=${RUNS:-3}

body='
set -euo pipefail
bash bench/prediction_data.sh
. bench/alternate.sh

# the same query text on both sides: a view switched between the two
psql -X -q -c "CREATE VIEW rank_or_predict AS SELECT 0::float8 AS v"
predict="CREATE OR REPLACE VIEW rank_or_predict AS SELECT sum((ml.predict_proba(\$\$m\$\$, j))[1]) AS v FROM t;"
rank="CREATE OR REPLACE VIEW rank_or_predict AS SELECT sum(uncertainty) AS v FROM ml.least_certain(\$\$m\$\$, \$\$SELECT id, j AS features FROM t\$\$, 100, only_without_outcome => false);"
spread="CREATE OR REPLACE VIEW rank_or_predict AS SELECT sum(uncertainty) AS v FROM ml.least_certain(\$\$m\$\$, \$\$SELECT id, j AS features FROM t\$\$, 100, only_without_outcome => false, diversity => 0.5);"
read -r r_rank r_predict <<<"$(alternate "SELECT v FROM rank_or_predict" "$rank" "$predict")"
read -r r_spread r_predict2 <<<"$(alternate "SELECT v FROM rank_or_predict" "$spread" "$predict")"
echo "model: 100 trees, depth 6, 20 features; $ROWS rows (jsonb features); one backend, no parallel workers; best CPU time of $RUNS alternating runs"
echo "predict_proba of every row:             $(echo "scale=0; $r_predict / 1" | bc) ms ($(echo "scale=0; $ROWS * 1000 / $r_predict" | bc) rows/s)"
echo "least_certain n=100, entropy:           $(echo "scale=0; $r_rank / 1" | bc) ms -> / predicting every row = $(ratio $r_rank $r_predict)"
echo "least_certain n=100, diversity 0.5:     $(echo "scale=0; $r_spread / 1" | bc) ms -> / predicting every row = $(ratio $r_spread $r_predict2)"
'
. bench/run_bench.sh
run_bench "$body" -o shared_preload_libraries=learnloop
