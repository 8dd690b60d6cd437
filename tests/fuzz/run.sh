#!/bin/bash
# Runs every libFuzzer target of tests/fuzz for a bounded time.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     (default 20 s each, every target)
# For each target it ALWAYS first replays the seed corpus (tests/fuzz/corpus/T,
# plus the repository's own samples: tests/corpus/**/*.eml for msg and arf,
# conf/chanrac.conf for conf) and every crash kept in tests/fuzz/regress/T/; then
# it fuzzes for SECONDS in a scratch corpus seeded with all of those.  A crash
# found is copied to $FUZZ_OUT (default /tmp/chanrac-fuzz-out) to be kept in
# tests/fuzz/regress/T/ once fixed.  Prints one "ok - fuzz T: N execs, 0 crashes"
# or "not ok - ..." line per target and ends with "N passed, N failed".
# Binaries come from $FUZZ_BUILD (default build-fuzz; `make fuzz` builds them).
set -u
cd "$(dirname "$0")/../.."
secs=${1:-20}
shift || true
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
FUZZ_OUT=${FUZZ_OUT:-/tmp/chanrac-fuzz-out}
RSS_MB=${FUZZ_RSS_MB:-2048}
TIMEOUT=${FUZZ_TIMEOUT:-10}
case "$secs" in ''|*[!0-9]*) echo "run.sh: SECONDS must be a number, not \"$secs\"" >&2; exit 2 ;; esac

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do
		t=${f#tests/fuzz/fuzz_}
		targets+=("${t%.c}")
	done
fi

# The extra seeds of a target, one path a line.
extra_seeds() {
	case "$1" in
	msg) find tests/corpus -name '*.eml' -type f ;;
	arf) find tests/corpus/arf -name '*.eml' -type f ;;
	conf) echo conf/chanrac.conf ;;
	esac
}

passed=0
failed=0
work=$(mktemp -d /tmp/chanrac-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=1:abort_on_error=0:allocator_may_return_null=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:print_stacktrace=1:halt_on_error=1"

for t in "${targets[@]}"; do
	bin=$FUZZ_BUILD/fuzz_$t
	log=$work/$t.log
	if [ ! -x "$bin" ]; then
		echo "not ok - fuzz $t: $bin missing (make fuzz FUZZ_BUILD=$FUZZ_BUILD)"
		failed=$((failed + 1))
		continue
	fi
	mapfile -t seeds < <( { find "tests/fuzz/corpus/$t" "tests/fuzz/regress/$t" -type f 2>/dev/null; extra_seeds "$t"; } | sort)
	# 1. Replay: every seed and every kept crash, once each.
	if [ ${#seeds[@]} -gt 0 ] &&
	   ! timeout $((60 + ${#seeds[@]} * TIMEOUT)) "$bin" -rss_limit_mb="$RSS_MB" \
		-timeout="$TIMEOUT" "${seeds[@]}" >"$log" 2>&1; then
		echo "not ok - fuzz $t: replay of ${#seeds[@]} seeds/regressions failed"
		grep -E 'ERROR|SUMMARY|invariant|Running:' "$log" | tail -n 8 | sed 's/^/# /'
		failed=$((failed + 1))
		continue
	fi
	if [ "$secs" -eq 0 ]; then
		echo "ok - fuzz $t: replayed ${#seeds[@]} inputs, 0 crashes"
		passed=$((passed + 1))
		continue
	fi
	# 2. Fuzz for a bounded time from a scratch copy of the seeds.
	mkdir -p "$work/$t" "$FUZZ_OUT/$t"
	touch "$work/$t.stamp"
	[ ${#seeds[@]} -gt 0 ] && cp "${seeds[@]}" "$work/$t/" 2>/dev/null
	timeout $((secs + 120)) "$bin" -max_total_time="$secs" -rss_limit_mb="$RSS_MB" \
		-timeout="$TIMEOUT" -print_final_stats=1 -artifact_prefix="$FUZZ_OUT/$t/" \
		"$work/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	cov=$(sed -n 's/.*DONE *cov: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	crashes=$(find "$FUZZ_OUT/$t" -newer "$work/$t.stamp" -type f \( -name 'crash-*' -o -name 'leak-*' \
		-o -name 'timeout-*' -o -name 'oom-*' \) 2>/dev/null | wc -l)
	if [ "$rc" -eq 0 ] && [ -n "$execs" ] && [ "$crashes" -eq 0 ]; then
		echo "ok - fuzz $t: $execs execs, 0 crashes (${secs}s, ${#seeds[@]} seeds, ${cov:-?} edges)"
		passed=$((passed + 1))
	else
		echo "not ok - fuzz $t: ${execs:-?} execs, $crashes crashes (exit $rc; inputs in $FUZZ_OUT/$t)"
		grep -E 'ERROR|SUMMARY|invariant' "$log" | tail -n 6 | sed 's/^/# /'
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
