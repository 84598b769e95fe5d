"""Kokoro's text pipeline: text → normalised sentences → phoneme chunks the model accepts.

The first sentence of a stream is cut once, after its first phrase (2-5 words ending at a comma
or before a conjunction, preposition or relative word, rendered with continuation intonation), so
audio starts quickly; a text of one short sentence stays whole. Every other chunk is a whole
sentence, split at clauses and then words only when it exceeds the model's token limit. Chunks
carry the pause that precedes them.

Thread safety: a :class:`KokoroFrontend` is shared; it keeps no per-request state (the G2P guards
its own back-ends).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from voxclone.engines.kokoro.model import MAX_TOKENS
from voxclone.errors import InvalidRequest
from voxclone.text import (
    detect_language,
    has_speakable_content,
    normalize,
    resolve_language,
    split_clauses,
    split_sentences,
    split_words,
)
from voxclone.text.g2p import G2P
from voxclone.text.phrases import DETERMINERS
from voxclone.text.split import split_after_words, split_first_phrase

# Longer chunks cost memory (the decoder's activations grow with audio length: ~1.1 GB peak RSS at
# 400 tokens, ~650 MB at 240) and barely change speed, so longer sentences split at clauses, then words.
CHUNK_TOKEN_LIMIT = min(160, MAX_TOKENS - 10)
# Only the stream's first sentence is cut, once, after its first phrase (a clause mark, or before a
# conjunction, relative word or preposition), so audio starts early without cutting other sentences.
# Every cut costs intelligibility at the join (Whisper WER on the 20 English dev lines, all cut:
# 1.6 % mean vs 0.8 % uncut), so a text that is one sentence is cut only when that sentence is long.
FIRST_CUT_MIN_WORDS = 6  # shorter first sentences stay whole
FIRST_CUT_ALONE_MIN_WORDS = 20  # a text of one sentence is cut only from this many words
FIRST_HEAD_WORDS = (2, 5)  # the head's length in words
FIRST_REST_MIN_WORDS = 3
FIRST_DETERMINER_MIN_WORDS = 3  # "He opened | the box" is too short a head to sound whole
FIRST_FORCED_CUT_MIN_WORDS = 12  # a first sentence this long is cut even where no phrase word is
# The rest of the first sentence, when this long, is cut once more, with a part of these many words:
# the second chunk must be ready before the head has played.
SECOND_CUT_MIN_WORDS = 12
SECOND_PART_WORDS = (4, 10)
# Until this many words have been chunked, a sentence longer than RAMP_GROWTH × the words before it
# (at least RAMP_MIN_PART_WORDS) is cut once at a phrase boundary: chunk lengths grow with the audio
# already queued, so a chunk is ready before the audio before it has played on a CPU running at
# half real time (measured stall of a streamed paragraph on a 2-core AMD EPYC: 0.7 s without).
RAMP_WORDS = 30
RAMP_GROWTH = 1.5
RAMP_MIN_PART_WORDS = 8
# Phoneme appended to a head that ends without punctuation: Kokoro then ends it with continuation
# (non-final) intonation instead of a sentence-final fall.
CONTINUATION = ","
SENTENCE_PAUSE_S = 0.28
PARAGRAPH_PAUSE_S = 0.55
CLAUSE_PAUSE_S = 0.12


@dataclass(frozen=True)
class Chunk:
    """One inference unit: source text, its phonemes and token ids, and the pause before it (s)."""

    text: str
    phonemes: str
    tokens: tuple[int, ...]
    pause_s: float


@dataclass(frozen=True)
class Prepared:
    """Validated request text: canonical language and normalised paragraphs."""

    language: str
    paragraphs: tuple[str, ...]


class KokoroFrontend:
    """Turns user text into :class:`Chunk` s for :class:`~voxclone.engines.kokoro.model.KokoroModel`.

    Parameters
    ----------
    vocab : dict[str, int]
        Kokoro's symbol → token-id table.
    g2p : G2P, optional
        Shared grapheme-to-phoneme converter; a new one by default.
    """

    def __init__(self, vocab: dict[str, int], g2p: G2P | None = None):
        self.vocab = vocab
        self.g2p = g2p or G2P()

    def prepare(self, text: str, *, language: str | None) -> Prepared:
        """Validate and normalise ``text``; cheap even for 100,000 characters.

        Raises
        ------
        InvalidRequest
            ``empty_text`` when nothing speakable remains, ``unsupported_language``.
        """
        if not text or not text.strip():
            raise InvalidRequest("text is empty; send at least one word to speak", code="empty_text")
        lang = resolve_language(language) if language else detect_language(text)
        normalised = normalize(text, language=lang)
        if not has_speakable_content(normalised):
            raise InvalidRequest(
                "text has nothing speakable (only punctuation, symbols or emoji); send words",
                code="empty_text",
            )
        paragraphs = tuple(p for p in normalised.split("\n") if has_speakable_content(p))
        return Prepared(language=lang, paragraphs=paragraphs)

    def tokenize(self, phonemes: str) -> tuple[int, ...]:
        """Token ids for a phoneme string (unknown symbols dropped)."""
        return tuple(self.vocab[c] for c in phonemes if c in self.vocab)

    def phonemize(self, text: str, *, language: str | None = None) -> str:
        """Normalise and phonemize ``text`` as a whole (for short texts such as test sentences)."""
        prepared = self.prepare(text, language=language)
        return " ".join(self.g2p.phonemize(p, language=prepared.language) for p in prepared.paragraphs)

    def chunks(self, prepared: Prepared, *, live: bool = False) -> Iterator[Chunk]:
        """Yield the chunks of ``prepared`` text lazily (G2P runs as chunks are requested).

        The first sentence is cut after its first phrase (:meth:`first_split`), so audio starts
        early; until :data:`RAMP_WORDS` words have been chunked, a later sentence longer than
        :func:`ramp_allowance` is cut once more at a phrase boundary, so each chunk is ready before
        the audio before it has played; every later chunk is a whole sentence unless it exceeds
        :data:`CHUNK_TOKEN_LIMIT` tokens. A text of one sentence is cut like that only when it is
        long, unless ``live`` (the audio is played as it arrives: the first audio matters more than
        that sentence's prosody).
        """
        first = True
        spoken = 0  # words in the chunks so far
        sentences = [split_sentences(paragraph) for paragraph in prepared.paragraphs]
        alone = not live and len(sentences) == 1 and len(sentences[0]) == 1
        for p_index, paragraph_sentences in enumerate(sentences):
            for s_index, sentence in enumerate(paragraph_sentences):
                if not has_speakable_content(sentence):
                    continue
                if first:
                    parts = self.first_split(sentence, prepared.language, alone=alone)
                elif spoken < RAMP_WORDS:
                    parts = _ramp_split(sentence, prepared.language, allowance=ramp_allowance(spoken))
                else:
                    parts = [sentence]
                prev_text: str | None = None
                for k, part in enumerate(parts):
                    for piece_text, phonemes, tokens in self._fit(
                        part, prepared.language, head=k < len(parts) - 1
                    ):
                        if first:
                            pause = 0.0
                        elif prev_text is not None:
                            pause = CLAUSE_PAUSE_S if _ends_clause(prev_text) else 0.0
                        else:
                            pause = PARAGRAPH_PAUSE_S if s_index == 0 and p_index > 0 else SENTENCE_PAUSE_S
                        first = False
                        prev_text = piece_text
                        spoken += len(piece_text.split())
                        if tokens:
                            yield Chunk(piece_text, phonemes, tokens, pause)

    def first_split(self, sentence: str, language: str, *, alone: bool = False) -> list[str]:
        """The first sentence's parts: ``[head, rest]`` or ``[head, middle, rest]`` cut after its
        first phrases, or ``[sentence]``.

        The head (:data:`FIRST_HEAD_WORDS` words) ends at a clause mark or before a phrase-opening
        word; failing that, before a determiner; failing that, in a sentence of at least
        :data:`FIRST_FORCED_CUT_MIN_WORDS` words, after the most words a head may have. A short
        head is what makes the first audio early whatever the sentence looks like. A long rest is
        cut once more the same way (:data:`SECOND_PART_WORDS`, no forced cut), so the second chunk
        is ready before the head has played (no stall on a slower CPU).

        ``alone`` says the text has no other sentence; it is then cut only from
        :data:`FIRST_CUT_ALONE_MIN_WORDS` words (counted as characters / 4 for text without spaces).
        """
        words = len(sentence.split())
        words = words if words > 1 else len(sentence) // 4
        if words < (FIRST_CUT_ALONE_MIN_WORDS if alone else FIRST_CUT_MIN_WORDS):
            return [sentence]
        cut = _phrase_cut(sentence, language, FIRST_HEAD_WORDS, forced=words >= FIRST_FORCED_CUT_MIN_WORDS)
        if cut is None:
            return [sentence]
        head, rest = cut
        if len(rest.split()) < SECOND_CUT_MIN_WORDS:
            return [head, rest]
        second = _phrase_cut(rest, language, SECOND_PART_WORDS, forced=False)
        return [head, *second] if second is not None else [head, rest]

    def _piece(self, text: str, language: str) -> tuple[str, str, tuple[int, ...]]:
        phonemes = self.g2p.phonemize(text, language=language)
        return text, phonemes, self.tokenize(phonemes)

    def _fit(self, text: str, language: str, *, head: bool = False) -> list[tuple[str, str, tuple[int, ...]]]:
        """Phonemize ``text`` into pieces of at most :data:`CHUNK_TOKEN_LIMIT` tokens; a ``head``
        (the start of a cut sentence) ends with :data:`CONTINUATION` unless it ends with punctuation."""
        whole = self._piece(text, language)
        if head and whole[1] and whole[1][-1] not in _PUNCTUATION:
            phonemes = whole[1] + CONTINUATION
            whole = (text, phonemes, self.tokenize(phonemes))
        if len(whole[2]) <= CHUNK_TOKEN_LIMIT:
            return [whole]
        clauses = split_clauses(text)
        if len(clauses) > 1:
            parts = [p for clause in clauses for p in self._fit(clause, language)]
            return self._merge(parts, language)
        words = split_words(text, max_words=max(1, len(text.split()) // 2))
        if len(words) <= 1:
            # a single unbreakable token run: cut its characters in halves
            half = max(1, len(text) // 2)
            words = [text[:half], text[half:]]
        return [p for group in words for p in self._fit(group, language)]

    def _merge(
        self, parts: list[tuple[str, str, tuple[int, ...]]], language: str
    ) -> list[tuple[str, str, tuple[int, ...]]]:
        """Join neighbouring clause pieces while they stay under the token limit."""
        merged: list[tuple[str, str, tuple[int, ...]]] = []
        for part in parts:
            if merged and len(merged[-1][2]) + len(part[2]) + 1 <= CHUNK_TOKEN_LIMIT:
                prev = merged.pop()
                phonemes = f"{prev[1]} {part[1]}"
                merged.append((f"{prev[0]} {part[0]}", phonemes, self.tokenize(phonemes)))
            else:
                merged.append(part)
        return merged


def ramp_allowance(spoken: int) -> int:
    """Most words the next sentence may have uncut when ``spoken`` words were chunked before it."""
    return max(RAMP_MIN_PART_WORDS, int(RAMP_GROWTH * spoken))


def _ramp_split(sentence: str, language: str, *, allowance: int) -> list[str]:
    """``sentence`` cut once, with a first part of at most ``allowance`` words, when longer."""
    if len(sentence.split()) <= allowance:
        return [sentence]
    cut = _phrase_cut(sentence, language, (SECOND_PART_WORDS[0], allowance), forced=False)
    return list(cut) if cut is not None else [sentence]


def _phrase_cut(text: str, language: str, span: tuple[int, int], *, forced: bool) -> tuple[str, str] | None:
    """``(head, rest)`` with a head of ``span`` words: at a clause mark or before a phrase-opening
    word, else before a determiner (at least :data:`FIRST_DETERMINER_MIN_WORDS` words), else (when
    ``forced``) after ``span[1]`` words; ``None`` when there is no such cut."""
    lo, hi = span
    rest = FIRST_REST_MIN_WORDS
    return (
        split_first_phrase(text, language=language, min_words=lo, max_words=hi, min_rest=rest)
        or split_first_phrase(
            text,
            language=language,
            min_words=max(lo, FIRST_DETERMINER_MIN_WORDS),
            max_words=hi,
            min_rest=rest,
            openers=DETERMINERS.get(language.split("-")[0], frozenset()),
        )
        or (split_after_words(text, words=hi, min_rest=rest) if forced else None)
    )


_PUNCTUATION = frozenset(';:,.!?—…"()“”')


def _ends_clause(text: str) -> bool:
    return text.rstrip()[-1:] in ",;:—–-、，；："
