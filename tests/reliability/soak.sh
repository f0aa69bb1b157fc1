#!/usr/bin/env bash
# tests/reliability/soak.sh [SECONDS] [RATE]
#
# RELIABILITY.md A9 #14, bounded: a fixed request rate (default 100 req/s)
# for SECONDS (default 600) against a seeded resellerd built with
# AddressSanitizer + LeakSanitizer (or run under valgrind --leak-check=full,
# MODE=valgrind), sampling RSS, open descriptors and PostgreSQL sessions
# every 10 s. Fails when, after the warm-up (max(30 s, 20 % of the run)),
# RSS drifts more than 5 % above the first post-warm-up sample, when
# descriptors or sessions grow, when any request fails at the transport
# level or gets a 5xx, or when a leak is reported at exit.
#
# Environment:
#   RESELLERD_TEST_PGDIR  the scripts/pg cluster (default /tmp/rdev/pg; started if down)
#   BUILD                 a build directory with resellerd + resellerctl
#                         (default: build-asan if it exists, else build)
#   MODE                  asan (default when BUILD was configured with
#                         -DSANITIZER=address,...), valgrind, or plain (no leak
#                         check: RSS/FD figures of the production allocator)
#   DECISION_CACHE_MB     RESELLERD_DECISION_CACHE_MB for the server (default 0:
#                         every lookup reads PostgreSQL, the path a leak would hide in)
# The rate is held by wrk with a per-request delay (wrk's Lua delay()),
# CONNS connections each sending one request every CONNS/RATE seconds; wrk
# is closed-loop, so the achieved rate is printed and must be >= 90 % of it.
# Exit 0 pass, 1 miss, 2 setup error.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${1:-600}
RATE=${2:-100}
CONNS=${CONNS:-4}
PGDIR=${RESELLERD_TEST_PGDIR:-/tmp/rdev/pg}
if [ -z "${BUILD:-}" ]; then
	if [ -x "$ROOT/build-asan/resellerd" ]; then BUILD=$ROOT/build-asan; else BUILD=$ROOT/build; fi
fi
if [ -z "${MODE:-}" ]; then
	if grep -q '^SANITIZER:STRING=.*address' "$BUILD/CMakeCache.txt" 2>/dev/null; then MODE=asan; else MODE=valgrind; fi
fi
for tool in wrk curl psql python3; do
	command -v "$tool" >/dev/null || { echo "soak: $tool is required" >&2; exit 2; }
done
[ "$MODE" = valgrind ] && { command -v valgrind >/dev/null || { echo "soak: valgrind is required" >&2; exit 2; }; }
[ -x "$BUILD/resellerd" ] && [ -x "$BUILD/resellerctl" ] ||
	{ echo "soak: no resellerd/resellerctl in $BUILD" >&2; exit 2; }

WORK=$(mktemp -d /tmp/soak.XXXXXX)
DBNAME=soak_$$
SERVER_PID=
"$ROOT/scripts/pg" start "$PGDIR" >/dev/null
ADMIN_URL="postgresql:///postgres?host=$PGDIR/sock&user=postgres"
export DATABASE_URL="postgresql:///$DBNAME?host=$PGDIR/sock&user=postgres"
cleanup() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -9 "$SERVER_PID" 2>/dev/null || true; fi
	psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" >/dev/null 2>&1 || true
	echo "soak: work files (server log, samples) kept in $WORK"
}
trap cleanup EXIT

# ---- a seeded database ----
psql -q "$ADMIN_URL" -c "CREATE DATABASE $DBNAME" >/dev/null
"$BUILD/resellerctl" migrate >/dev/null
psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -f "$ROOT/tests/fixtures/channels.sql" >/dev/null
"$BUILD/resellerctl" partners import "$ROOT/tests/fixtures/partners.csv" >/dev/null
TOKEN=$("$BUILD/resellerctl" token create --name soak --scope read | head -1)

