#!/bin/bash
# The responder's and the milter's integration tests (rbld_dns.sh,
# rbld_redis.sh, milter_miltertest.sh) run again with chanrac-rbld and
# chanrac-milter under valgrind memcheck: every daemon process must end with
# 0 bytes definitely lost and no memory error.  The daemons are reached
# through wrapper scripts in a private BUILD directory whose other files link
# to the real build; the tests' own pass/fail is reported but only as notes:
# under valgrind the daemons run ~20x slower, and checks with a time limit may
# miss it.  Set VALGRIND_TESTS to choose other test scripts.
. "$(dirname "$0")/../lib.sh"

# Valgrind cannot run AddressSanitizer binaries; `make check` runs this test.
if [ "${SANITIZED:-0}" = 1 ]; then
	echo "# valgrind.sh: not run under the sanitizers (make check runs it)"
	exit 0
fi
command -v valgrind >/dev/null || { not_ok "valgrind installed"; finish; }
for b in chanrac chanrac-rbld chanrac-milter; do
	[ -x "$BIN/$b" ] || { not_ok "$b built"; finish; }
done
VB=$T/vbuild
LOGS=$T/vg
mkdir -p "$VB/bin" "$LOGS"
chmod 777 "$LOGS"
chmod 755 "$T" "$VB" "$VB/bin"
ln -s "$ROOT/$BUILD/tests" "$VB/tests"
ln -s "$ROOT/$BUILD/bin/chanrac" "$VB/bin/chanrac"
for d in chanrac-rbld chanrac-milter; do
	cat >"$VB/bin/$d" <<EOF
#!/bin/sh
exec valgrind --leak-check=full --show-leak-kinds=definite \
	--errors-for-leak-kinds=definite --track-fds=no --child-silent-after-fork=yes \
	--log-file=$LOGS/$d.%p.log "$ROOT/$BUILD/bin/$d" "\$@"
EOF
	chmod 755 "$VB/bin/$d"
done
# The tests find binaries at $ROOT/$BUILD/bin: give them the wrapper tree.
REL=${VB#"$ROOT"/}
if [ "$REL" = "$VB" ]; then
	# $T is not under $ROOT: reach the wrapper tree through a relative path.
	REL=$(python3 -c 'import os, sys; print(os.path.relpath(sys.argv[1], sys.argv[2]))' "$VB" "$ROOT")
fi
for t in ${VALGRIND_TESTS:-rbld_dns.sh rbld_redis.sh milter_miltertest.sh}; do
	out=$(BUILD=$REL timeout 900 bash "tests/integration/$t" 2>&1)
	p=$(echo "$out" | grep -c '^ok ')
	f=$(echo "$out" | grep -c '^not ok ')
	echo "# $t under valgrind: $p passed, $f failed (timing checks may miss under valgrind)"
	echo "$out" | grep '^not ok' | head -n 5 | sed 's/^/#   /'
done
n=0 checked=0 skipped=0
for log in "$LOGS"/*.log; do
	[ -e "$log" ] || continue
	n=$((n + 1))
	name=$(basename "$log" .log)
	if ! grep -q "ERROR SUMMARY" "$log"; then
		# killed (SIGKILL by a test's cleanup, or a crash): no leak check
		if grep -q "Process terminating" "$log"; then
			not_ok "$name: terminated by a signal"; grep -m 3 -A 3 "Process terminating" "$log" | sed 's/^/#   /'
		else
			skipped=$((skipped + 1))
		fi
		continue
	fi
	checked=$((checked + 1))
	if grep -q "definitely lost: [1-9]" "$log"; then
		not_ok "$name: definitely lost $(grep -o 'definitely lost: [0-9,]* bytes' "$log" | head -n 1)"
		grep -A 12 "definitely lost in" "$log" | head -n 20 | sed 's/^/#   /'
	elif grep -qE "Invalid (read|write)|uninitialised|Invalid free|Mismatched free|Source and destination overlap" "$log"; then
		not_ok "$name: memory error"
		grep -m 1 -A 10 -E "Invalid|uninitialised|Mismatched|overlap" "$log" | sed 's/^/#   /'
	else
		ok "$name: no memory error, 0 bytes definitely lost"
	fi
done
echo "# $n daemon processes ran under valgrind; $checked exited and were checked, $skipped were killed before exiting"
check "valgrind checked the daemons at exit ($checked processes)" test "$checked" -ge 3
finish
