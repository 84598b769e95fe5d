"""Cloning's WORLD analysis imports without ``pkg_resources`` (setuptools >= 81 has none).

pyworld 0.3.5 starts with ``import pkg_resources``, so in a fresh venv every clone failed; voxclone
depends on pyworld-prebuilt (the same ``pyworld`` module without that import). The import runs in
a subprocess in which ``pkg_resources`` is missing, whatever setuptools this venv has.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import voxclone

SRC = Path(voxclone.__file__).resolve().parents[1]
PROBE = """
import numpy as np
from voxclone.engines.kokoro.cloning.features import pitch
f0, _ = pitch((0.3 * np.sin(2 * np.pi * 150 * np.arange(16000) / 16000)).astype(np.float32))
print(round(float(np.median(f0[f0 > 0]))))
"""


def test_world_runs_without_pkg_resources(tmp_path: Path) -> None:
    (tmp_path / "pkg_resources.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'pkg_resources'\", name='pkg_resources')\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(SRC), env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert abs(int(result.stdout.strip()) - 150) <= 3
