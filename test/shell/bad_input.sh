#!/usr/bin/env bash
# Generated bad inputs across the whole SQL API (issue 9, section 8): every
# function of schema ml (from pg_proc) with NULL, empty, huge and unknown
# values in each argument, wrong jsonb shapes and sizes, NaN and infinities,
# out-of-range numbers; DML, several statements and side effects as training
# source, target, filter and features; corrupted models served by every entry
# point.  For each input: a clean ERROR with an acceptable SQLSTATE, or a
# result documented in bad_input/allowlist.tsv; the server still up (the same
# postmaster answers SELECT 1); no row written by a failed call (checksums of
# every table of schema ml, the public tables and the large objects); no
# NOTIFY or write escaping from a training source.
#   bash bad_input.sh [ID-REGEX]   runs only the inputs whose id matches
set -uo pipefail
cd "$(dirname "$0")"
. ./tap.sh
db=learnloop_badinput
dir=$PWD/bad_input
only=${1:-}
work=$(mktemp -d /tmp/learnloop_badinput.XXXXXX)
# statement_timeout (10 s) and waiting for a job (15 s) come first
hang_seconds=${BAD_INPUT_HANG_SECONDS:-30}
started=$(date +%s)

dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db" || exit 1
if ! psql -X -q -d "$db" -f "$dir/fixture.sql" >"$work/fixture.out" 2>&1; then
  cat "$work/fixture.out"
  ok fixture-failed fixture "the fixture loads"
  finish
  exit 1
fi
psql -X -q -d "$db" -f "$dir/generate.sql" >"$work/all.tsv" || exit 1
if [ -n "$only" ]; then
  awk -F'\t' -v re="$only" '$1 ~ re' "$work/all.tsv" >"$work/inputs.tsv"
else
  cp "$work/all.tsv" "$work/inputs.tsv"
fi
total=$(wc -l <"$work/inputs.tsv")

# psql script of inputs FROM..end: each block prints @@BEGIN, the call's
# output, @@MSG (the error), @@END with SQLSTATE, state checks and SELECT 1;
# the state after one input is the state before the next
script_from() {
  cat <<'HEAD'
\set ON_ERROR_STOP 1
SET statement_timeout = '10s';
LISTEN bi;
SELECT pg_backend_pid() AS bi_pid, pg_postmaster_start_time() AS bi_pm, bi_state() AS bi_before,
       coalesce(max(job_id), 0) AS bi_job FROM ml.training_jobs
 WHERE database = current_database() \gset
\echo @@PID :bi_pid
\set ON_ERROR_STOP 0
HEAD
  awk -F'\t' -v from="$1" 'NR >= from {
    q = sprintf("%c", 39)
    printf "\\echo @@BEGIN %d\n%s;\n", NR, $2
    printf "\\set bi_st :SQLSTATE\n\\if :ERROR\n\\echo @@MSG :LAST_ERROR_MESSAGE\n\\endif\n"
    printf "\\set bi_same unknown\n\\set bi_side_same unknown\n\\set bi_up unknown\n\\set bi_one unknown\n"
    printf "SELECT bi_settle() IS NULL AS bi_settled \\gset\n"
    printf "SELECT string_agg(status || %s: %s || coalesce(error, %s%s), %s ; %s ORDER BY job_id) AS bi_jobs, coalesce(max(job_id), :bi_job) AS bi_job FROM ml.training_jobs WHERE job_id > :bi_job AND database = current_database() \\gset\n", q, q, q, q, q, q
    printf "\\if :{?bi_jobs}\n\\echo @@JOBS :bi_jobs\n\\unset bi_jobs\n\\endif\n"
    printf "SELECT s AS bi_now, split_part(s, %s|%s, 1) = split_part(:%sbi_before%s, %s|%s, 1) AS bi_same,", q, q, q, q, q, q
    printf " split_part(s, %s|%s, 2) = split_part(:%sbi_before%s, %s|%s, 2) AS bi_side_same,", q, q, q, q, q, q
    printf " pg_postmaster_start_time() = :%sbi_pm%s AS bi_up FROM bi_state() s \\gset\n", q, q
    printf "\\set bi_before :bi_now\nSELECT 1 AS bi_one \\gset\n"
    printf "\\echo @@END %d :bi_st :bi_same :bi_side_same :bi_up :bi_one\n", NR
  }' "$work/inputs.tsv"
}

server_up() {
  local i
  for i in $(seq 1 120); do
    psql -X -At -d "$db" -c 'SELECT 1' >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}

