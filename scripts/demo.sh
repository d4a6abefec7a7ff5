#!/usr/bin/env bash
# The learning-loop demo: installs what is missing, builds and installs
# learnloop, starts a throwaway PostgreSQL 15 cluster with
# shared_preload_libraries = learnloop and runs scripts/demo.sql in it.
# A local webhook receiver (test/notify/receiver.py, which checks the
# Standard Webhooks signatures) gets the alerts; the cluster lets the
# delivery worker reach it on loopback (learnloop.webhook_allow_private),
# and the worker runs as a role of its own, not as a superuser.  The
# monitoring report is written to $LEARNLOOP_REPORT (default
# /tmp/learnloop-report.html).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

scripts/install-deps.sh
scripts/build.sh

export LEARNLOOP_REPORT=${LEARNLOOP_REPORT:-/tmp/learnloop-report.html}
echo "==> demo: starting a throwaway PostgreSQL 15 cluster (pg_virtualenv)"
pg_virtualenv -t -v 15 \
  -o "shared_preload_libraries=learnloop" \
  -o "learnloop.webhook_databases=postgres" \
  -o "learnloop.webhook_role=learnloop_webhook_sender" \
  -o "learnloop.webhook_allow_private=on" \
  bash -c '
set -euo pipefail
work=$(mktemp -d)
secret="whsec_$(head -c 24 /dev/urandom | base64)"
python3 test/notify/receiver.py --log "$work/received.jsonl" --secret "$secret" >"$work/port" 2>"$work/receiver.err" &
receiver=$!
trap "kill $receiver 2>/dev/null; rm -rf $work" EXIT
for _ in $(seq 1 50); do [ -s "$work/port" ] && break; sleep 0.1; done
# the delivery worker connects as this role (learnloop.webhook_role) once it exists
psql -X -q -c "CREATE ROLE learnloop_webhook_sender LOGIN"
psql -X -v ON_ERROR_STOP=1 --echo-queries -f scripts/demo.sql \
  -v receiver_url="http://127.0.0.1:$(head -n1 "$work/port")/alerts" -v webhook_secret="$secret" \
  -v report_path="$LEARNLOOP_REPORT"
echo
echo "==> 13. What the receiver got (it verified each signature)"
python3 - "$work/received.jsonl" <<PY
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    event = json.loads(r["body"])
    print("  %s %s  webhook-id %s  signature %s  %s" % (r["method"], r["path"], r["headers"].get("webhook-id"),
          r["signature"], event.get("summary") or event.get("type")))
PY
'
echo "==> demo: the monitoring report is in $LEARNLOOP_REPORT (open it in a browser)"
echo "==> demo: finished in $(( $(date +%s) - start ))s; the cluster was thrown away"
