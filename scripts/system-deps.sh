#!/usr/bin/env bash
# Installs the Debian packages the test suite talks to: socat (pty pairs for
# real serial tests), mbpoll (an independent Modbus master), chromium (the
# dashboard and editor tests), python3-pymodbus (an independent Modbus server,
# run with /usr/bin/python3). Skips what is already there.
set -euo pipefail
need=()
command -v socat >/dev/null 2>&1 || need+=(socat)
command -v mbpoll >/dev/null 2>&1 || need+=(mbpoll)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
/usr/bin/python3 -c 'import pymodbus' >/dev/null 2>&1 || need+=(python3-pymodbus)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing: ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
