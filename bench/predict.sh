#!/usr/bin/env bash
# Benchmark: serving predictions in SQL (issue: "predict at tree-walking speed").
# Model: 100 trees of depth 6 over 20 features; a table of ROWS feature rows.
#
#   bash bench/predict.sh               # ROWS=1000000
#   ROWS=200000 SECONDS_PER_RUN=5 bash bench/predict.sh
#
# Measured in one run, on one cluster:
#  1. SELECT sum(ml.predict('m', f)) FROM t with float4[] features (one core,
#     no parallel workers): microseconds per row, against XGBoost's C API
#     single-row inplace prediction and its batch prediction of the same rows
#     from memory (bench/xgb_predict_baseline.c, 1 thread and all cores);
#  2. the same with jsonb features;
#  3. pgbench with 1 and 8 clients running one SELECT ml.predict(...) per
#     transaction, against a Python client that fetches the features and
#     predicts with python3-xgboost (bench/python_client.py);
#  4. the memory a backend holds for the cached model.
# Needs the extension installed (scripts/build.sh), python3-xgboost and python3-psycopg2.
set -euo pipefail
cd "$(dirname "$0")/.."
export ROWS=${ROWS:-1000000} SECONDS_PER_RUN=${SECONDS_PER_RUN:-10} THREADS=$(nproc)
export BENCH_DIR=$(mktemp -d /tmp/learnloop_bench.XXXXXX)
chmod 755 "$BENCH_DIR"
gcc -O2 -o "$BENCH_DIR/xgb_predict_baseline" bench/xgb_predict_baseline.c -lxgboost -lm

pg_virtualenv -t -v 15 -o shared_preload_libraries=learnloop -o max_worker_processes=16 bash -c '
set -euo pipefail
bash bench/prediction_data.sh
psql -X -At -c "SELECT encode(model, \$\$hex\$\$) FROM ml.models WHERE name = \$\$m\$\$" | xxd -r -p > "$BENCH_DIR/m.ubj"
psql -X -At -c "COPY (SELECT array_to_string(f, \$\$,\$\$) FROM t ORDER BY id) TO STDOUT" > "$BENCH_DIR/rows.csv"
/usr/bin/python3 -c "import numpy as np, sys; np.fromstring(open(sys.argv[1]).read().replace(chr(10), chr(44)), dtype=np.float32, sep=chr(44)).tofile(sys.argv[2])" "$BENCH_DIR/rows.csv" "$BENCH_DIR/rows.f32"

timed() { psql -X -At -c "SET max_parallel_workers_per_gather = 0" -c "SELECT ml.predict(\$\$m\$\$, f) FROM t LIMIT 1" \
               -c "\\timing on" -c "$1" | sed -n "s/^Time: \([0-9.]*\) ms.*/\1/p"; }
scan_ms=$(timed "SELECT sum(array_length(f, 1)) FROM t")
array_ms=$(timed "SELECT sum(ml.predict(\$\$m\$\$, f)) FROM t")
jsonb_ms=$(timed "SELECT sum(ml.predict(\$\$m\$\$, j)) FROM t")
base=$("$BENCH_DIR/xgb_predict_baseline" "$BENCH_DIR/m.ubj" "$BENCH_DIR/rows.f32" "$ROWS" 20 1)
base_all=$("$BENCH_DIR/xgb_predict_baseline" "$BENCH_DIR/m.ubj" "$BENCH_DIR/rows.f32" "$ROWS" 20 "$THREADS")
single=$(echo "$base" | sed -n "s/.*single_row_us=\([0-9.]*\).*/\1/p")
batch1=$(echo "$base" | sed -n "s/.*batch_us=\([0-9.]*\).*/\1/p")
batchn=$(echo "$base_all" | sed -n "s/.*batch_us=\([0-9.]*\).*/\1/p")
us() { echo "scale=4; $1 * 1000 / $ROWS" | bc; }
echo "rows=$ROWS model: 100 trees, depth 6, 20 features; one backend, no parallel workers"
echo "1. ml.predict(m, real[]):      $(us $array_ms) us/row (scan alone: $(us $scan_ms) us/row)"
echo "   XGBoost single-row inplace: $single us/row  -> ml.predict is $(echo "scale=1; $single / $(us $array_ms)" | bc)x faster (target >= 10x)"
echo "   XGBoost batch, 1 thread:    $batch1 us/row  -> ratio ml.predict / batch = $(echo "scale=2; $(us $array_ms) / $batch1" | bc) (target <= 1)"
echo "   XGBoost batch, $THREADS threads:   $batchn us/row"
echo "2. ml.predict(m, jsonb):       $(us $jsonb_ms) us/row  -> jsonb / array = $(echo "scale=2; $jsonb_ms / $array_ms" | bc) (target <= 2)"
printf "\\\\set id random(1, $ROWS)\nSELECT ml.predict(\$\$m\$\$, f) FROM t WHERE id = :id;\n" > "$BENCH_DIR/predict.pgbench"
for c in 1 8; do
  out=$(pgbench -n -M prepared -c $c -j $c -T $SECONDS_PER_RUN -f "$BENCH_DIR/predict.pgbench" 2>&1)
  echo "3. pgbench clients=$c: $(echo "$out" | sed -n "s/^tps = \([0-9.]*\).*/\1/p" | cut -d. -f1) requests/s, latency mean $(echo "$out" | sed -n "s/^latency average = \(.*\)/\1/p")"
  /usr/bin/python3 bench/python_client.py $c $SECONDS_PER_RUN "$BENCH_DIR/m.ubj" "$ROWS" | sed "s/^/   /"
done
psql -X -At -c "SELECT ml.predict(\$\$m\$\$, f) FROM t WHERE id = 1" \
     -c "SELECT \$\$4. memory: model cache \$\$ || pg_size_pretty(memory_bytes) || \$\$ for a \$\$ || pg_size_pretty(model_bytes) || \$\$ model (\$\$ || evaluator || \$\$ evaluator)\$\$ FROM ml.model_cache()" | tail -1
' 2>&1 | grep -v "UTC \[" | grep -v "cluster 15/regress"
rm -rf "$BENCH_DIR"
