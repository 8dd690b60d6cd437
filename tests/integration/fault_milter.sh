#!/bin/bash
# Faults around chanrac-milter, driven by miltertest (tests/integration/milter/
# verdicts.lua: one session per message, every verdict printed), with a real
# Redis (AOF, fsync always), chanrac-rbld and fakedns.  Each "do X -> expect Y,
# nothing lost":
#  - Redis killed (-9) and restarted under load -> every clean message accepted,
#    every listed one rejected, none lost, the day's counters exactly the number
#    of messages once Redis is back;
#  - Redis paused (SIGSTOP) -> every message within the [engine] deadline,
#    verdicts degraded (store) and accepted, listed ones still rejected, counts
#    written after SIGCONT;
#  - a DNSBL that never answers, answers SERVFAIL, or spoofs a listing (wrong ID,
#    wrong question, wrong source port) -> a verdict by the deadline, accept,
#    the spoofed listing never scores (a real listing does: the control);
#  - garbage on the milter socket -> only that session dropped, sessions beside
#    it and after it get their verdicts;
#  - SIGUSR1 with a broken configuration under load -> logged, the running one
#    kept, no message lost.
. "$(dirname "$0")/../lib.sh"

LUA=$ROOT/tests/integration/milter
FAKEDNS=$ROOT/$BUILD/tests/tools/fakedns
need_bin chanrac-milter chanrac-rbld chanrac
[ -x "$FAKEDNS" ] || { not_ok "$FAKEDNS is built (make BUILD=$BUILD all unit)"; finish; }
need_cmd miltertest kdig
chmod 755 "$T"
REDIS_EXTRA="--appendonly yes --appendfsync always"
start_redis || { not_ok "redis starts"; finish; }

RBL_PORT=$(free_port)
write_conf "$T/chanrac.conf" <<EOF2
[log]
syslog = no
[cli]
source = test
$(conf_rbld "$RBL_PORT")
EOF2
start_rbld "$T/chanrac.conf" || { not_ok "chanrac-rbld starts"; finish; }
"$BIN/chanrac" -c "$T/chanrac.conf" list add 192.0.2.77 --list spam-ip --reason "fault test" >/dev/null ||
	{ not_ok "chanrac list add"; finish; }
rbld_listed 77.2.0.192.bl.chanrac.test || { not_ok "the listing reaches chanrac-rbld"; finish; }

# fakedns: SPF of pass.test, and the misbehaving DNSBL spoof.test
mkfifo "$T/fakedns.in"
exec 7<>"$T/fakedns.in"
S=spoof.test
"$FAKEDNS" \
	'pass.test TXT rr pass.test. 60 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"' \
	"11.2.0.192.$S A drop" \
	"12.2.0.192.$S A servfail" \
	"13.2.0.192.$S A spoof-id" "13.2.0.192.$S A forge-a 127.0.0.2" "13.2.0.192.$S A nxdomain" \
	"14.2.0.192.$S A spoof-question" "14.2.0.192.$S A forge-a 127.0.0.2" "14.2.0.192.$S A nxdomain" \
	"15.2.0.192.$S A spoof-port" "15.2.0.192.$S A forge-a 127.0.0.2" "15.2.0.192.$S A nxdomain" \
	"16.2.0.192.$S A rr 16.2.0.192.$S. 60 IN A 127.0.0.2" \
	<"$T/fakedns.in" >"$T/fakedns.out" 2>"$T/fakedns.err" &
PIDS+=("$!")
wait_for 5 test -s "$T/fakedns.out" || { not_ok "fakedns starts"; finish; }
FAKE_PORT=$(head -n 1 "$T/fakedns.out")

MPORT=$(free_port)
DEADLINE_MS=2000
cat "$T/chanrac.conf" >"$T/milter.conf"
cat >>"$T/milter.conf" <<EOF2
[engine]
dns_servers = 127.0.0.1:$RBL_PORT 127.0.0.1:$FAKE_PORT
deadline = ${DEADLINE_MS}ms
store_timeout = 300ms
reject_text = Rejected as spam
[dnsbl bl.chanrac.test]
type = ip
rule = RBL_CHANRAC
weight = 20
[dnsbl $S]
type = ip
rule = SPOOF_TEST
weight = 20
selftest = no
[milter]
socket = inet:$MPORT@127.0.0.1
user = nobody
metrics_listen =
stats_interval = 100ms
stats_timeout = 200ms
stats_retry_max = 1s
EOF2
start_milter "$T/milter.conf" || { not_ok "chanrac-milter starts"; finish; }
MPID=$MILTER_PID
ok "redis, chanrac-rbld, fakedns and chanrac-milter running"
SOCK="inet:$MPORT@127.0.0.1"
DAYKEY="cr:{st}:day:$(date -u +%F)"
rtotal() { redis-cli -p "$REDIS_PORT" hget "$DAYKEY" msg.total 2>/dev/null; }

