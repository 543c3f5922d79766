#!/usr/bin/env bash
# Installs the Debian packages a target needs when they are missing (as root), or prints the
# exact apt command to run (as anyone else). Usage: system-deps.sh venv|run|test
set -euo pipefail

# What Qt's xcb platform plugin loads at run time (PySide6 wheels bring Qt, not these).
qt_libs=(libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libfreetype6 libdbus-1-3
         libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
         libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0
         libxcb-sync1 libxcb-shm0 libx11-xcb1 fonts-dejavu-core)

case "${1:-}" in
  venv)
    # Debian's own python3 has venv/ensurepip in a separate package.
    if python3 -c 'import ensurepip, venv' 2>/dev/null; then exit 0; fi
    wanted=(python3-venv python3-pip) ;;
  run)  wanted=("${qt_libs[@]}") ;;
  test) wanted=("${qt_libs[@]}" postgresql openssh-server xvfb xauth slapd ldap-utils) ;;
  *) echo "usage: $0 venv|run|test" >&2; exit 2 ;;
esac

missing=()
for package in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

command="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages. Run this once, then repeat the make command:" >&2
  echo "  sudo apt-get update && sudo $command" >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# Package scripts must not start services in here; the tests start their own servers.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; trap 'rm -f "$policy"' EXIT; fi
$command >/dev/null
