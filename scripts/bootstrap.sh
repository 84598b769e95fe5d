#!/usr/bin/env bash
# Create (or reuse) .venv and install voxclone into it. Usage: scripts/bootstrap.sh [EXTRAS]
#   scripts/bootstrap.sh          -> the server (embedded Kokoro engine, SQLite by default)
#   scripts/bootstrap.sh dev      -> plus test and lint tools
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python3 -m venv .venv 2>/dev/null || test -x .venv/bin/python
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install -q --disable-pip-version-check --upgrade pip "setuptools<81" wheel
if [ -n "$extras" ]; then
  python -m pip install -q --disable-pip-version-check -e ".[$extras]"
else
  python -m pip install -q --disable-pip-version-check -e .
fi
