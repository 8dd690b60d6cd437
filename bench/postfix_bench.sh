#!/bin/bash
# Postfix throughput with and without a content filter, in one invocation.
# Four private Postfix instances (tests/lib.sh start_postfix: own config and
# queue under a temp dir, smtpd on a loopback port, every message relayed to one
# smtp-sink that writes nothing) differ only in smtpd_milters:
#   none      no milter
#   null      bench/null_milter.c: receives every step, adds one header, no work:
#             the floor any libmilter filter costs Postfix (reference)
#   chanrac   chanrac-milter, its DNS answered by a local chanrac-rbld (over Redis)
#   spamass   spamass-milter + spamd -L (SpamAssassin, local tests only), the
#             filter most admins run today
# Each round sends N copies of one realistic message (multipart text+HTML,
# Vietnamese text, 3 URLs; ham for both filters) with smtp-source in S parallel
# sessions and times it from the first connection until Postfix's queue is empty
# again (every message relayed to the sink: accepted, filtered and delivered).
# Rounds alternate between the instances; one warm-up round each is not counted.
# Prints messages/s per round, the median/min/max per instance, CPU ms per
# message of the filter processes, and the ratios of the medians.
#   usage: bench/postfix_bench.sh [N] [ROUNDS]   (defaults 2000 and 3; BUILD=dir)
#   env:   S (sessions, default 10), SA_N (messages per spamass round, default N/10),
#          CONFIGS (a subset of "none null chanrac spamass"), PERF_CFG=CFG (record a
#          system-wide perf profile of that instance's rounds into PERF_OUT)
# Needs root (private Postfix), postfix, smtp-source/smtp-sink, redis-server,
# spamd, spamass-milter, libmilter-dev (contrib/install-deps.sh installs them).
. "$(dirname "$0")/../tests/lib.sh"
N=${1:-2000}
ROUNDS=${2:-3}
S=${S:-10}
SA_N=${SA_N:-$((N / 10 < 100 ? 100 : N / 10))}

die() { echo "postfix_bench: $*" >&2; exit 1; }
for b in "$BIN/chanrac-milter" "$BIN/chanrac-rbld" "$BIN/chanrac"; do
	[ -x "$b" ] || die "$b is missing: make BUILD=$BUILD first"
done
for c in postfix smtp-source smtp-sink redis-server kdig spamd spamc spamass-milter; do
	command -v "$c" >/dev/null || die "$c is not installed (contrib/install-deps.sh)"
done
[ "$(id -u)" = 0 ] || die "a private Postfix instance needs root"
chmod 755 "$T"

