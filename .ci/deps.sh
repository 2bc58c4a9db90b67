#!/bin/sh
# Installs the Debian packages mlserver needs to build and test.
# Safe to run repeatedly; does nothing for packages already present.
set -e
PKGS="build-essential autoconf automake libtool pkg-config
libetpan-dev libesmtp-dev libsqlite3-dev libconfig-dev libssl-dev libical-dev check
postfix swaks sqlite3 python3 ca-certificates valgrind
dovecot-imapd dovecot-pop3d dovecot-core openssl
chromium fonts-ipafont-gothic"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "missing Debian packages:$missing (run as root, or install them)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
