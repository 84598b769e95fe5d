"""The cloning part the Kokoro engine is built with: enrollment and the post-synthesis stage.

:class:`KokoroCloner` owns what cloning needs (the speaker encoder, the anchor table, the voice
packs) as instance state and needs nothing from the engine: enrollment is closed-form, and the
post-stage reads only the chunk and the profile. The engine (``KokoroEngine.from_settings``) builds
one per process and shares its encoder with the reference intake; the similarity self-check,
which renders through the whole engine, reaches the cloner with :func:`cloner_of`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np

from voxclone.audio.speaker import SpeakerEncoder
from voxclone.engines.kokoro.cloning.enrollment import enroll
from voxclone.engines.kokoro.cloning.envelope import has_frames, limit_peak, transfer
from voxclone.engines.kokoro.cloning.styles import AnchorTable
from voxclone.engines.kokoro.model import STYLE_DIM
from voxclone.errors import Unprocessable
from voxclone.voices.profile import VoiceProfile

MIN_SAMPLES = 2048  # chunks shorter than this (~85 ms at 24 kHz) pass the post-stage unchanged


class KokoroCloner:
    """Voice cloning for Kokoro. Immutable after construction; safe to share between threads.

    Parameters
    ----------
    encoder : SpeakerEncoder
        The d-vector encoder (the one the anchor table was built with). Share one per process:
        the reference intake can use the same object.
    anchors : AnchorTable
        The style anchor table (:meth:`AnchorTable.load` gives the committed one).
    packs : Mapping[str, numpy.ndarray]
        The engine's voice packs by name, each ``[510, 1, 256]`` or ``[510, 256]``; every name in
        ``anchors.pack_names`` must be present.
    """

    def __init__(
        self, *, encoder: SpeakerEncoder, anchors: AnchorTable, packs: Mapping[str, np.ndarray]
    ) -> None:
        missing = [n for n in anchors.pack_names if n not in packs]
        if missing:
            raise ValueError(f"the anchor table needs voice packs {missing} that were not given")
        self._encoder = encoder
        self._anchors = anchors
        rows = [np.asarray(packs[n], np.float32).reshape(-1, STYLE_DIM) for n in anchors.pack_names]
        stacked = np.stack(rows)
        stacked.setflags(write=False)
        self._packs = stacked

    @classmethod
    def from_package(
        cls, *, encoder: SpeakerEncoder, packs: Mapping[str, np.ndarray] | None = None
    ) -> KokoroCloner:
        """The cloner with the committed anchor table and the shipped voice packs (unless given)."""
        if packs is None:
            from voxclone.engines.kokoro import assets

            packs = assets.voice_packs()
        return cls(encoder=encoder, anchors=AnchorTable.load(), packs=packs)

    def check(self) -> None:
        """Run WORLD's pitch and envelope analysis and the speaker encoder on a 0.5 s tone, so that a
        missing or broken native part fails at server start rather than at the first clone.

        Raises
        ------
        MissingDependency
            WORLD (``pyworld-prebuilt``) is missing or fails to import.
        Exception
            Whatever a broken part raises (a native library that fails to load).
        """
        from voxclone.engines.kokoro.cloning.features import ANALYSIS_RATE, world

        pw = world()
        t = np.arange(ANALYSIS_RATE // 2) / ANALYSIS_RATE
        tone = 0.3 * np.sin(2 * np.pi * 150.0 * t)
        f0, times = pw.dio(tone, ANALYSIS_RATE)
        envelope = pw.cheaptrick(tone, pw.stonemask(tone, f0, times, ANALYSIS_RATE), times, ANALYSIS_RATE)
        if not np.all(np.isfinite(envelope)):
            raise RuntimeError("WORLD's CheapTrick returned non-finite values for a test tone")
        embedding = self._encoder.embed(tone.astype(np.float32), ANALYSIS_RATE)
        if not np.all(np.isfinite(embedding)):
            raise RuntimeError("the speaker encoder returned non-finite values for a test tone")

    @property
    def encoder(self) -> SpeakerEncoder:
        """The speaker encoder (d-vectors of references, renders and the self-check)."""
        return self._encoder

    @property
    def anchors(self) -> AnchorTable:
        """The style anchor table."""
        return self._anchors

    @property
    def packs(self) -> np.ndarray:
        """Read-only ``[P, 510, 256]`` voice packs in ``anchors.pack_names`` order."""
        return self._packs

    def enroll(self, audio: np.ndarray, sample_rate: int) -> VoiceProfile:
        """Clone a voice from a prepared reference (deterministic; no synthesis).

        See :func:`~voxclone.engines.kokoro.cloning.enrollment.enroll` for the profile's contents.

        Raises
        ------
        Unprocessable
            ``reference_too_short`` for less than a second of audio.
        """
        return enroll(audio, sample_rate, encoder=self._encoder, anchors=self._anchors, packs=self._packs)

    @staticmethod
    def applies_to(profile: VoiceProfile) -> bool:
        """Whether :meth:`postprocess` changes chunks of ``profile`` (clones; not built-in voices)."""
        return has_frames(profile.tensors)

    def postprocess(self, audio: np.ndarray, profile: VoiceProfile, sample_rate: int) -> np.ndarray:
        """Move one synthesized chunk toward the cloned speaker's timbre (the envelope transfer).

        Chunk-local and deterministic: it reads only the chunk and the profile, so streamed chunks
        come out exactly like whole-file ones.

        Parameters
        ----------
        audio : numpy.ndarray
            float32 mono chunk as the model produced it.
        profile : VoiceProfile
            The voice it was rendered with.
        sample_rate : int
            Rate of ``audio`` in Hz (16 kHz or more).

        Returns
        -------
        numpy.ndarray
            float32 audio of the same length, peak at most 0.99; ``audio`` itself for profiles
            without transfer frames, chunks under ``MIN_SAMPLES`` and silence.
        """
        if not self.applies_to(profile) or audio.size < MIN_SAMPLES or not np.any(audio):
            return audio
        # the model's output can peak above 0.99: limited before the transfer as well as after
        x = limit_peak(np.asarray(audio, np.float64))
        return limit_peak(transfer(x, sample_rate, profile.tensors))


class ClonerHost(Protocol):
    """An engine built with a cloner (``None`` when it was built without one)."""

    @property
    def cloner(self) -> KokoroCloner | None: ...


def cloner_of(engine: ClonerHost) -> KokoroCloner:
    """The cloner ``engine`` was built with.

    Raises
    ------
    Unprocessable
        ``cloning_unavailable`` (422) when the engine was built without one.
    """
    cloner = engine.cloner
    if cloner is None:
        raise Unprocessable("voice cloning is not available in this build", code="cloning_unavailable")
    return cloner
