"""OpenAI's built-in voice names, so that OpenAI-compatible clients' default voices work.

Clients written for OpenAI's ``/v1/audio/speech`` send ``voice="alloy"`` and the like. Every engine
answers these names as *aliases* of its own built-in voices (:attr:`VoiceInfo.aliases`): an alias
speaks exactly as the voice it belongs to. Kokoro maps each name by hand to a voice of similar
gender and character (``engines/kokoro/voices.py``); an engine whose built-in voices are only known
by their gender (OuteTTS speaker files) uses :func:`aliases_by_gender`.

The table follows the ``voice`` parameter of the ``openai`` SDK's ``audio.speech.create``
(a test checks that it covers every name the installed SDK offers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from voxclone.engines.base import VoiceInfo


@dataclass(frozen=True)
class OpenAIVoice:
    """One OpenAI voice name: its gender (``female``, ``male`` or ``neutral``) and character."""

    name: str
    gender: str
    character: str


OPENAI_VOICES: tuple[OpenAIVoice, ...] = (
    OpenAIVoice("alloy", "neutral", "balanced, neutral"),
    OpenAIVoice("ash", "male", "clear, lively"),
    OpenAIVoice("ballad", "male", "soft, melodic"),
    OpenAIVoice("cedar", "male", "natural, steady"),
    OpenAIVoice("coral", "female", "warm, friendly"),
    OpenAIVoice("echo", "male", "warm, resonant"),
    OpenAIVoice("fable", "male", "expressive storyteller"),
    OpenAIVoice("marin", "female", "natural, clear"),
    OpenAIVoice("nova", "female", "bright, energetic"),
    OpenAIVoice("onyx", "male", "deep, authoritative"),
    OpenAIVoice("sage", "female", "calm, gentle"),
    OpenAIVoice("shimmer", "female", "bright, expressive"),
    OpenAIVoice("verse", "male", "versatile, expressive"),
)

_PREFERENCE = {"female": ("female",), "male": ("male",), "neutral": ("female", "male")}


def aliases_by_gender(voices: Sequence[VoiceInfo]) -> dict[str, tuple[str, ...]]:
    """Give each OpenAI name to a built-in voice of its gender: ``voice_id`` → alias names.

    A name goes to the first voice (in ``voices`` order) of its gender (``neutral``: the first
    female, else the first male voice), else to the first voice, so that every name works whenever
    the engine has a built-in voice. A name that already is a voice id is left to that voice.
    Every voice of ``voices`` is a key (most with no aliases); no voices, no aliases.
    """
    out: dict[str, list[str]] = {v.voice_id: [] for v in voices}
    if not voices:
        return {}
    for voice in OPENAI_VOICES:
        if voice.name in out:
            continue
        wanted = _PREFERENCE[voice.gender]
        owner = next((v for g in wanted for v in voices if v.gender == g), voices[0])
        out[owner.voice_id].append(voice.name)
    return {vid: tuple(names) for vid, names in out.items()}
