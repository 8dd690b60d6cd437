#!/bin/bash
# chanrac stats and chanrac compliance-report over statistics seeded in a real
# Redis (the per-day keys of doc/redis-keys.md, as the milter and the CLI write
# them): every figure and % change of the D91 annual report, of Mẫu số 1 and of
# the spam section of Mẫu số 3 against numbers worked out by hand below, with
# seeded days on both sides of every period edge (15 Dec / 14 Dec, 15 Nov /
# 14 May, 15 May / 14 Nov), in md, csv, json and html, hand-entered fields from
# a file and from options, and bad input.
. "$(dirname "$0")/../lib.sh"

CLI=$BIN/chanrac
[ -x "$CLI" ] || { not_ok "chanrac built"; finish; }
start_redis || { not_ok "redis"; finish; }
# two installations in one Redis: "ann" holds the annual seeds, "semi" the
# semi-annual ones, so that the hand computations stay independent
write_conf "$T/ann.conf" <<EOF
key_prefix = ann
EOF
write_conf "$T/semi.conf" <<EOF
key_prefix = semi
EOF
rc() { redis-cli -p "$REDIS_PORT" "$@" >/dev/null; }
day() { echo "$1:{st}:day:$2"; }

# ---- annual seeds (prefix ann) ------------------------------------------------------
# period 2026 = 2025-12-15 .. 2026-12-14; previous 2025 = 2024-12-15 .. 2025-12-14
rc HSET "$(day ann 2025-12-15)" msg.total 100 msg.reject 10 msg.quarantine 5 out.total 40 \
	adv.total 20 report.received 4 report.processed 3 wrong.released 1 wrong.notspam 1 \
	list.added 6 list.removed 2 list.exported 100 list.imported 1000
rc HSET "$(day ann 2026-06-01)" msg.total 150 msg.reject 20 msg.quarantine 2 out.total 50 \
	adv.total 25 report.received 6 report.processed 4 wrong.released 1 list.added 4 \
	list.removed 1 list.exported 100 list.imported 500
rc HSET "$(day ann 2026-12-14)" msg.total 50
rc HSET "$(day ann 2026-12-15)" msg.total 9999 report.received 999      # next period
rc HSET "$(day ann 2025-12-14)" msg.total 200 msg.reject 30 msg.quarantine 3 out.total 120 \
	report.received 8 report.processed 8 wrong.released 2 wrong.notspam 2 list.added 8 \
	list.removed 4 list.exported 150 list.imported 3000
rc HSET "$(day ann 2024-12-15)" msg.total 40 list.exported 50
rc HSET "$(day ann 2024-12-14)" msg.total 7777                           # before both
rc SADD "ann:{st}:set:advertiser:2025-12-15" a.vn b.vn
rc SADD "ann:{st}:set:advertiser:2026-06-01" b.vn c.vn
rc SADD "ann:{st}:set:advertiser:2026-12-15" z.vn
rc SADD "ann:{st}:set:advertiser:2025-12-14" a.vn d.vn
# By hand (this period / previous / change):
#   received (msg.total - out.total) 300-90=210 / 240-120=120 / +75.0%
#   sent 40+50=90 / 120 / -25.0%
#   mailboxes (entered) 1000 / 900 / +11.1%          advertising 20+25=45 / 0 / n/a
#   advertisers {a,b,c}=3 / {a,d}=2 / +50.0%         reports 4+6=10 / 8 / +25.0%
#   processed 3+4=7 / 8 / -12.5%                     rejected 10+20=30 / 30 / 0.0%
#   quarantined 5+2=7 / 3 / +133.3%                  wrongly blocked 1+1+1=3 / 2+2=4 / -25.0%
#   added 6+4=10 / 8 / +25.0%   removed 2+1=3 / 4 / -25.0%   shared 100+100=200 / 150+50=200 / 0.0%
#   received from others (imported) 1000+500=1500 / 3000 / -50.0%

