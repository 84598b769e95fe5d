"""SubRip and WebVTT writers (``voxclone say --subtitles``)."""

from __future__ import annotations

from voxclone.cli.subtitles import cues, subtitle_format, to_srt, to_vtt
from voxclone.client.types import WordTiming


def _words(*items: tuple[str, float, float]) -> list[WordTiming]:
    return [WordTiming(w, s, e) for w, s, e in items]


def test_srt_numbers_cues_with_comma_milliseconds() -> None:
    words = _words(("Hello", 0.0, 0.42), ("there", 0.5, 0.9), ("Bye", 3661.25, 3661.7))
    srt = to_srt(words, text="Hello there. Bye")
    assert srt == ("1\n00:00:00,000 --> 00:00:00,900\nHello there\n\n2\n01:01:01,250 --> 01:01:01,700\nBye\n")


def test_vtt_has_its_header_dot_milliseconds_and_escapes_markup() -> None:
    words = _words(("a<b>", 0.0, 0.5), ("&", 0.5, 1.0), ("-->", 1.0, 1.2))
    vtt = to_vtt(words)
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.200\n")
    assert "a&lt;b&gt; &amp; --&gt;" in vtt


def test_cues_break_at_sentences_word_counts_and_durations() -> None:
    words = _words(*[(f"w{i}", i * 0.3, i * 0.3 + 0.25) for i in range(20)])
    groups = cues(words, max_words=8, max_seconds=10)
    assert [g[2].split() for g in groups] == [
        [f"w{i}" for i in range(0, 8)],
        [f"w{i}" for i in range(8, 16)],
        [f"w{i}" for i in range(16, 20)],
    ]
    by_time = cues(words, max_words=100, max_seconds=1.0)
    assert all(end - start <= 1.0 for start, end, _ in by_time)
    sentences = cues(_words(("One", 0, 1), ("two", 1, 2), ("Three", 2, 3)), text="One two! Three")
    assert [line for _, _, line in sentences] == ["One two", "Three"]


def test_subtitle_format_from_the_extension() -> None:
    assert subtitle_format("out.SRT") == "srt"
    assert subtitle_format("a/b.vtt") == "vtt"
    assert subtitle_format("out.txt") is None
