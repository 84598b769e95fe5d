"""Kokoro's built-in voices: the five shipped packs and a few fixed blends of them.

Every voice speaks every language the engine supports; the ``en-`` prefix of the ids only reflects
the default language. Ids are stable: never renumber them.

Each of OpenAI's voice names (:mod:`voxclone.engines.openai_voices`) is an alias of the voice
closest in gender and character, so OpenAI clients' defaults (``voice="alloy"``) speak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voxclone.engines.base import VoiceInfo
from voxclone.engines.kokoro.profile import PROFILE_VERSION
from voxclone.errors import NotFound
from voxclone.voices.profile import VoiceProfile

DEFAULT_LANGUAGE = "en-us"


@dataclass(frozen=True)
class BuiltinVoice:
    """A built-in voice: listing info, pack weights (summing to 1), its pace and its aliases.

    ``pace`` multiplies the requested speed: jf_alpha speaks English too fast to be understood at
    the model's natural rate (Whisper WER on the 20 English dev lines, numbers spelled alike:
    4.2 % at 1.0, 2.8 % at 0.9, 1.4 % at 0.85).
    """

    voice_id: str
    name: str
    gender: str
    description: str
    mix: tuple[tuple[str, float], ...]
    pace: float = 1.0
    aliases: tuple[str, ...] = ()
    """OpenAI voice names this voice answers to."""

    def info(self) -> VoiceInfo:
        return VoiceInfo(
            voice_id=self.voice_id,
            name=self.name,
            language=DEFAULT_LANGUAGE,
            gender=self.gender,
            description=self.description,
            aliases=self.aliases,
        )


# Ordered by intelligibility (Whisper WER on English, bench/engine.py): the first voice is the default.
BUILTIN_VOICES: tuple[BuiltinVoice, ...] = (
    BuiltinVoice(
        "en-female-1",
        "Gon",
        "female",
        "Warm, calm storyteller female voice.",
        (("jf_gongitsune", 1.0),),
        aliases=("coral", "marin"),
    ),
    BuiltinVoice(
        "en-female-2",
        "Nezumi",
        "female",
        "Soft, gentle female voice.",
        (("jf_nezumi", 1.0),),
        aliases=("sage",),
    ),
    BuiltinVoice(
        "en-female-3",
        "Alpha",
        "female",
        "Clear, bright young female voice with an unhurried pace.",
        (("jf_alpha", 1.0),),
        pace=0.85,
        aliases=("nova",),
    ),
    BuiltinVoice(
        "en-female-4",
        "Tebukuro",
        "female",
        "Lively, expressive female voice.",
        (("jf_tebukuro", 1.0),),
        aliases=("shimmer",),
    ),
    BuiltinVoice(
        "en-male-1",
        "Kumo",
        "male",
        "Deep, steady male voice.",
        (("jm_kumo", 1.0),),
        aliases=("onyx", "echo", "cedar"),
    ),
    BuiltinVoice(
        "en-male-2",
        "Sora",
        "male",
        "Lighter, younger male voice (a blend of Kumo and Gon).",
        (("jm_kumo", 0.7), ("jf_gongitsune", 0.3)),
        aliases=("ash", "ballad", "fable", "verse"),
    ),
    BuiltinVoice(
        "en-female-5",
        "Hana",
        "female",
        "Balanced, neutral female voice (a blend of Gon and Nezumi).",
        (("jf_gongitsune", 0.5), ("jf_nezumi", 0.5)),
        aliases=("alloy",),
    ),
)
_BY_ID = {v.voice_id: v for v in BUILTIN_VOICES}
_BY_NAME = {**{a: v for v in BUILTIN_VOICES for a in v.aliases}, **_BY_ID}


def resolve(name: str) -> str | None:
    """The id of the built-in voice named ``name`` (an id or an alias, exact), else ``None``."""
    voice = _BY_NAME.get(name)
    return voice.voice_id if voice is not None else None


def builtin_profile(voice_id: str, packs: dict[str, np.ndarray]) -> VoiceProfile:
    """Profile of built-in ``voice_id`` (or one of its aliases) from the shipped ``packs``
    (each ``[510, 1, 256]``); an alias gives its voice's profile, ``meta["voice_id"]`` the real id.

    Raises
    ------
    NotFound
        ``voice_not_found`` for an unknown id.
    """
    voice = _BY_NAME.get(voice_id)
    if voice is None:
        raise NotFound(
            f"voice {voice_id!r} does not exist; built-in voices: {', '.join(_BY_ID)}",
            code="voice_not_found",
        )
    style = sum(weight * packs[name].reshape(-1, 256) for name, weight in voice.mix)
    return VoiceProfile(
        engine="kokoro",
        version=PROFILE_VERSION,
        tensors={"style": np.ascontiguousarray(style, dtype=np.float32)},
        meta={
            "source": "builtin",
            "voice_id": voice.voice_id,
            "name": voice.name,
            "gender": voice.gender,
            "pace": voice.pace,
        },
    )
