#!/bin/bash
# chanrac-milter behind a real, private Postfix instance (its own config, queue
# and data directories under the test's temp dir, smtpd on a private loopback
# port, every message relayed to smtp-sink): a listed client address gets
# 550 5.7.1 with the reply text at end of DATA; clean mail is delivered with the
# X-Chanrac headers and Authentication-Results; a quarantined message lands in
# Postfix's hold queue.  Real Redis and chanrac-rbld behind the milter.
. "$(dirname "$0")/../lib.sh"

for b in "$BIN/chanrac-milter" "$BIN/chanrac-rbld" "$BIN/chanrac"; do
	[ -x "$b" ] || { not_ok "$b is built"; finish; }
done
for c in postfix swaks smtp-sink kdig; do
	command -v "$c" >/dev/null || { not_ok "$c is installed"; finish; }
done
[ "$(id -u)" = 0 ] || { echo "# skipped: a private Postfix instance needs root"; ok "skipped (not root)"; finish; }
chmod 755 "$T"

start_redis || { not_ok "redis starts"; finish; }
RBL_PORT=$(free_port)
MPORT=$(free_port)
write_conf "$T/chanrac.conf" <<EOF2
[log]
syslog = no
[cli]
source = test
[rbld]
listen = 127.0.0.1:$RBL_PORT
user = nobody
merge_interval = 50ms
[zone bl.chanrac.test]
type = ip
lists = spam-ip
[zone dbl.chanrac.test]
type = domain
lists = spam-domain
[engine]
dns_servers = 127.0.0.1:$RBL_PORT
deadline = 3s
authserv_id = mx.chanrac.test
reject_text = Rejected: %{zone} lists you; to be delisted see %{delist_url}
[dnsbl bl.chanrac.test]
type = ip
rule = RBL_CHANRAC
weight = 20
delist_url = https://bl.chanrac.test/delist
[dnsbl dbl.chanrac.test]
type = domain
rule = DBL_CHANRAC
weight = 9
[milter]
socket = inet:$MPORT@127.0.0.1
user = nobody
stats = no
EOF2
cr() { "$BIN/chanrac" -c "$T/chanrac.conf" "$@"; }
"$BIN/chanrac-rbld" -c "$T/chanrac.conf" -f 2>"$T/rbld.log" &
PIDS+=("$!")
wait_for 10 sh -c "kdig @127.0.0.1 -p $RBL_PORT +time=1 +retry=0 bl.chanrac.test SOA | grep -q NOERROR" ||
	{ not_ok "chanrac-rbld starts"; sed 's/^/#   /' "$T/rbld.log"; finish; }
cr list add 127.0.0.9 --list spam-ip --reason "postfix test" >/dev/null &&
	cr list add quangcao-spam.vn --list spam-domain --reason "landing page" >/dev/null ||
	{ not_ok "chanrac list add"; finish; }
wait_for 10 sh -c "kdig @127.0.0.1 -p $RBL_PORT +time=1 +retry=0 +short 9.0.0.127.bl.chanrac.test A | grep -q 127.0.0" &&
	wait_for 10 sh -c "kdig @127.0.0.1 -p $RBL_PORT +time=1 +retry=0 +short quangcao-spam.vn.dbl.chanrac.test A | grep -q 127.0.0" ||
	{ not_ok "listings reach chanrac-rbld"; finish; }
"$BIN/chanrac-milter" -c "$T/chanrac.conf" -f 2>"$T/milter.log" &
MPID=$!
PIDS+=("$MPID")
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT" ||
	{ not_ok "chanrac-milter starts"; sed 's/^/#   /' "$T/milter.log"; finish; }
ok "redis, chanrac-rbld and chanrac-milter running"

# --- smtp-sink: where Postfix relays every message ---------------------------------
SINK_PORT=$(free_port)
mkdir -p "$T/sink"
smtp-sink -u nobody -d "$T/sink/%H%M%S." "127.0.0.1:$SINK_PORT" 20 2>"$T/sink.log" &
PIDS+=("$!")
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SINK_PORT" || { not_ok "smtp-sink starts"; finish; }
chown nobody "$T/sink"

# --- a private Postfix instance ------------------------------------------------------
PF=$T/pf
SMTP_PORT=$(free_port)
mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
chown postfix "$PF/data"
cat >"$PF/etc/main.cf" <<EOF2
compatibility_level = 3.6
config_directory = $PF/etc
queue_directory = $PF/queue
data_directory = $PF/data
maillog_file = $PF/maillog
maillog_file_prefixes = $T
myhostname = mx.chanrac.test
mydomain = chanrac.test
myorigin = chanrac.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$SINK_PORT
smtp_dns_support_level = disabled
disable_dns_lookups = yes
smtpd_peername_lookup = no
biff = no
alias_maps =
alias_database =
smtpd_milters = inet:127.0.0.1:$MPORT
non_smtpd_milters = inet:127.0.0.1:$MPORT
milter_default_action = tempfail
milter_protocol = 6
EOF2
cat >"$PF/etc/master.cf" <<EOF2
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF2
postfix -c "$PF/etc" start-fg >"$T/postfix.out" 2>&1 &
PFPID=$!
PIDS+=("$PFPID")
if wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMTP_PORT"; then
	ok "private Postfix listens on 127.0.0.1:$SMTP_PORT"
