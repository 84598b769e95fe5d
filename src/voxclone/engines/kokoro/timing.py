"""Word timestamps for Kokoro: map the duration predictor's frames back to the words the user wrote.

Three mappings are chained, all without a recogniser:

1. **source words → normalised text**: :func:`~voxclone.text.normalize.normalize_mapped` runs the
   normaliser while remembering the source span of every character, so ``"$42"``'s word is the one
   that owns ``"forty-two dollars"``;
2. **normalised text → chunk**: the front-end's splitters keep every non-space character in order,
   so each chunk is found in the normalised text by its non-space characters;
3. **chunk words → phoneme tokens**: each word of the chunk is phonemized alone; when the chunk's
   phonemes have one space-separated word per spoken word they are paired in order, otherwise the
   concatenation is aligned with the chunk's phonemes (``difflib``), which survives espeak joining
   words (``of the`` → ``ʌvðə``) or reading one word as several.

A word's span is then its tokens' frames: from the start of its first token to the end of its last.
Words that a rewrite merged (``March 3`` → ``March third``) share their span, split one to one
when the counts agree and by written length otherwise. Words that nothing speaks (emoji) get a
zero-length span where they stand, so the words reported are always ``text_words(text)`` in order.

Thread safety: an :class:`WordAligner` belongs to one request.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from voxclone.engines.base import text_words
from voxclone.engines.kokoro.frontend import Chunk
from voxclone.text.normalize import normalize_mapped

# Phoneme symbols that are not sounds of a word: separators and punctuation.
_NOT_SOUNDS = frozenset(' ;:,.!?¡¿—…"«»“”()-–')
_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class WordSpan:
    """Word ``index`` of ``text_words(text)`` spoken over samples ``[start, end)`` of a chunk."""

    index: int
    start: int
    end: int


class WordAligner:
    """Maps one request's chunks to the source words they speak.

    Parameters
    ----------
    text : str
        The request's text as the user wrote it.
    language : str
        Canonical language code the text was prepared with.
    phonemize : callable
        ``phonemize(text) -> str``: Kokoro phonemes of one normalised word (the front-end's G2P).
    vocab : collection of str
        The phoneme symbols the model has a token for (chunk tokens are its phonemes in it).
    """

    def __init__(
        self, text: str, language: str, phonemize: Callable[[str], str], vocab: Collection[str]
    ) -> None:
        self._vocab = vocab
        self.words: list[str] = []
        owner = [-1] * len(text)  # source character → word index
        for m in _TOKEN.finditer(text):
            if text_words(m[0]):
                for k in range(m.start(), m.end()):
                    owner[k] = len(self.words)
                self.words.append(text_words(m[0])[0])
        self._phonemize = phonemize
        mapped = normalize_mapped(text, language=language)
        self._positions = [i for i, ch in enumerate(mapped.text) if not ch.isspace()]
        self._compact = "".join(mapped.text[i] for i in self._positions)
        # per normalised character: the first and last source word it stands for (-1: none)
        self._first: list[int] = []
        self._last: list[int] = []
        seen: dict[tuple[int, int], tuple[int, int]] = {}  # a rewrite's characters share one span
        for span in zip(mapped.starts, mapped.ends, strict=True):
            if span not in seen:
                owners = [w for w in owner[span[0] : span[1]] if w >= 0]
                seen[span] = (owners[0], owners[-1]) if owners else (-1, -1)
            first, last = seen[span]
            self._first.append(first)
            self._last.append(last)
        self._cursor = 0

    def align(self, chunk: Chunk, durations: np.ndarray) -> list[WordSpan]:
        """The source words ``chunk`` speaks, in order, with their spans in the model's raw audio.

        ``durations`` are samples per token as :meth:`KokoroModel.infer_timed` gives them (the two
        pads included). Call once per chunk, in order.
        """
        groups = self._groups(chunk)
        if not groups:
            return []
        ends = np.cumsum(np.asarray(durations, np.int64))
        starts = ends - np.asarray(durations, np.int64)
        token_word = self._token_words(chunk, [g_words for g_words, _ in groups])
        spans: list[WordSpan] = []
        for g, (g_words, (lo, hi)) in enumerate(groups):
            # token k of the chunk is entry k + 1 of durations (after the leading pad)
            ks = [k + 1 for k, label in enumerate(token_word) if label[0] == g]
            if not ks:
                continue
            sub = [label[1] for k, label in enumerate(token_word) if label[0] == g]
            spans.extend(_split_group(lo, hi, g_words, self.words, starts, ends, ks, sub))
        return spans

    def _groups(self, chunk: Chunk) -> list[tuple[list[str], tuple[int, int]]]:
        """The chunk's words grouped by the source words they stand for: ``(words, (lo, hi))``."""
        compact = "".join(chunk.text.split())
        at = self._compact.find(compact, self._cursor) if compact else -1
        if at < 0:
            return []
        self._cursor = at + len(compact)
        groups: list[tuple[list[str], tuple[int, int]]] = []
        offset = at
        for word in chunk.text.split():
            lo, hi = -1, -1
            for pos in self._positions[offset : offset + len(word)]:
                if self._first[pos] >= 0:
                    lo = self._first[pos] if lo < 0 else min(lo, self._first[pos])
                    hi = max(hi, self._last[pos])
            offset += len(word)
            if lo < 0:
                continue  # punctuation or an inserted word: no source word
            if groups and lo <= groups[-1][1][1]:
                words, (g_lo, g_hi) = groups[-1]
                groups[-1] = ([*words, word], (min(g_lo, lo), max(g_hi, hi)))
            else:
                groups.append(([word], (lo, hi)))
        return groups

    def _token_words(self, chunk: Chunk, groups: list[list[str]]) -> list[tuple[int, int]]:
        """Per token of the chunk: ``(group, word within group)``, or ``(-1, -1)`` for none."""
        vocab_chars = [ch for ch in chunk.phonemes if ch in self._vocab]
        if sum(len(words) for words in groups) == 1:  # one word (a Japanese sentence): all of it
            return [(-1, -1) if ch in _NOT_SOUNDS else (0, 0) for ch in vocab_chars]
        ref: list[str] = []
        ref_label: list[tuple[int, int]] = []
        spoken: list[tuple[int, int]] = []  # the words that have sounds of their own, in order
        for g, words in enumerate(groups):
            for w, word in enumerate(words):
                sounds_of_word = [ch for ch in self._phonemize(word) if ch not in _NOT_SOUNDS]
                ref += sounds_of_word
                ref_label += [(g, w)] * len(sounds_of_word)
                if sounds_of_word:
                    spoken.append((g, w))
        by_word = _phoneme_words(vocab_chars)
        if len(by_word) == len(spoken):
            # one phoneme word per spoken word (the usual case): pair them in order, so a word read
            # differently alone ("a" → ˈA, in context ə) still gets its own sounds
            paired: list[tuple[int, int]] = [(-1, -1)] * len(vocab_chars)
            for indices, word_label in zip(by_word, spoken, strict=True):
                for i in indices:
                    paired[i] = word_label
            return paired
        sounds = [i for i, ch in enumerate(vocab_chars) if ch not in _NOT_SOUNDS]
        hyp = [vocab_chars[i] for i in sounds]
        labels: list[tuple[int, int] | None] = [None] * len(hyp)
        matcher = difflib.SequenceMatcher(None, hyp, ref, autojunk=False)
        for a, b, size in matcher.get_matching_blocks():
            for j in range(size):
                labels[a + j] = ref_label[b + j]
        _fill(labels)
        out: list[tuple[int, int]] = [(-1, -1)] * len(vocab_chars)
        for i, label in zip(sounds, labels, strict=True):
            if label is not None:
                out[i] = label
        return out


def _phoneme_words(chars: Sequence[str]) -> list[list[int]]:
    """Indices of the sounds of each space-separated phoneme word (words without sounds left out)."""
    words: list[list[int]] = []
    current: list[int] = []
    for i, ch in enumerate(chars):
        if ch == " ":
            if current:
                words.append(current)
            current = []
        elif ch not in _NOT_SOUNDS:
            current.append(i)
    if current:
        words.append(current)
    return words


def _fill(labels: list[tuple[int, int] | None]) -> None:
    """Give unmatched sounds the label of the sound before them (the first ones: the one after)."""
    last: tuple[int, int] | None = next((x for x in labels if x is not None), None)
    for i, label in enumerate(labels):
        if label is None:
            labels[i] = last
        else:
            last = label


def _split_group(
    lo: int,
    hi: int,
    group_words: Sequence[str],
    source_words: Sequence[str],
    starts: np.ndarray,
    ends: np.ndarray,
    ks: Sequence[int],
    sub: Sequence[int],
) -> list[WordSpan]:
    """Spans of source words ``lo..hi`` spoken by one group of chunk words (tokens ``ks``)."""
    count = hi - lo + 1
    if count == len(group_words) and len(set(sub)) == count:
        spans = []
        for w in range(count):
            mine = [k for k, s in zip(ks, sub, strict=True) if s == w]
            spans.append(WordSpan(lo + w, int(starts[mine[0]]), int(ends[mine[-1]])))
        return spans
    start, end = int(starts[ks[0]]), int(ends[ks[-1]])
    weights = np.array([max(1, len(source_words[i])) for i in range(lo, hi + 1)], np.float64)
    edges = start + np.concatenate([[0.0], np.cumsum(weights) / weights.sum()]) * (end - start)
    return [WordSpan(lo + i, int(np.rint(edges[i])), int(np.rint(edges[i + 1]))) for i in range(count)]


@dataclass(frozen=True)
class ChunkEdits:
    """How the engine changed one chunk after the model: samples are mapped through these, in order.

    ``trim``: the ``[start, end)`` range :func:`~voxclone.engines.kokoro.level.speech_bounds` kept;
    ``post_scale``: output/input length of the clone post-stage (1.0: length-preserving);
    ``pause``: silent samples put before it; ``tempo_scale``: output/input length of WSOLA.
    """

    trim: tuple[int, int]
    post_scale: float = 1.0
    pause: int = 0
    tempo_scale: float = 1.0

    def apply(self, sample: int) -> float:
        """Where raw-model sample ``sample`` lands in the delivered chunk (in samples)."""
        a, b = self.trim
        kept = min(max(sample - a, 0), b - a)
        return (kept * self.post_scale + self.pause) * self.tempo_scale


class WordEmitter:
    """Turns each chunk's :class:`WordSpan` s into ``(word, start_s, end_s)`` so that over the whole
    stream every word of ``words`` is reported once, in order, within the chunk that carries it.

    Words no chunk speaks get a zero-length span where they stand (before the next spoken word, or
    at the end of the last chunk).
    """

    def __init__(self, words: Sequence[str], sample_rate: int) -> None:
        self.words = list(words)
        self.rate = sample_rate
        self._next = 0

    def chunk(
        self, spans: Sequence[WordSpan], edits: ChunkEdits, length: int, *, last: bool
    ) -> list[tuple[str, float, float]]:
        """The words of one delivered chunk of ``length`` samples (times in seconds from its start)."""
        out: list[tuple[str, float, float]] = []
        floor = 0.0
        for span in sorted(spans, key=lambda s: s.index):
            if span.index < self._next:
                continue
            start = min(max(edits.apply(span.start), floor), length)
            end = min(max(edits.apply(span.end), start), length)
            while self._next < span.index:  # unspoken words before this one
                out.append((self.words[self._next], start / self.rate, start / self.rate))
                self._next += 1
            out.append((self.words[span.index], start / self.rate, end / self.rate))
            self._next = span.index + 1
            floor = end
        if last:
            at = (floor if out else 0.0) / self.rate
            while self._next < len(self.words):
                out.append((self.words[self._next], at, at))
                self._next += 1
        limit = math.floor(length / self.rate * 1e4) / 1e4  # rounding must not pass the chunk's end
        return [(w, min(round(s, 4), limit), min(round(e, 4), limit)) for w, s, e in out]
