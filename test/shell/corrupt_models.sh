#!/usr/bin/env bash
# Corrupted rows of ml.models never crash or hang a backend: many
# corruptions of a really trained model (child indexes out of range, cycles,
# shared subtrees, truncated arrays, wrong types, NaN and infinite values,
# feature counts that disagree with the feature schema, schema fields of the
# wrong type, truncated JSON, random byte flips) are each deployed, then
# served by ml.predict, ml.predict_label, ml.explain and ml.decide.  A
# structural corruption must be a clean XX001 error from each; a random flip
# may also happen to leave a valid model, but never takes the server down.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_corrupt
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
# no corruption may hang: a statement that outlives this fails the test
tq() { timeout 600 psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
psql -X -q -d "$db" -f ubj_to_json.sql
q "CREATE TABLE t AS SELECT (i % 17)::float8 AS x1, ((i * 7) % 13)::float8 AS x2,
     (ARRAY['a', 'b', 'c'])[1 + i % 3] AS action, (i % 17) > 8 OR i % 3 = 0 AS y
   FROM generate_series(1, 600) i"
q "SELECT count(*) FROM ml.train('real', 't', 'y', params => '{\"num_round\": 4, \"max_depth\": 3}')" >/dev/null
# the real model as jsonb, its schema and bytes; and what it predicts
q "CREATE TABLE src AS SELECT (ubj_value(decode(encode(model, 'hex'), 'hex'), 0)).json::jsonb AS j,
     feature_schema AS s, model AS raw FROM ml.models WHERE name = 'real'"
row='{"x1": 3, "x2": 1, "action": "b"}'
real=$(q "SELECT ml.predict('real', '$row'::jsonb)")
# a backend that crashes restarts the postmaster's children: the start time shows it
started=$(q "SELECT pg_postmaster_start_time()")

q "CREATE TABLE corruption (id serial, label text, model bytea, schema jsonb, expect text)"
# adds corruptions: label, model as jsonb (NULL: the real one) or bytes, schema (NULL: the real one)
q "CREATE FUNCTION add(label text, j jsonb, s jsonb DEFAULT NULL, expect text DEFAULT 'XX001') RETURNS void
   LANGUAGE sql AS \$\$
     INSERT INTO corruption (label, model, schema, expect)
     SELECT \$1, convert_to(replace(coalesce(\$2, src.j)::text, '-7777777.0', 'NaN'), 'UTF8'),
            coalesce(\$3, src.s), \$4 FROM src
   \$\$"
q "CREATE FUNCTION add_bytes(label text, b bytea, expect text DEFAULT 'XX001') RETURNS void
   LANGUAGE sql AS \$\$ INSERT INTO corruption (label, model, schema, expect) SELECT \$1, \$2, src.s, \$3 FROM src \$\$"

# the trees: every node of every tree, every array of a tree
q "DO \$\$
DECLARE
  j jsonb := (SELECT j FROM src);
  trees jsonb := j #> '{learner,gradient_booster,model,trees}';
  p text[];
  n int;
  key text;
  arrays text[] := ARRAY['left_children', 'right_children', 'split_indices', 'split_conditions',
    'default_left', 'split_type', 'categories', 'categories_nodes', 'categories_segments',
    'categories_sizes'];
BEGIN
  FOR t IN 0 .. jsonb_array_length(trees) - 1 LOOP
    p := ARRAY['learner', 'gradient_booster', 'model', 'trees', t::text];
    n := jsonb_array_length(trees -> t -> 'left_children');
    FOR k IN 0 .. n - 1 LOOP
      PERFORM add(format('tree %s node %s: left child out of range', t, k), jsonb_set(j, p || '{left_children}' || k::text, to_jsonb(n + k)));
      PERFORM add(format('tree %s node %s: right child -2', t, k), jsonb_set(jsonb_set(j, p || '{left_children}' || k::text, to_jsonb((k + 1) % n)), p || '{right_children}' || k::text, '-2'));
      PERFORM add(format('tree %s node %s: right child 1000000', t, k), jsonb_set(jsonb_set(j, p || '{left_children}' || k::text, to_jsonb((k + 1) % n)), p || '{right_children}' || k::text, '1000000'));
      PERFORM add(format('tree %s node %s: children back to the root', t, k), jsonb_set(jsonb_set(j, p || '{left_children}' || k::text, '0'), p || '{right_children}' || k::text, to_jsonb((k + 1) % n)));
      PERFORM add(format('tree %s node %s: children to itself', t, k), jsonb_set(jsonb_set(j, p || '{left_children}' || k::text, to_jsonb(k)), p || '{right_children}' || k::text, to_jsonb(k)));
      PERFORM add(format('tree %s node %s: split on feature 1000000', t, k), jsonb_set(j, p || '{split_indices}' || k::text, '1000000'),
                  expect => CASE WHEN (trees -> t -> 'left_children' ->> k)::int = -1 THEN 'ok' ELSE 'XX001' END);
      PERFORM add(format('tree %s node %s: split on feature -1', t, k), jsonb_set(j, p || '{split_indices}' || k::text, '-1'));
      PERFORM add(format('tree %s node %s: NaN threshold or leaf', t, k), jsonb_set(j, p || '{split_conditions}' || k::text, '-7777777.0'),
                  expect => CASE WHEN (trees -> t -> 'split_type' ->> k)::int = 1 THEN 'ok' ELSE 'XX001' END);
      PERFORM add(format('tree %s node %s: 1e39 (infinite) threshold or leaf', t, k), jsonb_set(j, p || '{split_conditions}' || k::text, '1e39'),
                  expect => CASE WHEN (trees -> t -> 'left_children' ->> k)::int = -1 THEN 'XX001' ELSE 'any' END);
      PERFORM add(format('tree %s node %s: default_left 7', t, k), jsonb_set(j, p || '{default_left}' || k::text, '7'));
      PERFORM add(format('tree %s node %s: split_type 5', t, k), jsonb_set(j, p || '{split_type}' || k::text, '5'));
    END LOOP;
    PERFORM add(format('tree %s: node 2 shared by two parents', t), jsonb_set(j, p || '{left_children,1}', '2'));
    PERFORM add(format('tree %s: categorical split without categories', t), jsonb_set(j, p || '{split_type,0}', '1'));
    PERFORM add(format('tree %s: category -1', t), jsonb_set(j, p || '{categories,0}', '-1'));
    PERFORM add(format('tree %s: category 2^24', t), jsonb_set(j, p || '{categories,0}', '16777216'));
    PERFORM add(format('tree %s: category segment past the end', t), jsonb_set(j, p || '{categories_segments,0}', '5'));
    PERFORM add(format('tree %s: category size 100', t), jsonb_set(j, p || '{categories_sizes,0}', '100'));
    PERFORM add(format('tree %s: categorical node 99', t), jsonb_set(j, p || '{categories_nodes,0}', '99'));
    FOREACH key IN ARRAY arrays LOOP
      PERFORM add(format('tree %s: %s without its last element', t, key), jsonb_set(j, p || key, (trees -> t -> key) - (-1)));
      PERFORM add(format('tree %s: %s empty', t, key), jsonb_set(j, p || key, '[]'));
      PERFORM add(format('tree %s: %s a string', t, key), jsonb_set(j, p || key, '\"x\"'));
      PERFORM add(format('tree %s: %s an object', t, key), jsonb_set(j, p || key, '{}'));
      PERFORM add(format('tree %s: %s of strings', t, key),
                  jsonb_set(j, p || key, (SELECT jsonb_agg(to_jsonb(e::text)) FROM jsonb_array_elements(trees -> t -> key) e)));
      -- the one array whose length is not the tree's: an extra category no segment names is harmless
      PERFORM add(format('tree %s: %s with an extra element', t, key), jsonb_set(j, p || key, (trees -> t -> key) || '[0]'),
                  expect => CASE WHEN key = 'categories' THEN 'ok' ELSE 'XX001' END);
      PERFORM add(format('tree %s: %s missing', t, key), j #- (p || key));
    END LOOP;
  END LOOP;
END \$\$"
# the learner and the booster
q "DO \$\$
DECLARE
  j jsonb := (SELECT j FROM src);
  v text;
BEGIN
  FOREACH v IN ARRAY ARRAY['0', '2', '4', '1000000', '-1', 'x', '2147483648', ''] LOOP
    PERFORM add('num_feature ' || v, jsonb_set(j, '{learner,learner_model_param,num_feature}', to_jsonb(v)));
  END LOOP;
  FOREACH v IN ARRAY ARRAY['5000', '3', '-1', 'x'] LOOP
    PERFORM add('num_class ' || v, jsonb_set(j, '{learner,learner_model_param,num_class}', to_jsonb(v)));
  END LOOP;
  FOREACH v IN ARRAY ARRAY['nan', 'inf', 'abc', '0', '1', '-3'] LOOP
    PERFORM add('base_score ' || v, jsonb_set(j, '{learner,learner_model_param,base_score}', to_jsonb(v)));
  END LOOP;
  FOREACH v IN ARRAY ARRAY['0', '3', 'x'] LOOP
    PERFORM add('num_target ' || v, jsonb_set(j, '{learner,learner_model_param,num_target}', to_jsonb(v)));
  END LOOP;
  PERFORM add('num_feature a number', jsonb_set(j, '{learner,learner_model_param,num_feature}', '3'));
  PERFORM add('tree_info names group 1', jsonb_set(j, '{learner,gradient_booster,model,tree_info,0}', '1'));
  PERFORM add('tree_info names group -1', jsonb_set(j, '{learner,gradient_booster,model,tree_info,0}', '-1'));
  PERFORM add('tree_info a string', jsonb_set(j, '{learner,gradient_booster,model,tree_info,0}', '\"a\"'));
  PERFORM add('a tree fewer than tree_info', j #- '{learner,gradient_booster,model,trees,-1}');
  PERFORM add('tree ids swapped', jsonb_set(j, '{learner,gradient_booster,model,trees,0,id}', '7'));
  PERFORM add('trees an object', jsonb_set(j, '{learner,gradient_booster,model,trees}', '{}'));
  PERFORM add('num_trees 100', jsonb_set(j, '{learner,gradient_booster,model,gbtree_model_param,num_trees}', '\"100\"'));
  PERFORM add('objective unknown', jsonb_set(j, '{learner,objective,name}', '\"nonsense\"'));
  PERFORM add('objective a number', jsonb_set(j, '{learner,objective,name}', '5'));
  PERFORM add('booster dart without its gbtree', jsonb_set(j, '{learner,gradient_booster,name}', '\"dart\"'));
  PERFORM add('booster gblinear without weights', jsonb_set(j, '{learner,gradient_booster,name}', '\"gblinear\"'));
  PERFORM add('booster unknown', jsonb_set(j, '{learner,gradient_booster,name}', '\"forest\"'));
  PERFORM add('learner missing', j - 'learner');
  -- what XGBoost's loader reads outside the trees: a clean error or a model that serves
  PERFORM add('version missing', j - 'version', expect => 'any');
  PERFORM add('version too short', jsonb_set(j, '{version}', '[1]'), expect => 'any');
  PERFORM add('version of strings', jsonb_set(j, '{version}', '[\"1\", \"7\", \"4\"]'), expect => 'any');
  PERFORM add('feature_names numbers', jsonb_set(j, '{learner,feature_names}', '[1, 2, 3]'), expect => 'any');
  PERFORM add('feature_names too short', jsonb_set(j, '{learner,feature_names}', '[\"x1\"]'), expect => 'any');
  PERFORM add('feature_types too long', jsonb_set(j, '{learner,feature_types}', '[\"q\", \"q\", \"c\", \"c\", \"c\"]'), expect => 'any');
  PERFORM add('feature_types unknown', jsonb_set(j, '{learner,feature_types}', '[\"z\", \"q\", \"c\"]'), expect => 'any');
  PERFORM add('attributes a number', jsonb_set(j, '{learner,attributes}', '5'), expect => 'any');
  PERFORM add('objective parameters missing', j #- '{learner,objective,reg_loss_param}', expect => 'any');
  PERFORM add('tree_param num_nodes 99', jsonb_set(j, '{learner,gradient_booster,model,trees,0,tree_param,num_nodes}', '\"99\"'));
  PERFORM add('tree_param num_deleted 3', jsonb_set(j, '{learner,gradient_booster,model,trees,0,tree_param,num_deleted}', '\"3\"'));
  PERFORM add('num_parallel_tree 0', jsonb_set(j, '{learner,gradient_booster,model,gbtree_model_param,num_parallel_tree}', '\"0\"'));
  PERFORM add('num_parallel_tree 3', jsonb_set(j, '{learner,gradient_booster,model,gbtree_model_param,num_parallel_tree}', '\"3\"'));
  PERFORM add('an array', '[1, 2]');
  PERFORM add('a number', '7');
END \$\$"
# the feature schema
q "DO \$\$
DECLARE
  s jsonb := (SELECT s FROM src);
BEGIN
  PERFORM add('schema categories numbers', NULL, jsonb_set(s, '{features,2,categories}', '[1, 2, 3]'));
  PERFORM add('schema categories a string', NULL, jsonb_set(s, '{features,2,categories}', '\"abc\"'));
  PERFORM add('schema categories missing', NULL, s #- '{features,2,categories}');
  PERFORM add('schema categories null', NULL, jsonb_set(s, '{features,2,categories}', '[null]'));
  -- the action feature without categories: ml.decide would have no action to choose
  PERFORM add('schema categories empty', NULL, jsonb_set(s, '{features,2,categories}', '[]'));
  PERFORM add('schema classes empty', NULL, jsonb_set(s, '{classes}', '[]'));
  PERFORM add('schema classes numbers', NULL, jsonb_set(s, '{classes}', '[0, 1]'));
  PERFORM add('schema classes missing', NULL, s - 'classes');
  PERFORM add('schema one class', NULL, jsonb_set(s, '{classes}', '[\"only\"]'));
  PERFORM add('schema five classes', NULL, jsonb_set(s, '{classes}', '[\"a\", \"b\", \"c\", \"d\", \"e\"]'));
  PERFORM add('schema features an object', NULL, jsonb_set(s, '{features}', '{}'));
  PERFORM add('schema feature a number', NULL, jsonb_set(s, '{features,0}', '5'));
  PERFORM add('schema feature type unknown', NULL, jsonb_set(s, '{features,0,type}', '\"weird\"'));
  PERFORM add('schema feature type a number', NULL, jsonb_set(s, '{features,0,type}', '1'));
  PERFORM add('schema feature name a number', NULL, jsonb_set(s, '{features,0,name}', '1'));
  PERFORM add('schema task unknown', NULL, jsonb_set(s, '{task}', '\"guessing\"'));
  PERFORM add('schema task a number', NULL, jsonb_set(s, '{task}', '1'));
  PERFORM add('schema objective a number', NULL, jsonb_set(s, '{objective}', '1'));
  PERFORM add('schema a feature fewer', NULL, s #- '{features,1}');
  PERFORM add('schema a feature more', NULL, jsonb_set(s, '{features}', (s -> 'features') || '[{\"name\": \"x9\", \"type\": \"numeric\"}]'));
  PERFORM add('schema an array', NULL, '[]');
END \$\$"
# truncated JSON, and random byte flips of the JSON text and of the stored UBJSON
q "DO \$\$
DECLARE
  text_model bytea := (SELECT convert_to(replace(j::text, '-7777777.0', 'NaN'), 'UTF8') FROM src);
  raw bytea := (SELECT raw FROM src);
  b bytea;
BEGIN
  PERFORM setseed(0.42);   -- the same flips every run
  -- two readings of one document: a repeated key, a key cut short by a NUL
  PERFORM add_bytes('a repeated key', convert_to(regexp_replace(convert_from(text_model, 'UTF8'),
    '\"left_children\": ', '\"left_children\": [0, 0, 0, 0, 0], \"left_children\": '), 'UTF8'));
  PERFORM add_bytes('a key with a NUL', convert_to(regexp_replace(convert_from(text_model, 'UTF8'),
    '\"left_children\": ', '\"left_children\\\\u0000\": [0, 0, 0, 0, 0], \"left_children\": '), 'UTF8'));
  PERFORM add('an object of 300 keys', jsonb_set((SELECT j FROM src), '{learner,attributes}',
    (SELECT jsonb_object_agg('k' || k, 'v') FROM generate_series(1, 300) k)));
  FOR i IN 1 .. 30 LOOP
    PERFORM add_bytes(format('JSON truncated to %s bytes', i * length(text_model) / 31),
                      substring(text_model FROM 1 FOR i * length(text_model) / 31));
  END LOOP;
  FOR i IN 1 .. 15 LOOP
    PERFORM add_bytes(format('UBJSON truncated to %s bytes', i * length(raw) / 16),
                      substring(raw FROM 1 FOR i * length(raw) / 16));
  END LOOP;
  FOR i IN 1 .. 200 LOOP
    b := CASE WHEN i % 4 = 0 THEN text_model ELSE raw END;
    FOR f IN 1 .. 1 + i % 3 LOOP
      b := set_byte(b, floor(random() * length(b))::int, floor(random() * 256)::int);
    END LOOP;
    PERFORM add_bytes(format('random flip %s of the %s', i, CASE WHEN i % 4 = 0 THEN 'JSON' ELSE 'UBJSON' END),
                      b, 'any');
  END LOOP;
END \$\$"

# serving each corruption: the outcome of each call, 'ok' or its SQLSTATE
q "CREATE FUNCTION outcome(call text) RETURNS text LANGUAGE plpgsql AS \$\$
   DECLARE r record;
   BEGIN
     EXECUTE call INTO r;
     IF call LIKE '%ml.decide%' THEN
       IF r.decided_by LIKE 'fallback%' THEN RETURN 'fallback'; END IF;
     END IF;
     RETURN 'ok';
   EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE;
   END \$\$"
q "CREATE TABLE served (id int, fn text, outcome text)"
total=$(q "SELECT count(*) FROM corruption")
for start in $(seq 1 100 "$total"); do
  tq "DO \$\$
  DECLARE c record;
  BEGIN
    FOR c IN SELECT * FROM corruption WHERE id BETWEEN $start AND $start + 99 ORDER BY id LOOP
      INSERT INTO ml.models (name, version, task, feature_schema, model)
      VALUES ('c' || c.id, 1, 'classification', c.schema, c.model);
      INSERT INTO ml.deployments (model_name, model_version, action, reason) VALUES ('c' || c.id, 1, 'deploy', c.label);
      INSERT INTO served
      SELECT c.id, fn, outcome(format(call, 'c' || c.id, '$row'))
      FROM (VALUES ('predict', 'SELECT ml.predict(%L, %L::jsonb) AS v'),
                   ('predict_label', 'SELECT ml.predict_label(%L, %L::jsonb) AS v'),
                   ('explain', 'SELECT count(*) AS v FROM ml.explain(%L, %L::jsonb)'),
                   ('decide', 'SELECT * FROM ml.decide(''t'', ''u'', %2\$L::jsonb, ''fallback'', model => %1\$L)')) f(fn, call);
    END LOOP;
  END \$\$" >/dev/null
  ok "$? $(q "SELECT 1")" "0 1" "corruptions $start to $((start + 99)): served, and the server is up"
done
echo "# $total corruptions tried, $(q "SELECT count(*) FROM served") calls"

# structural corruptions: XX001 from every function (decide may fall back instead)
ok "$(q "SELECT coalesce(string_agg(DISTINCT label || ' (' || fn || ': ' || outcome || ')', '; '), 'none')
         FROM corruption JOIN served USING (id)
         WHERE expect = 'XX001' AND outcome <> 'XX001' AND NOT (fn = 'decide' AND outcome = 'fallback')")" none \
   "every structural corruption is a clean XX001 error"
ok "$(q "SELECT coalesce(string_agg(DISTINCT label || ' (' || fn || ': ' || outcome || ')', '; '), 'none')
         FROM corruption JOIN served USING (id) WHERE expect = 'ok' AND outcome NOT IN ('ok', 'fallback')")" none \
   "corruptions of what no walk reads (a leaf's feature, a categorical split's threshold) still serve"
ok "$(q "SELECT coalesce(string_agg(DISTINCT outcome, ',' ORDER BY outcome), 'none') FROM corruption JOIN served USING (id)
         WHERE expect = 'any' AND outcome NOT IN ('ok', 'fallback', 'XX001')")" none \
   "random flips and the like either serve or fail with XX001"
echo "# random flips: $(q "SELECT string_agg(outcome || ' ' || n, ', ') FROM (SELECT outcome, count(*) n FROM corruption JOIN served USING (id) WHERE label LIKE 'random flip%' GROUP BY 1 ORDER BY 1) x") calls"

# the error names the model and its version, says why, and hints
msg=$(psql -X -d "$db" -c "SELECT ml.predict('c1', '$row'::jsonb)" 2>&1)
ok "$(echo "$msg" | grep -c 'ERROR:  model "c1" version 1 is corrupted: malformed left_children (a length, type or index out of range)')" 1 "the error names the model, its version and the reason"
ok "$(echo "$msg" | grep -c 'HINT:  Rows of ml.models are written by ml.train')" 1 "the error has a hint"

# a cycle errors at once, and the real model still serves exactly
id=$(q "SELECT min(id) FROM corruption WHERE label LIKE '%children back to the root'")
ok "$(q "SELECT outcome FROM served WHERE id = $id AND fn = 'predict'")" XX001 "a child pointing back to the root is refused"
timed=$(tq "SELECT o || ' ' || extract(epoch FROM clock_timestamp() - statement_timestamp())
          FROM (SELECT outcome('SELECT ml.predict(''c$id'', ''$row''::jsonb) AS v') o) x")
ok "${timed%% *}" XX001 "a new session refuses the cyclic model too"
# (scripts/valgrind.sh runs this under memcheck, which is tens of times slower)
limit=${LEARNLOOP_SLOWDOWN:-1}
ok "$(awk -v s="${timed#* }" -v l="$limit" 'BEGIN { print (s < l) }')" 1 "it errors within $limit s (${timed#* } s)"
# a corrupted champion is not handed to XGBoost by the training worker either
q "INSERT INTO ml.models (name, version, task, feature_schema, model)
   SELECT 'real', 2, 'classification', schema, model FROM corruption WHERE id = $id;
   INSERT INTO ml.deployments (model_name, model_version, action, reason) VALUES ('real', 2, 'deploy', 'forged')"
out=$(psql -X -d "$db" -c "SELECT count(*) FROM ml.train('real', 't', 'y', params => '{\"num_round\": 2}')" 2>&1)
ok "$(echo "$out" | grep -c 'the deployed version 2 of model "real" is corrupted: tree node reached twice')" 1 \
   "training over a corrupted champion is a clean error"
q "SELECT ml.deploy('real', 1)" >/dev/null
ok "$(q "SELECT ml.predict('real', '$row'::jsonb)")" "$real" "the real model predicts as before"
ok "$(q "SELECT pg_postmaster_start_time()")" "$started" "no backend crashed (the server never restarted)"
q "SELECT 1" >/dev/null && dropdb "$db"
finish
