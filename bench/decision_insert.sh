#!/usr/bin/env bash
# Benchmark: the decision row written directly (src/common/row_insert.c,
# row_append) against the INSERT statement through SPI that it replaces,
# as ratios measured in one run on one cluster:
#  1. ml.record_decision x ROWS;
#  2. ml.decide x ROWS (model: 100 trees of depth 6 over 20 features, as
#     bench/predict.sh; each call predicts and writes its row).
# The INSERT side: row-level security enabled on ml.MLTrainingData, which
# the benchmark's superuser bypasses (no policy is evaluated) but which
# makes the direct path decline, so both sides write the same rows with
# the same constraints, indexes and triggers.  Direct and INSERT alternate
# RUNS times in one session; the best CPU time of each side is compared
# (bench/alternate.sh).
#
#   bash bench/decision_insert.sh                      # a throwaway cluster (pg_virtualenv)
#   BENCH_SERVER=running bash bench/decision_insert.sh # the server of PGHOST/PGPORT, database learnloop_bench
#   ROWS=20000 RUNS=5 bash bench/decision_insert.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export ROWS=${ROWS:-20000} RUNS=${RUNS:-5}

body='
set -euo pipefail
bash bench/prediction_data.sh
. bench/alternate.sh
direct="ALTER TABLE ml.mltrainingdata DISABLE ROW LEVEL SECURITY;"
insert="ALTER TABLE ml.mltrainingdata ENABLE ROW LEVEL SECURITY;"
empty="TRUNCATE ml.mltrainingdata;"
read -r r_direct r_insert <<<"$(alternate "SELECT count(ml.record_decision(\$\$bench\$\$, \$\$u\$\$ || i, \$\${\"x\": 1, \"y\": \"a\"}\$\$, \$\${\"action\": \"a\"}\$\$)) FROM generate_series(1, $ROWS) i" \
                                          "$direct" "$insert" "$empty")"
read -r d_direct d_insert <<<"$(alternate "SELECT count(*) FROM (SELECT * FROM t ORDER BY id LIMIT $ROWS) s,
                                              LATERAL ml.decide(\$\$bench\$\$, s.id::text, s.j, \$\$rules\$\$, model => \$\$m\$\$, min_confidence => 0)" \
                                          "$direct" "$insert" "$empty")"
psql -X -q -c "$direct" -c "$empty"
per_row() { echo "scale=1; $1 * 1000 / $ROWS" | bc; }
echo "one backend; CPU time of the backend, best of $RUNS alternating runs of $ROWS calls"
echo "1. ml.record_decision: direct $(per_row $r_direct) CPU us/row, INSERT $(per_row $r_insert) CPU us/row -> direct / INSERT = $(ratio $r_direct $r_insert)"
echo "2. ml.decide:          direct $(per_row $d_direct) CPU us/row, INSERT $(per_row $d_insert) CPU us/row -> direct / INSERT = $(ratio $d_direct $d_insert)"
'
. bench/run_bench.sh
run_bench "$body" -o shared_preload_libraries=learnloop
