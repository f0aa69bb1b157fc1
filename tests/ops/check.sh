#!/usr/bin/env bash
# tests/ops/check.sh [--self-test] [ROOT]: static checks of docker/ and
# ops/ (ctest ops/static). No Docker engine is needed.
#
#  - tests/ops/check.py: Dockerfile rules (multi-stage, pinned bases, non-root
#    USER, HEALTHCHECK, COPY --from stages, build packages == scripts/lib.sh
#    RESELLERD_PACKAGES minus the PostgreSQL server, same cmake steps as
#    scripts/check), compose structure, Grafana dashboard and alert rules
#    (every metric and label exists in lib/metrics.c, every route label in
#    lib/handlers*.c).
#  - compose: `docker compose config -q` when the compose plugin exists,
#    else `docker-compose config -q` (v1, Debian's docker-compose), else the
#    python checks alone.
#  - hadolint docker/Dockerfile when installed (not in Debian).
#  - promtool (Debian package prometheus) when installed: `check rules` on
#    the alerts and on the dashboard queries, `test rules` on
#    ops/prometheus/alerts_test.yaml.
#  - --self-test: then breaks copies of the files on purpose and requires
#    each break to fail the checks.
#
# Needs python3 with PyYAML (Debian python3-yaml); exits 77 (ctest: skipped)
# without it.
set -euo pipefail
SELF_TEST=0
if [ "${1:-}" = --self-test ]; then SELF_TEST=1; shift; fi
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "${1:-$HERE/../..}" && pwd)
cd "$ROOT"

PY=
for p in /usr/bin/python3 python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import yaml' 2>/dev/null; then
		PY=$p
		break
	fi
done
if [ -z "$PY" ]; then
	echo "SKIP: python3 with PyYAML is missing (apt-get install python3-yaml)"
	exit 77
fi

