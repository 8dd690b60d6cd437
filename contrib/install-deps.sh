#!/bin/sh
# Installs every Debian 12 package chanrac needs to build, run and test.
# Idempotent and non-interactive: packages already present are not touched,
# and Postfix's debconf question is preseeded to "No configuration".
set -eu

PKGS="build-essential pkg-config
libhiredis-dev libldns-dev libspf2-dev check libinih-dev libidn2-dev
libpsl-dev publicsuffix libunistring-dev libmilter-dev libopendkim-dev
redis-server redis-tools postfix rbldnsd dnsperf swaks miltertest
ldnsutils knot-dnsutils dnsutils python3 procps iproute2 groff-base man-db
valgrind spamassassin spamd spamass-milter clang libclang-rt-14-dev"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
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
exit 0
