#!/bin/bash
# chanrac quarantine list|release|delete through a real, private Postfix:
# chanrac-milter quarantines two messages that match a known spam template
# (TEMPLATE weight 10 >= quarantine_score 8), so Postfix puts them in its hold
# queue.  `chanrac quarantine list` shows them; `release` moves one out of the
# hold queue and it reaches the sink, counted once as wrong.released and
# audited; an invalid queue id is refused before postsuper runs (a postsuper
# wrapper logs every run); `delete` removes the other, audited, not counted.
# Real Redis, smtp-sink.
. "$(dirname "$0")/../lib.sh"

need_bin chanrac-milter chanrac
need_cmd postfix postsuper postqueue swaks smtp-sink python3
need_root "a private Postfix instance"
chmod 755 "$T"
start_redis || { not_ok "redis starts"; finish; }

# postsuper as chanrac finds it on PATH: logs its arguments, then runs the real one
REAL_POSTSUPER=$(command -v postsuper)
mkdir -p "$T/wrap"
cat >"$T/wrap/postsuper" <<EOF2
#!/bin/sh
echo "\$*" >>"$T/postsuper.calls"
[ -z "\${POSTSUPER_FAIL:-}" ] || { echo "postsuper: fatal: test failure" >&2; exit 75; }
exec "$REAL_POSTSUPER" "\$@"
EOF2
chmod 755 "$T/wrap/postsuper"
: >"$T/postsuper.calls"

MPORT=$(free_port)
write_conf "$T/chanrac.conf" <<EOF2
[log]
syslog = no
[cli]
source = qtest
[engine]
dns_servers = 127.0.0.1:9
deadline = 500ms
authserv_id = mx.chanrac.test
tag_score = 5
quarantine_score = 8
reject_score = 12
$(conf_milter "$MPORT")
EOF2
cr() { PATH="$T/wrap:$PATH" "$BIN/chanrac" -c "$T/chanrac.conf" "$@"; }

cat >"$T/spam.eml" <<'EOF2'
From: Giai Thuong <winner@lottery.test>
To: user@example.org
Subject: Chuc mung ban da trung thuong
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Congratulations dear winner, your email address has won the international lottery
prize of five hundred thousand dollars.  To claim your prize send your full name,
bank account number and a processing fee to our claims agent before Friday.
EOF2
cr template add "$T/spam.eml" --reason "test: lottery scam" >/dev/null ||
	{ not_ok "chanrac template add"; finish; }
expect_rc "chanrac scan: the template message would be quarantined (exit 5)" 5 cr scan "$T/spam.eml" --json
check "...by the TEMPLATE rule" grep -q '"TEMPLATE"' "$T/last.out"

start_milter_postfix "$T/chanrac.conf" || { not_ok "chanrac-milter, smtp-sink and a private Postfix start"; finish; }
ok "redis, chanrac-milter, smtp-sink and a private Postfix running"

send() { # send N: the template message, marked N in its subject
	sed "s/^Subject: .*/Subject: trung thuong $1/" "$T/spam.eml" >"$T/msg$1.eml"
	timeout 60 swaks --server "127.0.0.1:$PF_PORT" --from winner@lottery.test \
		--to "rcpt$1@example.org" --timeout 30 --data "$T/msg$1.eml" >"$T/sw$1.out" 2>&1
}
qid_of() { sed -n 's/.*Ok: queued as \([0-9A-Za-z]*\).*/\1/p' "$1" | tail -n 1; }
held() { test -f "$PF/queue/hold/$1"; }
nheld() { find "$PF/queue/hold" -type f | wc -l; }
delivered() { grep -q "$1: to=<.*status=sent" "$PF/maillog"; }
DAY=$(date -u +%F)
released_today() { # wrong.released today, from chanrac stats --json
	cr stats --from "$DAY" --to "$DAY" --json |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"].get("wrong.released", 0))'
}
audit_of() { # audit_of OP FIELD...: those fields of the audit entries with that op
	cr audit --json | python3 -c 'import json,sys
for a in json.load(sys.stdin):
    if a["op"] == sys.argv[1]: print(" ".join(a[f] for f in sys.argv[2:]))' "$@"
}

send 1
send 2
Q1=$(qid_of "$T/sw1.out") Q2=$(qid_of "$T/sw2.out")
check "both messages accepted by SMTP (250 queued)" test -n "$Q1" -a -n "$Q2"
check "message 1 is in the hold queue" wait_for 20 held "$Q1"
check "message 2 is in the hold queue" wait_for 20 held "$Q2"
check "the milter quarantined them" grep -q "$Q1: .*action=quarantine" "$T/milter.log"

# --- list ---------------------------------------------------------------------------------
expect_rc "quarantine list --postfix-config" 0 cr quarantine list --postfix-config "$PF/etc"
check "list shows message 1's queue id, sender and recipient" \
	grep -q "^$Q1 .* winner@lottery.test .*rcpt1@example.org" "$T/last.out"
check "list shows message 2's queue id" grep -q "^$Q2 " "$T/last.out"
expect_rc "quarantine list --json" 0 cr quarantine list --postfix-config "$PF/etc" --json
expect_eq "list --json: both held messages with their recipients" "$Q1 rcpt1@example.org|$Q2 rcpt2@example.org" \
	"$(python3 -c 'import json,sys
d = sorted(json.load(open(sys.argv[1])), key=lambda m: m["recipients"][0])
print("|".join("%s %s" % (m["queue_id"], m["recipients"][0]) for m in d))' "$T/last.out")"
expect_rc "list: a Postfix config dir that does not exist fails (exit 3)" 3 \
	cr quarantine list --postfix-config "$T/nonexistent"

