"""Normalisation: numbers, currency, times, dates, abbreviations, URLs, e-mails, per language."""

from __future__ import annotations

import pytest

from voxclone.errors import InvalidRequest
from voxclone.text import has_speakable_content, normalize, resolve_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I have 3 cats.", "I have three cats."),
        ("It costs $12.50 today.", "It costs twelve dollars and fifty cents today."),
        ("Only $5!", "Only five dollars!"),
        ("Pay £1 now.", "Pay one pound now."),
        ("We meet at 4:30 PM.", "We meet at four thirty P M."),
        ("Wake at 7:05 a.m. Then run.", "Wake at seven oh five A M. Then run."),
        ("At 9:00 sharp.", "At nine o'clock sharp."),
        ("Born on 2024-03-05.", "Born on March fifth, twenty twenty-four."),
        ("On March 3 we left.", "On March third we left."),
        ("In 1999 it began.", "In nineteen ninety-nine it began."),
        ("The 21st time.", "The twenty-first time."),
        ("He won 1,250 votes.", "He won one thousand, two hundred and fifty votes."),
        ("Pi is 3.14.", "Pi is three point one four."),
        ("Sales rose 12%.", "Sales rose twelve percent."),
        ("Dr. Smith and Mr. Jones.", "Doctor Smith and Mister Jones."),
        ("He lives on Baker St. Then he left.", "He lives on Baker Street. Then he left."),
        ("We prayed to St. Francis.", "We prayed to Saint Francis."),
        ("Go to https://example.com/docs now.", "Go to example dot com slash docs now."),
        ("Write to jane.doe@mail.org today.", "Write to jane dot doe at mail dot org today."),
        ("Salt & pepper.", "Salt and pepper."),
        ("Flat 221B.", "Flat two hundred and twenty-one B."),
    ],
)
def test_english(text: str, expected: str) -> None:
    assert normalize(text, language="en-us") == expected


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("es", "Tengo 3 gatos.", "Tengo tres gatos."),
        ("es", "Cuesta 12,50 €.", "Cuesta doce euros con cincuenta céntimos."),
        ("es", "El Sr. García llegó.", "El señor García llegó."),
        ("es", "Es el 1º día.", "Es el primero día."),
        ("fr", "J'ai 21 ans.", "J'ai vingt et un ans."),
        ("fr", "Le 2e jour.", "Le deuxième jour."),
        ("fr", "M. Dupont arrive.", "monsieur Dupont arrive."),
        ("it", "Ho 3 gatti e 1.000 libri.", "Ho tre gatti e mille libri."),
        ("it", "Il Sig. Rossi.", "Il signor Rossi."),
        ("pt-br", "Custa R$ 12,50.", "Custa doze reais e cinquenta centavos."),
        ("pt-br", "Tenho 2 irmãos.", "Tenho dois irmãos."),
        ("es", "Visita www.ejemplo.es hoy.", "Visita www punto ejemplo punto es hoy."),
    ],
)
def test_other_languages(language: str, text: str, expected: str) -> None:
    assert normalize(text, language=language) == expected


def test_digits_kept_where_the_g2p_reads_them() -> None:
    assert normalize("मेरे पास 3 किताबें हैं।", language="hi") == "मेरे पास 3 किताबें हैं।"
    assert normalize("３時に会いましょう。", language="ja") == "３時に会いましょう。"


def test_emoji_removed_and_whitespace_collapsed() -> None:
    assert normalize("Great  job 🎉🎉 team!\n\n\nNext.", language="en-us") == "Great job team!\nNext."
    assert not has_speakable_content(normalize("🎉 👍 ... !!", language="en-us"))
    assert has_speakable_content("a")


@pytest.mark.parametrize(
    ("code", "canonical"),
    [("en", "en-us"), ("EN_US", "en-us"), ("en-GB", "en-gb"), ("pt", "pt-br"), ("fr-FR", "fr"), ("ja", "ja")],
)
def test_language_aliases(code: str, canonical: str) -> None:
    assert resolve_language(code) == canonical


@pytest.mark.parametrize("code", ["xx", "", "klingon", "de"])
def test_unsupported_language(code: str) -> None:
    with pytest.raises(InvalidRequest) as e:
        resolve_language(code)
    assert e.value.code == "unsupported_language"
