#!/usr/bin/env bash
# Install what the browser tests (tests/web, marker `browser`) need, idempotently:
#   - Debian's Chromium from apt (never a browser download from a CDN),
#   - the `playwright` pip package (it ships its own driver; `playwright install` is NOT run).
# Usage: .ci/browser.sh            (uses `python` on PATH, e.g. the activated venv)
#        PYTHON=.venv/bin/python .ci/browser.sh
set -euo pipefail
# shellcheck source=.ci/apt.sh
. "$(dirname "$0")/apt.sh"

PYTHON="${PYTHON:-python}"
CHROMIUM="${VOXCLONE_CHROMIUM:-/usr/bin/chromium}"

apt_install browser.sh "$CHROMIUM" chromium fonts-dejavu-core
"$CHROMIUM" --version 2>/dev/null | head -n 1 || { echo "browser.sh: $CHROMIUM does not run" >&2; exit 1; }

if ! "$PYTHON" -c "import playwright.sync_api" >/dev/null 2>&1; then
    "$PYTHON" -m pip install --quiet "playwright>=1.45"
fi
"$PYTHON" -c "import importlib.metadata as m; print('playwright', m.version('playwright'))"
