"""Split text at sentence, clause and word boundaries without losing or repeating anything.

Every splitter cuts the input string at positions and strips whitespace from the pieces, so the
non-whitespace characters of the pieces, in order, are exactly those of the input.
"""

from __future__ import annotations

import re

from voxclone.text.phrases import NO_CUT_AFTER, PHRASE_STARTERS

# Sentence end: Latin terminators (plus closing quotes) before whitespace, CJK terminators anywhere,
# and line breaks.
_SENTENCE_END = re.compile(r"[.!?…]+[\"”’»)\]]*(?=\s)|[。！？]+[」』”’）)]*|\n")
_CLAUSE_END = re.compile(r"[,;:]+[\"”’»)\]]*(?=\s)|\s[—–-]+(?=\s)|[、，；：]+")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "jr",
        "sr",
        "prof",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
        "no",
        "fig",
        "approx",
        "dept",
        "sgt",
        "capt",
        "gen",
        "col",
        "lt",
        "mt",
        "ave",
    ]
)


def _cut(text: str, positions: list[int]) -> list[str]:
    pieces, start = [], 0
    for pos in [*positions, len(text)]:
        piece = text[start:pos].strip()
        if piece:
            pieces.append(piece)
        start = pos
    return pieces


def _is_abbreviation(text: str, end: int) -> bool:
    """True when the period ending at ``end`` closes an abbreviation or an initial (``J.``)."""
    if text[end - 1] != ".":
        return False
    start = end - 1
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start : end - 1].lower().lstrip("(\"'“")
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences (line breaks also end a sentence).

    Parameters
    ----------
    text : str
        Any text; abbreviations such as ``Dr.`` and initials do not end a sentence.

    Returns
    -------
    list of str
        Non-empty stripped sentences in order.
    """
    cuts = [m.end() for m in _SENTENCE_END.finditer(text) if not _is_abbreviation(text, m.end())]
    return _cut(text, cuts)


def split_clauses(sentence: str) -> list[str]:
    """Split a sentence after commas, semicolons, colons and dashes."""
    return _cut(sentence, [m.end() for m in _CLAUSE_END.finditer(sentence)])


def split_words(text: str, *, max_words: int) -> list[str]:
    """Group whitespace-separated words into pieces of at most ``max_words`` words.

    A single run of CJK text (no spaces) is grouped by characters, ``4 * max_words`` at a time.
    """
    if max_words < 1:
        raise ValueError("max_words must be at least 1")
    words = text.split()
    if len(words) <= 1 and any(ch >= "\u2e80" for ch in text):
        step = 4 * max_words
        return [text[i : i + step].strip() for i in range(0, len(text), step) if text[i : i + step].strip()]
    return [" ".join(words[i : i + max_words]) for i in range(0, len(words), max_words)]


_WORD = re.compile(r"\S+")
_CLAUSE_MARK = re.compile(r"[,;:—–、，；：][\"”’»)\]]*$")


def split_first_phrase(
    text: str,
    *,
    language: str,
    min_words: int,
    max_words: int,
    min_rest: int,
    openers: frozenset[str] | None = None,
) -> tuple[str, str] | None:
    """Cut a sentence after its first phrase: the ``(head, rest)`` pair, or ``None`` to keep it whole.

    The head ends at a clause mark (comma, semicolon, colon, dash) or just before a word that opens
    a phrase (a conjunction, relative word or preposition of ``language``), so the cut falls where a
    speaker may pause. A clause mark is preferred; otherwise the shortest head of at least
    ``min_words`` words is taken. Text without spaces (Japanese) is cut only at a clause mark.

    Parameters
    ----------
    text : str
        One sentence.
    language : str
        Canonical language code (``"en-us"``...); decides the phrase-opening words.
    min_words, max_words : int
        Allowed head length in words (characters / 4 for text without spaces).
    min_rest : int
        Fewest words that must follow the cut.
    openers : frozenset of str, optional
        Lower-case words to cut before instead of ``language``'s phrase-opening words (e.g.
        :data:`~voxclone.text.phrases.DETERMINERS`).

    Returns
    -------
    tuple of str or None
        ``head + " " + rest`` equals ``text`` up to whitespace at the cut.
    """
    words = list(_WORD.finditer(text))
    if len(words) <= 1:
        clause = _CLAUSE_END.search(text)
        if clause is None or not (4 * min_words <= clause.end() <= 4 * max_words):
            return None
        head, rest = text[: clause.end()].strip(), text[clause.end() :].strip()
        return (head, rest) if len(rest) >= 4 * min_rest else None
    starters = openers if openers is not None else PHRASE_STARTERS.get(language.split("-")[0], frozenset())
    last = min(max_words, len(words) - max(1, min_rest))
    best: int | None = None
    for n in range(min_words, last + 1):  # n words in the head
        if _CLAUSE_MARK.search(words[n - 1].group()):
            best = n
            break
        if (
            best is None
            and words[n].group().lower().strip("\"“‘'(¿¡") in starters
            and words[n - 1].group().lower() not in NO_CUT_AFTER
        ):
            best = n
    if best is None:
        return None
    cut = words[best].start()
    return text[:cut].strip(), text[cut:].strip()


def split_after_words(text: str, *, words: int, min_rest: int) -> tuple[str, str] | None:
    """Cut ``text`` after its first ``words`` words: ``(head, rest)``, or ``None`` when fewer than
    ``min_rest`` words would follow or the text has no spaces."""
    found = list(_WORD.finditer(text))
    if words < 1 or len(found) < words + max(1, min_rest):
        return None
    cut = found[words].start()
    return text[:cut].strip(), text[cut:].strip()
