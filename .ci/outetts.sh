#!/usr/bin/env bash
# Install what tests/engines/outetts needs (idempotent; fast on a warm pip cache).
#
#  - llama-cpp-python is published as source only: the first run compiles it (about 6 minutes on
#    2 shared cores); pip's wheel cache keeps the built wheel, so later runs install it in seconds.
#  - outetts goes in with --no-deps: the conformance tests load only its v3 prompt processor and
#    feature code, which import transformers, ftfy and loguru (plus torch for the features).
#  - descript-audio-codec also goes in with --no-deps (its audiotools/argbind chain is not needed):
#    the DAC test compares our torch DAC with its model classes.
#  - torch: the CPU wheel pinned by the project (the tiny DAC and outetts' feature code need it).
#
# Usage: .ci/outetts.sh   (uses $PYTHON, default: python on PATH, i.e. the active venv)
set -euo pipefail
PY="${PYTHON:-python}"
pip_install() { "$PY" -m pip install --disable-pip-version-check --quiet "$@"; }

start=$(date +%s)
pip_install "torch==2.13.0" "gguf>=0.10" "ftfy>=6" "loguru>=0.7" "diskcache>=5.6" \
  "transformers==4.52.3" "huggingface-hub>=0.23"
pip_install "einops>=0.7"
pip_install --no-deps "outetts==0.4.4" "descript-audio-codec==1.0.0"

if ! "$PY" -c "import llama_cpp" 2>/dev/null; then
  echo "outetts.sh: installing llama-cpp-python 0.3.36 (first time: source build, several minutes)" >&2
  # A portable CPU build; the wheel lands in pip's cache and is reused by later runs.
  CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
  CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF}" \
    pip_install --no-deps "llama-cpp-python==0.3.36"
fi
"$PY" -c "import llama_cpp, gguf, ftfy, torch, transformers" >/dev/null
echo "outetts.sh: ready in $(( $(date +%s) - start )) s" >&2
