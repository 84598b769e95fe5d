"""Spell numbers, ordinals, currency amounts, percentages, times and dates in words.

num2words covers English, Spanish, French, Italian and Brazilian Portuguese; other languages keep
their digits (espeak-ng and OpenJTalk read digits natively).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from num2words import num2words

from voxclone.text.mapped import MappedText, PlainText

Doc = TypeVar("Doc", PlainText, MappedText)

# symbol → (singular, plural, minor singular, minor plural) per num2words language
_CURRENCY_WORDS: dict[str, dict[str, tuple[str, str, str, str]]] = {
    "en": {
        "$": ("dollar", "dollars", "cent", "cents"),
        "€": ("euro", "euros", "cent", "cents"),
        "£": ("pound", "pounds", "penny", "pence"),
        "¥": ("yen", "yen", "sen", "sen"),
    },
    "es": {
        "$": ("dólar", "dólares", "centavo", "centavos"),
        "€": ("euro", "euros", "céntimo", "céntimos"),
        "£": ("libra", "libras", "penique", "peniques"),
        "¥": ("yen", "yenes", "sen", "sen"),
    },
    "fr": {
        "$": ("dollar", "dollars", "cent", "cents"),
        "€": ("euro", "euros", "centime", "centimes"),
        "£": ("livre", "livres", "penny", "pence"),
        "¥": ("yen", "yens", "sen", "sen"),
    },
    "it": {
        "$": ("dollaro", "dollari", "centesimo", "centesimi"),
        "€": ("euro", "euro", "centesimo", "centesimi"),
        "£": ("sterlina", "sterline", "penny", "pence"),
        "¥": ("yen", "yen", "sen", "sen"),
    },
    "pt_BR": {
        "$": ("dólar", "dólares", "centavo", "centavos"),
        "€": ("euro", "euros", "cêntimo", "cêntimos"),
        "£": ("libra", "libras", "pêni", "pence"),
        "¥": ("iene", "ienes", "sen", "sen"),
        "R$": ("real", "reais", "centavo", "centavos"),
    },
}
_AND = {"en": "and", "es": "con", "fr": "et", "it": "e", "pt_BR": "e"}
_PERCENT = {"en": "percent", "es": "por ciento", "fr": "pour cent", "it": "per cento", "pt_BR": "por cento"}
_MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTH_NAMES = "|".join(_MONTHS_EN)

# Decimal comma languages write 1.234,5; English writes 1,234.5.
_NUM_EN = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_NUM_EU = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?"


def _to_number(raw: str, lang: str) -> int | float:
    clean = raw.replace(",", "") if lang == "en" else raw.replace(".", "").replace(",", ".")
    value = float(clean)
    return int(value) if "." not in clean else value


def _cardinal(value: int | float, lang: str) -> str:
    return str(num2words(value, lang=lang))


def _money(amount: int | float, symbol: str, lang: str) -> str:
    one, many, minor_one, minor_many = _CURRENCY_WORDS[lang].get(symbol, _CURRENCY_WORDS[lang]["$"])
    whole = int(amount)
    cents = round((amount - whole) * 100)
    text = f"{_cardinal(whole, lang)} {one if whole == 1 else many}"
    if cents:
        text += f" {_AND[lang]} {_cardinal(cents, lang)} {minor_one if cents == 1 else minor_many}"
    return text


def _time_en(hour: int, minute: int, suffix: str) -> str:
    words = _cardinal(hour, "en")
    if minute == 0 and not suffix:
        words += " hundred" if hour > 12 else " o'clock"
    elif minute == 0:
        pass
    elif minute < 10:
        words += f" oh {_cardinal(minute, 'en')}"
    else:
        words += f" {_cardinal(minute, 'en')}"
    if suffix:
        words += " " + " ".join(suffix.replace(".", "").upper())
    return words


def spell_numbers(text: str, lang: str) -> str:
    """Replace digits in ``text`` with words in num2words language ``lang`` (``en``, ``es``...).

    Handles, in order: ISO dates, times (``4:30 PM``), currency (``$12.50``, ``12 €``), percentages,
    ordinals (``3rd``, ``3º``, ``3e``), English years and ``March 3`` dates, then plain numbers.
    """
    return spell_numbers_in(PlainText(text), lang).text


def spell_numbers_in(doc: Doc, lang: str) -> Doc:
    """:func:`spell_numbers` on a :class:`~voxclone.text.mapped.PlainText` or a
    :class:`~voxclone.text.mapped.MappedText` (which then maps the words to the digits)."""
    num = _NUM_EN if lang == "en" else _NUM_EU
    subs: list[tuple[str, str | Callable[[re.Match[str]], str]]] = []
    if lang == "en":
        subs += [
            (r"\b(\d{4})-(\d{2})-(\d{2})\b", lambda m: _iso_date_en(m)),
            (
                r"\b(\d{1,2}):(\d{2})(?:\s*([AaPp]\.[Mm]\.|[AaPp][Mm]\b))?",
                lambda m: _time_en(int(m[1]), int(m[2]), m[3] or "") + _kept_period(m),
            ),
            (
                rf"\b({_MONTH_NAMES})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b",
                lambda m: f"{m[1]} {num2words(int(m[2]), lang='en', to='ordinal')}",
            ),
        ]
    else:
        subs.append(
            (r"\b(\d{1,2}):(\d{2})\b", lambda m: f"{_cardinal(int(m[1]), lang)} {_cardinal(int(m[2]), lang)}")
        )
    subs += [
        (rf"(R\$|[$€£¥])\s?({num})", lambda m: _money(_to_number(m[2], lang), m[1], lang)),
        (rf"({num})\s?(€|\$|£|¥)", lambda m: _money(_to_number(m[1], lang), m[2], lang)),
        (rf"({num})\s?%", lambda m: f"{_cardinal(_to_number(m[1], lang), lang)} {_PERCENT[lang]}"),
        (_ordinal_pattern(lang), lambda m: str(num2words(int(m[1]), lang=lang, to="ordinal"))),
    ]
    if lang == "en":
        subs.append(
            (
                r"(?<![\d.,])(1[1-9]\d\d|20\d\d)(?![\d.,]\d)(?!\s*%)",
                lambda m: str(num2words(int(m[1]), lang="en", to="year")),
            )
        )
    subs.append((r"(?<=\d)(?=[^\W\d_])", " "))  # 221B → 221 B
    subs.append((rf"(?<![\d])({num})", lambda m: _cardinal(_to_number(m[1], lang), lang)))
    for pattern, repl in subs:
        doc = doc.sub(pattern, repl)
    return doc


def _kept_period(m: re.Match[str]) -> str:
    """A period swallowed by ``a.m.``/``p.m.`` that also ended the sentence."""
    if not (m[3] or "").endswith("."):
        return ""
    rest = m.string[m.end() :]
    return "." if not rest.strip() or re.match(r"\s+[A-Z]", rest) else ""


def _ordinal_pattern(lang: str) -> str:
    suffix = {
        "en": r"(?:st|nd|rd|th)",
        "fr": r"(?:e|er|ère|ème|re)",
        "es": r"[ºª°]",
        "it": r"[ºª°]",
        "pt_BR": r"[ºª°]",
    }[lang]
    return rf"\b(\d+){suffix}(?![\w])"


def _iso_date_en(m: re.Match[str]) -> str:
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m[0]
    day_words = num2words(day, lang="en", to="ordinal")
    return f"{_MONTHS_EN[month - 1]} {day_words}, {num2words(year, lang='en', to='year')}"
