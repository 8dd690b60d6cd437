#!/bin/bash
# chanrac-milter driven by Debian's miltertest (Lua scripts in tests/integration/
# milter/) with a real redis-server, a real chanrac-rbld serving the shared lists,
# and fakedns for SPF records and misbehaving DNSBLs: listed client rejected with
# the configured reply, clean mail accepted with the three headers, a listed URL
# domain scores, SPF pass/fail/none, an error-code answer is no listing, a DNSBL
# that never answers still gives a verdict by the deadline (fail mode accept, and
# tempfail after a SIGUSR1 reload), the session cap, privilege drop, and Redis
# stopped mid-test (mail still accepted, failure logged, counts kept).  Our zones
# are asked of chanrac-rbld through their own [dnsbl] dns_servers, and the listed
# client's reject text carries the entry's reason from the zone's TXT.
. "$(dirname "$0")/../lib.sh"

LUA=$ROOT/tests/integration/milter
FAKEDNS=$ROOT/$BUILD/tests/tools/fakedns
need_bin chanrac-milter chanrac-rbld chanrac
[ -x "$FAKEDNS" ] || { not_ok "$FAKEDNS is built (make BUILD=$BUILD all $BUILD/tests/tools/fakedns)"; finish; }
need_cmd miltertest kdig

# the milters run as nobody and reload their configuration from here
chmod 755 "$T"
start_redis || { not_ok "redis starts"; finish; }
ok "redis on 127.0.0.1:$REDIS_PORT"

# --- chanrac-rbld serving the shared lists from Redis -----------------------
RBL_PORT=$(free_port)
write_conf "$T/chanrac.conf" <<EOF2
[log]
syslog = no
level = info
[cli]
source = test
$(conf_rbld "$RBL_PORT")
EOF2
cr() { "$BIN/chanrac" -c "$T/chanrac.conf" "$@"; }
dig_a() { kdig @127.0.0.1 -p "$RBL_PORT" +time=1 +retry=0 +short "$1" A 2>/dev/null; }
start_rbld "$T/chanrac.conf" || { not_ok "chanrac-rbld starts"; finish; }
ok "chanrac-rbld answers on 127.0.0.1:$RBL_PORT"
cr list add 192.0.2.77 --list spam-ip --reason 'milter test listing of $, see https://bl.chanrac.test/q/$' >/dev/null &&
	cr list add quangcao-spam.vn --list spam-domain --reason "spam landing page" >/dev/null ||
	{ not_ok "chanrac list add"; finish; }
if wait_for 10 sh -c "kdig @127.0.0.1 -p $RBL_PORT +time=1 +retry=0 +short 77.2.0.192.bl.chanrac.test A | grep -q 127.0.0.2" &&
	wait_for 10 sh -c "kdig @127.0.0.1 -p $RBL_PORT +time=1 +retry=0 +short quangcao-spam.vn.dbl.chanrac.test A | grep -q 127.0.0"; then
	ok "listings reach chanrac-rbld"
else
	not_ok "listings reach chanrac-rbld"; finish
fi

# --- fakedns: SPF records, and an error-code DNSBL -----------------------------
mkfifo "$T/fakedns.in"
exec 7<>"$T/fakedns.in"
"$FAKEDNS" \
	'pass.test TXT rr pass.test. 60 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"' \
	'fail.test TXT rr fail.test. 60 IN TXT "v=spf1 -all"' \
	'55.2.0.192.err.test A rr 55.2.0.192.err.test. 60 IN A 127.255.255.254' \
	'56.2.0.192.err.test A rr 56.2.0.192.err.test. 60 IN A 127.0.0.2' \
	<"$T/fakedns.in" >"$T/fakedns.out" 2>"$T/fakedns.err" &
PIDS+=("$!")
wait_for 5 test -s "$T/fakedns.out" || { not_ok "fakedns starts"; finish; }
FAKE_PORT=$(head -n 1 "$T/fakedns.out")

