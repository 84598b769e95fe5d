"""Edits to the Kokoro ONNX graph, applied once when the model is assembled.

``pitch`` input
    A float32 ``[1]`` factor multiplied into the F0 curve the prosody predictor hands to the decoder
    (``F0_proj`` output, Hz, one value per frame). The decoder's harmonic source and its F0
    features then follow the scaled curve, so speech comes out at the new pitch with the decoder's
    own excitation: no re-synthesis, no vocoder artefacts, no extra cost. Fed 1.0, the graph gives
    the stock model's output exactly. (A required input: an initializer as its default would make
    ONNX Runtime warn at every load and skip constant folding around it.)

``durations`` output
    The duration predictor's frames per token (int64 ``[1, tokens + 2]``, the two pads included), as
    the decoder uses them: one frame is 600 samples at 24 kHz (25 ms), already divided by
    ``speed``. Word timestamps come from it. An extra output only: the audio is unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voxclone.errors import EngineUnavailable

if TYPE_CHECKING:
    from onnx import ModelProto

PITCH_INPUT = "pitch"
DURATIONS_OUTPUT = "durations"
GRAPH_EDITS = "pitch-v1+durations-v1"  # part of the cache stamp: bump when the edits change
_DURATIONS_TENSOR = "/encoder/Cast_output_0"  # int64 frames per token (rounded, at least 1)
_F0_TENSOR = "/encoder/F0_proj/Conv_output_0"  # predicted F0 [1, 1, frames] before the squeeze


def add_pitch_input(model: ModelProto) -> None:
    """Add the ``pitch`` input to a loaded Kokoro ``onnx.ModelProto``, in place.

    Raises
    ------
    EngineUnavailable
        The graph is not the Kokoro-82M v1.0 export this was written for (no ``F0_proj`` output).
    """
    from onnx import TensorProto, helper

    graph = model.graph
    if any(i.name == PITCH_INPUT for i in graph.input):
        return
    consumers = [n for n in graph.node if _F0_TENSOR in n.input]
    if not consumers:
        raise EngineUnavailable(
            "the Kokoro model has no F0 projection output to scale; it is not the Kokoro-82M v1.0 "
            "export voxclone ships with (reinstall voxclone)"
        )
    scaled = "voxclone/f0_scaled"
    for node in consumers:
        node.input[list(node.input).index(_F0_TENSOR)] = scaled
    graph.input.append(helper.make_tensor_value_info(PITCH_INPUT, TensorProto.FLOAT, [1]))
    producer = next(i for i, n in enumerate(graph.node) if _F0_TENSOR in n.output)
    mul = helper.make_node("Mul", [_F0_TENSOR, PITCH_INPUT], [scaled], name="voxclone/pitch")
    graph.node.insert(producer + 1, mul)  # keeps the node list topologically sorted


def add_durations_output(model: ModelProto) -> None:
    """Add the ``durations`` output (frames per token) to a loaded Kokoro model, in place.

    Raises
    ------
    EngineUnavailable
        The graph has no integer duration tensor where the Kokoro-82M v1.0 export has it.
    """
    from onnx import TensorProto, helper

    graph = model.graph
    if any(o.name == DURATIONS_OUTPUT for o in graph.output):
        return
    producer = next((i for i, n in enumerate(graph.node) if _DURATIONS_TENSOR in n.output), None)
    if producer is None:
        raise EngineUnavailable(
            "the Kokoro model has no duration tensor to expose; it is not the Kokoro-82M v1.0 "
            "export voxclone ships with (reinstall voxclone)"
        )
    node = helper.make_node("Identity", [_DURATIONS_TENSOR], [DURATIONS_OUTPUT], name="voxclone/durations")
    graph.node.insert(producer + 1, node)
    graph.output.append(
        helper.make_tensor_value_info(DURATIONS_OUTPUT, TensorProto.INT64, ["batch", "tokens_and_pads"])
    )
