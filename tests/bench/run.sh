#!/usr/bin/env bash
# tests/bench/run.sh [BUILD_DIR]: the performance benchmark of PERF.md, in
# one run on this machine: the fixed-body ceiling (lib/http.c), resellerd
# warm and cold, pgbench on resellerd's own lookup SQL, peak RSS and
# start-to-ready. Prints one line per figure and the ratios. Not a test.
# Env: BENCH_DURATION (s, default 8), BENCH_WARM_N (working set, 100000),
# BENCH_PGDIR (cluster, /tmp/resellerd-bench; kept between runs),
# BENCH_PG_OPTS (server options, default "-c shared_buffers=2GB").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
. "$ROOT/scripts/lib.sh"
EXTRA_PACKAGES="wrk postgresql-contrib" install_packages
DUR=${BENCH_DURATION:-8}
WARM_N=${BENCH_WARM_N:-100000}
CONN=32
POOL=8
PGDIR=${BENCH_PGDIR:-/tmp/resellerd-bench}
HERE="$ROOT/tests/bench"
for b in resellerd resellerctl tests/bench/bench-ceiling tests/bench/bench-print-sql tests/bench/bench-openloop; do
	[ -x "$BUILD/$b" ] || { echo "build first: $BUILD/$b is missing" >&2; exit 1; }
done

# shared_buffers as a production server would size it (the default 128 MB
# is far below the 1M-row dataset: every index insert and lookup then
# goes through the kernel's page cache). Restarted, so the setting holds.
export PG_EXTRA_OPTS=${BENCH_PG_OPTS:--c shared_buffers=2GB}
pg_stop "$PGDIR"
pg_start "$PGDIR" >/dev/null
SOCK="$PGDIR/sock"
psql -h "$SOCK" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='bench'" | grep -q 1 ||
	psql -h "$SOCK" -U postgres -d postgres -qc "CREATE DATABASE bench"
export DATABASE_URL="postgresql:///bench?host=$SOCK&user=postgres"
"$BUILD/resellerctl" migrate >/dev/null
if [ "$(psql "$DATABASE_URL" -tAc 'SELECT count(*) FROM zuora_subscriptions')" -lt 1000000 ]; then
	echo "seeding 1M subscriptions (SQL, once)..." >&2
	psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 -f "$HERE/seed.sql"
fi
# The audit log of earlier runs (millions of rows a run) would crowd the
# lookup tables out of shared_buffers: this is the bench's own database.
psql "$DATABASE_URL" -qc "TRUNCATE audit_log"
"$BUILD/resellerctl" token revoke bench >/dev/null 2>&1 || true
export BENCH_TOKEN=$("$BUILD/resellerctl" token create --name bench --scope read)

PIDS=()
# The cluster is stopped too: left running, it disturbs the next benchmark.
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; pg_stop "$PGDIR"; }
trap cleanup EXIT

# start_server NAME CMD...: run in the background, wait for its port.
start_server() {
	local log=/tmp/bench-$1.log
	shift
	"$@" >"$log" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	for _ in $(seq 1 500); do
		PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$log" | head -1 | cut -d: -f2 || true)
		[ -n "$PORT" ] && return 0
		sleep 0.01
	done
	echo "server did not start: $(tail -3 "$log")" >&2
	return 1
}

# wrk with one thread, as PERF.md's anchors were measured: it shares the
# two cores with the server, and a second wrk thread takes CPU from it.
wrk_run() { # URL N SCRIPT -> "rps p99"
	BENCH_N=$2 wrk -t1 -c$CONN -d${DUR}s --latency -s "$HERE/$3" "$1" | grep '^BENCH' | tail -1
}
field() { echo "$1" | tr ' ' '\n' | grep "^$2=" | cut -d= -f2; }
# Open loop (tests/bench/openloop.c): a fixed rate, latency counted from
# when each request fell due, so a stall is not hidden by wrk sending less
# during it. The rate is BENCH_OPEN_FRACTION (default 0.5) of the lower
# of the two closed-loop rates in the same mode (the ceiling's alone drove
# resellerd at 72-100% of its own capacity when the ceiling ran fast, and
# the figure then measured saturation), the same for ceiling and resellerd.
OPEN_FRACTION=${BENCH_OPEN_FRACTION:-0.5}
open_run() { # PORT RATE N -> "rps p50 p90 p99 p999 max errors"
	"$BUILD/tests/bench/bench-openloop" "$1" $CONN "$2" "$DUR" "$3" "$BENCH_TOKEN" | grep '^BENCH' | sed 's/^BENCH //'
}

