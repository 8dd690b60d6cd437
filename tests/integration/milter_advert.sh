#!/bin/bash
# The advertising content rules and DKIM through chanrac-milter (driven by Debian's
# miltertest), where header fields arrive folded and the body with CRLF, unlike
# `chanrac scan` (tests/integration/advert_corpus.sh): signed messages of
# tests/corpus/advert verify (keys from tests/tools/fakedns), one-click is accepted
# only under a covering signature (R4h), the Subject label rules (R1a, R1b) and
# unlabelled advertising (ADV_NO_LABEL) show in X-Chanrac-Report, and personal
# mail gets no advertising rule.
. "$(dirname "$0")/../lib.sh"

LUA=$ROOT/tests/integration/milter
C=$ROOT/tests/corpus/advert
FAKEDNS=$ROOT/$BUILD/tests/tools/fakedns
for b in "$BIN/chanrac-milter" "$FAKEDNS"; do
	[ -x "$b" ] || { not_ok "$b is built"; finish; }
done
command -v miltertest >/dev/null || { not_ok "miltertest is installed"; finish; }
chmod 755 "$T"
start_redis || { not_ok "redis starts"; finish; }

KEY=$(cat "$C/keys/test.pub.b64")
key_rule() { echo "$1._domainkey.$2 TXT rr $1._domainkey.$2. 300 IN TXT \"v=DKIM1; k=rsa; p=$KEY\""; }
mkfifo "$T/dns.in"
exec 7<>"$T/dns.in"
"$FAKEDNS" "$(key_rule sel shop-abc.vn)" "$(key_rule news greentravel.vn)" \
	<"$T/dns.in" >"$T/dns.out" 2>"$T/dns.err" &
PIDS+=("$!")
wait_for 10 test -s "$T/dns.out" || { not_ok "fakedns starts"; finish; }
DNS_PORT=$(head -n 1 "$T/dns.out")

MPORT=$(free_port)
write_conf "$T/milter.conf" <<EOF2
[log]
syslog = no
level = info
[engine]
dns_servers = 127.0.0.1:$DNS_PORT
deadline = 3s
authserv_id = mx.chanrac.test
[milter]
socket = inet:$MPORT@127.0.0.1
user = nobody
stats = no
EOF2
start_milter "$T/milter.conf" || { not_ok "chanrac-milter starts"; finish; }
ok "chanrac-milter listens on 127.0.0.1:$MPORT"

# run NAME: passes tests/corpus/advert/NAME.eml; sets AUTH and REPORT
run() {
	miltertest -s "$LUA/advert.lua" -D "SOCK=inet:$MPORT@127.0.0.1" -D "DIR=$LUA" \
		-D "FILE=$C/$1.eml" -D "QID=$1" >"$T/mt.out" 2>&1 ||
		{ not_ok "$1: miltertest ran (exit $?)"; sed 's/^/#   /' "$T/mt.out" | tail -n 5; }
	grep -E '^(ok|not ok)' "$T/mt.out"
	AUTH=$(sed -n 's/^# auth: //p' "$T/mt.out")
	REPORT=$(sed -n 's/^# report: //p' "$T/mt.out")
}
has() { case "$2" in *"$3"*) ok "$1";; *) not_ok "$1"; echo "#   '$3' not in: $2";; esac; }
hasnt() { case "$2" in *"$3"*) not_ok "$1"; echo "#   '$3' in: $2";; *) ok "$1";; esac; }

run vi-oneclick-dkim
has "signed one-click: dkim=pass" "$AUTH" "dkim=pass header.d=shop-abc.vn header.s=sel"
has "signed one-click: ADV_LABEL" "$REPORT" "ADV_LABEL=0"
hasnt "signed one-click: no R4h" "$REPORT" "R4h"

run en-oneclick-dkim
has "English signed one-click: dkim=pass" "$AUTH" "dkim=pass header.d=greentravel.vn"
hasnt "English signed one-click: no R4h" "$REPORT" "R4h"

# c=simple/simple over folded Subject and List-Unsubscribe: the fields reach
# libopendkim as the MTA passed them, folding kept
run vi-oneclick-dkim-simple-folded
has "c=simple over folded fields: dkim=pass" "$AUTH" "dkim=pass header.d=shop-abc.vn header.s=sel"
hasnt "c=simple over folded fields: no R4h" "$REPORT" "R4h"

run vi-oneclick-not-covered
has "one-click outside h=: dkim=pass" "$AUTH" "dkim=pass"
has "one-click outside h=: R4h" "$REPORT" "R4h=1 (one-click List-Unsubscribe-Post not covered"

run vi-oneclick-dkim-broken
has "changed body: dkim=fail" "$AUTH" "dkim=fail (body hash did not verify)"
has "changed body: R4h" "$REPORT" "R4h=1"

run vi-oneclick-unknown-key
has "unknown selector: dkim=permerror" "$AUTH" "dkim=permerror"

run label-management-code
has "management-code label: R1a" "$REPORT" "R1a=0.5"
run label-after-re
has "Re: label in a non-reply: R1b" "$REPORT" "R1b=2"
run vi-unlabelled-bulk
has "unlabelled bulk advertising: ADV_NO_LABEL" "$REPORT" "ADV_NO_LABEL=3"
run vi-html-only
hasnt "HTML-only compliant: no R3" "$REPORT" "R3="
hasnt "HTML-only compliant: no R4" "$REPORT" "R4="

run vi-personal
hasnt "personal mail: no advertising rule" "$REPORT" "ADV_"
hasnt "personal mail: no R4" "$REPORT" "R4"
has "personal mail: no DKIM signature, dkim not reported" "$AUTH" "mx.chanrac.test"
hasnt "personal mail: no dkim=" "$AUTH" "dkim="

exec 7>&-
finish
