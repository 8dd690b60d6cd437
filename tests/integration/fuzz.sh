#!/bin/bash
# Fuzzing in the test suite: builds the libFuzzer targets of tests/fuzz with clang
# (make fuzz, ASan+UBSan) and runs tests/fuzz/run.sh, which replays every seed
# corpus and kept crash (tests/fuzz/regress/) and then fuzzes each target for
# FUZZ_SECONDS (default 15 s; 8 targets: about 2 min 15 s).  Under make check-asan
# (SANITIZED=1) only the replay runs: the targets are sanitized already.
. "$(dirname "$0")/../lib.sh"

if [ "$BUILD" = build ]; then FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}; else FUZZ_BUILD=${FUZZ_BUILD:-$BUILD-fuzz}; fi
export FUZZ_BUILD
secs=${FUZZ_SECONDS:-15}
[ "${SANITIZED:-0}" = 1 ] && secs=0

if ! command -v clang >/dev/null 2>&1; then
	not_ok "fuzz: clang missing (contrib/install-deps.sh installs clang and libclang-rt-14-dev)"
	finish
fi
if make -s fuzz FUZZ_BUILD="$FUZZ_BUILD" >"$T/build.log" 2>&1; then
	ok "fuzz: targets build (clang -fsanitize=fuzzer,address,undefined) into $FUZZ_BUILD"
else
	not_ok "fuzz: make fuzz FUZZ_BUILD=$FUZZ_BUILD failed"
	tail -n 15 "$T/build.log" | sed 's/^/# /'
	finish
fi

FUZZ_OUT=$T/out tests/fuzz/run.sh "$secs" >"$T/run.log" 2>&1
rc=$?
grep -E '^(ok|not ok|#)' "$T/run.log"
TEST_FAILED=$((TEST_FAILED + $(grep -c '^not ok' "$T/run.log")))
if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$T/run.log"; then
	not_ok "fuzz: tests/fuzz/run.sh exited $rc"
	tail -n 10 "$T/run.log" | sed 's/^/# /'
fi
finish
