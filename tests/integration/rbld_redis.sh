#!/bin/bash
# chanrac-rbld with a real Redis: full load at start, live `chanrac list add`/`del`
# answered within 1 s (IPv4, CIDR, exclusion, domain, wildcard), the allow list,
# expiry, an import (stream "load"), a stream gap (resynchronise in full), Redis
# going away and coming back, and a start with Redis down (files + snapshot).
. "$(dirname "$0")/../lib.sh"

CLI=$BIN/chanrac
[ -x "$CLI" ] || { not_ok "chanrac CLI not built"; finish; }
start_redis || { not_ok "redis"; finish; }
chmod 755 "$T"
PORT=$(free_port)
mkdir -p "$T/snap" "$T/data"
chmod 777 "$T/snap"
echo "203.0.113.5 :7:from a file" >"$T/data/local.txt"
chmod -R a+rX "$T/data"
write_conf "$T/c.conf" <<EOF
[log]
syslog = no
level = info
[lists]
names = spam-ip spam-domain allow
[rbld]
listen = 127.0.0.1:$PORT
user = nobody
merge_interval = 100ms
redis_retry_max = 1s
snapshot_dir = $T/snap
status_socket = $T/rbld.sock
[zone bl.test]
type = ip
lists = spam-ip
files = ip4set:$T/data/local.txt
[zone dbl.test]
type = domain
lists = spam-domain
EOF
cli() { "$CLI" -c "$T/c.conf" "$@" >>"$T/cli.log" 2>&1; }
short() { kdig @127.0.0.1 -p "$PORT" +time=1 +retry=1 +short "$@" 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//'; }
status() { kdig @127.0.0.1 -p "$PORT" +time=1 +retry=1 "$@" 2>/dev/null | sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -n 1; }
ms() { date +%s%3N; }
# within_1s NAME EXPECTED NAME-TO-ASK TYPE: polls until the answer matches; ok if < 1000 ms
# after the change command returned ($t0).
within_1s() {
	local name=$1 want=$2 q=$3 ty=$4 got dt i
	for i in $(seq 1 60); do
		if [ "$want" = NXDOMAIN ]; then got=$(status "$q" "$ty"); else got=$(short "$q" "$ty"); fi
		[ "$got" = "$want" ] && break
		sleep 0.02
	done
	dt=$(($(ms) - t0))
	if [ "$got" = "$want" ] && [ "$dt" -lt 1000 ]; then ok "$name (${dt} ms)"; else
		not_ok "$name"; echo "#   expected: $want"; echo "#   actual:   $got after ${dt} ms"; fi
}

cli list add 192.0.2.1 --list spam-ip --reason 'seeded $'
cli list add 198.51.100.0/24 --list spam-ip --code 3 --reason 'range $'
cli list add seeded.vn --list spam-domain --code 10 --reason 'domain $'

"$BIN/chanrac-rbld" -c "$T/c.conf" -f 2>"$T/rbld.log" &
RPID=$!
PIDS+=("$RPID")
check "rbld starts" wait_for 10 sh -c "kdig @127.0.0.1 -p $PORT +time=1 +retry=0 bl.test SOA | grep -q NOERROR"
expect_eq "full load: IPv4 from Redis" "127.0.0.2" "$(short 1.2.0.192.bl.test A)"
expect_eq "full load: TXT" '"seeded 192.0.2.1"' "$(short 1.2.0.192.bl.test TXT)"
expect_eq "full load: CIDR from Redis" "127.0.0.3" "$(short 77.100.51.198.bl.test A)"
expect_eq "full load: domain" "127.0.0.10" "$(short seeded.vn.dbl.test A)"
expect_eq "file and Redis list in one zone" "127.0.0.7" "$(short 5.113.0.203.bl.test A)"

t0=$(ms); cli list add 192.0.2.50 --list spam-ip --code 4 --reason 'live $'
within_1s "live add of an IPv4 answered within 1 s" "127.0.0.4" 50.2.0.192.bl.test A
expect_eq "live add TXT" '"live 192.0.2.50"' "$(short 50.2.0.192.bl.test TXT)"
t0=$(ms); cli list del 192.0.2.50 --list spam-ip
within_1s "live del answered within 1 s" "NXDOMAIN" 50.2.0.192.bl.test A
t0=$(ms); cli list add '!198.51.100.7' --list spam-ip
within_1s "live exclusion carves out of a range within 1 s" "NXDOMAIN" 7.100.51.198.bl.test A
expect_eq "rest of the range still listed" "127.0.0.3" "$(short 8.100.51.198.bl.test A)"
# "x" and "!x" are separate keys in Redis: the exclusion wins while it exists.
t0=$(ms); cli list add 192.0.2.120 --list spam-ip --code 12
within_1s "item listed" "127.0.0.12" 120.2.0.192.bl.test A
t0=$(ms); cli list add '!192.0.2.120' --list spam-ip
within_1s "exclusion of the same key wins over the item" "NXDOMAIN" 120.2.0.192.bl.test A
t0=$(ms); cli list del '!192.0.2.120' --list spam-ip
within_1s "deleting the exclusion brings the item back" "127.0.0.12" 120.2.0.192.bl.test A
t0=$(ms); cli list add '*.evil.vn' --list spam-domain --code 11
within_1s "live wildcard within 1 s" "127.0.0.11" www.evil.vn.dbl.test A
t0=$(ms); cli list add 2001:db8::/48 --list spam-ip --code 5
within_1s "live IPv6 prefix within 1 s" "127.0.0.5" "$(python3 -c "import ipaddress; print('.'.join(reversed(ipaddress.ip_address('2001:db8::9').exploded.replace(':',''))))").bl.test" A
t0=$(ms); cli list add 198.51.100.9 --list allow
within_1s "allow list wins over a listing within 1 s" "NXDOMAIN" 9.100.51.198.bl.test A
cli list add 2.0.0.127 --list allow
expect_eq "allow list cannot hide the RFC 5782 test point" "127.0.0.2" "$(short 2.0.0.127.bl.test A)"
cli list add 192.0.2.60 --list spam-ip --expires 3s
check "entry with expiry is listed" wait_for 1 sh -c "kdig @127.0.0.1 -p $PORT +short 60.2.0.192.bl.test A | grep -q 127.0.0.2"
check "expired entry is no longer answered" wait_for 6 sh -c "kdig @127.0.0.1 -p $PORT +time=1 60.2.0.192.bl.test A | grep -q NXDOMAIN"

# An import is one "load" change: the whole list is reloaded.
printf '192.0.2.70\n192.0.2.71 :6:imported\n' >"$T/imp.txt"
t0=$(ms); cli list import "$T/imp.txt" --list spam-ip --format ip4set --replace
within_1s "import --replace reloads the list" "127.0.0.6" 71.2.0.192.bl.test A
expect_eq "entries not in the replacing import are gone" "NXDOMAIN" "$(status 1.2.0.192.bl.test A)"

# Stream gap: the follower is stopped while the stream is trimmed to nothing.
kill -STOP "$RPID"
cli list add 192.0.2.80 --list spam-ip
redis-cli -p "$REDIS_PORT" XTRIM 'cr:{bl}:changes' MAXLEN 0 >/dev/null
cli list add 192.0.2.81 --list spam-ip
kill -CONT "$RPID"
check "after a stream gap it resynchronises in full" wait_for 5 sh -c "kdig @127.0.0.1 -p $PORT +short 80.2.0.192.bl.test A | grep -q 127.0.0.2"
expect_eq "...and the change after the gap too" "127.0.0.2" "$(short 81.2.0.192.bl.test A)"
check "gap logged" grep -q "gap" "$T/rbld.log"

# Redis goes away: answers continue from memory; back: resync and follow again.
stop_redis
expect_eq "Redis down: still answering from memory" "127.0.0.6" "$(short 71.2.0.192.bl.test A)"
check "Redis down is logged" wait_for 5 grep -q "reconnecting" "$T/rbld.log"
start_redis "$REDIS_PORT"
cli list add 192.0.2.90 --list spam-ip --code 8
check "Redis back: reconnects and follows again" wait_for 8 sh -c "kdig @127.0.0.1 -p $PORT +short 90.2.0.192.bl.test A | grep -q 127.0.0.8"
expect_eq "after the reconnect the data is Redis's (a fresh, empty Redis)" "NXDOMAIN" "$(status 71.2.0.192.bl.test A)"
check "snapshot written" test -s "$T/snap/spam-ip.snapshot"
check "status shows redis up" sh -c "'$BIN/chanrac-rbld' -c '$T/c.conf' --dump-stats | grep -q 'redis=up'"

# Start with Redis down: files and the last snapshot are served; retries go on.
kill "$RPID"; wait "$RPID" 2>/dev/null
stop_redis
P2=$(free_port)
sed "s/^listen = .*/listen = 127.0.0.1:$P2/; s#^status_socket = .*#status_socket = $T/r2.sock#" "$T/c.conf" >"$T/c2.conf"
"$BIN/chanrac-rbld" -c "$T/c2.conf" -f 2>"$T/rbld2.log" &
PIDS+=("$!")
check "starts with Redis down" wait_for 10 sh -c "kdig @127.0.0.1 -p $P2 +time=1 +retry=0 bl.test SOA | grep -q NOERROR"
expect_eq "Redis down at start: file served" "127.0.0.7" "$(kdig @127.0.0.1 -p "$P2" +short 5.113.0.203.bl.test A)"
expect_eq "Redis down at start: last snapshot served" "127.0.0.8" "$(kdig @127.0.0.1 -p "$P2" +short 90.2.0.192.bl.test A)"
check "keeps retrying with backoff" wait_for 5 sh -c "[ \$(grep -c 'Redis unavailable' '$T/rbld2.log') -ge 2 ]"
start_redis "$REDIS_PORT"
cli list add 192.0.2.91 --list spam-ip --code 9
check "Redis up later: loads and follows" wait_for 8 sh -c "kdig @127.0.0.1 -p $P2 +short 91.2.0.192.bl.test A | grep -q 127.0.0.9"
finish
