"""Thresholds of the consent checks (measured by ``bench/consent.py``)."""

from __future__ import annotations

SPEAKER_THRESHOLD = 0.70
"""Cosine (d-vector, ``voxclone.audio.speaker``) at or above which the consent voice and the
reference voice count as the same person.

Chosen on LibriSpeech (``speech-dev``: 5 speakers x 10 utterances, 60 single-utterance
strangers): one speaker's other utterances are refused 2.2 % of the time (225 pairs), another
speaker is accepted 1.5 % of the time (5,770 pairs); the equal error rate is 2 % at 0.68."""
