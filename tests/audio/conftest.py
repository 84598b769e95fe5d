"""Fixtures for the audio tests: real speech rendered once with Kokoro, cached on disk.

Two built-in packs give two clearly different speakers (a female and a male voice). Rendering
runs once per machine: the clips are saved under the test cache directory (``VOXCLONE_TEST_CACHE``
or ``$TMP/voxclone-test-cache``) keyed by a hash of voice and text.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

SR = 24000
SENTENCES = (
    "The quick brown fox jumps over the lazy dog, while the morning sun rises slowly over the hills.",
    "She said that reading books every evening helps her relax and sleep much better at night.",
)
VOICES = ("jf_alpha", "jm_kumo")


def _cache_dir() -> Path:
    base = os.environ.get("VOXCLONE_TEST_CACHE", str(Path(tempfile.gettempdir()) / "voxclone-test-cache"))
    return Path(base)


def _render(voices: tuple[str, ...]) -> dict[str, np.ndarray]:
    import espeakng_loader
    from phonemizer.backend.espeak.wrapper import EspeakWrapper

    EspeakWrapper.set_library(espeakng_loader.get_library_path())
    EspeakWrapper.set_data_path(espeakng_loader.get_data_path())
    from phonemizer.backend import EspeakBackend

    from voxclone.engines.kokoro import assets
    from voxclone.engines.kokoro.model import KokoroModel

    model = KokoroModel.from_cache(_cache_dir() / "cache", threads=1)  # same folder as the engine fixture
    packs = assets.voice_packs()
    phonemes = EspeakBackend("en-us", preserve_punctuation=True, with_stress=True).phonemize(list(SENTENCES))
    gap = np.zeros(int(0.25 * SR), np.float32)
    out = {}
    for name in voices:
        parts = []
        for ph in phonemes:
            tokens = model.tokenize(ph)
            parts += [model.infer(tokens, packs[name][len(tokens) - 1, 0], 1.0), gap]
        out[name] = np.concatenate(parts).astype(np.float32)
    return out


@pytest.fixture(scope="session")
def voices() -> dict[str, np.ndarray]:
    """``{"jf_alpha": audio, "jm_kumo": audio}``: ~9 s of 24 kHz float32 speech per voice."""
    key = hashlib.sha256(repr((SENTENCES, VOICES, SR)).encode()).hexdigest()[:16]
    path = _cache_dir() / "audio-fixtures" / f"voices-{key}.npz"
    if path.exists():
        with np.load(path) as npz:
            return {k: npz[k] for k in VOICES}
    rendered = _render(VOICES)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
    np.savez(tmp, **rendered)  # type: ignore[arg-type]
    tmp.replace(path)
    return rendered


@pytest.fixture(scope="session")
def speech(voices: dict[str, np.ndarray]) -> np.ndarray:
    """One clean speaker, ~9 s at 24 kHz, peak normalised to -3 dBFS."""
    x = voices["jf_alpha"]
    return np.asarray(x / np.abs(x).max() * 10 ** (-3 / 20), np.float32)


@pytest.fixture(scope="session")
def analyzer() -> Any:
    from voxclone.audio.intake import ReferenceAnalyzer

    return ReferenceAnalyzer(threads=1)