# Runs the inputs, starting again after the one that crashed or hung the
# server; writes $work/out.* and records hangs in $work/hangs.
next=1
run=0
: >"$work/hangs"
while [ "$next" -le "$total" ]; do
  run=$((run + 1))
  script_from "$next" >"$work/script.$run.sql"
  psql -X -At -d "$db" -f "$work/script.$run.sql" >"$work/out.$run" 2>"$work/err.$run" &
  pid=$!
  last=
  since=$(date +%s)
  while kill -0 "$pid" 2>/dev/null; do
    sleep 0.5
    cur=$(grep '^@@BEGIN ' "$work/out.$run" | tail -n 1)
    if [ "$cur" != "$last" ]; then
      last=$cur
      since=$(date +%s)
    elif [ -n "$cur" ] && ! grep -q "^@@END ${cur#@@BEGIN } " "$work/out.$run" &&
      [ $(($(date +%s) - since)) -ge "$hang_seconds" ]; then
      # a call that ignores statement_timeout: end its backend, then psql
      echo "${cur#@@BEGIN }" >>"$work/hangs"
      backend=$(sed -n 's/^@@PID //p' "$work/out.$run")
      psql -X -At -d "$db" -c "SELECT pg_terminate_backend($backend)" >/dev/null 2>&1
      sleep 2
      kill -0 "$backend" 2>/dev/null && kill -9 "$backend" 2>/dev/null
      kill "$pid" 2>/dev/null
      break
    fi
  done
  wait "$pid" 2>/dev/null
  lastbegin=$(sed -n 's/^@@BEGIN //p' "$work/out.$run" | tail -n 1)
  if [ -z "$lastbegin" ]; then
    server_up || break
    [ "$run" -gt $((total + 5)) ] && break
    continue
  fi
  next=$((lastbegin + 1))
  server_up || { echo "# the server did not come back"; break; }
done

# one line per input: n id sqlstate same side_same up one notified message
cat "$work"/out.* | awk -F'\t' -v inputs="$work/inputs.tsv" -v hangs="$work/hangs" '
  BEGIN {
    while ((getline line < inputs) > 0) { split(line, f, "\t"); n++; id[n] = f[1] }
    while ((getline line < hangs) > 0) hung[line] = 1
  }
  /^@@BEGIN / { cur = $0; sub(/^@@BEGIN /, "", cur); out[cur] = ""; msg[cur] = ""; notified[cur] = 0; seen[cur] = 1; next }
  /^@@MSG / { m = $0; sub(/^@@MSG /, "", m); msg[cur] = m; next }
  /^@@END / { split($0, e, " "); st[e[2]] = e[3]; same[e[2]] = e[4]; side[e[2]] = e[5]; up[e[2]] = e[6]; one[e[2]] = e[7]; next }
  /^@@PID / { next }
  /^@@JOBS / { j = $0; sub(/^@@JOBS /, "", j); jobs[cur] = j; next }
  /^Asynchronous notification/ { if (cur != "") notified[cur] = 1; next }
  { if (cur != "" && length(out[cur]) < 200) out[cur] = out[cur] (out[cur] == "" ? "" : " ") substr($0, 1, 200) }
  END {
    for (i = 1; i <= n; i++) {
      s = (i in st) ? st[i] : ((i in hung) ? "HANG" : ((i in seen) ? "CRASH" : "NOTRUN"))
      text = (msg[i] != "") ? msg[i] : out[i]
      if (jobs[i] != "") text = text " [job " jobs[i] "]"
      gsub(/\t/, " ", text)
      printf "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", i, id[i], s, same[i], side[i], up[i], one[i], notified[i], text
    }
  }' >"$work/results.tsv"