else
	not_ok "private Postfix starts"; sed 's/^/#   /' "$T/postfix.out" "$PF/maillog" 2>/dev/null | tail -n 20; finish
fi

sw() { swaks --server "127.0.0.1:$SMTP_PORT" --to user@example.vn --timeout 30 "$@" 2>&1; }

# --- listed client address: 550 5.7.1 at end of DATA -----------------------------
out=$(sw --local-interface 127.0.0.9 --from bob@none.test --header "Subject: buy now" --body "Cheap!")
echo "$out" >"$T/swaks-listed.out"
check "listed client 127.0.0.9 gets 550 5.7.1 with the reply text" \
	grep -q "<\*\* 550 5.7.1 Rejected: bl.chanrac.test lists you; to be delisted see https://bl.chanrac.test/delist" "$T/swaks-listed.out"
check "Postfix logs the milter reject" wait_for 10 grep -q "milter-reject: END-OF-MESSAGE from .*\\[127.0.0.9\\]: 5.7.1 Rejected: bl.chanrac.test" "$PF/maillog"
check "the milter logs the reject with the Postfix queue id" \
	grep -qE '^chanrac-milter: info: [0-9A-F]+: client=127\.0\.0\.9 .*action=reject' "$T/milter.log"

# --- clean mail: delivered to the sink with the headers --------------------------
out=$(sw --local-interface 127.0.0.1 --from alice@pass.test --header "Subject: hello" \
	--header "X-Chanrac-Score: -99 / 12" --body "See you tomorrow.")
echo "$out" >"$T/swaks-clean.out"
check "clean mail is accepted (250 queued)" grep -q "<-  250 2.0.0 Ok: queued as" "$T/swaks-clean.out"
if wait_for 20 sh -c "grep -lq 'Subject: hello' '$T'/sink/* 2>/dev/null"; then
	ok "clean mail reaches the sink"
else
	not_ok "clean mail reaches the sink"; tail -n 5 "$PF/maillog" | sed 's/^/#   /'
fi
f=$(grep -l 'Subject: hello' "$T"/sink/* 2>/dev/null | head -n 1)
check "delivered with X-Chanrac-Score" grep -qaE "X-Chanrac-Score: -?[0-9.]+ / 12" "${f:-/dev/null}"
check "delivered with X-Chanrac-Report" grep -qa "X-Chanrac-Report:" "${f:-/dev/null}"
check "delivered with Authentication-Results: mx.chanrac.test" grep -qa "Authentication-Results: mx.chanrac.test;" "${f:-/dev/null}"
check "the forged X-Chanrac-Score was removed" sh -c "! grep -qa 'X-Chanrac-Score: -99' '${f:-/dev/null}'"

# --- quarantine: a listed URL domain scores 9 >= quarantine_score 8 -----------------
out=$(sw --local-interface 127.0.0.1 --from shop@pass.test --header "Subject: sale" \
	--body "Big sale: http://www.quangcao-spam.vn/khuyen-mai")
echo "$out" >"$T/swaks-hold.out"
check "quarantined mail is accepted by SMTP (250)" grep -q "<-  250 2.0.0 Ok: queued as" "$T/swaks-hold.out"
qid=$(sed -n 's/.*Ok: queued as \([0-9A-F]*\).*/\1/p' "$T/swaks-hold.out" | tail -n 1)
if wait_for 10 test -f "$PF/queue/hold/$qid"; then
	ok "quarantined message $qid is in Postfix's hold queue"
else
	not_ok "quarantined message ${qid:-?} is in Postfix's hold queue"; ls -R "$PF/queue/hold" | sed 's/^/#   /'
fi
check "postqueue lists it as held" sh -c "postqueue -c '$PF/etc' -j | grep -q '\"queue_name\": \"hold\"'"
check "Postfix logs the milter's hold" wait_for 10 grep -q "$qid: milter-hold: END-OF-MESSAGE from .*\\[127.0.0.1\\]: milter triggers HOLD action" "$PF/maillog"
check "the milter logs the quarantine" grep -q "$qid: client=127.0.0.1 .*action=quarantine" "$T/milter.log"
check "nothing of the quarantined message reached the sink" sh -c "! grep -lq 'Subject: sale' '$T'/sink/* 2>/dev/null"

# --- non_smtpd_milters: local submission through sendmail(1) -------------------------
printf 'From: root@chanrac.test\nTo: user@example.vn\nSubject: local submit\n\nhello\n' |
	sendmail -C "$PF/etc" -f root@chanrac.test user@example.vn
if wait_for 30 sh -c "grep -lq 'Subject: local submit' '$T'/sink/* 2>/dev/null"; then
	ok "locally submitted mail passes the milter (non_smtpd_milters) and is delivered"
else
	not_ok "locally submitted mail is delivered"; tail -n 5 "$PF/maillog" | sed 's/^/#   /'
fi
f=$(grep -l 'Subject: local submit' "$T"/sink/* 2>/dev/null | head -n 1)
check "...with the X-Chanrac headers" grep -qa "X-Chanrac-Report:" "${f:-/dev/null}"

postfix -c "$PF/etc" stop >/dev/null 2>&1
wait_for 20 sh -c "! kill -0 $PFPID 2>/dev/null" && ok "private Postfix stopped" || not_ok "private Postfix stopped"
finish
