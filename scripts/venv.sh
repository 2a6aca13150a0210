#!/usr/bin/env bash
# Creates .venv (installing Debian's python3-venv first if this Python lacks
# ensurepip) and installs the given requirements file into it.
# Usage: scripts/venv.sh requirements.txt
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=${1:-requirements.txt}
if [ ! -x .venv/bin/python ]; then
  if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    sudo_cmd=()
    [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq python3-venv >/dev/null
  fi
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r "$requirements"
