"""The OuteTTS sampler: 64-token penalty window, top-k/top-p/min-p filtering, temperature."""

from __future__ import annotations

import numpy as np

from voxclone.engines.outetts.sampler import SamplerConfig, sample_token

GREEDY = SamplerConfig(temperature=0.0)


def test_penalty_applies_to_last_64_tokens_only() -> None:
    logits = np.zeros(10)
    logits[3], logits[4] = 1.05, 1.0
    rng = np.random.default_rng(0)
    old = [3] + [7] * 64  # token 3 is 65 tokens back: outside the window
    recent = [7] * 60 + [3] + [7] * 3
    assert sample_token(logits, history=old, config=GREEDY, rng=rng) == 3
    assert sample_token(logits, history=recent, config=GREEDY, rng=rng) == 4


def test_penalty_pushes_negative_logits_down() -> None:
    logits = np.full(5, -5.0)
    logits[1], logits[2] = -1.0, -1.05
    rng = np.random.default_rng(0)
    assert sample_token(logits, history=[1], config=GREEDY, rng=rng) == 2


def test_top_k_and_min_p_limit_the_candidates() -> None:
    rng = np.random.default_rng(1)
    logits = np.linspace(0, 10, 100)
    cfg = SamplerConfig(temperature=5.0, repetition_penalty=1.0, top_k=3, top_p=1.0, min_p=0.0)
    draws = {sample_token(logits, history=[], config=cfg, rng=rng) for _ in range(300)}
    assert draws == {97, 98, 99}
    cfg = SamplerConfig(temperature=1.0, repetition_penalty=1.0, top_k=0, top_p=1.0, min_p=0.5)
    logits = np.log(np.array([0.4, 0.3, 0.19, 0.11]))
    draws = {sample_token(logits, history=[], config=cfg, rng=rng) for _ in range(300)}
    assert draws == {0, 1}


def test_top_p_keeps_the_smallest_nucleus() -> None:
    rng = np.random.default_rng(2)
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    cfg = SamplerConfig(temperature=1.0, repetition_penalty=1.0, top_k=0, top_p=0.7, min_p=0.0)
    assert {sample_token(logits, history=[], config=cfg, rng=rng) for _ in range(300)} == {0, 1}


def test_low_temperature_sharpens_and_seed_reproduces() -> None:
    logits = np.log(np.array([0.6, 0.4]))
    cfg = SamplerConfig(temperature=0.4, repetition_penalty=1.0, top_k=0, top_p=1.0, min_p=0.0)
    draws = [sample_token(logits, history=[], config=cfg, rng=np.random.default_rng(s)) for s in range(400)]
    share = draws.count(0) / len(draws)
    expected = 0.6**2.5 / (0.6**2.5 + 0.4**2.5)
    assert abs(share - expected) < 0.07
    again = [sample_token(logits, history=[], config=cfg, rng=np.random.default_rng(s)) for s in range(400)]
    assert draws == again
