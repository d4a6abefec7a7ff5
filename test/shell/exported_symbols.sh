#!/usr/bin/env bash
# The installed learnloop.so exports PostgreSQL's entry points and nothing
# else (built with -fvisibility=hidden, see src/entry_points.h), so its own
# names cannot collide with another library loaded into the same backend;
# and it leaves cJSON's process-wide allocation hooks alone.
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
root=../..
so="$(${PG_CONFIG:-pg_config} --pkglibdir)/learnloop.so"
[ -f "$so" ] || { echo "not ok 1 - $so is not installed"; exit 1; }

# the entry points: the module's, each C function of the install scripts
# with its info record, and every background worker's main
expected=$(
  {
    echo Pg_magic_func
    echo _PG_init
    grep -ohE "'MODULE_PATHNAME' *, *'[A-Za-z0-9_]+'" "$root"/sql/learnloop.sql "$root"/sql/learnloop--*.sql |
      sed -E "s/.*'([A-Za-z0-9_]+)'$/\1/" | while read -r f; do echo "$f"; echo "pg_finfo_$f"; done
    grep -rhoE 'bgw_function_name, "[A-Za-z0-9_]+"' "$root"/src | sed -E 's/.*"(.*)"/\1/'
  } | sort -u
)
exported=$(nm -D --defined-only "$so" | awk 'NF == 3 { print $3 }' | sort -u)

unexpected=$(comm -13 <(echo "$expected") <(echo "$exported") | tr '\n' ' ')
missing=$(comm -23 <(echo "$expected") <(echo "$exported") | tr '\n' ' ')
ok "$unexpected" "" "only PostgreSQL entry points are exported"
ok "$missing" "" "every entry point is exported"
ok "$([ "$(echo "$expected" | grep -c '^pg_finfo_')" -gt 20 ] && echo found)" found \
   "the install script's C functions were found"

# cJSON_InitHooks would switch every cJSON user in the backend to palloc
ok "$(nm -D --undefined-only "$so" | awk '{ print $2 }' | grep -c '^cJSON_InitHooks')" 0 \
   "cJSON's process-wide hooks are left alone"
finish
