#!/bin/bash
# Documentation and installation: every man page renders without a groff
# warning, chanrac.conf(5) is what contrib/gen-conf-man.py makes of
# conf/chanrac.conf, "make install DESTDIR=..." lays the files out as Debian
# does and never overwrites an admin's configuration, "make uninstall" removes
# what install wrote, and the systemd units verify and are hardened.
. "$(dirname "$0")/../lib.sh"

for f in doc/*.[1-8]; do
	out=$(groff -ww -z -man "$f" 2>&1)
	expect_eq "groff -ww -z -man $f: no warnings" "" "$out"
done
for page in chanrac.1 chanrac.conf.5 chanrac-milter.8 chanrac-rbld.8; do
	check "man page doc/$page exists" test -s "doc/$page"
done

python3 contrib/gen-conf-man.py conf/chanrac.conf >"$T/chanrac.conf.5"
if cmp -s "$T/chanrac.conf.5" doc/chanrac.conf.5; then
	ok "doc/chanrac.conf.5 matches conf/chanrac.conf"
else
	not_ok "doc/chanrac.conf.5 matches conf/chanrac.conf (run contrib/gen-conf-man.py conf/chanrac.conf > doc/chanrac.conf.5)"
	diff "$T/chanrac.conf.5" doc/chanrac.conf.5 | head -n 5 | sed 's/^/#   /'
fi
# Every key of the sample appears in the man page.
missing=""
for k in $(sed -n -E 's/^;?([a-z0-9_]+) *=.*/\1/p' conf/chanrac.conf | sort -u); do
	grep -q "^\.BR $k " doc/chanrac.conf.5 || missing="$missing $k"
done
expect_eq "every key of conf/chanrac.conf is in chanrac.conf(5)" "" "$missing"
# chanrac --help names every option chanrac(1) documents, and no other
# (--config is shown as -c FILE).
opts() { grep -oE -- '--[a-z][a-z-]*' | grep -vx -- --config | sort -u; }
if [ -x "$BIN/chanrac" ]; then
	expect_eq "chanrac --help and chanrac(1) name the same options" "" \
		"$(comm -3 <(sed 's/\\-/-/g' doc/chanrac.1 | opts) <("$BIN/chanrac" --help | opts) | tr -d '\t' | tr '\n' ' ')"
else
	not_ok "$BIN/chanrac is built"
fi

D=$T/root
make -s BUILD="$BUILD" install DESTDIR="$D" >"$T/install.out" 2>&1
check "make install DESTDIR exits 0" test $? -eq 0
for f in usr/bin/chanrac usr/sbin/chanrac-milter usr/sbin/chanrac-rbld \
	etc/chanrac/chanrac.conf usr/share/man/man1/chanrac.1 usr/share/man/man5/chanrac.conf.5 \
	usr/share/man/man8/chanrac-milter.8 usr/share/man/man8/chanrac-rbld.8 \
	usr/lib/systemd/system/chanrac-milter.service usr/lib/systemd/system/chanrac-rbld.service \
	usr/lib/systemd/system/chanrac-expire.timer usr/lib/systemd/system/chanrac-report-annual.timer \
	usr/lib/systemd/system/chanrac-report-semiannual.timer usr/lib/sysusers.d/chanrac.conf \
	usr/lib/tmpfiles.d/chanrac.conf etc/logrotate.d/chanrac \
	usr/share/doc/chanrac/chanrac.conf.sample usr/share/doc/chanrac/postfix-main.cf.snippet \
	usr/share/doc/chanrac/redis-acl.conf.in usr/share/doc/chanrac/redis-acl-setup.sh; do
	check "installed /$f" test -e "$D/$f"
done
check "installed chanrac runs" sh -c "'$D/usr/bin/chanrac' --help 2>&1 | grep -q list"
expect_eq "configuration installed mode 0640" "640" "$(stat -c %a "$D/etc/chanrac/chanrac.conf")"

echo "# admin's edit" >>"$D/etc/chanrac/chanrac.conf"
make -s BUILD="$BUILD" install DESTDIR="$D" >"$T/install2.out" 2>&1
check "second install keeps the edited configuration" grep -q "admin's edit" "$D/etc/chanrac/chanrac.conf"
check "second install says it kept it" grep -q "kept existing" "$T/install2.out"

if command -v systemd-analyze >/dev/null; then
	mkdir -p "$T/units"
	for u in "$D"/usr/lib/systemd/system/chanrac-*; do
		sed -e "s|/usr/sbin/|$D/usr/sbin/|; s|/usr/bin/chanrac|$D/usr/bin/chanrac|" \
			-e "s|/bin/kill|$(command -v kill)|" "$u" >"$T/units/$(basename "$u")"
	done
	out=$(cd "$T/units" && systemd-analyze verify --man=no ./*.service ./*.timer 2>&1)
	expect_eq "systemd units verify" "" "$out"
	for u in chanrac-rbld.service chanrac-milter.service; do
		check "$u: systemd exposure level at most 2.0" \
			sh -c "systemd-analyze security --offline=yes --root='$D' --threshold=20 $u >/dev/null 2>&1"
	done
fi

# The periodic report timers' commands, run as written in the units (paths
# moved into the test's tree), write their reports.
if start_redis; then
	write_conf "$T/report.conf" </dev/null
	mkdir -p "$T/reports"
	for u in chanrac-report-annual chanrac-report-semiannual; do
		cmd=$(sed -n 's/^ExecStart=//p' "$D/usr/lib/systemd/system/$u.service" |
			sed -e "s|/usr/bin/chanrac|$D/usr/bin/chanrac|g" -e "s|/etc/chanrac/chanrac.conf|$T/report.conf|g" \
				-e "s|/var/lib/chanrac/reports|$T/reports|g" -e 's/%%/%/g' -e 's/\$\$/$/g')
		check "$u.service: its command runs" sh -c "cd '$T' && eval \"\$1\"" sh "$cmd"
	done
	y=$(date -d yesterday +%F)
	check "annual report written" test -s "$T/reports/annual-$y.md"
	check "semi-annual Mau so 1 and 3 written" test -s "$T/reports/semiannual-form1-$y.md" -a -s "$T/reports/semiannual-form3-$y.md"
fi

make -s BUILD="$BUILD" uninstall DESTDIR="$D" >"$T/uninstall.out" 2>&1
left=$(cd "$D" && find . -type f | sort | tr '\n' ' ')
expect_eq "uninstall leaves only the edited configuration" "./etc/chanrac/chanrac.conf " "$left"
make -s BUILD="$BUILD" install DESTDIR="$T/root2" >/dev/null 2>&1
make -s BUILD="$BUILD" uninstall DESTDIR="$T/root2" >/dev/null 2>&1
expect_eq "install then uninstall leaves no file" "" "$(cd "$T/root2" && find . -type f)"
finish
