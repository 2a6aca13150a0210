#!/usr/bin/env bash
# Sets up what the test suite needs on a fresh Debian machine, then runs it.
#   - Debian packages: redis-server, chromium (browser tests), iproute2 + util-linux (netns),
#     nodejs (node --test for the browser code's pure logic),
#     fonts-noto-cjk (readable Japanese in screenshots)
#   - a virtualenv in .venv with requirements-dev.txt
#   - pytest inside a private network namespace (loopback only), so WebRTC
#     media and every test request stay on 127.0.0.1.
# Extra arguments go to pytest, e.g. `scripts/test.sh tests/unit -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
# Japanese glyphs for the screenshots the browser tests save for review.
[ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

bash scripts/venv.sh requirements-dev.txt

# Root can make a network namespace directly; others need a user namespace too.
unshare_flags=(-n)
[ "$(id -u)" = 0 ] || unshare_flags=(-r -n)
exec unshare "${unshare_flags[@]}" -- sh -c 'ip link set lo up && exec .venv/bin/python -m pytest "$@"' sh "$@"