# --- milter A: our zones ask rbld ([dnsbl] dns_servers), the rest fakedns -------
MPORT=$(free_port)
DELIST=https://bl.chanrac.test/delist
cat "$T/chanrac.conf" >"$T/milter-a.conf"
cat >>"$T/milter-a.conf" <<EOF2
[engine]
dns_servers = 127.0.0.1:$FAKE_PORT
deadline = 3s
authserv_id = mx.chanrac.test
reject_text = Rejected: %{zone} lists you (%{reason}); to be delisted see %{delist_url}
[dnsbl bl.chanrac.test]
type = ip
rule = RBL_CHANRAC
weight = 20
delist_url = $DELIST
dns_servers = 127.0.0.1:$RBL_PORT
txt = yes
[dnsbl dbl.chanrac.test]
type = domain
rule = DBL_CHANRAC
weight = 3
dns_servers = 127.0.0.1:$RBL_PORT
[dnsbl err.test]
type = ip
rule = ERR_TEST
weight = 4
selftest = no
[milter]
socket = inet:$MPORT@127.0.0.1
user = nobody
pid_file = $T/milter-a.pid
max_sessions = 3
stats_interval = 100ms
stats_timeout = 200ms
stats_retry_max = 1s
EOF2
start_milter "$T/milter-a.conf" "$T/milter-a.log" || { not_ok "chanrac-milter A starts"; finish; }
MPID=$MILTER_PID
ok "chanrac-milter A listens on 127.0.0.1:$MPORT"
# The socket answers before the milter has dropped root and written its pid
# file (a moment, long under valgrind): wait for both.
wait_for 10 sh -c "[ \"\$(ps -o user= -p $MPID | tr -d ' ')\" = nobody ] && [ -s '$T/milter-a.pid' ]"
expect_eq "milter A dropped root to nobody" "nobody" "$(ps -o user= -p "$MPID" | tr -d ' ')"
expect_eq "milter A wrote its pid file" "$MPID" "$(cat "$T/milter-a.pid" 2>/dev/null)"

# mt SCRIPT SOCK [-D NAME=VALUE...]: runs one Lua script, forwards its lines
mt() {
	local script=$1 sock=$2 rc; shift 2
	miltertest -s "$LUA/$script" -D "SOCK=$sock" -D "DIR=$LUA" "$@" >"$T/mt.out" 2>&1
	rc=$?
	grep -E '^(ok|not ok|#)' "$T/mt.out"
	if [ "$rc" -ne 0 ]; then
		not_ok "$script ran to the end (exit $rc)"; sed 's/^/#   /' "$T/mt.out" | tail -n 5
	fi
	return $rc
}
SOCK_A="inet:$MPORT@127.0.0.1"

mt clean.lua "$SOCK_A"
check "log line: queue id, client, score, rules, action, ms" \
	grep -qE 'CLEANQ1: client=192\.0\.2\.10\[client\.example\] helo=mail\.pass\.test .*score=-?[0-9.]+ rules=.* action=accept ms=[0-9]+' "$T/milter-a.log"

check "chanrac-rbld answers the listing's TXT with its reason" sh -c \
	"kdig @127.0.0.1 -p $RBL_PORT +time=1 +retry=0 +short 77.2.0.192.bl.chanrac.test TXT | grep -qF 'milter test listing of 192.0.2.77'"
mt listed.lua "$SOCK_A" -D "REPLY=Rejected: bl.chanrac.test lists you (192.0.2.77 listed in bl.chanrac.test (127.0.0.2): milter test listing of 192.0.2.77, see https://bl.chanrac.test/q/192.0.2.77); to be delisted see $DELIST"
check "log line of the reject names the rule, action and reply" \
	grep -qE 'LISTEDQ1: client=192\.0\.2\.77.* rules=[^ ]*RBL_CHANRAC=20.* action=reject ms=[0-9]+.* reply="Rejected: bl\.chanrac\.test' "$T/milter-a.log"
mt url.lua "$SOCK_A"
mt spf.lua "$SOCK_A"
mt errcode.lua "$SOCK_A"
mt cap.lua "$SOCK_A"
check "the session over the cap is logged" grep -q "connection from 192.0.2.24 passed unchecked: 3 sessions open (max_sessions 3)" "$T/milter-a.log"

# --- statistics in Redis, then Redis stopped mid-test ----------------------------
DAYKEY="cr:{st}:day:$(date -u +%F)"
rtotal() { redis-cli -p "$REDIS_PORT" hget "$DAYKEY" msg.total; }
# clean 1 + listed 1 + url 2 + spf 3 + errcode 2 = 9 messages so far
if wait_for 5 sh -c "[ \"\$(redis-cli -p $REDIS_PORT hget '$DAYKEY' msg.total)\" = 9 ]"; then
	ok "stats: 9 messages counted in $DAYKEY"
else
	not_ok "stats: 9 messages counted (msg.total=$(rtotal))"
fi
expect_eq "stats: one reject counted" "1" "$(redis-cli -p "$REDIS_PORT" hget "$DAYKEY" msg.reject)"
# the errcode control message is tagged: ERR_TEST 4 + SPF_NONE 0.5 + R10 0.5 (its
# From domain has no DMARC policy and is not aligned with a passing identity)
expect_eq "stats: seven accepts counted" "7" "$(redis-cli -p "$REDIS_PORT" hget "$DAYKEY" msg.accept)"
expect_eq "stats: one tag counted" "1" "$(redis-cli -p "$REDIS_PORT" hget "$DAYKEY" msg.tag)"
ttl=$(redis-cli -p "$REDIS_PORT" ttl "$DAYKEY")
check "stats: the day key expires in about 400 days ($ttl s)" test "$ttl" -gt 34000000

