"""Thresholds of the consent checks (measured by ``bench/consent.py``)."""

from __future__ import annotations

SPEAKER_THRESHOLD = 0.70
"""Cosine (d-vector, ``voxclone.audio.speaker``) at or above which the consent voice and the
reference voice count as the same person."""
