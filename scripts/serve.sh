#!/usr/bin/env bash
# One command on a fresh machine: install voxclone into .venv and start the server on its
# embedded defaults (Kokoro engine, SQLite + ./voxclone-data, http://127.0.0.1:8000).
# A new data folder gets a first account; its API key is printed once. Extra args go to `voxclone serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/voxclone serve "$@"
