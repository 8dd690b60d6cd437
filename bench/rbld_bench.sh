#!/bin/bash
# rbld_bench.sh: chanrac-rbld against Debian's rbldnsd on the same generated data
# (1M IPv4 hosts, 50k IPv4 CIDRs, 50k IPv6 /64s, 200k domains) and the same query
# mix, each server pinned to CPU 1 and dnsperf to CPU 0.  Prints, per server: cold
# load time from dataset files, RSS, and qps / lost queries over alternating
# rounds with dnsperf (which, on 2 cores, saturates before the servers do) and
# with tests/tools/rbl_load (a batching client that does saturate them), each
# round with the server's and the client's CPU time per answered query (the
# figures to compare on a shared machine); the qps ratios; then chanrac-rbld's
# cold load of the same entries from Redis, with the CPU time it and
# redis-server spent on it.  A third server, bench/null_dns.c (the same
# recvmmsg/sendmmsg loop with no lookup: each query sent back as an empty
# NXDOMAIN), runs the same rounds: its rate over rbldnsd's is the ceiling of the
# ratio for any server on the kernel's UDP sockets here.  Usage: bench/rbld_bench.sh [SECONDS_PER_ROUND] [ROUNDS]
# Env: BUILD (default build), DATA (data dir, generated if missing), CPU_SERVER,
# CPU_CLIENT, DNSPERF_OPTS.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BUILD=${BUILD:-build}
SECS=${1:-10}
ROUNDS=${2:-3}
CPU_SERVER=${CPU_SERVER:-1}
CPU_CLIENT=${CPU_CLIENT:-0}
DNSPERF_OPTS=${DNSPERF_OPTS:--c 8 -q 1000 -T 1}
DATA=${DATA:-/tmp/chanrac-bench-data}
GEN=$ROOT/bench/gen_dnsbl_data.py
RBLD=$ROOT/$BUILD/bin/chanrac-rbld
CLI=$ROOT/$BUILD/bin/chanrac
T=$(mktemp -d /tmp/rbld-bench.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
for tool in dnsperf rbldnsd kdig taskset python3; do
	command -v "$tool" >/dev/null || { echo "rbld_bench: $tool is not installed" >&2; exit 1; }
done
[ -x "$RBLD" ] || { echo "rbld_bench: build $RBLD first (make BUILD=$BUILD)" >&2; exit 1; }
if [ ! -s "$DATA/queries.txt" ]; then
	echo "# generating the data set in $DATA"
	python3 "$GEN" "$DATA" || exit 1
fi
chmod -R a+rX "$DATA"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ms() { date +%s%3N; }
answers() { kdig @127.0.0.1 -p "$1" +time=1 +retry=0 2.0.0.127.bl.test A 2>/dev/null | grep -q 'status: NOERROR'; }
wait_up() { # wait_up PORT: polls every 10 ms, up to 60 s
	local i
	for i in $(seq 1 6000); do answers "$1" && return 0; sleep 0.01; done
	return 1
}
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

P_CR=$(port)
P_RB=$(port)
cat >"$T/rbld.conf" <<EOF
[log]
syslog = no
[rbld]
listen = 127.0.0.1:$P_CR
user = nobody
[zone bl.test]
type = ip
files = ip4trie:$DATA/ip4.rbldnsd ip6trie:$DATA/ip6.rbldnsd
[zone dbl.test]
type = domain
files = dnset:$DATA/dom.rbldnsd
EOF

echo "# data: $(wc -l <"$DATA/ip4.rbldnsd") ip4 lines, $(wc -l <"$DATA/ip6.rbldnsd") ip6 lines," \
	"$(wc -l <"$DATA/dom.rbldnsd") dnset lines, $(wc -l <"$DATA/queries.txt") queries"
echo "# dnsperf $DNSPERF_OPTS -l $SECS on CPU $CPU_CLIENT; servers on CPU $CPU_SERVER; $ROUNDS rounds each, alternating"

# Cold loads: wall time from exec to the first answer (both bind before loading).
t0=$(ms)
taskset -c "$CPU_SERVER" "$RBLD" -c "$T/rbld.conf" -f 2>"$T/rbld.log" &
CR=$!
PIDS+=("$CR")
wait_up "$P_CR" || { echo "chanrac-rbld did not start"; cat "$T/rbld.log"; exit 1; }
load_cr=$(($(ms) - t0))
t0=$(ms)
taskset -c "$CPU_SERVER" rbldnsd -n -b "127.0.0.1/$P_RB" -w "$DATA" -t 60 -u rbldns \
	bl.test:ip4trie:ip4.rbldnsd bl.test:ip6trie:ip6.rbldnsd dbl.test:dnset:dom.rbldnsd \
	>"$T/rbldnsd.log" 2>&1 &
RB=$!
PIDS+=("$RB")
wait_up "$P_RB" || { echo "rbldnsd did not start"; cat "$T/rbldnsd.log"; exit 1; }
load_rb=$(($(ms) - t0))
load_rb_own=$(sed -n 's/.*zones reloaded, time \([0-9.]*\)e.*/\1/p' "$T/rbldnsd.log")

# The null responder: the same core, the same rounds.
P_NULL=$(port)
cc -std=c11 -O2 -Wall -Wextra -Werror -o "$T/null_dns" "$ROOT/bench/null_dns.c" ||
	{ echo "rbld_bench: cannot build bench/null_dns.c" >&2; exit 1; }
taskset -c "$CPU_SERVER" "$T/null_dns" "$P_NULL" &
NL=$!
PIDS+=("$NL")
for i in $(seq 1 500); do
	kdig @127.0.0.1 -p "$P_NULL" +time=1 +retry=0 x.test A 2>/dev/null | grep -q NXDOMAIN && break
	sleep 0.01
done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# CPU time per answered query (microseconds): the server's from its /proc ticks,
# the client's from bash's time (user + sys).  On loopback the kernel work of
# delivering a datagram is charged to the sender, so each side also pays for
# the other's receive path.
TIMEFORMAT='%U %S'
us_per_q() { # us_per_q CPU-SECONDS QPS
	python3 -c 'import sys; c, q, s = map(float, sys.argv[1:]); print("%.2f" % (c * 1e6 / (q * s) if q > 0 else 0))' "$1" "$2" "$SECS"
}
run() { # run PORT PID -> "qps lost server-cpu-% server-us/q client-us/q"
	local a b q c
	a=$(ticks "$2")
	{ time taskset -c "$CPU_CLIENT" dnsperf -s 127.0.0.1 -p "$1" -d "$DATA/queries.txt" -l "$SECS" \
		$DNSPERF_OPTS >"$T/perf.out" 2>&1; } 2>"$T/time.out"
	b=$(ticks "$2")
	q=$(sed -n 's/.*Queries per second: *\([0-9.]*\).*/\1/p' "$T/perf.out")
	c=$(awk '{print $1 + $2}' "$T/time.out")
	echo "$q $(sed -n 's/.*Queries lost: *\([0-9]*\).*/\1/p' "$T/perf.out")" \
		"$(((b - a) / SECS)) $(us_per_q "$(((b - a)))e-2" "$q") $(us_per_q "$c" "$q")"
}
run_load() { # run_load PORT PID -> the same, with the batching client
	local a b q c
	a=$(ticks "$2")
	{ time taskset -c "$CPU_CLIENT" "$LOAD" 127.0.0.1 "$1" "$DATA/queries.txt" "$SECS" 2000 \
		>"$T/load.out" 2>&1; } 2>"$T/time.out"
	b=$(ticks "$2")
	q=$(awk '{print $8}' "$T/load.out")
	c=$(awk '{print $1 + $2}' "$T/time.out")
	echo "$q $(awk '{print $6}' "$T/load.out") $(((b - a) / SECS))" \
		"$(us_per_q "$(((b - a)))e-2" "$q") $(us_per_q "$c" "$q")"
}
declare -a Q_CR Q_RB Q_NL L_CR L_RB L_NL
lost_cr=0
lost_rb=0
for r in $(seq 1 "$ROUNDS"); do
	set -- $(run "$P_CR" "$CR"); Q_CR+=("$1"); lost_cr=$((lost_cr + $2))
	echo "# round $r dnsperf chanrac-rbld: $1 q/s, $2 lost, server CPU $3% ($4 us/query), dnsperf $5 us/query"
	set -- $(run "$P_RB" "$RB"); Q_RB+=("$1"); lost_rb=$((lost_rb + $2))
	echo "# round $r dnsperf rbldnsd:      $1 q/s, $2 lost, server CPU $3% ($4 us/query), dnsperf $5 us/query"
	set -- $(run "$P_NULL" "$NL"); Q_NL+=("$1")
	echo "# round $r dnsperf null_dns:     $1 q/s, $2 lost, server CPU $3% ($4 us/query), dnsperf $5 us/query"
done
LOAD=$ROOT/$BUILD/tests/tools/rbl_load
[ -x "$LOAD" ] || make -s BUILD="$BUILD" "$BUILD/tests/tools/rbl_load" >/dev/null
llost_cr=0
llost_rb=0
for r in $(seq 1 "$ROUNDS"); do
	set -- $(run_load "$P_CR" "$CR"); L_CR+=("$1"); llost_cr=$((llost_cr + $2))
	echo "# round $r rbl_load chanrac-rbld: $1 q/s, $2 lost, server CPU $3% ($4 us/query), client $5 us/query"
	set -- $(run_load "$P_RB" "$RB"); L_RB+=("$1"); llost_rb=$((llost_rb + $2))
	echo "# round $r rbl_load rbldnsd:      $1 q/s, $2 lost, server CPU $3% ($4 us/query), client $5 us/query"
	set -- $(run_load "$P_NULL" "$NL"); L_NL+=("$1")
	echo "# round $r rbl_load null_dns:     $1 q/s, $2 lost, server CPU $3% ($4 us/query), client $5 us/query"
done
best() { printf '%s\n' "$@" | sort -g | tail -n 1; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
bc_cr=$(best "${Q_CR[@]}")
bc_rb=$(best "${Q_RB[@]}")
printf '%-14s %12s %12s %8s %10s %10s %10s\n' server "best q/s" "median q/s" lost "RSS KiB" "HWM KiB" "load ms"
printf '%-14s %12.0f %12.0f %8d %10d %10d %10d\n' chanrac-rbld "$bc_cr" "$(median "${Q_CR[@]}")" \
	"$lost_cr" "$(rss "$CR")" "$(hwm "$CR")" "$load_cr"
printf '%-14s %12.0f %12.0f %8d %10d %10d %10d\n' rbldnsd "$bc_rb" "$(median "${Q_RB[@]}")" \
	"$lost_rb" "$(rss "$RB")" "$(hwm "$RB")" "$load_rb"
echo "rbldnsd's own load time: ${load_rb_own:-?} s; chanrac-rbld's per file:"
sed -n 's/.*loaded \([a-z0-9]*\) \([^:]*\): \([0-9]*\) entries.* in \([0-9]*\) ms/  \1 \3 entries \4 ms/p' "$T/rbld.log"
python3 -c "import sys; print('dnsperf qps ratio chanrac-rbld/rbldnsd (best): %.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$bc_cr" "$bc_rb"
bl_cr=$(best "${L_CR[@]}")
bl_rb=$(best "${L_RB[@]}")
echo "server-bound (rbl_load, batching client): chanrac-rbld best $bl_cr q/s ($llost_cr lost)," \
	"rbldnsd best $bl_rb q/s ($llost_rb lost)"
python3 -c "import sys; print('server-bound qps ratio chanrac-rbld/rbldnsd (best): %.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$bl_cr" "$bl_rb"
bn_q=$(best "${Q_NL[@]}")
bn_l=$(best "${L_NL[@]}")
python3 -c "import sys; q, l, rq, rl = map(float, sys.argv[1:]); print('ceiling (null_dns, no lookup at all) / rbldnsd (best): dnsperf %.2f (%.0f q/s), rbl_load %.2f (%.0f q/s)' % (q / rq, q, l / rl, l))" "$bn_q" "$bn_l" "$bc_rb" "$bl_rb"
kill "$CR" "$RB" "$NL" 2>/dev/null

# Cold load of the same entries from Redis.
if [ -x "$CLI" ] && command -v redis-server >/dev/null; then
	RP=$(port)
	taskset -c "$CPU_CLIENT" redis-server --port "$RP" --bind 127.0.0.1 --dir "$T" --save "" \
		--appendonly no --logfile "$T/redis.log" &
	REDIS=$!
	PIDS+=("$REDIS")
	for _ in $(seq 1 200); do redis-cli -p "$RP" ping >/dev/null 2>&1 && break; sleep 0.05; done
	P2=$(port)
	cat >"$T/redis.conf" <<EOF
[log]
syslog = no
[redis]
port = $RP
[lists]
names = bl allow
[rbld]
listen = 127.0.0.1:$P2
user = nobody
[zone bl.test]
type = ip
lists = bl
[zone dbl.test]
type = domain
lists = bl
EOF
	t0=$(ms)
	"$CLI" -c "$T/redis.conf" list import "$DATA/plain.txt" --list bl --format plain --replace \
		>"$T/import.log" 2>&1 || { echo "import failed"; cat "$T/import.log"; exit 1; }
	echo "redis import of plain.txt: $(($(ms) - t0)) ms"
	sleep 1 # let Redis finish freeing the replaced list
	for r in $(seq 1 "$ROUNDS"); do
		t0=$(ms)
		rc0=$(ticks "$REDIS")
		taskset -c "$CPU_SERVER" "$RBLD" -c "$T/redis.conf" -f 2>"$T/rbld-redis.log" &
		CR2=$!
		PIDS+=("$CR2")
		wait_up "$P2" || { echo "chanrac-rbld (redis) did not start"; cat "$T/rbld-redis.log"; exit 1; }
		echo "chanrac-rbld cold load from Redis, run $r: $(($(ms) - t0)) ms to the first answer;" \
			"$(sed -n 's/.*\(loaded [0-9]* entries from Redis in [0-9]* ms ([0-9]* ms reading the snapshot\).*/\1)/p' "$T/rbld-redis.log")," \
			"RSS $(rss "$CR2") KiB, peak $(hwm "$CR2") KiB;" \
			"CPU: chanrac-rbld $(($(ticks "$CR2") * 10)) ms, redis-server $((($(ticks "$REDIS") - rc0) * 10)) ms"
		kill "$CR2"
		wait "$CR2" 2>/dev/null
	done
fi
