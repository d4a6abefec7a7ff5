#!/usr/bin/env bash
# Benchmark: ml.train from a table against XGBoost's own training of the same
# data already in memory (Debian's python3-xgboost, the same libxgboost),
# measured in the same run with the same threads and parameters.
#
#   bash bench/train.sh              # 1,000,000 rows x 20 features, 100 rounds, depth 6
#   ROWS=200000 bash bench/train.sh  # smaller
#
# Prints both times, their ratio (target <= 1.15) and ml.train's split
# between loading rows and boosting.  Needs the extension installed
# (scripts/build.sh) and python3-xgboost.
set -euo pipefail
cd "$(dirname "$0")/.."
export ROWS=${ROWS:-1000000} ROUNDS=${ROUNDS:-100} DEPTH=${DEPTH:-6} THREADS=${THREADS:-$(nproc)}
command -v python3 >/dev/null && /usr/bin/python3 -c 'import xgboost' 2>/dev/null || {
  echo "bench/train.sh needs python3-xgboost: apt-get install python3-xgboost" >&2; exit 1; }

pg_virtualenv -t -v 15 -o shared_preload_libraries=learnloop -o "learnloop.training_threads=$THREADS" \
  bash -c '
set -euo pipefail
# feature k of row i is frac(i * m_k) for irrational-ish m_k; the label mixes a few of them
cols=$(for k in $(seq 1 20); do printf ", ((i * %s) %% 1)::float4 AS f%d" "0.$(printf %04d $((k * 613 % 9973)))6180339887" "$k"; done)
psql -X -q -c "CREATE EXTENSION learnloop"
psql -X -q -c "CREATE TABLE bench AS SELECT ((i * 0.06180339887) % 1 + (i * 0.04142135623) % 1 > 1.0)
                 <> ((i * 0.07320508075) % 1 > 0.9) AS label $cols FROM generate_series(1, $ROWS) i"
psql -X -q -c "VACUUM ANALYZE bench"
start=$(date +%s.%N)
psql -X -q -c "SELECT version FROM ml.train(\$\$bench\$\$, \$\$bench\$\$, \$\$label\$\$, test_size => 0, deploy => \$\$never\$\$,
                 params => \$\${\"num_round\": $ROUNDS, \"max_depth\": $DEPTH}\$\$)" -o /dev/null 2>/dev/null
end=$(date +%s.%N)
train=$(echo "$end - $start" | bc)
split=$(psql -X -At -c "SELECT round(load_seconds::numeric, 2) || \$\$ s loading, \$\$ || round(training_seconds::numeric, 2) || \$\$ s boosting\$\$ FROM ml.models WHERE name = \$\$bench\$\$")
psql -X -q -At -F, -c "COPY bench TO STDOUT WITH (FORMAT csv)" > /tmp/learnloop_bench.csv
baseline=$(/usr/bin/python3 - <<PY
import time, numpy as np, xgboost as xgb
data = np.loadtxt("/tmp/learnloop_bench.csv", delimiter=",", converters={0: lambda s: 1.0 if s in (b"t", "t") else 0.0}, dtype=np.float32)
y, X = data[:, 0], np.ascontiguousarray(data[:, 1:])
start = time.perf_counter()
d = xgb.DMatrix(X, label=y, nthread=$THREADS)
xgb.train({"objective": "binary:logistic", "max_depth": $DEPTH, "tree_method": "hist", "nthread": $THREADS, "seed": 42}, d, $ROUNDS)
print(f"{time.perf_counter() - start:.3f}")
PY
)
rm -f /tmp/learnloop_bench.csv
echo "rows=$ROWS features=20 rounds=$ROUNDS depth=$DEPTH threads=$THREADS"
echo "ml.train from a table:          ${train} s ($split)"
echo "XGBoost on the data in memory:  ${baseline} s"
echo "ratio: $(echo "scale=3; $train / $baseline" | bc)"
' 2>&1 | grep -v "UTC \[" | grep -v "cluster 15/regress"
