#!/bin/bash
# chanrac-milter killed (-9) under Postfix load, then restarted -> Postfix's
# milter_default_action (tempfail) applies: every message is either accepted
# (250) or deferred to the sender (4xx), never rejected (5xx) nor accepted and
# dropped; the senders retry the deferred ones after the restart, and every one
# of the messages reaches the sink exactly once.  Needs root (private Postfix).
. "$(dirname "$0")/../lib.sh"

FAKEDNS=$ROOT/$BUILD/tests/tools/fakedns
SENDER=$ROOT/tests/integration/fault_postfix.py
need_bin chanrac-milter
[ -x "$FAKEDNS" ] || { not_ok "$FAKEDNS is built"; finish; }
need_cmd postfix smtp-sink redis-server
need_root "a private Postfix instance"
chmod 755 "$T"
start_redis || { not_ok "redis starts"; finish; }
mkfifo "$T/fakedns.in"
exec 7<>"$T/fakedns.in"
"$FAKEDNS" 'pass.test TXT rr pass.test. 60 IN TXT "v=spf1 ip4:127.0.0.0/8 -all"' \
	<"$T/fakedns.in" >"$T/fakedns.out" 2>"$T/fakedns.err" &
PIDS+=("$!")
wait_for 5 test -s "$T/fakedns.out" || { not_ok "fakedns starts"; finish; }
MPORT=$(free_port)
write_conf "$T/milter.conf" <<EOF2
[log]
syslog = no
[engine]
dns_servers = 127.0.0.1:$(head -n 1 "$T/fakedns.out")
deadline = 2s
$(conf_milter "$MPORT")
EOF2
start_milter_postfix "$T/milter.conf" ||
	{ not_ok "chanrac-milter, smtp-sink and a private Postfix start"; finish; }
ok "redis, fakedns, chanrac-milter, smtp-sink and a private Postfix running"

N=120
python3 "$SENDER" "$PF_PORT" 1 "$N" 4 50 >"$T/send1.out" 2>&1 &
SEND=$!
# Kill once the load is under way (20 answers), whatever the machine's speed:
# the other 100 messages take at least 1.25 s more (4 senders, 50 ms apart),
# and the milter stays down 1.5 s.
for _ in $(seq 1 200); do
	[ "$(wc -l <"$T/send1.out")" -ge 20 ] && break
	sleep 0.05
done
kill -9 "$MILTER_PID"
wait "$MILTER_PID" 2>/dev/null
sleep 1.5
start_milter "$T/milter.conf" "$T/milter2.log" || not_ok "chanrac-milter restarts"
wait "$SEND"
acc=$(awk '$2 == "ok"' "$T/send1.out" | wc -l)
tmp=$(awk '$2 ~ /^4/' "$T/send1.out" | wc -l)
perm=$(awk '$2 ~ /^5/' "$T/send1.out" | wc -l)
err=$(awk '$2 == "error"' "$T/send1.out" | wc -l)
echo "# milter killed under load: $acc accepted, $tmp deferred (4xx), $perm rejected (5xx), $err connection errors"
expect_eq "a result for each of the $N messages" "$N" "$((acc + tmp + perm + err))"
expect_eq "no message rejected (5xx) while the milter was down" "0" "$perm"
check "the kill landed under load: some messages deferred with 4xx ($tmp)" test "$tmp" -ge 1
check "Postfix applied milter_default_action: tempfail logged" \
	grep -qE "milter.*(4\.7\.1|Service unavailable|tempfail)|451 4\.7\.1" "$PF/maillog"
# the senders retry what was deferred (and what failed to connect)
retry=$(awk '$2 != "ok" {print $1}' "$T/send1.out")
: >"$T/send2.out"
for i in $retry; do python3 "$SENDER" "$PF_PORT" "$i" "$i" 1 0 >>"$T/send2.out" 2>&1; done
expect_eq "after the restart every retried message is accepted" "$(echo "$retry" | grep -c .)" \
	"$(awk '$2 == "ok"' "$T/send2.out" | wc -l)"
postqueue -c "$PF/etc" -f >/dev/null 2>&1
wait_for 30 pf_queue_empty
check "Postfix's queue drained" pf_queue_empty
got=$(grep -haoE '^Subject: fault-[0-9]+' "$SINK_DIR"/* 2>/dev/null | sort | uniq -c)
expect_eq "every one of the $N messages reached the sink" "$N" "$(echo "$got" | grep -c .)"
expect_eq "...each exactly once" "0" "$(echo "$got" | awk '$1 != 1' | grep -c .)"
stop_postfix
finish
