"""Run the Kokoro graph with OpenVINO in bfloat16: half the CPU time on CPUs with AMX.

ONNX Runtime runs the shipped int8 graph well on most CPUs. On CPUs with AMX (Intel Xeon since
Sapphire Rapids) OpenVINO runs the float form of the same graph (:mod:`.dequantize`) in bfloat16 on
the AMX tiles at about half the CPU time per audio second, for about 1.2 GB more memory
(``docs/performance.md``). :func:`choose_runtime` picks by the CPU; :class:`OpenVinoSession` has the
few methods of ``onnxruntime.InferenceSession`` that :class:`~.model.KokoroModel` calls, so the
model code does not know which runtime it has.

``openvino`` is optional: ``pip install 'voxclone[openvino]'``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from voxclone.errors import EngineUnavailable

Runtime = Literal["onnxruntime", "openvino"]
INSTALL_HINT = "pip install 'voxclone[openvino]'"


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The instruction-set flags of the first CPU in ``cpuinfo`` (empty where there is none)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def openvino_installed() -> bool:
    """Whether the ``openvino`` package can be imported."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def choose_runtime(requested: str, *, flags: frozenset[str], has_openvino: bool) -> Runtime:
    """The runtime for ``requested`` (``auto``, ``onnxruntime`` or ``openvino``).

    ``auto`` takes OpenVINO where it was measured to win (a CPU with ``amx_bf16``) and is
    installed, ONNX Runtime everywhere else.

    Raises
    ------
    EngineUnavailable
        ``openvino`` was asked for and is not installed.
    ValueError
        ``requested`` is none of the three.
    """
    if requested == "onnxruntime":
        return "onnxruntime"
    if requested == "openvino":
        if not has_openvino:
            raise EngineUnavailable(f"VOXCLONE_RUNTIME=openvino needs the openvino package: {INSTALL_HINT}")
        return "openvino"
    if requested == "auto":
        return "openvino" if has_openvino and "amx_bf16" in flags else "onnxruntime"
    raise ValueError(f"runtime {requested!r}: expected auto, onnxruntime or openvino")


@dataclass(frozen=True)
class _Port:
    """What ``InferenceSession.get_inputs()`` items offer that the model reads: the name."""

    name: str


class OpenVinoSession:
    """An OpenVINO compiled model behind the calls ``KokoroModel`` makes on an ONNX Runtime session.

    Thread-safe: each concurrent :meth:`run` takes an inference request of its own from a pool
    (one request runs one inference at a time).
    """

    def __init__(self, compiled: Any):
        self._compiled = compiled
        self._inputs = [_Port(p.get_any_name()) for p in compiled.inputs]
        self._outputs = [_Port(p.get_any_name()) for p in compiled.outputs]
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        # The first inference of a process initialises statics in OpenVINO's Python binding
        # (pybind11's numpy API handle); two threads doing that at once deadlock (seen in CI: both
        # stuck in the binding, one holding the once-flag and waiting for the GIL). So the first
        # run is made alone; later runs are concurrent.
        self._first_run = threading.Lock()
        self._warm = False

    @classmethod
    def compile(
        cls, path: Path, *, threads: int, streams: int = 1, precision: str = "bf16"
    ) -> OpenVinoSession:
        """Compile the float ONNX graph at ``path`` for the CPU.

        Parameters
        ----------
        path : Path
            A float graph (:func:`~.assets.float_model_path`); OpenVINO has no kernels for the
            int8 graph's dynamic quantisation worth using.
        threads : int
            Threads per inference, at least 1.
        streams : int
            Inferences that may run at once (each with ``threads`` threads), at least 1.
        precision : str
            OpenVINO's inference precision hint: ``bf16`` (AMX or AVX-512 BF16 CPUs) or ``f32``.
        """
        try:
            import openvino as ov
        except ImportError as e:
            raise EngineUnavailable(f"the OpenVINO runtime is not installed: {INSTALL_HINT}") from e
        core = ov.Core()
        config = {
            "INFERENCE_NUM_THREADS": max(1, threads) * max(1, streams),
            "NUM_STREAMS": max(1, streams),
            "INFERENCE_PRECISION_HINT": precision,
            # no kernels kept per input shape: every chunk length is a new shape, and the default
            # cache grew the process past 5 GB over 140 sentences (1.75 GB without, 4 % more CPU)
            "CPU_RUNTIME_CACHE_CAPACITY": 0,
        }
        return cls(core.compile_model(str(path), "CPU", config))

    def get_inputs(self) -> list[_Port]:
        return list(self._inputs)

    def get_outputs(self) -> list[_Port]:
        return list(self._outputs)

    def run(
        self, names: Sequence[str], feed: Mapping[str, np.ndarray], run_options: object = None
    ) -> list[np.ndarray]:
        """Outputs ``names`` for the inputs ``feed`` (``run_options``: ONNX Runtime's, ignored)."""
        if not self._warm:
            with self._first_run:
                if not self._warm:
                    outputs = self._run(names, feed)
                    self._warm = True
                    return outputs
        return self._run(names, feed)

    def _run(self, names: Sequence[str], feed: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        with self._lock:
            request = self._idle.pop() if self._idle else self._compiled.create_infer_request()
        try:
            results = request.infer(dict(feed))
            by_name = {port.get_any_name(): np.array(value) for port, value in results.items()}
        finally:
            with self._lock:
                self._idle.append(request)
        return [by_name[name] for name in names]
