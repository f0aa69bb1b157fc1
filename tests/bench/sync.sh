#!/usr/bin/env bash
# tests/bench/sync.sh [BUILD_DIR]: PERF.md target 3 in one command (a
# benchmark, not a test). Per run, on a private PostgreSQL:
#   1. an empty database, migrated; the simulator generating N subscriptions
#      (seed 1); `resellerctl sync --full` timed end to end: wall time,
#      rows/s, subscriptions/s;
#   2. the COPY anchor in the same run: the subscriptions just loaded are
#      dumped (COPY TO), then COPY FROM into a scratch table with the same
#      columns and indexes (no triggers), timed: rows/s, and the ratio
#      subscriptions/s (sync) / rows/s (COPY) (target >= 0.40);
#   3. an incremental run after 1% of the accounts, contacts, subscriptions
#      and quotes changed upstream (POST /_sim/data with newer timestamps):
#      its wall time (target < 2 s) and a check that every change arrived.
# Prints one line per figure per run, then the medians.
# Env: SYNC_N (subscriptions, 1000000), SYNC_RUNS (3),
#      SYNC_PGDIR (cluster, /tmp/resellerd-bench-sync; kept between runs),
#      SYNC_ARGS (extra `resellerctl sync` arguments, e.g. "--batch-size 1000"),
#      BENCH_PG_OPTS (server options, default "-c shared_buffers=2GB").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
. "$ROOT/scripts/lib.sh"
N=${SYNC_N:-1000000}
RUNS=${SYNC_RUNS:-3}
PGDIR=${SYNC_PGDIR:-/tmp/resellerd-bench-sync}
SIM=$BUILD/tests/simulator/upstream-sim
CTL=$BUILD/resellerctl
for b in "$CTL" "$SIM"; do
	[ -x "$b" ] || { echo "build first (with -DRESELLERD_TESTS=ON): $b is missing" >&2; exit 1; }
done

# shared_buffers as a production server would size it (the default 128 MB
# is far below the 1M-row dataset: every index insert and lookup then
# goes through the kernel's page cache). Restarted, so the setting holds.
export PG_EXTRA_OPTS=${BENCH_PG_OPTS:--c shared_buffers=2GB}
pg_stop "$PGDIR"
pg_start "$PGDIR" >/dev/null
SOCK="$PGDIR/sock"
ADMIN="postgresql:///postgres?host=$SOCK&user=postgres"
DBURL="postgresql:///syncbench?host=$SOCK&user=postgres"
WORK=$(mktemp -d /tmp/resellerd-sync-bench.XXXXXX)
chmod 755 "$WORK"
SIM_PID=
cleanup() {
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
	rm -rf "$WORK"
	# A cluster left running checkpoints the 3.7M-row load for minutes
	# and disturbs whatever is measured next (the lookup bench lost a
	# third of its warm rate beside it).
	pg_stop "$PGDIR"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b - a}'; }
