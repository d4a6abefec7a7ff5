#!/usr/bin/env bash
# The Debian package, end to end: builds postgresql-15-learnloop from a copy
# of this tree with `dpkg-buildpackage -us -uc` (source and binary, from an
# orig tarball of the same tree), installs it with `apt-get install ./*.deb`
# so that its declared Depends are what brings in PostgreSQL and the
# libraries, checks what it ships, then creates the extension in a throwaway
# cluster with shared_preload_libraries = learnloop, simulates users, trains
# and predicts.  Prints TAP; exits non-zero on any failed check.
#
# Runs as root (or through sudo) on Debian 12.  It leaves the system as it
# found it: the package is purged at the end, the packages this script
# installed (build dependencies, the package's dependencies) are purged
# too, and files of a `make install` that the package replaced are put
# back.  Nothing is written into the checkout.
#
# The package is built as the README says, under the nocheck build profile
# (the regression suites are scripts/test.sh's job).  With
# LEARNLOOP_PACKAGE_SUITES=1 the build also runs them against the built
# files (debian/rules, override_dh_pgxs_test), and debian/tests (the
# autopkgtest) against the installed package.  One run at a time per
# machine: it installs and purges packages (a lock waits for another run).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/test/shell/tap.sh"
# tap.sh quietens psql through PGOPTIONS; the regression suites that the
# build and the autopkgtest run compare the server's default messages
unset PGOPTIONS

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
unset DEB_BUILD_OPTIONS
profiles="-Pnocheck"
[ "${LEARNLOOP_PACKAGE_SUITES:-0}" = 1 ] && profiles=""
exec 9>/tmp/learnloop-package.lock
flock 9

version=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$top/debian/changelog")   # 0.3.0-1
upstream=${version%-*}                                                     # 0.3.0
package=postgresql-15-learnloop
pgversion=15
ext_version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$top/learnloop.control")

work=$(mktemp -d /tmp/learnloop-package.XXXXXX)
chmod 755 "$work"   # the throwaway clusters' servers run as postgres
installed_before=$work/installed-before
backup=$work/replaced
dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | sort >"$installed_before"

# purges the packages installed since the script started
purge_added() {
  local added
  added=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | sort |
          comm -13 "$installed_before" -)
  # shellcheck disable=SC2086 # one word per package
  [ -z "$added" ] || $sudo apt-get purge -y -qq $added >/dev/null
}

restore_system() {
  local status=$?
  set +e
  echo "==> package: restoring the system"
  if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed'; then
    $sudo apt-get purge -y -qq "$package" >/dev/null
  fi
  purge_added
  [ -d "$backup" ] && $sudo cp -a "$backup/." /
  rm -rf "$work"
  exit $status
}
trap restore_system EXIT

echo "==> package: build tools and build dependencies (profiles: ${profiles:-none})"
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends dpkg-dev build-essential >/dev/null

# the tree as it is (committed or not, ignored files left out), and an orig
# tarball of it without debian/: the 3.0 (quilt) source has no patches
src=$work/learnloop-$upstream
mkdir "$src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$top" && git ls-files -z -co --exclude-standard) |
    tar -C "$top" --null --ignore-failed-read -cf - -T - 2>/dev/null | tar -C "$src" -xf -
else
  tar -C "$top" --exclude=.git -cf - . | tar -C "$src" -xf -
fi
tar -C "$work" --exclude="learnloop-$upstream/debian" -czf "$work/learnloop_$upstream.orig.tar.gz" "learnloop-$upstream"

# shellcheck disable=SC2086 # $profiles is empty or one option
(cd "$work" && $sudo apt-get build-dep -y -qq --no-install-recommends $profiles "./learnloop-$upstream" >/dev/null)

echo "==> package: dpkg-buildpackage -us -uc $profiles"
# shellcheck disable=SC2086
if ! (cd "$src" && dpkg-buildpackage -us -uc $profiles >"$work/build.log" 2>&1); then
  tail -n 40 "$work/build.log"
  echo "==> package: dpkg-buildpackage failed"
  exit 1
