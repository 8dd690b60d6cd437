#!/bin/bash
# contrib/run.sh (`make run`): starts Redis (a private instance in a temp dir unless
# the configuration names one), chanrac-rbld and chanrac-milter on loopback in the
# foreground, prints what runs where and the lines to add to Postfix's main.cf.
# Ctrl-C (or SIGTERM) stops all three by PID and removes the temp dir.
#   BUILD=dir        build directory holding bin/ (default build)
#   CHANRAC_CONF=f   use this configuration (copied; a private Redis is added to it
#                    unless its [redis] section names one)
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
BIN=$(pwd)/$BUILD/bin
for b in chanrac chanrac-rbld chanrac-milter; do
	if [ ! -x "$BIN/$b" ]; then
		echo "run.sh: $BIN/$b is missing: run 'make BUILD=$BUILD' first" >&2
		exit 1
	fi
done
command -v redis-server >/dev/null || { echo "run.sh: redis-server is not installed" >&2; exit 1; }

TMP=$(mktemp -d /tmp/chanrac-run.XXXXXX)
chmod 755 "$TMP" # the daemons drop root to nobody and still read their config
CONF=$TMP/chanrac.conf
PIDS=()
NAMES=()

stop_all() {
	local i p
	trap - INT TERM EXIT
	echo
	echo "run.sh: stopping"
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		kill "${PIDS[$i]}" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 1 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$TMP"
	echo "run.sh: stopped ${NAMES[*]}; removed $TMP"
}
trap 'stop_all; exit 0' INT TERM
trap 'stop_all' EXIT

