"""Token sampling over raw logits with OuteTTS's recommended settings.

The repetition penalty looks at the last ``penalty_window`` tokens only (OuteTTS: penalising the
whole context breaks the audio), which not every backend can do, so sampling happens here.
Order follows llama.cpp's chain: penalty → top-k → top-p → min-p → temperature → draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SamplerConfig:
    """Sampling settings (OuteTTS 1.0 defaults)."""

    temperature: float = 0.4
    repetition_penalty: float = 1.1
    penalty_window: int = 64
    top_k: int = 40
    top_p: float = 0.9
    min_p: float = 0.05


def sample_token(
    logits: np.ndarray, *, history: Sequence[int], config: SamplerConfig, rng: np.random.Generator
) -> int:
    """Draw the next token id.

    Parameters
    ----------
    logits : numpy.ndarray
        ``[n_vocab]`` raw scores (not modified).
    history : sequence of int
        Tokens so far (prompt and generated); only the last ``config.penalty_window`` are penalised.
    config : SamplerConfig
        Settings; ``temperature <= 0`` means greedy.
    rng : numpy.random.Generator
        Source of randomness (seed it for reproducible output).
    """
    scores = np.asarray(logits, dtype=np.float64).copy()
    if config.repetition_penalty != 1.0 and config.penalty_window > 0 and len(history):
        recent = np.unique(np.asarray(history[-config.penalty_window :], dtype=np.int64))
        recent = recent[(recent >= 0) & (recent < scores.size)]
        vals = scores[recent]
        scores[recent] = np.where(
            vals > 0, vals / config.repetition_penalty, vals * config.repetition_penalty
        )
    if config.temperature <= 0:
        return int(np.argmax(scores))
    if 0 < config.top_k < scores.size:
        top = np.argpartition(-scores, config.top_k - 1)[: config.top_k]
        order = top[np.argsort(-scores[top], kind="stable")]
    else:
        order = np.argsort(-scores, kind="stable")
    cand = scores[order]
    probs = np.exp(cand - cand.max())
    probs /= probs.sum()
    if config.top_p < 1.0:
        keep = int(np.searchsorted(np.cumsum(probs), config.top_p) + 1)
        order, cand, probs = order[:keep], cand[:keep], probs[:keep]
    if config.min_p > 0:
        mask = probs >= config.min_p * probs[0]
        order, cand = order[mask], cand[mask]
    final = np.exp((cand - cand.max()) / config.temperature)
    final /= final.sum()
    return int(order[rng.choice(final.size, p=final)])
