"""Turn Kokoro's dynamically quantised int8 graph into a float graph for runtimes that win in float.

The shipped model was quantised with ONNX Runtime's dynamic quantisation: weights are int8 with a
scale and zero point, activations are quantised at run time (``DynamicQuantizeLinear``) and fed to
``ConvInteger`` / ``MatMulInteger`` / ``DynamicQuantizeLSTM``. OpenVINO on a CPU with AMX runs the
same network in bfloat16 at half the CPU time of ONNX Runtime's int8 kernels (``docs/performance.md``),
but it needs float operators. This rewrite keeps the int8 *weights* exactly and drops the activation
quantisation:

- ``DynamicQuantizeLinear(x)`` becomes ``x`` itself with scale 1 and zero point 0, so the scale
  products downstream reduce to the weight scales;
- ``ConvInteger`` / ``MatMulInteger`` become ``Conv`` / ``MatMul`` on ``w_q - w_zero_point`` (whole
  numbers in ``[-255, 255]``, stored as float16, exact), and the graph's own ``Mul`` by the scale
  product then gives ``w_scale * (w_q - w_zp)``, the dequantised weight;
- the integer bias path (``Floor(bias / scale)`` cast to int32) stays in float, unrounded;
- ``DynamicQuantizeLSTM`` becomes a standard ``LSTM`` with dequantised float32 weights.

The result computes what the int8 graph approximates, without its activation rounding.

:func:`integer_phase` then makes the harmonic source exact in any float precision: the stock graph
sums the sine source's phase with a float ``CumSum`` (cycles grow with the chunk's length), which in
bfloat16 (8-bit mantissas) is off by whole radians within a second and garbles the voice. The
rewrite sums fixed-point increments in int32 and wraps them to one cycle before they become float.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from onnx import GraphProto, ModelProto, NodeProto

DEQUANTIZE_EDITS = "float-v1+phase-v1"  # part of the cache stamp: bump when the rewrites change
_SINE_GEN = "/decoder/decoder/generator/m_source/l_sin_gen/"
_PHASE_BITS = 16  # fixed-point fraction of a cycle: 1/65536 per sample, wrapping every cycle


def dequantize(model: ModelProto) -> None:
    """Rewrite a dynamically quantised ``onnx.ModelProto`` in float operators, in place.

    Raises
    ------
    ValueError
        An integer operator's weight is not a constant (not the dynamic quantiser's output).
    """
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    consts = {i.name: i for i in graph.initializer}

    def const(name: str) -> np.ndarray:
        if name not in consts:
            raise ValueError(f"{name} is not a constant: not a dynamically quantised graph")
        return numpy_helper.to_array(consts[name])

    consumers: dict[str, list[NodeProto]] = {}
    producers = {out: node for node in graph.node for out in node.output}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    added: dict[str, np.ndarray] = {}
    nodes: list[NodeProto] = []
    float_bias: set[str] = set()
    for node in graph.node:
        if node.op_type == "DynamicQuantizeLinear":
            quantised, scale, zero_point = node.output
            nodes.append(helper.make_node("Identity", [node.input[0]], [quantised]))
            added[scale] = np.array(1.0, np.float32)
            added[zero_point] = np.array(0.0, np.float32)
        elif node.op_type in ("ConvInteger", "MatMulInteger"):
            x, w_name, _x_zero, w_zero = node.input
            weight = _shifted_weight(const(w_name), const(w_zero), conv=node.op_type == "ConvInteger")
            float_name = f"{w_name}_float16"
            if float_name not in added:  # a weight shared by several operators is cast once
                added[float_name] = weight
                cast = helper.make_node("Cast", [float_name], [f"{float_name}_cast"], to=TensorProto.FLOAT)
                nodes.append(cast)
            op = "Conv" if node.op_type == "ConvInteger" else "MatMul"
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            nodes.append(helper.make_node(op, [x, f"{float_name}_cast"], list(node.output), **attrs))
            float_bias.update(_integer_bias_casts(node, consumers, producers))
        elif node.op_type == "DynamicQuantizeLSTM":
            nodes.append(_float_lstm(node, const, added))
        else:
            nodes.append(node)
    for node in nodes:
        if node.op_type == "Cast" and node.output[0] in float_bias:
            for attr in node.attribute:
                if attr.name == "to":
                    attr.i = TensorProto.FLOAT
        feeds = consumers.get(node.output[0], [])
        if node.op_type == "Floor" and any(c.output[0] in float_bias for c in feeds):
            node.op_type = "Identity"  # no rounding of the bias in float
    del graph.node[:]
    graph.node.extend(nodes)
    kept = [i for i in graph.initializer if i.name not in added]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in added.items())
    used = {name for node in graph.node for name in node.input} | {o.name for o in graph.output}
    unused = [i for i in graph.initializer if i.name not in used]
    for init in unused:
        graph.initializer.remove(init)
    del graph.value_info[:]  # shapes inferred for integer tensors no longer hold


def _shifted_weight(weight: np.ndarray, zero_point: np.ndarray, *, conv: bool) -> np.ndarray:
    """``weight - zero_point`` as float16 (exact: whole numbers within ±255)."""
    shifted = weight.astype(np.int32)
    zp = zero_point.astype(np.int32)
    if zp.ndim and conv:  # per output channel: [out] against [out, in, k...]
        zp = zp.reshape(-1, *([1] * (weight.ndim - 1)))
    return (shifted - zp).astype(np.float16)


def _integer_bias_casts(
    node: NodeProto, consumers: dict[str, list[NodeProto]], producers: dict[str, NodeProto]
) -> set[str]:
    """Outputs of the int32 ``Cast`` nodes that quantise the bias added to ``node``'s result."""
    found: set[str] = set()
    for add in consumers.get(node.output[0], []):
        if add.op_type != "Add":
            continue
        for other in add.input:
            producer = producers.get(other)
            while producer is not None and producer.op_type in ("Reshape", "Unsqueeze"):
                producer = producers.get(producer.input[0])
            if producer is not None and producer.op_type == "Cast":
                found.add(producer.output[0])
        for cast in consumers.get(add.output[0], []):
            if cast.op_type == "Cast":  # the int32 sum cast to float: float already
                found.add(cast.output[0])
    return found