cat >"$T/manual.txt" <<'EOF'
# hand-entered fields
provider = ISP Example JSC
revenue = 12.5 billion VND
growth = +8% year on year
recommendations = Share blacklists between providers weekly.
mailboxes = 1000
mailboxes_prev = 1
EOF
jcheck() {
	local name=$1 json=$2 code=$3
	if python3 -c "import json,sys
d=json.loads(sys.argv[1])
$code" "$json" 2>"$T/py.err"; then ok "$name"; else
		not_ok "$name"; sed 's/^/#   /' "$T/py.err" | tail -n 4; echo "#   $json" | cut -c1-600; fi
}
# rows of a report's sections as {id: (value, previous, change)}
ROWS="rows={}
for s in d['sections']:
    for it in s['items']:
        if 'value' in it: rows[it['id']]=(it['value'],it['previous'],it['change'])
"
j=$("$CLI" -c "$T/ann.conf" compliance-report --kind annual --period 2026 --format json \
	--input "$T/manual.txt" --mailboxes-prev 900)
jcheck "annual: periods and hand-entered fields" "$j" "
assert d['period'].startswith('2025-12-15 – 2026-12-14'), d['period']
assert d['previous period'].startswith('2024-12-15 – 2025-12-14')
assert d['due']=='before 2026-12-31' and d['provider']=='ISP Example JSC'
assert [s['id'] for s in d['sections']]==['1','2','3']
assert d['sections'][2]['items'][0]['text']=='Share blacklists between providers weekly.'"
jcheck "annual: every figure and % change" "$j" "$ROWS
want={'1.1':(210,120,'+75.0%'),'1.2':(90,120,'-25.0%'),'1.3':(1000,900,'+11.1%'),
 '1.4':(45,0,'n/a'),'1.5':(3,2,'+50.0%'),'2.1':(10,8,'+25.0%'),'2.2':(7,8,'-12.5%'),
 '2.3':(30,30,'0.0%'),'2.4':(7,3,'+133.3%'),'2.5':(3,4,'-25.0%'),'2.6':(10,8,'+25.0%'),
 '2.7':(3,4,'-25.0%'),'2.8':(200,200,'0.0%'),'2.9':(1500,3000,'-50.0%')}
assert rows==want, {k:(rows.get(k),v) for k,v in want.items() if rows.get(k)!=v}"
j=$("$CLI" -c "$T/ann.conf" compliance-report --kind annual --period 2026-12-14 --format json)
jcheck "annual edge: 14 Dec is the last day of its year's period" "$j" "$ROWS
assert d['period'].startswith('2025-12-15 – 2026-12-14') and rows['1.1'][:2]==(210,120), rows['1.1']
assert rows['1.3']==(None,None,None), 'mailboxes not entered'"
j=$("$CLI" -c "$T/ann.conf" compliance-report --kind annual --period 2026-12-15 --format json)
jcheck "annual edge: 15 Dec starts the next period" "$j" "$ROWS
assert d['period'].startswith('2026-12-15 – 2027-12-14') and rows['1.1']==(9999,210,'+4661.4%'), rows['1.1']
assert rows['2.1']==(999,10,'+9890.0%'), rows['2.1']"
j=$("$CLI" -c "$T/ann.conf" compliance-report --kind annual --period 2025 --format json)
jcheck "annual edge: 2025 ends on 14 Dec and leaves out 14 Dec 2024" "$j" "$ROWS
assert rows['1.1']==(120,7777,'-98.5%'), rows['1.1']"
j=$("$CLI" -c "$T/ann.conf" stats --from 2025-12-15 --to 2026-12-14 --json)
jcheck "chanrac stats over the same days" "$j" "
c=d['counters']; assert d['days']==365 and c['msg.total']==300 and c['list.exported']==200, c
assert d['distinct']['advertiser']==3"
j=$("$CLI" -c "$T/ann.conf" stats --from 2025-12-14 --to 2025-12-15 --json)
jcheck "chanrac stats: both edge days" "$j" "assert d['counters']['msg.total']==300 and d['days']==2"
md=$("$CLI" -c "$T/ann.conf" compliance-report --kind annual --period 2026 --mailboxes 1000 --mailboxes-prev 900)
check "annual md: a row with its change" grep -qF "| 1.1 | Emails received (Số email nhận) | 210 | 120 | +75.0% |" <<<"$md"
check "annual md: the three sections" sh -c "grep -c '^## [123]\. ' | grep -qx 3" <<<"$md"
csv=$("$CLI" -c "$T/ann.conf" compliance-report --kind annual --period 2026 --format csv)
check "annual csv: header and a row" sh -c "head -n 1 | grep -qx 'section,item,value,previous,change'" <<<"$csv"
check "annual csv: wrongly blocked row" grep -qxF "2.5,Wrongly blocked: released or reported not-spam (Chặn nhầm),3,4,-25.0%" <<<"$csv"
html=$("$CLI" -c "$T/ann.conf" compliance-report --kind annual --period 2026 --format html --provider "A&B <ISP>")
check "annual html: escaped provider and a row" sh -c "grep -qF 'A&amp;B &lt;ISP&gt;' && true" <<<"$html"
check "annual html: quarantine row" grep -qF "<td>2.4</td><td>Spam blocked: quarantined (Chặn: cách ly)</td><td>7</td><td>3</td><td>+133.3%</td>" <<<"$html"

