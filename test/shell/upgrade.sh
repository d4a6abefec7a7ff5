#!/usr/bin/env bash
# The upgrade chain: every version with a full install script is installed,
# updated with ALTER EXTENSION ... UPDATE through the upgrade scripts
# (sql/learnloop--X--Y.sql), and must end up with exactly the schema a fresh
# install of the default version has.  The full scripts are the released
# ones kept as upgrade bases (sql/learnloop--X.sql) and the default
# version's, built from sql/learnloop.sql (docs/releasing.md).  Each release
# adds an upgrade script, and this test walks it.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
default=$(sed -n "s/^default_version = '\(.*\)'/\1/p" ../../learnloop.control)
# the versions with a full script: the bases, and the default version (its
# built sql/learnloop--X.sql is there only after make)
versions=$( (ls ../../sql/learnloop--*.sql | sed -n 's/.*learnloop--\([^-]*\)\.sql$/\1/p'; echo "$default") | sort -uV)

# pg_dump leaves out an extension's members, so compare the catalogs instead
schema_of() {
  psql -X -At -d "$1" -f extension_snapshot.sql
}

dropdb --if-exists learnloop_fresh >/dev/null 2>&1
createdb learnloop_fresh
psql -X -q -d learnloop_fresh -c "CREATE EXTENSION learnloop"
fresh=$(schema_of learnloop_fresh)
ok "$(echo "$fresh" | grep -c '^member ')" "$(psql -X -At -d learnloop_fresh -c "SELECT count(*) FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid WHERE e.extname = 'learnloop' AND d.deptype = 'e'")" \
   "the snapshot lists every member of the extension"

for version in $versions; do
  db=learnloop_from_${version//./_}
  dropdb --if-exists "$db" >/dev/null 2>&1
  createdb "$db"
  psql -X -q -d "$db" -c "CREATE EXTENSION learnloop VERSION '$version'" -c "ALTER EXTENSION learnloop UPDATE"
  ok "$(psql -X -At -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'learnloop'")" "$default" \
     "$version updates to $default"
  ok "$(diff <(echo "$fresh") <(schema_of "$db") | head -5)" "" \
     "$version updated to $default has the schema of a fresh $default"
  dropdb "$db"
done
dropdb learnloop_fresh

# Data written under the oldest version survives the chain: experiment rows
# (whose identifier columns change collation in 0.2.0) keep their units and
# values, the functions work after the update, and deleting the experiment
# still removes its rows.  Before the update, the new library's analysis
# says what to run.
oldest=$(echo "$versions" | head -1)
dropdb --if-exists learnloop_data >/dev/null 2>&1
createdb learnloop_data
data() { psql -X -At -v ON_ERROR_STOP=1 -d learnloop_data "$@"; }
data -q -c "CREATE EXTENSION learnloop VERSION '$oldest'" \
     -c "SELECT name FROM ml.create_experiment('up', ARRAY['a', 'b'], primary_metric => 'm')" \
     -c "SELECT count(ml.record_outcome('up', 'u' || i, 'm', i % 3)) FROM (SELECT i, ml.assign_variant('up', 'u' || i) FROM generate_series(1, 3000) i) s" >/dev/null
summary="SELECT string_agg(format('%s:%s:%s', variant, n, total), ' ' ORDER BY variant) FROM (SELECT variant, count(*) AS n, sum(value) AS total FROM ml.experiment_outcomes GROUP BY variant) s"
before=$(data -c "$summary")
if [ "$oldest" != "$default" ]; then
  ok "$(data -c "SELECT count(*) FROM ml.experiment_statistics('up')" 2>&1 | grep -o 'ALTER EXTENSION learnloop UPDATE' | head -1)" \
     "ALTER EXTENSION learnloop UPDATE" "$oldest before the update: the analysis hints at ALTER EXTENSION ... UPDATE"
fi
data -q -c "ALTER EXTENSION learnloop UPDATE"
ok "$(data -c "$summary")" "$before" "$oldest data updated to $default: the same outcomes per variant"
ok "$(data -c "SELECT string_agg(format('%s:%s:%s', variant, units, units_with_value), ' ' ORDER BY variant) FROM ml.experiment_statistics('up')")" \
   "$(data -c "SELECT string_agg(format('%s:%s:%s', variant, n, n), ' ' ORDER BY variant) FROM (SELECT variant, count(*) AS n FROM ml.experiment_exposures GROUP BY variant) x")" \
   "$oldest data updated to $default: the analysis counts every exposed unit"
ok "$(data -c "SELECT ml.record_outcome('up', 'u1', 'm', 7) = ml.assign_variant('up', 'u1')")" "t" \
   "$oldest data updated to $default: outcomes update and assignments stay sticky"
data -q -c "DELETE FROM ml.experiments WHERE name = 'up'"
ok "$(data -c "SELECT (SELECT count(*) FROM ml.experiment_exposures) + (SELECT count(*) FROM ml.experiment_outcomes)")" "0" \
   "$oldest data updated to $default: deleting the experiment deletes its rows"
dropdb learnloop_data
finish
