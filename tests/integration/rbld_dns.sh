#!/bin/bash
# chanrac-rbld from dataset files: RFC 5782 answers (IPv4, IPv6, CIDR, exclusion,
# domains, wildcards, multi-list codes, TXT "$"), test points, apex SOA/NS, empty
# non-terminals, REFUSED, malformed packets, EDNS, TC and TCP, ACL, rate limit,
# counters, privilege drop, pid file, and SIGHUP reload (good and failed).
. "$(dirname "$0")/../lib.sh"

RAW=$ROOT/tests/integration/rbld_raw.py
PORT=$(free_port)
D=$T/data
mkdir -p "$D"
chmod 755 "$T" # the server reloads files after dropping root
cat >"$D/ip4.txt" <<'EOF'
:127.0.0.2:Listed $ see https://bl.test/?$
192.0.2.7
192.0.2.0/24 :3:Range $
!192.0.2.99
198.51.100.0/25 :4:Other
EOF
cat >"$D/ip4b.txt" <<'EOF'
192.0.2.7 :9:second list
203.0.113.0/24 :9:second list range
EOF
cat >"$D/ip6.txt" <<'EOF'
2001:db8::/32 :5:v6 range $
2001:db8:1::1 :6:v6 host $
!2001:db8:2::/48
EOF
cat >"$D/dom.txt" <<'EOF'
:127.0.1.2:Domain $
example.vn :10:spam domain $
*.wild.vn :11:wild $
!ok.wild.vn
shop.example.com.vn
EOF
long=$(printf 'x%.0s' $(seq 1 200))
big_files=""
for i in 1 2 3 4 5 6; do
	echo "10.0.0.1 :$((20 + i)):reason $i $long" >"$D/big$i.txt"
	big_files="$big_files ip4set:big$i.txt" # relative: the line must stay short for inih
done

USERNAME=nobody
cat >"$T/rbld.conf" <<EOF
[log]
syslog = no
level = info
[rbld]
listen = 127.0.0.1:$PORT [::1]:$PORT
user = $USERNAME
pid_file = $T/rbld.pid
status_socket = $T/rbld.sock
tcp_idle_timeout = 1s
tcp_max_connections = 4
acl_deny = 127.0.0.66/32
[zone bl.test]
type = ip
files = ip4trie:$D/ip4.txt ip4set:$D/ip4b.txt ip6trie:$D/ip6.txt
ns = ns1.bl.test ns2.bl.test
hostmaster = abuse.bl.test
ttl = 10m
neg_ttl = 1m
[zone dbl.test]
type = domain
files = dnset:$D/dom.txt
[zone big.test]
files = $big_files
EOF

(cd "$D" && exec "$BIN/chanrac-rbld" -c "$T/rbld.conf" -f 2>"$T/rbld.log") &
RPID=$!
PIDS+=("$RPID")
q() { kdig @127.0.0.1 -p "$PORT" +time=2 +retry=1 "$@" 2>&1; }
short() { q "$@" +short | sort | tr '\n' ' ' | sed 's/ $//'; }
status() { q "$@" | sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -n 1; }
flags() { q "$@" | sed -n 's/^;; Flags: \([a-z ]*\);.*/\1/p' | head -n 1; }
rev6() { python3 -c "import ipaddress,sys; print('.'.join(reversed(ipaddress.ip_address(sys.argv[1]).exploded.replace(':',''))))" "$1"; }

if wait_for 10 sh -c "kdig @127.0.0.1 -p $PORT +time=1 +retry=0 bl.test SOA | grep -q NOERROR"; then
	ok "rbld answers on 127.0.0.1:$PORT"
else
	not_ok "rbld did not start"; sed 's/^/#   /' "$T/rbld.log"; finish
fi

