"""Text rewriting that remembers where every character came from.

The normaliser (:mod:`voxclone.text.normalize`) rewrites text with regular-expression
substitutions. Run on a :class:`MappedText`, the same rewrites also carry, for each character of
the result, the span of the original text it stands for: ``"$42"`` becomes ``"forty-two
dollars"``, every character of which points back at the three characters of ``"$42"``. Word
timestamps use it to report the words the user wrote rather than the words spoken.

:class:`PlainText` runs the same rewrites on a bare string (what the synthesis path uses), so one
normaliser serves both and their outputs are identical by construction.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

Repl = str | Callable[[re.Match[str]], str]


@dataclass(frozen=True)
class PlainText:
    """A bare string with the editing operations of :class:`MappedText` (no bookkeeping)."""

    text: str

    def sub(self, pattern: str | re.Pattern[str], repl: Repl) -> PlainText:
        """``re.sub(pattern, repl, text)``."""
        return PlainText(re.sub(pattern, repl, self.text))

    def translate(self, fn: Callable[[str], str]) -> PlainText:
        """Replace every character by ``fn(char)``, which must be one character."""
        return PlainText("".join(fn(ch) for ch in self.text))

    def nfc(self) -> PlainText:
        """Unicode NFC composition."""
        return PlainText(unicodedata.normalize("NFC", self.text))

    def strip(self) -> PlainText:
        """Leading and trailing whitespace removed."""
        return PlainText(self.text.strip())


@dataclass(frozen=True)
class MappedText:
    """A string and, per character, the half-open span ``[starts[i], ends[i])`` of the source text
    it came from (an empty span for characters a rewrite inserted from nothing)."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def of(cls, source: str) -> MappedText:
        """The identity mapping of ``source``."""
        return cls(source, tuple(range(len(source))), tuple(range(1, len(source) + 1)))

    def sub(self, pattern: str | re.Pattern[str], repl: Repl) -> MappedText:
        """``re.sub`` that maps each replacement's characters to the span its match covered."""
        text, starts, ends = self.text, self.starts, self.ends
        out: list[str] = []
        new_starts: list[int] = []
        new_ends: list[int] = []
        pos = 0
        for m in re.finditer(pattern, text):
            a, b = m.span()
            out.append(text[pos:a])
            new_starts.extend(starts[pos:a])
            new_ends.extend(ends[pos:a])
            # a template only needs expanding when it refers to groups (has a backslash)
            replacement = repl(m) if callable(repl) else (m.expand(repl) if "\\" in repl else repl)
            if a < b:
                lo, hi = min(starts[a:b]), max(ends[a:b])
            else:  # an empty match inserts: it stands for nothing of the source
                lo = hi = starts[a] if a < len(starts) else (ends[-1] if ends else 0)
            out.append(replacement)
            new_starts.extend([lo] * len(replacement))
            new_ends.extend([hi] * len(replacement))
            pos = b
        out.append(text[pos:])
        new_starts.extend(starts[pos:])
        new_ends.extend(ends[pos:])
        return MappedText("".join(out), tuple(new_starts), tuple(new_ends))

    def translate(self, fn: Callable[[str], str]) -> MappedText:
        """Replace every character by ``fn(char)``, which must be one character."""
        return MappedText("".join(fn(ch) for ch in self.text), self.starts, self.ends)

    def nfc(self) -> MappedText:
        """Unicode NFC composition, run per whitespace-separated run (it never crosses one)."""
        if unicodedata.is_normalized("NFC", self.text):
            return self
        return self.sub(r"\S+", lambda m: unicodedata.normalize("NFC", m[0]))

    def strip(self) -> MappedText:
        """Leading and trailing whitespace removed."""
        stripped = self.text.lstrip()
        a = len(self.text) - len(stripped)
        b = a + len(stripped.rstrip())
        return MappedText(self.text[a:b], self.starts[a:b], self.ends[a:b])
