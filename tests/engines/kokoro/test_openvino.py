"""The float graph (dequantised int8) and the OpenVINO runtime that runs it on CPUs with AMX."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from pitch_track import median_f0

from voxclone.engines.kokoro import assets
from voxclone.engines.kokoro.dequantize import dequantize, integer_phase
from voxclone.engines.kokoro.model import KokoroModel
from voxclone.engines.kokoro.openvino_session import choose_runtime, cpu_flags
from voxclone.errors import EngineUnavailable

INTEGER_OPS = {"DynamicQuantizeLinear", "ConvInteger", "MatMulInteger", "DynamicQuantizeLSTM"}


def _float_model() -> onnx.ModelProto:
    """Conv (with bias) → LeakyRelu → bidirectional LSTM → MatMul: the operator kinds Kokoro quantises."""
    rng = np.random.default_rng(7)
    channels, hidden, out = 16, 8, 12
    weights = {
        "conv_w": rng.normal(0, 0.3, (channels, 4, 3)).astype(np.float32),
        "conv_b": rng.normal(0, 0.5, channels).astype(np.float32),
        "lstm_w": rng.normal(0, 0.3, (2, 4 * hidden, channels)).astype(np.float32),
        "lstm_r": rng.normal(0, 0.3, (2, 4 * hidden, hidden)).astype(np.float32),
        "lstm_b": rng.normal(0, 0.1, (2, 8 * hidden)).astype(np.float32),
        "fc_w": rng.normal(0, 0.3, (2 * hidden, out)).astype(np.float32),
        "perm_shape": np.array([0, 0, -1], np.int64),
    }
    nodes = [
        helper.make_node("Conv", ["x", "conv_w", "conv_b"], ["c"], pads=[1, 1]),  # [1, 16, T]
        helper.make_node("LeakyRelu", ["c"], ["a"], alpha=0.2),
        helper.make_node("Transpose", ["a"], ["seq"], perm=[2, 0, 1]),  # [T, 1, 16]
        helper.make_node(
            "LSTM",
            ["seq", "lstm_w", "lstm_r", "lstm_b"],
            ["h"],
            hidden_size=hidden,
            direction="bidirectional",
        ),  # [T, 2, 1, 8]
        helper.make_node("Transpose", ["h"], ["ht"], perm=[2, 0, 1, 3]),  # [1, T, 2, 8]
        helper.make_node("Reshape", ["ht", "perm_shape"], ["hf"]),  # [1, T, 16]
        helper.make_node("MatMul", ["hf", "fc_w"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, "T"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "T", out])],
        [numpy_helper.from_array(v, k) for k, v in weights.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder = tmp_path_factory.mktemp("graphs")
    paths = {name: folder / f"{name}.onnx" for name in ("float", "int8", "dequantised")}
    onnx.save(_float_model(), str(paths["float"]))
    quantize_dynamic(
        str(paths["float"]),
        str(paths["int8"]),
        op_types_to_quantize=["Conv", "MatMul", "LSTM"],
        weight_type=QuantType.QUInt8,
        per_channel=True,
    )
    quantised = onnx.load(str(paths["int8"]))
    assert {n.op_type for n in quantised.graph.node} >= {
        "ConvInteger",
        "MatMulInteger",
        "DynamicQuantizeLSTM",
    }
    dequantize(quantised)
    onnx.save(quantised, str(paths["dequantised"]))
    return paths


def _run(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {"x": x})[0])


def test_dequantised_graph_has_only_float_operators(graphs: dict[str, Path]) -> None:
    model = onnx.load(str(graphs["dequantised"]))
    onnx.checker.check_model(model)
    assert not INTEGER_OPS & {n.op_type for n in model.graph.node}


def test_dequantised_graph_computes_the_float_network_with_int8_weights(graphs: dict[str, Path]) -> None:
    x = np.random.default_rng(1).normal(0, 1, (1, 4, 50)).astype(np.float32)
    reference, int8, dequantised = (_run(graphs[k], x) for k in ("float", "int8", "dequantised"))
    scale = float(np.abs(reference).max())
    # only the weights' 8-bit rounding remains: closer to the float network than the int8 graph,
    # whose activations are rounded too, and close in absolute terms
    assert np.abs(dequantised - reference).max() < 0.05 * scale
    assert np.abs(dequantised - reference).mean() < np.abs(int8 - reference).mean()


def test_choose_runtime() -> None:
    amx = frozenset({"avx512f", "amx_bf16", "amx_tile"})
    avx2 = frozenset({"avx2", "fma"})
    assert choose_runtime("auto", flags=amx, has_openvino=True) == "openvino"
    assert choose_runtime("auto", flags=amx, has_openvino=False) == "onnxruntime"
    assert choose_runtime("auto", flags=avx2, has_openvino=True) == "onnxruntime"
    assert choose_runtime("onnxruntime", flags=amx, has_openvino=True) == "onnxruntime"
    assert choose_runtime("openvino", flags=avx2, has_openvino=True) == "openvino"
    with pytest.raises(EngineUnavailable, match=r"voxclone\[openvino\]"):
        choose_runtime("openvino", flags=amx, has_openvino=False)
    with pytest.raises(ValueError, match="expected auto"):
        choose_runtime("tensorrt", flags=amx, has_openvino=True)


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: X\nflags\t\t: fpu avx2 amx_bf16\n\nprocessor\t: 1\n")
    assert cpu_flags(info) == {"fpu", "avx2", "amx_bf16"}
    assert cpu_flags(tmp_path / "missing") == frozenset()


def test_openvino_session_matches_onnxruntime_under_concurrent_runs(graphs: dict[str, Path]) -> None:
    pytest.importorskip("openvino")
    from voxclone.engines.kokoro.openvino_session import OpenVinoSession

    session = OpenVinoSession.compile(graphs["dequantised"], threads=1, streams=2, precision="f32")
    assert [p.name for p in session.get_inputs()] == ["x"]
    inputs = [np.random.default_rng(i).normal(0, 1, (1, 4, 20 + 7 * i)).astype(np.float32) for i in range(6)]
    expected = [_run(graphs["dequantised"], x) for x in inputs]
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(3):
            results[i] = session.run(["y"], {"x": inputs[i]})[0]

    # daemon threads joined with a timeout: a deadlock in the binding fails the test instead of
    # hanging the suite (the first runs of a process once deadlocked here, see OpenVinoSession)
    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "concurrent OpenVINO runs deadlocked"
    for i, want in enumerate(expected):
        assert results[i].shape == want.shape  # each run got its own input's answer back
        np.testing.assert_allclose(results[i], want, atol=1e-4 * float(np.abs(want).max()))


def _speaks_like(model: KokoroModel, reference: KokoroModel) -> None:
    """``model`` renders a sentence as ``reference`` does: durations, length and level."""
    tokens = reference.tokenize("ðə lˈaɪthaʊs kˈipɚ ɹˈoʊt ə ʃˈɔːɹt nˈoʊt.")
    style = np.asarray(assets.voice_packs()["jf_alpha"][len(tokens), 0], np.float32)
    audio, frames = model.infer_timed(tokens, style)
    ref_audio, ref_frames = reference.infer_timed(tokens, style)
    assert np.all(np.isfinite(audio)) and frames.sum() == audio.size
    # the same durations to within a frame for most tokens (the int8 graph rounds activations)
    assert np.mean(np.abs(frames - ref_frames) <= 600) > 0.8
    assert abs(audio.size - ref_audio.size) < 0.1 * ref_audio.size
    rms, ref_rms = float(np.sqrt(np.mean(audio**2))), float(np.sqrt(np.mean(ref_audio**2)))
    assert 0.7 < rms / ref_rms < 1.4


def test_kokoro_float_graph_speaks_like_the_int8_graph(kokoro_model: KokoroModel, kokoro_cache: Path) -> None:
    """The rewrite on the real graph (its integer bias path included), run by ONNX Runtime."""
    float_path = assets.float_model_path(kokoro_cache)
    assert assets.float_model_path(kokoro_cache) == float_path  # built once, then reused
    assert not INTEGER_OPS & {n.op_type for n in onnx.load(str(float_path)).graph.node}
    _speaks_like(KokoroModel.from_session(ort.InferenceSession(str(float_path))), kokoro_model)


def test_integer_phase_keeps_the_voice_and_sums_in_integers(
    kokoro_model: KokoroModel, kokoro_cache: Path, tmp_path: Path
) -> None:
    float_path = assets.float_model_path(kokoro_cache)
    sums = {n.input[0]: n for n in onnx.load(str(float_path)).graph.node if n.op_type == "CumSum"}
    assert "phase_steps" in sums  # the source's phase is summed from int32 steps ...
    assert not any("l_sin_gen/Transpose_1" in name for name in sums)  # ... and no longer in float
    stock = onnx.load(str(assets.model_path(kokoro_cache)))
    dequantize(stock)
    onnx.save(stock, str(tmp_path / "float-phase.onnx"))
    before = KokoroModel.from_session(ort.InferenceSession(str(tmp_path / "float-phase.onnx")))
    after = KokoroModel.from_session(ort.InferenceSession(str(float_path)))
    tokens = kokoro_model.tokenize("ðə lˈaɪthaʊs kˈipɚ ɹˈoʊt ə ʃˈɔːɹt nˈoʊt.")
    style = np.asarray(assets.voice_packs()["jf_alpha"][len(tokens), 0], np.float32)
    (audio, frames), (ref_audio, ref_frames) = (
        after.infer_timed(tokens, style),
        before.infer_timed(tokens, style),
    )
    np.testing.assert_array_equal(frames, ref_frames)  # only the source's phase changed
    f0, ref_f0 = median_f0(audio, 24000), median_f0(ref_audio, 24000)
    assert abs(f0 / ref_f0 - 1) < 0.03
    rms, ref_rms = float(np.sqrt(np.mean(audio**2))), float(np.sqrt(np.mean(ref_audio**2)))
    assert 0.8 < rms / ref_rms < 1.25


def test_integer_phase_needs_kokoros_sine_generator(graphs: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="sine generator"):
        integer_phase(onnx.load(str(graphs["dequantised"])))


def test_kokoro_on_openvino_speaks_like_onnxruntime(kokoro_model: KokoroModel, kokoro_cache: Path) -> None:
    pytest.importorskip("openvino")
    model = KokoroModel.from_cache(kokoro_cache, threads=1, runtime="openvino")
    assert model.runtime == "openvino" and kokoro_model.runtime == "onnxruntime"
    _speaks_like(model, kokoro_model)


def test_health_names_the_runtime(kokoro_engine: Any) -> None:
    assert kokoro_engine.info()["runtime"] == "onnxruntime"  # the suite pins it (tests/conftest.py)