# cpu_ms PID...: user+system CPU milliseconds of the processes (and their reaped children)
cpu_ms() {
	local p t=0 tck
	tck=$(getconf CLK_TCK)
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] || continue
		t=$((t + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat")))
	done
	echo $((t * 1000 / tck))
}
# pids_of NAME: every process whose command line starts with NAME (for spamd children)
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- chanrac: Redis, chanrac-rbld with some listings, chanrac-milter --------------------
start_redis >/dev/null || die "redis-server did not start"
RBL_PORT=$(free_port)
MPORT=$(free_port)
write_conf "$T/chanrac.conf" <<EOF2
[log]
syslog = no
level = ${MILTER_LOG_LEVEL:-warning}
[cli]
source = bench
[rbld]
listen = 127.0.0.1:$RBL_PORT
user = nobody
[zone bl.chanrac.test]
type = ip
lists = spam-ip
[zone dbl.chanrac.test]
type = domain
lists = spam-domain
[engine]
dns_servers = 127.0.0.1:$RBL_PORT
deadline = 3s
authserv_id = mx.chanrac.test
[dnsbl bl.chanrac.test]
type = ip
weight = 20
[dnsbl dbl.chanrac.test]
type = domain
weight = 9
[milter]
socket = inet:$MPORT@127.0.0.1
user = nobody
EOF2
"$BIN/chanrac-rbld" -c "$T/chanrac.conf" -f 2>"$T/rbld.log" &
RPID=$!
PIDS+=("$RPID")
wait_for 10 sh -c "kdig @127.0.0.1 -p $RBL_PORT +time=1 +retry=0 bl.chanrac.test SOA | grep -q NOERROR" ||
	die "chanrac-rbld did not start: $(tail -n 3 "$T/rbld.log")"
{ for i in $(seq 1 200); do echo "198.51.100.$i"; done; echo "203.0.113.0/24"; } >"$T/ips.txt"
for i in $(seq 1 200); do echo "spam$i.vn"; done >"$T/doms.txt"
"$BIN/chanrac" -c "$T/chanrac.conf" list import "$T/ips.txt" --list spam-ip --format ip4set >/dev/null &&
	"$BIN/chanrac" -c "$T/chanrac.conf" list import "$T/doms.txt" --list spam-domain --format dnset >/dev/null ||
	die "chanrac list import failed"
"$BIN/chanrac-milter" -c "$T/chanrac.conf" -f 2>"$T/milter.log" &
MPID=$!
PIDS+=("$MPID")
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT" || die "chanrac-milter did not start: $(tail -n 3 "$T/milter.log")"

# --- the null milter (reference floor) ---------------------------------------------------
cc -std=c11 -O2 -o "$T/null_milter" bench/null_milter.c -lmilter -lpthread || die "cannot build bench/null_milter.c"
NPORT=$(free_port)
"$T/null_milter" "inet:$NPORT@127.0.0.1" 2>"$T/null_milter.log" &
NPID=$!
PIDS+=("$NPID")
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$NPORT" || die "null_milter did not start"

# --- SpamAssassin: spamd -L with the Debian site config, spamass-milter -------------------
SPAMD_PORT=$(free_port)
SAM_PORT=$(free_port)
cp -r /etc/spamassassin "$T/sa-site"
chmod -R a+rX "$T/sa-site"
# Debian's defaults (/etc/default/spamd: --max-children 5); -L: no network tests;
# -x: no per-user config.
spamd -L -x -4 --max-children 5 --listen="127.0.0.1:$SPAMD_PORT" -u nobody \
	--siteconfigpath "$T/sa-site" -r "$T/spamd.pid" -s "$T/spamd.log" >"$T/spamd.out" 2>&1 &
SPID=$!
PIDS+=("$SPID")
wait_for 60 spamc -K -d 127.0.0.1 -p "$SPAMD_PORT" || die "spamd did not start: $(tail -n 3 "$T/spamd.out")"
# Debian's /etc/default/spamass-milter adds "-i 127.0.0.1", which skips mail from
# loopback, i.e. all of this benchmark's: left out on purpose.
spamass-milter -p "inet:$SAM_PORT@127.0.0.1" -- -d 127.0.0.1 -p "$SPAMD_PORT" >"$T/spamass-milter.out" 2>&1 &
SAMPID=$!
PIDS+=("$SAMPID")
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SAM_PORT" || die "spamass-milter did not start"

# --- one sink, three Postfix instances --------------------------------------------------
SINK_DUMP=0 start_sink >/dev/null || die "smtp-sink did not start"
declare -A PFDIR PFPORT
PF_MAIN_EXTRA="milter_default_action = tempfail"
CONFIGS=${CONFIGS:-none null chanrac spamass}
for cfg in $CONFIGS; do
	case $cfg in
	none) m="" ;;
	null) m="inet:127.0.0.1:$NPORT" ;;
	chanrac) m="inet:127.0.0.1:$MPORT" ;;
	spamass) m="inet:127.0.0.1:$SAM_PORT" ;;
	esac
	start_postfix "pf-$cfg" "$m" >/dev/null || die "private Postfix ($cfg) did not start"
	PFDIR[$cfg]=$PF
	PFPORT[$cfg]=$PF_PORT
done

# --- the message ---------------------------------------------------------------------------
python3 - "$T/msg.eml" <<'EOF2'
import sys
para = ("Kính gửi quý khách, chúng tôi xin gửi lịch họp tuần sau và biên bản cuộc họp "
        "tháng trước. Mọi góp ý xin gửi lại trước thứ Sáu. Please find the meeting notes "
        "and the schedule for next week below; reply before Friday with your comments.")
text = "\n\n".join(para for _ in range(6))
urls = ["https://docs.congty-abc.com.vn/bien-ban/2026-11",
        "https://lich.congty-abc.com.vn/tuan-48", "http://www.example.org/huong-dan"]
html = "".join(f"<p>{para}</p>\n" for _ in range(6)) + "".join(f'<p><a href="{u}">{u}</a></p>\n' for u in urls)
msg = f"""From: =?UTF-8?B?UGjDsm5nIEjDoG5oIGNow61uaA==?= <hanhchinh@congty-abc.com.vn>
To: user@example.vn
Subject: =?UTF-8?Q?L=E1=BB=8Bch_h=E1=BB=8Dp_tu=E1=BA=A7n_48?=
Date: Wed, 02 Dec 2026 09:00:00 +0700
Message-ID: <bench-1@congty-abc.com.vn>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

{text}

{chr(10).join(urls)}
--b1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit

<html><body>
{html}</body></html>
--b1--
"""
open(sys.argv[1], "w", encoding="utf-8").write(msg)
EOF2

