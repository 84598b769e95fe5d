"""The embedded engine: Kokoro-82M int8 ONNX plus voxclone's multilingual text front-end.

Thread safety: one :class:`KokoroEngine` serves all requests. ``prepare``, ``stream``,
``generate``, ``enroll`` and ``similarity`` may run in several threads at once: the ONNX
Runtime sessions allow concurrent runs, the G2P back-ends are lock-guarded, the cloner is immutable,
and every stream keeps its own state (leveler, chunk iterator). The same request always yields the
same audio, alone or concurrently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from voxclone.audio.speaker import SpeakerEncoder
from voxclone.audio.tempo import change_tempo, split_speed
from voxclone.engines.base import (
    Capabilities,
    Engine,
    Limits,
    TimedChunk,
    Utterance,
    VoiceInfo,
    WordTiming,
    describe_error,
)
from voxclone.engines.kokoro import assets, profile, voices
from voxclone.engines.kokoro.cloning import KokoroCloner, cloner_of, selfcheck
from voxclone.engines.kokoro.frontend import KokoroFrontend, Prepared
from voxclone.engines.kokoro.level import Leveler, speech_bounds
from voxclone.engines.kokoro.model import (
    MAX_PITCH,
    MIN_PITCH,
    SAMPLE_RATE,
    KokoroModel,
    bounded,
)
from voxclone.engines.kokoro.openvino_session import choose_runtime, cpu_flags, openvino_installed
from voxclone.engines.kokoro.timing import ChunkEdits, WordAligner, WordEmitter, WordSpan
from voxclone.text import LANGUAGES
from voxclone.text.languages import ALIASES
from voxclone.voices.profile import VoiceProfile

if TYPE_CHECKING:
    from voxclone.settings import Settings

NATIVE_SPEED = (0.5, 2.0)  # what the model's duration predictor renders; WSOLA stretches the rest

Post = Callable[[np.ndarray], np.ndarray]
T = TypeVar("T")


@dataclass(frozen=True)
class _Plan:
    """A validated request: normalised text, the voice's style table and its post-stage."""

    prepared: Prepared
    styles: np.ndarray
    post: Post | None