stop_redis
mt clean.lua "$SOCK_A" -D QID=DOWNQ1 | sed 's/clean:/redis down:/'
check "redis down: the message is logged as accepted" grep -q "DOWNQ1: client=.* action=accept" "$T/milter-a.log"
if wait_for 5 grep -q "stats: redis 127.0.0.1:$REDIS_PORT: .*kept in memory, retrying" "$T/milter-a.log"; then
	ok "redis down: the stats failure is logged"
else
	not_ok "redis down: the stats failure is logged"
fi
check "redis down: the milter is still running" kill -0 "$MPID"
start_redis "$REDIS_PORT" >/dev/null
if wait_for 10 sh -c "[ \"\$(redis-cli -p $REDIS_PORT hget '$DAYKEY' msg.total)\" = 1 ]"; then
	ok "redis back: the count kept in memory is written"
else
	not_ok "redis back: the count kept in memory is written (msg.total=$(rtotal))"
fi
check "redis back: recovery logged" grep -q "stats: redis 127.0.0.1:$REDIS_PORT reachable again" "$T/milter-a.log"

# --- milter B: every DNS server silent; verdict by the deadline --------------------
python3 -c 'import socket,sys,time
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0))
print(s.getsockname()[1], flush=True); time.sleep(3600)' >"$T/silent.port" &
PIDS+=("$!")
wait_for 5 test -s "$T/silent.port" || { not_ok "silent dns starts"; finish; }
SILENT=$(head -n 1 "$T/silent.port")
BPORT=$(free_port)
write_b() {
	write_conf "$T/milter-b.conf" <<EOF2
[log]
syslog = no
[engine]
dns_servers = 127.0.0.1:$SILENT
deadline = 1s
fail_mode = $1
[dnsbl bl.chanrac.test]
type = ip
[dnsbl dbl.chanrac.test]
type = domain
[milter]
socket = inet:$BPORT@127.0.0.1
user = nobody
stats = no
EOF2
}
write_b accept
start_milter "$T/milter-b.conf" "$T/milter-b.log" || { not_ok "milter B starts"; finish; }
BPID=$MILTER_PID
t0=$(date +%s%N)
mt deadline.lua "inet:$BPORT@127.0.0.1" -D QID=SLOWQ1 -D EXPECT=accept
el=$(( ($(date +%s%N) - t0) / 1000000 ))
check "deadline: whole miltertest run within deadline + 1.5 s (${el} ms)" test "$el" -lt 2500
ms=$(sed -n 's/.*SLOWQ1: .* ms=\([0-9]*\).*/\1/p' "$T/milter-b.log")
check "deadline: the check waited for the deadline and no longer (ms=$ms)" \
	test -n "$ms" -a "${ms:-0}" -ge 900 -a "${ms:-0}" -le 1300
check "deadline: log says accept, degraded dns" grep -qE "SLOWQ1: .*action=accept .*degraded=dns_timeout,dns_failed" "$T/milter-b.log"

# reload (SIGUSR1) into fail_mode = tempfail
write_b tempfail
kill -USR1 "$BPID"
if wait_for 5 grep -q "reload: configuration $T/milter-b.conf loaded" "$T/milter-b.log"; then
	ok "SIGUSR1 reloads the configuration"
else
	not_ok "SIGUSR1 reloads the configuration"
fi
mt deadline.lua "inet:$BPORT@127.0.0.1" -D QID=SLOWQ2 -D EXPECT=tempfail \
	-D "REPLY=Temporary failure checking the message; try again later"
check "deadline: log says tempfail" grep -qE "SLOWQ2: .*action=tempfail .*reply=" "$T/milter-b.log"
# a bad configuration keeps the running one
echo "no_such_key = 1" >>"$T/milter-b.conf"
kill -USR1 "$BPID"
if wait_for 5 grep -q "reload: .*keeping the running configuration" "$T/milter-b.log"; then
	ok "a bad configuration on reload keeps the running one"
else
	not_ok "a bad configuration on reload keeps the running one"
fi
check "milter B still running after the failed reload" kill -0 "$BPID"

# --- stop: SIGTERM ends both cleanly, pid file removed ------------------------------
kill "$MPID"
if wait_for 10 sh -c "! kill -0 $MPID 2>/dev/null"; then ok "SIGTERM stops the milter"; else not_ok "SIGTERM stops the milter"; fi
check "the milter logged no crash" sh -c "! grep -qiE 'segfault|abort|assert' '$T/milter-a.log'"

finish
