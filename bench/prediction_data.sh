#!/usr/bin/env bash
# The data the prediction benchmarks share (bench/predict.sh and
# bench/serving_stats.sh): model m, 100 trees of depth 6 over 20 float
# features trained on 200,000 rows, and table t of $ROWS rows (id, the
# features as real[] f and as jsonb j).  Creates the extension in the
# database of PGHOST/PGPORT/PGDATABASE, which must not have it yet.
set -euo pipefail
: "${ROWS:?ROWS: how many rows table t gets}"
cols=$(for k in $(seq 1 20); do printf ", ((i * %s) %% 1)::float4 AS f%d" "0.$(printf %04d $((k * 613 % 9973)))6180339887" "$k"; done)
arr=$(for k in $(seq 1 20); do printf "%sf%d" "$([ $k -gt 1 ] && echo ,)" "$k"; done)
obj=$(for k in $(seq 1 20); do printf "%s\$\$f%d\$\$, f%d" "$([ $k -gt 1 ] && echo ,)" "$k" "$k"; done)
psql -X -q -c "CREATE EXTENSION learnloop"
psql -X -q -c "CREATE TABLE train_t AS SELECT ((i * 0.06180339887) % 1 + (i * 0.04142135623) % 1 > 1.0)
                 <> ((i * 0.07320508075) % 1 > 0.9) AS label $cols FROM generate_series(1, 200000) i"
psql -X -q -o /dev/null -c "SELECT * FROM ml.train(\$\$m\$\$, \$\$train_t\$\$, \$\$label\$\$, test_size => 0,
                              params => \$\${\"num_round\": 100, \"max_depth\": 6}\$\$)" 2>/dev/null
psql -X -q -c "CREATE TABLE t AS SELECT i AS id, ARRAY[$arr]::real[] AS f, jsonb_build_object($obj) AS j
                 FROM (SELECT i $cols FROM generate_series(1, $ROWS) i) s"
psql -X -q -c "ALTER TABLE t ADD PRIMARY KEY (id)" -c "VACUUM ANALYZE t"
