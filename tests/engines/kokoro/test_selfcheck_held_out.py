"""The self-check of a long upload scores the clone against the upload's other speech (``held_out``)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np

from voxclone.engines.kokoro.cloning import similarity
from voxclone.engines.kokoro.cloning.selfcheck import MAX_PIECES, _pieces

WINDOW = "The harbour master counts the boats as they pass the lighthouse, one by one, every evening."
REST = (
    "Children run between the stalls while their parents talk about the weather and the price of coal, "
    "and the bakery on the corner sells the last of its bread before noon."
)


def test_held_out_speech_is_what_is_scored(kokoro_engine: Any) -> None:
    male, female = (kokoro_engine.builtin_profile(v) for v in ("en-male-1", "en-female-1"))
    window = kokoro_engine.generate(WINDOW, male, language="en-us")
    clone = kokoro_engine.enroll(window, kokoro_engine.sample_rate)
    sr = kokoro_engine.sample_rate
    same = similarity(kokoro_engine, clone, window, sr, held_out=kokoro_engine.generate(REST, male))
    other = similarity(kokoro_engine, clone, window, sr, held_out=kokoro_engine.generate(REST, female))
    assert same > 0.5 and other < same - 0.3


def test_pieces_are_disjoint_spread_and_bounded() -> None:
    audio = np.arange(100, dtype=np.float32)
    pieces = _pieces(audio, 10)
    assert len(pieces) == MAX_PIECES and all(p.size == 10 for p in pieces)
    assert pieces[0][0] == 0 and pieces[-1][-1] == 99
    starts = [int(p[0]) for p in pieces]
    assert all(b - a >= 10 for a, b in pairwise(starts))
    assert [p.size for p in _pieces(audio[:25], 10)] == [10, 10]
    assert [p.size for p in _pieces(audio[:7], 10)] == [7]
