#!/bin/bash
# chanrac-milter's per-day counts as the periodic report reads them: every
# checked message in msg.total, authenticated submissions (mail our users send)
# also in out.total, and the D91 annual report's "emails received" / "emails
# sent" from them (real redis-server, real chanrac-milter driven by miltertest).
. "$(dirname "$0")/../lib.sh"

LUA=$ROOT/tests/integration/milter
FAKEDNS=$ROOT/$BUILD/tests/tools/fakedns
for b in "$BIN/chanrac-milter" "$BIN/chanrac" "$FAKEDNS"; do
	[ -x "$b" ] || { not_ok "$b is built"; finish; }
done
command -v miltertest >/dev/null || { not_ok "miltertest is installed"; finish; }
chmod 755 "$T"
start_redis || { not_ok "redis starts"; finish; }
mkfifo "$T/fakedns.in"
exec 7<>"$T/fakedns.in"
"$FAKEDNS" 'sender.test TXT rr sender.test. 60 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"' \
	<"$T/fakedns.in" >"$T/fakedns.out" 2>"$T/fakedns.err" &
PIDS+=("$!")
wait_for 5 test -s "$T/fakedns.out" || { not_ok "fakedns starts"; finish; }
FAKE_PORT=$(head -n 1 "$T/fakedns.out")
MPORT=$(free_port)
write_conf "$T/chanrac.conf" <<EOF
[log]
syslog = no
level = info
[engine]
dns_servers = 127.0.0.1:$FAKE_PORT
deadline = 2s
authserv_id = mx.chanrac.test
[milter]
socket = inet:$MPORT@127.0.0.1
user = nobody
stats = yes
stats_interval = 100ms
EOF
"$BIN/chanrac-milter" -c "$T/chanrac.conf" -f 2>"$T/milter.log" &
PIDS+=("$!")
if ! wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT"; then
	not_ok "chanrac-milter starts"; sed 's/^/#   /' "$T/milter.log"; finish
fi
printf 'Hello,\nthe minutes of the meeting are attached.\n' >"$T/body.txt"
send() {
	miltertest -s "$LUA/advmsg.lua" -D "SOCK=inet:$MPORT@127.0.0.1" -D "DIR=$LUA" \
		-D "QID=$1" -D "FROM=a@sender.test" -D "RCPTS=b@isp.example.vn" -D "SUBJECT=minutes" \
		-D "BODYFILE=$T/body.txt" -D "AUTH=${2:-}" >"$T/$1.out" 2>&1 ||
		{ echo "# miltertest $1 failed:"; sed 's/^/#   /' "$T/$1.out" | tail -n 5; }
}
send Q1 alice@isp.example.vn
send Q2 bob@isp.example.vn
send Q3
DAYKEY="cr:{st}:day:$(date -u +%F)"
if wait_for 5 sh -c "[ \"\$(redis-cli -p $REDIS_PORT hget '$DAYKEY' msg.total)\" = 3 ]"; then
	ok "three messages counted in msg.total"
else
	not_ok "three messages counted (msg.total=$(redis-cli -p "$REDIS_PORT" hget "$DAYKEY" msg.total))"
fi
expect_eq "the two authenticated submissions counted in out.total" "2" \
	"$(redis-cli -p "$REDIS_PORT" hget "$DAYKEY" out.total)"
j=$("$BIN/chanrac" -c "$T/chanrac.conf" compliance-report --kind annual --period "$(date -u +%F)" --format json)
if python3 -c "import json,sys
d=json.loads(sys.argv[1])
rows={it['id']:(it['value'],it['previous']) for s in d['sections'] for it in s['items'] if 'value' in it}
assert rows['1.1']==(1,0) and rows['1.2']==(2,0), rows" "$j" 2>"$T/py.err"; then
	ok "annual report: 1 email received, 2 sent"
else
	not_ok "annual report: 1 email received, 2 sent"; sed 's/^/#   /' "$T/py.err" | tail -n 3
fi
finish
