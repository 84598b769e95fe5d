"""The embedded engine: Kokoro-82M int8 ONNX plus voxclone's multilingual text front-end.

Thread safety: one :class:`KokoroEngine` serves all requests. ``synthesize``, ``generate``,
``render_phonemes`` and ``enroll`` may run in several threads at once: the ONNX Runtime session
allows concurrent runs, the G2P back-ends are lock-guarded, and every stream keeps its own state
(leveler, chunk iterator). The same request always yields the same audio, alone or concurrently.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from voxclone.engines.base import Engine, VoiceInfo, describe_error
from voxclone.engines.kokoro import assets, voices
from voxclone.engines.kokoro.frontend import KokoroFrontend, Prepared
from voxclone.engines.kokoro.level import Leveler, trim_silence
from voxclone.engines.kokoro.model import MAX_TOKENS, SAMPLE_RATE, STYLE_DIM, KokoroModel
from voxclone.errors import EngineUnavailable, InvalidRequest
from voxclone.text import LANGUAGES
from voxclone.voices.profile import VoiceProfile

if TYPE_CHECKING:
    from voxclone.settings import Settings

MIN_SPEED = 0.5
MAX_SPEED = 2.0
MIN_PITCH = 0.5
MAX_PITCH = 2.0


def _load_cloning() -> ModuleType | None:
    """The cloning package when it is installed; ``None`` only when it does not exist at all."""
    name = "voxclone.engines.kokoro.cloning"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name == name:
            return None
        raise


class KokoroEngine(Engine):
    """Kokoro-82M speaking en-us, en-gb, es, fr, it, pt-br, hi and ja with every voice.

    Parameters
    ----------
    model : KokoroModel
        The loaded ONNX model (share one between engines in tests and benchmarks).
    frontend : KokoroFrontend, optional
        Text pipeline; built from the model's vocabulary by default.
    """

    name = "kokoro"
    sample_rate = SAMPLE_RATE

    def __init__(self, model: KokoroModel, *, frontend: KokoroFrontend | None = None):
        self.model = model
        self.frontend = frontend or KokoroFrontend(model.vocab)
        self._packs = assets.voice_packs()
        self._cloning = _load_cloning()

    @classmethod
    def from_settings(cls, settings: Settings) -> KokoroEngine:
        """Assemble (first run) and load the model under ``settings.cache_dir()``."""
        engine = cls(KokoroModel.from_cache(settings.cache_dir(), threads=settings.onnx_threads))
        engine.warm_up()
        return engine

    def warm_up(self) -> None:
        """Load the default G2P back-end and run one tiny inference so the first request is fast."""
        style = self._packs[voices.BUILTIN_VOICES[0].mix[0][0]].reshape(-1, STYLE_DIM)
        self.render_phonemes(self.phonemize("Ready.", language=voices.DEFAULT_LANGUAGE), style)

    def check(self) -> dict[str, str | None]:
        """Synthesis (the ONNX Runtime session and espeak-ng speak a word) and cloning (the
        enrollment resources load and WORLD runs); see :meth:`Engine.check`."""
        result = super().check()
        if self._cloning is None:
            result["cloning"] = "this voxclone build has no cloning package; reinstall voxclone"
            return result
        try:
            self._cloning.check(self)
        except Exception as e:  # a probe: any failure is the capability's reason, reported at start
            result["cloning"] = describe_error(e)
        return result

    # -- voices -------------------------------------------------------------------------------

    def languages(self) -> tuple[str, ...]:
        return tuple(LANGUAGES)

    def builtin_voices(self) -> list[VoiceInfo]:
        return [v.info() for v in voices.BUILTIN_VOICES]

    def builtin_profile(self, voice_id: str) -> VoiceProfile:
        return voices.builtin_profile(voice_id, self._packs)

    def enroll(self, audio: np.ndarray, sample_rate: int) -> VoiceProfile:
        """Clone a voice from a prepared reference (see ``voxclone.engines.kokoro.cloning``)."""
        if self._cloning is None:
            raise EngineUnavailable(
                "voice cloning is not available in this build; reinstall voxclone", code="cloning_unavailable"
            )
        profile: VoiceProfile = self._cloning.enroll(self, audio, sample_rate)
        return profile

    # -- synthesis ----------------------------------------------------------------------------

    def synthesize(
        self,
        text: str,
        voice: VoiceProfile,
        *,
        language: str | None = None,
        speed: float = 1.0,
    ) -> Iterator[np.ndarray]:
        """Yield float32 24 kHz chunks; input is validated before the first chunk is asked for.

        ``speed`` is multiplied by the voice's own pace (``meta["pace"]``, set by some built-in
        voices; 1.0 otherwise).

        Raises
        ------
        InvalidRequest
            ``empty_text``, ``unsupported_language``, ``invalid_speed`` (outside 0.5–2.0) or
            ``incompatible_voice`` (a profile from another engine or version).
        """
        _check_speed(speed)
        styles = _styles(voice)
        prepared = self.frontend.prepare(text, language=language)
        return self._stream(prepared, styles, voice, speed)

    def _stream(
        self, prepared: Prepared, styles: np.ndarray, voice: VoiceProfile, speed: float
    ) -> Iterator[np.ndarray]:
        leveler = Leveler(self.sample_rate)
        post = self._postprocess()
        speed = speed * _pace(voice)
        pitch = _pitch(voice)
        for chunk in self.frontend.chunks(prepared):
            style = styles[min(len(chunk.tokens), len(styles)) - 1]
            audio = self.model.infer(chunk.tokens, style, speed, pitch=pitch)
            audio = trim_silence(audio, self.sample_rate)
            if post is not None:
                audio = np.asarray(post(audio, voice, self.sample_rate), np.float32)
            audio = leveler(audio)
            pause = round(chunk.pause_s / speed * self.sample_rate)
            if pause:
                audio = np.concatenate([np.zeros(pause, np.float32), audio])
            yield audio

    def _postprocess(self) -> Callable[[np.ndarray, VoiceProfile, int], np.ndarray] | None:
        fn = getattr(self._cloning, "postprocess", None) if self._cloning is not None else None
        return fn if callable(fn) else None

    # -- helpers for the cloning stage ---------------------------------------------------------

    def phonemize(self, text: str, language: str | None = None) -> str:
        """Kokoro phonemes of ``text`` (normalised; language detected when omitted)."""
        return self.frontend.phonemize(text, language=language)

    def render_phonemes(
        self, phonemes: str, style: np.ndarray, speed: float = 1.0, *, pitch: float = 1.0
    ) -> np.ndarray:
        """Render one phoneme string with a raw style, trimmed but not levelled.

        Parameters
        ----------
        phonemes : str
            Kokoro symbols, at most 508 tokens (see :meth:`phonemize`).
        style : numpy.ndarray
            ``[256]`` style vector, or a ``[510, 256]`` table (row picked by token count).
        speed : float
            0.5–2.0.
        pitch : float
            Factor on the model's F0 curve, 0.5–2.0 (1.0 = the style's own pitch).

        Returns
        -------
        numpy.ndarray
            float32 mono audio at :attr:`sample_rate`.
        """
        _check_speed(speed)
        _check_range("pitch", pitch, MIN_PITCH, MAX_PITCH)
        tokens = self.frontend.tokenize(phonemes)
        if len(tokens) > MAX_TOKENS - 2:
            raise InvalidRequest(
                f"{len(tokens)} phoneme tokens exceed the model limit of {MAX_TOKENS - 2}; split the text",
                code="text_too_long",
            )
        style = np.asarray(style, np.float32)
        if style.ndim == 2:
            style = style[max(0, min(len(tokens), style.shape[0]) - 1)]
        audio = self.model.infer(tokens, style.reshape(STYLE_DIM), speed, pitch=pitch)
        return trim_silence(audio, self.sample_rate)


def _check_speed(speed: float) -> None:
    _check_range("speed", speed, MIN_SPEED, MAX_SPEED)


def _check_range(name: str, value: float, low: float, high: float) -> None:
    """Reject a request factor outside ``[low, high]`` (or NaN) with the code ``invalid_<name>``."""
    if not (low <= value <= high):
        raise InvalidRequest(
            f"{name} {value} is outside the engine's range {low}–{high}", code=f"invalid_{name}"
        )


def _pace(voice: VoiceProfile) -> float:
    """The voice's own speed factor (built-in voices set it in ``meta["pace"]``), within 0.5–2.0."""
    try:
        pace = float(voice.meta.get("pace", 1.0))
    except (TypeError, ValueError):
        return 1.0
    return bounded(pace, MIN_SPEED, MAX_SPEED)


