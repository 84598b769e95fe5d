"""Fold decoded audio blocks into bounded mono audio as they arrive.

The decoders (:mod:`voxclone.audio.decode`) hand over one block at a time; nothing sized by the
file's own claims (channels x rate x duration) is ever held whole. Each block is checked for
NaN/inf, measured for the quality report's peak and clipping figures (all channels, source rate),
mixed to mono and resampled to at most :data:`MAX_OUTPUT_RATE` by a streaming resampler. Memory
is the kept mono audio (at most ``max_frames`` at the output rate) plus one block.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from voxclone.audio.quality import PeakMeter

MAX_OUTPUT_RATE = 48_000
"""Hz. Higher source rates are resampled to this while decoding (speech needs far less)."""

CANCEL_RATIO = 0.1
"""A channel mean holding under this share of the channels' power is cancelling (phase-inverted)."""


class Mixdown:
    """Accumulate ``[channels, frames]`` float32 blocks at ``sample_rate`` into mono audio.

    Parameters
    ----------
    sample_rate : int
        Source rate in Hz.
    channels : int
        Source channel count (>= 1).
    max_frames : int
        Source frames to keep; later frames are dropped and :attr:`dropped` is set.
    max_output_rate : int
        The output rate is ``min(sample_rate, max_output_rate)`` Hz.

    Notes
    -----
    Channels are averaged unless the running average cancels most of their power (a
    phase-inverted channel), in which case the loudest channel so far is used alone, as
    :func:`voxclone.audio.decode.to_mono` does for a whole clip.
    """

    def __init__(
        self, *, sample_rate: int, channels: int, max_frames: int, max_output_rate: int = MAX_OUTPUT_RATE
    ):
        self.sample_rate = sample_rate
        self.channels = channels
        self.max_frames = max(0, max_frames)
        self.output_rate = min(sample_rate, max_output_rate)
        self.frames = 0
        self.dropped = False
        self.nonfinite = False
        self.meter = PeakMeter()
        self._power = np.zeros(channels, np.float64)
        self._mix_power = 0.0
        self._single: int | None = None
        self._parts: list[np.ndarray] = []
        self._resampler: Any = None
        if self.output_rate != sample_rate:
            import av

            self._resampler = av.AudioResampler(format="flt", layout="mono", rate=self.output_rate)

    @property
    def full(self) -> bool:
        """True once ``max_frames`` source frames were taken."""
        return self.frames >= self.max_frames

    def add(self, block: np.ndarray) -> None:
        """Take a ``[channels, frames]`` block (frames past ``max_frames`` are dropped)."""
        room = self.max_frames - self.frames
        if block.shape[1] > room:
            block = block[:, :room]
            self.dropped = True
        if block.shape[1] == 0:
            return
        block = np.asarray(block, np.float32)
        if not np.isfinite(block).all():
            block = np.nan_to_num(block, nan=0.0, posinf=1.0, neginf=-1.0)
            self.nonfinite = True
        self.meter.add(block)
        self.frames += block.shape[1]
        self._keep(self._mix(block))

    def _mix(self, block: np.ndarray) -> np.ndarray:
        if block.shape[0] == 1:
            return block[0]
        mix = block.mean(axis=0, dtype=np.float32)
        self._power += np.square(block).sum(axis=1, dtype=np.float64)
        self._mix_power += float(np.square(mix).sum(dtype=np.float64))
        if self._mix_power < CANCEL_RATIO * float(self._power.mean()):
            if self._single is None:  # stays put, so the polarity never flips mid-clip
                self._single = int(np.argmax(self._power))
            return block[self._single]
        self._single = None
        return mix

    def _keep(self, mono: np.ndarray) -> None:
        if self._resampler is None:
            self._parts.append(np.array(mono, np.float32))
            return
        import av

        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(mono, np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = self.sample_rate
        self._take(self._resampler.resample(frame))

    def _take(self, frames: list[Any]) -> None:
        for frame in frames:
            self._parts.append(np.asarray(frame.to_ndarray(), np.float32).reshape(-1))

    def finish(self) -> np.ndarray:
        """The mono float32 audio at :attr:`output_rate` (flushes the resampler; call once)."""
        if self._resampler is not None:
            self._take(self._resampler.resample(None))
            self._resampler = None
        audio = np.concatenate(self._parts) if self._parts else np.zeros(0, np.float32)
        self._parts = []
        return audio
