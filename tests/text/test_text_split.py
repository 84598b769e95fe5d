"""Splitting never drops or repeats a word and cuts where a reader would pause."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from voxclone.text import split_clauses, split_sentences, split_words


def _visible(text: str) -> str:
    return "".join(text.split())


def test_sentences_and_abbreviations() -> None:
    text = "Dr. Smith arrived at 5 p.m. sharp. J. R. Tolkien wrote books! Did he? Yes.\nNew line here"
    assert split_sentences(text) == [
        "Dr. Smith arrived at 5 p.m. sharp.",
        "J. R. Tolkien wrote books!",
        "Did he?",
        "Yes.",
        "New line here",
    ]


def test_quotes_stay_with_their_sentence() -> None:
    assert split_sentences('He said "stop." Then he left.') == ['He said "stop."', "Then he left."]


def test_japanese_sentences_and_clauses() -> None:
    assert split_sentences("こんにちは。元気ですか？はい、元気です。") == [
        "こんにちは。",
        "元気ですか？",
        "はい、元気です。",
    ]
    assert split_clauses("はい、元気です。") == ["はい、", "元気です。"]


def test_clauses() -> None:
    assert split_clauses("First, we wait; then, we go: now - really.") == [
        "First,",
        "we wait;",
        "then,",
        "we go:",
        "now -",
        "really.",
    ]


def test_words() -> None:
    assert split_words("a b c d e", max_words=2) == ["a b", "c d", "e"]
    assert split_words("あいうえおかきくけこ", max_words=1) == ["あいうえ", "おかきく", "けこ"]


_alphabet = st.sampled_from([*"abcXYZ éñ.,;:!?…—-\"'()\n\t。、！", "Dr.", "St.", " ", "  "])
_texts = st.lists(_alphabet, max_size=80).map("".join)


@settings(max_examples=300, deadline=None)
@given(_texts)
def test_no_character_lost_or_repeated(text: str) -> None:
    sentences = split_sentences(text)
    assert _visible("".join(sentences)) == _visible(text)
    clauses = [c for s in sentences for c in split_clauses(s)]
    assert _visible("".join(clauses)) == _visible(text)
    assert all(piece.strip() == piece and piece for piece in clauses)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abcdef.,!? ", min_size=1, max_size=12), max_size=40), st.integers(1, 7))
def test_words_preserved_in_order(words: list[str], max_words: int) -> None:
    text = " ".join(words)
    pieces = [
        w
        for s in split_sentences(text)
        for c in split_clauses(s)
        for w in split_words(c, max_words=max_words)
    ]
    assert " ".join(pieces).split() == text.split()
