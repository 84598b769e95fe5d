"""Guess a text's language offline: script first, then stopwords and letter cues.

A heuristic for short inputs, not a classifier: callers who know the language should pass it.
"""

from __future__ import annotations

import re

_STOPWORDS: dict[str, frozenset[str]] = {
    "en-us": frozenset(
        [
            "the",
            "and",
            "is",
            "are",
            "was",
            "of",
            "to",
            "in",
            "that",
            "it",
            "you",
            "for",
            "with",
            "this",
            "have",
            "not",
            "be",
            "on",
            "at",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "es",
            "y",
            "de",
            "que",
            "en",
            "un",
            "una",
            "por",
            "con",
            "para",
            "no",
            "se",
            "del",
            "al",
            "está",
            "como",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "est",
            "et",
            "de",
            "des",
            "que",
            "un",
            "une",
            "pour",
            "dans",
            "avec",
            "pas",
            "ce",
            "il",
            "je",
            "vous",
            "nous",
            "du",
            "au",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "lo",
            "la",
            "gli",
            "le",
            "è",
            "e",
            "di",
            "che",
            "un",
            "una",
            "per",
            "con",
            "non",
            "sono",
            "del",
            "della",
            "questo",
            "ho",
        ]
    ),
    "pt-br": frozenset(
        [
            "o",
            "a",
            "os",
            "as",
            "é",
            "e",
            "de",
            "que",
            "um",
            "uma",
            "para",
            "com",
            "não",
            "do",
            "da",
            "em",
            "no",
            "na",
            "você",
            "está",
        ]
    ),
}
_CHAR_CUES: dict[str, str] = {"es": "ñ¿¡", "fr": "çœêèàùâîûé", "it": "òìù", "pt-br": "ãõçê"}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _count(text: str, lo: str, hi: str) -> int:
    return sum(lo <= ch <= hi for ch in text)


def detect_language(text: str, *, default: str = "en-us") -> str:
    """Return the most likely language code for ``text``.

    Parameters
    ----------
    text : str
        Text to inspect (only the first 2,000 characters are read).
    default : str
        Returned when nothing points elsewhere (for example digits only).
    """
    sample = text[:2000]
    kana = _count(sample, "\u3040", "\u30ff")
    han = _count(sample, "\u4e00", "\u9fff")
    if _count(sample, "\u0900", "\u097f") > 0:
        return "hi"
    if kana > 0 or han > 0:
        return "ja"
    words = [w.lower() for w in _WORD.findall(sample)]
    if not words:
        return default
    scores = {lang: sum(w in stops for w in words) for lang, stops in _STOPWORDS.items()}
    lowered = sample.lower()
    for lang, cues in _CHAR_CUES.items():
        scores[lang] += 2 * sum(lowered.count(c) for c in cues)
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > 0 else default