# ---- semi-annual seeds (prefix semi) --------------------------------------------------
# 2026-H1 = 2025-11-15 .. 2026-05-14 (due before 15 May); previous 2025-H2 = 2025-05-15 .. 2025-11-14
rc HSET "$(day semi 2025-11-15)" msg.tag 5 msg.quarantine 5 msg.reject 10 report.received 5 \
	optout.received.web 4 optout.received.email 3 optout.received.phone 1 \
	optout.confirmed.web 4 optout.confirmed.email 2 optout.processed.web 4 \
	optout.processed.email 2 optout.failed.email 1 optout.failed.phone 1
rc HSET "$(day semi 2026-05-14)" msg.reject 20 report.received 7 report.processed 9 \
	optout.received.web 2 optout.confirmed.web 2 optout.processed.web 1 optout.failed.web 1
rc HSET "$(day semi 2026-05-15)" msg.reject 1000 report.received 1000 optout.received.web 50
rc HSET "$(day semi 2025-11-14)" msg.tag 10 msg.reject 10 report.received 16
rc HSET "$(day semi 2025-05-15)" msg.quarantine 12 report.processed 6
rc HSET "$(day semi 2025-05-14)" msg.reject 500
rc HSET "semi:{st}:lab:adv_sent:2025-11-15" shop-a.vn 30 shop-b.vn 10
rc HSET "semi:{st}:lab:adv_sent:2026-05-14" shop-a.vn 20 user@sasl.example 5
rc HSET "semi:{st}:lab:adv_sent:2026-05-15" shop-z.vn 999
rc HSET "semi:{st}:lab:adv_sent:2025-11-14" shop-a.vn 40 shop-c.vn 12
rc SADD "semi:{st}:set:adv_tpl:2025-11-15" "shop-a.vn	T1" "shop-a.vn	T2" "shop-b.vn	T3"
rc SADD "semi:{st}:set:adv_tpl:2026-05-14" "shop-a.vn	T1" "user@sasl.example	T4"
rc SADD "semi:{st}:set:adv_tpl:2026-05-15" "shop-z.vn	T9"
rc SADD "semi:{st}:set:adv_tpl:2025-11-14" "shop-a.vn	T1" "shop-c.vn	T5" "shop-c.vn	T6"
rc HSET "semi:{st}:lab:optout_reason:2025-11-15" "recipient address unknown" 1 "phone line unreachable" 1
rc HSET "semi:{st}:lab:optout_reason:2026-05-14" "recipient address unknown" 1
rc HSET "semi:{st}:lab:optout_reason:2026-05-15" "out of period" 7
# By hand, 2026-H1 / 2025-H2 / change:
#   Mẫu 3: spam detected 5+5+10+20=40 / 10+10+12=32 / +25.0%; reports 5+7=12 / 16 / -25.0%;
#          processed 9 / 6 / +50.0%
#   Mẫu 1: customers {shop-a, shop-b, user@sasl}=3 / {shop-a, shop-c}=2 / +50.0%
#          messages (distinct customer+template) 4 / 3 / +33.3%; emails 30+10+20+5=65 / 52 / +25.0%
#          per customer: shop-a.vn 2 templates 50 emails; shop-b.vn 1, 10; user@sasl.example 1, 5
#          opt-outs received web 6 email 3 phone 1 total 10; confirmed 6 2 0 8;
#          processed 5 2 0 7; not processable 1 1 1 3; reasons: unknown address 2, phone 1
j=$("$CLI" -c "$T/semi.conf" compliance-report --kind semiannual --period 2026-H1 --form 3 --format json)
jcheck "Mẫu số 3 spam section: figures and changes" "$j" "$ROWS
assert d['period'].startswith('2025-11-15 – 2026-05-14') and d['due']=='before 2026-05-15'
assert rows=={'1.1':(40,32,'+25.0%'),'1.2':(12,16,'-25.0%'),'1.3':(9,6,'+50.0%')}, rows"
j=$("$CLI" -c "$T/semi.conf" compliance-report --kind semiannual --period 2026-H1 --form 1 --format json \
	--revenue "3 billion VND" --growth "+5%")
