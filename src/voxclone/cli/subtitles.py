"""SubRip (``.srt``) and WebVTT (``.vtt``) subtitles from word timestamps.

Words are grouped into cues of at most :data:`MAX_WORDS` words and :data:`MAX_SECONDS` seconds,
ending early after a sentence or clause mark, so each cue reads as a phrase.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

MAX_WORDS = 8
MAX_SECONDS = 3.5
_SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")

SubtitleFormat = Literal["srt", "vtt"]


class Timed(Protocol):
    """A word and when it is spoken, seconds from the start of the audio."""

    @property
    def word(self) -> str: ...
    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...


def subtitle_format(path: str | Path) -> SubtitleFormat | None:
    """``"srt"`` or ``"vtt"`` from the file's extension (case-insensitive), else ``None``."""
    suffix = Path(path).suffix.lower()
    return "srt" if suffix == ".srt" else "vtt" if suffix == ".vtt" else None


def cues(
    words: Sequence[Timed], *, text: str = "", max_words: int = MAX_WORDS, max_seconds: float = MAX_SECONDS
) -> list[tuple[float, float, str]]:
    """Group ``words`` into ``(start, end, line)`` cues in order.

    ``text``, when given, is the text the words come from: a cue then also ends after a word the
    text follows with sentence-end punctuation (the words themselves have it trimmed).
    """
    ends_sentence = _sentence_ends(words, text)
    out: list[tuple[float, float, str]] = []
    group: list[Timed] = []
    for i, word in enumerate(words):
        if group and (len(group) >= max_words or word.end - group[0].start > max_seconds):
            out.append(_cue(group))
            group = []
        group.append(word)
        if ends_sentence[i]:
            out.append(_cue(group))
            group = []
    if group:
        out.append(_cue(group))
    return out


def _cue(group: Sequence[Timed]) -> tuple[float, float, str]:
    return group[0].start, max(group[-1].end, group[0].start), " ".join(w.word for w in group)


def _sentence_ends(words: Sequence[Timed], text: str) -> list[bool]:
    """Per word: whether ``text`` has sentence-end punctuation right after it."""
    flags = [False] * len(words)
    at = 0
    for i, word in enumerate(words):
        found = text.find(word.word, at)
        if found < 0:
            continue
        at = found + len(word.word)
        token_end = at
        while token_end < len(text) and not text[token_end].isspace():
            token_end += 1
        flags[i] = text[at:token_end].startswith(_SENTENCE_END)
    return flags


def _clock(seconds: float, separator: str) -> str:
    ms = max(0, round(seconds * 1000))
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def to_srt(words: Sequence[Timed], *, text: str = "") -> str:
    """SubRip: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, a blank line after each."""
    blocks = [
        f"{n}\n{_clock(start, ',')} --> {_clock(end, ',')}\n{line}\n"
        for n, (start, end, line) in enumerate(cues(words, text=text), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(words: Sequence[Timed], *, text: str = "") -> str:
    """WebVTT: the ``WEBVTT`` header, then ``HH:MM:SS.mmm --> HH:MM:SS.mmm`` cues."""
    blocks = [
        f"{_clock(start, '.')} --> {_clock(end, '.')}\n{_escape_vtt(line)}\n"
        for start, end, line in cues(words, text=text)
    ]
    return "\n".join(["WEBVTT\n", *blocks])


def _escape_vtt(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("-->", "--&gt;")


def render(words: Sequence[Timed], fmt: SubtitleFormat, *, text: str = "") -> str:
    """Subtitles of ``words`` in ``fmt``."""
    return to_srt(words, text=text) if fmt == "srt" else to_vtt(words, text=text)
