"""Incremental DAC decoding: audio out while codes are still being generated.

DAC's decoder is convolutional, so a window of frames with enough context on both sides decodes
its middle exactly as a whole-utterance decode would. :class:`StreamingDecoder` decodes
overlapping windows ``[start - left, end + right)`` as frames arrive, keeps the middle, and
crossfades the joins over a short overlap so any residual edge difference leaves no seam.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class StreamingDecoder:
    """Turn a growing list of DAC frames into audio chunks.

    Parameters
    ----------
    decode : callable
        ``codes[n_codebooks, frames] -> float32 audio`` (sample ``i`` of frame window starting at
        frame ``a`` belongs at global sample ``a * hop + i``).
    hop : int
        Samples per frame (320 for 24 kHz DAC: 75 frames/s).
    chunk_frames : int
        New frames to collect before decoding the first window (25 = 1/3 s: first-audio latency).
    max_chunk_frames : int
        Later windows double in size up to this (75 = 1 s), which cuts the share of re-decoded
        context from 2.3x to 1.4x the audio.
    context_frames : int
        Frames of context decoded on each side of the kept part; at least the decoder's receptive
        field for an exact match (16 covers DAC's).
    crossfade_samples : int
        Length of the linear crossfade at each join.
    """

    def __init__(
        self,
        *,
        decode: Callable[[np.ndarray], np.ndarray],
        hop: int,
        chunk_frames: int = 25,
        max_chunk_frames: int = 75,
        context_frames: int = 16,
        crossfade_samples: int = 240,
    ):
        self._decode = decode
        self.hop = hop
        self.chunk_frames = chunk_frames
        self.max_chunk_frames = max(chunk_frames, max_chunk_frames)
        self.context = context_frames
        self.fade = crossfade_samples
        self._frames: list[np.ndarray] = []  # each [n_codebooks]
        self._emitted = 0  # global samples emitted (excluding the held-back tail)
        self._tail = np.zeros(0, np.float32)  # last ``fade`` samples decoded, not yet emitted

    def push(self, frame: np.ndarray) -> np.ndarray | None:
        """Add one frame of codes; return an audio chunk when a window is ready, else ``None``."""
        self._frames.append(np.asarray(frame, dtype=np.int64))
        ready = len(self._frames) - self.context
        if ready * self.hop - self._emitted - self.fade >= self.chunk_frames * self.hop:
            out = self._emit(upto_frame=ready, final=False)
            self.chunk_frames = min(2 * self.chunk_frames, self.max_chunk_frames)
            return out
        return None

    def flush(self) -> np.ndarray:
        """Decode everything left; call once when generation ends."""
        if not self._frames:
            return np.zeros(0, np.float32)
        return self._emit(upto_frame=len(self._frames), final=True)

    def _emit(self, *, upto_frame: int, final: bool) -> np.ndarray:
        first = max(0, self._emitted // self.hop - self.context - 1)
        last = len(self._frames) if final else min(len(self._frames), upto_frame + self.context)
        codes = np.stack(self._frames[first:last], axis=1)
        audio = self._decode(codes)
        base = first * self.hop
        stop = base + audio.shape[-1] if final else upto_frame * self.hop
        fresh_from = self._emitted  # the tail region is re-decoded and crossfaded
        new = audio[fresh_from - base : stop - base].astype(np.float32, copy=True)
        n = min(len(self._tail), len(new))
        if n:
            ramp = np.linspace(0.0, 1.0, n + 2, dtype=np.float32)[1:-1]
            new[:n] = self._tail[:n] * (1 - ramp) + new[:n] * ramp
        if final:
            out, self._tail = new, np.zeros(0, np.float32)
        else:
            keep = min(self.fade, len(new))
            out, self._tail = new[: len(new) - keep], new[len(new) - keep :]
        self._emitted += len(out)
        return out
