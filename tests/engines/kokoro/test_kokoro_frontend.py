"""Chunk planning: token limits, a short first chunk, pauses, no lost words (no ONNX needed)."""

from __future__ import annotations

import pytest

from voxclone.engines.kokoro import assets
from voxclone.engines.kokoro.frontend import (
    CHUNK_TOKEN_LIMIT,
    FIRST_CHUNK_TOKENS,
    PARAGRAPH_PAUSE_S,
    SENTENCE_PAUSE_S,
    KokoroFrontend,
)


@pytest.fixture(scope="module")
def kokoro_frontend() -> KokoroFrontend:
    return KokoroFrontend(assets.vocab())


def test_first_chunk_is_short_and_words_are_kept(kokoro_frontend: KokoroFrontend) -> None:
    text = (
        "When the old lighthouse keeper finally retired after forty years of service on the island, "
        "the whole village gathered on the pier to thank him. He smiled.\n\nThe next morning was calm."
    )
    prepared = kokoro_frontend.prepare(text, language="en-us")
    chunks = list(kokoro_frontend.chunks(prepared))
    assert len(chunks[0].tokens) <= FIRST_CHUNK_TOKENS
    assert chunks[0].pause_s == 0.0
    assert " ".join(c.text for c in chunks).split() == " ".join(prepared.paragraphs).split()
    assert [c.pause_s for c in chunks[-2:]] == [SENTENCE_PAUSE_S, PARAGRAPH_PAUSE_S]


def test_long_sentences_split_below_the_token_limit(kokoro_frontend: KokoroFrontend) -> None:
    clause = "the quick brown fox jumps over the lazy dog near the river bank"
    long_sentence = ", ".join([clause] * 12) + ". " + " ".join(["unbroken"] * 150) + "."
    prepared = kokoro_frontend.prepare(long_sentence, language="en-us")
    chunks = list(kokoro_frontend.chunks(prepared))
    assert all(0 < len(c.tokens) <= CHUNK_TOKEN_LIMIT for c in chunks)
    assert " ".join(c.text for c in chunks).split() == prepared.paragraphs[0].split()


def test_japanese_long_text_without_spaces(kokoro_frontend: KokoroFrontend) -> None:
    text = "今日はとても良い天気なので友達と一緒に公園へ散歩に行きました" * 8 + "。"
    chunks = list(kokoro_frontend.chunks(kokoro_frontend.prepare(text, language="ja")))
    assert len(chunks) > 1
    assert all(0 < len(c.tokens) <= CHUNK_TOKEN_LIMIT for c in chunks)
    assert "".join(c.text for c in chunks) == text


def test_phonemize_detects_language(kokoro_frontend: KokoroFrontend) -> None:
    assert kokoro_frontend.phonemize("Hola, ¿cómo estás? Muy bien, gracias.").startswith("ˈola")