# ---- the server ----
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export RESELLERD_LISTEN=127.0.0.1:$PORT RESELLERD_SYNC_INTERVAL=0 RESELLERD_LOG_LEVEL=warn
export RESELLERD_DECISION_CACHE_MB=${DECISION_CACHE_MB:-0}
if [ "$MODE" = plain ]; then
	# no leak checker: glibc malloc, for an RSS figure without sanitizer noise
	"$BUILD/resellerd" >"$WORK/server.log" 2>&1 &
elif [ "$MODE" = asan ]; then
	# a small quarantine, or RSS grows by design until it is full
	ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=8:malloc_context_size=20:exitcode=23 \
		"$BUILD/resellerd" >"$WORK/server.log" 2>&1 &
else
	valgrind --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=23 --freelist-vol=8000000 --log-file="$WORK/valgrind.log" \
		"$BUILD/resellerd" >"$WORK/server.log" 2>&1 &
fi
SERVER_PID=$!
for _ in $(seq 1 150); do
	curl -sf -m 1 "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
	kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 2; }
	sleep 0.2
done
curl -sf -m 2 "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "soak: server not ready" >&2; exit 2; }

# ---- the load: a mix of lookups (DB reads), batch, evaluate, registry, health, errors ----
DELAY_MS=$(awk -v c="$CONNS" -v r="$RATE" 'BEGIN { printf "%d", 1000 * c / r }')
cat >"$WORK/mix.lua" <<EOF
local token = "$TOKEN"
local auth = { ["Authorization"] = "Bearer " .. token }
local json = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
local reqs = {}
-- built in init(): wrk.format adds Host only once wrk.host is known
init = function(args)
for i = 1, 8 do
  reqs[#reqs + 1] = wrk.format("GET", string.format("/v1/subscriptions/A-S%08d/channel", i), auth)
end
reqs[#reqs + 1] = wrk.format("POST", "/v1/channel/batch", json,
  '{"subscriptions":["A-S00000003","A-S00000004","A-S00000006","A-S99999999"]}')
reqs[#reqs + 1] = wrk.format("POST", "/v1/requests/evaluate", json,
  '{"subscription":"A-S00000003","type":"contact_update","requester_email":"bob@reseller.example","license_activated":false,"reseller_vouches":true}')
reqs[#reqs + 1] = wrk.format("GET", "/v1/partners", auth)
reqs[#reqs + 1] = wrk.format("GET", "/v1/workflows", auth)
reqs[#reqs + 1] = wrk.format("GET", "/v1/customers/search?name=example", auth)
reqs[#reqs + 1] = wrk.format("GET", "/readyz")
reqs[#reqs + 1] = wrk.format("GET", "/metrics")
reqs[#reqs + 1] = wrk.format("GET", "/v1/partners")
reqs[#reqs + 1] = wrk.format("GET", "/nope")
reqs[#reqs + 1] = wrk.format("GET", "/v1/subscriptions/bad%20key/channel", auth)
end
local i = 0
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
delay = function() return $DELAY_MS end
done = function(summary, latency, requests)
  io.write(string.format("wrk: %d requests, %d transport errors (connect %d, read %d, write %d, timeout %d), non-2xx/3xx %d\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout, summary.errors.status))
  io.write(string.format("wrk: latency ms p50=%.2f p99=%.2f max=%.2f\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
EOF
sample() { # seconds rss_kb fds pg_sessions
	local rss fds sess
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER_PID/status")
	fds=$(ls "/proc/$SERVER_PID/fd" | wc -l)
	sess=$(psql -tAq "$ADMIN_URL" -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DBNAME'" 2>/dev/null || echo -1)
	echo "$1 $rss $fds $sess"
}
echo "soak: $MODE build $BUILD, ${DURATION}s at $RATE req/s ($CONNS connections, ${DELAY_MS} ms apart), decision cache ${RESELLERD_DECISION_CACHE_MB} MB"
wrk -t 2 -c "$CONNS" -d "${DURATION}s" --timeout 5s -s "$WORK/mix.lua" "http://127.0.0.1:$PORT" \
	>"$WORK/wrk.out" 2>&1 &
WRK_PID=$!
start=$SECONDS
sample 0 >"$WORK/samples"
while kill -0 "$WRK_PID" 2>/dev/null; do
	sleep 10
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sample $((SECONDS - start)) >>"$WORK/samples"
done
wait "$WRK_PID" || true
sleep 1
sample $((SECONDS - start)) >>"$WORK/samples"
achieved=$(awk '/Requests\/sec/ { print $2 }' "$WORK/wrk.out")

# ---- stop it: 5xx count first, then SIGTERM, exit code, leak report ----
fail=0
fivexx=$(curl -s -m 5 "http://127.0.0.1:$PORT/metrics" |
	awk '/^resellerd_http_requests_total\{/ && /code="5/ { n += $NF } END { print n + 0 }')
if kill -0 "$SERVER_PID" 2>/dev/null; then
	kill -TERM "$SERVER_PID"
	set +e
	wait "$SERVER_PID"
	rc=$?
	set -e
else
	echo "MISS: the server died during the run"
	rc=99
fi
SERVER_PID=

warm=$(( DURATION / 5 > 30 ? DURATION / 5 : 30 ))
echo "samples (seconds rss_kB fds pg_sessions):"
sed 's/^/  /' "$WORK/samples"
read -r base_t base_rss base_fd base_sess < <(awk -v w="$warm" '$1 >= w { print; exit }' "$WORK/samples")
read -r last_t last_rss last_fd last_sess < <(tail -1 "$WORK/samples")
max_rss=$(awk -v w="$warm" '$1 >= w && $2 > m { m = $2 } END { print m + 0 }' "$WORK/samples")
drift=$(awk -v b="$base_rss" -v l="$last_rss" 'BEGIN { printf "%.2f", 100 * (l - b) / b }')
grep '^wrk:' "$WORK/wrk.out" || cat "$WORK/wrk.out"
echo "achieved $achieved req/s (target $RATE)"
echo "RSS after warm-up (t=${base_t}s) ${base_rss} kB, at the end ${last_rss} kB, max ${max_rss} kB: drift ${drift} %"
echo "fds ${base_fd} -> ${last_fd}; PostgreSQL sessions ${base_sess} -> ${last_sess}; server exit code $rc"

if awk -v d="$drift" 'BEGIN { exit !(d > 5) }'; then echo "MISS: RSS drift ${drift} % > 5 %"; fail=1; fi
if [ "$last_fd" -gt "$base_fd" ]; then echo "MISS: descriptors grew ${base_fd} -> ${last_fd}"; fail=1; fi
if [ "$last_sess" -gt "$base_sess" ]; then echo "MISS: PostgreSQL sessions grew"; fail=1; fi
terr=$(awk '/^wrk: .* transport errors/ { print $4 }' "$WORK/wrk.out")
if [ -z "$terr" ]; then echo "MISS: wrk did not report"; fail=1;
elif [ "$terr" != 0 ]; then echo "MISS: $terr transport errors"; fail=1; fi
echo "5xx answers counted by the server: $fivexx"
if [ "${fivexx:-0}" != 0 ]; then echo "MISS: 5xx answers"; fail=1; fi
if awk -v a="${achieved:-0}" -v r="$RATE" 'BEGIN { exit !(a < 0.9 * r) }'; then echo "MISS: achieved rate under 90 % of the target"; fail=1; fi
if grep -q -E 'LeakSanitizer|AddressSanitizer|runtime error:' "$WORK/server.log"; then
	echo "MISS: sanitizer report:"; grep -E -A15 'LeakSanitizer|AddressSanitizer|runtime error:' "$WORK/server.log" | head -60
	fail=1
fi
if [ -f "$WORK/valgrind.log" ]; then
	grep -E 'definitely lost|indirectly lost|ERROR SUMMARY' "$WORK/valgrind.log" | sed 's/^==[0-9]*==/  valgrind:/'
fi
if [ "$rc" != 0 ]; then echo "MISS: server exit code $rc (23 = leaks/errors reported)"; fail=1; fi
[ $fail = 0 ] && echo "PASS"
exit $fail