q() { psql "$DBURL" -X -v ON_ERROR_STOP=1 -qtAc "$1"; }
median() { sort -g | awk '{a[NR]=$1} END{if (NR % 2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

start_sim() {
	"$SIM" --port 0 --generate "$N" --seed 1 >"$WORK/sim.out" 2>"$WORK/sim.err" &
	SIM_PID=$!
	for _ in $(seq 1 500); do
		SIM_PORT=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$WORK/sim.out" | cut -d: -f2 || true)
		[ -n "$SIM_PORT" ] && return 0
		sleep 0.01
	done
	echo "simulator did not start: $(tail -3 "$WORK/sim.err")" >&2
	return 1
}
stop_sim() { kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; SIM_PID=; }

# run_sync ARGS...: resellerctl --json sync against the simulator; JSON in $WORK/sync.json.
run_sync() {
	local base="http://127.0.0.1:$SIM_PORT"
	env DATABASE_URL="$DBURL" ZUORA_BASE_URL="$base" SALESFORCE_LOGIN_URL="$base" \
		ZUORA_CLIENT_ID=zuora-client ZUORA_CLIENT_SECRET=zuora-secret \
		SALESFORCE_CLIENT_ID=sf-client SALESFORCE_CLIENT_SECRET=sf-secret \
		RESELLERD_LOG_LEVEL=${SYNC_LOG_LEVEL:-warn} \
		"$CTL" --json sync "$@" ${SYNC_ARGS:-} >"$WORK/sync.json" 2>"$WORK/sync.err" || {
		echo "sync failed: $(cat "$WORK/sync.json") $(tail -5 "$WORK/sync.err")" >&2
		return 1
	}
}
json_field() { grep -o "\"$1\":[0-9.]*" "$WORK/sync.json" | head -1 | cut -d: -f2; }
# objects: "Account=N rows S s (db S s); ..." from the last sync's JSON.
objects() {
	grep -o '"object":"[A-Za-z_]*","state":"[a-z_]*","rows":[0-9]*,"pages":[0-9]*,"rejected":[0-9]*,"seconds":[0-9.]*,"db_seconds":[0-9.]*' "$WORK/sync.json" |
		sed -E 's/"object":"([^"]*)","state":"[^"]*","rows":([0-9]*),"pages":[0-9]*,"rejected":[0-9]*,"seconds":([0-9.]*),"db_seconds":([0-9.]*)/\1=\2 rows \3 s (db \4 s)/' | paste -sd';' | sed 's/;/; /g'
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $N subscriptions, $RUNS runs; $(date -u +%Y-%m-%dT%H:%M:%SZ)"
: >"$WORK/subs_rate" >"$WORK/rows_rate" >"$WORK/copy_rate" >"$WORK/ratio" >"$WORK/incr" >"$WORK/wall"
for run in $(seq 1 "$RUNS"); do
	psql "$ADMIN" -X -qc "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS syncbench" -c "CREATE DATABASE syncbench" >/dev/null
	DATABASE_URL="$DBURL" "$CTL" migrate >/dev/null
	start_sim

	# 1. full sync into the empty database
	t0=$(now)
	run_sync --full
	t1=$(now)
	wall=$(elapsed "$t0" "$t1")
	rows=$(json_field rows)
	subs=$(q "SELECT count(*) FROM zuora_subscriptions")
	[ "$subs" = "$N" ] || { echo "expected $N subscriptions, found $subs" >&2; exit 1; }
	subs_rate=$(awk -v n="$subs" -v t="$wall" 'BEGIN{printf "%.0f", n / t}')
	rows_rate=$(awk -v n="$rows" -v t="$wall" 'BEGIN{printf "%.0f", n / t}')
	objs=$(objects)
	echo "run $run full sync: $wall s wall, $rows rows ($rows_rate rows/s), $subs subscriptions ($subs_rate subscriptions/s)"
	echo "run $run   objects: $objs"

	# 2. the COPY anchor: the same subscription rows, COPY FROM into a
	# scratch table with the same columns and indexes.
	psql "$DBURL" -X -v ON_ERROR_STOP=1 -qc "\\copy zuora_subscriptions TO '$WORK/subs.copy'"
	q "CREATE TABLE copy_anchor (LIKE zuora_subscriptions INCLUDING ALL)"
	q "TRUNCATE copy_anchor; CHECKPOINT"
	t0=$(now)
	psql "$DBURL" -X -v ON_ERROR_STOP=1 -qc "\\copy copy_anchor FROM '$WORK/subs.copy'"
	t1=$(now)
	copy_s=$(elapsed "$t0" "$t1")
	copy_rate=$(awk -v n="$subs" -v t="$copy_s" 'BEGIN{printf "%.0f", n / t}')
	ratio=$(awk -v a="$subs_rate" -v b="$copy_rate" 'BEGIN{printf "%.2f", a / b}')
	q "DROP TABLE copy_anchor"
	echo "run $run COPY anchor: $subs rows in $copy_s s ($copy_rate rows/s); ratio sync subscriptions/s / COPY rows/s = $ratio (target >= 0.40)"

	# 3. incremental: 1% of each object changes upstream, with timestamps
	# newer than anything stored.
	q "SELECT json_build_object(
	     'zuora', json_build_object(
	       'subscriptions', (SELECT json_agg(json_build_object('Id', id, 'Status', 'Cancelled',
	           'UpdatedDate', to_char((timestamptz '2026-01-01Z' + k * interval '1 s') AT TIME ZONE 'UTC',
	                                  'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) ORDER BY k)
	         FROM (SELECT id, row_number() OVER (ORDER BY number) AS k FROM zuora_subscriptions
	               WHERE right(number, 2) = '37') s),
	       'accounts', (SELECT json_agg(json_build_object('Id', id, 'Name', name || ' (renamed)',
	           'UpdatedDate', to_char((timestamptz '2026-01-01Z' + k * interval '1 s') AT TIME ZONE 'UTC',
	                                  'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) ORDER BY k)
	         FROM (SELECT id, name, row_number() OVER (ORDER BY number) AS k FROM zuora_accounts
	               WHERE right(number, 2) = '37') a),
	       'contacts', (SELECT json_agg(json_build_object('Id', c.id, 'LastName', 'Changed',
	           'UpdatedDate', to_char((timestamptz '2026-01-01Z' + k * interval '1 s') AT TIME ZONE 'UTC',
	                                  'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) ORDER BY k)
	         FROM (SELECT c.id, row_number() OVER (ORDER BY a.number) AS k FROM zuora_contacts c
	               JOIN zuora_accounts a ON a.id = c.account_id WHERE right(a.number, 2) = '37') c)),
	     'salesforce', json_build_object(
	       'quotes', (SELECT json_agg(json_build_object('Id', id, 'zqu__Status__c', 'Changed',
	           'SystemModstamp', to_char((timestamptz '2026-01-01Z' + k * interval '1 s') AT TIME ZONE 'UTC',
	                                     'YYYY-MM-DD\"T\"HH24:MI:SS\".000+0000\"')) ORDER BY k)
	         FROM (SELECT id, row_number() OVER (ORDER BY subscription_number) AS k FROM sf_quotes
	               WHERE right(subscription_number, 2) = '37') q)))" >"$WORK/change.json"
	changed=$(q "SELECT (SELECT count(*) FROM zuora_subscriptions WHERE right(number, 2) = '37')
	               + (SELECT count(*) FROM zuora_accounts WHERE right(number, 2) = '37')
	               + (SELECT count(*) FROM zuora_contacts c JOIN zuora_accounts a ON a.id = c.account_id
	                  WHERE right(a.number, 2) = '37')
	               + (SELECT count(*) FROM sf_quotes WHERE right(subscription_number, 2) = '37')")
	curl -sf -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/change.json" \
		"http://127.0.0.1:$SIM_PORT/_sim/data" >/dev/null
	# Steady state, as every incremental after the first load: without
	# this, autovacuum's first pass over the 3.7M rows just loaded runs
	# during the timed incremental and competes for the two cores; and
	# the checkpoint that the load and the vacuum owe (gigabytes of dirty
	# buffers) is written now, not by the checkpointer during the timed run.
	q "VACUUM (ANALYZE)"
	q "CHECKPOINT"
	t0=$(now)
	run_sync
	t1=$(now)
	incr=$(elapsed "$t0" "$t1")
	irows=$(json_field rows)
	seen=$(q "SELECT (SELECT count(*) FROM zuora_subscriptions WHERE status = 'Cancelled'
	                   AND source_updated_at >= '2026-01-01Z')
	            + (SELECT count(*) FROM zuora_accounts WHERE name LIKE '% (renamed)')
	            + (SELECT count(*) FROM zuora_contacts WHERE last_name = 'Changed')
	            + (SELECT count(*) FROM sf_quotes WHERE status = 'Changed')")
	[ "$seen" = "$changed" ] || { echo "incremental: $changed rows changed upstream, $seen arrived" >&2; exit 1; }
	echo "run $run incremental (1%: $changed changed rows, $irows rows read): $incr s (target < 2 s)"
	echo "run $run   objects: $(objects)"
	stop_sim

	echo "$wall" >>"$WORK/wall"
	echo "$subs_rate" >>"$WORK/subs_rate"
	echo "$rows_rate" >>"$WORK/rows_rate"
	echo "$copy_rate" >>"$WORK/copy_rate"
	echo "$ratio" >>"$WORK/ratio"
	echo "$incr" >>"$WORK/incr"
done
echo "median of $RUNS: full sync $(median <"$WORK/wall") s, $(median <"$WORK/subs_rate") subscriptions/s, $(median <"$WORK/rows_rate") rows/s;" \
	"COPY $(median <"$WORK/copy_rate") rows/s; ratio $(median <"$WORK/ratio") (target >= 0.40);" \
	"incremental $(median <"$WORK/incr") s (target < 2)"
