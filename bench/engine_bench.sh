#!/bin/bash
# Engine cost per message: generates a corpus of N messages (plain and HTML, Vietnamese
# text, URLs, some senders and URL domains listed), starts a private chanrac-rbld serving
# an ip zone and a domain zone, and runs tests/tools/engine_bench over the corpus:
# the bare message parser (reference floor), the engine with a warm DNS cache, with a
# cold one (new engine, empty cache, per message), and with SPF; then valgrind
# callgrind instructions per message (difference of a 1-round and a 3-round run, so
# start-up and the warm-up pass cancel out); and SpamAssassin `spamassassin -L --mbox`
# (local rules only, no network) on the same corpus when it is installed.
#   usage: bench/engine_bench.sh [N]      (default 1000; BUILD=dir as for make)
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
N=${1:-1000}
CG_N=${CG_N:-200}
DRV=$BUILD/tests/tools/engine_bench
RBLD=$BUILD/bin/chanrac-rbld
[ -x "$DRV" ] && [ -x "$RBLD" ] || {
	echo "build first: make BUILD=$BUILD $DRV $RBLD" >&2
	exit 2
}
T=$(mktemp -d /tmp/chanrac-engine-bench.XXXXXX)
RPID=""
cleanup() {
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
chmod 755 "$T"

# --- corpus --------------------------------------------------------------------------
mkdir -p "$T/corpus"
python3 - "$T/corpus" "$N" <<'EOF'
import os, random, sys
out, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
words = ("giảm giá khuyến mãi hôm nay sản phẩm mới miễn phí đăng ký ngay ưu đãi "
         "khách hàng dịch vụ liên hệ chúng tôi the offer today free order now meeting "
         "report project please find attached thanks regards lunch schedule").split()
def para(k):
    return " ".join(rnd.choice(words) for _ in range(k))
mbox = open(os.path.join(out, "..", "corpus.mbox"), "w", encoding="utf-8")
for i in range(n):
    spam = i % 3 == 0
    dom = f"spam{i % 20}.vn" if spam else f"ham{i % 50}.com.vn"
    urls = [f"http://www{j}.{'spam' if spam and j == 0 else 'site'}{(i + j) % 40}.vn/p?id={i}"
            for j in range(rnd.randint(1, 6))]
    body_lines = [para(rnd.randint(8, 20)) for _ in range(rnd.randint(3, 30))]
    hdr = (f"Return-Path: <news{i}@{dom}>\n"
           f"Received: from mx.{dom} (mx.{dom} [192.0.2.{i % 250 + 1}])\n"
           f"\tby mx.bench.test (Postfix) with ESMTP id Q{i}; Mon, 23 Nov 2026 08:00:00 +0700\n"
           f"From: =?UTF-8?B?S2h1eeG6v24gbcOjaQ==?= <news{i}@{dom}>\n"
           f"To: user{i % 7}@bench.test\n"
           f"Subject: =?UTF-8?Q?=5BQC=5D_Gi=E1=BA=A3m_gi=C3=A1_{i}?=\n"
           f"Date: Mon, 23 Nov 2026 08:00:00 +0700\n"
           f"Message-ID: <{i}@{dom}>\nMIME-Version: 1.0\n")
    if i % 2:
        text = "\n".join(body_lines + urls)
        msg = hdr + "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + text + "\n"
    else:
        html = "".join(f"<p>{l}</p>" for l in body_lines)
        html += "".join(f'<a href="{u}">xem</a> ' for u in urls)
        msg = (hdr + 'Content-Type: multipart/alternative; boundary="b"\n\n--b\n'
               "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
               + "\n".join(body_lines + urls) + "\n--b\n"
               "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
               + "<html><body>" + html + "</body></html>\n--b--\n")
    with open(os.path.join(out, f"m{i:06d}.eml"), "w", encoding="utf-8") as f:
        f.write(msg)
    mbox.write("From MAILER-DAEMON Mon Nov 23 08:00:00 2026\n")
    mbox.write("".join((">" + l if l.startswith("From ") else l) + "\n" for l in msg.split("\n")[:-1]))
    mbox.write("\n")
EOF
files=("$T"/corpus/*.eml)
cg_files=("${files[@]:0:$CG_N}")

# --- responder --------------------------------------------------------------------------
PORT=$((10000 + RANDOM % 22000))
mkdir -p "$T/data"
printf '192.0.2.0/26\n192.0.2.128/28 :3:\n' >"$T/data/bl.txt"
for k in $(seq 0 19); do echo "spam$k.vn"; done >"$T/data/dbl.txt"
for k in $(seq 0 39); do echo "spam$k.vn"; done >>"$T/data/dbl.txt"
chmod -R a+rX "$T/data"
cat >"$T/c.conf" <<EOF
[log]
syslog = no
level = err
[rbld]
listen = 127.0.0.1:$PORT
user = nobody
[zone bl.bench]
type = ip
files = ip4set:$T/data/bl.txt
[zone dbl.bench]
type = domain
files = dnset:$T/data/dbl.txt
[engine]
dns_servers = 127.0.0.1:$PORT
deadline = 2s
authserv_id = mx.bench.test
[dnsbl bl.bench]
codes = 127.0.0.2=10 127.0.0.3=3
[dnsbl dbl.bench]
type = domain
weight = 4
EOF
"$RBLD" -c "$T/c.conf" -f 2>"$T/rbld.log" &
RPID=$!
for _ in $(seq 1 100); do
	kdig @127.0.0.1 -p "$PORT" +time=1 +retry=0 +short 2.0.0.127.bl.bench A 2>/dev/null | grep -q 127.0.0.2 && break
	sleep 0.05
done

echo "# corpus: $N messages ($(du -sh "$T/corpus" | cut -f1)), $(nproc) cores, $(date -u +%F)"
echo "## throughput (one thread)"
"$DRV" -c "$T/c.conf" --mode parse --rounds 3 "${files[@]}"
"$DRV" -c "$T/c.conf" --mode engine --no-spf --rounds 3 "${files[@]}"
"$DRV" -c "$T/c.conf" --mode engine --no-spf --cold "${files[@]}"
"$DRV" -c "$T/c.conf" --mode engine "${files[@]}"

echo "## instructions per message (valgrind --tool=callgrind, $CG_N messages)"
ir() { # total Ir of one run
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
		sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
if command -v valgrind >/dev/null; then
	for mode in "parse" "engine --no-spf"; do
		a=$(ir "$DRV" -c "$T/c.conf" --mode $mode --rounds 1 "${cg_files[@]}")
		b=$(ir "$DRV" -c "$T/c.conf" --mode $mode --rounds 3 "${cg_files[@]}")
		echo "mode=${mode// /} instructions_per_msg=$(((b - a) / (2 * CG_N)))"
	done
else
	echo "# valgrind not installed"
fi

echo "## reference: SpamAssassin $(spamassassin --version 2>/dev/null | head -n 1 | sed 's/.*version //') -L --mbox"
if command -v spamassassin >/dev/null; then
	head -n "$(grep -n '^From MAILER-DAEMON' "$T/corpus.mbox" | sed -n 2p | cut -d: -f1)" "$T/corpus.mbox" |
		head -n -1 >"$T/one.mbox"
	s0=$(date +%s%N)
	spamassassin -L --mbox <"$T/one.mbox" >/dev/null 2>&1
	s1=$(date +%s%N)
	spamassassin -L --mbox <"$T/corpus.mbox" >"$T/sa.out" 2>/dev/null
	s2=$(date +%s%N)
	per=$(((s2 - s1 - (s1 - s0)) / (N - 1)))
	echo "spamassassin startup_ms=$(((s1 - s0) / 1000000)) messages=$N ms_per_msg=$((per / 1000000)).$(((per / 10000) % 100)) msgs_per_s=$((1000000000 / per)) spam_flagged=$(grep -c '^X-Spam-Flag: YES' "$T/sa.out")"
else
	echo "# spamassassin not installed (apt-get install spamassassin)"
fi
