"""``OuteTTSEngine``: OuteTTS 1.0 behind voxclone's engine interface (``voxclone serve --engine outetts``).

Enrollment: reference → 24 kHz → word timings (faster-whisper or a given transcript) → −18 LUFS →
DAC codes sliced per word with features → OuteTTS speaker JSON inside a ``VoiceProfile``.
Synthesis: text chunks sized to the context → OuteTTS 1.0 prompt → sampled tokens → c1/c2 codes →
DAC decoded in overlapping windows as tokens arrive (streaming, which the library lacks).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from voxclone.audio.tempo import change_tempo
from voxclone.engines.base import Capabilities, Engine, Limits, Utterance, VoiceInfo
from voxclone.engines.openai_voices import aliases_by_gender
from voxclone.engines.outetts import prompt as P
from voxclone.engines.outetts.aligner import WhisperAligner, spread_transcript
from voxclone.engines.outetts.backend import LMBackend, generate_tokens
from voxclone.engines.outetts.features import normalize_loudness
from voxclone.engines.outetts.sampler import SamplerConfig
from voxclone.engines.outetts.speaker import (
    MAX_REFERENCE_S,
    PROFILE_VERSION,
    Word,
    build_speaker,
    profile_to_speaker,
    speaker_to_profile,
    validate_speaker,
)
from voxclone.engines.outetts.streaming import StreamingDecoder
from voxclone.engines.outetts.text import chunk_text
from voxclone.errors import EngineUnavailable, InvalidRequest, NotFound, Unprocessable
from voxclone.voices.profile import VoiceProfile

if TYPE_CHECKING:
    from voxclone.settings import Settings

SAMPLE_RATE = 24000
LANGUAGES = (
    "en",
    "ar",
    "zh",
    "nl",
    "fr",
    "de",
    "it",
    "ja",
    "ko",
    "lt",
    "ru",
    "es",
    "pt",
    "be",
    "bn",
    "ka",
    "hu",
    "lv",
    "fa",
    "pl",
    "sw",
    "ta",
    "uk",
)
# Output-length estimate used to size chunks: ~14 characters of speech per second, 150 code tokens
# per second plus word wrappers, rounded up.
TOKENS_PER_CHAR = 13
TOKENS_OVERHEAD = 64
FADE_SAMPLES = 360  # 15 ms at 24 kHz


class Codec(Protocol):
    """DAC as the engine uses it."""

    hop_length: int

    def encode(self, audio: np.ndarray) -> np.ndarray: ...

    def decode(self, codes: np.ndarray) -> np.ndarray: ...


class OuteTTSEngine(Engine):
    """OuteTTS 1.0 voice cloning.

    Parameters
    ----------
    backend : LMBackend
        Token-level language model (llama.cpp GGUF in production).
    codec : Codec
        DAC 24 kHz codec (2 codebooks, 75 frames/s).
    aligner : WhisperAligner, optional
        Word timestamps for :meth:`enroll`; without it only :meth:`enroll_with_transcript` works.
    speakers : dict, optional
        Built-in voices: id → OuteTTS speaker dict.
    sampler : SamplerConfig
        Sampling settings (OuteTTS defaults).
    max_new_tokens : int, optional
        Extra cap on generated tokens per text chunk (the context always caps it).
    seed : int
        Sampling seed; the same text and voice give the same audio.
    """

    name = "outetts"
    sample_rate = SAMPLE_RATE
    profile_version = PROFILE_VERSION
    # The model has no rate control: every speed other than 1.0 is one WSOLA stretch per text chunk.
    limits = Limits(min_speed=0.25, max_speed=4.0)
    # Word timings would need the codes' word wrappers mapped back to the text: not yet.
    capabilities = Capabilities(cloning=True, self_check=False, timestamps=False, streaming="frames")

    def __init__(
        self,
        *,
        backend: LMBackend,
        codec: Codec,
        aligner: WhisperAligner | None = None,
        speakers: dict[str, dict[str, Any]] | None = None,
        sampler: SamplerConfig | None = None,
        max_new_tokens: int | None = None,
        seed: int = 0,
        stream_chunk_frames: int = 25,
    ):
        self.backend = backend
        self.codec = codec
        self.aligner = aligner
        self.speakers = dict(speakers or {})
        self.sampler = sampler or SamplerConfig()
        self.max_new_tokens = max_new_tokens
        self.seed = seed
        self.stream_chunk_frames = stream_chunk_frames
        self._code_of: dict[int, tuple[int, int]] = {}
        for book, fmt in ((0, P.c1_token), (1, P.c2_token)):
            for i in range(P.CODEBOOK_SIZE):
                tid = backend.token_id(fmt(i))
                if tid is None:
                    raise EngineUnavailable(
                        f"the model vocabulary lacks {fmt(i)}; is this an OuteTTS-1.0 model?",
                        code="model_incompatible",
                    )
                self._code_of[tid] = (book, i)
        self._stop = {t for t in (backend.token_id(P.AUDIO_END), backend.token_id(P.EOS)) if t is not None}

    @classmethod
    def from_settings(cls, settings: Settings) -> OuteTTSEngine:
        """Load weights from ``settings.model_path`` (or the hub when no path is given and online)."""
        from voxclone.engines.outetts.backend import LlamaCppBackend
        from voxclone.engines.outetts.weights import download, find_local

        files = find_local(settings.model_path) if settings.model_path else download(settings.cache_dir())
        from voxclone.deps_optional import require

        torch = require("torch", extra="outetts")
        from voxclone.engines.outetts.dac import load_dac

        if settings.onnx_threads > 0:  # the same per-job thread budget as the ONNX engines
            torch.set_num_threads(settings.onnx_threads)

        backend: LMBackend
        if files.gguf is not None:
            backend = LlamaCppBackend(
                model_path=files.gguf,
                threads=settings.onnx_threads,
                n_gpu_layers=int(os.environ.get("VOXCLONE_OUTETTS_GPU_LAYERS", "-1")),
            )
        elif files.transformers_dir is not None:
            from voxclone.engines.outetts.hf_backend import TransformersBackend

            backend = TransformersBackend(model_dir=files.transformers_dir)
        else:
            raise EngineUnavailable("no OuteTTS language model found", code="model_missing")
        aligner = WhisperAligner(
            model=files.whisper or os.environ.get("VOXCLONE_OUTETTS_WHISPER", "large-v3-turbo")
        )
        return cls(
            backend=backend,
            codec=load_dac(files.dac, device=os.environ.get("VOXCLONE_OUTETTS_DAC_DEVICE", "auto")),
            aligner=aligner,
            speakers=load_speakers(files.speakers),
        )

    # -- voices -------------------------------------------------------------------------------
    def languages(self) -> tuple[str, ...]:
        return LANGUAGES

    def builtin_voices(self) -> list[VoiceInfo]:
        """The speaker files' voices, sorted by id; OpenAI's voice names are aliases of the first
        voice of their gender (the gender read from the id: ``en-female-1-neutral``)."""
        out = []
        for vid in sorted(self.speakers):
            lang = vid.split("-")[0] if vid.split("-")[0] in LANGUAGES else "en"
            gender = "female" if "female" in vid else "male" if "male" in vid else "unknown"
            out.append(
                VoiceInfo(
                    voice_id=vid,
                    name=vid.upper(),
                    language=lang,
                    gender=gender,
                    description="OuteTTS speaker profile",
                )
            )
        aliases = aliases_by_gender(out)
        return [replace(v, aliases=aliases[v.voice_id]) for v in out]

    def builtin_profile(self, voice_id: str) -> VoiceProfile:
        """Profile of a speaker file's voice, by id or alias (``meta["voice_id"]``: the id)."""
        vid = self.resolve_voice(voice_id)
        if vid is None:
            raise NotFound(f"no built-in OuteTTS voice {voice_id!r}", code="voice_not_found")
        return speaker_to_profile(self.speakers[vid], meta={"source": "builtin", "voice_id": vid})

    def enroll(self, audio: np.ndarray, sample_rate: int) -> VoiceProfile:
        """Clone from a reference (≤ 20 s): Whisper word timings, DAC codes per word, features."""
        if self.aligner is None:
            raise EngineUnavailable(
                "OuteTTS enrollment needs faster-whisper; install voxclone[outetts]", code="aligner_missing"
            )
        audio24 = self._reference(audio, sample_rate)
        text, words = self.aligner.align(audio24, SAMPLE_RATE)
        return self._profile(audio24, text, words, source="whisper")

    def enroll_with_transcript(self, audio: np.ndarray, sample_rate: int, *, transcript: str) -> VoiceProfile:
        """Clone from a reference whose transcript is known (no ASR; word times spread by length)."""
        audio24 = self._reference(audio, sample_rate)
        text, words = spread_transcript(transcript=transcript, audio=audio24, sample_rate=SAMPLE_RATE)
        return self._profile(audio24, text, words, source="transcript")

    def _reference(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        from voxclone.audio.speaker import resample

        x = np.asarray(audio, dtype=np.float32).reshape(-1)
        if x.size / sample_rate > MAX_REFERENCE_S:
            raise Unprocessable(
                f"OuteTTS references must be at most {MAX_REFERENCE_S:.0f} s; trim it",
                code="reference_too_long",
            )
        return x if sample_rate == SAMPLE_RATE else resample(x, sample_rate, SAMPLE_RATE)

    def _profile(self, audio24: np.ndarray, text: str, words: list[Word], *, source: str) -> VoiceProfile:
        codes = self.codec.encode(normalize_loudness(audio24, SAMPLE_RATE))
        speaker = build_speaker(audio=audio24, sample_rate=SAMPLE_RATE, text=text, words=words, codes=codes)
        return speaker_to_profile(
            speaker,
            meta={"source": source, "transcript": text, "duration_s": round(audio24.size / SAMPLE_RATE, 3)},
        )

    # -- synthesis ----------------------------------------------------------------------------
    def plan(self, text: str, speaker: dict[str, Any]) -> list[tuple[list[int], int]]:
        """Split ``text`` into ``(prompt_ids, max_new_tokens)`` pairs that fit the context."""
        return list(self.iter_plan(text, speaker))

    def iter_plan(self, text: str, speaker: dict[str, Any]) -> Iterator[tuple[list[int], int]]:
        """Lazy :meth:`plan`: the first chunk is ready before later ones are tokenised."""
        ctx = self.backend.context_length
        pending = chunk_text(text)
        while pending:
            chunk = pending.pop(0)
            ids = self.backend.tokenize(P.completion_prompt(text=chunk, speaker=speaker))
            need = len(chunk) * TOKENS_PER_CHAR + TOKENS_OVERHEAD
            words = chunk.split()
            if len(ids) + need > ctx and len(words) > 1:
                half = math.ceil(len(words) / 2)
                pending[:0] = [" ".join(words[:half]), " ".join(words[half:])]
                continue
            room = ctx - len(ids)
            if room < TOKENS_OVERHEAD:
                raise Unprocessable(
                    "the voice's reference is too long for the model context; use ≤ 15 s",
                    code="reference_too_long",
                )
            yield ids, min(room, self.max_new_tokens or room)

    def _plan(self, text: str, voice: VoiceProfile, language: str | None) -> dict[str, Any]:
        """The voice's speaker dict (``incompatible_voice`` / ``invalid_profile`` when unusable);
        ``empty_text`` when the text has no words to speak (only spaces, punctuation or symbols)."""
        speaker = profile_to_speaker(voice)
        if not any(ch.isalnum() for ch in text) or not chunk_text(text):
            raise InvalidRequest("text is empty; send at least one word to speak", code="empty_text")
        return speaker

    def stream(self, utterance: Utterance) -> Iterator[np.ndarray]:
        """Audio frames as tokens are decoded; at a speed other than 1.0, one stretched block per
        text chunk (the stretch needs the chunk whole)."""
        speaker = utterance.plan
        if not isinstance(speaker, dict):
            raise TypeError("stream() takes an Utterance made by this engine's prepare()")
        speed = utterance.speed
        for n, (ids, budget) in enumerate(self.iter_plan(utterance.text, speaker)):
            chunks = self._stream_chunk(ids, budget, seed=self.seed + n)
            if speed == 1.0:
                yield from chunks
                continue
            parts = list(chunks)
            if parts:
                yield change_tempo(np.concatenate(parts), SAMPLE_RATE, speed)

    def _stream_chunk(self, ids: list[int], budget: int, *, seed: int) -> Iterator[np.ndarray]:
        """Audio of one text chunk, streamed; 15 ms fades at its ends (as OuteTTS' decoder applies)."""
        first = True
        for audio, last in self._decode_stream(ids, budget, seed=seed):
            audio = np.clip(audio, -1.0, 1.0)
            if first:
                n = min(FADE_SAMPLES, audio.size)
                audio[:n] *= np.linspace(0.0, 1.0, n, dtype=np.float32)
                first = False
            if last:
                n = min(FADE_SAMPLES, audio.size)
                audio[audio.size - n :] *= np.linspace(1.0, 0.0, n, dtype=np.float32)
            yield audio

    def _decode_stream(self, ids: list[int], budget: int, *, seed: int) -> Iterator[tuple[np.ndarray, bool]]:
        decoder = StreamingDecoder(
            decode=self.codec.decode, hop=self.codec.hop_length, chunk_frames=self.stream_chunk_frames
        )
        books: tuple[list[int], list[int]] = ([], [])
        with self.backend.lock:
            tokens = generate_tokens(
                self.backend,
                prompt=ids,
                max_new_tokens=budget,
                stop=self._stop,
                sampler=self.sampler,
                seed=seed,
            )
            for tok in tokens:
                code = self._code_of.get(tok)
                if code is None:
                    continue
                book, value = code
                books[book].append(value)
                if len(books[book]) <= len(books[1 - book]):  # this token completed a (c1, c2) frame
                    k = len(books[book]) - 1
                    audio = decoder.push(np.array([books[0][k], books[1][k]]))
                    if audio is not None and audio.size:
                        yield audio, False
        tail = decoder.flush()
        if tail.size:
            yield tail, True

    def info(self) -> dict[str, object]:
        facts = super().info()
        facts.update(
            {
                "backend": type(self.backend).__name__,
                "context_tokens": self.backend.context_length,
                "builtin_voices": len(self.speakers),
                "word_aligner": "faster-whisper" if self.aligner is not None else None,
            }
        )
        return facts

    def close(self) -> None:
        close = getattr(self.backend, "close", None)
        if callable(close):
            close()


def load_speakers(paths: tuple[Path, ...] | list[Path]) -> dict[str, dict[str, Any]]:
    """Read OuteTTS speaker JSON files (``interface.save_speaker`` output); id = file stem, lower case."""
    out: dict[str, dict[str, Any]] = {}
    for p in paths:
        try:
            speaker = json.loads(Path(p).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise EngineUnavailable(f"cannot read speaker profile {p}: {e}", code="model_load_failed") from e
        validate_speaker(speaker)
        out[Path(p).stem.lower()] = speaker
    return out
