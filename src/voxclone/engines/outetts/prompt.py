"""The OuteTTS 1.0 (interface v3) prompt: special tokens, speaker codes, completion prompt.

Mirrors ``outetts.version.v3.prompt_processor.PromptProcessor.get_completion_prompt`` byte for byte
(see the conformance tests). A prompt is::

    <|im_start|>\\n<|text_start|>{speaker text + text}<|text_end|>\\n<|audio_start|>\\n
    <|word_start|>{word}<|features|><|t_0.20|><|energy_10|>...<|code|><|c1_720|><|c2_658|>...<|word_end|>\\n
    ...
    <|word_start|>

and the model continues with the words of the new text.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from voxclone.engines.outetts.text import merge_speaker_text, normalize_text

BOS = "<|im_start|>"
EOS = "<|im_end|>"
TEXT_START = "<|text_start|>"
TEXT_END = "<|text_end|>"
AUDIO_START = "<|audio_start|>"
AUDIO_END = "<|audio_end|>"
WORD_START = "<|word_start|>"
WORD_END = "<|word_end|>"
FEATURES = "<|features|>"
CODE = "<|code|>"
GLOBAL_FEATURES_START = "<|global_features_start|>"
GLOBAL_FEATURES_END = "<|global_features_end|>"
FEATURE_NAMES = ("energy", "spectral_centroid", "pitch")
CODEBOOK_SIZE = 1024

_CODE_RE = re.compile(r"<\|c([12])_(\d+)\|>")


def c1_token(i: int) -> str:
    """Token string of codebook-1 index ``i`` (0–1024)."""
    return f"<|c1_{i}|>"


def c2_token(i: int) -> str:
    """Token string of codebook-2 index ``i`` (0–1024)."""
    return f"<|c2_{i}|>"


def time_token(seconds: float) -> str:
    """Word-duration token, two decimals (``<|t_0.20|>``)."""
    return f"<|t_{seconds:.2f}|>"


def feature_tokens(features: dict[str, Any]) -> str:
    """``<|energy_N|><|spectral_centroid_N|><|pitch_N|>`` for a features dict (missing → 0)."""
    return "".join(f"<|{k}_{features.get(k, 0)}|>" for k in FEATURE_NAMES)


def word_line(word: dict[str, Any]) -> str:
    """One reference word: text, features, duration and its DAC code pairs."""
    pairs = "".join(c1_token(a) + c2_token(b) for a, b in zip(word["c1"], word["c2"], strict=False))
    return (
        WORD_START
        + word["word"]
        + FEATURES
        + time_token(word["duration"])
        + feature_tokens(word["features"])
        + CODE
        + pairs
        + WORD_END
    )


def completion_prompt(*, text: str, speaker: dict[str, Any] | None) -> str:
    """The prompt that makes the model speak ``text`` in the voice of ``speaker``.

    Parameters
    ----------
    text : str
        Raw text of one chunk (normalised here).
    speaker : dict, optional
        OuteTTS speaker profile (``text``, ``words``, ``global_features``); not modified.

    Returns
    -------
    str
        The prompt string, to be tokenised with special tokens parsed.
    """
    text = normalize_text(text)
    codes = ""
    if speaker is not None:
        text, separator = merge_speaker_text(text=text, speaker_text=speaker["text"])
        words = copy.deepcopy(speaker["words"])
        if words:
            words[-1]["word"] += separator
        codes = "\n".join(word_line(w) for w in words)
    prompt = f"{BOS}\n{TEXT_START}{text}{TEXT_END}\n{AUDIO_START}\n"
    if speaker is not None:
        prompt += codes + "\n" + WORD_START
    return prompt


def codes_from_text(text: str) -> tuple[list[int], list[int]]:
    """Extract ``(c1, c2)`` code lists from generated text, truncated to equal length."""
    c1: list[int] = []
    c2: list[int] = []
    for book, value in _CODE_RE.findall(text):
        (c1 if book == "1" else c2).append(int(value))
    n = min(len(c1), len(c2))
    return c1[:n], c2[:n]


def vocabulary_specials(*, max_duration_s: float = 10.0) -> list[str]:
    """Every special token string of the OuteTTS v3 vocabulary layout, in a fixed order.

    Used to build test vocabularies; real GGUF files bring their own vocabulary.
    """
    tokens = [BOS, EOS, TEXT_START, TEXT_END, AUDIO_START, AUDIO_END, WORD_START, WORD_END, FEATURES, CODE]
    tokens += [GLOBAL_FEATURES_START, GLOBAL_FEATURES_END]
    tokens += [c1_token(i) for i in range(CODEBOOK_SIZE + 1)]
    tokens += [c2_token(i) for i in range(CODEBOOK_SIZE + 1)]
    tokens += [f"<|{name}_{v}|>" for name in FEATURE_NAMES for v in range(101)]
    tokens += [time_token(i / 100) for i in range(int(max_duration_s * 100) + 1)]
    return tokens
