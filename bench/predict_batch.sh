#!/usr/bin/env bash
# Benchmark: scoring a whole table (issue 15): ml.predict_batch over ROWS
# rows (default 10,000,000) with 0, 1 and 2 parallel workers, in rows per
# second, against in the same run:
#  - reading the table alone, and predicting every row without writing
#    (SELECT sum(ml.predict(...)), no parallel workers);
#  - PostgreSQL's own CREATE TABLE AS of the same SELECT with 2 workers (what
#    ml.predict_batch does, without its NOTICEs and checks);
#  - INSERT INTO ... SELECT of the same, which PostgreSQL 15 runs serially.
# Model m: 100 trees of depth 6 over 20 features (bench/prediction_data.sh);
# table big: ROWS rows of (id, real[20]), bench/prediction_data.sh's 1,000
# feature rows repeated.  Each figure is one run: the table is large and the
# machine shared.
#
#   bash bench/predict_batch.sh                       # a throwaway cluster (pg_virtualenv)
#   BENCH_SERVER=running bash bench/predict_batch.sh  # the server of PGHOST/PGPORT, database learnloop_bench
#   ROWS=1000000 bash bench/predict_batch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/run_bench.sh
export ROWS=${ROWS:-10000000}

body='
set -euo pipefail
ROWS=1000 bash bench/prediction_data.sh
psql -X -q -c "CREATE TABLE big AS SELECT (k - 1) * 1000 + t.id AS id, t.f
                 FROM generate_series(1, $ROWS / 1000) k, t ORDER BY k, t.id" -c "VACUUM ANALYZE big"
# milliseconds of a statement with that many parallel workers per gather
timed() {
  psql -X -At -c "SET max_parallel_workers_per_gather = $1" -c "\\timing on" -c "$2" 2>"$BENCH_ERR" |
    sed -n "s/^Time: \([0-9.]*\) ms.*/\1/p" | tail -1
}
BENCH_ERR=$(mktemp)
rate() { echo "scale=0; $ROWS * 1000 / $1" | bc; }
ratio() { echo "scale=2; $1 / $2" | bc; }
batch() {
  psql -X -q -c "DROP TABLE IF EXISTS scores"
  timed "$1" "SELECT * FROM ml.predict_batch(\$\$m\$\$, \$\$big\$\$, \$\$scores\$\$, features => \$\$f\$\$)"
}
scan=$(timed 0 "SELECT sum(array_length(f, 1)) FROM big")
predict=$(timed 0 "SELECT sum(ml.predict(\$\$m\$\$, f)) FROM big")
b0=$(batch 0)
b1=$(batch 1)
b2=$(batch 2)
planned=$(sed -n "s/^DETAIL:  The scoring query was planned \(.*\)\./\1/p" "$BENCH_ERR")
psql -X -q -c "DROP TABLE scores"
ctas=$(timed 2 "CREATE TABLE ctas AS SELECT id, ml.predict(\$\$m\$\$, f) AS prediction FROM big")
psql -X -q -c "CREATE TABLE ins (LIKE ctas)" -c "DROP TABLE ctas"
insert=$(timed 2 "INSERT INTO ins SELECT id, ml.predict(\$\$m\$\$, f) FROM big")
rm -f "$BENCH_ERR"
echo "model: 100 trees, depth 6, 20 features; $ROWS rows of real[20]; $(nproc) cores; one run each"
echo "reading the table:                      $scan ms ($(rate $scan) rows/s)"
echo "predicting, no write, 0 workers:        $predict ms ($(rate $predict) rows/s)"
echo "ml.predict_batch, 0 workers:            $b0 ms ($(rate $b0) rows/s)  -> / predicting without writing = $(ratio $b0 $predict)"
echo "ml.predict_batch, 1 worker:             $b1 ms ($(rate $b1) rows/s)  -> speed-up over 0 workers = $(ratio $b0 $b1)"
echo "ml.predict_batch, 2 workers:            $b2 ms ($(rate $b2) rows/s)  -> speed-up over 0 workers = $(ratio $b0 $b2) (planned $planned)"
echo "CREATE TABLE AS, 2 workers:             $ctas ms ($(rate $ctas) rows/s)  -> ml.predict_batch / CREATE TABLE AS = $(ratio $b2 $ctas)"
echo "INSERT ... SELECT (serial by design):   $insert ms ($(rate $insert) rows/s)  -> / ml.predict_batch with 2 workers = $(ratio $insert $b2)"
'
run_bench "$body" -o shared_preload_libraries=learnloop
