#!/bin/bash
# chanrac list / query against a real private redis-server: adds, queries
# (longest prefix, wildcard, exclusion, several lists), every bad-input case
# (exit 2 or 3, nothing written), import/export round trips of a generated
# rbldnsd dataset, merge vs replace, expiry.
. "$(dirname "$0")/../lib.sh"

start_redis || { not_ok "redis starts"; finish; }
CONF=$T/chanrac.conf
write_conf "$CONF" <<EOC
[lists]
names = spam-ip spam-domain revoked-domain allow rt-a rt-b rt-c
[cli]
source = test
EOC
cr() { "$BIN/chanrac" -c "$CONF" "$@"; }
rkeys() { redis-cli -p "$REDIS_PORT" dbsize; }
stream_len() { redis-cli -p "$REDIS_PORT" xlen 'cr:{bl}:changes'; }

# --- the issue's example ---------------------------------------------------
expect_rc "list add 192.0.2.0/24" 0 cr list add 192.0.2.0/24 --list spam-ip --reason test
expect_rc "query 192.0.2.7 is listed" 0 cr query 192.0.2.7
out=$(cr query 192.0.2.7)
check "query names the matching CIDR, list, reason and source" \
	grep -q "spam-ip: 192.0.2.0/24 (longest prefix) code 127.0.0.2, source test, age .*reason: test" <<<"$out"
expect_rc "query 198.51.100.1 exits 1" 1 cr query 198.51.100.1
json=$(cr query 192.0.2.7 --json)
check "query --json parses and names the entry" python3 -c '
import json,sys
d=json.loads(sys.argv[1])
assert d["listed"] is True, d
m=d["matches"][0]
assert m["list"]=="spam-ip" and m["via"]=="longest prefix", m
assert m["entry"]["key"]=="192.0.2.0/24" and m["entry"]["code"]=="127.0.0.2", m
assert m["entry"]["reason"]=="test" and m["entry"]["source"]=="test", m
' "$json"
json=$(cr --json query 198.51.100.1)
check "query --json for an unlisted address" python3 -c '
import json,sys; d=json.loads(sys.argv[1]); assert d=={"query":"198.51.100.1","listed":False,"matches":[]}, d' "$json"

# --- matching rules ----------------------------------------------------------
cr list add 192.0.2.128/25 --list spam-ip --code 3 --reason "upper half" >/dev/null
out=$(cr query 192.0.2.200)
check "longest prefix wins (/25 over /24)" grep -q "192.0.2.128/25 (longest prefix) code 127.0.0.3" <<<"$out"
cr list add '!192.0.2.9' --list spam-ip --reason "our relay" >/dev/null
expect_rc "an exclusion carves an address out" 1 cr query 192.0.2.9
check "query reports the exclusion" grep -q "excluded by !192.0.2.9" <"$T/last.out"
expect_rc "neighbour of the exclusion still listed" 0 cr query 192.0.2.10
cr list add 2001:db8::/32 --list spam-ip --reason v6 >/dev/null
expect_rc "IPv6 inside a listed /32" 0 cr query 2001:db8:1::5
expect_rc "IPv6 outside" 1 cr query 2001:db9::1
expect_rc "IPv4-mapped IPv6 query is the IPv4 address" 0 cr query ::ffff:192.0.2.7
cr list add '*.example.vn' --list spam-domain --code 127.0.1.2 >/dev/null
out=$(cr query mail.shop.example.vn)
check "parent wildcard matches a subdomain" grep -q "spam-domain: \*.example.vn (parent wildcard) code 127.0.1.2" <<<"$out"
expect_rc "a wildcard does not match the name itself" 1 cr query example.vn
cr list add example.vn --list spam-domain --reason exact >/dev/null
out=$(cr query EXAMPLE.VN.)
check "exact domain, case and trailing dot normalised" grep -q "spam-domain: example.vn (exact)" <<<"$out"
cr list add 'Việt.example.vn' --list revoked-domain >/dev/null
out=$(cr query 'xn--vit-5kz.example.vn')
check "IDN stored as its A-label" grep -q "revoked-domain: xn--vit-5kz.example.vn" <<<"$out"
cr list add 192.0.2.7 --list allow --reason partner >/dev/null
out=$(cr query 192.0.2.7)
check "a query reports every list holding the item" bash -c 'grep -q "listed on 2 lists" <<<"$1" && grep -q "allow: 192.0.2.7 (exact)" <<<"$1"' _ "$out"

