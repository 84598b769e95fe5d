"""Consent phrases and the word check.

A phrase is a fixed statement of consent followed by ``CHECK_WORDS`` random words from
:data:`WORDS`, so an old recording cannot be replayed. The word check normalises what the
recogniser heard and what was expected the way Whisper's English normaliser does (lower case,
no punctuation, hyphens as spaces, spelled-out British variants folded), aligns the two word
sequences, and accepts when

* at least ``STATEMENT_MIN`` of the statement's words were heard, in order (small recognition
  slips pass), and
* every random word was heard, in order: all but at most one at least ``WORD_SIMILARITY_MIN``
  alike (character ratio) to the expected word, the one slip at least ``WORD_SLIP_MIN`` alike
  ("kettle" heard as "cattle"). No two words of :data:`WORDS` are ``WORD_SIMILARITY_MIN`` alike,
  so a recording made for another challenge would need three of its random words to be this
  challenge's own: replay fails.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

STATEMENT = "I agree that voxclone may create a synthetic copy of my voice and use it to generate speech."
"""The consent statement (English); the random words follow it."""

CHECK_WORDS = 4
"""Random words at the end of each phrase (about 29 bits of chance from :data:`WORDS`)."""

STATEMENT_MIN = 0.8
"""Fraction of the statement's words (0–1) that must be heard, in order."""

WORD_SIMILARITY_MIN = 0.75
"""Character similarity (0–1, difflib ratio) the random words must reach against what was heard."""

WORD_SLIP_MIN = 0.5
"""Similarity (0–1) enough for one random word per phrase (a recognition slip)."""

# Concrete, common words that tiny recognisers spell one way, with no homophones among them.
_WORD_LIST = """
    apple river tiger candle garden pencil window rocket silver orange marble ladder castle dragon
    forest guitar hammer island jacket lemon magnet needle ocean pepper rabbit tomato umbrella
    violin wagon yellow zebra anchor basket camera desert engine feather giraffe harbor helmet
    jungle kettle lantern meadow nickel quarter ribbon shadow thunder tunnel valley walnut bottle
    bridge button carpet cherry circle cookie cotton dentist doctor elbow finger flower gravel
    hollow honey insect kitchen lizard mango mirror monkey muffin napkin noodle onion orbit paddle
    pillow planet potato puzzle rainbow rhythm sandal signal spider spinach sponge statue summer
    sunset teapot ticket tractor trumpet turtle velvet village volcano waffle whistle winter yogurt
    almond bamboo banana beaver biscuit blossom bucket cabbage cactus canyon captain carrot cereal
    chimney cinema coconut compass copper crystal cushion dolphin eagle falcon fossil galaxy garlic
    goblin granite hazel hockey iceberg igloo jasmine journal kayak koala lobster meteor mitten
    mustard nectar olive peanut pelican pickle pirate pumpkin radish raven robot sailor scooter
    seagull shovel skeleton slipper snowman squirrel sugar tablet tennis timber toaster tulip
    unicorn vanilla vessel walrus weasel wheat
"""
WORDS: tuple[str, ...] = tuple(_WORD_LIST.split())

_BRITISH = {"colour": "color", "harbour": "harbor", "centre": "center", "metre": "meter"}
# Titles Whisper writes abbreviated ("Dr. Hall" for "doctor hollow"), spelled out as Whisper's own
# English normaliser does; "doctor" and "captain" are check words.
_TITLES = {"dr": "doctor", "capt": "captain", "mr": "mister", "mrs": "missus", "prof": "professor"}


@dataclass(frozen=True)
class Phrase:
    """A challenge phrase: ``text`` to read aloud; ``statement`` and ``words`` are what is checked."""

    text: str
    statement: str
    words: tuple[str, ...]


def new_phrase(*, speaker_name: str | None = None, count: int = CHECK_WORDS) -> Phrase:
    """A fresh phrase with ``count`` random words (cryptographically random, no repeats)."""
    pool = list(WORDS)
    words = []
    for _ in range(count):
        words.append(pool.pop(secrets.randbelow(len(pool))))
    intro = f"My name is {speaker_name.strip()}. " if speaker_name and speaker_name.strip() else ""
    text = f"{intro}{STATEMENT} My check words are {', '.join(words)}."
    return Phrase(text=text, statement=STATEMENT, words=tuple(words))


def normalize_words(text: str) -> list[str]:
    """Words as Whisper's English normaliser compares them: NFKC, lower case, bracketed asides
    and punctuation removed, hyphens split, British spellings folded to American, titles spelled
    out ("Dr." → "doctor")."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[<\[][^>\]]*[>\]]|\([^)]*\)", " ", text)
    text = text.replace("’", "'").replace("-", " ")
    text = re.sub(r"'s\b", "s", text)
    text = re.sub(r"[^\w\s]", " ", text)
    return [_TITLES.get(w, _BRITISH.get(w, w)) for w in text.split()]


@dataclass(frozen=True)
class WordCheck:
    """Outcome of :func:`check_words`: ``score`` (0–1) is the statement's share heard when all
    random words were heard, else the lower of it and the random words' share."""

    accepted: bool
    score: float
    statement_score: float
    words_heard: tuple[bool, ...]


def check_words(*, heard: str, statement: str, words: tuple[str, ...]) -> WordCheck:
    """Compare a transcript ``heard`` with the expected ``statement`` and random ``words``."""
    expected = normalize_words(statement)
    targets = [normalize_words(w)[0] if normalize_words(w) else w for w in words]
    got = _merge_splits(normalize_words(heard), vocabulary=set(expected) | set(targets))
    matcher = SequenceMatcher(a=expected, b=got, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size]
    statement_score = sum(b.size for b in blocks) / max(1, len(expected))
    # random words: after the statement, each in order after the previous one; all but one
    # strictly alike
    heard_flags: list[bool] = []
    slips = 0
    pos = blocks[-1].b + blocks[-1].size if blocks else 0
    for target in targets:
        found, slip = _find(target, got, start=pos)
        if found >= 0 and slip:
            slips += 1
        heard_flags.append(found >= 0 and (not slip or slips <= 1))
        if found >= 0:
            pos = found + 1
    words_share = sum(heard_flags) / max(1, len(words))
    accepted = statement_score >= STATEMENT_MIN and all(heard_flags)
    score = statement_score if all(heard_flags) else min(statement_score, words_share)
    return WordCheck(
        accepted=accepted,
        score=round(score, 4),
        statement_score=round(statement_score, 4),
        words_heard=tuple(heard_flags),
    )


def _find(target: str, got: list[str], *, start: int) -> tuple[int, bool]:
    """Index of the first heard word from ``start`` on that is strictly alike to ``target``, else
    of the first one that is a slip of it, else -1; and whether it is a slip."""
    ratios = [SequenceMatcher(a=target, b=w).ratio() for w in got[start:]]
    for i, r in enumerate(ratios):
        if r >= WORD_SIMILARITY_MIN:
            return start + i, False
    for i, r in enumerate(ratios):
        if r >= WORD_SLIP_MIN:
            return start + i, True
    return -1, False


def _merge_splits(got: list[str], *, vocabulary: set[str]) -> list[str]:
    """Join two heard words whose concatenation is an expected word the first is not
    ("vox clone" → "voxclone", "pop corn" → "popcorn")."""
    out: list[str] = []
    i = 0
    while i < len(got):
        if i + 1 < len(got) and got[i] not in vocabulary and got[i] + got[i + 1] in vocabulary:
            out.append(got[i] + got[i + 1])
            i += 2
        else:
            out.append(got[i])
            i += 1
    return out
