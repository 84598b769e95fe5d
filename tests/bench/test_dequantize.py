"""The int8 → float graph rewrite of the OpenVINO experiment (``bench/_dequantize.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from script_module import load_script

dequantize = load_script("bench/_dequantize.py", "_dequantize").dequantize

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
