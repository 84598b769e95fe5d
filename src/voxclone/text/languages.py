"""Language codes voxclone speaks, their aliases, and per-language back-end names."""

from __future__ import annotations

from dataclasses import dataclass

from voxclone.errors import InvalidRequest


@dataclass(frozen=True)
class Language:
    """One supported language.

    Attributes
    ----------
    code : str
        Public code (``"en-us"``, ``"pt-br"``...).
    name : str
        English name shown to users.
    espeak : str | None
        espeak-ng voice used for G2P, ``None`` where another G2P is used.
    num2words : str | None
        num2words language code used by the normaliser, ``None`` if it has none.
    """

    code: str
    name: str
    espeak: str | None
    num2words: str | None


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("en-us", "English (American)", "en-us", "en"),
        Language("en-gb", "English (British)", "en-gb", "en"),
        Language("es", "Spanish", "es", "es"),
        Language("fr", "French", "fr-fr", "fr"),
        Language("it", "Italian", "it", "it"),
        Language("pt-br", "Portuguese (Brazilian)", "pt-br", "pt_BR"),
        Language("hi", "Hindi", "hi", None),
        Language("ja", "Japanese", None, None),
    )
}

ALIASES: dict[str, str] = {
    "en": "en-us",
    "en-uk": "en-gb",
    "es-es": "es",
    "es-mx": "es",
    "es-419": "es",
    "fr-fr": "fr",
    "fr-ca": "fr",
    "it-it": "it",
    "pt": "pt-br",
    "hi-in": "hi",
    "ja-jp": "ja",
}


def resolve_language(code: str) -> str:
    """Canonical code for ``code`` (case-insensitive, ``_`` or ``-``, aliases such as ``en``, ``pt``).

    Raises
    ------
    InvalidRequest
        ``unsupported_language`` for anything voxclone cannot speak.
    """
    key = code.strip().lower().replace("_", "-")
    key = ALIASES.get(key, key)
    if key not in LANGUAGES:
        raise InvalidRequest(
            f"language {code!r} is not supported; use one of {', '.join(LANGUAGES)}",
            code="unsupported_language",
            details={"supported": list(LANGUAGES)},
        )
    return key
