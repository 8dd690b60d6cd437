#!/bin/bash
# End to end under a real Sendmail 8.17: Debian's sendmail-bin and sendmail-cf,
# unpacked (not installed: they conflict with postfix) by contrib/install-deps.sh
# into /var/cache/chanrac-test/sendmail, run privately — a .cf built with m4
# from our contrib/sendmail.mc.snippet plus a private queue, pid file and
# listener on a loopback port, every message relayed to smtp-sink, and its own
# UTS namespace so that its host name is fully qualified.  Checks: clean mail
# delivered with the X-Chanrac headers; a listed client gets 550 5.7.1 with the
# reply text; a listed URL domain is quarantined in Sendmail's queue (hf file);
# every message sent is delivered, quarantined or rejected.
. "$(dirname "$0")/../lib.sh"

SM_ROOT=${SM_ROOT:-/var/cache/chanrac-test/sendmail}
SENDMAIL=$SM_ROOT/usr/libexec/sendmail/sendmail
CFDIR=$SM_ROOT/usr/share/sendmail/cf
need_bin chanrac-milter chanrac-rbld chanrac
need_cmd m4 swaks smtp-sink kdig redis-server unshare
need_root "Sendmail's daemon mode"
[ -x "$SENDMAIL" ] && [ -f "$CFDIR/m4/cf.m4" ] ||
	{ not_ok "Sendmail is unpacked in $SM_ROOT (contrib/install-deps.sh)"; finish; }
chmod 755 "$T"

# --- Redis, chanrac-rbld, chanrac-milter -------------------------------------------
start_redis || { not_ok "redis starts"; finish; }
RBL_PORT=$(free_port)
MPORT=$(free_port)
write_conf "$T/chanrac.conf" <<EOF
[log]
syslog = no
[cli]
source = e2e
$(conf_rbld "$RBL_PORT")
$(conf_engine_rbld "$RBL_PORT")
$(conf_milter "$MPORT")
EOF
start_rbld "$T/chanrac.conf" || { not_ok "chanrac-rbld starts"; finish; }
"$BIN/chanrac" -c "$T/chanrac.conf" list add 127.0.0.9 --list spam-ip >/dev/null &&
	"$BIN/chanrac" -c "$T/chanrac.conf" list add quangcao-spam.vn --list spam-domain >/dev/null ||
	{ not_ok "chanrac list add"; finish; }
rbld_listed 9.0.0.127.bl.chanrac.test quangcao-spam.vn.dbl.chanrac.test ||
	{ not_ok "listings reach chanrac-rbld"; finish; }
start_milter "$T/chanrac.conf" || { not_ok "chanrac-milter starts"; finish; }
start_sink || { not_ok "smtp-sink starts"; finish; }

# --- a private Sendmail ------------------------------------------------------------------
SM=$T/sm
SM_PORT=$(free_port)
mkdir -p "$SM/queue"
chmod 700 "$SM/queue"
touch "$SM/statistics"
printf 'hosts files\naliases files\n' >"$SM/service.switch"
{
	cat <<EOF
divert(-1)dnl private instance for tests/e2e/sendmail.sh
divert(0)dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.chanrac.test')dnl
define(\`QUEUE_DIR', \`$SM/queue')dnl
define(\`confPID_FILE', \`$SM/sendmail.pid')dnl
define(\`STATUS_FILE', \`$SM/statistics')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`confHELP_FILE', \`')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SM/service.switch')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confDONT_BLAME_SENDMAIL', \`GroupWritableDirPathSafe,InsufficientEntropy')dnl
define(\`SMART_HOST', \`[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $SINK_PORT')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $SINK_PORT')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`promiscuous_relay')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`no_default_msa')dnl
DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=127.0.0.1, Name=MTA')dnl
EOF
	# the project's snippet, on this test's milter port
	sed "s/8891@127.0.0.1/$MPORT@127.0.0.1/" contrib/sendmail.mc.snippet
	echo "MAILER(\`smtp')dnl"
} >"$SM/sendmail.mc"
m4 -D_CF_DIR_="$CFDIR/" "$CFDIR/m4/cf.m4" "$SM/sendmail.mc" >"$SM/sendmail.cf" 2>"$SM/m4.err" ||
	{ not_ok "sendmail.cf builds with m4"; sed 's/^/#   /' "$SM/m4.err"; finish; }
