#!/bin/bash
# chanrac-milter's per-day counts as the periodic reports read them (real
# redis-server, real chanrac-milter driven by miltertest): every checked message
# in msg.total, authenticated submissions (mail our users send) also in
# out.total; each inbound advertising message in adv.total, its advertiser
# (organisational domain) in the distinct set and the regulation rules it
# failed (R1, R3, R4, R7; not R4h) under adv_rule; each outbound one under
# adv_sent per SASL user with its template id (fingerprint id, also for a text
# too short for the spam templates) in adv_tpl; personal mail, a refused
# submission and a deferred message in none of them.
# Then the D91 annual report (1.1, 1.2, 1.4, 1.5), Mẫu số 1 (3.1-3.3, per
# customer) and `chanrac stats`.
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
FAKE_PID=$!
PIDS+=("$FAKE_PID")
wait_for 5 test -s "$T/fakedns.out" || { not_ok "fakedns starts"; finish; }
FAKE_PORT=$(head -n 1 "$T/fakedns.out")
MPORT=$(free_port)
write_conf "$T/chanrac.conf" <<EOF
[log]
syslog = no
level = info
[cli]
source = test
[optout]
grace = 0s
[templates]
weight = 12
[engine]
dns_servers = 127.0.0.1:$FAKE_PORT
deadline = 2s
fail_mode = tempfail
authserv_id = mx.chanrac.test
[milter]
socket = inet:$MPORT@127.0.0.1
user = nobody
stats = yes
stats_interval = 100ms
EOF
start_milter "$T/chanrac.conf" || { not_ok "chanrac-milter starts"; finish; }
cr() { "$BIN/chanrac" -c "$T/chanrac.conf" "$@"; }
C=$ROOT/tests/corpus/advert
body() { sed '1,/^$/d' "$C/$1.eml" >"$T/$1.txt"; }
body vi-compliant-ad       # label, advertiser block, opt-out section
body vi-optout-missing     # R4
body vi-unlabelled-direct  # no label (R1), R3, R4
# advmsg.lua adds no List-Unsubscribe: every advertisement below also hits R4h
printf 'Hello,\nthe minutes of the meeting are attached.\n' >"$T/body.txt"
# fewer distinct words than [templates] min_words (10)
printf 'Giảm giá 50%% hôm nay tại https://shop-abc.vn\n' >"$T/short.txt"
# send QID FROM RCPTS SUBJECT BODYFILE [AUTH]: the milter's answer in $T/QID.out
send() {
	miltertest -s "$LUA/advmsg.lua" -D "SOCK=inet:$MPORT@127.0.0.1" -D "DIR=$LUA" \
		-D "QID=$1" -D "FROM=$2" -D "RCPTS=$3" -D "SUBJECT=$4" -D "BODYFILE=$5" \
		-D "AUTH=${6:-}" -D "REPLY=" >"$T/$1.out" 2>&1 ||
		{ echo "# miltertest $1 failed:"; sed 's/^/#   /' "$T/$1.out" | tail -n 5; }
}
report() { sed -n 's/^# report: //p' "$T/$1.out"; }
# rules QID: the rule ids of QID's log line, e.g. "SPF_NONE ADV_LABEL R4h R10"
rules() { sed -n "s/.* $1: .* rules=\([^ ]*\) .*/\1/p" "$T/milter.log" | tr ',' '\n' | sed 's/=.*//' | xargs; }
send Q1 a@sender.test b@isp.example.vn minutes "$T/body.txt" alice@isp.example.vn
send Q2 a@sender.test b@isp.example.vn minutes "$T/body.txt" bob@isp.example.vn
send Q3 a@sender.test b@isp.example.vn minutes "$T/body.txt"

# ---- inbound advertising ----------------------------------------------------------------
expect_rc "optout add chi@example.vn (for R7)" 0 \
	cr optout add chi@example.vn --advertiser shop-abc.vn --channel web