class KokoroEngine(Engine):
    """Kokoro-82M speaking en-us, en-gb, es, fr, it, pt-br, hi and ja with every voice.

    Parameters
    ----------
    model : KokoroModel
        The loaded ONNX model (share one between engines in tests and benchmarks).
    frontend : KokoroFrontend, optional
        Text pipeline; built from the model's vocabulary by default.
    cloner : KokoroCloner, optional
        Voice cloning (enrollment, the post-synthesis stage of clones, the self-check's encoder).
        Without one the engine speaks built-in voices only: ``enroll``, ``similarity`` and clone
        profiles are refused with ``cloning_unavailable``. :meth:`from_settings` always builds one.
    """

    name = profile.ENGINE_NAME
    sample_rate = SAMPLE_RATE
    profile_version = profile.PROFILE_VERSION
    # 0.5-2.0 is rendered by the model's duration predictor, the rest by pitch-preserving WSOLA.
    limits = Limits(min_speed=0.25, max_speed=4.0)

    def __init__(
        self,
        model: KokoroModel,
        *,
        frontend: KokoroFrontend | None = None,
        cloner: KokoroCloner | None = None,
    ) -> None:
        self.model = model
        self.frontend = frontend or KokoroFrontend(model.vocab)
        self._packs = assets.voice_packs()
        self._cloner = cloner
        self._warm_up_audio: np.ndarray | None = None  # the warm-up's test word, for check()
        self.capabilities = Capabilities(
            cloning=cloner is not None, self_check=cloner is not None, timestamps=True, streaming="phrase"
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> KokoroEngine:
        """Assemble (first run) and load the model under ``settings.cache_dir()``, with its cloner.

        The cloner's speaker encoder (one ONNX session, one thread) is the process's only one:
        share it through :attr:`speaker_encoder` (e.g. with the reference intake).
        """
        runtime = choose_runtime(settings.runtime, flags=cpu_flags(), has_openvino=openvino_installed())
        model = KokoroModel.from_cache(
            settings.cache_dir(),
            threads=settings.resolved_onnx_threads(),
            runtime=runtime,
            streams=max(1, round(settings.parallel_jobs())),
        )
        cloner = KokoroCloner.from_package(encoder=SpeakerEncoder.from_package(threads=1))
        engine = cls(model, cloner=cloner)
        engine.warm_up()
        return engine

    @property
    def cloner(self) -> KokoroCloner | None:
        """The cloning part this engine was built with (``None``: built-in voices only)."""
        return self._cloner

    def info(self) -> dict[str, object]:
        """The base facts and the inference runtime (``onnxruntime`` or ``openvino``)."""
        return {**super().info(), "runtime": self.model.runtime}

    @property
    def speaker_encoder(self) -> SpeakerEncoder | None:
        """The cloner's d-vector encoder, to share (one per process); ``None`` without a cloner."""
        return self._cloner.encoder if self._cloner is not None else None

    def warm_up(self) -> None:
        """Speak the start-up test word (loading the default G2P back-end and running one tiny
        inference) so the first request is fast. The next :meth:`check` reuses this render rather
        than speaking the word again."""
        self._warm_up_audio = super().speak_test_word()

    def speak_test_word(self) -> np.ndarray:
        """The warm-up's render when it is not used yet (start-up speaks once), else a new one."""
        audio, self._warm_up_audio = self._warm_up_audio, None
        return audio if audio is not None else super().speak_test_word()

    def check(self) -> dict[str, str | None]:
        """Synthesis (the ONNX Runtime session and espeak-ng speak a word) and cloning (the
        enrollment resources load and WORLD runs); see :meth:`Engine.check`."""
        result = super().check()
        if self._cloner is None:
            result["cloning"] = "this engine was built without its cloning part (KokoroCloner)"
            return result
        try:
            self._cloner.check()
        except Exception as e:  # a probe: any failure is the capability's reason, reported at start
            result["cloning"] = describe_error(e)
        return result

    # -- voices -------------------------------------------------------------------------------

    def languages(self) -> tuple[str, ...]:
        return tuple(LANGUAGES)

    def language_aliases(self) -> Mapping[str, str]:
        return ALIASES

    def builtin_voices(self) -> list[VoiceInfo]:
        return [v.info() for v in voices.BUILTIN_VOICES]

    def builtin_profile(self, voice_id: str) -> VoiceProfile:
        return voices.builtin_profile(voice_id, self._packs)

    def check_profile(self, voice: VoiceProfile) -> None:
        """Refuse a profile this engine cannot speak with (``synthesize`` runs the same check).

        Raises
        ------
        ProfileOutdated
            ``voice_outdated`` (409): a Kokoro profile older than :attr:`profile_version`; re-enroll
            it from its reference audio (:meth:`enroll`).
        InvalidRequest
            ``incompatible_voice``: another engine's profile, a newer version, or no style.
        Unprocessable
            ``cloning_unavailable``: a clone, and this engine was built without a cloner.
        """
        profile.check(voice)
        if KokoroCloner.applies_to(voice):
            cloner_of(self)  # a clone needs the post-stage: never render it without

    def enroll(self, audio: np.ndarray, sample_rate: int) -> VoiceProfile:
        """Clone a voice from a prepared reference (see :meth:`KokoroCloner.enroll`).

        Raises
        ------
        Unprocessable
            ``reference_too_short``, or ``cloning_unavailable`` without a cloner.
        """
        return cloner_of(self).enroll(audio, sample_rate)

    def self_check(
        self,
        profile: VoiceProfile,
        reference: np.ndarray,
        sample_rate: int,
        *,
        held_out: np.ndarray | None = None,
    ) -> float | None:
        """The calibrated self-check of a new clone (see :meth:`similarity`)."""
        return round(float(self.similarity(profile, reference, sample_rate, held_out=held_out)), 4)

    def similarity(
        self,
        voice: VoiceProfile,
        reference_audio: np.ndarray,
        sample_rate: int,
        *,
        held_out: np.ndarray | None = None,
    ) -> float:
        """Self-check of a clone against its prepared reference, 0 (a stranger) to 1 (the speaker).

        Renders a fixed test sentence (see :mod:`~voxclone.engines.kokoro.cloning.selfcheck`).

        Raises
        ------
        Unprocessable
            ``cloning_unavailable`` without a cloner.
        """
        return selfcheck.similarity(self, voice, reference_audio, sample_rate, held_out=held_out)

    # -- synthesis ----------------------------------------------------------------------------

    def _plan(self, text: str, voice: VoiceProfile, language: str | None) -> _Plan:
        """Check the voice and normalise the text (cheap; no inference).

        Raises
        ------
        InvalidRequest
            ``empty_text`` (nothing speakable) or ``incompatible_voice`` (a profile from another
            engine or a newer version).
        ProfileOutdated
            ``voice_outdated``: a Kokoro profile of an older version (see :meth:`check_profile`).
        Unprocessable
            ``cloning_unavailable``: a clone, and this engine was built without a cloner.
        """
        self.check_profile(voice)
        return _Plan(
            prepared=self.frontend.prepare(text, language=language),
            styles=profile.style_table(voice),
            post=self._post_stage(voice),
        )

    def stream(self, utterance: Utterance) -> Iterator[np.ndarray]:
        """Yield float32 24 kHz chunks, one phrase or sentence each, with the pause before it.

        ``speed`` is multiplied by the voice's own pace (``meta["pace"]``, set by some built-in
        voices); the model renders 0.5–2.0 itself and WSOLA stretches each chunk for the rest.
        """
        for audio, _, _ in self._render(utterance, None):
            yield audio

    def stream_timed(self, utterance: Utterance) -> Iterator[TimedChunk]:
        """:meth:`stream`'s chunks (the same audio) with the words each speaks, from the model's own
        phoneme durations (see :mod:`~voxclone.engines.kokoro.timing`).

        Every word of ``text_words(utterance.text)`` is reported once, in order; times are seconds
        from the start of the chunk (its leading pause included), within the chunk.
        """
        plan = _plan_of(utterance)
        language = plan.prepared.language
        aligner = WordAligner(
            utterance.text,
            language,
            lambda word: self.frontend.g2p.phonemize(word, language=language),
            self.frontend.vocab,
        )
        emitter = WordEmitter(aligner.words, self.sample_rate)
        for audio, found, last in self._render(utterance, aligner):
            assert found is not None  # an aligner was given
            spans, edits = found
            words = emitter.chunk(spans, edits, audio.size, last=last)
            yield TimedChunk(audio, tuple(WordTiming(w, s, e) for w, s, e in words))

    def _render(
        self, utterance: Utterance, aligner: WordAligner | None
    ) -> Iterator[tuple[np.ndarray, tuple[list[WordSpan], ChunkEdits] | None, bool]]:
        """``(audio, (spans, edits) or None, last)`` per chunk; spans only with an ``aligner``."""
        plan = _plan_of(utterance)
        native, tempo = split_speed(utterance.speed, native=NATIVE_SPEED)
        for audio, found, last in self._stream(
            plan.prepared, plan.styles, utterance.voice, native, plan.post, aligner, live=utterance.live
        ):
            scale = 1.0
            if abs(tempo - 1.0) > 1e-6 and audio.size:
                size = audio.size
                audio = change_tempo(audio, self.sample_rate, tempo)
                scale = audio.size / size
            if found is not None:
                spans, edits = found
                found = (spans, ChunkEdits(edits.trim, edits.post_scale, edits.pause, scale))
            yield audio, found, last

    def _post_stage(self, voice: VoiceProfile) -> Post | None:
        """The cloner's per-chunk stage for a clone; ``None`` for built-in voices."""
        cloner = self._cloner
        if cloner is None or not cloner.applies_to(voice):
            return None
        rate = self.sample_rate

        def post(audio: np.ndarray) -> np.ndarray:
            return cloner.postprocess(audio, voice, rate)

        return post

    def _stream(
        self,
        prepared: Prepared,
        styles: np.ndarray,
        voice: VoiceProfile,
        speed: float,
        post: Post | None,
        aligner: WordAligner | None = None,
        *,
        live: bool = False,
    ) -> Iterator[tuple[np.ndarray, tuple[list[WordSpan], ChunkEdits] | None, bool]]:
        leveler = Leveler(self.sample_rate)
        speed = speed * _pace(voice)
        pitch = _pitch(voice)
        for chunk, last in _with_last(self.frontend.chunks(prepared, live=live)):
            style = styles[min(len(chunk.tokens), len(styles)) - 1]
            found: tuple[list[WordSpan], ChunkEdits] | None = None
            if aligner is None:
                audio = self.model.infer(chunk.tokens, style, speed, pitch=pitch)
            else:
                audio, durations = self.model.infer_timed(chunk.tokens, style, speed, pitch=pitch)
            start, end = speech_bounds(audio, self.sample_rate)
            audio = audio[start:end]
            size = audio.size
            if post is not None:
                audio = post(audio)
            audio = leveler(audio)
            pause = round(chunk.pause_s / speed * self.sample_rate)
            if pause:
                audio = np.concatenate([np.zeros(pause, np.float32), audio])
            if aligner is not None:
                scale = (audio.size - pause) / size if size else 1.0
                found = (aligner.align(chunk, durations), ChunkEdits((start, end), scale, pause))
            yield audio, found, last

    # -- one phoneme string (tests, tools) -----------------------------------------------------

    def phonemize(self, text: str, language: str | None = None) -> str:
        """Kokoro phonemes of ``text`` (normalised; language detected when omitted)."""
        return self.frontend.phonemize(text, language=language)


def _plan_of(utterance: Utterance) -> _Plan:
    plan = utterance.plan
    if not isinstance(plan, _Plan):
        raise TypeError("stream() takes an Utterance made by this engine's prepare()")
    return plan


def _with_last(items: Iterator[T]) -> Iterator[tuple[T, bool]]:
    """``(item, is_last)`` pairs, looking one item ahead (chunks are cheap text; no inference)."""
    held: list[T] = []
    for item in items:
        if held:
            yield held.pop(), False
        held.append(item)
    if held:
        yield held.pop(), True


def _pace(voice: VoiceProfile) -> float:
    """The voice's own speed factor (built-in voices set it in ``meta["pace"]``), within 0.5–2.0."""
    try:
        pace = float(voice.meta.get("pace", 1.0))
    except (TypeError, ValueError):
        return 1.0
    return bounded(pace, *NATIVE_SPEED)


def _pitch(voice: VoiceProfile) -> float:
    """The voice's F0 factor (clones store it as the ``pitch`` tensor; 1.0 otherwise), within 0.5–2.0."""
    value = voice.tensors.get("pitch")
    if value is None:
        return 1.0
    pitch = float(np.asarray(value, np.float64).ravel()[0]) if np.size(value) else 1.0
    return bounded(pitch, MIN_PITCH, MAX_PITCH)
