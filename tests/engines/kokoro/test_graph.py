"""The ``pitch`` input voxclone adds to the Kokoro graph (``engines/kokoro/graph.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper
from pitch_track import median_f0

from voxclone.engines.kokoro import assets
from voxclone.engines.kokoro.engine import KokoroEngine
from voxclone.engines.kokoro.graph import DURATIONS_OUTPUT, PITCH_INPUT, add_durations_output, add_pitch_input
from voxclone.engines.kokoro.model import KokoroModel
from voxclone.engines.kokoro.profile import PROFILE_VERSION
from voxclone.errors import EngineUnavailable
from voxclone.voices.profile import VoiceProfile

TEXT = "The quiet river wound slowly through the green valley below the hills."


@pytest.fixture(scope="module")
def stock_model() -> KokoroModel:
    """The unedited graph, joined in memory from the PyPI parts."""
    blob = bytes(assets.stock_model_bytes())
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return KokoroModel.from_session(
        ort.InferenceSession(blob, sess_options=opts, providers=["CPUExecutionProvider"])
    )


def test_cached_model_has_the_pitch_input(kokoro_model: KokoroModel, stock_model: KokoroModel) -> None:
    assert kokoro_model.supports_pitch
    assert not stock_model.supports_pitch
    assert PITCH_INPUT in [i.name for i in kokoro_model.session.get_inputs()]


def test_pitch_one_is_the_stock_model_exactly(
    kokoro_engine: KokoroEngine, kokoro_model: KokoroModel, stock_model: KokoroModel
) -> None:
    tokens = kokoro_engine.frontend.tokenize(kokoro_engine.phonemize(TEXT, language="en-us"))
    style = assets.voice_packs()["jm_kumo"][len(tokens) - 1, 0]
    np.testing.assert_array_equal(
        kokoro_model.infer(tokens, style, 1.0, pitch=1.0), stock_model.infer(tokens, style)
    )


def test_pitch_scales_f0_and_keeps_timing(kokoro_engine: KokoroEngine) -> None:
    style = assets.voice_packs()["jf_alpha"].reshape(-1, 256)
    base = kokoro_engine.generate(
        TEXT, VoiceProfile("kokoro", PROFILE_VERSION, {"style": style}), language="en-us"
    )
    low_profile = VoiceProfile(
        "kokoro", PROFILE_VERSION, {"style": style, "pitch": np.array([0.8], np.float32)}
    )
    low = kokoro_engine.generate(TEXT, low_profile, language="en-us")
    ratio = median_f0(low, kokoro_engine.sample_rate) / median_f0(base, kokoro_engine.sample_rate)
    assert 0.74 < ratio < 0.87
    assert abs(low.size - base.size) < 0.05 * base.size


def test_stock_graph_refuses_a_pitch_change(kokoro_engine: KokoroEngine, stock_model: KokoroModel) -> None:
    tokens = kokoro_engine.frontend.tokenize(kokoro_engine.phonemize("Hello.", language="en-us"))
    style = assets.voice_packs()["jm_kumo"][len(tokens) - 1, 0]
    with pytest.raises(ValueError, match="no pitch input"):
        stock_model.infer(tokens, style, pitch=0.9)


def test_add_pitch_input_rejects_other_graphs() -> None:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "other",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    with pytest.raises(EngineUnavailable, match="F0 projection"):
        add_pitch_input(helper.make_model(graph))


def test_graph_edits_are_idempotent_and_valid(tmp_path: Path) -> None:
    model = onnx.load(str(assets.model_path(tmp_path)))
    before = len(model.graph.node)
    add_pitch_input(model)
    add_durations_output(model)
    assert len(model.graph.node) == before
    assert [o.name for o in model.graph.output] == ["audio", DURATIONS_OUTPUT]
    onnx.checker.check_model(model)


def test_parts_failing_the_checksum_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "model.sha256").write_text("0" * 64)
    monkeypatch.setattr(assets, "_data_dir", lambda: tmp_path)
    with pytest.raises(EngineUnavailable, match="sha256 mismatch"):
        assets.model_path(tmp_path / "cache")
    assert not (tmp_path / "cache").exists()  # nothing half-written
