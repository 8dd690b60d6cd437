#!/bin/bash
# chanrac scan on the .eml files of tests/corpus/scan against a real chanrac-rbld
# serving zones from dataset files (and one from a real Redis filled with
# `chanrac list add`): rules, scores, actions, exit statuses, the allow zone, the
# JSON output, the advertising facts (advertising, advertiser, template id), fail
# mode when no zone answers, and bad input.
. "$(dirname "$0")/../lib.sh"

CLI=$BIN/chanrac
C=$ROOT/tests/corpus/scan
[ -x "$CLI" ] && [ -x "$BIN/chanrac-rbld" ] || { not_ok "chanrac and chanrac-rbld built"; finish; }
PORT=$(free_port)
chmod 755 "$T"
mkdir -p "$T/data"
cat >"$T/data/bl.txt" <<'EOF'
:127.0.0.2:Listed
192.0.2.7
192.0.2.8 :3:Dynamic range
EOF
cat >"$T/data/dbl.txt" <<'EOF'
spam-shop.vn :2:Spam domain
EOF
cat >"$T/data/allow.txt" <<'EOF'
192.0.2.9 :2:partner
EOF
chmod -R a+rX "$T/data"

REDIS_OK=0
if command -v redis-server >/dev/null && start_redis; then REDIS_OK=1; else REDIS_PORT=1; fi
REDIS_ZONE=""
if [ "$REDIS_OK" = 1 ]; then
	REDIS_ZONE="[zone redisbl.test]
type = ip
lists = spam-ip"
fi
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
files = ip4set:$T/data/bl.txt
[zone dbl.test]
type = domain
files = dnset:$T/data/dbl.txt
[zone allow.test]
type = ip
files = ip4set:$T/data/allow.txt
$REDIS_ZONE
[engine]
dns_servers = 127.0.0.1:$PORT
deadline = 2s
authserv_id = mx.test
[dnsbl bl.test]
rule = RBL_OWN
codes = 127.0.0.2=10 127.0.0.3=3
delist_url = https://bl.test/delist
[dnsbl dbl.test]
type = domain
rule = DBL_OWN
weight = 4
[dnsbl allow.test]
allow = yes
EOF
if [ "$REDIS_OK" = 1 ]; then
	cat >>"$T/c.conf" <<'EOF'
[dnsbl redisbl.test]
rule = RBL_REDIS
weight = 7
EOF
	"$CLI" -c "$T/c.conf" list add 192.0.2.60 --list spam-ip --reason "reported" >/dev/null 2>&1
fi

"$BIN/chanrac-rbld" -c "$T/c.conf" -f 2>"$T/rbld.log" &
PIDS+=("$!")
if wait_for 10 sh -c "kdig @127.0.0.1 -p $PORT +time=1 +retry=0 +short 2.0.0.127.bl.test A | grep -q 127.0.0.2"; then
	ok "chanrac-rbld answers on 127.0.0.1:$PORT"
else
	not_ok "chanrac-rbld answers"; sed 's/^/#   /' "$T/rbld.log" | tail -n 5; finish
fi

scan() { "$CLI" -c "$T/c.conf" scan "$@"; }
# jcheck NAME JSON PYTHON: runs the python assertions with d = the parsed JSON
jcheck() {
	local name=$1 json=$2 code=$3
	if python3 -c "import json,sys
d=json.loads(sys.argv[1])
rules={r['rule']:r for r in d['rules']}
$code" "$json" 2>"$T/py.err"; then ok "$name"; else
		not_ok "$name"; sed 's/^/#   /' "$T/py.err" | tail -n 3; echo "#   $json" | cut -c1-600; fi
}