# run OUT TAG PAUSE IP...: verdicts.lua, one message per IP; verdict lines to OUT
run() {
	local out=$1 tag=$2 pause=$3; shift 3
	local ips; ips=$(IFS=,; echo "$*")
	miltertest -s "$LUA/verdicts.lua" -D "SOCK=$SOCK" -D "DIR=$LUA" -D "TAG=$tag" \
		-D "PAUSE=$pause" -D "IPS=$ips" >"$out" 2>&1
}
# ips N: N client addresses, every third one the listed 192.0.2.77
ips() { local i; for ((i = 1; i <= $1; i++)); do if ((i % 3 == 0)); then echo 192.0.2.77; else echo 192.0.2.10; fi; done; }
# tally OUT: "N clean-accepted C listed-rejected L other O"
tally() {
	awk '$2 == "verdict" { n++
		if ($4 == "192.0.2.10" && $5 == "accept") c++
		else if ($4 == "192.0.2.77" && $5 == "reject") l++
		else o++ }
		END { printf "%d %d %d %d\n", n, c, l, o }' "$1"
}

# --- 1. Redis killed and restarted under load ------------------------------------------
N1=60
run "$T/run1.out" KILLQ 0.05 $(ips $N1) &
RUN=$!
sleep 1
{ kill -9 "$REDIS_PID" && wait "$REDIS_PID"; } 2>/dev/null
sleep 1.5
start_redis "$REDIS_PORT" >/dev/null || not_ok "redis restarts"
wait "$RUN"
read -r n c l o <<<"$(tally "$T/run1.out")"
echo "# redis kill: $n verdicts, $c clean accepted, $l listed rejected, $o other"
expect_eq "redis killed under load: a verdict for each of the $N1 messages" "$N1" "$n"
expect_eq "redis killed under load: every clean message accepted, every listed one rejected" \
	"$((N1 - N1 / 3)) $((N1 / 3)) 0" "$c $l $o"
down=$(grep -cE 'KILLQ[0-9]+: .*degraded=[a-z_,]*store' "$T/milter.log")
check "redis killed under load: $down message(s) were checked while it was down (degraded=store)" test "$down" -ge 1
if wait_for 10 sh -c "[ \"\$(redis-cli -p $REDIS_PORT hget '$DAYKEY' msg.total)\" = $N1 ]"; then
	ok "redis back: counters resume, exactly $N1 messages counted (none lost, none twice)"
else
	not_ok "redis back: exactly $N1 messages counted (msg.total=$(rtotal))"
fi
check "redis back: the milter logged the outage and the recovery" \
	grep -q "stats: redis 127.0.0.1:$REDIS_PORT reachable again" "$T/milter.log"

# --- 2. Redis paused (SIGSTOP) ----------------------------------------------------------
N2=12
kill -STOP "$REDIS_PID"
run "$T/run2.out" STOPQ 0 $(ips $N2)
sleep 0.5 # a stats flush (every 100 ms, 200 ms timeout) times out meanwhile
kill -CONT "$REDIS_PID"
read -r n c l o <<<"$(tally "$T/run2.out")"
expect_eq "redis paused: a verdict for each of the $N2 messages" "$N2" "$n"
expect_eq "redis paused: clean accepted, listed still rejected" "$((N2 - N2 / 3)) $((N2 / 3)) 0" "$c $l $o"
maxms=$(sed -n 's/.*STOPQ[0-9]*: .* ms=\([0-9]*\).*/\1/p' "$T/milter.log" | sort -n | tail -n 1)
check "redis paused: every message within the ${DEADLINE_MS} ms deadline (slowest ${maxms:-?} ms)" \
	test -n "$maxms" -a "${maxms:-99999}" -le "$DEADLINE_MS"
check "redis paused: verdicts marked degraded (store)" grep -qE 'STOPQ[0-9]+: .*action=accept .*degraded=[a-z_,]*store' "$T/milter.log"
# A flush that timed out while Redis was stopped is still in Redis's socket
# buffer and runs when it resumes, and the milter sends it again: the batch
# token makes Redis count it once.
check "redis paused: a stats flush timed out meanwhile" grep -q "stats: redis 127.0.0.1:$REDIS_PORT: timed out" "$T/milter.log"
if wait_for 10 sh -c "[ \"\$(redis-cli -p $REDIS_PORT hget '$DAYKEY' msg.total)\" = $((N1 + N2)) ]"; then
	sleep 0.5
	expect_eq "redis resumed: the $N2 counts kept in memory are written, none twice" "$((N1 + N2))" "$(rtotal)"
else
	not_ok "redis resumed: $((N1 + N2)) messages counted (msg.total=$(rtotal))"
fi

