#!/usr/bin/env bash
# One command on a fresh machine: install voxclone with its test tools and run the whole suite
# (SQLite and PostgreSQL on 127.0.0.1, the browser playground, the OuteTTS conformance tests).
# Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh dev
# shellcheck disable=SC1091
. .venv/bin/activate
[ -f .ci/outetts.sh ] && bash .ci/outetts.sh
[ -f .ci/browser.sh ] && bash .ci/browser.sh
[ -f .ci/nginx.sh ] && bash .ci/nginx.sh
# PostgreSQL is part of the suite: start the local cluster if it is down.
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi
export VOXCLONE_TEST_POSTGRES="${VOXCLONE_TEST_POSTGRES:-postgresql://postgres@127.0.0.1:5432/test}"
ruff check .
mypy
python -m pytest "$@"