# --- a listed client and a listed domain in MAIL FROM, From: and a body URL -------------
json=$(scan "$C/spam-url.eml" --ip 192.0.2.7 --helo mx.spam-shop.vn --json); rc=$?
expect_eq "spam: exit status 5 (would be rejected)" 5 "$rc"
jcheck "spam: RBL_OWN from the code map, DBL_OWN once for the registered domain, reject" "$json" '
assert rules["RBL_OWN"]["score"]==10, rules
assert rules["RBL_OWN"]["reason"]=="192.0.2.7 listed in bl.test (127.0.0.2)", rules
assert rules["DBL_OWN"]["score"]==4, rules
assert rules["DBL_OWN"]["reason"]=="spam-shop.vn (helo,mail_from,from,url) listed in dbl.test (127.0.0.2)", rules
assert [r["rule"] for r in d["rules"]].count("DBL_OWN")==1, d["rules"]
assert d["action"]=="reject" and d["score"]>=14, d
assert d["input"]["mail_from"]=="promo@spam-shop.vn", d["input"]
# chanrac-rbld is not a resolver: it refuses the SPF lookups, so SPF is temperror
assert rules["SPF_TEMPERROR"]["score"]==0 and d["degraded"]==["dns_timeout"], d
assert d["reply"].startswith("Rejected as spam: RBL_OWN 192.0.2.7 listed in bl.test (127.0.0.2); to be delisted see https://bl.test/delist"), d["reply"]
assert d["headers"]["X-Chanrac-Score"].endswith(" / 12"), d["headers"]
assert "RBL_OWN=10 (192.0.2.7 listed in bl.test (127.0.0.2))" in d["headers"]["X-Chanrac-Report"], d["headers"]
# ... and the DMARC policy lookup (R10): no score, dmarc=temperror
assert "R10" not in rules, rules
assert d["headers"]["Authentication-Results"]=="mx.test; spf=temperror smtp.mailfrom=spam-shop.vn;\n\tspf=temperror smtp.helo=mx.spam-shop.vn;\n\tdmarc=temperror (policy lookup failed) header.from=spam-shop.vn", d["headers"]
'
out=$(scan "$C/spam-url.eml" --ip 192.0.2.7 --helo mx.spam-shop.vn)
check "spam: text output lists each rule with score and reason" \
	grep -qE '^RBL_OWN +10\.00  192\.0\.2\.7 listed in bl\.test \(127\.0\.0\.2\)$' <<<"$out"
check "spam: text output gives the action and the reply" \
	bash -c 'grep -q "^action:    reject$" <<<"$1" && grep -q "^reply:     Rejected as spam: RBL_OWN" <<<"$1"' _ "$out"
check "spam: MAIL FROM taken from Return-Path when --from is not given" \
	grep -q "^mail from: promo@spam-shop.vn (from Return-Path)$" <<<"$out"

# --- a code mapped to a lower weight: tag, exit 0 ----------------------------------
json=$(scan "$C/ham.eml" --ip 192.0.2.8 --json); rc=$?
expect_eq "dynamic range: exit 0" 0 "$rc"
jcheck "dynamic range: 127.0.0.3 scores 3" "$json" '
assert rules["RBL_OWN"]["score"]==3 and rules["RBL_OWN"]["reason"]=="192.0.2.8 listed in bl.test (127.0.0.3)", rules
assert "DBL_OWN" not in rules, rules
assert d["action"]=="accept", d'

# --- ham from an unlisted client ----------------------------------------------------
json=$(scan "$C/ham.eml" --ip 198.51.100.20 --from friend@ham.test --rcpt user@example.test --json); rc=$?
expect_eq "ham: exit 0" 0 "$rc"
jcheck "ham: no DNSBL rule, accept" "$json" '
assert not any(r.startswith("RBL_") or r.startswith("DBL_") for r in rules), rules
assert d["action"]=="accept" and d["score"]<5, d
assert d["input"]["rcpts"]==["user@example.test"], d'

# --- body URL in HTML cut to its registered domain --------------------------------------
json=$(scan "$C/html-urls.eml" --json); rc=$?
jcheck "html: https://a.b.c.spam-shop.vn/ URL found as spam-shop.vn (url)" "$json" '
assert rules["DBL_OWN"]["reason"]=="spam-shop.vn (url) listed in dbl.test (127.0.0.2)", rules
assert "RBL_OWN" not in rules, rules
assert d["note"]=="no --ip: the client IP checks and SPF were skipped", d
# chanrac-rbld refuses the DMARC policy lookup of the From (R10)
assert d["headers"]["Authentication-Results"]=="mx.test;\n\tdmarc=temperror (policy lookup failed) header.from=shop.test", d'

# --- the allow zone short-circuits ---------------------------------------------------------
json=$(scan "$C/spam-url.eml" --ip 192.0.2.9 --json); rc=$?
expect_eq "allow: exit 0 although the domain is listed" 0 "$rc"
jcheck "allow: only ALLOW, accept" "$json" '
assert [r["rule"] for r in d["rules"]]==["ALLOW"], d["rules"]
assert d["allowed"] is True and d["action"]=="accept" and d["score"]==0, d'

