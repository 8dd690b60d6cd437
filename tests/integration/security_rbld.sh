#!/bin/bash
# Security of chanrac-rbld against hostile clients: zone transfers (AXFR, IXFR,
# over TCP and UDP) are REFUSED with no record, dynamic UPDATE is NOTIMP with no
# record and changes nothing, and no answer is more than 3 times the size of its
# query for unlisted names and ANY (RFC 8482 minimal ANY), over 3,000 queries
# with and without EDNS: the responder is no amplifier.
. "$(dirname "$0")/../lib.sh"

PY=$ROOT/tests/integration/security_dns.py
[ -x "$BIN/chanrac-rbld" ] || { not_ok "$BIN/chanrac-rbld is built"; finish; }
PORT=$(free_port)
D=$T/data
mkdir -p "$D"
chmod 755 "$T"
cat >"$D/ip4.txt" <<'EOF'
:127.0.0.2:Listed $ see https://bl.test/?$
192.0.2.7
192.0.2.0/24 :3:Range $
EOF
cat >"$D/ip4b.txt" <<'EOF'
192.0.2.7 :9:second list
EOF
cat >"$D/dom.txt" <<'EOF'
:127.0.1.2:Domain $
example.vn :10:spam domain $
EOF
cat >"$T/rbld.conf" <<EOF
[log]
syslog = no
[rbld]
listen = 127.0.0.1:$PORT
user = nobody
metrics_listen =
[zone bl.test]
type = ip
files = ip4trie:$D/ip4.txt ip4set:$D/ip4b.txt
ns = ns1.bl.test ns2.bl.test
hostmaster = abuse.bl.test
[zone dbl.test]
type = domain
files = dnset:$D/dom.txt
EOF
"$BIN/chanrac-rbld" -c "$T/rbld.conf" -f 2>"$T/rbld.log" &
RPID=$!
PIDS+=("$RPID")
if wait_for 10 sh -c "kdig @127.0.0.1 -p $PORT +time=1 +retry=0 bl.test SOA | grep -q NOERROR"; then
	ok "rbld answers on 127.0.0.1:$PORT"
else
	not_ok "rbld starts"; sed 's/^/#   /' "$T/rbld.log"; finish
fi
short() { kdig @127.0.0.1 -p "$PORT" +time=2 +retry=1 +short "$@" 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//'; }

# --- zone transfers and UPDATE ---------------------------------------------------
python3 "$PY" xfr "$PORT" bl.test dbl.test >"$T/xfr.out" 2>&1
sed 's/^/# /' "$T/xfr.out"
for z in bl.test dbl.test; do
	for p in tcp udp; do
		expect_eq "AXFR of $z over $p: REFUSED, no record" "REFUSED answers=0 authority=0 additional=0" \
			"$(sed -n "s/^AXFR-$z-$p //p" "$T/xfr.out")"
		# an IXFR carries the client's SOA in its authority section, which the
		# parser rejects first (FORMERR); without it, REFUSED as an AXFR
		check "IXFR of $z over $p: refused, no record" grep -qE "^IXFR-$z-$p (REFUSED|FORMERR) answers=0 authority=0 additional=0\$" "$T/xfr.out"
	done
	for p in udp tcp; do
		expect_eq "UPDATE of $z over $p: NOTIMP, no record" "NOTIMP answers=0 authority=0 additional=0" \
			"$(sed -n "s/^UPDATE-$z-$p //p" "$T/xfr.out")"
	done
done
expect_eq "the UPDATE changed nothing (10.0.0.1 still unlisted)" "" "$(short 1.0.0.10.bl.test A)"
kdig @127.0.0.1 -p "$PORT" +time=2 +retry=0 bl.test AXFR >"$T/kdig-axfr.out" 2>&1
check "kdig AXFR bl.test: the transfer fails, REFUSED" grep -q "REFUSED" "$T/kdig-axfr.out"
check "kdig AXFR bl.test: no record leaks" sh -c "! grep -qE '[[:space:]]IN[[:space:]]+(A|TXT|SOA)[[:space:]]' '$T/kdig-axfr.out'"
check "kdig IXFR=1 bl.test: refused, no record leaks" sh -c "kdig @127.0.0.1 -p $PORT +time=2 +retry=0 bl.test IXFR=1 2>&1 | grep -q 'REFUSED\|FORMERR' && ! kdig @127.0.0.1 -p $PORT +time=2 +retry=0 bl.test IXFR=1 2>&1 | grep -qE '[[:space:]]IN[[:space:]]+(A|TXT|SOA)[[:space:]]'"
expect_eq "still answering listed names after the attempts" "127.0.0.2 127.0.0.9" "$(short 7.2.0.192.bl.test A)"

soa=$(kdig @127.0.0.1 -p "$PORT" +time=2 +retry=1 bl.test SOA 2>/dev/null | grep -E '^bl\.test\.[[:space:]].*SOA' | awk '{print $5, $6}')
expect_eq "apex SOA (MNAME and RNAME compressed) reads back whole" "ns1.bl.test. abuse.bl.test." "$soa"
nx=$(kdig @127.0.0.1 -p "$PORT" +time=2 +retry=1 1.1.1.10.BL.test A 2>/dev/null | grep -E 'SOA' | awk '{print $5, $6}' | tail -n 1 | tr 'A-Z' 'a-z')
expect_eq "NXDOMAIN's SOA reads back whole for a mixed-case question" "ns1.bl.test. abuse.bl.test." "$nx"

# --- no amplification ------------------------------------------------------------
out=$(python3 "$PY" amp "$PORT" bl.test dbl.test 192.0.2.7 3000)
echo "# amplification: $out"
expect_eq "all 3000 hostile queries answered" "3000" "$(echo "$out" | sed -n 's/.*answered=\([0-9]*\).*/\1/p')"
ratio=$(echo "$out" | sed -n 's/.*max_ratio=\([0-9.]*\).*/\1/p')
check "no answer over 3x its query for unlisted names and ANY (max ${ratio:-?}x)" \
	awk -v r="${ratio:-99}" 'BEGIN { exit !(r > 0 && r <= 3.0) }'
check "rbld still running" kill -0 "$RPID"
finish
