#!/usr/bin/env bash
# tests/e2e/run.sh BUILD_DIR SOURCE_DIR: the lookup page (GET /) in Debian's
# headless Chromium, driven by playwright-core (tests/e2e/lookup.test.mjs).
#
# Needs the private PostgreSQL of scripts/check (RESELLERD_TEST_PGDIR, socket
# at $RESELLERD_TEST_PGDIR/sock, user postgres), node, /usr/bin/chromium and
# `npm ci --prefix tests/e2e`. Creates a fresh database loaded with
# tests/fixtures, a read token, starts BUILD_DIR/resellerd on an ephemeral
# port, runs the browser test, then stops the server and drops the database.
# Screenshots: ${RESELLERD_E2E_ARTIFACTS:-/tmp}/lookup-*.png.
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: tests/e2e/run.sh BUILD_DIR SOURCE_DIR" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
E2E=$SRC/tests/e2e
CHROMIUM=${RESELLERD_E2E_CHROMIUM:-/usr/bin/chromium}

fail() {
	printf 'e2e: %s\n' "$*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

# ===== What the test needs, each missing piece named =====
[ -n "${RESELLERD_TEST_PGDIR:-}" ] ||
	fail "RESELLERD_TEST_PGDIR is not set: run through scripts/check, or start one with scripts/pg start DIR"
PGSOCK=$RESELLERD_TEST_PGDIR/sock
[ -d "$PGSOCK" ] || fail "no PostgreSQL socket directory at $PGSOCK"
command -v node >/dev/null || fail "node is not installed (Node.js 20 or later)"
[ -f "$E2E/node_modules/playwright-core/package.json" ] ||
	fail "tests/e2e/node_modules is missing: run 'npm ci --prefix tests/e2e' first"
[ -x "$CHROMIUM" ] || fail "no Chromium at $CHROMIUM: apt-get install chromium"
for b in resellerd resellerctl; do
	[ -x "$BUILD/$b" ] || fail "$BUILD/$b is missing: build first"
done
PSQL=$(command -v psql || true)
[ -n "$PSQL" ] || PSQL=/usr/lib/postgresql/15/bin/psql
[ -x "$PSQL" ] || fail "psql is not installed (postgresql-client-15)"

DB=e2e_$$_$(date +%s)
ADMIN_URL="postgresql:///postgres?host=$PGSOCK&user=postgres"
DB_URL="postgresql:///$DB?host=$PGSOCK&user=postgres"
WORK=$(mktemp -d /tmp/resellerd-e2e.XXXXXX)
LOG=$WORK/resellerd.log
SERVER_PID=
DB_CREATED=

stop_server() {
	local i
	[ -n "$SERVER_PID" ] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null || true
	for i in $(seq 1 100); do
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SERVER_PID" 2>/dev/null; then
		echo "e2e: resellerd did not stop on SIGTERM within 10 s: killed" >&2
		kill -KILL "$SERVER_PID" 2>/dev/null || true
	fi
	SERVER_STATUS=0
	wait "$SERVER_PID" 2>/dev/null || SERVER_STATUS=$?
	SERVER_PID=
}

cleanup() {
	stop_server
	if [ -n "$DB_CREATED" ]; then
		"$PSQL" "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 \
			-c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 ||
			echo "e2e: could not drop database $DB" >&2
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ===== A fresh database with the fixtures and a read token =====
"$PSQL" "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB" >/dev/null ||
	fail "cannot create database $DB at $PGSOCK"
DB_CREATED=1
DATABASE_URL=$DB_URL "$BUILD/resellerctl" migrate >/dev/null || fail "resellerctl migrate failed"
"$PSQL" "$DB_URL" -qX -v ON_ERROR_STOP=1 -f "$SRC/tests/fixtures/channels.sql" >/dev/null ||
	fail "loading tests/fixtures/channels.sql failed"
DATABASE_URL=$DB_URL "$BUILD/resellerctl" partners import "$SRC/tests/fixtures/partners.csv" >/dev/null ||
	fail "resellerctl partners import failed"
TOKEN=$(DATABASE_URL=$DB_URL "$BUILD/resellerctl" token create --name e2e --scope read) ||
	fail "resellerctl token create failed"
[ -n "$TOKEN" ] || fail "resellerctl token create printed no token"

# ===== resellerd on an ephemeral port, no upstreams, no background sync =====
env -u ZUORA_BASE_URL -u ZUORA_CLIENT_ID -u ZUORA_CLIENT_SECRET \
	-u SALESFORCE_LOGIN_URL -u SALESFORCE_CLIENT_ID -u SALESFORCE_CLIENT_SECRET \
	DATABASE_URL="$DB_URL" RESELLERD_LISTEN=127.0.0.1:0 RESELLERD_SYNC_INTERVAL=0 \
	RESELLERD_LOG_LEVEL=info "$BUILD/resellerd" >"$LOG" 2>&1 &
SERVER_PID=$!
PORT=
for _ in $(seq 1 200); do
	PORT=$(grep -m1 'listening on' "$LOG" 2>/dev/null | grep -o '"server\.port":[0-9]*' |
		grep -o '[0-9]*$' || true)
	[ -n "$PORT" ] && break
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.05
done
if [ -z "$PORT" ]; then
	tail -20 "$LOG" >&2 || true
	fail "resellerd did not report its port (see its log above)"
fi
BASE=http://127.0.0.1:$PORT
echo "e2e: resellerd at $BASE (database $DB)"

# ===== The browser test =====
rc=0
(cd "$E2E" && RESELLERD_E2E_BASE=$BASE RESELLERD_E2E_TOKEN=$TOKEN \
	RESELLERD_E2E_CHROMIUM=$CHROMIUM node lookup.test.mjs) || rc=$?

SERVER_STATUS=0
stop_server
if [ "$SERVER_STATUS" != 0 ]; then
	tail -20 "$LOG" >&2 || true
	echo "e2e: resellerd exited with status $SERVER_STATUS after SIGTERM" >&2
	[ "$rc" != 0 ] || rc=1
fi
if [ "$rc" != 0 ]; then
	echo "e2e: resellerd log (last 20 lines):" >&2
	tail -20 "$LOG" >&2 || true
fi
exit "$rc"
