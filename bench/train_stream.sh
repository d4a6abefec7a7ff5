#!/usr/bin/env bash
# Benchmark: training from a stream (learnloop.training_memory = 'stream').
#
#   bash bench/train_stream.sh                       # 2,000,000 x 20 for memory, 1,000,000 x 20 x 100 rounds for time
#   BENCH_SERVER=running bash bench/train_stream.sh  # on the server of PGHOST/PGPORT
#   MEM_ROWS=10000000 TIME_ROWS=0 bash bench/train_stream.sh   # memory only, 10,000,000 rows
#
# Memory: the training worker's peak private memory (RssAnon, sampled every
# 20 ms, and VmHWM) on MEM_ROWS x 20 float4 features, streamed and in memory,
# above an idle worker's (the same job on 1,000 rows), against the raw
# float32 size of the features (target: at most 0.5 x) and against Python's
# xgboost.QuantileDMatrix on the same rows: its peak (VmHWM) above the
# resident size once the numpy input is loaded, built and then boosted for
# the same rounds.  MEM_ROUNDS rounds (10): memory grows in the first
# round, not later ones.
#
# Time: ml.train streamed and in memory on TIME_ROWS x 20 x 100 rounds,
# depth 6, test_size 0, against XGBoost's own training of the same rows
# already in memory (python3-xgboost, DMatrix from numpy), in the same run
# with the same threads (target: stream / XGBoost at most 1.15).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/run_bench.sh
export MEM_ROWS=${MEM_ROWS:-2000000} TIME_ROWS=${TIME_ROWS:-1000000} ROUNDS=${ROUNDS:-100}
export MEM_ROUNDS=${MEM_ROUNDS:-10} DEPTH=${DEPTH:-6} THREADS=${THREADS:-$(nproc)}
/usr/bin/python3 -c 'import xgboost' 2>/dev/null || {
  echo "bench/train_stream.sh needs python3-xgboost: apt-get install python3-xgboost" >&2; exit 1; }

run_bench '
set -euo pipefail
. bench/worker_peak.sh
tmp=$(mktemp -d)
trap "rm -rf $tmp" EXIT
psql -X -q -c "CREATE EXTENSION IF NOT EXISTS learnloop"
psql -X -q -c "ALTER DATABASE $(psql -X -At -c "SELECT current_database()") SET learnloop.training_threads = $THREADS" 2>/dev/null || true
# feature k of row i is frac(i * m_k), as bench/train.sh; the label mixes a few
cols=$(for k in $(seq 1 20); do printf ", ((i * %s) %% 1)::float4 AS f%d" "0.$(printf %04d $((k * 613 % 9973)))6180339887" "$k"; done)
rows=$(( MEM_ROWS > TIME_ROWS ? MEM_ROWS : TIME_ROWS ))
psql -X -q -c "CREATE TABLE bench_all AS SELECT i, (((i * 0.06180339887) % 1 + (i * 0.04142135623) % 1 > 1.0)
                 <> ((i * 0.07320508075) % 1 > 0.9))::int AS label $cols FROM generate_series(1, $rows) i"
psql -X -q -c "CREATE VIEW bench_mem AS SELECT label, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20 FROM bench_all WHERE i <= $MEM_ROWS"
psql -X -q -c "CREATE VIEW bench_time AS SELECT label, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20 FROM bench_all WHERE i <= $TIME_ROWS"
psql -X -q -c "CREATE VIEW bench_idle AS SELECT label, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20 FROM bench_all WHERE i <= 1000"
psql -X -q -c "VACUUM ANALYZE bench_all"