# --- show / del ----------------------------------------------------------------
out=$(cr list show --list spam-ip)
check "list show prints every entry" bash -c '[ "$(grep -c "^spam-ip" <<<"$1")" = 4 ]' _ "$out"
check "list show --json parses" python3 -c '
import json,subprocess,sys
d=json.loads(subprocess.check_output(sys.argv[1:]))
assert sorted(x["entry"]["key"] for x in d if x["list"]=="spam-ip")==["!192.0.2.9","192.0.2.0/24","192.0.2.128/25","2001:db8::/32"], d' \
	"$BIN/chanrac" -c "$CONF" list show --json
expect_rc "list del of an absent entry exits 1" 1 cr list del 203.0.113.1 --list spam-ip
expect_rc "list del removes" 0 cr list del 192.0.2.128/25 --list spam-ip
out=$(cr query 192.0.2.200)
check "after del the /24 decides again" grep -q "192.0.2.0/24 (longest prefix)" <<<"$out"

# --- bad input: one message naming the input, exit 2, nothing written ---------
before_keys=$(rkeys); before_stream=$(stream_len)
expect_rc "invalid IP exits 2" 2 cr list add 192.0.2.300 --list spam-ip
check "invalid IP message names it" grep -q "192.0.2.300" "$T/last.err"
expect_rc "CIDR with host bits exits 2" 2 cr list add 192.0.2.1/24 --list spam-ip
check "host-bits message names the network" grep -q "192.0.2.1/24: host bits set (network is 192.0.2.0/24)" "$T/last.err"
long=$(printf 'a%.0s' $(seq 1 64)).vn
expect_rc "over-long label exits 2" 2 cr list add "$long" --list spam-domain
check "over-long label message names it" grep -q "$long" "$T/last.err"
longname=$(for i in $(seq 1 26); do printf 'abcdefghi.'; done)vn
expect_rc "over-long domain exits 2" 2 cr list add "$longname" --list spam-domain
expect_rc "empty label exits 2" 2 cr list add "a..vn" --list spam-domain
expect_rc "bad characters exit 2" 2 cr list add "spam!.vn" --list spam-domain
expect_rc "unknown list exits 2" 2 cr list add 192.0.2.1 --list nosuch
check "unknown list message names it" grep -q "unknown list 'nosuch'" "$T/last.err"
expect_rc "missing --list exits 2" 2 cr list add 192.0.2.1
expect_rc "bad code exits 2" 2 cr list add 192.0.2.1 --list spam-ip --code 10.0.0.2
expect_rc "127.0.0.1 is never a code" 2 cr list add 192.0.2.1 --list spam-ip --code 1
expect_rc "one bad key among good ones writes nothing" 2 cr list add 198.51.100.1 bad..name --list spam-ip
expect_rc "unreadable file exits 2" 2 cr list import "$T/nonexistent" --list spam-ip
check "unreadable file message names it" grep -q "$T/nonexistent" "$T/last.err"
printf '198.51.100.1\n198.51.100.2\n198.51.100.300\n' >"$T/bad.ip4"
expect_rc "a bad line in an import exits 2" 2 cr list import "$T/bad.ip4" --list spam-ip --format ip4set
check "the import error names file:line" grep -q "$T/bad.ip4:3:" "$T/last.err"
expect_rc "unknown format exits 2" 2 cr list import "$T/bad.ip4" --list spam-ip --format bogus
expect_rc "unknown command exits 2" 2 cr frobnicate
printf '[redis]\nport = nope\n' >"$T/broken.conf"
expect_rc "broken config exits 2" 2 "$BIN/chanrac" -c "$T/broken.conf" query 192.0.2.1
check "broken config message names file:line:key" grep -q "broken.conf:2: \[redis\] port" "$T/last.err"
expect_eq "bad input wrote no key" "$before_keys" "$(rkeys)"
expect_eq "bad input wrote no change" "$before_stream" "$(stream_len)"
expect_rc "198.51.100.1 was not added by the failed commands" 1 cr query 198.51.100.1

