"""A long reference: its clone scores like one from a short excerpt, and the report names the window.

Users read the self-check as "how good is my clone"; scoring one half of the 10-15 s window a long
upload is cut to made 45-75 s uploads read ~0.2 lower than their first 15 s (issue #17).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from toy_engine import ToyEngine

from voxclone.service.container import Services
from voxclone.settings import Settings
from voxclone.voices.profile import VoiceProfile

SENTENCES = (
    "The old harbour town wakes slowly in the winter.",
    "Fishing boats leave before dawn, and the bakery on the corner opens its doors at six.",
    "By nine the market square is full of people buying bread, cheese and fresh fish.",
    "Children run between the stalls while their parents talk about the weather.",
    "In the afternoon the wind picks up from the sea, and the boats come home one by one.",
    "The harbour master counts them as they pass the lighthouse, writing each name in a book.",
    "When the last boat is in, he locks the office and walks up the hill to his house.",
    "A fire is already burning there, and the kettle is on.",
)


@pytest.fixture
def services(tmp_path: Path, kokoro_engine: Any) -> Iterator[Services]:
    built = Services.build(
        settings=Settings(data_dir=tmp_path, synthesis_workers=1, onnx_threads=1), engine=kokoro_engine
    )
    yield built
    built.close()


def _wav(audio: np.ndarray, sample_rate: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, audio, sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


async def test_long_reference_scores_like_its_excerpt_and_names_its_window(
    services: Services, kokoro_engine: Any
) -> None:
    sr = kokoro_engine.sample_rate
    voice = kokoro_engine.builtin_profile("en-male-2")
    pause = np.zeros(int(0.7 * sr), np.float32)
    speech = np.concatenate([p for s in SENTENCES for p in (kokoro_engine.generate(s, voice), pause)])
    assert speech.size > 40 * sr
    long_audio, excerpt = speech[: 45 * sr], speech[: 12 * sr]
    account, _ = services.accounts.create_key(credits="1")
    made = {}
    for name, audio in (("long", long_audio), ("excerpt", excerpt)):
        created = await services.clones.create(
            account=account, name=name, audio=_wav(audio, sr), filename=None, content_type="audio/wav"
        )
        made[name] = created.record
    while services.checks.run_once():  # the deferred self-checks, here and now
        pass
    made = {name: services.clones.retrieve(account=account, voice_id=r.voice_id) for name, r in made.items()}
    window = made["long"].quality["window"]
    assert 0.0 <= window["start_s"] < window["end_s"] <= long_audio.size / sr
    assert 10.0 <= window["end_s"] - window["start_s"] <= 17.0  # the 10-15 s window and its shortened pauses
    assert any(
        f"{window['start_s']:.1f}-{window['end_s']:.1f} s of the upload" in n
        for n in made["long"].quality["notes"]
    )
    assert (
        made["excerpt"].quality["window"]["start_s"] < 0.5 < 11.0 < made["excerpt"].quality["window"]["end_s"]
    )
    assert made["long"].similarity is not None and made["excerpt"].similarity is not None
    assert made["long"].similarity >= made["excerpt"].similarity - 0.05


class HeldOutRecorder(ToyEngine):
    """The toy engine, recording the seconds of ``held_out`` each self-check is given (None: none)."""

    def __init__(self) -> None:
        super().__init__()
        self.held_out_s: list[float | None] = []

    def self_check(
        self, profile: VoiceProfile, reference: np.ndarray, sample_rate: int, *, held_out: Any = None
    ) -> float | None:
        self.held_out_s.append(None if held_out is None else np.asarray(held_out).size / sample_rate)
        return super().self_check(profile, reference, sample_rate)


async def test_the_deferred_check_is_given_the_rest_of_a_long_upload(
    tmp_path: Path, reference_wav: bytes
) -> None:
    """The held-out speech travels from intake through the stored check blob to the engine's
    self-check (dropping it anywhere scored a long upload's clone against half its window again)."""
    audio, sr = sf.read(io.BytesIO(reference_wav), dtype="float32")
    pause = np.zeros(int(0.7 * sr), np.float32)
    long_audio = np.concatenate([audio, pause] * 9)  # about a minute, well over 30 s of speech
    engine = HeldOutRecorder()
    services = Services.build(settings=Settings(data_dir=tmp_path, synthesis_workers=1), engine=engine)
    try:
        account, _ = services.accounts.create_key(credits="1")
        for name, wav in (("long", _wav(long_audio, sr)), ("short", reference_wav)):
            await services.clones.create(
                account=account, name=name, audio=wav, filename=None, content_type="audio/wav"
            )
            assert await asyncio.to_thread(services.checks.run_once)
    finally:
        services.close()
    long_s, short_s = engine.held_out_s
    assert long_s is not None and long_s > 20.0  # the upload's speech outside the 10-15 s window
    assert short_s is None  # a short upload is scored split-half on itself
