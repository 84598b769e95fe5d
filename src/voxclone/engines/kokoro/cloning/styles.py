"""Kokoro style estimation: pack blends and the anchor table that maps a speaker to a blend.

A style is described by two weight vectors over the five shipped packs: one for the timbre half
(dims 0-127) and one for the prosody half (dims 128-255). The anchor table (built by
``tools/train_style_map.py``) holds many such weight pairs with the d-vector, log-F0 statistics and
spectral envelope of the engine's own render of each; a reference is mapped to the softmax blend of
its nearest anchors in d-vector space.
"""

from __future__ import annotations

import importlib.resources as res
from dataclasses import dataclass

import numpy as np

TIMBRE_DIMS = 128
ANCHOR_FILE = "anchors.npz"


def blend(packs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Style table ``[510, 256]`` from ``packs [P, 510, 256]`` and ``weights [2, P]`` (timbre, prosody)."""
    w = np.asarray(weights, np.float32).reshape(2, -1)
    timbre = np.tensordot(w[0], packs[:, :, :TIMBRE_DIMS], axes=1)
    prosody = np.tensordot(w[1], packs[:, :, TIMBRE_DIMS:], axes=1)
    return np.ascontiguousarray(np.concatenate([timbre, prosody], axis=1), dtype=np.float32)


@dataclass(frozen=True)
class Estimate:
    """Result of :meth:`AnchorTable.estimate`: pack weights and the expected raw-render statistics."""

    weights: np.ndarray  # [2, P]
    log_f0: np.ndarray  # [2] expected mean/std log-F0 of the raw render
    envelope: np.ndarray  # [bands] expected envelope of the raw render
    similarity: float  # d-vector cosine of the best anchor


class AnchorTable:
    """The committed anchor table. Immutable after loading; safe to share between threads.

    Parameters
    ----------
    pack_names : list of str
        Pack order of the weights (must match the engine's packs).
    weights : numpy.ndarray
        ``[N, 2, P]`` timbre/prosody weights.
    dvector : numpy.ndarray
        ``[N, D]`` unit d-vectors of the renders.
    log_f0 : numpy.ndarray
        ``[N, 2]`` log-F0 mean and std of the renders.
    envelope : numpy.ndarray
        ``[N, B]`` mean-removed log envelopes of the renders.
    """

    def __init__(
        self,
        pack_names: list[str],
        weights: np.ndarray,
        dvector: np.ndarray,
        log_f0: np.ndarray,
        envelope: np.ndarray,
    ):
        self.pack_names = pack_names
        self.weights = np.asarray(weights, np.float32)
        d = np.asarray(dvector, np.float32)
        self.dvector = d / (np.linalg.norm(d, axis=1, keepdims=True) + 1e-12)
        self.log_f0 = np.asarray(log_f0, np.float32)
        self.envelope = np.asarray(envelope, np.float32)

    @classmethod
    def load(cls) -> AnchorTable:
        """Load the table shipped in this package's ``data`` folder."""
        with (res.files("voxclone.engines.kokoro.cloning") / "data" / ANCHOR_FILE).open("rb") as f:
            npz = np.load(f)
            return cls(
                [str(x) for x in npz["pack_names"]],
                npz["weights"],
                npz["dvector"],
                npz["log_f0"],
                npz["envelope"],
            )

    def estimate(self, dvector: np.ndarray, *, k: int = 8, temperature: float = 0.02) -> Estimate:
        """Blend of the ``k`` anchors nearest to ``dvector`` (softmax of cosine / ``temperature``).

        Parameters
        ----------
        dvector : numpy.ndarray
            Unit d-vector of the reference.
        k : int
            Number of neighbours blended (1 = nearest anchor only).
        temperature : float
            Softmax temperature on cosine similarity; smaller favours the nearest more.
        """
        sims = self.dvector @ np.asarray(dvector, np.float32)
        k = max(1, min(k, len(sims)))
        # stable ordering for ties keeps enrollment deterministic
        top = np.argsort(-sims, kind="stable")[:k]
        logits = (sims[top] - sims[top[0]]) / max(temperature, 1e-6)
        p = np.exp(logits)
        p /= p.sum()
        return Estimate(
            weights=np.tensordot(p, self.weights[top], axes=1).astype(np.float32),
            log_f0=np.tensordot(p, self.log_f0[top], axes=1).astype(np.float32),
            envelope=np.tensordot(p, self.envelope[top], axes=1).astype(np.float32),
            similarity=float(sims[top[0]]),
        )
