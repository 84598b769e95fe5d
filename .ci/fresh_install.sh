#!/usr/bin/env bash
# A plain `pip install` of voxclone works: a new venv with the newest pip and setuptools (>= 81, so
# no pkg_resources), the project installed as a user would (no scripts/bootstrap.sh, no pins), then
# `voxclone serve` on a free port and, through its HTTP API, health, a clone and speech in the clone's
# voice (.ci/fresh_install_check.py). About 2-4 minutes on a warm pip cache.
# Usage: .ci/fresh_install.sh   (PYTHON: the interpreter to build the venv with, default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
unset PYTHONPATH
for name in $(env | sed -n 's/^\(VOXCLONE_[A-Z_]*\)=.*/\1/p'); do unset "$name"; done

start=$(date +%s)
"${PYTHON:-python3}" -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel
"$py" - <<'PY'
import importlib.util, setuptools
major = int(setuptools.__version__.split(".")[0])
assert major >= 81 and importlib.util.find_spec("pkg_resources") is None, setuptools.__version__
print(f"fresh_install: setuptools {setuptools.__version__}, no pkg_resources")
PY
"$py" -m pip install --quiet --disable-pip-version-check "$root"
echo "fresh_install: installed in $(( $(date +%s) - start )) s" >&2

cd "$work"
"$work/venv/bin/voxclone" serve --port 0 --data-dir "$work/data" >"$work/out.log" 2>"$work/err.log" &
server_pid=$!
"$py" "$root/.ci/fresh_install_check.py" --log "$work/out.log" --pid "$server_pid" || {
  echo "--- server stdout"; cat "$work/out.log"; echo "--- server stderr"; tail -n 40 "$work/err.log"; exit 1; } >&2
echo "fresh_install: passed in $(( $(date +%s) - start )) s" >&2
