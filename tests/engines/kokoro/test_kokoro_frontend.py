"""Chunk planning: token limits, a short first chunk, pauses, no lost words (no ONNX needed)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voxclone.engines.kokoro import assets
from voxclone.engines.kokoro.frontend import (
    CHUNK_TOKEN_LIMIT,
    CLAUSE_PAUSE_S,
    CONTINUATION,
    FIRST_HEAD_WORDS,
    PARAGRAPH_PAUSE_S,
    SENTENCE_PAUSE_S,
    KokoroFrontend,
)


@pytest.fixture(scope="module")
def kokoro_frontend() -> KokoroFrontend:
    return KokoroFrontend(assets.vocab())


def _texts(frontend: KokoroFrontend, text: str, language: str = "en-us") -> list[str]:
    return [c.text for c in frontend.chunks(frontend.prepare(text, language=language))]


def test_only_the_first_sentence_is_cut_at_a_phrase_boundary(kokoro_frontend: KokoroFrontend) -> None:
    text = (
        "The old keeper retired after forty years of service on the island, and the whole village "
        "gathered on the pier to thank him. He smiled.\n\nThe next morning was calm "
        "and the sea lay flat and grey under a sky without any wind at all."
    )
    prepared = kokoro_frontend.prepare(text, language="en-us")
    chunks = list(kokoro_frontend.chunks(prepared))
    assert chunks[0].text == "The old keeper retired"
    # a long rest is cut once more, so the second chunk is ready before the head has played
    assert chunks[1].text == "after forty years of service on the island,"
    assert chunks[2].text == "and the whole village gathered on the pier to thank him."
    assert chunks[0].phonemes.endswith(CONTINUATION)  # continuation intonation on the head
    assert FIRST_HEAD_WORDS[0] <= len(chunks[0].text.split()) <= FIRST_HEAD_WORDS[1]
    assert [c.pause_s for c in chunks[:3]] == [0.0, 0.0, CLAUSE_PAUSE_S]
    # every later sentence is one chunk, with its pause
    assert [c.text for c in chunks[-2:]] == ["He smiled.", text.split("\n\n")[1]]
    assert [c.pause_s for c in chunks[-2:]] == [SENTENCE_PAUSE_S, PARAGRAPH_PAUSE_S]
    assert " ".join(c.text for c in chunks).split() == " ".join(prepared.paragraphs).split()


def test_short_or_single_first_sentences_stay_whole(kokoro_frontend: KokoroFrontend) -> None:
    assert _texts(kokoro_frontend, "Turn left at the corner. Then walk on.") == [
        "Turn left at the corner.",
        "Then walk on.",
    ]
    # a text of one sentence is cut only when that sentence is long
    single = "The museum closes early on Sundays, but the garden stays open until sunset."
    assert _texts(kokoro_frontend, single) == [single]
    long_single = (
        "The museum closes early on Sundays, but the garden stays open until sunset for everyone "
        "who wants to walk among the roses and the old trees."
    )
    assert _texts(kokoro_frontend, long_single) == [
        "The museum closes early",
        "on Sundays, but the garden stays open",
        "until sunset for everyone who wants to walk among the roses and the old trees.",
    ]


def test_a_clause_mark_ends_the_head_without_a_continuation_symbol(kokoro_frontend: KokoroFrontend) -> None:
    prepared = kokoro_frontend.prepare(
        "If the meeting runs long, we will move the demo. Thanks.", language="en-us"
    )
    chunks = list(kokoro_frontend.chunks(prepared))
    assert [c.text for c in chunks] == ["If the meeting runs long,", "we will move the demo.", "Thanks."]
    assert chunks[0].phonemes.endswith(",") and not chunks[0].phonemes.endswith(",,")
    assert chunks[1].pause_s > 0.0  # the clause pause after the comma


_WORDS = st.sampled_from(
    ["the", "old", "keeper", "and", "of", "to", "walked,", "home.", "Dr.", "twelve", "sea?"]
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(_WORDS, min_size=1, max_size=25), min_size=1, max_size=3))
def test_chunks_never_lose_or_repeat_words(
    kokoro_frontend: KokoroFrontend, paragraphs: list[list[str]]
) -> None:
    text = "\n".join(" ".join(words) for words in paragraphs)
    prepared = kokoro_frontend.prepare(text, language="en-us")
    chunks = list(kokoro_frontend.chunks(prepared))
    assert " ".join(c.text for c in chunks).split() == " ".join(prepared.paragraphs).split()
    assert all(0 < len(c.tokens) <= CHUNK_TOKEN_LIMIT for c in chunks)
    assert chunks[0].pause_s == 0.0


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


@pytest.mark.parametrize(
    ("text", "head"),
    [
        # no phrase word within the first words: cut before an article or possessive instead
        (
            "The lighthouse keeper wrote a short note in his logbook every night at midnight. "
            "Our support team answers within a day.",
            "The lighthouse keeper wrote",
        ),
        (
            "Tonight, the lighthouse keeper wrote a short note in his logbook every night at midnight. "
            "Then he slept.",
            "Tonight, the lighthouse keeper wrote",
        ),
        (
            "Our support team answers every message within one business day. We also answer calls.",
            "Our support team answers",
        ),
        # nothing to cut before at all in a long sentence: the head still ends after a few words
        (
            "Seventeen enormous purple elephants quietly crossed muddy rivers yesterday evening "
            "carrying heavy wooden crates. Nobody knew why.",
            "Seventeen enormous purple elephants quietly",
        ),
    ],
)
def test_the_first_chunk_is_short_whatever_the_first_sentence_looks_like(
    kokoro_frontend: KokoroFrontend, text: str, head: str
) -> None:
    chunks = _texts(kokoro_frontend, text)
    assert chunks[0] == head
    assert " ".join(chunks).split() == text.split()


def test_a_live_single_sentence_starts_with_a_short_chunk(kokoro_frontend: KokoroFrontend) -> None:
    single = "The museum closes early on Sundays, but the garden stays open until sunset."
    prepared = kokoro_frontend.prepare(single, language="en-us")
    assert [c.text for c in kokoro_frontend.chunks(prepared)] == [single]  # a file: one chunk
    live = [c.text for c in kokoro_frontend.chunks(prepared, live=True)]
    assert live == ["The museum closes early", "on Sundays, but the garden stays open until sunset."]
    assert [
        c.text
        for c in kokoro_frontend.chunks(
            kokoro_frontend.prepare("Turn left here.", language="en-us"), live=True
        )
    ] == ["Turn left here."]


def test_chunks_grow_with_the_audio_already_queued(kokoro_frontend: KokoroFrontend) -> None:
    """A long second sentence after a short first one is cut too: its chunk would otherwise take
    longer to render than the audio before it lasts (a stall on a CPU at half real time)."""
    text = (
        "Welcome back to the evening news. Tonight we look at how small towns are rebuilding their "
        "main streets, one shop at a time. Our reporter spent a week with the people who make it "
        "happen, from bakers who start before dawn to volunteers who paint the old cinema. Here is her story."
    )
    chunks = _texts(kokoro_frontend, text)
    assert chunks[:4] == [
        "Welcome back",
        "to the evening news.",
        "Tonight we look at how small towns are rebuilding",
        "their main streets, one shop at a time.",
    ]
    assert chunks[4].startswith("Our reporter") and chunks[4].endswith("cinema.")  # enough queued by then
    assert " ".join(chunks).split() == text.split()