# wait_for SECONDS CMD...: polls every 0.05 s
wait_for() {
	local n=$(($1 * 20)) i; shift
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# pick_port PREFERRED: PREFERRED if nobody listens on it, else a random free one
pick_port() {
	local p=$1 i
	port_free "$p" && { echo "$p"; return 0; }
	for i in $(seq 1 100); do
		p=$((10000 + RANDOM % 22000))
		port_free "$p" && { echo "$p"; return 0; }
	done
	return 1
}
# started NAME PID: remembers a child to stop later
started() { NAMES+=("$1"); PIDS+=("$2"); }

RUN_USER=""
[ "$(id -u)" = 0 ] && RUN_USER=nobody
RBL_PORT=$(pick_port 5353)
MILTER_PORT=$(pick_port 8891)
# Lookups outside our zones (SPF, external lists) go on to the system resolvers:
# chanrac-rbld refuses them and the engine asks the next server.
RESOLVERS=$(awk '$1 == "nameserver" && $2 !~ /:/ {print $2}' /etc/resolv.conf 2>/dev/null | head -n 3 | tr '\n' ' ')

START_REDIS=1
if [ -n "${CHANRAC_CONF:-}" ]; then
	[ -r "$CHANRAC_CONF" ] || { echo "run.sh: cannot read $CHANRAC_CONF" >&2; exit 1; }
	cp "$CHANRAC_CONF" "$CONF"
	# does its [redis] section name a server?
	if awk '/^[ \t]*\[/ {s = $0; gsub(/[][ \t]/, "", s)} s == "redis" && /^[ \t]*(host|port|socket)[ \t]*=/ {f = 1} END {exit !f}' "$CONF"; then
		START_REDIS=0
	fi
	if [ "$START_REDIS" = 1 ]; then
		REDIS_PORT=$(pick_port 6379)
		printf '\n# added by contrib/run.sh: its private Redis\n[redis]\nhost = 127.0.0.1\nport = %s\n' \
			"$REDIS_PORT" >>"$CONF"
	fi
	CONF_NOTE="copy of $CHANRAC_CONF"
else
	REDIS_PORT=$(pick_port 6379)
	cat >"$CONF" <<EOF
# Written by contrib/run.sh for one run; removed when it stops.
[log]
syslog = no
level = info
[redis]
host = 127.0.0.1
port = $REDIS_PORT
[rbld]
listen = 127.0.0.1:$RBL_PORT
user = $RUN_USER
[zone bl.chanrac.local]
type = ip
lists = spam-ip
[zone dbl.chanrac.local]
type = domain
lists = spam-domain revoked-domain
[engine]
dns_servers = 127.0.0.1:$RBL_PORT $RESOLVERS
deadline = 5s
[dnsbl bl.chanrac.local]
type = ip
rule = RBL_OWN
weight = 20
delist_url = https://bl.chanrac.local/delist
[dnsbl dbl.chanrac.local]
type = domain
rule = DBL_OWN
weight = 6
[milter]
socket = inet:$MILTER_PORT@127.0.0.1
user = $RUN_USER
EOF
	CONF_NOTE="written for this run"
fi

if [ "$START_REDIS" = 1 ]; then
	mkdir -p "$TMP/redis"
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$TMP/redis" --save "" \
		--appendonly no --daemonize no --protected-mode yes \
		--logfile "$TMP/redis/redis.log" &
	started redis-server "$!"
	if ! wait_for 10 redis-cli -p "$REDIS_PORT" ping; then
		echo "run.sh: redis-server did not start; see $TMP/redis/redis.log" >&2
		tail -n 5 "$TMP/redis/redis.log" >&2
		exit 1
	fi
fi

"$BIN/chanrac-rbld" -c "$CONF" -f &
started chanrac-rbld "$!"
"$BIN/chanrac-milter" -c "$CONF" -f &
started chanrac-milter "$!"

# Both are ready when they answer: rbld over DNS (SOA of its first zone), the
# milter when its TCP port accepts.
RBL_LISTEN=$(awk '/^[ \t]*\[/ {s = $0; gsub(/[][ \t]/, "", s)} s == "rbld" && /^[ \t]*listen[ \t]*=/ {sub(/^[^=]*=[ \t]*/, ""); print; exit}' "$CONF")
[ -n "$RBL_LISTEN" ] || RBL_LISTEN="127.0.0.1:53"
RBL_ADDR=${RBL_LISTEN%% *}
RBL_PORT_USED=${RBL_ADDR##*:}
RBL_HOST=${RBL_ADDR%:*}
ZONE=$(awk '/^[ \t]*\[zone / {z = $2; sub(/\].*/, "", z); print z; exit}' "$CONF")
MILTER_SOCK=$(awk '/^[ \t]*\[/ {s = $0; gsub(/[][ \t]/, "", s)} s == "milter" && /^[ \t]*socket[ \t]*=/ {sub(/^[^=]*=[ \t]*/, ""); print; exit}' "$CONF")
[ -n "$MILTER_SOCK" ] || MILTER_SOCK="inet:8891@127.0.0.1"
alive() { kill -0 "$1" 2>/dev/null; }
if [ -n "$ZONE" ] && command -v kdig >/dev/null; then
	wait_for 15 sh -c "kdig @$RBL_HOST -p $RBL_PORT_USED +time=1 +retry=0 $ZONE SOA | grep -q NOERROR" ||
		{ echo "run.sh: chanrac-rbld does not answer on $RBL_ADDR" >&2; exit 1; }
else
	wait_for 5 alive "${PIDS[-2]}"
fi
case "$MILTER_SOCK" in
inet:*@*)
	mp=${MILTER_SOCK#inet:}; mh=${mp#*@}; mp=${mp%@*}
	wait_for 15 bash -c "exec 3<>/dev/tcp/$mh/$mp" ||
		{ echo "run.sh: chanrac-milter does not listen on $MILTER_SOCK" >&2; exit 1; }
	POSTFIX_SOCK="inet:$mh:$mp"
	;;
unix:* | local:*)
	mpath=${MILTER_SOCK#*:}
	wait_for 15 test -S "$mpath" || { echo "run.sh: no milter socket $mpath" >&2; exit 1; }
	POSTFIX_SOCK="unix:$mpath"
	;;
*)
	POSTFIX_SOCK=$MILTER_SOCK
	;;
esac
for i in "${!PIDS[@]}"; do
	alive "${PIDS[$i]}" || { echo "run.sh: ${NAMES[$i]} exited at start" >&2; exit 1; }
done

REL_BIN=$BUILD/bin
cat <<EOF

chanrac is running on loopback (Ctrl-C stops all three):
EOF
[ "$START_REDIS" = 1 ] && echo "  redis-server    127.0.0.1:$REDIS_PORT   (private, data in $TMP/redis)"
cat <<EOF
  chanrac-rbld    $RBL_LISTEN udp+tcp   zone ${ZONE:-?}
  chanrac-milter  $MILTER_SOCK
  configuration   $CONF   ($CONF_NOTE)

Try:
  $REL_BIN/chanrac -c $CONF list add 192.0.2.7 --list spam-ip --reason test
  $REL_BIN/chanrac -c $CONF query 192.0.2.7
  kdig @$RBL_HOST -p $RBL_PORT_USED 7.2.0.192.${ZONE:-bl.chanrac.local} A
EOF
if "$BIN/chanrac" --help 2>&1 | grep -qE "^ +scan"; then
	echo "  $REL_BIN/chanrac -c $CONF scan message.eml"
fi
cat <<EOF

Add to Postfix's main.cf (then: postfix reload):
  smtpd_milters = $POSTFIX_SOCK
  non_smtpd_milters = $POSTFIX_SOCK
  milter_default_action = accept
  milter_protocol = 6

EOF

# Runs until interrupted, or until one of the three exits (then stops the rest).
while :; do
	wait -n
	for i in "${!PIDS[@]}"; do
		if ! alive "${PIDS[$i]}"; then
			echo "run.sh: ${NAMES[$i]} exited; stopping the others" >&2
			exit 1
		fi
	done
done