def _pitch(voice: VoiceProfile) -> float:
    """The voice's F0 factor (clones store it as the ``pitch`` tensor; 1.0 otherwise), within 0.5–2.0."""
    value = voice.tensors.get("pitch")
    if value is None:
        return 1.0
    pitch = float(np.asarray(value, np.float64).ravel()[0]) if np.size(value) else 1.0
    return bounded(pitch, MIN_PITCH, MAX_PITCH)


def bounded(factor: float, low: float, high: float) -> float:
    """``factor`` clipped to ``[low, high]``; 1.0 (no change) when it is not a finite number."""
    return min(max(factor, low), high) if np.isfinite(factor) else 1.0


def _styles(voice: VoiceProfile) -> np.ndarray:
    style = voice.tensors.get("style")
    if voice.engine != "kokoro" or voice.version != voices.PROFILE_VERSION or style is None:
        raise InvalidRequest(
            f"voice profile is for engine {voice.engine!r} version {voice.version}, not kokoro version "
            f"{voices.PROFILE_VERSION}; re-create the voice with this engine",
            code="incompatible_voice",
        )
    table = np.asarray(style, np.float32)
    if table.ndim == 1:
        table = table.reshape(1, STYLE_DIM)
    return table.reshape(-1, STYLE_DIM)
