#!/usr/bin/env bash
# Name resolution and the delivery worker, with a getaddrinfo shim built
# here and LD_PRELOADed into the test cluster: slow.invalid takes 30 s to
# resolve (nothing), dual.invalid resolves to 169.254.1.1 (link-local, never
# allowed) and 127.0.0.1.  libcurl resolves in a thread of its own: that
# thread blocks PostgreSQL's signals; a resolve that outlives the timeout
# neither freezes the worker (CURLOPT_QUICK_EXIT: libcurl 7.88 otherwise
# waits for the thread) nor delays other channels; a host whose first
# address is refused is delivered through its allowed one, and when that
# one answers 400, the answer decides.
# Restarts the test cluster (LEARNLOOP_RESTART, when set, is the command;
# else pg_virtualenv's cluster, whose environment file gets LD_PRELOAD).
set -uo pipefail
cd "$(dirname "$0")/../../.." || exit 1
. test/shell/tap.sh
. test/notify/webhook_test_lib.sh
db=learnloop_webhooks_resolve
shim=$webhook_work/resolve_shim.so
cat >"$webhook_work/resolve_shim.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>

int
getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
			struct addrinfo **res)
{
	int			(*real) (const char *, const char *, const struct addrinfo *, struct addrinfo **) =
		dlsym(RTLD_NEXT, "getaddrinfo");
	struct addrinfo numeric = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM,
	.ai_flags = AI_NUMERICHOST};
	struct addrinfo *first, *second;

	if (node != NULL && strcmp(node, "slow.invalid") == 0)
	{
		sleep(30);
		return EAI_NONAME;
	}
	if (node == NULL || strcmp(node, "dual.invalid") != 0)
		return real(node, service, hints, res);
	if (real("169.254.1.1", service, &numeric, &first) != 0 ||
		real("127.0.0.1", service, &numeric, &second) != 0)
		return EAI_FAIL;
	first->ai_next = second;
	*res = first;
	return 0;
}
C
gcc -shared -fPIC -o "$shim" "$webhook_work/resolve_shim.c" -ldl || exit 1
chmod 755 "$shim"
envfile=${PG_CLUSTER_CONF_ROOT:-/etc/postgresql}/${PGVERSION:-15}/regress/environment
if [ -z "${LEARNLOOP_RESTART:-}" ]; then
  cp "$envfile" "$webhook_work/environment" && echo "LD_PRELOAD = '$shim'" >>"$envfile"
fi
dropdb --if-exists "$db" >/dev/null 2>&1
createdb "$db"
q "CREATE EXTENSION learnloop"
sender=learnloop_webhook_sender_resolve
delivery_role "$sender"
q "ALTER SYSTEM SET learnloop.webhook_databases = '$db'"
q "ALTER SYSTEM SET learnloop.webhook_role = '$sender'"
q "ALTER SYSTEM SET learnloop.webhook_allow_private = on"
q "ALTER SYSTEM SET learnloop.webhook_connect_timeout = '1s'"
q "ALTER SYSTEM SET learnloop.webhook_timeout = '1s'"
q "ALTER SYSTEM SET learnloop.webhook_retry_delay = '60s'"
LD_PRELOAD=$shim restart
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop webhook delivery' AND datname = '$db'" 100 1
pid=$(worker_pid)
ok "$(grep -c resolve_shim "/proc/$pid/maps" | awk '{ print ($1 > 0) }')" 1 "the getaddrinfo shim is loaded in the worker"

start_receiver
port=$RECEIVER_PORT
q "INSERT INTO ml.channels (name, url) VALUES ('slow', 'http://slow.invalid:$port/'),
   ('fast', 'http://127.0.0.1:$port/'), ('dual', 'http://dual.invalid:$port/')"

# the resolver thread, while slow.invalid resolves: SIGHUP, SIGINT,
# SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM and SIGTERM blocked (bits sig - 1)
slow=$(queue slow)
sleep 0.5
need=$(( (1 << 0) | (1 << 1) | (1 << 2) | (1 << 9) | (1 << 11) | (1 << 13) | (1 << 14) ))
threads=0 unblocked=0
for status in /proc/"$pid"/task/*/status; do
  [ "$status" = "/proc/$pid/task/$pid/status" ] && continue
  threads=$((threads + 1))
  blocked=$((16#$(awk '/^SigBlk/ { print $2 }' "$status")))
  [ $(( blocked & need )) -eq "$need" ] || unblocked=$((unblocked + 1))
done
ok "$(( threads > 0 )) $unblocked" "1 0" "the resolver thread blocks PostgreSQL's signals"

# the resolve times out after 1 s; the worker goes on at once
wait_for "SELECT count(*) FROM ml.webhook_deliveries WHERE outbox_id = $slow" 30 1
ok "$(q "SELECT status || ' ' || (http_status IS NULL) || ' ' || (duration_ms < 3000) FROM ml.webhook_deliveries WHERE outbox_id = $slow")" \
   "retry true true" "a resolve past the timeout: a retried timeout, recorded without waiting for the resolver"
fast=$(queue fast)
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $fast" 30 delivered
ok "$(q "SELECT d.started_at - o.created_at < interval '1s' FROM ml.webhook_outbox o
          JOIN ml.webhook_deliveries d ON d.outbox_id = o.id WHERE o.id = $fast")" t \
   "another channel's event, meanwhile: sent at once, the worker not frozen by the hung resolve"
start=$(date +%s%N)
q "SELECT pg_terminate_backend($pid)" >/dev/null
for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.05; done
ok "$(( ($(date +%s%N) - start) / 1000000 < 2000 ))" 1 "SIGTERM while a resolve hangs: the worker ends at once"

# a refused and an allowed address: delivered through the allowed one
wait_for "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'learnloop webhook delivery' AND datname = '$db'" 150 1
dual=$(queue dual)
wait_for "SELECT state <> 'pending' FROM ml.webhook_outbox WHERE id = $dual" 100 t
ok "$(attempts "$dual") $(q "SELECT state FROM ml.webhook_outbox WHERE id = $dual")" "1:delivered:200 delivered" \
   "169.254.1.1 refused, 127.0.0.1 connected: the event is delivered, not dead"
ok "$(received "$RECEIVER_LOG" path | grep -c .)" 2 "the receiver got the fast and the dual event"
# the same host answering 400: the answer decides, the refusal is a note
start_receiver --answer 400
q "INSERT INTO ml.channels (name, url) VALUES ('dual_400', 'http://dual.invalid:$RECEIVER_PORT/')"
id=$(queue dual_400)
wait_for "SELECT state FROM ml.webhook_outbox WHERE id = $id" 100 dead
ok "$(q "SELECT attempt || ':' || status || ':' || http_status || ' ' || error FROM ml.webhook_deliveries WHERE outbox_id = $id")" \
   "1:failed:400 HTTP 400: 400 (another address refused: 169.254.1.1 is a link-local address (this includes the cloud metadata service) (never allowed))" \
   "a refused and an allowed address answering 400: the answer decides, the refusal noted"

q "ALTER SYSTEM RESET ALL" >/dev/null
[ -z "${LEARNLOOP_RESTART:-}" ] && cp "$webhook_work/environment" "$envfile"
restart
stop_receivers
dropdb "$db"
psql -X -q -d postgres -c "DROP ROLE $sender"
finish
