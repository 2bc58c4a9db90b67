#!/bin/sh
# Installs what `make bench` needs beyond the test dependencies
# (.ci/deps.sh: Postfix, whose smtp-sink and smtp-source the bench uses):
# Debian's mlmmj, the list manager the bench compares against.
# Safe to run repeatedly; does nothing for packages already present.
set -e
here=$(cd "$(dirname "$0")" && pwd)
sh "$here/../.ci/deps.sh"
PKGS="mlmmj postfix python3"
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
