"""The OuteTTS extra stays optional: importing voxclone or this engine's light modules pulls no torch."""

from __future__ import annotations

import subprocess
import sys


def test_light_imports_do_not_load_heavy_dependencies() -> None:
    mods = ["voxclone", "voxclone.engines.registry"] + [
        f"voxclone.engines.outetts.{m}"
        for m in ("prompt", "speaker", "weights", "sampler", "streaming", "engine")
    ]
    heavy = ("torch", "llama_cpp", "outetts", "transformers", "faster_whisper")
    code = f"import sys, {', '.join(mods)}\nprint(','.join(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == ""