# --- store unavailable: exit 3 ---------------------------------------------------
dead=$(free_port)
printf '[redis]\nport = %s\nconnect_timeout = 500ms\n' "$dead" >"$T/dead.conf"
expect_rc "Redis unreachable exits 3" 3 "$BIN/chanrac" -c "$T/dead.conf" query 192.0.2.1
check "unreachable message names the server" grep -q "127.0.0.1:$dead" "$T/last.err"
redis-cli -p "$REDIS_PORT" ACL SETUSER reader on '>rightpw' '~*' '+@read' '+ping' >/dev/null
echo wrongpw >"$T/pw"
printf '[redis]\nport = %s\nuser = reader\npassword_file = %s\n' "$REDIS_PORT" "$T/pw" >"$T/auth.conf"
expect_rc "Redis refusing auth exits 3" 3 "$BIN/chanrac" -c "$T/auth.conf" query 192.0.2.1
echo rightpw >"$T/pw"
expect_rc "the right password is accepted" 0 "$BIN/chanrac" -c "$T/auth.conf" query 192.0.2.7
expect_rc "a read-only user cannot add (exit 3)" 3 "$BIN/chanrac" -c "$T/auth.conf" list add 198.51.100.9 --list spam-ip
printf '[redis]\nport = %s\npassword_file = %s/nopw\n' "$REDIS_PORT" "$T" >"$T/nopw.conf"
expect_rc "unreadable password file is a configuration error (exit 2)" 2 "$BIN/chanrac" -c "$T/nopw.conf" query 192.0.2.1
check "password file message names it" grep -q "$T/nopw" "$T/last.err"

# --- import / export round trip of a generated rbldnsd dataset ------------------
GEN=$ROOT/bench/gen_dnsbl_data.py
python3 "$GEN" "$T/data" --ip4 3000 --cidr 300 --ip6 300 --domains 1000 --queries 10 >/dev/null
expect_rc "import ip4 dataset (ip4trie)" 0 cr list import "$T/data/ip4.rbldnsd" --list rt-a --format ip4trie --replace
expect_rc "import ip6 dataset (ip6trie)" 0 cr list import "$T/data/ip6.rbldnsd" --list rt-a --format ip6trie
expect_rc "import domain dataset (dnset)" 0 cr list import "$T/data/dom.rbldnsd" --list rt-a --format dnset
n_a=$(redis-cli -p "$REDIS_PORT" hlen 'cr:{bl}:list:rt-a')
# 3000 ip4 + test point + 300 cidr + 1 exclusion; 300 ip6 (its test point
# ::ffff:7f00:2 is the same key as 127.0.0.2);
# 1000 domains + 100 wildcards + test
expect_eq "every dataset entry was imported" 4703 "$n_a"
cr list export --list rt-a --format plain -o "$T/a.plain" >/dev/null
expect_rc "re-import the plain export" 0 cr list import "$T/a.plain" --list rt-b --format plain --replace
cr list export --list rt-b --format plain -o "$T/b.plain" >/dev/null
grep -v '^#' "$T/a.plain" | sort >"$T/a.sorted"
grep -v '^#' "$T/b.plain" | sort >"$T/b.sorted"
check "export, import, export gives the same set (plain)" cmp -s "$T/a.sorted" "$T/b.sorted"
expect_eq "the round-tripped list has every entry" "$n_a" "$(wc -l <"$T/b.sorted" | tr -d ' ')"
check "the exclusion survived the round trip" grep -q '!' "$T/b.sorted"
check "wildcards survived the round trip" grep -q '\*\.' "$T/b.sorted"
# rbldnsd formats: each holds its own kind of entry
for f in ip4trie ip6trie dnset; do
	cr list export --list rt-a --format $f -o "$T/a.$f" 2>/dev/null >/dev/null