# --- IPv4, CIDR, exclusion, multi-list ---
expect_eq "listed IPv4 in two lists: one A per list" "127.0.0.2 127.0.0.9" "$(short 7.2.0.192.bl.test A)"
expect_eq "TXT per list with \$ = address" '"Listed 192.0.2.7 see https://bl.test/?192.0.2.7" "second list"' "$(short 7.2.0.192.bl.test TXT)"
expect_eq "CIDR range answers its code" "127.0.0.3" "$(short 8.2.0.192.bl.test A)"
expect_eq "CIDR TXT" '"Range 192.0.2.8"' "$(short 8.2.0.192.bl.test TXT)"
expect_eq "exclusion carves out of the range" "NXDOMAIN" "$(status 99.2.0.192.bl.test A)"
expect_eq "unlisted IPv4 is NXDOMAIN" "NXDOMAIN" "$(status 1.1.168.192.bl.test A)"
expect_eq "range edge /25 inside" "127.0.0.4" "$(short 127.100.51.198.bl.test A)"
expect_eq "range edge /25 outside" "NXDOMAIN" "$(status 128.100.51.198.bl.test A)"
expect_eq "second list range" "127.0.0.9" "$(short 5.113.0.203.bl.test A)"
expect_eq "NXDOMAIN carries the SOA" "bl.test. 60 IN SOA ns1.bl.test. abuse.bl.test." \
	"$(q 1.1.168.192.bl.test A | grep -E '^bl.test\.' | awk '{print $1, $2, $3, $4, $5, $6}')"
