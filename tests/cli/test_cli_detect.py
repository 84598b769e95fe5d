"""``voxclone detect FILE`` (offline): a marked Kokoro clip is traced, an unmarked one is not,
and a file that is not audio exits 1 with a message."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from voxclone.audio.encode import encode_all
from voxclone.audio.watermark import Marker, Payload
from voxclone.service.watermarking import mark_chunks

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _detect(*argv: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH", "")) if p)
    return subprocess.run(
        [sys.executable, "-m", "voxclone.cli", "detect", *argv],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_detect_cli(reference_wav: bytes, tmp_path: Path) -> None:
    audio, sr = sf.read(io.BytesIO(reference_wav), dtype="float32")
    payload = Payload(server_id=31337, account_hash=0x1A2B)
    marker = Marker(sample_rate=sr, payload=payload)
    marked = np.concatenate(list(mark_chunks(np.array_split(audio, 7), marker)))
    (tmp_path / "marked.mp3").write_bytes(encode_all(marked, sr, "mp3"))
    (tmp_path / "plain.wav").write_bytes(reference_wav)
    (tmp_path / "text.wav").write_text("hello")

    done = _detect(str(tmp_path / "marked.mp3"), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["watermarked"] and result["payload"] == {"server_id": 31337, "account_hash": "1a2b"}
    done = _detect(str(tmp_path / "marked.mp3"))
    assert "watermarked" in done.stdout and "server id: 31337  account hash: 1a2b" in done.stdout

    done = _detect(str(tmp_path / "plain.wav"))
    assert done.returncode == 0 and done.stdout.startswith("no voxclone watermark found")
    done = _detect(str(tmp_path / "text.wav"))
    assert done.returncode == 1 and "unsupported_audio_format" in done.stderr
    done = _detect(str(tmp_path / "missing.wav"))
    assert done.returncode == 1 and "cannot read" in done.stderr
