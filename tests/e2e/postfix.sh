#!/bin/bash
# End to end under a real Postfix: a private Postfix instance (own config, queue
# and data directories under the test's temp dir, smtpd on a private loopback
# port, every accepted message relayed to smtp-sink, which writes one file per
# message) with chanrac-milter in smtpd_milters, over a real Redis and
# chanrac-rbld.  Mail goes in with swaks and smtp-source.  Checks: clean mail is
# delivered with the X-Chanrac headers; a listed client address (host and CIDR
# listings) gets 550 5.7.1 with the reply text; a listed URL domain puts the
# message in Postfix's hold queue; and the books balance: every message sent was
# delivered, held or rejected, as counted by the senders, the sink, the hold
# queue, Postfix's log and the milter's log.  Finally, with the milter stopped,
# Postfix (milter_default_action = tempfail) answers 4xx: the sender keeps it.
. "$(dirname "$0")/../lib.sh"

need_bin chanrac-milter chanrac-rbld chanrac
need_cmd postfix postqueue postcat swaks smtp-source smtp-sink kdig redis-server
need_root "a private Postfix instance"
chmod 755 "$T"

# --- Redis and chanrac-rbld ------------------------------------------------------------
start_redis || { not_ok "redis starts"; finish; }
RBL_PORT=$(free_port)
MPORT=$(free_port)
write_conf "$T/chanrac.conf" <<EOF2
[log]
syslog = no
[cli]
source = e2e
$(conf_rbld "$RBL_PORT")
$(conf_engine_rbld "$RBL_PORT" "tag_score = 5" "quarantine_score = 8" "reject_score = 12")
$(conf_milter "$MPORT")
EOF2
cr() { "$BIN/chanrac" -c "$T/chanrac.conf" "$@"; }
start_rbld "$T/chanrac.conf" || { not_ok "chanrac-rbld starts"; finish; }
cr list add 127.0.0.9 127.0.0.32/28 --list spam-ip --reason "e2e: spam source" >/dev/null &&
	cr list add quangcao-spam.vn --list spam-domain --reason "e2e: landing page" >/dev/null ||
	{ not_ok "chanrac list add"; finish; }
rbld_listed 9.0.0.127.bl.chanrac.test 40.0.0.127.bl.chanrac.test quangcao-spam.vn.dbl.chanrac.test ||
	{ not_ok "listings reach chanrac-rbld"; finish; }

# --- chanrac-milter, smtp-sink and the private Postfix ---------------------------------
start_milter_postfix "$T/chanrac.conf" || { not_ok "chanrac-milter, smtp-sink and a private Postfix start"; finish; }
ok "redis, chanrac-rbld and chanrac-milter running"
ok "private Postfix listens on 127.0.0.1:$PF_PORT, relays to smtp-sink on :$SINK_PORT"
check "Postfix runs with our main.cf (smtpd_milters)" \
	sh -c "postconf -c '$PF/etc' -h smtpd_milters | grep -qx 'inet:127.0.0.1:$MPORT'"

# Books: what the senders were told, per message.
SENT=0 ACCEPTED=0 REJECTED=0
# sw NAME ARGS...: one message with swaks; records the SMTP outcome of DATA
sw() {
	local name=$1; shift
	swaks --server "127.0.0.1:$PF_PORT" --to user@example.vn --timeout 30 "$@" >"$T/sw-$name.out" 2>&1
	SENT=$((SENT + 1))
	if grep -q "^<-  250 2.0.0 Ok: queued as" "$T/sw-$name.out"; then
		ACCEPTED=$((ACCEPTED + 1))
	elif grep -q "^<\*\* 5[0-9][0-9] " "$T/sw-$name.out"; then
		REJECTED=$((REJECTED + 1))
	fi
}
queued_id() { sed -n 's/^<-  250 2.0.0 Ok: queued as \([0-9A-F]*\).*/\1/p' "$T/sw-$1.out" | tail -n 1; }

# --- clean mail, one by one: delivered with the headers --------------------------------
for i in 1 2 3; do
	sw "clean$i" --local-interface 127.0.0.1 --from "alice$i@pass.test" \
		--header "Subject: Lich hop $i" --header "X-Chanrac-Score: -99 / 12" \
		--body "Chao anh, hen gap lai vao thu $((i + 1)) tuan sau. Tai lieu: https://docs.example.org/hop-$i"
