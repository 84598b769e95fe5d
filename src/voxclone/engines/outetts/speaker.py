"""OuteTTS speaker profiles: per-word DAC code slices with features, stored in a ``VoiceProfile``.

``build_speaker`` mirrors ``AudioProcessor.create_speaker_from_dict`` of OuteTTS v3: codes are cut
at the word end times (75 frames/s) with 20 frames of padding before the first and after the last
word, and each word gets its duration and features.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from voxclone.engines.outetts.features import extract_features
from voxclone.errors import Unprocessable
from voxclone.voices.profile import VoiceProfile

ENGINE_NAME = "outetts"
PROFILE_VERSION = 1
FRAMES_PER_SECOND = 75
EDGE_FRAMES = 20
MAX_REFERENCE_S = 20.0


@dataclass(frozen=True)
class Word:
    """A transcribed word with its time span in seconds."""

    word: str
    start: float
    end: float


def build_speaker(
    *, audio: np.ndarray, sample_rate: int, text: str, words: list[Word], codes: np.ndarray
) -> dict[str, Any]:
    """Assemble the OuteTTS speaker profile dict.

    Parameters
    ----------
    audio : numpy.ndarray
        The reference, float mono at ``sample_rate`` (features are measured on it).
    sample_rate : int
        Hz; OuteTTS uses 24,000.
    text : str
        Normalised transcript.
    words : list of Word
        Word timings in seconds, in order.
    codes : numpy.ndarray
        DAC codes ``[2, frames]`` at 75 frames/s.

    Returns
    -------
    dict
        ``{"text", "words": [{"word", "duration", "c1", "c2", "features"}], "global_features"}``.
    """
    c1 = [int(v) for v in codes[0]]
    c2 = [int(v) for v in codes[1]]
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    out_words: list[dict[str, Any]] = []
    start: int | None = None
    for idx, w in enumerate(words):
        if start is None:
            start = max(0, int(w.start * FRAMES_PER_SECOND) - EDGE_FRAMES)
        if idx == len(words) - 1:
            end = min(len(c1), int(w.end * FRAMES_PER_SECOND) + EDGE_FRAMES)
        else:
            end = int(w.end * FRAMES_PER_SECOND)
        wc1, wc2 = c1[start:end], c2[start:end]
        segment = x[int(w.start * sample_rate) : int(w.end * sample_rate)]
        out_words.append(
            {
                "word": w.word.strip(),
                "duration": round(len(wc1) / FRAMES_PER_SECOND, 2),
                "c1": wc1,
                "c2": wc2,
                "features": extract_features(segment, sample_rate),
            }
        )
        start = end
    return {"text": text, "words": out_words, "global_features": extract_features(x, sample_rate)}


def speaker_to_profile(speaker: dict[str, Any], *, meta: dict[str, Any] | None = None) -> VoiceProfile:
    """Wrap an OuteTTS speaker dict into a voxclone profile (engine ``outetts``, version 1).

    The speaker JSON is stored verbatim as UTF-8 in the uint8 tensor ``speaker_json``.
    """
    raw = json.dumps(speaker, ensure_ascii=False).encode("utf-8")
    extra = dict(meta or {})
    extra.update({"format": "outetts-speaker-v3", "words": len(speaker.get("words", []))})
    return VoiceProfile(
        engine=ENGINE_NAME,
        version=PROFILE_VERSION,
        tensors={"speaker_json": np.frombuffer(raw, dtype=np.uint8).copy()},
        meta=extra,
    )


def profile_to_speaker(profile: VoiceProfile) -> dict[str, Any]:
    """The OuteTTS speaker dict inside ``profile``; ``Unprocessable`` if it is not one of ours."""
    if profile.engine != ENGINE_NAME or profile.version != PROFILE_VERSION:
        raise Unprocessable(
            f"voice was made by engine {profile.engine!r} v{profile.version}; "
            f"the OuteTTS engine reads {ENGINE_NAME!r} v{PROFILE_VERSION} profiles only; re-create the voice",
            code="incompatible_voice",
        )
    data = profile.tensors.get("speaker_json")
    if data is None:
        raise Unprocessable("OuteTTS voice profile has no speaker data", code="invalid_profile")
    try:
        speaker = json.loads(np.asarray(data, dtype=np.uint8).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise Unprocessable("OuteTTS voice profile speaker data is corrupt", code="invalid_profile") from e
    validate_speaker(speaker)
    return speaker


def validate_speaker(speaker: Any) -> None:
    """Raise ``Unprocessable`` unless ``speaker`` has the OuteTTS v3 speaker shape."""
    ok = (
        isinstance(speaker, dict)
        and isinstance(speaker.get("text"), str)
        and isinstance(speaker.get("words"), list)
    )
    if ok:
        for w in speaker["words"]:
            if not (isinstance(w, dict) and {"word", "duration", "c1", "c2", "features"} <= w.keys()):
                ok = False
                break
    if not ok:
        raise Unprocessable(
            "not an OuteTTS v3 speaker profile (text, words with c1/c2/features)", code="invalid_profile"
        )
