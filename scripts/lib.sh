# Shared by scripts/check and scripts/demo: install what is missing, build,
# and run a private PostgreSQL. Sourced, not executed.

# Debian 12 packages the build, the tests and the demo need.
RESELLERD_PACKAGES="build-essential cmake pkg-config git curl ca-certificates \
libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev libssl-dev libpq-dev \
libcmocka-dev postgresql-15 postgresql-client-15"
# What only the tests need (scripts/check): static checks of docker/ and
# ops/ (python3-yaml, promtool) and the browser test (chromium).
RESELLERD_TEST_PACKAGES="python3 python3-yaml prometheus chromium openssl"

say() { printf '==> %s\n' "$*" >&2; }

install_packages() {
	local missing="" p
	for p in $RESELLERD_PACKAGES ${EXTRA_PACKAGES:-}; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		say "missing packages:$missing (run as root, or install them)"
		return 1
	fi
	say "installing:$missing"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# pg_bin: the PostgreSQL 15 server binaries.
pg_bin() {
	local d
	for d in /usr/lib/postgresql/15/bin /usr/local/bin /usr/bin; do
		# return 0, not a bare return: in an EXIT trap a bare return
		# gives the script's exit status, and pg_stop then stopped nothing
		[ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && { echo "$d"; return 0; }
	done
	say "PostgreSQL server binaries not found"
	return 1
}

# as_pg CMD...: initdb refuses root, so run the server as postgres.
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_start DIR: a private cluster in DIR (created when missing), unix
# socket only, trust auth on that socket. Exports DATABASE_URL and
# RESELLERD_TEST_PGDIR. PG_EXTRA_OPTS adds server options ("-c name=value
# ..."), applied when this call starts the server.
pg_start() {
	local dir=$1 bin
	bin=$(pg_bin) || return 1
	mkdir -p "$dir"
	if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
	chmod 700 "$dir"
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
			--no-locale >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
	fi
	as_pg mkdir -p "$dir/sock"
	chmod 755 "$dir" 2>/dev/null || true
	if ! as_pg "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
		as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
			-o "-c listen_addresses='' -c unix_socket_directories='$dir/sock' -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${PG_EXTRA_OPTS:-}" \
			start >/dev/null || { tail -20 "$dir/server.log" >&2; return 1; }
	fi
	as_pg "$bin/psql" -h "$dir/sock" -U postgres -d postgres -tAc \
		"SELECT 1 FROM pg_database WHERE datname = 'resellerd'" | grep -q 1 ||
		as_pg "$bin/psql" -h "$dir/sock" -U postgres -d postgres -qc "CREATE DATABASE resellerd" >/dev/null
	export DATABASE_URL="postgresql:///resellerd?host=$dir/sock&user=postgres"
	export RESELLERD_TEST_PGDIR="$dir"
}

pg_stop() {
	local dir=$1 bin
	bin=$(pg_bin) || return 1
	[ -f "$dir/data/PG_VERSION" ] || return 0
	# fast, and immediate if fast did not finish: a cluster left running
	# holds its port and memory
	as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -t 20 -w stop >/dev/null 2>&1 ||
		as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
}

# build DIR [cmake args...]
build() {
	local dir=$1
	shift
	cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$dir.configure.log" 2>&1 ||
		{ cat "$dir.configure.log" >&2; return 1; }
	cmake --build "$dir" -j "$(nproc)" 2>&1 | grep -Ev '^\[ *[0-9]+%\]|^(gmake|make)\[[0-9]+\]: (Entering|Leaving)' || true
	test "${PIPESTATUS[0]}" = 0
}

# contract_deps: Node.js and the npm packages pinned in
# tests/contract/package-lock.json (@redocly/cli, ajv, ajv-formats, yaml)
# for the contract/* tests. npm ci runs only when node_modules is missing
# or the lock changed since the last install (its hash is kept in
# node_modules). @redocly/cli 2.x needs node 20.19+ or 22.12+: Debian 12's
# own nodejs (18) is too old, so an older one is an error, not a skip.
contract_deps() {
	local dir="$ROOT/tests/contract" stamp sum out
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		if [ "$(id -u)" != 0 ]; then
			say "node and npm are missing: install Node.js >= 20.19 with npm (or run as root)"
			return 1
		fi
		say "installing: nodejs npm"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
	fi
	if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
		process.exit((a === 20 && b >= 19) || (a === 22 && b >= 12) || a >= 23 ? 0 : 1)'; then
		say "node $(node --version) is too old for tests/contract (@redocly/cli needs 20.19+ or 22.12+)"
		return 1
	fi
	sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
	stamp="$dir/node_modules/.resellerd-lock.sha256"
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && return 0
	say "npm ci in tests/contract (pinned by package-lock.json)"
	if ! out=$(npm ci --prefix "$dir" --no-audit --no-fund 2>&1); then
		printf '%s\n' "$out" >&2
		say "npm ci --prefix tests/contract failed (is the npm registry reachable?)"
		return 1
	fi
	echo "$sum" >"$stamp"
}

# e2e_deps: playwright-core pinned in tests/e2e (drives Debian's chromium;
# it never downloads a browser).
e2e_deps() {
	local dir="$ROOT/tests/e2e" sum stamp
	sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
	stamp="$dir/node_modules/.resellerd-lock.sha256"
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && return 0
	say "npm ci in tests/e2e (pinned by package-lock.json)"
	npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund >/dev/null
	echo "$sum" >"$stamp"
}
