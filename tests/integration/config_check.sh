#!/bin/bash
# chanrac-rbld -t and chanrac-milter -t: a good configuration prints OK and
# exits 0 without binding anything; each bad [rbld] listen / acl / status
# socket, [milter] socket / socket_mode and (as root) unknown or empty user
# exits 1 with a message naming the key and the value.  A bad milter socket is
# refused the same way at start, before libmilter sees it.
. "$(dirname "$0")/../lib.sh"

need_bin chanrac-rbld chanrac-milter
RP=$(free_port)
MP=$(free_port)
: >"$T/empty.ip4"
ZONE="[zone bl.test]
type = ip
files = ip4set:$T/empty.ip4"

# dash_t WHO NAME WANT_RC WANT_TEXT LINES...: chanrac-WHO -t on a config of
# [log] syslog = no, the [WHO] section with LINES (for rbld, then one file
# zone); checks the exit status and that the output has WANT_TEXT.
dash_t() {
	local who=$1 name=$2 rc=$3 want=$4 out got
	shift 4
	{
		printf '[log]\nsyslog = no\n[%s]\n' "$who"
		printf '%s\n' "$@"
		[ "$who" = rbld ] && echo "$ZONE"
	} >"$T/$who.conf"
	out=$("$BIN/chanrac-$who" -c "$T/$who.conf" -t 2>&1)
	got=$?
	if [ "$got" = "$rc" ] && grep -qF -- "$want" <<<"$out"; then
		ok "$who -t: $name (exit $rc)"
	else
		not_ok "$who -t: $name: exit $got, want $rc with \"$want\""
		echo "$out" | sed 's/^/#   /'
	fi
}
rbld_t() { dash_t rbld "$@"; }
milter_t() { dash_t milter "$@"; }
port_free() { ! bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# --- chanrac-rbld ---------------------------------------------------------------------
rbld_t "good configuration" 0 "1 zone(s)" "listen = 127.0.0.1:$RP" "user = nobody"
check "rbld -t bound nothing (TCP 127.0.0.1:$RP free)" port_free "$RP"
rbld_t "port 99999" 1 '[rbld] listen: "127.0.0.1:99999" is not ADDR:PORT' "listen = 127.0.0.1:99999" "user = nobody"
rbld_t "no port" 1 '[rbld] listen: "nope" is not ADDR:PORT' "listen = nope" "user = nobody"
rbld_t "bad IPv6 address" 1 '[rbld] listen: "[::g]:53"' "listen = [::g]:53" "user = nobody"
rbld_t "no address" 1 "[rbld] listen: no address" "listen =" "user = nobody"
rbld_t "too many addresses" 1 "[rbld] listen: 17 addresses, at most 16" \
	"listen = $(for i in $(seq 1 17); do printf '9.9.9.%s:9 ' $((i % 10)); done)" "user = nobody"
rbld_t "bad acl_allow prefix" 1 "[rbld] acl_allow: 10.0.0.0/33" "listen = 127.0.0.1:$RP" "user = nobody" "acl_allow = 10.0.0.0/33"
rbld_t "bad acl_deny entry" 1 "[rbld] acl_deny: " "listen = 127.0.0.1:$RP" "user = nobody" "acl_deny = not-an-address"
rbld_t "status socket path too long" 1 "[rbld] status_socket: path too long" \
	"listen = 127.0.0.1:$RP" "user = nobody" "status_socket = /tmp/$(printf 'a%.0s' $(seq 1 120))"
if [ "$(id -u)" = 0 ]; then
	rbld_t "unknown user (as root)" 1 '[rbld] user: no user "no-such-user-x"' "listen = 127.0.0.1:$RP" "user = no-such-user-x"
	rbld_t "empty user (as root)" 1 "[rbld] user is empty: refusing to run as root" "listen = 127.0.0.1:$RP" "user ="
else
	ok "skipped: the user checks of -t need root"
fi

# --- chanrac-milter -------------------------------------------------------------------
milter_t "good inet socket" 0 "OK (socket inet:$MP@127.0.0.1)" "socket = inet:$MP@127.0.0.1" "user = nobody"
check "milter -t bound nothing (TCP 127.0.0.1:$MP free)" port_free "$MP"
milter_t "inet socket on a host name" 0 "OK" "socket = inet:$MP@mx.example.vn" "user = nobody"
milter_t "inet socket on an address in brackets" 0 "OK" "socket = inet:$MP@[127.0.0.1]" "user = nobody"
if getent services smtp >/dev/null; then
	milter_t "inet socket by service name" 0 "OK" "socket = inet:smtp@127.0.0.1" "user = nobody"
else
	ok "skipped: no /etc/services entry for smtp"
fi
milter_t "inet6 socket" 0 "OK" "socket = inet6:$MP@::1" "user = nobody"
milter_t "unix socket" 0 "OK" "socket = unix:$T/m.sock" "socket_mode = 0660" "user = nobody"
check "milter -t created no unix socket" test ! -e "$T/m.sock"
milter_t "port 99999" 1 '[milter] socket "inet:99999@127.0.0.1": the port must be 1..65535' \
	"socket = inet:99999@127.0.0.1" "user = nobody"
milter_t "unknown service" 1 '[milter] socket "inet:no-such-service@127.0.0.1": the port' \
	"socket = inet:no-such-service@127.0.0.1" "user = nobody"
milter_t "an IPv4 address for inet6" 1 '"127.0.0.1" is not an IPv6 address or a host name' \
	"socket = inet6:$MP@127.0.0.1" "user = nobody"
milter_t "a bad IPv4 address" 1 '"999.1.1.1" is not an IPv4 address or a host name' \
	"socket = inet:$MP@999.1.1.1" "user = nobody"
milter_t "unknown form" 1 '[milter] socket "tcp:25": not unix:/PATH, local:/PATH, inet:PORT@HOST' \
	"socket = tcp:25" "user = nobody"
milter_t "relative unix path" 1 '[milter] socket "unix:m.sock": the path must be absolute' \
	"socket = unix:m.sock" "user = nobody"
milter_t "bad socket_mode" 1 '[milter] socket_mode "0999": not an octal mode' \
	"socket = unix:$T/m.sock" "socket_mode = 0999" "user = nobody"
if [ "$(id -u)" = 0 ]; then
	milter_t "unknown user (as root)" 1 '[milter] user: no user "no-such-user-x"' \
		"socket = inet:$MP@127.0.0.1" "user = no-such-user-x"
else
	ok "skipped: the user checks of -t need root"
fi

# a bad socket is refused at start too, with the same message, before listening
printf '[log]\nsyslog = no\n[milter]\nsocket = inet:99999@127.0.0.1\nuser = nobody\nstats = no\nmetrics_listen =\n' >"$T/bad.conf"
out=$(timeout 10 "$BIN/chanrac-milter" -c "$T/bad.conf" -f 2>&1)
expect_eq "milter start with port 99999 exits 1" 1 "$?"
check "...naming the socket and the port range" grep -qF '[milter] socket "inet:99999@127.0.0.1": the port must be 1..65535' <<<"$out"
finish
