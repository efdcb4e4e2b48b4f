#!/bin/sh
# Installs what building and testing cffi needs on Debian/Ubuntu, only when a
# piece is missing.  Uses sudo only when not root.
set -e
missing=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }
for p in lua5.4 liblua5.4-dev libffi-dev lua-busted zlib1g-dev pkg-config gcc make; do
  have_pkg "$p" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: missing:$missing (no apt-get here: install them by hand)" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing:$missing"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