# --- 3. misbehaving DNSBL ------------------------------------------------------------------
run "$T/run3.out" DNSQ 0 192.0.2.11 192.0.2.12 192.0.2.13 192.0.2.14 192.0.2.15 192.0.2.16
v() { awk -v q="$1" '$2 == "verdict" && $3 == q {print $5}' "$T/run3.out"; }
lg() { grep -E "$1: client=" "$T/milter.log"; }
msof() { lg "$1" | sed -n 's/.* ms=\([0-9]*\).*/\1/p'; }
expect_eq "DNSBL never answers: accepted" "accept" "$(v DNSQ1)"
ms=$(msof DNSQ1)
check "DNSBL never answers: verdict by the deadline (ms=${ms:-?})" test "${ms:-99999}" -le $((DEADLINE_MS + 300))
check "DNSBL never answers: degraded dns_timeout" sh -c "echo '$(lg DNSQ1)' | grep -q 'degraded=.*dns_timeout'"
expect_eq "DNSBL answers SERVFAIL: accepted" "accept" "$(v DNSQ2)"
check "DNSBL answers SERVFAIL: no listing scored" sh -c "! echo '$(lg DNSQ2)' | grep -q SPOOF_TEST"
for k in 3:id 4:question 5:port; do
	i=${k%%:*} how=${k#*:}
	expect_eq "a listing spoofed with a wrong $how: accepted" "accept" "$(v DNSQ$i)"
	check "a listing spoofed with a wrong $how: never scored" sh -c "! echo '$(lg DNSQ$i)' | grep -q SPOOF_TEST"
done
expect_eq "control: the same DNSBL's real listing rejects" "reject" "$(v DNSQ6)"
check "control: the real listing scored SPOOF_TEST" sh -c "echo '$(lg DNSQ6)' | grep -q 'SPOOF_TEST=20'"
asked=""
for n in 13 14 15; do
	lines=$(wc -l <"$T/fakedns.out")
	echo "count $n.2.0.192.$S" >&7
	wait_for 2 sh -c "[ \$(wc -l <'$T/fakedns.out') -gt $lines ]"
	asked="$asked $(tail -n 1 "$T/fakedns.out")"
done
check "the spoofing DNSBL was asked for each of the three (queries:$asked)" \
	sh -c "echo '$asked' | awk '{ exit !(\$1 > 0 && \$2 > 0 && \$3 > 0) }'"

# --- 4. garbage on the milter socket ----------------------------------------------------------
python3 - "$MPORT" >"$T/garbage.out" 2>&1 <<'PY' &
import os, random, socket, struct, sys, time
port = int(sys.argv[1])
r = random.Random(11)
cases = 0
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    return s
held = conn()
held.sendall(b"\x00\x00\x00\x10O")          # half a packet, then silence: held open
for i in range(200):
    kind = i % 5
    try:
        s = conn()
        if kind == 0:
            s.sendall(bytes(r.randrange(256) for _ in range(r.randrange(1, 4096))))
        elif kind == 1:
            s.sendall(struct.pack(">I", 0x7fffffff) + b"O" + b"x" * 64)   # absurd length
        elif kind == 2:
            s.sendall(struct.pack(">I", 5) + b"Z" + b"abcd")               # unknown command
        elif kind == 3:
            s.sendall(struct.pack(">I", 0) )                               # zero length
        else:
            # a valid option negotiation, then a body chunk before any message
            s.sendall(struct.pack(">IcIII", 13, b"O", 6, 0x1ff, 0x1fffff))
            s.sendall(struct.pack(">I", 9) + b"B" + b"garbage!")
        cases += 1
        s.settimeout(0.5)
        try:
            s.recv(4096)
        except OSError:
            pass
        s.close()
    except OSError as e:
        print("error", i, e)
time.sleep(2.5)
held.close()
print("garbage sessions", cases)
PY
GPID=$!
sleep 0.5
run "$T/run4.out" BESIDEQ 0 $(ips 6)
wait "$GPID"
echo "# $(tail -n 1 "$T/garbage.out")"
expect_eq "garbage: 200 bad sessions sent" "garbage sessions 200" "$(tail -n 1 "$T/garbage.out")"
read -r n c l o <<<"$(tally "$T/run4.out")"
expect_eq "garbage: sessions beside the bad ones get their verdicts" "6 4 2 0" "$n $c $l $o"
run "$T/run5.out" AFTERQ 0 $(ips 6)
read -r n c l o <<<"$(tally "$T/run5.out")"
expect_eq "garbage: sessions after the bad ones get their verdicts" "6 4 2 0" "$n $c $l $o"
check "garbage: the milter is still running" kill -0 "$MPID"

# --- 5. SIGUSR1 with a broken configuration under load ---------------------------------------------
cp "$T/milter.conf" "$T/milter.conf.good"
echo "no_such_key = 1" >>"$T/milter.conf"
run "$T/run6.out" RELOADQ 0.05 $(ips 30) &
RUN=$!
for _ in 1 2 3 4 5; do kill -USR1 "$MPID"; sleep 0.2; done
wait "$RUN"
read -r n c l o <<<"$(tally "$T/run6.out")"
expect_eq "broken reloads under load: 30 messages, right verdicts" "30 20 10 0" "$n $c $l $o"
check "broken reloads: logged, running configuration kept" \
	test "$(grep -c 'reload: .*keeping the running configuration' "$T/milter.log")" -ge 1
cp "$T/milter.conf.good" "$T/milter.conf"
check "the milter logged no crash" sh -c "! grep -qiE 'segfault|abort|assert' '$T/milter.log'"
kill "$MPID"
if wait_for 10 sh -c "! kill -0 $MPID 2>/dev/null"; then ok "SIGTERM stops the milter"; else not_ok "SIGTERM stops the milter"; fi
finish