expect_eq "answer TTL is the zone ttl" "600" "$(q 8.2.0.192.bl.test A | awk '/^8.2.0.192.bl.test.*IN.*A/ {print $2}')"
# --- test points ---
expect_eq "RFC 5782 127.0.0.2 listed" "127.0.0.2" "$(short 2.0.0.127.bl.test A)"
expect_eq "RFC 5782 127.0.0.1 never listed" "NXDOMAIN" "$(status 1.0.0.127.bl.test A)"
expect_eq "RFC 5782 ::FFFF:7F00:2 listed" "127.0.0.2" "$(short "$(rev6 ::ffff:7f00:2).bl.test" A)"
expect_eq "RFC 5782 ::FFFF:7F00:1 not listed" "NXDOMAIN" "$(status "$(rev6 ::ffff:7f00:1).bl.test" A)"
expect_eq "RFC 5782 TEST listed in a domain zone" "127.0.0.2" "$(short TEST.dbl.test A)"
expect_eq "RFC 5782 INVALID not listed" "NXDOMAIN" "$(status INVALID.dbl.test A)"
# --- IPv6 ---
expect_eq "IPv6 in a /32" "127.0.0.5" "$(short "$(rev6 2001:db8::5).bl.test" A)"
expect_eq "IPv6 TXT \$ = address" '"v6 range 2001:db8::5"' "$(short "$(rev6 2001:db8::5).bl.test" TXT)"
expect_eq "IPv6 longest prefix decides" "127.0.0.6" "$(short "$(rev6 2001:db8:1::1).bl.test" A)"
expect_eq "IPv6 exclusion" "NXDOMAIN" "$(status "$(rev6 2001:db8:2::7).bl.test" A)"
expect_eq "IPv6 unlisted" "NXDOMAIN" "$(status "$(rev6 2a00::1).bl.test" A)"
# --- domains ---
expect_eq "listed domain" "127.0.0.10" "$(short example.vn.dbl.test A)"
expect_eq "domain TXT \$ = name" '"spam domain example.vn"' "$(short example.vn.dbl.test TXT)"
expect_eq "names match case-insensitively" "127.0.0.10" "$(short ExAmPlE.Vn.DbL.TeSt A)"
expect_eq "question echoed as sent, answer owner too" "NOERROR qr aa id=4660 q=ExAmPlE.Vn.DbL.TeSt an=1" "$(python3 "$RAW" "$PORT" mixed_case)"
expect_eq "wildcard matches a subdomain" "127.0.0.11" "$(short a.b.wild.vn.dbl.test A)"
expect_eq "wildcard TXT names the listed domain" '"wild wild.vn"' "$(short a.wild.vn.dbl.test TXT)"
expect_eq "wildcard does not match its base: empty non-terminal" "NOERROR" "$(status wild.vn.dbl.test A)"
expect_eq "...with no answer" "" "$(short wild.vn.dbl.test A)"
expect_eq "exclusion under a wildcard" "NXDOMAIN" "$(status ok.wild.vn.dbl.test A)"
expect_eq "file default code" "127.0.1.2" "$(short shop.example.com.vn.dbl.test A)"
expect_eq "parent of a listed name is NODATA (QNAME minimisation)" "NOERROR" "$(status com.vn.dbl.test A)"
expect_eq "unlisted domain" "NXDOMAIN" "$(status nothere.vn.dbl.test A)"
expect_eq "unlisted subdomain of a listed exact name" "NXDOMAIN" "$(status www.example.vn.dbl.test A)"
# --- apex, other types, REFUSED ---
expect_eq "apex SOA" "ns1.bl.test. abuse.bl.test." "$(short bl.test SOA | awk '{print $1, $2}')"
expect_eq "apex NS" "ns1.bl.test. ns2.bl.test." "$(short bl.test NS)"
expect_eq "apex A is NODATA" "NOERROR" "$(status bl.test A)"
expect_eq "apex A has the SOA in authority" "1" "$(q bl.test A | grep -c 'AUTHORITY SECTION')"
expect_eq "AAAA of a listed name is NODATA" "NOERROR" "$(status 7.2.0.192.bl.test AAAA)"
expect_eq "...with no answer" "" "$(short 7.2.0.192.bl.test AAAA)"
expect_eq "ANY is answered minimally (A only, RFC 8482)" "127.0.0.2 127.0.0.9" "$(short 7.2.0.192.bl.test ANY)"
expect_eq "partial reversed name is an empty non-terminal" "NOERROR" "$(status 2.0.192.bl.test A)"
expect_eq "outside every zone: REFUSED" "REFUSED" "$(status example.com A)"
expect_eq "recursion never offered" "qr aa rd" "$(flags 7.2.0.192.bl.test A)"
expect_eq "REFUSED is not authoritative" "qr rd" "$(flags example.com A)"
# --- malformed packets ---
expect_eq "well-formed raw query" "NOERROR qr aa id=4660" "$(python3 "$RAW" "$PORT" ok)"
for c in qdcount2 qdcount0 pointer pointer_loop long_label label_past_end name_too_long no_qtype two_opt opt_bad_len ancount; do
	expect_eq "malformed $c: FORMERR" "FORMERR" "$(python3 "$RAW" "$PORT" "$c" | awk '{print $1}')"
done
expect_eq "too short: dropped" "none" "$(python3 "$RAW" "$PORT" short)"
expect_eq "QR=1: dropped" "none" "$(python3 "$RAW" "$PORT" response)"
expect_eq "opcode STATUS: NOTIMP" "NOTIMP" "$(python3 "$RAW" "$PORT" opcode_status | awk '{print $1}')"
expect_eq "opcode NOTIFY: NOTIMP" "NOTIMP" "$(python3 "$RAW" "$PORT" opcode_notify | awk '{print $1}')"
expect_eq "EDNS version 1: BADVERS" "BADVERS" "$(python3 "$RAW" "$PORT" edns_v1 | awk '{print $1}')"
# 20,000 random mutations of real queries (names in and out of the zones, every
# qtype, random header bits, truncations): the server must keep answering.
python3 - "$PORT" <<'PY'
import random, socket, struct, sys
r = random.Random(5782)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
names = [b"\x017\x012\x010\x03192\x02bl\x04test\x00", b"\x07example\x02vn\x03dbl\x04test\x00",
         b"\x02bl\x04test\x00", b"\x011\x010\x010\x0210\x03big\x04test\x00", b"\x00"]