# judge every input against the allowlist (first matching line wins):
#   ok            a success is the documented result (an error is fine too)
#   ok~REGEX      a success whose output matches REGEX (an error is fine too)
#   must~REGEX    a success whose output matches REGEX; an error fails
#   SQLSTATE      the error must have this SQLSTATE (a trailing * matches a class)
awk -F'\t' -v allow="$dir/allowlist.tsv" '
  BEGIN {
    while ((getline line < allow) > 0) {
      if (line ~ /^#/ || line ~ /^[ \t]*$/) continue
      split(line, f, "\t"); na++; re[na] = f[1]; ex[na] = f[2]; used[na] = 0
    }
  }
  function bad_state(s) {
    return s ~ /^(XX|58|57|08|53)/ || s == "42883" || s == "42725" || s == "42P13" || s == "P0001" || s == "CRASH" || s == "HANG" || s == "NOTRUN"
  }
  {
    n = $1; id = $2; s = $3; text = $9; why = ""
    rule = 0
    for (k = 1; k <= na; k++) if (id ~ re[k]) { rule = k; used[k]++; break }
    want = rule ? ex[rule] : ""
    if (s == "CRASH") why = "the server crashed (or the session died)"
    else if (s == "HANG") why = "hung: ignored statement_timeout and was killed"
    else if (s == "NOTRUN") why = "not run (the server did not come back)"
    else if ($6 == "unknown") why = "the state could not be read after the call (a table of schema ml or public cannot be read back?)"
    else if ($6 != "t" || $7 != "1") why = "the server restarted during the call"
    else if (s == "00000") {
      if (want == "") why = "succeeded, not a documented result: " text
      else if (want ~ /^ok~/ && text !~ substr(want, 4)) why = "succeeded with an output that does not match " substr(want, 4) ": " text
      else if (want ~ /^must~/ && text !~ substr(want, 6)) why = "succeeded with an output that does not match " substr(want, 6) ": " text
      else if (want !~ /^(ok|must)/) why = "succeeded, expected " want ": " text
      else if (text ~ /\[job failed/ && $4 != "t") why = "the job it started failed but changed the tables of schema ml, public or large objects: " text
    } else {
      # a server-side class (XX, 57, ...) only where its line names that exact SQLSTATE
      if (bad_state(s) && s != want) why = "error " s ": " text
      else if (want ~ /^must~/) why = "error " s " instead of a success matching " substr(want, 6) ": " text
      else if (want != "" && want !~ /^(ok|must)/ && !(s == want || (want ~ /\*$/ && index(s, substr(want, 1, length(want) - 1)) == 1)))
        why = "error " s " instead of " want ": " text
      else if ($4 != "t") why = "failed (" s ") but changed the tables of schema ml, public or large objects: " text
    }
    if ($5 != "t" && id ~ /^special\//) why = "wrote a public table, a large object, a decision or a deployment from a training source (" s "); " why
    if ($8 == 1) why = "a NOTIFY reached a listener (" s "); " why
    cls = (s ~ /^[0-9A-Z][0-9A-Z][0-9A-Z][0-9A-Z][0-9A-Z]$/) ? substr(s, 1, 2) : s
    printf "%s\t%s\t%s\t%s\t%s\n", n, id, s, cls, why
  }
  END {
    for (k = 1; k <= na; k++) if (!used[k]) printf "UNUSED\t%s\n", re[k] > "/dev/stderr"
  }' "$work/results.tsv" >"$work/judged.tsv" 2>"$work/unused"

tried=$(wc -l <"$work/judged.tsv")
echo "# tried $tried inputs (of $total generated) in $(($(date +%s) - started)) s; SQLSTATE classes:"
cut -f4 "$work/judged.tsv" | sort | uniq -c | sort -rn | sed 's/^/#   /'
sed 's/^UNUSED\t/# allowlist entry matched no input: /' "$work/unused"
# one test point per function (or special group) that passed whole; one per failing input
awk -F'\t' '{ split($2, p, "/"); g = (p[1] == "special" || p[1] == "corrupt") ? p[1] "/" p[2] "/" p[3] : p[1]; print g "\t" $0 }' "$work/judged.tsv" |
  awk -F'\t' '{ n[$1]++; if ($6 != "") bad[$1]++ } END { for (g in n) print g "\t" n[g] "\t" bad[g] + 0 }' | sort >"$work/groups.tsv"
while IFS=$'\t' read -r group count bad; do
  [ "$bad" -eq 0 ] && ok 0 0 "$group: $count inputs"
done <"$work/groups.tsv"
while IFS=$'\t' read -r n id s cls why; do
  [ -n "$why" ] && ok "$why" "" "$id"
done <"$work/judged.tsv"
ok "$([ "$tried" -ge 600 ] || [ -n "$only" ] && echo yes)" yes "at least 600 inputs tried"
echo "# details: $work/judged.tsv (n, id, SQLSTATE, class, failure), $work/results.tsv (outputs)"

[ -z "$only" ] && [ "$tap_failed" -eq 0 ] && dropdb "$db" && rm -rf "$work"
psql -X -q -d postgres -c 'DROP ROLE IF EXISTS bi_role' >/dev/null 2>&1
finish