# exec, so that $PID in start_server is resellerd itself (for kill and
# /proc/PID/status), not a subshell that would leave resellerd running.
resellerd_env() {
	exec env RESELLERD_LISTEN=127.0.0.1:0 RESELLERD_SYNC_INTERVAL=0 RESELLERD_DB_POOL_SIZE=$POOL "$@" "$BUILD/resellerd"
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(date -u +%Y-%m-%d)"
for MODE in 0 2; do
	label=$([ $MODE = 0 ] && echo "thread-per-connection" || echo "pool-2+turbo, the default")
	# The ceiling stays up (idle) while resellerd is measured, for its
	# open-loop run at the rate both closed-loop figures give.
	start_server ceiling "$BUILD/tests/bench/bench-ceiling" 0 $MODE
	CEIL_PID=$PID CEIL_PORT=$PORT
	CEIL=$(wrk_run "http://127.0.0.1:$PORT" 1 lookup.lua)

	start_server warm resellerd_env RESELLERD_HTTP_THREADS=$MODE RESELLERD_DECISION_CACHE_MB=4096 RESELLERD_LOG_LEVEL=${BENCH_LOG_LEVEL:-info}
	BENCH_N=$WARM_N wrk -t1 -c8 -d$(( WARM_N / 4000 + 5 ))s -s "$HERE/warm.lua" "http://127.0.0.1:$PORT" >/dev/null
	WARM=$(wrk_run "http://127.0.0.1:$PORT" "$WARM_N" lookup.lua)
	RATE=$(awk -v a="$(field "$CEIL" rps)" -v b="$(field "$WARM" rps)" -v f="$OPEN_FRACTION" \
		'BEGIN{printf "%d", (a < b ? a : b) * f}')
	OPEN_WARM=$(open_run "$PORT" "$RATE" "$WARM_N")
	HITS=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^resellerd_decision_cache_(hits|misses)_total/{print $2}' | paste -sd' ')
	kill "$PID"; wait "$PID" 2>/dev/null || true
	OPEN_CEIL=$(open_run "$CEIL_PORT" "$RATE" 1)
	kill "$CEIL_PID"; wait "$CEIL_PID" 2>/dev/null || true
	echo "ceiling   [$label]: $CEIL"
	echo "ceiling   [$label, open loop at $RATE req/s]: $OPEN_CEIL"
	echo "warm      [$label]: $WARM (working set $WARM_N of 1M; cache hits/misses $HITS)"
	echo "warm      [$label, open loop at $RATE req/s]: $OPEN_WARM (p99 target < 2 ms)"
	echo "ratio warm/ceiling [$label]: $(awk -v a="$(field "$WARM" rps)" -v b="$(field "$CEIL" rps)" 'BEGIN{printf "%.2f", a/b}') (target >= 0.80, p99 < 2 ms)"
done

# Cold means "decision cache off", for both sides under the same
# conditions: the database's buffer cache warm (pg_prewarm: random ids over
# 1M rows would otherwise measure the kernel's page cache, and whoever runs
# first warms it for the other), each side warmed up before it is timed
# (fresh backends fault in the shared_buffers pages they touch), and
# pgbench with the generic plan that resellerd's sessions use
# (plan_cache_mode=force_generic_plan, lib/store.c).
PGOPTIONS="-c client_min_messages=warning" psql "$DATABASE_URL" -qc "CREATE EXTENSION IF NOT EXISTS pg_prewarm"
psql "$DATABASE_URL" -qAtc "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c
	WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i')" >/dev/null
start_server cold resellerd_env RESELLERD_DECISION_CACHE_MB=0 RESELLERD_LOG_LEVEL=${BENCH_LOG_LEVEL:-info}
BENCH_N=1000000 wrk -t1 -c$CONN -d4s -s "$HERE/lookup.lua" "http://127.0.0.1:$PORT" >/dev/null
COLD=$(wrk_run "http://127.0.0.1:$PORT" 1000000 lookup.lua)
kill "$PID"; wait "$PID" 2>/dev/null || true
echo "cold      [default mode, cache off, pool $POOL]: $COLD"
"$BUILD/tests/bench/bench-print-sql" 1000000 >/tmp/bench-lookup.sql
pgb() { # SECONDS -> tps
	PGOPTIONS="-c plan_cache_mode=force_generic_plan" pgbench -n -M prepared -c $POOL -j 2 -T "$1" \
		-f /tmp/bench-lookup.sql "$DATABASE_URL" 2>/dev/null | awk '/^tps/{print $3; exit}'
}
pgb 4 >/dev/null
PGB=$(pgb "$DUR")
echo "pgbench   [same SQL, generic plan, $POOL connections]: tps=$PGB"
echo "ratio cold/pgbench: $(awk -v a="$(field "$COLD" rps)" -v b="$PGB" 'BEGIN{printf "%.2f", a/b}') (target >= 0.60)"

# Memory with default settings after serving random ids over all 1M.
start_server rss resellerd_env
wrk_run "http://127.0.0.1:$PORT" 1000000 lookup.lua >/dev/null
RSS=$(awk '/VmHWM/{print $2}' /proc/$PID/status)
kill "$PID"; wait "$PID" 2>/dev/null || true
echo "peak RSS  [defaults, 1M random lookups for ${DUR}s]: $((RSS / 1024)) MiB (target < 64)"

# Start to ready, migrations applied: a fixed port, so that nothing but
# curl polling /readyz sits between the exec and the first 200. The median
# of 5 starts (a single start lands on whatever the machine does then).
READY_PORT=${BENCH_READY_PORT:-18599}
READY=()
for _ in 1 2 3 4 5; do
	T0=$(date +%s%N)
	RESELLERD_LISTEN=127.0.0.1:$READY_PORT RESELLERD_SYNC_INTERVAL=0 "$BUILD/resellerd" >/tmp/bench-ready.log 2>&1 &
	PID=$!
	PIDS+=("$PID")
	until curl -sf "http://127.0.0.1:$READY_PORT/readyz" >/dev/null; do sleep 0.002; done
	T1=$(date +%s%N)
	kill "$PID"; wait "$PID" 2>/dev/null || true
	READY+=($(( (T1 - T0) / 1000000 )))
done
echo "ready in  $(printf '%s\n' "${READY[@]}" | sort -n | sed -n 3p) ms, median of 5 (${READY[*]}) (target < 200)"