done
check "3 clean messages accepted (250 queued)" grep -q "Ok: queued as" "$T/sw-clean1.out" "$T/sw-clean2.out" "$T/sw-clean3.out"
expect_eq "swaks: 3 of 3 clean messages accepted" 3 "$ACCEPTED"

# --- listed client addresses: 550 5.7.1 with the reply text ---------------------------
sw listed1 --local-interface 127.0.0.9 --from bob@none.test --header "Subject: mua ngay" --body "Re nhat!"
sw listed2 --local-interface 127.0.0.9 --from bob2@none.test --header "Subject: mua ngay 2" --body "Re nhat!"
sw listed3 --local-interface 127.0.0.40 --from carol@none.test --header "Subject: khuyen mai" --body "Gia soc"
check "listed host 127.0.0.9 gets 550 5.7.1 with the reply text" \
	grep -q "<\*\* 550 5.7.1 Rejected: bl.chanrac.test lists you; to be delisted see https://bl.chanrac.test/delist" "$T/sw-listed1.out"
check "127.0.0.40 (inside the listed 127.0.0.32/28) gets 550 5.7.1 with the reply text" \
	grep -q "<\*\* 550 5.7.1 Rejected: bl.chanrac.test lists you" "$T/sw-listed3.out"
check "the reject comes at end of DATA (the message was sent)" \
	grep -q "^ -> \\.$" "$T/sw-listed3.out"

# --- a listed URL domain: quarantined in the hold queue ---------------------------------
sw hold1 --local-interface 127.0.0.1 --from shop@pass.test --header "Subject: tai lieu" \
	--body "Xem tai: http://www.quangcao-spam.vn/tai-lieu"
sw hold2 --local-interface 127.0.0.1 --from shop2@pass.test --header "Subject: tai lieu 2" \
	--body "Xem tai: https://quangcao-spam.vn/tai-lieu-2"
check "held mail is accepted by SMTP (250 queued)" grep -q "Ok: queued as" "$T/sw-hold1.out" "$T/sw-hold2.out"
HOLD1=$(queued_id hold1)

# --- bulk with smtp-source: 30 clean in 3 sessions, 10 with the listed URL --------------
cat >"$T/clean.eml" <<'EOF2'
From: Phong Ke Toan <ketoan@pass.test>
To: user@example.vn
Subject: Bao cao thang 11
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Chào anh,

Gửi anh báo cáo tháng 11. Bản đầy đủ ở https://files.example.org/bao-cao-11
Cảm ơn anh.
EOF2
cat >"$T/listedurl.eml" <<'EOF2'
From: Cua Hang <shop@pass.test>
To: user@example.vn
Subject: Thong tin san pham
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Xem thông tin ở http://khuyenmai.quangcao-spam.vn/san-pham
EOF2
ss() { # ss NAME COUNT SESSIONS FILE: smtp-source; every DATA must get 2xx
	timeout 120 smtp-source -s "$3" -m "$2" -f "$1@pass.test" -t user@example.vn -M client.pass.test \
		-F "$4" "127.0.0.1:$PF_PORT" >"$T/ss-$1.out" 2>&1 &&
		! grep -qiE 'warning|fatal|error' "$T/ss-$1.out"
}
if ss bulk 30 3 "$T/clean.eml"; then SENT=$((SENT + 30)); ACCEPTED=$((ACCEPTED + 30)); ok "smtp-source: 30 clean messages accepted"
else SENT=$((SENT + 30)); not_ok "smtp-source: 30 clean messages accepted"; sed 's/^/#   /' "$T/ss-bulk.out" | head; fi
if ss url 10 2 "$T/listedurl.eml"; then SENT=$((SENT + 10)); ACCEPTED=$((ACCEPTED + 10)); ok "smtp-source: 10 messages with the listed URL accepted"
else SENT=$((SENT + 10)); not_ok "smtp-source: 10 messages with the listed URL accepted"; sed 's/^/#   /' "$T/ss-url.out" | head; fi

# --- wait until Postfix has nothing left to deliver -------------------------------------
if wait_for 60 pf_queue_empty; then ok "Postfix's active, incoming and deferred queues drained"
else not_ok "Postfix's queues drained"; find "$PF/queue" -type f | sed 's/^/#   /' | head; fi
DELIVERED=$(find "$SINK_DIR" -type f | wc -l)
HELD=$(postqueue -c "$PF/etc" -j | grep -c '"queue_name": "hold"')
echo "# sent $SENT: accepted $ACCEPTED, rejected $REJECTED; delivered $DELIVERED, held $HELD"

