#!/bin/bash
# Runs chanrac's tests: every check(3) unit binary in $BUILD/tests and every
# integration script tests/integration/*.sh, then the end-to-end scripts
# tests/e2e/*.sh (run with the integration ones).  Each test prints "ok - NAME" or
# "not ok - NAME" lines; unit binaries are counted from check's summary.
# The last line is "N passed, N failed".  Usage: tests/run.sh [unit|integration] [FILTER]
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
what=${1:-all}
filter=${2:-}
passed=0
failed=0
failed_names=()

run_unit() {
	local bin out checks fails errs
	for bin in "$BUILD"/tests/test_*; do
		[ -x "$bin" ] || continue
		case "$bin" in *"$filter"*) ;; *) continue ;; esac
		out=$(CK_FORK=yes CK_DEFAULT_TIMEOUT=30 timeout 300 "$bin" 2>&1)
		echo "$out" | grep -E '^[^:]+:[0-9]+:[EF]:' || true
		# check prints: "100%: Checks: 12, Failures: 0, Errors: 0"
		local line
		line=$(echo "$out" | grep -E 'Checks: [0-9]+' | tail -n 1)
		if [ -z "$line" ]; then
			echo "not ok - $(basename "$bin") (no summary; crashed?)"
			echo "$out" | tail -n 5
			failed=$((failed + 1)); failed_names+=("$(basename "$bin")")
			continue
		fi
		checks=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
		fails=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
		errs=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
		local bad=$((fails + errs))
		passed=$((passed + checks - bad))
		failed=$((failed + bad))
		if [ "$bad" -eq 0 ]; then
			echo "ok - $(basename "$bin"): $checks checks"
		else
			echo "not ok - $(basename "$bin"): $bad of $checks checks failed"
			failed_names+=("$(basename "$bin")")
		fi
		san_check "$(basename "$bin")"
	done
}

# Under sanitizers (make check-asan), every report goes to a file of its own;
# a report found after a test is a failure of that test.
SANDIR=""
if [ "${SANITIZED:-0}" = 1 ]; then
	SANDIR=$(mktemp -d /tmp/chanrac-san.XXXXXX)
	mkdir -p "$SANDIR/seen"
	export ASAN_OPTIONS="${ASAN_OPTIONS:-}:log_path=$SANDIR/asan"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$SANDIR/ubsan"
	echo "# sanitizer reports go to $SANDIR"
fi
# san_check NAME: counts the reports written since the last call against NAME.
san_check() {
	local f
	[ -n "$SANDIR" ] || return 0
	for f in "$SANDIR"/asan.* "$SANDIR"/ubsan.*; do
		[ -e "$f" ] || continue
		echo "not ok - $1: sanitizer report $(basename "$f")"
		grep -m 12 -E 'ERROR|runtime error|SUMMARY|#[0-9] ' "$f" | sed 's/^/#   /'
		mv "$f" "$SANDIR/seen/"
		failed=$((failed + 1))
		failed_names+=("$1")
	done
}

run_integration() {
	local t out rc p f
	for t in tests/integration/*.sh tests/e2e/*.sh; do
		[ -f "$t" ] || continue
		case "$t" in *"$filter"*) ;; *) continue ;; esac
		echo "# $t"
		out=$(timeout 900 bash "$t" 2>&1)
		rc=$?
		echo "$out" | grep -E '^(ok|not ok|#)' || true
		p=$(echo "$out" | grep -cE '^ok ')
		f=$(echo "$out" | grep -cE '^not ok ')
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			echo "not ok - $t exited $rc"
			echo "$out" | tail -n 15
			f=1
		fi
		[ "$f" -gt 0 ] && failed_names+=("$t")
		passed=$((passed + p))
		failed=$((failed + f))
		san_check "$t"
	done
}

case "$what" in
unit) run_unit ;;
integration) run_integration ;;
all) run_unit; run_integration ;;
*) echo "usage: $0 [unit|integration|all] [FILTER]" >&2; exit 2 ;;
esac

if [ "${#failed_names[@]}" -gt 0 ]; then
	echo "# failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
