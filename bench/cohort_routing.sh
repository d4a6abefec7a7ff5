#!/usr/bin/env bash
# Benchmark: serving with cohorts (issue 14).  Model m: 100 trees of depth 6
# over 20 features (bench/prediction_data.sh), ROWS rows (default 200,000),
# one backend, no parallel workers, best CPU time of RUNS alternating runs
# (bench/alternate.sh).
#  1. A model without cohorts: ml.predict(m, jsonb) and ml.predict(m, real[])
#     per row, as ratios to reading the same column of every row (the scan's
#     own cost, measured in the same run).  Run it on two builds to compare
#     them: the ratios do not depend on how busy the machine is.
#  2. A model with cohorts (model mc, the same data and parameters with a
#     cohort key g of four values, every row's cohort different from the
#     previous row's): ml.predict(mc, jsonb) routed to the cohorts' models
#     against the same calls for the global version (version => 1, not
#     routed).  Skipped by a build without cohorts.
#
#   BENCH_SERVER=running bash bench/cohort_routing.sh   # the server of PGHOST/PGPORT
#   ROWS=100000 RUNS=5 bash bench/cohort_routing.sh     # a throwaway cluster (pg_virtualenv)
set -euo pipefail
cd "$(dirname "$0")/.."
export ROWS=${ROWS:-200000} RUNS=${RUNS:-5}

body='
set -euo pipefail
bash bench/prediction_data.sh
. bench/alternate.sh
psql -X -q -c "CREATE VIEW v AS SELECT 0::float8 AS x"
scan_j="CREATE OR REPLACE VIEW v AS SELECT sum(length(j::text))::float8 AS x FROM t;"
pred_j="CREATE OR REPLACE VIEW v AS SELECT sum(ml.predict(\$\$m\$\$, j)) AS x FROM t;"
scan_f="CREATE OR REPLACE VIEW v AS SELECT sum(array_length(f, 1))::float8 AS x FROM t;"
pred_f="CREATE OR REPLACE VIEW v AS SELECT sum(ml.predict(\$\$m\$\$, f)) AS x FROM t;"
read -r p_j s_j <<<"$(alternate "SELECT x FROM v" "$pred_j" "$scan_j")"
read -r p_f s_f <<<"$(alternate "SELECT x FROM v" "$pred_f" "$scan_f")"
us() { echo "scale=3; $1 * 1000 / $ROWS" | bc; }
echo "model: 100 trees, depth 6, 20 features; $ROWS rows; one backend, no parallel workers; best CPU time of $RUNS alternating runs"
echo "1. no cohorts: ml.predict(m, jsonb) $(us $p_j) us/row -> / reading the jsonb = $(ratio $p_j $s_j)"
echo "               ml.predict(m, real[]) $(us $p_f) us/row -> / reading the array = $(ratio $p_f $s_f)"
if [ "$(psql -X -At -c "SELECT count(*) FROM pg_attribute WHERE attrelid = \$\$ml.models\$\$::regclass AND attname = \$\$cohort\$\$")" = 1 ]; then
  psql -X -q -c "ALTER TABLE train_t ADD COLUMN g text" -c "UPDATE train_t SET g = \$\$c\$\$ || floor(f1 * 4)::int"
  psql -X -q -o /dev/null -c "SELECT * FROM ml.train(\$\$mc\$\$, \$\$train_t\$\$, \$\$label\$\$, test_size => 0, cohort_column => \$\$g\$\$,
                                min_cohort_rows => 1000, params => \$\${\"num_round\": 100, \"max_depth\": 6}\$\$)" 2>/dev/null
  psql -X -q -c "ALTER TABLE t ADD COLUMN jc jsonb" -c "UPDATE t SET jc = j || jsonb_build_object(\$\$g\$\$, \$\$c\$\$ || id % 4)" -c "VACUUM ANALYZE t"
  routed="CREATE OR REPLACE VIEW v AS SELECT sum(ml.predict(\$\$mc\$\$, jc)) AS x FROM t;"
  global="CREATE OR REPLACE VIEW v AS SELECT sum(ml.predict(\$\$mc\$\$, jc, 1)) AS x FROM t;"
  read -r p_r p_g <<<"$(alternate "SELECT x FROM v" "$routed" "$global")"
  echo "2. cohorts: ml.predict(mc, jsonb) routed over 4 cohorts $(us $p_r) us/row, the global version asked for $(us $p_g) us/row -> routed / not routed = $(ratio $p_r $p_g)"
  echo "   models cached: $(psql -X -At -c "SELECT ml.predict(\$\$mc\$\$, jc) FROM t WHERE id <= 4" -c "SELECT count(*) FROM ml.model_cache() WHERE model = \$\$mc\$\$" | tail -1)"
fi
'
. bench/run_bench.sh
run_bench "$body" -o shared_preload_libraries=learnloop
