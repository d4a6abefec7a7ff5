#!/usr/bin/env bash
# Demonstration: the largest table this machine trains on, streamed.
#
#   bash bench/train_largest.sh                        # 100,000,000 rows x 20 real features, 20 rounds
#   ROWS=10000000 bash bench/train_largest.sh          # a smaller table
#   BENCH_SERVER=running bash bench/train_largest.sh   # on the server of PGHOST/PGPORT
#
# Generates ROWS rows of 20 uniform float4 features and a 0/1 label that
# depends on three of them (with 10 % of the labels flipped) in an unlogged
# table, then trains one classifier on it with learnloop.training_memory =
# 'stream' (ROUNDS rounds of depth DEPTH, test_size TEST_SIZE, so the
# evaluation on the held-out rows runs too), and reports: the table's size,
# the time of generating, loading (reading and spilling) and training
# (quantising, boosting and evaluating), the training worker's peak private
# memory (RssAnon sampled every 100 ms, and VmHWM) against the raw float32
# size of the features, the temporary file bytes the job wrote, and the
# held-out accuracy and AUC (a check that the model learnt something: the
# best possible accuracy is 0.90).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/run_bench.sh
export ROWS=${ROWS:-100000000} ROUNDS=${ROUNDS:-20} DEPTH=${DEPTH:-6} TEST_SIZE=${TEST_SIZE:-0.1}
export THREADS=${THREADS:-$(nproc)} CHUNK=${CHUNK:-10000000}

run_bench '
set -euo pipefail
. bench/worker_peak.sh
psql -X -q -c "CREATE EXTENSION IF NOT EXISTS learnloop"
db=$(psql -X -At -c "SELECT current_database()")
psql -X -q -c "ALTER DATABASE $db SET learnloop.training_threads = $THREADS"
cols=$(for k in $(seq 1 20); do printf ", random()::float4 AS f%d" "$k"; done)
psql -X -q -c "CREATE UNLOGGED TABLE bench_largest (label int, f1 float4, f2 float4, f3 float4, f4 float4, f5 float4,
                 f6 float4, f7 float4, f8 float4, f9 float4, f10 float4, f11 float4, f12 float4, f13 float4,
                 f14 float4, f15 float4, f16 float4, f17 float4, f18 float4, f19 float4, f20 float4)"
start=$(date +%s.%N)
for ((from = 1; from <= ROWS; from += CHUNK)); do
  to=$(( from + CHUNK - 1 < ROWS ? from + CHUNK - 1 : ROWS ))
  psql -X -q -o /dev/null -c "SELECT setseed($from::float8 / $ROWS)" -c "INSERT INTO bench_largest
                   SELECT (((f1 + f2 > 1) <> (f3 > 0.9)) <> (random() < 0.1))::int, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10,
                          f11, f12, f13, f14, f15, f16, f17, f18, f19, f20
                   FROM (SELECT 1 $cols FROM generate_series($from, $to)) g"
done
psql -X -q -c "VACUUM ANALYZE bench_largest"
generated=$(echo "$(date +%s.%N) - $start" | bc)
size=$(psql -X -At -c "SELECT pg_size_pretty(pg_table_size(\$\$bench_largest\$\$))")
temp_before=$(psql -X -At -c "SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")

start=$(date +%s.%N)
job=$(psql -X -At -q -c "SET learnloop.training_memory = stream" -c "SELECT ml.train_async(\$\$largest\$\$, \$\$bench_largest\$\$, \$\$label\$\$,
        task => \$\$classification\$\$, test_size => $TEST_SIZE, deploy => \$\$never\$\$,
        params => \$\${\"num_round\": $ROUNDS, \"max_depth\": $DEPTH}\$\$)")
read -r anon hwm <<< "$(worker_peak "$job" 0.1)"
total=$(echo "$(date +%s.%N) - $start" | bc)
status=$(psql -X -At -c "SELECT status || \$\$ \$\$ || coalesce(training_memory, \$\$?\$\$) || coalesce(\$\$: \$\$ || error, \$\$\$\$) FROM ml.training_jobs WHERE job_id = $job AND database = current_database()")
temp_after=$(psql -X -At -c "SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")
raw_kib=$(( ROWS * 20 * 4 / 1024 ))
echo "table: $ROWS rows x 20 real features, $size on disk, generated in $(printf %.0f "$generated") s"
echo "job $job: $status; $ROUNDS rounds, depth $DEPTH, test_size $TEST_SIZE, $THREADS threads; $(printf %.0f "$total") s from the call to the end of the worker"
psql -X -At -c "SELECT \$\$  \$\$ || train_rows || \$\$ training rows, \$\$ || test_rows || \$\$ test rows; loading \$\$ || round(load_seconds::numeric) ||
                      \$\$ s, quantising, boosting and evaluating \$\$ || round(training_seconds::numeric) || \$\$ s\$\$
                FROM ml.models WHERE name = \$\$largest\$\$"
echo "  worker peak: RssAnon $(mib $anon) MiB = $(echo "scale=3; $anon / $raw_kib" | bc) x the raw float32 features ($(mib $raw_kib) MiB); VmHWM $(mib $hwm) MiB"
echo "  temporary files written: $(( (temp_after - temp_before) / 1048576 )) MiB"
psql -X -At -c "SELECT \$\$  held out: accuracy \$\$ || round(accuracy::numeric, 4) || \$\$, AUC \$\$ || round((metrics->>\$\$roc_auc\$\$)::numeric, 4)
                FROM ml.MLEvaluationResults WHERE model_name = \$\$largest\$\$"
' -o shared_preload_libraries=learnloop -o "learnloop.training_threads=$THREADS"