TMP=$(mktemp -d /tmp/resellerd-ops.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
status=0
fail() { echo "FAIL - $*"; status=1; }

# scripts/lib.sh only defines variables and functions: sourcing is safe.
RESELLERD_PACKAGES=$(bash -c '. "$1/scripts/lib.sh" && echo "$RESELLERD_PACKAGES"' _ "$ROOT") ||
	fail "cannot source scripts/lib.sh"
export RESELLERD_PACKAGES
"$PY" "$HERE/check.py" "$ROOT" "$TMP/dashboard-rules.yaml" || status=1

if [ -n "${OPS_PYTHON_ONLY:-}" ]; then
	: # self-test of the python checks: external tools are checked on the real tree
elif docker compose version >/dev/null 2>&1; then
	docker compose -f docker/compose.yaml config -q && echo "ok - docker compose config -q" ||
		fail "docker compose config -q"
elif command -v docker-compose >/dev/null 2>&1; then
	# Compose v1 predates the top-level `name:`; everything else must pass
	# its schema. Validate a copy without it, in place of docker/.
	mkdir -p "$TMP/ctx/docker"
	sed '/^name:/d' docker/compose.yaml >"$TMP/ctx/docker/compose.yaml"
	if out=$(cd "$TMP/ctx" && docker-compose -f docker/compose.yaml config -q 2>&1); then
		echo "ok - docker-compose (v1) config -q"
	else
		echo "$out"
		fail "docker-compose (v1) config -q"
	fi
else
	echo "note - no compose client: compose checked by python only"
fi

if [ -n "${OPS_PYTHON_ONLY:-}" ]; then
	:
elif command -v hadolint >/dev/null 2>&1; then
	hadolint docker/Dockerfile && echo "ok - hadolint" || fail "hadolint docker/Dockerfile"
else
	echo "note - hadolint not installed: Dockerfile checked by python only"
fi

if [ -n "${OPS_PYTHON_ONLY:-}" ]; then
	:
elif command -v promtool >/dev/null 2>&1; then
	promtool check rules ops/prometheus/alerts.yaml >"$TMP/p.log" 2>&1 &&
		echo "ok - promtool check rules alerts.yaml" ||
		{ cat "$TMP/p.log"; fail "promtool check rules ops/prometheus/alerts.yaml"; }
	promtool check rules "$TMP/dashboard-rules.yaml" >"$TMP/p.log" 2>&1 &&
		echo "ok - promtool parses every dashboard query" ||
		{ cat "$TMP/p.log"; fail "promtool: dashboard queries"; }
	(cd ops/prometheus && promtool test rules alerts_test.yaml) >"$TMP/p.log" 2>&1 &&
		echo "ok - promtool test rules alerts_test.yaml" ||
		{ cat "$TMP/p.log"; fail "promtool test rules ops/prometheus/alerts_test.yaml"; }
else
	echo "note - promtool not installed (Debian: prometheus): alerts checked by python only"
fi

if [ "$SELF_TEST" = 1 ] && [ "$status" = 0 ]; then
	echo "== self-test: each deliberate break must fail the checks"
	# mutate NAME FILE PERL_EXPR: copy the inputs, break FILE, expect
	# failure. The python checks must catch these alone (fast: no external
	# tools); mutate_tools breaks what only promtool can see.
	mutate() { OPS_PYTHON_ONLY=1 mutate_tools "$@"; }
	mutate_tools() {
		local name=$1 file=$2 expr=$3 d="$TMP/m"
		rm -rf "$d"
		mkdir -p "$d/lib" "$d/scripts" "$d/tests"
		cp -r docker ops .dockerignore "$d/"
		cp -r tests/ops tests/simulator "$d/tests/"
		cp lib/metrics.c lib/handlers*.c "$d/lib/"
		cp scripts/lib.sh scripts/check "$d/scripts/"
		perl -0pi -e "$expr" "$d/$file"
		if cmp -s "$d/$file" "$file"; then
			fail "self-test [$name]: the mutation did not change $file"
			return
		fi
		if bash "$d/tests/ops/check.sh" "$d" >"$TMP/mut.log" 2>&1; then
			fail "self-test [$name]: checks passed on a broken $file"
		else
			echo "ok - self-test [$name] caught: $(grep -m1 '^FAIL' "$TMP/mut.log" | cut -c1-150)"
		fi
	}
	mutate "unknown metric in dashboard" ops/grafana/resellerd.json \
		's/resellerd_db_pool_waiting/resellerd_db_pool_queued/'
	mutate "unknown metric in alert" ops/prometheus/alerts.yaml \
		's/resellerd_sync_lag_seconds/resellerd_sync_delay_seconds/'
	mutate "unknown label in alert" ops/prometheus/alerts.yaml \
		's/code="503"/status="503"/'
	mutate "unknown route in alert" ops/prometheus/alerts.yaml \
		's{route="/readyz",code}{route="/ready",code}'
	mutate "metric renamed in lib/metrics.c" lib/metrics.c \
		's/resellerd_webhook_deliveries_total/resellerd_webhooks_total/g'
	mutate "package added to scripts/lib.sh" scripts/lib.sh \
		's/libpq-dev /libpq-dev libyaml-dev /'
	mutate "package dropped from Dockerfile" docker/Dockerfile \
		's/ libjansson-dev//'
	mutate "root user" docker/Dockerfile 's/USER 10001:10001\n(ENV)/USER root\n$1/'
	mutate "latest tag" docker/Dockerfile 's/debian:bookworm-slim AS/debian:latest AS/'
	mutate "COPY --from unknown stage" docker/Dockerfile 's/--from=sim-build/--from=simbuild/'
	mutate "no HEALTHCHECK" docker/Dockerfile 's/^HEALTHCHECK.*\n//m'
	mutate "plain http to a non-loopback host" docker/compose.yaml \
		's{ZUORA_BASE_URL: http://127.0.0.1:9000}{ZUORA_BASE_URL: http://simulator:9000}'
	mutate "simulator off resellerd's netns" docker/compose.yaml \
		's/(simulator:\n(?:.*\n)*?)    network_mode: "service:resellerd"\n/$1/'
	mutate "dashboard not JSON" ops/grafana/resellerd.json 's/\}\s*$//'
	mutate "missing alert" ops/prometheus/alerts.yaml 's/alert: ResellerdPoolSaturated/alert: PoolSaturated/'
	if command -v promtool >/dev/null 2>&1; then
		mutate_tools "PromQL syntax error in an alert" ops/prometheus/alerts.yaml \
			's/\) > 3600/) >> 3600/'
		mutate_tools "PromQL syntax error in the dashboard" ops/grafana/resellerd.json \
			's/histogram_quantile\(0.5, /histogram_quantile(0.5,, /'
		mutate_tools "alert that no longer fires" ops/prometheus/alerts.yaml \
			's/resellerd_db_pool_waiting\{job="resellerd"\}\) > 0/resellerd_db_pool_waiting{job="resellerd"}) > 5/'
	fi
fi
[ "$status" = 0 ] && echo "ops/static: all checks passed" || echo "ops/static: FAILED"
exit "$status"
