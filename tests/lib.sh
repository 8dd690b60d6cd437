# Shared helpers for integration tests (bash).  Source it:  . tests/lib.sh
# Servers are started on private loopback ports under a per-test temp dir and
# stopped by PID in the EXIT trap; waits poll with a bounded count.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
BUILD=${BUILD:-build}
ROOT=$(pwd)
BIN=$ROOT/$BUILD/bin
T=$(mktemp -d /tmp/chanrac-test.XXXXXX)
PIDS=()
PF_CONFS=() # config directories of the private Postfix instances started
TEST_PASSED=0
TEST_FAILED=0

cleanup() {
	local p
	# "postfix start-fg" does not pass a signal on to its master: stop them
	for p in "${PF_CONFS[@]}"; do
		postfix -c "$p" stop >/dev/null 2>&1
	done
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null
	done
	if [ "${KEEP_TMP:-0}" = 1 ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

ok() { echo "ok - $*"; TEST_PASSED=$((TEST_PASSED + 1)); }
not_ok() { echo "not ok - $*"; TEST_FAILED=$((TEST_FAILED + 1)); }
# check NAME CMD...: ok if CMD succeeds
check() { local n=$1; shift; if "$@"; then ok "$n"; else not_ok "$n"; fi; }
# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   expected: $2"; echo "#   actual:   $3"; fi
}
# expect_rc NAME RC CMD...: ok if CMD exits with RC
expect_rc() {
	local n=$1 want=$2 got; shift 2
	"$@" >"$T/last.out" 2>"$T/last.err"; got=$?
	if [ "$got" = "$want" ]; then ok "$n"; else
		not_ok "$n (exit $got, want $want)"; sed 's/^/#   /' "$T/last.out" "$T/last.err" | head -n 10
	fi
}
# wait_for SECONDS CMD...: polls CMD every 0.05 s until it succeeds or time runs out
wait_for() {
	local secs=$1 i n; shift
	n=$((secs * 20))
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}
# free_port: a loopback TCP port nobody listens on (random in 20000-59999)
free_port() {
	local p i
	# Below the kernel's ephemeral range (32768-60999 by default), so a
	# client connection's local port never takes the port we pick.
	for i in $(seq 1 100); do
		p=$((10000 + RANDOM % 22000))
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return 0; fi
	done
	return 1
}
# start_redis: starts a private redis-server; sets REDIS_PORT, REDIS_PID, REDIS_DIR
start_redis() {
	REDIS_PORT=${1:-$(free_port)}
	REDIS_DIR=$T/redis-$REDIS_PORT
	mkdir -p "$REDIS_DIR"
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" \
		--save "" --appendonly no --daemonize no --protected-mode yes \
		--logfile "$REDIS_DIR/redis.log" ${REDIS_EXTRA:-} &
	REDIS_PID=$!
	PIDS+=("$REDIS_PID")
	wait_for 10 redis-cli -p "$REDIS_PORT" ping || { echo "# redis did not start"; return 1; }
}
stop_redis() {
	kill "$REDIS_PID" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$REDIS_PID" 2>/dev/null || return 0; sleep 0.05; done
	kill -9 "$REDIS_PID" 2>/dev/null
}
# write_conf FILE: a chanrac.conf pointing at the private redis, plus any extra
# lines given on stdin
write_conf() {
	{
		echo "[redis]"
		echo "host = 127.0.0.1"
		echo "port = $REDIS_PORT"
		cat
	} >"$1"
}
# finish: prints nothing more; exits non-zero if any check failed
finish() { [ "$TEST_FAILED" -eq 0 ]; exit $?; }
# need_bin NAME...: each $BIN/NAME is built, or not_ok and finish
need_bin() {
	local b
	for b in "$@"; do [ -x "$BIN/$b" ] || { not_ok "$BIN/$b is built"; finish; }; done
}
# need_cmd CMD...: each command is installed, or not_ok and finish
need_cmd() {
	local c
	for c in "$@"; do command -v "$c" >/dev/null || { not_ok "$c is installed (contrib/install-deps.sh)"; finish; }; done
}
# need_root WHAT: unless root, the test is skipped (one ok line: WHAT needs root)
need_root() { [ "$(id -u)" = 0 ] || { echo "# skipped: $1 needs root"; ok "skipped (not root)"; finish; }; }
# conf_get FILE SECTION KEY: the value of KEY in [SECTION] of a chanrac.conf ("" if none)
conf_get() {
	awk -v s="[$2]" -v k="$3" '
		/^[ \t]*\[/ { sec = $0; gsub(/^[ \t]+|[ \t]+$/, "", sec); next }
		sec == s && $0 ~ "^[ \t]*" k "[ \t]*=" { sub(/^[^=]*=[ \t]*/, ""); sub(/[ \t]+$/, ""); print; exit }' "$1"
}
# conf_milter PORT: the [milter] section of the tests behind a private MTA, for
# write_conf's stdin: listens on inet:PORT@127.0.0.1, runs as nobody, no stats,
# no metrics listener (no fixed port)
conf_milter() { printf '[milter]\nsocket = inet:%s@127.0.0.1\nuser = nobody\nstats = no\nmetrics_listen =\n' "$1"; }
# conf_rbld PORT: chanrac-rbld on 127.0.0.1:PORT (as nobody, merging every 50 ms,
# no metrics listener) serving the test zones bl.chanrac.test (IPs of list
# spam-ip) and dbl.chanrac.test (domains of list spam-domain), for write_conf's
# stdin
conf_rbld() {
	printf '[rbld]\nlisten = 127.0.0.1:%s\nuser = nobody\nmerge_interval = 50ms\nmetrics_listen =\n' "$1"
	printf '[zone bl.chanrac.test]\ntype = ip\nlists = spam-ip\n'
	printf '[zone dbl.chanrac.test]\ntype = domain\nlists = spam-domain\n'
}
# conf_engine_rbld RBL_PORT [LINE...]: an [engine] section that asks only the
# chanrac-rbld of conf_rbld on RBL_PORT (deadline 3 s, authserv-id mx.chanrac.test,
# a reject text naming the zone and the delisting URL), with each LINE added to
# it, and the [dnsbl] sections of conf_rbld's two zones: bl.chanrac.test
# (RBL_CHANRAC, weight 20, delisting URL https://bl.chanrac.test/delist) and
# dbl.chanrac.test (DBL_CHANRAC, weight 9).
conf_engine_rbld() {
	local port=$1
	shift
	printf '[engine]\ndns_servers = 127.0.0.1:%s\ndeadline = 3s\nauthserv_id = mx.chanrac.test\n' "$port"
	[ $# -gt 0 ] && printf '%s\n' "$@"
	printf 'reject_text = Rejected: %%{zone} lists you; to be delisted see %%{delist_url}\n'
	printf '[dnsbl bl.chanrac.test]\ntype = ip\nrule = RBL_CHANRAC\nweight = 20\n'
	printf 'delist_url = https://bl.chanrac.test/delist\n'
	printf '[dnsbl dbl.chanrac.test]\ntype = domain\nrule = DBL_CHANRAC\nweight = 9\n'
}
# start_daemon PROG CONF LOG CHECK...: $BIN/PROG -c CONF in the foreground, stderr
# to LOG, then waits (up to 10 s) until CHECK succeeds.  Sets DAEMON_PID.  If
# CHECK never succeeds: prints LOG as # lines, returns 1.
start_daemon() {
	local prog=$1 conf=$2 log=$3
	shift 3
	"$BIN/$prog" -c "$conf" -f 2>"$log" &
	DAEMON_PID=$!
	PIDS+=("$DAEMON_PID")
	wait_for 10 "$@" || { echo "# $prog did not start"; sed 's/^/#   /' "$log"; return 1; }
}
# start_rbld CONF [LOG]: chanrac-rbld -c CONF in the foreground, stderr to LOG
# ($T/rbld.log by default); waits until it answers the SOA of the first [zone] of
# CONF on the first address of [rbld] listen (an IPv4 HOST:PORT).  Sets RBLD_PID,
# RBLD_HOST, RBLD_PORT.  If it does not answer: prints its log as # lines, returns 1.
start_rbld() {
	local conf=$1 log=${2:-$T/rbld.log} listen zone rc
	listen=$(conf_get "$conf" rbld listen)
	listen=${listen%%,*}
	RBLD_HOST=${listen%:*} RBLD_PORT=${listen##*:}
	zone=$(sed -n 's/^\[zone \(.*\)\]$/\1/p' "$conf" | head -n 1)
	start_daemon chanrac-rbld "$conf" "$log" \
		sh -c "kdig @$RBLD_HOST -p $RBLD_PORT +time=1 +retry=0 $zone SOA | grep -q NOERROR"
	rc=$?
	RBLD_PID=$DAEMON_PID
	return $rc
}
# rbld_listed NAME...: waits (up to 10 s each) until the chanrac-rbld of
# start_rbld answers every NAME's A query with 127.0.0.x (a listing reached it)
rbld_listed() {
	local n
	for n in "$@"; do
		wait_for 10 sh -c "kdig @$RBLD_HOST -p $RBLD_PORT +time=1 +retry=0 +short $n A | grep -q '^127\.0\.0\.'" || return 1
	done
}
# start_milter CONF [LOG]: chanrac-milter -c CONF in the foreground, stderr to LOG
# ($T/milter.log by default); waits until it listens on its [milter] socket
# (inet:PORT@HOST).  Sets MILTER_PID and MILTER_ADDR (the socket as Postfix
# names it: inet:HOST:PORT).  If it does not listen: prints its log as # lines,
# returns 1.
start_milter() {
	local conf=$1 log=${2:-$T/milter.log} sock port host rc
	sock=$(conf_get "$conf" milter socket)
	case $sock in
	inet:*@*) port=${sock#inet:} port=${port%@*} host=${sock#*@} ;;
	*) echo "# start_milter: [milter] socket in $conf is not inet:PORT@HOST"; return 1 ;;
	esac
	MILTER_ADDR=inet:$host:$port
	start_daemon chanrac-milter "$conf" "$log" bash -c "exec 3<>/dev/tcp/$host/$port"
	rc=$?
	MILTER_PID=$DAEMON_PID
	return $rc
}
# start_milter_postfix CONF: start_milter CONF, then start_sink and a private
# Postfix "pf" (start_postfix: PF_MAIN_EXTRA applies) with the milter in
# smtpd_milters and non_smtpd_milters.  Returns 1 if one of them did not start.
start_milter_postfix() {
	start_milter "$1" && start_sink && start_postfix pf "$MILTER_ADDR"
}

# start_sink: smtp-sink on a private loopback port, as the relay every private
# Postfix below delivers to.  Each message becomes one file in $SINK_DIR, unless
# SINK_DUMP=0 (then nothing is written: for benchmarks).  Sets SINK_PORT, SINK_DIR.
start_sink() {
	SINK_PORT=$(free_port)
	SINK_DIR=$T/sink-$SINK_PORT
	mkdir -p "$SINK_DIR"
	chmod 755 "$T" # smtp-sink runs as nobody
	chown nobody "$SINK_DIR" 2>/dev/null
	if [ "${SINK_DUMP:-1}" = 1 ]; then
		smtp-sink -u nobody -d "$SINK_DIR/%H%M%S." "127.0.0.1:$SINK_PORT" 256 2>"$SINK_DIR.log" &
	else
		smtp-sink -u nobody "127.0.0.1:$SINK_PORT" 256 2>"$SINK_DIR.log" &
	fi
	PIDS+=("$!")
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SINK_PORT" || { echo "# smtp-sink did not start"; return 1; }
}
# start_postfix NAME MILTER: a private Postfix instance in $T/NAME (its own
# config, queue and data directories; smtpd only on 127.0.0.1:$PF_PORT; every
# message relayed to smtp-sink on 127.0.0.1:$SINK_PORT: call start_sink first).
# MILTER is the Postfix address put in smtpd_milters and non_smtpd_milters, or ""
# for none.  $PF_MAIN_EXTRA (lines) is appended to main.cf.  Needs root.
# Sets PF (the directory), PF_PORT, PF_PID; the maillog is $PF/maillog.
start_postfix() {
	PF=$T/$1
	PF_PORT=$(free_port)
	mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
	chmod 755 "$T"
	chown postfix "$PF/data"
	cat >"$PF/etc/main.cf" <<EOF2
compatibility_level = 3.6
config_directory = $PF/etc
queue_directory = $PF/queue
data_directory = $PF/data
maillog_file = $PF/maillog
maillog_file_prefixes = $T
myhostname = mx.chanrac.test
mydomain = chanrac.test
myorigin = chanrac.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$SINK_PORT
smtp_dns_support_level = disabled
disable_dns_lookups = yes
smtpd_peername_lookup = no
biff = no
alias_maps =
alias_database =
milter_default_action = tempfail
milter_protocol = 6
${PF_MAIN_EXTRA:-}
EOF2
	if [ -n "$2" ]; then
		printf 'smtpd_milters = %s\nnon_smtpd_milters = %s\n' "$2" "$2" >>"$PF/etc/main.cf"
	fi
	cat >"$PF/etc/master.cf" <<EOF2
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF2
	PF_CONFS+=("$PF/etc")
	postfix -c "$PF/etc" start-fg >"$PF/start.out" 2>&1 &
	PF_PID=$!
	PIDS+=("$PF_PID")
	wait_for 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PF_PORT" ||
		{ echo "# private Postfix did not start"; sed 's/^/#   /' "$PF/start.out" "$PF/maillog" 2>/dev/null | tail -n 20; return 1; }
}
# stop_postfix: stops the instance start_postfix started last
stop_postfix() {
	postfix -c "$PF/etc" stop >/dev/null 2>&1
	wait_for 20 sh -c "! kill -0 $PF_PID 2>/dev/null"
}
# pf_queue_empty: no message waits in the incoming, active or deferred queue
pf_queue_empty() {
	[ -z "$(find "$PF/queue/incoming" "$PF/queue/active" "$PF/queue/deferred" "$PF/queue/maildrop" -type f 2>/dev/null | head -n 1)" ]
}
