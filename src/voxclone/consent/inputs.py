"""Checks of a consent challenge's optional inputs (``language``, ``speaker_name``)."""

from __future__ import annotations

import unicodedata

from voxclone.errors import InvalidRequest, Unprocessable

MAX_SPEAKER_NAME_CHARS = 100


def check_language(language: str | None) -> str:
    """``en`` (or ``en-…``); anything else answers 422 ``consent_language_unsupported``."""
    if language is None:
        return "en"
    if not isinstance(language, str):
        raise InvalidRequest('language must be a string such as "en"', code="invalid_language")
    tag = language.strip().lower().replace("_", "-")
    if tag == "en" or tag.startswith("en-"):
        return "en"
    raise Unprocessable(
        f"spoken consent in {language!r} cannot be checked yet: only English has an offline recogniser "
        'on this server; read the English phrase (language "en")',
        code="consent_language_unsupported",
    )


def check_speaker_name(name: str | None) -> str | None:
    if name is None:
        return None
    if (
        not isinstance(name, str)
        or len(name) > MAX_SPEAKER_NAME_CHARS
        or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name)
    ):
        raise InvalidRequest(
            f"speaker_name must be at most {MAX_SPEAKER_NAME_CHARS} characters on one line",
            code="invalid_speaker_name",
        )
    return name.strip() or None
