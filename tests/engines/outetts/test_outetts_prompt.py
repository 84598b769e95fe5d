"""OuteTTS text normalisation and prompt format: behaviour, and byte-for-byte conformance with outetts."""

from __future__ import annotations

import copy
import json

import pytest
from outetts_reference import default_speaker_path, load

from voxclone.engines.outetts import prompt as P
from voxclone.engines.outetts.text import (
    chunk_text,
    merge_speaker_text,
    normalize_text,
    normalize_transcript,
)

pytest.importorskip("ftfy", reason="ftfy is part of voxclone[outetts]; run .ci/outetts.sh")

TEXTS = [
    "Hello world",
    "  “Smart quotes” and ‘single’ ones…  ",
    "Dashes — en – and -- double; spacing ,here .and there !!",
    "Can 't stop , won ' t stop. It 's fine ' .",
    "Wait...... what??? Really!!!",
    "Zero\u200bwidth\u00adsoft and ﬁ ligature, ＦＵＬＬ width",
    "Ellipsis… then text,without space:yes;no",
    "日本語のテキストです。次の文！",
    "Multi\nline\ttext\r\nhere",
    "«Guillemets» and `backticks´ and 'apostrophes'",
]

SPEAKER = {
    "text": "The quick brown fox",
    "words": [
        {
            "word": "The",
            "duration": 0.2,
            "c1": [1, 2],
            "c2": [3, 4],
            "features": {"energy": 10, "spectral_centroid": 15, "pitch": 45},
        },
        {
            "word": "fox",
            "duration": 0.33,
            "c1": [1023],
            "c2": [0],
            "features": {"energy": 0, "spectral_centroid": 100, "pitch": 7},
        },
    ],
    "global_features": {"energy": 5, "spectral_centroid": 20, "pitch": 30},
}


def test_normalize_text_examples() -> None:
    assert normalize_text("  “Hi”  there ,you… ") == "Hi there, you..."
    assert normalize_text("Can 't") == "Can't"
    assert normalize_text("What??") == "What?"
    assert normalize_text("a — b") == "a - b"


def test_merge_speaker_text_separators() -> None:
    assert merge_speaker_text(text="Next.", speaker_text="I said hi") == ("I said hi. Next.", ".")
    assert merge_speaker_text(text="Next.", speaker_text="I said hi!") == ("I said hi! Next.", "")
    assert merge_speaker_text(text="次。", speaker_text="こんにちは") == ("こんにちは。次。", "。")


def test_prompt_layout_and_speaker_not_mutated() -> None:
    speaker = copy.deepcopy(SPEAKER)
    prompt = P.completion_prompt(text="Hello there.", speaker=speaker)
    assert speaker == SPEAKER
    assert prompt.startswith(
        "<|im_start|>\n<|text_start|>The quick brown fox. Hello there.<|text_end|>\n<|audio_start|>\n"
    )
    assert (
        "<|word_start|>fox.<|features|><|t_0.33|><|energy_0|><|spectral_centroid_100|><|pitch_7|>" in prompt
    )
    assert "<|code|><|c1_1|><|c2_3|><|c1_2|><|c2_4|><|word_end|>\n" in prompt
    assert prompt.endswith("<|word_end|>\n<|word_start|>")


def test_codes_from_text_pairs_and_truncates() -> None:
    text = "<|word_start|>hi<|features|><|t_0.10|><|code|><|c1_5|><|c2_6|><|c1_7|><|c2_8|><|c1_9|>"
    assert P.codes_from_text(text) == ([5, 7], [6, 8])


def test_chunk_text_bounds() -> None:
    text = " ".join(f"Sentence number {i} has exactly seven words." for i in range(12))
    chunks = chunk_text(text, min_words=10, max_words=30)
    assert " ".join(chunks) == text
    assert all(len(c.split()) <= 30 for c in chunks)
    long = " ".join(["word"] * 75) + "."
    assert all(len(c.split()) <= 30 for c in chunk_text(long))


@pytest.mark.parametrize("text", TEXTS)
def test_normalisation_matches_outetts(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("transformers", reason="outetts' prompt processor imports transformers")
    ref = load("version.v3.prompt_processor", monkeypatch).PromptProcessor("")
    pre = load("utils.preprocessing", monkeypatch)
    assert normalize_text(text) == ref.text_normalizations(text)
    assert normalize_transcript(text) == pre.text_normalizations(text)


@pytest.mark.parametrize("text", TEXTS[:4] + TEXTS[7:8])
def test_completion_prompt_matches_outetts(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("transformers", reason="outetts' prompt processor imports transformers")
    ref = load("version.v3.prompt_processor", monkeypatch).PromptProcessor("")
    for speaker in (SPEAKER, json.loads(default_speaker_path().read_text(encoding="utf-8"))):
        ours = P.completion_prompt(text=text, speaker=speaker)
        assert ours == ref.get_completion_prompt(text, copy.deepcopy(speaker))
    assert P.completion_prompt(text=text, speaker=None) == ref.get_completion_prompt(text, None)


def test_special_tokens_match_outetts(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("transformers", reason="outetts' prompt processor imports transformers")
    tokens = load("version.v3.tokens", monkeypatch).SpecialTokens()
    specials = set(P.vocabulary_specials())
    for key, value in tokens.to_dict().items():
        if "{" in value:
            assert value.format(0) in specials or key == "time", key
        elif key not in (
            "voice_characteristic_start",
            "voice_characteristic_end",
            "emotion_start",
            "emotion_end",
        ):
            assert value in specials, key
    assert tokens.time.format(0.2) == P.time_token(0.2)


CHUNK_TEXTS = [
    " ".join(f"Sentence number {i} has exactly seven words." for i in range(12)),
    "Short one. " + " ".join(["long"] * 70) + ". Tail sentence here! And a question?",
    "One two three. Four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty twentyone twentytwo twentythree twentyfour twentyfive. End.",
    "No final punctuation at all in this piece of text",
    "",
]


@pytest.mark.parametrize("text", CHUNK_TEXTS)
@pytest.mark.parametrize(("lo", "hi"), [(10, 30), (3, 8)])
def test_chunking_matches_outetts(text: str, lo: int, hi: int, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = load("utils.chunking", monkeypatch)
    assert chunk_text(text, min_words=lo, max_words=hi) == ref.chunk_text(text, min_words=lo, max_words=hi)
