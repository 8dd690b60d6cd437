#!/bin/bash
# Differential test: chanrac-rbld and Debian's rbldnsd load the same generated
# dataset (ip4trie, ip6trie, dnset) and must give the same RCODE, A set and TXT
# set for every one of 100,000 generated queries, listed and unlisted.
# Deliberate differences (none of which the generated queries touch) are listed
# in doc/chanrac-rbld.md.
. "$(dirname "$0")/../lib.sh"

command -v rbldnsd >/dev/null || { not_ok "rbldnsd is not installed"; finish; }
GEN=${GEN_DNSBL:-$ROOT/bench/gen_dnsbl_data.py}
D=$T/data
chmod 755 "$T"
python3 "$GEN" "$D" --ip4 20000 --cidr 2000 --ip6 2000 --domains 5000 --queries 100000 --seed 42 \
	|| { not_ok "generate data"; finish; }
chmod -R a+rX "$D"
P1=$(free_port)
P2=$(free_port)
cat >"$T/rbld.conf" <<CONF
[log]
syslog = no
[rbld]
listen = 127.0.0.1:$P1
user = nobody
[zone bl.test]
type = ip
files = ip4trie:$D/ip4.rbldnsd ip6trie:$D/ip6.rbldnsd
[zone dbl.test]
type = domain
files = dnset:$D/dom.rbldnsd
CONF
"$BIN/chanrac-rbld" -c "$T/rbld.conf" -f 2>"$T/rbld.log" &
PIDS+=("$!")
rbldnsd -n -q -b "127.0.0.1/$P2" -w "$D" -t 60 -u rbldns \
	bl.test:ip4trie:ip4.rbldnsd bl.test:ip6trie:ip6.rbldnsd dbl.test:dnset:dom.rbldnsd \
	>"$T/rbldnsd.log" 2>&1 &
PIDS+=("$!")
up() { kdig @127.0.0.1 -p "$1" +time=1 +retry=0 2.0.0.127.bl.test A | grep -q 'status: NOERROR'; }
check "chanrac-rbld up" wait_for 20 up "$P1"
check "rbldnsd up" wait_for 20 up "$P2"
"$ROOT/$BUILD/tests/tools/rbl_diff" 127.0.0.1 "$P1" "$P2" "$D/queries.txt" >"$T/diff.out" 2>&1
rc=$?
sed 's/^/# /; s/^# #/#/' "$T/diff.out" | head -n 40
n=$(sed -n 's/^# \([0-9]*\) queries: \([0-9]*\) with records.*/\1 \2/p' "$T/diff.out")
set -- $n
expect_eq "100000 queries compared" "100000" "${1:-0}"
check "both listed and unlisted names asked (${2:-0} with records)" test "${2:-0}" -ge 30000 -a "${2:-0}" -le 70000
expect_eq "same A and TXT answers as rbldnsd on every query" "0" "$rc"
finish