send AD1 news@shop-abc.vn an@example.vn "[QC] Ưu đãi cuối năm" "$T/vi-compliant-ad.txt"
send AD2 tin@mail.shop-abc.vn an@example.vn "[QC] Khuyến mãi" "$T/vi-optout-missing.txt"
send AD3 tin@sach.other-shop.vn an@example.vn "Giảm giá sốc hôm nay" "$T/vi-unlabelled-direct.txt"
send AD4 news@shop-abc.vn chi@example.vn "[QC] Ưu đãi cuối năm" "$T/vi-compliant-ad.txt"
wait_for 5 grep -q ' AD4: ' "$T/milter.log"
expect_eq "AD1: compliant (R4h is not a D91 rule; R10: From not aligned, no DMARC policy)" "SPF_NONE ADV_LABEL R4h R10" "$(rules AD1)"
expect_eq "AD2: no opt-out section" "SPF_NONE ADV_LABEL R4 R4h R10" "$(rules AD2)"
expect_eq "AD3: unlabelled, no block, no opt-out" "SPF_NONE ADV_NO_LABEL R3 R4 R4h R10" "$(rules AD3)"
expect_eq "AD4: its only recipient opted out" "SPF_NONE ADV_LABEL R4h R7 R10" "$(rules AD4)"
check "AD4: rejected" grep -qE ' AD4: .* action=reject' "$T/milter.log"

# ---- outbound advertising ----------------------------------------------------------------
send OUT1 sales@sender.test x1@example.org "[QC] Ưu đãi cuối năm" "$T/vi-compliant-ad.txt" alice@isp.example.vn
send OUT2 sales@sender.test x2@example.org "[QC] Ưu đãi tháng 12" "$T/vi-compliant-ad.txt" alice@isp.example.vn
send OUT3 deals@sender.test y1@example.org "[QC] Giảm giá" "$T/short.txt" bob@isp.example.vn
for q in OUT1 OUT2 OUT3; do
	expect_eq "$q: accepted" "accept" "$(sed -n 's/^# reply: //p' "$T/$q.out")"
	case "$(report $q)" in *ADV_*|*R4*) not_ok "$q: no advertising rule on outbound mail: $(report $q)";;
	*) ok "$q: no advertising rule on outbound mail";; esac
done

# ---- the counters ------------------------------------------------------------------------
DAY=$(date -u +%F)
DAYKEY="cr:{st}:day:$DAY"
rc() { redis-cli -p "$REDIS_PORT" "$@"; }
labels() { rc hgetall "cr:{st}:lab:$1:$DAY" | paste -d= - - | sort | xargs; }
if wait_for 5 sh -c "[ \"\$(redis-cli -p $REDIS_PORT hget '$DAYKEY' msg.total)\" = 10 ]"; then
	ok "ten messages counted in msg.total"
else
	not_ok "ten messages counted (msg.total=$(rc hget "$DAYKEY" msg.total))"
fi
expect_eq "the five authenticated submissions counted in out.total" "5" "$(rc hget "$DAYKEY" out.total)"
expect_eq "adv.total: the four inbound advertisements" "4" "$(rc hget "$DAYKEY" adv.total)"
expect_eq "advertisers: shop-abc.vn and other-shop.vn" "other-shop.vn shop-abc.vn" \
	"$(rc smembers "cr:{st}:set:advertiser:$DAY" | sort | xargs)"
expect_eq "adv_rule: the D91 rules failed, once per message" "R1=1 R3=1 R4=2 R7=1" "$(labels adv_rule)"
expect_eq "out.adv: the three outbound advertisements" "3" "$(rc hget "$DAYKEY" out.adv)"
expect_eq "adv_sent: per SASL user" "alice@isp.example.vn=2 bob@isp.example.vn=1" "$(labels adv_sent)"
rc smembers "cr:{st}:set:adv_tpl:$DAY" | sort >"$T/tpl"
expect_eq "adv_tpl: alice's one text (sent twice) and bob's short one" \
	"alice@isp.example.vn bob@isp.example.vn" "$(cut -f1 "$T/tpl" | xargs)"
