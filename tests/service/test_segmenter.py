"""The real-time text segmenter: when streamed text is ready, and that nothing is lost or repeated."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from voxclone.service.segmenter import TextSegmenter


def feed_tokens(seg: TextSegmenter, tokens: list[str]) -> list[str]:
    out = []
    for token in tokens:
        seg.feed(token)
        while (piece := seg.take()) is not None:
            out.append(piece)
    return out


def test_a_sentence_end_is_ready_at_once_and_a_clause_once_enough_words_came() -> None:
    seg = TextSegmenter(schedule=(4, 8))
    assert feed_tokens(seg, ["Hi", ",", " you"]) == []  # a clause after 1 word: too short
    assert feed_tokens(seg, [" there", "."]) == ["Hi, you there."]
    assert feed_tokens(seg, [" One", " two", " three", ",", " four"]) == []  # 3 words < 8
    pieces = feed_tokens(seg, [" five", " six", " seven", " eight", ",", " nine"])
    assert pieces == ["One two three, four five six seven eight,"]  # the last clause past 8 words
    assert seg.pending == "nine"


def test_a_decimal_or_an_abbreviation_waits_for_the_next_piece() -> None:
    seg = TextSegmenter()
    assert feed_tokens(seg, ["It is 3", "."]) == []
    assert feed_tokens(seg, ["5 now."]) == ["It is 3.5 now."]
    assert feed_tokens(seg, [" Ask Dr", "."]) == []
    assert feed_tokens(seg, [" Smith!"]) == ["Ask Dr. Smith!"]


def test_a_whole_text_in_one_piece_is_one_segment() -> None:
    seg = TextSegmenter()
    text = "Hello there, my friend. This is one piece, with clauses; and two sentences!"
    assert feed_tokens(seg, [text]) == [text]


def test_flush_forces_only_what_was_buffered() -> None:
    seg = TextSegmenter()
    seg.feed("no punctuation yet")
    seg.flush()
    seg.feed(" more")
    assert seg.take() == "no punctuation yet"
    assert seg.take() is None and seg.pending == "more"


def test_no_segment_is_longer_than_max_chars() -> None:
    seg = TextSegmenter(max_chars=10)
    seg.feed("a" * 25 + " bb")
    seg.flush()
    pieces = [seg.take(), seg.take(), seg.take()]
    assert pieces == ["a" * 10, "a" * 10, "aaaaa bb"]
    assert seg.take() is None


def test_long_text_without_punctuation_is_cut_at_a_word() -> None:
    seg = TextSegmenter(max_words=5)
    assert feed_tokens(seg, [f"w{i} " for i in range(7)]) == ["w0 w1 w2 w3 w4 w5"]


_TOKEN = st.one_of(
    st.sampled_from([".", ",", "!", "?", ";", " ", "  ", "\n", "$42", "3.5", "Dr.", "—", "…", "。", "e.g."]),
    st.text(alphabet="abcdefXYZ0123456789 ", min_size=1, max_size=8),
)


@settings(max_examples=200, deadline=None)
@given(
    tokens=st.lists(_TOKEN, max_size=60),
    flushes=st.sets(st.integers(0, 60)),
    max_chars=st.integers(1, 40),
)
def test_every_character_is_spoken_once_in_order(
    tokens: list[str], flushes: set[int], max_chars: int
) -> None:
    seg = TextSegmenter(schedule=(2, 3), max_words=6, max_chars=max_chars)
    out: list[str] = []
    for i, token in enumerate(tokens):
        seg.feed(token)
        if i in flushes:
            seg.flush()
        while (piece := seg.take()) is not None:
            assert piece == piece.strip() and piece and len(piece) <= max_chars
            out.append(piece)
    seg.flush()
    while (piece := seg.take()) is not None:
        out.append(piece)
    assert seg.pending.strip() == ""
    assert "".join("".join(out).split()) == "".join("".join(tokens).split())
