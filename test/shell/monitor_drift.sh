#!/usr/bin/env bash
# ml.monitor on the simulation: a model trained on the usual world, then two
# windows of the same size, one from the same world (another seed) and one
# from the shifted world (drift 1).  Drift must be detected on the shifted
# window and not on the unshifted one; the model's decisions in the shifted
# world lose accuracy while its own estimate (CBPE) does not see it.  Also
# checks that training stored reference distributions that ml.monitor reads.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_monitor_drift
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
q "SELECT ml.simulate_users(400, 14, seed => 1, start_at => '2026-01-01')" >/dev/null
q "SELECT count(*) FROM ml.train('engagement', 'ml.MLTrainingData', \$\$(outcome->>'engaged')::boolean\$\$,
     features => ARRAY['features', \$\$decision->>'action' AS action\$\$], params => '{\"num_round\": 30}')" >/dev/null

# the reference kept by training: every feature of the schema, and the best action's score
ok "$(q "SELECT (SELECT array_agg(f->>'name' ORDER BY f->>'name') FROM jsonb_array_elements(feature_schema->'features') f)
           = (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(reference->'features') k)
         FROM ml.models WHERE name = 'engagement'")" t "the reference has one entry per feature of the schema"
ok "$(q "SELECT reference->'features'->'emotional_state'->>'kind' || ' ' || (reference->'features'->'hour_of_day'->>'kind')
           || ' ' || (reference->'prediction'->>'of') FROM ml.models WHERE name = 'engagement'")" \
   "category numeric score" "categories and numbers have their kinds; an outcome model's prediction is the best action's score"
ok "$(q "SELECT bool_and((r->>'count')::bigint + (r->>'missing')::bigint = train_rows)
         FROM ml.models, jsonb_each(reference->'features') f(feature, r) WHERE name = 'engagement'")" t \
   "every feature's reference counts the training rows (no validation rows here), values and missing"
ok "$(q "SELECT (reference->'features'->'action'->>'count')::bigint = train_rows
            AND abs((SELECT sum(s::float8) FROM jsonb_array_elements_text(reference->'features'->'action'->'shares') s)
                    + (reference->'features'->'action'->>'other')::float8 - 1) < 1e-9
         FROM ml.models WHERE name = 'engagement'")" t "a category reference's shares and other sum to 1"
ok "$(q "SELECT (reference->'prediction'->>'count')::bigint = test_rows AND jsonb_array_length(reference->'prediction'->'quantiles') = 1000
         FROM ml.models WHERE name = 'engagement'")" t "the prediction's reference covers the test rows, in 1000 quantile points"

# two windows of the same size and shape (200 users x 14 days x 3): the same world and the shifted one
q "SELECT ml.simulate_users(200, 14, seed => 2, start_at => '2026-02-01', task => 'same')" >/dev/null
q "SELECT ml.simulate_users(200, 14, seed => 3, start_at => '2026-02-01', task => 'shifted', drift => 1)" >/dev/null
ok "$(q "SELECT count(*) FILTER (WHERE task = 'same') = count(*) FILTER (WHERE task = 'shifted') FROM ml.MLTrainingData")" t \
   "the two windows have the same size"
monitor() { q "SELECT $2 FROM ml.monitor('engagement', '14 days', '2026-02-15', task => '$1') WHERE $3"; }
ok "$(monitor same "value" "metric = 'dataset_drift'")" 0 "no dataset drift on the unshifted window"
ok "$(monitor same "count(*)" "metric = 'drift' AND value = 1")" 0 "no feature drifts on the unshifted window"
ok "$(monitor same "count(*)" "metric = 'drift' AND value = 0")" 9 "every feature of the unshifted window is judged"
ok "$(monitor shifted "value" "metric = 'dataset_drift'")" 1 "dataset drift on the shifted window"
ok "$(monitor shifted "string_agg(feature, ',' ORDER BY feature)" "metric = 'drift' AND value = 1")" \
   "action,emotional_state,engagement_trend,hour_of_day,message_length,recent_engagement,topic" \
   "the shifted features drift (the hours, message lengths and moods moved; the history follows)"
ok "$(monitor shifted "value > 0.3" "metric = 'drift_wasserstein' AND feature = 'hour_of_day'")" t \
   "the hours moved by more than 0.3 standard deviations"

# the model decides in each world; the outcomes come from that world's truth
for w in same:0 shifted:1; do
  q "SELECT count(*) FROM ml.simulated_decisions(100, 14, 11, 3, '2026-03-01', drift => ${w#*:}) s,
            ml.decide('dec_${w%:*}', s.unit_id, s.features, 'brief_answer', model => 'engagement', min_confidence => 0)" >/dev/null
  q "UPDATE ml.MLTrainingData SET outcome = ml.simulate_outcome(unit_id, features, decision->>'action', 11, ${w#*:}),
            outcome_at = created_at + interval '1 minute' WHERE task = 'dec_${w%:*}'" >/dev/null
done
decided() { q "SELECT $2 FROM ml.monitor('engagement', window_end => now() + interval '1 minute', task => 'dec_$1')
               WHERE decided_by IS NULL AND experiment IS NULL AND $3"; }
ok "$(decided same "value" "metric = 'prediction_drift'")" 0 "no prediction drift in the usual world"
ok "$(decided shifted "value" "metric = 'prediction_drift'")" 1 "prediction drift in the shifted world"
ok "$(decided same "round(value::numeric, 1) >= 0.6" "metric = 'accuracy'")" t "the model is accurate in its world"
same_acc=$(decided same "value" "metric = 'accuracy'")
ok "$(decided shifted "value < $same_acc - 0.15" "metric = 'accuracy'")" t "its realized accuracy drops in the shifted world"
ok "$(decided shifted "max(value) FILTER (WHERE metric = 'estimated_accuracy_matched') - max(value) FILTER (WHERE metric = 'accuracy') > 0.15" "true")" t \
   "its own estimate (CBPE) does not see the drop: the gap to the realized accuracy shows it"
ok "$(decided shifted "value > 0.15" "metric = 'ece'")" t "and its calibration error grows"
dropdb "$db"
finish