done
cr list import "$T/a.ip4trie" --list rt-c --format ip4trie --replace >/dev/null &&
	cr list import "$T/a.ip6trie" --list rt-c --format ip6trie >/dev/null &&
	cr list import "$T/a.dnset" --list rt-c --format dnset >/dev/null
cr list export --list rt-c --format plain -o "$T/c.plain" >/dev/null
grep -v '^#' "$T/c.plain" | sort >"$T/c.sorted"
check "export, import, export gives the same set (rbldnsd formats)" cmp -s "$T/a.sorted" "$T/c.sorted"
out=$(cr query 127.0.0.2 -c "$CONF")
check "the RFC 5782 test point came from the dataset" grep -q "rt-a: 127.0.0.2" <<<"$out"

# merge vs replace; each committed import counts the entries it read as
# list.imported (P7/P8: received from other lists), a failed one nothing
counter() { redis-cli -p "$REDIS_PORT" hget "cr:{st}:day:$(date -u +%F)" "$1"; }
imported() { counter list.imported; }
imp0=$(imported) added0=$(counter list.added)
printf 'ip4 203.0.113.5 127.0.0.2 merged\n' >"$T/one.plain"
cr list import "$T/one.plain" --list rt-b --format plain >/dev/null
expect_eq "an import of 1 entry counts 1 as list.imported" "$((imp0 + 1))" "$(imported)"
expect_eq "merge keeps what was there" "$((n_a + 1))" "$(redis-cli -p "$REDIS_PORT" hlen 'cr:{bl}:list:rt-b')"
cr list import "$T/one.plain" --list rt-b --format plain --replace >/dev/null
expect_eq "replace leaves exactly the file" 1 "$(redis-cli -p "$REDIS_PORT" hlen 'cr:{bl}:list:rt-b')"
# a failed import changes nothing
cp "$T/a.plain" "$T/bad.plain"; echo "ip4 1.2.3.400 127.0.0.2 broken" >>"$T/bad.plain"
expect_rc "a bad last line fails the whole import" 2 cr list import "$T/bad.plain" --list rt-b --format plain --replace
expect_eq "the list is exactly as before the failed import" 1 "$(redis-cli -p "$REDIS_PORT" hlen 'cr:{bl}:list:rt-b')"
expect_eq "no staging key is left behind" "" "$(redis-cli -p "$REDIS_PORT" --scan --pattern 'cr:{bl}:import:*')"
expect_eq "failed imports count nothing (list.imported)" "$((imp0 + 2))" "$(imported)"
expect_eq "the imports are not counted as this provider's listings (list.added)" \
	"$added0" "$(counter list.added)"

# --- expiry ------------------------------------------------------------------------
cr list add 203.0.113.77 --list spam-ip --expires 1s >/dev/null
expect_rc "an entry is listed before it expires" 0 cr query 203.0.113.77
check "an expired entry is no longer answered" wait_for 4 bash -c "! '$BIN/chanrac' -c '$CONF' query 203.0.113.77"
out=$(cr list expire)
check "list expire removes it" grep -q "removed 1 expired" <<<"$out"
expect_eq "and its key is gone" "" "$(redis-cli -p "$REDIS_PORT" hget 'cr:{bl}:list:spam-ip' 203.0.113.77)"

finish
