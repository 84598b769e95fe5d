"""Kokoro's text pipeline: text → normalised sentences → phoneme chunks the model accepts.

The first chunk of a stream is kept short (its first clause or first few words) so audio starts
quickly; later chunks are whole sentences, split at clauses and then words only when a sentence
exceeds the model's token limit. Chunks carry the pause that precedes them.

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

# Longer chunks cost memory (the decoder's activations grow with audio length: ~1.1 GB peak RSS at
# 400 tokens, ~650 MB at 240) and barely change speed, so longer sentences split at clauses, then words.
CHUNK_TOKEN_LIMIT = min(160, MAX_TOKENS - 10)
FIRST_CHUNK_TOKENS = 30  # a first chunk longer than this is cut at a clause or after a few words
FIRST_CHUNK_WORDS = 4
# The chunks after it grow step by step (tokens, words), so each is ready before the audio already
# sent has finished playing (the model runs at roughly half real time on two cores).
GROWING_CAPS = ((FIRST_CHUNK_TOKENS, FIRST_CHUNK_WORDS), (64, 10), (110, 18))
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

    def chunks(self, prepared: Prepared) -> Iterator[Chunk]:
        """Yield the chunks of ``prepared`` text lazily (G2P runs as chunks are requested).

        The first chunks of a stream are cut short at clauses or words (:data:`GROWING_CAPS`), so
        audio starts early and later, longer chunks are synthesized while earlier ones play.
        """
        caps = iter(GROWING_CAPS)
        cap = next(caps, None)
        first = True
        for p_index, paragraph in enumerate(prepared.paragraphs):
            for s_index, sentence in enumerate(split_sentences(paragraph)):
                if not has_speakable_content(sentence):
                    continue
                queue = self._fit(sentence, prepared.language)
                prev_text: str | None = None
                while queue:
                    piece = queue.pop(0)
                    if cap is not None:
                        head, rest = self._cut(piece, prepared.language, *cap)
                        if head is not None:
                            queue[:0] = self._fit(rest, prepared.language)
                            piece = head
                        cap = next(caps, None)
                    piece_text, phonemes, tokens = piece
                    if first:
                        pause = 0.0
                    elif prev_text is not None:
                        pause = CLAUSE_PAUSE_S if piece_text and _ends_clause(prev_text) else 0.0
                    else:
                        pause = PARAGRAPH_PAUSE_S if s_index == 0 and p_index > 0 else SENTENCE_PAUSE_S
                    first = False
                    prev_text = piece_text
                    if tokens:
                        yield Chunk(piece_text, phonemes, tokens, pause)

    def _piece(self, text: str, language: str) -> tuple[str, str, tuple[int, ...]]:
        phonemes = self.g2p.phonemize(text, language=language)
        return text, phonemes, self.tokenize(phonemes)

    def _fit(self, text: str, language: str) -> list[tuple[str, str, tuple[int, ...]]]:
        """Phonemize ``text`` into pieces of at most :data:`CHUNK_TOKEN_LIMIT` tokens."""
        whole = self._piece(text, language)
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

    def _cut(
        self, piece: tuple[str, str, tuple[int, ...]], language: str, max_tokens: int, max_words: int
    ) -> tuple[tuple[str, str, tuple[int, ...]] | None, str]:
        """Split ``piece`` at its first clause, else after ``max_words`` words, when it has more
        than ``max_tokens`` tokens. Returns ``(head, rest_text)``, or ``(None, "")`` when it stays whole."""
        text, _, tokens = piece
        if len(tokens) <= max_tokens:
            return None, ""
        clauses = split_clauses(text)
        head = clauses[0]
        head_piece = self._piece(head, language) if len(clauses) > 1 else None
        if head_piece is None or len(head_piece[2]) > max_tokens:
            groups = split_words(text, max_words=max_words)
            if len(groups) < 2:
                return None, ""
            head = groups[0]
            head_piece = self._piece(head, language)
        rest = text[len(head) :].strip() if text.startswith(head) else ""
        if not rest:
            return None, ""
        return head_piece, rest


def _ends_clause(text: str) -> bool:
    return text.rstrip()[-1:] in ",;:—–-、，；："
