"""Make written text speakable: abbreviations, URLs, e-mail addresses, symbols, numbers.

The rules are per language; numbers use num2words where it covers the language (see
:mod:`voxclone.text.numbers`). Emoji and other pictographs are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import TypeVar

from voxclone.text.languages import LANGUAGES
from voxclone.text.mapped import MappedText, PlainText
from voxclone.text.numbers import spell_numbers_in

Doc = TypeVar("Doc", PlainText, MappedText)


def _saint_or_street(m: re.Match[str]) -> str:
    """``St.`` after a capitalised word is a street (``Baker St.``), before a name a saint."""
    before = m.string[: m.start()].split()
    after = m.string[m.end() :].split()
    mid_sentence = len(before) >= 2 and not before[-2].endswith((".", "!", "?"))
    if before and before[-1][:1].isupper() and mid_sentence:
        return "Street."
    return "Saint" if after and after[0][:1].isupper() else "Street"


_ABBREVIATIONS: dict[str, tuple[tuple[str, str | Callable[[re.Match[str]], str]], ...]] = {
    "en": (
        (r"\bDr\.(?=\s)", "Doctor"),
        (r"\bMr\.(?=\s)", "Mister"),
        (r"\bMrs\.(?=\s)", "Missus"),
        (r"\bMs\.(?=\s)", "Miz"),
        (r"\bProf\.(?=\s)", "Professor"),
        (r"\bJr\.", "Junior"),
        (r"\bSr\.", "Senior"),
        (r"\bSt\.", lambda m: _saint_or_street(m)),
        (r"\bAve\.", "Avenue"),
        (r"\bvs\.?(?=\s)", "versus"),
        (r"\betc\.", "et cetera"),
        (r"\be\.g\.", "for example"),
        (r"\bi\.e\.", "that is"),
        (r"\bNo\.(?=\s*\d)", "number"),
        (r"\bapprox\.", "approximately"),
        (r"\bMt\.(?=\s)", "Mount"),
    ),
    "es": (
        (r"\bSr\.", "señor"),
        (r"\bSra\.", "señora"),
        (r"\bSrta\.", "señorita"),
        (r"\bDr\.", "doctor"),
        (r"\bDra\.", "doctora"),
        (r"\bUd\.", "usted"),
        (r"\betc\.", "etcétera"),
    ),
    "fr": (
        (r"\bM\.(?=\s)", "monsieur"),
        (r"\bMme\b\.?", "madame"),
        (r"\bMlle\b\.?", "mademoiselle"),
        (r"\bDr\b\.?", "docteur"),
        (r"\betc\.", "et cetera"),
    ),
    "it": (
        (r"\bSig\.", "signor"),
        (r"\bSig\.ra\b", "signora"),
        (r"\bDott\.", "dottor"),
        (r"\bDr\.", "dottor"),
        (r"\becc\.", "eccetera"),
    ),
    "pt_BR": ((r"\bSr\.", "senhor"), (r"\bSra\.", "senhora"), (r"\bDr\.", "doutor"), (r"\bDra\.", "doutora")),
}
# word for "." , "/", "@" and "&" per num2words language
_SYMBOL_WORDS: dict[str, tuple[str, str, str, str]] = {
    "en": ("dot", "slash", "at", "and"),
    "es": ("punto", "barra", "arroba", "y"),
    "fr": ("point", "slash", "arobase", "et"),
    "it": ("punto", "barra", "chiocciola", "e"),
    "pt_BR": ("ponto", "barra", "arroba", "e"),
}
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"]+[^\s<>\".,;:!?)]", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_KEEP_CATEGORIES = ("L", "M", "N", "P", "Z")


def _read_address(address: str, words: tuple[str, str, str, str]) -> str:
    dot, slash, at, _ = words
    address = re.sub(r"^(?:https?://)", "", address, flags=re.IGNORECASE).rstrip("/")
    address = address.replace("@", f" {at} ").replace("/", f" {slash} ").replace(".", f" {dot} ")
    address = re.sub(r"[_\-+=?&#]", " ", address)
    return re.sub(r"\s+", " ", address).strip()


def _speakable_char(ch: str) -> str:
    """``ch`` itself, or a space for emoji, pictographs and control characters (line breaks and
    tabs are kept)."""
    if ch in "\n\t" or unicodedata.category(ch)[0] in _KEEP_CATEGORIES or ch in "$€£¥%&+@#/=":
        return ch
    return " "


def has_speakable_content(text: str) -> bool:
    """True when ``text`` contains at least one letter or digit."""
    return any(unicodedata.category(ch)[0] in ("L", "N") for ch in text)


def normalize(text: str, *, language: str) -> str:
    """Rewrite ``text`` so that G2P reads it as a person would.

    Parameters
    ----------
    text : str
        Raw user text, any length.
    language : str
        Canonical language code (see :func:`voxclone.text.resolve_language`).

    Returns
    -------
    str
        Text with numbers, currency, times, dates, abbreviations, URLs and e-mail addresses
        spelled out (where the language has rules), emoji removed and spaces collapsed
        (line breaks kept: they mark sentence boundaries).
    """
    return _normalize(PlainText(text), language).text


def normalize_mapped(text: str, *, language: str) -> MappedText:
    """:func:`normalize` (the same text) with each character's source span in ``text``."""
    return _normalize(MappedText.of(text), language)


def _normalize(doc: Doc, language: str) -> Doc:
    doc = doc.nfc().translate(_speakable_char)
    lang = LANGUAGES[language].num2words
    if lang is not None:
        words = _SYMBOL_WORDS[lang]
        doc = doc.sub(_EMAIL, lambda m: _read_address(m[0], words))
        doc = doc.sub(_URL, lambda m: _read_address(m[0], words))
        for pattern, repl in _ABBREVIATIONS.get(lang, ()):
            doc = doc.sub(pattern, repl)
        doc = spell_numbers_in(doc, lang)
        doc = doc.sub(r"\s&\s", f" {words[3]} ")
    doc = doc.sub(r"[ \t\u00a0]+", " ")
    doc = doc.sub(r" *\n[ \n]*", "\n")
    return doc.strip()
