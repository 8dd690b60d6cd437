# Shared helpers for integration tests (bash).  Source it:  . tests/lib.sh
# Servers are started on private loopback ports under a per-test temp dir and
# stopped by PID in the EXIT trap; waits poll with a bounded count.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
BUILD=${BUILD:-build}
ROOT=$(pwd)
BIN=$ROOT/$BUILD/bin
T=$(mktemp -d /tmp/chanrac-test.XXXXXX)
PIDS=()
TEST_PASSED=0
TEST_FAILED=0

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	if [ "${KEEP_TMP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

ok() { echo "ok - $*"; TEST_PASSED=$((TEST_PASSED + 1)); }
not_ok() { echo "not ok - $*"; TEST_FAILED=$((TEST_FAILED + 1)); }
# check NAME CMD...: ok if CMD succeeds
check() { local n=$1; shift; if "$@"; then ok "$n"; else not_ok "$n"; fi; }
# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   expected: $2"; echo "#   actual:   $3"; fi
}
# expect_rc NAME RC CMD...: ok if CMD exits with RC
expect_rc() {
	local n=$1 want=$2 got; shift 2
	"$@" >"$T/last.out" 2>"$T/last.err"; got=$?
	if [ "$got" = "$want" ]; then ok "$n"; else
		not_ok "$n (exit $got, want $want)"; sed 's/^/#   /' "$T/last.out" "$T/last.err" | head -n 10
	fi
}
# wait_for SECONDS CMD...: polls CMD every 0.05 s until it succeeds or time runs out
wait_for() {
	local secs=$1 i n; shift
	n=$((secs * 20))
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}
# free_port: a loopback TCP port nobody listens on (random in 20000-59999)
free_port() {
	local p i
	# Below the kernel's ephemeral range (32768-60999 by default), so a
	# client connection's local port never takes the port we pick.
	for i in $(seq 1 100); do
		p=$((10000 + RANDOM % 22000))
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return 0; fi
	done
	return 1
}
# start_redis: starts a private redis-server; sets REDIS_PORT, REDIS_PID, REDIS_DIR
start_redis() {
	REDIS_PORT=${1:-$(free_port)}
	REDIS_DIR=$T/redis-$REDIS_PORT
	mkdir -p "$REDIS_DIR"
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" \
		--save "" --appendonly no --daemonize no --protected-mode yes \
		--logfile "$REDIS_DIR/redis.log" ${REDIS_EXTRA:-} &
	REDIS_PID=$!
	PIDS+=("$REDIS_PID")
	wait_for 10 redis-cli -p "$REDIS_PORT" ping || { echo "# redis did not start"; return 1; }
}
stop_redis() {
	kill "$REDIS_PID" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$REDIS_PID" 2>/dev/null || return 0; sleep 0.05; done
	kill -9 "$REDIS_PID" 2>/dev/null
}
# write_conf FILE: a chanrac.conf pointing at the private redis, plus any extra
# lines given on stdin
write_conf() {
	{
		echo "[redis]"
		echo "host = 127.0.0.1"
		echo "port = $REDIS_PORT"
		cat
	} >"$1"
}
# finish: prints nothing more; exits non-zero if any check failed
finish() { [ "$TEST_FAILED" -eq 0 ]; exit $?; }
