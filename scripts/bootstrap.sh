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
python -m pip install -q --disable-pip-version-check --upgrade pip setuptools wheel
# An older .venv has pyworld 0.3.5 (it imports pkg_resources, gone in setuptools >= 81); voxclone now
# depends on pyworld-prebuilt, which installs the same `pyworld` module. Remove both so that the
# install below lays pyworld-prebuilt's files afresh (removing pyworld later would delete them).
if python -m pip show -q pyworld >/dev/null 2>&1; then
  python -m pip uninstall -q -y pyworld pyworld-prebuilt
fi
if [ -n "$extras" ]; then
  python -m pip install -q --disable-pip-version-check -e ".[$extras]"
else
  python -m pip install -q --disable-pip-version-check -e .
fi
