#!/bin/bash
# The Prometheus endpoints: chanrac-rbld's per-zone counters at /metrics match
# the queries sent; a port already taken leaves the daemon serving DNS without
# metrics (logged); chanrac-milter's message counters after miltertest runs.
. "$(dirname "$0")/../lib.sh"

[ -x "$BIN/chanrac-rbld" ] || { not_ok "chanrac-rbld built"; finish; }
chmod 755 "$T"
PORT=$(free_port)
MPORT=$(free_port)
mkdir -p "$T/data"
printf '192.0.2.1\n192.0.2.77\n' >"$T/data/ip.txt"
chmod -R a+rX "$T/data"
cat >"$T/c.conf" <<EOF
[log]
syslog = no
[rbld]
listen = 127.0.0.1:$PORT
user = nobody
metrics_listen = 127.0.0.1:$MPORT
[zone bl.test]
type = ip
files = ip4set:$T/data/ip.txt
EOF
# scrape URL: the body, or "HTTP NNN"
scrape() {
	python3 - "$1" <<'EOF'
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode(), end="")
except urllib.error.HTTPError as e:
    print("HTTP %d" % e.code)
except Exception as e:
    print("ERROR %s" % e)
EOF
}
metric() { scrape "http://127.0.0.1:$MPORT/metrics" | grep -F "$1" | awk '{print $2}'; }

"$BIN/chanrac-rbld" -c "$T/c.conf" -f 2>"$T/rbld.log" &
PIDS+=($!)
check "rbld answers" wait_for 10 sh -c "kdig @127.0.0.1 -p $PORT +time=1 +retry=0 +short 1.2.0.192.bl.test A | grep -q 127.0.0.2"
for _ in 1 2 3; do kdig @127.0.0.1 -p "$PORT" +time=1 +retry=0 9.2.0.192.bl.test A >/dev/null 2>&1; done
kdig @127.0.0.1 -p "$PORT" +time=1 +retry=0 www.example.com A >/dev/null 2>&1
# Counters are published about once a second.
want_q=""
for _ in $(seq 1 40); do
	want_q=$(metric 'chanrac_rbld_nxdomain_total{zone="bl.test"}')
	[ "$want_q" = 3 ] && break
	sleep 0.1
done
expect_eq "rbld metrics: nxdomain of bl.test" 3 "$want_q"
# The wait_for loop may have asked 127.0.0.2 more than once: at least 1 listed.
check "rbld metrics: listed of bl.test counted" test "$(metric 'chanrac_rbld_listed_total{zone="bl.test"}')" -ge 1
expect_eq "rbld metrics: refused in the total" 1 "$(metric 'chanrac_rbld_refused_total{zone="*"}')"
check "rbld metrics: HELP and TYPE lines" sh -c "$(declare -f scrape); scrape http://127.0.0.1:$MPORT/metrics | grep -q '^# TYPE chanrac_rbld_queries_total counter'"
expect_eq "rbld metrics: other paths are 404" "HTTP 404" "$(scrape "http://127.0.0.1:$MPORT/other")"

# A second responder whose metrics port is taken still serves DNS.
PORT2=$(free_port)
sed "s/^listen = .*/listen = 127.0.0.1:$PORT2/" "$T/c.conf" >"$T/c2.conf"
"$BIN/chanrac-rbld" -c "$T/c2.conf" -f 2>"$T/rbld2.log" &
PIDS+=($!)
check "metrics port taken: rbld still answers DNS" wait_for 10 sh -c "kdig @127.0.0.1 -p $PORT2 +time=1 +retry=0 +short 1.2.0.192.bl.test A | grep -q 127.0.0.2"
check "metrics port taken: logged" grep -q "metrics_listen.*serving without metrics" "$T/rbld2.log"
# chanrac-milter: two messages through miltertest, one clean, one from a listed
# client; the counters by action and the time histogram follow.
if [ -x "$BIN/chanrac-milter" ] && command -v miltertest >/dev/null; then
	SPORT=$(free_port)
	MMPORT=$(free_port)
	cat >"$T/m.conf" <<EOF
[log]
syslog = no
[engine]
dns_servers = 127.0.0.1:$PORT
deadline = 2s
[dnsbl bl.test]
type = ip
rule = RBL_TEST
weight = 20
[milter]
socket = inet:$SPORT@127.0.0.1
user = nobody
stats = no
metrics_listen = 127.0.0.1:$MMPORT
EOF
	check "milter listens" start_milter "$T/m.conf"
	LUA=$ROOT/tests/integration/milter
	miltertest -s "$LUA/clean.lua" -D "SOCK=inet:$SPORT@127.0.0.1" -D "DIR=$LUA" >"$T/mt1.out" 2>&1
	miltertest -s "$LUA/listed.lua" -D "SOCK=inet:$SPORT@127.0.0.1" -D "DIR=$LUA" -D REPLY=x >"$T/mt2.out" 2>&1
	mm() { scrape "http://127.0.0.1:$MMPORT/metrics" | grep -v "^#" | grep -F "$1" | awk '{print $2}'; }
	expect_eq "milter metrics: one message accepted" 1 "$(mm 'chanrac_milter_messages_total{action="accept"}')"
	expect_eq "milter metrics: one message rejected" 1 "$(mm 'chanrac_milter_messages_total{action="reject"}')"
	expect_eq "milter metrics: two verdicts timed" 2 "$(mm 'chanrac_milter_check_seconds_count')"
	expect_eq "milter metrics: +Inf bucket = count" 2 "$(mm 'chanrac_milter_check_seconds_bucket{le="+Inf"}')"
	expect_eq "milter metrics: no session open" 0 "$(mm 'chanrac_milter_sessions ')"
	check "milter metrics: histogram TYPE line" sh -c "$(declare -f scrape); scrape http://127.0.0.1:$MMPORT/metrics | grep -q '^# TYPE chanrac_milter_check_seconds_bucket histogram'"
else
	not_ok "chanrac-milter built and miltertest installed"
fi
finish
