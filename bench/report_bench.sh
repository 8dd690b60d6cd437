#!/bin/bash
# Spam-report benchmark: `chanrac report` of an mbox of N generated spam
# messages (default 2,000; 200 origin IPs, 50 URL hosts of one registered
# domain) into a private
# redis-server, twice: the first reporter only votes (every item stays below
# the threshold of 2), the second reporter's votes reach it, so its run also
# lists 200 IPs and the domain (store_query for the allow list, the listing
# script with its audit entry, the pending reports marked processed).
# Usage: bench/report_bench.sh [N]        (needs `make` first)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
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
printf '[redis]\nport = %s\n[lists]\nnames = spam-ip spam-domain allow\n[report]\ntrusted_relays = 127.0.0.0/8 10.20.0.0/16\nip_threshold = 2\ndomain_threshold = 2\n' \
	"$PORT" >"$T/chanrac.conf"
python3 - "$N" "$T/bench.mbox" <<'PY'
import sys
n, out = int(sys.argv[1]), open(sys.argv[2], "w")
for i in range(n):
    out.write(f"From bench Tue Dec  1 10:00:00 2026\n"
              f"Received: from mx1 (mx1 [10.20.0.5]) by mailbox with LMTP id A{i}; Tue, 1 Dec 2026 10:00:02 +0700\n"
              f"Received: from s{i}.example (unknown [203.0.113.{i % 200 + 1}]) by mx1 with ESMTP id B{i}; Tue, 1 Dec 2026 10:00:01 +0700\n"
              f"From: sale@shop{i % 50}.example.vn\nTo: u@isp.example.vn\nSubject: sale {i}\n"
              f"Message-ID: <bench-{i}@shop.example.vn>\n\n"
              f"Big sale on phones laptops and watches today only at http://www.shop{i % 50}.example.vn/x number {i}.\n\n")
PY
for who in bench1 bench2; do
	s=$(date +%s%N)
	"$BIN" -c "$T/chanrac.conf" report "$T/bench.mbox" --reporter "$who" >/dev/null
	e=$(date +%s%N)
	ms=$(((e - s) / 1000000))
	echo "reporter $who: $N reports in $ms ms ($(awk -v n="$N" -v ms="$ms" 'BEGIN { printf "%.0f", n * 1000 / ms }') reports/s)"
done
echo "listed: $("$BIN" -c "$T/chanrac.conf" list show | wc -l) entries"
