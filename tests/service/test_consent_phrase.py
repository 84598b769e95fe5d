"""The consent phrase and its word check: slip-tolerant on the statement, strict on the words."""

from __future__ import annotations

import itertools
from difflib import SequenceMatcher

from voxclone.consent.phrase import (
    CHECK_WORDS,
    STATEMENT,
    WORD_SIMILARITY_MIN,
    WORDS,
    check_words,
    new_phrase,
    normalize_words,
)


def test_phrases_state_consent_and_end_with_fresh_random_words() -> None:
    phrase = new_phrase(speaker_name="Ada Lovelace")
    assert phrase.text.startswith("My name is Ada Lovelace. " + STATEMENT)
    assert len(set(phrase.words)) == CHECK_WORDS and set(phrase.words) <= set(WORDS)
    assert phrase.text.endswith(", ".join(phrase.words) + ".")
    assert len({new_phrase().words for _ in range(50)}) == 50


def test_no_two_check_words_pass_for_each_other() -> None:
    """A replayed recording's words can only pass if the words look alike: none do."""
    vocabulary = set(WORDS) | set(normalize_words(STATEMENT + " my check words are"))
    assert len(set(WORDS)) == len(WORDS) >= 150
    for a, b in itertools.combinations(sorted(vocabulary), 2):
        if a in WORDS or b in WORDS:
            assert SequenceMatcher(a=a, b=b).ratio() < WORD_SIMILARITY_MIN, (a, b)


def test_recognition_slips_pass_and_replays_fail() -> None:
    phrase = new_phrase()
    words = ", ".join(phrase.words)
    exact = f"{STATEMENT} My check words are {words}."
    assert check_words(heard=exact, statement=phrase.statement, words=phrase.words).accepted
    slips = (
        f"Agree, that box clone may create a synthetic copy of my voice. And use it to generate speed. "
        f"My check words are {words.upper()}"
    )
    verdict = check_words(heard=slips, statement=phrase.statement, words=phrase.words)
    assert verdict.accepted and 0.8 <= verdict.score < 1
    assert check_words(
        heard=exact.replace("voxclone", "Vox-clone"), statement=STATEMENT, words=phrase.words
    ).accepted

    # one check word misheard ("kettle" as "cattle") passes; two do not
    fixed = ("rainbow", "walrus", "tulip", "kettle")
    heard = f"{STATEMENT} My check words are rainbow, walrus tulip cattle."
    assert check_words(heard=heard, statement=STATEMENT, words=fixed).accepted
    heard = f"{STATEMENT} My check words are rainbow, walnut tulip cattle."
    assert not check_words(heard=heard, statement=STATEMENT, words=fixed).accepted

    other = next(p for p in iter(new_phrase, None) if not set(p.words) & set(phrase.words))
    replay = f"{STATEMENT} My check words are {', '.join(other.words)}."
    verdict = check_words(heard=replay, statement=phrase.statement, words=phrase.words)
    assert not verdict.accepted and sum(verdict.words_heard) <= 1  # at most one loose look-alike
    for _ in range(2000):  # a recording of any other challenge never passes
        old, new = new_phrase(), new_phrase()
        replay = f"{STATEMENT} My check words are {', '.join(old.words)}."
        shared = len(set(old.words) & set(new.words))
        assert shared >= 3 or not check_words(heard=replay, statement=STATEMENT, words=new.words).accepted
    one_missing = exact.replace(phrase.words[2], other.words[0])
    assert not check_words(heard=one_missing, statement=STATEMENT, words=phrase.words).accepted
    half = f"I agree that voxclone may create. My check words are {words}."
    assert not check_words(heard=half, statement=STATEMENT, words=phrase.words).accepted
    assert not check_words(heard="", statement=STATEMENT, words=phrase.words).accepted


def test_a_title_whisper_abbreviates_is_the_check_word() -> None:
    """Whisper tiny.en wrote "doctor" as "Dr." in a reading of a real challenge (CI): with "hollow"
    heard as "Hall" (a slip) that made two misses, and the speaker was refused."""
    words = ("pickle", "doctor", "hollow", "wagon")
    heard = (
        "I agree that Vox clone may create a synthetic copy of my voice. And use it to generate "
        "speech. My check words are pickle. Dr. Hall Wagon."
    )
    assert check_words(heard=heard, statement=STATEMENT, words=words).accepted
    assert normalize_words("Dr. Capt. Mr. Smith") == ["doctor", "captain", "mister", "smith"]
