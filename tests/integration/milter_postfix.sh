#!/bin/bash
# chanrac-milter behind a real, private Postfix instance (its own config, queue
# and data directories under the test's temp dir, smtpd on a private loopback
# port, every message relayed to smtp-sink): a listed client address gets
# 550 5.7.1 with the reply text at end of DATA; clean mail is delivered with the
# X-Chanrac headers and Authentication-Results; a quarantined message lands in
# Postfix's hold queue.  Real Redis and chanrac-rbld behind the milter.
. "$(dirname "$0")/../lib.sh"

need_bin chanrac-milter chanrac-rbld chanrac
need_cmd postfix swaks smtp-sink kdig
need_root "a private Postfix instance"
chmod 755 "$T"

start_redis || { not_ok "redis starts"; finish; }
RBL_PORT=$(free_port)
MPORT=$(free_port)
write_conf "$T/chanrac.conf" <<EOF2
[log]
syslog = no
[cli]
source = test
$(conf_rbld "$RBL_PORT")
$(conf_engine_rbld "$RBL_PORT")
$(conf_milter "$MPORT")
EOF2
cr() { "$BIN/chanrac" -c "$T/chanrac.conf" "$@"; }
start_rbld "$T/chanrac.conf" || { not_ok "chanrac-rbld starts"; finish; }
cr list add 127.0.0.9 --list spam-ip --reason "postfix test" >/dev/null &&
	cr list add quangcao-spam.vn --list spam-domain --reason "landing page" >/dev/null ||
	{ not_ok "chanrac list add"; finish; }
rbld_listed 9.0.0.127.bl.chanrac.test quangcao-spam.vn.dbl.chanrac.test ||
	{ not_ok "listings reach chanrac-rbld"; finish; }

# --- chanrac-milter, smtp-sink (where Postfix relays every message), a private Postfix
start_milter_postfix "$T/chanrac.conf" || { not_ok "chanrac-milter, smtp-sink and a private Postfix start"; finish; }
ok "redis, chanrac-rbld and chanrac-milter running"
ok "private Postfix listens on 127.0.0.1:$PF_PORT"

sw() { swaks --server "127.0.0.1:$PF_PORT" --to user@example.vn --timeout 30 "$@" 2>&1; }

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
if wait_for 20 sh -c "grep -lq 'Subject: hello' '$SINK_DIR'/* 2>/dev/null"; then
	ok "clean mail reaches the sink"
else
	not_ok "clean mail reaches the sink"; tail -n 5 "$PF/maillog" | sed 's/^/#   /'
fi
f=$(grep -l 'Subject: hello' "$SINK_DIR"/* 2>/dev/null | head -n 1)
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
check "nothing of the quarantined message reached the sink" sh -c "! grep -lq 'Subject: sale' '$SINK_DIR'/* 2>/dev/null"

# --- non_smtpd_milters: local submission through sendmail(1) -------------------------
printf 'From: root@chanrac.test\nTo: user@example.vn\nSubject: local submit\n\nhello\n' |
	sendmail -C "$PF/etc" -f root@chanrac.test user@example.vn
if wait_for 30 sh -c "grep -lq 'Subject: local submit' '$SINK_DIR'/* 2>/dev/null"; then
	ok "locally submitted mail passes the milter (non_smtpd_milters) and is delivered"
else
	not_ok "locally submitted mail is delivered"; tail -n 5 "$PF/maillog" | sed 's/^/#   /'
fi
f=$(grep -l 'Subject: local submit' "$SINK_DIR"/* 2>/dev/null | head -n 1)
check "...with the X-Chanrac headers" grep -qa "X-Chanrac-Report:" "${f:-/dev/null}"

stop_postfix && ok "private Postfix stopped" || not_ok "private Postfix stopped"
finish
