"""OpenAI's voice names: the table covers the ``openai`` SDK's list; engines without a hand-made
mapping (OuteTTS) give each name to a built-in voice of the same gender."""

from __future__ import annotations

import typing

from openai.types.audio import speech_create_params

from voxclone.engines.base import VoiceInfo
from voxclone.engines.openai_voices import OPENAI_VOICES, aliases_by_gender


def sdk_voice_names() -> set[str]:
    """The voice names the installed ``openai`` SDK offers for ``audio.speech.create``."""
    literal = next(a for a in typing.get_args(speech_create_params.Voice) if typing.get_args(a))
    return set(typing.get_args(literal))


def test_the_table_covers_every_voice_the_openai_sdk_offers() -> None:
    names = [v.name for v in OPENAI_VOICES]
    assert len(names) == len(set(names))
    assert sdk_voice_names() <= set(names)
    assert {v.gender for v in OPENAI_VOICES} <= {"female", "male", "neutral"}


def _info(voice_id: str, gender: str) -> VoiceInfo:
    return VoiceInfo(voice_id, voice_id.upper(), "en", gender, "test")


def test_aliases_by_gender_give_every_name_to_a_voice_of_its_gender() -> None:
    voices = [_info("en-male-1", "male"), _info("en-female-1", "female"), _info("en-female-2", "female")]
    aliases = aliases_by_gender(voices)
    owner = {alias: vid for vid, names in aliases.items() for alias in names}
    assert set(owner) == {v.name for v in OPENAI_VOICES}  # each name exactly once
    for voice in OPENAI_VOICES:
        want = "en-male-1" if voice.gender == "male" else "en-female-1"  # neutral: the first female
        assert owner[voice.name] == want, voice.name
    assert aliases["en-female-2"] == ()


def test_aliases_by_gender_fall_back_to_any_voice_and_never_shadow_an_id() -> None:
    voices = [_info("alloy", "unknown"), _info("en-male-1", "male")]
    aliases = aliases_by_gender(voices)
    owner = {alias: vid for vid, names in aliases.items() for alias in names}
    assert "alloy" not in owner  # a real voice id stays that voice
    assert owner["onyx"] == "en-male-1"
    assert owner["nova"] == "alloy"  # no female voice: the first voice
    assert aliases_by_gender([]) == {}