# --- bad input: nothing runs -----------------------------------------------------------------
expect_rc "release with an invalid queue id: exit 2" 2 cr quarantine release "$Q1" "X-1;rm" --postfix-config "$PF/etc"
check "...naming the id" grep -q "'X-1;rm' is not a Postfix queue id" "$T/last.err"
expect_rc "release with a too long queue id: exit 2" 2 cr quarantine release "$(printf 'A%.0s' $(seq 1 33))" --postfix-config "$PF/etc"
expect_rc "delete with an option-looking id: exit 2" 2 cr quarantine delete -- -d --postfix-config "$PF/etc"
check "postsuper was not run" test ! -s "$T/postsuper.calls"
expect_eq "both messages still held" 2 "$(nheld)"
sed "s/^port = .*/port = $(free_port)/" "$T/chanrac.conf" >"$T/noredis.conf"
expect_rc "release with Redis unreachable: exit 3 (no release that cannot be audited)" 3 \
	env PATH="$T/wrap:$PATH" "$BIN/chanrac" -c "$T/noredis.conf" quarantine release "$Q1" --postfix-config "$PF/etc"
check "...and postsuper was not run" test ! -s "$T/postsuper.calls"
expect_rc "release of an id not in the hold queue: exit 1" 1 cr quarantine release "$Q1" 0ABCDEF99 --postfix-config "$PF/etc"
check "...naming it" grep -q "0ABCDEF99 is not in the hold queue" "$T/last.err"
check "...and postsuper was not run" test ! -s "$T/postsuper.calls"
expect_eq "...both messages still held" 2 "$(nheld)"

# --- postsuper fails: exit 3, nothing counted ------------------------------------------------
expect_rc "release when postsuper fails: exit 3" 3 env POSTSUPER_FAIL=1 PATH="$T/wrap:$PATH" \
	"$BIN/chanrac" -c "$T/chanrac.conf" quarantine release "$Q1" --postfix-config "$PF/etc"
check "...saying postsuper failed and nothing was released" \
	grep -q "postsuper failed: 0 of 1 message(s) released" "$T/last.err"
check "...message 1 still held" held "$Q1"
: >"$T/postsuper.calls"

# --- release -----------------------------------------------------------------------------------
expect_rc "quarantine release Q1 --ref TCK-7" 0 cr quarantine release "$Q1" --postfix-config "$PF/etc" --ref TCK-7
check "release says so" grep -q "^released $Q1\$" "$T/last.out"
check "postsuper ran once, with -c and -H" grep -qx -- "-c $PF/etc -H $Q1" "$T/postsuper.calls"
check "message 1 leaves the hold queue" wait_for 10 sh -c "! test -f '$PF/queue/hold/$Q1'"
check "message 1 is delivered (status=sent)" wait_for 30 delivered "$Q1"
check "message 1 reaches the sink" wait_for 10 sh -c "grep -l 'Subject: trung thuong 1' '$SINK_DIR'/* >/dev/null 2>&1"
check "message 2 is still held" held "$Q2"
expect_eq "wrong.released is 1 (chanrac stats --json)" 1 "$(released_today)"
expect_eq "the audit stream has the release" "release quarantine $Q1 qtest TCK-7 from=<winner@lottery.test> to=<rcpt1@example.org>" \
	"$(audit_of release op list key who ref value)"
expect_rc "releasing it again: not held any more (exit 1)" 1 cr quarantine release "$Q1" --postfix-config "$PF/etc"

# --- delete ------------------------------------------------------------------------------------
: >"$T/postsuper.calls"
expect_rc "quarantine delete Q2 (with [cli] postfix_config)" 0 \
	env PATH="$T/wrap:$PATH" "$BIN/chanrac" -c <(cat "$T/chanrac.conf"; printf '[cli]\npostfix_config = %s\n' "$PF/etc") \
	quarantine delete "$Q2" --reason "scam, confirmed"
check "delete says so" grep -q "^deleted $Q2\$" "$T/last.out"
check "postsuper ran with -d, limited to the hold queue" grep -qx -- "-c $PF/etc -d $Q2 hold" "$T/postsuper.calls"
check "message 2 is gone" wait_for 10 sh -c "! test -f '$PF/queue/hold/$Q2'"
expect_eq "the hold queue is empty" 0 "$(nheld)"
check "message 2 was never delivered" sh -c "! grep -q '$Q2: to=<.*status=sent' '$PF/maillog'"
expect_eq "wrong.released is still 1 (a delete is not a release)" 1 "$(released_today)"
expect_eq "the audit stream has the delete, with its reason" "delete quarantine $Q2 qtest scam, confirmed" \
	"$(audit_of delete op list key who why)"
expect_rc "chanrac audit --list quarantine --key Q1" 0 cr audit --list quarantine --key "$Q1"
check "...shows the release of Q1 only" sh -c "grep -q 'release	quarantine	$Q1' '$T/last.out' && ! grep -q '$Q2' '$T/last.out'"
expect_rc "chanrac audit --list quarantine --key with a bad queue id: exit 2" 2 cr audit --list quarantine --key "a/b"
expect_rc "quarantine list: nothing held" 0 cr quarantine list --postfix-config "$PF/etc"
check "...says so" grep -qx "no message held" "$T/last.out"

stop_postfix && ok "private Postfix stopped" || not_ok "private Postfix stopped"
finish
