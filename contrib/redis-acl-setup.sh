#!/bin/sh
# Writes the Redis ACL file for chanrac's four roles from
# contrib/redis-acl.conf.in, with a fresh random password per role.
#   contrib/redis-acl-setup.sh ACL_OUT PASSWORD_DIR [KEY_PREFIX]
# Each password goes to PASSWORD_DIR/redis-ROLE.pw (mode 0640; an existing
# file is kept, so running it again keeps the passwords); the ACL file gets
# only their SHA-256.  Then, in redis.conf: aclfile ACL_OUT, and in each
# program's chanrac.conf:  [redis] user = chanrac-ROLE,
# password_file = PASSWORD_DIR/redis-ROLE.pw.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 ACL_OUT PASSWORD_DIR [KEY_PREFIX]" >&2; exit 2; }
out=$1 pwdir=$2 prefix=${3:-cr}
tmpl=$(dirname "$0")/redis-acl.conf.in
[ -r "$tmpl" ] || tmpl=/usr/share/doc/chanrac/redis-acl.conf.in
case "$prefix" in
*[!A-Za-z0-9._-]* | "") echo "$0: key prefix '$prefix': use letters, digits, . _ -" >&2; exit 2 ;;
esac
mkdir -p "$pwdir"
script=""
for role in responder milter reporter admin; do
	f=$pwdir/redis-$role.pw
	if [ ! -s "$f" ]; then
		(umask 027 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$f")
	fi
	hash=$(head -n 1 "$f" | tr -d '\n' | sha256sum | cut -d' ' -f1)
	script="$script s/@HASH_${role}@/$hash/;"
done
# Redis ACL files take no comments: the explanations stay in the template.
(umask 027 && sed -e "/^#/d; /^$/d; $script s/@PREFIX@/$prefix/g" "$tmpl" >"$out")
echo "wrote $out and the passwords in $pwdir/redis-*.pw"
