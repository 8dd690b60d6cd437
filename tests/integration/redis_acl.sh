#!/bin/bash
# The Redis ACL of contrib/redis-acl.conf.in, as written by
# contrib/redis-acl-setup.sh, enforced by a real redis-server: the default user
# is off; the responder reads and serves the lists but cannot write; the milter
# writes its counters but not the lists; the reporter adds entries but cannot
# delete or replace them; the admin can do all of that.  Every refused CLI
# write exits non-zero and changes nothing.
. "$(dirname "$0")/../lib.sh"

CLI=$BIN/chanrac
[ -x "$CLI" ] && [ -x "$BIN/chanrac-rbld" ] || { not_ok "chanrac and chanrac-rbld built"; finish; }
sh contrib/redis-acl-setup.sh "$T/users.acl" "$T/pw" >/dev/null
check "setup script writes the ACL file" test -s "$T/users.acl"
check "no placeholder left" sh -c "! grep -q '@HASH\|@PREFIX' '$T/users.acl'"
check "passwords not in the ACL file" sh -c "! grep -qF \"\$(cat '$T/pw/redis-admin.pw')\" '$T/users.acl'"
expect_eq "password files mode 0640" "640" "$(stat -c %a "$T/pw/redis-admin.pw")"
sh contrib/redis-acl-setup.sh "$T/users2.acl" "$T/pw" >/dev/null
check "running it again keeps the passwords" cmp -s "$T/users.acl" "$T/users2.acl"

REDIS_EXTRA="--aclfile $T/users.acl" start_redis || { not_ok "redis with the ACL file"; finish; }
for role in admin reporter milter responder; do
	user=chanrac-$role
	[ "$role" = responder ] && user=chanrac-rbld
	write_conf "$T/$role.conf" <<EOF
user = $user
password_file = $T/pw/redis-$role.pw
[log]
syslog = no
EOF
done
as() { local role=$1; shift; "$CLI" -c "$T/$role.conf" "$@"; }
rcli() { local role=$1 user=chanrac-$1; shift; [ "$role" = responder ] && user=chanrac-rbld
	redis-cli -p "$REDIS_PORT" --user "$user" --pass "$(cat "$T/pw/redis-$role.pw")" --no-auth-warning "$@"; }
listed() { as admin list show --list spam-ip 2>/dev/null | cut -f2 | sort | tr '\n' ' '; }
# refused ROLE CMD...: the raw command is answered NOPERM
refused() { local role=$1; shift; rcli "$role" "$@" 2>&1 | grep -q NOPERM; }

check "default user is off" sh -c "redis-cli -p $REDIS_PORT ping 2>&1 | grep -q NOAUTH"
check "a wrong password is refused" sh -c "redis-cli -p $REDIS_PORT --user chanrac-admin --pass nope --no-auth-warning ping 2>&1 | grep -q WRONGPASS"

expect_rc "admin: list add" 0 as admin list add 192.0.2.1 --list spam-ip --reason seeded
expect_rc "reporter: list add" 0 as reporter list add 192.0.2.2 --list spam-ip --reason reported
expect_eq "both entries stored" "192.0.2.1 192.0.2.2 " "$(listed)"

before=$(listed)
as reporter list del 192.0.2.1 --list spam-ip >"$T/o" 2>&1; rc=$?
check "reporter: list del refused (exit $rc)" test "$rc" -ne 0
check "reporter: the refusal says why" grep -qi "perm\|access" "$T/o"
printf '198.51.100.9\n' >"$T/new.txt"
as reporter list import "$T/new.txt" --list spam-ip --replace >"$T/o" 2>&1; rc=$?
check "reporter: list import --replace refused (exit $rc)" test "$rc" -ne 0
expect_eq "reporter: nothing deleted or replaced" "$before" "$(listed)"
check "reporter: raw HDEL refused" refused reporter hdel 'cr:{bl}:list:spam-ip' 192.0.2.1
check "reporter: raw DEL of a list refused" refused reporter del 'cr:{bl}:list:spam-ip'

as milter list add 192.0.2.3 --list spam-ip >"$T/o" 2>&1; rc=$?
check "milter: list add refused (exit $rc)" test "$rc" -ne 0
as responder list add 192.0.2.4 --list spam-ip >"$T/o" 2>&1; rc=$?
check "responder: list add refused (exit $rc)" test "$rc" -ne 0
as responder list del 192.0.2.1 --list spam-ip >"$T/o" 2>&1; rc=$?
check "responder: list del refused (exit $rc)" test "$rc" -ne 0
expect_eq "refused writes changed nothing" "$before" "$(listed)"
expect_eq "milter: writes its day counters" "1" "$(rcli milter hincrby 'cr:{st}:day:2026-12-01' msg.total 1)"
expect_eq "milter: writes its R8 confirmation counters" "1" "$(rcli milter zadd 'cr:r8:u1:b@example.vn' 1 m)"
check "milter: cannot write the reports" refused milter hset 'cr:{rp}:r:1' a b
check "milter: cannot write the opt-outs" refused milter hset 'cr:{oo}:rec:1' a b
check "responder: cannot write counters" refused responder hincrby 'cr:{st}:day:2026-12-01' msg.total 1
check "responder: cannot write the change stream" refused responder xadd 'cr:{bl}:changes' '*' op add
check "admin: no server administration (FLUSHALL)" refused admin flushall
check "admin: no keys outside the prefix" refused admin set other:key 1

# The responder, as its own user, loads and serves the lists and follows changes.
PORT=$(free_port)
chmod 755 "$T" "$T/pw"
cat >>"$T/responder.conf" <<EOF
[rbld]
listen = 127.0.0.1:$PORT
user = nobody
merge_interval = 100ms
[zone bl.test]
type = ip
lists = spam-ip
EOF
chmod 644 "$T/responder.conf" "$T/pw/redis-responder.pw"
"$BIN/chanrac-rbld" -c "$T/responder.conf" -f 2>"$T/rbld.log" &
PIDS+=($!)
if wait_for 10 sh -c "kdig @127.0.0.1 -p $PORT +time=1 +retry=0 +short 1.2.0.192.bl.test A | grep -q 127.0.0.2"; then
	ok "responder user: chanrac-rbld loads and answers 192.0.2.1"
else
	not_ok "responder user: chanrac-rbld loads and answers 192.0.2.1"; tail -n 5 "$T/rbld.log" | sed 's/^/#   /'
fi
expect_rc "admin: list del" 0 as admin list del 192.0.2.2 --list spam-ip
if wait_for 5 sh -c "kdig @127.0.0.1 -p $PORT +time=1 +retry=0 2.2.0.192.bl.test A | grep -q NXDOMAIN"; then
	ok "responder user: follows the change stream"
else
	not_ok "responder user: follows the change stream"; tail -n 5 "$T/rbld.log" | sed 's/^/#   /'
fi
finish
