"""Multilingual text front-end: language codes, detection, normalisation, splitting and G2P.

Everything here is engine-neutral text processing; the Kokoro engine maps its output to tokens.
"""

from voxclone.text.detect import detect_language
from voxclone.text.languages import LANGUAGES, resolve_language
from voxclone.text.normalize import has_speakable_content, normalize
from voxclone.text.split import split_clauses, split_sentences, split_words

__all__ = [
    "LANGUAGES",
    "detect_language",
    "has_speakable_content",
    "normalize",
    "resolve_language",
    "split_clauses",
    "split_sentences",
    "split_words",
]