for i in range(20000):
    m = bytearray(struct.pack(">HHHHHH", i & 0xffff, r.getrandbits(16) & 0x79ff, 1, 0, 0, r.choice([0, 1]))
                  + r.choice(names) + struct.pack(">HH", r.getrandbits(8), r.choice([1, 3, 255, r.getrandbits(16)])))
    if m[11]:
        m += b"\x00" + struct.pack(">HHBBHH", 41, r.getrandbits(16), 0, r.choice([0, 0, 1]), 0, 0)
    for _ in range(r.randint(0, 3)):
        m[r.randrange(len(m))] = r.getrandbits(8)
    if r.random() < 0.2:
        m = m[:r.randrange(len(m) + 1)]
    s.sendto(bytes(m), ("127.0.0.1", int(sys.argv[1])))
PY
check "still alive after malformed packets" kill -0 "$RPID"
expect_eq "still answering right after 20,000 mutated queries" "127.0.0.2 127.0.0.9" "$(short 7.2.0.192.bl.test A)"
# --- EDNS, TC, TCP ---
expect_eq "EDNS OPT echoed with payload 1232" "1" "$(q +bufsize=4096 7.2.0.192.bl.test A | grep -c 'Version: 0; flags: ; UDP size: 1232 B')"
expect_eq "no OPT without EDNS" "0" "$(q +noedns 7.2.0.192.bl.test A | grep -c 'EDNS')"
expect_eq "big answer over UDP without EDNS sets TC" "qr aa tc rd" "$(flags +noedns +ignore 1.0.0.10.big.test TXT)"
expect_eq "big answer with EDNS 1232 still TC" "qr aa tc rd" "$(flags +bufsize=1232 +ignore 1.0.0.10.big.test TXT)"
expect_eq "full answer over TCP" "6" "$(q +tcp 1.0.0.10.big.test TXT | grep -c 'IN.*TXT.*reason')"
expect_eq "A answer of the six lists fits UDP" "6" "$(short +noedns 1.0.0.10.big.test A | wc -w)"
expect_eq "TCP answer" "127.0.0.2 127.0.0.9" "$(short +tcp 7.2.0.192.bl.test A)"
expect_eq "IPv6 listener" "127.0.0.2 127.0.0.9" "$(kdig @::1 -p "$PORT" +short 7.2.0.192.bl.test A | sort | tr '\n' ' ' | sed 's/ $//')"
# TCP: two pipelined queries on one connection, then idle timeout closes it.
tcp_out=$(python3 - "$PORT" <<'PY'
import socket, struct, sys, time
def qry(i):
    n = b"\x017\x012\x010\x03192\x02bl\x04test\x00"
    m = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + n + b"\x00\x01\x00\x01"
    return struct.pack(">H", len(m)) + m
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(qry(1) + qry(2))
s.settimeout(3)
buf = b""
ids = []
while len(ids) < 2:
    d = s.recv(65535)
    if not d: break
    buf += d
    while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
        l = struct.unpack(">H", buf[:2])[0]
        ids.append(struct.unpack(">H", buf[2:4])[0]); buf = buf[2 + l:]
t0 = time.time()
try:
    closed = s.recv(1) == b""
except Exception:
    closed = False
print(ids, "closed" if closed and time.time() - t0 < 2.5 else "open")
PY
)
expect_eq "TCP pipelined queries and idle timeout" "[1, 2] closed" "$tcp_out"
# 300 pipelined queries with ~1.4 KB answers each: more than the server buffers
# per connection, so it must pause reading and resume as the client reads.
burst=$(python3 - "$PORT" <<'PY'
import socket, struct, sys
n = b"\x011\x010\x010\x0210\x03big\x04test\x00"
msgs = b""
for i in range(300):
    m = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + n + b"\x00\x10\x00\x01"
    msgs += struct.pack(">H", len(m)) + m
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)
s.sendall(msgs)
buf, ids = b"", []
while len(ids) < 300:
    try:
        d = s.recv(65535)
    except socket.timeout:
        break
    if not d: break
    buf += d
    while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
        l = struct.unpack(">H", buf[:2])[0]
        ids.append(struct.unpack(">H", buf[2:4])[0]); buf = buf[2 + l:]