# round CFG COUNT: prints messages/s of one round; fails if not every message was delivered
round() {
	local cfg=$1 count=$2 before after t0 t1 c0 c1
	PF=${PFDIR[$cfg]}
	before=$(grep -c ' status=sent ' "$PF/maillog" 2>/dev/null)
	c0=$(filter_cpu "$cfg")
	local perf=""
	if [ "$cfg" = "${PERF_CFG:-}" ] && [ "$count" = "$N" ]; then # a system-wide profile of this round
		perf record -a -g -o "$T/perf.$cfg.data" -- sleep 600 >/dev/null 2>&1 &
		perf=$!
		sleep 1
	fi
	t0=$(now_ms)
	smtp-source -s "$S" -m "$count" -f bench@congty-abc.com.vn -t user@example.vn \
		-M mail.congty-abc.com.vn -F "$T/msg.eml" "127.0.0.1:${PFPORT[$cfg]}" >"$T/ss.out" 2>&1 ||
		{ echo "smtp-source failed ($cfg): $(tail -n 3 "$T/ss.out")" >&2; return 1; }
	wait_for 600 pf_queue_empty || { echo "queue of $cfg did not drain" >&2; return 1; }
	t1=$(now_ms)
	if [ -n "$perf" ]; then
		kill -INT "$perf"
		wait "$perf"
		cp "$T/perf.$cfg.data" "${PERF_OUT:-perf.$cfg.data}"
	fi
	c1=$(filter_cpu "$cfg")
	wait_for 10 sh -c "[ \$(grep -c ' status=sent ' '$PF/maillog') -ge $((before + count)) ]"
	after=$(grep -c ' status=sent ' "$PF/maillog")
	[ $((after - before)) = "$count" ] ||
		{ echo "$cfg: $((after - before)) of $count messages delivered" >&2; return 1; }
	grep -qiE 'warning|fatal' "$T/ss.out" && { echo "$cfg: smtp-source: $(grep -iE 'warning|fatal' "$T/ss.out" | head -n 1)" >&2; return 1; }
	RATE=$(awk -v n="$count" -v ms="$((t1 - t0))" 'BEGIN {printf "%.1f", n * 1000 / ms}')
	CPU=$(awk -v n="$count" -v ms="$((c1 - c0))" 'BEGIN {printf "%.2f", ms / n}')
	MS=$((t1 - t0))
}
# filter_cpu CFG: CPU ms so far of that instance's filter processes
filter_cpu() {
	case $1 in
	none) echo 0 ;;
	null) cpu_ms "$NPID" ;;
	chanrac) cpu_ms "$MPID" "$RPID" ;;
	spamass) cpu_ms "$SAMPID" "$SPID" $(pgrep -P "$SPID") ;;
	esac
}

echo "# postfix_bench: N=$N (spamass $SA_N) per round, $ROUNDS rounds, $S smtp-source sessions," \
	"$(nproc) cores, $(date -u '+%F %H:%M') UTC, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# message: $(wc -c <"$T/msg.eml") bytes; Postfix $(postconf -d -h mail_version)," \
	"SpamAssassin $(spamd --version | sed -n 's/.*version //p' | head -n 1)"
for cfg in $CONFIGS; do # warm-up: processes spawned, caches filled
	round "$cfg" 50 || die "warm-up round of $cfg failed"
done
declare -A RATES
printf '%-8s %5s %8s %8s %10s\n' config round msgs ms msgs/s
for r in $(seq 1 "$ROUNDS"); do
	for cfg in $CONFIGS; do
		n=$N
		[ "$cfg" = spamass ] && n=$SA_N
		round "$cfg" "$n" || die "round $r of $cfg failed"
		RATES[$cfg]="${RATES[$cfg]:-} $RATE"
		printf '%-8s %5s %8s %8s %10s   filter CPU %s ms/msg\n' "$cfg" "$r" "$n" "$MS" "$RATE" "$CPU"
	done
done
med() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)], a[1], a[NR]}'; }
echo
printf '%-8s %10s %10s %10s\n' config median min max
declare -A MED
for cfg in $CONFIGS; do
	read -r m lo hi < <(echo "${RATES[$cfg]}" | med)
	MED[$cfg]=$m
	printf '%-8s %10s %10s %10s\n' "$cfg" "$m" "$lo" "$hi"
done
awk -v n="${MED[none]:-0}" -v z="${MED[null]:-0}" -v c="${MED[chanrac]:-0}" -v s="${MED[spamass]:-0}" '
function ratio(label, a, b, fmt, note) { if (a > 0 && b > 0) printf "%-24s = " fmt "%s\n", label, a / b, note }
BEGIN {
	ratio("chanrac / no milter", c, n, "%.2f", "   (target >= 0.80)")
	ratio("chanrac / spamass-milter", c, s, "%.1f", "    (target >= 5)")
	ratio("null milter / no milter", z, n, "%.2f", "   (floor of any libmilter filter)")
	ratio("chanrac / null milter", c, z, "%.2f", "")
	ratio("spamass / no milter", s, n, "%.3f", "")
}'
for cfg in $CONFIGS; do
	PF=${PFDIR[$cfg]}
	postfix -c "$PF/etc" stop >/dev/null 2>&1
done
exit 0
