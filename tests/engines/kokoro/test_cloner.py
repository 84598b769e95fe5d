"""The cloning part the Kokoro engine is built with: typed, injected, owning its resources."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from voxclone.audio.intake import ReferenceAnalyzer
from voxclone.engines.kokoro import assets
from voxclone.engines.kokoro.cloning import KokoroCloner
from voxclone.engines.kokoro.cloning.styles import AnchorTable
from voxclone.engines.kokoro.engine import KokoroEngine
from voxclone.errors import Unprocessable

TEXT = "I walked down to the harbour this morning to watch the fishing boats come in."


@pytest.fixture(scope="module")
def reference(kokoro_engine: KokoroEngine) -> np.ndarray:
    return kokoro_engine.generate(TEXT, kokoro_engine.builtin_profile("en-male-1"), language="en-us")


def test_the_cloning_package_does_not_import_the_engine() -> None:
    """No loop: the engine imports its cloner; the cloner never reaches back into the engine."""
    code = (
        "import sys, voxclone.engines.kokoro.cloning; print('voxclone.engines.kokoro.engine' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_one_speaker_encoder_is_shared(kokoro_engine: KokoroEngine, reference: np.ndarray) -> None:
    cloner = kokoro_engine.cloner
    assert isinstance(cloner, KokoroCloner)
    encoder = kokoro_engine.speaker_encoder
    assert encoder is cloner.encoder
    analyzer = ReferenceAnalyzer(threads=1, encoder=encoder)
    assert analyzer.encoder is encoder  # the intake loads none of its own
    profile = kokoro_engine.enroll(reference, kokoro_engine.sample_rate)
    np.testing.assert_array_equal(
        profile.tensors["speaker_embedding"], encoder.embed(reference, kokoro_engine.sample_rate)
    )


def test_a_cloner_built_from_parts_is_the_engines(kokoro_engine: KokoroEngine, reference: np.ndarray) -> None:
    shared = kokoro_engine.cloner
    assert shared is not None
    built = KokoroCloner(encoder=shared.encoder, anchors=AnchorTable.load(), packs=assets.voice_packs())
    engine = KokoroEngine(kokoro_engine.model, frontend=kokoro_engine.frontend, cloner=built)
    assert engine.cloner is built and engine.speaker_encoder is shared.encoder
    ours = engine.enroll(reference, engine.sample_rate)
    theirs = kokoro_engine.enroll(reference, kokoro_engine.sample_rate)
    assert set(ours.tensors) == set(theirs.tensors) and ours.meta == theirs.meta
    for name, value in ours.tensors.items():
        np.testing.assert_array_equal(value, theirs.tensors[name])
    packs = dict(assets.voice_packs())
    packs.pop(AnchorTable.load().pack_names[0])
    with pytest.raises(ValueError, match="voice packs"):
        KokoroCloner(encoder=shared.encoder, anchors=AnchorTable.load(), packs=packs)


def test_an_engine_without_a_cloner_speaks_builtins_only(
    kokoro_engine: KokoroEngine, reference: np.ndarray
) -> None:
    plain = KokoroEngine(kokoro_engine.model, frontend=kokoro_engine.frontend)
    assert plain.cloner is None and plain.speaker_encoder is None
    voice = plain.builtin_profile("en-female-1")
    np.testing.assert_array_equal(
        plain.generate("Hello there.", voice, language="en-us"),
        kokoro_engine.generate("Hello there.", voice, language="en-us"),
    )
    clone = kokoro_engine.enroll(reference, kokoro_engine.sample_rate)
    calls: list[Any] = [
        lambda: plain.enroll(reference, plain.sample_rate),
        lambda: plain.synthesize("Hello there.", clone, language="en-us"),  # refused before any chunk
        lambda: plain.similarity(clone, reference, plain.sample_rate),
    ]
    for call in calls:
        with pytest.raises(Unprocessable) as e:
            call()
        assert e.value.code == "cloning_unavailable"