def _float_lstm(
    node: NodeProto, read: Callable[[str], np.ndarray], added: dict[str, np.ndarray]
) -> NodeProto:
    """A standard ``LSTM`` for a ``DynamicQuantizeLSTM`` node (weights dequantised, transposed)."""
    from onnx import helper

    names = list(node.input) + [""] * (12 - len(node.input))
    x, w_q, r_q, bias, lengths, h0, c0, peep, w_scale, w_zero, r_scale, r_zero = names

    def dequantised(q: str, scale: str, zero: str) -> np.ndarray:
        weight = read(q).astype(np.float32)
        # per direction ([directions]) or per direction and output column ([directions, 4 * hidden])
        shape = (weight.shape[0], 1, -1)
        s = read(scale).astype(np.float32).reshape(shape)
        z = read(zero).astype(np.float32).reshape(shape)
        # [directions, input, 4 * hidden] → ONNX LSTM's [directions, 4 * hidden, input]
        return np.ascontiguousarray(((weight - z) * s).transpose(0, 2, 1))

    added[f"{w_q}_float"] = dequantised(w_q, w_scale, w_zero)
    added[f"{r_q}_float"] = dequantised(r_q, r_scale, r_zero)
    attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
    inputs = [x, f"{w_q}_float", f"{r_q}_float", bias, lengths, h0, c0, peep]
    while inputs and not inputs[-1]:
        inputs.pop()
    return helper.make_node("LSTM", inputs, list(node.output), **attrs)


def integer_phase(model: ModelProto) -> None:
    """Compute Kokoro's harmonic-source phase as an int32 running sum, in place.

    The stock sine generator takes the per-sample phase increments ``x`` (cycles, ``[1, 9, samples]``
    for the 9 harmonics), averages them per frame, sums them over frames in float, scales by 2π and
    the 300 samples of a frame, and interpolates back to samples before ``Sin``. Here the increments
    are summed per sample in fixed point (``round(x · 2**16)``, int32, wrapping harmlessly) and reduced
    modulo one cycle before the conversion to radians: the same frequencies, with a phase that
    carries no error whatever the float precision. (Linear interpolation of the frame sums and a
    per-sample sum differ by where within a frame the frequency steps: under half a frame.)

    Raises
    ------
    ValueError
        The graph has no Kokoro sine generator (not the Kokoro-82M v1.0 export).
    """
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    increments = f"{_SINE_GEN}Sub"  # frac(f0 · harmonic / sample rate), [1, 9, samples]
    sines = [n for n in graph.node if n.op_type == "Sin" and n.input[0] == f"{_SINE_GEN}Transpose_3_output_0"]
    if not sines or increments not in {o for n in graph.node for o in n.output}:
        raise ValueError("no Kokoro sine generator in this graph")
    sine = sines[0]
    one = 1 << _PHASE_BITS
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array(float(one), np.float32), "phase_one_cycle"),
            numpy_helper.from_array(np.array(one, np.int32), "phase_modulus"),
            numpy_helper.from_array(np.array(2 * np.pi / one, np.float32), "phase_to_radians"),
            numpy_helper.from_array(np.array(2, np.int64), "phase_time_axis"),
        ]
    )
    name = f"{_SINE_GEN}integer_phase/"
    nodes = [
        helper.make_node("Mul", [increments, "phase_one_cycle"], ["phase_fixed"], name=f"{name}Mul"),
        helper.make_node("Round", ["phase_fixed"], ["phase_rounded"], name=f"{name}Round"),
        helper.make_node(
            "Cast", ["phase_rounded"], ["phase_steps"], to=TensorProto.INT32, name=f"{name}Cast"
        ),
        helper.make_node("CumSum", ["phase_steps", "phase_time_axis"], ["phase_sum"], name=f"{name}CumSum"),
        helper.make_node("Mod", ["phase_sum", "phase_modulus"], ["phase_cycle"], fmod=0, name=f"{name}Mod"),
        helper.make_node(
            "Cast", ["phase_cycle"], ["phase_cycle_float"], to=TensorProto.FLOAT, name=f"{name}Cast_1"
        ),
        helper.make_node(
            "Mul", ["phase_cycle_float", "phase_to_radians"], ["phase_radians"], name=f"{name}Mul_1"
        ),
        helper.make_node(
            "Transpose", ["phase_radians"], ["phase_by_sample"], perm=[0, 2, 1], name=f"{name}T"
        ),
    ]
    at = list(graph.node).index(sine)
    for offset, node in enumerate(nodes):
        graph.node.insert(at + offset, node)
    sine.input[0] = "phase_by_sample"
    _drop_dead_nodes(graph)


def _drop_dead_nodes(graph: GraphProto) -> None:
    """Remove nodes none of whose outputs is used (the replaced float phase path)."""
    nodes = graph.node
    outputs = {o.name for o in graph.output}
    changed = True
    while changed:
        used = {name for node in nodes for name in node.input} | outputs
        dead = [node for node in nodes if node.output and not any(o in used for o in node.output)]
        for node in dead:
            nodes.remove(node)
        changed = bool(dead)