# --- a zone served from Redis, filled with chanrac list add -------------------------------
if [ "$REDIS_OK" = 1 ]; then
	json=$(scan "$C/ham.eml" --ip 192.0.2.60 --json)
	jcheck "redis: an entry added with chanrac list add is found through chanrac-rbld" "$json" '
assert rules["RBL_REDIS"]["score"]==7, rules
assert rules["RBL_REDIS"]["reason"]=="192.0.2.60 listed in redisbl.test (127.0.0.2)", rules'
else
	echo "# skip: redis-server not available"
fi

# --- the advertising facts: advertising, advertiser, template id ---------------------------
A=$ROOT/tests/corpus/advert
json=$(scan "$A/vi-compliant-ad.eml" --json)
jcheck "advertising: an ad gives its advertiser and template id" "$json" '
assert d["advertising"] is True, d
assert d["advertiser"]=="shop-abc.vn", d
assert d["template_id"]=="eabed4708061a385", d'
out=$(scan "$A/vi-compliant-ad.eml")
check "advertising: text output names the advertiser and template" \
	grep -qx "advertising: yes (advertiser shop-abc.vn, template eabed4708061a385)" <<<"$out"
json=$(scan "$A/vi-personal.eml" --json)
jcheck "advertising: personal mail is not advertising (advertiser and template_id null)" "$json" '
assert d["advertising"] is False, d
assert d["advertiser"] is None and d["template_id"] is None, d'
out=$(scan "$A/vi-personal.eml")
check "advertising: text output says no" grep -qx "advertising: no" <<<"$out"
if [ "$REDIS_OK" = 1 ]; then
	# the same id chanrac template gives the text
	"$CLI" -c "$T/c.conf" template add "$A/vi-compliant-ad.eml" --reason test >"$T/tpl.out" 2>&1
	check "advertising: the template id is chanrac template's id" \
		grep -q "^added template eabed4708061a385 " "$T/tpl.out"
	"$CLI" -c "$T/c.conf" template del eabed4708061a385 >/dev/null 2>&1
fi

# --- no zone answers: fail mode, never reject on missing data ------------------------------
sed -e 's/^\[dnsbl bl.test\]/[dnsbl gone.test]/' -e '/^\[dnsbl dbl.test\]/,$d' "$T/c.conf" >"$T/fail.conf"
json=$("$CLI" -c "$T/fail.conf" scan "$C/ham.eml" --ip 192.0.2.7 --from '' --json); rc=$?
expect_eq "dns failed: fail_mode accept exits 0" 0 "$rc"
jcheck "dns failed: degraded dns_failed, action accept" "$json" '
assert "dns_failed" in d["degraded"], d
assert d["action"]=="accept", d'
printf 'fail_mode = tempfail\n' >"$T/tf.ins"
sed -e '/^\[engine\]/r '"$T/tf.ins" "$T/fail.conf" >"$T/tempfail.conf"
json=$("$CLI" -c "$T/tempfail.conf" scan "$C/ham.eml" --ip 192.0.2.7 --from '' --json); rc=$?
expect_eq "dns failed: fail_mode tempfail exits 5" 5 "$rc"
jcheck "dns failed: action tempfail" "$json" '
assert d["action"]=="tempfail" and d["reply"]=="Temporary failure checking the message; try again later", d'

# --- bad input -----------------------------------------------------------------------------
expect_rc "missing file: exit 2" 2 scan "$T/nonexistent.eml" --ip 192.0.2.7
check "missing file: the error names it" \
	grep -q "chanrac: scan: cannot read $T/nonexistent.eml: No such file or directory" "$T/last.err"
expect_rc "bad --ip: exit 2" 2 scan "$C/ham.eml" --ip 192.0.2.300
check "bad --ip: the error names it" grep -q "192.0.2.300" "$T/last.err"
expect_rc "unknown option: exit 2" 2 scan "$C/ham.eml" --bogus
expect_rc "no FILE: exit 2" 2 scan --ip 192.0.2.7
printf '[engine]\ntag_score = 9\nquarantine_score = 8\n' >"$T/bad.conf"
expect_rc "bad [engine] config: exit 2" 2 "$CLI" -c "$T/bad.conf" scan "$C/ham.eml"
check "bad config: the error names the key" grep -q "quarantine_score: 8 is below tag_score 9" "$T/last.err"

finish
