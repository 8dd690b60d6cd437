#!/bin/bash
# chanrac stats rbl [--zone NAME] [--json]: a real chanrac-rbld serving two zones
# from dataset files, a known set of queries (listed, unlisted, refused), then a
# burst that the response-rate limit cuts; the CLI must report exactly those
# per-zone counters from the status socket, and fail with the documented exit
# codes (1 unknown zone, 2 bad input / no socket configured, 3 server not there).
. "$(dirname "$0")/../lib.sh"

CLI=$BIN/chanrac
[ -x "$CLI" ] || { not_ok "chanrac CLI not built"; finish; }
[ -x "$BIN/chanrac-rbld" ] || { not_ok "chanrac-rbld not built"; finish; }
chmod 755 "$T"
PORT=$(free_port)
mkdir -p "$T/data"
printf '192.0.2.1\n192.0.2.2 :3:range $\n' >"$T/data/ip.txt"
printf 'listed.vn\n' >"$T/data/dom.txt"
chmod -R a+rX "$T/data"
cat >"$T/c.conf" <<EOF
[log]
syslog = no
[rbld]
listen = 127.0.0.1:$PORT
user = nobody
status_socket = $T/rbld.sock
rate_limit = 40
rate_limit_slip = 0
[zone bl.test]
type = ip
files = ip4set:$T/data/ip.txt
[zone dbl.test]
type = domain
files = dnset:$T/data/dom.txt
EOF
sed '/^status_socket/d' "$T/c.conf" >"$T/nosock.conf"

"$BIN/chanrac-rbld" -c "$T/c.conf" -f 2>"$T/rbld.log" &
RPID=$!
PIDS+=("$RPID")
# Wait on the CLI itself, so that no DNS query is sent before the counted ones.
check "rbld starts and chanrac stats rbl answers" wait_for 10 "$CLI" -c "$T/c.conf" stats rbl
q() { kdig @127.0.0.1 -p "$PORT" +time=2 +retry=0 "$@" 2>/dev/null | sed -n 's/.*status: \([A-Z]*\).*/\1/p' | head -n 1; }
expect_eq "listed IPv4 A" NOERROR "$(q 1.2.0.192.bl.test A)"
expect_eq "listed IPv4 TXT" NOERROR "$(q 2.2.0.192.bl.test TXT)"
expect_eq "unlisted IPv4" NXDOMAIN "$(q 9.2.0.192.bl.test A)"
expect_eq "listed domain" NOERROR "$(q listed.vn.dbl.test A)"
expect_eq "unlisted domain" NXDOMAIN "$(q nope.vn.dbl.test A)"
expect_eq "outside every zone" REFUSED "$(q www.example.com A)"

# field ZONE NAME: one counter from the --json output
json=$("$CLI" -c "$T/c.conf" stats rbl --json 2>"$T/err")
echo "$json" >"$T/stats.json"
field() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print([z for z in d["zones"] if z["zone"] == sys.argv[2]][0][sys.argv[3]])' "$T/stats.json" "$1" "$2" 2>/dev/null
}
check "--json is valid JSON with data_gen, serial, redis, zones" python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["data_gen"] >= 1 and d["serial"] > 0 and d["redis"] in ("up", "down")
assert [z["zone"] for z in d["zones"]] == ["bl.test", "dbl.test", "*"]
assert [z["total"] for z in d["zones"]] == [False, False, True]' "$T/stats.json"
expect_eq "bl.test queries" 3 "$(field bl.test queries)"
expect_eq "bl.test listed" 2 "$(field bl.test listed)"
expect_eq "bl.test nxdomain" 1 "$(field bl.test nxdomain)"
expect_eq "bl.test refused" 0 "$(field bl.test refused)"
expect_eq "bl.test ratelimited" 0 "$(field bl.test ratelimited)"
expect_eq "dbl.test queries" 2 "$(field dbl.test queries)"
expect_eq "dbl.test listed" 1 "$(field dbl.test listed)"
expect_eq "dbl.test nxdomain" 1 "$(field dbl.test nxdomain)"
expect_eq "total queries (refused included)" 6 "$(field '*' queries)"
expect_eq "total listed" 3 "$(field '*' listed)"
expect_eq "total nxdomain" 2 "$(field '*' nxdomain)"
expect_eq "total refused" 1 "$(field '*' refused)"

# Text output: a header and one row per zone, counters in the header's order.
"$CLI" -c "$T/c.conf" stats rbl >"$T/text.out" 2>&1
expect_eq "text header" "zone queries listed nxdomain nodata refused formerr ratelimited tcp truncated" \
	"$(sed -n 2p "$T/text.out" | tr -s ' ')"
expect_eq "text row of bl.test" "bl.test 3 2 1 0 0 0 0 0 0" "$(grep '^bl.test ' "$T/text.out" | tr -s ' ')"
expect_eq "text row of the total" "(all) 6 3 2 0 1 0 0 0 0" "$(grep '^(all) ' "$T/text.out" | tr -s ' ')"
"$CLI" -c "$T/c.conf" stats rbl --zone DBL.test >"$T/zone.out" 2>&1
expect_eq "--zone shows that zone only (any case)" "dbl.test 2 1 1 0 0 0 0 0 0" \
	"$(sed -n '3,$p' "$T/zone.out" | tr -s ' ')"

# A burst of 200 queries from one socket: at most 40 per second are answered.
got=$(python3 - "$PORT" <<'EOF'
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
q = b"".join(bytes([len(l)]) + l for l in b"1.2.0.192.bl.test".split(b".")) + b"\0"
for i in range(200):
    s.sendto(struct.pack(">HHHHHH", i, 0, 1, 0, 0, 0) + q + b"\0\1\0\1", ("127.0.0.1", int(sys.argv[1])))
s.settimeout(0.2)
seen, end = set(), time.time() + 2
while time.time() < end:
    try:
        seen.add(struct.unpack(">H", s.recv(2048)[:2])[0])
    except socket.timeout:
        pass
print(len(seen))
EOF
)
"$CLI" -c "$T/c.conf" stats rbl --json >"$T/stats.json" 2>"$T/err"
rl=$(field bl.test ratelimited)
check "burst: the rate limit answered at most 80 of 200 (got $got)" test "${got:-999}" -le 80
expect_eq "burst: ratelimited counts every unanswered query" 200 "$((${rl:-0} + ${got:-0}))"
expect_eq "burst: queries count the limited ones too" 203 "$(field bl.test queries)"
expect_eq "burst: total ratelimited" "$rl" "$(field '*' ratelimited)"

expect_rc "unknown zone: exit 1" 1 "$CLI" -c "$T/c.conf" stats rbl --zone nosuch.test
check "unknown zone: names it" grep -q 'zone nosuch.test' "$T/last.err"
expect_rc "unknown option: exit 2" 2 "$CLI" -c "$T/c.conf" stats rbl --bogus
expect_rc "stray argument: exit 2" 2 "$CLI" -c "$T/c.conf" stats rbl extra
expect_rc "no status_socket configured: exit 2" 2 "$CLI" -c "$T/nosock.conf" stats rbl
check "no status_socket: says which key" grep -q 'status_socket is not set' "$T/last.err"
expect_rc "--socket overrides the config" 0 "$CLI" -c "$T/nosock.conf" stats rbl --socket "$T/rbld.sock"
kill "$RPID"
wait "$RPID" 2>/dev/null
expect_rc "server stopped: exit 3" 3 "$CLI" -c "$T/c.conf" stats rbl --json
check "server stopped: names the socket" grep -q "$T/rbld.sock" "$T/last.err"
finish