jcheck "Mẫu số 1: totals with changes" "$j" "$ROWS
assert [s['id'] for s in d['sections']]==['1','2','3','4','5']
assert rows=={'3.1':(3,2,'+50.0%'),'3.2':(4,3,'+33.3%'),'3.3':(65,52,'+25.0%')}, rows
assert d['sections'][0]['items'][0]['text']=='3 billion VND' and d['sections'][0]['items'][1]['text']=='+5%'"
jcheck "Mẫu số 1: per customer" "$j" "
t=d['sections'][1]['items'][0]; assert t['table']=='customers'
assert t['rows']==[['1','shop-a.vn','2','50'],['2','shop-b.vn','1','10'],['3','user@sasl.example','1','5']], t['rows']"
jcheck "Mẫu số 1: opt-out requests by channel, and the reasons" "$j" "
t=d['sections'][3]['items'][0]; assert t['columns'][2:]==['Web','Email','Phone (Điện thoại)','Total (Tổng)']
assert [r[2:] for r in t['rows']]==[['6','3','1','10'],['6','2','0','8'],['5','2','0','7'],['1','1','1','3']], t['rows']
r=d['sections'][3]['items'][1]['rows']
assert r==[['phone line unreachable','1'],['recipient address unknown','2']], r"
j=$("$CLI" -c "$T/semi.conf" compliance-report --kind semiannual --period 2026-05-14 --form 3 --format json)
jcheck "semi-annual edge: 14 May closes H1" "$j" "$ROWS
assert d['period'].startswith('2025-11-15 – 2026-05-14') and rows['1.2'][0]==12"
j=$("$CLI" -c "$T/semi.conf" compliance-report --kind semiannual --period 2026-05-15 --form 3 --format json)
jcheck "semi-annual edge: 15 May opens H2 (previous = H1)" "$j" "$ROWS
assert d['period'].startswith('2026-05-15 – 2026-11-14') and d['due']=='before 2026-11-15'
assert rows['1.1']==(1000,40,'+2400.0%') and rows['1.2']==(1000,12,'+8233.3%'), rows"
j=$("$CLI" -c "$T/semi.conf" compliance-report --kind semiannual --period 2025-11-14 --form 3 --format json)
jcheck "semi-annual edge: 14 Nov closes H2, 15 May opened it" "$j" "$ROWS
assert d['period'].startswith('2025-05-15 – 2025-11-14') and rows['1.1']==(32,500,'-93.6%'), rows"
j=$("$CLI" -c "$T/semi.conf" compliance-report --kind semiannual --period 2025-11-15 --form 3 --format json)
jcheck "semi-annual edge: 15 Nov opens the next H1" "$j" "
assert d['period'].startswith('2025-11-15 – 2026-05-14')"
j=$("$CLI" -c "$T/semi.conf" compliance-report --kind semiannual --period 2026-H1 --format json)
jcheck "semi-annual without --form: both forms" "$j" "
assert len(d)==2 and d[0]['title'].startswith('Mẫu số 1') and d[1]['title'].startswith('Mẫu số 3')"
md=$("$CLI" -c "$T/semi.conf" compliance-report --kind semiannual --period 2026-H1)
check "semi-annual md: opt-out row" grep -qF "| 4.4 | Not processable, force majeure (Không xử lý được do bất khả kháng) | 1 | 1 | 1 | 3 |" <<<"$md"
check "semi-annual md: Mẫu 3 row" grep -qF "| 1.1 | Spam detected (Số thư rác phát hiện) | 40 | 32 | +25.0% |" <<<"$md"
expect_rc "-o writes the report to a file" 0 "$CLI" -c "$T/semi.conf" compliance-report --kind semiannual --period 2026-H1 --format csv -o "$T/r.csv"
check "...with the totals" grep -qxF "3.3,Advertising emails (Số email quảng cáo),65,52,+25.0%" "$T/r.csv"