print(len(ids), ids == list(range(300)))
PY
)
expect_eq "TCP burst of 300 big answers all arrive, in order" "300 True" "$burst"
# tcp_max_connections = 4: the fifth and sixth are closed at once, the first four work.
capped=$(python3 - "$PORT" <<'PY'
import socket, struct, sys, time
port = int(sys.argv[1])
conns = []
for i in range(6):
    conns.append(socket.create_connection(("127.0.0.1", port)))
    time.sleep(0.05)
n = b"\x017\x012\x010\x03192\x02bl\x04test\x00"
res = []
for i, c in enumerate(conns):
    c.settimeout(2)
    m = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + n + b"\x00\x01\x00\x01"
    try:
        c.sendall(struct.pack(">H", len(m)) + m)
        d = c.recv(2)
        res.append("answered" if len(d) == 2 else "closed")
    except Exception:
        res.append("closed")
print(" ".join(res))
PY
)
expect_eq "TCP connection cap" "answered answered answered answered closed closed" "$capped"
# --- ACL ---
expect_eq "denied client gets no answer" "" "$(kdig @127.0.0.1 -p "$PORT" -b 127.0.0.66 +time=1 +retry=0 +short 7.2.0.192.bl.test A 2>/dev/null | grep -v '^;;')"
expect_eq "other loopback client is answered" "127.0.0.2 127.0.0.9" "$(kdig @127.0.0.1 -p "$PORT" -b 127.0.0.67 +short 7.2.0.192.bl.test A | sort | tr '\n' ' ' | sed 's/ $//')"
# --- process ---
expect_eq "pid file" "$RPID" "$(cat "$T/rbld.pid" 2>/dev/null)"
expect_eq "runs as [rbld] user after binding" "$(id -u $USERNAME)" "$(awk '/^Uid:/ {print $2}' /proc/$RPID/status)"
stats=$("$BIN/chanrac-rbld" -c "$T/rbld.conf" --dump-stats)
expect_eq "--dump-stats has a line per zone" "4" "$(echo "$stats" | grep -c '^zone ')"
bl_q=$(echo "$stats" | sed -n 's/^zone bl.test queries=\([0-9]*\).*/\1/p')
check "bl.test counted queries ($bl_q)" test "${bl_q:-0}" -ge 30
check "refused counted" sh -c "echo '$stats' | grep '^zone \*' | grep -qv 'refused=0 '"
# --- reload ---
cp "$D/ip4b.txt" "$D/ip4b.good"
echo "192.0.2.200 :12:added by reload" >>"$D/ip4b.txt"
expect_eq "not listed before reload" "127.0.0.3" "$(short 200.2.0.192.bl.test A)"
if command -v dnsperf >/dev/null; then
	for i in $(seq 1 200); do echo "7.2.0.192.bl.test A"; echo "9.9.9.9.bl.test A"; done >"$T/q.txt"
	dnsperf -s 127.0.0.1 -p "$PORT" -d "$T/q.txt" -l 3 -Q 3000 -t 2 >"$T/perf.out" 2>&1 &
	PERF=$!
	sleep 0.5
	for i in 1 2 3 4 5; do kill -HUP "$RPID"; sleep 0.2; done
	wait "$PERF"
	lost=$(sed -n 's/.*Queries lost: *\([0-9]*\).*/\1/p' "$T/perf.out")
	sent=$(sed -n 's/.*Queries sent: *\([0-9]*\).*/\1/p' "$T/perf.out")
	expect_eq "no query lost during 5 reloads under load ($sent sent)" "0" "$lost"
	# Half the queries are listed, half not: a reload answered from half-loaded
	# data would tip the balance.
	nerr=$(sed -n 's/.*Response codes:.*NOERROR \([0-9]*\).*/\1/p' "$T/perf.out")
	nnx=$(sed -n 's/.*Response codes:.*NXDOMAIN \([0-9]*\).*/\1/p' "$T/perf.out")
	check "every answer during the reloads was right ($nerr NOERROR, $nnx NXDOMAIN)" \
		test "$((${nerr:-0} + ${nnx:-0}))" -eq "${sent:-1}" -a "$((${nerr:-0} - ${nnx:-0}))" -ge -1 \
		-a "$((${nerr:-0} - ${nnx:-0}))" -le 1