fi
# the build-time suites' summaries (pg_regress, isolation), when they ran
grep -E '^ *(All [0-9]+ tests passed|[0-9]+ of [0-9]+ tests failed)' "$work/build.log" | sed 's/^ */    build-time installcheck: /' || true
deb=$work/${package}_${version}_$(dpkg --print-architecture).deb
ok "$([ -f "$work/learnloop_$version.dsc" ] && [ -f "$deb" ] && echo built)" built \
   "dpkg-buildpackage built the source package and $package"

# files of a `make install` that the package replaces, put back at the end
while read -r path; do
  if [ -e "$path" ] && ! dpkg -S "$path" >/dev/null 2>&1; then
    mkdir -p "$backup$(dirname "$path")"
    cp -a "$path" "$backup$path"
  fi
done < <(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }')
[ -d "$backup" ] && echo "==> package: replaces files of a make install (put back at the end): $(cd "$backup" && find . -type f | wc -l)"

# the build dependencies go before the package comes: what it needs at run
# time must come from its Depends (the autopkgtest's own Depends come back)
echo "==> package: purging the build dependencies"
purge_added
autopkgtest_depends=""
[ -n "$profiles" ] || autopkgtest_depends=postgresql-server-dev-all
echo "==> package: apt-get install $deb $autopkgtest_depends"
# shellcheck disable=SC2086 # empty or one package
$sudo apt-get install -y -qq --no-install-recommends "$deb" $autopkgtest_depends >/dev/null

ok "$(dpkg-query -W -f='${Status} ${Version}' "$package")" "install ok installed $version" \
   "apt installed $package $version"
depends=$(dpkg-query -W -f='${Depends}' "$package")
for dep in "postgresql-$pgversion" libxgboost0 libcurl4 libcjson1; do
  ok "$(echo "$depends" | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep -cx "$dep")" 1 "Depends declares $dep"
done

files=$(dpkg -L "$package")
libdir=/usr/lib/postgresql/$pgversion/lib
extdir=/usr/share/postgresql/$pgversion/extension
ok "$(echo "$files" | grep -cx "$libdir/learnloop.so")" 1 "ships $libdir/learnloop.so"
ok "$(ldd "$libdir/learnloop.so" | grep -c 'not found')" 0 "every library learnloop.so links resolves"
ok "$(echo "$files" | grep -cx "$extdir/learnloop.control")" 1 "ships the control file"
# the install script of this release and every released script of the tree
want=$( { echo "learnloop--$ext_version.sql"; cd "$top/sql" && ls learnloop--*.sql; } | sort -u)
got=$(echo "$files" | sed -n "s|^$extdir/\(learnloop--.*\.sql\)$|\1|p" | sort)
ok "$got" "$want" "ships the install script and the upgrade chain, as $extdir/learnloop--*.sql"
ok "$(echo "$files" | grep "^$extdir/" | grep -cvE "^$extdir/learnloop(--[0-9.]+(--[0-9.]+)?\.sql|\.control)$")" 0 \
   "nothing else in the extension directory"
ok "$(echo "$files" | grep -cE "^/usr/share/doc/$package/reference\.md(\.gz)?$")" 1 \
   "ships the reference in /usr/share/doc/$package"
ok "$(echo "$files" | grep -c "^/usr/share/doc/postgresql-doc-")" 0 \
   "nothing in the doc directory every extension shares"
ok "$(echo "$files" | grep -ciE '/(test|tests|expected|results|regress|pgtap|isolation|unit|fixtures)(/|$)|\.out$|\.spec$')" 0 \
   "no test file"

