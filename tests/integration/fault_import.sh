#!/bin/bash
# Redis killed (-9) during `chanrac list import --replace` of a big file, at
# several points from staging to commit, then restarted from its AOF (fsync
# always) -> the list is exactly the old one (50,000 entries) or exactly the new
# one (150,000), never a mix; the import exits 0 only if the new list is
# complete, 3 (store unavailable) otherwise; leftover staging keys expire.
. "$(dirname "$0")/../lib.sh"

[ -x "$BIN/chanrac" ] || { not_ok "$BIN/chanrac is built"; finish; }
REDIS_EXTRA="--appendonly yes --appendfsync always"
start_redis || { not_ok "redis starts"; finish; }
write_conf "$T/chanrac.conf" <<EOF2
[log]
syslog = no
[lists]
names = big allow
[cli]
source = test
EOF2
cr() { "$BIN/chanrac" -c "$T/chanrac.conf" "$@"; }
python3 -c 'for i in range(50000): print("10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255))' >"$T/old.txt"
python3 -c 'for i in range(150000): print("172.%d.%d.%d" % (16 + (i >> 16 & 15), i >> 8 & 255, i & 255))' >"$T/new.txt"
# state: "old", "new" or "MIXED old=N new=M"
state() {
	cr list export --list big --format ip4set >"$T/export.txt" 2>"$T/export.err" ||
		{ echo "export-failed: $(head -c 200 "$T/export.err")"; return; }
	local o n
	o=$(grep -c '^10\.' "$T/export.txt")
	n=$(grep -c '^172\.' "$T/export.txt")
	if [ "$o" = 50000 ] && [ "$n" = 0 ]; then echo old
	elif [ "$o" = 0 ] && [ "$n" = 150000 ]; then echo new
	else echo "MIXED old=$o new=$n"; fi
}
reset_old() {
	cr list import "$T/old.txt" --list big --format ip4set --replace >/dev/null 2>"$T/reset.err"
}
reset_old || { not_ok "import of the old list"; sed 's/^/#   /' "$T/reset.err"; finish; }
expect_eq "old list imported (50,000 entries)" "old" "$(state)"

# how long a full import takes, to spread the kills over it
t0=$(date +%s%N)
cr list import "$T/new.txt" --list big --format ip4set --replace >/dev/null 2>&1
full_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_eq "uninterrupted import: the new list (150,000 entries, ${full_ms} ms)" "new" "$(state)"

results=""
bad=0
for pct in 2 5 10 20 35 50 65 commit; do
	reset_old || { not_ok "reset to the old list before the ${pct} kill"; continue; }
	cr list import "$T/new.txt" --list big --format ip4set --replace >"$T/imp.out" 2>"$T/imp.err" &
	IMP=$!
	if [ "$pct" = commit ]; then
		# as soon as the whole file is staged: the kill lands at the commit
		for _ in $(seq 1 400); do
			k=$(redis-cli -p "$REDIS_PORT" --scan --pattern '*:{bl}:import:*' 2>/dev/null | grep -v ':exp' | head -n 1)
			[ -n "$k" ] && [ "$(redis-cli -p "$REDIS_PORT" hlen "$k" 2>/dev/null)" -ge 149000 ] && break
			sleep 0.005
		done
	else
		sleep "$(awk -v ms="$full_ms" -v p="$pct" 'BEGIN { printf "%.3f", ms * p / 100000 }')"
	fi
	{ kill -9 "$REDIS_PID" && wait "$REDIS_PID"; } 2>/dev/null
	wait "$IMP"
	rc=$?
	start_redis "$REDIS_PORT" >/dev/null || { not_ok "redis restarts after the ${pct} kill"; continue; }
	# until the AOF is loaded, Redis answers LOADING
	wait_for 20 sh -c "redis-cli -p $REDIS_PORT info persistence | grep -q '^loading:0'"
	st=$(state)
	results="$results ${pct}:rc=$rc:$st"
	case "$st" in
	old | new) ;;
	*) bad=$((bad + 1)) ;;
	esac
	if [ "$rc" = 0 ] && [ "$st" != new ]; then
		not_ok "kill at ${pct}: the import said done (exit 0) but the list is $st"
	elif [ "$rc" != 0 ] && [ "$rc" != 3 ]; then
		not_ok "kill at ${pct}: exit $rc (want 0 or 3)"; sed 's/^/#   /' "$T/imp.err" | head -n 3
	fi
done
echo "# kills:$results"
expect_eq "8 kills during the import: the list always exactly old or exactly new" "0" "$bad"
left=$(redis-cli -p "$REDIS_PORT" --scan --pattern '*:{bl}:import:*' | head -n 20)
noexp=0
for k in $left; do
	[ "$(redis-cli -p "$REDIS_PORT" ttl "$k")" -gt 0 ] || noexp=$((noexp + 1))
done
expect_eq "leftover staging keys ($(echo "$left" | grep -c .)) all expire" "0" "$noexp"
finish
