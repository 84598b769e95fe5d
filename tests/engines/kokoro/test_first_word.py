"""A short first word keeps its sound (issue: "I would like to book …" was heard as "Would like …").

The model's own predicted durations show what it spends on the first word, and where it puts it;
the render is checked there without a recogniser: the frontend keeps the word in the first chunk,
the model gives it a normal length, and trimming the chunk's leading silence does not reach it.
"""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from voxclone.engines.kokoro import assets
from voxclone.engines.kokoro import profile as kokoro_profile
from voxclone.engines.kokoro.engine import KokoroEngine, _pace
from voxclone.engines.kokoro.level import trim_silence
from voxclone.engines.kokoro.model import STYLE_DIM

SENTENCE = "I would like to book a table for four people on Friday evening, if possible."
DURATIONS = "/encoder/Cast_output_0"  # frames per input token (pads included), after rounding
FRAME = 600  # output samples per duration frame at 24 kHz


@pytest.fixture(scope="module")
def timed_session() -> ort.InferenceSession:
    """The stock graph with the per-token durations as a second output."""
    model = onnx.ModelProto()
    model.ParseFromString(bytes(assets.stock_model_bytes()))
    model.graph.output.append(helper.make_tensor_value_info(DURATIONS, TensorProto.INT64, None))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(
        model.SerializeToString(), sess_options=opts, providers=["CPUExecutionProvider"]
    )


def test_first_word_is_stressed_spoken_and_not_trimmed(
    kokoro_engine: KokoroEngine, timed_session: ort.InferenceSession
) -> None:
    frontend = kokoro_engine.frontend
    chunk = next(iter(frontend.chunks(frontend.prepare(SENTENCE, language="en-us"))))
    assert chunk.text.startswith("I would") and chunk.pause_s == 0.0
    assert chunk.phonemes.startswith("ˌI ")
    first_word = len(frontend.tokenize(chunk.phonemes.split(" ")[0]))
    frames = []
    for voice in kokoro_engine.builtin_voices():
        profile = kokoro_engine.builtin_profile(voice.voice_id)
        styles = kokoro_profile.style_table(profile)
        style = styles[min(len(chunk.tokens), len(styles)) - 1]  # the row the engine picks
        audio, durations = timed_session.run(
            None,
            {
                "tokens": np.array([[0, *chunk.tokens, 0]], np.int64),
                "style": style.reshape(1, STYLE_DIM),
                "speed": np.array([_pace(profile)], np.float32),
            },
        )
        audio, durations = np.asarray(audio, np.float32).ravel(), np.asarray(durations).ravel()
        assert audio.size == int(durations.sum()) * FRAME
        frames.append(int(durations[1 : 1 + first_word].sum()))
        # the engine's trim keeps everything from where the model starts the first word
        onset = int(durations[0]) * FRAME
        trimmed = trim_silence(audio, kokoro_engine.sample_rate)
        start = _offset(audio, trimmed)
        assert start <= onset, f"{voice.voice_id}: trim starts {(start - onset) / 24:.0f} ms into the word"
    # unstressed "I" got 2 frames (50 ms) on every voice; stressed 3-6 (75-150 ms)
    assert np.mean(frames) >= 4, frames


def _offset(audio: np.ndarray, part: np.ndarray) -> int:
    """Where the slice ``part`` starts in ``audio``."""
    head = part[:256]
    for start in range(audio.size - part.size + 1):
        if np.array_equal(audio[start : start + head.size], head):
            return start
    raise AssertionError("the trimmed audio is not a slice of the render")