# ---- live counts: the commands that feed the reports ---------------------------------
write_conf "$T/live.conf" <<EOF
key_prefix = live
EOF
L() { "$CLI" -c "$T/live.conf" "$@"; }
L optout add an@isp.example.vn --advertiser shop-a.vn --channel web >/dev/null
j=$(L optout add binh@isp.example.vn --advertiser shop-a.vn --channel email --json)
oid=$(echo "$j" | python3 -c "import json,sys; print(json.load(sys.stdin)['request']['id'])")
L optout add chi@isp.example.vn --all --channel email >/dev/null
L optout confirm "$oid" >/dev/null
expect_rc "stats record optout (not processable, by phone)" 0 L stats record optout --channel phone --stage failed --reason "line unreachable"
expect_rc "stats record optout --stage failed needs a reason" 2 L stats record optout --channel phone --stage failed
expect_rc "stats record optout with a bad channel" 2 L stats record optout --channel fax --stage received
expect_rc "stats record released" 0 L stats record released --count 2
L report --not-spam "$ROOT/tests/corpus/report/spam-forged.eml" --reporter live-1 >/dev/null
today=$(date -u +%F)
j=$(L compliance-report --kind semiannual --period "$today" --form 1 --format json)
jcheck "live: opt-out requests from optout add/confirm and stats record" "$j" "
t=d['sections'][3]['items'][0]
assert [r[2:] for r in t['rows']]==[['1','2','0','3'],['0','1','0','1'],['1','2','0','3'],['0','0','1','1']], t['rows']
assert d['sections'][3]['items'][1]['rows']==[['line unreachable','1']]"
j=$(L compliance-report --kind annual --period "$today" --format json)
jcheck "live: wrongly blocked = released + not-spam reports" "$j" "$ROWS
assert rows['2.5']==(3,0,'n/a'), rows['2.5']"

# ---- the counting API other modules call (lib/stats.h), through tests/tools/stats_feed --
FEED=$ROOT/$BUILD/tests/tools/stats_feed
if [ -x "$FEED" ]; then
	write_conf "$T/api.conf" <<EOF
