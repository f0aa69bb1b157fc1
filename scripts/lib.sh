# Shared by scripts/check and scripts/demo: install what is missing, build,
# and run a private PostgreSQL. Sourced, not executed.

# Debian 12 packages the build, the tests and the demo need.
RESELLERD_PACKAGES="build-essential cmake pkg-config git curl ca-certificates \
libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev libssl-dev libpq-dev \
libcmocka-dev postgresql-15 postgresql-client-15 \
python3 python3-yaml prometheus"

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
		[ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && { echo "$d"; return; }
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
# RESELLERD_TEST_PGDIR.
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
			-o "-c listen_addresses='' -c unix_socket_directories='$dir/sock' -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
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
	as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
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
