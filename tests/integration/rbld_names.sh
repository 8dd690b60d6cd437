#!/bin/bash
# chanrac-rbld and question names whose labels hold a '.' (found by
# tests/fuzz/fuzz_dns): "\5x.any\4test" reads "x.any.test" as text but is not in
# zone any.test, so it is REFUSED; a dotted label below a zone is in the zone
# (NXDOMAIN with the zone's SOA); every answer parses (kdig shows no error).
. "$(dirname "$0")/../lib.sh"

PORT=$(free_port)
D=$T/data
mkdir -p "$D"
chmod 755 "$T"
printf '192.0.2.7 :2:Listed\n' >"$D/ip4.txt"
cat >"$T/rbld.conf" <<EOF
[log]
syslog = no
[rbld]
listen = 127.0.0.1:$PORT
user = nobody
pid_file = $T/rbld.pid
status_socket = $T/rbld.sock
[zone bl.test]
type = ip
files = ip4set:$D/ip4.txt
[zone any.test]
files = ip4set:$D/ip4.txt
EOF
"$BIN/chanrac-rbld" -c "$T/rbld.conf" -f 2>"$T/rbld.log" &
PIDS+=("$!")
q() { kdig @127.0.0.1 -p "$PORT" +time=2 +retry=1 "$@" 2>&1; }
status() { q "$@" | sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -n 1; }

if wait_for 10 sh -c "kdig @127.0.0.1 -p $PORT +time=1 +retry=0 bl.test SOA | grep -q NOERROR"; then
	ok "rbld answers on 127.0.0.1:$PORT"
else
	not_ok "rbld did not start"; sed 's/^/#   /' "$T/rbld.log"; finish
fi
expect_eq "plain name in the zone: listed" "127.0.0.2" "$(q +short 7.2.0.192.bl.test A)"
expect_eq "label 'x.any' + 'test' is outside any.test: REFUSED" "REFUSED" "$(status 'x\.any.test' SOA)"
expect_eq "one label 'any.test' is not the zone any.test: REFUSED" "REFUSED" "$(status 'any\.test' SOA)"
expect_eq "dotted label below bl.test: NXDOMAIN" "NXDOMAIN" "$(status 'a\.b.bl.test' A)"
out=$(q 'a\.b.bl.test' A)
if echo "$out" | grep -qE '^;; AUTHORITY SECTION' && echo "$out" | grep -qE '^bl\.test\.[[:space:]].*SOA' &&
   ! echo "$out" | grep -qiE 'malformed|error'; then
	ok "dotted label below bl.test: the SOA is the zone's, the answer parses"
else
	not_ok "dotted label below bl.test: bad answer"; echo "$out" | sed 's/^/#   /'
fi
check "rbld still running" kill -0 "${PIDS[0]}"
finish