key_prefix = api
EOF
	d1=$(date -u -d 2026-03-10T12:00:00 +%s)   # in 2026 and in 2026-H1
	d0=$(date -u -d 2025-03-10T12:00:00 +%s)   # in 2025 (annual previous)
	d2=$(date -u -d 2025-09-10T12:00:00 +%s)   # in 2025-H2 (semi-annual previous)
	F() { "$FEED" "$T/api.conf" "$@"; }
	F "$d1" advert-in shop-a.vn R1 R4 && F "$d1" advert-in shop-a.vn && F "$d1" advert-in shop-b.vn R4 &&
	F "$d1" advert-out cust1 T1 && F "$d1" advert-out cust1 T1 && F "$d1" advert-out cust1 T2 &&
	F "$d1" advert-out cust2 T1 && F "$d2" advert-out cust1 T9 && F "$d0" advert-in shop-c.vn
	expect_eq "stats_feed wrote every event" 0 "$?"
	expect_rc "stats_feed: a bad event is refused" 2 F "$d1" advert-sideways x
	# by hand: advertising 3 / 1 / +200.0%; advertisers {shop-a, shop-b} 2 / {shop-c} 1 / +100.0%;
	# customers {cust1, cust2} 2 / {cust1} 1; messages {cust1 T1, cust1 T2, cust2 T1} 3 / 1;
	# emails 3+1=4 / 1
	j=$("$CLI" -c "$T/api.conf" compliance-report --kind annual --period 2026 --format json)
	jcheck "API: advertising emails and distinct advertisers in the annual report" "$j" "$ROWS
assert rows['1.4']==(3,1,'+200.0%') and rows['1.5']==(2,1,'+100.0%'), (rows['1.4'], rows['1.5'])"
	j=$("$CLI" -c "$T/api.conf" compliance-report --kind semiannual --period 2026-H1 --form 1 --format json)
	jcheck "API: Mẫu số 1 customers, messages and emails" "$j" "$ROWS
assert rows=={'3.1':(2,1,'+100.0%'),'3.2':(3,1,'+200.0%'),'3.3':(4,1,'+300.0%')}, rows
assert d['sections'][1]['items'][0]['rows']==[['1','cust1','2','3'],['2','cust2','1','1']]"
	j=$("$CLI" -c "$T/api.conf" stats --from 2026-03-10 --to 2026-03-10 --json)
	jcheck "API: stats shows the rule counts and the distinct advertisers" "$j" "
assert d['labels']['adv_rule']=={'R1':1,'R4':2} and d['distinct']['advertiser']==2, d
assert d['counters']['adv.total']==3 and d['counters']['out.adv']==4 and d['labels']['adv_sent']=={'cust1':3,'cust2':1}, d"
else
	not_ok "tests/tools/stats_feed built (make BUILD=$BUILD unit)"
fi

# ---- bad input ------------------------------------------------------------------------
expect_rc "unknown kind" 2 "$CLI" -c "$T/semi.conf" compliance-report --kind weekly --period 2026
expect_rc "bad semi-annual period" 2 "$CLI" -c "$T/semi.conf" compliance-report --kind semiannual --period 2026-H3
check "...named in the error" grep -q "2026-H3" "$T/last.err"
expect_rc "annual period given as a half" 2 "$CLI" -c "$T/ann.conf" compliance-report --kind annual --period 2026-H1
expect_rc "impossible day" 2 "$CLI" -c "$T/ann.conf" compliance-report --kind annual --period 2026-02-30
expect_rc "unknown format" 2 "$CLI" -c "$T/ann.conf" compliance-report --kind annual --period 2026 --format pdf
expect_rc "--form with the annual report" 2 "$CLI" -c "$T/ann.conf" compliance-report --kind annual --period 2026 --form 1
printf 'provider = X\nturnover = 5\n' >"$T/bad.txt"
expect_rc "unknown key in the input file" 2 "$CLI" -c "$T/ann.conf" compliance-report --kind annual --period 2026 --input "$T/bad.txt"
check "...named with its line" grep -q "bad.txt:2" "$T/last.err"
expect_rc "bad mailbox count" 2 "$CLI" -c "$T/ann.conf" compliance-report --kind annual --period 2026 --mailboxes -5
expect_rc "stats: --to before --from" 2 "$CLI" -c "$T/ann.conf" stats --from 2026-01-02 --to 2026-01-01
expect_rc "stats: missing --to" 2 "$CLI" -c "$T/ann.conf" stats --from 2026-01-02
write_conf "$T/down.conf" <<EOF
key_prefix = ann
EOF
sed -i "s/^port = .*/port = $(free_port)/" "$T/down.conf"
expect_rc "Redis down: exit 3" 3 "$CLI" -c "$T/down.conf" compliance-report --kind annual --period 2026
finish
