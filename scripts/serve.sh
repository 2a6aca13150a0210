#!/usr/bin/env bash
# Sets up .venv and serves the API and the browser apps on http://127.0.0.1:8080.
# With no REDIS_URL the embedded in-process store is used (one process, no Redis).
# HOST and PORT change the address; every other setting is in docs/CONFIG.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh requirements.txt
exec .venv/bin/python main.py