fi
wait_for 5 sh -c "kdig @127.0.0.1 -p $PORT +short 200.2.0.192.bl.test A | grep -q 127.0.0.12"
expect_eq "SIGHUP reload picks up the new entry" "127.0.0.12 127.0.0.3" "$(short 200.2.0.192.bl.test A)"
echo "192.0.2.300 broken line" >>"$D/ip4b.txt"
kill -HUP "$RPID"
wait_for 5 grep -q "keeping the old data of $D/ip4b.txt" "$T/rbld.log"
check "failed reload logs why" grep -q "ip4b.txt:4" "$T/rbld.log"
expect_eq "failed reload keeps the old data" "127.0.0.12 127.0.0.3" "$(short 200.2.0.192.bl.test A)"
kill -TERM "$RPID"
for _ in $(seq 1 100); do kill -0 "$RPID" 2>/dev/null || break; sleep 0.05; done
check "SIGTERM stops it" sh -c "! kill -0 $RPID 2>/dev/null"

# --- rate limit (own instance) ---
P2=$(free_port)
cat >"$T/rl.conf" <<EOF
[log]
syslog = no
[rbld]
listen = 127.0.0.1:$P2 [::1]:$P2
user = nobody
rate_limit = 5
rate_limit_slip = 0
status_socket = $T/rl.sock
pid_file = $T/rl.pid
[zone bl.test]
files = ip4trie:$D/ip4.txt
EOF
expect_rc "daemon mode: the starting process exits 0" 0 "$BIN/chanrac-rbld" -c "$T/rl.conf" -d
wait_for 10 test -s "$T/rl.pid"
DPID=$(cat "$T/rl.pid" 2>/dev/null)
PIDS+=("${DPID:-0}")
check "daemon mode: pid file names a running process" kill -0 "${DPID:-0}"
check "daemon answers" wait_for 10 sh -c "kdig @127.0.0.1 -p $P2 +time=1 +retry=0 bl.test SOA | grep -q NOERROR"
burst40() { # burst40 FAMILY ADDR: 40 queries at once, prints how many were answered
	python3 - "$P2" "$1" "$2" <<'PY'
import socket, struct, sys
fam = socket.AF_INET6 if sys.argv[2] == "6" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(0.5)
n = b"\x017\x012\x010\x03192\x02bl\x04test\x00"
for i in range(40):
    s.sendto(struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + n + b"\x00\x01\x00\x01", (sys.argv[3], int(sys.argv[1])))
c = 0
try:
    while True:
        s.recvfrom(4096); c += 1
except socket.timeout:
    pass
print(c)
PY
}
got=$(burst40 4 127.0.0.1)
check "rate limit per /24 answers at most 5 per second of 40 (got $got)" test "$got" -le 10 -a "$got" -ge 1
got6=$(burst40 6 ::1)
check "rate limit per /56 (IPv6) answers at most 5 per second of 40 (got $got6)" test "$got6" -le 10 -a "$got6" -ge 1
check "rate-limited queries counted" sh -c "'$BIN/chanrac-rbld' -c '$T/rl.conf' --dump-stats | grep '^zone bl.test' | grep -qv 'ratelimited=0 '"
finish
