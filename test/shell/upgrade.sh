#!/usr/bin/env bash
# The upgrade chain: every version with a full install script
# (sql/learnloop--X.sql) is installed, updated with ALTER EXTENSION ... UPDATE
# through the upgrade scripts (sql/learnloop--X--Y.sql), and must end up with
# exactly the schema a fresh install of the default version has.  With one
# released version the chain is that version alone; each later release adds
# an upgrade script, and this test walks it.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
default=$(sed -n "s/^default_version = '\(.*\)'/\1/p" ../../learnloop.control)

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

for script in ../../sql/learnloop--*.sql; do
  version=$(basename "$script" .sql | sed -n 's/^learnloop--\([^-]*\)$/\1/p')
  [ -n "$version" ] || continue
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
finish
