#!/usr/bin/env bash
# tests/reliability/slowloris.sh BASE_URL [SECONDS]
#
# RELIABILITY.md A9 #5: a slowloris attack (slowhttptest -H -c 1000 -i 5 -r 200
# -l SECONDS) from 127.0.0.2 against a running resellerd, while /livez is
# probed once per second from 127.0.0.1. Pass: 100 % of probes 200 and p99
# < 50 ms. Also reported: the most connections the attacker's address held
# on the server at once (must not exceed RESELLERD_PER_IP_CONNECTIONS, 64
# by default) and the server's total established connections.
#
# slowhttptest cannot choose its source address, so an LD_PRELOAD shim
# (built here with cc) binds its IPv4 sockets to 127.0.0.2 before connect().
# Loopback only: BASE_URL must be http://127.0.0.1:PORT (or localhost).
# Exit 0 pass, 1 miss, 2 usage/setup error.
set -euo pipefail

BASE=${1:-}
DURATION=${2:-60}
PER_IP_CAP=${RESELLERD_PER_IP_CONNECTIONS:-64}
ATTACKER=127.0.0.2
PROBER=127.0.0.1
if [[ ! $BASE =~ ^http://(127\.0\.0\.1|localhost):([0-9]+)$ ]]; then
	echo "usage: $0 http://127.0.0.1:PORT [SECONDS]   (a running resellerd)" >&2
	exit 2
fi
PORT=${BASH_REMATCH[2]}
BASE="http://127.0.0.1:$PORT"

if ! command -v slowhttptest >/dev/null; then
	echo "slowloris: installing slowhttptest" >&2
	apt-get install -y slowhttptest >/dev/null 2>&1 ||
		{ apt-get update >/dev/null && apt-get install -y slowhttptest >/dev/null; } ||
		{ echo "slowloris: cannot install slowhttptest" >&2; exit 2; }
fi
for tool in curl ss cc; do
	command -v "$tool" >/dev/null || { echo "slowloris: $tool is required" >&2; exit 2; }
done
curl -sf -m 2 "$BASE/livez" >/dev/null || { echo "slowloris: $BASE/livez does not answer" >&2; exit 2; }

WORK=$(mktemp -d /tmp/slowloris.XXXXXX)
SLOW_PID= SAMPLER_PID=
cleanup() {
	if [ -n "$SLOW_PID" ] && kill -0 "$SLOW_PID" 2>/dev/null; then kill "$SLOW_PID" 2>/dev/null || true; fi
	if [ -n "$SAMPLER_PID" ] && kill -0 "$SAMPLER_PID" 2>/dev/null; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/bindsrc.c" <<'EOF'
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);
	const char *src = getenv("BIND_SRC");

	if (!real)
		real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
	if (src && sa && sa->sa_family == AF_INET) {
		struct sockaddr_in me;

		memset(&me, 0, sizeof(me));
		me.sin_family = AF_INET;
		inet_pton(AF_INET, src, &me.sin_addr);
		bind(fd, (struct sockaddr *)&me, sizeof(me)); /* best effort */
	}
	return real(fd, sa, len);
}
EOF
cc -shared -fPIC -O2 -o "$WORK/bindsrc.so" "$WORK/bindsrc.c" -ldl

probe_once() { # prints the latency in ms, or 2000 on a failure; returns 1 on a failure
	local out code lat
	out=$(curl -s -o /dev/null --interface $PROBER -m 2 -w '%{http_code} %{time_total}' \
		"$BASE/livez" || true)
	code=${out%% *}
	lat=${out##* }
	if [ "$code" = 200 ]; then
		awk -v s="$lat" 'BEGIN { printf "%.3f\n", s * 1000 }'
		return 0
	fi
	echo "probe: HTTP ${code:-none}" >&2
	echo 2000
	return 1
}
sleep_rest() { # sleep what is left of one second since $1
	sleep "$(awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { r = 1 - (b - a); print (r > 0 ? r : 0) }')"
}

# a baseline without the attack (the machine may be busy: this says how busy)
: >"$WORK/base"
for _ in 1 2 3 4 5 6 7 8 9 10; do
	t0=$(date +%s.%N)
	probe_once >>"$WORK/base" || true
	sleep_rest "$t0"
done

# server-side view, sampled in the background: established connections on
# the port, and those the server process has accepted (ss -p names an
# owner only for accepted sockets; the rest sit in the listen backlog)
sampler() {
	local a acc t
	while :; do
		ss -Htnp state established "( sport = :$PORT )" 2>/dev/null >"$WORK/ss.now" || true
		t=$(wc -l <"$WORK/ss.now")
		a=$(grep -c " $ATTACKER:" "$WORK/ss.now" || true)
		acc=$(grep " $ATTACKER:" "$WORK/ss.now" | grep -c 'pid=' || true)
		echo "$t $a $acc" >>"$WORK/ss.samples"
		sleep 0.5
	done
}
sampler &
SAMPLER_PID=$!

# the attack
(cd "$WORK" && BIND_SRC=$ATTACKER LD_PRELOAD="$WORK/bindsrc.so" exec slowhttptest -H \
	-c 1000 -i 5 -r 200 -l "$DURATION" -p 3 -u "$BASE/livez" -g -o "$WORK/slow" \
	>"$WORK/slowhttptest.out" 2>&1) &
SLOW_PID=$!
sleep 2 # let the connection ramp start

# the probe: once a second from 127.0.0.1
probes=0 ok=0
: >"$WORK/lat"
end=$((SECONDS + DURATION - 2))
while [ $SECONDS -lt $end ] && kill -0 "$SLOW_PID" 2>/dev/null; do
	t0=$(date +%s.%N)
	probes=$((probes + 1))
	if probe_once >>"$WORK/lat"; then ok=$((ok + 1)); fi
	sleep_rest "$t0"
done
wait "$SLOW_PID" 2>/dev/null || true
SLOW_PID=
kill "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
read -r max_total max_attacker max_accepted < <(awk '
	$1 > t { t = $1 } $2 > a { a = $2 } $3 > c { c = $3 } END { print t + 0, a + 0, c + 0 }' \
	"$WORK/ss.samples")

sort -n "$WORK/lat" >"$WORK/lat.sorted"
n=$(wc -l <"$WORK/lat.sorted")
pct() { # pct P FILE (sorted)
	awk -v p="$1" 'NR == FNR { n++; next } FNR == (int(n * p / 100 + 0.999999) < 1 ? 1 : int(n * p / 100 + 0.999999)) { print; exit }' "$2" "$2"
}
p50=$(pct 50 "$WORK/lat.sorted")
p99=$(pct 99 "$WORK/lat.sorted")
pmax=$(tail -1 "$WORK/lat.sorted")
sort -n "$WORK/base" >"$WORK/base.sorted"
b50=$(pct 50 "$WORK/base.sorted")
bmax=$(tail -1 "$WORK/base.sorted")
ok_pct=$(awk -v o=$ok -v p=$probes 'BEGIN { printf "%.1f", p ? 100 * o / p : 0 }')

echo "slowhttptest summary:"
grep -E "^(test type|number of connections|interval between follow up data|connections per seconds|test duration|Exit status)" \
	"$WORK/slowhttptest.out" | sed 's/^/  /' || true
if [ -f "$WORK/slow.csv" ]; then
	echo "  attacker sockets (slowhttptest view, last row: seconds,closed,pending,connected,service available):"
	tail -1 "$WORK/slow.csv" | sed 's/^/    /'
	peak=$(awk -F, 'NR > 1 && $4 > m { m = $4 } END { print m + 0 }' "$WORK/slow.csv")
	echo "  attacker peak connected (client view): $peak"
fi
echo "probe baseline before the attack: latency ms p50=$b50 max=$bmax (load: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "probe from $PROBER under attack: $ok/$probes OK ($ok_pct %), latency ms p50=$p50 p99=$p99 max=$pmax"
echo "server side: $ATTACKER had at most $max_attacker established connections to the port," \
	"$max_accepted of them accepted by the server (per-IP cap $PER_IP_CAP); at most $max_total in total"

fail=0
if [ "$probes" -lt $((DURATION / 2)) ]; then echo "MISS: only $probes probes ran"; fail=1; fi
if [ "$ok" -ne "$probes" ]; then echo "MISS: $((probes - ok)) probes failed"; fail=1; fi
if awk -v p="$p99" 'BEGIN { exit !(p >= 50) }'; then echo "MISS: probe p99 $p99 ms >= 50 ms"; fail=1; fi
if [ "$max_accepted" -gt "$PER_IP_CAP" ]; then
	echo "MISS: the server accepted $max_accepted connections from one address, over the per-IP cap $PER_IP_CAP"
	fail=1
fi
[ $fail = 0 ] && echo "PASS"
exit $fail