expect_eq "delivered: the 3 clean swaks and 30 smtp-source messages" 33 "$DELIVERED"
expect_eq "held: the 2 swaks and 10 smtp-source messages with the listed URL" 12 "$HELD"
expect_eq "rejected: the 3 messages from listed addresses" 3 "$REJECTED"
expect_eq "none lost: sent = delivered + held + rejected" "$SENT" "$((DELIVERED + HELD + REJECTED))"
expect_eq "none lost: accepted = delivered + held" "$ACCEPTED" "$((DELIVERED + HELD))"

# Postfix's own log tells the same story.
wait_for 10 sh -c "[ \$(grep -c ' status=sent ' '$PF/maillog') -ge $DELIVERED ]"
expect_eq "Postfix logged $DELIVERED deliveries (status=sent)" "$DELIVERED" "$(grep -c ' status=sent ' "$PF/maillog")"
expect_eq "Postfix logged $HELD milter holds" "$HELD" "$(grep -c 'milter-hold: END-OF-MESSAGE' "$PF/maillog")"
expect_eq "Postfix logged $REJECTED milter rejects" "$REJECTED" "$(grep -c 'milter-reject: END-OF-MESSAGE' "$PF/maillog")"
expect_eq "Postfix deferred or bounced nothing" 0 "$(grep -cE ' status=(deferred|bounced) ' "$PF/maillog")"
# ... and so does the milter: one verdict line per message.
expect_eq "the milter logged one verdict per message" "$SENT" "$(grep -c ' action=' "$T/milter.log")"
expect_eq "the milter accepted $DELIVERED" "$DELIVERED" "$(grep -cE ' action=(accept|tag) ' "$T/milter.log")"
expect_eq "the milter quarantined $HELD" "$HELD" "$(grep -c ' action=quarantine ' "$T/milter.log")"
expect_eq "the milter rejected $REJECTED" "$REJECTED" "$(grep -c ' action=reject ' "$T/milter.log")"

# --- what was delivered carries the headers ----------------------------------------------
nohdr=0 forged=0
for f in "$SINK_DIR"/*; do
	[ -f "$f" ] || continue
	grep -qaE '^X-Chanrac-Score: -?[0-9.]+ / 12' "$f" && grep -qa '^X-Chanrac-Report:' "$f" &&
		grep -qa '^Authentication-Results: mx.chanrac.test;' "$f" || nohdr=$((nohdr + 1))
	grep -qa 'X-Chanrac-Score: -99' "$f" && forged=$((forged + 1))
done
expect_eq "every delivered message has X-Chanrac-Score, X-Chanrac-Report, Authentication-Results" 0 "$nohdr"
expect_eq "no delivered message kept the sender's forged X-Chanrac-Score" 0 "$forged"
check "nothing with the listed URL reached the sink" sh -c "! grep -rlq 'quangcao-spam' '$SINK_DIR'"
check "nothing from a listed client reached the sink" sh -c "! grep -rlq 'mua ngay\\|khuyen mai' '$SINK_DIR'"
if [ -n "$HOLD1" ]; then
	postcat -c "$PF/etc" -q "$HOLD1" >"$T/hold1.txt" 2>&1
	check "the held message $HOLD1 carries its verdict (X-Chanrac-Report names DBL_CHANRAC)" \
		grep -qa 'DBL_CHANRAC' "$T/hold1.txt"
	check "postqueue -j lists $HOLD1 in the hold queue" \
		sh -c "postqueue -c '$PF/etc' -j | grep '\"queue_id\": \"$HOLD1\"' | grep -q '\"queue_name\": \"hold\"'"
else
	not_ok "the first held message has a queue id"
fi

# --- the milter down: Postfix tempfails, the sender keeps the message -------------------
kill "$MILTER_PID"
wait_for 20 sh -c "! kill -0 $MILTER_PID 2>/dev/null"
sw down --local-interface 127.0.0.1 --from alice@pass.test --header "Subject: while down" --body "later"
check "with the milter down, Postfix answers 4xx (milter_default_action = tempfail)" \
	grep -qE "^<\*\* 4[0-9][0-9] " "$T/sw-down.out"
check "...and did not deliver or queue it" sh -c "! grep -rlq 'while down' '$SINK_DIR' && postqueue -c '$PF/etc' -j | grep -c . | grep -qx $HELD"

stop_postfix && ok "private Postfix stopped" || not_ok "private Postfix stopped"
finish