check "adv_tpl: bob's template id is a fingerprint id" grep -qE '^bob@isp.example.vn	[0-9a-f]{16}$' "$T/tpl"
expect_rc "template add of alice's advertisement" 0 cr template add "$C/vi-compliant-ad.eml" --reason "id check"
TID=$(sed -n 's/^added template \([0-9a-f]\{16\}\) .*/\1/p' "$T/last.out")
expect_eq "adv_tpl: alice's template id is the one chanrac template gives her text" \
	"alice@isp.example.vn	$TID" "$(grep '^alice' "$T/tpl")"

# ---- not counted: a refused submission (not sent), a deferred message ---------------------
# alice's text is now a spam template (weight 12): her next one is refused
send OUT4 sales@sender.test x4@example.org "[QC] Ưu đãi" "$T/vi-compliant-ad.txt" alice@isp.example.vn
check "OUT4: refused (TEMPLATE)" grep -qE ' OUT4: .*TEMPLATE=12.* action=reject' "$T/milter.log"
# no DNS answer at all: [engine] fail_mode = tempfail
kill "$FAKE_PID"
send AD5 news@shop-abc.vn an@example.vn "[QC] Ưu đãi" "$T/vi-optout-missing.txt"
check "AD5: deferred (DNS failed)" grep -qE ' AD5: .*action=tempfail' "$T/milter.log"
if wait_for 5 sh -c "[ \"\$(redis-cli -p $REDIS_PORT hget '$DAYKEY' msg.total)\" = 12 ]"; then
	ok "OUT4 and AD5 counted in msg.total"
else
	not_ok "OUT4 and AD5 counted in msg.total ($(rc hget "$DAYKEY" msg.total))"
fi
expect_eq "the refused submission is not advertising sent (out.adv)" "3" "$(rc hget "$DAYKEY" out.adv)"
expect_eq "nor under adv_sent" "alice@isp.example.vn=2 bob@isp.example.vn=1" "$(labels adv_sent)"
expect_eq "the deferred message is not in adv.total (counted when it comes back)" "4" \
	"$(rc hget "$DAYKEY" adv.total)"
expect_eq "nor under adv_rule" "R1=1 R3=1 R4=2 R7=1" "$(labels adv_rule)"

# ---- the reports -------------------------------------------------------------------------
jcheck() {
	if python3 -c "import json,sys
d=json.loads(sys.argv[1])
rows={it['id']:(it['value'],it['previous']) for s in d.get('sections',[]) for it in s['items'] if 'value' in it}
$3" "$2" 2>"$T/py.err"; then ok "$1"; else
		not_ok "$1"; sed 's/^/#   /' "$T/py.err" | tail -n 3; fi
}
j=$(cr compliance-report --kind annual --period "$DAY" --format json)
jcheck "annual report: 6 received, 6 sent, 4 advertising, 2 advertisers" "$j" "
assert (rows['1.1'],rows['1.2'],rows['1.4'],rows['1.5'])==((6,0),(6,0),(4,0),(2,0)), rows"
j=$(cr compliance-report --kind semiannual --period "$DAY" --form 1 --format json)
jcheck "Mẫu số 1: 2 customers, 2 advertising messages, 3 advertising emails" "$j" "
assert (rows['3.1'],rows['3.2'],rows['3.3'])==((2,0),(2,0),(3,0)), rows
assert d['sections'][1]['items'][0]['rows']==[['1','alice@isp.example.vn','1','2'],['2','bob@isp.example.vn','1','1']], d['sections'][1]"
j=$(cr stats --from "$DAY" --to "$DAY" --json)
jcheck "chanrac stats: advertising counters, rules, advertisers" "$j" "
assert d['counters']['adv.total']==4 and d['counters']['out.adv']==3, d['counters']
assert d['labels']['adv_rule']=={'R1':1,'R3':1,'R4':2,'R7':1} and d['distinct']['advertiser']==2, d"
exec 7>&-
finish
