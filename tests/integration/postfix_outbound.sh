#!/bin/bash
# The outbound watch (P4) through a real, private Postfix with SMTP AUTH: a
# submission user's messages past [outbound]
# user_messages_per_hour land in Postfix's hold queue, the user stays held,
# `chanrac outbound status` lists the held queue ids, and `chanrac outbound
# release USER --postsuper` lifts the hold and releases them (postsuper -H): they
# are delivered, and so is the user's next message from the same IP (release
# restarts the counters of the IP the user was held from too: that IP is past
# [outbound] ip_messages_per_hour by then).  Real Redis, smtp-sink.
. "$(dirname "$0")/../lib.sh"

need_bin chanrac-milter chanrac
need_cmd postfix postsuper swaks smtp-sink python3
need_root "a private Postfix instance"
chmod 755 "$T"
start_redis || { not_ok "redis starts"; finish; }

MPORT=$(free_port)
write_conf "$T/chanrac.conf" <<EOF2
[log]
syslog = no
[cli]
source = test
[engine]
dns_servers = 127.0.0.1:9
deadline = 500ms
authserv_id = mx.chanrac.test
[outbound]
user_messages_per_hour = 2
ip_messages_per_hour = 3
hold_score = 0
$(conf_milter "$MPORT")
EOF2
cr() { "$BIN/chanrac" -c "$T/chanrac.conf" "$@"; }

# SMTP AUTH: Postfix authenticates against a minimal server speaking the Dovecot
# auth protocol (tests/integration/sasl_authd.py, one user), so the milter gets a
# real {auth_authen} from a real SMTP AUTH exchange.
python3 "$ROOT/tests/integration/sasl_authd.py" sender1 s3cret-pw >"$T/authd.port" 2>"$T/authd.err" &
PIDS+=("$!")
wait_for 5 test -s "$T/authd.port" || { not_ok "the auth server starts"; finish; }
PF_MAIN_EXTRA="smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$(head -n 1 "$T/authd.port")
smtpd_sasl_security_options = noanonymous"
start_milter_postfix "$T/chanrac.conf" || { not_ok "chanrac-milter, smtp-sink and a private Postfix start"; finish; }
ok "redis, chanrac-milter, smtp-sink and a private Postfix with SMTP AUTH running"

# sub N: one authenticated submission; prints swaks' transcript
sub() {
	swaks --server "127.0.0.1:$PF_PORT" --auth PLAIN --auth-user sender1 --auth-password s3cret-pw \
		--from sender1@chanrac.test --to "rcpt$1@example.org" --timeout 30 \
		--header "Subject: outbound $1" --body "Hello, this is message $1." 2>&1
}
qid_of() { sed -n 's/.*Ok: queued as \([0-9A-F]*\).*/\1/p' "$1" | tail -n 1; }
held() { test -f "$PF/queue/hold/$1"; }
delivered() { grep -q "$1: to=<.*status=sent" "$PF/maillog"; }

for i in 1 2 3 4; do
	sub "$i" >"$T/sub$i.out"
	check "submission $i: authenticated and accepted (250)" grep -q "<-  250 2.0.0 Ok: queued as" "$T/sub$i.out"
done
Q1=$(qid_of "$T/sub1.out") Q2=$(qid_of "$T/sub2.out") Q3=$(qid_of "$T/sub3.out") Q4=$(qid_of "$T/sub4.out")
check "the milter saw the SASL user (auth=yes)" grep -q "$Q1: client=.* auth=yes" "$T/milter.log"
check "messages 1 and 2 of the hour are delivered" wait_for 20 sh -c "grep -q '$Q1: to=<.*status=sent' '$PF/maillog' && grep -q '$Q2: to=<.*status=sent' '$PF/maillog'"
check "message 3 (over 2 an hour) is in the hold queue" wait_for 10 held "$Q3"
check "the user stays held: message 4 is in the hold queue" wait_for 10 held "$Q4"
check "Postfix logs the milter's holds" grep -q "$Q3: milter-hold: END-OF-MESSAGE" "$PF/maillog"
check "the milter logs the hold for the operator" grep -q "$Q3: outbound: user sender1 held: 3 messages this hour from user sender1 (limit 2)" "$T/milter.log"
check "the held messages were not delivered" sh -c "! grep -qE '($Q3|$Q4): to=<.*status=sent' '$PF/maillog'"

expect_rc "chanrac outbound status sender1" 0 cr outbound status sender1
check "status: held since ... with the reason" grep -q "user sender1: held since .*: 3 messages this hour" "$T/last.out"
check "status: lists both held queue ids" sh -c "grep -q '$Q3' '$T/last.out' && grep -q '$Q4' '$T/last.out'"

ipkey=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'cr:ob:ip:127.0.0.1:*' | head -n 1)
expect_eq "the IP sender1 was held from is past ip_messages_per_hour (4 > 3)" "4" \
	"$(redis-cli -p "$REDIS_PORT" hget "$ipkey" msgs)"
# postsuper finds the private instance through [cli] postfix_config
sed "s|^\[cli\]\$|[cli]\npostfix_config = $PF/etc|" "$T/chanrac.conf" >"$T/release.conf"
cr_release() { "$BIN/chanrac" -c "$T/release.conf" "$@"; }
expect_rc "chanrac outbound release sender1 --postsuper" 0 cr_release outbound release sender1 --postsuper
check "release: says 2 held messages released" grep -q "released user sender1; 2 held message(s) released with postsuper -H" "$T/last.out"
check "released messages leave the hold queue and are delivered" wait_for 30 sh -c "grep -q '$Q3: to=<.*status=sent' '$PF/maillog' && grep -q '$Q4: to=<.*status=sent' '$PF/maillog'"
sub 5 >"$T/sub5.out"
Q5=$(qid_of "$T/sub5.out")
check "after release the user's next message from the same IP is delivered" wait_for 20 delivered "$Q5"
check "...without a hold" sh -c "! grep -q '$Q5: milter-hold' '$PF/maillog'"
expect_rc "release of a user not held: exit 1" 1 cr outbound release sender1 --postsuper

stop_postfix && ok "private Postfix stopped" || not_ok "private Postfix stopped"
finish
