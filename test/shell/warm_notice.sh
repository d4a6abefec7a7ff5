#!/usr/bin/env bash
# A warm start on rows with a category its base never saw reads that
# category as missing, as serving does, and says so in a NOTICE relayed
# from the training worker: how many rows, which feature, one such value.
# Rows whose categories the base knows are not announced.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_warm_notice
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
q "CREATE TABLE old AS SELECT (ARRAY['red', 'green', 'blue'])[1 + i % 3] AS c, i % 3 = 1 AS label
     FROM generate_series(1, 300) i"
q "CREATE TABLE new AS SELECT (ARRAY['red', 'purple', 'purple', 'green', 'mauve'])[1 + i % 5] AS c, i % 2 = 0 AS label
     FROM generate_series(1, 500) i"
q "SELECT version FROM ml.train('base', 'old', 'label', params => '{\"num_round\": 2}')" >/dev/null

# the notices about categories, as psql prints them (other notices: progress)
notice() {
  PGOPTIONS='-c client_min_messages=notice' psql -X -q -At -d "$db" \
    -c "SELECT version FROM ml.train('warm', '$1', 'label', params => '{\"num_round\": 2}', base_model => 'base')" 2>&1 |
    grep 'never saw'
}
ok "$(notice new)" 'NOTICE:  300 training rows have a category of feature "c" that base model "base" never saw, such as "mauve": they are missing, as serving reads them' \
   "unseen categories (purple twice in five, mauve once): the rows counted, the feature and a value named"
ok "$(notice old)" "" "rows whose categories the base knows: no notice"
ok "$(q "SELECT string_agg(version || ':' || lineage || ':' || (feature_schema->'features'->0->'categories')::text, ' '
            ORDER BY version) FROM ml.models WHERE name = 'warm'")" \
   '1:continued:["blue", "green", "red"] 2:continued:["blue", "green", "red"]' \
   "both versions keep the base's dictionary"
dropdb "$db"
finish
