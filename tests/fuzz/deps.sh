#!/bin/sh
# Optional: the Debian packages `make fuzz` needs (clang 14 and its
# libFuzzer runtime).  Not part of .ci/deps.sh: CI does not fuzz; it
# replays the kept corpus (tests/fuzz_replay) with the suite's compiler.
set -e
PKGS="clang libclang-rt-14-dev"
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
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing
