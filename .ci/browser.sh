#!/usr/bin/env bash
# Install what the browser tests (tests/web, marker `browser`) need, idempotently:
#   - Debian's Chromium from apt (never a browser download from a CDN),
#   - the `playwright` pip package (it ships its own driver; `playwright install` is NOT run).
# Usage: .ci/browser.sh            (uses `python` on PATH, e.g. the activated venv)
#        PYTHON=.venv/bin/python .ci/browser.sh
set -euo pipefail

PYTHON="${PYTHON:-python}"
CHROMIUM="${VOXCLONE_CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$CHROMIUM" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
            echo "browser.sh: $CHROMIUM is missing and this user cannot run apt-get (no root, no sudo)" >&2
            exit 1
        fi
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core
fi
"$CHROMIUM" --version 2>/dev/null | head -n 1 || { echo "browser.sh: $CHROMIUM does not run" >&2; exit 1; }

if ! "$PYTHON" -c "import playwright.sync_api" >/dev/null 2>&1; then
    "$PYTHON" -m pip install --quiet "playwright>=1.45"
fi
"$PYTHON" -c "import importlib.metadata as m; print('playwright', m.version('playwright'))"