# peak MODE SOURCE ROUNDS: the worker of one job, sampled until it exits: "anon_kB hwm_kB"
peak() {
  local job peaks
  job=$(psql -X -At -q -c "SET learnloop.training_memory = $1;
          SELECT ml.train_async(\$\$$2_$1\$\$, \$\$$2\$\$, \$\$label\$\$, task => \$\$classification\$\$, test_size => 0,
                                deploy => \$\$never\$\$, params => \$\${\"num_round\": $3, \"max_depth\": $DEPTH}\$\$)")
  peaks=$(worker_peak "$job" 0.02)
  [ "$(psql -X -At -c "SELECT status || training_memory FROM ml.training_jobs WHERE job_id = $job AND database = current_database()")" = "succeeded$1" ] ||
    { echo "the $1 job on $2 did not succeed" >&2; exit 1; }
  echo "$peaks"
}
raw_kib=$(( MEM_ROWS * 20 * 4 / 1024 ))

if [ "$MEM_ROWS" -gt 0 ]; then
  read -r idle_anon idle_hwm <<< "$(peak stream bench_idle $MEM_ROUNDS)"
  read -r s_anon s_hwm <<< "$(peak stream bench_mem $MEM_ROUNDS)"
  read -r m_anon m_hwm <<< "$(peak memory bench_mem $MEM_ROUNDS)"
  psql -X -q -At -c "COPY (SELECT label, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20 FROM bench_mem) TO STDOUT WITH (FORMAT csv)" > $tmp/mem.csv
  /usr/bin/python3 - "$tmp" <<PY
import sys, numpy as np
tmp = sys.argv[1]
text = open(f"{tmp}/mem.csv").read().replace("\n", ",")
data = np.fromstring(text, sep=",", dtype=np.float32).reshape(-1, 21)
np.save(f"{tmp}/y.npy", np.ascontiguousarray(data[:, 0])); np.save(f"{tmp}/X.npy", np.ascontiguousarray(data[:, 1:]))
PY
  rm -f $tmp/mem.csv
  python_peak=$(/usr/bin/python3 - "$tmp" <<PY
import sys, numpy as np, xgboost as xgb
def kb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])
tmp = sys.argv[1]
X = np.load(f"{tmp}/X.npy"); y = np.load(f"{tmp}/y.npy")
base = kb("VmRSS:")
# the high-water mark so far (loading) must not hide the QuantileDMatrix peak
assert kb("VmHWM:") - base < 64 * 1024, "loading left a high-water mark above the input"
d = xgb.QuantileDMatrix(X, label=y, max_bin=256, nthread=$THREADS)
built = kb("VmHWM:") - base
xgb.train({"objective": "binary:logistic", "max_depth": $DEPTH, "tree_method": "hist", "nthread": $THREADS, "seed": 42}, d, $MEM_ROUNDS)
print(built, kb("VmHWM:") - base)
PY
)
  read -r py_built py_trained <<< "$python_peak"
  echo "memory: $MEM_ROWS rows x 20 float4 features = $(mib $raw_kib) MiB raw; $MEM_ROUNDS rounds, depth $DEPTH, $THREADS threads"
  echo "  idle worker (1,000 rows):            RssAnon peak $(mib $idle_anon) MiB, VmHWM $(mib $idle_hwm) MiB"
  echo "  ml.train streamed, above idle:       RssAnon $(mib $((s_anon - idle_anon))) MiB = $(echo "scale=3; ($s_anon - $idle_anon) / $raw_kib" | bc) x raw (target <= 0.5); VmHWM $(mib $s_hwm) MiB"
  echo "  ml.train in memory, above idle:      RssAnon $(mib $((m_anon - idle_anon))) MiB = $(echo "scale=3; ($m_anon - $idle_anon) / $raw_kib" | bc) x raw; VmHWM $(mib $m_hwm) MiB"
  echo "  Python QuantileDMatrix above input:  built $(mib $py_built) MiB = $(echo "scale=3; $py_built / $raw_kib" | bc) x raw; built and trained $(mib $py_trained) MiB = $(echo "scale=3; $py_trained / $raw_kib" | bc) x raw"
  echo "  streamed / Python (built and trained): $(echo "scale=3; ($s_anon - $idle_anon) / $py_trained" | bc)"
fi

if [ "$TIME_ROWS" -gt 0 ]; then
  timed() {
    local start end
    start=$(date +%s.%N)
    psql -X -q -o /dev/null -c "SET learnloop.training_memory = $1" -c "SELECT version FROM ml.train(\$\$time_$1\$\$, \$\$bench_time\$\$, \$\$label\$\$,
          task => \$\$classification\$\$, test_size => 0, deploy => \$\$never\$\$,
          params => \$\${\"num_round\": $ROUNDS, \"max_depth\": $DEPTH}\$\$)" 2>/dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc
  }
  split() { psql -X -At -c "SELECT round(load_seconds::numeric, 2) || \$\$ s loading, \$\$ || round(training_seconds::numeric, 2) || \$\$ s quantising and boosting\$\$ FROM ml.models WHERE name = \$\$time_$1\$\$"; }
  t_stream=$(timed stream)
  t_memory=$(timed memory)
  psql -X -q -At -c "COPY (SELECT * FROM bench_time) TO STDOUT WITH (FORMAT csv)" > $tmp/time.csv
  baseline=$(/usr/bin/python3 - "$tmp" <<PY
import sys, time, numpy as np, xgboost as xgb
tmp = sys.argv[1]
text = open(f"{tmp}/time.csv").read().replace("\n", ",")
data = np.fromstring(text, sep=",", dtype=np.float32).reshape(-1, 21)
y, X = data[:, 0], np.ascontiguousarray(data[:, 1:])
start = time.perf_counter()
d = xgb.DMatrix(X, label=y, nthread=$THREADS)
xgb.train({"objective": "binary:logistic", "max_depth": $DEPTH, "tree_method": "hist", "nthread": $THREADS, "seed": 42}, d, $ROUNDS)
print(f"{time.perf_counter() - start:.3f}")
PY
)
  echo "time: $TIME_ROWS rows x 20 features, $ROUNDS rounds, depth $DEPTH, $THREADS threads"
  echo "  ml.train streamed:             $t_stream s ($(split stream))"
  echo "  ml.train in memory:            $t_memory s ($(split memory))"
  echo "  XGBoost on the data in memory: $baseline s"
  echo "  streamed / XGBoost: $(echo "scale=3; $t_stream / $baseline" | bc) (target <= 1.15); in memory / XGBoost: $(echo "scale=3; $t_memory / $baseline" | bc)"
fi
' -o shared_preload_libraries=learnloop -o "learnloop.training_threads=$THREADS"
