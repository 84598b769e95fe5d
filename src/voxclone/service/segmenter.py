"""Decide when text streamed in pieces (an LLM's tokens) is ready to speak.

A real-time session receives text in pieces of any size and speaks it in *segments*, each
synthesized as one utterance. Longer segments sound more natural (the engine sees whole
sentences); shorter ones start audio earlier. :class:`TextSegmenter` cuts the buffered text at

* a **sentence end** (``.``, ``!``, ``?``, ``…``, CJK ``。！？``, a line break), always; a period at
  the very end of the buffer counts unless it may still be a decimal point (``3.``) or an
  abbreviation (``Dr.``): those wait for the next piece;
* a **clause boundary** (``,``, ``;``, ``:``, a dash) once enough words precede it: the
  ``schedule`` gives the words needed for the first segment, the second, …, the last entry for
  every later one (like ElevenLabs' ``chunk_length_schedule``: short first, longer later);
* the last whole word when ``max_words`` arrived without any boundary;

always at the **last** such place in the buffer, so text that arrives faster than it is spoken
is spoken in long, natural segments, and a whole text sent in one piece is one segment (spoken
exactly as the same text sent to the HTTP routes). :meth:`flush` forces out what is buffered.
No segment is longer than ``max_chars``.

Every character given to :meth:`feed` is in exactly one segment, in order (whitespace at cuts
dropped); nothing is lost or repeated.
"""

from __future__ import annotations

import re

from voxclone.text.split import _is_abbreviation

DEFAULT_SCHEDULE = (5, 10, 20, 30)  # words before a clause boundary may end segment 1, 2, 3, 4+
DEFAULT_MAX_WORDS = 60

_SENTENCE_END = re.compile(r"[.!?…]+[\"”’»)\]]*(?=\s)|[。！？]+[」』”’）)]*|\n")
_CLAUSE_END = re.compile(r"[,;:]+[\"”’»)\]]*(?=\s)|\s[—–-]+(?=\s)|[、，；：]+")
# a sentence end at the very end of the buffer (nothing after it yet)
_FINAL_END = re.compile(r"[.!?…]+[\"”’»)\]]*$")
_SPACE = re.compile(r"\s+")


class TextSegmenter:
    """Buffer of text not yet spoken, cut into segments as it becomes ready.

    Parameters
    ----------
    schedule : tuple of int
        Words (at least 1 each) that must precede a clause boundary for it to end segment ``i``
        (the last entry applies to all later segments).
    max_words : int
        Words after which a segment ends at a word boundary even without punctuation.
    max_chars : int
        Longest segment in characters (the server's text limit), at least 1.
    """

    def __init__(
        self,
        *,
        schedule: tuple[int, ...] = DEFAULT_SCHEDULE,
        max_words: int = DEFAULT_MAX_WORDS,
        max_chars: int = 5000,
    ):
        if not schedule or min(schedule) < 1 or max_words < 1 or max_chars < 1:
            raise ValueError("schedule entries, max_words and max_chars must be at least 1")
        self._schedule = schedule
        self._max_words = max_words
        self._max_chars = max_chars
        self._buffer = ""
        self._forced = 0  # characters at the start of the buffer that flush() forced out
        self.segments_taken = 0

    @property
    def pending(self) -> str:
        """Text buffered and not yet taken."""
        return self._buffer

    def has_speech(self) -> bool:
        """Whether anything but whitespace is buffered."""
        return bool(self._buffer.strip())

    def feed(self, text: str) -> None:
        """Append a piece of text (any size, a single token included)."""
        self._buffer += text

    def flush(self) -> None:
        """Make everything buffered now ready, whatever its punctuation (later pieces are not)."""
        self._forced = len(self._buffer)

    def take(self) -> str | None:
        """The next ready segment (stripped), or ``None`` when nothing is ready yet."""
        while True:
            cut = self._ready_cut()
            if cut is None:
                return None
            segment = self._buffer[:cut].strip()
            self._buffer = self._buffer[cut:]
            self._forced = max(0, self._forced - cut)
            stripped = len(self._buffer) - len(self._buffer.lstrip())
            self._buffer = self._buffer[stripped:]
            self._forced = max(0, self._forced - stripped)
            if segment:
                self.segments_taken += 1
                return segment

    # ------------------------------------------------------------------------------ internals

    def _ready_cut(self) -> int | None:
        text = self._buffer
        if not text:
            return None
        limit = min(len(text), self._max_chars)
        best = max(self._forced if self._forced <= limit else 0, self._boundary(text, limit))
        if best:
            return best
        if self._forced or len(text) > self._max_chars:
            return self._word_cut(text, limit) or limit  # one giant word: cut it
        return None

    def _boundary(self, text: str, limit: int) -> int:
        """The last sentence end or qualifying clause boundary at or before ``limit`` (0: none)."""
        best = 0
        for m in _SENTENCE_END.finditer(text):
            if m.end() <= limit and not _is_abbreviation(text, m.end()):
                best = max(best, m.end())
        final = _FINAL_END.search(text)
        if final is not None and len(text) <= limit and self._final_is_sentence_end(text, final.start()):
            best = len(text)
        need = self._schedule[min(self.segments_taken, len(self._schedule) - 1)]
        for m in _CLAUSE_END.finditer(text):
            if best < m.end() <= limit and len(text[: m.end()].split()) >= need:
                best = m.end()
        if not best and len(text.split()) > self._max_words:
            best = self._word_cut(text, limit)
        return best

    @staticmethod
    def _final_is_sentence_end(text: str, start: int) -> bool:
        """A terminator at the end of the buffer: ``!``/``?``/``…`` always; a period unless it
        may be a decimal point (a digit before it) or ends an abbreviation."""
        if text[start] != ".":
            return True
        if start > 0 and text[start - 1].isdigit():
            return False
        end = start + 1
        return not _is_abbreviation(text, end)

    @staticmethod
    def _word_cut(text: str, limit: int) -> int:
        """End of the last whole word at or before ``limit`` (whitespace must follow it; 0: none)."""
        last = 0
        for m in _SPACE.finditer(text, 0, min(len(text), limit + 1)):
            if m.start() > 0:
                last = m.start()
        return last
