#!/usr/bin/env bash
# Tests test/notify/receiver.py by itself, with curl, before the delivery
# tests lean on it: the scripted answers in order (500, 200, 400, 429 with
# Retry-After, a redirect, a hang), the default after them, the signature
# check (the Standard Webhooks test vector passes; a changed body, a changed
# id, a missing header and a wrong secret are answered 401 without using up
# an answer) and the JSON-lines log.  Needs no server.  Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=test/shell/tap.sh
. test/shell/tap.sh

work=$(mktemp -d)
receiver_pid=
cleanup() {
  [ -n "$receiver_pid" ] && kill "$receiver_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The test vector of the Standard Webhooks libraries (standard-webhooks
# repository, libraries/python/tests/test_webhooks.py, test_sign_function)
secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
msg_id=msg_p5jXN8AQM9LWM0D4loKWxJek
timestamp=1614265330
body='{"test": 2432232314}'
signature='v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='

/usr/bin/python3 test/notify/receiver.py --log "$work/log.jsonl" --secret "$secret" \
  --answer 500 --answer 200 --answer 400 --answer 429:7 \
  --answer 302:http://192.0.2.1/elsewhere --answer hang:3 >"$work/port" 2>"$work/stderr" &
receiver_pid=$!
for _ in $(seq 1 50); do
  [ -s "$work/port" ] && break
  sleep 0.1
done
port=$(head -n1 "$work/port")
ok "$(grep -cE '^[0-9]+$' <<<"$port")" 1 "the receiver prints the port it listens on"
url="http://127.0.0.1:$port/hook"

# post [ID] [BODY] [SIGNATURE] [CURL OPTION...]: prints "CODE" (curl's
# --write-out), the response headers going to $work/headers
post() {
  local id=$1 data=$2 sig=$3
  shift 3
  curl -s -o /dev/null -D "$work/headers" -w '%{http_code}' -X POST \
    -H 'content-type: application/json' -H "webhook-id: $id" \
    -H "webhook-timestamp: $timestamp" -H "webhook-signature: $sig" \
    --data-binary "$data" "$@" "$url"
}
header() { tr -d '\r' <"$work/headers" | sed -n "s/^$1: //Ip"; }

ok "$(post "$msg_id" "$body" "$signature")" 500 "1st signed request: the 1st answer, 500"
ok "$(post "$msg_id" "$body" "$signature")" 200 "2nd: 200"
ok "$(post "$msg_id" "$body" "$signature")" 400 "3rd: 400"
ok "$(post "$msg_id" "$body" "$signature")" 429 "4th: 429"
ok "$(header retry-after)" 7 "  with Retry-After: 7"
ok "$(post "$msg_id" "$body" "$signature")" 302 "5th: 302"
ok "$(header location)" http://192.0.2.1/elsewhere "  with the Location given"

# a forged request is refused and keeps the next answer (the hang) for later
ok "$(post "$msg_id" '{"test": 2432232315}' "$signature")" 401 "a changed body: 401"
ok "$(post msg_other "$body" "$signature")" 401 "a changed webhook-id: 401"
ok "$(post "$msg_id" "$body" "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=")" 401 "a changed signature: 401"
ok "$(curl -s -o /dev/null -w '%{http_code}' --data-binary "$body" "$url")" 401 "no signature headers: 401"
# rotation: any one matching v1 entry of the space-separated list passes;
# this one takes the 6th answer, the hang
start=$(date +%s%N)
code=$(post "$msg_id" "$body" "v1a,AAAA v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4= $signature" --max-time 1)
rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
ok "$rc $code" "28 000" "6th (a valid signature among others): hangs, curl times out (exit 28, no answer)"
ok "$([ "$elapsed_ms" -ge 900 ] && [ "$elapsed_ms" -lt 2900 ] && echo yes)" yes \
  "  after curl's 1 s, not the hang's 3 s (${elapsed_ms} ms)"
ok "$(post "$msg_id" "$body" "$signature")" 200 "after the answers: the default, 200"
ok "$(curl -s -o /dev/null -w '%{http_code}' -H "webhook-id: $msg_id" \
  -H "webhook-timestamp: $timestamp" -H "webhook-signature: $signature" \
  --data-binary "$body" "$url")" 200 "the hung request did not stop the next one"

# the log: one line a request, in order, with what the delivery tests check
summary=$(/usr/bin/python3 - "$work/log.jsonl" <<'EOF'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print(len(rows))
print(" ".join(str(r["seq"]) for r in rows))
print(" ".join(r["answer"] for r in rows))
print(" ".join(r["signature"] for r in rows))
first = rows[0]
print(first["method"], first["path"], first["headers"]["webhook-id"],
      first["headers"]["webhook-timestamp"], first["headers"]["content-type"])
print(first["body"])
print(all(isinstance(r["time"], float) for r in rows))
EOF
)
ok "$(sed -n 1p <<<"$summary")" 12 "the log has one line per request"
ok "$(sed -n 2p <<<"$summary")" "1 2 3 4 5 6 7 8 9 10 11 12" "numbered in arrival order"
ok "$(sed -n 3p <<<"$summary")" "500 200 400 429:7 302:http://192.0.2.1/elsewhere 401 401 401 401 hang:3 200 200" \
  "with the answer each got"
ok "$(sed -n 4p <<<"$summary")" "valid valid valid valid valid invalid invalid invalid missing valid valid valid" \
  "and its signature check"
ok "$(sed -n 5p <<<"$summary")" "POST /hook $msg_id $timestamp application/json" "method, path and headers recorded"
ok "$(sed -n 6p <<<"$summary")" "$body" "the body recorded as sent"
ok "$(sed -n 7p <<<"$summary")" True "every line has its arrival time"

# --tolerance: the vector's 2021 timestamp is stale now, a fresh one passes
kill "$receiver_pid"
wait "$receiver_pid" 2>/dev/null
/usr/bin/python3 test/notify/receiver.py --log "$work/log2.jsonl" --secret "$secret" \
  --tolerance 300 >"$work/port2" 2>>"$work/stderr" &
receiver_pid=$!
for _ in $(seq 1 50); do
  [ -s "$work/port2" ] && break
  sleep 0.1
done
url="http://127.0.0.1:$(head -n1 "$work/port2")/hook"
ok "$(post "$msg_id" "$body" "$signature")" 401 "--tolerance 300: a timestamp of 2021 is refused"
ok "$(/usr/bin/python3 - "$work/log2.jsonl" <<'EOF'
import json, sys
print(json.loads(open(sys.argv[1]).readline())["signature"])
EOF
)" stale "  and logged as stale"
# a fresh signature, computed here by openssl: a third implementation
timestamp=$(date +%s)
key_hex=$(printf '%s' "${secret#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
fresh="v1,$(printf '%s' "$msg_id.$timestamp.$body" |
  openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary | base64)"
ok "$(post "$msg_id" "$body" "$fresh")" 200 "a current timestamp signed by openssl passes"
ok "$(cat "$work/stderr")" "" "the receiver wrote nothing to stderr"

finish
