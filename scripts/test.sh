#!/usr/bin/env bash
# Sets up what the test suite needs on a fresh Debian machine, then runs it.
#   - Debian packages: redis-server, chromium (browser tests), iproute2 + util-linux (netns),
#     nodejs (node --test for the browser code's pure logic),
#     fonts-noto-cjk (readable Japanese in screenshots)
#   - axe-core from npm (tests/a11y) for the accessibility checks
#   - typescript from npm (static/js/client, pinned) for the type check and `npm pack` of the browser client
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
command -v npm >/dev/null 2>&1 || missing+=(npm)
# Japanese glyphs for the screenshots the browser tests save for review.
[ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

bash scripts/venv.sh requirements-dev.txt

# axe-core (pinned in tests/a11y/package-lock.json) for the accessibility tests;
# Playwright injects it from node_modules, pages never load it from a CDN.
# Reinstall when the installed version is not the locked one.
axe_locked=$(node -p "require('./tests/a11y/package-lock.json').packages['node_modules/axe-core'].version")
axe_found=$(node -p "try { require('./tests/a11y/node_modules/axe-core/package.json').version } catch { '' }")
[ "$axe_locked" = "$axe_found" ] || (cd tests/a11y && npm ci --no-audit --no-fund --loglevel=error)

# typescript (pinned in static/js/client/package-lock.json) for tests/js/test_typecheck.py:
# tsc --checkJs on the apps, strict on the client package, and its .d.ts for npm pack.
ts_locked=$(node -p "require('./static/js/client/package-lock.json').packages['node_modules/typescript'].version")
ts_found=$(node -p "try { require('./static/js/client/node_modules/typescript/package.json').version } catch { '' }")
[ "$ts_locked" = "$ts_found" ] || (cd static/js/client && npm ci --no-audit --no-fund --loglevel=error)

# Root can make a network namespace directly; others need a user namespace too.
unshare_flags=(-n)
[ "$(id -u)" = 0 ] || unshare_flags=(-r -n)
exec unshare "${unshare_flags[@]}" -- sh -c 'ip link set lo up && exec .venv/bin/python -m pytest "$@"' sh "$@"
