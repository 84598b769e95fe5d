"""Splitting never drops or repeats a word and cuts where a reader would pause."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from voxclone.text import split_clauses, split_sentences, split_words
from voxclone.text.split import split_first_phrase


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


def _first(text: str, language: str = "en-us") -> tuple[str, str] | None:
    return split_first_phrase(text, language=language, min_words=3, max_words=7, min_rest=3)


def test_first_phrase_cuts_at_a_clause_or_before_a_phrase_word() -> None:
    # a clause mark wins over an earlier phrase word
    assert _first("If the meeting runs long, we will move the demo to Thursday.") == (
        "If the meeting runs long,",
        "we will move the demo to Thursday.",
    )
    # else the shortest head before a conjunction, preposition or relative word
    assert _first("He opened the old wooden box and found a bundle of letters.") == (
        "He opened the old wooden box",
        "and found a bundle of letters.",
    )
    assert _first("The software update fixes a bug that caused a crash.") == (
        "The software update fixes a bug",
        "that caused a crash.",
    )
    # never inside "out of", never before min_words, never leaving fewer than min_rest words
    assert _first("The children built a small boat out of cardboard today.") is None
    assert _first("Turn left at the corner.") is None
    assert _first("Welcome back to the evening news.") is None
    assert split_first_phrase(
        "El tren de la mañana llegó tarde porque llovía mucho en la ciudad.",
        language="es",
        min_words=3,
        max_words=7,
        min_rest=3,
    ) == ("El tren de la mañana llegó tarde", "porque llovía mucho en la ciudad.")
    assert _first("今朝の電車はまた遅れたので、彼女はホームで新聞を全部読みました。", "ja") == (
        "今朝の電車はまた遅れたので、",
        "彼女はホームで新聞を全部読みました。",
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["the", "big", "dog", "and", "of", "to", "out", "ran,", "home.", "x"]), max_size=30
    ),
    st.integers(1, 5),
    st.integers(0, 6),
    st.integers(0, 5),
)
def test_first_phrase_keeps_every_word(words: list[str], lo: int, extra: int, rest: int) -> None:
    text = " ".join(words)
    cut = split_first_phrase(text, language="en-us", min_words=lo, max_words=lo + extra, min_rest=rest)
    if cut is None:
        return
    head, tail = cut
    assert (head + " " + tail).split() == text.split()
    assert lo <= len(head.split()) <= lo + extra
    assert len(tail.split()) >= rest
