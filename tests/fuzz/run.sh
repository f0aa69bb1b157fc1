#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] [TARGET...]: build the libFuzzer targets with
# clang (ASan + UBSan) and fuzz each for SECONDS (default 600), starting
# from its committed corpus. New inputs land in build-fuzz/corpus/NAME
# (copy interesting ones into tests/fuzz/corpus/NAME); a crash leaves its
# input in build-fuzz/crashes/ and fails the run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/scripts/lib.sh"
EXTRA_PACKAGES="clang libclang-rt-14-dev" install_packages
SECS=${1:-600}
shift || true
cd "$ROOT"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DRESELLERD_FUZZ=ON \
	-DSANITIZER=address,undefined,fuzzer-no-link >/dev/null
targets=${*:-$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')}
cmake --build build-fuzz -j "$(nproc)" --target $targets >/dev/null
mkdir -p build-fuzz/crashes
status=0
for t in $targets; do
	name=${t#fuzz_}
	mkdir -p "build-fuzz/corpus/$name"
	echo "==> $t for ${SECS}s"
	if ! "build-fuzz/tests/fuzz/$t" -max_total_time="$SECS" -rss_limit_mb=512 -timeout=1 \
		-artifact_prefix="build-fuzz/crashes/$name-" -print_final_stats=1 \
		"build-fuzz/corpus/$name" "tests/fuzz/corpus/$name" 2>"build-fuzz/$name.log"; then
		echo "$t FAILED: see build-fuzz/$name.log and build-fuzz/crashes/" >&2
		status=1
	fi
	grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+ *DONE' "build-fuzz/$name.log" | tr '\n' ' '
	echo
done
exit $status
