"""Voice cloning for the Kokoro engine (method ``anchors+knn+pitch-v4``, profile version 2).

- :class:`KokoroCloner` is the part the engine is built with: :meth:`~KokoroCloner.enroll` turns a
  prepared reference into a profile in well under a second (no synthesis): a style blended from the
  committed anchor table, a pitch factor for the model, and the reference's frames;
  :meth:`~KokoroCloner.postprocess` is applied by the engine to every synthesized chunk of a clone:
  the content-matched, time-varying envelope transfer toward those frames
  (:mod:`~voxclone.engines.kokoro.cloning.envelope`). Built-in voices pass through unchanged.
- :func:`similarity` is the 0–1 self-check stored with a clone (``KokoroEngine.similarity``).

The method, its measured ceiling and what was tried and dropped: ``docs/cloning.md``.
"""

from __future__ import annotations

from voxclone.engines.kokoro.cloning.cloner import KokoroCloner, cloner_of
from voxclone.engines.kokoro.cloning.enrollment import METHOD
from voxclone.engines.kokoro.cloning.selfcheck import similarity

__all__ = ["METHOD", "KokoroCloner", "cloner_of", "similarity"]
