#!/usr/bin/env bash
# Benchmark: ml.monitor over a window of DECISIONS decisions (default
# 1,000,000) against a bare GROUP BY over the same rows (issue 11,
# "Performance": at most 2), as a ratio measured in one run on one cluster:
#   baseline: SELECT decision->>'decided_by', count(*),
#             avg((decision->>'latency_us')::float8) FROM ml.MLTrainingData
#             WHERE task = 'bench' AND created_at in the window GROUP BY 1
#   monitor:  SELECT count(*) FROM ml.monitor('engagement', '1 day', ..., task => 'bench')
#             (every metric: usage, realized and estimated quality with the
#             ECE, latency, drift of 9 features and of the prediction, per
#             decided_by and experiment arm; the rows written, the old ones
#             of the window deleted)
# The model: trained on the simulation (ml.simulate_users 200 users x 14
# days); the window: DECISIONS rows of ml.simulated_decisions with
# decisions of ml.decide's shape (score, confidence, decided_by, latency_us;
# a fifth of them fallbacks) and two experiment arms.  The two queries
# alternate RUNS times in one session after a warm-up of each; the best CPU
# time of each (/proc/self/schedstat, as bench/serving_stats.sh) is compared.
#
#   bash bench/monitor.sh                       # a throwaway cluster (pg_virtualenv)
#   BENCH_SERVER=running bash bench/monitor.sh  # the server of PGHOST/PGPORT, database learnloop_bench
#   DECISIONS=200000 RUNS=5 bash bench/monitor.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DECISIONS=${DECISIONS:-1000000} RUNS=${RUNS:-5}

body=$(cat <<'BODY'
set -euo pipefail
psql -X -q -c "CREATE EXTENSION learnloop"
psql -X -q -c "SELECT ml.simulate_users(200, 14, seed => 1, start_at => \$\$2026-01-01\$\$)" >/dev/null
psql -X -q -o /dev/null -c "SELECT * FROM ml.train(\$\$engagement\$\$, \$\$ml.MLTrainingData\$\$,
     \$\$(outcome->>'engaged')::boolean\$\$,
     features => ARRAY['features', \$\$decision->>'action' AS action\$\$],
     params => \$\${\"num_round\": 20}\$\$)" 2>/dev/null
users=$(( (DECISIONS + 41) / 42 ))
psql -X -q -c "INSERT INTO ml.MLTrainingData (task, unit_id, created_at, features, decision, outcome, outcome_at, experiment, variant)
  SELECT \$\$bench\$\$, s.unit_id, \$\$2026-02-01\$\$::timestamptz + n * interval \$\$50 ms\$\$, s.features,
         jsonb_build_object(\$\$action\$\$, s.decision->>\$\$action\$\$, \$\$confidence\$\$, p, \$\$score\$\$, p,
                            \$\$decided_by\$\$, CASE WHEN p >= 0.2 THEN \$\$model engagement v1\$\$ ELSE \$\$fallback: model not confident\$\$ END,
                            \$\$model\$\$, \$\$engagement\$\$, \$\$version\$\$, 1, \$\$latency_us\$\$, 20 + (p * 100)::int),
         s.outcome, s.outcome_at, \$\$exp\$\$, CASE WHEN p < 0.5 THEN \$\$a\$\$ ELSE \$\$b\$\$ END
    FROM (SELECT *, row_number() OVER () AS n, abs(hashtext(unit_id || created_at::text)) % 1000 / 1000.0 AS p
            FROM ml.simulated_decisions($users, 14, 5, 3, \$\$2026-02-01\$\$)) s
   WHERE n <= $DECISIONS"
psql -X -q -c "VACUUM ANALYZE ml.MLTrainingData"

# its rows counted, so that each query prints one line
baseline="SELECT count(*) FROM (SELECT decision->>'decided_by', count(*), avg((decision->>'latency_us')::float8)
          FROM ml.MLTrainingData WHERE task = 'bench' AND created_at >= '2026-02-01' AND created_at < '2026-02-02' GROUP BY 1) g"
monitor="SELECT count(*) FROM ml.monitor(\$\$engagement\$\$, \$\$1 day\$\$, \$\$2026-02-02\$\$, task => \$\$bench\$\$)"
cpu="SELECT split_part(pg_read_file(\$\$/proc/self/schedstat\$\$), \$\$ \$\$, 1);"
script=$(for r in $(seq 1 $RUNS); do
  for side in $([ $((r % 2)) = 1 ] && echo "monitor baseline" || echo "baseline monitor"); do
    query=$([ $side = monitor ] && echo "$monitor" || echo "$baseline")
    printf "\\\\echo %s\n%s\n%s;\n%s\n" "$side" "$cpu" "$query" "$cpu"
  done
done)
read -r best_monitor best_baseline <<<"$(printf "SET max_parallel_workers_per_gather = 0;\n%s;\n%s;\n%s\n" "$baseline" "$monitor" "$script" |
  psql -X -q -At 2>&1 |
  awk "/^(monitor|baseline)\$/ { side = \$1; n = 0; next }
       side != \"\" { n++; if (n == 1) t0 = \$1; if (n == 3) { t = (\$1 - t0) / 1e6;
                        if (!(side in best) || t < best[side]) best[side] = t; side = \"\" } }
       END { print best[\"monitor\"], best[\"baseline\"] }")"
rows=$(psql -X -At -c "SELECT count(*) FROM ml.MLTrainingData WHERE task = \$\$bench\$\$")
written=$(psql -X -At -c "SELECT count(*) FROM ml.MLMonitoringMetrics WHERE model_name = \$\$engagement\$\$")
echo "window: $rows decisions (9 features, 2 arms, model and fallback); one backend, no parallel workers; CPU time of the backend, best of $RUNS alternating runs"
echo "baseline GROUP BY decided_by, count, avg(latency): $(printf %.0f $best_baseline) ms"
echo "ml.monitor ($written rows written):                  $(printf %.0f $best_monitor) ms"
echo "ml.monitor / GROUP BY = $(echo "scale=2; $best_monitor / $best_baseline" | bc) (target <= 2)"
BODY
)
. bench/run_bench.sh
run_bench "$body" -o shared_preload_libraries=learnloop
