#!/bin/bash
# Least privilege: started as root, chanrac-rbld and chanrac-milter bind their
# sockets, then drop to [rbld]/[milter] user (real, effective and saved uid and
# gid, no supplementary group of root's); with user empty or naming no account
# they refuse to start (exit 1, a clear error, nothing listening).  Needs root.
. "$(dirname "$0")/../lib.sh"

for b in "$BIN/chanrac-milter" "$BIN/chanrac-rbld"; do
	[ -x "$b" ] || { not_ok "$b is built"; finish; }
done
[ "$(id -u)" = 0 ] || { echo "# skipped: needs root"; ok "skipped (not root)"; finish; }
chmod 755 "$T"
NOBODY=$(id -u nobody)

# ids PID: "ruid euid suid fsuid / rgid egid sgid fsgid / groups"
ids() {
	awk '/^Uid:/ {u=$2" "$3" "$4" "$5} /^Gid:/ {g=$2" "$3" "$4" "$5} /^Groups:/ {$1=""; gr=$0}
		END {print u " / " g " /" gr}' "/proc/$1/status"
}
listening() { bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# --- chanrac-rbld -------------------------------------------------------------
rbld_conf() {
	cat >"$T/rbld.conf" <<EOF
[log]
syslog = no
[rbld]
listen = 127.0.0.1:$RPORT
metrics_listen =
$1
[zone bl.test]
type = ip
EOF
}
RPORT=$(free_port)
rbld_conf "user = nobody"
"$BIN/chanrac-rbld" -c "$T/rbld.conf" -f 2>"$T/rbld.log" &
RPID=$!
PIDS+=("$RPID")
if wait_for 10 sh -c "kdig @127.0.0.1 -p $RPORT +time=1 +retry=0 bl.test SOA | grep -q NOERROR"; then
	ok "rbld started as root answers"
else
	not_ok "rbld started as root answers"; sed 's/^/#   /' "$T/rbld.log"
fi
gid=$(id -g nobody)
expect_eq "rbld dropped every uid and gid to nobody, no root group" \
	"$NOBODY $NOBODY $NOBODY $NOBODY / $gid $gid $gid $gid / $gid" "$(ids "$RPID")"
kill "$RPID"; wait "$RPID" 2>/dev/null

for u in "user =" "user = no-such-user-chanrac"; do
	RPORT=$(free_port)
	rbld_conf "$u"
	timeout 10 "$BIN/chanrac-rbld" -c "$T/rbld.conf" -f 2>"$T/rbld-refuse.log"
	rc=$?
	expect_eq "rbld as root with '$u': refuses to start (exit 1)" "1" "$rc"
	check "rbld as root with '$u': the error says it refuses to run as root" \
		grep -q "refusing to run as root" "$T/rbld-refuse.log"
	check "rbld as root with '$u': nothing left listening" sh -c "! bash -c 'exec 3<>/dev/tcp/127.0.0.1/$RPORT' 2>/dev/null"
done
sed 's/^/#   /' "$T/rbld-refuse.log" | head -n 2

# --- chanrac-milter -----------------------------------------------------------------
milter_conf() {
	cat >"$T/milter.conf" <<EOF
[log]
syslog = no
[engine]
dns_servers = 127.0.0.1:9
[milter]
socket = inet:$MPORT@127.0.0.1
metrics_listen =
stats = no
$1
EOF
}
MPORT=$(free_port)
milter_conf "user = nobody"
"$BIN/chanrac-milter" -c "$T/milter.conf" -f 2>"$T/milter.log" &
MPID=$!
PIDS+=("$MPID")
if wait_for 10 listening "$MPORT"; then
	ok "milter started as root listens"
else
	not_ok "milter started as root listens"; sed 's/^/#   /' "$T/milter.log"
fi
# the milter drops root after the socket is open; give it the moment
wait_for 5 sh -c "awk '/^Uid:/ {exit \$3 == 0}' /proc/$MPID/status"
expect_eq "milter dropped every uid and gid to nobody" \
	"$NOBODY $NOBODY $NOBODY $NOBODY / $gid $gid $gid $gid" "$(ids "$MPID" | sed 's| /[^/]*$||')"
check "milter holds no root group" sh -c "! awk '/^Groups:/' /proc/$MPID/status | grep -qw 0"
kill "$MPID"; wait "$MPID" 2>/dev/null

for u in "user =" "user = no-such-user-chanrac"; do
	MPORT=$(free_port)
	milter_conf "$u"
	timeout 10 "$BIN/chanrac-milter" -c "$T/milter.conf" -f 2>"$T/milter-refuse.log"
	rc=$?
	expect_eq "milter as root with '$u': refuses to start (exit 1)" "1" "$rc"
	check "milter as root with '$u': the error says it refuses to run as root" \
		grep -q "refusing to run as root" "$T/milter-refuse.log"
	check "milter as root with '$u': nothing left listening" sh -c "! bash -c 'exec 3<>/dev/tcp/127.0.0.1/$MPORT' 2>/dev/null"
done
sed 's/^/#   /' "$T/milter-refuse.log" | head -n 2

# --- not root: an empty user is fine (nothing to drop) ------------------------------
RPORT=$(free_port)
rbld_conf "user ="
setpriv --reuid=nobody --regid="$gid" --clear-groups "$BIN/chanrac-rbld" -c "$T/rbld.conf" -f 2>"$T/rbld-nobody.log" &
NPID=$!
PIDS+=("$NPID")
if wait_for 10 sh -c "kdig @127.0.0.1 -p $RPORT +time=1 +retry=0 bl.test SOA | grep -q NOERROR"; then
	ok "rbld started as nobody with an empty user runs"
else
	not_ok "rbld started as nobody with an empty user runs"; sed 's/^/#   /' "$T/rbld-nobody.log"
fi
finish
