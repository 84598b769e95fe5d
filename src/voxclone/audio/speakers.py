"""Detect a second speaker in a reference clip with sliding-window d-vectors and 2-way clustering.

Speech (VAD segments, 16 kHz) is cut into ~1.6 s windows; each gets a unit d-vector (mean of the
encoder's 0.8 s window embeddings). Two clusters are formed (spherical k-means seeded by the most
dissimilar pair). A clip is "two speakers" when both clusters hold a fair share of the speech and
their centroids are far apart; one speaker's windows stay close to each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voxclone.audio.speaker import WINDOW_FRAMES, SpeakerEncoder

ENC_STRIDE = WINDOW_FRAMES  # non-overlapping 0.8 s encoder windows (half the cost of the 0.4 s stride)
GROUP = 2  # encoder windows per group (1.6 s of speech)
GROUP_HOP = 1  # 0.8 s hop between groups
MIN_SHARE = 0.15
MIN_WINDOWS = 6
MAX_SPEECH_S = 60.0
# Centroid cosine similarity below these -> reject / warn. Calibrated on LibriSpeech test speakers
# (two utterances of one speaker: 0.74-0.92; two speakers joined 6 s + 6 s: 0.32-0.67) and
# Kokoro packs (one pack: 0.85-0.91; male + female: 0.38-0.53; two similar female packs: 0.54-0.82).
REJECT_BELOW = 0.60
WARN_BELOW = 0.72


@dataclass(frozen=True)
class SpeakerCheck:
    """Result of the two-speaker test: ``similarity`` of the two cluster centroids, ``minor_share``
    the fraction of windows in the smaller cluster, ``n_windows`` analysed."""

    similarity: float
    minor_share: float
    n_windows: int

    @property
    def verdict(self) -> str:
        """``"multiple"`` (clear), ``"possible"`` (borderline) or ``"single"``."""
        if self.n_windows < 4 or self.minor_share < MIN_SHARE:
            return "single"
        if self.similarity < REJECT_BELOW and self.n_windows >= MIN_WINDOWS:
            return "multiple"
        if self.similarity < WARN_BELOW:
            return "possible"
        return "single"


def segment_embeddings(
    encoder: SpeakerEncoder, audio16k: np.ndarray, segments: list[tuple[int, int]]
) -> np.ndarray:
    """Unit d-vectors of ~1.6 s speech windows with 0.8 s hop, ``[n, dim]`` (may be empty).

    The speech segments are joined, mel features computed once, all 0.8 s encoder windows run
    through ONNX Runtime in one batch, and groups of ``GROUP`` consecutive windows averaged.
    """
    if not segments:
        return np.zeros((0, 1), np.float32)
    speech = np.concatenate([audio16k[s:e] for s, e in segments])
    limit = int(MAX_SPEECH_S * 16000)
    if len(speech) > limit:  # long clips: six evenly spread 10 s pieces keep the cost bounded
        piece = limit // 6
        starts = np.linspace(0, len(speech) - piece, 6).astype(int)
        speech = np.concatenate([speech[a : a + piece] for a in starts])
    feat = encoder.features(speech)
    n_win = 1 + (feat.shape[0] - WINDOW_FRAMES) // ENC_STRIDE
    if feat.shape[0] < WINDOW_FRAMES or n_win < GROUP:
        return np.zeros((0, 1), np.float32)
    idx = (ENC_STRIDE * np.arange(n_win))[:, None] + np.arange(WINDOW_FRAMES)[None, :]
    emb = encoder.session.run(None, {"mel_window": feat[idx].astype(np.float32)})[0]
    emb = emb / (np.linalg.norm(emb, axis=-1, keepdims=True) + 1e-12)
    out = []
    for g in range(0, n_win - GROUP + 1, GROUP_HOP):
        m = emb[g : g + GROUP].mean(axis=0)
        out.append(m / (np.linalg.norm(m) + 1e-12))
    return np.asarray(out, np.float32)


def two_clusters(emb: np.ndarray, iters: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Spherical 2-means: ``(labels, centroids[2, dim])``."""
    sim = emb @ emb.T
    i, j = np.unravel_index(np.argmin(sim), sim.shape)
    cent = emb[[i, j]].copy()
    labels = np.zeros(len(emb), int)
    for _ in range(iters):
        new = np.argmax(emb @ cent.T, axis=1)
        if np.array_equal(new, labels) and _ > 0:
            break
        labels = new
        for k in range(2):
            members = emb[labels == k]
            if len(members):
                m = members.mean(axis=0)
                cent[k] = m / (np.linalg.norm(m) + 1e-12)
    return labels, cent


def check_speakers(
    encoder: SpeakerEncoder, audio16k: np.ndarray, segments: list[tuple[int, int]]
) -> SpeakerCheck:
    """Run the two-speaker test on the speech segments of 16 kHz audio."""
    emb = segment_embeddings(encoder, audio16k, segments)
    if len(emb) < 2:
        return SpeakerCheck(1.0, 0.0, len(emb))
    labels, cent = two_clusters(emb)
    share = float(min(np.mean(labels == 0), np.mean(labels == 1)))
    return SpeakerCheck(float(cent[0] @ cent[1]), share, len(emb))
