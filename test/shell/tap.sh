# Helpers for shell tests that print TAP: source it, call ok/fail, end with finish.
tap_count=0
export PGOPTIONS='-c client_min_messages=warning'
tap_failed=0
ok() {
  tap_count=$((tap_count + 1))
  if [ "$1" = "$2" ]; then
    echo "ok $tap_count - $3"
  else
    echo "not ok $tap_count - $3 (got '$1', want '$2')"
    tap_failed=$((tap_failed + 1))
  fi
}
finish() {
  echo "1..$tap_count"
  [ "$tap_failed" -eq 0 ]
}
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }
# waits up to $2 tenths of a second for query $1 to return $3
wait_for() {
  local i
  for i in $(seq 1 "$2"); do
    [ "$(q "$1")" = "$3" ] && return 0
    sleep 0.1
  done
  return 1
}