# the autopkgtest, when the build ran the suites too
if [ -z "$profiles" ]; then
  echo "==> package: debian/tests/installcheck against the installed package"
  if (cd "$src" && debian/tests/installcheck >"$work/installcheck.log" 2>&1); then
    result=passed
  else
    result=failed
    tail -n 40 "$work/installcheck.log"
  fi
  ok "$result" passed "debian/tests/installcheck: the regression suites pass against the installed package"
fi

echo "==> package: a throwaway cluster with shared_preload_libraries = learnloop"
results=$work/results
cat >"$work/loop.sql" <<'SQL'
\set ON_ERROR_STOP 1
CREATE EXTENSION learnloop;
SELECT 'extversion', extversion FROM pg_extension WHERE extname = 'learnloop';
SELECT 'build_info', b->>'learnloop', b->>'xgboost' FROM ml.build_info() b;
SELECT 'simulated', ml.simulate_users(users => 300, days => 7, seed => 42);
SELECT 'rows', count(*), count(outcome) FROM ml.MLTrainingData;
SELECT 'train', version, deployed, metric_name, score > 0.5 AND score <= 1
  FROM ml.train('engagement', 'ml.MLTrainingData', $$(outcome->>'engaged')::boolean$$,
                features => ARRAY['features', $$decision->>'action' AS action$$],
                split => 'time', split_column => 'created_at',
                params => '{"num_round": 30, "max_depth": 4}');
SELECT 'deployed', ml.deployed_version('engagement');
SELECT 'evaluator', evaluator FROM ml.models WHERE name = 'engagement';
SELECT 'predict', count(*), bool_and(p >= 0 AND p <= 1), count(DISTINCT round(p::numeric, 6)) > 1
  FROM (SELECT ml.predict('engagement',
                          jsonb_build_object('hour_of_day', 23, 'emotional_state', 'sad', 'message_length', 35,
                                             'topic', 'relationships', 'action', action)) AS p
          FROM unnest(ARRAY['detailed_explanation', 'brief_answer', 'empathetic_support',
                            'playful_tangent', 'socratic_question']) AS action) s;
SELECT 'decide', action = ANY (ARRAY['detailed_explanation', 'brief_answer', 'empathetic_support',
                                     'playful_tangent', 'socratic_question']),
       confidence >= 0 AND confidence <= 1
  FROM ml.decide('response_strategy', 'learner-42',
                 '{"hour_of_day": 23, "emotional_state": "sad", "message_length": 35, "topic": "relationships"}',
                 fallback => 'brief_answer', model => 'engagement');
SQL
if ! (cd / && pg_virtualenv -t -v "$pgversion" -o "shared_preload_libraries=learnloop" \
        psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 -f "$work/loop.sql" >"$results" 2>"$work/psql.err"); then
  cat "$work/psql.err"
fi
get() { sed -n "s/^$1 //p" "$results"; }
xgboost=$(dpkg-query -W -f='${Version}' libxgboost0 2>/dev/null | sed 's/-[^-]*$//' || true)
ok "$(get extversion)" "$ext_version" "CREATE EXTENSION learnloop installs version $ext_version"
ok "$(get build_info)" "$ext_version $xgboost" "ml.build_info(): learnloop $ext_version on the installed XGBoost $xgboost"
ok "$(get simulated)" 6300 "ml.simulate_users: 300 users x 7 days x 3 decisions"
rows=$(get rows)
ok "${rows% *}" 6300 "the simulated decisions are in ml.MLTrainingData"
ok "$([ "${rows#* }" -gt 3000 ] && echo yes)" yes "most of them have an outcome ($rows)"
ok "$(get train)" "1 t accuracy t" "ml.train trained version 1 in the worker, deployed it, accuracy in (0.5, 1]"
ok "$(get deployed)" 1 "ml.deployed_version: 1"
ok "$(get evaluator)" native "the model is served by the native evaluator"
ok "$(get predict)" "5 t t" "ml.predict: five predictions, all in [0, 1], the action matters"
ok "$(get decide)" "t t" "ml.decide picks a known action with a probability"
finish
