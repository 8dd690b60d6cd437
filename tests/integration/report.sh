#!/bin/bash
# chanrac report | reports | block | audit with a real Redis and a real
# chanrac-rbld: the originating IP and domains of plain messages and ARF reports
# (the RFC 5965 examples, RFC 6430 not-spam, forged Received fields below our
# relays), automatic listing exactly at the threshold of distinct reporters and
# the listing answered over DNS, duplicates counted once, private / loopback /
# own-relay / allow-listed items never listed, delisting with an audit trail,
# review (accept/reject), `block` answered within 1 s, --arf output, bad input.
. "$(dirname "$0")/../lib.sh"

CLI=$BIN/chanrac
C=$ROOT/tests/corpus
[ -x "$CLI" ] && [ -x "$BIN/chanrac-rbld" ] || { not_ok "chanrac and chanrac-rbld built"; finish; }
start_redis || { not_ok "redis"; finish; }
chmod 755 "$T"
PORT=$(free_port)
write_conf "$T/c.conf" <<EOF
[log]
syslog = no
level = warn
[lists]
names = spam-ip spam-domain allow
[rbld]
listen = 127.0.0.1:$PORT
user = nobody
merge_interval = 50ms
[zone bl.test]
type = ip
lists = spam-ip
[zone dbl.test]
type = domain
lists = spam-domain
[report]
trusted_relays = 127.0.0.0/8 ::1 10.20.0.0/16 198.51.100.25
ip_threshold = 3
domain_threshold = 3
fingerprint_threshold = 3
ip_code = 127.0.0.4
domain_code = 127.0.0.5
list_expires = 1d
arf_from = abuse@isp.example.vn
reporting_mta = mx1.isp.example.vn
EOF
cli() { "$CLI" -c "$T/c.conf" "$@"; }
ms() { date +%s%3N; }
short() { kdig @127.0.0.1 -p "$PORT" +time=1 +retry=1 +short "$@" 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//'; }
# jcheck NAME JSON PYTHON-ASSERTIONS (d = the parsed JSON)
jcheck() {
	local name=$1 json=$2 code=$3
	if python3 -c "import json,sys
d=json.loads(sys.argv[1])
$code" "$json" 2>"$T/py.err"; then ok "$name"; else
		not_ok "$name"; sed 's/^/#   /' "$T/py.err" | tail -n 3; echo "#   $json" | cut -c1-800; fi
}
# mkmsg FILE MSGID ORIGIN-IP DOMAIN: a spam message received by our MX (10.20.0.5)
mkmsg() {
	cat >"$1" <<EOM
Received: from mx1.isp.example.vn (mx1.isp.example.vn [10.20.0.5])
	by mailbox.isp.example.vn (Postfix) with LMTP id X1; Tue, 1 Dec 2026 10:00:02 +0700
Received: from sender.$4 (unknown [$3])
	by mx1.isp.example.vn (Postfix) with ESMTP id X0; Tue, 1 Dec 2026 10:00:01 +0700
From: "Sale" <sale@mail.$4>
To: user@isp.example.vn
Subject: sale $2
Message-ID: <$2@$4>
Date: Tue, 1 Dec 2026 10:00:00 +0700

Big sale on phones, laptops and watches today only at http://www.$4/sale now.
EOM
}
# mkarf FILE SOURCE-IP MSGID: an ARF report naming a Source-IP
mkarf() {
	cat >"$1" <<EOM
From: <fbl@peer.example>
Subject: report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="B"

--B
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: PeerFBL/1
Version: 1
Source-IP: $2

--B
Content-Type: text/rfc822-headers

From: x@peer-sender.example
Message-ID: <$3@peer-sender.example>
Subject: x

--B--
EOM
}
idof() { python3 -c "import json,sys; print(json.load(sys.stdin)[0]['id'])"; }

"$BIN/chanrac-rbld" -c "$T/c.conf" -f 2>"$T/rbld.log" &
PIDS+=("$!")
check "rbld starts" wait_for 10 sh -c "kdig @127.0.0.1 -p $PORT +time=1 +retry=0 bl.test SOA | grep -q NOERROR"

# --- what a report accuses ------------------------------------------------------------
j=$(cli report "$C/report/spam-forged.eml" --reporter u-analyse --json)
jcheck "plain message: origin past our relay, forged hops below ignored" "$j" "
r=d[0]
assert r['ip']=='203.0.113.77' and r['ip_via']=='received' and r['trusted_hops']==1, r
assert r['domains']==['spam-shop.vn','click-here.com.vn'], r['domains']
assert r['from_domain']=='spam-shop.vn'
assert len(r['fingerprint'])==16 and r['duplicate'] is False and r['status']=='pending'
assert [i['kind'] for i in r['items']]==['ip','domain','domain','fingerprint']"
j=$(cli report "$C/arf/forged-headers-only.eml" --reporter u-analyse --json)
jcheck "ARF (headers only) from a user: same origin through the forged chain" "$j" "
r=d[0]; assert r['arf'] and r['ip']=='203.0.113.77' and r['ip_via']=='received', r
assert r['domains']==['spam-shop.vn'] and r['fingerprint']=='', r"
j=$(cli report "$C/arf/rfc5965-b1-simple.eml" --reporter u-rfc1 --json)
jcheck "RFC 5965 B.1: origin from the enclosed Received" "$j" "
r=d[0]; assert r['arf'] and r['ip']=='192.0.2.1' and r['ip_via']=='received', r
assert r['domains']==['example.net'] and r['message_id']=='8787KJKJ3K4J3K4J3K4J3.mail@example.net'"
j=$(cli report "$C/arf/rfc5965-b2-full.eml" --reporter u-rfc2 --json)
jcheck "RFC 5965 B.2: Source-IP and Reported-Domain" "$j" "
r=d[0]; assert r['ip']=='192.0.2.1' and r['ip_via']=='arf source-ip', r
assert r['domains']==['example.net'], r"
j=$(cli report "$C/arf/base64-original.eml" --reporter u-b64 --json)
jcheck "ARF with a base64 original and an IPv6 Source-IP" "$j" "
r=d[0]; assert r['ip']=='2001:db8:77::5' and r['domains']==['example.org'], r"
j=$(cli report "$C/arf/rfc6430-not-spam.eml" --reporter u-ns --json)
nsid=$(echo "$j" | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
jcheck "RFC 6430 not-spam: stored, no vote" "$j" "
r=d[0]; assert r['kind']=='not-spam' and r['status']=='notspam' and r['ip']=='198.51.100.40', r
assert all(i['action']=='not-spam report: no vote' and i['reporters']==0 for i in r['items'])"
j=$(cli report "$C/report/internal.eml" --reporter u-int --json)
jcheck "internal mail: no origin outside our relays" "$j" "
r=d[0]; assert r['ip'] is None and r['ip_via']=='none', r"
j=$(cli report --not-spam "$C/report/spam-forged.eml" --reporter u-ns2 --json)
jcheck "--not-spam on a plain message" "$j" "r=d[0]; assert r['kind']=='not-spam' and r['status']=='notspam'"

# --- automatic listing exactly at the threshold ---------------------------------------
mkmsg "$T/t1.eml" t1 203.0.113.10 threshold-shop.vn
mkmsg "$T/t1b.eml" t1b 203.0.113.10 threshold-shop.vn
j=$(cli report "$T/t1.eml" --reporter r1 --json)
jcheck "1st reporter: 1 of 3, not listed" "$j" "
i={x['kind']+':'+x['item']:x for x in d[0]['items']}
assert i['ip:203.0.113.10']['reporters']==1 and not i['ip:203.0.113.10']['listed']
assert i['ip:203.0.113.10']['action']=='below threshold'"
j=$(cli report "$T/t1.eml" --reporter r1 --json)
jcheck "same reporter, same message again: a duplicate, not counted" "$j" "
r=d[0]; assert r['duplicate'] is True and r['items'][0]['reporters']==1, r"
j=$(cli report "$T/t1b.eml" --reporter r1 --json)
jcheck "same reporter, another copy: still one reporter" "$j" "
r=d[0]; assert r['duplicate'] is False and r['items'][0]['reporters']==1, r"
j=$(cli report "$T/t1.eml" --reporter r2 --json)
jcheck "2nd reporter: 2 of 3, not listed" "$j" "
assert d[0]['items'][0]['reporters']==2 and not d[0]['items'][0]['listed']"
expect_rc "below the threshold: not on the list" 1 cli query 203.0.113.10
expect_eq "below the threshold: not answered" "" "$(short 10.113.0.203.bl.test A)"
t0=$(ms)
j=$(cli report "$T/t1.eml" --reporter r3 --json)
jcheck "3rd reporter: listed (IP and domain), report status listed" "$j" "
i={x['kind']+':'+x['item']:x for x in d[0]['items']}
assert i['ip:203.0.113.10']['listed'] and i['ip:203.0.113.10']['action']=='listed on spam-ip'
assert i['domain:threshold-shop.vn']['listed'] and i['domain:threshold-shop.vn']['reporters']==3
assert d[0]['status']=='listed'"
check "the listing is answered by chanrac-rbld" wait_for 2 sh -c "kdig @127.0.0.1 -p $PORT +short 10.113.0.203.bl.test A | grep -qx 127.0.0.4"
echo "# answered $(($(ms) - t0)) ms after the report"
expect_eq "the domain listing is answered" "127.0.0.5" "$(short threshold-shop.vn.dbl.test A)"
expect_eq "TXT says why" '"reported as spam by 3 users"' "$(short 10.113.0.203.bl.test TXT)"
jcheck "...and its body fingerprint becomes a spam template" "$j" "
f=[x for x in d[0]['items'] if x['kind']=='fingerprint'][0]
assert f['reporters']==3 and f['listed'] and f['action']=='added to the spam templates', f"
fp=$(echo "$j" | python3 -c "import json,sys; print([x['item'] for x in json.load(sys.stdin)[0]['items'] if x['kind']=='fingerprint'][0])")
j=$(cli template list --json)
jcheck "chanrac template list shows it, with the report as source" "$j" "
t=[x for x in d if x['id']=='$fp']; assert len(t)==1, d
assert t[0]['source'].startswith('report:') and t[0]['reason']=='reported as spam by 3 users', t"
j=$(cli reports list --status listed --json)
jcheck "the contributing reports are processed (status listed)" "$j" "
assert sorted(r['reporter'] for r in d if r['ip']=='203.0.113.10')==['r1','r1','r2','r3'], d"
j=$(cli audit --key 203.0.113.10 --json)
jcheck "audit: who (report), why, reference (the report id)" "$j" "
assert len(d)==1 and d[0]['op']=='add' and d[0]['who']=='report' and len(d[0]['ref'])==16
assert d[0]['why']=='reported as spam by 3 users' and d[0]['list']=='spam-ip'"
j=$(cli report "$T/t1.eml" --reporter r4 --json)
jcheck "4th reporter: already listed" "$j" "
assert d[0]['items'][0]['action']=='already listed on spam-ip' and d[0]['status']=='listed'"

# --- never listed: private, loopback, our own relays, the allow list --------------------
for r in p1 p2 p3; do j=$(cli report "$C/report/private-origin.eml" --reporter $r --json); done
jcheck "private origin: never listed at 3 reporters" "$j" "
r=d[0]; assert r['ip_unlistable']=='private' and r['items'][0]['reporters']==3
assert r['items'][0]['action']=='never listed: private' and not r['items'][0]['listed']"
expect_rc "private origin not on the list" 1 cli query 192.168.1.50
for r in o1 o2 o3; do mkarf "$T/own.eml" 198.51.100.25 own-$r; j=$(cli report "$T/own.eml" --reporter $r --json); done
jcheck "our own (public) relay named by Source-IP: never listed" "$j" "
r=d[0]; assert r['ip']=='198.51.100.25' and r['ip_unlistable']=='one of our trusted relays', r
assert r['items'][0]['reporters']==3 and not r['items'][0]['listed']"
expect_rc "own relay not on the list" 1 cli query 198.51.100.25
for r in l1 l2 l3; do mkarf "$T/lo.eml" 127.0.0.9 lo-$r; j=$(cli report "$T/lo.eml" --reporter $r --json); done
jcheck "loopback Source-IP: never listed" "$j" "
r=d[0]; assert r['ip']=='127.0.0.9' and r['items'][0]['reporters']==3 and not r['items'][0]['listed'], r"
for r in l1 l2 l3; do mkarf "$T/v6.eml" fd00::25 v6-$r; j=$(cli report "$T/v6.eml" --reporter $r --json); done
jcheck "unique-local IPv6: never listed" "$j" "
r=d[0]; assert r['ip_unlistable']=='private (unique local)' and not r['items'][0]['listed'], r"
cli list add 203.0.113.50 partner.example --list allow --reason "partner" >/dev/null
for r in a1 a2 a3; do j=$(cli report "$C/report/allowed-origin.eml" --reporter $r --json); done
jcheck "allow-listed IP and domain: not listed at 3 reporters" "$j" "
i={x['kind']+':'+x['item']:x for x in d[0]['items']}
assert i['ip:203.0.113.50']['reporters']==3 and i['ip:203.0.113.50']['action']=='not listed: on the allow list'
assert i['domain:partner.example']['action']=='not listed: on the allow list'"
j=$(cli query 203.0.113.50 --json)
jcheck "allow-listed IP is on no spam list" "$j" "assert [m['list'] for m in d['matches']]==['allow'], d"

# --- delisting is audited and sticks; review ------------------------------------------
expect_rc "list del with --reason and --ref" 0 cli list del 203.0.113.10 --list spam-ip --reason "customer cleaned up" --ref TCK-7
j=$(cli audit --key 203.0.113.10 --json)
jcheck "audit: the delisting with who, why, ref and the removed value" "$j" "
x=d[-1]; assert x['op']=='del' and x['why']=='customer cleaned up' and x['ref']=='TCK-7'
assert x['who'].startswith('cli:') and 'reported as spam by 3 users' in x['value']"
mkmsg "$T/t1c.eml" t1c 203.0.113.10 other-shop.vn
j=$(cli report "$T/t1c.eml" --reporter r5 --json)
jcheck "after a delisting, more reports do not list it again" "$j" "
a=d[0]['items'][0]['action']; assert a.startswith('not listed: delisted by an operator'), a
assert d[0]['items'][0]['reporters']==5 and d[0]['status']=='pending', d"
id=$(echo "$j" | idof)
j=$(cli reports accept "$id" --reason "repeat offender" --json)
jcheck "reports accept lists it (operator decision)" "$j" "
assert d['status']=='accepted' and [i['item'] for i in d['items'] if i['listed']]==['203.0.113.10','other-shop.vn'], d"
check "accepted listing answered" wait_for 2 sh -c "kdig @127.0.0.1 -p $PORT +short 10.113.0.203.bl.test A | grep -qx 127.0.0.4"
j=$(cli audit --key 203.0.113.10 --json)
jcheck "audit: accept recorded with the operator and the report id" "$j" "
x=d[-1]; assert x['op']=='add' and x['why']=='repeat offender' and x['ref']=='$id' and x['who'].startswith('cli:')"
expect_rc "deciding twice is refused" 2 cli reports accept "$id"
# accepting lifts the hold a delisting left (a later delisting sets it again)
redis-cli -p "$REDIS_PORT" HEXISTS 'cr:{rp}:hold' ip:203.0.113.10 >"$T/hold.out"
expect_eq "accept lifts the operator's hold" "0" "$(cat "$T/hold.out")"
mkmsg "$T/t2.eml" t2 203.0.113.20 reject-shop.vn
cli report "$T/t2.eml" --reporter s1 >/dev/null
j=$(cli report "$T/t2.eml" --reporter s2 --json)
id2=$(echo "$j" | idof)
expect_rc "reports reject" 0 cli reports reject "$id2" --reason "legit newsletter"
j=$(cli report "$T/t2.eml" --reporter s3 --json)
jcheck "a rejected report's vote is withdrawn (2, not 3)" "$j" "
assert d[0]['items'][0]['reporters']==2 and not d[0]['items'][0]['listed'], d[0]['items'][0]"
j=$(cli reports show "$id2" --json)
jcheck "reports show: evidence and decision" "$j" "
assert d['status']=='rejected' and d['decision']=='legit newsletter' and d['reporter']=='s2'
assert 'Received: from mx1.isp.example.vn' in d['headers'] and d['ip']=='203.0.113.20'"
expect_rc "reports show of an unknown id: exit 1" 1 cli reports show 0000000000000000
# a confirmed not-spam report takes its sender off the spam lists (P3)
cli list add 198.51.100.40 --list spam-ip --reason "listed by mistake" >/dev/null
j=$(cli reports accept "$nsid" --reason "wrongly blocked newsletter" --json)
jcheck "accepting a not-spam report delists its IP" "$j" "
i={x['item']:x for x in d['items']}
assert d['status']=='accepted' and i['198.51.100.40']['listed'] and i['198.51.100.40']['action']=='delisted from spam-ip', d
assert i['partner.example']['action']=='not on spam-domain', d"
expect_rc "...it is no longer listed" 1 cli query 198.51.100.40
j=$(cli audit --key 198.51.100.40 --json)
jcheck "...audited with the report as reference" "$j" "
x=d[-1]; assert x['op']=='del' and x['ref']=='$nsid' and x['why']=='wrongly blocked newsletter', x"
expect_eq "...and held from automatic relisting" "1" "$(redis-cli -p "$REDIS_PORT" HEXISTS 'cr:{rp}:hold' ip:198.51.100.40)"
j=$(cli reports list --status listed --limit 2 --json)
jcheck "reports list --limit caps a filtered list" "$j" "assert len(d)==2 and all(r['status']=='listed' for r in d), d"
expect_rc "reports show of a bad id: exit 2" 2 cli reports show xyz

# --- block: immediate, everywhere, with the authority's reference ------------------------
cli list add 198.51.100.77 --list allow --reason "was a partner" >/dev/null
t0=$(ms); expect_rc "block an address, a range and a domain" 0 cli block 198.51.100.77 203.0.113.128/25 blocked.example --ref "ATTT-2026/15" --reason "authority request"
dt=-1
for _ in $(seq 1 50); do
	if [ "$(short 77.100.51.198.bl.test A)" = 127.0.0.2 ] && [ "$(short 200.113.0.203.bl.test A)" = 127.0.0.2 ] && [ "$(short blocked.example.dbl.test A)" = 127.0.0.2 ]; then dt=$(($(ms) - t0)); break; fi
	sleep 0.02
done
if [ "$dt" -ge 0 ] && [ "$dt" -lt 1000 ]; then ok "block answered by the responder within 1 s (${dt} ms)"; else not_ok "block answered within 1 s (dt=$dt)"; fi
j=$(cli audit --key 198.51.100.77 --json)
jcheck "block: allow entry removed and listing added, both with the reference" "$j" "
ops=[(x['op'],x['list'],x['ref']) for x in d if x['ref']=='ATTT-2026/15']
assert ops==[('del','allow','ATTT-2026/15'),('add','spam-ip','ATTT-2026/15')], ops"
expect_rc "block without --ref is refused" 2 cli block 198.51.100.78 --reason x
expect_rc "block of a bad key is refused" 2 cli block 300.1.1.1 --ref R --reason x
expect_rc "...and nothing was listed" 1 cli query 198.51.100.78

# --- outgoing ARF ------------------------------------------------------------------------
expect_rc "report --arf writes a feedback report" 0 cli report "$T/t1.eml" --reporter r6 --arf "$T/out.arf"
check "the ARF report is multipart/report" grep -q "report-type=feedback-report" "$T/out.arf"
j=$(cli report "$T/out.arf" --reporter peer-1 --json)
jcheck "our ARF parses back: Source-IP, domain, original" "$j" "
r=d[0]; assert r['arf'] and r['ip']=='203.0.113.10' and r['ip_via']=='arf source-ip'
assert 'threshold-shop.vn' in r['domains'] and r['message_id']=='<t1@threshold-shop.vn>', r"

# --- bad input changes nothing ------------------------------------------------------------
n0=$(cli reports list --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
printf 'Content-Type: multipart/report; report-type=feedback-report; boundary=Q\n\n--Q\nContent-Type: text/plain\n\nno feedback part\n--Q--\n' >"$T/bad.arf"
expect_rc "malformed ARF: exit 2" 2 cli report "$T/bad.arf" --reporter z1
check "malformed ARF: the error names the file" grep -q "bad.arf" "$T/last.err"
{ echo "From a Tue Dec  1 10:00:00 2026"; cat "$T/t2.eml"; echo; echo "From b Tue Dec  1 10:00:00 2026"; cat "$T/bad.arf"; } >"$T/mixed.mbox"
expect_rc "mbox with one malformed report: exit 2" 2 cli report "$T/mixed.mbox" --reporter z2
expect_rc "missing file: exit 2" 2 cli report "$T/nope.eml"
expect_rc "reporter with a space: exit 2" 2 cli report "$T/t2.eml" --reporter "a b"
n1=$(cli reports list --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
expect_eq "bad input stored nothing" "$n0" "$n1"
{ echo "From a Tue Dec  1 10:00:00 2026"; cat "$T/t2.eml"; echo; echo "From b Tue Dec  1 10:00:00 2026"; cat "$C/arf/rfc5965-b2-full.eml"; } >"$T/two.mbox"
j=$(cli report "$T/two.mbox" --reporter z3 --json)
jcheck "an mbox of a message and an ARF report: two reports" "$j" "
assert len(d)==2 and d[0]['ip']=='203.0.113.20' and d[1]['ip']=='192.0.2.1', d"
j=$(cli report - --reporter z4 --json <"$T/t2.eml")
jcheck "report from stdin" "$j" "assert d[0]['ip']=='203.0.113.20'"

# --- the counters the reports feed ---------------------------------------------------------
day=$(date -u +%F)
j=$(cli stats --from "$day" --to "$day" --json)
jcheck "stats: duplicates, not-spam reports, delistings" "$j" "
c=d['counters']
assert c['report.duplicate']==1, c
assert c['wrong.notspam']==2, c
assert c['list.removed']==3, c"
rl=$(cli reports list --json)
if python3 -c "import json,sys
c=json.loads(sys.argv[1])['counters']; rl=json.loads(sys.argv[2])
spam=[r for r in rl if r['kind']=='spam']
assert c['report.received']==len(spam), (c['report.received'], len(spam))
done=[r for r in rl if r['kind']=='spam' and r['status'] in ('listed','accepted','rejected')]
assert c['report.processed']==len(done), (c['report.processed'], len(done))
assert c['list.added']==len([1 for x in json.loads(sys.argv[3]) if x['op']=='add']), c" "$j" "$rl" "$(cli audit --json)" 2>"$T/py.err"; then
	ok "stats: received, processed and added match the stored reports and the audit log"
else
	not_ok "stats: received, processed and added match the stored reports and the audit log"; sed 's/^/#   /' "$T/py.err" | tail -n 3
fi

removed() { cli stats --from "$day" --to "$day" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['counters'].get('list.removed',0))"; }
before=$(removed)
cli list add 198.51.100.123 --list spam-ip --expires 1s >/dev/null
check "list expire removes the expired entry" wait_for 5 sh -c "'$CLI' -c '$T/c.conf' list expire | grep -q 'removed 1 '"
expect_eq "list expire counts it in list.removed" "$((before + 1))" "$(removed)"
j=$(cli audit --key 198.51.100.123 --json)
jcheck "the expiry is in the audit log" "$j" "
assert [x['op'] for x in d]==['add','expire'] and d[1]['who']=='expiry' and d[1]['why']=='expired', d"

# --- Redis unavailable: exit 3, nothing half-done ---------------------------------------------
stop_redis
expect_rc "report with Redis down: exit 3" 3 cli report "$T/t2.eml" --reporter down-1
expect_rc "reports list with Redis down: exit 3" 3 cli reports list
expect_rc "audit with Redis down: exit 3" 3 cli audit
expect_rc "block with Redis down: exit 3" 3 cli block 198.51.100.90 --ref R-1 --reason x
finish
