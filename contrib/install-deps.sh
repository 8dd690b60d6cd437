#!/bin/sh
# Installs every Debian 12 package chanrac needs to build, run and test.
# Idempotent and non-interactive: packages already present are not touched,
# and Postfix's debconf question is preseeded to "No configuration".
set -eu

PKGS="build-essential pkg-config
libhiredis-dev libldns-dev libspf2-dev check libinih-dev libidn2-dev libjansson-dev
libpsl-dev publicsuffix libunistring-dev libmilter-dev libopendkim-dev
redis-server redis-tools postfix rbldnsd dnsperf swaks miltertest
ldnsutils knot-dnsutils dnsutils python3 procps iproute2 groff-base man-db
valgrind spamassassin spamd spamass-milter clang libclang-rt-14-dev m4 libwrap0"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

# Sendmail for tests/e2e/sendmail.sh, unpacked (not installed) into SM_DIR:
# Debian's sendmail-bin conflicts with postfix (both provide
# mail-transport-agent), so the test runs it privately from there (doc/e2e.md).
SM_DIR=/var/cache/chanrac-test/sendmail
unpack_sendmail() {
	local tmp d
	[ -x "$SM_DIR/usr/libexec/sendmail/sendmail" ] && return 0
	[ "$(id -u)" -eq 0 ] || return 0
	tmp=$(mktemp -d)
	chmod 755 "$tmp" # apt-get download fetches as _apt
	if (cd "$tmp" && apt-get download -q sendmail-bin sendmail-cf >/dev/null); then
		mkdir -p "$SM_DIR"
		for d in "$tmp"/*.deb; do dpkg-deb -x "$d" "$SM_DIR"; done
	else
		echo "install-deps: could not download sendmail-bin/sendmail-cf (tests/e2e/sendmail.sh will fail)" >&2
	fi
	rm -rf "$tmp"
}

if [ -z "$missing" ]; then
	unpack_sendmail
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run as root (or with sudo) to install them" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string localhost" | debconf-set-selections
echo "install-deps: installing:$missing" >&2
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
# Debian starts redis-server as a service on install; chanrac's tests start their
# own private instances, so leave the system one alone.
unpack_sendmail
exit 0
