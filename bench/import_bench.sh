#!/bin/bash
# List-import benchmark: `chanrac list import` of N generated entries (default
# 1,000,000 single IPv4 addresses, plain format) into a private redis-server,
# against a reference run in the same invocation: the same entries as raw
# HSET commands through `redis-cli --pipe` (Redis's documented mass-insertion
# path, no parsing, no validation, no atomic commit).
# Usage: bench/import_bench.sh [N]        (needs `make` first)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
BUILD=${BUILD:-build}
BIN=$BUILD/bin/chanrac
[ -x "$BIN" ] || { echo "build first: make" >&2; exit 2; }
T=$(mktemp -d /tmp/chanrac-bench.XXXXXX)
PORT=$((10000 + RANDOM % 22000))
redis-server --port "$PORT" --bind 127.0.0.1 --dir "$T" --save "" --appendonly no \
	--logfile "$T/redis.log" &
RPID=$!
trap 'kill $RPID 2>/dev/null; wait $RPID 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 1 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done

python3 bench/gen_dnsbl_data.py "$T/data" --ip4 "$N" --cidr 1 --ip6 0 --domains 0 \
	--queries 0 >/dev/null
printf '[redis]\nport = %s\ncommand_timeout = 120s\n[cli]\nsource = bench\n' "$PORT" >"$T/chanrac.conf"
grep "^ip4 " "$T/data/plain.txt" >"$T/ip4.txt" && mv "$T/ip4.txt" "$T/data/plain.txt"
entries=$(wc -l <"$T/data/plain.txt")

# Reference: the same fields and values as RESP HSET commands, generated
# before the clock starts.
python3 - "$T/data/plain.txt" "$T/ref.resp" <<'PY'
import sys, time
now = int(time.time())
with open(sys.argv[1]) as f, open(sys.argv[2], "wb") as out:
    def cmd(*a):
        b = [b"*%d\r\n" % len(a)]
        for x in a:
            x = x.encode()
            b.append(b"$%d\r\n%s\r\n" % (len(x), x))
        out.write(b"".join(b))
    for line in f:
        kind, value, code, reason = line.rstrip("\n").split(" ", 3)
        cmd("HSET", "ref:list", value, "v1\t%s\t%d\t0\tbench\t%s" % (code, now, reason))
PY

t0=$(date +%s.%N)
redis-cli -p "$PORT" --pipe <"$T/ref.resp" >/dev/null
t1=$(date +%s.%N)
"$BIN" -c "$T/chanrac.conf" list import "$T/data/plain.txt" --list spam-ip --format plain --replace >/dev/null
t2=$(date +%s.%N)

got=$(redis-cli -p "$PORT" hlen 'cr:{bl}:list:spam-ip')
ref=$(redis-cli -p "$PORT" hlen ref:list)
python3 - "$entries" "$t0" "$t1" "$t2" "$got" "$ref" <<'PY'
import sys
n, t0, t1, t2, got, ref = int(sys.argv[1]), *map(float, sys.argv[2:5]), int(sys.argv[5]), int(sys.argv[6])
r, c = t1 - t0, t2 - t1
print("entries:                %d (loaded: chanrac %d, reference %d)" % (n, got, ref))
print("redis-cli --pipe (ref): %.2f s  %9.0f entries/s" % (r, n / r))
print("chanrac list import:    %.2f s  %9.0f entries/s" % (c, n / c))
print("ratio chanrac/ref:      %.2f" % ((n / c) / (n / r)))
sys.exit(0 if got == n and ref == n else 1)
PY
