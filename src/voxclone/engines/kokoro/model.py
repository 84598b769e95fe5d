"""Language-blind Kokoro-82M ONNX model: token ids + style vector + speed → 24 kHz audio."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np

from voxclone.engines.kokoro import assets
from voxclone.engines.kokoro.graph import DURATIONS_OUTPUT, PITCH_INPUT
from voxclone.engines.kokoro.openvino_session import OpenVinoSession, Runtime

SAMPLE_RATE = 24000
FRAME_SAMPLES = 600  # audio samples per duration frame (the decoder's upsampling), 25 ms at 24 kHz
MAX_TOKENS = 510  # the style pack has one row per token count up to 510, ids include 2 pads
STYLE_DIM = 256
MIN_PITCH = 0.5  # range of the graph's pitch factor the model renders cleanly (see ``infer``)
MAX_PITCH = 2.0


def bounded(factor: float, low: float, high: float) -> float:
    """``factor`` clipped to ``[low, high]``; 1.0 (no change) when it is not a finite number."""
    return min(max(factor, low), high) if np.isfinite(factor) else 1.0


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` (hands freed heap memory back to the OS), ``None`` elsewhere."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS)
        return None
    return cast(Callable[[int], int], trim)


class KokoroModel:
    """Runs the Kokoro ONNX graph. Thread-safe: ONNX Runtime sessions (and
    :class:`~.openvino_session.OpenVinoSession`) allow concurrent ``run``.

    Build with :meth:`from_cache` (assembles the model from the PyPI parts) or :meth:`from_session`
    to choose providers and threads yourself.
    """

    def __init__(self, session: Any, vocab: dict[str, int]):
        import onnxruntime as ort

        self.session = session
        self.vocab = vocab
        self.runtime: Runtime = "openvino" if isinstance(session, OpenVinoSession) else "onnxruntime"
        self.supports_pitch = any(i.name == PITCH_INPUT for i in session.get_inputs())
        outputs = [o.name for o in session.get_outputs()]
        self._audio_output = outputs[0]
        self.supports_durations = DURATIONS_OUTPUT in outputs
        # Return the CPU arena's free memory after every run: chunks vary in length, and a kept
        # arena grows with each new shape (measured peak RSS 703 MB → 487 MB on bench/engine.py's
        # workload). Read-only, so one RunOptions serves concurrent runs.
        self._run_options = ort.RunOptions()
        self._run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        # glibc keeps what ORT frees after a run in its heaps (one per thread), so peaks stack up over
        # requests: trimming after every run took bench/engine.py's peak RSS from 658 to 578 MB.
        self._trim_heap = _malloc_trim()

    @classmethod
    def from_session(cls, session: Any, vocab: dict[str, int] | None = None) -> KokoroModel:
        """Wrap an existing ``onnxruntime.InferenceSession``."""
        return cls(session, vocab if vocab is not None else assets.vocab())

    @classmethod
    def from_cache(
        cls,
        cache_dir: Path,
        *,
        threads: int = 0,
        providers: Sequence[str] | None = None,
        runtime: Runtime = "onnxruntime",
        streams: int = 1,
    ) -> KokoroModel:
        """Assemble (once) and load the model.

        Parameters
        ----------
        cache_dir : Path
            Where the joined ONNX file (and the float form OpenVINO runs) is kept.
        threads : int
            Threads per inference; 0 picks the machine's core count.
        providers : sequence of str, optional
            ONNX Runtime execution providers; default CPU.
        runtime : {"onnxruntime", "openvino"}
            ``openvino`` runs the float graph in bfloat16
            (:mod:`~voxclone.engines.kokoro.openvino_session`; choose with ``choose_runtime``).
        streams : int
            OpenVINO only: inferences that may run at once, each with ``threads`` threads.
        """
        threads = threads if threads > 0 else max(1, os.cpu_count() or 1)
        if runtime == "openvino":
            path = assets.float_model_path(cache_dir)
            return cls(OpenVinoSession.compile(path, threads=threads, streams=streams), assets.vocab())
        import onnxruntime as ort

        path = assets.model_path(cache_dir)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle intra-op threads sleep instead of spinning: on a shared CPU the spinning threads take cores
        # from the threads doing work (bench paragraph on the 2-core box, load ~3.7: first audio
        # 0.76 → 0.49 s, real-time factor 0.48 → 0.34).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # Grow the CPU arena by what is asked, not to the next power of two: peak RSS drops ~50 MB
        # (disabling the arena instead made glibc's heap balloon to 2 GB in measurements).
        default: list[Any] = [("CPUExecutionProvider", {"arena_extend_strategy": "kSameAsRequested"})]
        session = ort.InferenceSession(
            str(path), sess_options=opts, providers=list(providers) if providers else default
        )
        return cls(session, assets.vocab())

    def tokenize(self, phonemes: str) -> list[int]:
        """Map a phoneme string to token ids, dropping symbols the model does not know."""
        return [self.vocab[c] for c in phonemes if c in self.vocab]

    def infer(
        self, tokens: Sequence[int], style: np.ndarray, speed: float = 1.0, *, pitch: float = 1.0
    ) -> np.ndarray:
        """Synthesize one chunk.

        Parameters
        ----------
        tokens : sequence of int
            At most ``MAX_TOKENS - 2`` ids (pads are added here).
        style : numpy.ndarray
            float32 ``[256]`` style vector (timbre 0–127, prosody 128–255).
        speed : float
            Rate factor; 1.0 is the model's natural pace.
        pitch : float
            Factor on the predicted F0 curve (1.0 = the style's own pitch; callers keep it within
            ``MIN_PITCH``–``MAX_PITCH``). Needs the graph's
            ``pitch`` input (:mod:`~voxclone.engines.kokoro.graph`), which :meth:`from_cache` models
            have.

        Returns
        -------
        numpy.ndarray
            float32 mono audio at 24 kHz.
        """
        return self._run(tokens, style, speed, pitch, durations=False)[0]

    def infer_timed(
        self, tokens: Sequence[int], style: np.ndarray, speed: float = 1.0, *, pitch: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`infer` (the same audio) and how long each token is spoken.

        Returns
        -------
        tuple of numpy.ndarray
            The float32 24 kHz audio, and int64 ``[len(tokens) + 2]`` durations in samples, the
            leading and trailing pad included (multiples of :data:`FRAME_SAMPLES`; they sum to the
            audio's length).

        Raises
        ------
        ValueError
            The graph has no ``durations`` output (a model not loaded through :meth:`from_cache`).
        """
        if not self.supports_durations:
            raise ValueError(
                "this Kokoro graph has no durations output; load the model with KokoroModel.from_cache "
                "(or a session on assets.model_path) for word timestamps"
            )
        audio, frames = self._run(tokens, style, speed, pitch, durations=True)
        assert frames is not None  # asked for
        return audio, frames

    def _run(
        self, tokens: Sequence[int], style: np.ndarray, speed: float, pitch: float, *, durations: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        if len(tokens) > MAX_TOKENS - 2:
            raise ValueError(f"{len(tokens)} tokens exceed the model limit of {MAX_TOKENS - 2}")
        if not tokens:
            return np.zeros(0, np.float32), (np.zeros(0, np.int64) if durations else None)
        feed = {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": np.asarray(style, np.float32).reshape(1, STYLE_DIM),
            "speed": np.array([speed], dtype=np.float32),
        }
        if self.supports_pitch:
            feed[PITCH_INPUT] = np.array([pitch], dtype=np.float32)
        elif pitch != 1.0:
            raise ValueError(
                "this Kokoro graph has no pitch input; load the model with KokoroModel.from_cache "
                "(or a session on assets.model_path) to change pitch"
            )
        names = [self._audio_output, DURATIONS_OUTPUT] if durations else [self._audio_output]
        out = self.session.run(names, feed, self._run_options)
        if self._trim_heap is not None:
            self._trim_heap(0)
        audio = np.asarray(out[0], np.float32).ravel()
        if not durations:
            return audio, None
        return audio, np.asarray(out[1], np.int64).ravel() * FRAME_SAMPLES