check "sendmail.cf has our milter (Xchanrac, S=inet:$MPORT@127.0.0.1)" grep -q "^Xchanrac, S=inet:$MPORT@127.0.0.1" "$SM/sendmail.cf"
# An unqualified host name makes Sendmail sleep a minute at start: give it a
# fully qualified one in a UTS namespace of its own (the machine's is untouched).
smr() { unshare -u sh -c 'hostname mx.chanrac.test && exec "$0" "$@"' "$SENDMAIL" -C "$SM/sendmail.cf" "$@"; }
smr -bD -O LogLevel=9 >"$SM/daemon.out" 2>&1 &
SMPID=$!
PIDS+=("$SMPID")
if wait_for 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SM_PORT"; then
	# the daemon forks away from the process started above: stop it by its pid file
	wait_for 5 test -s "$SM/sendmail.pid" && PIDS+=("$(head -n 1 "$SM/sendmail.pid")")
	echo "# sendmail started as $SMPID, daemon pid $(head -n 1 "$SM/sendmail.pid" 2>/dev/null)"
	ok "private Sendmail $("$SENDMAIL" -d0.1 -bt -C "$SM/sendmail.cf" </dev/null 2>/dev/null | sed -n '1s/Version //p') listens on 127.0.0.1:$SM_PORT"
else
	not_ok "private Sendmail starts"; sed 's/^/#   /' "$SM/daemon.out" | tail -n 10; finish
fi

SENT=0 ACCEPTED=0 REJECTED=0
sw() {
	local name=$1; shift
	swaks --server "127.0.0.1:$SM_PORT" --to user@example.vn --timeout 30 "$@" >"$T/sw-$name.out" 2>&1
	SENT=$((SENT + 1))
	if grep -q "^<-  250 2.0.0 .* Message accepted for delivery" "$T/sw-$name.out"; then
		ACCEPTED=$((ACCEPTED + 1))
	elif grep -q "^<\*\* 5[0-9][0-9] " "$T/sw-$name.out"; then
		REJECTED=$((REJECTED + 1))
	fi
}

sw clean1 --local-interface 127.0.0.1 --from alice@pass.test --header "Subject: sm hello 1" --body "Hen gap lai."
sw clean2 --local-interface 127.0.0.1 --from alice@pass.test --header "Subject: sm hello 2" --body "Tai lieu o https://docs.example.org/a"
check "clean mail accepted (250 Message accepted for delivery)" \
	grep -q "Message accepted for delivery" "$T/sw-clean1.out" "$T/sw-clean2.out"
sw listed --local-interface 127.0.0.9 --from bob@none.test --header "Subject: sm mua ngay" --body "Re!"
check "listed client 127.0.0.9 gets 550 5.7.1 with the reply text" \
	grep -q "<\*\* 550 5.7.1 Rejected: bl.chanrac.test lists you; to be delisted see https://bl.chanrac.test/delist" "$T/sw-listed.out"
sw hold --local-interface 127.0.0.1 --from shop@pass.test --header "Subject: sm tai lieu" \
	--body "Xem tai: http://www.quangcao-spam.vn/tai-lieu"
check "quarantined mail is accepted by SMTP (250)" grep -q "Message accepted for delivery" "$T/sw-hold.out"
QID=$(sed -n 's/^<-  250 2.0.0 \([0-9A-Za-z]*\) Message accepted.*/\1/p' "$T/sw-hold.out")

if wait_for 30 sh -c "[ \$(find '$SINK_DIR' -type f | wc -l) -ge 2 ]"; then ok "clean mail reaches the sink"
else not_ok "clean mail reaches the sink"; fi
wait_for 10 test -f "$SM/queue/hf$QID"
DELIVERED=$(find "$SINK_DIR" -type f | wc -l)
HELD=$(find "$SM/queue" -name 'hf*' | wc -l)
echo "# sent $SENT: accepted $ACCEPTED, rejected $REJECTED; delivered $DELIVERED, quarantined $HELD"
check "the quarantined message ${QID:-?} waits in Sendmail's queue as hf$QID" test -f "$SM/queue/hf${QID:-none}"
check "...with chanrac's reason on its q line (the listed URL domain: DBL_CHANRAC)" \
	grep -qa '^q.*DBL_CHANRAC' "$SM/queue/hf${QID:-none}"
check "nothing with the listed URL reached the sink" sh -c "! grep -rlq 'quangcao-spam' '$SINK_DIR'"
nohdr=0
for f in "$SINK_DIR"/*; do
	[ -f "$f" ] || continue
	grep -qaE '^X-Chanrac-Score: -?[0-9.]+ / 12' "$f" && grep -qa '^X-Chanrac-Report:' "$f" &&
		grep -qa '^Authentication-Results: mx.chanrac.test;' "$f" || nohdr=$((nohdr + 1))
done
expect_eq "every delivered message has X-Chanrac-Score, X-Chanrac-Report, Authentication-Results" 0 "$nohdr"
expect_eq "delivered 2, quarantined 1, rejected 1" "2 1 1" "$DELIVERED $HELD $REJECTED"
expect_eq "none lost: sent = delivered + quarantined + rejected" "$SENT" "$((DELIVERED + HELD + REJECTED))"
expect_eq "the milter logged one verdict per message" "$SENT" "$(grep -c ' action=' "$T/milter.log")"
check "the milter logged the quarantine with Sendmail's queue id" grep -q "$QID: client=127.0.0.1.* action=quarantine" "$T/milter.log"
finish
